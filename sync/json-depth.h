/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * json-depth.h: how deeply a JSON text nests, counted in its raw bytes
 * before any parser sees it. json-glib parses arrays and objects by
 * recursion with no limit, so a body of 100,000 "[" would exhaust the
 * stack; the sync protocol refuses more than 32 levels (sync/PROTOCOL.md,
 * section 2) by this count first.
 *
 * Thread-safe: the function keeps no state.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HEARTH_JSON_DEPTH_ERROR (hearth_json_depth_error_quark ())
GQuark hearth_json_depth_error_quark (void);

/**
 * HearthJsonDepthError:
 * @HEARTH_JSON_DEPTH_ERROR_TOO_DEEP: arrays and objects nest deeper than
 *   allowed; the message names the line and column where the limit is
 *   passed
 * @HEARTH_JSON_DEPTH_ERROR_NOT_JSON: a comment or a single-quoted string,
 *   which json-glib accepts but JSON does not have; the message names the
 *   line and column
 */
typedef enum {
  HEARTH_JSON_DEPTH_ERROR_TOO_DEEP,
  HEARTH_JSON_DEPTH_ERROR_NOT_JSON,
} HearthJsonDepthError;

/* The protocol's limit (PROTOCOL.md section 2). */
#define HEARTH_JSON_MAX_DEPTH 32

/**
 * hearth_json_check_depth:
 * @data: (array length=len): the JSON text as received (any bytes)
 * @len: its length
 * @max_depth: the deepest nesting allowed (1: one array or object)
 * @depth: (out) (optional): the deepest nesting seen, up to @max_depth + 1
 *
 * Counts "[" and "{" against "]" and "}" outside strings (a string ends at
 * an unescaped double quote; a backslash escapes the next byte). json-glib
 * also skips comments and reads single-quoted strings, where a quote or a
 * bracket means something else than here; so that the count is the
 * parser's, a "/" or "'" outside a string is refused. Otherwise it checks
 * nesting only: a text that passes may still be malformed, which the parser
 * then reports.
 *
 * Returns: %TRUE when no point nests deeper than @max_depth, else %FALSE
 *   with HEARTH_JSON_DEPTH_ERROR_TOO_DEEP or _NOT_JSON (the scan stops
 *   there).
 */
gboolean hearth_json_check_depth (const char *data,
                                  gsize       len,
                                  guint       max_depth,
                                  guint      *depth,
                                  GError    **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * center-push-parse.h: the center's one-pass reader of a push body
 * (sync/PROTOCOL.md section 7), for the bodies devices send: a well-formed
 * batch of well-formed changes, read straight into the changes without a
 * json-glib tree (which cost the center a third of its time per change:
 * the tree's nodes and hash tables, made, copied and freed again).
 *
 * It reads a strict subset of JSON and takes no decision of its own: on
 * anything outside what a device writes (a member it does not know, a
 * null, a repeated member, an escape of NUL, a number other than a plain
 * "seq", a change its codec would refuse, nesting beyond a change's
 * parents and fields) it gives up, and the caller reads the body with
 * hearth_center_parse_push_tree(), which accepts, refuses and names what is
 * wrong as ever. So what it returns is what the tree reader returns for
 * the same body (tests/test-change.c and the fuzz target fuzz-push check
 * that).
 *
 * Thread-safe: it keeps no state.
 */
#pragma once

#include <glib.h>

#include "center-sync.h"

G_BEGIN_DECLS

/**
 * hearth_center_parse_push_fast:
 * @data: (array length=len): a push body after any gunzip, UTF-8 already
 *   (the caller checked it)
 * @len: its length
 *
 * Reads @data as hearth_center_parse_push_tree() would, for a body whose
 * every change is accepted by the codec; the items' digests are left
 * empty (the caller computes them as for the tree's).
 *
 * Returns: (transfer full) (nullable): the batch, or %NULL when the body
 *   is not one this reader takes (no error: read it with the tree reader).
 */
HearthPushBatch *hearth_center_parse_push_fast (const char *data,
                                                gsize       len);

/**
 * hearth_center_push_text_is_utf8:
 * @data: (array length=len): bytes
 * @len: their number
 *
 * Whether @data is UTF-8 without a NUL: what g_utf8_validate_len() says of
 * it, eight bytes at a time through its ASCII (most of a push body).
 *
 * Returns: whether g_utf8_validate_len (@data, @len, NULL) holds.
 */
gboolean hearth_center_push_text_is_utf8 (const char *data,
                                          gsize       len);

G_END_DECLS

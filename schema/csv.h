/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * csv.h: CSV records as RFC 4180 writes them (quoted fields with doubled
 * quotes, commas and line breaks inside quotes, CRLF or LF), for external
 * instances (jr://file-csv) and registry imports.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * hearth_csv_record:
 * @p: (inout): where the next record starts in UTF-8 text; moved past it
 * @bad: (out): set when a quoted field is not closed
 *
 * Returns: (transfer full) (nullable) (element-type utf8): the fields of
 *   the next record, or %NULL at the end of the text. Thread-safe.
 */
GPtrArray *hearth_csv_record (const char **p, gboolean *bad);

G_END_DECLS

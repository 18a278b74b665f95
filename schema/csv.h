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
 * HearthCsvProblem:
 * @HEARTH_CSV_OK: the record is as RFC 4180 writes one
 * @HEARTH_CSV_UNCLOSED_QUOTE: a quoted field runs to the end of the text
 * @HEARTH_CSV_TEXT_AFTER_QUOTE: text follows a quoted field's closing
 *   quote before the comma or line end ("abc"def)
 */
typedef enum {
  HEARTH_CSV_OK,
  HEARTH_CSV_UNCLOSED_QUOTE,
  HEARTH_CSV_TEXT_AFTER_QUOTE,
} HearthCsvProblem;

/**
 * hearth_csv_record:
 * @p: (inout): where the next record starts in UTF-8 text; moved past it
 * @bad: (out): set when a quoted field is not closed
 *
 * Returns: (transfer full) (nullable) (element-type utf8): the fields of
 *   the next record, or %NULL at the end of the text. Thread-safe.
 */
GPtrArray *hearth_csv_record (const char **p, gboolean *bad);

/**
 * hearth_csv_record_strict:
 * @p: (inout): as for hearth_csv_record()
 * @problem: (out): what is wrong with the record read, the first thing
 *
 * As hearth_csv_record() (which takes text after a closing quote as part
 * of the field, as spreadsheets reading forms' media files do), but says
 * so: for the county's files checked once at import (registry, division
 * names), where "张三"李四 is a mistake to name, not a name.
 *
 * Returns: (transfer full) (nullable) (element-type utf8): as
 *   hearth_csv_record(). Thread-safe.
 */
GPtrArray *hearth_csv_record_strict (const char **p, HearthCsvProblem *problem);

G_END_DECLS

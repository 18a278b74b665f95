/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * center-export.h: county batches from the center's store
 * (sync/PROTOCOL.md, section 10): the merged current state of the records
 * that changes received in a period touched, within a division-code prefix,
 * one file per table (batch.h), and the open conflicts of those records.
 *
 * The period is a pair of dates in the county's time zone against the
 * center's receipt time; the cursor range makes consecutive batches
 * continue exactly where the last one ended: a batch reads one snapshot
 * and covers the changes numbered above its cursor_from up to its
 * cursor_to, the center's last cursor in that snapshot; changes committed
 * later have higher cursors (commits are serialised, in cursor order), so
 * the next batch, after cursor_to, holds exactly the records touched since.
 *
 * `hearth-center export` writes a batch to a folder; the export endpoint
 * (center-sync.h) writes one to a private temporary folder and sends its
 * files, which `hearth-cli export` writes back byte for byte.
 *
 * Thread-safe: the functions keep no state; a batch reads its own
 * transaction of the store.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "batch.h"
#include "center-store.h"

G_BEGIN_DECLS

#define HEARTH_CENTER_EXPORT_ERROR (hearth_center_export_error_quark ())
GQuark hearth_center_export_error_quark (void);

/**
 * HearthCenterExportError:
 * @HEARTH_CENTER_EXPORT_ERROR_INVALID: a query the center refuses: a date
 *   that is not one, a period that ends before it starts, a scope that is
 *   not a division code of the county, a cursor beyond the center's last,
 *   a format other than csv or json (the message names which)
 * @HEARTH_CENTER_EXPORT_ERROR_TOO_LARGE: the batch would pass the size
 *   allowed; a shorter period or a smaller scope makes smaller ones
 */
typedef enum {
  HEARTH_CENTER_EXPORT_ERROR_INVALID,
  HEARTH_CENTER_EXPORT_ERROR_TOO_LARGE,
} HearthCenterExportError;

/**
 * HearthCenterExportQuery:
 * @scope: a division code of the county (6, 9 or 12 digits): the records
 *   of its villages
 * @since: the first day, YYYY-MM-DD in the county's time zone
 * @until: (nullable): the last day, or %NULL for up to now
 * @after_cursor: continue after a batch whose cursor_to this is (0: from
 *   the start)
 * @format: CSV or JSON
 *
 * Borrowed.
 */
typedef struct {
  const char *scope;
  const char *since;
  const char *until;
  gint64 after_cursor;
  HearthBatchFormat format;
} HearthCenterExportQuery;

/**
 * hearth_center_export_parse_format:
 * @text: "csv" or "json"
 * @format: (out): the format
 *
 * Returns: %FALSE with HEARTH_CENTER_EXPORT_ERROR_INVALID for another text.
 *   Thread-safe.
 */
gboolean hearth_center_export_parse_format (const char        *text,
                                            HearthBatchFormat *format,
                                            GError           **error);

/**
 * hearth_center_export_check:
 * @county: the center's county
 * @query: the query
 * @field: (out) (optional) (transfer none): on failure, the query member at
 *   fault ("scope", "since", "until")
 *
 * Checks what can be checked without the store: the scope is a division
 * code of @county, the dates are dates, the period does not end before it
 * starts. Thread-safe.
 *
 * Returns: %FALSE with HEARTH_CENTER_EXPORT_ERROR_INVALID naming the member.
 */
gboolean hearth_center_export_check (const HearthCenterCounty       *county,
                                     const HearthCenterExportQuery  *query,
                                     const char                    **field,
                                     GError                        **error);

/**
 * hearth_center_export:
 * @store: the center's store
 * @query: what to export (checked with hearth_center_export_check())
 * @dir: the batch folder: made if missing, else it must be empty
 * @max_bytes: the most the batch's files may hold together, or 0 for no
 *   limit
 * @manifest: (out) (optional) (transfer full): the manifest written
 * @field: (out) (optional) (transfer none): for a refused query, the
 *   member at fault
 *
 * Writes one batch: households, members, submissions, tasks, reviews,
 * measures and conflicts, each a file even when empty, then manifest.json
 * (county, scope, since, until or null, time_zone, cursor_from, cursor_to,
 * format, files). Mutable records are written as their merged fields, by
 * their first change in the range; an immutable record as received;
 * conflicts are the open ones of the mutable records written. A submission
 * carries its instance XML in the last column. Last, manifest.sig: the
 * manifest signed with the center's batch key (hearth_batch_sign(),
 * hearth_center_txn_get_batch_key()). On failure the files this call
 * wrote are removed.
 *
 * Returns: %FALSE with HEARTH_CENTER_EXPORT_ERROR (_INVALID, _TOO_LARGE),
 *   HEARTH_BATCH_ERROR_IO (the folder cannot be written or is not empty)
 *   or HEARTH_CENTER_STORE_ERROR.
 */
gboolean hearth_center_export (HearthCenterStore              *store,
                               const HearthCenterExportQuery  *query,
                               const char                     *dir,
                               guint64                         max_bytes,
                               JsonObject                    **manifest,
                               const char                    **field,
                               GError                        **error);

G_END_DECLS

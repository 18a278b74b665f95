/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sync-export.h: a county batch fetched from the center's authenticated
 * export endpoint (sync/PROTOCOL.md, sections 9 and 10;
 * ../shared/INTERFACES.md, "Batches"), as `hearth-cli export` and the
 * county staff's screen fetch it: the files written back byte for byte
 * and the manifest as the center wrote it, then the batch verified
 * (hearth_batch_verify()); and the cursor range of the last batch this
 * store fetched, so the next one continues where it ended.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "client.h"
#include "sync-store.h"

G_BEGIN_DECLS

/**
 * HearthSyncExportQuery:
 * @scope: a division code of the county (digits)
 * @since: the first day, YYYY-MM-DD in the county's time zone
 * @until: (nullable): the last day; %NULL: up to now
 * @after_cursor: continue after the batch whose cursor_to this is (0:
 *   from the start)
 * @format: "csv" or "json"
 * @batch_key: (nullable) (array fixed-size=32): the public key the batch
 *   must be signed with (the county center's, as `hearth-center
 *   batch-key` prints it); %NULL: any key (the reply came over the
 *   enrolled, authenticated connection)
 *
 * Borrowed.
 */
typedef struct {
  const char *scope;
  const char *since;
  const char *until;
  gint64      after_cursor;
  const char *format;
  const guint8 *batch_key;
} HearthSyncExportQuery;

/**
 * hearth_sync_export_client:
 * @sync: an enrolled store
 *
 * A client for the export endpoint, signing as this device with the
 * center's clock as last learned. Not thread-safe (reads @sync); the
 * client may then be used by another thread.
 *
 * Returns: (transfer full) (nullable): the client, or %NULL with
 *   HEARTH_SYNC_STORE_ERROR (not enrolled, no key), HEARTH_SYNC_ERROR
 *   (a center address that is not one).
 */
HearthSyncClient *hearth_sync_export_client (HearthSyncStore *sync,
                                             GError         **error);

/**
 * hearth_sync_export_fetch:
 * @client: from hearth_sync_export_client()
 * @query: what to fetch
 * @dir: the batch folder: new or empty
 * @manifest: (out) (optional) (transfer full): the manifest, as verified
 * @signer: (out caller-allocates) (optional) (array fixed-size=32): the
 *   key the center signed the batch with
 *
 * Asks the center for the batch, writes its files, manifest.json and
 * manifest.sig into @dir and verifies them (the signature too, against
 * @query's batch_key when given). Touches no store: runs in any one thread with
 * its client.
 *
 * Returns: %FALSE with G_IO_ERROR_INVALID_ARGUMENT (a scope that is not
 *   digits, a date that is not YYYY-MM-DD, a negative cursor, a format
 *   other than csv or json), G_IO_ERROR_EXISTS (@dir not empty),
 *   HEARTH_SYNC_ERROR (unreachable, refused; _PROTOCOL with the center's
 *   error code in hearth_sync_client_get_error_code(): "bad-request" or
 *   "too-large" for a query it refuses, or a reply that is not a batch),
 *   G_FILE_ERROR (@dir cannot be written) or HEARTH_BATCH_ERROR (the
 *   written batch does not verify).
 */
gboolean hearth_sync_export_fetch (HearthSyncClient             *client,
                                   const HearthSyncExportQuery  *query,
                                   const char                   *dir,
                                   JsonObject                  **manifest,
                                   guint8                       *signer,
                                   GError                      **error);

/**
 * hearth_sync_export_remember:
 * @manifest: a batch's manifest, as fetched
 *
 * Keeps the batch's scope and cursor range in the store (not synced): the
 * next batch continues after its cursor_to.
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_SQLITE.
 */
gboolean hearth_sync_export_remember (HearthSyncStore *sync,
                                      JsonObject      *manifest,
                                      GError         **error);

/**
 * HearthSyncExportLast:
 * @scope: the division code it covered
 * @cursor_from: the changes it holds are numbered above this…
 * @cursor_to: …up to this
 * @at: when it was fetched, ISO 8601
 *
 * Free with hearth_sync_export_last_free().
 */
typedef struct {
  char  *scope;
  gint64 cursor_from;
  gint64 cursor_to;
  char  *at;
} HearthSyncExportLast;

void hearth_sync_export_last_free (HearthSyncExportLast *last);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthSyncExportLast, hearth_sync_export_last_free)

/**
 * hearth_sync_export_last:
 *
 * Returns: (transfer full) (nullable): the last batch remembered, or
 *   %NULL: none (@error unset), or %NULL with
 *   HEARTH_SYNC_STORE_ERROR_SQLITE.
 */
HearthSyncExportLast *hearth_sync_export_last (HearthSyncStore *sync,
                                               GError         **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sync-restore.h: a device meets a center restored from a backup
 * (sync/PROTOCOL.md section 12). Before it pushes, the device asks the
 * center's epoch, its restore point and how many of the device's changes
 * it holds; a center that holds fewer than the device had acknowledged
 * lost them with the restore, so the device numbers again, from the
 * center's acknowledged number on, everything it made itself, and pulls
 * again from the restore point.
 *
 * Not thread-safe, like the sync store.
 */
#pragma once

#include "client.h"
#include "sync-run.h"
#include "sync-store.h"

G_BEGIN_DECLS

/**
 * hearth_sync_store_meet_epoch:
 * @epoch: the center's epoch (32 hex digits)
 * @acked: the last change number of this device the center holds
 * @restore_cursor: the last cursor of the backup the center was restored
 *   from (0: none)
 * @resent: (out) (optional): how many changes were numbered again
 *
 * In one transaction: when @epoch is not the one this store knew, or
 * @acked is below this store's acknowledged number, the pull cursor moves
 * back to @restore_cursor (a compacted pull in progress stops) and the
 * store is not "synced" until it pulled again; when @acked is below, the
 * outbox from @acked + 1 on is made anew from what this device made
 * itself: its own edits (in version order), the submissions it recorded,
 * the reviews of its audit chain and its audit entries (in chain order).
 * The center answers what it holds as repeats and stores the rest. Then
 * @epoch is the one this store knows.
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR (_INVALID for an @epoch
 *   that is not 32 hex digits or negative numbers; _SQLITE).
 */
gboolean hearth_sync_store_meet_epoch (HearthSyncStore *store,
                                       const char      *epoch,
                                       gint64           acked,
                                       gint64           restore_cursor,
                                       gint64          *resent,
                                       GError         **error);

/**
 * hearth_sync_exchange_epoch:
 * @client: a signed client of the store's center
 * @resent: (out) (optional): as hearth_sync_store_meet_epoch()
 *
 * Asks the center `GET /v1/epoch` and meets it
 * (hearth_sync_store_meet_epoch()), then sets that epoch on @client
 * (hearth_sync_client_set_epoch()): a later reply of another epoch fails
 * with HEARTH_SYNC_ERROR_RESTORED, and the run meets the epoch again. A
 * center of an earlier version, which has no such endpoint (404), has no
 * epoch: nothing changes.
 *
 * Returns: %FALSE with HEARTH_SYNC_ERROR (as hearth_sync_client_call();
 *   _PROTOCOL for a reply without the members) or HEARTH_SYNC_STORE_ERROR.
 */
gboolean hearth_sync_exchange_epoch (HearthSyncStore  *store,
                                     HearthSyncClient *client,
                                     gint64           *resent,
                                     GError          **error);

/**
 * hearth_sync_reenrol:
 * @center_url: (nullable): the center's address; %NULL: the one the store
 *   is enrolled with
 * @code: a one-time enrolment code issued for this store's user
 * @device_name: (nullable): the name the center lists; %NULL: the host name
 * @options: (nullable): timeouts and TLS (@county_key is not used: the
 *   store's enrolment names its county key)
 * @enrolment_out: (out) (optional) (transfer full): the new enrolment
 * @refusal_code: (out) (optional) (transfer full) (nullable): when the
 *   center refused, its error code ("wrong-user", "device-exists", …)
 *
 * Enrols an enrolled store again, under its own device id and key, with a
 * center that does not know it: one restored from a backup taken before
 * this tablet enrolled (PROTOCOL.md section 12). The request names the
 * store's user: the center refuses a code of another user (409
 * `wrong-user`) without using it, and a device it knows (409
 * `device-exists`: sync instead). A reply naming another county key than
 * the store's is refused before anything is stored. Nothing the store
 * holds changes but its enrolment (role and scope as the center says
 * them now); its next sync meets the center's epoch, finds that the center
 * holds none of its changes, and sends everything it made itself.
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_NOT_ENROLLED (a store
 *   never enrolled: enrol it), _INVALID (another county or user),
 *   HEARTH_SYNC_ERROR (as hearth_sync_client_call()) or
 *   HEARTH_SYNC_STORE_ERROR_SQLITE.
 */
gboolean hearth_sync_reenrol (HearthSyncStore             *store,
                              const char                  *center_url,
                              const char                  *code,
                              const char                  *device_name,
                              const HearthSyncRunOptions  *options,
                              HearthSyncEnrolment        **enrolment_out,
                              char                       **refusal_code,
                              GError                     **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sync-run-private.h: what enrolling (sync-run.c) and enrolling again
 * (sync-restore.c) share. Not thread-safe, like the sync store.
 */
#pragma once

#include "sync-run.h"

G_BEGIN_DECLS

/* A client of @url on @store's clock (the case store's wall clock: the
 * center's time is estimated, and requests signed, against the clock the
 * store's versions come from), with @options' timeouts and TLS (nullable:
 * the defaults). Returns: (transfer full): the client, or %NULL with
 * @error set (a bad URL). */
HearthSyncClient *hearth_sync_make_client (HearthSyncStore            *store,
                                           const char                 *url,
                                           const HearthSyncRunOptions *options,
                                           GError                    **error);

/* POST /v1/enrol (PROTOCOL.md section 5) with @code for the device
 * @device_id and its Ed25519 @public_key, named @device_name (nullable:
 * the host's name); @user (nullable) is the user the tablet is already
 * enrolled for, when it enrols again (section 12). Stores nothing.
 * Returns: (transfer full): the center's enrolment, or %NULL with @error
 * set and *@refusal_code (nullable, transfer full) the center's refusal
 * code, if it refused. */
HearthSyncEnrolment *hearth_sync_request_enrolment (HearthSyncClient *client,
                                                    const char       *center_url,
                                                    const char       *code,
                                                    const char       *device_id,
                                                    const guint8     *public_key,
                                                    const char       *device_name,
                                                    const char       *user,
                                                    char            **refusal_code,
                                                    GError          **error);

/* Sets @client's trust: @o's CA file and pin when it gives either (for this
 * client only), else the ones kept at enrolment (none: the system's CAs). */
void hearth_sync_client_apply_trust (HearthSyncClient           *client,
                                     HearthSyncStore            *store,
                                     const HearthSyncRunOptions *o);

/* The trust an enrolment keeps: @o's (the CA file's PEM text, checked to
 * be one, and the pin) when it gives either, else the store's kept trust.
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_INVALID (an unreadable or
 * non-PEM file, a pin not of the form sha256//…). */
gboolean hearth_sync_read_trust (HearthSyncStore            *store,
                                 const HearthSyncRunOptions *o,
                                 char                      **ca_pem,
                                 char                      **pin,
                                 GError                    **error);

G_END_DECLS

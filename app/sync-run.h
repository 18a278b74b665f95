/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sync-run.h: one sync of a device store with its county center
 * (sync/PROTOCOL.md, sections 5, 7, 8 and 11): enrolment, then each run
 * pushes every change in order and pulls every page, under the store's
 * sync lease; "synced" only when the center acknowledged everything and
 * the last page said there is no more. With retry, a run that cannot reach
 * the center waits (exponential backoff with full jitter) and tries again
 * until it succeeds or its deadline passes.
 *
 * Not thread-safe: a run uses its stores from the calling thread.
 */
#pragma once

#include <gio/gio.h>

#include "client.h"
#include "sync-store.h"

/* Changes per page of a version 2 or 3 pull (PROTOCOL.md sections 8.1
 * and 8.2), a grouped write counting as its fields: the center allows up
 * to 10,000 a page. */
#define HEARTH_SYNC_MAX_PULL 10000
#define HEARTH_SYNC_DEFAULT_PULL 10000
/* Changes per push (PROTOCOL.md section 2): the center takes up to 2,000
 * (a center before it 500: a push refused `too-many` or `too-large` is
 * sent again in halves); by default as many, about 100 visits a request
 * (gzipped some 250 KB, well within the client's two minutes a request
 * on a slow mobile link). */
#define HEARTH_SYNC_MAX_PUSH 2000
#define HEARTH_SYNC_DEFAULT_PUSH 2000

G_BEGIN_DECLS

/**
 * HearthSyncRunOptions:
 * @holder: the lease holder's name ("hearth-cli 4711")
 * @push_batch: changes per push (1 … HEARTH_SYNC_MAX_PUSH; 0:
 *   HEARTH_SYNC_DEFAULT_PUSH)
 * @pull_limit: changes per pull page (1 … HEARTH_SYNC_MAX_PULL; 0:
 *   HEARTH_SYNC_DEFAULT_PULL)
 * @retry: keep trying while the center cannot be reached
 * @deadline_us: with @retry, give up after this g_get_monotonic_time()
 * @connect_timeout_ms: 0: the client's default
 * @total_timeout_ms: 0: the client's default
 * @ca_file: (nullable): a CA bundle for https
 * @pinned_key: (nullable): libcurl's pinned public key
 * @cancellable: (nullable): stops waiting between tries
 * @county_key: (nullable) (array fixed-size=32): for an enrolment, the
 *   county public key the store's recovery envelope is sealed to: a center
 *   that names another county key is refused before anything is stored
 */
typedef struct {
  const char   *holder;
  guint         push_batch;
  guint         pull_limit;
  gboolean      retry;
  gint64        deadline_us;
  glong         connect_timeout_ms;
  glong         total_timeout_ms;
  const char   *ca_file;
  const char   *pinned_key;
  GCancellable *cancellable;
  const guint8 *county_key;
} HearthSyncRunOptions;

/**
 * HearthSyncRunResult:
 * @pushed: changes the center acknowledged in this run
 * @refused: of those, the ones it refused (their reasons are in the store)
 * @pulled: changes received (a grouped write counting as the field
 *   edits it holds, as a version 2 pull listed them)
 * @rejected: of those, the ones this store could not apply
 * @attempts: tries made (1 without a retry)
 * @status: the store's sync state after the run
 * @clock_off: the tablet's clock is more than 10 minutes from the center's
 * @wipe: the center revoked this device and told it to wipe its store
 * @retry_after_ms: how long the center's last 5xx answer (503 "busy")
 *   asked to wait; a retry waits at least as long
 * @resent: changes numbered again for a center restored from a backup
 *   (PROTOCOL.md section 12)
 * @checkpoint_due: the run left its writes in the store's WAL, 1,000
 *   frames or more (a pull): durable and readable there, but to be copied
 *   into the database file by hearth_store_checkpoint() once the result is
 *   shown (on the run's thread or a worker: never the screens', it takes
 *   tens of milliseconds). A run never checkpoints at its end itself.
 */
typedef struct {
  gint64           pushed;
  gint64           refused;
  gint64           pulled;
  gint64           rejected;
  guint            attempts;
  HearthSyncStatus status;
  gboolean         clock_off;
  gboolean         wipe;
  gint64           retry_after_ms;
  gint64           resent;
  gboolean         checkpoint_due;
} HearthSyncRunResult;

/* How far off the tablet's clock may be before the user is warned. */
#define HEARTH_SYNC_CLOCK_WARNING_MS (10 * 60 * 1000)

/* How many times one run meets a new epoch (a center restored from a
 * backup, PROTOCOL.md section 12) and starts again before it gives up. */
#define HEARTH_SYNC_EPOCH_RESTARTS 3

/**
 * hearth_sync_enrol:
 * @center_url: the center's base URL
 * @code: the one-time enrolment code as typed (case, dashes and spaces
 *   are ignored by the center)
 * @device_name: (nullable): a name for county IT ("tablet 7")
 * @options: (nullable): timeouts and TLS
 * @enrolment: (out) (optional) (transfer full): what the center answered
 *
 * Makes the device's Ed25519 key pair, registers it with the code, and
 * keeps the identity, the center's address and the secret key in the
 * encrypted store. A store enrolled already is refused, and so is a center
 * whose county key is not @options->county_key (when given): the store
 * keeps no enrolment then (the center answers a repeat with the same code
 * as the first time, once the right center is named).
 *
 * Returns: %FALSE with HEARTH_SYNC_ERROR (_UNREACHABLE, _REFUSED with the
 *   center's code, _PROTOCOL) or HEARTH_SYNC_STORE_ERROR (_INVALID for
 *   another county's key).
 */
gboolean hearth_sync_enrol (HearthSyncStore            *store,
                            const char                 *center_url,
                            const char                 *code,
                            const char                 *device_name,
                            const HearthSyncRunOptions *options,
                            HearthSyncEnrolment       **enrolment,
                            GError                    **error);

/**
 * hearth_sync_enrol_full:
 * @refusal_code: (out) (optional) (transfer full): when the center refused
 *   (HEARTH_SYNC_ERROR_REFUSED), its error code ("code-used", …; read it
 *   with hearth_sync_enrol_refusal()), else %NULL
 *
 * hearth_sync_enrol(), also giving the center's code of a refusal, so that
 * a screen can say why in the user's language.
 */
gboolean hearth_sync_enrol_full (HearthSyncStore            *store,
                                 const char                 *center_url,
                                 const char                 *code,
                                 const char                 *device_name,
                                 const HearthSyncRunOptions *options,
                                 HearthSyncEnrolment       **enrolment,
                                 char                      **refusal_code,
                                 GError                    **error);

/**
 * hearth_sync_read_ca_file:
 * @path: a CA bundle given by county IT (the tablet's file chooser, or
 *   `--ca-file`)
 *
 * Reads and checks a CA bundle to trust: a UTF-8 text of at most 1 MiB
 * with a PEM certificate ("-----BEGIN CERTIFICATE-----"). libcurl parses
 * it when a request is made.
 *
 * Returns: (transfer full) (nullable): its text, or %NULL with
 *   HEARTH_SYNC_STORE_ERROR_INVALID naming the file. Thread-safe.
 */
char *hearth_sync_read_ca_file (const char *path,
                                GError    **error);

/**
 * hearth_sync_change_trust:
 * @options: the new trust: @options->ca_file (a CA bundle in PEM form) or
 *   @options->pinned_key (sha256//BASE64), or neither with @system
 * @system: trust the system's CAs alone (a center whose certificate a
 *   public CA signed); the kept CA and pin are dropped
 *
 * Replaces the trust an enrolment kept (a county that renewed its CA, or
 * moved the center to a new key) without enrolling again: the center at
 * the enrolment's address must first answer a signed request (GET
 * /v1/epoch, PROTOCOL.md section 12) through the new trust, so that a
 * mistyped pin never locks the tablet out; only then is the trust kept,
 * in one write. Blocks for the request (up to 30 s).
 *
 * Returns: %TRUE when kept; %FALSE with HEARTH_SYNC_ERROR_UNTRUSTED (the
 *   center does not pass the new trust), _UNREACHABLE, _REFUSED (the
 *   center refused this device), or HEARTH_SYNC_STORE_ERROR
 *   (_NOT_ENROLLED, _INVALID: a file that is not a PEM CA, a pin not of
 *   the form sha256//…); nothing changes then. Not thread-safe per store.
 */
gboolean hearth_sync_change_trust (HearthSyncStore            *store,
                                   const HearthSyncRunOptions *options,
                                   gboolean                    system,
                                   GError                    **error);

/**
 * hearth_sync_run:
 * @result: (out caller-allocates): what happened (also on failure)
 *
 * One sync (with @options->retry, as many tries as the deadline allows).
 *
 * Returns: %TRUE when the store is synced; %FALSE with HEARTH_SYNC_ERROR
 *   (_UNREACHABLE when the last try could not reach the center, _REFUSED
 *   when the center refused: a revoked device sets @result->wipe),
 *   HEARTH_SYNC_STORE_ERROR_LEASE (another sync is running) or another
 *   HEARTH_SYNC_STORE_ERROR. Whatever was acknowledged or applied before a
 *   failure stays.
 */
gboolean hearth_sync_run (HearthSyncStore            *store,
                          const HearthSyncRunOptions *options,
                          HearthSyncRunResult        *result,
                          GError                    **error);

G_END_DECLS

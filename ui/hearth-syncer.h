/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-syncer.h: the tablet's sync with its county center, in the
 * background (issue 6, item 5). A run (app/sync-run.h, hearth_sync_run())
 * happens on a worker thread over a second connection to the store
 * (hearth_store_open_again()), so the screens stay usable; SQLite's WAL
 * and the case store's waiting write transactions keep the two apart.
 *
 * When it runs: at once when started (after the unlock) and when the
 * network monitor reports the network back; soon after a local change
 * while changes are pending; after a failure, again with exponential
 * backoff (full jitter) until it succeeds; after a success, again later to
 * receive what others sent; and on demand. Its state says "synced" only
 * when the last run succeeded and the store has nothing pending and the
 * last pull was complete (sync/PROTOCOL.md section 11).
 *
 * Locking the app stops it: a run in progress is cancelled between tries
 * and its thread lets its connection go when the exchange in flight ends.
 * Main thread only.
 */
#pragma once

#include <gio/gio.h>

#include "sync-store.h"

G_BEGIN_DECLS

typedef struct _HearthSession HearthSession;

#define HEARTH_TYPE_SYNCER (hearth_syncer_get_type ())
G_DECLARE_FINAL_TYPE (HearthSyncer, hearth_syncer, HEARTH, SYNCER, GObject)

/**
 * HearthSyncerConfig:
 * @soon_ms: after a local change, wait this long for more (0: 5 s)
 * @backoff_base_ms: the first wait after a failure (0: 30 s)
 * @backoff_max_ms: the longest wait after failures (0: 15 min)
 * @again_ms: after a success with nothing pending, receive again after
 *   this long (0: 30 min)
 * @network_monitor: (nullable): the network monitor (%NULL: GIO's default)
 * @now_ms: (nullable): the sync's wall clock, for tests (a tablet whose
 *   clock is off); %NULL: the system clock
 * @checkpoint_copied: (nullable): called on the copying worker thread
 *   after each copy of a run's WAL into the database file, before the
 *   copy is reported done; for tests (a copy that lasts while another
 *   run ends). %NULL: none
 *
 * How syncers made from now on behave; tests shorten the delays.
 */
typedef struct {
  guint soon_ms;
  guint backoff_base_ms;
  guint backoff_max_ms;
  guint again_ms;
  GNetworkMonitor *network_monitor;
  gint64 (*now_ms) (gpointer data);
  void (*checkpoint_copied) (void);
} HearthSyncerConfig;

/* Copies @config (its monitor referenced) for the syncers made after. */
void hearth_syncer_set_defaults (const HearthSyncerConfig *config);

/**
 * hearth_syncer_new:
 * @session: the unlocked store
 *
 * Returns: (transfer full): the syncer, stopped.
 */
HearthSyncer *hearth_syncer_new (HearthSession *session);

/* Starts the automatic runs (a run at once); idempotent. */
void hearth_syncer_start (HearthSyncer *self);

/* Stops them and cancels a run in progress; for good. */
void hearth_syncer_stop (HearthSyncer *self);

/* Runs now (the network monitor's word notwithstanding), unless one runs. */
void hearth_syncer_sync_now (HearthSyncer *self);

/* Returns: whether a run is in progress. */
gboolean hearth_syncer_get_running (HearthSyncer *self);

/* Returns: whether the tablet is enrolled (else it never syncs). */
gboolean hearth_syncer_get_enrolled (HearthSyncer *self);

/* Returns: (transfer none): the store's sync state as last read. */
const HearthSyncStatus *hearth_syncer_get_status (HearthSyncer *self);

/**
 * hearth_syncer_get_error:
 *
 * Returns: (transfer none) (nullable): why the last run failed
 *   (HEARTH_SYNC_ERROR, HEARTH_SYNC_STORE_ERROR, HEARTH_STORE_ERROR);
 *   %NULL when it succeeded or none ran.
 */
const GError *hearth_syncer_get_error (HearthSyncer *self);

/**
 * hearth_syncer_get_synced:
 *
 * Returns: whether to say "synced": no run in progress, the last one
 *   (if any ran) succeeded, nothing pending, the last pull complete.
 */
gboolean hearth_syncer_get_synced (HearthSyncer *self);

/* Returns: whether the network monitor says there is no network. */
gboolean hearth_syncer_get_offline (HearthSyncer *self);

/**
 * hearth_syncer_get_clock_off_ms:
 *
 * Returns: how far the tablet's clock is from the center's (the center's
 *   minus the tablet's) when more than HEARTH_SYNC_CLOCK_WARNING_MS, else 0.
 */
gint64 hearth_syncer_get_clock_off_ms (HearthSyncer *self);

/* Returns: when the next automatic run is due (g_get_real_time(), µs), 0: none due. */
gint64 hearth_syncer_get_next_run (HearthSyncer *self);

/* Returns: how many runs finished (for tests). */
guint hearth_syncer_get_runs (HearthSyncer *self);

/* Returns: how many copies of a run's WAL into the database file finished
 * (after runs that pulled much: HearthSyncRunResult.checkpoint_due), for
 * tests. */
guint hearth_syncer_get_checkpoints (HearthSyncer *self);

/* Returns: (transfer none) (nullable): the center's address. */
const char *hearth_syncer_get_center (HearthSyncer *self);

/**
 * hearth_syncer_describe_error:
 * @error: a run's error
 *
 * Returns: (transfer full): what went wrong, in plain words, with what
 *   happens next.
 */
char *hearth_syncer_describe_error (const GError *error);

/**
 * hearth_syncer_list_refused:
 * @limit: at most this many, the newest (0: all)
 *
 * The changes the center refused (hearth_sync_store_list_refused()), read
 * on the main thread as the status is. Not enrolled: an empty list.
 *
 * Returns: (transfer full) (element-type HearthSyncRefusedChange): the
 *   list, or %NULL with HEARTH_SYNC_STORE_ERROR_SQLITE.
 */
GPtrArray *hearth_syncer_list_refused (HearthSyncer *self,
                                       guint         limit,
                                       GError      **error);

G_END_DECLS

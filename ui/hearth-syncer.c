/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-syncer.c: the tablet's sync in the background (hearth-syncer.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-syncer.h"
#include "hearth-session.h"
#include "client.h"
#include "sync-run.h"

#include <glib/gi18n.h>
#include <unistd.h>

/* Changes per pull page: a page is applied in one write transaction, which
 * the screens' own writes wait for; a small page keeps that wait short. */
#define APP_PULL_LIMIT 500

struct _HearthSyncer {
  GObject parent_instance;
  GWeakRef session;
  HearthStore *store;
  HearthSyncStore *sync;
  char *actor;
  char *center;
  gboolean started;
  gboolean stopped;
  gboolean running;
  gboolean offline;
  HearthSyncerConfig config;
  GCancellable *cancellable;
  guint timer;
  gint64 next_run;
  guint failures;
  GError *error;
  HearthSyncStatus status;
  guint runs;
  gboolean checkpointing;
  gboolean checkpoint_again;
  guint checkpoints;
  gulong network_handler;
  gulong session_handler;
};

G_DEFINE_FINAL_TYPE (HearthSyncer, hearth_syncer, G_TYPE_OBJECT)

enum {
  SIGNAL_CHANGED,
  SIGNAL_REVOKED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static HearthSyncerConfig defaults;

void
hearth_syncer_set_defaults (const HearthSyncerConfig *config)
{
  g_clear_object (&defaults.network_monitor);
  defaults = *config;
  if (defaults.network_monitor != NULL)
    g_object_ref (defaults.network_monitor);
}

static void run (HearthSyncer *self);

static void
read_status (HearthSyncer *self)
{
  g_autoptr(GError) error = NULL;

  if (self->sync != NULL && !hearth_sync_store_status (self->sync, &self->status, &error))
    g_warning ("The sync state cannot be read: %s", error->message);
}

GPtrArray *
hearth_syncer_list_refused (HearthSyncer *self, guint limit, GError **error)
{
  g_return_val_if_fail (HEARTH_IS_SYNCER (self), NULL);
  if (self->sync == NULL)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_sync_refused_change_free);
  return hearth_sync_store_list_refused (self->sync, limit, error);
}

static gboolean
timer_fired (gpointer data)
{
  HearthSyncer *self = data;

  self->timer = 0;
  self->next_run = 0;
  /* Without a network the next run waits for the network's return. */
  if (self->offline)
    {
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
      return G_SOURCE_REMOVE;
    }
  run (self);
  return G_SOURCE_REMOVE;
}

static void
schedule (HearthSyncer *self, guint delay_ms)
{
  if (self->stopped || !self->started)
    return;
  g_clear_handle_id (&self->timer, g_source_remove);
  self->next_run = g_get_real_time () + (gint64) delay_ms * 1000;
  self->timer = g_timeout_add (delay_ms, timer_fired, self);
}

/* After @failures failures in a row: exponential, capped, jittered (half
 * to all of it), so that tablets that lost the center together do not all
 * come back at one moment. */
static guint
backoff_ms (HearthSyncer *self)
{
  guint64 delay = self->config.backoff_base_ms;

  for (guint i = 1; i < self->failures && delay < self->config.backoff_max_ms; i++)
    delay *= 2;
  delay = MIN (delay, (guint64) self->config.backoff_max_ms);
  return (guint) g_random_int_range ((gint32) (delay / 2), (gint32) MIN (delay + 1, (guint64) G_MAXINT32));
}

typedef struct {
  HearthStore *store;   /* released by the thread once it has its own */
  char *actor;
  char *holder;
  gint64 (*now_ms) (gpointer data);
  HearthSyncRunResult result;
} RunData;

static void
run_data_free (RunData *d)
{
  g_clear_object (&d->store);
  g_free (d->actor);
  g_free (d->holder);
  g_free (d);
}

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RunData *d = task_data;
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthCaseStore) cases = NULL;
  g_autoptr(HearthSyncStore) sync = NULL;
  HearthSyncRunOptions options = { 0 };
  GError *error = NULL;

  /* A connection of the run's own: the screens keep theirs. */
  store = hearth_store_open_again (d->store, &error);
  g_clear_object (&d->store);
  if (store == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  cases = hearth_case_store_new (store, d->actor, &error);
  if (cases == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (d->now_ms != NULL)
    hearth_case_store_set_wall_clock (cases, d->now_ms, NULL);
  sync = hearth_sync_store_new (cases);
  options.holder = d->holder;
  options.pull_limit = APP_PULL_LIMIT;
  options.cancellable = cancellable;
  if (!hearth_sync_run (sync, &options, &d->result, &error))
    {
      if (error == NULL)
        error = g_error_new_literal (HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE, _("not synced"));
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

/* A run's WAL copied into the database file (app/sync-run.h,
 * HearthSyncRunResult.checkpoint_due), on a worker and after the run's
 * result is shown: each commit of the run is durable and readable in the
 * WAL, so "synced" waits for nothing more; the copy (a fresh tablet's
 * village: some 4,300 pages) would otherwise fall to the next commit's
 * autocheckpoint, a screen's save. A connection of its own, as a run's. */
typedef struct {
  HearthStore *store;   /* released by the thread once it has its own */
  void (*copied) (void);
} CheckpointData;

static void
checkpoint_data_free (CheckpointData *d)
{
  g_clear_object (&d->store);
  g_free (d);
}

static void
checkpoint_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CheckpointData *d = task_data;
  g_autoptr(HearthStore) store = NULL;
  GError *error = NULL;

  store = hearth_store_open_again (d->store, &error);
  g_clear_object (&d->store);
  if (store == NULL || !hearth_store_checkpoint (store, NULL, NULL, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (d->copied != NULL)
    d->copied ();
  g_task_return_boolean (task, TRUE);
}

static void checkpoint_start (HearthSyncer *self);

static void
checkpoint_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HearthSyncer *self = HEARTH_SYNCER (source);
  g_autoptr(GError) error = NULL;

  self->checkpointing = FALSE;
  self->checkpoints++;
  /* Nothing is lost: SQLite copies the WAL at a later commit or close. */
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_message ("The store's write-ahead log was not copied after a sync (%s, code %d): %s",
               g_quark_to_string (error->domain), error->code, error->message);
  /* A run ended during this copy, which took its bound when it began:
   * that run's frames are copied now, not left to the next save. */
  if (self->checkpoint_again)
    {
      self->checkpoint_again = FALSE;
      checkpoint_start (self);
    }
}

static void
checkpoint_start (HearthSyncer *self)
{
  g_autoptr(GTask) task = NULL;
  CheckpointData *d;

  if (self->stopped || self->store == NULL)
    return;
  /* One at a time. One in progress took its bound when it began: a run
   * that ended meanwhile (a sync at once after the last) is copied by
   * one more, when this one is done (checkpoint_done()). */
  if (self->checkpointing)
    {
      self->checkpoint_again = TRUE;
      return;
    }
  self->checkpointing = TRUE;
  d = g_new0 (CheckpointData, 1);
  d->store = g_object_ref (self->store);
  d->copied = self->config.checkpoint_copied;
  task = g_task_new (self, NULL, checkpoint_done, NULL);
  g_task_set_source_tag (task, checkpoint_start);
  g_task_set_task_data (task, d, (GDestroyNotify) checkpoint_data_free);
  g_task_run_in_thread (task, checkpoint_thread);
}

static void
run_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HearthSyncer *self = HEARTH_SYNCER (source);
  RunData *d = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);
  g_autoptr(HearthSession) session = NULL;

  self->running = FALSE;
  self->runs++;
  if (self->stopped)
    {
      g_clear_error (&error);
      return;
    }
  g_clear_error (&self->error);
  self->error = error;
  read_status (self);
  if (!ok)
    g_message ("A sync failed (%s, code %d): %s", g_quark_to_string (error->domain), error->code, error->message);
  if (d->result.wipe)
    {
      /* The app locks and deletes the store: no more runs. */
      hearth_syncer_stop (self);
      g_signal_emit (self, signals[SIGNAL_REVOKED], 0);
      return;
    }
  self->failures = ok ? 0 : self->failures + 1;
  if (!ok)
    /* A busy center's Retry-After is the least wait. */
    schedule (self, (guint) MAX ((gint64) backoff_ms (self), MIN (d->result.retry_after_ms, (gint64) G_MAXINT32)));
  else if (self->status.pending > 0 || self->status.pull_more)
    schedule (self, self->config.soon_ms);
  else
    schedule (self, self->config.again_ms);
  /* What was received shows on the screens. */
  session = g_weak_ref_get (&self->session);
  if (session != NULL && (d->result.pulled > 0 || d->result.pushed > 0))
    hearth_session_changed (session);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  /* Once the result is shown (a failed run keeps what it applied too). */
  if (d->result.checkpoint_due)
    checkpoint_start (self);
}

static void
run (HearthSyncer *self)
{
  g_autoptr(GTask) task = NULL;
  RunData *d;

  if (self->stopped || self->running || self->center == NULL)
    return;
  g_clear_handle_id (&self->timer, g_source_remove);
  self->next_run = 0;
  self->running = TRUE;
  d = g_new0 (RunData, 1);
  d->store = g_object_ref (self->store);
  d->actor = g_strdup (self->actor);
  d->holder = g_strdup_printf ("hearth %d", (int) getpid ());
  d->now_ms = self->config.now_ms;
  task = g_task_new (self, self->cancellable, run_done, NULL);
  g_task_set_source_tag (task, run);
  g_task_set_task_data (task, d, (GDestroyNotify) run_data_free);
  g_task_run_in_thread (task, run_thread);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

/* A screen wrote: a change waits to be sent, soon (not while failures
 * make the runs wait: the backoff stands). */
static void
session_changed (HearthSession *session, HearthSyncer *self)
{
  gint64 soon;

  if (self->running || self->stopped || !self->started || self->error != NULL)
    return;
  read_status (self);
  soon = g_get_real_time () + (gint64) self->config.soon_ms * 1000;
  if (self->status.pending > 0 && (self->timer == 0 || self->next_run > soon))
    schedule (self, self->config.soon_ms);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

/* The network back: at once, whatever the backoff said. */
static void
network_changed (GNetworkMonitor *monitor, gboolean available, HearthSyncer *self)
{
  gboolean was_offline = self->offline;

  self->offline = !available;
  if (!available || self->stopped || !self->started)
    {
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
      return;
    }
  if (was_offline || self->error != NULL || self->status.pending > 0)
    {
      self->failures = 0;
      run (self);
    }
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
hearth_syncer_dispose (GObject *object)
{
  HearthSyncer *self = HEARTH_SYNCER (object);

  hearth_syncer_stop (self);
  g_clear_object (&self->config.network_monitor);
  g_weak_ref_clear (&self->session);
  G_OBJECT_CLASS (hearth_syncer_parent_class)->dispose (object);
}

static void
hearth_syncer_finalize (GObject *object)
{
  HearthSyncer *self = HEARTH_SYNCER (object);

  g_clear_error (&self->error);
  g_free (self->actor);
  g_free (self->center);
  G_OBJECT_CLASS (hearth_syncer_parent_class)->finalize (object);
}

static void
hearth_syncer_class_init (HearthSyncerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hearth_syncer_dispose;
  object_class->finalize = hearth_syncer_finalize;

  /**
   * HearthSyncer::changed:
   *
   * A run began or ended, the state was read again, or the network came
   * or went.
   */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 0);
  /**
   * HearthSyncer::revoked:
   *
   * The county center revoked this tablet and told it to delete its
   * store (PROTOCOL.md section 5): the syncer has stopped.
   */
  signals[SIGNAL_REVOKED] = g_signal_new ("revoked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 0);
}

static void
hearth_syncer_init (HearthSyncer *self)
{
  g_weak_ref_init (&self->session, NULL);
  self->cancellable = g_cancellable_new ();
}

HearthSyncer *
hearth_syncer_new (HearthSession *session)
{
  HearthSyncer *self = g_object_new (HEARTH_TYPE_SYNCER, NULL);
  g_autoptr(HearthSyncEnrolment) enrolment = NULL;

  g_return_val_if_fail (HEARTH_IS_SESSION (session), NULL);

  g_weak_ref_set (&self->session, session);
  self->store = g_object_ref (hearth_session_get_store (session));
  self->sync = g_object_ref (hearth_session_get_sync (session));
  self->actor = g_strdup (hearth_session_get_identity (session)->user);
  enrolment = hearth_sync_store_get_enrolment (self->sync, NULL);
  self->center = enrolment != NULL ? g_strdup (enrolment->center_url) : NULL;
  self->config = defaults;
  self->config.soon_ms = defaults.soon_ms > 0 ? defaults.soon_ms : 5000;
  self->config.backoff_base_ms = defaults.backoff_base_ms > 0 ? defaults.backoff_base_ms : 30 * 1000;
  self->config.backoff_max_ms = defaults.backoff_max_ms > 0 ? defaults.backoff_max_ms : 15 * 60 * 1000;
  self->config.again_ms = defaults.again_ms > 0 ? defaults.again_ms : 30 * 60 * 1000;
  self->config.network_monitor = g_object_ref (defaults.network_monitor != NULL ? defaults.network_monitor
                                                                                : g_network_monitor_get_default ());
  self->offline = !g_network_monitor_get_network_available (self->config.network_monitor);
  self->network_handler = g_signal_connect (self->config.network_monitor, "network-changed",
                                            G_CALLBACK (network_changed), self);
  self->session_handler = g_signal_connect (session, "changed", G_CALLBACK (session_changed), self);
  read_status (self);
  return self;
}

void
hearth_syncer_start (HearthSyncer *self)
{
  g_return_if_fail (HEARTH_IS_SYNCER (self));

  if (self->started || self->stopped)
    return;
  self->started = TRUE;
  if (self->center != NULL && !self->offline)
    run (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
hearth_syncer_stop (HearthSyncer *self)
{
  g_autoptr(HearthSession) session = NULL;

  g_return_if_fail (HEARTH_IS_SYNCER (self));

  if (self->stopped)
    return;
  self->stopped = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->timer, g_source_remove);
  self->next_run = 0;
  if (self->config.network_monitor != NULL && self->network_handler != 0)
    g_clear_signal_handler (&self->network_handler, self->config.network_monitor);
  session = g_weak_ref_get (&self->session);
  if (session != NULL && self->session_handler != 0)
    g_clear_signal_handler (&self->session_handler, session);
  /* The store closes with the session: a run in flight has its own. */
  g_clear_object (&self->sync);
  g_clear_object (&self->store);
  g_clear_object (&self->cancellable);
}

void
hearth_syncer_sync_now (HearthSyncer *self)
{
  g_return_if_fail (HEARTH_IS_SYNCER (self));
  self->failures = 0;
  run (self);
}

gboolean
hearth_syncer_get_running (HearthSyncer *self)
{
  g_return_val_if_fail (HEARTH_IS_SYNCER (self), FALSE);
  return self->running;
}

gboolean
hearth_syncer_get_enrolled (HearthSyncer *self)
{
  g_return_val_if_fail (HEARTH_IS_SYNCER (self), FALSE);
  return self->center != NULL;
}

const HearthSyncStatus *
hearth_syncer_get_status (HearthSyncer *self)
{
  g_return_val_if_fail (HEARTH_IS_SYNCER (self), NULL);
  return &self->status;
}

const GError *
hearth_syncer_get_error (HearthSyncer *self)
{
  g_return_val_if_fail (HEARTH_IS_SYNCER (self), NULL);
  return self->error;
}

gboolean
hearth_syncer_get_synced (HearthSyncer *self)
{
  g_return_val_if_fail (HEARTH_IS_SYNCER (self), FALSE);
  return self->center != NULL && !self->running && self->error == NULL && self->status.synced &&
         self->status.pending == 0;
}

gboolean
hearth_syncer_get_offline (HearthSyncer *self)
{
  g_return_val_if_fail (HEARTH_IS_SYNCER (self), FALSE);
  return self->offline;
}

gint64
hearth_syncer_get_clock_off_ms (HearthSyncer *self)
{
  g_return_val_if_fail (HEARTH_IS_SYNCER (self), 0);
  return ABS (self->status.center_offset_ms) > HEARTH_SYNC_CLOCK_WARNING_MS ? self->status.center_offset_ms : 0;
}

gint64
hearth_syncer_get_next_run (HearthSyncer *self)
{
  g_return_val_if_fail (HEARTH_IS_SYNCER (self), 0);
  return self->next_run;
}

guint
hearth_syncer_get_runs (HearthSyncer *self)
{
  g_return_val_if_fail (HEARTH_IS_SYNCER (self), 0);
  return self->runs;
}

guint
hearth_syncer_get_checkpoints (HearthSyncer *self)
{
  g_return_val_if_fail (HEARTH_IS_SYNCER (self), 0);
  return self->checkpoints;
}

const char *
hearth_syncer_get_center (HearthSyncer *self)
{
  g_return_val_if_fail (HEARTH_IS_SYNCER (self), NULL);
  return self->center;
}

char *
hearth_syncer_describe_error (const GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  if (error->domain == HEARTH_SYNC_ERROR)
    switch (error->code)
      {
      case HEARTH_SYNC_ERROR_UNREACHABLE:
        return g_strdup (_("The county center cannot be reached: no network here, or the center is down. The tablet "
                           "tries again by itself; nothing is lost meanwhile."));
      case HEARTH_SYNC_ERROR_WEB_PAGE:
        return g_strdup (_("The network here answered with a web page, not as the county center: the Wi-Fi may ask "
                           "for a sign-in first (open a web browser and sign in). The tablet tries again by itself; "
                           "nothing is lost meanwhile."));
      case HEARTH_SYNC_ERROR_REFUSED:
        return g_strdup_printf (_("The county center refused the sync: %s. Tell county IT."), error->message);
      case HEARTH_SYNC_ERROR_NOT_ENROLLED:
        return g_strdup (_("This tablet is not enrolled with the county center: enrol it from the menu."));
      case HEARTH_SYNC_ERROR_UNKNOWN_DEVICE:
        return g_strdup (_("The county center does not know this tablet: it was restored from a backup made before "
                           "the tablet was enrolled. Ask county staff for a new enrolment code for this tablet's "
                           "user and enrol it again. Nothing on this tablet is lost."));
      case HEARTH_SYNC_ERROR_UNTRUSTED:
        return g_strdup (_("The county center's certificate is not trusted by this tablet, or its key is not the "
                           "one this tablet was enrolled with: it may not be your county's center. Tell county IT; "
                           "nothing is sent until they have checked it, and nothing is lost."));
      case HEARTH_SYNC_ERROR_RESTORED:
        return g_strdup (_("The county center was restored from a backup while this tablet synced. The tablet "
                           "tries again by itself and sends again what the center lost; nothing is lost here."));
      case HEARTH_SYNC_ERROR_BAD_ADDRESS:
        return g_strdup_printf (_("The county center's address this tablet was enrolled with is not one it may use "
                                  "(%s). Enrol it again with the address county staff give. Nothing on this tablet "
                                  "is lost."),
                                error->message);
      default:
        return g_strdup_printf (_("The county center's answer was not understood (%s). Tell county IT."),
                                error->message);
      }
  if (error->domain == HEARTH_SYNC_STORE_ERROR && error->code == HEARTH_SYNC_STORE_ERROR_LEASE)
    return g_strdup (_("Another sync of this tablet's data is running. This one tries again when it ends."));
  return g_strdup_printf (_("The sync failed on this tablet: %s. Tell county IT if it happens again."),
                          error->message);
}

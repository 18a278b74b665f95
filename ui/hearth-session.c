/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-session.c: an unlocked store and who uses it (hearth-session.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-session.h"
#include "hearth-syncer.h"

struct _HearthSession {
  GObject parent_instance;
  HearthStore *store;
  HearthCaseStore *cases;
  HearthSyncStore *sync;
  HearthIdentity *identity;
  HearthSecret *passphrase;
  char *today;
  HearthSyncer *syncer;
};

G_DEFINE_FINAL_TYPE (HearthSession, hearth_session, G_TYPE_OBJECT)

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
hearth_session_dispose (GObject *object)
{
  HearthSession *self = HEARTH_SESSION (object);

  if (self->syncer != NULL)
    hearth_syncer_stop (self->syncer);
  g_clear_object (&self->syncer);
  g_clear_object (&self->sync);
  g_clear_object (&self->cases);
  g_clear_object (&self->store);
  g_clear_pointer (&self->identity, hearth_identity_free);
  g_clear_pointer (&self->passphrase, hearth_secret_free);
  g_clear_pointer (&self->today, g_free);
  G_OBJECT_CLASS (hearth_session_parent_class)->dispose (object);
}

static void
hearth_session_class_init (HearthSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hearth_session_dispose;

  /**
   * HearthSession::changed:
   *
   * Something in the store changed (a visit saved, a review, a sync, the
   * identity): screens showing its data read it again.
   */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                          NULL, G_TYPE_NONE, 0);
}

static void
hearth_session_init (HearthSession *self)
{
}

gboolean
hearth_session_store_exists (const char *data_dir)
{
  const char *names[] = { HEARTH_STORE_DB_NAME, "keyslot.0", "keyslot.1" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (data_dir, names[i], NULL);

      if (g_file_test (path, G_FILE_TEST_EXISTS))
        return TRUE;
    }
  return FALSE;
}

HearthSession *
hearth_session_new (HearthStore *store, HearthSecret *passphrase, GError **error)
{
  g_autoptr(HearthSession) self = g_object_new (HEARTH_TYPE_SESSION, NULL);
  g_autoptr(HearthSecret) pass = passphrase;

  g_return_val_if_fail (HEARTH_IS_STORE (store), NULL);

  self->store = g_object_ref (store);
  /* The app reads a page of rows at a time: a smaller page cache than the
   * store's (HEARTH_STORE_CACHE_KIB, for the command line's and sync's
   * bulk work) keeps the tablet's memory down; a page it drops is read
   * and decrypted again from the operating system's file cache. */
  if (sqlite3_exec (hearth_store_get_db (store), "PRAGMA cache_size=-" G_STRINGIFY (HEARTH_SESSION_CACHE_KIB), NULL,
                    NULL, NULL) != SQLITE_OK)
    g_warning ("The page cache could not be set: %s", sqlite3_errmsg (hearth_store_get_db (store)));
  self->identity = hearth_identity_read (store, error);
  if (self->identity == NULL)
    return NULL;
  self->cases = hearth_case_store_new (store, self->identity->user, error);
  if (self->cases == NULL)
    return NULL;
  self->sync = hearth_sync_store_new (self->cases);
  if (!hearth_session_is_enrolled (self))
    self->passphrase = g_steal_pointer (&pass);
  return g_steal_pointer (&self);
}

typedef struct {
  char *data_dir;
  HearthSecret *passphrase;
  gboolean create;
} OpenData;

static void
open_data_free (OpenData *data)
{
  g_free (data->data_dir);
  g_clear_pointer (&data->passphrase, hearth_secret_free);
  g_free (data);
}

static void
open_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  OpenData *data = task_data;
  g_autoptr(HearthStore) store = NULL;
  GError *error = NULL;
  HearthSession *session;

  if (data->create &&
      !hearth_store_create (data->data_dir, data->passphrase, HEARTH_KDF_INTERACTIVE, NULL, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  store = hearth_store_open (data->data_dir, data->passphrase, &error);
  if (store == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  session = hearth_session_new (store, g_steal_pointer (&data->passphrase), &error);
  if (session == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, session, g_object_unref);
}

void
hearth_session_open_async (const char *data_dir, HearthSecret *passphrase, gboolean create,
                           GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  OpenData *data = g_new0 (OpenData, 1);

  data->data_dir = g_strdup (data_dir);
  data->passphrase = passphrase;
  data->create = create;
  g_task_set_source_tag (task, hearth_session_open_async);
  g_task_set_task_data (task, data, (GDestroyNotify) open_data_free);
  g_task_run_in_thread (task, open_thread);
}

HearthSession *
hearth_session_open_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

HearthStore *
hearth_session_get_store (HearthSession *self)
{
  g_return_val_if_fail (HEARTH_IS_SESSION (self), NULL);
  return self->store;
}

HearthCaseStore *
hearth_session_get_cases (HearthSession *self)
{
  g_return_val_if_fail (HEARTH_IS_SESSION (self), NULL);
  return self->cases;
}

HearthSyncStore *
hearth_session_get_sync (HearthSession *self)
{
  g_return_val_if_fail (HEARTH_IS_SESSION (self), NULL);
  return self->sync;
}

const HearthIdentity *
hearth_session_get_identity (HearthSession *self)
{
  g_return_val_if_fail (HEARTH_IS_SESSION (self), NULL);
  return self->identity;
}

sqlite3 *
hearth_session_get_db (HearthSession *self)
{
  g_return_val_if_fail (HEARTH_IS_SESSION (self), NULL);
  return hearth_store_get_db (self->store);
}

gboolean
hearth_session_reload_identity (HearthSession *self, GError **error)
{
  HearthIdentity *identity;

  g_return_val_if_fail (HEARTH_IS_SESSION (self), FALSE);

  identity = hearth_identity_read (self->store, error);
  if (identity == NULL)
    return FALSE;
  hearth_identity_free (self->identity);
  self->identity = identity;
  if (hearth_session_is_enrolled (self))
    g_clear_pointer (&self->passphrase, hearth_secret_free);
  /* A syncer made before the enrolment knows no center or user: the next
   * one is made with them. */
  if (self->syncer != NULL)
    {
      hearth_syncer_stop (self->syncer);
      g_clear_object (&self->syncer);
    }
  hearth_session_changed (self);
  return TRUE;
}

gboolean
hearth_session_is_enrolled (HearthSession *self)
{
  g_autoptr(HearthSyncEnrolment) enrolment = NULL;

  g_return_val_if_fail (HEARTH_IS_SESSION (self), FALSE);
  enrolment = hearth_sync_store_get_enrolment (self->sync, NULL);
  return enrolment != NULL;
}

const HearthSecret *
hearth_session_get_passphrase (HearthSession *self)
{
  g_return_val_if_fail (HEARTH_IS_SESSION (self), NULL);
  return self->passphrase;
}

char *
hearth_session_get_today (HearthSession *self)
{
  g_autoptr(GDateTime) now = NULL;

  g_return_val_if_fail (HEARTH_IS_SESSION (self), NULL);

  if (self->today != NULL)
    return g_strdup (self->today);
  now = g_date_time_new_now_local ();
  return g_date_time_format (now, "%Y-%m-%d");
}

void
hearth_session_set_today (HearthSession *self, const char *date)
{
  g_return_if_fail (HEARTH_IS_SESSION (self));

  g_free (self->today);
  self->today = g_strdup (date);
  hearth_session_changed (self);
}

HearthSyncer *
hearth_session_get_syncer (HearthSession *self)
{
  g_return_val_if_fail (HEARTH_IS_SESSION (self), NULL);

  if (self->syncer == NULL)
    self->syncer = hearth_syncer_new (self);
  return self->syncer;
}

void
hearth_session_changed (HearthSession *self)
{
  g_return_if_fail (HEARTH_IS_SESSION (self));
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * store.c: the store's life cycle over the keyslot (store-keyslot.c) and the
 * encrypting VFS (store-vfs.c). See store.h for the files of a data folder.
 *
 * Crash safety of the keyslot: the two copies are rewritten one at a time,
 * each atomically (store-file.c). Whatever the moment of a crash, each copy
 * holds a whole slot of the old or the new state, so the store opens with
 * one of the two passphrases; the unlock that succeeds writes its copy over
 * the other, finishing (or undoing) the interrupted change.
 *
 * A rekey adds a third slot file, keyslot.rekey, written before the new
 * database is swapped in. Slots are matched to the database by file id
 * (page 1, bytes 0-15), so whichever database is in place after a crash
 * finds its slot, and the unlock clears what the other left behind.
 */
#define G_LOG_DOMAIN "hearth-store"

#include "store.h"
#include "store-file.h"
#include "store-vfs.h"
#include "schema-migrate.h"
#include "store-keys.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define N_SLOT_FILES 3
#define REKEY_SLOT 2
static const char *const slot_names[N_SLOT_FILES] = { "keyslot.0", "keyslot.1", "keyslot.rekey" };

struct _HearthStore {
  GObject parent_instance;
  char *data_dir;
  char *db_path;
  sqlite3 *db;
  char *token;
  HearthPageKey *page_key;
  HearthKeyslot slot;
  int lock_fd;
};

G_DEFINE_FINAL_TYPE (HearthStore, hearth_store, G_TYPE_OBJECT)

static void (*step_hook) (const char *step);

void
hearth_store_set_step_hook (void (*hook) (const char *step))
{
  step_hook = hook;
}

static void
step (const char *name)
{
  if (step_hook != NULL)
    step_hook (name);
}

static char *
data_path (const char *dir, const char *name)
{
  return g_build_filename (dir, name, NULL);
}

/* ---- SQLite errors --------------------------------------------------- */

static char *
take_vfs_error (sqlite3 *db)
{
  char *a[3] = { NULL, (char *) "encvfs_last_error", NULL };
  char *msg = NULL;

  if (db != NULL &&
      sqlite3_file_control (db, "main", SQLITE_FCNTL_PRAGMA, a) == SQLITE_OK &&
      a[0] != NULL && a[0][0] != '\0')
    msg = g_strdup (a[0]);
  sqlite3_free (a[0]);
  return msg;
}

/* Sets @error from a failed SQLite call: damage becomes
 * HEARTH_STORE_ERROR_CORRUPT with the VFS's account (file, page, offset). */
static gboolean
set_sqlite_error (GError **error, sqlite3 *db, int rc, const char *what)
{
  int primary = rc & 0xff;
  g_autofree char *vfs_msg = take_vfs_error (db);
  const char *msg = db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc);

  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB || rc == SQLITE_IOERR_DATA)
    g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT,
                 _("The store is damaged (%s): %s"), what, vfs_msg ? vfs_msg : msg);
  else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BUSY,
                 _("The store is busy (%s): %s"), what, msg);
  else
    g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_INTERNAL,
                 _("SQLite failed (%s): %s%s%s"), what, msg,
                 vfs_msg ? "; " : "", vfs_msg ? vfs_msg : "");
  return FALSE;
}

/* ---- locks ----------------------------------------------------------- */

/* Takes a flock on @name. A blocking request waits at most LOCK_WAIT_S
 * seconds (a stopped or hung holder must not hang every other program). */
#define LOCK_WAIT_S 30

static int
lock_file (const char *dir, const char *name, int how, GError **error)
{
  g_autofree char *path = data_path (dir, name);
  gint64 deadline = g_get_monotonic_time () + LOCK_WAIT_S * G_USEC_PER_SEC;
  gboolean wait = (how & LOCK_NB) == 0;
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_IO,
                   _("Could not open the lock file %s: %s"), path, g_strerror (saved));
      return -1;
    }
  while (flock (fd, how | LOCK_NB) != 0)
    {
      int saved = errno;
      if (saved == EINTR)
        continue;
      if (saved == EWOULDBLOCK && wait && g_get_monotonic_time () < deadline)
        {
          g_usleep (20000);
          continue;
        }
      close (fd);
      if (saved == EWOULDBLOCK)
        g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BUSY,
                     _("The store in %s is in use by another program; close it and try again"), dir);
      else
        g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_IO,
                     _("Could not lock %s: %s"), path, g_strerror (saved));
      return -1;
    }
  return fd;
}

static void
unlock_file (int fd)
{
  if (fd >= 0)
    close (fd);  /* releases the flock */
}

/* ---- keyslot files ----------------------------------------------------- */

typedef struct {
  gboolean present;
  gboolean valid;
  GBytes *bytes;
  HearthKeyslot slot;
  GError *problem;
} SlotFile;

typedef struct {
  SlotFile files[N_SLOT_FILES];
  gboolean have_db;
  guint8 db_file_id[HEARTH_FILE_ID_SIZE];
} SlotSet;

static void
slot_set_clear (SlotSet *set)
{
  for (int i = 0; i < N_SLOT_FILES; i++)
    {
      g_clear_pointer (&set->files[i].bytes, g_bytes_unref);
      g_clear_error (&set->files[i].problem);
    }
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SlotSet, slot_set_clear)

static gboolean
load_slots (const char *dir, SlotSet *set, GError **error)
{
  g_autofree char *db_path = data_path (dir, HEARTH_STORE_DB_NAME);
  int fd;

  memset (set, 0, sizeof *set);
  for (int i = 0; i < N_SLOT_FILES; i++)
    {
      g_autofree char *path = data_path (dir, slot_names[i]);
      SlotFile *f = &set->files[i];
      g_autoptr(GError) local = NULL;

      f->bytes = hearth_file_read_bounded (path, 4096, &local);
      if (f->bytes == NULL)
        {
          if (!g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            {
              f->present = TRUE;
              f->problem = g_steal_pointer (&local);
            }
          continue;
        }
      f->present = TRUE;
      f->valid = hearth_keyslot_parse (g_bytes_get_data (f->bytes, NULL),
                                       g_bytes_get_size (f->bytes), &f->slot, &f->problem);
    }

  fd = open (db_path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      ssize_t n = read (fd, set->db_file_id, HEARTH_FILE_ID_SIZE);
      set->have_db = n == HEARTH_FILE_ID_SIZE;
      close (fd);
    }
  else if (errno != ENOENT)
    {
      int saved = errno;
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_IO,
                   _("Could not read %s: %s"), db_path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static gboolean
same_wrap (const HearthKeyslot *a, const HearthKeyslot *b)
{
  return a->opslimit == b->opslimit && a->memlimit == b->memlimit &&
         memcmp (a->salt, b->salt, sizeof a->salt) == 0 &&
         memcmp (a->nonce, b->nonce, sizeof a->nonce) == 0 &&
         memcmp (a->wrapped, b->wrapped, sizeof a->wrapped) == 0 &&
         memcmp (a->file_id, b->file_id, sizeof a->file_id) == 0;
}

/* Slots that belong to the database in place (all valid ones while there
 * is no database yet), newest first. Sets KEYSLOT_CORRUPT or
 * KEYSLOT_MISMATCH when there are none. */
static GArray *
candidate_slots (const char *dir, SlotSet *set, GError **error)
{
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GString) problems = g_string_new (NULL);
  gboolean any_valid = FALSE, any_present = FALSE;

  for (int i = 0; i < N_SLOT_FILES; i++)
    {
      SlotFile *f = &set->files[i];

      any_present |= f->present;
      if (f->problem != NULL)
        g_string_append_printf (problems, "%s%s: %s", problems->len ? "; " : "",
                                slot_names[i], f->problem->message);
      if (!f->valid)
        continue;
      any_valid = TRUE;
      if (set->have_db && memcmp (f->slot.file_id, set->db_file_id, HEARTH_FILE_ID_SIZE) != 0)
        continue;
      g_array_append_val (order, i);
    }

  if (!any_present && !set->have_db)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_NOT_FOUND,
                   _("There is no store in %s; create one with \"hearth-cli init\""), dir);
      return NULL;
    }
  if (!any_valid)
    {
      if (!any_present)
        g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT,
                     _("The keyslot of the store in %s is missing (keyslot.0 and keyslot.1); "
                       "restore both files from a backup of this folder"), dir);
      else
        g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT,
                     _("The keyslot of the store in %s is damaged (%s); "
                       "restore keyslot.0 and keyslot.1 from a backup of this folder"), dir, problems->str);
      return NULL;
    }
  if (order->len == 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_MISMATCH,
                   _("The keyslot in %s belongs to another database: its file id does not match %s "
                     "(or the first 16 bytes of %s are damaged)"),
                   dir, HEARTH_STORE_DB_NAME, HEARTH_STORE_DB_NAME);
      return NULL;
    }
  /* Newest generation first; at equal generations keep the file order. */
  for (guint a = 1; a < order->len; a++)
    for (guint b = a; b > 0; b--)
      {
        int *o = (int *) order->data;
        if (set->files[o[b]].slot.generation <= set->files[o[b - 1]].slot.generation)
          break;
        int t = o[b]; o[b] = o[b - 1]; o[b - 1] = t;
      }
  return g_steal_pointer (&order);
}

#define RECOVERY_FILE "county-recovery"

/* Keeps the county recovery record in step with @slot's envelope. */
static gboolean
sync_recovery_file (const char *dir, const HearthKeyslot *slot, GError **error)
{
  g_autofree char *path = data_path (dir, RECOVERY_FILE);
  g_autoptr(GBytes) want = NULL;
  g_autoptr(GBytes) have = NULL;

  if (!slot->has_envelope)
    return TRUE;
  want = hearth_recovery_record_serialise (slot);
  have = hearth_file_read_bounded (path, 4096, NULL);
  if (have != NULL && g_bytes_equal (have, want))
    return TRUE;
  return hearth_file_replace_durably (path, g_bytes_get_data (want, NULL),
                                      g_bytes_get_size (want), 0600, error);
}

/* Writes @slot over every keyslot copy that differs, and clears what an
 * interrupted rekey left behind. Called with keyslot.lock held. */
static gboolean
settle_slots (const char *dir, SlotSet *set, const HearthKeyslot *slot, GError **error)
{
  g_autoptr(GBytes) bytes = hearth_keyslot_serialise (slot);

  for (int i = 0; i < REKEY_SLOT; i++)
    {
      g_autofree char *path = data_path (dir, slot_names[i]);

      if (set->files[i].bytes != NULL && g_bytes_equal (set->files[i].bytes, bytes))
        continue;
      step (i == 0 ? "settle-copy-0" : "settle-copy-1");
      if (!hearth_file_replace_durably (path, g_bytes_get_data (bytes, NULL),
                                        g_bytes_get_size (bytes), 0600, error))
        return FALSE;
      if (set->files[i].present && !set->files[REKEY_SLOT].present)
        g_message ("keyslot %s rewritten to match the copy that opened the store "
                   "(an interrupted passphrase change, or damage)", slot_names[i]);
    }
  if (!sync_recovery_file (dir, slot, error))
    return FALSE;
  /* A kill inside a keyslot write leaves its temporary file, which may wrap
   * the data key under a passphrase that no longer applies. */
  for (int i = 0; i < N_SLOT_FILES; i++)
    {
      g_autofree char *name = g_strconcat (slot_names[i], ".tmp", NULL);
      g_autofree char *tmp = data_path (dir, name);
      g_unlink (tmp);
    }
  if (set->files[REKEY_SLOT].present)
    {
      g_autofree char *rekey_slot = data_path (dir, slot_names[REKEY_SLOT]);
      g_autofree char *rekey_db = data_path (dir, HEARTH_STORE_DB_NAME ".rekey");
      g_autofree char *rekey_journal = data_path (dir, HEARTH_STORE_DB_NAME ".rekey-journal");

      /* A copy cut short by a crash may have left its rollback journal. */
      step ("settle-rekey");
      g_unlink (rekey_db);
      g_unlink (rekey_journal);
      g_unlink (rekey_slot);
      if (!hearth_file_sync_dir (dir, error))
        return FALSE;
    }
  return TRUE;
}

/* Unlocks the keyslot: the data key and the slot it came from. Nothing of
 * the database is read but its first 16 bytes (the file id). */
static gboolean
unlock_keyslot (const char *dir, const HearthSecret *passphrase,
                HearthSecret **dek_out, HearthKeyslot *slot_out, int held_lock, GError **error)
{
  g_auto(SlotSet) set = { 0 };
  g_autoptr(GArray) order = NULL;
  g_autoptr(HearthSecret) dek = NULL;
  int opened = -1;
  int lock_fd;
  gboolean ok;

  /* Callers that go on to rewrite the slots hold keyslot.lock already, so
   * that nothing changes between this read and their write. */
  lock_fd = held_lock >= 0 ? -1 : lock_file (dir, "keyslot.lock", LOCK_EX, error);
  if (held_lock < 0 && lock_fd < 0)
    return FALSE;
  if (!load_slots (dir, &set, error) || (order = candidate_slots (dir, &set, error)) == NULL)
    {
      unlock_file (lock_fd);
      return FALSE;
    }
  for (guint k = 0; k < order->len && dek == NULL; k++)
    {
      int i = g_array_index (order, int, k);
      gboolean tried = FALSE;

      /* The copies are usually identical: one Argon2id run is enough. */
      for (guint j = 0; j < k; j++)
        tried |= same_wrap (&set.files[g_array_index (order, int, j)].slot, &set.files[i].slot);
      if (tried)
        continue;
      dek = hearth_keyslot_unwrap (&set.files[i].slot, passphrase, NULL);
      if (dek != NULL)
        opened = i;
    }
  if (dek == NULL)
    {
      unlock_file (lock_fd);
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_WRONG_PASSPHRASE,
                   _("Wrong passphrase for the store in %s"), dir);
      return FALSE;
    }
  *slot_out = set.files[opened].slot;
  ok = settle_slots (dir, &set, slot_out, error);
  unlock_file (lock_fd);
  if (!ok)
    return FALSE;
  *dek_out = g_steal_pointer (&dek);
  return TRUE;
}

/* Writes @slot into both copies, one after the other. */
static gboolean
write_both_slots (const char *dir, const HearthKeyslot *slot, int held_lock, GError **error)
{
  g_autoptr(GBytes) bytes = hearth_keyslot_serialise (slot);
  int lock_fd = held_lock >= 0 ? -1 : lock_file (dir, "keyslot.lock", LOCK_EX, error);

  if (held_lock < 0 && lock_fd < 0)
    return FALSE;
  for (int i = 0; i < REKEY_SLOT; i++)
    {
      g_autofree char *path = data_path (dir, slot_names[i]);

      step (i == 0 ? "write-copy-0" : "write-copy-1");
      if (!hearth_file_replace_durably (path, g_bytes_get_data (bytes, NULL),
                                        g_bytes_get_size (bytes), 0600, error))
        {
          unlock_file (lock_fd);
          return FALSE;
        }
    }
  step ("written");
  if (!sync_recovery_file (dir, slot, error))
    {
      unlock_file (lock_fd);
      return FALSE;
    }
  unlock_file (lock_fd);
  return TRUE;
}

/* ---- the database ---------------------------------------------------- */

static gboolean
exec (sqlite3 *db, const char *sql, const char *what, GError **error)
{
  int rc = sqlite3_exec (db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    return set_sqlite_error (error, db, rc, what);
  return TRUE;
}

/* The one open helper (design section 8, requirement 2): key, open,
 * reserve, pragmas, probe. @one_thread: the connection is never used by
 * two threads at once, so it goes without a mutex of its own (SQLite's
 * "multi-thread" mode for it: a mutex taken and released around every
 * call, thousands a page a pull applies, guards nothing then); the
 * process-wide mutexes (the WAL index, the VFS's key table) stay. */
static sqlite3 *
open_database (const char *db_path, HearthPageKey *key, gboolean one_thread, char **token_out, GError **error)
{
  g_autofree char *token = NULL;
  g_autofree char *uri = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int reserve = HEARTH_PAGE_RESERVE;
  int rc;

  if (!hearth_vfs_register (error))
    return NULL;
  token = hearth_vfs_key_attach (key);
  uri = hearth_vfs_build_uri (db_path, token);
  rc = sqlite3_open_v2 (uri, &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI |
                        (one_thread ? SQLITE_OPEN_NOMUTEX : SQLITE_OPEN_FULLMUTEX),
                        HEARTH_VFS_NAME);
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, db, rc, _("opening the database"));
      goto fail;
    }
  sqlite3_extended_result_codes (db, 1);
  sqlite3_busy_timeout (db, 10000);
  /* The keys of field_edits and record_versions, and the functions of
   * the field versions (migrations 0011, 0013). */
  rc = hearth_store_add_key_functions (db);
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, db, rc, _("setting up the connection"));
      goto fail;
    }
  /* Before journal_mode=WAL, which writes page 1. */
  sqlite3_file_control (db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  if (!exec (db, "PRAGMA temp_store=MEMORY; PRAGMA mmap_size=0; PRAGMA cache_size=-"
                 G_STRINGIFY (HEARTH_STORE_CACHE_KIB) ";", _("setting up the connection"), error))
    goto fail;
  rc = sqlite3_prepare_v2 (db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step (st);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, db, rc, _("reading the database"));
      goto fail;
    }
  if (g_strcmp0 ((const char *) sqlite3_column_text (st, 0), "wal") != 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_INTERNAL,
                   _("The database could not be switched to WAL mode"));
      goto fail;
    }
  g_clear_pointer (&st, sqlite3_finalize);
  if (!exec (db, "PRAGMA synchronous=FULL", _("setting up the connection"), error) ||
      !exec (db, "SELECT count(*) FROM sqlite_schema", _("reading the database"), error))
    goto fail;
  *token_out = g_steal_pointer (&token);
  return db;

fail:
  sqlite3_finalize (st);
  sqlite3_close (db);
  hearth_vfs_key_detach (token);
  return NULL;
}

static void
hearth_store_finalize (GObject *object)
{
  HearthStore *self = HEARTH_STORE (object);

  if (self->db != NULL)
    sqlite3_close (self->db);
  hearth_vfs_key_detach (self->token);
  g_free (self->token);
  g_clear_pointer (&self->page_key, hearth_page_key_unref);
  unlock_file (self->lock_fd);
  g_free (self->data_dir);
  g_free (self->db_path);
  G_OBJECT_CLASS (hearth_store_parent_class)->finalize (object);
}

static void
hearth_store_class_init (HearthStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hearth_store_finalize;
}

static void
hearth_store_init (HearthStore *self)
{
  self->lock_fd = -1;
}

/* @create_lock: the `lock` fd held exclusively by hearth_store_create(),
 * or -1 to take it shared here. A creation is the one case where an empty
 * database file is expected; anywhere else it is a lost database. */
static HearthStore *
store_open (const char *data_dir, const HearthSecret *passphrase, int create_lock, GError **error)
{
  g_autoptr(HearthStore) self = NULL;
  g_autoptr(HearthSecret) dek = NULL;
  g_autoptr(GPtrArray) migrations = NULL;

  if (!hearth_vfs_register (error))
    return NULL;
  self = g_object_new (HEARTH_TYPE_STORE, NULL);
  self->data_dir = g_strdup (data_dir);
  self->db_path = data_path (data_dir, HEARTH_STORE_DB_NAME);
  {
    /* Nothing is created in a folder that holds no store. */
    g_autofree char *slot0 = data_path (data_dir, slot_names[0]);
    g_autofree char *slot1 = data_path (data_dir, slot_names[1]);

    if (!g_file_test (data_dir, G_FILE_TEST_IS_DIR) ||
        (!g_file_test (self->db_path, G_FILE_TEST_EXISTS) && !g_file_test (slot0, G_FILE_TEST_EXISTS) &&
         !g_file_test (slot1, G_FILE_TEST_EXISTS)))
      {
        g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_NOT_FOUND,
                     _("There is no store in %s; create one with \"hearth-cli init\""), data_dir);
        return NULL;
      }
  }
  /* Before the unlock: its settling removes keyslot.rekey, which a rekey
   * in progress (holding the lock exclusively) still needs. */
  if (create_lock < 0)
    {
      self->lock_fd = lock_file (data_dir, "lock", LOCK_SH | LOCK_NB, error);
      if (self->lock_fd < 0)
        return NULL;
    }
  if (!unlock_keyslot (data_dir, passphrase, &dek, &self->slot, -1, error))
    return NULL;
  {
    struct stat st;

    if (stat (self->db_path, &st) != 0)
      {
        g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_NOT_FOUND,
                     _("The database %s is missing (was the store's creation interrupted? "
                       "Then run \"hearth-cli init\" again)"), self->db_path);
        return NULL;
      }
    if (!S_ISREG (st.st_mode))
      {
        g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT,
                     _("%s is not a regular file"), self->db_path);
        return NULL;
      }
    if (st.st_size == 0 && create_lock < 0)
      {
        g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT,
                     _("The database %s is empty although its keyslot exists: it was lost or cut "
                       "to nothing (restore it from a backup), or the store's creation was "
                       "interrupted (then run \"hearth-cli init\" again)"), self->db_path);
        return NULL;
      }
  }
  self->page_key = hearth_page_key_new (hearth_secret_peek (dek), self->slot.file_id);
  if (self->page_key == NULL)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_INTERNAL,
                   _("Out of secure memory"));
      return NULL;
    }
  /* The app's screens and their tasks share this one (ui/README.md). */
  self->db = open_database (self->db_path, self->page_key, FALSE, &self->token, error);
  if (self->db == NULL)
    return NULL;
  migrations = hearth_migrations_load_builtin (error);
  if (migrations == NULL || !hearth_migrations_apply (self->db, migrations, error))
    return NULL;
  return g_steal_pointer (&self);
}

HearthStore *
hearth_store_open (const char *data_dir, const HearthSecret *passphrase, GError **error)
{
  return store_open (data_dir, passphrase, -1, error);
}

HearthStore *
hearth_store_open_again (HearthStore *self, GError **error)
{
  g_autoptr(HearthStore) other = NULL;

  g_return_val_if_fail (HEARTH_IS_STORE (self), NULL);
  g_return_val_if_fail (self->page_key != NULL, NULL);

  other = g_object_new (HEARTH_TYPE_STORE, NULL);
  other->data_dir = g_strdup (self->data_dir);
  other->db_path = g_strdup (self->db_path);
  other->slot = self->slot;
  /* Shared, as every open store holds it: a rekey waits for both. */
  other->lock_fd = lock_file (other->data_dir, "lock", LOCK_SH | LOCK_NB, error);
  if (other->lock_fd < 0)
    return NULL;
  other->page_key = hearth_page_key_ref (self->page_key);
  /* Its thread's alone (hearth_store_open_again()). */
  other->db = open_database (other->db_path, other->page_key, TRUE, &other->token, error);
  if (other->db == NULL)
    return NULL;
  /* The first store applied the migrations. */
  return g_steal_pointer (&other);
}

gboolean
hearth_store_wipe (const char *data_dir, GError **error)
{
  const char *names[] = { "keyslot.0", "keyslot.1", "keyslot.rekey", "county-recovery", HEARTH_STORE_DB_NAME,
                          HEARTH_STORE_DB_NAME "-wal", HEARTH_STORE_DB_NAME "-journal", HEARTH_STORE_DB_NAME "-shm" };
  gboolean ok = TRUE;

  g_return_val_if_fail (data_dir != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = data_path (data_dir, names[i]);
      int saved;

      if (g_unlink (path) == 0 || errno == ENOENT)
        continue;
      saved = errno;
      if (ok)
        g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_IO, _("%s could not be removed: %s"), path,
                     g_strerror (saved));
      ok = FALSE;
    }
  return ok;
}

gboolean
hearth_store_create (const char *data_dir, const HearthSecret *passphrase,
                     HearthKdfProfile kdf, const guint8 *county_public_key, GError **error)
{
  g_autofree char *db_path = data_path (data_dir, HEARTH_STORE_DB_NAME);
  g_autoptr(HearthSecret) dek = NULL;
  g_autoptr(HearthStore) store = NULL;
  HearthKeyslot slot = { 0 };
  struct stat st;
  int store_lock = -1, slot_lock = -1;
  gboolean ok = FALSE;

  if (!hearth_vfs_register (error) || !hearth_secret_check_new_passphrase (passphrase, error))
    return FALSE;
  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_IO,
                   _("Could not create the folder %s: %s"), data_dir, g_strerror (saved));
      return FALSE;
    }
  /* The whole creation under both locks: no other creation, open or
   * keyslot change can interleave with it. */
  store_lock = lock_file (data_dir, "lock", LOCK_EX | LOCK_NB, error);
  if (store_lock < 0)
    return FALSE;
  slot_lock = lock_file (data_dir, "keyslot.lock", LOCK_EX, error);
  if (slot_lock < 0)
    goto out;
  /* A keyslot without a database is an interrupted creation: start over. */
  if (lstat (db_path, &st) == 0 && (st.st_size > 0 || !S_ISREG (st.st_mode)))
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_EXISTS,
                   _("A store already exists in %s"), data_dir);
      goto out;
    }

  dek = hearth_secret_new_random (HEARTH_DATA_KEY_SIZE);
  hearth_secret_seal (dek);
  slot.generation = 1;
  randombytes_buf (slot.file_id, sizeof slot.file_id);
  hearth_kdf_params (kdf, &slot.opslimit, &slot.memlimit);
  if (!hearth_keyslot_wrap (&slot, passphrase, dek, error))
    goto out;
  if (county_public_key != NULL && !hearth_keyslot_seal_envelope (&slot, dek, county_public_key, error))
    goto out;
  for (int i = 0; i < N_SLOT_FILES; i++)
    {
      g_autofree char *stale = data_path (data_dir, slot_names[i]);
      g_unlink (stale);
    }
  g_unlink (db_path);
  if (!write_both_slots (data_dir, &slot, slot_lock, error))
    goto out;
  {
    int fd = open (db_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
      {
        int saved = errno;
        g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_IO,
                     _("Could not create %s: %s"), db_path, g_strerror (saved));
        goto out;
      }
    close (fd);
  }
  unlock_file (slot_lock);
  slot_lock = -1;
  store = store_open (data_dir, passphrase, store_lock, error);
  ok = store != NULL;

out:
  unlock_file (slot_lock);
  unlock_file (store_lock);
  return ok;
}


sqlite3 *
hearth_store_get_db (HearthStore *self)
{
  g_return_val_if_fail (HEARTH_IS_STORE (self), NULL);
  return self->db;
}

const char *
hearth_store_get_data_dir (HearthStore *self)
{
  g_return_val_if_fail (HEARTH_IS_STORE (self), NULL);
  return self->data_dir;
}

static gint64
query_int (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  gint64 v = -1;

  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step (st) == SQLITE_ROW)
    v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return v;
}

void
hearth_store_get_info (HearthStore *self, HearthStoreInfo *info)
{
  g_return_if_fail (HEARTH_IS_STORE (self));
  memset (info, 0, sizeof *info);
  info->schema_version = (guint) MAX (0, query_int (self->db, "PRAGMA user_version"));
  info->page_count = (guint64) MAX (0, query_int (self->db, "PRAGMA page_count"));
  info->opslimit = self->slot.opslimit;
  info->memlimit = self->slot.memlimit;
  info->keyslot_generation = self->slot.generation;
  info->has_recovery_envelope = self->slot.has_envelope;
  info->kdf_profile = hearth_kdf_profile_describe (self->slot.opslimit, self->slot.memlimit);
  info->county_public_key = self->slot.has_envelope ? self->slot.county_public_key : NULL;
}

gboolean
hearth_store_checkpoint (HearthStore *self, int *frames, int *copied, GError **error)
{
  int log = 0, done = 0, rc;

  g_return_val_if_fail (HEARTH_IS_STORE (self), FALSE);
  rc = sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
  if (frames != NULL)
    *frames = MAX (log, 0);
  if (copied != NULL)
    *copied = MAX (done, 0);
  if (rc != SQLITE_OK)
    return set_sqlite_error (error, self->db, rc, _("copying the write-ahead log into the database"));
  return TRUE;
}

/* Authenticates every page of the database file; a failing page is read
 * once more, since a concurrent checkpoint may have been writing it. */
static gboolean
verify_pages (HearthStore *self, GError **error)
{
  g_autofree guint8 *page = g_malloc (HEARTH_PAGE_SIZE);
  int fd = open (self->db_path, O_RDONLY | O_CLOEXEC);
  guint32 pgno = 0;
  gboolean ok = TRUE;

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_IO,
                   _("Could not read %s: %s"), self->db_path, g_strerror (saved));
      return FALSE;
    }
  for (;;)
    {
      ssize_t n = pread (fd, page, HEARTH_PAGE_SIZE, (off_t) pgno * HEARTH_PAGE_SIZE);
      gboolean good;

      if (n == 0)
        break;
      pgno++;
      good = n == HEARTH_PAGE_SIZE &&
             hearth_vfs_decrypt_database_page (self->page_key, pgno, page, page);
      if (!good)
        {
          g_usleep (50000);
          n = pread (fd, page, HEARTH_PAGE_SIZE, (off_t) (pgno - 1) * HEARTH_PAGE_SIZE);
          good = n == HEARTH_PAGE_SIZE &&
                 hearth_vfs_decrypt_database_page (self->page_key, pgno, page, page);
        }
      if (!good)
        {
          if (n >= 0 && n < HEARTH_PAGE_SIZE)
            g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT,
                         _("%s: page %u (offset %lld) is cut short: the file ends inside it"),
                         self->db_path, pgno, (long long) (pgno - 1) * HEARTH_PAGE_SIZE);
          else
            g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT,
                         _("%s: page %u (offset %lld) fails authentication (damaged or tampered)"),
                         self->db_path, pgno, (long long) (pgno - 1) * HEARTH_PAGE_SIZE);
          ok = FALSE;
          break;
        }
      if (n < 0)
        break;
    }
  sodium_memzero (page, HEARTH_PAGE_SIZE);
  close (fd);
  return ok;
}

gboolean
hearth_store_check (HearthStore *self, GError **error)
{
  g_autoptr(GString) problems = g_string_new (NULL);
  sqlite3_stmt *st = NULL;
  int rc, rows = 0;

  g_return_val_if_fail (HEARTH_IS_STORE (self), FALSE);
  if (!verify_pages (self, error))
    return FALSE;
  rc = sqlite3_prepare_v2 (self->db, "PRAGMA integrity_check(20)", -1, &st, NULL);
  while (rc == SQLITE_OK || rc == SQLITE_ROW)
    {
      if ((rc = sqlite3_step (st)) != SQLITE_ROW)
        break;
      {
        const char *line = (const char *) sqlite3_column_text (st, 0);
        if (g_strcmp0 (line, "ok") != 0)
          g_string_append_printf (problems, "%s%s", rows++ ? "; " : "", line);
      }
    }
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _("integrity check"));
      sqlite3_finalize (st);
      return FALSE;
    }
  sqlite3_finalize (st);
  if (problems->len > 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT,
                   _("%s fails the integrity check: %s"), self->db_path, problems->str);
      return FALSE;
    }
  return TRUE;
}

/* What a keyslot rewrite changes in the slot: the passphrase's wrap, or the
 * county's envelope. */
typedef gboolean (*SlotChange) (HearthKeyslot *slot, const HearthSecret *dek, gconstpointer data, GError **error);

/* Unlocks with @passphrase, applies @change to the slot, writes both copies
 * one after the other (each atomically), and proves that @proof_passphrase
 * opens the new copies to the same data key. Holds `lock` shared (not
 * during a rekey, whose keyslot.rekey the unlock's settling would remove)
 * and keyslot.lock from the read to the proof, so no second rewrite or
 * recovery slips in between. */
static gboolean
rewrite_slots (const char *data_dir, const HearthSecret *passphrase, const HearthSecret *proof_passphrase,
               SlotChange change, gconstpointer data, GError **error)
{
  g_autoptr(HearthSecret) dek = NULL;
  g_autoptr(HearthSecret) check = NULL;
  HearthKeyslot slot;
  gboolean ok = FALSE;
  int lock_fd, slot_lock = -1;

  lock_fd = lock_file (data_dir, "lock", LOCK_SH | LOCK_NB, error);
  if (lock_fd < 0)
    return FALSE;
  slot_lock = lock_file (data_dir, "keyslot.lock", LOCK_EX, error);
  if (slot_lock < 0)
    goto out;
  if (!unlock_keyslot (data_dir, passphrase, &dek, &slot, slot_lock, error))
    goto out;
  slot.generation++;
  if (!change (&slot, dek, data, error) || !write_both_slots (data_dir, &slot, slot_lock, error))
    goto out;
  if (!unlock_keyslot (data_dir, proof_passphrase, &check, &slot, slot_lock, error))
    goto out;
  if (sodium_memcmp (hearth_secret_peek (check), hearth_secret_peek (dek), HEARTH_DATA_KEY_SIZE) != 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_INTERNAL,
                   _("The rewritten keyslot does not give back the data key"));
      goto out;
    }
  ok = TRUE;

out:
  unlock_file (slot_lock);
  unlock_file (lock_fd);
  return ok;
}

static gboolean
rewrap (HearthKeyslot *slot, const HearthSecret *dek, gconstpointer new_passphrase, GError **error)
{
  return hearth_keyslot_wrap (slot, new_passphrase, dek, error);
}

gboolean
hearth_store_change_passphrase (const char *data_dir, const HearthSecret *old_passphrase,
                                const HearthSecret *new_passphrase, GError **error)
{
  if (!hearth_vfs_register (error) || !hearth_secret_check_new_passphrase (new_passphrase, error))
    return FALSE;
  return rewrite_slots (data_dir, old_passphrase, new_passphrase, rewrap, new_passphrase, error);
}

static gboolean
seal (HearthKeyslot *slot, const HearthSecret *dek, gconstpointer county_public_key, GError **error)
{
  return hearth_keyslot_seal_envelope (slot, dek, county_public_key, error);
}

gboolean
hearth_store_set_county_key (const char *data_dir, const HearthSecret *passphrase, const guint8 *county_public_key,
                             GError **error)
{
  if (!hearth_vfs_register (error))
    return FALSE;
  return rewrite_slots (data_dir, passphrase, passphrase, seal, county_public_key, error);
}

/* The recovery proper, with `lock` held shared and keyslot.lock held. */
static gboolean
recover_locked (const char *data_dir, const HearthSecret *county_secret_key,
                const HearthSecret *new_passphrase, int slot_lock, GError **error)
{
  g_auto(SlotSet) set = { 0 };
  g_autoptr(GArray) order = NULL;
  g_autoptr(HearthSecret) dek = NULL;
  g_autoptr(HearthPageKey) key = NULL;
  g_autoptr(GError) first_problem = NULL;
  g_autoptr(GError) slot_problem = NULL;
  g_autofree char *db_path = data_path (data_dir, HEARTH_STORE_DB_NAME);
  g_autofree char *token = NULL;
  HearthKeyslot slot = { 0 };
  guint64 max_generation = 0;
  sqlite3 *db;

  if (!hearth_vfs_register (error) || !hearth_secret_check_new_passphrase (new_passphrase, error))
    return FALSE;
  if (!load_slots (data_dir, &set, error))
    return FALSE;
  if (!set.have_db)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_NOT_FOUND,
                   _("There is no database to recover in %s"), data_dir);
      return FALSE;
    }
  order = candidate_slots (data_dir, &set, &slot_problem);
  for (guint k = 0; order != NULL && k < order->len && dek == NULL; k++)
    {
      const HearthKeyslot *s = &set.files[g_array_index (order, int, k)].slot;

      dek = hearth_keyslot_open_envelope (s, county_secret_key,
                                          first_problem ? NULL : &first_problem);
      if (dek != NULL)
        slot = *s;
    }
  for (int i = 0; i < N_SLOT_FILES; i++)
    if (set.files[i].valid)
      max_generation = MAX (max_generation, set.files[i].slot.generation);

  /* No keyslot copy with an envelope (both lost or damaged): the county
   * recovery record alone, if it belongs to this database. */
  if (dek == NULL)
    {
      g_autofree char *record_path = data_path (data_dir, RECOVERY_FILE);
      g_autoptr(GBytes) record = hearth_file_read_bounded (record_path, 4096, NULL);
      HearthKeyslot from_record;

      if (record != NULL &&
          hearth_recovery_record_parse (g_bytes_get_data (record, NULL), g_bytes_get_size (record),
                                        &from_record, NULL) &&
          memcmp (from_record.file_id, set.db_file_id, HEARTH_FILE_ID_SIZE) == 0)
        {
          g_clear_error (&first_problem);
          dek = hearth_keyslot_open_envelope (&from_record, county_secret_key, &first_problem);
          if (dek != NULL)
            slot = from_record;
        }
    }
  if (dek == NULL)
    {
      if (first_problem != NULL)
        g_propagate_error (error, g_steal_pointer (&first_problem));
      else if (slot_problem != NULL)
        g_propagate_error (error, g_steal_pointer (&slot_problem));
      else
        g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_NO_RECOVERY,
                     _("This store has no recovery envelope: it was created without a county public key"));
      return FALSE;
    }

  /* Prove the key against the database before touching the keyslot. */
  key = hearth_page_key_new (hearth_secret_peek (dek), slot.file_id);
  db = open_database (db_path, key, TRUE, &token, error);
  if (db == NULL)
    return FALSE;
  sqlite3_close (db);
  hearth_vfs_key_detach (token);

  slot.generation = max_generation + 1;
  if (!hearth_keyslot_wrap (&slot, new_passphrase, dek, error) ||
      !write_both_slots (data_dir, &slot, slot_lock, error))
    return FALSE;
  return TRUE;
}

gboolean
hearth_store_recover (const char *data_dir, const HearthSecret *county_secret_key,
                      const HearthSecret *new_passphrase, GError **error)
{
  int store_lock, slot_lock;
  gboolean ok;

  if (!hearth_vfs_register (error) || !hearth_secret_check_new_passphrase (new_passphrase, error))
    return FALSE;
  /* Not during a rekey (which swaps the database and its keyslot), and no
   * other keyslot change between the read and the write. */
  store_lock = lock_file (data_dir, "lock", LOCK_SH | LOCK_NB, error);
  if (store_lock < 0)
    return FALSE;
  slot_lock = lock_file (data_dir, "keyslot.lock", LOCK_EX, error);
  if (slot_lock < 0)
    {
      unlock_file (store_lock);
      return FALSE;
    }
  ok = recover_locked (data_dir, county_secret_key, new_passphrase, slot_lock, error);
  unlock_file (slot_lock);
  unlock_file (store_lock);
  return ok;
}

gboolean
hearth_store_rekey (const char *data_dir, const HearthSecret *passphrase, GError **error)
{
  g_autofree char *db_path = data_path (data_dir, HEARTH_STORE_DB_NAME);
  g_autofree char *new_path = data_path (data_dir, HEARTH_STORE_DB_NAME ".rekey");
  g_autofree char *new_journal = data_path (data_dir, HEARTH_STORE_DB_NAME ".rekey-journal");
  g_autofree char *new_slot_path = data_path (data_dir, slot_names[REKEY_SLOT]);
  g_autofree char *wal_path = data_path (data_dir, HEARTH_STORE_DB_NAME "-wal");
  g_autofree char *new_token = NULL;
  g_autofree char *new_uri = NULL;
  g_autofree char *sql = NULL;
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthSecret) new_dek = NULL;
  g_autoptr(HearthPageKey) new_key = NULL;
  g_autoptr(GBytes) bytes = NULL;
  HearthKeyslot slot;
  int lock_fd, rc;
  gboolean ok = FALSE;

  store = hearth_store_open (data_dir, passphrase, error);
  if (store == NULL)
    return FALSE;
  /* Exclusive use: no other program may hold the old database open. */
  unlock_file (store->lock_fd);
  store->lock_fd = -1;
  lock_fd = lock_file (data_dir, "lock", LOCK_EX | LOCK_NB, error);
  if (lock_fd < 0)
    return FALSE;

  slot = store->slot;
  new_dek = hearth_secret_new_random (HEARTH_DATA_KEY_SIZE);
  hearth_secret_seal (new_dek);
  randombytes_buf (slot.file_id, sizeof slot.file_id);
  slot.generation++;
  if (!hearth_keyslot_wrap (&slot, passphrase, new_dek, error))
    goto out;
  if (slot.has_envelope && !hearth_keyslot_seal_envelope (&slot, new_dek, slot.county_public_key, error))
    goto out;

  g_unlink (new_path);
  g_unlink (new_journal);
  bytes = hearth_keyslot_serialise (&slot);
  step ("rekey-slot");
  if (!hearth_file_replace_durably (new_slot_path, g_bytes_get_data (bytes, NULL),
                                    g_bytes_get_size (bytes), 0600, error))
    goto out;

  new_key = hearth_page_key_new (hearth_secret_peek (new_dek), slot.file_id);
  new_token = hearth_vfs_key_attach (new_key);
  new_uri = hearth_vfs_build_uri (new_path, new_token);
  sql = sqlite3_mprintf ("VACUUM INTO %Q", new_uri);
  step ("rekey-vacuum");
  rc = sqlite3_exec (store->db, sql, NULL, NULL, NULL);
  sqlite3_free (g_steal_pointer (&sql));
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, store->db, rc, _("copying the database under the new key"));
      g_unlink (new_path);
      goto out;
    }
  {
    int fd = open (new_path, O_RDONLY | O_CLOEXEC);
    /* SQLite created the copy with the default mode; the database is 0600. */
    if (fd < 0 || fchmod (fd, 0600) != 0 || fsync (fd) != 0)
      {
        if (fd >= 0)
          close (fd);
        g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_IO,
                     _("Could not sync %s"), new_path);
        goto out;
      }
    close (fd);
  }
  /* Closing the last connection checkpoints and removes the old WAL. */
  sqlite3_close (store->db);
  store->db = NULL;
  if (g_file_test (wal_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BUSY,
                   _("The old database still has a write-ahead log; another program has the store open"));
      goto out;
    }
  step ("rekey-swap");
  if (rename (new_path, db_path) != 0 || !hearth_file_sync_dir (data_dir, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_IO,
                     _("Could not move the new database into place: %s"), g_strerror (errno));
      goto out;
    }
  step ("rekey-swapped");
  {
    g_autoptr(HearthSecret) check = NULL;
    HearthKeyslot opened;
    /* The unlock finds keyslot.rekey by its file id and settles it into
     * both copies. */
    ok = unlock_keyslot (data_dir, passphrase, &check, &opened, -1, error);
  }

out:
  hearth_vfs_key_detach (new_token);
  unlock_file (lock_fd);
  return ok;
}

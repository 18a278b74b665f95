/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-store-canary.c: no plaintext ever reaches a file (design section 8,
 * requirement 13). A random marker is written through the store; after a
 * commit, a crash with a live WAL, a crash with a hot rollback journal, a
 * checkpoint, VACUUM, VACUUM INTO (rekey) and a passphrase change, no byte
 * sequence of it may appear in the database, WAL, journal, shm, keyslot or
 * lock files, nor in any file of /tmp or /var/tmp written during the test.
 */
#include "test-util.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char marker[64];      /* "CANARY-<32 hex>" */
static char marker_hex[40];  /* the random part alone */
static time_t started;

/* Counts files under @root that hold the marker or its random part.
 * @only_new: only files modified since the test started (for /tmp). */
static guint
scan_tree (const char *root, gboolean only_new, guint *files_scanned)
{
  g_autoptr(GDir) dir = g_dir_open (root, 0, NULL);
  const char *name;
  guint hits = 0;

  if (dir == NULL)
    return 0;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (root, name, NULL);
      struct stat st;

      if (lstat (path, &st) != 0)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          hits += scan_tree (path, only_new, files_scanned);
          continue;
        }
      if (!S_ISREG (st.st_mode) || st.st_size > (256 << 20) || (only_new && st.st_mtime < started))
        continue;
      {
        g_autofree char *data = NULL;
        gsize len = 0;

        if (!g_file_get_contents (path, &data, &len, NULL))
          continue;
        (*files_scanned)++;
        if (memmem (data, len, marker, strlen (marker)) != NULL ||
            memmem (data, len, marker_hex, strlen (marker_hex)) != NULL)
          {
            g_test_message ("plaintext found in %s", path);
            hits++;
          }
        sodium_memzero (data, len);
      }
    }
  return hits;
}

static void
assert_no_plaintext (const char *store_parent, const char *stage)
{
  guint files = 0, hits;

  hits = scan_tree (store_parent, FALSE, &files);
  hits += scan_tree ("/tmp", TRUE, &files);
  hits += scan_tree ("/var/tmp", TRUE, &files);
  g_test_message ("after %s: %u files scanned, %u with plaintext", stage, files, hits);
  g_assert_cmpuint (hits, ==, 0);
}

static void
insert_markers (sqlite3 *db, int first, int count)
{
  sqlite3_stmt *st = NULL;

  test_exec (db, "CREATE TABLE IF NOT EXISTS canary (id INTEGER PRIMARY KEY, short TEXT, long TEXT);"
                 "CREATE INDEX IF NOT EXISTS canary_short ON canary (short)");
  g_assert_cmpint (sqlite3_prepare_v2 (db, "INSERT INTO canary VALUES (?, ?, ?)", -1, &st, NULL), ==, SQLITE_OK);
  for (int i = first; i < first + count; i++)
    {
      /* Short values stay in the leaf and the index; long ones overflow. */
      g_autoptr(GString) long_value = g_string_new (NULL);
      for (int k = 0; k < 200; k++)
        g_string_append (long_value, marker);
      sqlite3_bind_int (st, 1, i);
      sqlite3_bind_text (st, 2, marker, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 3, long_value->str, -1, SQLITE_TRANSIENT);
      g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
      sqlite3_reset (st);
    }
  sqlite3_finalize (st);
}

static void
wait_child (pid_t pid)
{
  int status = 0;

  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
}

static void
test_canary (void)
{
  g_autofree char *dir = test_create_store ("canary", NULL);
  g_autofree char *parent = g_path_get_dirname (dir);
  g_autofree char *wal = g_build_filename (dir, "hearth.db-wal", NULL);
  g_autofree char *rollback_db = g_build_filename (parent, "rollback.db", NULL);
  g_autofree char *rollback_journal = g_build_filename (parent, "rollback.db-journal", NULL);
  g_autoptr(HearthSecret) pass = test_secret (TEST_PASSPHRASE);
  g_autoptr(HearthSecret) pass2 = test_secret (TEST_PASSPHRASE_2);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthStore) store = NULL;
  guint8 raw[16];
  pid_t pid;

  started = time (NULL) - 1;
  randombytes_buf (raw, sizeof raw);
  sodium_bin2hex (marker_hex, sizeof marker_hex, raw, sizeof raw);
  g_snprintf (marker, sizeof marker, "CANARY-%s", marker_hex);

  /* 0. Control: the scan does find the marker in a plaintext database
   * (default VFS) written the same way, so that zero hits below mean
   * something. */
  {
    g_autofree char *plain_path = g_build_filename (parent, "control.db", NULL);
    sqlite3 *plain = NULL;
    guint files = 0;

    g_assert_cmpint (sqlite3_open (plain_path, &plain), ==, SQLITE_OK);
    insert_markers (plain, 0, 5);
    sqlite3_close (plain);
    g_assert_cmpuint (scan_tree (parent, FALSE, &files), ==, 1);
    g_assert_cmpint (g_unlink (plain_path), ==, 0);
  }

  /* 1. Committed. */
  store = test_open_store (dir);
  insert_markers (hearth_store_get_db (store), 0, 50);
  assert_no_plaintext (parent, "commit");

  /* 2. A crash with committed data still in the WAL. */
  g_clear_object (&store);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      HearthStore *s = hearth_store_open (dir, pass, NULL);
      if (s == NULL)
        _exit (1);
      sqlite3_exec (hearth_store_get_db (s), "PRAGMA wal_autocheckpoint=0", NULL, NULL, NULL);
      insert_markers (hearth_store_get_db (s), 1000, 50);
      _exit (0);  /* no close: the WAL stays */
    }
  wait_child (pid);
  g_assert_true (g_file_test (wal, G_FILE_TEST_EXISTS));
  assert_no_plaintext (parent, "crash with a live WAL");

  /* 3. A crash in rollback mode, with a hot journal. */
  {
    g_autoptr(HearthPageKey) key = NULL;
    guint8 dek[32], id[16];
    int pipefd[2];
    char c;

    randombytes_buf (dek, sizeof dek);
    randombytes_buf (id, sizeof id);
    key = hearth_page_key_new (dek, id);
    {
      g_autofree char *token = NULL;
      sqlite3 *db = test_open_raw (rollback_db, key, "DELETE", TRUE, &token);
      insert_markers (db, 0, 100);
      sqlite3_close (db);
      hearth_vfs_key_detach (token);
    }
    g_assert_cmpint (pipe (pipefd), ==, 0);
    pid = fork ();
    g_assert_cmpint (pid, >=, 0);
    if (pid == 0)
      {
        sqlite3 *db = test_open_raw (rollback_db, key, "DELETE", TRUE, NULL);
        sqlite3_exec (db, "PRAGMA cache_size=10; BEGIN; UPDATE canary SET long = long || 'x'",
                      NULL, NULL, NULL);
        if (write (pipefd[1], "u", 1) != 1)
          _exit (2);
        pause ();  /* killed here, mid-transaction */
        _exit (0);
      }
    close (pipefd[1]);
    g_assert_cmpint (read (pipefd[0], &c, 1), ==, 1);
    close (pipefd[0]);
    kill (pid, SIGKILL);
    wait_child (pid);
    g_assert_true (g_file_test (rollback_journal, G_FILE_TEST_EXISTS));
    assert_no_plaintext (parent, "crash with a hot rollback journal");

    /* The hot journal rolls back through the shim, still unreadable. */
    {
      g_autofree char *token = NULL;
      sqlite3 *db = test_open_raw (rollback_db, key, "DELETE", TRUE, &token);
      g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM canary WHERE long LIKE '%x'"), ==, 0);
      sqlite3_close (db);
      hearth_vfs_key_detach (token);
    }
    assert_no_plaintext (parent, "hot-journal rollback");
  }

  /* 4. Recovery of the WAL, then a checkpoint and a VACUUM. */
  store = test_open_store (dir);
  g_assert_cmpint (test_query_int (hearth_store_get_db (store), "SELECT count(*) FROM canary"), ==, 100);
  test_exec (hearth_store_get_db (store), "PRAGMA wal_checkpoint(TRUNCATE)");
  assert_no_plaintext (parent, "checkpoint");
  test_exec (hearth_store_get_db (store), "DELETE FROM canary WHERE id % 2 = 0; VACUUM");
  assert_no_plaintext (parent, "VACUUM");
  g_clear_object (&store);

  /* 5. Rekey (VACUUM INTO a new file under a new key) and passwd. */
  g_assert_true (hearth_store_rekey (dir, pass, &error));
  g_assert_no_error (error);
  assert_no_plaintext (parent, "rekey (VACUUM INTO)");
  g_assert_true (hearth_store_change_passphrase (dir, pass, pass2, &error));
  g_assert_no_error (error);
  assert_no_plaintext (parent, "passphrase change");

  /* And the marker is really there, through the store. */
  store = hearth_store_open (dir, pass2, &error);
  g_assert_no_error (error);
  {
    sqlite3_stmt *st = NULL;
    sqlite3 *db = hearth_store_get_db (store);
    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM canary WHERE short = ?", -1, &st, NULL), ==, SQLITE_OK);
    sqlite3_bind_text (st, 1, marker, -1, SQLITE_STATIC);
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int (st, 0), ==, 50);
    sqlite3_finalize (st);
  }
  g_clear_object (&store);
  assert_no_plaintext (parent, "clean close");
  sodium_memzero (marker, sizeof marker);
  sodium_memzero (marker_hex, sizeof marker_hex);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/store/canary", test_canary);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-store-again.c: a second store on an open one (hearth_store_open_again(),
 * for the tablet app's background sync) and wiping a store
 * (hearth_store_wipe(), for a revoked tablet), on real encrypted files:
 * - the second store reads what the first wrote and the other way round,
 *   outlives the first, and writes from another thread while the first
 *   writes on its own (the transactions wait for each other, nothing is
 *   lost); it needs no passphrase;
 * - a wiped store is gone: its keyslots, recovery envelope and database;
 *   opening it says there is no store; wiping again is no error.
 */
#include "test-util.h"
#include "store.h"

#include <glib/gstdio.h>

#define ROWS 200

static gpointer
write_rows (gpointer data)
{
  HearthStore *store = data;

  for (int i = 0; i < ROWS; i++)
    {
      g_autofree char *sql = g_strdup_printf ("INSERT INTO t (who, n) VALUES ('thread', %d)", i);
      g_assert_cmpint (sqlite3_exec (hearth_store_get_db (store), sql, NULL, NULL, NULL), ==, SQLITE_OK);
    }
  return NULL;
}

static void
test_open_again (void)
{
  g_autofree char *dir = test_create_store ("store-again", NULL);
  g_autoptr(HearthStore) first = test_open_store (dir);
  g_autoptr(HearthStore) second = NULL;
  g_autoptr(GError) error = NULL;
  GThread *thread;

  test_exec (hearth_store_get_db (first), "CREATE TABLE t (who TEXT, n INTEGER)");
  test_exec (hearth_store_get_db (first), "INSERT INTO t VALUES ('first', -1)");
  second = hearth_store_open_again (first, &error);
  g_assert_no_error (error);
  g_assert_true (hearth_store_get_db (second) != hearth_store_get_db (first));
  g_assert_cmpstr (hearth_store_get_data_dir (second), ==, dir);
  g_assert_cmpint (test_query_int (hearth_store_get_db (second), "SELECT count(*) FROM t WHERE who = 'first'"), ==, 1);

  /* Both write at once, from two threads. */
  thread = g_thread_new ("second", write_rows, second);
  for (int i = 0; i < ROWS; i++)
    {
      g_autofree char *sql = g_strdup_printf ("INSERT INTO t (who, n) VALUES ('main', %d)", i);
      test_exec (hearth_store_get_db (first), sql);
    }
  g_thread_join (thread);
  g_assert_cmpint (test_query_int (hearth_store_get_db (first), "SELECT count(*) FROM t"), ==, 2 * ROWS + 1);

  /* The first goes; the second keeps the key and the data. */
  g_clear_object (&first);
  g_assert_cmpint (test_query_int (hearth_store_get_db (second), "SELECT count(*) FROM t WHERE who = 'thread'"), ==,
                   ROWS);
  g_clear_object (&second);
  /* What they wrote is in the file, under the passphrase. */
  first = test_open_store (dir);
  g_assert_cmpint (test_query_int (hearth_store_get_db (first), "SELECT count(*) FROM t"), ==, 2 * ROWS + 1);
}

static void
test_wipe (void)
{
  g_autofree char *dir = test_create_store ("store-wipe", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthSecret) pass = test_secret (TEST_PASSPHRASE);
  const char *names[] = { "keyslot.0", "keyslot.1", HEARTH_STORE_DB_NAME };

  {
    g_autoptr(HearthStore) store = test_open_store (dir);
    test_exec (hearth_store_get_db (store), "CREATE TABLE t (x)");
  }
  g_assert_true (hearth_store_wipe (dir, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
    }
  g_assert_null (hearth_store_open (dir, pass, &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (hearth_store_wipe (dir, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/store/open-again", test_open_again);
  g_test_add_func ("/store/wipe", test_wipe);
  return g_test_run ();
}

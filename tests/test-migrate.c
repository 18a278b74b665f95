/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-migrate.c: schema migrations applied in order, each in one
 * transaction, tracked by user_version; a newer database is refused.
 */
#include "test-util.h"
#include "schema-migrate.h"

#include <string.h>

static char *
data_dir (const char *name)
{
  return g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", name, NULL);
}

static void
test_builtin (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = hearth_migrations_load_builtin (&error);

  g_assert_no_error (error);
  g_assert_cmpuint (list->len, >=, 1);
  for (guint i = 0; i < list->len; i++)
    {
      HearthMigration *m = g_ptr_array_index (list, i);
      g_assert_cmpuint (m->version, ==, i + 1);
      g_assert_true (g_str_has_suffix (m->name, ".sql"));
      g_assert_cmpuint (strlen (m->sql), >, 0);
    }
}

static void
test_apply_in_order (void)
{
  g_autofree char *good = data_dir ("migrations-good");
  g_autofree char *bad = data_dir ("migrations-bad");
  g_autofree char *gap = data_dir ("migrations-gap");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GPtrArray) broken = NULL;
  g_autoptr(GPtrArray) gapped = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (":memory:", &db), ==, SQLITE_OK);
  list = hearth_migrations_load_dir (good, &error);
  g_assert_no_error (error);
  g_assert_true (hearth_migrations_apply (db, list, &error));
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (db, "PRAGMA user_version"), ==, 2);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM b"), ==, 0);
  /* Applying again changes nothing. */
  g_assert_true (hearth_migrations_apply (db, list, &error));
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM a"), ==, 1);

  broken = hearth_migrations_load_dir (bad, &error);
  g_assert_no_error (error);
  g_assert_false (hearth_migrations_apply (db, broken, &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_MIGRATION);
  g_assert_nonnull (strstr (error->message, "0003-broken.sql"));
  g_assert_nonnull (strstr (error->message, "no_such_table"));
  g_clear_error (&error);
  g_assert_cmpint (test_query_int (db, "PRAGMA user_version"), ==, 2);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM sqlite_schema WHERE name = 'c'"), ==, 0);

  gapped = hearth_migrations_load_dir (gap, &error);
  g_assert_null (gapped);
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_MIGRATION);
  g_assert_nonnull (strstr (error->message, "0003-second.sql"));
  g_clear_error (&error);

  /* A database from a newer schema is refused, not downgraded. */
  test_exec (db, "PRAGMA user_version = 7");
  g_assert_false (hearth_migrations_apply (db, list, &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_NEWER_SCHEMA);
  g_assert_nonnull (strstr (error->message, "7"));
  sqlite3_close (db);
}

static void
test_store_newer_schema (void)
{
  g_autofree char *dir = test_create_store ("newer", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  g_autoptr(HearthSecret) pass = test_secret (TEST_PASSPHRASE);
  g_autoptr(GError) error = NULL;
  HearthStoreInfo info;

  hearth_store_get_info (store, &info);
  g_assert_cmpuint (info.schema_version, >=, 1);
  test_exec (hearth_store_get_db (store), "PRAGMA user_version = 999");
  g_clear_object (&store);
  store = hearth_store_open (dir, pass, &error);
  g_assert_null (store);
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_NEWER_SCHEMA);
  g_assert_nonnull (strstr (error->message, "999"));
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/schema/migrate/builtin", test_builtin);
  g_test_add_func ("/schema/migrate/apply-in-order", test_apply_in_order);
  g_test_add_func ("/schema/migrate/store-newer-schema", test_store_newer_schema);
  return g_test_run ();
}

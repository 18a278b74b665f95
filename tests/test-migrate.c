/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-migrate.c: schema migrations applied in order, each in one
 * transaction, tracked by user_version; a newer database is refused.
 */
#include "test-util.h"
#include "schema-migrate.h"
#include "store-keys.h"

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

/* Each query's rows, as text, one after the other. */
static char *
dump_queries (sqlite3 *db, const char *const *queries, guint n)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    {
      sqlite3_stmt *st = NULL;

      g_assert_cmpint (sqlite3_prepare_v2 (db, queries[i], -1, &st, NULL), ==, SQLITE_OK);
      while (sqlite3_step (st) == SQLITE_ROW)
        {
          for (int c = 0; c < sqlite3_column_count (st); c++)
            g_string_append_printf (out, "%s|", (const char *) sqlite3_column_text (st, c));
          g_string_append_c (out, '\n');
        }
      sqlite3_finalize (st);
      g_string_append (out, "--\n");
    }
  return g_string_free (out, FALSE);
}

/* The rows' texts, table by table, to compare before and after. */
static char *
dump_rows (sqlite3 *db)
{
  static const char *const queries[] = {
    "SELECT id, category, risk_level, monitoring_status, deleted FROM households ORDER BY rowid",
    "SELECT id, status, kind FROM tasks ORDER BY rowid",
    "SELECT id, role FROM reviews ORDER BY rowid",
    "SELECT seq, kind, state, record_id FROM sync_outbox ORDER BY seq",
    "SELECT id, kind FROM published_forms ORDER BY rowid",
  };

  return dump_queries (db, queries, G_N_ELEMENTS (queries));
}

static char *
dump_schema (sqlite3 *db)
{
  GString *out = g_string_new (NULL);
  sqlite3_stmt *st = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT type, name, sql FROM sqlite_schema ORDER BY type, name",
                                       -1, &st, NULL), ==, SQLITE_OK);
  while (sqlite3_step (st) == SQLITE_ROW)
    g_string_append_printf (out, "%s %s %s\n", sqlite3_column_text (st, 0), sqlite3_column_text (st, 1),
                            (const char *) sqlite3_column_text (st, 2));
  sqlite3_finalize (st);
  return g_string_free (out, FALSE);
}

/* @path opened, with the store's key functions (as the app opens it). */
static sqlite3 *
open_store (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (hearth_store_add_key_functions (db), ==, SQLITE_OK);
  return db;
}

/* @path opened (open_store()) and brought to schema version @upto by the
 * first @upto built-in migrations. */
static sqlite3 *
open_migrated (const char *path, guint upto)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = hearth_migrations_load_builtin (&error);
  sqlite3 *db;

  g_assert_no_error (error);
  g_assert_cmpuint (list->len, >, upto);
  g_ptr_array_set_size (list, upto);
  db = open_store (path);
  g_assert_true (hearth_migrations_apply (db, list, &error));
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (db, "PRAGMA user_version"), ==, upto);
  return db;
}

/* The schema of a fresh store made by every migration of @list
 * (dump_schema()). */
static char *
fresh_schema_of (GPtrArray *list)
{
  g_autoptr(GError) error = NULL;
  sqlite3 *fresh = open_store (":memory:");
  char *schema;

  g_assert_true (hearth_migrations_apply (fresh, list, &error));
  g_assert_no_error (error);
  schema = dump_schema (fresh);
  sqlite3_close (fresh);
  return schema;
}

/* How many temporary tables (OP_OpenEphemeral) the statement's program
 * opens: a CHECK `x IN (three values or more)` opens one. */
static int
ephemeral_opens (sqlite3 *db, const char *sql)
{
  g_autofree char *explain = g_strconcat ("EXPLAIN ", sql, NULL);
  sqlite3_stmt *st = NULL;
  int n = 0;

  g_assert_cmpint (sqlite3_prepare_v2 (db, explain, -1, &st, NULL), ==, SQLITE_OK);
  while (sqlite3_step (st) == SQLITE_ROW)
    if (g_strcmp0 ((const char *) sqlite3_column_text (st, 1), "OpenEphemeral") == 0)
      n++;
  sqlite3_finalize (st);
  return n;
}

static gboolean
exec_ok (sqlite3 *db, const char *sql)
{
  return sqlite3_exec (db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

/* What the triggers on tasks and members wrote: the routine visit queue
 * and the search index. */
static char *
dump_derived (sqlite3 *db)
{
  static const char *const queries[] = {
    "SELECT household_id, priority, last_visit_date FROM routine_visit_queue ORDER BY household_id",
    "SELECT s.key, s.village, s.head_name, k.household_id FROM household_search AS s"
    " JOIN household_keys AS k ON k.key = s.household_key ORDER BY 1, 2, 3, 4",
  };

  return dump_queries (db, queries, G_N_ELEMENTS (queries));
}

/* Tasks and members changed as a pull or the app changes them: closed,
 * opened again, moved to another household and back, renamed. */
static const char *const trigger_steps[] = {
  "UPDATE tasks SET status = 'done' WHERE id = 't1'",
  "UPDATE tasks SET household_id = 'h4' WHERE id = 't3'",
  "UPDATE tasks SET status = 'open' WHERE id = 't3'",
  "UPDATE tasks SET household_id = 'h5', status = 'open' WHERE id = 't2'",
  "UPDATE tasks SET household_id = 'h2' WHERE id = 't2'",
  "UPDATE tasks SET status = 'cancelled' WHERE id = 't2'",
  "UPDATE members SET name = 'Wang Fang' WHERE id = 'm1'",
  "UPDATE members SET household_id = 'h3' WHERE id = 'm1'",
  "UPDATE members SET household_id = 'h1', name = 'Li Lei' WHERE id = 'm2'",
  "UPDATE members SET deleted = 1 WHERE id = 'm3'",
};

/* A row for every value the lists allow, and members to move. */
static const char check_lists_rows[] =
  "INSERT INTO households (id, village_code, category, risk_level, monitoring_status, created_at, updated_at) VALUES"
  " ('h1', '110101001001', '', 'red', 'none', 't', 't'),"
  " ('h2', '110101001001', '0', 'orange', 'pending_village_review', 't', 't'),"
  " ('h3', '110101001001', '1', 'yellow', 'returned', 't', 't'),"
  " ('h4', '110101001001', '2', 'none', 'pending_county_approval', 't', 't'),"
  " ('h5', '110101001001', '2', 'none', 'monitored', 't', 't'),"
  " ('h6', '110101001001', '2', 'none', 'pending_elimination', 't', 't'),"
  " ('h7', '110101001001', '2', 'none', 'risk_eliminated', 't', 't');"
  "INSERT INTO tasks (id, household_id, kind, due_date, status, created_at, updated_at) VALUES"
  " ('t1', 'h1', 'follow_up', '2026-01-01', 'open', 't', 't'),"
  " ('t2', 'h2', 'correction', '2026-01-01', 'done', 't', 't'),"
  " ('t3', 'h3', 'follow_up', '2026-01-01', 'cancelled', 't', 't');"
  "INSERT INTO reviews (id, household_id, actor, role, at, from_state, to_state) VALUES"
  " ('r1', 'h1', 'a', 'worker', 't', 'none', 'none'), ('r2', 'h1', 'a', 'clerk', 't', 'none', 'none'),"
  " ('r3', 'h1', 'a', 'township', 't', 'none', 'none'), ('r4', 'h1', 'a', 'county', 't', 'none', 'none');"
  "INSERT INTO sync_outbox (seq, kind, record_table, record_id, field, hlc, state) VALUES"
  " (11, 'edit', 'households', 'h1', 'phone', 'v', 'pending'),"
  " (12, 'edits', 'households', 'h1', NULL, 'v', 'acked'),"
  " (13, 'record', 'households', 'h1', NULL, NULL, 'refused');"
  "INSERT INTO published_forms (id, kind, form_id, version, xml, received_at) VALUES"
  " ('p1', 'form', 'f', '1', '<x/>', 't'), ('p2', 'thresholds', NULL, '1', '<x/>', 't'),"
  " ('p3', 'divisions', NULL, '1', '<x/>', 't');"
  "INSERT INTO members (id, household_id, name, created_at, updated_at) VALUES"
  " ('m1', 'h1', 'Zhang Wei', 't', 't'), ('m2', 'h2', 'Liu Yang', 't', 't'), ('m3', 'h3', 'Chen Jie', 't', 't');";

/* 0015 writes the CHECKs `x IN ('a', 'b', 'c', …)` as `x = 'a' OR …` by
 * editing sqlite_schema: a store with rows keeps them, the CHECKs accept
 * and refuse what they did, the statements open no temporary table for
 * them any more, a connection opened before reads the new schema, and the
 * migrated store's schema is a fresh store's. */
static void
test_check_lists (void)
{
  static const char *const statements[] = {
    "UPDATE households SET category = ?, risk_level = ?, monitoring_status = ? WHERE id = ?",
    "UPDATE tasks SET status = ? WHERE id = ?",
    "UPDATE tasks SET household_id = ? WHERE id = ?",
    "UPDATE members SET household_id = ?, name = ? WHERE id = ?",
    "INSERT INTO reviews (id, household_id, actor, role, at, from_state, to_state) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "UPDATE sync_outbox SET state = ? WHERE seq = ?",
    "INSERT INTO published_forms (id, kind, form_id, version, xml, received_at) VALUES (?, ?, ?, ?, ?, ?)",
  };
  static const char *const refused[] = {
    "UPDATE households SET category = '3' WHERE id = 'h1'",
    "UPDATE households SET risk_level = 'blue' WHERE id = 'h1'",
    "UPDATE households SET monitoring_status = 'gone' WHERE id = 'h1'",
    "UPDATE households SET risk_level = 'RED' WHERE id = 'h1'",
    "UPDATE tasks SET status = 'closed' WHERE id = 't1'",
    "UPDATE reviews SET role = 'mayor' WHERE id = 'r1'",
    "UPDATE sync_outbox SET state = 'lost' WHERE seq = 11",
    "UPDATE sync_outbox SET kind = 'edits ' WHERE seq = 11",
    "UPDATE published_forms SET kind = 'photos' WHERE id = 'p1'",
  };
  g_autofree char *dir = test_make_dir ("check-lists");
  g_autofree char *path = g_build_filename (dir, "store.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = hearth_migrations_load_builtin (&error);
  g_autofree char *rows_before = NULL;
  g_autofree char *rows_after = NULL;
  g_autofree char *schema = NULL;
  g_autofree char *fresh_schema = NULL;
  sqlite3 *db = NULL;
  sqlite3 *other = NULL;
  sqlite3 *db14 = NULL;
  int opens[G_N_ELEMENTS (statements)];
  gint64 cookie;

  g_assert_no_error (error);
  g_assert_cmpuint (list->len, >=, 15);
  db = open_migrated (path, 14);
  /* The same rows in a store left at 14, to compare what the triggers do. */
  db14 = open_migrated (":memory:", 14);

  /* A row for every value the lists allow. */
  test_exec (db, check_lists_rows);
  test_exec (db14, check_lists_rows);
  rows_before = dump_rows (db);
  /* Before 0015, each of these statements opens a temporary table (the
   * check below could not fail otherwise). */
  for (guint i = 0; i < G_N_ELEMENTS (statements); i++)
    {
      opens[i] = ephemeral_opens (db, statements[i]);
      g_assert_cmpint (opens[i], >=, 1);
    }

  /* Another connection, its schema read before the migration. */
  other = open_store (path);
  g_assert_cmpint (ephemeral_opens (other, statements[0]), >=, 1);
  cookie = test_query_int (db, "PRAGMA schema_version");

  g_assert_true (hearth_migrations_apply (db, list, &error));
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (db, "PRAGMA user_version"), ==, list->len);
  g_assert_cmpint (test_query_int (db, "PRAGMA schema_version"), >, cookie);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM sqlite_schema WHERE name = 'migration_0015_check'"), ==, 0);
  rows_after = dump_rows (db);
  g_assert_cmpstr (rows_after, ==, rows_before);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"), ==, 0);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM pragma_foreign_key_check"), ==, 0);

  /* The rewritten triggers write what the old ones did, step by step. */
  for (guint i = 0; i < G_N_ELEMENTS (trigger_steps); i++)
    {
      g_autofree char *derived = NULL;
      g_autofree char *derived14 = NULL;
      g_autofree char *rows = NULL;
      g_autofree char *rows14 = NULL;

      test_exec (db, trigger_steps[i]);
      test_exec (db14, trigger_steps[i]);
      derived = dump_derived (db);
      derived14 = dump_derived (db14);
      g_assert_cmpstr (derived, ==, derived14);
      rows = dump_rows (db);
      rows14 = dump_rows (db14);
      g_assert_cmpstr (rows, ==, rows14);
    }
  /* The steps did change the queue and the index (a comparison of
   * nothing would prove nothing). */
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM routine_visit_queue WHERE household_id = 'h1'"), ==, 1);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM routine_visit_queue WHERE household_id = 'h4'"), ==, 0);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM household_search AS s JOIN household_keys AS k"
                                       " ON k.key = s.household_key WHERE k.household_id = 'h3'"
                                       " AND s.key = lower ('Wa')"), >=, 1);

  /* The other connection reads the schema again at its next statement
   * (EXPLAIN alone reads nothing): the schema version moved. */
  g_assert_cmpint (test_query_int (other, "SELECT count(*) FROM households"), ==, 7);
  for (guint i = 0; i < G_N_ELEMENTS (statements); i++)
    {
      /* A member's update keeps the search index's own (its key
       * lists are subqueries, migration 0004): one fewer. */
      int left = g_str_has_prefix (statements[i], "UPDATE members") ? opens[i] - 1 : 0;

      g_assert_cmpint (ephemeral_opens (db, statements[i]), ==, left);
      g_assert_cmpint (ephemeral_opens (other, statements[i]), ==, left);
    }
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_assert_false (exec_ok (db, refused[i]));
      g_assert_nonnull (strstr (sqlite3_errmsg (db), "CHECK constraint failed"));
      g_assert_false (exec_ok (other, refused[i]));
    }
  g_assert_true (exec_ok (other, "UPDATE households SET category = '1', risk_level = 'orange',"
                                 " monitoring_status = 'monitored' WHERE id = 'h1'"));
  g_assert_true (exec_ok (db, "UPDATE tasks SET status = 'cancelled' WHERE id = 't1';"
                              "UPDATE sync_outbox SET state = 'acked' WHERE seq = 11;"
                              "INSERT INTO reviews (id, household_id, actor, role, at, from_state, to_state)"
                              " VALUES ('r5', 'h2', 'b', 'county', 't', 'none', 'monitored')"));

  /* The migrated store's schema is a fresh store's, word for word. */
  schema = dump_schema (db);
  fresh_schema = fresh_schema_of (list);
  g_assert_cmpstr (schema, ==, fresh_schema);
  g_assert_null (strstr (schema, "IN ('red'"));
  g_assert_null (strstr (schema, "IN ('open'"));

  sqlite3_close (db14);
  sqlite3_close (other);
  sqlite3_close (db);
}

/* 0016 takes record_writes' CHECK (json_type (fields) = 'object') out of
 * its text in sqlite_schema: a store's writes keep their rows, read
 * through field_edits as before; a row that is not an object, refused
 * before, is taken (on a connection opened before the migration too),
 * and the migrated store's schema is a fresh store's. What the CHECK
 * guarded stays refused: such a row is not changed by any writer (the
 * view's triggers' json_set () would leave it as it is and lose the edit
 * without a word; json_remove () and json_patch () likewise). */
static void
test_record_writes_unchecked (void)
{
  static const char edits[] =
    "INSERT INTO field_edits (record_table, record_id, field, hlc, parents, value, wall) VALUES"
    " ('households', 'h1', 'head_name', '001772676000000-00000000-DEV-A', '', '甲', 'w1'),"
    " ('households', 'h1', 'phone', '001772676000000-00000000-DEV-A', '', '138', 'w1'),"
    " ('households', 'h1', 'head_name', '001772676060000-00000000-DEV-B', '001772676000000-00000000-DEV-A', '乙', 'w2'),"
    " ('tasks', 't1', 'status', '001772676000000-00000000-DEV-A', '', 'done', 'w3');";
  static const char rows_sql[] =
    "SELECT record_table, record_id, hlc, wall, fields FROM record_writes ORDER BY rowid";
  static const char view_sql[] =
    "SELECT record_table, record_id, field, hlc, parents, value, wall FROM field_edits "
    "ORDER BY record_table, record_id, field, hlc";
  /* Rows no writer of the app writes: JSON that is not an object, and
   * text that is not JSON. */
  static const char *const odd_rows[] = {
    "INSERT INTO record_writes (record_table, record_id, hlc, wall, fields) "
    "VALUES ('households', 'h2', '001772676000000-00000000-DEV-C', '', '[\"not\", \"an object\"]')",
    "INSERT INTO record_writes (record_table, record_id, hlc, wall, fields) "
    "VALUES ('households', 'h3', '001772676000000-00000000-DEV-C', '', '{\"head_name\": ')",
  };
  /* Every writer's change of such a row's fields (RECORD: h2's, then h3's). */
  static const char *const changes[] = {
    "INSERT INTO field_edits (record_table, record_id, field, hlc, parents, value, wall) VALUES "
    "('households', 'RECORD', 'head_name', '001772676000000-00000000-DEV-C', '', '丙', '')",
    "UPDATE record_writes SET fields = json_remove (fields, '$.\"head_name\"') WHERE record_id = 'RECORD'",
    "UPDATE record_writes SET fields = json_patch (fields, '{\"phone\": \"139\"}') WHERE record_id = 'RECORD'",
    "UPDATE record_writes SET fields = '{}' WHERE record_id = 'RECORD'",
  };
  g_autofree char *dir = test_make_dir ("record-writes-unchecked");
  g_autofree char *path = g_build_filename (dir, "store.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = hearth_migrations_load_builtin (&error);
  g_autofree char *rows_before = NULL;
  g_autofree char *rows_after = NULL;
  g_autofree char *view_before = NULL;
  g_autofree char *view_after = NULL;
  g_autofree char *schema = NULL;
  g_autofree char *fresh_schema = NULL;
  g_autofree char *odd_before = NULL;
  g_autofree char *odd_after = NULL;
  const char *queries[] = { rows_sql };
  const char *view[] = { view_sql };
  sqlite3 *db = NULL;
  sqlite3 *other = NULL;
  gint64 cookie;

  g_assert_no_error (error);
  g_assert_cmpuint (list->len, >=, 16);
  db = open_migrated (path, 15);
  test_exec (db, edits);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM record_writes"), ==, 3);
  rows_before = dump_queries (db, queries, 1);
  view_before = dump_queries (db, view, 1);
  /* Refused before 0016. */
  g_assert_false (exec_ok (db, odd_rows[0]));
  g_assert_nonnull (strstr (sqlite3_errmsg (db), "CHECK constraint failed"));

  other = open_store (path);
  g_assert_cmpint (test_query_int (other, "SELECT count(*) FROM record_writes"), ==, 3);
  cookie = test_query_int (db, "PRAGMA schema_version");

  g_assert_true (hearth_migrations_apply (db, list, &error));
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (db, "PRAGMA user_version"), ==, list->len);
  g_assert_cmpint (test_query_int (db, "PRAGMA schema_version"), >, cookie);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM sqlite_schema WHERE name = 'migration_0016_check'"), ==, 0);
  rows_after = dump_queries (db, queries, 1);
  view_after = dump_queries (db, view, 1);
  g_assert_cmpstr (rows_after, ==, rows_before);
  g_assert_cmpstr (view_after, ==, view_before);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"), ==, 0);

  /* Taken now, by the connection opened before too (its schema read
   * again: the schema version moved). */
  g_assert_true (exec_ok (other, odd_rows[0]));
  g_assert_true (exec_ok (db, "DELETE FROM record_writes WHERE record_id = 'h2'"));
  for (guint i = 0; i < G_N_ELEMENTS (odd_rows); i++)
    g_assert_true (exec_ok (db, odd_rows[i]));

  /* But not changed, by either connection: refused, not lost. */
  odd_before = dump_queries (db, queries, 1);
  for (guint r = 0; r < G_N_ELEMENTS (odd_rows); r++)
    for (guint i = 0; i < G_N_ELEMENTS (changes); i++)
      {
        g_auto(GStrv) parts = g_strsplit (changes[i], "RECORD", -1);
        g_autofree char *sql = g_strjoinv (r == 0 ? "h2" : "h3", parts);
        sqlite3 *on = i % 2 == 0 ? db : other;

        g_assert_false (exec_ok (on, sql));
        /* Text that is not JSON fails SQLite's JSON functions first
         * (all but the last change read the row). */
        if (r == 1 && i + 1 < G_N_ELEMENTS (changes))
          g_assert_nonnull (strstr (sqlite3_errmsg (on), "malformed JSON"));
        else
          g_assert_nonnull (strstr (sqlite3_errmsg (on), "not a JSON object: it cannot be changed"));
      }
  odd_after = dump_queries (db, queries, 1);
  g_assert_cmpstr (odd_after, ==, odd_before);
  /* Its version may still move (a clamp), and it may go. */
  g_assert_true (exec_ok (db, "UPDATE record_writes SET hlc = '001772676000001-00000000-DEV-C' WHERE record_id = 'h2'"));
  g_assert_true (exec_ok (db, "DELETE FROM record_writes WHERE record_id IN ('h2', 'h3')"));
  /* The objects are changed as before, through the view and by hand. */
  g_assert_true (exec_ok (other, "INSERT INTO field_edits (record_table, record_id, field, hlc, parents, value, wall) "
                                 "VALUES ('households', 'h1', 'phone', '001772676060000-00000000-DEV-B', '', '139', 'w2')"));
  g_assert_true (exec_ok (db, "UPDATE record_writes SET fields = json_patch (fields, '{\"status\": \"open\"}') "
                              "WHERE record_id = 't1'"));
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM field_edits WHERE record_id = 'h1'"), ==, 4);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM field_edits WHERE record_id = 't1' AND value = 'open'"), ==, 1);
  /* And an object's fields stay an object: a patch that is not one
   * (json_patch () returns it) or a replace by hand is refused, the row
   * as it was. */
  {
    g_autofree char *objects_before = dump_queries (db, queries, 1);
    g_autofree char *objects_after = NULL;
    static const char *const unmake[] = {
      "UPDATE record_writes SET fields = json_patch (fields, '[1]') WHERE record_id = 't1'",
      "UPDATE record_writes SET fields = '\"text\"' WHERE record_id = 'h1'",
      "UPDATE record_writes SET fields = '{\"head_name\": ' WHERE record_id = 'h1'",
    };

    for (guint i = 0; i < G_N_ELEMENTS (unmake); i++)
      {
        sqlite3 *on = i % 2 == 0 ? db : other;

        g_assert_false (exec_ok (on, unmake[i]));
        g_assert_nonnull (strstr (sqlite3_errmsg (on), "must stay a JSON object"));
      }
    objects_after = dump_queries (db, queries, 1);
    g_assert_cmpstr (objects_after, ==, objects_before);
  }

  /* The migrated store's schema is a fresh store's, word for word. */
  schema = dump_schema (db);
  fresh_schema = fresh_schema_of (list);
  g_assert_cmpstr (schema, ==, fresh_schema);
  g_assert_null (strstr (schema, "json_type (fields)"));

  sqlite3_close (other);
  sqlite3_close (db);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/schema/migrate/builtin", test_builtin);
  g_test_add_func ("/schema/migrate/apply-in-order", test_apply_in_order);
  g_test_add_func ("/schema/migrate/store-newer-schema", test_store_newer_schema);
  g_test_add_func ("/schema/migrate/check-lists", test_check_lists);
  g_test_add_func ("/schema/migrate/record-writes-unchecked", test_record_writes_unchecked);
  return g_test_run ();
}

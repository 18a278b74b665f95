/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-case-audit.c: the audit log's hash chain in a real encrypted store:
 * a whole log verifies, through the library and `hearth-cli audit verify`;
 * an edited, removed, reordered or truncated entry is found and named
 * (exit 4); entries with a multi-line field are refused. The hash is the
 * one PROTOCOL.md section 6.2 pins (a fixed vector); `fields` of one
 * entry per user action reads back as the records it names, is bounded,
 * and entries of the case store continue a chain of the older form; a
 * writer's kept statements append like the one-off path.
 */
#include "test-util.h"
#include "case-audit.h"
#include "case-store.h"

#include <string.h>

#define ENTRIES 20

/* A store whose log holds ENTRIES entries, closed; returns its folder. */
static char *
store_with_log (const char *name)
{
  char *dir = test_create_store (name, NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);

  test_exec (db, "BEGIN");
  for (guint i = 1; i <= ENTRIES; i++)
    {
      g_autofree char *record = g_strdup_printf ("00000000-0000-4000-8000-%012u", i);
      HearthAuditEntry e = { .actor = "worker-1", .device_id = "tablet-a",
                             .action = i == 1 ? "create" : "update", .record_table = "households",
                             .record_id = record, .fields = "risk_level next_visit_date" };
      g_autoptr(GError) error = NULL;
      gint64 seq = 0;

      g_assert_true (hearth_audit_append (db, &e, &seq, &error));
      g_assert_no_error (error);
      g_assert_cmpint (seq, ==, i);
    }
  test_exec (db, "COMMIT");
  return dir;
}

static char *
passphrase_file (void)
{
  g_autofree char *dir = test_make_dir ("audit-pass");
  char *path = g_build_filename (dir, "pass", NULL);

  g_assert_true (g_file_set_contents (path, TEST_PASSPHRASE "\n", -1, NULL));
  return path;
}

static void
verify_cli (const char *dir, const char *pass, int status, const char *fragment)
{
  g_auto(TestRun) r = { 0 };

  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "audit", "verify", NULL);
  g_assert_cmpint (r.status, ==, status);
  g_assert_nonnull (strstr (status == 0 ? r.out : r.err, fragment));
}

static void
test_intact (void)
{
  g_autofree char *dir = store_with_log ("audit-intact");
  g_autofree char *pass = passphrase_file ();
  g_autoptr(HearthStore) store = test_open_store (dir);
  g_autoptr(GError) error = NULL;
  gint64 checked = 0;

  g_assert_true (hearth_audit_verify (hearth_store_get_db (store), &checked, &error));
  g_assert_no_error (error);
  g_assert_cmpint (checked, ==, ENTRIES);
  g_clear_object (&store);
  verify_cli (dir, pass, 0, "20 entries");
}

/* Each tampering, on its own copy of the store, through SQL as someone
 * with the key could do it. */
static void
test_tampering (void)
{
  g_autofree char *pass = passphrase_file ();
  static const struct { const char *what, *sql, *fragment; } cases[] = {
    { "edited", "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 7", "entry 7 was changed" },
    { "edited fields", "UPDATE audit_log SET fields = 'risk_level' WHERE seq = 12", "entry 12 was changed" },
    { "removed", "DELETE FROM audit_log WHERE seq = 5", "entry 5 is missing" },
    { "reordered", "UPDATE audit_log SET seq = -3 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4;"
                   "UPDATE audit_log SET seq = 4 WHERE seq = -3", "entry 3 does not follow entry 2" },
    { "truncated", "DELETE FROM audit_log WHERE seq > 17", "18 to 20 were removed from the end" },
    { "rewritten head", "UPDATE store_meta SET value = '20 " "00" "' WHERE key = 'audit_head'", "head" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *dir = store_with_log (cases[i].what);
      g_autoptr(GError) error = NULL;

      {
        g_autoptr(HearthStore) store = test_open_store (dir);
        sqlite3 *db = hearth_store_get_db (store);

        test_exec (db, cases[i].sql);
        g_assert_false (hearth_audit_verify (db, NULL, &error));
        g_assert_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_BROKEN);
        g_test_message ("%s: %s", cases[i].what, error->message);
        g_assert_nonnull (strstr (error->message, cases[i].fragment));
      }
      verify_cli (dir, pass, 4, cases[i].fragment);
    }
}

static void
test_refused_entries (void)
{
  g_autofree char *dir = test_create_store ("audit-refused", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  g_autoptr(GError) error = NULL;
  HearthAuditEntry two_lines = { .actor = "a\nb", .device_id = "d", .action = "x", .record_table = "t",
                                 .record_id = "r" };
  HearthAuditEntry no_record = { .actor = "a", .device_id = "d", .action = "x", .record_table = "t",
                                 .record_id = "" };

  g_assert_false (hearth_audit_append (hearth_store_get_db (store), &two_lines, NULL, &error));
  g_assert_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (hearth_audit_append (hearth_store_get_db (store), &no_record, NULL, &error));
  g_assert_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_INVALID);
  g_clear_error (&error);
  /* An empty log is intact. */
  g_assert_true (hearth_audit_verify (hearth_store_get_db (store), NULL, &error));
  g_assert_no_error (error);
}

/* The hash format is the one devices and centers have always used: the
 * vector was computed with the code of before one entry per action. */
static void
test_hash_vector (void)
{
  const char *const fields[8] = {
    "11111111-2222-4333-8444-000000000009", "2026-03-05T02:00:00Z", "worker-1", "tablet-a", "record", "submissions",
    "11111111-2222-4333-8444-000000000002",
    "hearth_household_visit households/5b0e7c1e-2d4f-4a8b-9c3d-000000000001:entity_version,risk_level",
  };
  char hash[65];

  hearth_audit_entry_hash (HEARTH_AUDIT_GENESIS, 1, fields, hash);
  g_assert_cmpstr (hash, ==, "dbcf041cda64038ae03a53f26d26723922f55ee08ac31a023bd4d6a2571a73a2");
}

static void
test_entry_records (void)
{
  g_autoptr(GPtrArray) old = hearth_audit_entry_records ("households", "H", "risk_level next_visit_date");
  g_autoptr(GPtrArray) none = hearth_audit_entry_records ("households", "H", NULL);
  g_autoptr(GPtrArray) visit = hearth_audit_entry_records (
    "submissions", "S", "hearth_household_visit households/H:entity_version,risk_level tasks/T1:closed_by,status "
                        "reviews/R:from_state,to_state,comment tasks/T2");
  g_autoptr(GPtrArray) others_only = hearth_audit_entry_records ("households", "H", "members/M:name");
  HearthAuditRecord *r;

  /* An entry of the older form: its own record's fields. */
  g_assert_cmpuint (old->len, ==, 1);
  r = old->pdata[0];
  g_assert_cmpstr (r->table, ==, "households");
  g_assert_cmpstr (r->id, ==, "H");
  g_assert_true (test_audit_fields_are (r, "risk_level next_visit_date"));
  g_assert_cmpuint (none->len, ==, 1);
  g_assert_cmpuint (g_strv_length (((HearthAuditRecord *) none->pdata[0])->fields), ==, 0);

  /* One per action: its own record first, then the others in order. */
  g_assert_cmpuint (visit->len, ==, 5);
  g_assert_true (test_audit_fields_are (visit->pdata[0], "hearth_household_visit"));
  r = visit->pdata[1];
  g_assert_cmpstr (r->table, ==, "households");
  g_assert_cmpstr (r->id, ==, "H");
  g_assert_true (test_audit_fields_are (r, "entity_version risk_level"));
  g_assert_true (test_audit_fields_are (test_audit_find (visit, "tasks", "T1"), "closed_by status"));
  g_assert_true (test_audit_fields_are (test_audit_find (visit, "reviews", "R"), "from_state to_state comment"));
  g_assert_cmpuint (g_strv_length (test_audit_find (visit, "tasks", "T2")->fields), ==, 0);
  g_assert_cmpuint (others_only->len, ==, 2);
  g_assert_cmpuint (g_strv_length (((HearthAuditRecord *) others_only->pdata[0])->fields), ==, 0);
  g_assert_true (test_audit_fields_are (test_audit_find (others_only, "members", "M"), "name"));
}

/* `fields` holds up to HEARTH_AUDIT_MAX_FIELDS_TEXT bytes, the others up
 * to HEARTH_AUDIT_MAX_FIELD; a line break nowhere. */
static void
test_fields_bound (void)
{
  g_autofree char *dir = test_create_store ("audit-bound", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  g_autoptr(GError) error = NULL;
  g_autofree char *widest = g_strnfill (HEARTH_AUDIT_MAX_FIELDS_TEXT, 'f');
  g_autofree char *too_wide = g_strnfill (HEARTH_AUDIT_MAX_FIELDS_TEXT + 1, 'f');
  g_autofree char *long_action = g_strnfill (HEARTH_AUDIT_MAX_FIELD + 1, 'a');
  HearthAuditEntry e = { .actor = "worker-1", .device_id = "tablet-a", .action = "record",
                         .record_table = "submissions", .record_id = "S", .fields = widest };

  g_assert_true (hearth_audit_append (db, &e, NULL, &error));
  g_assert_no_error (error);
  e.fields = too_wide;
  g_assert_false (hearth_audit_append (db, &e, NULL, &error));
  g_assert_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_INVALID);
  g_clear_error (&error);
  e.fields = "a households/H:x\ntasks/T:y";
  g_assert_false (hearth_audit_append (db, &e, NULL, &error));
  g_assert_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_INVALID);
  g_clear_error (&error);
  e.fields = NULL;
  e.action = long_action;
  g_assert_false (hearth_audit_append (db, &e, NULL, &error));
  g_assert_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log"), ==, 1);
  g_assert_true (hearth_audit_verify (db, NULL, &error));
  g_assert_no_error (error);
}

/* A log of the older form (one entry per record written) goes on with
 * the case store's entries, one per action, and stays whole. */
static void
test_old_chain_continues (void)
{
  g_autofree char *dir = store_with_log ("audit-continues");
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseStore) cases = hearth_case_store_new (store, "clerk-1", &error);
  g_autoptr(GHashTable) fields = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) records = NULL;
  g_autofree char *action = NULL;
  const char *id = "5b0e7c1e-2d4f-4a8b-9c3d-000000000001";
  gint64 checked = 0;
  guint changed = 0;

  g_assert_no_error (error);
  g_hash_table_insert (fields, (char *) "address", (char *) "大新庄村三组 12 号");
  g_hash_table_insert (fields, (char *) "village_code", (char *) "150422100202");
  g_assert_true (hearth_case_write (cases, "households", id, TRUE, fields, "create", &changed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (changed, ==, 2);
  /* Writing the same values again is no action: no entry. */
  g_assert_true (hearth_case_write (cases, "households", id, FALSE, fields, "update", &changed, &error));
  g_assert_cmpuint (changed, ==, 0);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log"), ==, ENTRIES + 1);
  /* A plain write is one record: its entry reads as before. */
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log WHERE seq = 21 AND action = 'create' "
                                       "AND record_table = 'households' AND fields = 'address village_code' "
                                       "AND prev_hash = (SELECT hash FROM audit_log WHERE seq = 20)"), ==, 1);
  records = test_audit_entry (db, 0, &action);
  g_assert_cmpuint (records->len, ==, 1);
  g_assert_cmpstr (((HearthAuditRecord *) records->pdata[0])->id, ==, id);
  g_assert_true (hearth_audit_verify (db, &checked, &error));
  g_assert_no_error (error);
  g_assert_cmpint (checked, ==, ENTRIES + 1);
}

/* A writer keeps its statements across entries: it reads the head each
 * time (entries appended another way between its own continue the same
 * chain), an insert the database refuses leaves it usable, it follows a
 * schema change, and once freed the store closes. */
static void
test_writer (void)
{
  g_autofree char *dir = store_with_log ("audit-writer");
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  g_autoptr(HearthAuditWriter) writer = hearth_audit_writer_new (db);
  g_autoptr(GError) error = NULL;
  HearthAuditEntry e = { .actor = "worker-1", .device_id = "tablet-a", .action = "record",
                         .record_table = "submissions", .record_id = "S", .fields = "hearth_household_visit" };
  gint64 seq = 0, checked = 0;

  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (hearth_audit_writer_append (writer, &e, &seq, &error));
      g_assert_no_error (error);
      g_assert_cmpint (seq, ==, ENTRIES + 1 + 2 * i);
      g_assert_true (hearth_audit_append (db, &e, &seq, &error));
      g_assert_cmpint (seq, ==, ENTRIES + 2 + 2 * i);
    }
  test_exec (db, "CREATE TEMP TRIGGER refuse BEFORE INSERT ON audit_log BEGIN SELECT RAISE (ABORT, 'refused'); END");
  g_assert_false (hearth_audit_writer_append (writer, &e, NULL, &error));
  g_assert_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_SQLITE);
  g_assert_nonnull (strstr (error->message, "refused"));
  g_clear_error (&error);
  test_exec (db, "DROP TRIGGER refuse");
  test_exec (db, "CREATE INDEX audit_log_by_actor ON audit_log (actor)");
  g_assert_true (hearth_audit_writer_append (writer, &e, &seq, &error));
  g_assert_no_error (error);
  g_assert_cmpint (seq, ==, ENTRIES + 7);
  g_assert_true (hearth_audit_verify (db, &checked, &error));
  g_assert_no_error (error);
  g_assert_cmpint (checked, ==, ENTRIES + 7);
  g_clear_pointer (&writer, hearth_audit_writer_free);
  g_assert_null (sqlite3_next_stmt (db, NULL));
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/case/audit/hash-vector", test_hash_vector);
  g_test_add_func ("/case/audit/entry-records", test_entry_records);
  g_test_add_func ("/case/audit/fields-bound", test_fields_bound);
  g_test_add_func ("/case/audit/old-chain-continues", test_old_chain_continues);
  g_test_add_func ("/case/audit/writer", test_writer);
  g_test_add_func ("/case/audit/intact", test_intact);
  g_test_add_func ("/case/audit/tampering", test_tampering);
  g_test_add_func ("/case/audit/refused-entries", test_refused_entries);
  return g_test_run ();
}

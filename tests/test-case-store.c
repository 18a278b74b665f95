/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-case-store.c: recording the bundled forms into a real encrypted
 * store. A registration creates the household, its members and its first
 * follow-up task; a visit that finds a risk updates the household's
 * properties through entities:saveto, records the risk level, replaces the
 * follow-up task with one due on the form's next_visit_date and moves the
 * household to village review with a review record; recording it again
 * changes nothing; a visit for an unknown household leaves nothing behind;
 * every change is stamped and audited, one audit entry per user action (a
 * registration, a visit, a move) naming every record and field it wrote,
 * and the audit chain verifies.
 * Assistance measures: added by the county with its approval, listed in
 * the case instance the follow-up form is filled with, updated by the
 * recorded follow-up, ended by the clerk; refused to a worker and for an
 * unknown type.
 */
#include "test-util.h"
#include "case-audit.h"
#include "case-store.h"
#include "case-labels.h"
#include "form-model.h"

#include <glib/gstdio.h>
#include <libxml/tree.h>
#include <string.h>

#define NOW "2026-03-05T10:00:00+08:00"
#define REGISTRATION_ID "11111111-2222-4333-8444-000000000001"
#define VISIT_ID "11111111-2222-4333-8444-000000000002"

static gint64
fixed_ms (gpointer data)
{
  return 1772676000000;  /* 2026-03-05T02:00:00Z */
}

static char *
query_text (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  char *value = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_text (st, 0) != NULL)
    value = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return value;
}

static void
test_registration_then_visit (void)
{
  g_autofree char *dir = test_create_store ("case-store", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseStore) cases = hearth_case_store_new (store, "worker-1", &error);
  g_autoptr(HearthForm) registration = test_load_bundled_form ("household-registration.xml");
  g_autoptr(HearthForm) visit = test_load_bundled_form ("household-visit.xml");
  g_autofree char *reg_xml = test_fill_bundled ("household-registration.xml", "registration-zh.json", NOW, REGISTRATION_ID);
  g_autofree char *visit_xml = test_fill_bundled ("household-visit.xml", "visit-zh.json", NOW, VISIT_ID);
  g_autofree char *household = NULL;
  g_autofree char *recorded = NULL;
  g_autofree char *again = NULL;
  gint64 audit_entries, checked = 0;

  g_assert_no_error (error);
  hearth_case_store_set_wall_clock (cases, fixed_ms, NULL);

  /* Registration: the household, five members, a first follow-up. */
  recorded = hearth_case_record_submission (cases, registration, reg_xml, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (recorded, ==, REGISTRATION_ID);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM households"), ==, 1);
  household = query_text (db, "SELECT id FROM households");
  {
    g_autofree char *head = query_text (db, "SELECT head_id_number FROM households");
    g_autofree char *village = query_text (db, "SELECT village_code FROM households");
    g_autofree char *status = query_text (db, "SELECT monitoring_status FROM households");
    g_assert_cmpstr (head, ==, "150422196803150038");
    g_assert_cmpuint (strlen (village), ==, 12);
    g_assert_cmpstr (status, ==, "none");
  }
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM members"), ==, 5);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM tasks WHERE status = 'open' "
                                       "AND due_date = '2026-03-08'"), ==, 1);
  /* Every written field has a clock stamp. */
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM field_versions WHERE record_table = 'households'"),
                   >=, 8);
  /* One version a write of a record, for all the fields it wrote (it
   * travels as one change, PROTOCOL.md 6.1), never shared by two records;
   * the clock's kept stamp is the newest issued (kept once a write), so a
   * restarted clock issues none twice. */
  g_assert_cmpint (test_query_int (db, "SELECT count(DISTINCT hlc) < count(*) FROM field_versions"), ==, 1);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM (SELECT hlc FROM field_versions GROUP BY hlc "
                                       "HAVING count(DISTINCT record_table || ' ' || record_id) > 1)"), ==, 0);
  g_assert_cmpint (test_query_int (db, "SELECT value = (SELECT max (hlc) FROM field_versions) FROM store_meta "
                                       "WHERE key = 'hlc_last'"), ==, 1);
  /* One user action, one audit entry: the submission's, naming its form,
   * the household, its five members and the task with their fields. */
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log"), ==, 1);
  {
    g_autofree char *action = NULL;
    g_autoptr(GPtrArray) records = test_audit_entry (db, 0, &action);
    HearthAuditRecord *own = records->pdata[0];
    g_autofree char *task = query_text (db, "SELECT id FROM tasks");

    g_assert_cmpstr (action, ==, "record");
    g_assert_cmpstr (own->table, ==, "submissions");
    g_assert_cmpstr (own->id, ==, REGISTRATION_ID);
    g_assert_true (test_audit_fields_are (own, "hearth_household_registration"));
    g_assert_cmpuint (records->len, ==, 1 + 1 + 5 + 1);
    g_assert_nonnull (test_audit_find (records, "households", household));
    g_assert_true (g_strv_contains ((const char *const *) test_audit_find (records, "households", household)->fields,
                                    "head_id_number"));
    g_assert_true (test_audit_fields_are (test_audit_find (records, "tasks", task),
                                          "assignee due_date household_id kind opened_by reason"));
    for (guint i = 2; i < 7; i++)
      {
        HearthAuditRecord *m = records->pdata[i];
        g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM members WHERE id = '%s'", m->id);
        g_assert_cmpstr (m->table, ==, "members");
        g_assert_cmpint (test_query_int (db, sql), ==, 1);
        g_assert_true (g_strv_contains ((const char *const *) m->fields, "name"));
      }
  }

  /* The visit finds an orange risk. */
  g_free (recorded);
  recorded = hearth_case_record_submission (cases, visit, visit_xml, household, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (recorded, ==, VISIT_ID);
  {
    g_autofree char *level = query_text (db, "SELECT risk_level FROM households");
    g_autofree char *by = query_text (db, "SELECT risk_submission FROM households");
    g_autofree char *status = query_text (db, "SELECT monitoring_status FROM households");
    g_autofree char *next = query_text (db, "SELECT next_visit_date FROM households");
    g_assert_cmpstr (level, ==, "orange");
    g_assert_cmpstr (by, ==, VISIT_ID);
    g_assert_cmpstr (status, ==, "pending_village_review");
    g_assert_cmpstr (next, ==, "2026-03-12");
  }
  g_assert_cmpint (test_query_int (db, "SELECT entity_version FROM households"), ==, 2);
  /* The visit is one user action, one audit entry (the changes on the
   * wire a visit makes): the submission's, naming the household with its
   * new version, risk and state, the follow-up task it closed, the one it
   * opened and the review of the move to village review. */
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log"), ==, 2);
  {
    g_autofree char *action = NULL;
    g_autoptr(GPtrArray) records = test_audit_entry (db, 0, &action);
    HearthAuditRecord *own = records->pdata[0];
    g_autofree char *closed = query_text (db, "SELECT id FROM tasks WHERE status = 'done'");
    g_autofree char *opened = query_text (db, "SELECT id FROM tasks WHERE status = 'open'");
    g_autofree char *review = query_text (db, "SELECT id FROM reviews");
    HearthAuditRecord *h;

    g_assert_cmpstr (action, ==, "record");
    g_assert_cmpstr (own->table, ==, "submissions");
    g_assert_cmpstr (own->id, ==, VISIT_ID);
    g_assert_true (test_audit_fields_are (own, "hearth_household_visit"));
    h = test_audit_find (records, "households", household);
    g_assert_nonnull (h);
    for (const char *const *f = (const char *const[]) { "entity_version", "risk_level", "risk_submission",
                                                        "next_visit_date", "monitoring_status", NULL };
         *f != NULL; f++)
      g_assert_true (g_strv_contains ((const char *const *) h->fields, *f));
    g_assert_true (test_audit_fields_are (test_audit_find (records, "tasks", closed), "closed_by status"));
    g_assert_true (test_audit_fields_are (test_audit_find (records, "tasks", opened),
                                          "assignee due_date household_id kind opened_by reason"));
    g_assert_true (test_audit_fields_are (test_audit_find (records, "reviews", review),
                                          "from_state to_state comment"));
    g_assert_cmpuint (records->len, ==, 5);
  }
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM reviews WHERE to_state = 'pending_village_review' "
                                       "AND from_state = 'none' AND role = 'worker'"), ==, 1);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM tasks WHERE status = 'open'"), ==, 1);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM tasks WHERE status = 'open' "
                                       "AND due_date = '2026-03-12'"), ==, 1);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM tasks WHERE status = 'done'"), ==, 1);
  /* A changed field's version names the one it replaced. */
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM field_versions WHERE record_table = 'households' "
                                       "AND field = 'next_visit_date' AND base_hlc != ''"), ==, 1);

  /* Recording the same visit again changes nothing. */
  audit_entries = test_query_int (db, "SELECT count(*) FROM audit_log");
  again = hearth_case_record_submission (cases, visit, visit_xml, household, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, VISIT_ID);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log"), ==, audit_entries);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM submissions"), ==, 2);

  /* The audit names fields, never values, and its chain is whole. */
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log WHERE fields LIKE '%黄%' "
                                       "OR fields LIKE '%1504%'"), ==, 0);
  g_assert_true (hearth_audit_verify (db, &checked, &error));
  g_assert_no_error (error);
  g_assert_cmpint (checked, ==, audit_entries);
}

static void
move (HearthCaseStore *cases, const char *household, HearthRole role, const char *action, const char *comment,
      const char *expected_state)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *state = NULL;

  g_assert_true (hearth_case_transition (cases, household, role, action, comment, &state, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (state, ==, expected_state);
}

static void
refused (HearthCaseStore *cases, const char *household, HearthRole role, const char *action, const char *comment,
         const char *fragment)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (hearth_case_transition (cases, household, role, action, comment, NULL, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_REFUSED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, fragment));
}

/* The whole workflow of ../shared/INTERFACES.md, each move by its role,
 * the wrong roles refused. */
static void
test_workflow (void)
{
  g_autofree char *dir = test_create_store ("case-workflow", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseStore) worker = hearth_case_store_new (store, "worker-1", &error);
  g_autoptr(HearthCaseStore) clerk = hearth_case_store_new (store, "clerk-1", &error);
  g_autoptr(HearthCaseStore) county = hearth_case_store_new (store, "county-1", &error);
  g_autoptr(HearthForm) registration = test_load_bundled_form ("household-registration.xml");
  g_autoptr(HearthForm) visit = test_load_bundled_form ("household-visit.xml");
  g_autofree char *reg_xml = test_fill_bundled ("household-registration.xml", "registration-zh.json", NOW, REGISTRATION_ID);
  g_autofree char *visit_xml = test_fill_bundled ("household-visit.xml", "visit-zh.json", NOW, VISIT_ID);
  g_autofree char *revisit_xml = test_fill_bundled ("household-visit.xml", "visit-en.json", NOW, "11111111-2222-4333-8444-000000000003");
  g_autofree char *household = NULL;
  g_autofree char *id = NULL;

  g_assert_no_error (error);
  hearth_case_store_set_wall_clock (worker, fixed_ms, NULL);
  hearth_case_store_set_wall_clock (clerk, fixed_ms, NULL);
  hearth_case_store_set_wall_clock (county, fixed_ms, NULL);
  id = hearth_case_record_submission (worker, registration, reg_xml, NULL, &error);
  g_assert_no_error (error);
  household = query_text (db, "SELECT id FROM households");
  g_free (id);
  id = hearth_case_record_submission (worker, visit, visit_xml, household, &error);
  g_assert_no_error (error);

  /* Village review: only the clerk decides; a return needs a comment. */
  refused (worker, household, HEARTH_ROLE_WORKER, "approve", NULL,
           "Village worker: “Approve” is not allowed on a case that is “Waiting for village review”");
  refused (county, household, HEARTH_ROLE_COUNTY, "approve", NULL, "“Waiting for village review”");
  refused (clerk, household, HEARTH_ROLE_CLERK, "return", "  ", "“Return for correction” needs a comment");
  move (clerk, household, HEARTH_ROLE_CLERK, "return", "收入核实有误", "returned");
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM tasks WHERE kind = 'correction' AND status = 'open' "
                                       "AND assignee = 'worker-1'"), ==, 1);
  /* The return is one audit entry: the household's, naming its review
   * and the correction task. */
  {
    g_autofree char *action = NULL;
    g_autoptr(GPtrArray) records = test_audit_entry (db, 0, &action);
    g_autofree char *task = query_text (db, "SELECT id FROM tasks WHERE kind = 'correction'");
    g_autofree char *review = query_text (db, "SELECT id FROM reviews WHERE to_state = 'returned'");

    g_assert_cmpstr (action, ==, "return");
    g_assert_cmpstr (((HearthAuditRecord *) records->pdata[0])->id, ==, household);
    g_assert_true (test_audit_fields_are (records->pdata[0], "monitoring_status"));
    g_assert_nonnull (test_audit_find (records, "reviews", review));
    g_assert_true (test_audit_fields_are (test_audit_find (records, "tasks", task),
                                          "assignee due_date household_id kind reason"));
    g_assert_cmpuint (records->len, ==, 3);
  }

  /* The worker's revisit sends it back to review and closes the correction. */
  g_free (id);
  id = hearth_case_record_submission (worker, visit, revisit_xml, household, &error);
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM tasks WHERE kind = 'correction' AND status = 'done'"),
                   ==, 1);
  {
    g_autofree char *state = query_text (db, "SELECT monitoring_status FROM households");
    g_assert_cmpstr (state, ==, "pending_village_review");
  }

  move (clerk, household, HEARTH_ROLE_CLERK, "approve", NULL, "pending_county_approval");
  refused (clerk, household, HEARTH_ROLE_CLERK, "approve", NULL, "Village clerk: “Approve” is not allowed");
  move (county, household, HEARTH_ROLE_COUNTY, "approve", NULL, "monitored");

  /* Elimination: proposed by the worker, the clerk before the county. */
  refused (clerk, household, HEARTH_ROLE_CLERK, "propose-elimination", NULL, "clerk");
  move (worker, household, HEARTH_ROLE_WORKER, "propose-elimination", NULL, "pending_elimination");
  refused (county, household, HEARTH_ROLE_COUNTY, "approve", NULL, "clerk approves an elimination before");
  move (clerk, household, HEARTH_ROLE_CLERK, "approve", NULL, "pending_elimination");
  move (county, household, HEARTH_ROLE_COUNTY, "approve", NULL, "risk_eliminated");
  {
    g_autofree char *on = query_text (db, "SELECT eliminated_on FROM households");
    g_assert_cmpstr (on, ==, "2026-03-05");
  }
  refused (worker, household, HEARTH_ROLE_WORKER, "revert", NULL, "worker");
  move (county, household, HEARTH_ROLE_COUNTY, "revert", NULL, "monitored");

  /* Every move is a review record with who, role and from/to. */
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM reviews"), ==, 9);
  /* Two visits, seven moves, the registration: one audit entry each. */
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log"), ==, 1 + 2 + 7);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM reviews WHERE role = 'county' AND actor = 'county-1'"),
                   ==, 3);
  {
    g_autoptr(GError) e = NULL;
    g_assert_false (hearth_case_transition (clerk, household, HEARTH_ROLE_CLERK, "bless", NULL, NULL, &e));
    g_assert_error (e, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  }
  g_assert_true (hearth_audit_verify (db, NULL, &error));
  g_assert_no_error (error);
}

/* A visit for a household the store does not hold: nothing is written. */
static void
test_all_or_nothing (void)
{
  g_autofree char *dir = test_create_store ("case-store-atomic", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseStore) cases = hearth_case_store_new (store, "worker-1", &error);
  g_autoptr(HearthForm) visit = test_load_bundled_form ("household-visit.xml");
  g_autofree char *visit_xml = test_fill_bundled ("household-visit.xml", "visit-en.json", NOW, VISIT_ID);
  g_autofree char *recorded = NULL;

  recorded = hearth_case_record_submission (cases, visit, visit_xml, "5b0e7c1e-2d4f-4a8b-9c3d-000000000000", &error);
  g_assert_null (recorded);
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM submissions"), ==, 0);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM tasks"), ==, 0);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log"), ==, 0);
  g_clear_error (&error);

  /* Another form's submission, or garbage, is refused. */
  {
    g_autoptr(HearthForm) registration = test_load_bundled_form ("household-registration.xml");
    g_assert_null (hearth_case_record_submission (cases, registration, visit_xml, NULL, &error));
    g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SUBMISSION);
    g_clear_error (&error);
    g_assert_null (hearth_case_record_submission (cases, registration, "<data", NULL, &error));
    g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SUBMISSION);
  }
}

static void
test_write_refusals (void)
{
  g_autofree char *dir = test_create_store ("case-store-write", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseStore) cases = hearth_case_store_new (store, "clerk-1", &error);
  g_autoptr(GHashTable) fields = g_hash_table_new (g_str_hash, g_str_equal);
  const char *id = "aaaaaaaa-2222-4333-8444-555555555555";
  guint changed = 0;

  g_hash_table_insert (fields, (char *) "village_code", (char *) "150422100203");
  g_hash_table_insert (fields, (char *) "head_name", (char *) "王五");
  g_assert_true (hearth_case_write (cases, "households", id, TRUE, fields, "create", &changed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (changed, ==, 2);
  /* The same values again: nothing changes, nothing is stamped. */
  g_assert_true (hearth_case_write (cases, "households", id, FALSE, fields, "update", &changed, &error));
  g_assert_cmpuint (changed, ==, 0);
  /* The workflow's state is not a field callers write. */
  g_hash_table_insert (fields, (char *) "monitoring_status", (char *) "monitored");
  g_assert_false (hearth_case_write (cases, "households", id, FALSE, fields, "update", NULL, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "monitoring_status"));
  g_clear_error (&error);
  g_hash_table_remove (fields, "monitoring_status");
  /* A bad village code is refused by the table. */
  g_hash_table_insert (fields, (char *) "village_code", (char *) "1504");
  g_assert_false (hearth_case_write (cases, "households", id, FALSE, fields, "update", NULL, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (hearth_case_write (cases, "nosuch", id, FALSE, fields, "update", NULL, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (hearth_case_write (cases, "households", "not-a-uuid", FALSE, fields, "update", NULL, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (hearth_case_write (cases, "households", "bbbbbbbb-2222-4333-8444-555555555555", FALSE, fields,
                                     "update", NULL, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND);
}

/* The same story through hearth-cli: init with a user and role, visit
 * record (registration by bundled form id, then a visit that reads the
 * household from the store), household list, tasks, a refused review. */
static void
test_cli (void)
{
  g_autofree char *parent = test_make_dir ("case-cli");
  g_autofree char *dir = g_build_filename (parent, "store", NULL);
  g_autofree char *pass = g_build_filename (parent, "pass", NULL);
  g_autofree char *reg = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "answers",
                                           "registration-zh.json", NULL);
  g_autofree char *vis = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "answers",
                                           "visit-zh.json", NULL);
  g_autofree char *household = NULL;
  g_auto(TestRun) r = { 0 };

  g_assert_true (g_file_set_contents (pass, TEST_PASSPHRASE "\n", -1, NULL));
  g_assert_cmpint (g_chmod (pass, 0600), ==, 0);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "init", "--kdf", "test",
                "--user", "worker-1", "--role", "worker", NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "--json", "visit", "record",
                "--form", "hearth_household_registration", "--answers", reg, "--now", NOW, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "\"next_visit_date\" : \"2026-03-08\""));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "list", "--search", "黄", NULL);
  g_assert_cmpint (r.status, ==, 0);
  household = g_strndup (r.out, 36);
  g_assert_true (g_uuid_string_is_valid (household));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "visit", "record", "--form",
                "hearth_household_visit", "--answers", vis, "--household", household, "--now", NOW, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Orange risk"));
  g_assert_nonnull (strstr (r.out, "Waiting for village review"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "--json", "tasks", "--today", "2026-03-13",
                NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "\"urgency\" : \"overdue\""));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "review", "approve", household, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "Village worker: “Approve” is not allowed"));
  test_run_clear (&r);
  /* A worker's list holds returned cases only: none yet. */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "--json", "review", "list", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_null (strstr (r.out, household));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "audit", "verify", NULL);
  g_assert_cmpint (r.status, ==, 0);

  /* A clerk's store (until sync brings the worker's visits, the clerk
   * records them here): the case waits in the clerk's list, and the
   * clerk's approval moves it on. */
  {
    g_autofree char *clerk_dir = g_build_filename (parent, "clerk", NULL);
    g_autofree char *clerk_household = NULL;

    test_run_clear (&r);
    test_run_cli (&r, NULL, "--data-dir", clerk_dir, "--passphrase-file", pass, "init", "--kdf", "test",
                  "--user", "clerk-1", "--role", "clerk", NULL);
    g_assert_cmpint (r.status, ==, 0);
    test_run_clear (&r);
    test_run_cli (&r, NULL, "--data-dir", clerk_dir, "--passphrase-file", pass, "visit", "record", "--form",
                  "hearth_household_registration", "--answers", reg, "--now", NOW, NULL);
    g_assert_cmpint (r.status, ==, 0);
    test_run_clear (&r);
    test_run_cli (&r, NULL, "--data-dir", clerk_dir, "--passphrase-file", pass, "household", "list", NULL);
    clerk_household = g_strndup (r.out, 36);
    test_run_clear (&r);
    test_run_cli (&r, NULL, "--data-dir", clerk_dir, "--passphrase-file", pass, "visit", "record", "--form",
                  "hearth_household_visit", "--answers", vis, "--household", clerk_household, "--now", NOW, NULL);
    g_assert_cmpint (r.status, ==, 0);
    test_run_clear (&r);
    test_run_cli (&r, NULL, "--data-dir", clerk_dir, "--passphrase-file", pass, "review", "list", NULL);
    g_assert_nonnull (strstr (r.out, clerk_household));
    test_run_clear (&r);
    test_run_cli (&r, NULL, "--data-dir", clerk_dir, "--passphrase-file", pass, "review", "return", clerk_household,
                  NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "comment"));
    test_run_clear (&r);
    test_run_cli (&r, NULL, "--data-dir", clerk_dir, "--passphrase-file", pass, "review", "approve", clerk_household,
                  NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "Waiting for county approval"));
  }
}

/* A registry of three households; the same text as UTF-8, UTF-8 with a
 * BOM and GB18030 imports the same; one bad row imports nothing and is
 * named by its line. */
static const char registry_csv[] =
  "户编号,行政区划代码,住址,监测对象类别,姓名,身份证号,与户主关系,健康状况\r\n"
  "H001,150422100202,大新庄村三组 12 号,0,黄志强,150422196803150038,01,chronic\r\n"
  "H001,150422100202,大新庄村三组 12 号,0,刘桂兰,11010519491231002x,10,healthy\r\n"
  "H002,150422100203,\"兴隆地村, 二组\",1,李建军,360426199101010071,01,healthy\r\n"
  "H003,150422100203,兴隆地村三组,2,王五,440524188001010014,01,\r\n";

static guint
import_text (const char *name, const char *bytes, gsize len, GPtrArray **problems, sqlite3 **db_out,
             HearthStore **store_out)
{
  g_autofree char *dir = test_create_store (name, NULL);
  g_autofree char *file = g_build_filename (dir, "..", "registry.csv", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseStore) cases = NULL;
  HearthStore *store = test_open_store (dir);
  guint households = 0, members = 0;

  g_assert_true (g_file_set_contents (file, bytes, (gssize) len, NULL));
  cases = hearth_case_store_new (store, "clerk-1", &error);
  if (!hearth_case_import_registry (cases, file, &households, &members, problems, NULL, &error))
    g_test_message ("%s", error->message);
  *db_out = hearth_store_get_db (store);
  *store_out = store;
  return households * 100 + members;
}

/* An ID number of 1980-01-01 with sequence @n and its check character
 * (GB 11643: ISO 7064 MOD 11-2). */
static char *
id_number (guint n)
{
  static const int weights[] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
  g_autofree char *first = g_strdup_printf ("15042219800101%03u", n);
  int sum = 0;

  for (int i = 0; i < 17; i++)
    sum += (first[i] - '0') * weights[i];
  return g_strdup_printf ("%s%c", first, "10X98765432"[sum % 11]);
}

/* A household too large for one audit entry: its import continues in
 * further entries of the same action and record, each within the bound,
 * together naming every member once. */
static void
test_import_large_household (void)
{
  g_autoptr(GString) csv = g_string_new ("户编号,行政区划代码,住址,监测对象类别,姓名,身份证号,与户主关系\r\n");
  g_autoptr(GHashTable) named = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *household = NULL;
  sqlite3 *db = NULL;
  HearthStore *store = NULL;
  gint64 entries;
  const guint n = 80;

  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *number = id_number (i);
      g_string_append_printf (csv, "H100,150422100202,大新庄村三组 12 号,0,成员%u,%s,%s\r\n", i, number,
                              i == 1 ? "01" : "20");
    }
  g_assert_cmpuint (import_text ("import-large", csv->str, csv->len, NULL, &db, &store), ==, 100 + n);
  household = query_text (db, "SELECT id FROM households");
  entries = test_query_int (db, "SELECT count(*) FROM audit_log");
  g_test_message ("%u members: %" G_GINT64_FORMAT " entries", n, entries);
  g_assert_cmpint (entries, >, 1);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log WHERE action = 'import' "
                                       "AND record_table = 'households' AND record_id = (SELECT id FROM households) "
                                       "AND length (fields) <= 4096"), ==, entries);
  for (gint64 seq = 1; seq <= entries; seq++)
    {
      g_autoptr(GPtrArray) records = test_audit_entry (db, seq, NULL);
      HearthAuditRecord *own = records->pdata[0];

      g_assert_cmpstr (own->id, ==, household);
      /* The household's own fields in the first entry only. */
      g_assert_cmpint (g_strv_length (own->fields) > 0, ==, seq == 1);
      for (guint k = 1; k < records->len; k++)
        {
          HearthAuditRecord *m = records->pdata[k];
          g_assert_cmpstr (m->table, ==, "members");
          g_assert_true (g_strv_contains ((const char *const *) m->fields, "name"));
          g_assert_true (g_hash_table_add (named, g_strdup (m->id)));
        }
    }
  g_assert_cmpuint (g_hash_table_size (named), ==, n);
  g_assert_true (hearth_audit_verify (db, NULL, &error));
  g_assert_no_error (error);
  g_object_unref (store);
}

/* A registry of more bad rows than the check lists (a registry imported
 * a second time: every ID number already in the store): the count is
 * not given as the bound's, the list says where it stopped; one of fewer
 * bad rows gives their exact count. Nothing is imported either way. */
static void
test_import_many_problems (void)
{
  static const guint counts[] = { HEARTH_REGISTRY_MAX_PROBLEMS + 500, HEARTH_REGISTRY_MAX_PROBLEMS - 1 };

  for (gsize c = 0; c < G_N_ELEMENTS (counts); c++)
    {
      g_autoptr(GString) csv = g_string_new ("户编号,行政区划代码,住址,监测对象类别,姓名,身份证号,与户主关系\r\n");
      g_autoptr(GPtrArray) problems = NULL;
      g_autofree char *name = g_strdup_printf ("import-problems-%u", counts[c]);
      const char *last;
      sqlite3 *db = NULL;
      HearthStore *store = NULL;

      /* Each its own household, with a wrong check character. */
      for (guint i = 1; i <= counts[c]; i++)
        {
          g_autofree char *number = id_number (i);

          number[17] = number[17] == '0' ? '1' : '0';
          g_string_append_printf (csv, "H%u,150422100202,大新庄村,0,户主%u,%s,01\r\n", i, i, number);
        }
      g_assert_cmpuint (import_text (name, csv->str, csv->len, &problems, &db, &store), ==, 0);
      g_assert_nonnull (problems);
      last = problems->pdata[problems->len - 1];
      g_test_message ("%u bad rows: %u problems, the last: %s", counts[c], problems->len, last);
      if (counts[c] > HEARTH_REGISTRY_MAX_PROBLEMS)
        {
          g_assert_cmpuint (problems->len, ==, HEARTH_REGISTRY_MAX_PROBLEMS + 1);
          g_assert_cmpstr (last, ==, "the check stopped after 1000 problems: the rest of the file was not checked");
          g_assert_true (g_str_has_prefix (problems->pdata[HEARTH_REGISTRY_MAX_PROBLEMS - 1], "line 1001: "));
        }
      else
        {
          g_assert_cmpuint (problems->len, ==, counts[c]);
          g_assert_true (g_str_has_prefix (last, "line 1000: "));
        }
      g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM households"), ==, 0);
      g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM members"), ==, 0);
      g_object_unref (store);
    }
}

/* The words a user reads for the workflow's and the follow-up's codes:
 * a measure's progress and effect in the follow-up form's words, also
 * where a change of its fields is listed (the review page), an action as
 * the review names it; a code no table knows shown as it is. */
static void
test_labels (void)
{
  g_autofree char *progress = hearth_label_field_value ("measures", "last_progress", "in_progress");
  g_autofree char *effect = hearth_label_field_value ("measures", "last_effect", "partly");
  g_autofree char *other = hearth_label_field_value ("measures", "last_remark", "in_progress");

  g_assert_cmpstr (hearth_label_progress ("not_started"), ==, "Not started");
  g_assert_cmpstr (hearth_label_effect ("too_early"), ==, "Too early to tell");
  g_assert_cmpstr (hearth_label_action ("propose-elimination"), ==, "Propose removing the risk");
  g_assert_cmpstr (hearth_label_action ("dance"), ==, "dance");
  g_assert_cmpstr (progress, ==, "In progress");
  g_assert_cmpstr (effect, ==, "Partly effective");
  g_assert_cmpstr (other, ==, "in_progress");
}

static void
test_import (void)
{
  g_autofree char *bom = g_strconcat ("\xef\xbb\xbf", registry_csv, NULL);
  gsize gb_len = 0;
  g_autofree char *gb = g_convert (registry_csv, -1, "GB18030", "UTF-8", NULL, &gb_len, NULL);
  g_autoptr(GPtrArray) problems = NULL;
  sqlite3 *db = NULL;
  HearthStore *store = NULL;
  g_autofree char *snapshot = NULL;
  static const char *const sources[] = { "utf8", "bom", "gb18030" };

  g_assert_nonnull (gb);
  g_assert_false (g_utf8_validate (gb, (gssize) gb_len, NULL));  /* really GB18030 bytes */
  for (gsize i = 0; i < G_N_ELEMENTS (sources); i++)
    {
      const char *bytes = i == 0 ? registry_csv : i == 1 ? bom : gb;
      gsize len = i == 2 ? gb_len : strlen (bytes);
      g_autofree char *rows = NULL;

      g_assert_cmpuint (import_text (sources[i], bytes, len, NULL, &db, &store), ==, 304);
      rows = query_text (db, "SELECT group_concat(registry_no || ':' || head_name || ':' || head_id_number || ':' || "
                             "address || ':' || member_count, '|') FROM (SELECT * FROM households ORDER BY registry_no)");
      g_test_message ("%s: %s", sources[i], rows);
      if (snapshot == NULL)
        snapshot = g_strdup (rows);
      g_assert_cmpstr (rows, ==, snapshot);
      /* The lowercase x is normalised; sex and birth date come from the number. */
      g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM members WHERE id_number = '11010519491231002X' "
                                           "AND sex = '2' AND birth_date = '1949-12-31'"), ==, 1);
      /* One audit entry per household, naming its members. */
      g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log WHERE action = 'import' "
                                           "AND record_table = 'households' "
                                           "AND record_id IN (SELECT id FROM households)"), ==, 3);
      g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log"), ==, 3);
      {
        g_autofree char *h001 = query_text (db, "SELECT seq FROM audit_log WHERE record_id = "
                                                "(SELECT id FROM households WHERE registry_no = 'H001')");
        g_autoptr(GPtrArray) records = test_audit_entry (db, g_ascii_strtoll (h001, NULL, 10), NULL);

        g_assert_cmpuint (records->len, ==, 3);
        g_assert_true (g_strv_contains ((const char *const *) ((HearthAuditRecord *) records->pdata[0])->fields,
                                        "head_id_number"));
        for (guint k = 1; k < 3; k++)
          {
            HearthAuditRecord *m = records->pdata[k];
            g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM members WHERE id = '%s' AND household_id = "
                                                    "(SELECT id FROM households WHERE registry_no = 'H001')", m->id);
            g_assert_cmpstr (m->table, ==, "members");
            g_assert_cmpint (test_query_int (db, sql), ==, 1);
            g_assert_true (g_strv_contains ((const char *const *) m->fields, "id_number"));
          }
      }
      g_object_unref (store);
    }
  g_assert_nonnull (strstr (snapshot, "H002:李建军:360426199101010071:兴隆地村, 二组:1"));

  /* Through hearth-cli: the counts, then the same file refused as already there. */
  {
    g_autofree char *parent = test_make_dir ("import-cli");
    g_autofree char *dir = g_build_filename (parent, "store", NULL);
    g_autofree char *pass = g_build_filename (parent, "pass", NULL);
    g_autofree char *file = g_build_filename (parent, "registry.csv", NULL);
    g_auto(TestRun) r = { 0 };

    g_assert_true (g_file_set_contents (pass, TEST_PASSPHRASE "\n", -1, NULL));
    g_assert_cmpint (g_chmod (pass, 0600), ==, 0);
    g_assert_true (g_file_set_contents (file, gb, (gssize) gb_len, NULL));
    test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "init", "--kdf", "test", NULL);
    test_run_clear (&r);
    test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "import", file, NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "3 households with 4 members"));
    test_run_clear (&r);
    test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "import", file, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "already in the store"));
  }

  /* One bad row (a wrong check character on line 4): nothing imported. */
  {
    g_autoptr(GString) bad = g_string_new (registry_csv);
    g_string_replace (bad, "360426199101010071", "360426199101010072", 1);
    g_assert_cmpuint (import_text ("bad-row", bad->str, bad->len, &problems, &db, &store), ==, 0);
    g_assert_nonnull (problems);
    g_assert_cmpuint (problems->len, ==, 1);
    g_test_message ("%s", (char *) problems->pdata[0]);
    g_assert_true (g_str_has_prefix (problems->pdata[0], "line 4: "));
    g_assert_nonnull (strstr (problems->pdata[0], "check character"));
    g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM households"), ==, 0);
    g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM members"), ==, 0);
    g_object_unref (store);
    g_clear_pointer (&problems, g_ptr_array_unref);
  }
  /* Right check characters, but no province's code first (break33:
   * imported). */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GString) bad = g_string_new (registry_csv);

      g_string_replace (bad, "360426199101010071", i == 0 ? "000000199101010074" : "990426199101010079", 1);
      g_assert_cmpuint (import_text ("bad-province", bad->str, bad->len, &problems, &db, &store), ==, 0);
      g_assert_cmpuint (problems->len, ==, 1);
      g_assert_true (g_str_has_prefix (problems->pdata[0], "line 4: "));
      g_assert_nonnull (strstr (problems->pdata[0], "province's code"));
      g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM members"), ==, 0);
      g_object_unref (store);
      g_clear_pointer (&problems, g_ptr_array_unref);
    }
  /* A household without its head, and a missing column. */
  {
    static const char no_head[] = "户编号,行政区划代码,姓名,身份证号,与户主关系\n"
                                  "H9,150422100202,刘桂兰,11010519491231002X,10\n";
    static const char no_column[] = "name,id_number\n王五,440524188001010014\n";

    g_assert_cmpuint (import_text ("no-head", no_head, strlen (no_head), &problems, &db, &store), ==, 0);
    g_assert_nonnull (strstr (problems->pdata[0], "no head"));
    g_object_unref (store);
    g_clear_pointer (&problems, g_ptr_array_unref);
    g_assert_cmpuint (import_text ("no-column", no_column, strlen (no_column), &problems, &db, &store), ==, 0);
    g_assert_nonnull (strstr (problems->pdata[0], "is missing"));
    g_object_unref (store);
  }
}

#define FOLLOW_UP_ID "11111111-2222-4333-8444-000000000005"
#define EARLIER_FOLLOW_UP_ID "11111111-2222-4333-8444-000000000006"

/* The submission the bundled follow-up form gives with
 * tests/data/answers/@answers when opened for @household: the case
 * instance built by the store, beside the default thresholds, as the
 * form's media. */
static char *
fill_follow_up (HearthCaseStore *cases, const char *household, const char *answers, const char *now,
                const char *instance_id, char **case_xml)
{
  g_autofree char *media = test_make_dir ("follow-up-media");
  g_autofree char *case_path = g_build_filename (media, "case.xml", NULL);
  g_autofree char *thresholds_path = g_build_filename (media, "thresholds.xml", NULL);
  g_autofree char *source = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "schema", "forms", "media",
                                              "thresholds.xml", NULL);
  g_autofree char *form = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "schema", "forms", "follow-up.xml", NULL);
  g_autofree char *answers_path = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "answers",
                                                    answers, NULL);
  g_autofree char *thresholds = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(TestRun) r = { 0 };
  xmlDoc *doc = hearth_case_build_instance (cases, household, &error);
  xmlChar *text = NULL;
  int len = 0;

  g_assert_no_error (error);
  xmlDocDumpFormatMemoryEnc (doc, &text, &len, "UTF-8", 1);
  xmlFreeDoc (doc);
  g_assert_true (g_file_set_contents (case_path, (const char *) text, len, NULL));
  if (case_xml != NULL)
    *case_xml = g_strdup ((const char *) text);
  xmlFree (text);
  g_assert_true (g_file_get_contents (source, &thresholds, NULL, NULL));
  g_assert_true (g_file_set_contents (thresholds_path, thresholds, -1, NULL));
  test_run_cli (&r, NULL, "form", "fill", form, "--media", media, "--answers", answers_path, "--now", now,
                "--instance-id", instance_id, NULL);
  if (r.status != 0)
    g_test_message ("%s", r.err);
  g_assert_cmpint (r.status, ==, 0);
  return g_steal_pointer (&r.out);
}

static char *
query_text1 (sqlite3 *db, const char *sql, const char *param)
{
  sqlite3_stmt *st = NULL;
  char *value = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (st, 1, param, -1, SQLITE_STATIC);
  if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_text (st, 0) != NULL)
    value = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return value;
}

/* The county approves the case into monitoring with two measures; the
 * follow-up form receives them from the case instance, and recording it
 * keeps each measure's progress; the clerk ends one. */
static void
test_measures (void)
{
  g_autofree char *dir = test_create_store ("case-measures", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseStore) worker = hearth_case_store_new (store, "worker-1", &error);
  g_autoptr(HearthCaseStore) clerk = hearth_case_store_new (store, "clerk-1", &error);
  g_autoptr(HearthCaseStore) county = hearth_case_store_new (store, "county-1", &error);
  g_autoptr(HearthForm) registration = test_load_bundled_form ("household-registration.xml");
  g_autoptr(HearthForm) visit = test_load_bundled_form ("household-visit.xml");
  g_autoptr(HearthForm) follow_up = test_load_bundled_form ("follow-up.xml");
  g_autofree char *reg_xml = test_fill_bundled ("household-registration.xml", "registration-zh.json", NOW, REGISTRATION_ID);
  g_autofree char *visit_xml = test_fill_bundled ("household-visit.xml", "visit-zh.json", NOW, VISIT_ID);
  g_autofree char *household = NULL, *id = NULL, *job = NULL, *health = NULL, *review = NULL;
  g_autofree char *case_xml = NULL, *follow_xml = NULL, *earlier_xml = NULL;
  const HearthMeasureSpec decided[] = {
    { "health", "黄志强：慢性病家庭医生签约服务和门诊报销", "2026-03-05" },
    { "public_job", "刘桂兰：村级公益性保洁岗位", "2026-03-01" },
  };
  const HearthMeasureSpec unknown[] = {
    { "public_job", "刘桂兰：村级公益性保洁岗位", NULL },
    { "microloan", "五万元小额信贷", NULL },
  };
  gint64 entries;

  g_assert_no_error (error);
  hearth_case_store_set_wall_clock (worker, fixed_ms, NULL);
  hearth_case_store_set_wall_clock (clerk, fixed_ms, NULL);
  hearth_case_store_set_wall_clock (county, fixed_ms, NULL);
  id = hearth_case_record_submission (worker, registration, reg_xml, NULL, &error);
  g_assert_no_error (error);
  household = query_text (db, "SELECT id FROM households");
  g_free (id);
  id = hearth_case_record_submission (worker, visit, visit_xml, household, &error);
  g_assert_no_error (error);
  move (clerk, household, HEARTH_ROLE_CLERK, "approve", NULL, "pending_county_approval");

  /* Refused, and nothing written: a worker adding a measure, an unknown
   * type (named), measures with a move that is not into monitoring. */
  entries = test_query_int (db, "SELECT count(*) FROM audit_log");
  g_assert_false (hearth_case_add_measure (worker, household, HEARTH_ROLE_WORKER, &decided[0], NULL, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "Village worker: assistance measures are not yours to decide"));
  g_clear_error (&error);
  g_assert_false (hearth_case_transition_with_measures (county, household, HEARTH_ROLE_COUNTY, "approve", NULL,
                                                        unknown, G_N_ELEMENTS (unknown), NULL, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "\"microloan\""));
  g_clear_error (&error);
  g_assert_false (hearth_case_transition_with_measures (county, household, HEARTH_ROLE_COUNTY, "reject", "重复申报",
                                                        decided, 1, NULL, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "into monitoring"));
  g_clear_error (&error);
  /* A measure the table refuses after the review was written (a
   * description over 64 KiB): the review and the move go with it. */
  {
    g_autofree char *long_text = g_strnfill (70 * 1024, 'x');
    const HearthMeasureSpec too_long[] = { decided[0], { "housing", long_text, NULL } };

    g_assert_false (hearth_case_transition_with_measures (county, household, HEARTH_ROLE_COUNTY, "approve", NULL,
                                                          too_long, G_N_ELEMENTS (too_long), NULL, &error));
    g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
    g_clear_error (&error);
  }
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log"), ==, entries);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM measures"), ==, 0);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM reviews WHERE to_state = 'monitored'"), ==, 0);
  {
    g_autofree char *state = query_text (db, "SELECT monitoring_status FROM households");
    g_assert_cmpstr (state, ==, "pending_county_approval");
  }

  /* The county's approval with its measures: one transaction, the review
   * named as where they came from, each field stamped, one audit entry
   * for the move naming the household, the review and both measures. */
  entries = test_query_int (db, "SELECT count(*) FROM audit_log");
  g_assert_true (hearth_case_transition_with_measures (county, household, HEARTH_ROLE_COUNTY, "approve", NULL,
                                                       decided, G_N_ELEMENTS (decided), NULL, &error));
  g_assert_no_error (error);
  review = query_text (db, "SELECT id FROM reviews WHERE to_state = 'monitored'");
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM measures WHERE status = 'active' AND ended_on = ''"),
                   ==, 2);
  g_assert_cmpint (test_query_int (db, "SELECT count(DISTINCT created_by) FROM measures"), ==, 1);
  {
    g_autofree char *by = query_text (db, "SELECT created_by FROM measures LIMIT 1");
    g_assert_cmpstr (by, ==, review);
  }
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM field_versions WHERE record_table = 'measures'"), ==,
                   2 * 6);
  job = query_text (db, "SELECT id FROM measures WHERE type = 'public_job'");
  health = query_text (db, "SELECT id FROM measures WHERE type = 'health'");
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log"), ==, entries + 1);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log WHERE seq = (SELECT max (seq) FROM audit_log) "
                                       "AND actor = 'county-1'"), ==, 1);
  {
    g_autofree char *action = NULL;
    g_autoptr(GPtrArray) records = test_audit_entry (db, 0, &action);
    HearthAuditRecord *own = records->pdata[0];

    g_assert_cmpstr (action, ==, "approve");
    g_assert_cmpstr (own->table, ==, "households");
    g_assert_cmpstr (own->id, ==, household);
    g_assert_true (test_audit_fields_are (own, "monitoring_status"));
    g_assert_true (test_audit_fields_are (test_audit_find (records, "reviews", review), "from_state to_state comment"));
    g_assert_true (test_audit_fields_are (test_audit_find (records, "measures", job),
                                          "created_by description household_id started_on status type"));
    g_assert_true (test_audit_fields_are (test_audit_find (records, "measures", health),
                                          "created_by description household_id started_on status type"));
    g_assert_cmpuint (records->len, ==, 4);
  }

  /* The follow-up form receives them, earliest start first, and reports
   * on each by its id. */
  follow_xml = fill_follow_up (worker, household, "follow-up-measures-zh.json", "2026-06-01T10:00:00+08:00",
                               FOLLOW_UP_ID, &case_xml);
  g_test_message ("%s", case_xml);
  {
    const char *first = strstr (case_xml, job), *second = strstr (case_xml, health);
    const char *in_form = strstr (follow_xml, job), *in_form2 = strstr (follow_xml, health);

    g_assert_nonnull (first);
    g_assert_nonnull (second);
    g_assert_true (first < second);
    g_assert_nonnull (strstr (case_xml, "<type>public_job</type>"));
    g_assert_nonnull (strstr (case_xml, "<started_on>2026-03-01</started_on>"));
    g_assert_nonnull (strstr (case_xml, "<description>刘桂兰：村级公益性保洁岗位</description>"));
    g_assert_nonnull (in_form);
    g_assert_nonnull (in_form2);
    g_assert_true (in_form < in_form2);
    g_assert_nonnull (strstr (follow_xml, "<measure_type>health</measure_type>"));
  }
  g_free (id);
  id = hearth_case_record_submission (worker, follow_up, follow_xml, household, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id, ==, FOLLOW_UP_ID);
  {
    g_autofree char *progress = query_text1 (db, "SELECT last_progress || '|' || last_effect || '|' || last_remark "
                                                 "|| '|' || progress_on || '|' || progress_submission || '|' || status "
                                                 "FROM measures WHERE id = ?", job);
    g_autofree char *completed = query_text1 (db, "SELECT last_progress || '|' || last_effect || '|' || status "
                                                  "FROM measures WHERE id = ?", health);
    g_assert_cmpstr (progress, ==, "in_progress|effective|每月按时发放岗位补贴。|2026-06-01|" FOLLOW_UP_ID "|active");
    /* The form's README: a completed measure stays until it is ended. */
    g_assert_cmpstr (completed, ==, "completed|partly|active");
  }
  /* The follow-up's one entry names both measures' reports. */
  {
    g_autofree char *action = NULL;
    g_autoptr(GPtrArray) records = test_audit_entry (db, 0, &action);
    HearthAuditRecord *own = records->pdata[0];

    g_assert_cmpstr (action, ==, "record");
    g_assert_cmpstr (own->table, ==, "submissions");
    g_assert_cmpstr (own->id, ==, FOLLOW_UP_ID);
    g_assert_true (test_audit_fields_are (test_audit_find (records, "measures", job),
                                          "last_effect last_progress last_remark progress_on progress_submission"));
    g_assert_true (test_audit_fields_are (test_audit_find (records, "measures", health),
                                          "last_effect last_progress last_remark progress_on progress_submission"));
  }

  /* The same follow-up again changes nothing; an earlier one arriving
   * later (sync) does not replace the latest report. */
  entries = test_query_int (db, "SELECT count(*) FROM audit_log");
  g_free (id);
  id = hearth_case_record_submission (worker, follow_up, follow_xml, household, &error);
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log"), ==, entries);
  earlier_xml = fill_follow_up (worker, household, "follow-up-measures-zh.json", "2026-05-01T10:00:00+08:00",
                                EARLIER_FOLLOW_UP_ID, NULL);
  g_free (id);
  id = hearth_case_record_submission (worker, follow_up, earlier_xml, household, &error);
  g_assert_no_error (error);
  {
    g_autoptr(GPtrArray) records = test_audit_entry (db, 0, NULL);
    g_assert_cmpstr (((HearthAuditRecord *) records->pdata[0])->id, ==, EARLIER_FOLLOW_UP_ID);
    g_assert_null (test_audit_find (records, "measures", NULL));
  }
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM measures WHERE progress_submission = '"
                                       FOLLOW_UP_ID "' AND progress_on = '2026-06-01'"), ==, 2);

  /* Ending: the clerk's decision, not before it started, once. */
  g_assert_false (hearth_case_end_measure (worker, health, HEARTH_ROLE_WORKER, NULL, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_REFUSED);
  g_clear_error (&error);
  g_assert_false (hearth_case_end_measure (clerk, health, HEARTH_ROLE_CLERK, "2026-03-04", &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (hearth_case_end_measure (clerk, health, HEARTH_ROLE_CLERK, "2026-02-30", &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (hearth_case_end_measure (clerk, health, HEARTH_ROLE_CLERK, "2026-06-02", &error));
  g_assert_no_error (error);
  {
    g_autofree char *action = NULL;
    g_autoptr(GPtrArray) records = test_audit_entry (db, 0, &action);

    g_assert_cmpstr (action, ==, "end");
    g_assert_cmpuint (records->len, ==, 1);
    g_assert_cmpstr (((HearthAuditRecord *) records->pdata[0])->id, ==, health);
    g_assert_true (test_audit_fields_are (records->pdata[0], "ended_on status"));
  }
  g_assert_false (hearth_case_end_measure (clerk, health, HEARTH_ROLE_CLERK, NULL, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "2026-06-02"));
  g_clear_error (&error);
  g_assert_false (hearth_case_end_measure (clerk, "aaaaaaaa-2222-4333-8444-555555555555", HEARTH_ROLE_CLERK, NULL,
                                           &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  {
    g_autofree char *text = NULL;
    xmlDoc *doc = hearth_case_build_instance (worker, household, &error);
    xmlChar *dump = NULL;
    int len = 0;

    g_assert_no_error (error);
    xmlDocDumpMemory (doc, &dump, &len);
    text = g_strdup ((const char *) dump);
    xmlFree (dump);
    xmlFreeDoc (doc);
    g_assert_nonnull (strstr (text, job));
    g_assert_null (strstr (text, health));
  }

  /* On its own, by the clerk: starting today (the local date) unless
   * told; an unknown type, household or an empty description refused. */
  {
    const HearthMeasureSpec relief = { "temporary_relief", "临时救助 3000 元", NULL };
    const HearthMeasureSpec bad_type = { "loans", "x", NULL };
    const HearthMeasureSpec no_text = { "water", "  ", NULL };
    const HearthMeasureSpec bad_date = { "water", "集中供水入户", "2026-3-1" };
    g_autofree char *relief_id = NULL;
    g_autofree char *started = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_from_unix_local (fixed_ms (NULL) / 1000);
    g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");

    g_assert_true (hearth_case_add_measure (clerk, household, HEARTH_ROLE_CLERK, &relief, &relief_id, &error));
    g_assert_no_error (error);
    g_assert_true (g_uuid_string_is_valid (relief_id));
    started = query_text1 (db, "SELECT started_on FROM measures WHERE id = ? AND created_by IS NULL", relief_id);
    g_assert_cmpstr (started, ==, today);
    g_assert_false (hearth_case_add_measure (clerk, household, HEARTH_ROLE_CLERK, &bad_type, NULL, &error));
    g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "\"loans\""));
    g_clear_error (&error);
    g_assert_false (hearth_case_add_measure (clerk, household, HEARTH_ROLE_CLERK, &no_text, NULL, &error));
    g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_false (hearth_case_add_measure (clerk, household, HEARTH_ROLE_CLERK, &bad_date, NULL, &error));
    g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_false (hearth_case_add_measure (clerk, "bbbbbbbb-2222-4333-8444-555555555555", HEARTH_ROLE_CLERK,
                                             &relief, NULL, &error));
    g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
  /* hearth_case_write() writes no field of a measure. */
  {
    g_autoptr(GHashTable) fields = g_hash_table_new (g_str_hash, g_str_equal);
    g_hash_table_insert (fields, (char *) "status", (char *) "ended");
    g_assert_false (hearth_case_write (clerk, "measures", job, FALSE, fields, "update", NULL, &error));
    g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
    g_clear_error (&error);
  }

  /* The audit names the measures' writes, never their text, and the
   * chain is whole: entries of their own for the clerk's two actions on a
   * measure alone (the relief added, the health measure ended), the
   * others in the entries of the move and the follow-up. */
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log WHERE record_table = 'measures'"), ==, 1 + 1);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log WHERE record_table = 'measures' "
                                       "AND action = 'create' AND actor = 'clerk-1' "
                                       "AND fields = 'description household_id started_on status type'"), ==, 1);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log WHERE instr (fields, 'measures/') > 0"), ==,
                   1 + 1);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log WHERE fields LIKE '%刘桂兰%' "
                                       "OR fields LIKE '%岗位%'"), ==, 0);
  g_assert_true (hearth_audit_verify (db, NULL, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/case/store/registration-then-visit", test_registration_then_visit);
  g_test_add_func ("/case/store/workflow", test_workflow);
  g_test_add_func ("/case/store/all-or-nothing", test_all_or_nothing);
  g_test_add_func ("/case/store/write-refusals", test_write_refusals);
  g_test_add_func ("/case/store/cli", test_cli);
  g_test_add_func ("/case/store/import", test_import);
  g_test_add_func ("/case/store/import-large-household", test_import_large_household);
  g_test_add_func ("/case/store/import-many-problems", test_import_many_problems);
  g_test_add_func ("/case/store/labels", test_labels);
  g_test_add_func ("/case/store/measures", test_measures);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-case-household.c: reading one household with its parts
 * (case-household.h) and the store's user, role and scope
 * (case-identity.h) in a real encrypted store. The household is made by
 * recording the bundled registration and a visit that finds a risk, then
 * returned by the clerk with a comment: its members come in household
 * order with the head first, its visits newest first, its open tasks
 * (the follow-up and the clerk's correction) before the closed one, its
 * reviews newest first with the comment (also when made in one second). An unknown or tombstoned
 * household is not found. The identity reads the defaults from a store
 * that names nobody, round-trips what is written, refuses a bad user or
 * scope without writing anything, and refuses a role it does not know.
 */
#include "test-util.h"
#include "record-id.h"
#include "case-household.h"
#include "case-identity.h"
#include "case-store.h"
#include "form-model.h"

#include <string.h>

#define NOW "2026-03-05T10:00:00+08:00"
#define REGISTRATION_ID "11111111-2222-4333-8444-000000000001"
#define VISIT_ID "11111111-2222-4333-8444-000000000002"

static gint64
fixed_ms (gpointer data)
{
  return 1772676000000;  /* 2026-03-05T02:00:00Z */
}

static void
test_household_read (void)
{
  g_autofree char *dir = test_create_store ("case-household", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseStore) worker = hearth_case_store_new (store, "worker-1", &error);
  g_autoptr(HearthCaseStore) clerk = hearth_case_store_new (store, "clerk-1", &error);
  g_autoptr(HearthForm) registration = test_load_bundled_form ("household-registration.xml");
  g_autoptr(HearthForm) visit = test_load_bundled_form ("household-visit.xml");
  g_autofree char *reg_xml = test_fill_bundled ("household-registration.xml", "registration-zh.json", NOW, REGISTRATION_ID);
  g_autofree char *visit_xml = test_fill_bundled ("household-visit.xml", "visit-zh.json", NOW, VISIT_ID);
  g_autofree char *reg = NULL, *vis = NULL, *id = NULL;
  g_autoptr(HearthHousehold) h = NULL;
  const HearthHouseholdMember *head;
  const HearthHouseholdVisit *newest;
  const HearthHouseholdReview *review;
  const HearthHouseholdTask *task;

  g_assert_no_error (error);
  hearth_case_store_set_wall_clock (worker, fixed_ms, NULL);
  /* The clerk acts in the same second: the review order is still the
   * order of the moves. */
  hearth_case_store_set_wall_clock (clerk, fixed_ms, NULL);
  reg = hearth_case_record_submission (worker, registration, reg_xml, NULL, &error);
  g_assert_no_error (error);
  {
    sqlite3_stmt *st = NULL;
    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT id FROM households", -1, &st, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
    id = g_strdup ((const char *) sqlite3_column_text (st, 0));
    sqlite3_finalize (st);
  }
  /* The household's id is the form's entity id, which the form sets with
   * uuid() (version 4, as the ODK specification says); its members' ids
   * are the case store's own, record ids of version 7 (sync/record-id.h). */
  g_assert_true (g_uuid_string_is_valid (id));
  {
    sqlite3_stmt *st = NULL;
    guint members = 0;

    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT id FROM members", -1, &st, NULL), ==, SQLITE_OK);
    while (sqlite3_step (st) == SQLITE_ROW)
      {
        const char *m = (const char *) sqlite3_column_text (st, 0);

        g_assert_true (hearth_record_id_time (m, strlen (m), NULL));
        members++;
      }
    sqlite3_finalize (st);
    g_assert_cmpuint (members, >, 0);
  }
  vis = hearth_case_record_submission (worker, visit, visit_xml, id, &error);
  g_assert_no_error (error);
  g_assert_true (hearth_case_transition (clerk, id, HEARTH_ROLE_CLERK, "return", "请补充收入证明", NULL, &error));
  g_assert_no_error (error);

  h = hearth_case_household_read (db, id, &error);
  g_assert_no_error (error);
  g_assert_nonnull (h);
  g_assert_cmpstr (h->id, ==, id);
  g_assert_cmpstr (h->head_name, ==, "黄志强");
  g_assert_cmpstr (h->head_id_number, ==, "150422196803150038");
  g_assert_cmpstr (h->village_code, ==, "150422100202");
  g_assert_cmpstr (h->address, ==, "大新庄村三组 12 号");
  g_assert_cmpstr (h->risk_level, ==, "orange");
  g_assert_cmpstr (h->monitoring_status, ==, "returned");
  g_assert_cmpstr (h->registry_no, ==, "");
  g_assert_cmpuint (strlen (h->risk_types), >, 0);

  g_assert_cmpuint (h->members->len, ==, 5);
  head = h->members->pdata[0];
  g_assert_cmpstr (head->name, ==, "黄志强");
  g_assert_cmpstr (head->relation, ==, "01");
  g_assert_cmpstr (((HearthHouseholdMember *) h->members->pdata[1])->name, ==, "刘桂兰");

  g_assert_cmpuint (h->visits->len, ==, 2);
  newest = h->visits->pdata[0];
  g_assert_cmpstr (newest->id, ==, VISIT_ID);
  g_assert_cmpstr (newest->form_id, ==, "hearth_household_visit");
  g_assert_cmpstr (newest->risk_level, ==, "orange");
  g_assert_cmpstr (((HearthHouseholdVisit *) h->visits->pdata[1])->id, ==, REGISTRATION_ID);

  /* Open: the follow-up and the correction; closed: the first follow-up. */
  g_assert_cmpuint (h->tasks->len, ==, 3);
  for (guint i = 0; i < h->tasks->len; i++)
    {
      task = h->tasks->pdata[i];
      g_assert_cmpstr (task->status, ==, i < 2 ? "open" : "done");
    }
  g_assert_cmpstr (((HearthHouseholdTask *) h->tasks->pdata[0])->due_date, <=,
                   ((HearthHouseholdTask *) h->tasks->pdata[1])->due_date);

  g_assert_cmpuint (h->reviews->len, ==, 2);
  review = h->reviews->pdata[0];
  g_assert_cmpstr (review->to_state, ==, "returned");
  g_assert_cmpstr (review->role, ==, "clerk");
  g_assert_cmpstr (review->actor, ==, "clerk-1");
  g_assert_cmpstr (review->comment, ==, "请补充收入证明");
  g_assert_cmpstr (((HearthHouseholdReview *) h->reviews->pdata[1])->to_state, ==, "pending_village_review");
  g_clear_pointer (&h, hearth_household_free);

  /* Unknown, then tombstoned. */
  g_assert_null (hearth_case_household_read (db, "00000000-0000-4000-8000-000000000000", &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  test_exec (db, "UPDATE households SET deleted = 1");
  g_assert_null (hearth_case_household_read (db, id, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND);
  /* A failed read leaves no transaction open. */
  g_assert_true (sqlite3_get_autocommit (db));
}

static void
test_identity (void)
{
  g_autofree char *dir = test_create_store ("case-identity", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthIdentity) fresh = NULL, written = NULL, after = NULL;
  const char *const scope[] = { "150422101201", "150422102", NULL };
  const char *const bad_scope[] = { "1504221", NULL };
  HearthRole role;

  fresh = hearth_identity_read (store, &error);
  g_assert_no_error (error);
  g_assert_false (fresh->named);
  g_assert_cmpstr (fresh->user, ==, g_get_user_name ());
  g_assert_cmpint (fresh->role, ==, HEARTH_ROLE_WORKER);
  g_assert_cmpuint (g_strv_length (fresh->scope), ==, 0);

  g_assert_true (hearth_identity_write (store, "王书记", HEARTH_ROLE_CLERK, scope, &error));
  g_assert_no_error (error);
  written = hearth_identity_read (store, &error);
  g_assert_no_error (error);
  g_assert_true (written->named);
  g_assert_cmpstr (written->user, ==, "王书记");
  g_assert_cmpint (written->role, ==, HEARTH_ROLE_CLERK);
  g_assert_cmpstrv (written->scope, scope);

  /* Refused input writes nothing. */
  g_assert_false (hearth_identity_write (store, "", HEARTH_ROLE_WORKER, NULL, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (hearth_identity_write (store, "two\nlines", HEARTH_ROLE_WORKER, NULL, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (hearth_identity_write (store, "someone", HEARTH_ROLE_WORKER, bad_scope, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "1504221"));
  g_clear_error (&error);
  after = hearth_identity_read (store, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (after->user, ==, "王书记");
  g_assert_cmpint (after->role, ==, HEARTH_ROLE_CLERK);
  g_assert_true (sqlite3_get_autocommit (db));

  /* A role from a newer program is not read as a worker's. */
  test_exec (db, "UPDATE store_meta SET value = 'auditor' WHERE key = 'role'");
  g_assert_null (hearth_identity_read (store, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "auditor"));

  g_assert_true (hearth_role_from_name ("county", &role));
  g_assert_cmpint (role, ==, HEARTH_ROLE_COUNTY);
  g_assert_false (hearth_role_from_name ("County", &role));
  g_assert_cmpstr (hearth_role_to_name (HEARTH_ROLE_TOWNSHIP), ==, "township");
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/case-household/read", test_household_read);
  g_test_add_func ("/case-identity/read-write", test_identity);
  return g_test_run ();
}

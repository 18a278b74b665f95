/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-case-review.c: what waits for a role's decision (case-review.h) in
 * real encrypted stores:
 * - a visit that finds a risk puts the household in the clerk's queue
 *   with that visit, not in the worker's, the township's or the county's;
 *   returned, it is in the worker's; approved, in the county's; the
 *   recorded submission is read back whole;
 * - two tablets that change a household's phone offline (their changes
 *   relayed as a center would) see one conflicting field, its kept value
 *   first, each value with the device and time it was recorded; resolved,
 *   the field is listed no more.
 */
#include "test-util.h"
#include "case-review.h"
#include "case-store.h"
#include "sync-reply.h"
#include "sync-store.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define NOW "2026-03-05T10:00:00+08:00"
#define REGISTRATION_ID "11111111-2222-4333-8444-000000000001"
#define VISIT_ID "11111111-2222-4333-8444-000000000002"

static char *
first_household (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  char *id = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT id FROM households", -1, &st, NULL), ==, SQLITE_OK);
  if (sqlite3_step (st) == SQLITE_ROW)
    id = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return id;
}

static char *
register_household (HearthCaseStore *cases, sqlite3 *db)
{
  g_autoptr(HearthForm) registration = test_load_bundled_form ("household-registration.xml");
  g_autofree char *xml = test_fill_bundled ("household-registration.xml", "registration-zh.json", NOW, REGISTRATION_ID);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = hearth_case_record_submission (cases, registration, xml, NULL, &error);

  g_assert_no_error (error);
  return first_household (db);
}

static guint
queue_length (sqlite3 *db, HearthRole role)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) q = hearth_case_review_queue (db, role, &error);

  g_assert_no_error (error);
  return q->len;
}

static void
test_queue (void)
{
  g_autofree char *dir = test_create_store ("case-review", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseStore) worker = hearth_case_store_new (store, "lijuan", &error);
  g_autoptr(HearthCaseStore) clerk = hearth_case_store_new (store, "wang", &error);
  g_autoptr(HearthForm) visit = test_load_bundled_form ("household-visit.xml");
  g_autofree char *visit_xml = test_fill_bundled ("household-visit.xml", "visit-zh.json", NOW, VISIT_ID);
  g_autofree char *household = register_household (worker, db);
  g_autofree char *recorded = NULL;
  g_autoptr(GPtrArray) q = NULL;
  g_autoptr(HearthSubmission) s = NULL;
  HearthReviewItem *item;

  g_assert_cmpuint (queue_length (db, HEARTH_ROLE_CLERK), ==, 0);
  recorded = hearth_case_record_submission (worker, visit, visit_xml, household, &error);
  g_assert_no_error (error);

  q = hearth_case_review_queue (db, HEARTH_ROLE_CLERK, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (q->len, ==, 1);
  item = q->pdata[0];
  g_assert_cmpstr (item->household_id, ==, household);
  g_assert_cmpstr (item->head_name, ==, "黄志强");
  g_assert_cmpstr (item->monitoring_status, ==, "pending_village_review");
  g_assert_cmpstr (item->submission_id, ==, VISIT_ID);
  g_assert_cmpstr (item->form_id, ==, "hearth_household_visit");
  g_assert_cmpstr (item->author, ==, "lijuan");
  g_assert_cmpstr (item->risk_level, !=, "none");
  g_assert_cmpuint (queue_length (db, HEARTH_ROLE_WORKER), ==, 0);
  g_assert_cmpuint (queue_length (db, HEARTH_ROLE_TOWNSHIP), ==, 0);
  g_assert_cmpuint (queue_length (db, HEARTH_ROLE_COUNTY), ==, 0);

  s = hearth_case_submission_read (db, VISIT_ID, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->form_id, ==, "hearth_household_visit");
  g_assert_cmpstr (s->household_id, ==, household);
  g_assert_cmpstr (s->xml, ==, visit_xml);
  g_assert_cmpstr (s->risk_level, ==, item->risk_level);
  g_assert_null (hearth_case_submission_read (db, "99999999-2222-4333-8444-000000000002", &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Returned: the worker's; approved: the county's. */
  g_assert_true (hearth_case_transition (clerk, household, HEARTH_ROLE_CLERK, "return", "请补充收入证明", NULL, &error));
  g_assert_cmpuint (queue_length (db, HEARTH_ROLE_CLERK), ==, 0);
  g_assert_cmpuint (queue_length (db, HEARTH_ROLE_WORKER), ==, 1);
  /* The worker's revisit sends it back to the clerk. */
  {
    g_autofree char *again = test_fill_bundled ("household-visit.xml", "visit-zh.json", NOW,
                                                "11111111-2222-4333-8444-000000000003");
    g_autofree char *id = hearth_case_record_submission (worker, visit, again, household, &error);
    g_assert_no_error (error);
  }
  g_assert_cmpuint (queue_length (db, HEARTH_ROLE_CLERK), ==, 1);
  g_assert_true (hearth_case_transition (clerk, household, HEARTH_ROLE_CLERK, "approve", NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (queue_length (db, HEARTH_ROLE_CLERK), ==, 0);
  g_assert_cmpuint (queue_length (db, HEARTH_ROLE_COUNTY), ==, 1);
  g_assert_cmpuint (queue_length (db, HEARTH_ROLE_TOWNSHIP), ==, 1);
}

/* ---- conflicts ------------------------------------------------------------ */

typedef struct {
  char *dir;
  HearthStore *store;
  HearthCaseStore *cases;
  HearthSyncStore *sync;
  gint64 cursor;
} Tablet;

static void
tablet_open (Tablet *t, const char *name, const char *user)
{
  g_autoptr(GError) error = NULL;

  t->dir = test_create_store (name, NULL);
  t->store = test_open_store (t->dir);
  t->cases = hearth_case_store_new (t->store, user, &error);
  g_assert_no_error (error);
  t->sync = hearth_sync_store_new (t->cases);
}

static void
tablet_close (Tablet *t)
{
  g_clear_object (&t->sync);
  g_clear_object (&t->cases);
  g_clear_object (&t->store);
  g_free (t->dir);
}

/* What @from has made, applied by @to as a pulled page (through the
 * protocol's JSON, as a center relays it). */
static void
relay (Tablet *from, Tablet *to)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) batch = hearth_sync_store_next_batch (from->sync, 500, &error);
  g_autoptr(GPtrArray) page = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  guint rejected = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < batch->len; i++)
    {
      g_autoptr(JsonNode) node = hearth_change_to_json (batch->pdata[i]);
      HearthChange *c = hearth_change_from_json (node, "relayed", &error);

      g_assert_no_error (error);
      c->seq = 0;
      c->cursor = ++to->cursor;
      /* A write of several fields (kind "edits") as it is, as a version 3
       * pull page holds it. */
      g_ptr_array_add (page, c);
    }
  g_assert_true (hearth_sync_store_apply (to->sync, page, to->cursor, FALSE, &rejected, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rejected, ==, 0);
}

static void
set_phone (Tablet *t, const char *household, const char *phone)
{
  g_autoptr(GHashTable) fields = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;

  g_hash_table_insert (fields, (gpointer) "phone", (gpointer) phone);
  g_assert_true (hearth_case_write (t->cases, "households", household, FALSE, fields, "update", NULL, &error));
  g_assert_no_error (error);
}

static void
test_conflicts (void)
{
  Tablet a = { 0 }, b = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *household = NULL;
  g_autoptr(GPtrArray) list = NULL;
  HearthFieldConflict *c;
  g_autofree char *phone = NULL;

  tablet_open (&a, "case-review-a", "lijuan");
  tablet_open (&b, "case-review-b", "wang");
  household = register_household (a.cases, hearth_store_get_db (a.store));
  relay (&a, &b);
  {
    g_autofree char *first = first_household (hearth_store_get_db (b.store));

    g_assert_cmpstr (first, ==, household);
  }
  list = hearth_case_conflicts_list (hearth_store_get_db (b.store), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Both change the phone, offline. */
  set_phone (&a, household, "13911111111");
  set_phone (&b, household, "13922222222");
  relay (&a, &b);
  relay (&b, &a);
  list = hearth_case_conflicts_list (hearth_store_get_db (b.store), household, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  c = list->pdata[0];
  g_assert_cmpstr (c->record_table, ==, "households");
  g_assert_cmpstr (c->record_id, ==, household);
  g_assert_cmpstr (c->field, ==, "phone");
  g_assert_cmpstr (c->household_id, ==, household);
  g_assert_cmpstr (c->head_name, ==, "黄志强");
  g_assert_cmpuint (c->values->len, ==, 2);
  {
    HearthConflictValue *kept = c->values->pdata[0], *other = c->values->pdata[1];
    g_autofree char *stored = NULL;
    sqlite3_stmt *st = NULL;

    g_assert_true (kept->kept);
    g_assert_false (other->kept);
    g_assert_cmpstr (kept->value, !=, other->value);
    g_assert_true (g_str_equal (kept->value, "13911111111") || g_str_equal (kept->value, "13922222222"));
    g_assert_cmpstr (kept->wall, !=, "");
    g_assert_cmpstr (other->wall, !=, "");
    /* One value from each tablet. */
    g_assert_true ((g_str_equal (kept->device_id, hearth_case_store_get_device_id (a.cases)) &&
                    g_str_equal (other->device_id, hearth_case_store_get_device_id (b.cases))) ||
                   (g_str_equal (kept->device_id, hearth_case_store_get_device_id (b.cases)) &&
                    g_str_equal (other->device_id, hearth_case_store_get_device_id (a.cases))));
    g_assert_cmpint (sqlite3_prepare_v2 (hearth_store_get_db (b.store), "SELECT phone FROM households", -1, &st, NULL),
                     ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
    stored = g_strdup ((const char *) sqlite3_column_text (st, 0));
    sqlite3_finalize (st);
    g_assert_cmpstr (stored, ==, kept->value);
    phone = g_strdup (other->value);
  }
  /* Another household's list is empty. */
  {
    g_autoptr(GPtrArray) none = hearth_case_conflicts_list (hearth_store_get_db (b.store),
                                                            "99999999-2222-4333-8444-000000000001", &error);
    g_assert_cmpuint (none->len, ==, 0);
  }

  /* The clerk takes the other value: resolved, listed no more. */
  g_assert_true (hearth_case_resolve_conflict (b.cases, c->conflict_id, HEARTH_ROLE_CLERK, phone, &error));
  g_assert_no_error (error);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = hearth_case_conflicts_list (hearth_store_get_db (b.store), NULL, &error);
  g_assert_cmpuint (list->len, ==, 0);
  tablet_close (&a);
  tablet_close (&b);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/case-review/queue", test_queue);
  g_test_add_func ("/case-review/conflicts", test_conflicts);
  return g_test_run ();
}

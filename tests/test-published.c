/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-published.c: what the county publishes is what the tablets use
 * (app/case-published.h), with a real hearth-center and hearth-cli:
 *
 *   /published/visit: a visit recorded before anything is published uses
 *     the bundled visit form and thresholds; after the county publishes a
 *     new version of the visit form and thresholds with a higher income
 *     line, and the tablet syncs, the same answers on the same day are
 *     recorded with the published form's version and measured against the
 *     published line (the household falls below it). A form
 *     given as a file still uses that file.
 *   /published/visit-periods: the routine visit periods the today screen
 *     uses are the newest published thresholds' (routine_visit_days), the
 *     defaults without them or without thresholds, and a document with
 *     periods out of bounds is refused with the reason.
 */
#include "test-center-util.h"
#include "case-published.h"
#include "case-review.h"
#include "case-search.h"
#include "case-store.h"

#include <string.h>

#define COUNTY "150422"
#define TOWNSHIP "150422101"
#define NOW "2026-06-01T10:00:00+08:00"

/* @path's text with @from replaced by @to (which must be there), written
 * to @dir/@name. */
static char *
edited_copy (const char *path, const char *dir, const char *name, const char *from, const char *to)
{
  g_autofree char *text = NULL;
  g_autoptr(GString) s = NULL;
  char *out = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  s = g_string_new (text);
  g_assert_cmpuint (g_string_replace (s, from, to, 1), ==, 1);
  g_assert_true (g_file_set_contents (out, s->str, -1, NULL));
  return out;
}

/* Records a visit of @household on @t (form @form) and returns its
 * submission id; @out_text gets what the command printed. */
static char *
record_visit (TestTablet *t, const char *form, const char *household, char **out_text)
{
  g_autofree char *answers = test_source_path ("tests", "data", "answers", "visit-zh.json", NULL);
  g_auto(TestRun) r = { 0 };
  const char *start;

  test_tablet_cli (&r, t, "visit", "record", "--form", form, "--answers", answers, "--household", household, "--now",
                   NOW, NULL);
  g_assert_cmpint (r.status, ==, 0);
  start = strstr (r.out, "Recorded submission ");
  g_assert_nonnull (start);
  *out_text = g_strdup (r.out);
  return g_strndup (start + strlen ("Recorded submission "), 36);
}

static char *
submission_text (TestTablet *t, const char *id, const char *column)
{
  g_autofree char *sql = g_strdup_printf ("SELECT %s FROM submissions WHERE id = '%s'", column, id);

  return test_tablet_text (t, sql);
}

/* The submission's form as the review reads it (kept packed in the
 * store, store-packed.h). */
static char *
submission_xml (TestTablet *t, const char *id)
{
  g_autoptr(HearthSecret) pass = hearth_secret_read_passphrase_file (t->pass, NULL);
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthSubmission) s = NULL;
  g_autoptr(GError) error = NULL;

  store = hearth_store_open (t->dir, pass, &error);
  g_assert_no_error (error);
  s = hearth_case_submission_read (hearth_store_get_db (store), id, &error);
  g_assert_no_error (error);
  return g_strdup (s->xml);
}

static void
test_visit (void)
{
  g_autoptr(Center) c = center_init ("published-center", COUNTY);
  g_autofree char *base = test_make_dir ("published");
  g_autofree char *registration = test_source_path ("tests", "data", "answers", "registration-zh.json", NULL);
  g_autofree char *visit_form = test_source_path ("schema", "forms", "household-visit.xml", NULL);
  g_autofree char *thresholds = test_source_path ("schema", "forms", "media", "thresholds.xml", NULL);
  g_autofree char *new_form = NULL, *new_thresholds = NULL, *higher = NULL;
  g_autofree char *household = NULL;
  g_autofree char *before = NULL, *after = NULL, *from_file = NULL;
  g_autofree char *out_before = NULL, *out_after = NULL, *out_file = NULL;
  g_autofree char *xml_before = NULL, *xml_after = NULL, *xml_file = NULL;
  g_autofree char *version = NULL;
  g_auto(TestTablet) t = { 0 };
  g_auto(TestRun) r = { 0 };

  center_add_user (c, "w.one", "worker", TOWNSHIP);
  center_start (c);
  test_tablet_enrol (&t, "published-tablet", c, "w.one");

  /* A household of the township, registered on the tablet. */
  test_tablet_cli (&r, &t, "household", "add", "--answers", registration, "--now", NOW, NULL);
  g_assert_cmpint (r.status, ==, 0);
  household = test_tablet_text (&t, "SELECT id FROM households");
  g_assert_nonnull (household);

  /* Nothing published: the bundled form and line (7,800 yuan in 2026). */
  before = record_visit (&t, "hearth_household_visit", household, &out_before);
  g_assert_null (strstr (out_before, "Using "));
  version = submission_text (&t, before, "form_version");
  g_assert_cmpstr (version, ==, "2026112901");
  xml_before = submission_xml (&t, before);
  g_assert_nonnull (strstr (xml_before, "<income_line>7800</income_line>"));
  g_assert_nonnull (strstr (xml_before, "<below_line>no</below_line>"));

  /* The county publishes a new version of the form, and thresholds with
   * a line of 20,000 yuan for 2026 (the household's 8,280 falls below). */
  new_form = edited_copy (visit_form, base, "household-visit.xml", "version=\"2026112901\"", "version=\"2026120101\"");
  higher = edited_copy (thresholds, base, "step.xml", "<year>2026</year>\n    <value>7800</value>",
                        "<year>2026</year>\n    <value>20000</value>");
  new_thresholds = edited_copy (higher, base, "thresholds.xml", "<version>1</version>", "<version>2</version>");
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "publish-form", new_form, NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "set-thresholds", new_thresholds, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (test_tablet_sync (&t), ==, 0);
  g_assert_cmpint (test_tablet_int (&t, "SELECT count (*) FROM published_forms"), ==, 2);

  /* The same answers on the same day: the published form and line. */
  after = record_visit (&t, "hearth_household_visit", household, &out_after);
  g_assert_nonnull (strstr (out_after, "Using the form hearth_household_visit version 2026120101 published by the "
                                       "county."));
  g_assert_nonnull (strstr (out_after, "Using the county thresholds version 2."));
  g_free (version);
  version = submission_text (&t, after, "form_version");
  g_assert_cmpstr (version, ==, "2026120101");
  xml_after = submission_xml (&t, after);
  g_assert_nonnull (strstr (xml_after, "<income_line>20000</income_line>"));
  g_assert_nonnull (strstr (xml_after, "<below_line>yes</below_line>"));

  /* A form given as a file is that file, still measured against the
   * county's published thresholds. */
  from_file = record_visit (&t, visit_form, household, &out_file);
  g_assert_null (strstr (out_file, "Using the form"));
  g_free (version);
  version = submission_text (&t, from_file, "form_version");
  g_assert_cmpstr (version, ==, "2026112901");
  xml_file = submission_xml (&t, from_file);
  g_assert_nonnull (strstr (xml_file, "<income_line>20000</income_line>"));

  center_stop (c);
}

/* Publishes (as sync would store it) thresholds version @version whose
 * routine_visit_days element is @periods ("" for none). */
static void
publish_thresholds (HearthStore *store, guint version, const char *periods)
{
  g_autofree char *path = test_source_path ("schema", "forms", "media", "thresholds.xml", NULL);
  g_autofree char *xml = NULL;
  g_autoptr(GString) doc = NULL;
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *v = g_strdup_printf ("%u", version);
  g_autofree char *at = g_strdup_printf ("2026-06-%02uT10:00:00Z", version);
  const char *start, *end;
  sqlite3_stmt *st = NULL;
  sqlite3 *db = hearth_store_get_db (store);

  g_assert_true (g_file_get_contents (path, &xml, NULL, NULL));
  doc = g_string_new (xml);
  start = strstr (doc->str, "  <routine_visit_days>");
  end = strstr (doc->str, "</routine_visit_days>\n");
  g_assert_nonnull (start);
  g_assert_nonnull (end);
  g_string_erase (doc, start - doc->str, end + strlen ("</routine_visit_days>\n") - start);
  g_string_insert (doc, start - doc->str, periods);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "INSERT INTO published_forms (id, kind, version, xml, published_at, "
                                           "received_at) VALUES (?, 'thresholds', ?, ?, ?, ?)", -1, &st, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, v, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, doc->str, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, at, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 5, at, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
  sqlite3_finalize (st);
}

static void
expect_periods (HearthStore *store, guint routine, guint priority)
{
  g_autoptr(GError) error = NULL;
  guint r = 0, p = 0;

  g_assert_true (hearth_published_visit_periods (store, &r, &p, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (r, ==, routine);
  g_assert_cmpuint (p, ==, priority);
}

static void
expect_refused (HearthStore *store)
{
  g_autoptr(GError) error = NULL;
  guint r = 0, p = 0;

  g_assert_false (hearth_published_visit_periods (store, &r, &p, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "routine visit"));
}

static void
test_visit_periods (void)
{
  g_autofree char *dir = test_create_store ("published-periods", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);

  /* Nothing published: DOMAIN.md's quarter and month. */
  expect_periods (store, HEARTH_ROUTINE_VISIT_DAYS, HEARTH_PRIORITY_VISIT_DAYS);
  /* Thresholds without the periods: the same. */
  publish_thresholds (store, 1, "");
  expect_periods (store, 90, 30);
  /* The county's. */
  publish_thresholds (store, 2, "  <routine_visit_days><all> 60 </all><priority>14</priority></routine_visit_days>\n");
  expect_periods (store, 60, 14);
  /* One of them: the other's default (the priority one no longer). */
  publish_thresholds (store, 3, "  <routine_visit_days><all>20</all></routine_visit_days>\n");
  expect_periods (store, 20, 20);
  /* Out of bounds, or not a number: refused, naming the version. */
  publish_thresholds (store, 4, "  <routine_visit_days><all>0</all></routine_visit_days>\n");
  expect_refused (store);
  publish_thresholds (store, 5, "  <routine_visit_days><all>30</all><priority>31</priority></routine_visit_days>\n");
  expect_refused (store);
  publish_thresholds (store, 6, "  <routine_visit_days><all>quarterly</all></routine_visit_days>\n");
  expect_refused (store);
  publish_thresholds (store, 7, "  <routine_visit_days><all>367</all></routine_visit_days>\n");
  expect_refused (store);
  publish_thresholds (store, 8, "  <routine_visit_days><all>366</all><priority>7</priority></routine_visit_days>\n");
  expect_periods (store, 366, 7);
  /* Twice (a center before break33 let it through): the first, as the
   * forms read each figure; the last was read, and refused. */
  publish_thresholds (store, 9, "  <routine_visit_days><all>60</all><priority>14</priority></routine_visit_days>\n"
                                "  <routine_visit_days><all>abc</all></routine_visit_days>\n");
  expect_periods (store, 60, 14);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_assert_nonnull (g_getenv ("HEARTH_CENTER"));
  g_test_add_func ("/published/visit", test_visit);
  g_test_add_func ("/published/visit-periods", test_visit_periods);
  return g_test_run ();
}

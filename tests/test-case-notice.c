/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-case-notice.c: a village's public notice (case-notice.h) and the
 * county tablet's counts (case-summary.h) in real encrypted stores:
 * - a household with a visit that found illness and drought, its head's
 *   ID number and phone, a member with a chronic illness, measures for
 *   health and for industry (whose description names a bank account and
 *   a diagnosis): once the village approves it, the notice lists its
 *   head, size, category, the drought only and the industry measure only,
 *   with the dates of both decisions, and nothing of what it must not
 *   show; a household still waiting for the village is not listed;
 * - the counts by township, village, risk level and state add up, and a
 *   prefix keeps only its villages.
 */
#include "test-util.h"
#include "case-notice.h"
#include "case-store.h"
#include "case-summary.h"

#include <string.h>
#include <time.h>

#define NOW "2026-03-05T10:00:00+08:00"
#define REGISTRATION_ID "11111111-2222-4333-8444-000000000011"
#define REGISTRATION_ID_2 "11111111-2222-4333-8444-000000000012"
#define VISIT_ID "11111111-2222-4333-8444-000000000013"
#define VILLAGE "150422100202"

static char *
household_of (sqlite3 *db, const char *submission)
{
  sqlite3_stmt *st = NULL;
  char *id = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT household_id FROM submissions WHERE id = ?", -1, &st, NULL), ==,
                   SQLITE_OK);
  sqlite3_bind_text (st, 1, submission, -1, SQLITE_STATIC);
  if (sqlite3_step (st) == SQLITE_ROW)
    id = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  g_assert_nonnull (id);
  return id;
}

static char *
record (HearthCaseStore *cases, const char *form, const char *answers, const char *id, const char *household)
{
  g_autoptr(HearthForm) f = test_load_bundled_form (form);
  g_autofree char *xml = test_fill_bundled (form, answers, NOW, id);
  g_autoptr(GError) error = NULL;
  g_autofree char *recorded = hearth_case_record_submission (cases, f, xml, household, &error);

  g_assert_no_error (error);
  return household_of (hearth_case_store_get_db (cases), id);
}

/* Every text a row holds, joined. */
static char *
row_text (const HearthNoticeRow *r)
{
  return g_strdup_printf ("%s|%s|%" G_GINT64_FORMAT "|%s|%s|%s|%s|%s|%s", r->household_id, r->head_name,
                          r->member_count, r->category, r->risk_types, r->measures, r->monitoring_status,
                          r->reviewed_on, r->approved_on);
}

/* The decisions' clock: 2026-03-05T20:00:00Z, 04:00 on 6 March in Shanghai. */
static gint64
evening_utc (gpointer data)
{
  return G_GINT64_CONSTANT (1772740800000);
}

static void
test_notice (void)
{
  g_autofree char *dir = test_create_store ("case-notice", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseStore) worker = hearth_case_store_new (store, "lijuan", &error);
  g_autoptr(HearthCaseStore) clerk = hearth_case_store_new (store, "wangshuji", &error);
  g_autoptr(HearthCaseStore) county = hearth_case_store_new (store, "zhangke", &error);
  g_autofree char *first = record (worker, "household-registration.xml", "registration-zh.json", REGISTRATION_ID, NULL);
  g_autofree char *second = NULL;
  g_autofree char *visited = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_auto(GStrv) villages = NULL;
  const HearthMeasureSpec measures[] = {
    { "health", "糖尿病住院费用报销", NULL },
    { "industry", "肉牛养殖补贴，打入账户 6228480012345678901", NULL },
  };
  /* What the store holds and the notice must not show. */
  const char *forbidden[] = {
    "150422196803150038", /* the head's ID number */
    "13904761234",        /* the head's phone */
    "15847612345",        /* a member's phone */
    "6228480012345678901", "糖尿病", "health", "chronic",
  };
  const HearthNoticeRow *r;

  g_assert_no_error (error);
  hearth_case_store_set_wall_clock (clerk, evening_utc, NULL);
  hearth_case_store_set_wall_clock (county, evening_utc, NULL);
  /* The head's ID number is kept on the household too. */
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM households WHERE head_id_number = "
                                       "'150422196803150038' AND phone = '13904761234'"), ==, 1);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM members WHERE health = 'chronic'"), ==, 2);
  visited = record (worker, "household-visit.xml", "visit-zh.json", VISIT_ID, first);
  g_assert_cmpstr (visited, ==, first);
  second = record (worker, "household-registration.xml", "registration-en.json", REGISTRATION_ID_2, NULL);
  /* Still at the village: not on the notice. */
  g_assert_true (hearth_case_transition (worker, second, HEARTH_ROLE_WORKER, "declare", NULL, NULL, &error));
  g_assert_no_error (error);

  rows = hearth_case_notice (db, VILLAGE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 0);
  g_clear_pointer (&rows, g_ptr_array_unref);

  g_assert_true (hearth_case_transition (clerk, first, HEARTH_ROLE_CLERK, "approve", NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (hearth_case_transition_with_measures (county, first, HEARTH_ROLE_COUNTY, "approve", NULL, measures,
                                                       G_N_ELEMENTS (measures), NULL, &error));
  g_assert_no_error (error);

  rows = hearth_case_notice (db, VILLAGE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 1);
  r = rows->pdata[0];
  g_assert_cmpstr (r->household_id, ==, first);
  g_assert_cmpstr (r->head_name, ==, "黄志强");
  g_assert_cmpint (r->member_count, ==, test_query_int (db, "SELECT count(*) FROM members WHERE deleted = 0 AND "
                                                            "household_id = (SELECT household_id FROM submissions "
                                                            "WHERE id = '" REGISTRATION_ID "')"));
  g_assert_cmpint (r->member_count, >=, 4);
  g_assert_cmpstr (r->category, ==, "0");
  /* The visit found illness (01) and drought (0203): the illness is health. */
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM households WHERE risk_types = '01 0203'"), ==, 1);
  g_assert_cmpstr (r->risk_types, ==, "0203");
  g_assert_cmpstr (r->measures, ==, "industry");
  g_assert_cmpstr (r->monitoring_status, ==, "monitored");
  /* The days of the decisions, local: not their UTC day. */
  g_assert_cmpstr (r->reviewed_on, ==, "2026-03-06");
  g_assert_cmpstr (r->approved_on, ==, "2026-03-06");
  {
    const char *states[] = { "pending_county_approval", "monitored" };
    const char *got[] = { r->reviewed_on, r->approved_on };

    for (guint i = 0; i < G_N_ELEMENTS (states); i++)
      {
        g_autofree char *q = g_strdup_printf ("SELECT at FROM reviews WHERE household_id = '%s' AND "
                                              "to_state = '%s'", first, states[i]);
        sqlite3_stmt *st = NULL;
        g_autoptr(GDateTime) at = NULL;
        g_autoptr(GDateTime) local = NULL;
        g_autofree char *day = NULL;

        g_assert_cmpint (sqlite3_prepare_v2 (db, q, -1, &st, NULL), ==, SQLITE_OK);
        g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
        at = g_date_time_new_from_iso8601 ((const char *) sqlite3_column_text (st, 0), NULL);
        sqlite3_finalize (st);
        g_assert_nonnull (at);
        local = g_date_time_to_local (at);
        day = g_date_time_format (local, "%Y-%m-%d");
        g_assert_cmpstr (got[i], ==, day);
      }
  }
  for (guint i = 0; i < rows->len; i++)
    {
      g_autofree char *text = row_text (rows->pdata[i]);

      for (guint k = 0; k < G_N_ELEMENTS (forbidden); k++)
        if (strstr (text, forbidden[k]) != NULL)
          g_error ("The notice shows “%s”: %s", forbidden[k], text);
    }
  g_assert_true (hearth_notice_is_health_risk ("01"));
  g_assert_true (hearth_notice_is_health_risk ("03"));
  g_assert_false (hearth_notice_is_health_risk ("0203"));

  /* Only the villages it holds; a code that is not a village's is refused. */
  villages = hearth_case_notice_villages (db, &error);
  g_assert_no_error (error);
  g_assert_true (g_strv_contains ((const char *const *) villages, VILLAGE));
  g_assert_null (hearth_case_notice (db, "150422", &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (hearth_case_notice (db, "15042210020x", &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
}

static void
set_household (HearthCaseStore *cases, const char *id, const char *village, const char *level, const char *state)
{
  g_autofree char *sql = g_strdup_printf ("INSERT INTO households (id, village_code, head_name, risk_level, "
                                          "monitoring_status, created_at, updated_at) VALUES ('%s', '%s', 'h', '%s', "
                                          "'%s', '" NOW "', '" NOW "')",
                                          id, village, level, state);

  test_exec (hearth_case_store_get_db (cases), sql);
}

static const HearthSummaryGroup *
group (GPtrArray *groups, const char *code)
{
  for (guint i = 0; i < groups->len; i++)
    if (g_str_equal (((HearthSummaryGroup *) groups->pdata[i])->code, code))
      return groups->pdata[i];
  g_error ("no group %s", code);
  return NULL;
}

static void
test_summary (void)
{
  g_autofree char *dir = test_create_store ("case-summary", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseStore) cases = hearth_case_store_new (store, "zhangke", &error);
  g_autoptr(HearthCaseSummary) all = NULL;
  g_autoptr(HearthCaseSummary) town = NULL;
  const HearthSummaryGroup *g;
  guint sum = 0;

  g_assert_no_error (error);
  /* Two townships, three villages, as a county tablet's pull would leave
   * them (written straight: the counts read the table, whatever wrote it). */
  set_household (cases, "a1", "150422100202", "red", "pending_village_review");
  set_household (cases, "a2", "150422100202", "red", "monitored");
  set_household (cases, "a3", "150422100202", "orange", "monitored");
  set_household (cases, "a4", "150422100203", "yellow", "none");
  set_household (cases, "a5", "150422100203", "none", "none");
  set_household (cases, "b1", "150422201201", "orange", "pending_county_approval");
  set_household (cases, "b2", "150422201201", "orange", "risk_eliminated");
  set_household (cases, "d1", "150422201201", "red", "monitored");
  test_exec (db, "UPDATE households SET deleted = 1 WHERE id = 'd1'");

  all = hearth_case_summary_read (db, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->total.households, ==, 7);
  g_assert_cmpuint (all->total.by_level[HEARTH_SUMMARY_RED], ==, 2);
  g_assert_cmpuint (all->total.by_level[HEARTH_SUMMARY_ORANGE], ==, 3);
  g_assert_cmpuint (all->total.by_level[HEARTH_SUMMARY_YELLOW], ==, 1);
  g_assert_cmpuint (all->total.by_level[HEARTH_SUMMARY_NONE], ==, 1);
  g_assert_cmpstr (hearth_summary_state_name (4), ==, "monitored");
  g_assert_cmpuint (all->total.by_state[4], ==, 2);
  g_assert_cmpuint (all->total.by_state[0], ==, 2);
  for (guint i = 0; i < HEARTH_SUMMARY_N_STATES; i++)
    sum += all->total.by_state[i];
  g_assert_cmpuint (sum, ==, 7);
  g_assert_cmpuint (all->townships->len, ==, 2);
  g_assert_cmpuint (all->villages->len, ==, 3);
  g = group (all->townships, "150422100");
  g_assert_cmpuint (g->households, ==, 5);
  g_assert_cmpuint (g->by_level[HEARTH_SUMMARY_RED], ==, 2);
  g = group (all->townships, "150422201");
  g_assert_cmpuint (g->households, ==, 2);
  g_assert_cmpuint (g->by_level[HEARTH_SUMMARY_RED], ==, 0);
  g_assert_cmpuint (g->by_level[HEARTH_SUMMARY_ORANGE], ==, 2);
  g = group (all->villages, "150422100203");
  g_assert_cmpuint (g->households, ==, 2);
  g_assert_cmpuint (g->by_state[0], ==, 2);

  town = hearth_case_summary_read (db, "150422201", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (town->total.households, ==, 2);
  g_assert_cmpuint (town->townships->len, ==, 1);
  g_assert_cmpuint (town->villages->len, ==, 1);
}

int
main (int argc, char **argv)
{
  /* A decision at 20:00 UTC is the next day here. */
  g_setenv ("TZ", "Asia/Shanghai", TRUE);
  tzset ();
  test_init (&argc, &argv);
  g_test_add_func ("/case/notice/no-protected-fields", test_notice);
  g_test_add_func ("/case/summary/counts", test_summary);
  return g_test_run ();
}

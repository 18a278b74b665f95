/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-ui-county.c: the village clerk's public notice (hearth-notice-page.h)
 * and the county staff's screens (hearth-county-page.h,
 * hearth-export-page.h) under Xvfb, in the language of
 * $HEARTH_TEST_LANGUAGE, with a real hearth-center on 127.0.0.1 and the
 * workers', the clerk's and the county's tablets driven by hearth-cli:
 * three households in two townships, one visited with illness and drought
 * found, approved by the village and by the county with a health and an
 * industry measure. Then, in the app:
 * - the clerk's Notice tab lists that household of the village with its
 *   head, size, category, the drought and the industry measure, and shows
 *   no ID number, phone, illness or health measure; saved as CSV (through
 *   what the file chooser's answer calls) the table holds the same and
 *   nothing forbidden; another village's notice is empty;
 * - the county's tablet counts the households by township, village, risk
 *   level and state as its store holds them, its chart has a bar a
 *   township and says the figures in words;
 * - an export into a folder (what the folder chooser's answer calls)
 *   writes a batch that verifies, as `hearth-cli export` would, with its
 *   files and counts shown; the next one continues after its cursor; with
 *   the center stopped, the failure is said in plain words.
 * The center imported the names of the county, one township and one
 * village (`hearth-center import-divisions`): the overview, its chart,
 * the export's areas and the notice show those names, and the codes of the
 * divisions it did not name.
 * Every control is labelled; screenshots go to tests/screenshots/LANGUAGE/.
 */
#include "ui-test-util.h"
#include "test-center-util.h"
#include "batch.h"
#include "hearth-county-page.h"
#include "hearth-export-page.h"
#include "case-labels.h"
#include "hearth-notice-page.h"
#include "hearth-review-page.h"
#include "hearth-risk-chart.h"
#include "hearth-syncer.h"
#include "hearth-worker-view.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#define NOW "2026-03-05T10:00:00+08:00"
#define TABLET_PASSPHRASE "correct horse battery"
#define VILLAGES "150422100202,150422100203"
#define OTHER_VILLAGE "150422201201"

static Center *center;
static TestTablet w1, w2, clerk_tablet, county_tablet;
static char *first, *second, *third;
static gboolean center_stopped;

static char *
answers (const char *name)
{
  return g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "answers", name, NULL);
}

static void
record (TestTablet *t, const char *form, const char *file, const char *household)
{
  g_auto(TestRun) r = { 0 };

  if (household != NULL)
    test_tablet_cli (&r, t, "visit", "record", "--form", form, "--answers", file, "--household", household, "--now",
                     NOW, NULL);
  else
    test_tablet_cli (&r, t, "visit", "record", "--form", form, "--answers", file, "--now", NOW, NULL);
  if (r.status != 0)
    g_error ("hearth-cli visit record %s: %s", file, r.err);
}

static void
setup (void)
{
  g_autofree char *zh = answers ("registration-zh.json");
  g_autofree char *en = answers ("registration-en.json");
  g_autofree char *visit = answers ("visit-zh.json");
  g_autofree char *en_text = NULL;
  g_autofree char *moved = NULL;
  g_autofree char *moved_path = NULL;
  g_autofree char *scratch = test_make_dir ("ui-county-answers");
  g_auto(TestRun) r = { 0 };
  GError *error = NULL;

  center = center_init ("ui-county-center", "150422");
  center_add_user (center, "lijuan", "worker", VILLAGES);
  center_add_user (center, "zhaoming", "worker", OTHER_VILLAGE);
  center_add_user (center, "wangshuji", "clerk", VILLAGES);
  center_add_user (center, "zhangke", "county", "150422");
  center_start (center);
  /* The names of one township and one village of the two of each. */
  {
    g_autofree char *divisions = g_build_filename (scratch, "divisions.csv", NULL);

    g_assert_true (g_file_set_contents (divisions, "code,name\n150422,巴林左旗\n150422100,隆昌镇\n"
                                                   "150422100202,新立村\n", -1, &error));
    run_center (&r, "--db", center->db, "import-divisions", divisions, NULL);
    if (r.status != 0)
      g_error ("hearth-center import-divisions: %s", r.err);
    test_run_clear (&r);
  }
  test_tablet_enrol (&w1, "ui-county-w1", center, "lijuan");
  test_tablet_enrol (&w2, "ui-county-w2", center, "zhaoming");
  test_tablet_enrol (&clerk_tablet, "ui-county-clerk", center, "wangshuji");
  test_tablet_enrol (&county_tablet, "ui-county-county", center, "zhangke");

  /* The English registration, moved to a village of another township. */
  g_assert_true (g_file_get_contents (en, &en_text, NULL, &error));
  g_assert_nonnull (strstr (en_text, "150422100203"));
  {
    g_auto(GStrv) parts = g_strsplit (en_text, "150422100203", -1);
    moved = g_strjoinv (OTHER_VILLAGE, parts);
  }
  moved_path = g_build_filename (scratch, "registration-other.json", NULL);
  g_assert_true (g_file_set_contents (moved_path, moved, -1, &error));

  record (&w1, "hearth_household_registration", zh, NULL);
  record (&w1, "hearth_household_registration", en, NULL);
  record (&w2, "hearth_household_registration", moved_path, NULL);
  first = test_tablet_text (&w1, "SELECT id FROM households WHERE village_code = '150422100202'");
  third = test_tablet_text (&w2, "SELECT id FROM households WHERE village_code = '" OTHER_VILLAGE "'");
  second = test_tablet_text (&w1, "SELECT id FROM households WHERE village_code = '150422100203'");
  record (&w1, "hearth_household_visit", visit, first);
  {
    g_autofree char *visit_en = answers ("visit-en.json");
    /* Waits for the village's review. */
    record (&w1, "hearth_household_visit", visit_en, second);
  }
  g_assert_cmpint (test_tablet_sync (&w1), ==, 0);
  g_assert_cmpint (test_tablet_sync (&w2), ==, 0);
  /* The village approves; the county approves with its measures. */
  g_assert_cmpint (test_tablet_sync (&clerk_tablet), ==, 0);
  test_tablet_cli (&r, &clerk_tablet, "review", "approve", first, NULL);
  if (r.status != 0)
    g_error ("hearth-cli review approve (clerk): %s", r.err);
  test_run_clear (&r);
  g_assert_cmpint (test_tablet_sync (&clerk_tablet), ==, 0);
  g_assert_cmpint (test_tablet_sync (&county_tablet), ==, 0);
  test_tablet_cli (&r, &county_tablet, "review", "approve", first, "--measure", "health:糖尿病随访，每月上门",
                   "--measure", "industry:肉牛养殖补贴", NULL);
  if (r.status != 0)
    g_error ("hearth-cli review approve: %s", r.err);
  g_assert_cmpint (test_tablet_sync (&county_tablet), ==, 0);
  g_assert_cmpint (test_tablet_sync (&clerk_tablet), ==, 0);
}

static gboolean
on_main (gpointer data)
{
  return g_strcmp0 (hearth_window_get_screen (data), "main") == 0;
}

static gboolean
ran (gpointer data)
{
  return hearth_syncer_get_runs (data) > 0 && !hearth_syncer_get_running (data);
}

typedef struct {
  HearthSyncer *syncer;
  guint runs;
} RunsAfter;

static gboolean
ran_again (gpointer data)
{
  RunsAfter *w = data;
  return hearth_syncer_get_runs (w->syncer) > w->runs && !hearth_syncer_get_running (w->syncer);
}

/* Unlocks @t's store in the app and waits for its first sync. */
static HearthWindow *
unlock (HearthApplication *app)
{
  HearthWindow *window = ui_test_window (app);
  GtkWidget *root = GTK_WIDGET (window);
  HearthSyncer *syncer;

  ui_test_type (ui_test_find (root, "passphrase_entry"), TABLET_PASSPHRASE);
  ui_test_click (ui_test_find (root, "unlock_button"));
  ui_test_wait_for (on_main, window, 20000, "the screens");
  syncer = hearth_session_get_syncer (hearth_application_get_session (app));
  if (hearth_syncer_get_runs (syncer) == 0 && !hearth_syncer_get_running (syncer))
    hearth_syncer_sync_now (syncer);
  ui_test_wait_for (ran, syncer, 60000, "the first sync");
  g_assert_null (hearth_syncer_get_error (syncer));
  ui_test_flush (root);
  return window;
}

static gboolean
has_row (GtkWidget *group, const char *title)
{
  g_autoptr(GPtrArray) rows = ui_test_find_all (group, ADW_TYPE_PREFERENCES_ROW);

  for (guint i = 0; i < rows->len; i++)
    if (g_strcmp0 (adw_preferences_row_get_title (rows->pdata[i]), title) == 0)
      return TRUE;
  return FALSE;
}

/* Fails when @text shows what a notice must not. */
static void
assert_nothing_protected (const char *text, const char *where)
{
  const char *forbidden[] = {
    "150422196803150038", "13904761234", "15847612345", "糖尿病", hearth_label_risk_type ("01"),
    hearth_label_risk_type ("03"), hearth_label_measure ("health"), hearth_label_health ("chronic"),
  };

  for (guint i = 0; i < G_N_ELEMENTS (forbidden); i++)
    if (strstr (text, forbidden[i]) != NULL)
      g_error ("%s shows “%s”:\n%s", where, forbidden[i], text);
}

static void
test_notice (void)
{
  HearthApplication *app = ui_test_app_new (clerk_tablet.dir);
  HearthWindow *window = unlock (app);
  GtkWidget *root = GTK_WIDGET (window);
  HearthNoticePage *page = HEARTH_NOTICE_PAGE (ui_test_find_type (root, HEARTH_TYPE_NOTICE_PAGE));
  AdwViewStack *stack = ADW_VIEW_STACK (ui_test_find (root, "view_stack"));
  g_autofree char *head = test_tablet_text (&clerk_tablet, "SELECT head_name FROM households WHERE village_code = "
                                                           "'150422100202'");
  g_autofree char *text = NULL;
  g_autofree char *dir = test_make_dir ("ui-county-notice");
  g_autofree char *path = g_build_filename (dir, "notice.csv", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  g_autofree char *csv = NULL;

  g_assert_nonnull (page);
  g_assert_cmpint (test_tablet_int (&clerk_tablet, "SELECT count(*) FROM households WHERE village_code = "
                                                   "'150422100202' AND monitoring_status = 'monitored'"),
                   ==, 1);
  adw_view_stack_set_visible_child_name (stack, "notice");
  g_assert_true (hearth_notice_page_set_village (page, "150422100202"));
  /* The village by its published name, in the title and the picker. */
  {
    GtkDropDown *drop = GTK_DROP_DOWN (ui_test_find (GTK_WIDGET (page), "village_drop"));
    GtkStringObject *item = gtk_drop_down_get_selected_item (drop);
    AdwPreferencesGroup *group = ADW_PREFERENCES_GROUP (ui_test_find (GTK_WIDGET (page), "notice_group"));

    g_assert_cmpstr (gtk_string_object_get_string (item), ==, "新立村 (150422100202)");
    g_assert_nonnull (strstr (adw_preferences_group_get_title (group), "新立村"));
  }
  /* Not a village of the clerk's. */
  g_assert_false (hearth_notice_page_set_village (page, OTHER_VILLAGE));
  ui_test_flush (root);
  g_assert_cmpuint (hearth_notice_page_get_count (page), ==, 1);
  g_assert_true (has_row (ui_test_find (GTK_WIDGET (page), "notice_group"), head));
  text = ui_test_visible_text (GTK_WIDGET (page));
  g_assert_nonnull (strstr (text, hearth_label_risk_type ("0203")));
  g_assert_nonnull (strstr (text, hearth_label_measure ("industry")));
  g_assert_nonnull (strstr (text, hearth_label_category ("0")));
  assert_nothing_protected (text, "The notice");
  ui_test_assert_labelled (root, "the public notice");
  ui_test_assert_touch_targets (root, "the public notice");
  ui_test_screenshot (root, "60-notice");

  /* Saved as the file chooser's answer saves it. */
  g_assert_true (hearth_notice_page_save (page, file, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &csv, NULL, &error));
  g_assert_true (g_str_has_prefix (csv, "\xef\xbb\xbf"));
  g_assert_nonnull (strstr (csv, head));
  g_assert_nonnull (strstr (csv, hearth_label_risk_type ("0203")));
  g_assert_nonnull (strstr (csv, _("Head of household")));
  assert_nothing_protected (csv, "The saved notice");

  /* The other village: nobody past its review. */
  g_assert_true (hearth_notice_page_set_village (page, "150422100203"));
  ui_test_flush (root);
  /* Not named by the center: its code. */
  g_assert_cmpstr (gtk_string_object_get_string (
                     gtk_drop_down_get_selected_item (GTK_DROP_DOWN (ui_test_find (GTK_WIDGET (page), "village_drop")))),
                   ==, "150422100203");
  g_assert_cmpuint (hearth_notice_page_get_count (page), ==, 0);
  g_assert_true (gtk_widget_get_visible (ui_test_find (GTK_WIDGET (page), "empty_label")));
  g_assert_false (gtk_widget_get_sensitive (ui_test_find (GTK_WIDGET (page), "save_button")));
  ui_test_app_free (app);
}

static gboolean
export_ended (gpointer page)
{
  return !hearth_export_page_get_busy (page);
}

static JsonObject *
export_into (HearthExportPage *page, const char *name)
{
  g_autofree char *dir = test_make_dir (name);
  g_autoptr(GFile) folder = g_file_new_for_path (dir);
  g_autoptr(GError) error = NULL;
  JsonObject *manifest = NULL;

  hearth_export_page_export_to (page, folder);
  g_assert_true (hearth_export_page_get_busy (page));
  ui_test_wait_for (export_ended, page, 60000, "the export");
  g_assert_nonnull (hearth_export_page_get_batch_dir (page));
  g_assert_true (g_str_has_prefix (hearth_export_page_get_batch_dir (page), dir));
  g_assert_true (hearth_batch_verify (hearth_export_page_get_batch_dir (page), &manifest, &error));
  g_assert_no_error (error);
  return manifest;
}

static gint64
file_records (JsonObject *manifest, const char *name)
{
  JsonArray *files = json_object_get_array_member (manifest, "files");

  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      JsonObject *f = json_array_get_object_element (files, i);
      if (g_str_equal (json_object_get_string_member (f, "name"), name))
        return json_object_get_int_member (f, "records");
    }
  return -1;
}

static void test_county_screens (HearthApplication *app, HearthWindow *window);

static gboolean
case_closed (gpointer page)
{
  return hearth_review_page_get_household_id (page) == NULL;
}

/* The county approves the second household into monitoring with two
 * measures, one added with its button, one left typed. */
static void
approve_with_measures (GtkWidget *root)
{
  HearthReviewPage *page =
    hearth_worker_view_get_review_page (HEARTH_WORKER_VIEW (ui_test_find_type (root, HEARTH_TYPE_WORKER_VIEW)));
  GtkWidget *review = GTK_WIDGET (page);
  AdwViewStack *stack = ADW_VIEW_STACK (ui_test_find (root, "view_stack"));
  const char *const *types = hearth_case_measure_types ();
  guint education = 0, public_job = 0;

  for (guint i = 0; types[i] != NULL; i++)
    {
      if (g_str_equal (types[i], "education"))
        education = i;
      if (g_str_equal (types[i], "public_job"))
        public_job = i;
    }
  adw_view_stack_set_visible_child_name (stack, "review");
  g_assert_true (hearth_review_page_open (page, second));
  ui_test_flush (root);
  g_assert_true (gtk_widget_get_visible (ui_test_find (review, "measures_group")));
  /* Without words, not added. */
  ui_test_click (ui_test_find (review, "add_measure_button"));
  g_assert_true (gtk_widget_get_visible (ui_test_find (review, "error_label")));
  adw_combo_row_set_selected (ADW_COMBO_ROW (ui_test_find (review, "measure_type_row")), education);
  ui_test_type (ui_test_find (review, "measure_entry"), "子女助学金每学期 500 元");
  ui_test_click (ui_test_find (review, "add_measure_button"));
  adw_combo_row_set_selected (ADW_COMBO_ROW (ui_test_find (review, "measure_type_row")), public_job);
  ui_test_type (ui_test_find (review, "measure_entry"), "儿子安排护林员岗位");
  ui_test_flush (root);
  ui_test_assert_labelled (root, "an approval with measures");
  ui_test_assert_touch_targets (root, "an approval with measures");
  ui_test_screenshot (root, "65-county-approve-measures");
  ui_test_click (ui_test_find (review, "approve_button"));
  ui_test_wait_for (case_closed, page, 5000, "the approval");
  ui_test_flush (root);
  g_assert_cmpint (test_tablet_int (&county_tablet, "SELECT count(*) FROM households WHERE monitoring_status = "
                                                    "'monitored'"), ==, 2);
  {
    g_autofree char *sql = g_strdup_printf ("SELECT group_concat (type || ':' || description, '|') FROM "
                                            "(SELECT type, description FROM measures WHERE household_id = '%s' AND "
                                            "created_by = (SELECT id FROM reviews WHERE household_id = '%s' AND "
                                            "to_state = 'monitored') ORDER BY type)",
                                            second, second);
    g_autofree char *got = test_tablet_text (&county_tablet, sql);

    g_assert_cmpstr (got, ==, "education:子女助学金每学期 500 元|public_job:儿子安排护林员岗位");
  }
  /* The decision reaches the center, which the export reads. */
  {
    HearthWindow *window = HEARTH_WINDOW (root);
    HearthSyncer *syncer = hearth_session_get_syncer (
      hearth_application_get_session (HEARTH_APPLICATION (gtk_window_get_application (GTK_WINDOW (window)))));
    RunsAfter w = { syncer, hearth_syncer_get_runs (syncer) };

    hearth_syncer_sync_now (syncer);
    ui_test_wait_for (ran_again, &w, 60000, "the sync of the approval");
    g_assert_null (hearth_syncer_get_error (syncer));
    g_assert_cmpint (hearth_syncer_get_status (syncer)->pending, ==, 0);
  }
}

static void
test_county (void)
{
  HearthApplication *app = NULL;
  HearthWindow *window = NULL;
  g_auto(TestRun) r = { 0 };

  /* The village passes the second household on. */
  test_tablet_cli (&r, &clerk_tablet, "review", "approve", second, NULL);
  if (r.status != 0)
    g_error ("hearth-cli review approve (clerk): %s", r.err);
  g_assert_cmpint (test_tablet_sync (&clerk_tablet), ==, 0);
  app = ui_test_app_new (county_tablet.dir);
  window = unlock (app);
  /* The overview comes first for the county. */
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (ADW_VIEW_STACK (ui_test_find (GTK_WIDGET (window),
                                                                                        "view_stack"))),
                   ==, "county");
  approve_with_measures (GTK_WIDGET (window));
  test_county_screens (app, window);
}

static void
test_county_screens (HearthApplication *app, HearthWindow *window)
{
  GtkWidget *root = GTK_WIDGET (window);
  AdwViewStack *stack = ADW_VIEW_STACK (ui_test_find (root, "view_stack"));
  HearthCountyPage *county = HEARTH_COUNTY_PAGE (ui_test_find_type (root, HEARTH_TYPE_COUNTY_PAGE));
  HearthExportPage *export = HEARTH_EXPORT_PAGE (ui_test_find_type (root, HEARTH_TYPE_EXPORT_PAGE));
  HearthRiskChart *chart = HEARTH_RISK_CHART (ui_test_find_type (root, HEARTH_TYPE_RISK_CHART));
  const HearthCaseSummary *s;
  g_autofree char *text = NULL;
  g_autofree char *town = NULL;
  g_autoptr(JsonObject) one = NULL;
  g_autoptr(JsonObject) two = NULL;
  gint64 level_of_first;

  adw_view_stack_set_visible_child_name (stack, "county");
  s = hearth_county_page_get_summary (county);
  g_assert_cmpuint (s->total.households, ==, test_tablet_int (&county_tablet, "SELECT count(*) FROM households"));
  g_assert_cmpuint (s->total.households, ==, 3);
  g_assert_cmpuint (s->townships->len, ==, 2);
  g_assert_cmpuint (s->villages->len, ==, 3);
  g_assert_cmpuint (s->total.by_state[4], ==, 2); /* monitored */
  level_of_first = test_tablet_int (&county_tablet, "SELECT count(*) FROM households WHERE risk_level = 'none'");
  g_assert_cmpuint (s->total.by_level[HEARTH_SUMMARY_NONE], ==, level_of_first);
  g_assert_cmpuint (hearth_risk_chart_get_n_bars (chart), ==, 2);
  /* Named townships and villages by name, the others by code. */
  g_assert_nonnull (strstr (hearth_risk_chart_get_description (chart), "隆昌镇"));
  town = g_strdup_printf (_("Township %s"), "150422201");
  g_assert_nonnull (strstr (hearth_risk_chart_get_description (chart), town));
  g_assert_true (has_row (ui_test_find (GTK_WIDGET (county), "townships_group"), town));
  g_free (town);
  town = g_strdup_printf (_("%s (%s)"), "隆昌镇", "150422100");
  g_assert_true (has_row (ui_test_find (GTK_WIDGET (county), "townships_group"), town));
  g_free (town);
  town = g_strdup_printf (_("%s (%s)"), "新立村", "150422100202");
  g_assert_true (has_row (ui_test_find (GTK_WIDGET (county), "townships_group"), town));
  g_free (town);
  town = g_strdup_printf (_("Village %s"), "150422100203");
  g_assert_true (has_row (ui_test_find (GTK_WIDGET (county), "townships_group"), town));
  text = ui_test_visible_text (GTK_WIDGET (county));
  g_assert_nonnull (strstr (text, hearth_label_status ("monitored")));
  ui_test_assert_labelled (root, "the county overview");
  ui_test_assert_touch_targets (root, "the county overview");
  ui_test_screenshot (root, "61-county-overview");
  /* Landscape: the tabs in the header, the bars wider. */
  ui_test_resize (root, 1280, 800);
  ui_test_flush (root);
  ui_test_screenshot (root, "66-county-landscape");
  ui_test_resize (root, 800, 1200);
  ui_test_flush (root);

  adw_view_stack_set_visible_child_name (stack, "export");
  ui_test_flush (root);
  g_assert_true (hearth_export_page_set_scope (export, "150422"));
  /* The areas by their published names, else by code. */
  {
    AdwComboRow *scope_row = ADW_COMBO_ROW (ui_test_find (GTK_WIDGET (export), "scope_row"));
    g_autofree char *county_name = g_strdup_printf (_("%s (%s)"), "巴林左旗", "150422");
    g_autofree char *named = g_strdup_printf (_("%s (%s)"), "隆昌镇", "150422100");
    g_autofree char *unnamed = g_strdup_printf (_("Township %s"), "150422201");

    g_assert_cmpstr (gtk_string_object_get_string (adw_combo_row_get_selected_item (scope_row)), ==, county_name);
    g_assert_true (hearth_export_page_set_scope (export, "150422100"));
    g_assert_cmpstr (gtk_string_object_get_string (adw_combo_row_get_selected_item (scope_row)), ==, named);
    g_assert_true (hearth_export_page_set_scope (export, "150422201"));
    g_assert_cmpstr (gtk_string_object_get_string (adw_combo_row_get_selected_item (scope_row)), ==, unnamed);
  }
  g_assert_false (hearth_export_page_set_scope (export, "150423"));
  g_assert_true (hearth_export_page_set_scope (export, "150422"));
  ui_test_assert_labelled (root, "the export");
  ui_test_assert_touch_targets (root, "the export");
  ui_test_screenshot (root, "62-county-export");

  /* The whole county, as the folder chooser's answer starts it. */
  one = export_into (export, "ui-county-batch-1");
  g_assert_cmpstr (json_object_get_string_member (one, "scope"), ==, "150422");
  g_assert_cmpint (json_object_get_int_member (one, "cursor_from"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (one, "cursor_to"), >, 0);
  g_assert_cmpint (file_records (one, "households.csv"), ==, 3);
  g_assert_cmpint (file_records (one, "measures.csv"), ==, 4);
  g_assert_cmpuint (gtk_widget_get_visible (ui_test_find (GTK_WIDGET (export), "files_group")), ==, TRUE);
  g_assert_true (has_row (ui_test_find (GTK_WIDGET (export), "files_group"), "households.csv"));
  g_assert_false (gtk_widget_has_css_class (ui_test_find (GTK_WIDGET (export), "result_label"), "hearth-error"));
  /* The last batch is kept: the next continues after it. */
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (ui_test_find (GTK_WIDGET (export), "continue_switch"))));
  {
    g_autofree char *range = g_strdup_printf (_("Changes numbered after %lld up to %lld"), 0LL,
                                              (long long) json_object_get_int_member (one, "cursor_to"));
    g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (ui_test_find (GTK_WIDGET (export), "last_row"))), ==,
                     range);
  }
  ui_test_assert_labelled (root, "an export done");
  ui_test_screenshot (root, "63-county-exported");

  two = export_into (export, "ui-county-batch-2");
  g_assert_cmpint (json_object_get_int_member (two, "cursor_from"), ==, json_object_get_int_member (one, "cursor_to"));
  g_assert_cmpint (file_records (two, "households.csv"), ==, 0);

  /* A date that is not one, here and at the center: said beside the button. */
  {
    GtkWidget *since = ui_test_find (GTK_WIDGET (export), "since_row");
    GtkWidget *result = ui_test_find (GTK_WIDGET (export), "result_label");
    const char *bad[] = { "1 March", "2026-02-30" };
    g_autofree char *local = NULL;
    g_autofree char *remote = g_strdup_printf (_("The county center did not accept the request: %s"), "");

    {
      g_autofree char *what = g_strdup_printf (_("“%s” is not a date: write YYYY-MM-DD"), bad[0]);
      local = g_strdup_printf (_("Check the form: %s."), what);
    }
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autofree char *dir = test_make_dir ("ui-county-batch-bad");
        g_autoptr(GFile) folder = g_file_new_for_path (dir);
        g_autoptr(GDir) d = NULL;

        ui_test_type (since, bad[i]);
        hearth_export_page_export_to (export, folder);
        ui_test_wait_for (export_ended, export, 60000, "the refused export");
        g_assert_true (gtk_widget_has_css_class (result, "hearth-error"));
        if (i == 0)
          g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (result)), ==, local);
        else
          g_assert_true (g_str_has_prefix (gtk_label_get_text (GTK_LABEL (result)), remote));
        /* Nothing written. */
        d = g_dir_open (dir, 0, NULL);
        g_assert_null (g_dir_read_name (d));
      }
    ui_test_type (since, "2026-01-01");
  }

  /* The center gone: said in plain words, nothing kept as a batch. */
  center_stop (center);
  center_stopped = TRUE;
  {
    g_autofree char *dir = test_make_dir ("ui-county-batch-3");
    g_autoptr(GFile) folder = g_file_new_for_path (dir);
    GtkWidget *result = ui_test_find (GTK_WIDGET (export), "result_label");

    hearth_export_page_export_to (export, folder);
    ui_test_wait_for (export_ended, export, 60000, "the failed export");
    g_assert_true (gtk_widget_has_css_class (result, "hearth-error"));
    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (result)), ==,
                     _("The county center cannot be reached. Check the network, then try again."));
    ui_test_flush (root);
    ui_test_screenshot (root, "64-county-export-failed");
  }
  ui_test_app_free (app);
}

int
main (int argc, char **argv)
{
  ui_test_init (&argc, &argv);
  setup ();
  g_test_add_func ("/ui/county/notice", test_notice);
  g_test_add_func ("/ui/county/county", test_county);
  {
    int status = g_test_run ();
    if (!center_stopped)
      center_stop (center);
    center_free (center);
    test_tablet_clear (&w1);
    test_tablet_clear (&w2);
    test_tablet_clear (&clerk_tablet);
    test_tablet_clear (&county_tablet);
    g_free (first);
    g_free (second);
    g_free (third);
    return status;
  }
}

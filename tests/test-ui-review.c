/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-ui-review.c: the village clerk's review screen (hearth-review-page.h)
 * under Xvfb, in the language of $HEARTH_TEST_LANGUAGE, with a real
 * hearth-center on 127.0.0.1 and two workers' tablets driven by
 * hearth-cli: one registers two households and visits both, finding
 * risks; the other visits the first too, offline, with other answers.
 * The clerk's tablet (the app) syncs them in, then:
 * - the Review tab comes first, with both cases and the visit that raised
 *   each; a case shows that visit's answers as the form words them;
 * - returning a case needs a comment (said beside the buttons, nothing
 *   written); with one, the case is returned with it and the worker gets
 *   a correction task; the other case is approved on to the county;
 * - the fields the two workers recorded differently are shown side by
 *   side; a choice per field keeps that value and closes the conflict;
 * - a household of the county registry without an address, visited and
 *   found at risk, is placed in the queue and on its case by its village's
 *   name as the center published it ("新立村 (150422100202)");
 * - the decisions reach the center with the next sync.
 * The screen's controls are labelled and large enough; screenshots go to
 * tests/screenshots/LANGUAGE/.
 */
#include "ui-test-util.h"
#include "test-center-util.h"
#include "case-review.h"
#include "hearth-form-view.h"
#include "case-labels.h"
#include "hearth-review-page.h"
#include "hearth-syncer.h"
#include "hearth-worker-view.h"

#include <glib/gi18n.h>
#include <string.h>

#define NOW "2026-03-05T10:00:00+08:00"
#define TABLET_PASSPHRASE "correct horse battery"
#define SCOPE "150422100202,150422100203"

static Center *center;
static TestTablet clerk_tablet, w1, w2;
static char *first, *second;   /* the households */
static char *third;            /* the registry's, without an address */
#define VILLAGE_NAME "新立村"

static char *
answers (const char *name)
{
  return g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "answers", name, NULL);
}

static void
record (TestTablet *t, const char *form, const char *file, const char *household)
{
  g_autofree char *path = answers (file);
  g_auto(TestRun) r = { 0 };

  if (household != NULL)
    test_tablet_cli (&r, t, "visit", "record", "--form", form, "--answers", path, "--household", household, "--now",
                     NOW, NULL);
  else
    test_tablet_cli (&r, t, "visit", "record", "--form", form, "--answers", path, "--now", NOW, NULL);
  if (r.status != 0)
    g_error ("hearth-cli visit record %s: %s", file, r.err);
}

static void
setup (void)
{
  center = center_init ("ui-review-center", "150422");
  center_add_user (center, "lijuan", "worker", SCOPE);
  center_add_user (center, "zhaoming", "worker", SCOPE);
  center_add_user (center, "wangshuji", "clerk", SCOPE);
  center_start (center);
  test_tablet_enrol (&w1, "ui-review-w1", center, "lijuan");
  test_tablet_enrol (&w2, "ui-review-w2", center, "zhaoming");
  test_tablet_enrol (&clerk_tablet, "ui-review-clerk", center, "wangshuji");

  record (&w1, "hearth_household_registration", "registration-zh.json", NULL);
  record (&w1, "hearth_household_registration", "registration-en.json", NULL);
  first = test_tablet_text (&w1, "SELECT id FROM households WHERE village_code = '150422100202'");
  second = test_tablet_text (&w1, "SELECT id FROM households WHERE village_code = '150422100203'");
  g_assert_cmpint (test_tablet_sync (&w1), ==, 0);
  g_assert_cmpint (test_tablet_sync (&w2), ==, 0);
  /* Both visit the first household offline, with other answers. */
  record (&w1, "hearth_household_visit", "visit-zh.json", first);
  record (&w2, "hearth_household_visit", "visit-en.json", first);
  record (&w1, "hearth_household_visit", "visit-zh.json", second);
  /* The county's registry: a household of the first village without an
   * address (the demo's, moved there), and the village's name. */
  {
    g_autofree char *dir = test_make_dir ("ui-review-registry");
    g_autofree char *csv = g_build_filename (dir, "registry.csv", NULL);
    g_autofree char *divisions = g_build_filename (dir, "divisions.csv", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GString) out = g_string_new (NULL);
    g_auto(TestRun) r = { 0 };

    test_run_cli (&r, NULL, "demo", "generate", "--households", "1", "--seed", "3", "--county", "150422", "--out", csv,
                  NULL);
    g_assert_cmpint (r.status, ==, 0);
    test_run_clear (&r);
    g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
    lines = g_strsplit (text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++)
      {
        g_auto(GStrv) f = g_strsplit (lines[i], ",", -1);

        if (i > 0 && g_strv_length (f) > 3)
          {
            /* 户编号 (the village code and a number), 行政区划代码, 住址 */
            g_autofree char *number = g_strconcat ("150422100202", f[0] + 12, NULL);

            g_free (f[0]), f[0] = g_steal_pointer (&number);
            g_free (f[1]), f[1] = g_strdup ("150422100202");
            g_free (f[2]), f[2] = g_strdup ("");
          }
        if (lines[i][0] != '\0')
          {
            g_autofree char *line = g_strjoinv (",", f);
            g_string_append_printf (out, "%s\n", line);
          }
      }
    g_assert_true (g_file_set_contents (csv, out->str, -1, NULL));
    run_center (&r, "--db", center->db, "import-households", csv, NULL);
    if (r.status != 0)
      g_error ("hearth-center import-households: %s", r.err);
    test_run_clear (&r);
    g_assert_true (g_file_set_contents (divisions, "code,name\n150422100202," VILLAGE_NAME "\n", -1, NULL));
    run_center (&r, "--db", center->db, "import-divisions", divisions, NULL);
    if (r.status != 0)
      g_error ("hearth-center import-divisions: %s", r.err);
  }
  g_assert_cmpint (test_tablet_sync (&w1), ==, 0);
  third = test_tablet_text (&w1, "SELECT id FROM households WHERE address = ''");
  g_assert_nonnull (third);
  record (&w1, "hearth_household_visit", "visit-zh.json", third);
  g_assert_cmpint (test_tablet_sync (&w1), ==, 0);
  g_assert_cmpint (test_tablet_sync (&w2), ==, 0);
}

static gboolean
on_main (gpointer data)
{
  return g_strcmp0 (hearth_window_get_screen (data), "main") == 0;
}

typedef struct {
  HearthSyncer *syncer;
  guint runs;
} RunsAfter;

static gboolean
ran (gpointer data)
{
  RunsAfter *w = data;
  return hearth_syncer_get_runs (w->syncer) > w->runs && !hearth_syncer_get_running (w->syncer);
}

static void
wait_run (HearthSyncer *syncer, guint runs, const char *what)
{
  RunsAfter w = { syncer, runs };

  ui_test_wait_for (ran, &w, 60000, what);
}

static gboolean
case_closed (gpointer page)
{
  return hearth_review_page_get_household_id (page) == NULL;
}

/* Whether a group has a row with that title and subtitle (NULL: any). */
static gboolean
has_row (GtkWidget *group, const char *title, const char *subtitle)
{
  g_autoptr(GPtrArray) rows = ui_test_find_all (group, ADW_TYPE_ACTION_ROW);

  for (guint i = 0; i < rows->len; i++)
    if ((title == NULL || g_strcmp0 (adw_preferences_row_get_title (rows->pdata[i]), title) == 0) &&
        (subtitle == NULL || g_strcmp0 (adw_action_row_get_subtitle (rows->pdata[i]), subtitle) == 0))
      return TRUE;
  return FALSE;
}

static guint
n_rows (GtkWidget *group)
{
  g_autoptr(GPtrArray) rows = ui_test_find_all (group, ADW_TYPE_ACTION_ROW);
  return rows->len;
}

static void
test_review (void)
{
  HearthApplication *app = ui_test_app_new (clerk_tablet.dir);
  HearthWindow *window = ui_test_window (app);
  GtkWidget *root = GTK_WIDGET (window);
  HearthSession *session;
  HearthSyncer *syncer;
  HearthReviewPage *page;
  GtkWidget *review;
  AdwViewStack *stack;
  guint n_conflicts = 0, runs;
  g_autofree char *clerk_device = NULL;
  g_autofree char *first_head = NULL, *second_head = NULL;

  ui_test_type (ui_test_find (root, "passphrase_entry"), TABLET_PASSPHRASE);
  ui_test_click (ui_test_find (root, "unlock_button"));
  ui_test_wait_for (on_main, window, 20000, "the clerk's screens");
  session = hearth_application_get_session (app);
  g_assert_cmpint (hearth_session_get_identity (session)->role, ==, HEARTH_ROLE_CLERK);
  syncer = hearth_session_get_syncer (session);
  /* The machine's network monitor may see no network: on demand, then. */
  if (hearth_syncer_get_runs (syncer) == 0 && !hearth_syncer_get_running (syncer))
    hearth_syncer_sync_now (syncer);
  wait_run (syncer, 0, "the first sync");
  g_assert_null (hearth_syncer_get_error (syncer));
  ui_test_flush (root);

  /* The Review tab, first for a clerk: both cases, and the conflicts. */
  stack = ADW_VIEW_STACK (ui_test_find (root, "view_stack"));
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (stack), ==, "review");
  page = hearth_worker_view_get_review_page (HEARTH_WORKER_VIEW (ui_test_find_type (root, HEARTH_TYPE_WORKER_VIEW)));
  review = GTK_WIDGET (page);
  g_assert_cmpuint (hearth_review_page_get_counts (page, &n_conflicts), ==, 3);
  g_assert_cmpuint (n_conflicts, >, 0);
  first_head = ui_test_app_text (app, "SELECT head_name FROM households WHERE id = ?", first);
  second_head = ui_test_app_text (app, "SELECT head_name FROM households WHERE id = ?", second);
  g_assert_true (has_row (ui_test_find (review, "cases_group"), first_head, NULL));
  g_assert_true (has_row (ui_test_find (review, "cases_group"), second_head, NULL));
  ui_test_assert_labelled (root, "the review queue");
  ui_test_assert_touch_targets (root, "the review queue");
  ui_test_screenshot (root, "50-review-queue");

  /* The registry's household without an address: where it is, by the
   * village's published name, in the queue and on its case; approved. */
  {
    g_autofree char *third_head = ui_test_app_text (app, "SELECT head_name FROM households WHERE id = ?", third);
    g_autofree char *place = g_strdup_printf (_("%s (%s)"), VILLAGE_NAME, "150422100202");
    g_autofree char *tail = g_strdup_printf ("\n%s", place);
    g_autoptr(GPtrArray) rows = ui_test_find_all (ui_test_find (review, "cases_group"), ADW_TYPE_ACTION_ROW);
    gboolean found = FALSE;

    for (guint i = 0; i < rows->len; i++)
      if (g_strcmp0 (adw_preferences_row_get_title (rows->pdata[i]), third_head) == 0)
        {
          g_assert_true (g_str_has_suffix (adw_action_row_get_subtitle (rows->pdata[i]), tail));
          found = TRUE;
        }
    g_assert_true (found);
    g_assert_true (hearth_review_page_open (page, third));
    ui_test_flush (root);
    g_assert_true (g_str_has_suffix (gtk_label_get_text (GTK_LABEL (ui_test_find (review, "status_label"))), tail));
    ui_test_screenshot (root, "50b-review-village-name");
    ui_test_click (ui_test_find (review, "approve_button"));
    ui_test_flush (root);
    ui_test_assert_app_text (app, "SELECT monitoring_status FROM households WHERE id = ?", third,
                             "pending_county_approval");
    g_assert_cmpuint (hearth_review_page_get_counts (page, NULL), ==, 2);
  }

  /* The second household's case: the visit and its answers. */
  g_assert_true (hearth_review_page_open (page, second));
  ui_test_flush (root);
  {
    g_autofree char *by = NULL;
    g_autofree char *ended = ui_test_app_text (app, "SELECT ended_at FROM submissions WHERE household_id = ? AND "
                                            "form_id = 'hearth_household_visit'", second);
    g_autofree char *when = hearth_label_moment (ended);

    by = g_strdup_printf (_("by %s, %s"), "lijuan", when);
    g_assert_true (has_row (ui_test_find (review, "visit_group"), hearth_label_form ("hearth_household_visit"), by));
  }
  g_assert_cmpuint (n_rows (ui_test_find (review, "answers_group")), >=, 10);
  /* visit-zh.json's public-welfare wages, as answered. */
  g_assert_true (has_row (ui_test_find (review, "answers_group"), NULL, "4800"));
  ui_test_assert_labelled (root, "a case to review");
  ui_test_assert_touch_targets (root, "a case to review");
  ui_test_screenshot (root, "51-review-case");

  /* Returning needs a comment. */
  ui_test_click (ui_test_find (review, "send_back_button"));
  ui_test_flush (root);
  g_assert_true (gtk_widget_get_visible (ui_test_find (review, "error_label")));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (review, "error_label"))), ==,
                   _("Write a comment first: the worker reads it to know what to correct."));
  ui_test_assert_app_text (app, "SELECT monitoring_status FROM households WHERE id = ?", second,
                           "pending_village_review");
  ui_test_screenshot (root, "52-review-comment-needed");

  /* With one: returned, with the comment; the worker has a correction. */
  gtk_widget_grab_focus (ui_test_find (review, "comment_view"));
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (ui_test_find (review, "comment_view"))),
                            "请补充务工收入证明。", -1);
  ui_test_click (ui_test_find (review, "send_back_button"));
  /* The focus left the comment: a moment for an input method. */
  ui_test_wait_for (case_closed, page, 5000, "the case to be returned");
  ui_test_flush (root);
  ui_test_assert_app_text (app, "SELECT monitoring_status FROM households WHERE id = ?", second, "returned");
  ui_test_assert_app_text (app, "SELECT comment FROM reviews WHERE household_id = ? ORDER BY at DESC, rowid DESC",
                             second, "请补充务工收入证明。");
  ui_test_assert_app_text (app, "SELECT assignee FROM tasks WHERE household_id = ? AND kind = 'correction' AND "
                                  "status = 'open'", second, "lijuan");
  g_assert_null (hearth_review_page_get_household_id (page));
  g_assert_cmpuint (hearth_review_page_get_counts (page, NULL), ==, 1);

  /* The first: approved on to the county. */
  g_assert_true (hearth_review_page_open (page, first));
  ui_test_flush (root);
  ui_test_click (ui_test_find (review, "approve_button"));
  ui_test_flush (root);
  ui_test_assert_app_text (app, "SELECT monitoring_status FROM households WHERE id = ?", first,
                           "pending_county_approval");
  g_assert_cmpuint (hearth_review_page_get_counts (page, NULL), ==, 0);
  g_assert_true (gtk_widget_get_visible (ui_test_find (review, "no_cases_label")));

  /* The fields the workers disagree on, side by side: the other income
   * taken. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) conflicts = hearth_case_conflicts_list (hearth_session_get_db (session), first, &error);
    g_autoptr(GPtrArray) buttons = ui_test_find_all (ui_test_find (review, "conflicts_group"), GTK_TYPE_BUTTON);
    const HearthFieldConflict *income = NULL;
    const char *other = NULL;
    GtkWidget *chosen = NULL;
    guint choices = 0;

    g_assert_no_error (error);
    for (guint i = 0; i < conflicts->len; i++)
      if (g_str_equal (((HearthFieldConflict *) conflicts->pdata[i])->field, "per_capita_income"))
        income = conflicts->pdata[i];
    g_assert_nonnull (income);
    g_assert_cmpuint (income->values->len, ==, 2);
    other = ((HearthConflictValue *) income->values->pdata[1])->value;
    for (guint i = 0; i < buttons->len; i++)
      {
        g_autofree char *text = NULL;

        if (!gtk_widget_has_css_class (buttons->pdata[i], "hearth-conflict-choice"))
          continue;
        choices++;
        text = ui_test_visible_text (buttons->pdata[i]);
        if (g_str_has_prefix (text, other) && text[strlen (other)] == '\n')
          chosen = buttons->pdata[i];
      }
    g_assert_cmpuint (choices, >=, 2 * conflicts->len);
    g_assert_nonnull (chosen);
    ui_test_assert_labelled (root, "the conflicts");
    ui_test_assert_touch_targets (root, "the conflicts");
    ui_test_screenshot (root, "53-review-conflicts");
    ui_test_click (chosen);
    ui_test_flush (root);
    ui_test_assert_app_text (app, "SELECT per_capita_income FROM households WHERE id = ?", first, other);
    ui_test_assert_app_text (app, "SELECT id FROM conflicts WHERE record_id = ? AND field = 'per_capita_income' AND "
                                  "resolved_at IS NULL", first, NULL);
    hearth_review_page_get_counts (page, &n_conflicts);
    g_assert_cmpuint (n_conflicts, ==, conflicts->len - 1);
  }

  /* The decisions reach the center. */
  clerk_device = g_strdup (hearth_case_store_get_device_id (hearth_session_get_cases (session)));
  runs = hearth_syncer_get_runs (syncer);
  hearth_syncer_sync_now (syncer);
  wait_run (syncer, runs, "the sync of the decisions");
  g_assert_null (hearth_syncer_get_error (syncer));
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM changes WHERE tbl = 'reviews' AND device = (SELECT num FROM device_numbers WHERE id = '%s')",
                                            clerk_device);
    g_assert_cmpint (center_db_int (center, sql), ==, 3);
  }
  ui_test_app_free (app);
}

int
main (int argc, char **argv)
{
  ui_test_init (&argc, &argv);
  setup ();
  g_test_add_func ("/ui/review/clerk", test_review);
  {
    int status = g_test_run ();
    if (center_running (center))
      center_stop (center);
    center_free (center);
    test_tablet_clear (&clerk_tablet);
    test_tablet_clear (&w1);
    test_tablet_clear (&w2);
    g_free (first);
    g_free (second);
    g_free (third);
    return status;
  }
}

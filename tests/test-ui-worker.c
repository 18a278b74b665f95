/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-ui-worker.c: the worker's screens of the tablet app on a store of
 * the shared demo generator (300 households, 600 visits with their
 * follow-up tasks, risk levels and reviews; the tasks of 120 households
 * cancelled), driven under Xvfb in the
 * language of $HEARTH_TEST_LANGUAGE:
 * - Today lists the open tasks as the task list reads them, overdue first,
 *   and a task opens its household; then the households with no open task
 *   whose routine visit is due, as hearth_case_visits_due() reads them,
 *   a page at a time, each opening its household, one visited today
 *   leaving the list;
 * - the household list reads a page by key and the next as it scrolls
 *   (every household once, in order), search as you type by name and by
 *   the end of an ID number shows what the library's search finds, a
 *   search that finds nothing or cannot be done says so;
 * - the household page shows the store's household (members, risk level
 *   and reasons, reviews with comments), beside the list when the screen
 *   is wide and instead of it, with a way back, when narrow;
 * - a household without an address (two villages' worth, as the county
 *   registry may send them) is placed by its village's name as the center
 *   published it, "新立村 (150422100202)", on Today, the list and its
 *   page; by its code where no published list names the village;
 * - the preferences switch the language of every screen at once, the
 *   store staying unlocked.
 * Every screen's controls have accessible labels; screenshots go to
 * tests/screenshots/LANGUAGE/.
 */
#include "ui-test-util.h"
#include "case-household.h"
#include "case-identity.h"
#include "case-search.h"
#include "demo-generate.h"
#include "hearth-household-item.h"
#include "hearth-household-list-row.h"
#include "hearth-household-page.h"
#include "case-labels.h"
#include "hearth-preferences.h"
#include "hearth-worker-view.h"

#include <glib/gi18n.h>
#include <string.h>

#define TODAY HEARTH_DEMO_REFERENCE_DATE

static char *store_dir;
/* The villages whose households have no address: the center published
 * the first's name, not the second's. */
static char *named_village;
static char *task_village;
static char *unnamed_village;
#define VILLAGE_NAME "新立村"
#define TASK_VILLAGE_NAME "隆胜村"

static char *
query_text (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  char *out;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  out = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return out;
}

/* The demo store, made once for every test of the program. */
static void
make_store (void)
{
  g_autoptr(HearthStore) store = NULL;
  g_autofree char *forms = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "schema", "forms", NULL);
  HearthDemoFillOptions options = { .households = 300, .visits = 600, .seed = 6, .forms_dir = forms };
  g_autoptr(GError) error = NULL;

  store_dir = test_create_store ("ui-worker", NULL);
  store = test_open_store (store_dir);
  g_assert_true (hearth_demo_fill_store (store, &options, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (hearth_identity_write (store, "李娟", HEARTH_ROLE_WORKER, NULL, &error));
  g_assert_no_error (error);
  /* Every visit of the demo opens the next follow-up: the county cancelled
   * those of 120 households (as its change would arrive by sync), which
   * leaves them to their routine visits. */
  test_exec (hearth_store_get_db (store),
             "UPDATE tasks SET status = 'cancelled' WHERE status = 'open' AND household_id IN "
             "(SELECT id FROM households ORDER BY id LIMIT 120)");
  /* The households of three villages came from the county registry
   * without an address; the center's division list (as sync stores it)
   * names the first village in code order (the list's first rows) and
   * that of the first task on Today, and a township, not the third. */
  {
    g_autoptr(GPtrArray) first_task = hearth_case_tasks_list (hearth_store_get_db (store), TODAY, NULL, NULL, NULL, 1,
                                                              &error);
    g_autofree char *sql = NULL;
    g_autofree char *xml = NULL;

    g_assert_no_error (error);
    g_assert_cmpuint (first_task->len, ==, 1);
    task_village = g_strdup (((HearthTaskRow *) first_task->pdata[0])->village_code);
    named_village = query_text (hearth_store_get_db (store),
                                "SELECT DISTINCT village_code FROM households ORDER BY village_code LIMIT 1");
    sql = g_strdup_printf ("SELECT DISTINCT village_code FROM households WHERE village_code NOT IN ('%s', '%s') "
                           "ORDER BY village_code LIMIT 1", named_village, task_village);
    unnamed_village = query_text (hearth_store_get_db (store), sql);
    /* The later of two names of one code is the one it has. */
    xml = g_strdup_printf ("<divisions county=\"150422\"><division code=\"%.9s\" name=\"隆昌镇\"/>"
                           "<division code=\"%s\" name=\"" VILLAGE_NAME "\"/>"
                           "<division code=\"%s\" name=\"" TASK_VILLAGE_NAME "\"/></divisions>",
                           named_village, named_village, task_village);
    g_free (sql);
    sql = g_strdup_printf ("UPDATE households SET address = '' WHERE village_code IN ('%s', '%s', '%s'); "
                           "INSERT INTO published_forms (id, kind, version, xml, published_at, received_at) "
                           "VALUES ('divisions-1', 'divisions', '1', '%s', '2026-01-01T00:00:00.000Z', "
                           "'2026-01-01T00:00:00Z')", named_village, task_village, unnamed_village, xml);
    test_exec (hearth_store_get_db (store), sql);
  }
}

/* Where a household is, in the screens' words: its address, else its
 * village's published name with its code, else the code. */
static char *
expected_place (const char *address, const char *village_code)
{
  if (address[0] != '\0')
    return g_strdup (address);
  /* The task's village, when it is also the first, has the later name. */
  if (g_str_equal (village_code, task_village))
    return g_strdup_printf (_("%s (%s)"), TASK_VILLAGE_NAME, village_code);
  if (g_str_equal (village_code, named_village))
    return g_strdup_printf (_("%s (%s)"), VILLAGE_NAME, village_code);
  g_assert_cmpstr (village_code, ==, unnamed_village);
  return g_strdup (village_code);
}

static gboolean
on_main (gpointer data)
{
  return g_strcmp0 (hearth_window_get_screen (data), "main") == 0;
}

/* The app, unlocked, with "today" fixed to the demo's reference date. */
static HearthApplication *
start (void)
{
  HearthApplication *app = ui_test_app_new (store_dir);
  HearthWindow *window = ui_test_window (app);

  ui_test_type (ui_test_find (GTK_WIDGET (window), "passphrase_entry"), TEST_PASSPHRASE);
  ui_test_click (ui_test_find (GTK_WIDGET (window), "unlock_button"));
  ui_test_wait_for (on_main, window, 20000, "the worker's screens");
  hearth_session_set_today (hearth_application_get_session (app), TODAY);
  ui_test_flush (GTK_WIDGET (window));
  return app;
}

static HearthWorkerView *
worker_view (HearthApplication *app)
{
  GtkWidget *view = ui_test_find_type (GTK_WIDGET (ui_test_window (app)), HEARTH_TYPE_WORKER_VIEW);

  g_assert_nonnull (view);
  return HEARTH_WORKER_VIEW (view);
}

/* The titles of the rows of a preferences group, in order. */
static GPtrArray *
row_titles (GtkWidget *group)
{
  g_autoptr(GPtrArray) rows = ui_test_find_all (group, ADW_TYPE_ACTION_ROW);
  GPtrArray *titles = g_ptr_array_new ();

  for (guint i = 0; i < rows->len; i++)
    g_ptr_array_add (titles, (gpointer) adw_preferences_row_get_title (rows->pdata[i]));
  return titles;
}

static const HearthTaskRow *
first_page_last (GPtrArray *tasks)
{
  return tasks->pdata[tasks->len - 1];
}

static void
test_today (void)
{
  HearthApplication *app = start ();
  HearthWorkerView *view = worker_view (app);
  GtkWidget *root = GTK_WIDGET (ui_test_window (app));
  HearthTodayPage *today = hearth_worker_view_get_today_page (view);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tasks = hearth_case_tasks_list (ui_test_db (app), TODAY, NULL, NULL, NULL, HEARTH_TODAY_TASKS_PER_PAGE, &error);
  g_autoptr(GPtrArray) overdue_titles = NULL;
  g_autofree char *expected_date = NULL, *expected_heading = NULL;
  guint expected[3] = { 0 }, shown[3];
  g_autoptr(GPtrArray) rows = NULL;
  const HearthTaskRow *first;

  g_assert_no_error (error);
  g_assert_cmpuint (tasks->len, >, 0);
  for (guint i = 0; i < tasks->len; i++)
    expected[((HearthTaskRow *) tasks->pdata[i])->urgency]++;
  hearth_today_page_get_counts (today, &shown[0], &shown[1], &shown[2]);
  g_assert_cmpuint (shown[0], ==, expected[0]);
  g_assert_cmpuint (shown[1], ==, expected[1]);
  g_assert_cmpuint (shown[2], ==, expected[2]);
  /* The demo leaves overdue follow-ups: they come first, longest overdue first. */
  g_assert_cmpuint (expected[HEARTH_TASK_OVERDUE], >, 0);
  first = tasks->pdata[0];
  g_assert_cmpint (first->urgency, ==, HEARTH_TASK_OVERDUE);
  overdue_titles = row_titles (ui_test_find (root, "overdue_group"));
  g_assert_cmpuint (overdue_titles->len, ==, expected[0]);
  for (guint i = 0; i < overdue_titles->len; i++)
    g_assert_cmpstr (overdue_titles->pdata[i], ==, ((HearthTaskRow *) tasks->pdata[i])->head_name);
  /* Each task says where its household is: a task of the village without
   * addresses by the village's name. */
  {
    g_autoptr(GPtrArray) task_rows = ui_test_find_all (GTK_WIDGET (today), ADW_TYPE_ACTION_ROW);
    guint named = 0;

    for (guint i = 0; i < tasks->len; i++)
      {
        const HearthTaskRow *t = tasks->pdata[i];
        g_autofree char *place = expected_place (t->address, t->village_code);
        g_autofree char *tail = g_strdup_printf ("\n%s", place);
        gboolean found = FALSE;

        for (guint k = 0; k < task_rows->len && !found; k++)
          found = g_str_equal (adw_preferences_row_get_title (task_rows->pdata[k]), t->head_name) &&
                  g_str_has_suffix (adw_action_row_get_subtitle (task_rows->pdata[k]), tail);
        g_assert_true (found);
        named += g_str_equal (t->village_code, task_village);
      }
    g_test_message ("%u tasks of the village placed by its name", named);
    g_assert_cmpuint (named, >, 0);
  }
  expected_date = hearth_label_date (TODAY);
  expected_heading = g_strdup_printf (_("Today, %s"), expected_date);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (root, "date_label"))), ==, expected_heading);
  ui_test_assert_labelled (root, "the today screen");
  ui_test_assert_touch_targets (root, "the today screen");
  ui_test_screenshot (root, "10-today");

  /* "Show more" reads the next page after the last task shown. */
  {
    g_autoptr(GPtrArray) next = hearth_case_tasks_list (ui_test_db (app), TODAY, NULL, first_page_last (tasks)->due_date,
                                                        first_page_last (tasks)->id, HEARTH_TODAY_TASKS_PER_PAGE, &error);
    guint more[3];

    g_assert_no_error (error);
    g_assert_cmpuint (tasks->len, ==, HEARTH_TODAY_TASKS_PER_PAGE);
    ui_test_click (ui_test_find (root, "more_button"));
    ui_test_flush (root);
    hearth_today_page_get_counts (today, &more[0], &more[1], &more[2]);
    g_assert_cmpuint (more[0] + more[1] + more[2], ==, tasks->len + next->len);
  }

  /* A task opens its household. */
  rows = ui_test_find_all (ui_test_find (root, "overdue_group"), ADW_TYPE_ACTION_ROW);
  g_assert_true (gtk_widget_activate (rows->pdata[0]));
  ui_test_flush (root);
  g_assert_cmpstr (hearth_household_page_get_household_id (
                     HEARTH_HOUSEHOLD_PAGE (ui_test_find_type (root, HEARTH_TYPE_HOUSEHOLD_PAGE))),
                   ==, first->household_id);
  g_assert_true (gtk_widget_get_mapped (ui_test_find (root, "members_group")));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (ui_test_find_type (root, HEARTH_TYPE_HOUSEHOLD_PAGE),
                                                                "name_label"))), ==, first->head_name);
  ui_test_screenshot (root, "11-household-from-today");
  ui_test_app_free (app);
}

/* Households to visit: the ones with no open task whose routine visit is
 * due (a quarter, a month for priority ones: the bundled defaults, the
 * demo store has no published thresholds), longest unvisited first. */
static void
test_today_visits (void)
{
  HearthApplication *app = start ();
  HearthWorkerView *view = worker_view (app);
  GtkWidget *root = GTK_WIDGET (ui_test_window (app));
  HearthTodayPage *today = hearth_worker_view_get_today_page (view);
  GtkWidget *group = ui_test_find (root, "visit_group");
  HearthVisitDueQuery q = { .today = TODAY, .routine_days = HEARTH_ROUTINE_VISIT_DAYS,
                            .priority_days = HEARTH_PRIORITY_VISIT_DAYS, .limit = HEARTH_TODAY_VISITS_PER_PAGE };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) due = hearth_case_visits_due (ui_test_db (app), &q, &error);
  g_autoptr(GPtrArray) titles = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autofree char *first_id = NULL, *first_name = NULL;
  GtkWidget *scrolled;

  g_assert_no_error (error);
  /* The demo leaves a page and more of them. */
  g_assert_cmpuint (due->len, ==, HEARTH_TODAY_VISITS_PER_PAGE);
  g_assert_true (gtk_widget_get_visible (group));
  g_assert_cmpuint (hearth_today_page_get_visit_count (today), ==, due->len);
  titles = row_titles (group);
  g_assert_cmpuint (titles->len, ==, due->len);
  for (guint i = 0; i < titles->len; i++)
    {
      const HearthVisitDueRow *v = due->pdata[i];
      g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM tasks WHERE household_id = '%s' AND status = 'open'",
                                              v->id);

      g_assert_cmpstr (titles->pdata[i], ==, v->head_name);
      g_assert_cmpint (test_query_int (ui_test_db (app), sql), ==, 0);
    }
  /* Each says when it was last visited, or that it never was, and where. */
  rows = ui_test_find_all (group, ADW_TYPE_ACTION_ROW);
  for (guint i = 0; i < rows->len; i++)
    {
      const HearthVisitDueRow *v = due->pdata[i];
      g_autofree char *where = expected_place (v->address, v->village_code);
      g_autofree char *expected = NULL;

      if (v->last_visit_date[0] == '\0')
        expected = g_strdup_printf (_("Never visited\n%s"), where);
      else
        {
          g_autofree char *last = hearth_label_date (v->last_visit_date);
          g_autofree char *standing = hearth_label_due (v->due_date, TODAY);

          expected = g_strdup_printf (_("Last visited %s, routine visit %s\n%s"), last, standing, where);
        }
      g_assert_cmpstr (adw_action_row_get_subtitle (rows->pdata[i]), ==, expected);
    }
  ui_test_assert_labelled (root, "the households to visit");
  ui_test_assert_touch_targets (root, "the households to visit");

  /* Scrolled to them, for the screenshot. */
  scrolled = gtk_widget_get_ancestor (group, GTK_TYPE_SCROLLED_WINDOW);
  {
    double x = 0, y = 0;
    GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));

    g_assert_true (gtk_widget_translate_coordinates (group, gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (scrolled)),
                                                     0, 0, &x, &y));
    gtk_adjustment_set_value (adjustment, y - 12);
  }
  ui_test_screenshot (root, "10b-today-visits");

  /* "Show more" reads the next page after the last shown. */
  {
    const HearthVisitDueRow *last = due->pdata[due->len - 1];
    HearthVisitDueQuery next_q = q;
    g_autoptr(GPtrArray) next = NULL;

    next_q.after_last_visit_date = last->last_visit_date;
    next_q.after_id = last->id;
    next = hearth_case_visits_due (ui_test_db (app), &next_q, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (next->len, >, 0);
    ui_test_click (ui_test_find (root, "visit_more_button"));
    ui_test_flush (root);
    g_assert_cmpuint (hearth_today_page_get_visit_count (today), ==, due->len + next->len);
  }

  /* One opens its household. */
  first_id = g_strdup (((HearthVisitDueRow *) due->pdata[0])->id);
  first_name = g_strdup (((HearthVisitDueRow *) due->pdata[0])->head_name);
  g_assert_true (gtk_widget_activate (rows->pdata[0]));
  ui_test_flush (root);
  g_assert_cmpstr (hearth_household_page_get_household_id (
                     HEARTH_HOUSEHOLD_PAGE (ui_test_find_type (root, HEARTH_TYPE_HOUSEHOLD_PAGE))),
                   ==, first_id);

  /* Visited today, it is due no more. */
  {
    g_autofree char *sql = g_strdup_printf ("UPDATE households SET last_visit_date = '%s' WHERE id = '%s'", TODAY,
                                            first_id);
    g_autoptr(GPtrArray) after = NULL;
    gboolean found = FALSE;

    test_exec (ui_test_db (app), sql);
    hearth_today_page_reload (today);
    ui_test_flush (root);
    after = ui_test_find_all (group, ADW_TYPE_ACTION_ROW);
    g_assert_cmpuint (after->len, ==, HEARTH_TODAY_VISITS_PER_PAGE);
    for (guint i = 0; i < after->len; i++)
      found = found || g_strcmp0 (gtk_actionable_get_action_target_value (GTK_ACTIONABLE (after->pdata[i])) != NULL
                                    ? g_variant_get_string (gtk_actionable_get_action_target_value (
                                                              GTK_ACTIONABLE (after->pdata[i])), NULL)
                                    : NULL, first_id) == 0;
    g_assert_false (found);
    g_test_message ("%s visited: off the list", first_name);
  }
  ui_test_app_free (app);
}

/* The ids of every household in the library's keyset order. */
static GPtrArray *
all_ids (sqlite3 *db, const char *text)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) page = NULL;
  HearthHouseholdQuery q = { .text = text, .limit = HEARTH_CASE_SEARCH_MAX_LIMIT };
  g_autofree char *v = NULL, *n = NULL, *id = NULL;
  g_autoptr(GError) error = NULL;

  do
    {
      g_clear_pointer (&page, g_ptr_array_unref);
      page = hearth_case_search_households (db, &q, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < page->len; i++)
        g_ptr_array_add (ids, g_strdup (((HearthHouseholdRow *) page->pdata[i])->id));
      if (page->len > 0)
        {
          HearthHouseholdRow *last = page->pdata[page->len - 1];
          g_free (v), g_free (n), g_free (id);
          v = g_strdup (last->village_code), n = g_strdup (last->head_name), id = g_strdup (last->id);
          q.after_village_code = v, q.after_head_name = n, q.after_id = id;
        }
    }
  while (page->len == HEARTH_CASE_SEARCH_MAX_LIMIT);
  return ids;
}

static const char *
item_id (GListModel *model, guint i)
{
  g_autoptr(HearthHouseholdItem) item = g_list_model_get_item (model, i);
  return hearth_household_item_get_id (item);
}

static gboolean
model_grew (gpointer data)
{
  gpointer *args = data;
  return g_list_model_get_n_items (args[0]) > GPOINTER_TO_UINT (args[1]);
}

/* Types @text in the search field and lets the list follow. */
static void
search (GtkWidget *root, const char *text)
{
  ui_test_type (ui_test_find (root, "search_entry"), text);
  ui_test_flush (root);
}

static void
test_households (void)
{
  HearthApplication *app = start ();
  HearthWorkerView *view = worker_view (app);
  GtkWidget *root = GTK_WIDGET (ui_test_window (app));
  HearthHouseholdsPage *page = hearth_worker_view_get_households_page (view);
  GListModel *model = G_LIST_MODEL (hearth_households_page_get_model (page));
  g_autoptr(GPtrArray) everyone = all_ids (ui_test_db (app), NULL);
  g_autoptr(GPtrArray) wangs = all_ids (ui_test_db (app), "王");
  g_autoptr(GPtrArray) list_rows = NULL;
  guint pages_before, n, named = 0;
  gpointer args[2];
  GtkAdjustment *adjustment;

  g_assert_cmpuint (everyone->len, ==, 300);
  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (ui_test_find (root, "view_stack")), "households");
  ui_test_flush (root);

  /* The first page, and what the rows on screen show. */
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, HEARTH_HOUSEHOLD_MODEL_FIRST_PAGE);
  g_assert_true (hearth_household_model_get_has_more (HEARTH_HOUSEHOLD_MODEL (model)));
  list_rows = ui_test_find_all (ui_test_find (root, "list_view"), HEARTH_TYPE_HOUSEHOLD_LIST_ROW);
  g_assert_cmpuint (list_rows->len, >, 5);
  for (guint i = 0; i < list_rows->len; i++)
    {
      HearthHouseholdListRow *row = list_rows->pdata[i];
      HearthHouseholdItem *item = hearth_household_list_row_get_item (row);

      if (item == NULL || !gtk_widget_get_mapped (GTK_WIDGET (row)))
        continue;
      g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (GTK_WIDGET (row), "name_label"))), ==,
                       hearth_household_item_get_head_name (item));
      /* Where: the address, else the village by its published name (the
       * list starts with that village: it is ordered by village code). */
      {
        g_autofree char *place = expected_place (hearth_household_item_get_address (item),
                                                 hearth_household_item_get_village_code (item));
        g_autofree char *start = g_strdup_printf ("%s · ", place);

        g_assert_true (g_str_has_prefix (gtk_label_get_text (GTK_LABEL (ui_test_find (GTK_WIDGET (row),
                                                                                      "detail_label"))), start));
        named += g_str_equal (hearth_household_item_get_village_code (item), named_village) ||
                 g_str_equal (hearth_household_item_get_village_code (item), task_village);
      }
    }
  g_assert_cmpuint (named, >, 0);
  ui_test_assert_labelled (root, "the household list");
  ui_test_assert_touch_targets (root, "the household list");
  ui_test_screenshot (root, "12-households");

  /* Scrolling to the end reads the next page by key: every household
   * once, in the library's order. */
  pages_before = hearth_household_model_get_pages_read (HEARTH_HOUSEHOLD_MODEL (model));
  adjustment = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (ui_test_find (root, "list_view")));
  while (hearth_household_model_get_has_more (HEARTH_HOUSEHOLD_MODEL (model)))
    {
      n = g_list_model_get_n_items (model);
      gtk_adjustment_set_value (adjustment, gtk_adjustment_get_upper (adjustment));
      args[0] = model;
      args[1] = GUINT_TO_POINTER (n);
      if (n < everyone->len)
        ui_test_wait_for (model_grew, args, 5000, "the next page");
      else
        ui_test_run_for (50);
      ui_test_flush (root);
    }
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, everyone->len);
  for (guint i = 0; i < everyone->len; i++)
    g_assert_cmpstr (item_id (model, i), ==, everyone->pdata[i]);
  g_assert_cmpuint (hearth_household_model_get_pages_read (HEARTH_HOUSEHOLD_MODEL (model)), >=, pages_before + 2);

  /* A name, as typed: the library's answer, in its order. */
  g_assert_cmpuint (wangs->len, >, 0);
  search (root, "王");
  n = MIN (wangs->len, HEARTH_HOUSEHOLD_MODEL_FIRST_PAGE);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (item_id (model, i), ==, wangs->pdata[i]);
  ui_test_screenshot (root, "13-search-name");

  /* The end of an ID number. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthHousehold) h = hearth_case_household_read (ui_test_db (app), everyone->pdata[123], &error);
    const char *number = h->head_id_number;
    gboolean found = FALSE;

    g_assert_no_error (error);
    search (root, number + strlen (number) - 6);
    for (guint i = 0; i < g_list_model_get_n_items (model); i++)
      found |= g_str_equal (item_id (model, i), h->id);
    g_assert_true (found);
  }

  /* Nothing found, and a search that cannot be done, said so. */
  search (root, "查无此人");
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  g_assert_true (gtk_widget_get_mapped (ui_test_find (root, "list_empty_page")));
  {
    g_autofree char *title = g_strdup_printf (_("No household matches “%s”"), "查无此人");
    g_assert_cmpstr (adw_status_page_get_title (ADW_STATUS_PAGE (ui_test_find (root, "list_empty_page"))), ==, title);
  }
  ui_test_screenshot (root, "14-search-nothing");
  {
    g_autoptr(GString) long_name = g_string_new (NULL);
    gint64 t0 = g_get_monotonic_time ();

    for (guint i = 0; i <= HEARTH_CASE_SEARCH_MAX_TEXT; i++)
      g_string_append (long_name, "王");
    search (root, long_name->str);
    g_test_message ("too long a search answered in %.1f ms", (g_get_monotonic_time () - t0) / 1000.0);
  }
  g_assert_cmpstr (adw_status_page_get_title (ADW_STATUS_PAGE (ui_test_find (root, "list_empty_page"))), ==,
                   _("This search cannot be done"));

  /* A household without an address: its page names its village, by the
   * published name, or by its code when no list names it. */
  for (guint v = 0; v < 2; v++)
    {
      const char *village = v == 0 ? named_village : unnamed_village;
      g_autofree char *sql = g_strdup_printf ("SELECT id FROM households WHERE village_code = '%s' ORDER BY id LIMIT 1",
                                              village);
      g_autofree char *id = query_text (ui_test_db (app), sql);
      g_autofree char *place = expected_place ("", village);
      GtkWidget *hp = ui_test_find_type (root, HEARTH_TYPE_HOUSEHOLD_PAGE);

      hearth_worker_view_show_household (view, id);
      ui_test_flush (root);
      g_assert_cmpstr (hearth_household_page_get_household_id (HEARTH_HOUSEHOLD_PAGE (hp)), ==, id);
      g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (hp, "address_label"))), ==, place);
      if (v == 0)
        ui_test_screenshot (root, "15b-household-village-name");
    }
  ui_test_app_free (app);
}

/* A household with a review comment, for the household page. */
static char *
reviewed_household (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  char *id = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT h.id FROM households AS h JOIN reviews AS r ON r.household_id = h.id "
                                       "WHERE h.risk_level <> 'none' ORDER BY r.comment = '', h.id LIMIT 1",
                                       -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  id = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return id;
}

static void
test_household_page (void)
{
  HearthApplication *app = start ();
  HearthWorkerView *view = worker_view (app);
  GtkWidget *root = GTK_WIDGET (ui_test_window (app));
  GtkWidget *leaflet = ui_test_find (root, "leaflet");
  GtkWidget *hp = ui_test_find_type (root, HEARTH_TYPE_HOUSEHOLD_PAGE);
  g_autofree char *id = reviewed_household (ui_test_db (app));
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthHousehold) h = hearth_case_household_read (ui_test_db (app), id, &error);
  HearthHouseholdsPage *page = hearth_worker_view_get_households_page (view);
  GListModel *model = G_LIST_MODEL (hearth_households_page_get_model (page));
  g_autofree char *members_title = NULL;
  g_autoptr(GPtrArray) member_titles = NULL;
  g_autoptr(GPtrArray) review_rows = NULL;
  gboolean comment_shown = FALSE;
  guint position = G_MAXUINT;

  g_assert_no_error (error);
  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (ui_test_find (root, "view_stack")), "households");
  search (root, h->head_name);
  for (guint i = 0; i < g_list_model_get_n_items (model) && position == G_MAXUINT; i++)
    if (g_str_equal (item_id (model, i), id))
      position = i;
  g_assert_cmpuint (position, !=, G_MAXUINT);
  /* A tap on the row, as the list view reports it. */
  g_signal_emit_by_name (ui_test_find (root, "list_view"), "activate", position);
  ui_test_flush (root);

  /* Portrait: the list folds away, the household has a way back. */
  g_assert_true (adw_leaflet_get_folded (ADW_LEAFLET (leaflet)));
  g_assert_cmpstr (adw_leaflet_get_visible_child_name (ADW_LEAFLET (leaflet)), ==, "household");
  g_assert_true (gtk_widget_get_mapped (ui_test_find (hp, "back_button")));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (hp, "name_label"))), ==, h->head_name);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (hp, "risk_badge"))), ==,
                   hearth_label_risk_level (h->risk_level));
  {
    g_autofree char *reasons = hearth_label_risk_types (h->risk_types);
    if (reasons[0] != '\0')
      g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (ui_test_find (hp, "reasons_row"))), ==,
                       reasons);
  }
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (ui_test_find (hp, "status_row"))), ==,
                   hearth_label_status (h->monitoring_status));
  members_title = g_strdup_printf (_("Members (%u)"), h->members->len);
  g_assert_cmpstr (adw_preferences_group_get_title (ADW_PREFERENCES_GROUP (ui_test_find (hp, "members_group"))), ==,
                   members_title);
  member_titles = row_titles (ui_test_find (hp, "members_group"));
  g_assert_cmpuint (member_titles->len, ==, h->members->len);
  for (guint i = 0; i < h->members->len; i++)
    g_assert_cmpstr (member_titles->pdata[i], ==, ((HearthHouseholdMember *) h->members->pdata[i])->name);
  review_rows = ui_test_find_all (ui_test_find (hp, "reviews_group"), ADW_TYPE_ACTION_ROW);
  g_assert_cmpuint (review_rows->len, ==, h->reviews->len);
  for (guint i = 0; i < h->reviews->len; i++)
    {
      const HearthHouseholdReview *r = h->reviews->pdata[i];
      const char *subtitle = adw_action_row_get_subtitle (review_rows->pdata[i]);

      g_assert_cmpstr (adw_preferences_row_get_title (review_rows->pdata[i]), ==, hearth_label_status (r->to_state));
      if (r->comment[0] != '\0')
        {
          g_assert_nonnull (strstr (subtitle, r->comment));
          comment_shown = TRUE;
        }
    }
  g_test_message ("household %s: %u reviews, a comment shown: %d", id, h->reviews->len, comment_shown);
  ui_test_assert_labelled (root, "the household page");
  ui_test_assert_touch_targets (root, "the household page");
  ui_test_screenshot (root, "15-household");

  /* Back to the list. */
  ui_test_click (ui_test_find (hp, "back_button"));
  ui_test_flush (root);
  g_assert_cmpstr (adw_leaflet_get_visible_child_name (ADW_LEAFLET (leaflet)), ==, "list");

  /* Landscape: side by side, no way back needed. */
  ui_test_resize (root, 1280, 800);
  g_assert_false (adw_leaflet_get_folded (ADW_LEAFLET (leaflet)));
  g_assert_false (gtk_widget_get_mapped (ui_test_find (hp, "back_button")));
  g_assert_true (gtk_widget_get_mapped (ui_test_find (root, "list_view")));
  g_assert_true (gtk_widget_get_mapped (ui_test_find (hp, "members_group")));
  ui_test_assert_labelled (root, "the household list and page side by side");
  ui_test_assert_touch_targets (root, "the household list and page side by side");
  ui_test_screenshot (root, "16-households-landscape");

  /* Narrow (a small tablet upright, or a split screen): the tabs move to
     the bottom, within reach of the thumb. */
  g_assert_false (adw_view_switcher_bar_get_reveal (ADW_VIEW_SWITCHER_BAR (ui_test_find (root, "switcher_bar"))));
  ui_test_resize (root, 600, 960);
  g_assert_true (adw_view_switcher_bar_get_reveal (ADW_VIEW_SWITCHER_BAR (ui_test_find (root, "switcher_bar"))));
  ui_test_screenshot (root, "17-narrow");
  ui_test_app_free (app);
}

static gboolean
other_window (gpointer data)
{
  gpointer *args = data;
  HearthWindow *now = ui_test_window (args[0]);
  return now != NULL && (gpointer) now != args[1] && g_strcmp0 (hearth_window_get_screen (now), "main") == 0;
}

static void
test_language_switch (void)
{
  HearthApplication *app = start ();
  HearthWindow *window = ui_test_window (app);
  HearthSession *session = hearth_application_get_session (app);
  const char *other = g_str_equal (ui_test_language (), "en") ? "zh_CN" : "en";
  g_autofree char *today_before = g_strdup (_("Today"));
  GtkWidget *preferences = NULL;
  gpointer args[2] = { app, window };
  g_autofree char *shown = NULL;

  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  ui_test_flush (GTK_WIDGET (window));
  for (GList *l = gtk_window_list_toplevels (); l != NULL; l = g_list_delete_link (l, l))
    if (HEARTH_IS_PREFERENCES (l->data))
      preferences = l->data;
  g_assert_nonnull (preferences);
  ui_test_assert_labelled (preferences, "the preferences");
  ui_test_assert_touch_targets (preferences, "the preferences");
  ui_test_screenshot (preferences, "18-preferences");

  /* The other language, picked on the language row. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (ui_test_find (preferences, "language_row")),
                              g_str_equal (other, "zh_CN") ? 1 : 2);
  ui_test_wait_for (other_window, args, 5000, "the screens in the other language");
  window = ui_test_window (app);
  g_assert_true (hearth_application_get_session (app) == session);
  g_assert_cmpstr (hearth_settings_get_language (hearth_application_get_settings (app)), ==, other);
  g_assert_cmpstr (_("Today"), !=, today_before);
  ui_test_flush (GTK_WIDGET (window));
  shown = ui_test_visible_text (GTK_WIDGET (window));
  g_assert_nonnull (strstr (shown, _("Today")));
  g_assert_null (strstr (shown, today_before));

  /* And back, for the other tests. */
  hearth_settings_set_language (hearth_application_get_settings (app), ui_test_language ());
  args[1] = window;
  ui_test_wait_for (other_window, args, 5000, "the screens in the first language");
  g_assert_cmpstr (_("Today"), ==, today_before);
  ui_test_app_free (app);
}

int
main (int argc, char **argv)
{
  ui_test_init (&argc, &argv);
  make_store ();
  g_test_add_func ("/ui/worker/today", test_today);
  g_test_add_func ("/ui/worker/today-visits", test_today_visits);
  g_test_add_func ("/ui/worker/households", test_households);
  g_test_add_func ("/ui/worker/household-page", test_household_page);
  g_test_add_func ("/ui/worker/language", test_language_switch);
  return g_test_run ();
}

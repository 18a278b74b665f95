/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-ui-story.c: the key steps of a day in the field (issue 7) through
 * the tablet app's real windows, under Xvfb in the language of
 * $HEARTH_TEST_LANGUAGE, with a real hearth-center on 127.0.0.1 and the
 * worker's tablet behind hearth-fault-proxy (test-story.c plays the whole
 * day headless):
 *
 *   the county imports a generated registry; a worker, a village clerk and
 *   a county official enrol; the worker's app unlocks and receives the
 *   township's households by itself; the network goes down (the proxy
 *   refuses every connection) and the worker registers a new household
 *   and records three visits through the form screens, two of which raise
 *   risks: they wait, said so on the Sync tab; the network returns and the app's own retries deliver them
 *   (nobody presses Sync); the clerk's app receives the two cases on its
 *   Review tab, approves one and returns the other with a comment, and
 *   sends the decisions by itself; the worker's app, unlocked again, syncs
 *   and shows the correction on Today, the household page shows the
 *   clerk's comment, and the revisit through the form closes the
 *   correction and reaches the center by itself; the clerk's app approves
 *   the revisit; a county official's app counts on its Overview what the
 *   center holds, approves both cases into monitoring through its Review
 *   tab (one with an assistance measure), sees them monitored, and exports
 *   the batch through its Export tab into a folder (as the folder
 *   chooser's answer gives it), which verifies. The counts of the stores,
 *   the center and the batch are checked at each step: nothing lost,
 *   nothing twice. Screenshots go to tests/screenshots/LANGUAGE/ (70-81).
 */
#include "ui-test-util.h"
#include "test-center-util.h"
#include "batch.h"
#include "case-review.h"
#include "case-store.h"
#include "case-summary.h"
#include "hearth-county-page.h"
#include "hearth-export-page.h"
#include "hearth-form-field.h"
#include "hearth-form-view.h"
#include "hearth-household-page.h"
#include "case-labels.h"
#include "hearth-review-page.h"
#include "hearth-sync-page.h"
#include "hearth-syncer.h"
#include "hearth-today-page.h"
#include "hearth-worker-view.h"
#include "client.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define COUNTY "150422"
#define TOWNSHIP "150422101"
#define VILLAGE "150422101203"
#define HOUSEHOLDS 120
#define TABLET_PASSPHRASE "correct horse battery"
#define COMMENT "收入核实不全，请补充外出务工收入"
#define MEASURE "肉牛养殖补贴，每户两头"

static Center *center;
static TestTablet worker, clerk, county;
static GSubprocess *proxy;
static char *offline;      /* the proxy refuses connections while it exists */
static char *scratch;

/* ---- a network that is always there ------------------------------------------------ */

/* The machine's own monitor may see no network (then the app would not
 * try); the cut here is the proxy's refusals, as a village's dead uplink
 * behind a working wifi: the app's monitor always reports a network. */

/* ---- answers --------------------------------------------------------------------- */

static JsonObject *
answers_of (const char *name)
{
  g_autofree char *path = test_source_path ("tests", "data", "answers", name, NULL);
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_file (p, path, &error));
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (p)));
}

/* A new household of VILLAGE: its head alone. */
static JsonObject *
registration_answers (void)
{
  JsonObject *o = answers_of ("registration-zh.json");

  json_object_set_string_member (o, "/data/household/village_code", VILLAGE);
  return o;
}

/* A visit that finds nothing: good income, every guarantee met (as
 * test-story.c's). */
static JsonObject *
quiet_answers (void)
{
  JsonObject *o = answers_of ("visit-zh.json");

  json_object_set_string_member (o, "/data/income/wages_other", "150000");
  json_object_set_string_member (o, "/data/risks/risk_types", "");
  json_object_remove_member (o, "/data/risks/risk_description");
  json_object_set_string_member (o, "/data/risks/medical_self_pay", "0");
  json_object_set_string_member (o, "/data/assistance/propose_monitoring", "no");
  return o;
}

/* A visit that finds risks: the well water fails, monitoring proposed. */
static JsonObject *
risky_answers (void)
{
  JsonObject *o = answers_of ("visit-zh.json");

  json_object_set_string_member (o, "/data/guarantees/water_quality", "no");
  json_object_set_string_member (o, "/data/assistance/propose_monitoring", "yes");
  return o;
}

/* ---- the app --------------------------------------------------------------------- */

/* The app on @t's store, unlocked by its passphrase typed in. */
static HearthApplication *
unlock (TestTablet *t)
{
  HearthApplication *app = ui_test_app_new (t->dir);
  HearthWindow *window = ui_test_window (app);

  ui_test_type (ui_test_find (GTK_WIDGET (window), "passphrase_entry"), TABLET_PASSPHRASE);
  ui_test_click (ui_test_find (GTK_WIDGET (window), "unlock_button"));
  ui_test_wait_screen (window, "main");
  return app;
}

static HearthSyncer *
syncer_of (HearthApplication *app)
{
  return hearth_session_get_syncer (hearth_application_get_session (app));
}

static gint64
app_int (HearthApplication *app, const char *sql, const char *arg)
{
  g_autofree char *text = ui_test_app_text (app, sql, arg);

  g_assert_nonnull (text);
  return g_ascii_strtoll (text, NULL, 10);
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

static const char *
sync_page_state (HearthApplication *app)
{
  GtkWidget *root = GTK_WIDGET (ui_test_window (app));
  GtkWidget *page = ui_test_find_type (root, HEARTH_TYPE_SYNC_PAGE);

  ui_test_flush (root);
  return gtk_label_get_text (GTK_LABEL (ui_test_find (page, "state_label")));
}

static void
show_tab (HearthApplication *app, const char *name)
{
  GtkWidget *root = GTK_WIDGET (ui_test_window (app));

  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (ui_test_find (root, "view_stack")), name);
  ui_test_flush (root);
}

static gboolean
case_closed (gpointer page)
{
  return hearth_review_page_get_household_id (page) == NULL;
}

static gboolean
export_ended (gpointer page)
{
  return !hearth_export_page_get_busy (page);
}

static HearthReviewPage *
review_page_of (GtkWidget *root)
{
  return hearth_worker_view_get_review_page (HEARTH_WORKER_VIEW (ui_test_find_type (root, HEARTH_TYPE_WORKER_VIEW)));
}

static const HearthCaseSummary *
overview_of (HearthApplication *app)
{
  GtkWidget *root = GTK_WIDGET (ui_test_window (app));
  const HearthCaseSummary *s = hearth_county_page_get_summary (
    HEARTH_COUNTY_PAGE (ui_test_find_type (root, HEARTH_TYPE_COUNTY_PAGE)));

  g_assert_nonnull (s);
  return s;
}

/* How many households of monitoring state @state the county's overview shows. */
static guint
overview_count (HearthApplication *app, const char *state)
{
  for (guint i = 0; i < HEARTH_SUMMARY_N_STATES; i++)
    if (g_str_equal (hearth_summary_state_name (i), state))
      return overview_of (app)->total.by_state[i];
  g_error ("the overview counts no state %s", state);
}

/* ---- the form screens ------------------------------------------------------------- */

/* The questions of the page shown that @answers has and the form does not
 * already hold. */
static void
fill_page (HearthFormView *view, JsonObject *answers)
{
  g_autoptr(GPtrArray) fields = ui_test_find_all (GTK_WIDGET (view), HEARTH_TYPE_FORM_FIELD);

  for (guint i = 0; i < fields->len; i++)
    {
      HearthFormField *field = fields->pdata[i];
      const char *path = hearth_form_field_get_path (field);
      g_autofree char *now = NULL;
      const char *value;

      if (!json_object_has_member (answers, path) || hearth_form_field_get_input (field) == NULL)
        continue;
      value = json_object_get_string_member (answers, path);
      now = ui_test_form_value (view, path);
      if (g_strcmp0 (now, value) != 0)
        ui_test_form_answer (view, field, value);
    }
}

/* The form shown filled page by page from @answers to its summary, which
 * @shot names a screenshot of (nullable), and saved.
 * Returns: (transfer full): the submission's id. */
static char *
fill_and_save (HearthApplication *app, JsonObject *answers, const char *shot, char **risk)
{
  HearthWindow *window = ui_test_window (app);
  HearthFormView *view = ui_test_form_view (app);
  g_autofree char *instance_id = NULL;

  for (guint guard = 0;
       g_strcmp0 (hearth_form_view_get_page_key (view), HEARTH_FORM_SUMMARY_KEY) != 0; guard++)
    {
      g_autofree char *before = g_strdup (hearth_form_view_get_page_key (view));

      g_assert_cmpuint (guard, <, 40);
      fill_page (view, answers);
      ui_test_form_press (view, "next_button");
      if (g_strcmp0 (before, hearth_form_view_get_page_key (view)) == 0)
        {
          g_autofree char *shown = ui_test_visible_text (GTK_WIDGET (view));
          g_error ("the page %s did not let go:\n%s", before, shown);
        }
    }
  if (risk != NULL)
    {
      *risk = ui_test_form_value (view, "/data/assessment/risk_level");
      g_assert_nonnull (*risk);
      g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (GTK_WIDGET (view), "risk_badge"))), ==,
                       hearth_label_risk_level (*risk));
    }
  if (shot != NULL)
    ui_test_screenshot (GTK_WIDGET (window), shot);
  instance_id = g_strdup (hearth_form_session_get_instance_id (hearth_form_view_get_form_session (view)));
  g_assert_true (g_str_has_prefix (instance_id, "uuid:"));
  ui_test_form_press (view, "save_button");
  ui_test_wait_screen (window, "main");
  return g_strdup (instance_id + strlen ("uuid:"));
}

/* A household registered from the household list.
 * Returns: (transfer full): its id. */
static char *
register_household (HearthApplication *app, JsonObject *answers)
{
  HearthWindow *window = ui_test_window (app);
  g_autofree char *submission = NULL;

  show_tab (app, "households");
  ui_test_click (ui_test_find (GTK_WIDGET (window), "register_button"));
  ui_test_wait_screen (window, "form");
  submission = fill_and_save (app, answers, NULL, NULL);
  return ui_test_app_text (app, "SELECT household_id FROM submissions WHERE id = ?", submission);
}

/* A visit to @household begun from its page, filled from @answers and
 * saved; @shot names a screenshot of its summary (nullable).
 * Returns: (transfer full): the risk level the form computed. */
static char *
visit (HearthApplication *app, const char *household, JsonObject *answers, const char *shot)
{
  HearthWindow *window = ui_test_window (app);
  GtkWidget *root = GTK_WIDGET (window);
  GtkWidget *hp;
  g_autofree char *submission = NULL;
  char *risk = NULL;

  hearth_worker_view_show_household (HEARTH_WORKER_VIEW (ui_test_find_type (root, HEARTH_TYPE_WORKER_VIEW)),
                                     household);
  ui_test_flush (root);
  hp = ui_test_find_type (root, HEARTH_TYPE_HOUSEHOLD_PAGE);
  g_assert_cmpstr (hearth_household_page_get_household_id (HEARTH_HOUSEHOLD_PAGE (hp)), ==, household);
  ui_test_click (ui_test_find (hp, "visit_button"));
  ui_test_wait_screen (window, "form");
  submission = fill_and_save (app, answers, shot, &risk);
  {
    g_autofree char *of = ui_test_app_text (app, "SELECT household_id FROM submissions WHERE id = ?", submission);
    g_assert_cmpstr (of, ==, household);
  }
  return risk;
}

/* ---- the center ------------------------------------------------------------------- */

/* How many records of @tbl device @device sent the center. */
static gint64
center_records (const char *tbl, const char *device)
{
  g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM changes WHERE tbl = '%s' AND kind = 'record' AND "
                                          "device = (SELECT num FROM device_numbers WHERE id = '%s')", tbl, device);

  return center_db_int (center, sql);
}

/* The center's merged value of a household's field (a JSON string). */
static char *
center_household_field (const char *household, const char *field)
{
  g_autofree char *sql = g_strdup_printf ("SELECT value FROM field_state WHERE tbl = 'households' AND record_id = '%s' "
                                          "AND field = '%s'", household, field);
  g_autofree char *json = center_db_text (center, sql);
  g_autoptr(JsonNode) node = json != NULL ? json_from_string (json, NULL) : NULL;

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) ? g_strdup (json_node_get_string (node)) : g_strdup (json);
}

typedef struct {
  const char *tbl;
  const char *device;
  gint64 expected;
  HearthSyncer *syncer;
} CenterHas;

/* The center holds what was expected and the app's syncer rests, synced. */
static gboolean
center_has (gpointer data)
{
  CenterHas *w = data;

  return center_records (w->tbl, w->device) == w->expected && hearth_syncer_get_synced (w->syncer);
}

/* Waits, pressing nothing, until the center has @expected records of @tbl
 * from @device and the app says it is synced. */
static void
wait_center (HearthApplication *app, const char *tbl, const char *device, gint64 expected, const char *what)
{
  CenterHas w = { tbl, device, expected, syncer_of (app) };

  ui_test_wait_for (center_has, &w, 60000, what);
}

/* The county's overview counts what the center holds: @households in all,
 * said in its heading, and as many in each monitoring state. */
static void
assert_overview_matches_center (HearthApplication *app, guint households)
{
  GtkWidget *root = GTK_WIDGET (ui_test_window (app));
  GtkWidget *page = ui_test_find_type (root, HEARTH_TYPE_COUNTY_PAGE);
  const HearthCaseSummary *s;
  g_autofree char *heading = NULL;
  guint none = G_MAXUINT;
  gint64 decided = 0;

  ui_test_flush (root);
  s = overview_of (app);
  g_assert_cmpint (center_db_int (center, "SELECT count (DISTINCT household) FROM changes WHERE tbl = 'households'"),
                   ==, households);
  g_assert_cmpuint (s->total.households, ==, households);
  heading = g_strdup_printf (g_dngettext (NULL, "%u household synchronised into this tablet",
                                          "%u households synchronised into this tablet", households),
                             households);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (page, "total_label"))), ==, heading);
  for (guint i = 0; i < HEARTH_SUMMARY_N_STATES; i++)
    {
      const char *state = hearth_summary_state_name (i);
      g_autofree char *sql = NULL;
      gint64 at_center;

      if (g_str_equal (state, "none"))
        {
          none = i;
          continue;
        }
      /* The merged value, as center_household_field() reads it. */
      sql = g_strdup_printf ("SELECT count (*) FROM field_state WHERE tbl = 'households' AND field = "
                             "'monitoring_status' AND value IN ('%s', '\"%s\"')", state, state);
      at_center = center_db_int (center, sql);
      g_assert_cmpint (s->total.by_state[i], ==, at_center);
      decided += at_center;
    }
  /* A household the center holds no state for is in none. */
  g_assert_cmpuint (none, <, HEARTH_SUMMARY_N_STATES);
  g_assert_cmpint (s->total.by_state[none], ==, households - decided);
}

/* Fails unless every record of JSON batch file @dir/@file has an id of its
 * own, and returns how many there are. */
static guint
batch_unique_ids (const char *dir, const char *file)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *a;

  g_assert_true (json_parser_load_from_file (p, path, NULL));
  a = json_node_get_array (json_parser_get_root (p));
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      const char *id = json_object_get_string_member (json_array_get_object_element (a, i), "id");

      if (!g_hash_table_add (seen, (gpointer) id))
        g_error ("%s holds %s twice", file, id);
    }
  return json_array_get_length (a);
}

static gint64
manifest_records (JsonObject *manifest, const char *file)
{
  JsonArray *files = json_object_get_array_member (manifest, "files");

  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      JsonObject *f = json_array_get_object_element (files, i);
      if (g_str_equal (json_object_get_string_member (f, "name"), file))
        return json_object_get_int_member (f, "records");
    }
  g_error ("the manifest lists no %s", file);
}

/* ---- the story -------------------------------------------------------------------- */

static void
setup (void)
{
  g_autofree char *registry = NULL;
  g_autofree char *url = NULL;
  g_auto(TestRun) r = { 0 };

  scratch = test_make_dir ("ui-story");
  registry = g_build_filename (scratch, "registry.csv", NULL);
  offline = g_build_filename (scratch, "offline", NULL);
  center = center_init ("ui-story-center", COUNTY);
  test_run_cli (&r, NULL, "demo", "generate", "--households", G_STRINGIFY (HOUSEHOLDS), "--seed", "2026", "--county",
                COUNTY, "--out", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  run_center (&r, "--db", center->db, "import-households", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);
  center_add_user (center, "wang.fang", "worker", TOWNSHIP);
  center_add_user (center, "li.ming", "clerk", TOWNSHIP);
  center_add_user (center, "zhao.lei", "county", COUNTY);
  center_start (center);
  /* The worker's tablet reaches the center through the proxy only. */
  proxy = test_proxy_start (center, offline, NULL, &url);
  test_tablet_enrol_at (&worker, "ui-story-worker", center, "wang.fang", url);
  test_tablet_enrol (&clerk, "ui-story-clerk", center, "li.ming");
  test_tablet_enrol (&county, "ui-story-county", center, "zhao.lei");
}

static void
test_day (void)
{
  HearthApplication *app;
  HearthWindow *window;
  GtkWidget *root;
  HearthSyncer *syncer;
  g_autofree char *device = NULL;
  g_autofree char *clerk_device = NULL;
  g_autofree char *county_device = NULL;
  g_autofree char *approved = NULL, *returned = NULL, *returned_head = NULL;
  g_autoptr(GPtrArray) visited = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(JsonObject) quiet = quiet_answers ();
  g_autoptr(JsonObject) risky = risky_answers ();
  g_autoptr(JsonObject) registration = registration_answers ();
  g_autofree char *registered = NULL;
  g_autofree char *proxy_log = NULL;
  gint64 in_township;
  guint runs;

  /* The worker unlocks; the township's households arrive by themselves. */
  app = unlock (&worker);
  window = ui_test_window (app);
  root = GTK_WIDGET (window);
  syncer = syncer_of (app);
  wait_run (syncer, 0, "the worker's first sync");
  g_assert_null (hearth_syncer_get_error (syncer));
  in_township = center_db_int (center, "SELECT count (DISTINCT household) FROM changes WHERE tbl = 'households' "
                                       "AND village LIKE '" TOWNSHIP "%'");
  g_test_message ("%d households in the county, %" G_GINT64_FORMAT " in township " TOWNSHIP, HOUSEHOLDS, in_township);
  g_assert_cmpint (in_township, >=, 10);
  g_assert_cmpint (app_int (app, "SELECT count (*) FROM households", NULL), ==, in_township);
  device = g_strdup (hearth_case_store_get_device_id (hearth_session_get_cases (hearth_application_get_session (app))));
  g_assert_cmpstr (sync_page_state (app), ==, _("Synced"));

  /* The network goes down: the proxy refuses every connection. */
  g_assert_true (g_file_set_contents (offline, "", 0, NULL));

  /* A new household registered through the form screens. */
  registered = register_household (app, registration);
  g_assert_nonnull (registered);
  {
    g_autofree char *head = ui_test_app_text (app, "SELECT head_name FROM households WHERE id = ?", registered);
    g_autofree char *village = ui_test_app_text (app, "SELECT village_code FROM households WHERE id = ?", registered);

    g_assert_cmpstr (head, ==, "黄志强");
    g_assert_cmpstr (village, ==, VILLAGE);
  }
  g_assert_cmpint (app_int (app, "SELECT count (*) FROM households", NULL), ==, in_township + 1);

  /* Three visits through the form screens; the last two find risks. */
  {
    sqlite3_stmt *st = NULL;

    /* Households of the registry (not the one just registered). */
    g_assert_cmpint (sqlite3_prepare_v2 (ui_test_db (app), "SELECT id FROM households WHERE monitoring_status = 'none' "
                                                      "AND deleted = 0 AND id != ? ORDER BY id LIMIT 3", -1, &st,
                                         NULL), ==, SQLITE_OK);
    sqlite3_bind_text (st, 1, registered, -1, SQLITE_STATIC);
    while (sqlite3_step (st) == SQLITE_ROW)
      g_ptr_array_add (visited, g_strdup ((const char *) sqlite3_column_text (st, 0)));
    sqlite3_finalize (st);
    g_assert_cmpuint (visited->len, ==, 3);
  }
  {
    g_autofree char *level0 = visit (app, visited->pdata[0], quiet, NULL);
    g_autofree char *level1 = visit (app, visited->pdata[1], risky, "70-story-offline-visit");
    g_autofree char *level2 = visit (app, visited->pdata[2], risky, NULL);

    /* Yellow at most (a household without ordinary labour stays on
     * watch), which raises no case; a failed guarantee is orange. */
    g_assert_true (g_str_equal (level0, "none") || g_str_equal (level0, "yellow"));
    g_assert_cmpstr (level1, ==, "orange");
    g_assert_cmpstr (level2, ==, "orange");
  }
  g_assert_cmpint (app_int (app, "SELECT count (*) FROM submissions WHERE device_id = ?", device), ==, 4);
  g_assert_cmpint (app_int (app, "SELECT count (*) FROM households WHERE monitoring_status = "
                                 "'pending_village_review'", NULL), ==, 2);
  /* The app tried by itself and was refused; the visits wait, said so. */
  runs = hearth_syncer_get_runs (syncer);
  wait_run (syncer, runs, "a try with the network down");
  g_assert_error (hearth_syncer_get_error (syncer), HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE);
  g_assert_cmpint (hearth_syncer_get_status (syncer)->pending, >, 0);
  g_assert_cmpint (center_records ("submissions", device), ==, 0);
  show_tab (app, "sync");
  g_assert_cmpstr (sync_page_state (app), ==, _("Not synced"));
  ui_test_screenshot (root, "71-story-offline-sync");
  {
    g_autofree char *log_path = g_strconcat (offline, ".log", NULL);
    g_assert_true (g_file_get_contents (log_path, &proxy_log, NULL, NULL));
  }
  g_assert_nonnull (strstr (proxy_log, "refused (offline)"));

  /* The network returns: the app's retries deliver everything; nobody
   * presses Sync. */
  g_assert_cmpint (g_unlink (offline), ==, 0);
  wait_center (app, "submissions", device, 4, "the visits to reach the center by themselves");
  g_assert_cmpint (hearth_syncer_get_status (syncer)->pending, ==, 0);
  g_assert_cmpint (center_db_int (center, "SELECT count (DISTINCT record_id) FROM changes WHERE tbl = 'submissions' "
                                          "AND kind = 'record'"), ==, 4);
  g_assert_cmpint (center_db_int (center, "SELECT count (DISTINCT household) FROM changes WHERE tbl = 'households' "
                                          "AND village LIKE '" TOWNSHIP "%'"), ==, in_township + 1);
  for (guint i = 1; i < 3; i++)
    {
      g_autofree char *status = center_household_field (visited->pdata[i], "monitoring_status");
      g_assert_cmpstr (status, ==, "pending_village_review");
    }
  g_assert_cmpstr (sync_page_state (app), ==, _("Synced"));
  ui_test_screenshot (root, "72-story-synced");
  ui_test_app_free (app);

  /* The clerk's app: both cases on the Review tab, received by itself. */
  app = unlock (&clerk);
  window = ui_test_window (app);
  root = GTK_WIDGET (window);
  syncer = syncer_of (app);
  wait_run (syncer, 0, "the clerk's first sync");
  g_assert_null (hearth_syncer_get_error (syncer));
  ui_test_flush (root);
  clerk_device = g_strdup (hearth_case_store_get_device_id (
    hearth_session_get_cases (hearth_application_get_session (app))));
  g_assert_cmpint (app_int (app, "SELECT count (*) FROM households", NULL), ==, in_township + 1);
  g_assert_cmpint (app_int (app, "SELECT count (*) FROM submissions", NULL), ==, 4);
  {
    AdwViewStack *stack = ADW_VIEW_STACK (ui_test_find (root, "view_stack"));
    HearthReviewPage *page = hearth_worker_view_get_review_page (
      HEARTH_WORKER_VIEW (ui_test_find_type (root, HEARTH_TYPE_WORKER_VIEW)));
    GtkWidget *review = GTK_WIDGET (page);
    g_autoptr(GPtrArray) rows = NULL;
    g_autofree char *approved_head = NULL;

    g_assert_cmpstr (adw_view_stack_get_visible_child_name (stack), ==, "review");
    g_assert_cmpuint (hearth_review_page_get_counts (page, NULL), ==, 2);
    approved = g_strdup (visited->pdata[1]);
    returned = g_strdup (visited->pdata[2]);
    approved_head = ui_test_app_text (app, "SELECT head_name FROM households WHERE id = ?", approved);
    returned_head = ui_test_app_text (app, "SELECT head_name FROM households WHERE id = ?", returned);
    ui_test_screenshot (root, "73-story-clerk-queue");

    /* A tap on a case opens it. */
    rows = ui_test_find_all (ui_test_find (review, "cases_group"), ADW_TYPE_ACTION_ROW);
    for (guint i = 0; i < rows->len; i++)
      if (g_strcmp0 (adw_preferences_row_get_title (rows->pdata[i]), returned_head) == 0)
        g_assert_true (gtk_widget_activate (rows->pdata[i]));
    ui_test_flush (root);
    g_assert_cmpstr (hearth_review_page_get_household_id (page), ==, returned);
    gtk_widget_grab_focus (ui_test_find (review, "comment_view"));
    gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (ui_test_find (review, "comment_view"))),
                              COMMENT, -1);
    ui_test_screenshot (root, "74-story-clerk-returns");
    ui_test_click (ui_test_find (review, "send_back_button"));
    /* The focus left the comment: a moment for an input method. */
    ui_test_wait_for (case_closed, page, 5000, "the case to be returned");
    ui_test_flush (root);
    g_assert_null (hearth_review_page_get_household_id (page));
    ui_test_assert_app_text (app, "SELECT monitoring_status FROM households WHERE id = ?", returned, "returned");

    g_assert_true (hearth_review_page_open (page, approved));
    ui_test_flush (root);
    ui_test_click (ui_test_find (review, "approve_button"));
    ui_test_flush (root);
    ui_test_assert_app_text (app, "SELECT monitoring_status FROM households WHERE id = ?", approved,
                             "pending_county_approval");
    g_assert_cmpuint (hearth_review_page_get_counts (page, NULL), ==, 0);
    g_assert_true (gtk_widget_get_visible (ui_test_find (review, "no_cases_label")));
  }
  /* The decisions go out by themselves. */
  wait_center (app, "reviews", clerk_device, 2, "the clerk's decisions to reach the center");
  {
    g_autofree char *status = center_household_field (returned, "monitoring_status");
    g_assert_cmpstr (status, ==, "returned");
  }
  ui_test_app_free (app);

  /* The worker's app again: the correction arrives with its first sync and
   * shows on Today. */
  app = unlock (&worker);
  window = ui_test_window (app);
  root = GTK_WIDGET (window);
  syncer = syncer_of (app);
  wait_run (syncer, 0, "the worker's sync after the unlock");
  g_assert_null (hearth_syncer_get_error (syncer));
  g_assert_cmpint (app_int (app, "SELECT count (*) FROM tasks WHERE kind = 'correction' AND status = 'open' AND "
                                 "household_id = ?", returned), ==, 1);
  g_assert_cmpint (app_int (app, "SELECT count (*) FROM tasks WHERE kind = 'correction'", NULL), ==, 1);
  show_tab (app, "today");
  {
    g_autoptr(GPtrArray) rows = ui_test_find_all (GTK_WIDGET (hearth_worker_view_get_today_page (
      HEARTH_WORKER_VIEW (ui_test_find_type (root, HEARTH_TYPE_WORKER_VIEW)))), ADW_TYPE_ACTION_ROW);
    GtkWidget *correction = NULL;
    GtkWidget *hp;
    g_autofree char *comment_shown = NULL;

    for (guint i = 0; i < rows->len; i++)
      if (g_strcmp0 (adw_preferences_row_get_title (rows->pdata[i]), returned_head) == 0 &&
          strstr (adw_action_row_get_subtitle (rows->pdata[i]), hearth_label_task_kind ("correction")) != NULL)
        correction = rows->pdata[i];
    g_assert_nonnull (correction);
    ui_test_screenshot (root, "75-story-correction-today");

    /* The task opens the household, with the clerk's comment. */
    g_assert_true (gtk_widget_activate (correction));
    ui_test_flush (root);
    hp = ui_test_find_type (root, HEARTH_TYPE_HOUSEHOLD_PAGE);
    g_assert_cmpstr (hearth_household_page_get_household_id (HEARTH_HOUSEHOLD_PAGE (hp)), ==, returned);
    comment_shown = ui_test_visible_text (ui_test_find (hp, "reviews_group"));
    g_assert_nonnull (strstr (comment_shown, COMMENT));
    ui_test_screenshot (root, "76-story-returned-household");
  }

  /* The revisit closes the correction and reaches the center by itself. */
  {
    g_autofree char *level = visit (app, returned, risky, NULL);
    g_assert_cmpstr (level, ==, "orange");
  }
  g_assert_cmpint (app_int (app, "SELECT count (*) FROM tasks WHERE kind = 'correction' AND status = 'open'", NULL),
                   ==, 0);
  ui_test_assert_app_text (app, "SELECT monitoring_status FROM households WHERE id = ?", returned,
                           "pending_village_review");
  wait_center (app, "submissions", device, 5, "the revisit to reach the center by itself");
  show_tab (app, "sync");
  ui_test_screenshot (root, "77-story-revisit-synced");
  ui_test_app_free (app);

  /* The clerk's app: the revisit on its Review tab, approved; the decision
   * goes out by itself. */
  app = unlock (&clerk);
  window = ui_test_window (app);
  root = GTK_WIDGET (window);
  syncer = syncer_of (app);
  wait_run (syncer, 0, "the clerk's sync after the unlock");
  g_assert_null (hearth_syncer_get_error (syncer));
  ui_test_flush (root);
  {
    HearthReviewPage *page = review_page_of (root);
    g_autofree char *status = NULL;

    show_tab (app, "review");
    g_assert_cmpuint (hearth_review_page_get_counts (page, NULL), ==, 1);
    g_assert_true (hearth_review_page_open (page, returned));
    ui_test_flush (root);
    ui_test_click (ui_test_find (GTK_WIDGET (page), "approve_button"));
    ui_test_wait_for (case_closed, page, 5000, "the clerk's approval of the revisit");
    ui_test_flush (root);
    status = ui_test_app_text (app, "SELECT monitoring_status FROM households WHERE id = ?", returned);
    g_assert_cmpstr (status, ==, "pending_county_approval");
    g_assert_cmpuint (hearth_review_page_get_counts (page, NULL), ==, 0);
  }
  wait_center (app, "reviews", clerk_device, 3, "the clerk's approval of the revisit to reach the center");
  ui_test_app_free (app);

  /* The county official's tablet: its overview counts what the center
   * holds; both cases approved into monitoring through its Review tab,
   * one with an assistance measure; the batch exported through its Export
   * tab. */
  app = unlock (&county);
  window = ui_test_window (app);
  root = GTK_WIDGET (window);
  syncer = syncer_of (app);
  wait_run (syncer, 0, "the county's first sync");
  g_assert_null (hearth_syncer_get_error (syncer));
  ui_test_flush (root);
  county_device = g_strdup (hearth_case_store_get_device_id (
    hearth_session_get_cases (hearth_application_get_session (app))));
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (ADW_VIEW_STACK (ui_test_find (root, "view_stack"))), ==,
                   "county");
  assert_overview_matches_center (app, HOUSEHOLDS + 1);
  g_assert_cmpuint (overview_count (app, "pending_county_approval"), ==, 2);
  g_assert_cmpuint (overview_count (app, "monitored"), ==, 0);
  ui_test_screenshot (root, "78-story-county-overview");
  {
    HearthReviewPage *page = review_page_of (root);
    GtkWidget *review = GTK_WIDGET (page);
    const char *const *types = hearth_case_measure_types ();
    guint industry = G_MAXUINT;
    g_autofree char *sql = NULL;
    g_autofree char *measures = NULL;

    for (guint i = 0; types[i] != NULL; i++)
      if (g_str_equal (types[i], "industry"))
        industry = i;
    g_assert_cmpuint (industry, !=, G_MAXUINT);
    show_tab (app, "review");
    g_assert_cmpuint (hearth_review_page_get_counts (page, NULL), ==, 2);

    /* The first case, with the measure the county decides for it. */
    g_assert_true (hearth_review_page_open (page, approved));
    ui_test_flush (root);
    g_assert_true (gtk_widget_get_visible (ui_test_find (review, "measures_group")));
    adw_combo_row_set_selected (ADW_COMBO_ROW (ui_test_find (review, "measure_type_row")), industry);
    ui_test_type (ui_test_find (review, "measure_entry"), MEASURE);
    ui_test_click (ui_test_find (review, "add_measure_button"));
    ui_test_flush (root);
    /* The measure added shows above the buttons, at the end of the case. */
    {
      GtkAdjustment *adj =
        gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (ui_test_find (review, "case_scroller")));

      gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
      ui_test_flush (root);
    }
    {
      g_autofree char *shown = ui_test_visible_text (ui_test_find (review, "measures_group"));
      g_assert_nonnull (strstr (shown, MEASURE));
    }
    ui_test_screenshot (root, "79-story-county-approves");
    ui_test_click (ui_test_find (review, "approve_button"));
    ui_test_wait_for (case_closed, page, 5000, "the county's approval with its measure");
    ui_test_flush (root);

    /* The revisited case, as it is. */
    g_assert_cmpuint (hearth_review_page_get_counts (page, NULL), ==, 1);
    g_assert_true (hearth_review_page_open (page, returned));
    ui_test_flush (root);
    ui_test_click (ui_test_find (review, "approve_button"));
    ui_test_wait_for (case_closed, page, 5000, "the county's approval of the revisited case");
    ui_test_flush (root);
    g_assert_cmpuint (hearth_review_page_get_counts (page, NULL), ==, 0);
    for (guint i = 0; i < 2; i++)
      {
        g_autofree char *status =
          ui_test_app_text (app, "SELECT monitoring_status FROM households WHERE id = ?", i == 0 ? approved : returned);
        g_assert_cmpstr (status, ==, "monitored");
      }
    sql = g_strdup_printf ("SELECT group_concat (type || ':' || description, '|') FROM measures WHERE "
                           "household_id IN ('%s', '%s') AND created_by IN (SELECT id FROM reviews WHERE "
                           "to_state = 'monitored')", approved, returned);
    measures = ui_test_app_text (app, sql, NULL);
    g_assert_cmpstr (measures, ==, "industry:" MEASURE);
  }
  /* The decisions go out by themselves; the overview follows. */
  wait_center (app, "reviews", county_device, 2, "the county's approvals to reach the center");
  {
    g_autofree char *a = center_household_field (approved, "monitoring_status");
    g_autofree char *b = center_household_field (returned, "monitoring_status");

    g_assert_cmpstr (a, ==, "monitored");
    g_assert_cmpstr (b, ==, "monitored");
  }
  show_tab (app, "county");
  assert_overview_matches_center (app, HOUSEHOLDS + 1);
  g_assert_cmpuint (overview_count (app, "pending_county_approval"), ==, 0);
  g_assert_cmpuint (overview_count (app, "monitored"), ==, 2);
  ui_test_screenshot (root, "80-story-county-monitored");

  /* The batch through the Export tab, into a folder as the folder
   * chooser's answer gives it: every household once (the registry's and
   * the new one), the day's five submissions (the registration and four
   * visits), eight reviews (two cases raised, the return, the revisit
   * raising it again, two approvals by the clerk and two by the county)
   * and the county's one measure. */
  {
    HearthExportPage *export = HEARTH_EXPORT_PAGE (ui_test_find_type (root, HEARTH_TYPE_EXPORT_PAGE));
    GtkWidget *result = ui_test_find (GTK_WIDGET (export), "result_label");
    g_autofree char *dir = g_build_filename (scratch, "exports", NULL);
    g_autoptr(GFile) folder = g_file_new_for_path (dir);
    g_autoptr(JsonObject) manifest = NULL;
    g_autoptr(GError) error = NULL;
    g_auto(TestRun) r = { 0 };
    const char *batch;

    g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
    show_tab (app, "export");
    g_assert_true (hearth_export_page_set_scope (export, COUNTY));
    /* JSON (other systems): the second format offered. */
    adw_combo_row_set_selected (ADW_COMBO_ROW (ui_test_find (GTK_WIDGET (export), "format_row")), 1);
    /* Never exported from this tablet: nothing to continue after. */
    g_assert_false (gtk_switch_get_active (GTK_SWITCH (ui_test_find (GTK_WIDGET (export), "continue_switch"))));
    hearth_export_page_export_to (export, folder);
    g_assert_true (hearth_export_page_get_busy (export));
    ui_test_wait_for (export_ended, export, 60000, "the export");
    ui_test_flush (root);
    g_assert_false (gtk_widget_has_css_class (result, "hearth-error"));
    batch = hearth_export_page_get_batch_dir (export);
    g_assert_nonnull (batch);
    g_assert_true (g_str_has_prefix (batch, dir));
    ui_test_screenshot (root, "81-story-county-exported");

    g_assert_true (hearth_batch_verify (batch, &manifest, &error));
    g_assert_no_error (error);
    test_run_cli (&r, NULL, "verify-batch", batch, NULL);
    if (r.status != 0)
      g_error ("hearth-cli verify-batch: exit %d\n%s%s", r.status, r.out, r.err);
    g_assert_cmpstr (json_object_get_string_member (manifest, "scope"), ==, COUNTY);
    g_assert_cmpint (manifest_records (manifest, "households.json"), ==, HOUSEHOLDS + 1);
    g_assert_cmpint (manifest_records (manifest, "submissions.json"), ==, 5);
    g_assert_cmpint (manifest_records (manifest, "reviews.json"), ==, 8);
    g_assert_cmpint (manifest_records (manifest, "measures.json"), ==, 1);
    g_assert_cmpuint (batch_unique_ids (batch, "households.json"), ==, HOUSEHOLDS + 1);
    g_assert_cmpuint (batch_unique_ids (batch, "submissions.json"), ==, 5);
    g_assert_cmpuint (batch_unique_ids (batch, "reviews.json"), ==, 8);
    g_assert_cmpuint (batch_unique_ids (batch, "measures.json"), ==, 1);
  }
  ui_test_app_free (app);
}

int
main (int argc, char **argv)
{
  HearthSyncerConfig config = { .soon_ms = 200, .backoff_base_ms = 300, .backoff_max_ms = 1000, .again_ms = 60000 };
  g_autoptr(UiTestMonitor) monitor = NULL;
  int status;

  ui_test_init (&argc, &argv);
  monitor = ui_test_monitor_new (TRUE);
  config.network_monitor = G_NETWORK_MONITOR (monitor);
  hearth_syncer_set_defaults (&config);
  setup ();
  g_test_add_func ("/ui/story/day", test_day);
  status = g_test_run ();
  test_proxy_stop (proxy);
  if (center_running (center))
    center_stop (center);
  center_free (center);
  test_tablet_clear (&worker);
  test_tablet_clear (&clerk);
  test_tablet_clear (&county);
  g_free (offline);
  g_free (scratch);
  return status;
}

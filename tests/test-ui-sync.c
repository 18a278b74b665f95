/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-ui-sync.c: the tablet app's sync in the background (hearth-syncer.h)
 * and its screen (hearth-sync-page.h), with a real hearth-center on
 * 127.0.0.1 and a second tablet driven by hearth-cli, under Xvfb in the
 * language of $HEARTH_TEST_LANGUAGE:
 * - after the unlock the app syncs by itself, on a thread of its own:
 *   the household the other tablet registered arrives, the screen says
 *   "Synced" with the last sync; a visit recorded on the tablet is sent
 *   soon after, by itself;
 * - the center down: the change waits, the screen says "Not synced" with
 *   the number waiting and why in plain words (never "Synced"), the tries
 *   go on with backoff; without a network none is made; the network back
 *   (as the network monitor reports it), a run starts at once and
 *   everything is acknowledged; "Sync now" runs on demand;
 * - a tablet clock an hour ahead is said so, in minutes;
 * - a revoked tablet deletes its store: the unlock screen then offers to
 *   make a new one.
 * The screen's controls are labelled and large enough; screenshots go to
 * tests/screenshots/LANGUAGE/.
 */
#include "ui-test-util.h"
#include "test-center-util.h"
#include "case-store.h"
#include "case-labels.h"
#include "hearth-refused-row.h"
#include "hearth-sync-page.h"
#include "hearth-syncer.h"
#include "hearth-worker-view.h"
#include "client.h"
#include "store.h"
#include "store-vfs.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#define NOW "2026-03-05T10:00:00+08:00"
#define TABLET_PASSPHRASE "correct horse battery"

/* ---- the center, the tablets --------------------------------------------- */

static UiTestMonitor *monitor;
static Center *center;
static TestTablet tablet;      /* the app's store */
static TestTablet other;       /* another worker's, by hearth-cli */

static void
setup (void)
{
  g_autofree char *answers = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "answers",
                                               "registration-zh.json", NULL);
  g_auto(TestRun) r = { 0 };

  center = center_init ("ui-sync-center", "150422");
  center_add_user (center, "lijuan", "worker", "150422100202");
  center_add_user (center, "zhangwei", "worker", "150422100202");
  center_start (center);
  test_tablet_enrol (&tablet, "ui-sync-tablet", center, "lijuan");
  test_tablet_enrol (&other, "ui-sync-other", center, "zhangwei");
  /* The other worker registers a household and syncs it. */
  test_tablet_cli (&r, &other, "visit", "record", "--form", "hearth_household_registration", "--answers", answers,
                   "--now", NOW, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (test_tablet_sync (&other), ==, 0);
}

static gboolean
on_main (gpointer data)
{
  return g_strcmp0 (hearth_window_get_screen (data), "main") == 0;
}

static HearthApplication *
start_at (const char *dir)
{
  HearthApplication *app = ui_test_app_new (dir);
  HearthWindow *window = ui_test_window (app);

  ui_test_type (ui_test_find (GTK_WIDGET (window), "passphrase_entry"), TABLET_PASSPHRASE);
  ui_test_click (ui_test_find (GTK_WIDGET (window), "unlock_button"));
  ui_test_wait_for (on_main, window, 20000, "the worker's screens");
  ui_test_flush (GTK_WIDGET (window));
  return app;
}

static HearthApplication *
start (void)
{
  return start_at (tablet.dir);
}

static HearthSyncer *
syncer_of (HearthApplication *app)
{
  return hearth_session_get_syncer (hearth_application_get_session (app));
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

static gboolean
not_running (gpointer syncer)
{
  return !hearth_syncer_get_running (syncer);
}

/* Waits for a run after the @runs first to end. */
static void
wait_run (HearthSyncer *syncer, guint runs, const char *what)
{
  RunsAfter w = { syncer, runs };

  ui_test_wait_for (ran, &w, 60000, what);
}

static GtkWidget *
show_sync_tab (HearthApplication *app)
{
  GtkWidget *root = GTK_WIDGET (ui_test_window (app));

  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (ui_test_find (root, "view_stack")), "sync");
  ui_test_flush (root);
  return ui_test_find_type (root, HEARTH_TYPE_SYNC_PAGE);
}

static const char *
shown (GtkWidget *page, const char *id)
{
  GtkWidget *w = ui_test_find (page, id);

  if (ADW_IS_ACTION_ROW (w))
    return adw_action_row_get_subtitle (ADW_ACTION_ROW (w));
  return gtk_label_get_text (GTK_LABEL (w));
}

static char *
app_text (HearthApplication *app, const char *sql)
{
  sqlite3_stmt *st = NULL;
  char *out = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (hearth_session_get_db (hearth_application_get_session (app)), sql, -1, &st,
                                       NULL), ==, SQLITE_OK);
  if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_text (st, 0) != NULL)
    out = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return out;
}

/* A visit to @household recorded on the tablet (as the form screen does). */
static void
record_visit (HearthApplication *app, const char *household, const char *instance_id)
{
  HearthSession *session = hearth_application_get_session (app);
  g_autofree char *xml = test_fill_bundled ("household-visit.xml", "visit-zh.json", NOW, instance_id);
  g_autoptr(HearthForm) form = test_load_bundled_form ("household-visit.xml");
  g_autoptr(GError) error = NULL;
  g_autofree char *id = hearth_case_record_submission (hearth_session_get_cases (session), form, xml, household,
                                                       &error);

  g_assert_no_error (error);
  hearth_session_changed (session);
}

static gint64
center_count (const char *sql)
{
  return center_db_int (center, sql);
}

static void
test_background (void)
{
  HearthApplication *app;
  HearthSyncer *syncer;
  GtkWidget *root, *page;
  g_autofree char *household = NULL;
  g_autofree char *device = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *unreachable = NULL;
  guint runs;

  app = start ();
  root = GTK_WIDGET (ui_test_window (app));
  syncer = syncer_of (app);
  /* The first run, by itself. */
  wait_run (syncer, 0, "the first sync");
  g_assert_null (hearth_syncer_get_error (syncer));
  household = app_text (app, "SELECT id FROM households WHERE head_name = '黄志强'");
  g_assert_nonnull (household);
  page = show_sync_tab (app);
  g_assert_cmpstr (shown (page, "state_label"), ==, _("Synced"));
  g_assert_cmpstr (shown (page, "pending_row"), ==, "0");
  g_assert_cmpstr (shown (page, "last_row"), !=, _("Never"));
  g_assert_cmpstr (shown (page, "center_row"), ==, center->base);
  g_assert_false (gtk_widget_get_visible (ui_test_find (page, "error_label")));
  g_assert_false (gtk_widget_get_visible (ui_test_find (page, "clock_label")));
  ui_test_assert_labelled (root, "the sync screen");
  ui_test_assert_touch_targets (root, "the sync screen");
  ui_test_screenshot (root, "40-sync-synced");

  /* A visit recorded on the tablet goes out soon, by itself. */
  device = g_strdup (hearth_case_store_get_device_id (hearth_session_get_cases (hearth_application_get_session (app))));
  sql = g_strdup_printf ("SELECT count(*) FROM changes WHERE tbl = 'submissions' AND device = (SELECT num FROM device_numbers WHERE id = '%s')", device);
  g_assert_cmpint (center_count (sql), ==, 0);
  runs = hearth_syncer_get_runs (syncer);
  record_visit (app, household, "31111111-2222-4333-8444-000000000001");
  g_assert_cmpint (hearth_syncer_get_status (syncer)->pending, >, 0);
  wait_run (syncer, runs, "the sync of the visit");
  g_assert_null (hearth_syncer_get_error (syncer));
  g_assert_cmpint (center_count (sql), ==, 1);
  ui_test_flush (root);
  g_assert_cmpstr (shown (page, "state_label"), ==, _("Synced"));

  /* The center down: the change waits, said so, never "Synced". */
  center_stop (center);
  runs = hearth_syncer_get_runs (syncer);
  record_visit (app, household, "31111111-2222-4333-8444-000000000002");
  wait_run (syncer, runs, "a sync with the center down");
  ui_test_flush (root);
  g_assert_error (hearth_syncer_get_error (syncer), HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE);
  g_assert_cmpstr (shown (page, "state_label"), ==, _("Not synced"));
  g_assert_cmpstr (shown (page, "state_label"), !=, _("Synced"));
  {
    g_autofree char *pending = g_strdup_printf ("%" G_GINT64_FORMAT, hearth_syncer_get_status (syncer)->pending);
    g_assert_cmpint (hearth_syncer_get_status (syncer)->pending, >, 0);
    g_assert_cmpstr (shown (page, "pending_row"), ==, pending);
  }
  unreachable = hearth_syncer_describe_error (hearth_syncer_get_error (syncer));
  g_assert_true (gtk_widget_get_visible (ui_test_find (page, "error_label")));
  g_assert_cmpstr (shown (page, "error_label"), ==, unreachable);
  g_assert_true (gtk_widget_get_visible (ui_test_find (page, "next_row")));
  {
    AdwViewStack *stack = ADW_VIEW_STACK (ui_test_find (root, "view_stack"));
    AdwViewStackPage *tab = adw_view_stack_get_page (stack, adw_view_stack_get_child_by_name (stack, "sync"));

    g_assert_true (adw_view_stack_page_get_needs_attention (tab));
    g_assert_cmpuint (adw_view_stack_page_get_badge_number (tab), ==, hearth_syncer_get_status (syncer)->pending);
  }
  ui_test_assert_labelled (root, "the sync screen, not synced");
  ui_test_screenshot (root, "41-sync-unreachable");
  /* The tries go on by themselves, with backoff. */
  runs = hearth_syncer_get_runs (syncer);
  wait_run (syncer, runs, "a retry");
  g_assert_nonnull (hearth_syncer_get_error (syncer));
  g_assert_cmpint (hearth_syncer_get_next_run (syncer), >, 0);

  /* No network: no tries; the screen says when it will. */
  ui_test_monitor_set_available (monitor, FALSE);
  g_assert_true (hearth_syncer_get_offline (syncer));
  ui_test_wait_for (not_running, syncer, 60000, "the run in flight");
  runs = hearth_syncer_get_runs (syncer);
  ui_test_run_for (1500);
  g_assert_cmpuint (hearth_syncer_get_runs (syncer), ==, runs);
  ui_test_flush (root);
  g_assert_cmpstr (shown (page, "next_row"), ==, _("When the network is back"));
  ui_test_screenshot (root, "42-sync-offline");

  /* The network back: at once. */
  center_restart (center);
  ui_test_monitor_set_available (monitor, TRUE);
  g_assert_true (hearth_syncer_get_running (syncer));
  wait_run (syncer, runs, "the sync when the network is back");
  g_assert_null (hearth_syncer_get_error (syncer));
  g_assert_cmpint (center_count (sql), ==, 2);
  ui_test_flush (root);
  g_assert_cmpstr (shown (page, "state_label"), ==, _("Synced"));
  g_assert_cmpstr (shown (page, "pending_row"), ==, "0");

  /* On demand. */
  runs = hearth_syncer_get_runs (syncer);
  ui_test_click (ui_test_find (page, "sync_button"));
  g_assert_true (hearth_syncer_get_running (syncer));
  g_assert_false (gtk_widget_get_sensitive (ui_test_find (page, "sync_button")));
  wait_run (syncer, runs, "the sync on demand");
  ui_test_flush (root);
  g_assert_cmpstr (shown (page, "state_label"), ==, _("Synced"));
  ui_test_app_free (app);
}

/* An hour ahead of everyone. */
static gint64
fast_clock (gpointer data)
{
  return g_get_real_time () / 1000 + 60 * 60 * 1000;
}

static void
test_clock (void)
{
  HearthSyncerConfig config = { .soon_ms = 200, .backoff_base_ms = 300, .backoff_max_ms = 1000, .again_ms = 60000,
                                .network_monitor = G_NETWORK_MONITOR (monitor), .now_ms = fast_clock };
  HearthApplication *app;
  GtkWidget *root, *page;
  g_autofree char *expected = NULL;

  hearth_syncer_set_defaults (&config);
  app = start ();
  root = GTK_WIDGET (ui_test_window (app));
  wait_run (syncer_of (app), 0, "a sync with a fast clock");
  page = show_sync_tab (app);
  g_assert_cmpint (hearth_syncer_get_clock_off_ms (syncer_of (app)), <, -50 * 60 * 1000);
  g_assert_true (gtk_widget_get_visible (ui_test_find (page, "clock_label")));
  expected = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "This tablet's clock is %u minute ahead of the county "
                                           "center's. Set the date and time in the tablet's settings: the times it "
                                           "records are wrong meanwhile.",
                                           "This tablet's clock is %u minutes ahead of the county center's. Set the "
                                           "date and time in the tablet's settings: the times it records are wrong "
                                           "meanwhile.", 60),
                              (guint) ((-hearth_syncer_get_clock_off_ms (syncer_of (app)) + 30000) / 60000));
  g_assert_cmpstr (shown (page, "clock_label"), ==, expected);
  ui_test_screenshot (root, "43-sync-clock");
  ui_test_app_free (app);

  /* The clock set right: the warning goes with the next exchange. */
  config.now_ms = NULL;
  hearth_syncer_set_defaults (&config);
  app = start ();
  wait_run (syncer_of (app), 0, "a sync with the clock right");
  page = show_sync_tab (app);
  g_assert_cmpint (hearth_syncer_get_clock_off_ms (syncer_of (app)), ==, 0);
  g_assert_false (gtk_widget_get_visible (ui_test_find (page, "clock_label")));
  ui_test_app_free (app);
}

/* The texts of the @i-th row of the sync page's list of refused changes. */
static const char *
refused_text (GtkWidget *page, guint i, guint which)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_index (hearth_sync_page_get_refused_list (HEARTH_SYNC_PAGE (page)),
                                                      (int) i);

  g_assert_nonnull (row);
  return hearth_refused_row_get_text (HEARTH_REFUSED_ROW (gtk_list_box_row_get_child (row)), which);
}

/* A household registered on this tablet in a village outside its
 * worker's scope: the center refuses it (code `scope`). The sync page
 * lists each refused change under the household's head, what it changed
 * in words (its fields' labels), the center's reason and when, the
 * newest first, as the store lists them. */
static void
test_refused (void)
{
  g_autofree char *source = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "answers",
                                              "registration-zh.json", NULL);
  g_autofree char *dir = test_make_dir ("ui-sync-refused");
  g_autofree char *answers = g_build_filename (dir, "outside.json", NULL);
  g_autofree char *text = NULL;
  g_autofree char *outside = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(TestRun) r = { 0 };
  HearthApplication *app;
  GtkWidget *root, *page;
  gboolean household_row = FALSE, form_row = FALSE, member_row = FALSE;
  const char *refused_at = _("Refused %s");
  g_autofree char *when = g_strndup (refused_at, (gsize) (strstr (refused_at, "%s") - refused_at));

  g_assert_true (g_file_get_contents (source, &text, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (text, "\"150422100202\""));
  {
    g_auto(GStrv) parts = g_strsplit (text, "\"150422100202\"", -1);

    outside = g_strjoinv ("\"150422100203\"", parts);
  }
  g_assert_true (g_file_set_contents (answers, outside, -1, &error));
  test_tablet_cli (&r, &tablet, "visit", "record", "--form", "hearth_household_registration", "--answers", answers,
                   "--now", NOW, NULL);
  g_assert_cmpint (r.status, ==, 0);

  app = start ();
  root = GTK_WIDGET (ui_test_window (app));
  wait_run (syncer_of (app), 0, "the sync of a household outside the scope");
  page = show_sync_tab (app);
  g_assert_cmpint (hearth_syncer_get_status (syncer_of (app))->refused, >, 0);
  g_assert_true (gtk_widget_get_visible (ui_test_find (page, "refused_group")));
  list = hearth_syncer_list_refused (syncer_of (app), 50, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, MIN (hearth_syncer_get_status (syncer_of (app))->refused, 50));
  g_assert_null (gtk_list_box_get_row_at_index (hearth_sync_page_get_refused_list (HEARTH_SYNC_PAGE (page)),
                                                (int) list->len));
  for (guint i = 0; i < list->len; i++)
    {
      const HearthSyncRefusedChange *c = list->pdata[i];
      g_autofree char *household = hearth_label_household (c->head_name, c->registry_no);
      g_autofree char *what = hearth_label_change (c->table, (const char *const *) c->fields, c->created,
                                                   c->member_name);
      g_autofree char *why = hearth_label_refusal (c->message, c->household_id, household);
      g_autofree char *said = g_strdup_printf (_("The county center said: %s"), why);

      g_assert_cmpstr (c->code, ==, "scope");
      g_assert_cmpstr (refused_text (page, i, 0), ==, household);
      g_assert_cmpstr (refused_text (page, i, 1), ==, what);
      g_assert_cmpstr (refused_text (page, i, 2), ==, hearth_label_refusal_code ("scope"));
      g_assert_cmpstr (refused_text (page, i, 4), ==, said);
      g_assert_nonnull (strstr (c->message, "150422100203"));
      /* The household by its head, not by its id. */
      g_assert_nonnull (strstr (c->message, c->household_id));
      g_assert_null (strstr (why, c->household_id));
      g_assert_nonnull (strstr (why, "黄志强"));
      g_assert_true (g_str_has_prefix (refused_text (page, i, 3), when));
      if (g_strcmp0 (c->table, "households") == 0)
        {
          /* The head's name, and the fields in words. */
          g_assert_cmpstr (refused_text (page, i, 0), ==, "黄志强");
          g_assert_cmpstr (refused_text (page, i, 1), ==, _("New household"));
          household_row = TRUE;
        }
      if (g_strcmp0 (c->table, "members") == 0 && g_strcmp0 (c->member_name, "刘桂兰") == 0)
        {
          g_autofree char *added = g_strdup_printf (_("New member %s"), "刘桂兰");

          g_assert_cmpstr (refused_text (page, i, 1), ==, added);
          member_row = TRUE;
        }
      if (g_strcmp0 (c->table, "submissions") == 0)
        {
          g_assert_cmpstr (refused_text (page, i, 1), ==, _("A filled-in form"));
          g_assert_cmpstr (refused_text (page, i, 0), ==, "黄志强");
          form_row = TRUE;
        }
    }
  g_assert_true (household_row);
  g_assert_true (member_row);
  g_assert_true (form_row);
  /* The headline says the refusals, not "Synced" alone. */
  {
    gint64 n = hearth_syncer_get_status (syncer_of (app))->refused;
    g_autofree char *headline = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Synced, %u change refused",
                                                              "Synced, %u changes refused", (gulong) n),
                                                 (guint) n);

    g_assert_true (hearth_syncer_get_synced (syncer_of (app)));
    g_assert_cmpstr (shown (page, "state_label"), !=, _("Synced"));
    g_assert_cmpstr (shown (page, "state_label"), ==, headline);
  }
  ui_test_assert_labelled (root, "the sync screen, refused changes");
  ui_test_screenshot (root, "45-sync-refused");
  ui_test_app_free (app);
}

/* The center's address answering with a web page (a village Wi-Fi's
 * sign-in page): said as such in the tablet's language, not as a center
 * that cannot be reached nor as a reply cut short; the tries go on. The
 * next try waits a minute here: with the suite's 300 ms it could start
 * on a loaded machine before the page was read, hiding the error while
 * it runs (a CI run failed so). */
static void
test_web_page (void)
{
  HearthSyncerConfig config = { .soon_ms = 200, .backoff_base_ms = 60000, .backoff_max_ms = 60000,
                                .again_ms = 60000, .network_monitor = G_NETWORK_MONITOR (monitor) };
  const char *colon = strrchr (center->base, ':');
  HearthApplication *app;
  GtkWidget *root, *page;
  TestPortal *portal;
  g_autofree char *said = NULL;
  g_autofree char *unreachable = NULL;
  g_autoptr(GError) down = g_error_new_literal (HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE, "down");

  center_stop (center);
  portal = test_portal_start ((guint) g_ascii_strtoull (colon + 1, NULL, 10));
  hearth_syncer_set_defaults (&config);
  app = start ();
  root = GTK_WIDGET (ui_test_window (app));
  wait_run (syncer_of (app), 0, "a sync answered by a sign-in page");
  page = show_sync_tab (app);
  ui_test_flush (root);
  g_assert_error (hearth_syncer_get_error (syncer_of (app)), HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_WEB_PAGE);
  said = hearth_syncer_describe_error (hearth_syncer_get_error (syncer_of (app)));
  unreachable = hearth_syncer_describe_error (down);
  g_assert_cmpstr (said, !=, unreachable);
  g_assert_cmpstr (said, ==, _("The network here answered with a web page, not as the county center: the Wi-Fi may "
                               "ask for a sign-in first (open a web browser and sign in). The tablet tries again by "
                               "itself; nothing is lost meanwhile."));
  g_assert_true (gtk_widget_get_visible (ui_test_find (page, "error_label")));
  g_assert_cmpstr (shown (page, "error_label"), ==, said);
  g_assert_cmpstr (shown (page, "state_label"), ==, _("Not synced"));
  /* The tries go on: the next one is due. */
  g_assert_cmpint (hearth_syncer_get_next_run (syncer_of (app)), >, g_get_real_time ());
  ui_test_assert_labelled (root, "the sync screen, a sign-in page");
  ui_test_screenshot (root, "46-sync-web-page");
  ui_test_app_free (app);
  config.backoff_base_ms = 300;
  config.backoff_max_ms = 1000;
  hearth_syncer_set_defaults (&config);
  test_portal_stop (portal);
  center_restart (center);
}

static gboolean
store_gone (gpointer dir)
{
  g_autofree char *slot = g_build_filename (dir, "keyslot.0", NULL);
  return !g_file_test (slot, G_FILE_TEST_EXISTS);
}

static void
test_revoked (void)
{
  HearthApplication *app = start ();
  HearthWindow *window = ui_test_window (app);
  g_autofree char *device = g_strdup (hearth_case_store_get_device_id (
    hearth_session_get_cases (hearth_application_get_session (app))));
  g_auto(TestRun) r = { 0 };

  wait_run (syncer_of (app), 0, "the first sync");
  run_center (&r, "--db", center->db, "device", "revoke", device, NULL);
  g_assert_cmpint (r.status, ==, 0);
  hearth_syncer_sync_now (syncer_of (app));
  ui_test_wait_for (store_gone, tablet.dir, 60000, "the store to be deleted");
  ui_test_flush (GTK_WIDGET (window));
  g_assert_null (hearth_application_get_session (app));
  g_assert_cmpstr (hearth_window_get_screen (window), ==, "unlock");
  /* Nothing to unlock: a new store is offered. */
  g_assert_true (gtk_widget_get_mapped (ui_test_find (GTK_WIDGET (window), "confirm_entry")));
  ui_test_screenshot (GTK_WIDGET (window), "44-sync-revoked");
  ui_test_app_free (app);
}

static gboolean
checkpointed (gpointer syncer)
{
  return hearth_syncer_get_checkpoints (syncer) > 0;
}

/* The app's database file holds every page of its store: the WAL was
 * copied into it. */
static void
assert_wal_copied (HearthApplication *app, const char *dir)
{
  g_autofree char *pages = app_text (app, "PRAGMA page_count");
  g_autofree char *db_path = g_build_filename (dir, HEARTH_STORE_DB_NAME, NULL);
  GStatBuf st;

  g_assert_cmpint (g_stat (db_path, &st), ==, 0);
  g_assert_cmpint ((gint64) st.st_size, ==, g_ascii_strtoll (pages, NULL, 10) * HEARTH_PAGE_SIZE);
}

/* 1,200 generated households of the county, in two parts of 600 that
 * the tests below import at the center once each (hearth-cli on a tablet
 * of its own), whichever runs first. */
static TestTablet importer;
static char *county_parts[2];
static gboolean county_imported[2];

static void
import_county_part (guint part)
{
  g_auto(TestRun) r = { 0 };

  if (county_parts[0] == NULL)
    {
      g_autofree char *dir = test_make_dir ("ui-sync-county-registry");

      test_registries (dir, "150422", 23, 600, 600, &county_parts[0], &county_parts[1]);
      center_add_user (center, "liuqiang", "worker", "150422");
      test_tablet_enrol (&importer, "ui-sync-importer", center, "liuqiang");
    }
  if (county_imported[part])
    return;
  test_tablet_cli (&r, &importer, "household", "import", county_parts[part], NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (test_tablet_sync (&importer), ==, 0);
  county_imported[part] = TRUE;
}

/* A first sync that pulls much (600 households of the county): "Synced"
 * once its commits are in the WAL, durable and readable there; then the
 * app copies the WAL into the database file on a worker, by itself (no
 * screen's save does it). Last: the county's households reach the other
 * tests' village too. */
static void
test_checkpoint (void)
{
  g_auto(TestTablet) fresh = { 0 };
  g_autofree char *households = NULL;
  HearthApplication *app;
  HearthSyncer *syncer;

  import_county_part (0);
  center_add_user (center, "wangfang", "worker", "150422");
  test_tablet_enrol (&fresh, "ui-sync-ckpt", center, "wangfang");

  app = start_at (fresh.dir);
  syncer = syncer_of (app);
  wait_run (syncer, 0, "the first sync");
  g_assert_null (hearth_syncer_get_error (syncer));
  g_assert_true (hearth_syncer_get_synced (syncer));
  households = app_text (app, "SELECT count (*) FROM households");
  g_assert_cmpint (g_ascii_strtoll (households, NULL, 10), >=, 600);
  ui_test_wait_for (checkpointed, syncer, 60000, "the copy of the sync's WAL");
  assert_wal_copied (app, fresh.dir);
  ui_test_app_free (app);
}

/* The copy of test_checkpoint_again(), held on its worker after it
 * copied until the test lets it go: a copy that lasts while another run
 * ends. */
static GMutex copy_lock;
static GCond copy_cond;
static gboolean copy_held;
static guint copies_made;

static void
hold_copy (void)
{
  g_mutex_lock (&copy_lock);
  copies_made++;
  g_cond_broadcast (&copy_cond);
  while (copy_held)
    g_cond_wait (&copy_cond, &copy_lock);
  g_mutex_unlock (&copy_lock);
}

static gboolean
copy_made (gpointer data)
{
  guint n;

  g_mutex_lock (&copy_lock);
  n = copies_made;
  g_mutex_unlock (&copy_lock);
  return n > 0;
}

static gboolean
checkpointed_twice (gpointer syncer)
{
  return hearth_syncer_get_checkpoints (syncer) >= 2;
}

/* A run that ends while the last run's copy is under way (a sync at once
 * after a large one): its frames are copied by one more copy once that
 * one is done, not left to the next screen's save. The first copy is
 * held after it copied; meanwhile a second pull of 600 more households
 * ends; once let go, a second copy follows and the database file holds
 * every page. Without it, the second run's pages stay in the WAL. */
static void
test_checkpoint_again (void)
{
  HearthSyncerConfig config = { .soon_ms = 200, .backoff_base_ms = 300, .backoff_max_ms = 1000, .again_ms = 60000,
                                .network_monitor = G_NETWORK_MONITOR (monitor), .checkpoint_copied = hold_copy };
  g_auto(TestTablet) fresh = { 0 };
  g_autofree char *households = NULL;
  HearthApplication *app;
  HearthSyncer *syncer;

  import_county_part (0);
  center_add_user (center, "zhaolei", "worker", "150422");
  test_tablet_enrol (&fresh, "ui-sync-again", center, "zhaolei");

  copy_held = TRUE;
  copies_made = 0;
  hearth_syncer_set_defaults (&config);
  app = start_at (fresh.dir);
  syncer = syncer_of (app);
  wait_run (syncer, 0, "the first sync");
  g_assert_null (hearth_syncer_get_error (syncer));
  ui_test_wait_for (copy_made, NULL, 60000, "the first copy of the WAL");

  /* While that copy is held: more households at the center, and a run
   * that pulls them. */
  import_county_part (1);
  hearth_syncer_sync_now (syncer);
  wait_run (syncer, 1, "the second sync");
  g_assert_null (hearth_syncer_get_error (syncer));
  households = app_text (app, "SELECT count (*) FROM households");
  g_assert_cmpint (g_ascii_strtoll (households, NULL, 10), >=, 1200);
  g_assert_cmpuint (hearth_syncer_get_checkpoints (syncer), ==, 0);

  g_mutex_lock (&copy_lock);
  copy_held = FALSE;
  g_cond_broadcast (&copy_cond);
  g_mutex_unlock (&copy_lock);
  ui_test_wait_for (checkpointed_twice, syncer, 60000, "a second copy, for the run that ended during the first");
  assert_wal_copied (app, fresh.dir);
  ui_test_app_free (app);
  config.checkpoint_copied = NULL;
  hearth_syncer_set_defaults (&config);
}

int
main (int argc, char **argv)
{
  HearthSyncerConfig config = { .soon_ms = 200, .backoff_base_ms = 300, .backoff_max_ms = 1000, .again_ms = 60000 };

  ui_test_init (&argc, &argv);
  monitor = ui_test_monitor_new (TRUE);
  config.network_monitor = G_NETWORK_MONITOR (monitor);
  hearth_syncer_set_defaults (&config);
  setup ();
  g_test_add_func ("/ui/sync/background", test_background);
  g_test_add_func ("/ui/sync/clock", test_clock);
  g_test_add_func ("/ui/sync/refused", test_refused);
  g_test_add_func ("/ui/sync/web-page", test_web_page);
  g_test_add_func ("/ui/sync/revoked", test_revoked);
  g_test_add_func ("/ui/sync/checkpoint", test_checkpoint);
  g_test_add_func ("/ui/sync/checkpoint-again", test_checkpoint_again);
  {
    int status = g_test_run ();
    if (center_running (center))
      center_stop (center);
    center_free (center);
    test_tablet_clear (&tablet);
    test_tablet_clear (&other);
    test_tablet_clear (&importer);
    g_free (county_parts[0]);
    g_free (county_parts[1]);
    return status;
  }
}

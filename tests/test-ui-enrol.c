/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-ui-enrol.c: enrolling a new tablet with a real hearth-center on
 * 127.0.0.1, through the enrolment screen that follows making the store,
 * in the language of $HEARTH_TEST_LANGUAGE. A center that cannot be
 * reached and a code the center refuses (never issued, expired, used by
 * another tablet) are said in plain words of the user's language, each
 * with its own reason and none with the center's English, and leave the
 * tablet unenrolled; the right code, pasted from the clipboard,
 * enrols it: the store then names the user, role and scope the county
 * gave, holds the county recovery envelope (sealed with the passphrase the
 * session kept until then, and no longer keeps), and the menu no longer
 * offers enrolment.
 *
 * /ui/enrol/again: a tablet enrolled after the backup its center was
 * restored from enrols again from the sync screen, keeping its store, and
 * syncs everything it recorded.
 *
 * /ui/enrol/pin: a center with a self-signed certificate is enrolled with
 * by its pin, which the app's sync then uses; /ui/enrol/ca-file: by the
 * county's CA certificate file chosen on the screen.
 */
#include "ui-test-util.h"
#include "test-center-util.h"
#include "hearth-enrol-page.h"
#include "hearth-sync-page.h"
#include "hearth-syncer.h"
#include "sync-reply.h"
#include "sync-run.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

static gboolean
not_busy (gpointer data)
{
  return gtk_widget_get_sensitive (data);
}

/* The app on a new store in @data: its passphrase set, the enrol screen
 * shown (@window, @page). Returns: (transfer full): the app. */
static HearthApplication *
new_store_to_enrol (const char *data, HearthWindow **window, GtkWidget **page)
{
  HearthApplication *app = ui_test_app_new (data);
  GtkWidget *root;

  *window = ui_test_window (app);
  root = GTK_WIDGET (*window);
  ui_test_type (ui_test_find (root, "new_entry"), "pear tractor winter 47");
  ui_test_type (ui_test_find (root, "confirm_entry"), "pear tractor winter 47");
  ui_test_click (ui_test_find (root, "create_button"));
  ui_test_wait_screen (*window, "enrol");
  *page = ui_test_find (root, "enrol_page");
  return app;
}

/* Presses Enrol and waits for the center's answer; returns the error shown
 * (NULL when enrolled). */
static char *
enrol (HearthWindow *window)
{
  GtkWidget *page = ui_test_find (GTK_WIDGET (window), "enrol_page");
  GtkWidget *button = ui_test_find (page, "enrol_button");
  GtkWidget *error_label = ui_test_find (page, "error_label");

  ui_test_click (button);
  ui_test_wait_for (not_busy, button, 30000, "the center's answer");
  ui_test_flush (GTK_WIDGET (window));
  if (g_str_equal (hearth_window_get_screen (window), "main"))
    return NULL;
  g_assert_true (gtk_widget_get_visible (error_label));
  return g_strdup (gtk_label_get_text (GTK_LABEL (error_label)));
}

/* The center refuses @code: the page says why in the user's words, as
 * hearth_enrol_page_describe_error() does for @center_code, and leaves the
 * tablet unenrolled. */
static char *
refused_for (HearthWindow *window, HearthSession *session, const char *code, const char *center_code)
{
  GtkWidget *page = ui_test_find (GTK_WIDGET (window), "enrol_page");
  g_autoptr(GError) refusal = g_error_new_literal (HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_REFUSED, "\001");
  g_autofree char *expected = hearth_enrol_page_describe_error (refusal, center_code);
  char *shown;

  ui_test_type (ui_test_find (page, "code_entry"), code);
  shown = enrol (window);
  g_test_message ("%s: %s", center_code, shown);
  g_assert_nonnull (shown);
  g_assert_cmpstr (shown, ==, expected);
  /* Its own words, not the catch-all around the center's message. */
  g_assert_null (strchr (expected, '\001'));
  /* In Chinese, no English of the center's leaks through. */
  if (g_str_equal (ui_test_language (), "zh_CN"))
    for (const char *c = shown; *c != '\0'; c++)
      g_assert_false (g_ascii_isalpha (*c));
  g_assert_false (hearth_session_is_enrolled (session));
  return shown;
}

static void
test_enrol (void)
{
  g_autoptr(Center) center = center_init ("ui-enrol-center", "150422");
  g_autofree char *dir = test_make_dir ("ui-enrol");
  g_autofree char *data = g_build_filename (dir, "data", NULL);
  g_autofree char *code = NULL, *nowhere = NULL, *unreachable = NULL, *refused = NULL;
  g_autofree char *stale = NULL, *used_code = NULL;
  g_auto(TestTablet) other = { 0 };
  g_autoptr(GError) expected_error = NULL;
  g_autofree char *expected = NULL;
  HearthApplication *app;
  HearthWindow *window;
  GtkWidget *root, *page;
  HearthSession *session;
  const HearthIdentity *identity;

  center_add_user (center, "lijuan", "worker", "150422101201,150422101202");
  /* A code left to expire (its expiry set in the past, as the clock
   * would), then the good one and one another tablet uses first. */
  stale = center_enrol_code (center, "lijuan");
  center_db_exec (center, "UPDATE enrol_codes SET expires_at = 1 WHERE used_at IS NULL");
  code = center_enrol_code (center, "lijuan");
  used_code = center_enrol_code (center, "lijuan");
  center_start (center);
  {
    g_autofree char *other_base = test_make_dir ("ui-enrol-other");
    g_auto(TestRun) r = { 0 };

    other.dir = g_build_filename (other_base, "store", NULL);
    other.pass = g_build_filename (other_base, "pass", NULL);
    g_assert_true (g_file_set_contents (other.pass, "correct horse battery\n", -1, NULL));
    test_tablet_cli (&r, &other, "init", "--kdf", "test", NULL);
    g_assert_cmpint (r.status, ==, 0);
    test_run_clear (&r);
    test_tablet_cli (&r, &other, "enrol", "--center", center->base, "--code", used_code, "--name", "平板 8", NULL);
    g_assert_cmpint (r.status, ==, 0);
  }

  app = new_store_to_enrol (data, &window, &page);
  root = GTK_WIDGET (window);
  session = hearth_application_get_session (app);
  g_assert_false (hearth_session_is_enrolled (session));

  /* Nobody answers at that address. */
  nowhere = g_strdup_printf ("http://127.0.0.1:%u", test_free_port ());
  ui_test_type (ui_test_find (page, "center_entry"), nowhere);
  ui_test_type (ui_test_find (page, "code_entry"), code);
  unreachable = enrol (window);
  expected_error = g_error_new_literal (HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE, "");
  expected = hearth_enrol_page_describe_error (expected_error, NULL);
  g_assert_cmpstr (unreachable, ==, expected);
  g_assert_false (hearth_session_is_enrolled (session));

  /* The center refuses a code it never issued, one that expired and one
   * another tablet used: each reason said in the user's words. */
  ui_test_type (ui_test_find (page, "center_entry"), center->base);
  {
    g_autofree char *unknown = refused_for (window, session, "AAAA-BBBB-CCCC-DDDD", "code-unknown");
    g_autofree char *expired = refused_for (window, session, stale, "code-expired");
    g_autofree char *used = refused_for (window, session, used_code, "code-used");

    g_assert_cmpstr (unknown, !=, expired);
    g_assert_cmpstr (expired, !=, used);
    g_assert_cmpstr (used, !=, unknown);
    refused = g_steal_pointer (&used);
  }
  ui_test_screenshot (root, "09-enrol-refused");

  /* The right code, pasted. */
  ui_test_type (ui_test_find (page, "code_entry"), "");
  gdk_clipboard_set_text (gtk_widget_get_clipboard (root), code);
  ui_test_click (ui_test_find (page, "paste_button"));
  ui_test_run_for (100);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (ui_test_find (page, "code_entry"))), ==, code);
  ui_test_type (ui_test_find (page, "name_entry"), "平板 7");
  g_assert_null (enrol (window));
  ui_test_wait_screen (window, "main");

  g_assert_true (hearth_session_is_enrolled (session));
  identity = hearth_session_get_identity (session);
  g_assert_cmpstr (identity->user, ==, "lijuan");
  g_assert_cmpint (identity->role, ==, HEARTH_ROLE_WORKER);
  g_assert_cmpstrv (identity->scope, ((const char *const[]) { "150422101201", "150422101202", NULL }));
  /* County IT can now recover it (store.h: the envelope is also kept in a
   * file of its own); the passphrase is no longer kept. */
  {
    g_autofree char *envelope = g_build_filename (data, "county-recovery", NULL);
    g_assert_true (g_file_test (envelope, G_FILE_TEST_IS_REGULAR));
  }
  g_assert_null (hearth_session_get_passphrase (session));
  /* Enrolment is no longer offered. */
  gtk_widget_activate_action (root, "window.enrol", NULL);
  g_assert_cmpstr (hearth_window_get_screen (window), ==, "main");
  g_assert_cmpint (center_db_int (center, "SELECT count(*) FROM devices"), ==, 2);
  ui_test_screenshot (root, "09-enrolled");

  ui_test_app_free (app);
  center_stop (center);
}

/* ---- enrolling again ---------------------------------------------------- */

static gboolean
unknown_to_center (gpointer syncer)
{
  return !hearth_syncer_get_running (syncer) &&
         g_error_matches (hearth_syncer_get_error (syncer), HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNKNOWN_DEVICE);
}

static gboolean
synced (gpointer syncer)
{
  return !hearth_syncer_get_running (syncer) && hearth_syncer_get_synced (syncer) &&
         hearth_syncer_get_error (syncer) == NULL;
}

/* A tablet enrolled after the backup its center is restored from: the
 * app's sync is refused as unknown, the sync screen says what to do in the
 * user's words and offers "Enrol again"; the enrolment screen has the
 * center's address already, and a code for the tablet's user enrols the
 * same tablet again: it syncs at once, everything it recorded reaches the
 * center (once), and it says "Synced". */
static void
test_enrol_again (void)
{
  g_autoptr(Center) center = center_init ("ui-again-center", "150422");
  g_autofree char *dir = test_make_dir ("ui-again");
  g_autofree char *backup = g_build_filename (dir, "center-backup.db", NULL);
  g_autofree char *wal = g_strconcat (center->db_path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (center->db_path, "-shm", NULL);
  g_autofree char *answers = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "answers",
                                               "registration-zh.json", NULL);
  g_autofree char *code = NULL, *device = NULL, *expected = NULL;
  g_auto(TestTablet) tablet = { 0 };
  g_auto(TestTablet) other = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autoptr(GError) unknown = g_error_new_literal (HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNKNOWN_DEVICE, "");
  HearthApplication *app;
  HearthWindow *window;
  HearthSyncer *syncer;
  GtkWidget *root, *page, *enrol_page;
  gint64 changes;

  center_add_user (center, "lijuan", "worker", "150422100202");
  center_add_user (center, "zhangwei", "worker", "150422100202");
  center_start (center);
  test_tablet_enrol (&other, "ui-again-other", center, "zhangwei");
  test_tablet_cli (&r, &other, "visit", "record", "--form", "hearth_household_registration", "--answers", answers,
                   "--now", "2026-03-05T10:00:00+08:00", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (test_tablet_sync (&other), ==, 0);
  test_run_clear (&r);
  run_center (&r, "--db", center->db, "backup", "--out", backup, NULL);
  g_assert_cmpint (r.status, ==, 0);

  /* Enrolled after the backup: it registers a household and syncs. */
  test_tablet_enrol (&tablet, "ui-again-tablet", center, "lijuan");
  test_run_clear (&r);
  test_tablet_cli (&r, &tablet, "visit", "record", "--form", "hearth_household_registration", "--answers", answers,
                   "--now", "2026-03-06T10:00:00+08:00", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (test_tablet_sync (&tablet), ==, 0);
  device = test_tablet_text (&tablet, "SELECT value FROM store_meta WHERE key = 'device_id'");
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM changes WHERE device = (SELECT num FROM device_numbers WHERE id = '%s')", device);

    changes = center_db_int (center, sql);
    g_assert_cmpint (changes, >, 0);
  }

  center_stop (center);
  g_unlink (wal);
  g_unlink (shm);
  g_assert_cmpint (g_rename (backup, center->db_path), ==, 0);
  center_restart (center);

  app = ui_test_app_new (tablet.dir);
  window = ui_test_window (app);
  root = GTK_WIDGET (window);
  ui_test_type (ui_test_find (root, "passphrase_entry"), "correct horse battery");
  ui_test_click (ui_test_find (root, "unlock_button"));
  ui_test_wait_screen (window, "main");
  syncer = hearth_session_get_syncer (hearth_application_get_session (app));
  ui_test_wait_for (unknown_to_center, syncer, 60000, "the center's refusal");

  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (ui_test_find (root, "view_stack")), "sync");
  ui_test_flush (root);
  page = ui_test_find_type (root, HEARTH_TYPE_SYNC_PAGE);
  expected = hearth_syncer_describe_error (unknown);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (page, "error_label"))), ==, expected);
  g_assert_true (gtk_widget_get_visible (ui_test_find (page, "enrol_again_button")));
  ui_test_assert_labelled (root, "the sync screen of an unknown tablet");
  ui_test_assert_touch_targets (root, "the sync screen of an unknown tablet");
  ui_test_screenshot (root, "09-enrol-again-needed");

  ui_test_click (ui_test_find (page, "enrol_again_button"));
  ui_test_wait_screen (window, "enrol");
  enrol_page = ui_test_find (root, "enrol_page");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (ui_test_find (enrol_page, "center_entry"))), ==,
                   center->base);
  code = center_enrol_code (center, "lijuan");
  ui_test_type (ui_test_find (enrol_page, "code_entry"), code);
  ui_test_screenshot (root, "09-enrol-again");
  g_assert_null (enrol (window));
  ui_test_wait_screen (window, "main");
  /* The enrolment made a syncer of the new identity; it runs at once. */
  syncer = hearth_session_get_syncer (hearth_application_get_session (app));
  ui_test_wait_for (synced, syncer, 60000, "the sync after enrolling again");

  /* The same device, its changes at the center once each. */
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM changes WHERE device = (SELECT num FROM device_numbers WHERE id = '%s')", device);

    g_assert_cmpint (center_db_int (center, sql), ==, changes);
  }
  g_assert_cmpint (center_db_int (center, "SELECT count (*) FROM devices"), ==, 2);
  g_assert_cmpint (center_db_int (center, "SELECT count (*) FROM changes WHERE tbl = 'submissions'"), ==, 2);
  g_assert_cmpint (center_db_int (center, "SELECT count (*) FROM push_outcomes WHERE code IS NOT NULL"), ==, 0);
  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (ui_test_find (root, "view_stack")), "sync");
  ui_test_flush (root);
  page = ui_test_find_type (root, HEARTH_TYPE_SYNC_PAGE);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (page, "state_label"))), ==, _("Synced"));
  g_assert_false (gtk_widget_get_visible (ui_test_find (page, "enrol_again_button")));
  ui_test_screenshot (root, "09-enrolled-again");

  ui_test_app_free (app);
  center_stop (center);
}

/* ---- a center with its own certificate ---------------------------------- */

static gboolean
untrusted_center (gpointer syncer)
{
  return !hearth_syncer_get_running (syncer) &&
         g_error_matches (hearth_syncer_get_error (syncer), HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNTRUSTED);
}

/* A center with a self-signed certificate: without a pin the enrolment
 * screen says the certificate is not trusted (not "cannot be reached"); a
 * pin as an enrolment sheet prints it (the base64 alone) enrols the
 * tablet, and the app's own sync then uses the kept pin; a server with
 * another key at that address is refused, said on the sync screen. */
static void
test_enrol_pin (void)
{
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autoptr(Center) center = NULL;
  g_autofree char *dir = NULL, *data = NULL, *cert = NULL, *key = NULL, *pin = NULL;
  g_autofree char *other_cert = NULL, *other_key = NULL, *other_pin = NULL;
  g_autofree char *code = NULL, *shown = NULL, *expected = NULL;
  g_autoptr(GError) untrusted = g_error_new_literal (HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNTRUSTED, "");
  HearthApplication *app;
  HearthWindow *window;
  HearthSyncer *syncer;
  HearthSession *session;
  GtkWidget *root, *page;

  if (openssl == NULL)
    {
      g_test_skip ("no openssl to make a certificate with");
      return;
    }
  center = center_init ("ui-pin-center", "150422");
  dir = test_make_dir ("ui-pin");
  data = g_build_filename (dir, "data", NULL);
  pin = test_make_cert (dir, "center", &cert, &key);
  other_pin = test_make_cert (dir, "other", &other_cert, &other_key);
  center_add_user (center, "lijuan", "worker", "150422101201");
  code = center_enrol_code (center, "lijuan");
  center_start_full (center, cert, key);

  app = new_store_to_enrol (data, &window, &page);
  root = GTK_WIDGET (window);
  session = hearth_application_get_session (app);

  ui_test_type (ui_test_find (page, "center_entry"), center->base);
  ui_test_type (ui_test_find (page, "code_entry"), code);
  shown = enrol (window);
  expected = hearth_enrol_page_describe_error (untrusted, NULL);
  g_assert_cmpstr (shown, ==, expected);
  g_assert_false (hearth_session_is_enrolled (session));

  gtk_expander_set_expanded (GTK_EXPANDER (ui_test_find (page, "pin_expander")), TRUE);
  ui_test_type (ui_test_find (page, "pin_entry"), pin + strlen ("sha256//"));
  ui_test_assert_labelled (root, "the enrolment screen with its pin");
  ui_test_screenshot (root, "09-enrol-pin");
  g_assert_null (enrol (window));
  ui_test_wait_screen (window, "main");
  g_assert_true (hearth_session_is_enrolled (session));
  /* The app's sync: the pin was kept with the enrolment. */
  syncer = hearth_session_get_syncer (session);
  ui_test_wait_for (synced, syncer, 60000, "the first sync over the pinned key");
  g_assert_cmpint (center_db_int (center, "SELECT count (*) FROM devices"), ==, 1);

  /* Another server with another key at the center's address: the app's
   * sync is refused, and the sync screen says why (not "cannot be
   * reached"). */
  center_stop (center);
  center_restart_full (center, other_cert, other_key);
  hearth_syncer_sync_now (syncer);
  ui_test_wait_for (untrusted_center, syncer, 60000, "the refusal of the other key");
  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (ui_test_find (root, "view_stack")), "sync");
  ui_test_flush (root);
  page = ui_test_find_type (root, HEARTH_TYPE_SYNC_PAGE);
  g_free (expected);
  expected = hearth_syncer_describe_error (untrusted);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (page, "error_label"))), ==, expected);
  ui_test_screenshot (root, "09-sync-untrusted");

  ui_test_app_free (app);
  center_stop (center);
}

/* The same center enrolled with by the county's CA certificate file (the
 * self-signed certificate is its own CA) chosen on the enrolment screen:
 * a file that is no certificate is said at once and not used; the right
 * one enrols the tablet, its content is kept with the enrolment and the
 * app's own sync trusts it. */
static void
test_enrol_ca_file (void)
{
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autoptr(Center) center = NULL;
  g_autofree char *dir = NULL, *data = NULL, *cert = NULL, *key = NULL, *pin = NULL;
  g_autofree char *code = NULL, *not_pem = NULL, *cert_text = NULL;
  g_autoptr(HearthSyncEnrolment) enrolment = NULL;
  HearthApplication *app;
  HearthWindow *window;
  HearthSyncer *syncer;
  HearthSession *session;
  GtkWidget *root, *page, *error_label;

  if (openssl == NULL)
    {
      g_test_skip ("no openssl to make a certificate with");
      return;
    }
  center = center_init ("ui-ca-center", "150422");
  dir = test_make_dir ("ui-ca");
  data = g_build_filename (dir, "data", NULL);
  pin = test_make_cert (dir, "center", &cert, &key);
  g_assert_true (g_file_get_contents (cert, &cert_text, NULL, NULL));
  not_pem = g_build_filename (dir, "notes.pem", NULL);
  g_assert_true (g_file_set_contents (not_pem, "county IT phone: 0477-1234567\n", -1, NULL));
  center_add_user (center, "lijuan", "worker", "150422101201");
  code = center_enrol_code (center, "lijuan");
  center_start_full (center, cert, key);

  app = new_store_to_enrol (data, &window, &page);
  root = GTK_WIDGET (window);
  session = hearth_application_get_session (app);
  error_label = ui_test_find (page, "error_label");
  ui_test_type (ui_test_find (page, "center_entry"), center->base);
  ui_test_type (ui_test_find (page, "code_entry"), code);
  gtk_expander_set_expanded (GTK_EXPANDER (ui_test_find (page, "pin_expander")), TRUE);

  /* Not a certificate: said at once, nothing chosen. */
  g_assert_false (hearth_enrol_page_set_ca_file (HEARTH_ENROL_PAGE (page), not_pem));
  ui_test_flush (root);
  g_assert_true (gtk_widget_get_visible (error_label));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (error_label)), "notes.pem"));
  g_assert_false (gtk_widget_get_visible (ui_test_find (page, "ca_clear_button")));
  g_assert_false (hearth_session_is_enrolled (session));

  g_assert_true (hearth_enrol_page_set_ca_file (HEARTH_ENROL_PAGE (page), cert));
  ui_test_flush (root);
  g_assert_false (gtk_widget_get_visible (error_label));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (page, "ca_label"))), ==, "center.pem");
  g_assert_true (gtk_widget_get_visible (ui_test_find (page, "ca_clear_button")));
  ui_test_assert_labelled (root, "the enrolment screen with its CA file");
  ui_test_screenshot (root, "09-enrol-ca-file");
  g_assert_null (enrol (window));
  ui_test_wait_screen (window, "main");
  g_assert_true (hearth_session_is_enrolled (session));
  enrolment = hearth_sync_store_get_enrolment (hearth_session_get_sync (session), NULL);
  g_assert_nonnull (enrolment);
  g_assert_cmpstr (enrolment->tls_ca_pem, ==, cert_text);
  g_assert_null (enrolment->tls_pin);
  /* The app's sync: the CA was kept with the enrolment. */
  syncer = hearth_session_get_syncer (session);
  ui_test_wait_for (synced, syncer, 60000, "the first sync through the county's CA");
  g_assert_cmpint (center_db_int (center, "SELECT count (*) FROM devices"), ==, 1);

  ui_test_app_free (app);
  center_stop (center);
}

int
main (int argc, char **argv)
{
  ui_test_init (&argc, &argv);
  g_test_add_func ("/ui/enrol/center", test_enrol);
  g_test_add_func ("/ui/enrol/again", test_enrol_again);
  g_test_add_func ("/ui/enrol/pin", test_enrol_pin);
  g_test_add_func ("/ui/enrol/ca-file", test_enrol_ca_file);
  return g_test_run ();
}

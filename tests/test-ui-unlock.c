/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-ui-unlock.c: the first screens of the tablet app, driven as a user
 * would under Xvfb, in the language of $HEARTH_TEST_LANGUAGE. Making a
 * store: the strength shown as the passphrase is typed, the button only
 * when both boxes agree, the real store made (Argon2id, interactive) and
 * the enrolment screen after it, "Later" to the worker's screens. Locking
 * from the menu action closes the store (the session is finalised).
 * Unlocking: an empty passphrase, a wrong one, damaged keyslot copies and
 * a damaged database each said in plain words, then the right passphrase.
 * The idle lock: input (or its stand-in) restarts the count, silence locks.
 * Every screen's controls have accessible labels, and each screen is
 * written as a PNG (tests/screenshots/LANGUAGE/).
 */
#include "ui-test-util.h"
#include "hearth-enrol-page.h"
#include "hearth-idle-lock.h"
#include "hearth-passphrase-strength.h"
#include "hearth-unlock-page.h"
#include "sync-run.h"

#include <glib/gi18n.h>
#include <string.h>

static gboolean
label_shown (gpointer data)
{
  return gtk_widget_get_visible (data) && gtk_label_get_text (data)[0] != '\0';
}

static char *
describe (GQuark domain, int code, const char *message)
{
  g_autoptr(GError) error = g_error_new_literal (domain, code, message);
  return hearth_unlock_page_describe_error (error, NULL);
}

/* Types @passphrase and presses Unlock; returns the error shown, or NULL
 * when the worker's screens came. */
static char *
unlock_with (HearthWindow *window, const char *passphrase)
{
  GtkWidget *entry = ui_test_find (GTK_WIDGET (window), "passphrase_entry");
  GtkWidget *error_label = ui_test_find (GTK_WIDGET (window), "error_label");

  gtk_widget_set_visible (error_label, FALSE);
  ui_test_type (entry, passphrase);
  ui_test_click (ui_test_find (GTK_WIDGET (window), "unlock_button"));
  /* The passphrase leaves the entry at once, for guarded memory. */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "");
  while (!g_str_equal (hearth_window_get_screen (window), "main") && !label_shown (error_label))
    g_main_context_iteration (NULL, TRUE);
  return label_shown (error_label) ? g_strdup (gtk_label_get_text (GTK_LABEL (error_label))) : NULL;
}

static void
test_strength (void)
{
  double bits = 0;

  g_assert_cmpint (hearth_passphrase_strength ("", NULL), ==, HEARTH_STRENGTH_TOO_SHORT);
  g_assert_cmpint (hearth_passphrase_strength ("Ab3$x", NULL), ==, HEARTH_STRENGTH_TOO_SHORT);
  g_assert_cmpint (hearth_passphrase_strength ("12345678", &bits), ==, HEARTH_STRENGTH_WEAK);
  g_assert_cmpfloat (bits, <, 20);
  g_assert_cmpint (hearth_passphrase_strength ("aaaaaaaaaaaaaaaaaaaa", NULL), ==, HEARTH_STRENGTH_WEAK);
  g_assert_cmpint (hearth_passphrase_strength ("Password2026", NULL), <=, HEARTH_STRENGTH_FAIR);
  g_assert_cmpint (hearth_passphrase_strength ("kx7!mQ2z", NULL), >=, HEARTH_STRENGTH_FAIR);
  g_assert_cmpint (hearth_passphrase_strength (TEST_PASSPHRASE, NULL), ==, HEARTH_STRENGTH_STRONG);
  g_assert_cmpint (hearth_passphrase_strength ("\xff\xfe broken", NULL), ==, HEARTH_STRENGTH_TOO_SHORT);
}

static void
test_create (void)
{
  g_autofree char *dir = test_make_dir ("ui-create");
  g_autofree char *data = g_build_filename (dir, "data", NULL);
  HearthApplication *app = ui_test_app_new (data);
  HearthWindow *window = ui_test_window (app);
  GtkWidget *root = GTK_WIDGET (window);
  GtkWidget *new_entry = ui_test_find (root, "new_entry");
  GtkWidget *confirm = ui_test_find (root, "confirm_entry");
  GtkWidget *create = ui_test_find (root, "create_button");
  GtkLabel *strength = GTK_LABEL (ui_test_find (root, "strength_label"));
  GtkLabel *match = GTK_LABEL (ui_test_find (root, "match_label"));
  const char *passphrase = "pear tractor winter 47";
  HearthSession *session;
  gpointer session_alive;

  g_assert_cmpstr (hearth_window_get_screen (window), ==, "unlock");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (ui_test_find (root, "mode_stack"))), ==, "create");
  ui_test_assert_labelled (root, "the create screen");
  ui_test_assert_touch_targets (root, "the create screen");
  ui_test_screenshot (root, "01-create");

  ui_test_type (new_entry, "short");
  g_assert_cmpstr (gtk_label_get_text (strength), ==, hearth_passphrase_strength_describe (HEARTH_STRENGTH_TOO_SHORT));
  g_assert_false (gtk_widget_get_sensitive (create));
  ui_test_type (new_entry, "12345678");
  g_assert_cmpstr (gtk_label_get_text (strength), ==, hearth_passphrase_strength_describe (HEARTH_STRENGTH_WEAK));
  ui_test_type (new_entry, passphrase);
  g_assert_cmpstr (gtk_label_get_text (strength), ==, hearth_passphrase_strength_describe (HEARTH_STRENGTH_STRONG));
  ui_test_type (confirm, "pear tractor winter");
  g_assert_cmpstr (gtk_label_get_text (match), ==, _("The two passphrases are not the same yet."));
  g_assert_false (gtk_widget_get_sensitive (create));
  ui_test_screenshot (root, "02-create-typing");

  ui_test_type (confirm, passphrase);
  g_assert_cmpstr (gtk_label_get_text (match), ==, _("The two passphrases are the same."));
  g_assert_true (gtk_widget_get_sensitive (create));
  ui_test_click (create);
  ui_test_wait_screen (window, "enrol");
  session = hearth_application_get_session (app);
  g_assert_nonnull (session);
  g_assert_true (hearth_session_store_exists (data));
  g_assert_false (hearth_session_is_enrolled (session));
  /* Kept for enrolment's recovery envelope, in guarded memory. */
  g_assert_nonnull (hearth_session_get_passphrase (session));
  ui_test_assert_labelled (root, "the enrolment screen");
  ui_test_assert_touch_targets (root, "the enrolment screen");
  ui_test_screenshot (root, "03-enrol");

  /* An empty code is refused in words, with the focus on the code. */
  ui_test_type (ui_test_find (root, "center_entry"), "127.0.0.1:9");
  ui_test_click (ui_test_find (root, "enrol_button"));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (GTK_WIDGET (ui_test_find (root, "enrol_page")),
                                                                "error_label"))),
                   ==, _("Type or paste the one-time code."));

  ui_test_click (ui_test_find (root, "later_button"));
  ui_test_wait_screen (window, "main");
  ui_test_flush (root);
  g_assert_true (gtk_widget_get_mapped (ui_test_find (root, "today_empty_page")));
  ui_test_assert_labelled (root, "the empty today screen");
  ui_test_assert_touch_targets (root, "the empty today screen");
  ui_test_screenshot (root, "04-today-empty");

  /* Locking drops the session: nothing keeps the store open. */
  session_alive = session;
  g_object_add_weak_pointer (G_OBJECT (session), &session_alive);
  g_action_group_activate_action (G_ACTION_GROUP (app), "lock", NULL);
  ui_test_wait_screen (window, "unlock");
  ui_test_flush (root);
  g_assert_null (hearth_application_get_session (app));
  g_assert_null (session_alive);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (ui_test_find (root, "mode_stack"))), ==, "unlock");

  /* The store made above opens with its passphrase, and goes straight to
   * the worker's screens (enrolment is offered after making a store only). */
  g_assert_null (unlock_with (window, passphrase));
  g_assert_cmpstr (hearth_window_get_screen (window), ==, "main");
  ui_test_app_free (app);
}

static void
test_unlock_errors (void)
{
  g_autofree char *dir = test_create_store ("ui-unlock", NULL);
  g_autofree char *keyslot0 = g_build_filename (dir, "keyslot.0", NULL);
  g_autofree char *keyslot1 = g_build_filename (dir, "keyslot.1", NULL);
  g_autoptr(GBytes) slot0 = test_read_range (keyslot0, 0, HEARTH_KEYSLOT_SIZE);
  g_autoptr(GBytes) slot1 = test_read_range (keyslot1, 0, HEARTH_KEYSLOT_SIZE);
  HearthApplication *app = ui_test_app_new (dir);
  HearthWindow *window = ui_test_window (app);
  GtkWidget *root = GTK_WIDGET (window);
  g_autofree char *wrong = NULL, *expected_wrong = NULL, *damaged = NULL, *expected_damaged = NULL;
  g_autofree char *empty = NULL;

  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (ui_test_find (root, "mode_stack"))), ==, "unlock");
  ui_test_assert_labelled (root, "the unlock screen");
  ui_test_assert_touch_targets (root, "the unlock screen");
  ui_test_screenshot (root, "05-unlock");

  /* Nothing typed. */
  ui_test_click (ui_test_find (root, "unlock_button"));
  empty = g_strdup (gtk_label_get_text (GTK_LABEL (ui_test_find (root, "error_label"))));
  g_assert_cmpstr (empty, ==, _("Type your passphrase first."));

  /* A wrong passphrase, in plain words. */
  wrong = unlock_with (window, "not the passphrase");
  expected_wrong = describe (HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_WRONG_PASSPHRASE, "wrong");
  g_assert_cmpstr (wrong, ==, expected_wrong);
  g_assert_null (hearth_application_get_session (app));
  ui_test_screenshot (root, "06-unlock-wrong");

  /* Both keyslot copies damaged: not "wrong passphrase", but what to do. */
  test_flip_byte (keyslot0, 30);
  test_flip_byte (keyslot1, 30);
  damaged = unlock_with (window, TEST_PASSPHRASE);
  expected_damaged = describe (HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT, "damaged");
  g_assert_cmpstr (damaged, ==, expected_damaged);
  ui_test_screenshot (root, "07-unlock-damaged-keyslot");
  test_write_range (keyslot0, 0, g_bytes_get_data (slot0, NULL), HEARTH_KEYSLOT_SIZE);
  test_write_range (keyslot1, 0, g_bytes_get_data (slot1, NULL), HEARTH_KEYSLOT_SIZE);

  /* The right passphrase. */
  g_assert_null (unlock_with (window, TEST_PASSPHRASE));
  g_assert_nonnull (hearth_application_get_session (app));
  ui_test_app_free (app);
}

static void
test_damaged_store (void)
{
  g_autofree char *dir = test_create_store ("ui-damaged", NULL);
  g_autofree char *db = g_build_filename (dir, HEARTH_STORE_DB_NAME, NULL);
  HearthApplication *app = NULL;
  g_autofree char *shown = NULL;

  /* A byte of the first page's ciphertext: its tag no longer matches. */
  test_flip_byte (db, 200);
  app = ui_test_app_new (dir);
  shown = unlock_with (ui_test_window (app), TEST_PASSPHRASE);
  g_assert_nonnull (shown);
  g_test_message ("%s", shown);
  /* Said as damage, with what to do; never as a wrong passphrase. */
  {
    g_autofree char *expected = describe (HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT, "");
    GtkWidget *details = ui_test_find (GTK_WIDGET (ui_test_window (app)), "details_label");

    g_assert_cmpstr (shown, ==, expected);
    /* The store's own words, for county IT, in small print apart. */
    g_assert_true (gtk_widget_get_visible (details));
    g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (details)), HEARTH_STORE_DB_NAME));
  }
  g_assert_null (hearth_application_get_session (app));
  ui_test_screenshot (GTK_WIDGET (ui_test_window (app)), "08-unlock-damaged-store");
  ui_test_app_free (app);
}

static gboolean
locked (gpointer data)
{
  return hearth_application_get_session (data) == NULL;
}

static void
test_idle_lock (void)
{
  g_autofree char *dir = test_create_store ("ui-idle", NULL);
  HearthApplication *app = ui_test_app_new (dir);
  HearthWindow *window = ui_test_window (app);
  HearthIdleLock *lock = HEARTH_IDLE_LOCK (hearth_window_get_idle_lock (window));
  gint64 start;

  g_assert_null (unlock_with (window, TEST_PASSPHRASE));
  g_assert_cmpuint (hearth_idle_lock_get_timeout_ms (lock), ==, HEARTH_LOCK_SECONDS_DEFAULT * 1000);
  /* The setting reaches the running watch. */
  hearth_settings_set_lock_seconds (hearth_application_get_settings (app), 45);
  g_assert_cmpuint (hearth_idle_lock_get_timeout_ms (lock), ==, 45 * 1000);

  hearth_idle_lock_set_timeout_ms (lock, 600);
  ui_test_run_for (400);
  hearth_idle_lock_touch (lock);
  ui_test_run_for (400);
  /* 800 ms since unlocking, 400 since the last input: still open. */
  g_assert_nonnull (hearth_application_get_session (app));
  start = g_get_monotonic_time ();
  ui_test_wait_for (locked, app, 5000, "the idle lock");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 100 * 1000);
  ui_test_wait_screen (window, "unlock");
  ui_test_app_free (app);
}

int
main (int argc, char **argv)
{
  ui_test_init (&argc, &argv);
  g_test_add_func ("/ui/unlock/strength", test_strength);
  g_test_add_func ("/ui/unlock/create", test_create);
  g_test_add_func ("/ui/unlock/errors", test_unlock_errors);
  g_test_add_func ("/ui/unlock/damaged-store", test_damaged_store);
  g_test_add_func ("/ui/unlock/idle-lock", test_idle_lock);
  return g_test_run ();
}

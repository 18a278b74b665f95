/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ui-test-util.h: helpers of the UI tests (tests/test-ui-*.c), which run
 * the real app's windows under Xvfb (tests/run-display.sh): start the app
 * on a data folder, let the main loop run until something shows, find
 * widgets by their id in the .ui templates, type and press, check that
 * every control has an accessible label, and write screenshots.
 */
#pragma once

#include <adwaita.h>
#include <sqlite3.h>

#include "hearth-application.h"
#include "hearth-form-field.h"
#include "hearth-form-view.h"
#include "hearth-session.h"
#include "hearth-window.h"
#include "test-util.h"

G_BEGIN_DECLS

/**
 * ui_test_init:
 *
 * test_init(), then the language of $HEARTH_TEST_LANGUAGE ("en" or
 * "zh_CN"; default "en") and GTK. Without a display it says so and exits
 * with 77 (skipped): run-display.sh gives every test an X server, so that
 * only happens when the test is run by hand.
 */
void ui_test_init (int *argc, char ***argv);

/* Returns: (transfer none): "en" or "zh_CN", the language under test. */
const char *ui_test_language (void);

/* The app on @data_dir with its settings in a scratch file, started
 * (registered and activated): one window, shown, locked. The same app
 * serves every test of a program. */
HearthApplication *ui_test_app_new (const char *data_dir);
/* Locks and closes the app's windows. */
void ui_test_app_free (HearthApplication *app);
HearthWindow *ui_test_window (HearthApplication *app);

/* Runs the main loop until @done (polled) or @timeout_ms; fails the test
 * on a timeout, naming @what. */
void ui_test_wait_for (gboolean (*done) (gpointer data), gpointer data, guint timeout_ms, const char *what);
/* Runs the main loop until nothing is pending and @widget's window drew a frame. */
void ui_test_flush (GtkWidget *widget);
/* Runs the main loop for @ms milliseconds. */
void ui_test_run_for (guint ms);

/* Returns: (transfer none): the first widget under @root (itself
 * included) whose .ui id is @id; fails the test when there is none. */
GtkWidget *ui_test_find (GtkWidget *root, const char *id);
/* Returns: (transfer none) (nullable): the first widget of @type under @root. */
GtkWidget *ui_test_find_type (GtkWidget *root, GType type);
/* Returns: (transfer container): every widget of @type under @root. */
GPtrArray *ui_test_find_all (GtkWidget *root, GType type);

/* Replaces an editable's text, as typing would. */
void ui_test_type (GtkWidget *editable, const char *text);
/* Presses a button (its clicked signal, as a tap does). */
void ui_test_click (GtkWidget *button);

/* Returns: (transfer full): the text of every visible label under @root,
 * one per line: what a person sees. */
char *ui_test_visible_text (GtkWidget *root);

/* Fails unless every visible control under @root (buttons, entries,
 * switches, menus, rows one activates) has an accessible name: a label
 * property, a labelled-by relation, or text of its own. @where names the
 * screen in the failure. */
void ui_test_assert_labelled (GtkWidget *root, const char *where);

/* Fails unless every visible, sensitive control under @root is at least
 * 44×44 pixels: a finger's size, on a tablet held in one hand. */
void ui_test_assert_touch_targets (GtkWidget *root, const char *where);

/* Writes @window as $HEARTH_SCREENSHOT_DIR/LANGUAGE/@name.png (after a
 * flush), and prints the path. */
void ui_test_screenshot (GtkWidget *window, const char *name);

/* Sets the window's size (portrait tablet 800x1200, landscape 1280x800). */
void ui_test_resize (GtkWidget *window, int width, int height);

G_END_DECLS

/* A GNetworkMonitor the test sets (for HearthSyncerConfig.network_monitor):
 * it reports a network, or none, as told; setting it emits
 * "network-changed" as a real monitor would. Not thread-safe. */
#define UI_TEST_TYPE_MONITOR (ui_test_monitor_get_type ())
G_DECLARE_FINAL_TYPE (UiTestMonitor, ui_test_monitor, UI_TEST, MONITOR, GObject)

/* (transfer full) */
UiTestMonitor *ui_test_monitor_new (gboolean available);
void ui_test_monitor_set_available (UiTestMonitor *monitor, gboolean available);

/* The unlocked app's store connection (owned by its session). */
sqlite3 *ui_test_db (HearthApplication *app);
/* The first column of the first row @sql gives with @arg (nullable) bound
 * to its one parameter, from the app's store; NULL when no row or a NULL.
 * Returns: (transfer full) (nullable). */
char *ui_test_app_text (HearthApplication *app, const char *sql, const char *arg);
/* Asserts ui_test_app_text()'s answer is @expected (nullable). */
#define ui_test_assert_app_text(app, sql, arg, expected) \
  G_STMT_START { \
    g_autofree char *ui_test_text_ = ui_test_app_text ((app), (sql), (arg)); \
    g_assert_cmpstr (ui_test_text_, ==, (expected)); \
  } G_STMT_END
/* Waits (up to 30 s) until @window shows @screen ("unlock", "main", "form"…). */
void ui_test_wait_screen (HearthWindow *window, const char *screen);

/* The window's form view (asserted to be one). */
HearthFormView *ui_test_form_view (HearthApplication *app);
/* Whether the form view @view (a HearthFormView) has settled: for
 * ui_test_wait_for(). */
gboolean ui_test_form_settled (gpointer view);
/* Presses the form view's button @id and lets it settle (an input
 * method's moment included). */
void ui_test_form_press (HearthFormView *view, const char *id);
/* The answer at @path of the view's form session (transfer full). */
char *ui_test_form_value (HearthFormView *view, const char *path);
/* Asserts ui_test_form_value()'s answer is @expected (nullable). */
#define ui_test_assert_form_value(view, path, expected) \
  G_STMT_START { \
    g_autofree char *ui_test_value_ = ui_test_form_value ((view), (path)); \
    g_assert_cmpstr (ui_test_value_, ==, (expected)); \
  } G_STMT_END
/* Answers @field through its input as a finger would: typed, a text set,
 * choices tapped by name (space-separated), a toggle clicked. */
void ui_test_form_answer (HearthFormView *view, HearthFormField *field, const char *value);

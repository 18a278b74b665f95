/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ui-test-util.c: helpers of the UI tests (ui-test-util.h). */
#include "ui-test-util.h"
#include "hearth-i18n.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *language = "en";

void
ui_test_init (int *argc, char ***argv)
{
  const char *wanted = g_getenv ("HEARTH_TEST_LANGUAGE");

  test_init (argc, argv);
  gtk_disable_setlocale ();
  hearth_i18n_init ();
  if (wanted != NULL && g_str_equal (wanted, HEARTH_LANGUAGE_CHINESE))
    language = HEARTH_LANGUAGE_CHINESE;
  hearth_i18n_set_language (language);
  g_assert_cmpstr (hearth_i18n_get_language (), ==, language);

  hearth_application_prepare_display ();
  if (!gtk_init_check ())
    {
      printf ("1..0 # SKIP no display: run the UI tests under tests/run-display.sh (Xvfb)\n");
      exit (77);
    }
  adw_init ();
  /* Screens change at once, so that what a test asserts is what shows. */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  /* Without a window manager the window is never active: a blinking
   * cursor would find its entry unfocused and warn. */
  g_object_set (gtk_settings_get_default (), "gtk-cursor-blink", FALSE, NULL);
}

const char *
ui_test_language (void)
{
  return language;
}

/* One app for the whole test program: an app that has been registered
 * keeps its D-Bus object paths, so a second one could not register. */
static HearthApplication *shared_app;

HearthApplication *
ui_test_app_new (const char *data_dir)
{
  HearthWindow *window;

  if (shared_app == NULL)
    {
      g_autofree char *config_dir = test_make_dir ("ui-config");
      g_autofree char *settings_path = g_build_filename (config_dir, "hearth.conf", NULL);
      g_autoptr(HearthSettings) settings = hearth_settings_new (settings_path);
      g_autoptr(GError) error = NULL;

      hearth_settings_set_language (settings, language);
      shared_app = hearth_application_new (settings, G_APPLICATION_NON_UNIQUE);
      g_application_register (G_APPLICATION (shared_app), NULL, &error);
      g_assert_no_error (error);
    }
  g_assert_cmpstr (hearth_settings_get_language (hearth_application_get_settings (shared_app)), ==, language);
  hearth_settings_set_lock_seconds (hearth_application_get_settings (shared_app), HEARTH_LOCK_SECONDS_DEFAULT);
  hearth_application_set_data_dir (shared_app, data_dir);
  g_application_activate (G_APPLICATION (shared_app));
  window = ui_test_window (shared_app);
  g_assert_nonnull (window);
  g_assert_cmpstr (hearth_window_get_screen (window), ==, "unlock");
  ui_test_resize (GTK_WIDGET (window), 800, 1200);
  return shared_app;
}

static gboolean
no_windows (gpointer data)
{
  return gtk_application_get_windows (GTK_APPLICATION (data)) == NULL;
}

void
ui_test_app_free (HearthApplication *app)
{
  hearth_application_set_session (app, NULL);
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l != NULL;
       l = gtk_application_get_windows (GTK_APPLICATION (app)))
    gtk_window_destroy (GTK_WINDOW (l->data));
  ui_test_wait_for (no_windows, app, 5000, "the windows to close");
}

HearthWindow *
ui_test_window (HearthApplication *app)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  for (GList *l = windows; l != NULL; l = l->next)
    if (HEARTH_IS_WINDOW (l->data))
      return l->data;
  return NULL;
}

typedef struct {
  gboolean (*done) (gpointer data);
  gpointer data;
} Wait;

void
ui_test_wait_for (gboolean (*done) (gpointer data), gpointer data, guint timeout_ms, const char *what)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!done (data))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out after %u ms waiting for %s", timeout_ms, what);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static gboolean
set_true (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

void
ui_test_run_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, set_true, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static void
after_paint (GdkFrameClock *clock, gpointer data)
{
  *(gboolean *) data = TRUE;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

void
ui_test_flush (GtkWidget *widget)
{
  GtkNative *native = gtk_widget_get_native (widget);
  GdkFrameClock *clock;
  gboolean painted = FALSE;
  gulong handler;

  while (g_main_context_iteration (NULL, FALSE))
    ;
  if (native == NULL || !gtk_widget_get_mapped (GTK_WIDGET (native)))
    return;
  clock = gdk_surface_get_frame_clock (gtk_native_get_surface (native));
  handler = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint), &painted);
  gtk_widget_queue_draw (GTK_WIDGET (native));
  ui_test_wait_for (flag_set, &painted, 5000, "a frame to be drawn");
  g_signal_handler_disconnect (clock, handler);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static GtkWidget *
find_by_id (GtkWidget *widget, const char *id)
{
  const char *own = GTK_IS_BUILDABLE (widget) ? gtk_buildable_get_buildable_id (GTK_BUILDABLE (widget)) : NULL;

  if (own != NULL && g_str_equal (own, id))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_by_id (child, id);
      if (found != NULL)
        return found;
    }
  return NULL;
}

GtkWidget *
ui_test_find (GtkWidget *root, const char *id)
{
  GtkWidget *found = find_by_id (root, id);

  if (found == NULL)
    g_error ("no widget with the id “%s” under %s", id, G_OBJECT_TYPE_NAME (root));
  return found;
}

static void
collect (GtkWidget *widget, GType type, GPtrArray *into, gboolean first_only)
{
  if (first_only && into->len > 0)
    return;
  if (g_type_is_a (G_OBJECT_TYPE (widget), type))
    g_ptr_array_add (into, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect (child, type, into, first_only);
}

GtkWidget *
ui_test_find_type (GtkWidget *root, GType type)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new ();

  collect (root, type, found, TRUE);
  return found->len > 0 ? found->pdata[0] : NULL;
}

GPtrArray *
ui_test_find_all (GtkWidget *root, GType type)
{
  GPtrArray *found = g_ptr_array_new ();

  collect (root, type, found, FALSE);
  return found;
}

void
ui_test_type (GtkWidget *editable, const char *text)
{
  g_assert_true (GTK_IS_EDITABLE (editable));
  g_assert_true (gtk_widget_is_sensitive (editable));
  gtk_widget_grab_focus (editable);
  gtk_editable_set_text (GTK_EDITABLE (editable), text);
  gtk_editable_set_position (GTK_EDITABLE (editable), -1);
}

void
ui_test_click (GtkWidget *button)
{
  g_assert_true (GTK_IS_BUTTON (button));
  g_assert_true (gtk_widget_get_mapped (button));
  g_assert_true (gtk_widget_is_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
}

/* Visible on screen: mapped, and not scrolled out of a stack's hidden page. */
static gboolean
shown (GtkWidget *widget)
{
  return gtk_widget_get_mapped (widget) && gtk_widget_get_child_visible (widget);
}

static void
visible_text (GtkWidget *widget, GString *out)
{
  if (!shown (widget))
    return;
  if (GTK_IS_LABEL (widget))
    {
      const char *text = gtk_label_get_text (GTK_LABEL (widget));
      if (text != NULL && text[0] != '\0')
        g_string_append_printf (out, "%s\n", text);
    }
  else if (GTK_IS_EDITABLE (widget) && !GTK_IS_TEXT (widget) && !GTK_IS_PASSWORD_ENTRY (widget))
    {
      const char *text = gtk_editable_get_text (GTK_EDITABLE (widget));
      if (text != NULL && text[0] != '\0')
        g_string_append_printf (out, "%s\n", text);
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    visible_text (child, out);
}

char *
ui_test_visible_text (GtkWidget *root)
{
  GString *out = g_string_new (NULL);

  visible_text (root, out);
  return g_string_free (out, FALSE);
}

/* Whether a label (or an image) with text lies under @widget. */
static gboolean
has_own_text (GtkWidget *widget)
{
  if (GTK_IS_LABEL (widget) && gtk_label_get_text (GTK_LABEL (widget))[0] != '\0')
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (has_own_text (child))
      return TRUE;
  return FALSE;
}

static gboolean
is_control (GtkWidget *widget)
{
  GtkAccessibleRole role = gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (widget));

  /* The GtkText inside an entry is labelled through its entry. */
  if (GTK_IS_TEXT (widget))
    return FALSE;
  /* A menu button's inner toggle button is named by the menu button. */
  if (GTK_IS_TOGGLE_BUTTON (widget) && GTK_IS_MENU_BUTTON (gtk_widget_get_parent (widget)))
    return FALSE;
  if (GTK_IS_LIST_BOX_ROW (widget))
    return gtk_list_box_row_get_activatable (GTK_LIST_BOX_ROW (widget));
  switch (role)
    {
    case GTK_ACCESSIBLE_ROLE_BUTTON:
    case GTK_ACCESSIBLE_ROLE_CHECKBOX:
    case GTK_ACCESSIBLE_ROLE_COMBO_BOX:
    case GTK_ACCESSIBLE_ROLE_LIST:
    case GTK_ACCESSIBLE_ROLE_RADIO:
    case GTK_ACCESSIBLE_ROLE_SEARCH_BOX:
    case GTK_ACCESSIBLE_ROLE_SLIDER:
    case GTK_ACCESSIBLE_ROLE_SPIN_BUTTON:
    case GTK_ACCESSIBLE_ROLE_SWITCH:
    case GTK_ACCESSIBLE_ROLE_TEXT_BOX:
    case GTK_ACCESSIBLE_ROLE_METER:
    case GTK_ACCESSIBLE_ROLE_PROGRESS_BAR:
      return TRUE;
    default:
      return FALSE;
    }
}

static void
check_labelled (GtkWidget *widget, const char *where, GString *missing)
{
  if (!shown (widget))
    return;
  if (is_control (widget))
    {
      GtkAccessible *a = GTK_ACCESSIBLE (widget);
      gboolean named = gtk_test_accessible_has_property (a, GTK_ACCESSIBLE_PROPERTY_LABEL) ||
                       gtk_test_accessible_has_relation (a, GTK_ACCESSIBLE_RELATION_LABELLED_BY) ||
                       /* A button, row or switcher names itself with its own text. */
                       (!GTK_IS_EDITABLE (widget) && !GTK_IS_LIST_VIEW (widget) && has_own_text (widget));

      if (!named)
        {
          const char *id = GTK_IS_BUILDABLE (widget) ? gtk_buildable_get_buildable_id (GTK_BUILDABLE (widget)) : NULL;
          g_string_append_printf (missing, "  %s%s%s%s\n", G_OBJECT_TYPE_NAME (widget), id != NULL ? " “" : "",
                                  id != NULL ? id : "", id != NULL ? "”" : "");
        }
    }
  /* A combo row's inside (the list showing its choice) is libadwaita's:
   * the row is named by its title. */
  if (ADW_IS_COMBO_ROW (widget))
    return;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    check_labelled (child, where, missing);
}

void
ui_test_assert_labelled (GtkWidget *root, const char *where)
{
  g_autoptr(GString) missing = g_string_new (NULL);

  check_labelled (root, where, missing);
  if (missing->len > 0)
    g_error ("controls without an accessible label on %s:\n%s", where, missing->str);
}

static void
check_touch (GtkWidget *widget, GString *small)
{
  if (!shown (widget))
    return;
  /* The window manager's buttons are not the app's. */
  if (g_str_equal (gtk_widget_get_css_name (widget), "windowcontrols"))
    return;
  /* What a finger taps: not a meter (the strength bar) nor a whole list;
   * its border box (gtk_widget_get_width() leaves out the padding, which
   * a finger taps too). */
  if (is_control (widget) && gtk_widget_is_sensitive (widget) && !GTK_IS_LIST_VIEW (widget) &&
      gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (widget)) != GTK_ACCESSIBLE_ROLE_METER &&
      gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (widget)) != GTK_ACCESSIBLE_ROLE_PROGRESS_BAR)
    {
      graphene_rect_t box;
      int width = 0, height = 0;

      if (gtk_widget_compute_bounds (widget, widget, &box))
        width = (int) (box.size.width + 0.5), height = (int) (box.size.height + 0.5);
      if (width < 44 || height < 44)
        {
          const char *id = GTK_IS_BUILDABLE (widget) ? gtk_buildable_get_buildable_id (GTK_BUILDABLE (widget)) : NULL;
          g_string_append_printf (small, "  %s%s%s %d×%d\n", G_OBJECT_TYPE_NAME (widget), id != NULL ? " #" : "",
                                  id != NULL ? id : "", width, height);
        }
    }
  if (ADW_IS_COMBO_ROW (widget))
    return;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    check_touch (child, small);
}

void
ui_test_assert_touch_targets (GtkWidget *root, const char *where)
{
  g_autoptr(GString) small = g_string_new (NULL);

  ui_test_flush (root);
  check_touch (root, small);
  if (small->len > 0)
    g_error ("controls smaller than 44×44 pixels on %s:\n%s", where, small->str);
}

void
ui_test_resize (GtkWidget *window, int width, int height)
{
  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_widget_set_size_request (window, -1, -1);
  ui_test_flush (window);
}

static void
dump_tree (GtkWidget *widget, int depth, GString *out)
{
  const char *id = GTK_IS_BUILDABLE (widget) ? gtk_buildable_get_buildable_id (GTK_BUILDABLE (widget)) : NULL;

  if (!gtk_widget_get_mapped (widget))
    return;
  int min_width = 0, natural_width = 0;

  gtk_widget_measure (widget, GTK_ORIENTATION_HORIZONTAL, -1, &min_width, &natural_width, NULL, NULL);
  g_string_append_printf (out, "%*s%s%s%s %d×%d (width %d at least, %d natural)\n", depth * 2, "",
                          G_OBJECT_TYPE_NAME (widget), id != NULL ? " #" : "", id != NULL ? id : "",
                          gtk_widget_get_width (widget), gtk_widget_get_height (widget), min_width, natural_width);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    dump_tree (child, depth + 1, out);
}

void
ui_test_screenshot (GtkWidget *window, const char *name)
{
  const char *base = g_getenv ("HEARTH_SCREENSHOT_DIR");
  g_autofree char *dir = NULL;
  g_autofree char *file = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GtkSnapshot *snapshot;
  int width, height;

  ui_test_flush (window);
  width = gtk_widget_get_width (window);
  height = gtk_widget_get_height (window);
  paintable = gtk_widget_paintable_new (window);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  dir = g_build_filename (base != NULL ? base : "screenshots", language, NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  file = g_strdup_printf ("%s.png", name);
  path = g_build_filename (dir, file, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
  /* HEARTH_TEST_DUMP=1: the widget tree with sizes, to debug a layout. */
  if (g_getenv ("HEARTH_TEST_DUMP") != NULL)
    {
      g_autoptr(GString) tree = g_string_new (NULL);
      dump_tree (window, 0, tree);
      g_test_message ("%s", tree->str);
    }
}

/* ---- a network monitor the test sets ---- */

struct _UiTestMonitor {
  GObject parent_instance;
  gboolean available;
};

enum { PROP_0, PROP_AVAILABLE, PROP_METERED, PROP_CONNECTIVITY };

static void ui_test_monitor_iface_init (GNetworkMonitorInterface *iface);
static void ui_test_monitor_initable_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (UiTestMonitor, ui_test_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, ui_test_monitor_initable_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_NETWORK_MONITOR, ui_test_monitor_iface_init))

static gboolean
ui_test_monitor_initable (GInitable *initable, GCancellable *cancellable, GError **error)
{
  return TRUE;
}

static void
ui_test_monitor_initable_init (GInitableIface *iface)
{
  iface->init = ui_test_monitor_initable;
}

static void
ui_test_monitor_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  UiTestMonitor *self = UI_TEST_MONITOR (object);

  switch (id)
    {
    case PROP_AVAILABLE:
      g_value_set_boolean (value, self->available);
      break;
    case PROP_METERED:
      g_value_set_boolean (value, FALSE);
      break;
    case PROP_CONNECTIVITY:
      g_value_set_enum (value, self->available ? G_NETWORK_CONNECTIVITY_FULL : G_NETWORK_CONNECTIVITY_LOCAL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
ui_test_monitor_class_init (UiTestMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = ui_test_monitor_get_property;
  g_object_class_override_property (object_class, PROP_AVAILABLE, "network-available");
  g_object_class_override_property (object_class, PROP_METERED, "network-metered");
  g_object_class_override_property (object_class, PROP_CONNECTIVITY, "connectivity");
}

static void
ui_test_monitor_iface_init (GNetworkMonitorInterface *iface)
{
}

static void
ui_test_monitor_init (UiTestMonitor *self)
{
  self->available = TRUE;
}

void
ui_test_monitor_set_available (UiTestMonitor *monitor, gboolean available)
{
  monitor->available = available;
  g_object_notify (G_OBJECT (monitor), "network-available");
  g_signal_emit_by_name (monitor, "network-changed", available);
}

UiTestMonitor *
ui_test_monitor_new (gboolean available)
{
  UiTestMonitor *self = g_object_new (UI_TEST_TYPE_MONITOR, NULL);

  self->available = available;
  return self;
}

/* ---- screens, the store, the form view ---- */

sqlite3 *
ui_test_db (HearthApplication *app)
{
  return hearth_session_get_db (hearth_application_get_session (app));
}

char *
ui_test_app_text (HearthApplication *app, const char *sql, const char *arg)
{
  sqlite3_stmt *st = NULL;
  char *out = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (ui_test_db (app), sql, -1, &st, NULL), ==, SQLITE_OK);
  if (arg != NULL)
    sqlite3_bind_text (st, 1, arg, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_text (st, 0) != NULL)
    out = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return out;
}

static gboolean
on_screen (gpointer data)
{
  gpointer *args = data;

  return g_strcmp0 (hearth_window_get_screen (args[0]), args[1]) == 0;
}

void
ui_test_wait_screen (HearthWindow *window, const char *screen)
{
  gpointer args[2] = { window, (gpointer) screen };
  g_autofree char *what = g_strdup_printf ("the %s screen", screen);

  ui_test_wait_for (on_screen, args, 30000, what);
  ui_test_flush (GTK_WIDGET (window));
}

HearthFormView *
ui_test_form_view (HearthApplication *app)
{
  GtkWidget *view = hearth_window_get_form_view (ui_test_window (app));

  g_assert_true (HEARTH_IS_FORM_VIEW (view));
  return HEARTH_FORM_VIEW (view);
}

gboolean
ui_test_form_settled (gpointer view)
{
  return !hearth_form_view_is_settling (view);
}

void
ui_test_form_press (HearthFormView *view, const char *id)
{
  /* Saving or closing lets the view go. */
  g_autoptr(HearthFormView) kept = g_object_ref (view);

  ui_test_click (ui_test_find (GTK_WIDGET (view), id));
  ui_test_wait_for (ui_test_form_settled, view, 5000, "the input method's moment");
  ui_test_flush (GTK_WIDGET (view));
}

char *
ui_test_form_value (HearthFormView *view, const char *path)
{
  return hearth_form_session_get_value (hearth_form_view_get_form_session (view), path, NULL);
}

void
ui_test_form_answer (HearthFormView *view, HearthFormField *field, const char *value)
{
  GtkWidget *input = hearth_form_field_get_input (field);

  if (GTK_IS_ENTRY (input))
    ui_test_type (input, value);
  else if (GTK_IS_TEXT_VIEW (input))
    {
      gtk_widget_grab_focus (input);
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (input)), value, -1);
    }
  else if (GTK_IS_LIST_BOX (input))
    {
      g_auto(GStrv) names = g_strsplit (value, " ", -1);

      for (guint i = 0; names[i] != NULL; i++)
        {
          GtkWidget *row = hearth_form_field_get_choice (field, names[i]);

          if (row == NULL)
            g_error ("%s has no choice %s", hearth_form_field_get_path (field), names[i]);
          g_assert_true (gtk_widget_activate (row));
        }
    }
  else if (GTK_IS_TOGGLE_BUTTON (input))
    ui_test_click (input);
  else
    g_error ("%s: no way to answer a %s", hearth_form_field_get_path (field),
             input != NULL ? G_OBJECT_TYPE_NAME (input) : "question without an input");
  ui_test_flush (GTK_WIDGET (view));
}

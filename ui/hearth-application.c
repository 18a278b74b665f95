/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-application.c: the tablet app (hearth-application.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-application.h"
#include "hearth-i18n.h"
#include "hearth-preferences.h"
#include "hearth-window.h"

#include <glib/gi18n.h>

struct _HearthApplication {
  AdwApplication parent_instance;
  HearthSettings *settings;
  HearthSession *session;
  char *data_dir;
  guint rebuild_source;
};

G_DEFINE_FINAL_TYPE (HearthApplication, hearth_application, ADW_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_SESSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static HearthWindow *
active_window (HearthApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  return HEARTH_IS_WINDOW (window) ? HEARTH_WINDOW (window) : NULL;
}

static void
lock_activated (GSimpleAction *action, GVariant *parameter, gpointer data)
{
  hearth_application_set_session (HEARTH_APPLICATION (data), NULL);
}

static void
preferences_activated (GSimpleAction *action, GVariant *parameter, gpointer data)
{
  HearthApplication *self = data;
  HearthPreferences *preferences = hearth_preferences_new (self->settings);

  gtk_window_set_transient_for (GTK_WINDOW (preferences), GTK_WINDOW (active_window (self)));
  gtk_window_present (GTK_WINDOW (preferences));
}

static void
about_activated (GSimpleAction *action, GVariant *parameter, gpointer data)
{
  HearthApplication *self = data;
  const char *developers[] = { _("The Hearth developers"), NULL };
  GtkWidget *about = adw_about_window_new ();

  adw_about_window_set_application_name (ADW_ABOUT_WINDOW (about), _("Hearth"));
  adw_about_window_set_application_icon (ADW_ABOUT_WINDOW (about), HEARTH_APP_ID);
  adw_about_window_set_version (ADW_ABOUT_WINDOW (about), HEARTH_VERSION);
  adw_about_window_set_comments (ADW_ABOUT_WINDOW (about),
                                 _("Household visits and monitoring to prevent a return to poverty, "
                                   "on a tablet that works without a network."));
  adw_about_window_set_developers (ADW_ABOUT_WINDOW (about), developers);
  adw_about_window_set_license_type (ADW_ABOUT_WINDOW (about), GTK_LICENSE_GPL_3_0);
  gtk_window_set_transient_for (GTK_WINDOW (about), GTK_WINDOW (active_window (self)));
  gtk_window_present (GTK_WINDOW (about));
}

static void
quit_activated (GSimpleAction *action, GVariant *parameter, gpointer data)
{
  HearthApplication *self = data;

  hearth_application_set_session (self, NULL);
  g_application_quit (G_APPLICATION (self));
}

static const GActionEntry app_actions[] = {
  { .name = "lock", .activate = lock_activated },
  { .name = "preferences", .activate = preferences_activated },
  { .name = "about", .activate = about_activated },
  { .name = "quit", .activate = quit_activated },
};

/* The screens are built in the language of the moment: a new language
 * means new windows, showing the same session. From the main loop: the
 * preferences window that changed the setting goes with its parent. */
static gboolean
rebuild_windows (gpointer data)
{
  HearthApplication *self = data;
  g_autoptr(GList) windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (self)));
  HearthWindow *replacement;

  self->rebuild_source = 0;
  hearth_i18n_set_language (hearth_settings_get_language (self->settings));
  replacement = hearth_window_new (self);
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_destroy (GTK_WINDOW (l->data));
  gtk_window_present (GTK_WINDOW (replacement));
  return G_SOURCE_REMOVE;
}

static void
language_changed (HearthSettings *settings, GParamSpec *pspec, HearthApplication *self)
{
  if (self->rebuild_source == 0)
    self->rebuild_source = g_idle_add (rebuild_windows, self);
}

static void
hearth_application_startup (GApplication *app)
{
  HearthApplication *self = HEARTH_APPLICATION (app);
  const char *lock_accels[] = { "<Control>l", NULL };
  const char *preferences_accels[] = { "<Control>comma", NULL };
  const char *quit_accels[] = { "<Control>q", NULL };

  G_APPLICATION_CLASS (hearth_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.lock", lock_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences", preferences_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);

  hearth_i18n_set_language (hearth_settings_get_language (self->settings));
  g_signal_connect_object (self->settings, "notify::language", G_CALLBACK (language_changed), self, 0);
}

static void
hearth_application_activate (GApplication *app)
{
  HearthApplication *self = HEARTH_APPLICATION (app);
  HearthWindow *window = active_window (self);

  if (window == NULL)
    window = hearth_window_new (self);
  gtk_window_present (GTK_WINDOW (window));
}

static gint
hearth_application_handle_local_options (GApplication *app, GVariantDict *options)
{
  HearthApplication *self = HEARTH_APPLICATION (app);
  const char *data_dir = NULL;

  if (g_variant_dict_lookup (options, "data-dir", "^&ay", &data_dir) && data_dir[0] != '\0')
    hearth_application_set_data_dir (self, data_dir);
  return -1;
}

static void
hearth_application_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HearthApplication *self = HEARTH_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hearth_application_dispose (GObject *object)
{
  HearthApplication *self = HEARTH_APPLICATION (object);

  g_clear_handle_id (&self->rebuild_source, g_source_remove);
  g_clear_object (&self->session);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (hearth_application_parent_class)->dispose (object);
}

static void
hearth_application_finalize (GObject *object)
{
  HearthApplication *self = HEARTH_APPLICATION (object);

  g_free (self->data_dir);
  G_OBJECT_CLASS (hearth_application_parent_class)->finalize (object);
}

static void
hearth_application_class_init (HearthApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->get_property = hearth_application_get_property;
  object_class->dispose = hearth_application_dispose;
  object_class->finalize = hearth_application_finalize;
  app_class->startup = hearth_application_startup;
  app_class->activate = hearth_application_activate;
  app_class->handle_local_options = hearth_application_handle_local_options;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, HEARTH_TYPE_SESSION,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hearth_application_init (HearthApplication *self)
{
  const GOptionEntry options[] = {
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, NULL, N_("The store's data folder"), N_("DIR") },
    { NULL }
  };
  const char *env = g_getenv ("HEARTH_DATA_DIR");

  g_application_add_main_option_entries (G_APPLICATION (self), options);
  self->data_dir = env != NULL && env[0] != '\0'
                     ? g_strdup (env)
                     : g_build_filename (g_get_user_data_dir (), "hearth", "default", NULL);
}

HearthApplication *
hearth_application_new (HearthSettings *settings, GApplicationFlags flags)
{
  HearthApplication *self = g_object_new (HEARTH_TYPE_APPLICATION,
                                          "application-id", HEARTH_APP_ID,
                                          "flags", flags,
                                          "resource-base-path", "/org/hearth/Hearth",
                                          NULL);

  self->settings = settings != NULL ? g_object_ref (settings) : hearth_settings_new (NULL);
  return self;
}

const char *
hearth_application_get_data_dir (HearthApplication *self)
{
  g_return_val_if_fail (HEARTH_IS_APPLICATION (self), NULL);
  return self->data_dir;
}

void
hearth_application_set_data_dir (HearthApplication *self, const char *data_dir)
{
  g_return_if_fail (HEARTH_IS_APPLICATION (self));
  g_return_if_fail (data_dir != NULL);

  g_free (self->data_dir);
  self->data_dir = g_strdup (data_dir);
}

HearthSettings *
hearth_application_get_settings (HearthApplication *self)
{
  g_return_val_if_fail (HEARTH_IS_APPLICATION (self), NULL);
  return self->settings;
}

HearthSession *
hearth_application_get_session (HearthApplication *self)
{
  g_return_val_if_fail (HEARTH_IS_APPLICATION (self), NULL);
  return self->session;
}

void
hearth_application_set_session (HearthApplication *self, HearthSession *session)
{
  g_return_if_fail (HEARTH_IS_APPLICATION (self));
  g_return_if_fail (session == NULL || HEARTH_IS_SESSION (session));

  if (g_set_object (&self->session, session))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

void
hearth_application_prepare_display (void)
{
  const char *debug = g_getenv ("GDK_DEBUG");
  g_autofree char *flags = NULL;

  if (g_strcmp0 (g_getenv ("GSK_RENDERER"), "cairo") != 0)
    return;
  /* GDK_DEBUG is a list of flags separated by ',', ':', ';' or spaces. */
  flags = debug != NULL && *debug != '\0' ? g_strconcat (debug, ",gl-disable", NULL) : g_strdup ("gl-disable");
  g_setenv ("GDK_DEBUG", flags, TRUE);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-preferences.c: the preferences window (hearth-preferences.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-preferences.h"
#include "hearth-i18n.h"

#include <glib/gi18n.h>

struct _HearthPreferences {
  AdwPreferencesWindow parent_instance;
  AdwComboRow *language_row;
  AdwComboRow *lock_row;
  GtkStringList *lock_list;
  HearthSettings *settings;
  gboolean loading;
};

G_DEFINE_FINAL_TYPE (HearthPreferences, hearth_preferences, ADW_TYPE_PREFERENCES_WINDOW)

/* In the order of the language row's items. */
static const char *const languages[] = { HEARTH_LANGUAGE_SYSTEM, HEARTH_LANGUAGE_CHINESE, HEARTH_LANGUAGE_ENGLISH };
static const guint lock_minutes[] = { 1, 2, 5, 10, 15, 30, 60 };

static void
language_selected (HearthPreferences *self)
{
  guint i = adw_combo_row_get_selected (self->language_row);

  if (!self->loading && i < G_N_ELEMENTS (languages))
    hearth_settings_set_language (self->settings, languages[i]);
}

static void
lock_selected (HearthPreferences *self)
{
  guint i = adw_combo_row_get_selected (self->lock_row);

  if (!self->loading && i < G_N_ELEMENTS (lock_minutes))
    hearth_settings_set_lock_seconds (self->settings, lock_minutes[i] * 60);
}

static void
hearth_preferences_dispose (GObject *object)
{
  HearthPreferences *self = HEARTH_PREFERENCES (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), HEARTH_TYPE_PREFERENCES);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (hearth_preferences_parent_class)->dispose (object);
}

static void
hearth_preferences_class_init (HearthPreferencesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearth_preferences_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-preferences.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthPreferences, language_row);
  gtk_widget_class_bind_template_child (widget_class, HearthPreferences, lock_row);
  gtk_widget_class_bind_template_child (widget_class, HearthPreferences, lock_list);
  gtk_widget_class_bind_template_callback (widget_class, language_selected);
  gtk_widget_class_bind_template_callback (widget_class, lock_selected);
}

static void
hearth_preferences_init (HearthPreferences *self)
{
  self->loading = TRUE;
  gtk_widget_init_template (GTK_WIDGET (self));
  for (guint i = 0; i < G_N_ELEMENTS (lock_minutes); i++)
    {
      g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u minute", "%u minutes",
                                                            lock_minutes[i]), lock_minutes[i]);
      gtk_string_list_append (self->lock_list, text);
    }
  self->loading = FALSE;
}

HearthPreferences *
hearth_preferences_new (HearthSettings *settings)
{
  HearthPreferences *self = g_object_new (HEARTH_TYPE_PREFERENCES, NULL);
  const char *language = hearth_settings_get_language (settings);
  guint minutes = hearth_settings_get_lock_seconds (settings) / 60;
  guint lock_index = 0;

  self->settings = g_object_ref (settings);
  self->loading = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (languages); i++)
    if (g_str_equal (language, languages[i]))
      adw_combo_row_set_selected (self->language_row, i);
  /* The nearest choice at or below the setting. */
  for (guint i = 0; i < G_N_ELEMENTS (lock_minutes); i++)
    if (lock_minutes[i] <= MAX (minutes, 1))
      lock_index = i;
  adw_combo_row_set_selected (self->lock_row, lock_index);
  self->loading = FALSE;
  return self;
}

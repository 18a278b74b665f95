/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-settings.c: the user's preferences in a key file (hearth-settings.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-settings.h"
#include "hearth-i18n.h"

#include <errno.h>
#include <glib/gstdio.h>

#define GROUP "hearth"

struct _HearthSettings {
  GObject parent_instance;
  char *path;
  char *language;
  guint lock_seconds;
};

G_DEFINE_FINAL_TYPE (HearthSettings, hearth_settings, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_LANGUAGE,
  PROP_LOCK_SECONDS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* g_set_str() is GLib 2.76. */
static gboolean
replace_str (char **slot, const char *value)
{
  if (g_strcmp0 (*slot, value) == 0)
    return FALSE;
  g_free (*slot);
  *slot = g_strdup (value);
  return TRUE;
}

static gboolean
known_language (const char *language)
{
  return language != NULL && (g_str_equal (language, HEARTH_LANGUAGE_SYSTEM) ||
                              g_str_equal (language, HEARTH_LANGUAGE_CHINESE) ||
                              g_str_equal (language, HEARTH_LANGUAGE_ENGLISH));
}

static void
save (HearthSettings *self)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (self->path);

  g_key_file_set_string (kf, GROUP, "language", self->language);
  g_key_file_set_uint64 (kf, GROUP, "lock-seconds", self->lock_seconds);
  if (g_mkdir_with_parents (dir, 0700) != 0 || !g_key_file_save_to_file (kf, self->path, &error))
    g_warning ("The settings could not be saved in %s: %s", self->path,
               error != NULL ? error->message : g_strerror (errno));
}

static void
hearth_settings_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HearthSettings *self = HEARTH_SETTINGS (object);

  switch (prop_id)
    {
    case PROP_LANGUAGE:
      g_value_set_string (value, self->language);
      break;
    case PROP_LOCK_SECONDS:
      g_value_set_uint (value, self->lock_seconds);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hearth_settings_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  HearthSettings *self = HEARTH_SETTINGS (object);

  switch (prop_id)
    {
    case PROP_LANGUAGE:
      hearth_settings_set_language (self, g_value_get_string (value));
      break;
    case PROP_LOCK_SECONDS:
      hearth_settings_set_lock_seconds (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hearth_settings_finalize (GObject *object)
{
  HearthSettings *self = HEARTH_SETTINGS (object);

  g_free (self->path);
  g_free (self->language);
  G_OBJECT_CLASS (hearth_settings_parent_class)->finalize (object);
}

static void
hearth_settings_class_init (HearthSettingsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = hearth_settings_get_property;
  object_class->set_property = hearth_settings_set_property;
  object_class->finalize = hearth_settings_finalize;

  properties[PROP_LANGUAGE] =
    g_param_spec_string ("language", NULL, NULL, HEARTH_LANGUAGE_SYSTEM,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOCK_SECONDS] =
    g_param_spec_uint ("lock-seconds", NULL, NULL, HEARTH_LOCK_SECONDS_MIN, HEARTH_LOCK_SECONDS_MAX,
                       HEARTH_LOCK_SECONDS_DEFAULT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hearth_settings_init (HearthSettings *self)
{
  self->language = g_strdup (HEARTH_LANGUAGE_SYSTEM);
  self->lock_seconds = HEARTH_LOCK_SECONDS_DEFAULT;
}

HearthSettings *
hearth_settings_new (const char *path)
{
  HearthSettings *self = g_object_new (HEARTH_TYPE_SETTINGS, NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new ();

  self->path = path != NULL ? g_strdup (path)
                            : g_build_filename (g_get_user_config_dir (), "hearth", "hearth.conf", NULL);
  if (g_key_file_load_from_file (kf, self->path, G_KEY_FILE_NONE, NULL))
    {
      g_autofree char *language = g_key_file_get_string (kf, GROUP, "language", NULL);
      g_autoptr(GError) error = NULL;
      guint64 seconds = g_key_file_get_uint64 (kf, GROUP, "lock-seconds", &error);

      if (known_language (language))
        replace_str (&self->language, language);
      if (error == NULL)
        self->lock_seconds = (guint) CLAMP (seconds, HEARTH_LOCK_SECONDS_MIN, HEARTH_LOCK_SECONDS_MAX);
    }
  return self;
}

const char *
hearth_settings_get_language (HearthSettings *self)
{
  g_return_val_if_fail (HEARTH_IS_SETTINGS (self), HEARTH_LANGUAGE_SYSTEM);
  return self->language;
}

void
hearth_settings_set_language (HearthSettings *self, const char *language)
{
  g_return_if_fail (HEARTH_IS_SETTINGS (self));
  g_return_if_fail (known_language (language));

  if (replace_str (&self->language, language))
    {
      save (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LANGUAGE]);
    }
}

guint
hearth_settings_get_lock_seconds (HearthSettings *self)
{
  g_return_val_if_fail (HEARTH_IS_SETTINGS (self), HEARTH_LOCK_SECONDS_DEFAULT);
  return self->lock_seconds;
}

void
hearth_settings_set_lock_seconds (HearthSettings *self, guint seconds)
{
  g_return_if_fail (HEARTH_IS_SETTINGS (self));

  seconds = CLAMP (seconds, HEARTH_LOCK_SECONDS_MIN, HEARTH_LOCK_SECONDS_MAX);
  if (self->lock_seconds != seconds)
    {
      self->lock_seconds = seconds;
      save (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOCK_SECONDS]);
    }
}

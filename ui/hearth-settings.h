/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-settings.h: the user's preferences: the language and how long
 * the app waits, untouched, before it locks the store. Kept in a small
 * key file ($XDG_CONFIG_HOME/hearth/hearth.conf), written on every change:
 * nothing to install or compile, and the tests point it elsewhere.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* The idle time before locking, in seconds: bounds and default. */
#define HEARTH_LOCK_SECONDS_MIN 30
#define HEARTH_LOCK_SECONDS_MAX (60 * 60)
#define HEARTH_LOCK_SECONDS_DEFAULT (5 * 60)

#define HEARTH_TYPE_SETTINGS (hearth_settings_get_type ())
G_DECLARE_FINAL_TYPE (HearthSettings, hearth_settings, HEARTH, SETTINGS, GObject)

/**
 * hearth_settings_new:
 * @path: (nullable): the key file; %NULL: $XDG_CONFIG_HOME/hearth/hearth.conf
 *
 * Reads the settings; a missing or unreadable file gives the defaults
 * (a value out of bounds is replaced by the nearest bound).
 *
 * Returns: (transfer full): the settings. Main thread only.
 */
HearthSettings *hearth_settings_new (const char *path);

/* Returns: (transfer none): "", "zh_CN" or "en" (hearth-i18n.h). */
const char *hearth_settings_get_language     (HearthSettings *self);
void        hearth_settings_set_language     (HearthSettings *self,
                                              const char     *language);
guint       hearth_settings_get_lock_seconds (HearthSettings *self);
void        hearth_settings_set_lock_seconds (HearthSettings *self,
                                              guint           seconds);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-preferences.h: the preferences window: the language (the
 * system's, Chinese or English; the screens change at once) and how long
 * the tablet waits untouched before it locks.
 */
#pragma once

#include <adwaita.h>

#include "hearth-settings.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_PREFERENCES (hearth_preferences_get_type ())
G_DECLARE_FINAL_TYPE (HearthPreferences, hearth_preferences, HEARTH, PREFERENCES, AdwPreferencesWindow)

HearthPreferences *hearth_preferences_new (HearthSettings *settings);

G_END_DECLS

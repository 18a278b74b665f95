/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-application.h: the tablet app. It holds the user's settings and,
 * while the store is unlocked, the session (hearth-session.h); its windows
 * show the unlock screen when there is no session and the user's screens
 * when there is. Actions: app.lock, app.preferences, app.about, app.quit.
 */
#pragma once

#include <adwaita.h>

#include "hearth-session.h"
#include "hearth-settings.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_APPLICATION (hearth_application_get_type ())
G_DECLARE_FINAL_TYPE (HearthApplication, hearth_application, HEARTH, APPLICATION, AdwApplication)

/**
 * hearth_application_new:
 * @settings: (nullable) (transfer none): the settings; %NULL: the user's
 * @flags: G_APPLICATION_DEFAULT_FLAGS, or G_APPLICATION_NON_UNIQUE for
 *   tests and benchmarks
 *
 * Returns: (transfer full): the app. The data folder is --data-dir, else
 *   $HEARTH_DATA_DIR, else $XDG_DATA_HOME/hearth/default
 *   (../shared/INTERFACES.md); hearth_application_set_data_dir() sets it
 *   for tests.
 */
HearthApplication *hearth_application_new (HearthSettings    *settings,
                                           GApplicationFlags  flags);

const char     *hearth_application_get_data_dir (HearthApplication *self);
void            hearth_application_set_data_dir (HearthApplication *self,
                                                 const char        *data_dir);
HearthSettings *hearth_application_get_settings (HearthApplication *self);

/* Returns: (transfer none) (nullable): the session, %NULL while locked. */
HearthSession  *hearth_application_get_session  (HearthApplication *self);

/**
 * hearth_application_set_session:
 * @session: (nullable): the unlocked store, or %NULL to lock
 *
 * Locking drops the session: once no screen holds it any more, the
 * database is closed and its key wiped.
 */
void            hearth_application_set_session  (HearthApplication *self,
                                                 HearthSession     *session);

/**
 * hearth_application_prepare_display:
 *
 * Call once before GTK is initialised (gtk_init() or the application's
 * startup). When GSK_RENDERER asks GTK to draw with cairo (in software),
 * GDK's OpenGL support is turned off (GDK_DEBUG gains "gl-disable"):
 * otherwise GDK loads the OpenGL stack only to probe it when the display
 * opens, and on a machine without a GPU driver that is Mesa's software
 * OpenGL (llvmpipe and LLVM), about 58 MB resident that nothing uses.
 * With GTK's OpenGL renderer (its default where OpenGL works) nothing
 * changes. Not thread-safe: it sets the process's environment.
 */
void            hearth_application_prepare_display (void);

G_END_DECLS

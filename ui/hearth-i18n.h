/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-i18n.h: the language of the app's text. Hearth follows the
 * system locale unless the user picked a language in the preferences;
 * Simplified Chinese and English are the two it has.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The language settings ("language" in hearth-settings.h) take. */
#define HEARTH_LANGUAGE_SYSTEM ""
#define HEARTH_LANGUAGE_CHINESE "zh_CN"
#define HEARTH_LANGUAGE_ENGLISH "en"

/**
 * hearth_i18n_init:
 *
 * Sets the locale from the environment and binds the message catalogue
 * ($HEARTH_LOCALEDIR, else the installed one). Call once, first thing in
 * main(), before GTK is initialised (after gtk_disable_setlocale(), so
 * that GTK does not undo hearth_i18n_set_language()).
 */
void hearth_i18n_init (void);

/**
 * hearth_i18n_set_language:
 * @language: %HEARTH_LANGUAGE_SYSTEM, _CHINESE or _ENGLISH
 *
 * Makes gettext answer in @language from now on (through $LANGUAGE, and a
 * messages locale that is not "C" when Chinese is wanted on a system whose
 * locale is, since gettext ignores $LANGUAGE under "C"). Text already
 * shown keeps its language: the window rebuilds its screens. Call from the
 * main thread while no other thread reads the environment.
 */
void hearth_i18n_set_language (const char *language);

/**
 * hearth_i18n_get_language:
 *
 * Returns: (transfer none): the language gettext answers in now:
 *   %HEARTH_LANGUAGE_CHINESE or %HEARTH_LANGUAGE_ENGLISH.
 */
const char *hearth_i18n_get_language (void);

G_END_DECLS

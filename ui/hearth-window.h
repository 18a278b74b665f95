/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-window.h: the app's window. Without a session it shows the
 * unlock screen (or, before any store exists, the screen that makes one);
 * with one, the enrolment screen until the tablet is enrolled or the user
 * chooses to do it later, then the user's screens. It locks the app after
 * the idle time of the settings.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

typedef struct _HearthApplication HearthApplication;

#define HEARTH_TYPE_WINDOW (hearth_window_get_type ())
G_DECLARE_FINAL_TYPE (HearthWindow, hearth_window, HEARTH, WINDOW, AdwApplicationWindow)

HearthWindow *hearth_window_new (HearthApplication *app);

/* Shows a short message over the screen for a few seconds. */
void hearth_window_toast (HearthWindow *self,
                          const char   *message);

/* Leaves the enrolment screen for the user's screens (enrolled, or "Later"). */
void hearth_window_show_main (HearthWindow *self);

/* Shows the enrolment screen (from the menu, while not enrolled). */
void hearth_window_show_enrol (HearthWindow *self);

/**
 * hearth_window_open_form:
 * @form_id: (nullable): a form to begin; %NULL with @draft_id
 * @household_id: (nullable): the household it is for; %NULL: a registration
 * @draft_id: (nullable): a draft to continue
 *
 * Shows the form screen (hearth-form-view.h); when the form cannot be
 * opened, says why over the screen shown; a draft that cannot be opened
 * is offered for discarding (else it would stay on the lists for good). Also the action
 * `window.open-form` with "(sss)": form, household, draft ("" for none).
 *
 * Returns: whether the form screen shows.
 */
gboolean hearth_window_open_form (HearthWindow *self,
                                  const char   *form_id,
                                  const char   *household_id,
                                  const char   *draft_id);

/* Returns: (transfer none) (nullable): the form screen, while it shows. */
GtkWidget *hearth_window_get_form_view (HearthWindow *self);

/* Returns: (transfer none): the idle watch, for tests. */
GObject *hearth_window_get_idle_lock (HearthWindow *self);

/* Returns: (transfer none): "unlock", "enrol", "main" or "form". */
const char *hearth_window_get_screen (HearthWindow *self);

G_END_DECLS

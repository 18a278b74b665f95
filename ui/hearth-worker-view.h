/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-worker-view.h: the screens of an unlocked tablet: Today (the
 * tasks) and Households (the list and one household), switched by tabs in
 * the header on a wide screen and by a bar at the bottom, within reach of
 * the thumb, on a narrow one (AdwViewStack with AdwViewSwitcherTitle and
 * AdwViewSwitcherBar). The menu holds the preferences, enrolment and
 * about; the lock button locks at once.
 */
#pragma once

#include <adwaita.h>

#include "hearth-households-page.h"
#include "hearth-session.h"
#include "hearth-today-page.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_WORKER_VIEW (hearth_worker_view_get_type ())
G_DECLARE_FINAL_TYPE (HearthWorkerView, hearth_worker_view, HEARTH, WORKER_VIEW, GtkWidget)

HearthWorkerView *hearth_worker_view_new (HearthSession *session);

/* Switches to Households and shows @household_id. */
void hearth_worker_view_show_household (HearthWorkerView *self,
                                        const char       *household_id);

HearthTodayPage      *hearth_worker_view_get_today_page      (HearthWorkerView *self);
/* The Households and Sync tabs are made once the first screen is drawn,
 * or when first shown: these make them at once if they are not yet. */
HearthHouseholdsPage *hearth_worker_view_get_households_page (HearthWorkerView *self);
struct _HearthSyncPage *hearth_worker_view_get_sync_page      (HearthWorkerView *self);
/* Returns: (transfer none) (nullable): the review screen (not a worker's). */
struct _HearthReviewPage *hearth_worker_view_get_review_page (HearthWorkerView *self);

G_END_DECLS

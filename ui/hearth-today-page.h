/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-today-page.h: the worker's first screen: the open tasks, the
 * overdue ones first (longest overdue first), then those due today, then
 * the visits coming up; between them, the households with no open task
 * whose routine visit is due (../shared/DOMAIN.md, "The procedure", 8:
 * never visited or not for a quarter, a month for priority ones, as the
 * county's thresholds set). Each opens its household. Read a page at a
 * time by key (case-search.h, hearth_case_tasks_list() and
 * hearth_case_visits_due()).
 */
#pragma once

#include <adwaita.h>

#include "hearth-session.h"

G_BEGIN_DECLS

/* Tasks read per page (and "Show more"): more than a screen holds;
 * building rows for more would slow the first screen. */
#define HEARTH_TODAY_TASKS_PER_PAGE 20
/* Households to visit read per page (and "Show more"), likewise. */
#define HEARTH_TODAY_VISITS_PER_PAGE 20

#define HEARTH_TYPE_TODAY_PAGE (hearth_today_page_get_type ())
G_DECLARE_FINAL_TYPE (HearthTodayPage, hearth_today_page, HEARTH, TODAY_PAGE, GtkWidget)

HearthTodayPage *hearth_today_page_new (HearthSession *session);

/* Reads the tasks again from the first page. */
void  hearth_today_page_reload (HearthTodayPage *self);

/* Returns: how many task rows are shown under overdue, today and later. */
void  hearth_today_page_get_counts (HearthTodayPage *self,
                                    guint           *overdue,
                                    guint           *today,
                                    guint           *later);

/* Returns: how many households to visit are shown. When the page is made
 * with tasks to show, these (and the tasks of its first page below a
 * screenful) are added once the page is first drawn: none until then. */
guint hearth_today_page_get_visit_count (HearthTodayPage *self);

G_END_DECLS

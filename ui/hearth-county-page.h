/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-county-page.h: the county staff's overview (issue 6, item 7):
 * the households synchronised into their tablet, which pulls every village
 * of the county (app/case-summary.h), counted by risk level, by state, and
 * by township with its villages, and a chart of risk levels by township
 * (hearth-risk-chart.h).
 */
#pragma once

#include <adwaita.h>

#include "case-summary.h"
#include "hearth-session.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_COUNTY_PAGE (hearth_county_page_get_type ())
G_DECLARE_FINAL_TYPE (HearthCountyPage, hearth_county_page, HEARTH, COUNTY_PAGE, GtkWidget)

HearthCountyPage *hearth_county_page_new (HearthSession *session);

/* Reads the counts again. */
void hearth_county_page_reload (HearthCountyPage *self);

/* Returns: (transfer none) (nullable): the counts shown. */
const HearthCaseSummary *hearth_county_page_get_summary (HearthCountyPage *self);

G_END_DECLS

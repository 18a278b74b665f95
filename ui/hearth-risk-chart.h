/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-risk-chart.h: a chart of risk levels by township for the county
 * staff (issue 6, item 7): one stacked bar a township, red, orange, yellow
 * and no risk found, each township's total beside it, a legend above,
 * drawn with GTK's own drawing (GtkSnapshot), in the app's language; its
 * accessible description says the same figures in words.
 */
#pragma once

#include <gtk/gtk.h>

#include "case-summary.h"
#include "store.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_RISK_CHART (hearth_risk_chart_get_type ())
G_DECLARE_FINAL_TYPE (HearthRiskChart, hearth_risk_chart, HEARTH, RISK_CHART, GtkWidget)

GtkWidget *hearth_risk_chart_new (void);

/* Draws @summary's townships (copied), each labelled with its name in
 * @store's published division list (case-divisions.h), else its code;
 * @store may be %NULL (codes only). */
void hearth_risk_chart_set_summary (HearthRiskChart         *self,
                                    const HearthCaseSummary *summary,
                                    HearthStore             *store);

/* Returns: (transfer none): the figures in words (the accessible description). */
const char *hearth_risk_chart_get_description (HearthRiskChart *self);

/* Returns: how many bars it draws. */
guint hearth_risk_chart_get_n_bars (HearthRiskChart *self);

G_END_DECLS

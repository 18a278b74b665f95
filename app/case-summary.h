/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-summary.h: what the county staff's tablet holds, counted: the
 * households synchronised into it (it pulls every village of its county),
 * by township and village, by risk level and by monitoring status, for
 * the county's batch screen and its chart of risk levels by township.
 *
 * Thread-safety: as the store's connection.
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* The risk levels, worst first, as the counts index them. */
typedef enum {
  HEARTH_SUMMARY_RED,
  HEARTH_SUMMARY_ORANGE,
  HEARTH_SUMMARY_YELLOW,
  HEARTH_SUMMARY_NONE,
  HEARTH_SUMMARY_N_LEVELS,
} HearthSummaryLevel;

/* The monitoring states, in the workflow's order, as the counts index them. */
#define HEARTH_SUMMARY_N_STATES 7

/**
 * hearth_summary_level_name:
 * Returns: (transfer none): "red", "orange", "yellow" or "none".
 */
const char *hearth_summary_level_name (HearthSummaryLevel level);

/**
 * hearth_summary_state_name:
 * @i: 0 … HEARTH_SUMMARY_N_STATES - 1
 * Returns: (transfer none): the monitoring state ("none",
 *   "pending_village_review", … "risk_eliminated").
 */
const char *hearth_summary_state_name (guint i);

/**
 * HearthSummaryGroup:
 * @code: a township's 9-digit code or a village's 12-digit one
 * @households: how many households
 * @by_level: per HearthSummaryLevel
 * @by_state: per hearth_summary_state_name()
 */
typedef struct {
  char  *code;
  guint  households;
  guint  by_level[HEARTH_SUMMARY_N_LEVELS];
  guint  by_state[HEARTH_SUMMARY_N_STATES];
} HearthSummaryGroup;

/**
 * HearthCaseSummary:
 * @total: all the households counted
 * @townships: (element-type HearthSummaryGroup): by code
 * @villages: (element-type HearthSummaryGroup): by code
 *
 * Free with hearth_case_summary_free().
 */
typedef struct {
  HearthSummaryGroup  total;
  GPtrArray          *townships;
  GPtrArray          *villages;
} HearthCaseSummary;

void hearth_case_summary_free (HearthCaseSummary *summary);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthCaseSummary, hearth_case_summary_free)

/**
 * hearth_case_summary_read:
 * @prefix: (nullable): a division code: only its villages; %NULL: all
 *
 * Counts the households that are not deleted.
 *
 * Returns: (transfer full) (nullable): the counts, or %NULL with
 *   HEARTH_CASE_ERROR_SQLITE.
 */
HearthCaseSummary *hearth_case_summary_read (sqlite3    *db,
                                             const char *prefix,
                                             GError    **error);

/**
 * hearth_case_summary_township:
 * @village_code: a village's code
 * Returns: (transfer full): its township's (its first 9 digits).
 */
char *hearth_case_summary_township (const char *village_code);

G_END_DECLS

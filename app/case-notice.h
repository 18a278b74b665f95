/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-notice.h: a village's public notice (公示名单, ../shared/DOMAIN.md,
 * "The procedure", step 4): the households of one village that passed the
 * village review (waiting for the county's approval, in monitoring, or
 * proposed for elimination), each with what a notice may show: the head's
 * name, the household's size, its monitoring category, its risks, the
 * types of its active assistance measures and the dates of the decisions.
 *
 * The notice must not show ID numbers, phone numbers, bank accounts or
 * health conditions: a row has no member for any of them, the risk types
 * that name a health condition (01 illness, 03 disability) and health
 * measures are left out, and a measure is shown by its type only (its
 * description is free text a worker may have written anything in).
 *
 * Thread-safety: as the store's connection.
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* The most households a notice lists. */
#define HEARTH_NOTICE_MAX 2000

/**
 * HearthNoticeRow:
 * @household_id: the household (for the screen; not printed)
 * @head_name: its head
 * @member_count: how many people it has
 * @category: its monitoring category code ("0", "1", "2"; "" unknown)
 * @risk_types: space-separated risk type codes, without those of health
 * @measures: space-separated types of its active assistance measures,
 *   each once, without health
 * @monitoring_status: pending_county_approval, monitored or
 *   pending_elimination
 * @reviewed_on: the day the village review approved it, YYYY-MM-DD in
 *   local time ("" unknown)
 * @approved_on: the day the county approved it into monitoring ("" not yet)
 *
 * Free with hearth_notice_row_free().
 */
typedef struct {
  char  *household_id;
  char  *head_name;
  gint64 member_count;
  char  *category;
  char  *risk_types;
  char  *measures;
  char  *monitoring_status;
  char  *reviewed_on;
  char  *approved_on;
} HearthNoticeRow;

void hearth_notice_row_free (HearthNoticeRow *row);

/**
 * hearth_case_notice_villages:
 *
 * Returns: (transfer full): the village codes the store holds households
 *   of, in order; %NULL with HEARTH_CASE_ERROR_SQLITE.
 */
GStrv hearth_case_notice_villages (sqlite3 *db, GError **error);

/**
 * hearth_case_notice:
 * @village_code: the village (12 digits)
 *
 * Returns: (transfer full) (element-type HearthNoticeRow) (nullable): at
 *   most HEARTH_NOTICE_MAX rows, by head and id; %NULL with
 *   HEARTH_CASE_ERROR_INVALID (not a village code) or _SQLITE.
 */
GPtrArray *hearth_case_notice (sqlite3    *db,
                               const char *village_code,
                               GError    **error);

/**
 * hearth_notice_is_health_risk:
 * @code: a risk type code
 *
 * Returns: whether the code names a health condition (illness, disability),
 *   which a notice leaves out. Thread-safe.
 */
gboolean hearth_notice_is_health_risk (const char *code);

G_END_DECLS

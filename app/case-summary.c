/* SPDX-License-Identifier: GPL-3.0-or-later */
/* case-summary.c: the counts of the county's tablet (case-summary.h). */
#define G_LOG_DOMAIN "hearth-case"

#include "case-summary.h"
#include "case-store.h"

#include <string.h>

static const char *const levels[HEARTH_SUMMARY_N_LEVELS] = { "red", "orange", "yellow", "none" };
/* The CHECK of migration 0002, in the workflow's order. */
static const char *const states[HEARTH_SUMMARY_N_STATES] = {
  "none", "pending_village_review", "returned", "pending_county_approval", "monitored", "pending_elimination",
  "risk_eliminated",
};

const char *
hearth_summary_level_name (HearthSummaryLevel level)
{
  g_return_val_if_fail ((guint) level < HEARTH_SUMMARY_N_LEVELS, NULL);
  return levels[level];
}

const char *
hearth_summary_state_name (guint i)
{
  g_return_val_if_fail (i < HEARTH_SUMMARY_N_STATES, NULL);
  return states[i];
}

static void
group_free (HearthSummaryGroup *g)
{
  g_free (g->code);
  g_free (g);
}

void
hearth_case_summary_free (HearthCaseSummary *summary)
{
  if (summary == NULL)
    return;
  g_clear_pointer (&summary->townships, g_ptr_array_unref);
  g_clear_pointer (&summary->villages, g_ptr_array_unref);
  g_free (summary->total.code);
  g_free (summary);
}

char *
hearth_case_summary_township (const char *village_code)
{
  return g_strndup (village_code, 9);
}

/* The group of @code, the last of @groups when rows come in code order. */
static HearthSummaryGroup *
group_for (GPtrArray *groups, const char *code)
{
  HearthSummaryGroup *g = groups->len > 0 ? groups->pdata[groups->len - 1] : NULL;

  if (g == NULL || !g_str_equal (g->code, code))
    {
      g = g_new0 (HearthSummaryGroup, 1);
      g->code = g_strdup (code);
      g_ptr_array_add (groups, g);
    }
  return g;
}

static void
count (HearthSummaryGroup *g, int level, int state, guint n)
{
  g->households += n;
  if (level >= 0)
    g->by_level[level] += n;
  if (state >= 0)
    g->by_state[state] += n;
}

static int
index_of (const char *const *names, guint n, const char *name)
{
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (names[i], name) == 0)
      return (int) i;
  return -1;
}

HearthCaseSummary *
hearth_case_summary_read (sqlite3 *db, const char *prefix, GError **error)
{
  g_autoptr(HearthCaseSummary) s = g_new0 (HearthCaseSummary, 1);
  sqlite3_stmt *st = NULL;
  int rc;

  g_return_val_if_fail (db != NULL, NULL);

  s->townships = g_ptr_array_new_with_free_func ((GDestroyNotify) group_free);
  s->villages = g_ptr_array_new_with_free_func ((GDestroyNotify) group_free);
  s->total.code = g_strdup (prefix != NULL ? prefix : "");
  /* substr, not LIKE: a prefix is digits, and the index on village_code
   * serves the order either way. */
  if (sqlite3_prepare_v2 (db,
                          "SELECT village_code, risk_level, monitoring_status, count(*) FROM households "
                          "WHERE deleted = 0 AND substr (village_code, 1, length (?1)) = ?1 "
                          "GROUP BY village_code, risk_level, monitoring_status ORDER BY village_code",
                          -1, &st, NULL) != SQLITE_OK)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SQLITE, "%s", sqlite3_errmsg (db));
      return NULL;
    }
  sqlite3_bind_text (st, 1, prefix != NULL ? prefix : "", -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      const char *village = (const char *) sqlite3_column_text (st, 0);
      g_autofree char *township = hearth_case_summary_township (village);
      int level = index_of (levels, HEARTH_SUMMARY_N_LEVELS, (const char *) sqlite3_column_text (st, 1));
      int state = index_of (states, HEARTH_SUMMARY_N_STATES, (const char *) sqlite3_column_text (st, 2));
      guint n = (guint) sqlite3_column_int64 (st, 3);

      count (&s->total, level, state, n);
      count (group_for (s->townships, township), level, state, n);
      count (group_for (s->villages, village), level, state, n);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SQLITE, "%s", sqlite3_errmsg (db));
      return NULL;
    }
  return g_steal_pointer (&s);
}

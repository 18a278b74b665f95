/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-search.h: finding households and listing open tasks on the tablet.
 *
 * Households are found by any part of a name (the head's or any member's,
 * from one character up), by the last digits of an ID number (the head's
 * or any member's), by village code prefix (6-digit county, 9-digit
 * township or 12-digit village), and filtered by monitoring status and
 * risk level. Results come in the order village code, head name, id, a page
 * at a time: a page ends where the next one starts (keyset paging), so a
 * page costs the same however deep it is. Tombstoned households and
 * members are never found.
 *
 * The search index (table household_search, migrations 0003 and 0004:
 * small integer household keys, about 0.7 KB per household) is kept in
 * step with households and members by SQL triggers: whoever writes those
 * tables does nothing more.
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

#define HEARTH_CASE_SEARCH_ERROR (hearth_case_search_error_quark ())
GQuark hearth_case_search_error_quark (void);

/**
 * HearthCaseSearchError:
 * @HEARTH_CASE_SEARCH_ERROR_INVALID: a query field is out of bounds (too
 *   long, too few ID digits, a bad village prefix, status, risk level,
 *   date, page size or cursor); the message says which, for the user
 * @HEARTH_CASE_SEARCH_ERROR_SQLITE: the database refused a statement
 */
typedef enum {
  HEARTH_CASE_SEARCH_ERROR_INVALID,
  HEARTH_CASE_SEARCH_ERROR_SQLITE,
} HearthCaseSearchError;

/* The longest text query, in characters, and the page sizes. */
#define HEARTH_CASE_SEARCH_MAX_TEXT 64
#define HEARTH_CASE_SEARCH_DEFAULT_LIMIT 50
#define HEARTH_CASE_SEARCH_MAX_LIMIT 200
/* The fewest digits an ID number query may have. */
#define HEARTH_CASE_SEARCH_MIN_ID_DIGITS 4

/**
 * HearthHouseholdQuery:
 * @text: (nullable): what the user typed, trimmed of surrounding white
 *   space. Only digits (with a final X or x allowed), at least
 *   %HEARTH_CASE_SEARCH_MIN_ID_DIGITS of them: the end of an ID number (a
 *   whole number is its own end). Anything else: a part of a name, matched
 *   literally (% and _ are plain characters; ASCII letters ignore case).
 *   %NULL or only white space: every household.
 * @village_prefix: (nullable): 6, 9 or 12 digits
 * @monitoring_status: (nullable): one value of households.monitoring_status
 * @risk_level: (nullable): "red", "orange", "yellow" or "none"
 * @after_village_code: (nullable): the cursor: the village code, head name
 *   and id of the last row of the previous page, all three or none (the
 *   village code as the row has it, 12 digits)
 * @after_head_name: (nullable): see @after_village_code
 * @after_id: (nullable): see @after_village_code
 * @limit: the page size, at most %HEARTH_CASE_SEARCH_MAX_LIMIT; 0 means
 *   %HEARTH_CASE_SEARCH_DEFAULT_LIMIT
 */
typedef struct {
  const char *text;
  const char *village_prefix;
  const char *monitoring_status;
  const char *risk_level;
  const char *after_village_code;
  const char *after_head_name;
  const char *after_id;
  guint limit;
} HearthHouseholdQuery;

/**
 * HearthHouseholdRow:
 *
 * One household found. The ID number is returned whole: the caller
 * decides what to show (a public notice must not show it). The address
 * names the village in words, where the village code does not.
 */
typedef struct {
  char *id;
  char *village_code;
  char *head_name;
  char *head_id_number;
  char *monitoring_status;
  char *risk_level;
  char *next_visit_date;
  gint64 member_count;
  char *address;
} HearthHouseholdRow;

void hearth_household_row_free (HearthHouseholdRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthHouseholdRow, hearth_household_row_free)

/**
 * hearth_case_search_households:
 * @db: an open store (hearth_store_get_db())
 * @q: the query
 * @error: return location for a #GError
 *
 * Finds one page of households. To get the next page, pass the village
 * code, head name and id of the last row as the cursor; a page shorter
 * than the limit is the last. Each household appears at most once per
 * page and, across pages of an unchanged store, exactly once.
 *
 * Returns: (transfer full) (element-type HearthHouseholdRow): the rows in
 *   order (possibly none), or %NULL with HEARTH_CASE_SEARCH_ERROR_INVALID
 *   or _SQLITE. Not thread-safe for one @db: use it from the thread that
 *   uses the store.
 */
GPtrArray *hearth_case_search_households (sqlite3                    *db,
                                          const HearthHouseholdQuery *q,
                                          GError                    **error);

/**
 * HearthTaskUrgency:
 * @HEARTH_TASK_OVERDUE: due before today
 * @HEARTH_TASK_DUE_TODAY: due today
 * @HEARTH_TASK_LATER: due after today
 */
typedef enum {
  HEARTH_TASK_OVERDUE,
  HEARTH_TASK_DUE_TODAY,
  HEARTH_TASK_LATER,
} HearthTaskUrgency;

/**
 * HearthTaskRow:
 *
 * One open task with its household's head name, village and address
 * (where to go).
 */
typedef struct {
  char *id;
  char *household_id;
  char *kind;
  char *due_date;
  char *reason;
  char *assignee;
  char *head_name;
  char *village_code;
  HearthTaskUrgency urgency;
  char *address;
} HearthTaskRow;

void hearth_task_row_free (HearthTaskRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthTaskRow, hearth_task_row_free)

/**
 * hearth_case_tasks_list:
 * @db: an open store
 * @today: today's calendar date, YYYY-MM-DD, in the worker's time zone
 * @village_prefix: (nullable): only households under these 6, 9 or 12 digits
 * @after_due_date: (nullable): the cursor: due date and id of the last row
 *   of the previous page, both or neither
 * @after_id: (nullable): see @after_due_date
 * @limit: page size, at most %HEARTH_CASE_SEARCH_MAX_LIMIT; 0 means
 *   %HEARTH_CASE_SEARCH_DEFAULT_LIMIT
 * @error: return location for a #GError
 *
 * Lists open tasks of households that are not tombstones: overdue first
 * (the longest overdue first), then those due today, then later ones, by
 * due date then id. Each row says which of the three it is relative to
 * @today.
 *
 * Returns: (transfer full) (element-type HearthTaskRow): the rows, or
 *   %NULL with HEARTH_CASE_SEARCH_ERROR_INVALID or _SQLITE. Not
 *   thread-safe for one @db.
 */
GPtrArray *hearth_case_tasks_list (sqlite3     *db,
                                   const char  *today,
                                   const char  *village_prefix,
                                   const char  *after_due_date,
                                   const char  *after_id,
                                   guint        limit,
                                   GError     **error);

/* The routine visit periods of ../shared/DOMAIN.md ("The procedure", 8),
 * in days, when the county's thresholds set none (routine_visit_days in
 * schema/forms/README.md): every household once a quarter, priority
 * households monthly. */
#define HEARTH_ROUTINE_VISIT_DAYS 90
#define HEARTH_PRIORITY_VISIT_DAYS 30
/* The longest period a county may set: a visit at least once a year. */
#define HEARTH_ROUTINE_VISIT_MAX_DAYS 366

/**
 * HearthVisitDueQuery:
 * @today: today's calendar date, YYYY-MM-DD, in the worker's time zone
 * @routine_days: every household is due this many days after its last
 *   visit (1 to %HEARTH_ROUTINE_VISIT_MAX_DAYS)
 * @priority_days: a priority household (one in the monitoring procedure,
 *   any monitoring status but none and risk_eliminated, or with a risk
 *   level other than none) is due this many days after its last visit
 *   (1 to @routine_days)
 * @village_prefix: (nullable): only households under these 6, 9 or 12 digits
 * @after_last_visit_date: (nullable): the cursor: the last visit date
 *   ("" for never visited) and id of the last row of the previous page,
 *   both or neither
 * @after_id: (nullable): see @after_last_visit_date
 * @limit: page size, at most %HEARTH_CASE_SEARCH_MAX_LIMIT; 0 means
 *   %HEARTH_CASE_SEARCH_DEFAULT_LIMIT
 */
typedef struct {
  const char *today;
  guint routine_days;
  guint priority_days;
  const char *village_prefix;
  const char *after_last_visit_date;
  const char *after_id;
  guint limit;
} HearthVisitDueQuery;

/**
 * HearthVisitDueRow:
 *
 * A household due for a routine visit, with where to go and why:
 * @last_visit_date is "" for a household never visited; @due_date is
 * when the visit fell due (the last visit plus the period), "" for one
 * never visited.
 */
typedef struct {
  char *id;
  char *village_code;
  char *head_name;
  char *address;
  char *monitoring_status;
  char *risk_level;
  char *last_visit_date;
  char *due_date;
  gboolean priority;
} HearthVisitDueRow;

void hearth_visit_due_row_free (HearthVisitDueRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthVisitDueRow, hearth_visit_due_row_free)

/**
 * hearth_case_visits_due:
 * @db: an open store
 * @q: the query
 * @error: return location for a #GError
 *
 * Lists the households that are not tombstones, have no open task (those
 * are on the task list already) and are due for a routine visit
 * (../shared/DOMAIN.md, "The procedure", 8): never visited, or last
 * visited @q->routine_days or more days before @q->today
 * (@q->priority_days for a priority household). The longest unvisited
 * come first: never visited, then by last visit date, then id. Read by
 * key on routine_visit_queue (migration 0009: the households with no open
 * task, kept by triggers): a page costs the same however deep it is and
 * however many households the store holds, with or without tasks.
 *
 * Returns: (transfer full) (element-type HearthVisitDueRow): the rows, or
 *   %NULL with HEARTH_CASE_SEARCH_ERROR_INVALID (a field of @q out of
 *   bounds; the message says which) or _SQLITE. Not thread-safe for one @db.
 */
GPtrArray *hearth_case_visits_due (sqlite3                   *db,
                                   const HearthVisitDueQuery *q,
                                   GError                   **error);

G_END_DECLS

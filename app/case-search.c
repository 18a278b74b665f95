/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-search.c: household search and the open task list (case-search.h).
 *
 * Every text query is answered from household_search (migration 0003), a
 * table of (key, village_code, head_name, household_id) rows whose primary
 * key is also the result order after the key. One or two characters of a
 * name, or the last four characters of an ID number, are a key: the page is
 * one range read of that key from the cursor on, however common the key
 * is. A longer name query reads the rarest pair of adjacent characters it
 * contains and checks the whole query against the names with instr(); a
 * longer ID query reads its last four and checks the suffix. Queries never
 * use LIKE, so % and _ are ordinary characters. Without text, the partial
 * index households_search_order gives the order directly. Filters on
 * status and risk are checked on the rows read in order (unary + keeps
 * SQLite from sorting by households_status instead).
 */
#define G_LOG_DOMAIN "hearth-case"

#include "case-search.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (hearth-case-search-error-quark, hearth_case_search_error)

/* A pair counted beyond this many rows is "common": counting stops. */
#define PAIR_COUNT_CAP 2000

static const char *const statuses[] = {
  "none", "pending_village_review", "returned", "pending_county_approval",
  "monitored", "pending_elimination", "risk_eliminated", NULL,
};
static const char *const risk_levels[] = { "red", "orange", "yellow", "none", NULL };

static gboolean
sql_error (sqlite3 *db, GError **error)
{
  g_set_error (error, HEARTH_CASE_SEARCH_ERROR, HEARTH_CASE_SEARCH_ERROR_SQLITE,
               _("Searching the store failed: %s"), sqlite3_errmsg (db));
  return FALSE;
}

static gboolean
invalid (GError **error, const char *message)
{
  g_set_error_literal (error, HEARTH_CASE_SEARCH_ERROR, HEARTH_CASE_SEARCH_ERROR_INVALID, message);
  return FALSE;
}

static gboolean
all_digits (const char *s)
{
  for (; *s; s++)
    if (!g_ascii_isdigit (*s))
      return FALSE;
  return TRUE;
}

static gboolean
in_list (const char *value, const char *const *list)
{
  for (; *list; list++)
    if (strcmp (value, *list) == 0)
      return TRUE;
  return FALSE;
}

/* 6, 9 or 12 digits. */
static gboolean
check_village_prefix (const char *prefix, GError **error)
{
  gsize n;

  if (prefix == NULL)
    return TRUE;
  n = strlen (prefix);
  if ((n != 6 && n != 9 && n != 12) || !all_digits (prefix))
    return invalid (error, _("A village code prefix is 6 digits (county), 9 (township) or 12 (village)."));
  return TRUE;
}

static gboolean
check_limit (guint *limit, GError **error)
{
  if (*limit == 0)
    *limit = HEARTH_CASE_SEARCH_DEFAULT_LIMIT;
  if (*limit > HEARTH_CASE_SEARCH_MAX_LIMIT)
    {
      g_set_error (error, HEARTH_CASE_SEARCH_ERROR, HEARTH_CASE_SEARCH_ERROR_INVALID,
                   _("A page holds at most %d rows."), HEARTH_CASE_SEARCH_MAX_LIMIT);
      return FALSE;
    }
  return TRUE;
}

static void
bind_text (sqlite3_stmt *st, const char *name, const char *value)
{
  int i = sqlite3_bind_parameter_index (st, name);

  if (i > 0)
    sqlite3_bind_text (st, i, value, -1, SQLITE_TRANSIENT);
}

static void
bind_int (sqlite3_stmt *st, const char *name, gint64 value)
{
  int i = sqlite3_bind_parameter_index (st, name);

  if (i > 0)
    sqlite3_bind_int64 (st, i, value);
}

static char *
column_dup (sqlite3_stmt *st, int i)
{
  const unsigned char *text = sqlite3_column_text (st, i);

  return g_strdup (text != NULL ? (const char *) text : "");
}

void
hearth_household_row_free (HearthHouseholdRow *row)
{
  if (row == NULL)
    return;
  g_free (row->id);
  g_free (row->village_code);
  g_free (row->head_name);
  g_free (row->head_id_number);
  g_free (row->monitoring_status);
  g_free (row->risk_level);
  g_free (row->next_visit_date);
  g_free (row);
}

void
hearth_task_row_free (HearthTaskRow *row)
{
  if (row == NULL)
    return;
  g_free (row->id);
  g_free (row->household_id);
  g_free (row->kind);
  g_free (row->due_date);
  g_free (row->reason);
  g_free (row->assignee);
  g_free (row->head_name);
  g_free (row->village_code);
  g_free (row);
}

/* How many rows hold @key, counting up to PAIR_COUNT_CAP; -1 on error. */
static gint64
count_key (sqlite3 *db, const char *key)
{
  sqlite3_stmt *st = NULL;
  gint64 n = -1;

  if (sqlite3_prepare_v2 (db,
                          "SELECT count(*) FROM (SELECT 1 FROM household_search WHERE key = ?1 LIMIT ?2)",
                          -1, &st, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_text (st, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (st, 2, PAIR_COUNT_CAP);
  if (sqlite3_step (st) == SQLITE_ROW)
    n = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return n;
}

/* The key of the rarest pair of adjacent characters of @text (3 or more
 * characters), or NULL with @error; *empty is set when some pair occurs
 * nowhere (then nothing can match). */
static char *
rarest_pair (sqlite3 *db, const char *text, gboolean *empty, GError **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  char *best = NULL;
  gint64 best_n = G_MAXINT64;

  *empty = FALSE;
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    {
      const char *second = g_utf8_next_char (p);
      const char *end;
      char *key;
      gint64 n;

      if (*second == '\0')
        break;
      end = g_utf8_next_char (second);
      key = g_strdup_printf ("n%.*s", (int) (end - p), p);
      if (!g_hash_table_add (seen, key))
        continue;
      n = count_key (db, key);
      if (n < 0)
        {
          g_free (best);
          sql_error (db, error);
          return NULL;
        }
      if (n < best_n)
        {
          g_free (best);
          best = g_strdup (key);
          best_n = n;
        }
      if (n == 0)
        {
          *empty = TRUE;
          break;
        }
    }
  return best;
}

typedef enum {
  TEXT_NONE,
  TEXT_NAME,
  TEXT_ID,
} TextKind;

/* Trims and classifies @text; *out is the form matched against the index
 * (ASCII lowercased for a name, X uppercased for an ID number). */
static gboolean
prepare_text (const char *text, TextKind *kind, char **out, GError **error)
{
  g_autofree char *t = NULL;
  gsize n;

  *kind = TEXT_NONE;
  *out = NULL;
  if (text == NULL)
    return TRUE;
  if (!g_utf8_validate (text, -1, NULL))
    return invalid (error, _("The search text is not valid text."));
  /* Bound the work before trimming: more than 4 bytes per character of a
   * 64-character query is surely too long. */
  if (strlen (text) > 4 * HEARTH_CASE_SEARCH_MAX_TEXT + 64)
    goto too_long;
  t = g_strstrip (g_strdup (text));
  if (t[0] == '\0')
    return TRUE;
  n = g_utf8_strlen (t, -1);
  if (n > HEARTH_CASE_SEARCH_MAX_TEXT)
    goto too_long;

  {
    gsize bytes = strlen (t);
    gsize body = bytes > 1 && (t[bytes - 1] == 'x' || t[bytes - 1] == 'X') ? bytes - 1 : bytes;
    gboolean id_like = TRUE;

    for (gsize i = 0; i < body; i++)
      id_like = id_like && g_ascii_isdigit (t[i]);
    if (id_like)
      {
        t[bytes - 1] = g_ascii_toupper (t[bytes - 1]);
        if (bytes < HEARTH_CASE_SEARCH_MIN_ID_DIGITS)
          {
            g_set_error (error, HEARTH_CASE_SEARCH_ERROR, HEARTH_CASE_SEARCH_ERROR_INVALID,
                         _("Enter at least the last %d digits of an ID number."),
                         HEARTH_CASE_SEARCH_MIN_ID_DIGITS);
            return FALSE;
          }
        if (bytes > 18)
          return invalid (error, _("An ID number has at most 18 characters."));
        *kind = TEXT_ID;
        *out = g_steal_pointer (&t);
        return TRUE;
      }
  }
  *kind = TEXT_NAME;
  *out = g_ascii_strdown (t, -1);
  return TRUE;

too_long:
  g_set_error (error, HEARTH_CASE_SEARCH_ERROR, HEARTH_CASE_SEARCH_ERROR_INVALID,
               _("The search text is too long: at most %d characters."), HEARTH_CASE_SEARCH_MAX_TEXT);
  return FALSE;
}

/* The exclusive upper bound of codes starting with @prefix (':' follows
 * '9'). */
static char *
prefix_end (const char *prefix)
{
  return g_strconcat (prefix, ":", NULL);
}

GPtrArray *
hearth_case_search_households (sqlite3 *db, const HearthHouseholdQuery *q, GError **error)
{
  g_autoptr(GString) sql = g_string_new (NULL);
  g_autoptr(GPtrArray) rows = NULL;
  g_autofree char *text = NULL;
  g_autofree char *key = NULL;
  g_autofree char *village_end = NULL;
  const char *v = NULL;    /* the village column of the driving table */
  TextKind kind;
  gboolean has_cursor;
  guint limit;
  sqlite3_stmt *st = NULL;
  int rc;

  g_return_val_if_fail (db != NULL && q != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  limit = q->limit;
  if (!check_limit (&limit, error) || !check_village_prefix (q->village_prefix, error))
    return NULL;
  if (q->monitoring_status != NULL && !in_list (q->monitoring_status, statuses))
    return invalid (error, _("Unknown monitoring status.")), NULL;
  if (q->risk_level != NULL && !in_list (q->risk_level, risk_levels))
    return invalid (error, _("Unknown risk level.")), NULL;
  has_cursor = q->after_village_code != NULL || q->after_head_name != NULL || q->after_id != NULL;
  if (has_cursor && (q->after_village_code == NULL || q->after_head_name == NULL || q->after_id == NULL))
    return invalid (error, _("A page cursor needs the village code, head name and id of the last row.")), NULL;
  if (!prepare_text (q->text, &kind, &text, error))
    return NULL;

  rows = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_household_row_free);

  if (kind == TEXT_NAME)
    {
      if (g_utf8_strlen (text, -1) <= 2)
        key = g_strconcat ("n", text, NULL);
      else
        {
          gboolean empty;

          key = rarest_pair (db, text, &empty, error);
          if (key == NULL)
            return NULL;
          if (empty)
            return g_steal_pointer (&rows);
        }
    }
  else if (kind == TEXT_ID)
    key = g_strconcat ("i", text + strlen (text) - HEARTH_CASE_SEARCH_MIN_ID_DIGITS, NULL);

  g_string_append (sql,
                   "SELECT h.id, h.village_code, h.head_name, h.head_id_number, h.monitoring_status,"
                   " h.risk_level, h.next_visit_date, h.member_count ");
  if (key != NULL)
    {
      v = "k.village_code";
      g_string_append (sql,
                       "FROM household_search AS k CROSS JOIN households AS h ON h.id = k.household_id"
                       " WHERE k.key = :key AND h.deleted = 0");
      if (has_cursor)
        g_string_append (sql, " AND (k.village_code, k.head_name, k.household_id) > (:av, :ah, :aid)");
    }
  else
    {
      v = "h.village_code";
      g_string_append (sql, "FROM households AS h INDEXED BY households_search_order WHERE h.deleted = 0");
      if (has_cursor)
        g_string_append (sql, " AND (h.village_code, h.head_name, h.id) > (:av, :ah, :aid)");
    }
  if (q->village_prefix != NULL)
    {
      village_end = prefix_end (q->village_prefix);
      /* With a cursor inside the prefix, the cursor is the lower bound. */
      if (!has_cursor || strcmp (q->after_village_code, q->village_prefix) < 0)
        g_string_append_printf (sql, " AND %s >= :vlo", v);
      g_string_append_printf (sql, " AND %s < :vhi", v);
    }
  if (q->monitoring_status != NULL)
    g_string_append (sql, " AND +h.monitoring_status = :status");
  if (q->risk_level != NULL)
    g_string_append (sql, " AND +h.risk_level = :risk");
  if (kind == TEXT_NAME && g_utf8_strlen (text, -1) > 2)
    g_string_append (sql,
                     " AND (instr (lower (h.head_name), :q) > 0 OR EXISTS (SELECT 1 FROM members AS m"
                     " WHERE m.household_id = h.id AND m.deleted = 0 AND instr (lower (m.name), :q) > 0))");
  else if (kind == TEXT_ID && strlen (text) > HEARTH_CASE_SEARCH_MIN_ID_DIGITS)
    g_string_append (sql,
                     " AND (upper (substr (h.head_id_number, -:qlen)) = :q OR EXISTS (SELECT 1 FROM members AS m"
                     " WHERE m.household_id = h.id AND m.deleted = 0 AND upper (substr (m.id_number, -:qlen)) = :q))");
  if (key != NULL)
    g_string_append (sql, " ORDER BY k.village_code, k.head_name, k.household_id LIMIT :limit");
  else
    g_string_append (sql, " ORDER BY h.village_code, h.head_name, h.id LIMIT :limit");

  if (sqlite3_prepare_v2 (db, sql->str, -1, &st, NULL) != SQLITE_OK)
    return sql_error (db, error), NULL;
  bind_text (st, ":key", key);
  bind_text (st, ":av", q->after_village_code);
  bind_text (st, ":ah", q->after_head_name);
  bind_text (st, ":aid", q->after_id);
  bind_text (st, ":vlo", q->village_prefix);
  bind_text (st, ":vhi", village_end);
  bind_text (st, ":status", q->monitoring_status);
  bind_text (st, ":risk", q->risk_level);
  bind_text (st, ":q", text);
  bind_int (st, ":qlen", text != NULL ? (gint64) strlen (text) : 0);
  bind_int (st, ":limit", limit);

  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      HearthHouseholdRow *row = g_new0 (HearthHouseholdRow, 1);

      row->id = column_dup (st, 0);
      row->village_code = column_dup (st, 1);
      row->head_name = column_dup (st, 2);
      row->head_id_number = column_dup (st, 3);
      row->monitoring_status = column_dup (st, 4);
      row->risk_level = column_dup (st, 5);
      row->next_visit_date = column_dup (st, 6);
      row->member_count = sqlite3_column_int64 (st, 7);
      g_ptr_array_add (rows, row);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return sql_error (db, error), NULL;
  return g_steal_pointer (&rows);
}

static gboolean
valid_date (const char *s)
{
  GDate d;

  if (s == NULL || strlen (s) != 10 || s[4] != '-' || s[7] != '-')
    return FALSE;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && !g_ascii_isdigit (s[i]))
      return FALSE;
  g_date_clear (&d, 1);
  return g_date_valid_dmy ((GDateDay) atoi (s + 8), (GDateMonth) atoi (s + 5), (GDateYear) atoi (s));
}

GPtrArray *
hearth_case_tasks_list (sqlite3 *db, const char *today, const char *village_prefix, const char *after_due_date,
                        const char *after_id, guint limit, GError **error)
{
  g_autoptr(GString) sql = g_string_new (NULL);
  g_autoptr(GPtrArray) rows = NULL;
  g_autofree char *village_end = NULL;
  sqlite3_stmt *st = NULL;
  int rc;

  g_return_val_if_fail (db != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!valid_date (today))
    return invalid (error, _("Today's date must be a valid YYYY-MM-DD date.")), NULL;
  if (!check_limit (&limit, error) || !check_village_prefix (village_prefix, error))
    return NULL;
  if ((after_due_date == NULL) != (after_id == NULL))
    return invalid (error, _("A page cursor needs the due date and id of the last row.")), NULL;

  g_string_append (sql,
                   "SELECT t.id, t.household_id, t.kind, t.due_date, t.reason, t.assignee, h.head_name, h.village_code"
                   " FROM tasks AS t INDEXED BY tasks_open_order CROSS JOIN households AS h ON h.id = t.household_id"
                   " WHERE t.status = 'open' AND h.deleted = 0");
  if (after_due_date != NULL)
    g_string_append (sql, " AND (t.due_date, t.id) > (:ad, :aid)");
  if (village_prefix != NULL)
    {
      village_end = prefix_end (village_prefix);
      g_string_append (sql, " AND h.village_code >= :vlo AND h.village_code < :vhi");
    }
  g_string_append (sql, " ORDER BY t.due_date, t.id LIMIT :limit");

  if (sqlite3_prepare_v2 (db, sql->str, -1, &st, NULL) != SQLITE_OK)
    return sql_error (db, error), NULL;
  bind_text (st, ":ad", after_due_date);
  bind_text (st, ":aid", after_id);
  bind_text (st, ":vlo", village_prefix);
  bind_text (st, ":vhi", village_end);
  bind_int (st, ":limit", limit);

  rows = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_task_row_free);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      HearthTaskRow *row = g_new0 (HearthTaskRow, 1);
      int c;

      row->id = column_dup (st, 0);
      row->household_id = column_dup (st, 1);
      row->kind = column_dup (st, 2);
      row->due_date = column_dup (st, 3);
      row->reason = column_dup (st, 4);
      row->assignee = column_dup (st, 5);
      row->head_name = column_dup (st, 6);
      row->village_code = column_dup (st, 7);
      c = strcmp (row->due_date, today);
      row->urgency = c < 0 ? HEARTH_TASK_OVERDUE : c == 0 ? HEARTH_TASK_DUE_TODAY : HEARTH_TASK_LATER;
      g_ptr_array_add (rows, row);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return sql_error (db, error), NULL;
  return g_steal_pointer (&rows);
}

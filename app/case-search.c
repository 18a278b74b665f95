/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-search.c: household search and the open task list (case-search.h).
 *
 * Every text query is answered from household_search (migrations 0003 and
 * 0004), a table of (key, village, head_name, household_key) rows whose
 * primary key is also the result order after the key, up to ties between
 * equal head names in one village (the query puts those few rows in id
 * order). One or two characters of a name, or the last four characters of
 * an ID number, are a key: the page is one range read of that key from the
 * cursor on, however common the key is. A longer name query reads the
 * rarest pair of adjacent characters it contains and checks the whole
 * query against the names with instr(); a longer ID query reads its last
 * four and checks the suffix. Queries never use LIKE, so % and _ are
 * ordinary characters. Without text, the partial index
 * households_search_order gives the order directly.
 *
 * A filter on status or risk level reads households_filter_order (migration
 * 0004), one range per (status, risk level) pair the filter allows, each
 * already in result order from the cursor on, and merges the pages. With
 * text as well, the text key's rows and the filter's are counted (up to a
 * cap) and the fewer are read, the other checked on each row: a rare
 * status with a common character reads the few households of that status.
 *
 * The index holds the village code as an integer (12 digits: integer order
 * is text order) and a small integer per household (household_keys), not
 * the UUID, to stay small: see migration 0004.
 */
#define G_LOG_DOMAIN "hearth-case"

#include "case-search.h"
#include "case-labels.h"

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

/* "Unknown …": what was given, then each code the query takes with the
 * label the lists show for it (a user types the label they read). */
static gboolean
invalid_code (GError **error, const char *message, const char *given, const char *const *codes,
              const char *(*label) (const char *code))
{
  g_autoptr(GString) list = g_string_new (NULL);

  for (guint i = 0; codes[i] != NULL; i++)
    {
      if (i > 0)
        /* TRANSLATORS: between the items of a list of codes */
        g_string_append (list, _(", "));
      /* TRANSLATORS: a code a query takes and its label, e.g. none (Not monitored) */
      g_string_append_printf (list, _("%s (%s)"), codes[i], label (codes[i]));
    }
  /* TRANSLATORS: e.g. Unknown monitoring status “Orange”: give one of red (Red risk), … */
  g_set_error (error, HEARTH_CASE_SEARCH_ERROR, HEARTH_CASE_SEARCH_ERROR_INVALID, _("%s “%s”: give one of %s"),
               message, given, list->str);
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
  g_free (row->address);
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
  g_free (row->address);
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
      key = g_strndup (p, end - p);
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

/* A village code, or a prefix of one padded with zeros, as the integer the
 * index holds (12 digits at most: no overflow). */
static gint64
village_number (const char *digits)
{
  gint64 n = 0;
  gsize len = strlen (digits);

  for (gsize i = 0; i < 12; i++)
    n = n * 10 + (i < len ? digits[i] - '0' : 0);
  return n;
}

/* What a statement reads in result order:
 * DRIVE_ORDER   every household (households_search_order)
 * DRIVE_KEY     the households with a text key (household_search)
 * DRIVE_FILTER  the households of one monitoring status and risk level
 *               (households_filter_order, migration 0004); a text key is
 *               then checked by one primary key lookup per household */
typedef enum {
  DRIVE_ORDER,
  DRIVE_KEY,
  DRIVE_FILTER,
} Drive;

typedef struct {
  const HearthHouseholdQuery *q;
  TextKind kind;
  const char *text;
  const char *key;
  gboolean has_cursor;
  gint64 village_lo, village_hi, after_village;
  char *village_end;
  guint limit;
} Search;

/* Beyond this many rows a driver is "large": counting stops. */
#define DRIVER_COUNT_CAP 2000

static void
bind_search (sqlite3_stmt *st, const Search *s, const char *status, const char *risk)
{
  bind_text (st, ":key", s->key);
  bind_text (st, ":av", s->q->after_village_code);
  bind_text (st, ":ah", s->q->after_head_name);
  bind_text (st, ":aid", s->q->after_id);
  bind_text (st, ":vlo", s->q->village_prefix);
  bind_text (st, ":vhi", s->village_end);
  bind_int (st, ":avn", s->after_village);
  bind_int (st, ":vlon", s->village_lo);
  bind_int (st, ":vhin", s->village_hi);
  bind_text (st, ":status", status);
  bind_text (st, ":risk", risk);
  bind_text (st, ":q", s->text);
  bind_int (st, ":qlen", s->text != NULL ? (gint64) strlen (s->text) : 0);
  bind_int (st, ":limit", s->limit);
  bind_int (st, ":cap", DRIVER_COUNT_CAP);
}

/* One statement of a page: the rows @drive reads from the cursor on (up to
 * @bounded's row, when given) that pass the filters, in result order, at
 * most the page size. */
static char *
page_sql (const Search *s, Drive drive, gboolean bounded)
{
  GString *sql = g_string_new ("SELECT h.id, h.village_code, h.head_name, h.head_id_number, h.monitoring_status,"
                               " h.risk_level, h.next_visit_date, h.member_count, h.address ");
  const HearthHouseholdQuery *q = s->q;

  if (drive == DRIVE_KEY)
    {
      /* The index gives (village, head name) order; the few rows of one
       * head name in one village are put in id order by SQLite ("temp
       * b-tree for right part of ORDER BY"), so the cursor's village and
       * name bound the range read and its id only filters that group. */
      g_string_append (sql,
                       "FROM household_search AS k CROSS JOIN household_keys AS x ON x.key = k.household_key"
                       " CROSS JOIN households AS h ON h.id = x.household_id"
                       " WHERE k.key = :key AND h.deleted = 0");
      if (s->has_cursor)
        g_string_append (sql,
                         " AND (k.village, k.head_name) >= (:avn, :ah)"
                         " AND ((k.village, k.head_name) > (:avn, :ah) OR h.id > :aid)");
      if (q->village_prefix != NULL)
        {
          /* With a cursor inside the prefix, the cursor is the lower bound. */
          if (!s->has_cursor || s->after_village < s->village_lo)
            g_string_append (sql, " AND k.village >= :vlon");
          g_string_append (sql, " AND k.village < :vhin");
        }
      /* Unary +: filters checked on the rows read, never an index. */
      if (q->monitoring_status != NULL)
        g_string_append (sql, " AND +h.monitoring_status = :status");
      if (q->risk_level != NULL)
        g_string_append (sql, " AND +h.risk_level = :risk");
    }
  else
    {
      if (drive == DRIVE_ORDER)
        g_string_append (sql, "FROM households AS h INDEXED BY households_search_order WHERE h.deleted = 0");
      else
        g_string_append (sql, "FROM households AS h INDEXED BY households_filter_order"
                              " WHERE h.monitoring_status = :status AND h.risk_level = :risk AND h.deleted = 0");
      if (s->has_cursor)
        g_string_append (sql, " AND (h.village_code, h.head_name, h.id) > (:av, :ah, :aid)");
      if (bounded)
        g_string_append (sql, " AND (h.village_code, h.head_name, h.id) <= (:bv, :bh, :bid)");
      if (q->village_prefix != NULL)
        {
          if (!s->has_cursor || strcmp (q->after_village_code, q->village_prefix) < 0)
            g_string_append (sql, " AND h.village_code >= :vlo");
          g_string_append (sql, " AND h.village_code < :vhi");
        }
      if (s->key != NULL)
        g_string_append (sql,
                         " AND EXISTS (SELECT 1 FROM household_keys AS x, household_search AS k"
                         " WHERE x.household_id = h.id AND k.key = :key AND k.village = CAST (h.village_code AS INTEGER)"
                         " AND k.head_name = h.head_name AND k.household_key = x.key)");
    }
  if (s->kind == TEXT_NAME && g_utf8_strlen (s->text, -1) > 2)
    g_string_append (sql,
                     " AND (instr (lower (h.head_name), :q) > 0 OR EXISTS (SELECT 1 FROM members AS m"
                     " WHERE m.household_id = h.id AND m.deleted = 0 AND instr (lower (m.name), :q) > 0))");
  else if (s->kind == TEXT_ID && strlen (s->text) > HEARTH_CASE_SEARCH_MIN_ID_DIGITS)
    g_string_append (sql,
                     " AND (upper (substr (h.head_id_number, -:qlen)) = :q OR EXISTS (SELECT 1 FROM members AS m"
                     " WHERE m.household_id = h.id AND m.deleted = 0 AND upper (substr (m.id_number, -:qlen)) = :q))");
  if (drive == DRIVE_KEY)
    g_string_append (sql, " ORDER BY k.village, k.head_name, h.id LIMIT :limit");
  else
    g_string_append (sql, " ORDER BY h.village_code, h.head_name, h.id LIMIT :limit");
  return g_string_free (sql, FALSE);
}

/* Appends the rows of one statement to @rows; with @bound, only rows up to
 * it. */
static gboolean
run_page (sqlite3 *db, const Search *s, Drive drive, const char *status, const char *risk,
          const HearthHouseholdRow *bound, GPtrArray *rows, GError **error)
{
  g_autofree char *sql = page_sql (s, drive, bound != NULL);
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return sql_error (db, error);
  bind_search (st, s, status, risk);
  if (bound != NULL)
    {
      bind_text (st, ":bv", bound->village_code);
      bind_text (st, ":bh", bound->head_name);
      bind_text (st, ":bid", bound->id);
    }
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
      row->address = column_dup (st, 8);
      g_ptr_array_add (rows, row);
    }
  sqlite3_finalize (st);
  return rc == SQLITE_DONE || sql_error (db, error);
}

/* How many rows @sql counts (it caps them at :cap); -1 on error. */
static gint64
count_rows (sqlite3 *db, const Search *s, const char *sql, const char *status, const char *risk)
{
  sqlite3_stmt *st = NULL;
  gint64 n = -1;

  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return -1;
  bind_search (st, s, status, risk);
  if (sqlite3_step (st) == SQLITE_ROW)
    n = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return n;
}

/* A (status, risk level) range of households_filter_order and how many
 * rows it has in the village range (0: not counted). */
typedef struct {
  const char *status;
  const char *risk;
  gint64 count;
} Pair;

static int
compare_pairs (const void *a, const void *b)
{
  const Pair *x = a, *y = b;

  return x->count > y->count ? -1 : x->count < y->count;
}

static int
compare_rows (gconstpointer a, gconstpointer b)
{
  const HearthHouseholdRow *x = *(HearthHouseholdRow *const *) a, *y = *(HearthHouseholdRow *const *) b;
  int c = strcmp (x->village_code, y->village_code);

  if (c == 0)
    c = strcmp (x->head_name, y->head_name);
  return c != 0 ? c : strcmp (x->id, y->id);
}

GPtrArray *
hearth_case_search_households (sqlite3 *db, const HearthHouseholdQuery *q, GError **error)
{
  g_autoptr(GPtrArray) rows = NULL;
  g_autofree char *text = NULL;
  g_autofree char *key = NULL;
  g_autofree char *village_end = NULL;
  const char *const *status_list, *const *risk_list;
  const char *one_status[] = { q != NULL ? q->monitoring_status : NULL, NULL };
  const char *one_risk[] = { q != NULL ? q->risk_level : NULL, NULL };
  Pair pairs[G_N_ELEMENTS (statuses) * G_N_ELEMENTS (risk_levels)];
  guint n_pairs = 0;
  Search s = { 0 };
  Drive drive;

  g_return_val_if_fail (db != NULL && q != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  s.q = q;
  s.limit = q->limit;
  if (!check_limit (&s.limit, error) || !check_village_prefix (q->village_prefix, error))
    return NULL;
  if (q->monitoring_status != NULL && !in_list (q->monitoring_status, statuses))
    return invalid_code (error, _("Unknown monitoring status"), q->monitoring_status, statuses, hearth_label_status),
           NULL;
  if (q->risk_level != NULL && !in_list (q->risk_level, risk_levels))
    return invalid_code (error, _("Unknown risk level"), q->risk_level, risk_levels, hearth_label_risk_level), NULL;
  s.has_cursor = q->after_village_code != NULL || q->after_head_name != NULL || q->after_id != NULL;
  /* Village codes are 12 digits (households' CHECK): a cursor taken from a
   * row is too. */
  if (s.has_cursor && (q->after_village_code == NULL || q->after_head_name == NULL || q->after_id == NULL ||
                       strlen (q->after_village_code) != 12 || !all_digits (q->after_village_code)))
    return invalid (error, _("A page cursor needs the village code, head name and id of the last row.")), NULL;
  if (!prepare_text (q->text, &s.kind, &text, error))
    return NULL;
  s.text = text;

  rows = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_household_row_free);

  if (s.kind == TEXT_NAME)
    {
      if (g_utf8_strlen (text, -1) <= 2)
        key = g_strdup (text);
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
  else if (s.kind == TEXT_ID)
    key = g_strdup (text + strlen (text) - HEARTH_CASE_SEARCH_MIN_ID_DIGITS);
  s.key = key;

  if (s.has_cursor)
    s.after_village = village_number (q->after_village_code);
  if (q->village_prefix != NULL)
    {
      gint64 step = 1;

      for (gsize i = strlen (q->village_prefix); i < 12; i++)
        step *= 10;
      s.village_lo = village_number (q->village_prefix);
      s.village_hi = s.village_lo + step;
      village_end = prefix_end (q->village_prefix);
      s.village_end = village_end;
    }

  /* A status or risk filter is read from households_filter_order, one
   * range per (status, risk level) pair it allows, and the ranges' pages
   * merged: a rare filter costs as little as a common one. */
  status_list = q->monitoring_status != NULL ? one_status : statuses;
  risk_list = q->risk_level != NULL ? one_risk : risk_levels;
  for (const char *const *st = status_list; *st != NULL; st++)
    for (const char *const *rk = risk_list; *rk != NULL; rk++)
      pairs[n_pairs++] = (Pair) { *st, *rk, 0 };
  if (q->monitoring_status == NULL && q->risk_level == NULL)
    drive = key != NULL ? DRIVE_KEY : DRIVE_ORDER;
  else if (key == NULL)
    drive = DRIVE_FILTER;
  else
    {
      /* Text and a filter: read whichever has fewer rows in the village
       * range and check the other on each row (with the two independent,
       * that also reads fewer rows before the page is full). */
      g_autofree char *count_key_sql = NULL;
      gint64 n_key, n_filter = 0;

      count_key_sql = g_strdup_printf ("SELECT count(*) FROM (SELECT 1 FROM household_search WHERE key = :key%s LIMIT :cap)",
                                       q->village_prefix != NULL ? " AND village >= :vlon AND village < :vhin" : "");
      n_key = count_rows (db, &s, count_key_sql, NULL, NULL);
      for (guint i = 0; i < n_pairs && n_key >= 0 && n_filter >= 0 && n_filter < n_key; i++)
        {
          pairs[i].count = count_rows (db, &s,
                                       q->village_prefix != NULL
                                       ? "SELECT count(*) FROM (SELECT 1 FROM households INDEXED BY households_filter_order"
                                         " WHERE monitoring_status = :status AND risk_level = :risk AND deleted = 0"
                                         " AND village_code >= :vlo AND village_code < :vhi LIMIT :cap)"
                                       : "SELECT count(*) FROM (SELECT 1 FROM households INDEXED BY households_filter_order"
                                         " WHERE monitoring_status = :status AND risk_level = :risk AND deleted = 0 LIMIT :cap)",
                                       pairs[i].status, pairs[i].risk);
          n_filter = pairs[i].count < 0 ? -1 : n_filter + pairs[i].count;
        }
      if (n_key < 0 || n_filter < 0)
        return sql_error (db, error), NULL;
      drive = n_filter < n_key ? DRIVE_FILTER : DRIVE_KEY;
    }

  if (drive != DRIVE_FILTER)
    {
      if (!run_page (db, &s, drive, q->monitoring_status, q->risk_level, NULL, rows, error))
        return NULL;
      return g_steal_pointer (&rows);
    }
  /* The largest range first: once a page is full, its last row bounds the
   * ranges still to read. */
  qsort (pairs, n_pairs, sizeof (Pair), compare_pairs);
  for (guint i = 0; i < n_pairs; i++)
    {
      g_autoptr(HearthHouseholdRow) bound = NULL;

      if (rows->len >= s.limit)
        {
          g_ptr_array_sort (rows, compare_rows);
          g_ptr_array_remove_range (rows, s.limit, rows->len - s.limit);
          bound = g_ptr_array_steal_index (rows, s.limit - 1);
          if (!run_page (db, &s, DRIVE_FILTER, pairs[i].status, pairs[i].risk, bound, rows, error))
            return NULL;
          g_ptr_array_add (rows, g_steal_pointer (&bound));
        }
      else if (!run_page (db, &s, DRIVE_FILTER, pairs[i].status, pairs[i].risk, NULL, rows, error))
        return NULL;
    }
  g_ptr_array_sort (rows, compare_rows);
  if (rows->len > s.limit)
    g_ptr_array_remove_range (rows, s.limit, rows->len - s.limit);
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
                   "SELECT t.id, t.household_id, t.kind, t.due_date, t.reason, t.assignee, h.head_name, h.village_code, h.address"
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
      row->address = column_dup (st, 8);
      c = strcmp (row->due_date, today);
      row->urgency = c < 0 ? HEARTH_TASK_OVERDUE : c == 0 ? HEARTH_TASK_DUE_TODAY : HEARTH_TASK_LATER;
      g_ptr_array_add (rows, row);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return sql_error (db, error), NULL;
  return g_steal_pointer (&rows);
}

void
hearth_visit_due_row_free (HearthVisitDueRow *row)
{
  if (row == NULL)
    return;
  g_free (row->id);
  g_free (row->village_code);
  g_free (row->head_name);
  g_free (row->address);
  g_free (row->monitoring_status);
  g_free (row->risk_level);
  g_free (row->last_visit_date);
  g_free (row->due_date);
  g_free (row);
}

/* @date (valid) moved by @days, as YYYY-MM-DD. */
static char *
date_add_days (const char *date, gint days)
{
  GDate d;
  char out[11];

  g_date_clear (&d, 1);
  g_date_set_dmy (&d, (GDateDay) atoi (date + 8), (GDateMonth) atoi (date + 5), (GDateYear) atoi (date));
  if (days < 0)
    g_date_subtract_days (&d, (guint) -days);
  else
    g_date_add_days (&d, (guint) days);
  g_snprintf (out, sizeof out, "%04u-%02u-%02u", g_date_get_year (&d), g_date_get_month (&d), g_date_get_day (&d));
  return g_strdup (out);
}

/* One arm of the query: the priority households (@priority) or the
 * others, each in the order of the index routine_visit_queue_order
 * (migration 0009: only households with no open task, not tombstones).
 * SQLite merges the two ordered arms (a compound SELECT with ORDER BY) and
 * stops at the limit: no sort, and no household read that is not due. */
static void
append_due_arm (GString *sql, gboolean priority, gboolean cursor, gboolean village)
{
  g_string_append_printf (sql,
                          "SELECT q.household_id, h.village_code, h.head_name, h.address, h.monitoring_status, h.risk_level,"
                          " q.last_visit_date, q.priority"
                          " FROM routine_visit_queue AS q INDEXED BY routine_visit_queue_order"
                          " CROSS JOIN households AS h ON h.id = q.household_id"
                          " WHERE q.priority = %d AND q.last_visit_date <= %s",
                          priority, priority ? ":pcut" : ":rcut");
  if (cursor)
    g_string_append (sql, " AND (q.last_visit_date, q.household_id) > (:alv, :aid)");
  if (village)
    g_string_append (sql, " AND h.village_code >= :vlo AND h.village_code < :vhi");
}

GPtrArray *
hearth_case_visits_due (sqlite3 *db, const HearthVisitDueQuery *q, GError **error)
{
  g_autoptr(GString) sql = g_string_new (NULL);
  g_autoptr(GPtrArray) rows = NULL;
  g_autofree char *village_end = NULL;
  g_autofree char *routine_cut = NULL;
  g_autofree char *priority_cut = NULL;
  guint limit;
  sqlite3_stmt *st = NULL;
  int rc;

  g_return_val_if_fail (db != NULL, NULL);
  g_return_val_if_fail (q != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  limit = q->limit;
  if (!valid_date (q->today))
    return invalid (error, _("Today's date must be a valid YYYY-MM-DD date.")), NULL;
  if (q->routine_days < 1 || q->routine_days > HEARTH_ROUTINE_VISIT_MAX_DAYS)
    {
      g_set_error (error, HEARTH_CASE_SEARCH_ERROR, HEARTH_CASE_SEARCH_ERROR_INVALID,
                   _("The routine visit period must be from 1 to %d days."), HEARTH_ROUTINE_VISIT_MAX_DAYS);
      return NULL;
    }
  if (q->priority_days < 1 || q->priority_days > q->routine_days)
    return invalid (error, _("The priority households' visit period must be from 1 day to the routine period.")), NULL;
  if (!check_limit (&limit, error) || !check_village_prefix (q->village_prefix, error))
    return NULL;
  if ((q->after_last_visit_date == NULL) != (q->after_id == NULL) ||
      (q->after_last_visit_date != NULL && q->after_last_visit_date[0] != '\0' && !valid_date (q->after_last_visit_date)))
    return invalid (error, _("A page cursor needs the last visit date and id of the last row.")), NULL;

  routine_cut = date_add_days (q->today, -(gint) q->routine_days);
  priority_cut = date_add_days (q->today, -(gint) q->priority_days);
  append_due_arm (sql, TRUE, q->after_id != NULL, q->village_prefix != NULL);
  g_string_append (sql, " UNION ALL ");
  append_due_arm (sql, FALSE, q->after_id != NULL, q->village_prefix != NULL);
  g_string_append (sql, " ORDER BY 7, 1 LIMIT :limit");

  if (sqlite3_prepare_v2 (db, sql->str, -1, &st, NULL) != SQLITE_OK)
    return sql_error (db, error), NULL;
  if (q->village_prefix != NULL)
    village_end = prefix_end (q->village_prefix);
  bind_text (st, ":pcut", priority_cut);
  bind_text (st, ":rcut", routine_cut);
  bind_text (st, ":alv", q->after_last_visit_date);
  bind_text (st, ":aid", q->after_id);
  bind_text (st, ":vlo", q->village_prefix);
  bind_text (st, ":vhi", village_end);
  bind_int (st, ":limit", limit);

  rows = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_visit_due_row_free);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      HearthVisitDueRow *row = g_new0 (HearthVisitDueRow, 1);

      row->id = column_dup (st, 0);
      row->village_code = column_dup (st, 1);
      row->head_name = column_dup (st, 2);
      row->address = column_dup (st, 3);
      row->monitoring_status = column_dup (st, 4);
      row->risk_level = column_dup (st, 5);
      row->last_visit_date = column_dup (st, 6);
      row->priority = sqlite3_column_int (st, 7) != 0;
      /* A date the store holds malformed (it came through sync) counts as
       * never visited rather than failing the whole list. */
      row->due_date = valid_date (row->last_visit_date)
                        ? date_add_days (row->last_visit_date, (gint) (row->priority ? q->priority_days : q->routine_days))
                        : g_strdup ("");
      g_ptr_array_add (rows, row);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return sql_error (db, error), NULL;
  return g_steal_pointer (&rows);
}

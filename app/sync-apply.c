/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sync-apply.c: applying pulled pages (sync-store.h) and keeping every
 * mutable field equal to the merge of the edits this store holds of it
 * (sync/merge.h, PROTOCOL.md section 6.3).
 *
 * Invariant: for every field with edits (record_writes, read a field at a
 * time through the view field_edits, migration 0014), record_versions
 * holds the merge's winner (its version, its parents as the base), the
 * record's column holds the winner's value once the record exists, and
 * conflicts holds exactly the merge's losers as open rows; but for a field
 * whose winner's value its table refuses (a CHECK): that field keeps what
 * it held, and the refusal is in sync_apply_errors, on every tablet alike. Local writes
 * keep it (the case store's write stamps the winner; an edit over an open
 * conflict recomputes), pulled edits and clamps restore it by recomputing
 * each field they touch. Since the merge depends only on the set of edits,
 * replicas holding the same edits hold the same values and conflicts.
 *
 * A record pulled in pieces (a page may end between the edits of its
 * fields) is created once the edits of all its required columns (NOT NULL
 * without a default) are here, from every field's winner at that moment.
 */
#define G_LOG_DOMAIN "hearth-sync"

#include "sync-store-private.h"
#include "hlc.h"
#include "merge.h"
#include "store-keys.h"
#include "store-packed.h"
#include "str-hash.h"

#include <glib/gi18n.h>
#include <string.h>

/* ---- one field's edit set --------------------------------------------------------- */

typedef struct {
  char *hlc;
  char *value;
  char *origin;
  char **parents;
  /* The strings are a pulled change's (apply_field_edit()), which
   * outlives the page's edit sets, and the row with its vector of
   * @parents is in its TouchedSet's arena (touched_alloc()): nothing of
   * it is freed here. */
  gboolean borrowed;
} EditRow;

static void
edit_row_free (gpointer data)
{
  EditRow *r = data;

  /* A pulled edit's row is in its page's arena (apply_field_edit()). */
  if (r->borrowed)
    return;
  g_free (r->hlc);
  g_free (r->value);
  g_free (r->origin);
  g_strfreev (r->parents);
  g_free (r);
}

/* A set's rows: a vector in the page's arena for a set of pulled edits
 * (edit_set_add_in()), else its own. A fresh device's page makes some ten
 * thousand sets, most of one row: a GPtrArray a set was two allocations
 * and their frees. */
typedef struct {
  EditRow **pdata;
  guint len;
  guint alloc;
  gboolean in_arena;   /* @pdata is in the page's arena (its TouchedSet's) */
} EditRows;

typedef struct {
  EditRows rows;
  /* HearthFieldEdit, pointing into @rows, one an edit in their order:
   * made by merge_set() when a merge needs them (edit_set_edits()), NULL
   * before. A fresh device's pull joins some 80,000 edits into sets on
   * its fetch thread, most of them never merged (create_fresh() reads the
   * one row): an array made and appended to an edit was a tenth of that
   * work. */
  GArray    *edits;
  const char *table; /* whose field: its merge rule (borrowed) */
  const char *field;
} EditSet;

static void
edit_set_clear (EditSet *set)
{
  g_clear_pointer (&set->edits, g_array_unref);
  for (guint i = 0; i < set->rows.len; i++)
    edit_row_free (set->rows.pdata[i]);
  if (!set->rows.in_arena)
    g_free (set->rows.pdata);
  memset (&set->rows, 0, sizeof set->rows);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (EditSet, edit_set_clear)

/* A set in its page's arena (touch()): only its arrays are its own. */
static void
edit_set_clear_func (gpointer data)
{
  edit_set_clear (data);
}

/* Adds an edit to a loaded set (it was just inserted into field_edits);
 * the set keeps @row. */
static void
edit_set_add (EditSet *set, EditRow *row)
{
  if (set->rows.len == set->rows.alloc)
    {
      guint alloc = MAX (4, set->rows.alloc * 2);

      if (set->rows.in_arena)
        {
          EditRow **pdata = g_new (EditRow *, alloc);

          memcpy (pdata, set->rows.pdata, sizeof (EditRow *) * set->rows.len);
          set->rows.pdata = pdata;
          set->rows.in_arena = FALSE;
        }
      else
        set->rows.pdata = g_renew (EditRow *, set->rows.pdata, alloc);
      set->rows.alloc = alloc;
    }
  set->rows.pdata[set->rows.len++] = row;
}

/* @set's edits, made again from its rows (their order): the merge's
 * winner and losers point into them until the next call. */
static const HearthFieldEdit *
edit_set_edits (EditSet *set)
{
  if (set->edits == NULL)
    set->edits = g_array_sized_new (FALSE, TRUE, sizeof (HearthFieldEdit), set->rows.len);
  g_array_set_size (set->edits, 0);
  for (guint i = 0; i < set->rows.len; i++)
    {
      EditRow *r = set->rows.pdata[i];
      HearthFieldEdit e = { r->hlc, (const char *const *) r->parents, g_strv_length (r->parents), r->value };

      g_array_append_val (set->edits, e);
    }
  return (const HearthFieldEdit *) (gpointer) set->edits->data;
}

/* An empty edit set of @table's @field. */
static void
edit_set_init (EditSet *set, const char *table, const char *field)
{
  memset (&set->rows, 0, sizeof set->rows);
  set->edits = NULL;
  set->table = table;
  set->field = field;
}

static int
compare_rows (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(const EditRow *const *) a)->hlc, (*(const EditRow *const *) b)->hlc);
}

/* Orders a loaded set's rows (load_edits()). */
static void
edit_set_seal (EditSet *set)
{
  /* By version, as the rows came when the table was keyed by them: the
   * heads a resolution or a write over them names keep their order. */
  if (set->rows.len > 1)
    qsort (set->rows.pdata, set->rows.len, sizeof (EditRow *), compare_rows);
}

static gboolean
load_edits (sqlite3 *db, const char *table, const char *id, const char *field, EditSet *set, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  edit_set_init (set, table, field);
  /* The record's writes (record_writes, migration 0014), this field's
   * member of each that has one. */
  if ((st = hearth_sync_prepare (db, "SELECT hlc, parents, value, origin FROM field_edits "
                                     "WHERE rkey = hearth_edit_key (?1, ?2, NULL) AND record_table = ?1 "
                                     "AND record_id = ?2 AND field = ?3")) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, field, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      EditRow *r = g_new0 (EditRow, 1);

      r->hlc = g_strdup ((const char *) sqlite3_column_text (st, 0));
      r->parents = hearth_sync_split_versions ((const char *) sqlite3_column_text (st, 1));
      r->value = g_strdup ((const char *) sqlite3_column_text (st, 2));
      r->origin = g_strdup ((const char *) sqlite3_column_text (st, 3));
      edit_set_add (set, r);
    }
  hearth_sync_finish (st);
  if (rc != SQLITE_DONE)
    return hearth_sync_sql_failed (db, error);
  edit_set_seal (set);
  return TRUE;
}

static gboolean
merge_set (EditSet *set, HearthFieldMerge *merge, GError **error)
{
  g_autoptr(GError) local = NULL;
  const HearthFieldEdit *edits = edit_set_edits (set);

  if (hearth_merge_field_of (set->table, set->field, edits, set->rows.len, merge, &local))
    return TRUE;
  g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID, "%s", local->message);
  return FALSE;
}

static const EditRow *
row_of (EditSet *set, const HearthFieldEdit *edit)
{
  return set->rows.pdata[edit - (const HearthFieldEdit *) (gpointer) set->edits->data];
}

/* The heads of @set (rule 1 of PROTOCOL.md section 6.3): the edits no
 * other edit names as a parent. Rows of @set, winner first when it is one. */
static GPtrArray *
heads_of (EditSet *set, const HearthFieldMerge *merge)
{
  g_autoptr(GHashTable) named = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *heads = g_ptr_array_new ();

  for (guint i = 0; i < set->rows.len; i++)
    {
      EditRow *r = set->rows.pdata[i];
      for (guint p = 0; r->parents[p] != NULL; p++)
        g_hash_table_add (named, r->parents[p]);
    }
  if (merge->winner != NULL)
    g_ptr_array_add (heads, (gpointer) row_of (set, merge->winner));
  for (guint i = 0; i < set->rows.len; i++)
    {
      EditRow *r = set->rows.pdata[i];
      /* The winner is in already. */
      if (!g_hash_table_contains (named, r->hlc) && !g_ptr_array_find (heads, r, NULL))
        g_ptr_array_add (heads, r);
    }
  return heads;
}

static gboolean
has_column (sqlite3 *db, const char *table, const char *column)
{
  return hearth_sync_has_column (db, table, column);
}

/* Runs @sql with text parameters (NULL binds NULL); expects no rows. The
 * parameters are bound without a copy: the statement is reset (or
 * finalised) before this returns, while the caller's strings still live. */
static gboolean
run (sqlite3 *db, const char *sql, GError **error, guint n, ...)
{
  sqlite3_stmt *st = NULL;
  va_list ap;
  int rc;

  if ((st = hearth_sync_prepare (db, sql)) == NULL)
    return hearth_sync_sql_failed (db, error);
  va_start (ap, n);
  for (guint i = 0; i < n; i++)
    {
      const char *v = va_arg (ap, const char *);
      if (v != NULL)
        sqlite3_bind_text (st, (int) i + 1, v, -1, SQLITE_STATIC);
    }
  va_end (ap);
  rc = sqlite3_step (st);
  hearth_sync_finish (st);
  return rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
}

/* Rows a multi-row insert writes at most (insert_rows()). */
#define ROWS_PER_INSERT 64

/* Inserts @n rows of @width text values each (@values, row after row;
 * NULL binds NULL): "@head VALUES (…), (…) @tail", up to ROWS_PER_INSERT
 * rows a statement. In a transaction SQLite journals every page a
 * statement that may fail halfway writes (a table with a trigger, a
 * multi-row insert), so that it can undo the statement alone: once a
 * statement of many rows instead of once each row. The statements are
 * prepared once (the statement cache). */
/* "@head VALUES (?, …), … @tail" for @rows rows of @width. */
static char *
rows_sql (const char *head, const char *tail, guint width, guint rows)
{
  GString *sql = g_string_sized_new (strlen (head) + (gsize) rows * width * 3 + 32);

  g_string_append (sql, head);
  g_string_append (sql, " VALUES ");
  for (guint r = 0; r < rows; r++)
    {
      g_string_append (sql, r > 0 ? ", (?" : "(?");
      for (guint c = 1; c < width; c++)
        g_string_append_len (sql, ", ?", 3);
      g_string_append_c (sql, ')');
    }
  if (tail != NULL)
    {
      g_string_append_c (sql, ' ');
      g_string_append (sql, tail);
    }
  return g_string_free (sql, FALSE);
}

static gboolean
insert_rows (sqlite3 *db, const char *head, const char *tail, guint width, const char *const *values, guint n,
             GError **error)
{
  sqlite3_stmt *full = NULL;   /* ROWS_PER_INSERT rows: prepared once a call, reset between chunks */
  gboolean ok = TRUE;

  for (guint at = 0; at < n && ok;)
    {
      guint rows = MIN (n - at, ROWS_PER_INSERT);
      sqlite3_stmt *st;

      if (rows == ROWS_PER_INSERT && full == NULL)
        {
          g_autofree char *sql = rows_sql (head, tail, width, rows);

          if ((full = hearth_sync_prepare (db, sql)) == NULL)
            return hearth_sync_sql_failed (db, error);
        }
      if (rows == ROWS_PER_INSERT)
        st = full;
      else
        {
          g_autofree char *sql = rows_sql (head, tail, width, rows);

          if ((st = hearth_sync_prepare (db, sql)) == NULL)
            {
              ok = hearth_sync_sql_failed (db, error);
              break;
            }
        }
      for (guint k = 0; k < rows * width; k++)
        {
          const char *v = values[(gsize) at * width + k];

          sqlite3_bind_text (st, (int) k + 1, v, -1, SQLITE_STATIC);   /* NULL binds NULL */
        }
      ok = sqlite3_step (st) == SQLITE_DONE || hearth_sync_sql_failed (db, error);
      if (st == full)
        sqlite3_reset (st);   /* every parameter is bound again next chunk */
      else
        hearth_sync_finish (st);
      at += rows;
    }
  hearth_sync_finish (full);
  return ok;
}

/* ---- recomputing a field ------------------------------------------------------------ */

static gboolean
write_conflicts (sqlite3 *db, const char *table, const char *id, const char *field, EditSet *set,
                 const HearthFieldMerge *merge, const char *now, const char *resolved_by, GError **error)
{
  g_autoptr(GHashTable) open = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) was_open = g_ptr_array_new_with_free_func (g_free);
  const EditRow *winner = row_of (set, merge->winner);
  sqlite3_stmt *st = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < merge->losers->len; i++)
    {
      const HearthFieldEdit *loser = merge->losers->pdata[i];
      char *cid = hearth_merge_conflict_id (table, id, field, merge->winner->hlc, loser->hlc);

      g_ptr_array_add (ids, cid);
      g_hash_table_add (open, cid);
      if (!run (db, "INSERT INTO conflicts (id, record_table, record_id, field, kept_value, kept_hlc, lost_value, "
                    "lost_hlc) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET resolved_at = NULL, "
                    "resolved_by = NULL, resolution = NULL WHERE resolved_at IS NOT NULL",
                error, 8, cid, table, id, field, merge->winner->value, merge->winner->hlc, loser->value, loser->hlc))
        return FALSE;
    }
  if ((st = hearth_sync_prepare (db, "SELECT id FROM conflicts WHERE record_table = ? AND record_id = ? AND field = ? "
                              "AND resolved_at IS NULL")) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, field, -1, SQLITE_STATIC);
  while (sqlite3_step (st) == SQLITE_ROW)
    g_ptr_array_add (was_open, g_strdup ((const char *) sqlite3_column_text (st, 0)));
  hearth_sync_finish (st);
  /* No longer a pair of heads: closed by the edit that now wins. */
  for (guint i = 0; i < was_open->len; i++)
    if (!g_hash_table_contains (open, was_open->pdata[i]) &&
        !run (db, "UPDATE conflicts SET resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ?", error, 4,
              now, resolved_by != NULL ? resolved_by : winner->origin, winner->value, was_open->pdata[i]))
      return FALSE;
  return TRUE;
}

/* Writes the winners' versions of @n fields of a record (@fields,
 * @versions, @bases: each winner's version and its parents joined by
 * spaces) into its row of record_versions (migration 0013), a field
 * after the other as hearth_set_field_version() would, each left as it
 * is when under its key already: the row read once and written once (or
 * inserted when the record has none; no primary key to upsert on, as in
 * migration 0011) whatever the number of fields. */
static gboolean
store_versions (sqlite3 *db, const char *table, const char *id, guint n, const char *const *fields,
                const char *const *versions, const char *const *bases, GError **error)
{
  g_autoptr(GString) text = g_string_new (NULL);
  sqlite3_stmt *st;
  gboolean found = FALSE;
  int rc;

  if ((st = hearth_sync_prepare (db, "SELECT rowid, versions FROM record_versions "
                                     "WHERE rkey = hearth_edit_key (?1, ?2, NULL) AND record_table = ?1 "
                                     "AND record_id = ?2")) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  /* One row a record; were there two, each is changed, as an UPDATE would. */
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 rowid = sqlite3_column_int64 (st, 0);
      gboolean any = FALSE;

      found = TRUE;
      g_string_truncate (text, 0);
      g_string_append_len (text, (const char *) sqlite3_column_text (st, 1), sqlite3_column_bytes (st, 1));
      {
        g_autofree char *message = NULL;

        if (!hearth_store_versions_set_fields (text, n, fields, versions, bases, &any, &message))
          {
            hearth_sync_finish (st);
            g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_SQLITE,
                         _("the sync store refused a change: %s"), message);
            return FALSE;
          }
      }
      if (any)
        {
          sqlite3_stmt *update = hearth_sync_prepare (db, "UPDATE record_versions SET versions = ?1 WHERE rowid = ?2");

          if (update == NULL)
            {
              hearth_sync_finish (st);
              return hearth_sync_sql_failed (db, error);
            }
          sqlite3_bind_text (update, 1, text->str, (int) text->len, SQLITE_STATIC);
          sqlite3_bind_int64 (update, 2, rowid);
          rc = sqlite3_step (update);
          hearth_sync_finish (update);
          if (rc != SQLITE_DONE)
            {
              hearth_sync_sql_failed (db, error);
              hearth_sync_finish (st);
              return FALSE;
            }
        }
    }
  hearth_sync_finish (st);
  if (rc != SQLITE_DONE)
    return hearth_sync_sql_failed (db, error);
  if (found)
    return TRUE;
  g_string_truncate (text, 0);
  {
    g_autofree char *message = NULL;
    gboolean changed;

    if (!hearth_store_versions_set_fields (text, n, fields, versions, bases, &changed, &message))
      {
        g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_SQLITE,
                     _("the sync store refused a change: %s"), message);
        return FALSE;
      }
  }
  if ((st = hearth_sync_prepare (db, "INSERT INTO record_versions (record_table, record_id, versions) "
                                     "VALUES (?1, ?2, ?3)")) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, text->str, (int) text->len, SQLITE_STATIC);
  rc = sqlite3_step (st);
  hearth_sync_finish (st);
  return rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
}

/* The winner's parents joined by spaces, as a version's base is stored. */
static char *
winner_base (EditSet *set, const HearthFieldMerge *merge)
{
  return g_strjoinv (" ", row_of (set, merge->winner)->parents);
}

/* Writes the merge of a loaded edit set to record_versions (the winner's
 * version and parents, migration 0013) and conflicts (only when the set
 * has two edits or more: a field with one edit never had two heads, and
 * edits are never removed; a first pull is mostly these). */
static gboolean
store_merge (sqlite3 *db, const char *table, const char *id, const char *field, EditSet *set,
             const HearthFieldMerge *merge, const char *now, const char *resolved_by, GError **error)
{
  g_autofree char *base = winner_base (set, merge);
  const char *version = merge->winner->hlc;
  const char *base_c = base;

  if (!store_versions (db, table, id, 1, &field, &version, &base_c, error))
    return FALSE;
  return set->rows.len == 1 || write_conflicts (db, table, id, field, set, merge, now, resolved_by, error);
}

/* hearth_sync_recompute_field() over a set already loaded. */
static gboolean
recompute_loaded (sqlite3 *db, const char *table, const char *id, const char *field, EditSet *set, const char *now,
                  const char *resolved_by, gboolean *exists_out, GError **error)
{
  HearthFieldMerge merge = { 0 };
  g_autofree char *current = NULL;
  gboolean exists = FALSE, ok;

  if (exists_out != NULL)
    *exists_out = FALSE;
  if (set->rows.len == 0)
    return TRUE;
  if (!merge_set (set, &merge, error))
    return FALSE;
  ok = store_merge (db, table, id, field, set, &merge, now, resolved_by, error) &&
       hearth_sync_column_value (db, table, id, field, &exists, &current, error);
  if (ok && exists && g_strcmp0 (current, merge.winner->value) != 0)
    {
      g_autofree char *sql = has_column (db, table, "updated_at")
                             ? g_strdup_printf ("UPDATE \"%s\" SET \"%s\" = ?1, updated_at = ?2 WHERE id = ?3", table, field)
                             : g_strdup_printf ("UPDATE \"%s\" SET \"%s\" = ?1 WHERE id = ?3", table, field);
      ok = run (db, sql, error, 3, merge.winner->value, now, id);
    }
  g_ptr_array_unref (merge.losers);
  if (exists_out != NULL)
    *exists_out = exists;
  return ok;
}

gboolean
hearth_sync_recompute_field (sqlite3 *db, const char *table, const char *id, const char *field, const char *now,
                             const char *resolved_by, gboolean *exists_out, GError **error)
{
  g_auto(EditSet) set = { 0 };

  if (exists_out != NULL)
    *exists_out = FALSE;
  return load_edits (db, table, id, field, &set, error) &&
         recompute_loaded (db, table, id, field, &set, now, resolved_by, exists_out, error);
}

/* Creates @table's record @id, @fields (names) holding @values, with
 * @now as its times when the table keeps them. */
static gboolean
insert_record (sqlite3 *db, const char *table, const char *id, const char *now, GPtrArray *fields, GPtrArray *values,
               GError **error)
{
  g_autoptr(GString) sql = g_string_new (NULL);
  gboolean times = has_column (db, table, "created_at") && has_column (db, table, "updated_at");
  sqlite3_stmt *st;
  int rc;

  /* Built for every record a page creates: appends, not a format. */
  g_string_append (sql, "INSERT INTO \"");
  g_string_append (sql, table);
  g_string_append (sql, "\" (id");
  if (times)
    g_string_append (sql, ", created_at, updated_at");
  for (guint i = 0; i < fields->len; i++)
    {
      g_string_append (sql, ", \"");
      g_string_append (sql, fields->pdata[i]);
      g_string_append_c (sql, '"');
    }
  g_string_append (sql, ") VALUES (?1");
  if (times)
    g_string_append (sql, ", ?2, ?2");
  /* The fields from ?3 on: a "?" takes the number after the largest so far. */
  for (guint i = 0; i < fields->len; i++)
    g_string_append (sql, i == 0 ? ", ?3" : ", ?");
  g_string_append (sql, ")");
  if ((st = hearth_sync_prepare (db, sql->str)) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  if (times)
    sqlite3_bind_text (st, 2, now, -1, SQLITE_STATIC);
  for (guint i = 0; i < values->len; i++)
    sqlite3_bind_text (st, (int) i + 3, values->pdata[i], -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  hearth_sync_finish (st);
  return rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
}

static gboolean recoverable (const GError *error);

/* A record this store does not have yet: each field with edits is merged
 * once, the fields a page touched (@touched: field → its EditSet, loaded)
 * have their merge stored, and the record is created from the winners
 * once every required column has one; before that it stays in
 * field_edits only. A winner its table refuses leaves the record
 * uncreated, in @refusal (a recoverable error), but keeps the merges
 * stored: every field with edits holds its winner's version in
 * record_versions (the invariant above) wherever the pages ended. */
static gboolean
materialize (sqlite3 *db, const char *table, const char *id, GHashTable *touched, const char *now, GError **refusal,
             GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) have = g_hash_table_new (g_str_hash, g_str_equal);
  sqlite3_stmt *st = NULL;
  gboolean complete = TRUE;

  /* A record's writes are under its key (migration 0014). */
  if ((st = hearth_sync_prepare (db, "SELECT DISTINCT field FROM field_edits "
                                     "WHERE rkey = hearth_edit_key (?1, ?2, NULL) "
                                     "AND record_table = ?1 AND record_id = ?2 ORDER BY field")) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  while (sqlite3_step (st) == SQLITE_ROW)
    g_ptr_array_add (fields, g_strdup ((const char *) sqlite3_column_text (st, 0)));
  g_clear_pointer (&st, hearth_sync_finish);
  for (guint i = 0; i < fields->len; i++)
    g_hash_table_add (have, fields->pdata[i]);

  {
    g_autoptr(GPtrArray) required = hearth_sync_required_columns (db, table);

    for (guint i = 0; i < required->len; i++)
      if (!g_hash_table_contains (have, required->pdata[i]))
        complete = FALSE;
  }

  for (guint i = 0; i < fields->len; i++)
    {
      g_auto(EditSet) loaded = { 0 };
      EditSet *set = g_hash_table_lookup (touched, fields->pdata[i]);
      HearthFieldMerge merge = { 0 };
      gboolean ok;

      /* An untouched field of an incomplete record has nothing new. */
      if (!complete && set == NULL)
        continue;
      if (set == NULL && !load_edits (db, table, id, fields->pdata[i], &loaded, error))
        return FALSE;
      if (!merge_set (set != NULL ? set : &loaded, &merge, error))
        return FALSE;
      ok = set == NULL || store_merge (db, table, id, fields->pdata[i], set, &merge, now, NULL, error);
      g_ptr_array_add (values, g_strdup (merge.winner->value));
      g_ptr_array_unref (merge.losers);
      if (!ok)
        return FALSE;
    }
  if (!complete || fields->len == 0)
    return TRUE;
  /* One statement: refused, it leaves nothing of the record behind. */
  if (insert_record (db, table, id, now, fields, values, &local))
    return TRUE;
  if (!recoverable (local))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  g_propagate_error (refusal, g_steal_pointer (&local));
  return TRUE;
}

/* ---- a resolution ---------------------------------------------------------------------- */

gboolean
hearth_sync_write_resolution (sqlite3 *db, const char *table, const char *record_id, const char *field,
                              HearthSyncStampFunc stamp, gpointer stamp_data, const char *value, const char *wall,
                              const char *resolved_by, GError **error)
{
  g_auto(EditSet) set = { 0 };
  HearthFieldMerge merge = { 0 };
  g_autoptr(GPtrArray) heads = NULL;
  g_autoptr(GPtrArray) left = g_ptr_array_new_with_free_func (g_free);

  if (!load_edits (db, table, record_id, field, &set, error) || !merge_set (&set, &merge, error))
    return FALSE;
  /* Every head is a parent, those agreeing with the winner too: the
   * resolution supersedes them all. */
  heads = heads_of (&set, &merge);
  g_ptr_array_unref (merge.losers);
  for (guint i = 0; i < heads->len; i++)
    g_ptr_array_add (left, g_strdup (((EditRow *) heads->pdata[i])->hlc));
  /* In steps of at most HEARTH_CHANGE_MAX_PARENTS parents, each step a
   * parent of the next: the last supersedes every head. */
  do
    {
      g_autofree char *hlc = stamp (stamp_data, error);
      g_autoptr(GString) parents = g_string_new (NULL);
      guint take = MIN (left->len, HEARTH_CHANGE_MAX_PARENTS);

      if (hlc == NULL)
        return FALSE;
      for (guint i = 0; i < take; i++)
        g_string_append_printf (parents, "%s%s", i > 0 ? " " : "", (char *) left->pdata[i]);
      if (!run (db, "INSERT INTO field_edits (record_table, record_id, field, hlc, parents, value, wall) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                error, 7, table, record_id, field, hlc, parents->str, value, wall))
        return FALSE;
      g_ptr_array_remove_range (left, 0, take);
      g_ptr_array_insert (left, 0, g_steal_pointer (&hlc));
    }
  while (left->len > 1);
  return hearth_sync_recompute_field (db, table, record_id, field, wall, resolved_by, NULL, error);
}

/* ---- a local write over several heads -------------------------------------------------- */

gboolean
hearth_sync_capture_over_heads (sqlite3 *db, const char *table, const char *id, const char *field, const char *value,
                                const char *wall, GError **error)
{
  g_auto(EditSet) set = { 0 };
  HearthFieldMerge merge = { 0 };
  g_autoptr(GString) parents = g_string_new (NULL);
  g_autoptr(GPtrArray) heads = NULL;
  g_autofree char *hlc = NULL;
  sqlite3_stmt *st = NULL;

  if ((st = hearth_sync_prepare (db, "SELECT hearth_field_version (versions, ?3) FROM record_versions "
                                     "WHERE rkey = hearth_edit_key (?1, ?2, NULL) "
                                     "AND record_table = ?1 AND record_id = ?2")) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, field, -1, SQLITE_STATIC);
  if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_type (st, 0) != SQLITE_NULL)
    hlc = g_strdup ((const char *) sqlite3_column_text (st, 0));
  hearth_sync_finish (st);
  if (hlc == NULL)
    return hearth_sync_sql_failed (db, error);
  if (!load_edits (db, table, id, field, &set, error) || !merge_set (&set, &merge, error))
    return FALSE;
  /* The user saw the winner's value: every head holding it is replaced;
   * a head with another value stays, an open conflict with this edit. A
   * counter has no conflicts: the write saw them all (the largest), and
   * replaces every head. */
  heads = heads_of (&set, &merge);
  g_ptr_array_unref (merge.losers);
  for (guint i = 0; i < heads->len; i++)
    {
      EditRow *h = heads->pdata[i];
      if (hearth_merge_is_counter (table, field) || g_strcmp0 (h->value, ((EditRow *) heads->pdata[0])->value) == 0)
        g_string_append_printf (parents, "%s%s", parents->len > 0 ? " " : "", h->hlc);
    }
  return run (db, "INSERT INTO field_edits (record_table, record_id, field, hlc, parents, value, wall) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)", error, 7, table, id, field, hlc, parents->str, value, wall) &&
         hearth_sync_recompute_field (db, table, id, field, wall, NULL, NULL, error);
}

/* ---- applying a page ------------------------------------------------------------------- */

/* The records a page touched, in the order first touched, with their
 * fields. The names are borrowed from the page's changes, which outlive
 * the page's apply: a fresh device's page touches thousands of records,
 * and a copy of each name was as many allocations to make and free. */
typedef struct {
  const char *table;
  const char *id;
  GPtrArray *fields;  /* names, borrowed */
  GHashTable *sets;   /* field → EditSet: its edits, loaded once a page */
  gint64 cursor;
  /* Its key (hearth_edit_key (table, id, NULL)) and its place in the
   * order of the edit tables' indexes: rank_records(). */
  gint64 key;
  guint rank;
  /* The store held no edit of the record when the page first touched it:
   * every edit of it since went through apply_field_edit() and is in
   * @sets, so a field touched later has none to load (a fresh device's
   * pull: the page's records probed together, probe_records(), instead of
   * a probe a field). */
  gboolean fresh;
  /* A field of it has more than one edit in @sets (fresh_single()). */
  gboolean multi;
  /* Whether the record exists was read (@exists), and whether the fast
   * path wrote it (create_fresh()). */
  gboolean checked;
  gboolean exists;
  gboolean done;
  gboolean inserted;   /* by the fast path */
  /* Held, but its writes hold no edit of a field the page brings and
   * none is under a version of the page's edits of it
   * (record_holds_none_of()): each write the page brings of it is a row
   * of its own, as a fresh record's are (insert_pending()). */
  gboolean writes_new;
  /* Made beforehand for a record prepared as fresh_single() would take it
   * (prepare_edits()): its fields by name (borrowed), and its row of
   * record_versions (versions_json()); else NULL. */
  GPtrArray *sorted_fields;
  const char *versions_json;   /* in the page's arena */
} Touched;

static void
touched_free (gpointer data)
{
  Touched *t = data;

  /* @t and its versions_json are in its page's arena (touch()). */
  g_ptr_array_unref (t->fields);
  g_hash_table_unref (t->sets);
  if (t->sorted_fields != NULL)
    g_ptr_array_unref (t->sorted_fields);
}

static guint
touched_hash (gconstpointer key)
{
  const Touched *t = key;

  return hearth_record_hash (t->table, t->id);
}

static gboolean
touched_equal (gconstpointer a, gconstpointer b)
{
  const Touched *x = a, *y = b;

  return hearth_record_equal (x->table, x->id, y->table, y->id);
}

/* An edit joined to its field's set, written into its write's row of
 * record_writes once the page's changes are read (insert_pending()). */
typedef struct {
  const HearthChange *change;   /* the page's: its table, id, version and wall */
  const char *field;            /* the edit's (the change's, or one of its fields) */
  const char *value;
  const Touched *record;        /* its record */
  const char *parents;          /* joined by spaces, as stored, in the page's arena; NULL for none */
  const EditRow *row;           /* the row it added to its field's set: reconcile_held() */
  gboolean dropped;             /* the store held it already (reconcile_held()) */
} PendingEdit;

/* The edits of one write of a record, in the order insert_pending()
 * writes them: @sorted[@from, @to) (PendingEdit) of its TouchedSet; and
 * prepared without the store (write_groups()), the row's fields as they
 * are when the store holds no write of the record (NULL unprepared). */
typedef struct {
  guint from;
  guint to;
  const char *json;   /* in the page's arena */
} WriteGroup;

typedef struct {
  GPtrArray *order;   /* Touched */
  GHashTable *index;  /* Touched (its table and id) → itself */
  GArray *pending;    /* PendingEdit */
  GHashTable *held;   /* "table id" of the records with edits in the store: probe_records() */
  GHashTable *packed; /* (nullable) borrowed from the page's HearthSyncPagePrep */
  /* @pending in the order of its writes' rows (write_groups()), and its
   * writes; NULL until made (beforehand for a prepared page). */
  const PendingEdit **sorted;
  GArray *groups;     /* WriteGroup */
  /* The last insert apply_immutable() made: its table, its columns (in
   * the order of the change's fields, checked against the table) and its
   * statement's text. A page's submissions name the same columns, each
   * checked and written into the text again for every one of them. */
  char *immutable_table;
  GPtrArray *immutable_names;   /* owned strings */
  char *immutable_sql;
  /* The page's arena: its records (Touched), their fields' sets and the
   * pulled edits' rows (EditRow), their parents and the rows prepared
   * for record_writes and record_versions, carved from slabs freed
   * together with the set. A fresh device's page joins some ten thousand
   * edits: an allocation each of these was a malloc and a free a piece. */
  GPtrArray *slabs;
  char *slab_at;
  gsize slab_left;
} TouchedSet;

#define TOUCHED_SLAB_SIZE (64 * 1024 - 64)

/* @size bytes from @touched's arena, aligned for any of its structs;
 * freed with @touched (touched_set_free()). */
static gpointer
touched_alloc (TouchedSet *touched, gsize size)
{
  gpointer at;

  size = (size + 15) & ~(gsize) 15;
  if (size > touched->slab_left)
    {
      gsize n = MAX (size, TOUCHED_SLAB_SIZE);

      touched->slab_at = g_malloc (n);
      touched->slab_left = n;
      g_ptr_array_add (touched->slabs, touched->slab_at);
    }
  at = touched->slab_at;
  touched->slab_at += size;
  touched->slab_left -= size;
  return at;
}

/* Adds a pulled edit's @row to @set (in @touched's arena, touch()), its
 * vector in the arena too: edit_set_add() when it outgrows it. */
static void
edit_set_add_in (TouchedSet *touched, EditSet *set, EditRow *row)
{
  if (set->rows.len == set->rows.alloc && (set->rows.alloc == 0 || set->rows.in_arena) && set->rows.alloc < 4)
    {
      guint alloc = set->rows.alloc == 0 ? 1 : 4;
      EditRow **pdata = touched_alloc (touched, sizeof (EditRow *) * alloc);

      if (set->rows.len > 0)
        memcpy (pdata, set->rows.pdata, sizeof (EditRow *) * set->rows.len);
      set->rows.pdata = pdata;
      set->rows.alloc = alloc;
      set->rows.in_arena = TRUE;
    }
  edit_set_add (set, row);
}

static gpointer
touched_alloc0 (TouchedSet *touched, gsize size)
{
  return memset (touched_alloc (touched, size), 0, size);
}

/* A copy of @len bytes of @str, NUL-terminated, in @touched's arena. */
static const char *
touched_strndup (TouchedSet *touched, const char *str, gsize len)
{
  char *copy = touched_alloc (touched, len + 1);

  memcpy (copy, str, len);
  copy[len] = '\0';
  return copy;
}

static TouchedSet *
touched_set_new (void)
{
  TouchedSet *touched = g_new0 (TouchedSet, 1);

  touched->order = g_ptr_array_new_with_free_func (touched_free);
  touched->index = g_hash_table_new (touched_hash, touched_equal);
  touched->pending = g_array_new (FALSE, FALSE, sizeof (PendingEdit));
  touched->slabs = g_ptr_array_new_with_free_func (g_free);
  touched->held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return touched;
}

/* A page's working memory, freed on whatever thread frees its
 * preparation (hearth_sync_page_prep_free()): nothing in it reads the
 * page's strings it borrows, so the order of the two frees does not
 * matter, but the preparation goes first. */
static void
touched_set_free (TouchedSet *touched)
{
  if (touched == NULL)
    return;
  g_ptr_array_unref (touched->order);
  g_hash_table_unref (touched->index);
  g_array_unref (touched->pending);
  g_hash_table_unref (touched->held);
  g_free (touched->sorted);
  if (touched->groups != NULL)
    g_array_unref (touched->groups);
  g_free (touched->immutable_table);
  if (touched->immutable_names != NULL)
    g_ptr_array_unref (touched->immutable_names);
  g_free (touched->immutable_sql);
  /* Last: the records and rows freed above are in it. */
  g_ptr_array_unref (touched->slabs);
  g_free (touched);
}

struct _HearthSyncPagePrep {
  /* The text of a packed column (its address in the page's change) →
   * its packed value (GBytes), or NULL: kept as text. */
  GHashTable *packed;
  TouchedSet *touched;   /* the apply's, once applied */
  /* The page's edits joined to their records and fields as if the store
   * held none of them (prepare_edits()), checked, ordered and ranked;
   * NULL when an edit of the page is refused or needs the store to check
   * it: the apply then does it all itself. */
  TouchedSet *ready;
  const char *newest;    /* the largest version of its edits (borrowed) */
  gint64 latest_ms;      /* the latest wall time of their versions */
  gboolean used;
};

static void
bytes_unref0 (gpointer data)
{
  if (data != NULL)
    g_bytes_unref (data);
}

static TouchedSet *prepare_edits (GPtrArray *changes, const char **newest, gint64 *latest_ms);

HearthSyncPagePrep *
hearth_sync_page_prepare (GPtrArray *changes)
{
  HearthSyncPagePrep *prep = g_new0 (HearthSyncPagePrep, 1);

  prep->packed = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, bytes_unref0);
  for (guint i = 0; changes != NULL && i < changes->len; i++)
    {
      const HearthChange *c = changes->pdata[i];
      GHashTableIter iter;
      gpointer key, value;

      /* What apply_immutable() binds (apply_change()'s tables). */
      if (c->kind == HEARTH_CHANGE_EDIT || c->kind == HEARTH_CHANGE_EDITS || c->table == NULL || c->fields == NULL ||
          (strcmp (c->table, "submissions") != 0 && strcmp (c->table, "reviews") != 0))
        continue;
      g_hash_table_iter_init (&iter, c->fields);
      while (g_hash_table_iter_next (&iter, &key, &value))
        if (value != NULL && hearth_packed_column (c->table, key))
          {
            gsize len = strlen (value), packed_len = 0;
            guint8 *packed = hearth_text_pack (value, len, &packed_len);

            g_hash_table_insert (prep->packed, value,
                                 packed != NULL ? g_bytes_new_take (packed, packed_len) : NULL);
          }
    }
  if (changes != NULL)
    prep->ready = prepare_edits (changes, &prep->newest, &prep->latest_ms);
  return prep;
}

void
hearth_sync_page_prep_free (HearthSyncPagePrep *prep)
{
  if (prep == NULL)
    return;
  touched_set_free (prep->touched);
  touched_set_free (prep->ready);
  g_hash_table_unref (prep->packed);
  g_free (prep);
}

static void
string_free (gpointer data)
{
  g_string_free (data, TRUE);
}

/* A change's record, for a set of them: its table and id. */
static guint
change_record_hash (gconstpointer key)
{
  const HearthChange *c = key;

  return hearth_record_hash (c->table, c->id);
}

static gboolean
change_record_equal (gconstpointer a, gconstpointer b)
{
  const HearthChange *x = a, *y = b;

  return hearth_record_equal (x->table, x->id, y->table, y->id);
}

/* Which records of the page's edits the store holds edits of, in one
 * statement a table instead of one a record (@touched's held): read
 * before the page writes any (its record_writes rows are written once its
 * changes are read, insert_pending()), so the same answer as each
 * record's probe at its first edit. An edit apply_field_edit() will refuse
 * anyway (a table that takes none, an id that is no UUID) is left out. */
static gboolean
probe_records (sqlite3 *db, GPtrArray *changes, TouchedSet *touched, GError **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (change_record_hash, change_record_equal);
  g_autoptr(GHashTable) lists = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, string_free);
  GHashTableIter iter;
  gpointer table, list;

  for (guint i = 0; i < changes->len; i++)
    {
      const HearthChange *c = changes->pdata[i];
      GString *ids;

      if ((c->kind != HEARTH_CHANGE_EDIT && c->kind != HEARTH_CHANGE_EDITS) || !hearth_sync_is_edit_table (c->table) ||
          c->id == NULL || !hearth_change_is_uuid (c->id) || !g_hash_table_add (seen, (gpointer) c))
        continue;
      ids = g_hash_table_lookup (lists, c->table);
      if (ids == NULL)
        g_hash_table_insert (lists, c->table, (ids = g_string_new ("[")));
      /* A UUID: nothing to escape. */
      if (ids->len > 1)
        g_string_append_c (ids, ',');
      g_string_append_c (ids, '"');
      g_string_append (ids, c->id);
      g_string_append_c (ids, '"');
    }
  g_hash_table_iter_init (&iter, lists);
  while (g_hash_table_iter_next (&iter, &table, &list))
    {
      GString *ids = list;
      sqlite3_stmt *st;
      int rc;

      g_string_append_c (ids, ']');
      if ((st = hearth_sync_prepare (db, "SELECT j.value FROM json_each (?2) AS j WHERE EXISTS "
                                         "(SELECT 1 FROM record_writes WHERE rkey = hearth_edit_key (?1, j.value, NULL) "
                                         "AND record_table = ?1 AND record_id = j.value)")) == NULL)
        return hearth_sync_sql_failed (db, error);
      sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 2, ids->str, (int) ids->len, SQLITE_STATIC);
      while ((rc = sqlite3_step (st)) == SQLITE_ROW)
        g_hash_table_add (touched->held, g_strconcat (table, " ", (const char *) sqlite3_column_text (st, 0), NULL));
      hearth_sync_finish (st);
      if (rc != SQLITE_DONE)
        return hearth_sync_sql_failed (db, error);
    }
  return TRUE;
}

/* The edit set of @field of @c's record as this store holds it, loaded
 * the first time the page touches the field and kept up to date by
 * apply_field_edit(): the merge reads it from memory. *@record is the
 * record's, looked up when %NULL (a change's first field). Returns NULL
 * with @error when the store fails. */
static EditSet *
touch (sqlite3 *db, TouchedSet *touched, const HearthChange *c, const char *field, Touched **record, GError **error)
{
  Touched *t = *record;
  EditSet *set;

  if (t == NULL)
    {
      Touched key = { .table = c->table, .id = c->id };

      t = g_hash_table_lookup (touched->index, &key);
    }
  if (t == NULL)
    {
      gboolean held = FALSE;

      /* probe_records() read it, unless the store holds no edit at all;
       * prepared without a store (@db NULL), every record is taken as
       * fresh until reconcile_held() knows better. */
      if (db != NULL && g_hash_table_size (touched->held) > 0)
        {
          g_autofree char *name = g_strconcat (c->table, " ", c->id, NULL);

          held = g_hash_table_contains (touched->held, name);
        }
      t = touched_alloc0 (touched, sizeof (Touched));
      t->table = c->table;
      t->id = c->id;
      t->key = hearth_store_edit_key (c->table, c->id, NULL);
      t->fields = g_ptr_array_new ();
      t->sets = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, edit_set_clear_func);
      t->fresh = !held;
      g_ptr_array_add (touched->order, t);
      g_hash_table_add (touched->index, t);
    }
  t->cursor = c->cursor;
  *record = t;
  set = g_hash_table_lookup (t->sets, field);
  if (set == NULL)
    {
      set = touched_alloc0 (touched, sizeof (EditSet));
      if (t->fresh)
        edit_set_init (set, c->table, field);
      else if (!load_edits (db, c->table, c->id, field, set, error))
        {
          edit_set_clear (set);
          return NULL;
        }
      g_ptr_array_add (t->fields, (gpointer) field);
      g_hash_table_insert (t->sets, (gpointer) field, set);
    }
  return set;
}

G_GNUC_PRINTF (2, 3) static gboolean
refuse (GError **error, const char *format, ...)
{
  va_list ap;

  va_start (ap, format);
  g_propagate_error (error, g_error_new_valist (HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID, format, ap));
  va_end (ap);
  return FALSE;
}

static gboolean
valid_version (const char *text, HearthHlc *out)
{
  HearthHlc scratch;

  return text != NULL && hearth_hlc_parse (text, out != NULL ? out : &scratch, NULL);
}

/* Whether @c's record and version can take edits (an id that is a
 * UUID, a version that is one and not far ahead of the center's time,
 * @latest_ms: the center's time as this device estimates it plus
 * HEARTH_SYNC_MAX_AHEAD_MS); else why not, in @error. What every field
 * edit of @c shares. */
static gboolean
check_record_version (const HearthChange *c, gint64 latest_ms, GError **error)
{
  HearthHlc version;

  if (c->id == NULL || !hearth_change_is_uuid (c->id))
    return refuse (error, _("“%s” is not a record id (a UUID)"), c->id != NULL ? c->id : "");
  if (!valid_version (c->hlc, &version))
    return refuse (error, _("“%s” is not a version"), c->hlc != NULL ? c->hlc : "");
  /* The center clamps every version it accepts (PROTOCOL.md section 6.3):
   * one far ahead of its clock is no center's, and taking it would move
   * this device's clock ahead for good, so its own edits would win every
   * conflict. */
  if (version.wall_ms > latest_ms)
    return refuse (error, _("version %s is %lld minutes ahead of the center's time: a center sends none more than "
                            "%d minutes ahead"),
                   c->hlc, (long long) ((version.wall_ms - latest_ms) / 60000 + HEARTH_SYNC_MAX_AHEAD_MS / 60000),
                   HEARTH_SYNC_MAX_AHEAD_MS / 60000);
  return TRUE;
}

/* Whether @stored is the edit of @value over @parents (@n of them, each
 * once) under its version: the same edit delivered again. */
static gboolean
same_edit (const EditRow *stored, const char *value, const char *const *parents, guint n)
{
  gboolean same = g_strcmp0 (stored->value, value) == 0 && g_strv_length (stored->parents) == n;

  for (guint i = 0; same && stored->parents[i] != NULL; i++)
    same = g_strv_contains (parents, stored->parents[i]);
  return same;
}

/* Joins the edit of @field (@value, @parents) under @c's version to its
 * field's set: a change of kind "edit", or one field of a change of kind
 * "edits" (PROTOCOL.md 6.1), which is the same edit. @shared: why
 * check_record_version() refuses @c, or %NULL; *@record: @c's record once
 * a field of it was touched (touch()), else %NULL. The checks and their
 * order are an edit's whatever its form, so a refusal is the same too. */
static gboolean
apply_field_edit (sqlite3 *db, const HearthChange *c, const char *field, const char *value_or_null,
                  const GPtrArray *parents_in, const GError *shared, TouchedSet *touched, Touched **record,
                  GError **error)
{
  guint n_parents = parents_in != NULL ? parents_in->len : 0, n = 0;
  /* The edit's row and its parents (each once, NULL-terminated) in one
   * piece of the page's arena (left there when the edit is refused). */
  EditRow *row = touched_alloc (touched, sizeof (EditRow) + (n_parents + 1) * sizeof (char *));
  char **parents = (char **) (row + 1);
  const char *joined = NULL;   /* the first edit of a field has none */
  gsize joined_len = 0;
  const char *value = value_or_null != NULL ? value_or_null : "";
  EditSet *set;

  parents[0] = NULL;
  /* Prepared without a store (@db NULL): a table whose fields only the
   * store knows is refused here, and the apply checks it again. */
  if (!hearth_sync_is_edit_table (c->table) || field == NULL ||
      !(db != NULL ? hearth_sync_is_field (db, c->table, field)
                   : hearth_change_table_fields (c->table) != NULL && hearth_change_is_field (c->table, field)))
    return refuse (error, _("%s has no field “%s”"), c->table, field != NULL ? field : "");
  if (shared != NULL)
    {
      g_propagate_error (error, g_error_copy (shared));
      return FALSE;
    }
  for (guint i = 0; i < n_parents; i++)
    {
      const char *p = parents_in->pdata[i];

      if (!valid_version (p, NULL))
        return refuse (error, _("“%s” is not a version"), p != NULL ? p : "");
      if (!g_strv_contains ((const char *const *) parents, p))
        {
          joined_len += (n > 0) + strlen (p);
          parents[n++] = (char *) p;
          parents[n] = NULL;
        }
    }

  /* The field's edits, from memory after the first of the page. */
  set = touch (db, touched, c, field, record, error);
  if (set == NULL)
    return FALSE;
  for (guint r = 0; r < set->rows.len; r++)
    {
      EditRow *stored = set->rows.pdata[r];
      gboolean same;

      if (strcmp (stored->hlc, c->hlc) != 0)
        continue;
      same = same_edit (stored, value, (const char *const *) parents, n);
      if (!same)
        return refuse (error, _("two different edits of %s.%s of %s carry the version %s"), c->table, field,
                       c->id, c->hlc);
      return TRUE;  /* delivered again: nothing changes */
    }
  if (n > 0)
    {
      char *at = touched_alloc (touched, joined_len + 1);

      joined = at;
      for (guint i = 0; i < n; i++)
        {
          gsize len = strlen (parents[i]);

          if (i > 0)
            *at++ = ' ';
          memcpy (at, parents[i], len);
          at += len;
        }
      *at = '\0';
    }
  {
    PendingEdit pending = { c, field, value, *record, joined, row };

    g_array_append_val (touched->pending, pending);
  }
  row->borrowed = TRUE;
  row->hlc = c->hlc;
  row->value = (char *) value;
  /* The write's origin: the device, after the version's time and counter. */
  row->origin = strlen (c->hlc) > 25 ? c->hlc + 25 : (char *) "";
  row->parents = parents;
  edit_set_add_in (touched, set, row);
  if (set->rows.len > 1)
    (*record)->multi = TRUE;
  return TRUE;
}

/* A change of kind "edit". */
static gboolean
apply_edit (sqlite3 *db, const HearthChange *c, TouchedSet *touched, gint64 latest_ms, GError **error)
{
  g_autoptr(GError) shared = NULL;
  Touched *record = NULL;

  check_record_version (c, latest_ms, &shared);
  return apply_field_edit (db, c, c->field, c->value, c->parents, shared, touched, &record, error);
}

static int
compare_records (gconstpointer a, gconstpointer b)
{
  const Touched *x = *(const Touched *const *) a, *y = *(const Touched *const *) b;
  int r;

  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  if ((r = strcmp (x->table, y->table)) != 0)
    return r;
  return strcmp (x->id, y->id);
}

/* Numbers the page's records in the order of their keys in the indexes
 * of record_writes and record_versions (hearth_edit_key(), migrations 0013, 0014),
 * which insert_pending() and insert_versions() write them in: one sort of
 * the records, not one of all their edits. */
static void
rank_records (TouchedSet *touched)
{
  g_autoptr(GPtrArray) sorted = g_ptr_array_sized_new (touched->order->len);

  for (guint i = 0; i < touched->order->len; i++)
    g_ptr_array_add (sorted, touched->order->pdata[i]);
  g_ptr_array_sort (sorted, compare_records);
  for (guint i = 0; i < sorted->len; i++)
    ((Touched *) sorted->pdata[i])->rank = i;
}

/* Orders two edits of one record by version, then field: a write's
 * fields together (insert_pending()). */
static int
compare_pending (gconstpointer a, gconstpointer b)
{
  const PendingEdit *x = *(const PendingEdit *const *) a;
  const PendingEdit *y = *(const PendingEdit *const *) b;
  int r;

  if ((r = strcmp (x->change->hlc, y->change->hlc)) != 0)
    return r;
  return strcmp (x->field, y->field);
}

/* Turns the connection's triggers off or back on; statements prepared
 * before are prepared again when next run (SQLite expires them). */
static gboolean
set_triggers (sqlite3 *db, gboolean on, GError **error)
{
  int now = -1;

  if (sqlite3_db_config (db, SQLITE_DBCONFIG_ENABLE_TRIGGER, on ? 1 : 0, &now) == SQLITE_OK && now == (on ? 1 : 0))
    return TRUE;
  g_set_error_literal (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_SQLITE,
                       on ? _("the store's triggers could not be turned back on")
                          : _("the store's triggers could not be turned off"));
  return FALSE;
}

/* Appends the member of @e to @json, a write's fields (migration 0014):
 * its value alone, or with its parents, and its wall time when it is
 * not the row's @wall. */
static void
append_member (GString *json, const PendingEdit *e, const char *wall)
{
  const char *own = e->change->wall != NULL ? e->change->wall : "";

  if (json->len > 1)
    g_string_append_c (json, ',');
  hearth_store_append_json_string (json, e->field);
  g_string_append_c (json, ':');
  if (e->parents == NULL && strcmp (own, wall) == 0)
    {
      hearth_store_append_json_string (json, e->value);
      return;
    }
  g_string_append_c (json, '[');
  hearth_store_append_json_string (json, e->value);
  g_string_append_c (json, ',');
  hearth_store_append_json_string (json, e->parents != NULL ? e->parents : "");
  if (strcmp (own, wall) != 0)
    {
      g_string_append_c (json, ',');
      hearth_store_append_json_string (json, own);
    }
  g_string_append_c (json, ']');
}

/* The wall time of the stored write (@table, @id, @hlc) in *@wall, NULL
 * when the store has no such write. A write whose stored fields are not
 * a JSON object (written by hand: every writer writes one) is refused, as
 * the table's trigger refuses it (migration 0016), which does not run
 * here (a page is applied with the triggers off): json_patch () would
 * replace it, not join the page's fields to it. */
static gboolean
stored_write (sqlite3 *db, const char *table, const char *id, const char *hlc, char **wall, GError **error)
{
  sqlite3_stmt *st;
  gboolean object = TRUE;
  int rc;

  *wall = NULL;
  if ((st = hearth_sync_prepare (db, "SELECT wall, CASE WHEN json_valid (fields) THEN json_type (fields) END IS 'object' "
                                     "FROM record_writes WHERE rkey = hearth_edit_key (?1, ?2, NULL) "
                                     "AND vkey = hearth_version_key (?3) AND record_table = ?1 AND record_id = ?2 "
                                     "AND hlc = ?3")) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, hlc, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      *wall = g_strdup ((const char *) sqlite3_column_text (st, 0));
      object = sqlite3_column_int (st, 1) != 0;
    }
  hearth_sync_finish (st);
  if (!object)
    {
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_SQLITE,
                   _("%s %s: the stored fields of its write %s are not a JSON object, and cannot be changed"),
                   table, id, hlc);
      g_clear_pointer (wall, g_free);
      return FALSE;
    }
  return rc == SQLITE_ROW || rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
}

/* Orders @touched's pending edits by record (rank_records()), counted
 * into place, then each record's few edits by version and field, and
 * groups them a write a group (@touched's sorted and groups); with
 * @json, each write's fields as they are when the store holds no write
 * of its record (a page prepared without the store, prepare_edits()). */
static void
write_groups (TouchedSet *touched, gboolean json)
{
  GArray *pending = touched->pending;
  guint n_records = touched->order->len;
  g_autofree guint *start = g_new0 (guint, n_records + 1);
  g_autofree guint *next = g_new (guint, n_records + 1);
  const PendingEdit **sorted = g_new (const PendingEdit *, pending->len + 1);
  g_autoptr(GString) text = json ? g_string_new (NULL) : NULL;

  for (guint i = 0; i < pending->len; i++)
    start[g_array_index (pending, PendingEdit, i).record->rank + 1]++;
  for (guint r = 0; r < n_records; r++)
    start[r + 1] += start[r];
  memcpy (next, start, sizeof (guint) * (n_records + 1));
  for (guint i = 0; i < pending->len; i++)
    {
      const PendingEdit *e = &g_array_index (pending, PendingEdit, i);

      sorted[next[e->record->rank]++] = e;
    }
  for (guint r = 0; r < n_records; r++)
    if (start[r + 1] - start[r] > 1)
      qsort (sorted + start[r], start[r + 1] - start[r], sizeof *sorted, compare_pending);
  touched->sorted = sorted;
  touched->groups = g_array_new (FALSE, FALSE, sizeof (WriteGroup));
  for (guint i = 0; i < pending->len;)
    {
      const PendingEdit *first = sorted[i];
      const HearthChange *c = first->change;
      WriteGroup g = { i, i + 1, NULL };

      while (g.to < pending->len && sorted[g.to]->record == first->record &&
             strcmp (sorted[g.to]->change->hlc, c->hlc) == 0)
        g.to++;
      if (json)
        {
          g_string_assign (text, "{");
          for (guint k = g.from; k < g.to; k++)
            append_member (text, sorted[k], c->wall != NULL ? c->wall : "");
          g_string_append_c (text, '}');
          g.json = touched_strndup (touched, text->str, text->len);
        }
      g_array_append_val (touched->groups, g);
      i = g.to;
    }
}

/* Writes the page's new edits, a row a write (record_writes, migration
 * 0014), in the order of their index's keys (write_groups()): a fresh
 * device's page brings thousands of records with random ids, and
 * inserted in key order their entries fill the index's pages one after
 * the other instead of all at once (the rows go to the table's end). The
 * sets they joined hold every edit of their fields, so no member is
 * there already (apply_field_edit() looked; reconcile_held() dropped
 * those the store held); but a write may be: the fields of one version
 * pulled as several changes of kind "edit" over two pages. A record the
 * store held no edit of (fresh) has none, nor one whose stored writes
 * are all under other versions (writes_new), and its writes are inserted
 * together (their rows made beforehand for a prepared page); another's
 * write is joined to its row when there is one. A row the table refuses
 * fails the page. */
static gboolean
insert_pending (sqlite3 *db, TouchedSet *touched, GError **error)
{
  GArray *pending = touched->pending;
  g_autofree const char **values = g_new (const char *, (gsize) pending->len * 5 + 1);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) json = g_string_new (NULL);
  guint rows = 0;

  if (touched->groups == NULL)
    write_groups (touched, FALSE);
  for (guint n = 0; n < touched->groups->len; n++)
    {
      const WriteGroup *g = &g_array_index (touched->groups, WriteGroup, n);
      const PendingEdit *first = touched->sorted[g->from];
      const HearthChange *c = first->change;
      g_autofree char *stored = NULL;
      const char *wall = c->wall != NULL ? c->wall : "";
      const char **row;

      /* Its rows made beforehand (prepare_edits()): a record the store
       * holds no write of, or none of these (reconcile_held()). */
      if ((first->record->fresh || first->record->writes_new) && g->json != NULL)
        {
          row = values + (gsize) rows++ * 5;
          row[0] = c->table;
          row[1] = c->id;
          row[2] = c->hlc;
          row[3] = wall;
          row[4] = g->json;
          continue;
        }
      if (!first->record->fresh && !stored_write (db, c->table, c->id, c->hlc, &stored, error))
        return FALSE;
      g_string_assign (json, "{");
      for (guint k = g->from; k < g->to; k++)
        if (!touched->sorted[k]->dropped)
          append_member (json, touched->sorted[k], stored != NULL ? stored : wall);
      /* Every one delivered again. */
      if (json->len == 1)
        continue;
      g_string_append_c (json, '}');
      if (stored != NULL)
        {
          /* Its other fields came with an earlier page: these join them. */
          if (!run (db, "UPDATE record_writes SET fields = json_patch (fields, ?4) "
                        "WHERE rkey = hearth_edit_key (?1, ?2, NULL) AND vkey = hearth_version_key (?3) "
                        "AND record_table = ?1 AND record_id = ?2 AND hlc = ?3",
                    error, 4, c->table, c->id, c->hlc, json->str))
            return FALSE;
        }
      else
        {
          row = values + (gsize) rows++ * 5;
          row[0] = c->table;
          row[1] = c->id;
          row[2] = c->hlc;
          row[3] = wall;
          row[4] = g_strndup (json->str, json->len);
          g_ptr_array_add (texts, (gpointer) row[4]);
        }
    }
  return insert_rows (db, "INSERT INTO record_writes (record_table, record_id, hlc, wall, fields)", NULL, 5, values,
                      rows, error);
}

static const char *const audit_fields[] = {
  "seq", "at", "actor", "device_id", "action", "record_table", "record_id", "fields", "prev_hash", "hash", NULL,
};

/* Another device's audit entry, kept beside this device's chain; this
 * device's own entries are in audit_log already. */
static gboolean
apply_audit (sqlite3 *db, const char *device_id, const HearthChange *c, GError **error)
{
  const char *values[G_N_ELEMENTS (audit_fields)];
  const char *seq_text = g_hash_table_lookup (c->fields, "seq");
  sqlite3_stmt *st = NULL;
  gint64 seq = 0;
  int rc;

  for (guint i = 0; audit_fields[i] != NULL; i++)
    {
      values[i] = g_hash_table_lookup (c->fields, audit_fields[i]);
      if (values[i] == NULL && !g_str_equal (audit_fields[i], "fields"))
        return refuse (error, _("audit entry %s has no “%s”"), c->id, audit_fields[i]);
    }
  if (g_hash_table_size (c->fields) > G_N_ELEMENTS (audit_fields) - 1 ||
      (g_hash_table_size (c->fields) == G_N_ELEMENTS (audit_fields) - 1 && values[7] == NULL))
    return refuse (error, _("audit entry %s has fields an audit entry does not have"), c->id);
  if (!g_ascii_string_to_signed (seq_text, 10, 1, G_MAXINT64, &seq, NULL))
    return refuse (error, _("audit entry %s has no sequence number"), c->id);
  if (g_str_equal (values[3], device_id))
    return TRUE;

  /* Inserted unless its place in the chain is taken (a fresh device's
   * pull: every one of them, without a read first: some 10,000 look-ups
   * that find nothing in a village pull); else compared. */
  if (!run (db, "INSERT INTO audit_foreign (device_id, seq, id, at, actor, action, record_table, record_id, fields, "
                "prev_hash, hash) VALUES (?, CAST (? AS INTEGER), ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (device_id, seq) DO NOTHING",
            error, 11, values[3], seq_text, c->id, values[1], values[2], values[4], values[5], values[6],
            values[7] != NULL ? values[7] : "", values[8], values[9]))
    return FALSE;
  if (sqlite3_changes (db) > 0)
    return TRUE;
  if ((st = hearth_sync_prepare (db, "SELECT id, at, actor, action, record_table, record_id, fields, prev_hash, hash "
                              "FROM audit_foreign WHERE device_id = ? AND seq = ?")) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, values[3], -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 2, seq);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      const char *want[] = { c->id, values[1], values[2], values[4], values[5], values[6],
                             values[7] != NULL ? values[7] : "", values[8], values[9] };
      gboolean same = TRUE;

      for (int i = 0; i < (int) G_N_ELEMENTS (want) && same; i++)
        same = g_strcmp0 ((const char *) sqlite3_column_text (st, i), want[i]) == 0;
      hearth_sync_finish (st);
      if (!same)
        return refuse (error, _("audit entry %s of device %s was received before with other content"), seq_text,
                       values[3]);
      return TRUE;
    }
  hearth_sync_finish (st);
  /* Nothing inserted and nothing there: not a row to read. */
  return rc == SQLITE_DONE ? TRUE : hearth_sync_sql_failed (db, error);
}

/* What an insert that leaves @column out stores in it: its default (the
 * schema's are constants), or NULL. */
static char *
column_default (sqlite3 *db, const char *table, const char *column)
{
  g_autofree char *expr = NULL;
  g_autofree char *sql = NULL;
  sqlite3_stmt *st = NULL;
  char *value = NULL;

  if (sqlite3_prepare_v2 (db, "SELECT dflt_value FROM pragma_table_info (?1) WHERE name = ?2", -1, &st, NULL)
      == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 2, column, -1, SQLITE_STATIC);
      if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_text (st, 0) != NULL)
        expr = g_strdup ((const char *) sqlite3_column_text (st, 0));
    }
  sqlite3_finalize (st);
  if (expr == NULL)
    return NULL;
  sql = g_strdup_printf ("SELECT %s", expr);
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step (st) == SQLITE_ROW &&
      sqlite3_column_text (st, 0) != NULL)
    value = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return value;
}


/* A submission or review: inserted once, never overwritten (PROTOCOL.md
 * section 6.2). */
/* Binds @text, a value of a packed column, as hearth_packed_bind() does:
 * packed already when @packed (a page's preparation) has it. */
static int
bind_packed (sqlite3_stmt *st, int index, const char *text, GHashTable *packed)
{
  gpointer done = NULL;

  if (text != NULL && packed != NULL && g_hash_table_lookup_extended (packed, text, NULL, &done))
    {
      gsize len = 0;
      gconstpointer data;

      if (done == NULL)
        return sqlite3_bind_text (st, index, text, -1, SQLITE_STATIC);
      /* Lives until the preparation is freed, after the statement. */
      data = g_bytes_get_data (done, &len);
      return sqlite3_bind_blob64 (st, index, data, len, SQLITE_STATIC);
    }
  return hearth_packed_bind (st, index, text);
}

/* Whether @names (the change's fields, in its order) are @touched's
 * last insert's columns, of @table: checked already, and its text is the
 * statement's. */
static gboolean
same_immutable (const TouchedSet *touched, const char *table, const GPtrArray *names)
{
  if (touched->immutable_names == NULL || touched->immutable_names->len != names->len ||
      strcmp (touched->immutable_table, table) != 0)
    return FALSE;
  for (guint i = 0; i < names->len; i++)
    if (strcmp (touched->immutable_names->pdata[i], names->pdata[i]) != 0)
      return FALSE;
  return TRUE;
}

static gboolean
apply_immutable (sqlite3 *db, const HearthChange *c, TouchedSet *touched, GError **error)
{
  GHashTable *packed = touched->packed;
  g_autoptr(GError) refused = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GString) sql = g_string_new (NULL);
  GHashTableIter iter;
  gpointer key;
  sqlite3_stmt *st = NULL;
  int rc;

  if (!hearth_change_is_uuid (c->id))
    return refuse (error, _("“%s” is not a record id (a UUID)"), c->id);
  g_hash_table_iter_init (&iter, c->fields);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, key);
  /* The columns of the last insert: checked, and its text made, then. */
  if (!same_immutable (touched, c->table, names))
    {
      for (guint i = 0; i < names->len; i++)
        if (g_str_equal (names->pdata[i], "id") || !has_column (db, c->table, names->pdata[i]))
          return refuse (error, _("%s has no column “%s”"), c->table, (const char *) names->pdata[i]);
      /* Inserted unless the id is there (a fresh device's pull: every one
       * of them, without a read first); else compared. */
      g_string_printf (sql, "INSERT INTO \"%s\" (id", c->table);
      for (guint i = 0; i < names->len; i++)
        {
          g_string_append (sql, ", \"");
          g_string_append (sql, names->pdata[i]);
          g_string_append_c (sql, '"');
        }
      g_string_append (sql, ") VALUES (?");
      for (guint i = 0; i < names->len; i++)
        g_string_append (sql, ", ?");
      g_string_append (sql, ") ON CONFLICT (id) DO NOTHING");
      g_free (touched->immutable_table);
      touched->immutable_table = g_strdup (c->table);
      if (touched->immutable_names != NULL)
        g_ptr_array_unref (touched->immutable_names);
      touched->immutable_names = g_ptr_array_new_full (names->len, g_free);
      for (guint i = 0; i < names->len; i++)
        g_ptr_array_add (touched->immutable_names, g_strdup (names->pdata[i]));
      g_free (touched->immutable_sql);
      touched->immutable_sql = g_strdup (sql->str);
    }
  /* The same text at the same address: the statement cache's slot. */
  if ((st = hearth_sync_prepare (db, touched->immutable_sql)) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, c->id, -1, SQLITE_STATIC);
  for (guint i = 0; i < names->len; i++)
    if (hearth_packed_column (c->table, names->pdata[i]))
      bind_packed (st, (int) i + 2, g_hash_table_lookup (c->fields, names->pdata[i]), packed);
    else
      sqlite3_bind_text (st, (int) i + 2, g_hash_table_lookup (c->fields, names->pdata[i]), -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  hearth_sync_finish (st);
  if (rc == SQLITE_DONE && sqlite3_changes (db) > 0)
    return TRUE;
  /* A value the table refuses: that refusal, unless the id is there (the
   * content differs, as before an insert was tried). */
  if (rc != SQLITE_DONE)
    {
      hearth_sync_sql_failed (db, &refused);
      if (!recoverable (refused))
        {
          g_propagate_error (error, g_steal_pointer (&refused));
          return FALSE;
        }
    }
  g_string_printf (sql, "SELECT * FROM \"%s\" WHERE id = ?", c->table);
  if ((st = hearth_sync_prepare (db, sql->str)) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, c->id, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      gboolean same = TRUE;

      /* A column the change leaves out holds what the insert gave it: the
       * same change delivered again is the same content. */
      for (int i = 0; i < sqlite3_column_count (st) && same; i++)
        {
          const char *name = sqlite3_column_name (st, i);

          if (g_str_equal (name, "id"))
            continue;
          /* Before sqlite3_column_text(), which would make a packed BLOB
           * look like text. */
          if (hearth_packed_column (c->table, name))
            {
              g_autoptr(GError) damaged = NULL;
              g_autofree char *text = hearth_packed_column_text (st, i, c->table, c->id, &damaged);

              /* Not the same content, and the message says why. */
              if (damaged != NULL)
                {
                  hearth_sync_finish (st);
                  return refuse (error, "%s", damaged->message);
                }
              same = g_strcmp0 (text, g_hash_table_lookup (c->fields, name)) == 0;
            }
          else if (g_hash_table_contains (c->fields, name))
            same = g_strcmp0 ((const char *) sqlite3_column_text (st, i), g_hash_table_lookup (c->fields, name)) == 0;
          else
            {
              g_autofree char *dflt = column_default (db, c->table, name);
              same = g_strcmp0 ((const char *) sqlite3_column_text (st, i), dflt) == 0;
            }
        }
      hearth_sync_finish (st);
      if (!same)
        return refuse (error, _("%s %s was recorded with other content"), c->table, c->id);
      return TRUE;
    }
  hearth_sync_finish (st);
  if (rc != SQLITE_DONE)
    return hearth_sync_sql_failed (db, error);
  /* Not there: the insert was refused (an insert that did nothing found
   * the id). */
  if (refused != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&refused));
      return FALSE;
    }
  return TRUE;
}

/* A form, thresholds or division names the center published: kept once
 * per version in published_forms (migrations 7 and 10); the same version
 * again changes nothing. */
static gboolean
apply_published (sqlite3 *db, const HearthChange *c, const char *now, GError **error)
{
  gboolean form = g_str_equal (c->table, "forms");
  const char *form_id = form ? g_hash_table_lookup (c->fields, "form_id") : NULL;
  const char *version = g_hash_table_lookup (c->fields, "version");
  const char *xml = g_hash_table_lookup (c->fields, "xml");
  const char *title = g_hash_table_lookup (c->fields, "title");
  const char *published_at = g_hash_table_lookup (c->fields, "published_at");
  sqlite3_stmt *st = NULL;
  int rc;

  if (!hearth_change_is_uuid (c->id))
    return refuse (error, _("“%s” is not a record id (a UUID)"), c->id);
  if ((form && form_id == NULL) || version == NULL || xml == NULL)
    return refuse (error, _("%s %s needs a version and its XML"), c->table, c->id);
  if ((st = hearth_sync_prepare (db, "SELECT xml FROM published_forms WHERE id = ?")) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, c->id, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      gboolean same = g_strcmp0 ((const char *) sqlite3_column_text (st, 0), xml) == 0;

      hearth_sync_finish (st);
      if (!same)
        return refuse (error, _("%s %s was recorded with other content"), c->table, c->id);
      return TRUE;
    }
  hearth_sync_finish (st);
  if (rc != SQLITE_DONE)
    return hearth_sync_sql_failed (db, error);
  return run (db, "INSERT INTO published_forms (id, kind, form_id, version, title, xml, published_at, received_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              error, 8, c->id, form ? "form" : c->table, form_id, version, title != NULL ? title : "", xml,
              published_at != NULL ? published_at : "", now);
}

static gboolean
apply_change (sqlite3 *db, const char *device_id, const HearthChange *c, TouchedSet *touched, const char *now,
              gint64 latest_ms, GError **error)
{
  if (c->table == NULL || c->id == NULL)
    return refuse (error, _("a change without a table or an id"));
  if (c->kind == HEARTH_CHANGE_EDIT)
    return apply_edit (db, c, touched, latest_ms, error);
  if (c->fields == NULL)
    return refuse (error, _("%s %s has no fields"), c->table, c->id);
  if (g_str_equal (c->table, "audit"))
    return apply_audit (db, device_id, c, error);
  if (g_str_equal (c->table, "submissions") || g_str_equal (c->table, "reviews"))
    return apply_immutable (db, c, touched, error);
  if (g_str_equal (c->table, "forms") || g_str_equal (c->table, "thresholds") || g_str_equal (c->table, "divisions"))
    return apply_published (db, c, now, error);
  return refuse (error, _("“%s” is not a table of records"), c->table);
}

static gboolean
note_rejected (sqlite3 *db, const char *table, const char *id, const char *field, const char *hlc, gint64 cursor,
               const char *message, const char *now, GError **error)
{
  g_autofree char *cursor_text = g_strdup_printf ("%" G_GINT64_FORMAT, cursor);

  g_debug ("could not apply %s %s %s: %s", table, id, field != NULL ? field : "", message);
  return run (db, "INSERT OR IGNORE INTO sync_apply_errors (record_table, record_id, field, hlc, cursor, message, at) "
                  "VALUES (?, ?, ?, ?, CAST (? AS INTEGER), ?, ?)",
              error, 7, table != NULL ? table : "", id != NULL ? id : "", field != NULL ? field : "",
              hlc != NULL ? hlc : "", cursor_text, message, now);
}

/* A per-change error leaves the rest of the page to apply; any other
 * (the database failing) abandons the page. */
static gboolean
recoverable (const GError *error)
{
  return g_error_matches (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID);
}

/* A change of kind "edits": each field as the change of kind "edit" it
 * stands for (PROTOCOL.md 6.1), with the record looked up and the version
 * checked once. A field edit refused is noted as that edit's would be
 * (note_rejected(), counted in *@rejected) and the others are applied.
 * Returns how many were applied, or -1 with @error when the store fails. */
static int
apply_edits (sqlite3 *db, const HearthChange *c, TouchedSet *touched, const char *now, gint64 latest_ms,
             guint *rejected, GError **error)
{
  g_autoptr(GError) shared = NULL;
  Touched *record = NULL;
  int applied = 0;

  /* The readers take none without fields (hearth_change_valid()). */
  if (c->edits == NULL || c->edits->len == 0)
    {
      g_autofree char *message = g_strdup_printf (_("%s %s has no fields"), c->table != NULL ? c->table : "",
                                                  c->id != NULL ? c->id : "");

      if (!note_rejected (db, c->table, c->id, NULL, c->hlc, c->cursor, message, now, error))
        return -1;
      (*rejected)++;
      return 0;
    }
  if (c->table == NULL || c->id == NULL)
    shared = g_error_new (HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
                          _("a change without a table or an id"));
  else
    check_record_version (c, latest_ms, &shared);
  for (guint i = 0; i < c->edits->len; i++)
    {
      const HearthChangeField *e = c->edits->pdata[i];
      g_autoptr(GError) local = NULL;

      /* A change without a table or an id is refused before its field. */
      if (c->table == NULL || c->id == NULL)
        local = g_error_copy (shared);
      else if (apply_field_edit (db, c, e->field, e->value, e->parents, shared, touched, &record, &local))
        {
          applied++;
          continue;
        }
      if (!recoverable (local))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return -1;
        }
      if (!note_rejected (db, c->table, c->id, e->field, c->hlc, c->cursor, local->message, now, error))
        return -1;
      (*rejected)++;
    }
  return applied;
}

/* ---- a page's edits prepared without the store ------------------------------------------ */

/* On unless a test turns it off (hearth_sync_apply_set_prepared()). */
static gint prepared_off;
static gint prepared_taken;

void
hearth_sync_apply_set_prepared (gboolean enabled)
{
  g_atomic_int_set (&prepared_off, !enabled);
}

guint
hearth_sync_apply_prepared_taken (void)
{
  return (guint) g_atomic_int_and (&prepared_taken, 0);
}

static void rank_records (TouchedSet *touched);

static int compare_names (gconstpointer a, gconstpointer b);
static void versions_json (GString *json, GPtrArray *keys, GPtrArray *fields, GPtrArray *onlys);

/* For each record of a prepared page the fast path would take, were the
 * store to hold no edit of it (fresh_single()): its fields by name and
 * its row of record_versions, which create_fresh() and insert_versions()
 * take instead of making them. */
static void
prepare_fresh_rows (TouchedSet *touched)
{
  g_autoptr(GPtrArray) keys = g_ptr_array_new ();   /* versions_json()'s */
  g_autoptr(GPtrArray) onlys = g_ptr_array_new ();
  g_autoptr(GString) json = g_string_new (NULL);

  for (guint i = 0; i < touched->order->len; i++)
    {
      Touched *t = touched->order->pdata[i];

      if (!t->fresh || t->multi || t->fields->len == 0)
        continue;
      t->sorted_fields = g_ptr_array_sized_new (t->fields->len);
      for (guint k = 0; k < t->fields->len; k++)
        g_ptr_array_add (t->sorted_fields, t->fields->pdata[k]);
      g_ptr_array_sort (t->sorted_fields, compare_names);
      g_ptr_array_set_size (onlys, 0);
      for (guint k = 0; k < t->sorted_fields->len; k++)
        {
          EditSet *set = g_hash_table_lookup (t->sets, t->sorted_fields->pdata[k]);

          g_ptr_array_add (onlys, set->rows.pdata[0]);
        }
      versions_json (json, keys, t->sorted_fields, onlys);
      t->versions_json = touched_strndup (touched, json->str, json->len);
    }
}

/* The page's edits (its changes of kind "edit" and "edits") joined to
 * their records and fields as apply_field_edit() joins them, checked as
 * it checks them, and the records ranked (rank_records()), with no store:
 * on the thread that fetches the next page while the store applies one
 * (hearth_sync_page_prepare()). Every record is taken as one the store
 * holds no edit of; reconcile_held() then loads the edits of those it
 * holds. @newest: the largest version of the edits; @latest_ms: the
 * latest wall time of their versions, which the apply compares with the
 * center's time (check_record_version()). NULL when any edit would be
 * refused, or needs the store to check it (a table whose fields only the
 * store knows): that page's apply does everything itself, so that its
 * refusals are noted where and as they always were. */
static TouchedSet *
prepare_edits (GPtrArray *changes, const char **newest, gint64 *latest_ms)
{
  TouchedSet *touched = touched_set_new ();

  *newest = NULL;
  *latest_ms = G_MININT64;
  for (guint i = 0; i < changes->len; i++)
    {
      const HearthChange *c = changes->pdata[i];
      Touched *record = NULL;
      HearthHlc version;

      if (c->kind != HEARTH_CHANGE_EDIT && c->kind != HEARTH_CHANGE_EDITS)
        continue;
      if (c->table == NULL || c->id == NULL || !hearth_change_is_uuid (c->id) || !valid_version (c->hlc, &version))
        goto refused;
      if (c->kind == HEARTH_CHANGE_EDIT)
        {
          if (!apply_field_edit (NULL, c, c->field, c->value, c->parents, NULL, touched, &record, NULL))
            goto refused;
        }
      else
        {
          if (c->edits == NULL || c->edits->len == 0)
            goto refused;
          for (guint e = 0; e < c->edits->len; e++)
            {
              const HearthChangeField *f = c->edits->pdata[e];

              if (!apply_field_edit (NULL, c, f->field, f->value, f->parents, NULL, touched, &record, NULL))
                goto refused;
            }
        }
      *latest_ms = MAX (*latest_ms, version.wall_ms);
      if (g_strcmp0 (c->hlc, *newest) > 0)
        *newest = c->hlc;
    }
  rank_records (touched);
  write_groups (touched, TRUE);
  prepare_fresh_rows (touched);
  return touched;

refused:
  touched_set_free (touched);
  *newest = NULL;
  return NULL;
}

/* Skips the JSON whitespace at *@at (before @end). */
static void
json_skip_space (const char **at, const char *end)
{
  while (*at < end && (**at == ' ' || **at == '\t' || **at == '\n' || **at == '\r'))
    (*at)++;
}

/* Skips the JSON string at *@at (its opening quote) to past its closing
 * quote; FALSE when it does not end before @end. */
static gboolean
json_skip_string (const char **at, const char *end)
{
  const char *p = *at + 1;

  while (p < end && *p != '"')
    p += *p == '\\' ? 2 : 1;
  if (p >= end)
    return FALSE;
  *at = p + 1;
  return TRUE;
}

/* Skips the JSON value at *@at (a string, an array or object with
 * whatever is in it, or a number or literal) to the character after it;
 * FALSE when it is cut short or holds a single quote or a slash outside
 * its strings (JSON5's). Not a validation: json_each() reads the text
 * when it matters (record_writes_may_hold()). */
static gboolean
json_skip_value (const char **at, const char *end)
{
  const char *p = *at;
  guint depth = 0;

  if (p >= end)
    return FALSE;
  if (*p == '"')
    return json_skip_string (at, end);
  if (*p != '[' && *p != '{')
    {
      /* A number or a literal: up to what ends it. A quote or a slash
       * in it is JSON5's (a single-quoted string, a comment), which may
       * hide what it reads as a key: given up on. */
      while (p < end && strchr (",}] \t\n\r", *p) == NULL)
        {
          if (*p == '\'' || *p == '/')
            return FALSE;
          p++;
        }
      if (p == *at)
        return FALSE;
      *at = p;
      return TRUE;
    }
  while (p < end)
    {
      if (*p == '"')
        {
          if (!json_skip_string (&p, end))
            return FALSE;
          continue;
        }
      /* JSON5's single-quoted string or comment, outside a string: a
       * double quote in it would start a string this does not end where
       * its reader does, and hide a key after it (record_writes_may_hold()). */
      if (*p == '\'' || *p == '/')
        return FALSE;
      if (*p == '[' || *p == '{')
        depth++;
      else if ((*p == ']' || *p == '}') && --depth == 0)
        {
          *at = p + 1;
          return TRUE;
        }
      p++;
    }
  return FALSE;
}

/* Whether a write's fields (@json, @len bytes: its row of record_writes,
 * migration 0014) may hold a member named one of @names: FALSE only when
 * it is an object read to its end, every key a plain string (no escape)
 * and none of them. Anything else (an escape, JSON5's single quotes or
 * comments, a cut text) answers TRUE, and the caller reads the row
 * through field_edits, as always. */
static gboolean
record_writes_may_hold (const char *json, gsize len, const GPtrArray *names)
{
  const char *p = json, *end = json + len;

  json_skip_space (&p, end);
  if (p >= end || *p++ != '{')
    return TRUE;
  json_skip_space (&p, end);
  if (p < end && *p == '}')
    goto closed;
  for (;;)
    {
      const char *key;
      gsize key_len;

      if (p >= end || *p != '"')
        return TRUE;
      key = ++p;
      while (p < end && *p != '"' && *p != '\\')
        p++;
      if (p >= end || *p != '"')
        return TRUE;
      key_len = (gsize) (p - key);
      /* The lengths first: a key holding a NUL byte is not a name that
       * ends there, and a name shorter than the key is not read past its
       * end. */
      for (guint i = 0; i < names->len; i++)
        if (strlen (names->pdata[i]) == key_len && memcmp (names->pdata[i], key, key_len) == 0)
          return TRUE;
      p++;
      json_skip_space (&p, end);
      if (p >= end || *p++ != ':')
        return TRUE;
      json_skip_space (&p, end);
      if (!json_skip_value (&p, end))
        return TRUE;
      json_skip_space (&p, end);
      if (p < end && *p == ',')
        {
          p++;
          json_skip_space (&p, end);
          continue;
        }
      if (p < end && *p == '}')
        break;
      return TRUE;
    }
closed:
  p++;
  json_skip_space (&p, end);
  return p != end;
}

/* Whether a page's edits of @t (its sets, before the store's edits
 * join them: reconcile_held()) include one under @hlc. */
static gboolean
page_has_version (Touched *t, const char *hlc)
{
  for (guint f = 0; f < t->fields->len; f++)
    {
      EditSet *set = g_hash_table_lookup (t->sets, t->fields->pdata[f]);

      for (guint r = 0; r < set->rows.len; r++)
        if (strcmp (set->rows.pdata[r]->hlc, hlc) == 0)
          return TRUE;
    }
  return FALSE;
}

/* Whether the store holds no edit of any of the fields a page touched
 * of @t, nor a write under a version of the page's edits of it (*@none),
 * read from its writes' rows as stored: most records a page brings more
 * of hold edits of other fields only (a household's later visit), and
 * reading them through field_edits (json_each() of every write, each
 * field a row: some 17,800 rows in a village pull's 2,600 such records)
 * to throw every row away was most of what loading them cost. */
static gboolean
record_holds_none_of (sqlite3 *db, Touched *t, gboolean *none, GError **error)
{
  sqlite3_stmt *st;
  int rc = SQLITE_DONE;

  *none = TRUE;
  if ((st = hearth_sync_prepare (db, "SELECT hlc, fields FROM record_writes WHERE rkey = hearth_edit_key (?1, ?2, NULL) "
                                     "AND record_table = ?1 AND record_id = ?2")) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, t->table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, t->id, -1, SQLITE_STATIC);
  while (*none && (rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      const char *hlc = (const char *) sqlite3_column_text (st, 0);
      const char *fields = (const char *) sqlite3_column_text (st, 1);

      if (hlc == NULL || fields == NULL || page_has_version (t, hlc) ||
          record_writes_may_hold (fields, (gsize) sqlite3_column_bytes (st, 1), t->fields))
        *none = FALSE;
    }
  if (!*none)
    rc = SQLITE_DONE;   /* the rest unread */
  hearth_sync_finish (st);
  return rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
}

/* The edits the store holds of each field a page touched of @t, in
 * *@sets (one EditSet a field of @t's, in its order; free with
 * edit_set_clear() and g_free()): what load_edits() loads for each, read
 * in one statement for the record instead of one a field (each read every
 * write of the record and its fields' JSON); none read when its writes
 * hold none of those fields (record_holds_none_of()). */
static gboolean
load_record_edits (sqlite3 *db, Touched *t, EditSet **sets, GError **error)
{
  g_autoptr(GHashTable) at = NULL;
  sqlite3_stmt *st = NULL;
  gboolean none = FALSE;
  int rc;

  *sets = g_new0 (EditSet, t->fields->len);
  for (guint f = 0; f < t->fields->len; f++)
    edit_set_init (&(*sets)[f], t->table, t->fields->pdata[f]);
  if (!record_holds_none_of (db, t, &none, error))
    {
      g_clear_pointer (sets, g_free);
      return FALSE;
    }
  /* Nothing to load, and no write of the page's joins a stored one. */
  t->writes_new = none;
  if (none)
    return TRUE;
  at = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint f = 0; f < t->fields->len; f++)
    g_hash_table_insert (at, t->fields->pdata[f], &(*sets)[f]);
  if ((st = hearth_sync_prepare (db, "SELECT field, hlc, parents, value, origin FROM field_edits "
                                     "WHERE rkey = hearth_edit_key (?1, ?2, NULL) AND record_table = ?1 "
                                     "AND record_id = ?2")) == NULL)
    rc = SQLITE_ERROR;
  else
    {
      sqlite3_bind_text (st, 1, t->table, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 2, t->id, -1, SQLITE_STATIC);
      while ((rc = sqlite3_step (st)) == SQLITE_ROW)
        {
          EditSet *set = g_hash_table_lookup (at, (const char *) sqlite3_column_text (st, 0));
          EditRow *r;

          if (set == NULL)
            continue;
          r = g_new0 (EditRow, 1);
          r->hlc = g_strdup ((const char *) sqlite3_column_text (st, 1));
          r->parents = hearth_sync_split_versions ((const char *) sqlite3_column_text (st, 2));
          r->value = g_strdup ((const char *) sqlite3_column_text (st, 3));
          r->origin = g_strdup ((const char *) sqlite3_column_text (st, 4));
          edit_set_add (set, r);
        }
      hearth_sync_finish (st);
    }
  if (rc != SQLITE_DONE)
    {
      for (guint f = 0; f < t->fields->len; f++)
        edit_set_clear (&(*sets)[f]);
      g_clear_pointer (sets, g_free);
      return hearth_sync_sql_failed (db, error);
    }
  for (guint f = 0; f < t->fields->len; f++)
    edit_set_seal (&(*sets)[f]);
  return TRUE;
}

/* A prepared page's records that the store holds edits of
 * (probe_records(), in @touched's held): each field the page touched gets
 * the edits the store holds of it (load_edits()), then the page's after
 * them, as touch() and apply_field_edit() would have made its set; an
 * edit the store holds already is delivered again and left out (its
 * record_writes member, @touched's pending, dropped). *@usable is cleared, and
 * nothing is written, when the store holds another edit under a page
 * edit's version: the apply then starts over without the preparation,
 * and refuses that edit where it always did. */
static gboolean
reconcile_held (sqlite3 *db, TouchedSet *touched, gboolean *usable, GError **error)
{
  g_autoptr(GPtrArray) again = NULL;   /* EditRow: the page's edits the store holds */
  EditSet *stored_sets = NULL;         /* a record's, by its fields: load_record_edits() */

  *usable = TRUE;
  if (g_hash_table_size (touched->held) == 0)
    return TRUE;
  again = g_ptr_array_new_with_free_func (edit_row_free);
  for (guint i = 0; i < touched->order->len; i++)
    {
      Touched *t = touched->order->pdata[i];
      g_autofree char *name = g_strconcat (t->table, " ", t->id, NULL);

      if (!g_hash_table_contains (touched->held, name))
        continue;
      t->fresh = FALSE;
      t->multi = FALSE;
      if (!load_record_edits (db, t, &stored_sets, error))
        return FALSE;
      for (guint f = 0; f < t->fields->len; f++)
        {
          EditSet *set = g_hash_table_lookup (t->sets, t->fields->pdata[f]);
          EditSet loaded = stored_sets[f];
          EditRow **rows = set->rows.pdata;
          /* Its vector when it is not in the page's arena. */
          g_autofree EditRow **own = set->rows.in_arena ? NULL : rows;
          gsize n = set->rows.len;
          guint stored;

          memset (&stored_sets[f], 0, sizeof (EditSet));
          stored = loaded.rows.len;
          /* The page's rows, in its order, each once already. */
          memset (&set->rows, 0, sizeof set->rows);
          for (gsize r = 0; r < n; r++)
            {
              EditRow *row = rows[r];
              const EditRow *held = NULL;

              for (guint s = 0; s < stored && held == NULL; s++)
                if (strcmp (((EditRow *) loaded.rows.pdata[s])->hlc, row->hlc) == 0)
                  held = loaded.rows.pdata[s];
              if (held == NULL)
                edit_set_add (&loaded, row);
              else
                {
                  g_ptr_array_add (again, row);
                  if (!same_edit (held, row->value, (const char *const *) row->parents,
                                  g_strv_length (row->parents)))
                    *usable = FALSE;
                }
              if (!*usable)
                {
                  /* The rest are freed here, the set's with the page. */
                  for (gsize k = r + 1; k < n; k++)
                    edit_row_free (rows[k]);
                  edit_set_clear (&loaded);
                  for (guint k = f + 1; k < t->fields->len; k++)
                    edit_set_clear (&stored_sets[k]);
                  g_free (stored_sets);
                  return TRUE;
                }
            }
          edit_set_clear (set);
          *set = loaded;
        }
      g_clear_pointer (&stored_sets, g_free);
    }
  if (again->len > 0)
    {
      g_autoptr(GHashTable) left = g_hash_table_new (g_direct_hash, g_direct_equal);

      for (guint i = 0; i < again->len; i++)
        g_hash_table_add (left, again->pdata[i]);
      for (guint i = 0; i < touched->pending->len; i++)
        if (g_hash_table_contains (left, g_array_index (touched->pending, PendingEdit, i).row))
          g_array_index (touched->pending, PendingEdit, i).dropped = TRUE;
    }
  return TRUE;
}

/* ---- the fresh record's fast path -------------------------------------------------------- */

/* On unless a test turns it off (hearth_sync_apply_set_fresh_path()). */
static gint fresh_path_off;
static gint fresh_path_taken;

void
hearth_sync_apply_set_fresh_path (gboolean enabled)
{
  g_atomic_int_set (&fresh_path_off, !enabled);
}

guint
hearth_sync_apply_fresh_path_taken (void)
{
  return (guint) g_atomic_int_and (&fresh_path_taken, 0);
}

/* Whether @t is a record this store held no edit of when the page first
 * touched it and each field the page brought has one edit: the merge of
 * one edit is that edit (PROTOCOL.md section 6.3: the only head, no
 * conflicts), and field_edits holds no other field of it. A field whose
 * edit was refused has none. */
static gboolean
fresh_single (Touched *t)
{
  /* A fresh record's sets hold only the page's edits of it, one at least
   * (touch() makes a set for the edit apply_field_edit() then adds): @multi
   * says whether one holds two. */
  if (!t->fresh || t->multi || g_atomic_int_get (&fresh_path_off))
    return FALSE;
  return t->fields->len > 0;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* A field's version of a record created by the fast path, written with
 * the page's others in the order of their index's keys (insert_versions()). Borrowed from the
 * page's Touched and its edit sets. */
typedef struct {
  const Touched *record;
  const char *field;
  const EditRow *only;
} PendingVersion;

/* The versions of a record the fast path has written (or left waiting
 * for its required columns), queued on @versions: materialize_fresh(). */
static void
queue_fresh_versions (Touched *t, GPtrArray *fields, GArray *versions)
{
  for (guint i = 0; i < fields->len; i++)
    {
      EditSet *set = g_hash_table_lookup (t->sets, fields->pdata[i]);
      PendingVersion v = { t, fields->pdata[i], set->rows.pdata[0] };

      g_array_append_val (versions, v);
    }
}

/* materialize() of a record fresh_single() holds, written straight from
 * its edits: no field list read back, no merge, no savepoint. The record
 * first, once every required column is there (its one statement writes
 * all or nothing: a value its table refuses leaves the store as it was),
 * then each field's version, queued on @versions. The same rows as
 * materialize(). @inserted: set when the record was created (else its
 * edits wait for its required columns). */
static gboolean
materialize_fresh (sqlite3 *db, Touched *t, const char *now, GArray *versions, gboolean *inserted, GError **error)
{
  g_autoptr(GPtrArray) fields = g_ptr_array_sized_new (t->fields->len);   /* borrowed from @t */
  g_autoptr(GPtrArray) required = hearth_sync_required_columns (db, t->table);
  gboolean complete = TRUE;

  for (guint i = 0; i < t->fields->len; i++)
    g_ptr_array_add (fields, t->fields->pdata[i]);
  g_ptr_array_sort (fields, compare_names);
  for (guint i = 0; i < required->len && complete; i++)
    complete = g_hash_table_contains (t->sets, required->pdata[i]);
  /* Else its edits wait in field_edits. */
  if (complete)
    {
      g_autoptr(GPtrArray) values = g_ptr_array_sized_new (fields->len);   /* borrowed from @t's edit sets */

      for (guint i = 0; i < fields->len; i++)
        {
          EditSet *set = g_hash_table_lookup (t->sets, fields->pdata[i]);

          g_ptr_array_add (values, ((EditRow *) set->rows.pdata[0])->value);
        }
      if (!insert_record (db, t->table, t->id, now, fields, values, error))
        return FALSE;
      *inserted = TRUE;
      g_atomic_int_inc (&fresh_path_taken);
    }
  queue_fresh_versions (t, fields, versions);
  return TRUE;
}

/* A record's row of record_versions (migration 0013: {"VERSION[ BASE…]":
 * ["FIELD", …], …}, a write's fields under one key) in @json, from its
 * @fields (by name) and the one edit of each (@onlys, EditRow): each
 * field's key, then the fields of each key in field order. @keys:
 * scratch (no free function: its strings are borrowed, or this call's). */
static void
versions_json (GString *json, GPtrArray *keys, GPtrArray *fields, GPtrArray *onlys)
{
  /* The keys made here; the others are the edits' versions. */
  g_autoptr(GPtrArray) made = NULL;

  g_ptr_array_set_size (keys, 0);
  for (guint k = 0; k < onlys->len; k++)
    {
      const EditRow *only = onlys->pdata[k];

      if (only->parents[0] == NULL)
        g_ptr_array_add (keys, only->hlc);
      else
        {
          g_autofree char *base = g_strjoinv (" ", only->parents);

          if (made == NULL)
            made = g_ptr_array_new_with_free_func (g_free);
          g_ptr_array_add (made, g_strconcat (only->hlc, " ", base, NULL));
          g_ptr_array_add (keys, made->pdata[made->len - 1]);
        }
    }
  g_string_assign (json, "{");
  for (guint k = 0; k < keys->len; k++)
    {
      gboolean seen = FALSE;

      for (guint e = 0; e < k && !seen; e++)
        seen = strcmp (keys->pdata[e], keys->pdata[k]) == 0;
      if (seen)
        continue;
      if (json->len > 1)
        g_string_append_c (json, ',');
      hearth_store_append_json_string (json, keys->pdata[k]);
      g_string_append (json, ":[");
      for (guint f = k, n = 0; f < keys->len; f++)
        if (strcmp (keys->pdata[f], keys->pdata[k]) == 0)
          {
            if (n++ > 0)
              g_string_append_c (json, ',');
            hearth_store_append_json_string (json, fields->pdata[f]);
          }
      g_string_append_c (json, ']');
    }
  g_string_append_c (json, '}');
}

/* Writes the versions materialize_fresh() queued, a row a record
 * (migration 0013: {"VERSION[ BASE…]": ["FIELD", …], …}, a write's fields
 * under one key), in the order of their index's keys, as
 * insert_pending() does the edits: by record (rank_records(), @n_records
 * of them), counted into place; a record's versions are queued together,
 * by field already (materialize_fresh()), and stay so. */
static gboolean
insert_versions (sqlite3 *db, GArray *versions, guint n_records, GError **error)
{
  g_autofree const char **values = g_new (const char *, (gsize) versions->len * 3 + 1);
  g_autofree const PendingVersion **sorted = g_new (const PendingVersion *, versions->len + 1);
  g_autofree guint *next = g_new0 (guint, n_records + 1);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) keys = g_ptr_array_new ();   /* versions_json()'s */
  g_autoptr(GPtrArray) fields = g_ptr_array_new ();
  g_autoptr(GPtrArray) onlys = g_ptr_array_new ();
  g_autoptr(GString) json = g_string_new (NULL);
  guint rows = 0;

  for (guint i = 0; i < versions->len; i++)
    next[g_array_index (versions, PendingVersion, i).record->rank + 1]++;
  for (guint r = 0; r < n_records; r++)
    next[r + 1] += next[r];
  for (guint i = 0; i < versions->len; i++)
    {
      const PendingVersion *v = &g_array_index (versions, PendingVersion, i);

      sorted[next[v->record->rank]++] = v;
    }
  for (guint i = 0; i < versions->len;)
    {
      const Touched *record = sorted[i]->record;
      guint end = i;
      const char **row = values + (gsize) rows++ * 3;

      while (end < versions->len && sorted[end]->record == record)
        end++;
      if (record->fresh && !record->multi && record->versions_json != NULL)
        {
          row[0] = record->table;
          row[1] = record->id;
          row[2] = record->versions_json;
          i = end;
          continue;
        }
      g_ptr_array_set_size (fields, 0);
      g_ptr_array_set_size (onlys, 0);
      for (guint k = i; k < end; k++)
        {
          g_ptr_array_add (fields, (gpointer) sorted[k]->field);
          g_ptr_array_add (onlys, (gpointer) sorted[k]->only);
        }
      versions_json (json, keys, fields, onlys);
      row[0] = record->table;
      row[1] = record->id;
      row[2] = g_strdup (json->str);
      g_ptr_array_add (texts, (gpointer) row[2]);
      i = end;
    }
  /* The store held no edit of these records, so no version of their
   * fields either (a field has a version when it has edits). */
  return insert_rows (db, "INSERT INTO record_versions (record_table, record_id, versions)", NULL, 3, values, rows,
                      error);
}

static gboolean
record_exists (sqlite3 *db, Touched *t, gboolean *exists, GError **error)
{
  g_autofree char *ignored = NULL;

  return hearth_sync_column_value (db, t->table, t->id, "id", exists, &ignored, error);
}

/* What the triggers of households, members and tasks (migrations 0004
 * and 0009) do for records that were inserted while they were off, in
 * the order inserted (@households, @members, @tasks: their ids as JSON
 * arrays), one statement each: the households' keys (numbered in
 * that order), the search keys of every name of a household created and
 * of every member created into a household there before (a member
 * created with its household is among the household's names already:
 * listed once, not twice, it costs its keys' insert once; create_fresh()
 * leaves it out of @members, and a task created other than open out of
 * @tasks, which these statements would read only to do nothing), the routine
 * visit rows of the households created, and none for a household with a
 * task created open. The triggers' rows depend on the rows they read,
 * not on the order of the inserts (but for the keys' numbers, which
 * only identify a household): the same rows as the triggers.
 * /sync/store/apply-triggers fails when one of those tables gets a
 * trigger this does not know. */
static const char *const created_sql[] = {
  "INSERT OR IGNORE INTO household_keys (household_id) SELECT value FROM json_each (?1) ORDER BY key",
  "INSERT OR IGNORE INTO household_keys (household_id) "
  "SELECT h.id FROM json_each (?2) AS j CROSS JOIN members AS m ON m.id = j.value JOIN households AS h ON h.id = m.household_id "
  "WHERE m.deleted = 0 AND h.deleted = 0 ORDER BY j.key",
  NULL,   /* the search rows: write_search_rows() */
  "INSERT OR REPLACE INTO routine_visit_queue (household_id, priority, last_visit_date) "
  "SELECT h.id, (h.monitoring_status NOT IN ('none', 'risk_eliminated') OR h.risk_level <> 'none'), h.last_visit_date "
  "FROM json_each (?1) AS j CROSS JOIN households AS h ON h.id = j.value "
  "WHERE h.deleted = 0 AND NOT EXISTS (SELECT 1 FROM tasks AS t WHERE t.household_id = h.id AND t.status = 'open')",
  "DELETE FROM routine_visit_queue WHERE household_id IN "
  "(SELECT t.household_id FROM json_each (?3) AS j CROSS JOIN tasks AS t ON t.id = j.value WHERE t.status = 'open')",
};

/* The names whose search rows write_created() adds: every name of a
 * household created and of every member created into a household there
 * before (a member created with its household is among the household's
 * names already), with the household's key, village and head name. */
#define CREATED_NAMES_SQL \
  "WITH names (household_id, village_code, head_name, name, number) AS (" \
  " SELECT h.id, h.village_code, h.head_name, s.name, s.number" \
  " FROM json_each (?1) AS j CROSS JOIN households AS h ON h.id = j.value" \
  " JOIN household_search_names AS s ON s.household_id = h.id WHERE h.deleted = 0" \
  " UNION ALL" \
  " SELECT h.id, h.village_code, h.head_name, m.name, m.id_number" \
  " FROM json_each (?2) AS j CROSS JOIN members AS m ON m.id = j.value JOIN households AS h ON h.id = m.household_id" \
  " WHERE m.deleted = 0 AND h.deleted = 0 AND h.id NOT IN (SELECT value FROM json_each (?1))) "

/* The search rows of those names in SQL, as the triggers of migration
 * 0004 make them: write_search_rows() when it cannot do it itself. */
static const char search_rows_sql[] =
  CREATED_NAMES_SQL
  "INSERT OR IGNORE INTO household_search (key, village, head_name, household_key) "
  "SELECT lower (substr (n.name, p.n, w.w)), CAST (n.village_code AS INTEGER), n.head_name, k.key "
  "FROM names AS n JOIN household_keys AS k ON k.household_id = n.household_id, "
  "(SELECT 1 AS w UNION ALL SELECT 2) AS w, search_positions AS p WHERE p.n <= length (n.name) - w.w + 1 "
  "UNION ALL "
  "SELECT upper (substr (n.number, -4)), CAST (n.village_code AS INTEGER), n.head_name, k.key "
  "FROM names AS n JOIN household_keys AS k ON k.household_id = n.household_id WHERE length (n.number) >= 4 "
  "ORDER BY 1, 2, 3, 4";

/* The same rows removed (the households' rows as their names give them
 * now: every row of a household, by the invariant of migration 0004). */
static const char search_rows_remove_sql[] =
  CREATED_NAMES_SQL
  "DELETE FROM household_search WHERE (key, village, head_name, household_key) IN ("
  "SELECT lower (substr (n.name, p.n, w.w)), CAST (n.village_code AS INTEGER), n.head_name, k.key "
  "FROM names AS n JOIN household_keys AS k ON k.household_id = n.household_id, "
  "(SELECT 1 AS w UNION ALL SELECT 2) AS w, search_positions AS p WHERE p.n <= length (n.name) - w.w + 1 "
  "UNION ALL "
  "SELECT upper (substr (n.number, -4)), CAST (n.village_code AS INTEGER), n.head_name, k.key "
  "FROM names AS n JOIN household_keys AS k ON k.household_id = n.household_id WHERE length (n.number) >= 4)";

static const char search_names_sql[] =
  CREATED_NAMES_SQL
  "SELECT k.key, CAST (n.village_code AS INTEGER), n.head_name, n.name, n.number "
  "FROM names AS n JOIN household_keys AS k ON k.household_id = n.household_id";

/* One search row (household_search's columns), its strings in a chunk. */
typedef struct {
  const char *key;
  gsize key_len;
  const char *head_name;
  gsize head_len;
  gint64 village;
  gint64 household_key;
} SearchRow;

/* household_search's primary key order (BINARY texts). */
static int
compare_search_rows (gconstpointer a, gconstpointer b)
{
  const SearchRow *x = a, *y = b;
  int c = memcmp (x->key, y->key, MIN (x->key_len, y->key_len));

  if (c != 0 || x->key_len != y->key_len)
    return c != 0 ? c : (x->key_len < y->key_len ? -1 : 1);
  if (x->village != y->village)
    return x->village < y->village ? -1 : 1;
  c = memcmp (x->head_name, y->head_name, MIN (x->head_len, y->head_len));
  if (c != 0 || x->head_len != y->head_len)
    return c != 0 ? c : (x->head_len < y->head_len ? -1 : 1);
  return (x->household_key > y->household_key) - (x->household_key < y->household_key);
}

/* SQLite's step over one character (SQLITE_SKIP_UTF8): a lead byte and
 * the continuation bytes after it. */
static const char *
sqlite_next_char (const char *z, const char *end)
{
  if ((guchar) *z++ >= 0xc0)
    while (z < end && ((guchar) *z & 0xc0) == 0x80)
      z++;
  return z;
}

/* Appends the search row of the characters [@from, @to) of a name,
 * folded as SQLite's lower() (or upper(), @upper) without ICU: ASCII
 * letters only. */
static void
add_search_row (GArray *rows, GStringChunk *chunk, GString *scratch, const char *from, const char *to,
                gboolean upper, const SearchRow *of)
{
  SearchRow row = *of;

  g_string_truncate (scratch, 0);
  for (const char *z = from; z < to; z++)
    {
      char ch = *z;

      if (upper && ch >= 'a' && ch <= 'z')
        ch = (char) (ch - 'a' + 'A');
      else if (!upper && ch >= 'A' && ch <= 'Z')
        ch = (char) (ch - 'A' + 'a');
      g_string_append_c (scratch, ch);
    }
  row.key = g_string_chunk_insert_len (chunk, scratch->str, (gssize) scratch->len);
  row.key_len = scratch->len;
  g_array_append_val (rows, row);
}

/* Whether write_search_rows() makes the rows the SQL would: the store's
 * lower() and upper() fold ASCII only (SQLite built without ICU) and
 * search_positions holds 1 to @most, every number. */
static gboolean
search_rows_in_c (sqlite3 *db, gint64 *most, GError **error)
{
  sqlite3_stmt *st;
  gboolean ok;
  int rc;

  if ((st = hearth_sync_prepare (db, "SELECT lower ('\xc3\x84') = '\xc3\x84' AND upper ('\xc3\xa4') = '\xc3\xa4' "
                                     "AND lower ('AZ') = 'az' AND upper ('az') = 'AZ', "
                                     "(SELECT min (n) = 1 AND max (n) = count (*) FROM search_positions), "
                                     "(SELECT max (n) FROM search_positions)")) == NULL)
    return hearth_sync_sql_failed (db, error);
  rc = sqlite3_step (st);
  ok = rc == SQLITE_ROW && sqlite3_column_int (st, 0) == 1 && sqlite3_column_int (st, 1) == 1 &&
       sqlite3_column_type (st, 2) == SQLITE_INTEGER;
  *most = ok ? sqlite3_column_int64 (st, 2) : 0;
  hearth_sync_finish (st);
  if (rc != SQLITE_ROW)
    return hearth_sync_sql_failed (db, error);
  return ok;
}

/* Rows of one search insert at most: 4 parameters each, within the 999
 * an older SQLite allows. */
#define SEARCH_ROWS_PER_INSERT 200

/* Inserts @rows[@from, @from + @n) (INSERT OR IGNORE: a row the table has
 * is skipped, as the triggers' are). */
static gboolean
insert_search_rows (sqlite3 *db, GArray *rows, guint from, guint n, GError **error)
{
  static char *sql[2];
  sqlite3_stmt *st;
  int rc;
  guint which = n == SEARCH_ROWS_PER_INSERT ? 1 : 0;

  g_assert (n == 1 || n == SEARCH_ROWS_PER_INSERT);
  if (g_once_init_enter (&sql[which]))
    {
      g_autofree char *text = rows_sql ("INSERT OR IGNORE INTO household_search (key, village, head_name, household_key)",
                                        NULL, 4, n);

      g_once_init_leave (&sql[which], g_steal_pointer (&text));
    }
  if ((st = hearth_sync_prepare (db, sql[which])) == NULL)
    return hearth_sync_sql_failed (db, error);
  for (guint i = 0; i < n; i++)
    {
      const SearchRow *row = &g_array_index (rows, SearchRow, from + i);

      sqlite3_bind_text (st, (int) i * 4 + 1, row->key, (int) row->key_len, SQLITE_STATIC);
      sqlite3_bind_int64 (st, (int) i * 4 + 2, row->village);
      sqlite3_bind_text (st, (int) i * 4 + 3, row->head_name, (int) row->head_len, SQLITE_STATIC);
      sqlite3_bind_int64 (st, (int) i * 4 + 4, row->household_key);
    }
  rc = sqlite3_step (st);
  hearth_sync_finish (st);
  return rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
}

/* Removes one search row. */
static gboolean
remove_search_row (sqlite3 *db, GArray *rows, guint at, GError **error)
{
  const SearchRow *row = &g_array_index (rows, SearchRow, at);
  sqlite3_stmt *st;
  int rc;

  if ((st = hearth_sync_prepare (db, "DELETE FROM household_search WHERE key = ? AND village = ? AND head_name = ? "
                                     "AND household_key = ?")) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, row->key, (int) row->key_len, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 2, row->village);
  sqlite3_bind_text (st, 3, row->head_name, (int) row->head_len, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 4, row->household_key);
  rc = sqlite3_step (st);
  hearth_sync_finish (st);
  return rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
}

/* The search rows of the names CREATED_NAMES_SQL lists (@lists as
 * write_created()'s), the ones search_rows_sql inserts: every key of
 * every name (its characters one and two at a time, at positions
 * search_positions holds, lowered) and the last four characters of its
 * number (four at least, uppered), with the household's village (an
 * integer), head name and key. Made here instead: SQLite sorting and
 * inserting each candidate row of a cross join with search_positions was
 * most of a fresh pull's search index. A row with a NULL column, which
 * the table's NOT NULL makes INSERT OR IGNORE skip, is left out; names
 * that are not plain text (a blob, a NUL inside) go through the SQL.
 * @households and @members: JSON arrays of ids. With @remove, the rows
 * are removed instead (the general path's records, derived_before()). */
static gboolean
write_search_rows (sqlite3 *db, const char *households, const char *members, gboolean remove, GError **error)
{
  const char *lists[2] = { households, members };
  g_autoptr(GArray) rows = NULL;
  g_autoptr(GString) scratch = NULL;
  GStringChunk *chunk;
  sqlite3_stmt *st;
  gint64 most = 0;
  gboolean plain = TRUE;
  gboolean ok = TRUE;
  int rc;
  guint at, kept;
  g_autoptr(GError) local = NULL;

  if (!search_rows_in_c (db, &most, &local))
    {
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      plain = FALSE;
    }
  if (plain)
    {
      if ((st = hearth_sync_prepare (db, search_names_sql)) == NULL)
        return hearth_sync_sql_failed (db, error);
      for (guint l = 0; l < 2; l++)
        sqlite3_bind_text (st, (int) l + 1, lists[l], -1, SQLITE_STATIC);
      rows = g_array_new (FALSE, FALSE, sizeof (SearchRow));
      scratch = g_string_sized_new (16);
      chunk = g_string_chunk_new (4096);
      while (plain && (rc = sqlite3_step (st)) == SQLITE_ROW)
        {
          SearchRow of = { 0 };

          /* NULL village or head name: every row of it would be skipped. */
          if (sqlite3_column_type (st, 1) != SQLITE_INTEGER || sqlite3_column_type (st, 2) == SQLITE_NULL)
            continue;
          if (sqlite3_column_type (st, 2) != SQLITE_TEXT)
            {
              plain = FALSE;
              break;
            }
          of.household_key = sqlite3_column_int64 (st, 0);
          of.village = sqlite3_column_int64 (st, 1);
          of.head_len = (gsize) sqlite3_column_bytes (st, 2);
          of.head_name = g_string_chunk_insert_len (chunk, (const char *) sqlite3_column_text (st, 2),
                                                    (gssize) of.head_len);
          for (int c = 3; c <= 4 && plain; c++)
            {
              const char *text, *end, *z;
              gsize bytes;
              gint64 length = 0;

              if (sqlite3_column_type (st, c) == SQLITE_NULL)
                continue;
              if (sqlite3_column_type (st, c) == SQLITE_BLOB)
                {
                  plain = FALSE;
                  break;
                }
              text = (const char *) sqlite3_column_text (st, c);
              bytes = (gsize) sqlite3_column_bytes (st, c);
              if (text == NULL || memchr (text, '\0', bytes) != NULL)
                {
                  plain = FALSE;
                  break;
                }
              end = text + bytes;
              for (z = text; z < end; z = sqlite_next_char (z, end))
                length++;
              if (c == 3)
                {
                  /* Position p (from 1), one and two characters. */
                  const char *p = text;

                  for (gint64 n = 1; n <= most && p < end; n++)
                    {
                      const char *one = sqlite_next_char (p, end);

                      add_search_row (rows, chunk, scratch, p, one, FALSE, &of);
                      if (one < end)
                        add_search_row (rows, chunk, scratch, p, sqlite_next_char (one, end), FALSE, &of);
                      p = one;
                    }
                }
              else if (length >= 4)
                {
                  const char *p = text;

                  for (gint64 skip = length - 4; skip > 0; skip--)
                    p = sqlite_next_char (p, end);
                  add_search_row (rows, chunk, scratch, p, end, TRUE, &of);
                }
            }
        }
      if (plain && rc != SQLITE_DONE)
        ok = hearth_sync_sql_failed (db, error);
      hearth_sync_finish (st);
      if (ok && plain)
        {
          /* In the table's order, each row once. */
          g_array_sort (rows, compare_search_rows);
          kept = 0;
          for (guint i = 0; i < rows->len; i++)
            if (kept == 0 || compare_search_rows (&g_array_index (rows, SearchRow, kept - 1),
                                                  &g_array_index (rows, SearchRow, i)) != 0)
              g_array_index (rows, SearchRow, kept++) = g_array_index (rows, SearchRow, i);
          for (at = 0; ok && at < kept;)
            {
              guint n = !remove && kept - at >= SEARCH_ROWS_PER_INSERT ? SEARCH_ROWS_PER_INSERT : 1;

              ok = remove ? remove_search_row (db, rows, at, error) : insert_search_rows (db, rows, at, n, error);
              at += n;
            }
        }
      g_string_chunk_free (chunk);
      if (!ok || plain)
        return ok;
    }
  if ((st = hearth_sync_prepare (db, remove ? search_rows_remove_sql : search_rows_sql)) == NULL)
    return hearth_sync_sql_failed (db, error);
  for (guint l = 0; l < 2; l++)
    sqlite3_bind_text (st, (int) l + 1, lists[l], -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  hearth_sync_finish (st);
  return rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
}

static gboolean
write_created (sqlite3 *db, GString *const lists[3], GError **error)
{
  for (guint i = 0; i < 3; i++)
    g_string_append_c (lists[i], ']');
  for (guint i = 0; i < G_N_ELEMENTS (created_sql); i++)
    {
      sqlite3_stmt *st;
      int rc;

      if (created_sql[i] == NULL)
        {
          if (!write_search_rows (db, lists[0]->str, lists[1]->str, FALSE, error))
            return FALSE;
          continue;
        }
      if ((st = hearth_sync_prepare (db, created_sql[i])) == NULL)
        return hearth_sync_sql_failed (db, error);
      for (guint l = 0; l < 3; l++)
        sqlite3_bind_text (st, (int) l + 1, lists[l]->str, (int) lists[l]->len, SQLITE_STATIC);
      rc = sqlite3_step (st);
      hearth_sync_finish (st);
      if (rc != SQLITE_DONE)
        return hearth_sync_sql_failed (db, error);
    }
  return TRUE;
}

/* A complete record of the fast path waiting for its insert
 * (create_fresh()): @fields its names in order (borrowed from @t). */
typedef struct {
  Touched *t;
  GPtrArray *fields;
  const EditRow **only;   /* each field's one edit (fresh_single()), in @fields' order */
  guint order;      /* its place among its table's */
  gint64 rowid;     /* the one it would take inserted in that order */
} FreshRow;

static void
fresh_row_free (gpointer data)
{
  FreshRow *row = data;

  g_ptr_array_unref (row->fields);
  g_free (row->only);
  g_free (row);
}

/* Rows of one fast-path insert at most (insert_fresh_rows()). */
#define FRESH_ROWS_PER_INSERT 64

/* By field list (a table's records of the same fields together), then
 * in the page's order. */
static int
compare_fresh_rows (gconstpointer a, gconstpointer b)
{
  const FreshRow *x = *(const FreshRow *const *) a, *y = *(const FreshRow *const *) b;

  if (x->fields->len != y->fields->len)
    return x->fields->len < y->fields->len ? -1 : 1;
  for (guint i = 0; i < x->fields->len; i++)
    {
      int c = strcmp (x->fields->pdata[i], y->fields->pdata[i]);

      if (c != 0)
        return c;
    }
  return (x->order > y->order) - (x->order < y->order);
}

static gboolean
same_fields (const FreshRow *a, const FreshRow *b)
{
  if (a->fields->len != b->fields->len)
    return FALSE;
  for (guint i = 0; i < a->fields->len; i++)
    if (strcmp (a->fields->pdata[i], b->fields->pdata[i]) != 0)
      return FALSE;
  return TRUE;
}

static int
compare_fresh_order (gconstpointer a, gconstpointer b)
{
  const FreshRow *x = *(const FreshRow *const *) a, *y = *(const FreshRow *const *) b;

  return (x->order > y->order) - (x->order < y->order);
}

/* The rowid @table gives the next row inserted without one (SQLite's:
 * one more than the largest, while that is below the largest integer). */
static gboolean
fresh_next_rowid (sqlite3 *db, const char *table, gint64 *next, GError **error)
{
  g_autofree char *sql = g_strdup_printf ("SELECT coalesce (max (rowid), 0) FROM \"%s\"", table);
  sqlite3_stmt *st;
  int rc;

  if ((st = hearth_sync_prepare (db, sql)) == NULL)
    return hearth_sync_sql_failed (db, error);
  rc = sqlite3_step (st);
  /* The largest is 2^63 - 1 at most: its next is SQLite's random pick
   * (0 here, without adding past the largest integer). */
  *next = rc == SQLITE_ROW && sqlite3_column_int64 (st, 0) < G_MAXINT64 ? sqlite3_column_int64 (st, 0) + 1 : 0;
  hearth_sync_finish (st);
  if (rc != SQLITE_ROW)
    return hearth_sync_sql_failed (db, error);
  /* SQLite then picks a random free one: the caller leaves the table to
   * the rows one by one. */
  if (*next <= 0)
    *next = 0;
  return TRUE;
}

/* Inserts @rows[@from, @to) (FreshRow, one table, the same fields) in one
 * statement: "INSERT INTO table (id[, created_at, updated_at], fields…)
 * VALUES (…), (…)" — the same rows, in the same order, as insert_record()
 * one after the other, but a statement's work once (a CHECK of a column
 * against a list of three values or more builds SQLite a temporary index
 * each time the statement runs). *@refused is set when the table
 * refuses one of them; the caller then undoes the table's statements
 * (its savepoint sync_fresh, create_fresh()) and takes the rows one by
 * one. OR FAIL: a refused row stops the statement with the rows before
 * it kept, undone by that savepoint; without it SQLite would keep a
 * statement journal (a copy of every page the statement changes that was
 * there before it, some 140 statements of 64 rows in a village pull) to
 * undo the statement alone. */
static gboolean
insert_fresh_rows (sqlite3 *db, GPtrArray *rows, guint from, guint to, const char *now, gboolean *refused,
                   GError **error)
{
  const FreshRow *first = rows->pdata[from];
  const char *table = first->t->table;
  gboolean times = has_column (db, table, "created_at") && has_column (db, table, "updated_at");
  guint width = first->fields->len + (times ? 2 : 0) + 2;
  g_autoptr(GString) sql = g_string_new ("INSERT OR FAIL INTO \"");
  g_autoptr(GError) local = NULL;
  sqlite3_stmt *st;
  int rc, at = 1;

  *refused = FALSE;
  g_string_append (sql, table);
  g_string_append (sql, "\" (rowid, id");
  if (times)
    g_string_append (sql, ", created_at, updated_at");
  for (guint i = 0; i < first->fields->len; i++)
    {
      g_string_append (sql, ", \"");
      g_string_append (sql, first->fields->pdata[i]);
      g_string_append_c (sql, '"');
    }
  g_string_append (sql, ") VALUES ");
  for (guint r = from; r < to; r++)
    {
      g_string_append (sql, r > from ? ", (?" : "(?");
      for (guint c = 1; c < width; c++)
        g_string_append_len (sql, ", ?", 3);
      g_string_append_c (sql, ')');
    }
  if ((st = hearth_sync_prepare (db, sql->str)) == NULL)
    return hearth_sync_sql_failed (db, error);
  for (guint r = from; r < to; r++)
    {
      const FreshRow *row = rows->pdata[r];

      sqlite3_bind_int64 (st, at++, row->rowid);
      sqlite3_bind_text (st, at++, row->t->id, -1, SQLITE_STATIC);
      if (times)
        {
          sqlite3_bind_text (st, at++, now, -1, SQLITE_STATIC);
          sqlite3_bind_text (st, at++, now, -1, SQLITE_STATIC);
        }
      for (guint i = 0; i < row->fields->len; i++)
        sqlite3_bind_text (st, at++, row->only[i]->value, -1, SQLITE_STATIC);
    }
  rc = sqlite3_step (st);
  if (rc != SQLITE_DONE)
    hearth_sync_sql_failed (db, &local);
  hearth_sync_finish (st);
  if (rc == SQLITE_DONE)
    return TRUE;
  if (!recoverable (local))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  *refused = TRUE;
  return TRUE;
}

/* One record of the fast path on its own: materialize_fresh() once the
 * store is known not to hold it. A value its table refuses leaves it to
 * the general path, whose refusal is the one every tablet records. */
static gboolean
create_fresh_one (sqlite3 *db, Touched *t, const char *now, GArray *versions, GError **error)
{
  g_autoptr(GError) local = NULL;
  gboolean inserted = FALSE;

  if (!record_exists (db, t, &t->exists, error))
    return FALSE;
  t->checked = TRUE;
  if (t->exists)
    return TRUE;
  if (!materialize_fresh (db, t, now, versions, &inserted, &local))
    {
      if (!recoverable (local))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      return TRUE;
    }
  t->done = TRUE;
  t->inserted = inserted;
  return TRUE;
}

/* The value of @field a record of the fast path was created with: its
 * one edit's (fresh_single()); NULL when it has none (the column's
 * default) or another number. */
static const char *
fresh_value (Touched *t, const char *field)
{
  EditSet *set = g_hash_table_lookup (t->sets, field);

  return set != NULL && set->rows.len == 1 ? ((const EditRow *) set->rows.pdata[0])->value : NULL;
}

/* Creates the records fresh_single() holds that the store does not have
 * (materialize_fresh()), with the connection's triggers off, then writes
 * what their triggers would have (write_created()). The complete ones go
 * in statements of many rows (insert_fresh_rows()), in the page's order:
 * a record the store holds already, or a value its table refuses, fails
 * its statement, whose records are then taken one by one
 * (create_fresh_one()). A record the fast path leaves (a value its table
 * refuses) is left to the general path. */
static gboolean
create_fresh (sqlite3 *db, TouchedSet *touched, const char *now, GArray *versions, GError **error)
{
  static const char *const tables[] = { "households", "members", "tasks" };
  g_autoptr(GString) households = g_string_new ("[");
  g_autoptr(GString) members = g_string_new ("[");
  g_autoptr(GString) tasks = g_string_new ("[");
  GString *const lists[3] = { households, members, tasks };
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (fresh_row_free);
  g_autoptr(GPtrArray) table_names = g_ptr_array_new ();   /* borrowed from @rows */
  /* A table's required columns (hearth_sync_required_columns()), read
   * once a page. */
  g_autoptr(GHashTable) required_of = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                             (GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GHashTable) created_households = NULL;   /* ids, borrowed */
  gboolean any = FALSE;

  for (guint i = 0; i < touched->order->len; i++)
    {
      Touched *t = touched->order->pdata[i];
      GPtrArray *required;   /* @required_of's */
      FreshRow *row;
      gboolean complete = TRUE;

      if (!fresh_single (t))
        continue;
      required = g_hash_table_lookup (required_of, t->table);
      if (required == NULL)
        g_hash_table_insert (required_of, (gpointer) t->table,
                             (required = hearth_sync_required_columns (db, t->table)));
      for (guint k = 0; k < required->len && complete; k++)
        complete = g_hash_table_contains (t->sets, required->pdata[k]);
      if (!complete)
        {
          /* Its edits wait in field_edits (materialize_fresh()). */
          if (!create_fresh_one (db, t, now, versions, error))
            return FALSE;
          continue;
        }
      row = g_new0 (FreshRow, 1);
      row->t = t;
      if (t->sorted_fields != NULL)
        row->fields = g_ptr_array_ref (t->sorted_fields);
      else
        {
          row->fields = g_ptr_array_sized_new (t->fields->len);
          for (guint k = 0; k < t->fields->len; k++)
            g_ptr_array_add (row->fields, t->fields->pdata[k]);
          g_ptr_array_sort (row->fields, compare_names);
        }
      /* Looked up once, for its insert and its versions. */
      row->only = g_new (const EditRow *, row->fields->len);
      for (guint k = 0; k < row->fields->len; k++)
        row->only[k] = ((EditSet *) g_hash_table_lookup (t->sets, row->fields->pdata[k]))->rows.pdata[0];
      g_ptr_array_add (rows, row);
    }
  /* A table at a time, in the order the page first touched them. */
  for (guint i = 0; i < rows->len; i++)
    {
      const char *name = ((FreshRow *) rows->pdata[i])->t->table;

      if (!g_ptr_array_find_with_equal_func (table_names, name, g_str_equal, NULL))
        g_ptr_array_add (table_names, (gpointer) name);
    }
  for (guint n = 0; n < table_names->len; n++)
    {
      const char *table = table_names->pdata[n];
      g_autoptr(GPtrArray) mine = g_ptr_array_new ();     /* borrowed from @rows */
      gboolean refused = FALSE;
      gint64 next_rowid = 0;

      for (guint i = 0; i < rows->len; i++)
        {
          FreshRow *row = rows->pdata[i];

          if (strcmp (row->t->table, table) == 0)
            {
              row->order = mine->len;
              g_ptr_array_add (mine, row);
            }
        }
      if (!fresh_next_rowid (db, table, &next_rowid, error))
        return FALSE;
      /* Numbers past 2^63 - 1 would wrap to negative rowids where SQLite
       * picks random ones: such a table's rows go one by one. */
      if (next_rowid > G_MAXINT64 - (gint64) mine->len + 1)
        next_rowid = 0;
      refused = next_rowid == 0;
      for (guint i = 0; i < mine->len; i++)
        ((FreshRow *) mine->pdata[i])->rowid = next_rowid + i;
      g_ptr_array_sort (mine, compare_fresh_rows);
      if (!refused && !hearth_sync_exec (db, "SAVEPOINT sync_fresh", error))
        return FALSE;
      for (guint at = 0; at < mine->len && !refused;)
        {
          const FreshRow *first = mine->pdata[at];
          /* Within the parameters a statement may have (999 where SQLite
           * was built before 3.32): rowid, id, two times, the fields. */
          guint width = first->fields->len + 4;
          guint most = CLAMP ((guint) sqlite3_limit (db, SQLITE_LIMIT_VARIABLE_NUMBER, -1) / width, 1,
                              FRESH_ROWS_PER_INSERT);
          guint end = at + 1;

          while (end < mine->len && end - at < most && same_fields (first, mine->pdata[end]))
            end++;
          if (!insert_fresh_rows (db, mine, at, end, now, &refused, error))
            {
              hearth_sync_exec (db, "ROLLBACK TO sync_fresh", NULL);
              hearth_sync_exec (db, "RELEASE sync_fresh", NULL);
              return FALSE;
            }
          at = end;
        }
      if (next_rowid > 0 && refused && !hearth_sync_exec (db, "ROLLBACK TO sync_fresh", error))
        return FALSE;
      if (next_rowid > 0 && !hearth_sync_exec (db, "RELEASE sync_fresh", error))
        return FALSE;
      /* Back in the page's order. */
      g_ptr_array_sort (mine, compare_fresh_order);
      for (guint r = 0; r < mine->len; r++)
        {
          FreshRow *row = mine->pdata[r];

          if (refused)
            {
              /* One statement of them failed, and every other of the
               * table was undone with it: one by one, in the page's order,
               * as the rows they are given would be. */
              if (!create_fresh_one (db, row->t, now, versions, error))
                return FALSE;
              continue;
            }
          row->t->checked = TRUE;
          row->t->exists = FALSE;
          row->t->done = TRUE;
          row->t->inserted = TRUE;
          g_atomic_int_inc (&fresh_path_taken);
          for (guint k = 0; k < row->fields->len; k++)
            {
              PendingVersion v = { row->t, row->fields->pdata[k], row->only[k] };

              g_array_append_val (versions, v);
            }
        }
    }
  /* The households created: a member created into one of them is left
   * out of write_created()'s members (below). */
  for (guint i = 0; i < touched->order->len; i++)
    {
      Touched *t = touched->order->pdata[i];

      if (t->inserted && strcmp (t->table, "households") == 0)
        {
          if (created_households == NULL)
            created_households = g_hash_table_new (g_str_hash, g_str_equal);
          g_hash_table_add (created_households, (gpointer) t->id);
        }
    }
  /* In the order created: the households' keys are numbered in it. */
  for (guint i = 0; i < touched->order->len; i++)
    {
      Touched *t = touched->order->pdata[i];

      for (guint l = 0; t->inserted && l < G_N_ELEMENTS (tables); l++)
        if (strcmp (t->table, tables[l]) == 0)
          {
            const char *value;

            any = TRUE;
            /* What write_created()'s statements would read of the row
             * only to do nothing with it: a member of a household created
             * here (the household's key is numbered with it, and its
             * names make its search rows: CREATED_NAMES_SQL leaves such a
             * member out), a task that is not open (only an open task
             * takes its household out of the routine visit queue). Each
             * cost a look-up of the record and of its household, some
             * 7,500 of them in a fresh device's village pull. The row
             * holds its fields' one value each (fresh_single()), as
             * inserted just now; a value not known here keeps it in. */
            if (l == 1 && created_households != NULL && (value = fresh_value (t, "household_id")) != NULL &&
                g_hash_table_contains (created_households, value))
              continue;
            if (l == 2 && (value = fresh_value (t, "status")) != NULL && strcmp (value, "open") != 0)
              continue;
            /* A UUID (apply_field_edit() checked it): nothing to escape. */
            if (lists[l]->len > 1)
              g_string_append_c (lists[l], ',');
            g_string_append_c (lists[l], '"');
            g_string_append (lists[l], t->id);
            g_string_append_c (lists[l], '"');
          }
    }
  return !any || write_created (db, lists, error);
}

/* What the triggers of households, members and tasks would write for the
 * records the general path writes (recompute_fields(), recompute_step()),
 * with the connection's triggers off for the whole page: their rows are
 * a function of the rows they read (migrations 0004 and 0009: a live
 * household's search rows are the keys of its live names, the routine
 * visit queue holds each live household without an open task), so they
 * are recomputed for every household such a record belonged to before
 * the page's writes or belongs to after: removed before
 * (derived_before()), written again after (derived_after()). Only for
 * the records whose fields the triggers read were touched (their UPDATE
 * OF lists), or that the general path created. */
typedef struct {
  char *search_before;   /* the households whose search rows were removed */
  char *queue_before;    /* the households of the queue to recompute, as they were */
} Derived;

static void
derived_clear (Derived *d)
{
  g_free (d->search_before);
  g_free (d->queue_before);
  memset (d, 0, sizeof *d);
}

/* The columns each table's triggers read (0004's and 0009's UPDATE OF
 * lists, but the id, which no edit changes): for the search rows, then
 * for the routine visit queue. */
static const char *const search_columns[][5] = {
  { "households", "village_code", "head_name", "head_id_number", "deleted" },
  { "members", "household_id", "name", "id_number", "deleted" },
};
static const char *const queue_columns[][5] = {
  { "households", "deleted", "monitoring_status", "risk_level", "last_visit_date" },
  { "tasks", "household_id", "status", NULL, NULL },
};

static const char *const moved_task[5] = { "tasks", "household_id", NULL, NULL, NULL };

static gboolean
touches_any (const Touched *t, const char *const columns[5])
{
  if (strcmp (t->table, columns[0]) != 0)
    return FALSE;
  for (guint f = 0; f < t->fields->len; f++)
    for (guint c = 1; c < 5 && columns[c] != NULL; c++)
      if (strcmp (t->fields->pdata[f], columns[c]) == 0)
        return TRUE;
  return FALSE;
}

static void
append_id (GString *list, const char *id)
{
  /* A UUID (apply_field_edit() checked it): nothing to escape. */
  g_string_append (list, list->len > 1 ? ",\"" : "\"");
  g_string_append (list, id);
  g_string_append_c (list, '"');
}

/* The general path's records of @touched whose derived rows change, as
 * JSON arrays of ids (@lists: households and members for the search rows,
 * households and tasks for the queue, and with @after the households it
 * created, for their keys, in the page's order): those that touch a
 * column the triggers read, and with @after those it created. Before,
 * only the tasks moved to another household are listed: a task's
 * status changes the queue of the household it has after.
 * Returns whether any. */
static gboolean
derived_lists (TouchedSet *touched, gboolean after, GString *lists[5])
{
  gboolean any = FALSE;

  for (guint l = 0; l < 5; l++)
    lists[l] = g_string_new ("[");
  for (guint i = 0; i < touched->order->len; i++)
    {
      Touched *t = touched->order->pdata[i];
      gboolean created = after && !t->exists;

      if (t->done)
        continue;
      for (guint l = 0; l < 2; l++)
        {
          if (strcmp (t->table, search_columns[l][0]) == 0 && (created || touches_any (t, search_columns[l])))
            append_id (lists[l], t->id), any = TRUE;
          if (strcmp (t->table, queue_columns[l][0]) == 0 && (created || touches_any (t, queue_columns[l])) &&
              (after || l == 0 || touches_any (t, moved_task)))
            append_id (lists[2 + l], t->id), any = TRUE;
        }
      if (created && strcmp (t->table, "households") == 0)
        append_id (lists[4], t->id), any = TRUE;
    }
  for (guint l = 0; l < 5; l++)
    g_string_append_c (lists[l], ']');
  return any;
}

static void
derived_lists_free (GString *lists[5])
{
  for (guint l = 0; l < 5; l++)
    g_string_free (lists[l], TRUE);
}

/* The one text @sql (two text parameters, @a and @b) answers, into
 * @out (transfer full). */
static gboolean
query_text2 (sqlite3 *db, const char *sql, const char *a, const char *b, char **out, GError **error)
{
  sqlite3_stmt *st;
  int rc;

  if ((st = hearth_sync_prepare (db, sql)) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, a, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, b, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    *out = g_strdup ((const char *) sqlite3_column_text (st, 0));
  hearth_sync_finish (st);
  if (rc != SQLITE_ROW || *out == NULL)
    return hearth_sync_sql_failed (db, error);
  return TRUE;
}

/* The households of @households (ids) and of the records of @table
 * (members or tasks) listed in @records, as a JSON array. */
static gboolean
households_of (sqlite3 *db, const char *table, const char *households, const char *records, char **out,
               GError **error)
{
  g_autofree char *sql = g_strdup_printf ("SELECT json_group_array (DISTINCT v) FROM (SELECT value AS v FROM "
                                          "json_each (?1) UNION ALL SELECT r.household_id FROM json_each (?2) AS j "
                                          "CROSS JOIN %s AS r ON r.id = j.value WHERE r.household_id IS NOT NULL)",
                                          table);

  return query_text2 (db, sql, households, records, out, error);
}

/* The ids of two JSON arrays, each once. */
static gboolean
json_union (sqlite3 *db, const char *a, const char *b, char **out, GError **error)
{
  return query_text2 (db, "SELECT json_group_array (DISTINCT value) FROM (SELECT value FROM json_each (?1) "
                          "UNION ALL SELECT value FROM json_each (?2))", a, b, out, error);
}

static gboolean
derived_before (sqlite3 *db, TouchedSet *touched, Derived *d, GError **error)
{
  GString *lists[5];
  gboolean ok;

  if (!derived_lists (touched, FALSE, lists))
    {
      derived_lists_free (lists);
      return TRUE;
    }
  ok = households_of (db, "members", lists[0]->str, lists[1]->str, &d->search_before, error) &&
       households_of (db, "tasks", lists[2]->str, lists[3]->str, &d->queue_before, error) &&
       (strcmp (d->search_before, "[]") == 0 || write_search_rows (db, d->search_before, "[]", TRUE, error));
  derived_lists_free (lists);
  return ok;
}

/* The routine visit queue's rows of the households @before, @households
 * and those of @tasks now (JSON arrays of ids), from the rows as they
 * are. */
static gboolean
queue_recompute (sqlite3 *db, const char *before, const char *households, const char *tasks, GError **error)
{
#define QUEUE_HOUSEHOLDS \
  "SELECT value FROM json_each (?1) UNION SELECT value FROM json_each (?2) UNION " \
  "SELECT t.household_id FROM json_each (?3) AS j CROSS JOIN tasks AS t ON t.id = j.value"

  if (strcmp (before, "[]") == 0 && strcmp (households, "[]") == 0 && strcmp (tasks, "[]") == 0)
    return TRUE;
  return run (db, "DELETE FROM routine_visit_queue WHERE household_id IN (" QUEUE_HOUSEHOLDS ")", error, 3, before,
              households, tasks) &&
         run (db, "INSERT OR REPLACE INTO routine_visit_queue (household_id, priority, last_visit_date) "
                  "SELECT h.id, (h.monitoring_status NOT IN ('none', 'risk_eliminated') OR h.risk_level <> 'none'), "
                  "h.last_visit_date FROM households AS h WHERE h.id IN (" QUEUE_HOUSEHOLDS ") "
                  "AND h.deleted = 0 AND NOT EXISTS "
                  "(SELECT 1 FROM tasks AS t WHERE t.household_id = h.id AND t.status = 'open')",
              error, 3, before, households, tasks);
#undef QUEUE_HOUSEHOLDS
}

static gboolean
derived_after (sqlite3 *db, TouchedSet *touched, Derived *d, GError **error)
{
  g_autofree char *search = NULL;
  g_autofree char *search_households = NULL;
  g_autofree char *queue_households = NULL;
  GString *lists[5];
  gboolean ok;

  if (!derived_lists (touched, TRUE, lists))
    {
      derived_lists_free (lists);
      return TRUE;
    }
  /* The households listed before and after (those the general path
   * created among them) get all their rows; a member's names are added
   * to its household now (whose other rows are there). */
  search_households = d->search_before != NULL ? g_strdup (d->search_before) : g_strdup ("[]");
  queue_households = d->queue_before != NULL ? g_strdup (d->queue_before) : g_strdup ("[]");
  /* The keys of the households created, numbered in the order created
   * (the general path's, in the page's order); a household keeps its. */
  ok = (strcmp (lists[4]->str, "[]") == 0 ||
        run (db, "INSERT OR IGNORE INTO household_keys (household_id) "
                 "SELECT h.id FROM json_each (?) AS j CROSS JOIN households AS h ON h.id = j.value ORDER BY j.key",
             error, 1, lists[4]->str)) &&
       json_union (db, search_households, lists[0]->str, &search, error) &&
       (strcmp (search, "[]") == 0 && strcmp (lists[1]->str, "[]") == 0 ? TRUE :
        write_search_rows (db, search, lists[1]->str, FALSE, error)) &&
       queue_recompute (db, queue_households, lists[2]->str, lists[3]->str, error);
  derived_lists_free (lists);
  return ok;
}

/* One step of recomputing @t in a savepoint of its own: @field (its
 * version, value and conflicts), or with %NULL creating the record. A
 * value its table refuses sets that step aside, recorded, and no other:
 * the record's other fields take their winners whatever edits a page
 * brought together, as on a tablet whose pages split them otherwise. */
static gboolean
recompute_step (sqlite3 *db, Touched *t, const char *field, const char *now, guint *rejected, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GError) refusal = NULL;
  gboolean ok;

  if (!hearth_sync_exec (db, "SAVEPOINT sync_record", error))
    return FALSE;
  if (field != NULL)
    ok = recompute_loaded (db, t->table, t->id, field, g_hash_table_lookup (t->sets, field), now, NULL, NULL, &local);
  else
    ok = materialize (db, t->table, t->id, t->sets, now, &refusal, &local);
  if (!ok)
    {
      hearth_sync_exec (db, "ROLLBACK TO sync_record", NULL);
      if (!recoverable (local))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      refusal = g_steal_pointer (&local);
    }
  if (refusal != NULL)
    {
      if (!note_rejected (db, t->table, t->id, field, NULL, t->cursor, refusal->message, now, error))
        return FALSE;
      (*rejected)++;
    }
  return hearth_sync_exec (db, "RELEASE sync_record", error);
}

/* recompute_loaded() of every field a page touched of @t, together: each
 * field's merge, then the record's columns read in one statement and
 * those whose winner differs written in one (its triggers run once, not
 * once a field), then the merges stored (record_versions in one read and
 * one write, store_versions(), then each field's conflicts). The same
 * rows as recompute_loaded() field after field: a field's merge reads its
 * edits only, and storing it writes none of the record's columns.
 *
 * Nothing is written before the record's UPDATE, the one statement its
 * table may refuse (a CHECK): refused, it leaves the store as it was, and
 * the caller goes field by field (recompute_fields()) without a savepoint
 * to undo (one a record was two statements, and a copy of every page the
 * record's writes changed, for some 2,300 records of a village pull).
 * What is written after cannot be refused: record_versions and conflicts
 * have no constraint but NOT NULL, and every value bound is an edit's or
 * a merge's; were one refused all the same, the page fails (the error is
 * made unrecoverable) rather than keep a record written without its
 * versions. */
static gboolean
recompute_together (sqlite3 *db, Touched *t, const char *now, GError **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_sized_new (t->fields->len);    /* borrowed from @t */
  g_autoptr(GPtrArray) winners = g_ptr_array_sized_new (t->fields->len);  /* borrowed from @t's edit sets */
  g_autoptr(GString) sql = g_string_new ("SELECT ");
  g_autoptr(GString) update = NULL;
  g_autoptr(GPtrArray) changed = NULL;
  g_autoptr(GArray) merges = g_array_sized_new (FALSE, TRUE, sizeof (HearthFieldMerge), t->fields->len);
  g_autoptr(GPtrArray) sets = g_ptr_array_sized_new (t->fields->len);      /* borrowed from @t */
  g_autoptr(GPtrArray) versions = g_ptr_array_sized_new (t->fields->len);  /* borrowed from the merges */
  g_autoptr(GPtrArray) bases = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) local = NULL;
  sqlite3_stmt *st = NULL;
  gboolean ok = TRUE;
  int rc;

  for (guint f = 0; f < t->fields->len && ok; f++)
    {
      const char *field = t->fields->pdata[f];
      EditSet *set = g_hash_table_lookup (t->sets, field);
      HearthFieldMerge merge = { 0 };

      if (set->rows.len == 0)
        continue;
      if (!(ok = merge_set (set, &merge, error)))
        break;
      g_array_append_val (merges, merge);
      g_ptr_array_add (sets, set);
      g_ptr_array_add (names, (gpointer) field);
      g_ptr_array_add (winners, (gpointer) merge.winner->value);
      g_ptr_array_add (versions, (gpointer) merge.winner->hlc);
      g_ptr_array_add (bases, winner_base (set, &merge));
      /* Appended, not printed: some 6,400 of them in a village pull. */
      g_string_append (sql, names->len > 1 ? ", CAST (\"" : "CAST (\"");
      g_string_append (sql, field);
      g_string_append (sql, "\" AS TEXT)");
    }
  if (!ok || names->len == 0)
    goto out;

  /* The record's columns, and the UPDATE of those that differ. */
  g_string_append (sql, " FROM \"");
  g_string_append (sql, t->table);
  g_string_append (sql, "\" WHERE id = ?");
  if ((st = hearth_sync_prepare (db, sql->str)) == NULL)
    {
      ok = hearth_sync_sql_failed (db, error);
      goto out;
    }
  sqlite3_bind_text (st, 1, t->id, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    for (guint i = 0; i < names->len; i++)
      if (g_strcmp0 ((const char *) sqlite3_column_text (st, (int) i), winners->pdata[i]) != 0)
        {
          if (update == NULL)
            {
              update = g_string_new ("UPDATE \"");
              changed = g_ptr_array_new ();
              g_string_append (update, t->table);
              g_string_append (update, "\" SET ");
            }
          g_string_append (update, changed->len > 0 ? ", \"" : "\"");
          g_string_append (update, names->pdata[i]);
          g_string_append (update, "\" = ?");
          g_ptr_array_add (changed, winners->pdata[i]);
        }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    ok = hearth_sync_sql_failed (db, error);
  hearth_sync_finish (st);
  if (ok && update != NULL)
    {
      if (has_column (db, t->table, "updated_at"))
        g_string_append (update, ", updated_at = ?");
      g_string_append (update, " WHERE id = ?");
      if ((st = hearth_sync_prepare (db, update->str)) == NULL)
        ok = hearth_sync_sql_failed (db, error);
      else
        {
          for (guint i = 0; i < changed->len; i++)
            sqlite3_bind_text (st, (int) i + 1, changed->pdata[i], -1, SQLITE_STATIC);
          if (has_column (db, t->table, "updated_at"))
            sqlite3_bind_text (st, (int) changed->len + 1, now, -1, SQLITE_STATIC);
          sqlite3_bind_text (st, sqlite3_bind_parameter_count (st), t->id, -1, SQLITE_STATIC);
          rc = sqlite3_step (st);
          hearth_sync_finish (st);
          ok = rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
        }
    }
  if (!ok)
    goto out;

  /* The merges stored: nothing here may be refused (above). */
  ok = store_versions (db, t->table, t->id, names->len, (const char *const *) names->pdata,
                       (const char *const *) versions->pdata, (const char *const *) bases->pdata, &local);
  for (guint i = 0; i < merges->len && ok; i++)
    if (((EditSet *) sets->pdata[i])->rows.len > 1)
      ok = write_conflicts (db, t->table, t->id, names->pdata[i], sets->pdata[i],
                            &g_array_index (merges, HearthFieldMerge, i), now, NULL, &local);
  if (!ok)
    {
      if (recoverable (local))
        g_set_error_literal (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_SQLITE, local->message);
      else
        g_propagate_error (error, g_steal_pointer (&local));
    }

out:
  for (guint i = 0; i < merges->len; i++)
    g_ptr_array_unref (g_array_index (merges, HearthFieldMerge, i).losers);
  return ok;
}

/* Recomputes every field a page touched of @t, a record the store has:
 * together when every field's winner is taken (a page's later edits of a
 * record: a task's status and who closed it; recompute_together(), which
 * writes nothing when its table refuses a winner), else field by field
 * (recompute_step()), which sets aside the one refused. The same rows
 * either way. */
static gboolean
recompute_fields (sqlite3 *db, Touched *t, const char *now, guint *rejected, GError **error)
{
  g_autoptr(GError) local = NULL;

  if (t->fields->len > 1 && !recompute_together (db, t, now, &local))
    {
      if (!recoverable (local))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  else if (t->fields->len > 1)
    return TRUE;
  for (guint f = 0; f < t->fields->len; f++)
    if (!recompute_step (db, t, t->fields->pdata[f], now, rejected, error))
      return FALSE;
  return TRUE;
}

/* @set_compact: whether @compact_until is stored with the page (a version
 * 2 page) or the stored bound left as it is. */
static gboolean
apply_page (HearthSyncStore *self, GPtrArray *changes, HearthSyncPagePrep *prep, gint64 next_cursor, gboolean more,
            gboolean set_compact, gint64 compact_until, guint *n_rejected, GError **error)
{
  HearthCaseStore *cases;
  sqlite3 *db;
  const char *device_id;
  g_autofree char *now = NULL;
  g_autofree char *newest = NULL;
  g_autofree char *cursor_text = NULL;
  TouchedSet *touched = NULL;
  g_autoptr(GArray) versions = g_array_new (FALSE, FALSE, sizeof (PendingVersion));
  HearthSyncTx tx;
  guint rejected = 0;
  gboolean ok = FALSE;
  gboolean triggers_off = FALSE;
  gboolean prepared = FALSE;
  HearthSyncPagePrep *own_prep = NULL;
  Derived derived = { 0 };
  gint64 latest_ms;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), FALSE);
  g_return_val_if_fail (changes != NULL, FALSE);
  if (n_rejected != NULL)
    *n_rejected = 0;
  if (next_cursor < 0)
    return refuse (error, _("the cursor %lld is negative"), (long long) next_cursor);
  cases = hearth_sync_store_get_cases (self);
  db = hearth_case_store_get_db (cases);
  device_id = hearth_case_store_get_device_id (cases);
  now = hearth_sync_iso_time (hearth_case_store_now_ms (cases));
  latest_ms = hearth_sync_store_center_now (self) + HEARTH_SYNC_MAX_AHEAD_MS;
  cursor_text = g_strdup_printf ("%" G_GINT64_FORMAT, next_cursor);
  /* An empty page that moves nothing (the last of a sync with nothing
   * new) writes nothing: no transaction to commit and fsync. */
  if (changes->len == 0)
    {
      sqlite3_stmt *st = NULL;
      gboolean same = FALSE;

      if (sqlite3_prepare_v2 (db, "SELECT (SELECT value FROM sync_state WHERE key = 'cursor') IS ?1 AND "
                                  "(SELECT value FROM sync_state WHERE key = 'pull_more') IS ?2 AND "
                                  "(NOT ?3 OR coalesce ((SELECT value FROM sync_state WHERE key = 'compact_until'), 0) "
                                  "IS (CASE WHEN ?4 > ?1 THEN ?4 ELSE 0 END))",
                              -1, &st, NULL) == SQLITE_OK)
        {
          sqlite3_bind_int64 (st, 1, next_cursor);
          sqlite3_bind_int (st, 2, more ? 1 : 0);
          sqlite3_bind_int (st, 3, set_compact);
          sqlite3_bind_int64 (st, 4, compact_until);
          same = sqlite3_step (st) == SQLITE_ROW && sqlite3_column_int (st, 0) == 1;
        }
      sqlite3_finalize (st);
      if (same)
        return TRUE;
    }
  /* Applied without a preparation (a test, a caller of
   * hearth_sync_store_apply()): made here, the same way. */
  if (prep == NULL)
    prep = own_prep = hearth_sync_page_prepare (changes);
  /* The page's edits joined beforehand, unless one is refused or too far
   * ahead of the center's time (check_record_version()). */
  if (prep->ready != NULL && prep->latest_ms <= latest_ms && !g_atomic_int_get (&prepared_off))
    {
      touched = g_steal_pointer (&prep->ready);
      prepared = TRUE;
    }
  else
    touched = touched_set_new ();
  touched->packed = prep->packed;

  /* A page runs the same few statements thousands of times. */
  hearth_sync_cache_open (db);
  if (hearth_sync_store_in_pages (self))
    hearth_sync_tx_join (&tx, db);
  else if (!hearth_sync_tx_begin (&tx, db, "sync_apply", error))
    goto out;
  /* Pulled changes are not this device's: the outbox triggers skip them. */
  if (!hearth_sync_exec (db, "INSERT OR IGNORE INTO sync_state (key, value) VALUES ('applying', 1)", error))
    goto failed;
  /* The whole page is applied with the connection's triggers off. The
   * only ones on the tables its changes write (record_writes,
   * submissions, reviews, audit_foreign, published_forms,
   * sync_apply_errors) are the outbox's (migration 0006), which leave
   * pulled changes out ('applying' is set), and evaluating that for
   * every row was half an edit's insert; a statement with a trigger also
   * journals the pages it writes. The records' triggers (households,
   * members, tasks: the search index, the routine visit queue) are
   * written for them: for the fast path's records by create_fresh()
   * (write_created()), for the general path's by derived_before() and
   * derived_after(). Switched on between the two paths, every prepared
   * statement expired twice a page; they stay off from one page of a
   * transaction of several to the next (below, at out). Setting them off
   * when they are off expires nothing. /sync/store/apply-triggers fails
   * when one of those tables gets another trigger, which this would
   * skip. */
  if (!set_triggers (db, FALSE, error))
    goto failed;
  triggers_off = TRUE;
  if (!probe_records (db, changes, touched, error))
    goto failed;
  if (prepared)
    {
      gboolean usable = TRUE;

      if (!reconcile_held (db, touched, &usable, error))
        goto failed;
      if (!usable)
        {
          /* Nothing written yet: the page again, edit by edit. */
          touched_set_free (touched);
          touched = touched_set_new ();
          touched->packed = prep->packed;
          prepared = FALSE;
          if (!probe_records (db, changes, touched, error))
            goto failed;
        }
      else
        {
          g_atomic_int_inc (&prepared_taken);
          if (prep->newest != NULL)
            newest = g_strdup (prep->newest);
        }
    }
  /* Each change writes one row at most, and a statement that fails
   * leaves nothing behind: no savepoint per change is needed. */
  for (guint i = 0; i < changes->len; i++)
    {
      const HearthChange *c = changes->pdata[i];
      g_autoptr(GError) local = NULL;

      /* Joined already, every one of them taken (prepare_edits()). */
      if (prepared && (c->kind == HEARTH_CHANGE_EDIT || c->kind == HEARTH_CHANGE_EDITS))
        continue;
      if (c->kind == HEARTH_CHANGE_EDITS)
        {
          /* Refusals noted field by field, as the edits it stands for. */
          int applied = apply_edits (db, c, touched, now, latest_ms, &rejected, error);

          if (applied < 0)
            goto failed;
          if (applied > 0 && g_strcmp0 (c->hlc, newest) > 0)
            {
              g_free (newest);
              newest = g_strdup (c->hlc);
            }
        }
      else if (apply_change (db, device_id, c, touched, now, latest_ms, &local))
        {
          if (c->kind == HEARTH_CHANGE_EDIT && g_strcmp0 (c->hlc, newest) > 0)
            {
              g_free (newest);
              newest = g_strdup (c->hlc);
            }
        }
      else
        {
          if (!recoverable (local))
            {
              g_propagate_error (error, g_steal_pointer (&local));
              goto failed;
            }
          if (!note_rejected (db, c->table, c->id, c->field, c->hlc, c->cursor, local->message, now, error))
            goto failed;
          rejected++;
        }
    }
  if (!prepared)
    rank_records (touched);
  if (!insert_pending (db, touched, error))
    goto failed;
  /* The fast path's records are created (create_fresh()) before every
   * other step: a record the general path creates or changes next finds
   * them as their triggers would have left them. */
  if (!create_fresh (db, touched, now, versions, error))
    goto failed;
  /* The triggers stay off for the records the general path writes too:
   * switching them back on would expire every prepared statement, and
   * each UPDATE would run them. What they would write is written once for
   * the page instead (derived_before(), derived_after()). */
  if (!derived_before (db, touched, &derived, error))
    goto failed;
  for (guint i = 0; i < touched->order->len; i++)
    {
      Touched *t = touched->order->pdata[i];

      if (t->done)
        continue;
      if (!t->checked && !record_exists (db, t, &t->exists, error))
        goto failed;
      if (!t->exists)
        {
          if (!recompute_step (db, t, NULL, now, &rejected, error))
            goto failed;
          continue;
        }
      if (!recompute_fields (db, t, now, &rejected, error))
        goto failed;
    }
  if (!derived_after (db, touched, &derived, error))
    goto failed;
  if (!insert_versions (db, versions, touched->order->len, error))
    goto failed;
  /* Whatever this device writes next is ordered after what it has seen. */
  if (newest != NULL && !hearth_case_store_receive_hlc (cases, newest, error))
    goto failed;
  if (!run (db, "UPDATE sync_state SET value = CAST (? AS INTEGER) WHERE key = 'cursor'", error, 1, cursor_text) ||
      !run (db, "INSERT INTO sync_state (key, value) VALUES ('pull_more', CAST (? AS INTEGER)) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value", error, 1, more ? "1" : "0") ||
      !hearth_sync_exec (db, "DELETE FROM sync_state WHERE key = 'applying'", error))
    goto failed;
  /* The bound matters while the cursor is below it (PROTOCOL.md 8.1). */
  if (set_compact && compact_until > next_cursor)
    {
      g_autofree char *bound = g_strdup_printf ("%" G_GINT64_FORMAT, compact_until);

      if (!run (db, "INSERT INTO sync_state (key, value) VALUES ('compact_until', CAST (? AS INTEGER)) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", error, 1, bound))
        goto failed;
    }
  else if (set_compact && !hearth_sync_exec (db, "DELETE FROM sync_state WHERE key = 'compact_until'", error))
    goto failed;
  ok = hearth_sync_tx_commit (&tx, error);
  if (ok && n_rejected != NULL)
    *n_rejected = rejected;
  goto out;

failed:
  hearth_sync_tx_rollback (&tx);
out:
  /* Back on whatever happened (every other write needs them), but after
   * a page of several in one transaction (hearth_sync_store_begin_pages()),
   * which the next page's apply writes in: switching them expires every
   * prepared statement, which the next page would prepare again. Nothing
   * else writes on this connection between those pages (the sync run's
   * thread has it to itself: a lease renewed, sync_state and sync_lease,
   * which have no triggers), and whatever ends the transaction turns
   * them back on (hearth_sync_triggers_on()): its commit, a page that
   * fails (here), the pull stopping (sync-run.c). */
  if (triggers_off && !(ok && tx.joined))
    set_triggers (db, TRUE, NULL);
  hearth_sync_cache_close (db);
  derived_clear (&derived);
  /* Freed with the preparation when there is one: on the thread that
   * frees it (sync-run.c: the next page's fetch). */
  if (prep != NULL && prep->touched == NULL)
    prep->touched = touched;
  else
    touched_set_free (touched);
  hearth_sync_page_prep_free (own_prep);
  return ok;
}

gboolean
hearth_sync_store_apply (HearthSyncStore *self, GPtrArray *changes, gint64 next_cursor, gboolean more,
                         guint *n_rejected, GError **error)
{
  return apply_page (self, changes, NULL, next_cursor, more, FALSE, 0, n_rejected, error);
}

gboolean
hearth_sync_store_apply_page (HearthSyncStore *self, GPtrArray *changes, gint64 next_cursor, gboolean more,
                              gint64 compact_until, guint *n_rejected, GError **error)
{
  if (compact_until < 0)
    return refuse (error, _("the compaction bound %lld is negative"), (long long) compact_until);
  return apply_page (self, changes, NULL, next_cursor, more, TRUE, compact_until, n_rejected, error);
}

gboolean
hearth_sync_store_apply_prepared (HearthSyncStore *self, GPtrArray *changes, HearthSyncPagePrep *prep,
                                  gint64 next_cursor, gboolean more, gint64 compact_until, guint *n_rejected,
                                  GError **error)
{
  g_return_val_if_fail (prep == NULL || !prep->used, FALSE);
  if (compact_until < 0)
    return refuse (error, _("the compaction bound %lld is negative"), (long long) compact_until);
  if (prep != NULL)
    prep->used = TRUE;
  return apply_page (self, changes, prep, next_cursor, more, TRUE, compact_until, n_rejected, error);
}

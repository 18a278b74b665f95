/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sync-store.c: the device's outbox and push replies, its sync state and
 * enrolment, and the sync lease (sync-store.h). Applying pulled pages is in
 * sync-apply.c, the case model's hooks that fill the outbox in
 * sync-capture.c.
 */
#define G_LOG_DOMAIN "hearth-sync"

#include "sync-store.h"
#include "sync-store-private.h"
#include "hlc.h"
#include "sign.h"
#include "store-packed.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

G_DEFINE_QUARK (hearth-sync-store-error-quark, hearth_sync_store_error)

struct _HearthSyncStore {
  GObject parent_instance;
  HearthCaseStore *cases;
  sqlite3 *db;
  gboolean pages;           /* hearth_sync_store_begin_pages()'s transaction is open */
  gboolean have_offset;     /* center_offset_ms set for this exchange */
  gint64 center_offset_ms;
};

G_DEFINE_FINAL_TYPE (HearthSyncStore, hearth_sync_store, G_TYPE_OBJECT)

/* ---- shared helpers (sync-store-private.h) ---------------------------------- */

gboolean
hearth_sync_sql_failed (sqlite3 *db, GError **error)
{
  int code = sqlite3_extended_errcode (db);

  g_set_error (error, HEARTH_SYNC_STORE_ERROR,
               (code & 0xff) == SQLITE_CONSTRAINT ? HEARTH_SYNC_STORE_ERROR_INVALID : HEARTH_SYNC_STORE_ERROR_SQLITE,
               _("the sync store refused a change: %s"), sqlite3_errmsg (db));
  return FALSE;
}

/* ---- the statement cache (sync-store-private.h) ------------------------------ */

typedef struct {
  GHashTable *all;       /* column names */
  GPtrArray  *required;  /* NOT NULL without a default, less the local ones */
} TableInfo;

/* Slots of the lookup by the SQL text's address (a power of two). */
#define STMT_SLOTS 256

typedef struct {
  const char   *sql;   /* the caller's text, compared, never dereferenced alone */
  sqlite3_stmt *st;    /* owned by StmtCache.stmts */
} StmtSlot;

typedef struct {
  sqlite3    *db;
  guint       depth;
  StmtSlot    slots[STMT_SLOTS];  /* by the text's address, before @stmts */
  GHashTable *stmts;    /* SQL text (owned) → sqlite3_stmt */
  GHashTable *kept;     /* the statements of @stmts, by address */
  GHashTable *tables;   /* table name (owned) → TableInfo */
} StmtCache;

/* A sync store belongs to one thread at a time: so does its cache. */
static _Thread_local StmtCache *cache;

static void
stmt_free (gpointer st)
{
  sqlite3_finalize (st);
}

static void
table_info_free (gpointer data)
{
  TableInfo *t = data;

  g_hash_table_unref (t->all);
  g_ptr_array_unref (t->required);
  g_free (t);
}

void
hearth_sync_cache_open (sqlite3 *db)
{
  if (cache != NULL)
    {
      if (cache->db == db)
        cache->depth++;
      return;   /* another store's cache: this one goes uncached */
    }
  cache = g_new0 (StmtCache, 1);
  cache->db = db;
  cache->depth = 1;
  cache->stmts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, stmt_free);
  cache->kept = g_hash_table_new (g_direct_hash, g_direct_equal);
  cache->tables = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, table_info_free);
}

void
hearth_sync_cache_close (sqlite3 *db)
{
  if (cache == NULL || cache->db != db || --cache->depth > 0)
    return;
  g_hash_table_unref (cache->kept);
  g_hash_table_unref (cache->stmts);
  g_hash_table_unref (cache->tables);
  g_clear_pointer (&cache, g_free);
}

sqlite3_stmt *
hearth_sync_prepare (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  gboolean keep = cache != NULL && cache->db == db;

  if (keep)
    {
      /* Most texts are string literals, at the same address every time:
       * a slot by address, confirmed by comparing the text (a freed text's
       * address may come back with another), spares hashing it. */
      StmtSlot *slot = &cache->slots[(GPOINTER_TO_SIZE (sql) >> 3) & (STMT_SLOTS - 1)];

      if (slot->sql == sql && strcmp (sqlite3_sql (slot->st), sql) == 0)
        st = slot->st;
      else
        {
          st = g_hash_table_lookup (cache->stmts, sql);
          if (st != NULL)
            *slot = (StmtSlot) { sql, st };
        }
      if (st != NULL && !sqlite3_stmt_busy (st))
        return st;
      /* Still stepping for another caller: this one gets its own. */
      keep = st == NULL;
      st = NULL;
    }
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    {
      sqlite3_finalize (st);
      return NULL;
    }
  if (keep)
    {
      g_hash_table_insert (cache->stmts, g_strdup (sql), st);
      g_hash_table_add (cache->kept, st);
      cache->slots[(GPOINTER_TO_SIZE (sql) >> 3) & (STMT_SLOTS - 1)] = (StmtSlot) { sql, st };
    }
  return st;
}

void
hearth_sync_finish (sqlite3_stmt *st)
{
  if (st == NULL)
    return;
  /* By address, not by hashing the statement's text again each run. */
  if (cache != NULL && cache->db == sqlite3_db_handle (st) && g_hash_table_contains (cache->kept, st))
    {
      sqlite3_reset (st);
      sqlite3_clear_bindings (st);
    }
  else
    sqlite3_finalize (st);
}

static TableInfo *
table_info_read (sqlite3 *db, const char *table)
{
  TableInfo *t = g_new0 (TableInfo, 1);
  sqlite3_stmt *st = NULL;

  t->all = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  t->required = g_ptr_array_new_with_free_func (g_free);
  if (sqlite3_prepare_v2 (db, "SELECT name, \"notnull\" AND dflt_value IS NULL AND name NOT IN ("
                              HEARTH_SYNC_LOCAL_COLUMNS ") FROM pragma_table_info (?)", -1, &st, NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
      while (sqlite3_step (st) == SQLITE_ROW)
        {
          const char *name = (const char *) sqlite3_column_text (st, 0);

          g_hash_table_add (t->all, g_strdup (name));
          if (sqlite3_column_int (st, 1))
            g_ptr_array_add (t->required, g_strdup (name));
        }
    }
  sqlite3_finalize (st);
  return t;
}

/* The table's columns: from the cache, or read now (@fresh then holds
 * what the caller frees). */
static TableInfo *
table_info (sqlite3 *db, const char *table, TableInfo **fresh)
{
  TableInfo *t;

  *fresh = NULL;
  if (cache == NULL || cache->db != db)
    return *fresh = table_info_read (db, table);
  t = g_hash_table_lookup (cache->tables, table);
  if (t == NULL)
    {
      t = table_info_read (db, table);
      g_hash_table_insert (cache->tables, g_strdup (table), t);
    }
  return t;
}

gboolean
hearth_sync_has_column (sqlite3 *db, const char *table, const char *column)
{
  TableInfo *fresh = NULL;
  gboolean found = column != NULL && g_hash_table_contains (table_info (db, table, &fresh)->all, column);

  if (fresh != NULL)
    table_info_free (fresh);
  return found;
}

GPtrArray *
hearth_sync_required_columns (sqlite3 *db, const char *table)
{
  TableInfo *fresh = NULL;
  TableInfo *t = table_info (db, table, &fresh);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < t->required->len; i++)
    g_ptr_array_add (out, g_strdup (t->required->pdata[i]));
  if (fresh != NULL)
    table_info_free (fresh);
  return out;
}

gboolean
hearth_sync_exec (sqlite3 *db, const char *sql, GError **error)
{
  /* One statement (a savepoint, mostly): prepared once while cached. */
  if (cache != NULL && cache->db == db && strchr (sql, ';') == NULL)
    {
      sqlite3_stmt *st = hearth_sync_prepare (db, sql);
      int rc;

      if (st == NULL)
        return hearth_sync_sql_failed (db, error);
      rc = sqlite3_step (st);
      if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        {
          hearth_sync_sql_failed (db, error);
          hearth_sync_finish (st);
          return FALSE;
        }
      hearth_sync_finish (st);
      return TRUE;
    }
  if (sqlite3_exec (db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (db, error);
  return TRUE;
}

gboolean
hearth_sync_tx_begin (HearthSyncTx *tx, sqlite3 *db, const char *name, GError **error)
{
  g_autofree char *sql = NULL;

  tx->db = db;
  tx->name = name;
  tx->joined = FALSE;
  tx->outer = sqlite3_get_autocommit (db) != 0;
  sql = tx->outer ? g_strdup ("BEGIN IMMEDIATE") : g_strdup_printf ("SAVEPOINT %s", name);
  return hearth_sync_exec (db, sql, error);
}

void
hearth_sync_tx_join (HearthSyncTx *tx, sqlite3 *db)
{
  tx->db = db;
  tx->name = NULL;
  tx->outer = FALSE;
  tx->joined = TRUE;
}

gboolean
hearth_sync_tx_commit (HearthSyncTx *tx, GError **error)
{
  g_autofree char *sql = NULL;

  if (tx->joined)
    return TRUE;
  sql = tx->outer ? g_strdup ("COMMIT") : g_strdup_printf ("RELEASE %s", tx->name);
  if (hearth_sync_exec (tx->db, sql, error))
    return TRUE;
  hearth_sync_tx_rollback (tx);
  return FALSE;
}

void
hearth_sync_tx_rollback (HearthSyncTx *tx)
{
  g_autofree char *sql = tx->outer || tx->joined ? g_strdup ("ROLLBACK")
                                                 : g_strdup_printf ("ROLLBACK TO %s; RELEASE %s", tx->name, tx->name);

  if (!sqlite3_get_autocommit (tx->db))
    sqlite3_exec (tx->db, sql, NULL, NULL, NULL);
}

static const char *const edit_tables[] = { "households", "members", "tasks", "measures", NULL };

gboolean
hearth_sync_is_edit_table (const char *table)
{
  return table != NULL && g_strv_contains (edit_tables, table);
}

gboolean
hearth_sync_is_field (sqlite3 *db, const char *table, const char *column)
{
  static const char *const local[] = { "id", "created_at", "updated_at", NULL };   /* HEARTH_SYNC_LOCAL_COLUMNS */

  if (hearth_change_table_fields (table) != NULL)
    return hearth_change_is_field (table, column);
  return column != NULL && !g_strv_contains (local, column) && hearth_sync_has_column (db, table, column);
}

gboolean
hearth_sync_column_value (sqlite3 *db, const char *table, const char *id, const char *column, gboolean *exists,
                          char **value, GError **error)
{
  g_autofree char *sql = g_strdup_printf ("SELECT CAST (\"%s\" AS TEXT) FROM \"%s\" WHERE id = ?", column, table);
  sqlite3_stmt *st = NULL;
  int rc;

  *exists = FALSE;
  *value = NULL;
  if ((st = hearth_sync_prepare (db, sql)) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      *exists = TRUE;
      *value = g_strdup ((const char *) sqlite3_column_text (st, 0));
    }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    hearth_sync_sql_failed (db, error);
  hearth_sync_finish (st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

GPtrArray *
hearth_sync_write_fields (sqlite3 *db, const char *table, const char *id, const char *hlc, GError **error)
{
  g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *st = NULL;
  int rc;

  /* A write's row is under its record's and version's keys (migration 0014). */
  if (sqlite3_prepare_v2 (db, "SELECT field FROM field_edits WHERE rkey = hearth_edit_key (?1, ?2, NULL) "
                              "AND vkey = hearth_version_key (?3) "
                              "AND record_table = ?1 AND record_id = ?2 AND hlc = ?3", -1, &st, NULL) != SQLITE_OK)
    {
      hearth_sync_sql_failed (db, error);
      return NULL;
    }
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, hlc, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_ptr_array_add (fields, g_strdup ((const char *) sqlite3_column_text (st, 0)));
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    {
      hearth_sync_sql_failed (db, error);
      return NULL;
    }
  return g_steal_pointer (&fields);
}

gboolean
hearth_sync_remove_edit (sqlite3 *db, const char *table, const char *id, const char *field, const char *hlc,
                         GError **error)
{
  static const char *const steps[] = {
    "UPDATE record_writes SET fields = json_remove (fields, '$.\"' || ?3 || '\"') "
    "WHERE rkey = hearth_edit_key (?1, ?2, NULL) AND vkey = hearth_version_key (?4) AND record_table = ?1 "
    "AND record_id = ?2 AND hlc = ?4",
    /* A write without fields is none. */
    "DELETE FROM record_writes WHERE rkey = hearth_edit_key (?1, ?2, NULL) AND vkey = hearth_version_key (?4) "
    "AND record_table = ?1 AND record_id = ?2 AND hlc = ?4 AND fields = '{}'",
  };

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      sqlite3_stmt *st = NULL;
      int rc;

      if (sqlite3_prepare_v2 (db, steps[i], -1, &st, NULL) != SQLITE_OK)
        return hearth_sync_sql_failed (db, error);
      sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 3, field, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 4, hlc, -1, SQLITE_STATIC);
      rc = sqlite3_step (st);
      sqlite3_finalize (st);
      if (rc != SQLITE_DONE)
        return hearth_sync_sql_failed (db, error);
    }
  return TRUE;
}

gboolean
hearth_sync_put_edit (sqlite3 *db, const char *table, const char *id, const char *field, const char *hlc,
                      const char *parents, const char *value, const char *wall, GError **error)
{
  /* The member as the view's trigger makes it (migration 0014): relative
   * to the row's wall time when the write is there, else the row is
   * made with this one's. */
  static const char *const steps[] = {
    "UPDATE record_writes SET fields = json_set (fields, '$.\"' || ?3 || '\"', "
    "  json (CASE WHEN ?7 IS NOT wall THEN json_array (?6, ?5, ?7) WHEN ?5 <> '' THEN json_array (?6, ?5) "
    "             ELSE json_quote (?6) END)) "
    "WHERE rkey = hearth_edit_key (?1, ?2, NULL) AND vkey = hearth_version_key (?4) AND record_table = ?1 "
    "AND record_id = ?2 AND hlc = ?4",
    "INSERT INTO record_writes (record_table, record_id, hlc, wall, fields) "
    "SELECT ?1, ?2, ?4, ?7, json_object (?3, CASE WHEN ?5 <> '' THEN json_array (?6, ?5) ELSE ?6 END) "
    "WHERE NOT EXISTS (SELECT 1 FROM record_writes WHERE rkey = hearth_edit_key (?1, ?2, NULL) "
    "                  AND vkey = hearth_version_key (?4) AND record_table = ?1 AND record_id = ?2 AND hlc = ?4)",
  };
  const char *args[] = { table, id, field, hlc, parents != NULL ? parents : "", value, wall != NULL ? wall : "" };

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      sqlite3_stmt *st = NULL;
      int rc;

      if (sqlite3_prepare_v2 (db, steps[i], -1, &st, NULL) != SQLITE_OK)
        return hearth_sync_sql_failed (db, error);
      for (guint a = 0; a < G_N_ELEMENTS (args); a++)
        sqlite3_bind_text (st, (int) a + 1, args[a], -1, SQLITE_STATIC);
      rc = sqlite3_step (st);
      sqlite3_finalize (st);
      if (rc != SQLITE_DONE)
        return hearth_sync_sql_failed (db, error);
    }
  return TRUE;
}

char **
hearth_sync_split_versions (const char *text)
{
  g_auto(GStrv) parts = g_strsplit (text != NULL ? text : "", " ", -1);
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_ptr_array_add (out, g_strdup (parts[i]));
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

char *
hearth_sync_iso_time (gint64 ms)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (ms / 1000);

  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

/* ---- sync_state ------------------------------------------------------------- */

static gint64
state_int (sqlite3 *db, const char *key, gint64 fallback)
{
  sqlite3_stmt *st = NULL;
  gint64 value = fallback;

  if (sqlite3_prepare_v2 (db, "SELECT value FROM sync_state WHERE key = ?", -1, &st, NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
      if (sqlite3_step (st) == SQLITE_ROW)
        value = sqlite3_column_int64 (st, 0);
    }
  sqlite3_finalize (st);
  return value;
}

static char *
state_text (sqlite3 *db, const char *key)
{
  sqlite3_stmt *st = NULL;
  char *value = NULL;

  if (sqlite3_prepare_v2 (db, "SELECT value FROM sync_state WHERE key = ?", -1, &st, NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
      if (sqlite3_step (st) == SQLITE_ROW)
        value = g_strdup ((const char *) sqlite3_column_text (st, 0));
    }
  sqlite3_finalize (st);
  return value;
}

gboolean
hearth_sync_state_set (sqlite3 *db, const char *key, const char *text, gint64 value, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, "INSERT INTO sync_state (key, value) VALUES (?, ?) "
                              "ON CONFLICT (key) DO UPDATE SET value = excluded.value", -1, &st, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
  if (text != NULL)
    sqlite3_bind_text (st, 2, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_int64 (st, 2, value);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  return rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
}

/* ---- the object --------------------------------------------------------------- */

static void
hearth_sync_store_finalize (GObject *object)
{
  HearthSyncStore *self = HEARTH_SYNC_STORE (object);

  g_clear_object (&self->cases);
  G_OBJECT_CLASS (hearth_sync_store_parent_class)->finalize (object);
}

static void
hearth_sync_store_class_init (HearthSyncStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hearth_sync_store_finalize;
}

static void
hearth_sync_store_init (HearthSyncStore *self)
{
}

HearthSyncStore *
hearth_sync_store_new (HearthCaseStore *cases)
{
  HearthSyncStore *self;

  g_return_val_if_fail (HEARTH_IS_CASE_STORE (cases), NULL);
  self = g_object_new (HEARTH_TYPE_SYNC_STORE, NULL);
  self->cases = g_object_ref (cases);
  self->db = hearth_case_store_get_db (cases);
  return self;
}

HearthCaseStore *
hearth_sync_store_get_cases (HearthSyncStore *self)
{
  return self->cases;
}

/* ---- pull: several pages in one transaction ---------------------------------- */

gboolean
hearth_sync_store_begin_pages (HearthSyncStore *self, GError **error)
{
  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), FALSE);
  if (!sqlite3_get_autocommit (self->db))
    {
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
                   _("the pages of a pull need a transaction of their own, and one is open already"));
      return FALSE;
    }
  self->pages = hearth_sync_exec (self->db, "BEGIN IMMEDIATE", error);
  return self->pages;
}

gboolean
hearth_sync_store_commit_pages (HearthSyncStore *self, GError **error)
{
  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), FALSE);
  /* The pages' apply left them off (apply_page()). */
  hearth_sync_triggers_on (self->db);
  if (!self->pages)
    return TRUE;
  self->pages = FALSE;
  if (sqlite3_get_autocommit (self->db))
    return TRUE;   /* rolled back already */
  if (hearth_sync_exec (self->db, "COMMIT", error))
    return TRUE;
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

void
hearth_sync_triggers_on (sqlite3 *db)
{
  int now = -1;

  /* Setting the value it has already expires nothing. */
  if (sqlite3_db_config (db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, &now) != SQLITE_OK || now != 1)
    g_warning ("the store's triggers could not be turned back on");
}

gboolean
hearth_sync_store_in_pages (HearthSyncStore *self)
{
  return self->pages && !sqlite3_get_autocommit (self->db);
}

/* ---- push: the next batch ------------------------------------------------------ */

/* Whose data a record is (PROTOCOL.md section 6), as it stands now: the
 * household itself, or the household its household_id names, and that
 * household's village. Either is left NULL when unknown. */
static void
resolve_scope (sqlite3 *db, const char *table, const char *id, char **household, char **village)
{
  sqlite3_stmt *st = NULL;
  g_autofree char *found = NULL;

  *household = NULL;
  *village = NULL;
  if (g_strcmp0 (table, "households") == 0)
    found = g_strdup (id);
  else if ((hearth_sync_is_edit_table (table) || g_strcmp0 (table, "submissions") == 0 ||
            g_strcmp0 (table, "reviews") == 0) && hearth_sync_is_field (db, table, "household_id"))
    {
      g_autofree char *sql = g_strdup_printf ("SELECT household_id FROM \"%s\" WHERE id = ?", table);

      if ((st = hearth_sync_prepare (db, sql)) != NULL)
        {
          sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
          if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_text (st, 0) != NULL)
            found = g_strdup ((const char *) sqlite3_column_text (st, 0));
        }
      g_clear_pointer (&st, hearth_sync_finish);
    }
  if (found == NULL || !g_uuid_string_is_valid (found))
    return;
  if ((st = hearth_sync_prepare (db, "SELECT village_code FROM households WHERE id = ?")) != NULL)
    {
      sqlite3_bind_text (st, 1, found, -1, SQLITE_STATIC);
      if (sqlite3_step (st) == SQLITE_ROW)
        {
          const char *v = (const char *) sqlite3_column_text (st, 0);
          if (v != NULL && strlen (v) == 12 && strspn (v, "0123456789") == 12)
            *village = g_strdup (v);
        }
    }
  hearth_sync_finish (st);
  *household = g_steal_pointer (&found);
}

static gboolean
missing (gint64 seq, const char *table, const char *id, GError **error)
{
  g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
               _("change %lld names %s %s, which the store no longer holds"), (long long) seq, table, id);
  return FALSE;
}

static gboolean
fill_edit (sqlite3 *db, HearthChange *c, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  if ((st = hearth_sync_prepare (db, "SELECT parents, value, wall FROM field_edits "
                                     "WHERE rkey = hearth_edit_key (?1, ?2, NULL) AND vkey = hearth_version_key (?4) "
                                     "AND record_table = ?1 AND record_id = ?2 AND field = ?3 AND hlc = ?4")) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, c->table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, c->id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, c->field, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, c->hlc, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      g_auto(GStrv) parents = hearth_sync_split_versions ((const char *) sqlite3_column_text (st, 0));
      const char *wall = (const char *) sqlite3_column_text (st, 2);

      for (guint i = 0; parents[i] != NULL; i++)
        g_ptr_array_add (c->parents, g_strdup (parents[i]));
      c->value = g_strdup ((const char *) sqlite3_column_text (st, 1));
      c->wall = wall != NULL && wall[0] != '\0' ? g_strdup (wall) : NULL;
    }
  hearth_sync_finish (st);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc != SQLITE_DONE)
    return hearth_sync_sql_failed (db, error);
  return missing (c->seq, c->table, c->id, error);
}

/* The fields of this device's write @c->hlc of @c's record (an outbox row
 * of kind 'edits', migration 0012), in name order, as one change. */
static gboolean
fill_edits (sqlite3 *db, HearthChange *c, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  /* A write's row is under its record's and version's keys (migration 0014). */
  if ((st = hearth_sync_prepare (db, "SELECT field, parents, value, wall FROM field_edits "
                                     "WHERE rkey = hearth_edit_key (?1, ?2, NULL) AND vkey = hearth_version_key (?3) "
                                     "AND record_table = ?1 AND record_id = ?2 AND hlc = ?3 ORDER BY field")) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, c->table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, c->id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, c->hlc, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      g_auto(GStrv) split = hearth_sync_split_versions ((const char *) sqlite3_column_text (st, 1));
      g_autoptr(GPtrArray) parents = g_ptr_array_new ();
      const char *wall = (const char *) sqlite3_column_text (st, 3);

      for (guint i = 0; split[i] != NULL; i++)
        g_ptr_array_add (parents, split[i]);
      hearth_change_add_edit (c, (const char *) sqlite3_column_text (st, 0),
                              (const char *) sqlite3_column_text (st, 2), parents);
      /* One write, one wall time. */
      if (c->wall == NULL && wall != NULL && wall[0] != '\0')
        c->wall = g_strdup (wall);
    }
  hearth_sync_finish (st);
  if (rc != SQLITE_DONE)
    return hearth_sync_sql_failed (db, error);
  if (c->edits->len > 0)
    return TRUE;
  return missing (c->seq, c->table, c->id, error);
}

static const char audit_columns[] = "seq, at, actor, device_id, action, record_table, record_id, fields, prev_hash, hash";

static gboolean
fill_record (sqlite3 *db, HearthChange *c, GError **error)
{
  g_autofree char *sql = NULL;
  sqlite3_stmt *st = NULL;
  int rc;

  if (g_str_equal (c->table, "audit"))
    sql = g_strdup_printf ("SELECT %s FROM audit_log WHERE id = ?", audit_columns);
  else
    sql = g_strdup_printf ("SELECT * FROM \"%s\" WHERE id = ?", c->table);
  if ((st = hearth_sync_prepare (db, sql)) == NULL)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, c->id, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    for (int i = 0; i < sqlite3_column_count (st); i++)
      {
        const char *name = sqlite3_column_name (st, i);
        char *value;

        if (g_str_equal (name, "id"))
          continue;
        if (hearth_packed_column (c->table, name))
          {
            /* Sent as the text it is (PROTOCOL.md); a damaged copy is
             * not sent at all. */
            g_autoptr(GError) damaged = NULL;

            value = hearth_packed_column_text (st, i, c->table, c->id, &damaged);
            if (damaged != NULL)
              {
                hearth_sync_finish (st);
                g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
                             _("change %lld: %s"), (long long) c->seq, damaged->message);
                return FALSE;
              }
          }
        else
          value = g_strdup ((const char *) sqlite3_column_text (st, i));
        if (value != NULL)
          g_hash_table_insert (c->fields, g_strdup (name), value);
      }
  hearth_sync_finish (st);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc != SQLITE_DONE)
    return hearth_sync_sql_failed (db, error);
  return missing (c->seq, c->table, c->id, error);
}

GPtrArray *
hearth_sync_store_next_batch (HearthSyncStore *self, guint max, GError **error)
{
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  sqlite3_stmt *st = NULL;
  gboolean ok = TRUE;
  int rc;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), NULL);
  /* One read transaction: the batch and the records it names agree. */
  if (!hearth_sync_exec (self->db, "SAVEPOINT sync_next_batch", error))
    return NULL;
  hearth_sync_cache_open (self->db);
  if (sqlite3_prepare_v2 (self->db, "SELECT seq, kind, record_table, record_id, field, hlc FROM sync_outbox "
                                    "WHERE seq > ? ORDER BY seq LIMIT ?", -1, &st, NULL) != SQLITE_OK)
    {
      hearth_sync_sql_failed (self->db, error);
      hearth_sync_cache_close (self->db);
      hearth_sync_exec (self->db, "ROLLBACK TO sync_next_batch; RELEASE sync_next_batch", NULL);
      return NULL;
    }
  sqlite3_bind_int64 (st, 1, state_int (self->db, "acked_seq", 0));
  sqlite3_bind_int64 (st, 2, max);
  while (ok && (rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      const char *kind = (const char *) sqlite3_column_text (st, 1);
      gboolean edit = g_strcmp0 (kind, "edit") == 0;
      gboolean edits = g_strcmp0 (kind, "edits") == 0;
      HearthChange *c = hearth_change_new (edit ? HEARTH_CHANGE_EDIT
                                           : edits ? HEARTH_CHANGE_EDITS : HEARTH_CHANGE_RECORD);

      g_ptr_array_add (batch, c);
      c->seq = sqlite3_column_int64 (st, 0);
      c->table = g_strdup ((const char *) sqlite3_column_text (st, 2));
      c->id = g_strdup ((const char *) sqlite3_column_text (st, 3));
      if (edit)
        {
          c->field = g_strdup ((const char *) sqlite3_column_text (st, 4));
          c->hlc = g_strdup ((const char *) sqlite3_column_text (st, 5));
          ok = fill_edit (self->db, c, error);
          resolve_scope (self->db, c->table, c->id, &c->household, &c->village);
        }
      else if (edits)
        {
          c->hlc = g_strdup ((const char *) sqlite3_column_text (st, 5));
          ok = fill_edits (self->db, c, error);
          resolve_scope (self->db, c->table, c->id, &c->household, &c->village);
        }
      else
        {
          ok = fill_record (self->db, c, error);
          /* An audit entry is whose chain it is, not whose data: the
           * center checks it for the chain only (PROTOCOL.md section 6.2). */
          if (!g_str_equal (c->table, "audit"))
            resolve_scope (self->db, c->table, c->id, &c->household, &c->village);
        }
    }
  if (ok && rc != SQLITE_DONE)
    ok = hearth_sync_sql_failed (self->db, error);
  sqlite3_finalize (st);
  hearth_sync_cache_close (self->db);
  hearth_sync_exec (self->db, "RELEASE sync_next_batch", NULL);
  return ok ? g_steal_pointer (&batch) : NULL;
}

/* ---- push: the reply ------------------------------------------------------------ */

/* The parents of the record's (?1, ?2) edits that name version ?3 name
 * ?4 instead (a member of each row of the record's writes, migration
 * 0014; of field ?5 only unless it is NULL). A version may hold '"' or
 * '\' (sync/hlc.c): compared in the members' text, not the row's JSON. */
#define RENAME_PARENTS_SQL \
  "UPDATE record_writes SET fields = (" \
  "  SELECT json_group_object (f.key, CASE WHEN f.type = 'array' AND (?5 IS NULL OR f.key = ?5) " \
  "    AND instr (' ' || (f.value ->> 1) || ' ', ' ' || ?3 || ' ') > 0 THEN " \
  "      CASE WHEN json_array_length (f.value) > 2 " \
  "        THEN json_array (f.value ->> 0, " \
  "                         trim (replace (' ' || (f.value ->> 1) || ' ', ' ' || ?3 || ' ', ' ' || ?4 || ' ')), " \
  "                         f.value ->> 2) " \
  "        ELSE json_array (f.value ->> 0, " \
  "                         trim (replace (' ' || (f.value ->> 1) || ' ', ' ' || ?3 || ' ', ' ' || ?4 || ' '))) END " \
  "    ELSE f.value END) FROM json_each (fields) AS f) " \
  "WHERE rkey = hearth_edit_key (?1, ?2, NULL) AND record_table = ?1 AND record_id = ?2 " \
  "AND EXISTS (SELECT 1 FROM json_each (fields) AS f WHERE f.type = 'array' AND (?5 IS NULL OR f.key = ?5) " \
  "            AND instr (' ' || (f.value ->> 1) || ' ', ' ' || ?3 || ' ') > 0)"

gboolean
hearth_sync_rename_parents (sqlite3 *db, const char *table, const char *id, const char *field, const char *old,
                            const char *hlc, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, RENAME_PARENTS_SQL, -1, &st, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, old, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, hlc, -1, SQLITE_STATIC);
  if (field != NULL)
    sqlite3_bind_text (st, 5, field, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  return rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
}

/* Runs @sql with @table, @id, @a, @b as ?1 to ?4 and @seq as ?5 when the
 * statement has a fifth parameter. */
static gboolean
run_clamp_step (sqlite3 *db, const char *sql, const char *table, const char *id, const char *a, const char *b,
                gint64 seq, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, a, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, b, -1, SQLITE_STATIC);
  if (sqlite3_bind_parameter_count (st) >= 5)
    sqlite3_bind_int64 (st, 5, seq);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  return rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
}

/* apply_clamp() of a write of several fields (an outbox row of kind
 * 'edits'): its one version @old renamed @hlc (its row's, migration
 * 0014), and in the parents of the record's later edits; each of its
 * fields recomputed. */
static gboolean
clamp_write (sqlite3 *db, gint64 seq, const char *table, const char *id, const char *old, const char *hlc,
             const char *now, GError **error)
{
  g_autoptr(GPtrArray) fields = NULL;
  static const char *const renames[] = {
    "UPDATE record_writes SET hlc = ?4 WHERE rkey = hearth_edit_key (?1, ?2, NULL) "
    "AND vkey = hearth_version_key (?3) AND record_table = ?1 AND record_id = ?2 AND hlc = ?3",
    "UPDATE sync_outbox SET hlc = ?4 WHERE seq = ?5",
    /* Conflicts named after the old version existed here only. */
    "DELETE FROM conflicts WHERE record_table = ?1 AND record_id = ?2 AND ?3 IN (kept_hlc, lost_hlc)",
  };

  if ((fields = hearth_sync_write_fields (db, table, id, old, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (renames); i++)
    if (!run_clamp_step (db, renames[i], table, id, old, hlc, seq, error))
      return FALSE;
  if (!hearth_sync_rename_parents (db, table, id, NULL, old, hlc, error))
    return FALSE;
  for (guint i = 0; i < fields->len; i++)
    if (!hearth_sync_recompute_field (db, table, id, fields->pdata[i], now, NULL, NULL, error))
      return FALSE;
  return TRUE;
}

/* The edit of @field under @old moved to version @hlc: the write's row
 * renamed when the field is its only one and the store has no write
 * @hlc, else its member taken out of
 * the write @old and put in the write @hlc (migration 0014). */
static gboolean
move_edit (sqlite3 *db, const char *table, const char *id, const char *field, const char *old, const char *hlc,
           GError **error)
{
  sqlite3_stmt *st = NULL;
  g_autofree char *parents = NULL, *value = NULL, *wall = NULL;
  gint64 members = 0;
  int rc;

  if (sqlite3_prepare_v2 (db, "SELECT e.parents, e.value, e.wall, "
                              "  (SELECT count (*) FROM field_edits AS o WHERE o.rkey = e.rkey AND o.vkey = e.vkey "
                              "   AND o.record_table = ?1 AND o.record_id = ?2 AND o.hlc = ?4) "
                              "  + EXISTS (SELECT 1 FROM record_writes WHERE rkey = e.rkey "
                              "            AND vkey = hearth_version_key (?5) AND record_table = ?1 "
                              "            AND record_id = ?2 AND hlc = ?5) "
                              "FROM field_edits AS e "
                              "WHERE e.rkey = hearth_edit_key (?1, ?2, NULL) AND e.vkey = hearth_version_key (?4) "
                              "AND e.record_table = ?1 AND e.record_id = ?2 AND e.field = ?3 AND e.hlc = ?4",
                          -1, &st, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, field, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, old, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 5, hlc, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      parents = g_strdup ((const char *) sqlite3_column_text (st, 0));
      value = g_strdup ((const char *) sqlite3_column_text (st, 1));
      wall = g_strdup ((const char *) sqlite3_column_text (st, 2));
      members = sqlite3_column_int64 (st, 3);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_ROW)
    return rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
  /* Its write's only field, and no write of the new version yet (a
   * field of the same write clamped to it before). */
  if (members == 1)
    return run_clamp_step (db, "UPDATE record_writes SET hlc = ?4 WHERE rkey = hearth_edit_key (?1, ?2, NULL) "
                               "AND vkey = hearth_version_key (?3) AND record_table = ?1 AND record_id = ?2 "
                               "AND hlc = ?3", table, id, old, hlc, 0, error);
  return hearth_sync_remove_edit (db, table, id, field, old, error) &&
         hearth_sync_put_edit (db, table, id, field, hlc, parents, value, wall, error);
}

/* The center stored edit @seq under @hlc (PROTOCOL.md section 6.3, rule
 * 5): only this device ever held the old version, so it is renamed
 * wherever this store names it and the field recomputed (every field of
 * a write of kind "edits"). @acked: the number acknowledged before this
 * reply (such rows may be gone). */
static gboolean
apply_clamp (sqlite3 *db, const HearthSyncClamp *clamp, gint64 acked, const char *now, GError **error)
{
  sqlite3_stmt *st = NULL;
  g_autofree char *kind = NULL, *table = NULL, *id = NULL, *field = NULL, *old = NULL;
  HearthHlc parsed;
  static const char *const renames[] = {
    "UPDATE sync_outbox SET hlc = ?4 WHERE seq = ?5",
    /* Conflicts named after the old version existed here only. */
    "DELETE FROM conflicts WHERE record_table = ?1 AND record_id = ?2 AND field = ?3 AND ?4 IN (kept_hlc, lost_hlc)",
  };

  if (clamp->hlc == NULL || !hearth_hlc_parse (clamp->hlc, &parsed, NULL))
    {
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
                   _("the clamped version of change %lld is not a version: “%s”"), (long long) clamp->seq,
                   clamp->hlc != NULL ? clamp->hlc : "");
      return FALSE;
    }
  if (sqlite3_prepare_v2 (db, "SELECT kind, record_table, record_id, field, hlc FROM sync_outbox WHERE seq = ?",
                          -1, &st, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_int64 (st, 1, clamp->seq);
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      kind = g_strdup ((const char *) sqlite3_column_text (st, 0));
      table = g_strdup ((const char *) sqlite3_column_text (st, 1));
      id = g_strdup ((const char *) sqlite3_column_text (st, 2));
      field = g_strdup ((const char *) sqlite3_column_text (st, 3));
      old = g_strdup ((const char *) sqlite3_column_text (st, 4));
    }
  sqlite3_finalize (st);
  if (kind == NULL && clamp->seq <= acked)
    return TRUE;  /* a reply received again, after its rows were let go */
  if (g_strcmp0 (kind, "edit") != 0 && g_strcmp0 (kind, "edits") != 0)
    {
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
                   _("the center clamped change %lld, which is not an edit of this device"), (long long) clamp->seq);
      return FALSE;
    }
  if (g_str_equal (old, clamp->hlc))
    return TRUE;  /* a reply received again */
  if (g_str_equal (kind, "edits"))
    return clamp_write (db, clamp->seq, table, id, old, clamp->hlc, now, error);
  if (!move_edit (db, table, id, field, old, clamp->hlc, error) ||
      !hearth_sync_rename_parents (db, table, id, field, old, clamp->hlc, error) ||
      !run_clamp_step (db, renames[0], table, id, old, clamp->hlc, clamp->seq, error))
    return FALSE;
  /* The conflicts: ?3 the field, ?4 the old version. */
  if (!run_clamp_step (db, renames[1], table, id, field, old, 0, error))
    return FALSE;
  return hearth_sync_recompute_field (db, table, id, field, now, NULL, NULL, error);
}

static gboolean
store_refusal (sqlite3 *db, const HearthSyncRefusal *r, const char *now, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, "INSERT INTO sync_refused (seq, code, message, at) VALUES (?, ?, ?, ?) "
                              "ON CONFLICT (seq) DO NOTHING", -1, &st, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_int64 (st, 1, r->seq);
  sqlite3_bind_text (st, 2, r->code != NULL ? r->code : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, r->message != NULL ? r->message : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, now, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return hearth_sync_sql_failed (db, error);
  if (sqlite3_prepare_v2 (db, "UPDATE sync_outbox SET state = 'refused' WHERE seq = ?", -1, &st, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_int64 (st, 1, r->seq);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  return rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
}

static gint64
last_seq (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  gint64 last = 0;

  if (sqlite3_prepare_v2 (db, "SELECT max (seq) FROM sync_outbox", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step (st) == SQLITE_ROW)
    last = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return last;
}

static gboolean
beyond (gint64 seq, gint64 last, GError **error)
{
  g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
               _("the center answered for change %lld, but the last change is %lld"), (long long) seq,
               (long long) last);
  return FALSE;
}

gboolean
hearth_sync_store_acknowledge (HearthSyncStore *self, gint64 acked, const HearthSyncRefusal *refused, guint n_refused,
                               const HearthSyncClamp *clamped, guint n_clamped, GError **error)
{
  g_autofree char *now = NULL;
  HearthSyncTx tx;
  gint64 last, current;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), FALSE);
  g_return_val_if_fail (refused != NULL || n_refused == 0, FALSE);
  g_return_val_if_fail (clamped != NULL || n_clamped == 0, FALSE);
  now = hearth_sync_iso_time (hearth_case_store_now_ms (self->cases));
  if (!hearth_sync_tx_begin (&tx, self->db, "sync_acknowledge", error))
    return FALSE;
  last = last_seq (self->db);
  current = state_int (self->db, "acked_seq", 0);
  if (acked < 0 || acked > last)
    {
      beyond (acked, last, error);
      goto failed;
    }
  /* Clamps before the acknowledgement: an edit is never marked pushed
   * under a version the center does not hold. */
  for (guint i = 0; i < n_clamped; i++)
    if (clamped[i].seq < 1 || clamped[i].seq > last)
      {
        beyond (clamped[i].seq, last, error);
        goto failed;
      }
    else if (!apply_clamp (self->db, &clamped[i], current, now, error))
      goto failed;
  for (guint i = 0; i < n_refused; i++)
    if (refused[i].seq < 1 || refused[i].seq > last)
      {
        beyond (refused[i].seq, last, error);
        goto failed;
      }
    else if (!store_refusal (self->db, &refused[i], now, error) ||
             (g_strcmp0 (refused[i].code, "duplicate") == 0 &&
              !hearth_sync_revert_refused_edit (self->db, refused[i].seq, now, error)))
      goto failed;
  if (acked > current)
    {
      /* The center holds them now: their rows go, but the newest, which
       * keeps the numbering (the next rowid is the largest plus one). */
      static const char *const done[] = {
        "UPDATE sync_outbox SET state = 'acked' WHERE seq > ?1 AND seq <= ?2 AND state = 'pending'",
        "DELETE FROM sync_outbox WHERE seq < ?2 AND state = 'acked'",
      };

      for (guint i = 0; i < G_N_ELEMENTS (done); i++)
        {
          sqlite3_stmt *st = NULL;
          int rc;

          if (sqlite3_prepare_v2 (self->db, done[i], -1, &st, NULL) != SQLITE_OK)
            {
              hearth_sync_sql_failed (self->db, error);
              goto failed;
            }
          sqlite3_bind_int64 (st, 1, current);
          sqlite3_bind_int64 (st, 2, acked);
          rc = sqlite3_step (st);
          sqlite3_finalize (st);
          if (rc != SQLITE_DONE)
            {
              hearth_sync_sql_failed (self->db, error);
              goto failed;
            }
        }
      if (!hearth_sync_state_set (self->db, "acked_seq", NULL, acked, error))
        goto failed;
    }
  return hearth_sync_tx_commit (&tx, error);

failed:
  hearth_sync_tx_rollback (&tx);
  return FALSE;
}

/* ---- status, exchange, enrolment ------------------------------------------------ */

static gint64
count (sqlite3 *db, const char *sql, gint64 arg)
{
  sqlite3_stmt *st = NULL;
  gint64 n = 0;

  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK)
    {
      if (sqlite3_bind_parameter_count (st) > 0)
        sqlite3_bind_int64 (st, 1, arg);
      if (sqlite3_step (st) == SQLITE_ROW)
        n = sqlite3_column_int64 (st, 0);
    }
  sqlite3_finalize (st);
  return n;
}

gboolean
hearth_sync_store_status (HearthSyncStore *self, HearthSyncStatus *out, GError **error)
{
  g_autofree char *more = NULL;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), FALSE);
  if (!hearth_sync_exec (self->db, "SAVEPOINT sync_status", error))
    return FALSE;
  memset (out, 0, sizeof *out);
  out->last_seq = last_seq (self->db);
  out->acked_seq = state_int (self->db, "acked_seq", 0);
  /* The outbox numbers its changes in order (max + 1) and deletes only
   * acknowledged ones: those after acked_seq are every number up to the
   * last. Counting them would read the whole outbox (millions of rows on a
   * store never synced, seconds at each unlock). */
  out->pending = MAX (0, out->last_seq - out->acked_seq);
  out->refused = count (self->db, "SELECT count (*) FROM sync_refused", 0);
  out->rejected = count (self->db, "SELECT count (*) FROM sync_apply_errors", 0);
  out->cursor = state_int (self->db, "cursor", 0);
  out->compact_until = state_int (self->db, "compact_until", 0);
  more = state_text (self->db, "pull_more");
  out->pull_more = more == NULL || !g_str_equal (more, "0");
  out->last_sync_ms = state_int (self->db, "last_sync_ms", 0);
  out->last_failed_ms = state_int (self->db, "last_failed_ms", 0);
  out->center_offset_ms = state_int (self->db, "center_offset_ms", 0);
  out->synced = out->pending == 0 && !out->pull_more;
  return hearth_sync_exec (self->db, "RELEASE sync_status", error);
}

void
hearth_sync_refused_change_free (HearthSyncRefusedChange *change)
{
  if (change == NULL)
    return;
  g_free (change->code);
  g_free (change->message);
  g_free (change->at);
  g_free (change->table);
  g_free (change->record_id);
  g_free (change->household_id);
  g_free (change->head_name);
  g_free (change->registry_no);
  g_strfreev (change->fields);
  g_free (change->member_name);
  g_free (change);
}

static char *
column_text (sqlite3_stmt *st, int column)
{
  const unsigned char *text = sqlite3_column_text (st, column);

  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

/* The first column of @sql's one row with @a (and @b, @c, @d when not
 * NULL) bound, or NULL; FALSE when the statement fails. */
static gboolean
lookup_text (sqlite3 *db, const char *sql, const char *a, const char *b, const char *c, const char *d, char **out,
             GError **error)
{
  const char *args[] = { a, b, c, d };
  sqlite3_stmt *st = NULL;
  int rc;

  *out = NULL;
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (db, error);
  for (int i = 0; i < (int) G_N_ELEMENTS (args) && i < sqlite3_bind_parameter_count (st); i++)
    sqlite3_bind_text (st, i + 1, args[i], -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    *out = column_text (st, 0);
  sqlite3_finalize (st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
}

/* Fills @r's household (from its record) and the fields of its write. */
static gboolean
refused_about (sqlite3 *db, HearthSyncRefusedChange *r, const char *kind, const char *field, const char *hlc,
               GError **error)
{
  static const char *const with_household[] = { "members", "tasks", "measures", "submissions", "reviews", NULL };

  if (r->table == NULL || r->record_id == NULL)
    return TRUE;
  if (g_str_equal (r->table, "households"))
    r->household_id = g_strdup (r->record_id);
  else if (g_strv_contains (with_household, r->table))
    {
      g_autofree char *sql = g_strdup_printf ("SELECT household_id FROM \"%s\" WHERE id = ?", r->table);

      if (!lookup_text (db, sql, r->record_id, NULL, NULL, NULL, &r->household_id, error))
        return FALSE;
    }
  if (r->household_id != NULL &&
      (!lookup_text (db, "SELECT nullif (head_name, '') FROM households WHERE id = ?", r->household_id, NULL, NULL,
                     NULL, &r->head_name, error) ||
       !lookup_text (db, "SELECT nullif (registry_no, '') FROM households WHERE id = ?", r->household_id, NULL, NULL,
                     NULL, &r->registry_no, error)))
    return FALSE;

  if (g_strcmp0 (kind, "edit") == 0 && field != NULL)
    {
      const char *one[] = { field, NULL };

      r->fields = g_strdupv ((char **) one);
    }
  else if (g_strcmp0 (kind, "edits") == 0 && hlc != NULL)
    {
      /* The write's fields are the table's fields with an edit under its
       * version: one probe each of the write's row (migration 0014). */
      const char *const *names = hearth_change_table_fields (r->table);
      g_autoptr(GStrvBuilder) found = g_strv_builder_new ();
      guint n = 0;

      for (guint i = 0; names != NULL && names[i] != NULL; i++)
        {
          g_autofree char *hit = NULL;

          if (!lookup_text (db, "SELECT 1 FROM field_edits WHERE rkey = hearth_edit_key (?1, ?2, NULL) "
                                "AND vkey = hearth_version_key (?4) AND record_table = ?1 AND record_id = ?2 "
                                "AND field = ?3 AND hlc = ?4",
                            r->table, r->record_id, names[i], hlc, &hit, error))
            return FALSE;
          if (hit != NULL)
            {
              g_strv_builder_add (found, names[i]);
              n++;
            }
        }
      if (n > 0)
        r->fields = g_strv_builder_end (found);
      else if (g_strcmp0 (r->code, "duplicate") == 0 && g_str_equal (r->table, "households"))
        {
          /* A duplicate's write was taken back (its edits are gone): the
           * center refuses a registry number only so (PROTOCOL.md section
           * 7.2), and a device writes it under a version of its own. */
          const char *number[] = { "registry_no", NULL };

          r->fields = g_strdupv ((char **) number);
        }
    }
  if (r->fields != NULL)
    r->created = g_str_equal (r->table, "households")
                   ? g_strv_contains ((const char *const *) r->fields, "village_code") &&
                       g_strv_contains ((const char *const *) r->fields, "head_name")
                   : g_strv_contains ((const char *const *) r->fields, "household_id");
  if (g_str_equal (r->table, "members") &&
      !lookup_text (db, "SELECT nullif (name, '') FROM members WHERE id = ?", r->record_id, NULL, NULL, NULL,
                    &r->member_name, error))
    return FALSE;
  return TRUE;
}

GPtrArray *
hearth_sync_store_list_refused (HearthSyncStore *self, guint limit, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_sync_refused_change_free);
  sqlite3_stmt *st = NULL;
  int rc;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), NULL);
  /* One read transaction: the list and the records it names agree. */
  if (!hearth_sync_exec (self->db, "SAVEPOINT sync_refused_list", error))
    return NULL;
  if (sqlite3_prepare_v2 (self->db, "SELECT r.seq, r.code, r.message, r.at, o.kind, o.record_table, o.record_id, "
                                    "o.field, o.hlc FROM sync_refused AS r LEFT JOIN sync_outbox AS o ON o.seq = r.seq "
                                    "ORDER BY r.seq DESC LIMIT ?", -1, &st, NULL) != SQLITE_OK)
    {
      hearth_sync_sql_failed (self->db, error);
      goto failed;
    }
  sqlite3_bind_int64 (st, 1, limit > 0 ? (gint64) limit : -1);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      HearthSyncRefusedChange *r = g_new0 (HearthSyncRefusedChange, 1);
      g_autofree char *kind = column_text (st, 4);
      g_autofree char *field = column_text (st, 7);
      g_autofree char *hlc = column_text (st, 8);

      g_ptr_array_add (out, r);
      r->seq = sqlite3_column_int64 (st, 0);
      r->code = column_text (st, 1);
      r->message = column_text (st, 2);
      r->at = column_text (st, 3);
      r->table = column_text (st, 5);
      r->record_id = column_text (st, 6);
      if (!refused_about (self->db, r, kind, field, hlc, error))
        goto failed;
    }
  if (rc != SQLITE_DONE)
    {
      hearth_sync_sql_failed (self->db, error);
      goto failed;
    }
  sqlite3_finalize (st);
  if (!hearth_sync_exec (self->db, "RELEASE sync_refused_list", error))
    return NULL;
  return g_steal_pointer (&out);

failed:
  sqlite3_finalize (st);
  sqlite3_exec (self->db, "ROLLBACK TO sync_refused_list; RELEASE sync_refused_list", NULL, NULL, NULL);
  return NULL;
}

void
hearth_sync_store_set_center_offset (HearthSyncStore *self, gint64 center_offset_ms)
{
  g_return_if_fail (HEARTH_IS_SYNC_STORE (self));
  self->have_offset = TRUE;
  self->center_offset_ms = center_offset_ms;
}

gint64
hearth_sync_store_center_now (HearthSyncStore *self)
{
  gint64 offset = self->have_offset ? self->center_offset_ms : state_int (self->db, "center_offset_ms", 0);

  return hearth_case_store_now_ms (self->cases) + offset;
}

gboolean
hearth_sync_store_set_exchange (HearthSyncStore *self, gint64 center_offset_ms, gint64 synced_at_ms, GError **error)
{
  HearthSyncTx tx;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), FALSE);
  if (!hearth_sync_tx_begin (&tx, self->db, "sync_exchange", error))
    return FALSE;
  if (!hearth_sync_state_set (self->db, "center_offset_ms", NULL, center_offset_ms, error) ||
      (synced_at_ms > 0 && !hearth_sync_state_set (self->db, "last_sync_ms", NULL, synced_at_ms, error)))
    {
      hearth_sync_tx_rollback (&tx);
      return FALSE;
    }
  return hearth_sync_tx_commit (&tx, error);
}

gboolean
hearth_sync_store_finish_run (HearthSyncStore *self, gint64 center_offset_ms, gint64 synced_at_ms,
                              const char *holder, GError **error)
{
  sqlite3_stmt *st = NULL;
  HearthSyncTx tx;
  int rc;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), FALSE);
  g_return_val_if_fail (holder != NULL, FALSE);
  if (!hearth_sync_tx_begin (&tx, self->db, "sync_finish_run", error))
    return FALSE;
  if (!hearth_sync_state_set (self->db, "center_offset_ms", NULL, center_offset_ms, error) ||
      (synced_at_ms > 0 && !hearth_sync_state_set (self->db, "last_sync_ms", NULL, synced_at_ms, error)))
    goto failed;
  if (sqlite3_prepare_v2 (self->db, "DELETE FROM sync_lease WHERE holder = ?", -1, &st, NULL) != SQLITE_OK)
    {
      hearth_sync_sql_failed (self->db, error);
      goto failed;
    }
  sqlite3_bind_text (st, 1, holder, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    {
      hearth_sync_sql_failed (self->db, error);
      goto failed;
    }
  return hearth_sync_tx_commit (&tx, error);

failed:
  hearth_sync_tx_rollback (&tx);
  return FALSE;
}

gboolean
hearth_sync_store_note_failed_run (HearthSyncStore *self, gint64 failed_at_ms, GError **error)
{
  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), FALSE);
  return hearth_sync_state_set (self->db, "last_failed_ms", NULL, failed_at_ms, error);
}

void
hearth_sync_enrolment_free (HearthSyncEnrolment *e)
{
  if (e == NULL)
    return;
  g_free (e->center_url);
  g_free (e->user);
  g_free (e->role);
  g_strfreev (e->scope);
  g_free (e->county);
  g_free (e->county_public_key);
  g_strfreev (e->features);
  g_free (e->tls_ca_pem);
  g_free (e->tls_pin);
  g_free (e);
}

/* ---- what the center takes (PROTOCOL.md section 5) ------------------------------- */

/* Whether this store's writes enter the outbox as one row of kind 'edits'
 * each (sync_state 'outbox_edits', read by the trigger of migration
 * 0012), or one 'edit' row per field. */
static gboolean
set_grouping (sqlite3 *db, gboolean on, GError **error)
{
  return hearth_sync_exec (db, on ? "INSERT OR IGNORE INTO sync_state (key, value) VALUES ('outbox_edits', 1)"
                                  : "DELETE FROM sync_state WHERE key = 'outbox_edits'", error);
}

static gboolean
keep_features (sqlite3 *db, const char *const *features, GError **error)
{
  g_autofree char *text = g_strjoinv (" ", (char **) features);

  return hearth_sync_state_set (db, "features", text, 0, error);
}

gboolean
hearth_sync_store_set_features (HearthSyncStore *self, const char *const *features, GError **error)
{
  g_autofree char *known = NULL;
  g_autofree char *text = NULL;
  HearthSyncTx tx;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), FALSE);
  if (features == NULL)
    return TRUE;
  /* Most replies say what the store knows: nothing to write. */
  known = state_text (self->db, "features");
  text = g_strjoinv (" ", (char **) features);
  if (g_strcmp0 (known, text) == 0)
    return TRUE;
  if (!hearth_sync_tx_begin (&tx, self->db, "sync_features", error))
    return FALSE;
  /* Taking them once is for good: rows grouped already are sent grouped
   * (a center never stops taking them). */
  if (!keep_features (self->db, features, error) ||
      (g_strv_contains (features, "edits") && !set_grouping (self->db, TRUE, error)))
    {
      hearth_sync_tx_rollback (&tx);
      return FALSE;
    }
  return hearth_sync_tx_commit (&tx, error);
}

/* The outbox rows after the acknowledged number, a write of several
 * fields (kind 'edits') made one 'edit' row per field, in name order
 * (hearth_change_expand()'s), and all numbered again, in their order,
 * from the acknowledged number + 1: for a center that does not take
 * "edits". Only for rows never sent (the numbers change). */
static gboolean
expand_outbox (sqlite3 *db, GError **error)
{
  typedef struct {
    char *kind, *table, *id, *field, *hlc, *state;
  } Row;
  g_autoptr(GArray) rows = g_array_new (FALSE, TRUE, sizeof (Row));
  sqlite3_stmt *read = NULL, *fields = NULL, *insert = NULL;
  gint64 acked = state_int (db, "acked_seq", 0), next = acked + 1;
  gboolean grouped = FALSE, ok = FALSE;
  int rc;

  if (sqlite3_prepare_v2 (db, "SELECT kind, record_table, record_id, field, hlc, state FROM sync_outbox "
                              "WHERE seq > ? ORDER BY seq", -1, &read, NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_int64 (read, 1, acked);
  while ((rc = sqlite3_step (read)) == SQLITE_ROW)
    {
      Row r = {
        g_strdup ((const char *) sqlite3_column_text (read, 0)), g_strdup ((const char *) sqlite3_column_text (read, 1)),
        g_strdup ((const char *) sqlite3_column_text (read, 2)), g_strdup ((const char *) sqlite3_column_text (read, 3)),
        g_strdup ((const char *) sqlite3_column_text (read, 4)), g_strdup ((const char *) sqlite3_column_text (read, 5)),
      };

      grouped = grouped || g_strcmp0 (r.kind, "edits") == 0;
      g_array_append_val (rows, r);
    }
  if (rc != SQLITE_DONE)
    goto out;
  if (!grouped)
    {
      ok = TRUE;
      goto out;
    }
  g_clear_pointer (&read, sqlite3_finalize);
  if (sqlite3_prepare_v2 (db, "DELETE FROM sync_outbox WHERE seq > ?", -1, &read, NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_int64 (read, 1, acked);
  if (sqlite3_step (read) != SQLITE_DONE)
    goto out;
  if (sqlite3_prepare_v2 (db, "SELECT field FROM field_edits WHERE rkey = hearth_edit_key (?1, ?2, NULL) "
                              "AND vkey = hearth_version_key (?3) "
                              "AND record_table = ?1 AND record_id = ?2 AND hlc = ?3 ORDER BY field", -1, &fields,
                          NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (db, "INSERT INTO sync_outbox (seq, kind, record_table, record_id, field, hlc, state) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &insert, NULL) != SQLITE_OK)
    goto out;
  for (guint i = 0; i < rows->len; i++)
    {
      Row *r = &g_array_index (rows, Row, i);
      gboolean write = g_strcmp0 (r->kind, "edits") == 0;

      if (write)
        {
          sqlite3_bind_text (fields, 1, r->table, -1, SQLITE_STATIC);
          sqlite3_bind_text (fields, 2, r->id, -1, SQLITE_STATIC);
          sqlite3_bind_text (fields, 3, r->hlc, -1, SQLITE_STATIC);
        }
      /* A write whose fields are gone (none is) leaves no row. */
      while (write ? (rc = sqlite3_step (fields)) == SQLITE_ROW : TRUE)
        {
          sqlite3_bind_int64 (insert, 1, next++);
          sqlite3_bind_text (insert, 2, write ? "edit" : r->kind, -1, SQLITE_STATIC);
          sqlite3_bind_text (insert, 3, r->table, -1, SQLITE_STATIC);
          sqlite3_bind_text (insert, 4, r->id, -1, SQLITE_STATIC);
          sqlite3_bind_text (insert, 5, write ? (const char *) sqlite3_column_text (fields, 0) : r->field, -1,
                             SQLITE_TRANSIENT);
          sqlite3_bind_text (insert, 6, r->hlc, -1, SQLITE_STATIC);
          sqlite3_bind_text (insert, 7, r->state, -1, SQLITE_STATIC);
          rc = sqlite3_step (insert);
          sqlite3_reset (insert);
          if (rc != SQLITE_DONE)
            goto out;
          if (!write)
            break;
        }
      if (write)
        {
          sqlite3_reset (fields);
          if (rc != SQLITE_DONE)
            goto out;
        }
    }
  ok = TRUE;

out:
  if (!ok)
    hearth_sync_sql_failed (db, error);
  sqlite3_finalize (read);
  sqlite3_finalize (fields);
  sqlite3_finalize (insert);
  for (guint i = 0; i < rows->len; i++)
    {
      Row *r = &g_array_index (rows, Row, i);

      g_free (r->kind);
      g_free (r->table);
      g_free (r->id);
      g_free (r->field);
      g_free (r->hlc);
      g_free (r->state);
    }
  return ok;
}

gboolean
hearth_sync_store_set_enrolment (HearthSyncStore *self, const HearthSyncEnrolment *e, const HearthSecret *secret_key,
                                 GError **error)
{
  g_autofree char *scope = NULL;
  g_autofree char *enrolled = NULL;
  gboolean first, push_edits;
  sqlite3_stmt *st = NULL;
  HearthSyncTx tx;
  int rc;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), FALSE);
  if (e == NULL || e->center_url == NULL || e->user == NULL || e->role == NULL || e->scope == NULL ||
      e->county == NULL || e->county_public_key == NULL || secret_key == NULL ||
      hearth_secret_get_size (secret_key) != HEARTH_SYNC_SECRET_KEY_SIZE)
    {
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
                   _("an enrolment needs the center, the user, the role, the scope, the county and its key, "
                     "and a device key of %d bytes"), HEARTH_SYNC_SECRET_KEY_SIZE);
      return FALSE;
    }
  scope = g_strjoinv (" ", e->scope);
  if (!hearth_sync_tx_begin (&tx, self->db, "sync_enrol", error))
    return FALSE;
  /* Before the first enrolment nothing was sent: the rows grouped meanwhile
   * may be numbered again for a center that does not take "edits". Enrolled
   * again (PROTOCOL.md section 12), the center numbers everything again at
   * the next sync (app/sync-restore.c), as the grouping now says. */
  first = (enrolled = state_text (self->db, "center_url")) == NULL;
  push_edits = e->features != NULL && g_strv_contains ((const char *const *) e->features, "edits");
  if (!set_grouping (self->db, push_edits, error) ||
      (e->features != NULL && !keep_features (self->db, (const char *const *) e->features, error)) ||
      (e->features == NULL && !hearth_sync_exec (self->db, "DELETE FROM sync_state WHERE key = 'features'", error)) ||
      (first && !push_edits && !expand_outbox (self->db, error)))
    goto failed;
  if (!hearth_sync_state_set (self->db, "center_url", e->center_url, 0, error) ||
      !hearth_sync_state_set (self->db, "user", e->user, 0, error) ||
      !hearth_sync_state_set (self->db, "role", e->role, 0, error) ||
      !hearth_sync_state_set (self->db, "scope", scope, 0, error) ||
      !hearth_sync_state_set (self->db, "county", e->county, 0, error) ||
      !hearth_sync_state_set (self->db, "county_public_key", e->county_public_key, 0, error))
    goto failed;
  /* The trust later requests need (a county CA or a pinned key): the
   * content, not a path that may vanish. */
  if ((e->tls_ca_pem != NULL && !hearth_sync_state_set (self->db, "tls_ca_pem", e->tls_ca_pem, 0, error)) ||
      (e->tls_ca_pem == NULL && !hearth_sync_exec (self->db, "DELETE FROM sync_state WHERE key = 'tls_ca_pem'", error)) ||
      (e->tls_pin != NULL && !hearth_sync_state_set (self->db, "tls_pin", e->tls_pin, 0, error)) ||
      (e->tls_pin == NULL && !hearth_sync_exec (self->db, "DELETE FROM sync_state WHERE key = 'tls_pin'", error)))
    goto failed;
  /* A BLOB bound straight from the secure buffer: no copy on the heap. */
  if (sqlite3_prepare_v2 (self->db, "INSERT INTO sync_state (key, value) VALUES ('device_secret_key', ?) "
                                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", -1, &st, NULL) != SQLITE_OK)
    {
      hearth_sync_sql_failed (self->db, error);
      goto failed;
    }
  sqlite3_bind_blob (st, 1, hearth_secret_peek (secret_key), HEARTH_SYNC_SECRET_KEY_SIZE, SQLITE_STATIC);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    {
      hearth_sync_sql_failed (self->db, error);
      goto failed;
    }
  return hearth_sync_tx_commit (&tx, error);

failed:
  hearth_sync_tx_rollback (&tx);
  return FALSE;
}

static gboolean
not_enrolled (GError **error)
{
  g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_NOT_ENROLLED,
               _("this store is not enrolled with a center"));
  return FALSE;
}

gboolean
hearth_sync_store_set_trust (HearthSyncStore *self, const char *ca_pem, const char *pin, GError **error)
{
  g_autoptr(HearthSyncEnrolment) enrolment = hearth_sync_store_get_enrolment (self, error);
  HearthSyncTx tx;

  if (enrolment == NULL || !hearth_sync_tx_begin (&tx, self->db, "sync_set_trust", error))
    return FALSE;
  if ((ca_pem != NULL && !hearth_sync_state_set (self->db, "tls_ca_pem", ca_pem, 0, error)) ||
      (ca_pem == NULL && !hearth_sync_exec (self->db, "DELETE FROM sync_state WHERE key = 'tls_ca_pem'", error)) ||
      (pin != NULL && !hearth_sync_state_set (self->db, "tls_pin", pin, 0, error)) ||
      (pin == NULL && !hearth_sync_exec (self->db, "DELETE FROM sync_state WHERE key = 'tls_pin'", error)))
    {
      hearth_sync_tx_rollback (&tx);
      return FALSE;
    }
  return hearth_sync_tx_commit (&tx, error);
}

HearthSyncEnrolment *
hearth_sync_store_get_enrolment (HearthSyncStore *self, GError **error)
{
  g_autoptr(HearthSyncEnrolment) e = g_new0 (HearthSyncEnrolment, 1);
  g_autofree char *scope = NULL;
  g_autofree char *features = NULL;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), NULL);
  e->center_url = state_text (self->db, "center_url");
  e->user = state_text (self->db, "user");
  e->role = state_text (self->db, "role");
  e->county = state_text (self->db, "county");
  e->county_public_key = state_text (self->db, "county_public_key");
  scope = state_text (self->db, "scope");
  if (e->center_url == NULL || e->user == NULL || e->role == NULL || e->county == NULL ||
      e->county_public_key == NULL || scope == NULL)
    {
      not_enrolled (error);
      return NULL;
    }
  e->scope = hearth_sync_split_versions (scope);
  features = state_text (self->db, "features");
  e->features = features != NULL ? hearth_sync_split_versions (features) : NULL;
  e->tls_ca_pem = state_text (self->db, "tls_ca_pem");
  e->tls_pin = state_text (self->db, "tls_pin");
  return g_steal_pointer (&e);
}

HearthSecret *
hearth_sync_store_load_secret_key (HearthSyncStore *self, GError **error)
{
  sqlite3_stmt *st = NULL;
  HearthSecret *key = NULL;
  int rc;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), NULL);
  if (sqlite3_prepare_v2 (self->db, "SELECT value FROM sync_state WHERE key = 'device_secret_key'", -1, &st,
                          NULL) != SQLITE_OK)
    {
      hearth_sync_sql_failed (self->db, error);
      return NULL;
    }
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW && sqlite3_column_bytes (st, 0) == HEARTH_SYNC_SECRET_KEY_SIZE)
    key = hearth_secret_new_from_data (sqlite3_column_blob (st, 0), HEARTH_SYNC_SECRET_KEY_SIZE);
  sqlite3_finalize (st);
  if (key == NULL)
    {
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        hearth_sync_sql_failed (self->db, error);
      else
        not_enrolled (error);
    }
  return key;
}

HearthSecret *
hearth_sync_store_enrolment_key (HearthSyncStore *self, guint8 *public_key, GError **error)
{
  sqlite3_stmt *st = NULL;
  HearthSecret *key = NULL;
  int rc;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), NULL);
  if (sqlite3_prepare_v2 (self->db, "SELECT value FROM sync_state WHERE key = 'enrolment_key'", -1, &st, NULL) !=
      SQLITE_OK)
    {
      hearth_sync_sql_failed (self->db, error);
      return NULL;
    }
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW && sqlite3_column_bytes (st, 0) == HEARTH_SYNC_SECRET_KEY_SIZE)
    key = hearth_secret_new_from_data (sqlite3_column_blob (st, 0), HEARTH_SYNC_SECRET_KEY_SIZE);
  sqlite3_finalize (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      hearth_sync_sql_failed (self->db, error);
      return NULL;
    }
  if (key == NULL)
    {
      /* Kept before it is sent: a retried enrolment presents the same key,
       * which the center answers as the first time. */
      key = hearth_sign_keypair (public_key);
      if (sqlite3_prepare_v2 (self->db, "INSERT OR REPLACE INTO sync_state (key, value) VALUES ('enrolment_key', ?)",
                              -1, &st, NULL) != SQLITE_OK)
        {
          hearth_secret_free (key);
          hearth_sync_sql_failed (self->db, error);
          return NULL;
        }
      sqlite3_bind_blob (st, 1, hearth_secret_peek (key), HEARTH_SYNC_SECRET_KEY_SIZE, SQLITE_STATIC);
      rc = sqlite3_step (st);
      sqlite3_finalize (st);
      if (rc != SQLITE_DONE)
        {
          hearth_secret_free (key);
          hearth_sync_sql_failed (self->db, error);
          return NULL;
        }
      return key;
    }
  crypto_sign_ed25519_sk_to_pk (public_key, hearth_secret_peek (key));
  return key;
}

/* ---- the lease -------------------------------------------------------------------- */

gboolean
hearth_sync_store_lease_acquire (HearthSyncStore *self, const char *holder, gint64 ttl_ms, GError **error)
{
  gint64 now = hearth_case_store_now_ms (self->cases);
  g_autofree char *other = NULL;
  gint64 expires = 0;
  sqlite3_stmt *st = NULL;
  HearthSyncTx tx;
  int rc;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), FALSE);
  if (holder == NULL || holder[0] == '\0' || ttl_ms <= 0)
    {
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
                   _("a sync lease needs a holder and a positive duration"));
      return FALSE;
    }
  if (!hearth_sync_tx_begin (&tx, self->db, "sync_lease", error))
    return FALSE;
  if (sqlite3_prepare_v2 (self->db, "SELECT holder, expires_at FROM sync_lease WHERE id = 1", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step (st) == SQLITE_ROW)
    {
      other = g_strdup ((const char *) sqlite3_column_text (st, 0));
      expires = sqlite3_column_int64 (st, 1);
    }
  g_clear_pointer (&st, sqlite3_finalize);
  if (other != NULL && expires > now && !g_str_equal (other, holder))
    {
      g_autofree char *until = hearth_sync_iso_time (expires);

      hearth_sync_tx_rollback (&tx);
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_LEASE,
                   _("a sync is already running (%s, until %s)"), other, until);
      return FALSE;
    }
  if (sqlite3_prepare_v2 (self->db, "INSERT INTO sync_lease (id, holder, expires_at) VALUES (1, ?, ?) "
                                    "ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, "
                                    "expires_at = excluded.expires_at", -1, &st, NULL) != SQLITE_OK)
    {
      hearth_sync_sql_failed (self->db, error);
      hearth_sync_tx_rollback (&tx);
      return FALSE;
    }
  sqlite3_bind_text (st, 1, holder, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 2, now + ttl_ms);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    {
      hearth_sync_sql_failed (self->db, error);
      hearth_sync_tx_rollback (&tx);
      return FALSE;
    }
  return hearth_sync_tx_commit (&tx, error);
}

gboolean
hearth_sync_store_lease_renew (HearthSyncStore *self, const char *holder, gint64 ttl_ms, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), FALSE);
  if (ttl_ms <= 0)
    ttl_ms = HEARTH_SYNC_LEASE_MS;
  /* Renewed less than half a lease ago: still this holder's for a while,
   * and a write (a commit, an fsync) per page would only say so again. */
  if (sqlite3_prepare_v2 (self->db, "SELECT 1 FROM sync_lease WHERE id = 1 AND holder = ? AND expires_at > ?", -1,
                          &st, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (self->db, error);
  sqlite3_bind_text (st, 1, holder, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 2, hearth_case_store_now_ms (self->cases) + ttl_ms / 2);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc != SQLITE_DONE)
    return hearth_sync_sql_failed (self->db, error);
  /* Still this holder's, even past its expiry: nobody else took it. */
  if (sqlite3_prepare_v2 (self->db, "UPDATE sync_lease SET expires_at = ? WHERE id = 1 AND holder = ?", -1, &st,
                          NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (self->db, error);
  sqlite3_bind_int64 (st, 1, hearth_case_store_now_ms (self->cases) + ttl_ms);
  sqlite3_bind_text (st, 2, holder, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return hearth_sync_sql_failed (self->db, error);
  if (sqlite3_changes (self->db) == 0)
    {
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_LEASE,
                   _("the sync lease of %s was lost"), holder != NULL ? holder : "");
      return FALSE;
    }
  return TRUE;
}

gboolean
hearth_sync_store_lease_release (HearthSyncStore *self, const char *holder, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), FALSE);
  if (sqlite3_prepare_v2 (self->db, "DELETE FROM sync_lease WHERE holder = ?", -1, &st, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (self->db, error);
  sqlite3_bind_text (st, 1, holder, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  return rc == SQLITE_DONE || hearth_sync_sql_failed (self->db, error);
}

char *
hearth_sync_store_lease_holder (HearthSyncStore *self)
{
  sqlite3_stmt *st = NULL;
  char *holder = NULL;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (self), NULL);
  if (sqlite3_prepare_v2 (self->db, "SELECT holder FROM sync_lease WHERE id = 1 AND expires_at > ?", -1, &st,
                          NULL) == SQLITE_OK)
    {
      sqlite3_bind_int64 (st, 1, hearth_case_store_now_ms (self->cases));
      if (sqlite3_step (st) == SQLITE_ROW)
        holder = g_strdup ((const char *) sqlite3_column_text (st, 0));
    }
  sqlite3_finalize (st);
  return holder;
}

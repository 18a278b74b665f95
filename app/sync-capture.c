/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sync-capture.c: the case model's hooks (sync-store.h): every write of
 * the case store enters the outbox in the transaction that makes it, a
 * store used before sync has its data put in the outbox once, and a
 * resolution finds its conflict. Submissions, reviews and audit entries enter the outbox by
 * the triggers of migration 0006.
 */
#define G_LOG_DOMAIN "hearth-sync"

#include "sync-store-private.h"

struct _HearthSyncCapture {
  sqlite3 *db;
  sqlite3_stmt *other_heads;
  sqlite3_stmt *insert;
};

/* @sql prepared once for the capture's lifetime (SQLite prepares it again
 * itself after a schema change). */
static sqlite3_stmt *
cached (HearthSyncCapture *capture, sqlite3_stmt **slot, const char *sql, GError **error)
{
  if (*slot == NULL &&
      sqlite3_prepare_v3 (capture->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK)
    {
      hearth_sync_sql_failed (capture->db, error);
      return NULL;
    }
  return *slot;
}

static void
done (sqlite3_stmt *st)
{
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
}

static void
bind_field (sqlite3_stmt *st, const char *table, const char *id, const char *field)
{
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, field, -1, SQLITE_STATIC);
}

gboolean
hearth_sync_capture_edit (HearthSyncCapture *capture, const char *table, const char *id, const char *field,
                          const char *value, const char *wall, GError **error)
{
  sqlite3_stmt *st;
  gboolean other;
  int rc;

  /* Usually the field's only head is the version this write replaced
   * (its base in record_versions now): the write's one parent. Otherwise (open
   * conflicts, or offline edits that agreed) the heads decide. */
  st = cached (capture, &capture->other_heads,
               "SELECT 1 FROM field_edits AS e WHERE e.rkey = hearth_edit_key (?1, ?2, NULL) "
               "AND e.record_table = ?1 AND e.record_id = ?2 AND e.field = ?3 "
               "AND e.hlc IS NOT (SELECT hearth_field_base (v.versions, ?3) "
               "                  FROM record_versions AS v WHERE v.rkey = hearth_edit_key (?1, ?2, NULL) "
               "                  AND v.record_table = ?1 AND v.record_id = ?2) "
               "AND NOT EXISTS (SELECT 1 FROM field_edits AS c WHERE c.rkey = hearth_edit_key (?1, ?2, NULL) "
               "                AND c.record_table = ?1 AND c.record_id = ?2 AND c.field = ?3 "
               "                AND instr (' ' || c.parents || ' ', ' ' || e.hlc || ' ') > 0) "
               "LIMIT 1", error);
  if (st == NULL)
    return FALSE;
  bind_field (st, table, id, field);
  rc = sqlite3_step (st);
  other = rc == SQLITE_ROW;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    hearth_sync_sql_failed (capture->db, error);
  done (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return FALSE;
  if (other)
    return hearth_sync_capture_over_heads (capture->db, table, id, field, value, wall, error);

  st = cached (capture, &capture->insert,
               "INSERT INTO field_edits (record_table, record_id, field, hlc, parents, value, wall) "
               "SELECT record_table, record_id, ?3, hearth_field_version (versions, ?3), "
               "hearth_field_base (versions, ?3), ?4, ?5 "
               "FROM record_versions WHERE rkey = hearth_edit_key (?1, ?2, NULL) AND record_table = ?1 "
               "AND record_id = ?2 AND hearth_field_version (versions, ?3) IS NOT NULL",
               error);
  if (st == NULL)
    return FALSE;
  bind_field (st, table, id, field);
  sqlite3_bind_text (st, 4, value, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 5, wall, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc != SQLITE_DONE)
    hearth_sync_sql_failed (capture->db, error);
  done (st);
  return rc == SQLITE_DONE;
}

static gboolean backfill (sqlite3 *db, const char *device_id, GError **error);

HearthSyncCapture *
hearth_sync_capture_new (sqlite3 *db, const char *device_id, GError **error)
{
  HearthSyncCapture *capture;

  if (!backfill (db, device_id, error))
    return NULL;
  capture = g_new0 (HearthSyncCapture, 1);
  capture->db = db;
  return capture;
}

void
hearth_sync_capture_free (HearthSyncCapture *capture)
{
  if (capture == NULL)
    return;
  sqlite3_finalize (capture->other_heads);
  sqlite3_finalize (capture->insert);
  g_free (capture);
}

/* Whether migration 0006 left the backfill to do (read again under the
 * write lock: another process may have done it). */
static gboolean
backfill_pending (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  gboolean pending = FALSE;

  if (sqlite3_prepare_v2 (db, "SELECT 1 FROM sync_state WHERE key = 'backfill_pending'", -1, &st, NULL) == SQLITE_OK)
    pending = sqlite3_step (st) == SQLITE_ROW;
  sqlite3_finalize (st);
  return pending;
}

static gboolean
backfill (sqlite3 *db, const char *device_id, GError **error)
{
  g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *st = NULL;
  HearthSyncTx tx;
  /* The outbox and field_edits are empty here: they came with the
   * migration that set backfill_pending, and nothing writes them before a
   * case store has opened the store, which runs this first. */
  static const char *const outbox[] = {
    /* Each field's history before sync is its last version only; older
     * times first. */
    "INSERT INTO sync_outbox (kind, record_table, record_id, field, hlc) "
    "SELECT 'edit', record_table, record_id, field, hlc FROM field_edits ORDER BY hlc, record_table, record_id, field",
    "INSERT INTO sync_outbox (kind, record_table, record_id) "
    "SELECT 'record', 'submissions', id FROM submissions ORDER BY rowid",
    "INSERT INTO sync_outbox (kind, record_table, record_id) SELECT 'record', 'reviews', id FROM reviews ORDER BY rowid",
    "INSERT INTO sync_outbox (kind, record_table, record_id) SELECT 'record', 'audit', id FROM audit_log ORDER BY seq",
    "DELETE FROM sync_state WHERE key IN ('backfill_pending', 'applying')",
  };

  if (!backfill_pending (db))
    return TRUE;
  if (!hearth_sync_tx_begin (&tx, db, "sync_backfill", error))
    return FALSE;
  /* Another process may have done it between the check and the lock. */
  if (!backfill_pending (db))
    return hearth_sync_tx_commit (&tx, error);
  /* The edits are put in the outbox below, in time order. */
  if (!hearth_sync_exec (db, "INSERT OR IGNORE INTO sync_state (key, value) VALUES ('applying', 1)", error))
    goto failed;
  if (sqlite3_prepare_v2 (db, "SELECT DISTINCT record_table, field FROM field_versions", -1, &st, NULL) != SQLITE_OK)
    {
      hearth_sync_sql_failed (db, error);
      goto failed;
    }
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      g_ptr_array_add (pairs, g_strdup ((const char *) sqlite3_column_text (st, 0)));
      g_ptr_array_add (pairs, g_strdup ((const char *) sqlite3_column_text (st, 1)));
    }
  g_clear_pointer (&st, sqlite3_finalize);
  for (guint i = 0; i + 1 < pairs->len; i += 2)
    {
      const char *table = pairs->pdata[i], *field = pairs->pdata[i + 1];
      g_autofree char *sql = NULL;
      int rc;

      if (!hearth_sync_is_edit_table (table) || !hearth_sync_is_field (db, table, field))
        {
          g_debug ("backfill: %s.%s is not a synced field", table, field);
          continue;
        }
      sql = g_strdup_printf ("INSERT OR IGNORE INTO field_edits "
                             "(record_table, record_id, field, hlc, parents, value, wall) "
                             "SELECT v.record_table, v.record_id, v.field, v.hlc, v.base_hlc, "
                             "coalesce (CAST (r.\"%s\" AS TEXT), ''), "
                             "strftime ('%%Y-%%m-%%dT%%H:%%M:%%SZ', CAST (substr (v.hlc, 1, 15) AS INTEGER) / 1000, "
                             "'unixepoch') FROM field_versions AS v JOIN \"%s\" AS r ON r.id = v.record_id "
                             "WHERE v.record_table = ? AND v.field = ?", field, table);
      if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
        {
          hearth_sync_sql_failed (db, error);
          goto failed;
        }
      sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 2, field, -1, SQLITE_STATIC);
      rc = sqlite3_step (st);
      g_clear_pointer (&st, sqlite3_finalize);
      if (rc != SQLITE_DONE)
        {
          hearth_sync_sql_failed (db, error);
          goto failed;
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (outbox); i++)
    if (!hearth_sync_exec (db, outbox[i], error))
      goto failed;
  g_debug ("backfilled the outbox of device %s", device_id);
  return hearth_sync_tx_commit (&tx, error);

failed:
  sqlite3_finalize (st);
  hearth_sync_tx_rollback (&tx);
  return FALSE;
}

gboolean
hearth_sync_conflict_field (sqlite3 *db, const char *conflict_id, char **table, char **record_id, char **field,
                            GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  *table = *record_id = *field = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT record_table, record_id, field FROM conflicts WHERE id = ? "
                              "AND resolved_at IS NULL", -1, &st, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, conflict_id, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      *table = g_strdup ((const char *) sqlite3_column_text (st, 0));
      *record_id = g_strdup ((const char *) sqlite3_column_text (st, 1));
      *field = g_strdup ((const char *) sqlite3_column_text (st, 2));
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return hearth_sync_sql_failed (db, error);
  return rc == SQLITE_ROW;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sync-duplicate.c: an edit the center refused as a duplicate registry
 * number (a write of several fields: every field of it) is taken back on
 * the device (sync/PROTOCOL.md section 7.2; sync-store-private.h). */

#include "sync-store-private.h"

static gboolean
run_text (sqlite3 *db, const char *sql, const char *a, const char *b, const char *c, const char *d, GError **error)
{
  sqlite3_stmt *st = NULL;
  const char *args[] = { a, b, c, d };
  int rc;

  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (db, error);
  for (int i = 0; i < sqlite3_bind_parameter_count (st) && i < 4; i++)
    sqlite3_bind_text (st, i + 1, args[i], -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  return rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
}

/* This device's edit (@table, @id, @field, @hlc) taken back, the field
 * merged again from what is left (no value when nothing is). */
static gboolean
revert_field (sqlite3 *db, const char *table, const char *id, const char *field, const char *hlc, const char *now,
              GError **error)
{
  sqlite3_stmt *st = NULL;
  gboolean exists = FALSE;
  gint64 left = 0;

  /* Only an edit of a field sync knows is taken back. */
  if (!hearth_sync_is_field (db, table, field))
    return TRUE;
  /* Its member of its write's row (migration 0014). */
  if (!hearth_sync_remove_edit (db, table, id, field, hlc, error))
    return FALSE;
  if (sqlite3_prepare_v2 (db, "SELECT count (*) FROM field_edits WHERE rkey = hearth_edit_key (?1, ?2, NULL) "
                              "AND record_table = ?1 AND record_id = ?2 AND field = ?3", -1, &st, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, field, -1, SQLITE_STATIC);
  if (sqlite3_step (st) == SQLITE_ROW)
    left = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  if (left > 0)
    return hearth_sync_recompute_field (db, table, id, field, now, NULL, &exists, error);
  /* No version of the field is left: it has no value, here as at the
   * center: the column's default, as a record made from pulled edits
   * without this field has (NULL when it has none). A column that must
   * hold a value and has no default (the write made the record) keeps
   * the one it has: the record stays as the user made it. (The table and
   * column were checked above; a default is the schema's own SQL.) */
  {
    g_autofree char *sql = NULL;
    g_autofree char *dflt = NULL;
    gboolean not_null = FALSE;

    if (sqlite3_prepare_v2 (db, "SELECT \"notnull\", dflt_value FROM pragma_table_info (?) WHERE name = ?", -1, &st,
                            NULL) != SQLITE_OK)
      return hearth_sync_sql_failed (db, error);
    sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 2, field, -1, SQLITE_STATIC);
    if (sqlite3_step (st) == SQLITE_ROW)
      {
        not_null = sqlite3_column_int (st, 0) != 0;
        dflt = g_strdup ((const char *) sqlite3_column_text (st, 1));
      }
    sqlite3_finalize (st);
    if (dflt != NULL || !not_null)
      sql = g_strdup_printf ("UPDATE \"%s\" SET \"%s\" = %s WHERE id = ?", table, field, dflt != NULL ? dflt : "NULL");
    return run_text (db, "UPDATE record_versions SET versions = hearth_set_field_version (versions, ?3, NULL, NULL) "
                         "WHERE rkey = hearth_edit_key (?1, ?2, NULL) AND record_table = ?1 AND record_id = ?2",
                     table, id, field, NULL, error) &&
           run_text (db, "DELETE FROM record_versions WHERE rkey = hearth_edit_key (?1, ?2, NULL) "
                         "AND record_table = ?1 AND record_id = ?2 AND versions = '{}'", table, id, NULL, NULL, error) &&
           (sql == NULL || run_text (db, sql, id, NULL, NULL, NULL, error));
  }
}

gboolean
hearth_sync_revert_refused_edit (sqlite3 *db, gint64 seq, const char *now, GError **error)
{
  sqlite3_stmt *st = NULL;
  g_autofree char *kind = NULL, *table = NULL, *id = NULL, *field = NULL, *hlc = NULL;
  g_autoptr(GPtrArray) fields = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, "SELECT kind, record_table, record_id, field, hlc FROM sync_outbox "
                              "WHERE seq = ? AND kind IN ('edit', 'edits')", -1, &st, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_int64 (st, 1, seq);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      kind = g_strdup ((const char *) sqlite3_column_text (st, 0));
      table = g_strdup ((const char *) sqlite3_column_text (st, 1));
      id = g_strdup ((const char *) sqlite3_column_text (st, 2));
      field = g_strdup ((const char *) sqlite3_column_text (st, 3));
      hlc = g_strdup ((const char *) sqlite3_column_text (st, 4));
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return hearth_sync_sql_failed (db, error);
  /* Only an edit of a table sync knows is taken back (a reply received
   * again finds it gone already). */
  if (table == NULL || !hearth_sync_is_edit_table (table))
    return TRUE;
  if (g_str_equal (kind, "edit"))
    return revert_field (db, table, id, field, hlc, now, error);
  /* A write of several fields is refused whole (PROTOCOL.md section 7):
   * the center holds none of them, so every one is taken back. */
  if ((fields = hearth_sync_write_fields (db, table, id, hlc, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < fields->len; i++)
    if (!revert_field (db, table, id, fields->pdata[i], hlc, now, error))
      return FALSE;
  return TRUE;
}

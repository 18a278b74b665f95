/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sync-store-private.h: what sync-store.c (push, state, lease, hooks) and
 * sync-apply.c (pull, merge into the tables) share. Not thread-safe, like
 * the sync store.
 */
#pragma once

#include "sync-store.h"

G_BEGIN_DECLS

/* The case model's times and ids, which sync neither sends nor writes. */
#define HEARTH_SYNC_LOCAL_COLUMNS "'id', 'created_at', 'updated_at'"

/* Sets HEARTH_SYNC_STORE_ERROR from the connection's last error: a
 * constraint is _INVALID (a value the table refuses), the rest _SQLITE. */
gboolean hearth_sync_sql_failed (sqlite3 *db, GError **error);

/* Sets sync_state's @key to @text, or to the integer @value when @text
 * is NULL (an upsert). FALSE with @error set as hearth_sync_sql_failed(). */
gboolean hearth_sync_state_set (sqlite3 *db, const char *key, const char *text, gint64 value, GError **error);

/* Runs SQL without results (through the statement cache when one is
 * open and @sql is one statement). */
gboolean hearth_sync_exec (sqlite3 *db, const char *sql, GError **error);

/* The statement cache: between hearth_sync_cache_open() and _close() on
 * this thread, hearth_sync_prepare() keeps what it prepares for @db, keyed
 * by its SQL text, and hearth_sync_finish() resets a kept statement
 * instead of finalising it; the tables' columns are read once. Applying a
 * page or reading a batch runs thousands of the same few statements: each
 * prepared once instead of per change. Opens nest (only the outermost
 * closes); outside one both behave as sqlite3_prepare_v2() and
 * sqlite3_finalize(). A statement still stepping is never handed out
 * twice: a second user of the same SQL gets one of its own. */
void          hearth_sync_cache_open  (sqlite3 *db);
void          hearth_sync_cache_close (sqlite3 *db);
sqlite3_stmt *hearth_sync_prepare     (sqlite3 *db, const char *sql);
void          hearth_sync_finish      (sqlite3_stmt *st);

/* Whether @table has @column (PRAGMA table_info; cached while the cache
 * is open). @table must be a table of the store. */
gboolean hearth_sync_has_column (sqlite3 *db, const char *table, const char *column);

/* The columns of @table that are NOT NULL without a default, less the
 * case model's own (HEARTH_SYNC_LOCAL_COLUMNS): the
 * names (transfer full), cached while the cache is open. */
GPtrArray *hearth_sync_required_columns (sqlite3 *db, const char *table);

/* A transaction of its own when none is open (BEGIN IMMEDIATE: the write
 * lock up front, so a reader cannot deadlock an upgrade), else a savepoint
 * inside the caller's. */
typedef struct {
  sqlite3    *db;
  const char *name;
  gboolean    outer;
  gboolean    joined;
} HearthSyncTx;

gboolean hearth_sync_tx_begin (HearthSyncTx *tx, sqlite3 *db, const char *name, GError **error);
/* The transaction of hearth_sync_store_begin_pages(), open: joined with
 * no savepoint of its own (SQLite's savepoints in a savepoint journal
 * every page each inner one writes, and keep it until the outer one ends:
 * a page's thousands of record savepoints grew that journal without
 * bound). Its commit is the caller's; its rollback rolls back the whole
 * transaction, the pages before it too, with their cursor. */
void     hearth_sync_tx_join (HearthSyncTx *tx, sqlite3 *db);
gboolean hearth_sync_tx_commit (HearthSyncTx *tx, GError **error);
void     hearth_sync_tx_rollback (HearthSyncTx *tx);

/* Whether @table is one of the protocol's mutable tables (section 6.1). */
gboolean hearth_sync_is_edit_table (const char *table);

/* Whether @column is a column of @table that sync may write: neither the
 * id nor the case model's times. For a mutable table, one of
 * hearth_change_table_fields() (the list the center checks pushes
 * against, held equal to this schema by /sync/store/table-fields). */
gboolean hearth_sync_is_field (sqlite3 *db, const char *table, const char *column);

/* The text of @column of @table's row @id: @exists says whether the row
 * is there, @value (transfer full, nullable) its value (NULL for NULL).
 * @table and @column must have been checked (they are quoted, not bound). */
gboolean hearth_sync_column_value (sqlite3 *db, const char *table, const char *id, const char *column,
                                   gboolean *exists, char **value, GError **error);

/* The edit of @field under version @hlc of @table's record @id taken
 * out of its write's row (record_writes, migration 0014), and the row
 * with it when it was the write's last field. */
gboolean hearth_sync_remove_edit (sqlite3 *db, const char *table, const char *id, const char *field,
                                  const char *hlc, GError **error);

/* The parents of @table's record @id's edits (of @field only, unless it
 * is %NULL) that name version @old name @hlc instead: each member of the
 * record's writes (record_writes, migration 0014) that does. */
gboolean hearth_sync_rename_parents (sqlite3 *db, const char *table, const char *id, const char *field,
                                     const char *old, const char *hlc, GError **error);

/* An edit put in its write's row, the row made when the store has no
 * write @hlc of the record (record_writes, migration 0014): the view's
 * trigger without the outbox. @parents space-separated ("" or %NULL for
 * none). */
gboolean hearth_sync_put_edit (sqlite3 *db, const char *table, const char *id, const char *field, const char *hlc,
                               const char *parents, const char *value, const char *wall, GError **error);

/* The fields of @table's record @id that this store's edits of version
 * @hlc write (one write of a record: PROTOCOL.md section 6.1), in no
 * particular order. Returns (transfer full) an array of strings, or NULL
 * with @error set as hearth_sync_sql_failed(). */
GPtrArray *hearth_sync_write_fields (sqlite3 *db, const char *table, const char *id, const char *hlc,
                                     GError **error);

/* Space-separated versions as a vector (empty parts dropped), and back. */
char **hearth_sync_split_versions (const char *text);

/* The merge of one field over every edit this store holds of it
 * (sync/merge.h): written to record_versions (the winner's version and
 * parents), to conflicts (the open ones replaced: rows no longer open are
 * marked resolved by @resolved_by, or by the winner's device when %NULL),
 * and to the record's column when the row exists and differs.
 * @exists: (out) (optional): whether the record's row exists. */
gboolean hearth_sync_recompute_field (sqlite3 *db, const char *table, const char *id, const char *field,
                                      const char *now, const char *resolved_by, gboolean *exists,
                                      GError **error);

/* A local write of @field stamped in record_versions when the field has
 * heads besides the version the write replaced: its parents are every head
 * holding the value the user saw (the winner's), and the field is
 * recomputed (heads with other values stay open conflicts). */
gboolean hearth_sync_capture_over_heads (sqlite3 *db, const char *table, const char *id, const char *field,
                                         const char *value, const char *wall, GError **error);

/* The fast path of applying a page for a record the store held no edit
 * of, each field with one edit (sync-apply.c): @enabled FALSE sends every
 * record through the general merge, so a test can compare the two (on by
 * default; for tests). hearth_sync_apply_fresh_path_taken() returns how
 * many records the fast path created since it was last asked, and resets
 * it. Thread-safe. */
void  hearth_sync_apply_set_fresh_path    (gboolean enabled);
guint hearth_sync_apply_fresh_path_taken  (void);

/* A page's edits joined beforehand (hearth_sync_page_prepare(),
 * sync-apply.c): @enabled FALSE has every page's apply join them itself,
 * edit after edit, so a test can compare the two (on by default; for
 * tests). hearth_sync_apply_prepared_taken() returns how many pages were
 * applied with their edits joined beforehand since it was last asked, and
 * resets it. Thread-safe. */
void  hearth_sync_apply_set_prepared      (gboolean enabled);
guint hearth_sync_apply_prepared_taken    (void);

/* Takes back this device's edit @seq, which the center refused as a
 * registry number another household holds (code "duplicate", PROTOCOL.md
 * section 7.2): the edit leaves the field's set and the field is merged
 * again from what is left (no value when nothing is), so that the store
 * holds what the center holds and a pull of the other household applies.
 * A write of several fields (kind "edits"), refused whole, is taken back
 * whole: every field of it. Anything but an edit of a sync field is left
 * alone. In the caller's transaction. */
gboolean hearth_sync_revert_refused_edit (sqlite3 *db, gint64 seq, const char *now, GError **error);

/* Whether hearth_sync_store_begin_pages()'s transaction is open. */
gboolean hearth_sync_store_in_pages (HearthSyncStore *self);

/* Turns @db's triggers back on (SQLITE_DBCONFIG_ENABLE_TRIGGER) if a
 * page's apply left them off: the pages of one transaction are applied
 * with them off from the first to the last (sync-apply.c, apply_page()),
 * since each switch expires every prepared statement. Called when that
 * transaction ends (hearth_sync_store_commit_pages()) and when a pull
 * stops (sync-run.c), whatever else happened; does nothing when they
 * are on. */
void hearth_sync_triggers_on (sqlite3 *db);

/* The center's time as this device estimates it (ms since 1970): the case
 * store's clock plus the offset set for this exchange, else the stored one. */
gint64 hearth_sync_store_center_now (HearthSyncStore *self);

/* @ms (since 1970) as ISO 8601 UTC, the case model's time format. */
char *hearth_sync_iso_time (gint64 ms);

G_END_DECLS

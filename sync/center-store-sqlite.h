/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * center-store-sqlite.h: the county center's store on SQLite, the
 * embedded default (one machine, one county): WAL mode, synchronous=FULL
 * (a pipelined store's writers: NORMAL, the WAL synced after the commit,
 * hearth_center_store_pipeline()), its schema from the migrations in schema/center/. Each thread takes a
 * connection of its own from a pool for the length of a transaction; write
 * transactions are BEGIN IMMEDIATE, so they are serialised and commit in
 * cursor order.
 */
#pragma once

#include "center-store.h"

#include <sqlite3.h>

G_BEGIN_DECLS

/* The page size of a store made now, in bytes (an older store keeps its
 * own until `hearth-center vacuum` rewrites it): center-store-sqlite.c
 * says why. */
#define HEARTH_CENTER_STORE_SQLITE_PAGE_BYTES 8192

#define HEARTH_TYPE_CENTER_STORE_SQLITE (hearth_center_store_sqlite_get_type ())
G_DECLARE_FINAL_TYPE (HearthCenterStoreSqlite, hearth_center_store_sqlite, HEARTH, CENTER_STORE_SQLITE, GObject)

/**
 * hearth_center_store_sqlite_open:
 * @path: the database file
 * @create: whether to create it (mode 0600) when missing
 *
 * Opens the database, sets WAL mode and applies the center's migrations.
 * Without @create, another program's SQLite database (tables, and no
 * center migration applied) is refused, untouched.
 *
 * Returns: (transfer full) (nullable): the store, or %NULL with
 *   HEARTH_CENTER_STORE_ERROR_NO_STORE (missing, or another program's
 *   database, and not @create), _SCHEMA
 *   or _FAILED. Thread-safe.
 */
HearthCenterStore *hearth_center_store_sqlite_open (const char *path,
                                                    gboolean    create,
                                                    GError    **error);

/**
 * hearth_center_store_sqlite_add_functions:
 * @db: a connection to a center store
 *
 * Gives @db the SQL functions the center's store computes the keys of its
 * change log and its records with (0011-change-key.sql,
 * 0015-record-number.sql, 0017-record-identity-key.sql):
 * hearth_change_key (tbl, record_id, field), hearth_version_key (hlc),
 * hearth_field_key (field) and hearth_record_key (tbl, record_id), and
 * hearth_fields (fields), a record's stored fields as JSON text, packed
 * or not (0019-packed-fields.sql), deterministic and innocuous. Every
 * connection the store opens has them; a connection of another program
 * that writes changes needs them too.
 *
 * Returns: an SQLite result code (SQLITE_OK). Thread-safe (per @db).
 */
int hearth_center_store_sqlite_add_functions (sqlite3 *db);

/**
 * hearth_center_store_sqlite_set_pull_by_village:
 * @store: a store of hearth_center_store_sqlite_open()
 * @by_village: whether a pull whose scope holds few villages walks each
 *   of them on the village index (the default), or the whole change log
 *   in cursor order
 *
 * The two give the same pages (tests/test-center-pull-walk.c compares
 * them); the walk in cursor order costs the size of the store rather than
 * of the scope. For tests and measurements. Thread-safe.
 */
void hearth_center_store_sqlite_set_pull_by_village (HearthCenterStore *store,
                                                     gboolean           by_village);

/**
 * hearth_center_store_sqlite_set_checkpoint:
 * @store: a store of hearth_center_store_sqlite_open()
 * @idle_ms: how long no commit must have come before the WAL is copied
 *   into the database (200 ms by default), > 0
 * @busy_bytes: the WAL's size past which it is copied and started over
 *   while commits keep coming (1 GiB by default), > 0
 *
 * The center copies its WAL into the database in the gaps between
 * bursts of sync traffic, and only past @busy_bytes of WAL during one
 * (center-store-sqlite.c, checkpointer_main()). For tests and
 * measurements: the checkpointer takes the new values at once (a wait
 * under way starts again). Thread-safe.
 */
void hearth_center_store_sqlite_set_checkpoint (HearthCenterStore *store,
                                                guint              idle_ms,
                                                gint64             busy_bytes);

G_END_DECLS

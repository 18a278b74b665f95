/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * center-store-private.h: internals of center-store-sqlite.c that the
 * tests reach (tests/fuzz/fuzz-state-target.c). Not part of the center
 * store's interface: nothing but tests includes it.
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

#include "center-store.h"

G_BEGIN_DECLS

/*
 * hearth_center_state_parse_private:
 * @text: (array length=len): a record_state.state text, any bytes
 * @len: its length
 *
 * Reads @text with the store's own reader of the state's shape
 * (state_parse()), as the writer does a row of record_state.
 *
 * Returns: (transfer full) (nullable): the fields in their order, four
 * entries each (name, value, cursor in decimal, heads or %NULL); %NULL
 * when the reader refuses @text (the writer then reads it with
 * hearth_center_state_read_private()'s statement). Thread safe.
 */
GPtrArray *hearth_center_state_parse_private (const char *text,
                                              gsize       len);

/*
 * hearth_center_state_read_private:
 * @db: an open SQLite connection (any; only its JSON functions are used)
 * @text: (array length=len): a record_state.state text, any bytes
 * @len: its length
 * @skipped: (out): the members left out (no value or cursor)
 * @error: set when SQLite refuses @text (not JSON)
 *
 * Reads @text as the writer does a state its own reader refuses:
 * SQLite's json_each(), a row per member.
 *
 * Returns: (transfer full) (nullable): as
 * hearth_center_state_parse_private(); %NULL with @error set when SQLite
 * refuses @text. Safe as @db is.
 */
GPtrArray *hearth_center_state_read_private (sqlite3    *db,
                                             const char *text,
                                             gsize       len,
                                             guint      *skipped,
                                             GError    **error);

/*
 * hearth_center_state_json_private:
 * @fields: fields as hearth_center_state_parse_private() gives them
 *
 * Writes @fields as the writer writes a record_state.state
 * (record_state_json()); a name given twice keeps its first place and
 * its last value.
 *
 * Returns: (transfer full): the text. Thread safe.
 */
char *hearth_center_state_json_private (GPtrArray *fields);

/*
 * hearth_center_txn_filters_private:
 * @txn: a transaction of a center's SQLite store
 *
 * Returns: whether @txn, a writer's, answers whether a record is new to
 * the center from the writer's key filters (writer_filters()) rather
 * than by a look-up.
 */
gboolean hearth_center_txn_filters_private (HearthCenterTxn *txn);

/*
 * hearth_center_store_filters_hold_private:
 * @store: a center's SQLite store
 * @hold: whether to hold
 *
 * Holds the next reading of the writer's key filters once its snapshot
 * began, until called again with %FALSE.
 */
void hearth_center_store_filters_hold_private (HearthCenterStore *store, gboolean hold);

/*
 * hearth_center_store_filters_held_private:
 * @store: a center's SQLite store
 *
 * Waits until a reading of the key filters is held (its snapshot began).
 */
void hearth_center_store_filters_held_private (HearthCenterStore *store);

/*
 * hearth_center_store_filters_wait_private:
 * @store: a center's SQLite store
 *
 * Waits until the reading of the key filters under way, if any, is done
 * (the next writer takes them).
 */
void hearth_center_store_filters_wait_private (HearthCenterStore *store);

G_END_DECLS

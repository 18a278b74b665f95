/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * store-packed.h: long texts kept compressed in the device store.
 *
 * A submission's instance_xml (~2.4 KB a visit) was one row a 4 KiB page,
 * 40% of each page unused, and every page costs its encryption
 * (store-vfs.c). It is kept as a BLOB in the same TEXT column: a packed
 * text, "HXZ" and a format byte (1), the text's length in bytes (32 bits,
 * little-endian), then one LZ4 block compressed with format 1's
 * dictionary, the bundled forms' instances without their values
 * (schema/store/packed-dict-1.xml: never to change; another dictionary
 * would be another format byte). LZ4 with that dictionary makes a visit
 * about 30% of its text for ~1.7 us, a fifth of what encrypting a page
 * costs (DEFLATE took 13 us for 47%, more than the pages it saved). A text
 * that compression would not shrink, and every row written before this
 * format, stays TEXT: readers take both. Every reader and writer of a
 * packed column goes through these functions; the wire (PROTOCOL.md)
 * and the center carry the plain text.
 *
 * Unpacking is bounded: a packed text must say a length of at most
 * %HEARTH_PACKED_TEXT_MAX bytes (checked before anything is allocated),
 * decompress to exactly that many (LZ4's safe decoder, bounded by the
 * buffer of that length), hold no NUL and be UTF-8; anything else is
 * refused naming the record.
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* The largest text a packed value may hold: the largest submission a
 * device records (HEARTH_FORM_MAX_BYTES). */
#define HEARTH_PACKED_TEXT_MAX (16 * 1024 * 1024)

/**
 * hearth_packed_column:
 * @table: a device table
 * @column: one of its columns
 *
 * Returns: whether @table.@column holds packed texts (submissions'
 *   instance_xml). Thread-safe.
 */
gboolean hearth_packed_column (const char *table, const char *column);

/**
 * hearth_text_pack:
 * @text: the text (UTF-8)
 * @len: its length in bytes
 * @packed_len: (out): the packed value's length
 *
 * Compresses @text into a packed value (see above).
 *
 * Returns: (transfer full) (nullable): the packed value (g_free()), or
 *   %NULL when packing would not make it smaller, @len is under 256
 *   bytes or exceeds %HEARTH_PACKED_TEXT_MAX: keep the text as it is.
 *   Thread-safe (one LZ4 stream a thread).
 */
guint8 *hearth_text_pack (const char *text, gsize len, gsize *packed_len);

/**
 * hearth_text_unpack:
 * @packed: a packed value
 * @len: its length
 * @what: what holds it, for the error ("submissions 0b1e…"); not data
 * @error: a #GError, HEARTH_STORE_ERROR_CORRUPT naming @what
 *
 * Decompresses a packed value, at most %HEARTH_PACKED_TEXT_MAX bytes.
 *
 * Returns: (transfer full) (nullable): the text (NUL-terminated), or
 *   %NULL with @error when @packed is not a packed value, says a length
 *   over the bound, does not decompress to exactly its length, or is not
 *   UTF-8 without NUL. Thread-safe.
 */
char *hearth_text_unpack (const guint8 *packed, gsize len, const char *what, GError **error);

/**
 * hearth_packed_bind:
 * @st: a statement
 * @index: the parameter
 * @text: (nullable): the text to store
 *
 * Binds @text to @st's parameter @index packed (a BLOB) when that is
 * smaller, else as TEXT (a copy either way: @text may go at once).
 *
 * Returns: SQLite's result code. Thread-safe as @st is.
 */
int hearth_packed_bind (sqlite3_stmt *st, int index, const char *text);

/**
 * hearth_packed_column_text:
 * @st: a statement on a row
 * @column: the column holding a packed column's value
 * @table: the table, for the error
 * @id: (nullable): the record's id, for the error
 * @error: a #GError, HEARTH_STORE_ERROR_CORRUPT naming the record
 *
 * The text of a packed column's value: TEXT as it is, a packed BLOB
 * unpacked. A NULL value gives %NULL without @error. Call it before any
 * sqlite3_column_text() of that column, which would make a BLOB look
 * like text.
 *
 * Returns: (transfer full) (nullable): the text, or %NULL (with @error
 *   when the value is damaged or of another type).
 */
char *hearth_packed_column_text (sqlite3_stmt *st, int column, const char *table, const char *id,
                                 GError **error);

G_END_DECLS

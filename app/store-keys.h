/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * store-keys.h: the compact integer keys of the device's edit tables
 * (field_edits, record_versions; migrations 0011-edit-keys.sql and
 * 0013-record-versions.sql) and a record's field versions, as SQL
 * functions every connection to a device store has.
 *
 *   hearth_edit_key (record_table, record_id, field): the 48 high bits of
 *     a hash of "record_table\nrecord_id" above 16 bits of a hash of
 *     field. A NULL field gives the record's key: the low 16 bits 0, so
 *     that a record's edits lie in [key, key + 65535] whatever their
 *     fields, and the key with a field is that plus the field's bits.
 *   hearth_version_key (hlc): 64 bits of a hash of an edit's version.
 *
 * The fields' versions of a record (record_versions.versions, migration
 * 0013) are a JSON object {"VERSION": ["FIELD", …], "VERSION BASE…":
 * […], …}: each key a field's version, then the versions it replaced
 * (space-separated) when it replaced any, and the fields under it; a
 * write's fields share one key. SQL functions read and change it:
 *
 *   hearth_field_version (versions, field): the field's version, or NULL;
 *   hearth_field_base (versions, field): the versions it replaced, space-
 *     separated, "" for none, NULL when the field has no version;
 *   hearth_field_key (versions, field): both, as the field's key;
 *   hearth_set_field_version (versions, field, version, base): versions
 *     with the field under version and base (NULL or "" for none) instead
 *     of where it was; a NULL version takes the field out. Text of
 *     another form is an error of the statement.
 *
 * Keys are where to look, never an identity: two records, fields or
 * versions may share one, and every statement compares the texts of the
 * rows it finds under a key. The hash is SipHash-2-4 (libsodium's
 * crypto_shorthash) under a fixed key: cheap beside a b-tree step, and
 * without the structure that would let a sender make many ids share a
 * key. The keys are stored in indexes: the functions must never change.
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/**
 * hearth_store_add_key_functions:
 * @db: a connection to a device store
 *
 * Adds hearth_edit_key(), hearth_version_key() and the field versions'
 * functions (deterministic, innocuous) to @db. Every connection that
 * reads or writes field_edits or record_versions needs them, the one that
 * applies migration 0011 first;
 * hearth_store_open() adds them to its connections. hearth_edit_key()
 * keeps the record it hashed last (a few bytes, freed with @db): a pull
 * writes a record's fields one after the other.
 *
 * Returns: SQLITE_OK or SQLite's error code. Thread-safe (per connection).
 */
int hearth_store_add_key_functions (sqlite3 *db);

/**
 * hearth_store_append_json_string:
 * @out: where to append
 * @text: UTF-8 text
 *
 * Appends @text to @out as a JSON string (quoted, '"', '\\' and control
 * characters escaped). Thread-safe.
 */
void hearth_store_append_json_string (GString *out, const char *text);

/**
 * hearth_store_versions_set_field:
 * @versions: a record's field versions (record_versions.versions; empty
 *   for none), changed in place
 * @field: the field
 * @version: its version
 * @base: (nullable): the versions it replaced, space-separated ("" or
 *   %NULL for none)
 * @changed: (out): whether @versions changed
 * @message: (out) (transfer full): what is wrong with @versions, on failure
 *
 * What `UPDATE … SET versions = hearth_set_field_version (versions,
 * field, version, base) WHERE hearth_field_key (versions, field) IS NOT
 * key` does to a row, in C: a record's fields set one after the other
 * with one read and one write of its row. The field left where it is
 * when it is under that key already.
 *
 * Returns: %FALSE (@versions unchanged) when @versions is not of the
 * form. Thread-safe.
 */
gboolean hearth_store_versions_set_field (GString *versions, const char *field, const char *version, const char *base,
                                          gboolean *changed, char **message);

/**
 * hearth_store_versions_set_fields:
 * @versions: as hearth_store_versions_set_field()'s
 * @n: how many fields
 * @fields: (array length=n): the fields, in the order set
 * @versions_of: (array length=n): each field's version
 * @bases: (array length=n): each field's base (nullable strings)
 * @changed: (out): whether @versions changed
 * @message: (out) (transfer full): what is wrong with @versions, on failure
 *
 * hearth_store_versions_set_field() of each field in turn, reading and
 * writing the text once. Returns: as hearth_store_versions_set_field().
 * Thread-safe.
 */
gboolean hearth_store_versions_set_fields (GString *versions, guint n, const char *const *fields,
                                           const char *const *versions_of, const char *const *bases, gboolean *changed,
                                           char **message);

/**
 * hearth_store_edit_key:
 * @table: the record's table
 * @id: the record's id
 * @field: (nullable): the field, or %NULL for the record's key
 *
 * Returns: hearth_edit_key (@table, @id, @field). Thread-safe.
 */
gint64 hearth_store_edit_key (const char *table, const char *id, const char *field);

/**
 * hearth_store_version_key:
 * @hlc: an edit's version
 *
 * Returns: hearth_version_key (@hlc). Thread-safe.
 */
gint64 hearth_store_version_key (const char *hlc);

G_END_DECLS

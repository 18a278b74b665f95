/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * change.h: the unit of push and pull (sync/PROTOCOL.md, section 6): a
 * field edit of a mutable record, the edits of several fields a record
 * write made under one version, or an immutable record, with what says
 * whose data it is (household, village) for scope. Reads and writes the
 * JSON of the protocol and checks every part of it, so neither the center
 * nor a device stores a change it could not send on.
 *
 * Thread-safe: the functions keep no state.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "hlc.h"

G_BEGIN_DECLS

#define HEARTH_CHANGE_ERROR (hearth_change_error_quark ())
GQuark hearth_change_error_quark (void);

/**
 * HearthChangeError:
 * @HEARTH_CHANGE_ERROR_INVALID: a change that is not what the protocol
 *   allows; the message names the member and what is wrong
 */
typedef enum {
  HEARTH_CHANGE_ERROR_INVALID,
} HearthChangeError;

/**
 * HearthChangeKind:
 * @HEARTH_CHANGE_EDIT: one field of a mutable record ("edit")
 * @HEARTH_CHANGE_RECORD: an immutable record ("record")
 * @HEARTH_CHANGE_EDITS: the fields one write of a mutable record set,
 *   under one version ("edits"): for merging, the same as one
 *   @HEARTH_CHANGE_EDIT per field with that version (PROTOCOL.md 6.1)
 */
typedef enum {
  HEARTH_CHANGE_EDIT,
  HEARTH_CHANGE_RECORD,
  HEARTH_CHANGE_EDITS,
} HearthChangeKind;

/**
 * HearthChangeField:
 * @field: the field's name
 * @value: its value ("" for blank, never %NULL)
 * @parents: (element-type utf8): the field's versions this edit replaces
 *
 * One field of an "edits" change, which gives the version. Owns its
 * members.
 */
typedef struct {
  char *field;
  char *value;
  GPtrArray *parents;
} HearthChangeField;

/* Bounds of PROTOCOL.md section 2. */
#define HEARTH_CHANGE_MAX_VALUE   (1024 * 1024)
#define HEARTH_CHANGE_MAX_PARENTS 16
#define HEARTH_CHANGE_MAX_FIELDS  64
#define HEARTH_CHANGE_MAX_NAME    64

/**
 * HearthChange:
 * @kind: an edit or a record
 * @seq: the sending device's change number (push), or 0
 * @cursor: the center's number (pull), or 0
 * @table: for an edit "households", "members", "tasks" or "measures"; for a
 *   record "submissions", "reviews", "audit", or "forms" and "thresholds"
 *   (published by the center, without household and village)
 * @id: the record's UUID (for "audit", the entry's id)
 * @household: (nullable): the household the record belongs to (for scope)
 * @village: (nullable): that household's 12-digit village code
 * @field: (nullable): an edit's field
 * @value: (nullable): an edit's value ("" for blank)
 * @hlc: (nullable): an edit's version (sync/hlc.h text form)
 * @parents: (element-type utf8) (nullable): an edit's parent versions
 * @wall: (nullable): the device's wall time of an edit, ISO 8601, for display
 * @fields: (element-type utf8 utf8) (nullable): a record's columns; every
 *   value is a string (numbers in decimal)
 * @edits: (element-type HearthChangeField) (nullable): an "edits" change's
 *   fields, in name order, each once, 1 to HEARTH_CHANGE_MAX_FIELDS of them;
 *   its @hlc and @wall are theirs ( @field, @value, @parents and @fields
 *   are %NULL)
 * @borrowed: the strings @table, @id, @field, @value, @wall, @fields'
 *   names and values and @edits' names and values are not the change's
 *   own but its reader's, which keeps them as long as the change (a push
 *   body's, center-push-parse.c): hearth_change_free() leaves them;
 *   nothing may free or replace them. @household, @village, @hlc and the
 *   versions in @parents are the change's own all the same (the center
 *   replaces them: a record's owner, a clamped version).
 * @strings: (nullable): what holds a @borrowed change's strings when the
 *   change keeps them itself (a pull page's, sync-page-scan.c): a
 *   reference, released by hearth_change_free()
 *
 * Owns every member (but as @borrowed says); free with
 * hearth_change_free().
 */
typedef struct {
  HearthChangeKind kind;
  gint64 seq;
  gint64 cursor;
  char *table;
  char *id;
  char *household;
  char *village;
  char *field;
  char *value;
  char *hlc;
  GPtrArray *parents;
  char *wall;
  GHashTable *fields;
  GPtrArray *edits;
  gboolean borrowed;
  struct _HearthChangeStrings *strings;
} HearthChange;

/**
 * HearthChangeStrings:
 *
 * The strings of many borrowed changes (HearthChange's @borrowed) in one
 * GStringChunk, counted: each change holds a reference (its @strings),
 * so the chunk lives as long as the last of them, wherever they go. A
 * reader keeps a change's strings there instead of allocating (and
 * later freeing) each one: a fresh device's pull read some 370,000.
 */
typedef struct _HearthChangeStrings HearthChangeStrings;

/**
 * hearth_change_strings_new:
 * @block: the size of the chunk's blocks (g_string_chunk_new())
 *
 * Returns: (transfer full): strings of no change yet; release with
 *   hearth_change_strings_unref().
 */
HearthChangeStrings *hearth_change_strings_new (gsize block);

/** hearth_change_strings_chunk: Returns: (transfer none): the chunk the strings go in. */
GStringChunk *hearth_change_strings_chunk (HearthChangeStrings *strings);

/** hearth_change_strings_ref: Returns: (transfer full): @strings, one more reference. Thread-safe. */
HearthChangeStrings *hearth_change_strings_ref (HearthChangeStrings *strings);

/** hearth_change_strings_unref: drops a reference; the last frees the chunk. Thread-safe. */
void hearth_change_strings_unref (HearthChangeStrings *strings);

/** hearth_change_new: Returns: (transfer full): an empty change of @kind. */
HearthChange *hearth_change_new (HearthChangeKind kind);
void hearth_change_free (HearthChange *change);

/**
 * hearth_change_new_borrowed:
 *
 * As hearth_change_new(), for a reader that keeps the change's strings
 * itself (@borrowed): its @fields and @edits free none of them.
 *
 * Returns: (transfer full): an empty change of @kind.
 */
HearthChange *hearth_change_new_borrowed (HearthChangeKind kind);

/**
 * hearth_change_copy:
 *
 * Returns: (transfer full): a deep copy of @change.
 */
HearthChange *hearth_change_copy (const HearthChange *change);

/**
 * hearth_change_take_edit:
 * @change: a change of kind HEARTH_CHANGE_EDITS
 * @field: (transfer full): the field's name
 * @value: (transfer full): its value
 * @parents: (transfer full) (element-type utf8) (nullable): its parent
 *   versions, whose free function is g_free(); %NULL for none
 *
 * hearth_change_add_edit() without copying (a reader's own strings),
 * and without replacing: an edit of @field there already is kept.
 * Of a @borrowed change, @field and @value are the reader's, not taken.
 *
 * Returns: whether the edit was added; when not, @field, @value (but of
 *   a @borrowed change) and @parents are freed.
 */
gboolean hearth_change_take_edit (HearthChange *change,
                                  char         *field,
                                  char         *value,
                                  GPtrArray    *parents);

/**
 * hearth_change_add_edit:
 * @change: a change of kind HEARTH_CHANGE_EDITS
 * @field: the field's name
 * @value: (nullable): its value (%NULL is stored as "")
 * @parents: (element-type utf8) (nullable): its parent versions, copied
 *
 * Puts the edit of @field in its place by name, replacing one there.
 *
 * Returns: (transfer none): the field's edit, owned by @change.
 */
HearthChangeField *hearth_change_add_edit (HearthChange    *change,
                                         const char      *field,
                                         const char      *value,
                                         const GPtrArray *parents);

/**
 * hearth_change_find_edit:
 * @change: a change of kind HEARTH_CHANGE_EDITS
 *
 * Returns: (transfer none) (nullable): the edit of @field, or %NULL.
 */
const HearthChangeField *hearth_change_find_edit (const HearthChange *change, const char *field);

/**
 * hearth_change_expand:
 * @change: a change
 *
 * An "edits" change as the "edit" changes it stands for, one per field in
 * name order, each with @change's seq, cursor, table, id, household,
 * village, hlc and wall (PROTOCOL.md 6.1); any other change as one copy.
 *
 * Returns: (transfer full) (element-type HearthChange): the changes.
 */
GPtrArray *hearth_change_expand (const HearthChange *change);

/**
 * hearth_change_to_json:
 *
 * Returns: (transfer full): the change as the protocol's JSON object, with
 *   "seq" and "cursor" when they are not 0 and record fields in name order.
 */
JsonNode *hearth_change_to_json (const HearthChange *change);

/**
 * hearth_change_append_json:
 * @change: a change
 * @for_digest: leave out "seq", "household" and "village", as the push
 *   outcome's digest does (sync/PROTOCOL.md section 7)
 * @out: where to append
 *
 * Appends the text json_to_string (hearth_change_to_json (@change), FALSE)
 * gives with json-glib 1.6, byte for byte, without building the tree: the
 * center hashes every change it receives, and digests stored by earlier
 * versions must keep matching (tests/test-change.c compares the two).
 */
void hearth_change_append_json (const HearthChange *change, gboolean for_digest, GString *out);

/**
 * hearth_change_append_record_json:
 * @change: a change of kind HEARTH_CHANGE_RECORD
 * @fields_text: its "fields" object exactly as
 *   hearth_change_append_fields_json() writes it (the caller knows it is:
 *   hearth_scan_change_fields())
 * @fields_len: its length
 *
 * As hearth_change_append_json(), with @fields_text written for the
 * fields rather than written again from @change's table.
 */
void hearth_change_append_record_json (const HearthChange *change, gboolean for_digest, const char *fields_text,
                                       gsize fields_len, GString *out);

/**
 * hearth_change_append_fields_json:
 * @change: a record
 * @out: where to append
 *
 * Appends the record's "fields" object as hearth_change_append_json()
 * writes it (members in name order).
 */
void hearth_change_append_fields_json (const HearthChange *change, GString *out);

/**
 * hearth_change_table_fields:
 * @table: (nullable): a table whose records are edited field by field
 *   ("households", "members", "tasks", "measures")
 *
 * The fields a change of kind "edit" or "edits" may name in @table
 * (PROTOCOL.md section 6.1): the columns the tablet's schema
 * (schema/migrations) gives the table but its "id" and the device's own
 * times ("created_at", "updated_at"). The one list: the center refuses
 * a pushed edit of any other field, the tablet applies none; a test
 * (/sync/store/table-fields) holds it equal to the schema's columns.
 * Thread safe (constant data).
 *
 * Returns: (transfer none) (array zero-terminated=1) (nullable): the
 *   names in byte order, or %NULL when @table is no such table.
 */
const char *const *hearth_change_table_fields (const char *table);

/**
 * hearth_change_is_field:
 * @table: (nullable): a table name
 * @field: (nullable): a field name
 *
 * Returns: whether @field is one of hearth_change_table_fields() (@table).
 */
gboolean hearth_change_is_field (const char *table,
                                 const char *field);

/**
 * hearth_change_from_json:
 * @node: one element of a push's or a pull's "changes"
 * @where: (nullable): how to name it in messages ("changes[4]")
 *
 * Reads and checks a change: kind, a table allowed for the kind, UUID ids,
 * for "edits" 1 to HEARTH_CHANGE_MAX_FIELDS fields each of a "value" and
 * "parents" and nothing else,
 * a 12-digit village, field names of lowercase letters, digits and "_"
 * (at most HEARTH_CHANGE_MAX_NAME bytes), valid UTF-8 string values of at
 * most HEARTH_CHANGE_MAX_VALUE bytes, valid versions, at most
 * HEARTH_CHANGE_MAX_PARENTS parents and HEARTH_CHANGE_MAX_FIELDS fields.
 *
 * Returns: (transfer full) (nullable): the change, or %NULL with
 *   HEARTH_CHANGE_ERROR_INVALID naming @where and the member at fault.
 */
HearthChange *hearth_change_from_json (JsonNode   *node,
                                       const char *where,
                                       GError    **error);

/**
 * hearth_change_valid:
 * @change: a change built otherwise than by hearth_change_from_json()
 *
 * Whether hearth_change_from_json() would take the change's JSON: the
 * same checks on the members it holds (a kind's members only, no "seq"
 * or "cursor" below 1 but 0 for absent). It says no more: a reader that
 * meets FALSE reads the JSON with hearth_change_from_json(), whose error
 * names what is wrong.
 */
gboolean hearth_change_valid (const HearthChange *change);

/**
 * hearth_change_valid_scanned:
 * @change: a change whose every string is known to be UTF-8 of at most
 *   HEARTH_CHANGE_MAX_VALUE bytes without NUL
 * @version: (out) (optional): for a valid edit or write of several
 *   fields, its version (@change's hlc) as hearth_hlc_parse() reads it,
 *   which the check parses anyway
 *
 * hearth_change_valid() without checking the strings' encoding and size
 * again: for change-scan.c, which checks them as it reads them (a pull
 * page's 80,000 changes were read twice over for it).
 */
gboolean hearth_change_valid_scanned (const HearthChange *change,
                                      HearthHlc          *version);

/**
 * hearth_change_is_uuid:
 * @text: (nullable): a string
 *
 * g_uuid_string_is_valid() without its call per digit: 36 characters,
 * "-" at 8, 13, 18 and 23, hexadecimal digits of either case elsewhere.
 * A pull checks several ids a change, 70,000 changes. Thread-safe.
 *
 * Returns: whether @text is a UUID's text (FALSE for %NULL).
 */
gboolean hearth_change_is_uuid (const char *text);

/**
 * hearth_change_equal:
 *
 * Returns: whether @a and @b carry the same content (ignoring seq and
 *   cursor): how the center tells a repeated delivery from a different
 *   record under a used identity.
 */
gboolean hearth_change_equal (const HearthChange *a, const HearthChange *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthChangeStrings, hearth_change_strings_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthChange, hearth_change_free)

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-audit.h: the audit log of the case model, append-only and
 * hash-chained. Every user action (a visit recorded, a case moved, a
 * measure added, a conflict resolved, …) appends one entry: who, what,
 * when, the record it is about and every record it wrote with the names
 * of the fields it wrote, never their values (personal data stays out of
 * the log; the format of `fields` is below, at HearthAuditEntry). Each
 * entry's hash is BLAKE2b-256 (libsodium's crypto_generichash) over the
 * previous entry's hash and the entry's own fields, and the newest entry's
 * number and hash are kept in store_meta in the same transaction: an
 * edited, removed, reordered or truncated entry breaks the chain, and
 * hearth_audit_verify() names it.
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

#define HEARTH_AUDIT_ERROR (hearth_audit_error_quark ())
GQuark hearth_audit_error_quark (void);

/**
 * HearthAuditError:
 * @HEARTH_AUDIT_ERROR_INVALID: an entry to append has an empty or
 *   multi-line field, or one longer than HEARTH_AUDIT_MAX_FIELD bytes
 *   (HEARTH_AUDIT_MAX_FIELDS_TEXT for its fields)
 * @HEARTH_AUDIT_ERROR_BROKEN: the chain is broken; the message names the
 *   entry (by number) and what is wrong with it
 * @HEARTH_AUDIT_ERROR_SQLITE: the database refused a statement
 */
typedef enum {
  HEARTH_AUDIT_ERROR_INVALID,
  HEARTH_AUDIT_ERROR_BROKEN,
  HEARTH_AUDIT_ERROR_SQLITE,
} HearthAuditError;

#define HEARTH_AUDIT_MAX_FIELD 1024
/* The longest `fields` of an entry: the records of one action and their
 * field names. An action that writes more (a large household registered,
 * a household with its members imported) continues in further entries
 * with the same action and record; no single record's part comes near it
 * (the widest table has 20 columns). */
#define HEARTH_AUDIT_MAX_FIELDS_TEXT 4096

/* The previous hash of the first entry. */
#define HEARTH_AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/**
 * hearth_audit_entry_hash:
 * @prev_hash: the previous entry's hash, 64 lowercase hex digits
 *   (HEARTH_AUDIT_GENESIS for entry 1)
 * @seq: the entry's number, from 1
 * @fields: (array fixed-size=8): the entry's id, at, actor, device_id,
 *   action, record_table, record_id and fields ("" for none), in that order
 * @out: (out caller-allocates) (array fixed-size=65): the hash, 64 lowercase
 *   hex digits and a NUL
 *
 * The entry's hash as hearth_audit_append() writes it and
 * hearth_audit_verify() checks it: BLAKE2b-256 over "hearth audit v1",
 * @prev_hash, @seq and @fields, one per line. The county center recomputes
 * it for the entries a device pushes (sync/PROTOCOL.md, section 6.2).
 * Thread-safe.
 */
void hearth_audit_entry_hash (const char        *prev_hash,
                              gint64             seq,
                              const char *const  fields[8],
                              char               out[65]);

/**
 * HearthAuditEntry:
 * @at: (nullable): when, ISO 8601 UTC; %NULL: now
 * @actor: the user
 * @device_id: the device
 * @action: what was done ("record" a submission, "approve" a case, "create"
 *   a measure, "resolve" a conflict, "import", or the action a caller of
 *   hearth_case_write() names)
 * @record_table: the table of the record the action is about (a visit's
 *   submission, a moved household, …)
 * @record_id: the record's UUID
 * @fields: (nullable): what the action wrote, tokens separated by one
 *   space, at most HEARTH_AUDIT_MAX_FIELDS_TEXT bytes. A token without "/"
 *   is a field of the entry's own record (@record_table, @record_id) that
 *   the action wrote; for a "record" entry of a submission, written whole,
 *   it is the submission's form id instead. A token `table/id:f1,f2,…`
 *   names another record the action wrote and the fields it wrote of it.
 *   Every entry before one entry per action existed has bare tokens only
 *   (one entry per record written), so both read alike. Example, a visit:
 *   `hearth_household_visit households/ID:entity_version,risk_level
 *   tasks/ID:closed_by,status tasks/ID:assignee,due_date,…`.
 */
typedef struct {
  const char *at;
  const char *actor;
  const char *device_id;
  const char *action;
  const char *record_table;
  const char *record_id;
  const char *fields;
} HearthAuditEntry;

/**
 * hearth_audit_append:
 * @db: an open store, inside the transaction of the change it records
 * @entry: the entry
 * @seq: (out) (optional): its number, from 1
 *
 * Appends one entry, its statements prepared for it alone: a caller that
 * appends many keeps a HearthAuditWriter.
 *
 * Returns: %FALSE with HEARTH_AUDIT_ERROR_INVALID or _SQLITE. Not
 *   thread-safe for one @db.
 */
gboolean hearth_audit_append (sqlite3                *db,
                              const HearthAuditEntry *entry,
                              gint64                 *seq,
                              GError                **error);

/**
 * HearthAuditWriter:
 *
 * Appends entries to the log of one connection with its statements
 * prepared once (hearth_audit_append() prepares them for every entry,
 * which cost more than running them).
 */
typedef struct _HearthAuditWriter HearthAuditWriter;

/**
 * hearth_audit_writer_new:
 * @db: an open store; it must stay open until the writer is freed
 *
 * Returns: (transfer full): a writer for @db. Prepares nothing yet.
 */
HearthAuditWriter *hearth_audit_writer_new (sqlite3 *db);

/**
 * hearth_audit_writer_free:
 * @writer: (nullable) (transfer full): a writer
 *
 * Finalizes the writer's statements: free it before its connection is
 * closed (a connection with a statement left open does not close).
 */
void hearth_audit_writer_free (HearthAuditWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthAuditWriter, hearth_audit_writer_free)

/**
 * hearth_audit_writer_append:
 * @writer: a writer
 * @entry: the entry
 * @seq: (out) (optional): its number, from 1
 *
 * As hearth_audit_append() on the writer's connection, inside the
 * transaction of the change it records.
 *
 * Returns: %FALSE with HEARTH_AUDIT_ERROR_INVALID or _SQLITE. Not
 *   thread-safe for one @writer.
 */
gboolean hearth_audit_writer_append (HearthAuditWriter      *writer,
                                     const HearthAuditEntry *entry,
                                     gint64                 *seq,
                                     GError                **error);

/**
 * HearthAuditRecord:
 * @table: a table
 * @id: a record of it
 * @fields: (array zero-terminated=1): the fields the action wrote of it
 *   (for a submission's own "record" entry, its form id)
 *
 * One record an audit entry names.
 */
typedef struct {
  char  *table;
  char  *id;
  GStrv  fields;
} HearthAuditRecord;

void hearth_audit_record_free (HearthAuditRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthAuditRecord, hearth_audit_record_free)

/**
 * hearth_audit_entry_records:
 * @record_table: the entry's record_table
 * @record_id: the entry's record_id
 * @fields: (nullable): the entry's fields
 *
 * The records an entry names, as HearthAuditEntry describes @fields: its
 * own record first (with the bare tokens, possibly none), then each
 * `table/id:fields` token in order. A token with "/" but no ":" names a
 * record with no fields. Thread-safe.
 *
 * Returns: (transfer full) (element-type HearthAuditRecord): the records.
 */
GPtrArray *hearth_audit_entry_records (const char *record_table,
                                       const char *record_id,
                                       const char *fields);

/**
 * hearth_audit_verify:
 * @db: an open store
 * @checked: (out) (optional): how many entries were checked
 *
 * Walks the log in order and recomputes every hash.
 *
 * Returns: %TRUE when the chain is whole, else %FALSE with
 *   HEARTH_AUDIT_ERROR_BROKEN naming the first entry that is edited,
 *   missing or out of place, or the entries cut from the end.
 */
gboolean hearth_audit_verify (sqlite3  *db,
                              gint64   *checked,
                              GError  **error);

G_END_DECLS

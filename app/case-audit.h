/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-audit.h: the audit log of the case model, append-only and
 * hash-chained. Every change appends who, what, when, the record and the
 * names of the fields it touched, never their values (personal data stays
 * out of the log). Each entry's hash is BLAKE2b-256 (libsodium's
 * crypto_generichash) over the previous entry's hash and the entry's own
 * fields, and the newest entry's number and hash are kept in store_meta in
 * the same transaction: an edited, removed, reordered or truncated entry
 * breaks the chain, and hearth_audit_verify() names it.
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
 * @action: what was done ("create", "update", "finalise", "review", …)
 * @record_table: the table of the record
 * @record_id: the record's UUID
 * @fields: (nullable): the names of the fields changed, space-separated
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
 * Returns: %FALSE with HEARTH_AUDIT_ERROR_INVALID or _SQLITE. Not
 *   thread-safe for one @db.
 */
gboolean hearth_audit_append (sqlite3                *db,
                              const HearthAuditEntry *entry,
                              gint64                 *seq,
                              GError                **error);

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

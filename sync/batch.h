/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * batch.h: a batch of synchronised records for county staff
 * (sync/PROTOCOL.md, section 10): one file per table, CSV (UTF-8 with a
 * byte order mark, for spreadsheets) or JSON, and manifest.json with the
 * record count and the BLAKE2b-256 checksum of every file and the cursor
 * range, so a copied batch can be verified and the next one continues
 * where it ended. hearth-center writes batches; hearth-center and
 * hearth-cli verify them.
 *
 * Not thread-safe per writer; hearth_batch_verify() is thread-safe.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define HEARTH_BATCH_ERROR (hearth_batch_error_quark ())
GQuark hearth_batch_error_quark (void);

/**
 * HearthBatchError:
 * @HEARTH_BATCH_ERROR_IO: a file could not be written or read (the
 *   message names it)
 * @HEARTH_BATCH_ERROR_INVALID: a batch that does not verify: a missing,
 *   extra or changed file, a count that differs, a manifest that is not
 *   one (the message names the file and what differs)
 * @HEARTH_BATCH_ERROR_KEY: a batch not signed with the key it had to be
 *   signed with (another key, or none)
 */
typedef enum {
  HEARTH_BATCH_ERROR_IO,
  HEARTH_BATCH_ERROR_INVALID,
  HEARTH_BATCH_ERROR_KEY,
} HearthBatchError;

typedef enum {
  HEARTH_BATCH_CSV,
  HEARTH_BATCH_JSON,
} HearthBatchFormat;

/* The manifest's "format". */
#define HEARTH_BATCH_FORMAT_NAME "hearth-batch-v1"
/* The largest file verify reads (a chunk at a time: one record in memory). */
#define HEARTH_BATCH_MAX_FILE (1024 * 1024 * 1024)
/* The largest record of a JSON batch file verify parses (json-glib holds
 * it as a tree, several times its size). */
#define HEARTH_BATCH_MAX_RECORD (64 * 1024 * 1024)
/* The largest manifest.json read: a batch's names a few files in a few
 * kilobytes; json-glib would hold several times a larger one in memory. */
#define HEARTH_BATCH_MAX_MANIFEST (1024 * 1024)

/* The batch's detached signature of its manifest.json (PROTOCOL.md
 * section 10), and its first line. */
#define HEARTH_BATCH_SIGNATURE_NAME "manifest.sig"
#define HEARTH_BATCH_SIGNATURE_HEADER "hearth batch signature v1"
/* What the Ed25519 signature covers: this line, then manifest.json's bytes
 * (so the signature can be taken for nothing else the key might sign). */
#define HEARTH_BATCH_SIGNED_PREFIX "hearth-batch-v1 manifest\n"
#define HEARTH_BATCH_KEY_BYTES 32
#define HEARTH_BATCH_SIGNATURE_BYTES 64

/* The tables of a county batch, in the order it writes them; each is a
 * file even when empty (sync/PROTOCOL.md section 10). %NULL-terminated. */
extern const char *const hearth_batch_tables[];

/**
 * hearth_batch_count_records:
 * @name: the file's name in its batch ("households.csv", "tasks.json"):
 *   its suffix says the format; named in the messages
 * @data: (array length=len): the file's bytes
 * @chunk: how many bytes to take at a time (any from 1: verify reads a
 *   file 1 MiB at a time; the result does not depend on it)
 * @records: (out): the records: CSV rows after the header (RFC 4180 as
 *   hearth_csv_record() reads them; a byte order mark skipped), or the
 *   elements of a JSON file's top-level array
 *
 * Counts a batch file's records as hearth_batch_verify() does, without
 * holding more than a record of it: a JSON element is parsed alone
 * (json-glib, its nesting counted first) and may have at most
 * HEARTH_BATCH_MAX_RECORD bytes.
 *
 * Returns: whether the file reads as one; else %FALSE with
 *   HEARTH_BATCH_ERROR_INVALID naming the file and what is wrong (not
 *   UTF-8, a quoted field not closed, not a JSON array, the record and
 *   line that is not JSON). Thread-safe.
 */
gboolean hearth_batch_count_records (const char  *name,
                                     const char  *data,
                                     gsize        len,
                                     gsize        chunk,
                                     gint64      *records,
                                     GError     **error);

typedef struct _HearthBatchWriter HearthBatchWriter;

/**
 * hearth_batch_writer_new:
 * @dir: the batch folder: made if missing, else it must be empty
 *
 * Returns: (transfer full) (nullable): a writer, or %NULL with
 *   HEARTH_BATCH_ERROR_IO (cannot make it, or not empty).
 */
HearthBatchWriter *hearth_batch_writer_new (const char *dir, HearthBatchFormat format, GError **error);

/**
 * hearth_batch_writer_begin_table:
 * @table: a table name ("households"): the file is TABLE.csv or TABLE.json
 * @columns: (array zero-terminated=1): the column names, in order
 *
 * Ends the previous table's file and starts this one. Every table named in
 * a batch gets a file, even with no records.
 */
gboolean hearth_batch_writer_begin_table (HearthBatchWriter  *writer,
                                          const char         *table,
                                          const char *const  *columns,
                                          GError            **error);

/**
 * hearth_batch_writer_add_row:
 * @values: (array zero-terminated=0): one value per column (%NULL: blank)
 *
 * In CSV a value is quoted as RFC 4180 says, and a value a spreadsheet
 * would run as a formula (starting with =, +, @, a tab, a carriage return,
 * or - not followed by a digit) is prefixed with ' (OWASP's advice on CSV
 * injection).
 */
gboolean hearth_batch_writer_add_row (HearthBatchWriter  *writer,
                                      const char *const  *values,
                                      GError            **error);

/**
 * hearth_batch_csv_field:
 * @out: where the field goes
 * @value: the value
 *
 * Appends @value as one CSV field, as hearth_batch_writer_add_row() writes
 * it (RFC 4180 quoting, a formula prefixed with '), for other CSV files
 * people open in a spreadsheet. Thread-safe.
 */
void hearth_batch_csv_field (GString *out, const char *value);

/**
 * hearth_batch_writer_finish:
 * @manifest: the manifest's own members (county, scope, since, until,
 *   time_zone, cursor_from, cursor_to); "format" and "files" are added
 *
 * Ends the last file and writes manifest.json. Frees @writer whatever the
 * result.
 *
 * Returns: %FALSE with HEARTH_BATCH_ERROR_IO.
 */
gboolean hearth_batch_writer_finish (HearthBatchWriter *writer, JsonObject *manifest, GError **error);

/**
 * hearth_batch_write_manifest:
 * @gen: the manifest, set as @gen's root
 * @path: where it goes (replaced whole, or left as it was)
 *
 * Writes a batch's manifest.json readable by its owner alone (0600), as
 * the batch's data files. Thread-safe.
 *
 * Returns: %FALSE with a #GFileError.
 */
gboolean hearth_batch_write_manifest (JsonGenerator *gen, const char *path, GError **error);

/**
 * hearth_batch_sign:
 * @dir: a batch folder whose manifest.json is written
 * @seed: (array fixed-size=32): the Ed25519 seed of the signing key (the
 *   center's, hearth_center_txn_get_batch_key()); not kept
 *
 * Signs manifest.json's bytes (after %HEARTH_BATCH_SIGNED_PREFIX) with
 * Ed25519 and writes manifest.sig (0600): its first line
 * %HEARTH_BATCH_SIGNATURE_HEADER, then the public key and the signature,
 * each in standard base64 on a line of its own. The manifest lists every
 * file's checksum, so the signature covers the whole batch. The expanded
 * secret key lives in sodium_malloc() memory while it is used.
 * Thread-safe.
 *
 * Returns: %FALSE with HEARTH_BATCH_ERROR_IO (manifest.json unreadable,
 *   manifest.sig not written).
 */
gboolean hearth_batch_sign (const char *dir, const guint8 *seed, GError **error);

/**
 * hearth_batch_write_signature:
 * @dir: a batch folder
 * @public_key: (array fixed-size=32): the signer's Ed25519 public key
 * @signature: (array fixed-size=64): the signature
 *
 * Writes manifest.sig as hearth_batch_sign() does, from a signature read
 * elsewhere (the export endpoint's reply, PROTOCOL.md section 9.1); it is
 * not checked here (hearth_batch_verify_signed() does). Thread-safe.
 *
 * Returns: %FALSE with HEARTH_BATCH_ERROR_IO.
 */
gboolean hearth_batch_write_signature (const char *dir, const guint8 *public_key, const guint8 *signature,
                                       GError **error);

/**
 * hearth_batch_read_signature:
 * @dir: a batch folder
 * @public_key: (out caller-allocates) (array fixed-size=32)
 * @signature: (out caller-allocates) (array fixed-size=64)
 *
 * Reads manifest.sig (at most 1 KiB, a plain file) without checking the
 * signature. Thread-safe.
 *
 * Returns: %FALSE with HEARTH_BATCH_ERROR_INVALID naming the line that is
 *   wrong, or saying the folder has no manifest.sig.
 */
gboolean hearth_batch_read_signature (const char *dir, guint8 *public_key, guint8 *signature, GError **error);

/**
 * hearth_batch_key_to_text:
 * @public_key: (array fixed-size=32)
 *
 * Returns: (transfer full): the key as county staff compare it: standard
 *   base64, 44 characters.
 */
char *hearth_batch_key_to_text (const guint8 *public_key);

/**
 * hearth_batch_key_from_text:
 * @text: a key as hearth_batch_key_to_text() writes it (spaces around it
 *   are ignored)
 * @public_key: (out caller-allocates) (array fixed-size=32)
 *
 * Returns: %FALSE with HEARTH_BATCH_ERROR_INVALID when @text is not 32
 *   bytes in standard base64.
 */
gboolean hearth_batch_key_from_text (const char *text, guint8 *public_key, GError **error);

/**
 * hearth_batch_signature_summary:
 * @is_signed: whether the verified batch is signed
 * @signer: (nullable) (array fixed-size=32): the key it is signed with
 * @key_given: whether the key was checked against one the user gave
 *
 * Returns: (transfer full): one line for people, translated, ending in a
 *   newline: who signed the batch, or that nothing shows who wrote it.
 */
char *hearth_batch_signature_summary (gboolean is_signed, const guint8 *signer, gboolean key_given);

/** hearth_batch_writer_free: abandons an unfinished batch (its files stay). */
void hearth_batch_writer_free (HearthBatchWriter *writer);

/**
 * hearth_batch_verify:
 * @dir: a batch folder
 * @manifest: (out) (optional) (transfer full): the manifest read
 *
 * Checks that manifest.json is a hearth-batch-v1 manifest (its "format",
 * the whole numbers "cursor_from" and "cursor_to", the first not above the
 * second, and "files", each with a "name", a whole "records" and a
 * "blake2b_256"), that every file it lists exists with its checksum and
 * its record count, and that the folder holds no other file.
 *
 * Returns: %FALSE with HEARTH_BATCH_ERROR_INVALID naming the first file
 *   that fails and how, or _IO.
 */
gboolean hearth_batch_verify (const char *dir, JsonObject **manifest, GError **error);

/**
 * hearth_batch_verify_signed:
 * @dir: a batch folder
 * @trusted_key: (nullable) (array fixed-size=32): the public key the
 *   batch must be signed with (the county's center's, as `hearth-center
 *   batch-key` prints it); %NULL to accept a batch signed by any key, or
 *   none
 * @signer: (out caller-allocates) (optional) (array fixed-size=32): the
 *   key that signed the batch, when it is signed
 * @is_signed: (out) (optional): whether the folder holds a manifest.sig
 *   (then always a good signature: a bad one fails)
 * @manifest: (out) (optional) (transfer full): the manifest read
 *
 * hearth_batch_verify(), after checking manifest.sig, when present or
 * when @trusted_key asks for it: a well-formed file whose Ed25519
 * signature of manifest.json verifies under its key, and that key is
 * @trusted_key when given (compared in constant time). Thread-safe.
 *
 * Returns: %FALSE with HEARTH_BATCH_ERROR_KEY (no manifest.sig, or
 *   another key, when @trusted_key is given), _INVALID naming
 *   manifest.sig and what is wrong (malformed, a signature that does not
 *   match manifest.json), or as hearth_batch_verify().
 */
gboolean hearth_batch_verify_signed (const char   *dir,
                                     const guint8 *trusted_key,
                                     guint8       *signer,
                                     gboolean     *is_signed,
                                     JsonObject  **manifest,
                                     GError      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthBatchWriter, hearth_batch_writer_free)

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * center-sync.h: the county center's side of the sync protocol
 * (sync/PROTOCOL.md, sections 2-9) without HTTP: a request goes in as its
 * method, target, Hearth headers and body as sent; a reply comes out as a
 * status and a JSON body. center-server.c carries both over libmicrohttpd,
 * the tests of the push body parser call it directly.
 *
 * Enrolment consumes a code and registers the device in one transaction;
 * a push is one transaction, shared with the pushes waiting at the same
 * time (group commit: each in a savepoint, one commit and one sync for
 * all, every reply after it; its nonce in it too), duplicates answered
 * from the stored outcomes, each change checked alone (scope, identity,
 * parents first, open versions, audit chain, clock clamping); a pull
 * reads one snapshot.
 *
 * Thread-safe: one HearthCenter serves every server thread.
 */
#pragma once

#include <glib.h>

#include "center-store.h"
#include "change.h"
#include "hlc.h"

G_BEGIN_DECLS

#define HEARTH_CENTER_ERROR (hearth_center_error_quark ())
GQuark hearth_center_error_quark (void);

/**
 * HearthCenterError:
 *
 * The protocol's error codes (PROTOCOL.md section 3), one per reply code;
 * hearth_center_error_code() and hearth_center_error_status() give the
 * code and the HTTP status of each.
 */
typedef enum {
  HEARTH_CENTER_ERROR_BAD_JSON,
  HEARTH_CENTER_ERROR_TOO_DEEP,
  HEARTH_CENTER_ERROR_TOO_MANY,
  HEARTH_CENTER_ERROR_BAD_CHANGE,
  HEARTH_CENTER_ERROR_BAD_REQUEST,
  HEARTH_CENTER_ERROR_UNSIGNED,
  HEARTH_CENTER_ERROR_BAD_SIGNATURE,
  HEARTH_CENTER_ERROR_STALE,
  HEARTH_CENTER_ERROR_REPLAY,
  HEARTH_CENTER_ERROR_UNKNOWN_DEVICE,
  HEARTH_CENTER_ERROR_REVOKED,
  HEARTH_CENTER_ERROR_FORBIDDEN,
  HEARTH_CENTER_ERROR_NOT_FOUND,
  HEARTH_CENTER_ERROR_GAP,
  HEARTH_CENTER_ERROR_DEVICE_EXISTS,
  HEARTH_CENTER_ERROR_CODE_USED,
  HEARTH_CENTER_ERROR_CODE_EXPIRED,
  HEARTH_CENTER_ERROR_CODE_UNKNOWN,
  HEARTH_CENTER_ERROR_TOO_LARGE,
  HEARTH_CENTER_ERROR_BUSY,
  HEARTH_CENTER_ERROR_DRAINING,
  HEARTH_CENTER_ERROR_INTERNAL,
  HEARTH_CENTER_ERROR_WRONG_USER,
  HEARTH_CENTER_ERROR_TOO_LONG,
  HEARTH_CENTER_ERROR_HEADERS_TOO_LARGE,
} HearthCenterError;

/* The limits of PROTOCOL.md section 2. */
#define HEARTH_CENTER_MAX_BODY        (8 * 1024 * 1024)
/* A request's target (path and query), and its header lines together:
 * beyond them the center answers 414 too-long and 431 headers-too-large.
 * The server reads a request's head into HEARTH_CENTER_MAX_HEAD_BUFFER
 * bytes; a head larger than that is answered by libmicrohttpd itself
 * (414 or 431 with an HTML page, not the error object). */
#define HEARTH_CENTER_MAX_TARGET      (8 * 1024)
#define HEARTH_CENTER_MAX_HEADERS     (16 * 1024)
#define HEARTH_CENTER_MAX_HEAD_BUFFER (64 * 1024)
/* Changes in one push: 500 before this version (PROTOCOL.md section 2);
 * a device falls back to that when an older center answers too-many. */
#define HEARTH_CENTER_MAX_CHANGES     2000
#define HEARTH_CENTER_MAX_PULL        1000
#define HEARTH_CENTER_DEFAULT_PULL    500
#define HEARTH_CENTER_MAX_PAGE        (4 * 1024 * 1024)
/* The open versions (heads) a field may have at the center (PROTOCOL.md
 * section 7): an edit that would make more is refused. As many as one
 * edit may name (HEARTH_CHANGE_MAX_PARENTS), so that one resolution can
 * always close them all. */
#define HEARTH_CENTER_MAX_HEADS       HEARTH_CHANGE_MAX_PARENTS
/* Group commit (center-sync.c): the changes of the pushes one commit
 * takes at most, how many pushes may wait, and how long one may wait
 * before it is answered 503 "busy". A commit writes again every page of
 * the indexes keyed by record ids (random places) that its visits touch,
 * so a larger group writes fewer pages a visit: a hundred tablets
 * pushing 25 visits (128 changes) each are one group of 12,800 changes,
 * where 5,000 made three (the bench's ingest: 25.6 → 20.0 KiB written
 * a visit). The group's pages fit the writer's page cache (32 MiB,
 * center-store-sqlite.c). */
#define HEARTH_CENTER_GROUP_CHANGES   15000
#define HEARTH_CENTER_MAX_WAITING     256
#define HEARTH_CENTER_BUSY_WAIT_MS    20000
/* Protocol version 2's pull (PROTOCOL.md section 8.1): larger pages;
 * version 3's (section 8.2) has the same. */
#define HEARTH_CENTER_MAX_PULL_V2     10000
#define HEARTH_CENTER_DEFAULT_PULL_V2 2000
#define HEARTH_CENTER_MAX_PAGE_V2     (8 * 1024 * 1024)
#define HEARTH_CENTER_MAX_SKEW_MS     (5 * 60 * 1000)
#define HEARTH_CENTER_NONCE_KEEP_MS   (10 * 60 * 1000)
/* How far ahead of the center's clock a GET may be signed (PROTOCOL.md
 * section 4): a device's estimate of the center's time is off by its
 * rounding to milliseconds and its clock's drift. A GET's nonce is kept
 * in memory only; the center waits as long when it starts, so that a GET
 * taken before a crash was signed before the restart. */
#define HEARTH_CENTER_GET_AHEAD_MS    250
/* The GET nonces kept in memory (PROTOCOL.md section 4), ~150 bytes each:
 * a device's within HEARTH_CENTER_NONCE_KEEP_MS (ten GETs a second, far
 * beyond a tablet's pulls), and all devices' (some 60 MiB). Beyond them a
 * GET is answered 503 busy, so that one device cannot fill the center's
 * memory. */
#define HEARTH_CENTER_MAX_GET_NONCES_DEVICE 6000
#define HEARTH_CENTER_MAX_GET_NONCES        400000
/* The largest export reply: the files in base64 and the manifest (the
 * device's client reads at most as much, HEARTH_SYNC_MAX_REPLY). */
#define HEARTH_CENTER_MAX_EXPORT      (64 * 1024 * 1024)
/* The largest seq accepted: far beyond any device, far below overflow. */
#define HEARTH_CENTER_MAX_SEQ         G_GINT64_CONSTANT (1000000000000000)

/**
 * hearth_center_error_code:
 * @error: a HearthCenterError
 *
 * Returns: (transfer none): its code on the wire ("bad-json"). Thread-safe.
 */
const char *hearth_center_error_code (HearthCenterError error);

/**
 * hearth_center_error_status:
 * @error: a HearthCenterError
 *
 * Returns: its HTTP status (400). Thread-safe.
 */
guint hearth_center_error_status (HearthCenterError error);

/**
 * HearthCenterRequest:
 * @method: "GET", "POST", …
 * @target: the path and query as sent ("/v1/pull?cursor=0&limit=500")
 * @device, @time, @nonce, @signature: (nullable): the Hearth-Device,
 *   Hearth-Time, Hearth-Nonce and Hearth-Signature headers
 * @content_encoding: (nullable): the Content-Encoding header
 * @body: (array length=body_len) (nullable): the body as sent
 * @body_len: its length
 *
 * Borrowed: the center never keeps or frees it.
 */
typedef struct {
  const char *method;
  const char *target;
  const char *device;
  const char *time;
  const char *nonce;
  const char *signature;
  const char *content_encoding;
  const guint8 *body;
  gsize body_len;
} HearthCenterRequest;

/**
 * HearthCenterReply:
 * @status: the HTTP status
 * @body: the JSON body (UTF-8)
 * @server_time: the center's clock when it answered (the Hearth-Time
 *   header), ms since 1970
 * @retry_after: seconds for a Retry-After header, or 0
 * @device_id: (nullable): the device the request named, for the access
 *   log (a UUID, never personal data)
 */
typedef struct {
  guint status;
  GBytes *body;
  gint64 server_time;
  guint retry_after;
  char *device_id;
} HearthCenterReply;

/** hearth_center_reply_free: @reply: (transfer full) (nullable): freed with its body. Thread-safe. */
void hearth_center_reply_free (HearthCenterReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthCenterReply, hearth_center_reply_free)

/**
 * hearth_center_error_reply:
 * @error: what went wrong
 * @message: the human-readable reason
 *
 * An error reply {"error": {"code", "message"}} (PROTOCOL.md section 3),
 * for refusals made before a request reaches hearth_center_handle() (a body
 * too large, a server draining).
 *
 * Returns: (transfer full): the reply. Thread-safe.
 */
HearthCenterReply *hearth_center_error_reply (HearthCenterError error,
                                              const char       *message);

/* ---- the push body, on its own for the fuzz target ---------------------------- */

/**
 * HearthPushItem:
 * @seq: the device's number of the change
 * @change: (nullable): the change, when it is well-formed
 * @refusal: (nullable): else why not (the codec's message, naming the
 *   member at fault), to be refused with "bad-change" and consumed
 * @digest: SipHash-2-4 of 128 bits (crypto_shorthash_siphashx24), in 32
 *   hex digits, of what the change holds: of the change as the codec
 *   reads it, less "seq", "household" and "village" (which a device looks
 *   up when it pushes, so a change sent again may name another), or of
 *   the element's JSON when the codec refused it (PROTOCOL.md section 7)
 * @fields: (nullable): a record's fields as the center stores them
 *   (hearth_center_fields_pack() of the text
 *   hearth_change_append_fields_json() writes: the body's own when it is
 *   that text, else cut from the digest's text), packed while the
 *   request is read, so that the group's writer neither writes nor packs
 *   them
 * @fields_text: (nullable): while the body is read, a record's "fields"
 *   object in the body when it is exactly what
 *   hearth_change_append_fields_json() would write
 *   (hearth_scan_change_fields()); %NULL once the digest is made
 * @fields_len: its length
 * @n_digest_text: 3 when the change came exactly as
 *   hearth_change_append_json() writes it (hearth_scan_push_change(), as
 *   devices send it), else 0
 * @digest_text: then the text of which the digest is made, in three
 *   pieces of the body (valid while the body is), kept for a repeat of a
 *   change whose digest was made before center migration 0026
 *   (BLAKE2b-256 of them)
 * @digest_len: their lengths
 * @digest_before: else, once the digest is made, that digest of before
 *   0026 (BLAKE2b-256 in hex), for the same
 * @audit_hash: an audit entry's hash of its own fields and prev_hash,
 *   computed on the request's thread before the writer checks the chain
 *   (empty: not computed, the writer computes it)
 * @version: an edit's or a write's version parsed on the request's
 *   thread (by the one-pass reader's check of the change,
 *   hearth_scan_push_change(), or version_ahead() of center-sync.c),
 *   when @version_parsed is 1
 * @version_parsed: 1 @version holds it, -1 it is no version (the writer
 *   says why), 0 not parsed (the writer parses it)
 * @fields_known: whether @unknown_field and @guarded were set on the
 *   request's thread (fields_ahead() of center-sync.c: an edit's field,
 *   or a write's of at most 64 fields); else the writer asks
 * @unknown_field: the index of the first field the change's table does
 *   not have (hearth_change_is_field(); 0: an edit's), or -1
 * @guarded: bit i set when the workflow guards field i
 *   (hearth_workflow_guards_field())
 */
typedef struct {
  gint64 seq;
  HearthChange *change;
  char *refusal;
  char digest[65];
  GBytes *fields;
  const char *fields_text;
  gsize fields_len;
  guint n_digest_text;
  const char *digest_text[3];
  gsize digest_len[3];
  char digest_before[65];
  char audit_hash[65];
  HearthHlc version;
  int version_parsed;
  gboolean fields_known;
  int unknown_field;
  guint64 guarded;
} HearthPushItem;

/**
 * HearthPushBatch:
 * @device_id: the device the body names
 * @items: (element-type HearthPushItem): the changes, with consecutive
 *   numbers
 * @strings: (nullable): the strings of changes the one-pass reader read
 *   (center-push-parse.h), which are borrowed from it (change.h): freed
 *   after the items
 */
typedef struct {
  char *device_id;
  GPtrArray *items;
  GStringChunk *strings;
} HearthPushBatch;

/**
 * hearth_push_item_free:
 * @item: (transfer full): a change of a push body, as
 *   hearth_center_parse_push() and its readers make them
 *
 * Frees @item and what it owns (its change, refusal, packed fields and
 * digest's text). Both readers' batches free their items with it.
 */
void hearth_push_item_free (HearthPushItem *item);

/** hearth_push_batch_free: @batch: (transfer full) (nullable): freed with its items. Thread-safe. */
void hearth_push_batch_free (HearthPushBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthPushBatch, hearth_push_batch_free)

/**
 * hearth_center_parse_json:
 * @data: (array length=len): a request body after any gunzip
 * @len: its length (at most HEARTH_CENTER_MAX_BODY)
 *
 * Checks that @data is UTF-8, counts its nesting before parsing
 * (json-depth.h), parses it and requires an object.
 *
 * Returns: (transfer full) (nullable): the root object, or %NULL with
 *   HEARTH_CENTER_ERROR_TOO_LARGE, _TOO_DEEP, _BAD_JSON (naming the line
 *   and column) or _BAD_REQUEST (not an object). Thread-safe.
 */
JsonNode *hearth_center_parse_json (const char *data,
                                    gsize       len,
                                    GError    **error);

/**
 * hearth_center_parse_push:
 * @data: (array length=len): a push body after any gunzip
 * @len: its length
 * @field: (out) (optional) (transfer full): on failure, the member at
 *   fault ("changes[3].seq"), or %NULL
 *
 * Parses a push body (PROTOCOL.md section 7): a body as devices write
 * it in one pass (hearth_center_parse_push_fast()), any other with
 * hearth_center_parse_json(), then its shape: "device_id", "changes" (at
 * most HEARTH_CENTER_MAX_CHANGES objects with consecutive "seq" from 1),
 * and each change with hearth_change_from_json(), whose refusal is kept
 * in the item rather than failing the batch.
 *
 * Returns: (transfer full) (nullable): the batch, or %NULL with a
 *   HEARTH_CENTER_ERROR (_TOO_LARGE, _TOO_DEEP, _BAD_JSON, _BAD_REQUEST,
 *   _TOO_MANY or _BAD_CHANGE). Thread-safe.
 */
HearthPushBatch *hearth_center_parse_push (const char *data,
                                           gsize       len,
                                           char      **field,
                                           GError    **error);

/**
 * hearth_center_parse_push_tree:
 *
 * hearth_center_parse_push() through json-glib's tree alone, as it reads
 * every body its one-pass reader (center-push-parse.h) gives up on, and
 * every error. Same arguments, result and errors; for the tests that
 * compare the two readers. Thread-safe.
 */
HearthPushBatch *hearth_center_parse_push_tree (const char *data,
                                                gsize       len,
                                                char      **field,
                                                GError    **error);

/**
 * HEARTH_CENTER_DIGEST_LEN:
 *
 * The length of a change's digest in hex digits (hearth_center_change_digest()).
 */
#define HEARTH_CENTER_DIGEST_LEN 32

/**
 * hearth_center_change_digest:
 * @text: the digest's text of a change (#HearthPushItem's @digest)
 * @len: its length in bytes
 * @out: (out caller-allocates): HEARTH_CENTER_DIGEST_LEN + 1 bytes: the
 *   digest in lowercase hex and a NUL
 *
 * The digest the center stores with a change (PROTOCOL.md section 7):
 * SipHash-2-4 of 128 bits (libsodium's crypto_shorthash_siphashx24)
 * under a fixed public key, as center migration 0026 made it (before:
 * BLAKE2b-256, 64 digits). Thread-safe.
 */
void hearth_center_change_digest (const char *text,
                                  gsize       len,
                                  char       *out);

/* ---- enrolment codes --------------------------------------------------------------- */

/**
 * hearth_center_code_new:
 * @hash: (out caller-allocates) (array fixed-size=32): BLAKE2b-256 of the
 *   code, what the store keeps
 *
 * Makes an enrolment code: 80 random bits (randombytes_buf) as 16
 * characters of Crockford base32 in four groups ("K7QM-3VXT-PA9C-WD4F").
 *
 * Returns: (transfer full): the code to give the user. Thread-safe.
 */
char *hearth_center_code_new (guint8 *hash);

/**
 * hearth_center_code_hash:
 * @entered: a code as typed (case, dashes and spaces ignored; O, I and L
 *   read as 0, 1 and 1, as Crockford's alphabet says)
 * @hash: (out caller-allocates) (array fixed-size=32): its BLAKE2b-256
 *
 * Returns: %FALSE when @entered is not 16 characters of the alphabet.
 *   Thread-safe.
 */
gboolean hearth_center_code_hash (const char *entered,
                                  guint8     *hash);

/* ---- the center ------------------------------------------------------------------- */

typedef struct _HearthCenter HearthCenter;

/**
 * hearth_center_new:
 * @store: an open store (a reference is taken)
 *
 * Returns: (transfer full) (nullable): the center, or %NULL with
 *   HEARTH_CENTER_STORE_ERROR_NOT_INITIALISED (no county yet) or _FAILED.
 */
HearthCenter *hearth_center_new (HearthCenterStore *store,
                                 GError           **error);
/**
 * hearth_center_free:
 * @center: (transfer full) (nullable): freed, and its store released; no
 *   request may be in progress
 */
void hearth_center_free (HearthCenter *center);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthCenter, hearth_center_free)

/**
 * hearth_center_get_epoch:
 *
 * The store's epoch (PROTOCOL.md section 12), read when the center was
 * made: a restore replaces the store only while the center is stopped.
 * The server sends it as the `Hearth-Epoch` header of every reply, so a
 * device notices a restore on any exchange.
 *
 * Returns: (transfer none): 32 lowercase hex digits. Thread-safe.
 */
const char *hearth_center_get_epoch (HearthCenter *center);

/**
 * hearth_center_handle:
 * @request: one whole request
 *
 * Answers `POST /v1/enrol`, `POST /v1/push`, `GET /v1/pull`, `GET /v2/pull`,
 * `GET /v3/pull`, `GET /v1/epoch` and `GET /v1/export` (county staff:
 * PROTOCOL.md section 9; the batch is written to a private temporary
 * folder, read back and removed): signature checks first (PROTOCOL.md
 * section 4), then the body, then the store. A refused request changes
 * nothing; a store failure is a 500 and nothing of it is committed.
 * A push is checked and parsed by the center's parse threads, in the
 * order pushes come, and answered once its group commit is durable:
 * the caller's thread waits meanwhile.
 *
 * Returns: (transfer full): the reply. Thread-safe; a push blocks.
 */
HearthCenterReply *hearth_center_handle (HearthCenter              *center,
                                         const HearthCenterRequest *request);

/**
 * hearth_center_user_name_is_valid:
 * @name: a user name, as `user add` or an enrolment request gives it
 *
 * A user name is 1 to 64 bytes: a lowercase letter or digit first, then
 * lowercase letters, digits, '.', '_' and '-' (INTERFACES.md, `user add`).
 *
 * Returns: whether @name is one. Thread-safe.
 */
gboolean hearth_center_user_name_is_valid (const char *name);

/**
 * hearth_center_scope_contains:
 * @scope: (array zero-terminated=1): division-code prefixes
 * @village: (nullable): a 12-digit village code
 *
 * Returns: whether @village starts with one of @scope. Thread-safe.
 */
gboolean hearth_center_scope_contains (const char *const *scope,
                                       const char        *village);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * center-store.h: the county center's store, behind one interface so that
 * a PostgreSQL store can join the SQLite one (center-store-sqlite.h)
 * without touching the protocol code (center-sync.c).
 *
 * The interface is one of primitives inside transactions: the protocol
 * code begins a transaction, reads and writes through it, and commits, so
 * that a push is one transaction whatever the store. A store holds the
 * county, users and their scopes, enrolment codes (hashes only), devices,
 * request nonces, the change log (the global cursor, unique edit and record
 * identities), the outcome of every pushed change, the merged state of
 * mutable records with their open conflicts, and the numbering of the
 * center's own changes (HEARTH_CENTER_OWN_DEVICE). Exports read the
 * records a range of the change log touched (HearthCenterRange).
 *
 * Thread safety: a store is shared by every thread; a transaction belongs
 * to the thread that began it until it is committed or rolled back.
 * Implementations serialise write transactions (a push sees every earlier
 * push of its device) and give a read transaction one snapshot.
 */
#pragma once

#include <glib-object.h>

#include "change.h"

G_BEGIN_DECLS

#define HEARTH_CENTER_STORE_ERROR (hearth_center_store_error_quark ())
GQuark hearth_center_store_error_quark (void);

/**
 * HearthCenterStoreError:
 * @HEARTH_CENTER_STORE_ERROR_NO_STORE: no store where one was named
 * @HEARTH_CENTER_STORE_ERROR_NOT_INITIALISED: the store has no county yet
 *   (`hearth-center init` was not run)
 * @HEARTH_CENTER_STORE_ERROR_NOT_FOUND: no such user, device or code
 * @HEARTH_CENTER_STORE_ERROR_EXISTS: a row with that identity exists (a
 *   user, a device or its key, a nonce already seen, a change identity)
 * @HEARTH_CENTER_STORE_ERROR_SCHEMA: the schema could not be brought up to
 *   date, or is newer than this program
 * @HEARTH_CENTER_STORE_ERROR_FAILED: the database failed (I/O, busy for
 *   too long, damaged); nothing of the transaction was committed
 * @HEARTH_CENTER_STORE_ERROR_UNSUPPORTED: a store kind this build lacks
 * @HEARTH_CENTER_STORE_ERROR_NOT_DURABLE: the WAL could not be synced
 *   (hearth_center_store_wait_durable()): the transaction may be
 *   committed, or lost at a power cut; sticky until a restart
 */
typedef enum {
  HEARTH_CENTER_STORE_ERROR_NO_STORE,
  HEARTH_CENTER_STORE_ERROR_NOT_INITIALISED,
  HEARTH_CENTER_STORE_ERROR_NOT_FOUND,
  HEARTH_CENTER_STORE_ERROR_EXISTS,
  HEARTH_CENTER_STORE_ERROR_SCHEMA,
  HEARTH_CENTER_STORE_ERROR_FAILED,
  HEARTH_CENTER_STORE_ERROR_UNSUPPORTED,
  HEARTH_CENTER_STORE_ERROR_NOT_DURABLE,
} HearthCenterStoreError;

/* The device id of the center's own changes (a registry imported at the
 * center, published forms and thresholds): not a UUID, so no request can
 * authenticate as it; no device row has it. */
#define HEARTH_CENTER_OWN_DEVICE "center"

/* ---- rows ------------------------------------------------------------------ */

/**
 * HearthCenterCounty:
 * @code: the 6-digit county code
 * @time_zone: its time zone ("Asia/Shanghai")
 * @public_key: the county's X25519 recovery public key
 */
typedef struct {
  char *code;
  char *time_zone;
  guint8 public_key[32];
} HearthCenterCounty;

/* The most division codes `user add` gives a user's scope: a tablet's
 * pull binds a village range for each, and a scope wider than a few
 * townships is given by the township's or the county's code. A user
 * stored with more (before this limit) still pulls. */
#define HEARTH_CENTER_MAX_SCOPE 256

/**
 * HearthCenterUser:
 * @name: the user's name
 * @role: "worker", "clerk", "township" or "county"
 * @scope: (array zero-terminated=1): division-code prefixes, sorted
 */
typedef struct {
  char *name;
  char *role;
  GStrv scope;
} HearthCenterUser;

/**
 * HearthCenterCode:
 * @user: whom the code enrols
 * @expires_at: ms since 1970
 * @used_at: when it was used, or 0
 * @device_id: (nullable): the device that used it
 */
typedef struct {
  char *user;
  gint64 expires_at;
  gint64 used_at;
  char *device_id;
} HearthCenterCode;

/**
 * HearthCenterDevice:
 * @id: the device's UUID
 * @user: its user
 * @public_key: its Ed25519 public key
 * @name: what its user calls it
 * @enrolled_at, @revoked_at (0: not revoked), @last_seen_at (0: never):
 *   ms since 1970
 * @acked_seq: the last change number consumed
 * @clamp_floor: (nullable): the last version clamping gave it
 * @audit_seq: the number of the last audit entry verified (0: none)
 * @audit_hash: that entry's hash (HEARTH_AUDIT_GENESIS for none)
 * @audit_broken: (nullable): the first break of its chain, as refused
 */
typedef struct {
  char *id;
  char *user;
  guint8 public_key[32];
  char *name;
  gint64 enrolled_at;
  gint64 revoked_at;
  gint64 last_seen_at;
  gint64 acked_seq;
  char *clamp_floor;
  gint64 audit_seq;
  char audit_hash[65];
  char *audit_broken;
} HearthCenterDevice;

/**
 * HearthCenterOutcome:
 * @seq: the device's change number
 * @cursor: where the change was stored, or 0 (refused, or a repeat of a
 *   stored change acknowledged and ignored)
 * @code: (nullable): for a refused change, its code ("scope", …)
 * @message: (nullable): and the reason
 * @original_hlc: (nullable): for a clamped edit, its version as pushed
 * @clamped_hlc: (nullable): and as stored
 * @digest: (nullable): what the change held, as pushed (64 hex digits of
 *   the push item's digest, center-sync.h), so that the number sent again
 *   with other content is told from a repeat; %NULL when not recorded
 */
typedef struct {
  gint64 seq;
  gint64 cursor;
  char *code;
  char *message;
  char *original_hlc;
  char *clamped_hlc;
  char *digest;
} HearthCenterOutcome;

/**
 * HearthCenterConflict:
 * @id: the conflict's id (hearth_merge_conflict_id())
 * @table, @record_id, @field: the field in conflict
 * @household, @village: whose data it is (the losing edit's)
 * @winner_hlc, @winner_value: the version the field holds and its value
 * @loser_hlc, @loser_value: the other head
 *
 * An open conflict (PROTOCOL.md section 6.3, rule 3).
 */
typedef struct {
  char *id;
  char *table;
  char *record_id;
  char *field;
  char *household;
  char *village;
  char *winner_hlc;
  char *winner_value;
  char *loser_hlc;
  char *loser_value;
} HearthCenterConflict;

/**
 * HearthCenterRange:
 * @after_cursor: changes with a cursor above this …
 * @last_cursor: … and at most this
 * @from_ms: received at or after this (ms since 1970) …
 * @until_ms: … and before this (G_MAXINT64: no end)
 * @prefix: whose village starts with this division code
 *
 * The changes an export selects (PROTOCOL.md section 10). Borrowed.
 */
typedef struct {
  gint64 after_cursor;
  gint64 last_cursor;
  gint64 from_ms;
  gint64 until_ms;
  const char *prefix;
} HearthCenterRange;

/**
 * HearthCenterPullQuery:
 * @after: list changes with a cursor above this …
 * @exclude_device: (nullable): … leaving out what this device sent …
 * @prefixes: (array zero-terminated=1): … whose village starts with one
 *   of these (published records, tables "forms" and "thresholds", which
 *   have no village, are listed whatever the scope: they are for every
 *   device) …
 * @unplaced: … and those without a village (audit entries) when set
 * @compact_until: when above 0, the changes with a cursor up to it are
 *   compacted (PROTOCOL.md section 8.1): an edit that an edit of the same
 *   field with a cursor up to @compact_until names as a parent is left
 *   out, unless @exclude_device made an edit of that field with a cursor
 *   up to @compact_until
 * @whole_edits: rows of kind "edits" are listed as they are, one change
 *   holding the fields a compacted page keeps (PROTOCOL.md section 8.2),
 *   rather than as one change of kind "edit" per field (section 8)
 * @limit: at most this many changes, a row of kind "edits" counting as
 *   the field edits it lists, in either form (but a page never splits a
 *   row) …
 * @max_bytes: … and no more JSON than this, but always one change
 *
 * What one pull page selects. Borrowed.
 */
typedef struct {
  gint64 after;
  const char *exclude_device;
  const char *const *prefixes;
  gboolean unplaced;
  gint64 compact_until;
  gboolean whole_edits;
  guint limit;
  gsize max_bytes;
} HearthCenterPullQuery;

/**
 * HearthCenterSavepoint:
 * @HEARTH_CENTER_SAVEPOINT_BEGIN: a savepoint inside the transaction
 * @HEARTH_CENTER_SAVEPOINT_RELEASE: keep what was written since
 * @HEARTH_CENTER_SAVEPOINT_ROLLBACK: undo what was written since (and
 *   release it)
 */
typedef enum {
  HEARTH_CENTER_SAVEPOINT_BEGIN,
  HEARTH_CENTER_SAVEPOINT_RELEASE,
  HEARTH_CENTER_SAVEPOINT_ROLLBACK,
} HearthCenterSavepoint;

/**
 * hearth_center_county_clear:
 * @county: a county filled by a store
 *
 * Frees the members of @county (not @county itself) and zeroes them.
 * Thread-safe for distinct rows; likewise the functions below.
 */
void hearth_center_county_clear (HearthCenterCounty *county);
/** hearth_center_user_free: @user: (transfer full) (nullable): freed with its members. */
void hearth_center_user_free (HearthCenterUser *user);
/** hearth_center_code_clear: @code: its members are freed and zeroed. */
void hearth_center_code_clear (HearthCenterCode *code);
/** hearth_center_device_free: @device: (transfer full) (nullable): freed with its members. */
void hearth_center_device_free (HearthCenterDevice *device);
/** hearth_center_outcome_clear: @outcome: its members are freed and zeroed. */
void hearth_center_outcome_clear (HearthCenterOutcome *outcome);
/** hearth_center_conflict_free: @conflict: (transfer full) (nullable): freed with its members. */
void hearth_center_conflict_free (HearthCenterConflict *conflict);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HearthCenterCounty, hearth_center_county_clear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthCenterUser, hearth_center_user_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HearthCenterCode, hearth_center_code_clear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthCenterDevice, hearth_center_device_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HearthCenterOutcome, hearth_center_outcome_clear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthCenterConflict, hearth_center_conflict_free)

/**
 * HearthCenterPrepared:
 * @text: (nullable): the change's stored text, as the store keeps it
 * @keys: the store's keys of the change
 *
 * What a store computes of a change that depends on the change alone,
 * not on what the store holds: made ahead of the writer's transaction
 * (hearth_center_store_prepare_change(), on a request's thread), handed
 * to hearth_center_txn_add_prepared_change(), which binds it rather than
 * compute it in the single writer. Its members are the store's own:
 * callers only make and free it.
 */
typedef struct {
  char *text;
  gint64 keys[3];
} HearthCenterPrepared;

/** hearth_center_prepared_free: @prepared: (transfer full) (nullable): freed with its members. */
void hearth_center_prepared_free (HearthCenterPrepared *prepared);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthCenterPrepared, hearth_center_prepared_free)

/* ---- the interface ------------------------------------------------------------ */

#define HEARTH_TYPE_CENTER_STORE (hearth_center_store_get_type ())
G_DECLARE_INTERFACE (HearthCenterStore, hearth_center_store, HEARTH, CENTER_STORE, GObject)

/**
 * HearthCenterTxn:
 * @store: the store that began it
 * @iface: its interface, set by hearth_center_store_begin() (%NULL in a
 *   transaction made otherwise: looked up from @store)
 *
 * A transaction. Implementations extend it (this struct first).
 */
typedef struct {
  HearthCenterStore *store;
  /* Kept rather than looked up for each call (g_type_interface_peek(),
   * some 30 instructions a call: the writer makes a dozen calls a
   * change). */
  struct _HearthCenterStoreInterface *iface;
} HearthCenterTxn;

/*
 * The virtual methods; each is documented at its wrapper below, which
 * checks arguments and dispatches. A get_* lookup that finds nothing fails
 * with HEARTH_CENTER_STORE_ERROR_NOT_FOUND; a find_* one (and
 * get_household_village) returns %NULL without an error, so that "none"
 * is an answer and not a failure.
 */
struct _HearthCenterStoreInterface {
  GTypeInterface parent_iface;

  HearthCenterTxn *(*begin)    (HearthCenterStore *self, gboolean write, GError **error);
  gboolean         (*commit)   (HearthCenterTxn *txn, GError **error);
  void             (*rollback) (HearthCenterTxn *txn);
  gboolean         (*savepoint) (HearthCenterTxn *txn, HearthCenterSavepoint op, GError **error);
  gboolean         (*commit_deferred) (HearthCenterTxn *txn, guint64 *ticket, GError **error);
  void             (*pipeline) (HearthCenterStore *self);
  gboolean         (*wait_durable) (HearthCenterStore *self, guint64 ticket, GError **error);
  gboolean         (*backup)   (HearthCenterStore *self, const char *path, GError **error);

  gboolean (*get_county) (HearthCenterTxn *txn, HearthCenterCounty *out, GError **error);
  gboolean (*set_county) (HearthCenterTxn *txn, const HearthCenterCounty *county, gint64 now, GError **error);

  gboolean          (*add_user) (HearthCenterTxn *txn, const HearthCenterUser *user, gint64 now, GError **error);
  HearthCenterUser *(*get_user) (HearthCenterTxn *txn, const char *name, GError **error);

  gboolean (*add_code) (HearthCenterTxn *txn, const guint8 *hash, const char *user, gint64 now, gint64 expires_at,
                        GError **error);
  gboolean (*get_code) (HearthCenterTxn *txn, const guint8 *hash, HearthCenterCode *out, GError **error);
  gboolean (*use_code) (HearthCenterTxn *txn, const guint8 *hash, const char *device_id, gint64 now, GError **error);

  gboolean            (*add_device)    (HearthCenterTxn *txn, const HearthCenterDevice *device, GError **error);
  HearthCenterDevice *(*get_device)    (HearthCenterTxn *txn, const char *id, GError **error);
  GPtrArray          *(*list_devices)  (HearthCenterTxn *txn, GError **error);
  gboolean            (*save_device)   (HearthCenterTxn *txn, const HearthCenterDevice *device, GError **error);

  gboolean (*add_nonce) (HearthCenterTxn *txn, const char *device_id, const char *nonce, gint64 now,
                         gint64 keep_ms, GError **error);
  int      (*nonce_seen) (HearthCenterTxn *txn, const char *device_id, const char *nonce, gint64 since,
                          GError **error);

  gboolean (*get_outcome)  (HearthCenterTxn *txn, const char *device_id, gint64 seq, HearthCenterOutcome *out,
                            GError **error);
  gboolean (*add_outcome)  (HearthCenterTxn *txn, const char *device_id, const HearthCenterOutcome *outcome,
                            GError **error);
  char    *(*find_clamped) (HearthCenterTxn *txn, const char *device_id, const char *original_hlc, GError **error);

  HearthChange *(*find_record) (HearthCenterTxn *txn, const char *table, const char *id, GError **error);
  HearthChange *(*find_edit)   (HearthCenterTxn *txn, const char *table, const char *id, const char *field,
                                const char *hlc, GError **error);
  int           (*edit_named)  (HearthCenterTxn *txn, const char *table, const char *id, const char *field,
                                const char *hlc, GError **error);
  gint64        (*add_change)  (HearthCenterTxn *txn, const char *device_id, gint64 seq, const HearthChange *change,
                                const HearthCenterPrepared *prepared, const char *digest, GBytes *fields, gint64 now,
                                GError **error);
  /* Optional (NULL: nothing is prepared). Any thread, no transaction. */
  HearthCenterPrepared *(*prepare_change) (HearthCenterStore *self, const HearthChange *change);
  /* Optional (NULL: nothing is noted). */
  void          (*note_prepared) (HearthCenterTxn *txn, const HearthChange *change,
                                  const HearthCenterPrepared *prepared);
  GPtrArray    *(*list_heads)  (HearthCenterTxn *txn, const char *table, const char *id, const char *field,
                                GError **error);
  gboolean      (*set_field_state) (HearthCenterTxn *txn, const HearthChange *winner, GPtrArray *losers,
                                    GPtrArray *heads, gboolean had_conflicts, GError **error);

  char    *(*get_household_village) (HearthCenterTxn *txn, const char *household, GError **error);
  gboolean (*set_household_village) (HearthCenterTxn *txn, const char *household, const char *village,
                                     GError **error);
  char    *(*get_record_household)  (HearthCenterTxn *txn, const char *table, const char *id, GError **error);

  gboolean   (*pull_page)    (HearthCenterTxn *txn, const HearthCenterPullQuery *query, GString *out, guint *listed,
                              gint64 *last, gboolean *more, GError **error);
  gint64     (*last_cursor)  (HearthCenterTxn *txn, GError **error);
  gint64     (*last_cursor_before) (HearthCenterTxn *txn, gint64 until_ms, GError **error);

  gboolean (*get_own)       (HearthCenterTxn *txn, gint64 *last_seq, char **last_hlc, GError **error);
  gboolean (*set_own)       (HearthCenterTxn *txn, gint64 last_seq, const char *last_hlc, GError **error);
  char    *(*find_by_value) (HearthCenterTxn *txn, const char *table, const char *field, const char *value,
                             GError **error);

  GPtrArray *(*list_touched)      (HearthCenterTxn *txn, const char *table, const HearthCenterRange *range,
                                   GPtrArray **fields, GError **error);
  GPtrArray *(*list_field_states) (HearthCenterTxn *txn, const char *table, const char *id, GError **error);
  GPtrArray *(*list_conflicts)    (HearthCenterTxn *txn, const char *table, const char *id, GError **error);

  gboolean (*get_epoch)        (HearthCenterTxn *txn, char **epoch, gint64 *restore_cursor, GError **error);
  gboolean (*get_batch_key)    (HearthCenterTxn *txn, guint8 *seed, guint8 *public_key, GError **error);
  int      (*take_late_parent) (HearthCenterTxn *txn, const char *table, const char *id, const char *field,
                                const char *hlc, GError **error);
};

/**
 * hearth_center_store_open:
 * @uri: "sqlite:PATH" (the only kind built so far)
 * @create: whether a missing store may be created (for `init`)
 *
 * Opens a store and brings its schema up to date.
 *
 * Returns: (transfer full) (nullable): the store, or %NULL with
 *   HEARTH_CENTER_STORE_ERROR_UNSUPPORTED (another kind, or no "KIND:"),
 *   _NO_STORE (missing and not @create, or @create and no store can be
 *   made at that path: its folder missing, not a folder, not writable),
 *   _SCHEMA or _FAILED. Thread-safe.
 */
HearthCenterStore *hearth_center_store_open (const char *uri,
                                             gboolean    create,
                                             GError    **error);

/**
 * hearth_center_store_begin:
 * @write: whether the transaction writes (then it waits for, and holds
 *   off, every other writer)
 *
 * Returns: (transfer full) (nullable): the transaction, to be ended by
 *   hearth_center_txn_commit() or hearth_center_txn_rollback(); %NULL with
 *   HEARTH_CENTER_STORE_ERROR_FAILED.
 */
HearthCenterTxn *hearth_center_store_begin (HearthCenterStore *self,
                                            gboolean           write,
                                            GError           **error);

/**
 * hearth_center_store_backup:
 * @path: the backup file to make; it must not exist
 *
 * Copies the whole store, as one consistent snapshot, to a new file at
 * @path while the store stays in use (a serving center keeps serving:
 * the copy reads a snapshot and blocks no writer), checks the copy's
 * integrity, and makes it durable (the file and its folder synced) before
 * it takes its name, so a crash never leaves a partial backup under it.
 * The backup is itself a store: `--db sqlite:PATH` opens it.
 *
 * Returns: %FALSE with HEARTH_CENTER_STORE_ERROR_EXISTS (@path exists) or
 *   _FAILED (naming the file and what failed); nothing is left at @path.
 *   Thread-safe.
 */
gboolean hearth_center_store_backup (HearthCenterStore *self,
                                     const char        *path,
                                     GError           **error);

/**
 * hearth_center_txn_commit:
 * @txn: (transfer full): ended by this call, whatever it returns
 *
 * Commits durably (the SQLite store syncs before it returns; a pipelined
 * one, hearth_center_store_pipeline(), after it let the next writer go).
 *
 * Returns: %FALSE with HEARTH_CENTER_STORE_ERROR_FAILED, and then nothing
 *   was committed; or with _NOT_DURABLE when it was committed but not
 *   synced (hearth_center_store_wait_durable()).
 */
gboolean hearth_center_txn_commit (HearthCenterTxn *txn, GError **error);

/**
 * hearth_center_store_pipeline:
 *
 * Makes this process the store's pipelined writer (hearth-center serve,
 * which holds the store alone: PATH.serve-lock): its write transactions
 * commit without waiting for the disk, so the next writer goes on while
 * the WAL is synced, and hearth_center_txn_commit() still returns only
 * once the commit is durable. A transaction begun in this process never
 * reads a commit that is not durable yet (its begin waits for the sync),
 * and one in another process syncs what it read before it reads it
 * (PROTOCOL.md section 1). Call it before the store is used by threads.
 * Thread-safe.
 */
void hearth_center_store_pipeline (HearthCenterStore *self);

/**
 * hearth_center_txn_commit_deferred:
 * @txn: (transfer full): ended by this call, whatever it returns
 * @ticket: (out): the commit's number, for
 *   hearth_center_store_wait_durable(); 0 when it is durable already
 *
 * Commits, and lets the next writer begin, without waiting for the disk
 * in a pipelined store (hearth_center_store_pipeline()): nothing of the
 * transaction may be answered before hearth_center_store_wait_durable()
 * of @ticket returns %TRUE (other transactions of this process wait for
 * it by themselves). In another store it is hearth_center_txn_commit().
 *
 * Returns: %FALSE with _FAILED, and then nothing was committed.
 */
gboolean hearth_center_txn_commit_deferred (HearthCenterTxn *txn, guint64 *ticket, GError **error);

/**
 * hearth_center_store_wait_durable:
 * @ticket: from hearth_center_txn_commit_deferred()
 *
 * Waits until that commit, and every one of this process before it, is
 * on disk (syncing the WAL, or waiting for a sync in progress that covers
 * it). Thread-safe.
 *
 * Returns: %FALSE with _NOT_DURABLE when the WAL could not be synced: then
 *   the commit may be lost, and every wait after it fails too (the
 *   center is to be restarted: docs/operations.md).
 */
gboolean hearth_center_store_wait_durable (HearthCenterStore *self, guint64 ticket, GError **error);

/**
 * hearth_center_txn_savepoint:
 * @op: begin, release or roll back one savepoint
 *
 * One level of savepoint inside a write transaction: several requests
 * committed together (center-sync.c's group commit) each undo only their
 * own work when they fail.
 *
 * Returns: %FALSE with _FAILED (then the transaction is to be rolled back).
 */
gboolean hearth_center_txn_savepoint (HearthCenterTxn *txn, HearthCenterSavepoint op, GError **error);

/**
 * hearth_center_txn_rollback:
 * @txn: (transfer full) (nullable): ended by this call
 *
 * Undoes everything @txn wrote.
 */
void hearth_center_txn_rollback (HearthCenterTxn *txn);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthCenterTxn, hearth_center_txn_rollback)

/**
 * hearth_center_txn_get_county:
 * @out: (out caller-allocates): the county; clear with
 *   hearth_center_county_clear()
 *
 * Returns: %FALSE with HEARTH_CENTER_STORE_ERROR_NOT_INITIALISED or _FAILED.
 */
gboolean hearth_center_txn_get_county (HearthCenterTxn *txn, HearthCenterCounty *out, GError **error);

/**
 * hearth_center_txn_set_county:
 * @now: ms since 1970
 *
 * Records the county (once). Returns: %FALSE with _EXISTS or _FAILED.
 */
gboolean hearth_center_txn_set_county (HearthCenterTxn *txn, const HearthCenterCounty *county, gint64 now,
                                       GError **error);

/**
 * hearth_center_txn_add_user:
 * @user: a checked user (name, role, scope)
 *
 * Returns: %FALSE with _EXISTS or _FAILED.
 */
gboolean hearth_center_txn_add_user (HearthCenterTxn *txn, const HearthCenterUser *user, gint64 now,
                                     GError **error);

/**
 * hearth_center_txn_get_user:
 *
 * Returns: (transfer full) (nullable): the user with its scope, or %NULL
 *   with _NOT_FOUND or _FAILED.
 */
HearthCenterUser *hearth_center_txn_get_user (HearthCenterTxn *txn, const char *name, GError **error);

/**
 * hearth_center_txn_add_code:
 * @hash: (array fixed-size=32): BLAKE2b-256 of the normalised code
 *
 * Returns: %FALSE with _EXISTS (a code collision) or _FAILED.
 */
gboolean hearth_center_txn_add_code (HearthCenterTxn *txn, const guint8 *hash, const char *user, gint64 now,
                                     gint64 expires_at, GError **error);

/**
 * hearth_center_txn_get_code:
 * @out: (out caller-allocates): clear with hearth_center_code_clear()
 *
 * Returns: %FALSE with _NOT_FOUND or _FAILED.
 */
gboolean hearth_center_txn_get_code (HearthCenterTxn *txn, const guint8 *hash, HearthCenterCode *out,
                                     GError **error);

/**
 * hearth_center_txn_use_code:
 *
 * Marks an unused code used by @device_id. Returns: %FALSE with _NOT_FOUND
 *   (no such unused code) or _FAILED.
 */
gboolean hearth_center_txn_use_code (HearthCenterTxn *txn, const guint8 *hash, const char *device_id, gint64 now,
                                     GError **error);

/**
 * hearth_center_txn_add_device:
 *
 * Registers a device (id, user, key, name, enrolled_at). Returns: %FALSE
 *   with _EXISTS (the id or the key is taken) or _FAILED.
 */
gboolean hearth_center_txn_add_device (HearthCenterTxn *txn, const HearthCenterDevice *device, GError **error);

/**
 * hearth_center_txn_get_device:
 *
 * Returns: (transfer full) (nullable): the device, or %NULL with
 *   _NOT_FOUND or _FAILED.
 */
HearthCenterDevice *hearth_center_txn_get_device (HearthCenterTxn *txn, const char *id, GError **error);

/**
 * hearth_center_txn_list_devices:
 *
 * Returns: (transfer full) (element-type HearthCenterDevice) (nullable):
 *   every device, by user and enrolment time; %NULL with _FAILED.
 */
GPtrArray *hearth_center_txn_list_devices (HearthCenterTxn *txn, GError **error);

/**
 * hearth_center_txn_save_device:
 *
 * Writes back what changes after enrolment: revoked_at, last_seen_at,
 * acked_seq, clamp_floor and the audit chain's head and status.
 *
 * Returns: %FALSE with _NOT_FOUND or _FAILED.
 */
gboolean hearth_center_txn_save_device (HearthCenterTxn *txn, const HearthCenterDevice *device, GError **error);

/**
 * hearth_center_txn_nonce_seen:
 * @since: ms since 1970: nonces seen before it do not count
 *
 * Returns: 1 when @device_id used @nonce since @since, 0 when not, -1
 *   with _FAILED.
 */
int hearth_center_txn_nonce_seen (HearthCenterTxn *txn, const char *device_id, const char *nonce, gint64 since,
                                  GError **error);

/**
 * hearth_center_txn_add_nonce:
 * @now: ms since 1970
 * @keep_ms: how long nonces are kept at least; older ones are dropped
 *   first, at most once a minute (hearth_center_txn_nonce_seen() counts
 *   only those since its @since)
 *
 * Records that @device_id used @nonce at @now. Call in a write
 * transaction.
 *
 * Returns: %FALSE with _EXISTS when @device_id used @nonce within
 *   @keep_ms (a replay) or, its nonces being random, one not yet dropped
 *   (never but by a replay), or _FAILED.
 */
gboolean hearth_center_txn_add_nonce (HearthCenterTxn *txn, const char *device_id, const char *nonce, gint64 now,
                                      gint64 keep_ms, GError **error);

/**
 * hearth_center_txn_get_outcome:
 * @out: (out caller-allocates): clear with hearth_center_outcome_clear()
 *
 * The outcome recorded for change @seq of @device_id, or, when none was,
 * the change stored under that number (its cursor and digest, as
 * hearth_center_txn_add_change() stored them).
 *
 * Returns: %FALSE with _NOT_FOUND or _FAILED.
 */
gboolean hearth_center_txn_get_outcome (HearthCenterTxn *txn, const char *device_id, gint64 seq,
                                        HearthCenterOutcome *out, GError **error);

/**
 * hearth_center_txn_add_outcome:
 *
 * Records what became of a change that was not stored as pushed (refused,
 * clamped, or a repeat of a stored change); a change stored as pushed
 * needs no row (hearth_center_txn_add_change()).
 *
 * Returns: %FALSE with _EXISTS or _FAILED.
 */
gboolean hearth_center_txn_add_outcome (HearthCenterTxn *txn, const char *device_id,
                                        const HearthCenterOutcome *outcome, GError **error);

/**
 * hearth_center_txn_find_clamped:
 * @original_hlc: a version as @device_id pushed it
 *
 * Returns: (transfer full) (nullable): the version it was clamped to, or
 *   %NULL (not clamped: no error set; or _FAILED).
 */
char *hearth_center_txn_find_clamped (HearthCenterTxn *txn, const char *device_id, const char *original_hlc,
                                      GError **error);

/**
 * hearth_center_txn_find_record:
 *
 * Returns: (transfer full) (nullable): the immutable record stored under
 *   (@table, @id), with its cursor, or %NULL (none: no error set; or
 *   _FAILED).
 */
HearthChange *hearth_center_txn_find_record (HearthCenterTxn *txn, const char *table, const char *id,
                                             GError **error);

/**
 * hearth_center_txn_find_edit:
 *
 * Returns: (transfer full) (nullable): the edit stored under the identity
 *   (@table, @id, @field, @hlc), or %NULL (none: no error set; or _FAILED).
 */
HearthChange *hearth_center_txn_find_edit (HearthCenterTxn *txn, const char *table, const char *id,
                                           const char *field, const char *hlc, GError **error);

/**
 * hearth_center_txn_edit_named:
 *
 * Whether a stored edit of the field (@table, @id, @field) names @hlc
 * among its parents: an edit under @hlc arriving now would come after an
 * edit that supersedes it (PROTOCOL.md section 7 refuses that).
 *
 * Returns: 1 when one does, 0 when none does, -1 with _FAILED.
 */
int hearth_center_txn_edit_named (HearthCenterTxn *txn, const char *table, const char *id, const char *field,
                                  const char *hlc, GError **error);

/**
 * hearth_center_txn_add_change:
 * @seq: the sending device's number
 * @change: a checked change (edits with their final version and parents)
 * @digest: (nullable): what the change held as pushed (64 hex digits, the
 *   push item's digest), or %NULL for the center's own changes
 * @fields: (nullable): a record's fields as the store keeps them,
 *   hearth_center_fields_pack() of their JSON text, when the caller has
 *   them already (HearthPushItem: packed in the request's thread, not the
 *   writer's), else %NULL: made here
 * @now: the receipt time, ms since 1970
 *
 * The caller makes sure that no stored edit of an edit's field names it
 * (hearth_center_txn_edit_named(); PROTOCOL.md section 7), then stores
 * the field's new heads with hearth_center_txn_set_field_state().
 *
 * A change stored as pushed is its own outcome: the caller records no
 * outcome for it (hearth_center_txn_add_outcome()), and
 * hearth_center_txn_get_outcome() answers its @seq with its cursor and
 * @digest.
 *
 * Returns: the cursor given to @change (> 0), or 0 with _EXISTS (its
 *   identity or (@device_id, @seq) is taken) or _FAILED.
 */
gint64 hearth_center_txn_add_change (HearthCenterTxn *txn, const char *device_id, gint64 seq,
                                     const HearthChange *change, const char *digest, GBytes *fields,
                                     gint64 now, GError **error);

/**
 * hearth_center_store_prepare_change:
 * @change: a checked change
 *
 * Computes ahead what hearth_center_txn_add_prepared_change() would
 * compute of @change alone (for the SQLite store: an edit's stored
 * parents, a write's stored fields, their version's key; the key of any
 * change's record's identity, hearth_center_txn_note_prepared()), so
 * that the single writer binds it. Thread-safe; needs no transaction.
 *
 * Returns: (transfer full) (nullable): what was prepared, or %NULL when
 *   the store prepares nothing of such a change.
 */
HearthCenterPrepared *hearth_center_store_prepare_change (HearthCenterStore *store, const HearthChange *change);

/**
 * hearth_center_txn_note_prepared:
 * @txn: a write transaction
 * @change: the change the caller checks, and may store, next
 * @prepared: (nullable): hearth_center_store_prepare_change() of @change
 *
 * Lets the store use what was prepared of @change in the look-ups of
 * @change's record that follow (for the SQLite store: the key of the
 * record's identity, computed on the request's thread rather than by the
 * single writer). The store keeps copies of what it needs: @change and
 * @prepared may go after the call. A record other than @change's is
 * looked up as before. Thread safety: the transaction's thread.
 */
void hearth_center_txn_note_prepared (HearthCenterTxn *txn, const HearthChange *change,
                                      const HearthCenterPrepared *prepared);

/**
 * hearth_center_txn_add_prepared_change:
 * @prepared: (nullable): hearth_center_store_prepare_change() of exactly
 *   @change as it is now (the same version, fields, values and
 *   parents): a change the push changed since (its version clamped, its
 *   parents renamed, part of its fields stored) is stored without it
 *   (%NULL), which computes it here
 *
 * hearth_center_txn_add_change() with what was prepared of @change.
 */
gint64 hearth_center_txn_add_prepared_change (HearthCenterTxn *txn, const char *device_id, gint64 seq,
                                              const HearthChange *change, const HearthCenterPrepared *prepared,
                                              const char *digest, GBytes *fields, gint64 now, GError **error);

/**
 * hearth_center_txn_list_heads:
 *
 * Returns: (transfer full) (element-type HearthChange) (nullable): the
 *   heads of one field of one record (its stored edits no stored edit of
 *   it names as a parent), in cursor order, each without its parents (they
 *   name no head); %NULL with _FAILED.
 */
GPtrArray *hearth_center_txn_list_heads (HearthCenterTxn *txn, const char *table, const char *id,
                                         const char *field, GError **error);

/**
 * hearth_center_txn_set_field_state:
 * @winner: the edit whose value the field holds
 * @losers: (element-type HearthChange): the other heads, each an open
 *   conflict against @winner
 * @heads: (element-type HearthChange): every head of the field now
 *   (@winner among them), each with its cursor: kept for
 *   hearth_center_txn_list_heads()
 * @had_conflicts: whether the field may have open conflicts now (it had
 *   two heads or more); when not, there are none to replace
 *
 * Replaces the merged state of @winner's field and its open conflicts.
 * A store may keep the record's state and write it once for the fields a
 * savepoint sets (center-store-sqlite.c: when the savepoint or the
 * transaction ends, or something reads the states), so a failure to
 * write it may be reported by hearth_center_txn_savepoint() or
 * hearth_center_txn_commit() instead.
 *
 * Returns: %FALSE with _FAILED.
 */
gboolean hearth_center_txn_set_field_state (HearthCenterTxn *txn, const HearthChange *winner, GPtrArray *losers,
                                            GPtrArray *heads, gboolean had_conflicts, GError **error);

/**
 * hearth_center_txn_get_household_village:
 *
 * Returns: (transfer full) (nullable): the household's village at the
 *   center, or %NULL (unknown: no error set; or _FAILED).
 */
char *hearth_center_txn_get_household_village (HearthCenterTxn *txn, const char *household, GError **error);

/**
 * hearth_center_txn_set_household_village:
 *
 * Returns: %FALSE with _FAILED.
 */
gboolean hearth_center_txn_set_household_village (HearthCenterTxn *txn, const char *household, const char *village,
                                                  GError **error);

/**
 * hearth_center_txn_get_record_household:
 * @table: a mutable table with a household_id field ("members", "tasks",
 *   "measures"), or "households"
 * @id: a record of it
 *
 * Whose record it is at the center, whatever a change claims: the merged
 * value of its household_id field, or, before any edit of that field
 * arrived, the household its first stored edit named. A household is its
 * own (@id) once the center holds an edit of it: every edit of a
 * household is stored under the household itself (a push's are refused
 * otherwise, PROTOCOL.md section 7; import-households' are).
 *
 * Returns: (transfer full) (nullable): the household, or %NULL (a record
 *   the center does not hold: no error set; or _FAILED).
 */
char *hearth_center_txn_get_record_household (HearthCenterTxn *txn, const char *table, const char *id,
                                              GError **error);

/**
 * hearth_center_txn_pull_page:
 * @query: what to list
 * @out: the changes are appended here as the protocol's JSON objects
 *   (PROTOCOL.md section 8, each with its "cursor"), separated by commas
 * @listed: (out): how many were appended
 * @last: (out): the cursor of the last change looked at: the last one
 *   appended, or beyond it when compaction left later ones out; @after
 *   when none
 * @more: (out): whether changes beyond @last may be selected (the page
 *   stopped at @limit or @max_bytes)
 *
 * Writes one pull page straight from the rows, without a JSON tree.
 *
 * Returns: %FALSE with _FAILED.
 */
gboolean hearth_center_txn_pull_page (HearthCenterTxn *txn, const HearthCenterPullQuery *query, GString *out,
                                      guint *listed, gint64 *last, gboolean *more, GError **error);

/**
 * hearth_center_txn_last_cursor:
 *
 * Returns: the highest cursor given so far (0 for none); -1 with _FAILED.
 */
gint64 hearth_center_txn_last_cursor (HearthCenterTxn *txn, GError **error);

/**
 * hearth_center_txn_last_cursor_before:
 * @until_ms: a receipt time, milliseconds since 1970
 *
 * The highest cursor up to which every change was received before
 * @until_ms: the cursor before the first change received at or after it,
 * or the last cursor when there is none. An export that ends at
 * @until_ms ends its cursor range there, so that the batch after it
 * (`--after-cursor`) starts with the first change it left out for its
 * date (PROTOCOL.md section 10).
 *
 * Returns: that cursor (0 for none); -1 with _FAILED.
 */
gint64 hearth_center_txn_last_cursor_before (HearthCenterTxn *txn, gint64 until_ms, GError **error);

/**
 * hearth_center_txn_get_own:
 * @last_seq: (out): the number of the center's last own change (0: none)
 * @last_hlc: (out) (transfer full) (nullable): the last version it issued,
 *   or %NULL
 *
 * The numbering of the center's own changes (HEARTH_CENTER_OWN_DEVICE).
 *
 * Returns: %FALSE with _FAILED.
 */
gboolean hearth_center_txn_get_own (HearthCenterTxn *txn, gint64 *last_seq, char **last_hlc, GError **error);

/**
 * hearth_center_txn_set_own:
 * @last_hlc: (nullable): the last version issued
 *
 * Stores the numbering read by hearth_center_txn_get_own().
 *
 * Returns: %FALSE with _FAILED.
 */
gboolean hearth_center_txn_set_own (HearthCenterTxn *txn, gint64 last_seq, const char *last_hlc, GError **error);

/**
 * hearth_center_txn_find_by_value:
 *
 * Looks a mutable record up by the merged value of one of its fields,
 * leaving out tombstones (a "deleted" field of "1"). Only the fields the
 * registry checks need are kept by value: households.registry_no and
 * members.id_number; any other is _FAILED (a programming error).
 *
 * Returns: (transfer full) (nullable): the id of a record of @table whose
 *   @field holds @value, or %NULL (none: no error set; or _FAILED).
 */
char *hearth_center_txn_find_by_value (HearthCenterTxn *txn, const char *table, const char *field, const char *value,
                                       GError **error);

/**
 * hearth_center_txn_list_touched:
 * @table: a table of edits ("households") or of records ("submissions")
 * @range: which changes count
 * @fields: (out) (optional) (transfer full) (element-type utf8): the names
 *   of the fields the listed records hold (their merged fields, or a
 *   record's fields), sorted
 *
 * The records of @table that a change in @range touched: an edit of one of
 * their fields, or for an immutable record the record itself, in the
 * order of their first such change.
 *
 * Returns: (transfer full) (element-type utf8) (nullable): their ids;
 *   %NULL with _FAILED.
 */
GPtrArray *hearth_center_txn_list_touched (HearthCenterTxn *txn, const char *table, const HearthCenterRange *range,
                                           GPtrArray **fields, GError **error);

/**
 * hearth_center_txn_list_field_states:
 *
 * The merged state of a mutable record: one edit per field, its winner
 * (field, value, version, household and village), by field name.
 *
 * Returns: (transfer full) (element-type HearthChange) (nullable): the
 *   fields (empty for an unknown record); %NULL with _FAILED.
 */
GPtrArray *hearth_center_txn_list_field_states (HearthCenterTxn *txn, const char *table, const char *id,
                                                GError **error);

/**
 * hearth_center_txn_list_conflicts:
 *
 * Returns: (transfer full) (element-type HearthCenterConflict) (nullable):
 *   the open conflicts of a record, by field and id; %NULL with _FAILED.
 */
GPtrArray *hearth_center_txn_list_conflicts (HearthCenterTxn *txn, const char *table, const char *id,
                                             GError **error);

/**
 * hearth_center_txn_get_epoch:
 * @epoch: (out) (transfer full): the store's epoch, 32 hex digits
 * @restore_cursor: (out): the last cursor of the backup this store was
 *   restored from (0: it never was; PROTOCOL.md section 12)
 *
 * A backup (hearth_center_store_backup()) gives its copy a new epoch and
 * its last cursor as the restore point.
 *
 * Returns: %FALSE with _FAILED.
 */
gboolean hearth_center_txn_get_epoch (HearthCenterTxn *txn, char **epoch, gint64 *restore_cursor, GError **error);

/**
 * hearth_center_txn_get_batch_key:
 * @seed: (out caller-allocates) (array fixed-size=32): the Ed25519 seed of
 *   the center's batch signing key (`crypto_sign_seed_keypair`); the
 *   caller's memory, which should be sodium_malloc()'d and is the
 *   caller's to wipe
 * @public_key: (out caller-allocates) (array fixed-size=32): its public key
 *
 * The key the center signs every batch's manifest with (sync/PROTOCOL.md
 * section 10). The store makes it, with libsodium, when it is opened
 * without one, and keeps it in its backups: a restored center signs with
 * the same key. The stored public key is checked against the seed's.
 *
 * Returns: %FALSE with _FAILED (unreadable, or a public key that is not
 *   the seed's; @seed is wiped then).
 */
gboolean hearth_center_txn_get_batch_key (HearthCenterTxn *txn, guint8 *seed, guint8 *public_key, GError **error);

/**
 * hearth_center_txn_take_late_parent:
 *
 * For an edit under @hlc that a stored edit of its field names as a parent
 * (hearth_center_txn_edit_named()): whether it is a parent that a restore
 * from a backup lost and its device sends again (PROTOCOL.md section 12),
 * which is the case when the store was restored and every edit naming
 * @hlc was stored after the restore point. Then @hlc is no longer a
 * dangling parent of the field: the caller stores the edit as superseded
 * (no head).
 *
 * Returns: 1 when it is (and the field no longer lists @hlc as dangling),
 *   0 when it is not, -1 with _FAILED.
 */
int hearth_center_txn_take_late_parent (HearthCenterTxn *txn, const char *table, const char *id, const char *field,
                                        const char *hlc, GError **error);

/**
 * HEARTH_CENTER_FIELDS_MAX:
 *
 * The largest text a record's packed fields unpack to (bytes): far above
 * any a push can carry (a body is at most 8 MiB, and the fields' JSON as
 * the center writes it at most six bytes for each of its bytes), so that
 * a damaged row cannot have the center allocate without bound.
 */
#define HEARTH_CENTER_FIELDS_MAX (64 * 1024 * 1024)

/**
 * hearth_center_fields_pack:
 * @json: a record's fields as hearth_change_append_fields_json() writes
 *   them (need not be NUL-terminated)
 * @len: @json's length in bytes
 *
 * The form the center's store keeps a record's fields in
 * (schema/center/0019-packed-fields.sql, 0021-fields-lz4.sql): when @len
 * is 512 bytes or more and that is smaller, a byte 2, the text's length
 * in 4 bytes little-endian, then one LZ4 block compressed with a fixed
 * dictionary (schema/center/fields-dict-2.json); else the text itself (it
 * starts with "{"). Done in a request's thread, so that the group's
 * writer only stores it.
 *
 * Returns: (transfer full): the packed fields. Thread-safe (a compressor
 *   of each thread's own).
 */
GBytes *hearth_center_fields_pack (const char *json, gsize len);

/**
 * hearth_center_fields_unpack:
 * @data: what hearth_center_fields_pack() made of a record's fields (its
 *   packed form, starting with the byte 2; or the byte 1, raw DEFLATE,
 *   as centers of before 0021-fields-lz4.sql packed them)
 * @len: @data's length
 * @error: return location for an error
 *
 * The JSON text of packed fields. A stored row is the center's own
 * writing, trusted as its text columns are; still, the text's stated
 * length is bounded (HEARTH_CENTER_FIELDS_MAX) and must be what the
 * stream decompresses to, and the text an object's ('{' to '}', without a
 * NUL), so that damage is told, never read past nor copied into a pull
 * page.
 *
 * Returns: (transfer full) (nullable): the text, NUL-terminated, or %NULL
 *   with HEARTH_CENTER_STORE_ERROR_FAILED (not packed fields, or damaged).
 *   Thread-safe.
 */
char *hearth_center_fields_unpack (const guint8 *data, gsize len, GError **error);

G_END_DECLS

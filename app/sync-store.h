/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sync-store.h: the device side of sync (sync/PROTOCOL.md sections 6-8 and
 * 11) over a case store, without the network: what to push, what the
 * center acknowledged, applying what was pulled, and the lease that says a
 * sync is running. Tables: schema/migrations/0006-sync.sql.
 *
 * - Push: every local change is in the outbox from the transaction that
 *   made it, numbered 1, 2, 3 … without gaps; hearth_sync_store_next_batch()
 *   reads the unacknowledged ones as protocol changes and
 *   hearth_sync_store_acknowledge() records the center's reply.
 * - Pull: hearth_sync_store_apply() stores a page and its cursor in one
 *   transaction: immutable records once, edits into each field's edit set,
 *   and every touched field recomputed by the merge rules (sync/merge.h):
 *   the winner's value in the record, the other heads as open conflicts.
 *   Applying a page again changes nothing; pulled changes never enter the
 *   outbox.
 *
 * The functions under "Hooks of the case model" are called by
 * app/case-store.c inside its own transactions.
 *
 * Not thread-safe: a sync store, like its case store, belongs to one thread
 * at a time. Other processes are kept apart by SQLite's locks and the lease.
 */
#pragma once

#include <glib-object.h>
#include <sqlite3.h>

#include "case-store.h"
#include "change.h"
#include "store-secret.h"

G_BEGIN_DECLS

#define HEARTH_SYNC_STORE_ERROR (hearth_sync_store_error_quark ())
GQuark hearth_sync_store_error_quark (void);

/**
 * HearthSyncStoreError:
 * @HEARTH_SYNC_STORE_ERROR_INVALID: an argument or a reply that cannot be
 *   right (an acknowledgement beyond the last change, a clamp of a change
 *   that is not an edit, a bad version); the message names it
 * @HEARTH_SYNC_STORE_ERROR_SQLITE: the database refused a statement;
 *   nothing was written
 * @HEARTH_SYNC_STORE_ERROR_LEASE: another holder has the sync lease, or
 *   this holder lost it
 * @HEARTH_SYNC_STORE_ERROR_NOT_ENROLLED: the store has no device identity
 */
typedef enum {
  HEARTH_SYNC_STORE_ERROR_INVALID,
  HEARTH_SYNC_STORE_ERROR_SQLITE,
  HEARTH_SYNC_STORE_ERROR_LEASE,
  HEARTH_SYNC_STORE_ERROR_NOT_ENROLLED,
} HearthSyncStoreError;

/* How long a sync lease lasts unless renewed (PROTOCOL.md section 11). */
#define HEARTH_SYNC_LEASE_MS (2 * 60 * 1000)

#define HEARTH_TYPE_SYNC_STORE (hearth_sync_store_get_type ())
G_DECLARE_FINAL_TYPE (HearthSyncStore, hearth_sync_store, HEARTH, SYNC_STORE, GObject)

/**
 * hearth_sync_store_new:
 * @cases: the case store whose changes are synced (a reference is kept);
 *   its wall clock is the sync store's
 *
 * Returns: (transfer full): the sync store. Cannot fail: the tables come
 *   with the store's migrations.
 */
HearthSyncStore *hearth_sync_store_new (HearthCaseStore *cases);

/**
 * hearth_sync_store_get_cases:
 *
 * Returns: (transfer none): the case store @self was made for (its device
 *   id, clock and connection are the sync store's).
 */
HearthCaseStore *hearth_sync_store_get_cases (HearthSyncStore *self);

/**
 * hearth_sync_store_next_batch:
 * @max: at most this many changes (1 … HEARTH_SYNC_MAX_PUSH for a push)
 *
 * The changes not yet acknowledged, from the lowest number, consecutive:
 * edits with their household and village looked up now (for the center's
 * scope check), a write of several fields numbered once (an outbox row of
 * kind 'edits', migration 0012) as one change of kind
 * HEARTH_CHANGE_EDITS, its fields in name order, submissions and reviews with every column but the id as
 * a string field (NULL columns left out) and their household and village,
 * audit entries as table "audit" with fields seq, at, actor, device_id,
 * action, record_table, record_id, fields, prev_hash and hash (and no
 * household: they are this device's chain). Each has its @seq set.
 *
 * Returns: (transfer full) (element-type HearthChange) (nullable): the
 *   batch, empty when everything is acknowledged; %NULL with
 *   HEARTH_SYNC_STORE_ERROR_SQLITE, or _INVALID when a change's record is
 *   missing from the store.
 */
GPtrArray *hearth_sync_store_next_batch (HearthSyncStore *self,
                                         guint            max,
                                         GError         **error);

/**
 * HearthSyncRefusal:
 * @seq: a change the center refused
 * @code: its code ("scope", "bad-change", …)
 * @message: its reason, for the user
 */
typedef struct {
  gint64      seq;
  const char *code;
  const char *message;
} HearthSyncRefusal;

/**
 * HearthSyncClamp:
 * @seq: an edit whose version the center clamped
 * @hlc: the version it stored instead
 */
typedef struct {
  gint64      seq;
  const char *hlc;
} HearthSyncClamp;

/**
 * hearth_sync_store_acknowledge:
 * @acked: the center's "acked": every change up to it was handled
 * @refused: (array length=n_refused) (nullable): the refused ones
 * @clamped: (array length=n_clamped) (nullable): the clamped ones
 *
 * Records a push reply in one transaction (PROTOCOL.md section 7): each
 * clamped edit's version is rewritten wherever this store names it (the
 * edit, the field's version, the parents of the later edits of the field;
 * for a write of kind "edits", every field of it) and the field
 * recomputed; refusals are kept for the user (a write refused as a
 * duplicate registry number taken back, every field of it); changes up to
 * @acked are acknowledged and their outbox rows let go (the data stays).
 * A reply received twice changes nothing the second time; an @acked below
 * the stored one is ignored.
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_INVALID (a number beyond the
 *   last change, a clamp of something that is not an edit or with a bad
 *   version) or _SQLITE; nothing is written then.
 */
gboolean hearth_sync_store_acknowledge (HearthSyncStore         *self,
                                        gint64                   acked,
                                        const HearthSyncRefusal *refused,
                                        guint                    n_refused,
                                        const HearthSyncClamp   *clamped,
                                        guint                    n_clamped,
                                        GError                 **error);

/**
 * hearth_sync_store_apply:
 * @changes: (element-type HearthChange): a pull page, oldest first
 * @next_cursor: the page's "next_cursor", stored with it
 * @more: the page's "more" (the store is synced only after a page without)
 * @n_rejected: (out) (optional): how many changes could not be applied
 *
 * Applies a pulled page and stores its cursor in ONE transaction
 * (PROTOCOL.md section 8). Immutable records are inserted once (the same
 * content again: nothing); audit entries of other devices go beside this
 * device's chain, its own are ignored. Edits join their field's edit set
 * (the same edit again: nothing), a grouped write (kind "edits") as the
 * edits it holds, its record looked up once; every touched field is then
 * recomputed:
 * its value, its version and its open conflicts (ids from
 * hearth_merge_conflict_id()). A record is created once the edits of its
 * required columns have arrived; the household search index follows by
 * its triggers. The case store's clock moves past every version received.
 *
 * A change that cannot be applied (an immutable record with other content,
 * an edit of an unknown table or field, a second edit under one version, a
 * value the table refuses, a version more than HEARTH_SYNC_MAX_AHEAD_MS
 * ahead of the center's time as this device estimates it, which no center
 * sends and which would drag this device's clock ahead) is recorded in
 * sync_apply_errors and counted in @n_rejected (a field of a grouped write
 * as the edit it holds); the rest of the page is applied.
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_SQLITE (the page and the
 *   cursor are left as they were) or _INVALID (a negative cursor).
 */
gboolean hearth_sync_store_apply (HearthSyncStore *self,
                                  GPtrArray       *changes,
                                  gint64           next_cursor,
                                  gboolean         more,
                                  guint           *n_rejected,
                                  GError         **error);

/**
 * hearth_sync_store_begin_pages:
 *
 * Opens one transaction (BEGIN IMMEDIATE) for the pages a pull applies
 * next: each hearth_sync_store_apply_page() writes in it, its cursor with
 * it, and the pages are made durable by one commit
 * (hearth_sync_store_commit_pages()) instead of one each. A crash before
 * that commit loses those pages and their cursor together, and a page
 * that fails to apply rolls them all back: the next pull asks for them
 * again. Not thread-safe, like the store.
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_INVALID when a transaction
 *   is open already, or _SQLITE.
 */
gboolean hearth_sync_store_begin_pages (HearthSyncStore *self,
                                        GError         **error);

/**
 * hearth_sync_store_commit_pages:
 *
 * Commits the transaction hearth_sync_store_begin_pages() opened: every
 * page applied in it since, the last one's cursor with them. Nothing to
 * do when the transaction ended already: a page that failed to apply
 * rolled it back whole (SQLite does too after an I/O error or a full
 * disk), the pages before it gone with their cursor.
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_SQLITE; the transaction is
 *   then rolled back.
 */
gboolean hearth_sync_store_commit_pages (HearthSyncStore *self,
                                         GError         **error);

/**
 * hearth_sync_store_apply_page:
 * @compact_until: the page's "compact_until" (PROTOCOL.md section 8.1),
 *   stored with it while the cursor is below it; 0 when the page had none
 *   (a stored one is then dropped)
 *
 * hearth_sync_store_apply() for a version 2 or 3 pull page: the page, its
 * cursor and the compaction bound in ONE transaction.
 *
 * Returns: as hearth_sync_store_apply(); _INVALID also for a negative
 *   @compact_until.
 */
gboolean hearth_sync_store_apply_page (HearthSyncStore *self,
                                       GPtrArray       *changes,
                                       gint64           next_cursor,
                                       gboolean         more,
                                       gint64           compact_until,
                                       guint           *n_rejected,
                                       GError         **error);

/**
 * HearthSyncPagePrep:
 *
 * What a pull page's apply needs that no store does (the packed texts
 * of its submissions, hearth_text_pack(); its edits checked and joined
 * to their records and fields, and the rows of records the store holds
 * no edit of), done beforehand on any thread
 * (hearth_sync_page_prepare()), and, once the page is applied
 * through hearth_sync_store_apply_prepared(), the apply's working memory
 * (thousands of edit sets on a fresh device's page), left to be freed
 * with it on any thread instead of on the thread that applies.
 */
typedef struct _HearthSyncPagePrep HearthSyncPagePrep;

/**
 * hearth_sync_page_prepare:
 * @changes: (element-type HearthChange): a pull page
 *
 * Packs the values of @changes' packed columns (hearth_packed_column())
 * as hearth_sync_store_apply_page() would: the same bytes; and joins
 * @changes' edits to their records and fields, checked as the apply
 * checks them, as if the store held no edit of them (the apply then adds
 * those it holds, in the page's transaction; a page with an edit it
 * would refuse is joined by the apply instead). Needs no store;
 * thread-safe (@changes only read).
 *
 * Returns: (transfer full): the page's preparation; it borrows @changes'
 *   strings: free it (hearth_sync_page_prep_free(), any thread) before
 *   @changes, and apply it with @changes only.
 */
HearthSyncPagePrep *hearth_sync_page_prepare (GPtrArray *changes);

/**
 * hearth_sync_page_prep_free:
 * @prep: (transfer full) (nullable): a page's preparation
 *
 * Frees @prep and the working memory of the apply it went through. Any
 * thread (nothing in it refers to a store), before the page's changes.
 */
void hearth_sync_page_prep_free (HearthSyncPagePrep *prep);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthSyncPagePrep, hearth_sync_page_prep_free)

/**
 * hearth_sync_store_apply_prepared:
 * @prep: (nullable): @changes' preparation (hearth_sync_page_prepare()),
 *   or %NULL to pack here; not applied before
 *
 * hearth_sync_store_apply_page() with @changes' packed texts taken from
 * @prep, and the apply's working memory left in @prep (freed with it)
 * rather than freed before this returns. The same rows, the same
 * guarantees.
 */
gboolean hearth_sync_store_apply_prepared (HearthSyncStore    *self,
                                           GPtrArray          *changes,
                                           HearthSyncPagePrep *prep,
                                           gint64              next_cursor,
                                           gboolean            more,
                                           gint64              compact_until,
                                           guint              *n_rejected,
                                           GError            **error);

/**
 * HearthSyncStatus:
 * @last_seq: the newest change number (0: none)
 * @acked_seq: the highest number the center acknowledged
 * @pending: changes not yet acknowledged
 * @refused: changes the center refused
 * @rejected: pulled changes this store could not apply
 * @cursor: where the next pull starts
 * @compact_until: the bound of the compacted pull in progress (PROTOCOL.md
 *   section 8.1), 0 when none
 * @pull_more: whether the last page said there is more
 * @last_sync_ms: the last successful sync (ms since 1970; 0: never)
 * @last_failed_ms: the last sync run that did not finish (ms since 1970;
 *   0: none since the store was made); a run that failed after the last
 *   successful one means what the center received since may not be here
 * @center_offset_ms: the center's clock minus this device's, as last learned
 * @synced: nothing pending and the last pull complete (PROTOCOL.md
 *   section 11): the only state in which to show "synced"
 */
typedef struct {
  gint64   last_seq;
  gint64   acked_seq;
  gint64   pending;
  gint64   refused;
  gint64   rejected;
  gint64   cursor;
  gint64   compact_until;
  gboolean pull_more;
  gint64   last_sync_ms;
  gint64   last_failed_ms;
  gint64   center_offset_ms;
  gboolean synced;
} HearthSyncStatus;

/**
 * hearth_sync_store_status:
 * @out: (out caller-allocates): the state
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_SQLITE.
 */
gboolean hearth_sync_store_status (HearthSyncStore  *self,
                                   HearthSyncStatus *out,
                                   GError          **error);

/**
 * HearthSyncRefusedChange:
 * @seq: the change's number on this device
 * @code: the center's code (`scope`, `role`, `duplicate`, `bad-change`, …)
 * @message: the center's reason, as it wrote it
 * @at: when the refusal arrived (ISO 8601, this device's clock)
 * @table: (nullable): the record's table; %NULL when the change is gone
 *   from the outbox (a store restored from before it)
 * @record_id: (nullable): the record's id
 * @household_id: (nullable): the household the record is of, when the
 *   record names one (an audit entry names none)
 * @head_name: (nullable): that household's head, when it is on this
 *   tablet
 * @registry_no: (nullable): that household's registry number, when it
 *   has one
 * @fields: (nullable) (array zero-terminated=1): the fields of a refused
 *   write (kind `edit` or `edits`), in name order; %NULL for an immutable
 *   record, or when the write's fields were taken back (a `duplicate`)
 * @member_name: (nullable): for a member's change, the member's name
 * @created: whether the write made its record (it names the record's
 *   household, which only its first write does; for a household, its
 *   village and head together)
 *
 * One change the center refused, for its user to redo: personal data
 * (@head_name): for the screen of this device's user, never for a log.
 */
typedef struct {
  gint64 seq;
  char  *code;
  char  *message;
  char  *at;
  char  *table;
  char  *record_id;
  char  *household_id;
  char  *head_name;
  char  *registry_no;
  GStrv  fields;
  char  *member_name;
  gboolean created;
} HearthSyncRefusedChange;

void hearth_sync_refused_change_free (HearthSyncRefusedChange *change);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthSyncRefusedChange, hearth_sync_refused_change_free)

/**
 * hearth_sync_store_list_refused:
 * @limit: at most this many (the newest first); 0: all
 *
 * The changes the center refused (those hearth_sync_store_status() counts
 * as @refused), newest first, each with the household and the fields it
 * is about. Reads the store on the calling thread (the connection's
 * thread, as every call of @self): a few indexed rows per change.
 *
 * Returns: (transfer full) (element-type HearthSyncRefusedChange): the
 *   list, or %NULL with HEARTH_SYNC_STORE_ERROR_SQLITE.
 */
GPtrArray *hearth_sync_store_list_refused (HearthSyncStore *self,
                                           guint            limit,
                                           GError         **error);

/* How far ahead of the center's time a pulled version may be: the
 * center clamps what it accepts to 10 minutes ahead of its clock
 * (HEARTH_MERGE_MAX_AHEAD_MS, PROTOCOL.md section 6.3), and a device's
 * estimate of that clock is off by about half a round trip; a minute
 * covers that. */
#define HEARTH_SYNC_MAX_AHEAD_MS (11 * 60 * 1000)

/**
 * hearth_sync_store_set_center_offset:
 * @center_offset_ms: the center's clock minus this device's, as the
 *   exchange in progress learned it
 *
 * Sets what hearth_sync_store_apply() takes the center's time to be (the
 * case store's clock plus @center_offset_ms) for the life of @self;
 * without it, the offset the last exchange stored
 * (hearth_sync_store_set_exchange()).
 */
void hearth_sync_store_set_center_offset (HearthSyncStore *self,
                                          gint64           center_offset_ms);

/**
 * hearth_sync_store_set_exchange:
 * @center_offset_ms: the center's clock minus this device's (PROTOCOL.md
 *   section 2), from the latest reply
 * @synced_at_ms: when a sync completed (ms since 1970), or 0 when this
 *   exchange did not complete one
 *
 * Keeps what the latest exchange taught, for the next run.
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_SQLITE.
 */
gboolean hearth_sync_store_set_exchange (HearthSyncStore *self,
                                         gint64           center_offset_ms,
                                         gint64           synced_at_ms,
                                         GError         **error);

/**
 * hearth_sync_store_finish_run:
 * @center_offset_ms: as hearth_sync_store_set_exchange()'s
 * @synced_at_ms: as hearth_sync_store_set_exchange()'s
 * @holder: whose lease is let go (hearth_sync_store_lease_release())
 *
 * hearth_sync_store_set_exchange() and hearth_sync_store_lease_release()
 * of @holder in one transaction: the end of a completed run is one commit
 * (one sync of the store's WAL) rather than two. Inside a transaction the
 * caller holds open (the last pages of a pull,
 * hearth_sync_store_begin_pages()), a savepoint of it, committed with it.
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_SQLITE; nothing of it is
 *   kept then (the lease is still @holder's).
 */
gboolean hearth_sync_store_finish_run (HearthSyncStore *self,
                                       gint64           center_offset_ms,
                                       gint64           synced_at_ms,
                                       const char      *holder,
                                       GError         **error);

/**
 * hearth_sync_store_note_failed_run:
 * @failed_at_ms: when the run gave up (ms since 1970, this device's clock)
 *
 * Records that a sync run did not finish (the center could not be reached,
 * refused the device, or a reply could not be read), so a later status
 * can say so: "synced" alone says the center has this tablet's changes,
 * not that this tablet has the center's latest.
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_SQLITE.
 */
gboolean hearth_sync_store_note_failed_run (HearthSyncStore *self,
                                            gint64           failed_at_ms,
                                            GError         **error);

/**
 * HearthSyncEnrolment:
 * @center_url: the center's base URL
 * @user: the user the device was enrolled for
 * @role: "worker", "clerk", "township" or "county"
 * @scope: (array zero-terminated=1): division-code prefixes
 * @county: the county's 6-digit code
 * @county_public_key: the county recovery public key, base64
 * @features: (array zero-terminated=1) (nullable): what the center said
 *   it takes ("features", e.g. "edits"); %NULL when it said nothing
 * @tls_ca_pem: (nullable): the CA certificate(s) the tablet trusts for
 *   this center (PEM text, given at enrolment with --ca-file)
 * @tls_pin: (nullable): the center's pinned key (sha256//BASE64, given at
 *   enrolment with --pin)
 *
 * What enrolment returned, and the trust it was made with (PROTOCOL.md section 5). Free with
 * hearth_sync_enrolment_free().
 */
typedef struct {
  char  *center_url;
  char  *user;
  char  *role;
  char **scope;
  char  *county;
  char  *county_public_key;
  char **features;
  char  *tls_ca_pem;
  char  *tls_pin;
} HearthSyncEnrolment;

/** hearth_sync_enrolment_free: frees @enrolment and its members (%NULL: nothing). */
void hearth_sync_enrolment_free (HearthSyncEnrolment *enrolment);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthSyncEnrolment, hearth_sync_enrolment_free)

/* The size of an Ed25519 secret key (crypto_sign_SECRETKEYBYTES). */
#define HEARTH_SYNC_SECRET_KEY_SIZE 64

/**
 * hearth_sync_store_set_enrolment:
 * @enrolment: what the center answered
 * @secret_key: the device's Ed25519 secret key (HEARTH_SYNC_SECRET_KEY_SIZE
 *   bytes); copied into the encrypted store
 *
 * Keeps the enrolment, the center's features and the trust (sync_state
 * "tls_ca_pem" and "tls_pin", removed when %NULL). A store never enrolled
 * before numbers each record write as one change of kind "edits"
 * (hearth_sync_store_set_features()); enrolling with a center that does
 * not take them numbers those never sent again, one "edit" per field, in
 * the same order and without gaps (nothing was sent before enrolment).
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_INVALID (a missing member or
 *   a key of the wrong size) or _SQLITE; nothing is written then.
 */
gboolean hearth_sync_store_set_enrolment (HearthSyncStore           *self,
                                          const HearthSyncEnrolment *enrolment,
                                          const HearthSecret        *secret_key,
                                          GError                   **error);

/**
 * hearth_sync_store_set_features:
 * @features: (array zero-terminated=1) (nullable): the "features" of a
 *   reply of this store's center (PROTOCOL.md section 5); %NULL (a reply
 *   without them, from a center of before) changes nothing
 *
 * Keeps what the center takes (sync_state "features"). Once it takes
 * "edits", every later write of a record enters the outbox as one change
 * of kind "edits" (migration 0012); rows made before stay as they are. A
 * center never stops taking them (centers are upgraded before tablets).
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_SQLITE.
 */
gboolean hearth_sync_store_set_features (HearthSyncStore    *self,
                                         const char *const  *features,
                                         GError            **error);

/**
 * hearth_sync_store_set_trust:
 * @ca_pem: (nullable): a CA bundle's PEM text to trust, or %NULL
 * @pin: (nullable): the center's key pin (sha256//BASE64), or %NULL
 *
 * Keeps a new trust for the enrolled center (sync_state "tls_ca_pem" and
 * "tls_pin", each removed when %NULL: both %NULL trusts the system's CAs)
 * in one transaction. Callers check it first (hearth_sync_change_trust()).
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_NOT_ENROLLED or _SQLITE;
 *   nothing is written then.
 */
gboolean hearth_sync_store_set_trust (HearthSyncStore *self,
                                      const char      *ca_pem,
                                      const char      *pin,
                                      GError         **error);

/**
 * hearth_sync_store_get_enrolment:
 *
 * Returns: (transfer full) (nullable): the enrolment, or %NULL with
 *   HEARTH_SYNC_STORE_ERROR_NOT_ENROLLED or _SQLITE.
 */
HearthSyncEnrolment *hearth_sync_store_get_enrolment (HearthSyncStore *self,
                                                      GError         **error);

/**
 * hearth_sync_store_load_secret_key:
 *
 * Reads the device's secret key straight into sodium_malloc() memory
 * (store-secret.h), for signing; free it as soon as the exchange ends.
 *
 * Returns: (transfer full) (nullable): the key, or %NULL with
 *   HEARTH_SYNC_STORE_ERROR_NOT_ENROLLED or _SQLITE.
 */
HearthSecret *hearth_sync_store_load_secret_key (HearthSyncStore *self,
                                                 GError         **error);

/**
 * hearth_sync_store_enrolment_key:
 * @public_key: (out caller-allocates) (array fixed-size=32): its public key
 *
 * The Ed25519 key pair this device enrols with: made and kept in the store
 * on the first call, the same on every later one, so that an enrolment
 * whose reply was lost can be repeated (PROTOCOL.md section 5).
 *
 * Returns: (transfer full) (nullable): the secret key in sodium_malloc()
 *   memory, or %NULL with HEARTH_SYNC_STORE_ERROR_SQLITE.
 */
HearthSecret *hearth_sync_store_enrolment_key (HearthSyncStore *self,
                                               guint8          *public_key,
                                               GError         **error);

/**
 * hearth_sync_store_lease_acquire:
 * @holder: who syncs (e.g. "hearth-cli 4711")
 * @ttl_ms: how long the lease lasts (HEARTH_SYNC_LEASE_MS)
 *
 * Takes the sync lease when it is free, expired, or already @holder's
 * (then it is renewed). Atomic between processes.
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_LEASE naming the holder and
 *   when its lease expires, _INVALID for an empty holder or a ttl ≤ 0, or
 *   _SQLITE.
 */
gboolean hearth_sync_store_lease_acquire (HearthSyncStore *self,
                                          const char      *holder,
                                          gint64           ttl_ms,
                                          GError         **error);

/**
 * hearth_sync_store_lease_renew:
 *
 * Extends @holder's lease to @ttl_ms from now (≤ 0: HEARTH_SYNC_LEASE_MS),
 * once per page.
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_LEASE when @holder does not
 *   hold it (it expired and another took it, or it was released), or
 *   _SQLITE.
 */
gboolean hearth_sync_store_lease_renew (HearthSyncStore *self,
                                        const char      *holder,
                                        gint64           ttl_ms,
                                        GError         **error);

/**
 * hearth_sync_store_lease_release:
 *
 * Frees @holder's lease; a lease @holder does not hold is left alone.
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_SQLITE.
 */
gboolean hearth_sync_store_lease_release (HearthSyncStore *self,
                                          const char      *holder,
                                          GError         **error);

/**
 * hearth_sync_store_lease_holder:
 *
 * Returns: (transfer full) (nullable): who holds an unexpired lease, or
 *   %NULL when it is free (or on an error, which reads as free: the lease
 *   is advice for the user, the transactions keep the data whole).
 */
char *hearth_sync_store_lease_holder (HearthSyncStore *self);

/* ---- Hooks of the case model (app/case-store.c) ------------------------- */

/**
 * HearthSyncCapture:
 *
 * What a case store keeps to put its writes in the outbox: the statements
 * it runs for every field written, prepared once.
 */
typedef struct _HearthSyncCapture HearthSyncCapture;

/**
 * hearth_sync_capture_new:
 * @db: the store's connection, outside a transaction; it must outlive the
 *   capture
 * @device_id: this device
 *
 * Once, for a store used before sync (migration 0006 marks it), first
 * backfills the outbox in one transaction: an edit of every stamped field
 * (its version from record_versions, its parent the version it replaced,
 * its value the column's), then every edit, submission, review and audit
 * entry in the outbox, in that order (audit entries by number).
 *
 * Returns: (transfer full) (nullable): the capture, or %NULL with
 *   HEARTH_SYNC_STORE_ERROR_SQLITE (nothing written). Not thread-safe: it
 *   belongs to its case store.
 */
HearthSyncCapture *hearth_sync_capture_new (sqlite3    *db,
                                            const char *device_id,
                                            GError    **error);

/** hearth_sync_capture_free: finalizes its statements (%NULL: nothing). */
void hearth_sync_capture_free (HearthSyncCapture *capture);

/**
 * hearth_sync_capture_edit:
 * @capture: the case store's capture, inside the transaction of the write
 * @table: the record's table
 * @id: the record's id
 * @field: the field just stamped in record_versions
 * @value: the value written
 * @wall: the device's wall time, ISO 8601
 *
 * Adds the stamped write to the field's edit set (its parents: the version
 * it replaced, none for a first value) and so to the outbox; a field with
 * open conflicts has them recomputed against the new edit.
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_SQLITE.
 */
gboolean hearth_sync_capture_edit (HearthSyncCapture *capture,
                                   const char        *table,
                                   const char        *id,
                                   const char        *field,
                                   const char        *value,
                                   const char        *wall,
                                   GError           **error);

/**
 * hearth_sync_conflict_field:
 * @conflict_id: an open conflict's id
 * @table: (out) (transfer full): its record's table
 * @record_id: (out) (transfer full): its record's id
 * @field: (out) (transfer full): its field
 *
 * Returns: %TRUE when @conflict_id is open; %FALSE without an error when it
 *   is not, or with HEARTH_SYNC_STORE_ERROR_SQLITE.
 */
gboolean hearth_sync_conflict_field (sqlite3    *db,
                                     const char *conflict_id,
                                     char      **table,
                                     char      **record_id,
                                     char      **field,
                                     GError    **error);

/**
 * HearthSyncStampFunc:
 * @data: the case store
 *
 * Issues a new version from the case store's clock.
 *
 * Returns: (transfer full) (nullable): the version, or %NULL with @error.
 */
typedef char *(*HearthSyncStampFunc) (gpointer data, GError **error);

/**
 * hearth_sync_write_resolution:
 * @db: the store, inside the transaction of the resolution
 * @stamp: issues the resolution's versions (the case store's clock)
 * @stamp_data: for @stamp
 * @value: the value chosen
 * @wall: the device's wall time, ISO 8601 (also the conflicts' resolved_at)
 * @resolved_by: who resolved (conflicts.resolved_by)
 *
 * Writes a resolution (PROTOCOL.md section 6.3, rule 4): an edit of the
 * field whose parents are all its heads, into the record, its version and
 * the outbox; the field's conflicts are then resolved by @resolved_by. An
 * edit names at most HEARTH_CHANGE_MAX_PARENTS parents, so a field with
 * more heads is resolved in steps, in this one transaction: each step an
 * edit of @value whose parents are the previous step and as many heads as
 * fit, until one names the last of them.
 *
 * Returns: %FALSE with HEARTH_SYNC_STORE_ERROR_INVALID (the table refuses
 *   the value), _SQLITE, or @stamp's error.
 */
gboolean hearth_sync_write_resolution (sqlite3             *db,
                                       const char          *table,
                                       const char          *record_id,
                                       const char          *field,
                                       HearthSyncStampFunc  stamp,
                                       gpointer             stamp_data,
                                       const char          *value,
                                       const char          *wall,
                                       const char          *resolved_by,
                                       GError             **error);

G_END_DECLS

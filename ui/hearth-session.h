/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-session.h: an unlocked store and who uses it: the store, its case
 * store acting as the store's user, the sync store, the user's identity.
 * The app has one session while unlocked; locking drops it, which closes
 * the database. Screens read through it on the main thread and announce
 * their writes with hearth_session_changed() so the others refresh.
 */
#pragma once

#include <gio/gio.h>

#include "case-identity.h"
#include "case-store.h"
#include "store.h"
#include "sync-store.h"

G_BEGIN_DECLS

/* The page cache of the app's connection to the store (PRAGMA
 * cache_size, KiB; hearth_session_new()). */
#define HEARTH_SESSION_CACHE_KIB 8192

#define HEARTH_TYPE_SESSION (hearth_session_get_type ())
G_DECLARE_FINAL_TYPE (HearthSession, hearth_session, HEARTH, SESSION, GObject)

/**
 * hearth_session_store_exists:
 * @data_dir: a data folder
 *
 * Returns: whether the folder holds a store (its database or a keyslot):
 *   then the app asks to unlock it, else to create one.
 */
gboolean hearth_session_store_exists (const char *data_dir);

/**
 * hearth_session_open_async:
 * @data_dir: the data folder
 * @passphrase: (transfer full): the passphrase
 * @create: make the store first (HEARTH_KDF_INTERACTIVE, no county key
 *   until enrolment)
 *
 * Creates (when asked) and unlocks the store on a worker thread (the key
 * derivation takes about half a second), then reads who uses it. The
 * passphrase is kept (in guarded memory) while the store is not enrolled:
 * enrolment seals the county recovery envelope with it.
 */
void hearth_session_open_async (const char          *data_dir,
                                HearthSecret        *passphrase,
                                gboolean             create,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data);

/**
 * hearth_session_open_finish:
 *
 * Returns: (transfer full) (nullable): the session, or %NULL with the
 *   errors of hearth_store_create() and hearth_store_open()
 *   (HEARTH_STORE_ERROR), or HEARTH_CASE_ERROR from reading the identity.
 */
HearthSession *hearth_session_open_finish (GAsyncResult  *result,
                                           GError       **error);

/**
 * hearth_session_new:
 * @store: (transfer none): an open store
 * @passphrase: (nullable) (transfer full): kept for enrolment
 *
 * The session of an open store, on the calling thread (tests and the
 * benchmark open stores themselves).
 *
 * Returns: (transfer full) (nullable): the session, or %NULL with
 *   HEARTH_CASE_ERROR.
 */
HearthSession *hearth_session_new (HearthStore   *store,
                                   HearthSecret  *passphrase,
                                   GError       **error);

HearthStore          *hearth_session_get_store    (HearthSession *self);
HearthCaseStore      *hearth_session_get_cases    (HearthSession *self);
HearthSyncStore      *hearth_session_get_sync     (HearthSession *self);
const HearthIdentity *hearth_session_get_identity (HearthSession *self);
sqlite3              *hearth_session_get_db       (HearthSession *self);

/**
 * hearth_session_reload_identity:
 *
 * Reads the identity again (after enrolment wrote it), drops the kept
 * passphrase once the store is enrolled, and emits ::changed.
 *
 * Returns: %FALSE with HEARTH_CASE_ERROR.
 */
gboolean hearth_session_reload_identity (HearthSession *self,
                                         GError       **error);

/* Returns: whether the store is enrolled with its county center. */
gboolean hearth_session_is_enrolled (HearthSession *self);

/**
 * hearth_session_get_passphrase:
 *
 * Returns: (transfer none) (nullable): the passphrase while the store is
 *   not enrolled, else %NULL.
 */
const HearthSecret *hearth_session_get_passphrase (HearthSession *self);

/**
 * hearth_session_get_today:
 *
 * Returns: (transfer full): today's calendar date, YYYY-MM-DD, in the
 *   tablet's time zone (or the date hearth_session_set_today() fixed).
 */
char *hearth_session_get_today (HearthSession *self);

/* Fixes "today" (YYYY-MM-DD; %NULL: the clock), for tests and demos. */
void  hearth_session_set_today (HearthSession *self,
                                const char    *date);

/**
 * hearth_session_get_syncer:
 *
 * The background sync of the store (hearth-syncer.h), made on first use
 * (main thread) and stopped when the session goes (the lock).
 *
 * Returns: (transfer none): the syncer.
 */
struct _HearthSyncer *hearth_session_get_syncer (HearthSession *self);

/* Emits ::changed: a screen wrote to the store. */
void  hearth_session_changed (HearthSession *self);

G_END_DECLS

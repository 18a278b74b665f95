/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * store.h: the encrypted local store: create, unlock and open, change the
 * passphrase, recover with the county key, replace the data key, check.
 *
 * A store is a data folder (../shared/INTERFACES.md) holding
 *   hearth.db (+ -wal, -shm)  the database, every page encrypted (store-vfs.c)
 *   keyslot.0, keyslot.1      two copies of the keyslot (store-keyslot.h)
 *   county-recovery           the county recovery envelope alone, when the
 *                             store has one (so that county IT can recover a
 *                             store whose keyslot copies are both lost)
 *   keyslot.lock              serialises keyslot rewrites between processes
 *   lock                      shared by every open store; exclusive for a rekey
 */
#pragma once

#include <glib-object.h>
#include <sqlite3.h>

#include "store-error.h"
#include "store-keyslot.h"
#include "store-secret.h"

G_BEGIN_DECLS

#define HEARTH_STORE_DB_NAME "hearth.db"

/* The configured page cache (PRAGMA cache_size, KiB): large enough that a
 * worker's whole store stays decrypted in memory after first use. */
#define HEARTH_STORE_CACHE_KIB 65536

#define HEARTH_TYPE_STORE (hearth_store_get_type ())
G_DECLARE_FINAL_TYPE (HearthStore, hearth_store, HEARTH, STORE, GObject)

/**
 * hearth_store_create:
 * @data_dir: the data folder (created 0700 if missing)
 * @passphrase: the new passphrase (checked with hearth_secret_check_new_passphrase())
 * @kdf: the key derivation cost
 * @county_public_key: (nullable) (array fixed-size=32): seal a recovery
 *   envelope of the data key to this county key
 *
 * Creates a store: a random data key and file id, both keyslot copies, and
 * the database with every built-in migration applied.
 *
 * Returns: %TRUE, or %FALSE with HEARTH_STORE_ERROR_EXISTS (a database is
 *   already there), _WEAK_PASSPHRASE, _IO or _INTERNAL.
 */
gboolean hearth_store_create (const char         *data_dir,
                              const HearthSecret *passphrase,
                              HearthKdfProfile    kdf,
                              const guint8       *county_public_key,
                              GError            **error);

/**
 * hearth_store_open:
 * @data_dir: the data folder
 * @passphrase: the passphrase
 *
 * Unlocks the keyslot (before SQLite touches the database), opens the
 * database through encvfs with the pragmas the store needs (reserve 40,
 * temp_store=MEMORY, mmap off, WAL, synchronous=FULL), probes it and
 * applies pending migrations. Completes an interrupted passphrase change
 * or rekey: the keyslot copy that opened is written over the other.
 *
 * Returns: (transfer full) (nullable): the store, or %NULL with
 *   HEARTH_STORE_ERROR_NOT_FOUND, _WRONG_PASSPHRASE, _KEYSLOT_CORRUPT,
 *   _KEYSLOT_MISMATCH, _CORRUPT (naming file and page), _NEWER_SCHEMA or
 *   _MIGRATION. A store object is used from one thread at a time.
 */
HearthStore *hearth_store_open (const char         *data_dir,
                                const HearthSecret *passphrase,
                                GError            **error);

/**
 * hearth_store_open_again:
 * @self: an open store
 *
 * A second store on the same folder with the same data key, without the
 * key derivation: its own connection, for another thread (a background
 * sync), as another process would have it (SQLite's WAL lets one writer
 * and readers work together; write transactions wait for each other).
 * The key is shared, reference counted, and wiped when the last of the
 * stores using it is finalized.
 *
 * Thread-safe while @self is open: it reads what the unlock set and never
 * changes. The new store belongs to the thread that uses it: its
 * connection has no mutex of its own (SQLITE_OPEN_NOMUTEX), so it may
 * pass from one thread to another but never be used by two at once.
 *
 * Returns: (transfer full) (nullable): the store, or %NULL with
 *   HEARTH_STORE_ERROR_IO (the folder's lock), _CORRUPT or _INTERNAL.
 */
HearthStore *hearth_store_open_again (HearthStore *self,
                                      GError     **error);

/**
 * hearth_store_wipe:
 * @data_dir: a data folder whose store is closed everywhere
 *
 * Deletes the store for good, as a device the county revoked must: the
 * keyslot copies and the recovery envelope first (without them the
 * database is ciphertext nobody can read), then the database and its
 * journals. Files already gone are no error.
 *
 * Returns: %FALSE with HEARTH_STORE_ERROR_IO naming a file that could not
 *   be removed (the others are removed still).
 */
gboolean hearth_store_wipe (const char *data_dir,
                            GError    **error);

/* Returns: (transfer none): the connection; valid while @self lives. */
sqlite3    *hearth_store_get_db       (HearthStore *self);
const char *hearth_store_get_data_dir (HearthStore *self);

typedef struct {
  guint schema_version;
  guint64 page_count;
  guint64 opslimit;
  guint64 memlimit;
  guint64 keyslot_generation;
  gboolean has_recovery_envelope;
  const char *kdf_profile;  /* "test", "interactive", "moderate" or "custom" */
  /* The county public key the recovery envelope is sealed to (32 bytes,
   * valid while the store lives), or NULL without an envelope. */
  const guint8 *county_public_key;
} HearthStoreInfo;

void hearth_store_get_info (HearthStore *self, HearthStoreInfo *info);

/**
 * hearth_store_checkpoint:
 * @frames: (out) (optional): the frames the WAL held
 * @copied: (out) (optional): of those, the ones now in the database file
 *
 * Copies the WAL's committed frames into the database file (a PASSIVE
 * checkpoint: it waits for no reader or writer, and copies what no reader
 * still needs). Maintenance only: every commit is durable in the WAL
 * already (synchronous=FULL) and read from there, and a reopen after a
 * crash finds it. A sync run that wrote a large WAL leaves this to its
 * caller, to run once the run's result is shown
 * (HearthSyncRunResult.checkpoint_due). Use from the connection's thread.
 *
 * Returns: %TRUE, or %FALSE with HEARTH_STORE_ERROR_BUSY (another
 *   connection checkpoints), _CORRUPT (a frame fails authentication: the
 *   checkpoint copied nothing) or _INTERNAL.
 */
gboolean hearth_store_checkpoint (HearthStore *self,
                                  int         *frames,
                                  int         *copied,
                                  GError     **error);

/**
 * hearth_store_check:
 *
 * Authenticates every page of the database file and runs SQLite's
 * integrity_check.
 *
 * Returns: %TRUE when sound, or %FALSE with HEARTH_STORE_ERROR_CORRUPT
 *   naming the file and the first bad page, or the integrity problems.
 */
gboolean hearth_store_check (HearthStore *self, GError **error);

/**
 * hearth_store_change_passphrase:
 *
 * Rewraps the same data key under @new_passphrase (new salt) in both
 * keyslot copies, one after the other, each written atomically; the
 * database is not touched. A crash in between leaves one copy of each
 * passphrase; either opens the store and the next unlock makes the copies
 * agree again.
 *
 * Returns: %TRUE, or %FALSE with the errors of hearth_store_open()'s
 *   unlock, _WEAK_PASSPHRASE or _IO.
 */
gboolean hearth_store_change_passphrase (const char         *data_dir,
                                         const HearthSecret *old_passphrase,
                                         const HearthSecret *new_passphrase,
                                         GError            **error);

/**
 * hearth_store_set_county_key:
 * @passphrase: the store's passphrase
 * @county_public_key: (array fixed-size=32): the county's X25519 public
 *   key, learned at enrolment
 *
 * Seals a (new) recovery envelope of the data key to @county_public_key in
 * both keyslot copies, written as hearth_store_change_passphrase() writes
 * them, so county IT can recover this store from then on. The store may be
 * open in this process.
 *
 * Returns: %TRUE, or %FALSE with the errors of hearth_store_open()'s unlock
 *   or _IO.
 */
gboolean hearth_store_set_county_key (const char         *data_dir,
                                      const HearthSecret *passphrase,
                                      const guint8       *county_public_key,
                                      GError            **error);

/**
 * hearth_store_recover:
 * @county_secret_key: the county's X25519 secret key (32 bytes)
 *
 * Opens the recovery envelope with the county key, proves the data key
 * against the database, and writes both keyslot copies under
 * @new_passphrase (keeping the envelope).
 *
 * Returns: %TRUE, or %FALSE with _NO_RECOVERY, _COUNTY_KEY,
 *   _KEYSLOT_CORRUPT, _CORRUPT, _WEAK_PASSPHRASE or _IO.
 */
gboolean hearth_store_recover (const char         *data_dir,
                               const HearthSecret *county_secret_key,
                               const HearthSecret *new_passphrase,
                               GError            **error);

/**
 * hearth_store_rekey:
 *
 * Replaces the data key (revocation): copies the database with VACUUM INTO
 * under a new data key and file id, then swaps it in with its keyslot. Old
 * keyslot copies and passphrases no longer open the new database. Needs
 * the store closed everywhere (HEARTH_STORE_ERROR_BUSY otherwise). A crash
 * at any step leaves either the old or the new database openable.
 */
gboolean hearth_store_rekey (const char         *data_dir,
                             const HearthSecret *passphrase,
                             GError            **error);

/* For tests: called at each step of a keyslot rewrite and a rekey, with a
 * step name, so that a test can SIGKILL the process exactly there. */
void hearth_store_set_step_hook (void (*hook) (const char *step));

G_END_DECLS

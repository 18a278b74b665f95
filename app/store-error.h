/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store-error.h: the one error domain of the encrypted store. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HEARTH_STORE_ERROR (hearth_store_error_quark ())
GQuark hearth_store_error_quark (void);

/**
 * HearthStoreError:
 * @HEARTH_STORE_ERROR_NOT_FOUND: no store in the data folder
 * @HEARTH_STORE_ERROR_EXISTS: a store already exists where one was to be created
 * @HEARTH_STORE_ERROR_WRONG_PASSPHRASE: no keyslot copy opens with the passphrase
 * @HEARTH_STORE_ERROR_KEYSLOT_CORRUPT: the keyslot is damaged, missing or of an unknown version
 * @HEARTH_STORE_ERROR_KEYSLOT_MISMATCH: the keyslot belongs to another database
 * @HEARTH_STORE_ERROR_CORRUPT: a page fails authentication or the integrity check fails
 * @HEARTH_STORE_ERROR_NEWER_SCHEMA: the database was written by a newer schema version
 * @HEARTH_STORE_ERROR_MIGRATION: a schema migration failed (nothing of it was applied)
 * @HEARTH_STORE_ERROR_NO_PASSPHRASE: no passphrase source is available
 * @HEARTH_STORE_ERROR_WEAK_PASSPHRASE: a new passphrase is refused (too short, not UTF-8, too long)
 * @HEARTH_STORE_ERROR_COUNTY_KEY: the county key does not open the store's recovery envelope
 * @HEARTH_STORE_ERROR_BAD_FILE: an input file (passphrase, key file) is unreadable or malformed
 * @HEARTH_STORE_ERROR_NO_RECOVERY: the store has no recovery envelope
 * @HEARTH_STORE_ERROR_BUSY: another program holds the store where exclusive use is needed
 * @HEARTH_STORE_ERROR_IO: a file could not be read or written
 * @HEARTH_STORE_ERROR_INTERNAL: an unexpected SQLite or libsodium failure
 *
 * The codes map onto the exit codes of hearth-cli (see app/cli).
 */
typedef enum {
  HEARTH_STORE_ERROR_NOT_FOUND,
  HEARTH_STORE_ERROR_EXISTS,
  HEARTH_STORE_ERROR_WRONG_PASSPHRASE,
  HEARTH_STORE_ERROR_KEYSLOT_CORRUPT,
  HEARTH_STORE_ERROR_KEYSLOT_MISMATCH,
  HEARTH_STORE_ERROR_CORRUPT,
  HEARTH_STORE_ERROR_NEWER_SCHEMA,
  HEARTH_STORE_ERROR_MIGRATION,
  HEARTH_STORE_ERROR_NO_PASSPHRASE,
  HEARTH_STORE_ERROR_WEAK_PASSPHRASE,
  HEARTH_STORE_ERROR_COUNTY_KEY,
  HEARTH_STORE_ERROR_BAD_FILE,
  HEARTH_STORE_ERROR_NO_RECOVERY,
  HEARTH_STORE_ERROR_BUSY,
  HEARTH_STORE_ERROR_IO,
  HEARTH_STORE_ERROR_INTERNAL,
} HearthStoreError;

G_END_DECLS

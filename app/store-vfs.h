/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store-vfs.h: the "encvfs" SQLite VFS shim that encrypts every page. */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

#define HEARTH_VFS_NAME "encvfs"
#define HEARTH_PAGE_SIZE 4096
#define HEARTH_PAGE_RESERVE 40
#define HEARTH_FILE_ID_SIZE 16
#define HEARTH_DATA_KEY_SIZE 32
/* The URI parameter naming a key attached with hearth_vfs_key_attach(). */
#define HEARTH_VFS_KEY_PARAM "hearth_key"

typedef struct _HearthPageKey HearthPageKey;

/**
 * hearth_page_key_new:
 * @data_key: (array fixed-size=32): the store's random data key
 * @file_id: (array fixed-size=16): the database's file id (page 1, bytes 0-15)
 *
 * Derives the page-encryption key from @data_key (crypto_kdf, context
 * "encvfsPG") into read-only sodium_malloc() memory.
 *
 * Returns: (transfer full) (nullable): a new key, or %NULL when secure
 *   memory cannot be allocated. Thread-safe; the key is immutable.
 */
HearthPageKey *hearth_page_key_new   (const guint8 *data_key,
                                      const guint8 *file_id);
HearthPageKey *hearth_page_key_ref   (HearthPageKey *key);
void           hearth_page_key_unref (HearthPageKey *key);
const guint8  *hearth_page_key_get_file_id (HearthPageKey *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthPageKey, hearth_page_key_unref)

/**
 * hearth_vfs_register:
 *
 * Registers the "encvfs" VFS over SQLite's default VFS and routes
 * sqlite3_log() to GLib logging (domain "hearth-sqlite", personal data
 * stripped). Idempotent and thread-safe; must run before any other SQLite
 * call of the process, since SQLITE_CONFIG_LOG only works before
 * sqlite3_initialize().
 *
 * Returns: %TRUE on success; on failure @error is set in the
 *   HEARTH_STORE_ERROR domain with code HEARTH_STORE_ERROR_INTERNAL.
 */
gboolean hearth_vfs_register (GError **error);

/**
 * hearth_sqlite_initialize:
 *
 * SQLite's process-wide settings, once, then sqlite3_initialize():
 * sqlite3_log() routed to GLib logging as hearth_vfs_register() says, and
 * no count of SQLite's memory (nothing reads it and no soft heap limit is
 * set; otherwise every allocation and free of every connection takes one
 * process-wide mutex). sqlite3_config() works only before SQLite is
 * initialised (and logs a misuse after), so every part of Hearth that opens
 * SQLite calls this first: the tablet's store (hearth_vfs_register()) and
 * the center's (center-store-sqlite.c), which the tests use in one
 * process. Idempotent and thread-safe.
 *
 * Returns: sqlite3_initialize()'s result code, SQLITE_OK on success
 */
int hearth_sqlite_initialize (void);

/**
 * hearth_vfs_key_attach:
 * @key: the page key to make available to encvfs opens
 *
 * Puts @key (a new reference) in the process-wide key table under a fresh
 * random token, to be passed as the URI parameter
 * `hearth_key=TOKEN` of the main database. A database opened through
 * encvfs without a known token is refused (SQLITE_CANTOPEN).
 *
 * Returns: (transfer full): the token; free with g_free() after
 *   hearth_vfs_key_detach(). Thread-safe.
 */
char *hearth_vfs_key_attach (HearthPageKey *key);
void  hearth_vfs_key_detach (const char *token);

/**
 * hearth_vfs_build_uri:
 * @path: a file system path
 * @token: (nullable): a token from hearth_vfs_key_attach()
 *
 * Returns: (transfer full): an SQLite `file:` URI for @path with the key
 *   token and `vfs=encvfs`, percent-escaped as RFC 3986 requires.
 */
char *hearth_vfs_build_uri (const char *path,
                            const char *token);

/**
 * hearth_vfs_decrypt_database_page:
 * @key: the store's page key
 * @pgno: the page number, from 1
 * @disk: (array fixed-size=4096): the page as stored in the database file
 * @plain: (out caller-allocates) (array fixed-size=4096): the plaintext
 *   as SQLite sees it (may equal @disk)
 *
 * Authenticates and decrypts one page of a main database file outside
 * SQLite (used by the integrity check). Thread-safe.
 *
 * Returns: %TRUE, or %FALSE (with @plain zeroed) when the page fails
 *   authentication.
 */
gboolean hearth_vfs_decrypt_database_page (HearthPageKey *key,
                                           guint32        pgno,
                                           const guint8  *disk,
                                           guint8        *plain);

typedef struct {
  guint64 pages_encrypted;
  guint64 pages_decrypted;
  guint64 auth_failures;      /* pages that failed authentication, any file */
  guint64 header_tears;       /* sub-page page-1 reads answered with zeros (P1); not failures */
  guint64 wal_recovery_drops; /* WAL frames zeroed during recovery (torn tails) */
  guint64 refused_opens;      /* temp files, unknown keys */
  guint64 refused_writes;     /* partial or unknown-shape writes */
  guint64 fetches;            /* xFetch calls (always answered with no mapping) */
  guint64 pages_passed_through; /* checkpointed pages written without re-encryption */
  guint64 pages_authenticated;  /* WAL frames a checkpoint authenticated without decrypting them */
  guint64 syncs;              /* xSync of any file (an fsync or fdatasync: a commit's, a checkpoint's) */
  guint64 wal_frame_runs;     /* writes of WAL frames held back and encrypted together (a commit's, a
                               * spill's, up to 256 frames each) */
} HearthVfsStats;

/* Process-wide counters, for tests and diagnostics. Thread-safe snapshot. */
void hearth_vfs_get_stats (HearthVfsStats *out);

G_END_DECLS

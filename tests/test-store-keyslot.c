/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-store-keyslot.c: unlocking, the distinct errors of the keyslot,
 * passphrase change, county recovery and rekey (design section 8,
 * requirements 15-17), on real store folders.
 */
#include "test-util.h"
#include "store-countykey.h"
#include "store-file.h"

#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static char *
path_in (const char *dir, const char *name)
{
  return g_build_filename (dir, name, NULL);
}

static GBytes *
read_file (const char *path)
{
  char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return g_bytes_new_take (data, len);
}

/* Rewrites a keyslot file with byte @off set to @value and a valid checksum. */
static void
patch_slot (const char *path, gsize off, guint8 value)
{
  g_autoptr(GBytes) b = read_file (path);
  guint8 buf[HEARTH_KEYSLOT_SIZE];

  g_assert_cmpuint (g_bytes_get_size (b), ==, sizeof buf);
  memcpy (buf, g_bytes_get_data (b, NULL), sizeof buf);
  buf[off] = value;
  crypto_generichash (buf + 268, 32, buf, 268, NULL, 0);
  g_assert_true (g_file_set_contents (path, (const char *) buf, sizeof buf, NULL));
}

static HearthStore *
open_with (const char *dir, const char *passphrase, GError **error)
{
  g_autoptr(HearthSecret) pass = test_secret (passphrase);
  return hearth_store_open (dir, pass, error);
}

static void
insert_marker (const char *dir, const char *marker)
{
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  sqlite3_stmt *st = NULL;

  test_exec (db, "CREATE TABLE IF NOT EXISTS marker (v TEXT)");
  g_assert_cmpint (sqlite3_prepare_v2 (db, "INSERT INTO marker VALUES (?)", -1, &st, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (st, 1, marker, -1, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
  sqlite3_finalize (st);
}

static void
assert_marker (HearthStore *store, const char *marker)
{
  sqlite3 *db = hearth_store_get_db (store);
  sqlite3_stmt *st = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT v FROM marker", -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (st, 0), ==, marker);
  sqlite3_finalize (st);
}

/* Requirement 15: a wrong passphrase is refused before SQLite reads a page. */
static void
test_wrong_passphrase (void)
{
  g_autofree char *dir = test_create_store ("wrongpass", NULL);
  g_autofree char *db_path = path_in (dir, "hearth.db");
  g_autofree char *wal_path = path_in (dir, "hearth.db-wal");
  g_autofree char *before = test_file_sha256 (db_path);
  g_autofree char *after = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthStore) store = NULL;
  HearthVfsStats s0, s1;
  struct stat st0, st1;

  g_assert_cmpint (stat (db_path, &st0), ==, 0);
  hearth_vfs_get_stats (&s0);
  store = open_with (dir, "not the passphrase", &error);
  g_assert_null (store);
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_WRONG_PASSPHRASE);
  hearth_vfs_get_stats (&s1);
  g_assert_cmpuint (s1.pages_decrypted, ==, s0.pages_decrypted);
  g_assert_cmpuint (s1.auth_failures, ==, s0.auth_failures);
  g_assert_false (g_file_test (wal_path, G_FILE_TEST_EXISTS));
  g_assert_cmpint (stat (db_path, &st1), ==, 0);
  g_assert_cmpint (st0.st_mtim.tv_nsec, ==, st1.st_mtim.tv_nsec);
  after = test_file_sha256 (db_path);
  g_assert_cmpstr (before, ==, after);
}

/* One damaged copy: the other opens the store and repairs it; a wrong
 * passphrase is still reported as wrong, not as damage. */
static void
test_one_copy_damaged (void)
{
  g_autofree char *dir = test_create_store ("onecopy", NULL);
  g_autofree char *slot0 = path_in (dir, "keyslot.0");
  g_autofree char *slot1 = path_in (dir, "keyslot.1");
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(GBytes) a = NULL;
  g_autoptr(GBytes) b = NULL;

  test_flip_byte (slot0, 100);
  store = open_with (dir, "not the passphrase", &error);
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);

  /* A keyslot write cut short by a kill leaves its temporary file. */
  {
    g_autofree char *tmp = path_in (dir, "keyslot.1.tmp");
    g_autoptr(GBytes) old = read_file (slot1);
    g_assert_true (g_file_set_contents (tmp, g_bytes_get_data (old, NULL), g_bytes_get_size (old), NULL));
    store = test_open_store (dir);
    g_assert_false (g_file_test (tmp, G_FILE_TEST_EXISTS));
  }
  a = read_file (slot0);
  b = read_file (slot1);
  g_assert_true (g_bytes_equal (a, b));
}

static void
assert_open_fails (const char *dir, int code, const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthStore) store = open_with (dir, TEST_PASSPHRASE, &error);

  g_assert_null (store);
  g_assert_error (error, HEARTH_STORE_ERROR, code);
  g_test_message ("%s", error->message);
  if (fragment != NULL)
    g_assert_nonnull (strstr (error->message, fragment));
}

/* Requirement 15: both copies damaged, missing, cut short or of an unknown
 * version: KEYSLOT_CORRUPT, each with its reason. */
static void
test_damaged_keyslot (void)
{
  g_autofree char *dir = test_create_store ("damaged", NULL);
  g_autofree char *slot0 = path_in (dir, "keyslot.0");
  g_autofree char *slot1 = path_in (dir, "keyslot.1");
  g_autoptr(GBytes) good = read_file (slot0);

  test_flip_byte (slot0, 150);
  test_flip_byte (slot1, 42);
  assert_open_fails (dir, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT, "checksum");

  g_assert_cmpint (truncate (slot0, 100), ==, 0);
  g_assert_cmpint (truncate (slot1, 100), ==, 0);
  assert_open_fails (dir, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT, "300");

  g_assert_true (g_file_set_contents (slot0, g_bytes_get_data (good, NULL), g_bytes_get_size (good), NULL));
  g_assert_true (g_file_set_contents (slot1, g_bytes_get_data (good, NULL), g_bytes_get_size (good), NULL));
  patch_slot (slot0, 8, 2);
  patch_slot (slot1, 8, 2);
  assert_open_fails (dir, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT, "version 2");

  g_assert_true (g_file_set_contents (slot0, "garbage", -1, NULL));
  g_unlink (slot1);
  assert_open_fails (dir, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT, "HEARTHKS");

  g_unlink (slot0);
  assert_open_fails (dir, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT, "missing");

  /* Hostile parameters (valid checksum) are refused before any Argon2id. */
  g_assert_true (g_file_set_contents (slot0, g_bytes_get_data (good, NULL), g_bytes_get_size (good), NULL));
  patch_slot (slot0, 44, 0xff);  /* memlimit of 2^63 bytes and more */
  assert_open_fails (dir, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT, "bounds");
}

/* The derivation parameters come from the slot and are authenticated: a
 * slot whose parameters were changed no longer unwraps. */
static void
test_parameters_in_slot (void)
{
  g_autofree char *dir = test_create_store ("params", NULL);
  g_autofree char *slot0 = path_in (dir, "keyslot.0");
  g_autofree char *slot1 = path_in (dir, "keyslot.1");
  g_autoptr(HearthStore) store = test_open_store (dir);
  HearthStoreInfo info;

  hearth_store_get_info (store, &info);
  g_assert_cmpstr (info.kdf_profile, ==, "test");
  g_assert_cmpuint (info.opslimit, ==, crypto_pwhash_OPSLIMIT_MIN);
  g_assert_cmpuint (info.memlimit, ==, crypto_pwhash_MEMLIMIT_MIN);
  g_clear_object (&store);

  patch_slot (slot0, 43, 2);  /* opslimit 1 -> 2 */
  patch_slot (slot1, 43, 2);
  assert_open_fails (dir, HEARTH_STORE_ERROR_WRONG_PASSPHRASE, NULL);
}

/* Requirement 15: the keyslot of another database. */
static void
test_other_database (void)
{
  g_autofree char *a = test_create_store ("mismatch-a", NULL);
  g_autofree char *b = test_create_store ("mismatch-b", NULL);

  for (int i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("keyslot.%d", i);
      g_autofree char *from = path_in (b, name);
      g_autofree char *to = path_in (a, name);
      g_autoptr(GBytes) bytes = read_file (from);
      g_assert_true (g_file_set_contents (to, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL));
    }
  assert_open_fails (a, HEARTH_STORE_ERROR_KEYSLOT_MISMATCH, "another database");
}

static void
test_not_found (void)
{
  g_autofree char *empty = test_make_dir ("empty");
  g_autofree char *missing = path_in (empty, "nothing-here");

  assert_open_fails (empty, HEARTH_STORE_ERROR_NOT_FOUND, "hearth-cli init");
  assert_open_fails (missing, HEARTH_STORE_ERROR_NOT_FOUND, NULL);
}

/* A database cut to nothing is reported, never silently made anew; a
 * keyslot that is a FIFO is refused without waiting for a writer. */
static void
test_empty_database_and_fifo (void)
{
  g_autofree char *dir = test_create_store ("emptydb", NULL);
  g_autofree char *db_path = path_in (dir, "hearth.db");
  g_autofree char *wal_path = path_in (dir, "hearth.db-wal");
  g_autofree char *slot0 = path_in (dir, "keyslot.0");

  insert_marker (dir, "will be lost");
  g_assert_cmpint (truncate (db_path, 0), ==, 0);
  g_unlink (wal_path);
  assert_open_fails (dir, HEARTH_STORE_ERROR_CORRUPT, "empty");

  g_assert_cmpint (g_unlink (slot0), ==, 0);
  g_assert_cmpint (mkfifo (slot0, 0600), ==, 0);
  /* keyslot.1 still opens (and the settling replaces the FIFO). */
  assert_open_fails (dir, HEARTH_STORE_ERROR_CORRUPT, "empty");
  {
    g_autofree char *slot1 = path_in (dir, "keyslot.1");
    g_assert_cmpint (g_unlink (slot0), ==, 0);
    g_assert_cmpint (mkfifo (slot0, 0600), ==, 0);
    g_assert_cmpint (g_unlink (slot1), ==, 0);
  }
  assert_open_fails (dir, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT, "regular file");
}

static void
test_create_twice_refused (void)
{
  g_autofree char *dir = test_create_store ("twice", NULL);
  g_autoptr(HearthSecret) pass = test_secret (TEST_PASSPHRASE);
  g_autoptr(HearthSecret) weak = test_secret ("1234");
  g_autoptr(GError) error = NULL;
  g_autofree char *parent = test_make_dir ("weak");
  g_autofree char *fresh = path_in (parent, "store");

  g_assert_false (hearth_store_create (dir, pass, HEARTH_KDF_TEST, NULL, &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (hearth_store_create (fresh, weak, HEARTH_KDF_TEST, NULL, &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_WEAK_PASSPHRASE);
}

/* Requirement 16: after a completed change only the new passphrase opens;
 * both copies rewritten; the database untouched. */
static void
test_passwd (void)
{
  g_autofree char *dir = test_create_store ("passwd", NULL);
  g_autofree char *db_path = path_in (dir, "hearth.db");
  g_autofree char *slot0 = path_in (dir, "keyslot.0");
  g_autofree char *slot1 = path_in (dir, "keyslot.1");
  g_autoptr(HearthSecret) old_pass = test_secret (TEST_PASSPHRASE);
  g_autoptr(HearthSecret) new_pass = test_secret (TEST_PASSPHRASE_2);
  g_autoptr(HearthSecret) weak = test_secret ("short");
  g_autoptr(GBytes) a0 = read_file (slot0);
  g_autoptr(GBytes) b0 = NULL;
  g_autoptr(GBytes) b1 = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthStore) store = NULL;
  g_autofree char *hash_before = NULL;
  g_autofree char *hash_after = NULL;
  HearthStoreInfo info;

  insert_marker (dir, "before the change");
  hash_before = test_file_sha256 (db_path);

  g_assert_false (hearth_store_change_passphrase (dir, old_pass, weak, &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_WEAK_PASSPHRASE);
  g_clear_error (&error);
  g_assert_false (hearth_store_change_passphrase (dir, new_pass, old_pass, &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);

  g_assert_true (hearth_store_change_passphrase (dir, old_pass, new_pass, &error));
  g_assert_no_error (error);
  hash_after = test_file_sha256 (db_path);
  g_assert_cmpstr (hash_before, ==, hash_after);
  b0 = read_file (slot0);
  b1 = read_file (slot1);
  g_assert_false (g_bytes_equal (a0, b0));
  g_assert_true (g_bytes_equal (b0, b1));

  assert_open_fails (dir, HEARTH_STORE_ERROR_WRONG_PASSPHRASE, NULL);
  store = open_with (dir, TEST_PASSPHRASE_2, &error);
  g_assert_no_error (error);
  assert_marker (store, "before the change");
  hearth_store_get_info (store, &info);
  g_assert_cmpuint (info.keyslot_generation, ==, 2);
}

static void
make_county_keys (const char *dir, guint8 *pk, char **pk_path, char **sk_path)
{
  g_autoptr(HearthSecret) sk = hearth_county_key_generate (pk);
  g_autoptr(GError) error = NULL;

  *pk_path = path_in (dir, "county.pub");
  *sk_path = path_in (dir, "county.key");
  g_assert_true (hearth_county_key_write (*pk_path, FALSE, pk, &error));
  g_assert_true (hearth_county_key_write (*sk_path, TRUE, hearth_secret_peek (sk), &error));
  g_assert_no_error (error);
}

/* Recovery with the county key: the envelope survives passphrase changes
 * and rekeys; a wrong county key or a store without envelope is refused. */
static void
test_recovery (void)
{
  g_autofree char *keys = test_make_dir ("county");
  g_autofree char *pk_path = NULL;
  g_autofree char *sk_path = NULL;
  g_autofree char *other_pk_path = NULL;
  g_autofree char *other_sk_path = NULL;
  g_autofree char *other_keys = test_make_dir ("county-other");
  guint8 pk[32], other_pk[32], read_pk[32];
  g_autofree char *dir = NULL;
  g_autofree char *plain_dir = test_create_store ("noenvelope", NULL);
  g_autoptr(HearthSecret) sk = NULL;
  g_autoptr(HearthSecret) other_sk = NULL;
  g_autoptr(HearthSecret) new_pass = test_secret (TEST_PASSPHRASE_2);
  g_autoptr(HearthSecret) third = test_secret ("a third passphrase");
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthStore) store = NULL;
  struct stat st;

  make_county_keys (keys, pk, &pk_path, &sk_path);
  make_county_keys (other_keys, other_pk, &other_pk_path, &other_sk_path);
  g_assert_cmpint (stat (sk_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (hearth_county_key_read_public (pk_path, read_pk, &error));
  g_assert_cmpmem (read_pk, 32, pk, 32);
  sk = hearth_county_key_read_secret (sk_path, &error);
  other_sk = hearth_county_key_read_secret (other_sk_path, &error);
  g_assert_no_error (error);
  /* A public key file is not a secret key file. */
  g_assert_null (hearth_county_key_read_secret (pk_path, &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE);
  g_clear_error (&error);

  dir = test_create_store ("recover", pk);
  insert_marker (dir, "recover me");
  {
    g_autofree char *record = path_in (dir, "county-recovery");
    g_autofree char *none = path_in (plain_dir, "county-recovery");
    g_assert_cmpint (stat (record, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0600);
    g_assert_false (g_file_test (none, G_FILE_TEST_EXISTS));
  }

  g_assert_false (hearth_store_recover (dir, other_sk, new_pass, &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_COUNTY_KEY);
  g_clear_error (&error);
  g_assert_false (hearth_store_recover (plain_dir, sk, new_pass, &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_NO_RECOVERY);
  g_clear_error (&error);

  g_assert_true (hearth_store_recover (dir, sk, new_pass, &error));
  g_assert_no_error (error);
  assert_open_fails (dir, HEARTH_STORE_ERROR_WRONG_PASSPHRASE, NULL);
  store = open_with (dir, TEST_PASSPHRASE_2, &error);
  g_assert_no_error (error);
  assert_marker (store, "recover me");
  g_clear_object (&store);

  /* Both keyslot copies lost: the county recovery record alone suffices. */
  {
    g_autofree char *slot0 = path_in (dir, "keyslot.0");
    g_autofree char *slot1 = path_in (dir, "keyslot.1");
    g_autofree char *record = path_in (dir, "county-recovery");
    g_autoptr(GBytes) good_record = read_file (record);

    g_assert_cmpint (g_unlink (slot0), ==, 0);
    test_flip_byte (slot1, 5);
    assert_open_fails (dir, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT, "backup");
    g_assert_false (hearth_store_recover (dir, other_sk, third, &error));
    g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_COUNTY_KEY);
    g_clear_error (&error);
    /* A damaged record is not used. */
    test_flip_byte (record, 100);
    g_assert_false (hearth_store_recover (dir, sk, third, &error));
    g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT);
    g_clear_error (&error);
    g_assert_true (g_file_set_contents (record, g_bytes_get_data (good_record, NULL),
                                        g_bytes_get_size (good_record), NULL));
    g_assert_true (hearth_store_recover (dir, sk, third, &error));
    g_assert_no_error (error);
    store = open_with (dir, "a third passphrase", &error);
    g_assert_no_error (error);
    assert_marker (store, "recover me");
    g_clear_object (&store);
    g_assert_true (hearth_store_change_passphrase (dir, third, new_pass, &error));
    g_assert_no_error (error);
  }

  /* After a passphrase change and a rekey the county can still recover. */
  g_assert_true (hearth_store_change_passphrase (dir, new_pass, third, &error));
  g_assert_true (hearth_store_rekey (dir, third, &error));
  g_assert_no_error (error);
  g_assert_true (hearth_store_recover (dir, sk, new_pass, &error));
  g_assert_no_error (error);
  store = open_with (dir, TEST_PASSPHRASE_2, &error);
  g_assert_no_error (error);
  assert_marker (store, "recover me");
}

/* Requirement 17: a rekey gives a new data key and file id; the old
 * keyslot and passphrase no longer open the database. */
static void
test_rekey (void)
{
  g_autofree char *dir = test_create_store ("rekey", NULL);
  g_autofree char *db_path = path_in (dir, "hearth.db");
  g_autofree char *slot0 = path_in (dir, "keyslot.0");
  g_autofree char *slot1 = path_in (dir, "keyslot.1");
  g_autoptr(HearthSecret) pass = test_secret (TEST_PASSPHRASE);
  g_autoptr(GBytes) old_slot = NULL;
  g_autoptr(GBytes) old_id = NULL;
  g_autoptr(GBytes) new_id = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthStore) holder = NULL;

  insert_marker (dir, "survives the rekey");
  old_slot = read_file (slot0);
  old_id = test_read_range (db_path, 0, 16);

  /* Refused while another holder has the store open. */
  holder = test_open_store (dir);
  g_assert_false (hearth_store_rekey (dir, pass, &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BUSY);
  g_clear_error (&error);
  g_clear_object (&holder);

  g_assert_true (hearth_store_rekey (dir, pass, &error));
  g_assert_no_error (error);
  new_id = test_read_range (db_path, 0, 16);
  g_assert_false (g_bytes_equal (old_id, new_id));
  {
    struct stat st;
    g_assert_cmpint (stat (db_path, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  }
  {
    g_autofree char *rekey_slot = path_in (dir, "keyslot.rekey");
    g_autofree char *rekey_db = path_in (dir, "hearth.db.rekey");
    g_assert_false (g_file_test (rekey_slot, G_FILE_TEST_EXISTS));
    g_assert_false (g_file_test (rekey_db, G_FILE_TEST_EXISTS));
  }

  store = test_open_store (dir);
  assert_marker (store, "survives the rekey");
  g_assert_true (hearth_store_check (store, &error));
  g_assert_no_error (error);
  g_clear_object (&store);

  /* The old keyslot with the old passphrase. */
  g_assert_true (g_file_set_contents (slot0, g_bytes_get_data (old_slot, NULL), g_bytes_get_size (old_slot), NULL));
  g_assert_true (g_file_set_contents (slot1, g_bytes_get_data (old_slot, NULL), g_bytes_get_size (old_slot), NULL));
  assert_open_fails (dir, HEARTH_STORE_ERROR_KEYSLOT_MISMATCH, NULL);
}

static void
on_fault (int sig)
{
  _exit (77);
}

/* The data key lives in read-only secure memory: a write faults. */
static void
test_data_key_read_only (void)
{
  pid_t pid;
  int status = 0;

  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      HearthKeyslot slot = { .opslimit = crypto_pwhash_OPSLIMIT_MIN,
                             .memlimit = crypto_pwhash_MEMLIMIT_MIN };
      HearthSecret *pass = test_secret (TEST_PASSPHRASE);
      HearthSecret *dek = hearth_secret_new_random (32);
      HearthSecret *back;
      struct rlimit none = { 0, 0 };

      struct sigaction fault = { .sa_handler = on_fault };

      setrlimit (RLIMIT_CORE, &none);
      /* Our own handler, so that the fault is seen the same way with and
       * without AddressSanitizer (which would catch it itself). */
      sigaction (SIGSEGV, &fault, NULL);
      sigaction (SIGBUS, &fault, NULL);
      hearth_secret_seal (dek);
      if (!hearth_keyslot_wrap (&slot, pass, dek, NULL))
        _exit (2);
      back = hearth_keyslot_unwrap (&slot, pass, NULL);
      if (back == NULL || memcmp (hearth_secret_peek (back), hearth_secret_peek (dek), 32) != 0)
        _exit (3);
      hearth_secret_get_data (back)[0] ^= 1;  /* must fault */
      _exit (0);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 77);
}

/* hearth_file_read_bounded() reads a file of its bound and refuses one
 * byte more, whatever its buffer (break13: the buffer is the file's size
 * now, not the bound). */
static void
test_read_bounded (void)
{
  g_autofree char *dir = test_make_dir ("read-bounded");
  g_autofree char *path = g_build_filename (dir, "file", NULL);
  const gsize sizes[] = { 0, 1, 4095, 4096, 4097, 300000 };

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree char *data = g_malloc (sizes[i] + 1);
      g_autoptr(GBytes) read = NULL;
      g_autoptr(GError) error = NULL;

      for (gsize k = 0; k < sizes[i]; k++)
        data[k] = (char) ('a' + k % 26);
      g_assert_true (g_file_set_contents (path, data, (gssize) sizes[i], NULL));
      /* Bound equal to the size: read whole. */
      read = hearth_file_read_bounded (path, sizes[i], &error);
      g_assert_no_error (error);
      g_assert_cmpmem (g_bytes_get_data (read, NULL), g_bytes_get_size (read), data, sizes[i]);
      g_clear_pointer (&read, g_bytes_unref);
      /* A bound far above: the same. */
      read = hearth_file_read_bounded (path, 64 * 1024 * 1024, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (read), ==, sizes[i]);
      g_clear_pointer (&read, g_bytes_unref);
      /* One byte under: refused. */
      if (sizes[i] > 0)
        {
          g_assert_null (hearth_file_read_bounded (path, sizes[i] - 1, &error));
          g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE);
        }
    }
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/store/keyslot/wrong-passphrase", test_wrong_passphrase);
  g_test_add_func ("/store/keyslot/one-copy-damaged", test_one_copy_damaged);
  g_test_add_func ("/store/keyslot/damaged", test_damaged_keyslot);
  g_test_add_func ("/store/keyslot/parameters-in-slot", test_parameters_in_slot);
  g_test_add_func ("/store/keyslot/other-database", test_other_database);
  g_test_add_func ("/store/keyslot/not-found", test_not_found);
  g_test_add_func ("/store/keyslot/create-twice-refused", test_create_twice_refused);
  g_test_add_func ("/store/keyslot/empty-database-and-fifo", test_empty_database_and_fifo);
  g_test_add_func ("/store/keyslot/passwd", test_passwd);
  g_test_add_func ("/store/keyslot/recovery", test_recovery);
  g_test_add_func ("/store/keyslot/rekey", test_rekey);
  g_test_add_func ("/store/keyslot/data-key-read-only", test_data_key_read_only);
  g_test_add_func ("/store/file/read-bounded", test_read_bounded);
  return g_test_run ();
}

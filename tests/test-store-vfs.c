/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-store-vfs.c: the encrypting VFS against the numbered requirements of
 * ../shared/design/encrypted-store.md, section 8 (2-8, 11, 12, 14), on real
 * files. Crash and concurrency requirements live in test-store-crash.c, the
 * canary in test-store-canary.c, the keyslot in test-store-keyslot.c.
 */
#include "test-util.h"

#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#define P HEARTH_PAGE_SIZE

static HearthPageKey *
random_key (void)
{
  guint8 dek[32], file_id[16];

  randombytes_buf (dek, sizeof dek);
  randombytes_buf (file_id, sizeof file_id);
  return hearth_page_key_new (dek, file_id);
}

static sqlite3_file *
file_pointer (sqlite3 *db)
{
  sqlite3_file *f = NULL;

  g_assert_cmpint (sqlite3_file_control (db, "main", SQLITE_FCNTL_FILE_POINTER, &f), ==, SQLITE_OK);
  g_assert_nonnull (f);
  return f;
}

/* Fills t with 60 rows of 1000 characters: about 16 leaf pages. */
static void
fill_table (sqlite3 *db)
{
  test_exec (db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
                 "WITH RECURSIVE c(x) AS (VALUES(1) UNION ALL SELECT x+1 FROM c WHERE x<60) "
                 "INSERT INTO t SELECT x, printf('%01000d', x) FROM c;");
}

static int
step_rc (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2 (db, sql, -1, &st, NULL);

  while (rc == SQLITE_OK || rc == SQLITE_ROW)
    rc = sqlite3_step (st);
  sqlite3_finalize (st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static char *
last_vfs_error (sqlite3 *db)
{
  char *a[3] = { NULL, (char *) "encvfs_last_error", NULL };
  char *msg;

  sqlite3_file_control (db, "main", SQLITE_FCNTL_PRAGMA, a);
  msg = g_strdup (a[0] ? a[0] : "");
  sqlite3_free (a[0]);
  return msg;
}

/* Requirement 2: without the reserve the first write fails, with a reason. */
static void
test_reserve_required (void)
{
  g_autofree char *dir = test_make_dir ("reserve");
  g_autofree char *path = g_build_filename (dir, "x.db", NULL);
  g_autoptr(HearthPageKey) key = random_key ();
  g_autofree char *token = NULL;
  sqlite3 *db;
  int rc;

  test_log_reset ();
  db = test_open_raw (path, key, NULL, FALSE, &token);
  rc = sqlite3_exec (db, "CREATE TABLE t (x)", NULL, NULL, NULL);
  g_assert_cmpint (rc, ==, SQLITE_IOERR_WRITE);
  g_assert_true (test_log_contains ("reserve 0"));
  g_assert_true (test_log_contains ("SQLITE_FCNTL_RESERVE_BYTES"));
  sqlite3_close (db);
  hearth_vfs_key_detach (token);
}

/* Requirement 3: page size fixed; a patched reserve byte is corruption. */
static void
test_page_size (void)
{
  g_autofree char *dir = test_create_store ("pagesize", NULL);
  g_autofree char *db_path = g_build_filename (dir, "hearth.db", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  g_autoptr(HearthSecret) pass = test_secret (TEST_PASSPHRASE);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthStore) again = NULL;
  sqlite3 *db = hearth_store_get_db (store);
  char *msg = NULL;
  guint8 zero = 0;

  g_assert_cmpint (sqlite3_exec (db, "PRAGMA page_size=1024", NULL, NULL, &msg), ==, SQLITE_ERROR);
  g_assert_nonnull (strstr (msg, "fixed at 4096"));
  sqlite3_free (msg);
  g_assert_cmpint (test_query_int (db, "PRAGMA page_size"), ==, 4096);
  test_exec (db, "PRAGMA page_size=4096");  /* the same size is harmless */
  g_clear_object (&store);

  test_write_range (db_path, 20, &zero, 1);
  again = hearth_store_open (dir, pass, &error);
  g_assert_null (again);
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "page 1"));
}

/* Requirement 4: main-database writes are whole aligned pages only. */
static void
test_partial_writes_refused (void)
{
  g_autofree char *dir = test_create_store ("partial", NULL);
  g_autofree char *db_path = g_build_filename (dir, "hearth.db", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  sqlite3_file *f;
  g_autofree guint8 *buf = g_malloc0 (2 * P);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  HearthVfsStats s0, s1;

  test_exec (db, "PRAGMA wal_checkpoint(TRUNCATE)");
  before = test_file_sha256 (db_path);
  f = file_pointer (db);
  hearth_vfs_get_stats (&s0);
  memset (buf, 'A', 2 * P);
  g_assert_cmpint (f->pMethods->xWrite (f, buf, 100, 0), ==, SQLITE_IOERR_WRITE);
  g_assert_cmpint (f->pMethods->xWrite (f, buf, P, 100), ==, SQLITE_IOERR_WRITE);
  g_assert_cmpint (f->pMethods->xWrite (f, buf, 2 * P, 0), ==, SQLITE_IOERR_WRITE);
  g_assert_cmpint (f->pMethods->xWrite (f, buf, 1, P), ==, SQLITE_IOERR_WRITE);
  hearth_vfs_get_stats (&s1);
  g_assert_cmpuint (s1.refused_writes - s0.refused_writes, ==, 4);
  after = test_file_sha256 (db_path);
  g_assert_cmpstr (before, ==, after);
}

static void
read_both (sqlite3_file *a, sqlite3_file *b, int amt, sqlite3_int64 off)
{
  g_autofree guint8 *x = g_malloc0 (amt);
  g_autofree guint8 *y = g_malloc0 (amt);

  g_assert_cmpint (a->pMethods->xRead (a, x, amt, off), ==, SQLITE_OK);
  g_assert_cmpint (b->pMethods->xRead (b, y, amt, off), ==, SQLITE_OK);
  g_assert_cmpmem (x, amt, y, amt);
}

/* Requirements 5 and 11: the shim's plaintext is byte for byte that of a
 * plaintext twin, reserve bytes zero. */
static void
test_reads_match_plaintext_twin (void)
{
  g_autofree char *dir = test_make_dir ("twin");
  g_autofree char *enc_path = g_build_filename (dir, "enc.db", NULL);
  g_autofree char *plain_path = g_build_filename (dir, "plain.db", NULL);
  g_autoptr(HearthPageKey) key = random_key ();
  g_autofree char *token = NULL;
  g_autofree guint8 *page = g_malloc (P);
  static const guint8 zeros[HEARTH_PAGE_RESERVE];
  sqlite3 *enc, *plain = NULL;
  sqlite3_file *fe, *fp;
  int reserve = HEARTH_PAGE_RESERVE;
  gint64 pages;
  char *plain_sql = "PRAGMA temp_store=MEMORY; PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL";

  enc = test_open_raw (enc_path, key, "DELETE", TRUE, &token);
  g_assert_cmpint (sqlite3_open_v2 (plain_path, &plain, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), ==, SQLITE_OK);
  sqlite3_file_control (plain, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  test_exec (plain, plain_sql);
  fill_table (enc);
  fill_table (plain);
  test_exec (enc, "CREATE INDEX tv ON t (v)");
  test_exec (plain, "CREATE INDEX tv ON t (v)");

  fe = file_pointer (enc);
  fp = file_pointer (plain);
  read_both (fe, fp, 100, 0);
  read_both (fe, fp, 16, 24);
  read_both (fe, fp, 4000, 8192);
  pages = test_query_int (enc, "PRAGMA page_count");
  g_assert_cmpint (pages, ==, test_query_int (plain, "PRAGMA page_count"));
  g_assert_cmpint (pages, >, 20);
  for (gint64 i = 0; i < pages; i++)
    {
      read_both (fe, fp, P, i * P);
      g_assert_cmpint (fe->pMethods->xRead (fe, page, P, i * P), ==, SQLITE_OK);
      g_assert_cmpmem (page + P - HEARTH_PAGE_RESERVE, HEARTH_PAGE_RESERVE, zeros, sizeof zeros);
    }
  /* And the disk holds none of it in plaintext. */
  {
    g_autofree char *raw = NULL;
    gsize len;
    g_assert_true (g_file_get_contents (enc_path, &raw, &len, NULL));
    g_assert_null (memmem (raw, len, "000000000000000000000000000000", 30));
    g_assert_null (memmem (raw, len, "SQLite format 3", 15));
    g_free (raw);
    /* Control: the plaintext twin does show both. */
    g_assert_true (g_file_get_contents (plain_path, &raw, &len, NULL));
    g_assert_nonnull (memmem (raw, len, "000000000000000000000000000000", 30));
    g_assert_nonnull (memmem (raw, len, "SQLite format 3", 15));
  }
  sqlite3_close (enc);
  sqlite3_close (plain);
  hearth_vfs_key_detach (token);
}

/* The page the tamper tests damage: the third leaf of t, as SQLite's
 * dbstat finds it (the migrations' rebuilt tables leave free pages, so t's
 * pages need not follow its root). */
static guint victim;

/* Builds a store with the 60-row table, closed; returns its folder. */
static char *
make_table_store (const char *name)
{
  char *dir = test_create_store (name, NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);

  fill_table (db);
  victim = (guint) test_query_int (db, "SELECT pageno FROM dbstat WHERE name = 't' AND pagetype = 'leaf' "
                                       "ORDER BY pageno LIMIT 1 OFFSET 2");
  g_assert_cmpuint (victim, >, 2);
  return dir;
}

static void
copy_store (const char *from, const char *to)
{
  g_autofree char *cmd = g_strdup_printf ("cp -a '%s' '%s'", from, to);
  g_assert_cmpint (system (cmd), ==, 0);
}

/* Reads every row by key: each is its value or an error, never garbage.
 * Returns the number of rows that failed. */
static int
read_rows_by_key (sqlite3 *db, int *ok_out)
{
  int failed = 0, ok = 0;

  for (int id = 1; id <= 60; id++)
    {
      g_autofree char *expected = g_strdup_printf ("%01000d", id);
      sqlite3_stmt *st = NULL;
      int rc = sqlite3_prepare_v2 (db, "SELECT v FROM t WHERE id = ?", -1, &st, NULL);

      if (rc == SQLITE_OK)
        {
          sqlite3_bind_int (st, 1, id);
          rc = sqlite3_step (st);
        }
      if (rc == SQLITE_ROW)
        {
          g_assert_cmpstr ((const char *) sqlite3_column_text (st, 0), ==, expected);
          ok++;
        }
      else
        {
          g_assert_cmpint (rc & 0xff, ==, SQLITE_CORRUPT);
          failed++;
        }
      sqlite3_finalize (st);
    }
  *ok_out = ok;
  return failed;
}

static void
assert_page7_damage_detected (const char *dir)
{
  g_autoptr(HearthStore) store = test_open_store (dir);
  g_autoptr(GError) error = NULL;
  sqlite3 *db = hearth_store_get_db (store);
  sqlite3_stmt *st = NULL;
  g_autoptr(GString) quick = g_string_new (NULL);
  int ok = 0, failed, rc;

  g_autofree char *where = g_strdup_printf ("page %u (offset %u)", victim, (victim - 1) * P);
  g_autofree char *quick_page = g_strdup_printf ("Page %u", victim);
  g_autofree char *page = g_strdup_printf ("page %u", victim);

  test_log_reset ();
  rc = step_rc (db, "SELECT count(*), sum(length(v)) FROM t");
  g_assert_cmpint (rc & 0xff, ==, SQLITE_CORRUPT);
  g_assert_true (test_log_contains (where));
  g_assert_true (test_log_contains ("hearth.db"));

  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA quick_check", -1, &st, NULL), ==, SQLITE_OK);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_string_append_printf (quick, "%s\n", sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  g_test_message ("quick_check: %s (rc %d)", quick->str, rc);
  g_assert_nonnull (strstr (quick->str, quick_page));

  failed = read_rows_by_key (db, &ok);
  g_assert_cmpint (failed, >, 0);
  g_assert_cmpint (ok, >, 40);

  g_assert_false (hearth_store_check (store, &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, page));
}

/* Requirement 6: a flipped byte in a page of t (data, nonce or tag), swapped
 * pages, or a page from another database fail; other pages still read. */
static void
test_tamper (void)
{
  g_autofree char *pristine = make_table_store ("tamper");
  static const struct { const char *what; goffset off; } flips[] = {
    { "data", 100 },
    { "nonce", 4056 + 3 },
    { "tag", 4080 + 5 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (flips); i++)
    {
      g_autofree char *parent = test_make_dir (flips[i].what);
      g_autofree char *dir = g_build_filename (parent, "store", NULL);
      g_autofree char *db_path = g_build_filename (dir, "hearth.db", NULL);

      g_test_message ("flipping a %s byte of page %u", flips[i].what, victim);
      copy_store (pristine, dir);
      test_flip_byte (db_path, (goffset) (victim - 1) * P + flips[i].off);
      assert_page7_damage_detected (dir);
    }

  /* Pages 7 and 8 swapped. */
  {
    g_autofree char *parent = test_make_dir ("swap");
    g_autofree char *dir = g_build_filename (parent, "store", NULL);
    g_autofree char *db_path = g_build_filename (dir, "hearth.db", NULL);
    g_autoptr(GBytes) p7 = NULL;
    g_autoptr(GBytes) p8 = NULL;

    copy_store (pristine, dir);
    p7 = test_read_range (db_path, (goffset) (victim - 1) * P, P);
    p8 = test_read_range (db_path, (goffset) victim * P, P);
    test_write_range (db_path, (goffset) (victim - 1) * P, g_bytes_get_data (p8, NULL), P);
    test_write_range (db_path, (goffset) victim * P, g_bytes_get_data (p7, NULL), P);
    assert_page7_damage_detected (dir);
  }

  /* The page copied from another store with the same contents. */
  {
    g_autofree char *other = make_table_store ("other");
    g_autofree char *other_db = g_build_filename (other, "hearth.db", NULL);
    g_autofree char *parent = test_make_dir ("foreign");
    g_autofree char *dir = g_build_filename (parent, "store", NULL);
    g_autofree char *db_path = g_build_filename (dir, "hearth.db", NULL);
    g_autoptr(GBytes) p7 = test_read_range (other_db, (goffset) (victim - 1) * P, P);

    copy_store (pristine, dir);
    test_write_range (db_path, (goffset) (victim - 1) * P, g_bytes_get_data (p7, NULL), P);
    assert_page7_damage_detected (dir);
  }
}

/* Requirement 6, continued: same data key, another file id (the file id
 * is part of every page's associated data). */
static void
test_foreign_page_same_key (void)
{
  g_autofree char *dir = test_make_dir ("samekey");
  g_autofree char *a_path = g_build_filename (dir, "a.db", NULL);
  g_autofree char *b_path = g_build_filename (dir, "b.db", NULL);
  guint8 dek[32], id_a[16], id_b[16];
  g_autoptr(HearthPageKey) ka = NULL;
  g_autoptr(HearthPageKey) kb = NULL;
  g_autofree char *ta = NULL;
  g_autofree char *tb = NULL;
  g_autoptr(GBytes) p3 = NULL;
  sqlite3 *a, *b;
  int ok = 0;

  randombytes_buf (dek, sizeof dek);
  randombytes_buf (id_a, sizeof id_a);
  randombytes_buf (id_b, sizeof id_b);
  ka = hearth_page_key_new (dek, id_a);
  kb = hearth_page_key_new (dek, id_b);
  a = test_open_raw (a_path, ka, "DELETE", TRUE, &ta);
  b = test_open_raw (b_path, kb, "DELETE", TRUE, &tb);
  fill_table (a);
  fill_table (b);
  sqlite3_close (a);
  sqlite3_close (b);

  p3 = test_read_range (b_path, 2 * P, P);
  test_write_range (a_path, 2 * P, g_bytes_get_data (p3, NULL), P);
  a = test_open_raw (a_path, ka, "DELETE", TRUE, NULL);
  g_assert_cmpint (step_rc (a, "SELECT sum(length(v)) FROM t") & 0xff, ==, SQLITE_CORRUPT);
  g_assert_cmpint (read_rows_by_key (a, &ok), >, 0);
  sqlite3_close (a);
  hearth_vfs_key_detach (ta);
  hearth_vfs_key_detach (tb);
}

/* Requirement 7: damage in page 1 bytes 24-99 lets sqlite3_open_v2 succeed
 * (the unlocked header read never fails); the first query names page 1. */
static void
test_page1_damage (void)
{
  g_autofree char *dir = make_table_store ("page1");
  g_autofree char *db_path = g_build_filename (dir, "hearth.db", NULL);
  g_autoptr(HearthSecret) pass = test_secret (TEST_PASSPHRASE);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthPageKey) key = NULL;
  g_autofree char *token = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *msg = NULL;
  HearthStoreInfo info;
  sqlite3 *db = NULL;

  /* The page key, from a store that still opens. */
  store = test_open_store (dir);
  hearth_store_get_info (store, &info);
  g_clear_object (&store);

  test_flip_byte (db_path, 40);
  store = hearth_store_open (dir, pass, &error);
  g_assert_null (store);
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "page 1"));
  g_test_message ("%s", error->message);

  /* The same through a bare connection: the open itself succeeds. The
   * store's page key is not exported, so use a wrong key: page 1 then
   * fails authentication in the same way. */
  key = random_key ();
  token = hearth_vfs_key_attach (key);
  uri = hearth_vfs_build_uri (db_path, token);
  g_assert_cmpint (sqlite3_open_v2 (uri, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, HEARTH_VFS_NAME), ==, SQLITE_OK);
  sqlite3_extended_result_codes (db, 1);
  g_assert_cmpint (step_rc (db, "SELECT count(*) FROM sqlite_schema") & 0xff, ==, SQLITE_CORRUPT);
  msg = last_vfs_error (db);
  g_assert_nonnull (strstr (msg, "page 1"));
  sqlite3_close (db);
  hearth_vfs_key_detach (token);
}

/* Requirement 8: a file cut inside a page gives short reads of zeros; the
 * partial page is never decrypted. */
static void
test_truncate (void)
{
  g_autofree char *dir = make_table_store ("truncate");
  g_autofree char *db_path = g_build_filename (dir, "hearth.db", NULL);
  g_autofree char *parent2 = test_make_dir ("truncate-early");
  g_autofree char *dir2 = g_build_filename (parent2, "store", NULL);
  g_autofree char *db_path2 = g_build_filename (dir2, "hearth.db", NULL);
  g_autofree guint8 *buf = g_malloc (P);
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthSecret) pass = test_secret (TEST_PASSPHRASE);
  g_autoptr(GError) error = NULL;
  g_autofree char *last_page = NULL;
  sqlite3_file *f;
  gint64 pages;
  gsize i;

  store = test_open_store (dir);
  pages = test_query_int (hearth_store_get_db (store), "PRAGMA page_count");
  g_clear_object (&store);
  copy_store (dir, dir2);

  /* Cut inside the last page: SQLite still opens the file, the last page
   * reads as a short read of zeros, and the check names it. */
  g_assert_cmpint (truncate (db_path, (pages - 1) * P + 2048), ==, 0);
  store = test_open_store (dir);
  f = file_pointer (hearth_store_get_db (store));
  memset (buf, 0xAA, P);
  g_assert_cmpint (f->pMethods->xRead (f, buf, P, (pages - 1) * P), ==, SQLITE_IOERR_SHORT_READ);
  for (i = 0; i < P && buf[i] == 0; i++)
    ;
  g_assert_cmpuint (i, ==, P);
  g_assert_cmpint (f->pMethods->xRead (f, buf, P, (pages - 2) * P), ==, SQLITE_OK);
  g_assert_false (hearth_store_check (store, &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT);
  last_page = g_strdup_printf ("page %" G_GINT64_FORMAT " ", pages);
  g_assert_nonnull (strstr (error->message, last_page));
  g_assert_nonnull (strstr (error->message, "cut short"));
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_clear_object (&store);

  /* Cut in the middle of the file: SQLite itself finds the database
   * shorter than its header says; the store reports damage. */
  g_assert_cmpint (truncate (db_path2, 7 * P + 2048), ==, 0);
  store = hearth_store_open (dir2, pass, &error);
  g_assert_null (store);
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT);
}

/* Requirement 12: temporary files are refused; big sorts, index builds,
 * temp tables and savepoints still work with temp_store=MEMORY. */
static void
test_temp_files (void)
{
  static const int kinds[] = {
    SQLITE_OPEN_TEMP_DB, SQLITE_OPEN_TRANSIENT_DB, SQLITE_OPEN_TEMP_JOURNAL,
    SQLITE_OPEN_SUBJOURNAL, SQLITE_OPEN_SUPER_JOURNAL,
  };
  sqlite3_vfs *vfs = sqlite3_vfs_find (HEARTH_VFS_NAME);
  g_autofree char *dir = test_create_store ("temp", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  HearthVfsStats s0, s1;

  g_assert_nonnull (vfs);
  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      sqlite3_file *f = g_malloc0 (vfs->szOsFile);
      int out = 0;
      g_assert_cmpint (vfs->xOpen (vfs, NULL, f, kinds[i] | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                   SQLITE_OPEN_DELETEONCLOSE, &out), ==, SQLITE_CANTOPEN);
      g_assert_null (f->pMethods);
      g_free (f);
    }

  hearth_vfs_get_stats (&s0);
  test_exec (db,
             "CREATE TABLE big AS "
             "WITH RECURSIVE c(x) AS (VALUES(1) UNION ALL SELECT x+1 FROM c WHERE x<1000000) "
             "SELECT x, (x * 7919) % 1000003 AS k FROM c ORDER BY k");
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM big"), ==, 1000000);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM big a JOIN big b ON b.rowid = a.rowid + 1 "
                                       "WHERE b.k < a.k"), ==, 0);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM (SELECT k FROM big ORDER BY x DESC)"), ==, 1000000);
  test_exec (db, "CREATE INDEX big_k ON big (k)");
  test_exec (db, "CREATE TEMP TABLE scratch AS SELECT x FROM big WHERE x % 10 = 0");
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM temp.scratch"), ==, 100000);
  test_exec (db, "BEGIN; SAVEPOINT a; UPDATE big SET k = -k WHERE x <= 50000; "
                 "SAVEPOINT b; DELETE FROM big WHERE x > 900000; ROLLBACK TO b; RELEASE a; COMMIT");
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM big"), ==, 1000000);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM big WHERE k < 0"), >, 40000);
  hearth_vfs_get_stats (&s1);
  g_assert_cmpuint (s1.refused_opens, ==, s0.refused_opens);
}

/* Requirement 14: mmap never happens; rewriting a page changes its nonce. */
static void
test_mmap_and_fresh_nonces (void)
{
  g_autofree char *dir = make_table_store ("mmap");
  g_autofree char *db_path = g_build_filename (dir, "hearth.db", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  g_autofree guint8 *plain = g_malloc (P);
  g_autofree guint8 *again = g_malloc (P);
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) after = NULL;
  sqlite3_file *f;

  test_exec (db, "PRAGMA mmap_size=268435456");
  g_assert_cmpint (test_query_int (db, "PRAGMA mmap_size"), ==, 0);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM t"), ==, 60);

  test_exec (db, "PRAGMA wal_checkpoint(TRUNCATE)");
  f = file_pointer (db);
  g_assert_cmpint (f->pMethods->xRead (f, plain, P, 2 * P), ==, SQLITE_OK);
  before = test_read_range (db_path, 2 * P, P);
  g_assert_cmpint (f->pMethods->xWrite (f, plain, P, 2 * P), ==, SQLITE_OK);
  after = test_read_range (db_path, 2 * P, P);
  /* New nonce, hence new ciphertext everywhere. */
  g_assert_false (memcmp (g_bytes_get_data (before, NULL) + 4056,
                          g_bytes_get_data (after, NULL) + 4056, 24) == 0);
  g_assert_false (memcmp (g_bytes_get_data (before, NULL), g_bytes_get_data (after, NULL), 64) == 0);
  g_assert_cmpint (f->pMethods->xRead (f, again, P, 2 * P), ==, SQLITE_OK);
  g_assert_cmpmem (plain, P, again, P);
}

/* A database opened through encvfs without an attached key is refused. */
static void
test_no_key_refused (void)
{
  g_autofree char *dir = test_make_dir ("nokey");
  g_autofree char *path = g_build_filename (dir, "x.db", NULL);
  g_autofree char *uri = hearth_vfs_build_uri (path, NULL);
  g_autofree char *bad = hearth_vfs_build_uri (path, "00112233445566778899aabbccddeeff");
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (uri, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                                    HEARTH_VFS_NAME), ==, SQLITE_CANTOPEN);
  sqlite3_close (db);
  db = NULL;
  g_assert_cmpint (sqlite3_open_v2 (bad, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                                    HEARTH_VFS_NAME), ==, SQLITE_CANTOPEN);
  sqlite3_close (db);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

/* The frames of a WAL (offset 32, then [24-byte header][page]) and their
 * page numbers, in order. */
static GArray *
wal_pgnos (const char *path)
{
  g_autofree guint8 *wal = NULL;
  gsize len = 0;
  GArray *pgnos = g_array_new (FALSE, FALSE, sizeof (guint32));

  g_assert_true (g_file_get_contents (path, (char **) &wal, &len, NULL));
  for (gsize off = 32; off + 24 + P <= len; off += 24 + P)
    {
      guint32 pgno = (guint32) wal[off] << 24 | (guint32) wal[off + 1] << 16 |
                     (guint32) wal[off + 2] << 8 | wal[off + 3];
      g_array_append_val (pgnos, pgno);
    }
  return pgnos;
}

/* A store whose table t was written three times over (older versions of
 * its pages in the log), not checkpointed; @superseded is the index of
 * a frame that a newer one of the same page replaces, @copied the number
 * of pages other than 1 a checkpoint copies. */
static HearthStore *
store_three_rounds (const char *name, char **dir, guint *n_frames, guint *superseded, guint *copied)
{
  g_autofree char *wal_path = NULL;
  g_autoptr(GArray) pgnos = NULL;
  HearthStore *store;
  sqlite3 *db;

  *dir = test_create_store (name, NULL);
  wal_path = g_build_filename (*dir, "hearth.db-wal", NULL);
  store = test_open_store (*dir);
  db = hearth_store_get_db (store);
  test_exec (db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);"
                 "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA wal_autocheckpoint=0");
  for (int round = 0; round < 3; round++)
    {
      g_autofree char *sql = g_strdup_printf (
          "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) "
          "INSERT OR REPLACE INTO t SELECT i, randomblob(100 + %d) FROM n", round);
      test_exec (db, sql);
    }
  pgnos = wal_pgnos (wal_path);
  *n_frames = pgnos->len;
  *superseded = G_MAXUINT;
  *copied = 0;
  for (guint i = 0; i < pgnos->len; i++)
    {
      guint32 pg = g_array_index (pgnos, guint32, i);
      gboolean newest = TRUE;

      for (guint j = i + 1; j < pgnos->len; j++)
        newest &= g_array_index (pgnos, guint32, j) != pg;
      *copied += newest && pg != 1;
      if (!newest && pg != 1 && *superseded == G_MAXUINT)
        *superseded = i;
    }
  g_assert_cmpuint (*superseded, !=, G_MAXUINT);
  return store;
}

/* A checkpoint authenticates each frame once, without decrypting it, and
 * copies the newest version of each page through without checking it a
 * second time or decrypting it (but page 1, whose header stays plaintext);
 * what it copied reads back whole. */
static void
test_checkpoint_one_pass (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *wal_path = NULL;
  g_autoptr(HearthStore) store = NULL;
  HearthVfsStats s0, s1;
  guint n_frames, superseded, copied;
  sqlite3 *db;
  gint64 sum;

  store = store_three_rounds ("ckpt-one-pass", &dir, &n_frames, &superseded, &copied);
  wal_path = g_build_filename (dir, "hearth.db-wal", NULL);
  db = hearth_store_get_db (store);
  sum = test_query_int (db, "SELECT sum(length(v)) FROM t");
  hearth_vfs_get_stats (&s0);
  test_exec (db, "PRAGMA wal_checkpoint(TRUNCATE)");
  hearth_vfs_get_stats (&s1);
  g_assert_cmpuint (s1.auth_failures - s0.auth_failures, ==, 0);
  g_assert_cmpuint (s1.pages_authenticated - s0.pages_authenticated, ==, n_frames);
  g_assert_cmpuint (s1.pages_passed_through - s0.pages_passed_through, ==, copied);
  g_assert_cmpuint (s1.pages_decrypted - s0.pages_decrypted, <=, 1);
  g_clear_object (&store);
  g_assert_false (g_file_test (wal_path, G_FILE_TEST_EXISTS));

  /* Only the database file is left: every page of it is read through the
   * AEAD again. */
  store = test_open_store (dir);
  db = hearth_store_get_db (store);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM t"), ==, 300);
  g_assert_cmpint (test_query_int (db, "SELECT sum(length(v)) FROM t"), ==, sum);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"),
                   ==, 1);
}

/* A damaged frame that the checkpoint would not even copy (an older
 * version of a page) still stops it before the database file changes. */
static void
test_checkpoint_damaged_old_frame (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *wal_path = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(HearthStore) store = NULL;
  HearthVfsStats s0, s1;
  guint n_frames, superseded, copied;
  char *msg = NULL;
  int rc;

  store = store_three_rounds ("ckpt-damaged-old", &dir, &n_frames, &superseded, &copied);
  wal_path = g_build_filename (dir, "hearth.db-wal", NULL);
  db_path = g_build_filename (dir, "hearth.db", NULL);
  test_flip_byte (wal_path, 32 + (goffset) superseded * (24 + P) + 24 + 1000);
  before = test_file_sha256 (db_path);
  test_log_reset ();
  hearth_vfs_get_stats (&s0);
  rc = sqlite3_exec (hearth_store_get_db (store), "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, &msg);
  hearth_vfs_get_stats (&s1);
  sqlite3_free (msg);
  g_assert_cmpint (rc & 0xff, ==, SQLITE_CORRUPT);
  g_assert_cmpuint (s1.auth_failures - s0.auth_failures, ==, 1);
  g_assert_cmpuint (s1.pages_passed_through - s0.pages_passed_through, ==, 0);
  g_assert_true (test_log_contains ("the checkpoint is refused before it writes anything"));
  after = test_file_sha256 (db_path);
  g_assert_cmpstr (before, ==, after);
}

/* A table of 320 rows of 3,000 bytes, a page each, written with the
 * WAL's autocheckpoint off after an empty log: one frame a row. Returns
 * the WAL's page numbers, frame by frame. */
static GArray *
wal_of_320_frames (sqlite3 *db, const char *wal_path)
{
  test_exec (db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);"
                 "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA wal_autocheckpoint=0");
  test_exec (db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 320) "
                 "INSERT INTO t SELECT i, randomblob (3000) FROM n");
  return wal_pgnos (wal_path);
}

/* A checkpoint of @db refused as damage (SQLITE_CORRUPT) before the
 * database file changed, the log naming @where, @authenticated frames
 * authenticated and @failures failures counted on the way. */
static void
assert_checkpoint_refused (sqlite3 *db, const char *db_path, const char *where, guint authenticated, guint failures)
{
  g_autofree char *before = test_file_sha256 (db_path);
  g_autofree char *after = NULL;
  HearthVfsStats s0, s1;
  char *msg = NULL;
  int rc;

  test_log_reset ();
  hearth_vfs_get_stats (&s0);
  rc = sqlite3_exec (db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, &msg);
  hearth_vfs_get_stats (&s1);
  sqlite3_free (msg);
  g_assert_cmpint (rc & 0xff, ==, SQLITE_CORRUPT);
  g_assert_cmpuint (s1.auth_failures - s0.auth_failures, ==, failures);
  g_assert_cmpuint (s1.pages_authenticated - s0.pages_authenticated, ==, authenticated);
  g_assert_cmpuint (s1.pages_passed_through - s0.pages_passed_through, ==, 0);
  g_assert_true (test_log_contains (where));
  after = test_file_sha256 (db_path);
  g_assert_cmpstr (before, ==, after);
}

/* A log of some 300 frames (more than are read at once, 256, and each
 * 256's second half authenticated on a thread of its own) with frames
 * damaged in the first 256's first half, its second half and the next
 * 256, the first of them left whole in each round after the first: the
 * checkpoint stops before the database file changes, at the first frame
 * damaged, and counts as a check one by one would (the frames before it
 * authenticated, one failure). */
static void
test_checkpoint_damaged_far_frames (void)
{
  const guint frames[] = { 100, 200, 280 };

  for (guint from = 0; from < G_N_ELEMENTS (frames); from++)
    {
      g_autofree char *name = g_strdup_printf ("ckpt-far-%u", from);
      g_autofree char *dir = test_create_store (name, NULL);
      g_autofree char *wal_path = g_build_filename (dir, "hearth.db-wal", NULL);
      g_autofree char *db_path = g_build_filename (dir, "hearth.db", NULL);
      g_autofree char *where = NULL;
      g_autoptr(HearthStore) store = test_open_store (dir);
      g_autoptr(GArray) pgnos = NULL;
      sqlite3 *db = hearth_store_get_db (store);

      pgnos = wal_of_320_frames (db, wal_path);
      g_assert_cmpuint (pgnos->len, >, frames[G_N_ELEMENTS (frames) - 1]);
      for (guint i = from; i < G_N_ELEMENTS (frames); i++)
        test_flip_byte (wal_path, 32 + (goffset) frames[i] * (24 + P) + 24 + 1000);
      where = g_strdup_printf ("page %u (frame at offset %" G_GINT64_FORMAT "): authentication failed",
                               g_array_index (pgnos, guint32, frames[from]),
                               (gint64) (32 + (goffset) frames[from] * (24 + P)));
      assert_checkpoint_refused (db, db_path, where, frames[from], 1);
    }
}

/* A log cut short inside the frames read at once (256), after the first
 * of them (frame 300 whole, 301 cut inside its page): the frames before
 * the cut are authenticated one by one, the first frame missing is named,
 * and the checkpoint stops before the database file changes. */
static void
test_checkpoint_wal_cut_mid_chunk (void)
{
  g_autofree char *dir = test_create_store ("ckpt-cut-mid", NULL);
  g_autofree char *wal_path = g_build_filename (dir, "hearth.db-wal", NULL);
  g_autofree char *db_path = g_build_filename (dir, "hearth.db", NULL);
  g_autofree char *where = NULL;
  g_autoptr(HearthStore) store = test_open_store (dir);
  g_autoptr(GArray) pgnos = NULL;
  sqlite3 *db = hearth_store_get_db (store);
  const guint cut = 300;

  pgnos = wal_of_320_frames (db, wal_path);
  g_assert_cmpuint (pgnos->len, >, cut + 1);
  g_assert_cmpint (truncate (wal_path, 32 + (goffset) cut * (24 + P) + 24 + 100), ==, 0);
  where = g_strdup_printf ("frame %u (offset %" G_GINT64_FORMAT ") is missing or cut short", cut + 1,
                           (gint64) (32 + (goffset) cut * (24 + P)));
  assert_checkpoint_refused (db, db_path, where, cut, 0);
}

/* ---- WAL frames held back and encrypted together (wal_hold()) ---------- */

#define WAL_FRAME (24 + P)

/* The database of a held-frames test in @dir (raw connections). */
static char *
held_db_path (const char *dir)
{
  return g_build_filename (dir, "held.db", NULL);
}

/* Copies what is on the disk now of @path and its WAL, as a power cut
 * would find it at best, to @to (and its -wal). */
static void
copy_as_on_disk (const char *path, const char *to)
{
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *to_wal = g_strconcat (to, "-wal", NULL);
  g_autofree char *data = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_true (g_file_set_contents (to, data, len, NULL));
  g_clear_pointer (&data, g_free);
  if (g_file_get_contents (wal, &data, &len, NULL))
    g_assert_true (g_file_set_contents (to_wal, data, len, NULL));
}

static gint64
wal_frames_on_disk (const char *path)
{
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  GStatBuf st;

  if (g_stat (wal, &st) != 0 || st.st_size < 32)
    return 0;
  return (st.st_size - 32) / WAL_FRAME;
}

/* A commit's frames are encrypted in runs of up to 256 and written whole,
 * each frame exactly once: the commit of some 1,000 pages takes
 * ceil(frames / 256) writes of runs, and every frame reads back after the
 * commit through another connection and a checkpoint. */
static void
test_wal_commit_frames_together (void)
{
  g_autofree char *dir = test_make_dir ("wal-together");
  g_autofree char *path = held_db_path (dir);
  g_autoptr(HearthPageKey) key = random_key ();
  HearthVfsStats s0, s1;
  sqlite3 *db, *other;
  gint64 frames;

  db = test_open_raw (path, key, "WAL", TRUE, NULL);
  test_exec (db, "PRAGMA cache_size=-40000; PRAGMA wal_autocheckpoint=0;"
                 "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)");
  g_assert_cmpint (wal_frames_on_disk (path), <, 10);
  test_exec (db, "PRAGMA wal_checkpoint(TRUNCATE)");
  hearth_vfs_get_stats (&s0);
  test_exec (db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
                 "INSERT INTO t SELECT i, randomblob(3000) FROM n");
  hearth_vfs_get_stats (&s1);
  frames = wal_frames_on_disk (path);
  g_assert_cmpint (frames, >, 1000);
  g_assert_cmpuint (s1.pages_encrypted - s0.pages_encrypted, ==, (guint64) frames);
  g_assert_cmpuint (s1.wal_frame_runs - s0.wal_frame_runs, ==, (guint64) (frames + 255) / 256);

  other = test_open_raw (path, key, NULL, TRUE, NULL);
  g_assert_cmpint (test_query_int (other, "SELECT count(*) FROM t WHERE length(v) = 3000"), ==, 1000);
  test_exec (other, "PRAGMA wal_checkpoint(TRUNCATE)");
  g_assert_cmpint (test_query_int (other, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"),
                   ==, 1);
  sqlite3_close (other);
  sqlite3_close (db);
}

/* A transaction bigger than the page cache spills frames into the WAL
 * before it commits; those held back are read back by the same
 * transaction (and never seen by another connection before the commit);
 * after the commit they are on the disk, so a copy of the files as they
 * are then (a power cut just after the commit) holds every row, and a
 * copy taken mid-transaction (a power cut between the spill and the
 * commit's sync) holds the last commit and nothing of the one cut. */
static void
test_wal_held_frames_read_and_crash (void)
{
  g_autofree char *dir = test_make_dir ("wal-held");
  g_autofree char *path = held_db_path (dir);
  g_autofree char *mid = g_build_filename (dir, "mid.db", NULL);
  g_autofree char *after = g_build_filename (dir, "after.db", NULL);
  g_autoptr(HearthPageKey) key = random_key ();
  HearthVfsStats s0, s1;
  sqlite3 *db, *other;

  db = test_open_raw (path, key, "WAL", TRUE, NULL);
  test_exec (db, "PRAGMA wal_autocheckpoint=0; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);"
                 "INSERT INTO t VALUES (0, zeroblob(10))");
  other = test_open_raw (path, key, NULL, TRUE, NULL);
  test_exec (db, "PRAGMA cache_size=20; BEGIN");
  hearth_vfs_get_stats (&s0);
  test_exec (db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) "
                 "INSERT INTO t SELECT i, randomblob(2000 + i) FROM n");
  hearth_vfs_get_stats (&s1);
  /* It spilled: some frames are written, the last ones held back. */
  g_assert_cmpuint (s1.pages_encrypted - s0.pages_encrypted, >, 0);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM t WHERE length(v) = 2000 + id"), ==, 300);
  g_assert_cmpint (test_query_int (db, "SELECT sum(length(v)) FROM t"), ==, 10 + 300 * 2000 + 300 * 301 / 2);
  g_assert_cmpint (test_query_int (other, "SELECT count(*) FROM t"), ==, 1);

  copy_as_on_disk (path, mid);
  test_exec (db, "INSERT INTO t VALUES (1000, randomblob(10)); COMMIT");
  copy_as_on_disk (path, after);
  g_assert_cmpint (test_query_int (other, "SELECT count(*) FROM t"), ==, 302);
  sqlite3_close (other);

  for (int i = 0; i < 2; i++)
    {
      sqlite3 *copy = test_open_raw (i == 0 ? mid : after, key, NULL, TRUE, NULL);

      g_assert_cmpint (test_query_int (copy, "SELECT count(*) FROM pragma_integrity_check "
                                             "WHERE integrity_check = 'ok'"), ==, 1);
      g_assert_cmpint (test_query_int (copy, "SELECT count(*) FROM t"), ==, i == 0 ? 1 : 302);
      if (i == 1)
        g_assert_cmpint (test_query_int (copy, "SELECT count(*) FROM t WHERE length(v) = 2000 + id"), ==, 300);
      sqlite3_close (copy);
    }
  sqlite3_close (db);
}

/* A transaction that spilled frames and rolled back leaves them to be
 * overwritten by the next writer: frames it held back are written before
 * its write lock goes, never later over another connection's commit. */
static void
test_wal_held_frames_rollback (void)
{
  g_autofree char *dir = test_make_dir ("wal-held-rollback");
  g_autofree char *path = held_db_path (dir);
  g_autoptr(HearthPageKey) key = random_key ();
  sqlite3 *a, *b, *c;

  a = test_open_raw (path, key, "WAL", TRUE, NULL);
  test_exec (a, "PRAGMA wal_autocheckpoint=0; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)");
  b = test_open_raw (path, key, NULL, TRUE, NULL);
  test_exec (b, "PRAGMA wal_autocheckpoint=0");
  /* Every page the rollback reads again then comes from the database
   * file: no read of the WAL writes the held frames on the way. */
  test_exec (a, "PRAGMA wal_checkpoint(TRUNCATE)");
  test_exec (a, "PRAGMA cache_size=10; BEGIN;"
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) "
                "INSERT INTO t SELECT i, randomblob(3000) FROM n; ROLLBACK");
  test_exec (b, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60) "
                "INSERT INTO t SELECT i, zeroblob(2500) FROM n");
  sqlite3_close (a);
  sqlite3_close (b);

  c = test_open_raw (path, key, NULL, TRUE, NULL);
  g_assert_cmpint (test_query_int (c, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"),
                   ==, 1);
  g_assert_cmpint (test_query_int (c, "SELECT count(*) FROM t WHERE v = zeroblob(2500)"), ==, 60);
  sqlite3_close (c);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/store/vfs/reserve-required", test_reserve_required);
  g_test_add_func ("/store/vfs/page-size", test_page_size);
  g_test_add_func ("/store/vfs/partial-writes-refused", test_partial_writes_refused);
  g_test_add_func ("/store/vfs/reads-match-plaintext-twin", test_reads_match_plaintext_twin);
  g_test_add_func ("/store/vfs/tamper", test_tamper);
  g_test_add_func ("/store/vfs/checkpoint-damaged-far-frames", test_checkpoint_damaged_far_frames);
  g_test_add_func ("/store/vfs/checkpoint-wal-cut-mid-chunk", test_checkpoint_wal_cut_mid_chunk);
  g_test_add_func ("/store/vfs/foreign-page-same-key", test_foreign_page_same_key);
  g_test_add_func ("/store/vfs/page1-damage", test_page1_damage);
  g_test_add_func ("/store/vfs/truncate", test_truncate);
  g_test_add_func ("/store/vfs/temp-files", test_temp_files);
  g_test_add_func ("/store/vfs/mmap-and-fresh-nonces", test_mmap_and_fresh_nonces);
  g_test_add_func ("/store/vfs/no-key-refused", test_no_key_refused);
  g_test_add_func ("/store/vfs/checkpoint-one-pass", test_checkpoint_one_pass);
  g_test_add_func ("/store/vfs/checkpoint-damaged-old-frame", test_checkpoint_damaged_old_frame);
  g_test_add_func ("/store/vfs/wal-commit-frames-together", test_wal_commit_frames_together);
  g_test_add_func ("/store/vfs/wal-held-frames-read-and-crash", test_wal_held_frames_read_and_crash);
  g_test_add_func ("/store/vfs/wal-held-frames-rollback", test_wal_held_frames_rollback);
  return g_test_run ();
}

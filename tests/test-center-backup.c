/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-center-backup.c: `hearth-center backup --out FILE` (center-store.h,
 * hearth_center_store_backup), with a real center serving real tablets:
 *
 *   /center/backup: a backup taken while a tablet pushes a large import is
 *     a store of its own that holds everything acknowledged before it
 *     started; a backup of a quiet center exports, table by table, like
 *     the center; a backup never overwrites a file; restored in place of
 *     the store (the server stopped), the center serves again and the
 *     tablets sync on.
 *   /center/vacuum: `hearth-center vacuum` (center-vacuum.h) refuses a
 *     store a center serves or another process reads, changing nothing;
 *     alone, it rewrites a store of 4 KiB pages in 8 KiB ones, every row
 *     kept (its export byte for byte), and the center serves it again.
 */
#include "test-center-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COUNTY "150422"

static void
export_to (Center *c, const char *db, const char *out)
{
  g_auto(TestRun) r = { 0 };

  run_center (&r, "--db", db, "export", "--scope", COUNTY, "--since", "2000-01-01", "--format", "csv", "--out", out,
              NULL);
  g_assert_cmpint (r.status, ==, 0);
}

static gboolean
same_file (const char *a, const char *b)
{
  g_autofree char *da = NULL, *db = NULL;
  gsize la = 0, lb = 0;

  g_assert_true (g_file_get_contents (a, &da, &la, NULL));
  g_assert_true (g_file_get_contents (b, &db, &lb, NULL));
  return la == lb && memcmp (da, db, la) == 0;
}

static void
test_backup (void)
{
  g_autoptr(Center) c = center_init ("backup-center", COUNTY);
  g_autofree char *dir = test_make_dir ("backup");
  g_autofree char *small = NULL, *large = NULL;
  g_autofree char *backup = g_build_filename (dir, "center-backup.db", NULL);
  g_autofree char *backup_db = g_strconcat ("sqlite:", backup, NULL);
  g_autofree char *quiet = g_build_filename (dir, "quiet.db", NULL);
  g_autofree char *from_center = g_build_filename (dir, "export-center", NULL);
  g_autofree char *from_backup = g_build_filename (dir, "export-backup", NULL);
  g_autofree char *wal = g_strconcat (c->db_path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (c->db_path, "-shm", NULL);
  g_autofree char *text = NULL;
  g_auto(TestTablet) a = { 0 };
  g_auto(TestTablet) b = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autoptr(GSubprocess) push = NULL;
  g_autoptr(GError) error = NULL;
  gint64 before, households_a;

  test_registries (dir, COUNTY, 7, 40, 400, &small, &large);
  center_add_user (c, "w.a", "worker", COUNTY);
  center_add_user (c, "w.b", "worker", COUNTY);
  center_start (c);
  test_tablet_enrol (&a, "backup-a", c, "w.a");
  test_tablet_enrol (&b, "backup-b", c, "w.b");
  test_tablet_cli (&r, &a, "household", "import", small, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  before = center_db_int (c, "SELECT count (*) FROM changes");
  households_a = test_tablet_int (&a, "SELECT count (*) FROM households");

  /* B pushes a large import while the backup runs. */
  test_tablet_cli (&r, &b, "household", "import", large, NULL);
  g_assert_cmpint (r.status, ==, 0);
  {
    const char *argv[] = { g_getenv ("HEARTH_CLI"), "--data-dir", b.dir, "--passphrase-file", b.pass, "sync", NULL };

    push = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
    g_assert_no_error (error);
  }
  g_usleep (300 * 1000);
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "backup", "--out", backup, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_subprocess_wait_check (push, NULL, &error));
  g_assert_no_error (error);

  /* A store of its own, with everything acknowledged before it began,
   * consistent (its own integrity check passed), one file. */
  g_assert_true (g_file_test (backup, G_FILE_TEST_IS_REGULAR));
  {
    GStatBuf st;

    /* Its owner's only, whatever the umask (022 here, see main). */
    g_assert_cmpint (g_stat (backup, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  }
  {
    g_autofree char *part = g_strconcat (backup, ".part", NULL);

    g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  }
  test_run_clear (&r);
  run_center (&r, "--db", backup_db, "device", "list", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "backup-a"));
  g_assert_nonnull (strstr (r.out, "backup-b"));
  {
    Center copy = { .db_path = backup };

    g_assert_cmpint (center_db_int (&copy, "SELECT count (*) FROM changes"), >=, before);
    g_assert_cmpint (center_db_int (&copy, "SELECT count (*) FROM changes"), <=,
                     center_db_int (c, "SELECT count (*) FROM changes"));
  }

  /* Quiet now: a second backup exports exactly like the center. */
  {
    g_autofree char *quiet_db = g_strconcat ("sqlite:", quiet, NULL);
    const char *files[] = { "households.csv", "members.csv", "submissions.csv", "reviews.csv" };

    test_run_clear (&r);
    run_center (&r, "--db", c->db, "backup", "--out", quiet, NULL);
    g_assert_cmpint (r.status, ==, 0);
    export_to (c, c->db, from_center);
    export_to (c, quiet_db, from_backup);
    for (guint i = 0; i < G_N_ELEMENTS (files); i++)
      {
        g_autofree char *x = g_build_filename (from_center, files[i], NULL);
        g_autofree char *y = g_build_filename (from_backup, files[i], NULL);

        g_assert_true (same_file (x, y));
      }
  }

  /* Never over a file that exists. */
  g_assert_true (g_file_get_contents (backup, &text, NULL, NULL));
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "backup", "--out", backup, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "exists already"));
  {
    g_autofree char *again = NULL;
    gsize len = 0;

    g_assert_true (g_file_get_contents (backup, &again, &len, NULL));
    g_assert_true (memcmp (again, text, len) == 0);
  }

  /* The quiet backup restored in place of the store (the server stopped,
   * its WAL and index removed): the center serves again, the tablets sync
   * on, and a new change flows. (A backup older than the tablets' last
   * sync: test-center-restore.c.) */
  center_stop (c);
  g_unlink (wal);
  g_unlink (shm);
  g_assert_cmpint (g_rename (quiet, c->db_path), ==, 0);
  center_restart (c);
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  g_assert_cmpint (test_tablet_sync (&b), ==, 0);
  {
    g_autofree char *answers = test_source_path ("tests", "data", "answers", "visit-zh.json", NULL);
    g_autofree char *household = test_tablet_text (&a, "SELECT id FROM households ORDER BY id LIMIT 1");

    test_tablet_cli (&r, &a, "visit", "record", "--form", "hearth_household_visit", "--answers", answers,
                     "--household", household, NULL);
    g_assert_cmpint (r.status, ==, 0);
  }
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  g_assert_cmpint (test_tablet_sync (&b), ==, 0);
  g_assert_cmpint (test_tablet_int (&b, "SELECT count (*) FROM households"), ==, households_a + 400);
  g_assert_cmpint (test_tablet_int (&b, "SELECT count (*) FROM submissions"), ==, 1);
  center_stop (c);
}

/* The export's tables, byte for byte. */
static void
assert_same_export (const char *a, const char *b)
{
  const char *files[] = { "households.csv", "members.csv", "submissions.csv", "reviews.csv" };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *x = g_build_filename (a, files[i], NULL);
      g_autofree char *y = g_build_filename (b, files[i], NULL);

      g_assert_true (same_file (x, y));
    }
}

static void
test_vacuum (void)
{
  g_autoptr(Center) c = center_init ("vacuum-center", COUNTY);
  g_autofree char *dir = test_make_dir ("vacuum");
  g_autofree char *small = NULL, *large = NULL;
  g_autofree char *before = g_build_filename (dir, "export-before", NULL);
  g_autofree char *after = g_build_filename (dir, "export-after", NULL);
  g_autofree char *journal = g_strconcat (c->db_path, "-journal", NULL);
  g_autofree char *answers = test_source_path ("tests", "data", "answers", "visit-zh.json", NULL);
  g_autofree char *household = NULL;
  g_auto(TestTablet) a = { 0 };
  g_auto(TestRun) r = { 0 };
  sqlite3 *db = NULL;
  gint64 changes, submissions;

  test_registries (dir, COUNTY, 7, 40, 400, &small, &large);
  center_add_user (c, "w.a", "worker", COUNTY);
  center_start (c);
  test_tablet_enrol (&a, "vacuum-a", c, "w.a");
  test_tablet_cli (&r, &a, "household", "import", large, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  changes = center_db_int (c, "SELECT count (*) FROM changes");
  g_assert_cmpint (changes, >, 400);

  /* Served: refused, untouched. */
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "vacuum", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "stop it first"));
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, changes);
  /* Named through a symbolic link: the same store, the same lock. */
  {
    g_autofree char *link = g_build_filename (dir, "link.db", NULL);
    g_autofree char *link_db = g_strconcat ("sqlite:", link, NULL);

    g_assert_cmpint (symlink (c->db_path, link), ==, 0);
    test_run_clear (&r);
    run_center (&r, "--db", link_db, "vacuum", NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "stop it first"));
    g_assert_cmpint (unlink (link), ==, 0);
  }
  center_stop (c);

  /* A store made before 8 KiB pages (as SQLite's documentation changes a
   * page size: out of WAL mode, VACUUM). */
  g_assert_cmpint (sqlite3_open (c->db_path, &db), ==, SQLITE_OK);
  test_exec (db, "PRAGMA journal_mode = DELETE; PRAGMA page_size = 4096; VACUUM; PRAGMA journal_mode = WAL");
  sqlite3_close (db);
  g_assert_cmpint (center_db_int (c, "PRAGMA page_size"), ==, 4096);
  export_to (c, c->db, before);

  /* Another process reading it: refused, nothing changed. */
  g_assert_cmpint (sqlite3_open (c->db_path, &db), ==, SQLITE_OK);
  test_exec (db, "BEGIN; SELECT count (*) FROM changes");
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "vacuum", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "another process has the store open"));
  test_exec (db, "COMMIT");
  sqlite3_close (db);
  g_assert_cmpint (center_db_int (c, "PRAGMA page_size"), ==, 4096);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, changes);
  {
    g_autofree char *mode = center_db_text (c, "PRAGMA journal_mode");

    g_assert_cmpstr (mode, ==, "wal");
  }

  /* Alone: 8 KiB pages, WAL mode, every row, no journal left. */
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "vacuum", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "pages of 4096 bytes, now 8192"));
  g_assert_cmpint (center_db_int (c, "PRAGMA page_size"), ==, 8192);
  {
    g_autofree char *mode = center_db_text (c, "PRAGMA journal_mode");
    g_autofree char *check = center_db_text (c, "PRAGMA integrity_check");

    g_assert_cmpstr (mode, ==, "wal");
    g_assert_cmpstr (check, ==, "ok");
  }
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, changes);
  export_to (c, c->db, after);
  assert_same_export (before, after);

  /* Served again: a tablet's new visit flows in after the old cursor. */
  center_restart (c);
  household = test_tablet_text (&a, "SELECT id FROM households ORDER BY id LIMIT 1");
  test_tablet_cli (&r, &a, "visit", "record", "--form", "hearth_household_visit", "--answers", answers, "--household",
                   household, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  submissions = center_db_int (c, "SELECT count (*) FROM changes WHERE tbl = 'submissions'");
  g_assert_cmpint (submissions, ==, 1);
  g_assert_cmpint (center_db_int (c, "SELECT min (cursor) FROM changes WHERE tbl = 'submissions'"), >, changes);
  center_stop (c);

  /* Another program's database named by mistake: refused, untouched (not
   * migrated into a center store, nor rewritten). */
  {
    g_autofree char *foreign = g_build_filename (dir, "other-program.db", NULL);
    g_autofree char *foreign_db = g_strconcat ("sqlite:", foreign, NULL);

    g_assert_cmpint (sqlite3_open (foreign, &db), ==, SQLITE_OK);
    test_exec (db, "PRAGMA page_size = 4096; CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('kept')");
    sqlite3_close (db);
    test_run_clear (&r);
    run_center (&r, "--db", foreign_db, "vacuum", NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "another program's database"));
    g_assert_cmpint (sqlite3_open (foreign, &db), ==, SQLITE_OK);
    g_assert_cmpint (test_query_int (db, "SELECT count (*) FROM sqlite_schema"), ==, 1);
    g_assert_cmpint (test_query_int (db, "PRAGMA page_size"), ==, 4096);
    g_assert_cmpint (test_query_int (db, "SELECT journal_mode = 'delete' FROM pragma_journal_mode"), ==, 1);
    sqlite3_close (db);
  }
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_assert_nonnull (g_getenv ("HEARTH_CENTER"));
  /* The umask of a shell that leaves files readable by all: the backup
   * must not be. */
  umask (022);
  g_test_add_func ("/center/backup", test_backup);
  g_test_add_func ("/center/vacuum", test_vacuum);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-case-crash.c: a writer recording visits is killed with SIGKILL at
 * random moments, 200 times. After every kill the store opens, passes its
 * integrity check and audit verification, and each recorded visit is
 * whole: exactly one follow-up task opened by each submission, the
 * household's risk set by a recorded submission, and no task or audit
 * entry without its submission.
 */
#include "test-util.h"
#include "case-audit.h"
#include "case-store.h"
#include "form-model.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A sanitizer build runs the writer several times slower: kill later, or
 * hardly a visit gets through and the test proves nothing. */
#if defined(__SANITIZE_ADDRESS__)
#define KILL_AFTER_MAX_US 200000
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KILL_AFTER_MAX_US 200000
#endif
#endif
#ifndef KILL_AFTER_MAX_US
#define KILL_AFTER_MAX_US 25000
#endif

#define KILLS 200
#define VISITS 5000
#define NOW "2026-03-05T10:00:00+08:00"

/* The visit again under another instanceID. */
static char *
visit_copy (const char *xml, guint n)
{
  g_autoptr(GString) s = g_string_new (xml);
  g_autofree char *id = g_strdup_printf ("uuid:11111111-2222-4333-8444-%012u", n);

  g_string_replace (s, "uuid:11111111-2222-4333-8444-000000000000", id, 1);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* The child: records visits from @first on until killed. */
static void G_GNUC_NORETURN
writer (const char *dir, const char *household, const char *visit_xml, guint first)
{
  g_autoptr(HearthStore) store = NULL;

  /* A forked child shares GLib's random state with its parent: reseed, or
   * every child would make the same record ids. */
  g_random_set_seed ((guint32) getpid () ^ (guint32) g_get_monotonic_time ());
  store = test_open_store (dir);
  {
  g_autoptr(HearthCaseStore) cases = hearth_case_store_new (store, "worker-1", NULL);
  g_autoptr(HearthForm) visit = test_load_bundled_form ("household-visit.xml");

  for (guint n = first; n < VISITS; n++)
    {
      g_autofree char *xml = visit_copy (visit_xml, n);
      g_autoptr(GError) error = NULL;
      g_autofree char *id = hearth_case_record_submission (cases, visit, xml, household, &error);
      if (id == NULL)
        {
          g_printerr ("visit %u: %s\n", n, error->message);
          _exit (3);
        }
    }
  }
  _exit (0);
}

static void
check_whole (const char *dir, guint *recorded)
{
  g_autoptr(HearthStore) store = test_open_store (dir);
  g_autoptr(GError) error = NULL;
  sqlite3 *db = hearth_store_get_db (store);

  g_assert_true (hearth_store_check (store, &error));
  g_assert_no_error (error);
  g_assert_true (hearth_audit_verify (db, NULL, &error));
  g_assert_no_error (error);
  /* One follow-up task per submission, none without one. */
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM submissions s WHERE (SELECT count(*) FROM tasks t "
                                       "WHERE t.opened_by = s.id) != 1"), ==, 0);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM submissions s "
                                       "WHERE s.id = t.opened_by)"), ==, 0);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM tasks WHERE status = 'open'"), ==, 1);
  /* Each submission has its one audit entry (everything its recording
   * wrote), and nothing else was audited. */
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log WHERE record_table = 'submissions' "
                                       "AND record_id IN (SELECT id FROM submissions)"), ==,
                   test_query_int (db, "SELECT count(*) FROM submissions"));
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log"), ==,
                   test_query_int (db, "SELECT count(*) FROM submissions"));
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM households h WHERE h.risk_submission IS NOT NULL AND "
                                       "NOT EXISTS (SELECT 1 FROM submissions s WHERE s.id = h.risk_submission)"), ==, 0);
  *recorded = (guint) test_query_int (db, "SELECT count(*) FROM submissions") - 1;  /* minus the registration */
}

static void
test_kill_while_recording (void)
{
  g_autofree char *dir = test_create_store ("case-crash", NULL);
  g_autofree char *household = NULL;
  g_autofree char *visit_xml = test_fill_bundled ("household-visit.xml", "visit-zh.json", NOW, "11111111-2222-4333-8444-000000000000");
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261129);
  guint recorded = 0, kills = 0, barren = 0;
  /* On a loaded box a writer may not get past opening the store within
   * the usual window: a run of kills that recorded nothing widens it, or
   * the test would prove nothing about a visit killed mid-write. */
  gulong kill_after_max = KILL_AFTER_MAX_US;

  {
    g_autoptr(HearthStore) store = test_open_store (dir);
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthCaseStore) cases = hearth_case_store_new (store, "worker-1", &error);
    g_autoptr(HearthForm) registration = test_load_bundled_form ("household-registration.xml");
    g_autofree char *reg = test_fill_bundled ("household-registration.xml", "registration-zh.json", NOW,
                                 "11111111-2222-4333-8444-ffffffffffff");
    g_autofree char *id = hearth_case_record_submission (cases, registration, reg, NULL, &error);
    sqlite3_stmt *st = NULL;

    g_assert_no_error (error);
    g_assert_cmpint (sqlite3_prepare_v2 (hearth_store_get_db (store), "SELECT id FROM households", -1, &st, NULL),
                     ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
    household = g_strdup ((const char *) sqlite3_column_text (st, 0));
    sqlite3_finalize (st);
  }

  while (kills < KILLS && recorded < VISITS - 1)
    {
      int status = 0;
      pid_t pid = fork ();

      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        writer (dir, household, visit_xml, recorded + 1);
      guint before = recorded;

      g_usleep ((gulong) g_rand_int_range (rand, 1000, (gint32) kill_after_max));
      kill (pid, SIGKILL);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFSIGNALED (status) || (WIFEXITED (status) && WEXITSTATUS (status) == 0));
      kills++;
      check_whole (dir, &recorded);
      barren = recorded > before ? 0 : barren + 1;
      if (barren >= 10 && kill_after_max < 8 * KILL_AFTER_MAX_US)
        {
          kill_after_max *= 2;
          barren = 0;
        }
    }
  g_test_message ("%u kills, %u visits recorded whole (kills within %lu us)", kills, recorded, kill_after_max);
  g_assert_cmpuint (kills, ==, KILLS);
  g_assert_cmpuint (recorded, >, 0);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/case/crash/kill-while-recording", test_kill_while_recording);
  return g_test_run ();
}

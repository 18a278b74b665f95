/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-center-duplicate.c: two tablets register households under the same
 * county registry number (户编号) with different ids, offline
 * (sync/PROTOCOL.md section 7.2), with a real center and hearth-cli:
 *
 *   /center/duplicate-registry: both import the same registry file. The
 *     first to sync keeps the numbers; the second's number edits are
 *     refused with code `duplicate` and a reason naming the number and the
 *     household that holds it, which its worker sees; every other field of
 *     its households is stored. Nothing is dropped: the center and both
 *     tablets hold all four households (two without a number), no tablet
 *     has a change it could not apply, and the refused numbers are taken
 *     back on the second tablet so that it holds what the center holds.
 */
#include "test-center-util.h"

#include <string.h>

#define COUNTY "150422"

static void
test_duplicate_registry (void)
{
  g_autoptr(Center) c = center_init ("duplicate-center", COUNTY);
  g_autofree char *registry = NULL;
  g_autofree char *message = NULL, *number = NULL, *holder = NULL, *other = NULL;
  g_auto(TestTablet) a = { 0 };
  g_auto(TestTablet) b = { 0 };
  g_auto(TestRun) r = { 0 };

  center_add_user (c, "w.a", "worker", COUNTY);
  center_add_user (c, "w.b", "worker", COUNTY);
  center_start (c);
  test_tablet_enrol (&a, "duplicate-a", c, "w.a");
  test_tablet_enrol (&b, "duplicate-b", c, "w.b");
  registry = test_registry ("duplicate", COUNTY, 2, 9);
  test_tablet_cli (&r, &a, "household", "import", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  test_tablet_cli (&r, &b, "household", "import", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (test_tablet_int (&a, "SELECT count (*) FROM households h JOIN households g "
                                        "ON h.registry_no = g.registry_no"), ==, 2);

  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  g_assert_cmpint (test_tablet_sync (&b), ==, 0);
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);

  /* The center keeps all four households; the numbers stay A's. */
  g_assert_cmpint (center_db_int (c, "SELECT count (DISTINCT record_id) FROM field_state WHERE tbl = 'households'"),
                   ==, 4);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM field_state WHERE tbl = 'households' "
                                     "AND field = 'registry_no'"), ==, 2);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM push_outcomes WHERE code = 'duplicate'"), ==, 2);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM push_outcomes WHERE code IS NOT NULL "
                                     "AND code != 'duplicate'"), ==, 0);

  /* B's worker is told, with the number and the household holding it. */
  g_assert_cmpint (test_tablet_int (&b, "SELECT count (*) FROM sync_refused WHERE code = 'duplicate'"), ==, 2);
  message = test_tablet_text (&b, "SELECT message FROM sync_refused ORDER BY seq LIMIT 1");
  number = test_tablet_text (&a, "SELECT registry_no FROM households WHERE registry_no IS NOT NULL "
                                 "ORDER BY registry_no LIMIT 1");
  holder = test_tablet_text (&a, "SELECT id FROM households WHERE registry_no IS NOT NULL ORDER BY registry_no LIMIT 1");
  other = test_tablet_text (&a, "SELECT id FROM households WHERE registry_no IS NOT NULL ORDER BY registry_no "
                                "LIMIT 1 OFFSET 1");
  g_assert_nonnull (strstr (message, "registry number"));
  g_assert_true (strstr (message, holder) != NULL || strstr (message, other) != NULL);
  test_run_clear (&r);
  test_tablet_cli (&r, &b, "sync", "--status", NULL);
  g_assert_nonnull (strstr (r.out, "refused 2 changes"));

  /* Both tablets hold all four, none skipped; the numbers are A's on
   * both, as at the center. */
  g_assert_cmpint (test_tablet_int (&a, "SELECT count (*) FROM households"), ==, 4);
  g_assert_cmpint (test_tablet_int (&b, "SELECT count (*) FROM households"), ==, 4);
  g_assert_cmpint (test_tablet_int (&a, "SELECT count (*) FROM sync_apply_errors"), ==, 0);
  g_assert_cmpint (test_tablet_int (&b, "SELECT count (*) FROM sync_apply_errors"), ==, 0);
  g_assert_cmpint (test_tablet_int (&b, "SELECT count (*) FROM households WHERE registry_no IS NOT NULL"), ==, 2);
  g_assert_cmpint (test_tablet_int (&a, "SELECT count (*) FROM households WHERE registry_no IS NOT NULL"), ==, 2);
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM households WHERE registry_no = '%s' AND id = '%s'",
                                            number, holder);

    g_assert_cmpint (test_tablet_int (&b, sql), ==, 1);
  }
  /* The members of B's households reached everyone too. */
  g_assert_cmpint (test_tablet_int (&a, "SELECT count (*) FROM members"), ==,
                   test_tablet_int (&b, "SELECT count (*) FROM members"));
  center_stop (c);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_assert_nonnull (g_getenv ("HEARTH_CENTER"));
  g_test_add_func ("/center/duplicate-registry", test_duplicate_registry);
  return g_test_run ();
}

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

#include <json-glib/json-glib.h>
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
  /* Which, and why: each refused number under its household as B's
   * worker knows it (its head; its number is gone), the field by its
   * label, the center's reason and when; in --json the same. */
  {
    g_autofree char *heads = test_tablet_text (&b, "SELECT group_concat (head_name, char (10)) FROM (SELECT "
                                                   "head_name FROM households WHERE registry_no IS NULL "
                                                   "ORDER BY head_name)");
    g_auto(GStrv) names = g_strsplit (heads, "\n", -1);
    g_autofree char *messages = test_tablet_text (&b, "SELECT group_concat (message, char (10)) FROM sync_refused");
    g_auto(GStrv) reasons = g_strsplit (messages, "\n", -1);
    g_autoptr(JsonParser) parser = json_parser_new ();
    g_autoptr(GError) error = NULL;
    JsonArray *list;

    g_assert_cmpuint (g_strv_length (names), ==, 2);
    g_assert_nonnull (strstr (r.out, "Changes the center refused, newest first"));
    for (guint i = 0; i < 2; i++)
      {
        g_autofree char *line = g_strdup_printf ("\n- %s: Registry number\n", names[i]);
        /* The center's reason, the household's own id written as its
         * head's name (the holder's id stays: another household). */
        g_auto(GStrv) parts = g_strsplit (reasons[i], ": household ", 2);
        const char *number_at = strstr (parts[0], "registry number ");
        g_autofree char *own = NULL;

        g_assert_nonnull (strstr (r.out, line));
        g_assert_cmpuint (g_strv_length (parts), ==, 2);
        g_assert_nonnull (number_at);
        g_assert_nonnull (strstr (r.out, number_at));
        own = g_strndup (parts[1], strcspn (parts[1], " "));
        g_assert_null (strstr (r.out, own));
      }
    for (guint i = 0; i < 2; i++)
      {
        g_autofree char *named = g_strdup_printf (": household %s keeps no registry number", names[i]);

        g_assert_nonnull (strstr (r.out, named));
      }
    test_tablet_cli (&r, &b, "--json", "sync", "--status", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_true (json_parser_load_from_data (parser, r.out, -1, &error));
    g_assert_no_error (error);
    list = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "refused_changes");
    g_assert_cmpuint (json_array_get_length (list), ==, 2);
    for (guint i = 0; i < 2; i++)
      {
        JsonObject *o = json_array_get_object_element (list, i);
        JsonArray *fields = json_object_get_array_member (o, "fields");

        g_assert_cmpstr (json_object_get_string_member (o, "code"), ==, "duplicate");
        g_assert_cmpstr (json_object_get_string_member (o, "table"), ==, "households");
        g_assert_true (g_strv_contains ((const char *const *) names, json_object_get_string_member (o, "head_name")));
        g_assert_true (json_object_get_null_member (o, "registry_no"));
        g_assert_cmpuint (json_array_get_length (fields), ==, 1);
        g_assert_cmpstr (json_array_get_string_element (fields, 0), ==, "registry_no");
      }
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (list, 0), "seq"), >,
                     json_object_get_int_member (json_array_get_object_element (list, 1), "seq"));
  }
  /* In Chinese too. */
  {
    const char *const env[] = { "LANGUAGE", "zh_CN", NULL };
    const char *const args[] = { "--data-dir", b.dir, "--passphrase-file", b.pass, "sync", "--status", NULL };

    test_run_clear (&r);
    test_run_cliv (&r, env, args);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "中心拒收的修改"));
    g_assert_nonnull (strstr (r.out, "：户编号\n"));
    /* What the refusal means, in the tablet's language, whatever the
     * center's. */
    g_assert_nonnull (strstr (r.out, "  原因：已有其他农户使用这个户编号"));
    g_assert_nonnull (strstr (r.out, "  县中心的原话："));
  }

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

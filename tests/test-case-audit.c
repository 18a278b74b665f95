/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-case-audit.c: the audit log's hash chain in a real encrypted store:
 * a whole log verifies, through the library and `hearth-cli audit verify`;
 * an edited, removed, reordered or truncated entry is found and named
 * (exit 4); entries with a multi-line field are refused.
 */
#include "test-util.h"
#include "case-audit.h"

#include <string.h>

#define ENTRIES 20

/* A store whose log holds ENTRIES entries, closed; returns its folder. */
static char *
store_with_log (const char *name)
{
  char *dir = test_create_store (name, NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);

  test_exec (db, "BEGIN");
  for (guint i = 1; i <= ENTRIES; i++)
    {
      g_autofree char *record = g_strdup_printf ("00000000-0000-4000-8000-%012u", i);
      HearthAuditEntry e = { .actor = "worker-1", .device_id = "tablet-a",
                             .action = i == 1 ? "create" : "update", .record_table = "households",
                             .record_id = record, .fields = "risk_level next_visit_date" };
      g_autoptr(GError) error = NULL;
      gint64 seq = 0;

      g_assert_true (hearth_audit_append (db, &e, &seq, &error));
      g_assert_no_error (error);
      g_assert_cmpint (seq, ==, i);
    }
  test_exec (db, "COMMIT");
  return dir;
}

static char *
passphrase_file (void)
{
  g_autofree char *dir = test_make_dir ("audit-pass");
  char *path = g_build_filename (dir, "pass", NULL);

  g_assert_true (g_file_set_contents (path, TEST_PASSPHRASE "\n", -1, NULL));
  return path;
}

static void
verify_cli (const char *dir, const char *pass, int status, const char *fragment)
{
  g_auto(TestRun) r = { 0 };

  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "audit", "verify", NULL);
  g_assert_cmpint (r.status, ==, status);
  g_assert_nonnull (strstr (status == 0 ? r.out : r.err, fragment));
}

static void
test_intact (void)
{
  g_autofree char *dir = store_with_log ("audit-intact");
  g_autofree char *pass = passphrase_file ();
  g_autoptr(HearthStore) store = test_open_store (dir);
  g_autoptr(GError) error = NULL;
  gint64 checked = 0;

  g_assert_true (hearth_audit_verify (hearth_store_get_db (store), &checked, &error));
  g_assert_no_error (error);
  g_assert_cmpint (checked, ==, ENTRIES);
  g_clear_object (&store);
  verify_cli (dir, pass, 0, "20 entries");
}

/* Each tampering, on its own copy of the store, through SQL as someone
 * with the key could do it. */
static void
test_tampering (void)
{
  g_autofree char *pass = passphrase_file ();
  static const struct { const char *what, *sql, *fragment; } cases[] = {
    { "edited", "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 7", "entry 7 was changed" },
    { "edited fields", "UPDATE audit_log SET fields = 'risk_level' WHERE seq = 12", "entry 12 was changed" },
    { "removed", "DELETE FROM audit_log WHERE seq = 5", "entry 5 is missing" },
    { "reordered", "UPDATE audit_log SET seq = -3 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4;"
                   "UPDATE audit_log SET seq = 4 WHERE seq = -3", "entry 3 does not follow entry 2" },
    { "truncated", "DELETE FROM audit_log WHERE seq > 17", "18 to 20 were removed from the end" },
    { "rewritten head", "UPDATE store_meta SET value = '20 " "00" "' WHERE key = 'audit_head'", "head" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *dir = store_with_log (cases[i].what);
      g_autoptr(GError) error = NULL;

      {
        g_autoptr(HearthStore) store = test_open_store (dir);
        sqlite3 *db = hearth_store_get_db (store);

        test_exec (db, cases[i].sql);
        g_assert_false (hearth_audit_verify (db, NULL, &error));
        g_assert_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_BROKEN);
        g_test_message ("%s: %s", cases[i].what, error->message);
        g_assert_nonnull (strstr (error->message, cases[i].fragment));
      }
      verify_cli (dir, pass, 4, cases[i].fragment);
    }
}

static void
test_refused_entries (void)
{
  g_autofree char *dir = test_create_store ("audit-refused", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  g_autoptr(GError) error = NULL;
  HearthAuditEntry two_lines = { .actor = "a\nb", .device_id = "d", .action = "x", .record_table = "t",
                                 .record_id = "r" };
  HearthAuditEntry no_record = { .actor = "a", .device_id = "d", .action = "x", .record_table = "t",
                                 .record_id = "" };

  g_assert_false (hearth_audit_append (hearth_store_get_db (store), &two_lines, NULL, &error));
  g_assert_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (hearth_audit_append (hearth_store_get_db (store), &no_record, NULL, &error));
  g_assert_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_INVALID);
  g_clear_error (&error);
  /* An empty log is intact. */
  g_assert_true (hearth_audit_verify (hearth_store_get_db (store), NULL, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/case/audit/intact", test_intact);
  g_test_add_func ("/case/audit/tampering", test_tampering);
  g_test_add_func ("/case/audit/refused-entries", test_refused_entries);
  return g_test_run ();
}

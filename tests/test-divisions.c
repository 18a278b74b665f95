/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-divisions.c: the names of the county's townships and villages,
 * from `hearth-center import-divisions` to a tablet's
 * hearth_division_name() (app/case-divisions.h), with a real hearth-center
 * on 127.0.0.1 and hearth-cli:
 *
 *   /divisions/refused: files the center refuses name the line and the
 *     field (a bad header, a code outside the county or of a wrong length,
 *     a code twice, an empty or too long name, a name over two lines, a
 *     row of three fields, text that is not UTF-8), and store nothing.
 *   /divisions/sync: an import (with a BOM and CRLF) reaches a tablet by
 *     its next sync; the lookup names townships and villages and answers
 *     NULL for a code the list does not name (and `hearth-cli form list`
 *     does not list it as thresholds); a second import replaces
 *     the names (a name changed, one dropped), and the lookup of the same
 *     store sees the new list.
 *   /divisions/demo: `hearth-cli demo divisions` (what tools/run imports)
 *     writes the demo county's 3 townships and 20 villages with the
 *     county, and the center takes the file as it is.
 */
#include "test-center-util.h"
#include "case-divisions.h"
#include "store-secret.h"

#include <string.h>

#define COUNTY "150422"
#define TOWNSHIP "150422100"

static char *
write_file (const char *dir, const char *name, const char *text)
{
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

/* The published divisions records at the center. */
static gint64
n_published (Center *c)
{
  return center_db_int (c, "SELECT count (*) FROM changes WHERE tbl = 'divisions'");
}

static void
expect_refused (Center *c, const char *dir, const char *text, const char *line, const char *reason)
{
  g_autofree char *path = write_file (dir, "bad.csv", text);
  g_auto(TestRun) r = { 0 };

  run_center (&r, "--db", c->db, "import-divisions", path, NULL);
  g_assert_cmpint (r.status, ==, 1);
  if (strstr (r.err, line) == NULL || strstr (r.err, reason) == NULL)
    g_error ("expected “%s” and “%s” in: %s", line, reason, r.err);
  g_assert_cmpint (n_published (c), ==, 0);
}

static void
test_refused (void)
{
  g_autoptr(Center) c = center_init ("divisions-refused", COUNTY);
  g_autofree char *dir = test_make_dir ("divisions-refused");
  g_autoptr(GString) long_name = g_string_new ("code,name\n150422100,");

  expect_refused (c, dir, "code;name\n150422100,隆昌镇\n", "line 1", "code,name");
  expect_refused (c, dir, "code,name\n150422100,隆昌镇\n150423100,别的镇\n", "line 3: field code", "150423100");
  expect_refused (c, dir, "code,name\n1504221,隆昌镇\n", "line 2: field code", "1504221");
  expect_refused (c, dir, "code,name\n15042210020a,新立村\n", "line 2: field code", "15042210020a");
  expect_refused (c, dir, "code,name\n150422100,隆昌镇\n\n150422100,隆昌\n", "line 4: field code",
                  "named twice");
  expect_refused (c, dir, "code,name\n150422100, \n", "line 2: field name", "1 to 64");
  expect_refused (c, dir, "code,name\n150422100,\"隆昌\n镇\"\n", "line 2: field name", "one line");
  expect_refused (c, dir, "code,name\n150422100,隆昌镇,x\n", "line 2", "3 fields");
  /* break13: text after a closing quote was taken into the name unseen
   * ("隆昌"镇 published as 隆昌镇); a file saved with CR alone named line
   * 1 for every refusal. */
  expect_refused (c, dir, "code,name\n150422100,\"隆昌\"镇\n", "line 2", "text follows the closing quote");
  expect_refused (c, dir, "code,name\r150422100,隆昌镇\r150422101,新立村\r1504221,x\r", "line 4: field code",
                  "1504221");
  /* break33: a direction override was published (and reversed the name
   * on every tablet), a township written in 12 digits too. */
  expect_refused (c, dir, "code,name\n150422100,隆\u202e昌镇\n", "line 2: field name", "invisible");
  expect_refused (c, dir, "code,name\n150422100,\xef\xbb\xbf隆昌镇\n", "line 2: field name", "invisible");
  expect_refused (c, dir, "code,name\n150422100000,隆昌镇\n", "line 2: field code", "150422100000");
  expect_refused (c, dir, "code,name\n150422000,隆昌镇\n", "line 2: field code", "150422000");
  expect_refused (c, dir, "code,name\n150422000101,新立村\n", "line 2: field code", "150422000101");
  expect_refused (c, dir, "code,name\n150422100,\xff\xfe\n", "bad.csv", "UTF-8");
  expect_refused (c, dir, "code,name\n", "bad.csv", "no divisions");
  expect_refused (c, dir, "", "bad.csv", "is empty");
  for (int i = 0; i < 65; i++)
    g_string_append (long_name, "镇");
  g_string_append (long_name, "\n");
  expect_refused (c, dir, long_name->str, "line 2: field name", "1 to 64");
}

static char *
lookup (HearthStore *store, const char *code)
{
  return hearth_division_name (store, code);
}

static void
test_sync (void)
{
  g_autoptr(Center) c = center_init ("divisions-center", COUNTY);
  g_autofree char *dir = test_make_dir ("divisions-sync");
  g_autofree char *first = write_file (dir, "first.csv",
                                       "\xef\xbb\xbf" "code,name\r\n150422,巴林左旗\r\n150422100,隆昌镇\r\n"
                                       "150422100202,新立村\r\n\"150422101201\",\" 哈拉哈达村 \"\r\n");
  g_autofree char *second = write_file (dir, "second.csv", "code,name\n150422100,隆昌新镇\n150422100202,新立村\n");
  g_auto(TestTablet) t = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autoptr(HearthSecret) pass = NULL;
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *township = NULL, *village = NULL, *trimmed = NULL, *county = NULL, *unknown = NULL;
  g_autofree char *renamed = NULL, *dropped = NULL, *label = NULL;

  center_add_user (c, "w.one", "worker", TOWNSHIP);
  center_start (c);
  test_tablet_enrol (&t, "divisions-tablet", c, "w.one");

  run_center (&r, "--db", c->db, "import-divisions", first, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "the names of 4 divisions published"));
  g_assert_cmpint (n_published (c), ==, 1);
  g_assert_cmpint (test_tablet_sync (&t), ==, 0);
  g_assert_cmpint (test_tablet_int (&t, "SELECT count (*) FROM published_forms WHERE kind = 'divisions'"), ==, 1);
  /* The list is not a form, nor thresholds. */
  test_run_clear (&r);
  test_tablet_cli (&r, &t, "form", "list", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_null (strstr (r.out, "Thresholds version"));
  g_assert_null (strstr (r.out, "published"));

  pass = hearth_secret_read_passphrase_file (t.pass, NULL);
  store = hearth_store_open (t.dir, pass, &error);
  g_assert_no_error (error);
  township = lookup (store, "150422100");
  village = lookup (store, "150422100202");
  trimmed = lookup (store, "150422101201");
  county = lookup (store, COUNTY);
  unknown = lookup (store, "150422100203");
  g_assert_cmpstr (township, ==, "隆昌镇");
  g_assert_cmpstr (village, ==, "新立村");
  g_assert_cmpstr (trimmed, ==, "哈拉哈达村");
  g_assert_cmpstr (county, ==, "巴林左旗");
  g_assert_null (unknown);
  label = hearth_division_label (store, "150422100203");
  g_assert_cmpstr (label, ==, "150422100203");

  /* A second import replaces the list (a name changed, one dropped). */
  g_clear_object (&store);
  g_usleep (2000);
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "import-divisions", second, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (n_published (c), ==, 2);
  g_assert_cmpint (test_tablet_sync (&t), ==, 0);
  store = hearth_store_open (t.dir, pass, &error);
  g_assert_no_error (error);
  renamed = lookup (store, "150422100");
  dropped = lookup (store, "150422101201");
  g_assert_cmpstr (renamed, ==, "隆昌新镇");
  g_assert_null (dropped);
  g_assert_cmpint (test_tablet_int (&t, "SELECT count (*) FROM published_forms WHERE kind = 'divisions'"), ==, 2);

  /* A newer list arriving while the store is open replaces the cached one. */
  {
    sqlite3_stmt *st = NULL;
    g_autofree char *id = g_uuid_string_random ();
    g_autofree char *newest = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (hearth_store_get_db (store),
                                         "INSERT INTO published_forms (id, kind, version, xml, published_at, "
                                         "received_at) VALUES (?1, 'divisions', '9999', '<divisions county=\"150422\">"
                                         "<division code=\"150422100\" name=\"&lt;隆昌&gt;\"/></divisions>', "
                                         "'9999-01-01T00:00:00.000Z', '9999-01-01T00:00:00Z')",
                                         -1, &st, NULL),
                     ==, SQLITE_OK);
    sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
    sqlite3_finalize (st);
    newest = lookup (store, "150422100");
    g_assert_cmpstr (newest, ==, "<隆昌>");
  }
  center_stop (c);
}

static void
test_demo (void)
{
  g_autoptr(Center) c = center_init ("divisions-demo", COUNTY);
  g_autofree char *dir = test_make_dir ("divisions-demo");
  g_autofree char *path = g_build_filename (dir, "divisions.csv", NULL);
  g_autofree char *csv = NULL;
  g_autofree char *xml = NULL;
  g_auto(TestRun) r = { 0 };

  test_run_cli (&r, NULL, "demo", "divisions", "--out", path, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_file_get_contents (path, &csv, NULL, NULL));
  g_assert_true (g_str_has_prefix (csv, "\xef\xbb\xbf" "code,name\n150422,巴林左旗\n"));
  g_assert_nonnull (strstr (csv, "\n150422101,隆昌镇\n"));
  g_assert_nonnull (strstr (csv, "\n150422202203,新立村\n"));
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "import-divisions", path, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "the names of 24 divisions published"));
  xml = center_db_text (c, "SELECT hearth_fields (fields) FROM changes WHERE tbl = 'divisions'");
  g_assert_nonnull (strstr (xml, "十三敖包镇"));
  /* Not a county code: refused. */
  test_run_clear (&r);
  test_run_cli (&r, NULL, "demo", "divisions", "--county", "15042", "--out", path, NULL);
  g_assert_cmpint (r.status, ==, 1);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/divisions/refused", test_refused);
  g_test_add_func ("/divisions/sync", test_sync);
  g_test_add_func ("/divisions/demo", test_demo);
  return g_test_run ();
}

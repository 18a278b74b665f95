/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-cli.c: hearth-cli as a user runs it: the data folder and passphrase
 * sources, every exit code of ../shared/INTERFACES.md that the store
 * commands can give, and the messages in English and Simplified Chinese;
 * assistance measures from the county's approval to the follow-up visit.
 */
#include "test-util.h"
#include "store-countykey.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

static char *
write_file (const char *dir, const char *name, const char *text)
{
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
test_help (void)
{
  g_auto(TestRun) r = { 0 };
  static const char *codes[] = { "0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "6 ", "70 " };

  test_run_cli (&r, NULL, "--help", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Exit codes"));
  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    g_assert_nonnull (strstr (r.out, codes[i]));
  for (const char *cmd = "init"; cmd != NULL; cmd = NULL)
    g_assert_nonnull (strstr (r.out, cmd));
  g_assert_nonnull (strstr (r.out, "recover"));
  g_assert_nonnull (strstr (r.out, "passwd"));
  test_run_clear (&r);

  test_run_cli (&r, NULL, "no-such-command", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "no-such-command"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--no-such-option", "check", NULL);
  g_assert_cmpint (r.status, ==, 2);
  test_run_clear (&r);
  test_run_cli (&r, NULL, NULL, NULL);
  g_assert_cmpint (r.status, ==, 2);
  test_run_clear (&r);

  /* A global option after the command is told where it goes; a bad value
   * of the command's own option is not. */
  test_run_cli (&r, NULL, "tasks", "--json", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--json (global options such as --data-dir come before the command)"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "tasks", "--data-dir=/tmp", NULL);
  g_assert_nonnull (strstr (r.err, "come before the command"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "tasks", "--limit", "abc", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--limit"));
  g_assert_null (strstr (r.err, "come before the command"));
}

static void
test_life_cycle (void)
{
  g_autofree char *base = test_make_dir ("cli");
  g_autofree char *dir = g_build_filename (base, "store", NULL);
  g_autofree char *pass = write_file (base, "pass", TEST_PASSPHRASE "\n");
  g_autofree char *pass2 = write_file (base, "pass2", TEST_PASSPHRASE_2 "\r\n");
  g_autofree char *wrong = write_file (base, "wrong", "this is not it\n");
  g_autofree char *weak = write_file (base, "weak", "1234\n");
  g_autofree char *empty = write_file (base, "empty", "\n");
  g_autofree char *missing = g_build_filename (base, "no-such-file", NULL);
  g_autofree char *db_path = g_build_filename (dir, "hearth.db", NULL);
  g_autofree char *slot0 = g_build_filename (dir, "keyslot.0", NULL);
  g_autofree char *slot1 = g_build_filename (dir, "keyslot.1", NULL);
  const char *env_pass[] = { "HEARTH_PASSPHRASE_FILE", pass, NULL };
  const char *env_dir[] = { "HEARTH_DATA_DIR", dir, "HEARTH_PASSPHRASE_FILE", pass, NULL };
  g_auto(TestRun) r = { 0 };

  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "init", "--kdf", "bogus", NULL);
  g_assert_cmpint (r.status, ==, 2);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", weak, "init", "--kdf", "test", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "at least 8"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "init", "--kdf", "test", NULL);
  g_assert_cmpint (r.status, ==, 3);  /* no terminal, no file */
  g_assert_nonnull (strstr (r.err, "--passphrase-file"));
  test_run_clear (&r);

  test_run_cli (&r, env_pass, "--data-dir", dir, "init", "--kdf", "test", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "test suites only"));
  /* Without --county-public-key the key is still to come, with enrolment. */
  g_assert_nonnull (strstr (r.out, "No county key yet: the store gets it at enrolment (hearth-cli enrol)"));
  g_assert_null (strstr (r.out, "county-keygen"));
  test_run_clear (&r);
  test_run_cli (&r, env_pass, "--data-dir", dir, "init", "--kdf", "test", NULL);
  g_assert_cmpint (r.status, ==, 1);
  test_run_clear (&r);

  /* HEARTH_DATA_DIR and HEARTH_PASSPHRASE_FILE. */
  test_run_cli (&r, env_dir, "status", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Schema version"));
  g_assert_nonnull (strstr (r.out, "(test)"));
  /* libsodium's minimum is one pass: singular. */
  g_assert_nonnull (strstr (r.out, "1 pass (test)"));
  test_run_clear (&r);
  test_run_cli (&r, env_dir, "check", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "sound"));
  g_assert_nonnull (strstr (r.out, "--kdf test"));
  test_run_clear (&r);

  /* --json: one document on stdout. */
  test_run_cli (&r, env_dir, "--json", "check", NULL);
  g_assert_cmpint (r.status, ==, 0);
  {
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonObject *o, *kdf;

    g_assert_true (json_parser_load_from_data (parser, r.out, -1, NULL));
    o = json_node_get_object (json_parser_get_root (parser));
    g_assert_cmpstr (json_object_get_string_member (o, "data_dir"), ==, dir);
    g_assert_true (json_object_get_boolean_member (o, "sound"));
    g_assert_cmpint (json_object_get_int_member (o, "schema_version"), >=, 1);
    g_assert_false (json_object_get_boolean_member (o, "county_recovery"));
    kdf = json_object_get_object_member (o, "kdf");
    g_assert_cmpstr (json_object_get_string_member (kdf, "profile"), ==, "test");
  }
  test_run_clear (&r);

  /* Passphrase sources: wrong, missing file, empty line. */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", wrong, "check", NULL);
  g_assert_cmpint (r.status, ==, 3);
  g_assert_nonnull (strstr (r.err, "Wrong passphrase"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", missing, "check", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "no-such-file"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", empty, "check", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "empty"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "check", NULL);
  g_assert_cmpint (r.status, ==, 3);
  test_run_clear (&r);

  /* passwd with no terminal names the option that gives the new passphrase. */
  test_run_cli (&r, env_pass, "--data-dir", dir, "passwd", NULL);
  g_assert_cmpint (r.status, ==, 3);
  g_assert_nonnull (strstr (r.err, "--new-passphrase-file"));
  test_run_clear (&r);

  /* passwd: weak refused, then changed (the CRLF line ending is dropped). */
  test_run_cli (&r, env_pass, "--data-dir", dir, "passwd", "--new-passphrase-file", weak, NULL);
  g_assert_cmpint (r.status, ==, 1);
  test_run_clear (&r);
  test_run_cli (&r, env_pass, "--data-dir", dir, "passwd", "--new-passphrase-file", pass2, NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  test_run_cli (&r, env_pass, "--data-dir", dir, "check", NULL);
  g_assert_cmpint (r.status, ==, 3);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass2, "check", NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);

  /* A damaged page: exit 4, naming the file and the page. */
  {
    g_autoptr(HearthStore) store = NULL;
    g_autoptr(HearthSecret) p2 = test_secret (TEST_PASSPHRASE_2);
    store = hearth_store_open (dir, p2, NULL);
    g_assert_nonnull (store);
    test_exec (hearth_store_get_db (store),
               "CREATE TABLE t (v TEXT); WITH RECURSIVE c(x) AS (VALUES(1) UNION ALL SELECT x+1 FROM c WHERE x<40) "
               "INSERT INTO t SELECT printf('%01000d', x) FROM c");
  }
  test_flip_byte (db_path, 4 * 4096 + 10);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass2, "check", NULL);
  g_assert_cmpint (r.status, ==, 4);
  g_assert_nonnull (strstr (r.err, "page 5"));
  g_assert_nonnull (strstr (r.err, "hearth.db"));
  test_run_clear (&r);
  test_flip_byte (db_path, 4 * 4096 + 10);

  /* A damaged keyslot: exit 3. */
  test_flip_byte (slot0, 77);
  test_flip_byte (slot1, 77);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass2, "check", NULL);
  g_assert_cmpint (r.status, ==, 3);
  g_assert_nonnull (strstr (r.err, "damaged"));
  test_run_clear (&r);
}

static void
test_recover (void)
{
  g_autofree char *base = test_make_dir ("cli-recover");
  g_autofree char *dir = g_build_filename (base, "store", NULL);
  g_autofree char *pass = write_file (base, "pass", TEST_PASSPHRASE "\n");
  g_autofree char *pass2 = write_file (base, "pass2", TEST_PASSPHRASE_2 "\n");
  g_autofree char *pk_path = g_build_filename (base, "county.pub", NULL);
  g_autofree char *sk_path = g_build_filename (base, "county.key", NULL);
  g_autofree char *bad_key = write_file (base, "bad.pub", "hearth county public key v1\nnot base64!\n");
  g_autoptr(HearthSecret) sk = NULL;
  guint8 pk[32];
  g_auto(TestRun) r = { 0 };

  test_run_cli (&r, NULL, "county-keygen", "--secret-key-out", sk_path, NULL);
  g_assert_cmpint (r.status, ==, 2);
  test_run_clear (&r);
  /* One file for both would lose the secret key. */
  test_run_cli (&r, NULL, "county-keygen", "--secret-key-out", sk_path, "--public-key-out", sk_path, NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_false (g_file_test (sk_path, G_FILE_TEST_EXISTS));
  test_run_clear (&r);
  /* An all-zero public key parses but could never be opened: refused. */
  {
    g_autofree char *zero = write_file (base, "zero.pub",
                                        "hearth county public key v1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
    g_autofree char *zdir = g_build_filename (base, "zero-store", NULL);
    test_run_cli (&r, NULL, "--data-dir", zdir, "--passphrase-file", pass, "init", "--kdf", "test",
             "--county-public-key", zero, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "X25519"));
    test_run_clear (&r);
  }
  test_run_cli (&r, NULL, "county-keygen", "--secret-key-out", sk_path, "--public-key-out", pk_path, NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  /* Never overwritten. */
  test_run_cli (&r, NULL, "county-keygen", "--secret-key-out", sk_path, "--public-key-out", pk_path, NULL);
  g_assert_cmpint (r.status, ==, 1);
  test_run_clear (&r);
  sk = hearth_county_key_read_secret (sk_path, NULL);
  g_assert_nonnull (sk);
  g_assert_true (hearth_county_key_read_public (pk_path, pk, NULL));
  {
    guint8 derived[32];
    crypto_scalarmult_base (derived, hearth_secret_peek (sk));
    g_assert_cmpmem (derived, 32, pk, 32);
  }

  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "init", "--kdf", "test",
           "--county-public-key", bad_key, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "line 2"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "init", "--kdf", "test",
           "--county-public-key", pk_path, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "recover"));
  test_run_clear (&r);

  test_run_cli (&r, NULL, "--data-dir", dir, "recover", "--new-passphrase-file", pass2, NULL);
  g_assert_cmpint (r.status, ==, 2);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "recover", "--county-key", pk_path, "--new-passphrase-file", pass2, NULL);
  g_assert_cmpint (r.status, ==, 1);  /* a public key where the secret one belongs */
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "recover", "--county-key", sk_path, "--new-passphrase-file", pass2, NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass2, "status", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "sealed to the county key"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "status", NULL);
  g_assert_cmpint (r.status, ==, 3);
  test_run_clear (&r);

  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass2, "rekey", NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass2, "check", NULL);
  g_assert_cmpint (r.status, ==, 0);
}

static void
test_chinese (void)
{
  g_autofree char *base = test_make_dir ("cli-zh");
  g_autofree char *dir = g_build_filename (base, "store", NULL);
  g_autofree char *wrong = write_file (base, "wrong", "this is not it\n");
  g_autofree char *pass = write_file (base, "pass", TEST_PASSPHRASE "\n");
  const char *zh[] = { "LANGUAGE", "zh_CN", NULL };
  g_auto(TestRun) r = { 0 };

  test_run_cli (&r, zh, "--help", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "退出码"));
  test_run_clear (&r);
  test_run_cli (&r, zh, "--data-dir", dir, "--passphrase-file", pass, "init", "--kdf", "test", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "已在"));
  test_run_clear (&r);
  test_run_cli (&r, zh, "--data-dir", dir, "--passphrase-file", wrong, "check", NULL);
  g_assert_cmpint (r.status, ==, 3);
  g_assert_nonnull (strstr (r.err, "口令错误"));
}

static void
test_form_check (void)
{
  g_autofree char *forms = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "forms", NULL);
  g_autofree char *external = g_build_filename (forms, "external.xml", NULL);
  g_autofree char *media = g_build_filename (forms, "media", NULL);
  g_autofree char *bad = g_build_filename (forms, "space-choice.xml", NULL);
  g_auto(TestRun) r = { 0 };

  test_run_cli (&r, NULL, "form", "check", external, "--media", media, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "External instances"));
  g_assert_nonnull (strstr (r.out, "crops, villages"));
  test_run_clear (&r);

  test_run_cli (&r, NULL, "--json", "form", "check", external, "--media", media, NULL);
  g_assert_cmpint (r.status, ==, 0);
  {
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonObject *o;

    g_assert_true (json_parser_load_from_data (parser, r.out, -1, NULL));
    o = json_node_get_object (json_parser_get_root (parser));
    g_assert_cmpstr (json_object_get_string_member (o, "form_id"), ==, "external");
    g_assert_cmpint (json_object_get_int_member (o, "binds"), ==, 3);
    g_assert_cmpint (json_object_get_int_member (o, "controls"), ==, 2);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "instances")), ==, 2);
  }
  test_run_clear (&r);

  /* Without the media folder the external instance is missing. */
  test_run_cli (&r, NULL, "form", "check", external, "--media", forms, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "villages.csv"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "form", "check", bad, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "line 14"));
  test_run_clear (&r);
  /* Forms that load but that no visit could be opened with, as
   * hearth-center publish-form refuses them. */
  {
    g_autofree char *cycle = g_build_filename (forms, "cycle.xml", NULL);
    g_autofree char *dangling = g_build_filename (forms, "dangling.xml", NULL);

    test_run_cli (&r, NULL, "form", "check", cycle, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "in a cycle"));
    test_run_clear (&r);
    test_run_cli (&r, NULL, "form", "check", dangling, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "/data/max_age, which is not in the primary instance"));
    test_run_clear (&r);
  }
  test_run_cli (&r, NULL, "form", "check", NULL);
  g_assert_cmpint (r.status, ==, 2);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "form", NULL);
  g_assert_cmpint (r.status, ==, 2);
}

static char *
answers_path (const char *name)
{
  return g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "answers", name, NULL);
}

/* Sets the store's user and role, as enrolment will: one store here plays
 * the clerk and then the county until sync brings cases to the county. */
static void
set_user (const char *dir, const char *user, const char *role)
{
  g_autoptr(HearthStore) store = test_open_store (dir);
  g_autofree char *sql = g_strdup_printf ("INSERT OR REPLACE INTO store_meta (key, value) VALUES "
                                          "('user', '%s'), ('role', '%s')", user, role);

  test_exec (hearth_store_get_db (store), sql);
}

/* measure add|end, review approve --measure, household show and a
 * follow-up visit recorded against the store's measures. */
static void
test_measures (void)
{
  g_autofree char *base = test_make_dir ("cli-measures");
  g_autofree char *dir = g_build_filename (base, "store", NULL);
  g_autofree char *worker_dir = g_build_filename (base, "worker", NULL);
  g_autofree char *pass = write_file (base, "pass", TEST_PASSPHRASE "\n");
  int made_private = g_chmod (pass, 0600);
  g_autofree char *registration = answers_path ("registration-zh.json");
  g_autofree char *visit = answers_path ("visit-zh.json");
  g_autofree char *follow_up = answers_path ("follow-up-measures-zh.json");
  g_autofree char *household = NULL;
  g_autofree char *job = NULL, *health = NULL;
  g_auto(TestRun) r = { 0 };
  const char *now = "2026-03-05T10:00:00+08:00";

  g_assert_cmpint (made_private, ==, 0);
  /* A worker's store: the worker decides no measures. */
  test_run_cli (&r, NULL, "--data-dir", worker_dir, "--passphrase-file", pass, "init", "--kdf", "test",
                "--user", "worker-1", "--role", "worker", NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", worker_dir, "--passphrase-file", pass, "visit", "record", "--form",
                "hearth_household_registration", "--answers", registration, "--now", now, NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", worker_dir, "--passphrase-file", pass, "household", "list", NULL);
  household = g_strndup (r.out, 36);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", worker_dir, "--passphrase-file", pass, "measure", "add", "--household",
                household, "--type", "public_job", "--description", "村级公益性保洁岗位", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "Village worker: assistance measures are not yours to decide"));
  test_run_clear (&r);
  g_clear_pointer (&household, g_free);

  /* The clerk's store: the case goes to the county. */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "init", "--kdf", "test",
                "--user", "clerk-1", "--role", "clerk", NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "visit", "record", "--form",
                "hearth_household_registration", "--answers", registration, "--now", now, NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "list", NULL);
  household = g_strndup (r.out, 36);
  g_assert_true (g_uuid_string_is_valid (household));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "visit", "record", "--form",
                "hearth_household_visit", "--answers", visit, "--household", household, "--now", now, NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "review", "approve", household, NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);

  /* The county approves with two measures: a malformed one is a usage
   * error, an unknown type is refused by name, and neither moves the case. */
  set_user (dir, "county-1", "county");
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "review", "approve", household,
                "--measure", "public_job", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "TYPE:DESCRIPTION"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "review", "approve", household,
                "--measure", "public_job:刘桂兰：村级公益性保洁岗位", "--measure", "microloan:五万元小额信贷", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "\"microloan\""));
  test_run_clear (&r);
  /* The second with a full-width colon, as a Chinese input method types it. */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "review", "approve", household,
                "--measure", "public_job:刘桂兰：村级公益性保洁岗位",
                "--measure", "health：黄志强：慢性病家庭医生签约服务和门诊报销", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "is now: Monitored."));
  g_assert_nonnull (strstr (r.out, "Employment: public-welfare job, active since"));
  g_assert_nonnull (strstr (r.out, "Health assistance, active since"));
  g_assert_nonnull (strstr (r.out, ": 黄志强：慢性病家庭医生签约服务和门诊报销"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "measure", "add", "--household", household,
                "--type", "microloan", "--description", "五万元小额信贷", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "\"microloan\" is not a type of assistance measure"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "measure", "add", "--household", household,
                NULL);
  g_assert_cmpint (r.status, ==, 2);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "measure", NULL);
  g_assert_cmpint (r.status, ==, 2);
  test_run_clear (&r);

  /* household show --json lists them. */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "--json", "household", "show", household,
                NULL);
  g_assert_cmpint (r.status, ==, 0);
  {
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonObject *o;
    JsonArray *measures;

    g_assert_true (json_parser_load_from_data (parser, r.out, -1, NULL));
    o = json_node_get_object (json_parser_get_root (parser));
    g_assert_cmpstr (json_object_get_string_member (o, "monitoring_status"), ==, "monitored");
    measures = json_object_get_array_member (o, "measures");
    g_assert_cmpuint (json_array_get_length (measures), ==, 2);
    for (guint i = 0; i < 2; i++)
      {
        JsonObject *m = json_array_get_object_element (measures, i);
        const char *type = json_object_get_string_member (m, "type");

        g_assert_cmpstr (json_object_get_string_member (m, "status"), ==, "active");
        g_assert_true (g_uuid_string_is_valid (json_object_get_string_member (m, "created_by")));
        if (g_str_equal (type, "public_job"))
          job = g_strdup (json_object_get_string_member (m, "id"));
        else
          health = g_strdup (json_object_get_string_member (m, "id"));
      }
    g_assert_nonnull (job);
    g_assert_nonnull (health);
  }
  test_run_clear (&r);

  /* The follow-up visit reads them from the store and reports on each. */
  set_user (dir, "worker-1", "worker");
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "visit", "record", "--form",
                "hearth_follow_up", "--answers", follow_up, "--household", household,
                "--now", "2026-06-01T10:00:00+08:00", NULL);
  if (r.status != 0)
    g_test_message ("%s", r.err);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Last follow-up 2026-06-01: progress In progress, effect Effective"));
  g_assert_nonnull (strstr (r.out, "Last follow-up 2026-06-01: progress Completed, effect Partly effective"));
  g_assert_nonnull (strstr (r.out, "Remark: 每月按时发放岗位补贴。"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "measure", "end", health, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "Village worker: assistance measures are not yours to decide"));
  test_run_clear (&r);

  /* The clerk ends the completed one: not before it started (today, the
   * day of the approval), by default today. */
  set_user (dir, "clerk-1", "clerk");
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "measure", "end", health, "--date",
                "2026-03-04", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "cannot end on 2026-03-04"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "measure", "end", health, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "(ended)"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "measure", "end", health, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "ended already"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "--json", "measure", "add", "--household",
                household, "--type", "temporary_relief", "--description", "临时救助 3000 元", "--started",
                "2026-06-03", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "\"started_on\" : \"2026-06-03\""));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "show", household, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Temporary relief, active since 2026-06-03"));
  g_assert_nonnull (strstr (r.out, "Health assistance, "));
  /* The active ones first. */
  g_assert_true (strstr (r.out, "Temporary relief") < strstr (r.out, "(ended)"));
  test_run_clear (&r);

  /* The audit chain is whole, and names every write of a measure: in the
   * entry of the action that made it (the county's approval, the
   * follow-up visit), or its own (the clerk ending it, adding one). */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "audit", "verify", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "intact"));
  {
    g_autoptr(HearthStore) store = test_open_store (dir);
    sqlite3 *db = hearth_store_get_db (store);
    g_autofree char *sql = g_strdup_printf ("SELECT group_concat(action || ':' || record_table, ' ') FROM "
                                            "(SELECT action, record_table FROM audit_log WHERE (record_table = "
                                            "'measures' AND record_id = '%s') OR instr (fields, 'measures/%s:') > 0 "
                                            "ORDER BY seq)", health, health);
    sqlite3_stmt *st = NULL;

    g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM audit_log WHERE record_table = 'measures'"), ==, 1 + 1);
    g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *) sqlite3_column_text (st, 0), ==,
                     "approve:households record:submissions end:measures");
    sqlite3_finalize (st);
  }
  /* audit list: the newest entries oldest first, each naming the records
   * its action wrote and their fields, never a value. */
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "--json", "audit", "list", "--limit", "3",
                NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_null (strstr (r.out, "临时救助"));
  {
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonArray *list, *records;
    JsonObject *visit_entry, *end_entry, *add_entry;
    gboolean reported = FALSE;

    g_assert_true (json_parser_load_from_data (parser, r.out, -1, NULL));
    list = json_node_get_array (json_parser_get_root (parser));
    g_assert_cmpuint (json_array_get_length (list), ==, 3);
    visit_entry = json_array_get_object_element (list, 0);
    end_entry = json_array_get_object_element (list, 1);
    add_entry = json_array_get_object_element (list, 2);
    g_assert_cmpint (json_object_get_int_member (end_entry, "seq"), ==,
                     json_object_get_int_member (visit_entry, "seq") + 1);
    g_assert_cmpstr (json_object_get_string_member (visit_entry, "action"), ==, "record");
    g_assert_cmpstr (json_object_get_string_member (visit_entry, "actor"), ==, "worker-1");
    g_assert_cmpstr (json_object_get_string_member (visit_entry, "record_table"), ==, "submissions");
    records = json_object_get_array_member (visit_entry, "records");
    for (guint i = 0; i < json_array_get_length (records); i++)
      {
        JsonObject *rec = json_array_get_object_element (records, i);
        if (g_str_equal (json_object_get_string_member (rec, "id"), health))
          {
            g_assert_cmpstr (json_object_get_string_member (rec, "table"), ==, "measures");
            g_assert_cmpuint (json_array_get_length (json_object_get_array_member (rec, "fields")), ==, 5);
            reported = TRUE;
          }
      }
    g_assert_true (reported);
    g_assert_cmpstr (json_object_get_string_member (end_entry, "action"), ==, "end");
    g_assert_cmpstr (json_object_get_string_member (end_entry, "actor"), ==, "clerk-1");
    g_assert_cmpstr (json_object_get_string_member (end_entry, "record_id"), ==, health);
    records = json_object_get_array_member (end_entry, "records");
    g_assert_cmpuint (json_array_get_length (records), ==, 1);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_array_get_object_element (records, 0),
                                                                           "fields")), ==, 2);
    g_assert_cmpstr (json_object_get_string_member (add_entry, "action"), ==, "create");
    g_assert_cmpstr (json_object_get_string_member (add_entry, "record_table"), ==, "measures");
  }
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "audit", "list", "--limit", "2", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_test_message ("%s", r.out);
  {
    g_autofree char *end_line = g_strdup_printf ("end by clerk-1: measures %s\n    ended_on, status\n", health);
    g_assert_nonnull (strstr (r.out, end_line));
    g_assert_nonnull (strstr (r.out, "create by clerk-1: measures "));
    g_assert_null (strstr (r.out, "record by"));
  }
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "audit", "list", "--limit", "0", NULL);
  g_assert_cmpint (r.status, ==, 2);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "audit", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "audit list"));
}

/* The shortcuts of the case commands: init --scope (checked), household
 * add (the registration form), declare (the household's own declaration
 * into village review), tasks --overdue (only those past due), and a
 * household named by a unique prefix or its registry number, never by a
 * prefix shorter than 8 characters. */
static void
test_case_shortcuts (void)
{
  g_autofree char *base = test_make_dir ("cli-shortcuts");
  g_autofree char *dir = g_build_filename (base, "store", NULL);
  g_autofree char *pass = write_file (base, "pass", TEST_PASSPHRASE "\n");
  g_autofree char *registration = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "answers",
                                                    "registration-zh.json", NULL);
  g_autofree char *household = NULL;
  g_autofree char *prefix = NULL;
  g_auto(TestRun) r = { 0 };

  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "init", "--kdf", "test", "--scope",
                "15042,1", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "15042"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "init", "--kdf", "test", "--scope",
                "150422101,150422102201", NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);

  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "add", "--answers",
                registration, "--now", "2026-03-05T10:00:00+08:00", NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "list", NULL);
  household = g_strndup (r.out, 36);
  g_assert_true (g_uuid_string_is_valid (household));
  prefix = g_strndup (household, 8);
  test_run_clear (&r);

  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "show", "50d8", NULL);
  g_assert_cmpint (r.status, ==, 1);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "declare", "--household", prefix, NULL);
  g_assert_cmpint (r.status, ==, 2);   /* no reason */
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "declare", "--household", prefix,
                "--reason", "家中突发重病，医疗支出大", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "is now: Waiting for village review."));
  test_run_clear (&r);

  /* The registration's follow-up is due 2026-03-08. */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "tasks", "--overdue", "--today",
                "2026-03-07", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpstr (r.out, ==, "");
  g_assert_true (g_str_has_suffix (r.err, "No task is overdue.\n"));
  test_run_clear (&r);
  /* The review queue of this worker's tablet, empty, says so (on stderr). */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "review", "list", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_str_has_suffix (r.err, "No case waits for this tablet's review.\n") == (r.out[0] == '\0'));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "tasks", "--overdue", "--today",
                "2026-03-09", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, household));
  test_run_clear (&r);

  /* A household with a next visit planned says when; one without says
   * nothing of it (never "next visit , "). */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "show", prefix, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, ", next visit 2026-"));
  test_run_clear (&r);
  {
    g_autoptr(HearthStore) store = test_open_store (dir);
    test_exec (hearth_store_get_db (store), "UPDATE households SET next_visit_date = ''");
  }
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "show", prefix, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_null (strstr (r.out, "next visit"));
  g_assert_true (g_regex_match_simple ("\\): No risk found, Waiting for village review, [0-9]+ members?\n", r.out, 0, 0));
  test_run_clear (&r);

  /* The clerk returns the case with a comment: the worker reads it in
   * household show (text and --json) and with the correction task. */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "show", prefix, NULL);
  g_assert_null (strstr (r.out, "Returned for correction"));
  test_run_clear (&r);
  set_user (dir, "clerk-1", "clerk");
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "review", "return", prefix, "--comment",
                "收入核实有误，请补充务工收入", NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  set_user (dir, "worker-1", "worker");
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "show", prefix, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_regex_match_simple ("\n  Returned for correction by Village clerk clerk-1 on 20[0-9-]{8}: "
                                       "“收入核实有误，请补充务工收入”\n", r.out, 0, 0));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "--json", "household", "show", prefix, NULL);
  g_assert_cmpint (r.status, ==, 0);
  {
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonObject *o;

    g_assert_true (json_parser_load_from_data (parser, r.out, -1, NULL));
    o = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "returned");
    g_assert_nonnull (o);
    g_assert_cmpstr (json_object_get_string_member (o, "comment"), ==, "收入核实有误，请补充务工收入");
    g_assert_cmpstr (json_object_get_string_member (o, "actor"), ==, "clerk-1");
    g_assert_cmpstr (json_object_get_string_member (o, "role"), ==, "clerk");
  }
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "tasks", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "  Correction asked by the village\n            "));
  g_assert_nonnull (strstr (r.out, "\n            Clerk's comment: “收入核实有误，请补充务工收入”\n"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "--json", "tasks", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "\"reason\" : \"收入核实有误，请补充务工收入\""));
}

static guint
count_lines (const char *text)
{
  guint n = 0;

  for (; *text != '\0'; text++)
    n += *text == '\n';
  return n;
}

/* A store in @base/store (the passphrase in @base/pass, 0600) holding
 * @households generated households (seed 7), imported through hearth-cli;
 * *dir and *pass are set (transfer full). */
static void
make_demo_store (const char *base, const char *households, char **dir, char **pass)
{
  g_autofree char *csv = g_build_filename (base, "registry.csv", NULL);
  g_autofree char *imported = g_strdup_printf ("Imported %s household", households);
  g_auto(TestRun) r = { 0 };

  *dir = g_build_filename (base, "store", NULL);
  *pass = write_file (base, "pass", TEST_PASSPHRASE "\n");
  g_assert_cmpint (g_chmod (*pass, 0600), ==, 0);
  test_run_cli (&r, NULL, "--data-dir", *dir, "--passphrase-file", *pass, "init", "--kdf", "test", NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "demo", "generate", "--households", households, "--seed", "7", "--out", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", *dir, "--passphrase-file", *pass, "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, imported));
}

/* household list never stops silently: past --limit (50 by default) it
 * says on stderr how many it found, and stdout (text or --json) holds the
 * rows alone. Pages of the library (200 rows) join without a gap or a
 * repeat. */
static void
test_household_list_limit (void)
{
  g_autofree char *base = test_make_dir ("cli-list-limit");
  g_autofree char *dir = NULL;
  g_autofree char *pass = NULL;
  g_autofree char *all = NULL;
  g_autoptr(GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(TestRun) r = { 0 };

  make_demo_store (base, "450", &dir, &pass);

  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "list", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpuint (count_lines (r.out), ==, 50);
  g_assert_cmpstr (r.err, ==, "50 of 450 households shown; --limit N shows more.\n");
  test_run_clear (&r);

  /* All of them, across three library pages: each household once. */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "list", "--limit", "450", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpuint (count_lines (r.out), ==, 450);
  g_assert_cmpstr (r.err, ==, "");
  all = g_strdup (r.out);
  for (const char *line = all; *line != '\0'; line = strchr (line, '\n') + 1)
    g_assert_true (g_hash_table_add (ids, g_strndup (line, 36)));
  g_assert_cmpuint (g_hash_table_size (ids), ==, 450);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "list", "--limit", "100000",
                NULL);
  g_assert_cmpstr (r.out, ==, all);
  g_assert_cmpstr (r.err, ==, "");
  test_run_clear (&r);

  /* A limit across a page boundary: the first 250 of the same order. */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "list", "--limit", "250", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpuint (count_lines (r.out), ==, 250);
  g_assert_true (g_str_has_prefix (all, r.out));
  g_assert_cmpstr (r.err, ==, "250 of 450 households shown; --limit N shows more.\n");
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "list", "--limit", "449", NULL);
  g_assert_cmpstr (r.err, ==, "449 of 450 households shown; --limit N shows more.\n");
  test_run_clear (&r);

  /* --json and --village: the rows on stdout, the count on stderr. */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "--json", "household", "list", "--village",
                "150422", "--limit", "70", NULL);
  g_assert_cmpint (r.status, ==, 0);
  {
    g_autoptr(JsonParser) parser = json_parser_new ();

    g_assert_true (json_parser_load_from_data (parser, r.out, -1, NULL));
    g_assert_cmpuint (json_array_get_length (json_node_get_array (json_parser_get_root (parser))), ==, 70);
  }
  g_assert_cmpstr (r.err, ==, "70 of 450 households shown; --limit N shows more.\n");
  test_run_clear (&r);

  /* --limit is bounded. */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "list", "--limit", "0", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--limit takes 1 to 100000"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "list", "--limit", "100001",
                NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_cmpstr (r.out, ==, "");
}

/* tasks never stops silently either: past --limit (50 by default) it
 * says on stderr how many more it found; --overdue counts the overdue
 * ones only; pages of the library (200 rows) join without a gap or a
 * repeat, in due-date order. */
static void
test_tasks_limit (void)
{
  g_autofree char *base = test_make_dir ("cli-tasks-limit");
  g_autofree char *dir = NULL;
  g_autofree char *pass = NULL;
  g_autofree char *all = NULL;
  g_autoptr(GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(TestRun) r = { 0 };
  const char *prev = "";

  make_demo_store (base, "300", &dir, &pass);

  /* 290 open tasks, one a household: 130 overdue on 2026-05-10, 160 later
   * (dates repeat, so the id breaks ties across pages). */
  {
    g_autoptr(HearthStore) store = test_open_store (dir);
    sqlite3 *db = hearth_store_get_db (store);

    test_exec (db, "BEGIN");
    test_exec (db, "INSERT INTO tasks (id, household_id, kind, due_date, status, created_at, updated_at)"
                   " SELECT printf('30000000-0000-4000-8000-%012d', n), id, 'follow_up',"
                   "  CASE WHEN n < 130 THEN printf('2026-04-%02d', 1 + n % 28) ELSE printf('2026-06-%02d', 1 + n % 28) END,"
                   "  'open', '2026-03-01', '2026-03-01'"
                   " FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM households) WHERE n < 290");
    test_exec (db, "COMMIT");
  }

  /* Two lines a task (cli-case.c, print_task_rows()). */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "tasks", "--today", "2026-05-10", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpuint (count_lines (r.out), ==, 2 * 50);
  g_assert_cmpstr (r.err, ==, "50 of 290 tasks shown; --limit N shows more.\n");
  test_run_clear (&r);

  /* All of them, across two library pages: each task once, in order. */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "tasks", "--today", "2026-05-10",
                "--limit", "290", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpuint (count_lines (r.out), ==, 2 * 290);
  g_assert_cmpstr (r.err, ==, "");
  all = g_strdup (r.out);
  for (const char *line = all; *line != '\0'; line = strchr (line, '\n') + 1)
    {
      const char *second = strchr (line, '\n') + 1;

      /* The date, the urgency and the kind; under them the household. */
      g_assert_true (g_regex_match_simple ("^2026-0[46]-[0-9]{2}  (overdue  |later    )  Follow-up visit\n", line,
                                           0, 0));
      g_assert_cmpint (strncmp (prev, line, 10), <=, 0);
      prev = line;
      g_assert_true (g_str_has_prefix (second, "            "));
      g_assert_true (g_hash_table_add (ids, g_strndup (second + 12, 36)));
      g_assert_cmpint (second[12 + 36], ==, ' ');
      line = second;
    }
  g_assert_cmpuint (g_hash_table_size (ids), ==, 290);
  test_run_clear (&r);

  /* A limit across a page boundary: the first 250 of the same order. */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "tasks", "--today", "2026-05-10",
                "--limit", "250", NULL);
  g_assert_true (g_str_has_prefix (all, r.out));
  g_assert_cmpuint (count_lines (r.out), ==, 2 * 250);
  g_assert_cmpstr (r.err, ==, "250 of 290 tasks shown; --limit N shows more.\n");
  test_run_clear (&r);

  /* --overdue: the 130 overdue ones only, counted as such. */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "tasks", "--today", "2026-05-10",
                "--overdue", "--limit", "100", NULL);
  g_assert_cmpuint (count_lines (r.out), ==, 2 * 100);
  g_assert_cmpstr (r.err, ==, "100 of 130 tasks shown; --limit N shows more.\n");
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "--json", "tasks", "--today",
                "2026-05-10", "--overdue", "--limit", "130", NULL);
  {
    g_autoptr(JsonParser) parser = json_parser_new ();

    g_assert_true (json_parser_load_from_data (parser, r.out, -1, NULL));
    g_assert_cmpuint (json_array_get_length (json_node_get_array (json_parser_get_root (parser))), ==, 130);
  }
  g_assert_cmpstr (r.err, ==, "");
  test_run_clear (&r);

  /* --limit is bounded. */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "tasks", "--limit", "0", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--limit takes 1 to 100000 tasks"));
}

/* What hearth-cli prints is mostly what others typed on other tablets
 * (synced here): a head's name carrying terminal escape sequences (clear
 * the screen, retitle the window), a C1 control, a carriage return and
 * characters turning the text's direction reaches the terminal with each
 * of them made U+FFFD, the rest of the name kept; --json keeps the data
 * exact, escaped as JSON. */
static void
test_terminal_escapes (void)
{
  g_autofree char *base = test_make_dir ("cli-terminal");
  g_autofree char *dir = NULL;
  g_autofree char *pass = NULL;
  g_autofree char *household = NULL;
  const char *hostile = "王\033[2J\033]0;pwned\007建\302\233" "31m\r国\342\200\256321\342\201\246";
  g_auto(TestRun) r = { 0 };

  make_demo_store (base, "1", &dir, &pass);
  {
    g_autoptr(HearthStore) store = test_open_store (dir);
    sqlite3 *db = hearth_store_get_db (store);
    sqlite3_stmt *st = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (db, "UPDATE households SET head_name = ? RETURNING id", -1, &st, NULL), ==,
                     SQLITE_OK);
    sqlite3_bind_text (st, 1, hostile, -1, SQLITE_STATIC);
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
    household = g_strdup ((const char *) sqlite3_column_text (st, 0));
    sqlite3_finalize (st);
  }

  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "list", NULL);
  g_assert_cmpint (r.status, ==, 0);
  /* (The carriage return, in a listing, is a space: one line a row.) */
  g_assert_nonnull (strstr (r.out, "王\357\277\275[2J\357\277\275]0;pwned\357\277\275建\357\277\275" "31m"
                                   " 国\357\277\275" "321\357\277\275"));
  g_assert_null (strpbrk (r.out, "\033\007\r"));
  g_assert_null (strstr (r.out, "\302\233"));
  g_assert_null (strstr (r.out, "\342\200\256"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "show", household, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "pwned"));
  g_assert_null (strpbrk (r.out, "\033\007\r"));
  g_assert_null (strstr (r.out, "\302\233"));
  test_run_clear (&r);

  /* A line feed or tab in a name makes no row or column of its own. */
  {
    g_autoptr(HearthStore) store = test_open_store (dir);

    test_exec (hearth_store_get_db (store),
               "UPDATE households SET head_name = '张三' || char (10) || '00000000-0000-4000-8000-000000000000  "
               "150422101201  假户' || char (9) || 'red'");
  }
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "list", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpuint (count_lines (r.out), ==, 1);
  g_assert_null (strchr (r.out, '\t'));
  g_assert_nonnull (strstr (r.out, "张三 00000000-0000-4000-8000-000000000000  150422101201  假户 red"));
  test_run_clear (&r);
  {
    g_autoptr(HearthStore) store = test_open_store (dir);
    sqlite3_stmt *st = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (hearth_store_get_db (store), "UPDATE households SET head_name = ?", -1, &st,
                                         NULL), ==, SQLITE_OK);
    sqlite3_bind_text (st, 1, hostile, -1, SQLITE_STATIC);
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
    sqlite3_finalize (st);
  }

  /* --json: the name exactly as stored, once parsed. */
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "--json", "household", "list", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_null (strpbrk (r.out, "\033\007\r"));
  {
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonArray *rows;

    g_assert_true (json_parser_load_from_data (parser, r.out, -1, NULL));
    rows = json_node_get_array (json_parser_get_root (parser));
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rows, 0), "head_name"), ==, hostile);
  }
}

/* Tasks whose stored text is hostile: a head's name that is not UTF-8
 * with a bell in it, a clerk's comment of 200,000 characters holding an
 * escape sequence, a carriage return, a direction override and bytes that
 * are not UTF-8. `tasks` prints valid UTF-8 with none of them; --json
 * parses, each bad byte one U+FFFD. */
static void
test_tasks_hostile (void)
{
  g_autofree char *base = test_make_dir ("cli-tasks-hostile");
  g_autofree char *dir = g_build_filename (base, "store", NULL);
  g_autofree char *pass = write_file (base, "pass", TEST_PASSPHRASE "\n");
  g_autofree char *csv = g_build_filename (base, "registry.csv", NULL);
  g_autoptr(GString) reason = g_string_new ("fix \033[2J\r\342\200\256 \377\376 ");
  g_auto(TestRun) r = { 0 };

  while (reason->len < 200000)
    g_string_append (reason, "建");
  g_assert_cmpint (g_chmod (pass, 0600), ==, 0);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "init", "--kdf", "test", NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "demo", "generate", "--households", "1", "--seed", "7", "--out", csv, NULL);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  {
    g_autoptr(HearthStore) store = test_open_store (dir);
    sqlite3 *db = hearth_store_get_db (store);
    sqlite3_stmt *st = NULL;

    test_exec (db, "UPDATE households SET head_name = CAST (x'e78e8bff07fe' AS TEXT)");
    g_assert_cmpint (sqlite3_prepare_v2 (db, "INSERT INTO tasks (id, household_id, kind, due_date, status, reason, "
                                             "created_at, updated_at) SELECT '30000000-0000-4000-8000-000000000001', "
                                             "id, 'correction', '2026-04-01', 'open', ?, '2026-03-01', '2026-03-01' "
                                             "FROM households",
                                         -1, &st, NULL),
                     ==, SQLITE_OK);
    sqlite3_bind_text (st, 1, reason->str, (int) reason->len, SQLITE_STATIC);
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
    sqlite3_finalize (st);
  }

  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "tasks", "--today", "2026-05-10", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_utf8_validate (r.out, -1, NULL));
  g_assert_null (strpbrk (r.out, "\033\007\r"));
  g_assert_null (strstr (r.out, "\342\200\256"));
  g_assert_nonnull (strstr (r.out, "王\357\277\275\357\277\275\357\277\275"));
  g_assert_nonnull (strstr (r.out, "建建建建建建建建"));
  test_run_clear (&r);

  test_run_cli (&r, NULL, "--data-dir", dir, "--passphrase-file", pass, "--json", "tasks", "--today", "2026-05-10",
                "--limit", "1", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_utf8_validate (r.out, -1, NULL));
  g_assert_null (strpbrk (r.out, "\033\007\r"));
  {
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonObject *task;

    g_assert_true (json_parser_load_from_data (parser, r.out, -1, NULL));
    task = json_array_get_object_element (json_node_get_array (json_parser_get_root (parser)), 0);
    g_assert_true (g_str_has_prefix (json_object_get_string_member (task, "reason"),
                                     "fix \033[2J\r\342\200\256 \357\277\275\357\277\275 建"));
  }
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/cli/help", test_help);
  g_test_add_func ("/cli/life-cycle", test_life_cycle);
  g_test_add_func ("/cli/recover", test_recover);
  g_test_add_func ("/cli/chinese", test_chinese);
  g_test_add_func ("/cli/form-check", test_form_check);
  g_test_add_func ("/cli/measures", test_measures);
  g_test_add_func ("/cli/case-shortcuts", test_case_shortcuts);
  g_test_add_func ("/cli/household-list-limit", test_household_list_limit);
  g_test_add_func ("/cli/tasks-limit", test_tasks_limit);
  g_test_add_func ("/cli/tasks-hostile", test_tasks_hostile);
  g_test_add_func ("/cli/terminal-escapes", test_terminal_escapes);
  return g_test_run ();
}

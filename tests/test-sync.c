/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-sync.c: tablets and the county center, end to end, with real
 * processes: hearth-center serving on 127.0.0.1, hearth-cli stores enrolled
 * with one-time codes, syncing through hearth-fault-proxy.
 *   - two workers: a registry imported on one reaches the other, only
 *     inside its scope; a second sync sends and receives nothing new;
 *   - the same household visited on both while offline: after syncing
 *     both ways both hold the same values and the same open conflicts;
 *   - the network cut: sync exits 5 and says "not synced"; sync --retry
 *     started while the proxy refuses everything finishes once it is back;
 *   - a flaky network that cuts, delays and duplicates: every change
 *     arrives once;
 *   - a revoked tablet is refused, told to wipe, and wipes its store.
 */
#include "test-center-util.h"

#include "store.h"

#include <curl/curl.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#define COUNTY "150422"
#define TOWNSHIP "150422101"

typedef struct {
  char *dir;
  char *pass;
} Tablet;

static size_t
discard_body (char *data, size_t size, size_t n, void *user)
{
  return size * n;
}

static void
tablet_clear (Tablet *t)
{
  g_free (t->dir);
  g_free (t->pass);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Tablet, tablet_clear)

static void
cli (TestRun *r, Tablet *t, const char *first, ...) G_GNUC_NULL_TERMINATED;

static void
cli (TestRun *r, Tablet *t, const char *first, ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  g_ptr_array_add (args, (char *) "--data-dir");
  g_ptr_array_add (args, t->dir);
  g_ptr_array_add (args, (char *) "--passphrase-file");
  g_ptr_array_add (args, t->pass);
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  test_run_clear (r);
  test_run_cliv (r, NULL, (const char *const *) args->pdata);
}

/* A new store, enrolled for @user at @url. */
static void
tablet_enrol (Tablet *t, const char *name, Center *c, const char *url, const char *user)
{
  g_autofree char *base = test_make_dir (name);
  g_autofree char *code = center_enrol_code (c, user);
  g_auto(TestRun) r = { 0 };

  t->dir = g_build_filename (base, "store", NULL);
  t->pass = g_build_filename (base, "pass", NULL);
  g_assert_true (g_file_set_contents (t->pass, "correct horse battery\n", -1, NULL));
  g_assert_cmpint (g_chmod (t->pass, 0600), ==, 0);
  cli (&r, t, "init", "--kdf", "test", NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli (&r, t, "--json", "enrol", "--center", url, "--code", code, "--name", name, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, user));
}

static JsonNode *
parse (const char *text)
{
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_data (p, text, -1, &error));
  g_assert_no_error (error);
  return json_parser_steal_root (p);
}

/* hearth-cli --json sync: the exit status and the reply. */
static int
sync_tablet (Tablet *t, JsonObject **out, const char *extra)
{
  g_auto(TestRun) r = { 0 };
  g_autoptr(JsonNode) root = NULL;

  if (extra != NULL)
    cli (&r, t, "--json", "sync", extra, NULL);
  else
    cli (&r, t, "--json", "sync", NULL);
  if (out != NULL)
    {
      *out = NULL;
      if (r.out != NULL && r.out[0] == '{')
        {
          root = parse (r.out);
          *out = json_object_ref (json_node_get_object (root));
        }
    }
  return r.status;
}

/* The rows of @sql's first column in a tablet's store, read through the
 * library. */
static GPtrArray *
store_rows (Tablet *t, const char *sql)
{
  g_autoptr(HearthSecret) pass = hearth_secret_read_passphrase_file (t->pass, NULL);
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *st = NULL;

  store = hearth_store_open (t->dir, pass, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_prepare_v2 (hearth_store_get_db (store), sql, -1, &st, NULL), ==, SQLITE_OK);
  while (sqlite3_step (st) == SQLITE_ROW)
    g_ptr_array_add (out, g_strdup ((const char *) sqlite3_column_text (st, 0)));
  sqlite3_finalize (st);
  return out;
}

static char *
store_text (Tablet *t, const char *sql)
{
  g_autoptr(GPtrArray) rows = store_rows (t, sql);
  return rows->len > 0 ? g_strdup (rows->pdata[0]) : NULL;
}

static void
store_exec (Tablet *t, const char *sql)
{
  g_autoptr(HearthSecret) pass = hearth_secret_read_passphrase_file (t->pass, NULL);
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(GError) error = NULL;

  store = hearth_store_open (t->dir, pass, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_exec (hearth_store_get_db (store), sql, NULL, NULL, NULL), ==, SQLITE_OK);
}

/* The households a tablet holds: "id village" lines, sorted. */
static GPtrArray *
households (Tablet *t)
{
  return store_rows (t, "SELECT id || ' ' || village_code FROM households WHERE deleted = 0 ORDER BY 1");
}

static gint64
store_int (Tablet *t, const char *sql)
{
  g_autofree char *v = store_text (t, sql);
  return v != NULL ? g_ascii_strtoll (v, NULL, 10) : -1;
}

static char *
registry (const char *name, guint n, guint seed)
{
  g_autofree char *dir = test_make_dir (name);
  char *path = g_build_filename (dir, "registry.csv", NULL);
  g_autofree char *count = g_strdup_printf ("%u", n);
  g_autofree char *seed_text = g_strdup_printf ("%u", seed);
  g_auto(TestRun) r = { 0 };

  test_run_cli (&r, NULL, "demo", "generate", "--households", count, "--seed", seed_text, "--county", COUNTY,
                "--out", path, NULL);
  g_assert_cmpint (r.status, ==, 0);
  return path;
}

static void
test_two_tablets (void)
{
  g_autoptr(Center) c = center_init ("sync-two-center", COUNTY);
  g_autofree char *csv = registry ("sync-two-registry", 40, 11);
  g_auto(Tablet) a = { 0 };
  g_auto(Tablet) b = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autoptr(GPtrArray) on_a = NULL;
  g_autoptr(GPtrArray) on_b = NULL;
  g_autoptr(JsonObject) result = NULL;
  guint in_township = 0;
  gint64 changes_at_center;

  center_add_user (c, "w.county", "worker", COUNTY);
  center_add_user (c, "w.town", "worker", TOWNSHIP);
  center_start (c);
  tablet_enrol (&a, "sync-two-a", c, c->base, "w.county");
  tablet_enrol (&b, "sync-two-b", c, c->base, "w.town");

  cli (&r, &a, "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (sync_tablet (&a, &result, NULL), ==, 0);
  g_assert_true (json_object_get_boolean_member (result, "synced"));
  g_assert_cmpint (json_object_get_int_member (result, "pending"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (result, "pushed"), >, 0);
  g_assert_cmpint (json_object_get_int_member (result, "pushed"), ==, json_object_get_int_member (result, "last_seq"));
  g_clear_pointer (&result, json_object_unref);

  g_assert_cmpint (sync_tablet (&b, &result, NULL), ==, 0);
  g_assert_true (json_object_get_boolean_member (result, "synced"));
  g_clear_pointer (&result, json_object_unref);

  /* B holds exactly A's households of its township, nothing else. */
  on_a = households (&a);
  on_b = households (&b);
  g_assert_cmpuint (on_a->len, ==, 40);
  for (guint i = 0; i < on_a->len; i++)
    if (strstr (on_a->pdata[i], " " TOWNSHIP) != NULL)
      {
        in_township++;
        g_assert_true (g_ptr_array_find_with_equal_func (on_b, on_a->pdata[i], g_str_equal, NULL));
      }
  g_assert_cmpuint (in_township, >, 0);
  g_assert_cmpuint (in_township, <, 40);
  g_assert_cmpuint (on_b->len, ==, in_township);
  /* With their members, searchable by name. */
  g_assert_cmpint (store_int (&b, "SELECT count(*) FROM members"), ==,
                   store_int (&a, "SELECT count(*) FROM members m JOIN households h ON h.id = m.household_id "
                                  "WHERE h.village_code LIKE '" TOWNSHIP "%'"));

  /* Nothing new: nothing sent, nothing received, nothing stored twice. */
  changes_at_center = center_db_int (c, "SELECT count(*) FROM changes");
  g_assert_cmpint (sync_tablet (&a, &result, NULL), ==, 0);
  g_assert_cmpint (json_object_get_int_member (result, "pushed"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (result, "pulled"), ==, 0);
  g_clear_pointer (&result, json_object_unref);
  g_assert_cmpint (sync_tablet (&b, &result, NULL), ==, 0);
  g_assert_cmpint (json_object_get_int_member (result, "pulled"), ==, 0);
  g_assert_cmpint (center_db_int (c, "SELECT count(*) FROM changes"), ==, changes_at_center);

  center_stop (c);
}

static void
test_concurrent_visits (void)
{
  g_autoptr(Center) c = center_init ("sync-conflict-center", COUNTY);
  g_autofree char *csv = registry ("sync-conflict-registry", 6, 5);
  g_autofree char *visit_zh = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "answers",
                                                "visit-zh.json", NULL);
  g_auto(Tablet) a = { 0 };
  g_auto(Tablet) b = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autofree char *household = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *conflicts_a = NULL;
  g_autofree char *conflicts_b = NULL;
  g_autofree char *values_a = NULL;
  g_autofree char *values_b = NULL;

  center_add_user (c, "w.one", "worker", COUNTY);
  center_add_user (c, "w.two", "worker", COUNTY);
  center_start (c);
  tablet_enrol (&a, "sync-conflict-a", c, c->base, "w.one");
  tablet_enrol (&b, "sync-conflict-b", c, c->base, "w.two");
  cli (&r, &a, "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);
  g_assert_cmpint (sync_tablet (&b, NULL, NULL), ==, 0);
  household = store_text (&a, "SELECT id FROM households ORDER BY id LIMIT 1");

  /* Offline, both visit the same household, on different days. */
  cli (&r, &a, "visit", "record", "--form", "hearth_household_visit", "--answers", visit_zh, "--household",
       household, "--now", "2026-11-20T10:00:00+08:00", NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli (&r, &b, "visit", "record", "--form", "hearth_household_visit", "--answers", visit_zh, "--household",
       household, "--now", "2026-11-21T15:00:00+08:00", NULL);
  g_assert_cmpint (r.status, ==, 0);

  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);
  g_assert_cmpint (sync_tablet (&b, NULL, NULL), ==, 0);
  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);

  /* Both visits are kept on both tablets … */
  sql = g_strdup_printf ("SELECT count(*) FROM submissions WHERE household_id = '%s'", household);
  g_assert_cmpint (store_int (&a, sql), ==, 2);
  g_assert_cmpint (store_int (&b, sql), ==, 2);
  g_free (sql);
  /* … the household's fields agree … */
  sql = g_strdup_printf ("SELECT last_visit_date || '|' || next_visit_date || '|' || risk_level || '|' || "
                         "per_capita_income FROM households WHERE id = '%s'", household);
  values_a = store_text (&a, sql);
  values_b = store_text (&b, sql);
  g_assert_cmpstr (values_a, ==, values_b);
  g_free (sql);
  /* … and the losing values are the same open conflicts on both. */
  sql = g_strdup_printf ("SELECT group_concat (id || ':' || field, ',') FROM (SELECT id, field FROM conflicts "
                         "WHERE record_id = '%s' AND resolved_at IS NULL ORDER BY id)", household);
  conflicts_a = store_text (&a, sql);
  conflicts_b = store_text (&b, sql);
  g_assert_nonnull (conflicts_a);
  g_assert_nonnull (strstr (conflicts_a, "last_visit_date"));
  g_assert_cmpstr (conflicts_a, ==, conflicts_b);

  /* The clerk sees them, takes the other value of one, and once everyone
   * has synced it is closed everywhere with that value. */
  {
    g_auto(Tablet) clerk = { 0 };
    g_autoptr(JsonNode) listed = NULL;
    g_autofree char *conflict = NULL;
    g_autofree char *field = NULL;
    g_autofree char *other = NULL;
    g_autofree char *value_sql = NULL;
    g_autofree char *open_sql = NULL;
    JsonArray *list;
    guint n;

    center_add_user (c, "clerk", "clerk", COUNTY);
    tablet_enrol (&clerk, "sync-conflict-clerk", c, c->base, "clerk");
    g_assert_cmpint (sync_tablet (&clerk, NULL, NULL), ==, 0);
    cli (&r, &clerk, "--json", "conflict", "list", "--household", household, NULL);
    g_assert_cmpint (r.status, ==, 0);
    listed = parse (r.out);
    list = json_node_get_array (listed);
    n = json_array_get_length (list);
    {
      g_auto(GStrv) open_on_a = g_strsplit (conflicts_a, ",", -1);
      g_assert_cmpuint (n, ==, g_strv_length (open_on_a));
    }
    conflict = g_strdup (json_object_get_string_member (json_array_get_object_element (list, 0), "id"));
    field = g_strdup (json_object_get_string_member (json_array_get_object_element (list, 0), "field"));
    other = g_strdup (json_object_get_string_member (json_array_get_object_element (list, 0), "other_value"));
    g_assert_nonnull (strstr (conflicts_a, conflict));

    cli (&r, &a, "conflict", "resolve", conflict, "--other", NULL);   /* a worker may not */
    g_assert_cmpint (r.status, ==, 1);
    cli (&r, &clerk, "conflict", "resolve", conflict, "--other", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_cmpint (sync_tablet (&clerk, NULL, NULL), ==, 0);
    g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);
    g_assert_cmpint (sync_tablet (&b, NULL, NULL), ==, 0);

    value_sql = g_strdup_printf ("SELECT %s FROM households WHERE id = '%s'", field, household);
    open_sql = g_strdup_printf ("SELECT count(*) FROM conflicts WHERE record_id = '%s' AND field = '%s' "
                                "AND resolved_at IS NULL", household, field);
    for (Tablet *t = &a; t != NULL; t = t == &a ? &b : t == &b ? &clerk : NULL)
      {
        g_autofree char *now = store_text (t, value_sql);
        g_assert_cmpstr (now, ==, other);
        g_assert_cmpint (store_int (t, open_sql), ==, 0);
      }
  }

  center_stop (c);
}

static void
test_network_cut (void)
{
  g_autoptr(Center) c = center_init ("sync-cut-center", COUNTY);
  g_autofree char *csv = registry ("sync-cut-registry", 10, 7);
  g_autofree char *flag = g_build_filename (c->dir, "offline", NULL);
  g_autofree char *url = NULL;
  g_auto(Tablet) a = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autoptr(JsonObject) result = NULL;
  g_autoptr(GSubprocess) retry = NULL;
  g_autoptr(GError) error = NULL;
  GSubprocess *proxy;
  g_autofree char *retry_out = NULL;
  g_autoptr(JsonNode) retry_root = NULL;
  JsonObject *retry_result;

  center_add_user (c, "w.one", "worker", COUNTY);
  center_start (c);
  proxy = test_proxy_start (c, flag, NULL, &url);
  tablet_enrol (&a, "sync-cut-a", c, url, "w.one");
  cli (&r, &a, "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);

  /* The network is down: exit 5, never "synced". */
  g_assert_true (g_file_set_contents (flag, "", 0, NULL));
  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 5);
  cli (&r, &a, "sync", NULL);
  g_assert_cmpint (r.status, ==, 5);
  g_assert_nonnull (strstr (r.out, "Not synced"));
  g_assert_null (strstr (r.out, "Synced:"));
  cli (&r, &a, "--json", "sync", "--status", NULL);
  g_assert_nonnull (strstr (r.out, "\"synced\" : false"));

  /* sync --retry started while it is down finishes once it is back. */
  {
    const char *argv[] = { g_getenv ("HEARTH_CLI"), "--data-dir", a.dir, "--passphrase-file", a.pass, "--json",
                           "sync", "--retry", "--time-limit", "120", NULL };
    retry = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
    g_assert_no_error (error);
  }
  g_usleep (1500 * 1000);
  g_assert_cmpint (g_remove (flag), ==, 0);
  g_assert_true (g_subprocess_communicate_utf8 (retry, NULL, NULL, &retry_out, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (retry), ==, 0);
  retry_root = parse (retry_out);
  retry_result = json_node_get_object (retry_root);
  g_assert_true (json_object_get_boolean_member (retry_result, "synced"));
  g_assert_cmpint (json_object_get_int_member (retry_result, "attempts"), >, 1);
  g_assert_cmpint (center_db_int (c, "SELECT count(*) FROM changes"), ==,
                   json_object_get_int_member (retry_result, "last_seq"));

  test_proxy_stop (proxy);
  center_stop (c);
}

/* Sync --retry until synced, through faults: returns the tries made. */
static gint64
sync_until_synced (Tablet *t)
{
  gint64 attempts = 0;

  for (guint runs = 0;; runs++)
    {
      g_autoptr(JsonObject) result = NULL;
      int status = sync_tablet (t, &result, "--retry");

      if (result != NULL && json_object_has_member (result, "attempts"))
        attempts += json_object_get_int_member (result, "attempts");
      if (status == 0 && result != NULL && json_object_get_boolean_member (result, "synced"))
        return attempts;
      g_assert_cmpint (status, ==, 5);
      g_assert_cmpuint (runs, <, 20);
    }
}

/* Two tablets through a proxy that cuts most connections at random bytes
 * both ways, delays and duplicates requests, over rounds of visits and
 * syncs: every change reaches the center exactly once, and both tablets
 * end with the same households and the same open conflicts. */
static void
test_flaky_network (void)
{
  g_autoptr(Center) c = center_init ("sync-flaky-center", COUNTY);
  g_autofree char *csv = registry ("sync-flaky-registry", 12, 3);
  g_autofree char *flag = g_build_filename (c->dir, "offline", NULL);
  g_autofree char *visit = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "answers",
                                             "visit-zh.json", NULL);
  const char *faults[] = { "--cut", "0.8", "--duplicate", "0.3", "--delay-ms", "3", "--seed", "42", NULL };
  const char *digest_sql = "SELECT group_concat (x, '/') FROM (SELECT id || ',' || risk_level || ',' || "
                           "last_visit_date || ',' || next_visit_date || ',' || monitoring_status AS x "
                           "FROM households ORDER BY id)";
  const char *conflicts_sql = "SELECT group_concat (id, ',') FROM (SELECT id FROM conflicts "
                              "WHERE resolved_at IS NULL ORDER BY id)";
  g_autofree char *url = NULL;
  g_autofree char *digest_a = NULL;
  g_autofree char *digest_b = NULL;
  g_autofree char *conflicts_a = NULL;
  g_autofree char *conflicts_b = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  Tablet tablets[2] = { { 0 } };
  g_auto(TestRun) r = { 0 };
  GSubprocess *proxy;
  gint64 attempts = 0;

  center_add_user (c, "w.one", "worker", COUNTY);
  center_add_user (c, "w.two", "worker", COUNTY);
  center_start (c);
  proxy = test_proxy_start (c, flag, faults, &url);
  /* Enrolled directly; from then on every exchange goes through the proxy. */
  tablet_enrol (&tablets[0], "sync-flaky-a", c, c->base, "w.one");
  tablet_enrol (&tablets[1], "sync-flaky-b", c, c->base, "w.two");
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *sql = g_strdup_printf ("UPDATE sync_state SET value = '%s' WHERE key = 'center_url'", url);
      store_exec (&tablets[i], sql);
    }
  cli (&r, &tablets[0], "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  attempts += sync_until_synced (&tablets[0]);
  attempts += sync_until_synced (&tablets[1]);
  ids = store_rows (&tablets[0], "SELECT id FROM households ORDER BY id");

  /* Rounds of visits on both, some to the same household while the other
   * has not synced yet, with syncs in between. */
  for (guint round = 0; round < 8; round++)
    {
      Tablet *t = &tablets[round % 2];
      g_autofree char *now = g_strdup_printf ("2026-11-%02uT10:00:00+08:00", 10 + round);

      cli (&r, t, "visit", "record", "--form", "hearth_household_visit", "--answers", visit, "--household",
           ids->pdata[(round / 2) % ids->len], "--now", now, NULL);
      g_assert_cmpint (r.status, ==, 0);
      if (round % 3 == 2)
        attempts += sync_until_synced (t);
    }
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < 2; i++)
      attempts += sync_until_synced (&tablets[i]);

  /* Every change once: none lost (every number up to each tablet's last),
   * none twice (the center's unique constraints would refuse a copy). */
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *device = store_text (&tablets[i], "SELECT value FROM store_meta WHERE key = 'device_id'");
      g_autofree char *count_sql = g_strdup_printf ("SELECT count(*) FROM changes WHERE device_id = '%s'", device);
      g_autofree char *max_sql = g_strdup_printf ("SELECT max(seq) FROM changes WHERE device_id = '%s'", device);
      gint64 last_seq = store_int (&tablets[i], "SELECT max(seq) FROM sync_outbox");

      g_assert_cmpint (last_seq, >, 0);
      g_assert_cmpint (center_db_int (c, count_sql), ==, last_seq);
      g_assert_cmpint (center_db_int (c, max_sql), ==, last_seq);
    }
  digest_a = store_text (&tablets[0], digest_sql);
  digest_b = store_text (&tablets[1], digest_sql);
  g_assert_cmpstr (digest_a, ==, digest_b);
  conflicts_a = store_text (&tablets[0], conflicts_sql);
  conflicts_b = store_text (&tablets[1], conflicts_sql);
  g_assert_cmpstr (conflicts_a, ==, conflicts_b);
  g_assert_nonnull (conflicts_a);   /* rounds 0 and 1 visited one household on both */
  g_test_message ("synced through the faulty proxy with %" G_GINT64_FORMAT " tries", attempts);
  g_assert_cmpint (attempts, >, 12);   /* the faults did happen: more tries than runs */
  test_proxy_stop (proxy);
  center_stop (c);
  tablet_clear (&tablets[0]);
  tablet_clear (&tablets[1]);
}

/* An enrolment whose reply was lost (the center used the code, the tablet
 * kept nothing) is repeated with the same code and succeeds: the tablet
 * presents the key it kept before sending. Another tablet cannot reuse
 * the code. */
static void
test_enrol_retry (void)
{
  g_autoptr(Center) c = center_init ("sync-enrol-center", COUNTY);
  g_autofree char *base = test_make_dir ("sync-enrol-a");
  g_autofree char *code = NULL;
  g_auto(Tablet) a = { 0 };
  g_auto(Tablet) other = { 0 };
  g_auto(TestRun) r = { 0 };

  center_add_user (c, "w.one", "worker", COUNTY);
  center_start (c);
  code = center_enrol_code (c, "w.one");
  a.dir = g_build_filename (base, "store", NULL);
  a.pass = g_build_filename (base, "pass", NULL);
  g_assert_true (g_file_set_contents (a.pass, "correct horse battery\n", -1, NULL));
  g_assert_cmpint (g_chmod (a.pass, 0600), ==, 0);
  cli (&r, &a, "init", "--kdf", "test", NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli (&r, &a, "enrol", "--center", c->base, "--code", code, NULL);
  g_assert_cmpint (r.status, ==, 0);
  /* The reply "lost": the tablet forgets what it learned. */
  store_exec (&a, "DELETE FROM sync_state WHERE key IN ('center_url', 'user', 'role', 'scope', 'county', "
                  "'county_public_key', 'device_secret_key')");
  cli (&r, &a, "enrol", "--center", c->base, "--code", code, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (center_db_int (c, "SELECT count(*) FROM devices"), ==, 1);
  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);

  /* Enrolment sealed a recovery envelope to the county's key: county IT
   * opens the store with the secret key init wrote, under a new
   * passphrase. */
  cli (&r, &a, "--json", "status", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "\"county_recovery\" : true"));
  {
    g_autofree char *new_pass = g_build_filename (base, "new-pass", NULL);
    g_auto(TestRun) rr = { 0 };

    g_assert_true (g_file_set_contents (new_pass, "a new passphrase for the worker\n", -1, NULL));
    g_assert_cmpint (g_chmod (new_pass, 0600), ==, 0);
    test_run_cli (&rr, NULL, "--data-dir", a.dir, "recover", "--county-key", c->key_path, "--new-passphrase-file",
                  new_pass, NULL);
    g_assert_cmpint (rr.status, ==, 0);
    test_run_clear (&rr);
    test_run_cli (&rr, NULL, "--data-dir", a.dir, "--passphrase-file", new_pass, "sync", "--status", NULL);
    g_assert_cmpint (rr.status, ==, 0);
  }

  /* The used code is no good to anyone else. */
  {
    g_autofree char *other_base = test_make_dir ("sync-enrol-b");
    other.dir = g_build_filename (other_base, "store", NULL);
    other.pass = g_strdup (a.pass);
    cli (&r, &other, "init", "--kdf", "test", NULL);
    g_assert_cmpint (r.status, ==, 0);
    cli (&r, &other, "enrol", "--center", c->base, "--code", code, NULL);
    g_assert_cmpint (r.status, ==, 6);
    g_assert_nonnull (strstr (r.err, "used"));
  }
  center_stop (c);
}

/* Found by review: an empty body crashed the center; a tablet must not
 * talk plain http to another machine (personal data, acknowledgements and
 * the order to wipe would travel unprotected). */
static void
test_hostile (void)
{
  g_autoptr(Center) c = center_init ("sync-hostile-center", COUNTY);
  g_autofree char *base = test_make_dir ("sync-hostile-a");
  g_auto(Tablet) a = { 0 };
  g_auto(TestRun) r = { 0 };
  const char *paths[] = { "/v1/enrol", "/v1/push" };

  center_add_user (c, "w.one", "worker", COUNTY);
  center_start (c);
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autofree char *url = g_strconcat (c->base, paths[i], NULL);
      CURL *curl = curl_easy_init ();
      long status = 0;

      curl_easy_setopt (curl, CURLOPT_URL, url);
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, "");
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, 0L);
      curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, discard_body);
      g_assert_cmpint (curl_easy_perform (curl), ==, CURLE_OK);
      curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_cleanup (curl);
      g_assert_cmpint (status, >=, 400);
      g_assert_cmpint (status, <, 500);
      g_assert_true (center_running (c));
    }

  a.dir = g_build_filename (base, "store", NULL);
  a.pass = g_build_filename (base, "pass", NULL);
  g_assert_true (g_file_set_contents (a.pass, "correct horse battery\n", -1, NULL));
  g_assert_cmpint (g_chmod (a.pass, 0600), ==, 0);
  cli (&r, &a, "init", "--kdf", "test", NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli (&r, &a, "enrol", "--center", "http://192.0.2.1:8470", "--code", "K7QM-3VXT-PA9C-WD4F", NULL);
  g_assert_cmpint (r.status, !=, 0);
  g_assert_nonnull (strstr (r.err, "https://"));
  center_stop (c);
}

static void
test_revoked (void)
{
  g_autoptr(Center) c = center_init ("sync-revoked-center", COUNTY);
  g_auto(Tablet) a = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autofree char *device = NULL;
  g_autofree char *keyslot = NULL;

  center_add_user (c, "w.one", "worker", COUNTY);
  center_start (c);
  tablet_enrol (&a, "sync-revoked-a", c, c->base, "w.one");
  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);
  device = center_db_text (c, "SELECT id FROM devices");
  {
    g_auto(TestRun) rr = { 0 };
    run_center (&rr, "--db", c->db, "device", "revoke", device, NULL);
    g_assert_cmpint (rr.status, ==, 0);
  }
  cli (&r, &a, "sync", NULL);
  g_assert_cmpint (r.status, ==, 6);
  g_assert_nonnull (strstr (r.err, "revoked"));
  keyslot = g_build_filename (a.dir, "keyslot.0", NULL);
  g_assert_false (g_file_test (keyslot, G_FILE_TEST_EXISTS));
  cli (&r, &a, "status", NULL);
  g_assert_cmpint (r.status, !=, 0);
  center_stop (c);
}

int
main (int argc, char *argv[])
{
  test_init (&argc, &argv);
  g_test_add_func ("/sync/two-tablets", test_two_tablets);
  g_test_add_func ("/sync/concurrent-visits", test_concurrent_visits);
  g_test_add_func ("/sync/network-cut", test_network_cut);
  g_test_add_func ("/sync/flaky-network", test_flaky_network);
  g_test_add_func ("/sync/enrol-retry", test_enrol_retry);
  g_test_add_func ("/sync/revoked", test_revoked);
  g_test_add_func ("/sync/hostile", test_hostile);
  return g_test_run ();
}

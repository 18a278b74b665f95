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
 *   - a duplicated request whose copy the center answers first, and the
 *     center's replay refusal of the request itself cut inside its
 *     headers: no refusal, the sync goes on (issue 5);
 *   - a revoked tablet is refused, told to wipe, and wipes its store;
 *   - a center of before protocol version 3 (the proxy answers /v3/pull
 *     404): the tablet pulls everything with /v2/pull.
 */
#include "test-center-util.h"

#include "case-store.h"
#include "store.h"
#include "store-countykey.h"
#include "store-secret.h"
#include "store-vfs.h"
#include "sync-run.h"

#include <curl/curl.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/prctl.h>

#define COUNTY "150422"
#define TOWNSHIP "150422101"

static size_t
discard_body (char *data, size_t size, size_t n, void *user)
{
  return size * n;
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
sync_tablet (TestTablet *t, JsonObject **out, const char *extra)
{
  g_auto(TestRun) r = { 0 };
  g_autoptr(JsonNode) root = NULL;

  if (extra != NULL)
    test_tablet_cli (&r, t, "--json", "sync", extra, NULL);
  else
    test_tablet_cli (&r, t, "--json", "sync", NULL);
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
store_rows (TestTablet *t, const char *sql)
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
store_text (TestTablet *t, const char *sql)
{
  g_autoptr(GPtrArray) rows = store_rows (t, sql);
  return rows->len > 0 ? g_strdup (rows->pdata[0]) : NULL;
}

static void
store_exec (TestTablet *t, const char *sql)
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
households (TestTablet *t)
{
  return store_rows (t, "SELECT id || ' ' || village_code FROM households WHERE deleted = 0 ORDER BY 1");
}

static gint64
store_int (TestTablet *t, const char *sql)
{
  g_autofree char *v = store_text (t, sql);
  return v != NULL ? g_ascii_strtoll (v, NULL, 10) : -1;
}

static void
test_two_tablets (void)
{
  g_autoptr(Center) c = center_init ("sync-two-center", COUNTY);
  g_autofree char *csv = test_registry ("sync-two-registry", COUNTY, 40, 11);
  g_auto(TestTablet) a = { 0 };
  g_auto(TestTablet) b = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autoptr(GPtrArray) on_a = NULL;
  g_autoptr(GPtrArray) on_b = NULL;
  g_autoptr(JsonObject) result = NULL;
  guint in_township = 0;
  gint64 changes_at_center;

  center_add_user (c, "w.county", "worker", COUNTY);
  center_add_user (c, "w.town", "worker", TOWNSHIP);
  center_start (c);
  test_tablet_enrol_at (&a, "sync-two-a", c, "w.county", c->base);
  test_tablet_enrol_at (&b, "sync-two-b", c, "w.town", c->base);

  test_tablet_cli (&r, &a, "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (sync_tablet (&a, &result, NULL), ==, 0);
  g_assert_true (json_object_get_boolean_member (result, "synced"));
  g_assert_cmpint (json_object_get_int_member (result, "pending"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (result, "pushed"), >, 0);
  g_assert_cmpint (json_object_get_int_member (result, "pushed"), ==, json_object_get_int_member (result, "last_seq"));
  g_clear_pointer (&result, json_object_unref);
  /* The center said "edits" at enrolment: each write of a record went as
   * one change of kind "edits" (PROTOCOL.md 6.1), its fields under one
   * version, and the center holds each as one row with every field. */
  {
    g_autofree char *device = store_text (&a, "SELECT value FROM store_meta WHERE key = 'device_id'");
    g_autofree char *edits = g_strdup_printf ("SELECT count (*) FROM changes WHERE device = (SELECT num FROM device_numbers WHERE id = '%s') "
                                              "AND kind = 'edits'", device);
    g_autofree char *fields = g_strdup_printf ("SELECT sum ((SELECT count (*) FROM json_each (fields))) "
                                               "FROM changes WHERE device = (SELECT num FROM device_numbers WHERE id = '%s') AND kind = 'edits'", device);
    g_autofree char *single = g_strdup_printf ("SELECT count (*) FROM changes WHERE device = (SELECT num FROM device_numbers WHERE id = '%s') "
                                               "AND kind = 'edit'", device);
    gint64 writes = store_int (&a, "SELECT count (*) FROM (SELECT DISTINCT record_table, record_id, hlc "
                                   "FROM field_edits)");

    g_assert_nonnull (device);
    g_assert_cmpint (store_int (&a, "SELECT count (*) FROM sync_state WHERE key = 'features' AND value = 'edits'"),
                     ==, 1);
    g_assert_cmpint (writes, >=, 40);
    g_assert_cmpint (store_int (&a, "SELECT count (*) FROM field_edits"), >, 3 * writes);
    g_assert_cmpint (center_db_int (c, edits), ==, writes);
    g_assert_cmpint (center_db_int (c, fields), ==, store_int (&a, "SELECT count (*) FROM field_edits"));
    g_assert_cmpint (center_db_int (c, single), ==, 0);
  }

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
  g_autofree char *csv = test_registry ("sync-conflict-registry", COUNTY, 6, 5);
  g_autofree char *visit_zh = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "answers",
                                                "visit-zh.json", NULL);
  g_auto(TestTablet) a = { 0 };
  g_auto(TestTablet) b = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autofree char *household = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *conflicts_a = NULL;
  g_autofree char *conflicts_b = NULL;
  g_autofree char *values_a = NULL;
  g_autofree char *values_b = NULL;
  gint64 version_a;

  center_add_user (c, "w.one", "worker", COUNTY);
  center_add_user (c, "w.two", "worker", COUNTY);
  center_start (c);
  test_tablet_enrol_at (&a, "sync-conflict-a", c, "w.one", c->base);
  test_tablet_enrol_at (&b, "sync-conflict-b", c, "w.two", c->base);
  test_tablet_cli (&r, &a, "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);
  g_assert_cmpint (sync_tablet (&b, NULL, NULL), ==, 0);
  household = store_text (&a, "SELECT id FROM households ORDER BY id LIMIT 1");

  /* Offline, both visit the same household, on different days; A twice,
   * so its entity version is one ahead of B's. */
  test_tablet_cli (&r, &a, "visit", "record", "--form", "hearth_household_visit", "--answers", visit_zh, "--household",
       household, "--now", "2026-11-19T10:00:00+08:00", NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_tablet_cli (&r, &a, "visit", "record", "--form", "hearth_household_visit", "--answers", visit_zh, "--household",
       household, "--now", "2026-11-20T10:00:00+08:00", NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_tablet_cli (&r, &b, "visit", "record", "--form", "hearth_household_visit", "--answers", visit_zh, "--household",
       household, "--now", "2026-11-21T15:00:00+08:00", NULL);
  g_assert_cmpint (r.status, ==, 0);
  sql = g_strdup_printf ("SELECT entity_version FROM households WHERE id = '%s'", household);
  version_a = store_int (&a, sql);
  g_assert_cmpint (store_int (&b, sql), <, version_a);
  g_free (sql);

  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);
  g_assert_cmpint (sync_tablet (&b, NULL, NULL), ==, 0);
  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);

  /* The visits are kept on both tablets … */
  sql = g_strdup_printf ("SELECT count(*) FROM submissions WHERE household_id = '%s'", household);
  g_assert_cmpint (store_int (&a, sql), ==, 3);
  g_assert_cmpint (store_int (&b, sql), ==, 3);
  g_free (sql);
  /* … the entity version is the larger one, on both and at the center,
   * and no conflict: every visit raises it, none loses (issue 5) … */
  sql = g_strdup_printf ("SELECT entity_version FROM households WHERE id = '%s'", household);
  g_assert_cmpint (store_int (&a, sql), ==, version_a);
  g_assert_cmpint (store_int (&b, sql), ==, version_a);
  g_free (sql);
  sql = g_strdup_printf ("SELECT value FROM field_state WHERE record_id = '%s' AND field = 'entity_version'",
                         household);
  g_assert_cmpint (center_db_int (c, sql), ==, version_a);
  g_assert_cmpint (center_db_int (c, "SELECT count(*) FROM conflicts WHERE field = 'entity_version'"), ==, 0);
  g_assert_cmpint (store_int (&a, "SELECT count(*) FROM conflicts WHERE field = 'entity_version'"), ==, 0);
  g_assert_cmpint (store_int (&b, "SELECT count(*) FROM conflicts WHERE field = 'entity_version'"), ==, 0);
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
    g_auto(TestTablet) clerk = { 0 };
    g_autoptr(JsonNode) listed = NULL;
    g_autofree char *conflict = NULL;
    g_autofree char *field = NULL;
    g_autofree char *other = NULL;
    g_autofree char *value_sql = NULL;
    g_autofree char *open_sql = NULL;
    JsonArray *list;
    guint n;

    center_add_user (c, "clerk", "clerk", COUNTY);
    test_tablet_enrol_at (&clerk, "sync-conflict-clerk", c, "clerk", c->base);
    g_assert_cmpint (sync_tablet (&clerk, NULL, NULL), ==, 0);
    test_tablet_cli (&r, &clerk, "--json", "conflict", "list", "--household", household, NULL);
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

    test_tablet_cli (&r, &a, "conflict", "resolve", conflict, "--other", NULL);   /* a worker may not */
    g_assert_cmpint (r.status, ==, 1);
    test_tablet_cli (&r, &clerk, "conflict", "resolve", conflict, "--other", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_cmpint (sync_tablet (&clerk, NULL, NULL), ==, 0);
    g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);
    g_assert_cmpint (sync_tablet (&b, NULL, NULL), ==, 0);

    value_sql = g_strdup_printf ("SELECT %s FROM households WHERE id = '%s'", field, household);
    open_sql = g_strdup_printf ("SELECT count(*) FROM conflicts WHERE record_id = '%s' AND field = '%s' "
                                "AND resolved_at IS NULL", household, field);
    for (TestTablet *t = &a; t != NULL; t = t == &a ? &b : t == &b ? &clerk : NULL)
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
  g_autofree char *csv = test_registry ("sync-cut-registry", COUNTY, 10, 7);
  g_autofree char *flag = g_build_filename (c->dir, "offline", NULL);
  g_autofree char *url = NULL;
  g_auto(TestTablet) a = { 0 };
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
  test_tablet_enrol_at (&a, "sync-cut-a", c, "w.one", url);
  test_tablet_cli (&r, &a, "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);

  /* The network is down: exit 5, never "synced". */
  g_assert_true (g_file_set_contents (flag, "", 0, NULL));
  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 5);
  test_tablet_cli (&r, &a, "sync", NULL);
  g_assert_cmpint (r.status, ==, 5);
  g_assert_nonnull (strstr (r.out, "Not synced"));
  g_assert_null (strstr (r.out, "Synced:"));
  /* Which center it could not reach, and which one the tablet knows. */
  {
    g_autofree char *unreachable = g_strdup_printf ("the center at %s could not be reached", url);
    g_autofree char *center_line = g_strdup_printf ("Center: %s\n", url);
    g_autofree char *center_json = g_strdup_printf ("\"center\" : \"%s\"", url);

    g_assert_nonnull (strstr (r.err, unreachable));
    test_tablet_cli (&r, &a, "sync", "--status", NULL);
    g_assert_nonnull (strstr (r.out, center_line));
    test_tablet_cli (&r, &a, "--json", "sync", "--status", NULL);
    g_assert_nonnull (strstr (r.out, center_json));
  }
  test_tablet_cli (&r, &a, "--json", "sync", "--status", NULL);
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
  test_tablet_cli (&r, &a, "sync", "--status", NULL);
  g_assert_nonnull (strstr (r.out, "Synced:"));
  g_assert_null (strstr (r.out, "did not finish"));

  /* Down again with nothing to send: the center has every change of this
   * tablet ("Synced"), and the status says the last try failed, so the
   * county's newest may not be here. */
  g_assert_true (g_file_set_contents (flag, "", 0, NULL));
  test_tablet_cli (&r, &a, "sync", NULL);
  g_assert_cmpint (r.status, ==, 5);
  test_tablet_cli (&r, &a, "sync", "--status", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Synced:"));
  g_assert_nonnull (strstr (r.out, "did not finish: what the center received since the last sync is not on this "
                                   "tablet yet."));
  test_tablet_cli (&r, &a, "--json", "sync", "--status", NULL);
  g_assert_null (strstr (r.out, "\"last_failed_try\" : null"));
  g_assert_nonnull (strstr (r.out, "\"last_failed_try\" : \""));
  /* Back: a finished run clears it. */
  g_assert_cmpint (g_remove (flag), ==, 0);
  test_tablet_cli (&r, &a, "sync", NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_tablet_cli (&r, &a, "sync", "--status", NULL);
  g_assert_null (strstr (r.out, "did not finish"));

  test_proxy_stop (proxy);
  center_stop (c);
}

/* Sync --retry until synced, through faults: returns the tries made. */
static gint64
sync_until_synced (TestTablet *t)
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
  g_autofree char *csv = test_registry ("sync-flaky-registry", COUNTY, 12, 3);
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
  TestTablet tablets[2] = { { 0 } };
  g_auto(TestRun) r = { 0 };
  GSubprocess *proxy;
  gint64 attempts = 0;

  center_add_user (c, "w.one", "worker", COUNTY);
  center_add_user (c, "w.two", "worker", COUNTY);
  center_start (c);
  proxy = test_proxy_start (c, flag, faults, &url);
  /* Enrolled directly; from then on every exchange goes through the proxy. */
  test_tablet_enrol_at (&tablets[0], "sync-flaky-a", c, "w.one", c->base);
  test_tablet_enrol_at (&tablets[1], "sync-flaky-b", c, "w.two", c->base);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *sql = g_strdup_printf ("UPDATE sync_state SET value = '%s' WHERE key = 'center_url'", url);
      store_exec (&tablets[i], sql);
    }
  test_tablet_cli (&r, &tablets[0], "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  attempts += sync_until_synced (&tablets[0]);
  attempts += sync_until_synced (&tablets[1]);
  ids = store_rows (&tablets[0], "SELECT id FROM households ORDER BY id");

  /* Rounds of visits on both, some to the same household while the other
   * has not synced yet, with syncs in between. */
  for (guint round = 0; round < 8; round++)
    {
      TestTablet *t = &tablets[round % 2];
      g_autofree char *now = g_strdup_printf ("2026-11-%02uT10:00:00+08:00", 10 + round);

      test_tablet_cli (&r, t, "visit", "record", "--form", "hearth_household_visit", "--answers", visit, "--household",
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
      g_autofree char *count_sql = g_strdup_printf ("SELECT count(*) FROM changes WHERE device = (SELECT num FROM device_numbers WHERE id = '%s')", device);
      g_autofree char *max_sql = g_strdup_printf ("SELECT max(seq) FROM changes WHERE device = (SELECT num FROM device_numbers WHERE id = '%s')", device);
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
  test_tablet_clear (&tablets[0]);
  test_tablet_clear (&tablets[1]);
}

/* Lines of @path (the center's access log, the proxy's) holding every
 * one of @words. */
static guint
count_lines (const char *path, const char *const *words)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      gboolean all = TRUE;

      for (guint j = 0; words[j] != NULL && all; j++)
        all = strstr (lines[i], words[j]) != NULL;
      n += all;
    }
  return n;
}

/* Issue 5's flake (the property test, once, under load: "hearth-cli sync
 * exited 6: the center answered 401: no reason given"), made to happen
 * every time: the proxy duplicates the tablet's first request and the
 * copy reaches the center first, so the center refuses the request itself
 * as a replay (401, with its error object); then the proxy cuts that
 * reply after its status line. libcurl reads a connection closed inside
 * the headers, before Content-Length, as a whole reply without a body: a
 * 401 with no error object, which the tablet took for the center's
 * final refusal. It is a cut connection: the sync exits 5, and with
 * --retry it syncs, every change on the center once. */
static void
test_replay_cut (void)
{
  g_autoptr(Center) c = center_init ("sync-replay-cut-center", COUNTY);
  g_autofree char *csv = test_registry ("sync-replay-cut-registry", COUNTY, 6, 5);
  g_autofree char *flag = g_build_filename (c->dir, "offline", NULL);
  g_autofree char *proxy_log = g_strconcat (flag, ".log", NULL);
  g_autofree char *sql = NULL;
  g_autofree char *device = NULL;
  g_autofree char *count_sql = NULL;
  g_autofree char *url = NULL;
  const char *faults[] = { "--replay-cut", "2", NULL };
  const char *replays[] = { "GET /v1/epoch 401 ", NULL };
  const char *cuts[] = { "relayed after a copy, its reply cut after the status line", NULL };
  g_auto(TestTablet) t = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autoptr(JsonNode) result = NULL;
  GSubprocess *proxy;
  gint64 last_seq;

  center_add_user (c, "w.one", "worker", COUNTY);
  center_start (c);
  proxy = test_proxy_start (c, flag, faults, &url);
  test_tablet_enrol_at (&t, "sync-replay-cut", c, "w.one", c->base);
  sql = g_strdup_printf ("UPDATE sync_state SET value = '%s' WHERE key = 'center_url'", url);
  store_exec (&t, sql);
  test_tablet_cli (&r, &t, "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);

  /* The first connection: a cut, not a refusal. */
  test_tablet_cli (&r, &t, "--json", "sync", NULL);
  g_assert_cmpint (r.status, ==, 5);
  g_assert_null (strstr (r.err, "no reason given"));
  g_assert_nonnull (strstr (r.err, "cut short"));
  /* The second one too, and then the sync goes through. */
  test_tablet_cli (&r, &t, "--json", "sync", "--retry", "--time-limit", "120", NULL);
  g_assert_cmpint (r.status, ==, 0);
  result = parse (r.out);
  g_assert_true (json_object_get_boolean_member (json_node_get_object (result), "synced"));
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (result), "attempts"), ==, 2);

  /* The faults did happen: two replays refused, their replies cut. */
  g_assert_cmpuint (count_lines (c->log_path, replays), ==, 2);
  g_assert_cmpuint (count_lines (proxy_log, cuts), ==, 2);
  device = store_text (&t, "SELECT value FROM store_meta WHERE key = 'device_id'");
  count_sql = g_strdup_printf ("SELECT count(*) FROM changes WHERE device = (SELECT num FROM device_numbers WHERE id = '%s')", device);
  last_seq = store_int (&t, "SELECT max(seq) FROM sync_outbox");
  g_assert_cmpint (last_seq, >, 0);
  g_assert_cmpint (center_db_int (c, count_sql), ==, last_seq);
  test_proxy_stop (proxy);
  center_stop (c);
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
  g_auto(TestTablet) a = { 0 };
  g_auto(TestTablet) other = { 0 };
  g_auto(TestRun) r = { 0 };

  center_add_user (c, "w.one", "worker", COUNTY);
  center_start (c);
  code = center_enrol_code (c, "w.one");
  a.dir = g_build_filename (base, "store", NULL);
  a.pass = g_build_filename (base, "pass", NULL);
  g_assert_true (g_file_set_contents (a.pass, "correct horse battery\n", -1, NULL));
  g_assert_cmpint (g_chmod (a.pass, 0600), ==, 0);
  test_tablet_cli (&r, &a, "init", "--kdf", "test", NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_tablet_cli (&r, &a, "enrol", "--center", c->base, "--code", code, NULL);
  g_assert_cmpint (r.status, ==, 0);
  /* The reply "lost": the tablet forgets what it learned. */
  store_exec (&a, "DELETE FROM sync_state WHERE key IN ('center_url', 'user', 'role', 'scope', 'county', "
                  "'county_public_key', 'device_secret_key')");
  test_tablet_cli (&r, &a, "enrol", "--center", c->base, "--code", code, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (center_db_int (c, "SELECT count(*) FROM devices"), ==, 1);
  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);

  /* Enrolment sealed a recovery envelope to the county's key: county IT
   * opens the store with the secret key init wrote, under a new
   * passphrase. */
  test_tablet_cli (&r, &a, "--json", "status", NULL);
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
    test_tablet_cli (&r, &other, "init", "--kdf", "test", NULL);
    g_assert_cmpint (r.status, ==, 0);
    test_tablet_cli (&r, &other, "enrol", "--center", c->base, "--code", code, NULL);
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
  g_auto(TestTablet) a = { 0 };
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
  test_tablet_cli (&r, &a, "init", "--kdf", "test", NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_tablet_cli (&r, &a, "enrol", "--center", "http://192.0.2.1:8470", "--code", "K7QM-3VXT-PA9C-WD4F", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "https://"));

  /* The address is read as libcurl reads it (break13): the check of its
   * start let "http://127.0.0.1@HOST" (a user name, then another host)
   * and "http://localhost.example" through, and libcurl sent the
   * enrolment in the clear to that host. Another address of the
   * loopback network stands for the other host: nothing reaches it (a
   * connection would wait in its backlog), the typed address is refused
   * input (exit 1, not 70) naming what is wrong, and the code stays good
   * for the right address. */
  {
    g_autoptr(GSocket) other = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
    g_autoptr(GInetAddress) host = g_inet_address_new_from_string ("127.0.0.2");
    g_autoptr(GSocketAddress) address = g_inet_socket_address_new (host, 0);
    g_autoptr(GSocketAddress) bound = NULL;
    g_autoptr(GSocket) accepted = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *code = center_enrol_code (c, "w.one");
    g_autofree char *at_host = NULL, *named = NULL, *with_query = NULL, *with_fragment = NULL;
    guint port;
    struct { const char *url, *says; } bad[5];

    g_assert_true (g_socket_bind (other, address, TRUE, &error));
    g_assert_true (g_socket_listen (other, &error));
    g_assert_no_error (error);
    bound = g_socket_get_local_address (other, &error);
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
    at_host = g_strdup_printf ("http://127.0.0.1@127.0.0.2:%u", port);
    named = g_strdup_printf ("http://localhost.example:%u", port);
    with_query = g_strconcat (c->base, "?x=1", NULL);
    with_fragment = g_strconcat (c->base, "#top", NULL);
    bad[0].url = at_host, bad[0].says = "user name before “@”";
    bad[1].url = named, bad[1].says = "plain http:// only on this machine";
    bad[2].url = with_query, bad[2].says = "“?” or “#”";
    bad[3].url = with_fragment, bad[3].says = "“?” or “#”";
    bad[4].url = "http://127.0.0.1:99999", bad[4].says = "is not a web address";
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        test_tablet_cli (&r, &a, "enrol", "--center", bad[i].url, "--code", code, NULL);
        g_assert_cmpint (r.status, ==, 1);
        g_assert_nonnull (strstr (r.err, bad[i].says));
      }
    g_socket_set_blocking (other, FALSE);
    accepted = g_socket_accept (other, NULL, &error);
    g_assert_null (accepted);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
    g_assert_cmpint (center_db_int (c, "SELECT count(*) FROM devices"), ==, 0);
    /* The center's address with a path it is not served under: a typing
     * error, refused input (exit 1), not this tablet's bug (break33: 70). */
    {
      g_autofree char *with_path = g_strconcat (c->base, "/hearth", NULL);

      test_tablet_cli (&r, &a, "enrol", "--center", with_path, "--code", code, NULL);
      g_assert_cmpint (r.status, ==, 1);
      g_assert_nonnull (strstr (r.err, "the county center there has no enrolment under this path"));
    }
    test_tablet_cli (&r, &a, "enrol", "--center", c->base, "--code", code, NULL);
    g_assert_cmpint (r.status, ==, 0);
  }
  center_stop (c);
}

/* Finding 1 to 3 of newuser13: the trust an enrolment is given (a CA file's
 * content, or a pin) is kept and used by every later request; a pin alone
 * trusts exactly that key (a self-signed certificate the system does not
 * trust), still checking the key and the host name; trust failures are
 * exit 7 with their own words. A real center serving HTTPS on 127.0.0.1. */
static void
test_tls_trust (void)
{
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autoptr(Center) c = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *cert = NULL, *key = NULL, *other_cert = NULL, *other_key = NULL;
  g_autofree char *pin = NULL, *other_pin = NULL, *ca_copy = NULL, *kept = NULL, *cert_text = NULL;
  g_autofree char *localhost = NULL, *export_dir = NULL;
  g_auto(TestTablet) by_ca = { 0 };
  g_auto(TestTablet) by_pin = { 0 };
  g_auto(TestTablet) none = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autofree char *code = NULL;
  g_autofree char *port = NULL;

  if (openssl == NULL)
    {
      g_test_skip ("no openssl to make a certificate with");
      return;
    }
  c = center_init ("sync-tls-center", COUNTY);
  dir = test_make_dir ("sync-tls-certs");
  pin = test_make_cert (dir, "center", &cert, &key);
  other_pin = test_make_cert (dir, "other", &other_cert, &other_key);
  g_assert_cmpstr (pin, !=, other_pin);
  center_add_user (c, "w.one", "worker", COUNTY);
  center_start_full (c, cert, key);
  g_assert_true (g_str_has_prefix (c->base, "https://127.0.0.1:"));
  port = g_strdup (strrchr (c->base, ':') + 1);

  /* No trust given: the system does not trust the certificate. Exit 7,
   * not "unreachable", and the code is not spent. */
  test_tablet_init (&none, "sync-tls-none");
  code = center_enrol_code (c, "w.one");
  test_tablet_cli (&r, &none, "enrol", "--center", c->base, "--code", code, NULL);
  g_assert_cmpint (r.status, ==, 7);
  g_assert_nonnull (strstr (r.err, "does not trust"));
  g_assert_null (strstr (r.err, "SSH"));
  /* A wrong pin is refused: the pin is checked without the CA check. */
  test_tablet_cli (&r, &none, "enrol", "--center", c->base, "--code", code, "--pin", other_pin, NULL);
  g_assert_cmpint (r.status, ==, 7);
  g_assert_nonnull (strstr (r.err, "pinned"));
  /* The right pin, but the certificate is not for this host name. */
  localhost = g_strdup_printf ("https://localhost:%s", port);
  test_tablet_cli (&r, &none, "enrol", "--center", localhost, "--code", code, "--pin", pin, NULL);
  g_assert_cmpint (r.status, ==, 7);
  /* A file that is no certificate is refused before the code is sent. */
  test_tablet_cli (&r, &none, "enrol", "--center", c->base, "--code", code, "--ca-file", none.pass, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "PEM"));

  /* Pinned: enrolled with the pin alone, and every later sync and export
   * uses it without being told. */
  test_tablet_cli (&r, &none, "enrol", "--center", c->base, "--code", code, "--pin", pin, NULL);
  g_assert_cmpint (r.status, ==, 0);
  by_pin = none;
  memset (&none, 0, sizeof none);
  kept = test_tablet_text (&by_pin, "SELECT value FROM sync_state WHERE key = 'tls_pin'");
  g_assert_cmpstr (kept, ==, pin);
  g_clear_pointer (&kept, g_free);
  test_tablet_cli (&r, &by_pin, "sync", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Synced"));
  /* Export too: a worker's is refused by the center (6), so the TLS
   * exchange went through on the kept pin. */
  export_dir = g_build_filename (dir, "batch", NULL);
  test_tablet_cli (&r, &by_pin, "export", "--scope", COUNTY, "--since", "2026-01-01", "--format", "json", "--out",
                   export_dir, NULL);
  g_assert_cmpint (r.status, ==, 6);
  /* Given to one command, a pin is used instead of the kept one, once. */
  test_tablet_cli (&r, &by_pin, "sync", "--pin", other_pin, NULL);
  g_assert_cmpint (r.status, ==, 7);
  g_assert_nonnull (strstr (r.err, "pinned"));
  test_tablet_cli (&r, &by_pin, "sync", NULL);
  g_assert_cmpint (r.status, ==, 0);

  /* By CA: the file's content is kept, so the file may go. */
  test_tablet_init (&by_ca, "sync-tls-ca");
  ca_copy = g_build_filename (dir, "county-ca.pem", NULL);
  g_assert_true (g_file_get_contents (cert, &cert_text, NULL, NULL));
  g_assert_true (g_file_set_contents (ca_copy, cert_text, -1, NULL));
  g_free (code);
  code = center_enrol_code (c, "w.one");
  test_tablet_cli (&r, &by_ca, "enrol", "--center", c->base, "--code", code, "--ca-file", ca_copy, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (g_unlink (ca_copy), ==, 0);
  kept = test_tablet_text (&by_ca, "SELECT value FROM sync_state WHERE key = 'tls_ca_pem'");
  g_assert_cmpstr (kept, ==, cert_text);
  test_tablet_cli (&r, &by_ca, "sync", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Synced"));

  /* Another server with another key at the center's address: the pinned
   * tablet refuses it, and so does the one trusting the county's CA. */
  center_stop (c);
  center_restart_full (c, other_cert, other_key);
  test_tablet_cli (&r, &by_pin, "sync", NULL);
  g_assert_cmpint (r.status, ==, 7);
  g_assert_nonnull (strstr (r.err, "pinned"));
  /* Only the error that says what to do: nothing was exchanged, no
   * "Not synced: this sync did not finish." before it. */
  g_assert_null (strstr (r.out, "Not synced"));
  g_assert_cmpstr (r.out, ==, "");
  test_tablet_cli (&r, &by_ca, "sync", NULL);
  g_assert_cmpint (r.status, ==, 7);
  g_assert_nonnull (strstr (r.err, "does not trust"));
  test_tablet_cli (&r, &by_pin, "export", "--scope", COUNTY, "--since", "2026-01-01", "--format", "json", "--out",
                   export_dir, NULL);
  g_assert_cmpint (r.status, ==, 7);
  /* A CA given to one command replaces the kept one for it. */
  test_tablet_cli (&r, &by_ca, "sync", "--ca-file", other_cert, NULL);
  g_assert_cmpint (r.status, ==, 0);

  /* The county moved the center to the new key: `trust` keeps the new
   * trust without enrolling again, once the center answers a signed
   * request through it. A trust the center does not pass, a file that is
   * no CA, the system's CAs (a self-signed certificate) and a center out
   * of reach change nothing. */
  test_tablet_cli (&r, &by_pin, "trust", NULL);
  g_assert_cmpint (r.status, ==, 2);
  test_tablet_cli (&r, &by_pin, "trust", "--pin", other_pin, "--system", NULL);
  g_assert_cmpint (r.status, ==, 2);
  test_tablet_cli (&r, &by_pin, "trust", "--pin", pin, NULL);
  g_assert_cmpint (r.status, ==, 7);
  g_assert_nonnull (strstr (r.err, "the trust was not changed"));
  g_assert_nonnull (strstr (r.err, "pinned"));
  test_tablet_cli (&r, &by_pin, "trust", "--system", NULL);
  g_assert_cmpint (r.status, ==, 7);
  test_tablet_cli (&r, &by_pin, "trust", "--ca-file", by_pin.pass, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "PEM"));
  g_clear_pointer (&kept, g_free);
  kept = test_tablet_text (&by_pin, "SELECT value FROM sync_state WHERE key = 'tls_pin'");
  g_assert_cmpstr (kept, ==, pin);
  test_tablet_cli (&r, &by_pin, "trust", "--pin", other_pin, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "kept for every later sync"));
  g_clear_pointer (&kept, g_free);
  kept = test_tablet_text (&by_pin, "SELECT value FROM sync_state WHERE key = 'tls_pin'");
  g_assert_cmpstr (kept, ==, other_pin);
  test_tablet_cli (&r, &by_pin, "sync", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Synced"));
  /* From a pin to a CA: the pin goes. */
  test_tablet_cli (&r, &by_pin, "--json", "trust", "--ca-file", other_cert, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "\"ca-file\""));
  g_assert_cmpint (test_tablet_int (&by_pin, "SELECT count (*) FROM sync_state WHERE key = 'tls_pin'"), ==, 0);
  test_tablet_cli (&r, &by_ca, "trust", "--ca-file", other_cert, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_clear_pointer (&kept, g_free);
  g_clear_pointer (&cert_text, g_free);
  g_assert_true (g_file_get_contents (other_cert, &cert_text, NULL, NULL));
  kept = test_tablet_text (&by_ca, "SELECT value FROM sync_state WHERE key = 'tls_ca_pem'");
  g_assert_cmpstr (kept, ==, cert_text);
  test_tablet_cli (&r, &by_ca, "sync", NULL);
  g_assert_cmpint (r.status, ==, 0);
  center_stop (c);
  test_tablet_cli (&r, &by_ca, "trust", "--pin", other_pin, NULL);
  g_assert_cmpint (r.status, ==, 5);
  g_clear_pointer (&kept, g_free);
  kept = test_tablet_text (&by_ca, "SELECT value FROM sync_state WHERE key = 'tls_ca_pem'");
  g_assert_cmpstr (kept, ==, cert_text);
  g_assert_cmpint (test_tablet_int (&by_ca, "SELECT count (*) FROM sync_state WHERE key = 'tls_pin'"), ==, 0);
}

static void
test_revoked (void)
{
  g_autoptr(Center) c = center_init ("sync-revoked-center", COUNTY);
  g_auto(TestTablet) a = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autofree char *device = NULL;
  g_autofree char *keyslot = NULL;

  center_add_user (c, "w.one", "worker", COUNTY);
  center_start (c);
  test_tablet_enrol_at (&a, "sync-revoked-a", c, "w.one", c->base);
  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);
  device = center_db_text (c, "SELECT id FROM devices");
  {
    g_auto(TestRun) rr = { 0 };
    run_center (&rr, "--db", c->db, "device", "revoke", device, NULL);
    g_assert_cmpint (rr.status, ==, 0);
  }
  test_tablet_cli (&r, &a, "sync", NULL);
  g_assert_cmpint (r.status, ==, 6);
  /* Said once, as what happened: not "did not finish". */
  g_assert_nonnull (strstr (r.err, "revoked this tablet: its store was wiped"));
  g_assert_null (strstr (strstr (r.err, "revoked") + 1, "revoked"));
  g_assert_null (strstr (r.out, "did not finish"));
  keyslot = g_build_filename (a.dir, "keyslot.0", NULL);
  g_assert_false (g_file_test (keyslot, G_FILE_TEST_EXISTS));
  test_tablet_cli (&r, &a, "status", NULL);
  g_assert_cmpint (r.status, !=, 0);
  center_stop (c);
}

/* The workflow's role rules hold at the center (issue 5, H1): a worker,
 * clerk and county user move a case into monitoring, each on their own
 * tablet, and the center accepts every step; a worker's tablet whose store
 * says it is the county's (as a tampered or hand-edited store would) gets
 * its approvals refused, per change and with a reason, while its own
 * worker's moves go through. */
static void
test_workflow_roles (void)
{
  g_autoptr(Center) c = center_init ("sync-roles-center", COUNTY);
  g_autofree char *csv = test_registry ("sync-roles-registry", COUNTY, 3, 17);
  g_auto(TestTablet) worker = { 0 };
  g_auto(TestTablet) clerk = { 0 };
  g_auto(TestTablet) county = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autofree char *household = NULL;
  g_autofree char *state_sql = NULL;
  g_autofree char *center_sql = NULL;

  center_add_user (c, "w.one", "worker", COUNTY);
  center_add_user (c, "k.one", "clerk", COUNTY);
  center_add_user (c, "c.one", "county", COUNTY);
  center_start (c);
  test_tablet_enrol_at (&worker, "sync-roles-worker", c, "w.one", c->base);
  test_tablet_enrol_at (&clerk, "sync-roles-clerk", c, "k.one", c->base);
  test_tablet_enrol_at (&county, "sync-roles-county", c, "c.one", c->base);
  test_tablet_cli (&r, &worker, "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  household = store_text (&worker, "SELECT id FROM households ORDER BY id LIMIT 1");
  state_sql = g_strdup_printf ("SELECT monitoring_status FROM households WHERE id = '%s'", household);
  center_sql = g_strdup_printf ("SELECT value FROM field_state WHERE tbl = 'households' AND record_id = '%s' "
                                "AND field = 'monitoring_status'", household);

  /* Each role's own move, synced in between. */
  test_tablet_cli (&r, &worker, "review", "declare", household, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (sync_tablet (&worker, NULL, NULL), ==, 0);
  g_assert_cmpint (sync_tablet (&clerk, NULL, NULL), ==, 0);
  test_tablet_cli (&r, &clerk, "review", "approve", household, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (sync_tablet (&clerk, NULL, NULL), ==, 0);
  g_assert_cmpint (sync_tablet (&county, NULL, NULL), ==, 0);
  test_tablet_cli (&r, &county, "review", "approve", household, "--measure", "public_job:村级公益性保洁岗位", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (sync_tablet (&county, NULL, NULL), ==, 0);
  g_assert_cmpint (sync_tablet (&worker, NULL, NULL), ==, 0);
  {
    g_autofree char *state = store_text (&worker, state_sql);
    g_autofree char *at_center = center_db_text (c, center_sql);

    g_assert_cmpstr (state, ==, "monitored");
    g_assert_cmpstr (at_center, ==, "monitored");
  }
  g_assert_cmpint (store_int (&worker, "SELECT count(*) FROM measures"), ==, 1);
  g_assert_cmpint (center_db_int (c, "SELECT count(*) FROM push_outcomes WHERE code IS NOT NULL"), ==, 0);

  /* The worker proposes the elimination (its move), then its store is
   * made to say clerk, then county, and approves it twice. */
  test_tablet_cli (&r, &worker, "review", "propose-elimination", household, NULL);
  g_assert_cmpint (r.status, ==, 0);
  store_exec (&worker, "UPDATE store_meta SET value = 'clerk' WHERE key = 'role'");
  test_tablet_cli (&r, &worker, "review", "approve", household, NULL);
  g_assert_cmpint (r.status, ==, 0);
  store_exec (&worker, "UPDATE store_meta SET value = 'county' WHERE key = 'role'");
  test_tablet_cli (&r, &worker, "review", "approve", household, NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_tablet_cli (&r, &worker, "measure", "add", "--household", household, "--type", "housing", "--description", "危房改造",
       NULL);
  g_assert_cmpint (r.status, ==, 0);
  {
    g_autoptr(JsonObject) result = NULL;
    g_autofree char *at_center = NULL;
    g_autoptr(GPtrArray) reasons = NULL;

    g_assert_cmpint (sync_tablet (&worker, &result, NULL), ==, 0);
    g_assert_cmpint (json_object_get_int_member (result, "refused"), >, 0);
    at_center = center_db_text (c, center_sql);
    g_assert_cmpstr (at_center, ==, "pending_elimination");
    /* The clerk's and the county's reviews, the move to risk_eliminated,
     * its date, and the measure's decided fields: refused for the role. */
    g_assert_cmpint (center_db_int (c, "SELECT count(*) FROM changes WHERE tbl = 'reviews' AND hearth_fields (fields) "
                                       "LIKE '%\"role\":\"county\"%' AND device IN (SELECT n.num FROM device_numbers n "
                                       "JOIN devices d ON d.id = n.id WHERE "
                                       "user = 'w.one')"), ==, 0);
    /* (A field alone, or in a write of several: kind "edits".) */
    g_assert_cmpint (center_db_int (c, "SELECT count(*) FROM changes WHERE field = 'eliminated_on' "
                                       "OR json_extract (hearth_fields (fields), '$.eliminated_on') IS NOT NULL"), ==,
                     0);
    g_assert_cmpint (center_db_int (c, "SELECT count(*) FROM changes WHERE tbl = 'measures' AND (field = 'type' "
                                       "OR (kind = 'edits' AND json_extract (fields, '$.type') IS NOT NULL))"), ==,
                     1);
    g_assert_cmpint (center_db_int (c, "SELECT count(*) FROM push_outcomes WHERE code IS NOT NULL AND code <> "
                                       "'role'"), ==, 0);
    /* The two reviews, the household's write (its move and date, one
     * change) and the measure's: four changes at least. */
    g_assert_cmpint (center_db_int (c, "SELECT count(*) FROM push_outcomes WHERE code = 'role'"), >=, 4);
    reasons = store_rows (&worker, "SELECT message FROM sync_refused ORDER BY seq");
    g_assert_cmpuint (reasons->len, >=, 4);
    g_assert_nonnull (strstr (reasons->pdata[0], "worker"));
    /* The next run says "Synced" with the refusals in the same line, not
     * "Synced" and then that changes were refused. */
    test_tablet_cli (&r, &worker, "sync", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "Synced, with refusals: the center answered every change of this tablet and "
                                     "refused "));
    g_assert_null (strstr (r.out, "Synced: the center has every change"));
    g_assert_null (strstr (r.out, "The center refused"));
  }
  /* The proposal itself was the worker's: the clerk sees it. */
  g_assert_cmpint (sync_tablet (&clerk, NULL, NULL), ==, 0);
  {
    g_autofree char *state = store_text (&clerk, state_sql);
    g_assert_cmpstr (state, ==, "pending_elimination");
  }
  center_stop (c);
}

/* A store initialised with a county key (init --county-public-key) keeps
 * its recovery envelope at enrolment (issue 5, H7): a center that names
 * the same county key enrols it and the envelope is left as it is; one
 * that names another key is refused before anything is stored, and the
 * envelope still opens with the county's own secret key. */
static void
test_enrol_county_key (void)
{
  g_autoptr(Center) c = center_init ("sync-countykey-center", COUNTY);
  g_autofree char *base = test_make_dir ("sync-countykey");
  g_autofree char *other_sk = g_build_filename (base, "other.key", NULL);
  g_autofree char *other_pk = g_build_filename (base, "other.pub", NULL);
  g_autofree char *center_pk = g_build_filename (base, "center.pub", NULL);
  g_autofree char *new_pass = g_build_filename (base, "new-pass", NULL);
  g_auto(TestTablet) a = { 0 };
  g_auto(TestTablet) b = { 0 };
  g_auto(TestRun) r = { 0 };
  TestTablet *tablets[] = { &a, &b };
  const char *names[] = { "a", "b" };

  center_add_user (c, "w.one", "worker", COUNTY);
  center_start (c);
  test_run_cli (&r, NULL, "county-keygen", "--secret-key-out", other_sk, "--public-key-out", other_pk, NULL);
  g_assert_cmpint (r.status, ==, 0);
  {
    g_autoptr(HearthSecret) sk = hearth_county_key_read_secret (c->key_path, NULL);
    guint8 pk[32];

    g_assert_nonnull (sk);
    crypto_scalarmult_base (pk, hearth_secret_peek (sk));
    g_assert_true (hearth_county_key_write (center_pk, FALSE, pk, NULL));
  }
  g_assert_true (g_file_set_contents (new_pass, "a new passphrase for the worker\n", -1, NULL));
  g_assert_cmpint (g_chmod (new_pass, 0600), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (tablets); i++)
    {
      tablets[i]->dir = g_build_filename (base, names[i], NULL);
      tablets[i]->pass = g_build_filename (base, "pass", NULL);
    }
  g_assert_true (g_file_set_contents (a.pass, "correct horse battery\n", -1, NULL));
  g_assert_cmpint (g_chmod (a.pass, 0600), ==, 0);

  /* A: sealed to another county's key. */
  test_tablet_cli (&r, &a, "init", "--kdf", "test", "--county-public-key", other_pk, NULL);
  g_assert_cmpint (r.status, ==, 0);
  {
    g_autofree char *code = center_enrol_code (c, "w.one");

    test_tablet_cli (&r, &a, "enrol", "--center", c->base, "--code", code, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "county key"));
  }
  test_tablet_cli (&r, &a, "sync", NULL);
  g_assert_cmpint (r.status, ==, 1);   /* not enrolled */
  g_assert_nonnull (strstr (r.err, "not enrolled"));
  /* The envelope is the one init made: the center's county key does not
   * open it, the other county's does. */
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", a.dir, "recover", "--county-key", c->key_path, "--new-passphrase-file",
                new_pass, NULL);
  g_assert_cmpint (r.status, !=, 0);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", a.dir, "recover", "--county-key", other_sk, "--new-passphrase-file", new_pass,
                NULL);
  g_assert_cmpint (r.status, ==, 0);

  /* B: sealed to this center's key: enrolled, and the keyslot (with its
   * envelope) is left as it was. */
  test_tablet_cli (&r, &b, "init", "--kdf", "test", "--county-public-key", center_pk, NULL);
  g_assert_cmpint (r.status, ==, 0);
  {
    g_autofree char *code = center_enrol_code (c, "w.one");
    g_autofree char *slot_path = g_build_filename (b.dir, "keyslot.0", NULL);
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    gsize before_len = 0, after_len = 0;

    g_assert_true (g_file_get_contents (slot_path, &before, &before_len, NULL));
    test_tablet_cli (&r, &b, "enrol", "--center", c->base, "--code", code, NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_true (g_file_get_contents (slot_path, &after, &after_len, NULL));
    g_assert_cmpmem (before, before_len, after, after_len);
  }
  g_assert_cmpint (sync_tablet (&b, NULL, NULL), ==, 0);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", b.dir, "recover", "--county-key", c->key_path, "--new-passphrase-file",
                new_pass, NULL);
  g_assert_cmpint (r.status, ==, 0);
  center_stop (c);
}

/* A tablet whose cursor is beyond the center's end (the center was
 * restored from a backup): the center answers its real end, the tablet
 * moves back to it, and what is stored after reaches it (issue 5). */
static void
test_cursor_beyond_end (void)
{
  g_autoptr(Center) c = center_init ("sync-beyond-center", COUNTY);
  g_autofree char *csv = test_registry ("sync-beyond-registry", COUNTY, 2, 23);
  g_auto(TestTablet) a = { 0 };
  g_auto(TestTablet) b = { 0 };
  g_auto(TestRun) r = { 0 };
  gint64 end;

  center_add_user (c, "w.one", "worker", COUNTY);
  center_add_user (c, "w.two", "worker", COUNTY);
  center_start (c);
  test_tablet_enrol_at (&a, "sync-beyond-a", c, "w.one", c->base);
  test_tablet_enrol_at (&b, "sync-beyond-b", c, "w.two", c->base);
  g_assert_cmpint (sync_tablet (&b, NULL, NULL), ==, 0);
  store_exec (&b, "UPDATE sync_state SET value = 5000 WHERE key = 'cursor'");
  g_assert_cmpint (sync_tablet (&b, NULL, NULL), ==, 0);
  end = center_db_int (c, "SELECT coalesce (max (cursor), 0) FROM changes");
  g_assert_cmpint (store_int (&b, "SELECT value FROM sync_state WHERE key = 'cursor'"), ==, end);

  test_tablet_cli (&r, &a, "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);
  g_assert_cmpint (sync_tablet (&b, NULL, NULL), ==, 0);
  g_assert_cmpint (store_int (&b, "SELECT count(*) FROM households"), ==, 2);
  center_stop (c);
}

/* A request the center finds malformed (400) is a bug on this side: exit
 * 70, as INTERFACES.md and PROTOCOL.md section 3 say, not 6 (the center
 * refused); and a run that failed never says "Synced", whatever the state
 * the last good run left (issue 5). */
static void
test_bad_request (void)
{
  g_autoptr(Center) c = center_init ("sync-badreq-center", COUNTY);
  g_auto(TestTablet) a = { 0 };
  g_auto(TestRun) r = { 0 };

  center_add_user (c, "w.one", "worker", COUNTY);
  center_start (c);
  test_tablet_enrol_at (&a, "sync-badreq-a", c, "w.one", c->base);
  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);
  test_tablet_cli (&r, &a, "sync", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Synced:"));
  /* One try, said in the singular. */
  g_assert_nonnull (strstr (r.out, ", in 1 try.\n"));
  /* A cursor no center takes: its pull is a 400 bad-request. */
  store_exec (&a, "UPDATE sync_state SET value = 1000000000000000 WHERE key = 'cursor'");
  test_tablet_cli (&r, &a, "sync", NULL);
  g_assert_cmpint (r.status, ==, 70);
  g_assert_nonnull (strstr (r.err, "cursor"));
  g_assert_null (strstr (r.out, "Synced:"));
  g_assert_nonnull (strstr (r.out, "Not synced"));

  /* A store whose device id is not a UUID (damaged) pushes nothing: its
   * first signed request is refused (401) and the run says why. (The push
   * body, written as text with the id unescaped, checks it again.) */
  {
    g_auto(TestRun) r2 = { 0 };
    g_autofree char *csv = test_registry ("sync-badreq-registry", COUNTY, 2, 31);
    gint64 stored = center_db_int (c, "SELECT count (*) FROM changes");

    store_exec (&a, "UPDATE sync_state SET value = 0 WHERE key = 'cursor'");
    test_tablet_cli (&r2, &a, "household", "import", csv, NULL);
    g_assert_cmpint (r2.status, ==, 0);
    store_exec (&a, "UPDATE store_meta SET value = 'not\"a-uuid' WHERE key = 'device_id'");
    test_run_clear (&r2);
    test_tablet_cli (&r2, &a, "sync", NULL);
    g_assert_cmpint (r2.status, ==, 6);
    g_assert_nonnull (strstr (r2.err, "Hearth-Device is not a device id"));
    g_assert_nonnull (strstr (r2.out, "Not synced"));
    g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, stored);
    g_assert_cmpint (store_int (&a, "SELECT count (*) FROM sync_outbox WHERE state = 'pending'"), >, 0);
  }
  center_stop (c);
}

/* A push the center refuses whole for its size (413 too-large: more than
 * 8 MiB once gunzipped) is sent again, half as many changes a request,
 * until each fits (app/sync-run.c; as against a center of before 2,000
 * changes a push, which answers too-many): everything arrives once. */
static void
test_push_halved (void)
{
  g_autoptr(Center) c = center_init ("sync-halved-center", COUNTY);
  g_autofree char *csv = test_registry ("sync-halved-registry", COUNTY, 12, 29);
  g_auto(TestTablet) a = { 0 };
  g_auto(TestRun) r = { 0 };
  gint64 outbox, big;

  center_add_user (c, "w.one", "worker", COUNTY);
  center_start (c);
  test_tablet_enrol_at (&a, "sync-halved-a", c, "w.one", c->base);
  test_tablet_cli (&r, &a, "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  /* Each household's address 900,000 bytes as the edit pushes it: twelve
   * of them are some 10 MiB, each under the 1 MiB a value may have. */
  store_exec (&a, "UPDATE field_edits SET value = printf ('%.*c', 900000, 'x') "
                  "WHERE record_table = 'households' AND field = 'address'");
  big = store_int (&a, "SELECT count (*) FROM field_edits WHERE record_table = 'households' AND field = 'address'");
  g_assert_cmpint (big, ==, 12);
  outbox = store_int (&a, "SELECT max (seq) FROM sync_outbox");
  g_assert_cmpint (outbox, >, 12);
  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM all_push_outcomes WHERE code IS NULL"), ==, outbox);
  /* (Each in its household's write, one change of kind "edits".) */
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes WHERE tbl = 'households' AND kind = 'edits' "
                                     "AND length (json_extract (fields, '$.address[0]')) = 900000"), ==, 12);
  g_assert_cmpint (store_int (&a, "SELECT count (*) FROM sync_outbox WHERE state = 'pending'"), ==, 0);
  center_stop (c);
}

/* A reverse proxy before the center with a lower body limit than the
 * center's 8 MiB (nginx's client_max_body_size; played by the fault
 * proxy's --max-body, which answers 413 with nginx's web page): the push
 * is sent again in halves until each fits, everything arrives once; a
 * single change larger than the proxy lets through stops the sync with
 * the proxy named (exit 70), not retried as an unreachable network, and
 * what was acknowledged before it stays so. */
static void
test_push_halved_by_proxy (void)
{
  g_autoptr(Center) c = center_init ("sync-proxy413-center", COUNTY);
  g_autofree char *csv = test_registry ("sync-proxy413-registry", COUNTY, 12, 31);
  g_autofree char *flag = g_build_filename (c->dir, "offline", NULL);
  g_autofree char *proxy_log = g_strconcat (flag, ".log", NULL);
  g_autofree char *url = NULL;
  g_autofree char *sql = NULL;
  const char *faults[] = { "--max-body", "262144", NULL };
  const char *answered[] = { "answered 413 too large", NULL };
  g_auto(TestTablet) a = { 0 };
  g_auto(TestRun) r = { 0 };
  g_auto(TestRun) r2 = { 0 };
  GSubprocess *proxy;
  gint64 outbox, acked;
  guint refusals;

  center_add_user (c, "w.one", "worker", COUNTY);
  center_start (c);
  proxy = test_proxy_start (c, flag, faults, &url);
  test_tablet_enrol_at (&a, "sync-proxy413-a", c, "w.one", c->base);
  sql = g_strdup_printf ("UPDATE sync_state SET value = '%s' WHERE key = 'center_url'", url);
  store_exec (&a, sql);
  test_tablet_cli (&r, &a, "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  /* Each address 200,000 hexadecimal digits of random bytes: some
   * 105 KB a change gzipped, twelve of them 1.2 MB, beyond the proxy's
   * 256 KiB; two at a time fit. */
  store_exec (&a, "UPDATE field_edits SET value = hex (randomblob (100000)) "
                  "WHERE record_table = 'households' AND field = 'address'");
  outbox = store_int (&a, "SELECT max (seq) FROM sync_outbox");
  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);
  refusals = count_lines (proxy_log, answered);
  g_assert_cmpuint (refusals, >=, 3);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM all_push_outcomes WHERE code IS NULL"), ==, outbox);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes WHERE tbl = 'households' AND kind = 'edits' "
                                     "AND length (json_extract (fields, '$.address[0]')) = 200000"), ==, 12);
  g_assert_cmpint (store_int (&a, "SELECT count (*) FROM sync_outbox WHERE state = 'pending'"), ==, 0);

  test_proxy_stop (proxy);
  center_stop (c);

  /* One address of 800,000 digits (some 420 KB gzipped) alone passes the
   * proxy's limit: named, this side's to tell county IT, not retried. */
  {
    g_autoptr(Center) c2 = center_init ("sync-proxy413-center2", COUNTY);
    g_autofree char *csv2 = test_registry ("sync-proxy413-registry2", COUNTY, 3, 32);
    g_autofree char *flag2 = g_build_filename (c2->dir, "offline", NULL);
    g_autofree char *proxy_log2 = g_strconcat (flag2, ".log", NULL);
    g_autofree char *url2 = NULL;
    g_autofree char *sql2 = NULL;
    g_auto(TestTablet) b = { 0 };
    g_auto(TestRun) r3 = { 0 };

    center_add_user (c2, "w.two", "worker", COUNTY);
    center_start (c2);
    proxy = test_proxy_start (c2, flag2, faults, &url2);
    test_tablet_enrol_at (&b, "sync-proxy413-b", c2, "w.two", c2->base);
    sql2 = g_strdup_printf ("UPDATE sync_state SET value = '%s' WHERE key = 'center_url'", url2);
    store_exec (&b, sql2);
    test_tablet_cli (&r2, &b, "household", "import", csv2, NULL);
    g_assert_cmpint (r2.status, ==, 0);
    store_exec (&b, "UPDATE field_edits SET value = hex (randomblob (400000)) "
                    "WHERE record_table = 'households' AND field = 'address' AND hlc = "
                    "(SELECT max (hlc) FROM field_edits WHERE record_table = 'households' AND field = 'address')");
    test_tablet_cli (&r3, &b, "sync", "--retry", "--time-limit", "20", NULL);
    g_assert_cmpint (r3.status, ==, 70);
    g_assert_nonnull (strstr (r3.err, "a proxy before the center answered 413"));
    g_assert_cmpuint (count_lines (proxy_log2, answered), >=, 2);
    /* The changes before it in local order arrived; it and the ones after
     * wait on the tablet. */
    acked = store_int (&b, "SELECT max (seq) - (SELECT count (*) FROM sync_outbox WHERE state = 'pending') "
                           "FROM sync_outbox");
    g_assert_cmpint (acked, >, 0);
    g_assert_cmpint (center_db_int (c2, "SELECT count (*) FROM all_push_outcomes WHERE code IS NULL"), ==, acked);
    g_assert_cmpint (store_int (&b, "SELECT count (*) FROM sync_outbox WHERE state = 'pending'"), >, 0);
    test_proxy_stop (proxy);
    center_stop (c2);
  }
}

/* A tablet of this version and a center of before protocol version 3
 * (played by the proxy, which answers /v3/pull 404 `not-found` as such a
 * center does): the tablet pulls with /v2/pull (app/sync-run.c), all of
 * it, and says nothing went wrong; through the center itself it pulls
 * with /v3/pull. */
static void
test_older_center (void)
{
  g_autoptr(Center) c = center_init ("sync-older-center", COUNTY);
  g_autofree char *csv = test_registry ("sync-older-registry", COUNTY, 8, 41);
  g_autofree char *flag = g_build_filename (c->dir, "offline", NULL);
  g_autofree char *proxy_log = g_strconcat (flag, ".log", NULL);
  g_autofree char *url = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *households_a = NULL;
  g_autofree char *households_b = NULL;
  const char *faults[] = { "--not-found", "/v3/", NULL };
  const char *answered[] = { "answered 404 not-found", NULL };
  const char *v2[] = { "GET /v2/pull", " 200 ", NULL };
  const char *v3[] = { "GET /v3/pull", NULL };
  const char *households_sql = "SELECT group_concat (x, '/') FROM (SELECT id || ',' || head_name || ',' || "
                               "village_code AS x FROM households ORDER BY id)";
  g_auto(TestTablet) a = { 0 };
  g_auto(TestTablet) b = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autoptr(JsonObject) result = NULL;
  GSubprocess *proxy;

  center_add_user (c, "w.one", "worker", COUNTY);
  center_add_user (c, "w.two", "worker", COUNTY);
  center_start (c);
  proxy = test_proxy_start (c, flag, faults, &url);
  test_tablet_enrol_at (&a, "sync-older-a", c, "w.one", c->base);
  test_tablet_enrol_at (&b, "sync-older-b", c, "w.two", c->base);
  test_tablet_cli (&r, &a, "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (sync_tablet (&a, NULL, NULL), ==, 0);
  g_assert_cmpuint (count_lines (c->log_path, v3), >, 0);

  sql = g_strdup_printf ("UPDATE sync_state SET value = '%s' WHERE key = 'center_url'", url);
  store_exec (&b, sql);
  g_assert_cmpint (sync_tablet (&b, &result, NULL), ==, 0);
  g_assert_true (json_object_get_boolean_member (result, "synced"));
  g_assert_cmpint (json_object_get_int_member (result, "pulled"), >, 0);
  g_assert_cmpuint (count_lines (proxy_log, answered), ==, 1);
  g_assert_cmpuint (count_lines (c->log_path, v2), >, 0);
  households_a = store_text (&a, households_sql);
  households_b = store_text (&b, households_sql);
  g_assert_nonnull (households_a);
  g_assert_cmpstr (households_b, ==, households_a);
  test_proxy_stop (proxy);
  center_stop (c);
}

/* The size of @dir's file @name, -1 when there is none. */
static gint64
file_size (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gint64) st.st_size : -1;
}

static gint64
db_int (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  gint64 v = -1;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  if (sqlite3_step (st) == SQLITE_ROW)
    v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return v;
}

/* What a tablet holds of the pulled tables, one number each. */
static char *
held_counts (sqlite3 *db)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT " households, %" G_GINT64_FORMAT " members, %" G_GINT64_FORMAT
                          " edits, %" G_GINT64_FORMAT " writes, cursor %" G_GINT64_FORMAT,
                          db_int (db, "SELECT count (*) FROM households"), db_int (db, "SELECT count (*) FROM members"),
                          db_int (db, "SELECT count (*) FROM field_edits"),
                          db_int (db, "SELECT count (*) FROM record_writes"),
                          db_int (db, "SELECT value FROM sync_state WHERE key = 'cursor'"));
}

/* A sync run that pulls much ends with its writes in the store's WAL,
 * durable and readable there, and says the checkpoint is due; the
 * caller's hearth_store_checkpoint() then copies them into the database
 * file. A copy of the store's files taken when the run returns (what a
 * kill -9 before the checkpoint leaves) opens with every row; so does the
 * store after `hearth-cli sync`, which copies its WAL itself once it has
 * printed its result (the app holding the store open, so that its close
 * is not the last). */
static void
test_checkpoint_after_run (void)
{
  g_autoptr(Center) c = center_init ("sync-ckpt-center", COUNTY);
  g_autofree char *csv = test_registry ("sync-ckpt-registry", COUNTY, 600, 17);
  g_autofree char *image = test_make_dir ("sync-ckpt-image");
  g_auto(TestTablet) a = { 0 };
  g_auto(TestTablet) b = { 0 };
  g_auto(TestTablet) cli_tablet = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autoptr(HearthSecret) pass = NULL;
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthStore) reader = NULL;
  g_autoptr(HearthStore) copy = NULL;
  g_autoptr(HearthCaseStore) cases = NULL;
  g_autoptr(HearthSyncStore) sync = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *seen = NULL;
  g_autofree char *in_copy = NULL;
  HearthSyncRunOptions options = { .holder = "test-sync" };
  HearthSyncRunResult result;
  gint64 pages, wal_frames;
  int frames = -1, copied = -1;

  center_add_user (c, "w.a", "worker", COUNTY);
  center_add_user (c, "w.b", "worker", COUNTY);
  center_start (c);
  test_tablet_enrol (&a, "sync-ckpt-a", c, "w.a");
  test_tablet_enrol (&b, "sync-ckpt-b", c, "w.b");
  test_tablet_cli (&r, &a, "household", "import", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);

  pass = hearth_secret_read_passphrase_file (b.pass, &error);
  g_assert_no_error (error);
  store = hearth_store_open (b.dir, pass, &error);
  g_assert_no_error (error);
  cases = hearth_case_store_new (store, "w.b", &error);
  g_assert_no_error (error);
  sync = hearth_sync_store_new (cases);
  g_assert_true (hearth_sync_run (sync, &options, &result, &error));
  g_assert_no_error (error);
  g_assert_true (result.status.synced);
  g_assert_cmpint (result.pulled, >, 0);

  /* The run left its pages in the WAL, not copied: the database file
   * holds fewer pages than the store. */
  pages = db_int (hearth_store_get_db (store), "PRAGMA page_count");
  wal_frames = (file_size (b.dir, HEARTH_STORE_DB_NAME "-wal") - 32) / (HEARTH_PAGE_SIZE + 24);
  g_test_message ("the pull: %" G_GINT64_FORMAT " changes, %" G_GINT64_FORMAT " pages, %" G_GINT64_FORMAT
                  " frames in the WAL, %" G_GINT64_FORMAT " pages in the database file", result.pulled, pages,
                  wal_frames, file_size (b.dir, HEARTH_STORE_DB_NAME) / HEARTH_PAGE_SIZE);
  g_assert_true (result.checkpoint_due);
  g_assert_cmpint (wal_frames, >=, 1000);
  g_assert_cmpint (file_size (b.dir, HEARTH_STORE_DB_NAME), <, pages * HEARTH_PAGE_SIZE / 2);

  /* Readable from another connection, from the WAL. */
  expected = held_counts (hearth_store_get_db (store));
  g_assert_cmpint (db_int (hearth_store_get_db (store), "SELECT count (*) FROM households"), ==, 600);
  reader = hearth_store_open_again (store, &error);
  g_assert_no_error (error);
  seen = held_counts (hearth_store_get_db (reader));
  g_assert_cmpstr (seen, ==, expected);
  g_clear_object (&reader);

  /* Durable: the files as a kill -9 now would leave them (the connection
   * open, the WAL not copied; no shared-memory index) open with every row. */
  {
    const char *names[] = { "keyslot.0", "keyslot.1", HEARTH_STORE_DB_NAME, HEARTH_STORE_DB_NAME "-wal" };

    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      {
        g_autofree char *from = g_build_filename (b.dir, names[i], NULL);
        g_autofree char *to = g_build_filename (image, names[i], NULL);
        g_autofree char *bytes = NULL;
        gsize len = 0;

        g_assert_true (g_file_get_contents (from, &bytes, &len, NULL));
        g_assert_true (g_file_set_contents (to, bytes, (gssize) len, NULL));
      }
    copy = hearth_store_open (image, pass, &error);
    g_assert_no_error (error);
    in_copy = held_counts (hearth_store_get_db (copy));
    g_assert_cmpstr (in_copy, ==, expected);
    g_assert_true (hearth_store_check (copy, &error));
    g_assert_no_error (error);
    g_clear_object (&copy);
  }

  /* The caller's checkpoint copies every frame: the database file then
   * holds the whole store. */
  g_assert_true (hearth_store_checkpoint (store, &frames, &copied, &error));
  g_assert_no_error (error);
  g_assert_cmpint (frames, >=, 1000);
  g_assert_cmpint (copied, ==, frames);
  g_assert_cmpint (file_size (b.dir, HEARTH_STORE_DB_NAME), ==, pages * HEARTH_PAGE_SIZE);
  g_free (seen);
  seen = held_counts (hearth_store_get_db (store));
  g_assert_cmpstr (seen, ==, expected);

  /* hearth-cli sync copies the WAL itself after its result, even when
   * another program (here this one) holds the store open. */
  test_tablet_enrol (&cli_tablet, "sync-ckpt-cli", c, "w.b");
  {
    g_autoptr(HearthStore) held = hearth_store_open (cli_tablet.dir, pass, &error);

    g_assert_no_error (error);
    test_tablet_cli (&r, &cli_tablet, "sync", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_cmpint (file_size (cli_tablet.dir, HEARTH_STORE_DB_NAME), ==,
                     db_int (hearth_store_get_db (held), "PRAGMA page_count") * HEARTH_PAGE_SIZE);
    g_free (seen);
    seen = held_counts (hearth_store_get_db (held));
    g_assert_cmpstr (seen, ==, expected);
  }
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
  g_test_add_func ("/sync/replay-cut", test_replay_cut);
  g_test_add_func ("/sync/enrol-retry", test_enrol_retry);
  g_test_add_func ("/sync/revoked", test_revoked);
  g_test_add_func ("/sync/tls-trust", test_tls_trust);
  g_test_add_func ("/sync/hostile", test_hostile);
  g_test_add_func ("/sync/workflow-roles", test_workflow_roles);
  g_test_add_func ("/sync/enrol-county-key", test_enrol_county_key);
  g_test_add_func ("/sync/cursor-beyond-end", test_cursor_beyond_end);
  g_test_add_func ("/sync/bad-request", test_bad_request);
  g_test_add_func ("/sync/push-halved", test_push_halved);
  g_test_add_func ("/sync/push-halved-by-proxy", test_push_halved_by_proxy);
  g_test_add_func ("/sync/older-center", test_older_center);
  g_test_add_func ("/sync/checkpoint-after-run", test_checkpoint_after_run);
  return g_test_run ();
}

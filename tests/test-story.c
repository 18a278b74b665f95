/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-story.c: a day in the field, end to end (issue 7), headless through
 * hearth-cli, with a real hearth-center on 127.0.0.1 and the worker's
 * tablet behind hearth-fault-proxy:
 *
 *   the county imports a generated registry at the center; a worker, a
 *   village clerk and a county official enrol and pull their households;
 *   the network goes down; the worker registers two new households, starts
 *   `sync --retry` (nobody asks again after that) and visits 20
 *   households, three of which show risks; the network returns and
 *   everything reaches the center; the clerk approves two cases and
 *   returns one with a comment; the worker receives the correction task,
 *   revisits and syncs; the clerk approves the revisit; the county
 *   approves the three and exports the batch; the manifest verifies.
 *   Counts are checked at every step, and nothing is lost or duplicated.
 */
#include "test-center-util.h"

#include "id-number.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define COUNTY "150422"
#define TOWNSHIP "150422101"
#define VILLAGE "150422101203"
#define HOUSEHOLDS 300

/* ---- answers ---------------------------------------------------------------------- */

/* The answers object of tests/data/answers/@name. */
static JsonObject *
answers_of (const char *name)
{
  g_autofree char *path = test_source_path ("tests", "data", "answers", name, NULL);
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_file (p, path, &error));
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (p)));
}

static char *
write_answers (const char *dir, const char *name, JsonObject *o)
{
  g_autoptr(JsonNode) root = json_node_init_object (json_node_alloc (), o);
  g_autofree char *text = json_to_string (root, TRUE);
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

/* @id with its order digits (15 to 17) set to @order and a correct check
 * character: another valid GB 11643 number of the same person's birth. */
static char *
other_id_number (const char *id, guint order)
{
  static const char checks[] = "0123456789X";
  char *s = g_strdup (id);
  char digits[4];

  g_snprintf (digits, sizeof digits, "%03u", order);
  memcpy (s + 14, digits, 3);
  for (guint i = 0; i < 11; i++)
    {
      g_autofree char *why = NULL;

      s[17] = checks[i];
      why = hearth_id_number_check (s, NULL, NULL, NULL);
      if (why == NULL)
        return s;
    }
  g_assert_not_reached ();
}

/* The registration answers of a new household of VILLAGE; @n makes its
 * members' ID numbers its own. */
static char *
registration_answers (const char *dir, guint n)
{
  g_autoptr(JsonObject) o = answers_of ("registration-zh.json");
  g_autofree char *name = g_strdup_printf ("registration-%u.json", n);

  json_object_set_string_member (o, "/data/household/village_code", VILLAGE);
  for (guint m = 1; m <= 5; m++)
    {
      g_autofree char *key = g_strdup_printf ("/data/members[%u]/id_number", m);
      g_autofree char *id = other_id_number (json_object_get_string_member (o, key), 100 + 10 * n + m);

      json_object_set_string_member (o, key, id);
    }
  return write_answers (dir, name, o);
}

/* A visit that finds nothing: good income, every guarantee met. */
static char *
quiet_visit_answers (const char *dir)
{
  g_autoptr(JsonObject) o = answers_of ("visit-zh.json");

  json_object_set_string_member (o, "/data/income/wages_other", "150000");
  json_object_set_string_member (o, "/data/risks/risk_types", "");
  json_object_remove_member (o, "/data/risks/risk_description");
  json_object_set_string_member (o, "/data/risks/medical_self_pay", "0");
  json_object_set_string_member (o, "/data/assistance/propose_monitoring", "no");
  return write_answers (dir, "visit-quiet.json", o);
}

/* A visit that finds risks: the well water fails, monitoring proposed. */
static char *
risky_visit_answers (const char *dir)
{
  g_autoptr(JsonObject) o = answers_of ("visit-zh.json");

  json_object_set_string_member (o, "/data/guarantees/water_quality", "no");
  json_object_set_string_member (o, "/data/assistance/propose_monitoring", "yes");
  return write_answers (dir, "visit-risky.json", o);
}

/* ---- tablets ---------------------------------------------------------------------- */

/* hearth-cli on @t, which must succeed. */
#define cli_ok(t, r, ...) \
  G_STMT_START \
  { \
    test_tablet_cli ((r), (t), __VA_ARGS__); \
    if ((r)->status != 0) \
      g_error ("hearth-cli: exit %d\n%s%s", (r)->status, (r)->out, (r)->err); \
  } \
  G_STMT_END

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_data (p, text, -1, &error));
  g_assert_no_error (error);
  return json_node_ref (json_parser_get_root (p));
}

/* The ids of `--json review list` on @t. */
static GPtrArray *
review_queue (TestTablet *t)
{
  g_auto(TestRun) r = { 0 };
  g_autoptr(JsonNode) root = NULL;
  JsonArray *a;
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);

  cli_ok (t, &r, "--json", "review", "list", NULL);
  root = parse_json (r.out);
  a = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (a); i++)
    g_ptr_array_add (ids, g_strdup (json_object_get_string_member (json_array_get_object_element (a, i), "id")));
  return ids;
}

static gboolean
holds (GPtrArray *ids, const char *id)
{
  return g_ptr_array_find_with_equal_func (ids, id, g_str_equal, NULL);
}

static void
sync_ok (TestTablet *t)
{
  g_auto(TestRun) r = { 0 };

  cli_ok (t, &r, "sync", NULL);
  g_assert_nonnull (strstr (r.out, "Synced"));
}

/* The tablet has nothing left to push: every change acknowledged. */
static void
assert_all_acknowledged (TestTablet *t)
{
  g_auto(TestRun) r = { 0 };
  g_autoptr(JsonNode) root = NULL;
  JsonObject *o;

  cli_ok (t, &r, "--json", "sync", "--status", NULL);
  root = parse_json (r.out);
  o = json_node_get_object (root);
  g_assert_cmpint (json_object_get_int_member (o, "pending"), ==, 0);
}

static gint64
manifest_records (JsonObject *manifest, const char *file)
{
  JsonArray *files = json_object_get_array_member (manifest, "files");

  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      JsonObject *f = json_array_get_object_element (files, i);
      if (g_str_equal (json_object_get_string_member (f, "name"), file))
        return json_object_get_int_member (f, "records");
    }
  g_error ("the manifest lists no %s", file);
}

/* The "id" of every record of JSON batch file @path. */
static GPtrArray *
batch_ids (const char *path)
{
  g_autoptr(JsonParser) p = json_parser_new ();
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  JsonArray *a;

  g_assert_true (json_parser_load_from_file (p, path, NULL));
  a = json_node_get_array (json_parser_get_root (p));
  for (guint i = 0; i < json_array_get_length (a); i++)
    g_ptr_array_add (ids, g_strdup (json_object_get_string_member (json_array_get_object_element (a, i), "id")));
  return ids;
}

static void
assert_unique (GPtrArray *ids, const char *what)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < ids->len; i++)
    if (!g_hash_table_add (seen, ids->pdata[i]))
      g_error ("%s %s is in the batch twice", what, (char *) ids->pdata[i]);
}

/* ---- the story -------------------------------------------------------------------- */

static void
test_day (void)
{
  g_autoptr(Center) c = center_init ("story-center", COUNTY);
  g_autofree char *dir = test_make_dir ("story");
  g_autofree char *registry = g_build_filename (dir, "registry.csv", NULL);
  g_autofree char *offline = g_build_filename (dir, "offline", NULL);
  g_autofree char *quiet = quiet_visit_answers (dir);
  g_autofree char *risky = risky_visit_answers (dir);
  g_autofree char *batch = g_build_filename (dir, "batch", NULL);
  g_autofree char *url = NULL;
  g_autofree char *retry_out = NULL, *retry_err = NULL;
  g_autoptr(GSubprocess) proxy = NULL;
  g_autoptr(GSubprocess) retry = NULL;
  g_autoptr(GPtrArray) to_visit = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) risky_ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) queue = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(TestTablet) worker = { 0 };
  g_auto(TestTablet) clerk = { 0 };
  g_auto(TestTablet) county = { 0 };
  g_auto(TestRun) r = { 0 };
  gint64 in_township, households_before, submissions_before;
  const char *returned;

  /* The county's registry at the center; three people enrol. */
  test_run_cli (&r, NULL, "demo", "generate", "--households", G_STRINGIFY (HOUSEHOLDS), "--seed", "2026", "--county",
                COUNTY, "--out", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "import-households", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);
  center_add_user (c, "wang.fang", "worker", TOWNSHIP);
  center_add_user (c, "li.ming", "clerk", TOWNSHIP);
  center_add_user (c, "zhao.lei", "county", COUNTY);
  center_start (c);
  proxy = test_proxy_start (c, offline, NULL, &url);
  test_tablet_enrol_at (&worker, "story-worker", c, "wang.fang", url);
  test_tablet_enrol (&clerk, "story-clerk", c, "li.ming");
  test_tablet_enrol (&county, "story-county", c, "zhao.lei");
  sync_ok (&worker);
  sync_ok (&clerk);
  sync_ok (&county);

  /* Each holds its scope's households: the township's, the county's. */
  in_township = test_tablet_int (&county, "SELECT count (*) FROM households WHERE village_code LIKE '" TOWNSHIP "%'");
  g_test_message ("%d households in the county, %" G_GINT64_FORMAT " in township " TOWNSHIP, HOUSEHOLDS, in_township);
  g_assert_cmpint (test_tablet_int (&county, "SELECT count (*) FROM households"), ==, HOUSEHOLDS);
  g_assert_cmpint (in_township, >, 40);
  g_assert_cmpint (test_tablet_int (&worker, "SELECT count (*) FROM households"), ==, in_township);
  g_assert_cmpint (test_tablet_int (&clerk, "SELECT count (*) FROM households"), ==, in_township);
  households_before = in_township;
  submissions_before = test_tablet_int (&county, "SELECT count (*) FROM submissions");

  /* The network goes down for the worker. */
  g_assert_true (g_file_set_contents (offline, "", 0, NULL));
  test_tablet_cli (&r, &worker, "sync", NULL);
  g_assert_cmpint (r.status, ==, 5);

  /* Two new households registered offline. */
  for (guint n = 1; n <= 2; n++)
    {
      g_autofree char *answers = registration_answers (dir, n);

      cli_ok (&worker, &r, "household", "add", "--answers", answers, NULL);
    }
  g_assert_cmpint (test_tablet_int (&worker, "SELECT count (*) FROM households"), ==, households_before + 2);

  /* From now on nobody asks: sync --retry keeps trying in the background. */
  {
    const char *argv[] = { g_getenv ("HEARTH_CLI"), "--json", "--data-dir", worker.dir, "--passphrase-file",
                           worker.pass, "sync", "--retry", "--time-limit", "600", NULL };
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                   G_SUBPROCESS_FLAGS_STDERR_PIPE);

    g_subprocess_launcher_setenv (l, "LANGUAGE", "en", TRUE);
    g_subprocess_launcher_setenv (l, "LC_ALL", "C.UTF-8", TRUE);
    retry = g_subprocess_launcher_spawnv (l, argv, &error);
    g_assert_no_error (error);
  }

  /* Twenty visits of households with nothing pending; three find risks. */
  {
    g_autoptr(JsonNode) root = NULL;
    JsonArray *a;

    cli_ok (&worker, &r, "--json", "household", "list", "--village", TOWNSHIP, "--status", "none", NULL);
    root = parse_json (r.out);
    a = json_node_get_array (root);
    g_assert_cmpuint (json_array_get_length (a), >=, 20);
    for (guint i = 0; i < 20; i++)
      g_ptr_array_add (to_visit, g_strdup (json_object_get_string_member (json_array_get_object_element (a, i), "id")));
  }
  for (guint i = 0; i < to_visit->len; i++)
    {
      gboolean finds_risk = i % 7 == 3;   /* visits 4, 11 and 18 */

      cli_ok (&worker, &r, "visit", "record", "--form", "hearth_household_visit", "--answers",
              finds_risk ? risky : quiet, "--household", to_visit->pdata[i], NULL);
      if (finds_risk)
        g_ptr_array_add (risky_ids, g_strdup (to_visit->pdata[i]));
    }
  g_assert_cmpuint (risky_ids->len, ==, 3);
  g_assert_cmpint (test_tablet_int (&worker, "SELECT count (*) FROM households WHERE monitoring_status = "
                                             "'pending_village_review'"), ==, 3);
  g_assert_cmpint (test_tablet_int (&worker, "SELECT count (*) FROM submissions WHERE device_id = "
                                             "(SELECT value FROM store_meta WHERE key = 'device_id')"), ==, 22);
  /* Still down: the center has none of it. */
  g_assert_nonnull (g_subprocess_get_identifier (retry));
  sync_ok (&clerk);
  g_assert_cmpint (test_tablet_int (&clerk, "SELECT count (*) FROM households"), ==, households_before);

  /* The network returns; the retry finishes on its own. */
  g_assert_cmpint (g_unlink (offline), ==, 0);
  g_assert_true (g_subprocess_communicate_utf8 (retry, NULL, NULL, &retry_out, &retry_err, &error));
  g_assert_no_error (error);
  g_test_message ("sync --retry: %s%s", retry_out, retry_err);
  g_assert_cmpint (g_subprocess_get_exit_status (retry), ==, 0);
  assert_all_acknowledged (&worker);

  /* The clerk sees the two new households and exactly the three cases. */
  sync_ok (&clerk);
  g_assert_cmpint (test_tablet_int (&clerk, "SELECT count (*) FROM households"), ==, households_before + 2);
  g_assert_cmpint (test_tablet_int (&clerk, "SELECT count (*) FROM submissions"), ==, submissions_before + 22);
  queue = review_queue (&clerk);
  g_assert_cmpuint (queue->len, ==, 3);
  for (guint i = 0; i < risky_ids->len; i++)
    g_assert_true (holds (queue, risky_ids->pdata[i]));

  /* Two approved, one returned with a comment. */
  cli_ok (&clerk, &r, "review", "approve", risky_ids->pdata[0], NULL);
  cli_ok (&clerk, &r, "review", "approve", risky_ids->pdata[1], NULL);
  returned = risky_ids->pdata[2];
  cli_ok (&clerk, &r, "review", "return", returned, "--comment", "收入核实不全，请补充外出务工收入", NULL);
  sync_ok (&clerk);
  g_clear_pointer (&queue, g_ptr_array_unref);
  queue = review_queue (&clerk);
  g_assert_cmpuint (queue->len, ==, 0);

  /* The worker receives the correction task, revisits and syncs. */
  sync_ok (&worker);
  {
    g_autoptr(JsonNode) root = NULL;
    JsonArray *a;
    guint corrections = 0;

    cli_ok (&worker, &r, "--json", "tasks", NULL);
    root = parse_json (r.out);
    a = json_node_get_array (root);
    for (guint i = 0; i < json_array_get_length (a); i++)
      {
        JsonObject *task = json_array_get_object_element (a, i);

        if (g_str_equal (json_object_get_string_member (task, "kind"), "correction"))
          {
            g_assert_cmpstr (json_object_get_string_member (task, "household_id"), ==, returned);
            corrections++;
          }
      }
    g_assert_cmpuint (corrections, ==, 1);
  }
  g_clear_pointer (&queue, g_ptr_array_unref);
  queue = review_queue (&worker);
  g_assert_cmpuint (queue->len, ==, 1);
  g_assert_cmpstr (queue->pdata[0], ==, returned);
  cli_ok (&worker, &r, "visit", "record", "--form", "hearth_household_visit", "--answers", risky, "--household",
          returned, NULL);
  sync_ok (&worker);
  assert_all_acknowledged (&worker);

  /* The clerk approves the revisit; the county approves all three. */
  sync_ok (&clerk);
  g_clear_pointer (&queue, g_ptr_array_unref);
  queue = review_queue (&clerk);
  g_assert_cmpuint (queue->len, ==, 1);
  cli_ok (&clerk, &r, "review", "approve", returned, NULL);
  sync_ok (&clerk);
  sync_ok (&county);
  g_clear_pointer (&queue, g_ptr_array_unref);
  queue = review_queue (&county);
  g_assert_cmpuint (queue->len, ==, 3);
  for (guint i = 0; i < risky_ids->len; i++)
    cli_ok (&county, &r, "review", "approve", risky_ids->pdata[i], NULL);
  sync_ok (&county);
  assert_all_acknowledged (&county);
  assert_all_acknowledged (&clerk);
  for (guint i = 0; i < risky_ids->len; i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT monitoring_status FROM households WHERE id = '%s'",
                                              (char *) risky_ids->pdata[i]);
      g_autofree char *status = test_tablet_text (&county, sql);

      g_assert_cmpstr (status, ==, "monitored");
    }

  /* County staff export the day's batch; it verifies, and it holds every
   * record once: the 2 + 300 households, the 23 submissions of the day
   * and 11 reviews, one for each move of a case: three visits raising a
   * case, the return and the revisit, three approvals by the clerk and
   * three by the county. */
  {
    g_autoptr(GDateTime) now = g_date_time_new_now_local ();
    g_autoptr(GDateTime) yesterday = g_date_time_add_days (now, -1);
    g_autofree char *since = g_date_time_format (yesterday, "%Y-%m-%d");
    g_autofree char *manifest_path = g_build_filename (batch, "manifest.json", NULL);
    g_autofree char *submissions_path = g_build_filename (batch, "submissions.json", NULL);
    g_autofree char *households_path = g_build_filename (batch, "households.json", NULL);
    g_autoptr(JsonParser) p = json_parser_new ();
    g_autoptr(GPtrArray) submissions = NULL;
    g_autoptr(GPtrArray) households = NULL;
    JsonObject *manifest;

    cli_ok (&county, &r, "export", "--scope", COUNTY, "--since", since, "--format", "json", "--out", batch, NULL);
    test_run_clear (&r);
    test_run_cli (&r, NULL, "verify-batch", batch, NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_true (json_parser_load_from_file (p, manifest_path, NULL));
    manifest = json_node_get_object (json_parser_get_root (p));
    g_test_message ("batch: %" G_GINT64_FORMAT " households, %" G_GINT64_FORMAT " submissions, %" G_GINT64_FORMAT
                    " reviews", manifest_records (manifest, "households.json"),
                    manifest_records (manifest, "submissions.json"), manifest_records (manifest, "reviews.json"));
    g_assert_cmpint (manifest_records (manifest, "households.json"), ==, HOUSEHOLDS + 2);
    g_assert_cmpint (manifest_records (manifest, "submissions.json"), ==, submissions_before + 23);
    g_assert_cmpint (manifest_records (manifest, "reviews.json"), ==, 11);
    submissions = batch_ids (submissions_path);
    households = batch_ids (households_path);
    g_assert_cmpuint (submissions->len, ==, submissions_before + 23);
    assert_unique (submissions, "submission");
    assert_unique (households, "household");
  }

  test_proxy_stop (g_steal_pointer (&proxy));
  center_stop (c);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_assert_nonnull (g_getenv ("HEARTH_CENTER"));
  g_test_add_func ("/story/day", test_day);
  return g_test_run ();
}

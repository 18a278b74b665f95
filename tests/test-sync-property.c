/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-sync-property.c: the sync property test of issue 5 and its fault
 * injections, with real processes: hearth-center serving on 127.0.0.1,
 * hearth-cli stores (--kdf test) enrolled with one-time codes, every
 * exchange through hearth-fault-proxy.
 *
 *   /sync/property: five tablets (three workers, a village clerk and a
 *     county official, all with the county as their scope) and a center,
 *     over HEARTH_PROPERTY_ROUNDS (default 200) random rounds of offline
 *     work through hearth-cli (visits of the bundled visit form on random
 *     households at random dates, registrations, reviews the role allows,
 *     measures added and ended by the clerk and the county) and syncs
 *     (`hearth-cli --json sync --retry --time-limit N`, several tablets at
 *     once) through a proxy that cuts, delays and duplicates, with the
 *     network sometimes down (syncs exit 5 and are tried again later) and
 *     sometimes going down in the middle of a sync. Then a clean sync, twice
 *     round, and every tablet and the center must hold the same state:
 *     the households, members, tasks and measures tables (all columns but
 *     the local times), the submissions and reviews, every field's edit set
 *     (the center's too), the open conflicts (the center's too, and what
 *     sync/merge.h computes from the edits), every device's audit chain;
 *     the center's change log holds each (device, seq) once, up to every
 *     tablet's last; every submission made anywhere is everywhere.
 *   /sync/property/center-killed: the center SIGKILLed several times while
 *     a tablet pushes a large batch, restarted on the same store and port:
 *     nothing lost, nothing twice, the tablet ends synced.
 *   /sync/property/device-killed: a tablet pulling a large first sync is
 *     SIGKILLed at random moments; after each kill the store opens, passes
 *     `check` and `audit verify`, and its cursor never points past data it
 *     does not hold; in the end it holds what the other tablet holds.
 *   /sync/property/clock-off: tablets a day fast and a day slow (their case
 *     stores' wall clocks, driven through the library: hearth-cli has no
 *     clock option) sync, warn about their clocks, and the fast tablet's
 *     concurrent edit does not win by its clock: the center clamped it.
 *
 * HEARTH_PROPERTY_CUT and HEARTH_PROPERTY_DUPLICATE (percent, default 10
 * each) set how often the proxy cuts a connection and duplicates its first
 * request: higher, they make the rare faults of a long run frequent (a
 * stress run, as for issue 5's 401 of a replay cut inside its headers).
 *
 * HEARTH_TEST_SEED=N replays the random choices (not the thread timing of
 * the processes); the seed is printed at the start and with any failure.
 */
#include "test-center-util.h"

#include "case-audit.h"
#include "center-store-sqlite.h"
#include "case-store.h"
#include "merge.h"
#include "store.h"
#include "store-vfs.h"
#include "sync-run.h"
#include "sync-store.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* The center's field edits: its rows of kind 'edit' and the fields of its
 * rows of kind 'edits' (schema/center/0013-grouped-edits.sql), alike. */
#define CENTER_EDITS \
  "WITH edits_of (cursor, device_id, tbl, record_id, field, hlc, value, parents) AS (" \
  "SELECT c.cursor, d.id, c.tbl, c.record_id, c.field, c.hlc, c.value, c.parents FROM changes c " \
  "JOIN device_numbers d ON d.num = c.device WHERE c.kind = 'edit' " \
  "UNION ALL SELECT c.cursor, d.id, c.tbl, c.record_id, j.key, c.hlc, j.value ->> 0, j.value ->> 1 " \
  "FROM changes c JOIN device_numbers d ON d.num = c.device, json_each (c.fields) j WHERE c.kind = 'edits') "

#define COUNTY "150422"
#define PASSPHRASE "correct horse battery\n"
#define N_TABLETS 5
#define DAY_MS G_GINT64_CONSTANT (86400000)

/* ---- the seed, in every failure -------------------------------------------------- */

static guint32 seed;
static char seed_note[160];
static gsize seed_note_len;

static void
print_seed_on_abort (int sig)
{
  ssize_t n = write (STDERR_FILENO, seed_note, seed_note_len);

  (void) n;
  signal (SIGABRT, SIG_DFL);
  raise (SIGABRT);
}

/* Every assertion that fails aborts: the handler names the seed first. */
static void
seed_init (void)
{
  const char *env = g_getenv ("HEARTH_TEST_SEED");

  seed = env != NULL ? (guint32) g_ascii_strtoull (env, NULL, 10) : g_random_int ();
  g_snprintf (seed_note, sizeof seed_note, "\n*** sync property test: seed %u (HEARTH_TEST_SEED=%u replays it)\n",
              seed, seed);
  seed_note_len = strlen (seed_note);
  signal (SIGABRT, print_seed_on_abort);
}

G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN static void
fail (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_error ("seed %u (HEARTH_TEST_SEED=%u replays it): %s", seed, seed, message);
}

#define check(cond, ...) \
  G_STMT_START { if (G_UNLIKELY (!(cond))) fail (__VA_ARGS__); } G_STMT_END

/* ---- tablets ------------------------------------------------------------------------ */

typedef struct {
  char *name;
  char *user;
  const char *role;
  char *dir;
  char *pass;
  char *device;
  char *log;          /* the standard error of its last background run */
} Tablet;

static void
tablet_clear (Tablet *t)
{
  g_free (t->name);
  g_free (t->user);
  g_free (t->dir);
  g_free (t->pass);
  g_free (t->device);
  g_free (t->log);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Tablet, tablet_clear)

static void
cliv (TestRun *r, Tablet *t, const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (char *) "--data-dir");
  g_ptr_array_add (argv, t->dir);
  g_ptr_array_add (argv, (char *) "--passphrase-file");
  g_ptr_array_add (argv, t->pass);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  test_run_clear (r);
  test_run_cliv (r, NULL, (const char *const *) argv->pdata);
}

static void cli (TestRun *r, Tablet *t, const char *first, ...) G_GNUC_NULL_TERMINATED;

static void
cli (TestRun *r, Tablet *t, const char *first, ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  cliv (r, t, (const char *const *) args->pdata);
}

static void
child_setup (gpointer data)
{
  setsid ();                          /* no terminal: a prompt fails */
  prctl (PR_SET_PDEATHSIG, SIGKILL);  /* and nothing outlives a failed test */
}

/* hearth-cli in the background, its output to @out_path, its errors to
 * the tablet's log. */
static GSubprocess *
cli_spawn (Tablet *t, const char *out_path, const char *const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  GSubprocess *proc;

  g_ptr_array_add (argv, (char *) g_getenv ("HEARTH_CLI"));
  g_ptr_array_add (argv, (char *) "--data-dir");
  g_ptr_array_add (argv, t->dir);
  g_ptr_array_add (argv, (char *) "--passphrase-file");
  g_ptr_array_add (argv, t->pass);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_unsetenv (launcher, "HEARTH_DATA_DIR");
  g_subprocess_launcher_unsetenv (launcher, "HEARTH_PASSPHRASE_FILE");
  g_subprocess_launcher_setenv (launcher, "LANGUAGE", "en", TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  /* The launcher does not truncate what a longer run left. */
  g_unlink (out_path);
  g_unlink (t->log);
  g_subprocess_launcher_set_stdout_file_path (launcher, out_path);
  g_subprocess_launcher_set_stderr_file_path (launcher, t->log);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  return proc;
}

static char *
read_text (const char *path)
{
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

/* A new store (--kdf test) for @user, enrolled directly with the center. */
static void
tablet_enrol (Tablet *t, const char *name, Center *c, const char *user, const char *role)
{
  g_autofree char *base = test_make_dir (name);
  g_autofree char *code = center_enrol_code (c, user);
  g_auto(TestRun) r = { 0 };
  g_autoptr(JsonNode) root = NULL;

  t->name = g_strdup (name);
  t->user = g_strdup (user);
  t->role = role;
  t->dir = g_build_filename (base, "store", NULL);
  t->pass = g_build_filename (base, "pass", NULL);
  t->log = g_build_filename (base, "stderr.log", NULL);
  g_assert_true (g_file_set_contents (t->pass, PASSPHRASE, -1, NULL));
  g_assert_cmpint (g_chmod (t->pass, 0600), ==, 0);
  cli (&r, t, "init", "--kdf", "test", NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli (&r, t, "--json", "enrol", "--center", c->base, "--code", code, "--name", name, NULL);
  check (r.status == 0, "enrolling %s: exit %d: %s", name, r.status, r.err);
  root = json_from_string (r.out, NULL);
  g_assert_nonnull (root);
  t->device = g_strdup (json_object_get_string_member (json_node_get_object (root), "device_id"));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "role"), ==, role);
}

/* ---- reading a tablet's store through the library ------------------------------------- */

static HearthStore *
tablet_open (Tablet *t)
{
  g_autoptr(HearthSecret) pass = hearth_secret_read_passphrase_file (t->pass, NULL);
  g_autoptr(GError) error = NULL;
  HearthStore *store = hearth_store_open (t->dir, pass, &error);

  check (store != NULL, "%s: the store does not open: %s", t->name, error->message);
  return store;
}

/* For g_ptr_array_sort(), which passes pointers to the elements. */
static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Every row of @sql, one line each, columns separated by "|". */
static char *
dump (sqlite3 *db, const char *sql)
{
  g_autoptr(GString) out = g_string_new (NULL);
  sqlite3_stmt *st = NULL;

  check (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg (db));
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      for (int i = 0; i < sqlite3_column_count (st); i++)
        {
          const char *v = (const char *) sqlite3_column_text (st, i);
          g_string_append_printf (out, "%s%s", i > 0 ? "|" : "", v != NULL ? v : "NULL");
        }
      g_string_append_c (out, '\n');
    }
  sqlite3_finalize (st);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* The first column of every row of @sql. */
static GPtrArray *
rows (sqlite3 *db, const char *sql)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *st = NULL;

  check (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg (db));
  while (sqlite3_step (st) == SQLITE_ROW)
    g_ptr_array_add (out, g_strdup ((const char *) sqlite3_column_text (st, 0)));
  sqlite3_finalize (st);
  return out;
}

/* The submissions and reviews this tablet's audit chain names as "table
 * id": one entry per user action names each (a visit's entry is its
 * submission's and names the review it made; a move's is the household's
 * and names its review). */
static GPtrArray *
audit_named_records (sqlite3 *db)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *st = NULL;
  const char *sql = "SELECT record_table, record_id, fields FROM audit_log ORDER BY seq";

  check (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg (db));
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      g_autoptr(GPtrArray) records = hearth_audit_entry_records ((const char *) sqlite3_column_text (st, 0),
                                                                 (const char *) sqlite3_column_text (st, 1),
                                                                 (const char *) sqlite3_column_text (st, 2));
      for (guint i = 0; i < records->len; i++)
        {
          HearthAuditRecord *r = records->pdata[i];
          if (g_str_equal (r->table, "submissions") || g_str_equal (r->table, "reviews"))
            g_ptr_array_add (out, g_strdup_printf ("%s %s", r->table, r->id));
        }
    }
  sqlite3_finalize (st);
  return out;
}

static gint64
query_int (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  gint64 v = -1;

  check (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg (db));
  if (sqlite3_step (st) == SQLITE_ROW)
    v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return v;
}

static GPtrArray *
tablet_rows (Tablet *t, const char *sql)
{
  g_autoptr(HearthStore) store = tablet_open (t);

  return rows (hearth_store_get_db (store), sql);
}

static gint64
tablet_int (Tablet *t, const char *sql)
{
  g_autoptr(HearthStore) store = tablet_open (t);

  return query_int (hearth_store_get_db (store), sql);
}

static void
tablet_exec (Tablet *t, const char *sql)
{
  g_autoptr(HearthStore) store = tablet_open (t);

  check (sqlite3_exec (hearth_store_get_db (store), sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
         sqlite3_errmsg (hearth_store_get_db (store)));
}

/* The center's database, read-only, beside its running server. */
static sqlite3 *
center_open (Center *c)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (c->db_path, &db, SQLITE_OPEN_READONLY, "unix"), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  /* hearth_fields (): a record's fields, packed or not (0019-packed-fields.sql). */
  g_assert_cmpint (hearth_center_store_sqlite_add_functions (db), ==, SQLITE_OK);
  return db;
}

/* The synced tables of a store, as text: households, members, tasks and
 * measures with every column but the local times, the submissions and
 * reviews whole, every edit of every field. */
/* An edit of a tablet's field_edits (as e) that no edit of the same
 * field names among its (space-separated) parents: a head. */
#define TABLET_HEAD "NOT EXISTS (SELECT 1 FROM field_edits n WHERE n.record_table = e.record_table AND " \
                    "n.record_id = e.record_id AND n.field = e.field AND " \
                    "instr (' ' || n.parents || ' ', ' ' || e.hlc || ' ') > 0)"

/* The lines of @text as a set (borrowing nothing: the keys are copies). */
static GHashTable *
lines_of (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    g_hash_table_add (set, g_strdup (lines[i]));
  return set;
}

static char *
tables_state (sqlite3 *db)
{
  const char *tables[] = { "households", "members", "tasks", "measures" };
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT group_concat (quote (name), ', ') FROM pragma_table_info ('%s') "
                                              "WHERE name NOT IN ('created_at', 'updated_at')", tables[i]);
      g_autoptr(GPtrArray) columns = rows (db, sql);
      g_autofree char *select = g_strdup_printf ("SELECT %s FROM %s ORDER BY id", (char *) columns->pdata[0],
                                                 tables[i]);
      g_autofree char *text = dump (db, select);

      g_string_append_printf (out, "-- %s\n%s", tables[i], text);
    }
  {
    g_autofree char *submissions = dump (db, "SELECT * FROM submissions ORDER BY id");
    g_autofree char *reviews = dump (db, "SELECT * FROM reviews ORDER BY id");
    /* The heads of each field's edit set: a tablet whose first pull was
     * compacted (PROTOCOL.md section 8.1) never holds what was superseded
     * before it, and needs not; the heads (and so the values and the open
     * conflicts) are what every replica shares. */
    g_autofree char *edits = dump (db, "SELECT record_table, record_id, field, hlc, parents, value, wall "
                                       "FROM field_edits e WHERE " TABLET_HEAD " ORDER BY 1, 2, 3, 4");
    g_autofree char *versions = dump (db, "SELECT record_table, record_id, field, hlc FROM field_versions "
                                          "ORDER BY 1, 2, 3");
    g_string_append_printf (out, "-- submissions\n%s-- reviews\n%s-- field_edits\n%s-- field_versions\n%s",
                            submissions, reviews, edits, versions);
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static char *
conflicts_state (sqlite3 *db)
{
  return dump (db, "SELECT id, record_table, record_id, field, kept_value, kept_hlc, lost_value, lost_hlc "
                   "FROM conflicts WHERE resolved_at IS NULL ORDER BY id");
}

/* The first line where @a and @b differ, for a failure message. */
static char *
first_difference (const char *a, const char *b)
{
  g_auto(GStrv) la = g_strsplit (a, "\n", -1);
  g_auto(GStrv) lb = g_strsplit (b, "\n", -1);
  guint i;

  for (i = 0; la[i] != NULL && lb[i] != NULL; i++)
    if (strcmp (la[i], lb[i]) != 0)
      break;
  return g_strdup_printf ("line %u:\n  < %s\n  > %s", i + 1, la[i] != NULL ? la[i] : "(end)",
                          lb[i] != NULL ? lb[i] : "(end)");
}

/* ---- the network ------------------------------------------------------------------------- */

/* Points a tablet enrolled directly at @url (the proxy) from now on. */
static void
tablet_use_url (Tablet *t, const char *url)
{
  g_autofree char *sql = g_strdup_printf ("UPDATE sync_state SET value = '%s' WHERE key = 'center_url'", url);

  tablet_exec (t, sql);
}

static void
set_offline (const char *flag, gboolean offline)
{
  if (offline)
    g_assert_true (g_file_set_contents (flag, "", 0, NULL));
  else
    g_assert_true (g_remove (flag) == 0 || !g_file_test (flag, G_FILE_TEST_EXISTS));
}

/* ---- syncs ------------------------------------------------------------------------------------ */

typedef struct {
  Tablet *t;
  GSubprocess *proc;
  char *out_path;
  gboolean offline;   /* started while the network was down */
  gint64 started_us;
  int status;
  gboolean synced;
  gint64 attempts;
} SyncJob;

static void
sync_job_clear (SyncJob *j)
{
  g_clear_object (&j->proc);
  g_free (j->out_path);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SyncJob, sync_job_clear)

/* Pages of @page_size changes: many page boundaries to be cut at. */
static void
sync_job_start_paged (SyncJob *j, Tablet *t, guint time_limit, gboolean retry, guint page_size)
{
  g_autofree char *limit = g_strdup_printf ("%u", time_limit);
  g_autofree char *size = g_strdup_printf ("%u", page_size);
  const char *with_retry[] = { "--json", "sync", "--page-size", size, "--retry", "--time-limit", limit, NULL };
  const char *once[] = { "--json", "sync", "--page-size", size, NULL };

  j->t = t;
  j->out_path = g_strconcat (t->log, ".sync.json", NULL);
  j->proc = cli_spawn (t, j->out_path, retry ? with_retry : once);
  j->started_us = g_get_monotonic_time ();
}

static void
sync_job_start (SyncJob *j, Tablet *t, guint time_limit, gboolean retry)
{
  sync_job_start_paged (j, t, time_limit, retry, 500);
}

/* Waits for a sync: exit 0 and "synced", or 5 and not synced; anything
 * else (a refusal, a protocol error, a crash) fails the test. */
static void
sync_job_wait (SyncJob *j)
{
  g_autofree char *out = NULL;

  g_assert_true (g_subprocess_wait (j->proc, NULL, NULL));
  out = read_text (j->out_path);
  if (g_get_monotonic_time () - j->started_us > 10 * G_USEC_PER_SEC)
    g_test_message ("%s: a slow sync, %.1f s: %s", j->t->name, (g_get_monotonic_time () - j->started_us) / 1e6, out);
  if (!g_subprocess_get_if_exited (j->proc))
    {
      g_autofree char *err = read_text (j->t->log);
      fail ("%s: hearth-cli sync died of signal %d\n%s", j->t->name, g_subprocess_get_term_sig (j->proc), err);
    }
  j->status = g_subprocess_get_exit_status (j->proc);
  j->synced = FALSE;
  j->attempts = 0;
  if (out[0] == '{')
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) root = json_from_string (out, &error);
      JsonObject *o;

      check (root != NULL, "%s: sync printed no JSON: %s", j->t->name, out);
      o = json_node_get_object (root);
      j->synced = json_object_get_boolean_member (o, "synced");
      j->attempts = json_object_get_int_member_with_default (o, "attempts", 0);
      check (json_object_get_int_member (o, "refused_total") == 0, "%s: the center refused changes: %s",
             j->t->name, out);
      check (json_object_get_int_member (o, "rejected_total") == 0, "%s: pulled changes were not applied: %s",
             j->t->name, out);
    }
  if (j->status != 0 && j->status != 5)
    {
      g_autofree char *err = read_text (j->t->log);
      fail ("%s: hearth-cli sync exited %d\n%s%s", j->t->name, j->status, out, err);
    }
  check ((j->status == 0) == j->synced, "%s: sync exited %d but says synced %d: %s", j->t->name, j->status,
         j->synced, out);
}

/* sync --retry until synced: returns the runs it took. */
static guint
sync_until_synced (Tablet *t)
{
  for (guint runs = 1;; runs++)
    {
      g_auto(SyncJob) j = { 0 };

      sync_job_start (&j, t, 60, TRUE);
      sync_job_wait (&j);
      if (j.synced)
        return runs;
      check (runs < 20, "%s: not synced after %u runs of sync --retry", t->name, runs);
    }
}

/* ---- random work ------------------------------------------------------------------------------- */

static char *
rand_date (GRand *rand)
{
  return g_strdup_printf ("2026-%02d-%02d", g_rand_int_range (rand, 1, 13), g_rand_int_range (rand, 1, 29));
}

static char *
rand_now (GRand *rand)
{
  g_autofree char *date = rand_date (rand);

  return g_strdup_printf ("%sT%02d:%02d:00+08:00", date, g_rand_int_range (rand, 7, 19),
                          g_rand_int_range (rand, 0, 60));
}

/* @text with every @from replaced by @to. */
static char *
replace (const char *text, const char *from, const char *to)
{
  g_auto(GStrv) parts = g_strsplit (text, from, -1);

  g_assert_cmpuint (g_strv_length (parts), >, 1);
  return g_strjoinv (to, parts);
}

typedef struct {
  Center *center;
  Tablet tablets[N_TABLETS];
  GRand *rand;
  char *flag;
  GPtrArray *visits;          /* answer files: visit-zh.json and variants of it */
  GPtrArray *registrations;   /* registration-zh.json and variants */
  GHashTable *submissions;    /* every instance id recorded on any tablet */
  gboolean offline;
  guint n_visits, n_registrations, n_reviews, n_refused_reviews, n_measures, n_ended;
  guint n_syncs, n_offline_syncs, n_failed_syncs, n_outages;
  guint n_conflicts;          /* open at the end */
} Property;

/* Variants of the bundled answers, so that concurrent visits disagree on
 * more than the date: incomes that give other risk levels, other risks,
 * registrations in other villages. */
static void
property_answers (Property *p, const char *dir)
{
  const char *source = g_getenv ("HEARTH_SOURCE_DIR");
  g_autofree char *visit = g_build_filename (source, "tests", "data", "answers", "visit-zh.json", NULL);
  g_autofree char *registration = g_build_filename (source, "tests", "data", "answers", "registration-zh.json",
                                                    NULL);
  g_autofree char *visit_text = NULL;
  g_autofree char *registration_text = NULL;
  const char *wages[] = { "30000", "90000", "2000", "0" };
  const char *risks[] = { "01 0203", "01" };
  const char *villages[] = { "150422100202", "150422101201", "150422102305" };

  g_assert_true (g_file_get_contents (visit, &visit_text, NULL, NULL));
  g_assert_true (g_file_get_contents (registration, &registration_text, NULL, NULL));
  p->visits = g_ptr_array_new_with_free_func (g_free);
  p->registrations = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (p->visits, g_strdup (visit));
  for (guint w = 0; w < G_N_ELEMENTS (wages); w++)
    for (guint r = 0; r < G_N_ELEMENTS (risks); r++)
      {
        g_autofree char *name = g_strdup_printf ("visit-%u-%u.json", w, r);
        char *path = g_build_filename (dir, name, NULL);
        g_autofree char *wage = g_strdup_printf ("/wages_other\": \"%s\"", wages[w]);
        g_autofree char *b = replace (visit_text, "/wages_other\": \"30000\"", wage);
        g_autofree char *risk = g_strdup_printf ("\"/data/risks/risk_types\": \"%s\"", risks[r]);
        g_autofree char *text = replace (b, "\"/data/risks/risk_types\": \"01 0203\"", risk);

        if (w == 0 && r == 0)
          {
            g_free (path);
            continue;
          }
        g_assert_true (g_file_set_contents (path, text, -1, NULL));
        g_ptr_array_add (p->visits, path);
      }
  g_ptr_array_add (p->registrations, g_strdup (registration));
  for (guint v = 1; v < G_N_ELEMENTS (villages); v++)
    {
      g_autofree char *name = g_strdup_printf ("registration-%u.json", v);
      char *path = g_build_filename (dir, name, NULL);
      g_autofree char *village = g_strdup_printf ("\"%s\"", villages[v]);
      g_autofree char *text = replace (registration_text, "\"150422100202\"", village);

      g_assert_true (g_file_set_contents (path, text, -1, NULL));
      g_ptr_array_add (p->registrations, path);
    }
}

static void
do_visit (Property *p, Tablet *t, const char *household)
{
  g_autofree char *id = test_rand_uuid (p->rand);
  g_autofree char *now = rand_now (p->rand);
  const char *answers = p->visits->pdata[g_rand_int_range (p->rand, 0, p->visits->len)];
  g_auto(TestRun) r = { 0 };

  cli (&r, t, "--json", "visit", "record", "--form", "hearth_household_visit", "--answers", answers,
       "--household", household, "--now", now, "--instance-id", id, NULL);
  check (r.status == 0, "%s: visit of %s at %s with %s: exit %d\n%s%s", t->name, household, now, answers, r.status,
         r.out, r.err);
  g_hash_table_add (p->submissions, g_steal_pointer (&id));
  p->n_visits++;
}

static void
do_registration (Property *p, Tablet *t)
{
  g_autofree char *id = test_rand_uuid (p->rand);
  g_autofree char *now = rand_now (p->rand);
  const char *answers = p->registrations->pdata[g_rand_int_range (p->rand, 0, p->registrations->len)];
  g_auto(TestRun) r = { 0 };

  cli (&r, t, "visit", "record", "--form", "hearth_household_registration", "--answers", answers, "--now", now,
       "--instance-id", id, NULL);
  check (r.status == 0, "%s: registration with %s: exit %d\n%s%s", t->name, answers, r.status, r.out, r.err);
  g_hash_table_add (p->submissions, g_steal_pointer (&id));
  p->n_registrations++;
}

/* The moves of the monitoring workflow each role makes, from a state. */
static const struct {
  const char *role;
  const char *state;
  const char *action;
  gboolean comment;
  gboolean may_refuse;   /* the county's approval of an elimination needs the clerk's first */
} moves[] = {
  { "worker", "none", "declare", FALSE, FALSE },
  { "worker", "risk_eliminated", "declare", FALSE, FALSE },
  { "worker", "monitored", "propose-elimination", FALSE, FALSE },
  { "clerk", "pending_village_review", "approve", FALSE, FALSE },
  { "clerk", "pending_village_review", "return", TRUE, FALSE },
  { "clerk", "pending_elimination", "approve", FALSE, FALSE },
  { "clerk", "pending_elimination", "return", TRUE, FALSE },
  { "county", "pending_county_approval", "approve", FALSE, FALSE },
  { "county", "pending_county_approval", "reject", TRUE, FALSE },
  { "county", "pending_elimination", "approve", FALSE, TRUE },
  { "county", "pending_elimination", "return", TRUE, FALSE },
  { "county", "risk_eliminated", "revert", FALSE, FALSE },
};

/* A review the tablet's role may make of a household in a state it may
 * move; FALSE when it has none to make. */
static gboolean
do_review (Property *p, Tablet *t, GPtrArray *households)
{
  g_autoptr(GPtrArray) choices = g_ptr_array_new ();   /* "id move" */
  g_auto(TestRun) r = { 0 };
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *id = NULL;
  guint pick, move;

  for (guint i = 0; i < households->len; i++)
    {
      const char *row = households->pdata[i];

      for (guint m = 0; m < G_N_ELEMENTS (moves); m++)
        if (g_str_equal (moves[m].role, t->role) && g_str_equal (row + 37, moves[m].state))
          g_ptr_array_add (choices, GUINT_TO_POINTER (i * G_N_ELEMENTS (moves) + m));
    }
  if (choices->len == 0)
    return FALSE;
  pick = GPOINTER_TO_UINT (choices->pdata[g_rand_int_range (p->rand, 0, choices->len)]);
  move = pick % G_N_ELEMENTS (moves);
  id = g_strndup (households->pdata[pick / G_N_ELEMENTS (moves)], 36);
  g_ptr_array_add (args, g_strdup ("review"));
  g_ptr_array_add (args, g_strdup (moves[move].action));
  g_ptr_array_add (args, g_strdup (id));
  if (moves[move].comment)
    {
      g_ptr_array_add (args, g_strdup ("--comment"));
      g_ptr_array_add (args, g_strdup ("材料不全，请补充。"));
    }
  if (g_str_equal (moves[move].state, "pending_county_approval") && g_str_equal (moves[move].action, "approve") &&
      g_rand_boolean (p->rand))
    {
      g_ptr_array_add (args, g_strdup ("--measure"));
      g_ptr_array_add (args, g_strdup ("industry:肉牛养殖补贴"));
      p->n_measures++;
    }
  g_ptr_array_add (args, NULL);
  cliv (&r, t, (const char *const *) args->pdata);
  if (r.status == 1 && moves[move].may_refuse)
    {
      p->n_refused_reviews++;
      return TRUE;
    }
  check (r.status == 0, "%s: review %s of %s (%s): exit %d\n%s%s", t->name, moves[move].action, id,
         moves[move].state, r.status, r.out, r.err);
  p->n_reviews++;
  return TRUE;
}

/* The clerk and the county decide measures: add one, or end one. */
static gboolean
do_measure (Property *p, Tablet *t, GPtrArray *households)
{
  const char *const *types = hearth_case_measure_types ();
  g_auto(TestRun) r = { 0 };

  if (g_str_equal (t->role, "worker"))
    return FALSE;
  if (g_rand_int_range (p->rand, 0, 4) == 0)
    {
      g_autoptr(GPtrArray) active = tablet_rows (t, "SELECT id FROM measures WHERE status = 'active' ORDER BY id");

      if (active->len > 0)
        {
          const char *id = active->pdata[g_rand_int_range (p->rand, 0, active->len)];

          cli (&r, t, "measure", "end", id, "--date", "2026-12-31", NULL);
          check (r.status == 0, "%s: measure end %s: exit %d\n%s%s", t->name, id, r.status, r.out, r.err);
          p->n_ended++;
          return TRUE;
        }
    }
  {
    g_autofree char *household = g_strndup (households->pdata[g_rand_int_range (p->rand, 0, households->len)], 36);
    g_autofree char *started = rand_date (p->rand);
    g_autofree char *description = g_strdup_printf ("措施 %u", g_rand_int_range (p->rand, 0, 1000));
    const char *type = types[g_rand_int_range (p->rand, 0, g_strv_length ((char **) types))];

    cli (&r, t, "measure", "add", "--household", household, "--type", type, "--description", description,
         "--started", started, NULL);
    check (r.status == 0, "%s: measure add to %s: exit %d\n%s%s", t->name, household, r.status, r.out, r.err);
    p->n_measures++;
  }
  return TRUE;
}

/* One piece of offline work on @t. */
static void
random_work (Property *p, Tablet *t)
{
  g_autoptr(GPtrArray) households = tablet_rows (t, "SELECT id || ' ' || monitoring_status FROM households "
                                                    "WHERE deleted = 0 ORDER BY id");
  guint what = g_rand_int_range (p->rand, 0, 100);

  if (households->len == 0 || what < 8)
    {
      do_registration (p, t);
      return;
    }
  if (what < 40 && do_review (p, t, households))
    return;
  if (what < 55 && do_measure (p, t, households))
    return;
  {
    g_autofree char *household = g_strndup (households->pdata[g_rand_int_range (p->rand, 0, households->len)], 36);
    do_visit (p, t, household);
  }
}

/* Some tablets sync at once; the network may be down, or go down and come
 * back while they sync. */
static void
random_syncs (Property *p)
{
  SyncJob jobs[N_TABLETS] = { { 0 } };
  guint n = 0;
  gboolean outage = FALSE;

  for (guint i = 0; i < N_TABLETS; i++)
    if (g_rand_double (p->rand) < 0.3)
      {
        /* While the network is down, mostly a sync that tries once. */
        gboolean retry = !p->offline || g_rand_int_range (p->rand, 0, 4) == 0;

        jobs[n].offline = p->offline;
        sync_job_start (&jobs[n++], &p->tablets[i], p->offline ? 1 : 30, retry);
      }
  if (n > 0 && !p->offline && g_rand_double (p->rand) < 0.1)
    {
      /* The network goes down in the middle, and comes back. */
      g_usleep ((gulong) g_rand_int_range (p->rand, 0, 300) * 1000);
      set_offline (p->flag, TRUE);
      g_usleep ((gulong) g_rand_int_range (p->rand, 100, 1500) * 1000);
      set_offline (p->flag, FALSE);
      outage = TRUE;
      p->n_outages++;
    }
  for (guint i = 0; i < n; i++)
    {
      sync_job_wait (&jobs[i]);
      p->n_syncs++;
      if (jobs[i].offline)
        {
          /* Nothing gets through a network that is down. */
          check (jobs[i].status == 5, "%s: a sync while offline exited %d", jobs[i].t->name, jobs[i].status);
          p->n_offline_syncs++;
        }
      else if (jobs[i].status != 0)
        {
          g_test_message ("%s: sync --retry gave up (exit %d)%s", jobs[i].t->name, jobs[i].status,
                          outage ? " after an outage" : "");
          p->n_failed_syncs++;
        }
      sync_job_clear (&jobs[i]);
    }
}

/* ---- the end state ------------------------------------------------------------------------------ */

/* What sync/merge.h computes from a store's edits: every open conflict
 * (id, winner, loser) and every field's value, against the store's
 * conflicts table and columns. */
static void
check_merge (Tablet *t, sqlite3 *db, guint *n_conflicts)
{
  g_autoptr(GString) expected = g_string_new (NULL);
  g_autofree char *actual = NULL;
  sqlite3_stmt *st = NULL;
  g_autoptr(GPtrArray) group = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autofree char *key = NULL;
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  int rc;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT record_table, record_id, field, hlc, parents, value "
                                           "FROM field_edits ORDER BY 1, 2, 3, 4", -1, &st, NULL), ==, SQLITE_OK);
  do
    {
      g_autofree char *row_key = NULL;

      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        row_key = g_strdup_printf ("%s\n%s\n%s", sqlite3_column_text (st, 0), sqlite3_column_text (st, 1),
                                   sqlite3_column_text (st, 2));
      if (group->len > 0 && (rc != SQLITE_ROW || strcmp (row_key, key) != 0))
        {
          /* One field's edits are all here: merge them. */
          g_auto(GStrv) names = g_strsplit (key, "\n", 3);
          g_autofree HearthFieldEdit *edits = g_new0 (HearthFieldEdit, group->len);
          g_autoptr(GError) error = NULL;
          HearthFieldMerge merged = { 0 };
          g_autofree char *sql = NULL;
          sqlite3_stmt *col = NULL;

          for (guint i = 0; i < group->len; i++)
            {
              char **e = group->pdata[i];   /* hlc, value, parents… */
              edits[i].hlc = e[0];
              edits[i].value = e[1];
              edits[i].parents = (const char *const *) e + 2;
              edits[i].n_parents = g_strv_length (e + 2);
            }
          check (hearth_merge_field_of (names[0], names[2], edits, group->len, &merged, &error), "%s: %s: %s",
                 t->name, key, error->message);
          for (guint i = 0; i < merged.losers->len; i++)
            {
              const HearthFieldEdit *l = merged.losers->pdata[i];
              g_autofree char *id = hearth_merge_conflict_id (names[0], names[1], names[2], merged.winner->hlc,
                                                              l->hlc);
              g_ptr_array_add (lines, g_strdup_printf ("%s|%s|%s|%s|%s|%s|%s|%s\n", id, names[0], names[1],
                                                       names[2], merged.winner->value, merged.winner->hlc,
                                                       l->value, l->hlc));
            }
          /* The record holds the winner's value. */
          sql = g_strdup_printf ("SELECT CAST (\"%s\" AS TEXT) FROM \"%s\" WHERE id = ?", names[2], names[0]);
          check (sqlite3_prepare_v2 (db, sql, -1, &col, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg (db));
          sqlite3_bind_text (col, 1, names[1], -1, SQLITE_STATIC);
          check (sqlite3_step (col) == SQLITE_ROW, "%s: %s %s has edits but no row", t->name, names[0], names[1]);
          check (g_strcmp0 ((const char *) sqlite3_column_text (col, 0), merged.winner->value) == 0,
                 "%s: %s of %s %s is “%s”, the merge of its edits “%s”", t->name, names[2], names[0], names[1],
                 sqlite3_column_text (col, 0), merged.winner->value);
          sqlite3_finalize (col);
          g_ptr_array_unref (merged.losers);
          g_ptr_array_set_size (group, 0);
        }
      if (rc == SQLITE_ROW)
        {
          g_auto(GStrv) parents = g_strsplit ((const char *) sqlite3_column_text (st, 4), " ", -1);
          GPtrArray *e = g_ptr_array_new ();

          g_ptr_array_add (e, g_strdup ((const char *) sqlite3_column_text (st, 3)));
          g_ptr_array_add (e, g_strdup ((const char *) sqlite3_column_text (st, 5)));
          for (guint i = 0; parents[i] != NULL; i++)
            if (parents[i][0] != '\0')
              g_ptr_array_add (e, g_strdup (parents[i]));
          g_ptr_array_add (e, NULL);
          g_ptr_array_add (group, g_ptr_array_free (e, FALSE));
          g_free (key);
          key = g_steal_pointer (&row_key);
        }
    }
  while (rc == SQLITE_ROW);
  check (rc == SQLITE_DONE, "%s: reading field_edits: %s", t->name, sqlite3_errmsg (db));
  sqlite3_finalize (st);
  g_ptr_array_sort (lines, compare_strings);
  for (guint i = 0; i < lines->len; i++)
    g_string_append (expected, lines->pdata[i]);
  actual = conflicts_state (db);
  if (strcmp (actual, expected->str) != 0)
    {
      g_autofree char *diff = first_difference (expected->str, actual);
      fail ("%s: the open conflicts are not those of the merge rules over its edits (merge < > store), %s", t->name,
            diff);
    }
  *n_conflicts = lines->len;
}

/* The keys of @set, sorted (borrowed strings). */
static GPtrArray *
sorted_keys (GHashTable *set)
{
  GPtrArray *keys = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, set);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (keys, key);
  g_ptr_array_sort (keys, compare_strings);
  return keys;
}

/* Every tablet and the center hold the same, and nothing was lost or
 * stored twice. */
static void
check_end_state (Property *p)
{
  g_autofree char *state0 = NULL;
  g_autofree char *conflicts0 = NULL;
  sqlite3 *center = center_open (p->center);
  gint64 max_cursor = query_int (center, "SELECT coalesce (max (cursor), 0) FROM changes");
  g_autofree char *center_all_edits = dump (center,
                                            CENTER_EDITS "SELECT tbl, record_id, field, hlc, value, (SELECT "
                                            "group_concat (v, ' ') FROM (SELECT value AS v FROM json_each (parents) "
                                            "ORDER BY 1)) FROM edits_of ORDER BY 1, 2, 3, 4");
  g_autofree char *center_edits = dump (center,
                                        CENTER_EDITS "SELECT tbl, record_id, field, hlc, value, (SELECT group_concat "
                                        "(v, ' ') FROM (SELECT value AS v FROM json_each (parents) ORDER BY 1)) "
                                        "FROM edits_of c WHERE NOT EXISTS (SELECT 1 FROM edits_of n WHERE "
                                        "n.tbl = c.tbl AND n.record_id = c.record_id AND n.field = c.field "
                                        "AND instr (n.parents, '\"' || c.hlc || '\"') > 0) ORDER BY 1, 2, 3, 4");
  /* The heads the center keeps as edits arrive (field_state.heads) are
   * those of its edits. */
  g_autofree char *center_kept_heads = dump (center,
                                             CENTER_EDITS "SELECT c.tbl, c.record_id, c.field, c.hlc, c.value, "
                                             "(SELECT group_concat (v, ' ') FROM (SELECT value AS v FROM json_each "
                                             "(c.parents) ORDER BY 1)) FROM field_state f JOIN edits_of c ON c.tbl = f.tbl "
                                             "AND c.record_id = f.record_id AND c.field = f.field AND "
                                             "instr (' ' || f.heads || ' ', ' ' || c.cursor || ' ') > 0 "
                                             "ORDER BY 1, 2, 3, 4");
  g_autoptr(GHashTable) center_lines = lines_of (center_all_edits);
  g_autofree char *center_submissions = dump (center, "SELECT record_id FROM changes WHERE kind = 'record' AND "
                                                      "tbl = 'submissions' ORDER BY 1");
  g_autofree char *center_reviews = dump (center, "SELECT record_id FROM changes WHERE kind = 'record' AND "
                                                  "tbl = 'reviews' ORDER BY 1");
  g_autofree char *center_conflicts = dump (center, "SELECT id FROM conflicts ORDER BY 1");
  g_autoptr(GString) made = g_string_new (NULL);
  g_autoptr(GPtrArray) made_ids = sorted_keys (p->submissions);
  g_autoptr(GHashTable) own_records = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  char *audit_chains[N_TABLETS] = { NULL };
  guint n_conflicts = 0;

  for (guint i = 0; i < made_ids->len; i++)
    g_string_append_printf (made, "%s\n", (char *) made_ids->pdata[i]);
  if (strcmp (center_kept_heads, center_edits) != 0)
    {
      g_autofree char *diff = first_difference (center_edits, center_kept_heads);
      fail ("the center's kept heads are not the heads of its edits (computed < > kept): %s", diff);
    }
  for (guint i = 0; i < N_TABLETS; i++)
    {
      Tablet *t = &p->tablets[i];
      g_autoptr(HearthStore) store = tablet_open (t);
      sqlite3 *db = hearth_store_get_db (store);
      g_autofree char *state = tables_state (db);
      g_autofree char *conflicts = conflicts_state (db);
      g_autofree char *submissions = dump (db, "SELECT id FROM submissions ORDER BY 1");
      g_autofree char *reviews = dump (db, "SELECT id FROM reviews ORDER BY 1");
      g_autofree char *open_ids = dump (db, "SELECT id FROM conflicts WHERE resolved_at IS NULL ORDER BY 1");
      g_autofree char *edits = dump (db, "SELECT record_table, record_id, field, hlc, value, (SELECT group_concat "
                                         "(v, ' ') FROM (SELECT value AS v FROM json_each (CASE WHEN parents = '' "
                                         "THEN '[]' ELSE '[\"' || replace (parents, ' ', '\",\"') || '\"]' END) "
                                         "ORDER BY 1)) FROM field_edits e WHERE " TABLET_HEAD " ORDER BY 1, 2, 3, 4");
      g_autofree char *all_edits = dump (db, "SELECT record_table, record_id, field, hlc, value, (SELECT group_concat "
                                             "(v, ' ') FROM (SELECT value AS v FROM json_each (CASE WHEN parents = '' "
                                             "THEN '[]' ELSE '[\"' || replace (parents, ' ', '\",\"') || '\"]' END) "
                                             "ORDER BY 1)) FROM field_edits ORDER BY 1, 2, 3, 4");
      g_autoptr(GPtrArray) own = audit_named_records (db);
      gint64 last_seq = query_int (db, "SELECT coalesce (max (seq), 0) FROM sync_outbox");
      gint64 acked = query_int (db, "SELECT value FROM sync_state WHERE key = 'acked_seq'");
      gint64 cursor = query_int (db, "SELECT value FROM sync_state WHERE key = 'cursor'");
      g_autofree char *sql = NULL;

      /* Nothing pending, refused or left unapplied; the cursor at the end. */
      check (acked == last_seq, "%s: acknowledged %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT,
             t->name, acked, last_seq);
      check (query_int (db, "SELECT count (*) FROM sync_refused") == 0, "%s: the center refused changes", t->name);
      check (query_int (db, "SELECT count (*) FROM sync_apply_errors") == 0, "%s: pulled changes not applied",
             t->name);
      check (cursor == max_cursor, "%s: its cursor is %" G_GINT64_FORMAT ", the center's last %" G_GINT64_FORMAT,
             t->name, cursor, max_cursor);
      /* The same tables everywhere. */
      if (i == 0)
        {
          state0 = g_steal_pointer (&state);
          conflicts0 = g_steal_pointer (&conflicts);
        }
      else
        {
          if (strcmp (state, state0) != 0)
            {
              g_autofree char *diff = first_difference (state0, state);
              fail ("%s holds other data than %s: %s", t->name, p->tablets[0].name, diff);
            }
          if (strcmp (conflicts, conflicts0) != 0)
            {
              g_autofree char *diff = first_difference (conflicts0, conflicts);
              fail ("%s holds other open conflicts than %s: %s", t->name, p->tablets[0].name, diff);
            }
        }
      /* What the merge rules make of its edits, and the center alike. */
      check_merge (t, db, &n_conflicts);
      if (strcmp (edits, center_edits) != 0)
        {
          g_autofree char *diff = first_difference (center_edits, edits);
          fail ("%s's heads differ from the center's (center < > tablet): %s", t->name, diff);
        }
      /* Whatever else it holds, the center holds too, alike. */
      {
        g_auto(GStrv) mine = g_strsplit (all_edits, "\n", -1);

        for (guint k = 0; mine[k] != NULL; k++)
          check (mine[k][0] == '\0' || g_hash_table_contains (center_lines, mine[k]),
                 "%s holds an edit the center does not: %s", t->name, mine[k]);
      }
      check (strcmp (open_ids, center_conflicts) == 0, "%s's open conflicts differ from the center's:\n%s\n%s",
             t->name, open_ids, center_conflicts);
      /* Every submission made on any tablet, here, once; the center's. */
      check (strcmp (submissions, made->str) == 0, "%s holds other submissions than those made (%u):\n%s\n%s",
             t->name, made_ids->len, submissions, made->str);
      check (strcmp (submissions, center_submissions) == 0, "%s's submissions differ from the center's", t->name);
      check (strcmp (reviews, center_reviews) == 0, "%s's reviews differ from the center's", t->name);
      for (guint k = 0; k < own->len; k++)
        g_hash_table_add (own_records, g_strdup (own->pdata[k]));
      /* The center's log holds each of its changes once, all of them. */
      sql = g_strdup_printf ("SELECT count (*) = %" G_GINT64_FORMAT " AND count (DISTINCT seq) = count (*) AND "
                             "coalesce (max (seq), 0) = %" G_GINT64_FORMAT " FROM changes WHERE device = (SELECT num FROM device_numbers WHERE id = '%s')",
                             last_seq, last_seq, t->device);
      check (query_int (center, sql) == 1, "%s: the center does not hold its changes 1 to %" G_GINT64_FORMAT
             " once each", t->name, last_seq);
      g_free (sql);
      sql = g_strdup_printf ("SELECT count (*) = %" G_GINT64_FORMAT " AND count (code) = 0 FROM all_push_outcomes "
                             "WHERE device_id = '%s'", last_seq, t->device);
      check (query_int (center, sql) == 1, "%s: the center's outcomes are not %" G_GINT64_FORMAT " acceptances",
             t->name, last_seq);
      g_free (sql);
      sql = g_strdup_printf ("SELECT acked_seq = %" G_GINT64_FORMAT " AND audit_broken IS NULL AND audit_seq = "
                             "%" G_GINT64_FORMAT " FROM devices WHERE id = '%s'", last_seq,
                             query_int (db, "SELECT coalesce (max (seq), 0) FROM audit_log"), t->device);
      check (query_int (center, sql) == 1, "%s: the center's acknowledgement or audit chain is off", t->name);
      /* Its audit chain, as every other tablet holds it. */
      audit_chains[i] = dump (db, "SELECT seq, id, hash FROM audit_log ORDER BY seq");
    }
  for (guint i = 0; i < N_TABLETS; i++)
    {
      g_autoptr(HearthStore) store = tablet_open (&p->tablets[i]);

      for (guint j = 0; j < N_TABLETS; j++)
        if (j != i)
          {
            g_autofree char *sql = g_strdup_printf ("SELECT seq, id, hash FROM audit_foreign WHERE device_id = '%s' "
                                                    "ORDER BY seq", p->tablets[j].device);
            g_autofree char *chain = dump (hearth_store_get_db (store), sql);

            check (strcmp (chain, audit_chains[j]) == 0, "%s does not hold %s's audit chain whole", p->tablets[i].name,
                   p->tablets[j].name);
          }
    }
  /* Every submission and review any tablet recorded is everywhere. */
  {
    g_autoptr(GPtrArray) own = sorted_keys (own_records);
    guint n_submissions = 0;

    for (guint k = 0; k < own->len; k++)
      {
        const char *record = own->pdata[k];
        const char *id = strchr (record, ' ') + 1;
        g_autofree char *line = g_strdup_printf ("%s\n", id);

        if (g_str_has_prefix (record, "submissions "))
          {
            check (g_hash_table_contains (p->submissions, id), "submission %s was recorded but not by the test", id);
            n_submissions++;
          }
        check (strstr (g_str_has_prefix (record, "submissions ") ? center_submissions : center_reviews, line) != NULL,
               "%s was recorded on a tablet but is not at the center", record);
      }
    check (n_submissions == g_hash_table_size (p->submissions), "%u submissions made, %u in the audit logs",
           g_hash_table_size (p->submissions), n_submissions);
    check (query_int (center, "SELECT count (*) FROM changes WHERE kind = 'record' AND tbl = 'reviews'") ==
             (gint64) g_hash_table_size (own_records) - n_submissions,
           "the center holds reviews no tablet recorded");
  }
  check (query_int (center, "SELECT count (*) FROM (SELECT device, seq FROM changes GROUP BY 1, 2 "
                            "HAVING count (*) > 1)") == 0, "the center holds a (device, seq) twice");
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM changes c JOIN device_numbers d ON d.num = c.device WHERE d.id NOT IN "
                                            "('%s', '%s', '%s', '%s', '%s')", p->tablets[0].device,
                                            p->tablets[1].device, p->tablets[2].device, p->tablets[3].device,
                                            p->tablets[4].device);
    G_STATIC_ASSERT (N_TABLETS == 5);
    check (query_int (center, sql) == 0, "changes at the center from other devices than the tablets");
  }
  {
    g_autoptr(HearthStore) store = tablet_open (&p->tablets[0]);
    sqlite3 *db = hearth_store_get_db (store);

    g_test_message ("end state: %" G_GINT64_FORMAT " changes at the center; %" G_GINT64_FORMAT " households, %"
                    G_GINT64_FORMAT " members, %" G_GINT64_FORMAT " tasks, %" G_GINT64_FORMAT " measures, %"
                    G_GINT64_FORMAT " submissions, %" G_GINT64_FORMAT " reviews, %" G_GINT64_FORMAT
                    " field edits, %u open conflicts", max_cursor,
                    query_int (db, "SELECT count (*) FROM households"), query_int (db, "SELECT count (*) FROM members"),
                    query_int (db, "SELECT count (*) FROM tasks"), query_int (db, "SELECT count (*) FROM measures"),
                    query_int (db, "SELECT count (*) FROM submissions"), query_int (db, "SELECT count (*) FROM reviews"),
                    query_int (db, "SELECT count (*) FROM field_edits"), n_conflicts);
    check (query_int (db, "SELECT count (*) FROM measures") == p->n_measures, "%u measures added, %" G_GINT64_FORMAT
           " held", p->n_measures, query_int (db, "SELECT count (*) FROM measures"));
  }
  p->n_conflicts = n_conflicts;
  for (guint i = 0; i < N_TABLETS; i++)
    g_free (audit_chains[i]);
  sqlite3_close (center);
}

static guint
env_uint (const char *name, guint fallback)
{
  const char *v = g_getenv (name);
  guint64 n;

  if (v == NULL || !g_ascii_string_to_unsigned (v, 10, 0, G_MAXUINT, &n, NULL))
    return fallback;
  return (guint) n;
}

static void
test_property (void)
{
  static const struct {
    const char *user;
    const char *role;
  } people[N_TABLETS] = {
    { "w.one", "worker" }, { "w.two", "worker" }, { "w.three", "worker" }, { "c.clerk", "clerk" },
    { "k.county", "county" },
  };
  guint rounds = env_uint ("HEARTH_PROPERTY_ROUNDS", 200);
  g_autoptr(Center) c = center_init ("prop-center", COUNTY);
  g_autofree char *scratch = test_make_dir ("prop-answers");
  g_autofree char *registry = g_build_filename (scratch, "registry.csv", NULL);
  g_autofree char *seed_text = g_strdup_printf ("%u", seed);
  g_autofree char *url = NULL;
  g_autofree char *proxy_log = NULL;
  g_autofree char *proxy_text = NULL;
  g_autofree char *cut = g_strdup_printf ("0.%02u", MIN (env_uint ("HEARTH_PROPERTY_CUT", 10), 99));
  g_autofree char *duplicate = g_strdup_printf ("0.%02u", MIN (env_uint ("HEARTH_PROPERTY_DUPLICATE", 10), 99));
  const char *faults[] = { "--cut", cut, "--duplicate", duplicate, "--delay-ms", "2", "--seed", seed_text, NULL };
  g_auto(TestRun) r = { 0 };
  Property p = { 0 };
  GSubprocess *proxy;
  gint64 started = g_get_monotonic_time ();
  gint64 work_us = 0, sync_us = 0, rounds_us;
  guint final_runs = 0;

  g_test_message ("seed %u (HEARTH_TEST_SEED=%u replays it), %u rounds (HEARTH_PROPERTY_ROUNDS), cut %s, duplicate %s",
                  seed, seed, rounds, cut, duplicate);
  p.center = c;
  p.rand = g_rand_new_with_seed (seed);
  p.flag = g_build_filename (c->dir, "offline", NULL);
  p.submissions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  property_answers (&p, scratch);
  for (guint i = 0; i < N_TABLETS; i++)
    center_add_user (c, people[i].user, people[i].role, COUNTY);
  center_start (c);
  proxy = test_proxy_start (c, p.flag, faults, &url);
  proxy_log = g_strconcat (p.flag, ".log", NULL);
  /* Enrolled directly; from then on every exchange goes through the proxy. */
  for (guint i = 0; i < N_TABLETS; i++)
    {
      g_autofree char *name = g_strdup_printf ("prop-%s", people[i].user);

      tablet_enrol (&p.tablets[i], name, c, people[i].user, people[i].role);
      tablet_use_url (&p.tablets[i], url);
    }
  /* A county registry on the first tablet to start with. */
  test_run_cli (&r, NULL, "demo", "generate", "--households", "12", "--seed", seed_text, "--county", COUNTY,
                "--out", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli (&r, &p.tablets[0], "household", "import", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);

  for (guint round = 0; round < rounds; round++)
    {
      guint work = g_rand_int_range (p.rand, 1, 4);

      gint64 t0 = g_get_monotonic_time (), t1;

      for (guint w = 0; w < work; w++)
        random_work (&p, &p.tablets[g_rand_int_range (p.rand, 0, N_TABLETS)]);
      /* Down now and then, for a few rounds. */
      if (g_rand_double (p.rand) < (p.offline ? 0.3 : 0.08))
        {
          p.offline = !p.offline;
          set_offline (p.flag, p.offline);
        }
      t1 = g_get_monotonic_time ();
      random_syncs (&p);
      work_us += t1 - t0;
      sync_us += g_get_monotonic_time () - t1;
      if (round % 20 == 19)
        g_test_message ("round %u: %.0f s", round + 1, (double) (g_get_monotonic_time () - started) / G_USEC_PER_SEC);
    }

  rounds_us = g_get_monotonic_time () - started;
  g_test_message ("rounds: %.1f s (offline work %.1f s, syncs %.1f s)", rounds_us / 1e6, work_us / 1e6,
                  sync_us / 1e6);
  /* The network back, and everyone syncs until synced, twice round. */
  p.offline = FALSE;
  set_offline (p.flag, FALSE);
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < N_TABLETS; i++)
      final_runs += sync_until_synced (&p.tablets[i]);
  g_test_message ("final syncs: %u runs, %.1f s", final_runs, (g_get_monotonic_time () - started - rounds_us) / 1e6);
  check_end_state (&p);
  /* A store that passes its own checks. */
  for (guint i = 0; i < N_TABLETS; i++)
    {
      cli (&r, &p.tablets[i], "audit", "verify", NULL);
      check (r.status == 0, "%s: audit verify: exit %d\n%s%s", p.tablets[i].name, r.status, r.out, r.err);
    }
  cli (&r, &p.tablets[0], "check", NULL);
  check (r.status == 0, "%s: check: exit %d\n%s%s", p.tablets[0].name, r.status, r.out, r.err);

  /* The faults did happen. */
  proxy_text = read_text (proxy_log);
  if (rounds >= 50)
    {
      check (strstr (proxy_text, "cut towards") != NULL, "the proxy never cut a connection");
      check (strstr (proxy_text, "duplicated") != NULL, "the proxy never duplicated a request");
      check (p.n_offline_syncs > 0, "no sync ran while the network was down");
      check (p.n_conflicts > 0, "no concurrent edits in %u rounds", rounds);
    }
  g_test_message ("seed %u: %u rounds in %.0f s: %u visits, %u registrations, %u reviews made (%u refused), "
                  "%u measures added, %u ended; %u syncs (%u while offline, %u gave up, %u outages), %u runs to "
                  "end synced", seed, rounds, (double) (g_get_monotonic_time () - started) / G_USEC_PER_SEC,
                  p.n_visits, p.n_registrations, p.n_reviews, p.n_refused_reviews, p.n_measures, p.n_ended,
                  p.n_syncs, p.n_offline_syncs, p.n_failed_syncs, p.n_outages, final_runs);

  test_proxy_stop (proxy);
  center_stop (c);
  g_test_message ("stopped at %.1f s", (g_get_monotonic_time () - started) / 1e6);
  for (guint i = 0; i < N_TABLETS; i++)
    tablet_clear (&p.tablets[i]);
  g_rand_free (p.rand);
  g_free (p.flag);
  g_ptr_array_unref (p.visits);
  g_ptr_array_unref (p.registrations);
  g_hash_table_unref (p.submissions);
}

/* ---- large batches, and kills -------------------------------------------------------------- */

/* The two kill tests share their large batch: a county registry imported
 * on tablet A, which A pushes while the center is killed, and which
 * tablet B then pulls while it is killed itself. Each test makes what it
 * needs of it when run alone. */
#define LARGE_HOUSEHOLDS 400

typedef struct {
  Center *c;
  Tablet a, b;
  gint64 last_seq;    /* A's changes */
  gboolean pushed;
} Large;

static Large *large;

static void
large_free (Large *l)
{
  center_free (l->c);
  tablet_clear (&l->a);
  tablet_clear (&l->b);
  g_free (l);
}

static Large *
large_get (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *registry = NULL;
  g_autofree char *seed_text = NULL;
  g_autofree char *count = NULL;
  g_auto(TestRun) r = { 0 };

  if (large != NULL)
    return large;
  large = g_new0 (Large, 1);
  large->c = center_init ("prop-large-center", COUNTY);
  center_add_user (large->c, "w.a", "worker", COUNTY);
  center_add_user (large->c, "w.b", "worker", COUNTY);
  center_start (large->c);
  tablet_enrol (&large->a, "prop-large-a", large->c, "w.a", "worker");
  tablet_enrol (&large->b, "prop-large-b", large->c, "w.b", "worker");
  dir = test_make_dir ("prop-large-registry");
  registry = g_build_filename (dir, "registry.csv", NULL);
  seed_text = g_strdup_printf ("%u", seed);
  count = g_strdup_printf ("%u", LARGE_HOUSEHOLDS);
  test_run_cli (&r, NULL, "demo", "generate", "--households", count, "--seed", seed_text, "--county", COUNTY,
                "--out", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);
  /* A's outbox one change a field, as a store's rows made before its
   * center said "edits" (PROTOCOL.md section 5): a push of some 20,000
   * changes, seconds long, for the center to be killed during it; grouped,
   * it is a few thousand, and over before the first kill. */
  tablet_exec (&large->a, "DELETE FROM sync_state WHERE key = 'outbox_edits'");
  cli (&r, &large->a, "household", "import", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);
  check (tablet_int (&large->a, "SELECT count (*) FROM sync_outbox WHERE kind = 'edits'") == 0,
         "the large push is not one change a field");
  large->last_seq = tablet_int (&large->a, "SELECT max (seq) FROM sync_outbox");
  g_test_message ("seed %u: %u households imported, %" G_GINT64_FORMAT " changes to push", seed, LARGE_HOUSEHOLDS,
                  large->last_seq);
  return large;
}

/* The center SIGKILLed several times while A pushes its large batch, and
 * restarted on the same store and port: nothing lost, nothing twice, A
 * ends synced. */
static void
test_center_killed (void)
{
  Large *l = large_get ();
  Center *c = l->c;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed ^ 0x5eed);
  g_auto(SyncJob) job = { 0 };
  g_autofree char *sql = NULL;
  gint64 last_seq = l->last_seq;
  gint64 previous = 0;
  guint kills = 0;
  g_autofree char *stored_sql = g_strdup_printf (
    "SELECT count (*) FROM changes WHERE device = (SELECT num FROM device_numbers WHERE id = '%s')", l->a.device);

  g_assert_false (l->pushed);
  /* The push takes seconds; the center dies several times on the way,
   * each time while batches are arriving. */
  sync_job_start (&job, &l->a, 300, TRUE);
  for (guint k = 0; k < 4; k++)
    {
      gint64 stored, target;
      gint64 until = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

      /* The tablet (backing off after the last kill) pushes again, and
       * the center dies once a random share of what is left is stored, a
       * few milliseconds after: a moment inside the push whatever the
       * machine's speed (a random delay of up to 600 ms after the first
       * batch outlasted the whole push on a fast center). */
      target = previous + 1 + g_rand_int_range (rand, 0, (gint32) MAX (1, (last_seq - previous) / 2));
      while (g_subprocess_get_identifier (job.proc) != NULL && g_get_monotonic_time () < until &&
             center_db_int (c, stored_sql) < target)
        g_usleep (2 * 1000);
      g_usleep ((gulong) g_rand_int_range (rand, 0, 30) * 1000);
      if (g_subprocess_get_identifier (job.proc) == NULL)
        break;   /* it finished first */
      stored = center_db_int (c, stored_sql);
      previous = stored;
      center_kill (c);
      kills++;
      g_test_message ("center killed with about %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " changes stored", stored,
                      last_seq);
      /* The database survives a kill whole. */
      check (center_db_int (c, "SELECT count (*) FROM pragma_integrity_check WHERE integrity_check != 'ok'") == 0,
             "the center's database is damaged after a kill");
      g_usleep ((gulong) g_rand_int_range (rand, 0, 1500) * 1000);
      center_restart (c);
    }
  sync_job_wait (&job);
  if (!job.synced)
    sync_until_synced (&l->a);
  check (kills > 0, "the push finished before the center could be killed");
  g_test_message ("the center was killed %u times during the push; %" G_GINT64_FORMAT " tries", kills, job.attempts);

  /* Nothing lost, nothing twice. */
  sql = g_strdup_printf ("SELECT count (*) = %" G_GINT64_FORMAT " AND count (DISTINCT seq) = count (*) AND "
                         "max (seq) = %" G_GINT64_FORMAT " FROM changes WHERE device = (SELECT num FROM device_numbers WHERE id = '%s')", last_seq, last_seq,
                         l->a.device);
  check (center_db_int (c, sql) == 1, "the center does not hold changes 1 to %" G_GINT64_FORMAT " once each",
         last_seq);
  g_free (sql);
  sql = g_strdup_printf ("SELECT count (*) = %" G_GINT64_FORMAT " AND count (code) = 0 FROM all_push_outcomes "
                         "WHERE device_id = '%s'", last_seq, l->a.device);
  check (center_db_int (c, sql) == 1, "the center's outcomes are not %" G_GINT64_FORMAT " acceptances", last_seq);
  g_free (sql);
  sql = g_strdup_printf ("SELECT acked_seq FROM devices WHERE id = '%s'", l->a.device);
  check (center_db_int (c, sql) == last_seq, "the center acknowledged %" G_GINT64_FORMAT, center_db_int (c, sql));
  check (tablet_int (&l->a, "SELECT value FROM sync_state WHERE key = 'acked_seq'") == last_seq,
         "the tablet is not acknowledged to the end");
  check (center_db_int (c, "SELECT count (*) FROM changes WHERE tbl = 'households' AND (field = 'village_code' "
                           "OR (kind = 'edits' AND json_extract (fields, '$.village_code') IS NOT NULL))") ==
           LARGE_HOUSEHOLDS, "the center does not hold the households once each");
  l->pushed = TRUE;
}

/* ---- a tablet killed while it applies a large first pull ---------------------------------------- */

/* The changes the center stored up to @cursor, each of which @t must hold
 * (it sent none of them); and that it holds no more. */
static void
check_cursor (Center *c, Tablet *t, const char *when)
{
  g_autoptr(HearthStore) store = tablet_open (t);
  sqlite3 *db = hearth_store_get_db (store);
  sqlite3 *center = center_open (c);
  gint64 cursor = query_int (db, "SELECT value FROM sync_state WHERE key = 'cursor'");
  g_autoptr(GHashTable) held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) edits = rows (db, "SELECT record_table || ' ' || record_id || ' ' || field || ' ' || hlc "
                                         "FROM field_edits");
  g_autoptr(GPtrArray) records = rows (db, "SELECT 'submissions ' || id FROM submissions UNION ALL "
                                           "SELECT 'reviews ' || id FROM reviews UNION ALL "
                                           "SELECT 'audit ' || device_id || ' ' || seq FROM audit_foreign");
  g_autofree char *sql = g_strdup_printf (CENTER_EDITS "SELECT tbl || ' ' || record_id || ' ' || field || ' ' || hlc "
                                          "FROM edits_of WHERE cursor <= %" G_GINT64_FORMAT " AND device_id != '%s' "
                                          "UNION ALL SELECT CASE WHEN tbl = 'audit' THEN 'audit ' || d.id || ' ' || "
                                          "json_extract (hearth_fields (fields), '$.seq') ELSE tbl || ' ' || record_id END "
                                          "FROM changes c JOIN device_numbers d ON d.num = c.device "
                                          "WHERE kind = 'record' AND cursor <= %" G_GINT64_FORMAT " AND d.id != '%s'",
                                          cursor, t->device, cursor, t->device);
  g_autoptr(GPtrArray) expected = rows (center, sql);
  /* A first pull is compacted (PROTOCOL.md section 8.1): an edit another
   * edit of its field names may be left out; the rest is due. */
  g_autofree char *superseded_sql = g_strdup_printf (
    CENTER_EDITS "SELECT tbl || ' ' || record_id || ' ' || field || ' ' || hlc FROM edits_of c WHERE "
    "cursor <= %" G_GINT64_FORMAT " AND EXISTS (SELECT 1 FROM edits_of n WHERE n.tbl = c.tbl "
    "AND n.record_id = c.record_id AND n.field = c.field AND instr (n.parents, '\"' || c.hlc || '\"') > 0)", cursor);
  g_autoptr(GPtrArray) superseded = rows (center, superseded_sql);
  g_autoptr(GHashTable) may_lack = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) allowed = g_hash_table_new (g_str_hash, g_str_equal);
  guint beyond = 0;

  for (guint i = 0; i < superseded->len; i++)
    g_hash_table_add (may_lack, superseded->pdata[i]);
  for (guint i = 0; i < expected->len; i++)
    g_hash_table_add (allowed, expected->pdata[i]);
  for (guint i = 0; i < edits->len; i++)
    g_hash_table_add (held, g_strdup (edits->pdata[i]));
  for (guint i = 0; i < records->len; i++)
    g_hash_table_add (held, g_strdup (records->pdata[i]));
  for (guint i = 0; i < expected->len; i++)
    check (g_hash_table_contains (held, expected->pdata[i]) || g_hash_table_contains (may_lack, expected->pdata[i]),
           "%s: its cursor is %" G_GINT64_FORMAT " but it does not hold %s", when, cursor,
           (char *) expected->pdata[i]);
  /* A page and its cursor are one transaction: nothing beyond either. */
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, held);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      beyond += !g_hash_table_contains (allowed, key);
  }
  check (beyond == 0, "%s: it holds %u changes beyond the center's up to its cursor %" G_GINT64_FORMAT, when, beyond,
         cursor);
  sqlite3_close (center);
}

/* B pulls A's large batch as its first sync and is SIGKILLed at random
 * moments: after each kill the store opens, passes check and audit
 * verify, and its cursor points at exactly what it holds; in the end it
 * holds what A holds. */
static void
test_device_killed (void)
{
  Large *l = large_get ();
  Center *c = l->c;
  Tablet *b = &l->b;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed ^ 0xdead);
  guint kills = env_uint ("HEARTH_PROPERTY_KILLS", 20);
  g_auto(TestRun) r = { 0 };
  guint killed = 0, finished = 0, leases = 0, moved = 0;
  /* Each run is killed after the time its share of the log (what is
   * left over the kills left) should take: the time a run needs before
   * it commits anything (starting the process, opening the store, the
   * first pages) is learnt from the runs that got nowhere, the time a
   * change takes from those that moved. A fixed range either let a fast
   * machine pull the whole log before the first kill (CI, seed
   * 244202140: 8 of 20 killed) or, shrunk after a run that moved, left
   * the next runs short of the first commit again (CI: 20 killed, the
   * last at cursor 7,200 of 22,620). */
  gint64 startup_us = 0, grow_us = 150000, per_change_us = 0, moving_us = 0, moved_changes = 0;
  gint64 total, last_cursor = 0;

  if (!l->pushed)
    sync_until_synced (&l->a);
  total = center_db_int (c, "SELECT count (*) FROM changes");

  for (guint k = 0; k < kills; k++)
    {
      g_auto(SyncJob) job = { 0 };
      g_autofree char *when = NULL;
      g_autofree char *lease_sql = NULL;
      gint64 cursor, started_us, ran_us;

      /* Pages of 100: the tablet commits every 4 pages (app/sync-run.c),
       * so some 50 commits for the kills to fall between; with pages of
       * 500 a fast machine pulled it all in fewer runs than kills. */
      {
        gint64 share = (total - last_cursor) / MAX (1, (gint64) (kills - k));
        gint64 wait_us;

        if (per_change_us > 0)
          wait_us = startup_us + share * per_change_us * g_rand_int_range (rand, 50, 151) / 100;
        else
          wait_us = startup_us + g_rand_int_range (rand, 10, (gint32) MAX (11, grow_us / 1000)) * 1000;
        started_us = g_get_monotonic_time ();
        sync_job_start_paged (&job, b, 0, FALSE, 100);
        g_usleep ((gulong) MAX (0, started_us + wait_us - g_get_monotonic_time ()));
      }
      if (g_subprocess_get_identifier (job.proc) == NULL)
        {
          /* It finished before the kill. */
          sync_job_wait (&job);
          finished++;
          if (job.synced)
            break;
          continue;
        }
      g_subprocess_send_signal (job.proc, SIGKILL);
      ran_us = g_get_monotonic_time () - started_us;
      g_assert_true (g_subprocess_wait (job.proc, NULL, NULL));
      killed++;
      cursor = tablet_int (b, "SELECT value FROM sync_state WHERE key = 'cursor'");
      when = g_strdup_printf ("after kill %u (cursor %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT ")", killed, cursor,
                              total);
      g_test_message ("kill %u after %" G_GINT64_FORMAT " ms: cursor %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT, killed,
                      ran_us / 1000, cursor, total);
      /* Kills spread over the whole pull whatever the machine's speed. */
      if (cursor > last_cursor)
        {
          moved++;
          /* What it ran past the first commit (half its time when the
           * startup learnt so far was longer than this run's), over all
           * the runs that moved. */
          moving_us += ran_us > startup_us ? ran_us - startup_us : ran_us / 2;
          moved_changes += cursor - last_cursor;
          per_change_us = MAX (1, moving_us / moved_changes);
        }
      else
        {
          startup_us = MAX (startup_us, ran_us);
          grow_us = MIN (5000000, grow_us * 3 / 2);
        }
      last_cursor = cursor;
      /* The store opens and passes its checks … */
      cli (&r, b, "check", NULL);
      check (r.status == 0, "%s: check: exit %d\n%s%s", when, r.status, r.out, r.err);
      cli (&r, b, "audit", "verify", NULL);
      check (r.status == 0, "%s: audit verify: exit %d\n%s%s", when, r.status, r.out, r.err);
      /* … its cursor points at what it holds … */
      check_cursor (c, b, when);
      /* … and the killed run's lease holds the next sync off until it
       * expires (two minutes): the test lets it expire at once. */
      lease_sql = g_strdup_printf ("SELECT count (*) FROM sync_lease WHERE expires_at > %" G_GINT64_FORMAT,
                                   g_get_real_time () / 1000);
      if (tablet_int (b, lease_sql) > 0)
        {
          cli (&r, b, "sync", NULL);
          check (r.status == 1 && strstr (r.err, "a sync is already running") != NULL,
                 "%s: a sync while the dead run's lease holds: exit %d\n%s", when, r.status, r.err);
          tablet_exec (b, "UPDATE sync_lease SET expires_at = 0");
          leases++;
        }
    }
  g_test_message ("seed %u: the pulling tablet was killed %u times (%u after it had applied more, %u left a lease; "
                  "%u runs ended before their kill), at cursor %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT, seed, killed,
                  moved, leases, finished, last_cursor, total);
  check (killed >= kills / 2, "only %u of %u runs were killed mid-sync", killed, kills);
  sync_until_synced (b);
  check_cursor (c, b, "at the end");
  {
    g_autoptr(HearthStore) sa = tablet_open (&l->a);
    g_autoptr(HearthStore) sb = tablet_open (b);
    g_autofree char *state_a = tables_state (hearth_store_get_db (sa));
    g_autofree char *state_b = tables_state (hearth_store_get_db (sb));

    if (strcmp (state_a, state_b) != 0)
      {
        g_autofree char *diff = first_difference (state_a, state_b);
        fail ("the killed tablet ends with other data: %s", diff);
      }
  }
  center_stop (c);
  g_clear_pointer (&large, large_free);
}

/* ---- clocks a day off -------------------------------------------------------------------------- */

typedef struct {
  HearthStore *store;
  HearthCaseStore *cases;
  HearthSyncStore *sync;
  gint64 skew_ms;
} Skewed;

static gint64
skewed_clock (gpointer data)
{
  return g_get_real_time () / 1000 + ((Skewed *) data)->skew_ms;
}

/* @t's store in this process, on a clock @skew_ms off. */
static void
skewed_open (Skewed *s, Tablet *t, gint64 skew_ms)
{
  g_autoptr(GError) error = NULL;

  s->skew_ms = skew_ms;
  s->store = tablet_open (t);
  s->cases = hearth_case_store_new (s->store, t->user, &error);
  g_assert_no_error (error);
  hearth_case_store_set_wall_clock (s->cases, skewed_clock, s);
  s->sync = hearth_sync_store_new (s->cases);
}

static void
skewed_close (Skewed *s)
{
  g_clear_object (&s->sync);
  g_clear_object (&s->cases);
  g_clear_object (&s->store);
}

static void
skewed_edit (Skewed *s, const char *household, const char *phone)
{
  g_autoptr(GHashTable) fields = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;
  guint changed = 0;

  g_autofree char *address = g_strdup_printf ("Lane %s", phone);

  /* Two fields, one write: one version, one change of kind "edits". */
  g_hash_table_insert (fields, (gpointer) "phone", (gpointer) phone);
  g_hash_table_insert (fields, (gpointer) "address", address);
  check (hearth_case_write (s->cases, "households", household, FALSE, fields, "update", &changed, &error),
         "writing the phone of %s: %s", household, error->message);
  g_assert_cmpuint (changed, ==, 2);
}

/* One sync through the library, on the skewed clock. */
static void
skewed_sync (Skewed *s, Tablet *t, HearthSyncRunResult *result)
{
  HearthSyncRunOptions options = { 0 };
  g_autoptr(GError) error = NULL;
  int on = -1;

  options.holder = "test-sync-property";
  /* Pages of a few changes, several in one transaction, applied with the
   * store's triggers off from the first to the last (sync-apply.c): on
   * again after the run, on this connection, whose next local writes need
   * them (the outbox, the search index). */
  options.pull_limit = 3;
  check (hearth_sync_run (s->sync, &options, result, &error), "%s: sync on a clock %+" G_GINT64_FORMAT " ms off: %s",
         t->name, s->skew_ms, error->message);
  check (result->status.synced, "%s: not synced", t->name);
  g_assert_cmpint (sqlite3_db_config (hearth_case_store_get_db (s->cases), SQLITE_DBCONFIG_ENABLE_TRIGGER, -1, &on),
                   ==, SQLITE_OK);
  g_assert_cmpint (on, ==, 1);
}

static gint64
hlc_wall_ms (const char *hlc)
{
  return g_ascii_strtoll (hlc, NULL, 10);
}

static void
test_clock_off (void)
{
  g_autoptr(Center) c = center_init ("prop-clock-center", COUNTY);
  g_autofree char *dir = test_make_dir ("prop-clock-registry");
  g_autofree char *registry = g_build_filename (dir, "registry.csv", NULL);
  g_autofree char *seed_text = g_strdup_printf ("%u", seed);
  g_auto(Tablet) fast = { 0 };
  g_auto(Tablet) slow = { 0 };
  g_auto(Tablet) normal = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autofree char *household = NULL;
  g_autofree char *sql = NULL;
  HearthSyncRunResult result = { 0 };
  Skewed f = { 0 }, s = { 0 };
  Tablet *all[] = { &normal, &fast, &slow };
  const char *fast_device;

  center_add_user (c, "w.fast", "worker", COUNTY);
  center_add_user (c, "w.slow", "worker", COUNTY);
  center_add_user (c, "w.normal", "worker", COUNTY);
  center_start (c);
  tablet_enrol (&fast, "prop-clock-fast", c, "w.fast", "worker");
  tablet_enrol (&slow, "prop-clock-slow", c, "w.slow", "worker");
  tablet_enrol (&normal, "prop-clock-normal", c, "w.normal", "worker");
  fast_device = fast.device;
  test_run_cli (&r, NULL, "demo", "generate", "--households", "3", "--seed", seed_text, "--county", COUNTY, "--out",
                registry, NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli (&r, &normal, "household", "import", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    sync_until_synced (all[i]);
  {
    g_autoptr(GPtrArray) ids = tablet_rows (&normal, "SELECT id FROM households ORDER BY id LIMIT 1");
    household = g_strdup (ids->pdata[0]);
  }

  /* Offline, the fast tablet (a day ahead) changes the household's phone
   * twice, the slow one (a day behind) once; the fast one syncs first. */
  skewed_open (&f, &fast, DAY_MS);
  skewed_open (&s, &slow, -DAY_MS);
  skewed_edit (&f, household, "13900000001");
  skewed_edit (&f, household, "13900000002");
  skewed_edit (&s, household, "13900000009");
  skewed_sync (&f, &fast, &result);
  check (result.clock_off, "the fast tablet was not told its clock is off");
  check (ABS (result.status.center_offset_ms + DAY_MS) < 60 * 1000, "the fast tablet's offset is %" G_GINT64_FORMAT,
         result.status.center_offset_ms);
  check (result.pushed > 0, "the fast tablet pushed nothing");
  /* The center clamped both writes to its own time, each one version for
   * its two fields; the wall time is the tablet's. */
  sql = g_strdup_printf ("SELECT count (*) FROM changes WHERE kind = 'edits' AND json_extract (fields, '$.phone') "
                         "IS NOT NULL AND json_extract (fields, '$.address') IS NOT NULL "
                         "AND device = (SELECT num FROM device_numbers WHERE id = '%s') AND "
                         "CAST (substr (hlc, 1, 15) AS INTEGER) < %" G_GINT64_FORMAT, fast_device,
                         g_get_real_time () / 1000 + 60 * 1000);
  check (center_db_int (c, sql) == 2, "the center did not clamp the fast tablet's edits");
  /* The tablet renamed every field of each write, and the second write's
   * parents: its writes under the center's versions, the second over the
   * first, no conflict of the tablet with itself. */
  {
    sqlite3 *db = hearth_case_store_get_db (f.cases);
    g_autofree char *own = g_strdup_printf ("SELECT count (*) FROM field_edits WHERE record_id = '%s' "
                                            "AND field IN ('phone', 'address') AND origin = '%s'", household,
                                            fast_device);
    g_autofree char *versions = g_strdup_printf ("SELECT count (DISTINCT hlc) FROM field_edits WHERE record_id = '%s' "
                                                 "AND field IN ('phone', 'address') AND origin = '%s' "
                                                 "AND CAST (substr (hlc, 1, 15) AS INTEGER) < %" G_GINT64_FORMAT,
                                                 household, fast_device, g_get_real_time () / 1000 + 60 * 1000);
    g_autofree char *chained = g_strdup_printf ("SELECT count (*) FROM field_edits AS e JOIN field_edits AS p "
                                                "ON p.record_id = e.record_id AND p.field = e.field "
                                                "AND p.hlc = e.parents WHERE e.record_id = '%s' "
                                                "AND e.field IN ('phone', 'address') AND e.origin = '%s' "
                                                "AND p.origin = '%s'", household, fast_device, fast_device);
    g_autofree char *open = g_strdup_printf ("SELECT count (*) FROM conflicts WHERE record_id = '%s' "
                                             "AND resolved_at IS NULL", household);

    check (query_int (db, own) == 4, "the fast tablet holds %" G_GINT64_FORMAT " edits of its own",
           query_int (db, own));
    check (query_int (db, versions) == 2, "the fast tablet's writes are not each under one clamped version");
    check (query_int (db, chained) == 2, "the fast tablet's second write does not name the first's clamped version");
    check (query_int (db, open) == 0, "the fast tablet is in conflict with itself");
  }
  skewed_sync (&s, &slow, &result);
  check (result.clock_off, "the slow tablet was not told its clock is off");
  check (ABS (result.status.center_offset_ms - DAY_MS) < 60 * 1000, "the slow tablet's offset is %" G_GINT64_FORMAT,
         result.status.center_offset_ms);

  /* A tablet with the right time edits after the fast one but without
   * seeing its edit: a concurrent edit, later by the right clock. */
  g_usleep (50 * 1000);
  {
    Skewed n = { 0 };

    skewed_open (&n, &normal, 0);
    skewed_edit (&n, household, "13900000005");
    skewed_sync (&n, &normal, &result);
    check (!result.clock_off, "the tablet with the right time was told its clock is off");
    skewed_close (&n);
  }
  skewed_sync (&f, &fast, &result);
  skewed_sync (&s, &slow, &result);
  skewed_close (&f);
  skewed_close (&s);

  /* hearth-cli reports the clocks from what the syncs learned. */
  {
    Tablet *off[] = { &fast, &slow };

    for (guint i = 0; i < G_N_ELEMENTS (off); i++)
      {
        g_autoptr(JsonNode) root = NULL;

        cli (&r, off[i], "--json", "sync", "--status", NULL);
        g_assert_cmpint (r.status, ==, 0);
        root = json_from_string (r.out, NULL);
        check (json_object_get_boolean_member (json_node_get_object (root), "clock_warning"),
               "%s: no clock warning: %s", off[i]->name, r.out);
      }
    cli (&r, &normal, "--json", "sync", "--status", NULL);
    g_assert_nonnull (strstr (r.out, "\"clock_warning\" : false"));
  }

  /* Everywhere the right clock's edit wins; the fast tablet's last edit
   * and the slow one's are open conflicts, the fast one's own two are not
   * in conflict with each other. */
  g_free (sql);
  sql = g_strdup_printf ("SELECT phone FROM households WHERE id = '%s'", household);
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    {
      g_autoptr(GPtrArray) phone = tablet_rows (all[i], sql);
      g_autofree char *conflicts_sql = g_strdup_printf ("SELECT lost_value FROM conflicts WHERE record_id = '%s' "
                                                        "AND field = 'phone' AND resolved_at IS NULL ORDER BY 1",
                                                        household);
      g_autoptr(GPtrArray) lost = tablet_rows (all[i], conflicts_sql);

      check (g_strcmp0 (phone->pdata[0], "13900000005") == 0, "%s: the phone is %s, not the later edit's",
             all[i]->name, (char *) phone->pdata[0]);
      check (lost->len == 2 && g_str_equal (lost->pdata[0], "13900000002") &&
               g_str_equal (lost->pdata[1], "13900000009"),
             "%s: the phone's open conflicts are not the fast and the slow tablet's edits", all[i]->name);
    }
  /* The other tablet holds the fast edits at the center's time, with the
   * wall time the fast tablet believed. */
  {
    g_autofree char *edits_sql = g_strdup_printf ("SELECT hlc || ' ' || wall FROM field_edits WHERE record_id = '%s' "
                                                  "AND field = 'phone' AND origin = '%s' ORDER BY hlc", household,
                                                  fast_device);
    g_autoptr(GPtrArray) pulled = tablet_rows (&normal, edits_sql);
    g_autoptr(GPtrArray) own = tablet_rows (&fast, edits_sql);
    gint64 now = g_get_real_time () / 1000;

    check (pulled->len == 2, "the other tablet holds %u of the fast tablet's edits", pulled->len);
    for (guint i = 0; i < pulled->len; i++)
      {
        const char *row = pulled->pdata[i];
        g_autoptr(GDateTime) wall = g_date_time_new_from_iso8601 (strchr (row, ' ') + 1, NULL);

        check (ABS (hlc_wall_ms (row) - now) < 5 * 60 * 1000, "the fast edit pulled is at %s, not the center's time",
               row);
        check (wall != NULL && ABS (g_date_time_to_unix (wall) * 1000 - now - DAY_MS) < 5 * 60 * 1000,
               "the fast edit's wall time is not the fast tablet's: %s", row);
        /* The fast tablet rewrote its own edits to the clamped versions. */
        check (g_strcmp0 (own->pdata[i], row) == 0, "the fast tablet holds %s, the others %s",
               (char *) own->pdata[i], row);
      }
  }
  center_stop (c);
}

static guint64
checkpointed (const HearthVfsStats *s)
{
  return s->pages_passed_through + s->pages_authenticated;
}

/* @n pages written to the store's WAL in one commit, into a table of the
 * test's own. */
static void
fill_wal (sqlite3 *db, guint n)
{
  g_autofree char *sql = g_strdup_printf ("CREATE TABLE IF NOT EXISTS test_filler (x BLOB); "
                                          "WITH RECURSIVE i (k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM i WHERE k < %u) "
                                          "INSERT INTO test_filler SELECT randomblob (3500) FROM i", n);

  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
}

/* A sync run's syncs of the store (synchronous=FULL): the lease taken,
 * the push acknowledged, and one commit for the rest (the pull's last
 * pages, the exchange, the lease let go); the WAL the app wrote is not
 * checkpointed by a run (SQLite's autocheckpoint does it, at 1,000
 * pages) unless the run leaves it that long, and the autocheckpoint works
 * after the run as before it. It synced eight times before: the end of
 * the pull, the exchange and the lease each a commit, and a checkpoint
 * at the end of every run (three syncs). A long WAL a run leaves is its
 * caller's to checkpoint, after the run (HearthSyncRunResult.checkpoint_due). */
static void
test_run_syncs (void)
{
  g_autoptr(Center) c = center_init ("prop-syncs-center", COUNTY);
  g_autofree char *dir = test_make_dir ("prop-syncs-registry");
  g_autofree char *registry = g_build_filename (dir, "registry.csv", NULL);
  g_autofree char *seed_text = g_strdup_printf ("%u", seed);
  g_autofree char *household = NULL;
  g_autofree char *holder = NULL;
  g_auto(Tablet) t = { 0 };
  g_auto(TestRun) r = { 0 };
  HearthSyncRunResult result = { 0 };
  HearthVfsStats before, after;
  Skewed s = { 0 };
  sqlite3 *db;

  center_add_user (c, "w.syncs", "worker", COUNTY);
  center_start (c);
  tablet_enrol (&t, "prop-syncs", c, "w.syncs", "worker");
  test_run_cli (&r, NULL, "demo", "generate", "--households", "3", "--seed", seed_text, "--county", COUNTY, "--out",
                registry, NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli (&r, &t, "household", "import", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);
  sync_until_synced (&t);
  {
    g_autoptr(GPtrArray) ids = tablet_rows (&t, "SELECT id FROM households ORDER BY id LIMIT 1");
    household = g_strdup (ids->pdata[0]);
  }
  skewed_open (&s, &t, 0);
  db = hearth_case_store_get_db (s.cases);
  g_assert_cmpint (query_int (db, "PRAGMA synchronous"), ==, 2);

  /* A write pushed, and the pull after it. */
  skewed_edit (&s, household, "13900000011");
  sqlite3_wal_checkpoint_v2 (db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
  skewed_edit (&s, household, "13900000012");
  hearth_vfs_get_stats (&before);
  skewed_sync (&s, &t, &result);
  hearth_vfs_get_stats (&after);
  check (result.pushed >= 2, "the run pushed %" G_GINT64_FORMAT " changes", result.pushed);
  check (after.syncs - before.syncs == 3, "a run of a push synced the store %" G_GUINT64_FORMAT " times, not 3",
         after.syncs - before.syncs);
  check (checkpointed (&after) == checkpointed (&before), "a run of a push checkpointed the store");
  holder = hearth_sync_store_lease_holder (s.sync);
  check (holder == NULL, "the lease is still %s's after the run", holder);
  check (ABS (query_int (db, "SELECT value FROM sync_state WHERE key = 'last_sync_ms'") - g_get_real_time () / 1000) <
           60 * 1000, "the run did not record when it synced");

  /* Nothing to push or pull: the lease taken and let go. */
  hearth_vfs_get_stats (&before);
  skewed_sync (&s, &t, &result);
  hearth_vfs_get_stats (&after);
  check (after.syncs - before.syncs == 2, "a run of nothing synced the store %" G_GUINT64_FORMAT " times, not 2",
         after.syncs - before.syncs);

  /* A WAL the app left long (its autocheckpoint off): the run leaves it
   * as it is, durable, and says its checkpoint is due; the caller's
   * checkpoint after the run copies it, as SQLite's own would have at a
   * commit. */
  sqlite3_wal_autocheckpoint (db, 0);
  fill_wal (db, 1100);
  skewed_edit (&s, household, "13900000013");
  hearth_vfs_get_stats (&before);
  skewed_sync (&s, &t, &result);
  hearth_vfs_get_stats (&after);
  check (result.checkpoint_due, "the run left a WAL of 1,100 pages and did not say its checkpoint is due");
  check (checkpointed (&after) == checkpointed (&before), "the run checkpointed the store itself: %" G_GUINT64_FORMAT
         " pages", checkpointed (&after) - checkpointed (&before));
  {
    g_autoptr(GError) error = NULL;

    check (hearth_store_checkpoint (s.store, NULL, NULL, &error), "the checkpoint after the run: %s",
           error != NULL ? error->message : "");
  }
  hearth_vfs_get_stats (&after);
  check (checkpointed (&after) - checkpointed (&before) >= 1000, "the run left a WAL of 1,100 pages: %"
         G_GUINT64_FORMAT " checkpointed after it", checkpointed (&after) - checkpointed (&before));
  /* And SQLite's autocheckpoint is back after the run. */
  hearth_vfs_get_stats (&before);
  fill_wal (db, 1100);
  hearth_vfs_get_stats (&after);
  check (checkpointed (&after) - checkpointed (&before) >= 1000, "the autocheckpoint is off after a run: %"
         G_GUINT64_FORMAT " pages checkpointed", checkpointed (&after) - checkpointed (&before));
  skewed_close (&s);
  center_stop (c);
}

int
main (int argc, char *argv[])
{
  int status;

  test_init (&argc, &argv);
  seed_init ();
  g_test_add_func ("/sync/property", test_property);
  g_test_add_func ("/sync/property/center-killed", test_center_killed);
  g_test_add_func ("/sync/property/device-killed", test_device_killed);
  g_test_add_func ("/sync/property/clock-off", test_clock_off);
  g_test_add_func ("/sync/property/run-syncs", test_run_syncs);
  status = g_test_run ();
  g_clear_pointer (&large, large_free);
  return status;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bench-store.c: what the encrypting VFS costs (design notes, section 7).
 *
 * Runs one workload, in one process, on two databases that differ only in
 * encryption: one opened through "encvfs" (store-vfs.c) and one through
 * SQLite's default VFS. Both have 4096-byte pages with 40 reserved bytes,
 * WAL, synchronous=FULL, temp_store=MEMORY and mmap off, so every
 * difference in time is the shim: XChaCha20-Poly1305 on each page read
 * from or written to a file, and its bookkeeping. It prints, per phase,
 * the median time of each side and the encrypted/plain ratio, at 10k and
 * 100k rows, twice: with the page cache the store configures
 * (HEARTH_STORE_CACHE_KIB), under which a worker's whole store stays
 * decrypted in memory, and with a 2 MiB cache under which most reads of
 * the 100k-row database (~23 MB) miss the cache and decrypt a page.
 *
 * Phases, in the order they run: bulk inserts in one transaction, a WAL
 * checkpoint of them, single-row inserts each in its own transaction
 * (fewer rows: each commit waits for an fsync), point selects by primary
 * key, range scans, index creation, updates, deletes (one transaction
 * each) and a final WAL checkpoint. Automatic checkpoints are off (the
 * store keeps SQLite's default of 1000 pages) so that each phase's time is
 * its own work.
 *
 * Shared two-core machines are noisy. Each repeat builds a fresh pair of
 * databases; within a phase the two sides take turns every few
 * milliseconds (each keeping its own transaction open), and which side
 * goes first alternates, so that a burst of load from another process
 * falls on both alike. The ratio is the median encrypted time over the
 * median plain time of the same process; the spread of the per-repeat
 * ratios and the ratio of CPU times (which preemption hardly disturbs) are
 * printed beside it, with the pages encvfs encrypted or decrypted and the
 * extra CPU time per such page, which is what the shim really costs. Each
 * repeat ends with an untimed check that both sides hold the same rows.
 *
 * It also times an unlock: the Argon2id calibration of
 * HEARTH_KDF_INTERACTIVE, hearth_store_open() of a store created with it,
 * and the Argon2id run alone (hearth_keyslot_unwrap()).
 *
 * Not a pass/fail test: "over" marks a ratio above its target, nothing
 * fails. Files go in a fresh folder under $HEARTH_BENCH_DIR, or under the
 * build directory (not /tmp), removed at exit unless HEARTH_KEEP_BENCH_DIR
 * is set.
 *
 *   bench-store [--quick] [--repeats=N] [--rows=N] [--verbose] [--no-unlock]
 */
#include "bench-util.h"
#include <glib.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "store-keyslot.h"
#include "store-secret.h"
#include "store-vfs.h"

#ifndef HEARTH_BENCH_DEFAULT_DIR
#define HEARTH_BENCH_DEFAULT_DIR "bench-scratch"
#endif

#define PASSPHRASE "correct horse battery staple"
#define PAYLOAD_BYTES 200
#define SMALL_CACHE_KIB 2048
#define N_COMMITS 1000
#define RANGE_ROWS 100

/* Targets with the configured cache (the issue): reads and bulk writes
 * within 15 %, single-row commits within 5 % of plain SQLite. */
#define TARGET_BULK 1.15
#define TARGET_COMMIT 1.05
#define UNLOCK_MIN_S 0.3
#define UNLOCK_MAX_S 1.0

typedef enum {
  SIDE_ENC,
  SIDE_PLAIN,
  N_SIDES,
} Side;

static const char *const side_names[N_SIDES] = { "enc", "plain" };

typedef enum {
  PHASE_BULK,
  PHASE_CHECKPOINT_BULK,
  PHASE_COMMITS,
  PHASE_POINT,
  PHASE_RANGE,
  PHASE_INDEX,
  PHASE_UPDATE,
  PHASE_DELETE,
  PHASE_CHECKPOINT,
  N_PHASES,
} Phase;

static const struct {
  const char *name;
  double target;
} phases[N_PHASES] = {
  [PHASE_BULK] = { "bulk insert, 1 txn", TARGET_BULK },
  [PHASE_CHECKPOINT_BULK] = { "WAL checkpoint of it", TARGET_BULK },
  [PHASE_COMMITS] = { "1-row txns, sync=FULL", TARGET_COMMIT },
  [PHASE_POINT] = { "point selects by PK", TARGET_BULK },
  [PHASE_RANGE] = { "range scans, 100 rows", TARGET_BULK },
  [PHASE_INDEX] = { "create index", TARGET_BULK },
  [PHASE_UPDATE] = { "updates by PK, 1 txn", TARGET_BULK },
  [PHASE_DELETE] = { "deletes by PK, 1 txn", TARGET_BULK },
  [PHASE_CHECKPOINT] = { "final WAL checkpoint", TARGET_BULK },
};

/* The same rows and the same random choices for both sides. */
typedef struct {
  guint n_rows;
  guint n_ops[N_PHASES];
  guint chunk[N_PHASES];  /* operations per turn (run_table()) */
  guint32 *point_ids;
  guint32 *range_starts;
  guint32 *update_ids;
  guint32 *delete_ids;
} Workload;

typedef struct {
  double seconds;
  double cpu_seconds;     /* this thread's CPU time */
  guint64 pages_crypted;  /* encrypted + decrypted by encvfs */
  int cache_misses;       /* SQLITE_DBSTATUS_CACHE_MISS */
} Sample;

typedef struct {
  sqlite3 *db;
  sqlite3_stmt *st;  /* the current phase's statement */
  char *token;  /* encvfs key token, or NULL */
  char *path;
} Conn;

static char *bench_dir;
static gboolean verbose;

/* ---- helpers ---------------------------------------------------------- */

static guint64
splitmix64 (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* A survey answer of PAYLOAD_BYTES printable characters, a function of
 * @id and @version only. */
static void
make_payload (guint32 id, guint32 version, char *out)
{
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ,.0123456789";
  guint64 state = ((guint64) version << 32) | id;

  for (int i = 0; i < PAYLOAD_BYTES; i += 8)
    {
      guint64 r = splitmix64 (&state);

      for (int j = 0; j < 8 && i + j < PAYLOAD_BYTES; j++, r >>= 8)
        out[i + j] = alphabet[(r & 0xff) % (sizeof alphabet - 1)];
    }
}

static guint32 *
random_ids (guint n, guint32 max_id, guint64 seed)
{
  guint32 *ids = g_new (guint32, n);

  for (guint i = 0; i < n; i++)
    ids[i] = 1 + (guint32) (splitmix64 (&seed) % max_id);
  return ids;
}

/* @n distinct ids from 1..@max_id (a partial Fisher-Yates shuffle). */
static guint32 *
distinct_ids (guint n, guint32 max_id, guint64 seed)
{
  g_autofree guint32 *all = g_new (guint32, max_id);
  guint32 *ids = g_new (guint32, n);

  for (guint32 i = 0; i < max_id; i++)
    all[i] = i + 1;
  for (guint i = 0; i < n; i++)
    {
      guint32 j = i + (guint32) (splitmix64 (&seed) % (max_id - i));
      guint32 t = all[i];

      all[i] = all[j];
      all[j] = t;
      ids[i] = all[i];
    }
  return ids;
}

static Workload *
workload_new (guint n_rows)
{
  Workload *w = g_new0 (Workload, 1);

  w->n_rows = n_rows;
  w->n_ops[PHASE_BULK] = n_rows;
  w->n_ops[PHASE_CHECKPOINT_BULK] = 1;
  w->n_ops[PHASE_COMMITS] = N_COMMITS;
  w->n_ops[PHASE_POINT] = MAX (n_rows, 50000);
  w->n_ops[PHASE_RANGE] = MAX (n_rows / 20, 2000);
  w->n_ops[PHASE_INDEX] = 1;
  w->n_ops[PHASE_UPDATE] = n_rows / 10;
  w->n_ops[PHASE_DELETE] = n_rows / 10;
  w->n_ops[PHASE_CHECKPOINT] = 1;
  for (int ph = 0; ph < N_PHASES; ph++)
    w->chunk[ph] = 1;
  w->chunk[PHASE_BULK] = 2000;
  w->chunk[PHASE_COMMITS] = 1;  /* each fsync's latency varies with the machine's other I/O */
  w->chunk[PHASE_POINT] = 5000;
  w->chunk[PHASE_RANGE] = 200;
  w->chunk[PHASE_UPDATE] = 500;
  w->chunk[PHASE_DELETE] = 500;
  w->point_ids = random_ids (w->n_ops[PHASE_POINT], n_rows, 1);
  w->range_starts = random_ids (w->n_ops[PHASE_RANGE], n_rows - RANGE_ROWS, 2);
  w->update_ids = random_ids (w->n_ops[PHASE_UPDATE], n_rows, 3);
  w->delete_ids = distinct_ids (w->n_ops[PHASE_DELETE], n_rows, 4);
  return w;
}

static void
workload_free (Workload *w)
{
  g_free (w->point_ids);
  g_free (w->range_starts);
  g_free (w->update_ids);
  g_free (w->delete_ids);
  g_free (w);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Workload, workload_free)

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static sqlite3_stmt *
prepare (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;

  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    g_error ("%s: %s", sql, sqlite3_errmsg (db));
  return st;
}

static void
step_done (sqlite3 *db, sqlite3_stmt *st)
{
  if (sqlite3_step (st) != SQLITE_DONE)
    g_error ("%s: %s", sqlite3_sql (st), sqlite3_errmsg (db));
  sqlite3_reset (st);
}

static char *
query_text (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = prepare (db, sql);
  char *v;

  if (sqlite3_step (st) != SQLITE_ROW)
    g_error ("%s: %s", sql, sqlite3_errmsg (db));
  v = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return v;
}

static gint64
query_int (sqlite3 *db, const char *sql)
{
  g_autofree char *text = query_text (db, sql);

  return g_ascii_strtoll (text, NULL, 10);
}

static guint64
pages_crypted (void)
{
  HearthVfsStats s;

  hearth_vfs_get_stats (&s);
  return s.pages_encrypted + s.pages_decrypted;
}

static void
remove_bench_dir (void)
{
  if (bench_dir != NULL && g_getenv ("HEARTH_KEEP_BENCH_DIR") == NULL)
    bench_remove_tree (bench_dir);
}

/* ---- the two connections ---------------------------------------------- */

/* Opens @side's database with the store's settings (open_database() in
 * store.c; the encvfs steps are those of test_open_raw()). The plain side
 * gets the same reserve through the same file control. */
static void
conn_open (Conn *c, Side side, const char *path, HearthPageKey *key, int cache_kib)
{
  int reserve = HEARTH_PAGE_RESERVE;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  g_autofree char *uri = NULL;
  g_autofree char *pragmas = NULL;
  g_autofree char *mode = NULL;
  int rc;

  memset (c, 0, sizeof *c);
  c->path = g_strdup (path);
  if (side == SIDE_ENC)
    {
      c->token = hearth_vfs_key_attach (key);
      uri = hearth_vfs_build_uri (path, c->token);
      rc = sqlite3_open_v2 (uri, &c->db, flags | SQLITE_OPEN_URI, HEARTH_VFS_NAME);
    }
  else
    {
      rc = sqlite3_open_v2 (path, &c->db, flags, NULL);
    }
  if (rc != SQLITE_OK)
    g_error ("opening %s: %s", path, sqlite3_errmsg (c->db));
  sqlite3_extended_result_codes (c->db, 1);
  sqlite3_busy_timeout (c->db, 10000);
  bench_exec (c->db, "PRAGMA page_size=4096");
  /* Before journal_mode=WAL, which writes page 1. */
  if (sqlite3_file_control (c->db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve) != SQLITE_OK)
    g_error ("%s: SQLITE_FCNTL_RESERVE_BYTES failed", path);
  pragmas = g_strdup_printf ("PRAGMA temp_store=MEMORY; PRAGMA mmap_size=0; PRAGMA cache_size=-%d",
                             cache_kib);
  bench_exec (c->db, pragmas);
  mode = query_text (c->db, "PRAGMA journal_mode=WAL");
  if (g_strcmp0 (mode, "wal") != 0)
    g_error ("%s: journal mode is %s, not wal", path, mode);
  bench_exec (c->db, "PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0");
  bench_exec (c->db, "CREATE TABLE visit (id INTEGER PRIMARY KEY, household INTEGER NOT NULL,"
               " updated INTEGER NOT NULL, answers TEXT NOT NULL)");
}

static void
conn_close (Conn *c)
{
  g_autofree char *wal = g_strconcat (c->path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (c->path, "-shm", NULL);

  if (sqlite3_close (c->db) != SQLITE_OK)
    g_error ("closing %s: %s", c->path, sqlite3_errmsg (c->db));
  hearth_vfs_key_detach (c->token);
  g_unlink (c->path);
  g_unlink (wal);
  g_unlink (shm);
  g_clear_pointer (&c->token, g_free);
  g_clear_pointer (&c->path, g_free);
}

/* Both files must say page size 4096 and reserve 40 (bytes 16-17, 20):
 * otherwise the comparison would not be like with like. */
static void
check_header (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  const guint8 *h;

  if (!g_file_get_contents (path, &contents, &len, NULL) || len < 100)
    g_error ("%s: no database header after the checkpoint", path);
  h = (const guint8 *) contents;
  if ((h[16] << 8 | h[17]) != HEARTH_PAGE_SIZE || h[20] != HEARTH_PAGE_RESERVE)
    g_error ("%s: page size %d, reserve %d", path, h[16] << 8 | h[17], h[20]);
}

/* Untimed: both sides must hold the same rows, and the encrypted one must
 * be sound, or the times compare different work. */
static void
check_same (Conn *conns, gboolean integrity)
{
  static const char *const sql =
    "SELECT count(*) || ' ' || total(household) || ' ' || total(updated) || ' ' || "
    "total(length(answers)) || ' ' || total(unicode(substr(answers, 100))) FROM visit";
  g_autofree char *enc = query_text (conns[SIDE_ENC].db, sql);
  g_autofree char *plain = query_text (conns[SIDE_PLAIN].db, sql);

  if (g_strcmp0 (enc, plain) != 0)
    g_error ("the sides differ after the workload: %s / %s", enc, plain);
  for (int sd = 0; integrity && sd < N_SIDES; sd++)
    {
      g_autofree char *ok = query_text (conns[sd].db, "PRAGMA integrity_check");

      if (g_strcmp0 (ok, "ok") != 0)
        g_error ("%s: integrity_check: %s", conns[sd].path, ok);
    }
}

/* ---- phases ----------------------------------------------------------- */

static void
bind_row (sqlite3_stmt *st, guint32 id, guint32 version, char *payload)
{
  guint64 state = (guint64) id * 31 + version;

  make_payload (id, version, payload);
  sqlite3_bind_int64 (st, 1, (gint64) (splitmix64 (&state) % 5000));
  sqlite3_bind_int64 (st, 2, G_GINT64_CONSTANT (1767225600) + id + version);
  sqlite3_bind_text (st, 3, payload, PAYLOAD_BYTES, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 4, id);
}

static void
checkpoint (sqlite3 *db)
{
  sqlite3_stmt *st = prepare (db, "PRAGMA wal_checkpoint(TRUNCATE)");

  if (sqlite3_step (st) != SQLITE_ROW || sqlite3_column_int (st, 0) != 0)
    g_error ("checkpoint failed or busy: %s", sqlite3_errmsg (db));
  sqlite3_finalize (st);
}

/* A phase runs in three steps so that the two sides can take turns every
 * few milliseconds (see run_table()): begin (prepare, BEGIN), ops
 * [@from, @to), end (COMMIT, finalize). */
static void
phase_begin (Conn *c, Phase phase)
{
  static const char *const sql[N_PHASES] = {
    [PHASE_BULK] = "INSERT INTO visit (household, updated, answers, id) VALUES (?, ?, ?, ?)",
    [PHASE_COMMITS] = "INSERT INTO visit (household, updated, answers, id) VALUES (?, ?, ?, ?)",
    [PHASE_POINT] = "SELECT household, updated, answers FROM visit WHERE id = ?",
    [PHASE_RANGE] = "SELECT household, updated, answers FROM visit WHERE id BETWEEN ?1 AND ?1 + "
                    G_STRINGIFY (RANGE_ROWS) " - 1",
    [PHASE_UPDATE] = "UPDATE visit SET household = ?, updated = ?, answers = ? WHERE id = ?",
    [PHASE_DELETE] = "DELETE FROM visit WHERE id = ?",
  };

  if (phase == PHASE_BULK || phase == PHASE_UPDATE || phase == PHASE_DELETE)
    bench_exec (c->db, "BEGIN");
  if (sql[phase] != NULL)
    c->st = prepare (c->db, sql[phase]);
}

static void
phase_end (Conn *c, Phase phase)
{
  g_clear_pointer (&c->st, sqlite3_finalize);
  if (phase == PHASE_BULK || phase == PHASE_UPDATE || phase == PHASE_DELETE)
    bench_exec (c->db, "COMMIT");
}

static void
phase_run (Conn *c, Phase phase, const Workload *w, guint from, guint to)
{
  sqlite3 *db = c->db;
  sqlite3_stmt *st = c->st;
  char payload[PAYLOAD_BYTES];
  gint64 sink = 0;

  for (guint i = from; i < to; i++)
    switch (phase)
      {
      case PHASE_BULK:
        bind_row (st, i + 1, 0, payload);
        step_done (db, st);
        break;

      case PHASE_COMMITS:  /* autocommit: one transaction per row */
        bind_row (st, w->n_rows + 1 + i, 0, payload);
        step_done (db, st);
        break;

      case PHASE_CHECKPOINT_BULK:
      case PHASE_CHECKPOINT:
        checkpoint (db);
        break;

      case PHASE_POINT:
        sqlite3_bind_int64 (st, 1, w->point_ids[i]);
        if (sqlite3_step (st) != SQLITE_ROW)
          g_error ("point select %u: %s", w->point_ids[i], sqlite3_errmsg (db));
        sink += sqlite3_column_int64 (st, 0) + sqlite3_column_bytes (st, 2);
        sqlite3_reset (st);
        break;

      case PHASE_RANGE:
        {
          int rc;

          sqlite3_bind_int64 (st, 1, w->range_starts[i]);
          while ((rc = sqlite3_step (st)) == SQLITE_ROW)
            sink += sqlite3_column_int64 (st, 0) + sqlite3_column_bytes (st, 2);
          if (rc != SQLITE_DONE)
            g_error ("range scan: %s", sqlite3_errmsg (db));
          sqlite3_reset (st);
        }
        break;

      case PHASE_INDEX:
        bench_exec (db, "CREATE INDEX visit_household ON visit (household)");
        break;

      case PHASE_UPDATE:
        bind_row (st, w->update_ids[i], i + 1, payload);
        step_done (db, st);
        break;

      case PHASE_DELETE:
        sqlite3_bind_int64 (st, 1, w->delete_ids[i]);
        step_done (db, st);
        break;

      case N_PHASES:
      default:
        g_assert_not_reached ();
      }
  if (sink == -1)  /* keeps the reads from being optimised away */
    g_print (" ");
}

typedef enum { STEP_BEGIN, STEP_RUN, STEP_END } Step;

/* Runs one step of @phase on @c and adds its cost to @s. */
static void
timed_step (Conn *c, Phase phase, Step step, const Workload *w, guint from, guint to, Sample *s)
{
  guint64 crypted = pages_crypted ();
  int cur = 0, hi = 0;
  double wall, cpu;

  sqlite3_db_status (c->db, SQLITE_DBSTATUS_CACHE_MISS, &cur, &hi, 1);
  wall = now_s ();
  cpu = cpu_s ();
  switch (step)
    {
    case STEP_BEGIN: phase_begin (c, phase); break;
    case STEP_RUN: phase_run (c, phase, w, from, to); break;
    case STEP_END: phase_end (c, phase); break;
    default: g_assert_not_reached ();
    }
  s->seconds += now_s () - wall;
  s->cpu_seconds += cpu_s () - cpu;
  s->pages_crypted += pages_crypted () - crypted;
  sqlite3_db_status (c->db, SQLITE_DBSTATUS_CACHE_MISS, &cur, &hi, 1);
  s->cache_misses += cur;
}

/* ---- one table -------------------------------------------------------- */

static void
print_table_header (guint n_rows, int cache_kib, gboolean configured, guint repeats, gint64 db_pages)
{
  g_print ("\n%u rows = %" G_GINT64_FORMAT " pages (%.1f MiB) after the bulk insert; cache %d KiB (%s);"
           " %u runs\n", n_rows, db_pages, db_pages * HEARTH_PAGE_SIZE / 1048576.0, cache_kib,
           configured ? "HEARTH_STORE_CACHE_KIB, as the store configures it"
                      : "small: a read that misses decrypts a page; no targets",
           repeats);
  g_print ("  %-22s %6s %8s %8s %6s %11s %6s %6s %-4s %6s %5s %13s\n",
           "phase", "ops", "enc ms", "plain ms", "ratio", "run min-max", "cpu", "target", "",
           "pages", "us/pg", "misses enc/pl");
}

static void
run_table (guint n_rows, int cache_kib, gboolean configured, guint repeats, HearthPageKey *key,
           GPtrArray *summary)
{
  g_autoptr(Workload) w = workload_new (n_rows);
  g_autofree Sample *samples = g_new0 (Sample, (gsize) N_PHASES * N_SIDES * repeats);
  g_autofree double *v = g_new (double, repeats);
  gint64 db_pages = 0;

#define SAMPLE(ph, sd, r) samples[((ph) * N_SIDES + (sd)) * repeats + (r)]

  for (guint r = 0; r < repeats; r++)
    {
      Conn conns[N_SIDES];

      for (int sd = 0; sd < N_SIDES; sd++)
        {
          g_autofree char *path = g_strdup_printf ("%s/%s-%u-%d-%u.db", bench_dir, side_names[sd],
                                                   n_rows, cache_kib, r);
          conn_open (&conns[sd], sd, path, key, cache_kib);
        }
      for (int ph = 0; ph < N_PHASES; ph++)
        {
          guint n = w->n_ops[ph], chunk = w->chunk[ph];

          /* The sides take turns every chunk of operations, each with its
           * own transaction open, and which side goes first alternates
           * with the repeat, the phase and the chunk: a burst of load from
           * another process then falls on both sides alike, and neither
           * always inherits the other's dirty pages or warm CPU caches. */
          for (guint j = 0; j * chunk < n || j == 0; j++)
            {
              Side first = (r + ph + j) % 2 ? SIDE_PLAIN : SIDE_ENC;

              for (int k = 0; k < N_SIDES; k++)
                {
                  Side sd = k == 0 ? first : 1 - first;
                  Sample *s = &SAMPLE (ph, sd, r);

                  if (j == 0)
                    timed_step (&conns[sd], ph, STEP_BEGIN, w, 0, 0, s);
                  timed_step (&conns[sd], ph, STEP_RUN, w, j * chunk, MIN (n, (j + 1) * chunk), s);
                  if ((j + 1) * chunk >= n)
                    timed_step (&conns[sd], ph, STEP_END, w, 0, 0, s);
                }
            }
          if (ph == PHASE_CHECKPOINT_BULK && r == 0)
            {
              for (int sd = 0; sd < N_SIDES; sd++)
                check_header (conns[sd].path);
              db_pages = query_int (conns[SIDE_ENC].db, "PRAGMA page_count");
            }
        }
      check_same (conns, r == 0);
      for (int sd = 0; sd < N_SIDES; sd++)
        conn_close (&conns[sd]);
    }

  print_table_header (n_rows, cache_kib, configured, repeats, db_pages);
  for (int ph = 0; ph < N_PHASES; ph++)
    {
      double wall[N_SIDES], cpu[N_SIDES], misses[N_SIDES], pages, ratio;
      const char *verdict = "";
      char target[16] = "-", per_page[16] = "-";

      for (int sd = 0; sd < N_SIDES; sd++)
        {
          for (guint r = 0; r < repeats; r++)
            v[r] = SAMPLE (ph, sd, r).seconds;
          wall[sd] = bench_median (v, repeats);
          for (guint r = 0; r < repeats; r++)
            v[r] = SAMPLE (ph, sd, r).cpu_seconds;
          cpu[sd] = bench_median (v, repeats);
          for (guint r = 0; r < repeats; r++)
            v[r] = SAMPLE (ph, sd, r).cache_misses;
          misses[sd] = bench_median (v, repeats);
        }
      for (guint r = 0; r < repeats; r++)
        v[r] = (double) SAMPLE (ph, SIDE_ENC, r).pages_crypted;
      pages = bench_median (v, repeats);
      for (guint r = 0; r < repeats; r++)
        v[r] = SAMPLE (ph, SIDE_ENC, r).seconds / MAX (SAMPLE (ph, SIDE_PLAIN, r).seconds, 1e-9);
      qsort (v, repeats, sizeof *v, bench_compare_double);

      ratio = wall[SIDE_ENC] / MAX (wall[SIDE_PLAIN], 1e-9);
      if (configured)
        {
          g_snprintf (target, sizeof target, "<=%.2f", phases[ph].target);
          verdict = ratio <= phases[ph].target ? "ok" : "over";
          if (ratio > phases[ph].target)
            g_ptr_array_add (summary, g_strdup_printf ("%u rows: %s, ratio %.2f > %.2f", n_rows,
                                                       phases[ph].name, ratio, phases[ph].target));
        }
      if (pages >= 1000)  /* fewer pages: the difference is mostly noise */
        g_snprintf (per_page, sizeof per_page, "%.1f", (cpu[SIDE_ENC] - cpu[SIDE_PLAIN]) / pages * 1e6);
      g_print ("  %-22s %6u %8.1f %8.1f %6.2f %5.2f-%-5.2f %6.2f %6s %-4s %6.0f %5s %6.0f/%-6.0f\n",
               phases[ph].name, w->n_ops[ph], wall[SIDE_ENC] * 1e3, wall[SIDE_PLAIN] * 1e3, ratio,
               v[0], v[repeats - 1], cpu[SIDE_ENC] / MAX (cpu[SIDE_PLAIN], 1e-9), target, verdict,
               pages, per_page, misses[SIDE_ENC], misses[SIDE_PLAIN]);
    }
  if (verbose)
    for (int ph = 0; ph < N_PHASES; ph++)
      {
        g_print ("    %-22s enc/plain ms:", phases[ph].name);
        for (guint r = 0; r < repeats; r++)
          g_print (" %.1f/%.1f", SAMPLE (ph, SIDE_ENC, r).seconds * 1e3,
                   SAMPLE (ph, SIDE_PLAIN, r).seconds * 1e3);
        g_print ("\n");
      }
#undef SAMPLE
}

/* ---- unlock ----------------------------------------------------------- */

static void
run_unlock (guint repeats)
{
  g_autoptr(HearthSecret) pass = hearth_secret_new_from_data (PASSPHRASE, strlen (PASSPHRASE));
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (bench_dir, "store", NULL);
  g_autofree char *slot_path = g_build_filename (dir, "keyslot.0", NULL);
  g_autofree char *slot_data = NULL;
  g_autofree double *t = g_new (double, repeats);
  HearthKeyslot slot;
  guint64 ops = 0, mem = 0;
  gsize slot_len = 0;
  double start, calib, create, open_med, argon_med;
  const char *verdict;

  g_print ("\nUnlock, HEARTH_KDF_INTERACTIVE (target for hearth_store_open(): %.1f-%.1f s)\n",
           UNLOCK_MIN_S, UNLOCK_MAX_S);
  start = now_s ();
  hearth_kdf_params (HEARTH_KDF_INTERACTIVE, &ops, &mem);
  calib = now_s () - start;
  g_print ("  hearth_kdf_params:          %6.3f s  (one Argon2id run at 3 passes) -> opslimit %"
           G_GUINT64_FORMAT ", memlimit %" G_GUINT64_FORMAT " MiB\n", calib, ops, mem >> 20);

  start = now_s ();
  if (!hearth_store_create (dir, pass, HEARTH_KDF_INTERACTIVE, NULL, &error))
    g_error ("hearth_store_create: %s", error->message);
  create = now_s () - start;
  g_print ("  hearth_store_create:        %6.3f s  (calibration, wrap and a first open)\n", create);

  if (!g_file_get_contents (slot_path, &slot_data, &slot_len, &error) ||
      !hearth_keyslot_parse ((const guint8 *) slot_data, slot_len, &slot, &error))
    g_error ("%s: %s", slot_path, error->message);
  g_print ("  keyslot:                    opslimit %" G_GUINT64_FORMAT ", memlimit %"
           G_GUINT64_FORMAT " MiB (%s)\n", slot.opslimit, slot.memlimit >> 20,
           hearth_kdf_profile_describe (slot.opslimit, slot.memlimit));

  for (guint r = 0; r < repeats; r++)
    {
      g_autoptr(HearthStore) store = NULL;

      start = now_s ();
      store = hearth_store_open (dir, pass, &error);
      t[r] = now_s () - start;
      if (store == NULL)
        g_error ("hearth_store_open: %s", error->message);
    }
  open_med = bench_median (t, repeats);
  qsort (t, repeats, sizeof *t, bench_compare_double);
  verdict = open_med < UNLOCK_MIN_S ? "under" : open_med > UNLOCK_MAX_S ? "over" : "ok";
  g_print ("  hearth_store_open:          %6.3f s  median of %u (%.3f-%.3f)  %s\n",
           open_med, repeats, t[0], t[repeats - 1], verdict);

  for (guint r = 0; r < repeats; r++)
    {
      g_autoptr(HearthSecret) dek = NULL;

      start = now_s ();
      dek = hearth_keyslot_unwrap (&slot, pass, &error);
      t[r] = now_s () - start;
      if (dek == NULL)
        g_error ("hearth_keyslot_unwrap: %s", error->message);
    }
  argon_med = bench_median (t, repeats);
  g_print ("  Argon2id alone (unwrap):    %6.3f s  median of %u; the rest of the open: %.3f s\n",
           argon_med, repeats, open_med - argon_med);
}

/* ---- main ------------------------------------------------------------- */

int
main (int argc, char **argv)
{
  gboolean quick = FALSE, no_unlock = FALSE;
  int repeats = 0, rows = 0;
  GOptionEntry entries[] = {
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &quick, "10k rows only, 3 runs per side (a smoke run)", NULL },
    { "repeats", 'r', 0, G_OPTION_ARG_INT, &repeats, "Runs per side and phase (default 5, quick 3)", "N" },
    { "rows", 0, 0, G_OPTION_ARG_INT, &rows, "Only this table size (at least 1000 rows)", "N" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Also print every run's times", NULL },
    { "no-unlock", 0, 0, G_OPTION_ARG_NONE, &no_unlock, "Skip the unlock timing (e.g. to profile the VFS alone)", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- encvfs against plain SQLite");
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthPageKey) key = NULL;
  g_autoptr(GPtrArray) summary = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *parent = NULL;
  g_autofree char *tmpl = NULL;
  guint8 data_key[HEARTH_DATA_KEY_SIZE], file_id[HEARTH_FILE_ID_SIZE];
  guint sizes[] = { 10000, 100000 };
  guint n_sizes = G_N_ELEMENTS (sizes);
  const char *env;
  double start = now_s ();

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (repeats <= 0)
    repeats = quick ? 3 : 5;
  if (quick)
    n_sizes = 1;
  if (rows > 0)
    {
      sizes[0] = MAX (rows, 1000);
      n_sizes = 1;
    }

  if (!hearth_vfs_register (&error))
    g_error ("%s", error->message);

  env = g_getenv ("HEARTH_BENCH_DIR");
  parent = g_strdup (env != NULL && *env != '\0' ? env : HEARTH_BENCH_DEFAULT_DIR);
  if (g_mkdir_with_parents (parent, 0700) != 0)
    g_error ("cannot create %s", parent);
  tmpl = g_build_filename (parent, "bench-store-XXXXXX", NULL);
  bench_dir = g_mkdtemp (g_strdup (tmpl));
  if (bench_dir == NULL)
    g_error ("cannot create a folder in %s", parent);
  atexit (remove_bench_dir);

  randombytes_buf (data_key, sizeof data_key);
  randombytes_buf (file_id, sizeof file_id);
  key = hearth_page_key_new (data_key, file_id);
  sodium_memzero (data_key, sizeof data_key);
  if (key == NULL)
    g_error ("out of secure memory");

  g_print ("Hearth store benchmark: encvfs against SQLite's default VFS, same workload, one process\n");
  g_print ("SQLite %s, libsodium %s, %u CPUs; files in %s\n", sqlite3_libversion (),
           sodium_version_string (), g_get_num_processors (), bench_dir);
  g_print ("Both sides: page 4096, reserve 40, WAL, synchronous=FULL, temp_store=MEMORY, mmap off,\n"
           "wal_autocheckpoint=0; %d runs per side, fresh databases each run, sides alternating.\n"
           "ratio = median enc time / median plain time (wall clock); run min-max = the spread of\n"
           "the per-run ratios; cpu = the same ratio for this thread's CPU time (less sensitive to\n"
           "other processes); pages = pages encvfs encrypted or decrypted in the phase (median run);\n"
           "us/pg = the encrypted side's extra CPU time per such page (phases of 1000+ pages);\n"
           "misses = page cache misses (SQLITE_DBSTATUS_CACHE_MISS) on each side.\n"
           "Payload %d bytes a row; 1-row txns: %d commits, whatever the table size.\n",
           repeats, PAYLOAD_BYTES, N_COMMITS);

  if (!no_unlock)
    run_unlock (3);

  for (guint i = 0; i < n_sizes; i++)
    {
      run_table (sizes[i], HEARTH_STORE_CACHE_KIB, TRUE, repeats, key, summary);
      run_table (sizes[i], SMALL_CACHE_KIB, FALSE, repeats, key, summary);
    }

  g_print ("\nOver target (configured cache): %s\n", summary->len == 0 ? "none" : "");
  for (guint i = 0; i < summary->len; i++)
    g_print ("  %s\n", (const char *) g_ptr_array_index (summary, i));
  g_print ("Total time %.0f s\n", now_s () - start);
  return 0;
}

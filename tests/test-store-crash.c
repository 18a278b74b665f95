/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-store-crash.c: crash safety of the encrypted store, with real files
 * and real processes killed with SIGKILL (design notes
 * ../shared/design/encrypted-store.md, section 8, requirements 9, 10, 16,
 * 17 and 18; pitfalls P1 and P2 of section 6).
 *
 * Every test forks children that do the dangerous work and dies at a random
 * moment or exactly at a named step (hearth_store_set_step_hook()); the
 * parent then reopens the store and checks what a user would see: the
 * store opens, integrity_check is "ok", and the data is exactly a state
 * that was committed, never a mixture and never garbage.
 *
 * - wal-writer-sigkill: a WAL writer killed mid-stream loses at most the
 *   commit it had not yet reported.
 * - wal-torn-tail: a torn or damaged last WAL frame drops exactly the last
 *   transaction, and the VFS says so.
 * - wal-flip-indexed: a WAL frame damaged while it is indexed is
 *   SQLITE_CORRUPT for readers and for the checkpoint, never data.
 * - wal-flip-checkpoint-reopen: the same damage at the last close: its
 *   checkpoint authenticates the log first and copies nothing, so recovery's
 *   truncation leaves a consistent database (no later transaction visible).
 * - wal-flip-reopen: the same damage found by recovery truncates the log
 *   there (the documented limitation), loudly.
 * - rollback-hot-journal: a rollback-mode UPDATE that spills pages is all
 *   or nothing after a kill.
 * - passwd-sigkill: a passphrase change killed anywhere leaves the store
 *   openable with the old or the new passphrase; the database is untouched.
 * - concurrency: two processes reopening the store over and over, while a
 *   third keeps checkpointing a changed page 1, never see a page fail
 *   authentication.
 * - rekey-sigkill: a rekey killed at any step leaves one database that
 *   opens, with every row, and no leftovers once opened.
 * - rekey-concurrent-open: an open or a passphrase change attempted while
 *   a rekey runs is turned away without touching the rekey's files.
 *
 * Children report through a pipe and their exit status; they never run the
 * GLib test harness and leave with _exit(). The parent holds no SQLite
 * connection while it forks. Loops scale with HEARTH_SOAK=1 (ten times as
 * many iterations); HEARTH_TEST_SEED=N replays a run's random choices
 * (timing still differs, but kill points are drawn the same way).
 */
#define G_LOG_DOMAIN "hearth-test"

#include "test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAL_HEADER 32
#define WAL_FRAME_HEADER 24
#define WAL_FRAME (HEARTH_PAGE_SIZE + WAL_FRAME_HEADER)
#define ROW_MAX 10240

/* Exit statuses of children, beyond 0 (success). */
enum {
  CHILD_FAIL_OPEN = 20,  /* hearth_store_open() or sqlite3_open_v2() failed */
  CHILD_FAIL_SQL,        /* a statement failed */
  CHILD_FAIL_DATA,       /* rows read back differ from what was written */
  CHILD_FAIL_AUTH,       /* a page failed authentication (auth_failures > 0) */
  CHILD_FAIL_PIPE,       /* the report pipe failed */
  CHILD_FAIL_API,        /* a store call returned an error */
  CHILD_TIMEOUT,         /* a child meant to be killed was not */
};

static guint32 base_seed;
static guint soak = 1;

/* One random stream per test, derived from the run's seed and the test's
 * path, so that a single test replays alone (-p) with the same seed. */
static GRand *
test_rand (void)
{
  g_test_message ("seed %u (replay with HEARTH_TEST_SEED=%u)", base_seed, base_seed);
  return g_rand_new_with_seed (base_seed ^ g_str_hash (g_test_get_path ()));
}

static guint
iterations (guint base)
{
  return base * soak;
}

/* ---- rows ------------------------------------------------------------ */

/* The value of row @id, computable by any process. Lengths go from a few
 * bytes to two overflow pages, so transactions touch varying numbers of
 * pages. Returns the length written to @buf (ROW_MAX bytes). */
static gsize
row_value (gint64 id, guint8 *buf)
{
  guint32 h = (guint32) id * 2654435761u;
  gsize len = 16 + h % 600;
  gsize head;

  if (h % 11 == 0)
    len = HEARTH_PAGE_SIZE + h % 5000;
  head = (gsize) g_snprintf ((char *) buf, 32, "row %" G_GINT64_FORMAT ":", id);
  for (gsize i = head; i < len; i++)
    buf[i] = (guint8) ('a' + (h + i * 7) % 26);
  return len;
}

/* Inserts rows @first .. @first + @count - 1 into t with @st
 * ("INSERT INTO t (id, v) VALUES (?, ?)"). Returns an SQLite code. */
static int
insert_rows (sqlite3_stmt *st, gint64 first, guint count)
{
  guint8 buf[ROW_MAX];

  for (guint i = 0; i < count; i++)
    {
      gsize len = row_value (first + i, buf);
      int rc;

      sqlite3_bind_int64 (st, 1, first + i);
      sqlite3_bind_blob (st, 2, buf, (int) len, SQLITE_TRANSIENT);
      rc = sqlite3_step (st);
      sqlite3_reset (st);
      if (rc != SQLITE_DONE)
        return rc;
    }
  return SQLITE_OK;
}

static sqlite3_stmt *
prepare_insert (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "INSERT INTO t (id, v) VALUES (?, ?)", -1, &st, NULL),
                   ==, SQLITE_OK);
  return st;
}

/* Checks that t holds exactly the rows 1..@n with their values.
 * Returns: (transfer full) (nullable): what is wrong, or %NULL. Safe in
 * children: asserts nothing. */
static char *
rows_problem (sqlite3 *db, gint64 n)
{
  g_autofree guint8 *want = g_malloc (ROW_MAX);
  sqlite3_stmt *st = NULL;
  char *problem = NULL;
  gint64 expect = 1;
  int rc;

  rc = sqlite3_prepare_v2 (db, "SELECT id, v FROM t ORDER BY id", -1, &st, NULL);
  if (rc != SQLITE_OK)
    return g_strdup_printf ("preparing the row scan: %s", sqlite3_errmsg (db));
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (st, 0);
      gsize len = row_value (id, want);

      if (id != expect)
        {
          problem = g_strdup_printf ("row %" G_GINT64_FORMAT " where row %" G_GINT64_FORMAT " was due",
                                     id, expect);
          break;
        }
      if ((gsize) sqlite3_column_bytes (st, 1) != len ||
          memcmp (sqlite3_column_blob (st, 1), want, len) != 0)
        {
          problem = g_strdup_printf ("row %" G_GINT64_FORMAT " has the wrong value", id);
          break;
        }
      expect++;
    }
  if (problem == NULL && rc != SQLITE_DONE)
    problem = g_strdup_printf ("reading row %" G_GINT64_FORMAT ": %s (%d)", expect,
                               sqlite3_errmsg (db), rc);
  if (problem == NULL && expect - 1 != n)
    problem = g_strdup_printf ("%" G_GINT64_FORMAT " rows where %" G_GINT64_FORMAT " were due",
                               expect - 1, n);
  sqlite3_finalize (st);
  return problem;
}

/* Returns: (transfer full): PRAGMA integrity_check's lines joined, or the
 * error that stopped it. */
static char *
integrity (sqlite3 *db)
{
  GString *out = g_string_new (NULL);
  sqlite3_stmt *st = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &st, NULL);
  while (rc == SQLITE_OK && (rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      g_string_append_printf (out, "%s%s", out->len ? "; " : "", sqlite3_column_text (st, 0));
      rc = SQLITE_OK;
    }
  if (rc != SQLITE_DONE)
    g_string_append_printf (out, "%serror %d: %s", out->len ? "; " : "", rc, sqlite3_errmsg (db));
  sqlite3_finalize (st);
  return g_string_free (out, FALSE);
}

static gboolean
table_exists (sqlite3 *db, const char *name)
{
  sqlite3_stmt *st = NULL;
  gboolean found;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT 1 FROM sqlite_schema WHERE name = ?", -1, &st, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
  found = sqlite3_step (st) == SQLITE_ROW;
  sqlite3_finalize (st);
  return found;
}

static void
assert_store_rows (sqlite3 *db, gint64 n)
{
  g_autofree char *check = integrity (db);
  g_autofree char *problem = NULL;

  g_assert_cmpstr (check, ==, "ok");
  problem = rows_problem (db, n);
  g_assert_cmpstr (problem, ==, NULL);
}

/* ---- files ------------------------------------------------------------ */

static char *
store_file (const char *dir, const char *name)
{
  return g_build_filename (dir, name, NULL);
}

static gboolean
file_exists (const char *dir, const char *name)
{
  g_autofree char *path = store_file (dir, name);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static goffset
file_size (const char *path)
{
  struct stat st;

  g_assert_no_errno (stat (path, &st));
  return st.st_size;
}

static GBytes *
read_file (const char *dir, const char *name)
{
  g_autofree char *path = store_file (dir, name);
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

static char *
db_hash (const char *dir)
{
  g_autofree char *path = store_file (dir, HEARTH_STORE_DB_NAME);

  return test_file_sha256 (path);
}

static GBytes *
db_file_id (const char *dir)
{
  g_autofree char *path = store_file (dir, HEARTH_STORE_DB_NAME);

  return test_read_range (path, 0, HEARTH_FILE_ID_SIZE);
}

static void
assert_keyslot_copies_equal (const char *dir)
{
  g_autoptr(GBytes) a = read_file (dir, "keyslot.0");
  g_autoptr(GBytes) b = read_file (dir, "keyslot.1");

  g_assert_cmpuint (g_bytes_get_size (a), ==, HEARTH_KEYSLOT_SIZE);
  g_assert_true (g_bytes_equal (a, b));
}

/* Authenticates every page of the database file with the key from the
 * keyslot, outside SQLite. */
static void
assert_db_pages_authentic (const char *dir)
{
  g_autoptr(GBytes) slot_bytes = read_file (dir, "keyslot.0");
  g_autoptr(GBytes) disk = read_file (dir, HEARTH_STORE_DB_NAME);
  g_autoptr(HearthSecret) pass = test_secret (TEST_PASSPHRASE);
  g_autoptr(HearthSecret) dek = NULL;
  g_autoptr(HearthPageKey) key = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *plain = g_malloc (HEARTH_PAGE_SIZE);
  const guint8 *pages = g_bytes_get_data (disk, NULL);
  gsize size = g_bytes_get_size (disk);
  HearthKeyslot slot;

  g_assert_true (hearth_keyslot_parse (g_bytes_get_data (slot_bytes, NULL),
                                       g_bytes_get_size (slot_bytes), &slot, &error));
  dek = hearth_keyslot_unwrap (&slot, pass, &error);
  g_assert_no_error (error);
  key = hearth_page_key_new (hearth_secret_peek (dek), slot.file_id);
  g_assert_cmpuint (size % HEARTH_PAGE_SIZE, ==, 0);
  for (gsize i = 0; i < size / HEARTH_PAGE_SIZE; i++)
    {
      if (!hearth_vfs_decrypt_database_page (key, (guint32) i + 1, pages + i * HEARTH_PAGE_SIZE, plain))
        g_error ("%s page %" G_GSIZE_FORMAT " fails authentication", HEARTH_STORE_DB_NAME, i + 1);
    }
}

/* Counts the files of a store folder that are not part of a settled
 * store: *.tmp files (a keyslot write cut short) in @tmp, anything else
 * in @other. */
static void
count_leftovers (const char *dir, guint *tmp, guint *other)
{
  static const char *const known[] = {
    HEARTH_STORE_DB_NAME, HEARTH_STORE_DB_NAME "-wal", HEARTH_STORE_DB_NAME "-shm",
    "keyslot.0", "keyslot.1", "keyslot.lock", "lock",
  };
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      if (g_strv_contains (known, name))
        continue;
      if (g_str_has_suffix (name, ".tmp"))
        (*tmp)++;
      else
        {
          g_test_message ("unexpected file %s in %s", name, dir);
          (*other)++;
        }
    }
}

static guint32
get_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

typedef struct {
  guint32 pgno;
  guint32 commit;  /* database size in pages for a commit frame, else 0 */
  guint tx;        /* index of the transaction the frame belongs to */
} WalFrame;

/* Parses the frame headers of the WAL at @path: the frames of the current
 * generation (salts matching the header), whole frames only. */
static GArray *
wal_frames (const char *path)
{
  g_autofree char *contents = NULL;
  GArray *frames = g_array_new (FALSE, FALSE, sizeof (WalFrame));
  const guint8 *wal;
  gsize len = 0;
  guint tx = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpuint (len, >=, WAL_HEADER);
  wal = (const guint8 *) contents;
  for (gsize off = WAL_HEADER; off + WAL_FRAME <= len; off += WAL_FRAME)
    {
      WalFrame f = { get_be32 (wal + off), get_be32 (wal + off + 4), tx };

      if (memcmp (wal + off + 8, wal + 16, 8) != 0)
        break;
      g_array_append_val (frames, f);
      if (f.commit != 0)
        tx++;
    }
  return frames;
}

static goffset
wal_frame_offset (guint i)
{
  return WAL_HEADER + (goffset) i * WAL_FRAME;
}

/* ---- children --------------------------------------------------------- */

typedef int (*ChildFunc) (gpointer data, int report_fd);

typedef struct {
  pid_t pid;
  int fd;          /* read end of the child's report pipe */
  GArray *reports; /* gint64 values the child wrote */
} Child;

static void
child_spawn (Child *child, ChildFunc func, gpointer data)
{
  pid_t parent = getpid ();
  int fds[2];

  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  /* _exit() flushes nothing, but buffered TAP output must not be copied. */
  fflush (stdout);
  fflush (stderr);
  child->pid = fork ();
  g_assert_cmpint (child->pid, >=, 0);
  if (child->pid == 0)
    {
      int null_fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);

      /* The TAP stream is the parent's: the log handler GLib's test
       * framework installed would print the child's messages into it. */
      if (null_fd >= 0)
        dup2 (null_fd, STDOUT_FILENO);
      close (fds[0]);
      /* A child looping until killed must not outlive a parent whose
       * assertion failed. */
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (getppid () != parent)
        _exit (CHILD_TIMEOUT);
      _exit (func (data, fds[1]));
    }
  close (fds[1]);
  child->fd = fds[0];
  child->reports = g_array_new (FALSE, FALSE, sizeof (gint64));
}

static void
child_clear (Child *child)
{
  if (child->fd >= 0)
    close (child->fd);
  child->fd = -1;
  g_clear_pointer (&child->reports, g_array_unref);
}

/* In the child: one 8-byte report (atomic on a pipe). */
static gboolean
child_report (int fd, gint64 value)
{
  for (;;)
    {
      ssize_t n = write (fd, &value, sizeof value);

      if (n == sizeof value)
        return TRUE;
      if (n < 0 && errno == EINTR)
        continue;
      return FALSE;
    }
}

G_GNUC_PRINTF (1, 2)
static void
child_complain (const char *fmt, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  /* stderr: the TAP stream on stdout belongs to the parent. */
  g_printerr ("child %d: %s\n", (int) getpid (), msg);
}

/* Reads one report, waiting at most @timeout_ms. FALSE at EOF or timeout. */
static gboolean
child_read (Child *child, gint64 *out, int timeout_ms)
{
  struct pollfd pfd = { child->fd, POLLIN, 0 };
  gint64 value;
  ssize_t n;
  int rc;

  do
    rc = poll (&pfd, 1, timeout_ms);
  while (rc < 0 && errno == EINTR);
  if (rc <= 0)
    return FALSE;
  do
    n = read (child->fd, &value, sizeof value);
  while (n < 0 && errno == EINTR);
  if (n != sizeof value)
    return FALSE;
  g_array_append_val (child->reports, value);
  *out = value;
  return TRUE;
}

/* Collects every report left in the pipe; the child must be dead. */
static void
child_read_rest (Child *child)
{
  gint64 value;

  while (child_read (child, &value, 0))
    ;
}

static char *
describe_status (int status)
{
  if (WIFEXITED (status))
    {
      static const char *const why[] = {
        "open failed", "SQL failed", "wrong data", "authentication failure",
        "pipe failed", "store call failed", "was never killed",
      };
      int code = WEXITSTATUS (status);

      if (code >= CHILD_FAIL_OPEN && code <= CHILD_TIMEOUT)
        return g_strdup_printf ("exited with %d (%s)", code, why[code - CHILD_FAIL_OPEN]);
      return g_strdup_printf ("exited with %d", code);
    }
  if (WIFSIGNALED (status))
    {
      if (WTERMSIG (status) == SIGKILL)
        return g_strdup ("killed by SIGKILL");
      return g_strdup_printf ("killed by signal %d (%s)", WTERMSIG (status),
                              g_strsignal (WTERMSIG (status)));
    }
  return g_strdup_printf ("status 0x%x", status);
}

static int
child_waitpid (Child *child)
{
  int status = 0;
  pid_t r;

  do
    r = waitpid (child->pid, &status, 0);
  while (r < 0 && errno == EINTR);
  g_assert_cmpint (r, ==, child->pid);
  child_read_rest (child);
  return status;
}

/* SIGKILLs the child (it may have finished already) and reaps it. */
static int
child_kill (Child *child)
{
  if (kill (child->pid, SIGKILL) != 0)
    g_assert_cmpint (errno, ==, ESRCH);
  return child_waitpid (child);
}

/* Waits for a child meant to finish on its own; kills it after @timeout_s. */
static int
child_wait (Child *child, int timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  int status = 0;

  while (waitpid (child->pid, &status, WNOHANG) == 0)
    {
      if (g_get_monotonic_time () > deadline)
        {
          g_test_message ("child %d did not finish in %d s; killing it", (int) child->pid, timeout_s);
          kill (child->pid, SIGKILL);
          waitpid (child->pid, &status, 0);
          child_read_rest (child);
          g_assert_not_reached ();
        }
      g_usleep (1000);
    }
  child_read_rest (child);
  return status;
}

static void
assert_status (int status, const char *expected)
{
  g_autofree char *desc = describe_status (status);

  g_assert_cmpstr (desc, ==, expected);
}

static gboolean
status_ok (int status)
{
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

static HearthStore *
child_open_store (const char *dir, const char *passphrase)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthSecret) secret = test_secret (passphrase);
  HearthStore *store = hearth_store_open (dir, secret, &error);

  if (store == NULL)
    child_complain ("opening the store failed: %s", error->message);
  return store;
}

static gboolean
child_exec (sqlite3 *db, const char *sql)
{
  char *msg = NULL;
  int rc = sqlite3_exec (db, sql, NULL, NULL, &msg);

  if (rc != SQLITE_OK)
    {
      child_complain ("%s: %s (%d)", sql, msg ? msg : sqlite3_errstr (rc), rc);
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

static gint64
child_query_int (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  gint64 v = -1;
  int rc = sqlite3_prepare_v2 (db, sql, -1, &st, NULL);

  if (rc == SQLITE_OK && (rc = sqlite3_step (st)) == SQLITE_ROW)
    v = sqlite3_column_int64 (st, 0);
  else
    child_complain ("%s: %s (%d)", sql, sqlite3_errmsg (db), rc);
  sqlite3_finalize (st);
  return v;
}

/* The step hook of children: dies on the spot at the chosen step, as a
 * power cut or the OOM killer would. */
static const char *kill_at_step;

static void
kill_hook (const char *step)
{
  if (g_strcmp0 (step, kill_at_step) == 0)
    raise (SIGKILL);
}

static void
random_sleep (GRand *rand, gint64 max_us)
{
  if (max_us > 0)
    g_usleep ((gulong) g_rand_int_range (rand, 0, (gint32) MIN (max_us, G_MAXINT32 - 1) + 1));
}

/* A store with an empty table t, closed (so its WAL is checkpointed away). */
static char *
create_store_with_table (const char *name)
{
  char *dir = test_create_store (name, NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);

  test_exec (hearth_store_get_db (store),
             "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
  return dir;
}

/* ---- 1. a WAL writer killed at random --------------------------------- */

typedef struct {
  const char *dir;
  guint32 seed;
  int autocheckpoint;
} WalWriter;

/* Reports the row count at start, then for each transaction first -(the
 * count it will reach) and, once COMMIT has returned, the count. */
static int
wal_writer_child (gpointer data, int fd)
{
  WalWriter *w = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (w->seed);
  g_autofree char *setup = NULL;
  HearthStore *store;
  sqlite3_stmt *st = NULL;
  sqlite3 *db;
  gint64 n, deadline;

  store = child_open_store (w->dir, TEST_PASSPHRASE);
  if (store == NULL)
    return CHILD_FAIL_OPEN;
  db = hearth_store_get_db (store);
  setup = g_strdup_printf ("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);"
                           "PRAGMA wal_autocheckpoint=%d", w->autocheckpoint);
  if (!child_exec (db, setup))
    return CHILD_FAIL_SQL;
  n = child_query_int (db, "SELECT count(*) FROM t");
  if (n < 0 || child_query_int (db, "SELECT coalesce(max(id), 0) FROM t") != n)
    return CHILD_FAIL_DATA;
  if (!child_report (fd, n))
    return CHILD_FAIL_PIPE;
  if (sqlite3_prepare_v2 (db, "INSERT INTO t (id, v) VALUES (?, ?)", -1, &st, NULL) != SQLITE_OK)
    return CHILD_FAIL_SQL;

  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      /* Mostly small transactions, some spanning dozens of pages. */
      guint pick = g_rand_int_range (rand, 0, 100);
      guint k = pick < 70 ? g_rand_int_range (rand, 1, 4)
              : pick < 95 ? g_rand_int_range (rand, 4, 21)
              : g_rand_int_range (rand, 50, 151);
      int rc;

      if (!child_report (fd, -(n + k)))
        return CHILD_FAIL_PIPE;
      if (!child_exec (db, "BEGIN IMMEDIATE"))
        return CHILD_FAIL_SQL;
      rc = insert_rows (st, n + 1, k);
      if (rc != SQLITE_OK)
        {
          child_complain ("insert: %s (%d)", sqlite3_errmsg (db), rc);
          return CHILD_FAIL_SQL;
        }
      if (!child_exec (db, "COMMIT"))
        return CHILD_FAIL_SQL;
      n += k;
      if (!child_report (fd, n))
        return CHILD_FAIL_PIPE;
    }
  return CHILD_TIMEOUT;
}

#define WAL_WRITER_ROW_CAP 12000

static void
test_wal_writer_sigkill (void)
{
  static const int autocheckpoints[] = { 10, 100, 1000 };
  g_autoptr(GRand) rand = test_rand ();
  g_autofree char *dir = NULL;
  guint n_iter = iterations (750);
  guint stores = 0, early_kills = 0, unreported = 0, mid_tx = 0, wal_at_reopen = 0;
  gint64 n = 0, rows_total = 0;
  goffset wal_max = 0;
  HearthVfsStats before, after;

  hearth_vfs_get_stats (&before);
  for (guint i = 0; i < n_iter; i++)
    {
      WalWriter w;
      Child child;
      g_autoptr(HearthStore) store = NULL;
      g_autofree char *wal_path = NULL;
      gint64 committed, pending = -1, count, first;
      sqlite3 *db;
      int status;

      /* Keep verification time bounded: a new store every few hundred
       * iterations of growth. */
      if (dir == NULL || n > WAL_WRITER_ROW_CAP)
        {
          g_free (dir);
          dir = test_create_store ("wal-writer", NULL);
          stores++;
          n = 0;
        }
      wal_path = store_file (dir, HEARTH_STORE_DB_NAME "-wal");

      w.dir = dir;
      w.seed = g_rand_int (rand);
      w.autocheckpoint = autocheckpoints[g_rand_int_range (rand, 0, G_N_ELEMENTS (autocheckpoints))];
      child_spawn (&child, wal_writer_child, &w);
      if (g_rand_int_range (rand, 0, 4) == 0)
        {
          /* Early: during the open, its WAL recovery or the first commit. */
          early_kills++;
          random_sleep (rand, 15000);
        }
      else
        {
          g_assert_true (child_read (&child, &first, 30000));
          random_sleep (rand, 30000);
        }
      status = child_kill (&child);
      assert_status (status, "killed by SIGKILL");

      /* The last count reported after a COMMIT, and the count of a
       * transaction that was under way (its COMMIT may have completed
       * without the report getting out). */
      committed = n;
      for (guint r = 0; r < child.reports->len; r++)
        {
          gint64 v = g_array_index (child.reports, gint64, r);

          if (r == 0)
            g_assert_cmpint (v, ==, n);
          if (v >= 0)
            {
              committed = v;
              pending = -1;
            }
          else
            pending = -v;
        }
      child_clear (&child);

      if (g_file_test (wal_path, G_FILE_TEST_EXISTS))
        {
          wal_at_reopen++;
          wal_max = MAX (wal_max, file_size (wal_path));
        }
      store = test_open_store (dir);
      db = hearth_store_get_db (store);
      /* The table does not exist if the first child died before its
       * CREATE TABLE committed. */
      if (table_exists (db, "t"))
        {
          count = test_query_int (db, "SELECT count(*) FROM t");
          if (count != committed && count != pending)
            g_error ("iteration %u: %" G_GINT64_FORMAT " rows after reports of %" G_GINT64_FORMAT
                     " committed and %" G_GINT64_FORMAT " under way", i, count, committed, pending);
          assert_store_rows (db, count);
        }
      else
        {
          g_autofree char *check = integrity (db);

          g_assert_cmpint (committed, ==, 0);
          g_assert_cmpstr (check, ==, "ok");
          count = 0;
        }
      mid_tx += pending >= 0;
      unreported += count == pending;
      rows_total += count - n;
      n = count;
      /* Mostly leave the WAL behind, so that it grows across iterations
       * and the children's autocheckpoints do the copying. */
      if (g_rand_int_range (rand, 0, 4) != 0)
        sqlite3_db_config (db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
      g_clear_object (&store);
    }
  hearth_vfs_get_stats (&after);
  g_test_message ("%u iterations (%u killed early) over %u stores; %" G_GINT64_FORMAT " rows committed; "
                  "killed inside a transaction %u times, of which %u committed unreported; "
                  "WAL present at %u reopens, largest %" G_GINT64_FORMAT " bytes; "
                  "WAL frames dropped by recovery: %" G_GUINT64_FORMAT,
                  n_iter, early_kills, stores, rows_total, mid_tx, unreported, wal_at_reopen,
                  (gint64) wal_max, after.wal_recovery_drops - before.wal_recovery_drops);
}

/* ---- 2. a torn or damaged last WAL frame -------------------------------- */

typedef struct {
  const char *dir;
  guint32 seed;
  guint n_tx;
} TxWriter;

/* Commits @n_tx transactions with autocheckpoint off, reports the count
 * after each, and leaves without closing: the WAL stays as after a crash. */
static int
tx_writer_child (gpointer data, int fd)
{
  TxWriter *w = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (w->seed);
  HearthStore *store;
  sqlite3_stmt *st = NULL;
  sqlite3 *db;
  gint64 n;

  store = child_open_store (w->dir, TEST_PASSPHRASE);
  if (store == NULL)
    return CHILD_FAIL_OPEN;
  db = hearth_store_get_db (store);
  if (!child_exec (db, "PRAGMA wal_autocheckpoint=0"))
    return CHILD_FAIL_SQL;
  n = child_query_int (db, "SELECT count(*) FROM t");
  if (n < 0 || !child_report (fd, n))
    return CHILD_FAIL_SQL;
  if (sqlite3_prepare_v2 (db, "INSERT INTO t (id, v) VALUES (?, ?)", -1, &st, NULL) != SQLITE_OK)
    return CHILD_FAIL_SQL;
  for (guint tx = 0; tx < w->n_tx; tx++)
    {
      guint k = g_rand_int_range (rand, 1, 26);
      int rc;

      if (!child_exec (db, "BEGIN IMMEDIATE"))
        return CHILD_FAIL_SQL;
      if ((rc = insert_rows (st, n + 1, k)) != SQLITE_OK)
        {
          child_complain ("insert: %s (%d)", sqlite3_errmsg (db), rc);
          return CHILD_FAIL_SQL;
        }
      if (!child_exec (db, "COMMIT"))
        return CHILD_FAIL_SQL;
      n += k;
      if (!child_report (fd, n))
        return CHILD_FAIL_PIPE;
    }
  /* No sqlite3_finalize(), no close: a close would checkpoint the WAL. */
  return 0;
}

/* Runs a tx_writer_child and returns its reports: the start count, then
 * the count after each transaction. */
static GArray *
run_tx_writer (const char *dir, GRand *rand, guint n_tx)
{
  TxWriter w = { dir, g_rand_int (rand), n_tx };
  g_autofree char *wal_path = store_file (dir, HEARTH_STORE_DB_NAME "-wal");
  Child child;
  GArray *reports;
  int status;

  child_spawn (&child, tx_writer_child, &w);
  status = child_wait (&child, 60);
  assert_status (status, "exited with 0");
  g_assert_cmpuint (child.reports->len, ==, n_tx + 1);
  reports = g_array_ref (child.reports);
  child_clear (&child);
  /* The WAL outlives the writer, with whole frames only. */
  g_assert_true (g_file_test (wal_path, G_FILE_TEST_EXISTS));
  g_assert_cmpint ((file_size (wal_path) - WAL_HEADER) % WAL_FRAME, ==, 0);
  return reports;
}

typedef enum {
  TAIL_TRUNCATE,
  TAIL_FLIP_DATA,
  TAIL_FLIP_RESERVE,
  N_TAIL_DAMAGE
} TailDamage;

static void
test_wal_torn_tail (void)
{
  static const char *const names[] = { "truncated", "payload byte flipped", "nonce/tag byte flipped" };
  g_autoptr(GRand) rand = test_rand ();
  g_autofree char *dir = create_store_with_table ("wal-torn");
  g_autofree char *wal_path = store_file (dir, HEARTH_STORE_DB_NAME "-wal");
  guint n_iter = iterations (60);
  guint done[N_TAIL_DAMAGE] = { 0 };
  gint64 n = 0;

  for (guint i = 0; i < n_iter; i++)
    {
      TailDamage damage = i % N_TAIL_DAMAGE;
      guint n_tx = g_rand_int_range (rand, 1, 11);
      g_autoptr(GArray) reports = run_tx_writer (dir, rand, n_tx);
      g_autoptr(GArray) frames = wal_frames (wal_path);
      g_autoptr(HearthStore) store = NULL;
      g_autofree char *offset_text = NULL;
      HearthVfsStats before, after;
      gint64 expected = g_array_index (reports, gint64, n_tx - 1);
      goffset last;

      g_assert_cmpint (g_array_index (reports, gint64, 0), ==, n);
      g_assert_cmpuint (frames->len, ==, (file_size (wal_path) - WAL_HEADER) / WAL_FRAME);
      g_assert_cmpuint (g_array_index (frames, WalFrame, frames->len - 1).commit, !=, 0);
      g_assert_cmpuint (g_array_index (frames, WalFrame, frames->len - 1).tx, ==, n_tx - 1);
      last = wal_frame_offset (frames->len - 1);

      switch (damage)
        {
        case TAIL_TRUNCATE:
          g_assert_no_errno (truncate (wal_path, last + g_rand_int_range (rand, 1, WAL_FRAME)));
          break;
        case TAIL_FLIP_DATA:
          test_flip_byte (wal_path, last + WAL_FRAME_HEADER +
                          g_rand_int_range (rand, 0, HEARTH_PAGE_SIZE - HEARTH_PAGE_RESERVE));
          break;
        case TAIL_FLIP_RESERVE:
        default:
          test_flip_byte (wal_path, last + WAL_FRAME_HEADER + HEARTH_PAGE_SIZE -
                          g_rand_int_range (rand, 1, HEARTH_PAGE_RESERVE + 1));
          break;
        }

      test_log_reset ();
      hearth_vfs_get_stats (&before);
      store = test_open_store (dir);
      hearth_vfs_get_stats (&after);
      assert_store_rows (hearth_store_get_db (store), expected);
      if (damage == TAIL_TRUNCATE)
        {
          /* SQLite never reads a partial frame: nothing for the VFS to drop. */
          g_assert_cmpuint (after.wal_recovery_drops, ==, before.wal_recovery_drops);
          if (n_tx > 1)
            g_assert_true (test_log_contains ("recovered"));
        }
      else
        {
          g_assert_cmpuint (after.wal_recovery_drops, ==, before.wal_recovery_drops + 1);
          offset_text = g_strdup_printf ("frame at offset %" G_GINT64_FORMAT " ", (gint64) last);
          g_assert_true (test_log_contains ("encvfs"));
          g_assert_true (test_log_contains ("failed authentication during recovery"));
          g_assert_true (test_log_contains (offset_text));
        }
      done[damage]++;
      n = expected;
      g_clear_object (&store);
      /* The last close checkpointed and removed the WAL. */
      g_assert_false (g_file_test (wal_path, G_FILE_TEST_EXISTS));
    }
  g_test_message ("%u iterations: %u %s, %u %s, %u %s; %" G_GINT64_FORMAT " rows kept",
                  n_iter, done[0], names[0], done[1], names[1], done[2], names[2], n);
}

/* ---- 3. a WAL frame damaged while indexed -------------------------------- */

/* Reads each row 1..@n by id: every row is either exactly right or
 * SQLITE_CORRUPT. Returns the number of rows that were CORRUPT. */
static guint
count_corrupt_rows (sqlite3 *db, gint64 n)
{
  g_autofree guint8 *want = g_malloc (ROW_MAX);
  sqlite3_stmt *st = NULL;
  guint corrupt = 0;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT v FROM t WHERE id = ?", -1, &st, NULL), ==, SQLITE_OK);
  for (gint64 id = 1; id <= n; id++)
    {
      int rc;

      sqlite3_bind_int64 (st, 1, id);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        {
          gsize len = row_value (id, want);

          g_assert_cmpuint (sqlite3_column_bytes (st, 0), ==, len);
          g_assert_cmpmem (sqlite3_column_blob (st, 0), len, want, len);
          g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
        }
      else
        {
          g_assert_cmpint (rc & 0xff, ==, SQLITE_CORRUPT);
          corrupt++;
        }
      sqlite3_reset (st);
    }
  sqlite3_finalize (st);
  return corrupt;
}

/* Runs a statement to its end; returns the first failing code or DONE,
 * with the rows' first columns in @rows. */
static int
run_statement (sqlite3 *db, const char *sql, GString *rows)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2 (db, sql, -1, &st, NULL);

  if (rc != SQLITE_OK)
    return rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    for (int c = 0; c < sqlite3_column_count (st); c++)
      {
        const char *text = (const char *) sqlite3_column_text (st, c);

        g_string_append_printf (rows, "%s%s", rows->len ? "|" : "", text != NULL ? text : "NULL");
      }
  sqlite3_finalize (st);
  return rc;
}

/* One round: returns whether the failed checkpoints wrote to the database
 * file. */
static gboolean
wal_flip_indexed_once (GRand *rand)
{
  g_autofree char *dir = create_store_with_table ("wal-flip-indexed");
  g_autofree char *wal_path = store_file (dir, HEARTH_STORE_DB_NAME "-wal");
  g_autofree char *db_path = store_file (dir, HEARTH_STORE_DB_NAME);
  g_autoptr(HearthStore) writer = test_open_store (dir);
  g_autoptr(HearthStore) reader = NULL;
  g_autoptr(HearthStore) third = NULL;
  g_autoptr(GArray) frames = NULL;
  g_autoptr(GArray) candidates = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GString) rows = g_string_new (NULL);
  g_autofree char *db_hash_before = NULL;
  g_autofree char *db_hash_after = NULL;
  g_autofree char *page_text = NULL;
  sqlite3 *wdb = hearth_store_get_db (writer);
  sqlite3_stmt *st = NULL;
  const gint64 n = 120;
  gint64 pages_before;
  guint frame, corrupt;
  int rc;

  /* Everything before the table's rows is in the database file; the rows
   * stay in the WAL (no autocheckpoint). */
  test_exec (wdb, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA wal_autocheckpoint=0");
  pages_before = test_query_int (wdb, "PRAGMA page_count");
  st = prepare_insert (wdb);
  for (gint64 id = 1; id <= n; id += 20)
    {
      test_exec (wdb, "BEGIN IMMEDIATE");
      g_assert_cmpint (insert_rows (st, id, 20), ==, SQLITE_OK);
      test_exec (wdb, "COMMIT");
    }
  sqlite3_finalize (st);

  /* Damage the newest frame of a page of t that is not in the database
   * file at all: readers must take it from the WAL. Data, nonce or tag. */
  frames = wal_frames (wal_path);
  for (guint i = 0; i < frames->len; i++)
    {
      const WalFrame *f = &g_array_index (frames, WalFrame, i);
      gboolean newest = TRUE;

      for (guint j = i + 1; j < frames->len; j++)
        newest &= g_array_index (frames, WalFrame, j).pgno != f->pgno;
      if (newest && f->pgno > pages_before)
        g_array_append_val (candidates, i);
    }
  g_assert_cmpuint (candidates->len, >, 0);
  frame = g_array_index (candidates, guint, g_rand_int_range (rand, 0, candidates->len));
  test_flip_byte (wal_path, wal_frame_offset (frame) + WAL_FRAME_HEADER +
                  g_rand_int_range (rand, 0, HEARTH_PAGE_SIZE));
  db_hash_before = test_file_sha256 (db_path);

  /* A fresh connection uses the wal-index the writer built: no recovery,
   * so the damaged frame is read as a page and must fail. */
  test_log_reset ();
  reader = test_open_store (dir);
  corrupt = count_corrupt_rows (hearth_store_get_db (reader), n);
  g_assert_cmpuint (corrupt, >, 0);
  g_assert_cmpint (run_statement (hearth_store_get_db (reader), "SELECT count(*) FROM t WHERE hex(v) != ''",
                                  rows) & 0xff, ==, SQLITE_CORRUPT);
  page_text = g_strdup_printf ("page %u (offset %" G_GINT64_FORMAT "): authentication failed",
                               g_array_index (frames, WalFrame, frame).pgno,
                               (gint64) wal_frame_offset (frame) + WAL_FRAME_HEADER);
  g_assert_true (test_log_contains ("encvfs"));
  g_assert_true (test_log_contains (page_text));

  /* The checkpoint reads the same frame to copy it: it must fail loudly,
   * whoever runs it, and leave the WAL whole. */
  g_string_truncate (rows, 0);
  rc = run_statement (hearth_store_get_db (reader), "PRAGMA wal_checkpoint", rows);
  g_assert_cmpint (rc & 0xff, ==, SQLITE_CORRUPT);
  g_assert_cmpstr (rows->str, ==, "");
  rc = run_statement (wdb, "PRAGMA wal_checkpoint(TRUNCATE)", rows);
  g_assert_cmpint (rc & 0xff, ==, SQLITE_CORRUPT);
  g_assert_cmpstr (rows->str, ==, "");
  g_assert_cmpuint ((file_size (wal_path) - WAL_HEADER) / WAL_FRAME, ==, frames->len);

  /* Nothing counts as backfilled: a new connection still fails on the
   * same rows and returns the others exactly. The writer's cache may still
   * serve them, but never wrongly. */
  third = test_open_store (dir);
  g_assert_cmpuint (count_corrupt_rows (hearth_store_get_db (third), n), ==, corrupt);
  g_assert_cmpuint (count_corrupt_rows (hearth_store_get_db (reader), n), ==, corrupt);
  count_corrupt_rows (wdb, n);
  /* The database file only ever received whole, authentic pages (the
   * newest versions of the pages numbered below the damaged one: see
   * wal-flip-checkpoint-reopen for what that means later). */
  assert_db_pages_authentic (dir);
  db_hash_after = test_file_sha256 (db_path);

  g_clear_object (&third);
  g_clear_object (&reader);
  g_clear_object (&writer);
  /* The last close could not checkpoint either: the WAL stays. */
  g_assert_true (g_file_test (wal_path, G_FILE_TEST_EXISTS));
  return g_strcmp0 (db_hash_before, db_hash_after) != 0;
}

static void
test_wal_flip_indexed (void)
{
  g_autoptr(GRand) rand = test_rand ();
  guint n_iter = iterations (20), written = 0;

  for (guint i = 0; i < n_iter; i++)
    written += wal_flip_indexed_once (rand);
  g_test_message ("%u iterations: readers and checkpoints got SQLITE_CORRUPT every time; "
                  "the failed checkpoints had written lower-numbered pages to the database file "
                  "%u times",
                  n_iter, written);
}

/* ---- 3b. the same damage, after a failed checkpoint, found by recovery --- */

/* A checkpoint copies pages in page-number order and stops at the damaged
 * frame, so the database file has by then received the newest version of
 * every lower-numbered page, from transactions after the damaged one too.
 * When recovery later truncates the log at the damaged frame (the P2
 * limitation), those pages are no longer covered by the log. Acceptable
 * outcomes: the store refuses to open (CORRUPT), or it shows a prefix of
 * the committed transactions. A later transaction visible without an
 * earlier one is the known problem this test reports. */
static void
test_wal_flip_checkpoint_reopen (void)
{
  g_autofree char *dir = create_store_with_table ("wal-flip-ckpt");
  g_autofree char *wal_path = store_file (dir, HEARTH_STORE_DB_NAME "-wal");
  g_autoptr(HearthStore) store = test_open_store (dir);
  g_autoptr(HearthSecret) pass = test_secret (TEST_PASSPHRASE);
  g_autoptr(GArray) frames = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) marker = g_string_new (NULL);
  HearthVfsStats before, after;
  sqlite3 *db = hearth_store_get_db (store);
  sqlite3_stmt *st = NULL;
  gint64 marker_page, rows;
  guint bad = 0;

  st = prepare_insert (db);
  test_exec (db, "CREATE TABLE marker (x TEXT NOT NULL); INSERT INTO marker VALUES ('before')");
  test_exec (db, "BEGIN");
  g_assert_cmpint (insert_rows (st, 1, 100), ==, SQLITE_OK);
  test_exec (db, "COMMIT");
  test_exec (db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA wal_autocheckpoint=0");
  marker_page = test_query_int (db, "SELECT rootpage FROM sqlite_schema WHERE name = 'marker'");

  /* Transaction 0 and 1 append rows; 2 changes a page that only the
   * database file held until then. */
  test_exec (db, "BEGIN");
  g_assert_cmpint (insert_rows (st, 101, 10), ==, SQLITE_OK);
  test_exec (db, "COMMIT");
  test_exec (db, "BEGIN");
  g_assert_cmpint (insert_rows (st, 111, 30), ==, SQLITE_OK);
  test_exec (db, "COMMIT");
  sqlite3_finalize (st);
  test_exec (db, "UPDATE marker SET x = 'after'");

  frames = wal_frames (wal_path);
  g_assert_cmpuint (g_array_index (frames, WalFrame, frames->len - 1).tx, ==, 2);
  for (guint i = 0; i < frames->len; i++)
    {
      const WalFrame *f = &g_array_index (frames, WalFrame, i);

      if (f->tx < 2)
        g_assert_cmpint (f->pgno, !=, marker_page);
      if (f->tx == 1 && f->pgno > g_array_index (frames, WalFrame, bad).pgno)
        bad = i;
    }
  g_assert_cmpint (g_array_index (frames, WalFrame, bad).pgno, >, marker_page);
  test_flip_byte (wal_path, wal_frame_offset (bad) + WAL_FRAME_HEADER + 100);

  /* The last close tries to checkpoint and fails at the damaged frame. */
  test_log_reset ();
  g_clear_object (&store);
  g_assert_true (g_file_test (wal_path, G_FILE_TEST_EXISTS));

  /* The close's checkpoint authenticated the log first and refused to copy
   * anything: the database file holds none of transactions 0-2. */
  g_assert_true (test_log_contains ("the checkpoint is refused before it writes anything"));

  hearth_vfs_get_stats (&before);
  store = hearth_store_open (dir, pass, &error);
  hearth_vfs_get_stats (&after);
  g_assert_no_error (error);
  g_assert_cmpuint (after.wal_recovery_drops, ==, before.wal_recovery_drops + 1);
  db = hearth_store_get_db (store);
  {
    g_autofree char *check = integrity (db);
    g_test_message ("integrity_check after recovery: %s", check);
  }
  rows = test_query_int (db, "SELECT count(*) FROM t");
  g_assert_cmpint (run_statement (db, "SELECT x FROM marker", marker), ==, SQLITE_DONE);
  g_test_message ("after recovery: %" G_GINT64_FORMAT " rows (transaction 0 ends at 110, 1 at 140), "
                  "marker \"%s\" (transaction 2 wrote \"after\")", rows, marker->str);
  assert_store_rows (db, 110);
  g_assert_cmpstr (marker->str, ==, "before");
}

/* ---- 4. a WAL frame damaged, then found by recovery ---------------------- */

static void
test_wal_flip_reopen (void)
{
  g_autoptr(GRand) rand = test_rand ();
  g_autofree char *dir = create_store_with_table ("wal-flip-reopen");
  g_autofree char *wal_path = store_file (dir, HEARTH_STORE_DB_NAME "-wal");
  guint n_iter = iterations (40);
  guint dropped_tx = 0;
  gint64 n = 0;

  for (guint i = 0; i < n_iter; i++)
    {
      guint n_tx = g_rand_int_range (rand, 2, 11);
      g_autoptr(GArray) reports = run_tx_writer (dir, rand, n_tx);
      g_autoptr(GArray) frames = wal_frames (wal_path);
      g_autoptr(HearthStore) store = NULL;
      g_autofree char *offset_text = NULL;
      HearthVfsStats before, after;
      const WalFrame *f;
      guint frame;
      gint64 expected;

      g_assert_cmpint (g_array_index (reports, gint64, 0), ==, n);
      g_assert_cmpuint (frames->len, ==, (file_size (wal_path) - WAL_HEADER) / WAL_FRAME);
      g_assert_cmpuint (g_array_index (frames, WalFrame, frames->len - 1).tx, ==, n_tx - 1);

      /* Any frame: recovery keeps the transactions before its own. */
      frame = g_rand_int_range (rand, 0, frames->len);
      f = &g_array_index (frames, WalFrame, frame);
      expected = g_array_index (reports, gint64, f->tx);
      test_flip_byte (wal_path, wal_frame_offset (frame) + WAL_FRAME_HEADER +
                      g_rand_int_range (rand, 0, HEARTH_PAGE_SIZE));

      test_log_reset ();
      hearth_vfs_get_stats (&before);
      store = test_open_store (dir);
      hearth_vfs_get_stats (&after);
      assert_store_rows (hearth_store_get_db (store), expected);
      g_assert_cmpuint (after.wal_recovery_drops, ==, before.wal_recovery_drops + 1);
      offset_text = g_strdup_printf ("frame at offset %" G_GINT64_FORMAT " ",
                                     (gint64) wal_frame_offset (frame));
      g_assert_true (test_log_contains ("encvfs"));
      g_assert_true (test_log_contains (offset_text));
      dropped_tx += n_tx - f->tx;
      n = expected;
      g_clear_object (&store);
    }
  g_test_message ("%u iterations: damage found by recovery dropped %u transactions in all "
                  "(the damaged one and all after it); %" G_GINT64_FORMAT " rows kept",
                  n_iter, dropped_tx, n);
}

/* ---- 5. rollback journal: kill mid-UPDATE ------------------------------ */

typedef struct {
  const char *path;
  HearthPageKey *key;
  gint64 value;
} Updater;

static sqlite3 *
child_open_raw (const char *path, HearthPageKey *key)
{
  g_autofree char *token = hearth_vfs_key_attach (key);
  g_autofree char *uri = hearth_vfs_build_uri (path, token);
  int reserve = HEARTH_PAGE_RESERVE;
  sqlite3 *db = NULL;

  if (sqlite3_open_v2 (uri, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, HEARTH_VFS_NAME) != SQLITE_OK)
    {
      child_complain ("open: %s", sqlite3_errmsg (db));
      sqlite3_close (db);
      return NULL;
    }
  sqlite3_extended_result_codes (db, 1);
  sqlite3_busy_timeout (db, 10000);
  sqlite3_file_control (db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  /* A cache far smaller than the update: dirty pages spill to the
   * database file before the commit, behind the synced journal. */
  if (!child_exec (db, "PRAGMA temp_store=MEMORY; PRAGMA journal_mode=DELETE; "
                       "PRAGMA synchronous=FULL; PRAGMA cache_size=10"))
    {
      sqlite3_close (db);
      return NULL;
    }
  return db;
}

static int
updater_child (gpointer data, int fd)
{
  Updater *u = data;
  g_autofree char *sql = g_strdup_printf ("UPDATE t SET v = %" G_GINT64_FORMAT, u->value);
  sqlite3 *db = child_open_raw (u->path, u->key);
  gint64 start;

  if (db == NULL)
    return CHILD_FAIL_OPEN;
  if (!child_report (fd, 0))
    return CHILD_FAIL_PIPE;
  start = g_get_monotonic_time ();
  if (!child_exec (db, sql))
    return CHILD_FAIL_SQL;
  /* How long it took, so that the parent aims the next kills better. */
  if (!child_report (fd, MAX (1, g_get_monotonic_time () - start)))
    return CHILD_FAIL_PIPE;
  /* Wait to be killed, like the other children. */
  for (int i = 0; i < 200; i++)
    g_usleep (100000);
  return CHILD_TIMEOUT;
}

#define ROLLBACK_ROWS 2500

static void
test_rollback_hot_journal (void)
{
  g_autoptr(GRand) rand = test_rand ();
  g_autofree char *dir = test_make_dir ("rollback");
  g_autofree char *path = g_build_filename (dir, "raw.db", NULL);
  g_autofree char *journal = g_strconcat (path, "-journal", NULL);
  g_autofree char *token = NULL;
  g_autoptr(HearthPageKey) key = NULL;
  guint8 data_key[HEARTH_DATA_KEY_SIZE], file_id[HEARTH_FILE_ID_SIZE];
  guint n_iter = iterations (250);
  guint with_journal = 0, hot = 0, rolled_back = 0, committed = 0, reported_done = 0;
  gint64 value = 10, pages, duration;
  sqlite3 *db;

  for (gsize i = 0; i < sizeof data_key; i++)
    data_key[i] = (guint8) g_rand_int (rand);
  for (gsize i = 0; i < sizeof file_id; i++)
    file_id[i] = (guint8) g_rand_int (rand);
  key = hearth_page_key_new (data_key, file_id);
  g_assert_nonnull (key);

  db = test_open_raw (path, key, "DELETE", TRUE, &token);
  test_exec (db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL, pad BLOB NOT NULL);"
                 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < "
                 G_STRINGIFY (ROLLBACK_ROWS) ") "
                 "INSERT INTO t SELECT x, 10, randomblob(300) FROM c");
  pages = test_query_int (db, "PRAGMA page_count");
  g_assert_cmpint (pages, >, 10 * 10);
  /* How long one spilling UPDATE takes here, to aim the kills at it. */
  {
    gint64 start = g_get_monotonic_time ();

    test_exec (db, "PRAGMA cache_size=10; UPDATE t SET v = 11");
    duration = g_get_monotonic_time () - start;
    value = 11;
  }
  sqlite3_close (db);
  hearth_vfs_key_detach (token);
  g_clear_pointer (&token, g_free);
  g_test_message ("%" G_GINT64_FORMAT " pages of table, cache_size=10; "
                  "one UPDATE takes %" G_GINT64_FORMAT " us",
                  pages, duration);

  for (guint i = 0; i < n_iter; i++)
    {
      Updater u = { path, key, 10 + (value - 10 + g_rand_int_range (rand, 1, 100)) % 100 };
      g_autofree char *sql = NULL;
      Child child;
      gint64 started, old_rows, new_rows;
      int status;

      child_spawn (&child, updater_child, &u);
      g_assert_true (child_read (&child, &started, 30000));
      random_sleep (rand, duration * 11 / 10);
      status = child_kill (&child);
      assert_status (status, "killed by SIGKILL");
      if (child.reports->len > 1)
        {
          /* fsync times vary a lot: follow them. */
          reported_done++;
          duration = (duration + g_array_index (child.reports, gint64, 1)) / 2;
        }
      child_clear (&child);
      /* A journal is hot when its header has been written; one cut off
       * before that is ignored by SQLite and left in place. */
      if (g_file_test (journal, G_FILE_TEST_EXISTS))
        {
          with_journal++;
          if (file_size (journal) > 0)
            {
              g_autoptr(GBytes) first = test_read_range (journal, 0, 1);

              hot += ((const guint8 *) g_bytes_get_data (first, NULL))[0] != 0;
            }
        }

      /* The first read rolls the hot journal back. */
      db = test_open_raw (path, key, "DELETE", TRUE, &token);
      {
        g_autofree char *check = integrity (db);
        g_assert_cmpstr (check, ==, "ok");
      }
      g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM t"), ==, ROLLBACK_ROWS);
      sql = g_strdup_printf ("SELECT count(*) FROM t WHERE v = %" G_GINT64_FORMAT, value);
      old_rows = test_query_int (db, sql);
      g_free (sql);
      sql = g_strdup_printf ("SELECT count(*) FROM t WHERE v = %" G_GINT64_FORMAT, u.value);
      new_rows = test_query_int (db, sql);
      if (!((old_rows == ROLLBACK_ROWS && new_rows == 0) || (old_rows == 0 && new_rows == ROLLBACK_ROWS)))
        g_error ("iteration %u: %" G_GINT64_FORMAT " rows with the old value and %" G_GINT64_FORMAT
                 " with the new one", i, old_rows, new_rows);
      if (new_rows == ROLLBACK_ROWS)
        {
          committed++;
          value = u.value;
        }
      else
        rolled_back++;
      sqlite3_close (db);
      hearth_vfs_key_detach (token);
      g_clear_pointer (&token, g_free);
    }
  g_test_message ("%u iterations: a journal was left %u times, %u of them hot; %u rolled back, "
                  "%u committed (%u reported done before the kill)",
                  n_iter, with_journal, hot, rolled_back, committed, reported_done);
  /* The kills must land inside the transaction often enough to matter
   * (typically more than three times in four). */
  g_assert_cmpuint (hot, >=, n_iter / 3);
}

/* ---- 6. passphrase change killed anywhere ------------------------------- */

typedef struct {
  const char *dir;
  const char *old_pass;
  const char *new_pass;  /* NULL: only open the store with old_pass */
  const char *step;      /* kill there; NULL: no hook */
} PasswdJob;

static int
passwd_child (gpointer data, int fd)
{
  PasswdJob *job = data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  kill_at_step = job->step;
  hearth_store_set_step_hook (kill_hook);
  if (!child_report (fd, 1))
    return CHILD_FAIL_PIPE;
  if (job->new_pass != NULL)
    {
      g_autoptr(HearthSecret) old_secret = test_secret (job->old_pass);
      g_autoptr(HearthSecret) new_secret = test_secret (job->new_pass);

      ok = hearth_store_change_passphrase (job->dir, old_secret, new_secret, &error);
    }
  else
    {
      HearthStore *store = child_open_store (job->dir, job->old_pass);

      ok = store != NULL;
      g_clear_object (&store);
    }
  if (!ok)
    {
      if (error != NULL)
        child_complain ("%s", error->message);
      return CHILD_FAIL_API;
    }
  return 0;
}

/* Runs @job in a child, killed at its step or after a random delay of up
 * to @max_delay_us (when @max_delay_us > 0). Returns the wait status. */
static int
run_passwd_job (PasswdJob *job, GRand *rand, gint64 max_delay_us)
{
  Child child;
  gint64 started;
  int status;

  child_spawn (&child, passwd_child, job);
  if (max_delay_us > 0)
    {
      g_assert_true (child_read (&child, &started, 30000));
      random_sleep (rand, max_delay_us);
      status = child_kill (&child);
    }
  else
    status = child_wait (&child, 60);
  child_clear (&child);
  return status;
}

/* Tries @candidates in random order: exactly one must open the store, and
 * once it has, both keyslot copies are the same bytes. Returns its index;
 * *@failed_before gets a bit for each candidate that was refused before it. */
static guint
open_with_one_of (const char *dir, const char *const *candidates, guint n, GRand *rand,
                  guint *failed_before)
{
  guint order[3] = { 0, 1, 2 };
  guint failed = 0;
  int opened = -1;

  g_assert_cmpuint (n, <=, G_N_ELEMENTS (order));
  for (guint i = n - 1; i > 0; i--)
    {
      guint j = g_rand_int_range (rand, 0, i + 1), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  for (guint k = 0; k < n; k++)
    {
      g_autoptr(HearthSecret) secret = test_secret (candidates[order[k]]);
      g_autoptr(GError) error = NULL;
      g_autoptr(HearthStore) store = hearth_store_open (dir, secret, &error);

      if (store == NULL)
        {
          g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_WRONG_PASSPHRASE);
          if (opened < 0)
            failed |= 1u << order[k];
          continue;
        }
      /* After the settling unlock no other passphrase may open it. */
      g_assert_cmpint (opened, ==, -1);
      opened = (int) order[k];
      g_clear_object (&store);
      assert_keyslot_copies_equal (dir);
    }
  g_assert_cmpint (opened, >=, 0);
  *failed_before = failed;
  return (guint) opened;
}

typedef enum {
  PW_STEP_COPY_0,       /* killed before copy 0 is replaced: old only */
  PW_STEP_COPY_1,       /* between the copies: either opens */
  PW_STEP_WRITTEN,      /* both replaced: new only */
  PW_SETTLE_COPY_0,     /* copies differ, then an unlock dies settling copy 0 */
  PW_SETTLE_COPY_1,     /* ... settling copy 1 */
  PW_SETTLE_CHANGE,     /* copies differ, then a change dies settling */
  PW_RANDOM,            /* a change killed at a random moment */
  PW_RANDOM_SETTLE,     /* copies differ, then an unlock killed at random */
  N_PW_MODES
} PasswdMode;

static void
test_passwd_sigkill (void)
{
  static const char *const mode_names[] = {
    "write-copy-0", "write-copy-1", "written", "settle-copy-0", "settle-copy-1",
    "settle during a change", "random", "random during settle",
  };
  g_autoptr(GRand) rand = test_rand ();
  g_autofree char *dir = test_create_store ("passwd", NULL);
  g_autofree char *hash = db_hash (dir);
  g_autofree char *current = g_strdup (TEST_PASSPHRASE);
  guint n_iter = iterations (640);
  guint opened_old = 0, opened_new = 0, opened_third = 0, completed = 0;
  guint leftovers = 0, unexpected = 0;
  gint64 change_us, open_us;

  /* A completed change: only the new passphrase opens, both copies are new. */
  {
    g_autoptr(GBytes) slot0 = read_file (dir, "keyslot.0");
    g_autoptr(GBytes) slot1 = read_file (dir, "keyslot.1");
    g_autoptr(GBytes) slot0_after = NULL;
    g_autoptr(GBytes) slot1_after = NULL;
    g_autoptr(HearthSecret) old_secret = test_secret (TEST_PASSPHRASE);
    g_autoptr(HearthSecret) new_secret = test_secret (TEST_PASSPHRASE_2);
    g_autoptr(HearthStore) store = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *hash_now = NULL;

    g_assert_true (hearth_store_change_passphrase (dir, old_secret, new_secret, &error));
    g_assert_no_error (error);
    slot0_after = read_file (dir, "keyslot.0");
    slot1_after = read_file (dir, "keyslot.1");
    g_assert_false (g_bytes_equal (slot0, slot0_after));
    g_assert_false (g_bytes_equal (slot1, slot1_after));
    g_assert_true (g_bytes_equal (slot0_after, slot1_after));
    store = hearth_store_open (dir, old_secret, &error);
    g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_WRONG_PASSPHRASE);
    g_assert_null (store);
    g_clear_error (&error);
    store = hearth_store_open (dir, new_secret, &error);
    g_assert_no_error (error);
    g_assert_nonnull (store);
    g_clear_object (&store);
    g_free (current);
    current = g_strdup (TEST_PASSPHRASE_2);
    hash_now = db_hash (dir);
    g_assert_cmpstr (hash_now, ==, hash);
  }

  /* Timing, to aim the random kills: a whole change and a whole open. */
  {
    g_autofree char *next = g_strdup_printf ("timing passphrase %u", g_rand_int (rand));
    PasswdJob job = { dir, current, next, NULL };
    gint64 start = g_get_monotonic_time ();

    assert_status (run_passwd_job (&job, rand, 0), "exited with 0");
    change_us = g_get_monotonic_time () - start;
    job = (PasswdJob) { dir, next, NULL, NULL };
    start = g_get_monotonic_time ();
    assert_status (run_passwd_job (&job, rand, 0), "exited with 0");
    open_us = g_get_monotonic_time () - start;
    g_free (current);
    current = g_strdup (next);
    g_test_message ("a change takes %" G_GINT64_FORMAT " us, an open %" G_GINT64_FORMAT " us (with fork)",
                    change_us, open_us);
  }

  for (guint i = 0; i < n_iter; i++)
    {
      PasswdMode mode = i % N_PW_MODES;
      g_autofree char *next = g_strdup_printf ("crash passphrase %u-%08x", i, g_rand_int (rand));
      g_autofree char *third = g_strdup_printf ("third passphrase %u-%08x", i, g_rand_int (rand));
      g_autofree char *hash_now = NULL;
      const char *candidates[3] = { current, next, third };
      guint n_candidates = 2, opened, failed_before;
      int expect = -1;
      PasswdJob job = { dir, current, next, NULL };
      int status;

      switch (mode)
        {
        case PW_STEP_COPY_0:
        case PW_STEP_COPY_1:
        case PW_STEP_WRITTEN:
          job.step = mode_names[mode];
          assert_status (run_passwd_job (&job, rand, 0), "killed by SIGKILL");
          break;
        case PW_SETTLE_COPY_0:
        case PW_SETTLE_COPY_1:
        case PW_SETTLE_CHANGE:
        case PW_RANDOM_SETTLE:
          /* First leave copy 0 new and copy 1 old. */
          job.step = "write-copy-1";
          assert_status (run_passwd_job (&job, rand, 0), "killed by SIGKILL");
          if (mode == PW_SETTLE_COPY_0)
            /* Unlocking with copy 1's passphrase rewrites copy 0. */
            job = (PasswdJob) { dir, current, NULL, "settle-copy-0" };
          else if (mode == PW_SETTLE_COPY_1)
            job = (PasswdJob) { dir, next, NULL, "settle-copy-1" };
          else if (mode == PW_SETTLE_CHANGE)
            {
              /* A change from either passphrase starts by settling. */
              gboolean from_old = g_rand_boolean (rand);

              job = (PasswdJob) { dir, from_old ? current : next, third,
                                  from_old ? "settle-copy-0" : "settle-copy-1" };
              n_candidates = 3;
            }
          else
            job = (PasswdJob) { dir, g_rand_boolean (rand) ? current : next, NULL, NULL };
          if (mode == PW_RANDOM_SETTLE)
            {
              status = run_passwd_job (&job, rand, open_us * 12 / 10);
              if (status_ok (status))
                {
                  /* The open settled both copies on its passphrase. */
                  completed++;
                  expect = job.old_pass == current ? 0 : 1;
                }
              else
                assert_status (status, "killed by SIGKILL");
            }
          else
            assert_status (run_passwd_job (&job, rand, 0), "killed by SIGKILL");
          break;
        case PW_RANDOM:
        default:
          status = run_passwd_job (&job, rand, change_us * 12 / 10);
          if (status_ok (status))
            {
              completed++;
              expect = 1;
            }
          else
            assert_status (status, "killed by SIGKILL");
          break;
        }

      /* The database file is never touched, whatever was killed. */
      hash_now = db_hash (dir);
      g_assert_cmpstr (hash_now, ==, hash);

      opened = open_with_one_of (dir, candidates, n_candidates, rand, &failed_before);
      switch (mode)
        {
        case PW_STEP_COPY_0:
          g_assert_cmpuint (opened, ==, 0);
          break;
        case PW_STEP_WRITTEN:
          g_assert_cmpuint (opened, ==, 1);
          break;
        case PW_STEP_COPY_1:
        case PW_SETTLE_COPY_0:
        case PW_SETTLE_COPY_1:
        case PW_SETTLE_CHANGE:
          /* A copy of each (the settle step died before writing): the old
           * or the new passphrase, whichever is tried first, opens; the
           * third was never written. */
          g_assert_cmpuint (opened, !=, 2);
          g_assert_cmpuint (failed_before & 3, ==, 0);
          break;
        default:
          if (expect >= 0)
            g_assert_cmpint (opened, ==, expect);
          break;
        }
      opened_old += opened == 0;
      opened_new += opened == 1;
      opened_third += opened == 2;
      if (candidates[opened] != current)
        {
          char *kept = g_strdup (candidates[opened]);

          g_free (current);
          current = kept;
        }

      g_free (hash_now);
      hash_now = db_hash (dir);
      g_assert_cmpstr (hash_now, ==, hash);
    }
  count_leftovers (dir, &leftovers, &unexpected);
  g_assert_cmpuint (unexpected, ==, 0);
  g_test_message ("%u iterations; opened afterwards with the old passphrase %u times, the new %u, "
                  "a third %u; %u random-time children finished first; %u .tmp files left behind",
                  n_iter, opened_old, opened_new, opened_third, completed, leftovers);
  g_assert_cmpuint (opened_old, >, 0);
  g_assert_cmpuint (opened_new, >, 0);
}

/* ---- 7. two processes reopening the store ------------------------------- */

typedef struct {
  const char *dir;
  guint who;
  guint32 seed;
  gint64 duration_us;
  guint max_loops;
} Reopener;

static gsize
concurrent_value (guint who, gint64 seq, guint8 *buf)
{
  return row_value ((gint64) who * 1000000 + seq, buf);
}

/* In a child: explains a nonzero auth_failures count. The VFS logs the
 * failures it turns into errors or recovery drops; one it tolerates
 * silently is the torn page-1 header read at open (P1). */
static void
child_complain_auth (const HearthVfsStats *at_fork)
{
  HearthVfsStats s;
  g_auto(GStrv) lines = g_strsplit (test_log_get (), "\n", -1);

  hearth_vfs_get_stats (&s);
  child_complain ("%" G_GUINT64_FORMAT " pages failed authentication (%" G_GUINT64_FORMAT
                  " of them WAL recovery drops)", s.auth_failures - at_fork->auth_failures,
                  s.wal_recovery_drops - at_fork->wal_recovery_drops);
  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], "encvfs") != NULL)
      child_complain ("logged: %s", lines[i]);
}

/* Reports its inserted row count, its number of reopens and the torn
 * header reads it survived. */
static int
reopener_child (gpointer data, int fd)
{
  Reopener *r = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (r->seed);
  gint64 deadline = g_get_monotonic_time () + r->duration_us;
  gint64 seq = 0, others = 0;
  guint loops = 0;
  guint8 buf[ROW_MAX];
  HearthVfsStats s, at_fork;

  /* The counters and the log are process-wide: the fork copied the
   * parent's. */
  hearth_vfs_get_stats (&at_fork);
  test_log_reset ();
  while (loops < r->max_loops && (loops < 10 || g_get_monotonic_time () < deadline))
    {
      HearthStore *store = child_open_store (r->dir, TEST_PASSPHRASE);
      sqlite3_stmt *st = NULL;
      sqlite3 *db;
      guint k = g_rand_int_range (rand, 1, 6);
      gint64 n, now_others;
      int rc = SQLITE_OK;

      if (store == NULL)
        return CHILD_FAIL_OPEN;
      db = hearth_store_get_db (store);
      if (!child_exec (db, "BEGIN IMMEDIATE"))
        return CHILD_FAIL_SQL;
      rc = sqlite3_prepare_v2 (db, "INSERT INTO c (who, seq, v) VALUES (?, ?, ?)", -1, &st, NULL);
      for (guint i = 0; i < k && rc == SQLITE_OK; i++)
        {
          gsize len = concurrent_value (r->who, seq + 1 + i, buf);

          sqlite3_bind_int (st, 1, r->who);
          sqlite3_bind_int64 (st, 2, seq + 1 + i);
          sqlite3_bind_blob (st, 3, buf, (int) len, SQLITE_TRANSIENT);
          rc = sqlite3_step (st);
          rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
          sqlite3_reset (st);
        }
      sqlite3_finalize (st);
      if (rc != SQLITE_OK)
        {
          child_complain ("insert: %s (%d)", sqlite3_errmsg (db), rc);
          return CHILD_FAIL_SQL;
        }
      if (!child_exec (db, "COMMIT"))
        return CHILD_FAIL_SQL;
      seq += k;

      /* Read back: our rows all there, some of them exactly; the other
       * process's rows never fewer than before. */
      {
        g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM c WHERE who = %u", r->who);
        n = child_query_int (db, sql);
        g_free (sql);
        sql = g_strdup_printf ("SELECT count(*) FROM c WHERE who != %u", r->who);
        now_others = child_query_int (db, sql);
      }
      if (n != seq || now_others < others)
        {
          child_complain ("read back %" G_GINT64_FORMAT " own rows of %" G_GINT64_FORMAT
                          ", %" G_GINT64_FORMAT " others after %" G_GINT64_FORMAT,
                          n, seq, now_others, others);
          return CHILD_FAIL_DATA;
        }
      others = now_others;
      if (sqlite3_prepare_v2 (db, "SELECT v FROM c WHERE who = ? AND seq = ?", -1, &st, NULL) != SQLITE_OK)
        return CHILD_FAIL_SQL;
      for (int i = 0; i < 3; i++)
        {
          gint64 pick = g_rand_int_range (rand, 1, (gint32) seq + 1);
          gsize len = concurrent_value (r->who, pick, buf);

          sqlite3_bind_int (st, 1, r->who);
          sqlite3_bind_int64 (st, 2, pick);
          rc = sqlite3_step (st);
          if (rc != SQLITE_ROW || (gsize) sqlite3_column_bytes (st, 0) != len ||
              memcmp (sqlite3_column_blob (st, 0), buf, len) != 0)
            {
              child_complain ("row %" G_GINT64_FORMAT ": rc %d, %s", pick, rc, sqlite3_errmsg (db));
              return CHILD_FAIL_DATA;
            }
          sqlite3_reset (st);
        }
      sqlite3_finalize (st);
      /* Checkpoints write page 1 while the other process may be reading
       * its header without a lock (P1). */
      if (g_rand_int_range (rand, 0, 3) == 0 && !child_exec (db, "PRAGMA wal_checkpoint(PASSIVE)"))
        return CHILD_FAIL_SQL;
      g_object_unref (store);
      loops++;
    }
  hearth_vfs_get_stats (&s);
  if (s.auth_failures != at_fork.auth_failures)
    {
      child_complain_auth (&at_fork);
      return CHILD_FAIL_AUTH;
    }
  /* Torn header reads at open (P1) are expected now and then: reported,
   * not failures. */
  if (!child_report (fd, seq) || !child_report (fd, loops) ||
      !child_report (fd, (gint64) (s.header_tears - at_fork.header_tears)))
    return CHILD_FAIL_PIPE;
  return 0;
}

/* Rewrites page 1 of the database file as fast as it can: a header field
 * changes in the WAL, then a checkpoint copies page 1 back, while the
 * reopeners read the header without a lock (P1). Reports its checkpoints. */
static int
page1_churner_child (gpointer data, int fd)
{
  Reopener *r = data;
  gint64 deadline = g_get_monotonic_time () + r->duration_us;
  HearthStore *store;
  HearthVfsStats s, at_fork;
  sqlite3 *db;
  guint i = 0;

  hearth_vfs_get_stats (&at_fork);
  test_log_reset ();
  store = child_open_store (r->dir, TEST_PASSPHRASE);
  if (store == NULL)
    return CHILD_FAIL_OPEN;
  db = hearth_store_get_db (store);
  /* Durability is not under test here; churn rate is. */
  if (!child_exec (db, "PRAGMA synchronous=OFF"))
    return CHILD_FAIL_SQL;
  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *sql = g_strdup_printf ("PRAGMA application_id=%u; PRAGMA wal_checkpoint(PASSIVE)",
                                              1 + i++ % 100000);

      if (!child_exec (db, sql))
        return CHILD_FAIL_SQL;
      /* SQLite's busy handler is not fair: leave the reopeners a gap to
       * take the write lock. */
      g_usleep (200);
    }
  g_object_unref (store);
  hearth_vfs_get_stats (&s);
  if (s.auth_failures != at_fork.auth_failures)
    {
      child_complain_auth (&at_fork);
      return CHILD_FAIL_AUTH;
    }
  if (!child_report (fd, i))
    return CHILD_FAIL_PIPE;
  return 0;
}

static void
test_concurrency (void)
{
  g_autoptr(GRand) rand = test_rand ();
  g_autofree char *dir = test_create_store ("concurrency", NULL);
  g_autoptr(HearthStore) store = NULL;
  Reopener jobs[2], churn_job;
  Child children[2], churner;
  gint64 total = 0;
  HearthVfsStats s, at_start;

  hearth_vfs_get_stats (&at_start);
  store = test_open_store (dir);
  test_exec (hearth_store_get_db (store),
             "CREATE TABLE c (who INTEGER NOT NULL, seq INTEGER NOT NULL, v BLOB NOT NULL, "
             "PRIMARY KEY (who, seq))");
  g_clear_object (&store);

  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      jobs[i] = (Reopener) { dir, i + 1, g_rand_int (rand), 5 * G_USEC_PER_SEC * soak, 1500 * soak };
      child_spawn (&children[i], reopener_child, &jobs[i]);
    }
  churn_job = (Reopener) { dir, 0, 0, 5 * G_USEC_PER_SEC * soak, 0 };
  child_spawn (&churner, page1_churner_child, &churn_job);
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      int status = child_wait (&children[i], 120 * soak);

      assert_status (status, "exited with 0");
      g_assert_cmpuint (children[i].reports->len, ==, 3);
      total += g_array_index (children[i].reports, gint64, 0);
      g_test_message ("process %u: %" G_GINT64_FORMAT " reopens, %" G_GINT64_FORMAT " rows, "
                      "%" G_GINT64_FORMAT " torn page-1 header reads at open answered with zeros (P1)",
                      i + 1, g_array_index (children[i].reports, gint64, 1),
                      g_array_index (children[i].reports, gint64, 0),
                      g_array_index (children[i].reports, gint64, 2));
      child_clear (&children[i]);
    }
  assert_status (child_wait (&churner, 120 * soak), "exited with 0");
  g_assert_cmpuint (churner.reports->len, ==, 1);
  g_test_message ("meanwhile page 1 was rewritten and checkpointed %" G_GINT64_FORMAT " times",
                  g_array_index (churner.reports, gint64, 0));
  child_clear (&churner);

  store = test_open_store (dir);
  {
    sqlite3 *db = hearth_store_get_db (store);
    g_autofree char *check = integrity (db);

    g_assert_cmpstr (check, ==, "ok");
    g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM c"), ==, total);
    for (guint who = 1; who <= 2; who++)
      {
        g_autofree char *sql = g_strdup_printf ("SELECT count(*) = max(seq) FROM c WHERE who = %u", who);
        g_assert_cmpint (test_query_int (db, sql), ==, 1);
      }
  }
  g_clear_object (&store);
  hearth_vfs_get_stats (&s);
  g_assert_cmpuint (s.auth_failures, ==, at_start.auth_failures);
}

/* ---- 8. rekey killed at each step --------------------------------------- */

static const char *const rekey_steps[] = {
  "rekey-slot", "rekey-vacuum", "rekey-swap", "rekey-swapped",
  "settle-copy-0", "settle-copy-1", "settle-rekey",
};

/* The steps after which the new database is in place. */
static gboolean
rekey_step_swapped (const char *step)
{
  return step != NULL && (g_str_equal (step, "rekey-swapped") || g_str_has_prefix (step, "settle-"));
}

typedef struct {
  const char *dir;
  const char *step;
} RekeyJob;

static int
rekey_child (gpointer data, int fd)
{
  RekeyJob *job = data;
  g_autoptr(HearthSecret) secret = test_secret (TEST_PASSPHRASE);
  g_autoptr(GError) error = NULL;

  kill_at_step = job->step;
  hearth_store_set_step_hook (kill_hook);
  if (!child_report (fd, 1))
    return CHILD_FAIL_PIPE;
  if (!hearth_store_rekey (job->dir, secret, &error))
    {
      child_complain ("rekey: %s", error->message);
      return CHILD_FAIL_API;
    }
  return 0;
}

#define REKEY_ROWS 300

static void
test_rekey_sigkill (void)
{
  g_autoptr(GRand) rand = test_rand ();
  g_autofree char *dir = create_store_with_table ("rekey");
  guint rounds = iterations (20);
  guint n_iter = 0, swaps = 0, random_kills = 0, completed = 0, leftover_tmp = 0, unexpected = 0;
  gint64 rekey_us;

  {
    g_autoptr(HearthStore) store = test_open_store (dir);
    sqlite3 *db = hearth_store_get_db (store);
    sqlite3_stmt *st = NULL;

    st = prepare_insert (db);
    test_exec (db, "BEGIN");
    g_assert_cmpint (insert_rows (st, 1, REKEY_ROWS), ==, SQLITE_OK);
    test_exec (db, "COMMIT");
    sqlite3_finalize (st);
  }
  /* A whole rekey, timed: it must change the file id and keep the rows. */
  {
    g_autoptr(GBytes) id_before = db_file_id (dir);
    g_autoptr(GBytes) id_after = NULL;
    RekeyJob job = { dir, NULL };
    Child child;
    gint64 start = g_get_monotonic_time ();

    child_spawn (&child, rekey_child, &job);
    assert_status (child_wait (&child, 60), "exited with 0");
    child_clear (&child);
    rekey_us = g_get_monotonic_time () - start;
    id_after = db_file_id (dir);
    g_assert_false (g_bytes_equal (id_before, id_after));
    g_test_message ("a rekey takes %" G_GINT64_FORMAT " us (with fork)", rekey_us);
  }

  for (guint round = 0; round < rounds; round++)
    for (guint s = 0; s <= G_N_ELEMENTS (rekey_steps); s++)
      for (guint rep = 0; rep < (s < G_N_ELEMENTS (rekey_steps) ? 1 : 4); rep++)
        {
          /* The last "step" is a kill at a random moment. */
          const char *step = s < G_N_ELEMENTS (rekey_steps) ? rekey_steps[s] : NULL;
          RekeyJob job = { dir, step };
          g_autoptr(GBytes) id_before = db_file_id (dir);
          g_autoptr(GBytes) id_after = NULL;
          g_autoptr(HearthStore) store = NULL;
          Child child;
          gint64 started;
          int status;

          child_spawn (&child, rekey_child, &job);
          if (step != NULL)
            status = child_wait (&child, 60);
          else
            {
              g_assert_true (child_read (&child, &started, 30000));
              random_sleep (rand, rekey_us * 12 / 10);
              status = child_kill (&child);
              random_kills++;
            }
          child_clear (&child);
          if (step == NULL && status_ok (status))
            completed++;
          else
            assert_status (status, "killed by SIGKILL");
          n_iter++;

          /* Before anything opens it: the old database up to the swap, the
           * new one from then on. */
          id_after = db_file_id (dir);
          if (step != NULL)
            g_assert_cmpint (g_bytes_equal (id_before, id_after), ==, !rekey_step_swapped (step));
          swaps += !g_bytes_equal (id_before, id_after);

          store = test_open_store (dir);
          assert_store_rows (hearth_store_get_db (store), REKEY_ROWS);
          g_assert_false (file_exists (dir, HEARTH_STORE_DB_NAME ".rekey"));
          g_assert_false (file_exists (dir, "keyslot.rekey"));
          assert_keyslot_copies_equal (dir);
          g_clear_object (&store);
          count_leftovers (dir, &leftover_tmp, &unexpected);
          g_assert_cmpuint (unexpected, ==, 0);
        }
  g_test_message ("%u iterations (%u killed at random, of which %u finished first); "
                  "the new database was in place after %u of them; a .tmp file was present after %u",
                  n_iter, random_kills, completed, swaps, leftover_tmp);
}

/* ---- 8b. opening or changing the passphrase during a rekey -------------- */

static void
stop_hook (const char *step)
{
  if (g_strcmp0 (step, kill_at_step) == 0)
    raise (SIGSTOP);
}

static int
rekey_stopping_child (gpointer data, int fd)
{
  RekeyJob *job = data;
  g_autoptr(HearthSecret) secret = test_secret (TEST_PASSPHRASE);
  g_autoptr(GError) error = NULL;

  kill_at_step = job->step;
  hearth_store_set_step_hook (stop_hook);
  if (!hearth_store_rekey (job->dir, secret, &error))
    {
      child_complain ("rekey: %s", error->message);
      return CHILD_FAIL_API;
    }
  return 0;
}

/* Another program (the app, hearth-cli status) may try to open the store
 * while a rekey runs. It must be turned away before it touches anything:
 * the unlock's settling would delete keyslot.rekey, the only slot of the
 * database about to be swapped in, and the store would be lost. */
static void
test_rekey_concurrent_open (void)
{
  static const char *const steps[] = { "rekey-slot", "rekey-vacuum", "rekey-swap", "rekey-swapped" };
  g_autofree char *dir = create_store_with_table ("rekey-concurrent");
  g_autoptr(HearthSecret) pass = test_secret (TEST_PASSPHRASE);
  g_autoptr(HearthSecret) other = test_secret (TEST_PASSPHRASE_2);

  {
    g_autoptr(HearthStore) store = test_open_store (dir);
    sqlite3_stmt *st = prepare_insert (hearth_store_get_db (store));

    g_assert_cmpint (insert_rows (st, 1, 50), ==, SQLITE_OK);
    sqlite3_finalize (st);
  }
  for (guint s = 0; s < G_N_ELEMENTS (steps); s++)
    {
      RekeyJob job = { dir, steps[s] };
      g_autoptr(GBytes) rekey_slot = NULL;
      g_autoptr(GBytes) slot0 = read_file (dir, "keyslot.0");
      g_autoptr(GBytes) slot0_after = NULL;
      g_autoptr(HearthStore) store = NULL;
      g_autoptr(GError) error = NULL;
      Child child;
      int status = 0;

      child_spawn (&child, rekey_stopping_child, &job);
      g_assert_cmpint (waitpid (child.pid, &status, WUNTRACED), ==, child.pid);
      g_assert_true (WIFSTOPPED (status));
      if (s > 0)
        rekey_slot = read_file (dir, "keyslot.rekey");

      store = hearth_store_open (dir, pass, &error);
      g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BUSY);
      g_assert_null (store);
      g_clear_error (&error);
      g_assert_false (hearth_store_change_passphrase (dir, pass, other, &error));
      g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BUSY);
      g_clear_error (&error);
      /* Nothing was touched. */
      if (s > 0)
        {
          g_autoptr(GBytes) rekey_slot_after = read_file (dir, "keyslot.rekey");

          g_assert_true (g_bytes_equal (rekey_slot, rekey_slot_after));
        }
      slot0_after = read_file (dir, "keyslot.0");
      g_assert_true (g_bytes_equal (slot0, slot0_after));

      g_assert_no_errno (kill (child.pid, SIGCONT));
      assert_status (child_wait (&child, 60), "exited with 0");
      child_clear (&child);
      store = test_open_store (dir);
      assert_store_rows (hearth_store_get_db (store), 50);
    }
  g_test_message ("%u rekeys stopped at %s ... %s, each with an open and a passphrase change "
                  "turned away", (guint) G_N_ELEMENTS (steps), steps[0], steps[G_N_ELEMENTS (steps) - 1]);
}

int
main (int argc, char **argv)
{
  const char *seed_text = g_getenv ("HEARTH_TEST_SEED");

  test_init (&argc, &argv);
  base_seed = seed_text != NULL ? (guint32) g_ascii_strtoull (seed_text, NULL, 10)
                                : (guint32) g_get_real_time () ^ (guint32) getpid ();
  if (g_strcmp0 (g_getenv ("HEARTH_SOAK"), "1") == 0)
    soak = 10;

  g_test_add_func ("/store/crash/wal-writer-sigkill", test_wal_writer_sigkill);
  g_test_add_func ("/store/crash/wal-torn-tail", test_wal_torn_tail);
  g_test_add_func ("/store/crash/wal-flip-indexed", test_wal_flip_indexed);
  g_test_add_func ("/store/crash/wal-flip-checkpoint-reopen", test_wal_flip_checkpoint_reopen);
  g_test_add_func ("/store/crash/wal-flip-reopen", test_wal_flip_reopen);
  g_test_add_func ("/store/crash/rollback-hot-journal", test_rollback_hot_journal);
  g_test_add_func ("/store/crash/passwd-sigkill", test_passwd_sigkill);
  g_test_add_func ("/store/crash/concurrency", test_concurrency);
  g_test_add_func ("/store/crash/rekey-sigkill", test_rekey_sigkill);
  g_test_add_func ("/store/crash/rekey-concurrent-open", test_rekey_concurrent_open);
  return g_test_run ();
}

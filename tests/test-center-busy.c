/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-center-busy.c: the center's 503 "busy" and the device's Retry-After
 * (sync/PROTOCOL.md sections 2 and 3), with a real center on 127.0.0.1 and
 * hearth-cli:
 *
 *   /center/busy/body-memory: a center started with the smallest
 *     `--body-memory` (16 MiB) whose budget two slow uploads hold answers
 *     a tablet's push 503 `busy` with `Retry-After: 5` before reading it,
 *     and stores nothing: `hearth-cli sync` exits 5 and the tablet is not
 *     synced. `hearth-cli sync --retry` waits at least Retry-After after
 *     such an answer (the uploads let go meanwhile) and then syncs: exit
 *     0, the center holds everything once.
 *   /center/busy/waiting: the group commit's bound on pushes waiting
 *     (HEARTH_CENTER_MAX_WAITING, 256). Through `serve` it is never
 *     reached: a waiting push holds one of the server's 128 push
 *     handlers, so at most 128 wait. It guards the center's
 *     core, which this subtest drives from 300 threads of its own on a
 *     real store file, while another connection holds the store's write
 *     lock: the writer takes one push (waiting for the lock), 256 wait, and each of
 *     the other 43 is answered at once 503 "busy" with Retry-After 5,
 *     nothing of it stored (no change, no nonce). Once the lock is
 *     released the 257 are committed, and the 43 sent again are stored:
 *     every push once.
 *   /center/busy/hand-over: the group commit's waking (center-sync.c,
 *     push_intake(), wait_for_group()), driven from threads of the test on a real store
 *     file while another connection holds its write lock: the writer takes one push
 *     (waiting for the lock), twelve of 2,000 changes wait behind it, one
 *     of which the store refuses (a trigger). None is answered while the
 *     lock is held; once it goes, every push is answered within two
 *     minutes (a push never woken, or a writer never woken, fails
 *     here rather than hanging), in groups of at most
 *     HEARTH_CENTER_GROUP_CHANGES one after another, and each
 *     push answered 200 finds all its changes committed (another
 *     connection reads them) the moment its answer comes back: none woken
 *     before its group committed. The refused push is answered 500 with
 *     nothing stored, the others of its group kept.
 *   /center/busy/group-state-refused: a group of four pushes of 20 new
 *     households each, one of which the store refuses as its records'
 *     rows are written (a trigger on record_state, in the middle of a
 *     statement of 16 rows: when its savepoint is released, or the
 *     group commits): only that push is answered 500, nothing of it
 *     stored; the other three are stored whole, each record's row once.
 *   /center/busy/group-memory-undone: the writer's memory of a push,
 *     reused from push to push (center-sync.c PushScratch), within one
 *     group: a push undone (the store refusing its last change) named a
 *     household and a member that the next push of the group sends under
 *     another household and village; the next push stores them as sent.
 *   /center/busy/push-waits-alone: a center serving with one connection
 *     thread (`--threads 1`) whose tablet's sync cannot write (the test
 *     holds the database's write lock) still answers another connection
 *     at once: a request waits for the store (a push for its group
 *     commit) on a handler thread, its connection suspended, not on the
 *     thread that serves the other connections (which, blocked, let them
 *     time out unanswered under load). Once the lock goes, the sync
 *     completes and the center holds the tablet's households.
 */
#include "test-center-util.h"

#include "center-store.h"
#include "center-sync.h"
#include "sign.h"

#include <sqlite3.h>
#include <string.h>

#define COUNTY "150422"

/* An upload that holds @declared bytes of the center's body budget: its
 * headers and a first piece of the body, then nothing until closed. */
static GSocketConnection *
hold_upload (Center *c, gsize declared)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  const char *host = c->base + strlen ("http://");
  g_autofree char *head = g_strdup_printf ("POST /v1/push HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                                           "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n{\"device_id\":",
                                           host, declared);
  GSocketConnection *conn = g_socket_client_connect_to_host (client, host, 0, NULL, &error);
  gsize written = 0;

  g_assert_no_error (error);
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), head, strlen (head),
                                            &written, NULL, &error));
  g_assert_no_error (error);
  return conn;
}

static guint
count_in_log (Center *c, const char *needle)
{
  g_autofree char *log = NULL;
  guint n = 0;

  g_assert_true (g_file_get_contents (c->log_path, &log, NULL, NULL));
  for (const char *p = strstr (log, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static void
test_body_memory (void)
{
  g_autoptr(Center) c = center_init ("busy-center", COUNTY);
  g_autofree char *registry = NULL;
  g_autoptr(GSocketConnection) first = NULL;
  g_autoptr(GSocketConnection) second = NULL;
  g_autoptr(GSubprocess) sync = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(TestTablet) t = { 0 };
  g_auto(TestRun) r = { 0 };
  const char *serve[] = { "--body-memory", "16", NULL };
  gint64 started, elapsed_ms, changes;

  c->serve_args = g_strdupv ((char **) serve);
  center_add_user (c, "w.busy", "worker", COUNTY);
  center_start (c);
  test_tablet_enrol (&t, "busy-tablet", c, "w.busy");
  registry = test_registry ("busy", COUNTY, 5, 3);
  test_tablet_cli (&r, &t, "household", "import", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);

  /* Two uploads of 8 MiB declared: the 16 MiB budget is taken. */
  first = hold_upload (c, 8 * 1024 * 1024);
  second = hold_upload (c, 8 * 1024 * 1024);
  g_usleep (300 * 1000);

  /* Without --retry: refused for now, nothing stored, not synced. */
  test_run_clear (&r);
  test_tablet_cli (&r, &t, "sync", NULL);
  g_assert_cmpint (r.status, ==, 5);
  g_assert_cmpuint (count_in_log (c, "POST /v1/push 503"), ==, 1);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, 0);
  g_assert_cmpint (test_tablet_int (&t, "SELECT value FROM sync_state WHERE key = 'acked_seq'"), ==, 0);
  test_run_clear (&r);
  test_tablet_cli (&r, &t, "sync", "--status", NULL);
  g_assert_null (strstr (r.out, "Synced"));

  /* With --retry: answered 503 again, the uploads let go at once, and
   * still the next try comes no sooner than Retry-After (5 s), where the
   * backoff alone would try again within a second. */
  {
    const char *argv[] = { g_getenv ("HEARTH_CLI"), "--data-dir", t.dir, "--passphrase-file", t.pass, "sync",
                           "--retry", "--time-limit", "120", NULL };
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                                         G_SUBPROCESS_FLAGS_STDERR_SILENCE);

    g_subprocess_launcher_setenv (launcher, "LANGUAGE", "en", TRUE);
    started = g_get_monotonic_time ();
    sync = g_subprocess_launcher_spawnv (launcher, argv, &error);
    g_assert_no_error (error);
  }
  for (int i = 0; i < 200 && count_in_log (c, "POST /v1/push 503") < 2; i++)
    g_usleep (50 * 1000);
  g_assert_cmpuint (count_in_log (c, "POST /v1/push 503"), ==, 2);
  g_io_stream_close (G_IO_STREAM (first), NULL, NULL);
  g_io_stream_close (G_IO_STREAM (second), NULL, NULL);
  g_assert_true (g_subprocess_wait (sync, NULL, &error));
  g_assert_no_error (error);
  elapsed_ms = (g_get_monotonic_time () - started) / 1000;
  g_assert_true (g_subprocess_get_if_exited (sync));
  g_assert_cmpint (g_subprocess_get_exit_status (sync), ==, 0);
  g_assert_cmpint (elapsed_ms, >=, 5000);
  g_assert_cmpuint (count_in_log (c, "POST /v1/push 200"), >=, 1);

  /* Everything once, acknowledged; a later sync sends nothing again. */
  changes = center_db_int (c, "SELECT count (*) FROM changes");
  g_assert_cmpint (changes, >, 0);
  g_assert_cmpint (test_tablet_int (&t, "SELECT value FROM sync_state WHERE key = 'acked_seq'"), ==,
                   center_db_int (c, "SELECT acked_seq FROM devices"));
  g_assert_cmpint (center_db_int (c, "SELECT count (DISTINCT record_id) FROM field_state WHERE tbl = 'households'"),
                   ==, 5);
  g_assert_cmpint (test_tablet_sync (&t), ==, 0);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, changes);
  test_run_clear (&r);
  test_tablet_cli (&r, &t, "sync", "--status", NULL);
  g_assert_nonnull (strstr (r.out, "Synced"));
  center_stop (c);
}

/* ---- 256 pushes waiting ------------------------------------------------------------ */

#define PUSHERS 300
#define VILLAGE COUNTY "001001"

typedef struct {
  HearthCenter *center;
  char *device;
  HearthSecret *key;
  char *household;
  char *body;
  HearthCenterReply *reply;
  gint *finished;
} Pusher;

/* Opens @c's store and enrols @n pushers of user "w.busy" in it (one
 * transaction): each given a device id, a key and @finished; their
 * devices named @name. Returns: (transfer full) the store. */
static HearthCenterStore *
store_with_pushers (Center *c, Pusher **pushers, guint n, gint *finished, const char *name)
{
  g_autoptr(HearthCenterStore) store = NULL;
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_autoptr(GError) error = NULL;

  center_add_user (c, "w.busy", "worker", COUNTY);
  store = hearth_center_store_open (c->db, FALSE, &error);
  g_assert_no_error (error);
  txn = hearth_center_store_begin (store, TRUE, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    {
      Pusher *p = pushers[i];

      p->key = center_txn_add_device (txn, "w.busy", name, &p->device);
      p->finished = finished;
    }
  g_assert_true (hearth_center_txn_commit (g_steal_pointer (&txn), &error));
  g_assert_no_error (error);
  return g_steal_pointer (&store);
}

/* One signed push of @p's batch, as the server would hand it over. */
static HearthCenterReply *
push_now (Pusher *p)
{
  g_autofree char *time = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / 1000);
  g_autofree char *nonce = hearth_sign_nonce ();
  g_autofree char *signature = hearth_sign_request (hearth_secret_peek (p->key), "POST", "/v1/push",
                                                    (const guint8 *) p->body, strlen (p->body), p->device,
                                                    g_ascii_strtoll (time, NULL, 10), nonce);
  HearthCenterRequest request = {
    .method = "POST",
    .target = "/v1/push",
    .device = p->device,
    .time = time,
    .nonce = nonce,
    .signature = signature,
    .body = (const guint8 *) p->body,
    .body_len = strlen (p->body),
  };

  return hearth_center_handle (p->center, &request);
}

static gpointer
pusher_main (gpointer data)
{
  Pusher *p = data;

  p->reply = push_now (p);
  g_atomic_int_inc (p->finished);
  return NULL;
}

static gint64
stored_of (Center *c, const char *table, const char *device)
{
  /* changes names a device by its number (0022-device-number.sql). */
  g_autofree char *sql = strcmp (table, "changes") == 0
                           ? g_strdup_printf ("SELECT count (*) FROM changes WHERE device = (SELECT num FROM "
                                              "device_numbers WHERE id = '%s')", device)
                           : g_strdup_printf ("SELECT count (*) FROM %s WHERE device_id = '%s'", table, device);

  return center_db_int (c, sql);
}

static void
test_waiting (void)
{
  g_autoptr(Center) c = center_init ("busy-waiting", COUNTY);
  g_autoptr(HearthCenterStore) store = NULL;
  g_autoptr(HearthCenter) center = NULL;
  g_autoptr(GError) error = NULL;
  Pusher pushers[PUSHERS] = { { 0 } };
  Pusher *each[PUSHERS];
  GThread *threads[PUSHERS] = { 0 };
  gint finished = 0;
  guint busy = 0, ok = 0;
  sqlite3 *db = NULL;

  for (guint i = 0; i < PUSHERS; i++)
    each[i] = &pushers[i];
  store = store_with_pushers (c, each, PUSHERS, &finished, "busy");
  for (guint i = 0; i < PUSHERS; i++)
    {
      Pusher *p = &pushers[i];
      g_autofree char *hlc = g_strdup_printf ("%015" G_GINT64_FORMAT "-%08x-%s", g_get_real_time () / 1000, 1u,
                                              p->device);

      p->household = g_uuid_string_random ();
      p->body = g_strdup_printf ("{\"device_id\": \"%s\", \"changes\": [{\"seq\": 1, \"kind\": \"edit\", "
                                 "\"table\": \"households\", \"id\": \"%s\", \"household\": \"%s\", "
                                 "\"village\": \"%s\", \"field\": \"head_name\", \"value\": \"Pusher %u\", "
                                 "\"hlc\": \"%s\", \"parents\": [], \"wall\": \"2026-11-30T08:00:00+08:00\"}]}",
                                 p->device, p->household, p->household, VILLAGE, i, hlc);
    }
  center = hearth_center_new (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < PUSHERS; i++)
    pushers[i].center = center;

  /* Another writer holds the store: the center's writer takes the first
   * push and waits for it (within the store's 30 s busy timeout). */
  g_assert_cmpint (sqlite3_open (c->db_path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  g_assert_cmpint (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
  threads[0] = g_thread_new ("pusher", pusher_main, &pushers[0]);
  g_usleep (500 * 1000);
  for (guint i = 1; i < PUSHERS; i++)
    threads[i] = g_thread_new ("pusher", pusher_main, &pushers[i]);

  /* 256 wait; the others are answered at once. */
  for (guint waited = 0; g_atomic_int_get (&finished) < PUSHERS - 1 - HEARTH_CENTER_MAX_WAITING && waited < 150;
       waited++)
    g_usleep (100 * 1000);
  g_usleep (500 * 1000);
  g_assert_cmpint (g_atomic_int_get (&finished), ==, PUSHERS - 1 - HEARTH_CENTER_MAX_WAITING);
  g_assert_cmpint (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  for (guint i = 0; i < PUSHERS; i++)
    g_thread_join (threads[i]);

  for (guint i = 0; i < PUSHERS; i++)
    {
      Pusher *p = &pushers[i];

      if (p->reply->status == 503)
        {
          g_autofree char *body = g_strndup (g_bytes_get_data (p->reply->body, NULL), g_bytes_get_size (p->reply->body));

          busy++;
          g_assert_nonnull (strstr (body, "\"busy\""));
          g_assert_cmpuint (p->reply->retry_after, ==, 5);
          /* Refused untouched: no change, no nonce, nothing acknowledged. */
          g_assert_cmpint (stored_of (c, "changes", p->device), ==, 0);
          g_assert_cmpint (stored_of (c, "nonces", p->device), ==, 0);
        }
      else
        {
          g_assert_cmpuint (p->reply->status, ==, 200);
          g_assert_cmpint (stored_of (c, "changes", p->device), ==, 1);
          ok++;
        }
    }
  g_assert_cmpuint (busy, ==, PUSHERS - 1 - HEARTH_CENTER_MAX_WAITING);
  g_assert_cmpuint (ok, ==, HEARTH_CENTER_MAX_WAITING + 1);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, ok);

  /* Sent again, the refused ones are stored; every push once. */
  for (guint i = 0; i < PUSHERS; i++)
    {
      Pusher *p = &pushers[i];

      if (p->reply->status == 503)
        {
          g_autoptr(HearthCenterReply) again = push_now (p);

          g_assert_cmpuint (again->status, ==, 200);
          g_assert_cmpint (stored_of (c, "changes", p->device), ==, 1);
        }
      hearth_center_reply_free (p->reply);
      hearth_secret_free (p->key);
      g_free (p->device);
      g_free (p->household);
      g_free (p->body);
    }
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, PUSHERS);
  g_assert_cmpint (center_db_int (c, "SELECT count (DISTINCT device) FROM changes"), ==, PUSHERS);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM devices WHERE acked_seq = 1"), ==, PUSHERS);
}

/* ---- groups one after another, and waking ----------------------------------------------------- */

#define HANDOVER_PUSHERS 13      /* the first push of one change, and twelve */
#define HANDOVER_CHANGES 2000    /* HEARTH_CENTER_MAX_CHANGES: a push's most */
#define HANDOVER_REFUSED 6       /* the push the store refuses */
/* More than one group takes (a push beyond HEARTH_CENTER_GROUP_CHANGES - 1) waits behind the first's. */
G_STATIC_ASSERT ((HANDOVER_PUSHERS - 1) * HANDOVER_CHANGES >= HEARTH_CENTER_GROUP_CHANGES + HANDOVER_CHANGES);
G_STATIC_ASSERT (HANDOVER_CHANGES <= HEARTH_CENTER_MAX_CHANGES);

/* A push of @changes edits of new households of @p's device, their ids
 * added to @ids. */
static char *
households_body (Pusher *p, guint changes, GPtrArray *ids)
{
  GString *b = g_string_new (NULL);
  gint64 ms = g_get_real_time () / 1000;

  g_string_append_printf (b, "{\"device_id\": \"%s\", \"changes\": [", p->device);
  for (guint i = 0; i < changes; i++)
    {
      char *hh = g_uuid_string_random ();

      g_ptr_array_add (ids, hh);
      g_string_append_printf (b, "%s{\"seq\": %u, \"kind\": \"edit\", \"table\": \"households\", "
                              "\"id\": \"%s\", \"household\": \"%s\", \"village\": \"%s\", "
                              "\"field\": \"head_name\", \"value\": \"Head %u\", "
                              "\"hlc\": \"%015" G_GINT64_FORMAT "-%08x-%s\", \"parents\": [], "
                              "\"wall\": \"2026-11-30T08:00:00+08:00\"}",
                              i == 0 ? "" : ", ", i + 1, hh, hh, VILLAGE, i, ms, i + 1, p->device);
    }
  g_string_append (b, "]}");
  return g_string_free (b, FALSE);
}

typedef struct {
  Pusher p;
  Center *c;
  guint changes;
  gint64 stored_at_reply;   /* its changes in the store when answered */
} HandOver;

static gpointer
hand_over_main (gpointer data)
{
  HandOver *h = data;

  h->p.reply = push_now (&h->p);
  /* Read at once, on a connection of its own: what the push's answer
   * says is committed must be there already. */
  h->stored_at_reply = stored_of (h->c, "changes", h->p.device);
  g_atomic_int_inc (h->p.finished);
  return NULL;
}

static void
test_hand_over (void)
{
  g_autoptr(Center) c = center_init ("busy-hand-over", COUNTY);
  g_autoptr(HearthCenterStore) store = NULL;
  g_autoptr(HearthCenter) center = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *refused_household = NULL;
  g_autofree char *trigger = NULL;
  HandOver pushers[HANDOVER_PUSHERS] = { { { 0 } } };
  Pusher *each[HANDOVER_PUSHERS];
  GThread *threads[HANDOVER_PUSHERS] = { 0 };
  GLogLevelFlags always_fatal;
  gint finished = 0;
  gint64 stored = 0;
  sqlite3 *db = NULL;

  for (guint i = 0; i < HANDOVER_PUSHERS; i++)
    each[i] = &pushers[i].p;
  store = store_with_pushers (c, each, HANDOVER_PUSHERS, &finished, "hand-over");
  for (guint i = 0; i < HANDOVER_PUSHERS; i++)
    {
      HandOver *h = &pushers[i];
      g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);

      h->c = c;
      h->changes = i == 0 ? 1 : HANDOVER_CHANGES;
      h->p.body = households_body (&h->p, h->changes, ids);
      if (i == HANDOVER_REFUSED)
        refused_household = g_strdup (ids->pdata[0]);
    }
  /* The store refuses one push's first change: its group fails and runs
   * again, each push in a savepoint, and only that push is refused. */
  trigger = g_strdup_printf ("CREATE TRIGGER full BEFORE INSERT ON changes WHEN NEW.record_id = '%s' "
                             "BEGIN SELECT RAISE (ABORT, 'database or disk is full'); END", refused_household);
  center_db_exec (c, trigger);
  center = hearth_center_new (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < HANDOVER_PUSHERS; i++)
    pushers[i].p.center = center;

  /* The refused push's 500 is logged, a warning: not fatal meanwhile. */
  test_log_reset ();
  always_fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK);
  g_assert_cmpint (sqlite3_open (c->db_path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  g_assert_cmpint (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
  threads[0] = g_thread_new ("leader", hand_over_main, &pushers[0]);
  g_usleep (500 * 1000);   /* the writer takes it, waiting for the lock */
  for (guint i = 1; i < HANDOVER_PUSHERS; i++)
    threads[i] = g_thread_new ("pusher", hand_over_main, &pushers[i]);
  g_usleep (1500 * 1000);
  /* Nothing committed: nothing answered. */
  g_assert_cmpint (g_atomic_int_get (&finished), ==, 0);
  g_assert_cmpint (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  for (guint waited = 0; g_atomic_int_get (&finished) < HANDOVER_PUSHERS; waited++)
    {
      if (waited == 1200)
        g_error ("%d of %d pushes answered in two minutes: a push was never woken", g_atomic_int_get (&finished),
                 HANDOVER_PUSHERS);
      g_usleep (100 * 1000);
    }
  for (guint i = 0; i < HANDOVER_PUSHERS; i++)
    g_thread_join (threads[i]);
  g_log_set_always_fatal (always_fatal);
  g_assert_true (test_log_contains ("database or disk is full"));

  for (guint i = 0; i < HANDOVER_PUSHERS; i++)
    {
      HandOver *h = &pushers[i];

      if (i == HANDOVER_REFUSED)
        {
          g_assert_cmpuint (h->p.reply->status, ==, 500);
          g_assert_cmpint (h->stored_at_reply, ==, 0);
          g_assert_cmpint (stored_of (c, "changes", h->p.device), ==, 0);
        }
      else
        {
          g_assert_cmpuint (h->p.reply->status, ==, 200);
          g_assert_cmpint (h->stored_at_reply, ==, h->changes);
          stored += h->changes;
        }
      hearth_center_reply_free (h->p.reply);
      hearth_secret_free (h->p.key);
      g_free (h->p.device);
      g_free (h->p.body);
    }
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, stored);
}

/* ---- a group one of whose pushes the store refuses when its states are written ---- */

#define STATE_PUSHERS 5         /* a first push of one change, and four in one group */
#define STATE_CHANGES 20        /* each a new household: a statement of 16 rows and four of one */
#define STATE_REFUSED 2         /* the push whose fifth household's row the store refuses */

/* A group of four pushes of 20 new households each, one of which the
 * store refuses when its new records' rows are written (the push's
 * savepoint released, or the group's commit: a trigger on record_state,
 * as a full disk would): the group's first run fails, it runs again push
 * by push, and only that push is refused (500, nothing of it stored);
 * the other three are answered 200 with their changes and their
 * records' rows stored, each once (center-sync.c commit_group()). */
static void
test_group_state_refused (void)
{
  g_autoptr(Center) c = center_init ("busy-state-refused", COUNTY);
  g_autoptr(HearthCenterStore) store = NULL;
  g_autoptr(HearthCenter) center = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *ids[STATE_PUSHERS] = { NULL };
  g_autofree char *trigger = NULL;
  Pusher pushers[STATE_PUSHERS] = { { 0 } };
  Pusher *each[STATE_PUSHERS];
  GThread *threads[STATE_PUSHERS] = { 0 };
  GLogLevelFlags always_fatal;
  gint finished = 0;
  gint64 stored = 0;
  sqlite3 *db = NULL;

  for (guint i = 0; i < STATE_PUSHERS; i++)
    each[i] = &pushers[i];
  store = store_with_pushers (c, each, STATE_PUSHERS, &finished, "state-refused");
  for (guint i = 0; i < STATE_PUSHERS; i++)
    {
      ids[i] = g_ptr_array_new_with_free_func (g_free);
      pushers[i].body = households_body (&pushers[i], i == 0 ? 1 : STATE_CHANGES, ids[i]);
    }
  trigger = g_strdup_printf ("CREATE TRIGGER full BEFORE INSERT ON record_state WHEN NEW.record_id = '%s' "
                             "BEGIN SELECT RAISE (FAIL, 'database or disk is full'); END",
                             (char *) ids[STATE_REFUSED]->pdata[4]);
  center_db_exec (c, trigger);
  center = hearth_center_new (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < STATE_PUSHERS; i++)
    pushers[i].center = center;

  test_log_reset ();
  always_fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK);
  g_assert_cmpint (sqlite3_open (c->db_path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  g_assert_cmpint (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
  threads[0] = g_thread_new ("leader", pusher_main, &pushers[0]);
  g_usleep (500 * 1000);   /* the writer takes it, waiting for the lock */
  for (guint i = 1; i < STATE_PUSHERS; i++)
    threads[i] = g_thread_new ("pusher", pusher_main, &pushers[i]);
  g_usleep (1000 * 1000);
  g_assert_cmpint (g_atomic_int_get (&finished), ==, 0);
  g_assert_cmpint (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  for (guint i = 0; i < STATE_PUSHERS; i++)
    g_thread_join (threads[i]);
  g_log_set_always_fatal (always_fatal);

  for (guint i = 0; i < STATE_PUSHERS; i++)
    {
      Pusher *p = &pushers[i];
      g_autofree char *sql = NULL;

      if (i == STATE_REFUSED)
        {
          g_assert_cmpuint (p->reply->status, ==, 500);
          g_assert_cmpint (stored_of (c, "changes", p->device), ==, 0);
        }
      else
        {
          g_assert_cmpuint (p->reply->status, ==, 200);
          g_assert_cmpint (stored_of (c, "changes", p->device), ==, ids[i]->len);
          stored += ids[i]->len;
        }
      /* Each of its households' rows once, or none. */
      for (guint j = 0; j < ids[i]->len; j++)
        {
          g_free (sql);
          sql = g_strdup_printf ("SELECT count (*) FROM record_state WHERE record_id = '%s'",
                                 (char *) ids[i]->pdata[j]);
          g_assert_cmpint (center_db_int (c, sql), ==, i == STATE_REFUSED ? 0 : 1);
        }
      hearth_center_reply_free (p->reply);
      hearth_secret_free (p->key);
      g_free (p->device);
      g_free (p->body);
    }
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, stored);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM record_state"), ==, stored);
  for (guint i = 0; i < STATE_PUSHERS; i++)
    g_ptr_array_unref (ids[i]);
}

/* ---- a group whose push undone names what the next push of it sends ---------------- */

#define VILLAGE_2 COUNTY "001002"

static char *
memory_change (const char *device, guint seq, const char *table, const char *id, const char *household,
               const char *village, const char *field, const char *value)
{
  return g_strdup_printf ("{\"seq\": %u, \"kind\": \"edit\", \"table\": \"%s\", \"id\": \"%s\", \"household\": \"%s\", "
                          "\"village\": \"%s\", \"field\": \"%s\", \"value\": \"%s\", "
                          "\"hlc\": \"%015" G_GINT64_FORMAT "-%08x-%s\", \"parents\": [], "
                          "\"wall\": \"2026-11-30T08:00:00+08:00\"}",
                          seq, table, id, household, village, field, value, g_get_real_time () / 1000 - 5000, seq,
                          device);
}

/* The writer's memory of a push (where the center has each household,
 * whose each record is: center-sync.c PushScratch, reused from push to
 * push) within one group: push A names household H in village 1 and
 * member M of H, then fails (a trigger on its last change) and is undone
 * as the group runs again push by push; push B, next in the same group,
 * sends M under H2 and H in village 2. The center holds nothing of H nor
 * M when B runs: M is stored under H2 and H in village 2, as if A had
 * never been. */
static void
test_group_memory_undone (void)
{
  g_autoptr(Center) c = center_init ("busy-memory-undone", COUNTY);
  g_autoptr(HearthCenterStore) store = NULL;
  g_autoptr(HearthCenter) center = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *hh = g_uuid_string_random ();
  g_autofree char *h2 = g_uuid_string_random ();
  g_autofree char *m = g_uuid_string_random ();
  g_autofree char *bad = g_uuid_string_random ();
  g_autofree char *other = g_uuid_string_random ();
  g_autofree char *trigger = NULL;
  Pusher pushers[3] = { { 0 } };
  GThread *threads[3] = { 0 };
  GLogLevelFlags always_fatal;
  gint finished = 0;
  sqlite3 *db = NULL;

  store = store_with_pushers (c, (Pusher *[]) { &pushers[0], &pushers[1], &pushers[2] }, 3, &finished,
                             "memory-undone");
  {
    g_autofree char *c1 = memory_change (pushers[0].device, 1, "households", other, other, VILLAGE, "phone", "0");
    g_autofree char *a1 = memory_change (pushers[1].device, 1, "households", hh, hh, VILLAGE, "phone", "1");
    g_autofree char *a2 = memory_change (pushers[1].device, 2, "members", m, hh, VILLAGE, "name", "Li");
    g_autofree char *a3 = memory_change (pushers[1].device, 3, "households", bad, bad, VILLAGE, "phone", "2");
    g_autofree char *b1 = memory_change (pushers[2].device, 1, "members", m, h2, VILLAGE_2, "name", "Wang");
    g_autofree char *b2 = memory_change (pushers[2].device, 2, "households", hh, hh, VILLAGE_2, "phone", "3");

    pushers[0].body = g_strdup_printf ("{\"device_id\": \"%s\", \"changes\": [%s]}", pushers[0].device, c1);
    pushers[1].body = g_strdup_printf ("{\"device_id\": \"%s\", \"changes\": [%s, %s, %s]}", pushers[1].device, a1, a2,
                                       a3);
    pushers[2].body = g_strdup_printf ("{\"device_id\": \"%s\", \"changes\": [%s, %s]}", pushers[2].device, b1, b2);
  }
  trigger = g_strdup_printf ("CREATE TRIGGER full BEFORE INSERT ON changes WHEN NEW.record_id = '%s' "
                             "BEGIN SELECT RAISE (ABORT, 'database or disk is full'); END", bad);
  center_db_exec (c, trigger);
  center = hearth_center_new (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    pushers[i].center = center;

  test_log_reset ();
  always_fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK);
  g_assert_cmpint (sqlite3_open (c->db_path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  g_assert_cmpint (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
  threads[0] = g_thread_new ("leader", pusher_main, &pushers[0]);
  g_usleep (500 * 1000);
  threads[1] = g_thread_new ("pusher", pusher_main, &pushers[1]);
  g_usleep (200 * 1000);   /* A before B in the group */
  threads[2] = g_thread_new ("pusher", pusher_main, &pushers[2]);
  g_usleep (500 * 1000);
  g_assert_cmpint (g_atomic_int_get (&finished), ==, 0);
  g_assert_cmpint (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  for (guint i = 0; i < 3; i++)
    g_thread_join (threads[i]);
  g_log_set_always_fatal (always_fatal);

  g_assert_cmpuint (pushers[0].reply->status, ==, 200);
  g_assert_cmpuint (pushers[1].reply->status, ==, 500);
  g_assert_cmpuint (pushers[2].reply->status, ==, 200);
  {
    g_autofree char *body = g_strndup (g_bytes_get_data (pushers[2].reply->body, NULL),
                                       g_bytes_get_size (pushers[2].reply->body));

    g_assert_nonnull (strstr (body, "\"refused\":[]"));
  }
  g_assert_cmpint (stored_of (c, "changes", pushers[1].device), ==, 0);
  g_assert_cmpint (stored_of (c, "changes", pushers[2].device), ==, 2);
  center_assert_places (c, m, h2, hh, VILLAGE_2);
  for (guint i = 0; i < 3; i++)
    {
      hearth_center_reply_free (pushers[i].reply);
      hearth_secret_free (pushers[i].key);
      g_free (pushers[i].device);
      g_free (pushers[i].body);
    }
}

static void
test_push_waits_alone (void)
{
  g_autoptr(Center) c = center_init ("alone-center", COUNTY);
  g_autofree char *registry = NULL;
  g_autoptr(GSubprocess) sync = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *status = NULL;
  g_auto(TestTablet) t = { 0 };
  g_auto(TestRun) r = { 0 };
  const char *serve[] = { "--threads", "1", NULL };
  sqlite3 *db = NULL;
  gint64 asked;

  c->serve_args = g_strdupv ((char **) serve);
  center_add_user (c, "w.alone", "worker", COUNTY);
  center_start (c);
  test_tablet_enrol (&t, "alone-tablet", c, "w.alone");
  registry = test_registry ("alone", COUNTY, 3, 4);
  test_tablet_cli (&r, &t, "household", "import", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);

  /* The center's writer lock, held: its push waits in SQLite's busy
   * handler (up to 30 s) for the commit. */
  g_assert_cmpint (sqlite3_open (c->db_path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  g_assert_cmpint (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
  {
    const char *argv[] = { g_getenv ("HEARTH_CLI"), "--data-dir", t.dir, "--passphrase-file", t.pass, "sync", NULL };
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                                         G_SUBPROCESS_FLAGS_STDERR_SILENCE);

    g_subprocess_launcher_setenv (launcher, "LANGUAGE", "en", TRUE);
    sync = g_subprocess_launcher_spawnv (launcher, argv, &error);
    g_assert_no_error (error);
  }
  /* The tablet's first request, the epoch, writes nothing (its nonce is
   * kept in memory: PROTOCOL.md section 4) and is answered while the lock
   * is held; the push after it waits for the lock. */
  for (guint i = 0; i < 600 && count_in_log (c, "GET /v1/epoch 200") == 0; i++)
    g_usleep (100 * 1000);
  g_assert_cmpuint (count_in_log (c, "GET /v1/epoch 200"), ==, 1);
  g_usleep (1500 * 1000);
  g_assert_cmpuint (count_in_log (c, "POST /v1/push"), ==, 0);

  /* Another connection is answered meanwhile (401: it is not signed). */
  asked = g_get_monotonic_time ();
  status = test_unsigned_get_status (c, 10);
  g_assert_true (g_str_has_prefix (status, "HTTP/1.1 401"));
  g_assert_cmpint ((g_get_monotonic_time () - asked) / 1000, <, 5000);
  g_assert_cmpuint (count_in_log (c, "POST /v1/push"), ==, 0);

  /* The lock let go, the push is stored and the tablet synced. */
  g_assert_cmpint (sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  g_assert_true (g_subprocess_wait (sync, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (sync));
  g_assert_cmpint (g_subprocess_get_exit_status (sync), ==, 0);
  g_assert_cmpuint (count_in_log (c, "POST /v1/push 200"), >=, 1);
  g_assert_cmpint (center_db_int (c, "SELECT count (DISTINCT record_id) FROM field_state WHERE tbl = 'households'"),
                   ==, 3);
  center_stop (c);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_assert_nonnull (g_getenv ("HEARTH_CENTER"));
  g_test_add_func ("/center/busy/body-memory", test_body_memory);
  g_test_add_func ("/center/busy/waiting", test_waiting);
  g_test_add_func ("/center/busy/hand-over", test_hand_over);
  g_test_add_func ("/center/busy/group-state-refused", test_group_state_refused);
  g_test_add_func ("/center/busy/group-memory-undone", test_group_memory_undone);
  g_test_add_func ("/center/busy/push-waits-alone", test_push_waits_alone);
  return g_test_run ();
}

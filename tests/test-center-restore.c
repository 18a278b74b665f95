/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-center-restore.c: a center restored from a backup older than the
 * tablets' last sync (sync/PROTOCOL.md section 12), with a real center
 * serving real tablets through hearth-cli:
 *
 *   /center/restore: two tablets sync, a backup is taken, both record
 *     more (one visits a household the other visited since, so its edit
 *     names a version the backup lacks) and sync; the center is stopped
 *     and the backup put in place of its store. Each tablet then finds the
 *     new epoch, numbers again what it made itself and pulls again from
 *     the restore point (and is not "synced" until the center holds its
 *     changes again): the center ends with exactly what it held before
 *     the restore (every change once, the same merged fields, submissions
 *     and audit entries; both audit chains whole; a review made after the
 *     backup, named only in its visit's audit entry, sent again), no
 *     tablet has a refused
 *     change, and a third tablet that did nothing after the backup sends
 *     nothing again.
 */
#include "test-center-util.h"
#include "sync-run.h"

#include <glib/gstdio.h>
#include <string.h>

#define COUNTY "150422"

/* What the center holds, as text: compared before and after the restore. */
static char *
center_state (Center *c)
{
  static const char *const queries[] = {
    "SELECT count (*) || ' changes' FROM changes",
    "SELECT group_concat (x, '|') FROM (SELECT tbl || ',' || record_id AS x FROM changes WHERE kind = 'record' "
    "ORDER BY 1)",
    "SELECT group_concat (x, '|') FROM (SELECT tbl || ',' || record_id || ',' || field || ',' || hlc AS x "
    "FROM changes WHERE kind = 'edit' ORDER BY 1)",
    "SELECT group_concat (x, '|') FROM (SELECT tbl || ',' || record_id || ',' || field || '=' || value || ',' || hlc "
    "AS x FROM field_state ORDER BY 1)",
    "SELECT group_concat (x, '|') FROM (SELECT tbl || ',' || record_id || ',' || field || ',' || loser_hlc AS x "
    "FROM conflicts ORDER BY 1)",
    "SELECT group_concat (x, '|') FROM (SELECT id || ',' || audit_seq || ',' || audit_hash || ',' || "
    "coalesce (audit_broken, 'whole') AS x FROM devices ORDER BY 1)",
  };
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (queries); i++)
    {
      g_autofree char *part = center_db_text (c, queries[i]);
      g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, part != NULL ? part : "", -1);

      /* Short enough to read when they differ: the query's number, its
       * first characters and a digest of the whole. */
      g_string_append_printf (s, "%u: %.40s… %s\n", i, part != NULL ? part : "", sum);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
visit (TestTablet *t, const char *household)
{
  g_autofree char *answers = test_source_path ("tests", "data", "answers", "visit-zh.json", NULL);
  g_auto(TestRun) r = { 0 };

  test_tablet_cli (&r, t, "visit", "record", "--form", "hearth_household_visit", "--answers", answers, "--household",
                   household, NULL);
  g_assert_cmpint (r.status, ==, 0);
}

static gint64
device_int (Center *c, const char *name, const char *column)
{
  g_autofree char *sql = g_strdup_printf ("SELECT %s FROM devices WHERE name = '%s'", column, name);

  return center_db_int (c, sql);
}

/* An upload that holds @declared bytes of the center's body budget (its
 * headers and a first piece of the body) until closed: pushes are answered
 * 503 "busy" meanwhile, as in test-center-busy.c. */
static GSocketConnection *
hold_upload (Center *c, gsize declared)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  const char *host = c->base + strlen ("http://");
  g_autofree char *head = g_strdup_printf ("POST /v1/push HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                                           "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n{",
                                           host, declared);
  GSocketConnection *conn = g_socket_client_connect_to_host (client, host, 0, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), head, strlen (head),
                                            NULL, NULL, &error));
  g_assert_no_error (error);
  return conn;
}

static void
test_restore (void)
{
  g_autoptr(Center) c = center_init ("restore-center", COUNTY);
  g_autofree char *dir = test_make_dir ("restore");
  g_autofree char *registry = NULL, *more = NULL;
  g_autofree char *backup = g_build_filename (dir, "center-backup.db", NULL);
  g_autofree char *wal = g_strconcat (c->db_path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (c->db_path, "-shm", NULL);
  g_autofree char *before = NULL, *after = NULL, *epoch_before = NULL, *epoch_backup = NULL;
  g_autofree char *h1 = NULL, *h2 = NULL, *h3 = NULL, *h4 = NULL;
  g_auto(TestTablet) a = { 0 };
  g_auto(TestTablet) b = { 0 };
  g_auto(TestTablet) quiet = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autoptr(GSocketConnection) first = NULL;
  g_autoptr(GSocketConnection) second = NULL;
  const char *serve[] = { "--body-memory", "16", NULL };
  gint64 acked_a, acked_b, acked_quiet, changes_quiet, households, reviews_backup;

  test_registries (dir, COUNTY, 5, 12, 6, &registry, &more);
  center_add_user (c, "w.a", "worker", COUNTY);
  center_add_user (c, "w.b", "worker", COUNTY);
  center_add_user (c, "w.q", "worker", COUNTY);
  center_start (c);
  test_tablet_enrol (&a, "restore-a", c, "w.a");
  test_tablet_enrol (&b, "restore-b", c, "w.b");
  test_tablet_enrol (&quiet, "restore-q", c, "w.q");

  /* Before the backup: A imports and visits, B and the quiet tablet visit. */
  test_run_clear (&r);
  test_tablet_cli (&r, &a, "household", "import", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);
  h1 = test_tablet_text (&a, "SELECT id FROM households ORDER BY id LIMIT 1");
  h2 = test_tablet_text (&a, "SELECT id FROM households ORDER BY id LIMIT 1 OFFSET 1");
  h3 = test_tablet_text (&a, "SELECT id FROM households ORDER BY id LIMIT 1 OFFSET 2");
  h4 = test_tablet_text (&a, "SELECT id FROM households ORDER BY id LIMIT 1 OFFSET 3");
  visit (&a, h1);
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  g_assert_cmpint (test_tablet_sync (&b), ==, 0);
  g_assert_cmpint (test_tablet_sync (&quiet), ==, 0);
  visit (&b, h2);
  visit (&quiet, h3);
  g_assert_cmpint (test_tablet_sync (&b), ==, 0);
  g_assert_cmpint (test_tablet_sync (&quiet), ==, 0);
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);

  test_run_clear (&r);
  run_center (&r, "--db", c->db, "backup", "--out", backup, NULL);
  g_assert_cmpint (r.status, ==, 0);
  {
    Center copy = { .db_path = backup };

    /* The copy is another epoch, restored at its last cursor. */
    epoch_before = center_db_text (c, "SELECT epoch FROM center_epoch");
    epoch_backup = center_db_text (&copy, "SELECT epoch FROM center_epoch");
    g_assert_cmpuint (strlen (epoch_backup), ==, 32);
    g_assert_cmpstr (epoch_before, !=, epoch_backup);
    g_assert_cmpint (center_db_int (&copy, "SELECT restore_cursor FROM center_epoch"), ==,
                     center_db_int (c, "SELECT max (cursor) FROM changes"));
    g_assert_cmpint (center_db_int (c, "SELECT restore_cursor FROM center_epoch"), ==, 0);
    reviews_backup = center_db_int (&copy, "SELECT count (*) FROM changes WHERE tbl = 'reviews'");
  }
  changes_quiet = center_db_int (c, "SELECT count (*) FROM changes c JOIN device_numbers n ON n.num = c.device JOIN devices d ON n.id = d.id "
                                    "WHERE d.name = 'restore-q'");
  acked_quiet = device_int (c, "restore-q", "acked_seq");

  /* After it: A imports more and visits; B visits h1 and h2, A pulls and
   * visits h2 again (its edits name B's versions), B pulls. */
  test_run_clear (&r);
  test_tablet_cli (&r, &a, "household", "import", more, NULL);
  g_assert_cmpint (r.status, ==, 0);
  visit (&b, h1);
  visit (&b, h2);
  g_assert_cmpint (test_tablet_sync (&b), ==, 0);
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  visit (&a, h2);
  /* A first visit finds a risk: a review the backup lacks, which only the
   * visit's one audit entry names as A's. */
  visit (&a, h4);
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  g_assert_cmpint (test_tablet_sync (&b), ==, 0);
  g_assert_cmpint (test_tablet_sync (&quiet), ==, 0);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes WHERE tbl = 'reviews'"), ==, reviews_backup + 1);
  g_assert_cmpint (test_tablet_int (&a, "SELECT count (*) FROM audit_log WHERE record_table = 'reviews'"), ==, 0);
  g_assert_cmpint (test_tablet_int (&a, "SELECT count (*) FROM audit_log WHERE record_table = 'submissions' "
                                        "AND instr (fields, ' households/') > 0 AND instr (fields, ' reviews/') > 0"),
                   >, 0);
  /* Its chain, entries of one user action each, verified at the center. */
  g_assert_cmpint (device_int (c, "restore-a", "audit_seq"), ==, test_tablet_int (&a, "SELECT max (seq) FROM audit_log"));
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM devices WHERE audit_broken IS NOT NULL"), ==, 0);
  households = center_db_int (c, "SELECT count (DISTINCT record_id) FROM field_state WHERE tbl = 'households'");
  g_assert_cmpint (households, ==, 18);
  before = center_state (c);
  acked_a = device_int (c, "restore-a", "acked_seq");
  acked_b = device_int (c, "restore-b", "acked_seq");

  /* The disaster: the store replaced by the backup. */
  center_stop (c);
  g_unlink (wal);
  g_unlink (shm);
  g_assert_cmpint (g_rename (backup, c->db_path), ==, 0);
  c->serve_args = g_strdupv ((char **) serve);
  center_restart (c);
  g_assert_cmpint (device_int (c, "restore-a", "acked_seq"), <, acked_a);
  g_assert_cmpint (device_int (c, "restore-b", "acked_seq"), <, acked_b);
  g_assert_cmpint (center_db_int (c, "SELECT count (DISTINCT record_id) FROM field_state WHERE tbl = 'households'"),
                   ==, 12);

  /* Offline, A cannot know. Once it meets the restored center it is not
   * synced until the center holds its changes again: here its push is
   * answered busy, and A says what waits. */
  test_run_clear (&r);
  test_tablet_cli (&r, &a, "sync", "--status", NULL);
  g_assert_nonnull (strstr (r.out, "Synced"));
  first = hold_upload (c, 8 * 1024 * 1024);
  second = hold_upload (c, 8 * 1024 * 1024);
  g_usleep (300 * 1000);
  g_assert_cmpint (test_tablet_sync (&a), ==, 5);
  g_io_stream_close (G_IO_STREAM (first), NULL, NULL);
  g_io_stream_close (G_IO_STREAM (second), NULL, NULL);
  test_run_clear (&r);
  test_tablet_cli (&r, &a, "sync", "--status", NULL);
  g_assert_null (strstr (r.out, "Synced"));
  g_assert_nonnull (strstr (r.out, "wait for the center"));
  g_assert_cmpint (test_tablet_int (&a, "SELECT value FROM sync_state WHERE key = 'acked_seq'"), ==,
                   device_int (c, "restore-a", "acked_seq"));

  /* A first: its visit of h2 names B's lost versions, which B sends after. */
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  g_assert_cmpint (test_tablet_sync (&b), ==, 0);
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  g_assert_cmpint (test_tablet_sync (&b), ==, 0);
  g_assert_cmpint (test_tablet_sync (&quiet), ==, 0);

  /* The center holds again exactly what it held: nothing lost, nothing
   * twice (a repeat would be a second row under one identity, which the
   * unique indexes refuse, or a count that grew). */
  after = center_state (c);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM devices WHERE audit_broken IS NOT NULL"), ==, 0);
  g_assert_cmpint (device_int (c, "restore-a", "audit_seq"), ==,
                   test_tablet_int (&a, "SELECT max (seq) FROM audit_log"));
  g_assert_cmpint (device_int (c, "restore-b", "audit_seq"), ==,
                   test_tablet_int (&b, "SELECT max (seq) FROM audit_log"));
  g_assert_cmpint (test_tablet_int (&a, "SELECT count (*) FROM sync_refused"), ==, 0);
  g_assert_cmpint (test_tablet_int (&b, "SELECT count (*) FROM sync_refused"), ==, 0);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM push_outcomes WHERE code IS NOT NULL"), ==, 0);
  /* The tablets know the new epoch and hold every household and visit. */
  {
    g_autofree char *known = test_tablet_text (&a, "SELECT value FROM sync_state WHERE key = 'center_epoch'");

    g_assert_cmpstr (known, ==, epoch_backup);
  }
  g_assert_cmpint (test_tablet_int (&b, "SELECT count (*) FROM households"), ==, 18);
  g_assert_cmpint (test_tablet_int (&quiet, "SELECT count (*) FROM households"), ==, 18);
  g_assert_cmpint (test_tablet_int (&a, "SELECT count (*) FROM submissions"), ==,
                   center_db_int (c, "SELECT count (*) FROM changes WHERE tbl = 'submissions'"));
  g_assert_cmpint (test_tablet_int (&quiet, "SELECT count (*) FROM submissions"), ==,
                   center_db_int (c, "SELECT count (*) FROM changes WHERE tbl = 'submissions'"));

  /* The quiet tablet had synced before the backup and made nothing since:
   * nothing of it is sent again or stored twice. */
  g_assert_cmpint (device_int (c, "restore-q", "acked_seq"), ==, acked_quiet);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes c JOIN device_numbers n ON n.num = c.device JOIN devices d ON n.id = d.id "
                                     "WHERE d.name = 'restore-q'"),
                   ==, changes_quiet);
  g_assert_cmpint (test_tablet_int (&quiet, "SELECT value FROM sync_state WHERE key = 'acked_seq'"), ==, acked_quiet);

  /* Synced again, and syncing more changes nothing. */
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  g_assert_cmpint (test_tablet_sync (&b), ==, 0);
  g_free (after);
  after = center_state (c);
  g_assert_cmpstr (after, ==, before);
  center_stop (c);
}

/* ---- restored between two requests of one run ------------------------------ */

/* An HTTP router in front of two centers: each connection carries one
 * request (it is forwarded with "Connection: close"), sent to the first
 * center until the router is switched, and from then on, after one more
 * request to the first, to the second. A restore between a tablet's
 * GET /v1/epoch and its push or pull, made repeatable. */
typedef struct {
  GSocketListener *listener;
  GCancellable *cancel;
  GThread *thread;
  char *url;
  char *first;           /* "127.0.0.1:PORT" */
  char *second;
  GMutex lock;
  gint before_switch;    /* requests still to the first; -1: all */
  gboolean alternate;    /* each request to the other center than the last */
  gboolean last_second;
  guint to_second;       /* requests sent to the second */
} Router;

static gboolean
read_exact (GInputStream *in, guint8 *buf, gsize len)
{
  gsize got = 0;

  return g_input_stream_read_all (in, buf, len, &got, NULL, NULL) && got == len;
}

static void
route_one (Router *rt, GSocketConnection *conn)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  g_autoptr(GString) head = g_string_new (NULL);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) up = NULL;
  g_autofree guint8 *body = NULL;
  const char *target, *cl;
  gsize length = 0;
  guint8 buf[65536];
  gssize n;

  while (!g_str_has_suffix (head->str, "\r\n\r\n"))
    {
      guint8 c;

      if (!read_exact (in, &c, 1))
        return;   /* curl closed a connection it kept for reuse */
      g_string_append_c (head, (char) c);
    }
  cl = strstr (head->str, "Content-Length:");
  if (cl == NULL)
    cl = strstr (head->str, "content-length:");
  if (cl != NULL)
    length = g_ascii_strtoull (cl + strlen ("Content-Length:"), NULL, 10);
  body = g_malloc (length + 1);
  g_assert_true (length == 0 || read_exact (in, body, length));
  g_string_truncate (head, head->len - 2);
  g_string_append (head, "Connection: close\r\n\r\n");

  g_mutex_lock (&rt->lock);
  if (rt->alternate)
    {
      rt->last_second = !rt->last_second;
      target = rt->last_second ? rt->second : rt->first;
      rt->to_second += rt->last_second;
    }
  else if (rt->before_switch == 0)
    {
      target = rt->second;
      rt->to_second++;
    }
  else
    {
      target = rt->first;
      if (rt->before_switch > 0)
        rt->before_switch--;
    }
  g_mutex_unlock (&rt->lock);

  up = g_socket_client_connect_to_host (client, target, 0, NULL, NULL);
  g_assert_nonnull (up);
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (up)), head->str, head->len,
                                            NULL, NULL, NULL));
  g_assert_true (length == 0 || g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (up)), body,
                                                           length, NULL, NULL, NULL));
  while ((n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (up)), buf, sizeof buf, NULL, NULL)) > 0)
    if (!g_output_stream_write_all (out, buf, (gsize) n, NULL, NULL, NULL))
      break;
  g_io_stream_close (G_IO_STREAM (up), NULL, NULL);
}

static gpointer
router_main (gpointer data)
{
  Router *rt = data;

  for (;;)
    {
      g_autoptr(GSocketConnection) conn = g_socket_listener_accept (rt->listener, NULL, rt->cancel, NULL);

      if (conn == NULL)
        return NULL;
      route_one (rt, conn);
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    }
}

static void
router_start (Router *rt, Center *first)
{
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  rt->listener = g_socket_listener_new ();
  rt->cancel = g_cancellable_new ();
  g_assert_true (g_socket_listener_add_address (rt->listener, addr, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                                &bound, &error));
  g_assert_no_error (error);
  rt->url = g_strdup_printf ("http://127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  rt->first = g_strdup (first->base + strlen ("http://"));
  rt->before_switch = -1;
  g_mutex_init (&rt->lock);
  rt->thread = g_thread_new ("router", router_main, rt);
}

static void
router_stop (Router *rt)
{
  g_cancellable_cancel (rt->cancel);
  g_thread_join (rt->thread);
  g_socket_listener_close (rt->listener);
  g_object_unref (rt->listener);
  g_object_unref (rt->cancel);
  g_mutex_clear (&rt->lock);
  g_free (rt->url);
  g_free (rt->first);
  g_free (rt->second);
}

/* The center is restored from its backup between a tablet's
 * GET /v1/epoch (answered by the center as it was) and the rest of its
 * run (answered by the restored one). The tablet had synced a visit
 * after the backup (lost with the restore), and had pulled many changes
 * of a tablet that never syncs again, so the restored center numbers a
 * third tablet's new visit (it met the restored center first) at cursors
 * the tablet had passed. Every reply of the restored center says its
 * epoch (Hearth-Epoch): the tablet takes none of them for the epoch it
 * knew, but meets the new epoch and starts its run again. The sync ends
 * synced, with the third tablet's visit (not skipped behind its old
 * cursor) and its own visit at the restored center once, nothing
 * refused. Before the header, the run pushed nothing (the old center had
 * acknowledged all), skipped the visit and said "Synced" while its own
 * visit was lost. */
static void
test_restore_mid_run (void)
{
  g_autoptr(Center) c = center_init ("midrun-center", COUNTY);
  g_autoptr(Center) restored = g_new0 (Center, 1);
  g_autofree char *dir = test_make_dir ("midrun");
  g_autofree char *registry = NULL, *more = NULL;
  g_autofree char *backup = g_build_filename (dir, "center-backup.db", NULL);
  g_autofree char *h1 = NULL, *h2 = NULL, *epoch_backup = NULL, *known = NULL;
  g_auto(TestTablet) t = { 0 };
  g_auto(TestTablet) lost = { 0 };
  g_auto(TestTablet) other = { 0 };
  g_auto(TestRun) r = { 0 };
  Router rt = { 0 };
  gint64 cursor_before, last_restored, submissions_t;

  test_registries (dir, COUNTY, 7, 6, 40, &registry, &more);
  center_add_user (c, "w.t", "worker", COUNTY);
  center_add_user (c, "w.lost", "worker", COUNTY);
  center_add_user (c, "w.o", "worker", COUNTY);
  center_start (c);
  router_start (&rt, c);
  test_tablet_enrol_at (&t, "midrun-t", c, "w.t", rt.url);
  test_tablet_enrol (&lost, "midrun-lost", c, "w.lost");
  test_tablet_enrol_at (&other, "midrun-o", c, "w.o", rt.url);

  test_tablet_cli (&r, &other, "household", "import", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);
  h1 = test_tablet_text (&other, "SELECT id FROM households ORDER BY id LIMIT 1");
  h2 = test_tablet_text (&other, "SELECT id FROM households ORDER BY id LIMIT 1 OFFSET 1");
  g_assert_cmpint (test_tablet_sync (&other), ==, 0);
  g_assert_cmpint (test_tablet_sync (&t), ==, 0);
  g_assert_cmpint (test_tablet_sync (&lost), ==, 0);

  test_run_clear (&r);
  run_center (&r, "--db", c->db, "backup", "--out", backup, NULL);
  g_assert_cmpint (r.status, ==, 0);

  /* After the backup: the lost tablet imports many households, and the
   * tablet visits and syncs (pulling them: its cursor passes the backup's
   * far). */
  test_run_clear (&r);
  test_tablet_cli (&r, &lost, "household", "import", more, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (test_tablet_sync (&lost), ==, 0);
  visit (&t, h1);
  g_assert_cmpint (test_tablet_sync (&t), ==, 0);
  cursor_before = test_tablet_int (&t, "SELECT value FROM sync_state WHERE key = 'cursor'");
  g_assert_cmpint (test_tablet_int (&t, "SELECT count (*) FROM households"), ==, 46);

  /* The backup restored, on another port (the center as it was still
   * answers the tablet's first request). The third tablet meets it first
   * and visits: the restored center numbers that visit below the
   * tablet's cursor. */
  restored->dir = g_strdup (dir);
  restored->db_path = g_build_filename (dir, "center.db", NULL);
  restored->db = g_strconcat ("sqlite:", restored->db_path, NULL);
  restored->log_path = g_build_filename (dir, "server.log", NULL);
  g_assert_cmpint (g_rename (backup, restored->db_path), ==, 0);
  epoch_backup = center_db_text (restored, "SELECT epoch FROM center_epoch");
  center_start (restored);
  rt.second = g_strdup (restored->base + strlen ("http://"));
  g_mutex_lock (&rt.lock);
  rt.before_switch = 0;     /* every request: the restored center */
  g_mutex_unlock (&rt.lock);
  visit (&other, h2);
  g_assert_cmpint (test_tablet_sync (&other), ==, 0);
  last_restored = center_db_int (restored, "SELECT max (cursor) FROM changes");
  g_assert_cmpint (last_restored, <, cursor_before);

  /* The tablet's run: its GET /v1/epoch to the center as it was, the
   * rest to the restored one. */
  g_mutex_lock (&rt.lock);
  rt.before_switch = 1;
  rt.to_second = 0;
  g_mutex_unlock (&rt.lock);
  test_run_clear (&r);
  test_tablet_cli (&r, &t, "sync", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpuint (rt.to_second, >, 0);
  test_run_clear (&r);
  test_tablet_cli (&r, &t, "sync", "--status", NULL);
  g_assert_nonnull (strstr (r.out, "Synced"));

  /* Nothing of the tablet lost or twice, nothing refused; the third
   * tablet's visit reached it. */
  submissions_t = test_tablet_int (&t, "SELECT count (*) FROM submissions");
  g_assert_cmpint (submissions_t, ==, 2);
  g_assert_cmpint (center_db_int (restored, "SELECT count (*) FROM changes WHERE tbl = 'submissions'"), ==, 2);
  g_assert_cmpint (center_db_int (restored, "SELECT count (*) FROM push_outcomes WHERE code IS NOT NULL"), ==, 0);
  g_assert_cmpint (test_tablet_int (&t, "SELECT count (*) FROM sync_refused"), ==, 0);
  {
    g_autofree char *sql = g_strdup_printf ("SELECT acked_seq FROM devices WHERE name = 'midrun-t'");

    g_assert_cmpint (center_db_int (restored, sql), ==,
                     test_tablet_int (&t, "SELECT value FROM sync_state WHERE key = 'acked_seq'"));
  }
  known = test_tablet_text (&t, "SELECT value FROM sync_state WHERE key = 'center_epoch'");
  g_assert_cmpstr (known, ==, epoch_backup);

  /* Both centers answering at the address in turn: each reply is of the
   * other epoch. The run starts again a few times, then says the epoch
   * kept changing (exit 5), and nothing is lost: the visit is still
   * pending or acknowledged, never dropped. */
  g_mutex_lock (&rt.lock);
  rt.alternate = TRUE;
  g_mutex_unlock (&rt.lock);
  visit (&t, h2);
  test_run_clear (&r);
  test_tablet_cli (&r, &t, "sync", NULL);
  g_assert_cmpint (r.status, ==, 5);
  {
    g_autofree char *said = g_strdup_printf ("the center's epoch changed %u times during this run: more than one "
                                             "center may be answering at %s", HEARTH_SYNC_EPOCH_RESTARTS + 1, rt.url);

    g_assert_nonnull (strstr (r.err, said));
  }
  g_assert_cmpint (test_tablet_int (&t, "SELECT count (*) FROM submissions"), ==, 3);
  /* One center again: the run ends synced, the visit at that center once. */
  g_mutex_lock (&rt.lock);
  rt.alternate = FALSE;
  rt.before_switch = 0;
  g_mutex_unlock (&rt.lock);
  test_run_clear (&r);
  test_tablet_cli (&r, &t, "sync", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (center_db_int (restored, "SELECT count (*) FROM changes WHERE tbl = 'submissions'"), ==, 3);
  router_stop (&rt);
  center_stop (restored);
  center_stop (c);
}

/* ---- a tablet enrolled after the backup ----------------------------------------- */

/* A tablet enrolled after the backup the center is restored from: the
 * restored center does not know its device id. Its sync is refused
 * `unknown-device` (exit 6), with a message that says what to do; the
 * tablet keeps everything. The operator issues a code for the tablet's
 * user, and `hearth-cli enrol --again --code CODE` enrols the same device
 * id and key again: a code of another user is refused unused
 * (`wrong-user`), and a center that knows the tablet refuses a second
 * time (`device-exists`). The next sync numbers everything the tablet made
 * again and sends it: the center holds the tablet's visits once, its
 * audit chain whole, nothing refused; another tablet receives them. */
static void
test_restore_enrolled_after (void)
{
  g_autoptr(Center) c = center_init ("after-center", COUNTY);
  g_autofree char *dir = test_make_dir ("after");
  g_autofree char *registry = NULL, *more = NULL;
  g_autofree char *backup = g_build_filename (dir, "center-backup.db", NULL);
  g_autofree char *wal = g_strconcat (c->db_path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (c->db_path, "-shm", NULL);
  g_autofree char *h1 = NULL, *h2 = NULL, *device = NULL, *wrong = NULL, *code = NULL, *again = NULL;
  g_autofree char *before = NULL, *after = NULL;
  g_auto(TestTablet) a = { 0 };
  g_auto(TestTablet) n = { 0 };
  g_auto(TestRun) r = { 0 };
  gint64 acked_n, changes_n;

  test_registries (dir, COUNTY, 11, 8, 2, &registry, &more);
  center_add_user (c, "w.a", "worker", COUNTY);
  center_add_user (c, "w.n", "worker", COUNTY);
  center_add_user (c, "w.x", "worker", COUNTY);
  center_start (c);
  test_tablet_enrol (&a, "after-a", c, "w.a");
  test_tablet_cli (&r, &a, "household", "import", registry, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  h1 = test_tablet_text (&a, "SELECT id FROM households ORDER BY id LIMIT 1");
  h2 = test_tablet_text (&a, "SELECT id FROM households ORDER BY id LIMIT 1 OFFSET 1");

  test_run_clear (&r);
  run_center (&r, "--db", c->db, "backup", "--out", backup, NULL);
  g_assert_cmpint (r.status, ==, 0);

  /* The new tablet: enrolled, pulls, visits twice, syncs. */
  test_tablet_enrol (&n, "after-n", c, "w.n");
  g_assert_cmpint (test_tablet_sync (&n), ==, 0);
  visit (&n, h1);
  visit (&n, h2);
  g_assert_cmpint (test_tablet_sync (&n), ==, 0);
  acked_n = device_int (c, "after-n", "acked_seq");
  g_assert_cmpint (acked_n, >, 0);
  changes_n = center_db_int (c, "SELECT count (*) FROM changes ch JOIN device_numbers n ON n.num = ch.device JOIN devices d ON n.id = d.id "
                                "WHERE d.name = 'after-n'");
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  before = center_state (c);
  device = test_tablet_text (&n, "SELECT value FROM store_meta WHERE key = 'device_id'");

  center_stop (c);
  g_unlink (wal);
  g_unlink (shm);
  g_assert_cmpint (g_rename (backup, c->db_path), ==, 0);
  center_restart (c);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM devices WHERE name = 'after-n'"), ==, 0);

  /* What happens without more: refused, told what to do, nothing lost. */
  test_run_clear (&r);
  test_tablet_cli (&r, &n, "sync", NULL);
  g_assert_cmpint (r.status, ==, 6);
  g_assert_nonnull (strstr (r.err, "not enrolled here"));
  g_assert_nonnull (strstr (r.err, "enrol this tablet again"));
  g_assert_nonnull (strstr (r.err, "user w.n"));
  g_assert_cmpint (test_tablet_int (&n, "SELECT count (*) FROM submissions"), ==, 2);

  /* A code of another user: refused, and not used. */
  wrong = center_enrol_code (c, "w.x");
  test_run_clear (&r);
  test_tablet_cli (&r, &n, "enrol", "--again", "--code", wrong, NULL);
  g_assert_cmpint (r.status, ==, 6);
  g_assert_nonnull (strstr (r.err, "w.x"));
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM enrol_codes WHERE used_at IS NOT NULL AND user = 'w.x'"),
                   ==, 0);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM devices WHERE name = 'after-n'"), ==, 0);

  /* The operator's code for the tablet's user. */
  code = center_enrol_code (c, "w.n");
  test_run_clear (&r);
  test_tablet_cli (&r, &n, "enrol", "--again", "--code", code, "--name", "after-n", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Enrolled again"));
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM devices WHERE id = '%s' AND user = 'w.n'", device);

    g_assert_cmpint (center_db_int (c, sql), ==, 1);
  }
  /* Known now: a second time is refused (sync instead). */
  again = center_enrol_code (c, "w.n");
  test_run_clear (&r);
  test_tablet_cli (&r, &n, "enrol", "--again", "--code", again, NULL);
  g_assert_cmpint (r.status, ==, 6);
  g_assert_nonnull (strstr (r.err, "enrolled already"));

  /* The sync sends everything the tablet made; the center holds it once. */
  g_assert_cmpint (test_tablet_sync (&n), ==, 0);
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  test_run_clear (&r);
  test_tablet_cli (&r, &n, "sync", "--status", NULL);
  g_assert_nonnull (strstr (r.out, "Synced"));
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes ch JOIN device_numbers n ON n.num = ch.device JOIN devices d ON n.id = d.id "
                                     "WHERE d.name = 'after-n'"),
                   ==, changes_n);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes WHERE tbl = 'submissions'"), ==, 2);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM push_outcomes WHERE code IS NOT NULL"), ==, 0);
  g_assert_cmpint (test_tablet_int (&n, "SELECT count (*) FROM sync_refused"), ==, 0);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM devices WHERE audit_broken IS NOT NULL"), ==, 0);
  g_assert_cmpint (device_int (c, "after-n", "audit_seq"), ==,
                   test_tablet_int (&n, "SELECT max (seq) FROM audit_log"));
  g_assert_cmpint (device_int (c, "after-n", "acked_seq"), ==,
                   test_tablet_int (&n, "SELECT value FROM sync_state WHERE key = 'acked_seq'"));
  g_assert_cmpint (test_tablet_int (&a, "SELECT count (*) FROM submissions"), ==, 2);
  g_assert_cmpint (test_tablet_int (&n, "SELECT count (*) FROM submissions"), ==, 2);
  /* The center holds again exactly what it held before the restore. */
  after = center_state (c);
  g_assert_cmpstr (after, ==, before);
  center_stop (c);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_assert_nonnull (g_getenv ("HEARTH_CENTER"));
  g_test_add_func ("/center/restore", test_restore);
  g_test_add_func ("/center/restore/mid-run", test_restore_mid_run);
  g_test_add_func ("/center/restore/enrolled-after", test_restore_enrolled_after);
  return g_test_run ();
}

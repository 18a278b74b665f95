/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-center-util.c: a real hearth-center for the tests (test-center-util.h). */
#include "test-center-util.h"

#include "center-store-sqlite.h"
#include "sign.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

void
run_centerv (TestRun *r, const char *const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;

  test_run_clear (r);   /* @r may hold an earlier run */
  g_ptr_array_add (argv, (char *) g_getenv ("HEARTH_CENTER"));
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_unsetenv (launcher, "HEARTH_CENTER_DB");
  g_subprocess_launcher_setenv (launcher, "LANGUAGE", "en", TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (proc, NULL, NULL, &r->out, &r->err, &error));
  g_assert_no_error (error);
  r->status = g_subprocess_get_exit_status (proc);
  g_test_message ("hearth-center %s -> %d\n%s%s", args[0] != NULL ? args[0] : "", r->status, r->out, r->err);
}

void
run_center (TestRun *r, const char *first, ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  run_centerv (r, (const char *const *) args->pdata);
}


guint
test_free_port (void)
{
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_socket_bind (sock, any, TRUE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (sock, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}


void
center_free (Center *c)
{
  if (c->server != NULL)
    {
      g_subprocess_send_signal (c->server, SIGKILL);
      g_subprocess_wait (c->server, NULL, NULL);
      g_object_unref (c->server);
    }
  if (c->shm_fd > 0)
    close (c->shm_fd);
  g_free (c->dir);
  g_free (c->db_path);
  g_free (c->db);
  g_free (c->key_path);
  g_free (c->base);
  g_free (c->ca_file);
  g_free (c->log_path);
  g_strfreev (c->serve_args);
  g_free (c);
}

void
center_add_user (Center *c, const char *name, const char *role, const char *scope)
{
  g_auto(TestRun) r = { 0 };

  run_center (&r, "--db", c->db, "user", "add", name, "--role", role, "--scope", scope, NULL);
  g_assert_cmpint (r.status, ==, 0);
}


Center *
center_init (const char *name, const char *county)
{
  Center *c = g_new0 (Center, 1);
  g_auto(TestRun) r = { 0 };

  c->dir = test_make_dir (name);
  c->db_path = g_build_filename (c->dir, "center.db", NULL);
  c->db = g_strconcat ("sqlite:", c->db_path, NULL);
  c->key_path = g_build_filename (c->dir, "county.key", NULL);
  c->log_path = g_build_filename (c->dir, "server.log", NULL);
  run_center (&r, "--db", c->db, "init", "--county", county, "--county-key-out", c->key_path, NULL);
  g_assert_cmpint (r.status, ==, 0);
  return c;
}

static size_t
discard (char *data, size_t size, size_t n, void *user)
{
  return size * n;
}

/* A server outlives no failed test: it dies with the test program. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* Whether the server still runs (GLib reaps it as soon as it exits). */
gboolean
center_running (Center *c)
{
  return g_subprocess_get_identifier (c->server) != NULL;
}

/* Starts the server on @port; with @cert and @key, on HTTPS. */
static void
center_start_on (Center *c, guint port, const char *cert, const char *key)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *listen = NULL;

  listen = g_strdup_printf ("127.0.0.1:%u", port);
  g_free (c->base);
  c->base = g_strdup_printf ("%s://%s", cert != NULL ? "https" : "http", listen);
  g_free (c->ca_file);
  c->ca_file = g_strdup (cert);
  g_ptr_array_add (argv, g_strdup (g_getenv ("HEARTH_CENTER")));
  g_ptr_array_add (argv, g_strdup ("--db"));
  g_ptr_array_add (argv, g_strdup (c->db));
  g_ptr_array_add (argv, g_strdup ("serve"));
  g_ptr_array_add (argv, g_strdup ("--listen"));
  g_ptr_array_add (argv, g_strdup (listen));
  g_ptr_array_add (argv, g_strdup ("--threads"));
  g_ptr_array_add (argv, g_strdup ("4"));
  if (cert != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--cert"));
      g_ptr_array_add (argv, g_strdup (cert));
      g_ptr_array_add (argv, g_strdup ("--key"));
      g_ptr_array_add (argv, g_strdup (key));
    }
  for (guint i = 0; c->serve_args != NULL && c->serve_args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (c->serve_args[i]));
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_setenv (launcher, "LANGUAGE", "en", TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_subprocess_launcher_set_stderr_file_path (launcher, c->log_path);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  c->server = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);

  /* Ready when it answers: an unsigned pull is refused with 401. */
  for (int i = 0; i < 500; i++)
    {
      CURL *curl = curl_easy_init ();
      g_autofree char *url = g_strconcat (c->base, "/v1/pull", NULL);
      long status = 0;

      curl_easy_setopt (curl, CURLOPT_URL, url);
      if (c->ca_file != NULL)
        curl_easy_setopt (curl, CURLOPT_CAINFO, c->ca_file);
      curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, discard);
      if (curl_easy_perform (curl) == CURLE_OK)
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_cleanup (curl);
      if (status == 401)
        return;
      g_assert_true (center_running (c));
      g_usleep (20 * 1000);
    }
  g_assert_not_reached ();
}

/* Starts the server; with @cert and @key, on HTTPS. */
void
center_start_full (Center *c, const char *cert, const char *key)
{
  center_start_on (c, test_free_port (), cert, key);
}

void
center_start (Center *c)
{
  center_start_full (c, NULL, NULL);
}

void
center_kill (Center *c)
{
  g_subprocess_send_signal (c->server, SIGKILL);
  g_assert_true (g_subprocess_wait (c->server, NULL, NULL));
  g_assert_true (g_subprocess_get_if_signaled (c->server));
  g_clear_object (&c->server);
}

void
center_restart_full (Center *c, const char *cert, const char *key)
{
  const char *colon = c->base != NULL ? strrchr (c->base, ':') : NULL;
  guint64 port = 0;

  g_assert_null (c->server);
  g_assert_nonnull (colon);
  g_assert_true (g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL));
  center_start_on (c, (guint) port, cert, key);
}

void
center_restart (Center *c)
{
  g_assert_null (c->ca_file);
  center_restart_full (c, NULL, NULL);
}

/* SIGTERM, and the exit status, which must be 0. */
void
center_stop (Center *c)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (c->server, SIGTERM);
  g_assert_true (g_subprocess_wait (c->server, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (c->server));
  g_assert_cmpint (g_subprocess_get_exit_status (c->server), ==, 0);
  g_clear_object (&c->server);
}

gint64
center_db_int (Center *c, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  gint64 v;

  g_assert_cmpint (sqlite3_open_v2 (c->db_path, &db, SQLITE_OPEN_READONLY, "unix"), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  g_assert_cmpint (hearth_center_store_sqlite_add_functions (db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  sqlite3_close (db);
  return v;
}

HearthSecret *
center_txn_add_device (HearthCenterTxn *txn, const char *user, const char *name, char **id)
{
  g_autoptr(GError) error = NULL;
  HearthCenterDevice device = { 0 };
  HearthSecret *key = hearth_sign_keypair (device.public_key);

  *id = g_uuid_string_random ();
  device.id = *id;
  device.user = (char *) user;
  device.name = (char *) name;
  device.enrolled_at = g_get_real_time () / 1000;
  g_assert_true (hearth_center_txn_add_device (txn, &device, &error));
  g_assert_no_error (error);
  return key;
}

/* The WAL index's header (the -shm file beside the store, native byte
 * order): mxFrame in the first copy of the header, nBackfill in the
 * checkpoint information after the two copies (SQLite's "WAL-mode File
 * Format", sections 2.1-2.2). */
CenterWalIndex
center_wal_index (Center *c)
{
  g_autofree char *shm = g_strconcat (c->db_path, "-shm", NULL);
  guint8 head[136];
  CenterWalIndex w = { 0 };
  GStatBuf now, open_st;

  /* Made anew (the last connection of a center gone): the old file's
   * descriptor holds no lock worth keeping. */
  g_assert_cmpint (g_stat (shm, &now), ==, 0);
  if (c->shm_fd > 0 && (fstat (c->shm_fd, &open_st) != 0 || open_st.st_ino != now.st_ino))
    {
      close (c->shm_fd);
      c->shm_fd = 0;
    }
  if (c->shm_fd == 0)
    c->shm_fd = open (shm, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (c->shm_fd, >, 0);
  g_assert_cmpint (pread (c->shm_fd, head, sizeof head, 0), ==, sizeof head);
  memcpy (&w.frames, head + 16, 4);
  memcpy (&w.copied, head + 96, 4);
  return w;
}

sqlite3 *
center_pin_wal (Center *c)
{
  for (guint attempt = 0; attempt < 100; attempt++)
    {
      sqlite3 *db = NULL;
      CenterWalIndex w;

      g_assert_cmpint (sqlite3_open (c->db_path, &db), ==, SQLITE_OK);
      sqlite3_busy_timeout (db, 10000);
      /* Frames of its own not copied yet (a row written twice, as it was:
       * SQLite writes no page for a row updated to what it holds), then
       * a snapshot begun on them: its read lock on the WAL (one taken only
       * while frames are uncopied) keeps any writer from starting it over. */
      g_assert_cmpint (sqlite3_exec (db,
                                     "BEGIN IMMEDIATE; UPDATE county SET created_at = created_at + 1; "
                                     "UPDATE county SET created_at = created_at - 1; COMMIT",
                                     NULL, NULL, NULL),
                       ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_exec (db, "BEGIN; SELECT count (*) FROM county", NULL, NULL, NULL), ==, SQLITE_OK);
      w = center_wal_index (c);
      if (w.copied < w.frames)
        return db;
      /* A checkpoint copied them first: the snapshot reads the database
       * alone and pins nothing. */
      sqlite3_close (db);
      g_usleep (10 * 1000);
    }
  g_assert_not_reached ();
}

char *
center_db_text (Center *c, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  char *v = NULL;

  g_assert_cmpint (sqlite3_open_v2 (c->db_path, &db, SQLITE_OPEN_READONLY, "unix"), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  g_assert_cmpint (hearth_center_store_sqlite_add_functions (db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  if (sqlite3_step (st) == SQLITE_ROW)
    v = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  sqlite3_close (db);
  return v;
}

void
center_assert_places (Center *c, const char *member_id, const char *household_id, const char *moved_id,
                      const char *village)
{
  g_autofree char *sql = g_strdup_printf ("SELECT household || ' ' || village FROM changes WHERE record_id = '%s'",
                                          member_id);
  g_autofree char *text = center_db_text (c, sql);
  g_autofree char *expected = g_strconcat (household_id, " ", village, NULL);
  g_autofree char *sql_moved = g_strdup_printf ("SELECT v.village FROM household_villages v "
                                                "JOIN record_state s ON s.rkey = v.hkey "
                                                "WHERE s.tbl = 'households' AND s.record_id = '%s'", moved_id);
  g_autofree char *moved = center_db_text (c, sql_moved);

  g_assert_cmpstr (text, ==, expected);
  g_assert_cmpstr (moved, ==, village);
}

void
center_db_exec (Center *c, const char *sql)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (c->db_path, &db, SQLITE_OPEN_READWRITE, "unix"), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  /* The keys of the change log (0011-change-key.sql), for a test that
   * writes changes by hand. */
  g_assert_cmpint (hearth_center_store_sqlite_add_functions (db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

void
center_back_to_25 (Center *c)
{
  /* The digests' CHECKs as before 0026: 64 digits. Those of SipHash (32)
   * cannot become BLAKE2b's here (their text is gone): NULL, as a change
   * stored before 0008 had, whose repeat is then a repeat unchecked
   * (test_migrate_digest() makes BLAKE2b's own). */
  center_db_exec (c, "UPDATE changes SET digest = NULL WHERE length (digest) = 32; "
                     "UPDATE push_outcomes SET digest = NULL WHERE length (digest) = 32; "
                     "PRAGMA writable_schema = ON; "
                     "UPDATE sqlite_schema SET sql = replace (sql, 'length (digest) = 32 OR length (digest) = 64', "
                     "'length (digest) = 64') WHERE type = 'table' AND (name = 'changes' OR name = 'push_outcomes'); "
                     "PRAGMA writable_schema = RESET; "
                     "PRAGMA user_version = 25");
}

void
center_back_to_24 (Center *c)
{
  center_back_to_25 (c);
  /* Every record under the key 0017 gave it (the top 48 bits of the
   * identity's hash, hearth_change_key () without a field, whose >> is
   * arithmetic: masked), ids of version 7 too. */
  center_db_exec (c, "UPDATE record_state SET idkey = (hearth_change_key (tbl, record_id, NULL) >> 16) "
                     "& 281474976710655; "
                     "UPDATE changes SET vkey = (hearth_change_key (tbl, record_id, NULL) >> 16) & 281474976710655 "
                     "WHERE kind = 'record'; "
                     "PRAGMA user_version = 24");
}

void
center_back_to_23 (Center *c)
{
  center_back_to_24 (c);
  /* The village index over every change, those without a village too. */
  center_db_exec (c, "DROP INDEX changes_by_village; "
                     "CREATE INDEX changes_by_village ON changes (village, cursor); "
                     "PRAGMA user_version = 23");
}

void
center_back_to_22 (Center *c)
{
  center_back_to_23 (c);
  /* changes' CHECKs as 0022 wrote them (0023 rewrote them in its
   * schema text). */
  center_db_exec (c, "DROP TABLE published_cursors; "
                     "CREATE INDEX changes_published ON changes (cursor) WHERE tbl = 'forms' "
                     "OR tbl = 'thresholds' OR tbl = 'divisions'; "
                     "PRAGMA writable_schema = ON; "
                     "UPDATE sqlite_schema SET sql = replace (replace (sql, 'kind TEXT NOT NULL,', "
                     "'kind TEXT NOT NULL CHECK (kind = ''edits'' OR kind = ''record'' OR kind = ''edit''),'), "
                     "'  CHECK ((kind = ''edits'' AND fields IS NOT NULL AND fields >= '''' AND fields < x'''' "
                     "AND hlc IS NOT NULL\n"
                     "          AND field IS NULL AND value IS NULL AND parents IS NULL)\n"
                     "         OR (kind = ''record'' AND fields IS NOT NULL AND fields >= '''' AND field IS NULL "
                     "AND hlc IS NULL\n"
                     "             AND value IS NULL)\n"
                     "         OR (kind = ''edit'' AND fields IS NULL AND field IS NOT NULL AND hlc IS NOT NULL "
                     "AND parents IS NOT NULL\n"
                     "             AND value IS NOT NULL)),\n', "
                     "'  CHECK (fields IS NULL OR (fields >= '''' AND (fields < x'''' OR kind = ''record''))),\n"
                     "  CHECK (kind <> ''edit'' OR (field IS NOT NULL AND hlc IS NOT NULL AND parents IS NOT NULL\n"
                     "                            AND value IS NOT NULL AND fields IS NULL)),\n"
                     "  CHECK (kind <> ''record'' OR (fields IS NOT NULL AND field IS NULL AND hlc IS NULL "
                     "AND value IS NULL)),\n"
                     "  CHECK (kind <> ''edits'' OR (fields IS NOT NULL AND hlc IS NOT NULL AND field IS NULL "
                     "AND value IS NULL\n"
                     "                             AND parents IS NULL)),\n') "
                     "WHERE type = 'table' AND name = 'changes'; "
                     "PRAGMA writable_schema = RESET; "
                     "PRAGMA user_version = 22");
}

void
center_back_to_21 (Center *c)
{
  center_back_to_22 (c);
  center_db_exec (c, "PRAGMA defer_foreign_keys = ON; "
                     "DROP VIEW all_push_outcomes; DROP VIEW field_state; "
                     "CREATE TABLE changes_copy AS SELECT c.*, d.id AS device_id FROM changes c "
                     "JOIN device_numbers d ON d.num = c.device; DROP TABLE changes; "
                     "CREATE TABLE changes (cursor INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, "
                     "seq INTEGER NOT NULL, kind TEXT NOT NULL CHECK (kind = 'edit' OR kind = 'record' "
                     "OR kind = 'edits'), tbl TEXT NOT NULL, record_id TEXT NOT NULL, field TEXT, hlc TEXT, "
                     "parents TEXT, household TEXT, village TEXT, value TEXT, fields ANY, wall TEXT, "
                     "received_at INTEGER NOT NULL, digest TEXT CHECK (digest IS NULL OR length (digest) = 64), "
                     "ikey INTEGER, vkey INTEGER, UNIQUE (device_id, seq), "
                     "CHECK (fields IS NULL OR typeof (fields) = 'text' OR (typeof (fields) = 'blob' "
                     "AND kind = 'record')), "
                     "CHECK (kind <> 'edit' OR (field IS NOT NULL AND hlc IS NOT NULL AND parents IS NOT NULL "
                     "AND value IS NOT NULL AND fields IS NULL)), "
                     "CHECK (kind <> 'record' OR (fields IS NOT NULL AND field IS NULL AND hlc IS NULL "
                     "AND value IS NULL)), "
                     "CHECK (kind <> 'edits' OR (fields IS NOT NULL AND hlc IS NOT NULL AND field IS NULL "
                     "AND value IS NULL AND parents IS NULL)), "
                     "CHECK (tbl = 'audit' OR tbl = 'forms' OR tbl = 'thresholds' OR tbl = 'divisions' "
                     "OR (household IS NOT NULL AND village IS NOT NULL)), "
                     "CHECK ((tbl <> 'forms' AND tbl <> 'thresholds' AND tbl <> 'divisions') "
                     "OR (kind = 'record' AND household IS NULL AND village IS NULL AND device_id = 'center'))) "
                     "STRICT; "
                     "INSERT INTO changes (cursor, device_id, seq, kind, tbl, record_id, field, hlc, parents, "
                     "household, village, value, fields, wall, received_at, digest, ikey, vkey) "
                     "SELECT cursor, device_id, seq, kind, tbl, record_id, field, hlc, parents, household, village, "
                     "value, fields, wall, received_at, digest, ikey, vkey FROM changes_copy ORDER BY cursor; "
                     "DROP TABLE changes_copy; DROP TABLE device_numbers; "
                     "CREATE INDEX changes_by_village ON changes (village, cursor); "
                     "CREATE INDEX changes_by_key ON changes (ikey, vkey) WHERE ikey IS NOT NULL; "
                     "CREATE INDEX changes_record_key ON changes (vkey) WHERE kind = 'record'; "
                     "CREATE INDEX changes_published ON changes (cursor) WHERE tbl = 'forms' "
                     "OR tbl = 'thresholds' OR tbl = 'divisions'; "
                     "CREATE VIEW all_push_outcomes AS SELECT device_id, seq, cursor, code, message, original_hlc, "
                     "clamped_hlc, digest FROM push_outcomes UNION ALL SELECT c.device_id, c.seq, c.cursor, NULL, "
                     "NULL, NULL, NULL, c.digest FROM changes c WHERE c.device_id <> 'center' AND NOT EXISTS ("
                     "SELECT 1 FROM push_outcomes o WHERE o.device_id = c.device_id AND o.seq = c.seq); "
                     "CREATE VIEW field_state (tbl, record_id, field, value, hlc, heads) AS SELECT r.tbl, "
                     "r.record_id, j.key, j.value ->> 0, c.hlc, coalesce (j.value ->> 2, CAST (j.value ->> 1 AS "
                     "TEXT)) FROM record_state r, json_each (r.state) j LEFT JOIN changes c "
                     "ON c.cursor = j.value ->> 1; "
                     "PRAGMA user_version = 21");
}

void
center_back_to_18 (Center *c)
{
  center_back_to_21 (c);
  center_db_exec (c, "PRAGMA defer_foreign_keys = ON; "
                     "DROP VIEW all_push_outcomes; DROP VIEW field_state; "
                     "CREATE TABLE changes_seq AS SELECT seq FROM sqlite_sequence WHERE name = 'changes'; "
                     "CREATE TABLE changes_copy AS SELECT * FROM changes; DROP TABLE changes; "
                     "CREATE TABLE changes (cursor INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, "
                     "seq INTEGER NOT NULL, kind TEXT NOT NULL CHECK (kind = 'edit' OR kind = 'record' "
                     "OR kind = 'edits'), tbl TEXT NOT NULL, record_id TEXT NOT NULL, field TEXT, hlc TEXT, "
                     "parents TEXT, household TEXT, village TEXT, value TEXT, fields TEXT, wall TEXT, "
                     "received_at INTEGER NOT NULL, digest TEXT CHECK (digest IS NULL OR length (digest) = 64), "
                     "ikey INTEGER, vkey INTEGER, UNIQUE (device_id, seq), "
                     "CHECK (kind <> 'edit' OR (field IS NOT NULL AND hlc IS NOT NULL AND parents IS NOT NULL "
                     "AND value IS NOT NULL AND fields IS NULL)), "
                     "CHECK (kind <> 'record' OR (fields IS NOT NULL AND field IS NULL AND hlc IS NULL "
                     "AND value IS NULL)), "
                     "CHECK (kind <> 'edits' OR (fields IS NOT NULL AND hlc IS NOT NULL AND field IS NULL "
                     "AND value IS NULL AND parents IS NULL)), "
                     "CHECK (tbl = 'audit' OR tbl = 'forms' OR tbl = 'thresholds' OR tbl = 'divisions' "
                     "OR (household IS NOT NULL AND village IS NOT NULL)), "
                     "CHECK ((tbl <> 'forms' AND tbl <> 'thresholds' AND tbl <> 'divisions') "
                     "OR (kind = 'record' AND household IS NULL AND village IS NULL AND device_id = 'center'))) "
                     "STRICT; "
                     "INSERT INTO changes SELECT cursor, device_id, seq, kind, tbl, record_id, field, hlc, parents, "
                     "household, village, value, hearth_fields (fields), wall, received_at, digest, ikey, vkey "
                     "FROM changes_copy ORDER BY cursor; DROP TABLE changes_copy; "
                     "DELETE FROM sqlite_sequence WHERE name = 'changes'; "
                     "INSERT INTO sqlite_sequence (name, seq) SELECT 'changes', max (coalesce ((SELECT seq "
                     "FROM changes_seq), 0), coalesce ((SELECT max (cursor) FROM changes), 0)); "
                     "DROP TABLE changes_seq; "
                     "CREATE INDEX changes_by_village ON changes (village, cursor); "
                     "CREATE INDEX changes_by_received ON changes (tbl, received_at); "
                     "CREATE INDEX changes_by_key ON changes (ikey, vkey) WHERE ikey IS NOT NULL; "
                     "CREATE INDEX changes_record_key ON changes (vkey) WHERE kind = 'record'; "
                     "CREATE VIEW all_push_outcomes AS SELECT device_id, seq, cursor, code, message, original_hlc, "
                     "clamped_hlc, digest FROM push_outcomes UNION ALL SELECT c.device_id, c.seq, c.cursor, NULL, "
                     "NULL, NULL, NULL, c.digest FROM changes c WHERE c.device_id <> 'center' AND NOT EXISTS ("
                     "SELECT 1 FROM push_outcomes o WHERE o.device_id = c.device_id AND o.seq = c.seq); "
                     "CREATE VIEW field_state (tbl, record_id, field, value, hlc, heads) AS SELECT r.tbl, "
                     "r.record_id, j.key, j.value ->> 0, c.hlc, coalesce (j.value ->> 2, CAST (j.value ->> 1 AS "
                     "TEXT)) FROM record_state r, json_each (r.state) j LEFT JOIN changes c "
                     "ON c.cursor = j.value ->> 1; "
                     "DROP TABLE IF EXISTS change_receipts; PRAGMA user_version = 18");
}

char *
center_enrol_code (Center *c, const char *user)
{
  g_auto(TestRun) r = { 0 };

  run_center (&r, "--db", c->db, "enrol-code", user, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_str_has_suffix (r.out, "\n"));
  return g_strndup (r.out, strlen (r.out) - 1);
}

/* ---- tablets -------------------------------------------------------------------- */

void
test_tablet_clear (TestTablet *t)
{
  g_clear_pointer (&t->dir, g_free);
  g_clear_pointer (&t->pass, g_free);
}

static void
tablet_cli_valist (TestRun *r, TestTablet *t, const char *const *env, const char *first, va_list ap)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  g_ptr_array_add (args, (char *) "--data-dir");
  g_ptr_array_add (args, t->dir);
  g_ptr_array_add (args, (char *) "--passphrase-file");
  g_ptr_array_add (args, t->pass);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  g_ptr_array_add (args, NULL);
  test_run_clear (r);
  test_run_cliv (r, env, (const char *const *) args->pdata);
}

void
test_tablet_cli (TestRun *r, TestTablet *t, const char *first, ...)
{
  va_list ap;

  va_start (ap, first);
  tablet_cli_valist (r, t, NULL, first, ap);
  va_end (ap);
}

void
test_tablet_cli_env (TestRun *r, TestTablet *t, const char *const *env, const char *first, ...)
{
  va_list ap;

  va_start (ap, first);
  tablet_cli_valist (r, t, env, first, ap);
  va_end (ap);
}

void
test_tablet_enrol (TestTablet *t, const char *name, Center *c, const char *user)
{
  test_tablet_enrol_at (t, name, c, user, NULL);
}

void
test_tablet_init (TestTablet *t, const char *name)
{
  g_autofree char *base = test_make_dir (name);
  g_auto(TestRun) r = { 0 };

  t->dir = g_build_filename (base, "store", NULL);
  t->pass = g_build_filename (base, "pass", NULL);
  g_assert_true (g_file_set_contents (t->pass, "correct horse battery\n", -1, NULL));
  g_assert_cmpint (g_chmod (t->pass, 0600), ==, 0);
  test_tablet_cli (&r, t, "init", "--kdf", "test", NULL);
  g_assert_cmpint (r.status, ==, 0);
}

void
test_tablet_enrol_at (TestTablet *t, const char *name, Center *c, const char *user, const char *url)
{
  g_autofree char *code = center_enrol_code (c, user);
  g_auto(TestRun) r = { 0 };

  test_tablet_init (t, name);
  test_tablet_cli (&r, t, "enrol", "--center", url != NULL ? url : c->base, "--code", code, "--name", name, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, user));
}

int
test_tablet_sync (TestTablet *t)
{
  g_auto(TestRun) r = { 0 };

  test_tablet_cli (&r, t, "sync", NULL);
  return r.status;
}

char *
test_tablet_text (TestTablet *t, const char *sql)
{
  g_autoptr(HearthSecret) pass = hearth_secret_read_passphrase_file (t->pass, NULL);
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *st = NULL;
  char *v = NULL;

  store = hearth_store_open (t->dir, pass, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_prepare_v2 (hearth_store_get_db (store), sql, -1, &st, NULL), ==, SQLITE_OK);
  if (sqlite3_step (st) == SQLITE_ROW)
    v = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return v;
}

gint64
test_tablet_int (TestTablet *t, const char *sql)
{
  g_autofree char *v = test_tablet_text (t, sql);

  return v != NULL ? g_ascii_strtoll (v, NULL, 10) : -1;
}

/* A proxy in front of @c; the --offline flag file is @offline. */
GSubprocess *
test_proxy_start (Center *c, const char *offline, const char *const *extra, char **url)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autofree char *log = g_strconcat (offline, ".log", NULL);
  g_autofree char *line = NULL;
  GSubprocess *proc;

  g_strv_builder_add_many (b, g_getenv ("HEARTH_FAULT_PROXY"), "--target", c->base + strlen ("http://"),
                           "--offline", offline, NULL);
  if (extra != NULL)
    g_strv_builder_addv (b, (const char **) extra);
  argv = g_strv_builder_end (b);
  g_subprocess_launcher_set_stderr_file_path (l, log);
  g_subprocess_launcher_set_child_setup (l, die_with_parent, NULL, NULL);
  proc = g_subprocess_launcher_spawnv (l, (const char *const *) argv, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (line, "listening "));
  *url = g_strdup_printf ("http://127.0.0.1:%s", line + 10);
  return proc;
}

void
test_proxy_stop (GSubprocess *proxy)
{
  g_subprocess_force_exit (proxy);
  g_subprocess_wait (proxy, NULL, NULL);
  g_object_unref (proxy);
}

char *
test_registry (const char *name, const char *county, guint n, guint seed)
{
  g_autofree char *dir = test_make_dir (name);
  char *path = g_build_filename (dir, "registry.csv", NULL);
  g_autofree char *count = g_strdup_printf ("%u", n);
  g_autofree char *seed_text = g_strdup_printf ("%u", seed);
  g_auto(TestRun) r = { 0 };

  test_run_cli (&r, NULL, "demo", "generate", "--households", count, "--seed", seed_text, "--county", county,
                "--out", path, NULL);
  g_assert_cmpint (r.status, ==, 0);
  return path;
}

/* A generated registry (hearth-cli demo generate, @seed) of @n + @m
 * households of @county in @dir, split in two files by household: the
 * first @n in @first, the others in @second. */
void
test_registries (const char *dir, const char *county, guint seed, guint n, guint m, char **first, char **second)
{
  g_autofree char *all = g_build_filename (dir, "all.csv", NULL);
  g_autofree char *count = g_strdup_printf ("%u", n + m);
  g_autofree char *seed_text = g_strdup_printf ("%u", seed);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GString) a = g_string_new (NULL);
  g_autoptr(GString) b = g_string_new (NULL);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(TestRun) r = { 0 };

  test_run_cli (&r, NULL, "demo", "generate", "--households", count, "--seed", seed_text, "--county", county, "--out", all,
                NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_file_get_contents (all, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  g_string_append_printf (a, "%s\n", lines[0]);
  g_string_append_printf (b, "%s\n", lines[0]);
  for (guint i = 1; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      const char *comma = strchr (lines[i], ',');

      g_assert_nonnull (comma);
      g_hash_table_add (seen, g_strndup (lines[i], comma - lines[i]));
      g_string_append_printf (g_hash_table_size (seen) <= n ? a : b, "%s\n", lines[i]);
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, n + m);
  *first = g_build_filename (dir, "first.csv", NULL);
  *second = g_build_filename (dir, "second.csv", NULL);
  g_assert_true (g_file_set_contents (*first, a->str, -1, NULL));
  g_assert_true (g_file_set_contents (*second, b->str, -1, NULL));
}

/* A certificate for 127.0.0.1 (EC P-256) in @dir as NAME.pem and
 * NAME.key; returns its key's pin, as docs/operations.md computes it. */
char *
test_make_cert (const char *dir, const char *name, char **cert, char **key)
{
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autofree char *pipeline = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  *cert = g_strdup_printf ("%s/%s.pem", dir, name);
  *key = g_strdup_printf ("%s/%s.key", dir, name);
  {
    const char *argv[] = { openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                           "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                           "-keyout", *key, "-out", *cert, NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                 NULL, NULL, NULL, NULL, &status, &error));
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }
  pipeline = g_strdup_printf ("sh -c 'openssl x509 -in %s -pubkey -noout | openssl pkey -pubin -outform der | "
                              "openssl dgst -sha256 -binary | base64'", *cert);
  g_assert_true (g_spawn_command_line_sync (pipeline, &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return g_strconcat ("sha256//", g_strstrip (out), NULL);
}

/* ---- a web page at an address (a Wi-Fi's sign-in page) ---------------------------- */

static gpointer
portal_serve (gpointer data)
{
  TestPortal *p = data;

  while (!g_atomic_int_get (&p->stop))
    {
      g_autoptr(GSocketConnection) conn = g_socket_listener_accept (p->listener, NULL, NULL, NULL);
      g_autoptr(GString) request = g_string_new (NULL);
      g_autofree char *reply = NULL;
      GInputStream *in;
      char buf[4096];

      if (conn == NULL || g_atomic_int_get (&p->stop))
        break;
      in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
      while (strstr (request->str, "\r\n\r\n") == NULL)
        {
          gssize n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL);
          if (n <= 0)
            break;
          g_string_append_len (request, buf, n);
        }
      /* A body, if any, is not waited for: the page answers anything. */
      reply = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n"
                               "Connection: close\r\n\r\n%s",
                               strlen (TEST_PORTAL_PAGE), TEST_PORTAL_PAGE);
      g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), reply, strlen (reply), NULL,
                                 NULL, NULL);
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    }
  return NULL;
}

TestPortal *
test_portal_start (guint port)
{
  TestPortal *p = g_new0 (TestPortal, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  p->listener = g_socket_listener_new ();
  g_assert_true (g_socket_listener_add_address (p->listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                                NULL, &bound, &error));
  g_assert_no_error (error);
  p->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  p->thread = g_thread_new ("portal", portal_serve, p);
  return p;
}

void
test_portal_stop (TestPortal *p)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;

  g_atomic_int_set (&p->stop, 1);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", (guint16) p->port, NULL, NULL);
  g_thread_join (p->thread);
  g_socket_listener_close (p->listener);
  g_object_unref (p->listener);
  g_free (p);
}

char *
test_unsigned_get_status (Center *c, guint timeout_s)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;
  const char *host = c->base + strlen ("http://");
  g_autofree char *request = g_strdup_printf ("GET /v1/pull HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host);
  char line[64] = { 0 };
  gsize written = 0, got = 0;

  g_socket_client_set_timeout (client, timeout_s);
  conn = g_socket_client_connect_to_host (client, host, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), request,
                                            strlen (request), &written, NULL, &error));
  g_assert_no_error (error);
  g_input_stream_read_all (g_io_stream_get_input_stream (G_IO_STREAM (conn)), line, sizeof line - 1, &got, NULL,
                           NULL);
  line[got] = '\0';
  return g_strdup (line);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "test-util.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static GMutex log_lock;
static GString *log_text;
static GPtrArray *dirs;

static GLogWriterOutput
capture_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
      {
        g_mutex_lock (&log_lock);
        g_string_append_printf (log_text, "%s\n", (const char *) fields[i].value);
        g_mutex_unlock (&log_lock);
      }
  /* Errors and criticals must still fail the test. */
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    return g_log_writer_default (level, fields, n_fields, data);
  if (g_getenv ("HEARTH_TEST_VERBOSE") != NULL)
    return g_log_writer_standard_streams (level, fields, n_fields, data);
  return G_LOG_WRITER_HANDLED;
}

static void
remove_dirs (void)
{
  if (g_getenv ("HEARTH_KEEP_TEST_DIRS") != NULL || dirs == NULL)
    return;
  for (guint i = 0; i < dirs->len; i++)
    {
      g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", (char *) g_ptr_array_index (dirs, i));
      if (system (cmd) != 0)
        g_printerr ("could not remove %s\n", (char *) g_ptr_array_index (dirs, i));
    }
}

void
test_init (int *argc, char ***argv)
{
  g_test_init (argc, argv, NULL);
  log_text = g_string_new (NULL);
  dirs = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (capture_writer, NULL, NULL);
  g_assert_true (hearth_vfs_register (NULL));
  atexit (remove_dirs);
}

char *
test_make_dir (const char *name)
{
  const char *base = g_getenv ("HEARTH_TEST_TMPDIR");
  g_autofree char *parent = NULL;
  g_autofree char *tmpl = NULL;
  char *dir;

  g_autofree char *cwd = g_get_current_dir ();

  parent = base != NULL ? g_strdup (base) : g_build_filename (cwd, "test-scratch", NULL);
  g_assert_cmpint (g_mkdir_with_parents (parent, 0700), ==, 0);
  tmpl = g_strdup_printf ("%s/%s-XXXXXX", parent, name);
  dir = g_mkdtemp (g_strdup (tmpl));
  g_assert_nonnull (dir);
  g_ptr_array_add (dirs, g_strdup (dir));
  return dir;
}

HearthSecret *
test_secret (const char *text)
{
  return hearth_secret_new_from_data (text, strlen (text));
}

char *
test_create_store (const char *name, const guint8 *county_public_key)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthSecret) pass = test_secret (TEST_PASSPHRASE);
  g_autofree char *parent = test_make_dir (name);
  char *dir = g_build_filename (parent, "store", NULL);

  g_assert_true (hearth_store_create (dir, pass, HEARTH_KDF_TEST, county_public_key, &error));
  g_assert_no_error (error);
  return dir;
}

HearthStore *
test_open_store (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthSecret) pass = test_secret (TEST_PASSPHRASE);
  HearthStore *store = hearth_store_open (dir, pass, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

sqlite3 *
test_open_raw (const char *path, HearthPageKey *key, const char *journal_mode,
               gboolean set_reserve, char **token_out)
{
  g_autofree char *token = hearth_vfs_key_attach (key);
  g_autofree char *uri = hearth_vfs_build_uri (path, token);
  g_autofree char *pragma = NULL;
  sqlite3 *db = NULL;
  int reserve = HEARTH_PAGE_RESERVE;

  g_assert_cmpint (sqlite3_open_v2 (uri, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                                    HEARTH_VFS_NAME), ==, SQLITE_OK);
  sqlite3_extended_result_codes (db, 1);
  sqlite3_busy_timeout (db, 10000);
  if (set_reserve)
    sqlite3_file_control (db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  test_exec (db, "PRAGMA temp_store=MEMORY; PRAGMA synchronous=FULL");
  if (journal_mode != NULL)
    {
      pragma = g_strdup_printf ("PRAGMA journal_mode=%s", journal_mode);
      if (sqlite3_exec (db, pragma, NULL, NULL, NULL) != SQLITE_OK && set_reserve)
        g_error ("%s failed: %s", pragma, sqlite3_errmsg (db));
    }
  if (token_out != NULL)
    *token_out = g_steal_pointer (&token);
  return db;
}

void
test_exec (sqlite3 *db, const char *sql)
{
  char *msg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("SQL failed: %s: %s", sql, msg);
}

gint64
test_query_int (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  gint64 v;

  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step (st) != SQLITE_ROW)
    g_error ("query failed: %s: %s", sql, sqlite3_errmsg (db));
  v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return v;
}

GPtrArray *
test_audit_entry (sqlite3 *db, gint64 seq, char **action)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *records;

  if (sqlite3_prepare_v2 (db, "SELECT record_table, record_id, fields, action FROM audit_log "
                              "WHERE seq = coalesce (nullif (?, 0), (SELECT max (seq) FROM audit_log))",
                          -1, &st, NULL) != SQLITE_OK)
    g_error ("audit query failed: %s", sqlite3_errmsg (db));
  sqlite3_bind_int64 (st, 1, seq);
  if (sqlite3_step (st) != SQLITE_ROW)
    g_error ("the audit log has no entry %" G_GINT64_FORMAT, seq);
  records = hearth_audit_entry_records ((const char *) sqlite3_column_text (st, 0),
                                        (const char *) sqlite3_column_text (st, 1),
                                        (const char *) sqlite3_column_text (st, 2));
  if (action != NULL)
    *action = g_strdup ((const char *) sqlite3_column_text (st, 3));
  sqlite3_finalize (st);
  return records;
}

HearthAuditRecord *
test_audit_find (GPtrArray *records, const char *table, const char *id)
{
  for (guint i = 0; i < records->len; i++)
    {
      HearthAuditRecord *r = records->pdata[i];
      if (g_str_equal (r->table, table) && (id == NULL || g_str_equal (r->id, id)))
        return r;
    }
  return NULL;
}

gboolean
test_audit_fields_are (const HearthAuditRecord *record, const char *expected)
{
  g_auto(GStrv) want = g_strsplit (expected, " ", -1);

  if (record == NULL || g_strv_length (want) != g_strv_length (record->fields))
    return FALSE;
  for (guint i = 0; want[i] != NULL; i++)
    if (!g_strv_contains ((const char *const *) record->fields, want[i]))
      return FALSE;
  return TRUE;
}

void
test_flip_byte (const char *path, goffset offset)
{
  g_autoptr(GBytes) b = test_read_range (path, offset, 1);
  guint8 c = ((const guint8 *) g_bytes_get_data (b, NULL))[0] ^ 0x01;

  test_write_range (path, offset, &c, 1);
}

GBytes *
test_read_range (const char *path, goffset offset, gsize len)
{
  int fd = open (path, O_RDONLY);
  guint8 *buf = g_malloc0 (len);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pread (fd, buf, len, offset), ==, (gssize) len);
  close (fd);
  return g_bytes_new_take (buf, len);
}

void
test_write_range (const char *path, goffset offset, const void *data, gsize len)
{
  int fd = open (path, O_WRONLY);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pwrite (fd, data, len, offset), ==, (gssize) len);
  fsync (fd);
  close (fd);
}

char *
test_file_sha256 (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guint8 *) contents, len);
}

void
test_log_reset (void)
{
  g_mutex_lock (&log_lock);
  g_string_truncate (log_text, 0);
  g_mutex_unlock (&log_lock);
}

const char *
test_log_get (void)
{
  return log_text->str;
}

gboolean
test_log_contains (const char *needle)
{
  gboolean found;

  g_mutex_lock (&log_lock);
  found = strstr (log_text->str, needle) != NULL;
  g_mutex_unlock (&log_lock);
  return found;
}

void
test_run_clear (TestRun *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}

static void
detach_terminal (gpointer data)
{
  setsid ();  /* no controlling terminal: a prompt must fail, not hang */
}

void
test_run_cliv (TestRun *r, const char *const *env, const char *const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                        G_SUBPROCESS_FLAGS_STDERR_PIPE |
                                                                        G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (argv, (char *) g_getenv ("HEARTH_CLI"));
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  g_subprocess_launcher_unsetenv (launcher, "HEARTH_DATA_DIR");
  g_subprocess_launcher_unsetenv (launcher, "HEARTH_PASSPHRASE_FILE");
  g_subprocess_launcher_setenv (launcher, "LANGUAGE", "en", TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  for (gsize i = 0; env != NULL && env[i] != NULL; i += 2)
    g_subprocess_launcher_setenv (launcher, env[i], env[i + 1], TRUE);
  g_subprocess_launcher_set_child_setup (launcher, detach_terminal, NULL, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (proc, NULL, NULL, &r->out, &r->err, &error));
  g_assert_no_error (error);
  r->status = g_subprocess_get_exit_status (proc);
  g_test_message ("%s %s -> %d\n%s%s", (char *) argv->pdata[0], args[0] != NULL ? args[0] : "", r->status,
                  r->out, r->err);
}

void
test_run_cli (TestRun *r, const char *const *env, const char *first, ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  test_run_cliv (r, env, (const char *const *) args->pdata);
}

char *
test_xml_element (const char *xml, const char *name)
{
  g_autofree char *open = g_strdup_printf ("<%s>", name);
  g_autofree char *close = g_strdup_printf ("</%s>", name);
  g_autofree char *empty = g_strdup_printf ("<%s/>", name);
  const char *a = strstr (xml, open), *b;

  if (a == NULL)
    return strstr (xml, empty) != NULL ? g_strdup ("") : NULL;
  a += strlen (open);
  b = strstr (a, close);
  return b != NULL ? g_strndup (a, (gsize) (b - a)) : NULL;
}

HearthForm *
test_load_bundled_form (const char *name)
{
  g_autofree char *path = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "schema", "forms", name, NULL);
  g_autofree char *media = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "schema", "forms", "media", NULL);
  g_autoptr(GError) error = NULL;
  HearthForm *form = hearth_form_load (path, media, &error);

  g_assert_no_error (error);
  return form;
}

char *
test_fill_bundled (const char *form, const char *answers, const char *now, const char *instance_id)
{
  g_auto(TestRun) r = { 0 };
  g_autofree char *form_path = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "schema", "forms", form, NULL);
  g_autofree char *answers_path = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "answers",
                                                    answers, NULL);

  test_run_cli (&r, NULL, "form", "fill", form_path, "--answers", answers_path, "--now", now,
                "--instance-id", instance_id, NULL);
  g_assert_cmpint (r.status, ==, 0);
  return g_steal_pointer (&r.out);
}

char *
test_rand_uuid (GRand *rand)
{
  guint32 w[4];

  for (guint i = 0; i < 4; i++)
    w[i] = g_rand_int (rand);
  return g_strdup_printf ("%08x-%04x-4%03x-%04x-%04x%08x", w[0], w[1] >> 16, w[1] & 0xfff,
                          (w[2] >> 16 & 0x3fff) | 0x8000, w[2] & 0xffff, w[3]);
}

char *
test_source_path (const char *first, ...)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new ();
  va_list ap;

  g_ptr_array_add (parts, (char *) g_getenv ("HEARTH_SOURCE_DIR"));
  va_start (ap, first);
  for (const char *p = first; p != NULL; p = va_arg (ap, const char *))
    g_ptr_array_add (parts, (char *) p);
  va_end (ap);
  g_ptr_array_add (parts, NULL);
  return g_build_filenamev ((char **) parts->pdata);
}

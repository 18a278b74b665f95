/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-export.c: county batches and what the center sends its tablets of
 * its own, with real processes (a hearth-center serving on 127.0.0.1,
 * hearth-cli stores enrolled with one-time codes):
 *   - a center with an imported registry and visits pushed by two tablets
 *     (one household visited on both: open conflicts) exports CSV and JSON
 *     batches that verify, one record per touched record of the database;
 *     a changed byte is caught by both verify-batch commands; bad dates,
 *     scopes and folders are refused, naming them;
 *   - --after-cursor continues exactly where the last batch ended, with
 *     records arriving between two exports;
 *   - dates are the county's: received at 23:30 UTC is the next day in
 *     Asia/Shanghai;
 *   - the export endpoint: a worker's tablet gets 403, a county tablet a
 *     batch byte-identical to the center's own export, a scope outside the
 *     user's is 403, a batch over 64 MiB is 413;
 *   - import-households (GB18030, or UTF-8 with a byte order mark): a
 *     tablet pulls the households of its scope on its first sync and can
 *     visit them; a bad row imports nothing and names its line; so does
 *     a value too long or over two lines, a code the registration form
 *     does not know, a row with a field more than the header, a column
 *     named twice; a FIFO or
 *     /dev/zero is refused at once;
 *   - publish-form and set-thresholds: broken documents refused naming the
 *     line, forms a tablet could not open a visit with (a bind on no
 *     node, a cycle, a dangling reference) and thresholds with figures out of bounds or missing too;
 *     published ones reach a tablet, which lists them.
 */
#include "test-center-util.h"
#include "center-store-sqlite.h"
#include "center-publish.h"
#include "change.h"
#include "case-store.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

#define COUNTY "150422"
#define TOWNSHIP "150422101"

static void
import_households (Center *c, const char *csv)
{
  g_auto(TestRun) r = { 0 };

  run_center (&r, "--db", c->db, "import-households", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
}

/* A visit of @household recorded on @t at @now. */
static void
visit (TestTablet *t, const char *household, const char *now)
{
  g_autofree char *answers = test_source_path ("tests", "data", "answers", "visit-zh.json", NULL);
  g_auto(TestRun) r = { 0 };

  test_tablet_cli (&r, t, "visit", "record", "--form", "hearth_household_visit", "--answers", answers, "--household",
                   household, "--now", now, NULL);
  g_assert_cmpint (r.status, ==, 0);
}

static JsonObject *
read_json_object (const char *path)
{
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_file (p, path, &error));
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)));
  return json_object_ref (json_node_get_object (json_parser_get_root (p)));
}

static JsonObject *
manifest_of (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "manifest.json", NULL);

  return read_json_object (path);
}

/* The record count the manifest gives @file. */
static gint64
records_of (JsonObject *manifest, const char *file)
{
  JsonArray *files = json_object_get_array_member (manifest, "files");

  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      JsonObject *f = json_array_get_object_element (files, i);
      if (g_str_equal (json_object_get_string_member (f, "name"), file))
        return json_object_get_int_member (f, "records");
    }
  g_assert_not_reached ();
}

/* The "id" of every record of a JSON batch file, sorted. */
static GPtrArray *
json_ids (const char *dir, const char *file)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  JsonArray *a;

  g_assert_true (json_parser_load_from_file (p, path, &error));
  g_assert_no_error (error);
  a = json_node_get_array (json_parser_get_root (p));
  for (guint i = 0; i < json_array_get_length (a); i++)
    g_ptr_array_add (ids, g_strdup (json_object_get_string_member (json_array_get_object_element (a, i), "id")));
  g_ptr_array_sort (ids, (GCompareFunc) g_strcmp0);
  return ids;
}

/* hearth-center export; its exit status. */
static int
center_export (Center *c, TestRun *r, const char *scope, const char *since, const char *until, const char *after,
               const char *format, const char *out)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  g_ptr_array_add (args, (char *) "--db");
  g_ptr_array_add (args, c->db);
  g_ptr_array_add (args, (char *) "export");
  g_ptr_array_add (args, (char *) "--scope");
  g_ptr_array_add (args, (char *) scope);
  g_ptr_array_add (args, (char *) "--since");
  g_ptr_array_add (args, (char *) since);
  if (until != NULL)
    {
      g_ptr_array_add (args, (char *) "--until");
      g_ptr_array_add (args, (char *) until);
    }
  if (after != NULL)
    {
      g_ptr_array_add (args, (char *) "--after-cursor");
      g_ptr_array_add (args, (char *) after);
    }
  g_ptr_array_add (args, (char *) "--format");
  g_ptr_array_add (args, (char *) format);
  g_ptr_array_add (args, (char *) "--out");
  g_ptr_array_add (args, (char *) out);
  g_ptr_array_add (args, NULL);
  test_run_clear (r);
  run_centerv (r, (const char *const *) args->pdata);
  return r->status;
}

static gboolean
same_file (const char *a, const char *b)
{
  g_autofree char *da = NULL;
  g_autofree char *db = NULL;
  gsize la = 0, lb = 0;

  g_assert_true (g_file_get_contents (a, &da, &la, NULL));
  g_assert_true (g_file_get_contents (b, &db, &lb, NULL));
  return la == lb && memcmp (da, db, la) == 0;
}

/* Every file of folder @a is in @b with the same bytes, and the other way. */
static void
assert_same_folder (const char *a, const char *b)
{
  g_autoptr(GDir) d = g_dir_open (a, 0, NULL);
  const char *name;
  guint n = 0, m = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *pa = g_build_filename (a, name, NULL);
      g_autofree char *pb = g_build_filename (b, name, NULL);

      g_test_message ("comparing %s", name);
      g_assert_true (same_file (pa, pb));
      n++;
    }
  g_clear_pointer (&d, g_dir_close);
  d = g_dir_open (b, 0, NULL);
  while (g_dir_read_name (d) != NULL)
    m++;
  g_assert_cmpuint (n, ==, m);
  g_assert_cmpuint (n, ==, 9);   /* 7 tables, the manifest and its signature */
}

static void
copy_folder (const char *from, const char *to)
{
  g_autoptr(GDir) d = g_dir_open (from, 0, NULL);
  const char *name;

  g_assert_cmpint (g_mkdir_with_parents (to, 0700), ==, 0);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *a = g_build_filename (from, name, NULL);
      g_autofree char *b = g_build_filename (to, name, NULL);
      g_autofree char *data = NULL;
      gsize len = 0;

      g_assert_true (g_file_get_contents (a, &data, &len, NULL));
      g_assert_true (g_file_set_contents (b, data, (gssize) len, NULL));
    }
}

/* The key batch-key prints for @db. */
static char *
batch_key_of (const char *db)
{
  g_auto(TestRun) r = { 0 };

  run_center (&r, "--db", db, "batch-key", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpuint (strlen (g_strstrip (r.out)), ==, 44);
  return g_strdup (r.out);
}

/* ---- batches ------------------------------------------------------------------------------ */

static void
test_batches (void)
{
  g_autoptr(Center) c = center_init ("export-batches-center", COUNTY);
  g_autofree char *csv = test_registry ("export-batches-registry", COUNTY, 12, 21);
  g_autofree char *base = test_make_dir ("export-batches");
  g_autofree char *out_csv = g_build_filename (base, "csv", NULL);
  g_autofree char *out_json = g_build_filename (base, "json", NULL);
  g_autofree char *tampered = g_build_filename (base, "tampered", NULL);
  g_autofree char *members = NULL;
  g_autofree char *household = NULL;
  g_autofree char *second = NULL;
  g_auto(TestTablet) a = { 0 };
  g_auto(TestTablet) b = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autoptr(JsonObject) m_csv = NULL;
  g_autoptr(JsonObject) m_json = NULL;
  g_autofree char *key = NULL;
  struct { const char *file, *sql; } counts[] = {
    { "households", "SELECT count (DISTINCT record_id) FROM field_state WHERE tbl = 'households'" },
    { "members", "SELECT count (DISTINCT record_id) FROM field_state WHERE tbl = 'members'" },
    { "submissions", "SELECT count (*) FROM changes WHERE tbl = 'submissions'" },
    { "tasks", "SELECT count (DISTINCT record_id) FROM field_state WHERE tbl = 'tasks'" },
    { "reviews", "SELECT count (*) FROM changes WHERE tbl = 'reviews'" },
    { "measures", "SELECT count (DISTINCT record_id) FROM field_state WHERE tbl = 'measures'" },
    { "conflicts", "SELECT count (*) FROM conflicts" },
  };

  center_add_user (c, "w.one", "worker", COUNTY);
  center_add_user (c, "w.two", "worker", COUNTY);
  import_households (c, csv);
  center_start (c);
  test_tablet_enrol (&a, "export-batches-a", c, "w.one");
  test_tablet_enrol (&b, "export-batches-b", c, "w.two");
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  g_assert_cmpint (test_tablet_sync (&b), ==, 0);
  g_assert_cmpint (test_tablet_int (&a, "SELECT count (*) FROM households"), ==, 12);

  /* Visits on both tablets, one household on both while offline. */
  household = test_tablet_text (&a, "SELECT id FROM households ORDER BY id LIMIT 1");
  second = test_tablet_text (&a, "SELECT id FROM households ORDER BY id LIMIT 1 OFFSET 1");
  visit (&a, household, "2026-11-20T10:00:00+08:00");
  visit (&a, second, "2026-11-20T11:00:00+08:00");
  visit (&b, household, "2026-11-21T15:00:00+08:00");
  g_assert_cmpint (test_tablet_sync (&a), ==, 0);
  g_assert_cmpint (test_tablet_sync (&b), ==, 0);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes WHERE tbl = 'submissions'"), ==, 3);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM conflicts"), >, 0);

  /* CSV and JSON: every record the database holds, counted alike. */
  g_assert_cmpint (center_export (c, &r, COUNTY, "2000-01-01", NULL, NULL, "csv", out_csv), ==, 0);
  g_assert_cmpint (center_export (c, &r, COUNTY, "2000-01-01", NULL, NULL, "json", out_json), ==, 0);
  m_csv = manifest_of (out_csv);
  m_json = manifest_of (out_json);
  for (guint i = 0; i < G_N_ELEMENTS (counts); i++)
    {
      g_autofree char *file_csv = g_strconcat (counts[i].file, ".csv", NULL);
      g_autofree char *file_json = g_strconcat (counts[i].file, ".json", NULL);
      gint64 want = center_db_int (c, counts[i].sql);

      g_test_message ("%s: %" G_GINT64_FORMAT, counts[i].file, want);
      g_assert_cmpint (records_of (m_csv, file_csv), ==, want);
      g_assert_cmpint (records_of (m_json, file_json), ==, want);
    }
  g_assert_cmpint (records_of (m_csv, "households.csv"), ==, 12);
  g_assert_cmpint (records_of (m_csv, "reviews.csv"), >, 0);
  g_assert_cmpint (records_of (m_csv, "tasks.csv"), >, 0);
  g_assert_cmpstr (json_object_get_string_member (m_csv, "county"), ==, COUNTY);
  g_assert_cmpstr (json_object_get_string_member (m_csv, "scope"), ==, COUNTY);
  g_assert_cmpstr (json_object_get_string_member (m_csv, "since"), ==, "2000-01-01");
  g_assert_true (json_object_get_null_member (m_csv, "until"));
  g_assert_cmpstr (json_object_get_string_member (m_csv, "time_zone"), ==, "Asia/Shanghai");
  g_assert_cmpint (json_object_get_int_member (m_csv, "cursor_from"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (m_csv, "cursor_to"), ==,
                   center_db_int (c, "SELECT max (cursor) FROM changes"));

  /* CSV with a byte order mark; the submission's XML in its own, last column. */
  {
    g_autofree char *path = g_build_filename (out_csv, "submissions.csv", NULL);
    g_autofree char *text = NULL;
    g_autofree char *header = NULL;

    g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
    g_assert_true (g_str_has_prefix (text, "\xEF\xBB\xBF" "id,village,household_id,form_id,"));
    header = g_strndup (text, strcspn (text, "\r\n"));
    g_assert_true (g_str_has_suffix (header, ",instance_xml"));
    g_assert_nonnull (strstr (text, "hearth_household_visit"));
  }
  /* JSON: the merged values, and the XML of each submission. */
  {
    g_autofree char *path = g_build_filename (out_json, "households.json", NULL);
    g_autofree char *sql = g_strdup_printf ("SELECT value FROM field_state WHERE tbl = 'households' AND "
                                            "record_id = '%s' AND field = 'last_visit_date'", household);
    g_autofree char *want = center_db_text (c, sql);
    g_autoptr(JsonParser) p = json_parser_new ();
    JsonArray *rows;
    gboolean found = FALSE;

    g_assert_true (json_parser_load_from_file (p, path, NULL));
    rows = json_node_get_array (json_parser_get_root (p));
    for (guint i = 0; i < json_array_get_length (rows); i++)
      {
        JsonObject *o = json_array_get_object_element (rows, i);
        if (g_str_equal (json_object_get_string_member (o, "id"), household))
          {
            g_assert_cmpstr (json_object_get_string_member (o, "last_visit_date"), ==, want);
            g_assert_cmpstr (json_object_get_string_member (o, "village_code"), !=, "");
            found = TRUE;
          }
      }
    g_assert_true (found);
    g_free (path);
    path = g_build_filename (out_json, "submissions.json", NULL);
    g_clear_object (&p);
    p = json_parser_new ();
    g_assert_true (json_parser_load_from_file (p, path, NULL));
    rows = json_node_get_array (json_parser_get_root (p));
    g_assert_cmpuint (json_array_get_length (rows), ==, 3);
    for (guint i = 0; i < json_array_get_length (rows); i++)
      g_assert_true (g_str_has_prefix (
        json_object_get_string_member (json_array_get_object_element (rows, i), "instance_xml"), "<"));
  }

  /* The submissions' fields are stored packed (0019-packed-fields.sql):
   * the store with every record's fields as text instead gives the same
   * batch, file for file, and it verifies. */
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes WHERE tbl = 'submissions' "
                                     "AND typeof (fields) = 'blob'"), ==, 3);
  {
    const char *formats[] = { "csv", "json" };
    const char *outs[] = { out_csv, out_json };

    center_db_exec (c, "UPDATE changes SET fields = hearth_fields (fields) WHERE typeof (fields) = 'blob'");
    g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes WHERE typeof (fields) = 'blob'"), ==, 0);
    for (guint f = 0; f < G_N_ELEMENTS (formats); f++)
      {
        g_autofree char *name = g_strconcat (formats[f], "-text", NULL);
        g_autofree char *plain = g_build_filename (base, name, NULL);
        g_autoptr(JsonObject) m_plain = NULL;
        JsonArray *files;

        test_run_clear (&r);
        g_assert_cmpint (center_export (c, &r, COUNTY, "2000-01-01", NULL, NULL, formats[f], plain), ==, 0);
        m_plain = manifest_of (plain);
        files = json_object_get_array_member (m_plain, "files");
        g_assert_cmpuint (json_array_get_length (files), >=, G_N_ELEMENTS (counts));
        for (guint i = 0; i < json_array_get_length (files); i++)
          {
            const char *file = json_object_get_string_member (json_array_get_object_element (files, i), "name");
            g_autofree char *path_packed = g_build_filename (outs[f], file, NULL);
            g_autofree char *path_plain = g_build_filename (plain, file, NULL);
            g_autofree char *text_packed = NULL, *text_plain = NULL;

            g_assert_true (g_file_get_contents (path_packed, &text_packed, NULL, NULL));
            g_assert_true (g_file_get_contents (path_plain, &text_plain, NULL, NULL));
            g_assert_cmpstr (text_plain, ==, text_packed);
          }
        test_run_clear (&r);
        run_center (&r, "verify-batch", plain, NULL);
        g_assert_cmpint (r.status, ==, 0);
      }
    test_run_clear (&r);
  }

  /* Both programs verify both batches … */
  run_center (&r, "--db", c->db, "verify-batch", out_csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  /* A county PC has the batch, not the center's store: no --db needed
   * (HEARTH_CENTER_DB is unset by run_center) … */
  run_center (&r, "verify-batch", out_json, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "The batch verifies"));
  test_run_clear (&r);
  /* … while a command that opens the store still asks for it. */
  run_center (&r, "batch-key", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--db"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "verify-batch", out_csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);

  /* … and both catch a changed byte, naming the file. */
  copy_folder (out_csv, tampered);
  members = g_build_filename (tampered, "members.csv", NULL);
  test_flip_byte (members, 200);
  run_center (&r, "verify-batch", tampered, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "members.csv"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "verify-batch", tampered, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "members.csv"));

  /* Signed: the key batch-key prints, the same each time. */
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "batch-key", NULL);
  g_assert_cmpint (r.status, ==, 0);
  key = g_strdup (g_strstrip (r.out));
  g_assert_cmpuint (strlen (key), ==, 44);
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "batch-key", NULL);
  g_assert_cmpstr (g_strstrip (r.out), ==, key);
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "verify-batch", "--key", key, out_json, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "the key given"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "verify-batch", out_csv, NULL);
  g_assert_nonnull (strstr (r.out, key));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "verify-batch", "--key", key, out_csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "the key given"));
  /* Another key: refused by both, naming both keys. */
  {
    const char *other = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    test_run_clear (&r);
    run_center (&r, "--db", c->db, "verify-batch", "--key", other, out_csv, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "manifest.sig"));
    g_assert_nonnull (strstr (r.err, other));
    test_run_clear (&r);
    test_run_cli (&r, NULL, "verify-batch", "--key", other, out_csv, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, key));
    /* Not a key at all: a usage error, before the folder is read. */
    test_run_clear (&r);
    test_run_cli (&r, NULL, "verify-batch", "--key", "c2hvcnQ=", out_csv, NULL);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, "32 bytes"));
  }
  /* A file changed with its checksum and count in the manifest: the
   * checksums agree, the signature does not. */
  {
    g_autofree char *forged = g_build_filename (base, "forged", NULL);
    g_autofree char *tasks = g_build_filename (forged, "tasks.csv", NULL);
    g_autofree char *manifest_path = g_build_filename (forged, "manifest.json", NULL);
    g_autofree char *sig_path = g_build_filename (forged, "manifest.sig", NULL);
    g_autofree char *text = NULL, *hex = NULL, *old_hex = NULL;
    g_autoptr(GString) bigger = NULL, edited = NULL;
    guint8 digest[32];
    gsize len = 0;

    copy_folder (out_csv, forged);
    g_assert_true (g_file_get_contents (tasks, &text, &len, NULL));
    bigger = g_string_new_len (text, (gssize) len);
    g_string_append (bigger, "forged,row\r\n");
    g_assert_true (g_file_set_contents (tasks, bigger->str, (gssize) bigger->len, NULL));
    crypto_generichash (digest, sizeof digest, (const guint8 *) bigger->str, bigger->len, NULL, 0);
    hex = g_malloc (65);
    sodium_bin2hex (hex, 65, digest, sizeof digest);
    crypto_generichash (digest, sizeof digest, (const guint8 *) text, len, NULL, 0);
    old_hex = g_malloc (65);
    sodium_bin2hex (old_hex, 65, digest, sizeof digest);
    g_clear_pointer (&text, g_free);
    g_assert_true (g_file_get_contents (manifest_path, &text, &len, NULL));
    g_assert_nonnull (strstr (text, old_hex));
    edited = g_string_new (text);
    g_assert_cmpuint (g_string_replace (edited, old_hex, hex, 1), ==, 1);
    g_assert_true (g_file_set_contents (manifest_path, edited->str, -1, NULL));

    test_run_clear (&r);
    run_center (&r, "--db", c->db, "verify-batch", forged, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "manifest.sig does not match manifest.json"));
    test_run_clear (&r);
    test_run_cli (&r, NULL, "verify-batch", forged, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "manifest.sig does not match manifest.json"));

    /* Without its signature the forged batch is only as good as its
     * checksums (here, a count differs), and a key asks for a signature. */
    g_assert_cmpint (g_unlink (sig_path), ==, 0);
    test_run_clear (&r);
    test_run_cli (&r, NULL, "verify-batch", "--key", key, forged, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "manifest.sig is missing"));
  }
  /* An unsigned batch otherwise intact verifies, saying it is unsigned. */
  {
    g_autofree char *unsigned_dir = g_build_filename (base, "unsigned", NULL);
    g_autofree char *sig_path = g_build_filename (unsigned_dir, "manifest.sig", NULL);

    copy_folder (out_csv, unsigned_dir);
    g_assert_cmpint (g_unlink (sig_path), ==, 0);
    test_run_clear (&r);
    test_run_cli (&r, NULL, "verify-batch", unsigned_dir, NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "not signed"));
    /* A damaged signature file is named by its line. */
    g_assert_true (g_file_set_contents (sig_path, "hearth batch signature v1\nnot-base64!\nAAAA\n", -1, NULL));
    test_run_clear (&r);
    run_center (&r, "--db", c->db, "verify-batch", unsigned_dir, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "manifest.sig, line 2"));
  }
  test_run_clear (&r);

  /* A path that is no batch folder is called what it is. */
  {
    g_autofree char *missing = g_build_filename (base, "no-such-batch", NULL);
    g_autofree char *file = g_build_filename (out_csv, "manifest.json", NULL);

    test_run_clear (&r);
    run_center (&r, "--db", c->db, "verify-batch", missing, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "no-such-batch does not exist"));
    test_run_clear (&r);
    test_run_cli (&r, NULL, "verify-batch", file, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "manifest.json is not a folder"));
  }

  /* Refused, naming what is wrong. */
  g_assert_cmpint (center_export (c, &r, COUNTY, "2000-01-01", NULL, NULL, "csv", out_csv), ==, 1);
  g_assert_nonnull (strstr (r.err, "not empty"));
  /* A file in the folder's place, said as hearth-cli export says it
   * (break13: "Not a directory"). */
  {
    g_autofree char *manifest_file = g_build_filename (out_csv, "manifest.json", NULL);

    g_assert_cmpint (center_export (c, &r, COUNTY, "2000-01-01", NULL, NULL, "csv", manifest_file), ==, 1);
    g_assert_nonnull (strstr (r.err, "manifest.json is a file, not a folder"));
  }
  g_assert_cmpint (center_export (c, &r, COUNTY, "2000-01-01", NULL, NULL, "csv", ""), ==, 2);
  g_assert_nonnull (strstr (r.err, "--out DIR"));
  {
    g_autofree char *fresh = g_build_filename (base, "refused", NULL);

    g_assert_cmpint (center_export (c, &r, COUNTY, "2026-02-30", NULL, NULL, "csv", fresh), ==, 1);
    g_assert_nonnull (strstr (r.err, "2026-02-30"));
    g_assert_cmpint (center_export (c, &r, COUNTY, "2026-03-01", "2026-02-01", NULL, "csv", fresh), ==, 1);
    g_assert_nonnull (strstr (r.err, "2026-02-01"));
    g_assert_cmpint (center_export (c, &r, "360102", "2026-03-01", NULL, NULL, "csv", fresh), ==, 1);
    g_assert_nonnull (strstr (r.err, "outside county " COUNTY));
    g_assert_cmpint (center_export (c, &r, "15042", "2026-03-01", NULL, NULL, "csv", fresh), ==, 1);
    g_assert_nonnull (strstr (r.err, "15042"));
    g_assert_cmpint (center_export (c, &r, COUNTY, "2026-03-01", NULL, "99999999", "csv", fresh), ==, 1);
    g_assert_nonnull (strstr (r.err, "99999999"));
    g_assert_cmpint (center_export (c, &r, COUNTY, "2026-03-01", NULL, NULL, "xlsx", fresh), ==, 1);
    g_assert_nonnull (strstr (r.err, "xlsx"));
    /* Nothing was left behind by a refusal. */
    g_assert_false (g_file_test (fresh, G_FILE_TEST_EXISTS));
  }

  center_stop (c);
}

/* ---- continuing after a cursor -------------------------------------------------------------- */

static void
test_after_cursor (void)
{
  g_autoptr(Center) c = center_init ("export-cursor-center", COUNTY);
  g_autofree char *first = test_registry ("export-cursor-first", COUNTY, 6, 31);
  g_autofree char *second = test_registry ("export-cursor-second", COUNTY, 30, 32);
  g_autofree char *second_only = NULL;
  g_autofree char *base = test_make_dir ("export-cursor");
  g_autofree char *dir_a = g_build_filename (base, "a", NULL);
  g_autofree char *dir_b = g_build_filename (base, "b", NULL);
  g_autofree char *dir_c = g_build_filename (base, "c", NULL);
  g_autofree char *cursor_a = NULL;
  g_autofree char *cursor_b = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *household = NULL;
  g_auto(TestTablet) t = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autoptr(JsonObject) ma = NULL;
  g_autoptr(JsonObject) mb = NULL;
  g_autoptr(JsonObject) mc = NULL;
  g_autoptr(GPtrArray) ids_a = NULL;
  g_autoptr(GPtrArray) ids_b = NULL;
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  gint64 n_all;

  /* The second registry without the households the first one has: the
   * demo generator numbers its households alike for every seed. */
  {
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GString) kept = g_string_new (NULL);

    g_assert_true (g_file_get_contents (second, &text, NULL, NULL));
    lines = g_strsplit (text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++)
      {
        g_autofree char *needle = NULL;
        g_autofree char *first_text = NULL;
        const char *comma = strchr (lines[i], ',');

        g_assert_true (g_file_get_contents (first, &first_text, NULL, NULL));
        needle = comma != NULL ? g_strndup (lines[i], comma - lines[i]) : g_strdup (lines[i]);
        if (i == 0 || (needle[0] != '\0' && strstr (first_text, needle) == NULL))
          g_string_append_printf (kept, "%s\n", lines[i]);
      }
    second_only = g_build_filename (base, "second.csv", NULL);
    g_assert_true (g_file_set_contents (second_only, kept->str, -1, NULL));
  }

  center_add_user (c, "w.one", "worker", COUNTY);
  import_households (c, first);
  g_assert_cmpint (center_export (c, &r, COUNTY, "2000-01-01", NULL, NULL, "json", dir_a), ==, 0);
  ma = manifest_of (dir_a);
  cursor_a = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (ma, "cursor_to"));

  /* Records arriving between two exports: a second registry, and a visit
   * of a household of the first batch. */
  import_households (c, second_only);
  center_start (c);
  test_tablet_enrol (&t, "export-cursor-tablet", c, "w.one");
  g_assert_cmpint (test_tablet_sync (&t), ==, 0);
  sql = g_strdup_printf ("SELECT record_id FROM field_state WHERE tbl = 'households' AND field = 'registry_no' "
                         "AND record_id IN (SELECT record_id FROM changes WHERE cursor <= %s) LIMIT 1", cursor_a);
  household = center_db_text (c, sql);
  g_assert_nonnull (household);
  visit (&t, household, "2026-11-20T10:00:00+08:00");
  g_assert_cmpint (test_tablet_sync (&t), ==, 0);

  g_assert_cmpint (center_export (c, &r, COUNTY, "2000-01-01", NULL, cursor_a, "json", dir_b), ==, 0);
  mb = manifest_of (dir_b);
  g_assert_cmpint (json_object_get_int_member (mb, "cursor_from"), ==, json_object_get_int_member (ma, "cursor_to"));
  g_assert_cmpint (json_object_get_int_member (mb, "cursor_to"), ==,
                   center_db_int (c, "SELECT max (cursor) FROM changes"));

  /* Batch A holds the households of the changes up to its cursor, batch B
   * exactly those touched after it: no gap, and a household of A only
   * again when it changed since (the visited one). */
  ids_a = json_ids (dir_a, "households.json");
  ids_b = json_ids (dir_b, "households.json");
  g_free (sql);
  sql = g_strdup_printf ("SELECT count (DISTINCT record_id) FROM changes WHERE tbl = 'households' AND cursor <= %s",
                         cursor_a);
  g_assert_cmpint (ids_a->len, ==, center_db_int (c, sql));
  g_free (sql);
  sql = g_strdup_printf ("SELECT count (DISTINCT record_id) FROM changes WHERE tbl = 'households' AND cursor > %s",
                         cursor_a);
  g_assert_cmpint (ids_b->len, ==, center_db_int (c, sql));
  for (guint i = 0; i < ids_b->len; i++)
    if (g_ptr_array_find_with_equal_func (ids_a, ids_b->pdata[i], g_str_equal, NULL))
      g_assert_cmpstr (ids_b->pdata[i], ==, household);
  g_assert_true (g_ptr_array_find_with_equal_func (ids_b, household, g_str_equal, NULL));
  for (guint i = 0; i < ids_a->len; i++)
    g_ptr_array_add (all, g_strdup (ids_a->pdata[i]));
  for (guint i = 0; i < ids_b->len; i++)
    if (!g_ptr_array_find_with_equal_func (all, ids_b->pdata[i], g_str_equal, NULL))
      g_ptr_array_add (all, g_strdup (ids_b->pdata[i]));
  n_all = center_db_int (c, "SELECT count (DISTINCT record_id) FROM field_state WHERE tbl = 'households'");
  g_assert_cmpint (all->len, ==, n_all);
  g_assert_cmpint (n_all, >, 6);
  g_assert_cmpint (records_of (ma, "submissions.json"), ==, 0);
  g_assert_cmpint (records_of (mb, "submissions.json"), ==, 1);
  g_assert_cmpint (records_of (ma, "members.json") + records_of (mb, "members.json"), ==,
                   center_db_int (c, "SELECT count (DISTINCT record_id) FROM field_state WHERE tbl = 'members'"));

  /* Nothing new since B: a batch of empty files, continuing where B ended. */
  cursor_b = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (mb, "cursor_to"));
  g_assert_cmpint (center_export (c, &r, COUNTY, "2000-01-01", NULL, cursor_b, "csv", dir_c), ==, 0);
  mc = manifest_of (dir_c);
  g_assert_cmpint (json_object_get_int_member (mc, "cursor_from"), ==, json_object_get_int_member (mb, "cursor_to"));
  g_assert_cmpint (json_object_get_int_member (mc, "cursor_to"), ==, json_object_get_int_member (mb, "cursor_to"));
  {
    JsonArray *files = json_object_get_array_member (mc, "files");

    g_assert_cmpuint (json_array_get_length (files), ==, 7);
    for (guint i = 0; i < json_array_get_length (files); i++)
      g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (files, i), "records"), ==, 0);
  }
  center_stop (c);
}

/* ---- the county's time zone ------------------------------------------------------------------ */

static void
test_time_zone (void)
{
  g_autoptr(Center) c = center_init ("export-tz-center", COUNTY);
  g_autofree char *csv = test_registry ("export-tz-registry", COUNTY, 4, 41);
  g_autofree char *base = test_make_dir ("export-tz");
  g_autofree char *day1 = g_build_filename (base, "day1", NULL);
  g_autofree char *day2 = g_build_filename (base, "day2", NULL);
  g_autofree char *both = g_build_filename (base, "both", NULL);
  g_autofree char *household = NULL;
  g_autofree char *sql = NULL;
  g_autoptr(JsonObject) m1 = NULL;
  g_autoptr(JsonObject) m2 = NULL;
  g_autoptr(JsonObject) m12 = NULL;
  g_autoptr(GDateTime) received = g_date_time_new_utc (2026, 3, 1, 23, 30, 0);
  g_auto(TestRun) r = { 0 };
  gint64 members;

  import_households (c, csv);
  /* One household and its members received at 23:30 UTC on 1 March: 07:30
   * on 2 March in Asia/Shanghai. */
  household = center_db_text (c, "SELECT record_id FROM field_state WHERE tbl = 'households' LIMIT 1");
  sql = g_strdup_printf ("UPDATE changes SET received_at = %" G_GINT64_FORMAT " WHERE household = '%s'",
                         g_date_time_to_unix (received) * 1000, household);
  center_db_exec (c, sql);
  g_free (sql);
  /* … and their transaction's receipt with them (an export finds a day's
   * changes through the receipts, 0020-change-receipts.sql). */
  g_assert_cmpint (center_db_int (c, CHANGES_WITHOUT_RECEIPT), >, 0);
  sql = g_strdup_printf ("UPDATE change_receipts SET first_received = min (first_received, %" G_GINT64_FORMAT ") "
                         "WHERE last_cursor >= (SELECT min (cursor) FROM changes WHERE household = '%s') "
                         "AND first_cursor <= (SELECT max (cursor) FROM changes WHERE household = '%s')",
                         g_date_time_to_unix (received) * 1000, household, household);
  center_db_exec (c, sql);
  g_free (sql);
  g_assert_cmpint (center_db_int (c, CHANGES_WITHOUT_RECEIPT), ==, 0);
  sql = g_strdup_printf ("SELECT count (DISTINCT record_id) FROM changes WHERE tbl = 'members' AND household = '%s'",
                         household);
  members = center_db_int (c, sql);
  g_assert_cmpint (members, >, 0);

  g_assert_cmpint (center_export (c, &r, COUNTY, "2026-03-01", "2026-03-01", NULL, "csv", day1), ==, 0);
  g_assert_cmpint (center_export (c, &r, COUNTY, "2026-03-02", "2026-03-02", NULL, "csv", day2), ==, 0);
  g_assert_cmpint (center_export (c, &r, COUNTY, "2026-03-01", "2026-03-02", NULL, "csv", both), ==, 0);
  m1 = manifest_of (day1);
  m2 = manifest_of (day2);
  m12 = manifest_of (both);
  g_assert_cmpint (records_of (m1, "households.csv"), ==, 0);
  g_assert_cmpint (records_of (m1, "members.csv"), ==, 0);
  g_assert_cmpint (records_of (m2, "households.csv"), ==, 1);
  g_assert_cmpint (records_of (m2, "members.csv"), ==, members);
  g_assert_cmpint (records_of (m12, "households.csv"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (m2, "time_zone"), ==, "Asia/Shanghai");
  g_assert_cmpstr (json_object_get_string_member (m2, "since"), ==, "2026-03-02");
  g_assert_cmpstr (json_object_get_string_member (m2, "until"), ==, "2026-03-02");
  {
    g_autofree char *path = g_build_filename (day2, "households.csv", NULL);
    g_autofree char *text = NULL;

    g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
    g_assert_nonnull (strstr (text, household));
  }

  /* The calendar's ends (issue 5, M6): the first day of year 1 to the last
   * of year 9999 holds every record (the day after it is in no calendar
   * GLib keeps: the period has no end), as a batch without an end does. */
  {
    g_autofree char *ends = g_build_filename (base, "ends", NULL);
    g_autofree char *open = g_build_filename (base, "open", NULL);
    g_autoptr(JsonObject) m_ends = NULL;
    g_autoptr(JsonObject) m_open = NULL;

    g_assert_cmpint (center_export (c, &r, COUNTY, "0001-01-01", "9999-12-31", NULL, "csv", ends), ==, 0);
    g_assert_cmpint (center_export (c, &r, COUNTY, "0001-01-01", NULL, NULL, "csv", open), ==, 0);
    m_ends = manifest_of (ends);
    m_open = manifest_of (open);
    g_assert_cmpint (records_of (m_ends, "households.csv"), ==, 4);
    g_assert_cmpint (records_of (m_ends, "households.csv"), ==, records_of (m_open, "households.csv"));
    g_assert_cmpint (records_of (m_ends, "members.csv"), ==, records_of (m_open, "members.csv"));
    g_assert_cmpint (json_object_get_int_member (m_ends, "cursor_to"), ==,
                     json_object_get_int_member (m_open, "cursor_to"));
    g_assert_cmpstr (json_object_get_string_member (m_ends, "until"), ==, "9999-12-31");
  }
}

/* ---- receipts ------------------------------------------------------------------------------- */

/* A submission written into changes by hand, outside the center (no
 * receipt), received at @received_ms (Unix milliseconds), in the first
 * village of TOWNSHIP. */
static void
insert_by_hand (Center *c, gint64 received_ms)
{
  g_autofree char *sql = g_strdup_printf ("INSERT OR IGNORE INTO device_numbers (id) VALUES ('test-hand'); "
                                          "INSERT INTO changes (device, seq, kind, tbl, record_id, household, "
                                          "village, fields, received_at, vkey) VALUES ((SELECT num FROM "
                                          "device_numbers WHERE id = 'test-hand'), 1, 'record', "
                                          "'submissions', '0b1e6a52-6a1f-4c4e-9e57-1f0d2a3b4c5d', "
                                          "'0b1e6a52-6a1f-4c4e-9e57-1f0d2a3b4c5e', '%s001001', "
                                          "json_object ('form_id', 'hand'), %" G_GINT64_FORMAT ", "
                                          "hearth_record_key ('submissions', '0b1e6a52-6a1f-4c4e-9e57-1f0d2a3b4c5d'))",
                                          TOWNSHIP, received_ms);

  center_db_exec (c, sql);
}

/* An export finds the changes of its dates through the receipts of the
 * transactions that stored them (0020-change-receipts.sql), each change's
 * own receipt time still compared: two imports moved to two days are
 * exported a day each, the day between has none, and a change written by
 * hand after the last receipt is found by its own time. */
static void
test_receipts (void)
{
  g_autoptr(Center) c = center_init ("export-receipts-center", COUNTY);
  g_autofree char *csv1 = test_registry ("export-receipts-registry1", COUNTY, 3, 51);
  g_autofree char *csv2 = test_registry ("export-receipts-registry2", COUNTY, 2, 52);
  g_autofree char *base = test_make_dir ("export-receipts");
  g_autoptr(GDateTime) day1 = g_date_time_new_utc (2026, 3, 1, 4, 0, 0);
  g_autoptr(GDateTime) day5 = g_date_time_new_utc (2026, 3, 5, 4, 0, 0);
  g_autoptr(GDateTime) day3 = g_date_time_new_utc (2026, 3, 3, 4, 0, 0);
  gint64 ms1 = g_date_time_to_unix (day1) * 1000, ms5 = g_date_time_to_unix (day5) * 1000;
  gint64 ms3 = g_date_time_to_unix (day3) * 1000, split;
  g_autofree char *sql = NULL;
  g_auto(TestRun) r = { 0 };
  struct {
    const char *since, *until, *name;
    gint64 households;
  } cases[] = {
    { "2026-03-01", "2026-03-01", "d1", 3 },
    { "2026-03-05", "2026-03-05", "d5", 2 },
    { "2026-03-02", "2026-03-04", "d234", 0 },
    { "2026-03-01", "2026-03-05", "d15", 5 },
    { "2026-03-06", NULL, "d6", 0 },
  };

  import_households (c, csv1);
  split = center_db_int (c, "SELECT max (cursor) FROM changes");
  import_households (c, csv2);
  /* A receipt a transaction, covering its changes. */
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM change_receipts"), ==, 2);
  g_assert_cmpint (center_db_int (c, CHANGES_WITHOUT_RECEIPT), ==, 0);
  sql = g_strdup_printf ("SELECT count (*) FROM change_receipts WHERE last_cursor = %" G_GINT64_FORMAT, split);
  g_assert_cmpint (center_db_int (c, sql), ==, 1);
  g_clear_pointer (&sql, g_free);
  /* The first import received on 1 March, the second on 5 March. */
  sql = g_strdup_printf ("UPDATE changes SET received_at = CASE WHEN cursor <= %" G_GINT64_FORMAT " THEN %"
                         G_GINT64_FORMAT " ELSE %" G_GINT64_FORMAT " END; "
                         "UPDATE change_receipts SET first_received = CASE WHEN last_cursor <= %" G_GINT64_FORMAT
                         " THEN %" G_GINT64_FORMAT " ELSE %" G_GINT64_FORMAT " END, last_received = "
                         "first_received",
                         split, ms1, ms5, split, ms1, ms5);
  center_db_exec (c, sql);
  g_clear_pointer (&sql, g_free);
  g_assert_cmpint (center_db_int (c, CHANGES_WITHOUT_RECEIPT), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = g_build_filename (base, cases[i].name, NULL);
      g_autoptr(JsonObject) m = NULL;

      g_assert_cmpint (center_export (c, &r, COUNTY, cases[i].since, cases[i].until, NULL, "csv", out), ==, 0);
      m = manifest_of (out);
      g_assert_cmpint (records_of (m, "households.csv"), ==, cases[i].households);
    }
  /* A batch with an end ends its cursors there: the next one, from its
   * cursor_to, holds what it left out for its date, whether it starts
   * the day after or on the same day (README's example). */
  {
    g_autofree char *first = g_build_filename (base, "until1", NULL);
    g_autofree char *next = g_build_filename (base, "next2", NULL);
    g_autofree char *same = g_build_filename (base, "next1", NULL);
    g_autofree char *after = NULL;
    g_autoptr(JsonObject) m = NULL;
    g_autoptr(JsonObject) mn = NULL;
    g_autoptr(JsonObject) ms = NULL;

    g_assert_cmpint (center_export (c, &r, COUNTY, "2026-03-01", "2026-03-01", NULL, "csv", first), ==, 0);
    m = manifest_of (first);
    g_assert_cmpint (json_object_get_int_member (m, "cursor_to"), ==, split);
    g_assert_cmpint (records_of (m, "households.csv"), ==, 3);
    after = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (m, "cursor_to"));
    g_assert_cmpint (center_export (c, &r, COUNTY, "2026-03-02", NULL, after, "csv", next), ==, 0);
    g_assert_cmpint (center_export (c, &r, COUNTY, "2026-03-01", NULL, after, "csv", same), ==, 0);
    mn = manifest_of (next);
    ms = manifest_of (same);
    g_assert_cmpint (records_of (mn, "households.csv"), ==, 2);
    g_assert_cmpint (records_of (ms, "households.csv"), ==, 2);
    g_assert_cmpint (json_object_get_int_member (mn, "cursor_to"), ==,
                     center_db_int (c, "SELECT max (cursor) FROM changes"));
  }
  /* A change written by hand (no receipt), received on 3 March. */
  insert_by_hand (c, ms3);
  g_assert_cmpint (center_db_int (c, CHANGES_WITHOUT_RECEIPT), ==, 1);
  {
    g_autofree char *d3 = g_build_filename (base, "hand3", NULL);
    g_autofree char *d1 = g_build_filename (base, "hand1", NULL);
    g_autoptr(JsonObject) m3 = NULL;
    g_autoptr(JsonObject) m1 = NULL;

    g_assert_cmpint (center_export (c, &r, COUNTY, "2026-03-03", "2026-03-03", NULL, "csv", d3), ==, 0);
    g_assert_cmpint (center_export (c, &r, COUNTY, "2026-03-01", "2026-03-01", NULL, "csv", d1), ==, 0);
    m3 = manifest_of (d3);
    m1 = manifest_of (d1);
    /* Received on 3 March after changes received on 5 March (a clock
     * set back): in the batch of its date, above its cursor_to, which
     * ends before the first change received after the period (the
     * second import), as that of 1 March does. */
    g_assert_cmpint (json_object_get_int_member (m3, "cursor_to"), ==, split);
    g_assert_cmpint (json_object_get_int_member (m1, "cursor_to"), ==, split);
    g_assert_cmpint (records_of (m3, "submissions.csv"), ==, 1);
    g_assert_cmpint (records_of (m3, "households.csv"), ==, 0);
    g_assert_cmpint (records_of (m1, "submissions.csv"), ==, 0);
    g_assert_cmpint (records_of (m1, "households.csv"), ==, 3);
  }
}

/* A transaction whose last changes a savepoint undid (a push of a group
 * commit refused after it stored some) leaves no receipt above the change
 * log's end: the cursors undone are given again, and a change written
 * there by hand is still found by its own receipt time, as one written
 * after the last receipt is (test_receipts()). */
static void
test_receipt_undone (void)
{
  g_autoptr(Center) c = center_init ("export-receipt-undone-center", COUNTY);
  g_autofree char *csv = test_registry ("export-receipt-undone-registry", COUNTY, 3, 51);
  g_autofree char *base = test_make_dir ("export-receipt-undone");
  g_autoptr(GDateTime) day3 = g_date_time_new_utc (2026, 3, 3, 4, 0, 0);
  g_autoptr(GDateTime) day5 = g_date_time_new_utc (2026, 3, 5, 4, 0, 0);
  gint64 ms3 = g_date_time_to_unix (day3) * 1000, ms5 = g_date_time_to_unix (day5) * 1000, top;
  g_autofree char *out = g_build_filename (base, "d3", NULL);
  g_autoptr(JsonObject) m = NULL;
  g_auto(TestRun) r = { 0 };

  import_households (c, csv);
  top = center_db_int (c, "SELECT max (cursor) FROM changes");
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM change_receipts"), ==, 1);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthCenterStore) store = hearth_center_store_sqlite_open (c->db_path, FALSE, &error);
    g_autoptr(HearthCenterTxn) txn = NULL;
    g_autoptr(HearthChange) kept = hearth_change_new (HEARTH_CHANGE_RECORD);
    g_autoptr(HearthChange) undone = hearth_change_new (HEARTH_CHANGE_RECORD);
    gint64 cursor;

    g_assert_no_error (error);
    txn = hearth_center_store_begin (store, TRUE, &error);
    g_assert_no_error (error);
    /* One change kept, received on 5 March, then two undone. */
    kept->table = g_strdup ("submissions");
    kept->id = g_uuid_string_random ();
    kept->household = g_uuid_string_random ();
    kept->village = g_strdup (TOWNSHIP "001001");
    g_hash_table_insert (kept->fields, g_strdup ("form_id"), g_strdup ("kept"));
    cursor = hearth_center_txn_add_change (txn, "test-undone", 1, kept, NULL, NULL, ms5, &error);
    g_assert_no_error (error);
    g_assert_cmpint (cursor, ==, top + 1);
    g_assert_true (hearth_center_txn_savepoint (txn, HEARTH_CENTER_SAVEPOINT_BEGIN, &error));
    for (int i = 0; i < 2; i++)
      {
        g_free (undone->id);
        undone->table = g_strdup ("submissions");
        undone->id = g_uuid_string_random ();
        g_free (undone->household);
        undone->household = g_strdup (kept->household);
        g_free (undone->village);
        undone->village = g_strdup (kept->village);
        g_assert_cmpint (hearth_center_txn_add_change (txn, "test-undone", 2 + i, undone, NULL, NULL, ms5, &error),
                         ==, top + 2 + i);
        g_assert_no_error (error);
        g_clear_pointer (&undone->table, g_free);
      }
    g_assert_true (hearth_center_txn_savepoint (txn, HEARTH_CENTER_SAVEPOINT_ROLLBACK, &error));
    g_assert_no_error (error);
    g_assert_true (hearth_center_txn_commit (g_steal_pointer (&txn), &error));
    g_assert_no_error (error);
  }
  /* Its receipt ends at the log's end. */
  g_assert_cmpint (center_db_int (c, "SELECT max (last_cursor) FROM change_receipts"), ==, top + 1);
  /* A change written by hand (no receipt), received on 3 March: given a
   * cursor the undone changes had. */
  insert_by_hand (c, ms3);
  g_assert_cmpint (center_db_int (c, "SELECT max (cursor) FROM changes"), ==, top + 2);
  g_assert_cmpint (center_export (c, &r, COUNTY, "2026-03-03", "2026-03-03", NULL, "csv", out), ==, 0);
  m = manifest_of (out);
  g_assert_cmpint (records_of (m, "submissions.csv"), ==, 1);
  g_assert_cmpint (records_of (m, "households.csv"), ==, 0);
}

/* ---- the export endpoint ------------------------------------------------------------------------ */

static void
test_remote (void)
{
  g_autoptr(Center) c = center_init ("export-remote-center", COUNTY);
  g_autofree char *csv = test_registry ("export-remote-registry", COUNTY, 8, 51);
  g_autofree char *base = test_make_dir ("export-remote");
  g_auto(TestTablet) county = { 0 };
  g_auto(TestTablet) town = { 0 };
  g_auto(TestTablet) worker = { 0 };
  g_auto(TestRun) r = { 0 };
  const char *formats[] = { "csv", "json" };
  g_autofree char *household = NULL;

  center_add_user (c, "county.staff", "county", COUNTY);
  center_add_user (c, "town.staff", "county", TOWNSHIP);
  center_add_user (c, "w.one", "worker", COUNTY);
  import_households (c, csv);
  center_start (c);
  test_tablet_enrol (&county, "export-remote-county", c, "county.staff");
  test_tablet_enrol (&town, "export-remote-town", c, "town.staff");
  test_tablet_enrol (&worker, "export-remote-worker", c, "w.one");
  g_assert_cmpint (test_tablet_sync (&worker), ==, 0);
  household = test_tablet_text (&worker, "SELECT id FROM households ORDER BY id LIMIT 1");
  visit (&worker, household, "2026-11-20T10:00:00+08:00");
  g_assert_cmpint (test_tablet_sync (&worker), ==, 0);

  /* A worker's tablet: 403, nothing written. */
  {
    g_autofree char *out = g_build_filename (base, "worker", NULL);

    test_tablet_cli (&r, &worker, "export", "--scope", COUNTY, "--since", "2000-01-01", "--format", "csv", "--out",
                     out, NULL);
    g_assert_cmpint (r.status, ==, 6);
    g_assert_nonnull (strstr (r.err, "county staff"));
    g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  }
  /* A county user of one township: only its scope. */
  {
    g_autofree char *out = g_build_filename (base, "town", NULL);

    test_tablet_cli (&r, &town, "export", "--scope", COUNTY, "--since", "2000-01-01", "--format", "csv", "--out",
                     out, NULL);
    g_assert_cmpint (r.status, ==, 6);
    g_assert_nonnull (strstr (r.err, "outside"));
    test_tablet_cli (&r, &town, "export", "--scope", TOWNSHIP, "--since", "2000-01-01", "--format", "csv", "--out",
                     out, NULL);
    g_assert_cmpint (r.status, ==, 0);
  }
  /* A bad date: the center's refusal names it. */
  {
    g_autofree char *out = g_build_filename (base, "bad-date", NULL);

    test_tablet_cli (&r, &county, "export", "--scope", COUNTY, "--since", "2026-13-01", "--format", "csv", "--out",
                     out, NULL);
    g_assert_cmpint (r.status, ==, 1);   /* refused input: the query is the user's */
    g_assert_nonnull (strstr (r.err, "2026-13-01"));
  }

  /* A county tablet: the batch the center's own export writes, byte for
   * byte, verified. */
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *remote = g_strdup_printf ("%s/remote-%s", base, formats[i]);
      g_autofree char *local = g_strdup_printf ("%s/local-%s", base, formats[i]);
      g_autofree char *remote_after = g_strdup_printf ("%s/remote-after-%s", base, formats[i]);
      g_autofree char *local_after = g_strdup_printf ("%s/local-after-%s", base, formats[i]);

      test_tablet_cli (&r, &county, "export", "--scope", COUNTY, "--since", "2000-01-01", "--until", "2099-12-31",
                       "--format", formats[i], "--out", remote, NULL);
      g_assert_cmpint (r.status, ==, 0);
      g_assert_nonnull (strstr (r.out, "verified"));
      g_assert_cmpint (center_export (c, &r, COUNTY, "2000-01-01", "2099-12-31", NULL, formats[i], local), ==, 0);
      assert_same_folder (remote, local);
      test_run_clear (&r);
      test_run_cli (&r, NULL, "verify-batch", remote, NULL);
      g_assert_cmpint (r.status, ==, 0);

      /* And continuing after a cursor, alike. */
      test_tablet_cli (&r, &county, "export", "--scope", TOWNSHIP, "--since", "2000-01-01", "--after-cursor", "5",
                       "--format", formats[i], "--out", remote_after, NULL);
      g_assert_cmpint (r.status, ==, 0);
      g_assert_cmpint (center_export (c, &r, TOWNSHIP, "2000-01-01", NULL, "5", formats[i], local_after), ==, 0);
      assert_same_folder (remote_after, local_after);
    }
  /* --key: the center's key is taken, another refused (exit 1, naming
   * both), and the batch written says so. */
  {
    g_autofree char *key = batch_key_of (c->db);
    g_autofree char *good = g_build_filename (base, "with-key", NULL);
    g_autofree char *bad = g_build_filename (base, "with-other-key", NULL);
    const char *other = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    test_tablet_cli (&r, &county, "export", "--scope", COUNTY, "--since", "2000-01-01", "--format", "csv", "--out",
                     good, "--key", key, NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "the key given"));
    test_tablet_cli (&r, &county, "--json", "export", "--scope", COUNTY, "--since", "2000-01-01", "--format", "csv",
                     "--out", bad, "--key", other, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, other));
    g_assert_nonnull (strstr (r.err, key));
    /* Nothing of the refused batch is left where a script would take it
     * (it would verify without --key), not even the folder it made; a
     * folder that was there, empty, stays, empty. */
    g_assert_nonnull (strstr (r.err, "nothing of it was kept"));
    g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
    g_assert_cmpint (g_mkdir (bad, 0700), ==, 0);
    test_tablet_cli (&r, &county, "export", "--scope", COUNTY, "--since", "2000-01-01", "--format", "json", "--out",
                     bad, "--key", other, NULL);
    g_assert_cmpint (r.status, ==, 1);
    {
      g_autoptr(GDir) left = g_dir_open (bad, 0, NULL);

      g_assert_nonnull (left);
      g_assert_null (g_dir_read_name (left));
    }
    /* --json: the manifest and the key that signed it. */
    {
      g_autofree char *json_out = g_build_filename (base, "json-out", NULL);
      g_autoptr(JsonParser) p = json_parser_new ();
      JsonObject *o;

      test_tablet_cli (&r, &county, "--json", "export", "--scope", COUNTY, "--since", "2000-01-01", "--format",
                       "json", "--out", json_out, NULL);
      g_assert_cmpint (r.status, ==, 0);
      g_assert_true (json_parser_load_from_data (p, r.out, -1, NULL));
      o = json_node_get_object (json_parser_get_root (p));
      g_assert_cmpstr (json_object_get_string_member (o, "signed_by"), ==, key);
      g_assert_true (json_object_has_member (json_object_get_object_member (o, "manifest"), "cursor_to"));
    }
  }
  /* A folder that is not empty is refused before the network. */
  {
    g_autofree char *out = g_build_filename (base, "remote-csv", NULL);

    test_tablet_cli (&r, &county, "export", "--scope", COUNTY, "--since", "2000-01-01", "--format", "csv", "--out",
                     out, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "not empty"));
  }
  /* An empty --out is no folder: refused before the network. */
  test_tablet_cli (&r, &county, "export", "--scope", COUNTY, "--since", "2000-01-01", "--format", "csv", "--out", "",
                   NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--out DIR"));
  /* So is a file, called what it is. */
  {
    g_autofree char *file = g_build_filename (base, "a-file", NULL);

    g_assert_true (g_file_set_contents (file, "x", -1, NULL));
    test_tablet_cli (&r, &county, "export", "--scope", COUNTY, "--since", "2000-01-01", "--format", "csv", "--out",
                     file, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "is a file, not a folder"));
  }

  /* Over 64 MiB: 413, narrow the period; the center's own export has no
   * such bound. */
  {
    g_autofree char *sql = g_strdup_printf (
      "INSERT OR IGNORE INTO device_numbers (id) VALUES ('test-big'); "
      "INSERT INTO changes (device, seq, kind, tbl, record_id, household, village, fields, received_at, vkey) "
      "VALUES ((SELECT num FROM device_numbers WHERE id = 'test-big'), 1, 'record', 'submissions', '0b1e6a52-6a1f-4c4e-9e57-1f0d2a3b4c5d', "
      "'0b1e6a52-6a1f-4c4e-9e57-1f0d2a3b4c5e', '%s001001', json_object ('form_id', 'big', 'instance_xml', "
      "replace (hex (zeroblob (36000000)), '0', 'x')), %" G_GINT64_FORMAT ", "
      "hearth_record_key ('submissions', '0b1e6a52-6a1f-4c4e-9e57-1f0d2a3b4c5d'))",
      TOWNSHIP, g_get_real_time () / 1000);
    g_autofree char *out = g_build_filename (base, "big", NULL);
    g_autofree char *local = g_build_filename (base, "big-local", NULL);

    center_db_exec (c, sql);
    test_tablet_cli (&r, &county, "export", "--scope", COUNTY, "--since", "2000-01-01", "--format", "json", "--out",
                     out, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "64 MiB"));
    g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
    g_assert_cmpint (center_export (c, &r, COUNTY, "2000-01-01", NULL, NULL, "json", local), ==, 0);
  }
  center_stop (c);
}

/* ---- the batch signing key --------------------------------------------------------------------- */

static void
test_batch_key (void)
{
  g_autoptr(Center) c = center_init ("export-key-center", COUNTY);
  g_autoptr(Center) other = center_init ("export-key-other", COUNTY);
  g_autofree char *base = test_make_dir ("export-key");
  g_autofree char *backup = g_build_filename (base, "backup.db", NULL);
  g_autofree char *backup_db = g_strconcat ("sqlite:", backup, NULL);
  g_autofree char *batch = g_build_filename (base, "batch", NULL);
  g_autofree char *key = batch_key_of (c->db);
  g_autofree char *other_key = batch_key_of (other->db);
  g_autofree char *backup_key = NULL;
  g_autofree char *upgraded = NULL;
  g_autofree char *again = NULL;
  g_auto(TestRun) r = { 0 };

  /* Each center its own key, made with the store. */
  g_assert_cmpstr (key, !=, other_key);
  g_assert_cmpint (center_db_int (c, "SELECT length (seed) FROM batch_signing_key"), ==, 32);

  /* A backup is the same center: it signs with the same key. */
  run_center (&r, "--db", c->db, "backup", "--out", backup, NULL);
  g_assert_cmpint (r.status, ==, 0);
  backup_key = batch_key_of (backup_db);
  g_assert_cmpstr (backup_key, ==, key);

  /* A batch of one center does not pass as the other's. */
  test_run_clear (&r);
  g_assert_cmpint (center_export (c, &r, COUNTY, "2000-01-01", NULL, NULL, "csv", batch), ==, 0);
  test_run_clear (&r);
  run_center (&r, "--db", other->db, "verify-batch", "--key", other_key, batch, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, key));

  /* A public key that is not the seed's (the table edited by hand) is
   * neither printed nor signed with. */
  test_run_clear (&r);
  center_db_exec (other, "UPDATE batch_signing_key SET public_key = zeroblob (32)");
  run_center (&r, "--db", other->db, "batch-key", NULL);
  g_assert_cmpint (r.status, !=, 0);
  g_assert_cmpstr (r.out, ==, "");
  g_assert_nonnull (strstr (r.err, "does not match its public key"));
  test_run_clear (&r);
  {
    g_autofree char *refused = g_build_filename (base, "refused", NULL);

    g_assert_cmpint (center_export (other, &r, COUNTY, "2000-01-01", NULL, NULL, "csv", refused), !=, 0);
    g_assert_nonnull (strstr (r.err, "does not match its public key"));
    g_assert_false (g_file_test (refused, G_FILE_TEST_EXISTS));   /* no unsigned batch left */
  }

  /* A store from before 0018: the migration makes the table, the store
   * its key when next opened, and keeps it. */
  center_back_to_18 (c);
  center_db_exec (c, "DROP TABLE batch_signing_key; PRAGMA user_version = 17");
  upgraded = batch_key_of (c->db);
  g_assert_cmpstr (upgraded, !=, key);
  g_assert_cmpint (center_db_int (c, "PRAGMA user_version"), ==, CENTER_SCHEMA_VERSION);
  again = batch_key_of (c->db);
  g_assert_cmpstr (again, ==, upgraded);
}

/* ---- import-households ------------------------------------------------------------------------- */

/* Whether @text holds 17 digits and a digit or X: an ID number (the
 * registry numbers are 17 digits alone) (break33: the
 * refusals of a registry printed them; personal data is never shown in
 * output that may be kept in a log). */
static gboolean
holds_id_number (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    {
      gsize digits = strspn (p, "0123456789");

      if (digits == 18 || (digits == 17 && (p[17] == 'X' || p[17] == 'x')))
        return TRUE;
      if (digits > 0)
        p += digits - 1;
    }
  return FALSE;
}

static void
test_import_households (void)
{
  g_autoptr(Center) c = center_init ("export-import-center", COUNTY);
  g_autofree char *csv = test_registry ("export-import-registry", COUNTY, 40, 61);
  g_autofree char *base = test_make_dir ("export-import");
  g_autofree char *bad = g_build_filename (base, "bad.csv", NULL);
  g_autofree char *household = NULL;
  g_autofree char *sql = NULL;
  g_auto(TestTablet) t = { 0 };
  g_auto(TestRun) r = { 0 };
  gint64 changes, in_township, members_in_township;

  center_add_user (c, "w.town", "worker", TOWNSHIP);
  /* As a spreadsheet may export it: GB18030. */
  {
    g_autofree char *gb = g_build_filename (base, "gb18030.csv", NULL);
    g_autofree char *text = NULL;
    g_autofree char *converted = NULL;
    gsize len = 0, written = 0;

    g_assert_true (g_file_get_contents (csv, &text, &len, NULL));
    g_assert_true (g_str_has_prefix (text, "\xEF\xBB\xBF"));
    converted = g_convert (text + 3, (gssize) len - 3, "GB18030", "UTF-8", NULL, &written, NULL);
    g_assert_nonnull (converted);
    g_assert_false (g_utf8_validate (converted, (gssize) written, NULL));
    g_assert_true (g_file_set_contents (gb, converted, (gssize) written, NULL));
    run_center (&r, "--db", c->db, "import-households", gb, NULL);
  }
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "40 households"));
  /* The names read as the Chinese they are. */
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM field_state WHERE tbl = 'households' AND field = "
                                     "'head_name' AND length (value) BETWEEN 2 AND 4"), ==, 40);
  changes = center_db_int (c, "SELECT count (*) FROM changes");
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes WHERE device <> 0"), ==, 0);
  g_assert_cmpint (center_db_int (c, "SELECT last_seq FROM center_own"), ==, changes);
  in_township = center_db_int (c, "SELECT count (*) FROM field_state WHERE tbl = 'households' AND field = "
                                  "'village_code' AND value LIKE '" TOWNSHIP "%'");
  members_in_township = center_db_int (c, "SELECT count (DISTINCT f.record_id) FROM field_state f JOIN changes e "
                                          "ON e.kind = 'edit' AND e.tbl = f.tbl AND e.record_id = f.record_id "
                                          "AND e.field = f.field AND e.hlc = f.hlc WHERE f.tbl = 'members' "
                                          "AND e.village LIKE '" TOWNSHIP "%'");
  g_assert_cmpint (in_township, >, 0);
  g_assert_cmpint (in_township, <, 40);

  /* The same registry again, in UTF-8 with a byte order mark: every number
   * is the center's already. */
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "import-households", csv, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "already in the store"));
  g_assert_false (holds_id_number (r.err));
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, changes);

  /* A bad row imports nothing and is named by its line; so is a village of
   * another county. */
  {
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GString) out = g_string_new (NULL);
    g_autofree char *fresh = test_registry ("export-import-fresh", COUNTY, 3, 62);

    g_assert_true (g_file_get_contents (fresh, &text, NULL, NULL));
    lines = g_strsplit (text, "\n", -1);
    for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
      {
        g_autofree char *line = g_strdup (lines[i]);

        if (i == 3)
          {
            /* line 4: the ID number's check character broken */
            char **cells = g_strsplit (line, ",", -1);
            gsize n = strlen (cells[6]);
            cells[6][n - 1] = cells[6][n - 1] == '1' ? '2' : '1';
            g_free (line);
            line = g_strjoinv (",", cells);
            g_strfreev (cells);
          }
        if (i == 5)
          {
            /* line 6: a village of another county */
            char **cells = g_strsplit (line, ",", -1);
            memcpy (cells[1], "360102", 6);
            g_free (line);
            line = g_strjoinv (",", cells);
            g_strfreev (cells);
          }
        g_string_append_printf (out, "%s\n", line);
      }
    g_assert_true (g_file_set_contents (bad, out->str, -1, NULL));
  }
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "import-households", bad, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "line 4: ID number"));
  g_assert_false (holds_id_number (r.err));
  g_assert_nonnull (strstr (r.err, "line 6: the village code"));
  g_assert_nonnull (strstr (r.err, "nothing was imported"));
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, changes);

  /* A tablet of the township: its households on its first sync, with their
   * members, and no other. */
  center_start (c);
  test_tablet_enrol (&t, "export-import-tablet", c, "w.town");
  g_assert_cmpint (test_tablet_sync (&t), ==, 0);
  g_assert_cmpint (test_tablet_int (&t, "SELECT count (*) FROM households"), ==, in_township);
  g_assert_cmpint (test_tablet_int (&t, "SELECT count (*) FROM households WHERE village_code NOT LIKE '" TOWNSHIP
                                        "%'"), ==, 0);
  g_assert_cmpint (test_tablet_int (&t, "SELECT count (*) FROM members"), ==, members_in_township);
  g_assert_cmpint (test_tablet_int (&t, "SELECT count (*) FROM households WHERE registry_no IS NULL"), ==, 0);
  g_assert_cmpint (test_tablet_int (&t, "SELECT count (*) FROM sync_apply_errors"), ==, 0);

  /* It visits one of them: the center takes the visit (its scope holds the
   * household's village at the center too). */
  household = test_tablet_text (&t, "SELECT id FROM households ORDER BY id LIMIT 1");
  visit (&t, household, "2026-11-20T10:00:00+08:00");
  g_assert_cmpint (test_tablet_sync (&t), ==, 0);
  g_assert_cmpint (test_tablet_int (&t, "SELECT count (*) FROM sync_refused"), ==, 0);
  sql = g_strdup_printf ("SELECT count (*) FROM changes WHERE tbl = 'submissions' AND household = '%s'", household);
  g_assert_cmpint (center_db_int (c, sql), ==, 1);
  center_stop (c);
}

/* @path's text with line @n (1: the header) cell @cell replaced by @value
 * (the line's cells split at commas; @cell -1: @value appended as a cell),
 * written to @out. */
static void
edit_registry_cell (const char *path, guint n, int cell, const char *value, const char *out)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *joined = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), >, n);
  {
    g_auto(GStrv) cells = g_strsplit (lines[n - 1], ",", -1);
    g_autofree char *line = NULL;

    if (cell >= 0)
      {
        g_assert_cmpuint (g_strv_length (cells), >, (guint) cell);
        g_free (cells[cell]);
        cells[cell] = g_strdup (value);
        line = g_strjoinv (",", cells);
      }
    else
      {
        /* Before the line's CR: the generated file has CRLF lines. */
        gsize len = strlen (lines[n - 1]);
        gboolean cr = len > 0 && lines[n - 1][len - 1] == '\r';

        line = g_strdup_printf ("%.*s,%s%s", (int) (cr ? len - 1 : len), lines[n - 1], value, cr ? "\r" : "");
      }
    g_free (lines[n - 1]);
    lines[n - 1] = g_steal_pointer (&line);
  }
  joined = g_strjoinv ("\n", lines);
  g_assert_true (g_file_set_contents (out, joined, -1, NULL));
}

/* A registry a spreadsheet or a hand got wrong imports nothing, each bad
 * row named by its line and what is wrong with it; a FIFO or a device is
 * refused at once instead of read without end. */
static void
test_import_hostile (void)
{
  g_autoptr(Center) c = center_init ("export-hostile-center", COUNTY);
  g_autofree char *csv = test_registry ("export-hostile-registry", COUNTY, 3, 63);
  g_autofree char *base = test_make_dir ("export-hostile");
  g_autofree char *bad = g_build_filename (base, "bad.csv", NULL);
  g_autofree char *fifo = g_build_filename (base, "fifo.csv", NULL);
  g_autofree char *long_address = g_strnfill (HEARTH_REGISTRY_MAX_CHARS + 1, 'x');
  /* The generated file's columns: 户编号 0, 住址 2, 姓名 5, 健康状况 10,
   * 劳动技能 11, 在校生状况 12, 参加医疗保险 13. */
  const struct { guint line; int cell; const char *value; const char *says; } cases[] = {
    /* An address of the maximum and one more character. */
    { 2, 2, long_address, "line 2: address is longer than 256 characters" },
    /* A name over two lines: refused, and named by the line it starts on. */
    { 3, 5, "\"王\n芳\"", "line 3: name is longer than 256 characters or holds a line break" },
    { 2, 5, "王\x1b[2J芳", "line 2: name is longer" },
    /* Codes the registration form does not know. */
    { 2, 10, "sick", "line 2: health \"sick\" is not one of healthy chronic serious disabled" },
    { 3, 11, "strong", "line 3: labour \"strong\" is not one of" },
    { 2, 12, "in school", "line 2: school_status \"in school\" is not one of" },
    { 2, 13, "maybe", "line 2: insurance \"maybe\" is not one of yes no" },
    /* An unquoted comma: one field more than the header. */
    { 2, -1, "x", "line 2: a row has 16 fields, the header 15" },
    /* A township's code in 12 digits (break13): its households would be
     * in no village. */
    { 2, 1, "150422101000", "line 2: the village code \"150422101000\" ends in 000: that is township 150422101" },
    /* Text after a closing quote was taken into the field unseen
     * (break13): "张三"李四 imported as 张三李四. */
    { 3, 5, "\"张三\"李四", "line 3: text follows the closing quote of a quoted field" },
    /* Invisible characters (break13): a byte order mark inside the file
     * (two files joined) made another registry number of the same one;
     * a direction override hides what a name reads. */
    { 2, 0, "\xef\xbb\xbf" "15042210120100001", "line 2: household_no holds the invisible character U+FEFF" },
    { 3, 5, "王\xe2\x80\xae芳", "line 3: name holds the invisible character U+202E" },
  };
  g_auto(TestRun) r = { 0 };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      edit_registry_cell (csv, cases[i].line, cases[i].cell, cases[i].value, bad);
      test_run_clear (&r);
      run_center (&r, "--db", c->db, "import-households", bad, NULL);
      g_assert_cmpint (r.status, ==, 1);
      g_assert_nonnull (strstr (r.err, cases[i].says));
      g_assert_nonnull (strstr (r.err, "nothing was imported"));
    }
  /* After a name over two lines, the next bad row is named by its line
   * in the file. */
  {
    g_autofree char *two = g_build_filename (base, "two.csv", NULL);

    edit_registry_cell (csv, 2, 5, "\"王\n芳\"", two);
    edit_registry_cell (two, 5, 10, "sick", bad);
    test_run_clear (&r);
    run_center (&r, "--db", c->db, "import-households", bad, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "line 2: name"));
    g_assert_nonnull (strstr (r.err, "line 5: health \"sick\""));
  }
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, 0);

  /* A byte of another encoding in a file marked UTF-8, and a NUL, in a
   * file without the mark too: named by their line (break13: "neither
   * UTF-8 nor GB18030" named none). */
  edit_registry_cell (csv, 4, 2, "\xe9", bad);
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "import-households", bad, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "line 4 is not UTF-8 text"));
  {
    g_autofree char *whole = NULL;
    gsize len = 0;
    char *at;

    g_assert_true (g_file_get_contents (csv, &whole, &len, NULL));
    g_assert_true (g_str_has_prefix (whole, "\xef\xbb\xbf"));
    at = whole;
    for (guint line = 1; line < 5; line++)
      at = strchr (at, '\n') + 1;
    at[3] = '\0';
    for (guint bom = 0; bom < 2; bom++)
      {
        g_assert_true (g_file_set_contents (bad, whole + (bom ? 0 : 3), (gssize) (len - (bom ? 0 : 3)), NULL));
        test_run_clear (&r);
        run_center (&r, "--db", c->db, "import-households", bad, NULL);
        g_assert_cmpint (r.status, ==, 1);
        g_assert_nonnull (strstr (r.err, bom ? "line 5 is not UTF-8 text" : "line 5 of the registry holds a NUL"));
      }
  }
  /* Without the mark, a stray Latin-1 byte in a UTF-8 file whose bytes
   * happen to decode as GB18030: imported as GB18030 (break33), every
   * name garbled ("张三" as "寮犱笁"), exit 0. Refused, naming the line. */
  {
    static const char utf8_with_latin1[] =
      "household_no,village_code,address,category,phone,name,id_number,relation,health,labour,school_status,"
      "insurance\n"
      "H70,150422101001,内蒙古自治区赤峰市巴林右旗大板镇,1,13800000000,张三,150422198001150705,01,healthy,ordinary,not_student,"
      "yes\n"
      "H70,150422101001,Caf\xe9s,1,13800000000,李四,150422198001160719,10,healthy,ordinary,not_student,yes\n";
    g_autofree char *gb = g_convert (utf8_with_latin1, -1, "UTF-8", "GB18030", NULL, NULL, NULL);

    g_assert_nonnull (gb);  /* decodes as GB18030: what made it pass */
    g_assert_true (g_file_set_contents (bad, utf8_with_latin1, -1, NULL));
    test_run_clear (&r);
    run_center (&r, "--db", c->db, "import-households", bad, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "line 3 holds a byte that is not UTF-8"));
  }
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, 0);

  /* More bad rows than the check goes through: said so, not "1000
   * problems" of a file with 1010 (break33). */
  {
    g_autofree char *whole = NULL;
    g_autoptr(GString) many = NULL;
    char *eol;

    g_assert_true (g_file_get_contents (csv, &whole, NULL, NULL));
    eol = strchr (whole, '\n');
    g_assert_nonnull (eol);
    many = g_string_new_len (whole, eol + 1 - whole);
    for (guint i = 0; i < 1010; i++)
      g_string_append (many, "x\n");
    g_assert_true (g_file_set_contents (bad, many->str, (gssize) many->len, NULL));
    test_run_clear (&r);
    run_center (&r, "--db", c->db, "import-households", bad, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "line 1001: a row has 1 fields"));
    g_assert_nonnull (strstr (r.err, "the check stopped after 1000 problems: the rest of the file was not checked"));
    g_assert_nonnull (strstr (r.err, "at least 1000 problems in the registry (the first 1000 listed): nothing was "
                                     "imported"));
  }

  /* Empty, or a byte order mark alone: said so, not as five missing
   * columns (break33). */
  for (guint bom = 0; bom < 2; bom++)
    {
      g_assert_true (g_file_set_contents (bad, "\xef\xbb\xbf", bom ? 3 : 0, NULL));
      test_run_clear (&r);
      run_center (&r, "--db", c->db, "import-households", bad, NULL);
      g_assert_cmpint (r.status, ==, 1);
      g_assert_nonnull (strstr (r.err, "the registry file is empty"));
      g_assert_null (strstr (r.err, "missing"));
    }

  /* Its header alone: refused, saying so. */
  {
    g_autofree char *whole = NULL;
    char *eol;

    g_assert_true (g_file_get_contents (csv, &whole, NULL, NULL));
    eol = strchr (whole, '\n');
    g_assert_nonnull (eol);
    g_assert_true (g_file_set_contents (bad, whole, eol + 1 - whole, NULL));
    test_run_clear (&r);
    run_center (&r, "--db", c->db, "import-households", bad, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "the registry has its header and no household row"));
  }

  /* Not a regular file: refused, not waited on. */
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "import-households", fifo, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "not a regular file"));
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "import-households", "/dev/zero", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "not a regular file"));

  /* A column twice, in English beside the Chinese: which holds the names
   * is not known. */
  edit_registry_cell (csv, 1, -1, "name", bad);
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "import-households", bad, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "line 1: the column name"));
  g_assert_nonnull (strstr (r.err, "appears twice: columns 6 and 16"));
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, 0);

  /* The file as generated imports. */
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "import-households", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
}

/* ---- publish-form and set-thresholds ----------------------------------------------------------- */

static void
test_publish (void)
{
  g_autoptr(Center) c = center_init ("export-publish-center", COUNTY);
  g_autofree char *base = test_make_dir ("export-publish");
  g_autofree char *form = test_source_path ("schema", "forms", "follow-up.xml", NULL);
  g_autofree char *thresholds = test_source_path ("schema", "forms", "media", "thresholds.xml", NULL);
  g_autofree char *broken = g_build_filename (base, "broken.xml", NULL);
  g_autofree char *changed = g_build_filename (base, "changed.xml", NULL);
  g_autofree char *bad_root = g_build_filename (base, "bad-root.xml", NULL);
  g_autofree char *bad_xml = g_build_filename (base, "bad-xml.xml", NULL);
  g_autofree char *other_county = g_build_filename (base, "other-county.xml", NULL);
  g_autofree char *text = NULL;
  g_auto(TestTablet) t = { 0 };
  g_auto(TestRun) r = { 0 };
  gint64 changes;

  center_add_user (c, "w.one", "worker", TOWNSHIP);

  /* A form that does not load is refused, naming its line. */
  g_assert_true (g_file_set_contents (broken,
                                      "<?xml version=\"1.0\"?>\n"
                                      "<h:html xmlns=\"http://www.w3.org/2002/xforms\" "
                                      "xmlns:h=\"http://www.w3.org/1999/xhtml\">\n"
                                      "  <h:head><h:title>Broken</h:title>\n"
                                      "    <model><instance><data id=\"broken\" version=\"1\"><a/></data></instance>\n"
                                      "      <bind nodeset=\"/data/a\" type=\"string\" relevant=\"1 +\"/>\n"
                                      "    </model>\n"
                                      "  </h:head>\n"
                                      "  <h:body><input ref=\"/data/a\"><label>A</label></input></h:body>\n"
                                      "</h:html>\n", -1, NULL));
  run_center (&r, "--db", c->db, "publish-form", broken, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "line 5"));
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, 0);

  /* A form that loads but that no tablet could open a visit with: a bind
   * on a node the instance lacks, calculations in a cycle, a calculation
   * reading a node that is not there. */
  {
    static const struct { const char *bind, *says; } unusable[] = {
      { "<bind nodeset=\"/data/nothing\" type=\"string\" required=\"true()\"/>",
        "line 5, <bind>: the nodeset /data/nothing names no node of the primary instance" },
      { "<bind nodeset=\"/data/a\" type=\"int\" calculate=\"/data/b + 1\"/>"
        "<bind nodeset=\"/data/b\" type=\"int\" calculate=\"/data/a + 1\"/>",
        "depend on each other in a cycle" },
      { "<bind nodeset=\"/data/a\" type=\"int\" calculate=\"/data/missing + 1\"/>",
        "it reads /data/missing, which is not in the primary instance" },
    };
    g_autofree char *unusable_path = g_build_filename (base, "unusable.xml", NULL);

    for (gsize i = 0; i < G_N_ELEMENTS (unusable); i++)
      {
        g_autofree char *doc = g_strdup_printf ("<?xml version=\"1.0\"?>\n"
                                                "<h:html xmlns=\"http://www.w3.org/2002/xforms\" "
                                                "xmlns:h=\"http://www.w3.org/1999/xhtml\">\n"
                                                "  <h:head><h:title>Unusable</h:title>\n"
                                                "    <model><instance><data id=\"unusable\" version=\"1\"><a/><b/>"
                                                "</data></instance>\n"
                                                "      %s\n"
                                                "    </model>\n"
                                                "  </h:head>\n"
                                                "  <h:body><input ref=\"/data/a\"><label>A</label></input></h:body>\n"
                                                "</h:html>\n",
                                                unusable[i].bind);

        g_assert_true (g_file_set_contents (unusable_path, doc, -1, NULL));
        test_run_clear (&r);
        run_center (&r, "--db", c->db, "publish-form", unusable_path, NULL);
        g_assert_cmpint (r.status, ==, 1);
        g_assert_nonnull (strstr (r.err, unusable[i].says));
      }
    g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, 0);
  }

  /* An id or a version that is not one line of visible text is named as
   * it is (break13: a version of 129 characters or with a line break was
   * "no version"; one with a direction override was published, shown
   * reversed in every list). */
  {
    g_autofree char *long_version = g_strnfill (129, '9');
    const struct { const char *id, *version, *says; } keys[] = {
      { "keys", "2025&#10;1", "form keys: the version “2025\xef\xbf\xbd" "1” is not one line" },
      { "keys", "2025\xe2\x80\xae" "10", "form keys: the version “2025\xef\xbf\xbd" "10” is not one line" },
      { "keys", long_version, "form keys: the version “9999999999999999999999999999999999999999…” is not" },
      { "ke\xe2\x80\xaeys", "1", "the form id “ke\xef\xbf\xbdys” is not one line" },
      { "keys", "", "form keys has no version" },
    };
    g_autofree char *keys_path = g_build_filename (base, "keys.xml", NULL);

    for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
      {
        g_autofree char *doc = g_strdup_printf ("<?xml version=\"1.0\"?>\n"
                                                "<h:html xmlns=\"http://www.w3.org/2002/xforms\" "
                                                "xmlns:h=\"http://www.w3.org/1999/xhtml\">\n"
                                                "  <h:head><h:title>Keys</h:title>\n"
                                                "    <model><instance><data id=\"%s\" version=\"%s\"><a/>"
                                                "</data></instance>\n"
                                                "      <bind nodeset=\"/data/a\" type=\"string\"/>\n"
                                                "    </model>\n"
                                                "  </h:head>\n"
                                                "  <h:body><input ref=\"/data/a\"><label>A</label></input></h:body>\n"
                                                "</h:html>\n",
                                                keys[i].id, keys[i].version);

        g_assert_true (g_file_set_contents (keys_path, doc, -1, NULL));
        test_run_clear (&r);
        run_center (&r, "--db", c->db, "publish-form", keys_path, NULL);
        g_assert_cmpint (r.status, ==, 1);
        if (strstr (r.err, keys[i].says) == NULL)
          g_error ("“%s” does not say “%s”", r.err, keys[i].says);
      }
    g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, 0);

    /* A title is bounded in characters, not bytes (break33 published one
     * of 100,000): 201 refused, 200 taken. */
    for (guint n = HEARTH_CENTER_FORM_TITLE_MAX + 1; n >= HEARTH_CENTER_FORM_TITLE_MAX; n--)
      {
        g_autoptr(GString) title = g_string_new (NULL);
        g_autofree char *doc = NULL;

        for (guint k = 0; k < n; k++)
          g_string_append (title, "题");
        doc = g_strdup_printf ("<?xml version=\"1.0\"?>\n"
                               "<h:html xmlns=\"http://www.w3.org/2002/xforms\" "
                               "xmlns:h=\"http://www.w3.org/1999/xhtml\">\n"
                               "  <h:head><h:title>%s</h:title>\n"
                               "    <model><instance><data id=\"titled\" version=\"1\"><a/></data></instance>\n"
                               "      <bind nodeset=\"/data/a\" type=\"string\"/>\n"
                               "    </model>\n"
                               "  </h:head>\n"
                               "  <h:body><input ref=\"/data/a\"><label>A</label></input></h:body>\n"
                               "</h:html>\n",
                               title->str);
        g_assert_true (g_file_set_contents (keys_path, doc, -1, NULL));
        if (n > HEARTH_CENTER_FORM_TITLE_MAX)
          {
            test_run_clear (&r);
            run_center (&r, "--db", c->db, "publish-form", keys_path, NULL);
            g_assert_cmpint (r.status, ==, 1);
            g_assert_nonnull (strstr (r.err, "form titled: the title has 201 characters, more than 200"));
            g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, 0);
          }
        else
          {
            /* Read, not published: the publishing below counts from none. */
            g_autoptr(GError) error = NULL;
            g_autoptr(HearthForm) titled = hearth_center_read_form (keys_path, NULL, &error);

            g_assert_no_error (error);
            g_assert_cmpuint (g_utf8_strlen (titled->title, -1), ==, HEARTH_CENTER_FORM_TITLE_MAX);
          }
      }
  }

  /* Thresholds: well-formed, with the root of the bundled document. */
  g_assert_true (g_file_get_contents (thresholds, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\n<thresholds>"));   /* HEARTH_CENTER_THRESHOLDS_ROOT */
  {
    g_autoptr(GString) s = g_string_new (text);

    g_string_replace (s, "<thresholds>", "<limits>", 1);
    g_string_replace (s, "</thresholds>", "</limits>", 1);
    g_assert_true (g_file_set_contents (bad_root, s->str, -1, NULL));
    g_string_assign (s, text);
    g_string_replace (s, "</income_line>", "</income>", 1);
    g_assert_true (g_file_set_contents (bad_xml, s->str, -1, NULL));
    g_string_assign (s, text);
    g_string_replace (s, "<county>" COUNTY "</county>", "<county>360102</county>", 1);
    g_assert_true (g_file_set_contents (other_county, s->str, -1, NULL));
  }
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "set-thresholds", bad_root, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "<limits>"));
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "set-thresholds", bad_xml, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "line "));
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "set-thresholds", other_county, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "360102"));
  /* Figures the forms could not measure with, each named with its line:
   * a negative or unreadable line, an exponent XPath does not read, a band
   * below the line, a year twice, a follow-up period missing, periods the
   * tablet refuses, no line at all. */
  {
    static const struct { const char *from, *to, *says; } bad_figures[] = {
      { "<value>7800</value>", "<value>-5</value>", "line 24: <income_line/value> must be a number from 1 to" },
      { "<value>7800</value>", "<value>abc</value>", "<income_line/value> must be a number" },
      { "<value>7800</value>", "<value>1e3</value>", "not “1e3”" },
      { "<value>7800</value>", "<value>7,800</value>", "not “7,800”" },
      { "<watch_band>1.2</watch_band>", "<watch_band>0.5</watch_band>", "<watch_band> must be a number from 1 to 10" },
      { "<year>2025</year>", "<year>2026</year>", "a second income line for 2026" },
      { "<red>3</red>", "", "<followup_days/red> is missing" },
      { "<orange>7</orange>", "<orange>0</orange>", "<followup_days/orange> must be a whole number from 1 to 366" },
      { "<all>90</all>", "<all>quarterly</all>", "<routine_visit_days/all> must be a whole number" },
      { "<priority>30</priority>", "<priority>120</priority>", "priority routine visit period (120 days)" },
      /* Twice: the first checked, the tablet's Today page read the last
       * and refused every visit period (break33). */
      { "</routine_visit_days>", "</routine_visit_days>\n  <routine_visit_days><all>abc</all></routine_visit_days>",
        "a second <routine_visit_days> (of <routine_visit_days/all>)" },
      { "<red>3</red>", "<red>3</red><red>300</red>", "a second <red> (of <followup_days/red>)" },
      /* "for county , this center's is 150422" (break33). */
      { "<county>150422</county>", "<county> </county>", "the thresholds' <county> is empty" },
    };
    g_autofree char *bad_figure = g_build_filename (base, "bad-figure.xml", NULL);
    g_autofree char *no_line = g_build_filename (base, "no-line.xml", NULL);

    for (gsize i = 0; i < G_N_ELEMENTS (bad_figures); i++)
      {
        g_autoptr(GString) s = g_string_new (text);

        g_assert_cmpuint (g_string_replace (s, bad_figures[i].from, bad_figures[i].to, 1), ==, 1);
        g_assert_true (g_file_set_contents (bad_figure, s->str, -1, NULL));
        test_run_clear (&r);
        run_center (&r, "--db", c->db, "set-thresholds", bad_figure, NULL);
        g_assert_cmpint (r.status, ==, 1);
        g_assert_nonnull (strstr (r.err, bad_figures[i].says));
      }
    g_assert_true (g_file_set_contents (no_line, "<thresholds><version>9</version></thresholds>\n", -1, NULL));
    test_run_clear (&r);
    run_center (&r, "--db", c->db, "set-thresholds", no_line, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "no <income_line>"));
  }
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, 0);

  /* Published: once; the same again is nothing new; other content under
   * the same version is refused. */
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "publish-form", form, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "hearth_follow_up"));
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "set-thresholds", thresholds, NULL);
  g_assert_cmpint (r.status, ==, 0);
  changes = center_db_int (c, "SELECT count (*) FROM changes");
  g_assert_cmpint (changes, ==, 2);
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "publish-form", form, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "already"));
  {
    g_autofree char *form_text = NULL;
    g_autofree char *more = NULL;

    g_assert_true (g_file_get_contents (form, &form_text, NULL, NULL));
    more = g_strconcat (form_text, "<!-- changed -->\n", NULL);
    g_assert_true (g_file_set_contents (changed, more, -1, NULL));
  }
  test_run_clear (&r);
  run_center (&r, "--db", c->db, "publish-form", changed, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "other content"));
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes"), ==, changes);

  /* They reach a tablet of any scope, which lists the form beside the
   * bundled ones. */
  center_start (c);
  test_tablet_enrol (&t, "export-publish-tablet", c, "w.one");
  g_assert_cmpint (test_tablet_sync (&t), ==, 0);
  g_assert_cmpint (test_tablet_int (&t, "SELECT count (*) FROM published_forms"), ==, 2);
  {
    g_autofree char *xml = test_tablet_text (&t, "SELECT xml FROM published_forms WHERE kind = 'thresholds'");
    g_assert_cmpstr (xml, ==, text);
  }
  test_tablet_cli (&r, &t, "form", "list", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "hearth_follow_up\t2026112901\tbundled"));
  g_assert_nonnull (strstr (r.out, "hearth_follow_up\t2026112901\tpublished"));
  g_assert_nonnull (strstr (r.out, "hearth_household_visit\t"));
  g_assert_nonnull (strstr (r.out, "Thresholds version 1"));
  test_tablet_cli (&r, &t, "--json", "form", "list", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "\"source\" : \"published\""));
  center_stop (c);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/export/batches", test_batches);
  g_test_add_func ("/export/after-cursor", test_after_cursor);
  g_test_add_func ("/export/time-zone", test_time_zone);
  g_test_add_func ("/export/receipts", test_receipts);
  g_test_add_func ("/export/receipt-undone", test_receipt_undone);
  g_test_add_func ("/export/remote", test_remote);
  g_test_add_func ("/export/batch-key", test_batch_key);
  g_test_add_func ("/export/import-households", test_import_households);
  g_test_add_func ("/export/import-households/hostile", test_import_hostile);
  g_test_add_func ("/export/publish", test_publish);
  return g_test_run ();
}

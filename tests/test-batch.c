/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-batch.c: county batches (sync/batch.h). A batch written as CSV and
 * as JSON verifies and reads back to the values written (quotes, commas,
 * line breaks, Chinese, a would-be spreadsheet formula); a changed, missing
 * or extra file, a manifest whose count or checksum differs, and a folder
 * that is not a batch are each refused, naming the file.
 */
#include "test-util.h"
#include "batch.h"
#include "csv.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const columns[] = { "id", "head_name", "address", "per_capita_income", NULL };
static const char *const rows[][4] = {
  { "6f1c2d4e-0000-4000-8000-000000000001", "王芳", "坪上村 3 组, \"老屋\"", "5200.5" },
  { "6f1c2d4e-0000-4000-8000-000000000002", "Li\nLei", "=HYPERLINK(\"http://x\")", "-12" },
  { "6f1c2d4e-0000-4000-8000-000000000003", "", NULL, "" },
  { "6f1c2d4e-0000-4000-8000-000000000004", "-2+3", "-0.5", "-12" },
};

/* A batch of households (the rows above) and every other table empty;
 * with @only_two, households and members only. */
static char *
write_batch_tables (const char *name, HearthBatchFormat format, gboolean only_two)
{
  g_autofree char *dir = test_make_dir (name);
  g_autofree char *batch = g_build_filename (dir, "batch", NULL);
  g_autoptr(GError) error = NULL;
  HearthBatchWriter *w = hearth_batch_writer_new (batch, format, &error);
  JsonObject *manifest = json_object_new ();
  const char *const member_columns[] = { "id", "household_id", NULL };

  g_assert_no_error (error);
  g_assert_true (hearth_batch_writer_begin_table (w, "households", columns, &error));
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    g_assert_true (hearth_batch_writer_add_row (w, rows[i], &error));
  g_assert_true (hearth_batch_writer_begin_table (w, "members", member_columns, &error));   /* empty */
  for (guint t = 2; !only_two && hearth_batch_tables[t] != NULL; t++)
    g_assert_true (hearth_batch_writer_begin_table (w, hearth_batch_tables[t], member_columns, &error));
  json_object_set_string_member (manifest, "county", "361102");
  json_object_set_int_member (manifest, "cursor_from", 1);
  json_object_set_int_member (manifest, "cursor_to", 3);
  g_assert_true (hearth_batch_writer_finish (w, manifest, &error));
  g_assert_no_error (error);
  json_object_unref (manifest);
  return g_steal_pointer (&batch);
}

static char *
write_batch (const char *name, HearthBatchFormat format)
{
  return write_batch_tables (name, format, FALSE);
}

static char *
read_file (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

static void
test_csv (void)
{
  g_autofree char *batch = write_batch ("batch-csv", HEARTH_BATCH_CSV);
  g_autofree char *text = read_file (batch, "households.csv");
  g_autofree char *members = read_file (batch, "members.csv");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) manifest = NULL;
  const char *p = text;
  GPtrArray *rec;
  gboolean bad = FALSE;
  guint n = 0;

  g_assert_true (g_str_has_prefix (text, "\xEF\xBB\xBF" "id,head_name,"));
  g_assert_cmpstr (members, ==, "\xEF\xBB\xBF" "id,household_id\r\n");
  p += 3;
  while ((rec = hearth_csv_record (&p, &bad)) != NULL)
    {
      if (n > 0)
        {
          const char *const *want = rows[n - 1];
          g_assert_cmpstr (rec->pdata[0], ==, want[0]);
          if (n == 4)   /* "-2+3" is a formula, not a number */
            g_assert_cmpstr (rec->pdata[1], ==, "'-2+3");
          else
            g_assert_cmpstr (rec->pdata[1], ==, want[1]);
          if (n == 2)   /* a formula is defused, not dropped */
            g_assert_cmpstr (rec->pdata[2], ==, "'=HYPERLINK(\"http://x\")");
          else
            g_assert_cmpstr (rec->pdata[2], ==, want[2] != NULL ? want[2] : "");
          g_assert_cmpstr (rec->pdata[3], ==, want[3]);   /* negative numbers stay numbers */
        }
      g_ptr_array_unref (rec);
      n++;
    }
  g_assert_cmpuint (n, ==, 5);

  g_assert_true (hearth_batch_verify (batch, &manifest, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (manifest, "format"), ==, "hearth-batch-v1");
  g_assert_cmpint (json_object_get_int_member (manifest, "cursor_to"), ==, 3);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (manifest, "files")), ==, 7);
}

static void
test_json (void)
{
  g_autofree char *batch = write_batch ("batch-json", HEARTH_BATCH_JSON);
  g_autofree char *text = read_file (batch, "households.json");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *a;

  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  a = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (a), ==, 4);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (a, 1), "head_name"), ==, "Li\nLei");
  /* JSON needs no defusing: the value is kept as written. */
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (a, 1), "address"), ==,
                   "=HYPERLINK(\"http://x\")");
  g_assert_true (hearth_batch_verify (batch, NULL, &error));
  g_assert_no_error (error);
}

static void
expect_refused (const char *batch, const char *needle)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (hearth_batch_verify (batch, NULL, &error));
  g_assert_error (error, HEARTH_BATCH_ERROR, HEARTH_BATCH_ERROR_INVALID);
  if (strstr (error->message, needle) == NULL)
    g_error ("“%s” does not name “%s”", error->message, needle);
}

static void
test_tampering (void)
{
  g_autofree char *batch = NULL;
  g_autofree char *path = NULL;
  g_autofree char *manifest_path = NULL;
  g_autofree char *manifest = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;

  /* One changed byte. */
  batch = write_batch ("batch-tamper-1", HEARTH_BATCH_CSV);
  path = g_build_filename (batch, "households.csv", NULL);
  test_flip_byte (path, 40);
  expect_refused (batch, "households.csv has changed");
  g_clear_pointer (&batch, g_free);
  g_clear_pointer (&path, g_free);

  /* A missing file, then an extra one. */
  batch = write_batch ("batch-tamper-2", HEARTH_BATCH_CSV);
  path = g_build_filename (batch, "members.csv", NULL);
  g_assert_cmpint (g_remove (path), ==, 0);
  expect_refused (batch, "members.csv is missing");
  g_clear_pointer (&batch, g_free);
  g_clear_pointer (&path, g_free);
  batch = write_batch ("batch-tamper-3", HEARTH_BATCH_CSV);
  path = g_build_filename (batch, "notes.txt", NULL);
  g_assert_true (g_file_set_contents (path, "x", 1, NULL));
  expect_refused (batch, "notes.txt");

  /* A batch without five of its tables (files and entries alike), or
   * with a file of the other format listed. */
  {
    g_autofree char *two = write_batch_tables ("batch-tamper-5", HEARTH_BATCH_CSV, FALSE);
    g_autofree char *partial = write_batch_tables ("batch-tamper-6", HEARTH_BATCH_JSON, TRUE);
    g_autofree char *two_manifest = g_build_filename (two, "manifest.json", NULL);
    g_autofree char *text = NULL;

    expect_refused (partial, "manifest.json lists no submissions.json");
    g_assert_true (g_file_get_contents (two_manifest, &text, NULL, NULL));
    {
      g_auto(GStrv) parts = g_strsplit (text, "\"tasks.csv\"", 2);
      g_autofree char *edited = g_strjoinv ("\"tasks.json\"", parts);
      g_autofree char *from = g_build_filename (two, "tasks.csv", NULL);
      g_autofree char *to = g_build_filename (two, "tasks.json", NULL);
      g_assert_true (g_file_set_contents (two_manifest, edited, -1, NULL));
      g_assert_cmpint (g_rename (from, to), ==, 0);
    }
    expect_refused (two, "manifest.json lists tasks.json");
  }

  /* A manifest whose count differs from the file. */
  manifest_path = g_build_filename (batch, "manifest.json", NULL);
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_true (g_file_get_contents (manifest_path, &manifest, NULL, NULL));
  g_assert_nonnull (strstr (manifest, "\"records\" : 4"));
  {
    g_auto(GStrv) parts = g_strsplit (manifest, "\"records\" : 4", 2);
    g_autofree char *edited = g_strjoinv ("\"records\" : 5", parts);
    g_assert_true (g_file_set_contents (manifest_path, edited, -1, NULL));
  }
  expect_refused (batch, "households.csv holds 4 records, the manifest says 5");

  /* A manifest naming a file outside the folder. */
  {
    g_auto(GStrv) parts = g_strsplit (manifest, "\"households.csv\"", 2);
    g_autofree char *edited = g_strjoinv ("\"../households.csv\"", parts);
    g_assert_true (g_file_set_contents (manifest_path, edited, -1, NULL));
  }
  expect_refused (batch, "entry 1");

  /* Not a batch at all. */
  dir = test_make_dir ("batch-none");
  expect_refused (dir, "manifest.json");
  g_assert_true (g_file_set_contents (manifest_path, "{\"format\": \"other\"}", -1, NULL));
  expect_refused (batch, "format");

  /* A link or a pipe in the place of a file is refused, never followed or
   * read (a pipe would hang the check). */
  {
    g_autofree char *link_batch = write_batch ("batch-tamper-4", HEARTH_BATCH_CSV);
    g_autofree char *target = g_build_filename (link_batch, "members.csv", NULL);
    g_autofree char *moved = g_build_filename (link_batch, "..", "members-elsewhere.csv", NULL);

    g_assert_cmpint (g_rename (target, moved), ==, 0);
    g_assert_cmpint (symlink (moved, target), ==, 0);
    expect_refused (link_batch, "members.csv is not a plain file");
    g_assert_cmpint (g_unlink (target), ==, 0);
    g_assert_cmpint (mkfifo (target, 0600), ==, 0);
    expect_refused (link_batch, "members.csv is not a plain file");
  }

  /* A manifest nested deeper than JSON allows here is refused, not parsed. */
  {
    g_autoptr(GString) deep = g_string_new (NULL);
    for (int i = 0; i < 100000; i++)
      g_string_append_c (deep, '[');
    g_assert_true (g_file_set_contents (manifest_path, deep->str, (gssize) deep->len, NULL));
    expect_refused (batch, "manifest.json is not JSON");
  }

  /* A manifest over 1 MiB (break13): read whole and parsed before, an
   * 80 MB one took 270 MB of memory and then verified. The whole manifest
   * of a good batch padded with a member past the bound is refused by its
   * size; just under it, it verifies. */
  {
    g_autofree char *padded_batch = write_batch ("batch-tamper-7", HEARTH_BATCH_CSV);
    g_autofree char *padded_path = g_build_filename (padded_batch, "manifest.json", NULL);
    g_autofree char *text = NULL;
    gsize len = 0;

    g_assert_true (g_file_get_contents (padded_path, &text, &len, NULL));
    for (guint over = 0; over < 2; over++)
      {
        gsize target = HEARTH_BATCH_MAX_MANIFEST + over;
        g_autoptr(GString) padded = g_string_new_len (text, (gssize) (strrchr (text, '}') - text));
        gsize pad;

        g_string_append (padded, ", \"pad\": \"");
        pad = target - padded->len - 2;
        for (gsize i = 0; i < pad; i++)
          g_string_append_c (padded, 'x');
        g_string_append (padded, "\"}");
        g_assert_cmpuint (padded->len, ==, target);
        g_assert_true (g_file_set_contents (padded_path, padded->str, (gssize) padded->len, NULL));
        if (over)
          expect_refused (padded_batch, "manifest.json is larger than 1048576 bytes");
        else
          {
            g_assert_true (hearth_batch_verify (padded_batch, NULL, &error));
            g_assert_no_error (error);
          }
      }
  }

  /* A batch is never written over another. */
  g_assert_null (hearth_batch_writer_new (batch, HEARTH_BATCH_CSV, &error));
  g_assert_error (error, HEARTH_BATCH_ERROR, HEARTH_BATCH_ERROR_IO);
}

int
main (int argc, char *argv[])
{
  test_init (&argc, &argv);
  g_test_add_func ("/batch/csv", test_csv);
  g_test_add_func ("/batch/json", test_json);
  g_test_add_func ("/batch/tampering", test_tampering);
  return g_test_run ();
}

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
#include <sodium.h>
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

/* Records of @text as the whole-text readers count them: CSV rows after
 * the header through hearth_csv_record(), a JSON array's length through
 * json-glib; -1 when they refuse the text. The oracle of the count made a
 * chunk at a time. */
static gint64
count_whole (const char *name, const char *text, gsize len)
{
  if (g_str_has_suffix (name, ".csv"))
    {
      const char *p = text;
      gboolean bad = FALSE;
      gint64 n_rows = 0;
      GPtrArray *rec;

      if (!g_utf8_validate (text, (gssize) len, NULL) || memchr (text, '\0', len) != NULL)
        return -1;
      if (g_str_has_prefix (p, "\xEF\xBB\xBF"))
        p += 3;
      while ((rec = hearth_csv_record (&p, &bad)) != NULL)
        {
          g_ptr_array_unref (rec);
          n_rows++;
        }
      return bad ? -1 : MAX (0, n_rows - 1);
    }
  else
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonNode *root;

      if (!json_parser_load_from_data (parser, text, (gssize) len, NULL))
        return -1;
      root = json_parser_get_root (parser);
      return root != NULL && JSON_NODE_HOLDS_ARRAY (root) ? (gint64) json_array_get_length (json_node_get_array (root)) : -1;
    }
}

/* verify counts a file a chunk at a time (it held each file whole before,
 * and a JSON file as a json-glib tree: up to 1 GiB, several times that in
 * memory): the same records as the whole-text readers, whatever the
 * chunks, and the same texts refused, each named. */
/* manifest.sig replaced by @text. */
static void
put_signature (const char *batch, const char *text, gssize len)
{
  g_autofree char *path = g_build_filename (batch, HEARTH_BATCH_SIGNATURE_NAME, NULL);

  g_unlink (path);
  g_assert_true (g_file_set_contents (path, text, len, NULL));
}

/* Verifies @batch against @trusted; the error's code and a part of it. */
static void
expect_signature_refused (const char *batch, const guint8 *trusted, int code, const char *needle)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (hearth_batch_verify_signed (batch, trusted, NULL, NULL, NULL, &error));
  g_assert_error (error, HEARTH_BATCH_ERROR, code);
  if (strstr (error->message, needle) == NULL)
    g_error ("“%s” does not name “%s”", error->message, needle);
}

static void
test_signature (void)
{
  g_autofree char *batch = write_batch ("batch-signature", HEARTH_BATCH_JSON);
  g_autofree char *sig_path = g_build_filename (batch, HEARTH_BATCH_SIGNATURE_NAME, NULL);
  g_autofree char *good = NULL, *key_text = NULL, *long_text = NULL;
  g_autoptr(GError) error = NULL;
  guint8 seed[32], public_key[32], other_key[32], signer[32], parsed[32], sig[64];
  guint8 secret_key[64];
  gboolean is_signed = TRUE;
  gsize len = 0;

  /* Unsigned: verifies, said to be; a key asks for a signature. */
  g_assert_true (hearth_batch_verify_signed (batch, NULL, signer, &is_signed, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (is_signed);
  randombytes_buf (other_key, sizeof other_key);
  expect_signature_refused (batch, other_key, HEARTH_BATCH_ERROR_KEY, "manifest.sig is missing");

  /* Signed: the signer's key comes back, and it is the seed's. */
  randombytes_buf (seed, sizeof seed);
  crypto_sign_seed_keypair (public_key, secret_key, seed);
  g_assert_true (hearth_batch_sign (batch, seed, &error));
  g_assert_no_error (error);
  g_assert_true (hearth_batch_verify_signed (batch, public_key, signer, &is_signed, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (is_signed);
  g_assert_cmpmem (signer, 32, public_key, 32);
  /* Its file: the header, the key, the signature; read back alike. */
  g_assert_true (g_file_get_contents (sig_path, &good, &len, NULL));
  key_text = hearth_batch_key_to_text (public_key);
  g_assert_true (g_str_has_prefix (good, "hearth batch signature v1\n"));
  g_assert_nonnull (strstr (good, key_text));
  g_assert_true (hearth_batch_read_signature (batch, parsed, sig, &error));
  g_assert_cmpmem (parsed, 32, public_key, 32);
  g_assert_true (hearth_batch_key_from_text (key_text, parsed, &error));
  g_assert_cmpmem (parsed, 32, public_key, 32);
  g_assert_false (hearth_batch_key_from_text ("AAAA", parsed, &error));
  g_assert_error (error, HEARTH_BATCH_ERROR, HEARTH_BATCH_ERROR_INVALID);
  g_clear_error (&error);
  /* Another key wanted: refused, naming both. */
  expect_signature_refused (batch, other_key, HEARTH_BATCH_ERROR_KEY, key_text);
  /* The same signature written by the client's path: the same bytes. */
  g_assert_true (hearth_batch_write_signature (batch, public_key, sig, &error));
  {
    g_autofree char *again = NULL;

    g_assert_true (g_file_get_contents (sig_path, &again, NULL, NULL));
    g_assert_cmpstr (again, ==, good);
  }

  /* A signature of another manifest (one bit of it flipped). */
  sig[10] ^= 1;
  g_assert_true (hearth_batch_write_signature (batch, public_key, sig, &error));
  expect_signature_refused (batch, NULL, HEARTH_BATCH_ERROR_INVALID, "does not match manifest.json");
  sig[10] ^= 1;
  /* A manifest changed after it was signed, even by a space. */
  put_signature (batch, good, -1);
  {
    g_autofree char *manifest = read_file (batch, "manifest.json");
    g_autofree char *path = g_build_filename (batch, "manifest.json", NULL);
    g_autofree char *spaced = g_strconcat (manifest, " ", NULL);

    g_assert_true (g_file_set_contents (path, spaced, -1, NULL));
    expect_signature_refused (batch, NULL, HEARTH_BATCH_ERROR_INVALID, "does not match manifest.json");
    g_assert_true (g_file_set_contents (path, manifest, -1, NULL));
  }
  g_assert_true (hearth_batch_verify_signed (batch, public_key, NULL, NULL, NULL, &error));

  /* Malformed files, named by what is wrong. */
  put_signature (batch, "hearth batch signature v2\nAAAA\nAAAA\n", -1);
  expect_signature_refused (batch, NULL, HEARTH_BATCH_ERROR_INVALID, "line 1");
  {
    g_autofree char *bad_key = g_strdup_printf ("hearth batch signature v1\n%s!\n%s", key_text, strchr (good + 26, '\n') + 1);
    put_signature (batch, bad_key, -1);
    expect_signature_refused (batch, NULL, HEARTH_BATCH_ERROR_INVALID, "line 2");
  }
  {
    g_autofree char *bad_sig = g_strdup_printf ("hearth batch signature v1\n%s\nAAAA\n", key_text);
    put_signature (batch, bad_sig, -1);
    expect_signature_refused (batch, NULL, HEARTH_BATCH_ERROR_INVALID, "line 3");
  }
  /* One spelling: a key or a signature line with a blank around it (a
   * CRLF file, a space) is refused, as the first line is. */
  {
    g_auto(GStrv) lines = g_strsplit (good, "\n", -1);
    /* Before and after the key, before and after the signature. */
    const char *spellings[][5] = {
      { "", "\r", "", "", "line 2" },
      { " ", "", "", "", "line 2" },
      { "", "", "", " ", "line 3" },
      { "", "", "", "\r", "line 3" },
      { "", "", "\t", "", "line 3" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (spellings); i++)
      {
        g_autofree char *text = g_strconcat (lines[0], "\n", spellings[i][0], lines[1], spellings[i][1], "\n",
                                             spellings[i][2], lines[2], spellings[i][3], "\n", NULL);

        put_signature (batch, text, -1);
        expect_signature_refused (batch, NULL, HEARTH_BATCH_ERROR_INVALID, spellings[i][4]);
      }
  }
  put_signature (batch, good, (gssize) (len - 1));       /* its last newline cut */
  expect_signature_refused (batch, NULL, HEARTH_BATCH_ERROR_INVALID, "three lines");
  {
    g_autofree char *extra = g_strconcat (good, "more\n", NULL);
    put_signature (batch, extra, -1);
    expect_signature_refused (batch, NULL, HEARTH_BATCH_ERROR_INVALID, "three lines");
  }
  put_signature (batch, "hearth batch signature v1\n\0\n\n", 30);
  expect_signature_refused (batch, NULL, HEARTH_BATCH_ERROR_INVALID, "not text");
  long_text = g_strnfill (2000, 'A');
  put_signature (batch, long_text, -1);
  expect_signature_refused (batch, NULL, HEARTH_BATCH_ERROR_INVALID, "larger than");
  /* A link is not followed (it could point anywhere). */
  {
    g_autofree char *elsewhere = g_build_filename (batch, "..", "elsewhere.sig", NULL);

    g_assert_true (g_file_set_contents (elsewhere, good, -1, NULL));
    g_unlink (sig_path);
    g_assert_cmpint (symlink (elsewhere, sig_path), ==, 0);
    expect_signature_refused (batch, NULL, HEARTH_BATCH_ERROR_INVALID, "not a plain file");
    /* Nor a dangling one taken for a missing file. */
    g_unlink (elsewhere);
    expect_signature_refused (batch, NULL, HEARTH_BATCH_ERROR_INVALID, "manifest.sig");
  }
  sodium_memzero (secret_key, sizeof secret_key);
}

static void
test_count_records (void)
{
  static const struct {
    const char *name;
    const char *text;
    gint64 records;   /* -1: refused */
    const char *why;  /* a part of the refusal */
  } cases[] = {
    { "a.csv", "", 0, NULL },
    { "a.csv", "\xEF\xBB\xBF", 0, NULL },
    { "a.csv", "\xEF\xBB\xBF" "id,name\r\n1,王芳\r\n2,\"a,b\"\r\n", 2, NULL },
    { "a.csv", "id\n1\n2", 2, NULL },
    { "a.csv", "id\r1\r\r\n2\r\n", 3, NULL },
    { "a.csv", "id\n\"x\r\ny\"\n\"a\"\"b\"\n", 2, NULL },
    { "a.csv", "id\n\"ab\"cd,\"e\nf\"\n", 1, NULL },
    { "a.csv", "id\nab\"c\nd\n", 2, NULL },
    { "a.csv", "id\n,\n,,\n", 2, NULL },
    { "a.csv", "\xEF\xBB\x80" "x\n1\n", 1, NULL },
    { "a.csv", "\xEF\xBB\xBF\xEF\xBB\xBF" "id\n1\n", 1, NULL },
    { "a.csv", "id\n\"open\n", -1, "a.csv: a quoted field is not closed" },
    { "a.csv", "id\n1\xff\n", -1, "a.csv is not UTF-8 text" },
    { "a.csv", "id\n\xe7\x8e", -1, "a.csv is not UTF-8 text" },
    { "a.csv", "id\n1\0002\n", -1, "a.csv is not UTF-8 text" },
    { "b.json", "[]", 0, NULL },
    { "b.json", " \n[ ]\n", 0, NULL },
    { "b.json", "[{\"a\": \"x,]\\\"\"}, [1, [2]], 3, \"s\", null, {\"b\": {\"c\": []}}]\n", 6, NULL },
    { "b.json", "[{\"name\": \"王芳\"}]", 1, NULL },
    { "b.json", "", -1, "b.json is not a JSON array of records" },
    { "b.json", "{\"a\": 1}", -1, "b.json is not a JSON array of records" },
    { "b.json", "[1,]", -1, "b.json is not JSON: line 1: “]” where a record should be" },
    { "b.json", "[,1]", -1, "b.json is not JSON: line 1: “,” where a record should be" },
    { "b.json", "[1] 2", -1, "b.json is not JSON: line 1: text after the array's end" },
    { "b.json", "[1, 2", -1, "b.json is not JSON: it ends inside its array" },
    { "b.json", "[{\"a\": 1},\n{\"a\": }]", -1, "b.json is not JSON: record 2 (from line 2)" },
    { "b.json", "[{\"a\": \"\xff\"}]", -1, "b.json is not JSON: record 1" },
    { "b.json", "[1 2]", -1, "b.json is not JSON: record 1" },
  };
  const gsize chunks[] = { 1, 2, 3, 5, 7, 1024 * 1024 };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      /* The texts hold a NUL: their length up to the last quote. */
      gsize len = i == 14 ? 8 : strlen (cases[i].text);

      if (count_whole (cases[i].name, cases[i].text, len) != cases[i].records)
        g_error ("case %u: the whole-text readers count %" G_GINT64_FORMAT, i,
                 count_whole (cases[i].name, cases[i].text, len));
      for (guint c = 0; c < G_N_ELEMENTS (chunks); c++)
        {
          g_autoptr(GError) error = NULL;
          gint64 records = -7;
          gboolean ok = hearth_batch_count_records (cases[i].name, cases[i].text, len, chunks[c], &records, &error);

          if (cases[i].records >= 0)
            {
              g_assert_no_error (error);
              g_assert_true (ok);
              g_assert_cmpint (records, ==, cases[i].records);
            }
          else
            {
              g_assert_false (ok);
              g_assert_error (error, HEARTH_BATCH_ERROR, HEARTH_BATCH_ERROR_INVALID);
              if (strstr (error->message, cases[i].why) == NULL)
                g_error ("case %u, chunks of %zu: “%s” does not say “%s”", i, chunks[c], error->message,
                         cases[i].why);
            }
        }
    }

  /* A JSON record nested deeper than JSON allows here, and one larger
   * than HEARTH_BATCH_MAX_RECORD, are refused by their record. */
  {
    g_autoptr(GString) deep = g_string_new ("[1, ");
    g_autoptr(GString) big = g_string_new ("[{\"a\": \"");
    g_autoptr(GError) error = NULL;
    gint64 records = 0;

    for (int i = 0; i < 100000; i++)
      g_string_append_c (deep, '[');
    g_string_append_c (deep, ']');
    g_assert_false (hearth_batch_count_records ("d.json", deep->str, deep->len, 4096, &records, &error));
    g_assert_nonnull (strstr (error->message, "d.json is not JSON: record 2 (from line 1)"));
    g_clear_error (&error);
    g_string_set_size (big, HEARTH_BATCH_MAX_RECORD + 16);
    memset (big->str + 8, 'x', big->len - 8);
    g_assert_false (hearth_batch_count_records ("e.json", big->str, big->len, 1024 * 1024, &records, &error));
    g_assert_nonnull (strstr (error->message, "e.json: record 1 (from line 1) is larger than 67108864 bytes"));
  }
}

/* This process's peak resident memory (VmHWM), KiB, after resetting it to
 * what is resident now when @reset; -1 when Linux does not say. */
static gint64
peak_rss_kib (gboolean reset)
{
  g_autofree char *status = NULL;
  const char *line;

  if (reset)
    {
      FILE *f = fopen ("/proc/self/clear_refs", "w");
      gboolean done = f != NULL && fputs ("5", f) >= 0;

      if (f != NULL && fclose (f) != 0)
        done = FALSE;
      if (!done)
        return -1;
    }
  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) || (line = strstr (status, "VmHWM:")) == NULL)
    return -1;
  return g_ascii_strtoll (line + 6, NULL, 10);
}

/* A JSON batch file of some 100 MB verifies holding one record at a time:
 * the process's peak memory grows by far less than the file (json-glib's
 * tree of it took several times its size). */
static void
test_verify_large (void)
{
  g_autofree char *batch = write_batch ("batch-large", HEARTH_BATCH_JSON);
  g_autofree char *path = g_build_filename (batch, "members.json", NULL);
  g_autofree char *manifest_path = g_build_filename (batch, "manifest.json", NULL);
  g_autofree char *manifest = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) record = g_string_new (NULL);
  FILE *f = fopen (path, "w");
  crypto_generichash_state hash;
  guint8 digest[32];
  char hex[65];
  const guint n = 400000;
  gint64 before, after;

  g_assert_nonnull (f);
  crypto_generichash_init (&hash, NULL, 0, sizeof digest);
  for (guint i = 0; i < n; i++)
    {
      g_string_printf (record, "%s{\"id\": \"%08u\", \"household_id\": \"%0240u\"}%s", i == 0 ? "[\n" : "",
                       i, i, i + 1 == n ? "\n]\n" : ",\n");
      g_assert_cmpuint (fwrite (record->str, 1, record->len, f), ==, record->len);
      crypto_generichash_update (&hash, (const guint8 *) record->str, record->len);
    }
  g_assert_cmpint (fclose (f), ==, 0);
  crypto_generichash_final (&hash, digest, sizeof digest);
  sodium_bin2hex (hex, sizeof hex, digest, sizeof digest);
  g_assert_true (g_file_get_contents (manifest_path, &manifest, NULL, NULL));
  {
    /* members.json's entry: its checksum and count, the others kept. */
    g_autoptr(JsonParser) parser = json_parser_new ();
    g_autoptr(JsonGenerator) gen = json_generator_new ();
    JsonArray *files;

    g_assert_true (json_parser_load_from_data (parser, manifest, -1, NULL));
    files = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "files");
    for (guint i = 0; i < json_array_get_length (files); i++)
      {
        JsonObject *e = json_array_get_object_element (files, i);
        if (g_str_equal (json_object_get_string_member (e, "name"), "members.json"))
          {
            json_object_set_string_member (e, "blake2b_256", hex);
            json_object_set_int_member (e, "records", n);
          }
      }
    json_generator_set_root (gen, json_parser_get_root (parser));
    g_assert_true (json_generator_to_file (gen, manifest_path, NULL));
  }
  before = peak_rss_kib (TRUE);
  g_assert_true (hearth_batch_verify (batch, NULL, &error));
  g_assert_no_error (error);
  after = peak_rss_kib (FALSE);
  g_test_message ("members.json: %u records; peak RSS %" G_GINT64_FORMAT " → %" G_GINT64_FORMAT " KiB", n, before,
                  after);
#if defined(__SANITIZE_ADDRESS__)
  /* AddressSanitizer keeps freed memory in quarantine: no bound to see. */
  g_test_message ("the peak memory is not checked under AddressSanitizer");
#else
  if (before < 0 || after < 0)
    {
      g_test_skip ("this kernel does not let a process reset its peak memory (/proc/self/clear_refs)");
      return;
    }
  /* The file is some 110 MB; its tree would be several times that. */
  g_assert_cmpint (after - before, <, 32 * 1024);
#endif
}

int
main (int argc, char *argv[])
{
  test_init (&argc, &argv);
  g_test_add_func ("/batch/csv", test_csv);
  g_test_add_func ("/batch/json", test_json);
  g_test_add_func ("/batch/tampering", test_tampering);
  g_test_add_func ("/batch/signature", test_signature);
  g_test_add_func ("/batch/count-records", test_count_records);
  g_test_add_func ("/batch/verify-large", test_verify_large);
  return g_test_run ();
}

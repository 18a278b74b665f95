/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-batch-target.c: county batch verification and the batch writer
 * (fuzz-targets.h, hearth_fuzz_batch()). */
#include "fuzz-targets.h"
#include "fuzz-util.h"

#include "batch.h"
#include "csv.h"
#include "json-depth.h"

#include <glib/gstdio.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTION "\n=== "
#define MAX_FILES 10

static char *batch_dir;    /* the folder an input is written to */
static char *writer_dir;   /* the folder the writer writes to */
static guint writer_runs;

static void
empty_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        {
          empty_dir (path);
          g_rmdir (path);
        }
      else
        g_unlink (path);
    }
}

static void
remove_dirs (void)
{
  empty_dir (batch_dir);
  g_rmdir (batch_dir);
  empty_dir (writer_dir);
  g_rmdir (writer_dir);
}

static void
make_dirs (void)
{
  fuzz_check (sodium_init () >= 0);
  batch_dir = hearth_fuzz_make_dir ("batch");
  writer_dir = hearth_fuzz_make_dir ("batch-writer");
  atexit (remove_dirs);
}

typedef struct {
  char *name;
  const guint8 *data;
  gsize len;
} Section;

/* A name the input may give a file: written inside the folder, nothing
 * else (the manifest may name anything). */
static gboolean
writable_name (const char *name)
{
  return name[0] != '\0' && strchr (name, '/') == NULL && strcmp (name, ".") != 0 && strcmp (name, "..") != 0 &&
         strcmp (name, "manifest.json") != 0 && strlen (name) <= 64;
}

static void
write_file (const char *name, const guint8 *data, gsize len)
{
  g_autofree char *path = g_build_filename (batch_dir, name, NULL);
  g_autoptr(GError) error = NULL;

  fuzz_check (g_file_set_contents (path, (const char *) data, (gssize) len, &error));
}

static char *
blake2b_hex (const guint8 *data, gsize len)
{
  guint8 digest[32];
  char hex[65];

  crypto_generichash (digest, sizeof digest, data, len, NULL, 0);
  sodium_bin2hex (hex, sizeof hex, digest, sizeof digest);
  return g_strdup (hex);
}

/* The names the manifest text lists, when it parses; for naming the file
 * at fault. */
static GPtrArray *
listed_names (JsonNode *root)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  JsonNode *files;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return names;
  files = json_object_get_member (json_node_get_object (root), "files");
  if (files == NULL || !JSON_NODE_HOLDS_ARRAY (files))
    return names;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (files)); i++)
    {
      JsonNode *f = json_array_get_element (json_node_get_array (files), i);
      JsonNode *name = JSON_NODE_HOLDS_OBJECT (f) ? json_object_get_member (json_node_get_object (f), "name") : NULL;

      if (name != NULL && JSON_NODE_HOLDS_VALUE (name) && json_node_get_value_type (name) == G_TYPE_STRING)
        g_ptr_array_add (names, g_strdup (json_node_get_string (name)));
    }
  return names;
}

static JsonNode *
parse_json (const char *text, gsize len)
{
  g_autoptr(JsonParser) parser = json_parser_new ();

  /* json-glib recurses without a limit: only what verify would parse. */
  if (!hearth_json_check_depth (text, len, HEARTH_JSON_MAX_DEPTH, NULL, NULL) ||
      !json_parser_load_from_data (parser, text, (gssize) len, NULL) || json_parser_get_root (parser) == NULL)
    return NULL;
  return json_node_copy (json_parser_get_root (parser));
}

static gboolean
member_is_whole (JsonObject *o, const char *name, gint64 *out)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (n);
  return TRUE;
}

/* One verification of batch_dir, whose manifest is @manifest_text and
 * whose other files are @sections. */
static void
check_verify (const char *manifest_text, gsize manifest_len, const Section *sections, guint n_sections)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) manifest = NULL;
  g_autoptr(JsonNode) parsed = parse_json (manifest_text, manifest_len);
  g_autoptr(GPtrArray) names = listed_names (parsed);
  JsonArray *files;

  if (!hearth_batch_verify (batch_dir, &manifest, &error))
    {
      gboolean named = strstr (error->message, "manifest.json") != NULL;

      hearth_fuzz_check_message (error);
      fuzz_check (error->domain == HEARTH_BATCH_ERROR && error->code == HEARTH_BATCH_ERROR_INVALID);
      fuzz_check (manifest == NULL);
      /* The file at fault is named: the manifest, a file of the folder or
       * one the manifest lists. */
      for (guint i = 0; !named && i < n_sections; i++)
        {
          g_autofree char *shown = g_filename_display_name (sections[i].name);
          named = strstr (error->message, shown) != NULL;
        }
      for (guint i = 0; !named && i < names->len; i++)
        named = ((char *) names->pdata[i])[0] != '\0' && strstr (error->message, names->pdata[i]) != NULL;
      fuzz_check (named);
      return;
    }
  fuzz_check (error == NULL && manifest != NULL);
  fuzz_check (g_strcmp0 (json_object_get_string_member_with_default (manifest, "format", NULL),
                         HEARTH_BATCH_FORMAT_NAME) == 0);
  fuzz_check (json_object_has_member (manifest, "files") &&
              JSON_NODE_HOLDS_ARRAY (json_object_get_member (manifest, "files")));
  /* What hearth-cli and hearth-center print of a batch that verifies: the
   * cursor range, and each file's name and record count. */
  {
    gint64 from = -1, to = -1;

    fuzz_check (member_is_whole (manifest, "cursor_from", &from) && member_is_whole (manifest, "cursor_to", &to));
    fuzz_check (0 <= from && from <= to);
  }
  files = json_object_get_array_member (manifest, "files");
  /* Every file of the folder is listed, with its checksum and count. */
  for (guint s = 0; s < n_sections; s++)
    {
      gboolean listed = FALSE;

      for (guint i = 0; i < json_array_get_length (files) && !listed; i++)
        {
          JsonObject *f = json_array_get_object_element (files, i);
          gint64 records = -1;

          if (g_strcmp0 (json_object_get_string_member_with_default (f, "name", NULL), sections[s].name) != 0)
            continue;
          listed = TRUE;
          {
            g_autofree char *hex = blake2b_hex (sections[s].data, sections[s].len);
            fuzz_check (g_ascii_strcasecmp (hex, json_object_get_string_member (f, "blake2b_256")) == 0);
          }
          fuzz_check (member_is_whole (f, "records", &records) && records >= 0);
          if (g_str_has_suffix (sections[s].name, ".json"))
            {
              g_autoptr(JsonNode) array = parse_json ((const char *) sections[s].data, sections[s].len);
              fuzz_check (array != NULL && JSON_NODE_HOLDS_ARRAY (array));
              fuzz_check ((gint64) json_array_get_length (json_node_get_array (array)) == records);
            }
          else
            fuzz_check (g_str_has_suffix (sections[s].name, ".csv"));
        }
      fuzz_check (listed);
    }
  fuzz_check (json_array_get_length (files) == n_sections);
}

/* The manifest with every entry that names a file of the input given that
 * file's checksum, so that a mutation gets past the checksum to the
 * record count (its own count, when the file is JSON), the directory and
 * the CSV reader. Returns: (transfer full) (nullable): its text, or %NULL
 * when it is not a manifest to fix. */
static char *
fixed_manifest (JsonNode *parsed, const Section *sections, guint n_sections)
{
  g_autoptr(JsonNode) copy = NULL;
  g_autoptr(JsonGenerator) gen = NULL;
  JsonNode *files;
  gboolean changed = FALSE;

  if (parsed == NULL || !JSON_NODE_HOLDS_OBJECT (parsed))
    return NULL;
  copy = json_node_copy (parsed);
  files = json_object_get_member (json_node_get_object (copy), "files");
  if (files == NULL || !JSON_NODE_HOLDS_ARRAY (files))
    return NULL;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (files)); i++)
    {
      JsonNode *n = json_array_get_element (json_node_get_array (files), i);
      JsonObject *f = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      JsonNode *name = f != NULL ? json_object_get_member (f, "name") : NULL;

      if (name == NULL || !JSON_NODE_HOLDS_VALUE (name) || json_node_get_value_type (name) != G_TYPE_STRING)
        continue;
      for (guint s = 0; s < n_sections; s++)
        if (g_str_equal (json_node_get_string (name), sections[s].name))
          {
            g_autofree char *hex = blake2b_hex (sections[s].data, sections[s].len);
            g_autoptr(JsonNode) array = parse_json ((const char *) sections[s].data, sections[s].len);

            json_object_set_string_member (f, "blake2b_256", hex);
            if (array != NULL && JSON_NODE_HOLDS_ARRAY (array))
              json_object_set_int_member (f, "records", json_array_get_length (json_node_get_array (array)));
            changed = TRUE;
          }
    }
  if (!changed)
    return NULL;
  gen = json_generator_new ();
  json_generator_set_root (gen, copy);
  return json_generator_to_data (gen, NULL);
}

/* A file's records as the whole-text readers count them (CSV rows after
 * the header through hearth_csv_record(), a JSON array's length through
 * json-glib), -1 when they refuse it: what verify's count, made a chunk
 * at a time, must agree with whatever the chunks. */
static void
check_count (const Section *section)
{
  g_autofree char *text = g_malloc (section->len + 1);
  const gsize chunks[] = { 1, 3, 4096 };
  gint64 want = -1;

  memcpy (text, section->data, section->len);
  text[section->len] = '\0';
  if (g_str_has_suffix (section->name, ".csv"))
    {
      const char *p = text;
      gboolean bad = FALSE;
      gint64 n = 0;
      GPtrArray *rec;

      if (g_utf8_validate (text, (gssize) section->len, NULL) && memchr (text, '\0', section->len) == NULL)
        {
          if (g_str_has_prefix (p, "\xEF\xBB\xBF"))
            p += 3;
          while ((rec = hearth_csv_record (&p, &bad)) != NULL)
            {
              g_ptr_array_unref (rec);
              n++;
            }
          want = bad ? -1 : MAX (0, n - 1);
        }
    }
  else if (g_str_has_suffix (section->name, ".json"))
    {
      g_autoptr(JsonNode) array = parse_json (text, section->len);

      if (array != NULL && JSON_NODE_HOLDS_ARRAY (array))
        want = json_array_get_length (json_node_get_array (array));
    }
  else
    return;
  for (guint c = 0; c < G_N_ELEMENTS (chunks); c++)
    {
      g_autoptr(GError) error = NULL;
      gint64 records = -7;
      gboolean ok = hearth_batch_count_records (section->name, text, section->len, chunks[c], &records, &error);

      /* Stricter than json-glib, which takes "[1][2]" for its last
       * array: text after the array's end is refused. */
      if (!ok && want >= 0 && strstr (error->message, "text after the array's end") != NULL)
        continue;
      if (ok != (want >= 0) || (ok && records != want))
        {
          fprintf (stderr, "fuzz: %s counted %" G_GINT64_FORMAT " in chunks of %zu (%s), the whole text %" G_GINT64_FORMAT
                   "\n", section->name, ok ? records : -1, chunks[c], error != NULL ? error->message : "", want);
          hearth_fuzz_fail (__FILE__, __LINE__, "hearth_batch_count_records");
        }
      if (!ok)
        {
          g_autofree char *shown = g_utf8_make_valid (section->name, -1);

          hearth_fuzz_check_message (error);
          fuzz_check (strstr (error->message, shown) != NULL);
        }
    }
}

/* The writer's side: rows taken from the input, written as a batch in
 * both formats, must verify with every count right. */
static void
check_writer (const guint8 *data, gsize len)
{
  g_autofree char *text = g_utf8_make_valid ((const char *) data, (gssize) len);
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  const char *p = text;
  gboolean bad = FALSE;
  GPtrArray *rec;
  guint width;

  /* Each row is a record of the input, as wide as the first. */
  while (rows->len < 64 && (rec = hearth_csv_record (&p, &bad)) != NULL)
    g_ptr_array_add (rows, rec);
  if (rows->len == 0)
    return;
  width = ((GPtrArray *) rows->pdata[0])->len;
  for (int format = HEARTH_BATCH_CSV; format <= HEARTH_BATCH_JSON; format++)
    {
      g_autofree char *dir = g_strdup_printf ("%s/%u", writer_dir, writer_runs++);
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonObject) meta = json_object_new ();
      g_autoptr(JsonObject) verified = NULL;
      g_autoptr(GPtrArray) columns = g_ptr_array_new ();
      HearthBatchWriter *w = hearth_batch_writer_new (dir, format, &error);

      fuzz_check (w != NULL);
      /* The first row names the columns: made distinct, as a table's are. */
      for (guint c = 0; c < width; c++)
        g_ptr_array_add (columns, g_strdup_printf ("c%u_%s", c, (char *) ((GPtrArray *) rows->pdata[0])->pdata[c]));
      g_ptr_array_add (columns, NULL);
      /* The input's rows are the households; the other tables empty, as a
       * batch has them all. */
      fuzz_check (hearth_batch_writer_begin_table (w, hearth_batch_tables[0], (const char *const *) columns->pdata,
                                                   &error));
      for (guint r = 1; r < rows->len; r++)
        {
          GPtrArray *row = rows->pdata[r];
          g_autoptr(GPtrArray) values = g_ptr_array_new ();

          for (guint c = 0; c < width; c++)
            g_ptr_array_add (values, c < row->len ? row->pdata[c] : NULL);
          fuzz_check (hearth_batch_writer_add_row (w, (const char *const *) values->pdata, &error));
        }
      for (guint t = 1; hearth_batch_tables[t] != NULL; t++)
        fuzz_check (hearth_batch_writer_begin_table (w, hearth_batch_tables[t], (const char *const *) columns->pdata,
                                                     &error));
      json_object_set_int_member (meta, "cursor_from", 0);
      json_object_set_int_member (meta, "cursor_to", 0);
      fuzz_check (hearth_batch_writer_finish (w, meta, &error));
      g_ptr_array_set_free_func (columns, g_free);
      if (!hearth_batch_verify (dir, &verified, &error))
        {
          fprintf (stderr, "fuzz: a written batch does not verify: %s\n", error->message);
          hearth_fuzz_fail (__FILE__, __LINE__, "hearth_batch_verify (written)");
        }
      {
        JsonArray *files = json_object_get_array_member (verified, "files");
        JsonObject *f = json_array_get_object_element (files, 0);

        fuzz_check (json_array_get_length (files) == g_strv_length ((char **) hearth_batch_tables));
        fuzz_check (json_object_get_int_member (f, "records") == (gint64) rows->len - 1);
      }
      empty_dir (dir);
      g_rmdir (dir);
    }
}

void
hearth_fuzz_batch (const guint8 *data, gsize size)
{
  Section sections[MAX_FILES] = { { 0 } };
  guint n_sections = 0;
  const guint8 *end = data + size;
  const guint8 *manifest_end = memmem (data, size, SECTION, strlen (SECTION));
  const guint8 *p;
  g_autoptr(JsonNode) parsed = NULL;
  g_autofree char *fixed = NULL;
  gsize manifest_len;

  if (batch_dir == NULL)
    make_dirs ();
  empty_dir (batch_dir);
  manifest_len = manifest_end != NULL ? (gsize) (manifest_end - data) : size;
  write_file ("manifest.json", data, manifest_len);

  /* Then "\n=== NAME\n" and the file's bytes, up to the next such line. */
  for (p = manifest_end; p != NULL && n_sections < MAX_FILES;)
    {
      const guint8 *name_start = p + strlen (SECTION);
      const guint8 *name_end = memchr (name_start, '\n', (gsize) (end - name_start));
      const guint8 *next;
      g_autofree char *name = NULL;

      if (name_end == NULL)
        break;
      next = memmem (name_end + 1, (gsize) (end - name_end - 1), SECTION, strlen (SECTION));
      name = g_strndup ((const char *) name_start, (gsize) (name_end - name_start));
      if (strlen (name) == (gsize) (name_end - name_start) && writable_name (name))
        {
          gboolean again = FALSE;

          for (guint s = 0; s < n_sections; s++)
            again = again || g_str_equal (sections[s].name, name);
          if (!again)
            {
              sections[n_sections].data = name_end + 1;
              sections[n_sections].len = (gsize) ((next != NULL ? next : end) - (name_end + 1));
              sections[n_sections].name = g_steal_pointer (&name);
              write_file (sections[n_sections].name, sections[n_sections].data, sections[n_sections].len);
              n_sections++;
            }
        }
      p = next;
    }

  check_verify ((const char *) data, manifest_len, sections, n_sections);
  parsed = parse_json ((const char *) data, manifest_len);
  fixed = fixed_manifest (parsed, sections, n_sections);
  if (fixed != NULL)
    {
      write_file ("manifest.json", (const guint8 *) fixed, strlen (fixed));
      check_verify (fixed, strlen (fixed), sections, n_sections);
    }
  for (guint s = 0; s < n_sections; s++)
    {
      if (s == 0)
        check_writer (sections[s].data, sections[s].len);
      check_count (&sections[s]);
      g_free (sections[s].name);
    }
}

void
hearth_fuzz_batch_count (const guint8 *data, gsize size)
{
  Section section = { NULL, data + MIN (size, 1), size - MIN (size, 1) };

  section.name = (char *) (size > 0 && (data[0] & 1) ? "members.json" : "members.csv");
  check_count (&section);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* batch.c: county batches and their manifest (batch.h). */

#include "batch.h"
#include "csv.h"
#include "json-depth.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (hearth-batch-error-quark, hearth_batch_error)

#define BOM "\xEF\xBB\xBF"

struct _HearthBatchWriter {
  char *dir;
  HearthBatchFormat format;
  FILE *file;
  char *file_name;
  char **columns;
  gint64 records;
  crypto_generichash_state hash;
  JsonArray *files;
};

static gboolean
io_failed (const char *path, int saved_errno, GError **error)
{
  g_set_error (error, HEARTH_BATCH_ERROR, HEARTH_BATCH_ERROR_IO, _("%s: %s"), path, g_strerror (saved_errno));
  return FALSE;
}

HearthBatchWriter *
hearth_batch_writer_new (const char *dir, HearthBatchFormat format, GError **error)
{
  g_autoptr(GDir) d = NULL;
  HearthBatchWriter *w;

  /* Said as hearth-cli export says it ("afile: Not a directory" did). */
  if (g_file_test (dir, G_FILE_TEST_EXISTS) && !g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, HEARTH_BATCH_ERROR, HEARTH_BATCH_ERROR_IO,
                   _("%s is a file, not a folder: a batch is written into a new or empty folder"), dir);
      return NULL;
    }
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      io_failed (dir, errno, error);
      return NULL;
    }
  d = g_dir_open (dir, 0, error);
  if (d == NULL)
    return NULL;
  if (g_dir_read_name (d) != NULL)
    {
      g_set_error (error, HEARTH_BATCH_ERROR, HEARTH_BATCH_ERROR_IO,
                   _("%s is not empty: a batch is written into a new or empty folder"), dir);
      return NULL;
    }
  w = g_new0 (HearthBatchWriter, 1);
  w->dir = g_strdup (dir);
  w->format = format;
  w->files = json_array_new ();
  return w;
}

static gboolean
put (HearthBatchWriter *w, const char *text, gsize len, GError **error)
{
  if (fwrite (text, 1, len, w->file) != len)
    {
      g_autofree char *path = g_build_filename (w->dir, w->file_name, NULL);
      return io_failed (path, errno, error);
    }
  crypto_generichash_update (&w->hash, (const guint8 *) text, len);
  return TRUE;
}

/* A whole decimal number ("-12", "-0.5"): a spreadsheet reads it as the
 * number it is, not as a formula. */
static gboolean
is_number (const char *value)
{
  char *end = NULL;

  g_ascii_strtod (value, &end);
  return end != value && *end == '\0' && strpbrk (value, "eEnNxX") == NULL;
}

void
hearth_batch_csv_field (GString *out, const char *value)
{
  gboolean formula = value[0] == '=' || value[0] == '+' || value[0] == '@' || value[0] == '\t' ||
                     value[0] == '\r' || (value[0] == '-' && value[1] != '\0' && !is_number (value));
  gboolean quote = strpbrk (value, ",\"\r\n") != NULL;

  if (quote)
    g_string_append_c (out, '"');
  if (formula)
    g_string_append_c (out, '\'');
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  if (quote)
    g_string_append_c (out, '"');
}

static gboolean
end_table (HearthBatchWriter *w, GError **error)
{
  g_autofree char *path = NULL;
  guint8 digest[32];
  char hex[65];
  JsonObject *entry;
  gboolean ok = TRUE;

  if (w->file == NULL)
    return TRUE;
  if (w->format == HEARTH_BATCH_JSON)
    ok = put (w, w->records > 0 ? "\n]\n" : "]\n", w->records > 0 ? 3 : 2, error);
  path = g_build_filename (w->dir, w->file_name, NULL);
  if (fflush (w->file) != 0 || fsync (fileno (w->file)) != 0)
    ok = ok && io_failed (path, errno, error);
  if (fclose (w->file) != 0)
    ok = ok && io_failed (path, errno, error);
  w->file = NULL;
  crypto_generichash_final (&w->hash, digest, sizeof digest);
  sodium_bin2hex (hex, sizeof hex, digest, sizeof digest);
  entry = json_object_new ();
  json_object_set_string_member (entry, "name", w->file_name);
  json_object_set_int_member (entry, "records", w->records);
  json_object_set_string_member (entry, "blake2b_256", hex);
  json_array_add_object_element (w->files, entry);
  g_clear_pointer (&w->file_name, g_free);
  g_clear_pointer (&w->columns, g_strfreev);
  return ok;
}

gboolean
hearth_batch_writer_begin_table (HearthBatchWriter *w, const char *table, const char *const *columns, GError **error)
{
  g_autofree char *path = NULL;

  if (!end_table (w, error))
    return FALSE;
  w->file_name = g_strconcat (table, w->format == HEARTH_BATCH_CSV ? ".csv" : ".json", NULL);
  w->columns = g_strdupv ((char **) columns);
  w->records = 0;
  crypto_generichash_init (&w->hash, NULL, 0, 32);
  path = g_build_filename (w->dir, w->file_name, NULL);
  /* Personal data: the owner's alone, as the manifest (never the umask's
   * 0644). */
  {
    int fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    w->file = fd >= 0 ? fdopen (fd, "wb") : NULL;
    if (w->file == NULL)
      {
        int saved = errno;

        if (fd >= 0)
          close (fd);
        return io_failed (path, saved, error);
      }
  }
  if (w->format == HEARTH_BATCH_CSV)
    {
      g_autoptr(GString) line = g_string_new (BOM);
      for (guint i = 0; columns[i] != NULL; i++)
        {
          if (i > 0)
            g_string_append_c (line, ',');
          hearth_batch_csv_field (line, columns[i]);
        }
      g_string_append (line, "\r\n");
      return put (w, line->str, line->len, error);
    }
  return put (w, "[", 1, error);
}

gboolean
hearth_batch_writer_add_row (HearthBatchWriter *w, const char *const *values, GError **error)
{
  g_autoptr(GString) line = g_string_new (NULL);

  g_return_val_if_fail (w->file != NULL, FALSE);
  if (w->format == HEARTH_BATCH_CSV)
    {
      for (guint i = 0; w->columns[i] != NULL; i++)
        {
          if (i > 0)
            g_string_append_c (line, ',');
          hearth_batch_csv_field (line, values[i] != NULL ? values[i] : "");
        }
      g_string_append (line, "\r\n");
    }
  else
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) node = NULL;
      g_autofree char *text = NULL;

      json_builder_begin_object (b);
      for (guint i = 0; w->columns[i] != NULL; i++)
        {
          json_builder_set_member_name (b, w->columns[i]);
          json_builder_add_string_value (b, values[i] != NULL ? values[i] : "");
        }
      json_builder_end_object (b);
      node = json_builder_get_root (b);
      text = json_to_string (node, FALSE);
      g_string_append (line, w->records > 0 ? ",\n" : "\n");
      g_string_append (line, text);
    }
  w->records++;
  return put (w, line->str, line->len, error);
}

gboolean
hearth_batch_writer_finish (HearthBatchWriter *w, JsonObject *manifest, GError **error)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *path = NULL;
  gboolean ok;

  if (!end_table (w, error))
    {
      hearth_batch_writer_free (w);
      return FALSE;
    }
  json_object_set_string_member (manifest, "format", HEARTH_BATCH_FORMAT_NAME);
  json_object_set_array_member (manifest, "files", json_array_ref (w->files));
  root = json_node_init_object (json_node_alloc (), manifest);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  path = g_build_filename (w->dir, "manifest.json", NULL);
  ok = hearth_batch_write_manifest (gen, path, error);
  hearth_batch_writer_free (w);
  return ok;
}

gboolean
hearth_batch_write_manifest (JsonGenerator *gen, const char *path, GError **error)
{
  gsize len = 0;
  g_autofree char *text = NULL;

  g_return_val_if_fail (JSON_IS_GENERATOR (gen) && path != NULL, FALSE);

  text = json_generator_to_data (gen, &len);
  return g_file_set_contents_full (path, text, (gssize) len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

void
hearth_batch_writer_free (HearthBatchWriter *w)
{
  if (w == NULL)
    return;
  if (w->file != NULL)
    fclose (w->file);
  g_free (w->dir);
  g_free (w->file_name);
  g_strfreev (w->columns);
  json_array_unref (w->files);
  g_free (w);
}

/* ---- verifying ----------------------------------------------------------------- */

G_GNUC_PRINTF (2, 3) static gboolean
invalid (GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, HEARTH_BATCH_ERROR, HEARTH_BATCH_ERROR_INVALID, message);
  return FALSE;
}

/* The records of a batch file, or -1 when it cannot be read as one. */
static gint64
count_records (const char *name, const char *data, gsize len, GError **error)
{
  if (g_str_has_suffix (name, ".csv"))
    {
      const char *p = data;
      gint64 rows = 0;
      GPtrArray *rec;
      gboolean bad = FALSE;

      if (!g_utf8_validate (data, (gssize) len, NULL) || memchr (data, '\0', len) != NULL)
        return invalid (error, _("%s is not UTF-8 text"), name), -1;
      if (g_str_has_prefix (p, BOM))
        p += 3;
      while ((rec = hearth_csv_record (&p, &bad)) != NULL)
        {
          g_ptr_array_unref (rec);
          rows++;
        }
      if (bad)
        return invalid (error, _("%s: a quoted field is not closed"), name), -1;
      return MAX (0, rows - 1);   /* the header */
    }
  else
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) local = NULL;
      JsonNode *root;

      if (!hearth_json_check_depth (data, len, HEARTH_JSON_MAX_DEPTH, NULL, &local) ||
          !json_parser_load_from_data (parser, data, (gssize) len, &local))
        {
          g_autofree char *why = g_utf8_make_valid (local->message, -1);
          return invalid (error, _("%s is not JSON: %s"), name, why), -1;
        }
      root = json_parser_get_root (parser);
      if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
        return invalid (error, _("%s is not a JSON array of records"), name), -1;
      return json_array_get_length (json_node_get_array (root));
    }
}

/* A member that is a whole number in the JSON (not 2.5, "2" or true,
 * which json-glib's getters would turn into one). */
static gboolean
whole_member (JsonObject *o, const char *name, gint64 *out)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (n);
  return TRUE;
}

static gboolean
safe_file_name (const char *name)
{
  return name[0] != '\0' && name[0] != '.' && strchr (name, '/') == NULL && strchr (name, '\\') == NULL &&
         (g_str_has_suffix (name, ".csv") || g_str_has_suffix (name, ".json")) && strcmp (name, "manifest.json") != 0;
}

/* Reads a batch file: a regular file, not a link, a device or a pipe (a
 * pipe would hang the check), of at most @max bytes; NUL-terminated for
 * the readers. */
static gboolean
read_plain_file (const char *path, const char *name, goffset max, char **data, gsize *len, GError **error)
{
  GStatBuf st;
  g_autoptr(GError) local = NULL;

  if (g_lstat (path, &st) != 0)
    return invalid (error, _("%s is missing: %s"), name, g_strerror (errno));
  if (!S_ISREG (st.st_mode))
    return invalid (error, _("%s is not a plain file (a link, a folder or a device)"), name);
  if (st.st_size > max)
    return invalid (error, _("%s is larger than %d bytes"), name, (int) max);
  if (!g_file_get_contents (path, data, len, &local))
    return invalid (error, _("%s is missing: %s"), name, local->message);
  return TRUE;
}

const char *const hearth_batch_tables[] = {
  "households", "members", "submissions", "tasks", "reviews", "measures", "conflicts", NULL,
};

/* The name of entry @i of the manifest's "files", or %NULL when it has
 * none or one outside the folder (the entry is refused for that where the
 * files are read). */
static const char *
entry_name (JsonArray *files, guint i)
{
  JsonNode *n = json_array_get_element (files, i);
  const char *name;

  if (!JSON_NODE_HOLDS_OBJECT (n))
    return NULL;
  name = json_object_get_string_member_with_default (json_node_get_object (n), "name", NULL);
  return name != NULL && safe_file_name (name) ? name : NULL;
}

/* Whether the manifest lists a file for every table of a batch and no
 * other, all CSV or all JSON: a batch that lost a table (and its entry)
 * would otherwise verify. Checked before any file is read, so the
 * message names what is wrong rather than what follows from it. */
static gboolean
check_tables (JsonArray *files, GError **error)
{
  const char *first = NULL, *ext;

  /* A malformed entry is named as such where the files are read. */
  for (guint i = 0; i < json_array_get_length (files); i++)
    if (entry_name (files, i) == NULL)
      return TRUE;
  first = json_array_get_length (files) > 0 ? entry_name (files, 0) : NULL;
  ext = first != NULL && g_str_has_suffix (first, ".json") ? ".json" : ".csv";
  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      const char *name = entry_name (files, i);
      gboolean known = FALSE;

      for (guint t = 0; hearth_batch_tables[t] != NULL && !known; t++)
        known = g_str_has_prefix (name, hearth_batch_tables[t]) &&
                g_str_equal (name + strlen (hearth_batch_tables[t]), ext);
      if (!known)
        return invalid (error, _("manifest.json lists %s: the files of a batch are its seven tables, all in the "
                                 "format of %s"), name, first);
    }
  for (guint t = 0; hearth_batch_tables[t] != NULL; t++)
    {
      g_autofree char *name = g_strconcat (hearth_batch_tables[t], ext, NULL);
      gboolean found = FALSE;

      for (guint i = 0; i < json_array_get_length (files) && !found; i++)
        found = g_strcmp0 (entry_name (files, i), name) == 0;
      if (!found)
        return invalid (error, _("manifest.json lists no %s: a batch holds a file for each of its seven tables, "
                                 "even when empty"), name);
    }
  return TRUE;
}

gboolean
hearth_batch_verify (const char *dir, JsonObject **manifest_out, GError **error)
{
  g_autofree char *manifest_path = g_build_filename (dir, "manifest.json", NULL);
  g_autofree char *manifest_text = NULL;
  gsize manifest_len = 0;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local = NULL;
  g_autoptr(GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GDir) d = NULL;
  JsonObject *manifest;
  JsonArray *files;
  const char *name;
  JsonNode *root;
  gint64 cursor_from, cursor_to;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *shown = g_filename_display_name (dir);
      return invalid (error, g_file_test (dir, G_FILE_TEST_EXISTS) ? _("%s is not a folder: a batch is a folder")
                                                                    : _("%s does not exist"),
                      shown);
    }
  if (!g_file_test (manifest_path, G_FILE_TEST_EXISTS))
    {
      g_autofree char *shown = g_filename_display_name (dir);
      return invalid (error, _("%s has no manifest.json"), shown);
    }
  if (!read_plain_file (manifest_path, "manifest.json", HEARTH_BATCH_MAX_MANIFEST, &manifest_text, &manifest_len,
                        error))
    return FALSE;
  /* json-glib quotes the text at fault, escapes undone and cut at a byte
   * count: not always UTF-8. */
  if (!hearth_json_check_depth (manifest_text, manifest_len, HEARTH_JSON_MAX_DEPTH, NULL, &local) ||
      !json_parser_load_from_data (parser, manifest_text, (gssize) manifest_len, &local))
    {
      g_autofree char *why = g_utf8_make_valid (local->message, -1);
      return invalid (error, _("manifest.json is not JSON: %s"), why);
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return invalid (error, _("manifest.json is not a JSON object"));
  manifest = json_node_get_object (root);
  if (g_strcmp0 (json_object_get_string_member_with_default (manifest, "format", NULL), HEARTH_BATCH_FORMAT_NAME) != 0)
    return invalid (error, _("manifest.json: “format” is not “%s”"), HEARTH_BATCH_FORMAT_NAME);
  /* What hearth-cli prints of the batch, and where the next one starts. */
  if (!whole_member (manifest, "cursor_from", &cursor_from) || !whole_member (manifest, "cursor_to", &cursor_to) ||
      cursor_from < 0 || cursor_from > cursor_to)
    return invalid (error, _("manifest.json: “cursor_from” and “cursor_to” must be whole numbers from 0, the first "
                             "not above the second"));
  if (!json_object_has_member (manifest, "files") || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (manifest, "files")))
    return invalid (error, _("manifest.json: “files” is missing"));
  files = json_object_get_array_member (manifest, "files");
  if (!check_tables (files, error))
    return FALSE;

  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      JsonNode *n = json_array_get_element (files, i);
      JsonObject *f = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      const char *file_name = f != NULL ? json_object_get_string_member_with_default (f, "name", NULL) : NULL;
      const char *want_hash = f != NULL ? json_object_get_string_member_with_default (f, "blake2b_256", NULL) : NULL;
      gint64 want_records = -1;
      g_autofree char *path = NULL;
      g_autofree char *data = NULL;
      guint8 digest[32];
      char hex[65];
      gint64 records;
      gsize len = 0;

      if (file_name == NULL || want_hash == NULL || f == NULL || !whole_member (f, "records", &want_records) ||
          want_records < 0 || !safe_file_name (file_name))
        return invalid (error, _("manifest.json: entry %u of “files” needs a name (a .csv or .json file in the "
                                 "folder), “records” and “blake2b_256”"), i + 1);
      if (!g_hash_table_add (listed, (gpointer) file_name))
        return invalid (error, _("manifest.json lists %s twice"), file_name);
      path = g_build_filename (dir, file_name, NULL);
      if (!read_plain_file (path, file_name, HEARTH_BATCH_MAX_FILE, &data, &len, error))
        return FALSE;
      crypto_generichash (digest, sizeof digest, (const guint8 *) data, len, NULL, 0);
      sodium_bin2hex (hex, sizeof hex, digest, sizeof digest);
      if (g_ascii_strcasecmp (hex, want_hash) != 0)
        return invalid (error, _("%s has changed: its BLAKE2b-256 is %s, the manifest says %s"), file_name, hex,
                        want_hash);
      records = count_records (file_name, data, len, error);
      if (records < 0)
        return FALSE;
      if (records != want_records)
        return invalid (error, _("%s holds %lld records, the manifest says %lld"), file_name, (long long) records,
                        (long long) want_records);
    }

  d = g_dir_open (dir, 0, error);
  if (d == NULL)
    return FALSE;
  while ((name = g_dir_read_name (d)) != NULL)
    if (strcmp (name, "manifest.json") != 0 && !g_hash_table_contains (listed, name))
      {
        /* A name the manifest cannot list, if not UTF-8 (a GBK name copied
         * from another system): shown as GLib shows file names. */
        g_autofree char *shown = g_filename_display_name (name);
        return invalid (error, _("%s is in the batch folder but not in its manifest"), shown);
      }

  if (manifest_out != NULL)
    *manifest_out = json_object_ref (manifest);
  return TRUE;
}

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
/* What verify reads of a file at a time. */
#define BATCH_READ_CHUNK (1024 * 1024)

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

/* Counting a batch file's records as its bytes come, a chunk at a time,
 * so that verifying holds one record in memory, never the file (up to
 * HEARTH_BATCH_MAX_FILE) or a JSON tree of it. CSV: records as
 * hearth_csv_record() reads them (schema/csv.c), counted by a state
 * machine of the same rules; JSON: the top-level array split into its
 * elements by their raw bytes (strings and nesting followed), each
 * element parsed by json-glib alone. */
typedef enum {
  CSV_RECORD_START,   /* nothing read of the next record */
  CSV_FIELD_START,
  CSV_UNQUOTED,
  CSV_QUOTED,
  CSV_QUOTE_SEEN,     /* a quote inside a quoted field: doubled, or its end */
  CSV_AFTER_CR,       /* a record ended at CR: an LF right after is part of it */
} CsvState;

typedef enum {
  JSON_BEFORE,        /* white space, then "[" */
  JSON_FIRST,         /* after "[": an element or "]" */
  JSON_ELEMENT,       /* inside an element */
  JSON_AFTER_COMMA,   /* an element must follow */
  JSON_DONE,          /* after the closing "]": white space only */
} JsonState;

typedef struct {
  char *name;           /* as shown: made UTF-8 */
  gboolean json;
  gint64 records;
  gint64 line;          /* of the byte being read, from 1 */
  guint8 head[3];       /* CSV: the bytes read so far of a byte order mark */
  guint head_len;
  gboolean head_done;
  guint8 carry[4];      /* CSV: a UTF-8 sequence cut by the chunk's end */
  guint carry_len;
  CsvState csv;
  JsonState state;
  GString *element;     /* JSON: the element read so far */
  gint64 element_line;
  guint depth;
  gboolean in_string, escaped;
} Counter;

static void
csv_byte (Counter *c, char b)
{
  switch (c->csv)
    {
    case CSV_AFTER_CR:
      if (b == '\n')
        {
          c->csv = CSV_RECORD_START;
          return;
        }
      G_GNUC_FALLTHROUGH;
    case CSV_RECORD_START:
      c->records++;
      G_GNUC_FALLTHROUGH;
    case CSV_FIELD_START:
      if (b == '"')
        {
          c->csv = CSV_QUOTED;
          return;
        }
      G_GNUC_FALLTHROUGH;
    case CSV_UNQUOTED:
    unquoted:
      c->csv = b == ',' ? CSV_FIELD_START : b == '\r' ? CSV_AFTER_CR : b == '\n' ? CSV_RECORD_START : CSV_UNQUOTED;
      return;
    case CSV_QUOTED:
      if (b == '"')
        c->csv = CSV_QUOTE_SEEN;
      return;
    case CSV_QUOTE_SEEN:
      if (b == '"')
        {
          c->csv = CSV_QUOTED;
          return;
        }
      /* The closing quote; what follows it up to the comma or line end is
       * the field's, as hearth_csv_record() takes it. */
      goto unquoted;
    }
}

/* Whether @data[0..@len) with the sequence carried from the chunk before
 * is UTF-8 without NUL; a sequence cut by the end is carried. */
static gboolean
csv_utf8 (Counter *c, const char *data, gsize len)
{
  const char *end;

  if (c->carry_len > 0)
    {
      guint need = (guint) g_utf8_skip[c->carry[0]];
      gsize take = MIN ((gsize) (need - c->carry_len), len);

      memcpy (c->carry + c->carry_len, data, take);
      c->carry_len += (guint) take;
      data += take;
      len -= take;
      if (c->carry_len < need)
        return TRUE;
      if (!g_utf8_validate_len ((const char *) c->carry, c->carry_len, NULL))
        return FALSE;
      c->carry_len = 0;
    }
  if (g_utf8_validate_len (data, len, &end))
    return TRUE;
  /* A sequence the chunk cut: up to 3 bytes, a beginning of one. */
  if ((gsize) (data + len - end) >= 4 || *end == '\0' ||
      g_utf8_get_char_validated (end, (gssize) (data + len - end)) != (gunichar) -2)
    return FALSE;
  c->carry_len = (guint) (data + len - end);
  memcpy (c->carry, end, c->carry_len);
  return TRUE;
}

/* One element of the top-level array, whole: parsed alone, inside an
 * array of its own as it stood in the file (json-glib takes some texts
 * alone that it refuses as an element: "$"). */
static gboolean
json_element_end (Counter *c, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local = NULL;
  JsonNode *root;

  c->records++;
  g_string_append_c (c->element, ']');
  /* json-glib quotes the text at fault, escapes undone and cut at a byte
   * count: not always UTF-8. Its lines count within the element. */
  if (!hearth_json_check_depth (c->element->str, c->element->len, HEARTH_JSON_MAX_DEPTH, NULL, &local) ||
      !json_parser_load_from_data (parser, c->element->str, (gssize) c->element->len, &local))
    {
      g_autofree char *why = g_utf8_make_valid (local->message, -1);
      return invalid (error, _("%s is not JSON: record %lld (from line %lld): %s"), c->name,
                      (long long) c->records, (long long) c->element_line, why);
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root) || json_array_get_length (json_node_get_array (root)) != 1)
    return invalid (error, _("%s is not JSON: record %lld (from line %lld): %s"), c->name, (long long) c->records,
                    (long long) c->element_line, _("not one value"));
  g_string_truncate (c->element, 1);   /* "[" */
  return TRUE;
}

static gboolean
json_bytes (Counter *c, const char *data, gsize len, GError **error)
{
  for (gsize i = 0; i < len; i++)
    {
      char b = data[i];
      gboolean space = b == ' ' || b == '\t' || b == '\n' || b == '\r';

      if (b == '\n')
        c->line++;
      switch (c->state)
        {
        case JSON_BEFORE:
        case JSON_DONE:
          if (space)
            continue;
          if (c->state == JSON_BEFORE && b == '[')
            {
              c->state = JSON_FIRST;
              continue;
            }
          return invalid (error, c->state == JSON_BEFORE ? _("%s is not a JSON array of records")
                                                         : _("%s is not JSON: line %lld: text after the array's end"),
                          c->name, (long long) c->line);
        case JSON_FIRST:
        case JSON_AFTER_COMMA:
          if (space)
            continue;
          if (b == ']' && c->state == JSON_FIRST)
            {
              c->state = JSON_DONE;
              continue;
            }
          if (b == ']' || b == ',')
            return invalid (error, _("%s is not JSON: line %lld: “%c” where a record should be"), c->name,
                            (long long) c->line, b);
          c->state = JSON_ELEMENT;
          c->element_line = c->line;
          c->depth = 0;
          c->in_string = c->escaped = FALSE;
          break;
        case JSON_ELEMENT:
          break;
        }
      /* Inside an element. */
      if (c->in_string)
        {
          if (c->escaped)
            c->escaped = FALSE;
          else if (b == '\\')
            c->escaped = TRUE;
          else if (b == '"')
            c->in_string = FALSE;
        }
      else if (b == '"')
        c->in_string = TRUE;
      else if ((b == '[' || b == '{') && ++c->depth >= HEARTH_JSON_MAX_DEPTH)
        /* Said as it comes, not at the element's end, which may be far. */
        return invalid (error, _("%s is not JSON: record %lld (from line %lld): arrays and objects nest deeper "
                                 "than %u levels"), c->name, (long long) c->records + 1, (long long) c->element_line,
                        (guint) HEARTH_JSON_MAX_DEPTH);
      else if ((b == ']' || b == '}') && c->depth > 0)
        c->depth--;
      else if ((b == ',' || b == ']') && c->depth == 0)
        {
          if (!json_element_end (c, error))
            return FALSE;
          c->state = b == ',' ? JSON_AFTER_COMMA : JSON_DONE;
          continue;
        }
      if (c->element->len > HEARTH_BATCH_MAX_RECORD)   /* its "[" not counted */
        return invalid (error, _("%s: record %lld (from line %lld) is larger than %d bytes"), c->name,
                        (long long) c->records + 1, (long long) c->element_line, (int) HEARTH_BATCH_MAX_RECORD);
      g_string_append_c (c->element, b);
    }
  return TRUE;
}

static gboolean
counter_feed (Counter *c, const char *data, gsize len, GError **error)
{
  if (c->json)
    return json_bytes (c, data, len, error);
  if (!csv_utf8 (c, data, len))
    return invalid (error, _("%s is not UTF-8 text"), c->name);
  /* A byte order mark at the start is not the first record's. */
  while (!c->head_done && len > 0)
    {
      c->head[c->head_len++] = (guint8) *data++;
      len--;
      if (memcmp (c->head, BOM, c->head_len) != 0)
        {
          /* Not one: its bytes are the text's. */
          c->head_done = TRUE;
          for (guint i = 0; i < c->head_len; i++)
            csv_byte (c, (char) c->head[i]);
        }
      else if (c->head_len == 3)
        c->head_done = TRUE;
    }
  for (gsize i = 0; i < len; i++)
    csv_byte (c, data[i]);
  return TRUE;
}

static gboolean
counter_end (Counter *c, gint64 *records, GError **error)
{
  if (c->json)
    {
      if (c->state == JSON_BEFORE)
        return invalid (error, _("%s is not a JSON array of records"), c->name);
      if (c->state != JSON_DONE)
        return invalid (error, _("%s is not JSON: it ends inside its array (line %lld)"), c->name,
                        (long long) c->line);
      *records = c->records;
      return TRUE;
    }
  if (c->carry_len > 0)
    return invalid (error, _("%s is not UTF-8 text"), c->name);
  if (!c->head_done)
    for (guint i = 0; i < c->head_len; i++)
      csv_byte (c, (char) c->head[i]);
  if (c->csv == CSV_QUOTED)
    return invalid (error, _("%s: a quoted field is not closed"), c->name);
  *records = MAX (0, c->records - 1);   /* the header */
  return TRUE;
}

static void
counter_init (Counter *c, const char *name)
{
  memset (c, 0, sizeof *c);
  c->name = g_utf8_make_valid (name, -1);
  c->json = g_str_has_suffix (name, ".json");
  c->line = 1;
  c->element = g_string_new ("[");   /* each element parsed as an array of it */
}

gboolean
hearth_batch_count_records (const char *name, const char *data, gsize len, gsize chunk, gint64 *records,
                            GError **error)
{
  Counter c;
  gboolean ok = TRUE;

  g_return_val_if_fail (name != NULL && (data != NULL || len == 0) && records != NULL, FALSE);

  counter_init (&c, name);
  chunk = MAX (chunk, 1);
  for (gsize at = 0; ok && at < len; at += chunk)
    ok = counter_feed (&c, data + at, MIN (chunk, len - at), error);
  ok = ok && counter_end (&c, records, error);
  g_string_free (c.element, TRUE);
  g_free (c.name);
  return ok;
}

/* Reads a batch file a chunk at a time: its BLAKE2b-256 (hex, into @hex)
 * and its records. A regular file, not a link, a device or a pipe (a
 * pipe would hang the check), of at most HEARTH_BATCH_MAX_FILE bytes;
 * else %FALSE with @error. A file that reads but does not count (not
 * UTF-8, not JSON…) is %TRUE with @count_error set: the checksum is
 * compared first (a changed file is the usual case, and said so). */
static gboolean
read_batch_file (const char *path, const char *name, char hex[65], gint64 *records, GError **count_error,
                 GError **error)
{
  crypto_generichash_state hash;
  guint8 digest[32];
  g_autofree char *buf = g_malloc (BATCH_READ_CHUNK);
  struct stat st;
  Counter c;
  gboolean counting = TRUE, ok = TRUE;
  gint64 total = 0;
  int fd = g_open (path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);

  *records = -1;
  if (fd < 0)
    return invalid (error, errno == ELOOP ? _("%s is not a plain file (a link, a folder or a device)")
                                          : _("%s is missing: %s"), name, g_strerror (errno));
  /* What was opened, not what the name was a moment before. */
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      return invalid (error, _("%s is not a plain file (a link, a folder or a device)"), name);
    }
  if (st.st_size > HEARTH_BATCH_MAX_FILE)
    {
      close (fd);
      return invalid (error, _("%s is larger than %d bytes"), name, (int) HEARTH_BATCH_MAX_FILE);
    }
  counter_init (&c, name);
  crypto_generichash_init (&hash, NULL, 0, sizeof digest);
  while (ok)
    {
      ssize_t n = read (fd, buf, BATCH_READ_CHUNK);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n < 0)
            ok = invalid (error, _("%s could not be read: %s"), name, g_strerror (errno));
          break;
        }
      total += n;
      /* Grown while read: refused as if it had been larger at first. */
      if (total > HEARTH_BATCH_MAX_FILE)
        ok = invalid (error, _("%s is larger than %d bytes"), name, (int) HEARTH_BATCH_MAX_FILE);
      crypto_generichash_update (&hash, (const guint8 *) buf, (gsize) n);
      if (counting && !counter_feed (&c, buf, (gsize) n, count_error))
        counting = FALSE;
    }
  close (fd);
  if (ok)
    {
      crypto_generichash_final (&hash, digest, sizeof digest);
      sodium_bin2hex (hex, 65, digest, sizeof digest);
      if (counting)
        counter_end (&c, records, count_error);
    }
  g_string_free (c.element, TRUE);
  g_free (c.name);
  return ok;
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

/* Reads manifest.json whole: a regular file, not a link, a device or a
 * pipe (a pipe would hang the check), of at most @max bytes;
 * NUL-terminated for the readers. */
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

/* Declared here, defined with the signing below. */
static gboolean check_signature (const char *dir, const char *manifest_text, gsize manifest_len,
                                 const guint8 *trusted_key, guint8 *signer, gboolean *is_signed, GError **error);

gboolean
hearth_batch_verify (const char *dir, JsonObject **manifest_out, GError **error)
{
  return hearth_batch_verify_signed (dir, NULL, NULL, NULL, manifest_out, error);
}

gboolean
hearth_batch_verify_signed (const char *dir, const guint8 *trusted_key, guint8 *signer, gboolean *is_signed,
                            JsonObject **manifest_out, GError **error)
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
  gboolean signed_ok = FALSE;

  g_return_val_if_fail (dir != NULL, FALSE);

  if (is_signed != NULL)
    *is_signed = FALSE;
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
  /* First: a manifest changed after it was signed is said so, whatever
   * else is wrong with it. */
  if (!check_signature (dir, manifest_text, manifest_len, trusted_key, signer, &signed_ok, error))
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
      g_autoptr(GError) count_error = NULL;
      char hex[65];
      gint64 records;

      if (file_name == NULL || want_hash == NULL || f == NULL || !whole_member (f, "records", &want_records) ||
          want_records < 0 || !safe_file_name (file_name))
        return invalid (error, _("manifest.json: entry %u of “files” needs a name (a .csv or .json file in the "
                                 "folder), “records” and “blake2b_256”"), i + 1);
      if (!g_hash_table_add (listed, (gpointer) file_name))
        return invalid (error, _("manifest.json lists %s twice"), file_name);
      path = g_build_filename (dir, file_name, NULL);
      if (!read_batch_file (path, file_name, hex, &records, &count_error, error))
        return FALSE;
      if (g_ascii_strcasecmp (hex, want_hash) != 0)
        return invalid (error, _("%s has changed: its BLAKE2b-256 is %s, the manifest says %s"), file_name, hex,
                        want_hash);
      if (count_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&count_error));
          return FALSE;
        }
      if (records != want_records)
        return invalid (error, _("%s holds %lld records, the manifest says %lld"), file_name, (long long) records,
                        (long long) want_records);
    }

  d = g_dir_open (dir, 0, error);
  if (d == NULL)
    return FALSE;
  while ((name = g_dir_read_name (d)) != NULL)
    if (strcmp (name, "manifest.json") != 0 && !(signed_ok && strcmp (name, HEARTH_BATCH_SIGNATURE_NAME) == 0) &&
        !g_hash_table_contains (listed, name))
      {
        /* A name the manifest cannot list, if not UTF-8 (a GBK name copied
         * from another system): shown as GLib shows file names. */
        g_autofree char *shown = g_filename_display_name (name);
        return invalid (error, _("%s is in the batch folder but not in its manifest"), shown);
      }

  if (is_signed != NULL)
    *is_signed = signed_ok;
  if (manifest_out != NULL)
    *manifest_out = json_object_ref (manifest);
  return TRUE;
}

/* ---- signing ------------------------------------------------------------------- */

/* The largest manifest.sig read: three short lines. */
#define BATCH_MAX_SIGNATURE_FILE 1024

/* What a batch's signature covers: the prefix, then manifest.json. */
static GBytes *
signed_message (const char *manifest_text, gsize manifest_len)
{
  GByteArray *m = g_byte_array_sized_new ((guint) (strlen (HEARTH_BATCH_SIGNED_PREFIX) + manifest_len));

  g_byte_array_append (m, (const guint8 *) HEARTH_BATCH_SIGNED_PREFIX, strlen (HEARTH_BATCH_SIGNED_PREFIX));
  g_byte_array_append (m, (const guint8 *) manifest_text, (guint) manifest_len);
  return g_byte_array_free_to_bytes (m);
}

char *
hearth_batch_key_to_text (const guint8 *public_key)
{
  g_return_val_if_fail (public_key != NULL, NULL);
  return g_base64_encode (public_key, HEARTH_BATCH_KEY_BYTES);
}

/* Decodes @text (standard base64 of exactly @size bytes) into @out; with
 * @trim, blanks around it are dropped first (a key typed or pasted), not
 * in manifest.sig, whose lines have one spelling (PROTOCOL.md section 10):
 * a key line ended by "\r" or a space is not a key. */
static gboolean
decode_exact (const char *text, guint8 *out, gsize size, gboolean trim)
{
  g_autofree char *trimmed = trim ? g_strstrip (g_strdup (text)) : g_strdup (text);
  gsize bin_len = 0;

  /* libsodium's decoder refuses what GLib's would skip (stray bytes,
   * missing padding): a key is typed or pasted, and must be this one. */
  if (sodium_base642bin (out, size, trimmed, strlen (trimmed), NULL, &bin_len, NULL,
                         sodium_base64_VARIANT_ORIGINAL) != 0)
    return FALSE;
  return bin_len == size;
}

gboolean
hearth_batch_key_from_text (const char *text, guint8 *public_key, GError **error)
{
  g_return_val_if_fail (text != NULL && public_key != NULL, FALSE);

  if (strlen (text) > 256 || !decode_exact (text, public_key, HEARTH_BATCH_KEY_BYTES, TRUE))
    return invalid (error, _("the batch key is not 32 bytes in base64 (as hearth-center batch-key prints it, "
                             "44 characters ending in “=”)"));
  return TRUE;
}

gboolean
hearth_batch_write_signature (const char *dir, const guint8 *public_key, const guint8 *signature, GError **error)
{
  g_autofree char *key = NULL, *sig = NULL, *text = NULL, *path = NULL;
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (dir != NULL && public_key != NULL && signature != NULL, FALSE);

  key = hearth_batch_key_to_text (public_key);
  sig = g_base64_encode (signature, HEARTH_BATCH_SIGNATURE_BYTES);
  text = g_strdup_printf ("%s\n%s\n%s\n", HEARTH_BATCH_SIGNATURE_HEADER, key, sig);
  path = g_build_filename (dir, HEARTH_BATCH_SIGNATURE_NAME, NULL);
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local))
    {
      g_set_error_literal (error, HEARTH_BATCH_ERROR, HEARTH_BATCH_ERROR_IO, local->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
hearth_batch_sign (const char *dir, const guint8 *seed, GError **error)
{
  g_autofree char *path = NULL, *text = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(GBytes) message = NULL;
  guint8 public_key[crypto_sign_PUBLICKEYBYTES];
  guint8 signature[crypto_sign_BYTES];
  guint8 *secret_key;
  gsize len = 0;

  g_return_val_if_fail (dir != NULL && seed != NULL, FALSE);

  path = g_build_filename (dir, "manifest.json", NULL);
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error_literal (error, HEARTH_BATCH_ERROR, HEARTH_BATCH_ERROR_IO, local->message);
      return FALSE;
    }
  message = signed_message (text, len);
  secret_key = sodium_malloc (crypto_sign_SECRETKEYBYTES);
  if (secret_key == NULL)
    g_error ("sodium_malloc failed");
  crypto_sign_seed_keypair (public_key, secret_key, seed);
  crypto_sign_detached (signature, NULL, g_bytes_get_data (message, NULL), g_bytes_get_size (message), secret_key);
  sodium_free (secret_key);
  return hearth_batch_write_signature (dir, public_key, signature, error);
}

gboolean
hearth_batch_read_signature (const char *dir, guint8 *public_key, guint8 *signature, GError **error)
{
  g_autofree char *path = NULL, *text = NULL;
  g_auto(GStrv) lines = NULL;
  gsize len = 0;

  g_return_val_if_fail (dir != NULL && public_key != NULL && signature != NULL, FALSE);

  path = g_build_filename (dir, HEARTH_BATCH_SIGNATURE_NAME, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    return invalid (error, _("%s is missing: the batch is not signed"), HEARTH_BATCH_SIGNATURE_NAME);
  if (!read_plain_file (path, HEARTH_BATCH_SIGNATURE_NAME, BATCH_MAX_SIGNATURE_FILE, &text, &len, error))
    return FALSE;
  if (strlen (text) != len || !g_utf8_validate (text, (gssize) len, NULL))
    return invalid (error, _("%s is not text"), HEARTH_BATCH_SIGNATURE_NAME);
  lines = g_strsplit (text, "\n", -1);
  /* Three lines, each ended by a newline: a fourth, empty, piece. */
  if (g_strv_length (lines) != 4 || lines[3][0] != '\0')
    return invalid (error, _("%s must have three lines: “%s”, the key and the signature"),
                    HEARTH_BATCH_SIGNATURE_NAME, HEARTH_BATCH_SIGNATURE_HEADER);
  if (strcmp (lines[0], HEARTH_BATCH_SIGNATURE_HEADER) != 0)
    return invalid (error, _("%s, line 1: not “%s”"), HEARTH_BATCH_SIGNATURE_NAME, HEARTH_BATCH_SIGNATURE_HEADER);
  if (!decode_exact (lines[1], public_key, HEARTH_BATCH_KEY_BYTES, FALSE))
    return invalid (error, _("%s, line 2: not a key (32 bytes in base64)"), HEARTH_BATCH_SIGNATURE_NAME);
  if (!decode_exact (lines[2], signature, HEARTH_BATCH_SIGNATURE_BYTES, FALSE))
    return invalid (error, _("%s, line 3: not a signature (64 bytes in base64)"), HEARTH_BATCH_SIGNATURE_NAME);
  return TRUE;
}

/* Checks manifest.sig against @manifest_text (manifest.json's bytes). */
static gboolean
check_signature (const char *dir, const char *manifest_text, gsize manifest_len, const guint8 *trusted_key,
                 guint8 *signer, gboolean *is_signed, GError **error)
{
  g_autofree char *path = g_build_filename (dir, HEARTH_BATCH_SIGNATURE_NAME, NULL);
  g_autoptr(GBytes) message = NULL;
  guint8 public_key[HEARTH_BATCH_KEY_BYTES];
  guint8 signature[HEARTH_BATCH_SIGNATURE_BYTES];

  *is_signed = FALSE;
  if (!g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      if (trusted_key == NULL)
        return TRUE;
      g_set_error (error, HEARTH_BATCH_ERROR, HEARTH_BATCH_ERROR_KEY, _("%s is missing: the batch is not signed"),
                   HEARTH_BATCH_SIGNATURE_NAME);
      return FALSE;
    }
  if (!hearth_batch_read_signature (dir, public_key, signature, error))
    return FALSE;
  message = signed_message (manifest_text, manifest_len);
  if (crypto_sign_verify_detached (signature, g_bytes_get_data (message, NULL), g_bytes_get_size (message),
                                   public_key) != 0)
    return invalid (error, _("%s does not match manifest.json: the manifest was changed after it was signed"),
                    HEARTH_BATCH_SIGNATURE_NAME);
  if (trusted_key != NULL && sodium_memcmp (public_key, trusted_key, HEARTH_BATCH_KEY_BYTES) != 0)
    {
      g_autofree char *got = hearth_batch_key_to_text (public_key);
      g_autofree char *want = hearth_batch_key_to_text (trusted_key);
      g_set_error (error, HEARTH_BATCH_ERROR, HEARTH_BATCH_ERROR_KEY,
                   _("%s: the batch is signed by the key %s, not by %s, the key it should have"),
                   HEARTH_BATCH_SIGNATURE_NAME, got, want);
      return FALSE;
    }
  if (signer != NULL)
    memcpy (signer, public_key, sizeof public_key);
  *is_signed = TRUE;
  return TRUE;
}

char *
hearth_batch_signature_summary (gboolean is_signed, const guint8 *signer, gboolean key_given)
{
  g_autofree char *key = NULL;

  if (!is_signed || signer == NULL)
    return g_strdup (_("It is not signed: nothing shows that the county center wrote it (--key KEY refuses an "
                       "unsigned batch).\n"));
  key = hearth_batch_key_to_text (signer);
  if (key_given)
    return g_strdup_printf (_("It is signed with the county center's batch key %s, the key given.\n"), key);
  return g_strdup_printf (_("It is signed with the batch key %s: compare it with the key the county center "
                            "published (hearth-center batch-key), or give it with --key.\n"), key);
}

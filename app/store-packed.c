/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "hearth-store"

#include "store-packed.h"
#include "store-error.h"
#include "resource-pin.h"
#include "hearth-schema-resources.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <lz4.h>
#include <sodium.h>
#include <string.h>

#define PACK_MAGIC "HXZ\1"
#define PACK_HEADER 8   /* magic (4) and the text's length (LE32) */
/* A text shorter than this is kept as it is: nothing worth the work. */
#define PACK_MIN 256
#define DICT_PATH "/org/hearth/store/store/packed-dict-1.xml"

/* A thread's LZ4 streams (LZ4 streams are not to be shared): @loaded
 * holds the dictionary as LZ4_loadDict() left it, copied into @work
 * before each text; loading it each time cost more than packing a
 * visit's form. */
typedef struct {
  LZ4_stream_t loaded;
  LZ4_stream_t work;
} PackStreams;

static void
free_streams (gpointer streams)
{
  g_free (streams);
}

static GPrivate stream_key = G_PRIVATE_INIT (free_streams);

/* BLAKE2b-256 of format 1's dictionary. Every packed row was made with
 * exactly these bytes, and LZ4 with another dictionary unpacks them into
 * other text without a word: the file never changes (a new dictionary is
 * a new format byte), and a build holding another one stops before it
 * packs or reads a row. */
static const guint8 dictionary_hash[crypto_generichash_BYTES] = {
  0xf3, 0xf1, 0x4b, 0xf9, 0xec, 0x37, 0x65, 0x60, 0xfe, 0x21, 0x39, 0x54, 0x7b, 0x33, 0x8f, 0xba,
  0x8b, 0x6c, 0x6e, 0x55, 0xeb, 0x93, 0x1d, 0x4f, 0x77, 0xe9, 0xa3, 0x6d, 0xd2, 0xbb, 0x5d, 0x14,
};

/* Format 1's dictionary: the bundled forms' instances without their
 * values (schema/store/packed-dict-1.xml). A compiled-in resource, never
 * freed: LZ4 refers to it while it works. */
static const char *
dictionary (int *len)
{
  static gsize once;
  static GBytes *dict;

  if (g_once_init_enter (&once))
    {
      dict = hearth_resource_pinned (hearth_schema_get_resource (), DICT_PATH, dictionary_hash,
                                     "format 1's dictionary of packed submissions");
      g_once_init_leave (&once, 1);
    }
  *len = (int) g_bytes_get_size (dict);
  return g_bytes_get_data (dict, NULL);
}

gboolean
hearth_packed_column (const char *table, const char *column)
{
  return g_strcmp0 (table, "submissions") == 0 && g_strcmp0 (column, "instance_xml") == 0;
}

guint8 *
hearth_text_pack (const char *text, gsize len, gsize *packed_len)
{
  PackStreams *streams = g_private_get (&stream_key);
  int n;
  guint8 *out;

  *packed_len = 0;
  if (len < PACK_MIN || len > HEARTH_PACKED_TEXT_MAX)
    return NULL;
  if (streams == NULL)
    {
      const char *dict;
      int dict_len;

      /* g_new: LZ4_stream_t's alignment is malloc's. */
      streams = g_new (PackStreams, 1);
      if (LZ4_initStream (&streams->loaded, sizeof streams->loaded) == NULL)
        {
          g_free (streams);
          return NULL;
        }
      dict = dictionary (&dict_len);
      LZ4_loadDict (&streams->loaded, dict, dict_len);
      g_private_set (&stream_key, streams);
    }
  /* What LZ4_loadDict() would leave, as lz4.h allows (a copy of a
   * stream with its dictionary loaded): the same bytes out. */
  memcpy (&streams->work, &streams->loaded, sizeof streams->work);
  /* No room for more than the text itself: what does not shrink stays
   * text. */
  out = g_malloc (len);
  memcpy (out, PACK_MAGIC, 4);
  out[4] = len & 0xff;
  out[5] = (len >> 8) & 0xff;
  out[6] = (len >> 16) & 0xff;
  out[7] = (len >> 24) & 0xff;
  n = LZ4_compress_fast_continue (&streams->work, text, (char *) out + PACK_HEADER, (int) len,
                                  (int) (len - PACK_HEADER), 1);
  if (n <= 0)
    {
      g_free (out);
      return NULL;
    }
  *packed_len = PACK_HEADER + (gsize) n;
  return out;
}

static char *
damaged (GError **error, const char *what, const char *why)
{
  g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT, _("%s: the stored text is damaged (%s)"),
               what, why);
  return NULL;
}

char *
hearth_text_unpack (const guint8 *packed, gsize len, const char *what, GError **error)
{
  g_autofree char *text = NULL;
  const char *dict;
  gsize size;
  int dict_len, n;

  if (len < PACK_HEADER || memcmp (packed, PACK_MAGIC, 4) != 0)
    return damaged (error, what, _("not a compressed text"));
  size = (gsize) packed[4] | (gsize) packed[5] << 8 | (gsize) packed[6] << 16 | (gsize) packed[7] << 24;
  /* Checked before anything is allocated for it. */
  if (size > HEARTH_PACKED_TEXT_MAX)
    return damaged (error, what, _("it says it is larger than the largest text kept"));
  if (len - PACK_HEADER > G_MAXINT)
    return damaged (error, what, _("not valid compressed data"));
  dict = dictionary (&dict_len);
  text = g_malloc (size + 1);
  /* The output buffer is the bound: LZ4's safe decoder refuses data that
   * would write beyond it, or read beyond its input. */
  n = LZ4_decompress_safe_usingDict ((const char *) packed + PACK_HEADER, text, (int) (len - PACK_HEADER),
                                     (int) size, dict, dict_len);
  if (n < 0)
    return damaged (error, what, _("not valid compressed data, or longer than it says"));
  if ((gsize) n != size)
    return damaged (error, what, _("shorter than it says"));
  text[size] = '\0';
  if (memchr (text, '\0', size) != NULL || !g_utf8_validate (text, (gssize) size, NULL))
    return damaged (error, what, _("not UTF-8 text"));
  return g_steal_pointer (&text);
}

int
hearth_packed_bind (sqlite3_stmt *st, int index, const char *text)
{
  guint8 *packed;
  gsize len, packed_len;

  if (text == NULL)
    return sqlite3_bind_null (st, index);
  len = strlen (text);
  packed = hearth_text_pack (text, len, &packed_len);
  if (packed == NULL)
    return sqlite3_bind_text64 (st, index, text, len, SQLITE_TRANSIENT, SQLITE_UTF8);
  return sqlite3_bind_blob64 (st, index, packed, packed_len, g_free);
}

/* "submissions 0b1e…, instance_xml": the record and column, never the
 * value. */
static char *
describe (sqlite3_stmt *st, int column, const char *table, const char *id)
{
  return g_strdup_printf ("%s %s, %s", table, id != NULL ? id : "?", sqlite3_column_name (st, column));
}

char *
hearth_packed_column_text (sqlite3_stmt *st, int column, const char *table, const char *id, GError **error)
{
  g_autofree char *what = NULL;

  switch (sqlite3_column_type (st, column))
    {
    case SQLITE_NULL:
      return NULL;
    case SQLITE_TEXT:
      return g_strdup ((const char *) sqlite3_column_text (st, column));
    case SQLITE_BLOB:
      {
        const guint8 *blob = sqlite3_column_blob (st, column);
        gsize len = (gsize) sqlite3_column_bytes (st, column);
        char *text;

        what = describe (st, column, table, id);
        text = hearth_text_unpack (blob, len, what, error);
        return text;
      }
    default:
      what = describe (st, column, table, id);
      return damaged (error, what, _("a number where a text belongs"));
    }
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * store-keys.c: the integer keys of field_edits and field_versions
 * (store-keys.h, migration 0011-edit-keys.sql).
 */
#include "store-keys.h"

#include <sodium.h>
#include <string.h>

/* SipHash's key: fixed, because the keys are stored (any value would do;
 * these are the bytes of "hearth edit keys"). */
static const unsigned char hash_key[crypto_shorthash_KEYBYTES] = {
  'h', 'e', 'a', 'r', 't', 'h', ' ', 'e', 'd', 'i', 't', ' ', 'k', 'e', 'y', 's',
};

static guint64
hash (const void *data, gsize len)
{
  unsigned char out[crypto_shorthash_BYTES];
  guint64 v = 0;

  crypto_shorthash (out, data, len, hash_key);
  for (guint i = 0; i < sizeof out; i++)
    v = v << 8 | out[i];
  return v;
}

/* The record a connection's hearth_edit_key() hashed last ("table\nid")
 * and its part of the key. A pull writes a page's edits and versions
 * record after record (sync-apply.c, in their keys' order), its field
 * after field: most calls are for the record of the call before. */
typedef struct {
  gsize len;           /* 0: none yet */
  char text[160];
  guint64 key;
} RecordMemo;

static gint64
edit_key (const char *table, gsize table_len, const char *id, gsize id_len, const char *field, gsize field_len,
          RecordMemo *memo)
{
  char stack[160];
  gsize len = table_len + 1 + id_len;
  char *buf = len <= sizeof stack ? stack : g_malloc (len);
  guint64 key;

  memcpy (buf, table, table_len);
  buf[table_len] = '\n';
  memcpy (buf + table_len + 1, id, id_len);
  if (memo != NULL && memo->len == len && memcmp (memo->text, buf, len) == 0)
    key = memo->key;
  else
    {
      key = hash (buf, len) & ~(guint64) 0xffff;
      if (memo != NULL && len <= sizeof memo->text)
        {
          memcpy (memo->text, buf, len);
          memo->len = len;
          memo->key = key;
        }
    }
  if (buf != stack)
    g_free (buf);
  if (field != NULL)
    key |= hash (field, field_len) & 0xffff;
  return (gint64) key;
}

gint64
hearth_store_edit_key (const char *table, const char *id, const char *field)
{
  g_return_val_if_fail (table != NULL && id != NULL, 0);
  return edit_key (table, strlen (table), id, strlen (id), field, field != NULL ? strlen (field) : 0, NULL);
}

gint64
hearth_store_version_key (const char *hlc)
{
  g_return_val_if_fail (hlc != NULL, 0);
  return (gint64) hash (hlc, strlen (hlc));
}

/* hearth_edit_key (record_table, record_id, field): NULL when the table
 * or the id is. */
static void
sql_edit_key (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const char *table = (const char *) sqlite3_value_text (argv[0]);
  const char *id = (const char *) sqlite3_value_text (argv[1]);
  const char *field = (const char *) sqlite3_value_text (argv[2]);

  g_assert (argc == 3);
  if (table == NULL || id == NULL)
    {
      sqlite3_result_null (ctx);
      return;
    }
  /* The memo is the connection's, whose calls SQLite runs one at a time. */
  sqlite3_result_int64 (ctx, edit_key (table, (gsize) sqlite3_value_bytes (argv[0]), id,
                                       (gsize) sqlite3_value_bytes (argv[1]), field,
                                       field != NULL ? (gsize) sqlite3_value_bytes (argv[2]) : 0,
                                       sqlite3_user_data (ctx)));
}

/* hearth_version_key (hlc): NULL for NULL. */
static void
sql_version_key (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const char *hlc = (const char *) sqlite3_value_text (argv[0]);

  g_assert (argc == 1);
  if (hlc == NULL)
    {
      sqlite3_result_null (ctx);
      return;
    }
  sqlite3_result_int64 (ctx, (gint64) hash (hlc, (gsize) sqlite3_value_bytes (argv[0])));
}

int
hearth_store_add_key_functions (sqlite3 *db)
{
  int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  int rc = sqlite3_create_function_v2 (db, "hearth_edit_key", 3, flags, g_new0 (RecordMemo, 1), sql_edit_key, NULL,
                                       NULL, g_free);

  if (rc == SQLITE_OK)
    rc = sqlite3_create_function (db, "hearth_version_key", 1, flags, NULL, sql_version_key, NULL, NULL);
  return rc;
}

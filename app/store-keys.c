/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * store-keys.c: the integer keys of field_edits and record_versions, and
 * a record's field versions (store-keys.h, migrations 0011-edit-keys.sql
 * and 0013-record-versions.sql).
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

/* ---- a record's field versions (migration 0013) ------------------------------------ */

void
hearth_store_append_json_string (GString *out, const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    if (*p == '"' || *p == '\\')
      {
        g_string_append_c (out, '\\');
        g_string_append_c (out, *p);
      }
    else if ((guchar) *p < 0x20)
      g_string_append_printf (out, "\\u%04x", (guint) (guchar) *p);
    else
      g_string_append_c (out, *p);
  g_string_append_c (out, '"');
}

typedef struct {
  char *key;          /* "VERSION" or "VERSION BASE…" */
  GPtrArray *fields;  /* names */
} VersionGroup;

static void
version_group_free (gpointer data)
{
  VersionGroup *g = data;

  g_free (g->key);
  g_ptr_array_unref (g->fields);
  g_free (g);
}

static const char *
skip_space (const char *p)
{
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
    p++;
  return p;
}

/* A JSON string at *@p (after spaces), its escapes \" \\ \/ and \uXXXX
 * of ASCII read; NULL when there is none or another escape. */
static char *
read_string (const char **p)
{
  GString *out;
  const char *q = skip_space (*p);

  if (*q != '"')
    return NULL;
  out = g_string_new (NULL);
  for (q++; *q != '"'; q++)
    {
      if (*q == '\0')
        goto bad;
      if (*q != '\\')
        {
          g_string_append_c (out, *q);
          continue;
        }
      q++;
      if (*q == '"' || *q == '\\' || *q == '/')
        g_string_append_c (out, *q);
      else if (*q == 'u' && g_ascii_isxdigit (q[1]) && g_ascii_isxdigit (q[2]) && g_ascii_isxdigit (q[3]) &&
               g_ascii_isxdigit (q[4]))
        {
          guint c = (guint) (g_ascii_xdigit_value (q[1]) << 12 | g_ascii_xdigit_value (q[2]) << 8 |
                             g_ascii_xdigit_value (q[3]) << 4 | g_ascii_xdigit_value (q[4]));

          if (c == 0 || c > 0x7f)
            goto bad;
          g_string_append_c (out, (char) c);
          q += 4;
        }
      else
        goto bad;
    }
  *p = q + 1;
  return g_string_free (out, FALSE);

bad:
  g_string_free (out, TRUE);
  return NULL;
}

/* Reads a record's versions, {"KEY": ["FIELD", …], …}, into @groups
 * (VersionGroup); NULL or "" is none. FALSE when @text is not of that
 * form. */
static gboolean
versions_parse (const char *text, GPtrArray *groups)
{
  const char *p = text != NULL ? skip_space (text) : "";

  if (*p == '\0')
    return TRUE;
  if (*p++ != '{')
    return FALSE;
  p = skip_space (p);
  if (*p == '}')
    return *skip_space (p + 1) == '\0';
  for (;;)
    {
      VersionGroup *g = g_new0 (VersionGroup, 1);

      g->fields = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (groups, g);
      if ((g->key = read_string (&p)) == NULL)
        return FALSE;
      p = skip_space (p);
      if (*p++ != ':')
        return FALSE;
      p = skip_space (p);
      if (*p++ != '[')
        return FALSE;
      p = skip_space (p);
      if (*p == ']')
        p++;
      else
        for (;;)
          {
            char *field = read_string (&p);

            if (field == NULL)
              return FALSE;
            g_ptr_array_add (g->fields, field);
            p = skip_space (p);
            if (*p == ']')
              {
                p++;
                break;
              }
            if (*p++ != ',')
              return FALSE;
          }
      p = skip_space (p);
      if (*p == '}')
        return *skip_space (p + 1) == '\0';
      if (*p++ != ',')
        return FALSE;
    }
}

static void
versions_write (GString *out, GPtrArray *groups)
{
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  for (guint i = 0; i < groups->len; i++)
    {
      VersionGroup *g = groups->pdata[i];

      if (g->fields->len == 0)
        continue;
      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      hearth_store_append_json_string (out, g->key);
      g_string_append (out, ":[");
      for (guint f = 0; f < g->fields->len; f++)
        {
          if (f > 0)
            g_string_append_c (out, ',');
          hearth_store_append_json_string (out, g->fields->pdata[f]);
        }
      g_string_append_c (out, ']');
    }
  g_string_append_c (out, '}');
}

/* A JSON string at *@p (after spaces), not copied: its text between the
 * quotes in *@start and *@len, *@escaped when it holds an escape (then
 * read_string() reads it). FALSE when there is none. */
static gboolean
scan_string (const char **p, const char **start, gsize *len, gboolean *escaped)
{
  const char *q = skip_space (*p);

  if (*q != '"')
    return FALSE;
  *start = ++q;
  *escaped = FALSE;
  for (; *q != '"'; q++)
    {
      if (*q == '\0')
        return FALSE;
      if (*q == '\\')
        {
          *escaped = TRUE;
          if (*++q == '\0')
            return FALSE;
        }
    }
  *len = (gsize) (q - *start);
  *p = q + 1;
  return TRUE;
}

/* The key @field is under in @text ({"KEY": ["FIELD", …], …}), read in
 * place without building the object: a lookup a field of a pull's every
 * merge. Returns the key (owned) or NULL in *@key; FALSE when @text is
 * not of that form (as far as read before the field was found). */
static gboolean
versions_lookup (const char *text, const char *field, char **key)
{
  const char *p = text != NULL ? skip_space (text) : "";
  gsize field_len = strlen (field);

  *key = NULL;
  if (*p == '\0')
    return TRUE;
  if (*p++ != '{')
    return FALSE;
  p = skip_space (p);
  if (*p == '}')
    return *skip_space (p + 1) == '\0';
  for (;;)
    {
      const char *key_at = p, *start;
      gsize len;
      gboolean escaped;

      if (!scan_string (&p, &start, &len, &escaped))
        return FALSE;
      p = skip_space (p);
      if (*p++ != ':')
        return FALSE;
      p = skip_space (p);
      if (*p++ != '[')
        return FALSE;
      p = skip_space (p);
      if (*p == ']')
        p++;
      else
        for (;;)
          {
            const char *f_at = p, *f_start;
            gsize f_len;
            gboolean f_escaped, same;

            if (!scan_string (&p, &f_start, &f_len, &f_escaped))
              return FALSE;
            if (!f_escaped)
              same = f_len == field_len && memcmp (f_start, field, f_len) == 0;
            else
              {
                g_autofree char *name = read_string (&f_at);

                if (name == NULL)
                  return FALSE;
                same = strcmp (name, field) == 0;
              }
            if (same)
              {
                *key = escaped ? read_string (&key_at) : g_strndup (start, len);
                return *key != NULL;
              }
            p = skip_space (p);
            if (*p == ']')
              {
                p++;
                break;
              }
            if (*p++ != ',')
              return FALSE;
          }
      p = skip_space (p);
      if (*p == '}')
        return *skip_space (p + 1) == '\0';
      if (*p++ != ',')
        return FALSE;
    }
}

/* hearth_field_version (versions, field) (@part 0), hearth_field_base
 * (versions, field) (1), hearth_field_key (versions, field) (2): the
 * field's version, the versions it replaced ("" for none), or both as its
 * key ("VERSION[ BASE…]"); NULL when the field has no version. */
static void
sql_field_version (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const char *field = (const char *) sqlite3_value_text (argv[1]);
  g_autofree char *key = NULL;
  const char *space;
  int part = GPOINTER_TO_INT (sqlite3_user_data (ctx));

  g_assert (argc == 2);
  if (field == NULL)
    {
      sqlite3_result_null (ctx);
      return;
    }
  if (!versions_lookup ((const char *) sqlite3_value_text (argv[0]), field, &key))
    {
      sqlite3_result_error (ctx, "a record's field versions are not of the form {\"VERSION\": [\"FIELD\", …]}", -1);
      return;
    }
  if (key == NULL)
    {
      sqlite3_result_null (ctx);
      return;
    }
  space = strchr (key, ' ');
  if (part == 0)
    sqlite3_result_text (ctx, key, space != NULL ? (int) (space - key) : -1, SQLITE_TRANSIENT);
  else if (part == 1)
    sqlite3_result_text (ctx, space != NULL ? space + 1 : "", -1, SQLITE_TRANSIENT);
  else
    sqlite3_result_text (ctx, g_steal_pointer (&key), -1, g_free);
}

/* hearth_set_field_version (versions, field, version, base): @versions
 * with @field under @version and @base ("" or NULL for none), in place of
 * where it was; a NULL @version takes the field out. */
static void
sql_set_field_version (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func (version_group_free);
  const char *field = (const char *) sqlite3_value_text (argv[1]);
  const char *version = (const char *) sqlite3_value_text (argv[2]);
  const char *base = (const char *) sqlite3_value_text (argv[3]);
  g_autofree char *key = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  VersionGroup *into = NULL;

  g_assert (argc == 4);
  if (!versions_parse ((const char *) sqlite3_value_text (argv[0]), groups))
    {
      sqlite3_result_error (ctx, "a record's field versions are not of the form {\"VERSION\": [\"FIELD\", …]}", -1);
      return;
    }
  if (field == NULL)
    {
      sqlite3_result_error (ctx, "a field version without a field", -1);
      return;
    }
  if (version != NULL)
    key = base != NULL && base[0] != '\0' ? g_strconcat (version, " ", base, NULL) : g_strdup (version);
  for (guint i = 0; i < groups->len; i++)
    {
      VersionGroup *g = groups->pdata[i];
      guint at;

      for (at = 0; at < g->fields->len; at++)
        if (strcmp (g->fields->pdata[at], field) == 0)
          break;
      if (at < g->fields->len)
        g_ptr_array_remove_index (g->fields, at);
      if (key != NULL && strcmp (g->key, key) == 0)
        into = g;
    }
  if (key != NULL)
    {
      if (into == NULL)
        {
          into = g_new0 (VersionGroup, 1);
          into->key = g_steal_pointer (&key);
          into->fields = g_ptr_array_new_with_free_func (g_free);
          g_ptr_array_add (groups, into);
        }
      g_ptr_array_add (into->fields, g_strdup (field));
    }
  versions_write (out, groups);
  sqlite3_result_text (ctx, out->str, (int) out->len, SQLITE_TRANSIENT);
}

int
hearth_store_add_key_functions (sqlite3 *db)
{
  int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  int rc = sqlite3_create_function_v2 (db, "hearth_edit_key", 3, flags, g_new0 (RecordMemo, 1), sql_edit_key, NULL,
                                       NULL, g_free);

  if (rc == SQLITE_OK)
    rc = sqlite3_create_function (db, "hearth_version_key", 1, flags, NULL, sql_version_key, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function (db, "hearth_field_version", 2, flags, GINT_TO_POINTER (0), sql_field_version, NULL,
                                  NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function (db, "hearth_field_base", 2, flags, GINT_TO_POINTER (1), sql_field_version, NULL,
                                  NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function (db, "hearth_field_key", 2, flags, GINT_TO_POINTER (2), sql_field_version, NULL,
                                  NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function (db, "hearth_set_field_version", 4, flags, NULL, sql_set_field_version, NULL, NULL);
  return rc;
}

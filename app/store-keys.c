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

/* A field name's part of the key: a table has some tens of fields, each
 * written thousands of times a pull; a slot a name, by its length and
 * last bytes (a miss costs one hash, as without it). */
#define FIELD_MEMO_SLOTS 64
#define FIELD_MEMO_NAME 40

typedef struct {
  guint8 len;          /* 0: empty */
  char name[FIELD_MEMO_NAME];
  guint16 key;
} FieldMemo;

/* The version hearth_version_key() hashed last: an "edits" change's
 * fields are written one after the other under one version. */
typedef struct {
  gsize len;           /* 0: none yet */
  char text[64];
  guint64 key;
} VersionMemo;

/* A connection's memos of hearth_edit_key() (hearth_store_add_key_functions()):
 * SQLite runs a connection's calls one at a time. */
typedef struct {
  RecordMemo record;
  FieldMemo fields[FIELD_MEMO_SLOTS];
} KeyMemo;

static guint16
field_key (const char *field, gsize len, KeyMemo *memo)
{
  FieldMemo *slot;
  guint16 key;

  if (memo == NULL || len == 0 || len > FIELD_MEMO_NAME)
    return (guint16) (hash (field, len) & 0xffff);
  slot = &memo->fields[(len * 7 + (guchar) field[len - 1] * 3 + (guchar) field[len / 2]) % FIELD_MEMO_SLOTS];
  if (slot->len == len && memcmp (slot->name, field, len) == 0)
    return slot->key;
  key = (guint16) (hash (field, len) & 0xffff);
  memcpy (slot->name, field, len);
  slot->len = (guint8) len;
  slot->key = key;
  return key;
}

static gint64
edit_key (const char *table, gsize table_len, const char *id, gsize id_len, const char *field, gsize field_len,
          KeyMemo *memo)
{
  RecordMemo *record = memo != NULL ? &memo->record : NULL;
  gsize len = table_len + 1 + id_len;
  guint64 key;

  /* Compared in place: the text is only built to be hashed. */
  if (record != NULL && record->len == len && memcmp (record->text, table, table_len) == 0 &&
      record->text[table_len] == '\n' && memcmp (record->text + table_len + 1, id, id_len) == 0)
    key = record->key;
  else
    {
      char stack[160];
      char *buf = len <= sizeof stack ? stack : g_malloc (len);

      memcpy (buf, table, table_len);
      buf[table_len] = '\n';
      memcpy (buf + table_len + 1, id, id_len);
      key = hash (buf, len) & ~(guint64) 0xffff;
      if (record != NULL && len <= sizeof record->text)
        {
          memcpy (record->text, buf, len);
          record->len = len;
          record->key = key;
        }
      if (buf != stack)
        g_free (buf);
    }
  if (field != NULL)
    key |= field_key (field, field_len, memo);
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
  VersionMemo *memo = sqlite3_user_data (ctx);
  gsize len;

  g_assert (argc == 1);
  if (hlc == NULL)
    {
      sqlite3_result_null (ctx);
      return;
    }
  len = (gsize) sqlite3_value_bytes (argv[0]);
  if (len > sizeof memo->text)
    {
      sqlite3_result_int64 (ctx, (gint64) hash (hlc, len));
      return;
    }
  if (len == 0 || memo->len != len || memcmp (memo->text, hlc, len) != 0)
    {
      memo->key = hash (hlc, len);
      memcpy (memo->text, hlc, len);
      memo->len = len;
    }
  sqlite3_result_int64 (ctx, (gint64) memo->key);
}

/* ---- a record's field versions (migration 0013) ------------------------------------ */

void
hearth_store_append_json_string (GString *out, const char *text)
{
  const char *run = text;

  /* Runs of plain bytes appended whole: a pull writes a field's name a
   * merge. */
  g_string_append_c (out, '"');
  for (const char *p = text;; p++)
    {
      guchar c = (guchar) *p;

      if (c != '\0' && c != '"' && c != '\\' && c >= 0x20)
        continue;
      g_string_append_len (out, run, p - run);
      if (c == '\0')
        break;
      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else
        g_string_append_printf (out, "\\u%04x", (guint) c);
      run = p + 1;
    }
  g_string_append_c (out, '"');
}

/* A record's versions are at most this long: some hundreds of fields
 * under a few keys take some kilobytes; text longer than this is not
 * one (and is not read, so that a damaged row costs little). The form has
 * two levels, an object of arrays of strings, read without recursion: no
 * other nesting is taken. */
#define VERSIONS_MAX_BYTES (1024 * 1024)

/* Reads {"KEY": ["FIELD", …], …} in place, within [text, end): no
 * string is copied; a NUL is a byte like any other (refused where JSON
 * has none). */
typedef struct {
  const char *text, *p, *end;
  const char *error;   /* what is wrong, at @error_at; NULL while none */
  gsize error_at;
  gboolean first;      /* before the first group or field of the level */
} VersionsReader;

/* A string of the text: from its opening quote through its closing one.
 * Its escapes were checked when it was read. */
typedef struct {
  const char *raw;
  gsize raw_len;
  gboolean escaped;
} VersionsString;

static gboolean
reader_fail (VersionsReader *r, const char *what)
{
  if (r->error == NULL)
    {
      r->error = what;
      r->error_at = (gsize) (r->p - r->text);
    }
  return FALSE;
}

static void
reader_space (VersionsReader *r)
{
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
    r->p++;
}

/* The next byte after spaces is @c: consumes it. */
static gboolean
reader_take (VersionsReader *r, char c)
{
  reader_space (r);
  if (r->p < r->end && *r->p == c)
    {
      r->p++;
      return TRUE;
    }
  return FALSE;
}

/* A JSON string of the text's form: no control character, the escapes
 * \" \\ \/ \b \f \n \r \t (as SQLite's JSON functions write them,
 * migration 0013) and the \u escapes of ASCII characters but NUL. */
static gboolean
reader_string (VersionsReader *r, VersionsString *s)
{
  const char *q;

  reader_space (r);
  if (r->p >= r->end || *r->p != '"')
    return reader_fail (r, "expected a string");
  s->raw = r->p;
  s->escaped = FALSE;
  for (q = r->p + 1; q < r->end && *q != '"'; q++)
    {
      if ((guchar) *q < 0x20)
        {
          r->p = q;
          return reader_fail (r, "a control character in a string");
        }
      if (*q != '\\')
        continue;
      s->escaped = TRUE;
      if (q + 1 >= r->end)
        {
          q = r->end;
          break;
        }
      q++;
      if (*q == 'u')
        {
          guint c = 0;

          for (guint i = 1; i <= 4; i++)
            if (q + i < r->end && g_ascii_isxdigit (q[i]))
              c = c << 4 | (guint) g_ascii_xdigit_value (q[i]);
            else
              c = G_MAXUINT;
          if (c == 0 || c > 0x7f)
            {
              r->p = q - 1;
              return reader_fail (r, "an escape \\u other than of ASCII but NUL");
            }
          q += 4;
        }
      else if (strchr ("\"\\/bfnrt", *q) == NULL || *q == '\0')
        {
          r->p = q - 1;
          return reader_fail (r, "an escape other than \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u");
        }
    }
  if (q >= r->end)
    {
      r->p = s->raw;
      return reader_fail (r, "a string without its closing quote");
    }
  s->raw_len = (gsize) (q + 1 - s->raw);
  r->p = q + 1;
  return TRUE;
}

/* The text of @s (checked by reader_string()) appended to @out. */
static void
string_decode (const VersionsString *s, GString *out)
{
  const char *q = s->raw + 1, *end = s->raw + s->raw_len - 1;

  if (!s->escaped)
    {
      g_string_append_len (out, q, end - q);
      return;
    }
  for (; q < end; q++)
    {
      if (*q != '\\')
        {
          g_string_append_c (out, *q);
          continue;
        }
      switch (*++q)
        {
        case 'b': g_string_append_c (out, '\b'); break;
        case 'f': g_string_append_c (out, '\f'); break;
        case 'n': g_string_append_c (out, '\n'); break;
        case 'r': g_string_append_c (out, '\r'); break;
        case 't': g_string_append_c (out, '\t'); break;
        case 'u':
          g_string_append_c (out, (char) (g_ascii_xdigit_value (q[3]) << 4 | g_ascii_xdigit_value (q[4])));
          q += 4;
          break;
        default: g_string_append_c (out, *q); break;
        }
    }
}

/* Whether @s reads as @text (@len bytes). */
static gboolean
string_equal (const VersionsString *s, const char *text, gsize len)
{
  g_autoptr(GString) decoded = NULL;

  if (!s->escaped)
    return s->raw_len - 2 == len && memcmp (s->raw + 1, text, len) == 0;
  decoded = g_string_sized_new (s->raw_len);
  string_decode (s, decoded);
  return decoded->len == len && memcmp (decoded->str, text, len) == 0;
}

/* Starts reading @text (@len bytes; NULL is none). Returns 1 when it
 * holds an object, 0 when it is none (NULL, empty or spaces), -1 when it
 * is not of the form. */
static int
reader_begin (VersionsReader *r, const char *text, gsize len)
{
  r->text = r->p = text != NULL ? text : "";
  r->end = r->p + (text != NULL ? len : 0);
  r->error = NULL;
  r->first = TRUE;
  if (len > VERSIONS_MAX_BYTES)
    return reader_fail (r, "longer than 1 MiB"), -1;
  reader_space (r);
  if (r->p == r->end)
    return 0;
  if (!reader_take (r, '{'))
    return reader_fail (r, "expected '{'"), -1;
  return 1;
}

/* Reads the next key and the '[' of its fields into @key. Returns 1 for
 * a group, 0 at the end of the object (nothing but spaces after it), -1
 * when the text is not of the form. */
static int
reader_next_group (VersionsReader *r, VersionsString *key)
{
  if (reader_take (r, '}'))
    {
      reader_space (r);
      return r->p == r->end ? 0 : (reader_fail (r, "text after the object"), -1);
    }
  if (!r->first && !reader_take (r, ','))
    return reader_fail (r, "expected ',' or '}'"), -1;
  if (!reader_string (r, key))
    return -1;
  if (!reader_take (r, ':'))
    return reader_fail (r, "expected ':'"), -1;
  if (!reader_take (r, '['))
    return reader_fail (r, "expected '[' (a key's fields)"), -1;
  r->first = TRUE;
  return 1;
}

/* Reads the next field of a group into @field. Returns 1 for a field, 0
 * at the end of the group's fields, -1 when the text is not of the form. */
static int
reader_next_field (VersionsReader *r, VersionsString *field)
{
  if (reader_take (r, ']'))
    {
      r->first = FALSE;
      return 0;
    }
  if (!r->first && !reader_take (r, ','))
    return reader_fail (r, "expected ',' or ']'"), -1;
  if (!reader_string (r, field))
    return -1;
  r->first = FALSE;
  return 1;
}

/* The statement's error for @r's. */
static void
result_reader_error (sqlite3_context *ctx, const VersionsReader *r)
{
  g_autofree char *message = g_strdup_printf ("a record's field versions are not of the form "
                                              "{\"VERSION\": [\"FIELD\", …]}: %s at byte %" G_GSIZE_FORMAT,
                                              r->error, r->error_at);

  sqlite3_result_error (ctx, message, -1);
}

/* The key @field (@field_len bytes) is under in @text ({"KEY": ["FIELD",
 * …], …}), the first in the text's order, read in place: a lookup a field
 * of a pull's every merge. The whole text is read, so that what is not
 * of the form is refused whichever field is asked for. Returns FALSE
 * when it is not (@r says why); TRUE with *@found set when the field has
 * a key, in *@key. */
static gboolean
versions_lookup (VersionsReader *r, const char *text, gsize len, const char *field, gsize field_len,
                 VersionsString *key, gboolean *found)
{
  VersionsString k, f;
  int rc;

  *found = FALSE;
  if ((rc = reader_begin (r, text, len)) <= 0)
    return rc == 0;
  while ((rc = reader_next_group (r, &k)) > 0)
    {
      while ((rc = reader_next_field (r, &f)) > 0)
        if (!*found && string_equal (&f, field, field_len))
          {
            *key = k;
            *found = TRUE;
          }
      if (rc < 0)
        break;
    }
  return rc == 0 && r->error == NULL;
}

/* hearth_field_version (versions, field) (@part 0), hearth_field_base
 * (versions, field) (1), hearth_field_key (versions, field) (2): the
 * field's version, the versions it replaced ("" for none), or both as its
 * key ("VERSION[ BASE…]"); NULL when the field has no version. */
static void
sql_field_version (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const char *text = (const char *) sqlite3_value_text (argv[0]);
  gsize len = (gsize) sqlite3_value_bytes (argv[0]);
  const char *field = (const char *) sqlite3_value_text (argv[1]);
  gsize field_len = (gsize) sqlite3_value_bytes (argv[1]);
  int part = GPOINTER_TO_INT (sqlite3_user_data (ctx));
  VersionsReader r;
  VersionsString key;
  gboolean found;
  g_autoptr(GString) decoded = NULL;
  const char *k, *space;
  gsize k_len;

  g_assert (argc == 2);
  if (field == NULL)
    {
      sqlite3_result_null (ctx);
      return;
    }
  if (!versions_lookup (&r, text, len, field, field_len, &key, &found))
    {
      result_reader_error (ctx, &r);
      return;
    }
  if (!found)
    {
      sqlite3_result_null (ctx);
      return;
    }
  if (key.escaped)
    {
      decoded = g_string_sized_new (key.raw_len);
      string_decode (&key, decoded);
      k = decoded->str;
      k_len = decoded->len;
    }
  else
    {
      k = key.raw + 1;
      k_len = key.raw_len - 2;
    }
  space = memchr (k, ' ', k_len);
  if (part == 0)
    sqlite3_result_text (ctx, k, (int) (space != NULL ? (gsize) (space - k) : k_len), SQLITE_TRANSIENT);
  else if (part == 1)
    sqlite3_result_text (ctx, space != NULL ? space + 1 : "", space != NULL ? (int) (k + k_len - space - 1) : 0,
                         SQLITE_TRANSIENT);
  else
    sqlite3_result_text (ctx, k, (int) k_len, SQLITE_TRANSIENT);
}

/* @text (@len bytes) with @field under @key (@key_len bytes; NULL takes
 * the field out), as hearth_set_field_version() below describes; NULL
 * when @text is not of the form (@r says why). */
static GString *
versions_set (VersionsReader *r, const char *text, gsize len, const char *field, gsize field_len, const char *key,
              gsize key_len)
{
  g_autoptr(GString) out = g_string_sized_new (len + 2 * (field_len + key_len) + 16);
  VersionsString k, f;
  gboolean placed = FALSE, any = FALSE;
  int rc;

  g_string_append_c (out, '{');
  if ((rc = reader_begin (r, text, len)) > 0)
    while ((rc = reader_next_group (r, &k)) > 0)
      {
        gsize group_at = out->len;
        guint fields = 0;
        gboolean into = key != NULL && !placed && string_equal (&k, key, key_len);

        if (any)
          g_string_append_c (out, ',');
        g_string_append_len (out, k.raw, k.raw_len);
        g_string_append (out, ":[");
        while ((rc = reader_next_field (r, &f)) > 0)
          if (!string_equal (&f, field, field_len))
            {
              if (fields++ > 0)
                g_string_append_c (out, ',');
              g_string_append_len (out, f.raw, f.raw_len);
            }
        if (rc < 0)
          break;
        if (into)
          {
            if (fields++ > 0)
              g_string_append_c (out, ',');
            hearth_store_append_json_string (out, field);
            placed = TRUE;
          }
        g_string_append_c (out, ']');
        if (fields == 0)
          g_string_truncate (out, group_at);
        else
          any = TRUE;
      }
  if (rc < 0 || r->error != NULL)
    return NULL;
  if (key != NULL && !placed)
    {
      if (any)
        g_string_append_c (out, ',');
      hearth_store_append_json_string (out, key);
      g_string_append (out, ":[");
      hearth_store_append_json_string (out, field);
      g_string_append_c (out, ']');
    }
  g_string_append_c (out, '}');
  return g_steal_pointer (&out);
}

/* What result_reader_error() says, for a caller in C. */
static char *
reader_message (const VersionsReader *r)
{
  return g_strdup_printf ("a record's field versions are not of the form {\"VERSION\": [\"FIELD\", …]}: %s at byte "
                          "%" G_GSIZE_FORMAT, r->error, r->error_at);
}

/* A group of a record's versions read in place (versions_set_fields()):
 * its key and its fields, as the text spells them. */
typedef struct {
  VersionsString key;
  GArray *fields;   /* VersionsString */
} VersionsGroup;

static void
versions_group_clear (gpointer data)
{
  VersionsGroup *g = data;

  g_array_unref (g->fields);
}

gboolean
hearth_store_versions_set_fields (GString *versions, guint n, const char *const *fields,
                                  const char *const *versions_of, const char *const *bases, gboolean *changed,
                                  char **message)
{
  g_autoptr(GArray) groups = g_array_new (FALSE, FALSE, sizeof (VersionsGroup));
  /* The new strings' texts, quoted, in one block: each stays where it is. */
  g_autoptr(GStringChunk) quoted_texts = NULL;
  g_autoptr(GString) quoted = g_string_new (NULL);
  g_autoptr(GString) key = g_string_new (NULL);
  g_autoptr(GString) out = NULL;
  VersionsReader r;
  VersionsString k, f;
  int rc;

  *changed = FALSE;
  g_array_set_clear_func (groups, versions_group_clear);
  /* Read once, the whole text (as each statement would, refusing what is
   * not of the form whatever the field); set a field at a time on what
   * was read; written once. */
  if ((rc = reader_begin (&r, versions->str, versions->len)) > 0)
    while ((rc = reader_next_group (&r, &k)) > 0)
      {
        VersionsGroup g = { k, g_array_new (FALSE, FALSE, sizeof (VersionsString)) };

        while ((rc = reader_next_field (&r, &f)) > 0)
          g_array_append_val (g.fields, f);
        g_array_append_val (groups, g);
        if (rc < 0)
          break;
      }
  if (rc < 0 || r.error != NULL)
    {
      *message = reader_message (&r);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      const char *field = fields[i];
      gsize field_len = strlen (field);
      gsize key_len;
      VersionsGroup *into = NULL;
      gboolean found = FALSE, same = FALSE;
      VersionsString named;

      g_string_assign (key, versions_of[i]);
      if (bases[i] != NULL && bases[i][0] != '\0')
        {
          g_string_append_c (key, ' ');
          g_string_append (key, bases[i]);
        }
      key_len = key->len;
      if (quoted_texts == NULL)
        quoted_texts = g_string_chunk_new (256);
      /* hearth_field_key (versions, field): the first group holding it. */
      for (guint g = 0; g < groups->len && !found; g++)
        {
          VersionsGroup *group = &g_array_index (groups, VersionsGroup, g);

          for (guint j = 0; j < group->fields->len && !found; j++)
            if (string_equal (&g_array_index (group->fields, VersionsString, j), field, field_len))
              {
                found = TRUE;
                same = string_equal (&group->key, key->str, key_len);
              }
        }
      if (same)
        continue;
      /* hearth_set_field_version(): out of every group, at the end of the
       * first under its key (a new one at the end when none is), and a
       * group left without fields goes. */
      for (guint g = 0; g < groups->len;)
        {
          VersionsGroup *group = &g_array_index (groups, VersionsGroup, g);

          for (guint j = group->fields->len; j-- > 0;)
            if (string_equal (&g_array_index (group->fields, VersionsString, j), field, field_len))
              g_array_remove_index (group->fields, j);
          if (into == NULL && string_equal (&group->key, key->str, key_len))
            into = group;
          if (group->fields->len == 0 && group != into)
            g_array_remove_index (groups, g);
          else
            g++;
        }
      g_string_truncate (quoted, 0);
      hearth_store_append_json_string (quoted, field);
      named = (VersionsString) { g_string_chunk_insert_len (quoted_texts, quoted->str, (gssize) quoted->len),
                                 quoted->len, FALSE };
      if (into == NULL)
        {
          VersionsGroup g;

          g_string_truncate (quoted, 0);
          hearth_store_append_json_string (quoted, key->str);
          g.key = (VersionsString) { g_string_chunk_insert_len (quoted_texts, quoted->str, (gssize) quoted->len),
                                     quoted->len, FALSE };
          g.fields = g_array_new (FALSE, FALSE, sizeof (VersionsString));
          g_array_append_val (groups, g);
          into = &g_array_index (groups, VersionsGroup, groups->len - 1);
        }
      g_array_append_val (into->fields, named);
      *changed = TRUE;
    }
  if (!*changed)
    return TRUE;
  out = g_string_sized_new (versions->len + 64);
  g_string_append_c (out, '{');
  for (guint g = 0; g < groups->len; g++)
    {
      VersionsGroup *group = &g_array_index (groups, VersionsGroup, g);

      if (group->fields->len == 0)
        continue;
      if (out->len > 1)
        g_string_append_c (out, ',');
      g_string_append_len (out, group->key.raw, group->key.raw_len);
      g_string_append (out, ":[");
      for (guint j = 0; j < group->fields->len; j++)
        {
          VersionsString *field = &g_array_index (group->fields, VersionsString, j);

          if (j > 0)
            g_string_append_c (out, ',');
          g_string_append_len (out, field->raw, field->raw_len);
        }
      g_string_append_c (out, ']');
    }
  g_string_append_c (out, '}');
  /* The strings read point into @versions: replaced only now. */
  g_string_truncate (versions, 0);
  g_string_append_len (versions, out->str, (gssize) out->len);
  return TRUE;
}

gboolean
hearth_store_versions_set_field (GString *versions, const char *field, const char *version, const char *base,
                                 gboolean *changed, char **message)
{
  return hearth_store_versions_set_fields (versions, 1, &field, &version, &base, changed, message);
}

/* hearth_set_field_version (versions, field, version, base): @versions
 * with @field under @version and @base ("" or NULL for none), at the end
 * of that key's fields (the key after the others when new), and out of
 * every other key (a key left without fields goes); a NULL @version takes
 * the field out. Written in one pass from the text read in place: the
 * strings kept are copied as they are, escapes and all; spaces between
 * them go. */
static void
sql_set_field_version (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const char *text = (const char *) sqlite3_value_text (argv[0]);
  gsize len = (gsize) sqlite3_value_bytes (argv[0]);
  const char *field = (const char *) sqlite3_value_text (argv[1]);
  gsize field_len = (gsize) sqlite3_value_bytes (argv[1]);
  const char *version = (const char *) sqlite3_value_text (argv[2]);
  const char *base = (const char *) sqlite3_value_text (argv[3]);
  g_autofree char *key = NULL;
  gsize key_len = 0;
  g_autoptr(GString) out = NULL;
  VersionsReader r;

  g_assert (argc == 4);
  if (field == NULL)
    {
      sqlite3_result_error (ctx, "a field version without a field", -1);
      return;
    }
  if (memchr (field, '\0', field_len) != NULL)
    {
      sqlite3_result_error (ctx, "a field version's field holds a NUL", -1);
      return;
    }
  if (version != NULL)
    {
      key = base != NULL && base[0] != '\0' ? g_strconcat (version, " ", base, NULL) : g_strdup (version);
      key_len = strlen (key);
    }
  if ((out = versions_set (&r, text, len, field, field_len, key, key_len)) == NULL)
    {
      result_reader_error (ctx, &r);
      return;
    }
  sqlite3_result_text (ctx, out->str, (int) out->len, SQLITE_TRANSIENT);
}

int
hearth_store_add_key_functions (sqlite3 *db)
{
  int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  /* Each function's memo is its own, freed with it (SQLite calls the
   * destructor on failure too). */
  int rc = sqlite3_create_function_v2 (db, "hearth_edit_key", 3, flags, g_new0 (KeyMemo, 1), sql_edit_key, NULL,
                                       NULL, g_free);

  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2 (db, "hearth_version_key", 1, flags, g_new0 (VersionMemo, 1), sql_version_key,
                                     NULL, NULL, g_free);
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

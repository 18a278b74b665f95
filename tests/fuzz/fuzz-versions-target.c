/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-versions-target.c: the reader of a record's field versions
 * (fuzz-targets.h, hearth_fuzz_versions()), through the SQL functions
 * that use it (app/store-keys.c, migration 0013). */
#include "fuzz-targets.h"
#include "fuzz-util.h"

#include "store-keys.h"

#include <sqlite3.h>
#include <string.h>

#define MAX_FIELD 200
#define MAX_OTHERS 32

static sqlite3 *db;
static char *last_error;  /* the last statement's, or NULL */

/* Runs @sql, its parameters ?1…?4 bound to @args (NULL binds NULL, the
 * first @len0 bytes long), and returns its one value (NULL for NULL or
 * no row) in *@out. FALSE when the statement failed: then its message must name
 * what is wrong with the versions. */
static gboolean
run (const char *sql, const char *arg0, gsize len0, const char *arg1, const char *arg2, const char *arg3,
     char **out)
{
  sqlite3_stmt *st = NULL;
  const char *args[] = { arg0, arg1, arg2, arg3 };
  int rc;

  *out = NULL;
  fuzz_check (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK);
  for (int i = 0; i < sqlite3_bind_parameter_count (st) && i < 4; i++)
    if (args[i] != NULL)
      sqlite3_bind_text (st, i + 1, args[i], i == 0 ? (int) len0 : -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      if (sqlite3_column_type (st, 0) != SQLITE_NULL)
        *out = g_strndup ((const char *) sqlite3_column_text (st, 0), (gsize) sqlite3_column_bytes (st, 0));
      fuzz_check (sqlite3_step (st) == SQLITE_DONE);
    }
  else if (rc != SQLITE_DONE)  /* no row: NULL */
    {
      const char *message = sqlite3_errmsg (db);
      const char *at = strstr (message, " at byte ");

      fuzz_check (rc == SQLITE_ERROR);
      fuzz_check (g_utf8_validate (message, -1, NULL));
      fuzz_check (g_str_has_prefix (message, "a record's field versions are not of the form"));
      fuzz_check (at != NULL);
      /* Where within the text. */
      fuzz_check (g_ascii_strtoull (at + strlen (" at byte "), NULL, 10) <= len0);
    }
  g_free (last_error);
  last_error = rc == SQLITE_ROW || rc == SQLITE_DONE ? NULL : g_strdup (sqlite3_errmsg (db));
  sqlite3_finalize (st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

/* The key of @field in @text; FALSE when @text is refused. */
static gboolean
key_of (const char *text, gsize len, const char *field, char **key)
{
  return run ("SELECT hearth_field_key (?1, ?2)", text, len, field, NULL, NULL, key);
}

/* The fields @text names, by SQLite's JSON reader. */
static GPtrArray *
fields_of (const char *text)
{
  GPtrArray *fields = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *st = NULL;

  fuzz_check (sqlite3_prepare_v2 (db, "SELECT DISTINCT f.value FROM json_each (?1) k, json_each (k.value) f",
                                  -1, &st, NULL) == SQLITE_OK);
  sqlite3_bind_text (st, 1, text, -1, SQLITE_STATIC);
  while (sqlite3_step (st) == SQLITE_ROW && fields->len < MAX_OTHERS)
    g_ptr_array_add (fields, g_strdup ((const char *) sqlite3_column_text (st, 0)));
  sqlite3_finalize (st);
  return fields;
}

/* @after is @before with @field set to @want (NULL: taken out): every
 * other field keeps its key. */
static void
check_set (const char *before, const char *after, const char *field, const char *want)
{
  g_autoptr(GPtrArray) fields = fields_of (before);
  g_autofree char *got = NULL;
  g_autofree char *valid = NULL;

  fuzz_check (key_of (after, strlen (after), field, &got));
  fuzz_check (g_strcmp0 (got, want) == 0);
  fuzz_check (run ("SELECT json_valid (?1)", after, strlen (after), NULL, NULL, NULL, &valid));
  fuzz_check (g_strcmp0 (valid, "1") == 0);
  for (guint i = 0; i < fields->len; i++)
    {
      g_autofree char *was = NULL;
      g_autofree char *is = NULL;

      if (strcmp (fields->pdata[i], field) == 0)
        continue;
      fuzz_check (key_of (before, strlen (before), fields->pdata[i], &was));
      fuzz_check (key_of (after, strlen (after), fields->pdata[i], &is));
      fuzz_check (g_strcmp0 (was, is) == 0);
    }
}

void
hearth_fuzz_versions (const guint8 *data, gsize size)
{
  const char *nl = memchr (data, '\n', MIN (size, MAX_FIELD));
  g_autofree char *field = NULL;
  const char *text;
  gsize len;
  g_autofree char *key = NULL;
  g_autofree char *version = NULL;
  g_autofree char *base = NULL;
  g_autofree char *set = NULL;
  g_autofree char *error = NULL;
  gboolean ok;

  if (db == NULL)
    {
      fuzz_check (sqlite3_open (":memory:", &db) == SQLITE_OK);
      fuzz_check (hearth_store_add_key_functions (db) == SQLITE_OK);
    }
  /* The field's name on the first line (up to a NUL), the versions after. */
  if (nl != NULL)
    {
      field = g_strndup ((const char *) data, (gsize) (nl - (const char *) data));
      text = nl + 1;
      len = size - (gsize) (nl + 1 - (const char *) data);
    }
  else
    {
      field = g_strdup ("a");
      text = (const char *) data;
      len = size;
    }

  /* The readers agree, on what is wrong too: each reads the whole text. */
  ok = key_of (text, len, field, &key);
  error = g_strdup (last_error);
  fuzz_check (run ("SELECT hearth_field_version (?1, ?2)", text, len, field, NULL, NULL, &version) == ok);
  fuzz_check (g_strcmp0 (error, last_error) == 0);
  fuzz_check (run ("SELECT hearth_field_base (?1, ?2)", text, len, field, NULL, NULL, &base) == ok);
  fuzz_check (g_strcmp0 (error, last_error) == 0);
  fuzz_check (run ("SELECT hearth_set_field_version (?1, ?2, 'V9', 'B1')", text, len, field, NULL, NULL, &set) ==
              ok);
  fuzz_check (g_strcmp0 (error, last_error) == 0);
  if (!ok)
    return;
  fuzz_check ((key == NULL) == (version == NULL) && (key == NULL) == (base == NULL));
  if (key != NULL)
    {
      const char *space = strchr (key, ' ');

      fuzz_check (strncmp (key, version, space != NULL ? (gsize) (space - key) : strlen (key) + 1) == 0);
      fuzz_check (strcmp (base, space != NULL ? space + 1 : "") == 0);
    }

  /* What is accepted is JSON (but for NUL: text up to one, spaces only,
   * is none), and SQLite's reader finds the same key. */
  if (memchr (text, '\0', len) == NULL)
    {
      g_autofree char *copy = g_strndup (text, len);
      g_autofree char *valid = NULL;
      g_autofree char *oracle = NULL;
      g_autofree char *again = NULL;
      g_autofree char *out = NULL;
      g_autofree char *stripped = g_strstrip (g_strdup (copy));

      if (stripped[0] != '\0')
        {
          fuzz_check (run ("SELECT json_valid (?1)", copy, len, NULL, NULL, NULL, &valid));
          fuzz_check (g_strcmp0 (valid, "1") == 0);
          fuzz_check (run ("SELECT k.key FROM json_each (?1) k, json_each (k.value) f WHERE f.value = ?2 LIMIT 1",
                           copy, len, field, NULL, NULL, &oracle));
          fuzz_check (g_strcmp0 (oracle, key) == 0);
        }

      /* Setting: the field under its new key, the others where they were;
       * the same again changes nothing; taken out, it has none. */
      check_set (copy, set, field, "V9 B1");
      fuzz_check (run ("SELECT hearth_set_field_version (?1, ?2, 'V9', 'B1')", set, strlen (set), field, NULL, NULL,
                       &again));
      fuzz_check (strcmp (again, set) == 0);
      fuzz_check (run ("SELECT hearth_set_field_version (?1, ?2, NULL, NULL)", copy, len, field, NULL, NULL, &out));
      check_set (copy, out, field, NULL);
      if (key != NULL)
        {
          g_autofree char *same = NULL;
          /* The same key but where its base is empty ("V "), which no
           * writer writes: then the key without it. */
          g_autofree char *want = base[0] != '\0' ? g_strconcat (version, " ", base, NULL) : g_strdup (version);

          fuzz_check (run ("SELECT hearth_set_field_version (?1, ?2, hearth_field_version (?1, ?2), "
                           "hearth_field_base (?1, ?2))", copy, len, field, NULL, NULL, &same));
          check_set (copy, same, field, want);
        }
    }
}

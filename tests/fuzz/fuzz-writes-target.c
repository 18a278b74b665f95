/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-writes-target.c: a write's row of the store (record_writes,
 * migration 0014) read through the field_edits view and changed by the
 * writers of app/sync-store.c and the view's trigger (fuzz-targets.h,
 * hearth_fuzz_writes()). */
#include "fuzz-targets.h"
#include "fuzz-util.h"

#include "schema-migrate.h"
#include "store-keys.h"
#include "sync-store-private.h"

#include <sqlite3.h>
#include <string.h>

#define MAX_FIELD 200
#define MAX_MEMBERS 64

static sqlite3 *db;

static const char record[] = "0b6f5c2e-3f1a-4c1e-9a3b-2f5d6e7a8b01";

static void
exec (const char *sql)
{
  fuzz_check (sqlite3_exec (db, sql, NULL, NULL, NULL) == SQLITE_OK);
}

/* Every edit the view shows of the write V1, "field\037parents\037value\037wall"
 * each, in the order of the members; FALSE when reading fails (then with
 * SQLite's own message about the JSON). */
static gboolean
edits (GPtrArray **out)
{
  sqlite3_stmt *st = NULL;
  int rc;

  *out = g_ptr_array_new_with_free_func (g_free);
  fuzz_check (sqlite3_prepare_v2 (db, "SELECT quote (field), quote (parents), quote (value), quote (wall) "
                                      "FROM field_edits WHERE rkey = hearth_edit_key ('households', ?1, NULL) "
                                      "AND vkey = hearth_version_key ('V1') AND record_table = 'households' "
                                      "AND record_id = ?1 AND hlc = 'V1'", -1, &st, NULL) == SQLITE_OK);
  sqlite3_bind_text (st, 1, record, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_ptr_array_add (*out, g_strdup_printf ("%s\037%s\037%s\037%s", sqlite3_column_text (st, 0),
                                            sqlite3_column_text (st, 1), sqlite3_column_text (st, 2),
                                            sqlite3_column_text (st, 3)));
  if (rc != SQLITE_DONE)
    fuzz_check (g_utf8_validate (sqlite3_errmsg (db), -1, NULL));
  sqlite3_finalize (st);
  return rc == SQLITE_DONE;
}

/* Whether the view shows @row as a writer writes it: its parents, value
 * and wall time text. SQLite's JSON functions write the members of other
 * types again in their own form when they change the row (a large
 * integer as a real): those must only keep their place. */
static gboolean
written_shape (const char *row)
{
  g_auto(GStrv) parts = g_strsplit (row, "\037", -1);

  for (guint i = 1; parts[i] != NULL; i++)
    if (parts[i][0] != '\'')
      return FALSE;
  return TRUE;
}

/* @after is @before but for the edits of @field (quoted as the view
 * shows it): every other member as it was, in its place. */
static void
check_others (GPtrArray *before, GPtrArray *after, const char *quoted)
{
  g_autofree char *prefix = g_strconcat (quoted, "\037", NULL);
  guint j = 0;

  for (guint i = 0; i < before->len; i++)
    {
      const char *was = before->pdata[i];

      if (g_str_has_prefix (was, prefix))
        continue;
      while (j < after->len && g_str_has_prefix (after->pdata[j], prefix))
        j++;
      fuzz_check (j < after->len);
      if (written_shape (was))
        fuzz_check (strcmp (was, after->pdata[j]) == 0);
      else
        fuzz_check (strncmp (was, after->pdata[j], (gsize) (strchr (was, '\037') - was) + 1) == 0);
      j++;
    }
}

static char *
quoted (const char *text)
{
  char *q = sqlite3_mprintf ("%Q", text);
  char *copy = g_strdup (q);

  sqlite3_free (q);
  return copy;
}

/* The one row of the write V1's fields, as stored. */
static char *
stored (void)
{
  sqlite3_stmt *st = NULL;
  char *fields = NULL;

  fuzz_check (sqlite3_prepare_v2 (db, "SELECT fields FROM record_writes WHERE hlc = 'V1'", -1, &st, NULL) ==
              SQLITE_OK);
  if (sqlite3_step (st) == SQLITE_ROW)
    fields = g_strdup ((const char *) sqlite3_column_text (st, 0));
  fuzz_check (sqlite3_step (st) == SQLITE_DONE);
  sqlite3_finalize (st);
  return fields;
}

/* Whether the write V1's stored fields are a JSON object, as the
 * trigger of migration 0016 tells (JSON first: json_type () of what is
 * not JSON fails). */
static gboolean
is_object (void)
{
  sqlite3_stmt *st = NULL;
  gboolean object;

  fuzz_check (sqlite3_prepare_v2 (db, "SELECT CASE WHEN json_valid (fields) THEN json_type (fields) END IS 'object' "
                                      "FROM record_writes WHERE hlc = 'V1'", -1, &st, NULL) == SQLITE_OK);
  fuzz_check (sqlite3_step (st) == SQLITE_ROW);
  object = sqlite3_column_int (st, 0) != 0;
  sqlite3_finalize (st);
  return object;
}

/* @field of the record put through the field_edits view (its trigger)
 * with @value: SQLite's result code. */
static int
put_through_view (const char *field, const char *value)
{
  sqlite3_stmt *st = NULL;
  int rc;

  fuzz_check (sqlite3_prepare_v2 (db, "INSERT INTO field_edits (record_table, record_id, field, hlc, parents, value, "
                                      "wall) VALUES ('households', ?1, ?2, 'V1', 'P1 P2', ?3, 'W2')", -1, &st,
                                  NULL) == SQLITE_OK);
  sqlite3_bind_text (st, 1, record, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, field, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, value, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  return rc;
}

/* A row that is not an object (stored by hand: no writer of the app
 * writes one) is changed by none of the writers: each fails, loudly,
 * and the row stays as it was; nothing is lost without a word (json_set ()
 * and json_remove () would leave it as it is). */
static void
refused (const char *field)
{
  g_autofree char *was = stored ();
  g_autofree char *now = NULL;
  g_autoptr(GError) error = NULL;
  int rc;

  fuzz_check (was != NULL);
  rc = put_through_view (field, "v");
  fuzz_check (rc != SQLITE_DONE);
  /* The trigger's own words, or SQLite's when the row is no JSON at all
   * (json_set () fails before the trigger runs). */
  fuzz_check (strstr (sqlite3_errmsg (db), "not a JSON object: it cannot be changed") != NULL ||
              strstr (sqlite3_errmsg (db), "malformed JSON") != NULL);
  fuzz_check (!hearth_sync_put_edit (db, "households", record, field, "V1", "P1 P2", "v", "W2", &error));
  g_clear_error (&error);
  fuzz_check (!hearth_sync_remove_edit (db, "households", record, field, "V1", &error));
  g_clear_error (&error);
  /* A parent renamed: nothing to rename in a row the view cannot read
   * as edits with parents, or refused. */
  if (!hearth_sync_rename_parents (db, "households", record, NULL, "P2", "Q2", &error))
    g_clear_error (&error);
  now = stored ();
  fuzz_check (now != NULL && strcmp (now, was) == 0);
}

void
hearth_fuzz_writes (const guint8 *data, gsize size)
{
  const char *nl = memchr (data, '\n', MIN (size, MAX_FIELD));
  g_autofree char *field = NULL;
  g_autofree char *qfield = NULL;
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *st = NULL;
  const char *text;
  gsize len;
  int rc;

  if (db == NULL)
    {
      g_autoptr(GPtrArray) all = hearth_migrations_load_builtin (NULL);

      fuzz_check (all != NULL);
      fuzz_check (sqlite3_open (":memory:", &db) == SQLITE_OK);
      fuzz_check (hearth_store_add_key_functions (db) == SQLITE_OK);
      fuzz_check (hearth_migrations_apply (db, all, NULL));
      /* As a pull does: the outbox left alone. */
      exec ("INSERT OR IGNORE INTO sync_state (key, value) VALUES ('applying', 1)");
    }
  exec ("DELETE FROM record_writes");
  /* The field's name on the first line (a name of the letters a column
   * may have: the writers take the table's own), the write's fields after. */
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
  for (char *c = field; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && *c != '_')
      *c = '_';
  if (field[0] == '\0')
    {
      g_free (field);
      field = g_strdup ("a");
    }
  qfield = quoted (field);

  /* Stored whatever it is (migration 0016: the table has no CHECK). */
  fuzz_check (sqlite3_prepare_v2 (db, "INSERT INTO record_writes (record_table, record_id, hlc, wall, fields) "
                                      "VALUES ('households', ?1, 'V1', 'W1', ?2)", -1, &st, NULL) == SQLITE_OK);
  sqlite3_bind_text (st, 1, record, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, text, (int) len, SQLITE_STATIC);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  fuzz_check (rc == SQLITE_DONE);
  if (!is_object ())
    {
      refused (field);
      return;
    }
  /* What is stored reads, a member at a time, without failing. */
  fuzz_check (edits (&before));
  if (before->len > MAX_MEMBERS)
    return;
  /* A name twice, or written with escapes, is no writer's (they write a
   * field once, as the table names it): SQLite's JSON functions set and
   * remove the first of a name as written. */
  {
    g_autoptr(GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

    for (guint i = 0; i < before->len; i++)
      {
        const char *row = before->pdata[i];

        if (!g_hash_table_add (names, g_strndup (row, (gsize) (strchr (row, '\037') - row))))
          return;
      }
    if (memchr (text, '\\', len) != NULL)
      return;
  }

  /* Put through the view (its trigger): the field reads back as put,
   * every other member as it was. */
  rc = put_through_view (field, "v\"\\");
  fuzz_check (rc == SQLITE_DONE);
  fuzz_check (edits (&after));
  check_others (before, after, qfield);
  {
    g_autofree char *want = g_strdup_printf ("%s\037'P1 P2'\037'v\"\\'\037'W2'", qfield);
    guint n = 0;

    for (guint i = 0; i < after->len; i++)
      if (g_str_has_prefix (after->pdata[i], qfield) && ((char *) after->pdata[i])[strlen (qfield)] == '\037')
        {
          fuzz_check (strcmp (after->pdata[i], want) == 0);
          n++;
        }
    fuzz_check (n >= 1);
  }

  /* A parent renamed: the field's parents only, the others as they were. */
  {
    g_autoptr(GPtrArray) renamed = NULL;
    g_autofree char *want = g_strdup_printf ("%s\037'P1 Q2'\037'v\"\\'\037'W2'", qfield);

    fuzz_check (hearth_sync_rename_parents (db, "households", record, field, "P2", "Q2", &error));
    fuzz_check (edits (&renamed));
    check_others (after, renamed, qfield);
    for (guint i = 0; i < renamed->len; i++)
      if (g_str_has_prefix (renamed->pdata[i], qfield) && ((char *) renamed->pdata[i])[strlen (qfield)] == '\037')
        fuzz_check (strcmp (renamed->pdata[i], want) == 0);
    g_ptr_array_unref (after);
    after = g_steal_pointer (&renamed);
  }

  /* Taken out: no edit of the field left, the others as they were; the
   * row goes with its last member. */
  {
    g_autoptr(GPtrArray) removed = NULL;
    g_autofree char *fields = NULL;

    fuzz_check (hearth_sync_remove_edit (db, "households", record, field, "V1", &error));
    fuzz_check (edits (&removed));
    check_others (after, removed, qfield);
    for (guint i = 0; i < removed->len; i++)
      fuzz_check (!(g_str_has_prefix (removed->pdata[i], qfield) &&
                    ((char *) removed->pdata[i])[strlen (qfield)] == '\037'));
    fields = stored ();
    fuzz_check ((fields == NULL) == (removed->len == 0));

    /* Put back by the writers' own function: as through the view. */
    fuzz_check (hearth_sync_put_edit (db, "households", record, field, "V1", "P1 P2", "v\"\\", "W2", &error));
    g_ptr_array_unref (removed);
    fuzz_check (edits (&removed));
    check_others (after, removed, qfield);
  }
}

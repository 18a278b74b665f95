/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-apply-target.c: a pulled page applied to a real device store
 * (fuzz-targets.h, hearth_fuzz_apply()). */
#include "fuzz-targets.h"
#include "fuzz-util.h"

#include "case-store.h"
#include "client.h"
#include "hlc.h"
#include "merge.h"
#include "store.h"
#include "store-vfs.h"
#include "sync-reply.h"
#include "sync-store.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../derived-rows.h"

/* The household and member the store holds before any page: pulled edits
 * of them meet local versions (and the seeds name them). */
#define FUZZ_HOUSEHOLD "5d0f4c52-0a8b-4d9e-bb71-9c1e7f2a6d33"
#define FUZZ_MEMBER "0b6c3f0e-6f7e-4a53-9d57-3a1c2f7e9b10"
/* 2026-11-30T00:00:00Z: the store's fixed wall clock. */
#define FUZZ_NOW_MS G_GINT64_CONSTANT (1764460800000)

static struct {
  char *dir;    /* the folder of this process; the store is its "store" */
  HearthStore *store;
  HearthCaseStore *cases;
  HearthSyncStore *sync;
  sqlite3 *db;
} fuzz_store;

/* The tables a page writes to, in a fixed order. */
static const char *const written_tables[] = {
  "households", "members", "tasks", "measures", "submissions", "reviews", "field_edits", "field_versions",
  "conflicts", "audit_foreign", "published_forms", "sync_apply_errors", NULL,
};

static gint64
fixed_clock (gpointer data)
{
  return FUZZ_NOW_MS;
}

static void
remove_files (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
remove_store (void)
{
  g_clear_object (&fuzz_store.sync);
  g_clear_object (&fuzz_store.cases);
  g_clear_object (&fuzz_store.store);
  if (fuzz_store.dir == NULL)
    return;
  {
    g_autofree char *store_dir = g_build_filename (fuzz_store.dir, "store", NULL);

    remove_files (store_dir);
  }
  remove_files (fuzz_store.dir);
  g_clear_pointer (&fuzz_store.dir, g_free);
}

static void
put (GHashTable *fields, const char *name, const char *value)
{
  g_hash_table_insert (fields, (gpointer) name, (gpointer) value);
}

/* A store with --kdf test in a folder of this process, a household and
 * its head written locally, on a fixed clock. */
static void
open_store (void)
{
  g_autoptr(GError) error = NULL;
  static const char passphrase[] = "fuzz passphrase of the apply target";
  g_autoptr(HearthSecret) pass = hearth_secret_new_from_data (passphrase, strlen (passphrase));
  g_autoptr(GHashTable) household = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) member = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *store_dir = NULL;

  fuzz_check (hearth_vfs_register (&error));
  fuzz_store.dir = hearth_fuzz_make_dir ("apply");
  store_dir = g_build_filename (fuzz_store.dir, "store", NULL);
  atexit (remove_store);
  fuzz_check (hearth_store_create (store_dir, pass, HEARTH_KDF_TEST, NULL, &error));
  fuzz_store.store = hearth_store_open (store_dir, pass, &error);
  fuzz_check (fuzz_store.store != NULL);
  fuzz_store.cases = hearth_case_store_new (fuzz_store.store, "fuzz", &error);
  fuzz_check (fuzz_store.cases != NULL);
  hearth_case_store_set_wall_clock (fuzz_store.cases, fixed_clock, NULL);
  fuzz_store.sync = hearth_sync_store_new (fuzz_store.cases);
  fuzz_store.db = hearth_case_store_get_db (fuzz_store.cases);

  put (household, "village_code", "361102001201");
  put (household, "head_name", "张三");
  put (household, "phone", "13800000000");
  fuzz_check (hearth_case_write (fuzz_store.cases, "households", FUZZ_HOUSEHOLD, TRUE, household, "create", NULL,
                                 &error));
  put (member, "household_id", FUZZ_HOUSEHOLD);
  put (member, "name", "张三");
  put (member, "relation", "01");
  fuzz_check (hearth_case_write (fuzz_store.cases, "members", FUZZ_MEMBER, TRUE, member, "create", NULL, &error));
}

static void
exec (const char *sql)
{
  fuzz_check (sqlite3_exec (fuzz_store.db, sql, NULL, NULL, NULL) == SQLITE_OK);
}

static int
compare_rows (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Every row of the tables a page writes to, as text in a fixed order
 * (some tables have no rowid); unless @full, without the apply errors and
 * the conflicts no longer open, which say how the store got there. */
static char *
dump (gboolean full)
{
  GString *out = g_string_new (NULL);

  for (guint t = 0; written_tables[t] != NULL; t++)
    {
      gboolean conflicts = g_str_equal (written_tables[t], "conflicts");
      g_autofree char *sql = g_strdup_printf ("SELECT * FROM \"%s\"%s", written_tables[t],
                                              !full && conflicts ? " WHERE resolved_at IS NULL" : "");
      g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
      sqlite3_stmt *st = NULL;

      if (!full && g_str_equal (written_tables[t], "sync_apply_errors"))
        continue;
      fuzz_check (sqlite3_prepare_v2 (fuzz_store.db, sql, -1, &st, NULL) == SQLITE_OK);
      while (sqlite3_step (st) == SQLITE_ROW)
        {
          GString *row = g_string_new (NULL);

          for (int c = 0; c < sqlite3_column_count (st); c++)
            {
              const char *v = (const char *) sqlite3_column_text (st, c);
              g_string_append_printf (row, "%s%s", c > 0 ? "|" : "", v != NULL ? v : "NULL");
            }
          g_ptr_array_add (rows, g_string_free (row, FALSE));
        }
      sqlite3_finalize (st);
      g_ptr_array_sort (rows, compare_rows);
      g_string_append_printf (out, "[%s]\n", written_tables[t]);
      for (guint i = 0; i < rows->len; i++)
        g_string_append_printf (out, "%s\n", (char *) rows->pdata[i]);
    }
  return g_string_free (out, FALSE);
}

typedef struct {
  char *hlc;
  char **parents;
  char *value;
} Edit;

static void
edit_clear (gpointer data)
{
  Edit *e = data;

  g_free (e->hlc);
  g_strfreev (e->parents);
  g_free (e->value);
}

/* Whether @field of a record holds the merge of its edits: its version is
 * the merge's winner (with the winner's parents as base), the record's
 * column holds the winner's value once the record exists, and the open
 * conflicts are exactly the merge's losers. */
static gboolean
field_holds_merge (const char *table, const char *id, const char *field)
{
  g_autoptr(GArray) edits = g_array_new (FALSE, TRUE, sizeof (Edit));
  g_autoptr(GArray) merge_in = g_array_new (FALSE, TRUE, sizeof (HearthFieldEdit));
  g_autoptr(GHashTable) want = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *base = NULL;
  g_autofree char *select = NULL;
  HearthFieldMerge merge = { 0 };
  sqlite3_stmt *st = NULL;
  gboolean holds;
  guint open = 0;

  g_array_set_clear_func (edits, edit_clear);
  fuzz_check (sqlite3_prepare_v2 (fuzz_store.db, "SELECT hlc, parents, value FROM field_edits WHERE record_table = ?1 "
                                  "AND record_id = ?2 AND field = ?3", -1, &st, NULL) == SQLITE_OK);
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, field, -1, SQLITE_STATIC);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      Edit e = { g_strdup ((const char *) sqlite3_column_text (st, 0)),
                 g_strsplit_set ((const char *) sqlite3_column_text (st, 1), " ", -1),
                 g_strdup ((const char *) sqlite3_column_text (st, 2)) };
      g_array_append_val (edits, e);
    }
  sqlite3_finalize (st);
  for (guint i = 0; i < edits->len; i++)
    {
      Edit *e = &g_array_index (edits, Edit, i);
      guint n = 0;

      /* Drop the empty parts of "" and of doubled spaces in place. */
      for (guint k = 0; e->parents[k] != NULL; k++)
        if (e->parents[k][0] != '\0')
          e->parents[n++] = e->parents[k];
        else
          g_free (e->parents[k]);
      e->parents[n] = NULL;
      g_array_append_val (merge_in, ((HearthFieldEdit) { e->hlc, (const char *const *) e->parents, n, e->value }));
    }
  /* Stored edits were checked on the way in: they merge. */
  fuzz_check (hearth_merge_field ((const HearthFieldEdit *) (gpointer) merge_in->data, merge_in->len, &merge, &error));
  fuzz_check (merge.winner != NULL);
  base = g_strjoinv (" ", (char **) merge.winner->parents);

  fuzz_check (sqlite3_prepare_v2 (fuzz_store.db, "SELECT hlc IS ?4 AND base_hlc IS ?5 FROM field_versions "
                                  "WHERE record_table = ?1 AND record_id = ?2 AND field = ?3", -1, &st, NULL)
              == SQLITE_OK);
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, field, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, merge.winner->hlc, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 5, base, -1, SQLITE_STATIC);
  holds = sqlite3_step (st) == SQLITE_ROW && sqlite3_column_int (st, 0) == 1;
  sqlite3_finalize (st);

  /* Compared as SQLite compares a column with a value: "03" is 3 in an
   * INTEGER column. */
  select = g_strdup_printf ("SELECT \"%s\" = ?1 FROM \"%s\" WHERE id = ?2", field, table);
  fuzz_check (sqlite3_prepare_v2 (fuzz_store.db, select, -1, &st, NULL) == SQLITE_OK);
  sqlite3_bind_text (st, 1, merge.winner->value, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  if (sqlite3_step (st) == SQLITE_ROW)
    holds = holds && sqlite3_column_int (st, 0) == 1;
  sqlite3_finalize (st);

  for (guint i = 0; i < merge.losers->len; i++)
    {
      const HearthFieldEdit *loser = merge.losers->pdata[i];
      g_hash_table_add (want, hearth_merge_conflict_id (table, id, field, merge.winner->hlc, loser->hlc));
    }
  fuzz_check (sqlite3_prepare_v2 (fuzz_store.db, "SELECT id FROM conflicts WHERE record_table = ?1 AND record_id = ?2 "
                                  "AND field = ?3 AND resolved_at IS NULL", -1, &st, NULL) == SQLITE_OK);
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, field, -1, SQLITE_STATIC);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      holds = holds && g_hash_table_contains (want, sqlite3_column_text (st, 0));
      open++;
    }
  sqlite3_finalize (st);
  g_ptr_array_unref (merge.losers);
  return holds && open == g_hash_table_size (want);
}

/* Whether the page set @field of a record aside (the table refused its
 * value), or the whole record. */
static gboolean
set_aside (const char *table, const char *id, const char *field)
{
  sqlite3_stmt *st = NULL;
  gboolean found;

  fuzz_check (sqlite3_prepare_v2 (fuzz_store.db, "SELECT 1 FROM sync_apply_errors WHERE record_table = ?1 AND "
                                  "record_id = ?2 AND field IN (?3, '')", -1, &st, NULL) == SQLITE_OK);
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, field, -1, SQLITE_STATIC);
  found = sqlite3_step (st) == SQLITE_ROW;
  sqlite3_finalize (st);
  return found;
}

/* The invariant of app/sync-apply.c: every field with edits holds their
 * merge, unless its table refused the winner's value, which
 * sync_apply_errors then says. */
static void
check_field (const char *table, const char *id, const char *field)
{
  if (!field_holds_merge (table, id, field))
    fuzz_check (set_aside (table, id, field));
}

static void
check_fields (void)
{
  sqlite3_stmt *st = NULL;

  fuzz_check (sqlite3_prepare_v2 (fuzz_store.db, "SELECT DISTINCT record_table, record_id, field FROM field_edits",
                                  -1, &st, NULL) == SQLITE_OK);
  while (sqlite3_step (st) == SQLITE_ROW)
    check_field ((const char *) sqlite3_column_text (st, 0), (const char *) sqlite3_column_text (st, 1),
                 (const char *) sqlite3_column_text (st, 2));
  sqlite3_finalize (st);
}

/* The store's clock after the page: past every version the store holds,
 * so that what it writes next is ordered after what it has seen. */
static void
check_clock (void)
{
  sqlite3_stmt *st = NULL;
  HearthHlc last;

  fuzz_check (sqlite3_prepare_v2 (fuzz_store.db, "SELECT value FROM store_meta WHERE key = 'hlc_last'", -1, &st, NULL)
              == SQLITE_OK);
  fuzz_check (sqlite3_step (st) == SQLITE_ROW);
  fuzz_check (hearth_hlc_parse ((const char *) sqlite3_column_text (st, 0), &last, NULL));
  sqlite3_finalize (st);
  fuzz_check (sqlite3_prepare_v2 (fuzz_store.db, "SELECT hlc FROM field_edits", -1, &st, NULL) == SQLITE_OK);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      HearthHlc held;

      fuzz_check (hearth_hlc_parse ((const char *) sqlite3_column_text (st, 0), &held, NULL));
      fuzz_check (hearth_hlc_compare (&held, &last) <= 0);
    }
  sqlite3_finalize (st);
}

static void
apply (GPtrArray *changes, gint64 next_cursor, gboolean more, guint *rejected)
{
  g_autoptr(GError) error = NULL;

  /* A page the store cannot apply would be asked for again and again:
   * every change is applied or set aside, never the page refused. */
  if (!hearth_sync_store_apply (fuzz_store.sync, changes, next_cursor, more, rejected, &error))
    {
      fprintf (stderr, "fuzz: the page was refused: %s\n", error->message);
      hearth_fuzz_fail (__FILE__, __LINE__, "hearth_sync_store_apply ()");
    }
}

static void
check_same (const char *what, const char *a, const char *b)
{
  if (!g_str_equal (a, b))
    fprintf (stderr, "fuzz: %s differ:\n%s\nfuzz: and\n%s\n", what, a, b);
  fuzz_check (g_str_equal (a, b));
}

/* The rows of @sql, one a line, in the order the query gives. */
static char *
query_rows (const char *sql)
{
  GString *out = g_string_new (NULL);
  sqlite3_stmt *st = NULL;

  fuzz_check (sqlite3_prepare_v2 (fuzz_store.db, sql, -1, &st, NULL) == SQLITE_OK);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      for (int c = 0; c < sqlite3_column_count (st); c++)
        {
          const char *v = (const char *) sqlite3_column_text (st, c);
          g_string_append_printf (out, "%s%s", c > 0 ? "|" : "", v != NULL ? v : "NULL");
        }
      g_string_append_c (out, '\n');
    }
  fuzz_check (sqlite3_finalize (st) == SQLITE_OK);
  return g_string_free (out, FALSE);
}

/* What the records' triggers keep (migrations 0004 and 0009), which a
 * page writes itself with the triggers off (sync-apply.c: write_created(),
 * derived_before(), derived_after()): the search rows are exactly the
 * keys of each live household's live names, every household has a key,
 * the routine visit queue holds each live household without an open
 * task. */
static void
check_derived (void)
{
  g_autofree char *search = query_rows (
    "SELECT s.key, s.village, s.head_name, k.household_id FROM household_search AS s "
    "JOIN household_keys AS k ON k.key = s.household_key ORDER BY 1, 2, 3, 4");
  g_autofree char *search_wanted = query_rows (DERIVED_SEARCH_SQL);
  g_autofree char *keys = query_rows ("SELECT household_id FROM household_keys ORDER BY 1");
  g_autofree char *keys_wanted = query_rows ("SELECT id FROM households ORDER BY 1");
  g_autofree char *queue = query_rows ("SELECT * FROM routine_visit_queue ORDER BY 1");
  g_autofree char *queue_wanted = query_rows (DERIVED_QUEUE_SQL);

  check_same ("the search rows and those of the records", search, search_wanted);
  check_same ("the household keys and the households", keys, keys_wanted);
  check_same ("the routine visit queue and that of the records", queue, queue_wanted);
}

void
hearth_fuzz_apply (const guint8 *data, gsize size)
{
  g_autoptr(JsonNode) root = NULL;
  g_auto(HearthSyncPullPage) page = { 0 };
  g_autoptr(GPtrArray) first_half = g_ptr_array_new ();
  g_autoptr(GPtrArray) second_half = g_ptr_array_new ();
  g_autofree char *once = NULL;
  g_autofree char *twice = NULL;
  g_autofree char *whole = NULL;
  g_autofree char *split = NULL;
  g_autoptr(GPtrArray) expanded = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  HearthSyncStatus status;
  guint rejected = G_MAXUINT, grouped = 0;

  if (fuzz_store.store == NULL)
    open_store ();
  root = hearth_sync_parse_reply ((const char *) data, size, 200, NULL, NULL, NULL);
  if (root == NULL || !hearth_sync_read_pull_page (root, 0, &page, NULL))
    return;

  /* Every page starts from the same store: applied inside a transaction
   * that is rolled back (the store's own becomes a savepoint in it). */
  /* The page as a center serves it to a device of version 2: each grouped
   * write (kind "edits") as the edits it holds. */
  for (guint i = 0; i < page.changes->len; i++)
    {
      const HearthChange *c = page.changes->pdata[i];
      g_autoptr(GPtrArray) edits = hearth_change_expand (c);

      grouped += c->kind == HEARTH_CHANGE_EDITS;
      for (guint e = 0; e < edits->len; e++)
        g_ptr_array_add (expanded, g_steal_pointer (&edits->pdata[e]));
    }
  exec ("BEGIN IMMEDIATE");
  apply (page.changes, page.next_cursor, page.more, &rejected);
  /* A change is applied or refused once; a field of a grouped write is a
   * change of its own (its refusal too). */
  fuzz_check (rejected <= 2 * expanded->len);
  fuzz_check (hearth_sync_store_status (fuzz_store.sync, &status, NULL));
  fuzz_check (status.cursor == page.next_cursor && !status.pull_more == !page.more);
  check_fields ();
  check_clock ();
  check_derived ();

  /* Applying a page again changes nothing. */
  once = dump (TRUE);
  apply (page.changes, page.next_cursor, page.more, &rejected);
  twice = dump (TRUE);
  check_same ("applied once and twice", once, twice);
  whole = dump (FALSE);
  exec ("ROLLBACK");

  /* A grouped write applied as it is (sync-apply.c, apply_edits()) leaves
   * every row, the apply errors and the conflicts closed on the way too,
   * as the edits it holds, and refuses as many. */
  if (grouped > 0)
    {
      g_autofree char *as_edits = NULL;
      guint rejected_edits = G_MAXUINT;

      exec ("BEGIN IMMEDIATE");
      apply (page.changes, page.next_cursor, page.more, &rejected);
      g_clear_pointer (&once, g_free);
      once = dump (TRUE);
      exec ("ROLLBACK");
      exec ("BEGIN IMMEDIATE");
      apply (expanded, page.next_cursor, page.more, &rejected_edits);
      as_edits = dump (TRUE);
      exec ("ROLLBACK");
      check_same ("applied as grouped writes and as their edits", once, as_edits);
      fuzz_check (rejected_edits == rejected);
    }

  /* Nor does where the pages end: the same changes in two pages leave the
   * same records, edits, versions and open conflicts, as on a tablet that
   * asked with another limit (its apply errors and the conflicts it saw
   * open for a while may differ). */
  for (guint i = 0; i < page.changes->len; i++)
    g_ptr_array_add (i < page.changes->len / 2 ? first_half : second_half, page.changes->pdata[i]);
  exec ("BEGIN IMMEDIATE");
  apply (first_half, page.next_cursor, TRUE, &rejected);
  apply (second_half, page.next_cursor, page.more, &rejected);
  check_derived ();
  split = dump (FALSE);
  check_same ("applied whole and in two pages", whole, split);
  exec ("ROLLBACK");
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-case-search.c: household search and the task list in a real
 * encrypted store. A few hundred households with Chinese names are
 * written with plain SQL (the triggers of migrations 0003 and 0004 must
 * index them with no help), and every search is compared with a
 * brute-force answer computed here: 1-, 2- and 3+-character names (head
 * and members), ID number ends, village and township prefixes, status and
 * risk filters, tombstones, renames, keyset paging (every match exactly
 * once, in order, also across a page boundary inside a run of equal head
 * names) and literal % and _. The same households written to a database
 * at schema 3 and then migrated are found alike (migration 0004 rebuilds
 * the index).
 */
#include "test-util.h"
#include "case-search.h"
#include "schema-migrate.h"
#include "store-keys.h"

#include <string.h>

#define N_HOUSEHOLDS 300
#define MAX_MEMBERS 4

static const char *const surnames[] = { "王", "李", "张", "刘", "陈", "欧阳" };
static const char *const given[] = { "小", "明", "芳", "伟", "强", "丽", "军", "秀", "英" };
static const char *const statuses[] = { "none", "monitored", "pending_village_review", "risk_eliminated" };
static const char *const risks[] = { "none", "yellow", "orange", "red" };

typedef struct {
  char *id;
  char *village;
  char *names[MAX_MEMBERS + 1];   /* [0] the head */
  char *numbers[MAX_MEMBERS + 1];
  gboolean member_deleted[MAX_MEMBERS + 1];
  guint n_names;
  const char *status;
  const char *risk;
  gboolean deleted;
} Household;

typedef struct {
  char *dir;
  HearthStore *store;
  sqlite3 *db;
  Household hh[N_HOUSEHOLDS];
} Fixture;

static char *
make_name (GRand *r)
{
  GString *s = g_string_new (surnames[g_rand_int_range (r, 0, G_N_ELEMENTS (surnames))]);
  gint len = g_rand_int_range (r, 1, 3);

  for (gint i = 0; i < len; i++)
    g_string_append (s, given[g_rand_int_range (r, 0, G_N_ELEMENTS (given))]);
  return g_string_free (s, FALSE);
}

static void
exec_bind (sqlite3 *db, const char *sql, const char *const *values)
{
  sqlite3_stmt *st = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  for (int i = 0; values[i] != NULL; i++)
    sqlite3_bind_text (st, i + 1, values[i], -1, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
  sqlite3_finalize (st);
}

/* Writes the households with plain SQL in one transaction. */
static void
fill_households (Fixture *f)
{
  g_autoptr(GRand) r = g_rand_new_with_seed (20260501);

  test_exec (f->db, "BEGIN");
  for (guint i = 0; i < N_HOUSEHOLDS; i++)
    {
      Household *h = &f->hh[i];

      h->id = g_strdup_printf ("00000000-0000-4000-8000-%012u", i);
      h->village = g_strdup_printf ("150422%03u%03u", 100 + g_rand_int_range (r, 0, 3), 200 + g_rand_int_range (r, 0, 5));
      h->status = statuses[g_rand_int_range (r, 0, G_N_ELEMENTS (statuses))];
      h->risk = risks[g_rand_int_range (r, 0, G_N_ELEMENTS (risks))];
      h->n_names = 1 + g_rand_int_range (r, 0, MAX_MEMBERS);
      for (guint m = 0; m < h->n_names; m++)
        {
          h->names[m] = make_name (r);
          h->numbers[m] = g_strdup_printf ("150422198%01u%04u%04u", m, i, g_rand_int_range (r, 0, 10000));
        }
      exec_bind (f->db,
                 "INSERT INTO households (id, village_code, head_name, head_id_number, monitoring_status,"
                 " risk_level, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '2026-05-01T08:00:00+08:00',"
                 " '2026-05-01T08:00:00+08:00')",
                 (const char *const[]) { h->id, h->village, h->names[0], h->numbers[0], h->status, h->risk, NULL });
      for (guint m = 1; m < h->n_names; m++)
        {
          g_autofree char *mid = g_strdup_printf ("10000000-0000-4000-8000-%08u%04u", i, m);

          exec_bind (f->db,
                     "INSERT INTO members (id, household_id, name, id_number, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?, '2026-05-01', '2026-05-01')",
                     (const char *const[]) { mid, h->id, h->names[m], h->numbers[m], NULL });
        }
    }
  test_exec (f->db, "COMMIT");
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = test_create_store ("case-search", NULL);
  f->store = test_open_store (f->dir);
  f->db = hearth_store_get_db (f->store);
  fill_households (f);
}

/* The households written at schema 3 (0003's index), then migrated. */
static void
fixture_setup_migrated (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = hearth_migrations_load_builtin (&error);
  g_autoptr(GPtrArray) before = g_ptr_array_new ();

  g_assert_no_error (error);
  g_assert_cmpuint (all->len, >=, 4);
  for (guint i = 0; i < 3; i++)
    g_ptr_array_add (before, all->pdata[i]);
  g_assert_cmpint (sqlite3_open (":memory:", &f->db), ==, SQLITE_OK);
  /* Migration 0011 keys the edit tables (store.c's connections have these). */
  g_assert_cmpint (hearth_store_add_key_functions (f->db), ==, SQLITE_OK);
  g_assert_true (hearth_migrations_apply (f->db, before, &error));
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (f->db, "PRAGMA user_version"), ==, 3);
  fill_households (f);
  g_assert_true (hearth_migrations_apply (f->db, all, &error));
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (f->db, "PRAGMA user_version"), >=, 4);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < N_HOUSEHOLDS; i++)
    {
      g_free (f->hh[i].id);
      g_free (f->hh[i].village);
      for (guint m = 0; m < f->hh[i].n_names; m++)
        {
          g_free (f->hh[i].names[m]);
          g_free (f->hh[i].numbers[m]);
        }
    }
  if (f->store != NULL)
    g_clear_object (&f->store);
  else
    sqlite3_close (f->db);
  g_free (f->dir);
}

static gboolean
has_suffix_ci (const char *s, const char *suffix)
{
  gsize a = strlen (s), b = strlen (suffix);

  return a >= b && g_ascii_strcasecmp (s + a - b, suffix) == 0;
}

/* The brute-force answer: ids of households matching, sorted. */
static GPtrArray *
expected (Fixture *f, const HearthHouseholdQuery *q, gboolean id_query)
{
  GPtrArray *ids = g_ptr_array_new ();
  g_autofree char *text = q->text != NULL ? g_strstrip (g_strdup (q->text)) : NULL;

  for (guint i = 0; i < N_HOUSEHOLDS; i++)
    {
      Household *h = &f->hh[i];
      gboolean text_ok = text == NULL || text[0] == '\0';

      if (h->deleted)
        continue;
      if (q->village_prefix != NULL && !g_str_has_prefix (h->village, q->village_prefix))
        continue;
      if (q->monitoring_status != NULL && strcmp (h->status, q->monitoring_status) != 0)
        continue;
      if (q->risk_level != NULL && strcmp (h->risk, q->risk_level) != 0)
        continue;
      for (guint m = 0; m < h->n_names && !text_ok; m++)
        if (!h->member_deleted[m])
          text_ok = id_query ? has_suffix_ci (h->numbers[m], text) : strstr (h->names[m], text) != NULL;
      if (text_ok)
        g_ptr_array_add (ids, h->id);
    }
  return ids;
}

static Household *
find (Fixture *f, const char *id)
{
  for (guint i = 0; i < N_HOUSEHOLDS; i++)
    if (strcmp (f->hh[i].id, id) == 0)
      return &f->hh[i];
  g_assert_not_reached ();
}

/* Pages through the search with @limit rows a page; checks the order and
 * that the set of ids equals the brute-force one. Returns the count. */
static guint
check_query (Fixture *f, HearthHouseholdQuery q, gboolean id_query, guint limit)
{
  g_autoptr(GPtrArray) want = expected (f, &q, id_query);
  g_autoptr(GHashTable) got = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *av = NULL, *ah = NULL, *aid = NULL;
  guint pages = 0;

  q.limit = limit;
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) rows = NULL;

      q.after_village_code = av;
      q.after_head_name = ah;
      q.after_id = aid;
      rows = hearth_case_search_households (f->db, &q, &error);
      g_assert_no_error (error);
      g_assert_nonnull (rows);
      g_assert_cmpuint (rows->len, <=, limit);
      for (guint i = 0; i < rows->len; i++)
        {
          HearthHouseholdRow *row = rows->pdata[i];
          Household *h = find (f, row->id);

          g_assert_cmpstr (row->village_code, ==, h->village);
          g_assert_cmpstr (row->head_name, ==, h->names[0]);
          g_assert_cmpstr (row->head_id_number, ==, h->numbers[0]);
          g_assert_cmpstr (row->monitoring_status, ==, h->status);
          g_assert_cmpstr (row->risk_level, ==, h->risk);
          g_assert_true (g_hash_table_add (got, g_strdup (row->id)));   /* exactly once */
          if (av != NULL)
            {
              int c = strcmp (av, row->village_code);

              if (c == 0)
                c = strcmp (ah, row->head_name);
              if (c == 0)
                c = strcmp (aid, row->id);
              g_assert_cmpint (c, <, 0);
            }
          g_free (av);
          g_free (ah);
          g_free (aid);
          av = g_strdup (row->village_code);
          ah = g_strdup (row->head_name);
          aid = g_strdup (row->id);
        }
      pages++;
      if (rows->len < limit)
        break;
    }
  g_assert_cmpuint (g_hash_table_size (got), ==, want->len);
  for (guint i = 0; i < want->len; i++)
    g_assert_true (g_hash_table_contains (got, want->pdata[i]));
  g_test_message ("query '%s' prefix %s status %s risk %s: %u rows in %u pages", q.text ? q.text : "",
                  q.village_prefix ? q.village_prefix : "-", q.monitoring_status ? q.monitoring_status : "-",
                  q.risk_level ? q.risk_level : "-", want->len, pages);
  return want->len;
}

static guint
count_rows (Fixture *f, const char *text)
{
  HearthHouseholdQuery q = { .text = text, .limit = HEARTH_CASE_SEARCH_MAX_LIMIT };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = hearth_case_search_households (f->db, &q, &error);

  g_assert_no_error (error);
  return rows->len;
}

static void
test_compile_options (Fixture *f, gconstpointer data)
{
  /* The search does not need FTS5 (one table of 1- and 2-character keys
   * answers every length), but record what this SQLite has. */
  g_test_message ("ENABLE_FTS5: %" G_GINT64_FORMAT,
                  test_query_int (f->db, "SELECT count(*) FROM pragma_compile_options WHERE compile_options = 'ENABLE_FTS5'"));
  g_assert_cmpint (test_query_int (f->db, "PRAGMA user_version"), >=, 3);
}

static void
test_names (Fixture *f, gconstpointer data)
{
  const char *const one[] = { "王", "明", "英", "阳" };
  const char *const two[] = { "王小", "小明", "欧阳", "秀英" };
  const char *const three[] = { "王小明", "欧阳秀", "李芳伟", "小明芳", "欧阳秀英" };
  guint total = 0;

  for (guint i = 0; i < G_N_ELEMENTS (one); i++)
    total += check_query (f, (HearthHouseholdQuery) { .text = one[i] }, FALSE, 50);
  for (guint i = 0; i < G_N_ELEMENTS (two); i++)
    total += check_query (f, (HearthHouseholdQuery) { .text = two[i] }, FALSE, 13);
  for (guint i = 0; i < G_N_ELEMENTS (three); i++)
    total += check_query (f, (HearthHouseholdQuery) { .text = three[i] }, FALSE, 7);
  g_assert_cmpuint (total, >, 0);
  /* Surrounding white space is trimmed; a member's name is found. */
  check_query (f, (HearthHouseholdQuery) { .text = "  小明 " }, FALSE, 50);
  g_assert_cmpuint (count_rows (f, "  小明 "), ==, count_rows (f, "小明"));
  g_assert_cmpuint (count_rows (f, "赵"), ==, 0);
  g_assert_cmpuint (count_rows (f, "赵钱孙"), ==, 0);
}

static void
test_id_numbers (Fixture *f, gconstpointer data)
{
  Household *h = &f->hh[17];
  const char *member = f->hh[42].n_names > 1 ? f->hh[42].numbers[1] : f->hh[42].numbers[0];
  g_autofree char *last4 = g_strdup (h->numbers[0] + 14);
  g_autofree char *last6 = g_strdup (member + 12);

  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .text = last4 }, TRUE, 50), >=, 1);
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .text = last6 }, TRUE, 50), >=, 1);
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .text = h->numbers[0] }, TRUE, 50), ==, 1);
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .text = member }, TRUE, 50), >=, 1);

  /* A final x is an X; both spell the same number. */
  test_exec (f->db, "UPDATE households SET head_id_number = '11010519491231002X' WHERE id = '00000000-0000-4000-8000-000000000005'");
  g_free (f->hh[5].numbers[0]);
  f->hh[5].numbers[0] = g_strdup ("11010519491231002X");
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .text = "002x" }, TRUE, 50), >=, 1);
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .text = "1231002X" }, TRUE, 50), ==, 1);
}

static void
test_villages_and_filters (Fixture *f, gconstpointer data)
{
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .village_prefix = "150422" }, FALSE, 37), ==, N_HOUSEHOLDS);
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .village_prefix = "150422101" }, FALSE, 9), >, 0);
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .village_prefix = "150422102203" }, FALSE, 5), >, 0);
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .village_prefix = "150423" }, FALSE, 5), ==, 0);
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .monitoring_status = "monitored" }, FALSE, 11), >, 0);
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .risk_level = "red" }, FALSE, 11), >, 0);
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .monitoring_status = "monitored", .risk_level = "red" }, FALSE, 3), >, 0);
  check_query (f, (HearthHouseholdQuery) { .text = "王", .village_prefix = "150422100", .risk_level = "orange" }, FALSE, 4);
  check_query (f, (HearthHouseholdQuery) { .text = "小明", .monitoring_status = "none" }, FALSE, 4);
  check_query (f, (HearthHouseholdQuery) { .text = "欧阳秀", .village_prefix = "150422101" }, FALSE, 2);
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { 0 }, FALSE, 200), ==, N_HOUSEHOLDS);
}

/* A text and a filter: whichever has fewer rows is read, the other checked
 * on each row; both ways give the brute-force answer, page by page. */
static void
test_rare_filters (Fixture *f, gconstpointer data)
{
  const char *const texts[] = { "王", "小明", "欧阳秀", "小", NULL };
  guint n_returned = 0;

  /* A rare status: a few households returned to the worker. */
  for (guint i = 5; i < N_HOUSEHOLDS; i += 37)
    {
      g_autofree char *sql = g_strdup_printf ("UPDATE households SET monitoring_status = 'returned' WHERE id = '%s'",
                                              f->hh[i].id);

      test_exec (f->db, sql);
      f->hh[i].status = "returned";
      n_returned++;
    }
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .monitoring_status = "returned" }, FALSE, 2), ==,
                    n_returned);
  for (guint t = 0; texts[t] != NULL; t++)
    {
      check_query (f, (HearthHouseholdQuery) { .text = texts[t], .monitoring_status = "returned" }, FALSE, 2);
      check_query (f, (HearthHouseholdQuery) { .text = texts[t], .monitoring_status = "returned", .risk_level = "red" },
                   FALSE, 1);
      check_query (f, (HearthHouseholdQuery) { .text = texts[t], .monitoring_status = "none" }, FALSE, 3);
      check_query (f, (HearthHouseholdQuery) { .text = texts[t], .risk_level = "yellow", .village_prefix = "150422101" },
                   FALSE, 4);
    }
  check_query (f, (HearthHouseholdQuery) { .text = f->hh[5].numbers[0] + 13, .monitoring_status = "returned" }, TRUE, 2);
  check_query (f, (HearthHouseholdQuery) { .text = f->hh[5].numbers[0] + 14, .risk_level = f->hh[5].risk }, TRUE, 2);
  /* A pair no household has. */
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .monitoring_status = "pending_elimination" }, FALSE, 5),
                    ==, 0);
}

static void
test_tombstone_and_rename (Fixture *f, gconstpointer data)
{
  Household *h = &f->hh[3];
  Household *g = &f->hh[8];
  g_autofree char *sql = NULL;

  /* A tombstoned household disappears from every kind of search. */
  test_exec (f->db, "UPDATE households SET deleted = 1 WHERE id = '00000000-0000-4000-8000-000000000003'");
  h->deleted = TRUE;
  check_query (f, (HearthHouseholdQuery) { .text = h->names[0] }, FALSE, 50);
  check_query (f, (HearthHouseholdQuery) { .text = h->numbers[0] + 14 }, TRUE, 50);
  check_query (f, (HearthHouseholdQuery) { .village_prefix = "150422" }, FALSE, 200);
  /* Revived, it is found again. */
  test_exec (f->db, "UPDATE households SET deleted = 0 WHERE id = '00000000-0000-4000-8000-000000000003'");
  h->deleted = FALSE;
  check_query (f, (HearthHouseholdQuery) { .text = h->names[0] }, FALSE, 50);

  /* A renamed head: found under the new name only, in the new order. */
  test_exec (f->db, "UPDATE households SET head_name = '赵钱孙' WHERE id = '00000000-0000-4000-8000-000000000008'");
  g_free (g->names[0]);
  g->names[0] = g_strdup ("赵钱孙");
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .text = "赵" }, FALSE, 50), ==, 1);
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .text = "钱孙" }, FALSE, 50), ==, 1);
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .text = "赵钱孙" }, FALSE, 50), ==, 1);
  check_query (f, (HearthHouseholdQuery) { .village_prefix = g->village }, FALSE, 3);

  /* A renamed member, a tombstoned member, a member moved in. */
  for (guint i = 0; i < N_HOUSEHOLDS; i++)
    if (f->hh[i].n_names >= 3 && i != 3 && i != 8)
      {
        Household *k = &f->hh[i];

        sql = g_strdup_printf ("UPDATE members SET name = '孙悟空' WHERE id = '10000000-0000-4000-8000-%08u%04u'", i, 1);
        test_exec (f->db, sql);
        g_free (k->names[1]);
        k->names[1] = g_strdup ("孙悟空");
        g_free (sql);
        sql = g_strdup_printf ("UPDATE members SET deleted = 1 WHERE id = '10000000-0000-4000-8000-%08u%04u'", i, 2);
        test_exec (f->db, sql);
        k->member_deleted[2] = TRUE;
        g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .text = "悟空" }, FALSE, 50), ==, 1);
        check_query (f, (HearthHouseholdQuery) { .text = k->names[2] }, FALSE, 50);
        check_query (f, (HearthHouseholdQuery) { .text = k->numbers[2] + 12 }, TRUE, 50);
        break;
      }
  check_query (f, (HearthHouseholdQuery) { .text = "王" }, FALSE, 50);
  check_query (f, (HearthHouseholdQuery) { .text = "孙" }, FALSE, 50);
}

static void
test_wildcards (Fixture *f, gconstpointer data)
{
  const char *const literal[] = { "%", "_", "%%", "王%", "_明", "%%%", "%_%", "\\", "'" };

  for (guint i = 0; i < G_N_ELEMENTS (literal); i++)
    g_assert_cmpuint (count_rows (f, literal[i]), ==, 0);
  /* Only white space: every household, a page at a time. */
  g_assert_cmpuint (count_rows (f, "   "), ==, HEARTH_CASE_SEARCH_MAX_LIMIT);

  test_exec (f->db, "UPDATE households SET head_name = '百分%号_' WHERE id = '00000000-0000-4000-8000-000000000011'");
  g_free (f->hh[11].names[0]);
  f->hh[11].names[0] = g_strdup ("百分%号_");
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .text = "%" }, FALSE, 50), ==, 1);
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .text = "_" }, FALSE, 50), ==, 1);
  g_assert_cmpuint (check_query (f, (HearthHouseholdQuery) { .text = "%号_" }, FALSE, 50), ==, 1);
  g_assert_cmpuint (count_rows (f, "%_"), ==, 0);
}

static void
expect_invalid (Fixture *f, HearthHouseholdQuery q)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = hearth_case_search_households (f->db, &q, &error);

  g_assert_null (rows);
  g_assert_error (error, HEARTH_CASE_SEARCH_ERROR, HEARTH_CASE_SEARCH_ERROR_INVALID);
}

static void
test_bounds (Fixture *f, gconstpointer data)
{
  g_autoptr(GString) long_text = g_string_new (NULL);

  for (guint i = 0; i < HEARTH_CASE_SEARCH_MAX_TEXT; i++)
    g_string_append (long_text, "王");
  g_assert_cmpuint (count_rows (f, long_text->str), ==, 0);
  g_string_append (long_text, "王");
  expect_invalid (f, (HearthHouseholdQuery) { .text = long_text->str });
  expect_invalid (f, (HearthHouseholdQuery) { .text = "123" });
  expect_invalid (f, (HearthHouseholdQuery) { .text = "1234567890123456789" });
  expect_invalid (f, (HearthHouseholdQuery) { .text = "\xff\xfe" });
  expect_invalid (f, (HearthHouseholdQuery) { .limit = HEARTH_CASE_SEARCH_MAX_LIMIT + 1 });
  expect_invalid (f, (HearthHouseholdQuery) { .village_prefix = "1504" });
  expect_invalid (f, (HearthHouseholdQuery) { .village_prefix = "15042210x" });
  expect_invalid (f, (HearthHouseholdQuery) { .monitoring_status = "sleeping" });
  expect_invalid (f, (HearthHouseholdQuery) { .risk_level = "purple" });
  /* The label a list shows is not a code: the refusal lists the codes
   * with their labels. */
  {
    g_autoptr(GError) error = NULL;
    HearthHouseholdQuery q = { .monitoring_status = "Not monitored" };

    g_assert_null (hearth_case_search_households (f->db, &q, &error));
    g_assert_error (error, HEARTH_CASE_SEARCH_ERROR, HEARTH_CASE_SEARCH_ERROR_INVALID);
    g_assert_cmpstr (error->message, ==,
                     "Unknown monitoring status “Not monitored”: give one of none (Not monitored), "
                     "pending_village_review (Waiting for village review), returned (Returned for correction), "
                     "pending_county_approval (Waiting for county approval), monitored (Monitored), "
                     "pending_elimination (Risk removal proposed), risk_eliminated (Risk removed)");
    g_clear_error (&error);
    q = (HearthHouseholdQuery) { .risk_level = "Orange" };
    g_assert_null (hearth_case_search_households (f->db, &q, &error));
    g_assert_cmpstr (error->message, ==,
                     "Unknown risk level “Orange”: give one of red (Red risk), orange (Orange risk), "
                     "yellow (Yellow risk), none (No risk found)");
  }
  expect_invalid (f, (HearthHouseholdQuery) { .after_village_code = "150422100200" });
}

/* Every page of @q, @limit rows a page: the ids in the order returned,
 * each checked to follow the one before in (village, head name, id). */
static GPtrArray *
page_ids (sqlite3 *db, HearthHouseholdQuery q, guint limit)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *av = NULL, *ah = NULL;

  q.limit = limit;
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) rows = NULL;

      q.after_village_code = av;
      q.after_head_name = ah;
      q.after_id = ids->len > 0 ? ids->pdata[ids->len - 1] : NULL;
      rows = hearth_case_search_households (db, &q, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < rows->len; i++)
        {
          HearthHouseholdRow *row = rows->pdata[i];

          if (av != NULL)
            {
              int c = strcmp (av, row->village_code);

              if (c == 0)
                c = strcmp (ah, row->head_name);
              if (c == 0)
                c = strcmp (ids->pdata[ids->len - 1], row->id);
              g_assert_cmpint (c, <, 0);
            }
          g_free (av);
          g_free (ah);
          av = g_strdup (row->village_code);
          ah = g_strdup (row->head_name);
          g_ptr_array_add (ids, g_strdup (row->id));
        }
      if (rows->len < limit)
        break;
    }
  return ids;
}

/* Households with one head name in one village, written in the opposite
 * of id order (so their integer keys run against their ids), with a page
 * boundary inside the run: every one comes once, in id order. */
static void
test_equal_names (Fixture *f, gconstpointer data)
{
  const char *const texts[] = { "同", "同名", "同名同姓", "1234", NULL };
  const guint n_same = 9, n_next = 3;

  test_exec (f->db, "BEGIN");
  for (guint i = n_same + n_next; i-- > 0;)
    {
      g_autofree char *id = g_strdup_printf ("f0000000-0000-4000-8000-%012u", i);
      g_autofree char *number = g_strdup_printf ("1504221990%04u1234", i);
      g_autofree char *mid = g_strdup_printf ("f1000000-0000-4000-8000-%012u", i);
      const char *head = i < n_same ? "同名同姓" : "同名同姓甲";

      exec_bind (f->db,
                 "INSERT INTO households (id, village_code, head_name, head_id_number, created_at, updated_at)"
                 " VALUES (?, '150422199201', ?, ?, '2026-05-01', '2026-05-01')",
                 (const char *const[]) { id, head, number, NULL });
      exec_bind (f->db,
                 "INSERT INTO members (id, household_id, name, id_number, created_at, updated_at)"
                 " VALUES (?, ?, ?, ?, '2026-05-01', '2026-05-01')",
                 (const char *const[]) { mid, id, head, number, NULL });
    }
  test_exec (f->db, "COMMIT");

  for (guint t = 0; t < G_N_ELEMENTS (texts); t++)   /* NULL: the village alone */
    for (guint limit = 1; limit <= 5; limit++)
      {
        HearthHouseholdQuery q = { .text = texts[t], .village_prefix = "150422199201" };
        g_autoptr(GPtrArray) ids = page_ids (f->db, q, limit);

        g_assert_cmpuint (ids->len, ==, n_same + n_next);
        for (guint i = 0; i < ids->len; i++)
          {
            g_autofree char *want = g_strdup_printf ("f0000000-0000-4000-8000-%012u", i);

            g_assert_cmpstr (ids->pdata[i], ==, want);
          }
      }
  /* Without the village, the run is found among the other households. */
  {
    g_autoptr(GPtrArray) ids = page_ids (f->db, (HearthHouseholdQuery) { .text = "同名" }, 4);

    g_assert_cmpuint (ids->len, ==, n_same + n_next);
  }
}

static void
test_migrated (Fixture *f, gconstpointer data)
{
  /* 0003's objects are gone; every household has a key. */
  g_assert_cmpint (test_query_int (f->db, "SELECT count(*) FROM sqlite_schema WHERE name IN"
                                          " ('household_search_household', 'household_search_refresh')"), ==, 0);
  g_assert_cmpint (test_query_int (f->db, "SELECT count(*) FROM household_keys"), ==, N_HOUSEHOLDS);
  test_names (f, data);
  test_id_numbers (f, data);
  test_villages_and_filters (f, data);
  /* The triggers index what is written after the migration. */
  test_tombstone_and_rename (f, data);
}

static void
test_tasks (Fixture *f, gconstpointer data)
{
  const char *const dates[] = { "2026-04-01", "2026-05-09", "2026-05-10", "2026-05-10", "2026-06-01", "2026-04-20" };
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_task_row_free);
  g_autofree char *ad = NULL, *aid = NULL;
  g_autoptr(GError) error = NULL;
  guint open = 0;

  test_exec (f->db, "BEGIN");
  for (guint i = 0; i < 60; i++)
    {
      g_autofree char *id = g_strdup_printf ("20000000-0000-4000-8000-%012u", i);
      const char *status = i % 7 == 3 ? "done" : "open";

      exec_bind (f->db,
                 "INSERT INTO tasks (id, household_id, kind, due_date, status, created_at, updated_at)"
                 " VALUES (?, ?, 'follow_up', ?, ?, '2026-05-01', '2026-05-01')",
                 (const char *const[]) { id, f->hh[i * 3].id, dates[i % G_N_ELEMENTS (dates)], status, NULL });
      if (strcmp (status, "open") == 0 && i * 3 != 30)
        open++;
    }
  test_exec (f->db, "UPDATE households SET deleted = 1 WHERE id = '00000000-0000-4000-8000-000000000030'");
  test_exec (f->db, "COMMIT");

  for (;;)
    {
      g_autoptr(GPtrArray) rows = hearth_case_tasks_list (f->db, "2026-05-10", NULL, ad, aid, 7, &error);

      g_assert_no_error (error);
      for (guint i = 0; i < rows->len; i++)
        {
          HearthTaskRow *t = rows->pdata[i];
          Household *h = find (f, t->household_id);

          g_assert_cmpstr (t->head_name, ==, h->names[0]);
          g_assert_cmpstr (t->village_code, ==, h->village);
          /* The test's households have no address: the column's default. */
          g_assert_cmpstr (t->address, ==, "");
          g_assert_false (h->deleted);
          g_assert_cmpint (t->urgency, ==,
                           strcmp (t->due_date, "2026-05-10") < 0 ? HEARTH_TASK_OVERDUE
                           : strcmp (t->due_date, "2026-05-10") == 0 ? HEARTH_TASK_DUE_TODAY : HEARTH_TASK_LATER);
          if (all->len > 0)
            {
              HearthTaskRow *prev = all->pdata[all->len - 1];

              g_assert_cmpint (prev->urgency, <=, t->urgency);
              g_assert_cmpint (strcmp (prev->due_date, t->due_date) < 0 ||
                               (strcmp (prev->due_date, t->due_date) == 0 && strcmp (prev->id, t->id) < 0), ==, TRUE);
            }
        }
      g_free (ad);
      g_free (aid);
      ad = rows->len > 0 ? g_strdup (((HearthTaskRow *) rows->pdata[rows->len - 1])->due_date) : NULL;
      aid = rows->len > 0 ? g_strdup (((HearthTaskRow *) rows->pdata[rows->len - 1])->id) : NULL;
      for (guint i = 0; i < rows->len; i++)
        g_ptr_array_add (all, g_steal_pointer (&rows->pdata[i]));
      if (rows->len < 7)
        break;
    }
  g_assert_cmpuint (all->len, ==, open);
  g_assert_cmpint (((HearthTaskRow *) all->pdata[0])->urgency, ==, HEARTH_TASK_OVERDUE);
  g_assert_cmpint (((HearthTaskRow *) all->pdata[all->len - 1])->urgency, ==, HEARTH_TASK_LATER);

  {
    g_autoptr(GPtrArray) rows = hearth_case_tasks_list (f->db, "2026-05-10", "150422101", NULL, NULL, 0, &error);

    g_assert_no_error (error);
    for (guint i = 0; i < rows->len; i++)
      g_assert_true (g_str_has_prefix (((HearthTaskRow *) rows->pdata[i])->village_code, "150422101"));
  }
  g_assert_null (hearth_case_tasks_list (f->db, "2026-02-30", NULL, NULL, NULL, 0, &error));
  g_assert_error (error, HEARTH_CASE_SEARCH_ERROR, HEARTH_CASE_SEARCH_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (hearth_case_tasks_list (f->db, "2026-05-10", NULL, "2026-05-01", NULL, 0, &error));
  g_assert_error (error, HEARTH_CASE_SEARCH_ERROR, HEARTH_CASE_SEARCH_ERROR_INVALID);
}

/* A row carries the household's address (the village in words), through
 * the text path and the filter path alike, and so does a task. */
static void
test_address (Fixture *f, gconstpointer data)
{
  const Household *h = &f->hh[7];
  g_autoptr(GError) error = NULL;
  HearthHouseholdQuery by_name = { .text = h->names[0], .limit = HEARTH_CASE_SEARCH_MAX_LIMIT };
  HearthHouseholdQuery by_filter = { .monitoring_status = h->status, .risk_level = h->risk,
                                     .village_prefix = h->village, .limit = HEARTH_CASE_SEARCH_MAX_LIMIT };
  HearthHouseholdQuery *queries[] = { &by_name, &by_filter };

  exec_bind (f->db, "UPDATE households SET address = '隆兴村三组 12 号' WHERE id = ?",
             (const char *const[]) { h->id, NULL });
  for (guint q = 0; q < G_N_ELEMENTS (queries); q++)
    {
      g_autoptr(GPtrArray) rows = hearth_case_search_households (f->db, queries[q], &error);
      gboolean found = FALSE;

      g_assert_no_error (error);
      for (guint i = 0; i < rows->len; i++)
        {
          HearthHouseholdRow *row = rows->pdata[i];

          g_assert_nonnull (row->address);
          if (g_str_equal (row->id, h->id))
            {
              g_assert_cmpstr (row->address, ==, "隆兴村三组 12 号");
              found = TRUE;
            }
          else
            g_assert_cmpstr (row->address, ==, "");
        }
      g_assert_true (found);
    }

  /* And an open task names where to go. */
  exec_bind (f->db,
             "INSERT INTO tasks (id, household_id, kind, due_date, status, created_at, updated_at)"
             " VALUES ('20000000-0000-4000-8000-000000000001', ?, 'follow_up', '2026-05-03', 'open',"
             " '2026-05-01', '2026-05-01')",
             (const char *const[]) { h->id, NULL });
  {
    g_autoptr(GPtrArray) tasks = hearth_case_tasks_list (f->db, "2026-05-10", NULL, NULL, NULL, 0, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (tasks->len, ==, 1);
    g_assert_cmpstr (((HearthTaskRow *) tasks->pdata[0])->household_id, ==, h->id);
    g_assert_cmpstr (((HearthTaskRow *) tasks->pdata[0])->address, ==, "隆兴村三组 12 号");
  }
}

/* The brute-force answer of hearth_case_visits_due(): is @h due? */
static gboolean
expect_due (const Household *h, const char *last, gboolean open_task, const char *routine_cut,
            const char *priority_cut)
{
  gboolean priority = (strcmp (h->status, "none") != 0 && strcmp (h->status, "risk_eliminated") != 0) ||
                      strcmp (h->risk, "none") != 0;

  return !h->deleted && !open_task && strcmp (last, priority ? priority_cut : routine_cut) <= 0;
}

/* How many households hearth_case_visits_due() lists, page by page; and
 * whether @id is one of them. */
static guint
count_due (sqlite3 *db, const HearthVisitDueQuery *query, const char *id, gboolean *found)
{
  HearthVisitDueQuery q = *query;
  g_autofree char *alv = NULL, *aid = NULL;
  g_autoptr(GError) error = NULL;
  guint n = 0;

  *found = FALSE;
  q.limit = HEARTH_CASE_SEARCH_MAX_LIMIT;
  for (;;)
    {
      g_autoptr(GPtrArray) rows = NULL;

      q.after_last_visit_date = alv;
      q.after_id = aid;
      rows = hearth_case_visits_due (db, &q, &error);
      g_assert_no_error (error);
      n += rows->len;
      for (guint i = 0; i < rows->len; i++)
        *found = *found || g_str_equal (((HearthVisitDueRow *) rows->pdata[i])->id, id);
      if (rows->len < q.limit)
        return n;
      g_free (alv);
      g_free (aid);
      alv = g_strdup (((HearthVisitDueRow *) rows->pdata[rows->len - 1])->last_visit_date);
      aid = g_strdup (((HearthVisitDueRow *) rows->pdata[rows->len - 1])->id);
    }
}

/* Households due for a routine visit: never visited or visited a period
 * ago (a month for priority ones, a quarter for the others), none with an
 * open task or tombstoned, longest unvisited first, every one once across
 * pages read by key; and the plan reads the index in order with no sort. */
static void
test_visits_due (Fixture *f, gconstpointer data)
{
  /* today 2026-05-10: the routine cut (90 days) is 2026-02-09, the
   * priority one (30 days) 2026-04-10. */
  const char *const lasts[] = { "", "2026-01-05", "2026-02-09", "2026-02-10", "2026-03-20", "2026-04-10",
                                "2026-04-11", "2026-05-09", "2025-11-30" };
  char *last_of[N_HOUSEHOLDS];
  gboolean open_task[N_HOUSEHOLDS] = { FALSE };
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_visit_due_row_free);
  g_autofree char *alv = NULL, *aid = NULL;
  g_autoptr(GError) error = NULL;
  guint expected = 0, never = 0;
  HearthVisitDueQuery q = { .today = "2026-05-10", .routine_days = 90, .priority_days = 30, .limit = 7 };

  test_exec (f->db, "BEGIN");
  for (guint i = 0; i < N_HOUSEHOLDS; i++)
    {
      last_of[i] = (char *) lasts[(i * 7 + i / 5) % G_N_ELEMENTS (lasts)];
      exec_bind (f->db, "UPDATE households SET last_visit_date = ? WHERE id = ?",
                 (const char *const[]) { last_of[i], f->hh[i].id, NULL });
      if (i % 11 == 4)
        {
          g_autofree char *tid = g_strdup_printf ("30000000-0000-4000-8000-%012u", i);

          /* Every third of them done: a done task does not hide the household. */
          open_task[i] = i % 3 != 0;
          exec_bind (f->db,
                     "INSERT INTO tasks (id, household_id, kind, due_date, status, created_at, updated_at)"
                     " VALUES (?, ?, 'follow_up', '2026-05-20', ?, '2026-05-01', '2026-05-01')",
                     (const char *const[]) { tid, f->hh[i].id, open_task[i] ? "open" : "done", NULL });
        }
    }
  test_exec (f->db, "UPDATE households SET deleted = 1 WHERE id = '00000000-0000-4000-8000-000000000009'");
  f->hh[9].deleted = TRUE;
  test_exec (f->db, "COMMIT");
  for (guint i = 0; i < N_HOUSEHOLDS; i++)
    if (expect_due (&f->hh[i], last_of[i], open_task[i], "2026-02-09", "2026-04-10"))
      {
        expected++;
        never += last_of[i][0] == '\0';
      }
  g_assert_cmpuint (expected, >, 20);
  g_assert_cmpuint (never, >, 0);

  for (;;)
    {
      g_autoptr(GPtrArray) rows = NULL;

      q.after_last_visit_date = alv;
      q.after_id = aid;
      rows = hearth_case_visits_due (f->db, &q, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < rows->len; i++)
        {
          HearthVisitDueRow *row = rows->pdata[i];
          Household *h = find (f, row->id);
          guint index = (guint) (h - f->hh);

          g_assert_true (expect_due (h, last_of[index], open_task[index], "2026-02-09", "2026-04-10"));
          g_assert_cmpstr (row->last_visit_date, ==, last_of[index]);
          g_assert_cmpstr (row->head_name, ==, h->names[0]);
          g_assert_cmpstr (row->village_code, ==, h->village);
          g_assert_cmpstr (row->monitoring_status, ==, h->status);
          g_assert_cmpstr (row->risk_level, ==, h->risk);
          g_assert_cmpint (row->priority, ==, strcmp (h->status, "none") != 0 &&
                                              strcmp (h->status, "risk_eliminated") != 0 ? TRUE
                                              : strcmp (h->risk, "none") != 0);
          /* When it fell due: the last visit plus its period. */
          if (g_str_equal (row->last_visit_date, "2026-01-05"))
            g_assert_cmpstr (row->due_date, ==, row->priority ? "2026-02-04" : "2026-04-05");
          else if (g_str_equal (row->last_visit_date, "2025-11-30"))
            g_assert_cmpstr (row->due_date, ==, row->priority ? "2025-12-30" : "2026-02-28");
          else if (g_str_equal (row->last_visit_date, ""))
            g_assert_cmpstr (row->due_date, ==, "");
          if (seen->len > 0)
            {
              HearthVisitDueRow *prev = seen->pdata[seen->len - 1];
              int c = strcmp (prev->last_visit_date, row->last_visit_date);

              g_assert_true (c < 0 || (c == 0 && strcmp (prev->id, row->id) < 0));
            }
        }
      g_free (alv);
      g_free (aid);
      alv = rows->len > 0 ? g_strdup (((HearthVisitDueRow *) rows->pdata[rows->len - 1])->last_visit_date) : NULL;
      aid = rows->len > 0 ? g_strdup (((HearthVisitDueRow *) rows->pdata[rows->len - 1])->id) : NULL;
      for (guint i = 0; i < rows->len; i++)
        g_ptr_array_add (seen, g_steal_pointer (&rows->pdata[i]));
      if (rows->len < q.limit)
        break;
    }
  g_assert_cmpuint (seen->len, ==, expected);
  g_assert_cmpstr (((HearthVisitDueRow *) seen->pdata[0])->last_visit_date, ==, "");

  /* One township only. */
  {
    HearthVisitDueQuery township = q;
    g_autoptr(GPtrArray) rows = NULL;
    guint in_township = 0;

    township.village_prefix = "150422101";
    township.after_last_visit_date = township.after_id = NULL;
    township.limit = HEARTH_CASE_SEARCH_MAX_LIMIT;
    rows = hearth_case_visits_due (f->db, &township, &error);
    g_assert_no_error (error);
    for (guint i = 0; i < seen->len; i++)
      in_township += g_str_has_prefix (((HearthVisitDueRow *) seen->pdata[i])->village_code, "150422101");
    g_assert_cmpuint (rows->len, ==, in_township);
    g_assert_cmpuint (rows->len, >, 0);
    for (guint i = 0; i < rows->len; i++)
      g_assert_true (g_str_has_prefix (((HearthVisitDueRow *) rows->pdata[i])->village_code, "150422101"));
  }

  /* The query reads routine_visit_queue in order: a merge of two index
   * searches, no temporary sort, no scan. */
  {
    g_autoptr(GString) plan = g_string_new (NULL);
    sqlite3_stmt *st = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (f->db,
                     "EXPLAIN QUERY PLAN SELECT q.household_id, q.last_visit_date FROM routine_visit_queue AS q"
                     " INDEXED BY routine_visit_queue_order CROSS JOIN households AS h ON h.id = q.household_id"
                     " WHERE q.priority = 1 AND q.last_visit_date <= '2026-04-10'"
                     " AND (q.last_visit_date, q.household_id) > ('', '')"
                     " UNION ALL SELECT q.household_id, q.last_visit_date FROM routine_visit_queue AS q"
                     " INDEXED BY routine_visit_queue_order CROSS JOIN households AS h ON h.id = q.household_id"
                     " WHERE q.priority = 0 AND q.last_visit_date <= '2026-02-09' ORDER BY 2, 1 LIMIT 20",
                     -1, &st, NULL), ==, SQLITE_OK);
    while (sqlite3_step (st) == SQLITE_ROW)
      g_string_append_printf (plan, "%s\n", sqlite3_column_text (st, 3));
    sqlite3_finalize (st);
    g_test_message ("%s", plan->str);
    g_assert_nonnull (strstr (plan->str, "MERGE"));
    g_assert_null (strstr (plan->str, "TEMP B-TREE"));
    g_assert_null (strstr (plan->str, "SCAN"));
  }

  /* The queue follows the tasks: a household's open task takes it off,
   * closing the task puts it back; a tombstone is off for good; a visit
   * today makes a household due no more. */
  {
    const char *id = ((HearthVisitDueRow *) seen->pdata[0])->id;
    const char *other = ((HearthVisitDueRow *) seen->pdata[seen->len - 1])->id;
    HearthVisitDueQuery all = q;
    gboolean found;

    all.after_last_visit_date = all.after_id = NULL;
    g_assert_cmpuint (count_due (f->db, &all, id, &found), ==, expected);
    g_assert_true (found);
    exec_bind (f->db,
               "INSERT INTO tasks (id, household_id, kind, due_date, status, created_at, updated_at)"
               " VALUES ('40000000-0000-4000-8000-000000000001', ?, 'follow_up', '2026-06-01', 'open',"
               " '2026-05-01', '2026-05-01')",
               (const char *const[]) { id, NULL });
    g_assert_cmpuint (count_due (f->db, &all, id, &found), ==, expected - 1);
    g_assert_false (found);
    test_exec (f->db, "UPDATE tasks SET status = 'done' WHERE id = '40000000-0000-4000-8000-000000000001'");
    g_assert_cmpuint (count_due (f->db, &all, id, &found), ==, expected);
    g_assert_true (found);
    exec_bind (f->db, "UPDATE households SET deleted = 1 WHERE id = ?", (const char *const[]) { id, NULL });
    g_assert_cmpuint (count_due (f->db, &all, id, &found), ==, expected - 1);
    g_assert_false (found);
    exec_bind (f->db, "UPDATE households SET last_visit_date = '2026-05-10' WHERE id = ?",
               (const char *const[]) { other, NULL });
    g_assert_cmpuint (count_due (f->db, &all, other, &found), ==, expected - 2);
    g_assert_false (found);
  }

  /* Bad queries, each refused with a reason. */
  {
    HearthVisitDueQuery bad = { .today = "2026-05-10", .routine_days = 90, .priority_days = 30 };

    bad.routine_days = 0;
    g_assert_null (hearth_case_visits_due (f->db, &bad, &error));
    g_assert_error (error, HEARTH_CASE_SEARCH_ERROR, HEARTH_CASE_SEARCH_ERROR_INVALID);
    g_clear_error (&error);
    bad.routine_days = 30;
    bad.priority_days = 31;
    g_assert_null (hearth_case_visits_due (f->db, &bad, &error));
    g_assert_error (error, HEARTH_CASE_SEARCH_ERROR, HEARTH_CASE_SEARCH_ERROR_INVALID);
    g_clear_error (&error);
    bad.priority_days = 30;
    bad.today = "2026-13-01";
    g_assert_null (hearth_case_visits_due (f->db, &bad, &error));
    g_assert_error (error, HEARTH_CASE_SEARCH_ERROR, HEARTH_CASE_SEARCH_ERROR_INVALID);
    g_clear_error (&error);
    bad.today = "2026-05-10";
    bad.after_id = "x";
    g_assert_null (hearth_case_visits_due (f->db, &bad, &error));
    g_assert_error (error, HEARTH_CASE_SEARCH_ERROR, HEARTH_CASE_SEARCH_ERROR_INVALID);
    g_clear_error (&error);
    bad.after_id = NULL;
    bad.village_prefix = "1504";
    g_assert_null (hearth_case_visits_due (f->db, &bad, &error));
    g_assert_error (error, HEARTH_CASE_SEARCH_ERROR, HEARTH_CASE_SEARCH_ERROR_INVALID);
  }
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
#define ADD(path, fn) g_test_add ("/case/search/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("compile-options", test_compile_options);
  ADD ("names", test_names);
  ADD ("id-numbers", test_id_numbers);
  ADD ("villages-and-filters", test_villages_and_filters);
  ADD ("tombstone-and-rename", test_tombstone_and_rename);
  ADD ("wildcards", test_wildcards);
  ADD ("bounds", test_bounds);
  ADD ("tasks", test_tasks);
  ADD ("equal-names", test_equal_names);
  ADD ("rare-filters", test_rare_filters);
  ADD ("address", test_address);
  ADD ("visits-due", test_visits_due);
#undef ADD
  g_test_add ("/case/search/migrated", Fixture, NULL, fixture_setup_migrated, test_migrated, fixture_teardown);
  return g_test_run ();
}

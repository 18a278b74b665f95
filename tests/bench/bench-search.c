/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bench-search.c: household search and the task list on a county's worth
 * of households (case-search.h).
 *
 * Generates, from a fixed seed, 50,000 households with Chinese names
 * (common surnames and given-name characters), 200,000 members (the head
 * is member 1), valid 18-digit ID numbers (GB 11643 check character),
 * village codes 150422 + township 100..110 + village 200..230, statuses
 * and risk levels, and an open follow-up task for about 20 % of
 * households, in a real encrypted store (hearth_store_create with
 * HEARTH_KDF_TEST) written by plain INSERTs, so the triggers of migration
 * 0003 build the index. Then times the first page (50 rows) of ~200
 * queries of each kind and prints median and p95 against the targets
 * (10 ms p95 for a search, 5 ms for the first task page), and the store's
 * size on disk per household.
 *
 * Not a pass/fail test: it prints, it never fails on time. Files go in a
 * fresh folder under $HEARTH_BENCH_DIR or the build directory, removed at
 * exit unless HEARTH_KEEP_BENCH_DIR is set.
 *
 *   bench-search [--households=N] [--queries=N]
 */
#include "bench-util.h"
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "case-search.h"
#include "store.h"
#include "store-vfs.h"

#ifndef HEARTH_BENCH_DEFAULT_DIR
#define HEARTH_BENCH_DEFAULT_DIR "bench-scratch"
#endif

#define PASSPHRASE "correct horse battery staple"
#define MEMBERS_PER_HOUSEHOLD 4
#define TODAY "2026-05-10"
#define TARGET_SEARCH_MS 10.0
#define TARGET_TASKS_MS 5.0

static const char *const surnames[] = {
  "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高",
  "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁",
  "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈",
};
static const char *const given[] = {
  "伟", "芳", "娜", "秀", "英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
  "超", "兰", "霞", "平", "刚", "桂", "玉", "华", "建", "国", "文", "辉", "红", "海", "小", "春", "梅", "金",
  "林", "宝", "成", "志", "荣", "凤", "云", "福", "生", "龙", "德", "宏", "永", "庆", "俊", "萍", "燕", "琴",
  "波", "斌", "亮", "鹏", "飞", "新", "东", "晓", "丹", "雪", "慧", "佳", "鑫", "婷", "浩", "宇",
};
static const char *const statuses[] = {
  "none", "none", "none", "monitored", "monitored", "pending_village_review", "returned",
  "pending_county_approval", "pending_elimination", "risk_eliminated",
};
static const char *const risks[] = { "none", "none", "none", "yellow", "orange", "red" };

static char *bench_dir;

static void
remove_bench_dir (void)
{
  if (bench_dir != NULL && g_getenv ("HEARTH_KEEP_BENCH_DIR") == NULL)
    bench_remove_tree (bench_dir);
}

static char *
make_name (GRand *r, const char *surname)
{
  GString *s = g_string_new (surname != NULL ? surname : surnames[g_rand_int_range (r, 0, G_N_ELEMENTS (surnames))]);
  gint len = g_rand_int_range (r, 0, 10) < 7 ? 2 : 1;

  for (gint i = 0; i < len; i++)
    g_string_append (s, given[g_rand_int_range (r, 0, G_N_ELEMENTS (given))]);
  return g_string_free (s, FALSE);
}

/* A valid GB 11643 number under county 150422. */
static char *
make_id_number (GRand *r)
{
  static const int weights[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
  char n[19];
  int sum = 0;

  g_snprintf (n, sizeof n, "150422%04d%02d%02d%03d", g_rand_int_range (r, 1940, 2020), g_rand_int_range (r, 1, 13),
              g_rand_int_range (r, 1, 29), g_rand_int_range (r, 0, 1000));
  for (int i = 0; i < 17; i++)
    sum += (n[i] - '0') * weights[i];
  n[17] = "10X98765432"[sum % 11];
  n[18] = '\0';
  return g_strdup (n);
}

typedef struct {
  char *id;
  char *village;
  char *names[MEMBERS_PER_HOUSEHOLD];
  char *numbers[MEMBERS_PER_HOUSEHOLD];
} Household;

static void
bind_all (sqlite3_stmt *st, const char *const *values)
{
  sqlite3_reset (st);
  for (int i = 0; values[i] != NULL; i++)
    sqlite3_bind_text (st, i + 1, values[i], -1, SQLITE_TRANSIENT);
  if (sqlite3_step (st) != SQLITE_DONE)
    g_error ("insert failed: %s", sqlite3_errmsg (sqlite3_db_handle (st)));
}

static void
generate (sqlite3 *db, Household *hh, guint n)
{
  g_autoptr(GRand) r = g_rand_new_with_seed (11643);
  sqlite3_stmt *hs = NULL, *ms = NULL, *ts = NULL;
  guint tasks = 0;

  bench_exec (db, "BEGIN");
  sqlite3_prepare_v2 (db,
                      "INSERT INTO households (id, village_code, head_name, head_id_number, monitoring_status,"
                      " risk_level, member_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 4,"
                      " '2026-05-01T08:00:00+08:00', '2026-05-01T08:00:00+08:00')", -1, &hs, NULL);
  sqlite3_prepare_v2 (db,
                      "INSERT INTO members (id, household_id, position, name, id_number, relation, created_at, updated_at)"
                      " VALUES (?, ?, ?, ?, ?, ?, '2026-05-01T08:00:00+08:00', '2026-05-01T08:00:00+08:00')",
                      -1, &ms, NULL);
  sqlite3_prepare_v2 (db,
                      "INSERT INTO tasks (id, household_id, kind, due_date, reason, created_at, updated_at)"
                      " VALUES (?, ?, 'follow_up', ?, 'quarterly visit', '2026-05-01', '2026-05-01')", -1, &ts, NULL);
  for (guint i = 0; i < n; i++)
    {
      Household *h = &hh[i];
      const char *surname = surnames[g_rand_int_range (r, 0, G_N_ELEMENTS (surnames))];

      h->id = g_strdup_printf ("%08x-%04x-4%03x-8%03x-%012x", g_rand_int (r), i & 0xffff, g_rand_int_range (r, 0, 4096),
                               g_rand_int_range (r, 0, 4096), i);
      h->village = g_strdup_printf ("150422%03d%03d", g_rand_int_range (r, 100, 111), g_rand_int_range (r, 200, 231));
      for (guint m = 0; m < MEMBERS_PER_HOUSEHOLD; m++)
        {
          /* Most members share the head's surname; a spouse may not. */
          h->names[m] = make_name (r, m == 1 ? NULL : surname);
          h->numbers[m] = make_id_number (r);
        }
      bind_all (hs, (const char *const[]) { h->id, h->village, h->names[0], h->numbers[0],
                                            statuses[g_rand_int_range (r, 0, G_N_ELEMENTS (statuses))],
                                            risks[g_rand_int_range (r, 0, G_N_ELEMENTS (risks))], NULL });
      for (guint m = 0; m < MEMBERS_PER_HOUSEHOLD; m++)
        {
          g_autofree char *mid = g_strdup_printf ("%s-m%u", h->id, m);
          g_autofree char *pos = g_strdup_printf ("%u", m);

          bind_all (ms, (const char *const[]) { mid, h->id, pos, h->names[m], h->numbers[m],
                                                m == 0 ? "01" : m == 1 ? "10" : "20", NULL });
        }
      if (g_rand_int_range (r, 0, 5) == 0)
        {
          g_autofree char *tid = g_strdup_printf ("%s-t", h->id);
          GDate d;
          char due[16];

          g_date_clear (&d, 1);
          g_date_set_dmy (&d, 10, G_DATE_MAY, 2026);
          g_date_add_days (&d, (guint) g_rand_int_range (r, 0, 90));
          g_date_subtract_days (&d, 45);
          g_date_strftime (due, sizeof due, "%Y-%m-%d", &d);
          bind_all (ts, (const char *const[]) { tid, h->id, due, NULL });
          tasks++;
        }
    }
  sqlite3_finalize (hs);
  sqlite3_finalize (ms);
  sqlite3_finalize (ts);
  bench_exec (db, "COMMIT");
  g_print ("Generated %u households, %u members, %u open tasks\n", n, n * MEMBERS_PER_HOUSEHOLD, tasks);
}

typedef enum {
  KIND_NAME1,
  KIND_NAME2,
  KIND_NAME3,
  KIND_ID,
  KIND_VILLAGE,
  KIND_STATUS,
  KIND_NAME1_FILTERED,
  KIND_TASKS,
  KIND_TASKS_VILLAGE,
  N_KINDS
} Kind;

static const char *const kind_names[N_KINDS] = {
  "1-char name", "2-char name", "3-char name", "ID last 4-6 digits", "village prefix (6/9/12)",
  "status + risk filter", "1-char + township + status", "first task page", "first task page, township",
};

static char *
substring (const char *s, guint from, guint len)
{
  const char *a = g_utf8_offset_to_pointer (s, from);
  const char *b = g_utf8_offset_to_pointer (a, len);

  return g_strndup (a, b - a);
}

int
main (int argc, char **argv)
{
  guint n_households = 50000, n_queries = 200;
  const char *base = g_getenv ("HEARTH_BENCH_DIR");
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthSecret) pass = NULL;
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(GRand) r = g_rand_new_with_seed (2026);
  g_autofree char *data_dir = NULL;
  g_autofree char *db_path = NULL;
  g_autofree Household *hh = NULL;
  GOptionEntry entries[] = {
    { "households", 0, 0, G_OPTION_ARG_INT, &n_households, "Households to generate (50000)", "N" },
    { "queries", 0, 0, G_OPTION_ARG_INT, &n_queries, "Queries of each kind (200)", "N" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- household search benchmark");
  sqlite3 *db;
  gint64 t0;
  GStatBuf sb;
  double size = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    g_error ("%s", error->message);
  if (!hearth_vfs_register (&error))
    g_error ("%s", error->message);

  g_mkdir_with_parents (base != NULL ? base : HEARTH_BENCH_DEFAULT_DIR, 0700);
  {
    g_autofree char *tmpl = g_build_filename (base != NULL ? base : HEARTH_BENCH_DEFAULT_DIR, "search-XXXXXX", NULL);

    bench_dir = g_mkdtemp (g_steal_pointer (&tmpl));
  }
  atexit (remove_bench_dir);
  data_dir = g_build_filename (bench_dir, "store", NULL);
  pass = hearth_secret_new_from_data (PASSPHRASE, strlen (PASSPHRASE));
  if (!hearth_store_create (data_dir, pass, HEARTH_KDF_TEST, NULL, &error))
    g_error ("%s", error->message);
  store = hearth_store_open (data_dir, pass, &error);
  if (store == NULL)
    g_error ("%s", error->message);
  db = hearth_store_get_db (store);

  hh = g_new0 (Household, n_households);
  t0 = g_get_monotonic_time ();
  generate (db, hh, n_households);
  g_print ("Inserting them (triggers indexing): %.1f s\n", (g_get_monotonic_time () - t0) / 1e6);
  bench_exec (db, "PRAGMA wal_checkpoint(TRUNCATE)");
  db_path = g_build_filename (data_dir, HEARTH_STORE_DB_NAME, NULL);
  if (g_stat (db_path, &sb) == 0)
    size = (double) sb.st_size;
  {
    sqlite3_stmt *st = NULL;

    g_print ("Store: %.1f MB, %.0f bytes per household\n", size / 1e6, size / n_households);
    if (sqlite3_prepare_v2 (db,
                            "SELECT name, sum(pgsize) FROM dbstat WHERE name IN ('household_search',"
                            " 'household_search_household', 'households', 'members', 'households_search_order',"
                            " 'tasks_open_order') GROUP BY name ORDER BY 2 DESC", -1, &st, NULL) == SQLITE_OK)
      {
        while (sqlite3_step (st) == SQLITE_ROW)
          g_print ("  %-28s %6.1f MB  %5.0f B/household\n", sqlite3_column_text (st, 0),
                   sqlite3_column_double (st, 1) / 1e6, sqlite3_column_double (st, 1) / n_households);
        sqlite3_finalize (st);
      }
  }

  /* Warm the page cache as a worker's session would. */
  bench_exec (db, "SELECT count(*) FROM household_search; SELECT count(*) FROM households; SELECT count(*) FROM members");

  g_print ("\n%-28s %9s %9s %8s %9s %7s\n", "query (first page of 50)", "median ms", "p95 ms", "target", "avg rows", "within");
  for (Kind k = 0; k < N_KINDS; k++)
    {
      g_autofree double *ms = g_new0 (double, n_queries);
      guint64 rows_total = 0;
      double p95;

      for (guint i = 0; i < n_queries; i++)
        {
          Household *h = &hh[g_rand_int_range (r, 0, n_households)];
          const char *name = h->names[g_rand_int_range (r, 0, MEMBERS_PER_HOUSEHOLD)];
          guint len = g_utf8_strlen (name, -1);
          g_autofree char *text = NULL;
          g_autofree char *prefix = NULL;
          HearthHouseholdQuery q = { 0 };
          g_autoptr(GPtrArray) rows = NULL;
          gint64 start;

          switch (k)
            {
            case KIND_NAME1:
            case KIND_NAME1_FILTERED:
              text = substring (name, g_rand_int_range (r, 0, len), 1);
              break;
            case KIND_NAME2:
              text = substring (name, len > 2 ? g_rand_int_range (r, 0, len - 1) : 0, 2);
              break;
            case KIND_NAME3:
              while (g_utf8_strlen (name, -1) < 3)
                name = hh[g_rand_int_range (r, 0, n_households)].names[g_rand_int_range (r, 0, MEMBERS_PER_HOUSEHOLD)];
              text = g_strdup (name);
              break;
            case KIND_ID:
              {
                const char *number = h->numbers[g_rand_int_range (r, 0, MEMBERS_PER_HOUSEHOLD)];

                text = g_strdup (number + 18 - g_rand_int_range (r, 4, 7));
              }
              break;
            case KIND_VILLAGE:
              prefix = g_strndup (h->village, (const guint[]) { 6, 9, 12 }[g_rand_int_range (r, 0, 3)]);
              break;
            case KIND_STATUS:
              break;
            case KIND_TASKS:
            case KIND_TASKS_VILLAGE:
            case N_KINDS:
              break;
            }
          if (k == KIND_NAME1_FILTERED)
            prefix = g_strndup (h->village, 9);
          q.text = text;
          q.village_prefix = prefix;
          if (k == KIND_STATUS || k == KIND_NAME1_FILTERED)
            q.monitoring_status = statuses[g_rand_int_range (r, 0, G_N_ELEMENTS (statuses))];
          if (k == KIND_STATUS && g_rand_boolean (r))
            q.risk_level = risks[g_rand_int_range (r, 0, G_N_ELEMENTS (risks))];

          start = g_get_monotonic_time ();
          if (k == KIND_TASKS || k == KIND_TASKS_VILLAGE)
            {
              g_autofree char *township = k == KIND_TASKS_VILLAGE ? g_strndup (h->village, 9) : NULL;

              rows = hearth_case_tasks_list (db, TODAY, township, NULL, NULL, 50, &error);
            }
          else
            rows = hearth_case_search_households (db, &q, &error);
          ms[i] = (g_get_monotonic_time () - start) / 1000.0;
          if (rows == NULL)
            g_error ("%s", error->message);
          rows_total += rows->len;
        }
      p95 = bench_p95 (ms, n_queries);
      {
        double target = k >= KIND_TASKS ? TARGET_TASKS_MS : TARGET_SEARCH_MS;

        g_print ("%-28s %9.2f %9.2f %6.0f ms %9.1f %7s\n", kind_names[k], bench_median (ms, n_queries), p95, target,
                 (double) rows_total / n_queries, p95 <= target ? "yes" : "NO");
      }
    }
  g_print ("\n(times include preparing the statement; one warm connection; nearest-rank p95)\n");

  for (guint i = 0; i < n_households; i++)
    {
      g_free (hh[i].id);
      g_free (hh[i].village);
      for (guint m = 0; m < MEMBERS_PER_HOUSEHOLD; m++)
        {
          g_free (hh[i].names[m]);
          g_free (hh[i].numbers[m]);
        }
    }
  return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-demo-generate.c: the shared demo generator (demo-generate.h) and
 * `hearth-cli demo generate`. The same seed writes the same bytes and
 * another seed other bytes; every ID number passes the GB 11643 check and
 * agrees with the sex and birth date columns, the relation (sons male,
 * daughters female, a spouse of the other sex) and the ages (children
 * younger than the head, parents older); every village code is one of
 * the table's; `hearth-cli household import` takes a generated file whole;
 * and a small store filled by the benchmarks' fast path holds visits,
 * tasks and reviews shaped like real ones, with a sound audit chain.
 */
#include "test-util.h"
#include "case-audit.h"
#include "csv.h"
#include "demo-generate.h"
#include "id-number.h"

#include <glib/gstdio.h>
#include <string.h>

#define N_HOUSEHOLDS 300

enum { C_NO, C_VILLAGE, C_ADDRESS, C_CATEGORY, C_PHONE, C_NAME, C_ID, C_SEX, C_BORN, C_RELATION, C_HEALTH,
       C_LABOUR, C_SCHOOL, C_INSURANCE, C_INCOME, N_COLUMNS };

static char *
generate (const char *dir, const char *name, const char *seed, const char *county, guint *members)
{
  g_auto(TestRun) r = { 0 };
  char *path = g_build_filename (dir, name, NULL);
  g_autofree char *households = g_strdup_printf ("%d", N_HOUSEHOLDS);
  const char *args[] = { "demo", "generate", "--households", households, "--seed", seed, "--out", path,
                         county != NULL ? "--county" : NULL, county, NULL };

  test_run_cliv (&r, NULL, args);
  g_assert_cmpint (r.status, ==, 0);
  if (members != NULL)
    {
      g_autofree char *expected = NULL;
      const char *with = strstr (r.out, " with ");

      g_assert_nonnull (with);
      *members = (guint) g_ascii_strtoull (with + 6, NULL, 10);
      expected = g_strdup_printf ("Wrote %d households with %u members to %s.\n", N_HOUSEHOLDS, *members, path);
      g_assert_cmpstr (r.out, ==, expected);
    }
  return path;
}

static GBytes *
read_bytes (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (data, len);
}

/* The data rows of a generated file (the byte order mark and header
 * checked and skipped). */
static GPtrArray *
read_rows (const char *path)
{
  g_autoptr(GBytes) bytes = read_bytes (path);
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  const char *text = g_bytes_get_data (bytes, NULL);
  const char *p;
  gboolean bad = FALSE;
  GPtrArray *fields;

  g_assert_true (g_str_has_prefix (text, "\xef\xbb\xbf"));
  g_assert_true (g_str_has_prefix (text + 3, hearth_demo_registry_header ()));
  g_assert_true (g_utf8_validate (text, (gssize) g_bytes_get_size (bytes), NULL));
  p = text + 3 + strlen (hearth_demo_registry_header ());
  while ((fields = hearth_csv_record (&p, &bad)) != NULL)
    {
      g_assert_false (bad);
      if (fields->len == 1 && ((char *) fields->pdata[0])[0] == '\0')
        {
          g_ptr_array_unref (fields);
          continue;
        }
      g_assert_cmpuint (fields->len, ==, N_COLUMNS);
      g_ptr_array_add (rows, fields);
    }
  return rows;
}

static void
test_deterministic (void)
{
  g_autofree char *dir = test_make_dir ("demo-deterministic");
  g_autofree char *a = generate (dir, "a.csv", "7", NULL, NULL);
  g_autofree char *b = generate (dir, "b.csv", "7", NULL, NULL);
  g_autofree char *c = generate (dir, "c.csv", "8", NULL, NULL);
  g_autofree char *lib = g_build_filename (dir, "lib.csv", NULL);
  g_autoptr(GBytes) ab = read_bytes (a);
  g_autoptr(GBytes) bb = read_bytes (b);
  g_autoptr(GBytes) cb = read_bytes (c);
  g_autoptr(GBytes) lb = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_bytes_equal (ab, bb));
  g_assert_false (g_bytes_equal (ab, cb));
  /* The library writes what the command writes. */
  g_assert_true (hearth_demo_write_registry (lib, N_HOUSEHOLDS, 7, NULL, NULL, &error));
  g_assert_no_error (error);
  lb = read_bytes (lib);
  g_assert_true (g_bytes_equal (ab, lb));
}

static GDate
parse_date (const char *text)
{
  GDate d;

  g_date_clear (&d, 1);
  g_date_set_parse (&d, text);
  g_assert_true (g_date_valid (&d));
  return d;
}

static void
test_rows (void)
{
  g_autofree char *dir = test_make_dir ("demo-rows");
  g_autofree char *path = generate (dir, "registry.csv", "11643", NULL, NULL);
  g_autoptr(GPtrArray) rows = read_rows (path);
  g_autoptr(GHashTable) numbers = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) households = g_hash_table_new (g_str_hash, g_str_equal);
  const char *const *villages = hearth_demo_villages ();
  GPtrArray *head = NULL;
  guint sizes[8] = { 0 }, size = 0, categories = 0, phones = 0;

  g_assert_cmpuint (g_strv_length ((char **) villages), >=, 8);
  for (guint i = 0; i < rows->len; i++)
    {
      GPtrArray *row = rows->pdata[i];
      const char *const *f = (const char *const *) row->pdata;
      g_autofree char *normalised = NULL, *born = NULL, *why = NULL;
      char sex = 0;

      /* GB 11643: the check, and the columns the number determines. */
      why = hearth_id_number_check (f[C_ID], &normalised, &born, &sex);
      g_assert_null (why);
      g_assert_cmpstr (normalised, ==, f[C_ID]);
      g_assert_true (g_hash_table_add (numbers, (gpointer) f[C_ID]));
      g_assert_cmpstr (born, ==, f[C_BORN]);
      g_assert_cmpstr (sex == '1' ? "男" : "女", ==, f[C_SEX]);
      g_assert_true (g_strv_contains (villages, f[C_VILLAGE]));
      g_assert_true (g_str_has_prefix (f[C_NO], f[C_VILLAGE]));
      g_assert_true (g_str_has_prefix (f[C_ID], "1504"));
      g_assert_cmpuint (g_utf8_strlen (f[C_NAME], -1), >=, 2);
      g_assert_cmpuint (g_utf8_strlen (f[C_NAME], -1), <=, 4);

      if (g_str_equal (f[C_RELATION], "01"))
        {
          if (head != NULL)
            sizes[MIN (size, 7)]++;
          head = row;
          size = 1;
          g_assert_true (g_hash_table_add (households, (gpointer) f[C_NO]));   /* one head, rows together */
          categories += f[C_CATEGORY][0] != '\0';
          phones += f[C_PHONE][0] != '\0';
          {
            GDate b = parse_date (f[C_BORN]), ref = parse_date (HEARTH_DEMO_REFERENCE_DATE);
            guint age = (guint) (g_date_days_between (&b, &ref) / 365.25);

            g_assert_cmpuint (age, >=, 29);
            g_assert_cmpuint (age, <=, 76);
          }
          continue;
        }
      g_assert_nonnull (head);
      size++;
      g_assert_cmpstr (f[C_NO], ==, head->pdata[C_NO]);
      g_assert_cmpstr (f[C_VILLAGE], ==, head->pdata[C_VILLAGE]);
      {
        const char *head_born = head->pdata[C_BORN];
        const char *relation = f[C_RELATION];

        if (g_str_equal (relation, "20"))
          g_assert_cmpstr (f[C_SEX], ==, "男");
        else if (g_str_equal (relation, "30"))
          g_assert_cmpstr (f[C_SEX], ==, "女");
        else if (g_str_equal (relation, "10"))
          g_assert_cmpstr (f[C_SEX], !=, head->pdata[C_SEX]);
        /* Children and grandchildren younger than the head, parents older. */
        if (g_str_equal (relation, "20") || g_str_equal (relation, "30") || g_str_equal (relation, "40"))
          g_assert_cmpint (strcmp (f[C_BORN], head_born), >, 0);
        else if (g_str_equal (relation, "50"))
          g_assert_cmpint (strcmp (f[C_BORN], head_born), <, 0);
        else
          g_assert_true (g_str_equal (relation, "10") || g_str_equal (relation, "70"));
      }
    }
  sizes[MIN (size, 7)]++;
  g_assert_cmpuint (g_hash_table_size (households), ==, N_HOUSEHOLDS);
  g_assert_cmpuint (sizes[0], ==, 0);
  for (guint s = 1; s <= 7; s++)
    g_test_message ("households of %u: %u", s, sizes[s]);
  /* About four members on average; a mix of categories and phones. */
  g_assert_cmpfloat ((double) rows->len / N_HOUSEHOLDS, >, 3.5);
  g_assert_cmpfloat ((double) rows->len / N_HOUSEHOLDS, <, 4.5);
  g_assert_cmpuint (sizes[1], >, 0);
  g_assert_cmpuint (sizes[7], >, 0);
  g_assert_cmpuint (categories, >, N_HOUSEHOLDS / 10);
  g_assert_cmpuint (categories, <, N_HOUSEHOLDS / 2);
  g_assert_cmpuint (phones, >, N_HOUSEHOLDS / 3);
  g_assert_cmpuint (phones, <, N_HOUSEHOLDS);
}

/* The sync benchmark's households (issue 5: 500 households, 2,500
 * members): five members on average, against four by default, from the
 * same seed; sizes stay 1 to 7. */
static void
test_larger (void)
{
  guint made[2] = { 0, 0 };

  for (guint larger = 0; larger < 2; larger++)
    {
      g_autoptr(HearthDemoGenerator) gen = hearth_demo_generator_new (17, NULL, NULL);
      g_autoptr(GString) csv = g_string_new (NULL);

      hearth_demo_generator_set_larger (gen, larger);
      for (guint i = 0; i < 500; i++)
        {
          guint n = hearth_demo_generator_next (gen, csv);

          g_assert_cmpuint (n, >=, 1);
          g_assert_cmpuint (n, <=, 7);
          made[larger] += n;
        }
    }
  g_test_message ("500 households: %u members by default, %u larger", made[0], made[1]);
  g_assert_cmpuint (made[0], >, 1850);
  g_assert_cmpuint (made[0], <, 2150);
  g_assert_cmpuint (made[1], >, 2350);
  g_assert_cmpuint (made[1], <, 2650);
}

static void
test_import (void)
{
  g_autofree char *dir = test_make_dir ("demo-import");
  g_autofree char *store = g_build_filename (dir, "store", NULL);
  g_autofree char *pass = g_build_filename (dir, "pass", NULL);
  g_auto(TestRun) r = { 0 };
  g_autofree char *expected = NULL;
  g_autofree char *path = NULL;
  guint members = 0;

  path = generate (dir, "registry.csv", "3", NULL, &members);
  g_assert_cmpuint (members, >, N_HOUSEHOLDS * 3);
  g_assert_true (g_file_set_contents (pass, TEST_PASSPHRASE "\n", -1, NULL));
  g_assert_cmpint (g_chmod (pass, 0600), ==, 0);
  test_run_cli (&r, NULL, "--data-dir", store, "--passphrase-file", pass, "init", "--kdf", "test", NULL);
  g_assert_cmpint (r.status, ==, 0);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "--data-dir", store, "--passphrase-file", pass, "household", "import", path, NULL);
  g_assert_cmpint (r.status, ==, 0);
  expected = g_strdup_printf ("Imported %d households with %u members.\n", N_HOUSEHOLDS, members);
  g_assert_cmpstr (r.out, ==, expected);
  test_run_clear (&r);
  /* Found by a generated name. */
  test_run_cli (&r, NULL, "--data-dir", store, "--passphrase-file", pass, "--json", "household", "list", "--village",
                hearth_demo_villages ()[0], NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, hearth_demo_villages ()[0]));
}

static void
test_options (void)
{
  g_autofree char *dir = test_make_dir ("demo-options");
  g_autofree char *path = generate (dir, "other.csv", "5", "150499", NULL);
  g_autoptr(GPtrArray) rows = read_rows (path);
  g_auto(TestRun) r = { 0 };

  /* Another county: the table's township and village numbers under it. */
  for (guint i = 0; i < rows->len; i++)
    {
      const char *const *f = (const char *const *) ((GPtrArray *) rows->pdata[i])->pdata;
      g_autofree char *real = g_strconcat (HEARTH_DEMO_DEFAULT_COUNTY, f[C_VILLAGE] + 6, NULL);

      g_assert_true (g_str_has_prefix (f[C_VILLAGE], "150499"));
      g_assert_true (g_strv_contains (hearth_demo_villages (), real));
      g_assert_true (g_str_has_prefix (f[C_ID], "150499"));
    }

  test_run_cli (&r, NULL, "demo", "generate", "--households", "3", "--county", "15049", "--out", path, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "6 digits"));
  test_run_clear (&r);
  test_run_cli (&r, NULL, "demo", "generate", "--households", "3", NULL);
  g_assert_cmpint (r.status, ==, 2);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "demo", "generate", "--households", "0", "--out", path, NULL);
  g_assert_cmpint (r.status, ==, 2);
  test_run_clear (&r);
  test_run_cli (&r, NULL, "demo", NULL);
  g_assert_cmpint (r.status, ==, 2);
}

static void
test_fill (void)
{
  g_autofree char *dir = test_create_store ("demo-fill", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  g_autofree char *forms = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "schema", "forms", NULL);
  sqlite3 *db = hearth_store_get_db (store);
  HearthDemoFillOptions options = { .households = 40, .visits = 200, .seed = 9, .forms_dir = forms };
  HearthDemoFillResult made = { 0 };
  g_autoptr(GError) error = NULL;
  gint64 checked = 0;

  g_assert_true (hearth_demo_fill_store (store, &options, &made, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (made.households, ==, 40);
  g_assert_cmpuint (made.visits, ==, 200);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM households"), ==, 40);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM members"), ==, made.members);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM submissions WHERE form_id = 'hearth_household_visit'"
                                       " AND risk_level IN ('none', 'yellow', 'orange', 'red')"), ==, 200);
  /* Real visits' shape: each visited household has one open follow-up,
   * due on its last visit's next visit date; risk levels from the form. */
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM tasks WHERE kind = 'follow_up' AND status = 'open'"), ==,
                   test_query_int (db, "SELECT count(DISTINCT household_id) FROM submissions"));
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM households AS h WHERE last_visit_date <> '' AND"
                                       " next_visit_date <> (SELECT due_date FROM tasks WHERE household_id = h.id"
                                       " AND kind = 'follow_up' AND status = 'open')"), ==, 0);
  g_assert_cmpint (test_query_int (db, "SELECT count(DISTINCT risk_level) FROM submissions"), >=, 2);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM reviews"), >, 0);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM households WHERE monitoring_status <> 'none'"), >, 0);
  /* Visits recorded in date order, within the window before the reference date. */
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM submissions WHERE ended_at >= '"
                                       HEARTH_DEMO_REFERENCE_DATE "'"), ==, 0);
  g_assert_true (hearth_audit_verify (db, &checked, &error));
  g_assert_no_error (error);
  g_assert_cmpint (checked, >, 200);
  /* Filled once only. */
  g_assert_false (hearth_demo_fill_store (store, &options, NULL, &error));
  g_assert_error (error, HEARTH_DEMO_ERROR, HEARTH_DEMO_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/demo/generate/deterministic", test_deterministic);
  g_test_add_func ("/demo/generate/rows", test_rows);
  g_test_add_func ("/demo/generate/larger", test_larger);
  g_test_add_func ("/demo/generate/import", test_import);
  g_test_add_func ("/demo/generate/options", test_options);
  g_test_add_func ("/demo/fill", test_fill);
  return g_test_run ();
}

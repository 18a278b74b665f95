/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-util.c: the statistics every benchmark prints. */
#include "bench-util.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdlib.h>

int
bench_compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

double
bench_median (const double *v, guint n)
{
  g_autofree double *s = NULL;

  if (n == 0)
    return 0;
  s = g_memdup2 (v, n * sizeof *v);
  qsort (s, n, sizeof *s, bench_compare_double);
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

double
bench_percentile (const double *v, guint n, guint pct)
{
  g_autofree double *s = NULL;
  guint rank = (guint) ((pct * (guint64) n + 99) / 100);

  if (n == 0)
    return 0;
  s = g_memdup2 (v, n * sizeof *v);
  qsort (s, n, sizeof *s, bench_compare_double);
  return s[MAX (rank, 1) - 1];
}

double
bench_p95 (const double *v, guint n)
{
  return bench_percentile (v, n, 95);
}

void
bench_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        bench_remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

void
bench_exec (sqlite3 *db, const char *sql)
{
  char *msg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-util.c: the statistics every benchmark prints. */
#include "bench-util.h"

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
  g_autofree double *s = g_memdup2 (v, n * sizeof *v);

  qsort (s, n, sizeof *s, bench_compare_double);
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

double
bench_p95 (const double *v, guint n)
{
  g_autofree double *s = g_memdup2 (v, n * sizeof *v);
  guint rank = (guint) ((95 * (guint64) n + 99) / 100);

  qsort (s, n, sizeof *s, bench_compare_double);
  return s[MAX (rank, 1) - 1];
}

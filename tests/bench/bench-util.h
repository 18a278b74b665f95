/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-util.h: the statistics every benchmark prints. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* qsort() order for doubles. */
int bench_compare_double (const void *a, const void *b);

/* The median of @n samples (@v is not changed); 0 when @n is 0. */
double bench_median (const double *v, guint n);

/* The @pct th percentile (1 to 100) of @n samples, by nearest rank: the
 * smallest value at or above @pct % of them (@v is not changed); 0 when
 * @n is 0. */
double bench_percentile (const double *v, guint n, guint pct);

/* bench_percentile (@v, @n, 95). */
double bench_p95 (const double *v, guint n);

/* Removes @path and everything below it (scratch folders). */
void bench_remove_tree (const char *path);

/* Runs @sql on @db; a failure ends the benchmark with the message. */
typedef struct sqlite3 sqlite3;
void bench_exec (sqlite3 *db, const char *sql);

G_END_DECLS

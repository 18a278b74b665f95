/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-util.h: the statistics every benchmark prints. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* qsort() order for doubles. */
int bench_compare_double (const void *a, const void *b);

/* The median of @n samples (@v is not changed). */
double bench_median (const double *v, guint n);

/* The 95th percentile of @n samples, by nearest rank: the smallest value
 * at or above 95 % of them (@v is not changed). */
double bench_p95 (const double *v, guint n);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bench-demo-store.h: the county's worth of households the benchmarks
 * share: the demo generator's store (app/demo-generate.h) for a seed and
 * sizes, made once (an hour for 50,000 households and 500,000 visits) and
 * kept in the bench folder ($HEARTH_BENCH_DIR, else the build's) under a
 * name made of the store version, the seed and the sizes, so that
 * bench-search and bench-app, and a tree pointing HEARTH_BENCH_DIR at
 * another build's folder, open the same one.
 */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

/* The passphrase of every benchmark store (HEARTH_KDF_TEST). */
#define BENCH_DEMO_PASSPHRASE "correct horse battery staple"

/* Returns: (transfer full): the folder of the store for these sizes. */
char *bench_demo_store_dir (guint32 seed, guint households, guint visits);

/**
 * bench_demo_store_open:
 * @forms_dir: the bundled forms (the visits are filled with them)
 *
 * Opens the kept store for these sizes, or makes it (printing progress);
 * a folder without its "complete" mark (an interrupted generation) is
 * made again. Ends the benchmark with the message on any failure.
 *
 * Returns: (transfer full): the open store.
 */
HearthStore *bench_demo_store_open (guint32     seed,
                                    guint       households,
                                    guint       visits,
                                    const char *forms_dir);

G_END_DECLS

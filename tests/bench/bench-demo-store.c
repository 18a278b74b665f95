/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-demo-store.c: the benchmarks' shared demo store (bench-demo-store.h). */
#include "bench-demo-store.h"
#include "bench-util.h"
#include "demo-generate.h"

#include <glib/gstdio.h>
#include <string.h>

#ifndef HEARTH_BENCH_DEFAULT_DIR
#define HEARTH_BENCH_DEFAULT_DIR "bench-scratch"
#endif

/* Bump when the generator or the fill change what a store holds. */
#define STORE_VERSION 1

static void
progress (const char *step, guint done, guint total, gpointer data)
{
  static gint64 last;
  gint64 now = g_get_monotonic_time ();

  if (now - last > 10 * G_USEC_PER_SEC || done == total)
    {
      g_print ("  %s: %u of %u\n", step, done, total);
      last = now;
    }
}

char *
bench_demo_store_dir (guint32 seed, guint households, guint visits)
{
  const char *base = g_getenv ("HEARTH_BENCH_DIR");
  g_autofree char *name = g_strdup_printf ("search-store-v%d-s%u-h%u-v%u", STORE_VERSION, seed, households, visits);

  if (base == NULL)
    base = HEARTH_BENCH_DEFAULT_DIR;
  g_mkdir_with_parents (base, 0700);
  return g_build_filename (base, name, NULL);
}

HearthStore *
bench_demo_store_open (guint32 seed, guint households, guint visits, const char *forms_dir)
{
  g_autofree char *dir = bench_demo_store_dir (seed, households, visits);
  g_autofree char *mark = g_build_filename (dir, "complete", NULL);
  g_autoptr(HearthSecret) pass = hearth_secret_new_from_data (BENCH_DEMO_PASSPHRASE, strlen (BENCH_DEMO_PASSPHRASE));
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  HearthDemoFillOptions fill = {
    .households = households, .visits = visits, .seed = seed, .forms_dir = forms_dir, .progress = progress,
  };
  HearthDemoFillResult made = { 0 };
  HearthStore *store;

  if (g_key_file_load_from_file (kf, mark, G_KEY_FILE_NONE, NULL))
    {
      g_print ("Store: kept in %s (generated in %.0f s: registry import %.0f s, %u visits %.0f s)\n", dir,
               g_key_file_get_double (kf, "made", "import_seconds", NULL) +
               g_key_file_get_double (kf, "made", "visit_seconds", NULL),
               g_key_file_get_double (kf, "made", "import_seconds", NULL),
               (guint) g_key_file_get_integer (kf, "made", "visits", NULL),
               g_key_file_get_double (kf, "made", "visit_seconds", NULL));
      store = hearth_store_open (dir, pass, &error);
      if (store == NULL)
        g_error ("%s", error->message);
      return store;
    }

  bench_remove_tree (dir);   /* an interrupted generation */
  g_print ("Generating the store in %s (seed %u, %u households, %u visits)...\n", dir, seed, households, visits);
  if (!hearth_store_create (dir, pass, HEARTH_KDF_TEST, NULL, &error))
    g_error ("%s", error->message);
  store = hearth_store_open (dir, pass, &error);
  if (store == NULL || !hearth_demo_fill_store (store, &fill, &made, &error))
    g_error ("%s", error->message);
  g_print ("Generated %u households, %u members, %u visits (%u answer sets through the form session, %u reviews)\n"
           "  in %.0f s: registry import %.0f s, visits %.0f s\n",
           made.households, made.members, made.visits, made.answer_sets, made.transitions,
           made.import_seconds + made.visit_seconds, made.import_seconds, made.visit_seconds);
  bench_exec (hearth_store_get_db (store), "PRAGMA wal_checkpoint(TRUNCATE)");
  g_key_file_set_integer (kf, "made", "households", (gint) made.households);
  g_key_file_set_integer (kf, "made", "members", (gint) made.members);
  g_key_file_set_integer (kf, "made", "visits", (gint) made.visits);
  g_key_file_set_double (kf, "made", "import_seconds", made.import_seconds);
  g_key_file_set_double (kf, "made", "visit_seconds", made.visit_seconds);
  if (!g_key_file_save_to_file (kf, mark, &error))
    g_error ("%s", error->message);
  return store;
}

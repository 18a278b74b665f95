/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bench-forms.c: what the forms engine costs (form-model.c, form-session.c).
 *
 * Targets (the issue):
 *
 * - loading the bundled visit form (schema/forms/household-visit.xml, media
 *   folder schema/forms/media) and its first full calculation
 *   (hearth_form_load() then hearth_form_session_new()): at most 50 ms;
 * - the same for ../shared/corpus/xforms/odk-bench9.xml (no media folder):
 *   at most 500 ms; the row is skipped, with a message, when ../shared is
 *   absent;
 * - the recalculation after one answer on a generated form of about 300
 *   binds with a repeat of 150 instances: at most 1 ms, median.
 *
 * Loads are timed --loads times (default 10) and the median is the value
 * compared with the target; p95 is the nearest-rank 95th percentile (with
 * 10 loads, the slowest). The load rows are followed by their two parts
 * and, without a target, the time of hearth_form_session_pages() just
 * after (labels rendered, itemsets filtered).
 *
 * The generated form (written to a file in the scratch folder, below) has:
 * 20 integer inputs, each at the head of a chain of 5 calculates
 * (c_i_0 = x_i + 1, c_i_j = c_i_(j-1) + 1); 20 field-list groups whose
 * relevant reads the end of a chain, each with 7 questions, three of them
 * with a relevant that reads a calculate and one with a required that
 * does; a repeat `members` (jr:template, no jr:count) of name, age (with a
 * constraint), three per-member calculates (adult = if(../age >= 18, 1, 0),
 * senior, age_next) and two questions whose relevant reads the age or a
 * per-member calculate; totals outside the repeat (sum(/data/members/adult),
 * count(/data/members), a mean); and a `free` question nothing reads. The
 * benchmark adds the repeat's --members instances (default 150) with
 * hearth_form_session_add_repeat() and gives each an age, then times
 * setting ONE answer --repeats times (default 200), alternating two values
 * so that the value really changes (and relevance flips):
 *
 *   (a) x_0, the head of a chain;
 *   (b) the age of the middle member of the repeat;
 *   (c) free, an answer nothing depends on.
 *
 * For each it prints the median and p95 and the number of bind
 * expressions evaluated for the answer (the delta of
 * hearth_form_session_get_evaluations(), median over the repetitions):
 * that number shows the incremental dependency graph at work. For
 * comparison it times, in the same run, a full recalculation of the same
 * instance: hearth_form_session_new_from_draft() of the saved draft
 * (the form's load not included), which recalculates every bind; the
 * ratios incremental/full follow the table. After each answer the
 * benchmark checks the values the answer should have changed (an engine
 * that gets them wrong fails the run); times never fail it.
 *
 * It also times, without targets, the setup of the repeat, pages(),
 * validate() and save_draft() on the generated session.
 *
 * Shared two-core machines are noisy: compare medians, and run it again
 * when a p95 looks odd. The generated form goes in a fresh folder under
 * $HEARTH_BENCH_DIR, or under the build directory (not /tmp), removed at
 * exit unless HEARTH_KEEP_BENCH_DIR is set. The source tree is found
 * through $HEARTH_SOURCE_DIR, else the one the build was configured from;
 * the shared corpus through $HEARTH_SHARED_DIR, else SOURCE/../shared.
 *
 *   bench-forms [--repeats=N] [--loads=N] [--members=N] [--verbose]
 *   meson test -C build --benchmark forms      (`meson test` does not run it)
 */
#include "bench-util.h"
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "form-model.h"
#include "form-session.h"

#ifndef HEARTH_BENCH_DEFAULT_DIR
#define HEARTH_BENCH_DEFAULT_DIR "bench-scratch"
#endif
#ifndef HEARTH_BENCH_SOURCE_DIR
#define HEARTH_BENCH_SOURCE_DIR "."
#endif

/* Targets, in milliseconds. */
#define TARGET_VISIT_MS 50.0
#define TARGET_BENCH9_MS 500.0
#define TARGET_ANSWER_MS 1.0

#define NOW "2026-03-05T10:00:00+08:00"
#define INSTANCE_ID "uuid:00000000-0000-4000-8000-000000000000"

/* The generated form. */
#define N_CHAINS 20
#define CHAIN_LEN 5
#define QUESTIONS_PER_GROUP 7

static char *bench_dir;
static gboolean verbose;
static guint n_wrong;

static void
remove_bench_dir (void)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (bench_dir == NULL || g_getenv ("HEARTH_KEEP_BENCH_DIR") != NULL)
    return;
  dir = g_dir_open (bench_dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (bench_dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (bench_dir);
  g_clear_pointer (&bench_dir, g_free);
}

/* ---- statistics --------------------------------------------------------- */

static double
ms_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / 1000.0;
}

/* ---- the table ---------------------------------------------------------- */

static void
print_header (void)
{
  g_print ("\n  %-50s %10s %10s %8s %8s %s\n", "measurement", "median ms", "p95 ms", "evals",
           "target", "within");
}

/* One row: @ms holds @n samples in milliseconds; @evals < 0 prints "-";
 * @target_ms <= 0: no target. */
static void
print_row (const char *name, const double *ms, guint n, double evals, double target_ms)
{
  double med = bench_median (ms, n);
  char evals_s[24] = "-", target_s[16] = "-";
  const char *within = "";

  if (evals >= 0)
    g_snprintf (evals_s, sizeof evals_s, "%.0f", evals);
  if (target_ms > 0)
    {
      g_snprintf (target_s, sizeof target_s, "<=%g", target_ms);
      within = med <= target_ms ? "yes" : "NO";
    }
  g_print ("  %-50s %10.3f %10.3f %8s %8s %s\n", name, med, bench_p95 (ms, n), evals_s, target_s, within);
  if (verbose)
    {
      g_print ("    ms:");
      for (guint i = 0; i < n; i++)
        g_print (" %.3f", ms[i]);
      g_print ("\n");
    }
}

/* ---- checks ------------------------------------------------------------- */

static void
expect_value (HearthFormSession *s, const char *path, const char *want, const char *when)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *got = hearth_form_session_get_value (s, path, &error);

  if (got == NULL)
    g_error ("%s: %s", path, error->message);
  if (!g_str_equal (got, want))
    {
      if (n_wrong++ < 10)
        g_printerr ("WRONG after %s: %s is \"%s\", expected \"%s\"\n", when, path, got, want);
    }
}

static void
expect_relevant (HearthFormSession *s, const char *path, gboolean want, const char *when)
{
  if (hearth_form_session_is_relevant (s, path) != want)
    {
      if (n_wrong++ < 10)
        g_printerr ("WRONG after %s: %s is %srelevant, expected %srelevant\n", when, path,
                    want ? "not " : "", want ? "" : "not ");
    }
}

static void
set_value (HearthFormSession *s, const char *path, const char *value)
{
  g_autoptr(GError) error = NULL;

  if (!hearth_form_session_set_value (s, path, value, &error))
    g_error ("set %s = %s: %s", path, value, error->message);
}

/* ---- loads -------------------------------------------------------------- */

static HearthForm *
load_form (const char *path, const char *media)
{
  g_autoptr(GError) error = NULL;
  HearthForm *form = hearth_form_load (path, media, &error);

  if (form == NULL)
    g_error ("%s", error->message);
  return form;
}

static HearthFormSession *
new_session (HearthForm *form)
{
  HearthFormSessionOptions options = { .now = NOW, .instance_id = INSTANCE_ID };
  g_autoptr(GError) error = NULL;
  HearthFormSession *s = hearth_form_session_new (form, &options, &error);

  if (s == NULL)
    g_error ("%s", error->message);
  return s;
}

/* Times @loads loads and first calculations of @path; prints the row
 * against @target_ms and its two parts. */
static void
run_load (const char *label, const char *path, const char *media, guint loads, double target_ms)
{
  g_autofree double *total = g_new (double, loads);
  g_autofree double *load = g_new (double, loads);
  g_autofree double *calc = g_new (double, loads);
  g_autofree char *row = NULL;
  g_autofree char *row_load = NULL;
  g_autofree char *row_calc = NULL;
  g_autoptr(HearthFormSession) last = NULL;
  double evals = 0;
  guint binds = 0, controls = 0, n_pages = 0;

  for (guint i = 0; i < loads; i++)
    {
      HearthForm *form;
      gint64 t0 = g_get_monotonic_time (), t1;

      g_clear_object (&last);
      form = load_form (path, media);
      t1 = g_get_monotonic_time ();
      binds = form->binds->len;
      controls = form->n_controls;
      last = new_session (form);
      total[i] = ms_since (t0);
      load[i] = (t1 - t0) / 1000.0;
      calc[i] = total[i] - load[i];
      evals = (double) hearth_form_session_get_evaluations (last);
    }
  row = g_strdup_printf ("%s: load + first calculation", label);
  row_load = g_strdup_printf ("  of which hearth_form_load (%u binds, %u controls)", binds, controls);
  row_calc = g_strdup ("  of which hearth_form_session_new");
  print_row (row, total, loads, evals, target_ms);
  print_row (row_load, load, loads, -1, 0);
  print_row (row_calc, calc, loads, evals, 0);

  /* Not a target: the pages as they are then (labels, itemsets). */
  for (guint i = 0; i < loads; i++)
    {
      g_autoptr(GPtrArray) pages = NULL;
      gint64 t0 = g_get_monotonic_time ();

      pages = hearth_form_session_pages (last);
      calc[i] = ms_since (t0);
      n_pages = pages->len;
    }
  g_free (row_calc);
  row_calc = g_strdup_printf ("  then pages() (%u pages)", n_pages);
  print_row (row_calc, calc, loads, -1, 0);
}

/* ---- the generated form --------------------------------------------------- */

static char *
generate_form (guint *n_binds)
{
  GString *x = g_string_new (NULL);
  guint binds = 0;

#define BIND(...) (g_string_append_printf (x, __VA_ARGS__), binds++)

  g_string_append (x,
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<h:html xmlns=\"http://www.w3.org/2002/xforms\" xmlns:h=\"http://www.w3.org/1999/xhtml\"\n"
    "        xmlns:jr=\"http://openrosa.org/javarosa\" xmlns:orx=\"http://openrosa.org/xforms\"\n"
    "        xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\n"
    "<h:head>\n<h:title>Generated benchmark form</h:title>\n<model>\n<instance>\n"
    "<data id=\"bench_generated\" version=\"1\">\n<inputs>");
  for (guint i = 0; i < N_CHAINS; i++)
    g_string_append_printf (x, "<x_%u/>", i);
  g_string_append (x, "</inputs>\n<free/>\n<calcs>");
  for (guint i = 0; i < N_CHAINS; i++)
    for (guint j = 0; j < CHAIN_LEN; j++)
      g_string_append_printf (x, "<c_%u_%u/>", i, j);
  g_string_append (x, "</calcs>\n<show>");
  for (guint i = 0; i < N_CHAINS; i++)
    {
      g_string_append_printf (x, "<g_%u>", i);
      for (guint k = 0; k < QUESTIONS_PER_GROUP; k++)
        g_string_append_printf (x, "<q_%u_%u/>", i, k);
      g_string_append_printf (x, "</g_%u>", i);
    }
  g_string_append (x,
    "</show>\n"
    "<members jr:template=\"\"><name/><age/><adult/><senior/><age_next/><occupation/><pension/></members>\n"
    "<totals><adults/><seniors/><n_members/><total_age/><mean_age/></totals>\n"
    "<meta><instanceID/></meta>\n"
    "</data>\n</instance>\n");

  for (guint i = 0; i < N_CHAINS; i++)
    BIND ("<bind nodeset=\"/data/inputs/x_%u\" type=\"int\"/>\n", i);
  BIND ("<bind nodeset=\"/data/free\" type=\"string\"/>\n");
  for (guint i = 0; i < N_CHAINS; i++)
    for (guint j = 0; j < CHAIN_LEN; j++)
      if (j == 0)
        BIND ("<bind nodeset=\"/data/calcs/c_%u_0\" type=\"int\" calculate=\"/data/inputs/x_%u + 1\"/>\n", i, i);
      else
        BIND ("<bind nodeset=\"/data/calcs/c_%u_%u\" type=\"int\" calculate=\"../c_%u_%u + 1\"/>\n", i, j, i, j - 1);
  for (guint i = 0; i < N_CHAINS; i++)
    {
      BIND ("<bind nodeset=\"/data/show/g_%u\" relevant=\"/data/calcs/c_%u_%u &gt; 10\"/>\n", i, i, CHAIN_LEN - 1);
      for (guint k = 0; k < QUESTIONS_PER_GROUP; k++)
        {
          g_string_append_printf (x, "<bind nodeset=\"/data/show/g_%u/q_%u_%u\" type=\"%s\"", i, i, k,
                                  k % 2 ? "int" : "string");
          if (k % 2)  /* 1, 3, 5: relevant on a calculate of the chain */
            g_string_append_printf (x, " relevant=\"/data/calcs/c_%u_%u mod 2 = 0\"", i, k % CHAIN_LEN);
          if (k == 2)
            g_string_append_printf (x, " required=\"/data/calcs/c_%u_%u &gt; 30\"", i, CHAIN_LEN - 1);
          BIND ("/>\n");
        }
    }
  BIND ("<bind nodeset=\"/data/members/name\" type=\"string\"/>\n");
  BIND ("<bind nodeset=\"/data/members/age\" type=\"int\" constraint=\". &gt;= 0 and . &lt; 130\"/>\n");
  BIND ("<bind nodeset=\"/data/members/adult\" type=\"int\" calculate=\"if(../age &gt;= 18, 1, 0)\"/>\n");
  BIND ("<bind nodeset=\"/data/members/senior\" type=\"int\" calculate=\"if(../age &gt;= 60, 1, 0)\"/>\n");
  BIND ("<bind nodeset=\"/data/members/age_next\" type=\"int\" calculate=\"if(../age = '', '', ../age + 1)\"/>\n");
  BIND ("<bind nodeset=\"/data/members/occupation\" type=\"string\" relevant=\"../age &gt;= 15\"/>\n");
  BIND ("<bind nodeset=\"/data/members/pension\" type=\"string\" relevant=\"../senior = 1\"/>\n");
  BIND ("<bind nodeset=\"/data/totals/adults\" type=\"int\" calculate=\"sum(/data/members/adult)\"/>\n");
  BIND ("<bind nodeset=\"/data/totals/seniors\" type=\"int\" calculate=\"sum(/data/members/senior)\"/>\n");
  BIND ("<bind nodeset=\"/data/totals/n_members\" type=\"int\" calculate=\"count(/data/members)\"/>\n");
  BIND ("<bind nodeset=\"/data/totals/total_age\" type=\"int\" calculate=\"sum(/data/members/age)\"/>\n");
  BIND ("<bind nodeset=\"/data/totals/mean_age\" type=\"decimal\""
        " calculate=\"if(../n_members &gt; 0, ../total_age div ../n_members, 0)\"/>\n");
  BIND ("<bind nodeset=\"/data/meta/instanceID\" type=\"string\" readonly=\"true()\" jr:preload=\"uid\"/>\n");
  g_string_append (x, "</model>\n</h:head>\n<h:body>\n");

  for (guint i = 0; i < N_CHAINS; i++)
    g_string_append_printf (x, "<input ref=\"/data/inputs/x_%u\"><label>x %u</label></input>\n", i, i);
  g_string_append (x, "<input ref=\"/data/free\"><label>Free text</label></input>\n");
  for (guint i = 0; i < N_CHAINS; i++)
    {
      g_string_append_printf (x, "<group ref=\"/data/show/g_%u\" appearance=\"field-list\"><label>Group %u</label>\n",
                              i, i);
      for (guint k = 0; k < QUESTIONS_PER_GROUP; k++)
        g_string_append_printf (x, "<input ref=\"/data/show/g_%u/q_%u_%u\"><label>Question %u.%u</label></input>\n",
                                i, i, k, i, k);
      g_string_append (x, "</group>\n");
    }
  g_string_append (x,
    "<group ref=\"/data/members\"><label>Members</label>\n"
    "<repeat nodeset=\"/data/members\">\n"
    "<input ref=\"/data/members/name\"><label>Name</label></input>\n"
    "<input ref=\"/data/members/age\"><label>Age</label></input>\n"
    "<input ref=\"/data/members/occupation\"><label>Occupation</label></input>\n"
    "<input ref=\"/data/members/pension\"><label>Pension</label></input>\n"
    "</repeat>\n</group>\n"
    "</h:body>\n</h:html>\n");
#undef BIND
  *n_binds = binds;
  return g_string_free (x, FALSE);
}

/* Times setting @path to @values[0] and @values[1] in turn, @repeats times
 * in all; after each, @check verifies what the answer should have changed. */
typedef void (*CheckFunc) (HearthFormSession *s, guint which);

static void
time_answer (HearthFormSession *s, const char *path, const char *const values[2], guint repeats,
             CheckFunc check, double *ms, double *evals)
{
  for (guint r = 0; r < repeats; r++)
    {
      guint64 e0 = hearth_form_session_get_evaluations (s);
      gint64 t0 = g_get_monotonic_time ();

      set_value (s, path, values[r % 2]);
      ms[r] = ms_since (t0);
      evals[r] = (double) (hearth_form_session_get_evaluations (s) - e0);
      if (check != NULL)
        check (s, r % 2);
    }
}

static guint n_members;
static guint middle;       /* the member whose age (b) changes, from 1 */
static guint other_adults; /* adults among the other members */
static guint other_seniors;
static guint other_age;    /* total age of the other members */

static const char *const chain_values[2] = { "40", "3" };
static const char *const age_values[2] = { "70", "10" };
static const char *const free_values[2] = { "alpha", "beta" };

static guint
member_age (guint i)
{
  return (i * 7) % 90;  /* members 1 to N: 7, 14, …, 0 to 89 */
}

static void
check_chain (HearthFormSession *s, guint which)
{
  int x = atoi (chain_values[which]);
  g_autofree char *end = g_strdup_printf ("%d", x + CHAIN_LEN);

  expect_value (s, "/data/calcs/c_0_4", end, "the chain head");
  expect_relevant (s, "/data/show/g_0", x + CHAIN_LEN > 10, "the chain head");
  expect_relevant (s, "/data/show/g_0/q_0_1", (x + 2) % 2 == 0, "the chain head");
}

static void
check_age (HearthFormSession *s, guint which)
{
  guint age = (guint) atoi (age_values[which]);
  g_autofree char *path = g_strdup_printf ("/data/members[%u]/adult", middle);
  g_autofree char *occupation = g_strdup_printf ("/data/members[%u]/occupation", middle);
  g_autofree char *pension = g_strdup_printf ("/data/members[%u]/pension", middle);
  g_autofree char *adults = g_strdup_printf ("%u", other_adults + (age >= 18));
  g_autofree char *seniors = g_strdup_printf ("%u", other_seniors + (age >= 60));
  g_autofree char *total = g_strdup_printf ("%u", other_age + age);

  expect_value (s, path, age >= 18 ? "1" : "0", "a member's age");
  expect_value (s, "/data/totals/adults", adults, "a member's age");
  expect_value (s, "/data/totals/seniors", seniors, "a member's age");
  expect_value (s, "/data/totals/total_age", total, "a member's age");
  expect_relevant (s, occupation, age >= 15, "a member's age");
  expect_relevant (s, pension, age >= 60, "a member's age");
}

static void
check_free (HearthFormSession *s, guint which)
{
  expect_value (s, "/data/free", free_values[which], "the free answer");
}

static void
run_generated (guint repeats, guint loads)
{
  g_autoptr(GError) error = NULL;
  guint n_binds = 0;
  g_autofree char *xml = generate_form (&n_binds);
  g_autofree char *path = g_build_filename (bench_dir, "generated.xml", NULL);
  g_autoptr(HearthFormSession) s = NULL;
  g_autofree char *draft = NULL;
  g_autofree double *ms = g_new (double, MAX (repeats, loads));
  g_autofree double *ev = g_new (double, MAX (repeats, loads));
  double setup_ms[1], full_ms, full_evals, inc_ms[3], inc_evals[3];
  guint64 e0, setup_evals;
  guint n_calc_member = 3, n_relevant_member = 2, n_pages = 0;
  gint64 t0;

  if (!g_file_set_contents (path, xml, -1, &error))
    g_error ("%s", error->message);

  g_print ("\nGenerated form, %s\n%u binds: %u inputs at the head of %u chains of %u calculates,\n"
           "%u field-list groups with a relevant on a chain's end, %u questions each (3 with a relevant\n"
           "on a calculate, 1 with a required), a repeat of %u binds (%u calculates and %u relevants per\n"
           "instance) with %u instances, 5 totals over it, 1 answer nothing reads, meta/instanceID.\n",
           path, n_binds, N_CHAINS, N_CHAINS, CHAIN_LEN, N_CHAINS, QUESTIONS_PER_GROUP, 7, n_calc_member,
           n_relevant_member, n_members);

  /* The session: members added one at a time, each given an age. */
  t0 = g_get_monotonic_time ();
  s = new_session (load_form (path, NULL));
  e0 = hearth_form_session_get_evaluations (s);
  other_adults = other_seniors = other_age = 0;
  for (guint i = 1; i <= n_members; i++)
    {
      g_autofree char *age_path = g_strdup_printf ("/data/members[%u]/age", i);
      g_autofree char *age = g_strdup_printf ("%u", member_age (i));
      guint index = 0;

      if (!hearth_form_session_add_repeat (s, "/data/members", &index, &error))
        g_error ("add_repeat: %s", error->message);
      if (index != i)
        g_error ("add_repeat: index %u, expected %u", index, i);
      set_value (s, age_path, age);
      if (i != middle)
        {
          other_adults += member_age (i) >= 18;
          other_seniors += member_age (i) >= 60;
          other_age += member_age (i);
        }
    }
  setup_ms[0] = ms_since (t0);
  setup_evals = hearth_form_session_get_evaluations (s) - e0;
  for (guint i = 0; i < N_CHAINS; i++)
    {
      g_autofree char *xp = g_strdup_printf ("/data/inputs/x_%u", i);
      set_value (s, xp, "1");
    }

  print_header ();
  {
    g_autofree char *row = g_strdup_printf ("setup: new session, %u x (add_repeat + age)", n_members);
    print_row (row, setup_ms, 1, (double) setup_evals, 0);
  }

  time_answer (s, "/data/inputs/x_0", chain_values, repeats, check_chain, ms, ev);
  inc_ms[0] = bench_median (ms, repeats);
  inc_evals[0] = bench_median (ev, repeats);
  print_row ("(a) one answer: head of a chain (x_0)", ms, repeats, inc_evals[0], TARGET_ANSWER_MS);

  {
    g_autofree char *age_path = g_strdup_printf ("/data/members[%u]/age", middle);
    g_autofree char *row = g_strdup_printf ("(b) one answer: members[%u]/age of %u", middle, n_members);

    time_answer (s, age_path, age_values, repeats, check_age, ms, ev);
    inc_ms[1] = bench_median (ms, repeats);
    inc_evals[1] = bench_median (ev, repeats);
    print_row (row, ms, repeats, inc_evals[1], TARGET_ANSWER_MS);
  }

  time_answer (s, "/data/free", free_values, repeats, check_free, ms, ev);
  inc_ms[2] = bench_median (ms, repeats);
  inc_evals[2] = bench_median (ev, repeats);
  print_row ("(c) one answer nothing reads (free)", ms, repeats, inc_evals[2], TARGET_ANSWER_MS);

  /* The full recalculation: the same instance resumed from its draft. */
  draft = hearth_form_session_save_draft (s);
  for (guint i = 0; i < loads; i++)
    {
      g_autoptr(HearthFormSession) again = NULL;
      HearthForm *form = load_form (path, NULL);

      t0 = g_get_monotonic_time ();
      again = hearth_form_session_new_from_draft (form, draft, -1, FALSE, NULL, &error);
      ms[i] = ms_since (t0);
      if (again == NULL)
        g_error ("new_from_draft: %s", error->message);
      ev[i] = (double) hearth_form_session_get_evaluations (again);
      if (i == 0)
        {
          g_autofree char *adults = g_strdup_printf ("%u", other_adults + (atoi (age_values[(repeats - 1) % 2]) >= 18));
          expect_value (again, "/data/totals/adults", adults, "resuming the draft");
        }
    }
  full_ms = bench_median (ms, loads);
  full_evals = bench_median (ev, loads);
  print_row ("full recalculation: new_from_draft (no load)", ms, loads, full_evals, 0);

  /* The rest of a page turn, without targets. */
  for (guint i = 0; i < loads; i++)
    {
      g_autoptr(GPtrArray) pages = NULL;

      t0 = g_get_monotonic_time ();
      pages = hearth_form_session_pages (s);
      ms[i] = ms_since (t0);
      n_pages = pages->len;
    }
  {
    g_autofree char *row = g_strdup_printf ("pages() (%u pages)", n_pages);
    print_row (row, ms, loads, -1, 0);
  }
  for (guint i = 0; i < loads; i++)
    {
      g_autoptr(GPtrArray) issues = NULL;

      e0 = hearth_form_session_get_evaluations (s);
      t0 = g_get_monotonic_time ();
      issues = hearth_form_session_validate (s, NULL);
      ms[i] = ms_since (t0);
      ev[i] = (double) (hearth_form_session_get_evaluations (s) - e0);
    }
  print_row ("validate(NULL)", ms, loads, bench_median (ev, loads), 0);
  for (guint i = 0; i < loads; i++)
    {
      g_autofree char *d = NULL;

      t0 = g_get_monotonic_time ();
      d = hearth_form_session_save_draft (s);
      ms[i] = ms_since (t0);
    }
  print_row ("save_draft()", ms, loads, -1, 0);

  g_print ("\nIncremental against full recalculation (%.3f ms, %.0f evaluations):\n", full_ms, full_evals);
  {
    const char *names[3] = { "(a) chain head", "(b) member's age", "(c) free answer" };

    for (guint i = 0; i < 3; i++)
      g_print ("  %-18s time %6.1f %%   evaluations %6.1f %%  (%.0f of %.0f)\n", names[i],
               100 * inc_ms[i] / MAX (full_ms, 1e-9), 100 * inc_evals[i] / MAX (full_evals, 1), inc_evals[i],
               full_evals);
  }
  g_print ("  (b) needs at most %u evaluations in the member (its %u calculates and %u relevants) and 4\n"
           "  totals; every evaluation beyond that is the engine recomputing the same binds in the\n"
           "  other %u instances: %.0f evaluations = %.1f per instance.\n",
           n_calc_member + n_relevant_member, n_calc_member, n_relevant_member, n_members - 1,
           inc_evals[1], inc_evals[1] / MAX (n_members, 1));
}

/* ---- main --------------------------------------------------------------- */

int
main (int argc, char **argv)
{
  int repeats = 200, loads = 10, members = 150;
  GOptionEntry entries[] = {
    { "repeats", 'r', 0, G_OPTION_ARG_INT, &repeats, "Answers timed per measurement (default 200)", "N" },
    { "loads", 'l', 0, G_OPTION_ARG_INT, &loads, "Loads timed per form (default 10)", "N" },
    { "members", 'm', 0, G_OPTION_ARG_INT, &members, "Instances of the generated repeat (default 150)", "N" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Also print every sample", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- the forms engine's load and recalculation times");
  g_autoptr(GError) error = NULL;
  g_autofree char *source = NULL;
  g_autofree char *shared = NULL;
  g_autofree char *visit = NULL;
  g_autofree char *media = NULL;
  g_autofree char *bench9 = NULL;
  g_autofree char *parent = NULL;
  g_autofree char *tmpl = NULL;
  const char *env;
  gint64 start = g_get_monotonic_time ();

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  repeats = MAX (repeats, 2);
  loads = MAX (loads, 1);
  n_members = (guint) CLAMP (members, 1, HEARTH_FORM_MAX_REPEATS);
  middle = (n_members + 1) / 2;

  env = g_getenv ("HEARTH_SOURCE_DIR");
  source = g_strdup (env != NULL && *env != '\0' ? env : HEARTH_BENCH_SOURCE_DIR);
  env = g_getenv ("HEARTH_SHARED_DIR");
  shared = env != NULL && *env != '\0' ? g_strdup (env) : g_build_filename (source, "..", "shared", NULL);
  visit = g_build_filename (source, "schema", "forms", "household-visit.xml", NULL);
  media = g_build_filename (source, "schema", "forms", "media", NULL);
  bench9 = g_build_filename (shared, "corpus", "xforms", "odk-bench9.xml", NULL);
  if (!g_file_test (visit, G_FILE_TEST_IS_REGULAR))
    {
      g_printerr ("%s not found: set HEARTH_SOURCE_DIR to the source tree\n", visit);
      return 2;
    }

  env = g_getenv ("HEARTH_BENCH_DIR");
  parent = g_strdup (env != NULL && *env != '\0' ? env : HEARTH_BENCH_DEFAULT_DIR);
  if (g_mkdir_with_parents (parent, 0700) != 0)
    g_error ("cannot create %s", parent);
  tmpl = g_build_filename (parent, "bench-forms-XXXXXX", NULL);
  bench_dir = g_mkdtemp (g_strdup (tmpl));
  if (bench_dir == NULL)
    g_error ("cannot create a folder in %s", parent);
  atexit (remove_bench_dir);

  g_print ("Hearth forms benchmark: load and first calculation, and the recalculation after one answer\n");
  g_print ("GLib %u.%u.%u, %u CPUs; %d loads per form, %d answers per measurement; times are wall clock\n"
           "(g_get_monotonic_time); p95 is the nearest-rank 95th percentile; evals = bind expressions\n"
           "evaluated (hearth_form_session_get_evaluations(), median). Benchmarks print, never fail on time.\n",
           glib_major_version, glib_minor_version, glib_micro_version, g_get_num_processors (), loads, repeats);

  print_header ();
  run_load ("household-visit.xml", visit, media, (guint) loads, TARGET_VISIT_MS);
  if (g_file_test (bench9, G_FILE_TEST_IS_REGULAR))
    run_load ("odk-bench9.xml", bench9, NULL, (guint) loads, TARGET_BENCH9_MS);
  else
    g_print ("  %-50s skipped: %s not found (set HEARTH_SHARED_DIR)\n", "odk-bench9.xml", bench9);

  run_generated ((guint) repeats, (guint) loads);

  g_print ("\nTotal time %.1f s\n", (g_get_monotonic_time () - start) / 1e6);
  if (n_wrong > 0)
    {
      g_printerr ("%u wrong values or relevance after answers: the engine computed something wrong\n", n_wrong);
      return 1;
    }
  return 0;
}

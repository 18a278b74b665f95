/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-merge.c: the merge rules of sync/PROTOCOL.md section 6.3. Sequential
 * edits never conflict; concurrent ones keep every losing value as a
 * conflict named alike on every replica; a resolution closes them; the
 * result does not depend on delivery order or duplicates; clock clamping.
 * The property test runs 5 replicas through 200 random rounds of edits and
 * partial exchanges, then a full exchange, and checks they converge with
 * no edit lost. It prints its seed; HEARTH_TEST_SEED=N replays one.
 */
#include "test-util.h"
#include "merge.h"

#include <string.h>

typedef struct {
  char *hlc;
  GPtrArray *parents;   /* char * */
  char *value;
  guint author;
} Edit;

static void
edit_free (Edit *e)
{
  g_free (e->hlc);
  g_ptr_array_unref (e->parents);
  g_free (e->value);
  g_free (e);
}

typedef struct {
  guint index;
  HearthHlcClock *clock;
  gint64 wall;
  GHashTable *edits;   /* hlc → Edit *, borrowed from the world */
} Replica;

typedef struct {
  GPtrArray *all;      /* Edit *, owned */
  Replica replicas[8];
  guint n;
} World;

static gint64
replica_wall (gpointer data)
{
  return ((Replica *) data)->wall;
}

static void
world_init (World *w, guint n)
{
  w->all = g_ptr_array_new_with_free_func ((GDestroyNotify) edit_free);
  w->n = n;
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *device = g_strdup_printf ("device-%u", i);
      Replica *r = &w->replicas[i];

      r->index = i;
      r->clock = hearth_hlc_clock_new (device, NULL, NULL);
      r->wall = 1764460800000;
      hearth_hlc_clock_set_wall (r->clock, replica_wall, r);
      r->edits = g_hash_table_new (g_str_hash, g_str_equal);
    }
}

static void
world_clear (World *w)
{
  for (guint i = 0; i < w->n; i++)
    {
      hearth_hlc_clock_free (w->replicas[i].clock);
      g_hash_table_unref (w->replicas[i].edits);
    }
  g_ptr_array_unref (w->all);
}

/* The replica's edits as the merge functions take them. */
static GArray *
as_field_edits (Replica *r)
{
  GArray *out = g_array_new (FALSE, TRUE, sizeof (HearthFieldEdit));
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, r->edits);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Edit *e = value;
      HearthFieldEdit fe = { e->hlc, (const char *const *) e->parents->pdata, e->parents->len, e->value };
      g_array_append_val (out, fe);
    }
  return out;
}

static void
merge_replica (Replica *r, GArray **storage, HearthFieldMerge *out)
{
  g_autoptr(GError) error = NULL;

  *storage = as_field_edits (r);
  g_assert_true (hearth_merge_field ((HearthFieldEdit *) (*storage)->data, (*storage)->len, out, &error));
  g_assert_no_error (error);
}

/* An edit at replica @r: parents are its winner (a plain edit) or every
 * head (a clerk's resolution). */
static Edit *
replica_edit (World *w, Replica *r, const char *value, gboolean resolve)
{
  g_autoptr(GArray) storage = NULL;
  HearthFieldMerge m;
  HearthHlc t;
  Edit *e = g_new0 (Edit, 1);

  merge_replica (r, &storage, &m);
  hearth_hlc_clock_now (r->clock, &t);
  e->hlc = hearth_hlc_to_string (&t);
  e->parents = g_ptr_array_new_with_free_func (g_free);
  if (m.winner != NULL)
    g_ptr_array_add (e->parents, g_strdup (m.winner->hlc));
  if (resolve)
    for (guint i = 0; i < m.losers->len; i++)
      g_ptr_array_add (e->parents, g_strdup (((HearthFieldEdit *) m.losers->pdata[i])->hlc));
  e->value = g_strdup (value);
  e->author = r->index;
  g_ptr_array_unref (m.losers);
  g_ptr_array_add (w->all, e);
  g_hash_table_insert (r->edits, e->hlc, e);
  return e;
}

static void
deliver (Replica *to, Edit *e)
{
  HearthHlc t;

  g_assert_true (hearth_hlc_parse (e->hlc, &t, NULL));
  g_assert_true (hearth_hlc_clock_receive (to->clock, &t, 0, NULL, NULL));
  g_hash_table_insert (to->edits, e->hlc, e);
}

static void
exchange_all (World *w, Replica *from, Replica *to)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, from->edits);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    deliver (to, value);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* "winner-hlc=value|conflict-id,…": the whole merged state as text. */
static char *
replica_state (Replica *r)
{
  g_autoptr(GArray) storage = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  HearthFieldMerge m;
  GString *s = g_string_new (NULL);

  merge_replica (r, &storage, &m);
  if (m.winner != NULL)
    g_string_append_printf (s, "%s=%s|", m.winner->hlc, m.winner->value);
  for (guint i = 0; i < m.losers->len; i++)
    g_ptr_array_add (ids, hearth_merge_conflict_id ("households", "h1", "phone", m.winner->hlc,
                                                    ((HearthFieldEdit *) m.losers->pdata[i])->hlc));
  g_ptr_array_sort (ids, compare_strings);
  for (guint i = 0; i < ids->len; i++)
    g_string_append_printf (s, "%s,", (char *) ids->pdata[i]);
  g_ptr_array_unref (m.losers);
  return g_string_free (s, FALSE);
}

static void
test_sequential (void)
{
  World w;
  g_autoptr(GArray) storage = NULL;
  HearthFieldMerge m;

  world_init (&w, 2);
  replica_edit (&w, &w.replicas[0], "1380000", FALSE);
  exchange_all (&w, &w.replicas[0], &w.replicas[1]);
  w.replicas[1].wall -= 3600 * 1000;   /* even with a clock an hour slow */
  replica_edit (&w, &w.replicas[1], "1390000", FALSE);
  exchange_all (&w, &w.replicas[1], &w.replicas[0]);
  replica_edit (&w, &w.replicas[0], "1370000", FALSE);
  exchange_all (&w, &w.replicas[0], &w.replicas[1]);

  merge_replica (&w.replicas[1], &storage, &m);
  g_assert_cmpstr (m.winner->value, ==, "1370000");
  g_assert_cmpuint (m.losers->len, ==, 0);
  g_ptr_array_unref (m.losers);
  world_clear (&w);
}

static void
test_concurrent (void)
{
  World w;
  g_autoptr(GArray) s0 = NULL;
  g_autoptr(GArray) s1 = NULL;
  HearthFieldMerge m0, m1;
  Edit *a, *b;
  g_autofree char *id0 = NULL;
  g_autofree char *id1 = NULL;

  world_init (&w, 2);
  replica_edit (&w, &w.replicas[0], "old", FALSE);
  exchange_all (&w, &w.replicas[0], &w.replicas[1]);
  /* Offline, both change the field; replica 1's clock is a day fast. */
  w.replicas[1].wall += 24 * 3600 * 1000;
  a = replica_edit (&w, &w.replicas[0], "from-0", FALSE);
  b = replica_edit (&w, &w.replicas[1], "from-1", FALSE);
  exchange_all (&w, &w.replicas[0], &w.replicas[1]);
  exchange_all (&w, &w.replicas[1], &w.replicas[0]);

  merge_replica (&w.replicas[0], &s0, &m0);
  merge_replica (&w.replicas[1], &s1, &m1);
  g_assert_cmpstr (m0.winner->value, ==, "from-1");    /* the higher version */
  g_assert_cmpstr (m1.winner->value, ==, "from-1");
  g_assert_cmpuint (m0.losers->len, ==, 1);
  g_assert_cmpstr (((HearthFieldEdit *) m0.losers->pdata[0])->value, ==, "from-0");
  id0 = hearth_merge_conflict_id ("households", "h1", "phone", m0.winner->hlc,
                                  ((HearthFieldEdit *) m0.losers->pdata[0])->hlc);
  id1 = hearth_merge_conflict_id ("households", "h1", "phone", m1.winner->hlc,
                                  ((HearthFieldEdit *) m1.losers->pdata[0])->hlc);
  g_assert_cmpstr (id0, ==, id1);
  g_assert_cmpstr (m0.winner->hlc, ==, b->hlc);
  g_assert_cmpstr (((HearthFieldEdit *) m0.losers->pdata[0])->hlc, ==, a->hlc);
  g_ptr_array_unref (m0.losers);
  g_ptr_array_unref (m1.losers);

  /* A plain edit keeps the conflict open; a resolution closes it. */
  replica_edit (&w, &w.replicas[0], "plain", FALSE);
  {
    g_autoptr(GArray) s = NULL;
    HearthFieldMerge m;
    merge_replica (&w.replicas[0], &s, &m);
    g_assert_cmpstr (m.winner->value, ==, "plain");
    g_assert_cmpuint (m.losers->len, ==, 1);
    g_ptr_array_unref (m.losers);
  }
  replica_edit (&w, &w.replicas[0], "from-0", TRUE);
  {
    g_autoptr(GArray) s = NULL;
    HearthFieldMerge m;
    merge_replica (&w.replicas[0], &s, &m);
    g_assert_cmpstr (m.winner->value, ==, "from-0");
    g_assert_cmpuint (m.losers->len, ==, 0);
    g_ptr_array_unref (m.losers);
  }
  world_clear (&w);
}

/* Every delivery order of five edits (two of them concurrent) gives one
 * state. */
static void
test_any_order (void)
{
  World w;
  Edit *edits[5];
  g_autofree char *expected = NULL;
  guint perm[5] = { 0, 1, 2, 3, 4 };
  guint orders = 0;

  world_init (&w, 3);
  edits[0] = replica_edit (&w, &w.replicas[0], "a", FALSE);
  exchange_all (&w, &w.replicas[0], &w.replicas[1]);
  edits[1] = replica_edit (&w, &w.replicas[1], "b", FALSE);
  edits[2] = replica_edit (&w, &w.replicas[0], "c", FALSE);     /* concurrent with b */
  exchange_all (&w, &w.replicas[1], &w.replicas[0]);
  edits[3] = replica_edit (&w, &w.replicas[0], "d", FALSE);     /* sees b and c, supersedes c */
  edits[4] = replica_edit (&w, &w.replicas[1], "e", FALSE);     /* supersedes b, concurrent with d */
  for (guint i = 0; i < 5; i++)
    deliver (&w.replicas[2], edits[i]);
  expected = replica_state (&w.replicas[2]);
  g_assert_nonnull (strchr (expected, ','));                 /* d and e conflict */

  /* Heap's algorithm over the 120 permutations, each delivered twice. */
  {
    guint c[5] = { 0 };
    guint i = 0;
    for (;;)
      {
        Replica *r = &w.replicas[2];
        g_autofree char *state = NULL;

        g_hash_table_remove_all (r->edits);
        for (guint k = 0; k < 5; k++)
          deliver (r, edits[perm[k]]);
        for (guint k = 5; k-- > 0;)
          deliver (r, edits[perm[k]]);
        state = replica_state (r);
        g_assert_cmpstr (state, ==, expected);
        orders++;
        while (i < 5 && c[i] >= i)
          c[i++] = 0;
        if (i >= 5)
          break;
        {
          guint j = i % 2 == 0 ? 0 : c[i];
          guint tmp = perm[j];
          perm[j] = perm[i];
          perm[i] = tmp;
        }
        c[i]++;
        i = 0;
      }
  }
  g_assert_cmpuint (orders, ==, 120);
  world_clear (&w);
}

static void
test_bad_input (void)
{
  g_autoptr(GError) error = NULL;
  const char *parents[] = { "001764460800000-00000000-device-0" };
  HearthFieldEdit agree[] = {
    { "001764460800001-00000000-device-0", parents, 1, "same" },
    { "001764460800002-00000000-device-1", parents, 1, "same" },
  };
  HearthFieldEdit bad_hlc[] = { { "yesterday", NULL, 0, "x" } };
  HearthFieldEdit bad_parent[] = { { "001764460800001-00000000-device-0", (const char *const *) (const char *[]) { "nope" }, 1, "x" } };
  HearthFieldEdit diverged[] = {
    { "001764460800001-00000000-device-0", parents, 1, "x" },
    { "001764460800001-00000000-device-0", parents, 1, "y" },
  };
  HearthFieldEdit twice[] = {
    { "001764460800001-00000000-device-0", parents, 1, "x" },
    { "001764460800001-00000000-device-0", parents, 1, "x" },
  };
  HearthFieldMerge m;

  g_assert_false (hearth_merge_field (bad_hlc, 1, &m, &error));
  g_assert_error (error, HEARTH_MERGE_ERROR, HEARTH_MERGE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "yesterday"));
  g_clear_error (&error);
  g_assert_false (hearth_merge_field (bad_parent, 1, &m, &error));
  g_assert_error (error, HEARTH_MERGE_ERROR, HEARTH_MERGE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "nope"));
  g_clear_error (&error);
  g_assert_false (hearth_merge_field (diverged, 2, &m, &error));
  g_assert_error (error, HEARTH_MERGE_ERROR, HEARTH_MERGE_ERROR_DIVERGED);
  g_clear_error (&error);
  g_assert_true (hearth_merge_field (twice, 2, &m, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (m.winner->value, ==, "x");
  g_assert_cmpuint (m.losers->len, ==, 0);
  g_ptr_array_unref (m.losers);
  /* Concurrent edits that wrote the same value are no conflict. */
  g_assert_true (hearth_merge_field (agree, 2, &m, &error));
  g_assert_cmpstr (m.winner->hlc, ==, agree[1].hlc);
  g_assert_cmpuint (m.losers->len, ==, 0);
  g_ptr_array_unref (m.losers);
  g_assert_true (hearth_merge_field (NULL, 0, &m, &error));
  g_assert_null (m.winner);
  g_ptr_array_unref (m.losers);
}

/* A set of one edit (hearth_merge_field() answers it without its
 * tables): the same winner, losers and refusals as the general rule,
 * which the same edit delivered twice goes through. */
static void
test_one_edit (void)
{
  const char *none[] = { NULL };
  const char *parents[] = { "001764460800000-00000000-device-0", "001764460800000-00000001-device-1" };
  const char *itself[] = { "001764460800001-00000000-device-0" };
  const char *late_bad[] = { "001764460800000-00000000-device-0", "nope" };
  HearthFieldEdit ones[] = {
    { "001764460800001-00000000-device-0", none, 0, "first" },
    { "001764460800001-00000000-device-0", parents, 2, "over two" },
    { "001764460800001-00000000-device-0", itself, 1, "names itself" },
    { "001764460800001-00000000-device-0", none, 0, "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (ones); i++)
    {
      HearthFieldEdit twice[] = { ones[i], ones[i] };
      HearthFieldMerge one, general;
      g_autoptr(GError) error = NULL;

      g_assert_true (hearth_merge_field (&ones[i], 1, &one, &error));
      g_assert_no_error (error);
      g_assert_true (hearth_merge_field (twice, 2, &general, &error));
      g_assert_no_error (error);
      g_assert_true (one.winner == &ones[i]);
      g_assert_cmpstr (one.winner->hlc, ==, general.winner->hlc);
      g_assert_cmpstr (one.winner->value, ==, general.winner->value);
      g_assert_cmpuint (one.losers->len, ==, 0);
      g_assert_cmpuint (general.losers->len, ==, 0);
      g_ptr_array_unref (one.losers);
      g_ptr_array_unref (general.losers);
      /* A counter's one edit wins whatever its value. */
      g_assert_true (hearth_merge_field_of ("households", "entity_version", &ones[i], 1, &one, &error));
      g_assert_true (one.winner == &ones[i]);
      g_assert_cmpuint (one.losers->len, ==, 0);
      g_ptr_array_unref (one.losers);
    }
  {
    HearthFieldEdit bad[] = { { "001764460800001-00000000-device-0", late_bad, 2, "x" } };
    HearthFieldEdit bad_twice[] = { bad[0], bad[0] };
    HearthFieldMerge m;
    g_autoptr(GError) one_error = NULL;
    g_autoptr(GError) general_error = NULL;

    g_assert_false (hearth_merge_field (bad, 1, &m, &one_error));
    g_assert_false (hearth_merge_field (bad_twice, 2, &m, &general_error));
    g_assert_error (one_error, HEARTH_MERGE_ERROR, HEARTH_MERGE_ERROR_INVALID);
    g_assert_cmpstr (one_error->message, ==, general_error->message);
    g_assert_nonnull (strstr (one_error->message, "nope"));
  }
}

static void
test_conflict_id (void)
{
  g_autofree char *a = hearth_merge_conflict_id ("households", "h1", "phone", "w", "l");
  g_autofree char *b = hearth_merge_conflict_id ("households", "h1", "phone", "w", "l");
  g_autofree char *c = hearth_merge_conflict_id ("households", "h1", "phone", "l", "w");
  g_autofree char *d = hearth_merge_conflict_id ("households", "h1", "address", "w", "l");

  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (a, !=, c);
  g_assert_cmpstr (a, !=, d);
  g_assert_true (g_uuid_string_is_valid (a) || (strlen (a) == 36 && a[8] == '-' && a[13] == '-'));
  g_assert_cmpuint (strlen (a), ==, 36);
}

static void
test_clamp (void)
{
  gint64 now = 1764460800000;
  HearthHlc fast = { now + 24 * 3600 * 1000, 5, "tablet" };
  HearthHlc fast2 = { now + 24 * 3600 * 1000 + 7, 0, "tablet" };
  HearthHlc near = { now + 9 * 60 * 1000, 0, "tablet" };
  HearthHlc slow = { now - 24 * 3600 * 1000, 0, "tablet" };
  HearthHlc out, out2;

  g_assert_false (hearth_merge_clamp (&near, now, HEARTH_MERGE_MAX_AHEAD_MS, NULL, &out));
  g_assert_cmpint (hearth_hlc_compare (&out, &near), ==, 0);
  g_assert_false (hearth_merge_clamp (&slow, now, HEARTH_MERGE_MAX_AHEAD_MS, NULL, &out));
  g_assert_true (hearth_merge_clamp (&fast, now, HEARTH_MERGE_MAX_AHEAD_MS, NULL, &out));
  g_assert_cmpint (out.wall_ms, ==, now);
  g_assert_cmpuint (out.counter, ==, 5);
  g_assert_cmpstr (out.device, ==, "tablet");
  /* A later edit of the same push clamps past the first, never onto it. */
  g_assert_true (hearth_merge_clamp (&fast2, now, HEARTH_MERGE_MAX_AHEAD_MS, &out, &out2));
  g_assert_cmpint (hearth_hlc_compare (&out2, &out), >, 0);
}

/* 5 replicas, 200 rounds: each round one replica edits (sometimes resolving
 * what it sees), or sends a random part of what it holds to another, in a
 * random order with duplicates, its clock sometimes far off. Then everyone
 * exchanges everything: all states equal, no edit lost (each is a head or
 * named as a parent by an edit whose author held it), and concurrent heads
 * are exactly the conflicts. */
static void
test_property (void)
{
  const char *env = g_getenv ("HEARTH_TEST_SEED");
  guint32 seed = env != NULL ? (guint32) g_ascii_strtoull (env, NULL, 10) : g_random_int ();
  guint runs = env != NULL ? 1 : 20;

  for (guint run = 0; run < runs; run++, seed++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
      g_autofree char *first = NULL;
      World w;

      g_test_message ("merge property seed %u (replay: HEARTH_TEST_SEED=%u)", seed, seed);
      world_init (&w, 5);
      for (guint round = 0; round < 200; round++)
        {
          Replica *r = &w.replicas[g_rand_int_range (rand, 0, 5)];
          int action = g_rand_int_range (rand, 0, 10);

          r->wall += g_rand_int_range (rand, 0, 5000);
          if (action == 0)   /* a tablet whose clock jumps a day */
            r->wall += (g_rand_boolean (rand) ? 1 : -1) * (gint64) 24 * 3600 * 1000;
          if (action <= 4)
            {
              g_autofree char *value = g_strdup_printf ("v%u-%u", round, r->index);
              replica_edit (&w, r, value, action == 4);
            }
          else
            {
              Replica *to = &w.replicas[g_rand_int_range (rand, 0, 5)];
              g_autoptr(GPtrArray) some = g_ptr_array_new ();
              GHashTableIter iter;
              gpointer value;

              g_hash_table_iter_init (&iter, r->edits);
              while (g_hash_table_iter_next (&iter, NULL, &value))
                if (g_rand_boolean (rand))
                  g_ptr_array_add (some, value);
              /* Shuffle, then deliver with duplicates. */
              for (guint i = some->len; i > 1; i--)
                {
                  guint j = (guint) g_rand_int_range (rand, 0, (gint32) i);
                  gpointer tmp = some->pdata[i - 1];
                  some->pdata[i - 1] = some->pdata[j];
                  some->pdata[j] = tmp;
                }
              for (guint i = 0; i < some->len; i++)
                {
                  deliver (to, some->pdata[i]);
                  if (g_rand_int_range (rand, 0, 4) == 0)
                    deliver (to, some->pdata[g_rand_int_range (rand, 0, (gint32) some->len)]);
                }
            }
        }
      /* The final clean sync: everything reaches everyone. */
      for (guint i = 0; i < 5; i++)
        for (guint j = 0; j < 5; j++)
          exchange_all (&w, &w.replicas[i], &w.replicas[j]);

      for (guint i = 0; i < 5; i++)
        {
          g_autofree char *state = replica_state (&w.replicas[i]);
          g_assert_cmpuint (g_hash_table_size (w.replicas[i].edits), ==, w.all->len);
          if (first == NULL)
            first = g_strdup (state);
          else if (g_strcmp0 (first, state) != 0)
            g_error ("seed %u: replica %u diverged:\n%s\nvs\n%s", seed, i, state, first);
        }

      /* No edit lost: a non-head is named as a parent by some edit. */
      {
        g_autoptr(GArray) storage = NULL;
        g_autoptr(GHashTable) named = g_hash_table_new (g_str_hash, g_str_equal);
        g_autoptr(GHashTable) heads = g_hash_table_new (g_str_hash, g_str_equal);
        HearthFieldMerge m;

        merge_replica (&w.replicas[0], &storage, &m);
        g_hash_table_add (heads, (gpointer) m.winner->hlc);
        for (guint i = 0; i < m.losers->len; i++)
          g_hash_table_add (heads, (gpointer) ((HearthFieldEdit *) m.losers->pdata[i])->hlc);
        for (guint i = 0; i < w.all->len; i++)
          {
            Edit *e = w.all->pdata[i];
            for (guint p = 0; p < e->parents->len; p++)
              g_hash_table_add (named, e->parents->pdata[p]);
          }
        for (guint i = 0; i < w.all->len; i++)
          {
            Edit *e = w.all->pdata[i];
            if (!g_hash_table_contains (heads, e->hlc) && !g_hash_table_contains (named, e->hlc))
              g_error ("seed %u: edit %s (%s) was lost", seed, e->hlc, e->value);
            if (g_hash_table_contains (heads, e->hlc) && g_hash_table_contains (named, e->hlc))
              g_error ("seed %u: superseded edit %s is still a head", seed, e->hlc);
          }
        /* The winner is the newest head. */
        for (guint i = 0; i < m.losers->len; i++)
          g_assert_cmpint (strcmp (m.winner->hlc, ((HearthFieldEdit *) m.losers->pdata[i])->hlc), >, 0);
        g_ptr_array_unref (m.losers);
      }
      world_clear (&w);
    }
}

/* households.entity_version merges as a counter: the largest number of its
 * heads, whatever the order, and never a conflict (issue 5). */
static void
test_counter (void)
{
  const char *base[] = { "001764460800000-00000000-a" };
  HearthFieldEdit edits[] = {
    { "001764460800000-00000000-a", NULL, 0, "1" },
    { "001764460801000-00000000-b", base, 1, "3" },  /* two visits on b */
    { "001764460802000-00000000-c", base, 1, "2" },  /* one on c, later */
    { "001764460803000-00000000-d", base, 1, "x" },  /* not a number: below every one */
    { "001764460804000-00000000-e", base, 1, "3" },  /* ties by version */
  };
  HearthFieldEdit reversed[G_N_ELEMENTS (edits)];
  HearthFieldMerge m = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_true (hearth_merge_is_counter ("households", "entity_version"));
  g_assert_false (hearth_merge_is_counter ("households", "phone"));
  g_assert_false (hearth_merge_is_counter ("members", "entity_version"));

  g_assert_true (hearth_merge_field_of ("households", "entity_version", edits, G_N_ELEMENTS (edits), &m, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (m.winner->value, ==, "3");
  g_assert_cmpstr (m.winner->hlc, ==, edits[4].hlc);
  g_assert_cmpuint (m.losers->len, ==, 0);
  g_ptr_array_unref (m.losers);

  for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
    reversed[i] = edits[G_N_ELEMENTS (edits) - 1 - i];
  g_assert_true (hearth_merge_field_of ("households", "entity_version", reversed, G_N_ELEMENTS (reversed), &m,
                                        &error));
  g_assert_cmpstr (m.winner->hlc, ==, edits[4].hlc);
  g_assert_cmpuint (m.losers->len, ==, 0);
  g_ptr_array_unref (m.losers);

  /* Any other field: the newest head wins, the others are conflicts. */
  g_assert_true (hearth_merge_field_of ("households", "phone", edits, G_N_ELEMENTS (edits), &m, &error));
  g_assert_cmpstr (m.winner->hlc, ==, edits[4].hlc);
  g_assert_cmpuint (m.losers->len, ==, 2);
  g_ptr_array_unref (m.losers);

  /* The newest head is not a number: the largest number still wins. */
  g_assert_true (hearth_merge_field_of ("households", "entity_version", edits + 1, 3, &m, &error));
  g_assert_cmpstr (m.winner->hlc, ==, edits[1].hlc);
  g_assert_cmpuint (m.losers->len, ==, 0);
  g_ptr_array_unref (m.losers);
}

int
main (int argc, char *argv[])
{
  test_init (&argc, &argv);
  g_test_add_func ("/merge/sequential", test_sequential);
  g_test_add_func ("/merge/concurrent", test_concurrent);
  g_test_add_func ("/merge/any-order", test_any_order);
  g_test_add_func ("/merge/bad-input", test_bad_input);
  g_test_add_func ("/merge/one-edit", test_one_edit);
  g_test_add_func ("/merge/conflict-id", test_conflict_id);
  g_test_add_func ("/merge/clamp", test_clamp);
  g_test_add_func ("/merge/counter", test_counter);
  g_test_add_func ("/merge/property", test_property);
  return g_test_run ();
}

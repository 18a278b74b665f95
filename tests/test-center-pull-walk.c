/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-center-pull-walk.c: the two ways the center's SQLite store walks a
 * pull's scope (center-store-sqlite.c, PullWalk) give the same pages. A
 * scope of few villages is walked village by village on the village index
 * and merged in cursor order; any other scope, or a store told so
 * (hearth_center_store_sqlite_set_pull_by_village()), walks the whole
 * change log in cursor order. On a real store file filled through the
 * center's own push (signed requests to hearth_center_handle(), as the
 * server hands them over) by several devices in 70 villages of 7
 * townships, with edits of edits (compaction), concurrent edits
 * (conflicts), writes of two fields as one change (kind "edits", whose
 * fields are left out one by one when compacted), submissions, published forms, and audit entries without a
 * village:
 *
 *   /center/pull-walk/pages: random pages (scope of one village, a few,
 *     a township, the county, with or without the unplaced; from cursor
 *     0, a random one or the last; with or without a device left out;
 *     compacted or not; limits from 1 to 400 changes, small and large
 *     byte bounds; scopes of 1,500 codes, as a user stored before the
 *     limit on scopes has) are byte for byte the same from a store walking by
 *     village and one walking in cursor order (two stores on the one
 *     file: each keeps its own compaction sets), and so is every pull
 *     page by page from cursor 0 to its end, compacted and not; and each
 *     of those pages with its grouped writes listed as they are (version
 *     3) holds the same edits as listed one by one, ends at the same change
 *     and counts the same (PROTOCOL.md section 8.2).
 */
#include "test-center-util.h"

#include "center-store-sqlite.h"
#include "center-store.h"
#include "center-sync.h"
#include "change.h"
#include "sign.h"
#include "store-secret.h"

#include <string.h>

#define COUNTY "150422"
#define TOWNSHIPS 7
#define VILLAGES_PER_TOWNSHIP 10
#define DEVICES 4
#define HOUSEHOLDS 140
#define SEED 20261130

typedef struct {
  HearthCenter *center;
  char *id;
  HearthSecret *key;
  gint64 next_seq;
  guint counter;
} Device;

static char *
village_of (guint n)
{
  return g_strdup_printf ("%s%03u%03u", COUNTY, 101 + n / VILLAGES_PER_TOWNSHIP, 201 + n % VILLAGES_PER_TOWNSHIP);
}

static char *
version (Device *d)
{
  /* A fixed wall time: versions differ by their counter. */
  return g_strdup_printf ("%015" G_GINT64_FORMAT "-%08x-%s", (gint64) 1764460800000, ++d->counter, d->id);
}

static void
push (Device *d, GPtrArray *changes)
{
  g_autoptr(GString) body = g_string_new (NULL);
  g_autofree char *time = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / 1000);
  g_autofree char *nonce = hearth_sign_nonce ();
  g_autofree char *signature = NULL;
  g_autoptr(HearthCenterReply) reply = NULL;
  g_autofree char *text = NULL;

  g_string_printf (body, "{\"device_id\": \"%s\", \"changes\": [", d->id);
  for (guint i = 0; i < changes->len; i++)
    g_string_append_printf (body, "%s%s", i > 0 ? ", " : "", (const char *) changes->pdata[i]);
  g_string_append (body, "]}");
  signature = hearth_sign_request (hearth_secret_peek (d->key), "POST", "/v1/push", (const guint8 *) body->str,
                                   body->len, d->id, g_ascii_strtoll (time, NULL, 10), nonce);
  {
    HearthCenterRequest request = {
      .method = "POST",
      .target = "/v1/push",
      .device = d->id,
      .time = time,
      .nonce = nonce,
      .signature = signature,
      .body = (const guint8 *) body->str,
      .body_len = body->len,
    };

    reply = hearth_center_handle (d->center, &request);
  }
  text = g_strndup (g_bytes_get_data (reply->body, NULL), g_bytes_get_size (reply->body));
  g_assert_cmpuint (reply->status, ==, 200);
  /* Everything is stored: the data is real, nothing refused. */
  g_assert_nonnull (strstr (text, "\"refused\":[]"));
  g_ptr_array_set_size (changes, 0);
}

static char *
edit (Device *d, const char *household, const char *village, const char *field, const char *value,
      const char *parent, char **made)
{
  g_autofree char *hlc = version (d);
  g_autofree char *parents = parent != NULL ? g_strdup_printf ("\"%s\"", parent) : g_strdup ("");
  char *json = g_strdup_printf ("{\"seq\": %" G_GINT64_FORMAT ", \"kind\": \"edit\", \"table\": \"households\", "
                                "\"id\": \"%s\", \"household\": \"%s\", \"village\": \"%s\", \"field\": \"%s\", "
                                "\"value\": \"%s\", \"hlc\": \"%s\", \"parents\": [%s], "
                                "\"wall\": \"2026-11-30T08:00:00+08:00\"}",
                                d->next_seq++, household, household, village, field, value, hlc, parents);

  if (made != NULL)
    *made = g_steal_pointer (&hlc);
  return json;
}

/* A write of phone and head_name as one change (kind "edits", PROTOCOL.md
 * section 6.1), phone naming @parent. */
static char *
write_both (Device *d, const char *household, const char *village, const char *value, const char *parent,
            char **made)
{
  g_autofree char *hlc = version (d);
  g_autofree char *parents = parent != NULL ? g_strdup_printf ("\"%s\"", parent) : g_strdup ("");
  char *json = g_strdup_printf ("{\"seq\": %" G_GINT64_FORMAT ", \"kind\": \"edits\", \"table\": \"households\", "
                                "\"id\": \"%s\", \"household\": \"%s\", \"village\": \"%s\", \"hlc\": \"%s\", "
                                "\"fields\": {\"head_name\": {\"value\": \"户主\"}, \"phone\": {\"value\": \"%s\", "
                                "\"parents\": [%s]}}, \"wall\": \"2026-11-30T08:00:00+08:00\"}",
                                d->next_seq++, household, household, village, hlc, value, parents);

  if (made != NULL)
    *made = g_steal_pointer (&hlc);
  return json;
}

typedef struct {
  char *id;
  char *village;
  char *phone;      /* the version of its phone each device saw last */
} Household;

static void
fill (HearthCenterStore *store, HearthCenter *center, Device *devices, GRand *rand)
{
  g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func (g_free);
  Household households[HOUSEHOLDS];

  for (guint h = 0; h < HOUSEHOLDS; h++)
    {
      households[h].id = g_uuid_string_random ();
      households[h].village = village_of (g_rand_int_range (rand, 0, TOWNSHIPS * VILLAGES_PER_TOWNSHIP));
      households[h].phone = NULL;
    }
  /* Rounds: each device creates, edits (of what it saw: edits of edits,
   * left out when compacted) and edits concurrently (conflicts), and
   * records visits. */
  for (guint round = 0; round < 6; round++)
    for (guint i = 0; i < DEVICES; i++)
      {
        Device *d = &devices[i];

        for (guint k = 0; k < 40; k++)
          {
            Household *hh = &households[g_rand_int_range (rand, 0, HOUSEHOLDS)];
            g_autofree char *value = g_strdup_printf ("1380000%04u", g_rand_int_range (rand, 0, 10000));
            const char *parent;
            char *made = NULL;

            if (g_rand_int_range (rand, 0, 4) == 0)
              {
                g_autofree char *sub = g_uuid_string_random ();
                g_ptr_array_add (changes, g_strdup_printf ("{\"seq\": %" G_GINT64_FORMAT ", \"kind\": \"record\", "
                                                           "\"table\": \"submissions\", \"id\": \"%s\", "
                                                           "\"household\": \"%s\", \"village\": \"%s\", \"fields\": "
                                                           "{\"form_id\": \"hearth_household_visit\", "
                                                           "\"household_id\": \"%s\"}}",
                                                           d->next_seq++, sub, hh->id, hh->village, hh->id));
                continue;
              }
            /* A device edits from the version it saw, which another
             * device may have edited meanwhile: concurrent edits; some
             * writes of two fields as one change. */
            parent = g_rand_boolean (rand) ? hh->phone : NULL;
            if (g_rand_int_range (rand, 0, 4) == 0)
              g_ptr_array_add (changes, write_both (d, hh->id, hh->village, value, parent, &made));
            else
              g_ptr_array_add (changes, edit (d, hh->id, hh->village, "phone", value, parent, &made));
            if (g_rand_int_range (rand, 0, 3) > 0)
              {
                g_free (hh->phone);
                hh->phone = made;
              }
            else
              g_free (made);
            if (g_rand_int_range (rand, 0, 3) == 0)
              g_ptr_array_add (changes, edit (d, hh->id, hh->village, "head_name", "户主", NULL, NULL));
          }
        push (d, changes);
      }
  for (guint h = 0; h < HOUSEHOLDS; h++)
    {
      g_free (households[h].id);
      g_free (households[h].village);
      g_free (households[h].phone);
    }
}

/* Audit entries without a village, as devices push them (their chains
 * are of no concern to a pull): written straight into the log. */
static void
add_unplaced (Center *c, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_uuid_string_random ();
      g_autofree char *sql = g_strdup_printf ("INSERT OR IGNORE INTO device_numbers (id) VALUES ('walk-audit'); "
                                              "INSERT INTO changes (device, seq, kind, tbl, record_id, fields, "
                                              "received_at) VALUES ((SELECT num FROM device_numbers WHERE id = "
                                              "'walk-audit'), %u, 'record', 'audit', '%s', "
                                              "'{\"seq\":\"%u\"}', 0)", i + 1, id, i + 1);
      center_db_exec (c, sql);
    }
}

typedef struct {
  GString *out;
  guint listed;
  gint64 last;
  gboolean more;
} Page;

static void
page_clear (Page *p)
{
  if (p->out != NULL)
    g_string_free (p->out, TRUE);
}

static void
pull (HearthCenterStore *store, const HearthCenterPullQuery *q, Page *page)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterTxn) txn = hearth_center_store_begin (store, FALSE, &error);

  g_assert_no_error (error);
  page->out = g_string_new (NULL);
  g_assert_true (hearth_center_txn_pull_page (txn, q, page->out, &page->listed, &page->last, &page->more, &error));
  g_assert_no_error (error);
  hearth_center_txn_rollback (g_steal_pointer (&txn));
}

static void
assert_same (HearthCenterStore *by_village, HearthCenterStore *by_cursor, const HearthCenterPullQuery *q,
             const char *what)
{
  Page a = { 0 }, b = { 0 };

  pull (by_village, q, &a);
  pull (by_cursor, q, &b);
  if (a.listed != b.listed || a.last != b.last || a.more != b.more || !g_string_equal (a.out, b.out))
    g_error ("%s (after %" G_GINT64_FORMAT ", limit %u, compact_until %" G_GINT64_FORMAT "): by village %u changes "
             "to %" G_GINT64_FORMAT " (more %d), in cursor order %u to %" G_GINT64_FORMAT " (more %d)",
             what, q->after, q->limit, q->compact_until, a.listed, a.last, a.more, b.listed, b.last, b.more);
  page_clear (&a);
  page_clear (&b);
}

/* The changes of @page (a pull page's list, without its brackets), each
 * read back (hearth_change_from_json()) and written again one a line, a
 * grouped write (kind "edits") as the edits it holds. */
static char *
page_as_edits (const Page *page, guint *grouped)
{
  g_autofree char *text = g_strdup_printf ("[%s]", page->out->str);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = json_from_string (text, &error);
  g_autoptr(GString) out = g_string_new (NULL);
  JsonArray *changes;

  g_assert_no_error (error);
  changes = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (changes); i++)
    {
      g_autoptr(HearthChange) c = hearth_change_from_json (json_array_get_element (changes, i), "change", &error);
      g_autoptr(GPtrArray) edits = NULL;

      g_assert_no_error (error);
      *grouped += c->kind == HEARTH_CHANGE_EDITS;
      edits = hearth_change_expand (c);
      for (guint e = 0; e < edits->len; e++)
        {
          hearth_change_append_json (edits->pdata[e], FALSE, out);
          g_string_append_c (out, '\n');
        }
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* The page of @q with its grouped writes listed as they are (version 3,
 * PROTOCOL.md section 8.2) holds the same edits as the page listing them
 * one by one (version 2), ends at the same change and counts the same;
 * but when the byte bound ended one of them (the two forms differ in
 * length), the one ended first holds the first of the other's edits.
 * Grouped writes found are added to *@grouped. */
static void
assert_whole_same (HearthCenterStore *store, const HearthCenterPullQuery *q, guint *grouped)
{
  HearthCenterPullQuery whole = *q;
  Page a = { 0 }, b = { 0 };
  g_autofree char *expanded = NULL;
  g_autofree char *listed = NULL;
  guint none = 0;

  whole.whole_edits = TRUE;
  pull (store, q, &a);
  pull (store, &whole, &b);
  expanded = page_as_edits (&a, &none);
  listed = page_as_edits (&b, grouped);
  g_assert_cmpuint (none, ==, 0);
  /* Ended by the byte bound, not by the limit (pages hold whole rows). */
  if ((a.more && a.listed < q->limit) || (b.more && b.listed < q->limit))
    g_assert_true (a.last <= b.last ? g_str_has_prefix (listed, expanded) : g_str_has_prefix (expanded, listed));
  else if (a.listed != b.listed || a.last != b.last || a.more != b.more)
    g_error ("after %" G_GINT64_FORMAT ", limit %u, compact_until %" G_GINT64_FORMAT ": one by one %u changes to %"
             G_GINT64_FORMAT " (more %d), as they are %u to %" G_GINT64_FORMAT " (more %d)", q->after, q->limit,
             q->compact_until, a.listed, a.last, a.more, b.listed, b.last, b.more);
  else
    g_assert_cmpstr (listed, ==, expanded);
  page_clear (&a);
  page_clear (&b);
}

static void
test_pages (void)
{
  g_autoptr(Center) c = center_init ("pull-walk", COUNTY);
  g_autoptr(HearthCenterStore) store = NULL;
  g_autoptr(HearthCenterStore) by_cursor = NULL;
  g_autoptr(HearthCenter) center = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  g_autofree char *form = test_source_path ("schema", "forms", "follow-up.xml", NULL);
  Device devices[DEVICES] = { { 0 } };
  g_autoptr(GPtrArray) wide_few = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) wide_all = g_ptr_array_new_with_free_func (g_free);
  TestRun run = { 0 };
  gint64 highest;
  guint pages = 0, grouped = 0;

  center_add_user (c, "w.walk", "worker", COUNTY);
  store = hearth_center_store_open (c->db, FALSE, &error);
  g_assert_no_error (error);
  {
    g_autoptr(HearthCenterTxn) txn = hearth_center_store_begin (store, TRUE, &error);

    g_assert_no_error (error);
    for (guint i = 0; i < DEVICES; i++)
      {
        devices[i].key = center_txn_add_device (txn, "w.walk", "walk", &devices[i].id);
        devices[i].next_seq = 1;
      }
    g_assert_true (hearth_center_txn_commit (g_steal_pointer (&txn), &error));
    g_assert_no_error (error);
  }
  center = hearth_center_new (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < DEVICES; i++)
    devices[i].center = center;

  fill (store, center, devices, rand);
  run_center (&run, "--db", c->db, "publish-form", form, NULL);
  g_assert_cmpint (run.status, ==, 0);
  test_run_clear (&run);
  add_unplaced (c, 30);
  fill (store, center, devices, rand);
  highest = center_db_int (c, "SELECT max (cursor) FROM changes");
  g_assert_cmpint (center_db_int (c, "SELECT count (DISTINCT village) FROM changes"), >, 64);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes WHERE kind = 'edit' AND parents <> '[]'"), >, 100);
  g_assert_cmpint (center_db_int (c, "SELECT count (*) FROM changes WHERE kind = 'edits' "
                                     "AND instr (fields, '\"phone\":[') > 0 AND fields NOT LIKE '%[]]}'"), >, 20);

  by_cursor = hearth_center_store_open (c->db, FALSE, &error);
  g_assert_no_error (error);
  hearth_center_store_sqlite_set_pull_by_village (by_cursor, FALSE);

  /* A scope of 1,500 codes (a user stored before the limit on scopes),
   * with one village holding changes (walked by village against the
   * walk in cursor order through one OR of 1,500 ranges, which SQLite
   * takes as a balanced tree only) and with all 70 (both walk in cursor
   * order). */
  for (guint i = 0; i < 1500; i++)
    {
      g_ptr_array_add (wide_few, g_strdup_printf ("%s%03u%03u", COUNTY, 900 + i / 100, 100 + i % 100));
      g_ptr_array_add (wide_all, i < TOWNSHIPS * VILLAGES_PER_TOWNSHIP ? village_of (i)
                                                                       : g_strdup (wide_few->pdata[i]));
    }
  g_free (wide_few->pdata[700]);
  wide_few->pdata[700] = village_of (13);
  g_ptr_array_add (wide_few, NULL);
  g_ptr_array_add (wide_all, NULL);

  for (guint i = 0; i < 400; i++)
    {
      g_autofree char *v1 = village_of (g_rand_int_range (rand, 0, TOWNSHIPS * VILLAGES_PER_TOWNSHIP));
      g_autofree char *v2 = village_of (g_rand_int_range (rand, 0, TOWNSHIPS * VILLAGES_PER_TOWNSHIP));
      g_autofree char *township = g_strndup (v1, 9);
      const char *one[] = { v1, NULL };
      const char *two[] = { v1, v2, NULL };
      const char *town[] = { township, v2, NULL };
      const char *county[] = { COUNTY, NULL };
      const char *none[] = { NULL };
      const char *const *scopes[] = { one, two, town, county, none };
      HearthCenterPullQuery q = { 0 };
      guint which = g_rand_int_range (rand, 0, 4);

      q.prefixes = (const char *const *) scopes[g_rand_int_range (rand, 0, G_N_ELEMENTS (scopes))];
      q.unplaced = g_rand_boolean (rand);
      q.after = which == 0 ? 0 : which == 1 ? highest : g_rand_int_range (rand, 0, (gint32) highest);
      q.exclude_device = g_rand_boolean (rand) ? devices[g_rand_int_range (rand, 0, DEVICES)].id : NULL;
      q.compact_until = g_rand_boolean (rand) ? 0 : q.after + g_rand_int_range (rand, 1, (gint32) highest);
      if (q.compact_until > highest)
        q.compact_until = highest;
      if (q.compact_until <= q.after)
        q.compact_until = 0;
      q.limit = g_rand_int_range (rand, 1, 401);
      q.max_bytes = g_rand_boolean (rand) ? 8 * 1024 * 1024 : g_rand_int_range (rand, 1, 20000);
      assert_same (store, by_cursor, &q, "a random page");
      assert_whole_same (store, &q, &grouped);
      q.whole_edits = TRUE;
      assert_same (store, by_cursor, &q, "a random page of grouped writes as they are");
    }

  for (guint i = 0; i < 4; i++)
    {
      HearthCenterPullQuery q = { 0 };

      q.prefixes = (const char *const *) (i % 2 == 0 ? wide_few : wide_all)->pdata;
      q.compact_until = i < 2 ? 0 : highest;
      q.limit = 400;
      q.max_bytes = 8 * 1024 * 1024;
      assert_same (store, by_cursor, &q, "a page of a scope of 1,500 codes");
    }

  /* Whole pulls, page by page, of one village, of two, of a township and
   * of the county, compacted and not, as a device asks them. */
  for (guint s = 0; s < 8; s++)
    {
      g_autofree char *v1 = village_of (s * 9);
      g_autofree char *v2 = village_of (s * 9 + 31);
      g_autofree char *township = g_strndup (v2, 9);
      const char *one[] = { v1, NULL };
      const char *two[] = { v1, v2, NULL };
      const char *town[] = { township, NULL };
      const char *county[] = { COUNTY, NULL };
      const char *const *scopes[] = { one, two, town, county };
      HearthCenterPullQuery q = { 0 };

      q.prefixes = scopes[s % 4];
      q.unplaced = s % 4 == 3;
      q.exclude_device = devices[s % DEVICES].id;
      q.compact_until = s < 4 ? highest : 0;
      q.limit = 50;
      q.max_bytes = 8 * 1024 * 1024;
      for (;;)
        {
          Page a = { 0 };

          assert_same (store, by_cursor, &q, "a whole pull");
          assert_whole_same (store, &q, &grouped);
          pull (store, &q, &a);
          pages++;
          q.after = a.last;
          if (!a.more)
            {
              page_clear (&a);
              break;
            }
          page_clear (&a);
        }
    }
  g_assert_cmpuint (pages, >, 40);
  g_assert_cmpuint (grouped, >, 100);

  for (guint i = 0; i < DEVICES; i++)
    {
      g_free (devices[i].id);
      hearth_secret_free (devices[i].key);
    }
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/center/pull-walk/pages", test_pages);
  return g_test_run ();
}

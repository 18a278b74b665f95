/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-page-scan.c: a pull page read without a JSON tree
 * (app/sync-page-scan.h) against the reading through json-glib
 * (hearth_sync_parse_reply() and hearth_sync_read_pull_page()). Pages as
 * the center writes them are read alike, change for change; and of
 * thousands of pages cut, spliced and garbled at random, every one the
 * scan takes is one json-glib reads to the same page, and every other is
 * left to json-glib, whose errors name what is wrong.
 */
#include "test-util.h"
#include "client.h"
#include "sync-page-scan.h"
#include "sync-reply.h"

#include <string.h>

#define CURSOR 1000

static const char *const values[] = {
  "王芳", "13800000000", "", "a \"quoted\" value", "back\\slash", "line\nbreak\tand tab", "slash / and \b\f\r",
  "150422100201", "1", "ünïcödé ✓",
};

static HearthChange *
random_change (GRand *rand, gint64 cursor)
{
  HearthChange *c;
  g_autofree char *id = test_rand_uuid (rand);
  g_autofree char *household = test_rand_uuid (rand);

  if (g_rand_int_range (rand, 0, 5) == 0)
    {
      static const char *const names[] = { "phone", "head_name", "size", "risk_level" };

      c = hearth_change_new (HEARTH_CHANGE_EDITS);
      c->table = g_strdup (g_rand_boolean (rand) ? "households" : "members");
      c->hlc = g_strdup_printf ("0017646%08d-%08d-DEVICE%d", g_rand_int_range (rand, 0, 99999999),
                                g_rand_int_range (rand, 0, 99), g_rand_int_range (rand, 0, 9));
      for (int i = g_rand_int_range (rand, 1, 5); i > 0; i--)
        {
          g_autoptr(GPtrArray) parents = g_ptr_array_new_with_free_func (g_free);

          for (int p = g_rand_int_range (rand, 0, 3); p > 0; p--)
            g_ptr_array_add (parents, g_strdup_printf ("0017644%08d-%08d-OTHER", g_rand_int_range (rand, 0, 99999999), p));
          hearth_change_add_edit (c, names[g_rand_int_range (rand, 0, G_N_ELEMENTS (names))],
                                  values[g_rand_int_range (rand, 0, G_N_ELEMENTS (values))], parents);
        }
      if (g_rand_boolean (rand))
        c->wall = g_strdup ("2026-11-30T08:00:00+08:00");
    }
  else if (g_rand_int_range (rand, 0, 4) == 0)
    {
      c = hearth_change_new (HEARTH_CHANGE_RECORD);
      c->table = g_strdup (g_rand_boolean (rand) ? "submissions" : "reviews");
      for (int i = g_rand_int_range (rand, 0, 5); i > 0; i--)
        g_hash_table_insert (c->fields, g_strdup_printf ("field_%d", i),
                             g_strdup (values[g_rand_int_range (rand, 0, G_N_ELEMENTS (values))]));
    }
  else
    {
      c = hearth_change_new (HEARTH_CHANGE_EDIT);
      c->table = g_strdup (g_rand_boolean (rand) ? "households" : "members");
      c->field = g_strdup (g_rand_boolean (rand) ? "phone" : "head_name");
      c->value = g_strdup (values[g_rand_int_range (rand, 0, G_N_ELEMENTS (values))]);
      c->hlc = g_strdup_printf ("0017646%08d-%08d-DEVICE%d", g_rand_int_range (rand, 0, 99999999),
                                g_rand_int_range (rand, 0, 99), g_rand_int_range (rand, 0, 9));
      for (int i = g_rand_int_range (rand, 0, 3); i > 0; i--)
        g_ptr_array_add (c->parents, g_strdup_printf ("0017644%08d-%08d-OTHER", g_rand_int_range (rand, 0, 99999999), i));
      if (g_rand_boolean (rand))
        c->wall = g_strdup ("2026-11-30T08:00:00+08:00");
    }
  c->id = g_strdup (id);
  c->cursor = cursor;
  if (g_rand_int_range (rand, 0, 8) != 0)
    {
      c->household = g_strdup (household);
      c->village = g_strdup ("150422100201");
    }
  return c;
}

/* A page's body as the center writes it. */
static char *
page_body (GRand *rand, guint n, gint64 *next_cursor, gboolean *more)
{
  g_autoptr(GString) out = g_string_new ("{\"changes\":[");
  gint64 cursor = CURSOR;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(HearthChange) c = random_change (rand, cursor += g_rand_int_range (rand, 1, 5));

      if (i > 0)
        g_string_append_c (out, ',');
      hearth_change_append_json (c, FALSE, out);
    }
  *next_cursor = cursor + g_rand_int_range (rand, 1, 3);
  *more = g_rand_boolean (rand);
  g_string_append_printf (out, "],\"next_cursor\":%" G_GINT64_FORMAT ",\"more\":%s", *next_cursor,
                          *more ? "true" : "false");
  if (g_rand_boolean (rand))
    g_string_append (out, ",\"compact_until\":5000");
  g_string_append (out, ",\"server_time\":1764460800000}");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Whether the scan takes @body; when it does, json-glib reads the same
 * page from it, change for change. */
static gboolean
scan_agrees (const char *body, gsize len)
{
  g_auto(HearthSyncPullPage) scanned = { 0 };
  g_auto(HearthSyncPullPage) read = { 0 };
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;

  if (!hearth_sync_scan_pull_page (body, len, CURSOR, &scanned))
    {
      g_assert_null (scanned.changes);
      return FALSE;
    }
  root = hearth_sync_parse_reply (body, len, 200, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (root);
  g_assert_true (hearth_sync_read_pull_page (root, CURSOR, &read, &error));
  g_assert_no_error (error);
  g_assert_cmpint (scanned.next_cursor, ==, read.next_cursor);
  g_assert_cmpint (scanned.more, ==, read.more);
  g_assert_cmpint (scanned.compact_until, ==, read.compact_until);
  g_assert_cmpuint (scanned.skipped->len, ==, 0);
  g_assert_cmpuint (read.skipped->len, ==, 0);
  g_assert_cmpuint (scanned.changes->len, ==, read.changes->len);
  for (guint i = 0; i < read.changes->len; i++)
    {
      const HearthChange *a = scanned.changes->pdata[i];
      const HearthChange *b = read.changes->pdata[i];

      g_assert_true (hearth_change_equal (a, b));
      g_assert_cmpint (a->cursor, ==, b->cursor);
      g_assert_cmpint (a->seq, ==, b->seq);
      g_assert_cmpstr (a->wall, ==, b->wall);
    }
  return TRUE;
}

/* A page's "edits" change reaches the apply as it came (PROTOCOL.md
 * 8.2), its fields in name order, by either reader. */
static void
test_edits (void)
{
  static const char body[] =
    "{\"changes\": [{\"cursor\": 2001, \"kind\": \"edits\", \"table\": \"members\", \"id\": "
    "\"2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e\", \"household\": \"7c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f\", "
    "\"village\": \"361102001202\", \"hlc\": \"001764460900000-00000004-other\", \"fields\": {\"name\": "
    "{\"value\": \"王芳\", \"parents\": [\"001764460800000-00000000-other\"]}, \"id_number\": {\"value\": \"15\", "
    "\"parents\": []}}, \"wall\": \"w\"}, {\"cursor\": 2002, \"kind\": \"record\", \"table\": \"audit\", \"id\": "
    "\"2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6f\", \"fields\": {}}], \"next_cursor\": 2002, \"more\": false}";
  g_auto(HearthSyncPullPage) scanned = { 0 };
  const HearthChange *c;
  const HearthChangeField *a;
  const HearthChangeField *b;

  g_assert_true (scan_agrees (body, strlen (body)));
  g_assert_true (hearth_sync_scan_pull_page (body, strlen (body), CURSOR, &scanned));
  g_assert_cmpuint (scanned.changes->len, ==, 2);
  c = scanned.changes->pdata[0];
  g_assert_cmpint (c->kind, ==, HEARTH_CHANGE_EDITS);
  g_assert_cmpuint (c->edits->len, ==, 2);
  a = c->edits->pdata[0];
  b = c->edits->pdata[1];
  g_assert_cmpstr (a->field, ==, "id_number");
  g_assert_cmpstr (a->value, ==, "15");
  g_assert_cmpuint (a->parents != NULL ? a->parents->len : 0, ==, 0);
  g_assert_cmpstr (b->field, ==, "name");
  g_assert_cmpstr (b->value, ==, "王芳");
  g_assert_cmpstr (b->parents->pdata[0], ==, "001764460800000-00000000-other");
  g_assert_cmpstr (c->hlc, ==, "001764460900000-00000004-other");
  g_assert_cmpstr (c->wall, ==, "w");
  g_assert_cmpint (c->cursor, ==, 2001);
  g_assert_cmpstr (c->village, ==, "361102001202");
  g_assert_cmpint (((HearthChange *) scanned.changes->pdata[1])->kind, ==, HEARTH_CHANGE_RECORD);
}

/* A page's changes keep their strings in blocks they hold themselves
 * (HearthChangeStrings), not one allocation each: taken from the page,
 * with the page and the body gone, every string is still theirs; the
 * last change freed frees the blocks (ASan and LSan check both). */
static void
test_strings_held (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GPtrArray) copies = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  HearthChangeStrings *strings = NULL;
  gint64 next_cursor;
  gboolean more;
  char *body = page_body (rand, 20, &next_cursor, &more);

  {
    g_auto(HearthSyncPullPage) scanned = { 0 };

    g_assert_true (hearth_sync_scan_pull_page (body, strlen (body), CURSOR, &scanned));
    g_assert_cmpuint (scanned.changes->len, ==, 20);
    changes = g_steal_pointer (&scanned.changes);
  }
  for (guint i = 0; i < changes->len; i++)
    {
      const HearthChange *c = changes->pdata[i];

      g_assert_true (c->borrowed);
      g_assert_nonnull (c->strings);
      /* One page, one set of blocks. */
      if (strings == NULL)
        strings = c->strings;
      g_assert_true (c->strings == strings);
      g_ptr_array_add (copies, hearth_change_copy (c));
      g_assert_null (((HearthChange *) copies->pdata[i])->strings);
    }
  /* The body scrubbed: nothing of a change may point into it. */
  memset (body, 'x', strlen (body));
  g_free (body);
  for (guint i = 0; i < changes->len; i++)
    g_assert_true (hearth_change_equal (changes->pdata[i], copies->pdata[i]));
}

/* Pages as the center writes them: the scan reads them all, as json-glib. */
static void
test_plain (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);

  for (guint round = 0; round < 200; round++)
    {
      gint64 next_cursor;
      gboolean more;
      g_autofree char *body = page_body (rand, (guint) g_rand_int_range (rand, 0, 30), &next_cursor, &more);

      g_assert_true (scan_agrees (body, strlen (body)));
    }
  /* White space where JSON allows it, and an empty last page. */
  g_assert_true (scan_agrees (" { \"changes\" : [ ] ,\n\"next_cursor\" : 1000 }\r\n", 44));
  /* \u escapes, a surrogate pair among them, read as json-glib reads them. */
  {
    const char *escaped = "{\"changes\":[{\"cursor\":1001,\"kind\":\"edit\",\"table\":\"households\",\"id\":"
                          "\"6f0e2b5c-7a3d-4e1f-9b2a-1c3d5e7f9a0b\",\"field\":\"head_name\",\"value\":"
                          "\"\\u00e9\\u4e2d\\ud83d\\ude00\",\"hlc\":\"001764460800000-00000000-DEVICE\",\"parents\":[]}],"
                          "\"next_cursor\":1001}";

    g_assert_true (scan_agrees (escaped, strlen (escaped)));
  }
  /* json-glib's own: a number that is not whole, a null, a word that is
   * not JSON, a name twice, a lone surrogate, a \u0000, a change without
   * its cursor. */
  {
    const char *others[] = {
      "{\"changes\":[],\"next_cursor\":1000,\"more\":false,\"server_time\":1.5}",
      "{\"changes\":[],\"next_cursor\":1000,\"more\":null}",
      /* not JSON, which json-glib refuses: the scan once took "true" as
       * a word that is not one, then "false" after it */
      "{\"changes\":[],\"next_cursor\":1001,\"more\":truefalse}",
      "{\"changes\":[],\"next_cursor\":1000,\"next_cursor\":1001}",
      "{\"changes\":[{\"cursor\":1001,\"kind\":\"edit\",\"table\":\"households\",\"id\":"
      "\"6f0e2b5c-7a3d-4e1f-9b2a-1c3d5e7f9a0b\",\"field\":\"head_name\",\"value\":\"\\ud83d\",\"hlc\":"
      "\"001764460800000-00000000-DEVICE\",\"parents\":[]}],\"next_cursor\":1001}",
      "{\"changes\":[{\"cursor\":1001,\"kind\":\"edit\",\"table\":\"households\",\"id\":"
      "\"6f0e2b5c-7a3d-4e1f-9b2a-1c3d5e7f9a0b\",\"field\":\"head_name\",\"value\":\"a\\u0000b\",\"hlc\":"
      "\"001764460800000-00000000-DEVICE\",\"parents\":[]}],\"next_cursor\":1001}",
      "{\"changes\":[{\"kind\":\"edit\",\"table\":\"households\",\"id\":"
      "\"6f0e2b5c-7a3d-4e1f-9b2a-1c3d5e7f9a0b\",\"field\":\"head_name\",\"value\":\"x\",\"hlc\":"
      "\"001764460800000-00000000-DEVICE\",\"parents\":[]}],\"next_cursor\":1001}",
    };

    for (guint i = 0; i < G_N_ELEMENTS (others); i++)
      g_assert_false (scan_agrees (others[i], strlen (others[i])));
  }
}

/* A page with @text (raw bytes) as one change's value, a parent, an
 * "edits" field's value or a record's field, as @where says. */
static char *
page_with (const char *text, guint where)
{
  const char *head = "{\"changes\":[{\"cursor\":1001,\"table\":\"households\",\"id\":"
                     "\"6f0e2b5c-7a3d-4e1f-9b2a-1c3d5e7f9a0b\",";

  switch (where)
    {
    case 0:
      return g_strdup_printf ("%s\"kind\":\"edit\",\"field\":\"head_name\",\"value\":\"%s\",\"hlc\":"
                              "\"001764460800000-00000000-DEVICE\",\"parents\":[]}],\"next_cursor\":1001}", head, text);
    case 1:
      return g_strdup_printf ("%s\"kind\":\"edit\",\"field\":\"head_name\",\"value\":\"x\",\"hlc\":"
                              "\"001764460800000-00000000-DEVICE\",\"parents\":[\"%s\"]}],\"next_cursor\":1001}",
                              head, text);
    case 2:
      return g_strdup_printf ("%s\"kind\":\"edits\",\"hlc\":\"001764460800000-00000000-DEVICE\",\"fields\":"
                              "{\"phone\":{\"value\":\"%s\"}}}],\"next_cursor\":1001}", head, text);
    default:
      return g_strdup_printf ("{\"changes\":[{\"cursor\":1001,\"table\":\"submissions\",\"id\":"
                              "\"6f0e2b5c-7a3d-4e1f-9b2a-1c3d5e7f9a0b\",\"kind\":\"record\",\"fields\":"
                              "{\"form\":\"%s\"}}],\"next_cursor\":1001}", text);
    }
}

/* The scan checks a string's UTF-8 as it reads it (hearth_change_valid()
 * no longer does for it): text that is not UTF-8, wherever it is and
 * with or without escapes around it, is left to json-glib, which refuses
 * it; UTF-8 of every length is taken, as json-glib takes it. */
static void
test_utf8 (void)
{
  static const char *const bad[] = {
    "\xff", "a\xfe", "\xc0\xaf" /* an overlong "/" */, "\xed\xa0\x80" /* a surrogate */,
    "\xf4\x90\x80\x80" /* beyond U+10FFFF */, "\xe4\xb8" /* cut before the quote */,
    "\xe4\xb8\\n" /* cut before an escape */, "\\n\xe4\xb8" /* after one */, "\\u00e9\x80",
    "\x80" "abc", "\xc3",
  };
  static const char *const good[] = {
    "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xef\xbf\xbf" /* U+FFFF: UTF-8 still */,
    "a\\n\xe4\xb8\xad\\t\xf0\x9f\x98\x80" "b", "\\u00e9\xc3\xa9",
  };

  for (guint where = 0; where < 4; where++)
    {
      for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
        {
          g_autofree char *body = page_with (bad[i], where);
          g_auto(HearthSyncPullPage) read = { 0 };
          g_autoptr(JsonNode) root = NULL;
          g_autoptr(GError) error = NULL;

          g_assert_false (scan_agrees (body, strlen (body)));
          /* json-glib's reading refuses it too, naming why. */
          root = hearth_sync_parse_reply (body, strlen (body), 200, NULL, NULL, &error);
          if (root != NULL)
            g_assert_false (hearth_sync_read_pull_page (root, CURSOR, &read, &error));
          g_assert_nonnull (error);
          g_assert_cmpstr (error->message, !=, "");
        }
      /* Long texts, read eight bytes at a time: what ends a run or must
       * be checked at each place in a word, and across words. */
      for (guint at = 0; where != 1 && at < 24; at++)
        {
          static const char *const inner[] = { "\\n", "\xc3\xa9", "\x7f", "~", " ", "\\\"", "\\\\", "\\u4e2d",
                                                "\xe4\xb8\xad" };
          static const char *const refused[] = { "\x01", "\x1f", "\t", "\xff", "\xc3" };

          for (guint i = 0; i < G_N_ELEMENTS (inner) + G_N_ELEMENTS (refused); i++)
            {
              gboolean good_text = i < G_N_ELEMENTS (inner);
              g_autofree char *text = g_strdup_printf ("%.*s%s%s", (int) at, "abcdefghijklmnopqrstuvwxyz",
                                                       good_text ? inner[i] : refused[i - G_N_ELEMENTS (inner)],
                                                       "0123456789abcdefghij");
              g_autofree char *body = page_with (text, where);

              g_assert_cmpint (scan_agrees (body, strlen (body)), ==, good_text);
            }
        }
      /* A parent is a version: no other text is one. */
      for (guint i = 0; where != 1 && i < G_N_ELEMENTS (good); i++)
        {
          g_autofree char *body = page_with (good[i], where);

          g_assert_true (scan_agrees (body, strlen (body)));
        }
    }
}

/* Pages cut, spliced and garbled: whatever the scan takes, json-glib
 * reads alike. */
static void
test_garbled (void)
{
  static const char noise[] = "{}[],:\"\\ 0123456789-.eEtrufalsn\x01\xc3\xa9\xff";
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  guint taken = 0, left = 0;

  for (guint round = 0; round < 4000; round++)
    {
      gint64 next_cursor;
      gboolean more;
      g_autofree char *body = page_body (rand, (guint) g_rand_int_range (rand, 1, 4), &next_cursor, &more);
      g_autoptr(GString) garbled = g_string_new (body);

      for (int k = g_rand_int_range (rand, 1, 4); k > 0; k--)
        {
          guint at = (guint) g_rand_int_range (rand, 0, (gint32) garbled->len);
          char ch = noise[g_rand_int_range (rand, 0, sizeof noise - 1)];

          switch (g_rand_int_range (rand, 0, 4))
            {
            case 0:
              g_string_erase (garbled, at, 1);
              break;
            case 1:
              garbled->str[at] = ch;
              break;
            case 2:
              g_string_insert_c (garbled, at, ch);
              break;
            default:
              /* A piece of the page again elsewhere: members twice. */
              {
                guint from = (guint) g_rand_int_range (rand, 0, (gint32) garbled->len);
                guint n = MIN ((guint) g_rand_int_range (rand, 1, 40), garbled->len - from);
                g_autofree char *piece = g_strndup (garbled->str + from, n);

                g_string_insert (garbled, at, piece);
              }
              break;
            }
        }
      if (scan_agrees (garbled->str, garbled->len))
        taken++;
      else
        left++;
    }
  g_test_message ("%u garbled pages taken by the scan (and read alike), %u left to json-glib", taken, left);
  g_assert_cmpuint (taken, >, 0);
  g_assert_cmpuint (left, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/page-scan/edits", test_edits);
  g_test_add_func ("/page-scan/plain", test_plain);
  g_test_add_func ("/page-scan/strings-held", test_strings_held);
  g_test_add_func ("/page-scan/garbled", test_garbled);
  g_test_add_func ("/page-scan/utf8", test_utf8);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-store-packed.c: packed texts (app/store-packed.h): round trips,
 * what is kept as text, and the refusal of every damaged or oversized
 * value by name (tests/fuzz/packed-seeds). The real store's readers and
 * writers are tested in test-sync-store.c (/sync/store/packed-instance).
 */
#include "test-util.h"
#include "store-error.h"
#include "store-packed.h"
#include "resource-pin.h"
#include "hearth-schema-resources.h"

#include <lz4.h>
#include <sodium.h>
#include <string.h>

static char *
visit_text (void)
{
  return test_fill_bundled ("household-visit.xml", "visit-zh.json", "2026-03-05T10:00:00+08:00",
                            "11111111-2222-4333-8444-000000000002");
}

static void
test_round_trip (void)
{
  g_autofree char *xml = visit_text ();
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *packed = NULL;
  g_autofree char *back = NULL;
  gsize len = strlen (xml), packed_len = 0;

  packed = hearth_text_pack (xml, len, &packed_len);
  g_assert_nonnull (packed);
  /* A visit is about 30% of its size packed. */
  g_assert_cmpuint (packed_len * 5, <, len * 2);
  g_assert_cmpmem (packed, 4, "HXZ\1", 4);
  back = hearth_text_unpack (packed, packed_len, "submissions x, instance_xml", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back, ==, xml);
}

static gpointer
pack_in_thread (gpointer text)
{
  gsize len = 0;
  guint8 *packed = hearth_text_pack (text, strlen (text), &len);

  return g_bytes_new_take (packed, len);
}

/* Each text is packed from the dictionary alone, whatever was packed
 * before it on the thread (a stream with the dictionary loaded is copied
 * for each one): the same bytes as a thread's first packing, each time. */
static void
test_same_bytes (void)
{
  g_autofree char *xml = visit_text ();
  g_autofree char *other = g_strdup_printf ("<data>%s%s</data>", xml, xml);
  g_autoptr(GBytes) first = g_thread_join (g_thread_new ("pack", pack_in_thread, xml));
  g_autoptr(GBytes) dict = g_resource_lookup_data (hearth_schema_get_resource (),
                                                   "/org/hearth/store/store/packed-dict-1.xml", 0, NULL);
  LZ4_stream_t *fresh = LZ4_createStream ();
  gsize len = strlen (xml);
  g_autofree char *out = g_malloc (len);
  g_autoptr(GBytes) reference = NULL;
  int n;

  /* What LZ4_loadDict() and one packing make. */
  g_assert_nonnull (dict);
  LZ4_loadDict (fresh, g_bytes_get_data (dict, NULL), (int) g_bytes_get_size (dict));
  memcpy (out, "HXZ\1", 4);
  for (guint b = 0; b < 4; b++)
    out[4 + b] = (char) ((len >> (8 * b)) & 0xff);
  n = LZ4_compress_fast_continue (fresh, xml, out + 8, (int) len, (int) len - 8, 1);
  g_assert_cmpint (n, >, 0);
  reference = g_bytes_new (out, 8 + (gsize) n);
  LZ4_freeStream (fresh);

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GBytes) again = pack_in_thread (xml);
      g_autoptr(GBytes) between = pack_in_thread (i % 2 == 0 ? other : xml + 7);
      g_autofree char *back = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_true (g_bytes_equal (again, first));
      g_assert_true (g_bytes_equal (again, reference));
      back = hearth_text_unpack (g_bytes_get_data (between, NULL), g_bytes_get_size (between), "x", &error);
      g_assert_no_error (error);
      g_assert_cmpstr (back, ==, i % 2 == 0 ? other : xml + 7);
    }
}

/* Kept as text: short ones, ones that do not shrink (LZ4 finds no
 * repeats in random hexadecimal), and (test_bound()) ones over the bound. */
static void
test_kept_as_text (void)
{
  g_autofree guint8 *noise = g_malloc (4096);
  g_autofree char *hex = g_malloc (8193);
  gsize packed_len = 1;

  g_assert_null (hearth_text_pack ("<data/>", 7, &packed_len));
  g_assert_cmpuint (packed_len, ==, 0);
  randombytes_buf (noise, 4096);
  sodium_bin2hex (hex, 8193, noise, 4096);
  packed_len = 1;
  g_assert_null (hearth_text_pack (hex, 8192, &packed_len));
  g_assert_cmpuint (packed_len, ==, 0);
}

static void
assert_refused (const char *seed, const char *why)
{
  g_autofree char *path = test_source_path ("tests", "fuzz", "packed-seeds", seed, NULL);
  g_autofree char *data = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  text = hearth_text_unpack ((const guint8 *) data, len, "submissions 0b1e6a52, instance_xml", &error);
  g_assert_null (text);
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT);
  g_test_message ("%s: %s", seed, error->message);
  g_assert_true (g_str_has_prefix (error->message, "submissions 0b1e6a52, instance_xml: "));
  g_assert_nonnull (strstr (error->message, why));
}

static void
test_refused (void)
{
  g_autofree char *path = test_source_path ("tests", "fuzz", "packed-seeds", "visit.packed", NULL);
  g_autofree char *data = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = 0;

  /* The seeds' one good value. */
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  text = hearth_text_unpack ((const guint8 *) data, len, "x", &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (text, "<?xml"));

  assert_refused ("length-over-bound.packed", "larger than the largest");
  assert_refused ("bomb-over-bound.packed", "larger than the largest");
  assert_refused ("longer-than-it-says.packed", "or longer than it says");
  assert_refused ("shorter-than-it-says.packed", "shorter than it says");
  assert_refused ("not-utf8.packed", "not UTF-8");
  assert_refused ("nul-inside.packed", "not UTF-8");
  assert_refused ("not-packed.packed", "not a compressed text");
  assert_refused ("cut-short.packed", "not valid compressed data");
  /* Shorter than its header. */
  g_clear_error (&error);
  g_assert_null (hearth_text_unpack ((const guint8 *) "HXZ\1", 4, "x", &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT);
}

/* A text at the bound packs and unpacks; one a byte over is not packed
 * (and a packed value saying so is refused, test_refused()). */
static void
test_bound (void)
{
  g_autofree char *big = g_malloc (HEARTH_PACKED_TEXT_MAX + 1);
  g_autofree guint8 *packed = NULL;
  g_autofree char *back = NULL;
  g_autoptr(GError) error = NULL;
  gsize packed_len = 0;

  memset (big, 'a', HEARTH_PACKED_TEXT_MAX);
  big[HEARTH_PACKED_TEXT_MAX] = '\0';
  packed = hearth_text_pack (big, HEARTH_PACKED_TEXT_MAX, &packed_len);
  g_assert_nonnull (packed);
  back = hearth_text_unpack (packed, packed_len, "x", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (back), ==, HEARTH_PACKED_TEXT_MAX);
  /* Over the bound: not packed (kept as text by the writer). */
  g_assert_null (hearth_text_pack (big, HEARTH_PACKED_TEXT_MAX + 1, &packed_len));
}

/* A pinned resource comes back only with the bytes its hash names: another
 * hash, or a file not built in, stops the process naming it (rows packed
 * with another dictionary would unpack into other text without a word). */
static void
test_pinned (void)
{
  const char *path = "/org/hearth/store/store/packed-dict-1.xml";

  if (g_test_subprocess ())
    {
      const char *which = g_getenv ("HEARTH_TEST_PIN");
      g_autoptr(GBytes) want = g_resource_lookup_data (hearth_schema_get_resource (), path, 0, NULL);
      guint8 hash[crypto_generichash_BYTES];

      crypto_generichash (hash, sizeof hash, g_bytes_get_data (want, NULL), g_bytes_get_size (want), NULL, 0);
      if (g_strcmp0 (which, "other") == 0)
        hash[0] ^= 1;
      else if (g_strcmp0 (which, "missing") == 0)
        path = "/org/hearth/store/store/packed-dict-0.xml";
      {
        g_autoptr(GBytes) got = hearth_resource_pinned (hearth_schema_get_resource (), path, hash, "the test's file");

        g_assert_true (g_bytes_equal (got, want));
        g_print ("pinned %zu bytes\n", g_bytes_get_size (got));
      }
      return;
    }
  g_setenv ("HEARTH_TEST_PIN", "same", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("pinned *");
  g_setenv ("HEARTH_TEST_PIN", "other", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*the test's file is not the one its rows were packed with*packed-dict-1.xml changed*");
  g_setenv ("HEARTH_TEST_PIN", "missing", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*the test's file is not built in*packed-dict-0.xml*");
  g_unsetenv ("HEARTH_TEST_PIN");
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);

  g_test_add_func ("/store/packed/round-trip", test_round_trip);
  g_test_add_func ("/store/packed/kept-as-text", test_kept_as_text);
  g_test_add_func ("/store/packed/same-bytes", test_same_bytes);
  g_test_add_func ("/store/packed/refused", test_refused);
  g_test_add_func ("/store/packed/bound", test_bound);
  g_test_add_func ("/store/packed/pinned", test_pinned);

  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-fuzz-regressions.c: replays the saved fuzz inputs without libFuzzer.
 *
 * Every file under the seed and crash folders of tests/fuzz (but the push
 * target's, which test-change replays) goes through the same functions the
 * fuzz targets call (fuzz/fuzz-targets.c and fuzz/fuzz-*-target.c), which
 * abort on a broken invariant. The keyslot seeds, and the inputs of the
 * bugs the fuzzers found, also have their outcomes checked one by one.
 */
#include "test-util.h"
#include "fuzz/fuzz-targets.h"

#include "case-registry.h"
#include "client.h"
#include "id-number.h"
#include "store-countykey.h"
#include "store-error.h"
#include "store-keyslot.h"
#include "sync-reply.h"

#include <sodium.h>
#include <string.h>

#ifndef HEARTH_FUZZ_CORPUS_DIR
#error "HEARTH_FUZZ_CORPUS_DIR must name tests/fuzz"
#endif

typedef void (*FuzzFunc) (const guint8 *data, gsize size);

/* The device the reply seeds enrol. */
#define DEVICE_OF_SEEDS "9f1c2b3a-4d5e-4f60-8a71-b2c3d4e5f601"

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* Runs every file of @subdir (but its README.md) through @func, in name
 * order. Returns: the number of files run. */
static guint
replay_dir (const char *subdir, FuzzFunc func)
{
  g_autofree char *dir_path = g_build_filename (HEARTH_FUZZ_CORPUS_DIR, subdir, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, &error);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_strcmp0 (name, "README.md") != 0)
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir_path, g_ptr_array_index (names, i), NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      g_test_message ("replaying %s", path);
      g_assert_true (g_file_get_contents (path, &contents, &len, &error));
      g_assert_no_error (error);
      func ((const guint8 *) contents, len);
    }
  return names->len;
}

static GBytes *
read_seed (const char *name)
{
  g_autofree char *path = g_build_filename (HEARTH_FUZZ_CORPUS_DIR, "keyslot-seeds", name, NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

/* Parses seed @name, asserting that it is refused as corrupt with a
 * message that contains @needle. */
static void
assert_seed_refused (const char *name, const char *needle)
{
  g_autoptr(GBytes) bytes = read_seed (name);
  g_autoptr(GError) error = NULL;
  HearthKeyslot slot;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  g_test_message ("%s", name);
  g_assert_false (hearth_keyslot_parse (data, len, &slot, &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT);
  g_assert_nonnull (strstr (error->message, needle));
}

static void
test_keyslot_seeds (void)
{
  g_autoptr(GBytes) valid = read_seed ("valid.keyslot");
  g_autoptr(GBytes) envelope = read_seed ("valid-envelope.keyslot");
  g_autoptr(GError) error = NULL;
  HearthKeyslot slot;
  const guint8 *data;
  gsize len;

  /* Written by `hearth-cli init --kdf test`: libsodium's minimum costs. */
  data = g_bytes_get_data (valid, &len);
  g_assert_cmpuint (len, ==, HEARTH_KEYSLOT_SIZE);
  g_assert_true (hearth_keyslot_parse (data, len, &slot, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (hearth_kdf_profile_describe (slot.opslimit, slot.memlimit), ==, "test");
  g_assert_false (slot.has_envelope);

  /* The same with --county-public-key. */
  data = g_bytes_get_data (envelope, &len);
  g_assert_true (hearth_keyslot_parse (data, len, &slot, &error));
  g_assert_no_error (error);
  g_assert_true (slot.has_envelope);

  /* One bit of the wrapped key flipped: only the checksum can tell. */
  assert_seed_refused ("flipped-byte-100.keyslot", "checksum");
  /* The last checksum byte missing. */
  assert_seed_refused ("truncated-299.keyslot", "299");
  /* Valid checksums, hostile costs: an unlock must not take hours or
   * terabytes of memory. */
  assert_seed_refused ("opslimit-2e40.keyslot", "bounds");
  assert_seed_refused ("opslimit-2e40.keyslot", "1099511627776 passes");
  assert_seed_refused ("memlimit-2e40.keyslot", "bounds");
  /* A version from the future, with a valid checksum. */
  assert_seed_refused ("version-2.keyslot", "version 2");

  /* The county recovery record beside the keyslot, and a keyslot is not one. */
  {
    g_autoptr(GBytes) record = read_seed ("valid.county-recovery");
    HearthKeyslot rec;
    guint8 damaged[HEARTH_RECOVERY_RECORD_SIZE];

    data = g_bytes_get_data (record, &len);
    g_assert_cmpuint (len, ==, HEARTH_RECOVERY_RECORD_SIZE);
    g_assert_true (hearth_recovery_record_parse (data, len, &rec, &error));
    g_assert_no_error (error);
    g_assert_true (rec.has_envelope);
    g_assert_cmpstr (hearth_kdf_profile_describe (rec.opslimit, rec.memlimit), ==, "test");
    memcpy (damaged, data, len);
    damaged[50] ^= 1;
    g_assert_false (hearth_recovery_record_parse (damaged, len, &rec, &error));
    g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT);
    g_clear_error (&error);
    data = g_bytes_get_data (envelope, &len);
    g_assert_false (hearth_recovery_record_parse (data, len, &rec, &error));
    g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT);
    g_clear_error (&error);
  }
}

/* Found by fuzz-keyslot: a slot without the envelope flag but with bytes
 * in the county key or envelope fields (which must then be zeros) parsed,
 * and serialised back without them. */
static void
test_keyslot_envelope_without_flag (void)
{
  g_autofree char *path = g_build_filename (HEARTH_FUZZ_CORPUS_DIR, "keyslot-crashes",
                                            "envelope-bytes-without-flag.keyslot", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  HearthKeyslot slot;
  gsize len;

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (len, ==, HEARTH_KEYSLOT_SIZE);
  g_assert_cmpuint ((guint8) contents[10], ==, 0);
  g_assert_false (hearth_keyslot_parse ((const guint8 *) contents, len, &slot, &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT);
}

static void
test_keyslot_regressions (void)
{
  replay_dir ("keyslot-crashes", hearth_fuzz_keyslot);
  g_assert_cmpuint (replay_dir ("keyslot-seeds", hearth_fuzz_keyslot), >=, 2);
}

/* Key files as hearth_county_key_write() makes them, and near misses. */
static void
test_county_key_written (void)
{
  g_autofree char *dir = test_make_dir ("fuzz-county-key");
  g_autofree char *public_path = g_build_filename (dir, "county.pub", NULL);
  g_autofree char *secret_path = g_build_filename (dir, "county.key", NULL);
  g_autoptr(HearthSecret) secret = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  guint8 public_key[HEARTH_COUNTY_KEY_SIZE];
  gsize len;

  secret = hearth_county_key_generate (public_key);
  g_assert_true (hearth_county_key_write (public_path, FALSE, public_key, &error));
  g_assert_no_error (error);
  g_assert_true (hearth_county_key_write (secret_path, TRUE, hearth_secret_peek (secret), &error));
  g_assert_no_error (error);

  g_assert_true (g_file_get_contents (public_path, &text, &len, &error));
  g_assert_no_error (error);
  hearth_fuzz_county_key ((const guint8 *) text, len);         /* accepted */
  hearth_fuzz_county_key ((const guint8 *) text, len - 1);     /* no final newline */
  hearth_fuzz_county_key ((const guint8 *) text, len - 2);     /* a base64 digit short */
  hearth_fuzz_county_key ((const guint8 *) text, 0);           /* empty */
  g_clear_pointer (&text, g_free);

  g_assert_true (g_file_get_contents (secret_path, &text, &len, &error));
  g_assert_no_error (error);
  hearth_fuzz_county_key ((const guint8 *) text, len);
  text[0] = 'H';
  hearth_fuzz_county_key ((const guint8 *) text, len);         /* wrong header */
  sodium_memzero (text, len);
}

/* Found by fuzz-county-key: libsodium 1.0.18 decodes a byte >= 0x80 in the
 * base64 line as '/', so a damaged key file was taken for a valid one. */
static void
test_county_key_non_ascii (void)
{
  g_autofree char *path = g_build_filename (HEARTH_FUZZ_CORPUS_DIR, "county-key-crashes",
                                            "non-ascii-base64-digit.pub", NULL);
  g_autoptr(GError) error = NULL;
  guint8 public_key[HEARTH_COUNTY_KEY_SIZE];

  g_assert_false (hearth_county_key_read_public (path, public_key, &error));
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE);
  g_assert_nonnull (strstr (error->message, "line 2"));
}

static void
test_county_key_regressions (void)
{
  replay_dir ("county-key-crashes", hearth_fuzz_county_key);
}

static void
test_xpath_regressions (void)
{
  replay_dir ("xpath-seeds", hearth_fuzz_xpath);
  replay_dir ("xpath-crashes", hearth_fuzz_xpath);
}

static void
test_xpath_eval_regressions (void)
{
  g_assert_cmpuint (replay_dir ("xpath-eval-seeds", hearth_fuzz_xpath_eval), >=, 30);
  replay_dir ("xpath-eval-crashes", hearth_fuzz_xpath_eval);
}

static void
test_form_regressions (void)
{
  replay_dir ("form-seeds", hearth_fuzz_form);
  replay_dir ("form-crashes", hearth_fuzz_form);
}

/* Stored packed texts (store-packed.h): a visit's, and the damaged and
 * oversized ones its test refuses by name. */
static void
test_packed_regressions (void)
{
  g_assert_cmpuint (replay_dir ("packed-seeds", hearth_fuzz_packed), >=, 9);
  replay_dir ("packed-crashes", hearth_fuzz_packed);
}

/* Record ids (sync/record-id.h): the RFC's example, ids of version 4,
 * capitals, near misses of the version and the variant. */
static void
test_record_id_regressions (void)
{
  g_assert_cmpuint (replay_dir ("record-id-seeds", hearth_fuzz_record_id), >=, 5);
  replay_dir ("record-id-crashes", hearth_fuzz_record_id);
}

static JsonNode *
read_reply (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (HEARTH_FUZZ_CORPUS_DIR, dir, name, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *root;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  root = hearth_sync_parse_reply (contents, len, 200, NULL, NULL, &error);
  g_assert_no_error (error);
  return root;
}

/* Found by fuzz-reply: what the tablet took from a broken center. */
static void
test_reply_found (void)
{
  g_autoptr(GError) error = NULL;

  /* "more": a number was read as true. */
  {
    g_autoptr(JsonNode) root = read_reply ("reply-crashes", "more-not-a-boolean.json");
    g_auto(HearthSyncPullPage) page = { 0 };

    g_assert_false (hearth_sync_read_pull_page (root, 1000, &page, &error));
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL);
    g_assert_nonnull (strstr (error->message, "more"));
    g_clear_error (&error);
  }
  /* json-glib's message quoted bytes that are not UTF-8. */
  {
    g_autofree char *path = g_build_filename (HEARTH_FUZZ_CORPUS_DIR, "reply-crashes", "parse-error-not-utf8.json",
                                              NULL);
    g_autofree char *contents = NULL;
    gsize len = 0;

    g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
    g_assert_null (hearth_sync_parse_reply (contents, len, 200, NULL, NULL, &error));
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE);
    g_assert_true (g_utf8_validate (error->message, -1, NULL));
    g_clear_error (&error);
  }
  /* Enrolments without the county key or with an unknown role; the seed
   * is read whole. */
  {
    const char *const cases[][2] = { { "enrol-without-county-key.json", "county_public_key" },
                                     { "enrol-unknown-role.json", "role" } };
    g_autoptr(JsonNode) seed = read_reply ("reply-seeds", "enrol.json");
    g_autoptr(HearthSyncEnrolment) e = hearth_sync_read_enrolment (seed, "https://c", DEVICE_OF_SEEDS, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (e->role, ==, "worker");
    g_assert_cmpstr (e->scope[1], ==, "361102002");
    g_assert_null (e->scope[2]);
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autoptr(JsonNode) root = read_reply ("reply-crashes", cases[i][0]);

        g_assert_null (hearth_sync_read_enrolment (root, "https://c", DEVICE_OF_SEEDS, &error));
        g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL);
        g_assert_nonnull (strstr (error->message, cases[i][1]));
        g_clear_error (&error);
      }
  }
}

/* A GB 11643 number of someone born @days from today (local time). */
static char *
id_number_born (int days)
{
  static const int weights[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) born = g_date_time_add_days (now, days);
  g_autofree char *date = g_date_time_format (born, "%Y%m%d");
  char *id = g_strdup_printf ("361102%s001X", date);
  int sum = 0;

  for (int i = 0; i < 17; i++)
    sum += (id[i] - '0') * weights[i];
  id[17] = "10X98765432"[sum % 11];
  return id;
}

/* Found by fuzz-registry: what the registry import let through. */
static void
test_registry_found (void)
{
  g_autofree char *today = id_number_born (0);
  g_autofree char *tomorrow = id_number_born (1);
  g_autofree char *why = NULL;
  g_autofree char *path = g_build_filename (HEARTH_FUZZ_CORPUS_DIR, "registry-crashes", "bom-then-nul.csv", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(HearthRegistry) registry = NULL;

  /* Born today is a real date; tomorrow is not yet, even this year. */
  why = hearth_id_number_check (today, NULL, NULL, NULL);
  g_assert_null (why);
  why = hearth_id_number_check (tomorrow, NULL, NULL, NULL);
  g_assert_nonnull (why);
  g_assert_nonnull (strstr (why, "birth date"));

  /* A NUL after a byte order mark: the file is refused, not cut there. */
  registry = hearth_case_registry_read (path, NULL, NULL, NULL, &problems, &error);
  g_assert_null (registry);
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "UTF-8"));
  g_assert_null (problems);
}

/* The readers the sync work added: their seeds, then what once broke them. */
static void
test_sync_regressions (gconstpointer data)
{
  const char *name = data;
  static const struct { const char *name; FuzzFunc func; } targets[] = {
    { "reply", hearth_fuzz_reply },
    { "apply", hearth_fuzz_apply },
    { "batch", hearth_fuzz_batch },
    { "batch-count", hearth_fuzz_batch_count },
    { "csv", hearth_fuzz_csv },
    { "registry", hearth_fuzz_registry },
    { "publish", hearth_fuzz_publish },
    { "versions", hearth_fuzz_versions },
    { "writes", hearth_fuzz_writes },
    { "state", hearth_fuzz_state },
  };

  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    if (g_str_equal (targets[i].name, name))
      {
        g_autofree char *seeds = g_strconcat (name, "-seeds", NULL);
        g_autofree char *crashes = g_strconcat (name, "-crashes", NULL);

        g_assert_cmpuint (replay_dir (seeds, targets[i].func), >=, 3);
        replay_dir (crashes, targets[i].func);
        return;
      }
  g_assert_not_reached ();
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);

  g_test_add_func ("/fuzz/keyslot/seeds", test_keyslot_seeds);
  g_test_add_func ("/fuzz/keyslot/envelope-without-flag", test_keyslot_envelope_without_flag);
  g_test_add_func ("/fuzz/keyslot/regressions", test_keyslot_regressions);
  g_test_add_func ("/fuzz/county-key/written", test_county_key_written);
  g_test_add_func ("/fuzz/county-key/non-ascii", test_county_key_non_ascii);
  g_test_add_func ("/fuzz/county-key/regressions", test_county_key_regressions);
  g_test_add_func ("/fuzz/xpath/regressions", test_xpath_regressions);
  g_test_add_func ("/fuzz/form/regressions", test_form_regressions);
  g_test_add_func ("/fuzz/xpath-eval/regressions", test_xpath_eval_regressions);
  g_test_add_func ("/fuzz/packed/regressions", test_packed_regressions);
  g_test_add_func ("/fuzz/record-id/regressions", test_record_id_regressions);
  g_test_add_data_func ("/fuzz/reply/regressions", "reply", test_sync_regressions);
  g_test_add_func ("/fuzz/reply/found", test_reply_found);
  g_test_add_data_func ("/fuzz/apply/regressions", "apply", test_sync_regressions);
  g_test_add_data_func ("/fuzz/batch/regressions", "batch", test_sync_regressions);
  g_test_add_data_func ("/fuzz/batch-count/regressions", "batch-count", test_sync_regressions);
  g_test_add_data_func ("/fuzz/csv/regressions", "csv", test_sync_regressions);
  g_test_add_data_func ("/fuzz/registry/regressions", "registry", test_sync_regressions);
  g_test_add_func ("/fuzz/registry/found", test_registry_found);
  g_test_add_data_func ("/fuzz/publish/regressions", "publish", test_sync_regressions);
  g_test_add_data_func ("/fuzz/versions/regressions", "versions", test_sync_regressions);
  g_test_add_data_func ("/fuzz/writes/regressions", "writes", test_sync_regressions);
  g_test_add_data_func ("/fuzz/state/regressions", "state", test_sync_regressions);

  return g_test_run ();
}

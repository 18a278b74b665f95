/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-record-id.c: record ids are UUIDs of version 7 (RFC 9562 section
 * 5.7): the RFC's own example is written and read back bit for bit, a new
 * id holds the time it was made, ids of later milliseconds sort later,
 * and only the exact lowercase form of version 7 is read as one.
 */
#include "test-util.h"
#include "record-id.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

/* RFC 9562 appendix A.6: unix_ts_ms 0x017F22E279B0 (2022-02-22
 * 19:22:22 UTC), rand_a 0xCC3, rand_b 0x18C4DC0C0C07398F. */
static void
test_rfc_example (void)
{
  const guint8 random[10] = { 0x0c, 0xc3, 0x18, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f };
  char text[HEARTH_RECORD_ID_LEN + 1];
  guint64 ms = 0;

  hearth_record_id_format (G_GUINT64_CONSTANT (0x017F22E279B0), random, text);
  g_assert_cmpstr (text, ==, "017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
  g_assert_true (hearth_record_id_time (text, strlen (text), &ms));
  g_assert_cmpuint (ms, ==, G_GUINT64_CONSTANT (0x017F22E279B0));
  g_assert_true (g_uuid_string_is_valid (text));
  /* The bits that are not time, version or variant come from @random
   * alone: the version and variant bits in it are overwritten. */
  {
    const guint8 ones[10] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

    hearth_record_id_format (0, ones, text);
    g_assert_cmpstr (text, ==, "00000000-0000-7fff-bfff-ffffffffffff");
    /* A time past 48 bits is written as the last one. */
    hearth_record_id_format (G_MAXUINT64, ones, text);
    g_assert_cmpstr (text, ==, "ffffffff-ffff-7fff-bfff-ffffffffffff");
  }
}

static void
test_new (void)
{
  gint64 before = g_get_real_time () / 1000;
  g_autofree char *a = hearth_record_id_new ();
  g_autofree char *b = hearth_record_id_new ();
  gint64 after = g_get_real_time () / 1000;
  guint64 ms = 0;

  g_assert_cmpuint (strlen (a), ==, HEARTH_RECORD_ID_LEN);
  g_assert_true (g_uuid_string_is_valid (a));
  g_assert_cmpint (a[14], ==, '7');
  g_assert_nonnull (strchr ("89ab", a[19]));
  g_assert_true (hearth_record_id_time (a, strlen (a), &ms));
  g_assert_cmpint ((gint64) ms, >=, before);
  g_assert_cmpint ((gint64) ms, <=, after);
  /* Random beyond the time: two ids of one millisecond differ. */
  g_assert_cmpstr (a, !=, b);
  /* Lowercase, as g_uuid_string_random() wrote ids before. */
  for (const char *p = a; *p != '\0'; p++)
    g_assert_false (g_ascii_isupper (*p));
}

/* Ids of later milliseconds sort later as text, whatever their random
 * bits: what keeps the center's index of them in time order. */
static void
test_order (void)
{
  guint8 random[10];
  char prev[HEARTH_RECORD_ID_LEN + 1] = "";
  guint64 ms = G_GUINT64_CONSTANT (1764720000000);

  for (guint i = 0; i < 1000; i++)
    {
      char text[HEARTH_RECORD_ID_LEN + 1];

      for (guint k = 0; k < sizeof random; k++)
        random[k] = (guint8) g_test_rand_int_range (0, 256);
      ms += (guint64) g_test_rand_int_range (1, 5000);
      hearth_record_id_format (ms, random, text);
      g_assert_cmpstr (prev, <, text);
      memcpy (prev, text, sizeof text);
    }
}

static void
test_not_version_7 (void)
{
  const char *const not_7[] = {
    "0ab3c3e6-5b8e-4c2a-9f6d-0a1b2c3d4e5f",  /* version 4 */
    "017F22E2-79B0-7CC3-98C4-DC0C0C07398F",  /* capitals */
    "017f22e2-79b0-7cc3-c8c4-dc0c0c07398f",  /* variant 0b110 */
    "017f22e2-79b0-7cc3-78c4-dc0c0c07398f",  /* variant 0b0 */
    "017f22e2-79b0-7cc3-98c4-dc0c0c07398",   /* short */
    "017f22e2-79b0-7cc3-98c4-dc0c0c07398f0", /* long */
    "017f22e279b0-7cc3-98c4-dc0c0c07398f-",  /* dashes elsewhere */
    "017g22e2-79b0-7cc3-98c4-dc0c0c07398f",  /* not hexadecimal */
    "",
  };
  guint64 ms = 42;

  for (guint i = 0; i < G_N_ELEMENTS (not_7); i++)
    {
      g_assert_false (hearth_record_id_time (not_7[i], strlen (not_7[i]), &ms));
      g_assert_cmpuint (ms, ==, 42);
    }
  g_assert_false (hearth_record_id_time (NULL, 36, &ms));
  /* The length given, not a NUL, bounds what is read. */
  g_assert_true (hearth_record_id_time ("017f22e2-79b0-7cc3-98c4-dc0c0c07398fXYZ", 36, NULL));
  g_assert_false (hearth_record_id_time ("017f22e2-79b0-7cc3-98c4-dc0c0c07398fXYZ", 39, NULL));
}

/* The child of test_before_1970(): a new id, printed, with criticals
 * not fatal (as in the programs: a g_return_if_fail() returns). */
static void
test_before_1970_child (void)
{
  g_autofree char *id = NULL;

  g_log_set_always_fatal (G_LOG_FATAL_MASK);
  id = hearth_record_id_new ();
  g_print ("ID[%s]\n", id);
}

/* A device whose wall clock reads before 1970 (a clock set wrong;
 * g_get_real_time () negative) still makes a valid id, without a
 * critical: hearth_record_id_new() gave hearth_record_id_format() the
 * negative time cast to 64 bits, which it refuses (g_return_if_fail),
 * leaving the text uninitialised, which was then copied. Run in a
 * child with the test clock shim (tests/fake-clock.c) 60 s before
 * 1970. */
static void
test_before_1970 (void)
{
  const char *shim = g_getenv ("HEARTH_FAKE_CLOCK");
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autofree char *out = NULL, *err = NULL, *clock_path = NULL, *offset = NULL;
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  const char *start, *end;
  g_autofree char *id = NULL;
  guint64 ms = 1;

  if (shim == NULL)
    {
      g_test_skip ("HEARTH_FAKE_CLOCK is not set");
      return;
    }
  clock_path = g_build_filename (g_get_tmp_dir (), "b31-record-id-clock", NULL);
  offset = g_strdup_printf ("%" G_GINT64_FORMAT, -(g_get_real_time () / 1000) - 60000);
  g_assert_true (g_file_set_contents (clock_path, offset, -1, NULL));
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "LD_PRELOAD", shim, TRUE);
  g_subprocess_launcher_setenv (launcher, "FAKECLOCK_FILE", clock_path, TRUE);
  g_subprocess_launcher_setenv (launcher, "HEARTH_TEST_RECORD_ID_CHILD", "1", TRUE);
  child = g_subprocess_launcher_spawn (launcher, &error, self, "-p", "/record-id/before-1970-child", NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (child, NULL, NULL, &out, &err, &error));
  g_assert_no_error (error);
  g_remove (clock_path);
  g_test_message ("child stdout: %s", out);
  g_test_message ("child stderr: %s", err);
  g_assert_true (g_subprocess_get_if_exited (child));
  g_assert_cmpint (g_subprocess_get_exit_status (child), ==, 0);
  g_assert_null (strstr (err, "CRITICAL"));
  start = strstr (out, "ID[");
  g_assert_nonnull (start);
  start += 3;
  end = strchr (start, ']');
  g_assert_nonnull (end);
  id = g_strndup (start, (gsize) (end - start));
  g_assert_true (g_uuid_string_is_valid (id));
  /* Made at time 0, the earliest an id can say. */
  g_assert_true (hearth_record_id_time (id, strlen (id), &ms));
  g_assert_cmpuint (ms, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/record-id/rfc-example", test_rfc_example);
  g_test_add_func ("/record-id/new", test_new);
  g_test_add_func ("/record-id/order", test_order);
  g_test_add_func ("/record-id/not-version-7", test_not_version_7);
  g_test_add_func ("/record-id/before-1970", test_before_1970);
  /* Only in the child /record-id/before-1970 starts: a run of the suite
   * lists no test it skips. */
  if (g_getenv ("HEARTH_TEST_RECORD_ID_CHILD") != NULL)
    g_test_add_func ("/record-id/before-1970-child", test_before_1970_child);
  return g_test_run ();
}

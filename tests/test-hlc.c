/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-hlc.c: the hybrid logical clock never goes backwards whatever the
 * wall clock does, orders events within one millisecond, moves past what
 * it receives, refuses a time too far ahead, resumes after a restart, and
 * its text form sorts as it compares.
 */
#include "test-util.h"
#include "hlc.h"

#include <string.h>

static gint64
fixed_wall (gpointer data)
{
  return *(gint64 *) data;
}

static void
test_monotonic (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthHlcClock) clock = hearth_hlc_clock_new ("tablet-a", NULL, &error);
  gint64 wall = 1700000000000;
  HearthHlc a, b, c, d;

  g_assert_no_error (error);
  hearth_hlc_clock_set_wall (clock, fixed_wall, &wall);
  hearth_hlc_clock_now (clock, &a);
  g_assert_cmpint (a.wall_ms, ==, wall);
  g_assert_cmpuint (a.counter, ==, 0);
  hearth_hlc_clock_now (clock, &b);          /* the same millisecond */
  g_assert_cmpint (b.wall_ms, ==, wall);
  g_assert_cmpuint (b.counter, ==, 1);
  wall -= 3600 * 1000;                       /* the wall clock jumps back an hour */
  hearth_hlc_clock_now (clock, &c);
  g_assert_cmpint (hearth_hlc_compare (&c, &b), >, 0);
  g_assert_cmpint (c.wall_ms, ==, b.wall_ms);
  wall += 2 * 3600 * 1000;                   /* and forward again */
  hearth_hlc_clock_now (clock, &d);
  g_assert_cmpint (d.wall_ms, ==, wall);
  g_assert_cmpuint (d.counter, ==, 0);
  g_assert_cmpstr (d.device, ==, "tablet-a");
}

static void
test_receive (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthHlcClock) clock = hearth_hlc_clock_new ("tablet-a", NULL, &error);
  gint64 wall = 1700000000000;
  HearthHlc remote = { .wall_ms = wall + 5000, .counter = 7 }, after, next;

  g_strlcpy (remote.device, "tablet-b", sizeof remote.device);
  hearth_hlc_clock_set_wall (clock, fixed_wall, &wall);
  g_assert_true (hearth_hlc_clock_receive (clock, &remote, 60000, &after, &error));
  g_assert_no_error (error);
  g_assert_cmpint (after.wall_ms, ==, remote.wall_ms);
  g_assert_cmpuint (after.counter, ==, 8);
  hearth_hlc_clock_now (clock, &next);
  g_assert_cmpint (hearth_hlc_compare (&next, &remote), >, 0);

  /* A remote a day ahead is refused and changes nothing. */
  remote.wall_ms = wall + 24 * 3600 * 1000;
  g_assert_false (hearth_hlc_clock_receive (clock, &remote, 10 * 60 * 1000, NULL, &error));
  g_assert_error (error, HEARTH_HLC_ERROR, HEARTH_HLC_ERROR_DRIFT);
  hearth_hlc_clock_now (clock, &after);
  g_assert_cmpint (after.wall_ms, ==, next.wall_ms);
}

/* After a restart the clock continues past the last time it issued. */
static void
test_resume_and_text (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthHlcClock) first = hearth_hlc_clock_new ("dev-1", NULL, &error);
  g_autoptr(HearthHlcClock) second = NULL;
  gint64 wall = 1700000000000, earlier = 1600000000000;
  HearthHlc a, b, parsed;
  g_autofree char *text = NULL;
  g_autofree char *again = NULL;

  hearth_hlc_clock_set_wall (first, fixed_wall, &wall);
  hearth_hlc_clock_now (first, &a);
  hearth_hlc_clock_now (first, &a);
  text = hearth_hlc_to_string (&a);
  g_assert_cmpstr (text, ==, "001700000000000-00000001-dev-1");
  g_assert_true (hearth_hlc_parse (text, &parsed, &error));
  g_assert_cmpint (hearth_hlc_compare (&parsed, &a), ==, 0);
  second = hearth_hlc_clock_new ("dev-1", text, &error);
  g_assert_no_error (error);
  hearth_hlc_clock_set_wall (second, fixed_wall, &earlier);  /* rebooted with a wrong clock */
  hearth_hlc_clock_now (second, &b);
  g_assert_cmpint (hearth_hlc_compare (&b, &a), >, 0);
  again = hearth_hlc_to_string (&b);
  g_assert_cmpint (strcmp (again, text), >, 0);               /* the text sorts as the clock */

  {
    static const char *const bad[] = { "", "12-00000001-x", "00170000000000x-00000001-dev",
                                       "001700000000000-0000000g-dev", "001700000000000-00000001-",
                                       "001700000000000-00000001-d ev",
                                       /* What g_ascii_string_to_unsigned() refused: a sign, a
                                        * space, "0x" (the digits are read in place). */
                                       "+01700000000000-00000001-dev", " 01700000000000-00000001-dev",
                                       "001700000000000-+0000001-dev", "001700000000000-0x000001-dev",
                                       "001700000000000- 0000001-dev" };
    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_clear_error (&error);
        g_assert_false (hearth_hlc_parse (bad[i], &parsed, &error));
        g_assert_error (error, HEARTH_HLC_ERROR, HEARTH_HLC_ERROR_INVALID);
      }
    g_clear_error (&error);
    g_assert_null (hearth_hlc_clock_new ("", NULL, &error));
    g_assert_error (error, HEARTH_HLC_ERROR, HEARTH_HLC_ERROR_INVALID);
  }
}

/* Ties within one millisecond go by counter, then by device id. */
static void
test_order (void)
{
  HearthHlc x = { .wall_ms = 5, .counter = 1, .device = "a" };
  HearthHlc y = { .wall_ms = 5, .counter = 1, .device = "b" };
  HearthHlc z = { .wall_ms = 5, .counter = 2, .device = "a" };

  g_assert_cmpint (hearth_hlc_compare (&x, &y), <, 0);
  g_assert_cmpint (hearth_hlc_compare (&y, &z), <, 0);
  g_assert_cmpint (hearth_hlc_compare (&z, &z), ==, 0);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/sync/hlc/monotonic", test_monotonic);
  g_test_add_func ("/sync/hlc/receive", test_receive);
  g_test_add_func ("/sync/hlc/resume-and-text", test_resume_and_text);
  g_test_add_func ("/sync/hlc/order", test_order);
  return g_test_run ();
}

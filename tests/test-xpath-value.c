/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-xpath-value.c: the number and date rules of the forms engine
 * (../shared/INTERFACES.md, "Numbers"; issue: "Semantics, each a test"):
 * 0.1 + 0.2 is stored as 0.3, round(47.225, 2) is 47.23, an empty answer
 * is not zero, and a date-only value is the same calendar date whatever the
 * time zone (checked under Pacific/Kiritimati and America/Los_Angeles).
 */
#include "test-util.h"
#include "xpath-value.h"

#include <math.h>
#include <string.h>
#include <time.h>

static void
assert_number_text (double v, const char *expected)
{
  g_autofree char *text = hearth_xpath_number_to_string (v);
  g_assert_cmpstr (text, ==, expected);
}

static void
test_number_to_string (void)
{
  assert_number_text (0.1 + 0.2, "0.3");
  assert_number_text (1.0 / 3.0, "0.333333333333333");
  assert_number_text (12.5, "12.5");
  assert_number_text (3.0, "3");
  assert_number_text (-0.0, "0");
  assert_number_text (-2.50, "-2.5");
  assert_number_text (1e21, "1000000000000000000000");
  assert_number_text (1.5e-7, "0.00000015");
  assert_number_text (123456789012345678.0, "123456789012346000");
  assert_number_text (NAN, "NaN");
  assert_number_text (INFINITY, "Infinity");
  assert_number_text (-INFINITY, "-Infinity");
  assert_number_text (8800.0 / 3.0 * 3.0, "8800");
}

static void
test_round (void)
{
  g_assert_cmpfloat (hearth_xpath_round (47.225, 2), ==, 47.23);
  g_assert_cmpfloat (hearth_xpath_round (-47.225, 2), ==, -47.23);
  g_assert_cmpfloat (hearth_xpath_round (2.5, 0), ==, 3);
  g_assert_cmpfloat (hearth_xpath_round (-2.5, 0), ==, -3);
  g_assert_cmpfloat (hearth_xpath_round (1.005, 2), ==, 1.01);
  g_assert_cmpfloat (hearth_xpath_round (0.1 + 0.2, 1), ==, 0.3);
  g_assert_cmpfloat (hearth_xpath_round (1234.5678, -2), ==, 1200);
  g_assert_cmpfloat (hearth_xpath_round (1250, -2), ==, 1300);
  g_assert_cmpfloat (hearth_xpath_round (0.004, 2), ==, 0);
  g_assert_cmpfloat (hearth_xpath_round (0.005, 2), ==, 0.01);
  g_assert_cmpfloat (hearth_xpath_round (9.995, 2), ==, 10);
  g_assert_cmpfloat (hearth_xpath_round (123.456, 10), ==, 123.456);
  g_assert_true (isnan (hearth_xpath_round (NAN, 2)));
  {
    g_autofree char *text = hearth_xpath_number_to_string (hearth_xpath_round (47.225, 2));
    g_assert_cmpstr (text, ==, "47.23");
  }
}

static void
test_string_to_number (void)
{
  g_assert_true (isnan (hearth_xpath_string_to_number ("")));        /* blank is not zero */
  g_assert_true (isnan (hearth_xpath_string_to_number ("   ")));
  g_assert_true (isnan (hearth_xpath_string_to_number ("abc")));
  g_assert_true (isnan (hearth_xpath_string_to_number ("1e3")));      /* no exponent in XPath */
  g_assert_true (isnan (hearth_xpath_string_to_number ("+1")));
  g_assert_true (isnan (hearth_xpath_string_to_number ("1 2")));
  g_assert_true (isnan (hearth_xpath_string_to_number ("-")));
  g_assert_true (isnan (hearth_xpath_string_to_number (".")));
  g_assert_cmpfloat (hearth_xpath_string_to_number (" 12.5 "), ==, 12.5);
  g_assert_cmpfloat (hearth_xpath_string_to_number ("-0.5"), ==, -0.5);
  g_assert_cmpfloat (hearth_xpath_string_to_number (".5"), ==, 0.5);
  g_assert_cmpfloat (hearth_xpath_string_to_number ("5."), ==, 5);
  /* ODK: a date is its number of days since 1970-01-01. */
  g_assert_cmpfloat (hearth_xpath_string_to_number ("1970-01-02"), ==, 1);
  g_assert_cmpfloat (hearth_xpath_string_to_number ("2024-03-05"), ==, 19787);
  g_assert_cmpfloat (hearth_xpath_string_to_number ("1969-12-31"), ==, -1);
  g_assert_true (isnan (hearth_xpath_string_to_number ("2024-02-30")));
}

static void
check_dates_in_zone (const char *zone)
{
  static const char *const dates[] = {
    "1970-01-01", "2024-02-29", "2024-03-05", "1949-12-31", "2000-12-31", "0001-01-01", "9999-12-31",
  };

  g_setenv ("TZ", zone, TRUE);
  tzset ();
  for (gsize i = 0; i < G_N_ELEMENTS (dates); i++)
    {
      gint64 days;
      g_autofree char *back = NULL;

      g_assert_true (hearth_xpath_parse_date (dates[i], &days));
      back = hearth_xpath_days_to_date (days);
      g_assert_cmpstr (back, ==, dates[i]);
    }
  /* Date arithmetic: the difference of two dates is whole days. */
  {
    gint64 a, b;
    g_assert_true (hearth_xpath_parse_date ("2024-03-05", &a));
    g_assert_true (hearth_xpath_parse_date ("2023-03-05", &b));
    g_assert_cmpint (a - b, ==, 366);
    g_assert_cmpint (a, ==, 19787);
  }
  /* A dateTime's date part is taken as written, whatever its offset. */
  {
    gint64 d;
    g_autofree char *back = NULL;
    g_assert_true (hearth_xpath_parse_date ("2024-03-05T23:30:00.000+14:00", &d));
    back = hearth_xpath_days_to_date (d);
    g_assert_cmpstr (back, ==, "2024-03-05");
  }
}

static void
test_dates_time_zone_free (void)
{
  const char *saved = g_getenv ("TZ");
  g_autofree char *keep = g_strdup (saved);
  gint64 days;

  check_dates_in_zone ("Pacific/Kiritimati");
  check_dates_in_zone ("America/Los_Angeles");
  check_dates_in_zone ("UTC");
  if (keep != NULL)
    g_setenv ("TZ", keep, TRUE);
  else
    g_unsetenv ("TZ");
  tzset ();

  g_assert_false (hearth_xpath_parse_date ("2023-02-29", &days));
  g_assert_false (hearth_xpath_parse_date ("2024-13-01", &days));
  g_assert_false (hearth_xpath_parse_date ("2024-1-05", &days));
  g_assert_false (hearth_xpath_parse_date ("0000-01-01", &days));
  g_assert_false (hearth_xpath_parse_date ("2024-03-05x", &days));
  g_assert_false (hearth_xpath_parse_date ("", &days));
  g_assert_null (hearth_xpath_days_to_date (-800000));
  g_assert_null (hearth_xpath_days_to_date (3000000));
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/xpath/value/number-to-string", test_number_to_string);
  g_test_add_func ("/xpath/value/round", test_round);
  g_test_add_func ("/xpath/value/string-to-number", test_string_to_number);
  g_test_add_func ("/xpath/value/dates-time-zone-free", test_dates_time_zone_free);
  return g_test_run ();
}

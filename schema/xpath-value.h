/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xpath-value.h: the number and date rules of Hearth's forms engine, which
 * real engines got wrong and lost data over (../shared/INTERFACES.md,
 * "Numbers"; ../shared/ARCHITECTURE.md, "Forms"):
 *
 * - a number is written with at most 15 significant digits and no trailing
 *   zeros, so 0.1 + 0.2 is stored as "0.3", never binary noise;
 * - round(x, n) rounds that decimal representation half away from zero, so
 *   round(47.225, 2) is 47.23 although the double 47.225 is a little less;
 * - a date-only value is a calendar date, counted in days from 1970-01-01
 *   with no time zone anywhere, so it never moves to the day before or after;
 * - an empty string is not zero: as a number it is NaN.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * hearth_xpath_number_to_string:
 * @value: a number
 *
 * Writes @value as the instance stores it: at most 15 significant digits,
 * no exponent, no trailing zeros and no trailing point; "NaN", "Infinity"
 * and "-Infinity" as XPath 1.0's string() writes them; -0 as "0".
 *
 * Returns: (transfer full): the text. Thread-safe.
 */
char *hearth_xpath_number_to_string (double value);

/**
 * hearth_xpath_round:
 * @value: the number to round
 * @digits: decimal places to keep (negative rounds to tens, hundreds, …)
 *
 * Rounds half away from zero on the 15-significant-digit decimal
 * representation of @value (the one hearth_xpath_number_to_string() writes),
 * as ODK's round(number, digits) requires.
 *
 * Returns: the rounded number; NaN and infinities unchanged.
 */
double hearth_xpath_round (double value,
                           int    digits);

/**
 * hearth_xpath_string_to_number:
 * @text: a string value
 *
 * XPath 1.0 number() on a string (optional whitespace, an optional minus,
 * digits with an optional decimal point), extended as ODK does: a date
 * "YYYY-MM-DD" is its number of days since 1970-01-01. Anything else,
 * including the empty string, is NaN: a blank answer is not zero.
 */
double hearth_xpath_string_to_number (const char *text);

/**
 * hearth_xpath_parse_date:
 * @text: "YYYY-MM-DD", or a dateTime whose date part is taken as written
 * @days: (out): days since 1970-01-01 (negative before it)
 *
 * Reads a calendar date. No time zone is applied: the date written is the
 * date meant.
 *
 * Returns: %TRUE when @text is a valid date (month 1-12, a day that exists
 *   in that month, year 1-9999).
 */
gboolean hearth_xpath_parse_date (const char *text,
                                  gint64     *days);

/**
 * hearth_xpath_days_to_date:
 * @days: days since 1970-01-01
 *
 * Returns: (transfer full) (nullable): "YYYY-MM-DD", or %NULL outside years
 *   1-9999.
 */
char *hearth_xpath_days_to_date (gint64 days);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* id-number.c: GB 11643-1999 resident identity numbers (id-number.h). */
#include "id-number.h"

#include <glib/gi18n.h>
#include <string.h>

char *
hearth_id_number_check (const char *text, char **normalised, char **birth_date, char *sex)
{
  static const int weights[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
  static const char checks[] = "10X98765432";
  char id[19];
  int sum = 0, year, month, day;
  g_autoptr(GDateTime) now = NULL;

  if (text == NULL || strlen (text) != 18)
    return g_strdup (_("an ID number has 18 characters"));
  memcpy (id, text, 19);
  if (id[17] == 'x')
    id[17] = 'X';
  for (int i = 0; i < 17; i++)
    {
      if (!g_ascii_isdigit (id[i]))
        return g_strdup (_("the first 17 characters of an ID number are digits"));
      sum += (id[i] - '0') * weights[i];
    }
  /* A province's code first (GB/T 2260): 000000… or 99… with the right
   * check character was imported (break33). */
  {
    static const char *const provinces[] = { "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34",
                                             "35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52",
                                             "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", NULL };
    char province[3] = { id[0], id[1], '\0' };

    if (!g_strv_contains (provinces, province))
      return g_strdup_printf (_("an ID number starts with a province's code (11 to 82, GB/T 2260), not %s"), province);
  }
  year = (id[6] - '0') * 1000 + (id[7] - '0') * 100 + (id[8] - '0') * 10 + (id[9] - '0');
  month = (id[10] - '0') * 10 + (id[11] - '0');
  day = (id[12] - '0') * 10 + (id[13] - '0');
  now = g_date_time_new_now_local ();
  /* Not in the future: later this year is (a year compared alone let
   * December through in November). */
  if (year < 1850 || month < 1 || month > 12 || day < 1 || !g_date_valid_dmy (day, month, year) ||
      year * 10000 + month * 100 + day > g_date_time_get_year (now) * 10000 + g_date_time_get_month (now) * 100 +
                                         g_date_time_get_day_of_month (now))
    return g_strdup (_("the birth date in the ID number is not a real date"));
  if (checks[sum % 11] != id[17])
    return g_strdup_printf (_("the check character of the ID number should be %c"), checks[sum % 11]);
  if (normalised != NULL)
    *normalised = g_strdup (id);
  if (birth_date != NULL)
    *birth_date = g_strdup_printf ("%04d-%02d-%02d", year, month, day);
  if (sex != NULL)
    *sex = ((id[16] - '0') % 2) ? '1' : '2';
  return NULL;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "xpath-value.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Julian day of 1970-01-01 in GLib's count (0001-01-01 is day 1). */
#define EPOCH_JULIAN 719163

char *
hearth_xpath_number_to_string (double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  GString *s;
  const char *e, *p;
  g_autoptr(GString) digits = NULL;
  int exponent, point;

  if (isnan (value))
    return g_strdup ("NaN");
  if (isinf (value))
    return g_strdup (value > 0 ? "Infinity" : "-Infinity");
  if (value == 0)
    return g_strdup ("0");  /* and -0 */

  /* "%.15g" drops trailing zeros itself; only an exponent remains to undo. */
  g_ascii_formatd (buf, sizeof buf, "%.15g", value);
  e = strchr (buf, 'e');
  if (e == NULL)
    return g_strdup (buf);

  s = g_string_new (NULL);
  digits = g_string_new (NULL);
  exponent = atoi (e + 1);
  p = buf;
  if (*p == '-')
    g_string_append_c (s, *p++);
  for (; p < e; p++)
    if (g_ascii_isdigit (*p))
      g_string_append_c (digits, *p);
  point = 1 + exponent;  /* the mantissa is d.ddd */
  if (point <= 0)
    {
      g_string_append (s, "0.");
      for (int i = 0; i < -point; i++)
        g_string_append_c (s, '0');
      g_string_append (s, digits->str);
    }
  else if ((gsize) point >= digits->len)
    {
      g_string_append (s, digits->str);
      for (gsize i = digits->len; i < (gsize) point; i++)
        g_string_append_c (s, '0');
    }
  else
    {
      g_string_append_len (s, digits->str, point);
      g_string_append_c (s, '.');
      g_string_append (s, digits->str + point);
    }
  return g_string_free (s, FALSE);
}

double
hearth_xpath_round (double value, int digits)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char number[64];
  char kept[16];
  const char *e;
  gboolean negative = value < 0;
  guint64 k;
  int exponent, keep, n = 0;

  if (isnan (value) || isinf (value) || value == 0)
    return value;
  digits = CLAMP (digits, -400, 400);
  /* The 15 significant digits the value is written with: d.dddddddddddddd. */
  g_ascii_formatd (buf, sizeof buf, "%.14e", fabs (value));
  e = strchr (buf, 'e');
  exponent = atoi (e + 1);
  for (const char *p = buf; p < e; p++)
    if (g_ascii_isdigit (*p))
      kept[n++] = *p;
  kept[n] = '\0';  /* 15 digits; the first stands for 10^exponent */

  keep = exponent + 1 + digits;  /* how many of them stay */
  if (keep >= 15)
    return value;
  if (keep < 0)
    return negative ? -0.0 : 0.0;
  {
    char lead[16];
    memcpy (lead, kept, keep);
    lead[keep] = '\0';
    k = keep > 0 ? g_ascii_strtoull (lead, NULL, 10) : 0;
  }
  if (kept[keep] >= '5')
    k++;  /* half away from zero: on the magnitude, a half goes up */
  g_snprintf (number, sizeof number, "%" G_GUINT64_FORMAT "e%d", k, -digits);
  return negative ? -g_ascii_strtod (number, NULL) : g_ascii_strtod (number, NULL);
}

gboolean
hearth_xpath_parse_date (const char *text, gint64 *days)
{
  int y, m, d;
  GDate date;

  if (text == NULL || strlen (text) < 10 ||
      !g_ascii_isdigit (text[0]) || !g_ascii_isdigit (text[1]) || !g_ascii_isdigit (text[2]) ||
      !g_ascii_isdigit (text[3]) || text[4] != '-' || !g_ascii_isdigit (text[5]) ||
      !g_ascii_isdigit (text[6]) || text[7] != '-' || !g_ascii_isdigit (text[8]) ||
      !g_ascii_isdigit (text[9]) || (text[10] != '\0' && text[10] != 'T'))
    return FALSE;
  y = (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + (text[3] - '0');
  m = (text[5] - '0') * 10 + (text[6] - '0');
  d = (text[8] - '0') * 10 + (text[9] - '0');
  if (!g_date_valid_dmy (d, m, y))
    return FALSE;
  g_date_clear (&date, 1);
  g_date_set_dmy (&date, d, m, y);
  *days = (gint64) g_date_get_julian (&date) - EPOCH_JULIAN;
  return TRUE;
}

char *
hearth_xpath_days_to_date (gint64 days)
{
  gint64 julian = days + EPOCH_JULIAN;
  GDate date;

  if (julian < 1 || !g_date_valid_julian ((guint32) MIN (julian, G_MAXUINT32)))
    return NULL;
  g_date_clear (&date, 1);
  g_date_set_julian (&date, (guint32) julian);
  if (g_date_get_year (&date) > 9999)
    return NULL;
  return g_strdup_printf ("%04d-%02d-%02d", g_date_get_year (&date),
                          g_date_get_month (&date), g_date_get_day (&date));
}

double
hearth_xpath_string_to_number (const char *text)
{
  const char *p = text;
  const char *start;
  gboolean digits = FALSE;
  gint64 days;

  if (text == NULL)
    return NAN;
  while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
    p++;
  if (hearth_xpath_parse_date (p, &days))
    {
      /* Only a bare date (trailing whitespace allowed) is a date. */
      const char *rest = p + 10;
      while (*rest == ' ' || *rest == '\t' || *rest == '\r' || *rest == '\n')
        rest++;
      if (*rest == '\0')
        return (double) days;
      /* A dateTime: days since 1970-01-01 UTC with the time as a fraction
       * (ODK number(): "date- and dateTime-formatted strings"); without an
       * offset it is local time, as on the device. */
      if (p[10] == 'T')
        {
          g_autofree char *trimmed = g_strstrip (g_strdup (p));
          g_autoptr(GTimeZone) local = g_time_zone_new_local ();
          g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601 (trimmed, local);

          if (dt != NULL)
            return (double) g_date_time_to_unix (dt) / 86400.0 + g_date_time_get_microsecond (dt) / 86400e6;
          return NAN;
        }
    }
  start = p;
  if (*p == '-')
    p++;
  while (g_ascii_isdigit (*p))
    p++, digits = TRUE;
  if (*p == '.')
    {
      p++;
      while (g_ascii_isdigit (*p))
        p++, digits = TRUE;
    }
  if (!digits)
    return NAN;
  {
    g_autofree char *number = g_strndup (start, p - start);
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
      p++;
    if (*p != '\0')
      return NAN;
    return g_ascii_strtod (number, NULL);
  }
}

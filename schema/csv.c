/* SPDX-License-Identifier: GPL-3.0-or-later */
/* csv.c: reading CSV records (csv.h). */
#include "csv.h"

static GPtrArray *
read_record (const char **p, HearthCsvProblem *problem)
{
  GPtrArray *fields;
  GString *field = g_string_new (NULL);
  const char *s = *p;

  if (*s == '\0')
    {
      g_string_free (field, TRUE);
      return NULL;
    }
  fields = g_ptr_array_new_with_free_func (g_free);
  for (;;)
    {
      if (*s == '"')
        {
          s++;
          for (;;)
            {
              if (*s == '\0')
                {
                  *problem = HEARTH_CSV_UNCLOSED_QUOTE;
                  break;
                }
              if (*s == '"' && s[1] == '"')
                {
                  g_string_append_c (field, '"');
                  s += 2;
                  continue;
                }
              if (*s == '"')
                {
                  s++;
                  /* "abc"def: not a field RFC 4180 writes. */
                  if (*s != '\0' && *s != ',' && *s != '\n' && *s != '\r' && *problem == HEARTH_CSV_OK)
                    *problem = HEARTH_CSV_TEXT_AFTER_QUOTE;
                  break;
                }
              g_string_append_c (field, *s++);
            }
        }
      while (*s != '\0' && *s != ',' && *s != '\n' && *s != '\r')
        g_string_append_c (field, *s++);
      g_ptr_array_add (fields, g_string_free (g_steal_pointer (&field), FALSE));
      field = g_string_new (NULL);
      if (*s == ',')
        {
          s++;
          continue;
        }
      if (*s == '\r')
        s++;
      if (*s == '\n')
        s++;
      break;
    }
  g_string_free (field, TRUE);
  *p = s;
  return fields;
}


GPtrArray *
hearth_csv_record (const char **p, gboolean *bad)
{
  HearthCsvProblem problem = HEARTH_CSV_OK;
  GPtrArray *fields = read_record (p, &problem);

  if (problem == HEARTH_CSV_UNCLOSED_QUOTE)
    *bad = TRUE;
  return fields;
}

GPtrArray *
hearth_csv_record_strict (const char **p, HearthCsvProblem *problem)
{
  *problem = HEARTH_CSV_OK;
  return read_record (p, problem);
}

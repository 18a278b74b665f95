/* SPDX-License-Identifier: GPL-3.0-or-later */
/* json-depth.c: nesting depth of raw JSON (json-depth.h). */
#define G_LOG_DOMAIN "hearth-sync"

#include "json-depth.h"

#include <glib/gi18n-lib.h>

G_DEFINE_QUARK (hearth-json-depth-error-quark, hearth_json_depth_error)

gboolean
hearth_json_check_depth (const char *data, gsize len, guint max_depth, guint *depth_out, GError **error)
{
  guint depth = 0, deepest = 0;
  gsize line = 1, line_start = 0;
  gboolean in_string = FALSE, escaped = FALSE;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  for (gsize i = 0; i < len; i++)
    {
      char c = data[i];

      if (c == '\n')
        {
          line++;
          line_start = i + 1;
        }
      if (in_string)
        {
          if (escaped)
            escaped = FALSE;
          else if (c == '\\')
            escaped = TRUE;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      switch (c)
        {
        case '"':
          in_string = TRUE;
          break;
        case '[':
        case '{':
          depth++;
          deepest = MAX (deepest, depth);
          if (depth > max_depth)
            {
              if (depth_out != NULL)
                *depth_out = deepest;
              /* Columns count bytes from 1, as json-glib's do. */
              g_set_error (error, HEARTH_JSON_DEPTH_ERROR, HEARTH_JSON_DEPTH_ERROR_TOO_DEEP,
                           _("line %lu, column %lu: arrays and objects nest deeper than %u levels"),
                           (unsigned long) line, (unsigned long) (i - line_start + 1), max_depth);
              return FALSE;
            }
          break;
        case ']':
        case '}':
          /* Unbalanced closers are the parser's to report. */
          if (depth > 0)
            depth--;
          break;
        case '/':
        case '\'':
          g_set_error (error, HEARTH_JSON_DEPTH_ERROR, HEARTH_JSON_DEPTH_ERROR_NOT_JSON,
                       _("line %lu, column %lu: “%c” outside a string (JSON has no comments or single quotes)"),
                       (unsigned long) line, (unsigned long) (i - line_start + 1), c);
          if (depth_out != NULL)
            *depth_out = deepest;
          return FALSE;
        default:
          break;
        }
    }
  if (depth_out != NULL)
    *depth_out = deepest;
  return TRUE;
}

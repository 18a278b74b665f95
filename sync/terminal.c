/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * terminal.c: what hearth-cli and hearth-center print is safe for a
 * terminal. Most of it is data other people typed on other tablets
 * (names, addresses, clerks' comments, device names sent at enrolment)
 * or an operator's argument echoed in a refusal; a terminal obeys escape
 * sequences in what it is given, so none reach it.
 */
#include "terminal.h"

#include <stdio.h>
#include <string.h>

static gboolean
is_direction_control (gunichar c)
{
  return c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

/* @text with each character a terminal must not get made U+FFFD, or
 * with @json a \u escape such as \u001B. */
static char *
rewrite (const char *text, gboolean json)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  GString *s = g_string_sized_new (strlen (valid));

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (!(g_unichar_iscntrl (c) && c != '\n' && c != '\t') && !is_direction_control (c))
        g_string_append_unichar (s, c);
      else if (json)
        g_string_append_printf (s, "\\u%04X", c);
      else
        g_string_append_unichar (s, 0xFFFD);
    }
  return g_string_free (s, FALSE);
}

char *
hearth_terminal_clean (const char *text)
{
  return rewrite (text, FALSE);
}

char *
hearth_terminal_one_line (const char *text)
{
  return g_strdelimit (g_strdup (text != NULL ? text : ""), "\t\r\n", ' ');
}

char *
hearth_terminal_escape_json (const char *json)
{
  return rewrite (json, TRUE);
}

/* GLib's default print handlers convert to the locale's character set
 * (glib/gmessages.c, print_string()); so does this one. */
static void
print_clean (FILE *stream, const char *text)
{
  g_autofree char *clean = hearth_terminal_clean (text);
  const char *charset = NULL;

  if (g_get_charset (&charset))
    fputs (clean, stream);
  else
    {
      g_autofree char *local = g_convert_with_fallback (clean, -1, charset, "UTF-8", "?", NULL, NULL, NULL);

      fputs (local != NULL ? local : clean, stream);
    }
  fflush (stream);
}

static void
print_out (const char *text)
{
  print_clean (stdout, text);
}

static void
print_err (const char *text)
{
  print_clean (stderr, text);
}

void
hearth_terminal_install (void)
{
  g_set_print_handler (print_out);
  g_set_printerr_handler (print_err);
}

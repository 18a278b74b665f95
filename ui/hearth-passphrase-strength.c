/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-passphrase-strength.c: how hard a passphrase is to guess (hearth-passphrase-strength.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-passphrase-strength.h"
#include "store-secret.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

/* Passphrases everybody tries first (and their digit runs). */
static const char *const common[] = {
  "password", "passw0rd", "12345678", "87654321", "11111111", "88888888", "66666666", "qwertyui",
  "asdfghjk", "woaini", "iloveyou", "abc12345", "admin123", "hearth",
};

/* The alphabet an attacker must try: every class of character the
 * passphrase uses (digits, lower and upper case letters, other ASCII,
 * anything else: Han characters and other scripts, a few thousand in
 * everyday use). */
static double
alphabet (const char *text)
{
  gboolean digit = FALSE, lower = FALSE, upper = FALSE, other = FALSE, wide = FALSE;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c >= 128)
        wide = TRUE;
      else if (g_ascii_isdigit (c))
        digit = TRUE;
      else if (g_ascii_islower (c))
        lower = TRUE;
      else if (g_ascii_isupper (c))
        upper = TRUE;
      else
        other = TRUE;
    }
  return (digit ? 10 : 0) + (lower ? 26 : 0) + (upper ? 26 : 0) + (other ? 33 : 0) + (wide ? 3000 : 0);
}

HearthStrength
hearth_passphrase_strength (const char *text, double *bits_out)
{
  g_autofree char *lower = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  double bits = 0, per_char;
  gunichar previous = 0;
  glong chars;
  gint previous_step = 0;

  if (bits_out != NULL)
    *bits_out = 0;
  if (text == NULL || !g_utf8_validate (text, -1, NULL))
    return HEARTH_STRENGTH_TOO_SHORT;

  chars = g_utf8_strlen (text, -1);
  per_char = chars > 0 ? log2 (alphabet (text)) : 0;
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      gint step = (gint) c - (gint) previous;

      if (previous != 0 && (step == 0 || ((step == 1 || step == -1) && step == previous_step)))
        bits += 0.5;                       /* aaaa, 1234, dcba */
      else if (g_hash_table_contains (seen, GUINT_TO_POINTER (c)))
        bits += per_char / 2;              /* a character used before */
      else
        bits += per_char;
      g_hash_table_add (seen, GUINT_TO_POINTER (c));
      previous_step = previous != 0 ? step : 0;
      previous = c;
    }

  lower = g_utf8_strdown (text, -1);
  for (gsize i = 0; i < G_N_ELEMENTS (common); i++)
    if (strstr (lower, common[i]) != NULL)
      bits = MIN (bits, 20 + 4.0 * (chars - (glong) strlen (common[i])));

  if (bits_out != NULL)
    *bits_out = bits;
  if (chars < HEARTH_PASSPHRASE_MIN_CHARS)
    return HEARTH_STRENGTH_TOO_SHORT;
  if (bits < 36)
    return HEARTH_STRENGTH_WEAK;
  if (bits < 50)
    return HEARTH_STRENGTH_FAIR;
  if (bits < 64)
    return HEARTH_STRENGTH_GOOD;
  return HEARTH_STRENGTH_STRONG;
}

const char *
hearth_passphrase_strength_describe (HearthStrength strength)
{
  switch (strength)
    {
    case HEARTH_STRENGTH_TOO_SHORT:
      return _("Too short: use at least 8 characters");
    case HEARTH_STRENGTH_WEAK:
      return _("Weak: easy to guess");
    case HEARTH_STRENGTH_FAIR:
      return _("Fair: a few more words would help");
    case HEARTH_STRENGTH_GOOD:
      return _("Good");
    case HEARTH_STRENGTH_STRONG:
    default:
      return _("Strong");
    }
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-i18n.c: the language of the app's text (hearth-i18n.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-i18n.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

/* What the environment said before Hearth changed anything, to go back to
 * the system's language. */
static char *system_language;
static gboolean system_language_set;
static char *system_messages_locale;

void
hearth_i18n_init (void)
{
  const char *localedir = g_getenv ("HEARTH_LOCALEDIR");
  const char *messages;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : HEARTH_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  system_language_set = g_getenv ("LANGUAGE") != NULL;
  system_language = g_strdup (g_getenv ("LANGUAGE"));
  messages = setlocale (LC_MESSAGES, NULL);
  system_messages_locale = g_strdup (messages != NULL ? messages : "C");
}

static gboolean
is_c_locale (const char *locale)
{
  return locale == NULL || strcmp (locale, "C") == 0 || strcmp (locale, "POSIX") == 0;
}

void
hearth_i18n_set_language (const char *language)
{
  g_return_if_fail (language != NULL);

  if (g_str_equal (language, HEARTH_LANGUAGE_CHINESE) || g_str_equal (language, HEARTH_LANGUAGE_ENGLISH))
    {
      g_setenv ("LANGUAGE", language, TRUE);
      /* gettext ignores LANGUAGE under the C locale: Chinese needs a real
       * messages locale (CI generates zh_CN.UTF-8; C.UTF-8 serves too). */
      if (g_str_equal (language, HEARTH_LANGUAGE_CHINESE) && is_c_locale (setlocale (LC_MESSAGES, NULL)) &&
          setlocale (LC_MESSAGES, "zh_CN.UTF-8") == NULL && setlocale (LC_MESSAGES, "C.UTF-8") == NULL)
        g_warning ("Neither the zh_CN.UTF-8 nor the C.UTF-8 locale is installed: the text stays in English");
    }
  else
    {
      if (system_language_set)
        g_setenv ("LANGUAGE", system_language, TRUE);
      else
        g_unsetenv ("LANGUAGE");
      setlocale (LC_MESSAGES, system_messages_locale);
    }

  /* gettext caches translations by messages locale, not by $LANGUAGE:
   * this counter is how a program tells it the language changed (the GNU
   * gettext manual, "Being a `Good Citizen' in Linux"; glibc's). */
  {
    extern int _nl_msg_cat_cntr;
    ++_nl_msg_cat_cntr;
  }
}

const char *
hearth_i18n_get_language (void)
{
  /* A string only the Chinese catalogue translates: what gettext answers
   * is what the user reads. */
  const char *probe = N_("Household");

  return strcmp (_(probe), probe) != 0 ? HEARTH_LANGUAGE_CHINESE : HEARTH_LANGUAGE_ENGLISH;
}

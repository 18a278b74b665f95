/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth: the tablet app for village workers, clerks and county staff. */
#define G_LOG_DOMAIN "hearth"

#include "hearth-application.h"
#include "hearth-i18n.h"

#include <sys/resource.h>

int
main (int argc, char **argv)
{
  g_autoptr(HearthApplication) app = NULL;
  struct rlimit no_core = { 0, 0 };

  /* The data key and passphrases must never reach a core file. */
  setrlimit (RLIMIT_CORE, &no_core);
  /* The language is Hearth's to set (hearth-i18n.h), not GTK's. */
  gtk_disable_setlocale ();
  hearth_i18n_init ();
  hearth_application_prepare_display ();

  app = hearth_application_new (NULL, G_APPLICATION_DEFAULT_FLAGS);
  return g_application_run (G_APPLICATION (app), argc, argv);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cli-demo.c: hearth-cli demo generate, a made-up county registry for
 * demonstrations, training and benchmarks (demo-generate.h). The same
 * seed always writes the same bytes. hearth-cli demo divisions writes the
 * names of its townships and villages for `hearth-center import-divisions`.
 */
#define G_LOG_DOMAIN "hearth-cli"

#include "cli-demo.h"
#include "demo-generate.h"

#include <glib/gi18n.h>

static int
demo_generate (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *county = NULL, *out = NULL;
  gint households = 0;
  gint64 seed = 1;
  guint members = 0;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "households", 0, 0, G_OPTION_ARG_INT, &households, N_("How many households (required)"), N_("N") },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, N_("The seed: the same seed writes the same file (default 1)"), N_("S") },
    { "county", 0, 0, G_OPTION_ARG_STRING, &county,
      N_("A 6-digit county code (default 150422, whose real villages are used)"), N_("CODE") },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, N_("The CSV file to write (required)"), N_("FILE.csv") },
    { NULL }
  };

  if (!cli_parse ("demo generate", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (out == NULL || households < 1 || households > HEARTH_DEMO_MAX_HOUSEHOLDS || seed < 0 || seed > G_MAXUINT32)
    {
      g_printerr (_("hearth-cli: demo generate needs --households N (1 to %d), --out FILE.csv and a seed from 0 to %u\n"),
                  HEARTH_DEMO_MAX_HOUSEHOLDS, G_MAXUINT32);
      return CLI_EXIT_USAGE;
    }
  if (!hearth_demo_write_registry (out, (guint) households, (guint32) seed, county, &members, &error))
    {
      g_printerr (_("hearth-cli: %s\n"), error->message);
      return CLI_EXIT_REFUSED;
    }
  /* TRANSLATORS: the plural follows the number of households. */
  g_print (g_dngettext (GETTEXT_PACKAGE, "Wrote %d household with %u members to %s.\n",
                        "Wrote %d households with %u members to %s.\n", (gulong) households),
           households, members, out);
  return CLI_EXIT_OK;
}

static int
demo_divisions (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *county = NULL, *out = NULL;
  g_autoptr(GError) error = NULL;
  guint n = 0;
  GOptionEntry entries[] = {
    { "county", 0, 0, G_OPTION_ARG_STRING, &county,
      N_("A 6-digit county code (default 150422, whose real villages are used)"), N_("CODE") },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, N_("The CSV file to write (required)"), N_("FILE.csv") },
    { NULL }
  };

  if (!cli_parse ("demo divisions", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (out == NULL)
    {
      g_printerr (_("hearth-cli: demo divisions needs --out FILE.csv\n"));
      return CLI_EXIT_USAGE;
    }
  if (!hearth_demo_write_divisions (out, county, &n, &error))
    {
      g_printerr (_("hearth-cli: %s\n"), error->message);
      return CLI_EXIT_REFUSED;
    }
  g_print (_("Wrote the names of %u divisions to %s.\n"), n, out);
  return CLI_EXIT_OK;
}

int
cli_cmd_demo (CliContext *ctx, int argc, char **argv)
{
  if (argc >= 2 && g_strcmp0 (argv[1], "generate") == 0)
    return demo_generate (ctx, argc - 1, argv + 1);
  if (argc >= 2 && g_strcmp0 (argv[1], "divisions") == 0)
    return demo_divisions (ctx, argc - 1, argv + 1);
  g_printerr (_("hearth-cli: demo needs a subcommand: demo generate --households N [--seed S] [--county CODE] --out "
                "FILE.csv, or demo divisions [--county CODE] --out FILE.csv\n"));
  return CLI_EXIT_USAGE;
}

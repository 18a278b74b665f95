/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli-county.c: hearth-cli commands for county IT's recovery key pair.
 * (hearth-center init will write the same files through the same code.) */
#define G_LOG_DOMAIN "hearth-cli"

#include "cli-common.h"
#include "store-countykey.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sodium.h>

int
cli_cmd_county_keygen (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *secret_out = NULL;
  g_autofree char *public_out = NULL;
  g_autoptr(HearthSecret) secret = NULL;
  guint8 public_key[HEARTH_COUNTY_KEY_SIZE];
  GError *error = NULL;
  GOptionEntry entries[] = {
    { "secret-key-out", 0, 0, G_OPTION_ARG_FILENAME, &secret_out,
      N_("Write the county secret key to FILE (keep it offline)"), N_("FILE") },
    { "public-key-out", 0, 0, G_OPTION_ARG_FILENAME, &public_out,
      N_("Write the county public key to FILE (for tablets)"), N_("FILE") },
    { NULL }
  };

  if (!cli_parse ("county-keygen", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (secret_out == NULL || public_out == NULL)
    {
      g_printerr (_("hearth-cli: county-keygen needs --secret-key-out FILE and --public-key-out FILE\n"));
      return CLI_EXIT_USAGE;
    }
  {
    g_autofree char *a = g_canonicalize_filename (secret_out, NULL);
    g_autofree char *b = g_canonicalize_filename (public_out, NULL);

    if (g_strcmp0 (a, b) == 0)
      {
        g_printerr (_("hearth-cli: the secret and the public key need two different files\n"));
        return CLI_EXIT_USAGE;
      }
  }
  if (g_file_test (secret_out, G_FILE_TEST_EXISTS) || g_file_test (public_out, G_FILE_TEST_EXISTS))
    {
      g_printerr (_("hearth-cli: %s or %s already exists; a county key is never overwritten\n"),
                  secret_out, public_out);
      return CLI_EXIT_REFUSED;
    }
  secret = hearth_county_key_generate (public_key);
  /* The public key first: if the secret one then cannot be written, the
   * public one is removed, so that no tablet seals to a lost key. */
  if (!hearth_county_key_write (public_out, FALSE, public_key, &error))
    return cli_fail (error);
  if (!hearth_county_key_write (secret_out, TRUE, hearth_secret_peek (secret), &error))
    {
      g_unlink (public_out);
      return cli_fail (error);
    }
  g_print (_("Wrote the county secret key to %s (mode 0600: keep it offline, with a backup)\n"
             "and the county public key to %s (give it to tablets: init --county-public-key).\n"),
           secret_out, public_out);
  return CLI_EXIT_OK;
}

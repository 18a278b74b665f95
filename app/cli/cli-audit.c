/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli-audit.c: hearth-cli audit verify. */
#define G_LOG_DOMAIN "hearth-cli"

#include "cli-common.h"
#include "case-audit.h"

#include <glib/gi18n.h>

int
cli_cmd_audit (CliContext *ctx, int argc, char **argv)
{
  g_autoptr(HearthStore) store = NULL;
  GError *error = NULL;
  gint64 checked = 0;
  GOptionEntry entries[] = { { NULL } };

  if (argc < 2 || g_strcmp0 (argv[1], "verify") != 0)
    {
      g_printerr (_("hearth-cli: audit needs a subcommand: audit verify\n"));
      return CLI_EXIT_USAGE;
    }
  argc--;
  argv++;
  if (!cli_parse ("audit verify", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  store = cli_open_store (ctx, &error);
  if (store == NULL)
    return cli_fail (error);
  if (!hearth_audit_verify (hearth_store_get_db (store), &checked, &error))
    {
      /* A broken chain is a damaged store (exit 4): its history was
       * changed outside Hearth. */
      g_printerr (_("hearth-cli: the audit log is not intact: %s\n"), error->message);
      g_error_free (error);
      return CLI_EXIT_DAMAGED;
    }
  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "intact");
      json_builder_add_boolean_value (b, TRUE);
      json_builder_set_member_name (b, "entries");
      json_builder_add_int_value (b, checked);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cli_print_json (root);
    }
  else
    g_print (g_dngettext (GETTEXT_PACKAGE, "The audit log is intact: %lld entry, each chained to the one before.\n",
                          "The audit log is intact: %lld entries, each chained to the one before.\n",
                          (gulong) checked), (long long) checked);
  return CLI_EXIT_OK;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cli-conflict.c: hearth-cli conflict list|resolve: the values two offline
 * edits disagreed on (sync/PROTOCOL.md section 6.3), for the village clerk
 * or the county to decide. Resolving is an edit that saw both sides, so
 * the conflict closes on every tablet once it is synced.
 */
#define G_LOG_DOMAIN "hearth-cli"

#include "cli-common.h"

#include <glib/gi18n.h>

static int
conflict_list (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *household = NULL;
  GOptionEntry entries[] = {
    { "household", 0, 0, G_OPTION_ARG_STRING, &household, N_("Only this household's conflicts"), N_("ID") },
    { NULL }
  };
  g_autoptr(HearthStore) store = NULL;
  g_autofree char *household_id = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  GError *error = NULL;
  sqlite3_stmt *st = NULL;
  guint n = 0;

  if (!cli_parse ("conflict list", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  store = cli_open_store (ctx, &error);
  if (store == NULL)
    return cli_fail (error);
  if (household != NULL && (household_id = cli_resolve_id (store, "households", household, &error)) == NULL)
    {
      g_printerr (_("hearth-cli: %s\n"), error->message);
      g_error_free (error);
      return CLI_EXIT_REFUSED;
    }
  /* A conflict's record is a household or one of its members, tasks or
   * measures: name the household either way. */
  if (sqlite3_prepare_v2 (hearth_store_get_db (store),
                          "SELECT c.id, c.record_table, c.record_id, c.field, c.kept_value, c.lost_value, "
                          "  coalesce (h.id, m.household_id, t.household_id, s.household_id) AS household "
                          "FROM conflicts c "
                          "LEFT JOIN households h ON c.record_table = 'households' AND h.id = c.record_id "
                          "LEFT JOIN members m ON c.record_table = 'members' AND m.id = c.record_id "
                          "LEFT JOIN tasks t ON c.record_table = 'tasks' AND t.id = c.record_id "
                          "LEFT JOIN measures s ON c.record_table = 'measures' AND s.id = c.record_id "
                          "WHERE c.resolved_at IS NULL AND (?1 IS NULL OR household = ?1) "
                          "ORDER BY household, c.record_table, c.record_id, c.field",
                          -1, &st, NULL) != SQLITE_OK)
    {
      g_printerr (_("hearth-cli: %s\n"), sqlite3_errmsg (hearth_store_get_db (store)));
      return CLI_EXIT_INTERNAL;
    }
  if (household_id != NULL)
    sqlite3_bind_text (st, 1, household_id, -1, SQLITE_STATIC);
  json_builder_begin_array (b);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      const char *v[7];

      for (int c = 0; c < 7; c++)
        v[c] = sqlite3_column_text (st, c) != NULL ? (const char *) sqlite3_column_text (st, c) : "";
      n++;
      if (ctx->json)
        {
          static const char *const names[] = { "id", "table", "record_id", "field", "kept_value", "other_value",
                                               "household" };
          json_builder_begin_object (b);
          for (int c = 0; c < 7; c++)
            {
              json_builder_set_member_name (b, names[c]);
              json_builder_add_string_value (b, v[c]);
            }
          json_builder_end_object (b);
        }
      else
        g_print (_("%s  household %s  %s.%s: kept “%s”, other “%s”\n"), v[0], v[6], v[1], v[3], v[4], v[5]);
    }
  sqlite3_finalize (st);
  json_builder_end_array (b);
  if (ctx->json)
    {
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      cli_print_json (root);
    }
  else if (n == 0)
    g_print (_("No open conflicts.\n"));
  return CLI_EXIT_OK;
}

static int
conflict_resolve (CliContext *ctx, int argc, char **argv)
{
  gboolean keep = FALSE, other = FALSE;
  g_autofree char *value = NULL;
  GOptionEntry entries[] = {
    { "keep", 0, 0, G_OPTION_ARG_NONE, &keep, N_("Keep the value the field holds now"), NULL },
    { "other", 0, 0, G_OPTION_ARG_NONE, &other, N_("Take the other value"), NULL },
    { "value", 0, 0, G_OPTION_ARG_STRING, &value, N_("Set a value of your own"), N_("TEXT") },
    { NULL }
  };
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthCaseStore) cases = NULL;
  g_autofree char *id = NULL;
  g_autofree char *chosen = NULL;
  GError *error = NULL;
  sqlite3_stmt *st = NULL;
  HearthRole role;

  if (!cli_parse_with_arguments ("conflict resolve", entries, N_("CONFLICT"), &argc, &argv))
    return CLI_EXIT_USAGE;
  if ((keep ? 1 : 0) + (other ? 1 : 0) + (value != NULL ? 1 : 0) != 1)
    {
      g_printerr (_("hearth-cli: conflict resolve needs one of --keep, --other or --value TEXT\n"));
      return CLI_EXIT_USAGE;
    }
  store = cli_open_store (ctx, &error);
  if (store == NULL)
    return cli_fail (error);
  id = cli_resolve_id (store, "conflicts", argv[1], &error);
  if (id == NULL)
    goto refused;
  if (value != NULL)
    chosen = g_strdup (value);
  else if (sqlite3_prepare_v2 (hearth_store_get_db (store), "SELECT kept_value, lost_value FROM conflicts WHERE id = ?",
                               -1, &st, NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
      if (sqlite3_step (st) == SQLITE_ROW)
        chosen = g_strdup ((const char *) sqlite3_column_text (st, keep ? 0 : 1));
      sqlite3_finalize (st);
    }
  cases = cli_open_cases (store, &role, &error);
  if (cases == NULL || !hearth_case_resolve_conflict (cases, id, role, chosen != NULL ? chosen : "", &error))
    goto refused;
  g_print (_("Conflict %s resolved: the field now holds “%s”. Sync to tell the other tablets.\n"), id,
           chosen != NULL ? chosen : "");
  return CLI_EXIT_OK;

refused:
  g_printerr (_("hearth-cli: %s\n"), error->message);
  g_error_free (error);
  return CLI_EXIT_REFUSED;
}

int
cli_cmd_conflict (CliContext *ctx, int argc, char **argv)
{
  if (argc >= 2 && g_str_equal (argv[1], "list"))
    return conflict_list (ctx, argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal (argv[1], "resolve"))
    return conflict_resolve (ctx, argc - 1, argv + 1);
  g_printerr (_("hearth-cli: conflict needs a subcommand: conflict list [--household ID]; conflict resolve CONFLICT "
                "--keep|--other|--value TEXT\n"));
  return CLI_EXIT_USAGE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli-audit.c: hearth-cli audit verify and audit list. */
#define G_LOG_DOMAIN "hearth-cli"

#include "cli-common.h"
#include "case-audit.h"

#include <glib/gi18n.h>

#define CLI_AUDIT_LIST_DEFAULT 50
#define CLI_AUDIT_LIST_MAX     100000

static int
audit_verify (CliContext *ctx, int argc, char **argv)
{
  g_autoptr(HearthStore) store = NULL;
  GError *error = NULL;
  gint64 checked = 0;
  GOptionEntry entries[] = { { NULL } };

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

static const char *
column (sqlite3_stmt *st, int i)
{
  const char *v = (const char *) sqlite3_column_text (st, i);
  return v != NULL ? v : "";
}

/* The newest entries, oldest first: who did what when, and every record
 * each names with the fields written (case-audit.h), never a value. */
static int
audit_list (CliContext *ctx, int argc, char **argv)
{
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  GError *error = NULL;
  gint limit = CLI_AUDIT_LIST_DEFAULT;
  sqlite3_stmt *st = NULL;
  sqlite3 *db;
  int rc;
  GOptionEntry entries[] = {
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, N_("Show the newest N entries, 1 to 100000 (default 50)"), N_("N") },
    { NULL }
  };

  if (!cli_parse ("audit list", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (limit < 1 || limit > CLI_AUDIT_LIST_MAX)
    {
      g_printerr (_("hearth-cli: --limit takes 1 to %d\n"), CLI_AUDIT_LIST_MAX);
      return CLI_EXIT_USAGE;
    }
  store = cli_open_store (ctx, &error);
  if (store == NULL)
    return cli_fail (error);
  db = hearth_store_get_db (store);
  if (sqlite3_prepare_v2 (db, "SELECT seq, at, actor, device_id, action, record_table, record_id, fields FROM "
                              "(SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?) ORDER BY seq", -1, &st,
                          NULL) != SQLITE_OK)
    {
      g_printerr (_("hearth-cli: the audit log could not be read: %s\n"), sqlite3_errmsg (db));
      return CLI_EXIT_DAMAGED;
    }
  sqlite3_bind_int (st, 1, limit);
  json_builder_begin_array (b);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      g_autoptr(GPtrArray) records = hearth_audit_entry_records (column (st, 5), column (st, 6), column (st, 7));

      if (ctx->json)
        {
          static const char *const names[] = { "at", "actor", "device_id", "action", "record_table", "record_id" };

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "seq");
          json_builder_add_int_value (b, sqlite3_column_int64 (st, 0));
          for (guint i = 0; i < G_N_ELEMENTS (names); i++)
            {
              json_builder_set_member_name (b, names[i]);
              json_builder_add_string_value (b, column (st, (int) i + 1));
            }
          json_builder_set_member_name (b, "records");
          json_builder_begin_array (b);
          for (guint i = 0; i < records->len; i++)
            {
              HearthAuditRecord *r = records->pdata[i];

              json_builder_begin_object (b);
              json_builder_set_member_name (b, "table");
              json_builder_add_string_value (b, r->table);
              json_builder_set_member_name (b, "id");
              json_builder_add_string_value (b, r->id);
              json_builder_set_member_name (b, "fields");
              json_builder_begin_array (b);
              for (guint k = 0; r->fields[k] != NULL; k++)
                json_builder_add_string_value (b, r->fields[k]);
              json_builder_end_array (b);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          json_builder_end_object (b);
          continue;
        }
      /* TRANSLATORS: an audit entry: its number, when (UTC), the action,
       * who, then the table and id of the record it is about. */
      g_print (_("%lld  %s  %s by %s: %s %s\n"), (long long) sqlite3_column_int64 (st, 0), column (st, 1),
               column (st, 4), column (st, 2), column (st, 5), column (st, 6));
      for (guint i = 0; i < records->len; i++)
        {
          HearthAuditRecord *r = records->pdata[i];
          g_autofree char *fields = g_strjoinv (", ", r->fields);

          if (i == 0 && r->fields[0] == NULL)
            continue;
          /* The entry's own record is named on its first line. */
          if (i == 0)
            g_print ("    %s\n", fields);
          else
            g_print ("    %s %s: %s\n", r->table, r->id, fields[0] != '\0' ? fields : _("(no fields)"));
        }
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    {
      g_printerr (_("hearth-cli: the audit log could not be read: %s\n"), sqlite3_errmsg (db));
      return CLI_EXIT_DAMAGED;
    }
  json_builder_end_array (b);
  if (ctx->json)
    {
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      cli_print_json (root);
    }
  return CLI_EXIT_OK;
}

int
cli_cmd_audit (CliContext *ctx, int argc, char **argv)
{
  if (argc >= 2 && g_strcmp0 (argv[1], "verify") == 0)
    return audit_verify (ctx, argc - 1, argv + 1);
  if (argc >= 2 && g_strcmp0 (argv[1], "list") == 0)
    return audit_list (ctx, argc - 1, argv + 1);
  g_printerr (_("hearth-cli: audit needs a subcommand: audit verify, or audit list [--limit N]\n"));
  return CLI_EXIT_USAGE;
}

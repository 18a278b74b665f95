/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "hearth-cli"

#include "cli-common.h"
#include "terminal.h"
#include "case-store.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>

char *
cli_resolve_data_dir (const char *option)
{
  const char *env = g_getenv ("HEARTH_DATA_DIR");

  if (option != NULL && *option != '\0')
    return g_strdup (option);
  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "hearth", "default", NULL);
}

int
cli_fail (GError *error)
{
  int code = CLI_EXIT_INTERNAL;

  if (error->domain == HEARTH_STORE_ERROR)
    switch ((HearthStoreError) error->code)
      {
      case HEARTH_STORE_ERROR_WRONG_PASSPHRASE:
      case HEARTH_STORE_ERROR_KEYSLOT_CORRUPT:
      case HEARTH_STORE_ERROR_KEYSLOT_MISMATCH:
      case HEARTH_STORE_ERROR_NO_PASSPHRASE:
      case HEARTH_STORE_ERROR_COUNTY_KEY:
        code = CLI_EXIT_AUTH;
        break;
      case HEARTH_STORE_ERROR_CORRUPT:
        code = CLI_EXIT_DAMAGED;
        break;
      case HEARTH_STORE_ERROR_NOT_FOUND:
      case HEARTH_STORE_ERROR_EXISTS:
      case HEARTH_STORE_ERROR_NEWER_SCHEMA:
      case HEARTH_STORE_ERROR_WEAK_PASSPHRASE:
      case HEARTH_STORE_ERROR_BAD_FILE:
      case HEARTH_STORE_ERROR_NO_RECOVERY:
      case HEARTH_STORE_ERROR_BUSY:
        code = CLI_EXIT_REFUSED;
        break;
      case HEARTH_STORE_ERROR_MIGRATION:
      case HEARTH_STORE_ERROR_IO:
      case HEARTH_STORE_ERROR_INTERNAL:
      default:
        code = CLI_EXIT_INTERNAL;
        break;
      }
  else if (error->domain == G_OPTION_ERROR)
    code = CLI_EXIT_USAGE;
  g_printerr (_("hearth-cli: %s\n"), error->message);
  g_error_free (error);
  return code;
}

gboolean
cli_parse (const char *command, GOptionEntry *entries, int *argc, char ***argv)
{
  return cli_parse_with_arguments (command, entries, NULL, argc, argv);
}

/* Whether @argv, after the command, holds one of hearth-cli's global
 * options (which go before the command). */
static gboolean
names_global_option (int argc, char **argv)
{
  static const char *const globals[] = { "--data-dir", "--passphrase-file", "--json", "--version" };

  for (int i = 1; i < argc; i++)
    for (gsize j = 0; j < G_N_ELEMENTS (globals); j++)
      if (g_str_has_prefix (argv[i], globals[j]) &&
          (argv[i][strlen (globals[j])] == '\0' || argv[i][strlen (globals[j])] == '='))
        return TRUE;
  return FALSE;
}

gboolean
cli_parse_with_arguments (const char *command, GOptionEntry *entries, const char *arguments,
                          int *argc, char ***argv)
{
  g_autoptr(GOptionContext) octx = g_option_context_new (arguments != NULL ? _(arguments) : NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = g_strdup_printf ("hearth-cli %s", command);

  /* "Usage: hearth-cli init [OPTION…]": the command's options follow it. */
  g_set_prgname (prgname);

  g_option_context_add_main_entries (octx, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (octx, GETTEXT_PACKAGE);
  if (!g_option_context_parse (octx, argc, argv, &error))
    {
      if (g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION) && names_global_option (*argc, *argv))
        g_printerr (_("hearth-cli: %s (global options such as --data-dir come before the command)\n"),
                    error->message);
      else
        g_printerr (_("hearth-cli: %s\n"), error->message);
      return FALSE;
    }
  if (arguments == NULL && *argc > 1)
    {
      g_printerr (_("hearth-cli: unexpected argument \"%s\"\n"), (*argv)[1]);
      return FALSE;
    }
  if (arguments != NULL && *argc != 2)
    {
      g_printerr (_("hearth-cli: %s needs exactly one %s\n"), command, _(arguments));
      return FALSE;
    }
  return TRUE;
}

/* A passphrase file others can read is a passphrase others know. */
static void
warn_if_readable_by_others (const char *path)
{
  GStatBuf st;

  if (g_stat (path, &st) == 0 && (st.st_mode & 077) != 0)
    g_printerr (_("hearth-cli: warning: %s can be read by other users; make it private (chmod 600)\n"), path);
}

HearthSecret *
cli_get_passphrase (CliContext *ctx, GError **error)
{
  if (ctx->passphrase_file != NULL)
    {
      warn_if_readable_by_others (ctx->passphrase_file);
      return hearth_secret_read_passphrase_file (ctx->passphrase_file, error);
    }
  return hearth_secret_prompt_passphrase (_("Passphrase: "), error);
}

HearthSecret *
cli_get_new_passphrase (const char *file, const char *new_option, GError **error)
{
  g_autoptr(HearthSecret) first = NULL;
  g_autoptr(HearthSecret) again = NULL;

  if (file != NULL)
    {
      warn_if_readable_by_others (file);
      first = hearth_secret_read_passphrase_file (file, error);
    }
  else
    {
      g_autoptr(GError) local = NULL;

      first = hearth_secret_prompt_passphrase (_("New passphrase: "), &local);
      if (g_error_matches (local, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_NO_PASSPHRASE))
        {
          g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_NO_PASSPHRASE,
                       _("No new passphrase: there is no terminal to ask on; use %s FILE"), new_option);
          return NULL;
        }
      if (first == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      if (first != NULL)
        {
          again = hearth_secret_prompt_passphrase (_("Repeat the new passphrase: "), error);
          if (again == NULL)
            return NULL;
          if (hearth_secret_get_size (first) != hearth_secret_get_size (again) ||
              sodium_memcmp (hearth_secret_peek (first), hearth_secret_peek (again),
                             hearth_secret_get_size (first)) != 0)
            {
              g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_WEAK_PASSPHRASE,
                           _("The two new passphrases differ"));
              return NULL;
            }
        }
    }
  if (first != NULL && !hearth_secret_check_new_passphrase (first, error))
    return NULL;
  return g_steal_pointer (&first);
}

HearthStore *
cli_open_store (CliContext *ctx, GError **error)
{
  g_autoptr(HearthSecret) passphrase = cli_get_passphrase (ctx, error);

  if (passphrase == NULL)
    return NULL;
  return hearth_store_open (ctx->data_dir, passphrase, error);
}

void
cli_print_json (JsonNode *root)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;
  g_autofree char *escaped = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  escaped = hearth_terminal_escape_json (text);
  g_print ("%s\n", escaped);
}

static char *
store_meta (HearthStore *store, const char *key)
{
  sqlite3_stmt *st = NULL;
  char *value = NULL;

  if (sqlite3_prepare_v2 (hearth_store_get_db (store), "SELECT value FROM store_meta WHERE key = ?", -1, &st,
                          NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
      if (sqlite3_step (st) == SQLITE_ROW)
        value = g_strdup ((const char *) sqlite3_column_text (st, 0));
    }
  sqlite3_finalize (st);
  return value;
}

HearthCaseStore *
cli_open_cases (HearthStore *store, HearthRole *role, GError **error)
{
  g_autofree char *user = store_meta (store, "user");
  g_autofree char *role_name = store_meta (store, "role");

  if (!hearth_role_parse (role_name, role))
    *role = HEARTH_ROLE_WORKER;
  return hearth_case_store_new (store, user != NULL ? user : g_get_user_name (), error);
}

char *
cli_resolve_id (HearthStore *store, const char *table, const char *text, GError **error)
{
  sqlite3 *db = hearth_store_get_db (store);
  g_autofree char *sql = NULL;
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *st = NULL;
  gsize len = strlen (text);

  if (len < 8 && !(g_str_equal (table, "households") && len > 0))
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND,
                   _("“%s” is too short: give at least 8 characters of the id"), text);
      return NULL;
    }
  /* The id's range of the primary key: every id starting with @text (ids
   * are ASCII, "~" sorts after all of it). A household is also found by
   * its registry number, of any length. */
  sql = g_strdup_printf ("SELECT id FROM %s WHERE length (?1) >= 8 AND id >= ?1 AND id < ?1 || '~' %s LIMIT 2", table,
                         g_str_equal (table, "households") ? "UNION SELECT id FROM households WHERE registry_no = ?1"
                                                           : "");
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SQLITE, "%s", sqlite3_errmsg (db));
      return NULL;
    }
  sqlite3_bind_text (st, 1, text, -1, SQLITE_STATIC);
  while (sqlite3_step (st) == SQLITE_ROW)
    g_ptr_array_add (found, g_strdup ((const char *) sqlite3_column_text (st, 0)));
  sqlite3_finalize (st);
  if (found->len == 1)
    return g_strdup (found->pdata[0]);
  if (found->len == 0)
    g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND, _("no record in %s has the id “%s”"), table,
                 text);
  else
    g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND,
                 _("“%s” starts more than one id in %s: give more characters"), text, table);
  return NULL;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-cli: the command-line companion of the tablet app.
 *
 * Conventions (../shared/INTERFACES.md, "hearth-cli"): global options
 * before the command, the data folder and passphrase sources, and one set
 * of exit codes for every command (cli-exit.h).
 */
#define G_LOG_DOMAIN "hearth-cli"

#include "cli-common.h"
#include "terminal.h"
#include "cli-demo.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <sys/resource.h>

typedef struct {
  const char *name;
  int (*run) (CliContext *ctx, int argc, char **argv);
  const char *summary;
} CliCommand;

static const CliCommand commands[] = {
  { "init", cli_cmd_init, N_("Create a store: init [--kdf interactive|moderate|test] [--county-public-key FILE] [--user NAME] [--role ROLE]") },
  { "passwd", cli_cmd_passwd, N_("Change the passphrase: passwd [--new-passphrase-file FILE]") },
  { "check", cli_cmd_check, N_("Authenticate every page and run the integrity check") },
  { "status", cli_cmd_status, N_("Unlock the store and report its state") },
  { "recover", cli_cmd_recover, N_("Recover with the county key: recover --county-key FILE [--new-passphrase-file FILE]") },
  { "rekey", cli_cmd_rekey, N_("Replace the data key (revocation); the store must be closed everywhere") },
  { "form", cli_cmd_form, N_("Check, fill or list XForms: form check FORM.xml [--media DIR]; form fill FORM.xml --answers FILE [--lang LANG] [--media DIR] [--now ISO8601] [--instance-id UUID]; form list") },
  { "audit", cli_cmd_audit, N_("Check the audit log's hash chain, or list its newest entries: audit verify, audit list") },
  { "visit", cli_cmd_visit, N_("Record a form for a household: visit record --form FORM --answers FILE [--household ID] [--lang LANG] [--now ISO8601]") },
  { "review", cli_cmd_review, N_("Review cases: review list; review approve|return|reject|propose-elimination|revert|declare HOUSEHOLD [--comment TEXT] [--measure TYPE:DESCRIPTION …]") },
  { "declare", cli_cmd_declare, N_("Record a household's own declaration of difficulty: declare --household ID --reason TEXT") },
  { "measure", cli_cmd_measure, N_("Assistance measures (county or clerk): measure add --household ID --type TYPE --description TEXT [--started DATE]; measure end MEASURE [--date DATE]") },
  { "household", cli_cmd_household, N_("Households: household list [--search TEXT] [--village CODE] [--status S] [--risk R] [--limit N]; household show ID; household add --answers FILE [--now ISO8601]; household import FILE.csv") },
  { "tasks", cli_cmd_tasks, N_("The open tasks, overdue first: tasks [--overdue] [--today YYYY-MM-DD] [--limit N]") },
  { "demo", cli_cmd_demo, N_("Made-up households for demonstrations and benchmarks: demo generate --households N [--seed S] [--county CODE] --out FILE.csv; demo divisions [--county CODE] --out FILE.csv") },
  { "enrol", cli_cmd_enrol, N_("Enrol this store with the county center: enrol --center URL --code CODE [--name NAME] [--ca-file FILE] [--pin KEY]; again, keeping its data (a restored center): enrol --again --code CODE") },
  { "sync", cli_cmd_sync, N_("Send this tablet's changes to the center and receive its own: sync [--retry [--time-limit SECONDS]] [--page-size N] [--status]") },
  { "trust", cli_cmd_trust, N_("Change the trust kept for the center's certificate (a renewed CA, a new key), checked with the center first: trust --ca-file FILE | --pin KEY | --system") },
  { "conflict", cli_cmd_conflict, N_("Values two offline edits disagreed on (clerk or county): conflict list [--household ID]; conflict resolve CONFLICT --keep|--other|--value TEXT") },
  { "export", cli_cmd_export, N_("County staff: fetch a batch from the center: export --scope CODE --since YYYY-MM-DD [--until YYYY-MM-DD] [--after-cursor N] --format csv|json --out DIR") },
  { "verify-batch", cli_cmd_verify_batch, N_("Check a county batch against its manifest and signature: verify-batch [--key KEY] DIR") },
  { "county-keygen", cli_cmd_county_keygen, N_("Make the county recovery key pair: county-keygen --secret-key-out FILE --public-key-out FILE") },
};

/* The library's diagnostics (a damaged page's file and offset, a keyslot
 * settled) already reach the user inside the error that follows; shown
 * again they read as two failures. HEARTH_VERBOSE=1 shows them. */
static GLogWriterOutput
cli_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  if ((level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG)) &&
      g_getenv ("HEARTH_VERBOSE") == NULL)
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, fields, n_fields, data);
}

static char *
describe (void)
{
  GString *s = g_string_new (_("Commands:\n"));

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (s, "  %-13s %s\n", commands[i].name, _(commands[i].summary));
  g_string_append (s, _("\nThe data folder is --data-dir, else $HEARTH_DATA_DIR, else the user data folder's hearth/default.\n"
                        "The passphrase is the first line of --passphrase-file, else of $HEARTH_PASSPHRASE_FILE,\n"
                        "else asked on the terminal; never on the command line.\n"));
  g_string_append (s, _("\nExit codes:\n"
                        "  0   done\n"
                        "  1   refused input (validation errors, bad file, refused transition)\n"
                        "  2   usage\n"
                        "  3   authentication (wrong passphrase, damaged or foreign keyslot, no passphrase available)\n"
                        "  4   damaged store (a page fails authentication, integrity check fails)\n"
                        "  5   the center could not be reached or timed out\n"
                        "  6   the center refused (revoked device, scope, used code)\n"
                        "  7   the center's certificate is not trusted (no trusted CA, another address, not the pinned key)\n"
                        "  70  internal error\n"));
  return g_string_free (s, FALSE);
}

int
main (int argc, char **argv)
{
  g_autoptr(GOptionContext) octx = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *passphrase_file = NULL;
  g_autofree char *description = NULL;
  gboolean json = FALSE, version = FALSE;
  const char *localedir = g_getenv ("HEARTH_LOCALEDIR");
  struct rlimit no_core = { 0, 0 };
  CliContext ctx = { 0 };
  GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, N_("The store's data folder"), N_("DIR") },
    { "passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &passphrase_file,
      N_("Read the passphrase from the first line of FILE"), N_("FILE") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print one JSON document on standard output"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version"), NULL },
    { NULL }
  };

  /* Keys and passphrases must never reach a core file. */
  setrlimit (RLIMIT_CORE, &no_core);
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : HEARTH_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_log_writer_default_set_use_stderr (TRUE);
  g_log_set_writer_func (cli_log_writer, NULL, NULL);
  hearth_terminal_install ();

  octx = g_option_context_new (_("COMMAND [OPTION…]"));
  g_option_context_set_summary (octx, _("The command-line companion of Hearth, the household monitoring app."));
  description = describe ();
  g_option_context_set_description (octx, description);
  g_option_context_add_main_entries (octx, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (octx, GETTEXT_PACKAGE);
  g_option_context_set_strict_posix (octx, TRUE);
  if (!g_option_context_parse (octx, &argc, &argv, &error))
    {
      g_printerr ("hearth-cli: %s\n", error->message);
      return CLI_EXIT_USAGE;
    }
  if (version)
    {
      g_print ("hearth-cli %s\n", HEARTH_VERSION);
      return CLI_EXIT_OK;
    }
  if (argc < 2)
    {
      g_autofree char *help = g_option_context_get_help (octx, TRUE, NULL);
      g_printerr ("%s", help);
      return CLI_EXIT_USAGE;
    }

  if (data_dir != NULL && *data_dir == '\0')
    {
      g_printerr (_("hearth-cli: --data-dir needs a folder, not an empty name\n"));
      return CLI_EXIT_USAGE;
    }
  ctx.data_dir = cli_resolve_data_dir (data_dir);
  ctx.passphrase_file = passphrase_file != NULL ? g_strdup (passphrase_file)
                                                : g_strdup (g_getenv ("HEARTH_PASSPHRASE_FILE"));
  if (ctx.passphrase_file != NULL && *ctx.passphrase_file == '\0')
    g_clear_pointer (&ctx.passphrase_file, g_free);
  ctx.json = json;

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_strcmp0 (argv[1], commands[i].name) == 0)
      {
        int rc = commands[i].run (&ctx, argc - 1, argv + 1);
        g_free (ctx.data_dir);
        g_free (ctx.passphrase_file);
        return rc;
      }
  g_printerr (_("hearth-cli: unknown command \"%s\"; see hearth-cli --help\n"), argv[1]);
  g_free (ctx.data_dir);
  g_free (ctx.passphrase_file);
  return CLI_EXIT_USAGE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli-common.h: what every hearth-cli command shares. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "case-store.h"
#include "store.h"

G_BEGIN_DECLS

/* Exit codes of ../shared/INTERFACES.md, the same for every command. */
typedef enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_REFUSED = 1,
  CLI_EXIT_USAGE = 2,
  CLI_EXIT_AUTH = 3,
  CLI_EXIT_DAMAGED = 4,
  CLI_EXIT_UNREACHABLE = 5,
  CLI_EXIT_CENTER_REFUSED = 6,
  CLI_EXIT_UNTRUSTED = 7,
  CLI_EXIT_INTERNAL = 70,
} CliExit;

typedef struct {
  char *data_dir;
  char *passphrase_file;  /* nullable: then the terminal is asked */
  gboolean json;
} CliContext;

char *cli_resolve_data_dir (const char *option);

/* Maps an error onto an exit code (and prints it). */
int cli_fail (GError *error);

/* Parses the options of @command; prints usage errors. Returns FALSE on a
 * usage error (exit 2). cli_parse() takes no positional argument;
 * cli_parse_with_arguments() takes exactly one, named @arguments (left in
 * (*argv)[1]). */
gboolean cli_parse_with_arguments (const char *command, GOptionEntry *entries, const char *arguments,
                                   int *argc, char ***argv);
gboolean cli_parse (const char *command, GOptionEntry *entries, int *argc, char ***argv);

/* The passphrase of the store, from the context's sources. */
HearthSecret *cli_get_passphrase (CliContext *ctx, GError **error);

/* A new passphrase: from @file if given, else asked twice on the terminal. */
HearthSecret *cli_get_new_passphrase (const char *file, const char *new_option, GError **error);

/* Prints @root as one JSON document on standard output (--json). */
void cli_print_json (JsonNode *root);

HearthStore *cli_open_store (CliContext *ctx, GError **error);

/* The case store of @store, acting as its user in its role (store_meta
 * "user" and "role": set by enrolment, or by init before it; worker by
 * default). */
HearthCaseStore *cli_open_cases (HearthStore *store, HearthRole *role, GError **error);

/* The full id of a record of @table named by @text: the id, a unique
 * prefix of at least 8 characters, or for a household its registry number
 * (../shared/INTERFACES.md, "Identifiers"). HEARTH_CASE_ERROR_NOT_FOUND
 * when none or several match. */
char *cli_resolve_id (HearthStore *store, const char *table, const char *text, GError **error);

int cli_cmd_init    (CliContext *ctx, int argc, char **argv);
int cli_cmd_passwd  (CliContext *ctx, int argc, char **argv);
int cli_cmd_check   (CliContext *ctx, int argc, char **argv);
int cli_cmd_status  (CliContext *ctx, int argc, char **argv);
int cli_cmd_recover (CliContext *ctx, int argc, char **argv);
int cli_cmd_rekey   (CliContext *ctx, int argc, char **argv);
int cli_cmd_county_keygen (CliContext *ctx, int argc, char **argv);
int cli_cmd_form (CliContext *ctx, int argc, char **argv);
int cli_cmd_audit (CliContext *ctx, int argc, char **argv);
int cli_cmd_visit (CliContext *ctx, int argc, char **argv);
int cli_cmd_review (CliContext *ctx, int argc, char **argv);
int cli_cmd_household (CliContext *ctx, int argc, char **argv);
int cli_cmd_tasks (CliContext *ctx, int argc, char **argv);
int cli_cmd_measure (CliContext *ctx, int argc, char **argv);
int cli_cmd_enrol (CliContext *ctx, int argc, char **argv);
int cli_cmd_sync (CliContext *ctx, int argc, char **argv);
int cli_cmd_verify_batch (CliContext *ctx, int argc, char **argv);
int cli_cmd_trust (CliContext *ctx, int argc, char **argv);
int cli_cmd_export (CliContext *ctx, int argc, char **argv);
int cli_cmd_conflict (CliContext *ctx, int argc, char **argv);
int cli_cmd_declare (CliContext *ctx, int argc, char **argv);

typedef struct _HearthFormSession HearthFormSession;

/* The path of a form named by path or by bundled form id. */
char *cli_form_path (const char *form);

/* Fills a form with an answers file (../shared/INTERFACES.md, "Answers
 * JSON"). On success returns 0 with the session (which owns the form) and
 * the submission; else prints the errors (JSON on stdout, or a message on
 * stderr) and returns the exit code. With @form_xml (a form the center
 * published), the form is that document, called @form_name in errors, and
 * its media default to those beside @form_path (the bundled form of the
 * same id, if any). */
int cli_fill (const char *form_path, const char *answers_path, const char *lang, const char *media,
              const char *now, const char *instance_id, GHashTable *instances,
              const char *form_xml, const char *form_name,
              HearthFormSession **session_out, char **xml_out);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cli-case.c: hearth-cli visit record, review, household list|show,
 * measure add|end and tasks (../shared/INTERFACES.md, "hearth-cli" and
 * "Monitoring workflow").
 * Who acts, and in which role, is the store's user (store_meta "user" and
 * "role", set by init --user and --role; enrolment will set them).
 */
#define G_LOG_DOMAIN "hearth-cli"

#include "cli-common.h"
#include "terminal.h"
#include "case-household.h"
#include "case-labels.h"
#include "case-published.h"
#include "case-review.h"
#include "case-search.h"
#include "case-store.h"
#include "form-session.h"

#include <glib/gi18n.h>
#include <libxml/tree.h>
#include <string.h>

/* One JSON object of string members: name, value, …, NULL. */
G_GNUC_NULL_TERMINATED
static void
json_object_of_strings (JsonBuilder *b, const char *first, ...)
{
  va_list ap;

  json_builder_begin_object (b);
  va_start (ap, first);
  for (const char *name = first; name != NULL; name = va_arg (ap, const char *))
    {
      json_builder_set_member_name (b, name);
      json_builder_add_string_value (b, va_arg (ap, const char *));
    }
  va_end (ap);
  json_builder_end_object (b);
}

static int
case_fail (GError *error)
{
  int code = CLI_EXIT_REFUSED;

  if (error->domain == HEARTH_CASE_ERROR && error->code == HEARTH_CASE_ERROR_SQLITE)
    code = CLI_EXIT_INTERNAL;
  g_printerr (_("hearth-cli: %s\n"), error->message);
  g_error_free (error);
  return code;
}

/* A measure's columns, in the order print_measure_text() reads them. */
#define MEASURE_COLUMNS "id, type, description, started_on, ended_on, status, created_by, last_progress, " \
                        "last_effect, last_remark, progress_on, progress_submission"

/* The current row of a SELECT MEASURE_COLUMNS as one JSON object. */
static void
measure_json (JsonBuilder *b, sqlite3_stmt *st)
{
  json_builder_begin_object (b);
  for (int c = 0; c < sqlite3_column_count (st); c++)
    {
      json_builder_set_member_name (b, sqlite3_column_name (st, c));
      if (sqlite3_column_type (st, c) == SQLITE_NULL)
        json_builder_add_null_value (b);
      else
        json_builder_add_string_value (b, (const char *) sqlite3_column_text (st, c));
    }
  json_builder_end_object (b);
}

static void
print_measure_text (sqlite3_stmt *st)
{
  const char *v[12];

  for (int c = 0; c < 12; c++)
    v[c] = sqlite3_column_text (st, c) != NULL ? (const char *) sqlite3_column_text (st, c) : "";
  if (g_str_equal (v[5], "active"))
    g_print (_("  Measure %s  %s, active since %s: %s\n"), v[0], hearth_label_measure (v[1]), v[3], v[2]);
  else
    g_print (_("  Measure %s  %s, %s to %s (ended): %s\n"), v[0], hearth_label_measure (v[1]), v[3], v[4], v[2]);
  if (v[7][0] != '\0')
    g_print (_("    Last follow-up %s: progress %s, effect %s\n"), v[10], hearth_label_progress (v[7]),
             v[8][0] != '\0' ? hearth_label_effect (v[8]) : "-");
  if (v[9][0] != '\0')
    g_print (_("    Remark: %s\n"), v[9]);
}

/* The household's measures: the active ones first, each by start date. */
static sqlite3_stmt *
household_measures (HearthStore *store, const char *household_id)
{
  sqlite3_stmt *st = NULL;

  if (sqlite3_prepare_v2 (hearth_store_get_db (store),
                          "SELECT " MEASURE_COLUMNS " FROM measures WHERE household_id = ? "
                          "ORDER BY status = 'ended', started_on, id", -1, &st, NULL) != SQLITE_OK)
    return NULL;
  sqlite3_bind_text (st, 1, household_id, -1, SQLITE_TRANSIENT);
  return st;
}

/* The clerk's latest return of the household while its correction is
 * still open: what the worker is to correct. Read as the app's
 * household page reads its reviews (hearth_case_household_read()).
 * Returns (transfer full) the household, with *review pointing into it,
 * or NULL when there is none. */
static HearthHousehold *
open_return (HearthStore *store, const char *id, const HearthHouseholdReview **review)
{
  g_autoptr(HearthHousehold) h = hearth_case_household_read (hearth_store_get_db (store), id, NULL);
  gboolean correcting = FALSE;

  *review = NULL;
  if (h == NULL)
    return NULL;
  for (guint i = 0; i < h->tasks->len && !correcting; i++)
    {
      const HearthHouseholdTask *t = h->tasks->pdata[i];
      correcting = g_str_equal (t->kind, "correction") && g_str_equal (t->status, "open");
    }
  /* Newest first: the first return is the latest. */
  for (guint i = 0; correcting && i < h->reviews->len && *review == NULL; i++)
    if (g_str_equal (((HearthHouseholdReview *) h->reviews->pdata[i])->to_state, "returned"))
      *review = h->reviews->pdata[i];
  return *review != NULL ? g_steal_pointer (&h) : NULL;
}

static void
print_household (CliContext *ctx, HearthStore *store, const char *id)
{
  sqlite3_stmt *st = NULL, *m = NULL;
  const HearthHouseholdReview *returned = NULL;
  g_autoptr(HearthHousehold) h = open_return (store, id, &returned);

  if (sqlite3_prepare_v2 (hearth_store_get_db (store),
                          "SELECT id, village_code, head_name, risk_level, monitoring_status, next_visit_date, "
                          "member_count, entity_version FROM households WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
    return;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      if (ctx->json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();
          g_autoptr(JsonNode) root = NULL;

          json_builder_begin_object (b);
          for (int c = 0; c < sqlite3_column_count (st); c++)
            {
              json_builder_set_member_name (b, sqlite3_column_name (st, c));
              if (sqlite3_column_type (st, c) == SQLITE_INTEGER)
                json_builder_add_int_value (b, sqlite3_column_int64 (st, c));
              else
                json_builder_add_string_value (b, (const char *) sqlite3_column_text (st, c));
            }
          /* The clerk's return being corrected, or null. */
          json_builder_set_member_name (b, "returned");
          if (returned != NULL)
            json_object_of_strings (b, "at", returned->at, "actor", returned->actor, "role", returned->role,
                                    "comment", returned->comment, NULL);
          else
            json_builder_add_null_value (b);
          json_builder_set_member_name (b, "measures");
          json_builder_begin_array (b);
          if ((m = household_measures (store, id)) != NULL)
            while (sqlite3_step (m) == SQLITE_ROW)
              measure_json (b, m);
          json_builder_end_array (b);
          json_builder_end_object (b);
          root = json_builder_get_root (b);
          cli_print_json (root);
        }
      else
        {
          const char *next_visit = (const char *) sqlite3_column_text (st, 5);
          gint64 members = sqlite3_column_int64 (st, 6);
          const char *risk = hearth_label_risk_level ((const char *) sqlite3_column_text (st, 3));
          const char *status = hearth_label_status ((const char *) sqlite3_column_text (st, 4));

          /* A household with no next visit planned says nothing of it. */
          if (next_visit != NULL && next_visit[0] != '\0')
            /* TRANSLATORS: household id, village code, head's name, the
             * risk level in words ("Red risk"), the state in words
             * ("Waiting for village review"), the next visit's date */
            g_print (g_dngettext (GETTEXT_PACKAGE,
                                  "Household %s (village %s, head %s): %s, %s, next visit %s, %lld member\n",
                                  "Household %s (village %s, head %s): %s, %s, next visit %s, %lld members\n",
                                  (gulong) members),
                     sqlite3_column_text (st, 0), sqlite3_column_text (st, 1), sqlite3_column_text (st, 2), risk,
                     status, next_visit, (long long) members);
          else
            g_print (g_dngettext (GETTEXT_PACKAGE, "Household %s (village %s, head %s): %s, %s, %lld member\n",
                                  "Household %s (village %s, head %s): %s, %s, %lld members\n", (gulong) members),
                     sqlite3_column_text (st, 0), sqlite3_column_text (st, 1), sqlite3_column_text (st, 2), risk,
                     status, (long long) members);
          if (returned != NULL)
            {
              /* TRANSLATORS: the clerk's return being corrected: role,
               * user, date (YYYY-MM-DD) and the clerk's comment */
              g_autofree char *date = g_strndup (returned->at, 10);

              g_autofree char *comment = hearth_terminal_one_line (returned->comment);

              if (comment[0] != '\0')
                g_print (_("  Returned for correction by %s %s on %s: “%s”\n"), hearth_label_role (returned->role),
                         returned->actor, date, comment);
              else
                g_print (_("  Returned for correction by %s %s on %s\n"), hearth_label_role (returned->role),
                         returned->actor, date);
            }
          if ((m = household_measures (store, id)) != NULL)
            while (sqlite3_step (m) == SQLITE_ROW)
              print_measure_text (m);
        }
    }
  sqlite3_finalize (m);
  sqlite3_finalize (st);
}

static int
visit_record (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *form_arg = NULL, *answers = NULL, *household = NULL, *lang = NULL, *media = NULL;
  g_autofree char *now = NULL, *instance_id = NULL, *form_path = NULL, *xml = NULL, *recorded = NULL;
  g_autofree char *published = NULL, *published_version = NULL, *published_name = NULL;
  g_autofree char *thresholds_version = NULL;
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthCaseStore) cases = NULL;
  g_autoptr(HearthFormSession) session = NULL;
  g_autoptr(GHashTable) instances = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) xmlFreeDoc);
  GError *error = NULL;
  HearthRole role;
  int status;
  GOptionEntry entries[] = {
    { "form", 0, 0, G_OPTION_ARG_STRING, &form_arg, N_("The form: a bundled form's id or a file"), N_("FORM") },
    { "answers", 0, 0, G_OPTION_ARG_FILENAME, &answers, N_("The answers, as JSON (required)"), N_("FILE") },
    { "household", 0, 0, G_OPTION_ARG_STRING, &household, N_("The household a visit is for"), N_("ID") },
    { "lang", 0, 0, G_OPTION_ARG_STRING, &lang, N_("The form's language, by code or name"), N_("LANG") },
    { "media", 0, 0, G_OPTION_ARG_FILENAME, &media, N_("The folder with the form's media"), N_("DIR") },
    { "now", 0, 0, G_OPTION_ARG_STRING, &now, N_("Fix now() and today(), for tests"), N_("ISO8601") },
    { "instance-id", 0, 0, G_OPTION_ARG_STRING, &instance_id, N_("Fix meta/instanceID, for tests"), N_("UUID") },
    { NULL }
  };

  if (!cli_parse ("visit record", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (form_arg == NULL || answers == NULL)
    {
      g_printerr (_("hearth-cli: visit record needs --form FORM and --answers FILE\n"));
      return CLI_EXIT_USAGE;
    }
  store = cli_open_store (ctx, &error);
  if (store == NULL)
    return cli_fail (error);
  cases = cli_open_cases (store, &role, &error);
  if (cases == NULL)
    return case_fail (error);
  /* A visit reads the household as the store knows it. */
  if (household != NULL)
    {
      char *full = cli_resolve_id (store, "households", household, &error);
      xmlDoc *doc;

      if (full == NULL)
        return case_fail (error);
      g_free (household);
      household = full;
      doc = hearth_case_build_instance (cases, household, &error);
      if (doc == NULL)
        return case_fail (error);
      g_hash_table_insert (instances, (gpointer) "case", doc);
    }
  form_path = cli_form_path (form_arg);
  /* A form id (not a file): the county's published version, when it
   * published one, replaces the bundled form; published thresholds replace
   * the bundled ones for every form. */
  if (!g_file_test (form_arg, G_FILE_TEST_EXISTS) && strchr (form_arg, '/') == NULL)
    {
      published = hearth_published_form (store, form_arg, &published_version, &error);
      if (published == NULL && error != NULL)
        return case_fail (error);
      if (published != NULL)
        published_name = g_strdup_printf (_("the form %s version %s published by the county"), form_arg,
                                          published_version);
    }
  {
    xmlDoc *thresholds = hearth_published_thresholds (store, &thresholds_version, &error);

    if (thresholds == NULL && error != NULL)
      return case_fail (error);
    if (thresholds != NULL)
      g_hash_table_insert (instances, (gpointer) "thresholds", thresholds);
  }
  if (!ctx->json && published != NULL)
    g_print (_("Using %s.\n"), published_name);
  if (!ctx->json && thresholds_version != NULL)
    g_print (_("Using the county thresholds version %s.\n"), thresholds_version);
  status = cli_fill (form_path, answers, lang, media, now, instance_id, instances, published, published_name,
                     &session, &xml);
  if (status != CLI_EXIT_OK)
    return status;
  recorded = hearth_case_record_submission (cases, hearth_form_session_get_form (session), xml, household, &error);
  if (recorded == NULL)
    return case_fail (error);
  if (household == NULL)
    {
      sqlite3_stmt *st = NULL;
      if (sqlite3_prepare_v2 (hearth_store_get_db (store), "SELECT household_id FROM submissions WHERE id = ?", -1,
                              &st, NULL) == SQLITE_OK)
        {
          sqlite3_bind_text (st, 1, recorded, -1, SQLITE_STATIC);
          if (sqlite3_step (st) == SQLITE_ROW)
            household = g_strdup ((const char *) sqlite3_column_text (st, 0));
        }
      sqlite3_finalize (st);
    }
  if (!ctx->json)
    g_print (_("Recorded submission %s.\n"), recorded);
  if (household != NULL)
    print_household (ctx, store, household);
  return CLI_EXIT_OK;
}

int
cli_cmd_visit (CliContext *ctx, int argc, char **argv)
{
  if (argc < 2 || g_strcmp0 (argv[1], "record") != 0)
    {
      g_printerr (_("hearth-cli: visit needs a subcommand: visit record --form FORM --answers FILE [--household ID]\n"));
      return CLI_EXIT_USAGE;
    }
  return visit_record (ctx, argc - 1, argv + 1);
}

/* The cases waiting for this role's decision (../shared/INTERFACES.md):
 * the clerk's village review and eliminations, the township's and the
 * county's approvals, the worker's returned cases. */
static int
review_list (CliContext *ctx, int argc, char **argv)
{
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthCaseStore) cases = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GPtrArray) items = NULL;
  GError *error = NULL;
  HearthRole role;
  GOptionEntry entries[] = { { NULL } };

  if (!cli_parse ("review list", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  store = cli_open_store (ctx, &error);
  if (store == NULL)
    return cli_fail (error);
  cases = cli_open_cases (store, &role, &error);
  if (cases == NULL)
    return case_fail (error);
  /* The tablet's review page reads the same queue (case-review.h). */
  items = hearth_case_review_queue (hearth_store_get_db (store), role, &error);
  if (items == NULL)
    return case_fail (error);
  json_builder_begin_array (b);
  for (guint i = 0; i < items->len; i++)
    {
      const HearthReviewItem *item = items->pdata[i];

      if (ctx->json)
        json_object_of_strings (b, "id", item->household_id, "village_code", item->village_code, "head_name",
                                item->head_name, "monitoring_status", item->monitoring_status, "risk_level",
                                item->risk_level, NULL);
      else
        {
          g_autofree char *head = hearth_terminal_one_line (item->head_name);

          g_print ("%s  %s  %s  %s  %s\n", item->household_id, item->village_code, head,
                   hearth_label_risk_level (item->risk_level), hearth_label_status (item->monitoring_status));
        }
    }
  json_builder_end_array (b);
  if (ctx->json)
    {
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      cli_print_json (root);
    }
  else if (items->len == 0)
    /* Said on stderr: stdout stays the rows alone, for pipes. */
    g_printerr (_("No case waits for this tablet's review.\n"));
  return CLI_EXIT_OK;
}

int
cli_cmd_review (CliContext *ctx, int argc, char **argv)
{
  static const char *const actions[] = { "declare", "approve", "return", "reject", "propose-elimination", "revert" };
  g_autofree char *comment = NULL;
  g_autofree char *state = NULL;
  g_autofree char *household = NULL;
  g_auto(GStrv) measure_args = NULL;
  g_autoptr(GArray) measures = g_array_new (FALSE, TRUE, sizeof (HearthMeasureSpec));
  g_autoptr(GPtrArray) types = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthCaseStore) cases = NULL;
  g_autofree char *command = NULL;
  const char *action;
  GError *error = NULL;
  HearthRole role;
  gboolean known = FALSE;
  GOptionEntry entries[] = {
    { "comment", 0, 0, G_OPTION_ARG_STRING, &comment, N_("Why (needed to return or reject)"), N_("TEXT") },
    { "measure", 0, 0, G_OPTION_ARG_STRING_ARRAY, &measure_args,
      N_("An assistance measure decided with the approval into monitoring (repeat for more)"),
      N_("TYPE:DESCRIPTION") },
    { NULL }
  };

  if (argc >= 2 && g_str_equal (argv[1], "list"))
    return review_list (ctx, argc - 1, argv + 1);
  for (gsize i = 0; argc >= 2 && i < G_N_ELEMENTS (actions); i++)
    known = known || g_str_equal (argv[1], actions[i]);
  if (!known)
    {
      g_printerr (_("hearth-cli: review needs an action: review list, or review "
                    "approve|return|reject|propose-elimination|revert|declare HOUSEHOLD [--comment TEXT] "
                    "[--measure TYPE:DESCRIPTION …]\n"));
      return CLI_EXIT_USAGE;
    }
  action = argv[1];
  command = g_strdup_printf ("review %s", action);
  argc--;
  argv++;
  if (!cli_parse_with_arguments (command, entries, N_("HOUSEHOLD"), &argc, &argv))
    return CLI_EXIT_USAGE;
  /* TYPE:DESCRIPTION, the colon ASCII or full-width (as typed with a
   * Chinese input method). */
  for (guint i = 0; measure_args != NULL && measure_args[i] != NULL; i++)
    {
      const char *arg = measure_args[i];
      const char *colon = strchr (arg, ':');
      const char *wide = strstr (arg, "\xef\xbc\x9a");
      HearthMeasureSpec spec = { 0 };

      if (colon == NULL || (wide != NULL && wide < colon))
        colon = wide;
      if (colon == NULL)
        {
          g_printerr (_("hearth-cli: --measure takes TYPE:DESCRIPTION, not \"%s\"\n"), arg);
          return CLI_EXIT_USAGE;
        }
      g_ptr_array_add (types, g_strndup (arg, (gsize) (colon - arg)));
      spec.description = colon + (colon == wide ? 3 : 1);
      g_array_append_val (measures, spec);
    }
  for (guint i = 0; i < measures->len; i++)
    g_array_index (measures, HearthMeasureSpec, i).type = types->pdata[i];
  store = cli_open_store (ctx, &error);
  if (store == NULL)
    return cli_fail (error);
  household = cli_resolve_id (store, "households", argv[1], &error);
  if (household == NULL)
    return case_fail (error);
  cases = cli_open_cases (store, &role, &error);
  if (cases == NULL ||
      !hearth_case_transition_with_measures (cases, household, role, action, comment,
                                             (const HearthMeasureSpec *) (gpointer) measures->data, measures->len,
                                             &state, &error))
    return case_fail (error);
  if (!ctx->json)
    g_print (_("Household %s is now: %s.\n"), household, hearth_label_status (state));
  print_household (ctx, store, household);
  return CLI_EXIT_OK;
}

/* One measure, as JSON or a line of text. */
static void
print_measure (CliContext *ctx, HearthStore *store, const char *id)
{
  sqlite3_stmt *st = NULL;

  if (sqlite3_prepare_v2 (hearth_store_get_db (store), "SELECT " MEASURE_COLUMNS " FROM measures WHERE id = ?", -1,
                          &st, NULL) != SQLITE_OK)
    return;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      if (ctx->json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();
          g_autoptr(JsonNode) root = NULL;

          measure_json (b, st);
          root = json_builder_get_root (b);
          cli_print_json (root);
        }
      else
        print_measure_text (st);
    }
  sqlite3_finalize (st);
}

static int
measure_add (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *household = NULL, *type = NULL, *description = NULL, *started = NULL, *id = NULL;
  g_autofree char *household_id = NULL;
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthCaseStore) cases = NULL;
  GError *error = NULL;
  HearthRole role;
  HearthMeasureSpec spec = { 0 };
  GOptionEntry entries[] = {
    { "household", 0, 0, G_OPTION_ARG_STRING, &household, N_("The household the measure is for"), N_("ID") },
    { "type", 0, 0, G_OPTION_ARG_STRING, &type,
      N_("The type: living, social_protection, microcredit, industry, public_job, casual_work, regular_job, education, "
         "health, housing, water, temporary_relief or insurance"), N_("TYPE") },
    { "description", 0, 0, G_OPTION_ARG_STRING, &description, N_("What is done, for whom"), N_("TEXT") },
    { "started", 0, 0, G_OPTION_ARG_STRING, &started, N_("The date it starts (default: today)"), N_("YYYY-MM-DD") },
    { NULL }
  };

  if (!cli_parse ("measure add", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (household == NULL || type == NULL || description == NULL)
    {
      g_printerr (_("hearth-cli: measure add needs --household ID, --type TYPE and --description TEXT\n"));
      return CLI_EXIT_USAGE;
    }
  store = cli_open_store (ctx, &error);
  if (store == NULL)
    return cli_fail (error);
  household_id = cli_resolve_id (store, "households", household, &error);
  if (household_id == NULL)
    return case_fail (error);
  cases = cli_open_cases (store, &role, &error);
  spec.type = type;
  spec.description = description;
  spec.started_on = started;
  if (cases == NULL || !hearth_case_add_measure (cases, household_id, role, &spec, &id, &error))
    return case_fail (error);
  if (!ctx->json)
    g_print (_("Added measure %s to household %s.\n"), id, household_id);
  print_measure (ctx, store, id);
  return CLI_EXIT_OK;
}

static int
measure_end (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *date = NULL;
  g_autofree char *measure = NULL;
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthCaseStore) cases = NULL;
  GError *error = NULL;
  HearthRole role;
  GOptionEntry entries[] = {
    { "date", 0, 0, G_OPTION_ARG_STRING, &date, N_("The date it ended (default: today)"), N_("YYYY-MM-DD") },
    { NULL }
  };

  if (!cli_parse_with_arguments ("measure end", entries, N_("MEASURE"), &argc, &argv))
    return CLI_EXIT_USAGE;
  store = cli_open_store (ctx, &error);
  if (store == NULL)
    return cli_fail (error);
  measure = cli_resolve_id (store, "measures", argv[1], &error);
  if (measure == NULL)
    return case_fail (error);
  cases = cli_open_cases (store, &role, &error);
  if (cases == NULL || !hearth_case_end_measure (cases, measure, role, date, &error))
    return case_fail (error);
  if (!ctx->json)
    g_print (_("Ended measure %s.\n"), measure);
  print_measure (ctx, store, measure);
  return CLI_EXIT_OK;
}

/* Declared here and in hearth-cli.c: cli-common.h is not this file's. */

int
cli_cmd_measure (CliContext *ctx, int argc, char **argv)
{
  if (argc >= 2 && g_str_equal (argv[1], "add"))
    return measure_add (ctx, argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal (argv[1], "end"))
    return measure_end (ctx, argc - 1, argv + 1);
  g_printerr (_("hearth-cli: measure needs a subcommand: measure add --household ID --type TYPE --description TEXT "
                "[--started YYYY-MM-DD], or measure end MEASURE [--date YYYY-MM-DD]\n"));
  return CLI_EXIT_USAGE;
}

/* The most households household list shows (--limit's bound); counting
 * the households beyond those shown stops here too. */
#define CLI_HOUSEHOLD_LIST_MAX 100000

/* The page of @q after @last (NULL: the first page), at most @n rows (a
 * library page at most): keyset paging, so a page deep in a county costs
 * what the first one does. */
static GPtrArray *
search_after (sqlite3 *db, HearthHouseholdQuery *q, const HearthHouseholdRow *last, guint n, GError **error)
{
  q->after_village_code = last != NULL ? last->village_code : NULL;
  q->after_head_name = last != NULL ? last->head_name : NULL;
  q->after_id = last != NULL ? last->id : NULL;
  q->limit = MIN (n, HEARTH_CASE_SEARCH_MAX_LIMIT);
  return hearth_case_search_households (db, q, error);
}

/* How many households @q finds after @last, counted a page at a time up
 * to @cap; *capped says the count stopped there with more to come.
 * Returns -1 with @error set when a page fails. */
static gint64
count_after (sqlite3 *db, HearthHouseholdQuery *q, const HearthHouseholdRow *last, gint64 cap, gboolean *capped,
             GError **error)
{
  g_autoptr(GPtrArray) prev = NULL;
  gint64 n = 0;

  *capped = FALSE;
  for (;;)
    {
      /* The cursor lives in the previous page: keep it until the next. */
      GPtrArray *page = search_after (db, q, prev != NULL ? prev->pdata[prev->len - 1] : last,
                                      HEARTH_CASE_SEARCH_MAX_LIMIT, error);

      if (page == NULL)
        return -1;
      n += page->len;
      g_clear_pointer (&prev, g_ptr_array_unref);
      prev = page;
      if (page->len < HEARTH_CASE_SEARCH_MAX_LIMIT)
        return n;
      if (n >= cap)
        {
          *capped = TRUE;
          return n;
        }
    }
}

int
cli_cmd_household (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *search = NULL, *village = NULL, *status = NULL, *risk = NULL;
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  GError *error = NULL;
  HearthHouseholdQuery q = { 0 };
  gint limit = HEARTH_CASE_SEARCH_DEFAULT_LIMIT;
  gboolean end = FALSE, capped = FALSE;
  gint64 rest = 0;
  GOptionEntry entries[] = {
    { "search", 0, 0, G_OPTION_ARG_STRING, &search, N_("Part of a name, or the last digits of an ID number"), N_("TEXT") },
    { "village", 0, 0, G_OPTION_ARG_STRING, &village, N_("A division code: 6, 9 or 12 digits"), N_("CODE") },
    { "status", 0, 0, G_OPTION_ARG_STRING, &status, N_("A monitoring status"), N_("STATUS") },
    { "risk", 0, 0, G_OPTION_ARG_STRING, &risk, N_("A risk level"), N_("LEVEL") },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, N_("Show at most N households, 1 to 100000 (default 50)"), N_("N") },
    { NULL }
  };

  if (argc >= 2 && g_strcmp0 (argv[1], "add") == 0)
    {
      /* A registration: the bundled registration form, filled with the
       * answers and recorded as a visit record would. */
      g_autoptr(GPtrArray) args = g_ptr_array_new ();

      g_ptr_array_add (args, (char *) "household add");
      g_ptr_array_add (args, (char *) "--form");
      g_ptr_array_add (args, (char *) "hearth_household_registration");
      for (int i = 2; i < argc; i++)
        g_ptr_array_add (args, argv[i]);
      g_ptr_array_add (args, NULL);
      return visit_record (ctx, (int) args->len - 1, (char **) args->pdata);
    }
  if (argc >= 2 && g_strcmp0 (argv[1], "show") == 0)
    {
      GOptionEntry none[] = { { NULL } };
      argc--;
      argv++;
      if (!cli_parse_with_arguments ("household show", none, N_("ID"), &argc, &argv))
        return CLI_EXIT_USAGE;
      g_autofree char *id = NULL;

      store = cli_open_store (ctx, &error);
      if (store == NULL)
        return cli_fail (error);
      id = cli_resolve_id (store, "households", argv[1], &error);
      if (id == NULL)
        return case_fail (error);
      print_household (ctx, store, id);
      return CLI_EXIT_OK;
    }
  if (argc >= 2 && g_strcmp0 (argv[1], "import") == 0)
    {
      GOptionEntry none[] = { { NULL } };
      g_autoptr(HearthCaseStore) cases = NULL;
      g_autoptr(GPtrArray) problems = NULL;
      g_autoptr(GPtrArray) notices = NULL;
      HearthRole role;
      guint households = 0, members = 0;

      argc--;
      argv++;
      if (!cli_parse_with_arguments ("household import", none, N_("FILE.csv"), &argc, &argv))
        return CLI_EXIT_USAGE;
      store = cli_open_store (ctx, &error);
      if (store == NULL)
        return cli_fail (error);
      cases = cli_open_cases (store, &role, &error);
      if (cases == NULL || !hearth_case_import_registry (cases, argv[1], &households, &members, &problems, &notices,
                                                            &error))
        {
          for (guint i = 0; problems != NULL && i < problems->len; i++)
            g_printerr ("%s\n", (char *) problems->pdata[i]);
          return case_fail (error);
        }
      /* TRANSLATORS: the plural follows the number of households. */
      g_print (g_dngettext (GETTEXT_PACKAGE, "Imported %u household with %u members.\n",
                            "Imported %u households with %u members.\n", households),
               households, members);
      /* What was not imported, line by line (a member's own address). */
      for (guint i = 0; i < notices->len; i++)
        g_print (_("Not imported: %s\n"), (const char *) notices->pdata[i]);
      return CLI_EXIT_OK;
    }
  if (argc < 2 || g_strcmp0 (argv[1], "list") != 0)
    {
      g_printerr (_("hearth-cli: household needs a subcommand: household list [--search TEXT] [--village CODE] "
                    "[--status STATUS] [--risk LEVEL] [--limit N], household show ID, or household import FILE.csv\n"));
      return CLI_EXIT_USAGE;
    }
  argc--;
  argv++;
  if (!cli_parse ("household list", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (limit < 1 || limit > CLI_HOUSEHOLD_LIST_MAX)
    {
      g_printerr (_("hearth-cli: --limit takes 1 to %d households, not %d\n"), CLI_HOUSEHOLD_LIST_MAX, limit);
      return CLI_EXIT_USAGE;
    }
  store = cli_open_store (ctx, &error);
  if (store == NULL)
    return cli_fail (error);
  q.text = search;
  q.village_prefix = village;
  q.monitoring_status = status;
  q.risk_level = risk;
  /* Library pages, each after the last row of the one before, until
   * --limit rows or a short page (the last). */
  rows = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_household_row_free);
  while (!end && rows->len < (guint) limit)
    {
      guint want = MIN ((guint) limit - rows->len, HEARTH_CASE_SEARCH_MAX_LIMIT);
      GPtrArray *page = search_after (hearth_store_get_db (store), &q,
                                      rows->len > 0 ? rows->pdata[rows->len - 1] : NULL, want, &error);

      if (page == NULL)
        return case_fail (error);
      end = page->len < want;
      g_ptr_array_extend_and_steal (rows, page);
    }
  /* Never a silent cut: the households beyond the limit are counted (up
   * to CLI_HOUSEHOLD_LIST_MAX in all) and the count goes to stderr, so
   * that stdout stays the rows alone for pipes and --json. */
  if (!end && rows->len > 0)
    {
      rest = count_after (hearth_store_get_db (store), &q, rows->pdata[rows->len - 1],
                          CLI_HOUSEHOLD_LIST_MAX - (gint64) rows->len, &capped, &error);
      if (rest < 0)
        return case_fail (error);
    }
  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (b);
      for (guint i = 0; i < rows->len; i++)
        {
          HearthHouseholdRow *r = rows->pdata[i];
          json_object_of_strings (b, "id", r->id, "village_code", r->village_code, "head_name", r->head_name,
                                  "monitoring_status", r->monitoring_status, "risk_level", r->risk_level, NULL);
        }
      json_builder_end_array (b);
      root = json_builder_get_root (b);
      cli_print_json (root);
    }
  else
    for (guint i = 0; i < rows->len; i++)
      {
        HearthHouseholdRow *r = rows->pdata[i];
        g_autofree char *head = hearth_terminal_one_line (r->head_name);

        g_print ("%s  %s  %s  %s  %s\n", r->id, r->village_code, head, hearth_label_risk_level (r->risk_level),
                 hearth_label_status (r->monitoring_status));
      }
  if (rest > 0)
    {
      gint64 total = (gint64) rows->len + rest;

      if (capped)
        g_printerr (g_dngettext (GETTEXT_PACKAGE, "%u of more than %lld household shown; --limit N shows more.\n",
                                 "%u of more than %lld households shown; --limit N shows more.\n", (gulong) total),
                    rows->len, (long long) total);
      else
        g_printerr (g_dngettext (GETTEXT_PACKAGE, "%u of %lld household shown; --limit N shows more.\n",
                                 "%u of %lld households shown; --limit N shows more.\n", (gulong) total),
                    rows->len, (long long) total);
    }
  return CLI_EXIT_OK;
}

/* The most tasks `tasks` shows (--limit's bound); counting the tasks
 * beyond those shown stops here too. */
#define CLI_TASKS_MAX 100000

/* One library page of the open tasks after (@after_due_date, @after_id)
 * (keyset paging: due date, then id; both NULL: from the first), at most
 * @n; with @overdue_only it ends at the first task not overdue (overdue
 * ones come first). Sets *end when the list ended on this page.
 * Returns: (transfer full): the rows, or NULL with @error set. */
static GPtrArray *
tasks_page (sqlite3 *db, const char *today, gboolean overdue_only, const char *after_due_date,
            const char *after_id, guint n, gboolean *end, GError **error)
{
  GPtrArray *page = hearth_case_tasks_list (db, today, NULL, after_due_date, after_id, n, error);

  if (page == NULL)
    return NULL;
  *end = page->len < n;
  for (guint i = 0; overdue_only && i < page->len; i++)
    if (((HearthTaskRow *) page->pdata[i])->urgency != HEARTH_TASK_OVERDUE)
      {
        g_ptr_array_set_size (page, i);
        *end = TRUE;
      }
  return page;
}

/* The columns @text takes on a terminal: wide (CJK) characters two,
 * combining ones none. */
static guint
text_columns (const char *text)
{
  guint n = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      n += g_unichar_iszerowidth (c) ? 0 : g_unichar_iswide (c) ? 2 : 1;
    }
  return n;
}

/* The text listing of tasks, for 80 columns: the household's ID (36
 * characters) and a task kind in words do not fit on one line with the
 * date, the urgency and the head's name, so each task takes two lines,
 * the second (and a correction's comment) indented under the first's
 * urgency:
 *
 *   2026-03-08  overdue    Correction asked by the village
 *               3f2a1c4e-0b7c-4d2e-9a51-6c0e8f7d2b13  Wang Jianguo
 *               Clerk's comment: “...”
 *
 * The urgency is padded to the widest one in the language shown. */
static void
print_task_rows (GPtrArray *rows, const char *const urgency[3])
{
  const char *indent = "            ";   /* the date and its gap */
  guint width = 0;

  for (guint i = 0; i < 3; i++)
    width = MAX (width, text_columns (_(urgency[i])));
  for (guint i = 0; i < rows->len; i++)
    {
      HearthTaskRow *r = rows->pdata[i];
      const char *label = _(urgency[r->urgency]);
      g_autofree char *head = hearth_terminal_one_line (r->head_name);
      g_autofree char *reason = hearth_terminal_one_line (r->reason);

      g_print ("%s  %s%*s  %s\n", r->due_date, label, (int) (width - text_columns (label)), "",
               hearth_label_task_kind (r->kind));
      g_print ("%s%s%s%s\n", indent, r->household_id, head[0] != '\0' ? "  " : "", head);
      /* A correction's reason is the clerk's return comment (written
       * into the task by the return): what the worker is to correct. */
      if (g_str_equal (r->kind, "correction") && reason[0] != '\0')
        {
          g_print ("%s", indent);
          g_print (_("Clerk's comment: “%s”\n"), reason);
        }
    }
}

int
cli_cmd_tasks (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *today = NULL;
  gboolean overdue_only = FALSE;
  gint limit = HEARTH_CASE_SEARCH_DEFAULT_LIMIT;
  gboolean end = FALSE;
  gint64 rest = 0;
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  GError *error = NULL;
  static const char *const urgency[] = { N_("overdue"), N_("due today"), N_("later") };
  GOptionEntry entries[] = {
    { "today", 0, 0, G_OPTION_ARG_STRING, &today, N_("Today's date (default: the local date)"), N_("YYYY-MM-DD") },
    { "overdue", 0, 0, G_OPTION_ARG_NONE, &overdue_only, N_("Only the tasks past their due date"), NULL },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, N_("Show at most N tasks, 1 to 100000 (default 50)"), N_("N") },
    { NULL }
  };

  if (!cli_parse ("tasks", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (limit < 1 || limit > CLI_TASKS_MAX)
    {
      g_printerr (_("hearth-cli: --limit takes 1 to %d tasks, not %d\n"), CLI_TASKS_MAX, limit);
      return CLI_EXIT_USAGE;
    }
  if (today == NULL)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();
      today = g_date_time_format (now, "%Y-%m-%d");
    }
  store = cli_open_store (ctx, &error);
  if (store == NULL)
    return cli_fail (error);
  /* Library pages, each after the last row of the one before, until
   * --limit rows or the list's end. */
  rows = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_task_row_free);
  while (!end && rows->len < (guint) limit)
    {
      const HearthTaskRow *last = rows->len > 0 ? rows->pdata[rows->len - 1] : NULL;
      GPtrArray *page = tasks_page (hearth_store_get_db (store), today, overdue_only,
                                    last != NULL ? last->due_date : NULL, last != NULL ? last->id : NULL,
                                    MIN ((guint) limit - rows->len, HEARTH_CASE_SEARCH_MAX_LIMIT), &end, &error);

      if (page == NULL)
        return case_fail (error);
      g_ptr_array_extend_and_steal (rows, page);
    }
  /* Never a silent cut: the tasks beyond the limit are counted (up to
   * CLI_TASKS_MAX in all) on stderr, so stdout stays the rows alone;
   * a page at a time, holding one page. */
  if (!end && rows->len > 0)
    {
      const HearthTaskRow *last = rows->pdata[rows->len - 1];
      g_autofree char *after_due_date = g_strdup (last->due_date);
      g_autofree char *after_id = g_strdup (last->id);

      while (!end && (gint64) rows->len + rest < CLI_TASKS_MAX)
        {
          guint n = (guint) MIN ((gint64) HEARTH_CASE_SEARCH_MAX_LIMIT, CLI_TASKS_MAX - (gint64) rows->len - rest);
          g_autoptr(GPtrArray) page = tasks_page (hearth_store_get_db (store), today, overdue_only,
                                                  after_due_date, after_id, n, &end, &error);

          if (page == NULL)
            return case_fail (error);
          rest += page->len;
          if (page->len > 0)
            {
              const HearthTaskRow *r = page->pdata[page->len - 1];
              g_free (after_due_date);
              g_free (after_id);
              after_due_date = g_strdup (r->due_date);
              after_id = g_strdup (r->id);
            }
        }
    }
  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (b);
      for (guint i = 0; i < rows->len; i++)
        {
          HearthTaskRow *r = rows->pdata[i];
          /* A task's reason: for a correction, the clerk's return comment. */
          json_object_of_strings (b, "id", r->id, "household_id", r->household_id, "kind", r->kind,
                                  "due_date", r->due_date, "urgency", urgency[r->urgency], "reason", r->reason, NULL);
        }
      json_builder_end_array (b);
      root = json_builder_get_root (b);
      cli_print_json (root);
    }
  else
    print_task_rows (rows, urgency);
  if (!ctx->json && rows->len == 0)
    g_printerr (overdue_only ? _("No task is overdue.\n") : _("No task is open.\n"));
  if (rest > 0)
    {
      gint64 total = (gint64) rows->len + rest;

      if (!end)
        g_printerr (g_dngettext (GETTEXT_PACKAGE, "%u of more than %lld task shown; --limit N shows more.\n",
                                 "%u of more than %lld tasks shown; --limit N shows more.\n", (gulong) total),
                    rows->len, (long long) total);
      else
        g_printerr (g_dngettext (GETTEXT_PACKAGE, "%u of %lld task shown; --limit N shows more.\n",
                                 "%u of %lld tasks shown; --limit N shows more.\n", (gulong) total),
                    rows->len, (long long) total);
    }
  return CLI_EXIT_OK;
}

int
cli_cmd_declare (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *household = NULL;
  g_autofree char *reason = NULL;
  GOptionEntry entries[] = {
    { "household", 0, 0, G_OPTION_ARG_STRING, &household, N_("The household that declares itself"), N_("ID") },
    { "reason", 0, 0, G_OPTION_ARG_STRING, &reason, N_("What the household declares (required)"), N_("TEXT") },
    { NULL }
  };
  const char *review_argv[] = { "review", "declare", NULL, "--comment", NULL, NULL };

  if (!cli_parse ("declare", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (household == NULL || reason == NULL)
    {
      g_printerr (_("hearth-cli: declare needs --household ID and --reason TEXT\n"));
      return CLI_EXIT_USAGE;
    }
  /* The household's own declaration is the workflow's "declare" move. */
  review_argv[2] = household;
  review_argv[4] = reason;
  return cli_cmd_review (ctx, 5, (char **) review_argv);
}

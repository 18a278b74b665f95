/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cli-sync.c: hearth-cli enrol, sync, export and verify-batch (sync/PROTOCOL.md,
 * ../shared/INTERFACES.md "Sync contracts"). Exit codes: 5 when the center
 * cannot be reached, 6 when it refuses (a used code, a revoked device), 70
 * when it finds the request malformed (a bug here; but export's query is
 * the user's: 1).
 */
#define G_LOG_DOMAIN "hearth-cli"

#include "cli-common.h"
#include "batch.h"
#include "case-labels.h"
#include "case-store.h"
#include "sync-export.h"
#include "sync-restore.h"
#include "sync-run.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

static int
sync_fail (GError *error)
{
  int code = CLI_EXIT_INTERNAL;

  if (error->domain == HEARTH_SYNC_ERROR)
    switch ((HearthSyncError) error->code)
      {
      case HEARTH_SYNC_ERROR_UNREACHABLE:
      case HEARTH_SYNC_ERROR_RESTORED:
      case HEARTH_SYNC_ERROR_WEB_PAGE:
        code = CLI_EXIT_UNREACHABLE;
        break;
      case HEARTH_SYNC_ERROR_REFUSED:
      case HEARTH_SYNC_ERROR_UNKNOWN_DEVICE:
        code = CLI_EXIT_CENTER_REFUSED;
        break;
      case HEARTH_SYNC_ERROR_NOT_ENROLLED:
      case HEARTH_SYNC_ERROR_BAD_ADDRESS:
        code = CLI_EXIT_REFUSED;
        break;
      case HEARTH_SYNC_ERROR_PROTOCOL:
        code = CLI_EXIT_INTERNAL;
        break;
      case HEARTH_SYNC_ERROR_UNTRUSTED:
        code = CLI_EXIT_UNTRUSTED;
        break;
      }
  else if (error->domain == HEARTH_SYNC_STORE_ERROR && error->code != HEARTH_SYNC_STORE_ERROR_SQLITE)
    code = CLI_EXIT_REFUSED;
  else if (error->domain != HEARTH_SYNC_STORE_ERROR && error->domain != HEARTH_CASE_ERROR)
    return cli_fail (error);
  g_printerr (_("hearth-cli: %s\n"), error->message);
  g_error_free (error);
  return code;
}

/* Writes the enrolled user, role and scope where the case commands read
 * them, replacing what init --user/--role set in the meantime. */
static gboolean
adopt_identity (HearthStore *store, const HearthSyncEnrolment *e, GError **error)
{
  g_autofree char *scope = g_strjoinv (",", e->scope);
  const char *keys[] = { "user", "role", "scope" };
  const char *values[] = { e->user, e->role, scope };
  sqlite3 *db = hearth_store_get_db (store);

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      sqlite3_stmt *st = NULL;
      int rc = sqlite3_prepare_v2 (db, "INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)", -1, &st, NULL);

      if (rc == SQLITE_OK)
        {
          sqlite3_bind_text (st, 1, keys[i], -1, SQLITE_STATIC);
          sqlite3_bind_text (st, 2, values[i], -1, SQLITE_STATIC);
          rc = sqlite3_step (st);
        }
      sqlite3_finalize (st);
      if (rc != SQLITE_DONE && rc != SQLITE_OK)
        {
          g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SQLITE, "%s", sqlite3_errmsg (db));
          return FALSE;
        }
    }
  return TRUE;
}

/* Unlocks the store (enrol, trust) and opens its sync side; %NULL with
 * the exit code in @code, the error said. @passphrase (the envelope's
 * enrolment needs it), @store and @cases are the caller's. */
static HearthSyncStore *
open_sync (CliContext *ctx, HearthSecret **passphrase, HearthStore **store, HearthCaseStore **cases, int *code)
{
  GError *error = NULL;
  HearthRole role;

  *passphrase = cli_get_passphrase (ctx, &error);
  if (*passphrase == NULL)
    return *code = cli_fail (error), NULL;
  *store = hearth_store_open (ctx->data_dir, *passphrase, &error);
  if (*store == NULL)
    return *code = cli_fail (error), NULL;
  *cases = cli_open_cases (*store, &role, &error);
  if (*cases == NULL)
    return *code = sync_fail (error), NULL;
  return hearth_sync_store_new (*cases);
}

int
cli_cmd_enrol (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *center = NULL;
  g_autofree char *code = NULL;
  g_autofree char *name = NULL;
  g_autofree char *ca_file = NULL;
  g_autofree char *pin = NULL;
  gboolean again = FALSE;
  GOptionEntry entries[] = {
    { "center", 0, 0, G_OPTION_ARG_STRING, &center, N_("The county center's address"), N_("URL") },
    { "again", 0, 0, G_OPTION_ARG_NONE, &again,
      N_("Enrol this enrolled tablet again, keeping everything it holds (a center restored from a backup taken before "
         "it enrolled)"), NULL },
    { "code", 0, 0, G_OPTION_ARG_STRING, &code, N_("The one-time enrolment code"), N_("CODE") },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_("A name for this tablet (default: the host name)"), N_("NAME") },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file,
      N_("Trust this CA bundle for https; kept in the store for every later sync and export"), N_("FILE") },
    { "pin", 0, 0, G_OPTION_ARG_STRING, &pin,
      N_("Accept only this server key (sha256//BASE64); kept in the store for every later sync and export"),
      N_("KEY") },
    { NULL }
  };
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthCaseStore) cases = NULL;
  g_autoptr(HearthSyncStore) sync = NULL;
  g_autoptr(HearthSyncEnrolment) enrolment = NULL;
  g_autoptr(HearthSecret) passphrase = NULL;
  HearthSyncRunOptions options = { 0 };
  HearthStoreInfo info = { 0 };
  GError *error = NULL;
  int exit_code = CLI_EXIT_OK;

  if (!cli_parse ("enrol", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if ((center == NULL && !again) || code == NULL)
    {
      g_printerr (_("hearth-cli: enrol needs --center URL and --code CODE (--again: --code CODE)\n"));
      return CLI_EXIT_USAGE;
    }
  sync = open_sync (ctx, &passphrase, &store, &cases, &exit_code);
  if (sync == NULL)
    return exit_code;
  options.ca_file = ca_file;
  options.pinned_key = pin;
  /* An envelope made at init (--county-public-key) is kept as it is: the
   * center must name the same county key, or the enrolment is refused. */
  hearth_store_get_info (store, &info);
  options.county_key = info.county_public_key;
  if (again)
    {
      /* The center restored from a backup does not know this tablet: the
       * same device id and key, under the same user (PROTOCOL.md section
       * 12); the next sync sends everything it made. */
      if (!hearth_sync_reenrol (sync, center, code, name, &options, &enrolment, NULL, &error) ||
          !adopt_identity (store, enrolment, &error))
        return sync_fail (error);
      if (!ctx->json)
        {
          g_autofree char *scope = g_strjoinv (", ", enrolment->scope);

          g_print (_("Enrolled again with %s as %s (%s), for %s. The next sync sends everything this tablet "
                     "recorded.\n"),
                   enrolment->center_url, enrolment->user, enrolment->role, scope);
          return CLI_EXIT_OK;
        }
    }
  else if (!hearth_sync_enrol (sync, center, code, name, &options, &enrolment, &error) ||
           !adopt_identity (store, enrolment, &error))
    return sync_fail (error);

  /* From now on county IT can recover this store with the county key. */
  if (enrolment->county_public_key != NULL && info.county_public_key == NULL)
    {
      gsize len = 0;
      g_autofree guint8 *key = g_base64_decode (enrolment->county_public_key, &len);

      if (len != crypto_box_PUBLICKEYBYTES)
        g_printerr (_("hearth-cli: the center sent no usable county recovery key; this store has no recovery "
                      "envelope\n"));
      else if (!hearth_store_set_county_key (ctx->data_dir, passphrase, key, &error))
        return cli_fail (error);
    }

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "device_id");
      json_builder_add_string_value (b, hearth_case_store_get_device_id (cases));
      json_builder_set_member_name (b, "user");
      json_builder_add_string_value (b, enrolment->user);
      json_builder_set_member_name (b, "role");
      json_builder_add_string_value (b, enrolment->role);
      json_builder_set_member_name (b, "scope");
      json_builder_begin_array (b);
      for (guint i = 0; enrolment->scope[i] != NULL; i++)
        json_builder_add_string_value (b, enrolment->scope[i]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "county");
      json_builder_add_string_value (b, enrolment->county);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cli_print_json (root);
    }
  else
    {
      g_autofree char *scope = g_strjoinv (", ", enrolment->scope);
      g_print (_("Enrolled with %s as %s (%s), for %s.\n"), center, enrolment->user, enrolment->role, scope);
    }
  return CLI_EXIT_OK;
}

/* The refused changes `sync --status` lists, the newest: a worker redoes
 * a few; thousands would hide the state above them. */
#define CLI_REFUSED_SHOWN 50

/* In the local zone, with its UTC offset (hearth-center prints the
 * county's). */
static char *
format_ms (gint64 ms)
{
  g_autoptr(GDateTime) t = NULL;

  if (ms <= 0)
    return g_strdup (_("never"));
  t = g_date_time_new_from_unix_local (ms / 1000);
  return g_date_time_format (t, "%Y-%m-%d %H:%M:%S %z");
}

/* The changes the center refused, for `sync --status`: which household,
 * which fields, why, when (personal data: printed for the store's own
 * user, never logged). */
static void
print_refused_text (const GPtrArray *list, gint64 total)
{
  if (list == NULL || list->len == 0)
    return;
  g_print (_("Changes the center refused, newest first (redo them, or ask the village clerk):\n"));
  for (guint i = 0; i < list->len; i++)
    {
      const HearthSyncRefusedChange *c = list->pdata[i];
      g_autofree char *household = hearth_label_household (c->head_name, c->registry_no);
      g_autofree char *what = hearth_label_change (c->table, (const char *const *) c->fields, c->created,
                                                   c->member_name);
      g_autofree char *why = hearth_label_refusal (c->message, c->household_id, household);
      g_autofree char *when = hearth_label_moment (c->at);

      /* TRANSLATORS: one refused change: its household, then what it
       * changed (field names), e.g. "Wang Wei, registry number 12: Phone number" */
      g_print (_("- %s: %s\n"), household, what);
      g_print (_("  Why: %s\n"), hearth_label_refusal_code (c->code));
      /* TRANSLATORS: the county center's own words for a refusal, in the
       * center's language */
      g_print (_("  The county center said: %s\n"), why);
      g_print (_("  Refused: %s\n"), when);
    }
  if (total > (gint64) list->len)
    g_print (g_dngettext (GETTEXT_PACKAGE, "… and %lld older one.\n", "… and %lld older ones.\n",
                          (gulong) (total - (gint64) list->len)),
             (long long) (total - (gint64) list->len));
}

static void
add_refused_json (JsonBuilder *b, const GPtrArray *list)
{
  json_builder_set_member_name (b, "refused_changes");
  json_builder_begin_array (b);
  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      const HearthSyncRefusedChange *c = list->pdata[i];
      const char *const texts[][2] = { { "code", c->code }, { "message", c->message }, { "at", c->at },
                                       { "table", c->table }, { "record_id", c->record_id },
                                       { "household_id", c->household_id }, { "head_name", c->head_name },
                                       { "registry_no", c->registry_no } };

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "seq");
      json_builder_add_int_value (b, c->seq);
      for (guint k = 0; k < G_N_ELEMENTS (texts); k++)
        {
          json_builder_set_member_name (b, texts[k][0]);
          if (texts[k][1] != NULL)
            json_builder_add_string_value (b, texts[k][1]);
          else
            json_builder_add_null_value (b);
        }
      json_builder_set_member_name (b, "fields");
      json_builder_begin_array (b);
      for (guint k = 0; c->fields != NULL && c->fields[k] != NULL; k++)
        json_builder_add_string_value (b, c->fields[k]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

/* @failed: the run did not finish, so nothing says "synced", whatever the
 * store's state (a pull may have failed after every push was
 * acknowledged, with the last good run's "no more" still stored). */
static void
print_result (CliContext *ctx, const HearthSyncRunResult *r, gboolean ran, gboolean failed, const char *center,
              const GPtrArray *refused)
{
  const HearthSyncStatus *s = &r->status;
  gboolean synced = s->synced && !failed;

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *last = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "synced");
      json_builder_add_boolean_value (b, synced);
      json_builder_set_member_name (b, "center");
      if (center != NULL)
        json_builder_add_string_value (b, center);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "pending");
      json_builder_add_int_value (b, s->pending);
      json_builder_set_member_name (b, "acked_seq");
      json_builder_add_int_value (b, s->acked_seq);
      json_builder_set_member_name (b, "last_seq");
      json_builder_add_int_value (b, s->last_seq);
      json_builder_set_member_name (b, "cursor");
      json_builder_add_int_value (b, s->cursor);
      json_builder_set_member_name (b, "refused_total");
      json_builder_add_int_value (b, s->refused);
      json_builder_set_member_name (b, "rejected_total");
      json_builder_add_int_value (b, s->rejected);
      json_builder_set_member_name (b, "last_sync");
      if (s->last_sync_ms > 0)
        {
          g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc (s->last_sync_ms / 1000);
          last = g_date_time_format_iso8601 (t);
          json_builder_add_string_value (b, last);
        }
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "last_failed_try");
      if (s->last_failed_ms > 0)
        {
          g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc (s->last_failed_ms / 1000);
          g_autofree char *failed_at = g_date_time_format_iso8601 (t);
          json_builder_add_string_value (b, failed_at);
        }
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "clock_offset_ms");
      json_builder_add_int_value (b, s->center_offset_ms);
      json_builder_set_member_name (b, "clock_warning");
      json_builder_add_boolean_value (b, ABS (s->center_offset_ms) > HEARTH_SYNC_CLOCK_WARNING_MS);
      if (refused != NULL)
        add_refused_json (b, refused);
      if (ran)
        {
          json_builder_set_member_name (b, "pushed");
          json_builder_add_int_value (b, r->pushed);
          json_builder_set_member_name (b, "refused");
          json_builder_add_int_value (b, r->refused);
          json_builder_set_member_name (b, "pulled");
          json_builder_add_int_value (b, r->pulled);
          json_builder_set_member_name (b, "rejected");
          json_builder_add_int_value (b, r->rejected);
          json_builder_set_member_name (b, "attempts");
          json_builder_add_int_value (b, r->attempts);
        }
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cli_print_json (root);
      return;
    }
  {
    g_autofree char *last = format_ms (s->last_sync_ms);

    if (ran)
      /* TRANSLATORS: the plural follows the number of tries (the last
       * number); the counts of changes come as "changes: N". */
      g_print (g_dngettext (GETTEXT_PACKAGE,
                            "Changes sent: %lld (%lld refused), received: %lld (%lld not applied), in %u try.\n",
                            "Changes sent: %lld (%lld refused), received: %lld (%lld not applied), in %u tries.\n",
                            r->attempts),
               (long long) r->pushed, (long long) r->refused, (long long) r->pulled, (long long) r->rejected,
               r->attempts);
    /* "Synced" right after "8 refused" read as a contradiction: the
     * center answered every change, and the refused are not at the
     * county. */
    if (synced && s->refused > 0)
      g_print (g_dngettext (GETTEXT_PACKAGE,
                            "Synced, with a refusal: the center answered every change of this tablet and refused "
                            "%lld change (not at the county; ask the village clerk). Last sync: %s.\n",
                            "Synced, with refusals: the center answered every change of this tablet and refused "
                            "%lld changes (not at the county; ask the village clerk). Last sync: %s.\n",
                            (gulong) s->refused),
               (long long) s->refused, last);
    else if (synced)
      g_print (_("Synced: the center has every change of this tablet. Last sync: %s.\n"), last);
    else if (failed && s->pending == 0)
      g_print (_("Not synced: this sync did not finish. Last sync: %s.\n"), last);
    else
      g_print (g_dngettext (GETTEXT_PACKAGE, "Not synced: %lld change waits for the center. Last sync: %s.\n",
                            "Not synced: %lld changes wait for the center. Last sync: %s.\n", (gulong) s->pending),
               (long long) s->pending, last);
    /* "Synced" says the center has this tablet's changes; a later try that
     * failed means the county's newest may not be here. */
    if (!failed && s->last_failed_ms > s->last_sync_ms)
      {
        g_autofree char *tried = format_ms (s->last_failed_ms);

        g_print (_("The last try, at %s, did not finish: what the center received since the last sync is not on "
                   "this tablet yet.\n"),
                 tried);
      }
    if (s->refused > 0 && !synced)
      g_print (g_dngettext (GETTEXT_PACKAGE, "The center refused %lld change; ask the village clerk.\n",
                            "The center refused %lld changes; ask the village clerk.\n", (gulong) s->refused),
               (long long) s->refused);
    if (refused != NULL)
      print_refused_text (refused, s->refused);
    else if (s->refused > 0)
      g_print (_("Which, and why: hearth-cli sync --status\n"));
    if (ABS (s->center_offset_ms) > HEARTH_SYNC_CLOCK_WARNING_MS)
      g_print (_("Warning: this tablet's clock is %lld minutes off the center's. Set the date and time.\n"),
               (long long) (s->center_offset_ms / 60000));
  }
}

/* A run that pulled much left it in the store's WAL, durable there:
 * copied into the database file once the result is out (a pipe's reader
 * sees it before the copy). The close would copy it too, unless the app
 * holds the store open. A failure loses nothing: SQLite copies the WAL at
 * a later commit or close. */
static void
checkpoint_after_run (HearthStore *store, const HearthSyncRunResult *result)
{
  g_autoptr(GError) error = NULL;

  if (!result->checkpoint_due)
    return;
  fflush (stdout);
  if (!hearth_store_checkpoint (store, NULL, NULL, &error))
    g_printerr (_("hearth-cli: what was received is stored, but copying it into the database file waits for "
                  "later: %s\n"), error->message);
}

int
cli_cmd_sync (CliContext *ctx, int argc, char **argv)
{
  gboolean retry = FALSE, status_only = FALSE;
  /* G_MININT: not given (0 is refused, not taken for the default). */
  gint time_limit = G_MININT, page_size = 0;
  g_autofree char *ca_file = NULL;
  g_autofree char *pin = NULL;
  GOptionEntry entries[] = {
    { "retry", 0, 0, G_OPTION_ARG_NONE, &retry,
      N_("Keep trying with backoff until everything is acknowledged or the time limit passes"), NULL },
    { "time-limit", 0, 0, G_OPTION_ARG_INT, &time_limit,
      N_("With --retry, give up after this many seconds, 1 or more (default 600)"), N_("SECONDS") },
    { "status", 0, 0, G_OPTION_ARG_NONE, &status_only, N_("Only show the sync state, without the network"), NULL },
    { "page-size", 0, 0, G_OPTION_ARG_INT, &page_size,
      N_("Changes per page received (1 to 10000, default 10000; smaller pages suit a poor connection)"), N_("N") },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file,
      N_("Trust this CA bundle for https, for this command only (the one given at enrol is kept)"), N_("FILE") },
    { "pin", 0, 0, G_OPTION_ARG_STRING, &pin,
      N_("Accept only this server key (sha256//BASE64), for this command only (the one given at enrol is kept)"),
      N_("KEY") },
    { NULL }
  };
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthCaseStore) cases = NULL;
  g_autoptr(HearthSyncStore) sync = NULL;
  g_autofree char *holder = NULL;
  g_autoptr(HearthSyncEnrolment) enrolment = NULL;
  const char *center;
  HearthSyncRunOptions options = { 0 };
  HearthSyncRunResult result = { 0 };
  GError *error = NULL;
  HearthRole role;
  gboolean wipe;

  if (!cli_parse ("sync", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (time_limit != G_MININT && (time_limit < 1 || !retry))
    {
      g_printerr (_("hearth-cli: --time-limit takes a number of seconds, 1 or more, and goes with --retry\n"));
      return CLI_EXIT_USAGE;
    }
  if (page_size < 0 || page_size > HEARTH_SYNC_MAX_PULL)
    {
      g_printerr (_("hearth-cli: --page-size takes a number of changes from 1 to %d\n"), HEARTH_SYNC_MAX_PULL);
      return CLI_EXIT_USAGE;
    }
  store = cli_open_store (ctx, &error);
  if (store == NULL)
    return cli_fail (error);
  cases = cli_open_cases (store, &role, &error);
  if (cases == NULL)
    return sync_fail (error);
  sync = hearth_sync_store_new (cases);
  /* Which center: said by --status, and in --json. */
  enrolment = hearth_sync_store_get_enrolment (sync, NULL);
  center = enrolment != NULL ? enrolment->center_url : NULL;
  if (status_only)
    {
      g_autoptr(GPtrArray) refused = NULL;

      if (!hearth_sync_store_status (sync, &result.status, &error))
        return sync_fail (error);
      refused = hearth_sync_store_list_refused (sync, CLI_REFUSED_SHOWN, &error);
      if (refused == NULL)
        return sync_fail (error);
      print_result (ctx, &result, FALSE, FALSE, center, refused);
      if (!ctx->json)
        {
          if (enrolment != NULL)
            g_print (_("Center: %s\n"), enrolment->center_url);
          else
            g_print (_("Not enrolled with a center yet (hearth-cli enrol).\n"));
        }
      return CLI_EXIT_OK;
    }

  holder = g_strdup_printf ("hearth-cli %d", (int) getpid ());
  options.holder = holder;
  options.retry = retry;
  options.pull_limit = (guint) page_size;
  options.deadline_us = g_get_monotonic_time () + (gint64) (time_limit != G_MININT ? time_limit : 600) * G_USEC_PER_SEC;
  options.ca_file = ca_file;
  options.pinned_key = pin;
  if (hearth_sync_run (sync, &options, &result, &error))
    {
      print_result (ctx, &result, TRUE, FALSE, center, NULL);
      checkpoint_after_run (store, &result);
      return result.status.synced ? CLI_EXIT_OK : CLI_EXIT_UNREACHABLE;
    }
  wipe = result.wipe;
  /* What a run that reached the center did before it failed; a revoked
   * tablet's summary is its wipe, said once. */
  /* An untrusted center was not spoken to: its error alone says what to
   * do ("Not synced: this sync did not finish" before it said nothing). */
  if (!ctx->json && !wipe && error->domain == HEARTH_SYNC_ERROR && error->code != HEARTH_SYNC_ERROR_NOT_ENROLLED &&
      error->code != HEARTH_SYNC_ERROR_UNTRUSTED)
    print_result (ctx, &result, TRUE, TRUE, center, NULL);
  if (wipe)
    {
      g_autoptr(GError) wipe_error = NULL;

      g_clear_object (&sync);
      g_clear_object (&cases);
      g_clear_object (&store);
      /* The keyslots first, then the database (store.h). */
      if (!hearth_store_wipe (ctx->data_dir, &wipe_error))
        g_printerr (_("hearth-cli: the county center revoked this tablet, but its store could not be wiped: %s\n"),
                    wipe_error->message);
      else
        g_printerr (_("hearth-cli: the county center revoked this tablet: its store was wiped.\n"));
      g_error_free (error);
      return CLI_EXIT_CENTER_REFUSED;
    }
  {
    int code = sync_fail (error);

    /* After the error is said: a failed pull keeps what it applied. */
    checkpoint_after_run (store, &result);
    return code;
  }
}

/* Reads --key: %NULL when not given, else @key filled (or usage). */
static gboolean
parse_batch_key (const char *text, guint8 *key, const guint8 **out)
{
  g_autoptr(GError) error = NULL;

  *out = NULL;
  if (text == NULL)
    return TRUE;
  if (!hearth_batch_key_from_text (text, key, &error))
    {
      g_printerr (_("hearth-cli: --key: %s\n"), error->message);
      return FALSE;
    }
  *out = key;
  return TRUE;
}

/* Prints a verified batch: its signature, then its files and records;
 * with --json, the manifest and "signed_by" (the key, or null). */
static void
print_batch (CliContext *ctx, JsonObject *manifest, gboolean is_signed, const guint8 *signer, gboolean key_given)
{
  JsonArray *files = json_object_get_array_member (manifest, "files");
  g_autofree char *summary = NULL;

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *key = is_signed ? hearth_batch_key_to_text (signer) : NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "manifest");
      json_builder_add_value (b, json_node_init_object (json_node_alloc (), manifest));
      json_builder_set_member_name (b, "signed_by");
      if (key != NULL)
        json_builder_add_string_value (b, key);
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cli_print_json (root);
      return;
    }
  summary = hearth_batch_signature_summary (is_signed, signer, key_given);
  g_print ("%s", summary);
  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      JsonObject *f = json_array_get_object_element (files, i);
      g_print ("  %-20s %8lld\n", json_object_get_string_member (f, "name"),
               (long long) json_object_get_int_member (f, "records"));
    }
}

int
cli_cmd_verify_batch (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *key_text = NULL;
  GOptionEntry entries[] = {
    { "key", 0, 0, G_OPTION_ARG_STRING, &key_text,
      N_("Refuse the batch unless it is signed with this key (the county center's batch key)"), N_("KEY") },
    { NULL }
  };
  g_autoptr(JsonObject) manifest = NULL;
  guint8 key[HEARTH_BATCH_KEY_BYTES], signer[HEARTH_BATCH_KEY_BYTES];
  const guint8 *trusted = NULL;
  gboolean is_signed = FALSE;
  GError *error = NULL;

  if (!cli_parse_with_arguments ("verify-batch", entries, N_("DIR"), &argc, &argv))
    return CLI_EXIT_USAGE;
  if (!parse_batch_key (key_text, key, &trusted))
    return CLI_EXIT_USAGE;
  if (!hearth_batch_verify_signed (argv[1], trusted, signer, &is_signed, &manifest, &error))
    {
      g_printerr (_("hearth-cli: the batch does not verify: %s\n"), error->message);
      g_error_free (error);
      return CLI_EXIT_REFUSED;
    }
  if (!ctx->json)
    g_print (_("The batch verifies: every file has its checksum and its record count.\n"));
  print_batch (ctx, manifest, is_signed, signer, trusted != NULL);
  return CLI_EXIT_OK;
}

/* ---- trust -------------------------------------------------------------------------- */

int
cli_cmd_trust (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *ca_file = NULL;
  g_autofree char *pin = NULL;
  gboolean system = FALSE;
  GOptionEntry entries[] = {
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file,
      N_("Trust this CA bundle for https from now on, instead of the one kept at enrolment"), N_("FILE") },
    { "pin", 0, 0, G_OPTION_ARG_STRING, &pin, N_("Accept only this server key (sha256//BASE64) from now on"),
      N_("KEY") },
    { "system", 0, 0, G_OPTION_ARG_NONE, &system,
      N_("Trust the system's CAs alone from now on (a certificate a public CA signed)"), NULL },
    { NULL }
  };
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthCaseStore) cases = NULL;
  g_autoptr(HearthSyncStore) sync = NULL;
  g_autoptr(HearthSyncEnrolment) enrolment = NULL;
  g_autoptr(HearthSecret) passphrase = NULL;
  HearthSyncRunOptions options = { 0 };
  GError *error = NULL;
  int exit_code = CLI_EXIT_OK;

  if (!cli_parse ("trust", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if ((ca_file != NULL) + (pin != NULL) + (system != FALSE) != 1)
    {
      g_printerr (_("hearth-cli: trust needs one of --ca-file FILE, --pin KEY or --system\n"));
      return CLI_EXIT_USAGE;
    }
  sync = open_sync (ctx, &passphrase, &store, &cases, &exit_code);
  if (sync == NULL)
    return exit_code;
  options.ca_file = ca_file;
  options.pinned_key = pin;
  if (!hearth_sync_change_trust (sync, &options, system, &error))
    {
      g_prefix_error (&error, _("the trust was not changed: "));
      return sync_fail (error);
    }
  enrolment = hearth_sync_store_get_enrolment (sync, NULL);
  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "center");
      json_builder_add_string_value (b, enrolment != NULL ? enrolment->center_url : NULL);
      json_builder_set_member_name (b, "trust");
      json_builder_add_string_value (b, system ? "system" : ca_file != NULL ? "ca-file" : "pin");
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cli_print_json (root);
      return CLI_EXIT_OK;
    }
  g_print (_("The center at %s answered through the new trust; it is kept for every later sync and export.\n"),
           enrolment != NULL ? enrolment->center_url : "");
  return CLI_EXIT_OK;
}

/* ---- export (PROTOCOL.md sections 9 and 10) ----------------------------------------- */

/* Whether @dir is missing or an empty folder. */
static gboolean
empty_or_missing (const char *dir)
{
  g_autoptr(GDir) d = NULL;

  if (!g_file_test (dir, G_FILE_TEST_EXISTS))
    return TRUE;
  d = g_dir_open (dir, 0, NULL);
  return d != NULL && g_dir_read_name (d) == NULL;
}

/* The query parameter values the center takes: digits, dates, letters
 * (the target is signed as sent, never escaped). */
static gboolean
plain_value (const char *s)
{
  return s != NULL && *s != '\0' && strspn (s, "0123456789-") == strlen (s);
}

int
cli_cmd_export (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *scope = NULL;
  g_autofree char *since = NULL;
  g_autofree char *until = NULL;
  g_autofree char *format = NULL;
  g_autofree char *out = NULL;
  g_autofree char *ca_file = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *key_text = NULL;
  gint64 after = 0;
  GOptionEntry entries[] = {
    { "scope", 0, 0, G_OPTION_ARG_STRING, &scope,
      N_("The division code to export: the county, a township or a village"), N_("CODE") },
    { "since", 0, 0, G_OPTION_ARG_STRING, &since, N_("The first day, in the county's time zone"), N_("YYYY-MM-DD") },
    { "until", 0, 0, G_OPTION_ARG_STRING, &until, N_("The last day (default: up to now)"), N_("YYYY-MM-DD") },
    { "after-cursor", 0, 0, G_OPTION_ARG_INT64, &after,
      N_("Continue after a batch whose manifest says this cursor_to"), N_("N") },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format, N_("csv (UTF-8 with a byte order mark) or json"),
      N_("FORMAT") },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, N_("The batch folder: new or empty"), N_("DIR") },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file,
      N_("Trust this CA bundle for https, for this command only (the one given at enrol is kept)"), N_("FILE") },
    { "pin", 0, 0, G_OPTION_ARG_STRING, &pin,
      N_("Accept only this server key (sha256//BASE64), for this command only (the one given at enrol is kept)"),
      N_("KEY") },
    { "key", 0, 0, G_OPTION_ARG_STRING, &key_text,
      N_("Refuse the batch unless it is signed with this key (the county center's batch key)"), N_("KEY") },
    { NULL }
  };
  guint8 key[HEARTH_BATCH_KEY_BYTES], signer[HEARTH_BATCH_KEY_BYTES];
  const guint8 *trusted = NULL;
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthCaseStore) cases = NULL;
  g_autoptr(HearthSyncStore) sync = NULL;
  g_autoptr(HearthSyncClient) client = NULL;
  g_autoptr(JsonObject) manifest = NULL;
  HearthSyncExportQuery query = { 0 };
  GError *error = NULL;
  gboolean fetched;
  HearthRole role;

  if (!cli_parse ("export", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (scope == NULL || since == NULL || format == NULL || out == NULL || *out == '\0')
    {
      g_printerr (_("hearth-cli: export needs --scope CODE, --since YYYY-MM-DD, --format csv|json and --out DIR\n"));
      return CLI_EXIT_USAGE;
    }
  if (g_strcmp0 (format, "csv") != 0 && g_strcmp0 (format, "json") != 0)
    {
      g_printerr (_("hearth-cli: --format must be csv or json, not “%s”\n"), format);
      return CLI_EXIT_USAGE;
    }
  if (!parse_batch_key (key_text, key, &trusted))
    return CLI_EXIT_USAGE;
  /* What the center would refuse anyway, refused before the network. */
  if (!plain_value (scope) || strchr (scope, '-') != NULL)
    {
      g_printerr (_("hearth-cli: --scope must be a division code (digits), not “%s”\n"), scope);
      return CLI_EXIT_REFUSED;
    }
  if (!plain_value (since) || (until != NULL && !plain_value (until)))
    {
      g_printerr (_("hearth-cli: “%s” is not a date: write YYYY-MM-DD\n"), !plain_value (since) ? since : until);
      return CLI_EXIT_REFUSED;
    }
  if (after < 0)
    {
      g_printerr (_("hearth-cli: --after-cursor must be 0 or more\n"));
      return CLI_EXIT_REFUSED;
    }
  if (g_file_test (out, G_FILE_TEST_EXISTS) && !g_file_test (out, G_FILE_TEST_IS_DIR))
    {
      g_printerr (_("hearth-cli: %s is a file, not a folder: a batch is written into a new or empty folder\n"), out);
      return CLI_EXIT_REFUSED;
    }
  if (!empty_or_missing (out))
    {
      g_printerr (_("hearth-cli: %s is not empty: a batch is written into a new or empty folder\n"), out);
      return CLI_EXIT_REFUSED;
    }

  store = cli_open_store (ctx, &error);
  if (store == NULL)
    return cli_fail (error);
  cases = cli_open_cases (store, &role, &error);
  if (cases == NULL)
    return sync_fail (error);
  sync = hearth_sync_store_new (cases);
  client = hearth_sync_export_client (sync, &error);
  if (client == NULL)
    return sync_fail (error);
  /* Given here: used instead of the trust kept at enrolment. */
  if (ca_file != NULL || pin != NULL)
    hearth_sync_client_set_tls (client, ca_file, pin);

  query.scope = scope;
  query.since = since;
  query.until = until;
  query.after_cursor = after;
  query.format = format;
  query.batch_key = trusted;
  fetched = hearth_sync_export_fetch (client, &query, out, &manifest, signer, &error);
  /* What the exchange taught about the center's clock is kept. */
  hearth_sync_store_set_exchange (sync, hearth_sync_client_get_time_offset (client), 0, NULL);
  if (!fetched)
    {
      /* The query is the user's: a parameter the center refuses, or a
       * batch too large for one reply, is refused input, not a bug here. */
      if (g_error_matches (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL) &&
          (g_strcmp0 (hearth_sync_client_get_error_code (client), "bad-request") == 0 ||
           g_strcmp0 (hearth_sync_client_get_error_code (client), "too-large") == 0))
        {
          g_printerr (_("hearth-cli: %s\n"), error->message);
          g_error_free (error);
          return CLI_EXIT_REFUSED;
        }
      if (error->domain == HEARTH_BATCH_ERROR)
        {
          /* Another key than --key gave: the user's expectation, refused;
           * anything else is a batch the center should not have sent. */
          gboolean wrong_key = error->code == HEARTH_BATCH_ERROR_KEY;

          g_printerr (_("hearth-cli: the batch the center sent does not verify (nothing of it was kept in %s): %s\n"),
                      out, error->message);
          g_error_free (error);
          return wrong_key ? CLI_EXIT_REFUSED : CLI_EXIT_INTERNAL;
        }
      if (error->domain == G_FILE_ERROR || error->domain == G_IO_ERROR)
        {
          /* --out cannot be written: the folder given is at fault. */
          g_printerr (_("hearth-cli: %s\n"), error->message);
          g_error_free (error);
          return CLI_EXIT_REFUSED;
        }
      return sync_fail (error);
    }
  /* The next batch continues after this one (the county's screen shows it). */
  if (!hearth_sync_export_remember (sync, manifest, &error))
    return sync_fail (error);

  if (!ctx->json)
    g_print (_("Batch written to %s and verified: changes after %lld up to %lld (the next batch continues with "
               "--after-cursor %lld).\n"),
             out, (long long) json_object_get_int_member (manifest, "cursor_from"),
             (long long) json_object_get_int_member (manifest, "cursor_to"),
             (long long) json_object_get_int_member (manifest, "cursor_to"));
  print_batch (ctx, manifest, TRUE, signer, trusted != NULL);
  return CLI_EXIT_OK;
}

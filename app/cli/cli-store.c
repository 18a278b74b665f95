/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli-store.c: hearth-cli commands about the store itself. */
#define G_LOG_DOMAIN "hearth-cli"

#include "cli-common.h"
#include "store-countykey.h"

#include <glib/gi18n.h>
#include <string.h>
#include <json-glib/json-glib.h>

int
cli_cmd_init (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *kdf_name = NULL;
  g_autofree char *county_pk_file = NULL;
  g_autofree char *user = NULL;
  g_autofree char *role = NULL;
  g_autofree char *scope = NULL;
  g_autoptr(HearthSecret) passphrase = NULL;
  GError *error = NULL;
  HearthKdfProfile kdf = HEARTH_KDF_INTERACTIVE;
  guint8 county_pk[HEARTH_COUNTY_KEY_SIZE];
  GOptionEntry entries[] = {
    { "kdf", 0, 0, G_OPTION_ARG_STRING, &kdf_name,
      N_("Key derivation cost: interactive (default), moderate, or test (test suites only)"), N_("COST") },
    { "county-public-key", 0, 0, G_OPTION_ARG_FILENAME, &county_pk_file,
      N_("Seal a recovery envelope to the county public key in FILE"), N_("FILE") },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, N_("The store's user (default: the login name)"), N_("NAME") },
    { "role", 0, 0, G_OPTION_ARG_STRING, &role,
      N_("The user's role: worker (default), clerk, township or county; enrolment will set it"), N_("ROLE") },
    { "scope", 0, 0, G_OPTION_ARG_STRING, &scope,
      N_("The user's division codes, comma-separated; enrolment will set it"), N_("CODES") },
    { NULL }
  };

  if (!cli_parse ("init", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (role != NULL && !g_strv_contains ((const char *const[]) { "worker", "clerk", "township", "county", NULL }, role))
    {
      g_printerr (_("hearth-cli: --role must be worker, clerk, township or county, not \"%s\"\n"), role);
      return CLI_EXIT_USAGE;
    }
  if (user != NULL && (user[0] == '\0' || strpbrk (user, "\r\n") != NULL || strlen (user) > 128))
    {
      g_printerr (_("hearth-cli: --user takes a name of one line, at most 128 bytes\n"));
      return CLI_EXIT_USAGE;
    }
  if (scope != NULL)
    {
      g_auto(GStrv) codes = g_strsplit (scope, ",", -1);
      for (guint i = 0; codes[i] != NULL; i++)
        {
          gsize len = strlen (codes[i]);
          if ((len != 6 && len != 9 && len != 12) || strspn (codes[i], "0123456789") != len)
            {
              g_printerr (_("hearth-cli: --scope takes division codes of 6, 9 or 12 digits, comma-separated, not "
                            "\"%s\"\n"), codes[i]);
              return CLI_EXIT_USAGE;
            }
        }
    }
  if (kdf_name == NULL || g_strcmp0 (kdf_name, "interactive") == 0)
    kdf = HEARTH_KDF_INTERACTIVE;
  else if (g_strcmp0 (kdf_name, "moderate") == 0)
    kdf = HEARTH_KDF_MODERATE;
  else if (g_strcmp0 (kdf_name, "test") == 0)
    kdf = HEARTH_KDF_TEST;
  else
    {
      g_printerr (_("hearth-cli: --kdf must be interactive, moderate or test, not \"%s\"\n"), kdf_name);
      return CLI_EXIT_USAGE;
    }
  if (county_pk_file != NULL && !hearth_county_key_read_public (county_pk_file, county_pk, &error))
    return cli_fail (error);
  passphrase = cli_get_new_passphrase (ctx->passphrase_file, "--passphrase-file", &error);
  if (passphrase == NULL)
    return cli_fail (error);
  if (!hearth_store_create (ctx->data_dir, passphrase, kdf,
                            county_pk_file != NULL ? county_pk : NULL, &error))
    return cli_fail (error);
  /* Who uses the store, for the case model's records. */
  {
    g_autoptr(HearthStore) store = hearth_store_open (ctx->data_dir, passphrase, &error);
    sqlite3_stmt *st = NULL;
    const char *keys[] = { "user", "role", "scope" };
    const char *values[] = { user != NULL ? user : g_get_user_name (), role != NULL ? role : "worker",
                             scope != NULL ? scope : "" };

    if (store == NULL)
      return cli_fail (error);
    for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
      {
        if (sqlite3_prepare_v2 (hearth_store_get_db (store),
                                "INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)", -1, &st, NULL) != SQLITE_OK)
          return cli_fail (g_error_new (HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_INTERNAL, "%s",
                                        sqlite3_errmsg (hearth_store_get_db (store))));
        sqlite3_bind_text (st, 1, keys[i], -1, SQLITE_STATIC);
        sqlite3_bind_text (st, 2, values[i], -1, SQLITE_STATIC);
        sqlite3_step (st);
        sqlite3_finalize (st);
      }
  }
  g_print (_("Created a store in %s.\n"), ctx->data_dir);
  if (county_pk_file != NULL)
    g_print (_("The county can recover it with its secret key.\n"));
  else
    /* The county key usually comes with enrolment (sync/PROTOCOL.md): a
     * store without one yet is the normal case, not a mistake. */
    g_print (_("No county key yet: the store gets it at enrolment (hearth-cli enrol); until then a forgotten "
               "passphrase cannot be recovered.\n"));
  if (kdf == HEARTH_KDF_TEST)
    g_print (_("Warning: --kdf test is for test suites only; do not keep real data in this store.\n"));
  return CLI_EXIT_OK;
}

int
cli_cmd_passwd (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *new_file = NULL;
  g_autoptr(HearthSecret) old_passphrase = NULL;
  g_autoptr(HearthSecret) new_passphrase = NULL;
  GError *error = NULL;
  GOptionEntry entries[] = {
    { "new-passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &new_file,
      N_("Read the new passphrase from the first line of FILE"), N_("FILE") },
    { NULL }
  };

  if (!cli_parse ("passwd", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  old_passphrase = cli_get_passphrase (ctx, &error);
  if (old_passphrase == NULL)
    return cli_fail (error);
  new_passphrase = cli_get_new_passphrase (new_file, "--new-passphrase-file", &error);
  if (new_passphrase == NULL)
    return cli_fail (error);
  if (!hearth_store_change_passphrase (ctx->data_dir, old_passphrase, new_passphrase, &error))
    return cli_fail (error);
  g_print (_("The passphrase was changed; only the new one opens the store now.\n"));
  return CLI_EXIT_OK;
}

/* The state of an unlocked store, as text or as one JSON document. */
static void
print_store_info (CliContext *ctx, HearthStore *store, gboolean checked)
{
  HearthStoreInfo info;

  hearth_store_get_info (store, &info);
  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "data_dir");
      json_builder_add_string_value (b, ctx->data_dir);
      json_builder_set_member_name (b, "schema_version");
      json_builder_add_int_value (b, info.schema_version);
      json_builder_set_member_name (b, "pages");
      json_builder_add_int_value (b, (gint64) info.page_count);
      json_builder_set_member_name (b, "page_size");
      json_builder_add_int_value (b, 4096);
      json_builder_set_member_name (b, "kdf");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "algorithm");
      json_builder_add_string_value (b, "argon2id13");
      json_builder_set_member_name (b, "profile");
      json_builder_add_string_value (b, info.kdf_profile);
      json_builder_set_member_name (b, "opslimit");
      json_builder_add_int_value (b, (gint64) info.opslimit);
      json_builder_set_member_name (b, "memlimit_bytes");
      json_builder_add_int_value (b, (gint64) info.memlimit);
      json_builder_end_object (b);
      json_builder_set_member_name (b, "keyslot_generation");
      json_builder_add_int_value (b, (gint64) info.keyslot_generation);
      json_builder_set_member_name (b, "county_recovery");
      json_builder_add_boolean_value (b, info.has_recovery_envelope);
      if (checked)
        {
          json_builder_set_member_name (b, "sound");
          json_builder_add_boolean_value (b, TRUE);
        }
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cli_print_json (root);
      return;
    }
  g_print (_("Store:              %s (unlocked)\n"), ctx->data_dir);
  g_print (_("Schema version:     %u\n"), info.schema_version);
  g_print (_("Size:               %llu pages of 4096 bytes\n"), (unsigned long long) info.page_count);
  g_print (g_dngettext (GETTEXT_PACKAGE, "Key derivation:     Argon2id, %llu KiB, %llu pass (%s)\n",
                        "Key derivation:     Argon2id, %llu KiB, %llu passes (%s)\n", (gulong) info.opslimit),
           (unsigned long long) (info.memlimit >> 10), (unsigned long long) info.opslimit, info.kdf_profile);
  g_print (_("Keyslot generation: %llu\n"), (unsigned long long) info.keyslot_generation);
  g_print (_("County recovery:    %s\n"),
           info.has_recovery_envelope ? _("yes (sealed to the county key)") : _("no"));
  if (checked)
    g_print (_("The store in %s is sound: %llu pages authenticated, integrity check ok.\n"),
             ctx->data_dir, (unsigned long long) info.page_count);
  if (g_strcmp0 (info.kdf_profile, "test") == 0)
    g_print (_("Warning: this store was created with --kdf test (libsodium's minimum cost); it is for test suites only.\n"));
}

int
cli_cmd_check (CliContext *ctx, int argc, char **argv)
{
  g_autoptr(HearthStore) store = NULL;
  GError *error = NULL;
  GOptionEntry entries[] = { { NULL } };

  if (!cli_parse ("check", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  store = cli_open_store (ctx, &error);
  if (store == NULL || !hearth_store_check (store, &error))
    return cli_fail (error);
  print_store_info (ctx, store, TRUE);
  return CLI_EXIT_OK;
}

int
cli_cmd_status (CliContext *ctx, int argc, char **argv)
{
  g_autoptr(HearthStore) store = NULL;
  GError *error = NULL;
  GOptionEntry entries[] = { { NULL } };

  if (!cli_parse ("status", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  store = cli_open_store (ctx, &error);
  if (store == NULL)
    return cli_fail (error);
  print_store_info (ctx, store, FALSE);
  return CLI_EXIT_OK;
}

int
cli_cmd_recover (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *county_key_file = NULL;
  g_autofree char *new_file = NULL;
  g_autoptr(HearthSecret) county_sk = NULL;
  g_autoptr(HearthSecret) new_passphrase = NULL;
  GError *error = NULL;
  GOptionEntry entries[] = {
    { "county-key", 0, 0, G_OPTION_ARG_FILENAME, &county_key_file,
      N_("The county secret key file"), N_("FILE") },
    { "new-passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &new_file,
      N_("Read the new passphrase from the first line of FILE"), N_("FILE") },
    { NULL }
  };

  if (!cli_parse ("recover", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (county_key_file == NULL)
    {
      g_printerr (_("hearth-cli: recover needs --county-key FILE\n"));
      return CLI_EXIT_USAGE;
    }
  county_sk = hearth_county_key_read_secret (county_key_file, &error);
  if (county_sk == NULL)
    return cli_fail (error);
  new_passphrase = cli_get_new_passphrase (new_file, "--new-passphrase-file", &error);
  if (new_passphrase == NULL)
    return cli_fail (error);
  if (!hearth_store_recover (ctx->data_dir, county_sk, new_passphrase, &error))
    return cli_fail (error);
  g_print (_("The store in %s was recovered; it opens with the new passphrase.\n"), ctx->data_dir);
  return CLI_EXIT_OK;
}

int
cli_cmd_rekey (CliContext *ctx, int argc, char **argv)
{
  g_autoptr(HearthSecret) passphrase = NULL;
  GError *error = NULL;
  GOptionEntry entries[] = { { NULL } };

  if (!cli_parse ("rekey", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  passphrase = cli_get_passphrase (ctx, &error);
  if (passphrase == NULL)
    return cli_fail (error);
  if (!hearth_store_rekey (ctx->data_dir, passphrase, &error))
    return cli_fail (error);
  g_print (_("The store in %s has a new data key; old keyslot copies no longer open it.\n"), ctx->data_dir);
  return CLI_EXIT_OK;
}

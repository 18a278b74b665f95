/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli-form.c: hearth-cli form check (../shared/INTERFACES.md, "hearth-cli"). */
#define G_LOG_DOMAIN "hearth-cli"

#include "cli-common.h"
#include "form-model.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

int
cli_cmd_form (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *media = NULL;
  g_autoptr(HearthForm) form = NULL;
  g_autoptr(GPtrArray) instance_ids = g_ptr_array_new ();
  GError *error = NULL;
  GHashTableIter it;
  gpointer key;
  GOptionEntry entries[] = {
    { "media", 0, 0, G_OPTION_ARG_FILENAME, &media,
      N_("The folder with the form's external instances (jr://file, jr://file-csv)"), N_("DIR") },
    { NULL }
  };

  if (argc < 2 || g_strcmp0 (argv[1], "check") != 0)
    {
      g_printerr (_("hearth-cli: form needs a subcommand: form check FORM.xml [--media DIR]\n"));
      return CLI_EXIT_USAGE;
    }
  argc--;
  argv++;
  if (!cli_parse_with_arguments ("form check", entries, N_("FORM.xml"), &argc, &argv))
    return CLI_EXIT_USAGE;
  form = hearth_form_load (argv[1], media, &error);
  if (form == NULL)
    {
      g_printerr (_("hearth-cli: %s\n"), error->message);
      g_error_free (error);
      return CLI_EXIT_REFUSED;
    }
  g_hash_table_iter_init (&it, form->instances);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_ptr_array_add (instance_ids, key);
  g_ptr_array_sort (instance_ids, compare_strings);

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "title");
      json_builder_add_string_value (b, form->title);
      json_builder_set_member_name (b, "form_id");
      json_builder_add_string_value (b, form->form_id);
      json_builder_set_member_name (b, "version");
      json_builder_add_string_value (b, form->version);
      json_builder_set_member_name (b, "controls");
      json_builder_add_int_value (b, form->n_controls);
      json_builder_set_member_name (b, "binds");
      json_builder_add_int_value (b, form->binds->len);
      json_builder_set_member_name (b, "languages");
      json_builder_begin_array (b);
      for (guint i = 0; i < form->languages->len; i++)
        json_builder_add_string_value (b, g_ptr_array_index (form->languages, i));
      json_builder_end_array (b);
      json_builder_set_member_name (b, "default_language");
      json_builder_add_string_value (b, form->default_language);
      json_builder_set_member_name (b, "instances");
      json_builder_begin_array (b);
      for (guint i = 0; i < instance_ids->len; i++)
        json_builder_add_string_value (b, g_ptr_array_index (instance_ids, i));
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cli_print_json (root);
      return CLI_EXIT_OK;
    }
  {
    g_autofree char *langs = NULL;
    g_autofree char *ids = NULL;

    g_ptr_array_add (form->languages, NULL);
    langs = g_strjoinv (", ", (char **) form->languages->pdata);
    g_ptr_array_remove_index (form->languages, form->languages->len - 1);
    g_ptr_array_add (instance_ids, NULL);
    ids = g_strjoinv (", ", (char **) instance_ids->pdata);
    g_print (_("Form:                %s (id %s, version %s)\n"), form->title ? form->title : "",
             form->form_id ? form->form_id : "-", form->version ? form->version : "-");
    g_print (_("Controls:            %u\n"), form->n_controls);
    g_print (_("Binds:               %u\n"), form->binds->len);
    if (form->default_language != NULL)
      g_print (_("Languages:           %s (default %s)\n"), langs, form->default_language);
    else
      g_print (_("Languages:           %s\n"), langs[0] ? langs : _("none (labels as written)"));
    g_print (_("Secondary instances: %s\n"), ids[0] ? ids : _("none"));
  }
  return CLI_EXIT_OK;
}

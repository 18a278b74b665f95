/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cli-form.c: hearth-cli form check, form fill and form list
 * (../shared/INTERFACES.md, "hearth-cli" and "Answers JSON").
 */
#define G_LOG_DOMAIN "hearth-cli"

#include "cli-common.h"
#include "form-model.h"
#include "form-session.h"
#include "xpath-value.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static int form_fill (CliContext *ctx, int argc, char **argv);
static int form_list (CliContext *ctx, int argc, char **argv);

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

  if (argc >= 2 && g_strcmp0 (argv[1], "fill") == 0)
    return form_fill (ctx, argc - 1, argv + 1);
  if (argc >= 2 && g_strcmp0 (argv[1], "list") == 0)
    return form_list (ctx, argc - 1, argv + 1);
  if (argc >= 2 && g_strcmp0 (argv[1], "check") != 0)
    {
      g_printerr (_("hearth-cli: form has no subcommand \"%s\": form check FORM.xml [--media DIR], "
                    "form fill FORM.xml --answers ANSWERS.json, or form list\n"), argv[1]);
      return CLI_EXIT_USAGE;
    }
  if (argc < 2)
    {
      g_printerr (_("hearth-cli: form needs a subcommand: form check FORM.xml [--media DIR], "
                    "form fill FORM.xml --answers ANSWERS.json, or form list\n"));
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
  /* As a tablet opens it (and hearth-center publish-form checks it): a
   * bind on a missing node, a calculation cycle or a dangling reference
   * fails only in a session. */
  {
    HearthForm *probe = hearth_form_load (argv[1], media, &error);
    g_autoptr(HearthFormSession) session = probe != NULL ? hearth_form_session_new (probe, NULL, &error) : NULL;

    if (session == NULL)
      {
        g_printerr (_("hearth-cli: %s\n"), error->message);
        g_error_free (error);
        return CLI_EXIT_REFUSED;
      }
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

/* ---- form fill ------------------------------------------------------------- */

/* The largest answers file accepted, in bytes. */
#define ANSWERS_MAX_BYTES (16 * 1024 * 1024)

/* The form's media folder when --media is not given: FORMDIR/media, else
 * FORMDIR/NAME-media (ODK's convention), else none. */
static char *
default_media (const char *form_path)
{
  g_autofree char *dir = g_path_get_dirname (form_path);
  g_autofree char *base = g_path_get_basename (form_path);
  g_autofree char *media = g_build_filename (dir, "media", NULL);
  char *dot = strrchr (base, '.');
  g_autofree char *named = NULL;

  if (g_file_test (media, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&media);
  if (dot != NULL)
    *dot = '\0';
  named = g_strdup_printf ("%s/%s-media", dir, base);
  if (g_file_test (named, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&named);
  return NULL;
}

typedef struct {
  char *path;
  char *value;
  guint depth;   /* how many repeat indices the path names */
  guint order;
} Answer;

static void
answer_free (gpointer data)
{
  Answer *a = data;

  g_free (a->path);
  g_free (a->value);
  g_free (a);
}

static int
answer_compare (gconstpointer pa, gconstpointer pb)
{
  const Answer *a = *(const Answer * const *) pa, *b = *(const Answer * const *) pb;

  if (a->depth != b->depth)
    return a->depth < b->depth ? -1 : 1;
  return a->order < b->order ? -1 : a->order > b->order;
}

static void
add_error (JsonBuilder *b, const char *path, const char *kind, const char *message)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, path);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, kind);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
}

/* The deepest nesting of arrays and objects accepted in an answers file:
 * json-glib's parser recurses, so a deeper file is refused before it. */
#define ANSWERS_MAX_DEPTH 32

/*
 * Checks what json-glib would take silently: nesting deeper than
 * ANSWERS_MAX_DEPTH, a NUL character (\u0000 ends a C string early) and an
 * integer too large for 64 bits (it would wrap). Returns a message or NULL.
 */
static char *
answers_prescan (const char *text, gsize len)
{
  g_autoptr(GHashTable) keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint depth = 0;
  gboolean in_string = FALSE;
  gsize string_start = 0;

  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];

      if (in_string)
        {
          if (c == '\\' && i + 1 < len)
            {
              if (text[i + 1] == 'u' && i + 5 < len && strncmp (text + i + 2, "0000", 4) == 0)
                return g_strdup (_("an answer holds a NUL character (\\u0000)"));
              i++;
            }
          else if (c == '"')
            {
              gsize k = i + 1;

              in_string = FALSE;
              while (k < len && g_ascii_isspace (text[k]))
                k++;
              /* A member name of the answers object: json-glib would keep the
               * last of two equal ones silently. */
              if (depth == 1 && k < len && text[k] == ':')
                {
                  char *key = g_strndup (text + string_start, i - string_start);
                  if (g_hash_table_contains (keys, key))
                    {
                      char *message = g_strdup_printf (_("the path %s is answered twice"), key);
                      g_free (key);
                      return message;
                    }
                  g_hash_table_add (keys, key);
                }
            }
          continue;
        }
      if (c == '"')
        {
          in_string = TRUE;
          string_start = i + 1;
        }
      else if (c == '[' || c == '{')
        {
          if (++depth > ANSWERS_MAX_DEPTH)
            return g_strdup_printf (_("arrays and objects are nested more than %d deep"), ANSWERS_MAX_DEPTH);
        }
      else if (c == ']' || c == '}')
        depth = depth > 0 ? depth - 1 : 0;
      else if (g_ascii_isdigit (c) || c == '-')
        {
          gsize start = i, digits = 0;
          gboolean integer = TRUE;

          while (i < len && (g_ascii_isdigit (text[i]) || strchr ("-+.eE", text[i]) != NULL))
            {
              if (g_ascii_isdigit (text[i]))
                digits++;
              else if (text[i] != '-' || i != start)
                integer = FALSE;
              i++;
            }
          i--;
          if (integer && digits > 18)
            return g_strdup_printf (_("the number %.*s is too large: give it as a string"),
                                    (int) MIN (i + 1 - start, 40), text + start);
        }
    }
  return NULL;
}

/* The value of one answers member as the instance stores it, or NULL with
 * a message. */
static char *
answer_value (JsonNode *node, char **message)
{
  *message = NULL;
  if (JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("");
  if (JSON_NODE_HOLDS_VALUE (node))
    {
      GType t = json_node_get_value_type (node);

      if (t == G_TYPE_STRING)
        return g_strdup (json_node_get_string (node));
      if (t == G_TYPE_INT64)
        return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
      if (t == G_TYPE_DOUBLE)
        return hearth_xpath_number_to_string (json_node_get_double (node));
      if (t == G_TYPE_BOOLEAN)
        return g_strdup (json_node_get_boolean (node) ? "true" : "false");
    }
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *e = json_array_get_element (array, i);
          if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING ||
              strpbrk (json_node_get_string (e), " \t\r\n") != NULL || json_node_get_string (e)[0] == '\0')
            {
              *message = g_strdup (_("a select-multiple answer is an array of choice names (strings without spaces)"));
              return NULL;
            }
          g_ptr_array_add (names, g_strdup (json_node_get_string (e)));
        }
      g_ptr_array_add (names, NULL);
      return g_strjoinv (" ", (char **) names->pdata);
    }
  *message = g_strdup (_("an answer is a string, a number, an array of choice names or null"));
  return NULL;
}

/* Creates the repeat instances a path names by index (`/data/m[3]/x`
 * creates m[1] to m[3]). */
static gboolean
ensure_repeats (HearthFormSession *session, const char *path, GError **error)
{
  const char *p = path;

  while ((p = strchr (p, '[')) != NULL)
    {
      g_autofree char *repeat = g_strndup (path, (gsize) (p - path));
      guint64 want = 0;
      char *end = NULL;
      int have;

      want = g_ascii_strtoull (p + 1, &end, 10);
      if (end == p + 1 || *end != ']' || want == 0)
        {
          g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_UNKNOWN_PATH,
                       _("%s: a repeat index is a whole number from 1"), path);
          return FALSE;
        }
      have = hearth_form_session_count_repeat (session, repeat, error);
      if (have < 0)
        return FALSE;
      if (want > HEARTH_FORM_MAX_REPEATS)
        {
          g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_REPEAT,
                       _("%s: at most %d instances of a repeat"), path, HEARTH_FORM_MAX_REPEATS);
          return FALSE;
        }
      while ((guint64) have < want)
        {
          g_autoptr(GError) local = NULL;
          if (!hearth_form_session_add_repeat (session, repeat, NULL, &local))
            {
              g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_REPEAT,
                           _("%s: instance %u does not exist (%s)"), path, (guint) want, local->message);
              return FALSE;
            }
          have++;
        }
      p = end + 1;
    }
  return TRUE;
}

static const char *
error_kind (const GError *error)
{
  if (error->domain == HEARTH_FORM_SESSION_ERROR)
    switch (error->code)
      {
      case HEARTH_FORM_SESSION_ERROR_READONLY: return "readonly";
      case HEARTH_FORM_SESSION_ERROR_TYPE: return "type";
      default: break;
      }
  return "unknown-path";
}

/* Where bundled forms are: $HEARTH_FORMS_DIR, the installed forms, the
 * source tree's, in that order. */
#define BUNDLED_FORM_DIRS { g_getenv ("HEARTH_FORMS_DIR"), HEARTH_INSTALLED_FORMS_DIR, HEARTH_SOURCE_FORMS_DIR }

/* The form a --form names: a path, or the id of a bundled form. */
char *
cli_form_path (const char *form)
{
  const char *dirs[] = BUNDLED_FORM_DIRS;

  if (form == NULL || g_file_test (form, G_FILE_TEST_EXISTS) || strchr (form, '/') != NULL)
    return g_strdup (form);
  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autoptr(GDir) d = dirs[i] != NULL ? g_dir_open (dirs[i], 0, NULL) : NULL;
      const char *name;

      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *path = g_build_filename (dirs[i], name, NULL);
          g_autoptr(HearthForm) f = g_str_has_suffix (name, ".xml") ? hearth_form_load (path, NULL, NULL) : NULL;

          if (f != NULL && g_strcmp0 (f->form_id, form) == 0)
            return g_steal_pointer (&path);
        }
    }
  return g_strdup (form);
}

static int
form_fill (CliContext *ctx, int argc, char **argv)
{
  g_autofree char *media = NULL;
  g_autofree char *answers_path = NULL;
  g_autofree char *lang = NULL;
  g_autofree char *now = NULL;
  g_autofree char *instance_id = NULL;
  g_autoptr(HearthFormSession) session = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *form_path = NULL;
  int status;
  GOptionEntry entries[] = {
    { "answers", 0, 0, G_OPTION_ARG_FILENAME, &answers_path, N_("The answers, as JSON (required)"), N_("FILE") },
    { "lang", 0, 0, G_OPTION_ARG_STRING, &lang, N_("The form's language, by code or name"), N_("LANG") },
    { "media", 0, 0, G_OPTION_ARG_FILENAME, &media,
      N_("The folder with external instances and attachments (default: media beside the form)"), N_("DIR") },
    { "now", 0, 0, G_OPTION_ARG_STRING, &now, N_("Fix now() and today(), for tests"), N_("ISO8601") },
    { "instance-id", 0, 0, G_OPTION_ARG_STRING, &instance_id, N_("Fix meta/instanceID, for tests"), N_("UUID") },
    { NULL }
  };

  (void) ctx;
  if (!cli_parse_with_arguments ("form fill", entries, N_("FORM.xml"), &argc, &argv))
    return CLI_EXIT_USAGE;
  if (answers_path == NULL)
    {
      g_printerr (_("hearth-cli: form fill needs --answers FILE\n"));
      return CLI_EXIT_USAGE;
    }
  form_path = cli_form_path (argv[1]);
  status = cli_fill (form_path, answers_path, lang, media, now, instance_id, NULL, NULL, NULL, &session, &xml);
  if (status == CLI_EXIT_OK)
    g_print ("%s", xml);
  return status;
}

int
cli_fill (const char *form_path, const char *answers_path, const char *lang, const char *media_in,
          const char *now, const char *instance_id, GHashTable *instances,
          const char *form_xml, const char *form_name,
          HearthFormSession **session_out, char **xml_out)
{
  g_autofree char *media = g_strdup (media_in);
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(HearthFormSession) session = NULL;
  g_autoptr(GPtrArray) answers = g_ptr_array_new_with_free_func (answer_free);
  g_autoptr(JsonBuilder) errors = json_builder_new ();
  g_autoptr(GHashTable) failed = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  HearthFormSessionOptions options = { 0 };
  HearthForm *form;
  JsonNode *root;
  JsonObject *object;
  GList *members;
  guint n_errors = 0;
  gsize len = 0;

  *session_out = NULL;
  *xml_out = NULL;
  if (instance_id != NULL &&
      !g_uuid_string_is_valid (g_str_has_prefix (instance_id, "uuid:") ? instance_id + 5 : instance_id))
    {
      g_printerr (_("hearth-cli: --instance-id takes a UUID, not \"%s\"\n"), instance_id);
      return CLI_EXIT_USAGE;
    }
  if (now != NULL)
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601 (now, NULL);
      if (dt == NULL)
        {
          g_printerr (_("hearth-cli: --now takes an ISO 8601 date and time with an offset, not \"%s\"\n"), now);
          return CLI_EXIT_USAGE;
        }
    }
  if (media == NULL && form_path != NULL)
    media = default_media (form_path);

  /* The answers first: a bad file is refused before anything else. */
  if (!g_file_get_contents (answers_path, &text, &len, &error))
    {
      g_printerr (_("hearth-cli: the answers file cannot be read: %s\n"), error->message);
      return CLI_EXIT_REFUSED;
    }
  if (len > ANSWERS_MAX_BYTES)
    {
      g_printerr (_("hearth-cli: %s is larger than %d bytes\n"), answers_path, ANSWERS_MAX_BYTES);
      return CLI_EXIT_REFUSED;
    }
  {
    g_autofree char *why = answers_prescan (text, len);
    if (why != NULL)
      {
        g_printerr (_("hearth-cli: %s: %s\n"), answers_path, why);
        return CLI_EXIT_REFUSED;
      }
  }
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, (gssize) len, &error))
    {
      /* json-glib names the text "<data>": the file is named already. */
      g_auto(GStrv) parts = g_strsplit (error->message, "<data>:", 2);
      g_autofree char *message = g_strjoinv (_("line "), parts);
      g_printerr (_("hearth-cli: %s is not valid JSON: %s\n"), answers_path, message);
      return CLI_EXIT_REFUSED;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_printerr (_("hearth-cli: %s: the answers are one JSON object of paths and values\n"), answers_path);
      return CLI_EXIT_REFUSED;
    }

  form = form_xml != NULL ? hearth_form_load_data (form_name, form_xml, strlen (form_xml), media, &error)
                          : hearth_form_load (form_path, media, &error);
  if (form == NULL)
    {
      g_printerr (_("hearth-cli: %s\n"), error->message);
      return CLI_EXIT_REFUSED;
    }
  options.now = now;
  options.instance_id = instance_id;
  options.language = lang;
  options.media_dir = media;
  options.instances = instances;
  session = hearth_form_session_new (form, &options, &error);
  if (session == NULL)
    {
      g_printerr (_("hearth-cli: %s\n"), error->message);
      return CLI_EXIT_REFUSED;
    }

  json_builder_begin_object (errors);
  json_builder_set_member_name (errors, "errors");
  json_builder_begin_array (errors);

  object = json_node_get_object (root);
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    {
      Answer *a = g_new0 (Answer, 1);
      g_autofree char *message = NULL;

      a->path = g_strdup (l->data);
      a->value = answer_value (json_object_get_member (object, l->data), &message);
      a->order = answers->len;
      for (const char *p = a->path; (p = strchr (p, '[')) != NULL; p++)
        a->depth++;
      if (a->value == NULL)
        {
          add_error (errors, a->path, "type", message);
          n_errors++;
          answer_free (a);
          continue;
        }
      g_ptr_array_add (answers, a);
    }
  g_list_free (members);
  /* Outer answers first: a jr:count or a relevance may depend on them. */
  g_ptr_array_sort (answers, answer_compare);

  for (guint i = 0; i < answers->len; i++)
    {
      Answer *a = answers->pdata[i];
      g_autoptr(GError) local = NULL;

      if (ensure_repeats (session, a->path, &local) &&
          hearth_form_session_set_value (session, a->path, a->value, &local))
        continue;
      if (local->domain == HEARTH_FORM_SESSION_ERROR && local->code == HEARTH_FORM_SESSION_ERROR_EVAL)
        {
          g_printerr (_("hearth-cli: %s\n"), local->message);
          return CLI_EXIT_REFUSED;
        }
      add_error (errors, a->path, error_kind (local), local->message);
      g_hash_table_add (failed, a->path);
      n_errors++;
    }

  if (n_errors == 0)
    {
      g_autoptr(GPtrArray) issues = NULL;
      g_autofree char *xml = hearth_form_session_finalise (session, &issues, &error);

      if (xml != NULL)
        {
          *xml_out = g_steal_pointer (&xml);
          *session_out = g_steal_pointer (&session);
          return CLI_EXIT_OK;
        }
      if (issues == NULL)
        {
          g_printerr (_("hearth-cli: %s\n"), error->message);
          return CLI_EXIT_REFUSED;
        }
      for (guint i = 0; i < issues->len; i++)
        {
          HearthFormIssue *issue = issues->pdata[i];
          add_error (errors, issue->path, issue->kind, issue->message);
        }
    }
  else
    {
      /* Report what else is wrong too, so one run shows everything. */
      g_autoptr(GPtrArray) issues = hearth_form_session_validate (session, NULL);

      for (guint i = 0; i < issues->len; i++)
        {
          HearthFormIssue *issue = issues->pdata[i];
          if (!g_hash_table_contains (failed, issue->path))
            add_error (errors, issue->path, issue->kind, issue->message);
        }
    }
  json_builder_end_array (errors);
  json_builder_end_object (errors);
  {
    g_autoptr(JsonNode) out = json_builder_get_root (errors);
    cli_print_json (out);
  }
  return CLI_EXIT_REFUSED;
}

/* ---- form list ------------------------------------------------------------- */

typedef struct {
  char *form_id;
  char *version;
  char *title;
  const char *source;   /* "bundled" or "published" */
} ListedForm;

static void
listed_form_free (gpointer data)
{
  ListedForm *f = data;

  g_free (f->form_id);
  g_free (f->version);
  g_free (f->title);
  g_free (f);
}

static int
compare_listed (gconstpointer pa, gconstpointer pb)
{
  const ListedForm *a = *(const ListedForm *const *) pa;
  const ListedForm *b = *(const ListedForm *const *) pb;
  int c = strcmp (a->source, b->source);

  if (c == 0)
    c = g_strcmp0 (a->form_id, b->form_id);
  if (c == 0)
    c = g_strcmp0 (a->version, b->version);
  return c;
}

static void
add_listed (GPtrArray *list, const char *form_id, const char *version, const char *title, const char *source)
{
  ListedForm *f;

  for (guint i = 0; i < list->len; i++)
    {
      ListedForm *seen = list->pdata[i];
      if (g_strcmp0 (seen->form_id, form_id) == 0 && g_strcmp0 (seen->version, version) == 0 &&
          g_str_equal (seen->source, source))
        return;  /* the same bundled form installed and in the source tree */
    }
  f = g_new0 (ListedForm, 1);
  f->form_id = g_strdup (form_id != NULL ? form_id : "");
  f->version = g_strdup (version != NULL ? version : "");
  f->title = g_strdup (title != NULL ? title : "");
  f->source = source;
  g_ptr_array_add (list, f);
}

/* The forms and thresholds the center published to this store. */
static gboolean
list_published (CliContext *ctx, GPtrArray *forms, GPtrArray *thresholds, GError **error)
{
  g_autoptr(HearthStore) store = cli_open_store (ctx, error);
  sqlite3_stmt *st = NULL;
  sqlite3 *db;

  if (store == NULL)
    return FALSE;
  db = hearth_store_get_db (store);
  if (sqlite3_prepare_v2 (db, "SELECT kind, form_id, version, title, published_at FROM published_forms "
                              "ORDER BY kind, form_id, version", -1, &st, NULL) != SQLITE_OK)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SQLITE, "%s", sqlite3_errmsg (db));
      return FALSE;
    }
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      const char *kind = (const char *) sqlite3_column_text (st, 0);

      if (g_strcmp0 (kind, "form") == 0)
        add_listed (forms, (const char *) sqlite3_column_text (st, 1), (const char *) sqlite3_column_text (st, 2),
                    (const char *) sqlite3_column_text (st, 3), "published");
      else if (g_strcmp0 (kind, "thresholds") == 0)
        add_listed (thresholds, NULL, (const char *) sqlite3_column_text (st, 2),
                    (const char *) sqlite3_column_text (st, 4), "published");
    }
  sqlite3_finalize (st);
  return TRUE;
}

/* hearth-cli form list: the bundled forms, and those the center published
 * to this store (when there is one), with the thresholds it published. */
static int
form_list (CliContext *ctx, int argc, char **argv)
{
  GOptionEntry entries[] = { { NULL } };
  const char *dirs[] = BUNDLED_FORM_DIRS;
  g_autoptr(GPtrArray) forms = g_ptr_array_new_with_free_func (listed_form_free);
  g_autoptr(GPtrArray) thresholds = g_ptr_array_new_with_free_func (listed_form_free);
  g_autofree char *db_path = g_build_filename (ctx->data_dir, HEARTH_STORE_DB_NAME, NULL);
  GError *error = NULL;

  if (!cli_parse ("form list", entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autoptr(GDir) d = dirs[i] != NULL ? g_dir_open (dirs[i], 0, NULL) : NULL;
      const char *name;

      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *path = g_build_filename (dirs[i], name, NULL);
          g_autoptr(HearthForm) f = g_str_has_suffix (name, ".xml") ? hearth_form_load (path, NULL, NULL) : NULL;

          if (f != NULL && f->form_id != NULL)
            add_listed (forms, f->form_id, f->version, f->title, "bundled");
        }
    }
  /* Published forms live in the store; without one there are none. */
  if (g_file_test (db_path, G_FILE_TEST_EXISTS) && !list_published (ctx, forms, thresholds, &error))
    return cli_fail (error);
  g_ptr_array_sort (forms, compare_listed);

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "forms");
      json_builder_begin_array (b);
      for (guint i = 0; i < forms->len; i++)
        {
          ListedForm *f = forms->pdata[i];

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "form_id");
          json_builder_add_string_value (b, f->form_id);
          json_builder_set_member_name (b, "version");
          json_builder_add_string_value (b, f->version);
          json_builder_set_member_name (b, "title");
          json_builder_add_string_value (b, f->title);
          json_builder_set_member_name (b, "source");
          json_builder_add_string_value (b, f->source);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "thresholds");
      json_builder_begin_array (b);
      for (guint i = 0; i < thresholds->len; i++)
        {
          ListedForm *t = thresholds->pdata[i];

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "version");
          json_builder_add_string_value (b, t->version);
          json_builder_set_member_name (b, "published_at");
          json_builder_add_string_value (b, t->title);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cli_print_json (root);
      return CLI_EXIT_OK;
    }
  /* Tab-separated under a header, as hearth-center device list. */
  g_print ("%s\n", _("FORM\tVERSION\tSOURCE\tTITLE"));
  for (guint i = 0; i < forms->len; i++)
    {
      ListedForm *f = forms->pdata[i];
      g_autofree char *title = g_strdelimit (g_strdup (f->title), "\t\r\n", ' ');

      g_print ("%s\t%s\t%s\t%s\n", f->form_id, f->version,
               g_str_equal (f->source, "bundled") ? _("bundled") : _("published"), title);
    }
  for (guint i = 0; i < thresholds->len; i++)
    {
      ListedForm *t = thresholds->pdata[i];
      g_print (_("Thresholds version %s, published by the center %s\n"), t->version, t->title);
    }
  return CLI_EXIT_OK;
}

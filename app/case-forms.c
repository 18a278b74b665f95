/* SPDX-License-Identifier: GPL-3.0-or-later */
/* case-forms.c: the form a visit opens (case-forms.h). */
#define G_LOG_DOMAIN "hearth-case"

#include "case-forms.h"
#include "case-published.h"

#include <glib/gi18n-lib.h>
#include <libxml/tree.h>
#include <string.h>

void
hearth_case_form_free (HearthCaseForm *form)
{
  if (form == NULL)
    return;
  g_clear_pointer (&form->form, hearth_form_free);
  g_free (form->version);
  g_free (form->media_dir);
  g_clear_pointer (&form->instances, g_hash_table_unref);
  g_free (form);
}

/* The bundled form @form_id (in @version, when given) from the first
 * folder that has it, loaded with that folder's media. */
static HearthForm *
bundled (const char *const *dirs, const char *form_id, const char *version, char **media_out)
{
  for (guint i = 0; dirs != NULL && dirs[i] != NULL; i++)
    {
      g_autoptr(GDir) d = g_dir_open (dirs[i], 0, NULL);
      g_autofree char *media = g_build_filename (dirs[i], "media", NULL);
      const char *name;

      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *path = NULL;
          g_autoptr(HearthForm) f = NULL;

          if (!g_str_has_suffix (name, ".xml"))
            continue;
          path = g_build_filename (dirs[i], name, NULL);
          f = hearth_form_load (path, g_file_test (media, G_FILE_TEST_IS_DIR) ? media : NULL, NULL);
          if (f != NULL && g_strcmp0 (f->form_id, form_id) == 0 &&
              (version == NULL || g_strcmp0 (f->version, version) == 0))
            {
              *media_out = g_file_test (media, G_FILE_TEST_IS_DIR) ? g_steal_pointer (&media) : NULL;
              return g_steal_pointer (&f);
            }
        }
    }
  return NULL;
}

/* The media folder of the bundled forms, for a published form's external
 * instances (the county publishes the form, not its media). */
static char *
bundled_media (const char *const *dirs)
{
  for (guint i = 0; dirs != NULL && dirs[i] != NULL; i++)
    {
      g_autofree char *media = g_build_filename (dirs[i], "media", NULL);

      if (g_file_test (media, G_FILE_TEST_IS_DIR))
        return g_steal_pointer (&media);
    }
  return NULL;
}

static HearthForm *
published (HearthStore *store, const char *const *dirs, const char *form_id, const char *version,
           char **version_out, char **media_out, GError **error)
{
  g_autofree char *xml = NULL;
  g_autofree char *newest_version = NULL;
  g_autofree char *name = NULL;
  g_autofree char *media = NULL;
  HearthForm *form;

  *version_out = NULL;
  if (version != NULL)
    xml = hearth_published_form_version (store, form_id, version, error);
  else
    xml = hearth_published_form (store, form_id, &newest_version, error);
  if (xml == NULL)
    return NULL;
  name = g_strdup_printf (_("the form %s version %s published by the county"), form_id,
                          version != NULL ? version : newest_version);
  media = bundled_media (dirs);
  form = hearth_form_load_data (name, xml, strlen (xml), media, error);
  if (form == NULL)
    return NULL;
  /* The center names what it publishes beside the form, unchecked by the
   * sync: a form other than the one named (another form's visit button
   * would open it, its submissions would carry another version) is
   * refused. */
  if (g_strcmp0 (form->form_id, form_id) != 0 ||
      g_strcmp0 (form->version, version != NULL ? version : newest_version) != 0)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                   _("%s is the form %s version %s"), name, form->form_id != NULL ? form->form_id : "",
                   form->version != NULL ? form->version : "");
      hearth_form_free (form);
      return NULL;
    }
  *version_out = g_strdup (version != NULL ? version : newest_version);
  *media_out = g_steal_pointer (&media);
  return form;
}

/* The form: @version when asked for and still here, else the newest:
 * the county's, else the bundled one. */
static gboolean
find_form (HearthStore *store, const char *const *dirs, const char *form_id, const char *version,
           HearthCaseForm *out, GError **error)
{
  GError *local = NULL;
  const char *wanted[2] = { version, NULL };

  for (guint i = 0; i < G_N_ELEMENTS (wanted); i++)
    {
      if (i == 0 && version == NULL)
        continue;
      out->form = published (store, dirs, form_id, wanted[i], &out->version, &out->media_dir, &local);
      if (local != NULL)
        break;
      if (out->form != NULL)
        {
          out->published = TRUE;
          break;
        }
      out->form = bundled (dirs, form_id, wanted[i], &out->media_dir);
      if (out->form != NULL)
        {
          out->version = g_strdup (out->form->version != NULL ? out->form->version : "");
          break;
        }
    }
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  if (out->form == NULL)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND, _("there is no form %s on this device"),
                   form_id);
      return FALSE;
    }
  out->other_version = version != NULL && g_strcmp0 (out->version, version) != 0;
  return TRUE;
}

HearthCaseForm *
hearth_case_form_open (HearthStore *store, HearthCaseStore *cases, const char *const *bundled_dirs, const char *form_id,
                       const char *version, const char *household_id, GError **error)
{
  g_autoptr(HearthCaseForm) out = g_new0 (HearthCaseForm, 1);
  xmlDoc *thresholds;

  g_return_val_if_fail (HEARTH_IS_STORE (store), NULL);
  g_return_val_if_fail (HEARTH_IS_CASE_STORE (cases), NULL);
  g_return_val_if_fail (form_id != NULL, NULL);

  out->instances = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) xmlFreeDoc);
  if (!find_form (store, bundled_dirs, form_id, version, out, error))
    return NULL;
  if (household_id != NULL)
    {
      xmlDoc *doc = hearth_case_build_instance (cases, household_id, error);

      if (doc == NULL)
        return NULL;
      g_hash_table_insert (out->instances, g_strdup ("case"), doc);
    }
  thresholds = hearth_published_thresholds (store, NULL, error);
  if (thresholds == NULL && error != NULL && *error != NULL)
    return NULL;
  if (thresholds != NULL)
    g_hash_table_insert (out->instances, g_strdup ("thresholds"), thresholds);
  return g_steal_pointer (&out);
}

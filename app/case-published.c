/* SPDX-License-Identifier: GPL-3.0-or-later */
/* case-published.c: the forms and thresholds the center published (case-published.h). */
#include "case-published.h"

#include "case-store.h"

#include <glib/gi18n-lib.h>
#include <libxml/parser.h>
#include <sqlite3.h>
#include <string.h>

/* The newest row of @kind (and @form_id): its xml and version. */
static gboolean
newest (HearthStore *store, const char *kind, const char *form_id, char **xml, char **version, GError **error)
{
  sqlite3 *db = hearth_store_get_db (store);
  sqlite3_stmt *st = NULL;
  int rc;

  *xml = NULL;
  if (sqlite3_prepare_v2 (db,
                          "SELECT xml, version FROM published_forms WHERE kind = ?1 AND form_id IS ?2 "
                          "ORDER BY published_at DESC, received_at DESC, rowid DESC LIMIT 1",
                          -1, &st, NULL) != SQLITE_OK)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SQLITE, "%s", sqlite3_errmsg (db));
      return FALSE;
    }
  sqlite3_bind_text (st, 1, kind, -1, SQLITE_STATIC);
  if (form_id != NULL)
    sqlite3_bind_text (st, 2, form_id, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      *xml = g_strdup ((const char *) sqlite3_column_text (st, 0));
      if (version != NULL)
        *version = g_strdup ((const char *) sqlite3_column_text (st, 1));
    }
  else if (rc != SQLITE_DONE)
    g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SQLITE, "%s", sqlite3_errmsg (db));
  sqlite3_finalize (st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

char *
hearth_published_form (HearthStore *store, const char *form_id, char **version_out, GError **error)
{
  char *xml = NULL;

  g_return_val_if_fail (store != NULL && form_id != NULL, NULL);
  if (version_out != NULL)
    *version_out = NULL;
  newest (store, "form", form_id, &xml, version_out, error);
  return xml;
}

xmlDoc *
hearth_published_thresholds (HearthStore *store, char **version_out, GError **error)
{
  g_autofree char *xml = NULL;
  g_autofree char *version = NULL;
  xmlDoc *doc;
  xmlNode *root;

  g_return_val_if_fail (store != NULL, NULL);
  if (version_out != NULL)
    *version_out = NULL;
  if (!newest (store, "thresholds", NULL, &xml, &version, error) || xml == NULL)
    return NULL;
  doc = xmlReadMemory (xml, (int) MIN (strlen (xml), (gsize) G_MAXINT), "thresholds.xml", NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  root = doc != NULL ? xmlDocGetRootElement (doc) : NULL;
  if (root == NULL || doc->intSubset != NULL || doc->extSubset != NULL ||
      strcmp ((const char *) root->name, "thresholds") != 0)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                   _("the thresholds version %s the center published are not a thresholds document"), version);
      if (doc != NULL)
        xmlFreeDoc (doc);
      return NULL;
    }
  if (version_out != NULL)
    *version_out = g_steal_pointer (&version);
  return doc;
}

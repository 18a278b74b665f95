/* SPDX-License-Identifier: GPL-3.0-or-later */
/* case-published.c: the forms and thresholds the center published (case-published.h). */
#include "case-published.h"

#include "case-search.h"
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

char *
hearth_published_form_version (HearthStore *store, const char *form_id, const char *version, GError **error)
{
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  char *xml = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && form_id != NULL && version != NULL, NULL);
  db = hearth_store_get_db (store);
  if (sqlite3_prepare_v2 (db,
                          "SELECT xml FROM published_forms WHERE kind = 'form' AND form_id = ?1 AND version = ?2",
                          -1, &st, NULL) != SQLITE_OK)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SQLITE, "%s", sqlite3_errmsg (db));
      return NULL;
    }
  sqlite3_bind_text (st, 1, form_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, version, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    xml = g_strdup ((const char *) sqlite3_column_text (st, 0));
  else if (rc != SQLITE_DONE)
    g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SQLITE, "%s", sqlite3_errmsg (db));
  sqlite3_finalize (st);
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

/* The whole number of days in @node's child @name, or @fallback when
 * there is no such child; -1 when it is not a number of days in range. */
static gint
period_days (xmlNode *node, const char *name, gint fallback)
{
  for (xmlNode *c = node != NULL ? node->children : NULL; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE && strcmp ((const char *) c->name, name) == 0)
      {
        g_autofree char *text = (char *) xmlNodeGetContent (c);
        guint64 days;

        if (text == NULL || !g_ascii_string_to_unsigned (g_strstrip (text), 10, 1, HEARTH_ROUTINE_VISIT_MAX_DAYS, &days,
                                                         NULL))
          return -1;
        return (gint) days;
      }
  return fallback;
}

gboolean
hearth_published_visit_periods (HearthStore *store, guint *routine_days, guint *priority_days, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *version = NULL;
  xmlDoc *doc;
  xmlNode *periods = NULL;
  gint routine, priority;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (routine_days != NULL && priority_days != NULL, FALSE);

  doc = hearth_published_thresholds (store, &version, &local);
  if (doc == NULL && local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  /* The first, as the forms' XPath reads each figure and the center
   * checked it (it took the last, break33). */
  if (doc != NULL)
    for (xmlNode *c = xmlDocGetRootElement (doc)->children; c != NULL && periods == NULL; c = c->next)
      if (c->type == XML_ELEMENT_NODE && strcmp ((const char *) c->name, "routine_visit_days") == 0)
        periods = c;
  routine = period_days (periods, "all", HEARTH_ROUTINE_VISIT_DAYS);
  priority = period_days (periods, "priority", MIN (HEARTH_PRIORITY_VISIT_DAYS, MAX (routine, 1)));
  if (doc != NULL)
    xmlFreeDoc (doc);
  if (routine < 0 || priority < 0 || priority > routine)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                   _("the routine visit periods of the thresholds version %s the center published are not whole "
                     "numbers of days from 1 to %d, the priority one no longer than the routine one"),
                   version, HEARTH_ROUTINE_VISIT_MAX_DAYS);
      return FALSE;
    }
  *routine_days = (guint) routine;
  *priority_days = (guint) priority;
  return TRUE;
}

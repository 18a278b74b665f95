/* SPDX-License-Identifier: GPL-3.0-or-later */
/* case-divisions.c: the division names the center published (case-divisions.h). */
#define G_LOG_DOMAIN "hearth"

#include "case-divisions.h"

#include <libxml/parser.h>
#include <sqlite3.h>
#include <string.h>

#define CACHE_KEY "hearth-division-names"

/* The names of one published list, by code, and that list's row id. */
typedef struct {
  GMutex lock;
  char *id;
  GHashTable *names;
} Cache;

static void
cache_free (gpointer data)
{
  Cache *c = data;

  g_mutex_clear (&c->lock);
  g_free (c->id);
  g_clear_pointer (&c->names, g_hash_table_unref);
  g_free (c);
}

/* The codes and names of a published list; empty when it is not one. */
static GHashTable *
parse_list (const char *id, const char *xml)
{
  GHashTable *names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  xmlDoc *doc;
  xmlNode *root;

  doc = xmlReadMemory (xml, (int) MIN (strlen (xml), (gsize) G_MAXINT), "divisions.xml", NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  root = doc != NULL ? xmlDocGetRootElement (doc) : NULL;
  if (root == NULL || doc->intSubset != NULL || strcmp ((const char *) root->name, "divisions") != 0)
    {
      g_warning ("the division list %s the center published is not a division list", id);
      if (doc != NULL)
        xmlFreeDoc (doc);
      return names;
    }
  for (xmlNode *n = root->children; n != NULL; n = n->next)
    if (n->type == XML_ELEMENT_NODE && strcmp ((const char *) n->name, "division") == 0)
      {
        xmlChar *code = xmlGetProp (n, (const xmlChar *) "code");
        xmlChar *name = xmlGetProp (n, (const xmlChar *) "name");

        if (code != NULL && name != NULL && *name != '\0')
          g_hash_table_replace (names, g_strdup ((const char *) code), g_strdup ((const char *) name));
        xmlFree (code);
        xmlFree (name);
      }
  xmlFreeDoc (doc);
  return names;
}

/* The id of the newest list, or NULL; its XML too when @xml is given. */
static char *
newest_list (sqlite3 *db, char **xml)
{
  sqlite3_stmt *st = NULL;
  char *id = NULL;

  if (xml != NULL)
    *xml = NULL;
  if (sqlite3_prepare_v2 (db,
                          xml != NULL ? "SELECT id, xml FROM published_forms WHERE kind = 'divisions' "
                                        "ORDER BY published_at DESC, received_at DESC, rowid DESC LIMIT 1"
                                      : "SELECT id FROM published_forms WHERE kind = 'divisions' "
                                        "ORDER BY published_at DESC, received_at DESC, rowid DESC LIMIT 1",
                          -1, &st, NULL) != SQLITE_OK)
    {
      g_warning ("reading the division names: %s", sqlite3_errmsg (db));
      return NULL;
    }
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      id = g_strdup ((const char *) sqlite3_column_text (st, 0));
      if (xml != NULL)
        *xml = g_strdup ((const char *) sqlite3_column_text (st, 1));
    }
  sqlite3_finalize (st);
  return id;
}

char *
hearth_division_name (HearthStore *store, const char *code)
{
  static GMutex attach;
  sqlite3 *db;
  g_autofree char *id = NULL;
  Cache *cache;
  char *name;

  g_return_val_if_fail (HEARTH_IS_STORE (store), NULL);
  g_return_val_if_fail (code != NULL, NULL);

  g_mutex_lock (&attach);
  cache = g_object_get_data (G_OBJECT (store), CACHE_KEY);
  if (cache == NULL)
    {
      cache = g_new0 (Cache, 1);
      g_mutex_init (&cache->lock);
      g_object_set_data_full (G_OBJECT (store), CACHE_KEY, cache, cache_free);
    }
  g_mutex_unlock (&attach);

  db = hearth_store_get_db (store);
  g_mutex_lock (&cache->lock);
  /* One indexed row per call tells whether a newer list arrived. */
  id = newest_list (db, NULL);
  if (g_strcmp0 (id, cache->id) != 0 || (id != NULL && cache->names == NULL))
    {
      g_autofree char *xml = NULL;
      g_autofree char *again = newest_list (db, &xml);

      g_clear_pointer (&cache->names, g_hash_table_unref);
      g_free (cache->id);
      cache->id = g_steal_pointer (&again);
      if (cache->id != NULL && xml != NULL)
        cache->names = parse_list (cache->id, xml);
    }
  name = cache->names != NULL ? g_strdup (g_hash_table_lookup (cache->names, code)) : NULL;
  g_mutex_unlock (&cache->lock);
  return name;
}

char *
hearth_division_label (HearthStore *store, const char *code)
{
  char *name;

  g_return_val_if_fail (code != NULL, NULL);
  name = store != NULL ? hearth_division_name (store, code) : NULL;
  return name != NULL ? name : g_strdup (code);
}

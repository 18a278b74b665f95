/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "hearth-schema"

#include "schema-migrate.h"
#include "hearth-schema-resources.h"
#include "store-error.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#define MIGRATIONS_PATH "/org/hearth/schema/migrations"

static void
migration_free (gpointer data)
{
  HearthMigration *m = data;

  g_free (m->name);
  g_free (m->sql);
  g_free (m);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Builds the ordered list from (name, sql) pairs; checks the numbering. */
static GPtrArray *
build_list (GPtrArray *names, GPtrArray *sqls, GError **error)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func (migration_free);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      HearthMigration *m;
      guint64 v;

      if (strlen (name) < 10 || !g_ascii_isdigit (name[0]) || !g_ascii_isdigit (name[1]) ||
          !g_ascii_isdigit (name[2]) || !g_ascii_isdigit (name[3]) || name[4] != '-' ||
          !g_str_has_suffix (name, ".sql"))
        {
          g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_MIGRATION,
                       _("Migration %s is not named NNNN-name.sql"), name);
          return NULL;
        }
      v = g_ascii_strtoull (name, NULL, 10);
      if (v != list->len + 1)
        {
          g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_MIGRATION,
                       _("Migration %s should be number %04u (migrations are numbered without gaps or duplicates)"),
                       name, list->len + 1);
          return NULL;
        }
      m = g_new0 (HearthMigration, 1);
      m->version = (guint) v;
      m->name = g_strdup (name);
      m->sql = g_strdup (g_ptr_array_index (sqls, i));
      g_ptr_array_add (list, m);
    }
  return g_steal_pointer (&list);
}

GPtrArray *
hearth_migrations_load_resource (GResource *res, const char *path, GError **error)
{
  g_auto(GStrv) children = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) sqls = g_ptr_array_new_with_free_func (g_free);

  children = g_resource_enumerate_children (res, path, 0, error);
  if (children == NULL)
    return NULL;
  for (guint i = 0; children[i] != NULL; i++)
    g_ptr_array_add (names, g_strdup (children[i]));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *file = g_build_path ("/", path, (char *) g_ptr_array_index (names, i), NULL);
      g_autoptr(GBytes) b = g_resource_lookup_data (res, file, 0, error);
      if (b == NULL)
        return NULL;
      g_ptr_array_add (sqls, g_strndup (g_bytes_get_data (b, NULL), g_bytes_get_size (b)));
    }
  return build_list (names, sqls, error);
}

GPtrArray *
hearth_migrations_load_builtin (GError **error)
{
  return hearth_migrations_load_resource (hearth_schema_get_resource (), MIGRATIONS_PATH, error);
}

GPtrArray *
hearth_migrations_load_dir (const char *dir, GError **error)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, error);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) sqls = g_ptr_array_new_with_free_func (g_free);
  const char *entry;

  if (d == NULL)
    return NULL;
  while ((entry = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (entry, ".sql"))
      g_ptr_array_add (names, g_strdup (entry));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, (char *) g_ptr_array_index (names, i), NULL);
      char *sql = NULL;

      if (!g_file_get_contents (path, &sql, NULL, error))
        return NULL;
      g_ptr_array_add (sqls, sql);
    }
  return build_list (names, sqls, error);
}

guint
hearth_migrations_latest (GPtrArray *migrations)
{
  return migrations->len;
}

static int
user_version (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  int v = -1;

  if (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step (st) == SQLITE_ROW)
    v = sqlite3_column_int (st, 0);
  sqlite3_finalize (st);
  return v;
}

gboolean
hearth_migrations_apply (sqlite3 *db, GPtrArray *migrations, GError **error)
{
  guint latest = hearth_migrations_latest (migrations);

  for (;;)
    {
      HearthMigration *m;
      g_autofree char *set_version = NULL;
      char *msg = NULL;
      int current, rc;

      current = user_version (db);
      if (current < 0)
        {
          g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_MIGRATION,
                       _("Could not read the schema version: %s"), sqlite3_errmsg (db));
          return FALSE;
        }
      if ((guint) current > latest)
        {
          g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_NEWER_SCHEMA,
                       _("The database was written by a newer Hearth (schema version %d; this Hearth knows up to %u). Update Hearth to open it."),
                       current, latest);
          return FALSE;
        }
      if ((guint) current == latest)
        return TRUE;

      rc = sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
      if (rc != SQLITE_OK)
        {
          g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_MIGRATION,
                       _("Could not start a migration: %s"), msg ? msg : sqlite3_errstr (rc));
          sqlite3_free (msg);
          return FALSE;
        }
      /* Another process may have migrated between the read and the lock. */
      current = user_version (db);
      if (current < 0 || (guint) current >= latest)
        {
          sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
          continue;
        }
      m = g_ptr_array_index (migrations, current);
      set_version = g_strdup_printf ("PRAGMA user_version = %u", m->version);
      rc = sqlite3_exec (db, m->sql, NULL, NULL, &msg);
      if (rc == SQLITE_OK)
        rc = sqlite3_exec (db, set_version, NULL, NULL, &msg);
      if (rc == SQLITE_OK)
        rc = sqlite3_exec (db, "COMMIT", NULL, NULL, &msg);
      if (rc != SQLITE_OK)
        {
          int primary = rc & 0xff;
          g_set_error (error, HEARTH_STORE_ERROR,
                       primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB
                         ? HEARTH_STORE_ERROR_CORRUPT : HEARTH_STORE_ERROR_MIGRATION,
                       _("Migration %s failed and was not applied: %s"),
                       m->name, msg ? msg : sqlite3_errstr (rc));
          sqlite3_free (msg);
          sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
          return FALSE;
        }
      g_debug ("applied migration %s", m->name);
    }
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* case-identity.c: the store's user, role and scope (case-identity.h). */
#define G_LOG_DOMAIN "hearth-case"

#include "case-identity.h"

#include <glib/gi18n.h>
#include <string.h>

static const char *const role_names[] = { "worker", "clerk", "township", "county" };

void
hearth_identity_free (HearthIdentity *identity)
{
  if (identity == NULL)
    return;
  g_free (identity->user);
  g_strfreev (identity->scope);
  g_free (identity);
}

gboolean
hearth_role_from_name (const char *name, HearthRole *role)
{
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (role_names); i++)
    if (strcmp (name, role_names[i]) == 0)
      {
        *role = (HearthRole) i;
        return TRUE;
      }
  return FALSE;
}

const char *
hearth_role_to_name (HearthRole role)
{
  g_return_val_if_fail ((guint) role < G_N_ELEMENTS (role_names), "worker");
  return role_names[role];
}

static gboolean
sql_failed (sqlite3 *db, GError **error)
{
  g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SQLITE, _("Reading or writing the store failed: %s"),
               sqlite3_errmsg (db));
  return FALSE;
}

/* store_meta's value for @key into *@value (NULL when there is none). */
static gboolean
meta_get (sqlite3 *db, const char *key, char **value, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  *value = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT value FROM store_meta WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
    return sql_failed (db, error);
  sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    *value = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return sql_failed (db, error);
  return TRUE;
}

HearthIdentity *
hearth_identity_read (HearthStore *store, GError **error)
{
  sqlite3 *db;
  g_autoptr(HearthIdentity) identity = g_new0 (HearthIdentity, 1);
  g_autofree char *user = NULL, *role = NULL, *scope = NULL;

  g_return_val_if_fail (HEARTH_IS_STORE (store), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  db = hearth_store_get_db (store);
  if (!meta_get (db, "user", &user, error) || !meta_get (db, "role", &role, error) ||
      !meta_get (db, "scope", &scope, error))
    return NULL;
  identity->role = HEARTH_ROLE_WORKER;
  if (role != NULL && *role != '\0' && !hearth_role_from_name (role, &identity->role))
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                   _("The store names a role this program does not know: “%s”"), role);
      return NULL;
    }
  identity->named = user != NULL && *user != '\0';
  identity->user = g_strdup (identity->named ? user : g_get_user_name ());
  identity->scope = scope != NULL && *scope != '\0' ? g_strsplit (scope, ",", -1) : g_new0 (char *, 1);
  return g_steal_pointer (&identity);
}

static gboolean
division_code (const char *code)
{
  gsize n = strlen (code);

  if (n != 6 && n != 9 && n != 12)
    return FALSE;
  for (; *code != '\0'; code++)
    if (!g_ascii_isdigit (*code))
      return FALSE;
  return TRUE;
}

gboolean
hearth_identity_write (HearthStore *store, const char *user, HearthRole role, const char *const *scope,
                       GError **error)
{
  sqlite3 *db;
  g_autofree char *joined = NULL;
  const char *keys[] = { "user", "role", "scope" };
  const char *values[3];

  g_return_val_if_fail (HEARTH_IS_STORE (store), FALSE);
  g_return_val_if_fail ((guint) role < G_N_ELEMENTS (role_names), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (user == NULL || *user == '\0' || strpbrk (user, "\r\n") != NULL || !g_utf8_validate (user, -1, NULL))
    {
      g_set_error_literal (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                           _("A user's name is one line of text, not empty."));
      return FALSE;
    }
  for (guint i = 0; scope != NULL && scope[i] != NULL; i++)
    if (!division_code (scope[i]))
      {
        g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                     _("scope “%s” is not a division code: 6 digits (county), 9 (township) or 12 (village)"),
                     scope[i]);
        return FALSE;
      }
  joined = scope != NULL ? g_strjoinv (",", (char **) scope) : g_strdup ("");
  values[0] = user;
  values[1] = role_names[role];
  values[2] = joined;

  db = hearth_store_get_db (store);
  if (sqlite3_exec (db, "SAVEPOINT identity", NULL, NULL, NULL) != SQLITE_OK)
    return sql_failed (db, error);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      sqlite3_stmt *st = NULL;
      int rc = sqlite3_prepare_v2 (db, "INSERT INTO store_meta (key, value) VALUES (?, ?) "
                                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value", -1, &st, NULL);

      if (rc == SQLITE_OK)
        {
          sqlite3_bind_text (st, 1, keys[i], -1, SQLITE_STATIC);
          sqlite3_bind_text (st, 2, values[i], -1, SQLITE_STATIC);
          rc = sqlite3_step (st);
        }
      sqlite3_finalize (st);
      if (rc != SQLITE_DONE)
        {
          sql_failed (db, error);
          sqlite3_exec (db, "ROLLBACK TO identity; RELEASE identity", NULL, NULL, NULL);
          return FALSE;
        }
    }
  if (sqlite3_exec (db, "RELEASE identity", NULL, NULL, NULL) != SQLITE_OK)
    {
      sql_failed (db, error);
      sqlite3_exec (db, "ROLLBACK TO identity; RELEASE identity", NULL, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

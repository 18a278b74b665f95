/* SPDX-License-Identifier: GPL-3.0-or-later */
/* case-drafts.c: forms being filled on this device (case-drafts.h). */
#define G_LOG_DOMAIN "hearth-case"

#include "case-drafts.h"

#include <glib/gi18n-lib.h>
#include <string.h>

void
hearth_draft_free (HearthDraft *draft)
{
  if (draft == NULL)
    return;
  g_free (draft->id);
  g_free (draft->form_id);
  g_free (draft->form_version);
  g_free (draft->household_id);
  g_free (draft->instance_id);
  g_free (draft->label);
  g_free (draft->page);
  g_free (draft->xml);
  g_free (draft->created_at);
  g_free (draft->updated_at);
  g_free (draft->head_name);
  g_free (draft);
}

static gboolean
sql_failed (sqlite3 *db, GError **error)
{
  g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SQLITE, "%s", sqlite3_errmsg (db));
  return FALSE;
}

static gboolean
exec (sqlite3 *db, const char *sql, GError **error)
{
  if (sqlite3_exec (db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return sql_failed (db, error);
  return TRUE;
}

static char *
column_dup (sqlite3_stmt *st, int i)
{
  const unsigned char *text = sqlite3_column_text (st, i);

  return g_strdup (text != NULL ? (const char *) text : "");
}

static gboolean
missing (const char *s)
{
  return s == NULL || s[0] == '\0';
}

gboolean
hearth_draft_save (HearthCaseStore *cases, const HearthDraft *draft, GError **error)
{
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *now_text = NULL;
  int rc;

  g_return_val_if_fail (HEARTH_IS_CASE_STORE (cases), FALSE);
  g_return_val_if_fail (draft != NULL, FALSE);

  if (missing (draft->id) || !g_uuid_string_is_valid (draft->id))
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID, _("a draft's id is a UUID"));
      return FALSE;
    }
  if (missing (draft->form_id) || missing (draft->form_version) || missing (draft->instance_id) ||
      missing (draft->xml))
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                   _("a draft needs its form, the form's version, its instance id and its answers"));
      return FALSE;
    }
  if (strlen (draft->xml) > HEARTH_DRAFT_MAX_BYTES)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID, _("a draft is larger than %d bytes"),
                   HEARTH_DRAFT_MAX_BYTES);
      return FALSE;
    }
  db = hearth_case_store_get_db (cases);
  now = g_date_time_new_from_unix_utc (hearth_case_store_now_ms (cases) / 1000);
  now_text = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  /* One statement: a draft is wholly the new one or the old one. */
  if (sqlite3_prepare_v2 (db,
                          "INSERT INTO drafts (id, form_id, form_version, household_id, instance_id, label, page, "
                          "xml, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) "
                          "ON CONFLICT (id) DO UPDATE SET form_id = ?2, form_version = ?3, household_id = ?4, "
                          "instance_id = ?5, label = ?6, page = ?7, xml = ?8, updated_at = ?9",
                          -1, &st, NULL) != SQLITE_OK)
    return sql_failed (db, error);
  sqlite3_bind_text (st, 1, draft->id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, draft->form_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, draft->form_version, -1, SQLITE_STATIC);
  if (!missing (draft->household_id))
    sqlite3_bind_text (st, 4, draft->household_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 5, draft->instance_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 6, draft->label != NULL ? draft->label : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 7, draft->page != NULL ? draft->page : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 8, draft->xml, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 9, now_text, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return sql_failed (db, error);
  return TRUE;
}

#define DRAFT_COLUMNS \
  "d.id, d.form_id, d.form_version, d.household_id, d.instance_id, d.label, d.page, d.created_at, " \
  "d.updated_at, coalesce (h.head_name, '')"

static HearthDraft *
draft_from_row (sqlite3_stmt *st)
{
  HearthDraft *d = g_new0 (HearthDraft, 1);

  d->id = column_dup (st, 0);
  d->form_id = column_dup (st, 1);
  d->form_version = column_dup (st, 2);
  d->household_id = sqlite3_column_type (st, 3) == SQLITE_NULL ? NULL : column_dup (st, 3);
  d->instance_id = column_dup (st, 4);
  d->label = column_dup (st, 5);
  d->page = column_dup (st, 6);
  d->created_at = column_dup (st, 7);
  d->updated_at = column_dup (st, 8);
  d->head_name = column_dup (st, 9);
  return d;
}

HearthDraft *
hearth_draft_read (sqlite3 *db, const char *id, GError **error)
{
  sqlite3_stmt *st = NULL;
  HearthDraft *d = NULL;
  int rc;

  g_return_val_if_fail (db != NULL && id != NULL, NULL);

  if (sqlite3_prepare_v2 (db,
                          "SELECT " DRAFT_COLUMNS ", d.xml FROM drafts AS d "
                          "LEFT JOIN households AS h ON h.id = d.household_id WHERE d.id = ?",
                          -1, &st, NULL) != SQLITE_OK)
    {
      sql_failed (db, error);
      return NULL;
    }
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      d = draft_from_row (st);
      d->xml = column_dup (st, 10);
    }
  else if (rc == SQLITE_DONE)
    g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND, _("there is no draft %s"), id);
  else
    sql_failed (db, error);
  sqlite3_finalize (st);
  return d;
}

GPtrArray *
hearth_drafts_list (sqlite3 *db, const char *household_id, GError **error)
{
  sqlite3_stmt *st = NULL;
  g_autoptr(GPtrArray) drafts = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_draft_free);
  int rc;

  g_return_val_if_fail (db != NULL, NULL);

  /* The submission's id is the instanceID without "uuid:". */
  if (sqlite3_prepare_v2 (db,
                          "SELECT " DRAFT_COLUMNS " FROM drafts AS d "
                          "LEFT JOIN households AS h ON h.id = d.household_id "
                          "WHERE (?1 IS NULL OR d.household_id = ?1) AND NOT EXISTS (SELECT 1 FROM submissions AS s "
                          "WHERE s.id = CASE WHEN d.instance_id LIKE 'uuid:%' THEN substr (d.instance_id, 6) "
                          "ELSE d.instance_id END) "
                          "ORDER BY d.updated_at DESC, d.rowid DESC",
                          -1, &st, NULL) != SQLITE_OK)
    {
      sql_failed (db, error);
      return NULL;
    }
  if (household_id != NULL)
    sqlite3_bind_text (st, 1, household_id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_ptr_array_add (drafts, draft_from_row (st));
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    {
      sql_failed (db, error);
      return NULL;
    }
  return g_steal_pointer (&drafts);
}

gboolean
hearth_draft_delete (sqlite3 *db, const char *id, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  g_return_val_if_fail (db != NULL && id != NULL, FALSE);

  if (sqlite3_prepare_v2 (db, "DELETE FROM drafts WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
    return sql_failed (db, error);
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return sql_failed (db, error);
  return TRUE;
}

char *
hearth_draft_finish (HearthCaseStore *cases, const char *draft_id, const HearthForm *form, const char *xml,
                     const char *household_id, GError **error)
{
  sqlite3 *db;
  g_autofree char *id = NULL;

  g_return_val_if_fail (HEARTH_IS_CASE_STORE (cases), NULL);
  g_return_val_if_fail (draft_id != NULL && form != NULL && xml != NULL, NULL);

  db = hearth_case_store_get_db (cases);
  /* The case store's own transaction nests in this one as a savepoint. */
  if (!exec (db, "BEGIN IMMEDIATE", error))
    return NULL;
  id = hearth_case_record_submission (cases, form, xml, household_id, error);
  if (id == NULL || !hearth_draft_delete (db, draft_id, error) || !exec (db, "COMMIT", error))
    {
      sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
      return NULL;
    }
  return g_steal_pointer (&id);
}

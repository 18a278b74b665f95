/* SPDX-License-Identifier: GPL-3.0-or-later */
/* case-review.c: what waits for a role's decision (case-review.h). */
#define G_LOG_DOMAIN "hearth-case"

#include "case-review.h"
#include "case-store.h"
#include "store-packed.h"

#include <glib/gi18n-lib.h>

static char *
column_dup (sqlite3_stmt *st, int i)
{
  const unsigned char *text = sqlite3_column_text (st, i);

  return g_strdup (text != NULL ? (const char *) text : "");
}

static void *
sql_failed (sqlite3 *db, GError **error)
{
  g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SQLITE, "%s", sqlite3_errmsg (db));
  return NULL;
}

void
hearth_review_item_free (HearthReviewItem *item)
{
  if (item == NULL)
    return;
  g_free (item->household_id);
  g_free (item->head_name);
  g_free (item->village_code);
  g_free (item->address);
  g_free (item->risk_level);
  g_free (item->risk_types);
  g_free (item->monitoring_status);
  g_free (item->submission_id);
  g_free (item->form_id);
  g_free (item->author);
  g_free (item->ended_at);
  g_free (item);
}

GPtrArray *
hearth_case_review_queue (sqlite3 *db, HearthRole role, GError **error)
{
  /* The states each role moves a case on from (as `hearth-cli review list`). */
  static const char *const waiting[] = {
    [HEARTH_ROLE_WORKER] = "'returned'",
    [HEARTH_ROLE_CLERK] = "'pending_village_review', 'pending_elimination'",
    [HEARTH_ROLE_TOWNSHIP] = "'pending_county_approval'",
    [HEARTH_ROLE_COUNTY] = "'pending_county_approval', 'pending_elimination'",
  };
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_review_item_free);
  g_autofree char *sql = NULL;
  sqlite3_stmt *st = NULL;
  int rc;

  g_return_val_if_fail (db != NULL, NULL);
  g_return_val_if_fail ((guint) role < G_N_ELEMENTS (waiting), NULL);

  /* The visit that set the risk level raised the case; without one (a
   * declaration), the household's latest. */
  sql = g_strdup_printf ("SELECT h.id, h.head_name, h.village_code, h.address, h.risk_level, h.risk_types, "
                         "  h.monitoring_status, s.id, s.form_id, s.author, s.ended_at "
                         "FROM households AS h "
                         "LEFT JOIN submissions AS s ON s.id = coalesce (h.risk_submission, "
                         "  (SELECT l.id FROM submissions AS l WHERE l.household_id = h.id "
                         "   ORDER BY l.ended_at DESC, l.rowid DESC LIMIT 1)) "
                         "WHERE h.deleted = 0 AND h.monitoring_status IN (%s) "
                         "ORDER BY h.village_code, h.head_name, h.id LIMIT %d",
                         waiting[role], HEARTH_REVIEW_QUEUE_MAX);
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return sql_failed (db, error);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      HearthReviewItem *item = g_new0 (HearthReviewItem, 1);

      item->household_id = column_dup (st, 0);
      item->head_name = column_dup (st, 1);
      item->village_code = column_dup (st, 2);
      item->address = column_dup (st, 3);
      item->risk_level = column_dup (st, 4);
      item->risk_types = column_dup (st, 5);
      item->monitoring_status = column_dup (st, 6);
      item->submission_id = column_dup (st, 7);
      item->form_id = column_dup (st, 8);
      item->author = column_dup (st, 9);
      item->ended_at = column_dup (st, 10);
      g_ptr_array_add (items, item);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return sql_failed (db, error);
  return g_steal_pointer (&items);
}

void
hearth_submission_free (HearthSubmission *submission)
{
  if (submission == NULL)
    return;
  g_free (submission->id);
  g_free (submission->form_id);
  g_free (submission->form_version);
  g_free (submission->household_id);
  g_free (submission->author);
  g_free (submission->ended_at);
  g_free (submission->risk_level);
  g_free (submission->xml);
  g_free (submission);
}

HearthSubmission *
hearth_case_submission_read (sqlite3 *db, const char *id, GError **error)
{
  sqlite3_stmt *st = NULL;
  HearthSubmission *s = NULL;
  int rc;

  g_return_val_if_fail (db != NULL && id != NULL, NULL);

  if (sqlite3_prepare_v2 (db,
                          "SELECT id, form_id, form_version, household_id, author, ended_at, risk_level, instance_xml "
                          "FROM submissions WHERE id = ?",
                          -1, &st, NULL) != SQLITE_OK)
    return sql_failed (db, error);
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      s = g_new0 (HearthSubmission, 1);
      s->id = column_dup (st, 0);
      s->form_id = column_dup (st, 1);
      s->form_version = column_dup (st, 2);
      s->household_id = sqlite3_column_type (st, 3) == SQLITE_NULL ? NULL : column_dup (st, 3);
      s->author = column_dup (st, 4);
      s->ended_at = column_dup (st, 5);
      s->risk_level = column_dup (st, 6);
      s->xml = hearth_packed_column_text (st, 7, "submissions", id, error);
      if (s->xml == NULL)
        {
          if (error != NULL && *error == NULL)
            g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND,
                         _("submission %s has no form"), id);
          g_clear_pointer (&s, hearth_submission_free);
        }
    }
  else if (rc == SQLITE_DONE)
    g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND, _("there is no submission %s"), id);
  else
    sql_failed (db, error);
  sqlite3_finalize (st);
  return s;
}

static void
conflict_value_free (HearthConflictValue *v)
{
  g_free (v->value);
  g_free (v->wall);
  g_free (v->device_id);
  g_free (v);
}

void
hearth_field_conflict_free (HearthFieldConflict *conflict)
{
  if (conflict == NULL)
    return;
  g_free (conflict->conflict_id);
  g_free (conflict->record_table);
  g_free (conflict->record_id);
  g_free (conflict->field);
  g_free (conflict->household_id);
  g_free (conflict->head_name);
  g_ptr_array_unref (conflict->values);
  g_free (conflict);
}

/* Adds @value (with where and when its version was recorded) unless the
 * field's list has it already. */
static void
add_value (HearthFieldConflict *c, sqlite3_stmt *edit, const char *value, const char *hlc, gboolean kept)
{
  HearthConflictValue *v;

  for (guint i = 0; i < c->values->len; i++)
    if (g_str_equal (((HearthConflictValue *) c->values->pdata[i])->value, value))
      return;
  v = g_new0 (HearthConflictValue, 1);
  v->value = g_strdup (value);
  v->kept = kept;
  sqlite3_reset (edit);
  sqlite3_bind_text (edit, 1, c->record_table, -1, SQLITE_STATIC);
  sqlite3_bind_text (edit, 2, c->record_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (edit, 3, c->field, -1, SQLITE_STATIC);
  sqlite3_bind_text (edit, 4, hlc, -1, SQLITE_STATIC);
  if (sqlite3_step (edit) == SQLITE_ROW)
    {
      v->wall = column_dup (edit, 0);
      v->device_id = column_dup (edit, 1);
    }
  else
    {
      v->wall = g_strdup ("");
      v->device_id = g_strdup ("");
    }
  g_ptr_array_add (c->values, v);
}

GPtrArray *
hearth_case_conflicts_list (sqlite3 *db, const char *household_id, GError **error)
{
  g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_field_conflict_free);
  sqlite3_stmt *st = NULL, *edit = NULL;
  HearthFieldConflict *current = NULL;
  int rc;

  g_return_val_if_fail (db != NULL, NULL);

  /* A conflict's record is a household or one of its members, tasks or
   * measures: its household either way (as `hearth-cli conflict list`). */
  if (sqlite3_prepare_v2 (db,
                          "SELECT c.id, c.record_table, c.record_id, c.field, c.kept_value, c.kept_hlc, c.lost_value, "
                          "  c.lost_hlc, coalesce (h.id, m.household_id, t.household_id, s.household_id, '') AS hh, "
                          "  coalesce ((SELECT head_name FROM households WHERE id = coalesce (h.id, m.household_id, "
                          "    t.household_id, s.household_id)), '') "
                          "FROM conflicts AS c "
                          "LEFT JOIN households AS h ON c.record_table = 'households' AND h.id = c.record_id "
                          "LEFT JOIN members AS m ON c.record_table = 'members' AND m.id = c.record_id "
                          "LEFT JOIN tasks AS t ON c.record_table = 'tasks' AND t.id = c.record_id "
                          "LEFT JOIN measures AS s ON c.record_table = 'measures' AND s.id = c.record_id "
                          "WHERE c.resolved_at IS NULL AND (?1 IS NULL OR hh = ?1) "
                          "ORDER BY hh, c.record_table, c.record_id, c.field, c.id",
                          -1, &st, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (db,
                          "SELECT wall, origin FROM field_edits WHERE rkey = hearth_edit_key (?1, ?2, NULL) "
                          "AND vkey = hearth_version_key (?4) AND record_table = ?1 AND record_id = ?2 "
                          "AND field = ?3 AND hlc = ?4",
                          -1, &edit, NULL) != SQLITE_OK)
    {
      sqlite3_finalize (st);
      return sql_failed (db, error);
    }
  if (household_id != NULL)
    sqlite3_bind_text (st, 1, household_id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      const char *table = (const char *) sqlite3_column_text (st, 1);
      const char *record = (const char *) sqlite3_column_text (st, 2);
      const char *field = (const char *) sqlite3_column_text (st, 3);

      if (current == NULL || g_strcmp0 (current->record_table, table) != 0 ||
          g_strcmp0 (current->record_id, record) != 0 || g_strcmp0 (current->field, field) != 0)
        {
          current = g_new0 (HearthFieldConflict, 1);
          current->conflict_id = column_dup (st, 0);
          current->record_table = g_strdup (table);
          current->record_id = g_strdup (record);
          current->field = g_strdup (field);
          current->household_id = column_dup (st, 8);
          current->head_name = column_dup (st, 9);
          current->values = g_ptr_array_new_with_free_func ((GDestroyNotify) conflict_value_free);
          g_ptr_array_add (fields, current);
        }
      add_value (current, edit, (const char *) sqlite3_column_text (st, 4), (const char *) sqlite3_column_text (st, 5),
                 TRUE);
      add_value (current, edit, (const char *) sqlite3_column_text (st, 6), (const char *) sqlite3_column_text (st, 7),
                 FALSE);
    }
  sqlite3_finalize (st);
  sqlite3_finalize (edit);
  if (rc != SQLITE_DONE)
    return sql_failed (db, error);
  return g_steal_pointer (&fields);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* case-household.c: one household with its parts (case-household.h). */
#define G_LOG_DOMAIN "hearth-case"

#include "case-household.h"
#include "case-store.h"

#include <glib/gi18n.h>

static char *
column_dup (sqlite3_stmt *st, int i)
{
  const unsigned char *text = sqlite3_column_text (st, i);

  return g_strdup (text != NULL ? (const char *) text : "");
}

static void
member_free (HearthHouseholdMember *m)
{
  g_free (m->id);
  g_free (m->name);
  g_free (m->id_number);
  g_free (m->sex);
  g_free (m->birth_date);
  g_free (m->relation);
  g_free (m->health);
  g_free (m->labour);
  g_free (m);
}

static void
visit_free (HearthHouseholdVisit *v)
{
  g_free (v->id);
  g_free (v->form_id);
  g_free (v->author);
  g_free (v->ended_at);
  g_free (v->risk_level);
  g_free (v);
}

static void
task_free (HearthHouseholdTask *t)
{
  g_free (t->id);
  g_free (t->kind);
  g_free (t->due_date);
  g_free (t->reason);
  g_free (t->status);
  g_free (t->assignee);
  g_free (t);
}

static void
review_free (HearthHouseholdReview *r)
{
  g_free (r->at);
  g_free (r->actor);
  g_free (r->role);
  g_free (r->from_state);
  g_free (r->to_state);
  g_free (r->comment);
  g_free (r);
}

void
hearth_household_free (HearthHousehold *h)
{
  if (h == NULL)
    return;
  g_free (h->id);
  g_free (h->registry_no);
  g_free (h->village_code);
  g_free (h->address);
  g_free (h->head_name);
  g_free (h->head_id_number);
  g_free (h->category);
  g_free (h->phone);
  g_free (h->per_capita_income);
  g_free (h->risk_level);
  g_free (h->risk_types);
  g_free (h->monitoring_status);
  g_free (h->last_visit_date);
  g_free (h->next_visit_date);
  g_free (h->eliminated_on);
  g_clear_pointer (&h->members, g_ptr_array_unref);
  g_clear_pointer (&h->visits, g_ptr_array_unref);
  g_clear_pointer (&h->tasks, g_ptr_array_unref);
  g_clear_pointer (&h->reviews, g_ptr_array_unref);
  g_free (h);
}

static gboolean
sql_failed (sqlite3 *db, GError **error)
{
  g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SQLITE, _("Reading the household failed: %s"),
               sqlite3_errmsg (db));
  return FALSE;
}

/* Runs @sql with @id bound to ?1 and hands each row to @add. */
static gboolean
read_rows (sqlite3 *db, const char *sql, const char *id, void (*add) (sqlite3_stmt *, GPtrArray *),
           GPtrArray *into, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return sql_failed (db, error);
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    add (st, into);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return sql_failed (db, error);
  return TRUE;
}

static void
add_member (sqlite3_stmt *st, GPtrArray *into)
{
  HearthHouseholdMember *m = g_new0 (HearthHouseholdMember, 1);

  m->id = column_dup (st, 0);
  m->name = column_dup (st, 1);
  m->id_number = column_dup (st, 2);
  m->sex = column_dup (st, 3);
  m->birth_date = column_dup (st, 4);
  m->relation = column_dup (st, 5);
  m->health = column_dup (st, 6);
  m->labour = column_dup (st, 7);
  g_ptr_array_add (into, m);
}

static void
add_visit (sqlite3_stmt *st, GPtrArray *into)
{
  HearthHouseholdVisit *v = g_new0 (HearthHouseholdVisit, 1);

  v->id = column_dup (st, 0);
  v->form_id = column_dup (st, 1);
  v->author = column_dup (st, 2);
  v->ended_at = column_dup (st, 3);
  v->risk_level = column_dup (st, 4);
  g_ptr_array_add (into, v);
}

static void
add_task (sqlite3_stmt *st, GPtrArray *into)
{
  HearthHouseholdTask *t = g_new0 (HearthHouseholdTask, 1);

  t->id = column_dup (st, 0);
  t->kind = column_dup (st, 1);
  t->due_date = column_dup (st, 2);
  t->reason = column_dup (st, 3);
  t->status = column_dup (st, 4);
  t->assignee = column_dup (st, 5);
  g_ptr_array_add (into, t);
}

static void
add_review (sqlite3_stmt *st, GPtrArray *into)
{
  HearthHouseholdReview *r = g_new0 (HearthHouseholdReview, 1);

  r->at = column_dup (st, 0);
  r->actor = column_dup (st, 1);
  r->role = column_dup (st, 2);
  r->from_state = column_dup (st, 3);
  r->to_state = column_dup (st, 4);
  r->comment = column_dup (st, 5);
  g_ptr_array_add (into, r);
}

static HearthHousehold *
read_household (sqlite3 *db, const char *id, GError **error)
{
  g_autoptr(HearthHousehold) h = NULL;
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db,
                          "SELECT id, coalesce (registry_no, ''), village_code, address, head_name, head_id_number, "
                          "category, phone, per_capita_income, risk_level, risk_types, monitoring_status, "
                          "last_visit_date, next_visit_date, eliminated_on, member_count "
                          "FROM households WHERE id = ?1 AND deleted = 0", -1, &st, NULL) != SQLITE_OK)
    return sql_failed (db, error), NULL;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      h = g_new0 (HearthHousehold, 1);
      h->id = column_dup (st, 0);
      h->registry_no = column_dup (st, 1);
      h->village_code = column_dup (st, 2);
      h->address = column_dup (st, 3);
      h->head_name = column_dup (st, 4);
      h->head_id_number = column_dup (st, 5);
      h->category = column_dup (st, 6);
      h->phone = column_dup (st, 7);
      h->per_capita_income = column_dup (st, 8);
      h->risk_level = column_dup (st, 9);
      h->risk_types = column_dup (st, 10);
      h->monitoring_status = column_dup (st, 11);
      h->last_visit_date = column_dup (st, 12);
      h->next_visit_date = column_dup (st, 13);
      h->eliminated_on = column_dup (st, 14);
      h->member_count = sqlite3_column_int64 (st, 15);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return sql_failed (db, error), NULL;
  if (h == NULL)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND, _("No household has the id “%s”."), id);
      return NULL;
    }

  h->members = g_ptr_array_new_with_free_func ((GDestroyNotify) member_free);
  h->visits = g_ptr_array_new_with_free_func ((GDestroyNotify) visit_free);
  h->tasks = g_ptr_array_new_with_free_func ((GDestroyNotify) task_free);
  h->reviews = g_ptr_array_new_with_free_func ((GDestroyNotify) review_free);
  if (!read_rows (db,
                  "SELECT id, name, id_number, sex, birth_date, relation, health, labour FROM members "
                  "WHERE household_id = ?1 AND deleted = 0 ORDER BY position, id", id, add_member, h->members, error) ||
      !read_rows (db,
                  "SELECT id, form_id, author, ended_at, risk_level FROM submissions WHERE household_id = ?1 "
                  "ORDER BY ended_at DESC, id DESC LIMIT " G_STRINGIFY (HEARTH_HOUSEHOLD_MAX_VISITS),
                  id, add_visit, h->visits, error) ||
      !read_rows (db,
                  "SELECT id, kind, due_date, reason, status, assignee FROM tasks "
                  "WHERE household_id = ?1 AND status = 'open' ORDER BY due_date, id", id, add_task, h->tasks, error) ||
      !read_rows (db,
                  "SELECT id, kind, due_date, reason, status, assignee FROM tasks "
                  "WHERE household_id = ?1 AND status <> 'open' ORDER BY updated_at DESC, id DESC "
                  "LIMIT " G_STRINGIFY (HEARTH_HOUSEHOLD_MAX_CLOSED_TASKS), id, add_task, h->tasks, error) ||
      !read_rows (db,
                  "SELECT at, actor, role, from_state, to_state, comment FROM reviews WHERE household_id = ?1 "
                  "ORDER BY at DESC, rowid DESC LIMIT " G_STRINGIFY (HEARTH_HOUSEHOLD_MAX_REVIEWS),
                  id, add_review, h->reviews, error))
    return NULL;
  return g_steal_pointer (&h);
}

HearthHousehold *
hearth_case_household_read (sqlite3 *db, const char *household_id, GError **error)
{
  HearthHousehold *h;
  gboolean own_transaction;

  g_return_val_if_fail (db != NULL, NULL);
  g_return_val_if_fail (household_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* One snapshot for all five reads: a sync applied between them must not
   * show a visit whose risk level the household does not have yet. */
  own_transaction = sqlite3_get_autocommit (db);
  if (own_transaction && sqlite3_exec (db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
    return sql_failed (db, error), NULL;
  h = read_household (db, household_id, error);
  if (own_transaction)
    sqlite3_exec (db, "COMMIT", NULL, NULL, NULL);
  return h;
}

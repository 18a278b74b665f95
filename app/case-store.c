/* SPDX-License-Identifier: GPL-3.0-or-later */
/* case-store.c: writes of the case model and recording forms (case-store.h). */
#define G_LOG_DOMAIN "hearth-case"

#include "case-store.h"
#include "record-id.h"
#include "case-audit.h"
#include "case-labels.h"
#include "case-registry.h"
#include "store-packed.h"
#include "hlc.h"
#include "sync-store.h"
#include "sync-store-private.h"

#include <glib/gi18n.h>
#include <libxml/parser.h>
#include <string.h>

G_DEFINE_QUARK (hearth-case-error-quark, hearth_case_error)

struct _HearthCaseStore {
  GObject parent_instance;
  HearthStore *store;
  sqlite3 *db;
  char *actor;
  char *device_id;
  HearthHlcClock *clock;
  gint64 (*now_ms) (gpointer data);
  gpointer now_data;
  HearthSyncCapture *capture;
  struct _AuditAction *action;  /* the user action being written, or NULL */
  GHashTable *statements;       /* SQL text → sqlite3_stmt, the write path's */
  HearthAuditWriter *audit;     /* the audit log's, its statements kept too */
};

G_DEFINE_FINAL_TYPE (HearthCaseStore, hearth_case_store, G_TYPE_OBJECT)

/* The columns each table takes from callers; the rest (ids, times,
 * versions, the workflow state, tombstones) the case model owns. */
static const char *const household_columns[] = {
  "registry_no", "village_code", "address", "head_name", "head_id_number", "category", "phone", "location",
  "member_count", "per_capita_income", "risk_level", "risk_types", "last_visit_date", "next_visit_date", NULL,
};
static const char *const household_owned[] = {
  "risk_submission", "monitoring_status", "eliminated_on", "entity_version", "deleted", NULL,
};
static const char *const member_columns[] = {
  "household_id", "position", "name", "id_number", "sex", "birth_date", "relation", "ethnicity", "phone",
  "education", "school_status", "health", "disability_cert_year", "labour", "months_worked", "work_place",
  "insurance", "benefits", NULL,
};
static const char *const member_owned[] = { "deleted", NULL };
static const char *const task_columns[] = {
  "household_id", "kind", "due_date", "reason", "status", "assignee", "opened_by", "closed_by", NULL,
};
static const char *const no_columns[] = { NULL };
/* Measures are written only by their own functions, which check the role,
 * the type and the dates: hearth_case_write() writes none of their fields. */
static const char *const measure_owned[] = {
  "household_id", "type", "description", "started_on", "ended_on", "status", "created_by", "last_progress",
  "last_effect", "last_remark", "progress_on", "progress_submission", NULL,
};

static gboolean
table_columns (const char *table, const char *const **columns, const char *const **owned)
{
  if (g_strcmp0 (table, "households") == 0)
    *columns = household_columns, *owned = household_owned;
  else if (g_strcmp0 (table, "members") == 0)
    *columns = member_columns, *owned = member_owned;
  else if (g_strcmp0 (table, "tasks") == 0)
    *columns = task_columns, *owned = no_columns;
  else if (g_strcmp0 (table, "measures") == 0)
    *columns = no_columns, *owned = measure_owned;
  else
    return FALSE;
  return TRUE;
}

static gboolean
sql_failed (HearthCaseStore *self, GError **error)
{
  int code = sqlite3_extended_errcode (self->db);

  g_set_error (error, HEARTH_CASE_ERROR,
               (code & 0xff) == SQLITE_CONSTRAINT ? HEARTH_CASE_ERROR_INVALID : HEARTH_CASE_ERROR_SQLITE,
               _("the case store refused a change: %s"), sqlite3_errmsg (self->db));
  return FALSE;
}

static gboolean
exec (HearthCaseStore *self, const char *sql, GError **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return sql_failed (self, error);
  return TRUE;
}

/* A write transaction: BEGIN IMMEDIATE when none is open, else a savepoint
 * inside the caller's (HearthSyncTx). A deferred transaction that reads
 * first fails at once with SQLITE_BUSY when another connection (a sync
 * running in the background) committed meanwhile; an immediate one waits
 * for the write lock up front, within the busy timeout. */
static gboolean
write_begin (HearthCaseStore *self, HearthSyncTx *tx, const char *name, GError **error)
{
  if (hearth_sync_tx_begin (tx, self->db, name, NULL))
    return TRUE;
  return sql_failed (self, error);
}

static gboolean
write_commit (HearthCaseStore *self, HearthSyncTx *tx, GError **error)
{
  g_autofree char *sql = tx->outer ? g_strdup ("COMMIT") : g_strdup_printf ("RELEASE %s", tx->name);

  return exec (self, sql, error);
}

/* The write path's statements, prepared once per case store: preparing
 * cost more than running them (a visit runs some 60). Only statements
 * stepped to the end or to their one row at once are kept, so a kept one
 * is never in use twice. The distinct texts are few (a table's column
 * sets); past STATEMENTS_KEPT they are all let go and prepared anew. */
#define STATEMENTS_KEPT 256

static int
prepare_kept (HearthCaseStore *self, const char *sql, sqlite3_stmt **st)
{
  int rc;

  *st = g_hash_table_lookup (self->statements, sql);
  if (*st != NULL)
    return SQLITE_OK;
  if (g_hash_table_size (self->statements) >= STATEMENTS_KEPT)
    g_hash_table_remove_all (self->statements);
  rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
  if (rc == SQLITE_OK)
    g_hash_table_insert (self->statements, g_strdup (sql), *st);
  return rc;
}

static void
finalize_statement (gpointer st)
{
  sqlite3_finalize (st);
}

/* Done with a kept statement: reset, its bindings (which may point to
 * freed text) cleared. */
static void
release (sqlite3_stmt *st)
{
  if (st == NULL)
    return;
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
}

static char *
meta_get (sqlite3 *db, const char *key)
{
  sqlite3_stmt *st = NULL;
  char *value = NULL;

  if (sqlite3_prepare_v2 (db, "SELECT value FROM store_meta WHERE key = ?", -1, &st, NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
      if (sqlite3_step (st) == SQLITE_ROW)
        value = g_strdup ((const char *) sqlite3_column_text (st, 0));
    }
  sqlite3_finalize (st);
  return value;
}

static gboolean
meta_set (HearthCaseStore *self, const char *key, const char *value, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  if (prepare_kept (self, "INSERT INTO store_meta (key, value) VALUES (?, ?) "
                          "ON CONFLICT (key) DO UPDATE SET value = excluded.value", &st) != SQLITE_OK)
    return sql_failed (self, error);
  sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, value, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  release (st);
  return rc == SQLITE_DONE || sql_failed (self, error);
}

/* The clock's last stamp as this store keeps it (NULL: none yet). */
static char *
hlc_last (HearthCaseStore *self)
{
  sqlite3_stmt *st = NULL;
  char *value = NULL;

  if (prepare_kept (self, "SELECT value FROM store_meta WHERE key = 'hlc_last'", &st) == SQLITE_OK &&
      sqlite3_step (st) == SQLITE_ROW)
    value = g_strdup ((const char *) sqlite3_column_text (st, 0));
  release (st);
  return value;
}

static gint64
wall_ms (HearthCaseStore *self)
{
  return self->now_ms != NULL ? self->now_ms (self->now_data) : g_get_real_time () / 1000;
}

static gint64
clock_wall (gpointer data)
{
  return wall_ms (data);
}

/* Now, in UTC, for created_at, updated_at and the like. */
static char *
now_iso (HearthCaseStore *self)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (wall_ms (self) / 1000);
  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

/* A new clock stamp; @last: (inout): the stamp this store kept last, as
 * read from store_meta before the first stamp of a write and as issued
 * since (the caller keeps the newest with meta_set() before the write
 * ends, so the clock resumes after a restart). Receiving the kept stamp
 * before each new one, as a stamp read back each time would be, gives
 * the very versions a write stamping one field at a time gave. */
static char *
stamp_next (HearthCaseStore *self, HearthHlc *last, gboolean *have_last)
{
  HearthHlc t;

  /* Another case store of this store (another process or actor) may have
   * issued times since: a version names one edit, never two. */
  if (*have_last)
    hearth_hlc_clock_receive (self->clock, last, 0, NULL, NULL);
  hearth_hlc_clock_now (self->clock, &t);
  *last = t;
  *have_last = TRUE;
  return hearth_hlc_to_string (&t);
}

static void
stamp_start (HearthCaseStore *self, HearthHlc *last, gboolean *have_last)
{
  g_autofree char *stored = hlc_last (self);

  *have_last = stored != NULL && hearth_hlc_parse (stored, last, NULL);
}

/* One clock stamp, kept so the clock resumes after a restart. */
static char *
stamp (HearthCaseStore *self, GError **error)
{
  HearthHlc last;
  gboolean have_last;
  char *text;

  stamp_start (self, &last, &have_last);
  text = stamp_next (self, &last, &have_last);
  if (!meta_set (self, "hlc_last", text, error))
    g_clear_pointer (&text, g_free);
  return text;
}

void
hearth_case_store_set_wall_clock (HearthCaseStore *self, gint64 (*now_ms) (gpointer data), gpointer data)
{
  self->now_ms = now_ms;
  self->now_data = data;
}

const char *
hearth_case_store_get_device_id (HearthCaseStore *self)
{
  return self->device_id;
}

static void
hearth_case_store_finalize (GObject *object)
{
  HearthCaseStore *self = HEARTH_CASE_STORE (object);

  /* The statements go before the connection can: a connection with a
   * statement left open does not close. */
  g_clear_pointer (&self->statements, g_hash_table_unref);
  g_clear_pointer (&self->audit, hearth_audit_writer_free);
  g_clear_pointer (&self->capture, hearth_sync_capture_free);
  g_clear_object (&self->store);
  g_free (self->actor);
  g_free (self->device_id);
  hearth_hlc_clock_free (self->clock);
  G_OBJECT_CLASS (hearth_case_store_parent_class)->finalize (object);
}

static void
hearth_case_store_class_init (HearthCaseStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hearth_case_store_finalize;
}

static void
hearth_case_store_init (HearthCaseStore *self)
{
  self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, finalize_statement);
}

HearthCaseStore *
hearth_case_store_new (HearthStore *store, const char *actor, GError **error)
{
  g_autoptr(HearthCaseStore) self = NULL;
  g_autofree char *last = NULL;

  if (actor == NULL || actor[0] == '\0' || strpbrk (actor, "\r\n") != NULL)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID, _("a change needs the name of who makes it"));
      return NULL;
    }
  self = g_object_new (HEARTH_TYPE_CASE_STORE, NULL);
  self->store = g_object_ref (store);
  self->db = hearth_store_get_db (store);
  self->audit = hearth_audit_writer_new (self->db);
  self->actor = g_strdup (actor);
  self->device_id = meta_get (self->db, "device_id");
  if (self->device_id == NULL)
    {
      self->device_id = g_uuid_string_random ();
      if (!meta_set (self, "device_id", self->device_id, error))
        return NULL;
    }
  last = meta_get (self->db, "hlc_last");
  self->clock = hearth_hlc_clock_new (self->device_id, last, NULL);
  if (self->clock == NULL)  /* a damaged stamp: start afresh, never earlier than the wall clock */
    self->clock = hearth_hlc_clock_new (self->device_id, NULL, NULL);
  hearth_hlc_clock_set_wall (self->clock, clock_wall, self);
  /* A store used before sync: its data enters the outbox before any new
   * change does. */
  self->capture = hearth_sync_capture_new (self->db, self->device_id, error);
  if (self->capture == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

sqlite3 *
hearth_case_store_get_db (HearthCaseStore *self)
{
  return self->db;
}

gint64
hearth_case_store_now_ms (HearthCaseStore *self)
{
  return wall_ms (self);
}

gboolean
hearth_case_store_receive_hlc (HearthCaseStore *self, const char *hlc, GError **error)
{
  HearthHlc remote, now;
  g_autofree char *text = NULL;

  if (!hearth_hlc_parse (hlc, &remote, error))
    return FALSE;
  /* No bound here: a tablet whose clock runs behind must still follow what
   * it receives; the sync store refuses a version far ahead of the
   * center's time before it gets here (HEARTH_SYNC_MAX_AHEAD_MS). */
  if (!hearth_hlc_clock_receive (self->clock, &remote, 0, &now, error))
    return FALSE;
  text = hearth_hlc_to_string (&now);
  return meta_set (self, "hlc_last", text, error);
}

/* ---- one audit entry per user action ------------------------------------ */

/* One record an action wrote and the fields it wrote of it, in the order
 * first written. */
typedef struct {
  char *table;
  char *id;
  GPtrArray *fields;  /* (element-type utf8) */
} ActionRecord;

static void
action_record_free (ActionRecord *r)
{
  g_free (r->table);
  g_free (r->id);
  g_ptr_array_unref (r->fields);
  g_free (r);
}

/* A user action (a public operation of the case store) being written: the
 * writes it makes note their records here, and its transaction ends with
 * one audit entry naming them all (case-audit.h, HearthAuditEntry). An
 * operation started inside another's action (a nested call) adds to the
 * outer one, and its failure is the outer one's: what it noted stays
 * noted, so the outer action must not go on to commit. No operation
 * nests another today. */
typedef struct _AuditAction {
  HearthSyncTx tx;
  const char *action;
  char *table;  /* the entry's own record */
  char *id;
  char *at;
  GPtrArray *records;  /* (element-type ActionRecord) */
  struct _AuditAction *outer;
} AuditAction;

static gboolean
action_begin (HearthCaseStore *self, AuditAction *act, const char *action, const char *table, const char *id,
              GError **error)
{
  memset (act, 0, sizeof *act);
  if (!write_begin (self, &act->tx, "case_action", error))
    return FALSE;
  act->outer = self->action;
  if (act->outer == NULL)
    {
      act->action = action;
      act->table = g_strdup (table);
      act->id = g_strdup (id);
      act->at = now_iso (self);
      act->records = g_ptr_array_new_with_free_func ((GDestroyNotify) action_record_free);
      self->action = act;
    }
  return TRUE;
}

/* Names the entry's own record when the action learns it only once
 * begun (a conflict's record is read in its transaction). */
static void
action_set_record (AuditAction *act, const char *table, const char *id)
{
  if (act->outer != NULL)
    return;
  g_free (act->table);
  g_free (act->id);
  act->table = g_strdup (table);
  act->id = g_strdup (id);
}

/* Notes that the action being written wrote @fields of a record. */
static void
action_note (HearthCaseStore *self, const char *table, const char *id, const char *const *fields, guint n_fields)
{
  AuditAction *act = self->action;
  ActionRecord *r = NULL;

  g_return_if_fail (act != NULL);
  for (guint i = 0; i < act->records->len && r == NULL; i++)
    {
      ActionRecord *c = act->records->pdata[i];
      if (g_str_equal (c->table, table) && g_str_equal (c->id, id))
        r = c;
    }
  if (r == NULL)
    {
      r = g_new0 (ActionRecord, 1);
      r->table = g_strdup (table);
      r->id = g_strdup (id);
      r->fields = g_ptr_array_new_with_free_func (g_free);
      /* The entry's own record comes first. */
      if (g_str_equal (table, act->table) && g_str_equal (id, act->id))
        g_ptr_array_insert (act->records, 0, r);
      else
        g_ptr_array_add (act->records, r);
    }
  for (guint i = 0; i < n_fields; i++)
    if (!g_ptr_array_find_with_equal_func (r->fields, fields[i], g_str_equal, NULL))
      g_ptr_array_add (r->fields, g_strdup (fields[i]));
}

static gboolean
action_append (HearthCaseStore *self, AuditAction *act, const char *fields, GError **error)
{
  HearthAuditEntry entry = { .at = act->at, .actor = self->actor, .device_id = self->device_id,
                             .action = act->action, .record_table = act->table, .record_id = act->id,
                             .fields = fields };
  return hearth_audit_writer_append (self->audit, &entry, NULL, error);
}

/* The action's entry, or entries: one as long as its records fit in
 * HEARTH_AUDIT_MAX_FIELDS_TEXT bytes, then more with the same action and
 * record, never a record's part split. Nothing when nothing was written. */
static gboolean
action_write_entries (HearthCaseStore *self, AuditAction *act, GError **error)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GString) token = g_string_new (NULL);

  for (guint i = 0; i < act->records->len; i++)
    {
      ActionRecord *r = act->records->pdata[i];
      gboolean own = g_str_equal (r->table, act->table) && g_str_equal (r->id, act->id);

      g_string_truncate (token, 0);
      if (own)
        for (guint k = 0; k < r->fields->len; k++)
          g_string_append_printf (token, "%s%s", k > 0 ? " " : "", (char *) r->fields->pdata[k]);
      else
        {
          g_string_append_printf (token, "%s/%s:", r->table, r->id);
          for (guint k = 0; k < r->fields->len; k++)
            g_string_append_printf (token, "%s%s", k > 0 ? "," : "", (char *) r->fields->pdata[k]);
        }
      if (token->len == 0)
        continue;
      if (text->len > 0 && text->len + 1 + token->len > HEARTH_AUDIT_MAX_FIELDS_TEXT)
        {
          if (!action_append (self, act, text->str, error))
            return FALSE;
          g_string_truncate (text, 0);
        }
      if (text->len > 0)
        g_string_append_c (text, ' ');
      g_string_append_len (text, token->str, (gssize) token->len);
    }
  if (text->len == 0 && act->records->len == 0)
    return TRUE;
  return action_append (self, act, text->str, error);
}

static void
action_clear (HearthCaseStore *self, AuditAction *act)
{
  if (act->outer == NULL)
    {
      if (self->action == act)
        self->action = NULL;
      g_free (act->table);
      g_free (act->id);
      g_free (act->at);
      g_clear_pointer (&act->records, g_ptr_array_unref);
    }
}

/* Ends the action: its entry, then its transaction's commit; on failure
 * everything it wrote is rolled back. */
static gboolean
action_commit (HearthCaseStore *self, AuditAction *act, GError **error)
{
  gboolean ok = act->outer != NULL || action_write_entries (self, act, error);

  ok = ok && write_commit (self, &act->tx, error);
  if (!ok)
    hearth_sync_tx_rollback (&act->tx);
  action_clear (self, act);
  return ok;
}

static void
action_abort (HearthCaseStore *self, AuditAction *act)
{
  hearth_sync_tx_rollback (&act->tx);
  action_clear (self, act);
}

/* ---- writes ------------------------------------------------------------- */

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Writes @fields of a record, stamping and capturing only what changed,
 * and notes the fields in the user action being written (its audit
 * entry); outside one, the write is an action of its own named @action.
 * @next_version, when given (a household's visit), is written to
 * entity_version in the same write if anything else changed. Inside an
 * action a failure leaves what it wrote to the action's rollback. */
static gboolean
write_record_full (HearthCaseStore *self, const char *table, const char *id, gboolean create, GHashTable *fields,
                   const char *action, gboolean owned_allowed, const char *next_version, guint *changed_out,
                   GError **error)
{
  const char *const *columns, *const *owned;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GPtrArray) changed = g_ptr_array_new ();
  g_autoptr(GString) sql = g_string_new (NULL);
  g_autofree char *now = now_iso (self);
  GHashTableIter it;
  const char *name, *value;
  sqlite3_stmt *st = NULL;
  int rc;

  if (changed_out != NULL)
    *changed_out = 0;
  if (!table_columns (table, &columns, &owned))
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID, _("the case model has no table \"%s\""), table);
      return FALSE;
    }
  if (id == NULL || !g_uuid_string_is_valid (id))
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID, _("\"%s\" is not a record id (a UUID)"),
                   id != NULL ? id : "");
      return FALSE;
    }
  g_hash_table_iter_init (&it, fields);
  while (g_hash_table_iter_next (&it, (gpointer *) &name, (gpointer *) &value))
    {
      if (!g_strv_contains (columns, name) && !(owned_allowed && g_strv_contains (owned, name)))
        {
          g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                       _("%s has no field \"%s\" that can be written"), table, name);
          return FALSE;
        }
      if (value == NULL || !g_utf8_validate (value, -1, NULL) || strlen (value) > 64 * 1024)
        {
          g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                       _("%s.%s: the value is not text of at most 64 KiB"), table, name);
          return FALSE;
        }
      g_ptr_array_add (names, (gpointer) name);
    }
  g_ptr_array_sort (names, compare_names);

  if (self->action == NULL)
    {
      AuditAction act;

      if (!action_begin (self, &act, action, table, id, error))
        return FALSE;
      if (!write_record_full (self, table, id, create, fields, action, owned_allowed, next_version, changed_out,
                              error))
        {
          action_abort (self, &act);
          return FALSE;
        }
      return action_commit (self, &act, error);
    }

  if (create)
    {
      g_string_printf (sql, "INSERT INTO %s (id, created_at, updated_at", table);
      for (guint i = 0; i < names->len; i++)
        g_string_append_printf (sql, ", %s", (char *) names->pdata[i]);
      g_string_append (sql, ") VALUES (?, ?, ?");
      for (guint i = 0; i < names->len; i++)
        g_string_append (sql, ", ?");
      g_string_append (sql, ")");
      if (prepare_kept (self, sql->str, &st) != SQLITE_OK)
        goto failed;
      sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 2, now, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 3, now, -1, SQLITE_STATIC);
      for (guint i = 0; i < names->len; i++)
        sqlite3_bind_text (st, (int) i + 4, g_hash_table_lookup (fields, names->pdata[i]), -1, SQLITE_STATIC);
      rc = sqlite3_step (st);
      release (st);
      st = NULL;
      if (rc != SQLITE_DONE)
        goto failed;
      g_ptr_array_extend (changed, names, NULL, NULL);
    }
  else
    {
      /* Only what changes is written, stamped and audited. */
      g_string_printf (sql, "SELECT id");
      for (guint i = 0; i < names->len; i++)
        g_string_append_printf (sql, ", %s", (char *) names->pdata[i]);
      g_string_append_printf (sql, " FROM %s WHERE id = ?", table);
      if (prepare_kept (self, sql->str, &st) != SQLITE_OK)
        goto failed;
      sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
      rc = sqlite3_step (st);
      if (rc != SQLITE_ROW)
        {
          release (st);
          if (rc != SQLITE_DONE)
            return sql_failed (self, error);
          g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND, _("%s has no record %s"), table, id);
          return FALSE;
        }
      for (guint i = 0; i < names->len; i++)
        {
          const char *old = (const char *) sqlite3_column_text (st, (int) i + 1);
          if (g_strcmp0 (old != NULL ? old : "", g_hash_table_lookup (fields, names->pdata[i])) != 0)
            g_ptr_array_add (changed, names->pdata[i]);
        }
      release (st);
      st = NULL;
      if (next_version != NULL && changed->len > 0 && !g_hash_table_contains (fields, "entity_version"))
        {
          g_hash_table_insert (fields, g_strdup ("entity_version"), g_strdup (next_version));
          g_ptr_array_add (changed, (gpointer) "entity_version");
          g_ptr_array_sort (changed, compare_names);
        }
      if (changed->len > 0)
        {
          g_string_printf (sql, "UPDATE %s SET updated_at = ?", table);
          for (guint i = 0; i < changed->len; i++)
            g_string_append_printf (sql, ", %s = ?", (char *) changed->pdata[i]);
          g_string_append (sql, " WHERE id = ?");
          if (prepare_kept (self, sql->str, &st) != SQLITE_OK)
            goto failed;
          sqlite3_bind_text (st, 1, now, -1, SQLITE_STATIC);
          for (guint i = 0; i < changed->len; i++)
            sqlite3_bind_text (st, (int) i + 2, g_hash_table_lookup (fields, changed->pdata[i]), -1, SQLITE_STATIC);
          sqlite3_bind_text (st, (int) changed->len + 2, id, -1, SQLITE_STATIC);
          rc = sqlite3_step (st);
          release (st);
          st = NULL;
          if (rc != SQLITE_DONE)
            goto failed;
        }
    }

  if (changed->len > 0)
    {
      HearthHlc last;
      gboolean have_last;
      g_autofree char *hlc = NULL;
      g_autoptr(GPtrArray) order = g_ptr_array_sized_new (changed->len);
      const char *alone = NULL;
      guint in_version = 0;

      /* One version for the fields this write changes (PROTOCOL.md 6.1:
       * the write travels as one change of kind "edits", which the center
       * takes or refuses whole), a new one after every
       * HEARTH_CHANGE_MAX_FIELDS fields, as many as one change holds. A
       * household's registry number has a version of its own, last: the
       * center refuses a number another household holds (section 7.2),
       * and that must not refuse the rest of the write (a registration's
       * household with it). The clock's stamp is kept once a write. */
      for (guint i = 0; i < changed->len; i++)
        if (g_str_equal (table, "households") && g_str_equal (changed->pdata[i], "registry_no"))
          alone = changed->pdata[i];
        else
          g_ptr_array_add (order, changed->pdata[i]);
      if (alone != NULL)
        g_ptr_array_add (order, (gpointer) alone);
      stamp_start (self, &last, &have_last);
      for (guint i = 0; i < order->len; i++)
        {
          const char *field = order->pdata[i];

          if (hlc == NULL || in_version == HEARTH_CHANGE_MAX_FIELDS || field == alone)
            {
              g_free (hlc);
              hlc = stamp_next (self, &last, &have_last);
              in_version = 0;
            }
          in_version++;

          /* The field's version in its record's row, the one it
           * replaces its base, the row updated when it is there, else
           * inserted (record_versions is keyed by hearth_edit_key(),
           * migration 0013: no primary key to upsert on). */
          for (guint step = 0; step < 2; step++)
            {
              if (prepare_kept (self,
                                step == 0
                                ? "UPDATE record_versions SET versions = hearth_set_field_version (versions, ?3, ?4, "
                                  "hearth_field_version (versions, ?3)) WHERE rkey = hearth_edit_key (?1, ?2, NULL) "
                                  "AND record_table = ?1 AND record_id = ?2"
                                : "INSERT INTO record_versions (record_table, record_id, versions) "
                                  "VALUES (?1, ?2, hearth_set_field_version (NULL, ?3, ?4, NULL))", &st) != SQLITE_OK)
                goto failed;
              sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
              sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
              sqlite3_bind_text (st, 3, field, -1, SQLITE_STATIC);
              sqlite3_bind_text (st, 4, hlc, -1, SQLITE_STATIC);
              rc = sqlite3_step (st);
              release (st);
              st = NULL;
              if (rc != SQLITE_DONE)
                goto failed;
              if (sqlite3_changes (self->db) > 0)
                break;
            }
          if (!hearth_sync_capture_edit (self->capture, table, id, field, g_hash_table_lookup (fields, field), now,
                                         error))
            goto rollback;
        }
      if (!meta_set (self, "hlc_last", hlc, error))
        goto rollback;
      action_note (self, table, id, (const char *const *) changed->pdata, changed->len);
    }
  if (changed_out != NULL)
    *changed_out = changed->len;
  return TRUE;

failed:
  sql_failed (self, error);
rollback:
  release (st);
  return FALSE;
}

static gboolean
write_record (HearthCaseStore *self, const char *table, const char *id, gboolean create, GHashTable *fields,
              const char *action, gboolean owned_allowed, guint *changed_out, GError **error)
{
  return write_record_full (self, table, id, create, fields, action, owned_allowed, NULL, changed_out, error);
}

gboolean
hearth_case_write (HearthCaseStore *self, const char *table, const char *id, gboolean create, GHashTable *fields,
                   const char *action, guint *changed, GError **error)
{
  g_return_val_if_fail (HEARTH_IS_CASE_STORE (self), FALSE);
  return write_record (self, table, id, create, fields, action, FALSE, changed, error);
}

/* ---- recording a finalised form ------------------------------------------ */

static xmlNode *
child_named (xmlNode *parent, const char *name)
{
  for (xmlNode *c = parent != NULL ? parent->children : NULL; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE && xmlStrEqual (c->name, (const xmlChar *) name))
      return c;
  return NULL;
}

static char *
text_of (xmlNode *n)
{
  xmlChar *c = n != NULL ? xmlNodeGetContent (n) : NULL;
  char *s = g_strdup (c != NULL ? (const char *) c : "");

  xmlFree (c);
  return s;
}

/* The node an absolute bind nodeset names in a submission (first match;
 * repeats are not saved to the entity), or NULL when it was left out
 * (non-relevant). */
static xmlNode *
node_at (xmlDoc *doc, const char *nodeset)
{
  g_auto(GStrv) parts = g_strsplit (nodeset, "/", -1);
  xmlNode *n = xmlDocGetRootElement (doc);
  guint i = 0;

  while (parts[i] != NULL && parts[i][0] == '\0')
    i++;
  if (parts[i] == NULL || n == NULL)
    return NULL;
  {
    const char *colon = strchr (parts[i], ':');
    if (!xmlStrEqual (n->name, (const xmlChar *) (colon != NULL ? colon + 1 : parts[i])))
      return NULL;
  }
  for (i++; parts[i] != NULL && n != NULL; i++)
    {
      const char *colon = strchr (parts[i], ':');
      n = child_named (n, colon != NULL ? colon + 1 : parts[i]);
    }
  return n;
}

/* The first element of this name anywhere in the submission. */
static xmlNode *
find_element (xmlNode *n, const char *name)
{
  for (xmlNode *c = n; c != NULL; c = c->next)
    {
      xmlNode *found;

      if (c->type != XML_ELEMENT_NODE)
        continue;
      if (xmlStrEqual (c->name, (const xmlChar *) name))
        return c;
      if ((found = find_element (c->children, name)) != NULL)
        return found;
    }
  return NULL;
}

static char *
attribute (xmlNode *n, const char *name)
{
  xmlChar *v = n != NULL ? xmlGetProp (n, (const xmlChar *) name) : NULL;
  char *s = v != NULL ? g_strdup ((const char *) v) : NULL;

  xmlFree (v);
  return s;
}

static GHashTable *
fields_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/* One column of the household's current row. */
static char *
household_value (HearthCaseStore *self, const char *id, const char *column)
{
  g_autofree char *sql = g_strdup_printf ("SELECT %s FROM households WHERE id = ? AND deleted = 0", column);
  sqlite3_stmt *st = NULL;
  char *value = NULL;

  if (prepare_kept (self, sql, &st) == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
      if (sqlite3_step (st) == SQLITE_ROW)
        value = g_strdup (sqlite3_column_text (st, 0) != NULL ? (const char *) sqlite3_column_text (st, 0) : "");
    }
  release (st);
  return value;
}

/* Whether submission @id is recorded, and *@same whether with @xml; a
 * damaged stored copy sets @damaged (naming it) and is not the same. */
static gboolean
submission_exists (HearthCaseStore *self, const char *id, const char *xml, gboolean *same, GError **damaged)
{
  sqlite3_stmt *st = NULL;
  gboolean exists = FALSE;

  if (prepare_kept (self, "SELECT instance_xml FROM submissions WHERE id = ?", &st) == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
      if (sqlite3_step (st) == SQLITE_ROW)
        {
          g_autofree char *stored = hearth_packed_column_text (st, 0, "submissions", id, damaged);

          exists = TRUE;
          *same = stored != NULL && g_strcmp0 (stored, xml) == 0;
        }
    }
  release (st);
  return exists;
}

/* Members of a registration: each instance of the repeat /ROOT/members,
 * its elements named as the members table's columns. */
static gboolean
record_members (HearthCaseStore *self, xmlNode *root, const char *household_id, GError **error)
{
  guint position = 0;

  for (xmlNode *m = root->children; m != NULL; m = m->next)
    {
      g_autoptr(GHashTable) fields = NULL;
      g_autofree char *id = NULL;

      if (m->type != XML_ELEMENT_NODE || !xmlStrEqual (m->name, (const xmlChar *) "members"))
        continue;
      fields = fields_new ();
      id = hearth_record_id_new ();
      g_hash_table_insert (fields, g_strdup ("household_id"), g_strdup (household_id));
      g_hash_table_insert (fields, g_strdup ("position"), g_strdup_printf ("%u", ++position));
      for (xmlNode *c = m->children; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE && g_strv_contains (member_columns, (const char *) c->name) &&
            !xmlStrEqual (c->name, (const xmlChar *) "household_id") &&
            !xmlStrEqual (c->name, (const xmlChar *) "position"))
          {
            /* The ID number as the form normalised it, when it did. */
            xmlNode *normalised = xmlStrEqual (c->name, (const xmlChar *) "id_number")
                                  ? child_named (m, "id_normalised") : NULL;
            char *value = text_of (normalised != NULL ? normalised : c);
            g_hash_table_insert (fields, g_strdup ((const char *) c->name), value);
          }
      if (!write_record (self, "members", id, TRUE, fields, "create", FALSE, NULL, error))
        return FALSE;
    }
  return TRUE;
}

/* Marks the household's open tasks of @kind done, closed by @closed_by. */
static gboolean
close_open_tasks (HearthCaseStore *self, const char *household_id, const char *kind, const char *closed_by,
                  GError **error)
{
  g_autoptr(GPtrArray) open = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *st = NULL;

  if (sqlite3_prepare_v2 (self->db, "SELECT id FROM tasks WHERE household_id = ? AND kind = ? AND status = 'open'",
                          -1, &st, NULL) != SQLITE_OK)
    return sql_failed (self, error);
  sqlite3_bind_text (st, 1, household_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, kind, -1, SQLITE_STATIC);
  while (sqlite3_step (st) == SQLITE_ROW)
    g_ptr_array_add (open, g_strdup ((const char *) sqlite3_column_text (st, 0)));
  sqlite3_finalize (st);
  for (guint i = 0; i < open->len; i++)
    {
      g_autoptr(GHashTable) done = fields_new ();
      g_hash_table_insert (done, g_strdup ("status"), g_strdup ("done"));
      g_hash_table_insert (done, g_strdup ("closed_by"), g_strdup (closed_by));
      if (!write_record (self, "tasks", open->pdata[i], FALSE, done, "close", FALSE, NULL, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean insert_review (HearthCaseStore *self, const char *household_id, HearthRole role, const char *from,
                               const char *to, const char *comment, const char *submission, char **id_out,
                               GError **error);

/* The follow-up task: closes the household's open ones, opens one due on
 * the form's next_visit_date. */
static gboolean
record_follow_up (HearthCaseStore *self, const char *household_id, const char *submission_id,
                  const char *due, const char *risk_level, GError **error)
{
  g_autoptr(GHashTable) fields = fields_new ();
  g_autofree char *task_id = hearth_record_id_new ();

  if (!close_open_tasks (self, household_id, "follow_up", submission_id, error))
    return FALSE;
  g_hash_table_insert (fields, g_strdup ("household_id"), g_strdup (household_id));
  g_hash_table_insert (fields, g_strdup ("kind"), g_strdup ("follow_up"));
  g_hash_table_insert (fields, g_strdup ("due_date"), g_strdup (due));
  g_hash_table_insert (fields, g_strdup ("reason"),
                       g_strdup_printf ("risk_level=%s", risk_level != NULL && risk_level[0] != '\0' ? risk_level : "none"));
  g_hash_table_insert (fields, g_strdup ("assignee"), g_strdup (self->actor));
  g_hash_table_insert (fields, g_strdup ("opened_by"), g_strdup (submission_id));
  return write_record (self, "tasks", task_id, TRUE, fields, "open", FALSE, NULL, error);
}

/* A visit that finds a risk moves the household to village review
 * (../shared/INTERFACES.md: from none, returned or risk_eliminated), with
 * an immutable review record of the worker's move (sync/workflow.h). */
static gboolean
record_risk_found (HearthCaseStore *self, const char *household_id, const char *submission_id, GError **error)
{
  g_autofree char *state = household_value (self, household_id, "monitoring_status");
  g_autoptr(GHashTable) fields = fields_new ();
  const char *to = hearth_workflow_visit_move (state);

  if (to == NULL)
    return TRUE;  /* already under review or monitored: the visit is evidence, not a new case */
  g_hash_table_insert (fields, g_strdup ("monitoring_status"), g_strdup (to));
  if (!write_record (self, "households", household_id, FALSE, fields, "risk_found", TRUE, NULL, error))
    return FALSE;
  /* The revisit is the correction the clerk asked for. */
  if (g_str_equal (state, "returned") && !close_open_tasks (self, household_id, "correction", submission_id, error))
    return FALSE;
  return insert_review (self, household_id, HEARTH_ROLE_WORKER, state, to, NULL, submission_id, NULL, error);
}

static gboolean
insert_submission (HearthCaseStore *self, const HearthForm *form, xmlNode *root, const char *id,
                   const char *household_id, const char *risk_level, const char *deprecated, const char *xml,
                   GError **error)
{
  g_autofree char *now = now_iso (self);
  g_autofree char *started = text_of (child_named (root, "start"));
  g_autofree char *ended = text_of (child_named (root, "end"));
  sqlite3_stmt *st = NULL;
  int rc;

  if (prepare_kept (self, "INSERT INTO submissions (id, form_id, form_version, household_id, author, "
                          "device_id, started_at, ended_at, risk_level, deprecated_id, instance_xml, "
                          "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st) != SQLITE_OK)
    return sql_failed (self, error);
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, form->form_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, form->version != NULL ? form->version : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, household_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 5, self->actor, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 6, self->device_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 7, started, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 8, ended, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 9, risk_level != NULL ? risk_level : "", -1, SQLITE_STATIC);
  if (deprecated != NULL && deprecated[0] != '\0')
    sqlite3_bind_text (st, 10, deprecated, -1, SQLITE_STATIC);
  hearth_packed_bind (st, 11, xml);
  sqlite3_bind_text (st, 12, now, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  release (st);
  if (rc != SQLITE_DONE)
    return sql_failed (self, error);
  /* Written whole: its entry names its form (case-audit.h). */
  action_note (self, "submissions", id, (const char *const *) &form->form_id, form->form_id != NULL ? 1 : 0);
  return TRUE;
}

/* Whether ISO 8601 time @a is later than @b (as text when either does not
 * parse). */
static gboolean
later_than (const char *a, const char *b)
{
  g_autoptr(GDateTime) ta = g_date_time_new_from_iso8601 (a, NULL);
  g_autoptr(GDateTime) tb = g_date_time_new_from_iso8601 (b, NULL);

  if (ta != NULL && tb != NULL)
    return g_date_time_compare (ta, tb) > 0;
  return strcmp (a, b) > 0;
}

/* A follow-up's report on each of the household's measures (the repeat
 * /ROOT/measures/measure, by measure_id) becomes the measure's latest,
 * unless a later follow-up reported already: sync brings submissions in
 * any order. An id of no measure of this household is skipped (the form
 * was opened with another device's case). Nothing ends a measure here. */
static gboolean
record_measure_reports (HearthCaseStore *self, xmlNode *root, const char *household_id, const char *submission_id,
                        GError **error)
{
  g_autofree char *ended = text_of (child_named (root, "end"));
  g_autofree char *on = NULL;
  xmlNode *reports = child_named (root, "measures");

  if (strlen (ended) >= 10)
    on = g_strndup (ended, 10);
  else
    on = text_of (child_named (root, "today"));
  for (xmlNode *m = reports != NULL ? reports->children : NULL; m != NULL; m = m->next)
    {
      g_autofree char *measure_id = NULL;
      g_autofree char *previous = NULL;
      g_autoptr(GHashTable) fields = NULL;
      sqlite3_stmt *st = NULL;
      gboolean found = FALSE;

      if (m->type != XML_ELEMENT_NODE || !xmlStrEqual (m->name, (const xmlChar *) "measure"))
        continue;
      measure_id = text_of (child_named (m, "measure_id"));
      if (sqlite3_prepare_v2 (self->db, "SELECT s.ended_at FROM measures m LEFT JOIN submissions s "
                                        "ON s.id = m.progress_submission WHERE m.id = ? AND m.household_id = ?",
                              -1, &st, NULL) != SQLITE_OK)
        return sql_failed (self, error);
      sqlite3_bind_text (st, 1, measure_id, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 2, household_id, -1, SQLITE_STATIC);
      if (sqlite3_step (st) == SQLITE_ROW)
        {
          found = TRUE;
          if (sqlite3_column_text (st, 0) != NULL)
            previous = g_strdup ((const char *) sqlite3_column_text (st, 0));
        }
      sqlite3_finalize (st);
      if (!found)
        {
          g_debug ("submission %s reports on measure \"%s\", which household %s does not have", submission_id,
                   measure_id, household_id);
          continue;
        }
      if (previous != NULL && later_than (previous, ended))
        continue;
      fields = fields_new ();
      g_hash_table_insert (fields, g_strdup ("last_progress"), text_of (child_named (m, "progress")));
      /* Left out when not relevant (not started): no effect to report. */
      g_hash_table_insert (fields, g_strdup ("last_effect"), text_of (child_named (m, "effect")));
      g_hash_table_insert (fields, g_strdup ("last_remark"), text_of (child_named (m, "remark")));
      g_hash_table_insert (fields, g_strdup ("progress_on"), g_strdup (on));
      g_hash_table_insert (fields, g_strdup ("progress_submission"), g_strdup (submission_id));
      if (!write_record (self, "measures", measure_id, FALSE, fields, "progress", TRUE, NULL, error))
        return FALSE;
    }
  return TRUE;
}

G_GNUC_PRINTF (2, 3)
static char *
refuse (GError **error, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  g_propagate_error (error, g_error_new_valist (HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SUBMISSION, fmt, ap));
  va_end (ap);
  return NULL;
}

char *
hearth_case_record_submission (HearthCaseStore *self, const HearthForm *form, const char *xml,
                               const char *household_id, GError **error)
{
  AuditAction act;
  g_autoptr(GHashTable) saved = fields_new ();
  g_autofree char *instance_id = NULL;
  g_autofree char *form_id = NULL;
  g_autofree char *entity_id = NULL;
  g_autofree char *create = NULL;
  g_autofree char *deprecated = NULL;
  g_autofree char *household = NULL;
  g_autofree char *risk_found = NULL;
  g_autoptr(GError) damaged = NULL;
  xmlDoc *doc;
  xmlNode *root, *meta, *entity;
  gboolean same = FALSE, creating, ok = FALSE;
  const char *id;

  g_return_val_if_fail (HEARTH_IS_CASE_STORE (self), NULL);
  if (xml == NULL || strlen (xml) > HEARTH_FORM_MAX_BYTES)
    return refuse (error, _("the submission is missing or larger than %d bytes"), HEARTH_FORM_MAX_BYTES);
  doc = xmlReadMemory (xml, (int) strlen (xml), "submission.xml", "UTF-8",
                       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == NULL || xmlDocGetRootElement (doc) == NULL || doc->intSubset != NULL)
    {
      if (doc != NULL)
        xmlFreeDoc (doc);
      return refuse (error, _("the submission is not well-formed XML"));
    }
  root = xmlDocGetRootElement (doc);
  form_id = attribute (root, "id");
  meta = child_named (root, "meta");
  instance_id = text_of (child_named (meta, "instanceID"));
  entity = child_named (meta, "entity");
  entity_id = attribute (entity, "id");
  create = attribute (entity, "create");
  deprecated = text_of (child_named (meta, "deprecatedID"));
  id = g_str_has_prefix (instance_id, "uuid:") ? instance_id + 5 : instance_id;
  creating = create != NULL && (g_str_equal (create, "1") || g_str_equal (create, "true"));
  if (g_strcmp0 (form_id, form->form_id) != 0)
    {
      xmlFreeDoc (doc);
      return refuse (error, _("the submission is of form \"%s\", not of \"%s\""), form_id != NULL ? form_id : "",
                     form->form_id != NULL ? form->form_id : "");
    }
  if (!g_uuid_string_is_valid (id))
    {
      xmlFreeDoc (doc);
      return refuse (error, _("the submission has no meta/instanceID UUID"));
    }
  if (submission_exists (self, id, xml, &same, &damaged))
    {
      xmlFreeDoc (doc);
      if (same)
        return g_strdup (id);  /* recorded already: nothing changes */
      if (damaged != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&damaged));
          return NULL;
        }
      return refuse (error, _("submission %s was recorded already with other content"), id);
    }
  household = g_strdup (household_id != NULL ? household_id : entity_id);
  if (household == NULL || !g_uuid_string_is_valid (household))
    {
      xmlFreeDoc (doc);
      return refuse (error, _("the submission names no household (meta/entity/@id)"));
    }

  /* The entity properties the form saves: the case owns the workflow's. */
  for (guint i = 0; i < form->binds->len; i++)
    {
      HearthFormBind *b = form->binds->pdata[i];
      xmlNode *n;

      if (b->saveto == NULL || g_str_equal (b->saveto, "monitoring_status") || g_str_equal (b->saveto, "eliminated_on"))
        continue;
      if (!g_strv_contains (household_columns, b->saveto))
        {
          xmlFreeDoc (doc);
          return refuse (error, _("line %u: entities:saveto=\"%s\" is not a household property"), b->line, b->saveto);
        }
      n = node_at (doc, b->nodeset);
      if (n != NULL)  /* left out when not relevant: the property keeps its value */
        g_hash_table_insert (saved, g_strdup (b->saveto), text_of (n));
    }
  risk_found = text_of (find_element (root, "risk_found"));

  /* One user action: the visit's entry names the submission, the
   * household and every task, measure and review it wrote. */
  if (!action_begin (self, &act, "record", "submissions", id, error))
    {
      xmlFreeDoc (doc);
      return NULL;
    }
  if (creating)
    {
      ok = write_record (self, "households", household, TRUE, saved, "create", FALSE, NULL, error) &&
           record_members (self, root, household, error);
    }
  else
    {
      g_autofree char *exists = household_value (self, household, "id");
      if (exists == NULL)
        g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND, _("there is no household %s"), household);
      else
        {
          g_autofree char *version = household_value (self, household, "entity_version");
          g_autofree char *next_version = g_strdup_printf ("%" G_GINT64_FORMAT, g_ascii_strtoll (version, NULL, 10) + 1);

          if (g_hash_table_contains (saved, "risk_level"))
            g_hash_table_insert (saved, g_strdup ("risk_submission"), g_strdup (id));
          ok = write_record_full (self, "households", household, FALSE, saved, "update", TRUE, next_version, NULL,
                                  error);
        }
    }
  ok = ok && insert_submission (self, form, root, id, household, g_hash_table_lookup (saved, "risk_level"),
                                deprecated, xml, error);
  ok = ok && record_measure_reports (self, root, household, id, error);
  if (ok && g_hash_table_lookup (saved, "next_visit_date") != NULL &&
      ((char *) g_hash_table_lookup (saved, "next_visit_date"))[0] != '\0')
    ok = record_follow_up (self, household, id, g_hash_table_lookup (saved, "next_visit_date"),
                           g_hash_table_lookup (saved, "risk_level"), error);
  /* A visit that finds a risk, or the worker's revisit of a returned
   * case, goes (back) to village review. */
  if (ok && !creating)
    {
      g_autofree char *state = household_value (self, household, "monitoring_status");
      if (g_str_equal (risk_found, "yes") || g_strcmp0 (state, "returned") == 0)
        ok = record_risk_found (self, household, id, error);
    }
  xmlFreeDoc (doc);
  if (!ok)
    {
      action_abort (self, &act);
      return NULL;
    }
  if (!action_commit (self, &act, error))
    return NULL;
  return g_strdup (id);
}

/* ---- the monitoring workflow ---------------------------------------------- */

static gboolean
has_text (const char *s)
{
  for (; s != NULL && *s != '\0'; s++)
    if (!g_ascii_isspace (*s))
      return TRUE;
  return FALSE;
}

static gboolean decides_measures (HearthRole role, GError **error);
static gboolean check_measure (HearthCaseStore *self, const HearthMeasureSpec *spec, char **started_on,
                               GError **error);
static gboolean insert_measure (HearthCaseStore *self, const char *household_id, const HearthMeasureSpec *spec,
                                const char *started_on, const char *created_by, char **id_out, GError **error);

/* Whether the clerk approved the elimination since it was proposed. */
static gboolean
clerk_approved_elimination (HearthCaseStore *self, const char *household_id)
{
  sqlite3_stmt *st = NULL;
  gboolean approved = FALSE;

  if (sqlite3_prepare_v2 (self->db,
                          "SELECT role FROM reviews WHERE household_id = ? AND to_state = 'pending_elimination' "
                          "ORDER BY at DESC, rowid DESC LIMIT 1", -1, &st, NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, household_id, -1, SQLITE_STATIC);
      approved = sqlite3_step (st) == SQLITE_ROW && g_strcmp0 ((const char *) sqlite3_column_text (st, 0), "clerk") == 0;
    }
  sqlite3_finalize (st);
  return approved;
}

static gboolean
insert_review (HearthCaseStore *self, const char *household_id, HearthRole role, const char *from,
               const char *to, const char *comment, const char *submission, char **id_out, GError **error)
{
  g_autofree char *id = hearth_record_id_new ();
  g_autofree char *now = now_iso (self);
  sqlite3_stmt *st = NULL;
  int rc;

  if (prepare_kept (self, "INSERT INTO reviews (id, household_id, submission_id, actor, role, at, "
                          "from_state, to_state, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &st) != SQLITE_OK)
    return sql_failed (self, error);
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, household_id, -1, SQLITE_STATIC);
  if (submission != NULL && submission[0] != '\0')
    sqlite3_bind_text (st, 3, submission, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, self->actor, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 5, hearth_role_name (role), -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 6, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 7, from, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 8, to, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 9, comment != NULL ? comment : "", -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  release (st);
  if (rc != SQLITE_DONE)
    return sql_failed (self, error);
  {
    static const char *const written[] = { "from_state", "to_state", "comment" };
    action_note (self, "reviews", id, written, G_N_ELEMENTS (written));
  }
  if (id_out != NULL)
    *id_out = g_steal_pointer (&id);
  return TRUE;
}

/* The author of the visit that raised the case: the correction is theirs. */
static char *
visit_author (HearthCaseStore *self, const char *household_id)
{
  sqlite3_stmt *st = NULL;
  char *author = NULL;

  if (sqlite3_prepare_v2 (self->db, "SELECT s.author FROM households h JOIN submissions s ON s.id = h.risk_submission "
                                    "WHERE h.id = ?", -1, &st, NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, household_id, -1, SQLITE_STATIC);
      if (sqlite3_step (st) == SQLITE_ROW)
        author = g_strdup ((const char *) sqlite3_column_text (st, 0));
    }
  sqlite3_finalize (st);
  return author;
}

gboolean
hearth_case_transition_with_measures (HearthCaseStore *self, const char *household_id, HearthRole role,
                                      const char *action, const char *comment, const HearthMeasureSpec *measures,
                                      guint n_measures, char **new_state, GError **error)
{
  AuditAction act;
  g_autofree char *state = NULL;
  g_autofree char *review_id = NULL;
  g_autoptr(GHashTable) fields = fields_new ();
  g_autoptr(GPtrArray) started = g_ptr_array_new_with_free_func (g_free);
  const char *to = NULL;
  gboolean ok;

  g_return_val_if_fail (HEARTH_IS_CASE_STORE (self), FALSE);
  g_return_val_if_fail (n_measures == 0 || measures != NULL, FALSE);
  if (new_state != NULL)
    *new_state = NULL;
  if (!hearth_workflow_is_action (action) || (guint) role >= HEARTH_ROLE_COUNT)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID, _("\"%s\" is not a workflow action"),
                   action != NULL ? action : "");
      return FALSE;
    }
  state = household_id != NULL ? household_value (self, household_id, "monitoring_status") : NULL;
  if (state == NULL)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND, _("there is no household %s"),
                   household_id != NULL ? household_id : "");
      return FALSE;
    }
  /* The rule table the center replays on what this device pushes
   * (sync/workflow.h). */
  to = hearth_workflow_move (state, action, role);
  if (to == NULL)
    {
      /* The labels the review shows, not the workflow's codes. */
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_REFUSED,
                   _("%s: “%s” is not allowed on a case that is “%s”"), hearth_label_role (hearth_role_name (role)),
                   hearth_label_action (action), hearth_label_status (state));
      return FALSE;
    }
  if ((g_str_equal (action, "return") || g_str_equal (action, "reject")) && !has_text (comment))
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_REFUSED, _("“%s” needs a comment that says why"),
                   hearth_label_action (action));
      return FALSE;
    }
  if (g_str_equal (state, "pending_elimination") && g_str_equal (action, "approve") && role == HEARTH_ROLE_COUNTY &&
      !clerk_approved_elimination (self, household_id))
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_REFUSED,
                   _("the village clerk approves an elimination before the county does"));
      return FALSE;
    }
  /* Measures are decided with the move into monitoring (DOMAIN.md, the
   * procedure, steps 5 and 6); all are checked before anything is written. */
  if (n_measures > 0 && !g_str_equal (to, "monitored"))
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_REFUSED,
                   _("assistance measures come with a move into monitoring, not with a move to %s"), to);
      return FALSE;
    }
  if (n_measures > 0 && !decides_measures (role, error))
    return FALSE;
  for (guint i = 0; i < n_measures; i++)
    {
      char *on = NULL;
      if (!check_measure (self, &measures[i], &on, error))
        return FALSE;
      g_ptr_array_add (started, on);
    }

  /* One user action: its entry is the household's and names the review,
   * the measures and the correction task with it. */
  if (!action_begin (self, &act, action, "households", household_id, error))
    return FALSE;
  ok = TRUE;
  if (!g_str_equal (to, state))
    {
      g_hash_table_insert (fields, g_strdup ("monitoring_status"), g_strdup (to));
      if (g_str_equal (to, "risk_eliminated"))
        {
          g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (wall_ms (self) / 1000);
          g_hash_table_insert (fields, g_strdup ("eliminated_on"), g_date_time_format (dt, "%Y-%m-%d"));
        }
      ok = write_record (self, "households", household_id, FALSE, fields, action, TRUE, NULL, error);
    }
  ok = ok && insert_review (self, household_id, role, state, to, comment, NULL, &review_id, error);
  for (guint i = 0; ok && i < n_measures; i++)
    ok = insert_measure (self, household_id, &measures[i], started->pdata[i], review_id, NULL, error);
  if (ok && g_str_equal (to, "returned"))
    {
      /* The correction is the visiting worker's task, due at once. */
      g_autoptr(GHashTable) task = fields_new ();
      g_autofree char *task_id = hearth_record_id_new ();
      g_autofree char *author = visit_author (self, household_id);
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (wall_ms (self) / 1000);

      g_hash_table_insert (task, g_strdup ("household_id"), g_strdup (household_id));
      g_hash_table_insert (task, g_strdup ("kind"), g_strdup ("correction"));
      g_hash_table_insert (task, g_strdup ("due_date"), g_date_time_format (dt, "%Y-%m-%d"));
      g_hash_table_insert (task, g_strdup ("reason"), g_strdup (comment));
      g_hash_table_insert (task, g_strdup ("assignee"), g_strdup (author != NULL ? author : ""));
      ok = write_record (self, "tasks", task_id, TRUE, task, "open", FALSE, NULL, error);
    }
  if (!ok)
    {
      action_abort (self, &act);
      return FALSE;
    }
  if (!action_commit (self, &act, error))
    return FALSE;
  if (new_state != NULL)
    *new_state = g_strdup (to);
  return TRUE;
}

gboolean
hearth_case_transition (HearthCaseStore *self, const char *household_id, HearthRole role, const char *action,
                        const char *comment, char **new_state, GError **error)
{
  return hearth_case_transition_with_measures (self, household_id, role, action, comment, NULL, 0, new_state, error);
}

/* ---- assistance measures ---------------------------------------------------- */

/* The codes of the forms' `measures` list (schema/forms/README.md). */
static const char *const measure_types[] = {
  "living", "social_protection", "microcredit", "industry", "public_job", "casual_work", "regular_job",
  "education", "health", "housing", "water", "temporary_relief", "insurance", NULL,
};

const char *const *
hearth_case_measure_types (void)
{
  return measure_types;
}

/* A calendar date YYYY-MM-DD that exists. */
static gboolean
is_date (const char *s)
{
  if (s == NULL || strlen (s) != 10 || s[4] != '-' || s[7] != '-')
    return FALSE;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && !g_ascii_isdigit (s[i]))
      return FALSE;
  return g_date_valid_dmy ((GDateDay) atoi (s + 8), (GDateMonth) atoi (s + 5), (GDateYear) atoi (s));
}

/* Today as the user lives it: a measure decided at 07:00 in Beijing
 * starts that day, not on the UTC day before. */
static char *
local_today (HearthCaseStore *self)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local (wall_ms (self) / 1000);
  return g_date_time_format (dt, "%Y-%m-%d");
}

static gboolean
decides_measures (HearthRole role, GError **error)
{
  if (hearth_workflow_decides_measures (role))
    return TRUE;
  g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_REFUSED,
               _("%s: assistance measures are not yours to decide: the county or the village clerk decides them"),
               hearth_label_role (hearth_role_name (role)));
  return FALSE;
}

/* Checks a measure to add; @started_on: (out): the date it starts. */
static gboolean
check_measure (HearthCaseStore *self, const HearthMeasureSpec *spec, char **started_on, GError **error)
{
  *started_on = NULL;
  if (spec->type == NULL || !g_strv_contains (measure_types, spec->type))
    {
      g_autofree char *known = g_strjoinv (", ", (char **) measure_types);
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                   _("\"%s\" is not a type of assistance measure (the types: %s)"),
                   spec->type != NULL ? spec->type : "", known);
      return FALSE;
    }
  if (!has_text (spec->description))
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                   _("an assistance measure needs a description: what is done, for whom"));
      return FALSE;
    }
  if (spec->started_on != NULL && !is_date (spec->started_on))
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID, _("\"%s\" is not a date (YYYY-MM-DD)"),
                   spec->started_on);
      return FALSE;
    }
  *started_on = spec->started_on != NULL ? g_strdup (spec->started_on) : local_today (self);
  return TRUE;
}

/* One write: the record, its field stamps and its audit entry together. */
static gboolean
insert_measure (HearthCaseStore *self, const char *household_id, const HearthMeasureSpec *spec,
                const char *started_on, const char *created_by, char **id_out, GError **error)
{
  g_autoptr(GHashTable) fields = fields_new ();
  g_autofree char *id = hearth_record_id_new ();

  g_hash_table_insert (fields, g_strdup ("household_id"), g_strdup (household_id));
  g_hash_table_insert (fields, g_strdup ("type"), g_strdup (spec->type));
  g_hash_table_insert (fields, g_strdup ("description"), g_strdup (spec->description));
  g_hash_table_insert (fields, g_strdup ("started_on"), g_strdup (started_on));
  g_hash_table_insert (fields, g_strdup ("status"), g_strdup ("active"));
  if (created_by != NULL)
    g_hash_table_insert (fields, g_strdup ("created_by"), g_strdup (created_by));
  if (!write_record (self, "measures", id, TRUE, fields, "create", TRUE, NULL, error))
    return FALSE;
  if (id_out != NULL)
    *id_out = g_steal_pointer (&id);
  return TRUE;
}

gboolean
hearth_case_add_measure (HearthCaseStore *self, const char *household_id, HearthRole role,
                         const HearthMeasureSpec *spec, char **measure_id, GError **error)
{
  g_autofree char *exists = NULL;
  g_autofree char *started_on = NULL;

  g_return_val_if_fail (HEARTH_IS_CASE_STORE (self), FALSE);
  g_return_val_if_fail (spec != NULL, FALSE);
  if (measure_id != NULL)
    *measure_id = NULL;
  if (!decides_measures (role, error))
    return FALSE;
  exists = household_id != NULL ? household_value (self, household_id, "id") : NULL;
  if (exists == NULL)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND, _("there is no household %s"),
                   household_id != NULL ? household_id : "");
      return FALSE;
    }
  if (!check_measure (self, spec, &started_on, error))
    return FALSE;
  return insert_measure (self, household_id, spec, started_on, NULL, measure_id, error);
}

gboolean
hearth_case_end_measure (HearthCaseStore *self, const char *measure_id, HearthRole role, const char *ended_on,
                         GError **error)
{
  g_autoptr(GHashTable) fields = fields_new ();
  g_autofree char *status = NULL, *started = NULL, *ended = NULL, *on = NULL;
  sqlite3_stmt *st = NULL;

  g_return_val_if_fail (HEARTH_IS_CASE_STORE (self), FALSE);
  if (!decides_measures (role, error))
    return FALSE;
  if (sqlite3_prepare_v2 (self->db, "SELECT status, started_on, ended_on FROM measures WHERE id = ?", -1, &st,
                          NULL) != SQLITE_OK)
    return sql_failed (self, error);
  sqlite3_bind_text (st, 1, measure_id != NULL ? measure_id : "", -1, SQLITE_STATIC);
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      status = g_strdup ((const char *) sqlite3_column_text (st, 0));
      started = g_strdup ((const char *) sqlite3_column_text (st, 1));
      ended = g_strdup ((const char *) sqlite3_column_text (st, 2));
    }
  sqlite3_finalize (st);
  if (status == NULL)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND, _("there is no assistance measure %s"),
                   measure_id != NULL ? measure_id : "");
      return FALSE;
    }
  if (!g_str_equal (status, "active"))
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_REFUSED, _("measure %s ended already, on %s"),
                   measure_id, ended);
      return FALSE;
    }
  if (ended_on != NULL && !is_date (ended_on))
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID, _("\"%s\" is not a date (YYYY-MM-DD)"),
                   ended_on);
      return FALSE;
    }
  on = ended_on != NULL ? g_strdup (ended_on) : local_today (self);
  if (strcmp (on, started) < 0)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                   _("measure %s started on %s: it cannot end on %s, before that"), measure_id, started, on);
      return FALSE;
    }
  g_hash_table_insert (fields, g_strdup ("status"), g_strdup ("ended"));
  g_hash_table_insert (fields, g_strdup ("ended_on"), g_steal_pointer (&on));
  return write_record (self, "measures", measure_id, FALSE, fields, "end", TRUE, NULL, error);
}

/* ---- resolving a conflict ------------------------------------------------- */

static char *
stamp_for_sync (gpointer data, GError **error)
{
  return stamp (data, error);
}

gboolean
hearth_case_resolve_conflict (HearthCaseStore *self, const char *conflict_id, HearthRole role, const char *value,
                              GError **error)
{
  AuditAction act;
  g_autofree char *table = NULL, *record_id = NULL, *field = NULL;
  g_autofree char *now = NULL;
  gboolean found;

  g_return_val_if_fail (HEARTH_IS_CASE_STORE (self), FALSE);
  if (!hearth_workflow_resolves_conflicts (role))
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_REFUSED,
                   _("only a village clerk or the county resolves a conflict"));
      return FALSE;
    }
  if (value == NULL || !g_utf8_validate (value, -1, NULL) || strlen (value) > 64 * 1024)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                   _("the value chosen is not text of at most 64 KiB"));
      return FALSE;
    }
  if (!action_begin (self, &act, "resolve", "conflicts", conflict_id != NULL ? conflict_id : "", error))
    return FALSE;
  found = hearth_sync_conflict_field (self->db, conflict_id != NULL ? conflict_id : "", &table, &record_id, &field,
                                      error);
  if (!found)
    {
      if (error == NULL || *error == NULL)
        g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND, _("there is no open conflict %s"),
                     conflict_id != NULL ? conflict_id : "");
      goto failed;
    }
  action_set_record (&act, table, record_id);
  now = now_iso (self);
  {
    g_autoptr(GError) local = NULL;

    if (!hearth_sync_write_resolution (self->db, table, record_id, field, stamp_for_sync, self, value, now,
                                       self->actor, &local))
      {
        if (g_error_matches (local, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID))
          g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID, _("%s.%s does not take “%s”: %s"), table,
                       field, value, local->message);
        else
          g_propagate_error (error, g_steal_pointer (&local));
        goto failed;
      }
  }
  action_note (self, table, record_id, (const char *const *) &field, 1);
  return action_commit (self, &act, error);

failed:
  action_abort (self, &act);
  return FALSE;
}

/* ---- the case instance ----------------------------------------------------- */

/* Adds one child per column of the first row of @sql (one parameter: @id). */
static gboolean
add_row (HearthCaseStore *self, xmlNode *parent, const char *sql, const char *id, gboolean *found, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2 (self->db, sql, -1, &st, NULL) != SQLITE_OK)
    return sql_failed (self, error);
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    for (int c = 0; c < sqlite3_column_count (st); c++)
      {
        const char *v = (const char *) sqlite3_column_text (st, c);
        xmlNewTextChild (parent, NULL, (const xmlChar *) sqlite3_column_name (st, c), (const xmlChar *) (v != NULL ? v : ""));
      }
  if (found != NULL)
    *found = rc == SQLITE_ROW;
  sqlite3_finalize (st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || sql_failed (self, error);
}

xmlDoc *
hearth_case_build_instance (HearthCaseStore *self, const char *household_id, GError **error)
{
  xmlDoc *doc = xmlNewDoc ((const xmlChar *) "1.0");
  xmlNode *root = xmlNewNode (NULL, (const xmlChar *) "household");
  xmlNode *members, *last, *measures;
  sqlite3_stmt *st = NULL;
  gboolean found = FALSE;

  g_return_val_if_fail (HEARTH_IS_CASE_STORE (self), NULL);
  xmlDocSetRootElement (doc, root);
  if (!add_row (self, root,
                "SELECT id, entity_version AS version, entity_version AS trunk_version, '' AS branch_id, "
                "head_name || ' · ' || address AS label, village_code, address, head_name, head_id_number, category, "
                "phone, location, member_count, per_capita_income, risk_level, risk_types, monitoring_status, "
                "last_visit_date, next_visit_date, eliminated_on FROM households WHERE id = ? AND deleted = 0",
                household_id, &found, error))
    goto failed;
  if (!found)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND, _("there is no household %s"), household_id);
      goto failed;
    }
  members = xmlNewChild (root, NULL, (const xmlChar *) "members", NULL);
  if (sqlite3_prepare_v2 (self->db, "SELECT id FROM members WHERE household_id = ? AND deleted = 0 ORDER BY position",
                          -1, &st, NULL) != SQLITE_OK)
    {
      sql_failed (self, error);
      goto failed;
    }
  sqlite3_bind_text (st, 1, household_id, -1, SQLITE_STATIC);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      xmlNode *m = xmlNewChild (members, NULL, (const xmlChar *) "member", NULL);
      if (!add_row (self, m, "SELECT id, name, id_number, sex, birth_date, relation, health, labour, months_worked, "
                             "work_place, school_status, insurance FROM members WHERE id = ?",
                    (const char *) sqlite3_column_text (st, 0), NULL, error))
        {
          sqlite3_finalize (st);
          goto failed;
        }
    }
  sqlite3_finalize (st);
  /* The last visit: the newest submission that set a risk level. */
  last = xmlNewChild (root, NULL, (const xmlChar *) "last_visit", NULL);
  if (!add_row (self, last,
                "SELECT substr(s.ended_at, 1, 10) AS date, h.per_capita_income, s.risk_level, h.risk_types "
                "FROM submissions s JOIN households h ON h.id = s.household_id "
                "WHERE s.household_id = ? AND s.risk_level != '' ORDER BY s.ended_at DESC, s.recorded_at DESC LIMIT 1",
                household_id, NULL, error))
    goto failed;
  /* The active measures, in an order that does not change between two
   * openings: the follow-up form pairs its repeat with them by position. */
  measures = xmlNewChild (root, NULL, (const xmlChar *) "measures", NULL);
  if (sqlite3_prepare_v2 (self->db, "SELECT id FROM measures WHERE household_id = ? AND status = 'active' "
                                    "ORDER BY started_on, id", -1, &st, NULL) != SQLITE_OK)
    {
      sql_failed (self, error);
      goto failed;
    }
  sqlite3_bind_text (st, 1, household_id, -1, SQLITE_STATIC);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      xmlNode *m = xmlNewChild (measures, NULL, (const xmlChar *) "measure", NULL);
      if (!add_row (self, m, "SELECT id, type, description, started_on FROM measures WHERE id = ?",
                    (const char *) sqlite3_column_text (st, 0), NULL, error))
        {
          sqlite3_finalize (st);
          goto failed;
        }
    }
  sqlite3_finalize (st);
  return doc;

failed:
  xmlFreeDoc (doc);
  return NULL;
}

/* ---- registry import --------------------------------------------------------- */

/* Whether this store holds a live household or member with that number. */
static gboolean
registry_taken (HearthRegistryKey key, const char *value, gboolean *taken, gpointer data, GError **error)
{
  HearthCaseStore *self = data;
  const char *sql = key == HEARTH_REGISTRY_HOUSEHOLD_NO ? "SELECT 1 FROM households WHERE registry_no = ?"
                                                        : "SELECT 1 FROM members WHERE id_number = ? AND deleted = 0";
  sqlite3_stmt *st = NULL;
  int rc;

  *taken = FALSE;
  if (sqlite3_prepare_v2 (self->db, sql, -1, &st, NULL) != SQLITE_OK)
    return sql_failed (self, error);
  sqlite3_bind_text (st, 1, value, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return sql_failed (self, error);
  *taken = rc == SQLITE_ROW;
  return TRUE;
}

gboolean
hearth_case_import_registry (HearthCaseStore *self, const char *path, guint *n_households, guint *n_members,
                             GPtrArray **problems_out, GPtrArray **notices, GError **error)
{
  HearthSyncTx tx;
  g_autoptr(HearthRegistry) registry = NULL;
  guint made = 0, people = 0;

  if (n_households != NULL)
    *n_households = 0;
  if (n_members != NULL)
    *n_members = 0;
  if (notices != NULL)
    *notices = NULL;
  registry = hearth_case_registry_read (path, NULL, registry_taken, self, problems_out, error);
  if (registry == NULL)
    return FALSE;

  if (!write_begin (self, &tx, "import_registry", error))
    return FALSE;
  for (guint i = 0; i < hearth_case_registry_get_n_households (registry); i++)
    {
      g_autoptr(GHashTable) h = hearth_case_registry_household_fields (registry, i);
      g_autofree char *household_id = hearth_record_id_new ();
      AuditAction act;

      /* One entry per household, naming its members: an import of
       * thousands of households is that many entries, each of one size. */
      if (!action_begin (self, &act, "import", "households", household_id, error))
        goto failed;
      if (!write_record (self, "households", household_id, TRUE, h, "import", FALSE, NULL, error))
        {
          action_abort (self, &act);
          goto failed;
        }
      for (guint k = 0; k < hearth_case_registry_get_n_members (registry, i); k++)
        {
          g_autoptr(GHashTable) m = hearth_case_registry_member_fields (registry, i, k, household_id);
          g_autofree char *member_id = hearth_record_id_new ();

          if (!write_record (self, "members", member_id, TRUE, m, "import", FALSE, NULL, error))
            {
              action_abort (self, &act);
              goto failed;
            }
          people++;
        }
      if (!action_commit (self, &act, error))
        goto failed;
      made++;
    }
  if (!write_commit (self, &tx, error))
    goto failed;
  if (n_households != NULL)
    *n_households = made;
  if (n_members != NULL)
    *n_members = people;
  if (notices != NULL)
    *notices = g_ptr_array_ref (hearth_case_registry_get_notices (registry));
  return TRUE;

failed:
  hearth_sync_tx_rollback (&tx);
  return FALSE;
}

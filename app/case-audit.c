/* SPDX-License-Identifier: GPL-3.0-or-later */
/* case-audit.c: the hash-chained audit log (case-audit.h). */
#define G_LOG_DOMAIN "hearth-case"

#include "case-audit.h"
#include "record-id.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

G_DEFINE_QUARK (hearth-audit-error-quark, hearth_audit_error)

static gboolean
sql_error (sqlite3 *db, GError **error)
{
  g_set_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_SQLITE, _("the audit log: %s"), sqlite3_errmsg (db));
  return FALSE;
}

/* One field per line: valid_field() keeps newlines out of every field. */
void
hearth_audit_entry_hash (const char *prev, gint64 seq, const char *const fields[8], char out[65])
{
  crypto_generichash_state st;
  guint8 digest[32];
  char number[32];

  crypto_generichash_init (&st, NULL, 0, sizeof digest);
  crypto_generichash_update (&st, (const guint8 *) "hearth audit v1\n", 16);
  crypto_generichash_update (&st, (const guint8 *) prev, strlen (prev));
  g_snprintf (number, sizeof number, "\n%" G_GINT64_FORMAT, seq);
  crypto_generichash_update (&st, (const guint8 *) number, strlen (number));
  for (guint i = 0; i < 8; i++)
    {
      crypto_generichash_update (&st, (const guint8 *) "\n", 1);
      crypto_generichash_update (&st, (const guint8 *) fields[i], strlen (fields[i]));
    }
  crypto_generichash_final (&st, digest, sizeof digest);
  sodium_bin2hex (out, 65, digest, sizeof digest);
}

static gboolean
valid_text (const char *value, gboolean may_be_empty, gsize max)
{
  return value != NULL && (may_be_empty || value[0] != '\0') && strlen (value) <= max &&
         strpbrk (value, "\r\n") == NULL && g_utf8_validate (value, -1, NULL);
}

static gboolean
valid_field (const char *value, gboolean may_be_empty)
{
  return valid_text (value, may_be_empty, HEARTH_AUDIT_MAX_FIELD);
}

#define HEAD_SQL "SELECT value FROM store_meta WHERE key = 'audit_head'"

/* The head kept in store_meta: "seq hash", or NULL for an empty log. */
static char *
read_head (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  char *head = NULL;

  if (sqlite3_prepare_v2 (db, HEAD_SQL, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step (st) == SQLITE_ROW)
    head = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return head;
}

struct _HearthAuditWriter {
  sqlite3 *db;
  sqlite3_stmt *head;       /* the head in store_meta */
  sqlite3_stmt *insert;     /* the entry */
  sqlite3_stmt *set_head;   /* the new head */
};

HearthAuditWriter *
hearth_audit_writer_new (sqlite3 *db)
{
  HearthAuditWriter *writer = g_new0 (HearthAuditWriter, 1);

  writer->db = db;
  return writer;
}

void
hearth_audit_writer_free (HearthAuditWriter *writer)
{
  if (writer == NULL)
    return;
  sqlite3_finalize (writer->head);
  sqlite3_finalize (writer->insert);
  sqlite3_finalize (writer->set_head);
  g_free (writer);
}

/* @sql in *@slot, prepared on first use (SQLite prepares it again itself
 * after a schema change). */
static sqlite3_stmt *
kept (HearthAuditWriter *writer, sqlite3_stmt **slot, const char *sql, GError **error)
{
  if (*slot == NULL && sqlite3_prepare_v3 (writer->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK)
    {
      sql_error (writer->db, error);
      return NULL;
    }
  return *slot;
}

/* Done with a kept statement: reset, its bindings (text of the caller's)
 * cleared. */
static void
release (sqlite3_stmt *st)
{
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
}

/* Steps a kept write statement once and releases it. */
static gboolean
run (HearthAuditWriter *writer, sqlite3_stmt *st, GError **error)
{
  int rc = sqlite3_step (st);

  if (rc != SQLITE_DONE)
    sql_error (writer->db, error);
  release (st);
  return rc == SQLITE_DONE;
}

gboolean
hearth_audit_writer_append (HearthAuditWriter *writer, const HearthAuditEntry *entry, gint64 *seq_out, GError **error)
{
  g_autofree char *at = NULL;
  g_autofree char *id = hearth_record_id_new ();
  g_autofree char *head = NULL;
  g_autofree char *head_value = NULL;
  char prev[65] = HEARTH_AUDIT_GENESIS, hash[65];
  gint64 seq = 1;
  sqlite3_stmt *st;
  const char *fields[8];
  int rc;

  if (!valid_field (entry->actor, FALSE) || !valid_field (entry->device_id, FALSE) ||
      !valid_field (entry->action, FALSE) || !valid_field (entry->record_table, FALSE) ||
      !valid_field (entry->record_id, FALSE) || (entry->fields != NULL && !valid_text (entry->fields, TRUE, HEARTH_AUDIT_MAX_FIELDS_TEXT)) ||
      (entry->at != NULL && !valid_field (entry->at, FALSE)))
    {
      g_set_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_INVALID,
                   _("an audit entry needs an actor, a device, an action, a table and a record, each one line "
                     "of at most %d bytes, and fields of one line of at most %d bytes"), HEARTH_AUDIT_MAX_FIELD,
                   HEARTH_AUDIT_MAX_FIELDS_TEXT);
      return FALSE;
    }
  if (entry->at != NULL)
    at = g_strdup (entry->at);
  else
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      at = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
    }

  st = kept (writer, &writer->head, HEAD_SQL, error);
  if (st == NULL)
    return FALSE;
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    head = g_strdup ((const char *) sqlite3_column_text (st, 0));
  else if (rc != SQLITE_DONE)
    sql_error (writer->db, error);
  release (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return FALSE;
  if (head != NULL)
    {
      char *space = strchr (head, ' ');
      if (space == NULL || strlen (space + 1) != 64)
        {
          g_set_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_BROKEN,
                       _("the audit log's head record is damaged"));
          return FALSE;
        }
      seq = g_ascii_strtoll (head, NULL, 10) + 1;
      memcpy (prev, space + 1, 65);
    }
  fields[0] = id;
  fields[1] = at;
  fields[2] = entry->actor;
  fields[3] = entry->device_id;
  fields[4] = entry->action;
  fields[5] = entry->record_table;
  fields[6] = entry->record_id;
  fields[7] = entry->fields != NULL ? entry->fields : "";
  hearth_audit_entry_hash (prev, seq, fields, hash);

  st = kept (writer, &writer->insert,
             "INSERT INTO audit_log (seq, id, at, actor, device_id, action, record_table, "
             "record_id, fields, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, seq);
  for (guint i = 0; i < 8; i++)
    sqlite3_bind_text (st, (int) i + 2, fields[i], -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 10, prev, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 11, hash, -1, SQLITE_STATIC);
  if (!run (writer, st, error))
    return FALSE;

  head_value = g_strdup_printf ("%" G_GINT64_FORMAT " %s", seq, hash);
  st = kept (writer, &writer->set_head,
             "INSERT INTO store_meta (key, value) VALUES ('audit_head', ?) "
             "ON CONFLICT (key) DO UPDATE SET value = excluded.value", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, head_value, -1, SQLITE_STATIC);
  if (!run (writer, st, error))
    return FALSE;
  if (seq_out != NULL)
    *seq_out = seq;
  return TRUE;
}

gboolean
hearth_audit_append (sqlite3 *db, const HearthAuditEntry *entry, gint64 *seq_out, GError **error)
{
  g_autoptr(HearthAuditWriter) writer = hearth_audit_writer_new (db);

  return hearth_audit_writer_append (writer, entry, seq_out, error);
}

void
hearth_audit_record_free (HearthAuditRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->table);
  g_free (record->id);
  g_strfreev (record->fields);
  g_free (record);
}

static HearthAuditRecord *
record_new (const char *table, const char *id, GStrv fields)
{
  HearthAuditRecord *r = g_new0 (HearthAuditRecord, 1);

  r->table = g_strdup (table);
  r->id = g_strdup (id);
  r->fields = fields != NULL ? fields : g_new0 (char *, 1);
  return r;
}

GPtrArray *
hearth_audit_entry_records (const char *record_table, const char *record_id, const char *fields)
{
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_audit_record_free);
  g_autoptr(GStrvBuilder) own = g_strv_builder_new ();
  g_auto(GStrv) tokens = g_strsplit (fields != NULL ? fields : "", " ", -1);

  g_ptr_array_add (records, record_new (record_table, record_id, NULL));
  for (guint i = 0; tokens[i] != NULL; i++)
    {
      const char *token = tokens[i];
      const char *slash = strchr (token, '/');
      const char *colon;
      g_autofree char *table = NULL;
      g_autofree char *id = NULL;

      if (token[0] == '\0')
        continue;
      if (slash == NULL)
        {
          g_strv_builder_add (own, token);
          continue;
        }
      colon = strchr (slash, ':');
      table = g_strndup (token, (gsize) (slash - token));
      id = colon != NULL ? g_strndup (slash + 1, (gsize) (colon - slash - 1)) : g_strdup (slash + 1);
      g_ptr_array_add (records, record_new (table, id,
                                            colon != NULL && colon[1] != '\0' ? g_strsplit (colon + 1, ",", -1) : NULL));
    }
  {
    HearthAuditRecord *first = records->pdata[0];
    g_strfreev (first->fields);
    first->fields = g_strv_builder_end (own);
  }
  return records;
}

gboolean
hearth_audit_verify (sqlite3 *db, gint64 *checked, GError **error)
{
  g_autofree char *head = read_head (db);
  char prev[65] = HEARTH_AUDIT_GENESIS;
  gint64 expected = 1;
  sqlite3_stmt *st = NULL;
  int rc;

  if (checked != NULL)
    *checked = 0;
  if (sqlite3_prepare_v2 (db, "SELECT seq, id, at, actor, device_id, action, record_table, record_id, fields, "
                              "prev_hash, hash FROM audit_log ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
    return sql_error (db, error);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 seq = sqlite3_column_int64 (st, 0);
      const char *fields[8];
      const char *stored_prev = (const char *) sqlite3_column_text (st, 9);
      const char *stored_hash = (const char *) sqlite3_column_text (st, 10);
      char hash[65];

      for (guint i = 0; i < 8; i++)
        {
          fields[i] = (const char *) sqlite3_column_text (st, (int) i + 1);
          if (fields[i] == NULL)
            fields[i] = "";
        }
      if (seq != expected)
        {
          sqlite3_finalize (st);
          g_set_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_BROKEN,
                       _("audit entry %lld is missing (the next one is %lld)"),
                       (long long) expected, (long long) seq);
          return FALSE;
        }
      if (g_strcmp0 (stored_prev, prev) != 0)
        {
          sqlite3_finalize (st);
          g_set_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_BROKEN,
                       _("audit entry %lld does not follow entry %lld (entries were reordered, replaced or removed)"),
                       (long long) seq, (long long) (seq - 1));
          return FALSE;
        }
      hearth_audit_entry_hash (prev, seq, fields, hash);
      if (g_strcmp0 (stored_hash, hash) != 0)
        {
          sqlite3_finalize (st);
          g_set_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_BROKEN,
                       _("audit entry %lld was changed after it was written"), (long long) seq);
          return FALSE;
        }
      memcpy (prev, hash, sizeof prev);
      expected++;
      if (checked != NULL)
        (*checked)++;
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return sql_error (db, error);
  /* The head: entries cut from the end leave it pointing past the log. */
  {
    g_autofree char *want = expected > 1 ? g_strdup_printf ("%" G_GINT64_FORMAT " %s", expected - 1, prev) : NULL;

    if (g_strcmp0 (head, want) != 0)
      {
        gint64 head_seq = head != NULL ? g_ascii_strtoll (head, NULL, 10) : 0;
        if (head_seq > expected - 1)
          g_set_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_BROKEN,
                       _("audit entries %lld to %lld were removed from the end"),
                       (long long) expected, (long long) head_seq);
        else
          g_set_error (error, HEARTH_AUDIT_ERROR, HEARTH_AUDIT_ERROR_BROKEN,
                       _("the audit log's head does not match its last entry %lld"), (long long) (expected - 1));
        return FALSE;
      }
  }
  return TRUE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-sync-store.c: the device side of sync over real encrypted stores,
 * without a network: stores exchange changes directly, each through the
 * protocol's JSON (next_batch → hearth_change_to_json → text →
 * hearth_change_from_json → apply), as a center would relay them.
 *
 * Local writes fill the outbox in order without gaps, once each; push
 * replies (acknowledged, refused, clamped); a store from before sync gets
 * a complete outbox; a household registered on one store appears on
 * another with its members, searchable; concurrent edits become one
 * conflict named alike on both, and a resolution on one clears it on the
 * other; a page applied twice changes nothing, pulled changes never enter
 * the outbox, and a failed page leaves data and cursor as they were; the
 * lease; and a property test: three stores, random edits and partial
 * exchanges, then a full one: identical tables and conflicts everywhere.
 */
#include "test-util.h"
#include "case-audit.h"
#include "case-review.h"
#include "case-search.h"
#include "case-store.h"
#include "hlc.h"
#include "merge.h"
#include "schema-migrate.h"
#include "store-error.h"
#include "store-keys.h"
#include "sync-store.h"
#include "sync-reply.h"
#include "sync-store-private.h"

#include <string.h>
#include "derived-rows.h"

#define NOW "2026-03-05T10:00:00+08:00"
#define REGISTRATION_ID "11111111-2222-4333-8444-000000000001"
#define VISIT_ID "11111111-2222-4333-8444-000000000002"
#define START_MS G_GINT64_CONSTANT (1772676000000)  /* 2026-03-05T02:00:00Z */

/* ---- replicas ------------------------------------------------------------------- */

typedef struct {
  char *name;
  char *device;
  char *dir;
  HearthStore *store;
  HearthCaseStore *cases;
  HearthSyncStore *sync;
  sqlite3 *db;
  gint64 clock_ms;
} Replica;

static gint64
replica_clock (gpointer data)
{
  return ((Replica *) data)->clock_ms;
}

static void
replica_attach (Replica *r, const char *actor)
{
  g_autoptr(GError) error = NULL;

  r->store = test_open_store (r->dir);
  r->db = hearth_store_get_db (r->store);
  if (r->device != NULL)
    {
      /* A device id of the test's own choosing: a replayed seed replays
       * every tie between versions too. */
      g_autofree char *sql = g_strdup_printf ("INSERT OR REPLACE INTO store_meta (key, value) "
                                              "VALUES ('device_id', '%s')", r->device);
      test_exec (r->db, sql);
    }
  r->cases = hearth_case_store_new (r->store, actor, &error);
  g_assert_no_error (error);
  hearth_case_store_set_wall_clock (r->cases, replica_clock, r);
  r->sync = hearth_sync_store_new (r->cases);
}

static void
replica_detach (Replica *r)
{
  g_clear_object (&r->sync);
  g_clear_object (&r->cases);
  g_clear_object (&r->store);
  r->db = NULL;
}

static Replica *
replica_new_device (const char *name, const char *device, gint64 clock_ms)
{
  Replica *r = g_new0 (Replica, 1);

  r->name = g_strdup (name);
  r->device = g_strdup (device);
  r->dir = test_create_store (name, NULL);
  r->clock_ms = clock_ms;
  replica_attach (r, name);
  return r;
}

static Replica *
replica_new (const char *name, gint64 clock_ms)
{
  return replica_new_device (name, NULL, clock_ms);
}

static void
replica_free (Replica *r)
{
  replica_detach (r);
  g_free (r->name);
  g_free (r->device);
  g_free (r->dir);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Replica, replica_free)

static char *
query_text (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  char *value = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_text (st, 0) != NULL)
    value = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return value;
}

/* Every row of @sql, one line each, columns separated by "|". */
static char *
dump (sqlite3 *db, const char *sql)
{
  g_autoptr(GString) out = g_string_new (NULL);
  sqlite3_stmt *st = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      for (int i = 0; i < sqlite3_column_count (st); i++)
        {
          const char *v = (const char *) sqlite3_column_text (st, i);
          g_string_append_printf (out, "%s%s", i > 0 ? "|" : "", v != NULL ? v : "NULL");
        }
      g_string_append_c (out, '\n');
    }
  sqlite3_finalize (st);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* A write through the case model: name, value, …, NULL. */
G_GNUC_NULL_TERMINATED static guint
put (Replica *r, const char *table, const char *id, gboolean create, ...)
{
  g_autoptr(GHashTable) fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GError) error = NULL;
  const char *name;
  guint changed = 0;
  gboolean ok;
  va_list ap;

  va_start (ap, create);
  while ((name = va_arg (ap, const char *)) != NULL)
    g_hash_table_insert (fields, g_strdup (name), g_strdup (va_arg (ap, const char *)));
  va_end (ap);
  ok = hearth_case_write (r->cases, table, id, create, fields, create ? "create" : "update", &changed, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  return changed;
}

/* ---- the wire: what a center relays ------------------------------------------------ */

static char *
change_to_text (const HearthChange *c)
{
  g_autoptr(JsonNode) node = hearth_change_to_json (c);
  return json_to_string (node, FALSE);
}

static HearthChange *
change_from_text (const char *text, gint64 cursor)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = json_from_string (text, &error);
  HearthChange *c;

  g_assert_no_error (error);
  c = hearth_change_from_json (node, "change", &error);
  g_assert_no_error (error);
  g_assert_nonnull (c);
  c->cursor = cursor;
  return c;
}

typedef struct {
  guint origin;
  char *json;
} Relayed;

static void
relayed_free (gpointer data)
{
  Relayed *e = data;

  g_free (e->json);
  g_free (e);
}

/* Pushes everything @r has not had acknowledged, @page at a time, onto
 * @log (each change as JSON text), acknowledging each batch. */
static guint
push (Replica *r, guint origin, GPtrArray *log, guint page)
{
  guint pushed = 0;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) batch = hearth_sync_store_next_batch (r->sync, page, &error);
      gint64 last = 0;

      g_assert_no_error (error);
      if (batch->len == 0)
        return pushed;
      for (guint i = 0; i < batch->len; i++)
        {
          HearthChange *c = batch->pdata[i];
          Relayed *e = g_new0 (Relayed, 1);

          /* A batch holds consecutive numbers. */
          if (i > 0)
            g_assert_cmpint (c->seq, ==, last + 1);
          last = c->seq;
          e->origin = origin;
          e->json = change_to_text (c);
          g_ptr_array_add (log, e);
        }
      g_assert_true (hearth_sync_store_acknowledge (r->sync, last, NULL, 0, NULL, 0, &error));
      g_assert_no_error (error);
      pushed += batch->len;
    }
}

/* Applies @texts (JSON changes) to @r as one page. */
static guint
apply_texts (Replica *r, GPtrArray *texts, gint64 next_cursor)
{
  g_autoptr(GPtrArray) page = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autoptr(GError) error = NULL;
  guint rejected = 0;

  for (guint i = 0; i < texts->len; i++)
    /* A write of several fields (kind "edits") as it is, as a version 3
     * pull page holds it. */
    g_ptr_array_add (page, change_from_text (texts->pdata[i], next_cursor - (gint64) texts->len + i + 1));
  g_assert_true (hearth_sync_store_apply (r->sync, page, next_cursor, FALSE, &rejected, &error));
  g_assert_no_error (error);
  return rejected;
}

/* Everything in @log not from @origin, applied to @r in one page. */
static void
pull_all (Replica *r, guint origin, GPtrArray *log)
{
  g_autoptr(GPtrArray) texts = g_ptr_array_new ();

  for (guint i = 0; i < log->len; i++)
    if (((Relayed *) log->pdata[i])->origin != origin)
      g_ptr_array_add (texts, ((Relayed *) log->pdata[i])->json);
  g_assert_cmpuint (apply_texts (r, texts, log->len), ==, 0);
}

static gint64
count (Replica *r, const char *sql)
{
  return test_query_int (r->db, sql);
}

/* ---- capture ---------------------------------------------------------------------------- */

static void
record_registration_and_visit (Replica *r, char **household)
{
  g_autoptr(HearthForm) registration = test_load_bundled_form ("household-registration.xml");
  g_autoptr(HearthForm) visit = test_load_bundled_form ("household-visit.xml");
  g_autofree char *reg_xml = test_fill_bundled ("household-registration.xml", "registration-zh.json", NOW,
                                                REGISTRATION_ID);
  g_autofree char *visit_xml = test_fill_bundled ("household-visit.xml", "visit-zh.json", NOW, VISIT_ID);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  id = hearth_case_record_submission (r->cases, registration, reg_xml, NULL, &error);
  g_assert_no_error (error);
  *household = query_text (r->db, "SELECT id FROM households");
  g_free (id);
  r->clock_ms += 60000;
  id = hearth_case_record_submission (r->cases, visit, visit_xml, *household, &error);
  g_assert_no_error (error);
}

/* The outbox numbers 1 … N without gaps and names every local change
 * once: each edit, submission, review and audit entry. */
static void
assert_outbox_complete (Replica *r)
{
  gint64 n = count (r, "SELECT count (*) FROM sync_outbox");

  g_assert_cmpint (n, >, 0);
  g_assert_cmpint (count (r, "SELECT min (seq) FROM sync_outbox"), ==, 1);
  g_assert_cmpint (count (r, "SELECT max (seq) FROM sync_outbox"), ==, n);
  /* Each edit once: as an edit of its field, or in its write (kind
   * 'edits', migration 0012); and no row names an edit the store lacks. */
  g_assert_cmpint (count (r, "SELECT count (*) FROM field_edits AS e WHERE (SELECT count (*) FROM sync_outbox AS o "
                             "WHERE o.record_table = e.record_table AND o.record_id = e.record_id AND o.hlc = e.hlc "
                             "AND ((o.kind = 'edit' AND o.field = e.field) OR o.kind = 'edits')) != 1"), ==, 0);
  g_assert_cmpint (count (r, "SELECT count (*) FROM sync_outbox AS o WHERE o.kind IN ('edit', 'edits') "
                             "AND NOT EXISTS (SELECT 1 FROM field_edits AS e WHERE o.record_table = e.record_table "
                             "AND o.record_id = e.record_id AND o.hlc = e.hlc AND e.field = coalesce (o.field, e.field))"),
                   ==, 0);
  g_assert_cmpint (count (r, "SELECT count (*) FROM sync_outbox WHERE record_table = 'submissions'"), ==,
                   count (r, "SELECT count (*) FROM submissions"));
  g_assert_cmpint (count (r, "SELECT count (*) FROM submissions AS s WHERE (SELECT count (*) FROM sync_outbox AS o "
                             "WHERE o.record_table = 'submissions' AND o.record_id = s.id) != 1"), ==, 0);
  g_assert_cmpint (count (r, "SELECT count (*) FROM sync_outbox WHERE record_table = 'reviews'"), ==,
                   count (r, "SELECT count (*) FROM reviews"));
  g_assert_cmpint (count (r, "SELECT count (*) FROM reviews AS v WHERE (SELECT count (*) FROM sync_outbox AS o "
                             "WHERE o.record_table = 'reviews' AND o.record_id = v.id) != 1"), ==, 0);
  g_assert_cmpint (count (r, "SELECT count (*) FROM sync_outbox WHERE record_table = 'audit'"), ==,
                   count (r, "SELECT count (*) FROM audit_log"));
  g_assert_cmpint (count (r, "SELECT count (*) FROM audit_log AS a WHERE (SELECT count (*) FROM sync_outbox AS o "
                             "WHERE o.record_table = 'audit' AND o.record_id = a.id) != 1"), ==, 0);
  /* Audit entries in their chain's order. */
  g_assert_cmpint (count (r, "SELECT count (*) FROM (SELECT a.seq, lag (a.seq) OVER (ORDER BY o.seq) AS prev "
                             "FROM sync_outbox AS o JOIN audit_log AS a ON a.id = o.record_id "
                             "WHERE o.record_table = 'audit') WHERE prev IS NOT NULL AND seq != prev + 1"), ==, 0);
}

static void
test_capture (void)
{
  g_autoptr(Replica) a = replica_new ("sync-capture", START_MS);
  g_autofree char *household = NULL;
  g_autofree char *state = NULL;
  g_autoptr(GError) error = NULL;
  gint64 before;

  record_registration_and_visit (a, &household);
  g_assert_true (hearth_case_transition (a->cases, household, HEARTH_ROLE_CLERK, "approve", NULL, &state, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count (a, "SELECT count (*) FROM submissions"), ==, 2);
  g_assert_cmpint (count (a, "SELECT count (*) FROM reviews"), ==, 2);
  assert_outbox_complete (a);

  /* An edit names the version it replaced; a first value names none. */
  g_assert_cmpint (count (a, "SELECT count (*) FROM field_edits WHERE record_table = 'households' "
                             "AND field = 'next_visit_date'"), ==, 2);
  g_assert_cmpint (count (a, "SELECT count (*) FROM field_edits AS e JOIN field_edits AS p ON p.hlc = e.parents "
                             "WHERE e.field = 'next_visit_date' AND p.field = 'next_visit_date' "
                             "AND p.parents = ''"), ==, 1);
  /* A user action's one audit entry follows all it wrote: the
   * registration's (entry 1) comes after one edit per field of each
   * record it names and the submission itself. */
  {
    gint64 first = count (a, "SELECT o.seq FROM sync_outbox AS o JOIN audit_log AS l ON l.id = o.record_id "
                             "WHERE l.seq = 1");
    g_autoptr(GPtrArray) records = test_audit_entry (a->db, 1, NULL);
    gint64 named = 0;

    g_assert_cmpstr (((HearthAuditRecord *) records->pdata[0])->table, ==, "submissions");
    for (guint i = 1; i < records->len; i++)
      named += g_strv_length (((HearthAuditRecord *) records->pdata[i])->fields);
    g_assert_cmpint (named, >, 10);
    /* A store not enrolled groups each write of a record (migration
     * 0012): one row a record it names, holding every field named. */
    g_assert_cmpint (first, ==, (gint64) records->len - 1 + 1 + 1);
    g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox WHERE kind = 'edits' "
                               "AND seq < (SELECT min (seq) FROM sync_outbox WHERE record_table = 'audit')"), ==,
                     records->len - 1);
    g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox AS o JOIN field_edits AS e "
                               "ON e.record_table = o.record_table AND e.record_id = o.record_id AND e.hlc = o.hlc "
                               "WHERE o.kind = 'edits' "
                               "AND o.seq < (SELECT min (seq) FROM sync_outbox WHERE record_table = 'audit')"), ==,
                     named);
    g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox WHERE record_table = 'submissions' "
                               "AND seq < (SELECT min (seq) FROM sync_outbox WHERE record_table = 'audit')"), ==, 1);
  }
  /* The registration, the visit and the move: three entries. */
  g_assert_cmpint (count (a, "SELECT count (*) FROM audit_log"), ==, 3);

  /* A write that changes nothing adds nothing; one that changes a field
   * adds its edit and its audit entry, numbered next. */
  before = count (a, "SELECT count (*) FROM sync_outbox");
  g_assert_cmpuint (put (a, "households", household, FALSE, "phone", "13904761234", NULL), ==, 0);
  g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox"), ==, before);
  g_assert_cmpuint (put (a, "households", household, FALSE, "phone", "13900000000", NULL), ==, 1);
  g_assert_cmpint (count (a, "SELECT max (seq) FROM sync_outbox"), ==, before + 2);
  g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox WHERE seq = (SELECT max (seq) - 1 FROM sync_outbox) "
                             "AND kind = 'edits' AND field IS NULL AND hlc = (SELECT hlc FROM field_versions "
                             "WHERE field = 'phone')"), ==, 1);
  assert_outbox_complete (a);
  /* A failed write leaves no outbox row behind. */
  {
    g_autoptr(GHashTable) bad = g_hash_table_new (g_str_hash, g_str_equal);
    g_autoptr(GError) e = NULL;

    g_hash_table_insert (bad, "risk_level", "purple");
    g_assert_false (hearth_case_write (a->cases, "households", household, FALSE, bad, "update", NULL, &e));
    g_assert_nonnull (e);
    g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox"), ==, before + 2);
  }
}

/* ---- push ------------------------------------------------------------------------------ */

static void
test_next_batch (void)
{
  g_autoptr(Replica) a = replica_new ("sync-batch", START_MS);
  g_autofree char *id = g_uuid_string_random ();
  g_autoptr(GPtrArray) batch = NULL;
  g_autoptr(GError) error = NULL;
  HearthSyncStatus status;
  HearthChange *c;

  /* A store whose center does not take "edits": one row a field. */
  test_exec (a->db, "DELETE FROM sync_state WHERE key = 'outbox_edits'");
  put (a, "households", id, TRUE, "village_code", "150422100202", "head_name", "王芳", "phone", "1", NULL);
  a->clock_ms += 1000;
  put (a, "households", id, FALSE, "phone", "2", NULL);
  /* 3 edits and an audit entry, then 1 edit and an audit entry. */
  g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox"), ==, 6);

  batch = hearth_sync_store_next_batch (a->sync, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (batch->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *text = NULL;
      g_autoptr(HearthChange) back = NULL;

      c = batch->pdata[i];
      g_assert_cmpint (c->seq, ==, i + 1);
      g_assert_cmpint (c->kind, ==, HEARTH_CHANGE_EDIT);
      g_assert_cmpstr (c->table, ==, "households");
      g_assert_cmpstr (c->id, ==, id);
      g_assert_cmpstr (c->household, ==, id);
      g_assert_cmpstr (c->village, ==, "150422100202");
      g_assert_cmpuint (c->parents->len, ==, 0);
      g_assert_nonnull (c->wall);
      /* What the center reads is what was sent. */
      text = change_to_text (c);
      back = change_from_text (text, 0);
      g_assert_true (hearth_change_equal (c, back));
      g_assert_cmpint (back->seq, ==, c->seq);
    }
  g_clear_pointer (&batch, g_ptr_array_unref);
  /* Not acknowledged: the same batch again. */
  batch = hearth_sync_store_next_batch (a->sync, 3, &error);
  g_assert_cmpint (((HearthChange *) batch->pdata[0])->seq, ==, 1);
  g_clear_pointer (&batch, g_ptr_array_unref);

  g_assert_true (hearth_sync_store_acknowledge (a->sync, 3, NULL, 0, NULL, 0, &error));
  g_assert_no_error (error);
  batch = hearth_sync_store_next_batch (a->sync, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (batch->len, ==, 3);
  c = batch->pdata[0];
  g_assert_cmpint (c->seq, ==, 4);
  g_assert_cmpint (c->kind, ==, HEARTH_CHANGE_RECORD);
  g_assert_cmpstr (c->table, ==, "audit");
  g_assert_cmpstr (g_hash_table_lookup (c->fields, "seq"), ==, "1");
  g_assert_cmpstr (g_hash_table_lookup (c->fields, "action"), ==, "create");
  g_assert_cmpstr (g_hash_table_lookup (c->fields, "fields"), ==, "head_name phone village_code");
  g_assert_cmpstr (g_hash_table_lookup (c->fields, "device_id"), ==, hearth_case_store_get_device_id (a->cases));
  g_assert_cmpuint (strlen (g_hash_table_lookup (c->fields, "hash")), ==, 64);
  g_assert_null (c->household);
  g_assert_null (c->village);
  c = batch->pdata[1];
  g_assert_cmpint (c->seq, ==, 5);
  g_assert_cmpstr (c->field, ==, "phone");
  g_assert_cmpstr (c->value, ==, "2");
  g_assert_cmpuint (c->parents->len, ==, 1);
  {
    g_autofree char *first = query_text (a->db, "SELECT hlc FROM field_edits WHERE field = 'phone' AND parents = ''");
    g_assert_cmpstr (c->parents->pdata[0], ==, first);
  }

  g_assert_true (hearth_sync_store_status (a->sync, &status, &error));
  g_assert_cmpint (status.last_seq, ==, 6);
  g_assert_cmpint (status.acked_seq, ==, 3);
  g_assert_cmpint (status.pending, ==, 3);
  g_assert_false (status.synced);

  /* A reply beyond the last change is refused and changes nothing. */
  g_assert_false (hearth_sync_store_acknowledge (a->sync, 7, NULL, 0, NULL, 0, &error));
  g_assert_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID);
  g_clear_error (&error);
  /* An older reply again changes nothing. */
  g_assert_true (hearth_sync_store_acknowledge (a->sync, 2, NULL, 0, NULL, 0, &error));
  g_assert_true (hearth_sync_store_status (a->sync, &status, &error));
  g_assert_cmpint (status.acked_seq, ==, 3);

  g_assert_true (hearth_sync_store_acknowledge (a->sync, 6, NULL, 0, NULL, 0, &error));
  g_clear_pointer (&batch, g_ptr_array_unref);
  batch = hearth_sync_store_next_batch (a->sync, 10, &error);
  g_assert_cmpuint (batch->len, ==, 0);
  /* Acknowledged rows go but the newest: the numbering goes on. */
  g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox"), ==, 1);
  g_assert_cmpint (count (a, "SELECT seq FROM sync_outbox WHERE state = 'acked'"), ==, 6);
  a->clock_ms += 1000;
  put (a, "households", id, FALSE, "phone", "3", NULL);
  g_clear_pointer (&batch, g_ptr_array_unref);
  batch = hearth_sync_store_next_batch (a->sync, 10, &error);
  g_assert_cmpuint (batch->len, ==, 2);
  g_assert_cmpint (((HearthChange *) batch->pdata[0])->seq, ==, 7);
  g_assert_cmpint (((HearthChange *) batch->pdata[1])->seq, ==, 8);
  g_assert_true (hearth_sync_store_acknowledge (a->sync, 8, NULL, 0, NULL, 0, &error));
  /* "Synced" needs a complete pull too. */
  g_assert_true (hearth_sync_store_status (a->sync, &status, &error));
  g_assert_cmpint (status.pending, ==, 0);
  g_assert_false (status.synced);
  {
    g_autoptr(GPtrArray) none = g_ptr_array_new ();
    g_assert_true (hearth_sync_store_apply (a->sync, none, 17, FALSE, NULL, &error));
    g_assert_no_error (error);
  }
  g_assert_true (hearth_sync_store_set_exchange (a->sync, -1500, START_MS + 5000, &error));
  g_assert_true (hearth_sync_store_status (a->sync, &status, &error));
  g_assert_true (status.synced);
  g_assert_cmpint (status.cursor, ==, 17);
  g_assert_cmpint (status.center_offset_ms, ==, -1500);
  g_assert_cmpint (status.last_sync_ms, ==, START_MS + 5000);
}

static void
test_refused_and_clamped (void)
{
  g_autoptr(Replica) a = replica_new ("sync-clamp", START_MS);
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *old = NULL;
  g_autofree char *second = NULL;
  g_autofree char *clamped = NULL;
  g_autoptr(GError) error = NULL;
  HearthSyncStatus status;
  gint64 first_seq, village_seq, audit_seq, last;
  HearthHlc h;

  /* A store whose center does not take "edits": one row a field (the
   * write of a record grouped: test_clamp_write()). */
  test_exec (a->db, "DELETE FROM sync_state WHERE key = 'outbox_edits'");
  /* A tablet an hour fast. */
  a->clock_ms = START_MS + 3600 * 1000;
  put (a, "households", id, TRUE, "village_code", "150422100202", "phone", "1", NULL);
  a->clock_ms += 1000;
  put (a, "households", id, FALSE, "phone", "2", NULL);
  old = query_text (a->db, "SELECT hlc FROM field_edits WHERE field = 'phone' AND parents = ''");
  second = query_text (a->db, "SELECT hlc FROM field_edits WHERE field = 'phone' AND parents != ''");
  first_seq = count (a, "SELECT seq FROM sync_outbox WHERE field = 'phone' ORDER BY seq LIMIT 1");
  /* The write's other field shares its version: the center clamps it
   * alike (one mapping per version, sync/center-sync.c). */
  village_seq = count (a, "SELECT seq FROM sync_outbox WHERE field = 'village_code'");
  audit_seq = count (a, "SELECT min (seq) FROM sync_outbox WHERE record_table = 'audit'");
  last = count (a, "SELECT max (seq) FROM sync_outbox");
  g_assert_true (hearth_hlc_parse (old, &h, NULL));
  h.wall_ms = START_MS;
  clamped = hearth_hlc_to_string (&h);

  {
    HearthSyncRefusal refused[] = { { audit_seq, "scope", "household outside your scope" } };
    HearthSyncClamp clamps[] = { { first_seq, clamped }, { village_seq, clamped } };
    HearthSyncClamp not_an_edit[] = { { audit_seq, clamped } };
    HearthSyncClamp later[] = { { last + 1, clamped } };

    /* A clamp of something that is not an edit: the reply is refused. */
    g_assert_false (hearth_sync_store_acknowledge (a->sync, last, NULL, 0, not_an_edit, 1, &error));
    g_assert_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_false (hearth_sync_store_acknowledge (a->sync, last, NULL, 0, later, 1, &error));
    g_assert_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox WHERE state = 'pending'"), ==, last);

    /* Clamped before it is acknowledged: the edit is sent again under
     * its new version, and the later edit with the new version as parent. */
    g_assert_true (hearth_sync_store_acknowledge (a->sync, 0, NULL, 0, clamps, 2, &error));
    g_assert_no_error (error);
    {
      g_autoptr(GPtrArray) batch = hearth_sync_store_next_batch (a->sync, 100, &error);
      HearthChange *first = NULL, *later_edit = NULL;

      g_assert_no_error (error);
      g_assert_cmpuint (batch->len, ==, last);
      for (guint i = 0; i < batch->len; i++)
        {
          HearthChange *c = batch->pdata[i];
          if (c->seq == first_seq)
            first = c;
          else if (c->kind == HEARTH_CHANGE_EDIT && g_str_equal (c->field, "phone"))
            later_edit = c;
        }
      g_assert_cmpstr (first->hlc, ==, clamped);
      g_assert_cmpuint (later_edit->parents->len, ==, 1);
      g_assert_cmpstr (later_edit->parents->pdata[0], ==, clamped);
    }

    for (int round = 0; round < 2; round++)  /* the same reply twice */
      {
        g_assert_true (hearth_sync_store_acknowledge (a->sync, last, refused, 1, clamps, 2, &error));
        g_assert_no_error (error);
        g_assert_cmpint (count (a, "SELECT count (*) FROM sync_refused"), ==, 1);
        g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox WHERE state = 'refused'"), ==, 1);
        /* Kept: the refused change, and the newest (for the numbering). */
        g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox"), ==, 2);
        g_assert_cmpint (count (a, "SELECT max (seq) FROM sync_outbox WHERE state = 'acked'"), ==, last);
      }
  }
  /* The old version is gone everywhere; the later edit names the new one. */
  {
    g_autofree char *sql = g_strdup_printf ("SELECT (SELECT count (*) FROM field_edits WHERE hlc = '%s' OR parents = '%s') "
                                            "+ (SELECT count (*) FROM sync_outbox WHERE hlc = '%s') "
                                            "+ (SELECT count (*) FROM field_versions WHERE hlc = '%s' OR base_hlc = '%s')",
                                            old, old, old, old, old);
    g_autofree char *parents = query_text (a->db, "SELECT parents FROM field_edits WHERE field = 'phone' "
                                                  "AND parents != ''");
    g_autofree char *version = query_text (a->db, "SELECT hlc || ' ' || base_hlc FROM field_versions "
                                                  "WHERE field = 'phone'");
    g_autofree char *want = g_strdup_printf ("%s %s", second, clamped);
    g_autofree char *phone = query_text (a->db, "SELECT phone FROM households");

    g_assert_cmpint (count (a, sql), ==, 0);
    g_assert_cmpstr (parents, ==, clamped);
    g_assert_cmpstr (version, ==, want);
    g_assert_cmpstr (phone, ==, "2");
  }
  /* Each field's edit moved to the new version on its own (migration
   * 0014): the second found the write the first made, and the old one
   * went with its last field. */
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM record_writes WHERE hlc = '%s' "
                                            "AND (SELECT count (*) FROM json_each (fields)) = 2 "
                                            "AND json_extract (fields, '$.phone') = '1' "
                                            "AND json_extract (fields, '$.village_code') = '150422100202'", clamped);

    g_assert_cmpint (count (a, sql), ==, 1);
    g_assert_cmpint (count (a, "SELECT count (*) FROM record_writes"), ==, 2);
  }
  g_assert_true (hearth_sync_store_status (a->sync, &status, &error));
  g_assert_cmpint (status.refused, ==, 1);
  g_assert_cmpint (status.pending, ==, 0);
  g_assert_cmpint (status.acked_seq, ==, last);
}

/* A write of several fields, one outbox row of kind 'edits' (migration
 * 0012), pushed as one change and clamped as one: every field renamed,
 * and the later edits naming it. */
static void
test_clamp_write (void)
{
  g_autoptr(Replica) a = replica_new ("sync-clamp-write", START_MS);
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *old = NULL;
  g_autofree char *clamped = NULL;
  g_autoptr(GPtrArray) batch = NULL;
  g_autoptr(GError) error = NULL;
  HearthChange *c;
  HearthHlc h;

  /* A tablet a day fast. */
  a->clock_ms = START_MS + 24 * 3600 * 1000;
  put (a, "households", id, TRUE, "village_code", "150422100202", "phone", "1", "head_name", "王芳", NULL);
  a->clock_ms += 1000;
  put (a, "households", id, FALSE, "phone", "2", "head_name", "李强", NULL);
  /* Two writes, each one row, each followed by its audit entry. */
  g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox"), ==, 4);
  g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox WHERE kind = 'edits' AND field IS NULL"), ==, 2);
  g_assert_cmpint (count (a, "SELECT count (DISTINCT hlc) FROM field_edits"), ==, 2);
  old = query_text (a->db, "SELECT hlc FROM sync_outbox WHERE seq = 1");
  g_assert_cmpint (count (a, "SELECT count (*) FROM field_edits WHERE hlc = (SELECT hlc FROM sync_outbox "
                             "WHERE seq = 1)"), ==, 3);

  batch = hearth_sync_store_next_batch (a->sync, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (batch->len, ==, 4);
  c = batch->pdata[0];
  g_assert_cmpint (c->kind, ==, HEARTH_CHANGE_EDITS);
  g_assert_cmpint (c->seq, ==, 1);
  g_assert_cmpstr (c->hlc, ==, old);
  g_assert_cmpstr (c->household, ==, id);
  g_assert_cmpstr (c->village, ==, "150422100202");
  g_assert_nonnull (c->wall);
  /* In name order, as change.h writes them. */
  g_assert_cmpuint (c->edits->len, ==, 3);
  g_assert_cmpstr (((HearthChangeField *) c->edits->pdata[0])->field, ==, "head_name");
  g_assert_cmpstr (((HearthChangeField *) c->edits->pdata[1])->field, ==, "phone");
  g_assert_cmpstr (((HearthChangeField *) c->edits->pdata[2])->field, ==, "village_code");
  g_assert_cmpuint (((HearthChangeField *) c->edits->pdata[1])->parents->len, ==, 0);
  {
    g_autofree char *text = change_to_text (c);
    g_autoptr(HearthChange) back = change_from_text (text, 0);

    g_assert_true (hearth_change_equal (c, back));
  }
  c = batch->pdata[2];
  g_assert_cmpint (c->kind, ==, HEARTH_CHANGE_EDITS);
  g_assert_cmpuint (c->edits->len, ==, 2);
  g_assert_cmpstr (((HearthChangeField *) c->edits->pdata[1])->field, ==, "phone");
  g_assert_cmpstr (((HearthChangeField *) c->edits->pdata[1])->parents->pdata[0], ==, old);

  g_assert_true (hearth_hlc_parse (old, &h, NULL));
  h.wall_ms = START_MS;
  clamped = hearth_hlc_to_string (&h);
  {
    HearthSyncClamp clamps[] = { { 1, clamped } };

    for (int round = 0; round < 2; round++)  /* the same reply twice */
      {
        g_assert_true (hearth_sync_store_acknowledge (a->sync, 2, NULL, 0, clamps, 1, &error));
        g_assert_no_error (error);
      }
  }
  /* Every field of the write under the new version, the later write's
   * parents likewise; the old version is gone everywhere. */
  g_assert_cmpint (count (a, "SELECT count (*) FROM field_edits WHERE parents = ''"), ==, 3);
  {
    g_autofree char *sql = g_strdup_printf ("SELECT (SELECT count (*) FROM field_edits WHERE hlc = '%s' "
                                            "OR instr (parents, '%s') > 0) "
                                            "+ (SELECT count (*) FROM sync_outbox WHERE hlc = '%s') "
                                            "+ (SELECT count (*) FROM field_versions WHERE hlc = '%s' "
                                            "OR instr (base_hlc, '%s') > 0)", old, old, old, old, old);
    g_autofree char *renamed = g_strdup_printf ("SELECT count (*) FROM field_edits WHERE hlc = '%s'", clamped);
    g_autofree char *named = g_strdup_printf ("SELECT count (*) FROM field_edits WHERE parents = '%s'", clamped);
    g_autofree char *phone = query_text (a->db, "SELECT phone || ' ' || head_name FROM households");

    g_assert_cmpint (count (a, sql), ==, 0);
    g_assert_cmpint (count (a, renamed), ==, 3);
    g_assert_cmpint (count (a, named), ==, 2);
    g_assert_cmpstr (phone, ==, "2 李强");
  }
  g_clear_pointer (&batch, g_ptr_array_unref);
  batch = hearth_sync_store_next_batch (a->sync, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (batch->len, ==, 2);
  c = batch->pdata[0];
  g_assert_cmpint (c->seq, ==, 3);
  g_assert_cmpstr (((HearthChangeField *) c->edits->pdata[0])->parents->pdata[0], ==, clamped);
}

/* A write refused whole as a duplicate registry number (PROTOCOL.md
 * section 7.2): every field of it is taken back, the refusal kept. */
static void
test_refused_write (void)
{
  g_autoptr(Replica) a = replica_new ("sync-refused-write", START_MS);
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *row = NULL;
  g_autoptr(GError) error = NULL;
  HearthSyncRefusal refused[] = { { 6, "duplicate", "the write of households record … is refused for its field "
                                                    "“registry_no”: …" } };

  put (a, "households", id, TRUE, "village_code", "150422100202", "phone", "1", NULL);
  a->clock_ms += 1000;
  put (a, "households", id, FALSE, "phone", "2", "registry_no", "R-1", "head_name", "王芳", NULL);
  /* The registry number a write of its own, after the rest (case-store.c):
   * its refusal leaves the rest of the write alone. */
  g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox WHERE seq = 3 AND kind = 'edits'"), ==, 1);
  g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox AS o JOIN field_edits AS e ON e.hlc = o.hlc "
                             "WHERE o.seq = 4 AND o.kind = 'edits' AND e.field = 'registry_no'"), ==, 1);
  g_assert_cmpint (count (a, "SELECT count (*) FROM field_edits WHERE hlc = (SELECT hlc FROM sync_outbox "
                             "WHERE seq = 4)"), ==, 1);
  {
    HearthSyncRefusal number[] = { { 4, "duplicate", "registry number R-1 is held by household …" } };

    g_assert_true (hearth_sync_store_acknowledge (a->sync, 5, number, 1, NULL, 0, &error));
    g_assert_no_error (error);
  }
  row = query_text (a->db, "SELECT phone || '|' || coalesce (registry_no, 'NULL') || '|' || head_name FROM households");
  g_assert_cmpstr (row, ==, "2|NULL|王芳");
  g_assert_cmpint (count (a, "SELECT count (*) FROM field_versions WHERE field = 'registry_no'"), ==, 0);
  /* A write of several fields refused whole (by a center's rule of
   * section 7.2; here a write of two, as if): each field of it goes back
   * to what the store held before, or to its column's default. */
  a->clock_ms += 1000;
  put (a, "households", id, FALSE, "phone", "3", "head_name", "李强", "address", "Lane 1", NULL);
  g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox WHERE seq = 6 AND kind = 'edits'"), ==, 1);
  g_assert_true (hearth_sync_store_acknowledge (a->sync, 7, refused, 1, NULL, 0, &error));
  g_assert_no_error (error);
  g_free (row);
  row = query_text (a->db, "SELECT phone || '|' || head_name || '|' || address FROM households");
  g_assert_cmpstr (row, ==, "2|王芳|");
  g_assert_cmpint (count (a, "SELECT count (*) FROM field_edits"), ==, 4);
  g_assert_cmpint (count (a, "SELECT count (*) FROM field_versions WHERE field = 'address'"), ==, 0);
  g_assert_cmpint (count (a, "SELECT count (*) FROM sync_refused WHERE seq = 6 AND code = 'duplicate' "
                             "AND instr (message, 'registry_no') > 0"), ==, 1);
  /* A later write of the phone names the version the store holds. */
  put (a, "households", id, FALSE, "phone", "4", NULL);
  g_assert_cmpint (count (a, "SELECT count (*) FROM field_edits WHERE field = 'phone' AND value = '4' AND parents = "
                             "(SELECT hlc FROM field_edits WHERE field = 'phone' AND value = '2')"), ==, 1);
}

/* The changes the center refused, for the worker to redo: newest first,
 * each with its household (head, registry number), the fields of its
 * write (a duplicate's too, taken back), the center's reason and when. */
static void
test_refused_list (void)
{
  g_autoptr(Replica) a = replica_new ("sync-refused-list", START_MS);
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *member = g_uuid_string_random ();
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  HearthSyncStatus status;
  const HearthSyncRefusedChange *c;
  gint64 write_seq, number_seq, member_seq, last;

  put (a, "households", id, TRUE, "village_code", "150422100202", "phone", "1", "head_name", "王芳",
       "registry_no", "R-0", NULL);
  put (a, "members", member, TRUE, "household_id", id, "name", "李强", NULL);
  a->clock_ms += 1000;
  put (a, "households", id, FALSE, "phone", "2", "address", "Lane 1", "registry_no", "R-1", NULL);
  last = count (a, "SELECT max (seq) FROM sync_outbox");
  number_seq = count (a, "SELECT o.seq FROM sync_outbox AS o JOIN field_edits AS e ON e.hlc = o.hlc "
                         "AND e.record_id = o.record_id WHERE e.field = 'registry_no' AND e.value = 'R-1'");
  write_seq = count (a, "SELECT o.seq FROM sync_outbox AS o JOIN field_edits AS e ON e.hlc = o.hlc "
                        "AND e.record_id = o.record_id WHERE e.field = 'address'");
  member_seq = count (a, "SELECT seq FROM sync_outbox WHERE record_table = 'members'");
  g_assert_cmpint (write_seq, <, number_seq);
  list = hearth_sync_store_list_refused (a->sync, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);
  {
    HearthSyncRefusal refused[] = { { member_seq, "scope", "household is outside your scope" },
                                    { write_seq, "role", "a worker may not write that" },
                                    { number_seq, "duplicate", "registry number R-1 is held by household …" } };

    g_assert_true (hearth_sync_store_acknowledge (a->sync, last, refused, G_N_ELEMENTS (refused), NULL, 0, &error));
    g_assert_no_error (error);
  }
  list = hearth_sync_store_list_refused (a->sync, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  /* Newest first: the registry number, taken back (R-0 again). */
  c = list->pdata[0];
  g_assert_cmpint (c->seq, ==, number_seq);
  g_assert_cmpstr (c->code, ==, "duplicate");
  g_assert_cmpstr (c->message, ==, "registry number R-1 is held by household …");
  g_assert_cmpstr (c->table, ==, "households");
  g_assert_cmpstr (c->record_id, ==, id);
  g_assert_cmpstr (c->household_id, ==, id);
  g_assert_cmpstr (c->head_name, ==, "王芳");
  g_assert_cmpstr (c->registry_no, ==, "R-0");
  g_assert_nonnull (c->fields);
  g_assert_cmpstr (c->fields[0], ==, "registry_no");
  g_assert_null (c->fields[1]);
  g_assert_nonnull (c->at);
  g_assert_cmpuint (strlen (c->at), >=, 19);
  /* The write refused whole: its fields, in name order. */
  c = list->pdata[1];
  g_assert_cmpint (c->seq, ==, write_seq);
  g_assert_cmpstr (c->code, ==, "role");
  g_assert_cmpstr (c->head_name, ==, "王芳");
  g_assert_cmpuint (g_strv_length (c->fields), ==, 2);
  g_assert_cmpstr (c->fields[0], ==, "address");
  g_assert_cmpstr (c->fields[1], ==, "phone");
  /* A member's: its household named. */
  c = list->pdata[2];
  g_assert_cmpint (c->seq, ==, member_seq);
  g_assert_cmpstr (c->table, ==, "members");
  g_assert_cmpstr (c->record_id, ==, member);
  g_assert_cmpstr (c->household_id, ==, id);
  g_assert_cmpstr (c->head_name, ==, "王芳");
  g_assert_true (g_strv_contains ((const char *const *) c->fields, "name"));
  g_assert_true (g_strv_contains ((const char *const *) c->fields, "household_id"));
  g_clear_pointer (&list, g_ptr_array_unref);

  list = hearth_sync_store_list_refused (a->sync, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpint (((HearthSyncRefusedChange *) list->pdata[0])->seq, ==, number_seq);
  g_assert_true (hearth_sync_store_status (a->sync, &status, &error));
  g_assert_cmpint (status.refused, ==, 3);
}

/* Enrolling with a center that does not take "edits": the writes grouped
 * before (never sent) become one row a field, numbered again without a
 * gap, in their order; later writes one row a field. With one that takes
 * them, they stay. */
static void
test_enrol_expands (void)
{
  char *scope[] = { "361102001201", NULL };
  char *with[] = { "edits", NULL };

  for (int takes = 0; takes < 2; takes++)
    {
      g_autoptr(Replica) a = replica_new (takes ? "sync-enrol-grouped" : "sync-enrol-expand", START_MS);
      g_autofree char *id = g_uuid_string_random ();
      g_autoptr(HearthSecret) key = hearth_secret_new_random (HEARTH_SYNC_SECRET_KEY_SIZE);
      g_autoptr(GPtrArray) batch = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(HearthSyncEnrolment) got = NULL;
      HearthSyncEnrolment e = { "https://center.example", "wang.fang", "worker", scope, "361102", "AAAA",
                                takes ? with : NULL };
      gint64 n;

      put (a, "households", id, TRUE, "village_code", "361102001201", "phone", "1", "head_name", "王芳", NULL);
      a->clock_ms += 1000;
      put (a, "households", id, FALSE, "phone", "2", "head_name", "李强", NULL);
      g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox"), ==, 4);
      g_assert_true (hearth_sync_store_set_enrolment (a->sync, &e, key, &error));
      g_assert_no_error (error);
      got = hearth_sync_store_get_enrolment (a->sync, &error);
      g_assert_no_error (error);
      n = takes ? 4 : 3 + 1 + 2 + 1;
      g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox"), ==, n);
      g_assert_cmpint (count (a, "SELECT min (seq) FROM sync_outbox"), ==, 1);
      g_assert_cmpint (count (a, "SELECT max (seq) FROM sync_outbox"), ==, n);
      assert_outbox_complete (a);
      if (takes)
        {
          g_assert_cmpstr (got->features[0], ==, "edits");
          g_assert_cmpint (count (a, "SELECT count (*) FROM sync_state WHERE key = 'outbox_edits'"), ==, 1);
          continue;
        }
      g_assert_null (got->features);
      g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox WHERE kind = 'edits'"), ==, 0);
      batch = hearth_sync_store_next_batch (a->sync, 100, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (batch->len, ==, n);
      for (guint i = 0; i < batch->len; i++)
        {
          HearthChange *c = batch->pdata[i];

          g_assert_cmpint (c->seq, ==, i + 1);
          g_assert_cmpint (c->kind, ==, i == 3 || i == 6 ? HEARTH_CHANGE_RECORD : HEARTH_CHANGE_EDIT);
        }
      g_assert_cmpstr (((HearthChange *) batch->pdata[0])->field, ==, "head_name");
      g_assert_cmpstr (((HearthChange *) batch->pdata[2])->field, ==, "village_code");
      g_assert_cmpstr (((HearthChange *) batch->pdata[0])->hlc, ==, ((HearthChange *) batch->pdata[2])->hlc);
      g_assert_cmpstr (((HearthChange *) batch->pdata[3])->table, ==, "audit");
      /* Later writes: one row a field, until the center says "edits". */
      put (a, "households", id, FALSE, "phone", "3", "head_name", "张伟", NULL);
      g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox"), ==, n + 3);
      g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox WHERE kind = 'edits'"), ==, 0);
      {
        const char *const edits[] = { "later-thing", "edits", NULL };

        g_assert_true (hearth_sync_store_set_features (a->sync, edits, &error));
        g_assert_no_error (error);
      }
      put (a, "households", id, FALSE, "phone", "4", "head_name", "刘洋", NULL);
      g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox"), ==, n + 3 + 2);
      g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox WHERE kind = 'edits'"), ==, 1);
      assert_outbox_complete (a);
    }
}

/* What a reply says the center takes (PROTOCOL.md section 5): names
 * once each, anything that is not a name left out, nothing when the reply
 * has no array "features" (a center of before). */
static void
test_reply_features (void)
{
  static const struct {
    const char *json;
    const char *want;   /* joined by spaces; NULL: no features */
  } cases[] = {
    { "{\"acked\": 3}", NULL },
    { "{\"features\": \"edits\"}", NULL },
    { "[\"edits\"]", NULL },
    { "{\"features\": []}", "" },
    { "{\"features\": [\"edits\"]}", "edits" },
    { "{\"features\": [\"edits\", \"v3-pull\", \"edits\", 7, null, {}, \"Edits\", \"a b\", \"\"]}", "edits v3-pull" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) node = json_from_string (cases[i].json, NULL);
      g_auto(GStrv) got = hearth_sync_reply_features (node);
      g_autofree char *joined = got != NULL ? g_strjoinv (" ", got) : NULL;

      g_assert_nonnull (node);
      g_assert_cmpstr (joined, ==, cases[i].want);
    }

  /* A broken or hostile center's array of many names (a reply may hold
   * 64 MiB): the first HEARTH_SYNC_MAX_FEATURES elements are read, no
   * more, so that finding a name once stays cheap and the store keeps a
   * line of names, not megabytes. */
  {
    g_autoptr(GString) json = g_string_new ("{\"features\": [\"edits\"");
    g_autoptr(JsonNode) node = NULL;
    g_auto(GStrv) got = NULL;

    for (guint i = 0; i < 5000; i++)
      g_string_append_printf (json, ", \"f%u\"", i);
    g_string_append (json, "]}");
    node = json_from_string (json->str, NULL);
    got = hearth_sync_reply_features (node);
    g_assert_nonnull (got);
    g_assert_cmpuint (g_strv_length (got), ==, HEARTH_SYNC_MAX_FEATURES);
    g_assert_cmpstr (got[0], ==, "edits");
    g_assert_cmpstr (got[HEARTH_SYNC_MAX_FEATURES - 1], ==, "f30");
  }
}

/* ---- a store from before sync ------------------------------------------------------------ */

/* The schema of a store at migration @version, made in memory. */
static char *
schema_at (guint version)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = hearth_migrations_load_builtin (&error);
  g_autofree char *schema = NULL;
  sqlite3 *db = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (all->len, >=, version);
  g_ptr_array_set_size (all, version);
  g_assert_cmpint (sqlite3_open (":memory:", &db), ==, SQLITE_OK);
  g_assert_cmpint (hearth_store_add_key_functions (db), ==, SQLITE_OK);
  g_assert_true (hearth_migrations_apply (db, all, &error));
  g_assert_no_error (error);
  schema = dump (db, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name");
  sqlite3_close (db);
  return g_steal_pointer (&schema);
}

static void undo_0015 (sqlite3 *db);

static void
test_backfill (void)
{
  g_autoptr(Replica) a = replica_new ("sync-backfill", START_MS);
  g_autoptr(Replica) b = replica_new ("sync-backfill-b", START_MS);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autofree char *household = NULL;
  g_autofree char *state = NULL;
  g_autofree char *old_schema = schema_at (5);
  g_autoptr(GError) error = NULL;
  gint64 n;

  /* Data written with sync in place… */
  record_registration_and_visit (a, &household);
  g_assert_true (hearth_case_transition (a->cases, household, HEARTH_ROLE_CLERK, "return", "再核实", &state, &error));
  g_assert_no_error (error);
  /* …then everything sync (and the later migrations) added taken away:
   * the store as migration 0005 left it, with the same data. */
  undo_0015 (a->db);
  test_exec (a->db, "DROP TRIGGER sync_outbox_submissions; "
                    "DROP TRIGGER sync_outbox_reviews; DROP TRIGGER sync_outbox_audit; "
                    "DROP VIEW field_edits; DROP TABLE record_writes; DROP TABLE sync_outbox; DROP TABLE sync_state; "
                    "DROP TABLE sync_refused; "
                    "DROP TABLE sync_apply_errors; DROP TABLE audit_foreign; DROP TABLE sync_lease; "
                    "DROP TABLE published_forms; DROP TABLE drafts; "
                    "DROP TRIGGER routine_visit_households_insert; DROP TRIGGER routine_visit_households_update; "
                    "DROP TRIGGER routine_visit_households_delete; DROP TRIGGER routine_visit_tasks_insert; "
                    "DROP TRIGGER routine_visit_tasks_update; DROP TRIGGER routine_visit_tasks_delete; "
                    "DROP TABLE routine_visit_queue; "
                    /* field_versions as migration 0002 made it (0011 keyed it). */
                    "CREATE TEMP TABLE versions AS SELECT record_table, record_id, field, hlc, base_hlc "
                    "FROM field_versions; DROP VIEW field_versions; DROP TABLE record_versions; "
                    "CREATE TABLE field_versions (\n"
                    "  record_table TEXT NOT NULL,\n"
                    "  record_id    TEXT NOT NULL,\n"
                    "  field        TEXT NOT NULL,\n"
                    "  hlc          TEXT NOT NULL,\n"
                    "  base_hlc     TEXT NOT NULL DEFAULT '',\n"
                    "  PRIMARY KEY (record_table, record_id, field)\n"
                    ") WITHOUT ROWID; "
                    "INSERT INTO field_versions SELECT * FROM versions; DROP TABLE versions; "
                    "PRAGMA user_version = 5");
  {
    g_autofree char *now_schema = dump (a->db, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name");
    g_assert_cmpstr (now_schema, ==, old_schema);
  }
  replica_detach (a);

  /* Opened by this version: migration 0006, then the backfill. */
  replica_attach (a, "sync-backfill");
  g_assert_cmpint (count (a, "PRAGMA user_version"), >=, 6);
  g_assert_cmpint (count (a, "SELECT count (*) FROM sync_state WHERE key = 'backfill_pending'"), ==, 0);
  n = count (a, "SELECT count (*) FROM sync_outbox");
  g_assert_cmpint (n, ==, count (a, "SELECT (SELECT count (*) FROM field_versions) + (SELECT count (*) FROM submissions) "
                                    "+ (SELECT count (*) FROM reviews) + (SELECT count (*) FROM audit_log)"));
  assert_outbox_complete (a);
  /* One edit per stamped field: its version, the version it replaced, the
   * column's value. */
  g_assert_cmpint (count (a, "SELECT count (*) FROM field_versions AS v JOIN field_edits AS e USING (record_table, "
                             "record_id, field, hlc) WHERE e.parents = v.base_hlc"), ==,
                   count (a, "SELECT count (*) FROM field_versions"));
  g_assert_cmpint (count (a, "SELECT count (*) FROM field_edits AS e JOIN households AS h ON h.id = e.record_id "
                             "WHERE e.field = 'risk_level' AND e.value = h.risk_level AND e.value = 'orange'"), ==, 1);
  g_assert_cmpint (count (a, "SELECT count (*) FROM field_edits AS e JOIN members AS m ON m.id = e.record_id "
                             "WHERE e.field = 'name' AND e.value = m.name"), ==, 5);
  /* Kinds in a stable order: edits, submissions, reviews, audit entries. */
  g_assert_cmpint (count (a, "SELECT max (seq) FROM sync_outbox WHERE kind = 'edit'"), <,
                   count (a, "SELECT min (seq) FROM sync_outbox WHERE record_table = 'submissions'"));
  g_assert_cmpint (count (a, "SELECT max (seq) FROM sync_outbox WHERE record_table = 'reviews'"), <,
                   count (a, "SELECT min (seq) FROM sync_outbox WHERE record_table = 'audit'"));
  /* Opened again: nothing more. */
  replica_detach (a);
  replica_attach (a, "sync-backfill");
  g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox"), ==, n);
  /* A new change is numbered next. */
  a->clock_ms += 1000;
  put (a, "households", household, FALSE, "phone", "13800000000", NULL);
  g_assert_cmpint (count (a, "SELECT max (seq) FROM sync_outbox"), ==, n + 2);
  assert_outbox_complete (a);

  /* All of it can be sent, and another store rebuilds the case from it. */
  g_assert_cmpuint (push (a, 0, log, 7), ==, n + 2);
  pull_all (b, 1, log);
  {
    const char *tables[] = {
      "SELECT id, village_code, head_name, head_id_number, phone, risk_level, monitoring_status, entity_version "
      "FROM households ORDER BY id",
      "SELECT id, household_id, name, id_number, position FROM members ORDER BY id",
      "SELECT id, household_id, kind, due_date, status, closed_by FROM tasks ORDER BY id",
      "SELECT * FROM submissions ORDER BY id",
      "SELECT * FROM reviews ORDER BY id",
    };
    for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
      {
        g_autofree char *x = dump (a->db, tables[i]);
        g_autofree char *y = dump (b->db, tables[i]);
        g_assert_cmpstr (x, ==, y);
      }
  }
  g_assert_cmpint (count (b, "SELECT count (*) FROM audit_foreign"), ==, count (a, "SELECT count (*) FROM audit_log"));
}

/* ---- two stores exchanging ------------------------------------------------------------------ */

static guint
search_count (Replica *r, const char *text)
{
  HearthHouseholdQuery q = { .text = text };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = hearth_case_search_households (r->db, &q, &error);

  g_assert_no_error (error);
  return rows->len;
}

/* The rows that must be equal on every replica (local times left out). */
static char *
state_of (Replica *r)
{
  const char *tables[] = { "households", "members", "tasks", "measures" };
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT group_concat (quote (name), ', ') FROM pragma_table_info ('%s') "
                                              "WHERE name NOT IN ('created_at', 'updated_at')", tables[i]);
      g_autofree char *columns = query_text (r->db, sql);
      g_autofree char *select = g_strdup_printf ("SELECT %s FROM %s ORDER BY id", columns, tables[i]);
      g_autofree char *rows = dump (r->db, select);

      g_string_append_printf (out, "-- %s\n%s", tables[i], rows);
    }
  {
    g_autofree char *conflicts = dump (r->db, "SELECT id, record_table, record_id, field, kept_value, kept_hlc, "
                                              "lost_value, lost_hlc FROM conflicts WHERE resolved_at IS NULL ORDER BY id");
    g_autofree char *search = dump (r->db, "SELECT s.key, s.village, s.head_name, k.household_id FROM household_search AS s "
                                           "JOIN household_keys AS k ON k.key = s.household_key "
                                           "ORDER BY 1, 2, 3, 4");
    g_string_append_printf (out, "-- open conflicts\n%s-- search\n%s", conflicts, search);
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Counts of every table an apply writes. */
static char *
row_counts (Replica *r)
{
  return dump (r->db, "SELECT (SELECT count (*) FROM households), (SELECT count (*) FROM members), "
                      "(SELECT count (*) FROM tasks), (SELECT count (*) FROM submissions), "
                      "(SELECT count (*) FROM reviews), (SELECT count (*) FROM field_edits), "
                      "(SELECT count (*) FROM field_versions), (SELECT count (*) FROM conflicts), "
                      "(SELECT count (*) FROM audit_foreign), (SELECT count (*) FROM audit_log), "
                      "(SELECT count (*) FROM sync_outbox), (SELECT count (*) FROM sync_apply_errors), "
                      "(SELECT count (*) FROM household_search), "
                      "(SELECT group_concat (updated_at) FROM households)");
}

static void
test_exchange (void)
{
  g_autoptr(Replica) a = replica_new ("sync-exchange-a", START_MS);
  g_autoptr(Replica) b = replica_new ("sync-exchange-b", START_MS + 90 * 1000);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new ();
  g_autofree char *household = NULL;
  g_autofree char *counts = NULL;
  g_autofree char *again = NULL;
  g_autofree char *conflict_a = NULL;
  g_autofree char *conflict_b = NULL;
  g_autoptr(GError) error = NULL;
  guint pushed;

  /* A registers a household (and visits it), the county adds a measure:
   * B receives all of it. */
  record_registration_and_visit (a, &household);
  {
    HearthMeasureSpec spec = { hearth_case_measure_types ()[0], "每月走访", "2026-03-05" };
    g_assert_true (hearth_case_add_measure (a->cases, household, HEARTH_ROLE_COUNTY, &spec, NULL, &error));
    g_assert_no_error (error);
  }
  pushed = push (a, 0, log, 500);
  for (guint i = 0; i < log->len; i++)
    g_ptr_array_add (texts, ((Relayed *) log->pdata[i])->json);
  g_assert_cmpuint (apply_texts (b, texts, 100), ==, 0);
  g_assert_cmpint (count (b, "SELECT count (*) FROM households"), ==, 1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM members"), ==, 5);
  g_assert_cmpint (count (b, "SELECT count (*) FROM submissions"), ==, 2);
  g_assert_cmpint (count (b, "SELECT count (*) FROM reviews"), ==, 1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM tasks WHERE status = 'open'"), ==, 1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM measures WHERE description = '每月走访' "
                             "AND status = 'active'"), ==, 1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM audit_foreign"), ==, count (a, "SELECT count (*) FROM audit_log"));
  g_assert_cmpint (count (b, "SELECT count (*) FROM audit_log"), ==, 0);
  /* Searchable by the head's ID number and by a member's. */
  g_assert_cmpuint (search_count (b, "0038"), ==, 1);
  g_assert_cmpuint (search_count (b, "0045"), ==, 1);
  {
    g_autofree char *x = state_of (a);
    g_autofree char *y = state_of (b);
    g_assert_cmpstr (x, ==, y);
  }
  /* Pulled changes are not B's to push. */
  g_assert_cmpint (count (b, "SELECT count (*) FROM sync_outbox"), ==, 0);
  g_assert_cmpint (count (b, "SELECT count (*) FROM sync_state WHERE key = 'applying'"), ==, 0);
  {
    HearthSyncStatus status;
    g_assert_true (hearth_sync_store_status (b->sync, &status, &error));
    g_assert_cmpint (status.cursor, ==, 100);
    g_assert_cmpint (status.pending, ==, 0);
  }

  /* The same page again changes nothing. */
  counts = row_counts (b);
  g_assert_cmpuint (apply_texts (b, texts, 100), ==, 0);
  again = row_counts (b);
  g_assert_cmpstr (counts, ==, again);

  /* Both edit the phone offline: one conflict, named alike on both. */
  a->clock_ms += 60000;
  b->clock_ms += 60000;
  put (a, "households", household, FALSE, "phone", "13911111111", NULL);
  put (b, "households", household, FALSE, "phone", "13922222222", NULL);
  g_ptr_array_set_size (log, 0);
  g_ptr_array_set_size (texts, 0);
  g_assert_cmpuint (push (a, 0, log, 500), ==, 2);
  g_assert_cmpuint (push (b, 1, log, 500), ==, 2);
  pull_all (a, 0, log);
  pull_all (b, 1, log);
  g_assert_cmpint (count (a, "SELECT count (*) FROM conflicts WHERE resolved_at IS NULL"), ==, 1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM conflicts WHERE resolved_at IS NULL"), ==, 1);
  conflict_a = query_text (a->db, "SELECT id || ' ' || kept_value || ' ' || lost_value FROM conflicts");
  conflict_b = query_text (b->db, "SELECT id || ' ' || kept_value || ' ' || lost_value FROM conflicts");
  g_assert_cmpstr (conflict_a, ==, conflict_b);
  {
    /* B's clock runs 90 s ahead: its edit is the newer. */
    g_autofree char *phone_a = query_text (a->db, "SELECT phone FROM households");
    g_autofree char *phone_b = query_text (b->db, "SELECT phone FROM households");
    g_autofree char *kept = query_text (a->db, "SELECT kept_hlc FROM conflicts");
    g_autofree char *lost = query_text (a->db, "SELECT lost_hlc FROM conflicts");
    g_autofree char *id = hearth_merge_conflict_id ("households", household, "phone", kept, lost);
    g_autofree char *stored = query_text (a->db, "SELECT id FROM conflicts");

    g_assert_cmpstr (phone_a, ==, "13922222222");
    g_assert_cmpstr (phone_b, ==, "13922222222");
    g_assert_cmpstr (stored, ==, id);
  }
  {
    g_autofree char *x = state_of (a);
    g_autofree char *y = state_of (b);
    g_assert_cmpstr (x, ==, y);
  }

  /* Only a clerk or the county resolves; B's clerk keeps A's number. */
  {
    g_autofree char *id = query_text (b->db, "SELECT id FROM conflicts");
    g_autoptr(GError) e = NULL;
    gint64 audit = count (b, "SELECT count (*) FROM audit_log");

    g_assert_false (hearth_case_resolve_conflict (b->cases, id, HEARTH_ROLE_WORKER, "13911111111", &e));
    g_assert_error (e, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_REFUSED);
    g_clear_error (&e);
    g_assert_false (hearth_case_resolve_conflict (b->cases, "00000000-0000-4000-8000-000000000000",
                                                  HEARTH_ROLE_CLERK, "x", &e));
    g_assert_error (e, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND);
    b->clock_ms += 1000;
    g_assert_true (hearth_case_resolve_conflict (b->cases, id, HEARTH_ROLE_CLERK, "13911111111", &error));
    g_assert_no_error (error);
    g_assert_cmpint (count (b, "SELECT count (*) FROM conflicts WHERE resolved_at IS NULL"), ==, 0);
    g_assert_cmpint (count (b, "SELECT count (*) FROM conflicts WHERE resolved_by = 'sync-exchange-b' "
                               "AND resolution = '13911111111'"), ==, 1);
    g_assert_cmpint (count (b, "SELECT count (*) FROM audit_log WHERE action = 'resolve'"), ==, 1);
    g_assert_cmpint (count (b, "SELECT count (*) FROM audit_log"), ==, audit + 1);
    /* The entry is the resolved record's, naming its field; the refused
     * attempts appended nothing. */
    g_assert_cmpint (count (b, "SELECT count (*) FROM audit_log WHERE seq = (SELECT max (seq) FROM audit_log) "
                               "AND action = 'resolve' AND record_table = 'households' AND fields = 'phone' "
                               "AND record_id = (SELECT record_id FROM conflicts)"), ==, 1);
    /* Its parents are both heads. */
    g_assert_cmpint (count (b, "SELECT count (*) FROM field_edits WHERE field = 'phone' AND parents LIKE '% %'"), ==, 1);
    g_assert_true (hearth_audit_verify (b->db, NULL, &error));
    g_assert_no_error (error);
    /* Resolved already. */
    g_assert_false (hearth_case_resolve_conflict (b->cases, id, HEARTH_ROLE_CLERK, "x", &e));
    g_assert_error (e, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND);
  }
  g_ptr_array_set_size (log, 0);
  g_assert_cmpuint (push (b, 1, log, 500), ==, 2);
  pull_all (a, 0, log);
  g_assert_cmpint (count (a, "SELECT count (*) FROM conflicts WHERE resolved_at IS NULL"), ==, 0);
  {
    g_autofree char *phone_a = query_text (a->db, "SELECT phone FROM households");
    g_autofree char *x = state_of (a);
    g_autofree char *y = state_of (b);

    g_assert_cmpstr (phone_a, ==, "13911111111");
    g_assert_cmpstr (x, ==, y);
  }
  /* A numbered its own changes only: B's did not enter A's outbox. */
  g_assert_cmpint (count (a, "SELECT max (seq) FROM sync_outbox"), ==, pushed + 2);
  g_assert_cmpint (count (a, "SELECT count (*) FROM sync_outbox WHERE state = 'pending'"), ==, 0);
  g_assert_cmpint (count (a, "SELECT count (DISTINCT origin) FROM field_edits"), ==, 2);
}

/* Offline edits that wrote the same value agree (no conflict); the next
 * edit of the field replaces them all, wherever it is made; values that
 * differ conflict, and a resolution names every head. */
/* ---- migration 0011: the edit tables keyed by integers ------------------------------------- */

/* The CREATE statement of @name in a store at migration @version. */
static char *
schema_sql_at (guint version, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = hearth_migrations_load_builtin (&error);
  g_autofree char *sql = NULL;
  sqlite3 *db = NULL;

  g_assert_no_error (error);
  g_ptr_array_set_size (all, version);
  g_assert_cmpint (sqlite3_open (":memory:", &db), ==, SQLITE_OK);
  g_assert_cmpint (hearth_store_add_key_functions (db), ==, SQLITE_OK);
  g_assert_true (hearth_migrations_apply (db, all, &error));
  g_assert_no_error (error);
  {
    g_autofree char *q = g_strdup_printf ("SELECT sql FROM sqlite_schema WHERE name = '%s'", name);
    sql = query_text (db, q);
  }
  sqlite3_close (db);
  g_assert_nonnull (sql);
  return g_steal_pointer (&sql);
}

/* Puts back the texts migration 0015 rewrote (its CHECKs' lists, two
 * triggers) as the migrations before it wrote them, so that a store taken
 * back to an older version is that version's: the rows satisfy both. */
static void
undo_0015 (sqlite3 *db)
{
  static const char *const names[] = {
    "households", "tasks", "reviews", "sync_outbox", "published_forms",
    "routine_visit_tasks_update", "household_search_members_update",
  };

  test_exec (db, "PRAGMA writable_schema = ON");
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *sql = schema_sql_at (14, names[i]);
      sqlite3_stmt *st = NULL;

      g_assert_cmpint (sqlite3_prepare_v2 (db, "UPDATE sqlite_schema SET sql = ?1 WHERE name = ?2", -1, &st, NULL),
                       ==, SQLITE_OK);
      sqlite3_bind_text (st, 1, sql, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 2, names[i], -1, SQLITE_STATIC);
      g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
      g_assert_cmpint (sqlite3_changes (db), ==, 1);
      sqlite3_finalize (st);
    }
  test_exec (db, "PRAGMA writable_schema = RESET");
}

/* Puts @r's field_edits and field_versions back as migration 0010 left
 * them (WITHOUT ROWID, keyed by their names), rows and all, and the
 * schema version with them. */
static void
edit_tables_back_to_10 (Replica *r)
{
  g_autofree char *edits = schema_sql_at (10, "field_edits");
  g_autofree char *versions = schema_sql_at (10, "field_versions");
  g_autofree char *trigger = schema_sql_at (10, "sync_outbox_field_edits");
  g_autofree char *outbox = schema_sql_at (10, "sync_outbox");
  g_autofree char *on_submissions = schema_sql_at (10, "sync_outbox_submissions");
  g_autofree char *on_reviews = schema_sql_at (10, "sync_outbox_reviews");
  g_autofree char *on_audit = schema_sql_at (10, "sync_outbox_audit");
  g_autofree char *sql = g_strdup_printf (
    "CREATE TEMP TABLE edits_10 AS SELECT record_table, record_id, field, hlc, parents, value, wall FROM field_edits; "
    "CREATE TEMP TABLE versions_10 AS SELECT record_table, record_id, field, hlc, base_hlc FROM field_versions; "
    "CREATE TEMP TABLE outbox_10 AS SELECT * FROM sync_outbox; "
    "DROP VIEW field_edits; DROP TABLE record_writes; DROP VIEW field_versions; DROP TABLE record_versions; %s; %s; "
    "INSERT INTO field_edits (record_table, record_id, field, hlc, parents, value, wall) SELECT * FROM edits_10; "
    "INSERT INTO field_versions (record_table, record_id, field, hlc, base_hlc) SELECT * FROM versions_10; "
    /* The outbox as 0006 made it (its rows one a field: no 'edits'). */
    "DROP TRIGGER sync_outbox_submissions; DROP TRIGGER sync_outbox_reviews; DROP TRIGGER sync_outbox_audit; "
    "DROP TABLE sync_outbox; %s; INSERT INTO sync_outbox SELECT * FROM outbox_10; %s; %s; %s; "
    "DELETE FROM sync_state WHERE key IN ('outbox_edits', 'features'); "
    /* After the rows: they are in the outbox already. */
    "%s; DROP TABLE edits_10; DROP TABLE versions_10; DROP TABLE outbox_10; PRAGMA user_version = 10",
    edits, versions, outbox, on_submissions, on_reviews, on_audit, trigger);
  g_autofree char *old_schema = schema_at (10);

  undo_0015 (r->db);
  test_exec (r->db, sql);
  {
    g_autofree char *now_schema = dump (r->db, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name");
    g_assert_cmpstr (now_schema, ==, old_schema);
  }
}

/* Puts @r's field_versions back as migration 0012 left it (a row a
 * field, keyed by hearth_edit_key()), rows and all, and the schema
 * version with it: the pending outbox rows stay as they are. */
static void
edit_tables_back_to_12 (Replica *r)
{
  g_autofree char *versions = schema_sql_at (12, "field_versions");
  g_autofree char *key = schema_sql_at (12, "field_versions_key");
  g_autofree char *edits = schema_sql_at (12, "field_edits");
  g_autofree char *edits_key = schema_sql_at (12, "field_edits_key");
  g_autofree char *trigger = schema_sql_at (12, "sync_outbox_field_edits");
  g_autofree char *sql = g_strdup_printf (
    "CREATE TEMP TABLE versions_12 AS SELECT record_table, record_id, field, hlc, base_hlc FROM field_versions; "
    "CREATE TEMP TABLE edits_12 AS SELECT record_table, record_id, field, hlc, parents, value, wall FROM field_edits; "
    "DROP VIEW field_versions; DROP TABLE record_versions; %s; %s; "
    "INSERT INTO field_versions (record_table, record_id, field, hlc, base_hlc) SELECT * FROM versions_12; "
    /* field_edits as 0011 made it and 0012 left it (migration 0014). */
    "DROP VIEW field_edits; DROP TABLE record_writes; %s; %s; "
    "INSERT INTO field_edits (record_table, record_id, field, hlc, parents, value, wall) SELECT * FROM edits_12; %s; "
    "DROP TABLE versions_12; DROP TABLE edits_12; PRAGMA user_version = 12", versions, key, edits, edits_key, trigger);
  g_autofree char *old_schema = schema_at (12);

  undo_0015 (r->db);
  test_exec (r->db, sql);
  {
    g_autofree char *now_schema = dump (r->db, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name");
    g_assert_cmpstr (now_schema, ==, old_schema);
  }
}

/* Puts @r's field_edits back as migration 0013 left it (a row a field,
 * keyed by hearth_edit_key() and hearth_version_key(), with the outbox's
 * trigger of 0012), rows and all, and the schema version with it: the
 * pending outbox rows stay as they are. */
static void
edit_tables_back_to_13 (Replica *r)
{
  g_autofree char *edits = schema_sql_at (13, "field_edits");
  g_autofree char *key = schema_sql_at (13, "field_edits_key");
  g_autofree char *trigger = schema_sql_at (13, "sync_outbox_field_edits");
  g_autofree char *sql = g_strdup_printf (
    "CREATE TEMP TABLE edits_13 AS SELECT record_table, record_id, field, hlc, parents, value, wall FROM field_edits; "
    "DROP VIEW field_edits; DROP TABLE record_writes; %s; %s; "
    "INSERT INTO field_edits (record_table, record_id, field, hlc, parents, value, wall) SELECT * FROM edits_13; "
    /* After the rows: they are in the outbox already. */
    "%s; DROP TABLE edits_13; PRAGMA user_version = 13", edits, key, trigger);
  g_autofree char *old_schema = schema_at (13);

  undo_0015 (r->db);
  test_exec (r->db, sql);
  {
    g_autofree char *now_schema = dump (r->db, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name");
    g_assert_cmpstr (now_schema, ==, old_schema);
  }
}

/* The functions that read and write a record's field versions
 * (store-keys.h, migration 0013): a write's fields under one key, a
 * field moved from key to key, escapes kept, and text of another form an
 * error of the statement, not a guess. */
/* hearth_edit_key() and hearth_version_key() keep what they hashed
 * last on the connection (app/store-keys.c): whatever the order of the
 * calls, each answers what hashing afresh answers
 * (hearth_store_edit_key(), hearth_store_version_key(), which keep
 * nothing), for names that share a memo's slot, texts one inside the
 * other, and texts too long to keep. */
static void
test_key_functions_memo (void)
{
  const char *const tables[] = { "households", "members", "a", "ab", "a\nb", "" };
  const char *const ids[] = { "b\nc", "c", "6f0e2b5c-7a3d-4e1f-9b2a-1c3d5e7f9a0b", "", "x", "household" };
  /* "a_x", "b_x", "c_x" share a slot (length, middle and last bytes). */
  const char *const fields[] = { "phone", "a_x", "b_x", "c_x", "head_name", "",
                                 "a_field_name_of_forty_bytes_exactly_0123", "a_field_name_of_forty_one_bytes_exactly_0",
                                 "b_field_name_of_forty_one_bytes_exactly_0", NULL };
  const char *const versions[] = { "001764460800000-00000000-DEVICE", "001764460800000-00000000-DEVICF", "",
                                   "001764460800000-00000000-a-device-id-longer-than-the-memo-keeps-0123456789",
                                   "001764460800000-00000000-a-device-id-longer-than-the-memo-keeps-0123456789x", "0" };
  g_autoptr(GRand) rand = g_rand_new_with_seed (14);
  sqlite3 *db = NULL;
  sqlite3_stmt *edit = NULL, *version = NULL;

  g_assert_cmpint (sqlite3_open (":memory:", &db), ==, SQLITE_OK);
  g_assert_cmpint (hearth_store_add_key_functions (db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT hearth_edit_key (?1, ?2, ?3)", -1, &edit, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT hearth_version_key (?1)", -1, &version, NULL), ==, SQLITE_OK);
  for (guint i = 0; i < 20000; i++)
    {
      const char *table = tables[g_rand_int_range (rand, 0, G_N_ELEMENTS (tables))];
      const char *id = ids[g_rand_int_range (rand, 0, G_N_ELEMENTS (ids))];
      const char *field = fields[g_rand_int_range (rand, 0, G_N_ELEMENTS (fields))];
      const char *hlc = versions[g_rand_int_range (rand, 0, G_N_ELEMENTS (versions))];

      sqlite3_bind_text (edit, 1, table, -1, SQLITE_STATIC);
      sqlite3_bind_text (edit, 2, id, -1, SQLITE_STATIC);
      sqlite3_bind_text (edit, 3, field, -1, SQLITE_STATIC);
      g_assert_cmpint (sqlite3_step (edit), ==, SQLITE_ROW);
      g_assert_cmpint (sqlite3_column_int64 (edit, 0), ==, hearth_store_edit_key (table, id, field));
      sqlite3_reset (edit);
      sqlite3_bind_text (version, 1, hlc, -1, SQLITE_STATIC);
      g_assert_cmpint (sqlite3_step (version), ==, SQLITE_ROW);
      g_assert_cmpint (sqlite3_column_int64 (version, 0), ==, hearth_store_version_key (hlc));
      sqlite3_reset (version);
    }
  /* NULL for NULL, as before. */
  g_assert_cmpint (sqlite3_bind_null (version, 1), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (version), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_type (version, 0), ==, SQLITE_NULL);
  sqlite3_finalize (edit);
  sqlite3_finalize (version);
  sqlite3_close (db);
}

static void
test_record_versions_functions (void)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  const char *const cases[][2] = {
    { "SELECT hearth_field_version ('{\"V1\":[\"a\",\"b\"],\"V2 B1 B2\":[\"c\"]}', 'c')", "V2" },
    { "SELECT hearth_field_base ('{\"V1\":[\"a\",\"b\"],\"V2 B1 B2\":[\"c\"]}', 'c')", "B1 B2" },
    { "SELECT hearth_field_base ('{\"V1\":[\"a\",\"b\"],\"V2 B1 B2\":[\"c\"]}', 'b')", "" },
    { "SELECT hearth_field_key ('{\"V1\":[\"a\",\"b\"],\"V2 B1 B2\":[\"c\"]}', 'c')", "V2 B1 B2" },
    { "SELECT hearth_field_key ('{\"V\\\"1\":[\"a\\\\b\"]}', 'a\\b')", "V\"1" },
    { "SELECT quote (hearth_field_version ('{\"V1\":[\"a\"]}', 'z'))", "NULL" },
    { "SELECT quote (hearth_field_base ('{\"V1\":[\"a\"]}', 'z'))", "NULL" },
    { "SELECT hearth_set_field_version (NULL, 'a', 'V1', NULL)", "{\"V1\":[\"a\"]}" },
    { "SELECT hearth_set_field_version ('{\"V1\":[\"a\",\"b\"]}', 'b', 'V2', 'V1')",
      "{\"V1\":[\"a\"],\"V2 V1\":[\"b\"]}" },
    { "SELECT hearth_set_field_version ('{\"V1\":[\"a\"],\"V2\":[\"b\"]}', 'a', 'V2', '')",
      "{\"V2\":[\"b\",\"a\"]}" },
    { "SELECT hearth_set_field_version ('{\"V1\":[\"a\"]}', 'a', NULL, NULL)", "{}" },
    { "SELECT hearth_set_field_version ('{ \"V1\" : [ \"a\" , \"b\" ] }', 'c', 'V1', NULL)",
      "{\"V1\":[\"a\",\"b\",\"c\"]}" },
    /* A device id may hold any printable ASCII but the space (sync/hlc.c). */
    { "SELECT hearth_field_version (hearth_set_field_version (NULL, 'f', '1-\"x\\y', NULL), 'f')", "1-\"x\\y" },
    { "SELECT json_valid (hearth_set_field_version (NULL, 'f', '1-\"x\\y', '0-/'))", "1" },
    { "SELECT k.key FROM json_each (hearth_set_field_version (NULL, 'f', '1-\"x\\y', '0-/')) k", "1-\"x\\y 0-/" },
    /* What SQLite's JSON functions write is read too (migration 0013). */
    { "SELECT hearth_field_version (json_object ('1-\"x/', json_array ('f')), 'f')", "1-\"x/" },
    { "SELECT hearth_field_key (json_object ('1-a', json_array ('f' || char (10) || char (9))), "
      "'f' || char (10) || char (9))", "1-a" },
    { "SELECT hearth_field_version ('{\"1-\\u0041\\/\":[\"\\b\\f\\n\\r\\t\"]}', "
      "char (8, 12, 10, 13, 9))", "1-A/" },
    /* Nothing but spaces is no versions. */
    { "SELECT quote (hearth_field_version (' \n', 'a'))", "NULL" },
    { "SELECT hearth_set_field_version ('  ', 'a', 'V1', NULL)", "{\"V1\":[\"a\"]}" },
    /* A field under two keys (no writer writes it): the first key read;
     * set, it is taken out of both. */
    { "SELECT hearth_field_version ('{\"V1\":[\"a\"],\"V2\":[\"a\",\"b\"]}', 'a')", "V1" },
    { "SELECT hearth_set_field_version ('{\"V1\":[\"a\"],\"V2\":[\"a\",\"b\"]}', 'a', 'V3', NULL)",
      "{\"V2\":[\"b\"],\"V3\":[\"a\"]}" },
    /* Set again to its own key: last of that key's fields. */
    { "SELECT hearth_set_field_version ('{\"V1\":[\"a\",\"b\"],\"V2\":[\"c\"]}', 'a', 'V1', '')",
      "{\"V1\":[\"b\",\"a\"],\"V2\":[\"c\"]}" },
    /* The strings kept are copied as they are, escapes and all; a key
     * without fields goes. */
    { "SELECT hearth_set_field_version ('{\"V\\u0031\":[\"x\\/\"],\"V0\":[]}', 'b', 'V1', NULL)",
      "{\"V\\u0031\":[\"x\\/\",\"b\"]}" },
    { "SELECT hearth_set_field_version ('{\"V1\":[\"a\"]}', 'b', NULL, NULL)", "{\"V1\":[\"a\"]}" },
    { "SELECT hearth_set_field_version (NULL, 'b', NULL, NULL)", "{}" },
    { "SELECT hearth_set_field_version (NULL, char (10), 'V1', NULL)", "{\"V1\":[\"\\u000a\"]}" },
  };
  /* Each refused with what is wrong, and where. */
  const char *const bad[][2] = {
    { "SELECT hearth_field_version ('{\"V1\":\"a\"}', 'a')", "expected '[' (a key's fields) at byte 6" },
    { "SELECT hearth_field_version ('{\"V1\":[\"a\"]', 'z')", "expected ',' or '}' at byte 11" },
    { "SELECT hearth_set_field_version ('{\"V1\":[\"a\"]', 'a', 'V', NULL)", "expected ',' or '}' at byte 11" },
    { "SELECT hearth_field_version ('[\"a\"]', 'a')", "expected '{' at byte 0" },
    { "SELECT hearth_field_version ('{\"V1\":[\"a\"]} x', 'z')", "text after the object at byte 13" },
    { "SELECT hearth_field_key ('{\"V1\":[\"a\",1]}', 'z')", "expected a string at byte 11" },
    { "SELECT hearth_set_field_version ('{\"V\\u00e9\":[\"a\"]}', 'a', 'V', NULL)", "escape \\u other than" },
    { "SELECT hearth_set_field_version ('{}', NULL, 'V', NULL)", "a field version without a field" },
    /* Found before the fault: refused all the same. */
    { "SELECT hearth_field_version ('{\"V1\":[\"a\"],\"V2\":[\"b\",]}', 'a')", "expected a string at byte 22" },
    { "SELECT hearth_field_version ('{\"V1\":[\"a\"],}', 'a')", "expected a string at byte 12" },
    { "SELECT hearth_field_version ('{\"V1\":[\"a\" \"b\"]}', 'a')", "expected ',' or ']' at byte 11" },
    { "SELECT hearth_field_version ('{\"V1\":[[\"a\"]]}', 'a')", "expected a string at byte 7" },
    { "SELECT hearth_field_version ('{\"V1\":[\"a\\', 'a')", "a string without its closing quote at byte 7" },
    { "SELECT hearth_field_version ('{\"V1\":[\"a\\x\"]}', 'a')", "an escape other than" },
    { "SELECT hearth_field_version ('{\"V1\":[\"a\\u004\"]}', 'a')", "escape \\u other than" },
    { "SELECT hearth_field_version ('{\"V1\":[\"a\\u0000\"]}', 'a')", "escape \\u other than" },
    { "SELECT hearth_field_version ('{\"V1\":[\"a' || char (9) || '\"]}', 'a')",
      "a control character in a string at byte 9" },
    /* A NUL is a byte of the text, not its end. */
    { "SELECT hearth_field_version (CAST (X'7B7D0078' AS TEXT), 'a')", "text after the object at byte 2" },
    { "SELECT hearth_field_version (CAST (X'7B2256223A5B2261002262225D7D' AS TEXT), 'a')",
      "a control character in a string at byte 8" },
    { "SELECT hearth_set_field_version ('{}', CAST (X'610062' AS TEXT), 'V', NULL)", "holds a NUL" },
    /* Bounded: a damaged row is not read at any length. */
    { "SELECT hearth_field_version ('{\"V\":[\"' || replace (hex (zeroblob (524288)), '00', 'ab') "
      "|| '\"]}', 'a')", "longer than 1 MiB at byte 0" },
  };

  g_assert_cmpint (sqlite3_open (":memory:", &db), ==, SQLITE_OK);
  g_assert_cmpint (hearth_store_add_key_functions (db), ==, SQLITE_OK);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = query_text (db, cases[i][0]);

      g_assert_cmpstr (got, ==, cases[i][1]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("%s", bad[i][0]);
      g_assert_cmpint (sqlite3_prepare_v2 (db, bad[i][0], -1, &st, NULL), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ERROR);
      g_assert_nonnull (strstr (sqlite3_errmsg (db), bad[i][1]));
      sqlite3_finalize (st);
    }
  sqlite3_close (db);
}

/* hearth_store_versions_set_field() writes what `UPDATE record_versions
 * SET versions = hearth_set_field_version (versions, field, version,
 * base) WHERE hearth_field_key (versions, field) IS NOT key` writes (the
 * statement a pull ran a field before the record's fields were set
 * together, sync-apply.c's store_versions()), field after field, byte for
 * byte; it refuses what the SQL function refuses, with its words, and
 * leaves the text as it was. */
static void
test_versions_set_field (void)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *update = NULL, *read = NULL;
  const char *const texts[] = {
    NULL, "", "  ", "{}", "{\"V1\":[\"a\",\"b\"],\"V2 B1 B2\":[\"c\"]}",
    "{ \"V1\" : [ \"a\" , \"b\" ] , \"V2\":[\"c\"]}", "{\"V\\u0031\":[\"x\\/\",\"a\"],\"V0\":[]}",
    "{\"V1\":[\"a\"],\"V2\":[\"a\",\"b\"]}", "{\"1-\\\"x\\\\y\":[\"a\"]}",
  };
  /* Sequences of (field, version, base), applied in order. */
  const char *const steps[][3][3] = {
    { { "a", "V1", NULL }, { NULL } },
    { { "a", "V1", "" }, { "b", "V1", NULL }, { "c", "V2", "B1 B2" } },
    { { "a", "V2", "B1 B2" }, { "b", "V2", "B1 B2" }, { "c", "V3", "V2" } },
    { { "c", "V1", NULL }, { "a", "V3", NULL }, { "b", "V3", NULL } },
    { { "x/", "V1", NULL }, { "a", "V1", "" }, { "x/", "V9", "V1" } },
    { { "a", "1-\"x\\y", NULL }, { "b", "1-\"x\\y", "0-/" }, { "\n", "V1", NULL } },
    { { "a", "V0", NULL }, { "a", "V1", NULL }, { "a", "V0", NULL } },
  };
  /* Refused as the SQL function refuses them. */
  const char *const bad[][2] = {
    { "{\"V1\":\"a\"}", "expected '[' (a key's fields) at byte 6" },
    { "{\"V1\":[\"a\"]", "expected ',' or '}' at byte 11" },
    { "{\"V\\u00e9\":[\"a\"]}", "escape \\u other than" },
    { "[\"a\"]", "expected '{' at byte 0" },
  };
  guint changed_n = 0, kept_n = 0;

  g_assert_cmpint (sqlite3_open (":memory:", &db), ==, SQLITE_OK);
  g_assert_cmpint (hearth_store_add_key_functions (db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE v (versions TEXT)", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "UPDATE v SET versions = hearth_set_field_version (versions, ?1, ?2, ?3) "
                                           "WHERE hearth_field_key (versions, ?1) IS NOT ?4", -1, &update, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT coalesce (versions, '') FROM v", -1, &read, NULL), ==, SQLITE_OK);
  for (guint t = 0; t < G_N_ELEMENTS (texts); t++)
    for (guint q = 0; q < G_N_ELEMENTS (steps); q++)
      {
        g_autoptr(GString) text = g_string_new (texts[t]);
        sqlite3_stmt *insert = NULL;

        g_assert_cmpint (sqlite3_exec (db, "DELETE FROM v", NULL, NULL, NULL), ==, SQLITE_OK);
        g_assert_cmpint (sqlite3_prepare_v2 (db, "INSERT INTO v VALUES (?1)", -1, &insert, NULL), ==, SQLITE_OK);
        if (texts[t] != NULL)
          sqlite3_bind_text (insert, 1, texts[t], -1, SQLITE_STATIC);
        g_assert_cmpint (sqlite3_step (insert), ==, SQLITE_DONE);
        sqlite3_finalize (insert);
        for (guint i = 0; i < 3 && steps[q][i][0] != NULL; i++)
          {
            const char *base = steps[q][i][2];
            g_autofree char *key = base != NULL && base[0] != '\0' ? g_strconcat (steps[q][i][1], " ", base, NULL)
                                                                   : g_strdup (steps[q][i][1]);
            g_autofree char *message = NULL;
            g_autofree char *sql_text = NULL;
            gboolean changed = TRUE;

            sqlite3_bind_text (update, 1, steps[q][i][0], -1, SQLITE_STATIC);
            sqlite3_bind_text (update, 2, steps[q][i][1], -1, SQLITE_STATIC);
            if (base != NULL)
              sqlite3_bind_text (update, 3, base, -1, SQLITE_STATIC);
            else
              sqlite3_bind_null (update, 3);
            sqlite3_bind_text (update, 4, key, -1, SQLITE_STATIC);
            g_assert_cmpint (sqlite3_step (update), ==, SQLITE_DONE);
            g_assert_true (hearth_store_versions_set_field (text, steps[q][i][0], steps[q][i][1], base, &changed,
                                                            &message));
            g_assert_null (message);
            g_assert_cmpint (changed, ==, sqlite3_changes (db) > 0);
            if (changed)
              changed_n++;
            else
              kept_n++;
            sqlite3_reset (update);
            g_assert_cmpint (sqlite3_step (read), ==, SQLITE_ROW);
            sql_text = g_strdup ((const char *) sqlite3_column_text (read, 0));
            sqlite3_reset (read);
            g_test_message ("%s: %s %s → %s", texts[t] != NULL ? texts[t] : "NULL", steps[q][i][0], key, text->str);
            g_assert_cmpstr (text->str, ==, sql_text);
          }
        /* The whole sequence in one call: the same text. */
        {
          g_autoptr(GString) together = g_string_new (texts[t]);
          const char *f[3], *v[3], *b[3];
          g_autofree char *message = NULL;
          gboolean changed = FALSE;
          guint n = 0;

          for (; n < 3 && steps[q][n][0] != NULL; n++)
            {
              f[n] = steps[q][n][0];
              v[n] = steps[q][n][1];
              b[n] = steps[q][n][2];
            }
          g_assert_true (hearth_store_versions_set_fields (together, n, f, v, b, &changed, &message));
          g_assert_cmpstr (together->str, ==, text->str);
          g_assert_cmpint (changed, ==, strcmp (together->str, texts[t] != NULL ? texts[t] : "") != 0);
        }
      }
  /* Both kinds were met: a field moved, and one left under its key. */
  g_assert_cmpuint (changed_n, >, 0);
  g_assert_cmpuint (kept_n, >, 0);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GString) text = g_string_new (bad[i][0]);
      g_autofree char *message = NULL;
      gboolean changed = TRUE;

      g_assert_false (hearth_store_versions_set_field (text, "a", "V", NULL, &changed, &message));
      g_assert_false (changed);
      g_assert_nonnull (message);
      g_assert_nonnull (strstr (message, bad[i][1]));
      g_assert_cmpstr (text->str, ==, bad[i][0]);
    }
  sqlite3_finalize (update);
  sqlite3_finalize (read);
  sqlite3_close (db);
}

/* Every row of the edit tables and conflicts, in the order of their names. */
static char *
edit_tables_of (Replica *r)
{
  g_autofree char *edits = dump (r->db, "SELECT record_table, record_id, field, hlc, parents, value, wall, origin "
                                        "FROM field_edits ORDER BY record_table, record_id, field, hlc");
  g_autofree char *versions = dump (r->db, "SELECT record_table, record_id, field, hlc, base_hlc FROM field_versions "
                                           "ORDER BY record_table, record_id, field");
  g_autofree char *conflicts = dump (r->db, "SELECT id, record_table, record_id, field, kept_value, kept_hlc, "
                                            "lost_value, lost_hlc, resolved_at IS NULL, resolution FROM conflicts "
                                            "ORDER BY id");

  return g_strdup_printf ("-- field_edits\n%s-- field_versions\n%s-- conflicts\n%s", edits, versions, conflicts);
}

/* The statements a connection ran (sqlite3_trace_v2), their SQL text. */
static int
note_statement (unsigned kind, void *data, void *p, void *x)
{
  const char *sql = sqlite3_sql (p);

  if (kind == SQLITE_TRACE_STMT && sql != NULL && !g_str_has_prefix (sql, "--"))
    g_hash_table_add (data, g_strdup (sql));
  return 0;
}

/* Every statement of @seen that reads or writes the edits (record_writes,
 * the view field_edits) or the field versions (record_versions) finds its rows through their keys' indexes: none scans
 * either table, by its name or an alias (EXPLAIN QUERY PLAN). Returns how
 * many were checked. */
static guint
assert_edit_tables_by_key (sqlite3 *db, GHashTable *seen)
{
  g_autoptr(GRegex) scan = g_regex_new ("^.*SCAN (field_edits|field_versions|record_versions|record_writes|e|c|v|w|o)( |$)",
                                        G_REGEX_MULTILINE, 0, NULL);
  GHashTableIter iter;
  gpointer sql;
  guint checked = 0;

  g_hash_table_iter_init (&iter, seen);
  while (g_hash_table_iter_next (&iter, &sql, NULL))
    {
      g_autofree char *explain = NULL;
      g_autofree char *plan = NULL;

      if (strstr (sql, "field_edits") == NULL && strstr (sql, "field_versions") == NULL &&
          strstr (sql, "record_versions") == NULL && strstr (sql, "record_writes") == NULL)
        continue;
      explain = g_strconcat ("EXPLAIN QUERY PLAN ", sql, NULL);
      plan = dump (db, explain);
      if (g_regex_match (scan, plan, 0, NULL))
        g_error ("a statement scans an edit table:\n%s\n%s", (const char *) sql, plan);
      checked++;
    }
  return checked;
}

/* A store from before migration 0011 (@data 10) or 0013 (12), whose
 * fields have edits of every kind (one edit, two heads with an open
 * conflict, an edit over a conflict) and a write not pushed yet, is
 * migrated (keyed by 0011, its outbox kept by 0012, its field versions a
 * row a record by 0013) with the same rows, values, conflicts and
 * pending outbox rows as a store that had it all along, pushes the same
 * changes, and merges later edits the same. The reference is a twin:
 * another store with the same device id and clock, given the same writes
 * and pulls, that never went back. Every statement that touched the edit
 * tables meanwhile found its rows through their keys. */
static void
test_edit_tables_migration (gconstpointer data)
{
  guint back = GPOINTER_TO_UINT (data);
  g_autofree char *name_a = g_strdup_printf ("sync-keys-%u-a", back);
  g_autofree char *name_twin = g_strdup_printf ("sync-keys-%u-twin", back);
  g_autofree char *name_b = g_strdup_printf ("sync-keys-%u-b", back);
  g_autoptr(Replica) a = replica_new_device (name_a, "keys-device-a", START_MS);
  g_autoptr(Replica) twin = replica_new_device (name_twin, "keys-device-a", START_MS);
  g_autoptr(Replica) b = replica_new (name_b, START_MS + 150000);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GPtrArray) twin_log = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) error = NULL;
  const char *h = "0b6f5c2e-3f1a-4c1e-9a3b-2f5d6e7a8b01";
  const char *t = "0b6f5c2e-3f1a-4c1e-9a3b-2f5d6e7a8b02";
  Replica *pair[] = { a, twin };
  g_autofree char *before = NULL;
  g_autofree char *conflict = NULL;

  /* Stores of before migration 0012 number one row a field: A's pending
   * rows go through 0012 (and 0011) as they are. A store at 12 numbers a
   * write once. */
  for (guint i = 0; i < G_N_ELEMENTS (pair) && back < 12; i++)
    test_exec (pair[i]->db, "DELETE FROM sync_state WHERE key = 'outbox_edits'");
  sqlite3_trace_v2 (b->db, SQLITE_TRACE_STMT, note_statement, seen);
  for (guint i = 0; i < G_N_ELEMENTS (pair); i++)
    {
      put (pair[i], "households", h, TRUE, "village_code", "150422100202", "phone", "0", NULL);
      put (pair[i], "tasks", t, TRUE, "household_id", h, "kind", "follow_up", "due_date", "2026-04-01", NULL);
    }
  push (a, 0, log, 500);
  push (twin, 0, twin_log, 500);
  pull_all (b, 1, log);
  /* Offline on both sides: two heads of the status and of the phone. */
  for (guint i = 0; i < G_N_ELEMENTS (pair); i++)
    {
      pair[i]->clock_ms += 1000;
      put (pair[i], "tasks", t, FALSE, "status", "done", NULL);
      put (pair[i], "households", h, FALSE, "phone", "1", NULL);
    }
  b->clock_ms += 1000;
  put (b, "tasks", t, FALSE, "status", "cancelled", NULL);
  put (b, "households", h, FALSE, "phone", "2", NULL);
  g_ptr_array_set_size (log, 0);
  push (a, 0, log, 500);
  push (twin, 0, twin_log, 500);
  push (b, 1, log, 500);
  pull_all (a, 0, log);
  pull_all (twin, 0, log);
  pull_all (b, 1, log);
  g_assert_cmpint (count (a, "SELECT count (*) FROM conflicts WHERE resolved_at IS NULL"), ==, 2);
  /* A's next write over the phone's two heads: an edit naming both. */
  for (guint i = 0; i < G_N_ELEMENTS (pair); i++)
    {
      pair[i]->clock_ms += 1000;
      put (pair[i], "households", h, FALSE, "phone", "2", NULL);
      /* A write not pushed yet: pending rows through the migrations. */
      put (pair[i], "tasks", t, FALSE, "assignee", "li.qiang", "reason", "a pending write", NULL);
    }
  before = edit_tables_of (a);
  {
    g_autofree char *x = edit_tables_of (twin);
    g_assert_cmpstr (before, ==, x);
  }

  /* A goes back and is opened by this version: the migrations again. */
  if (back == 10)
    edit_tables_back_to_10 (a);
  else if (back == 12)
    edit_tables_back_to_12 (a);
  else
    edit_tables_back_to_13 (a);
  {
    g_autofree char *pending = dump (a->db, "SELECT * FROM sync_outbox ORDER BY seq");

    g_assert_cmpint (count (a, back < 12
                               ? "SELECT count (*) FROM sync_outbox WHERE state = 'pending' AND kind = 'edit'"
                               : "SELECT count (*) FROM sync_outbox WHERE state = 'pending' AND kind = 'edits'"),
                     >, 0);
    replica_detach (a);
    replica_attach (a, name_a);
    {
      g_autofree char *after = dump (a->db, "SELECT * FROM sync_outbox ORDER BY seq");

      /* Migration 0012 keeps the pending rows of one field each, 0013
       * every row as it is. */
      g_assert_cmpstr (after, ==, pending);
    }
    /* 0012 groups the later writes of a store not enrolled: A's twin
     * does not. */
    if (back < 12)
      test_exec (a->db, "DELETE FROM sync_state WHERE key = 'outbox_edits'");
  }
  g_assert_cmpint (count (a, "PRAGMA user_version"), >=, 14);
  g_assert_cmpint (count (a, "SELECT count (*) FROM sqlite_schema WHERE name IN ('record_writes_key', "
                             "'record_versions_key') AND type = 'index'"), ==, 2);
  g_assert_cmpint (count (a, "SELECT count (*) FROM sqlite_schema WHERE name IN ('field_versions', 'field_edits') "
                             "AND type = 'view'"), ==, 2);
  /* One row a record (a household and a task), each field's version in it. */
  g_assert_cmpint (count (a, "SELECT count (*) FROM record_versions"), ==, 2);
  /* One row a write (migration 0014): the fields of a write share it. */
  g_assert_cmpint (count (a, "SELECT count (*) FROM record_writes"), ==,
                   count (a, "SELECT count (DISTINCT record_table || record_id || hlc) FROM field_edits"));
  g_assert_cmpint (count (a, "SELECT count (*) FROM record_writes"), <, count (a, "SELECT count (*) FROM field_edits"));
  {
    g_autofree char *x = dump (a->db, "SELECT record_table, record_id, hlc, wall, fields FROM record_writes "
                                      "ORDER BY record_table, record_id, hlc");
    g_autofree char *y = dump (twin->db, "SELECT record_table, record_id, hlc, wall, fields FROM record_writes "
                                         "ORDER BY record_table, record_id, hlc");

    if (back == 13)
      g_assert_cmpstr (x, ==, y);
  }
  {
    g_autofree char *after = edit_tables_of (a);
    g_autofree char *x = state_of (a);
    g_autofree char *y = state_of (twin);
    g_autofree char *check = query_text (a->db, "PRAGMA integrity_check");

    g_assert_cmpstr (after, ==, before);
    g_assert_cmpstr (x, ==, y);
    /* The indexes hold every row under its key. */
    g_assert_cmpstr (check, ==, "ok");
  }
  /* The keys are the functions' (store-keys.h): a record's writes under
   * its key, each under its version's too. */
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM field_edits WHERE rkey = %" G_GINT64_FORMAT
                                            " AND vkey = hearth_version_key (hlc) AND field = 'status'",
                                            hearth_store_edit_key ("tasks", t, NULL));
    g_autofree char *range = g_strdup_printf ("SELECT count (DISTINCT field) FROM field_edits WHERE rkey = %"
                                              G_GINT64_FORMAT, hearth_store_edit_key ("households", h, NULL));

    g_assert_cmpint (count (a, sql), ==, 2);
    g_assert_cmpint (count (a, range), ==, count (a, "SELECT count (DISTINCT field) FROM field_edits "
                                                     "WHERE record_table = 'households'"));
  }

  /* Later merges: the status's conflict resolved on A (and its twin), B
   * writes the phone over its heads meanwhile; everyone exchanges. */
  conflict = query_text (a->db, "SELECT id FROM conflicts WHERE resolved_at IS NULL AND field = 'status'");
  g_assert_nonnull (conflict);
  sqlite3_trace_v2 (a->db, SQLITE_TRACE_STMT, note_statement, seen);
  for (guint i = 0; i < G_N_ELEMENTS (pair); i++)
    {
      pair[i]->clock_ms += 1000;
      g_assert_true (hearth_case_resolve_conflict (pair[i]->cases, conflict, HEARTH_ROLE_COUNTY, "done", &error));
      g_assert_no_error (error);
    }
  b->clock_ms += 1000;
  put (b, "households", h, FALSE, "phone", "3", NULL);
  g_ptr_array_set_size (log, 0);
  g_ptr_array_set_size (twin_log, 0);
  push (a, 0, log, 500);
  push (twin, 0, twin_log, 500);
  push (b, 1, log, 500);
  pull_all (a, 0, log);
  pull_all (twin, 0, log);
  pull_all (b, 1, log);
  /* A's edits pushed after the migration are its twin's: the write
   * pending through it, then the resolution (their audit entries name
   * each store's user, by an id of its own). */
  {
    guint a_at = 0, twin_at = 0;

    for (guint i = 0; i < log->len; i++)
      if (((Relayed *) log->pdata[i])->origin == 0 && strstr (((Relayed *) log->pdata[i])->json, "\"kind\":\"edit"))
        {
          while (twin_at < twin_log->len && !strstr (((Relayed *) twin_log->pdata[twin_at])->json, "\"kind\":\"edit"))
            twin_at++;
          g_assert_cmpuint (twin_at, <, twin_log->len);
          g_assert_cmpstr (((Relayed *) log->pdata[i])->json, ==, ((Relayed *) twin_log->pdata[twin_at])->json);
          twin_at++;
          a_at++;
        }
    g_assert_cmpuint (a_at, >=, 2);
  }
  {
    g_autoptr(GPtrArray) listed = hearth_case_conflicts_list (a->db, NULL, &error);
    g_autofree char *x = NULL, *y = NULL, *sa = NULL, *st = NULL, *sb = NULL;

    g_assert_no_error (error);
    /* The test's own reads below scan as they like. */
    sqlite3_trace_v2 (a->db, 0, NULL, NULL);
    sqlite3_trace_v2 (b->db, 0, NULL, NULL);
    x = edit_tables_of (a);
    y = edit_tables_of (twin);
    sa = state_of (a);
    st = state_of (twin);
    sb = state_of (b);
    g_assert_cmpstr (x, ==, y);
    g_assert_cmpstr (sa, ==, st);
    g_assert_cmpstr (sa, ==, sb);
    g_assert_cmpint (count (a, "SELECT count (*) FROM tasks WHERE status = 'done'"), ==, 1);
    g_assert_cmpint (count (a, "SELECT count (*) FROM conflicts WHERE resolved_at IS NULL AND field = 'status'"), ==, 0);
    g_assert_cmpuint (listed->len, ==, (guint) count (a, "SELECT count (DISTINCT field) FROM conflicts "
                                                         "WHERE resolved_at IS NULL"));
  }
  g_assert_cmpuint (assert_edit_tables_by_key (a->db, seen), >=, 8);
}

static void
test_agreeing_edits (void)
{
  g_autoptr(Replica) a = replica_new ("sync-agree-a", START_MS);
  g_autoptr(Replica) b = replica_new ("sync-agree-b", START_MS + 150000);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autofree char *h = g_uuid_string_random ();
  g_autofree char *t = g_uuid_string_random ();
  g_autoptr(GError) error = NULL;

  put (a, "households", h, TRUE, "village_code", "150422100202", NULL);
  put (a, "tasks", t, TRUE, "household_id", h, "kind", "follow_up", "due_date", "2026-04-01", NULL);
  push (a, 0, log, 500);
  pull_all (b, 1, log);
  /* Both close the task offline. */
  a->clock_ms += 1000;
  b->clock_ms += 1000;
  put (a, "tasks", t, FALSE, "status", "done", NULL);
  put (b, "tasks", t, FALSE, "status", "done", NULL);
  g_ptr_array_set_size (log, 0);
  push (a, 0, log, 500);
  push (b, 1, log, 500);
  pull_all (a, 0, log);
  pull_all (b, 1, log);
  g_assert_cmpint (count (a, "SELECT count (*) FROM conflicts"), ==, 0);
  g_assert_cmpint (count (b, "SELECT count (*) FROM conflicts"), ==, 0);

  /* A reopens it: the edit replaces both "done", here and on B. */
  a->clock_ms += 1000;
  put (a, "tasks", t, FALSE, "status", "cancelled", NULL);
  g_assert_cmpint (count (a, "SELECT count (*) FROM field_edits WHERE field = 'status' AND value = 'cancelled' "
                             "AND parents LIKE '% %'"), ==, 1);
  g_ptr_array_set_size (log, 0);
  push (a, 0, log, 500);
  pull_all (b, 1, log);
  g_assert_cmpint (count (a, "SELECT count (*) FROM conflicts"), ==, 0);
  g_assert_cmpint (count (b, "SELECT count (*) FROM conflicts"), ==, 0);
  g_assert_cmpint (count (b, "SELECT count (*) FROM tasks WHERE status = 'cancelled'"), ==, 1);

  /* Both edit it again offline, with different values: one conflict; a
   * resolution names both heads and closes it on both. */
  a->clock_ms += 1000;
  b->clock_ms += 1000;
  put (a, "tasks", t, FALSE, "status", "open", NULL);
  put (b, "tasks", t, FALSE, "status", "done", NULL);
  g_ptr_array_set_size (log, 0);
  push (a, 0, log, 500);
  push (b, 1, log, 500);
  pull_all (a, 0, log);
  pull_all (b, 1, log);
  {
    g_autofree char *x = state_of (a);
    g_autofree char *y = state_of (b);
    g_autofree char *id = query_text (a->db, "SELECT id FROM conflicts WHERE resolved_at IS NULL");

    g_assert_cmpstr (x, ==, y);
    g_assert_nonnull (id);
    a->clock_ms += 1000;
    g_assert_true (hearth_case_resolve_conflict (a->cases, id, HEARTH_ROLE_COUNTY, "open", &error));
    g_assert_no_error (error);
  }
  g_ptr_array_set_size (log, 0);
  push (a, 0, log, 500);
  pull_all (b, 1, log);
  g_assert_cmpint (count (b, "SELECT count (*) FROM conflicts WHERE resolved_at IS NULL"), ==, 0);
  g_assert_cmpint (count (b, "SELECT count (*) FROM tasks WHERE status = 'open'"), ==, 1);
  {
    g_autofree char *x = state_of (a);
    g_autofree char *y = state_of (b);
    g_assert_cmpstr (x, ==, y);
  }
}

/* Another device's audit entries delivered again: the same content
 * changes nothing, other content at a place of its chain already taken is
 * refused (the row kept), a new place is taken: apply_audit() inserts
 * first and reads only when the place is taken. */
static void
test_audit_again (void)
{
  g_autoptr(Replica) a = replica_new ("sync-audit-again-a", START_MS);
  g_autoptr(Replica) b = replica_new ("sync-audit-again-b", START_MS);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GPtrArray) again = g_ptr_array_new ();
  g_autoptr(GPtrArray) page = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *household = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  HearthChange *c = NULL;
  guint rejected = 0;
  gint64 n;

  record_registration_and_visit (a, &household);
  push (a, 0, log, 500);
  pull_all (b, G_MAXUINT, log);
  n = count (b, "SELECT count (*) FROM audit_foreign");
  g_assert_cmpint (n, >, 0);
  g_assert_cmpint (n, ==, count (a, "SELECT count (*) FROM audit_log"));
  before = query_text (b->db, "SELECT group_concat (device_id || seq || id || at || actor || action || record_table "
                              "|| record_id || fields || prev_hash || hash, ';') FROM (SELECT * FROM audit_foreign "
                              "ORDER BY device_id, seq)");
  /* The same entries again: nothing refused, nothing changed. */
  for (guint i = 0; i < log->len; i++)
    if (strstr (((Relayed *) log->pdata[i])->json, "\"audit\"") != NULL)
      g_ptr_array_add (again, ((Relayed *) log->pdata[i])->json);
  g_assert_cmpuint (again->len, >, 0);
  g_assert_cmpuint (apply_texts (b, again, log->len + again->len), ==, 0);
  after = query_text (b->db, "SELECT group_concat (device_id || seq || id || at || actor || action || record_table "
                             "|| record_id || fields || prev_hash || hash, ';') FROM (SELECT * FROM audit_foreign "
                             "ORDER BY device_id, seq)");
  g_assert_cmpstr (before, ==, after);
  /* The first again with another hash: refused, the row as it was; and
   * the same at a place not taken: stored. */
  for (guint k = 0; k < 2; k++)
    {
      c = change_from_text (again->pdata[0], 0);
      g_assert_cmpstr (c->table, ==, "audit");
      g_hash_table_insert (c->fields, g_strdup ("hash"), g_strdup ("not-the-hash"));
      if (k == 1)
        g_hash_table_insert (c->fields, g_strdup ("seq"), g_strdup ("900000"));
      g_ptr_array_add (page, c);
    }
  g_assert_true (hearth_sync_store_apply (b->sync, page, log->len + again->len + 2, FALSE, &rejected, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rejected, ==, 1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM sync_apply_errors WHERE record_table = 'audit' "
                             "AND message LIKE '%received before with other content%'"), ==, 1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM audit_foreign WHERE hash = 'not-the-hash'"), ==, 1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM audit_foreign WHERE hash = 'not-the-hash' AND seq = 900000"), ==,
                   1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM audit_foreign"), ==, n + 1);
}

/* A record that arrives again with other content, and other bad changes,
 * are recorded and skipped; the rest of the page applies. */
static void
test_rejected (void)
{
  g_autoptr(Replica) a = replica_new ("sync-reject-a", START_MS);
  g_autoptr(Replica) b = replica_new ("sync-reject-b", START_MS);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GPtrArray) page = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autofree char *household = NULL;
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *other_visit = g_uuid_string_random ();
  g_autoptr(GError) error = NULL;
  HearthChange *c;
  guint rejected = 0;

  record_registration_and_visit (a, &household);
  push (a, 0, log, 500);
  pull_all (b, G_MAXUINT, log);
  /* The visit's submission with other content. */
  for (guint i = 0; i < log->len; i++)
    {
      c = change_from_text (((Relayed *) log->pdata[i])->json, 0);
      if (g_strcmp0 (c->id, VISIT_ID) == 0)
        {
          g_hash_table_insert (c->fields, g_strdup ("instance_xml"), g_strdup ("<data/>"));
          g_ptr_array_add (page, c);
          break;
        }
      hearth_change_free (c);
    }
  g_assert_cmpuint (page->len, ==, 1);
  /* The same submission without its author (a column that may not be
   * NULL): other content too, not the table's refusal. And a new one
   * without it: the table's refusal. */
  for (guint i = 0; i < log->len; i++)
    for (guint k = 0; k < 2; k++)
      {
        c = change_from_text (((Relayed *) log->pdata[i])->json, 0);
        if (g_strcmp0 (c->table, "submissions") != 0 || g_strcmp0 (c->id, VISIT_ID) != 0)
          {
            hearth_change_free (c);
            break;
          }
        g_hash_table_remove (c->fields, "author");
        if (k == 1)
          {
            g_free (c->id);
            c->id = g_strdup (other_visit);
          }
        /* First: the visit's row (its first refusal) is this one's. */
        g_ptr_array_insert (page, (gint) k, c);
      }
  g_assert_cmpuint (page->len, ==, 3);
  /* An edit of a field households do not have, and one of its created_at. */
  c = hearth_change_new (HEARTH_CHANGE_EDIT);
  c->table = g_strdup ("households");
  c->id = g_strdup (household);
  c->field = g_strdup ("colour");
  c->value = g_strdup ("blue");
  c->hlc = g_strdup ("001772676000000-00000000-OTHER");
  g_ptr_array_add (page, c);
  c = hearth_change_new (HEARTH_CHANGE_EDIT);
  c->table = g_strdup ("households");
  c->id = g_strdup (household);
  c->field = g_strdup ("created_at");
  c->value = g_strdup ("1970-01-01");
  c->hlc = g_strdup ("001772676000000-00000001-OTHER");
  g_ptr_array_add (page, c);
  /* A value the table refuses: the record is left as it was. */
  c = hearth_change_new (HEARTH_CHANGE_EDIT);
  c->table = g_strdup ("households");
  c->id = g_strdup (household);
  c->field = g_strdup ("risk_level");
  c->value = g_strdup ("purple");
  c->hlc = g_strdup ("001772676300000-00000000-OTHER");
  g_ptr_array_add (page, c);
  /* A good one of the same household: taken all the same. */
  c = hearth_change_new (HEARTH_CHANGE_EDIT);
  c->table = g_strdup ("households");
  c->id = g_strdup (household);
  c->field = g_strdup ("phone");
  c->value = g_strdup ("13900000000");
  c->hlc = g_strdup ("001772676300000-00000001-OTHER");
  g_ptr_array_add (page, c);
  /* And a good one: a new household. */
  c = hearth_change_new (HEARTH_CHANGE_EDIT);
  c->table = g_strdup ("households");
  c->id = g_strdup (id);
  c->field = g_strdup ("village_code");
  c->value = g_strdup ("150422100301");
  c->hlc = g_strdup ("001772676000000-00000002-OTHER");
  g_ptr_array_add (page, c);

  g_assert_true (hearth_sync_store_apply (b->sync, page, 900, FALSE, &rejected, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rejected, ==, 6);
  /* The two refusals of the visit are one row (its key has no field),
   * the first's. */
  g_assert_cmpint (count (b, "SELECT count (*) FROM sync_apply_errors"), ==, 5);
  g_assert_cmpint (count (b, "SELECT count (*) FROM sync_apply_errors WHERE record_id = '" VISIT_ID "' "
                             "AND message LIKE '%other content%'"), ==, 1);
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM sync_apply_errors WHERE record_id = '%s' "
                                            "AND message LIKE '%%NOT NULL%%author%%'", other_visit);
    g_assert_cmpint (count (b, sql), ==, 1);
    g_clear_pointer (&sql, g_free);
    sql = g_strdup_printf ("SELECT count (*) FROM submissions WHERE id = '%s'", other_visit);
    g_assert_cmpint (count (b, sql), ==, 0);
  }
  g_assert_cmpint (count (b, "SELECT count (*) FROM submissions WHERE instance_xml = '<data/>'"), ==, 0);
  {
    g_autofree char *level = query_text (b->db, "SELECT risk_level FROM households WHERE id = (SELECT id FROM "
                                                "households WHERE village_code != '150422100301')");
    g_autofree char *phone = query_text (b->db, "SELECT phone FROM households WHERE village_code != '150422100301'");
    g_assert_cmpstr (level, ==, "orange");
    g_assert_cmpstr (phone, ==, "13900000000");
  }
  g_assert_cmpint (count (b, "SELECT count (*) FROM households WHERE village_code = '150422100301'"), ==, 1);
  g_assert_cmpint (count (b, "SELECT value FROM sync_state WHERE key = 'cursor'"), ==, 900);
  /* Applied again: the same errors, once each. */
  g_assert_true (hearth_sync_store_apply (b->sync, page, 900, FALSE, &rejected, &error));
  g_assert_cmpint (count (b, "SELECT count (*) FROM sync_apply_errors"), ==, 5);
}

/* A version far ahead of the center's time is no center's (it clamps
 * what it accepts, PROTOCOL.md section 6.3): the tablet refuses it rather
 * than move its clock a day ahead (issue 5, M7). The bound is the center's
 * time as the tablet estimates it, so a tablet whose clock is a day behind
 * the center still takes the center's versions. */
static void
test_future_version (void)
{
  g_autoptr(Replica) b = replica_new ("sync-future-b", START_MS);
  g_autoptr(GPtrArray) page = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *household = g_uuid_string_random ();
  g_autofree char *clock = NULL;
  HearthChange *c;
  HearthHlc last;
  guint rejected = 0;
  const gint64 day = 24 * 3600 * 1000;
  const char *values[] = { "150422100301", "13800000000" };
  const char *fields[] = { "village_code", "phone" };
  gint64 walls[] = { START_MS + 9 * 60 * 1000, START_MS + day };

  for (guint i = 0; i < G_N_ELEMENTS (walls); i++)
    {
      c = hearth_change_new (HEARTH_CHANGE_EDIT);
      c->table = g_strdup ("households");
      c->id = g_strdup (household);
      c->field = g_strdup (fields[i]);
      c->value = g_strdup (values[i]);
      c->hlc = g_strdup_printf ("%015" G_GINT64_FORMAT "-00000000-OTHER", walls[i]);
      g_ptr_array_add (page, c);
    }
  g_assert_true (hearth_sync_store_apply (b->sync, page, 2, FALSE, &rejected, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rejected, ==, 1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM sync_apply_errors WHERE field = 'phone' "
                             "AND message LIKE '%ahead of the center%'"), ==, 1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM field_edits WHERE field = 'phone'"), ==, 0);
  /* The clock followed the version nine minutes ahead, not the other. */
  clock = query_text (b->db, "SELECT value FROM store_meta WHERE key = 'hlc_last'");
  g_assert_true (hearth_hlc_parse (clock, &last, NULL));
  g_assert_cmpint (last.wall_ms, ==, walls[0]);

  /* The same page to a tablet a day behind the center: both taken. */
  g_assert_true (hearth_sync_store_set_exchange (b->sync, day, 0, &error));
  g_assert_no_error (error);
  g_assert_true (hearth_sync_store_apply (b->sync, page, 2, FALSE, &rejected, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rejected, ==, 0);
  g_assert_cmpint (count (b, "SELECT count (*) FROM field_edits WHERE field = 'phone'"), ==, 1);
  /* The offset of the exchange in progress is the one that counts. */
  hearth_sync_store_set_center_offset (b->sync, 0);
  c = page->pdata[1];
  g_free (c->hlc);
  c->hlc = g_strdup_printf ("%015" G_GINT64_FORMAT "-00000001-OTHER", START_MS + day);
  g_assert_true (hearth_sync_store_apply (b->sync, page, 3, FALSE, &rejected, &error));
  g_assert_cmpuint (rejected, ==, 1);
}

/* A conflict of more heads than an edit may name parents (20 against
 * HEARTH_CHANGE_MAX_PARENTS): the resolution is written in steps, each an
 * edit the protocol's codec takes, and closes every conflict here and on
 * a replica that receives it (issue 5, M8). */
static void
test_many_heads (void)
{
  g_autoptr(Replica) a = replica_new ("sync-heads-a", START_MS);
  g_autoptr(Replica) b = replica_new ("sync-heads-b", START_MS);
  g_autoptr(Replica) c = replica_new ("sync-heads-c", START_MS);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) resolution = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *household = NULL;
  g_autofree char *base = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *conflict = NULL;
  guint phones = 0;

  record_registration_and_visit (a, &household);
  push (a, 0, log, 500);
  pull_all (b, G_MAXUINT, log);
  pull_all (c, G_MAXUINT, log);
  sql = g_strdup_printf ("SELECT hlc FROM field_versions WHERE record_table = 'households' AND record_id = '%s' "
                         "AND field = 'phone'", household);
  base = query_text (b->db, sql);
  g_assert_nonnull (base);
  /* Twenty devices set the phone offline, each over the same version. */
  for (guint i = 0; i < 20; i++)
    g_ptr_array_add (texts, g_strdup_printf ("{\"kind\": \"edit\", \"table\": \"households\", \"id\": \"%s\", "
                                             "\"household\": \"%s\", \"village\": \"150422100301\", \"field\": "
                                             "\"phone\", \"value\": \"138000000%02u\", \"hlc\": \"%015" G_GINT64_FORMAT
                                             "-00000000-DEVICE%02u\", \"parents\": [\"%s\"]}",
                                             household, household, i, START_MS + 1000 + i, i, base));
  g_assert_cmpuint (apply_texts (b, texts, 1000), ==, 0);
  g_assert_cmpuint (apply_texts (c, texts, 1000), ==, 0);
  g_assert_cmpint (count (b, "SELECT count (*) FROM conflicts WHERE field = 'phone' AND resolved_at IS NULL"), ==, 19);

  conflict = query_text (b->db, "SELECT id FROM conflicts WHERE field = 'phone' AND resolved_at IS NULL LIMIT 1");
  b->clock_ms += 60000;
  g_assert_true (hearth_case_resolve_conflict (b->cases, conflict, HEARTH_ROLE_CLERK, "13900000000", &error));
  g_assert_no_error (error);
  g_assert_cmpint (count (b, "SELECT count (*) FROM conflicts WHERE field = 'phone' AND resolved_at IS NULL"), ==, 0);
  g_free (sql);
  sql = g_strdup_printf ("SELECT phone FROM households WHERE id = '%s'", household);
  {
    g_autofree char *phone = query_text (b->db, sql);
    g_assert_cmpstr (phone, ==, "13900000000");
  }

  /* What it pushes: edits the codec reads back (change_from_text
   * asserts it), none with more parents than allowed. */
  push (b, 1, resolution, 500);
  for (guint i = 0; i < resolution->len; i++)
    {
      g_autoptr(HearthChange) pushed = change_from_text (((Relayed *) resolution->pdata[i])->json, 0);
      /* Each step a write of its own (kind "edits" of the one field). */
      g_autoptr(GPtrArray) edits = hearth_change_expand (pushed);

      for (guint j = 0; j < edits->len; j++)
        {
          HearthChange *e = edits->pdata[j];

          if (e->kind == HEARTH_CHANGE_EDIT && g_str_equal (e->field, "phone"))
            {
              phones++;
              g_assert_cmpuint (e->parents->len, <=, HEARTH_CHANGE_MAX_PARENTS);
              g_assert_cmpstr (e->value, ==, "13900000000");
            }
        }
    }
  g_assert_cmpuint (phones, ==, 2);
  pull_all (c, 0, resolution);
  g_assert_cmpint (count (c, "SELECT count (*) FROM conflicts WHERE field = 'phone' AND resolved_at IS NULL"), ==, 0);
  {
    g_autofree char *phone = query_text (c->db, sql);
    g_assert_cmpstr (phone, ==, "13900000000");
  }
}

/* A page that fails is not applied at all: neither its data nor its
 * cursor. */
static void
test_apply_atomic (void)
{
  g_autoptr(Replica) a = replica_new ("sync-atomic-a", START_MS);
  g_autoptr(Replica) b = replica_new ("sync-atomic-b", START_MS);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GPtrArray) page = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autofree char *household = NULL;
  g_autofree char *before = NULL;
  g_autoptr(GError) error = NULL;
  const char *faults[] = {
    /* Mid-page: the members are created after the household (a function
     * that does not exist fails the statement, not as a constraint). */
    "CREATE TEMP TRIGGER fault AFTER INSERT ON main.members BEGIN SELECT no_such_function (); END",
    /* At the very end: storing the cursor. */
    "CREATE TEMP TRIGGER fault BEFORE UPDATE ON main.sync_state WHEN NEW.key = 'cursor' "
    "BEGIN SELECT RAISE (ABORT, 'injected'); END",
  };

  record_registration_and_visit (a, &household);
  push (a, 0, log, 500);
  for (guint i = 0; i < log->len; i++)
    g_ptr_array_add (page, change_from_text (((Relayed *) log->pdata[i])->json, i + 1));
  before = dump (b->db, "SELECT (SELECT count (*) FROM households), (SELECT count (*) FROM members), "
                        "(SELECT count (*) FROM field_edits), (SELECT count (*) FROM submissions), "
                        "(SELECT count (*) FROM audit_foreign), (SELECT group_concat (key || '=' || value) "
                        "FROM sync_state), (SELECT hlc_last FROM (SELECT value AS hlc_last FROM store_meta "
                        "WHERE key = 'hlc_last'))");
  for (guint i = 0; i < G_N_ELEMENTS (faults); i++)
    {
      g_autofree char *after = NULL;

      test_exec (b->db, faults[i]);
      g_assert_false (hearth_sync_store_apply (b->sync, page, 500, FALSE, NULL, &error));
      g_assert_nonnull (error);
      g_test_message ("fault %u: %s", i, error->message);
      g_clear_error (&error);
      test_exec (b->db, "DROP TRIGGER temp.fault");
      after = dump (b->db, "SELECT (SELECT count (*) FROM households), (SELECT count (*) FROM members), "
                           "(SELECT count (*) FROM field_edits), (SELECT count (*) FROM submissions), "
                           "(SELECT count (*) FROM audit_foreign), (SELECT group_concat (key || '=' || value) "
                           "FROM sync_state), (SELECT hlc_last FROM (SELECT value AS hlc_last FROM store_meta "
                           "WHERE key = 'hlc_last'))");
      g_assert_cmpstr (after, ==, before);
      g_assert_true (sqlite3_get_autocommit (b->db));
    }
  /* Without the fault, the same page applies whole. */
  g_assert_true (hearth_sync_store_apply (b->sync, page, 500, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count (b, "SELECT count (*) FROM members"), ==, 5);
  g_assert_cmpint (count (b, "SELECT value FROM sync_state WHERE key = 'cursor'"), ==, 500);
}

/* ---- the lease, the enrolment ------------------------------------------------------------------ */

static void
test_lease (void)
{
  g_autoptr(Replica) a = replica_new ("sync-lease", START_MS);
  g_autoptr(HearthSyncStore) other = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *holder = NULL;

  /* A second sync store on the same store: another process, as it were. */
  other = hearth_sync_store_new (a->cases);
  g_assert_null (hearth_sync_store_lease_holder (a->sync));
  g_assert_true (hearth_sync_store_lease_acquire (a->sync, "cli 1", HEARTH_SYNC_LEASE_MS, &error));
  g_assert_no_error (error);
  g_assert_false (hearth_sync_store_lease_acquire (other, "app 2", HEARTH_SYNC_LEASE_MS, &error));
  g_assert_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_LEASE);
  g_assert_nonnull (strstr (error->message, "cli 1"));
  g_clear_error (&error);
  holder = hearth_sync_store_lease_holder (other);
  g_assert_cmpstr (holder, ==, "cli 1");
  /* The holder may take it again, and renews it per page. */
  g_assert_true (hearth_sync_store_lease_acquire (a->sync, "cli 1", HEARTH_SYNC_LEASE_MS, &error));
  a->clock_ms += HEARTH_SYNC_LEASE_MS - 1000;
  g_assert_true (hearth_sync_store_lease_renew (a->sync, "cli 1", HEARTH_SYNC_LEASE_MS, &error));
  a->clock_ms += HEARTH_SYNC_LEASE_MS - 1000;
  g_assert_false (hearth_sync_store_lease_acquire (other, "app 2", HEARTH_SYNC_LEASE_MS, &error));
  g_clear_error (&error);
  g_assert_false (hearth_sync_store_lease_renew (other, "app 2", HEARTH_SYNC_LEASE_MS, &error));
  g_assert_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_LEASE);
  g_clear_error (&error);
  /* A holder killed mid-sync: its lease expires and is free. */
  a->clock_ms += 2000;
  g_clear_pointer (&holder, g_free);
  holder = hearth_sync_store_lease_holder (other);
  g_assert_null (holder);
  g_assert_true (hearth_sync_store_lease_acquire (other, "app 2", HEARTH_SYNC_LEASE_MS, &error));
  g_assert_no_error (error);
  g_assert_false (hearth_sync_store_lease_renew (a->sync, "cli 1", HEARTH_SYNC_LEASE_MS, &error));
  g_assert_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_LEASE);
  g_clear_error (&error);
  /* Releasing another's lease does nothing; releasing one's own frees it. */
  g_assert_true (hearth_sync_store_lease_release (a->sync, "cli 1", &error));
  holder = hearth_sync_store_lease_holder (a->sync);
  g_assert_cmpstr (holder, ==, "app 2");
  g_clear_pointer (&holder, g_free);
  g_assert_true (hearth_sync_store_lease_release (other, "app 2", &error));
  g_assert_null (hearth_sync_store_lease_holder (a->sync));
  g_assert_false (hearth_sync_store_lease_acquire (a->sync, "", HEARTH_SYNC_LEASE_MS, &error));
  g_assert_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID);
}

static void
test_enrolment (void)
{
  g_autoptr(Replica) a = replica_new ("sync-enrol", START_MS);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthSyncEnrolment) got = NULL;
  g_autoptr(HearthSecret) key = hearth_secret_new_random (HEARTH_SYNC_SECRET_KEY_SIZE);
  g_autoptr(HearthSecret) short_key = hearth_secret_new_random (32);
  g_autoptr(HearthSecret) loaded = NULL;
  char *scope[] = { "361102001201", "361102002", NULL };
  HearthSyncEnrolment e = { "https://center.example", "wang.fang", "worker", scope, "361102", "AAAA" };

  g_assert_null (hearth_sync_store_get_enrolment (a->sync, &error));
  g_assert_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_NOT_ENROLLED);
  g_clear_error (&error);
  g_assert_null (hearth_sync_store_load_secret_key (a->sync, &error));
  g_assert_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_NOT_ENROLLED);
  g_clear_error (&error);
  g_assert_false (hearth_sync_store_set_enrolment (a->sync, &e, short_key, &error));
  g_assert_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_true (hearth_sync_store_set_enrolment (a->sync, &e, key, &error));
  g_assert_no_error (error);
  got = hearth_sync_store_get_enrolment (a->sync, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->center_url, ==, e.center_url);
  g_assert_cmpstr (got->user, ==, "wang.fang");
  g_assert_cmpstr (got->role, ==, "worker");
  g_assert_cmpuint (g_strv_length (got->scope), ==, 2);
  g_assert_cmpstr (got->scope[1], ==, "361102002");
  g_assert_cmpstr (got->county, ==, "361102");
  loaded = hearth_sync_store_load_secret_key (a->sync, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (hearth_secret_peek (loaded), hearth_secret_get_size (loaded), hearth_secret_peek (key),
                   HEARTH_SYNC_SECRET_KEY_SIZE);
}

/* ---- the property ----------------------------------------------------------------------------- */

#define N_REPLICAS 3
#define N_ROUNDS 100

static const char *const villages[] = { "150422100201", "150422100202", "150422100301" };
static const char *const names[] = { "王芳", "李强", "张伟", "刘洋", "陈静", "杨帆" };
static const char *const levels[] = { "red", "orange", "yellow", "none" };
static const char *const statuses[] = { "open", "done", "cancelled" };

/* A random record of @table that @r holds. */
static char *
pick (Replica *r, GRand *rand, const char *table)
{
  g_autofree char *sql = g_strdup_printf ("SELECT id FROM %s ORDER BY id LIMIT 1 OFFSET "
                                          "abs (%d) %% max (1, (SELECT count (*) FROM %s))",
                                          table, g_rand_int_range (rand, 0, 1000), table);
  return query_text (r->db, sql);
}

static char *
digits (GRand *rand, guint n)
{
  char *s = g_malloc (n + 1);

  for (guint i = 0; i < n; i++)
    s[i] = (char) ('0' + g_rand_int_range (rand, 0, 10));
  s[n] = '\0';
  return s;
}

static void
random_edit (Replica *r, GRand *rand)
{
  g_autofree char *id = NULL;
  g_autofree char *household = pick (r, rand, "households");
  g_autofree char *number = digits (rand, 11);
  g_autofree char *small = g_strdup_printf ("%d", g_rand_int_range (rand, 0, 9));
  const char *name = names[g_rand_int_range (rand, 0, G_N_ELEMENTS (names))];

  switch (household == NULL ? 0 : g_rand_int_range (rand, 0, 8))
    {
    case 0:
      id = test_rand_uuid (rand);
      put (r, "households", id, TRUE, "village_code", villages[g_rand_int_range (rand, 0, G_N_ELEMENTS (villages))],
             "head_name", name, "phone", number, NULL);
      break;
    case 1:
      put (r, "households", household, FALSE, "phone", number, NULL);
      break;
    case 2:
      switch (g_rand_int_range (rand, 0, 4))
        {
        case 0:
          put (r, "households", household, FALSE, "head_name", name, NULL);
          break;
        case 1:
          put (r, "households", household, FALSE, "risk_level", levels[g_rand_int_range (rand, 0, 4)], NULL);
          break;
        case 2:
          put (r, "households", household, FALSE, "village_code",
                 villages[g_rand_int_range (rand, 0, G_N_ELEMENTS (villages))], NULL);
          break;
        default:
          put (r, "households", household, FALSE, "member_count", small, NULL);
          break;
        }
      break;
    case 3:
      {
        g_autofree char *id_number = digits (rand, 18);
        id = test_rand_uuid (rand);
        put (r, "members", id, TRUE, "household_id", household, "name", name, "id_number", id_number,
               "position", small, NULL);
      }
      break;
    case 4:
      id = pick (r, rand, "members");
      if (id != NULL)
        put (r, "members", id, FALSE, g_rand_boolean (rand) ? "name" : "phone",
               g_rand_boolean (rand) ? name : number, NULL);
      break;
    case 5:
      {
        g_autofree char *due = g_strdup_printf ("2026-04-%02d", g_rand_int_range (rand, 1, 29));
        id = test_rand_uuid (rand);
        put (r, "tasks", id, TRUE, "household_id", household, "kind", g_rand_boolean (rand) ? "follow_up" : "correction",
               "due_date", due, NULL);
      }
      break;
    case 6:
      id = pick (r, rand, "tasks");
      if (id != NULL)
        put (r, "tasks", id, FALSE, "status", statuses[g_rand_int_range (rand, 0, 3)], NULL);
      break;
    default:
      {
        /* A clerk resolves an open conflict: either side, sometimes. */
        g_autofree char *sql = g_strdup_printf ("SELECT id || ' ' || (CASE WHEN %d THEN kept_value ELSE lost_value END) "
                                                "FROM conflicts WHERE resolved_at IS NULL ORDER BY id LIMIT 1",
                                                g_rand_boolean (rand));
        g_autofree char *row = query_text (r->db, sql);
        g_autoptr(GError) error = NULL;

        if (row != NULL && strlen (row) > 37)
          {
            row[36] = '\0';
            g_assert_true (hearth_case_resolve_conflict (r->cases, row, HEARTH_ROLE_CLERK, row + 37, &error));
            g_assert_no_error (error);
          }
      }
      break;
    }
}

static void
test_property (void)
{
  const char *env = g_getenv ("HEARTH_TEST_SEED");
  guint32 seed = env != NULL ? (guint32) g_ascii_strtoull (env, NULL, 10) : g_random_int ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  Replica *r[N_REPLICAS];
  g_autofree char *expected = NULL;
  gint64 cursor = 0;

  g_test_message ("seed %u (HEARTH_TEST_SEED=%u replays this run)", seed, seed);
  for (guint i = 0; i < N_REPLICAS; i++)
    {
      g_autofree char *name = g_strdup_printf ("sync-property-%u", i);
      g_autofree char *device = test_rand_uuid (rand);

      /* Clocks apart by minutes, as tablets are. */
      r[i] = replica_new_device (name, device, START_MS + (gint64) i * 150 * 1000 - 120 * 1000);
    }
  for (guint round = 0; round < N_ROUNDS; round++)
    {
      guint edits = g_rand_int_range (rand, 1, 4);

      for (guint i = 0; i < N_REPLICAS; i++)
        r[i]->clock_ms += g_rand_int_range (rand, 0, 3) * g_rand_int_range (rand, 0, 2000);
      for (guint e = 0; e < edits; e++)
        random_edit (r[g_rand_int_range (rand, 0, N_REPLICAS)], rand);
      if (g_rand_boolean (rand))
        {
          guint x = g_rand_int_range (rand, 0, N_REPLICAS);
          push (r[x], x, log, g_rand_int_range (rand, 1, 40));
        }
      if (log->len > 0 && g_rand_boolean (rand))
        {
          /* Any changes of the others, in any order, some twice. */
          guint y = g_rand_int_range (rand, 0, N_REPLICAS);
          guint n = g_rand_int_range (rand, 1, log->len + 1);
          g_autoptr(GPtrArray) texts = g_ptr_array_new ();

          for (guint k = 0; k < n; k++)
            {
              Relayed *e = log->pdata[g_rand_int_range (rand, 0, log->len)];
              if (e->origin != y)
                g_ptr_array_add (texts, e->json);
            }
          while (texts->len > 0)
            {
              g_autoptr(GPtrArray) chunk = g_ptr_array_new ();
              guint size = (guint) g_rand_int_range (rand, 1, 25);

              size = MIN (size, texts->len);

              for (guint k = 0; k < size; k++)
                g_ptr_array_add (chunk, texts->pdata[k]);
              g_ptr_array_remove_range (texts, 0, size);
              cursor += size;
              g_assert_cmpuint (apply_texts (r[y], chunk, cursor), ==, 0);
            }
        }
    }
  /* Then everything everywhere, in an order of its own for each. */
  for (guint i = 0; i < N_REPLICAS; i++)
    push (r[i], i, log, 500);
  for (guint i = 0; i < N_REPLICAS; i++)
    {
      g_autoptr(GPtrArray) texts = g_ptr_array_new ();

      for (guint k = 0; k < log->len; k++)
        if (((Relayed *) log->pdata[k])->origin != i)
          g_ptr_array_insert (texts, g_rand_int_range (rand, 0, texts->len + 1), ((Relayed *) log->pdata[k])->json);
      g_assert_cmpuint (apply_texts (r[i], texts, ++cursor), ==, 0);
    }
  for (guint i = 0; i < N_REPLICAS; i++)
    {
      g_autofree char *state = state_of (r[i]);

      if (i == 0)
        expected = g_steal_pointer (&state);
      else if (g_strcmp0 (state, expected) != 0)
        {
          g_printerr ("seed %u: replica %u differs from replica 0\n--- 0:\n%s\n--- %u:\n%s\n", seed, i, expected, i,
                      state);
          g_test_fail ();
        }
      g_assert_cmpint (count (r[i], "SELECT count (*) FROM sync_apply_errors"), ==, 0);
      g_assert_cmpint (count (r[i], "SELECT count (*) FROM sync_outbox WHERE seq > (SELECT value FROM sync_state "
                                    "WHERE key = 'acked_seq')"), ==, 0);
    }
  g_test_message ("seed %u: %u changes, %" G_GINT64_FORMAT " households, %" G_GINT64_FORMAT " members, %"
                  G_GINT64_FORMAT " tasks, %" G_GINT64_FORMAT " conflicts (%" G_GINT64_FORMAT " open), %"
                  G_GINT64_FORMAT " resolutions", seed, log->len,
                  count (r[0], "SELECT count (*) FROM households"), count (r[0], "SELECT count (*) FROM members"),
                  count (r[0], "SELECT count (*) FROM tasks"), count (r[0], "SELECT count (*) FROM conflicts"),
                  count (r[0], "SELECT count (*) FROM conflicts WHERE resolved_at IS NULL"),
                  count (r[0], "SELECT count (*) FROM field_edits WHERE parents LIKE '% %'"));
  for (guint i = 0; i < N_REPLICAS; i++)
    replica_free (r[i]);
}

/* Everything an apply writes, every column: the records (their local
 * times too), the edit sets, versions, conflicts and apply errors, and
 * what the records' triggers write (the search index, the routine visit
 * queue), which the fast path writes itself. */
static char *
full_state_of (Replica *r)
{
  const char *queries[] = {
    "SELECT * FROM households ORDER BY id", "SELECT * FROM members ORDER BY id", "SELECT * FROM tasks ORDER BY id",
    "SELECT * FROM measures ORDER BY id", "SELECT * FROM field_edits ORDER BY 1, 2, 3, 4",
    "SELECT * FROM field_versions ORDER BY 1, 2, 3", "SELECT * FROM conflicts ORDER BY id",
    "SELECT * FROM sync_apply_errors ORDER BY 1, 2, 3, 4, 5, 6",
    "SELECT s.key, s.village, s.head_name, k.household_id FROM household_search AS s "
    "JOIN household_keys AS k ON k.key = s.household_key ORDER BY 1, 2, 3, 4",
    "SELECT household_id FROM household_keys ORDER BY 1",
    "SELECT * FROM routine_visit_queue ORDER BY 1",
    "SELECT count (*) FROM sync_outbox",
    "SELECT rowid, * FROM submissions ORDER BY rowid",
    "SELECT rowid, * FROM reviews ORDER BY rowid",
  };
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (queries); i++)
    {
      g_autofree char *rows = dump (r->db, queries[i]);

      g_string_append_printf (out, "-- %s\n%s", queries[i], rows);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Applies @texts to @r in pages whose sizes @sizes gives, with or without
 * the fresh record's fast path; returns the changes rejected. */
static guint
apply_in_pages (Replica *r, GPtrArray *texts, GArray *sizes, gboolean fast)
{
  guint rejected_total = 0, at = 0;

  hearth_sync_apply_set_fresh_path (fast);
  for (guint p = 0; p < sizes->len && at < texts->len; p++)
    {
      g_autoptr(GPtrArray) page = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
      g_autoptr(GError) error = NULL;
      guint n = MIN (g_array_index (sizes, guint, p), texts->len - at), rejected = 0;

      for (guint k = 0; k < n; k++, at++)
        g_ptr_array_add (page, change_from_text (texts->pdata[at], at + 1));
      g_assert_true (hearth_sync_store_apply (r->sync, page, at, at < texts->len, &rejected, &error));
      g_assert_no_error (error);
      rejected_total += rejected;
    }
  hearth_sync_apply_set_fresh_path (TRUE);
  g_assert_cmpuint (at, ==, texts->len);
  return rejected_total;
}

/* A change of kind "edit" of a household field, for the pages below. */
static HearthChange *
household_edit (const char *id, const char *field, const char *value, guint version, gint parent, gint64 cursor)
{
  HearthChange *c = hearth_change_new (HEARTH_CHANGE_EDIT);

  c->table = g_strdup ("households");
  c->id = g_strdup (id);
  c->household = g_strdup (id);
  c->village = g_strdup ("150422100201");
  c->field = g_strdup (field);
  c->value = g_strdup (value);
  c->hlc = g_strdup_printf ("001772676000000-%08u-OTHER", version);
  if (parent >= 0)
    {
      c->parents = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (c->parents, g_strdup_printf ("001772676000000-%08u-OTHER", (guint) parent));
    }
  c->cursor = cursor;
  return c;
}

/* A page's edits joined beforehand, without the store (sync-apply.c,
 * prepare_edits()), then given the edits the store holds of its records
 * (reconcile_held()): an edit the store holds already is delivered again
 * and changes nothing; another edit under a version the store holds is
 * refused, as edit after edit (the page is then applied that way), and
 * the page's other edits are applied. The same rows as pages whose edits
 * their apply joins itself. */
static void
test_apply_prepared (void)
{
  char *state[2] = { NULL, NULL };
  g_autofree char *h = g_strdup ("0a3c0f5e-7a4e-4c6b-9d0e-2f1b3c4d5e6f");
  g_autofree char *k = g_strdup ("1b4d1a6f-8b5f-4d7c-8e1f-3a2c4d5e6f70");
  guint taken[2] = { 0, 0 };

  for (guint mode = 0; mode < 2; mode++)
    {
      g_autofree char *name = g_strdup_printf ("sync-prepared-%u", mode);
      g_autoptr(Replica) r = replica_new_device (name, "fresh-device", START_MS + 3600 * 1000);
      g_autoptr(GPtrArray) page1 = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
      g_autoptr(GPtrArray) page2 = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
      g_autoptr(GPtrArray) page3 = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
      g_autoptr(GError) error = NULL;
      guint rejected = 0;

      hearth_sync_apply_set_prepared (mode == 0);
      hearth_sync_apply_prepared_taken ();
      g_ptr_array_add (page1, household_edit (h, "village_code", "150422100201", 1, -1, 1));
      g_ptr_array_add (page1, household_edit (h, "head_name", "赵敏", 2, -1, 2));
      g_ptr_array_add (page1, household_edit (h, "risk_level", "red", 3, -1, 3));
      g_assert_true (hearth_sync_store_apply (r->sync, page1, 3, TRUE, &rejected, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (rejected, ==, 0);
      /* The head's name again (held: nothing changes), a phone, another
       * household. */
      g_ptr_array_add (page2, household_edit (h, "head_name", "赵敏", 2, -1, 4));
      g_ptr_array_add (page2, household_edit (h, "phone", "13911111111", 4, -1, 5));
      g_ptr_array_add (page2, household_edit (k, "village_code", "150422100201", 5, -1, 6));
      g_ptr_array_add (page2, household_edit (k, "head_name", "钱程", 6, -1, 7));
      g_ptr_array_add (page2, household_edit (k, "risk_level", "none", 7, -1, 8));
      g_assert_true (hearth_sync_store_apply (r->sync, page2, 8, TRUE, &rejected, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (rejected, ==, 0);
      g_assert_cmpint (count (r, "SELECT count (*) FROM field_edits WHERE field = 'head_name'"), ==, 2);
      /* Another head name under the stored version: refused, the phone's
       * next edit taken. */
      g_ptr_array_add (page3, household_edit (h, "head_name", "孙悟空", 2, -1, 9));
      g_ptr_array_add (page3, household_edit (h, "phone", "13922222222", 8, 4, 10));
      g_assert_true (hearth_sync_store_apply (r->sync, page3, 10, FALSE, &rejected, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (rejected, ==, 1);
      g_assert_cmpint (count (r, "SELECT count (*) FROM sync_apply_errors WHERE field = 'head_name' AND "
                                 "message LIKE '%two different edits%'"), ==, 1);
      g_assert_cmpint (count (r, "SELECT count (*) FROM households WHERE head_name = '赵敏' AND "
                                 "phone = '13922222222'"), ==, 1);
      taken[mode] = hearth_sync_apply_prepared_taken ();
      state[mode] = full_state_of (r);
    }
  hearth_sync_apply_set_prepared (TRUE);
  /* The first two pages prepared; the third's refusal made its apply
   * start over edit by edit. */
  g_assert_cmpuint (taken[0], ==, 2);
  g_assert_cmpuint (taken[1], ==, 0);
  g_assert_cmpstr (state[0], ==, state[1]);
  g_free (state[0]);
  g_free (state[1]);
}

static gpointer prepare_thread (gpointer data);
static gpointer prep_free_thread (gpointer data);

/* An edit of the household @id for test_arena_edges(): version @version,
 * @n_parents parents, the first (up to six) the versions from
 * @first_parent on, the rest versions never seen. */
static HearthChange *grouped_household (const char *id, const char *hlc, gint64 cursor, guint n,
                                       const char *const fields[][2]);

static HearthChange *
arena_edit (const char *id, const char *field, const char *value, guint version, guint first_parent,
            guint n_parents, gint64 cursor)
{
  HearthChange *c = household_edit (id, field, value, version, -1, cursor);

  if (n_parents > 0)
    {
      c->parents = g_ptr_array_new_with_free_func (g_free);
      for (guint p = 0; p < n_parents; p++)
        g_ptr_array_add (c->parents, g_strdup_printf ("001772676000000-%08u-OTHER",
                                                      p < 6 ? first_parent + p : 500 + version * 20 + p));
    }
  return c;
}

/* The page's arena (sync-apply.c, touched_alloc(), edit_set_add_in()) at
 * its edges, pages of one transaction each prepared on a thread and the
 * previous page's preparation freed on another while the next applies:
 * a 1 MiB value (larger than a slab), edits with 16 parents, a field with
 * six concurrent edits in one page (its vector outgrows the arena), a
 * held record whose stored set has six rows taking the page's rows
 * (reconcile_held()), an edit delivered again, another value under a
 * stored version (the page again edit by edit), and a grouped change of
 * 64 fields. The same rows and refusals joined beforehand or not. */
static void
test_arena_edges (void)
{
  char *state[2] = { NULL, NULL };
  guint rejected_total[2] = { 0, 0 };
  guint taken[2] = { 0, 0 };
  g_autofree char *h = g_strdup ("0a3c0f5e-7a4e-4c6b-9d0e-2f1b3c4d5e6f");
  g_autofree char *g = g_strdup ("1b4d1a6f-8b5f-4d7c-8e1f-3a2c4d5e6f70");
  g_autofree char *k = g_strdup ("2c5e2b70-9c60-4e8d-9f20-4b3d5e6f7081");
  g_autofree char *big = g_malloc (1024 * 1024 + 1);
  g_autofree char *big2 = NULL;
  g_autofree char *mid = g_malloc (70 * 1024 + 1);

  memset (big, 'a', 1024 * 1024);
  big[1024 * 1024] = '\0';
  big2 = g_strdup (big);
  big2[0] = 'b';
  memset (mid, 'm', 70 * 1024);
  mid[70 * 1024] = '\0';
  for (guint mode = 0; mode < 2; mode++)
    {
      g_autofree char *name = g_strdup_printf ("sync-arena-%u", mode);
      g_autoptr(Replica) r = replica_new_device (name, "fresh-device", START_MS + 3600 * 1000);
      GPtrArray *pages[5];
      HearthSyncPagePrep *spent = NULL;
      GThread *freeing = NULL;
      g_autoptr(GError) error = NULL;
      gint64 cursor = 0;

      hearth_sync_apply_set_prepared (mode == 0);
      hearth_sync_apply_prepared_taken ();
      for (guint p = 0; p < G_N_ELEMENTS (pages); p++)
        pages[p] = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
      /* Page 1: a 1 MiB head name, six concurrent phones. */
      g_ptr_array_add (pages[0], arena_edit (h, "village_code", "150422100201", 1, 0, 0, ++cursor));
      g_ptr_array_add (pages[0], arena_edit (h, "head_name", big, 2, 0, 0, ++cursor));
      for (guint v = 3; v <= 8; v++)
        {
          g_autofree char *phone = g_strdup_printf ("1390000000%u", v);

          g_ptr_array_add (pages[0], arena_edit (h, "phone", phone, v, 0, 0, ++cursor));
        }
      /* Page 2: held; four phones over 16 parents each (six held, ten
       * never seen), one held phone again, a 70 KiB risk level, a 1 MiB
       * head name over the first. */
      for (guint v = 9; v <= 12; v++)
        {
          g_autofree char *phone = g_strdup_printf ("1380000000%u", v);

          g_ptr_array_add (pages[1], arena_edit (h, "phone", phone, v, 3, 16, ++cursor));
        }
      g_ptr_array_add (pages[1], arena_edit (h, "phone", "13900000005", 5, 0, 0, ++cursor));
      g_ptr_array_add (pages[1], arena_edit (h, "address", mid, 13, 0, 0, ++cursor));
      g_ptr_array_add (pages[1], arena_edit (h, "head_name", big2, 14, 2, 1, ++cursor));
      /* Page 3: six more concurrent phones over 16 parents, and another
       * value under a stored version (refused: the page edit by edit). */
      for (guint v = 15; v <= 20; v++)
        {
          g_autofree char *phone = g_strdup_printf ("1370000000%u", v);

          g_ptr_array_add (pages[2], arena_edit (h, "phone", phone, v, 7, 16, ++cursor));
        }
      g_ptr_array_add (pages[2], arena_edit (h, "village_code", "150422100202", 1, 0, 0, ++cursor));
      /* Page 4: a grouped change of 64 fields of another household. */
      {
        const char *real[] = { "village_code", "head_name", "phone", "address", "head_id_number", "location",
                               "per_capita_income", "risk_types" };
        HearthChange *c = grouped_household (g, "001772676000000-00000030-OTHER", ++cursor, 0, NULL);

        for (guint f = 0; f < 64; f++)
          {
            g_autofree char *field = f < G_N_ELEMENTS (real) ? g_strdup (real[f]) : g_strdup_printf ("extra_%02u", f);

            hearth_change_add_edit (c, field, f == 0 ? "150422100201" : f == 1 ? big : mid, NULL);
          }
        g_ptr_array_add (pages[3], c);
        /* Page 5: the same, its fields the table's only (joined beforehand). */
        c = grouped_household (k, "001772676000000-00000031-OTHER", ++cursor, 0, NULL);
        for (guint f = 0; f < G_N_ELEMENTS (real); f++)
          hearth_change_add_edit (c, real[f], f == 0 ? "150422100201" : f == 1 ? big : mid, NULL);
        g_ptr_array_add (pages[4], c);
      }
      g_assert_true (hearth_sync_store_begin_pages (r->sync, &error));
      g_assert_no_error (error);
      for (guint p = 0; p < G_N_ELEMENTS (pages); p++)
        {
          GThread *preparing = g_thread_new ("prepare", prepare_thread, pages[p]);
          HearthSyncPagePrep *prep = g_thread_join (preparing);
          guint rejected = 0;

          if (spent != NULL)
            freeing = g_thread_new ("free", prep_free_thread, g_steal_pointer (&spent));
          const HearthChange *last = g_ptr_array_index (pages[p], pages[p]->len - 1);
          gboolean applied = hearth_sync_store_apply_prepared (r->sync, pages[p], prep, last->cursor,
                                                               p + 1 < G_N_ELEMENTS (pages), 0, &rejected, &error);

          g_assert_no_error (error);
          g_assert_true (applied);
          if (freeing != NULL)
            g_thread_join (g_steal_pointer (&freeing));
          rejected_total[mode] += rejected;
          spent = prep;
        }
      g_assert_true (hearth_sync_store_commit_pages (r->sync, &error));
      g_assert_no_error (error);
      hearth_sync_page_prep_free (spent);
      g_assert_cmpint (count (r, "SELECT count (*) FROM field_edits WHERE field = 'phone'"), ==, 18);
      taken[mode] = hearth_sync_apply_prepared_taken ();
      /* 56 fields the table does not have, the village code under a stored version. */
      g_assert_cmpuint (rejected_total[mode], ==, 57);
      g_assert_cmpint (count (r, "SELECT count (*) FROM households WHERE length (head_name) = 1048576 AND "
                                 "length (address) IN (0, 71680)"), ==, 3);
      g_assert_cmpint (count (r, "SELECT count (*) FROM households WHERE head_name GLOB 'b*'"), ==, 1);
      state[mode] = full_state_of (r);
      for (guint p = 0; p < G_N_ELEMENTS (pages); p++)
        g_ptr_array_unref (pages[p]);
    }
  hearth_sync_apply_set_prepared (TRUE);
  /* Pages 1, 2 and 5 joined beforehand; 3 (its refusal) and 4 (fields
   * the table does not have) edit by edit. */
  g_assert_cmpuint (taken[0], ==, 3);
  g_assert_cmpuint (taken[1], ==, 0);
  g_assert_cmpuint (rejected_total[0], ==, rejected_total[1]);
  g_assert_cmpuint (rejected_total[0], >=, 1);
  g_assert_cmpstr (state[0], ==, state[1]);
  g_free (state[0]);
  g_free (state[1]);
}

/* Pages whose edits repeat within the page or across the pages of one
 * transaction (hearth_sync_store_begin_pages(), as a pull applies them):
 * an edit twice in one page, another edit under a version the page
 * gives already, a record's edits split over two pages (the first
 * page's are in the store, uncommitted, when the second is applied),
 * the first page's edit delivered again in the second, and a child
 * edit of it. Joined beforehand or by the apply, edit by edit: the same
 * rows and the same refusals. */
/* A submission or review of @table, its id @n (a UUID's last digits),
 * with the columns @pairs (NULL-terminated pairs of name and value). */
static HearthChange *
immutable_change (const char *table, guint n, const char *const *pairs)
{
  HearthChange *c = hearth_change_new (HEARTH_CHANGE_RECORD);

  c->table = g_strdup (table);
  c->id = g_strdup_printf ("22222222-3333-4444-8555-%012u", n);
  for (guint i = 0; pairs[i] != NULL; i += 2)
    g_hash_table_insert (c->fields, g_strdup (pairs[i]), g_strdup (pairs[i + 1]));
  return c;
}

/* A page of submissions and reviews (apply_immutable()): the columns of
 * one insert are checked and its text made once for the records after it
 * that name the same ones; a record naming another column, one the table
 * does not have, or fewer, is checked again (refused, stored). */
static void
test_apply_immutable_columns (void)
{
  static const char *const visit[] = {
    "form_id", "hearth_household_visit", "author", "demo-worker", "device_id", "d1", "instance_xml", "<data/>",
    "recorded_at", NOW, NULL
  };
  static const char *const visit_more[] = {
    "form_id", "hearth_household_visit", "author", "demo-worker", "device_id", "d1", "instance_xml", "<data/>",
    "recorded_at", NOW, "colour", "blue", NULL
  };
  static const char *const visit_less[] = {
    "form_id", "hearth_household_visit", "author", "demo-worker", "device_id", "d1", "instance_xml", "<d/>",
    "recorded_at", NOW, "risk_level", "red", NULL
  };
  static const char *const review[] = {
    "household_id", "h", "actor", "clerk", "role", "clerk", "at", NOW, "from_state", "a", "to_state", "b", NULL
  };
  static const char *const review_id[] = {
    "household_id", "h", "actor", "clerk", "role", "clerk", "at", NOW, "from_state", "a", "to_state", "b",
    "id", "x", NULL
  };
  g_autoptr(Replica) r = replica_new ("immutable-columns", START_MS);
  g_autoptr(GPtrArray) page = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autoptr(GError) error = NULL;
  guint rejected = 0;

  g_ptr_array_add (page, immutable_change ("submissions", 1, visit));
  g_ptr_array_add (page, immutable_change ("submissions", 2, visit));
  /* A column submissions do not have, after two that are checked. */
  g_ptr_array_add (page, immutable_change ("submissions", 3, visit_more));
  g_ptr_array_add (page, immutable_change ("submissions", 4, visit));
  g_ptr_array_add (page, immutable_change ("submissions", 5, visit_less));
  g_ptr_array_add (page, immutable_change ("reviews", 6, review));
  /* "id" among the columns of a review after a review without it. */
  g_ptr_array_add (page, immutable_change ("reviews", 7, review_id));
  g_ptr_array_add (page, immutable_change ("reviews", 8, review));
  g_assert_true (hearth_sync_store_apply (r->sync, page, 8, FALSE, &rejected, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rejected, ==, 2);
  g_assert_cmpint (count (r, "SELECT count (*) FROM submissions"), ==, 4);
  g_assert_cmpint (count (r, "SELECT count (*) FROM submissions WHERE id LIKE '%003'"), ==, 0);
  g_assert_cmpint (count (r, "SELECT count (*) FROM submissions WHERE id LIKE '%005' AND risk_level = 'red' "
                             "AND instance_xml = '<d/>'"), ==, 1);
  g_assert_cmpint (count (r, "SELECT count (*) FROM submissions WHERE risk_level = '' AND instance_xml = '<data/>'"),
                   ==, 3);
  g_assert_cmpint (count (r, "SELECT count (*) FROM reviews"), ==, 2);
  g_assert_cmpint (count (r, "SELECT count (*) FROM reviews WHERE id LIKE '%007'"), ==, 0);
  g_assert_cmpint (count (r, "SELECT count (*) FROM sync_apply_errors WHERE record_id LIKE '%003' "
                             "AND message LIKE '%no column “colour”%'"), ==, 1);
  g_assert_cmpint (count (r, "SELECT count (*) FROM sync_apply_errors WHERE record_id LIKE '%007' "
                             "AND message LIKE '%no column “id”%'"), ==, 1);
  /* Again: the same content, nothing more stored, the same refusals. */
  rejected = 0;
  g_assert_true (hearth_sync_store_apply (r->sync, page, 16, FALSE, &rejected, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rejected, ==, 2);
  g_assert_cmpint (count (r, "SELECT count (*) FROM submissions"), ==, 4);
  g_assert_cmpint (count (r, "SELECT count (*) FROM reviews"), ==, 2);
  g_assert_cmpint (count (r, "SELECT count (*) FROM sync_apply_errors"), ==, 2);
}

static void
test_apply_prepared_repeats (void)
{
  char *state[2] = { NULL, NULL };
  guint rejected_total[2] = { 0, 0 };
  guint taken[2] = { 0, 0 };
  const char *h = "2c5e2b70-9c60-4e8d-8f20-4b3d5e6f7081";
  const char *k = "3d6f3c81-ad71-4f9e-9a31-5c4e6f708192";

  for (guint mode = 0; mode < 2; mode++)
    {
      g_autofree char *name = g_strdup_printf ("sync-prepared-repeats-%u", mode);
      g_autoptr(Replica) r = replica_new_device (name, "fresh-device", START_MS + 3600 * 1000);
      g_autoptr(GPtrArray) page1 = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
      g_autoptr(GPtrArray) page2 = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
      g_autoptr(GPtrArray) page3 = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
      g_autoptr(GError) error = NULL;
      guint rejected = 0;

      hearth_sync_apply_set_prepared (mode == 0);
      hearth_sync_apply_prepared_taken ();
      g_ptr_array_add (page1, household_edit (h, "village_code", "150422100201", 1, -1, 1));
      g_ptr_array_add (page1, household_edit (h, "head_name", "赵敏", 2, -1, 2));
      g_ptr_array_add (page1, household_edit (h, "head_name", "赵敏", 2, -1, 3));
      g_ptr_array_add (page1, household_edit (h, "phone", "13911111111", 3, -1, 4));
      g_ptr_array_add (page1, household_edit (h, "risk_level", "red", 4, -1, 5));
      g_ptr_array_add (page1, household_edit (k, "village_code", "150422100201", 5, -1, 6));
      g_ptr_array_add (page2, household_edit (k, "head_name", "钱程", 6, -1, 7));
      g_ptr_array_add (page2, household_edit (h, "phone", "13911111111", 3, -1, 8));
      g_ptr_array_add (page2, household_edit (h, "phone", "13922222222", 7, 3, 9));
      g_ptr_array_add (page2, household_edit (k, "risk_level", "none", 8, -1, 10));
      g_ptr_array_add (page2, household_edit (h, "head_name", "孙悟空", 9, 2, 11));
      g_ptr_array_add (page2, household_edit (h, "head_name", "孙悟空", 9, 2, 12));
      /* Another value under a version the page gave: refused. */
      g_ptr_array_add (page3, household_edit (k, "head_name", "李四", 10, 6, 13));
      g_ptr_array_add (page3, household_edit (k, "head_name", "王五", 10, 6, 14));
      g_ptr_array_add (page3, household_edit (h, "risk_level", "yellow", 11, 4, 15));
      g_assert_true (hearth_sync_store_begin_pages (r->sync, &error));
      g_assert_no_error (error);
      g_assert_true (hearth_sync_store_apply_page (r->sync, page1, 6, TRUE, 0, &rejected, &error));
      g_assert_no_error (error);
      rejected_total[mode] += rejected;
      g_assert_true (hearth_sync_store_apply_page (r->sync, page2, 12, TRUE, 0, &rejected, &error));
      g_assert_no_error (error);
      rejected_total[mode] += rejected;
      g_assert_true (hearth_sync_store_apply_page (r->sync, page3, 15, FALSE, 0, &rejected, &error));
      g_assert_no_error (error);
      rejected_total[mode] += rejected;
      g_assert_true (hearth_sync_store_commit_pages (r->sync, &error));
      g_assert_no_error (error);
      g_assert_cmpint (count (r, "SELECT count (*) FROM households WHERE head_name = '孙悟空' AND "
                                 "phone = '13922222222' AND risk_level = 'yellow'"), ==, 1);
      taken[mode] = hearth_sync_apply_prepared_taken ();
      state[mode] = full_state_of (r);
    }
  hearth_sync_apply_set_prepared (TRUE);
  g_assert_cmpuint (rejected_total[0], ==, rejected_total[1]);
  g_assert_cmpuint (rejected_total[0], >=, 1);
  g_test_message ("pages applied prepared: %u", taken[0]);
  g_assert_cmpuint (taken[0], >=, 1);
  g_assert_cmpuint (taken[1], ==, 0);
  g_assert_cmpstr (state[0], ==, state[1]);
  g_free (state[0]);
  g_free (state[1]);
}

/* A fresh store's pull writes a record it holds no edit of, one edit a
 * field, without the general merge (sync-apply.c). The same pages through
 * the general path give the same rows, byte for byte: records split
 * across pages, concurrent edits and their conflicts, resolutions, a
 * record whose value its table refuses. */
static void
test_fresh_path (void)
{
  const char *env = g_getenv ("HEARTH_TEST_SEED");
  guint32 seed = env != NULL ? (guint32) g_ascii_strtoull (env, NULL, 10) : g_random_int ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new ();
  g_autoptr(GArray) sizes = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(Replica) fast = NULL;
  g_autoptr(Replica) general = NULL;
  g_autoptr(Replica) unprepared = NULL;
  g_autofree char *refused_id = NULL;
  g_autofree char *fast_state = NULL;
  g_autofree char *general_state = NULL;
  g_autofree char *unprepared_state = NULL;
  Replica *r[N_REPLICAS];
  guint fast_rejected, general_rejected, unprepared_rejected, fast_taken, prepared_taken;

  g_test_message ("seed %u (HEARTH_TEST_SEED=%u replays this run)", seed, seed);
  for (guint i = 0; i < N_REPLICAS; i++)
    {
      g_autofree char *name = g_strdup_printf ("sync-fresh-%u", i);
      g_autofree char *device = test_rand_uuid (rand);

      r[i] = replica_new_device (name, device, START_MS + (gint64) i * 150 * 1000);
    }
  /* Random edits, exchanged now and then, so that some fields get
   * concurrent edits and some conflicts a resolution. */
  for (guint round = 0; round < 60; round++)
    {
      guint x = g_rand_int_range (rand, 0, N_REPLICAS);

      for (guint i = 0; i < N_REPLICAS; i++)
        r[i]->clock_ms += g_rand_int_range (rand, 0, 2000);
      random_edit (r[x], rand);
      if (g_rand_int_range (rand, 0, 4) == 0)
        {
          guint y = g_rand_int_range (rand, 0, N_REPLICAS);

          push (r[x], x, log, 500);
          pull_all (r[y], y, log);
        }
    }
  for (guint i = 0; i < N_REPLICAS; i++)
    push (r[i], i, log, 500);
  for (guint i = 0; i < log->len; i++)
    g_ptr_array_add (texts, ((Relayed *) log->pdata[i])->json);
  /* Pages of any size: a record's edits are often split between two. */
  for (guint n = 0; n < texts->len; n += g_array_index (sizes, guint, sizes->len - 1))
    {
      guint size = (guint) g_rand_int_range (rand, 1, 40);

      g_array_append_val (sizes, size);
    }
  /* The last page: three new households of the same fields, the middle
   * one's risk level refused by its table. The fast path writes such
   * records in one statement (create_fresh()): refused, it takes them one
   * by one, and the other two are still its. */
  refused_id = test_rand_uuid (rand);
  for (guint h = 0; h < 3; h++)
    {
      g_autofree char *id = h == 1 ? g_strdup (refused_id) : test_rand_uuid (rand);
      const char *const fields[][2] = { { "village_code", "150422100201" }, { "head_name", "赵敏" },
                                        { "risk_level", h == 1 ? "purple" : "red" } };
      guint size = 3 * 3;

      for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
        {
          g_autoptr(HearthChange) c = hearth_change_new (HEARTH_CHANGE_EDIT);
          g_autofree char *hlc = g_strdup_printf ("001772676000000-%08u-OTHER", h * 3 + i);

          c->table = g_strdup ("households");
          c->id = g_strdup (id);
          c->household = g_strdup (id);
          c->village = g_strdup ("150422100201");
          c->field = g_strdup (fields[i][0]);
          c->value = g_strdup (fields[i][1]);
          c->hlc = g_strdup (hlc);
          g_ptr_array_add (log, g_new0 (Relayed, 1));
          ((Relayed *) log->pdata[log->len - 1])->json = change_to_text (c);
          g_ptr_array_add (texts, ((Relayed *) log->pdata[log->len - 1])->json);
        }
      if (h == 0)
        g_array_append_val (sizes, size);
    }

  fast = replica_new_device ("sync-fresh-fast", "fresh-device", START_MS + 3600 * 1000);
  general = replica_new_device ("sync-fresh-general", "fresh-device", START_MS + 3600 * 1000);
  unprepared = replica_new_device ("sync-fresh-unprepared", "fresh-device", START_MS + 3600 * 1000);
  hearth_sync_apply_fresh_path_taken ();
  hearth_sync_apply_prepared_taken ();
  fast_rejected = apply_in_pages (fast, texts, sizes, TRUE);
  fast_taken = hearth_sync_apply_fresh_path_taken ();
  prepared_taken = hearth_sync_apply_prepared_taken ();
  general_rejected = apply_in_pages (general, texts, sizes, FALSE);
  g_assert_cmpuint (hearth_sync_apply_fresh_path_taken (), ==, 0);
  /* The same pages with each page's edits joined by its apply, edit
   * after edit (sync-apply.c, prepare_edits() off). */
  hearth_sync_apply_prepared_taken ();
  hearth_sync_apply_set_prepared (FALSE);
  unprepared_rejected = apply_in_pages (unprepared, texts, sizes, TRUE);
  hearth_sync_apply_set_prepared (TRUE);
  g_assert_cmpuint (hearth_sync_apply_prepared_taken (), ==, 0);
  g_assert_cmpuint (prepared_taken, >, 0);
  g_assert_cmpuint (unprepared_rejected, ==, fast_rejected);
  /* The path was taken, and the refused household went the general way. */
  g_assert_cmpuint (fast_taken, >, 0);
  g_assert_cmpint (count (fast, "SELECT count (*) FROM households WHERE risk_level = 'red' AND "
                                "head_name = '赵敏'"), ==, 2);
  /* Created in the order the pages brought them, as one at a time: the
   * households' keys are numbered in that order, and their rows too
   * (the fast path writes a table's records grouped by fields, with the
   * rowids each would have taken). */
  g_assert_cmpint (count (fast, "SELECT count (*) FROM (SELECT k.key, row_number () OVER (ORDER BY k.key) AS a, "
                                "row_number () OVER (ORDER BY h.rowid) AS b FROM households AS h "
                                "JOIN household_keys AS k ON k.household_id = h.id) WHERE a <> b"), ==, 0);
  g_assert_cmpint (count (fast, "SELECT count (*) FROM households"), ==,
                   count (fast, "SELECT max (rowid) FROM households"));
  g_assert_cmpuint (fast_rejected, ==, general_rejected);
  g_assert_cmpuint (fast_rejected, >=, 1);
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM sync_apply_errors WHERE record_id = '%s'",
                                            refused_id);
    g_assert_cmpint (count (fast, sql), ==, 1);
  }
  /* Not compared empty, and the fast path kept the routine visit queue
   * (0009-routine-visits.sql): every live household is on it or has an
   * open task, never both. A random run may open a task for every
   * household, so the queue alone may be empty. */
  g_assert_cmpint (count (fast, "SELECT count (*) FROM household_search"), >, 0);
  g_assert_cmpint (count (fast, "SELECT count (*) FROM households WHERE deleted = 0"), >, 0);
  g_assert_cmpint (count (fast, "SELECT count (*) FROM households AS h WHERE h.deleted = 0 AND "
                                "(h.id IN (SELECT household_id FROM routine_visit_queue)) = "
                                "EXISTS (SELECT 1 FROM tasks AS t WHERE t.household_id = h.id AND t.status = 'open')"),
                   ==, 0);
  fast_state = full_state_of (fast);
  general_state = full_state_of (general);
  if (g_strcmp0 (fast_state, general_state) != 0)
    {
      g_printerr ("seed %u: the fast path differs\n--- general:\n%s\n--- fast:\n%s\n", seed, general_state,
                  fast_state);
      g_test_fail ();
    }
  unprepared_state = full_state_of (unprepared);
  if (g_strcmp0 (fast_state, unprepared_state) != 0)
    {
      g_printerr ("seed %u: the prepared pages differ\n--- unprepared:\n%s\n--- prepared:\n%s\n", seed,
                  unprepared_state, fast_state);
      g_test_fail ();
    }
  g_test_message ("seed %u: %u changes in %u pages, %u records by the fast path, %" G_GINT64_FORMAT
                  " conflicts", seed, texts->len, sizes->len, fast_taken,
                  count (fast, "SELECT count (*) FROM conflicts"));
  for (guint i = 0; i < N_REPLICAS; i++)
    replica_free (r[i]);
}


/* Relays an edit of household @id's @field (village 150422100201) under
 * the @n-th HLC of another device: appended to @log (Relayed) and its
 * text, borrowed, to @texts. */
static void
relay_household_edit (GPtrArray *log, GPtrArray *texts, const char *id, const char *field, const char *value, guint n)
{
  g_autoptr(HearthChange) c = hearth_change_new (HEARTH_CHANGE_EDIT);
  Relayed *relayed = g_new0 (Relayed, 1);

  c->table = g_strdup ("households");
  c->id = g_strdup (id);
  c->household = g_strdup (id);
  c->village = g_strdup ("150422100201");
  c->field = g_strdup (field);
  c->value = g_strdup (value);
  c->hlc = g_strdup_printf ("001772676000000-%08u-OTHER", n);
  relayed->json = change_to_text (c);
  g_ptr_array_add (log, relayed);
  g_ptr_array_add (texts, relayed->json);
}

/* The fast path numbers a table's new rows from its largest rowid; near
 * the largest integer SQLite gives the rows that no longer fit random
 * free rowids, and the fast path leaves the table to the rows one by one
 * (its numbers would pass the largest integer: wrapped, negative). A
 * store whose households end at 2^63 - 3 takes five new households as
 * the general path does: the first two numbered on, the rest above 0. */
static void
test_fresh_rowid_limit (void)
{
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new ();
  g_autoptr(GArray) sizes = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GRand) rand = g_rand_new_with_seed (17);
  char *ids[6] = { NULL };
  Replica *r[2];

  for (guint h = 0; h < G_N_ELEMENTS (ids); h++)
    {
      const char *const fields[][2] = { { "village_code", "150422100201" }, { "head_name", "赵敏" },
                                        { "risk_level", "red" } };

      ids[h] = test_rand_uuid (rand);
      for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
        relay_household_edit (log, texts, ids[h], fields[i][0], fields[i][1], h * 3 + i);
    }
  {
    guint first = 3, rest = 15;

    g_array_append_val (sizes, first);
    g_array_append_val (sizes, rest);
  }
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GPtrArray) one = g_ptr_array_new ();
      g_autoptr(GArray) size = g_array_new (FALSE, FALSE, sizeof (guint));
      g_autofree char *name = g_strdup_printf ("sync-fresh-rowid-%u", i);
      g_autofree char *sql = g_strdup_printf ("UPDATE households SET rowid = 9223372036854775805 WHERE id = '%s'",
                                              ids[0]);

      r[i] = replica_new_device (name, "fresh-device", START_MS + 3600 * 1000);
      /* The first household, then moved to 2^63 - 3. */
      for (guint k = 0; k < 3; k++)
        g_ptr_array_add (one, texts->pdata[k]);
      g_array_append_val (size, g_array_index (sizes, guint, 0));
      g_assert_cmpuint (apply_in_pages (r[i], one, size, i == 0), ==, 0);
      g_assert_cmpint (sqlite3_exec (r[i]->db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
      g_ptr_array_remove_range (one, 0, one->len);
      for (guint k = 3; k < texts->len; k++)
        g_ptr_array_add (one, texts->pdata[k]);
      g_array_index (size, guint, 0) = g_array_index (sizes, guint, 1);
      g_assert_cmpuint (apply_in_pages (r[i], one, size, i == 0), ==, 0);
    }
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *second = g_strdup_printf ("SELECT rowid FROM households WHERE id = '%s'", ids[1]);
      g_autofree char *third = g_strdup_printf ("SELECT rowid FROM households WHERE id = '%s'", ids[2]);

      g_assert_cmpint (count (r[i], "SELECT count (*) FROM households"), ==, 6);
      g_assert_cmpint (count (r[i], "SELECT count (*) FROM households WHERE rowid <= 0"), ==, 0);
      g_assert_cmpint (count (r[i], second), ==, G_GINT64_CONSTANT (9223372036854775806));
      g_assert_cmpint (count (r[i], third), ==, G_MAXINT64);
    }
  g_assert_cmpint (count (r[0], "SELECT count (*) FROM household_search"), ==,
                   count (r[1], "SELECT count (*) FROM household_search"));
  g_assert_cmpint (count (r[0], "SELECT count (*) FROM household_keys"), ==, 6);
  g_assert_cmpint (count (r[1], "SELECT count (*) FROM household_keys"), ==, 6);
  for (guint i = 0; i < 2; i++)
    replica_free (r[i]);
  for (guint h = 0; h < G_N_ELEMENTS (ids); h++)
    g_free (ids[h]);
}

/* A page of new households, one of which the store holds already without
 * an edit of it (written on the device before any sync), and two of
 * which share a registry number: the fast path's statement fails, and
 * one by one its rows are what the general path writes, byte for byte. */
static void
test_fresh_exists (void)
{
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new ();
  g_autoptr(GArray) sizes = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GRand) rand = g_rand_new_with_seed (1717);
  char *ids[5] = { NULL };
  char *states[2] = { NULL };
  guint size = 0, taken[2] = { 0 }, rejected[2] = { 0 };
  Replica *r[2];

  for (guint h = 0; h < G_N_ELEMENTS (ids); h++)
    {
      g_autofree char *registry = g_strdup_printf ("R-%u", h == 4 ? 3 : h);
      const char *const fields[][2] = { { "village_code", "150422100201" }, { "head_name", "赵敏" },
                                        { "registry_no", registry } };

      ids[h] = test_rand_uuid (rand);
      for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
        {
          relay_household_edit (log, texts, ids[h], fields[i][0], fields[i][1], h * 3 + i);
          size++;
        }
    }
  g_array_append_val (sizes, size);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("sync-fresh-exists-%u", i);
      g_autofree char *sql = g_strdup_printf ("INSERT INTO households (id, village_code, head_name, created_at, "
                                              "updated_at) VALUES ('%s', '150422100201', '李雷', "
                                              "'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                                              ids[1]);

      r[i] = replica_new_device (name, "fresh-device", START_MS + 3600 * 1000);
      g_assert_cmpint (sqlite3_exec (r[i]->db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
      hearth_sync_apply_fresh_path_taken ();
      rejected[i] = apply_in_pages (r[i], texts, sizes, i == 0);
      taken[i] = hearth_sync_apply_fresh_path_taken ();
      states[i] = full_state_of (r[i]);
    }
  /* The fast path took the households the store lacks, bar the second of
   * a registry number. */
  g_assert_cmpuint (taken[0], ==, 3);
  g_assert_cmpuint (taken[1], ==, 0);
  g_assert_cmpuint (rejected[0], ==, rejected[1]);
  g_assert_cmpint (count (r[0], "SELECT count (*) FROM households"), ==, 4);
  g_assert_cmpstr (states[0], ==, states[1]);
  for (guint i = 0; i < 2; i++)
    {
      replica_free (r[i]);
      g_free (states[i]);
    }
  for (guint h = 0; h < G_N_ELEMENTS (ids); h++)
    g_free (ids[h]);
}
/* ---- grouped writes (kind "edits") ------------------------------------------------------ */

/* Regroups @changes (the log, as pushed: one change of kind "edit" a
 * field, or writes of kind "edits" already, kept) into writes of several
 * fields of a record under one version, as a device that pushes "edits"
 * makes them: runs of a record's edits by one
 * device with one wall time, up to a length @rand picks, take the run's
 * last version (the renamed versions are renamed among every later
 * change's parents too, so the history stays one). Returns (transfer full)
 * the changes, some of kind "edits" (counted in *@n_groups), numbered
 * 1 … N as a center would. */
static GPtrArray *
regroup (GPtrArray *changes, GRand *rand, guint *n_groups)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autoptr(GHashTable) renamed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  *n_groups = 0;
  for (guint i = 0; i < changes->len;)
    {
      const HearthChange *c = changes->pdata[i];
      g_autoptr(GHashTable) fields = g_hash_table_new (g_str_hash, g_str_equal);
      guint limit = g_rand_int_range (rand, 1, 8), j = i + 1;

      if (c->kind != HEARTH_CHANGE_EDIT)
        {
          /* A write the replica pushed grouped already. */
          *n_groups += c->kind == HEARTH_CHANGE_EDITS;
          g_ptr_array_add (out, hearth_change_copy (c));
          i++;
          continue;
        }
      g_hash_table_add (fields, c->field);
      for (; j < changes->len && j - i < limit; j++)
        {
          const HearthChange *d = changes->pdata[j];

          if (d->kind != HEARTH_CHANGE_EDIT || g_strcmp0 (d->table, c->table) != 0 || g_strcmp0 (d->id, c->id) != 0 ||
              g_strcmp0 (d->wall, c->wall) != 0 || g_strcmp0 (d->hlc + 25, c->hlc + 25) != 0 ||
              !g_hash_table_add (fields, d->field))
            break;
        }
      if (j - i == 1)
        g_ptr_array_add (out, hearth_change_copy (c));
      else
        {
          HearthChange *e = hearth_change_new (HEARTH_CHANGE_EDITS);
          const HearthChange *last = changes->pdata[j - 1];

          e->table = g_strdup (c->table);
          e->id = g_strdup (c->id);
          e->household = g_strdup (c->household);
          e->village = g_strdup (c->village);
          e->wall = g_strdup (c->wall);
          e->hlc = g_strdup (last->hlc);
          for (guint k = i; k < j; k++)
            {
              const HearthChange *d = changes->pdata[k];

              hearth_change_add_edit (e, d->field, d->value, d->parents);
              if (k + 1 < j)
                g_hash_table_insert (renamed, g_strdup (d->hlc), g_strdup (last->hlc));
            }
          g_ptr_array_add (out, e);
          (*n_groups)++;
        }
      i = j;
    }
  for (guint i = 0; i < out->len; i++)
    {
      HearthChange *c = out->pdata[i];

      c->cursor = i + 1;
      for (guint f = 0; f < (c->kind == HEARTH_CHANGE_EDITS ? c->edits->len : 1); f++)
        {
          GPtrArray *parents = c->kind == HEARTH_CHANGE_EDITS ? ((HearthChangeField *) c->edits->pdata[f])->parents
                                                              : c->parents;

          for (guint p = 0; parents != NULL && p < parents->len; p++)
            {
              const char *to = g_hash_table_lookup (renamed, parents->pdata[p]);

              if (to != NULL)
                {
                  g_free (parents->pdata[p]);
                  parents->pdata[p] = g_strdup (to);
                }
            }
        }
    }
  return out;
}

/* An "edits" change of the household @id: @n fields, name then value
 * (none with @fields %NULL: the caller adds them). */
static HearthChange *
grouped_household (const char *id, const char *hlc, gint64 cursor, guint n, const char *const fields[][2])
{
  HearthChange *c = hearth_change_new (HEARTH_CHANGE_EDITS);

  c->table = g_strdup ("households");
  c->id = g_strdup (id);
  c->household = g_strdup (id);
  c->village = g_strdup ("150422100201");
  c->hlc = g_strdup (hlc);
  c->wall = g_strdup (NOW);
  c->cursor = cursor;
  for (guint i = 0; i < n; i++)
    hearth_change_add_edit (c, fields[i][0], fields[i][1], NULL);
  return c;
}

/* Applies @changes to @r in pages whose sizes (in changes) @sizes gives,
 * each change as it is or, @expand, as the changes of kind "edit" it
 * stands for (hearth_change_expand(): what a center serves a device of
 * version 2); returns the changes rejected. */
static guint
apply_grouped (Replica *r, GPtrArray *changes, GArray *sizes, gboolean expand, gboolean fast)
{
  guint rejected_total = 0, at = 0;

  hearth_sync_apply_set_fresh_path (fast);
  for (guint p = 0; p < sizes->len && at < changes->len; p++)
    {
      g_autoptr(GPtrArray) page = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
      g_autoptr(GError) error = NULL;
      guint n = MIN (g_array_index (sizes, guint, p), changes->len - at), rejected = 0;
      gint64 next_cursor = 0;

      for (guint k = 0; k < n; k++, at++)
        {
          const HearthChange *c = changes->pdata[at];

          if (expand)
            {
              g_autoptr(GPtrArray) expanded = hearth_change_expand (c);

              for (guint e = 0; e < expanded->len; e++)
                g_ptr_array_add (page, g_steal_pointer (&expanded->pdata[e]));
            }
          else
            g_ptr_array_add (page, hearth_change_copy (c));
          next_cursor = c->cursor;
        }
      g_assert_true (hearth_sync_store_apply (r->sync, page, next_cursor, at < changes->len, &rejected, &error));
      g_assert_no_error (error);
      rejected_total += rejected;
    }
  hearth_sync_apply_set_fresh_path (TRUE);
  g_assert_cmpuint (at, ==, changes->len);
  return rejected_total;
}

/* A pulled "edits" change is applied record by record (sync-apply.c,
 * apply_edits()): the same rows, every table's every column, as the
 * "edit" changes it stands for, pages split alike: random histories with
 * conflicts and resolutions, records split across pages, by the fresh
 * record's path and the general one, delivered twice; and the refusals
 * alike, field by field (a value its table refuses, a field the table does
 * not have, a second edit under one version, a version far ahead). */
static void
test_grouped_apply (void)
{
  const char *env = g_getenv ("HEARTH_TEST_SEED");
  guint32 seed = env != NULL ? (guint32) g_ascii_strtoull (env, NULL, 10) : g_random_int ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GPtrArray) pushed = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autoptr(GPtrArray) grouped = NULL;
  g_autoptr(GArray) sizes = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree char *refused_id = NULL;
  g_autofree char *bogus_id = NULL;
  g_autofree char *expected = NULL;
  Replica *r[N_REPLICAS];
  Replica *to[3];
  guint n_groups = 0, rejected[3];

  g_test_message ("seed %u (HEARTH_TEST_SEED=%u replays this run)", seed, seed);
  for (guint i = 0; i < N_REPLICAS; i++)
    {
      g_autofree char *name = g_strdup_printf ("sync-grouped-%u", i);
      g_autofree char *device = test_rand_uuid (rand);

      r[i] = replica_new_device (name, device, START_MS + (gint64) i * 150 * 1000);
    }
  for (guint round = 0; round < 80; round++)
    {
      guint x = g_rand_int_range (rand, 0, N_REPLICAS);

      for (guint i = 0; i < N_REPLICAS; i++)
        r[i]->clock_ms += g_rand_int_range (rand, 0, 2000);
      random_edit (r[x], rand);
      if (g_rand_int_range (rand, 0, 4) == 0)
        {
          guint y = g_rand_int_range (rand, 0, N_REPLICAS);

          push (r[x], x, log, 500);
          pull_all (r[y], y, log);
        }
    }
  for (guint i = 0; i < N_REPLICAS; i++)
    push (r[i], i, log, 500);
  for (guint i = 0; i < log->len; i++)
    g_ptr_array_add (pushed, change_from_text (((Relayed *) log->pdata[i])->json, 0));
  grouped = regroup (pushed, rand, &n_groups);
  g_assert_cmpuint (n_groups, >, 0);

  /* Refusals inside grouped writes. */
  refused_id = test_rand_uuid (rand);
  bogus_id = test_rand_uuid (rand);
  {
    const char *const purple[][2] = { { "village_code", "150422100201" }, { "head_name", "赵敏" },
                                      { "risk_level", "purple" } };
    const char *const bogus[][2] = { { "village_code", "150422100201" }, { "head_name", "钱进" },
                                     { "no_such_field", "1" } };
    const char *const ahead[][2] = { { "phone", "13800000000" }, { "head_name", "孙立" } };
    const char *const other[][2] = { { "head_name", "钱多" }, { "phone", "13900000000" } };
    HearthChange *again = NULL;

    g_ptr_array_add (grouped, grouped_household (refused_id, "001772676000000-00000000-OTHER", grouped->len + 1,
                                                 G_N_ELEMENTS (purple), purple));
    g_ptr_array_add (grouped, grouped_household (bogus_id, "001772676000001-00000000-OTHER", grouped->len + 1,
                                                 G_N_ELEMENTS (bogus), bogus));
    /* Another device's write of the same household, concurrent with the
     * one before: its head name an open conflict, whatever the history. */
    g_ptr_array_add (grouped, grouped_household (bogus_id, "001772676000002-00000000-OTHER2", grouped->len + 1,
                                                 G_N_ELEMENTS (other), other));
    /* A day ahead of the center's time. */
    g_ptr_array_add (grouped, grouped_household (bogus_id, "001772766000000-00000000-OTHER", grouped->len + 1,
                                                 G_N_ELEMENTS (ahead), ahead));
    /* A grouped write again, one of its fields with another value. */
    for (guint i = 0; i < grouped->len && again == NULL; i++)
      if (((HearthChange *) grouped->pdata[i])->kind == HEARTH_CHANGE_EDITS)
        {
          HearthChangeField *f;

          again = hearth_change_copy (grouped->pdata[i]);
          f = again->edits->pdata[0];
          g_free (f->value);
          f->value = g_strdup ("another value");
          again->cursor = grouped->len + 1;
          g_ptr_array_add (grouped, again);
        }
  }
  for (guint n = 0; n < grouped->len; n += g_array_index (sizes, guint, sizes->len - 1))
    {
      guint size = (guint) g_rand_int_range (rand, 1, 30);

      g_array_append_val (sizes, size);
    }

  /* As served to a device of version 2, and as they are, by either path. */
  to[0] = replica_new_device ("sync-grouped-expanded", "fresh-device", START_MS + 3600 * 1000);
  to[1] = replica_new_device ("sync-grouped-whole", "fresh-device", START_MS + 3600 * 1000);
  to[2] = replica_new_device ("sync-grouped-general", "fresh-device", START_MS + 3600 * 1000);
  rejected[0] = apply_grouped (to[0], grouped, sizes, TRUE, TRUE);
  rejected[1] = apply_grouped (to[1], grouped, sizes, FALSE, TRUE);
  rejected[2] = apply_grouped (to[2], grouped, sizes, FALSE, FALSE);
  /* purple; no_such_field; the two fields ahead; the field sent again. */
  g_assert_cmpuint (rejected[0], ==, 5);
  {
    /* Created without the field it does not have; the later version's
     * head name wins. */
    g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM households WHERE id = '%s' AND head_name = '钱多' "
                                            "AND village_code = '150422100201'", bogus_id);

    g_assert_cmpint (count (to[1], sql), ==, 1);
  }
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM conflicts WHERE record_id = '%s' AND field = "
                                            "'head_name' AND resolved_at IS NULL", bogus_id);

    g_assert_cmpint (count (to[1], sql), ==, 1);
  }
  for (guint round = 0; round < 2; round++)
    {
      for (guint i = 0; i < G_N_ELEMENTS (to); i++)
        {
          g_autofree char *state = full_state_of (to[i]);

          g_assert_cmpuint (rejected[i], ==, rejected[0]);
          if (i == 0)
            {
              g_free (expected);
              expected = g_steal_pointer (&state);
            }
          else if (g_strcmp0 (state, expected) != 0)
            {
              g_printerr ("seed %u, round %u: store %u differs\n--- expanded:\n%s\n--- %u:\n%s\n", seed, round, i,
                          expected, i, state);
              g_test_fail ();
            }
        }
      /* Delivered again: nothing new, but the refusals. */
      rejected[0] = apply_grouped (to[0], grouped, sizes, TRUE, TRUE);
      rejected[1] = apply_grouped (to[1], grouped, sizes, FALSE, TRUE);
      rejected[2] = apply_grouped (to[2], grouped, sizes, FALSE, FALSE);
    }
  g_test_message ("seed %u: %u changes (%u grouped) in %u pages, %" G_GINT64_FORMAT " conflicts", seed, grouped->len,
                  n_groups, sizes->len, count (to[0], "SELECT count (*) FROM conflicts"));
  for (guint i = 0; i < G_N_ELEMENTS (to); i++)
    replica_free (to[i]);
  for (guint i = 0; i < N_REPLICAS; i++)
    replica_free (r[i]);
}

/* An edit for test_held_probe(): @table's @id, @field = @value, made at
 * @wall_ms by @device. */
static HearthChange *
held_edit (const char *table, const char *id, const char *field, const char *value, gint64 wall_ms,
           const char *device)
{
  HearthChange *c = hearth_change_new (HEARTH_CHANGE_EDIT);

  c->table = g_strdup (table);
  c->id = g_strdup (id);
  c->field = g_strdup (field);
  c->value = g_strdup (value);
  c->hlc = g_strdup_printf ("%015" G_GINT64_FORMAT "-00000000-%s", wall_ms, device);
  return c;
}

/* The first page of the held-record tests, applied to @b (cursor 2):
 * household @id made by DEV-A a minute before START_MS, its village and
 * its head's name 甲, one write. */
static void
held_first_page (Replica *b, const char *id)
{
  g_autoptr(GPtrArray) first = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autoptr(GError) error = NULL;
  guint rejected = 0;

  g_ptr_array_add (first, held_edit ("households", id, "village_code", "150422100301", START_MS - 60000, "DEV-A"));
  g_ptr_array_add (first, held_edit ("households", id, "head_name", "甲", START_MS - 60000, "DEV-A"));
  g_assert_true (hearth_sync_store_apply (b->sync, first, 2, TRUE, &rejected, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rejected, ==, 0);
}

/* Adds to @second DEV-B's later edits of household @id: its head's name
 * 乙 (concurrent with held_first_page()'s) and a phone. */
static void
held_second_page (GPtrArray *second, const char *id)
{
  g_ptr_array_add (second, held_edit ("households", id, "head_name", "乙", START_MS - 30000, "DEV-B"));
  g_ptr_array_add (second, held_edit ("households", id, "phone", "13800000000", START_MS - 30000, "DEV-B"));
}

/* Which records of a page the store holds edits of is read once a page,
 * a table at a time (sync-apply.c, probe_records()): a record held from
 * an earlier page has its stored edits merged with the page's (a
 * concurrent edit is a conflict), and a record of another table with the
 * same id is still fresh (the fast path creates it). */
static void
test_held_probe (void)
{
  g_autoptr(Replica) b = replica_new ("sync-held-b", START_MS);
  g_autoptr(GPtrArray) first = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autoptr(GPtrArray) second = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *held = g_uuid_string_random ();
  g_autofree char *other = g_uuid_string_random ();
  g_autofree char *sql = NULL;
  g_autofree char *name = NULL;
  guint rejected = 0;

  /* Page 1: a household, and an incomplete task whose id is the id of
   * the household page 2 creates: its edit waits in field_edits. */
  g_ptr_array_add (first, held_edit ("households", held, "village_code", "150422100301", START_MS - 60000, "DEV-A"));
  g_ptr_array_add (first, held_edit ("households", held, "head_name", "甲", START_MS - 60000, "DEV-A"));
  g_ptr_array_add (first, held_edit ("tasks", other, "reason", "复查", START_MS - 60000, "DEV-A"));
  g_assert_true (hearth_sync_store_apply (b->sync, first, 3, TRUE, &rejected, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rejected, ==, 0);
  g_assert_cmpint (count (b, "SELECT count (*) FROM households"), ==, 1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM tasks"), ==, 0);

  /* Page 2: a concurrent edit of the held household's name and its first
   * phone; a new household with the task's id. */
  g_ptr_array_add (second, held_edit ("households", held, "head_name", "乙", START_MS - 30000, "DEV-B"));
  g_ptr_array_add (second, held_edit ("households", held, "phone", "13800000000", START_MS - 30000, "DEV-B"));
  g_ptr_array_add (second, held_edit ("households", other, "village_code", "150422100302", START_MS - 30000, "DEV-B"));
  g_ptr_array_add (second, held_edit ("households", other, "head_name", "丙", START_MS - 30000, "DEV-B"));
  hearth_sync_apply_fresh_path_taken ();
  g_assert_true (hearth_sync_store_apply (b->sync, second, 7, FALSE, &rejected, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rejected, ==, 0);
  /* The new household by the fast path, the held one merged. */
  g_assert_cmpuint (hearth_sync_apply_fresh_path_taken (), ==, 1);
  sql = g_strdup_printf ("SELECT head_name || ' ' || phone FROM households WHERE id = '%s'", held);
  name = query_text (b->db, sql);
  g_assert_cmpstr (name, ==, "乙 13800000000");
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT count (*) FROM conflicts WHERE record_id = '%s' AND field = 'head_name' "
                         "AND kept_value = '乙' AND lost_value = '甲' AND resolved_at IS NULL", held);
  g_assert_cmpint (count (b, sql), ==, 1);
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT count (*) FROM field_versions WHERE record_id = '%s' AND field = 'head_name' "
                         "AND hlc LIKE '%%-DEV-B'", held);
  g_assert_cmpint (count (b, sql), ==, 1);
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT count (*) FROM households WHERE id = '%s' AND head_name = '丙'", other);
  g_assert_cmpint (count (b, sql), ==, 1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM field_edits"), ==, 7);
}

/* Stores @fields (@len bytes) as the text of the one write of @id's
 * record_writes rows that holds head_name, past the table's triggers
 * (migration 0016: they refuse making a write's fields anything but a
 * JSON object, which SQLite 3.40 reads as plain JSON only): a row the app
 * never writes, as someone with sqlite3 might (.dbconfig enable_trigger
 * off). */
static void
held_store_raw_write (Replica *b, const char *id, const char *fields, gsize len)
{
  sqlite3_stmt *st = NULL;
  int on = -1;

  g_assert_cmpint (sqlite3_db_config (b->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, &on), ==, SQLITE_OK);
  g_assert_cmpint (on, ==, 0);
  g_assert_cmpint (sqlite3_prepare_v2 (b->db, "UPDATE record_writes SET fields = ?2 WHERE record_id = ?1",
                                       -1, &st, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, fields, (int) len, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
  g_assert_cmpint (sqlite3_changes (b->db), ==, 1);
  sqlite3_finalize (st);
  g_assert_cmpint (sqlite3_db_config (b->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, &on), ==, SQLITE_OK);
  g_assert_cmpint (on, ==, 1);
}

/* A page's edit of a write the store holds joins its row (sync-apply.c,
 * insert_pending(): json_patch ()); a row whose fields are not a JSON
 * object (written by hand: no writer writes one) is refused, as the
 * table's trigger refuses every other change of it (migration 0016),
 * which does not run while a page is applied: the page fails, saying so,
 * and the row is as it was, not replaced by the page's fields. */
static void
test_held_write_not_object (void)
{
  g_autoptr(Replica) b = replica_new ("sync-held-odd", START_MS);
  g_autoptr(GPtrArray) second = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *held = g_uuid_string_random ();
  g_autofree char *sql = NULL;
  g_autofree char *fields = NULL;
  guint rejected = 0;

  held_first_page (b, held);
  /* The write's first two fields, one row; then made an array by hand
   * (past the triggers that refuse it: held_store_raw_write()). */
  held_store_raw_write (b, held, "[\"甲\"]", strlen ("[\"甲\"]"));

  /* The same write's phone, a page later. */
  g_ptr_array_add (second, held_edit ("households", held, "phone", "13800000000", START_MS - 60000, "DEV-A"));
  g_assert_false (hearth_sync_store_apply (b->sync, second, 3, FALSE, &rejected, &error));
  g_assert_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_SQLITE);
  g_assert_nonnull (strstr (error->message, "not a JSON object"));
  sql = g_strdup_printf ("SELECT fields FROM record_writes WHERE record_id = '%s'", held);
  fields = query_text (b->db, sql);
  g_assert_cmpstr (fields, ==, "[\"甲\"]");
  g_assert_cmpint (count (b, "SELECT value FROM sync_state WHERE key = 'cursor'"), ==, 2);
}

/* A held record's writes as a page's apply reads them before it loads
 * their edits (sync-apply.c, record_holds_none_of(): the rows' JSON keys
 * read in C, field_edits only when one may be a field the page brings):
 * the stored edit of head_name is found and merged (a conflict with the
 * page's concurrent edit) whatever the form of its write's row: its key
 * escaped, spaces between the tokens, after members whose values hold
 * arrays, braces and quotes, or as an array with its parents. A write of
 * other fields only is one the page's edits are all new to. */
static void
test_held_fields_read (void)
{
  static const char *const forms[] = {
    "{\"head_name\":\"甲\"}",
    "{\"village_code\":\"150422100301\",\"head\\u005fname\":\"甲\"}",
    " { \"village_code\" : \"150422100301\" ,\n\t\"head_name\" : \"甲\" } ",
    "{\"phone\":[\"1}3,8\\\"]\",\"\",\"2026-01-01\"],\"notes\":\"{\\\"head_name\\\":1}\",\"head_name\":[\"甲\",\"\"]}",
    "{\"household_size\":3,\"deleted\":false,\"extra\":{\"a\":[1,{\"b\":null}]},\"head_name\":\"甲\"}",
  };

  for (guint f = 0; f <= G_N_ELEMENTS (forms); f++)
    {
      g_autofree char *name = g_strdup_printf ("sync-held-fields-%u", f);
      g_autoptr(Replica) b = replica_new (name, START_MS);
      g_autoptr(GPtrArray) second = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
      g_autoptr(GError) error = NULL;
      g_autofree char *id = g_uuid_string_random ();
      g_autofree char *sql = NULL;
      g_autofree char *value = NULL;
      gboolean other_fields = f == G_N_ELEMENTS (forms);   /* the last: a write of other fields only */
      guint rejected = 0;

      held_first_page (b, id);
      /* The write's row in the form under test (the head_name edit's
       * version and value kept); its village_code in a write of its own. */
      sql = g_strdup_printf ("UPDATE record_writes SET fields = '%s' WHERE record_id = '%s'",
                             other_fields ? "{\"village_code\":\"150422100301\"}" : forms[f], id);
      g_assert_cmpint (sqlite3_exec (b->db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_changes (b->db), ==, 1);
      g_clear_pointer (&sql, g_free);
      sql = g_strdup_printf ("SELECT count (*) FROM field_edits WHERE record_id = '%s' AND field = 'head_name' "
                             "AND value = '甲'", id);
      g_assert_cmpint (count (b, sql), ==, other_fields ? 0 : 1);
      g_clear_pointer (&sql, g_free);

      held_second_page (second, id);
      g_assert_true (hearth_sync_store_apply (b->sync, second, 4, FALSE, &rejected, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (rejected, ==, 0);
      sql = g_strdup_printf ("SELECT head_name || ' ' || phone FROM households WHERE id = '%s'", id);
      value = query_text (b->db, sql);
      g_assert_cmpstr (value, ==, "乙 13800000000");
      g_clear_pointer (&sql, g_free);
      /* The stored edit merged: a conflict it lost; none when the store
       * held no edit of head_name. */
      sql = g_strdup_printf ("SELECT count (*) FROM conflicts WHERE record_id = '%s' AND field = 'head_name' "
                             "AND kept_value = '乙' AND lost_value = '甲' AND resolved_at IS NULL", id);
      if (count (b, sql) != (other_fields ? 0 : 1))
        g_error ("form %u: the stored edit of head_name was %s", f, other_fields ? "found" : "not found");
    }
}

/* A held record whose stored write is JSON5 (a comment, or a
 * single-quoted string, holding a double quote before its head_name
 * member and another after it): a scanner of plain JSON that takes the
 * first quote for a string's reads head_name as inside strings, and the
 * write as one of other fields only. The apply reads such a row through
 * SQLite's JSON instead (record_writes_may_hold() gives up on a quote or
 * slash outside strings): where SQLite reads JSON5 (3.42 on), the stored
 * edit is found and merged, a conflict, as in test_held_fields_read();
 * where it does not (3.40), the row is malformed JSON and the page is
 * refused, nothing of it written, not applied as if the store held no
 * edit of head_name. */
static void
test_held_fields_json5 (void)
{
  static const char *const forms[] = {
    "{\"extra\":[/*\"*/],\"head_name\":\"甲\",\"more\":[/*\"*/]}",
    "{\"extra\":['\"'],\"head_name\":\"甲\",\"more\":['\"']}",
    "{\"extra\":{/*\"*/},\"head_name\":\"甲\",\"more\":{\"a\":/*\"*/1}}",
  };

  for (guint f = 0; f < G_N_ELEMENTS (forms); f++)
    {
      g_autofree char *name = g_strdup_printf ("sync-held-json5-%u", f);
      g_autoptr(Replica) b = replica_new (name, START_MS);
      g_autoptr(GPtrArray) first = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
      g_autoptr(GPtrArray) second = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
      g_autoptr(GError) error = NULL;
      g_autofree char *id = g_uuid_string_random ();
      g_autofree char *sql = NULL;
      g_autofree char *value = NULL;
      sqlite3_stmt *st = NULL;
      gboolean json5;
      guint rejected = 0;

      /* Whether this SQLite reads the form (json_each() of it). */
      g_assert_cmpint (sqlite3_prepare_v2 (b->db, "SELECT count (*) FROM json_each (?)", -1, &st, NULL), ==,
                       SQLITE_OK);
      sqlite3_bind_text (st, 1, forms[f], -1, SQLITE_STATIC);
      json5 = sqlite3_step (st) == SQLITE_ROW;
      sqlite3_finalize (st);

      held_first_page (b, id);
      held_store_raw_write (b, id, forms[f], strlen (forms[f]));

      held_second_page (second, id);
      if (!hearth_sync_store_apply (b->sync, second, 4, FALSE, &rejected, &error))
        {
          if (json5)
            g_error ("form %u: refused though SQLite reads it: %s", f, error->message);
          g_clear_error (&error);
          sql = g_strdup_printf ("SELECT head_name || '|' || phone FROM households WHERE id = '%s'", id);
          value = query_text (b->db, sql);
          g_assert_cmpstr (value, ==, "甲|");
          g_assert_cmpint (count (b, "SELECT value FROM sync_state WHERE key = 'cursor'"), ==, 2);
          g_assert_cmpint (count (b, "SELECT count (*) FROM record_writes"), ==, 1);
          continue;
        }
      g_assert_no_error (error);
      if (!json5)
        g_error ("form %u: applied as if the store held no edit of head_name", f);
      sql = g_strdup_printf ("SELECT count (*) FROM conflicts WHERE record_id = '%s' AND field = 'head_name' "
                             "AND kept_value = '乙' AND lost_value = '甲' AND resolved_at IS NULL", id);
      g_assert_cmpint (count (b, sql), ==, 1);
    }
}

/* A stored write whose key holds a NUL byte after a field's name (a row
 * SQLite's JSON does not read: the app never writes one): that key is
 * not the field, whatever the bytes after the name's end. The page's
 * field names here are followed by zeros in their buffers, where a
 * comparison of the name's bytes up to the key's length, then of the
 * name's byte at that length, took the key for the name (and read past
 * the end of a name shorter than a key). */
static void
test_held_key_nul (void)
{
  static const char fields[] = "{\"village_code\":\"150422100301\",\"head_name\0zz\":\"甲\"}";
  g_autoptr(Replica) b = replica_new ("sync-held-key-nul", START_MS);
  g_autoptr(GPtrArray) second = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *sql = NULL;
  g_autofree char *value = NULL;
  g_autofree char *stored = NULL;
  guint rejected = 0;

  held_first_page (b, id);
  held_store_raw_write (b, id, fields, sizeof fields - 1);

  held_second_page (second, id);
  for (guint i = 0; i < second->len; i++)
    {
      HearthChange *c = second->pdata[i];
      char *padded = g_malloc0 (64);

      strcpy (padded, c->field);
      g_free (c->field);
      c->field = padded;
    }
  g_assert_true (hearth_sync_store_apply (b->sync, second, 4, FALSE, &rejected, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rejected, ==, 0);
  sql = g_strdup_printf ("SELECT head_name || ' ' || phone FROM households WHERE id = '%s'", id);
  value = query_text (b->db, sql);
  g_assert_cmpstr (value, ==, "乙 13800000000");
  g_assert_cmpint (count (b, "SELECT count (*) FROM conflicts"), ==, 0);
  /* The stored row as it was, the page's write a row of its own. */
  g_assert_cmpint (count (b, "SELECT count (*) FROM record_writes"), ==, 2);
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT count (*) FROM record_writes WHERE record_id = '%s' AND hlc LIKE '%%-DEV-A' "
                         "AND length (CAST (fields AS BLOB)) = %u", id, (guint) (sizeof fields - 1));
  g_assert_cmpint (count (b, sql), ==, 1);
}

/* A page's edits of a held record written together (sync-apply.c,
 * recompute_together()) write the record's columns first, then its
 * fields' versions and conflicts, with no savepoint between: those
 * cannot be refused (no constraint but NOT NULL on record_versions and
 * conflicts). Were one refused all the same (here a CHECK given to
 * conflicts by hand, refusing the conflict the page makes), the page
 * fails, and nothing of it is written; not the record's columns kept
 * without their versions, nor the field set aside as if its value were
 * refused. */
static void
test_later_fields_refused_after (void)
{
  g_autoptr(Replica) b = replica_new ("sync-later-refused-after", START_MS);
  g_autoptr(GPtrArray) second = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *sql = NULL;
  g_autofree char *value = NULL;
  guint rejected = 0;

  held_first_page (b, id);
  test_exec (b->db, "PRAGMA writable_schema = ON;"
                    "UPDATE sqlite_schema SET sql = replace (sql, 'resolution   TEXT',"
                    " 'resolution   TEXT CHECK (lost_value <> ''甲'')') WHERE name = 'conflicts';"
                    "PRAGMA writable_schema = RESET;"
                    "CREATE TABLE schema_moved (x); DROP TABLE schema_moved;");
  g_assert_cmpint (count (b, "SELECT count (*) FROM sqlite_schema WHERE name = 'conflicts' "
                             "AND instr (sql, 'CHECK (lost_value') > 0"), ==, 1);

  /* A concurrent edit of head_name (its conflict refused) and a phone. */
  held_second_page (second, id);
  g_assert_false (hearth_sync_store_apply (b->sync, second, 4, FALSE, &rejected, &error));
  g_assert_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_SQLITE);
  sql = g_strdup_printf ("SELECT head_name || '|' || phone || '|' || "
                         "(SELECT versions FROM record_versions WHERE record_id = '%s') FROM households "
                         "WHERE id = '%s'", id, id);
  value = query_text (b->db, sql);
  g_assert_nonnull (value);
  g_assert_true (g_str_has_prefix (value, "甲||"));
  g_assert_null (strstr (value, "DEV-B"));
  g_assert_cmpint (count (b, "SELECT count (*) FROM conflicts"), ==, 0);
  g_assert_cmpint (count (b, "SELECT count (*) FROM sync_apply_errors"), ==, 0);
  g_assert_cmpint (count (b, "SELECT value FROM sync_state WHERE key = 'cursor'"), ==, 2);
}

/* A held record's later page (reconcile_held(): the store holds none of
 * the fields it brings) whose edits are under a version of a stored
 * write, a field of one write pulled as its own change a page later:
 * joined to that write's row, not a second row of the same version;
 * and its edit under a version of its own a row of its own. */
static void
test_held_same_version (void)
{
  g_autoptr(Replica) b = replica_new ("sync-held-same-version", START_MS);
  g_autoptr(GPtrArray) second = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *sql = NULL;
  g_autofree char *value = NULL;
  guint rejected = 0;

  held_first_page (b, id);
  g_assert_cmpint (count (b, "SELECT count (*) FROM record_writes"), ==, 1);

  /* The phone of the first write's version; a note of a later one. */
  g_ptr_array_add (second, held_edit ("households", id, "phone", "13800000000", START_MS - 60000, "DEV-A"));
  g_ptr_array_add (second, held_edit ("households", id, "address", "一街", START_MS - 30000, "DEV-B"));
  g_assert_true (hearth_sync_store_apply (b->sync, second, 4, FALSE, &rejected, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rejected, ==, 0);
  g_assert_cmpint (count (b, "SELECT count (*) FROM record_writes"), ==, 2);
  g_assert_cmpint (count (b, "SELECT count (*) FROM record_writes WHERE hlc LIKE '%-DEV-A' AND "
                             "(SELECT count (*) FROM json_each (fields)) = 3 AND fields ->> 'phone' = '13800000000'"),
                   ==, 1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM record_writes WHERE hlc LIKE '%-DEV-B' AND "
                             "fields = '{\"address\":\"一街\"}'"), ==, 1);
  sql = g_strdup_printf ("SELECT head_name || ' ' || phone || ' ' || address FROM households WHERE id = '%s'", id);
  value = query_text (b->db, sql);
  g_assert_cmpstr (value, ==, "甲 13800000000 一街");
}

/* A record's field versions damaged in the store (record_versions, not
 * of the form): a page setting two of its fields together
 * (recompute_together(), store_versions()) fails as the statement did,
 * naming what is wrong, and leaves nothing of the page: the record, its
 * versions text and the cursor as they were. */
static void
test_damaged_versions (void)
{
  g_autoptr(Replica) b = replica_new ("sync-damaged-versions", START_MS);
  g_autoptr(GPtrArray) second = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *sql = NULL;
  g_autofree char *row = NULL;
  guint rejected = 0;

  held_first_page (b, id);
  sql = g_strdup_printf ("UPDATE record_versions SET versions = '{\"V1\":\"head_name\"}' WHERE record_id = '%s'", id);
  g_assert_cmpint (sqlite3_exec (b->db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_changes (b->db), ==, 1);

  held_second_page (second, id);
  g_assert_false (hearth_sync_store_apply (b->sync, second, 4, FALSE, &rejected, &error));
  g_assert_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_SQLITE);
  g_assert_nonnull (strstr (error->message, "not of the form"));
  g_assert_nonnull (strstr (error->message, "expected '[' (a key's fields) at byte 6"));
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT head_name || '|' || phone || '|' || "
                         "(SELECT versions FROM record_versions WHERE record_id = '%s') FROM households "
                         "WHERE id = '%s'", id, id);
  row = query_text (b->db, sql);
  g_assert_cmpstr (row, ==, "甲||{\"V1\":\"head_name\"}");
  g_assert_cmpint (count (b, "SELECT value FROM sync_state WHERE key = 'cursor'"), ==, 2);
  g_assert_cmpint (count (b, "SELECT count (*) FROM field_edits"), ==, 2);
}

/* A page's edits of a record the store holds: written together
 * (sync-apply.c, recompute_together(): the record's columns read and
 * written in one statement each) or, one field a page, field by field:
 * the same rows, every column and what the triggers write (the search
 * index, the routine visit queue); a field whose value is the one held is
 * not written, a concurrent edit is a conflict, and an edit with a value
 * the table refuses sets that field aside alone. */
static void
test_later_fields (void)
{
  g_autoptr(Replica) together = replica_new_device ("sync-later-together", "fresh-device", START_MS);
  g_autoptr(Replica) apart = replica_new_device ("sync-later-apart", "fresh-device", START_MS);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *household = g_uuid_string_random ();
  g_autofree char *task = g_uuid_string_random ();
  g_autofree char *together_state = NULL;
  g_autofree char *apart_state = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *row = NULL;
  g_autoptr(GArray) sizes = g_array_new (FALSE, FALSE, sizeof (guint));
  const gint64 t0 = START_MS - 3600 * 1000;
  struct {
    const char *table;
    const char *field;
    const char *value;
    gint64 at;
    const char *device;
    gboolean on_head;   /* its parent: the field's first edit */
  } edits[] = {
    /* Page 1: the records, created. */
    { "households", "village_code", "150422100201", t0, "DEV-A", FALSE },
    { "households", "head_name", "王芳", t0, "DEV-A", FALSE },
    { "households", "phone", "13900000000", t0, "DEV-A", FALSE },
    { "tasks", "household_id", NULL, t0, "DEV-A", FALSE },
    { "tasks", "kind", "follow_up", t0, "DEV-A", FALSE },
    { "tasks", "due_date", "2026-04-01", t0, "DEV-A", FALSE },
    { "tasks", "status", "open", t0, "DEV-A", FALSE },
    /* Page 2: their later fields. */
    { "households", "head_name", "王芳芳", t0 + 60000, "DEV-A", TRUE },
    { "households", "head_name", "李强", t0 + 60000, "DEV-B", FALSE },
    { "households", "phone", "13900000000", t0 + 60000, "DEV-B", TRUE },
    { "households", "risk_level", "purple", t0 + 60000, "DEV-A", FALSE },
    { "households", "last_visit_date", "2026-03-02", t0 + 60000, "DEV-A", FALSE },
    { "households", "member_count", "3", t0 + 60000, "DEV-A", FALSE },
    { "tasks", "status", "done", t0 + 60000, "DEV-A", TRUE },
    { "tasks", "closed_by", "visit-1", t0 + 60000, "DEV-A", FALSE },
  };
  guint first_page = 7, rejected_together, rejected_apart;

  for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      g_autoptr(HearthChange) c = held_edit (edits[i].table, g_str_equal (edits[i].table, "tasks") ? task : household,
                                             edits[i].field, edits[i].value != NULL ? edits[i].value : household,
                                             edits[i].at, edits[i].device);

      c->household = g_strdup (household);
      c->village = g_strdup ("150422100201");
      if (edits[i].on_head)
        for (guint k = 0; k < i; k++)
          if (g_str_equal (edits[k].table, edits[i].table) && g_str_equal (edits[k].field, edits[i].field))
            {
              g_ptr_array_add (c->parents, g_strdup_printf ("%015" G_GINT64_FORMAT "-00000000-%s", edits[k].at,
                                                            edits[k].device));
              break;
            }
      g_ptr_array_add (texts, change_to_text (c));
    }
  /* Together: page 1, then page 2 whole. Apart: page 1, then page 2 one
   * edit a page. */
  g_array_append_val (sizes, first_page);
  g_array_append_vals (sizes, &(guint) { G_N_ELEMENTS (edits) - first_page }, 1);
  rejected_together = apply_in_pages (together, texts, sizes, TRUE);
  g_array_set_size (sizes, 1);
  for (guint i = first_page; i < G_N_ELEMENTS (edits); i++)
    g_array_append_vals (sizes, &(guint) { 1 }, 1);
  rejected_apart = apply_in_pages (apart, texts, sizes, TRUE);

  g_assert_cmpuint (rejected_together, ==, 1);
  g_assert_cmpuint (rejected_apart, ==, 1);
  sql = g_strdup_printf ("SELECT head_name || ' ' || phone || ' ' || risk_level || ' ' || last_visit_date || ' ' || "
                         "member_count FROM households WHERE id = '%s'", household);
  row = query_text (together->db, sql);
  /* DEV-B's head name wins the concurrent pair (the larger version). */
  g_assert_cmpstr (row, ==, "李强 13900000000 none 2026-03-02 3");
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT count (*) FROM conflicts WHERE record_id = '%s' AND field = 'head_name' "
                         "AND resolved_at IS NULL", household);
  g_assert_cmpint (count (together, sql), ==, 1);
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT count (*) FROM sync_apply_errors WHERE record_id = '%s' AND field = 'risk_level'",
                         household);
  g_assert_cmpint (count (together, sql), ==, 1);
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT count (*) FROM tasks WHERE id = '%s' AND status = 'done' AND closed_by = 'visit-1'",
                         task);
  g_assert_cmpint (count (together, sql), ==, 1);
  /* The task is closed: the household is back in the routine queue. */
  g_assert_cmpint (count (together, "SELECT count (*) FROM routine_visit_queue"), ==, 1);
  /* A refusal names the cursor of the record's last change on its page,
   * which the two page layouts number apart. */
  g_assert_cmpint (sqlite3_exec (together->db, "UPDATE sync_apply_errors SET cursor = 0", NULL, NULL, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (apart->db, "UPDATE sync_apply_errors SET cursor = 0", NULL, NULL, NULL), ==,
                   SQLITE_OK);
  together_state = full_state_of (together);
  apart_state = full_state_of (apart);
  g_assert_cmpstr (together_state, ==, apart_state);
}

/* Pages applied in one transaction (hearth_sync_store_begin_pages(), as a
 * pull does): the same rows as a transaction a page; uncommitted, a crash
 * (the connection closed) loses the pages and their cursor together; a
 * page the store fails to apply rolls back the pages since the commit,
 * never leaving a cursor ahead of the rows. */
static void
test_pages_batch (void)
{
  g_autoptr(Replica) a = replica_new ("sync-pages-a", START_MS);
  g_autoptr(Replica) b = replica_new ("sync-pages-b", START_MS);
  g_autoptr(Replica) c = replica_new ("sync-pages-c", START_MS);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GPtrArray) pages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GArray) cursors = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *household = NULL;
  g_autofree char *empty = NULL;
  g_autofree char *b_state = NULL;
  g_autofree char *c_state = NULL;
  g_autoptr(GError) error = NULL;
  const char *counts = "SELECT (SELECT count (*) FROM households), (SELECT count (*) FROM members), "
                       "(SELECT count (*) FROM field_edits), (SELECT count (*) FROM field_versions), "
                       "(SELECT count (*) FROM submissions), (SELECT value FROM sync_state WHERE key = 'cursor')";

  record_registration_and_visit (a, &household);
  push (a, 0, log, 500);
  g_assert_cmpuint (log->len, >=, 9);
  /* Three pages. */
  for (guint p = 0, at = 0; p < 3; p++)
    {
      GPtrArray *page = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
      guint end = p < 2 ? (p + 1) * (log->len / 3) : log->len;
      gint64 cursor;

      for (; at < end; at++)
        g_ptr_array_add (page, change_from_text (((Relayed *) log->pdata[at])->json, at + 1));
      cursor = at;
      g_ptr_array_add (pages, page);
      g_array_append_val (cursors, cursor);
    }
  empty = dump (b->db, counts);

  /* A transaction open already: refused. */
  test_exec (b->db, "BEGIN");
  g_assert_false (hearth_sync_store_begin_pages (b->sync, &error));
  g_assert_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID);
  g_clear_error (&error);
  test_exec (b->db, "ROLLBACK");

  /* The third page fails: the two before it go with it. */
  g_assert_true (hearth_sync_store_begin_pages (b->sync, &error));
  g_assert_no_error (error);
  for (guint p = 0; p < 2; p++)
    {
      g_assert_true (hearth_sync_store_apply_page (b->sync, pages->pdata[p], g_array_index (cursors, gint64, p), TRUE,
                                                   0, NULL, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpint (count (b, "SELECT value FROM sync_state WHERE key = 'cursor'"), ==,
                   g_array_index (cursors, gint64, 1));
  /* Storing its cursor fails (not as a constraint: the page fails). */
  test_exec (b->db, "CREATE TEMP TRIGGER fault BEFORE UPDATE ON main.sync_state WHEN NEW.key = 'cursor' "
                    "BEGIN SELECT no_such_function (); END");
  g_assert_false (hearth_sync_store_apply_page (b->sync, pages->pdata[2], g_array_index (cursors, gint64, 2), FALSE,
                                                0, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_true (sqlite3_get_autocommit (b->db));
  g_assert_true (hearth_sync_store_commit_pages (b->sync, &error));
  g_assert_no_error (error);
  /* Made inside the transaction, the fault went with it. */
  test_exec (b->db, "DROP TRIGGER IF EXISTS temp.fault");
  {
    g_autofree char *after = dump (b->db, counts);
    g_assert_cmpstr (after, ==, empty);
  }

  /* Two pages, then a crash before the commit: neither page, nor its cursor. */
  g_assert_true (hearth_sync_store_begin_pages (b->sync, &error));
  for (guint p = 0; p < 2; p++)
    g_assert_true (hearth_sync_store_apply_page (b->sync, pages->pdata[p], g_array_index (cursors, gint64, p), TRUE,
                                                 0, NULL, &error));
  g_assert_no_error (error);
  replica_detach (b);
  replica_attach (b, b->name);
  {
    g_autofree char *after = dump (b->db, counts);
    g_assert_cmpstr (after, ==, empty);
  }

  /* Committed: the two pages and the second's cursor; the third after. */
  g_assert_true (hearth_sync_store_begin_pages (b->sync, &error));
  for (guint p = 0; p < 2; p++)
    g_assert_true (hearth_sync_store_apply_page (b->sync, pages->pdata[p], g_array_index (cursors, gint64, p), TRUE,
                                                 0, NULL, &error));
  g_assert_true (hearth_sync_store_commit_pages (b->sync, &error));
  g_assert_no_error (error);
  replica_detach (b);
  replica_attach (b, b->name);
  g_assert_cmpint (count (b, "SELECT value FROM sync_state WHERE key = 'cursor'"), ==,
                   g_array_index (cursors, gint64, 1));
  g_assert_cmpint (count (b, "SELECT count (*) FROM households"), ==, 1);
  g_assert_true (hearth_sync_store_begin_pages (b->sync, &error));
  g_assert_true (hearth_sync_store_apply_page (b->sync, pages->pdata[2], g_array_index (cursors, gint64, 2), FALSE, 0,
                                               NULL, &error));
  g_assert_true (hearth_sync_store_commit_pages (b->sync, &error));
  g_assert_no_error (error);
  g_assert_true (sqlite3_get_autocommit (b->db));

  /* The same rows as a transaction a page. */
  for (guint p = 0; p < 3; p++)
    {
      g_assert_true (hearth_sync_store_apply_page (c->sync, pages->pdata[p], g_array_index (cursors, gint64, p), p < 2,
                                                   0, NULL, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpint (count (b, "SELECT count (*) FROM members"), ==, 5);
  b_state = full_state_of (b);
  c_state = full_state_of (c);
  g_assert_cmpstr (b_state, ==, c_state);
  {
    g_autofree char *b_cursor = dump (b->db, counts);
    g_autofree char *c_cursor = dump (c->db, counts);
    g_assert_cmpstr (b_cursor, ==, c_cursor);
  }
}

/* A page's changes are read with the connection's triggers off
 * (sync-apply.c, apply_page()): right only while the outbox's are the
 * only triggers on the tables they write, which skip pulled changes
 * anyway. After a page the triggers are on again: the search index has
 * the pulled household, and a local edit enters the outbox. */
static void
test_apply_triggers (void)
{
  g_autoptr(Replica) a = replica_new ("sync-triggers-a", START_MS);
  g_autoptr(Replica) b = replica_new ("sync-triggers-b", START_MS);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GPtrArray) page = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autofree char *household = NULL;
  g_autofree char *triggers = NULL;
  g_autoptr(GError) error = NULL;
  gint64 outbox;
  int on = -1;

  /* The edits' view has the outbox's trigger and an update's (migration
   * 0014); a pull writes record_writes, whose two triggers refuse any
   * change of a row that is not a JSON object and any update that would
   * make one (migration 0016): the page's one update of it refuses such
   * a row itself (sync-apply.c, stored_write();
   * /sync/store/held-write-not-object), and joins an object to the
   * object stored (json_patch () of two objects is one). */
  triggers = dump (b->db, "SELECT group_concat (name, ' ') FROM (SELECT name FROM sqlite_schema WHERE type = "
                          "'trigger' AND tbl_name IN ('field_edits', 'record_writes', 'submissions', 'reviews', "
                          "'audit_foreign', 'published_forms', 'sync_apply_errors') ORDER BY name)");
  g_assert_cmpstr (triggers, ==,
                   "field_edits_update record_writes_object record_writes_object_kept sync_outbox_field_edits "
                   "sync_outbox_reviews "
                   "sync_outbox_submissions\n");
  g_clear_pointer (&triggers, g_free);
  /* A page writes records of these with the triggers off and writes
   * what these do itself (sync-apply.c: write_created() for the fast
   * path's, derived_before() and derived_after() for the general
   * path's): a new trigger needs its statements there. */
  triggers = dump (b->db, "SELECT group_concat (name, ' ') FROM (SELECT name FROM sqlite_schema WHERE type = "
                          "'trigger' AND tbl_name IN ('households', 'members', 'tasks', 'measures') ORDER BY name)");
  g_assert_cmpstr (triggers, ==, "household_search_households_delete household_search_households_insert "
                                 "household_search_households_update household_search_members_delete "
                                 "household_search_members_insert household_search_members_update "
                                 "routine_visit_households_delete routine_visit_households_insert "
                                 "routine_visit_households_update routine_visit_tasks_delete routine_visit_tasks_insert "
                                 "routine_visit_tasks_update\n");
  record_registration_and_visit (a, &household);
  push (a, 0, log, 500);
  for (guint i = 0; i < log->len; i++)
    g_ptr_array_add (page, change_from_text (((Relayed *) log->pdata[i])->json, i + 1));
  g_assert_true (hearth_sync_store_apply_page (b->sync, page, log->len, FALSE, 0, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_db_config (b->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, -1, &on), ==, SQLITE_OK);
  g_assert_cmpint (on, ==, 1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM field_edits"), >, 0);
  g_assert_cmpint (count (b, "SELECT count (*) FROM sync_outbox"), ==, 0);
  g_assert_cmpint (count (b, "SELECT count (*) FROM household_search"), >, 0);
  outbox = count (b, "SELECT count (*) FROM sync_outbox WHERE kind IN ('edit', 'edits')");
  g_assert_cmpuint (put (b, "households", household, FALSE, "head_name", "钱程", NULL), ==, 1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM sync_outbox WHERE kind IN ('edit', 'edits')"), ==, outbox + 1);
}

/* What the records' triggers make (migrations 0004 and 0009): the search
 * rows with their households, the households' keys, the routine visit
 * queue. */
static char *
derived_of (Replica *r)
{
  g_autofree char *search = dump (r->db, "SELECT s.key, s.village, s.head_name, k.household_id FROM household_search AS s "
                                         "JOIN household_keys AS k ON k.key = s.household_key ORDER BY 1, 2, 3, 4");
  g_autofree char *keys = dump (r->db, "SELECT household_id FROM household_keys ORDER BY 1");
  g_autofree char *queue = dump (r->db, "SELECT * FROM routine_visit_queue ORDER BY 1");

  return g_strdup_printf ("-- search\n%s-- keys\n%s-- queue\n%s", search, keys, queue);
}

/* The same rows made from the records as they are (the invariants the
 * triggers keep: migration 0004's last statement, 0009's). */
static char *
derived_from_scratch (Replica *r)
{
  g_autofree char *search = dump (r->db, DERIVED_SEARCH_SQL);
  g_autofree char *keys = dump (r->db, "SELECT id FROM households ORDER BY 1");
  g_autofree char *queue = dump (r->db, DERIVED_QUEUE_SQL);

  return g_strdup_printf ("-- search\n%s-- keys\n%s-- queue\n%s", search, keys, queue);
}

/* Pushes what @a has not pushed and applies it to @b as one page. */
static void
relay_new (Replica *a, Replica *b)
{
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);

  push (a, 0, log, 500);
  g_assert_cmpuint (log->len, >, 0);
  pull_all (b, 1, log);
}

/* A tombstone (or its undoing) of @id, which the case model writes
 * only for itself: pulled by @b as an edit of "deleted" (a page of its
 * own), and made in @a by the statement the model would run, whose
 * triggers then write their rows. */
static void
pull_tombstone (Replica *a, Replica *b, const char *table, const char *id, const char *household, gboolean deleted)
{
  static guint counter;
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(HearthChange) c = hearth_change_new (HEARTH_CHANGE_EDIT);
  g_autofree char *sql = g_strdup_printf ("UPDATE %s SET deleted = %d WHERE id = '%s'", table, deleted ? 1 : 0, id);

  a->clock_ms += 1000;
  c->table = g_strdup (table);
  c->id = g_strdup (id);
  c->household = g_strdup (household);
  c->village = g_strdup ("150422100201");
  c->field = g_strdup ("deleted");
  c->value = g_strdup (deleted ? "1" : "0");
  c->hlc = g_strdup_printf ("%015" G_GINT64_FORMAT "-%08u-OTHER", a->clock_ms, counter++);
  g_ptr_array_add (texts, change_to_text (c));
  g_assert_cmpuint (apply_texts (b, texts, 1000 + counter), ==, 0);
  g_assert_cmpint (sqlite3_exec (a->db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
}

/* A pull applies the edits of records the store has (the general path)
 * with the connection's triggers off and writes what they would itself
 * (sync-apply.c, derived_before(), derived_after()); new records of the
 * fast path likewise (write_search_rows(), in C). Names that fold
 * (ASCII letters of both cases, others that SQLite's lower() leaves),
 * longer than the 100 positions indexed, numbers of fewer than four
 * characters and with a lowercase x; then head names and villages
 * changed, members moved, renamed and tombstoned, a household
 * tombstoned, tasks closed and moved: the pulling tablet's rows are the
 * writer's, whose triggers made them, and the rows the invariants
 * give. */
static void
test_apply_derived (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261202);
  g_autoptr(Replica) a = replica_new ("sync-derived-a", START_MS);
  g_autoptr(Replica) b = replica_new ("sync-derived-b", START_MS + 60 * 1000);
  g_autofree char *h1 = test_rand_uuid (rand), *h2 = test_rand_uuid (rand), *h3 = test_rand_uuid (rand);
  g_autofree char *m1 = test_rand_uuid (rand), *m2 = test_rand_uuid (rand), *m3 = test_rand_uuid (rand);
  g_autofree char *m4 = test_rand_uuid (rand), *t1 = test_rand_uuid (rand), *t2 = test_rand_uuid (rand);
  g_autofree char *t3 = test_rand_uuid (rand);
  g_autoptr(GString) long_name = g_string_new (NULL);
  const char *const rounds[] = { "created", "changed", "changed back" };

  /* 120 characters, then two past the 100 indexed. */
  for (guint i = 0; i < 16; i++)
    g_string_append (long_name, i % 2 == 0 ? "ABCDEfghij" : "王小明Äb");
  g_string_append (long_name, "Zq");
  put (a, "households", h1, TRUE, "village_code", "150422100201", "head_name", "Anna MARIA", "head_id_number",
       "15042219800101123x", NULL);
  put (a, "households", h2, TRUE, "village_code", "150422100202", "head_name", "赵敏", "head_id_number", "12", NULL);
  put (a, "households", h3, TRUE, "village_code", "150422100201", "head_name", "Zoë NG", "risk_level", "red", NULL);
  put (a, "members", m1, TRUE, "household_id", h1, "name", "Bob O'Neil", "id_number", "abcx", NULL);
  put (a, "members", m2, TRUE, "household_id", h1, "name", "钱程", "id_number", "150422199001011234", NULL);
  put (a, "members", m3, TRUE, "household_id", h2, "name", "KIM", "id_number", "", NULL);
  put (a, "tasks", t1, TRUE, "household_id", h1, "kind", "follow_up", "due_date", "2026-01-01", NULL);
  put (a, "tasks", t2, TRUE, "household_id", h2, "kind", "follow_up", "due_date", "2026-02-01", NULL);
  for (guint round = 0; round < G_N_ELEMENTS (rounds); round++)
    {
      g_autofree char *writer = NULL;
      g_autofree char *puller = NULL;
      g_autofree char *scratch = NULL;

      if (round == 1)
        {
          a->clock_ms += 60000;
          put (a, "households", h1, FALSE, "head_name", long_name->str, "village_code", "150422100203", NULL);
          put (a, "households", h2, FALSE, "head_id_number", "98765X", "risk_level", "yellow", NULL);
          put (a, "members", m1, FALSE, "household_id", h2, "name", "Ömer kaya", NULL);
          put (a, "members", m4, TRUE, "household_id", h2, "name", "Li Na", "id_number", "abcd", NULL);
          put (a, "tasks", t1, FALSE, "status", "done", NULL);
          put (a, "tasks", t2, FALSE, "household_id", h1, NULL);
          put (a, "tasks", t3, TRUE, "household_id", h2, "kind", "correction", "due_date", "2026-03-01", NULL);
        }
      else if (round == 2)
        {
          a->clock_ms += 60000;
          put (a, "households", h1, FALSE, "head_name", "anna maria", NULL);
          put (a, "households", h3, FALSE, "head_name", "Zoë", NULL);
          put (a, "members", m1, FALSE, "household_id", h3, NULL);
          put (a, "members", m2, FALSE, "household_id", h2, NULL);
          put (a, "tasks", t2, FALSE, "status", "cancelled", NULL);
          put (a, "tasks", t3, FALSE, "status", "done", NULL);
        }
      relay_new (a, b);
      /* Tombstones after the other edits: a household's, a member's. */
      if (round == 1)
        {
          pull_tombstone (a, b, "households", h3, h3, TRUE);
          pull_tombstone (a, b, "members", m2, h1, TRUE);
        }
      else if (round == 2)
        {
          pull_tombstone (a, b, "households", h3, h3, FALSE);
          pull_tombstone (a, b, "members", m2, h2, FALSE);
        }
      writer = derived_of (a);
      puller = derived_of (b);
      scratch = derived_from_scratch (b);
      g_test_message ("%s:\n%s", rounds[round], puller);
      g_assert_cmpstr (puller, ==, writer);
      /* The keys compared by household, not number. */
      g_assert_cmpstr (puller, ==, scratch);
      g_assert_cmpint (count (b, "SELECT count (*) FROM household_search"), >, 0);
      if (round == 1)
        {
          /* The long name's keys stop at the 100th character. */
          g_assert_cmpint (count (b, "SELECT count (*) FROM household_search WHERE key = 'ab'"), ==, 1);
          g_assert_cmpint (count (b, "SELECT count (*) FROM household_search WHERE key IN ('z', 'zq')"), ==, 0);
          g_assert_cmpint (count (b, "SELECT count (*) FROM household_search WHERE key = '123X'"), ==, 1);
        }
    }
  g_assert_cmpint (count (b, "SELECT count (*) FROM routine_visit_queue"), >, 0);
}

/* A write through the case model that the model may refuse (a value it
 * does not take): nothing written then. */
G_GNUC_NULL_TERMINATED static void
put_maybe (Replica *r, const char *table, const char *id, gboolean create, ...)
{
  g_autoptr(GHashTable) fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GError) error = NULL;
  const char *name;
  guint changed = 0;
  va_list ap;

  va_start (ap, create);
  while ((name = va_arg (ap, const char *)) != NULL)
    g_hash_table_insert (fields, g_strdup (name), g_strdup (va_arg (ap, const char *)));
  va_end (ap);
  if (!hearth_case_write (r->cases, table, id, create, fields, create ? "create" : "update", &changed, &error))
    g_test_message ("refused: %s %s: %s", table, id, error != NULL ? error->message : "?");
}

/* Pushes what @a has not pushed and applies it to @b as one page, or as
 * two cut at a random change (a record created on one, changed on the
 * next). */
static void
relay_cut (Replica *a, Replica *b, GRand *rand)
{
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GPtrArray) first = g_ptr_array_new ();
  g_autoptr(GPtrArray) second = g_ptr_array_new ();
  guint cut;

  if (push (a, 0, log, 500) == 0)
    return;
  cut = g_rand_int_range (rand, 0, (gint32) log->len + 1);
  for (guint i = 0; i < log->len; i++)
    g_ptr_array_add (i < cut ? first : second, ((Relayed *) log->pdata[i])->json);
  if (first->len > 0)
    g_assert_cmpuint (apply_texts (b, first, first->len), ==, 0);
  if (second->len > 0)
    g_assert_cmpuint (apply_texts (b, second, log->len), ==, 0);
}

/* The records random_writes() made: ids, and each member's household as
 * written. */
typedef struct {
  GPtrArray *hs, *ms, *mh, *ts;
} RandomRecords;

static void
random_records_init (RandomRecords *r)
{
  r->hs = g_ptr_array_new_with_free_func (g_free);
  r->ms = g_ptr_array_new_with_free_func (g_free);
  r->mh = g_ptr_array_new ();
  r->ts = g_ptr_array_new_with_free_func (g_free);
}

static void
random_records_clear (RandomRecords *r)
{
  g_ptr_array_unref (r->hs);
  g_ptr_array_unref (r->ms);
  g_ptr_array_unref (r->mh);
  g_ptr_array_unref (r->ts);
}

/* One to seven writes of @w at random (new records only with @create):
 * names of every sort (combining characters, empty, control characters,
 * long, emoji, mixed case), members moving, households moving village,
 * tasks closed, reopened and moved. */
static void
random_writes (Replica *w, GRand *rand, RandomRecords *rec, gboolean create)
{
  static const char *const rnames[] = {
    "Anna", "ANNA", "", "a", "Zo\xc3\xab", "Zoe\xcc\x88", "\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e", "\xc3\x84" "b",
    "O'Neil", "  sp  ", "\xc3\x9f", "\xc4\xb0i", "\xef\xbb\xbf" "Bom", "x\x01y", "tab\there",
    "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7", "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGhIjKl"
    "MnOpQrStUvWxYzAbCdEfGhIjKlMnOpQrStUvWxYz", "\xcc\x88", "a\xcc\x88\xcc\x88", "Q",
  };
  static const char *const numbers[] = { "", "12", "123x", "15042219800101123x", "abcX",
                                         "\xe7\x8e\x8b\xe7\x8e\x8b\xe7\x8e\x8b\xe7\x8e\x8b", "x\xcc\x88yz", "0000" };
  static const char *const rvillages[] = { "150422100201", "150422100202", "150422100203" };
  static const char *const risks[] = { "none", "red", "orange", "yellow" };
  static const char *const task_statuses[] = { "open", "done", "cancelled" };
  static const char *const dates[] = { "", "2026-01-01", "2026-03-04" };
  GPtrArray *hs = rec->hs, *ms = rec->ms, *mh = rec->mh, *ts = rec->ts;
  guint ops = (guint) g_rand_int_range (rand, 1, 8);
#define PICK(v) (v)[g_rand_int_range (rand, 0, G_N_ELEMENTS (v))]
#define PICK_IN(arr) ((const char *) (arr)->pdata[g_rand_int_range (rand, 0, (gint32) (arr)->len)])

  w->clock_ms += 60000;
  for (guint op = 0; op < ops; op++)
    {
      int what = hs->len == 0 ? 0 : g_rand_int_range (rand, 0, 10);

      if (!create && what <= 3)
        what += 4;
      if (what == 0 || (what == 1 && hs->len < 4))
        {
          char *h = test_rand_uuid (rand);

          put_maybe (w, "households", h, TRUE, "village_code", PICK (rvillages), "head_name", PICK (rnames),
                     "head_id_number", PICK (numbers), "risk_level", PICK (risks), NULL);
          g_ptr_array_add (hs, h);
        }
      else if (what == 2 && ms->len < 8)
        {
          char *m = test_rand_uuid (rand);
          const char *h = PICK_IN (hs);

          put_maybe (w, "members", m, TRUE, "household_id", h, "name", PICK (rnames), "id_number", PICK (numbers),
                     NULL);
          g_ptr_array_add (ms, m);
          g_ptr_array_add (mh, (gpointer) h);
        }
      else if (what == 3 && ts->len < 6)
        {
          char *t = test_rand_uuid (rand);

          put_maybe (w, "tasks", t, TRUE, "household_id", PICK_IN (hs), "kind", "follow_up", "due_date",
                     "2026-01-01", "status", PICK (task_statuses), NULL);
          g_ptr_array_add (ts, t);
        }
      else if (what <= 5)
        {
          switch (g_rand_int_range (rand, 0, 5))
            {
            case 0: put_maybe (w, "households", PICK_IN (hs), FALSE, "head_name", PICK (rnames), NULL); break;
            case 1: put_maybe (w, "households", PICK_IN (hs), FALSE, "village_code", PICK (rvillages), NULL); break;
            case 2: put_maybe (w, "households", PICK_IN (hs), FALSE, "head_id_number", PICK (numbers), NULL); break;
            case 3: put_maybe (w, "households", PICK_IN (hs), FALSE, "risk_level", PICK (risks), NULL); break;
            default: put_maybe (w, "households", PICK_IN (hs), FALSE, "last_visit_date", PICK (dates), NULL); break;
            }
        }
      else if (what <= 7 && ms->len > 0)
        {
          guint i = (guint) g_rand_int_range (rand, 0, (gint32) ms->len);

          switch (g_rand_int_range (rand, 0, 3))
            {
            case 0:
              mh->pdata[i] = (gpointer) PICK_IN (hs);
              put_maybe (w, "members", ms->pdata[i], FALSE, "household_id", mh->pdata[i], NULL);
              break;
            case 1: put_maybe (w, "members", ms->pdata[i], FALSE, "name", PICK (rnames), NULL); break;
            default: put_maybe (w, "members", ms->pdata[i], FALSE, "id_number", PICK (numbers), NULL); break;
            }
        }
      else if (ts->len > 0)
        {
          if (g_rand_boolean (rand))
            put_maybe (w, "tasks", PICK_IN (ts), FALSE, "status", PICK (task_statuses), NULL);
          else
            put_maybe (w, "tasks", PICK_IN (ts), FALSE, "household_id", PICK_IN (hs), NULL);
        }
    }
#undef PICK
#undef PICK_IN
}

/* Random sequences of the general path's writes (apply-derived's, at
 * random: random_writes()), records created on one page and changed on
 * the next, tombstones and their undoing: the puller's derived rows are
 * the writer's and the invariants'. */
static void
test_apply_derived_random (void)
{
  for (guint seed = 1; seed <= 6; seed++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
      g_autofree char *na = g_strdup_printf ("sync-derived-random-a%u", seed);
      g_autofree char *nb = g_strdup_printf ("sync-derived-random-b%u", seed);
      g_autoptr(Replica) a = replica_new (na, START_MS);
      g_autoptr(Replica) b = replica_new (nb, START_MS + 60 * 1000);
      RandomRecords rec;

      random_records_init (&rec);
      for (guint round = 0; round < 8; round++)
        {
          g_autofree char *writer = NULL;
          g_autofree char *puller = NULL;
          g_autofree char *scratch = NULL;

          random_writes (a, rand, &rec, TRUE);
          relay_cut (a, b, rand);
          /* Tombstones and their undoing, pages of their own. */
          for (guint k = 0; k < 2; k++)
            if (g_rand_int_range (rand, 0, 3) == 0)
              {
                gboolean member = rec.ms->len > 0 && g_rand_boolean (rand);
                guint i = (guint) g_rand_int_range (rand, 0, (gint32) (member ? rec.ms->len : rec.hs->len));
                const char *id = member ? rec.ms->pdata[i] : rec.hs->pdata[i];

                pull_tombstone (a, b, member ? "members" : "households", id, member ? rec.mh->pdata[i] : id,
                                g_rand_boolean (rand));
              }
          writer = derived_of (a);
          puller = derived_of (b);
          scratch = derived_from_scratch (b);
          if (g_strcmp0 (puller, scratch) != 0 || g_strcmp0 (puller, writer) != 0)
            g_test_message ("seed %u round %u:\nwriter:\n%s\npuller:\n%s\nscratch:\n%s", seed, round, writer, puller,
                            scratch);
          g_assert_cmpstr (puller, ==, scratch);
          g_assert_cmpstr (puller, ==, writer);
        }
      random_records_clear (&rec);
    }
}

/* Two writers: @a creates and changes records, @a2 (which pulled them)
 * changes the same ones concurrently; @b pulls both, in one page or two
 * cut at random, so that concurrent versions of a field meet on one
 * page (the general path's merges). @b's derived rows are the ones the
 * invariants give for its records. */
static void
test_apply_derived_concurrent (void)
{
  for (guint seed = 1; seed <= 6; seed++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed (100 + seed);
      g_autofree char *na = g_strdup_printf ("sync-derived-conc-a%u", seed);
      g_autofree char *na2 = g_strdup_printf ("sync-derived-conc-a2-%u", seed);
      g_autofree char *nb = g_strdup_printf ("sync-derived-conc-b%u", seed);
      g_autoptr(Replica) a = replica_new (na, START_MS);
      g_autoptr(Replica) a2 = replica_new_device (na2, "0a2a2a2a-0000-4000-8000-000000000002", START_MS + 30 * 1000);
      g_autoptr(Replica) b = replica_new (nb, START_MS + 60 * 1000);
      g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
      g_autoptr(GPtrArray) pending = g_ptr_array_new ();   /* a2's writes a has yet to get */
      gint64 conflicts = 0;
      RandomRecords rec;
      guint relayed = 0;

      random_records_init (&rec);
      for (guint round = 0; round < 8; round++)
        {
          g_autofree char *puller = NULL;
          g_autofree char *scratch = NULL;
          g_autoptr(GPtrArray) from_a = g_ptr_array_new ();
          g_autoptr(GPtrArray) first = g_ptr_array_new ();
          g_autoptr(GPtrArray) second = g_ptr_array_new ();
          guint start = log->len, cut;

          random_writes (a, rand, &rec, TRUE);
          /* a's writes are concurrent with a2's last ones, which it
           * gets now. */
          if (pending->len > 0)
            g_assert_cmpuint (apply_texts (a, pending, log->len), ==, 0);
          g_ptr_array_set_size (pending, 0);
          push (a, 1, log, 500);
          for (guint i = start; i < log->len; i++)
            g_ptr_array_add (from_a, ((Relayed *) log->pdata[i])->json);
          /* a2 has a's records before it writes, b not yet. */
          if (from_a->len > 0)
            g_assert_cmpuint (apply_texts (a2, from_a, log->len), ==, 0);
          a2->clock_ms = a->clock_ms - 1000;
          random_writes (a2, rand, &rec, FALSE);
          push (a2, 2, log, 500);
          cut = relayed + (guint) g_rand_int_range (rand, 0, (gint32) (log->len - relayed) + 1);
          for (guint i = relayed; i < log->len; i++)
            g_ptr_array_add (i < cut ? first : second, ((Relayed *) log->pdata[i])->json);
          if (first->len > 0)
            g_assert_cmpuint (apply_texts (b, first, cut), ==, 0);
          if (second->len > 0)
            g_assert_cmpuint (apply_texts (b, second, log->len), ==, 0);
          relayed = log->len;
          for (guint i = start; i < log->len; i++)
            if (((Relayed *) log->pdata[i])->origin == 2)
              g_ptr_array_add (pending, ((Relayed *) log->pdata[i])->json);
          puller = derived_of (b);
          scratch = derived_from_scratch (b);
          if (g_strcmp0 (puller, scratch) != 0)
            g_test_message ("seed %u round %u:\npuller:\n%s\nscratch:\n%s", seed, round, puller, scratch);
          g_assert_cmpstr (puller, ==, scratch);
          conflicts += count (b, "SELECT count (*) FROM conflicts");
          g_free (puller);
          puller = derived_of (a2);
          g_free (scratch);
          scratch = derived_from_scratch (a2);
          g_assert_cmpstr (puller, ==, scratch);
        }
      random_records_clear (&rec);
      /* Concurrent versions met (the test's point). */
      g_assert_cmpint (conflicts, >, 0);
    }
}

/* The text of a pulled edit of @field of @id (another device's). */
static char *
other_edit (Replica *a, const char *table, const char *id, const char *household, const char *field,
            const char *value)
{
  static guint counter;
  g_autoptr(HearthChange) c = hearth_change_new (HEARTH_CHANGE_EDIT);

  a->clock_ms += 1000;
  c->table = g_strdup (table);
  c->id = g_strdup (id);
  c->household = g_strdup (household);
  c->village = g_strdup ("150422100201");
  c->field = g_strdup (field);
  c->value = g_strdup (value);
  c->hlc = g_strdup_printf ("%015" G_GINT64_FORMAT "-%08u-OTHER", a->clock_ms, counter++);
  return change_to_text (c);
}

/* A page of the general path where some edits are set aside (a value
 * the table refuses, a member moved to a household the tablet lacks)
 * beside others of the same records that are applied: the derived rows
 * are those of the records as they are after the page. */
static void
test_apply_derived_errors (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (2112);
  g_autoptr(Replica) a = replica_new ("sync-derived-errors-a", START_MS);
  g_autoptr(Replica) b = replica_new ("sync-derived-errors-b", START_MS + 60 * 1000);
  g_autofree char *h1 = test_rand_uuid (rand), *h2 = test_rand_uuid (rand), *m1 = test_rand_uuid (rand);
  g_autofree char *m2 = test_rand_uuid (rand), *t1 = test_rand_uuid (rand), *nowhere = test_rand_uuid (rand);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *puller = NULL, *scratch = NULL;
  guint rejected;

  put (a, "households", h1, TRUE, "village_code", "150422100201", "head_name", "Anna", NULL);
  put (a, "households", h2, TRUE, "village_code", "150422100202", "head_name", "Bo", NULL);
  put (a, "members", m1, TRUE, "household_id", h1, "name", "Carl", "id_number", "1234", NULL);
  put (a, "members", m2, TRUE, "household_id", h2, "name", "Dora", NULL);
  put (a, "tasks", t1, TRUE, "household_id", h1, "kind", "follow_up", "due_date", "2026-01-01", NULL);
  relay_new (a, b);
  g_ptr_array_add (texts, other_edit (a, "households", h1, h1, "head_name", "Zed"));
  g_ptr_array_add (texts, other_edit (a, "households", h1, h1, "risk_level", "purple"));
  g_ptr_array_add (texts, other_edit (a, "members", m1, h1, "household_id", nowhere));
  g_ptr_array_add (texts, other_edit (a, "members", m1, h1, "name", "Eve"));
  g_ptr_array_add (texts, other_edit (a, "members", m2, h2, "household_id", h1));
  g_ptr_array_add (texts, other_edit (a, "tasks", t1, h1, "status", "nonsense"));
  g_ptr_array_add (texts, other_edit (a, "tasks", t1, h1, "household_id", h2));
  g_ptr_array_add (texts, other_edit (a, "households", h2, h2, "village_code", "150422100203"));
  rejected = apply_texts (b, texts, 5000);
  g_test_message ("%u set aside", rejected);
  g_assert_cmpuint (rejected, >, 0);
  puller = derived_of (b);
  scratch = derived_from_scratch (b);
  g_test_message ("%s", puller);
  g_assert_cmpstr (puller, ==, scratch);
  g_assert_cmpint (count (b, "SELECT count (*) FROM households WHERE head_name = 'Zed'"), ==, 1);
}

/* The protocol's field lists (sync/change.c), which the center checks
 * pushes against, are the tablet schema's columns of each mutable table,
 * read from a store migrated to the last migration: a column added by a
 * migration and not to the list (or the other way) fails here. */
static void
test_table_fields (void)
{
  g_autoptr(Replica) a = replica_new ("sync-table-fields", START_MS);
  static const char *const tables[] = { "households", "members", "tasks", "measures" };

  for (guint t = 0; t < G_N_ELEMENTS (tables); t++)
    {
      const char *const *fields = hearth_change_table_fields (tables[t]);
      g_autoptr(GPtrArray) columns = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *sql = g_strdup_printf ("SELECT name FROM pragma_table_info ('%s') "
                                              "WHERE name NOT IN ('id', 'created_at', 'updated_at') ORDER BY name",
                                              tables[t]);
      sqlite3_stmt *st = NULL;

      g_assert_cmpint (sqlite3_prepare_v2 (a->db, sql, -1, &st, NULL), ==, SQLITE_OK);
      while (sqlite3_step (st) == SQLITE_ROW)
        g_ptr_array_add (columns, g_strdup ((const char *) sqlite3_column_text (st, 0)));
      sqlite3_finalize (st);
      g_assert_nonnull (fields);
      g_assert_cmpuint (columns->len, >, 0);
      for (guint i = 0; i < columns->len; i++)
        {
          g_test_message ("%s.%s", tables[t], (const char *) columns->pdata[i]);
          /* ORDER BY name is byte order, as the list: equal, element by element. */
          g_assert_cmpstr (fields[i], ==, columns->pdata[i]);
          g_assert_true (hearth_change_is_field (tables[t], columns->pdata[i]));
        }
      g_assert_null (fields[columns->len]);
      for (guint i = 0; fields[i] != NULL && fields[i + 1] != NULL; i++)
        g_assert_cmpint (strcmp (fields[i], fields[i + 1]), <, 0);   /* bsearch needs byte order */
      /* What the table does not have: its id, its times, another table's. */
      g_assert_false (hearth_change_is_field (tables[t], "id"));
      g_assert_false (hearth_change_is_field (tables[t], "updated_at"));
      g_assert_false (hearth_change_is_field (tables[t], "no_such_field"));
      g_assert_false (hearth_change_is_field (tables[t], NULL));
    }
  g_assert_false (hearth_change_is_field ("households", "household_id"));
  g_assert_false (hearth_change_is_field ("members", "head_name"));
  g_assert_null (hearth_change_table_fields ("submissions"));
  g_assert_null (hearth_change_table_fields (NULL));
  g_assert_false (hearth_change_is_field ("submissions", "household_id"));
}

/* Sets submission @id's stored instance_xml to @value (@len bytes) as a
 * BLOB, or as TEXT when @len is -1: an older Hearth's row, or damage. */
static void
store_instance (Replica *r, const char *id, const void *value, gssize len)
{
  sqlite3_stmt *st = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (r->db, "UPDATE submissions SET instance_xml = ?1 WHERE id = ?2", -1, &st,
                                       NULL), ==, SQLITE_OK);
  if (len < 0)
    sqlite3_bind_text (st, 1, value, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_blob (st, 1, value, (int) len, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
  g_assert_cmpint (sqlite3_changes (r->db), ==, 1);
  sqlite3_finalize (st);
}

/* A submission's instance_xml is kept packed (store-packed.h) where it is
 * recorded and where it is pulled, read back as the text it was, pushed
 * as that text; a row of an older Hearth (TEXT) reads and compares the
 * same; a damaged one is refused naming the submission by every reader:
 * the review, a save of it again, a pull of it again, a push. */
static void
test_packed_instance (void)
{
  g_autoptr(Replica) a = replica_new ("sync-packed-a", START_MS);
  g_autoptr(Replica) b = replica_new ("sync-packed-b", START_MS);
  g_autoptr(Replica) c = replica_new ("sync-packed-c", START_MS);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new ();
  g_autoptr(GPtrArray) batch = NULL;
  g_autoptr(HearthSubmission) sa = NULL, sb = NULL;
  g_autoptr(HearthForm) visit = test_load_bundled_form ("household-visit.xml");
  g_autofree char *household = NULL, *household_c = NULL, *sent = NULL, *id = NULL;
  g_autofree char *visit_xml = test_fill_bundled ("household-visit.xml", "visit-zh.json", NOW, VISIT_ID);
  g_autofree char *damaged_path = test_source_path ("tests", "fuzz", "packed-seeds", "longer-than-it-says.packed",
                                                    NULL);
  g_autofree char *damaged = NULL;
  gsize damaged_len = 0;
  g_autoptr(GError) error = NULL;

  record_registration_and_visit (a, &household);
  /* Recorded here: packed, much smaller than its text. */
  g_assert_cmpint (count (a, "SELECT count (*) FROM submissions WHERE id = '" VISIT_ID "' "
                             "AND typeof (instance_xml) = 'blob'"), ==, 1);
  g_assert_cmpint (count (a, "SELECT length (instance_xml) FROM submissions WHERE id = '" VISIT_ID "'") * 2, <,
                   (gint64) strlen (visit_xml));
  sa = hearth_case_submission_read (a->db, VISIT_ID, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sa->xml, ==, visit_xml);
  /* Saved again as it was: the same submission, nothing changes. */
  id = hearth_case_record_submission (a->cases, visit, visit_xml, household, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id, ==, VISIT_ID);

  /* Pushed as its text, pulled and kept packed. */
  push (a, 0, log, 500);
  for (guint i = 0; i < log->len; i++)
    {
      g_autoptr(HearthChange) ch = change_from_text (((Relayed *) log->pdata[i])->json, 0);

      if (g_strcmp0 (ch->id, VISIT_ID) == 0)
        sent = g_strdup (g_hash_table_lookup (ch->fields, "instance_xml"));
      g_ptr_array_add (texts, ((Relayed *) log->pdata[i])->json);
    }
  g_assert_cmpstr (sent, ==, visit_xml);
  g_assert_cmpuint (apply_texts (b, texts, log->len), ==, 0);
  g_assert_cmpint (count (b, "SELECT count (*) FROM submissions WHERE typeof (instance_xml) = 'blob'"), ==, 2);
  sb = hearth_case_submission_read (b->db, VISIT_ID, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sb->xml, ==, visit_xml);
  /* The same page again: the same content, nothing refused. */
  g_assert_cmpuint (apply_texts (b, texts, log->len), ==, 0);

  /* A row as an older Hearth wrote it (TEXT): read and compared as it is. */
  store_instance (b, VISIT_ID, visit_xml, -1);
  g_clear_pointer (&sb, hearth_submission_free);
  sb = hearth_case_submission_read (b->db, VISIT_ID, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sb->xml, ==, visit_xml);
  g_assert_cmpuint (apply_texts (b, texts, log->len), ==, 0);
  g_assert_cmpint (count (b, "SELECT count (*) FROM sync_apply_errors"), ==, 0);

  /* Damaged (data longer than the length it states): refused by
   * name, never taken for the text. */
  g_assert_true (g_file_get_contents (damaged_path, &damaged, &damaged_len, NULL));
  store_instance (b, VISIT_ID, damaged, (gssize) damaged_len);
  g_clear_pointer (&sb, hearth_submission_free);
  sb = hearth_case_submission_read (b->db, VISIT_ID, &error);
  g_assert_null (sb);
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "submissions " VISIT_ID ", instance_xml"));
  g_assert_nonnull (strstr (error->message, "longer than it says"));
  g_clear_error (&error);
  g_assert_cmpuint (apply_texts (b, texts, log->len), ==, 1);
  g_assert_cmpint (count (b, "SELECT count (*) FROM sync_apply_errors WHERE record_id = '" VISIT_ID "' "
                             "AND message LIKE '%" VISIT_ID ", instance_xml%damaged%'"), ==, 1);
  g_clear_pointer (&id, g_free);
  id = hearth_case_record_submission (b->cases, visit, visit_xml, household, &error);
  g_assert_null (id);
  g_assert_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, VISIT_ID));
  g_clear_error (&error);

  /* A push of a damaged submission stops at it, naming it: nothing of
   * it is sent. */
  record_registration_and_visit (c, &household_c);
  store_instance (c, VISIT_ID, damaged, (gssize) damaged_len);
  batch = hearth_sync_store_next_batch (c->sync, 500, &error);
  g_assert_null (batch);
  g_assert_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "submissions " VISIT_ID ", instance_xml"));
}

static gpointer
prepare_thread (gpointer data)
{
  return hearth_sync_page_prepare (data);
}

static gpointer
prep_free_thread (gpointer data)
{
  hearth_sync_page_prep_free (data);
  return NULL;
}

/* Every row a pulled page writes, packed values as hex: two stores that
 * applied the same page alike dump the same. */
static char *
dump_applied (Replica *r)
{
  static const char *const queries[] = {
    "SELECT id, typeof (instance_xml), hex (instance_xml) FROM submissions ORDER BY id",
    "SELECT record_table, record_id, hlc, wall, fields, origin FROM record_writes ORDER BY record_table, record_id, hlc",
    "SELECT record_table, record_id, versions FROM record_versions ORDER BY record_table, record_id",
    "SELECT * FROM households ORDER BY id",
    "SELECT * FROM members ORDER BY id",
    "SELECT * FROM tasks ORDER BY id",
    "SELECT * FROM conflicts ORDER BY id",
    "SELECT * FROM household_search ORDER BY 1, 2, 3",
    "SELECT * FROM routine_visit_queue ORDER BY 1",
    "SELECT key, value FROM sync_state WHERE key IN ('cursor', 'pull_more', 'compact_until') ORDER BY key",
    "SELECT record_table, record_id, field, message FROM sync_apply_errors ORDER BY 1, 2, 3",
  };
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (queries); i++)
    {
      g_autofree char *rows = dump (r->db, queries[i]);

      g_string_append_printf (out, "-- %s\n%s", queries[i], rows);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* A page prepared on another thread (hearth_sync_page_prepare(): the
 * submissions' packed forms) and applied with its preparation, which
 * then keeps the apply's working memory and is freed on a third thread:
 * the same rows, byte for byte (packed values too), as the page applied
 * without one; a form too short to pack stays text either way; a
 * preparation of a page refused whole is freed all the same. */
static void
test_prepared_page (void)
{
  g_autoptr(Replica) a = replica_new ("sync-prepared-a", START_MS);
  g_autoptr(Replica) b = replica_new ("sync-prepared-b", START_MS);
  g_autoptr(Replica) c = replica_new ("sync-prepared-c", START_MS);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (relayed_free);
  g_autoptr(GPtrArray) page_b = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autoptr(GPtrArray) page_c = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_autofree char *household = NULL, *rows_b = NULL, *rows_c = NULL;
  HearthSyncPagePrep *prep;
  HearthChange *shorter = NULL;
  g_autoptr(GError) error = NULL;
  guint rejected_b = 0, rejected_c = 0, packed = 0;

  record_registration_and_visit (a, &household);
  put (a, "households", household, FALSE, "phone", "13800000000", NULL);
  push (a, 0, log, 500);
  for (guint i = 0; i < log->len; i++)
    {
      HearthChange *ch = change_from_text (((Relayed *) log->pdata[i])->json, i + 1);

      g_ptr_array_add (page_b, change_from_text (((Relayed *) log->pdata[i])->json, i + 1));
      g_ptr_array_add (page_c, ch);
      if (g_strcmp0 (ch->table, "submissions") == 0 && shorter == NULL)
        shorter = ch;
    }
  g_assert_nonnull (shorter);
  /* A submission whose form is too short to pack (under 256 bytes). */
  {
    HearthChange *copy_b = hearth_change_copy (shorter), *copy_c;

    g_free (copy_b->id);
    copy_b->id = g_strdup ("7d0f3a5e-2c1b-4e8a-9f60-3b2a1c0d9e8f");
    g_hash_table_insert (copy_b->fields, g_strdup ("instance_xml"), g_strdup ("<data/>"));
    copy_b->cursor = log->len + 1;
    copy_c = hearth_change_copy (copy_b);
    g_ptr_array_add (page_b, copy_b);
    g_ptr_array_add (page_c, copy_c);
  }

  g_assert_true (hearth_sync_store_apply_page (b->sync, page_b, page_b->len, FALSE, 0, &rejected_b, &error));
  g_assert_no_error (error);
  prep = g_thread_join (g_thread_new ("test-prepare", prepare_thread, page_c));
  g_assert_nonnull (prep);
  g_assert_true (hearth_sync_store_apply_prepared (c->sync, page_c, prep, page_c->len, FALSE, 0, &rejected_c,
                                                   &error));
  g_assert_no_error (error);
  g_thread_join (g_thread_new ("test-prep-free", prep_free_thread, prep));

  g_assert_cmpuint (rejected_c, ==, rejected_b);
  rows_b = dump_applied (b);
  rows_c = dump_applied (c);
  g_assert_cmpstr (rows_c, ==, rows_b);
  packed = (guint) count (c, "SELECT count (*) FROM submissions WHERE typeof (instance_xml) = 'blob'");
  g_assert_cmpuint (packed, >=, 2);
  g_assert_cmpint (count (c, "SELECT count (*) FROM submissions WHERE instance_xml = '<data/>'"), ==, 1);
  g_assert_cmpint (count (c, "SELECT count (*) FROM households"), ==, 1);

  /* Refused whole (a negative bound): nothing written, the preparation
   * freed as any other. */
  prep = hearth_sync_page_prepare (page_c);
  g_assert_false (hearth_sync_store_apply_prepared (c->sync, page_c, prep, page_c->len + 5, FALSE, -1, NULL, &error));
  g_assert_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID);
  g_clear_error (&error);
  hearth_sync_page_prep_free (prep);
  g_clear_pointer (&rows_c, g_free);
  rows_c = dump_applied (c);
  g_assert_cmpstr (rows_c, ==, rows_b);
  /* An empty page's preparation, and none at all. */
  hearth_sync_page_prep_free (hearth_sync_page_prepare (NULL));
  hearth_sync_page_prep_free (NULL);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/sync/store/capture", test_capture);
  g_test_add_func ("/sync/store/table-fields", test_table_fields);
  g_test_add_func ("/sync/store/next-batch", test_next_batch);
  g_test_add_func ("/sync/store/refused-and-clamped", test_refused_and_clamped);
  g_test_add_func ("/sync/store/clamp-write", test_clamp_write);
  g_test_add_func ("/sync/store/refused-write", test_refused_write);
  g_test_add_func ("/sync/store/refused-list", test_refused_list);
  g_test_add_func ("/sync/store/enrol-expands", test_enrol_expands);
  g_test_add_func ("/sync/store/reply-features", test_reply_features);
  g_test_add_func ("/sync/store/backfill", test_backfill);
  g_test_add_data_func ("/sync/store/edit-keys-migration", GUINT_TO_POINTER (10), test_edit_tables_migration);
  g_test_add_data_func ("/sync/store/record-versions-migration", GUINT_TO_POINTER (12), test_edit_tables_migration);
  g_test_add_data_func ("/sync/store/record-writes-migration", GUINT_TO_POINTER (13), test_edit_tables_migration);
  g_test_add_func ("/sync/store/record-versions-functions", test_record_versions_functions);
  g_test_add_func ("/sync/store/versions-set-field", test_versions_set_field);
  g_test_add_func ("/sync/store/key-functions-memo", test_key_functions_memo);
  g_test_add_func ("/sync/store/exchange", test_exchange);
  g_test_add_func ("/sync/store/agreeing-edits", test_agreeing_edits);
  g_test_add_func ("/sync/store/rejected", test_rejected);
  g_test_add_func ("/sync/store/audit-again", test_audit_again);
  g_test_add_func ("/sync/store/packed-instance", test_packed_instance);
  g_test_add_func ("/sync/store/prepared-page", test_prepared_page);
  g_test_add_func ("/sync/store/future-version", test_future_version);
  g_test_add_func ("/sync/store/many-heads", test_many_heads);
  g_test_add_func ("/sync/store/apply-atomic", test_apply_atomic);
  g_test_add_func ("/sync/store/lease", test_lease);
  g_test_add_func ("/sync/store/enrolment", test_enrolment);
  g_test_add_func ("/sync/store/property", test_property);
  g_test_add_func ("/sync/store/fresh-path", test_fresh_path);
  g_test_add_func ("/sync/store/fresh-rowid-limit", test_fresh_rowid_limit);
  g_test_add_func ("/sync/store/fresh-exists", test_fresh_exists);
  g_test_add_func ("/sync/store/grouped-apply", test_grouped_apply);
  g_test_add_func ("/sync/store/held-probe", test_held_probe);
  g_test_add_func ("/sync/store/held-fields-read", test_held_fields_read);
  g_test_add_func ("/sync/store/held-fields-json5", test_held_fields_json5);
  g_test_add_func ("/sync/store/held-key-nul", test_held_key_nul);
  g_test_add_func ("/sync/store/held-same-version", test_held_same_version);
  g_test_add_func ("/sync/store/pages-batch", test_pages_batch);
  g_test_add_func ("/sync/store/later-fields", test_later_fields);
  g_test_add_func ("/sync/store/later-fields-refused-after", test_later_fields_refused_after);
  g_test_add_func ("/sync/store/held-write-not-object", test_held_write_not_object);
  g_test_add_func ("/sync/store/damaged-versions", test_damaged_versions);
  g_test_add_func ("/sync/store/apply-triggers", test_apply_triggers);
  g_test_add_func ("/sync/store/apply-prepared", test_apply_prepared);
  g_test_add_func ("/sync/store/arena-edges", test_arena_edges);
  g_test_add_func ("/sync/store/apply-prepared-repeats", test_apply_prepared_repeats);
  g_test_add_func ("/sync/store/apply-immutable-columns", test_apply_immutable_columns);
  g_test_add_func ("/sync/store/apply-derived", test_apply_derived);
  g_test_add_func ("/sync/store/apply-derived-random", test_apply_derived_random);
  g_test_add_func ("/sync/store/apply-derived-concurrent", test_apply_derived_concurrent);
  g_test_add_func ("/sync/store/apply-derived-errors", test_apply_derived_errors);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sync-restore.c: a device meets a center restored from a backup
 * (sync/PROTOCOL.md section 12; sync-restore.h). */

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "case-audit.h"
#include "case-store.h"
#include "sign.h"
#include "sync-reply.h"
#include "sync-restore.h"
#include "sync-run-private.h"
#include "sync-store-private.h"

static gboolean
run_bound3 (sqlite3 *db, const char *sql, gint64 number, const char *text, const char *text3, gint64 *changed,
            GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (db, error);
  if (sqlite3_bind_parameter_count (st) >= 1)
    sqlite3_bind_int64 (st, 1, number);
  if (sqlite3_bind_parameter_count (st) >= 2)
    sqlite3_bind_text (st, 2, text, -1, SQLITE_STATIC);
  if (sqlite3_bind_parameter_count (st) >= 3)
    sqlite3_bind_text (st, 3, text3, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return hearth_sync_sql_failed (db, error);
  if (changed != NULL)
    *changed = sqlite3_changes (db);
  return TRUE;
}

static gboolean
run_bound (sqlite3 *db, const char *sql, gint64 number, const char *text, gint64 *changed, GError **error)
{
  return run_bound3 (db, sql, number, text, NULL, changed, error);
}

/* The reviews this device made, as a JSON array of ids: those its audit
 * chain names (an entry of the review itself, as entries were before one
 * per user action, or a `reviews/ID:…` record of a visit's or a move's
 * entry; case-audit.h). Pulled reviews are in no entry of this chain. */
static char *
own_review_ids (sqlite3 *db, GError **error)
{
  g_autoptr(GString) json = g_string_new ("[");
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, "SELECT record_table, record_id, fields FROM audit_log "
                              "WHERE record_table = 'reviews' OR instr (fields, 'reviews/') > 0 ORDER BY seq",
                          -1, &st, NULL) != SQLITE_OK)
    {
      hearth_sync_sql_failed (db, error);
      return NULL;
    }
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      g_autoptr(GPtrArray) records = hearth_audit_entry_records ((const char *) sqlite3_column_text (st, 0),
                                                                 (const char *) sqlite3_column_text (st, 1),
                                                                 (const char *) sqlite3_column_text (st, 2));
      for (guint i = 0; i < records->len; i++)
        {
          HearthAuditRecord *r = records->pdata[i];
          /* Ids are UUIDs: nothing in them needs quoting. */
          if (g_str_equal (r->table, "reviews") && g_uuid_string_is_valid (r->id))
            g_string_append_printf (json, "%s\"%s\"", json->len > 1 ? "," : "", r->id);
        }
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    {
      hearth_sync_sql_failed (db, error);
      return NULL;
    }
  g_string_append_c (json, ']');
  return g_string_free (g_steal_pointer (&json), FALSE);
}

static gboolean
read_state (sqlite3 *db, const char *key, char **text, gint64 *number, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, "SELECT value FROM sync_state WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
    return hearth_sync_sql_failed (db, error);
  sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      if (text != NULL)
        *text = g_strdup ((const char *) sqlite3_column_text (st, 0));
      if (number != NULL)
        *number = sqlite3_column_int64 (st, 0);
    }
  sqlite3_finalize (st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || hearth_sync_sql_failed (db, error);
}

/* The outbox from @acked + 1 on, made anew from what @device made: the
 * center holds this device's changes up to @acked only. Its own edits go
 * first in version order (a parent of its own is older than the edit
 * naming it, a household's creation older than its members'), then its
 * submissions, the reviews its audit chain records, and its audit entries
 * in chain order, so that the center's chain check follows (its edits
 * one change a write when the store groups them, migration 0012, else
 * one a field). Numbers never
 * collide with those the center holds: they start above @acked. A change
 * refused under a number up to @acked is not sent again: the center still
 * holds that answer, and the device still shows it. */
static gboolean
renumber_outbox (sqlite3 *db, gint64 acked, const char *device, gint64 *resent, GError **error)
{
  static const char *const drop[] = {
    "DELETE FROM sync_outbox WHERE seq > ?1",
    /* Refusals of numbers given again: the center answers them anew. */
    "DELETE FROM sync_refused WHERE seq > ?1",
  };
  g_autofree char *reviews = own_review_ids (db, error);
  gint64 n = 0;

  if (reviews == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (drop); i++)
    if (!run_bound (db, drop[i], acked, NULL, NULL, error))
      return FALSE;
  if (!run_bound3 (db,
                   "INSERT INTO sync_outbox (seq, kind, record_table, record_id, field, hlc) "
                   "SELECT ?1 + row_number () OVER (ORDER BY grp, k1, k2), kind, tbl, rid, fld, ver FROM ("
                   "  SELECT 0 AS grp, hlc AS k1, record_table || ' ' || record_id || ' ' || field AS k2, "
                   "    'edit' AS kind, record_table AS tbl, record_id AS rid, field AS fld, hlc AS ver "
                   "    FROM field_edits WHERE origin = ?2 "
                   "    AND NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'outbox_edits') "
                   /* A store that groups its writes (migration 0012) sends one
                    * change a write. */
                   "  UNION ALL SELECT 0, hlc, record_table || ' ' || record_id, 'edits', record_table, "
                   "    record_id, NULL, hlc FROM record_writes WHERE origin = ?2 "
                   "    AND EXISTS (SELECT 1 FROM sync_state WHERE key = 'outbox_edits') "
                   "  UNION ALL SELECT 1, recorded_at, id, 'record', 'submissions', id, NULL, NULL "
                   "    FROM submissions WHERE device_id = ?2 "
                   "  UNION ALL SELECT 2, at, id, 'record', 'reviews', id, NULL, NULL FROM reviews "
                   "    WHERE id IN (SELECT value FROM json_each (?3)) "
                   "  UNION ALL SELECT 3, seq, id, 'record', 'audit', id, NULL, NULL FROM audit_log) AS u "
                   "WHERE NOT EXISTS (SELECT 1 FROM sync_outbox o WHERE o.seq <= ?1 AND o.state = 'refused' "
                   "  AND o.kind = u.kind AND o.record_table = u.tbl AND o.record_id = u.rid "
                   "  AND o.field IS u.fld AND o.hlc IS u.ver)",
                   acked, device, reviews, &n, error))
    return FALSE;
  /* The numbering goes on above @acked even with nothing to send (the
   * next rowid is the largest plus one). */
  if (n == 0 && acked > 0 &&
      !run_bound (db, "INSERT OR IGNORE INTO sync_outbox (seq, kind, record_table, record_id, state) "
                      "VALUES (?1, 'record', 'audit', '', 'acked')", acked, NULL, NULL, error))
    return FALSE;
  *resent = n;
  return TRUE;
}

static gboolean
is_epoch (const char *epoch)
{
  return epoch != NULL && strlen (epoch) == 32 && strspn (epoch, "0123456789abcdef") == 32;
}

gboolean
hearth_sync_store_meet_epoch (HearthSyncStore *store, const char *epoch, gint64 acked, gint64 restore_cursor,
                              gint64 *resent, GError **error)
{
  HearthCaseStore *cases;
  sqlite3 *db;
  HearthSyncTx tx;
  g_autofree char *known = NULL;
  gint64 local_acked = 0, cursor = 0, n = 0;
  gboolean moved, lost;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (store), FALSE);
  if (resent != NULL)
    *resent = 0;
  if (!is_epoch (epoch) || acked < 0 || restore_cursor < 0)
    {
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
                   _("the center's epoch is not what the protocol says (32 hex digits, numbers from 0)"));
      return FALSE;
    }
  cases = hearth_sync_store_get_cases (store);
  db = hearth_case_store_get_db (cases);
  if (!hearth_sync_tx_begin (&tx, db, "sync_meet_epoch", error))
    return FALSE;
  if (!read_state (db, "center_epoch", &known, NULL, error) ||
      !read_state (db, "acked_seq", NULL, &local_acked, error) || !read_state (db, "cursor", NULL, &cursor, error))
    goto failed;
  moved = known != NULL && !g_str_equal (known, epoch);
  lost = acked < local_acked;
  if (moved || lost)
    {
      /* What other devices send again is numbered after the restore point:
       * the pull starts there (a compacted pull in progress stops). */
      if (cursor > restore_cursor && !hearth_sync_state_set (db, "cursor", NULL, restore_cursor, error))
        goto failed;
      if (!hearth_sync_state_set (db, "compact_until", NULL, 0, error) ||
          !hearth_sync_state_set (db, "pull_more", NULL, 1, error))
        goto failed;
    }
  if (lost)
    {
      if (!renumber_outbox (db, acked, hearth_case_store_get_device_id (cases), &n, error) ||
          !hearth_sync_state_set (db, "acked_seq", NULL, acked, error))
        goto failed;
      g_debug ("sync: the center holds this device's changes up to %lld of %lld (restored from a backup); "
               "%lld changes are sent again", (long long) acked, (long long) local_acked, (long long) n);
    }
  if (!hearth_sync_state_set (db, "center_epoch", epoch, 0, error) || !hearth_sync_tx_commit (&tx, error))
    return FALSE;
  if (resent != NULL)
    *resent = n;
  return TRUE;

failed:
  hearth_sync_tx_rollback (&tx);
  return FALSE;
}

gboolean
hearth_sync_exchange_epoch (HearthSyncStore *store, HearthSyncClient *client, gint64 *resent, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonNode) reply = NULL;
  JsonObject *o;
  JsonNode *epoch, *acked, *restore;
  guint status = 0;

  if (resent != NULL)
    *resent = 0;
  /* This reply is the one that tells the new epoch: it is read whatever
   * epoch the store knew. */
  hearth_sync_client_set_epoch (client, NULL);
  reply = hearth_sync_client_call (client, "GET", "/v1/epoch", NULL, TRUE, &status, &local);
  if (reply == NULL)
    {
      /* A center of an earlier version: no epoch to meet. */
      if (status == 404 && g_error_matches (local, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  o = JSON_NODE_HOLDS_OBJECT (reply) ? json_node_get_object (reply) : NULL;
  epoch = o != NULL ? json_object_get_member (o, "epoch") : NULL;
  acked = o != NULL ? json_object_get_member (o, "acked") : NULL;
  restore = o != NULL ? json_object_get_member (o, "restore_cursor") : NULL;
  if (epoch == NULL || acked == NULL || restore == NULL || json_node_get_value_type (epoch) != G_TYPE_STRING ||
      json_node_get_value_type (acked) != G_TYPE_INT64 || json_node_get_value_type (restore) != G_TYPE_INT64)
    {
      g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL,
                   _("the center's epoch reply lacks “epoch”, “acked” or “restore_cursor”"));
      return FALSE;
    }
  if (!hearth_sync_store_meet_epoch (store, json_node_get_string (epoch), json_node_get_int (acked),
                                     json_node_get_int (restore), resent, error))
    return FALSE;
  /* Asked before every push: what the center takes is known before the
   * first push of a store of before "features", or after an upgrade of
   * the center. */
  {
    g_auto(GStrv) features = hearth_sync_reply_features (reply);

    if (!hearth_sync_store_set_features (store, (const char *const *) features, error))
      return FALSE;
  }
  /* Every later reply of this run must be of the epoch just met. */
  hearth_sync_client_set_epoch (client, json_node_get_string (epoch));
  return TRUE;
}

/* ---- enrolling again (PROTOCOL.md section 12) ------------------------------------ */

/* Whether two base64 spellings name the same 32-byte key. */
static gboolean
same_key (const char *a, const char *b)
{
  gsize la = 0, lb = 0;
  g_autofree guint8 *ka = a != NULL ? g_base64_decode (a, &la) : NULL;
  g_autofree guint8 *kb = b != NULL ? g_base64_decode (b, &lb) : NULL;

  return la == 32 && lb == 32 && sodium_memcmp (ka, kb, 32) == 0;
}

gboolean
hearth_sync_reenrol (HearthSyncStore *store, const char *center_url, const char *code, const char *device_name,
                     const HearthSyncRunOptions *options, HearthSyncEnrolment **enrolment_out, char **refusal_code,
                     GError **error)
{
  g_autoptr(HearthSyncEnrolment) existing = NULL;
  g_autoptr(HearthSyncEnrolment) enrolment = NULL;
  g_autoptr(HearthSecret) secret = NULL;
  g_autoptr(HearthSyncClient) client = NULL;
  g_autofree char *ca_pem = NULL;
  g_autofree char *pin = NULL;
  guint8 public_key[crypto_sign_PUBLICKEYBYTES];
  const char *device_id;

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (store) && code != NULL, FALSE);
  if (refusal_code != NULL)
    *refusal_code = NULL;
  existing = hearth_sync_store_get_enrolment (store, error);
  if (existing == NULL)
    return FALSE;
  secret = hearth_sync_store_load_secret_key (store, error);
  if (secret == NULL)
    return FALSE;
  if (center_url == NULL)
    center_url = existing->center_url;
  /* Trust given now replaces the kept one; without, the kept one stays. */
  if (!hearth_sync_read_trust (store, options, &ca_pem, &pin, error))
    return FALSE;
  client = hearth_sync_make_client (store, center_url, options, error);
  if (client == NULL)
    return FALSE;

  /* The key the store signs with: the center that lost it learns it again. */
  crypto_sign_ed25519_sk_to_pk (public_key, hearth_secret_peek (secret));
  device_id = hearth_case_store_get_device_id (hearth_sync_store_get_cases (store));
  enrolment = hearth_sync_request_enrolment (client, center_url, code, device_id, public_key, device_name,
                                             existing->user, refusal_code, error);
  if (enrolment == NULL)
    return FALSE;
  /* The records are this county's and this user's: a center of another
   * county (or one posing as the county's) is not taken, nor a reply for
   * another user (a center of before "user" in the request). */
  if (!same_key (enrolment->county_public_key, existing->county_public_key))
    {
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
                   _("the center %s sent another county key than the one this tablet is enrolled with: is it your "
                     "county's center? The tablet was not enrolled again"),
                   center_url);
      return FALSE;
    }
  if (g_strcmp0 (enrolment->user, existing->user) != 0)
    {
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
                   _("the code is for %s, but this tablet is %s's: the tablet was not enrolled again"),
                   enrolment->user, existing->user);
      return FALSE;
    }
  enrolment->tls_ca_pem = g_steal_pointer (&ca_pem);
  enrolment->tls_pin = g_steal_pointer (&pin);
  if (!hearth_sync_store_set_enrolment (store, enrolment, secret, error) ||
      !hearth_sync_store_set_exchange (store, hearth_sync_client_get_time_offset (client), 0, error))
    return FALSE;
  if (enrolment_out != NULL)
    *enrolment_out = g_steal_pointer (&enrolment);
  return TRUE;
}

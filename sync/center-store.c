/* SPDX-License-Identifier: GPL-3.0-or-later */
/* center-store.c: the center store interface and its dispatch (center-store.h). */
#define G_LOG_DOMAIN "hearth-center"

#include "center-store.h"
#include "center-store-sqlite.h"
#include "hearth-center-resources.h"
#include "resource-pin.h"

#include <glib/gi18n-lib.h>
#include <libdeflate.h>
#include <lz4.h>
#include <sodium.h>
#include <string.h>

G_DEFINE_QUARK (hearth-center-store-error-quark, hearth_center_store_error)
G_DEFINE_INTERFACE (HearthCenterStore, hearth_center_store, G_TYPE_OBJECT)

static void
hearth_center_store_default_init (HearthCenterStoreInterface *iface)
{
}

void
hearth_center_county_clear (HearthCenterCounty *county)
{
  g_clear_pointer (&county->code, g_free);
  g_clear_pointer (&county->time_zone, g_free);
  memset (county->public_key, 0, sizeof county->public_key);
}

void
hearth_center_user_free (HearthCenterUser *user)
{
  if (user == NULL)
    return;
  g_free (user->name);
  g_free (user->role);
  g_strfreev (user->scope);
  g_free (user);
}

void
hearth_center_code_clear (HearthCenterCode *code)
{
  g_clear_pointer (&code->user, g_free);
  g_clear_pointer (&code->device_id, g_free);
  code->expires_at = code->used_at = 0;
}

void
hearth_center_device_free (HearthCenterDevice *device)
{
  if (device == NULL)
    return;
  g_free (device->id);
  g_free (device->user);
  g_free (device->name);
  g_free (device->clamp_floor);
  g_free (device->audit_broken);
  g_free (device);
}

void
hearth_center_outcome_clear (HearthCenterOutcome *outcome)
{
  g_clear_pointer (&outcome->code, g_free);
  g_clear_pointer (&outcome->message, g_free);
  g_clear_pointer (&outcome->original_hlc, g_free);
  g_clear_pointer (&outcome->clamped_hlc, g_free);
  g_clear_pointer (&outcome->digest, g_free);
  outcome->seq = outcome->cursor = 0;
}

void
hearth_center_conflict_free (HearthCenterConflict *conflict)
{
  if (conflict == NULL)
    return;
  g_free (conflict->id);
  g_free (conflict->table);
  g_free (conflict->record_id);
  g_free (conflict->field);
  g_free (conflict->household);
  g_free (conflict->village);
  g_free (conflict->winner_hlc);
  g_free (conflict->winner_value);
  g_free (conflict->loser_hlc);
  g_free (conflict->loser_value);
  g_free (conflict);
}

HearthCenterStore *
hearth_center_store_open (const char *uri, gboolean create, GError **error)
{
  g_return_val_if_fail (uri != NULL, NULL);

  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");
  if (g_str_has_prefix (uri, "sqlite:") && uri[7] != '\0')
    return hearth_center_store_sqlite_open (uri + 7, create, error);
  if (g_str_has_prefix (uri, "postgresql:") || g_str_has_prefix (uri, "postgres:"))
    g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_UNSUPPORTED,
                 _("%s: PostgreSQL stores are not supported by this build yet; use sqlite:PATH"), uri);
  else
    g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_UNSUPPORTED,
                 _("%s is not a store: name one as sqlite:PATH"), uri);
  return NULL;
}

#define IFACE(txn) \
  (G_LIKELY ((txn)->iface != NULL) ? (txn)->iface : HEARTH_CENTER_STORE_GET_IFACE ((txn)->store))

HearthCenterTxn *
hearth_center_store_begin (HearthCenterStore *self, gboolean write, GError **error)
{
  HearthCenterStoreInterface *iface;
  HearthCenterTxn *txn;

  g_return_val_if_fail (HEARTH_IS_CENTER_STORE (self), NULL);
  iface = HEARTH_CENTER_STORE_GET_IFACE (self);
  txn = iface->begin (self, write, error);
  if (txn != NULL)
    txn->iface = iface;
  return txn;
}

gboolean
hearth_center_store_backup (HearthCenterStore *self, const char *path, GError **error)
{
  g_return_val_if_fail (HEARTH_IS_CENTER_STORE (self) && path != NULL, FALSE);
  return HEARTH_CENTER_STORE_GET_IFACE (self)->backup (self, path, error);
}

void
hearth_center_store_pipeline (HearthCenterStore *self)
{
  g_return_if_fail (HEARTH_IS_CENTER_STORE (self));
  HEARTH_CENTER_STORE_GET_IFACE (self)->pipeline (self);
}

gboolean
hearth_center_txn_commit_deferred (HearthCenterTxn *txn, guint64 *ticket, GError **error)
{
  g_return_val_if_fail (txn != NULL && ticket != NULL, FALSE);
  return IFACE (txn)->commit_deferred (txn, ticket, error);
}

gboolean
hearth_center_store_wait_durable (HearthCenterStore *self, guint64 ticket, GError **error)
{
  g_return_val_if_fail (HEARTH_IS_CENTER_STORE (self), FALSE);
  return HEARTH_CENTER_STORE_GET_IFACE (self)->wait_durable (self, ticket, error);
}

gboolean
hearth_center_txn_savepoint (HearthCenterTxn *txn, HearthCenterSavepoint op, GError **error)
{
  g_return_val_if_fail (txn != NULL, FALSE);
  return IFACE (txn)->savepoint (txn, op, error);
}

int
hearth_center_txn_nonce_seen (HearthCenterTxn *txn, const char *device_id, const char *nonce, gint64 since,
                              GError **error)
{
  g_return_val_if_fail (txn != NULL && device_id != NULL && nonce != NULL, -1);
  return IFACE (txn)->nonce_seen (txn, device_id, nonce, since, error);
}

gboolean
hearth_center_txn_commit (HearthCenterTxn *txn, GError **error)
{
  g_return_val_if_fail (txn != NULL, FALSE);
  return IFACE (txn)->commit (txn, error);
}

void
hearth_center_txn_rollback (HearthCenterTxn *txn)
{
  if (txn != NULL)
    IFACE (txn)->rollback (txn);
}

gboolean
hearth_center_txn_get_county (HearthCenterTxn *txn, HearthCenterCounty *out, GError **error)
{
  g_return_val_if_fail (txn != NULL && out != NULL, FALSE);
  return IFACE (txn)->get_county (txn, out, error);
}

gboolean
hearth_center_txn_set_county (HearthCenterTxn *txn, const HearthCenterCounty *county, gint64 now, GError **error)
{
  g_return_val_if_fail (txn != NULL && county != NULL, FALSE);
  return IFACE (txn)->set_county (txn, county, now, error);
}

gboolean
hearth_center_txn_add_user (HearthCenterTxn *txn, const HearthCenterUser *user, gint64 now, GError **error)
{
  g_return_val_if_fail (txn != NULL && user != NULL, FALSE);
  return IFACE (txn)->add_user (txn, user, now, error);
}

HearthCenterUser *
hearth_center_txn_get_user (HearthCenterTxn *txn, const char *name, GError **error)
{
  g_return_val_if_fail (txn != NULL && name != NULL, NULL);
  return IFACE (txn)->get_user (txn, name, error);
}

gboolean
hearth_center_txn_add_code (HearthCenterTxn *txn, const guint8 *hash, const char *user, gint64 now,
                            gint64 expires_at, GError **error)
{
  g_return_val_if_fail (txn != NULL && hash != NULL && user != NULL, FALSE);
  return IFACE (txn)->add_code (txn, hash, user, now, expires_at, error);
}

gboolean
hearth_center_txn_get_code (HearthCenterTxn *txn, const guint8 *hash, HearthCenterCode *out, GError **error)
{
  g_return_val_if_fail (txn != NULL && hash != NULL && out != NULL, FALSE);
  return IFACE (txn)->get_code (txn, hash, out, error);
}

gboolean
hearth_center_txn_use_code (HearthCenterTxn *txn, const guint8 *hash, const char *device_id, gint64 now,
                            GError **error)
{
  g_return_val_if_fail (txn != NULL && hash != NULL && device_id != NULL, FALSE);
  return IFACE (txn)->use_code (txn, hash, device_id, now, error);
}

gboolean
hearth_center_txn_add_device (HearthCenterTxn *txn, const HearthCenterDevice *device, GError **error)
{
  g_return_val_if_fail (txn != NULL && device != NULL, FALSE);
  return IFACE (txn)->add_device (txn, device, error);
}

HearthCenterDevice *
hearth_center_txn_get_device (HearthCenterTxn *txn, const char *id, GError **error)
{
  g_return_val_if_fail (txn != NULL && id != NULL, NULL);
  return IFACE (txn)->get_device (txn, id, error);
}

GPtrArray *
hearth_center_txn_list_devices (HearthCenterTxn *txn, GError **error)
{
  g_return_val_if_fail (txn != NULL, NULL);
  return IFACE (txn)->list_devices (txn, error);
}

gboolean
hearth_center_txn_save_device (HearthCenterTxn *txn, const HearthCenterDevice *device, GError **error)
{
  g_return_val_if_fail (txn != NULL && device != NULL, FALSE);
  return IFACE (txn)->save_device (txn, device, error);
}

gboolean
hearth_center_txn_add_nonce (HearthCenterTxn *txn, const char *device_id, const char *nonce, gint64 now,
                             gint64 keep_ms, GError **error)
{
  g_return_val_if_fail (txn != NULL && device_id != NULL && nonce != NULL, FALSE);
  return IFACE (txn)->add_nonce (txn, device_id, nonce, now, keep_ms, error);
}

gboolean
hearth_center_txn_get_outcome (HearthCenterTxn *txn, const char *device_id, gint64 seq, HearthCenterOutcome *out,
                               GError **error)
{
  g_return_val_if_fail (txn != NULL && device_id != NULL && out != NULL, FALSE);
  return IFACE (txn)->get_outcome (txn, device_id, seq, out, error);
}

gboolean
hearth_center_txn_add_outcome (HearthCenterTxn *txn, const char *device_id, const HearthCenterOutcome *outcome,
                               GError **error)
{
  g_return_val_if_fail (txn != NULL && device_id != NULL && outcome != NULL, FALSE);
  return IFACE (txn)->add_outcome (txn, device_id, outcome, error);
}

char *
hearth_center_txn_find_clamped (HearthCenterTxn *txn, const char *device_id, const char *original_hlc,
                                GError **error)
{
  g_return_val_if_fail (txn != NULL && device_id != NULL && original_hlc != NULL, NULL);
  return IFACE (txn)->find_clamped (txn, device_id, original_hlc, error);
}

HearthChange *
hearth_center_txn_find_record (HearthCenterTxn *txn, const char *table, const char *id, GError **error)
{
  g_return_val_if_fail (txn != NULL && table != NULL && id != NULL, NULL);
  return IFACE (txn)->find_record (txn, table, id, error);
}

HearthChange *
hearth_center_txn_find_edit (HearthCenterTxn *txn, const char *table, const char *id, const char *field,
                             const char *hlc, GError **error)
{
  g_return_val_if_fail (txn != NULL && table != NULL && id != NULL && field != NULL && hlc != NULL, NULL);
  return IFACE (txn)->find_edit (txn, table, id, field, hlc, error);
}

gboolean
hearth_center_txn_get_epoch (HearthCenterTxn *txn, char **epoch, gint64 *restore_cursor, GError **error)
{
  g_return_val_if_fail (txn != NULL && epoch != NULL && restore_cursor != NULL, FALSE);
  return IFACE (txn)->get_epoch (txn, epoch, restore_cursor, error);
}

gboolean
hearth_center_txn_get_batch_key (HearthCenterTxn *txn, guint8 *seed, guint8 *public_key, GError **error)
{
  guint8 derived[crypto_sign_PUBLICKEYBYTES];
  guint8 *secret_key;
  gboolean same;

  g_return_val_if_fail (txn != NULL && seed != NULL && public_key != NULL, FALSE);
  if (!IFACE (txn)->get_batch_key (txn, seed, public_key, error))
    return FALSE;
  /* batch-key prints the stored public half, while batches are signed
   * with the seed's: a store edited by hand to hold another public key
   * would have county staff publish a key no batch verifies with. */
  secret_key = sodium_malloc (crypto_sign_SECRETKEYBYTES);
  if (secret_key == NULL)
    g_error ("sodium_malloc failed");
  crypto_sign_seed_keypair (derived, secret_key, seed);
  sodium_free (secret_key);
  same = sodium_memcmp (derived, public_key, sizeof derived) == 0;
  if (!same)
    {
      sodium_memzero (seed, crypto_sign_SEEDBYTES);
      g_set_error_literal (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_FAILED,
                           _("the store's batch signing key does not match its public key "
                             "(table batch_signing_key was changed): restore the store from a backup"));
    }
  return same;
}

int
hearth_center_txn_take_late_parent (HearthCenterTxn *txn, const char *table, const char *id, const char *field,
                                    const char *hlc, GError **error)
{
  g_return_val_if_fail (txn != NULL && table != NULL && id != NULL && field != NULL && hlc != NULL, -1);
  return IFACE (txn)->take_late_parent (txn, table, id, field, hlc, error);
}

int
hearth_center_txn_edit_named (HearthCenterTxn *txn, const char *table, const char *id, const char *field,
                              const char *hlc, GError **error)
{
  g_return_val_if_fail (txn != NULL && table != NULL && id != NULL && field != NULL && hlc != NULL, -1);
  return IFACE (txn)->edit_named (txn, table, id, field, hlc, error);
}

gint64
hearth_center_txn_add_change (HearthCenterTxn *txn, const char *device_id, gint64 seq, const HearthChange *change,
                              const char *digest, GBytes *fields, gint64 now, GError **error)
{
  g_return_val_if_fail (txn != NULL && device_id != NULL && change != NULL, 0);
  return IFACE (txn)->add_change (txn, device_id, seq, change, NULL, digest, fields, now, error);
}

gint64
hearth_center_txn_add_prepared_change (HearthCenterTxn *txn, const char *device_id, gint64 seq,
                                       const HearthChange *change, const HearthCenterPrepared *prepared,
                                       const char *digest, GBytes *fields, gint64 now, GError **error)
{
  g_return_val_if_fail (txn != NULL && device_id != NULL && change != NULL, 0);
  return IFACE (txn)->add_change (txn, device_id, seq, change, prepared, digest, fields, now, error);
}

HearthCenterPrepared *
hearth_center_store_prepare_change (HearthCenterStore *store, const HearthChange *change)
{
  HearthCenterStoreInterface *iface;

  g_return_val_if_fail (HEARTH_IS_CENTER_STORE (store) && change != NULL, NULL);
  iface = HEARTH_CENTER_STORE_GET_IFACE (store);
  return iface->prepare_change != NULL ? iface->prepare_change (store, change) : NULL;
}

void
hearth_center_txn_note_prepared (HearthCenterTxn *txn, const HearthChange *change,
                                 const HearthCenterPrepared *prepared)
{
  g_return_if_fail (txn != NULL && change != NULL);
  if (IFACE (txn)->note_prepared != NULL)
    IFACE (txn)->note_prepared (txn, change, prepared);
}

void
hearth_center_prepared_free (HearthCenterPrepared *prepared)
{
  if (prepared == NULL)
    return;
  g_free (prepared->text);
  g_free (prepared);
}

GPtrArray *
hearth_center_txn_list_heads (HearthCenterTxn *txn, const char *table, const char *id, const char *field,
                              GError **error)
{
  g_return_val_if_fail (txn != NULL && table != NULL && id != NULL && field != NULL, NULL);
  return IFACE (txn)->list_heads (txn, table, id, field, error);
}

gboolean
hearth_center_txn_set_field_state (HearthCenterTxn *txn, const HearthChange *winner, GPtrArray *losers,
                                   GPtrArray *heads, gboolean had_conflicts, GError **error)
{
  g_return_val_if_fail (txn != NULL && winner != NULL && losers != NULL, FALSE);
  return IFACE (txn)->set_field_state (txn, winner, losers, heads, had_conflicts, error);
}

char *
hearth_center_txn_get_household_village (HearthCenterTxn *txn, const char *household, GError **error)
{
  g_return_val_if_fail (txn != NULL && household != NULL, NULL);
  return IFACE (txn)->get_household_village (txn, household, error);
}

gboolean
hearth_center_txn_set_household_village (HearthCenterTxn *txn, const char *household, const char *village,
                                         GError **error)
{
  g_return_val_if_fail (txn != NULL && household != NULL && village != NULL, FALSE);
  return IFACE (txn)->set_household_village (txn, household, village, error);
}

char *
hearth_center_txn_get_record_household (HearthCenterTxn *txn, const char *table, const char *id, GError **error)
{
  g_return_val_if_fail (txn != NULL && table != NULL && id != NULL, NULL);
  return IFACE (txn)->get_record_household (txn, table, id, error);
}

gboolean
hearth_center_txn_pull_page (HearthCenterTxn *txn, const HearthCenterPullQuery *query, GString *out, guint *listed,
                             gint64 *last, gboolean *more, GError **error)
{
  g_return_val_if_fail (txn != NULL && query != NULL && query->prefixes != NULL && query->limit > 0, FALSE);
  g_return_val_if_fail (out != NULL && listed != NULL && last != NULL && more != NULL, FALSE);
  return IFACE (txn)->pull_page (txn, query, out, listed, last, more, error);
}

gint64
hearth_center_txn_last_cursor (HearthCenterTxn *txn, GError **error)
{
  g_return_val_if_fail (txn != NULL, -1);
  return IFACE (txn)->last_cursor (txn, error);
}

gint64
hearth_center_txn_last_cursor_before (HearthCenterTxn *txn, gint64 until_ms, GError **error)
{
  g_return_val_if_fail (txn != NULL, -1);
  return IFACE (txn)->last_cursor_before (txn, until_ms, error);
}

gboolean
hearth_center_txn_get_own (HearthCenterTxn *txn, gint64 *last_seq, char **last_hlc, GError **error)
{
  g_return_val_if_fail (txn != NULL && last_seq != NULL && last_hlc != NULL, FALSE);
  return IFACE (txn)->get_own (txn, last_seq, last_hlc, error);
}

gboolean
hearth_center_txn_set_own (HearthCenterTxn *txn, gint64 last_seq, const char *last_hlc, GError **error)
{
  g_return_val_if_fail (txn != NULL && last_seq >= 0, FALSE);
  return IFACE (txn)->set_own (txn, last_seq, last_hlc, error);
}

char *
hearth_center_txn_find_by_value (HearthCenterTxn *txn, const char *table, const char *field, const char *value,
                                 GError **error)
{
  g_return_val_if_fail (txn != NULL && table != NULL && field != NULL && value != NULL, NULL);
  return IFACE (txn)->find_by_value (txn, table, field, value, error);
}

GPtrArray *
hearth_center_txn_list_touched (HearthCenterTxn *txn, const char *table, const HearthCenterRange *range,
                                GPtrArray **fields, GError **error)
{
  g_return_val_if_fail (txn != NULL && table != NULL && range != NULL && range->prefix != NULL, NULL);
  return IFACE (txn)->list_touched (txn, table, range, fields, error);
}

GPtrArray *
hearth_center_txn_list_field_states (HearthCenterTxn *txn, const char *table, const char *id, GError **error)
{
  g_return_val_if_fail (txn != NULL && table != NULL && id != NULL, NULL);
  return IFACE (txn)->list_field_states (txn, table, id, error);
}

GPtrArray *
hearth_center_txn_list_conflicts (HearthCenterTxn *txn, const char *table, const char *id, GError **error)
{
  g_return_val_if_fail (txn != NULL && table != NULL && id != NULL, NULL);
  return IFACE (txn)->list_conflicts (txn, table, id, error);
}

/* ---- a record's fields as stored (0019-packed-fields.sql) ----------------------- */

/* The first byte of packed fields (JSON text starts with '{'): 1 raw
 * DEFLATE (0019-packed-fields.sql, still read), 2 an LZ4 block with
 * format 2's dictionary (0021-fields-lz4.sql, written). */
#define FIELDS_DEFLATE 1
#define FIELDS_LZ4 2
/* The tag and the text's length. */
#define FIELDS_HEAD 5
/* Fields shorter than this are kept as text. LZ4's cost a call has a
 * fixed part (copying the stream with its dictionary loaded, 16 KiB)
 * that is most of packing a review's 250 bytes; an audit entry's 700
 * shrink to a third. */
#define FIELDS_PACK_MIN 512
#define DICT_PATH "/org/hearth/center/fields/fields-dict-2.json"

/* A thread's LZ4 streams (not to be shared between threads): @loaded
 * holds the dictionary as LZ4_loadDict() left it, copied into @work
 * before each text (loading it each time would cost more than packing a
 * submission). */
typedef struct {
  LZ4_stream_t loaded;
  LZ4_stream_t work;
} FieldsStreams;

static GPrivate fields_streams_key = G_PRIVATE_INIT (g_free);
static GPrivate fields_decompressor_key = G_PRIVATE_INIT ((GDestroyNotify) libdeflate_free_decompressor);

/* BLAKE2b-256 of format 2's dictionary. Every row of format 2 was packed
 * with exactly these bytes, and LZ4 with another dictionary unpacks them
 * into other text without a word: the file never changes (a new
 * dictionary is a new format byte and a migration), and a build holding
 * another one stops before it packs or reads a row. */
static const guint8 fields_dictionary_hash[crypto_generichash_BYTES] = {
  0x02, 0xb9, 0xf3, 0x1b, 0x30, 0x77, 0x18, 0xbb, 0xfe, 0x4b, 0x41, 0x3e, 0x99, 0xf1, 0xd0, 0xc9,
  0x23, 0x18, 0x67, 0xa7, 0x97, 0xe2, 0xb7, 0xb8, 0xb5, 0x74, 0x34, 0x3f, 0x72, 0x58, 0x7c, 0x83,
};

/* Format 2's dictionary: compiled in (schema/center/fields-dict-2.json),
 * never freed: LZ4 refers to it while it works. */
static const char *
fields_dictionary (int *len)
{
  static gsize once;
  static GBytes *dict;

  if (g_once_init_enter (&once))
    {
      dict = hearth_resource_pinned (hearth_center_schema_get_resource (), DICT_PATH, fields_dictionary_hash,
                                     "format 2's dictionary of packed fields");
      g_once_init_leave (&once, 1);
    }
  *len = (int) g_bytes_get_size (dict);
  return g_bytes_get_data (dict, NULL);
}

GBytes *
hearth_center_fields_pack (const char *json, gsize len)
{
  FieldsStreams *streams;
  guint8 *out;
  int n;

  g_return_val_if_fail (json != NULL, NULL);
  if (len < FIELDS_PACK_MIN || len > HEARTH_CENTER_FIELDS_MAX)
    return g_bytes_new (json, len);
  if ((streams = g_private_get (&fields_streams_key)) == NULL)
    {
      const char *dict;
      int dict_len;

      /* g_new: LZ4_stream_t's alignment is malloc's. */
      streams = g_new (FieldsStreams, 1);
      if (LZ4_initStream (&streams->loaded, sizeof streams->loaded) == NULL)
        {
          g_free (streams);
          return g_bytes_new (json, len);
        }
      dict = fields_dictionary (&dict_len);
      LZ4_loadDict (&streams->loaded, dict, dict_len);
      g_private_set (&fields_streams_key, streams);
    }
  /* What LZ4_loadDict() would leave, as lz4.h allows (a copy of a stream
   * with its dictionary loaded): the same bytes out. */
  memcpy (&streams->work, &streams->loaded, sizeof streams->work);
  /* Room for less than the text: what does not shrink stays text. */
  out = g_malloc (len);
  n = LZ4_compress_fast_continue (&streams->work, json, (char *) out + FIELDS_HEAD, (int) len,
                                  (int) (len - FIELDS_HEAD), 1);
  if (n <= 0)
    {
      g_free (out);
      return g_bytes_new (json, len);
    }
  out[0] = FIELDS_LZ4;
  out[1] = (guint8) (len & 0xff);
  out[2] = (guint8) ((len >> 8) & 0xff);
  out[3] = (guint8) ((len >> 16) & 0xff);
  out[4] = (guint8) ((len >> 24) & 0xff);
  return g_bytes_new_take (g_realloc (out, FIELDS_HEAD + (gsize) n), FIELDS_HEAD + (gsize) n);
}

char *
hearth_center_fields_unpack (const guint8 *data, gsize len, GError **error)
{
  g_autofree char *text = NULL;
  gsize text_len;

  if (data == NULL || len < FIELDS_HEAD || (data[0] != FIELDS_DEFLATE && data[0] != FIELDS_LZ4))
    {
      g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_FAILED,
                   "a record's stored fields are not in a form this center reads");
      return NULL;
    }
  text_len = (gsize) data[1] | (gsize) data[2] << 8 | (gsize) data[3] << 16 | (gsize) data[4] << 24;
  if (text_len > HEARTH_CENTER_FIELDS_MAX)
    {
      g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_FAILED,
                   "a record's stored fields state a length of %" G_GSIZE_FORMAT " bytes, above %d", text_len,
                   HEARTH_CENTER_FIELDS_MAX);
      return NULL;
    }
  text = g_malloc (text_len + 1);
  if (data[0] == FIELDS_LZ4)
    {
      const char *dict;
      int dict_len, n;

      dict = fields_dictionary (&dict_len);
      /* The output buffer is the bound: LZ4's safe decoder refuses a
       * block that would write beyond it or read beyond its input. */
      n = len - FIELDS_HEAD > (gsize) G_MAXINT
            ? -1
            : LZ4_decompress_safe_usingDict ((const char *) data + FIELDS_HEAD, text, (int) (len - FIELDS_HEAD),
                                             (int) text_len, dict, dict_len);
      if (n < 0 || (gsize) n != text_len)
        {
          g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_FAILED,
                       "a record's stored fields do not decompress to their stated %" G_GSIZE_FORMAT " bytes",
                       text_len);
          return NULL;
        }
    }
  else
    {
      struct libdeflate_decompressor *d;

      if ((d = g_private_get (&fields_decompressor_key)) == NULL)
        {
          if ((d = libdeflate_alloc_decompressor ()) == NULL)
            g_error ("libdeflate could not allocate a decompressor");
          g_private_set (&fields_decompressor_key, d);
        }
      /* Without an "actual size" out parameter libdeflate fails unless
       * the stream fills the buffer exactly. */
      if (libdeflate_deflate_decompress (d, data + FIELDS_HEAD, len - FIELDS_HEAD, text, text_len, NULL) !=
          LIBDEFLATE_SUCCESS)
        {
          g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_FAILED,
                       "a record's stored fields do not inflate to their stated %" G_GSIZE_FORMAT " bytes",
                       text_len);
          return NULL;
        }
    }
  /* Neither format has a checksum: damage can decompress to the stated
   * length. Readers copy the text into pull pages as it is, so what is
   * not an object's text (or hides a NUL) is refused here, cheaply. */
  if (text_len < 2 || text[0] != '{' || text[text_len - 1] != '}' || memchr (text, '\0', text_len) != NULL)
    {
      g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_FAILED,
                   "a record's stored fields do not decompress to a JSON object");
      return NULL;
    }
  text[text_len] = '\0';
  return g_steal_pointer (&text);
}

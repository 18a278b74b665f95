/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "hearth-store"

#include "store-keyslot.h"
#include "store-error.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#define MAGIC "HEARTHKS"
#define VERSION 1
#define KDF_ARGON2ID13 1
#define FLAG_ENVELOPE 1
#define CHECKSUM_OFFSET 268
/* Hearth itself writes at most 256 MiB and 32 passes; a slot asking for
 * more is hostile or damaged, and would hold the unlock for minutes. */
#define OPSLIMIT_MAX 32
#define MEMLIMIT_MAX (G_GUINT64_CONSTANT (256) << 20)

G_STATIC_ASSERT (HEARTH_ENVELOPE_SIZE == 48 + crypto_box_SEALBYTES);

static void put_be64 (guint8 *p, guint64 v)
{
  for (int i = 7; i >= 0; i--, v >>= 8)
    p[i] = (guint8) v;
}

static guint64 get_be64 (const guint8 *p)
{
  guint64 v = 0;
  for (int i = 0; i < 8; i++)
    v = (v << 8) | p[i];
  return v;
}

/* A hostile or damaged file must not make an unlock take gigabytes or
 * minutes. */
static gboolean
kdf_params_in_bounds (const HearthKeyslot *slot)
{
  return slot->opslimit >= crypto_pwhash_OPSLIMIT_MIN && slot->opslimit <= OPSLIMIT_MAX &&
         slot->memlimit >= crypto_pwhash_MEMLIMIT_MIN && slot->memlimit <= MEMLIMIT_MAX;
}

static void
encode (const HearthKeyslot *slot, guint8 *b)
{
  memset (b, 0, HEARTH_KEYSLOT_SIZE);
  memcpy (b, MAGIC, 8);
  b[8] = VERSION;
  b[9] = KDF_ARGON2ID13;
  b[10] = slot->has_envelope ? FLAG_ENVELOPE : 0;
  put_be64 (b + 12, slot->generation);
  memcpy (b + 20, slot->file_id, 16);
  put_be64 (b + 36, slot->opslimit);
  put_be64 (b + 44, slot->memlimit);
  memcpy (b + 52, slot->salt, 16);
  memcpy (b + 68, slot->nonce, 24);
  memcpy (b + 92, slot->wrapped, 48);
  if (slot->has_envelope)
    {
      memcpy (b + 140, slot->county_public_key, HEARTH_COUNTY_KEY_SIZE);
      memcpy (b + 172, slot->envelope, HEARTH_ENVELOPE_SIZE);
    }
  crypto_generichash (b + CHECKSUM_OFFSET, 32, b, CHECKSUM_OFFSET, NULL, 0);
}

/* Associated data of the wrap: bytes 0-9 and 20-67 of the encoding. */
static void
build_ad (const HearthKeyslot *slot, guint8 ad[58])
{
  guint8 b[HEARTH_KEYSLOT_SIZE];

  encode (slot, b);
  memcpy (ad, b, 10);
  memcpy (ad + 10, b + 20, 48);
}

GBytes *
hearth_keyslot_serialise (const HearthKeyslot *slot)
{
  guint8 *b = g_malloc (HEARTH_KEYSLOT_SIZE);

  encode (slot, b);
  return g_bytes_new_take (b, HEARTH_KEYSLOT_SIZE);
}

gboolean
hearth_keyslot_parse (const guint8 *data, gsize len, HearthKeyslot *out, GError **error)
{
  guint8 sum[32];

  memset (out, 0, sizeof *out);
  if (len < 10 || memcmp (data, MAGIC, 8) != 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT,
                   _("not a Hearth keyslot (no HEARTHKS header)"));
      return FALSE;
    }
  if (data[8] != VERSION)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT,
                   _("keyslot version %u is not known to this Hearth (it knows version %d)"),
                   data[8], VERSION);
      return FALSE;
    }
  if (len != HEARTH_KEYSLOT_SIZE)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT,
                   _("keyslot is %zu bytes long; a version 1 keyslot has %d"),
                   (size_t) len, HEARTH_KEYSLOT_SIZE);
      return FALSE;
    }
  crypto_generichash (sum, sizeof sum, data, CHECKSUM_OFFSET, NULL, 0);
  if (sodium_memcmp (sum, data + CHECKSUM_OFFSET, 32) != 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT,
                   _("keyslot checksum does not match (the file is damaged)"));
      return FALSE;
    }
  if (data[9] != KDF_ARGON2ID13 || (data[10] & ~FLAG_ENVELOPE) != 0 || data[11] != 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT,
                   _("keyslot names an unknown key derivation (%u) or flags (%u)"),
                   data[9], data[10]);
      return FALSE;
    }
  /* Without an envelope those bytes are zeros: anything else would be
   * silently dropped by the next rewrite. */
  if (!(data[10] & FLAG_ENVELOPE) &&
      !sodium_is_zero (data + 140, HEARTH_COUNTY_KEY_SIZE + HEARTH_ENVELOPE_SIZE))
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT,
                   _("keyslot holds recovery-envelope bytes but is not marked as having an envelope"));
      return FALSE;
    }
  out->generation = get_be64 (data + 12);
  memcpy (out->file_id, data + 20, 16);
  out->opslimit = get_be64 (data + 36);
  out->memlimit = get_be64 (data + 44);
  if (!kdf_params_in_bounds (out))
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT,
                   _("keyslot asks for Argon2id with %llu passes and %llu bytes, outside the accepted bounds"),
                   (unsigned long long) out->opslimit, (unsigned long long) out->memlimit);
      return FALSE;
    }
  memcpy (out->salt, data + 52, 16);
  memcpy (out->nonce, data + 68, 24);
  memcpy (out->wrapped, data + 92, 48);
  out->has_envelope = (data[10] & FLAG_ENVELOPE) != 0;
  if (out->has_envelope)
    {
      memcpy (out->county_public_key, data + 140, HEARTH_COUNTY_KEY_SIZE);
      memcpy (out->envelope, data + 172, HEARTH_ENVELOPE_SIZE);
    }
  return TRUE;
}

static double
time_argon2id (guint64 opslimit, guint64 memlimit)
{
  guint8 out[32], salt[16] = { 0 };
  gint64 start = g_get_monotonic_time ();

  if (crypto_pwhash (out, sizeof out, "calibration", 11, salt, opslimit, memlimit,
                     crypto_pwhash_ALG_ARGON2ID13) != 0)
    return -1;
  return (g_get_monotonic_time () - start) / 1e6;
}

void
hearth_kdf_params (HearthKdfProfile profile, guint64 *opslimit, guint64 *memlimit)
{
  double target, t;
  guint64 ops;

  switch (profile)
    {
    case HEARTH_KDF_TEST:
      *opslimit = crypto_pwhash_OPSLIMIT_MIN;
      *memlimit = crypto_pwhash_MEMLIMIT_MIN;
      return;
    case HEARTH_KDF_MODERATE:
      *memlimit = 256u << 20;
      target = 0.8;
      break;
    case HEARTH_KDF_INTERACTIVE:
    default:
      *memlimit = 64u << 20;
      target = 0.5;
      break;
    }
  /* The faster of two runs: a run slowed by other work would choose too
   * few passes for the quiet device that unlocks later. */
  t = time_argon2id (3, *memlimit);
  {
    double again = time_argon2id (3, *memlimit);
    if (again > 0 && (t <= 0 || again < t))
      t = again;
  }
  ops = 3;
  if (t > 0)
    ops = (guint64) (3.0 * target / t + 0.5);
  *opslimit = CLAMP (ops, 3, OPSLIMIT_MAX);
}

const char *
hearth_kdf_profile_describe (guint64 opslimit, guint64 memlimit)
{
  if (opslimit == crypto_pwhash_OPSLIMIT_MIN && memlimit == crypto_pwhash_MEMLIMIT_MIN)
    return "test";
  if (memlimit == 64u << 20)
    return "interactive";
  if (memlimit == 256u << 20)
    return "moderate";
  return "custom";
}

static gboolean
derive_kek (const HearthKeyslot *slot, const HearthSecret *passphrase,
            HearthSecret **kek_out, GError **error)
{
  g_autoptr(HearthSecret) kek = hearth_secret_new (crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

  if (crypto_pwhash (hearth_secret_get_data (kek), hearth_secret_get_size (kek),
                     (const char *) hearth_secret_peek (passphrase),
                     hearth_secret_get_size (passphrase), slot->salt,
                     slot->opslimit, (size_t) slot->memlimit,
                     crypto_pwhash_ALG_ARGON2ID13) != 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_INTERNAL,
                   _("Argon2id could not get %llu MiB of memory"),
                   (unsigned long long) (slot->memlimit >> 20));
      return FALSE;
    }
  *kek_out = g_steal_pointer (&kek);
  return TRUE;
}

gboolean
hearth_keyslot_wrap (HearthKeyslot *slot, const HearthSecret *passphrase,
                     const HearthSecret *data_key, GError **error)
{
  g_autoptr(HearthSecret) kek = NULL;
  guint8 ad[58];

  g_return_val_if_fail (hearth_secret_get_size (data_key) == 32, FALSE);
  randombytes_buf (slot->salt, sizeof slot->salt);
  randombytes_buf (slot->nonce, sizeof slot->nonce);
  if (!derive_kek (slot, passphrase, &kek, error))
    return FALSE;
  build_ad (slot, ad);
  crypto_aead_xchacha20poly1305_ietf_encrypt (slot->wrapped, NULL,
                                              hearth_secret_peek (data_key), 32,
                                              ad, sizeof ad, NULL, slot->nonce,
                                              hearth_secret_peek (kek));
  return TRUE;
}

HearthSecret *
hearth_keyslot_unwrap (const HearthKeyslot *slot, const HearthSecret *passphrase, GError **error)
{
  g_autoptr(HearthSecret) kek = NULL;
  g_autoptr(HearthSecret) dek = hearth_secret_new (32);
  guint8 ad[58];

  if (!derive_kek (slot, passphrase, &kek, error))
    return NULL;
  build_ad (slot, ad);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt (hearth_secret_get_data (dek), NULL, NULL,
                                                  slot->wrapped, sizeof slot->wrapped,
                                                  ad, sizeof ad, slot->nonce,
                                                  hearth_secret_peek (kek)) != 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_WRONG_PASSPHRASE,
                   _("Wrong passphrase"));
      return NULL;
    }
  hearth_secret_seal (dek);
  return g_steal_pointer (&dek);
}

gboolean
hearth_keyslot_seal_envelope (HearthKeyslot *slot, const HearthSecret *data_key,
                              const guint8 *county_public_key, GError **error)
{
  g_autoptr(HearthSecret) plain = hearth_secret_new (48);

  memcpy (hearth_secret_get_data (plain), hearth_secret_peek (data_key), 32);
  memcpy (hearth_secret_get_data (plain) + 32, slot->file_id, 16);
  /* crypto_box_seal() refuses low-order points such as an all-zero key,
   * whose "envelope" nobody could open. */
  if (crypto_box_seal (slot->envelope, hearth_secret_peek (plain), 48, county_public_key) != 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_COUNTY_KEY,
                   _("The county public key is not a usable X25519 key"));
      return FALSE;
    }
  memcpy (slot->county_public_key, county_public_key, HEARTH_COUNTY_KEY_SIZE);
  slot->has_envelope = TRUE;
  return TRUE;
}

HearthSecret *
hearth_keyslot_open_envelope (const HearthKeyslot *slot, const HearthSecret *county_secret_key,
                              GError **error)
{
  g_autoptr(HearthSecret) plain = hearth_secret_new (48);
  guint8 pk[HEARTH_COUNTY_KEY_SIZE];

  if (!slot->has_envelope)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_NO_RECOVERY,
                   _("This store has no recovery envelope: it was created without a county public key"));
      return NULL;
    }
  crypto_scalarmult_base (pk, hearth_secret_peek (county_secret_key));
  if (sodium_memcmp (pk, slot->county_public_key, sizeof pk) != 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_COUNTY_KEY,
                   _("The county key does not match the key this store's recovery envelope was sealed to"));
      return NULL;
    }
  if (crypto_box_seal_open (hearth_secret_get_data (plain), slot->envelope, HEARTH_ENVELOPE_SIZE,
                            pk, hearth_secret_peek (county_secret_key)) != 0 ||
      sodium_memcmp (hearth_secret_peek (plain) + 32, slot->file_id, 16) != 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_COUNTY_KEY,
                   _("The recovery envelope is damaged and cannot be opened"));
      return NULL;
    }
  {
    HearthSecret *dek = hearth_secret_new_from_data (hearth_secret_peek (plain), 32);
    hearth_secret_seal (dek);
    return dek;
  }
}

#define RECOVERY_MAGIC "HEARTHRC"
#define RECOVERY_CHECKSUM_OFFSET 172

GBytes *
hearth_recovery_record_serialise (const HearthKeyslot *slot)
{
  guint8 *b = g_malloc0 (HEARTH_RECOVERY_RECORD_SIZE);

  g_return_val_if_fail (slot->has_envelope, NULL);
  memcpy (b, RECOVERY_MAGIC, 8);
  b[8] = VERSION;
  memcpy (b + 12, slot->file_id, 16);
  put_be64 (b + 28, slot->opslimit);
  put_be64 (b + 36, slot->memlimit);
  memcpy (b + 44, slot->county_public_key, HEARTH_COUNTY_KEY_SIZE);
  memcpy (b + 76, slot->envelope, HEARTH_ENVELOPE_SIZE);
  crypto_generichash (b + RECOVERY_CHECKSUM_OFFSET, 32, b, RECOVERY_CHECKSUM_OFFSET, NULL, 0);
  return g_bytes_new_take (b, HEARTH_RECOVERY_RECORD_SIZE);
}

gboolean
hearth_recovery_record_parse (const guint8 *data, gsize len, HearthKeyslot *out, GError **error)
{
  guint8 sum[32];

  memset (out, 0, sizeof *out);
  if (len != HEARTH_RECOVERY_RECORD_SIZE || memcmp (data, RECOVERY_MAGIC, 8) != 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT,
                   _("not a Hearth county recovery record (%zu bytes)"), (size_t) len);
      return FALSE;
    }
  crypto_generichash (sum, sizeof sum, data, RECOVERY_CHECKSUM_OFFSET, NULL, 0);
  if (sodium_memcmp (sum, data + RECOVERY_CHECKSUM_OFFSET, 32) != 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT,
                   _("county recovery record checksum does not match (the file is damaged)"));
      return FALSE;
    }
  if (data[8] != VERSION || data[9] != 0 || data[10] != 0 || data[11] != 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT,
                   _("county recovery record version %u is not known to this Hearth"), data[8]);
      return FALSE;
    }
  memcpy (out->file_id, data + 12, 16);
  out->opslimit = get_be64 (data + 28);
  out->memlimit = get_be64 (data + 36);
  if (!kdf_params_in_bounds (out))
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_KEYSLOT_CORRUPT,
                   _("county recovery record asks for Argon2id with %llu passes and %llu bytes, outside the accepted bounds"),
                   (unsigned long long) out->opslimit, (unsigned long long) out->memlimit);
      return FALSE;
    }
  memcpy (out->county_public_key, data + 44, HEARTH_COUNTY_KEY_SIZE);
  memcpy (out->envelope, data + 76, HEARTH_ENVELOPE_SIZE);
  out->has_envelope = TRUE;
  return TRUE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sign.c: request signing of the sync protocol (sign.h). */
#define G_LOG_DOMAIN "hearth-sync"

#include "sign.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

G_DEFINE_QUARK (hearth-sign-error-quark, hearth_sign_error)

#define SIGNATURE_B64_LEN sodium_base64_ENCODED_LEN (crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL)

static void
ensure_sodium (void)
{
  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");
}

/* Decodes @text as the padded standard base64 of exactly @len bytes, and
 * only that: the decoded bytes must encode back to @text. (libsodium 1.0.18
 * also takes some bytes >= 0x80 for digits; the round trip refuses them.) */
static gboolean
decode_exact (const char *text, guint8 *out, gsize len)
{
  g_autofree char *again = NULL;
  gsize text_len, got = 0;
  gsize b64_len = sodium_base64_ENCODED_LEN (len, sodium_base64_VARIANT_ORIGINAL);

  if (text == NULL)
    return FALSE;
  text_len = strlen (text);
  if (text_len + 1 != b64_len)
    return FALSE;
  if (sodium_base642bin (out, len, text, text_len, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      got != len)
    return FALSE;
  again = g_malloc (b64_len);
  sodium_bin2base64 (again, b64_len, out, len, sodium_base64_VARIANT_ORIGINAL);
  return strcmp (again, text) == 0;
}

HearthSecret *
hearth_sign_keypair (guint8 *public_key)
{
  HearthSecret *sk;

  ensure_sodium ();
  sk = hearth_secret_new (crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair (public_key, hearth_secret_get_data (sk));
  return sk;
}

char *
hearth_sign_message (const char *method, const char *path_and_query, const guint8 *body, gsize body_len,
                     const char *device_id, gint64 time_ms, const char *nonce)
{
  guint8 digest[crypto_generichash_BYTES];
  char hex[crypto_generichash_BYTES * 2 + 1];
  char time_text[32];

  g_return_val_if_fail (method != NULL && path_and_query != NULL && device_id != NULL && nonce != NULL, NULL);

  /* BLAKE2b-256 of zero bytes for an empty body, as the protocol says. */
  crypto_generichash (digest, sizeof digest, body_len > 0 ? body : (const guint8 *) "", body_len, NULL, 0);
  sodium_bin2hex (hex, sizeof hex, digest, sizeof digest);
  g_snprintf (time_text, sizeof time_text, "%" G_GINT64_FORMAT, time_ms);
  return g_strjoin ("\n", "hearth-sync-v1", method, path_and_query, hex, device_id, time_text, nonce, NULL);
}

char *
hearth_sign_request (const guint8 *secret_key, const char *method, const char *path_and_query, const guint8 *body,
                     gsize body_len, const char *device_id, gint64 time_ms, const char *nonce)
{
  g_autofree char *message = NULL;
  guint8 sig[crypto_sign_BYTES];
  char *b64;

  g_return_val_if_fail (secret_key != NULL, NULL);

  ensure_sodium ();
  message = hearth_sign_message (method, path_and_query, body, body_len, device_id, time_ms, nonce);
  crypto_sign_detached (sig, NULL, (const guint8 *) message, strlen (message), secret_key);
  b64 = g_malloc (SIGNATURE_B64_LEN);
  sodium_bin2base64 (b64, SIGNATURE_B64_LEN, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
  return b64;
}

gboolean
hearth_sign_verify (const guint8 *public_key, const char *signature, const char *method, const char *path_and_query,
                    const guint8 *body, gsize body_len, const char *device_id, gint64 time_ms, const char *nonce,
                    GError **error)
{
  g_autofree char *message = NULL;
  guint8 sig[crypto_sign_BYTES];

  g_return_val_if_fail (public_key != NULL, FALSE);

  ensure_sodium ();
  if (!decode_exact (signature, sig, sizeof sig))
    {
      g_set_error (error, HEARTH_SIGN_ERROR, HEARTH_SIGN_ERROR_MALFORMED,
                   _("the signature is not %d bytes in base64"), (int) crypto_sign_BYTES);
      return FALSE;
    }
  message = hearth_sign_message (method, path_and_query, body, body_len, device_id, time_ms, nonce);
  if (crypto_sign_verify_detached (sig, (const guint8 *) message, strlen (message), public_key) != 0)
    {
      g_set_error (error, HEARTH_SIGN_ERROR, HEARTH_SIGN_ERROR_BAD_SIGNATURE,
                   _("the signature does not match the request and the device's key"));
      return FALSE;
    }
  return TRUE;
}

char *
hearth_sign_nonce (void)
{
  guint8 raw[HEARTH_SIGN_NONCE_BYTES];
  gsize b64_len = sodium_base64_ENCODED_LEN (sizeof raw, sodium_base64_VARIANT_ORIGINAL);
  char *b64 = g_malloc (b64_len);

  ensure_sodium ();
  randombytes_buf (raw, sizeof raw);
  sodium_bin2base64 (b64, b64_len, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
  return b64;
}

gboolean
hearth_sign_nonce_is_valid (const char *nonce)
{
  guint8 raw[HEARTH_SIGN_NONCE_BYTES];

  ensure_sodium ();
  return decode_exact (nonce, raw, sizeof raw);
}

gboolean
hearth_sign_decode_key (const char *text, guint8 *public_key, GError **error)
{
  ensure_sodium ();
  /* A key off the curve or of small order never verifies anything
   * (libsodium refuses it): refuse it at enrolment, not at every request. */
  if (!decode_exact (text, public_key, crypto_sign_PUBLICKEYBYTES) || !crypto_core_ed25519_is_valid_point (public_key))
    {
      g_set_error (error, HEARTH_SIGN_ERROR, HEARTH_SIGN_ERROR_MALFORMED,
                   _("the public key is not a 32-byte Ed25519 key in base64"));
      return FALSE;
    }
  return TRUE;
}

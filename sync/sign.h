/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sign.h: request signing of the sync protocol (sync/PROTOCOL.md, section
 * 4), shared by the device client and the county center: the signed
 * message, Ed25519 signatures (libsodium) over it, and the nonces that make
 * each request unique. Knows nothing of HTTP, stores or servers.
 *
 * Thread-safe: no function keeps state (libsodium must be initialised,
 * which hearth_sign_keypair() and hearth_sign_nonce() do).
 */
#pragma once

#include <glib.h>

#include "store-secret.h"

G_BEGIN_DECLS

#define HEARTH_SIGN_ERROR (hearth_sign_error_quark ())
GQuark hearth_sign_error_quark (void);

/**
 * HearthSignError:
 * @HEARTH_SIGN_ERROR_MALFORMED: a signature, key or nonce that is not what
 *   the protocol says (wrong length, not base64)
 * @HEARTH_SIGN_ERROR_BAD_SIGNATURE: a well-formed signature that does not
 *   verify
 */
typedef enum {
  HEARTH_SIGN_ERROR_MALFORMED,
  HEARTH_SIGN_ERROR_BAD_SIGNATURE,
} HearthSignError;

#define HEARTH_SIGN_PUBLIC_KEY_BYTES 32
#define HEARTH_SIGN_SECRET_KEY_BYTES 64
#define HEARTH_SIGN_NONCE_BYTES      16

/**
 * hearth_sign_keypair:
 * @public_key: (out caller-allocates) (array fixed-size=32): the public key
 *
 * Makes a device's Ed25519 key pair (crypto_sign_keypair).
 *
 * Returns: (transfer full): the 64-byte secret key, in sodium_malloc()
 *   memory (store-secret.h). Thread-safe.
 */
HearthSecret *hearth_sign_keypair (guint8 *public_key);

/**
 * hearth_sign_message:
 * @method: "GET" or "POST"
 * @path_and_query: the request target as sent ("/v1/pull?cursor=12&limit=500")
 * @body: (array length=body_len) (nullable): the body as sent, before any
 *   decompression
 * @body_len: its length (0 for no body)
 * @device_id: the device's id
 * @time_ms: the Hearth-Time sent, in milliseconds since 1970
 * @nonce: the Hearth-Nonce sent
 *
 * The text that is signed: "hearth-sync-v1", the method, the target, the
 * hex BLAKE2b-256 of the body, the device, the time and the nonce, one per
 * line ("\n" between them, none after the last).
 *
 * Returns: (transfer full): the message. Thread-safe.
 */
char *hearth_sign_message (const char   *method,
                           const char   *path_and_query,
                           const guint8 *body,
                           gsize         body_len,
                           const char   *device_id,
                           gint64        time_ms,
                           const char   *nonce);

/**
 * hearth_sign_request:
 * @secret_key: (array fixed-size=64): the device's Ed25519 secret key
 *
 * Signs the message hearth_sign_message() makes of the other arguments.
 *
 * Returns: (transfer full): the detached signature in standard base64, the
 *   Hearth-Signature header's value. Thread-safe.
 */
char *hearth_sign_request (const guint8 *secret_key,
                           const char   *method,
                           const char   *path_and_query,
                           const guint8 *body,
                           gsize         body_len,
                           const char   *device_id,
                           gint64        time_ms,
                           const char   *nonce);

/**
 * hearth_sign_verify:
 * @public_key: (array fixed-size=32): the device's Ed25519 public key
 * @signature: the Hearth-Signature header's value
 *
 * Checks @signature over the message hearth_sign_message() makes of the
 * other arguments.
 *
 * Returns: %TRUE when it verifies; else %FALSE with
 *   HEARTH_SIGN_ERROR_MALFORMED (not 64 bytes of base64) or
 *   _BAD_SIGNATURE. Thread-safe.
 */
gboolean hearth_sign_verify (const guint8 *public_key,
                             const char   *signature,
                             const char   *method,
                             const char   *path_and_query,
                             const guint8 *body,
                             gsize         body_len,
                             const char   *device_id,
                             gint64        time_ms,
                             const char   *nonce,
                             GError      **error);

/**
 * hearth_sign_nonce:
 *
 * Returns: (transfer full): 16 fresh random bytes (randombytes_buf) in
 *   standard base64, a Hearth-Nonce value. Thread-safe.
 */
char *hearth_sign_nonce (void);

/**
 * hearth_sign_nonce_is_valid:
 * @nonce: a Hearth-Nonce value as received
 *
 * Returns: whether @nonce is exactly 16 bytes in padded standard base64
 *   (the one encoding, so that one nonce cannot be replayed under another
 *   spelling). Thread-safe.
 */
gboolean hearth_sign_nonce_is_valid (const char *nonce);

/**
 * hearth_sign_decode_key:
 * @text: a public key in standard base64, as sent at enrolment
 * @public_key: (out caller-allocates) (array fixed-size=32): the key
 *
 * Returns: %TRUE, or %FALSE with HEARTH_SIGN_ERROR_MALFORMED when @text is
 *   not the padded base64 of 32 bytes or not a usable Ed25519 point.
 *   Thread-safe.
 */
gboolean hearth_sign_decode_key (const char *text,
                                 guint8     *public_key,
                                 GError    **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * store-keyslot.h: the keyslot file that wraps the store's data key.
 *
 * A keyslot is 300 bytes, big-endian:
 *
 *   0   8  magic "HEARTHKS"          68  24  nonce
 *   8   1  version (1)               92  48  wrapped data key (XChaCha20-Poly1305)
 *   9   1  KDF (1 = Argon2id v1.3)  140  32  county X25519 public key, or zeros
 *  10   1  flags (1 = envelope)     172  96  recovery envelope: crypto_box_seal
 *  11   1  reserved (0)                      of data key || file id, or zeros
 *  12   8  generation               268  32  BLAKE2b-256 of bytes 0-267
 *  20  16  file id
 *  36   8  Argon2id opslimit
 *  44   8  Argon2id memlimit (bytes)
 *  52  16  salt
 *
 * The wrap's associated data is bytes 0-9 and 20-67: everything that
 * decides how the key is derived and which database it opens. The
 * generation and the envelope are outside it, so that a copy can be
 * renumbered or gain an envelope without the passphrase. The checksum is
 * unkeyed: it tells accidental damage from a wrong passphrase.
 */
#pragma once

#include <glib.h>
#include "store-secret.h"

G_BEGIN_DECLS

#define HEARTH_KEYSLOT_SIZE 300
#define HEARTH_COUNTY_KEY_SIZE 32
#define HEARTH_ENVELOPE_SIZE 96

typedef enum {
  HEARTH_KDF_TEST,         /* libsodium's minimums: test suites only */
  HEARTH_KDF_INTERACTIVE,  /* 64 MiB, opslimit calibrated to about 0.5 s, at least 3 */
  HEARTH_KDF_MODERATE,     /* 256 MiB, opslimit calibrated to about 0.8 s, at least 3 */
} HearthKdfProfile;

typedef struct {
  guint64 generation;
  guint8 file_id[16];
  guint64 opslimit;
  guint64 memlimit;
  guint8 salt[16];
  guint8 nonce[24];
  guint8 wrapped[48];
  gboolean has_envelope;
  guint8 county_public_key[HEARTH_COUNTY_KEY_SIZE];
  guint8 envelope[HEARTH_ENVELOPE_SIZE];
} HearthKeyslot;

/**
 * hearth_keyslot_parse:
 * @data: (array length=len): the file's bytes
 * @out: (out caller-allocates): the parsed slot
 *
 * Parses and checks one keyslot: size, magic, version, KDF, checksum and
 * the bounds of the Argon2id parameters (a hostile slot must not make an
 * unlock take gigabytes or hours). Never reads past @len.
 *
 * Returns: %TRUE, or %FALSE with HEARTH_STORE_ERROR_KEYSLOT_CORRUPT naming
 *   the problem. Thread-safe.
 */
gboolean hearth_keyslot_parse (const guint8  *data,
                               gsize          len,
                               HearthKeyslot *out,
                               GError       **error);

/* Serialises @slot with its checksum. Returns: (transfer full). */
GBytes  *hearth_keyslot_serialise (const HearthKeyslot *slot);

/**
 * hearth_kdf_params:
 * @profile: the cost profile
 * @opslimit: (out): Argon2id passes
 * @memlimit: (out): Argon2id memory in bytes
 *
 * Chooses Argon2id parameters. The interactive and moderate profiles fix
 * the memory and calibrate the passes on this machine (the faster of two
 * Argon2id runs at 3 passes, scaled) toward their unlock-time target, never
 * below 3 nor above 32:
 * libsodium's guidance is to pick the memory first and raise the passes.
 */
void hearth_kdf_params (HearthKdfProfile profile,
                        guint64         *opslimit,
                        guint64         *memlimit);

const char *hearth_kdf_profile_describe (guint64 opslimit, guint64 memlimit);

/**
 * hearth_keyslot_wrap:
 * @slot: a slot whose file id, opslimit and memlimit are set
 * @passphrase: the passphrase
 * @data_key: the 32-byte data key
 *
 * Draws a new salt and nonce, derives the key-encryption key with Argon2id
 * and wraps @data_key.
 *
 * Returns: %TRUE, or %FALSE with HEARTH_STORE_ERROR_INTERNAL when Argon2id
 *   cannot get its memory.
 */
gboolean hearth_keyslot_wrap (HearthKeyslot      *slot,
                              const HearthSecret *passphrase,
                              const HearthSecret *data_key,
                              GError            **error);

/**
 * hearth_keyslot_unwrap:
 *
 * Returns: (transfer full) (nullable): the 32-byte data key (read-only
 *   secure memory), or %NULL with HEARTH_STORE_ERROR_WRONG_PASSPHRASE.
 */
HearthSecret *hearth_keyslot_unwrap (const HearthKeyslot *slot,
                                     const HearthSecret  *passphrase,
                                     GError             **error);

/**
 * hearth_keyslot_seal_envelope:
 *
 * Seals data key || file id to @county_public_key (crypto_box_seal).
 *
 * Returns: %TRUE, or %FALSE with HEARTH_STORE_ERROR_COUNTY_KEY when the key
 *   is not a usable X25519 public key (for example all zeros).
 */
gboolean hearth_keyslot_seal_envelope (HearthKeyslot      *slot,
                                       const HearthSecret *data_key,
                                       const guint8       *county_public_key,
                                       GError            **error);

/**
 * hearth_keyslot_open_envelope:
 * @county_secret_key: the county's 32-byte X25519 secret key
 *
 * Returns: (transfer full) (nullable): the data key, or %NULL with
 *   HEARTH_STORE_ERROR_NO_RECOVERY (no envelope) or
 *   HEARTH_STORE_ERROR_COUNTY_KEY (another county's key, or a damaged
 *   envelope).
 */
HearthSecret *hearth_keyslot_open_envelope (const HearthKeyslot *slot,
                                            const HearthSecret  *county_secret_key,
                                            GError             **error);

/*
 * The county recovery record, kept in its own file so that county IT can
 * recover a store whose keyslot copies are both lost: 204 bytes,
 * big-endian: magic "HEARTHRC" (8), version 1 (1), zeros (3), file id (16),
 * Argon2id opslimit (8) and memlimit (8) to use for the new keyslot, county
 * public key (32), envelope (96), BLAKE2b-256 of the bytes before it (32).
 * It holds no passphrase wrap, so it never keeps an old passphrase alive.
 */
#define HEARTH_RECOVERY_RECORD_SIZE 204

/* Serialises the envelope part of @slot (which must have one).
 * Returns: (transfer full). */
GBytes  *hearth_recovery_record_serialise (const HearthKeyslot *slot);

/**
 * hearth_recovery_record_parse:
 * @out: (out caller-allocates): a slot with the file id, the Argon2id
 *   parameters and the envelope set, and no wrap
 *
 * Returns: %TRUE, or %FALSE with HEARTH_STORE_ERROR_KEYSLOT_CORRUPT naming
 *   the problem. Never reads past @len. Thread-safe.
 */
gboolean hearth_recovery_record_parse (const guint8  *data,
                                       gsize          len,
                                       HearthKeyslot *out,
                                       GError       **error);

G_END_DECLS

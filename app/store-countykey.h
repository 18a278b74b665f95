/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * store-countykey.h: the county's X25519 recovery key pair and its files.
 *
 * Key files are text (../shared/INTERFACES.md, "County recovery key"):
 * a first line naming the kind, "hearth county public key v1" or
 * "hearth county secret key v1", and a second line with the 32-byte key in
 * standard base64.
 */
#pragma once

#include <glib.h>
#include "store-secret.h"

G_BEGIN_DECLS

#define HEARTH_COUNTY_PUBLIC_HEADER "hearth county public key v1"
#define HEARTH_COUNTY_SECRET_HEADER "hearth county secret key v1"

/* Generates a key pair: @public_key receives 32 bytes.
 * Returns: (transfer full): the secret key in secure memory. */
HearthSecret *hearth_county_key_generate (guint8 *public_key);

/**
 * hearth_county_key_write:
 * @path: the file to write (created 0644 for a public key, 0600 for a secret one)
 * @secret: %TRUE to write @key as a secret key
 * @key: (array fixed-size=32): the key
 *
 * Returns: %TRUE, or %FALSE with HEARTH_STORE_ERROR_IO.
 */
gboolean hearth_county_key_write (const char   *path,
                                  gboolean      secret,
                                  const guint8 *key,
                                  GError      **error);

/**
 * hearth_county_key_read_public:
 * @public_key: (out caller-allocates) (array fixed-size=32)
 *
 * Returns: %TRUE, or %FALSE with HEARTH_STORE_ERROR_BAD_FILE naming the
 *   file, the line and what is wrong.
 */
gboolean hearth_county_key_read_public (const char *path,
                                        guint8     *public_key,
                                        GError    **error);

/* Returns: (transfer full) (nullable): the secret key in secure memory, or
 * %NULL with HEARTH_STORE_ERROR_BAD_FILE. */
HearthSecret *hearth_county_key_read_secret (const char *path,
                                             GError    **error);

G_END_DECLS

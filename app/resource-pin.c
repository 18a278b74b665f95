/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "hearth-store"

#include "resource-pin.h"

#include <sodium.h>
#include <string.h>

/**
 * hearth_resource_pinned:
 * @resource: a compiled-in resource bundle
 * @path: the file's path in @resource
 * @hash: (array fixed-size=32): the BLAKE2b-256 (crypto_generichash) of the
 *   exact bytes every stored row was made with
 * @what: what the file is, for the message (developers', not translated)
 * @len: (out): its length in bytes
 *
 * Looks up a compiled-in file whose bytes must never change, such as a
 * compression dictionary: rows packed with one dictionary unpack into other
 * text with another, without a word, so a build holding other bytes must
 * stop before it packs or reads a row. A missing or other file is a broken
 * build, not an input error: it aborts with g_error() naming @what and
 * @path.
 *
 * Returns: (transfer full): the file's bytes. Thread safe; callers keep the
 *   result for the process's life (LZ4 refers to a dictionary while it works).
 */
GBytes *
hearth_resource_pinned (GResource *resource, const char *path, const guint8 *hash, const char *what)
{
  GBytes *bytes = g_resource_lookup_data (resource, path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  guint8 got[crypto_generichash_BYTES];

  if (bytes == NULL)
    g_error ("%s is not built in (%s)", what, path);
  crypto_generichash (got, sizeof got, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL, 0);
  if (memcmp (got, hash, sizeof got) != 0)
    g_error ("%s is not the one its rows were packed with (%s changed)", what, path);
  return bytes;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "store-countykey.h"
#include "store-error.h"
#include "store-file.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#define KEY_FILE_MAX 256

HearthSecret *
hearth_county_key_generate (guint8 *public_key)
{
  HearthSecret *sk = hearth_secret_new (crypto_box_SECRETKEYBYTES);

  crypto_box_keypair (public_key, hearth_secret_get_data (sk));
  return sk;
}

gboolean
hearth_county_key_write (const char *path, gboolean secret, const guint8 *key, GError **error)
{
  char b64[sodium_base64_ENCODED_LEN (32, sodium_base64_VARIANT_ORIGINAL)];
  g_autofree char *text = NULL;
  gboolean ok;

  sodium_bin2base64 (b64, sizeof b64, key, 32, sodium_base64_VARIANT_ORIGINAL);
  text = g_strdup_printf ("%s\n%s\n", secret ? HEARTH_COUNTY_SECRET_HEADER
                                             : HEARTH_COUNTY_PUBLIC_HEADER, b64);
  ok = hearth_file_replace_durably (path, text, strlen (text), secret ? 0600 : 0644, error);
  sodium_memzero (b64, sizeof b64);
  sodium_memzero (text, strlen (text));
  return ok;
}

/* Parses "HEADER\nBASE64\n" into @out (32 bytes). */
static gboolean
parse_key_file (const char *path, const char *header, guint8 *out, GError **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(HearthSecret) copy = NULL;
  const char *text, *nl, *line2, *end;
  gsize len, bin_len = 0;

  bytes = hearth_file_read_bounded (path, KEY_FILE_MAX, error);
  if (bytes == NULL)
    {
      if (error != NULL && *error != NULL && (*error)->domain == G_FILE_ERROR)
        {
          (*error)->domain = HEARTH_STORE_ERROR;
          (*error)->code = HEARTH_STORE_ERROR_BAD_FILE;
        }
      return FALSE;
    }
  /* Work on a NUL-terminated copy in secure memory: it may be a secret key. */
  len = g_bytes_get_size (bytes);
  copy = hearth_secret_new (len + 1);
  memcpy (hearth_secret_get_data (copy), g_bytes_get_data (bytes, NULL), len);
  sodium_memzero ((void *) g_bytes_get_data (bytes, NULL), len);
  text = (const char *) hearth_secret_peek (copy);

  nl = memchr (text, '\n', len);
  if (nl == NULL || (gsize) (nl - text) != strlen (header) || memcmp (text, header, nl - text) != 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE,
                   _("%s, line 1: expected \"%s\""), path, header);
      return FALSE;
    }
  line2 = nl + 1;
  end = memchr (line2, '\n', len - (line2 - text));
  if (end == NULL)
    end = text + len;
  else if (end + 1 != text + len)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE,
                   _("%s, line 3: unexpected text after the key"), path);
      return FALSE;
    }
  /* strspn(): libsodium 1.0.18's decoder takes any byte >= 0x80 for a '/'. */
  if (strspn (line2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != (gsize) (end - line2) ||
      sodium_base642bin (out, 32, line2, end - line2, NULL, &bin_len, NULL,
                         sodium_base64_VARIANT_ORIGINAL) != 0 || bin_len != 32)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE,
                   _("%s, line 2: not a 32-byte key in base64"), path);
      return FALSE;
    }
  return TRUE;
}

gboolean
hearth_county_key_read_public (const char *path, guint8 *public_key, GError **error)
{
  guint8 probe[crypto_box_SEALBYTES + 1];

  if (!parse_key_file (path, HEARTH_COUNTY_PUBLIC_HEADER, public_key, error))
    return FALSE;
  /* An all-zero or other low-order key parses but seals nothing openable. */
  if (crypto_box_seal (probe, (const guint8 *) "x", 1, public_key) != 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE,
                   _("%s, line 2: not a usable X25519 public key"), path);
      return FALSE;
    }
  return TRUE;
}

HearthSecret *
hearth_county_key_read_secret (const char *path, GError **error)
{
  g_autoptr(HearthSecret) sk = hearth_secret_new (32);

  if (!parse_key_file (path, HEARTH_COUNTY_SECRET_HEADER, hearth_secret_get_data (sk), error))
    return NULL;
  hearth_secret_seal (sk);
  return g_steal_pointer (&sk);
}

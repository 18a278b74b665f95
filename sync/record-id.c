/* SPDX-License-Identifier: GPL-3.0-or-later */
/* record-id.c: record ids, UUIDs of version 7 (RFC 9562 section 5.7). */

#include "record-id.h"
#include "hex-digit.h"

#include <sodium.h>
#include <string.h>

void
hearth_record_id_format (guint64 unix_ms, const guint8 random[10], char out[HEARTH_RECORD_ID_LEN + 1])
{
  guint8 b[16];

  /* Past 48 bits (year 10889): the last time, so that @out is always an
   * id. */
  unix_ms = MIN (unix_ms, (G_GUINT64_CONSTANT (1) << 48) - 1);
  /* unix_ts_ms, big-endian (octets 0-5). */
  for (guint i = 0; i < 6; i++)
    b[i] = (guint8) (unix_ms >> (8 * (5 - i)));
  /* ver (0111) and rand_a's 12 bits (octets 6-7). */
  b[6] = 0x70 | (random[0] & 0x0f);
  b[7] = random[1];
  /* var (10) and rand_b's 62 bits (octets 8-15). */
  b[8] = 0x80 | (random[2] & 0x3f);
  memcpy (b + 9, random + 3, 7);
  g_snprintf (out, HEARTH_RECORD_ID_LEN + 1,
              "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
              b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

char *
hearth_record_id_new (void)
{
  guint8 random[10];
  char text[HEARTH_RECORD_ID_LEN + 1];

  /* Idempotent and thread-safe; a program that called it already pays a
   * check. */
  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");
  randombytes_buf (random, sizeof random);
  /* A wall clock set before 1970 makes ids of time 0. */
  hearth_record_id_format ((guint64) MAX (0, g_get_real_time () / 1000), random, text);
  sodium_memzero (random, sizeof random);
  return g_strdup (text);
}

gboolean
hearth_record_id_time (const char *id, gsize len, guint64 *unix_ms)
{
  guint64 ms = 0;

  if (id == NULL || len != HEARTH_RECORD_ID_LEN || id[14] != '7' || (id[19] != '8' && id[19] != '9' &&
                                                                    id[19] != 'a' && id[19] != 'b'))
    return FALSE;
  for (guint i = 0; i < HEARTH_RECORD_ID_LEN; i++)
    {
      int v;

      if (i == 8 || i == 13 || i == 18 || i == 23)
        {
          if (id[i] != '-')
            return FALSE;
          continue;
        }
      /* Lowercase only, as hearth_record_id_format() writes. */
      v = hearth_hex_digit (id[i]);
      if (v < 0 || g_ascii_isupper (id[i]))
        return FALSE;
      /* The first 12 digits, dash aside, are unix_ts_ms. */
      if (i < 13)
        ms = ms << 4 | (guint64) v;
    }
  if (unix_ms != NULL)
    *unix_ms = ms;
  return TRUE;
}

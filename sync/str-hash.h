/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * str-hash.h: a string's hash eight bytes a step, inline, for the
 * in-memory tables on hot paths (the center's, and the device's pull): g_str_hash() takes a byte a
 * step, some 200 instructions for a record's id (a UUID, 36 bytes), and
 * hashed every key a compacted pull page looks up (a tenth of the
 * center's instructions for a village pull) and the records and
 * households of each pushed change in the writer's turn.
 */
#pragma once

#include <glib.h>
#include <string.h>

/* Returns: a hash of the NUL-terminated @s (not kept anywhere: only for
 * tables in memory), like g_str_hash() in use (a GHashFunc with
 * g_str_equal()). Thread-safe. */
static inline guint
hearth_str_hash (const char *s)
{
  gsize n = strlen (s);
  guint64 h = 0x9e3779b97f4a7c15u ^ n;

  for (; n >= 8; s += 8, n -= 8)
    {
      guint64 w;

      memcpy (&w, s, 8);
      h = (h ^ w) * 0xff51afd7ed558ccdu;
      h ^= h >> 32;
    }
  if (n > 0)
    {
      guint64 w = 0;

      memcpy (&w, s, n);
      h = (h ^ w) * 0xff51afd7ed558ccdu;
    }
  h ^= h >> 29;
  h *= 0xc4ceb9fe1a85ec53u;
  return (guint) (h ^ (h >> 32));
}

/* Returns: a hash of a record's name, its table @table and id @id (both
 * NUL-terminated), for the tables in memory keyed by record (the
 * writer's memo of a push, the store's record states). Thread-safe. */
static inline guint
hearth_record_hash (const char *table, const char *id)
{
  return hearth_str_hash (id) * 31 + hearth_str_hash (table);
}

/* Returns: whether two records' names (table and id each) are the same. */
static inline gboolean
hearth_record_equal (const char *table_a, const char *id_a, const char *table_b, const char *id_b)
{
  return strcmp (id_a, id_b) == 0 && strcmp (table_a, table_b) == 0;
}

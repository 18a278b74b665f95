/* SPDX-License-Identifier: GPL-3.0-or-later */
/* center-push-parse.c: the one-pass push body reader (center-push-parse.h). */
#define G_LOG_DOMAIN "hearth-center"

#include "center-push-parse.h"
#include "change-scan.h"

#include <string.h>

/* The largest block of a push's strings (see hearth_center_parse_push_fast()). */
#define PUSH_STRINGS_BLOCK (16 * 1024)
#ifdef __SSE2__
#include <emmintrin.h>
#endif

gboolean
hearth_center_push_text_is_utf8 (const char *data, gsize len)
{
  const guchar *p = (const guchar *) data;
  const guchar *end = p + len;

  while (p < end)
    {
#ifdef __SSE2__
      /* Sixteen at a time where the machine has them (every x86-64). */
      const __m128i zero = _mm_setzero_si128 ();

      while (end - p >= 16)
        {
          __m128i v = _mm_loadu_si128 ((const void *) p);

          if ((_mm_movemask_epi8 (v) | _mm_movemask_epi8 (_mm_cmpeq_epi8 (v, zero))) != 0)
            break;
          p += 16;
        }
#endif
      /* Eight bytes at a time while they are ASCII without a NUL. */
      while (end - p >= 8)
        {
          guint64 w;

          memcpy (&w, p, 8);
          if (((w | ((w & 0x7f7f7f7f7f7f7f7fULL) + 0x7f7f7f7f7f7f7f7fULL)) & 0x8080808080808080ULL) !=
              0x8080808080808080ULL || (w & 0x8080808080808080ULL) != 0)
            break;
          p += 8;
        }
      if (p == end)
        break;
      if (*p == 0)
        return FALSE;
      if (*p < 0x80)
        {
          p++;
          continue;
        }
      /* A run of bytes from 0x80: no sequence holds an ASCII byte, so the
       * run is valid alone or the text is not. */
      {
        const guchar *run = p;

        while (p < end && *p >= 0x80)
          p++;
        if (!g_utf8_validate_len ((const char *) run, (gsize) (p - run), NULL))
          return FALSE;
      }
    }
  return TRUE;
}

static gboolean
read_changes (HearthScan *r, HearthPushBatch *batch)
{
  if (!hearth_scan_take (r, '['))
    return FALSE;
  if (hearth_scan_take (r, ']'))
    return TRUE;
  do
    {
      HearthPushItem *item;
      HearthChange *c;
      HearthScanAsSent sent;

      if (batch->items->len >= HEARTH_CENTER_MAX_CHANGES ||
          (c = hearth_scan_push_change (r, HEARTH_CENTER_MAX_SEQ, &sent)) == NULL)
        return FALSE;
      item = g_new0 (HearthPushItem, 1);
      item->seq = c->seq;
      item->change = c;
      item->fields_text = sent.fields_text;
      item->fields_len = sent.fields_len;
      item->n_digest_text = sent.n_digest;
      /* Parsed by the codec's check: version_ahead() need not again. */
      if (sent.have_version)
        {
          item->version = sent.version;
          item->version_parsed = 1;
        }
      for (guint i = 0; i < sent.n_digest; i++)
        {
          item->digest_text[i] = sent.digest[i];
          item->digest_len[i] = sent.digest_len[i];
        }
      g_ptr_array_add (batch->items, item);
      if (item->seq != ((HearthPushItem *) batch->items->pdata[0])->seq + batch->items->len - 1)
        return FALSE;
    }
  while (hearth_scan_take (r, ','));
  return hearth_scan_take (r, ']');
}

HearthPushBatch *
hearth_center_parse_push_fast (const char *data, gsize len)
{
  g_autoptr(HearthPushBatch) batch = g_new0 (HearthPushBatch, 1);
  /* UTF-8 already (the caller checked it). */
  HearthScan r = { data, data + len, 0, TRUE, NULL };
  gboolean have_changes = FALSE;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  batch->items = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_push_item_free);
  /* The changes' strings, kept together rather than allocated and freed
   * one by one (a dozen a change): they are no longer than the body, so
   * one block of its size held them, but glibc's free() of a block of 64
   * KiB or more consolidates its whole arena (~110,000 instructions a
   * push, its bins walked): blocks of 16 KiB (GLib makes a larger one
   * for a longer string). */
  batch->strings = g_string_chunk_new (MIN (MAX (len, 64), PUSH_STRINGS_BLOCK));
  r.strings = batch->strings;
  if (!hearth_scan_take (&r, '{') || hearth_scan_take (&r, '}'))
    return NULL;
  do
    {
      const char *name;
      gsize name_len;

      if (!hearth_scan_name (&r, &name, &name_len))
        return NULL;
      if (HEARTH_SCAN_NAME_IS (name, name_len, "device_id"))
        {
          if (batch->device_id != NULL || (batch->device_id = hearth_scan_string (&r)) == NULL)
            return NULL;
        }
      else if (HEARTH_SCAN_NAME_IS (name, name_len, "changes"))
        {
          if (have_changes || !read_changes (&r, batch))
            return NULL;
          have_changes = TRUE;
        }
      else
        return NULL;
    }
  while (hearth_scan_take (&r, ','));
  if (!hearth_scan_take (&r, '}') || !have_changes || batch->device_id == NULL || !g_uuid_string_is_valid (batch->device_id))
    return NULL;
  /* A device id has one spelling, in lowercase (PROTOCOL.md section 4). */
  for (const char *p = batch->device_id; *p != '\0'; p++)
    if (g_ascii_isupper (*p))
      return NULL;
  if (!hearth_scan_at_end (&r))
    return NULL;
  return g_steal_pointer (&batch);
}

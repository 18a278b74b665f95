/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sync-page-scan.c: a pull page read without a JSON tree (sync-page-scan.h). */

#include "sync-page-scan.h"
#include "change-scan.h"

#include <string.h>

/* The largest number a page member holds: 18 digits, as json-glib reads
 * them exactly. */
#define MAX_NUMBER G_GINT64_CONSTANT (999999999999999999)

enum { P_CHANGES = 1 << 0, P_NEXT = 1 << 1, P_MORE = 1 << 2, P_COMPACT = 1 << 3, P_TIME = 1 << 4 };

/* The block size of a page's strings (HearthChangeStrings): a page of
 * ten thousand changes holds some 3 MB of them. */
#define PAGE_STRINGS_BLOCK (64 * 1024)

static gboolean
scan_page (HearthScan *s, gint64 cursor, HearthSyncPullPage *out)
{
  guint seen = 0;

  if (!hearth_scan_take (s, '{'))
    return FALSE;
  do
    {
      const char *name;
      gsize len;
      guint bit;
      gint64 ignored;

      if (!hearth_scan_name (s, &name, &len))
        return FALSE;
      bit = HEARTH_SCAN_NAME_IS (name, len, "changes") ? P_CHANGES
          : HEARTH_SCAN_NAME_IS (name, len, "next_cursor") ? P_NEXT
          : HEARTH_SCAN_NAME_IS (name, len, "more") ? P_MORE
          : HEARTH_SCAN_NAME_IS (name, len, "compact_until") ? P_COMPACT
          : HEARTH_SCAN_NAME_IS (name, len, "server_time") ? P_TIME : 0;
      if (bit == 0 || (seen & bit) != 0)
        return FALSE;
      seen |= bit;
      switch (bit)
        {
        case P_CHANGES:
          if (!hearth_scan_take (s, '['))
            return FALSE;
          if (hearth_scan_take (s, ']'))
            break;
          do
            {
              HearthChange *c = hearth_scan_change (s, "cursor", MAX_NUMBER);

              if (c == NULL)
                return FALSE;
              g_ptr_array_add (out->changes, c);
            }
          while (hearth_scan_take (s, ','));
          if (!hearth_scan_take (s, ']'))
            return FALSE;
          break;
        case P_NEXT:
          if (!hearth_scan_whole (s, 0, MAX_NUMBER, &out->next_cursor))
            return FALSE;
          break;
        case P_MORE:
          if (hearth_scan_word (s, "true"))
            out->more = TRUE;
          else if (!hearth_scan_word (s, "false"))
            return FALSE;
          break;
        case P_COMPACT:
          if (!hearth_scan_whole (s, 0, MAX_NUMBER, &out->compact_until))
            return FALSE;
          break;
        default:
          if (!hearth_scan_whole (s, 0, MAX_NUMBER, &ignored))
            return FALSE;
          break;
        }
    }
  while (hearth_scan_take (s, ','));
  if (!hearth_scan_take (s, '}') || !hearth_scan_at_end (s) || (seen & (P_CHANGES | P_NEXT)) != (P_CHANGES | P_NEXT))
    return FALSE;
  /* hearth_sync_read_pull_page()'s checks of the cursors. */
  if (out->next_cursor < cursor && (out->more || out->changes->len > 0))
    return FALSE;
  return !(out->more && out->next_cursor <= cursor);
}

/* Whether the @len bytes at @text (no NUL among them) are UTF-8: eight
 * bytes a step while they are ASCII, and each run of bytes from 0x80 by
 * itself (no sequence holds an ASCII byte, so the text is UTF-8 when each
 * run is). A page's strings are then not checked one by one (HearthScan's
 * utf8): g_utf8_validate_len() over a submission's whole form text, for
 * the few bytes of Chinese in it, was 85 M of the 630 M instructions of
 * reading bench-sync's village pull. */
static gboolean
text_is_utf8 (const char *text, gsize len)
{
  const guchar *p = (const guchar *) text, *end = p + len;

  while (p < end)
    {
      const guchar *run;

      while (end - p >= 8)
        {
          guint64 w;

          memcpy (&w, p, sizeof w);
          if ((w & G_GUINT64_CONSTANT (0x8080808080808080)) != 0)
            break;
          p += 8;
        }
      while (p < end && *p < 0x80)
        p++;
      run = p;
      while (p < end && *p >= 0x80)
        p++;
      if (p > run && !g_utf8_validate_len ((const char *) run, (gsize) (p - run), NULL))
        return FALSE;
    }
  return TRUE;
}

gboolean
hearth_sync_scan_pull_page (const char *body, gsize len, gint64 cursor, HearthSyncPullPage *out)
{
  HearthSyncPullPage page = { 0 };
  HearthScan s = { body, body + len };
  /* The changes' strings in blocks, not one allocation each (and one
   * free each, when the page is done): each change holds the blocks
   * (HearthChange's @strings), so they live as long as the changes. */
  g_autoptr(HearthChangeStrings) strings = hearth_change_strings_new (PAGE_STRINGS_BLOCK);

  g_return_val_if_fail (body != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  page.changes = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  page.skipped = g_ptr_array_new_with_free_func (g_free);
  page.compact_until = -1;
  if (len == 0 || memchr (body, '\0', len) != NULL)
    {
      hearth_sync_pull_page_clear (&page);
      return FALSE;
    }
  /* Not UTF-8 as a whole: each string is checked as it is read, and the
   * one that is not refuses the page as before. */
  s.utf8 = text_is_utf8 (body, len);
  s.strings = hearth_change_strings_chunk (strings);
  s.owner = strings;
  if (!scan_page (&s, cursor, &page))
    {
      hearth_sync_pull_page_clear (&page);
      return FALSE;
    }
  *out = page;
  return TRUE;
}

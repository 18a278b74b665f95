/* SPDX-License-Identifier: GPL-3.0-or-later */
/* change-scan.c: changes read straight from JSON text (change-scan.h). */

#include "change-scan.h"
#include "hex-digit.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* RFC 8259's whitespace, nothing else. */
static void
skip_ws (HearthScan *r)
{
  const char *from = r->p;

  while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
    r->p++;
  r->skipped += (gsize) (r->p - from);
}

/* hearth_scan_take(), inline: a change's text comes without whitespace
 * (a device writes none), so the byte at hand is most often @c itself or
 * no whitespace, and skip_ws() (a call, some 25 instructions) is not
 * needed; a hundred takes a change were 3% of the center's work on a
 * push. */
static inline gboolean
scan_take (HearthScan *r, char c)
{
  if (r->p < r->end && *r->p != ' ' && *r->p != '\n' && *r->p != '\r' && *r->p != '\t')
    {
      if (*r->p != c)
        return FALSE;
      r->p++;
      return TRUE;
    }
  skip_ws (r);
  if (r->p < r->end && *r->p == c)
    {
      r->p++;
      return TRUE;
    }
  return FALSE;
}

/* Skips whitespace, then takes @c when it comes next. */
gboolean
hearth_scan_take (HearthScan *r, char c)
{
  return scan_take (r, c);
}

/* What a byte is inside a string: 0 ends a run of plain bytes (the
 * quote, the backslash, a control character), 1 is printable ASCII, 2
 * part of a UTF-8 sequence (checked once the string's end is known). */
static const guint8 byte_class[256] = {
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* Word-at-a-time tests (any byte of @w …): exact for "any", whatever
 * the bytes (their high bits included). */
#define ONES G_GUINT64_CONSTANT (0x0101010101010101)
#define HIGHS G_GUINT64_CONSTANT (0x8080808080808080)
#define ANY_BELOW(w, n) (((w) - ONES * (n)) & ~(w) & HIGHS)
#define ANY_ZERO(w) ANY_BELOW (w, 1)

/* Takes the run of plain bytes from @r; ORs their classes into *@seen
 * (bit 2 set: a byte of a UTF-8 sequence came). Eight bytes at a time
 * while none of them ends the run: a submission's form is kilobytes. */
static inline void
skip_plain (HearthScan *r, guint *seen)
{
  const guchar *p = (const guchar *) r->p, *end = (const guchar *) r->end;
  guint64 high = 0;
  guint k, acc = 0;

#ifdef __SSE2__
  /* Sixteen bytes at a time where the machine has them (every x86-64):
   * the eight-byte test below took some 30 instructions a step, a
   * twentieth of the center's work on a push. Stops at the first byte of
   * class 0 (a quote, a backslash, a control character), the same bytes
   * the loops below stop at. */
  {
    const __m128i quote = _mm_set1_epi8 ('"');
    const __m128i backslash = _mm_set1_epi8 ('\\');
    const __m128i control = _mm_set1_epi8 (0x1f);
    guint highs = 0;

    while (end - p >= 16)
      {
        __m128i v = _mm_loadu_si128 ((const void *) p);
        /* max (v, 0x1f) == 0x1f: v is at most 0x1f, unsigned. */
        __m128i stops = _mm_or_si128 (_mm_or_si128 (_mm_cmpeq_epi8 (v, quote), _mm_cmpeq_epi8 (v, backslash)),
                                      _mm_cmpeq_epi8 (_mm_max_epu8 (v, control), control));
        guint stop = (guint) _mm_movemask_epi8 (stops);
        guint bytes_high = (guint) _mm_movemask_epi8 (v);

        if (stop != 0)
          {
            guint n = (guint) __builtin_ctz (stop);

            highs |= bytes_high & ((1u << n) - 1);
            if (highs != 0)
              acc |= 2;
            *seen |= acc;
            r->p = (const char *) p + n;
            return;
          }
        highs |= bytes_high;
        p += 16;
      }
    if (highs != 0)
      acc |= 2;
  }
#endif
  while (end - p >= 8)
    {
      guint64 w;

      memcpy (&w, p, sizeof w);
      if (ANY_BELOW (w, 0x20) | ANY_ZERO (w ^ (ONES * '"')) | ANY_ZERO (w ^ (ONES * '\\')))
        break;
      high |= w;
      p += 8;
    }
  while (p < end && (k = byte_class[*p]) != 0)
    {
      acc |= k;
      p++;
    }
  if ((high & HIGHS) != 0)
    acc |= 2;
  *seen |= acc;
  r->p = (const char *) p;
}

/* Four hex digits after "\u"; -1 when they are not. */
static int
read_u16 (HearthScan *r)
{
  int v = 0;

  if (r->end - r->p < 4)
    return -1;
  for (int i = 0; i < 4; i++)
    {
      int d = hearth_hex_digit (r->p[i]);

      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
  r->p += 4;
  return v;
}

/* The rest of a string with escapes, from @r at its first backslash;
 * @text holds what came before. NUL, a lone surrogate or a raw control
 * character gives up. */
static char *
read_escaped (HearthScan *r, GString *text, guint seen, gboolean keep)
{
  while (r->p < r->end)
    {
      const char *run = r->p;
      guchar ch;

      skip_plain (r, &seen);
      g_string_append_len (text, run, r->p - run);
      if (r->p >= r->end)
        break;
      ch = (guchar) *r->p++;
      if (ch == '"')
        {
          /* The escapes wrote whole characters: the text's own bytes
           * are what may not be UTF-8. */
          if (text->len > HEARTH_CHANGE_MAX_VALUE ||
              ((seen & 2) != 0 && !r->utf8 && !g_utf8_validate_len (text->str, text->len, NULL)))
            break;
          if (keep && r->strings != NULL)
            {
              char *kept = g_string_chunk_insert_len (r->strings, text->str, (gssize) text->len);

              g_string_free (text, TRUE);
              return kept;
            }
          return g_string_free (text, FALSE);
        }
      if (ch != '\\' || r->p >= r->end)
        break;
      switch (*r->p++)
        {
        case '"': g_string_append_c (text, '"'); continue;
        case '\\': g_string_append_c (text, '\\'); continue;
        case '/': g_string_append_c (text, '/'); continue;
        case 'b': g_string_append_c (text, '\b'); continue;
        case 'f': g_string_append_c (text, '\f'); continue;
        case 'n': g_string_append_c (text, '\n'); continue;
        case 'r': g_string_append_c (text, '\r'); continue;
        case 't': g_string_append_c (text, '\t'); continue;
        case 'u':
          {
            int u = read_u16 (r);
            gunichar cp;

            if (u <= 0 || (u >= 0xdc00 && u <= 0xdfff))
              break;
            cp = (gunichar) u;
            if (u >= 0xd800 && u <= 0xdbff)
              {
                int low;

                if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
                  break;
                r->p += 2;
                low = read_u16 (r);
                if (low < 0xdc00 || low > 0xdfff)
                  break;
                cp = 0x10000 + (((gunichar) u - 0xd800) << 10) + ((gunichar) low - 0xdc00);
              }
            g_string_append_unichar (text, cp);
            continue;
          }
        default:
          break;
        }
      break;
    }
  g_string_free (text, TRUE);
  return NULL;
}

/* A string value (skipping whitespace before it): UTF-8 without NUL of
 * at most HEARTH_CHANGE_MAX_VALUE bytes, checked here once
 * (hearth_change_valid_scanned()). Returns: (transfer full) (nullable). */
static char *scan_string (HearthScan *r, gboolean keep);

char *
hearth_scan_string (HearthScan *r)
{
  return scan_string (r, FALSE);
}

/* A string of a change: in @r's strings when it has them (borrowed),
 * else allocated. */
static inline char *
scan_text (HearthScan *r)
{
  return scan_string (r, TRUE);
}

/* Frees what scan_text() gave, unless @r keeps it. */
static inline void
drop_text (HearthScan *r, char *text)
{
  if (r->strings == NULL)
    g_free (text);
}

/* hearth_scan_string(), the string kept in @r's strings when @keep and
 * it has them. */
static char *
scan_string (HearthScan *r, gboolean keep)
{
  const char *start;
  guint seen = 0;
  gsize len;
  char *text;

  if (!scan_take (r, '"'))
    return NULL;
  start = r->p;
  skip_plain (r, &seen);
  if (r->p >= r->end || (guchar) *r->p < 0x20)
    return NULL;
  if (*r->p == '\\')
    return read_escaped (r, g_string_new_len (start, r->p - start), seen, keep);
  len = (gsize) (r->p - start);
  /* The quote and the backslash are ASCII, never inside a sequence: the
   * string's bytes are these whatever their encoding. */
  if (len > HEARTH_CHANGE_MAX_VALUE || ((seen & 2) != 0 && !r->utf8 && !g_utf8_validate_len (start, len, NULL)))
    return NULL;
  if (keep && r->strings != NULL)
    text = g_string_chunk_insert_len (r->strings, start, (gssize) len);
  else
    {
      text = g_malloc (len + 1);
      memcpy (text, start, len);
      text[len] = '\0';
    }
  r->p++;
  return text;
}



gboolean
hearth_scan_at_end (HearthScan *r)
{
  skip_ws (r);
  return r->p == r->end;
}

gboolean
hearth_scan_whole (HearthScan *r, gint64 min, gint64 max, gint64 *out)
{
  gint64 v = 0;
  int digits = 0;

  skip_ws (r);
  while (r->p < r->end && g_ascii_isdigit (*r->p))
    {
      if (++digits > 18 || (digits == 2 && v == 0))
        return FALSE;
      v = v * 10 + (*r->p++ - '0');
    }
  if (digits == 0 || (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E')) || v < min || v > max)
    return FALSE;
  *out = v;
  return TRUE;
}

gboolean
hearth_scan_word (HearthScan *r, const char *word)
{
  gsize n = strlen (word);

  skip_ws (r);
  if ((gsize) (r->end - r->p) < n || memcmp (r->p, word, n) != 0)
    return FALSE;
  /* Not taken when more letters follow: "truefalse" is no "true" the
   * caller may try "false" after. */
  if (r->p + n < r->end && g_ascii_isalnum (r->p[n]))
    return FALSE;
  r->p += n;
  return TRUE;
}

/* The string members of a change, by their place here ("kind" is read
 * apart). */
enum { M_TABLE, M_ID, M_HOUSEHOLD, M_VILLAGE, M_FIELD, M_VALUE, M_HLC, M_WALL, N_STRINGS };
static const char *const string_members[N_STRINGS] = { "table", "id", "household", "village",
                                                       "field", "value", "hlc", "wall" };
static const guint8 string_member_len[N_STRINGS] = { 5, 2, 9, 7, 5, 5, 3, 4 };
/* Allocated even for a borrowed change (change.h). */
#define OWN_STRING(i) ((i) == M_HLC || (i) == M_HOUSEHOLD || (i) == M_VILLAGE)

/* A string without escapes nor control characters, in place: @text,
 * @len bytes. */
static gboolean
scan_plain (HearthScan *r, const char **text, gsize *len)
{
  const char *start;
  guint seen = 0;

  if (!scan_take (r, '"'))
    return FALSE;
  start = r->p;
  skip_plain (r, &seen);
  if (r->p >= r->end || *r->p != '"')
    return FALSE;
  *text = start;
  *len = (gsize) (r->p - start);
  r->p++;
  return TRUE;
}

/* A member's name, without escapes (no name the protocol has needs one),
 * and its colon: borrowed from the body, @len long. */
gboolean
hearth_scan_name (HearthScan *r, const char **name, gsize *len)
{
  return scan_plain (r, name, len) && scan_take (r, ':');
}

static GPtrArray *
read_parents (HearthScan *r)
{
  g_autoptr(GPtrArray) parents = g_ptr_array_new_with_free_func (g_free);

  if (!scan_take (r, '['))
    return NULL;
  if (scan_take (r, ']'))
    return g_steal_pointer (&parents);
  do
    {
      char *hlc = hearth_scan_string (r);

      if (hlc == NULL)
        return NULL;
      g_ptr_array_add (parents, hlc);
      if (parents->len > HEARTH_CHANGE_MAX_PARENTS)
        return NULL;
    }
  while (scan_take (r, ','));
  if (!scan_take (r, ']'))
    return NULL;
  return g_steal_pointer (&parents);
}

/* One field of an "edits" change: {"value": "…", "parents": […]}, the
 * value required, nothing else; *@field is taken. */
static gboolean
read_field_edit (HearthScan *r, HearthChange *c, char **field, gboolean *as_written)
{
  char *value = NULL;
  g_autoptr(GPtrArray) parents = NULL;

  if (!scan_take (r, '{'))
    return FALSE;
  do
    {
      const char *name;
      gsize len;

      if (!hearth_scan_name (r, &name, &len))
        goto fail;
      if (HEARTH_SCAN_NAME_IS (name, len, "value"))
        {
          if (value != NULL || (value = scan_text (r)) == NULL)
            goto fail;
          /* As written: "value" first, then "parents" (change.c). */
          *as_written = *as_written && parents == NULL;
        }
      else if (HEARTH_SCAN_NAME_IS (name, len, "parents"))
        {
          if (parents != NULL || (parents = read_parents (r)) == NULL)
            goto fail;
        }
      else
        goto fail;
    }
  while (scan_take (r, ','));
  if (!scan_take (r, '}') || value == NULL || c->edits->len >= HEARTH_CHANGE_MAX_FIELDS)
    goto fail;
  *as_written = *as_written && parents != NULL;
  /* FALSE for a field twice. */
  return hearth_change_take_edit (c, g_steal_pointer (field), g_steal_pointer (&value), g_steal_pointer (&parents));

fail:
  drop_text (r, value);
  return FALSE;
}

/* A "fields" object: a record's strings into *@fields, or an "edits"
 * change's field edits into *@edits (a change of that kind), as its first
 * member's value says. */
/* Whether the byte at @r is @c (no whitespace before it). */
static inline gboolean
next_is (const HearthScan *r, char c)
{
  return r->p < r->end && *r->p == c;
}

/* A record's "fields" object as it came, from @start to @end, is what
 * hearth_change_append_fields_json() writes of it (json-glib 1.6's
 * escaping, change.c) when it has no whitespace between its tokens
 * (@tight), its names in strcmp() order (@sorted), no byte 0x7f (written
 * escaped) and only the escapes that writer writes: \" \\ \b \t \n \f \r
 * and \u00xx in lowercase for the other bytes from 0x01 to 0x1e (a
 * submission's form holds quotes and line ends). The strings were read
 * already: every escape is whole. */
static gboolean escapes_as_written (const char *start, const char *end);

static gboolean
fields_as_written (const char *start, const char *end, gboolean sorted, gboolean tight)
{
  return sorted && tight && escapes_as_written (start, end);
}

/* Whether the strings from @start to @end (JSON text read already, every
 * escape whole) hold no byte 0x7f and only the escapes
 * hearth_change_append_json() writes (fields_as_written()). */
static gboolean
escapes_as_written (const char *start, const char *end)
{
  const char *p = start;

  if (memchr (start, 0x7f, (gsize) (end - start)) != NULL)
    return FALSE;
  while ((p = memchr (p, '\\', (gsize) (end - p))) != NULL)
    {
      int v;

      switch (p[1])
        {
        case '"': case '\\': case 'b': case 't': case 'n': case 'f': case 'r':
          p += 2;
          continue;
        case 'u':
          if (p[2] != '0' || p[3] != '0' || !g_ascii_isxdigit (p[4]) || g_ascii_isupper (p[4]) ||
              !g_ascii_isxdigit (p[5]) || g_ascii_isupper (p[5]))
            return FALSE;
          v = g_ascii_xdigit_value (p[4]) * 16 + g_ascii_xdigit_value (p[5]);
          if (v == '\b' || v == '\t' || v == '\n' || v == '\f' || v == '\r' || v < 0x01 || v > 0x1e)
            return FALSE;
          p += 6;
          continue;
        default:
          return FALSE;
        }
    }
  return TRUE;
}

/* A record's table of fields, which frees its strings unless @r keeps
 * them. */
static GHashTable *
new_fields (HearthScan *r)
{
  return r->strings != NULL ? g_hash_table_new (g_str_hash, g_str_equal)
                            : g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static gboolean
read_fields (HearthScan *r, GHashTable **fields, HearthChange **edits, const char **text, gsize *text_len,
             gboolean *edits_as_written)
{
  g_autoptr(GHashTable) strings = NULL;
  g_autoptr(HearthChange) holder = NULL;
  const char *start, *prev = NULL;
  gboolean sorted = TRUE, tight = TRUE;

  *text = NULL;
  *text_len = 0;
  skip_ws (r);
  start = r->p;
  if (!scan_take (r, '{'))
    return FALSE;
  /* Before the take of '}' below, which skips whitespace whether or not
   * the object is empty. */
  tight = next_is (r, '"');
  if (scan_take (r, '}'))
    {
      *fields = new_fields (r);
      if (r->p - start == 2)
        {
          *text = start;
          *text_len = 2;
        }
      return TRUE;
    }
  do
    {
      char *name;

      tight = tight && next_is (r, '"');
      name = scan_text (r);
      if (name == NULL)
        return FALSE;
      tight = tight && next_is (r, ':');
      if (!scan_take (r, ':'))
        {
          drop_text (r, name);
          return FALSE;
        }
      /* Before the first member's skip_ws() below. */
      tight = tight && next_is (r, '"');
      if (strings == NULL && holder == NULL)
        {
          /* The first value says which; the rest must follow it. */
          skip_ws (r);
          if (r->p < r->end && *r->p == '{')
            holder = r->strings != NULL ? hearth_change_new_borrowed (HEARTH_CHANGE_EDITS)
                                        : hearth_change_new (HEARTH_CHANGE_EDITS);
          else
            strings = new_fields (r);
        }
      if (holder != NULL)
        {
          /* Names in strcmp() order, as the edits are kept and written
           * (their names need no escape: hearth_change_valid()). */
          *edits_as_written = *edits_as_written && (prev == NULL || strcmp (prev, name) < 0);
          /* The edit takes the name and keeps it (or the read fails). */
          prev = name;
          if (!read_field_edit (r, holder, &name, edits_as_written))
            {
              /* NULL when the edit took it. */
              drop_text (r, name);
              return FALSE;
            }
        }
      else
        {
          char *value;
          gboolean after = prev == NULL || strcmp (prev, name) < 0;

          tight = tight && next_is (r, '"');
          /* Names in strcmp() order so far (as a device writes them): this
           * one is after all those before, none of which it can be. */
          if ((!(sorted && after) && g_hash_table_contains (strings, name)) ||
              g_hash_table_size (strings) >= HEARTH_CHANGE_MAX_FIELDS || (value = scan_text (r)) == NULL)
            {
              drop_text (r, name);
              return FALSE;
            }
          tight = tight && (next_is (r, ',') || next_is (r, '}'));
          sorted = sorted && after;
          prev = name;
          g_hash_table_insert (strings, name, value);
        }
    }
  while (scan_take (r, ','));
  if (!scan_take (r, '}'))
    return FALSE;
  if (strings != NULL && fields_as_written (start, r->p, sorted, tight))
    {
      *text = start;
      *text_len = (gsize) (r->p - start);
    }
  *fields = g_steal_pointer (&strings);
  *edits = g_steal_pointer (&holder);
  return TRUE;
}

/* A change's members by their place in the text
 * hearth_change_append_json() writes (the number first). */
enum { R_NUMBER, R_KIND, R_TABLE, R_ID, R_HOUSEHOLD, R_VILLAGE, R_FIELD, R_VALUE, R_HLC, R_PARENTS, R_FIELDS,
       R_WALL };
static const guint8 string_member_rank[N_STRINGS] = { R_TABLE, R_ID, R_HOUSEHOLD, R_VILLAGE,
                                                      R_FIELD, R_VALUE, R_HLC, R_WALL };
#define RANK_BIT(rank) (1u << (rank))

static HearthChange *scan_change (HearthScan *r, const char *number_name, gint64 max, const char **fields_text,
                                  gsize *fields_len, HearthScanAsSent *sent);

HearthChange *
hearth_scan_change (HearthScan *r, const char *number_name, gint64 max)
{
  const char *text;
  gsize len;

  return scan_change (r, number_name, max, &text, &len, NULL);
}

HearthChange *
hearth_scan_change_fields (HearthScan *r, const char *number_name, gint64 max, const char **fields_text,
                           gsize *fields_len)
{
  return scan_change (r, number_name, max, fields_text, fields_len, NULL);
}

HearthChange *
hearth_scan_push_change (HearthScan *r, gint64 max, HearthScanAsSent *sent)
{
  return scan_change (r, "seq", max, &sent->fields_text, &sent->fields_len, sent);
}

/* With @sent, whether the change object from @start to @end, read into
 * @c, is the text hearth_change_append_json (@c, FALSE, …) writes: no
 * white space in it (@tight), its members in that writer's order, each
 * its kind writes (@seen, in R_ bits, and @ordered), an "edits" change's
 * fields as written (@edits_as_written), a record's fields as written
 * (@fields_text, @fields_len), and only that writer's escapes. Then the digest's text
 * is the object less its number and, right after "id" (which ends at
 * @id_end), "household" and "village" (the last of the three ends at
 * @place_end). */
static void
as_sent (HearthScanAsSent *sent, const HearthChange *c, const char *start, const char *end, const char *kind_start,
         const char *id_end, const char *place_end, guint seen, gboolean ordered, gboolean tight,
         gboolean edits_as_written, const char *fields_text, gsize fields_len)
{
  guint want = RANK_BIT (R_NUMBER) | RANK_BIT (R_KIND) | RANK_BIT (R_TABLE) | RANK_BIT (R_ID);

  sent->n_digest = 0;
  switch (c->kind)
    {
    case HEARTH_CHANGE_EDIT:
      want |= RANK_BIT (R_FIELD) | RANK_BIT (R_VALUE) | RANK_BIT (R_HLC) | RANK_BIT (R_PARENTS);
      break;
    case HEARTH_CHANGE_EDITS:
      want |= RANK_BIT (R_HLC) | RANK_BIT (R_FIELDS);
      if (!edits_as_written)
        return;
      break;
    case HEARTH_CHANGE_RECORD:
    default:
      want |= RANK_BIT (R_FIELDS);
      if (fields_text == NULL)
        return;
      break;
    }
  if (!tight || !ordered || (seen & want) != want || kind_start == NULL || id_end == NULL || place_end == NULL)
    return;
  /* A record's fields were checked already (fields_as_written()): the
   * rest of the object around them only. */
  if (fields_text != NULL ? !escapes_as_written (start, fields_text) ||
                              !escapes_as_written (fields_text + fields_len, end)
                          : !escapes_as_written (start, end))
    return;
  sent->digest[0] = start;           /* "{" */
  sent->digest_len[0] = 1;
  sent->digest[1] = kind_start;      /* "kind":…,"table":…,"id":"…" */
  sent->digest_len[1] = (gsize) (id_end - kind_start);
  sent->digest[2] = place_end;       /* ,"field":… to the closing brace */
  sent->digest_len[2] = (gsize) (end - place_end);
  sent->n_digest = 3;
}

static HearthChange *
scan_change (HearthScan *r, const char *number_name, gint64 max, const char **fields_text, gsize *fields_len,
             HearthScanAsSent *sent)
{
  gsize number_len = strlen (number_name);
  gint64 number = 0;
  char *strings[N_STRINGS] = { NULL };
  g_autoptr(GPtrArray) parents = NULL;
  g_autoptr(GHashTable) fields = NULL;
  g_autoptr(HearthChange) edits = NULL;
  gboolean have_number = FALSE;
  gboolean have_fields = FALSE;
  HearthChange *c = NULL;
  const char *kind_name = NULL;
  const char *text = NULL;
  gsize text_len = 0;
  HearthChangeKind kind;
  /* For @sent: the object's start, the white space skipped before it,
   * the members seen (R_ bits) and whether in order so far. */
  const char *start = NULL, *kind_start = NULL, *id_end = NULL, *place_end = NULL;
  gsize skipped = 0;
  guint seen = 0;
  int last_rank = -1;
  gboolean ordered = TRUE, edits_as_written = TRUE;

  *fields_text = NULL;
  *fields_len = 0;
  if (sent != NULL)
    {
      sent->n_digest = 0;
      sent->have_version = FALSE;
    }
  if (!scan_take (r, '{'))
    goto out;
  start = r->p - 1;
  skipped = r->skipped;
  if (scan_take (r, '}'))
    goto out;
  do
    {
      const char *name;
      const char *member = r->p;
      gsize len;
      guint i;
      int rank;

      if (!hearth_scan_name (r, &name, &len))
        goto out;
      if (len == number_len && memcmp (name, number_name, len) == 0)
        {
          if (have_number || !hearth_scan_whole (r, 1, max, &number))
            goto out;
          have_number = TRUE;
          rank = R_NUMBER;
        }
      else if (HEARTH_SCAN_NAME_IS (name, len, "parents"))
        {
          if (parents != NULL || (parents = read_parents (r)) == NULL)
            goto out;
          rank = R_PARENTS;
        }
      else if (HEARTH_SCAN_NAME_IS (name, len, "fields"))
        {
          if (have_fields || !read_fields (r, &fields, &edits, &text, &text_len, &edits_as_written))
            goto out;
          have_fields = TRUE;
          rank = R_FIELDS;
        }
      else if (HEARTH_SCAN_NAME_IS (name, len, "kind"))
        {
          /* Compared in place: only a kind's own spelling, no escapes. */
          const char *word;
          gsize word_len;

          if (kind_name != NULL || !scan_plain (r, &word, &word_len))
            goto out;
          kind_name = HEARTH_SCAN_NAME_IS (word, word_len, "edit")     ? "edit"
                    : HEARTH_SCAN_NAME_IS (word, word_len, "edits")  ? "edits"
                    : HEARTH_SCAN_NAME_IS (word, word_len, "record") ? "record" : NULL;
          if (kind_name == NULL)
            goto out;
          rank = R_KIND;
          kind_start = member;
        }
      else
        {
          for (i = 0; i < N_STRINGS; i++)
            if (len == string_member_len[i] && memcmp (name, string_members[i], len) == 0)
              break;
          /* The version and the household are the change's own even
           * when the rest is borrowed: the center may clamp the one and
           * set the other (center-sync.c). */
          if (i == N_STRINGS || strings[i] != NULL ||
              (strings[i] = OWN_STRING (i) ? hearth_scan_string (r) : scan_text (r)) == NULL)
            goto out;
          rank = string_member_rank[i];
        }
      ordered = ordered && rank > last_rank;
      last_rank = rank;
      seen |= RANK_BIT (rank);
      if (rank == R_ID)
        id_end = r->p;
      if (rank == R_ID || rank == R_HOUSEHOLD || rank == R_VILLAGE)
        place_end = r->p;
    }
  while (scan_take (r, ','));
  if (!scan_take (r, '}') || !have_number || kind_name == NULL)
    goto out;

  /* What the codec would read of the change, and nothing it would skip:
   * the members of the other kinds are not a device's. */
  if (strcmp (kind_name, "edit") == 0)
    {
      kind = HEARTH_CHANGE_EDIT;
      if (have_fields)
        goto out;
    }
  else if (strcmp (kind_name, "edits") == 0)
    {
      kind = HEARTH_CHANGE_EDITS;
      if (edits == NULL || parents != NULL || strings[M_FIELD] != NULL || strings[M_VALUE] != NULL)
        goto out;
    }
  else if (strcmp (kind_name, "record") == 0)
    {
      kind = HEARTH_CHANGE_RECORD;
      if (fields == NULL || parents != NULL || strings[M_FIELD] != NULL || strings[M_VALUE] != NULL ||
          strings[M_HLC] != NULL || strings[M_WALL] != NULL)
        goto out;
    }
  else
    goto out;

  /* What hearth_change_new() makes, but with the parents, fields or
   * field edits read here instead of an empty set made to be thrown away. */
  if (kind == HEARTH_CHANGE_EDITS)
    c = g_steal_pointer (&edits);
  else
    {
      c = g_new0 (HearthChange, 1);
      c->borrowed = r->strings != NULL;
    }
  c->kind = kind;
  if (r->owner != NULL)
    c->strings = hearth_change_strings_ref (r->owner);
  if (strcmp (number_name, "seq") == 0)
    c->seq = number;
  else
    c->cursor = number;
  c->table = g_steal_pointer (&strings[M_TABLE]);
  c->id = g_steal_pointer (&strings[M_ID]);
  c->household = g_steal_pointer (&strings[M_HOUSEHOLD]);
  c->village = g_steal_pointer (&strings[M_VILLAGE]);
  if (kind != HEARTH_CHANGE_RECORD)
    {
      c->hlc = g_steal_pointer (&strings[M_HLC]);
      c->wall = g_steal_pointer (&strings[M_WALL]);
    }
  if (kind == HEARTH_CHANGE_EDIT)
    {
      c->field = g_steal_pointer (&strings[M_FIELD]);
      c->value = g_steal_pointer (&strings[M_VALUE]);
      c->parents = parents != NULL ? g_steal_pointer (&parents) : g_ptr_array_new_with_free_func (g_free);
    }
  else if (kind == HEARTH_CHANGE_RECORD)
    c->fields = g_steal_pointer (&fields);
  if (!hearth_change_valid_scanned (c, sent != NULL ? &sent->version : NULL))
    g_clear_pointer (&c, hearth_change_free);
  else
    {
      if (sent != NULL)
        sent->have_version = kind == HEARTH_CHANGE_EDIT || kind == HEARTH_CHANGE_EDITS;
      if (kind == HEARTH_CHANGE_RECORD)
        {
          *fields_text = text;
          *fields_len = text_len;
        }
      if (sent != NULL)
        as_sent (sent, c, start, r->p, kind_start, id_end, place_end, seen, ordered, r->skipped == skipped, edits_as_written,
                 *fields_text, *fields_len);
    }

out:
  for (guint i = 0; i < N_STRINGS; i++)
    if (OWN_STRING (i))
      g_free (strings[i]);
    else
      drop_text (r, strings[i]);
  return c;
}


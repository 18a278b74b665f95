/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sync-page-scan.c: a pull page read without a JSON tree (sync-page-scan.h). */

#include "sync-page-scan.h"

#include <string.h>

typedef struct {
  const char *p;
  const char *end;
} Scan;

static void
skip_space (Scan *s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
    s->p++;
}

/* Takes @ch, after white space, if it comes next. */
static gboolean
take (Scan *s, char ch)
{
  skip_space (s);
  if (s->p < s->end && *s->p == ch)
    {
      s->p++;
      return TRUE;
    }
  return FALSE;
}

/* A string, its escapes undone; NULL for anything but a plain one (a
 * \u escape, a control character, the end of the body). */
static char *
scan_string (Scan *s)
{
  const char *q;
  GString *out;

  if (!take (s, '"'))
    return NULL;
  /* Mostly without escapes: copied at once. */
  for (q = s->p; q < s->end && *q != '"' && *q != '\\' && (guchar) *q >= 0x20; q++)
    ;
  if (q < s->end && *q == '"')
    {
      char *text = g_strndup (s->p, (gsize) (q - s->p));

      s->p = q + 1;
      return text;
    }
  out = g_string_new_len (s->p, q - s->p);
  while (q < s->end && (guchar) *q >= 0x20)
    {
      if (*q == '"')
        {
          s->p = q + 1;
          return g_string_free (out, FALSE);
        }
      if (*q != '\\')
        {
          g_string_append_c (out, *q++);
          continue;
        }
      if (q + 1 >= s->end)
        break;
      switch (q[1])
        {
        case '"': g_string_append_c (out, '"'); break;
        case '\\': g_string_append_c (out, '\\'); break;
        case '/': g_string_append_c (out, '/'); break;
        case 'b': g_string_append_c (out, '\b'); break;
        case 'f': g_string_append_c (out, '\f'); break;
        case 'n': g_string_append_c (out, '\n'); break;
        case 'r': g_string_append_c (out, '\r'); break;
        case 't': g_string_append_c (out, '\t'); break;
        default:
          g_string_free (out, TRUE);
          return NULL;
        }
      q += 2;
    }
  g_string_free (out, TRUE);
  return NULL;
}

/* A whole number from 0, without a sign, leading zeros, a fraction or an
 * exponent, of at most 18 digits. */
static gboolean
scan_number (Scan *s, gint64 *out)
{
  gint64 v = 0;
  int n = 0;

  skip_space (s);
  while (s->p < s->end && g_ascii_isdigit (*s->p))
    {
      if (++n > 18 || (n == 2 && v == 0))
        return FALSE;
      v = v * 10 + (*s->p++ - '0');
    }
  if (n == 0 || (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E')))
    return FALSE;
  *out = v;
  return TRUE;
}

static gboolean
scan_word (Scan *s, const char *word)
{
  gsize n = strlen (word);

  skip_space (s);
  if ((gsize) (s->end - s->p) < n || memcmp (s->p, word, n) != 0)
    return FALSE;
  s->p += n;
  return s->p >= s->end || !g_ascii_isalnum (*s->p);
}

/* The members of a change, as a bit each: none may come twice. */
enum {
  M_CURSOR = 1 << 0, M_KIND = 1 << 1, M_TABLE = 1 << 2, M_ID = 1 << 3, M_HOUSEHOLD = 1 << 4, M_VILLAGE = 1 << 5,
  M_FIELD = 1 << 6, M_VALUE = 1 << 7, M_HLC = 1 << 8, M_PARENTS = 1 << 9, M_WALL = 1 << 10, M_FIELDS = 1 << 11,
};

static const struct {
  const char *name;
  guint bit;
  gsize offset;   /* of its string in HearthChange, or 0 */
} members[] = {
  { "cursor", M_CURSOR, 0 },
  { "kind", M_KIND, 0 },
  { "table", M_TABLE, G_STRUCT_OFFSET (HearthChange, table) },
  { "id", M_ID, G_STRUCT_OFFSET (HearthChange, id) },
  { "household", M_HOUSEHOLD, G_STRUCT_OFFSET (HearthChange, household) },
  { "village", M_VILLAGE, G_STRUCT_OFFSET (HearthChange, village) },
  { "field", M_FIELD, G_STRUCT_OFFSET (HearthChange, field) },
  { "value", M_VALUE, G_STRUCT_OFFSET (HearthChange, value) },
  { "hlc", M_HLC, G_STRUCT_OFFSET (HearthChange, hlc) },
  { "parents", M_PARENTS, 0 },
  { "wall", M_WALL, G_STRUCT_OFFSET (HearthChange, wall) },
  { "fields", M_FIELDS, 0 },
};

/* "parents": an array of strings. */
static gboolean
scan_parents (Scan *s, GPtrArray *parents)
{
  if (!take (s, '['))
    return FALSE;
  if (take (s, ']'))
    return TRUE;
  do
    {
      char *p = scan_string (s);

      if (p == NULL)
        return FALSE;
      g_ptr_array_add (parents, p);
    }
  while (take (s, ','));
  return take (s, ']');
}

/* "fields": an object of strings, no name twice. */
static gboolean
scan_fields (Scan *s, GHashTable *fields)
{
  if (!take (s, '{'))
    return FALSE;
  if (take (s, '}'))
    return TRUE;
  do
    {
      g_autofree char *name = scan_string (s);
      char *value;

      if (name == NULL || !take (s, ':') || g_hash_table_contains (fields, name) || (value = scan_string (s)) == NULL)
        return FALSE;
      g_hash_table_insert (fields, g_steal_pointer (&name), value);
    }
  while (take (s, ','));
  return take (s, '}');
}

/* One change object; NULL for anything hearth_change_from_json() might
 * read otherwise. Edits and records hold their own kind's members only. */
static HearthChange *
scan_change (Scan *s)
{
  g_autoptr(HearthChange) c = hearth_change_new (HEARTH_CHANGE_EDIT);
  g_autoptr(GHashTable) fields = NULL;
  gboolean record = FALSE;
  guint seen = 0;

  if (!take (s, '{'))
    return NULL;
  do
    {
      g_autofree char *name = scan_string (s);
      guint m;

      if (name == NULL || !take (s, ':'))
        return NULL;
      for (m = 0; m < G_N_ELEMENTS (members) && strcmp (members[m].name, name) != 0; m++)
        ;
      if (m == G_N_ELEMENTS (members) || (seen & members[m].bit) != 0)
        return NULL;
      seen |= members[m].bit;
      if (members[m].offset != 0)
        {
          char **slot = G_STRUCT_MEMBER_P (c, members[m].offset);

          if ((*slot = scan_string (s)) == NULL)
            return NULL;
        }
      else if (members[m].bit == M_CURSOR)
        {
          if (!scan_number (s, &c->cursor) || c->cursor < 1)
            return NULL;
        }
      else if (members[m].bit == M_KIND)
        {
          g_autofree char *kind = scan_string (s);

          if (g_strcmp0 (kind, "record") == 0)
            record = TRUE;
          else if (g_strcmp0 (kind, "edit") != 0)
            return NULL;
        }
      else if (members[m].bit == M_PARENTS)
        {
          if (!scan_parents (s, c->parents))
            return NULL;
        }
      else
        {
          fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
          if (!scan_fields (s, fields))
            return NULL;
        }
    }
  while (take (s, ','));
  if (!take (s, '}') || (seen & M_KIND) == 0)
    return NULL;
  if (record)
    {
      if ((seen & (M_FIELD | M_VALUE | M_HLC | M_PARENTS | M_WALL)) != 0 || fields == NULL)
        return NULL;
      c->kind = HEARTH_CHANGE_RECORD;
      g_clear_pointer (&c->parents, g_ptr_array_unref);
      c->fields = g_steal_pointer (&fields);
    }
  else if (fields != NULL)
    return NULL;
  return hearth_change_valid (c) ? g_steal_pointer (&c) : NULL;
}

enum { P_CHANGES = 1 << 0, P_NEXT = 1 << 1, P_MORE = 1 << 2, P_COMPACT = 1 << 3, P_TIME = 1 << 4 };

static gboolean
scan_page (Scan *s, gint64 cursor, HearthSyncPullPage *out)
{
  guint seen = 0;

  if (!take (s, '{'))
    return FALSE;
  do
    {
      g_autofree char *name = scan_string (s);
      guint bit;
      gint64 ignored;

      if (name == NULL || !take (s, ':'))
        return FALSE;
      bit = g_str_equal (name, "changes") ? P_CHANGES : g_str_equal (name, "next_cursor") ? P_NEXT
          : g_str_equal (name, "more") ? P_MORE : g_str_equal (name, "compact_until") ? P_COMPACT
          : g_str_equal (name, "server_time") ? P_TIME : 0;
      if (bit == 0 || (seen & bit) != 0)
        return FALSE;
      seen |= bit;
      switch (bit)
        {
        case P_CHANGES:
          if (!take (s, '['))
            return FALSE;
          if (take (s, ']'))
            break;
          do
            {
              HearthChange *c = scan_change (s);

              if (c == NULL)
                return FALSE;
              g_ptr_array_add (out->changes, c);
            }
          while (take (s, ','));
          if (!take (s, ']'))
            return FALSE;
          break;
        case P_NEXT:
          if (!scan_number (s, &out->next_cursor))
            return FALSE;
          break;
        case P_MORE:
          if (scan_word (s, "true"))
            out->more = TRUE;
          else if (!scan_word (s, "false"))
            return FALSE;
          break;
        case P_COMPACT:
          if (!scan_number (s, &out->compact_until))
            return FALSE;
          break;
        default:
          if (!scan_number (s, &ignored))
            return FALSE;
          break;
        }
    }
  while (take (s, ','));
  if (!take (s, '}'))
    return FALSE;
  skip_space (s);
  if (s->p != s->end || (seen & (P_CHANGES | P_NEXT)) != (P_CHANGES | P_NEXT))
    return FALSE;
  /* hearth_sync_read_pull_page()'s checks of the cursors. */
  if (out->next_cursor < cursor && (out->more || out->changes->len > 0))
    return FALSE;
  return !(out->more && out->next_cursor <= cursor);
}

gboolean
hearth_sync_scan_pull_page (const char *body, gsize len, gint64 cursor, HearthSyncPullPage *out)
{
  HearthSyncPullPage page = { 0 };
  Scan s = { body, body + len };

  g_return_val_if_fail (body != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  page.changes = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  page.skipped = g_ptr_array_new_with_free_func (g_free);
  page.compact_until = -1;
  if (len == 0 || memchr (body, '\0', len) != NULL || !scan_page (&s, cursor, &page))
    {
      hearth_sync_pull_page_clear (&page);
      return FALSE;
    }
  *out = page;
  return TRUE;
}

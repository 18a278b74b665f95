/* SPDX-License-Identifier: GPL-3.0-or-later */
/* center-push-parse.c: the one-pass push body reader (center-push-parse.h). */
#define G_LOG_DOMAIN "hearth-center"

#include "center-push-parse.h"

#include <string.h>

typedef struct {
  const char *p;
  const char *end;
} Reader;

/* RFC 8259's whitespace, nothing else. */
static void
skip_ws (Reader *r)
{
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
    r->p++;
}

/* Skips whitespace, then takes @c when it comes next. */
static gboolean
take (Reader *r, char c)
{
  skip_ws (r);
  if (r->p < r->end && *r->p == c)
    {
      r->p++;
      return TRUE;
    }
  return FALSE;
}

static int
hex_digit (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Four hex digits after "\u"; -1 when they are not. */
static int
read_u16 (Reader *r)
{
  int v = 0;

  if (r->end - r->p < 4)
    return -1;
  for (int i = 0; i < 4; i++)
    {
      int d = hex_digit (r->p[i]);

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
read_escaped (Reader *r, GString *text)
{
  while (r->p < r->end)
    {
      const char *run = r->p;
      guchar ch;

      while (r->p < r->end && *r->p != '"' && *r->p != '\\' && (guchar) *r->p >= 0x20)
        r->p++;
      g_string_append_len (text, run, r->p - run);
      if (r->p >= r->end)
        break;
      ch = (guchar) *r->p++;
      if (ch == '"')
        return g_string_free (text, FALSE);
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

/* A string value (skipping whitespace before it), at most
 * HEARTH_CHANGE_MAX_VALUE bytes. Returns: (transfer full) (nullable). */
static char *
read_string (Reader *r)
{
  const char *start;
  char *text;

  if (!take (r, '"'))
    return NULL;
  start = r->p;
  while (r->p < r->end && *r->p != '"' && *r->p != '\\' && (guchar) *r->p >= 0x20)
    r->p++;
  if (r->p >= r->end || (guchar) *r->p < 0x20)
    return NULL;
  if (*r->p == '"')
    {
      if (r->p - start > HEARTH_CHANGE_MAX_VALUE)
        return NULL;
      text = g_strndup (start, r->p - start);
      r->p++;
      return text;
    }
  text = read_escaped (r, g_string_new_len (start, r->p - start));
  if (text != NULL && strlen (text) > HEARTH_CHANGE_MAX_VALUE)
    g_clear_pointer (&text, g_free);
  return text;
}

/* A member's name, without escapes (no name the protocol has needs one),
 * and its colon: borrowed from the body, @len long. */
static gboolean
read_name (Reader *r, const char **name, gsize *len)
{
  const char *start;

  if (!take (r, '"'))
    return FALSE;
  start = r->p;
  while (r->p < r->end && *r->p != '"' && *r->p != '\\' && (guchar) *r->p >= 0x20)
    r->p++;
  if (r->p >= r->end || *r->p != '"')
    return FALSE;
  *name = start;
  *len = r->p - start;
  r->p++;
  return take (r, ':');
}

#define NAME_IS(name, len, literal) ((len) == sizeof (literal) - 1 && memcmp ((name), (literal), (len)) == 0)

/* A whole number from 1 to HEARTH_CENTER_MAX_SEQ, written plainly. */
static gboolean
read_seq (Reader *r, gint64 *out)
{
  gint64 v = 0;
  int digits = 0;

  skip_ws (r);
  if (r->p >= r->end || *r->p < '1' || *r->p > '9')
    return FALSE;
  while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
    {
      if (++digits > 16)
        return FALSE;
      v = v * 10 + (*r->p++ - '0');
    }
  if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
    return FALSE;
  if (v > HEARTH_CENTER_MAX_SEQ)
    return FALSE;
  *out = v;
  return TRUE;
}

/* The string members of a change, by their place here. */
enum { M_KIND, M_TABLE, M_ID, M_HOUSEHOLD, M_VILLAGE, M_FIELD, M_VALUE, M_HLC, M_WALL, N_STRINGS };
static const char *const string_members[N_STRINGS] = { "kind", "table", "id", "household", "village",
                                                       "field", "value", "hlc", "wall" };

static GPtrArray *
read_parents (Reader *r)
{
  g_autoptr(GPtrArray) parents = g_ptr_array_new_with_free_func (g_free);

  if (!take (r, '['))
    return NULL;
  if (take (r, ']'))
    return g_steal_pointer (&parents);
  do
    {
      char *hlc = read_string (r);

      if (hlc == NULL)
        return NULL;
      g_ptr_array_add (parents, hlc);
      if (parents->len > HEARTH_CHANGE_MAX_PARENTS)
        return NULL;
    }
  while (take (r, ','));
  if (!take (r, ']'))
    return NULL;
  return g_steal_pointer (&parents);
}

static GHashTable *
read_fields (Reader *r)
{
  g_autoptr(GHashTable) fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (!take (r, '{'))
    return NULL;
  if (take (r, '}'))
    return g_steal_pointer (&fields);
  do
    {
      g_autofree char *name = read_string (r);
      char *value;

      if (name == NULL || !take (r, ':') || g_hash_table_contains (fields, name) ||
          g_hash_table_size (fields) >= HEARTH_CHANGE_MAX_FIELDS || (value = read_string (r)) == NULL)
        return NULL;
      g_hash_table_insert (fields, g_steal_pointer (&name), value);
    }
  while (take (r, ','));
  if (!take (r, '}'))
    return NULL;
  return g_steal_pointer (&fields);
}

/* One element of "changes"; the change, or %NULL to give up. */
static HearthChange *
read_change (Reader *r, gint64 *seq)
{
  char *strings[N_STRINGS] = { NULL };
  g_autoptr(GPtrArray) parents = NULL;
  g_autoptr(GHashTable) fields = NULL;
  gboolean have_seq = FALSE;
  HearthChange *c = NULL;
  gboolean edit;

  if (!take (r, '{') || take (r, '}'))
    goto out;
  do
    {
      const char *name;
      gsize len;
      guint i;

      if (!read_name (r, &name, &len))
        goto out;
      if (NAME_IS (name, len, "seq"))
        {
          if (have_seq || !read_seq (r, seq))
            goto out;
          have_seq = TRUE;
          continue;
        }
      if (NAME_IS (name, len, "parents"))
        {
          if (parents != NULL || (parents = read_parents (r)) == NULL)
            goto out;
          continue;
        }
      if (NAME_IS (name, len, "fields"))
        {
          if (fields != NULL || (fields = read_fields (r)) == NULL)
            goto out;
          continue;
        }
      for (i = 0; i < N_STRINGS; i++)
        if (len == strlen (string_members[i]) && memcmp (name, string_members[i], len) == 0)
          break;
      if (i == N_STRINGS || strings[i] != NULL || (strings[i] = read_string (r)) == NULL)
        goto out;
    }
  while (take (r, ','));
  if (!take (r, '}') || !have_seq || strings[M_KIND] == NULL)
    goto out;

  /* What the codec would read of the change, and nothing it would skip:
   * the members of the other kind are not a device's. */
  edit = strcmp (strings[M_KIND], "edit") == 0;
  if (edit)
    {
      if (fields != NULL)
        goto out;
    }
  else if (strcmp (strings[M_KIND], "record") != 0 || fields == NULL || parents != NULL ||
           strings[M_FIELD] != NULL || strings[M_VALUE] != NULL || strings[M_HLC] != NULL ||
           strings[M_WALL] != NULL)
    goto out;

  c = hearth_change_new (edit ? HEARTH_CHANGE_EDIT : HEARTH_CHANGE_RECORD);
  c->seq = *seq;
  c->table = g_steal_pointer (&strings[M_TABLE]);
  c->id = g_steal_pointer (&strings[M_ID]);
  c->household = g_steal_pointer (&strings[M_HOUSEHOLD]);
  c->village = g_steal_pointer (&strings[M_VILLAGE]);
  if (edit)
    {
      c->field = g_steal_pointer (&strings[M_FIELD]);
      c->value = g_steal_pointer (&strings[M_VALUE]);
      c->hlc = g_steal_pointer (&strings[M_HLC]);
      c->wall = g_steal_pointer (&strings[M_WALL]);
      if (parents != NULL)
        {
          g_ptr_array_unref (c->parents);
          c->parents = g_steal_pointer (&parents);
        }
    }
  else
    {
      g_hash_table_unref (c->fields);
      c->fields = g_steal_pointer (&fields);
    }
  if (!hearth_change_valid (c))
    g_clear_pointer (&c, hearth_change_free);

out:
  for (guint i = 0; i < N_STRINGS; i++)
    g_free (strings[i]);
  return c;
}

static void
push_item_free (HearthPushItem *item)
{
  hearth_change_free (item->change);
  g_free (item->refusal);
  g_free (item);
}

static gboolean
read_changes (Reader *r, HearthPushBatch *batch)
{
  if (!take (r, '['))
    return FALSE;
  if (take (r, ']'))
    return TRUE;
  do
    {
      HearthPushItem *item;
      HearthChange *c;
      gint64 seq = 0;

      if (batch->items->len >= HEARTH_CENTER_MAX_CHANGES || (c = read_change (r, &seq)) == NULL)
        return FALSE;
      item = g_new0 (HearthPushItem, 1);
      item->seq = seq;
      item->change = c;
      g_ptr_array_add (batch->items, item);
      if (seq != ((HearthPushItem *) batch->items->pdata[0])->seq + batch->items->len - 1)
        return FALSE;
    }
  while (take (r, ','));
  return take (r, ']');
}

HearthPushBatch *
hearth_center_parse_push_fast (const char *data, gsize len)
{
  g_autoptr(HearthPushBatch) batch = g_new0 (HearthPushBatch, 1);
  Reader r = { data, data + len };
  gboolean have_changes = FALSE;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  batch->items = g_ptr_array_new_with_free_func ((GDestroyNotify) push_item_free);
  if (!take (&r, '{') || take (&r, '}'))
    return NULL;
  do
    {
      const char *name;
      gsize name_len;

      if (!read_name (&r, &name, &name_len))
        return NULL;
      if (NAME_IS (name, name_len, "device_id"))
        {
          if (batch->device_id != NULL || (batch->device_id = read_string (&r)) == NULL)
            return NULL;
        }
      else if (NAME_IS (name, name_len, "changes"))
        {
          if (have_changes || !read_changes (&r, batch))
            return NULL;
          have_changes = TRUE;
        }
      else
        return NULL;
    }
  while (take (&r, ','));
  if (!take (&r, '}') || !have_changes || batch->device_id == NULL || !g_uuid_string_is_valid (batch->device_id))
    return NULL;
  /* A device id has one spelling, in lowercase (PROTOCOL.md section 4). */
  for (const char *p = batch->device_id; *p != '\0'; p++)
    if (g_ascii_isupper (*p))
      return NULL;
  skip_ws (&r);
  if (r.p != r.end)
    return NULL;
  return g_steal_pointer (&batch);
}

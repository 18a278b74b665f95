/* SPDX-License-Identifier: GPL-3.0-or-later */
/* change.c: the protocol's changes and their JSON (change.h). */

#include "change.h"
#include "hlc.h"

#include <glib/gi18n-lib.h>
#include <string.h>

G_DEFINE_QUARK (hearth-change-error-quark, hearth_change_error)

static const char *const edit_tables[] = { "households", "members", "tasks", "measures", NULL };
/* forms, thresholds and divisions are published by the center alone (PROTOCOL.md section 6.2). */
static const char *const record_tables[] = { "submissions", "reviews", "audit", "forms", "thresholds", "divisions", NULL };

/* The fields of each table edited field by field: the tablet schema's
 * columns but id, created_at and updated_at, in byte order (bsearch).
 * /sync/store/table-fields checks them against a migrated tablet store. */
static const char *const household_fields[] = {
  "address", "category", "deleted", "eliminated_on", "entity_version", "head_id_number", "head_name",
  "last_visit_date", "location", "member_count", "monitoring_status", "next_visit_date", "per_capita_income",
  "phone", "registry_no", "risk_level", "risk_submission", "risk_types", "village_code", NULL,
};
static const char *const member_fields[] = {
  "benefits", "birth_date", "deleted", "disability_cert_year", "education", "ethnicity", "health", "household_id",
  "id_number", "insurance", "labour", "months_worked", "name", "phone", "position", "relation", "school_status",
  "sex", "work_place", NULL,
};
static const char *const task_fields[] = {
  "assignee", "closed_by", "due_date", "household_id", "kind", "opened_by", "reason", "status", NULL,
};
static const char *const measure_fields[] = {
  "created_by", "description", "ended_on", "household_id", "last_effect", "last_progress", "last_remark",
  "progress_on", "progress_submission", "started_on", "status", "type", NULL,
};

static const struct
{
  const char *table;
  const char *const *fields;
  guint n;
} table_fields[] = {
  { "households", household_fields, G_N_ELEMENTS (household_fields) - 1 },
  { "members", member_fields, G_N_ELEMENTS (member_fields) - 1 },
  { "tasks", task_fields, G_N_ELEMENTS (task_fields) - 1 },
  { "measures", measure_fields, G_N_ELEMENTS (measure_fields) - 1 },
};

static int
table_place (const char *table)
{
  for (guint i = 0; table != NULL && i < G_N_ELEMENTS (table_fields); i++)
    if (strcmp (table_fields[i].table, table) == 0)
      return (int) i;
  return -1;
}

const char *const *
hearth_change_table_fields (const char *table)
{
  int t = table_place (table);

  return t >= 0 ? table_fields[t].fields : NULL;
}

gboolean
hearth_change_is_field (const char *table, const char *field)
{
  int t = table_place (table);
  guint lo = 0, hi;

  if (t < 0 || field == NULL)
    return FALSE;
  hi = table_fields[t].n;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      int order = strcmp (table_fields[t].fields[mid], field);

      if (order == 0)
        return TRUE;
      if (order < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return FALSE;
}

static void
field_edit_free (gpointer data)
{
  HearthChangeField *e = data;

  g_free (e->field);
  g_free (e->value);
  g_clear_pointer (&e->parents, g_ptr_array_unref);
  g_free (e);
}

/* A borrowed change's field edit: its name and value are the reader's. */
static void
field_edit_free_borrowed (gpointer data)
{
  HearthChangeField *e = data;

  g_clear_pointer (&e->parents, g_ptr_array_unref);
  g_free (e);
}

HearthChange *
hearth_change_new (HearthChangeKind kind)
{
  HearthChange *c = g_new0 (HearthChange, 1);

  c->kind = kind;
  if (kind == HEARTH_CHANGE_EDIT)
    c->parents = g_ptr_array_new_with_free_func (g_free);
  else if (kind == HEARTH_CHANGE_EDITS)
    c->edits = g_ptr_array_new_with_free_func (field_edit_free);
  else
    c->fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return c;
}

HearthChange *
hearth_change_new_borrowed (HearthChangeKind kind)
{
  HearthChange *c = g_new0 (HearthChange, 1);

  c->kind = kind;
  c->borrowed = TRUE;
  if (kind == HEARTH_CHANGE_EDIT)
    c->parents = g_ptr_array_new_with_free_func (g_free);
  else if (kind == HEARTH_CHANGE_EDITS)
    c->edits = g_ptr_array_new_with_free_func (field_edit_free_borrowed);
  else
    c->fields = g_hash_table_new (g_str_hash, g_str_equal);
  return c;
}

static const char *
kind_name (HearthChangeKind kind)
{
  return kind == HEARTH_CHANGE_EDIT ? "edit" : kind == HEARTH_CHANGE_EDITS ? "edits" : "record";
}

static GPtrArray *
copy_strings (const GPtrArray *strings)
{
  GPtrArray *copy = g_ptr_array_new_full (strings != NULL ? strings->len : 0, g_free);

  for (guint i = 0; strings != NULL && i < strings->len; i++)
    g_ptr_array_add (copy, g_strdup (strings->pdata[i]));
  return copy;
}

/* The place of @field in @edits (sorted by name), or where it would go. */
static guint
edit_place (const GPtrArray *edits, const char *field, gboolean *found)
{
  guint lo = 0, hi = edits->len;

  *found = FALSE;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      int order = strcmp (((const HearthChangeField *) edits->pdata[mid])->field, field);

      if (order == 0)
        {
          *found = TRUE;
          return mid;
        }
      if (order < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

HearthChangeField *
hearth_change_add_edit (HearthChange *c, const char *field, const char *value, const GPtrArray *parents)
{
  HearthChangeField *e;
  gboolean found;
  guint at;

  g_return_val_if_fail (c != NULL && c->kind == HEARTH_CHANGE_EDITS && c->edits != NULL && field != NULL, NULL);

  e = g_new0 (HearthChangeField, 1);
  e->field = g_strdup (field);
  e->value = g_strdup (value != NULL ? value : "");
  e->parents = copy_strings (parents);
  at = edit_place (c->edits, field, &found);
  if (found)
    {
      field_edit_free (c->edits->pdata[at]);
      c->edits->pdata[at] = e;
    }
  else
    g_ptr_array_insert (c->edits, (gint) at, e);
  return e;
}

gboolean
hearth_change_take_edit (HearthChange *c, char *field, char *value, GPtrArray *parents)
{
  gboolean usable = c != NULL && c->kind == HEARTH_CHANGE_EDITS && c->edits != NULL && field != NULL && value != NULL;
  HearthChangeField *e;
  gboolean found = TRUE;
  guint at = 0;

  if (usable)
    at = edit_place (c->edits, field, &found);
  if (found)
    {
      if (c == NULL || !c->borrowed)
        {
          g_free (field);
          g_free (value);
        }
      if (parents != NULL)
        g_ptr_array_unref (parents);
      g_return_val_if_fail (usable, FALSE);
      return FALSE;
    }
  e = g_new (HearthChangeField, 1);
  e->field = field;
  e->value = value;
  e->parents = parents != NULL ? parents : g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_insert (c->edits, (gint) at, e);
  return TRUE;
}

const HearthChangeField *
hearth_change_find_edit (const HearthChange *c, const char *field)
{
  gboolean found;
  guint at;

  g_return_val_if_fail (c != NULL && field != NULL, NULL);

  if (c->edits == NULL)
    return NULL;
  at = edit_place (c->edits, field, &found);
  return found ? c->edits->pdata[at] : NULL;
}

/* A change of @kind with @c's numbers, record, scope, version and wall
 * time, and nothing else yet. */
static HearthChange *
copy_head (const HearthChange *c, HearthChangeKind kind)
{
  HearthChange *n = g_new0 (HearthChange, 1);

  n->kind = kind;
  n->seq = c->seq;
  n->cursor = c->cursor;
  n->table = g_strdup (c->table);
  n->id = g_strdup (c->id);
  n->household = g_strdup (c->household);
  n->village = g_strdup (c->village);
  n->hlc = g_strdup (c->hlc);
  n->wall = g_strdup (c->wall);
  return n;
}

HearthChange *
hearth_change_copy (const HearthChange *c)
{
  HearthChange *n;

  g_return_val_if_fail (c != NULL, NULL);

  n = copy_head (c, c->kind);
  n->field = g_strdup (c->field);
  n->value = g_strdup (c->value);
  if (c->parents != NULL)
    n->parents = copy_strings (c->parents);
  if (c->fields != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;

      n->fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_iter_init (&iter, c->fields);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_hash_table_insert (n->fields, g_strdup (key), g_strdup (value));
    }
  if (c->edits != NULL)
    {
      n->edits = g_ptr_array_new_full (c->edits->len, field_edit_free);
      for (guint i = 0; i < c->edits->len; i++)
        {
          const HearthChangeField *e = c->edits->pdata[i];
          HearthChangeField *copy = g_new0 (HearthChangeField, 1);

          copy->field = g_strdup (e->field);
          copy->value = g_strdup (e->value);
          copy->parents = copy_strings (e->parents);
          g_ptr_array_add (n->edits, copy);
        }
    }
  return n;
}

GPtrArray *
hearth_change_expand (const HearthChange *c)
{
  GPtrArray *out;

  g_return_val_if_fail (c != NULL, NULL);

  out = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  if (c->kind != HEARTH_CHANGE_EDITS)
    {
      g_ptr_array_add (out, hearth_change_copy (c));
      return out;
    }
  for (guint i = 0; c->edits != NULL && i < c->edits->len; i++)
    {
      const HearthChangeField *e = c->edits->pdata[i];
      HearthChange *n = copy_head (c, HEARTH_CHANGE_EDIT);

      n->field = g_strdup (e->field);
      n->value = g_strdup (e->value);
      n->parents = copy_strings (e->parents);
      g_ptr_array_add (out, n);
    }
  return out;
}

void
hearth_change_free (HearthChange *c)
{
  if (c == NULL)
    return;
  if (!c->borrowed)
    {
      g_free (c->table);
      g_free (c->id);
      g_free (c->field);
      g_free (c->value);
      g_free (c->wall);
    }
  g_free (c->household);
  g_free (c->village);
  g_free (c->hlc);
  g_clear_pointer (&c->parents, g_ptr_array_unref);
  g_clear_pointer (&c->fields, g_hash_table_unref);
  g_clear_pointer (&c->edits, g_ptr_array_unref);
  /* Last: @fields' and @edits' strings may be in it. */
  g_clear_pointer (&c->strings, hearth_change_strings_unref);
  g_free (c);
}

struct _HearthChangeStrings {
  GStringChunk *chunk;
};

HearthChangeStrings *
hearth_change_strings_new (gsize block)
{
  HearthChangeStrings *s = g_atomic_rc_box_new0 (HearthChangeStrings);

  s->chunk = g_string_chunk_new (block);
  return s;
}

GStringChunk *
hearth_change_strings_chunk (HearthChangeStrings *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  return s->chunk;
}

HearthChangeStrings *
hearth_change_strings_ref (HearthChangeStrings *s)
{
  return g_atomic_rc_box_acquire (s);
}

static void
strings_clear (gpointer data)
{
  HearthChangeStrings *s = data;

  g_string_chunk_free (s->chunk);
}

void
hearth_change_strings_unref (HearthChangeStrings *s)
{
  g_atomic_rc_box_release_full (s, strings_clear);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static GPtrArray *
sorted_field_names (GHashTable *fields)
{
  GPtrArray *names = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, fields);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, key);
  g_ptr_array_sort (names, compare_strings);
  return names;
}

JsonNode *
hearth_change_to_json (const HearthChange *c)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (c != NULL, NULL);

  json_builder_begin_object (b);
  if (c->seq != 0)
    {
      json_builder_set_member_name (b, "seq");
      json_builder_add_int_value (b, c->seq);
    }
  if (c->cursor != 0)
    {
      json_builder_set_member_name (b, "cursor");
      json_builder_add_int_value (b, c->cursor);
    }
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, kind_name (c->kind));
  json_builder_set_member_name (b, "table");
  json_builder_add_string_value (b, c->table);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, c->id);
  if (c->household != NULL)
    {
      json_builder_set_member_name (b, "household");
      json_builder_add_string_value (b, c->household);
    }
  if (c->village != NULL)
    {
      json_builder_set_member_name (b, "village");
      json_builder_add_string_value (b, c->village);
    }
  if (c->kind == HEARTH_CHANGE_EDIT)
    {
      json_builder_set_member_name (b, "field");
      json_builder_add_string_value (b, c->field);
      json_builder_set_member_name (b, "value");
      json_builder_add_string_value (b, c->value != NULL ? c->value : "");
      json_builder_set_member_name (b, "hlc");
      json_builder_add_string_value (b, c->hlc);
      json_builder_set_member_name (b, "parents");
      json_builder_begin_array (b);
      for (guint i = 0; c->parents != NULL && i < c->parents->len; i++)
        json_builder_add_string_value (b, c->parents->pdata[i]);
      json_builder_end_array (b);
      if (c->wall != NULL)
        {
          json_builder_set_member_name (b, "wall");
          json_builder_add_string_value (b, c->wall);
        }
    }
  else if (c->kind == HEARTH_CHANGE_EDITS)
    {
      json_builder_set_member_name (b, "hlc");
      json_builder_add_string_value (b, c->hlc);
      json_builder_set_member_name (b, "fields");
      json_builder_begin_object (b);
      for (guint i = 0; c->edits != NULL && i < c->edits->len; i++)
        {
          const HearthChangeField *e = c->edits->pdata[i];

          json_builder_set_member_name (b, e->field);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "value");
          json_builder_add_string_value (b, e->value != NULL ? e->value : "");
          json_builder_set_member_name (b, "parents");
          json_builder_begin_array (b);
          for (guint j = 0; e->parents != NULL && j < e->parents->len; j++)
            json_builder_add_string_value (b, e->parents->pdata[j]);
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
      if (c->wall != NULL)
        {
          json_builder_set_member_name (b, "wall");
          json_builder_add_string_value (b, c->wall);
        }
    }
  else
    {
      g_autoptr(GPtrArray) names = sorted_field_names (c->fields);

      json_builder_set_member_name (b, "fields");
      json_builder_begin_object (b);
      for (guint i = 0; i < names->len; i++)
        {
          json_builder_set_member_name (b, names->pdata[i]);
          json_builder_add_string_value (b, g_hash_table_lookup (c->fields, names->pdata[i]));
        }
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---- writing without a tree ---------------------------------------------------- */

/* A string as json-glib 1.6's generator escapes it (json_strescape()):
 * quote and backslash, \b \t \n \f \r, other bytes from 0x01 to 0x1e
 * and 0x7f as \u00xx, and everything else as it is (0x1f and UTF-8 too). */
static void
append_string (GString *out, const char *text)
{
  const guint64 ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  gsize n = strlen (text);
  const char *run = text;
  const char *p = text;
  const char *end = text + n;

  g_string_append_c (out, '"');
  while (p < end)
    {
      guchar ch;

      /* Eight plain bytes at a time: none below 0x1f, '"', '\\' or 0x7f
       * (a field's text is mostly such runs). */
      while (end - p >= 8)
        {
          guint64 w, q, b, d;

          memcpy (&w, p, 8);
          q = w ^ (ones * '"');
          b = w ^ (ones * '\\');
          d = w ^ (ones * 0x7f);
          if ((((w - ones * 0x1f) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b) | ((d - ones) & ~d)) & highs)
            break;
          p += 8;
        }
      if (p == end)
        break;
      ch = (guchar) *p;
      if (ch >= 0x1f && ch != '"' && ch != '\\' && ch != 0x7f)
        {
          p++;
          continue;
        }
      g_string_append_len (out, run, p - run);
      switch (ch)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\f': g_string_append (out, "\\f"); break;
        case '\r': g_string_append (out, "\\r"); break;
        default: g_string_append_printf (out, "\\u00%02x", ch); break;
        }
      run = ++p;
    }
  g_string_append_len (out, run, end - run);
  g_string_append_c (out, '"');
}

static void
append_member (GString *out, const char *name, const char *value)
{
  if (out->len > 0 && out->str[out->len - 1] != '{')
    g_string_append_c (out, ',');
  append_string (out, name);
  g_string_append_c (out, ':');
  if (value != NULL)
    append_string (out, value);
}

/* A JSON array of versions. */
static void
append_versions (GString *out, const GPtrArray *versions)
{
  g_string_append_c (out, '[');
  for (guint i = 0; versions != NULL && i < versions->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      append_string (out, versions->pdata[i]);
    }
  g_string_append_c (out, ']');
}

void
hearth_change_append_fields_json (const HearthChange *c, GString *out)
{
  g_autoptr(GPtrArray) names = NULL;

  g_return_if_fail (c != NULL && c->kind == HEARTH_CHANGE_RECORD && out != NULL);

  names = sorted_field_names (c->fields);
  g_string_append_c (out, '{');
  for (guint i = 0; i < names->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      append_string (out, names->pdata[i]);
      g_string_append_c (out, ':');
      append_string (out, g_hash_table_lookup (c->fields, names->pdata[i]));
    }
  g_string_append_c (out, '}');
}

static void
append_json (const HearthChange *c, gboolean for_digest, const char *fields_text, gsize fields_len, GString *out);

void
hearth_change_append_json (const HearthChange *c, gboolean for_digest, GString *out)
{
  g_return_if_fail (c != NULL && out != NULL);
  append_json (c, for_digest, NULL, 0, out);
}

void
hearth_change_append_record_json (const HearthChange *c, gboolean for_digest, const char *fields_text,
                                  gsize fields_len, GString *out)
{
  g_return_if_fail (c != NULL && c->kind == HEARTH_CHANGE_RECORD && fields_text != NULL && out != NULL);
  append_json (c, for_digest, fields_text, fields_len, out);
}

static void
append_json (const HearthChange *c, gboolean for_digest, const char *fields_text, gsize fields_len, GString *out)
{
  GString *o = out;

  /* Each member after the first follows a comma (append_member()). */
  g_string_append_c (o, '{');

  if (c->seq != 0 && !for_digest)
    {
      append_member (o, "seq", NULL);
      g_string_append_printf (o, "%" G_GINT64_FORMAT, c->seq);
    }
  if (c->cursor != 0)
    {
      append_member (o, "cursor", NULL);
      g_string_append_printf (o, "%" G_GINT64_FORMAT, c->cursor);
    }
  append_member (o, "kind", kind_name (c->kind));
  append_member (o, "table", c->table);
  append_member (o, "id", c->id);
  if (c->household != NULL && !for_digest)
    append_member (o, "household", c->household);
  if (c->village != NULL && !for_digest)
    append_member (o, "village", c->village);
  if (c->kind == HEARTH_CHANGE_EDIT)
    {
      append_member (o, "field", c->field);
      append_member (o, "value", c->value != NULL ? c->value : "");
      append_member (o, "hlc", c->hlc);
      append_member (o, "parents", NULL);
      append_versions (o, c->parents);
      if (c->wall != NULL)
        append_member (o, "wall", c->wall);
    }
  else if (c->kind == HEARTH_CHANGE_EDITS)
    {
      append_member (o, "hlc", c->hlc);
      append_member (o, "fields", NULL);
      g_string_append_c (o, '{');
      for (guint i = 0; c->edits != NULL && i < c->edits->len; i++)
        {
          const HearthChangeField *e = c->edits->pdata[i];

          append_member (o, e->field, NULL);
          g_string_append_c (o, '{');
          append_member (o, "value", e->value != NULL ? e->value : "");
          append_member (o, "parents", NULL);
          append_versions (o, e->parents);
          g_string_append_c (o, '}');
        }
      g_string_append_c (o, '}');
      if (c->wall != NULL)
        append_member (o, "wall", c->wall);
    }
  else
    {
      append_member (o, "fields", NULL);
      if (fields_text != NULL)
        g_string_append_len (o, fields_text, (gssize) fields_len);
      else
        hearth_change_append_fields_json (c, o);
    }
  g_string_append_c (o, '}');
}

/* ---- reading ---------------------------------------------------------------- */

/* What each byte of a UUID's text is: 1 a hex digit, 2 the dash (0
 * anything else, the NUL included). */
static const guint8 uuid_byte[256] = {
  ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
  ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
  ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
  ['-'] = 2,
};

/* What each place of a UUID's text holds (uuid_byte[]): 8-4-4-4-12. */
static const guint8 uuid_shape[36] = {
  1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 2,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

gboolean
hearth_change_is_uuid (const char *text)
{
  const guchar *t = (const guchar *) text;

  if (text == NULL)
    return FALSE;
  /* Each place against its shape, one lookup a byte (two ids a change
   * are checked); each check fails at a shorter text's NUL: nothing is
   * read past it. */
  for (int i = 0; i < 36; i++)
    if (uuid_byte[t[i]] != uuid_shape[i])
      return FALSE;
  return t[36] == '\0';
}

G_GNUC_PRINTF (3, 4) static gboolean
invalid (GError **error, const char *where, const char *format, ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  /* A name quoted from the body may not be UTF-8: json-glib decodes a
   * lone surrogate escape ("\udc2b") to bytes that are not, and the
   * refusal goes back to the device as JSON text. */
  if (!g_utf8_validate (what, -1, NULL))
    {
      char *valid = g_utf8_make_valid (what, -1);
      g_free (what);
      what = valid;
    }
  g_set_error (error, HEARTH_CHANGE_ERROR, HEARTH_CHANGE_ERROR_INVALID, "%s: %s", where, what);
  return FALSE;
}

/* The bytes of a name after its first: lowercase ASCII letters, digits
 * and "_" (0 for the NUL). */
static const guint8 name_byte[256] = {
  ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
  ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
  ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
  ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
  ['_'] = 1,
};

static gboolean
valid_name (const char *s)
{
  const guchar *p = (const guchar *) s;

  /* One pass, a lookup a byte, to the first byte no name holds (a
   * dozen names a change are checked). */
  if (!g_ascii_islower (*p))
    return FALSE;
  while (name_byte[*p] != 0)
    p++;
  return *p == '\0' && (gsize) (p - (const guchar *) s) <= HEARTH_CHANGE_MAX_NAME;
}

static gboolean
valid_village (const char *s)
{
  if (strlen (s) != 12)
    return FALSE;
  for (int i = 0; i < 12; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  return TRUE;
}

/* A string member of @o, checked for type, UTF-8 and size; @required says
 * whether absence is an error. */
static gboolean
get_string (JsonObject *o, const char *member, gboolean required, const char *where, char **out, GError **error)
{
  JsonNode *n = json_object_get_member (o, member);
  const char *s;

  *out = NULL;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return required ? invalid (error, where, _("“%s” is missing"), member) : TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return invalid (error, where, _("“%s” must be a string"), member);
  s = json_node_get_string (n);
  if (strlen (s) > HEARTH_CHANGE_MAX_VALUE)
    return invalid (error, where, _("“%s” is longer than %d bytes"), member, HEARTH_CHANGE_MAX_VALUE);
  if (!g_utf8_validate (s, -1, NULL))
    return invalid (error, where, _("“%s” is not UTF-8 text"), member);
  *out = g_strdup (s);
  return TRUE;
}

static gboolean
get_number (JsonObject *o, const char *member, const char *where, gint64 *out, GError **error)
{
  JsonNode *n = json_object_get_member (o, member);

  *out = 0;
  if (n == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64 || json_node_get_int (n) < 1)
    return invalid (error, where, _("“%s” must be a whole number from 1"), member);
  *out = json_node_get_int (n);
  return TRUE;
}

/* @out: (out) (optional): the version parsed. */
static gboolean
valid_version (const char *text, const char *where, const char *member, HearthHlc *out, GError **error)
{
  HearthHlc hlc;
  g_autoptr(GError) local = NULL;

  if (hearth_hlc_parse (text, out != NULL ? out : &hlc, &local))
    return TRUE;
  return invalid (error, where, _("“%s” is not a version: %s"), member, local->message);
}

/* The versions of a "parents" member (absent or null: none), into @out. */
static gboolean
get_versions (JsonNode *node, const char *where, const char *member, GPtrArray *out, GError **error)
{
  JsonArray *a;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return invalid (error, where, _("“%s” must be an array of versions"), member);
  a = json_node_get_array (node);
  if (json_array_get_length (a) > HEARTH_CHANGE_MAX_PARENTS)
    return invalid (error, where, _("“%s” holds more than %d versions"), member, HEARTH_CHANGE_MAX_PARENTS);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *p = json_array_get_element (a, i);

      if (!JSON_NODE_HOLDS_VALUE (p) || json_node_get_value_type (p) != G_TYPE_STRING)
        return invalid (error, where, _("“%s” must be an array of versions"), member);
      if (!valid_version (json_node_get_string (p), where, member, NULL, error))
        return FALSE;
      g_ptr_array_add (out, g_strdup (json_node_get_string (p)));
    }
  return TRUE;
}

/* An "edits" change's "fields": 1 to HEARTH_CHANGE_MAX_FIELDS members,
 * each {"value": string, "parents": [versions]} and nothing else. */
static gboolean
get_field_edits (JsonObject *o, const char *where, HearthChange *c, GError **error)
{
  JsonNode *fields = json_object_get_member (o, "fields");
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;
  guint n;

  if (fields == NULL || !JSON_NODE_HOLDS_OBJECT (fields))
    return invalid (error, where, _("“fields” must be an object of field edits"));
  n = json_object_get_size (json_node_get_object (fields));
  if (n == 0)
    return invalid (error, where, _("“fields” of a change of kind “edits” is empty"));
  if (n > HEARTH_CHANGE_MAX_FIELDS)
    return invalid (error, where, _("“fields” holds more than %d members"), HEARTH_CHANGE_MAX_FIELDS);
  json_object_iter_init (&iter, json_node_get_object (fields));
  while (json_object_iter_next (&iter, &name, &node))
    {
      g_autofree char *member = NULL;
      g_autofree char *value = NULL;
      g_autoptr(GPtrArray) parents = g_ptr_array_new_with_free_func (g_free);
      JsonObject *edit;
      JsonObjectIter members;
      const char *inner;

      if (!valid_name (name))
        return invalid (error, where, _("“fields” has a member “%s” that is not a lowercase name"), name);
      member = g_strdup_printf ("fields.%s", name);
      if (!JSON_NODE_HOLDS_OBJECT (node))
        return invalid (error, where, _("“%s” must be an object of “value” and “parents”"), member);
      edit = json_node_get_object (node);
      json_object_iter_init (&members, edit);
      while (json_object_iter_next (&members, &inner, NULL))
        if (!g_str_equal (inner, "value") && !g_str_equal (inner, "parents"))
          return invalid (error, where, _("“%s” has a member “%s”, which is not “value” or “parents”"), member, inner);
      {
        g_autofree char *value_member = g_strdup_printf ("%s.value", member);
        g_autofree char *parents_member = g_strdup_printf ("%s.parents", member);
        JsonNode *v = json_object_get_member (edit, "value");
        const char *text;

        if (v == NULL || JSON_NODE_HOLDS_NULL (v))
          return invalid (error, where, _("“%s” is missing"), value_member);
        if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING)
          return invalid (error, where, _("“%s” must be a string"), value_member);
        text = json_node_get_string (v);
        if (strlen (text) > HEARTH_CHANGE_MAX_VALUE || !g_utf8_validate (text, -1, NULL))
          return invalid (error, where, _("“%s” is not UTF-8 text of at most %d bytes"), value_member,
                          HEARTH_CHANGE_MAX_VALUE);
        value = g_strdup (text);
        if (!get_versions (json_object_get_member (edit, "parents"), where, parents_member, parents, error))
          return FALSE;
      }
      hearth_change_add_edit (c, name, value, parents);
    }
  return TRUE;
}

HearthChange *
hearth_change_from_json (JsonNode *node, const char *where, GError **error)
{
  g_autoptr(HearthChange) c = NULL;
  g_autofree char *kind = NULL;
  JsonObject *o;
  const char *const *tables;

  if (where == NULL)
    where = _("change");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      invalid (error, where, _("a change must be a JSON object"));
      return NULL;
    }
  o = json_node_get_object (node);
  if (!get_string (o, "kind", TRUE, where, &kind, error))
    return NULL;
  if (g_strcmp0 (kind, "edit") == 0)
    c = hearth_change_new (HEARTH_CHANGE_EDIT);
  else if (g_strcmp0 (kind, "edits") == 0)
    c = hearth_change_new (HEARTH_CHANGE_EDITS);
  else if (g_strcmp0 (kind, "record") == 0)
    c = hearth_change_new (HEARTH_CHANGE_RECORD);
  else
    {
      invalid (error, where, _("“kind” must be “edit”, “edits” or “record”, not “%s”"), kind);
      return NULL;
    }
  tables = c->kind == HEARTH_CHANGE_RECORD ? record_tables : edit_tables;
  if (!get_number (o, "seq", where, &c->seq, error) || !get_number (o, "cursor", where, &c->cursor, error) ||
      !get_string (o, "table", TRUE, where, &c->table, error) || !get_string (o, "id", TRUE, where, &c->id, error) ||
      !get_string (o, "household", FALSE, where, &c->household, error) ||
      !get_string (o, "village", FALSE, where, &c->village, error))
    return NULL;
  if (!g_strv_contains (tables, c->table))
    {
      g_autofree char *allowed = g_strjoinv (", ", (char **) tables);
      invalid (error, where, _("“table” of a change of kind “%s” must be one of %s, not “%s”"), kind, allowed,
               c->table);
      return NULL;
    }
  if (!hearth_change_is_uuid (c->id))
    {
      invalid (error, where, _("“%s” is not a UUID"), "id");
      return NULL;
    }
  if (c->household != NULL && !hearth_change_is_uuid (c->household))
    {
      invalid (error, where, _("“%s” is not a UUID"), "household");
      return NULL;
    }
  if (c->village != NULL && !valid_village (c->village))
    {
      invalid (error, where, _("“village” must be a 12-digit village code"));
      return NULL;
    }

  if (c->kind == HEARTH_CHANGE_EDIT)
    {
      if (!get_string (o, "field", TRUE, where, &c->field, error) ||
          !get_string (o, "value", TRUE, where, &c->value, error) ||
          !get_string (o, "hlc", TRUE, where, &c->hlc, error) || !get_string (o, "wall", FALSE, where, &c->wall, error))
        return NULL;
      if (!valid_name (c->field))
        {
          invalid (error, where, _("“field” must be a lowercase name of at most %d characters"),
                   HEARTH_CHANGE_MAX_NAME);
          return NULL;
        }
      if (!valid_version (c->hlc, where, "hlc", NULL, error) ||
          !get_versions (json_object_get_member (o, "parents"), where, "parents", c->parents, error))
        return NULL;
    }
  else if (c->kind == HEARTH_CHANGE_EDITS)
    {
      if (!get_string (o, "hlc", TRUE, where, &c->hlc, error) || !get_string (o, "wall", FALSE, where, &c->wall, error) ||
          !valid_version (c->hlc, where, "hlc", NULL, error) || !get_field_edits (o, where, c, error))
        return NULL;
    }
  else
    {
      JsonNode *fields = json_object_get_member (o, "fields");
      JsonObjectIter iter;
      const char *name;
      JsonNode *value;

      if (fields == NULL || !JSON_NODE_HOLDS_OBJECT (fields))
        {
          invalid (error, where, _("“fields” must be an object of strings"));
          return NULL;
        }
      if (json_object_get_size (json_node_get_object (fields)) > HEARTH_CHANGE_MAX_FIELDS)
        {
          invalid (error, where, _("“fields” holds more than %d members"), HEARTH_CHANGE_MAX_FIELDS);
          return NULL;
        }
      json_object_iter_init (&iter, json_node_get_object (fields));
      while (json_object_iter_next (&iter, &name, &value))
        {
          const char *s;

          if (!valid_name (name))
            {
              invalid (error, where, _("“fields” has a member “%s” that is not a lowercase name"), name);
              return NULL;
            }
          if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
            {
              invalid (error, where, _("“fields.%s” must be a string"), name);
              return NULL;
            }
          s = json_node_get_string (value);
          if (strlen (s) > HEARTH_CHANGE_MAX_VALUE || !g_utf8_validate (s, -1, NULL))
            {
              invalid (error, where, _("“fields.%s” is not UTF-8 text of at most %d bytes"), name,
                       HEARTH_CHANGE_MAX_VALUE);
              return NULL;
            }
          g_hash_table_insert (c->fields, g_strdup (name), g_strdup (s));
        }
    }
  return g_steal_pointer (&c);
}

/* A string hearth_change_from_json() takes (get_string()). */
static gboolean
valid_text (const char *s)
{
  const guchar *p = (const guchar *) s;

  /* Its ASCII start in one pass, the length with it; g_utf8_validate()
   * from the first byte that is not (a sequence starts there). */
  while (*p != 0 && *p < 0x80)
    p++;
  if (*p == 0)
    return (gsize) (p - (const guchar *) s) <= HEARTH_CHANGE_MAX_VALUE;
  return strlen (s) <= HEARTH_CHANGE_MAX_VALUE && g_utf8_validate ((const char *) p, -1, NULL);
}

/* At most HEARTH_CHANGE_MAX_PARENTS versions, each valid. */
static gboolean
valid_versions (gboolean texts_checked, const GPtrArray *versions)
{
  if (versions == NULL || versions->len > HEARTH_CHANGE_MAX_PARENTS)
    return FALSE;
  for (guint i = 0; i < versions->len; i++)
    if (versions->pdata[i] == NULL || (!texts_checked && !valid_text (versions->pdata[i])) ||
        !valid_version (versions->pdata[i], "", "parents", NULL, NULL))
      return FALSE;
  return TRUE;
}

#define TEXT_OK(s) (texts_checked || valid_text (s))

/* @texts_checked: every string of @c is known to be UTF-8 of at most
 * HEARTH_CHANGE_MAX_VALUE bytes (hearth_change_valid_scanned()).
 * @version: (out) (optional): an edit's or a write's version, parsed. */
static gboolean
change_valid (const HearthChange *c, gboolean texts_checked, HearthHlc *version)
{
  const char *const *tables;
  GHashTableIter iter;
  gpointer name, value;

  tables = c->kind == HEARTH_CHANGE_RECORD ? record_tables : edit_tables;
  if (c->seq < 0 || c->cursor < 0 || c->table == NULL || c->id == NULL || !TEXT_OK (c->table) ||
      !TEXT_OK (c->id) || !g_strv_contains (tables, c->table) || !hearth_change_is_uuid (c->id))
    return FALSE;
  if (c->household != NULL && (!TEXT_OK (c->household) || !hearth_change_is_uuid (c->household)))
    return FALSE;
  if (c->village != NULL && (!TEXT_OK (c->village) || !valid_village (c->village)))
    return FALSE;
  if (c->kind == HEARTH_CHANGE_EDIT)
    {
      if (c->field == NULL || c->value == NULL || c->hlc == NULL || !TEXT_OK (c->field) || !TEXT_OK (c->value) ||
          !TEXT_OK (c->hlc) || (c->wall != NULL && !TEXT_OK (c->wall)) || !valid_name (c->field) ||
          !valid_version (c->hlc, "", "hlc", version, NULL) || c->parents == NULL ||
          c->parents->len > HEARTH_CHANGE_MAX_PARENTS || c->fields != NULL)
        return FALSE;
      return valid_versions (texts_checked, c->parents);
    }
  if (c->kind == HEARTH_CHANGE_EDITS)
    {
      if (c->hlc == NULL || !TEXT_OK (c->hlc) || (c->wall != NULL && !TEXT_OK (c->wall)) ||
          !valid_version (c->hlc, "", "hlc", version, NULL) || c->field != NULL || c->value != NULL ||
          c->parents != NULL || c->fields != NULL || c->edits == NULL || c->edits->len == 0 ||
          c->edits->len > HEARTH_CHANGE_MAX_FIELDS)
        return FALSE;
      for (guint i = 0; i < c->edits->len; i++)
        {
          const HearthChangeField *e = c->edits->pdata[i];

          /* In name order, each once, as hearth_change_add_edit() keeps them. */
          if (e == NULL || e->field == NULL || e->value == NULL || !TEXT_OK (e->field) || !valid_name (e->field) ||
              !TEXT_OK (e->value) || (i > 0 && strcmp (((HearthChangeField *) c->edits->pdata[i - 1])->field,
                                                          e->field) >= 0) ||
              !valid_versions (texts_checked, e->parents))
            return FALSE;
        }
      return TRUE;
    }
  if (c->fields == NULL || g_hash_table_size (c->fields) > HEARTH_CHANGE_MAX_FIELDS || c->field != NULL ||
      c->value != NULL || c->hlc != NULL || c->wall != NULL || (c->parents != NULL && c->parents->len > 0) ||
      c->edits != NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, c->fields);
  while (g_hash_table_iter_next (&iter, &name, &value))
    if (!valid_name (name) || value == NULL || !TEXT_OK (value))
      return FALSE;
  return TRUE;
}
#undef TEXT_OK

gboolean
hearth_change_valid (const HearthChange *c)
{
  g_return_val_if_fail (c != NULL, FALSE);
  return change_valid (c, FALSE, NULL);
}

gboolean
hearth_change_valid_scanned (const HearthChange *c, HearthHlc *version)
{
  g_return_val_if_fail (c != NULL, FALSE);
  return change_valid (c, TRUE, version);
}

/* The same set of versions (each set holds a version once). */
static gboolean
same_versions (const GPtrArray *a, const GPtrArray *b)
{
  guint na = a != NULL ? a->len : 0;
  guint nb = b != NULL ? b->len : 0;

  if (na != nb)
    return FALSE;
  for (guint i = 0; i < na; i++)
    if (!g_ptr_array_find_with_equal_func ((GPtrArray *) b, a->pdata[i], g_str_equal, NULL))
      return FALSE;
  return TRUE;
}

gboolean
hearth_change_equal (const HearthChange *a, const HearthChange *b)
{
  if (a->kind != b->kind || g_strcmp0 (a->table, b->table) != 0 || g_strcmp0 (a->id, b->id) != 0 ||
      g_strcmp0 (a->household, b->household) != 0 || g_strcmp0 (a->village, b->village) != 0)
    return FALSE;
  if (a->kind == HEARTH_CHANGE_EDIT)
    return g_strcmp0 (a->field, b->field) == 0 && g_strcmp0 (a->value, b->value) == 0 &&
           g_strcmp0 (a->hlc, b->hlc) == 0 && same_versions (a->parents, b->parents);
  if (a->kind == HEARTH_CHANGE_EDITS)
    {
      guint na = a->edits != NULL ? a->edits->len : 0;
      guint nb = b->edits != NULL ? b->edits->len : 0;

      if (g_strcmp0 (a->hlc, b->hlc) != 0 || na != nb)
        return FALSE;
      /* Both in name order (hearth_change_add_edit()). */
      for (guint i = 0; i < na; i++)
        {
          const HearthChangeField *x = a->edits->pdata[i];
          const HearthChangeField *y = b->edits->pdata[i];

          if (g_strcmp0 (x->field, y->field) != 0 || g_strcmp0 (x->value, y->value) != 0 ||
              !same_versions (x->parents, y->parents))
            return FALSE;
        }
      return TRUE;
    }
  if (g_hash_table_size (a->fields) != g_hash_table_size (b->fields))
    return FALSE;
  {
    GHashTableIter iter;
    gpointer key, value;

    g_hash_table_iter_init (&iter, a->fields);
    while (g_hash_table_iter_next (&iter, &key, &value))
      if (g_strcmp0 (value, g_hash_table_lookup (b->fields, key)) != 0)
        return FALSE;
  }
  return TRUE;
}

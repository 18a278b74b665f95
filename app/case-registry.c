/* SPDX-License-Identifier: GPL-3.0-or-later */
/* case-registry.c: a county registry file read and checked (case-registry.h). */
#define G_LOG_DOMAIN "hearth-case"

#include "case-registry.h"
#include "csv.h"
#include "id-number.h"
#include "store-file.h"

#include <glib/gi18n.h>
#include <string.h>

/* The columns of a registry file, by their English and Chinese names. */
static const struct { const char *column, *english, *chinese; gboolean required; } registry_columns[] = {
  { "household_no", "household_no", "户编号", TRUE },
  { "village_code", "village_code", "行政区划代码", TRUE },
  { "address", "address", "住址", FALSE },
  { "category", "category", "监测对象类别", FALSE },
  { "phone", "phone", "联系电话", FALSE },
  { "name", "name", "姓名", TRUE },
  { "id_number", "id_number", "身份证号", TRUE },
  { "relation", "relation", "与户主关系", TRUE },
  { "health", "health", "健康状况", FALSE },
  { "labour", "labour", "劳动技能", FALSE },
  { "school_status", "school_status", "在校生状况", FALSE },
  { "insurance", "insurance", "参加医疗保险", FALSE },
};

/* Indices of registry_columns. */
enum { COL_NO, COL_VILLAGE, COL_ADDRESS, COL_CATEGORY, COL_PHONE, COL_NAME, COL_ID, COL_RELATION, COL_HEALTH,
       COL_LABOUR, COL_SCHOOL, COL_INSURANCE };

static const char *const relations[] = { "01", "10", "20", "30", "40", "50", "60", "70", "99", NULL };

/* The values of the coded optional columns: the choices of the member's
 * question in schema/forms/household-registration.xml, which the tablet's
 * forms and risk rules compare with. */
static const struct { int column; const char *const *values; const char *shown; } coded_columns[] = {
  { COL_HEALTH, (const char *const[]) { "healthy", "chronic", "serious", "disabled", NULL },
    "healthy chronic serious disabled" },
  { COL_LABOUR, (const char *const[]) { "ordinary", "skilled", "weak", "lost", "none", NULL },
    "ordinary skilled weak lost none" },
  { COL_SCHOOL, (const char *const[]) { "not_student", "preschool", "primary", "junior", "senior", "vocational",
                                        "higher", "dropout", NULL },
    "not_student preschool primary junior senior vocational higher dropout" },
  { COL_INSURANCE, (const char *const[]) { "yes", "no", NULL }, "yes no" },
};

/* Whether @value is at most HEARTH_REGISTRY_MAX_CHARS characters of one
 * line: a longer one would not fit a change a tablet pulls (it would be
 * skipped there), a line break or a control character would break the
 * lists that show it. */
static gboolean
value_is_one_line (const char *value)
{
  glong n = 0;

  for (const char *p = value; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (++n > HEARTH_REGISTRY_MAX_CHARS || g_unichar_iscntrl (c) || c == 0x2028 || c == 0x2029)
        return FALSE;
    }
  return TRUE;
}

/* The first invisible formatting character of @value (a byte order mark,
 * a zero-width space, a direction override: Unicode's format category),
 * or 0. A registry number "\uFEFF1504…" (a BOM left inside a file joined
 * from two) is another number than "1504…" to every later check of
 * duplicates, and a name with one is found by no search. The joiners
 * some scripts' names need are kept. */
static gunichar
invisible_in (const char *value)
{
  for (const char *p = value; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_type (c) == G_UNICODE_FORMAT && c != 0x200c && c != 0x200d)
        return c;
    }
  return 0;
}

typedef struct {
  char *values[G_N_ELEMENTS (registry_columns)];
  char *id_number, *birth_date;
  char sex;
  guint line;
} RegistryRow;

typedef struct {
  const char *no;       /* the head's values[COL_NO] */
  RegistryRow *head;
  GPtrArray *members;   /* RegistryRow, borrowed from rows */
} RegistryHousehold;

struct _HearthRegistry {
  GPtrArray *rows;        /* RegistryRow, owned */
  GPtrArray *households;  /* RegistryHousehold, in the file's order */
  GPtrArray *notices;     /* "line N: …" of values not imported, owned */
};

static void
registry_row_free (gpointer data)
{
  RegistryRow *r = data;

  for (gsize i = 0; i < G_N_ELEMENTS (registry_columns); i++)
    g_free (r->values[i]);
  g_free (r->id_number);
  g_free (r->birth_date);
  g_free (r);
}

static void
registry_household_free (gpointer data)
{
  RegistryHousehold *h = data;

  g_ptr_array_unref (h->members);
  g_free (h);
}

void
hearth_case_registry_free (HearthRegistry *registry)
{
  if (registry == NULL)
    return;
  g_ptr_array_unref (registry->households);
  g_ptr_array_unref (registry->rows);
  g_ptr_array_unref (registry->notices);
  g_free (registry);
}

static guint lines_in (const char *from, const char *to);

/* The line of @text (of @len bytes) where its UTF-8 goes wrong (a NUL
 * included), counted from 1; 0 when it is all UTF-8. */
static guint
bad_utf8_line (const char *text, gsize len)
{
  const char *end = NULL;

  if (g_utf8_validate_len (text, len, &end))
    return 0;
  return lines_in (text, end) + 1;
}

/* Whether @text (of @len bytes, not all UTF-8) is UTF-8 but for a few
 * bytes: at least 16 UTF-8 characters beyond ASCII, 8 or more for each
 * byte that is not UTF-8 (a Latin-1 "é" left in an address). Read as
 * GB18030 such a file may decode, every Chinese name garbled ("张三" as
 * "寮犱笁"). GB18030 text forms a UTF-8 character only by chance: fewer
 * than its bad bytes in a registry (a sixth of them in the demo county's),
 * at most 4 for 1 in a name or two. */
static gboolean
mostly_utf8 (const char *text, gsize len)
{
  const char *p = text, *end = text + len;
  gsize valid = 0, invalid = 0;

  while (p < end)
    {
      const char *bad = NULL;
      gboolean whole = g_utf8_validate_len (p, (gsize) (end - p), &bad);
      const char *stop = whole ? end : bad;

      for (const char *q = p; q < stop; q = g_utf8_next_char (q))
        if ((guchar) *q >= 0x80)
          valid++;
      if (whole)
        break;
      invalid++;
      p = bad + 1;
    }
  return valid >= 16 && valid >= 8 * invalid;
}

/* The file's text in UTF-8: UTF-8 (a byte order mark dropped) or GB18030.
 * Read bounded: a FIFO, a device (/dev/zero) or a file larger than
 * HEARTH_REGISTRY_MAX_BYTES is refused, not read without end. */
static char *
registry_text (const char *path, GError **error)
{
  g_autoptr(GBytes) bytes = NULL;
  const char *raw;
  gsize len = 0;
  g_autoptr(GError) local = NULL;

  bytes = hearth_file_read_bounded (path, HEARTH_REGISTRY_MAX_BYTES, &local);
  if (bytes == NULL)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID, _("the registry cannot be read: %s"),
                   local->message);
      return NULL;
    }
  raw = g_bytes_get_data (bytes, &len);
  if (raw == NULL)
    raw = "";
  /* Said so, not as five missing columns (break33); a byte order mark
   * alone too. */
  if (len == 0 || (len == 3 && memcmp (raw, "\xef\xbb\xbf", 3) == 0))
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID, _("the registry file is empty"));
      return NULL;
    }
  /* A byte order mark says UTF-8, which must then hold, NULs refused as
   * below (g_strndup() would end the text at one unseen). The refusal
   * names the line, as an editor counts them, where the text goes wrong. */
  if (len >= 3 && memcmp (raw, "\xef\xbb\xbf", 3) == 0)
    {
      guint bad = bad_utf8_line (raw + 3, len - 3);

      if (bad > 0)
        {
          g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                       _("the registry starts with a UTF-8 byte order mark, and line %u is not UTF-8 text (a byte "
                         "of another encoding, or a NUL)"),
                       bad);
          return NULL;
        }
      return g_strndup (raw + 3, len - 3);
    }
  /* The bytes read end without a NUL: a copy that has one. */
  if (g_utf8_validate_len (raw, len, NULL))
    return g_strndup (raw, len);
  {
    const char *nul = memchr (raw, '\0', len);
    gsize read = 0;
    g_autoptr(GError) convert_error = NULL;
    char *text = NULL;

    if (nul != NULL)
      {
        g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                     _("line %u of the registry holds a NUL byte: the registry must be text (UTF-8 or GB18030)"),
                     lines_in (raw, nul) + 1);
        return NULL;
      }
    /* UTF-8 but for a byte (break33: imported as GB18030, exit 0). */
    if (mostly_utf8 (raw, len))
      {
        g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                     _("the registry is UTF-8 text but line %u holds a byte that is not UTF-8 (a character of another "
                       "encoding?): read as GB18030, every name would be garbled"),
                     bad_utf8_line (raw, len));
        return NULL;
      }
    text = g_convert (raw, (gssize) len, "UTF-8", "GB18030", &read, NULL, &convert_error);
    if (text == NULL || !g_utf8_validate (text, -1, NULL))
      {
        g_free (text);
        g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                     _("the registry is neither UTF-8 nor GB18030 text: line %u is not UTF-8, line %u not GB18030"),
                     bad_utf8_line (raw, len), lines_in (raw, raw + MIN (read, len)) + 1);
        return NULL;
      }
    return text;
  }
}

/* The lines from @from to @to: its line feeds, and carriage returns
 * without one (hearth_csv_record() ends a record at either). */
static guint
lines_in (const char *from, const char *to)
{
  guint n = 0;

  for (const char *q = from; q < to; q++)
    if (*q == '\n' || (*q == '\r' && (q + 1 >= to || q[1] != '\n')))
      n++;
  return n;
}

/* Why @row is refused, or NULL; FALSE when @taken failed. */
static gboolean
check_row (RegistryRow *row, const char *county, GHashTable *ids, HearthRegistryTakenFunc taken, gpointer data,
           char **why_out, GError **error)
{
  g_autofree char *why = NULL;

  *why_out = NULL;
  for (gsize c = 0; c < G_N_ELEMENTS (registry_columns); c++)
    if (registry_columns[c].required && row->values[c][0] == '\0' && why == NULL)
      why = g_strdup_printf (_("%s is empty"), registry_columns[c].english);
  for (gsize c = 0; c < G_N_ELEMENTS (registry_columns) && why == NULL; c++)
    {
      gunichar invisible;

      if (!value_is_one_line (row->values[c]))
        why = g_strdup_printf (_("%s is longer than %d characters or holds a line break or a control character"),
                               registry_columns[c].english, HEARTH_REGISTRY_MAX_CHARS);
      else if ((invisible = invisible_in (row->values[c])) != 0)
        /* TRANSLATORS: a column name, then a Unicode code point (FEFF) */
        why = g_strdup_printf (_("%s holds the invisible character U+%04X (a byte order mark or direction mark "
                                 "copied with the text?)"),
                               registry_columns[c].english, invisible);
    }
  for (gsize k = 0; k < G_N_ELEMENTS (coded_columns) && why == NULL; k++)
    {
      const char *value = row->values[coded_columns[k].column];

      if (value[0] != '\0' && !g_strv_contains (coded_columns[k].values, value))
        why = g_strdup_printf (_("%s \"%s\" is not one of %s"), registry_columns[coded_columns[k].column].english,
                               value, coded_columns[k].shown);
    }
  if (why == NULL && (strlen (row->values[COL_VILLAGE]) != 12 || strspn (row->values[COL_VILLAGE], "0123456789") != 12))
    why = g_strdup_printf (_("the village code \"%s\" is not 12 digits"), row->values[COL_VILLAGE]);
  /* A statistics table writes a township's code in 12 digits, ending in
   * 000: households under it would be in no village (no village clerk's
   * scope holds them). No division's own part is 000 (GB/T 2260). */
  if (why == NULL && strncmp (row->values[COL_VILLAGE] + 6, "000", 3) == 0)
    why = g_strdup_printf (_("the village code \"%s\" has 000 for its township: no township's code is 000"),
                           row->values[COL_VILLAGE]);
  if (why == NULL && strncmp (row->values[COL_VILLAGE] + 9, "000", 3) == 0)
    why = g_strdup_printf (_("the village code \"%s\" ends in 000: that is township %.9s written in 12 digits, not a "
                             "village"),
                           row->values[COL_VILLAGE], row->values[COL_VILLAGE]);
  if (why == NULL && county != NULL && !g_str_has_prefix (row->values[COL_VILLAGE], county))
    why = g_strdup_printf (_("the village code \"%s\" is outside county %s"), row->values[COL_VILLAGE], county);
  if (why == NULL)
    {
      g_autofree char *id_why = hearth_id_number_check (row->values[COL_ID], &row->id_number, &row->birth_date,
                                                        &row->sex);
      /* The line, not the number: the output may be kept in a terminal's
       * log, and an ID number is personal data (break33). */
      if (id_why != NULL)
        why = g_strdup_printf (_("ID number: %s"), id_why);
    }
  if (why == NULL && !g_strv_contains (relations, row->values[COL_RELATION]))
    why = g_strdup_printf (_("the relation \"%s\" is not one of 01 10 20 30 40 50 60 70 99"),
                           row->values[COL_RELATION]);
  if (why == NULL && row->values[COL_CATEGORY][0] != '\0' &&
      !g_strv_contains ((const char *const[]) { "0", "1", "2", NULL }, row->values[COL_CATEGORY]))
    why = g_strdup_printf (_("the category \"%s\" is not 0, 1 or 2"), row->values[COL_CATEGORY]);
  if (why == NULL && g_hash_table_contains (ids, row->id_number))
    why = g_strdup_printf (_("the ID number is the one of line %u too"),
                           ((RegistryRow *) g_hash_table_lookup (ids, row->id_number))->line);
  if (why == NULL && taken != NULL)
    {
      gboolean is_taken = FALSE;

      if (!taken (HEARTH_REGISTRY_ID_NUMBER, row->id_number, &is_taken, data, error))
        return FALSE;
      if (is_taken)
        why = g_strdup (_("the ID number is already in the store"));
    }
  *why_out = g_steal_pointer (&why);
  return TRUE;
}

HearthRegistry *
hearth_case_registry_read (const char *path, const char *county, HearthRegistryTakenFunc taken, gpointer data,
                           GPtrArray **problems_out, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) header = NULL;
  g_autoptr(GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) by_no = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) refused_nos = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(HearthRegistry) registry = g_new0 (HearthRegistry, 1);
  int index[G_N_ELEMENTS (registry_columns)];
  const char *p;
  HearthCsvProblem bad = HEARTH_CSV_OK;
  gboolean header_ok;
  gboolean stopped = FALSE;   /* the check stopped at HEARTH_REGISTRY_MAX_PROBLEMS */
  guint line = 1, next_line = 1;

  g_return_val_if_fail (path != NULL, NULL);

  if (problems_out != NULL)
    *problems_out = NULL;
  registry->rows = g_ptr_array_new_with_free_func (registry_row_free);
  registry->households = g_ptr_array_new_with_free_func (registry_household_free);
  registry->notices = g_ptr_array_new_with_free_func (g_free);
  text = registry_text (path, error);
  if (text == NULL)
    return NULL;
  p = text;
  header = hearth_csv_record_strict (&p, &bad);
  next_line += lines_in (text, p);
  if (bad == HEARTH_CSV_TEXT_AFTER_QUOTE)
    g_ptr_array_add (problems, g_strdup_printf (_("line %u: %s"), 1, _("text follows the closing quote of a quoted "
                                                                        "field (write \"\" for a quote inside "
                                                                        "one)")));
  else if (bad == HEARTH_CSV_UNCLOSED_QUOTE)
    g_ptr_array_add (problems, g_strdup_printf (_("line %u: a quoted field is not closed"), 1));
  for (gsize c = 0; c < G_N_ELEMENTS (registry_columns); c++)
    {
      index[c] = -1;
      for (guint k = 0; header != NULL && k < header->len; k++)
        {
          g_autofree char *name = g_strstrip (g_strdup (header->pdata[k]));
          if (!g_str_equal (name, registry_columns[c].english) && !g_str_equal (name, registry_columns[c].chinese))
            continue;
          /* Twice (in English and in Chinese): which one holds the values
           * is not known, and the last would win unseen. */
          if (index[c] >= 0)
            g_ptr_array_add (problems, g_strdup_printf (_("line 1: the column %s (%s) appears twice: columns %d and "
                                                          "%u"),
                                                        registry_columns[c].english, registry_columns[c].chinese,
                                                        index[c] + 1, k + 1));
          index[c] = (int) k;
        }
      if (index[c] < 0 && registry_columns[c].required)
        g_ptr_array_add (problems, g_strdup_printf (_("line 1: the column %s (%s) is missing"),
                                                    registry_columns[c].english, registry_columns[c].chinese));
    }
  /* Every row is checked (a bad header names the missing columns alone). */
  header_ok = problems->len == 0;
  while (header_ok && problems->len < HEARTH_REGISTRY_MAX_PROBLEMS)
    {
      const char *start = p;
      g_autoptr(GPtrArray) fields = hearth_csv_record_strict (&p, &bad);
      g_autofree char *why = NULL;
      RegistryRow *row;
      RegistryHousehold *h;

      /* A quoted field may hold line breaks: lines, not records, are
       * counted, as an editor shows them. */
      line = next_line;
      next_line += lines_in (start, p);
      if (bad == HEARTH_CSV_UNCLOSED_QUOTE)
        {
          g_ptr_array_add (problems, g_strdup_printf (_("line %u: a quoted field is not closed"), line));
          break;
        }
      if (fields == NULL)
        break;
      if (fields->len == 1 && ((char *) fields->pdata[0])[0] == '\0')
        continue;
      row = g_new0 (RegistryRow, 1);
      row->line = line;
      g_ptr_array_add (registry->rows, row);
      for (gsize c = 0; c < G_N_ELEMENTS (registry_columns); c++)
        row->values[c] = g_strstrip (g_strdup (index[c] >= 0 && (guint) index[c] < fields->len
                                               ? (char *) fields->pdata[index[c]] : ""));
      /* "张三"李四 was read as 张三李四, unseen; a field more or less
       * than the header (an address with an unquoted comma): its values
       * would land in the wrong columns. */
      if (bad == HEARTH_CSV_TEXT_AFTER_QUOTE)
        why = g_strdup (_("text follows the closing quote of a quoted field (write \"\" for a quote inside one)"));
      else if (fields->len != header->len)
        why = g_strdup_printf (_("a row has %u fields, the header %u (a value with a comma must be quoted)"),
                               fields->len, header->len);
      else if (!check_row (row, county, ids, taken, data, &why, error))
        return NULL;
      if (why != NULL)
        {
          g_ptr_array_add (problems, g_strdup_printf (_("line %u: %s"), line, why));
          g_hash_table_add (refused_nos, row->values[COL_NO]);
          continue;
        }
      g_hash_table_insert (ids, row->id_number, row);
      h = g_hash_table_lookup (by_no, row->values[COL_NO]);
      if (h == NULL)
        {
          h = g_new0 (RegistryHousehold, 1);
          h->no = row->values[COL_NO];
          h->members = g_ptr_array_new ();
          g_hash_table_insert (by_no, (gpointer) h->no, h);
          g_ptr_array_add (registry->households, h);
        }
      else if (!g_str_equal (((RegistryRow *) h->members->pdata[0])->values[COL_VILLAGE], row->values[COL_VILLAGE]))
        g_ptr_array_add (problems, g_strdup_printf (_("line %u: household %s has another village code on line %u"),
                                                    line, h->no, ((RegistryRow *) h->members->pdata[0])->line));
      g_ptr_array_add (h->members, row);
      if (g_str_equal (row->values[COL_RELATION], "01"))
        {
          if (h->head != NULL)
            g_ptr_array_add (problems, g_strdup_printf (_("line %u: household %s has a second head"), line, h->no));
          h->head = row;
        }
    }
  /* Rows left unread: the check stopped at its bound. */
  stopped = header_ok && problems->len >= HEARTH_REGISTRY_MAX_PROBLEMS && p[strspn (p, "\r\n")] != '\0';
  for (guint i = 0; header_ok && i < registry->households->len; i++)
    {
      RegistryHousehold *h = registry->households->pdata[i];
      gboolean is_taken = FALSE;

      if (problems->len >= HEARTH_REGISTRY_MAX_PROBLEMS)
        {
          stopped = TRUE;
          break;
        }

      /* A head on a refused row was named already. */
      if (h->head == NULL && !g_hash_table_contains (refused_nos, h->no))
        g_ptr_array_add (problems, g_strdup_printf (_("line %u: household %s has no head (relation 01)"),
                                                    ((RegistryRow *) h->members->pdata[0])->line, h->no));
      if (taken != NULL && !taken (HEARTH_REGISTRY_HOUSEHOLD_NO, h->no, &is_taken, data, error))
        return NULL;
      if (is_taken)
        g_ptr_array_add (problems, g_strdup_printf (_("household %s is already in the store"), h->no));
    }
  /* A header alone is a file cut short or exported empty, not a registry
   * of no one: said, not "imported 0 households". */
  if (header_ok && problems->len == 0 && registry->households->len == 0)
    g_ptr_array_add (problems, g_strdup (_("the registry has its header and no household row")));
  /* The household's address and category are its head's (the case model
   * has no member address or category): another member's own value is
   * not imported, and said so per line, not dropped unseen (the line, not
   * the value: the output may be kept in a terminal's log). */
  for (guint i = 0; problems->len == 0 && i < registry->households->len; i++)
    {
      RegistryHousehold *h = registry->households->pdata[i];

      for (guint k = 0; k < h->members->len; k++)
        {
          RegistryRow *m = h->members->pdata[k];

          if (m == h->head)
            continue;
          if (m->values[COL_ADDRESS][0] != '\0' && !g_str_equal (m->values[COL_ADDRESS], h->head->values[COL_ADDRESS]))
            g_ptr_array_add (registry->notices,
                             g_strdup_printf (_("line %u: the member's own address was not imported: it differs "
                                                "from the head's (line %u), and a household has one address, its "
                                                "head's"),
                                              m->line, h->head->line));
          if (m->values[COL_CATEGORY][0] != '\0' &&
              !g_str_equal (m->values[COL_CATEGORY], h->head->values[COL_CATEGORY]))
            g_ptr_array_add (registry->notices,
                             g_strdup_printf (_("line %u: the member's own category was not imported: it differs "
                                                "from the head's (line %u), and a household has one category, its "
                                                "head's"),
                                              m->line, h->head->line));
        }
    }
  /* Not "1000 problems" for a file of 8,000 bad rows (a registry
   * imported twice): a county checking a restore reads the count. */
  if (stopped)
    {
      g_ptr_array_add (problems, g_strdup_printf (_("the check stopped after %u problems: the rest of the file was "
                                                    "not checked"),
                                                  HEARTH_REGISTRY_MAX_PROBLEMS));
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                   _("at least %u problems in the registry (the first %u listed): nothing was imported"),
                   HEARTH_REGISTRY_MAX_PROBLEMS, HEARTH_REGISTRY_MAX_PROBLEMS);
      if (problems_out != NULL)
        *problems_out = g_steal_pointer (&problems);
      return NULL;
    }
  if (problems->len > 0)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                   g_dngettext (GETTEXT_PACKAGE, "%u problem in the registry: nothing was imported",
                                "%u problems in the registry: nothing was imported", problems->len), problems->len);
      if (problems_out != NULL)
        *problems_out = g_steal_pointer (&problems);
      return NULL;
    }
  return g_steal_pointer (&registry);
}

GPtrArray *
hearth_case_registry_get_notices (const HearthRegistry *registry)
{
  g_return_val_if_fail (registry != NULL, NULL);
  return registry->notices;
}

guint
hearth_case_registry_get_n_households (const HearthRegistry *registry)
{
  g_return_val_if_fail (registry != NULL, 0);
  return registry->households->len;
}

guint
hearth_case_registry_get_n_members (const HearthRegistry *registry, guint household)
{
  g_return_val_if_fail (registry != NULL && household < registry->households->len, 0);
  return ((RegistryHousehold *) registry->households->pdata[household])->members->len;
}

static GHashTable *
fields_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

GHashTable *
hearth_case_registry_household_fields (const HearthRegistry *registry, guint household)
{
  RegistryHousehold *h;
  GHashTable *f;

  g_return_val_if_fail (registry != NULL && household < registry->households->len, NULL);
  h = registry->households->pdata[household];
  f = fields_new ();
  g_hash_table_insert (f, g_strdup ("registry_no"), g_strdup (h->no));
  g_hash_table_insert (f, g_strdup ("village_code"), g_strdup (h->head->values[COL_VILLAGE]));
  g_hash_table_insert (f, g_strdup ("address"), g_strdup (h->head->values[COL_ADDRESS]));
  g_hash_table_insert (f, g_strdup ("category"), g_strdup (h->head->values[COL_CATEGORY]));
  g_hash_table_insert (f, g_strdup ("phone"), g_strdup (h->head->values[COL_PHONE]));
  g_hash_table_insert (f, g_strdup ("head_name"), g_strdup (h->head->values[COL_NAME]));
  g_hash_table_insert (f, g_strdup ("head_id_number"), g_strdup (h->head->id_number));
  g_hash_table_insert (f, g_strdup ("member_count"), g_strdup_printf ("%u", h->members->len));
  return f;
}

GHashTable *
hearth_case_registry_member_fields (const HearthRegistry *registry, guint household, guint member,
                                    const char *household_id)
{
  RegistryHousehold *h;
  RegistryRow *r;
  GHashTable *f;

  g_return_val_if_fail (registry != NULL && household < registry->households->len && household_id != NULL, NULL);
  h = registry->households->pdata[household];
  g_return_val_if_fail (member < h->members->len, NULL);
  r = h->members->pdata[member];
  f = fields_new ();
  g_hash_table_insert (f, g_strdup ("household_id"), g_strdup (household_id));
  g_hash_table_insert (f, g_strdup ("position"), g_strdup_printf ("%u", member + 1));
  g_hash_table_insert (f, g_strdup ("name"), g_strdup (r->values[COL_NAME]));
  g_hash_table_insert (f, g_strdup ("id_number"), g_strdup (r->id_number));
  g_hash_table_insert (f, g_strdup ("sex"), g_strdup_printf ("%c", r->sex));
  g_hash_table_insert (f, g_strdup ("birth_date"), g_strdup (r->birth_date));
  g_hash_table_insert (f, g_strdup ("relation"), g_strdup (r->values[COL_RELATION]));
  /* Each member's own phone (the head's is the household's too). */
  g_hash_table_insert (f, g_strdup ("phone"), g_strdup (r->values[COL_PHONE]));
  g_hash_table_insert (f, g_strdup ("health"), g_strdup (r->values[COL_HEALTH]));
  g_hash_table_insert (f, g_strdup ("labour"), g_strdup (r->values[COL_LABOUR]));
  g_hash_table_insert (f, g_strdup ("school_status"), g_strdup (r->values[COL_SCHOOL]));
  g_hash_table_insert (f, g_strdup ("insurance"), g_strdup (r->values[COL_INSURANCE]));
  return f;
}

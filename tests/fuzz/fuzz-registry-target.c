/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-registry-target.c: CSV records and the county registry import
 * (fuzz-targets.h, hearth_fuzz_csv() and hearth_fuzz_registry()). */
#include "fuzz-targets.h"
#include "fuzz-util.h"

#include "case-registry.h"
#include "csv.h"
#include "id-number.h"

#include <stdio.h>
#include <string.h>

/* ---- CSV ------------------------------------------------------------------------- */

/* A field as RFC 4180 writes it: quoted when it holds a comma, a quote or
 * a line break, or starts with a quote (where the reader would take it
 * for a quoted field). */
static void
write_field (GString *out, const char *field)
{
  gboolean quote = strpbrk (field, ",\"\r\n") != NULL;

  if (quote)
    g_string_append_c (out, '"');
  for (const char *p = field; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  if (quote)
    g_string_append_c (out, '"');
}

/* Reads every record of @text; checks progress. */
static GPtrArray *
read_all (const char *text, gboolean *bad)
{
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  const char *p = text;
  GPtrArray *rec;

  *bad = FALSE;
  for (;;)
    {
      const char *before = p;

      rec = hearth_csv_record (&p, bad);
      if (rec == NULL)
        break;
      /* Every record moves on, and within the text. */
      fuzz_check (p > before && p <= text + strlen (text));
      fuzz_check (rec->len >= 1);
      g_ptr_array_add (records, rec);
      fuzz_check (records->len <= strlen (text));
    }
  fuzz_check (*p == '\0');
  return records;
}

void
hearth_fuzz_csv (const guint8 *data, gsize size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GPtrArray) again = NULL;
  g_autoptr(GString) written = g_string_new (NULL);
  gboolean utf8 = g_utf8_validate (text, -1, NULL);
  gboolean bad, bad_again;

  records = read_all (text, &bad);
  /* The separators are ASCII: the fields of UTF-8 text are UTF-8. */
  for (guint r = 0; r < records->len; r++)
    {
      GPtrArray *rec = records->pdata[r];

      for (guint f = 0; f < rec->len; f++)
        {
          fuzz_check (!utf8 || g_utf8_validate (rec->pdata[f], -1, NULL));
          if (f > 0)
            g_string_append_c (written, ',');
          write_field (written, rec->pdata[f]);
        }
      g_string_append (written, "\r\n");
    }
  /* Written back as RFC 4180 says, the records read the same, and the
   * strict reader finds nothing wrong with them; over the input it reads
   * the same fields as the lenient one. */
  again = read_all (written->str, &bad_again);
  fuzz_check (!bad_again);
  {
    const char *p = written->str;
    const char *q = text;
    HearthCsvProblem problem;
    GPtrArray *rec;

    while ((rec = hearth_csv_record_strict (&p, &problem)) != NULL)
      {
        fuzz_check (problem == HEARTH_CSV_OK);
        g_ptr_array_unref (rec);
      }
    for (guint r = 0; (rec = hearth_csv_record_strict (&q, &problem)) != NULL; r++)
      {
        GPtrArray *lenient = records->pdata[r];

        fuzz_check (r < records->len && rec->len == lenient->len);
        for (guint f = 0; f < rec->len; f++)
          fuzz_check (g_str_equal (rec->pdata[f], lenient->pdata[f]));
        g_ptr_array_unref (rec);
      }
  }
  fuzz_check (again->len == records->len);
  for (guint r = 0; r < records->len; r++)
    {
      GPtrArray *a = records->pdata[r], *b = again->pdata[r];

      fuzz_check (a->len == b->len);
      for (guint f = 0; f < a->len; f++)
        fuzz_check (g_str_equal (a->pdata[f], b->pdata[f]));
    }
}

/* ---- the registry ---------------------------------------------------------------- */

#define FUZZ_COUNTY "361102"

static const char *const problem_words[] = {
  "household_no", "village_code", "name", "id_number", "relation", "column", "quoted field", "village code",
  "ID number", "category", "household", "address", "phone", "health", "labour", "school_status", "insurance",
  "fields, the header", NULL,
};

typedef struct {
  guint asked;
} TakenState;

/* The store holds an ID number or registry number when its last
 * character is '7': deterministic, and some of each. */
static gboolean
fuzz_taken (HearthRegistryKey key, const char *value, gboolean *taken, gpointer data, GError **error)
{
  TakenState *state = data;
  gsize len = strlen (value);

  state->asked++;
  fuzz_check (g_utf8_validate (value, -1, NULL));
  if (key == HEARTH_REGISTRY_ID_NUMBER)
    {
      g_autofree char *normalised = NULL;
      g_autofree char *why = hearth_id_number_check (value, &normalised, NULL, NULL);

      /* Only checked numbers are asked about, as the store keeps them. */
      fuzz_check (why == NULL && g_str_equal (normalised, value));
    }
  else
    fuzz_check (len > 0);
  *taken = len > 0 && value[len - 1] == '7';
  return TRUE;
}

/* Text without blanks at either end, as every value is kept. */
static gboolean
trimmed (const char *s)
{
  gsize n = strlen (s);

  return n == 0 || (!g_ascii_isspace (s[0]) && !g_ascii_isspace (s[n - 1]));
}

static void
check_accepted (const HearthRegistry *registry, const guint8 *data, gsize size, const char *county)
{
  static const char *const relations[] = { "01", "10", "20", "30", "40", "50", "60", "70", "99", NULL };
  g_autoptr(GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) nos = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");
  guint n = hearth_case_registry_get_n_households (registry);

  /* A NUL is no part of UTF-8 or GB18030 text: what follows one must
   * not be dropped unseen. */
  fuzz_check (memchr (data, '\0', size) == NULL);
  for (guint h = 0; h < n; h++)
    {
      g_autoptr(GHashTable) hf = hearth_case_registry_household_fields (registry, h);
      const char *village = g_hash_table_lookup (hf, "village_code");
      const char *no = g_hash_table_lookup (hf, "registry_no");
      guint members = hearth_case_registry_get_n_members (registry, h);
      g_autofree char *count = g_strdup_printf ("%u", members);
      guint heads = 0;
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, hf);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        fuzz_check (value != NULL && g_utf8_validate (value, -1, NULL) && trimmed (value));
      fuzz_check (no[0] != '\0' && g_hash_table_add (nos, g_strdup (no)));
      fuzz_check (strlen (village) == 12 && strspn (village, "0123456789") == 12);
      fuzz_check (county == NULL || g_str_has_prefix (village, county));
      fuzz_check (g_str_equal (g_hash_table_lookup (hf, "member_count"), count));
      fuzz_check (((const char *) g_hash_table_lookup (hf, "head_name"))[0] != '\0');
      fuzz_check (members >= 1);
      for (guint m = 0; m < members; m++)
        {
          g_autoptr(GHashTable) mf = hearth_case_registry_member_fields (registry, h, m, "household");
          const char *id = g_hash_table_lookup (mf, "id_number");
          const char *birth = g_hash_table_lookup (mf, "birth_date");
          g_autofree char *normalised = NULL;
          g_autofree char *birth_again = NULL;
          g_autofree char *position = g_strdup_printf ("%u", m + 1);
          char sex = 0;
          g_autofree char *why = hearth_id_number_check (id, &normalised, &birth_again, &sex);

          g_hash_table_iter_init (&iter, mf);
          while (g_hash_table_iter_next (&iter, NULL, &value))
            fuzz_check (value != NULL && g_utf8_validate (value, -1, NULL) && trimmed (value));
          /* GB 11643: the check character, a real birth date not in the
           * future, and the sex and birth date taken from the number. */
          fuzz_check (why == NULL && g_str_equal (normalised, id));
          fuzz_check (g_str_equal (birth, birth_again) && strcmp (birth, today) <= 0);
          fuzz_check (((const char *) g_hash_table_lookup (mf, "sex"))[0] == sex);
          fuzz_check (g_hash_table_add (ids, g_strdup (id)));
          fuzz_check (g_str_equal (g_hash_table_lookup (mf, "position"), position));
          fuzz_check (g_str_equal (g_hash_table_lookup (mf, "household_id"), "household"));
          fuzz_check (((const char *) g_hash_table_lookup (mf, "name"))[0] != '\0');
          fuzz_check (g_strv_contains (relations, g_hash_table_lookup (mf, "relation")));
          if (g_str_equal (g_hash_table_lookup (mf, "relation"), "01"))
            {
              heads++;
              fuzz_check (g_str_equal (g_hash_table_lookup (hf, "head_id_number"), id));
              fuzz_check (g_str_equal (g_hash_table_lookup (hf, "head_name"), g_hash_table_lookup (mf, "name")));
            }
        }
      fuzz_check (heads == 1);
    }
}

/* The lines of @text: a problem names one of them (or the one after the
 * last, where the text ended inside quotes). */
static guint
count_lines (const guint8 *data, gsize size)
{
  guint lines = 1;

  for (gsize i = 0; i < size; i++)
    if (data[i] == '\n' || (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n')))
      lines++;
  return lines;
}

static void
check_refused (const GError *error, GPtrArray *problems, const guint8 *data, gsize size, gboolean with_taken)
{
  guint lines = count_lines (data, size);

  hearth_fuzz_check_message (error);
  fuzz_check (error->domain == HEARTH_CASE_ERROR && error->code == HEARTH_CASE_ERROR_INVALID);
  if (problems == NULL)
    return;
  fuzz_check (problems->len >= 1 && problems->len <= 1002);
  for (guint i = 0; i < problems->len; i++)
    {
      const char *problem = problems->pdata[i];
      unsigned line = 0;
      int consumed = 0;
      gboolean named = FALSE;

      fuzz_check (g_utf8_validate (problem, -1, NULL));
      if (with_taken && g_str_has_prefix (problem, "household ") && g_str_has_suffix (problem, " is already in the store"))
        continue;
      /* The file as a whole, alone: no line to name. */
      if (g_str_equal (problem, "the registry has its header and no household row"))
        {
          fuzz_check (problems->len == 1);
          continue;
        }
      /* "line N: what is wrong", naming the field or the household. */
      fuzz_check (sscanf (problem, "line %u: %n", &line, &consumed) == 1 && consumed > 0);
      fuzz_check (line >= 1 && line <= lines + 1);
      fuzz_check (problem[consumed] != '\0');
      for (guint w = 0; problem_words[w] != NULL && !named; w++)
        named = strstr (problem + consumed, problem_words[w]) != NULL;
      fuzz_check (named);
    }
}

static void
read_registry (const char *path, const guint8 *data, gsize size, const char *county, gboolean with_taken)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  TakenState state = { 0 };
  g_autoptr(HearthRegistry) registry = hearth_case_registry_read (path, county, with_taken ? fuzz_taken : NULL,
                                                                  &state, &problems, &error);

  if (registry == NULL)
    {
      check_refused (error, problems, data, size, with_taken);
      return;
    }
  fuzz_check (error == NULL && problems == NULL);
  check_accepted (registry, data, size, county);
}

void
hearth_fuzz_registry (const guint8 *data, gsize size)
{
  const char *path;
  int fd = hearth_fuzz_scratch_file (&path);

  hearth_fuzz_write_file (fd, data, size);
  read_registry (path, data, size, NULL, FALSE);
  read_registry (path, data, size, FUZZ_COUNTY, TRUE);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* center-export.c: county batches from the center's store (center-export.h). */
#define G_LOG_DOMAIN "hearth-center"

#include "center-export.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>

G_DEFINE_QUARK (hearth-center-export-error-quark, hearth_center_export_error)

/* One file of a batch: a table's columns after "id" (and "village" when
 * @village), in the order of the tablet's tables; @last stays last (a
 * submission's XML, in its own column after the short ones). A field the
 * list does not know (a newer tablet's) gets a column of its own before
 * @last, so nothing is left out. */
typedef struct {
  const char *table;
  gboolean records;
  gboolean village;
  const char *const *columns;
  const char *last;
} TableSpec;

static const char *const household_columns[] = {
  "registry_no", "village_code", "address", "head_name", "head_id_number", "category", "phone", "location",
  "member_count", "per_capita_income", "risk_level", "risk_types", "risk_submission", "monitoring_status",
  "last_visit_date", "next_visit_date", "eliminated_on", "entity_version", "deleted", NULL,
};
static const char *const member_columns[] = {
  "household_id", "position", "name", "id_number", "sex", "birth_date", "relation", "ethnicity", "phone",
  "education", "school_status", "health", "disability_cert_year", "labour", "months_worked", "work_place",
  "insurance", "benefits", "deleted", NULL,
};
static const char *const submission_columns[] = {
  "household_id", "form_id", "form_version", "author", "device_id", "started_at", "ended_at", "location",
  "risk_level", "deprecated_id", "recorded_at", NULL,
};
static const char *const task_columns[] = {
  "household_id", "kind", "due_date", "reason", "status", "assignee", "opened_by", "closed_by", NULL,
};
static const char *const review_columns[] = {
  "household_id", "submission_id", "actor", "role", "at", "from_state", "to_state", "comment", NULL,
};
static const char *const measure_columns[] = {
  "household_id", "type", "description", "started_on", "ended_on", "status", "created_by", "last_progress",
  "last_effect", "last_remark", "progress_on", "progress_submission", NULL,
};
static const char *const conflict_columns[] = {
  "id", "record_table", "record_id", "field", "household", "village", "kept_value", "kept_hlc", "lost_value",
  "lost_hlc", NULL,
};

static const TableSpec tables[] = {
  { "households", FALSE, FALSE, household_columns, NULL },
  { "members", FALSE, TRUE, member_columns, NULL },
  { "submissions", TRUE, TRUE, submission_columns, "instance_xml" },
  { "tasks", FALSE, TRUE, task_columns, NULL },
  { "reviews", TRUE, TRUE, review_columns, NULL },
  { "measures", FALSE, TRUE, measure_columns, NULL },
};

gboolean
hearth_center_export_parse_format (const char *text, HearthBatchFormat *format, GError **error)
{
  if (g_strcmp0 (text, "csv") == 0)
    *format = HEARTH_BATCH_CSV;
  else if (g_strcmp0 (text, "json") == 0)
    *format = HEARTH_BATCH_JSON;
  else
    {
      g_set_error (error, HEARTH_CENTER_EXPORT_ERROR, HEARTH_CENTER_EXPORT_ERROR_INVALID,
                   _("the format must be csv or json, not “%s”"), text != NULL ? text : "");
      return FALSE;
    }
  return TRUE;
}

/* A date written YYYY-MM-DD. */
static gboolean
parse_date (const char *text, GDate *out)
{
  guint64 y, m, d;

  if (text == NULL || strlen (text) != 10 || text[4] != '-' || text[7] != '-' ||
      strspn (text, "0123456789-") != 10)
    return FALSE;
  y = g_ascii_strtoull (text, NULL, 10);
  m = g_ascii_strtoull (text + 5, NULL, 10);
  d = g_ascii_strtoull (text + 8, NULL, 10);
  if (y < 1 || y > 9999 || !g_date_valid_dmy ((GDateDay) d, (GDateMonth) m, (GDateYear) y))
    return FALSE;
  g_date_clear (out, 1);
  g_date_set_dmy (out, (GDateDay) d, (GDateMonth) m, (GDateYear) y);
  return TRUE;
}

G_GNUC_PRINTF (4, 5) static gboolean
refuse (GError **error, const char **field, const char *member, const char *format, ...)
{
  va_list args;

  if (field != NULL)
    *field = member;
  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (HEARTH_CENTER_EXPORT_ERROR, HEARTH_CENTER_EXPORT_ERROR_INVALID,
                                                format, args));
  va_end (args);
  return FALSE;
}

gboolean
hearth_center_export_check (const HearthCenterCounty *county, const HearthCenterExportQuery *q, const char **field,
                            GError **error)
{
  GDate since, until;
  gsize n;

  g_return_val_if_fail (county != NULL && county->code != NULL && q != NULL, FALSE);

  if (field != NULL)
    *field = NULL;
  n = q->scope != NULL ? strlen (q->scope) : 0;
  if ((n != 6 && n != 9 && n != 12) || strspn (q->scope, "0123456789") != n)
    return refuse (error, field, "scope",
                   _("the scope “%s” is not a division code: 6 digits (county), 9 (township) or 12 (village)"),
                   q->scope != NULL ? q->scope : "");
  if (!g_str_has_prefix (q->scope, county->code))
    return refuse (error, field, "scope", _("the scope “%s” is outside county %s"), q->scope, county->code);
  /* As a user's scope (center-main.c): no township's or village's own
   * part is 000 (GB/T 2260), so 150422000 (the county written in 9
   * digits) would match nothing and export an empty batch unsaid. */
  if (n > 6 && strcmp (q->scope + n - 3, "000") == 0)
    return refuse (error, field, "scope",
                   _("scope “%s” ends in 000: that is division %.*s written with more digits; give %.*s"), q->scope,
                   (int) n - 3, q->scope, (int) n - 3, q->scope);
  if (n == 12 && strncmp (q->scope + 6, "000", 3) == 0)
    return refuse (error, field, "scope", _("scope “%s” has 000 for its township: no township's code is 000"),
                   q->scope);
  if (!parse_date (q->since, &since))
    return refuse (error, field, "since", _("the first day “%s” is not a date: write YYYY-MM-DD"),
                   q->since != NULL ? q->since : "");
  if (q->until != NULL)
    {
      if (!parse_date (q->until, &until))
        return refuse (error, field, "until", _("the last day “%s” is not a date: write YYYY-MM-DD"), q->until);
      if (g_date_compare (&until, &since) < 0)
        return refuse (error, field, "until", _("the period ends (%s) before it starts (%s)"), q->until, q->since);
    }
  if (q->after_cursor < 0)
    return refuse (error, field, "after_cursor", _("the cursor to continue after must be 0 or more"));
  return TRUE;
}

/* Midnight at the start of @date in @tz, in ms since 1970. GDateTime
 * holds the years 1 to 9999 only: the day after 9999-12-31 (the end of a
 * period that ends then) is later than any time, G_MAXINT64. */
static gint64
day_start_ms (const GDate *date, GTimeZone *tz)
{
  g_autoptr(GDateTime) t = NULL;

  if (g_date_get_year (date) > 9999)
    return G_MAXINT64;
  t = g_date_time_new (tz, g_date_get_year (date), g_date_get_month (date), g_date_get_day (date), 0, 0, 0);
  /* parse_date() admits years 1 to 9999, which every zone holds. */
  g_return_val_if_fail (t != NULL, G_MAXINT64);
  return g_date_time_to_unix (t) * 1000;
}

/* ---- writing ------------------------------------------------------------------------ */

typedef struct {
  HearthCenterTxn *txn;
  HearthBatchWriter *writer;
  HearthBatchFormat format;
  const HearthCenterRange *range;
  guint64 max_bytes;
  guint64 estimate;        /* what the files hold so far, about */
  GPtrArray *conflicts;    /* HearthCenterConflict of the records written */
} Export;

static gboolean
too_large (GError **error)
{
  g_set_error (error, HEARTH_CENTER_EXPORT_ERROR, HEARTH_CENTER_EXPORT_ERROR_TOO_LARGE,
               _("the batch would be larger than allowed: export a shorter period (--until) or a smaller scope"));
  return FALSE;
}

/* Adds a row, keeping an estimate of the bytes written (quotes count
 * twice: CSV and JSON both escape them), to stop early at the limit. */
static gboolean
add_row (Export *e, GPtrArray *columns, const char *const *values, GError **error)
{
  for (guint i = 0; i < columns->len; i++)
    {
      const char *v = values[i] != NULL ? values[i] : "";

      e->estimate += strlen (v) + 3;
      for (const char *q = strchr (v, '"'); q != NULL; q = strchr (q + 1, '"'))
        e->estimate++;
      if (e->format == HEARTH_BATCH_JSON)
        e->estimate += strlen (columns->pdata[i]) + 4;
    }
  if (e->max_bytes > 0 && e->estimate > e->max_bytes)
    return too_large (error);
  return hearth_batch_writer_add_row (e->writer, values, error);
}

/* The columns of @spec's file: id, village, the known ones, the fields the
 * records hold that the list does not know (sorted), the last one. */
static GPtrArray *
table_columns (const TableSpec *spec, GPtrArray *fields)
{
  GPtrArray *columns = g_ptr_array_new_null_terminated (16, NULL, TRUE);

  g_ptr_array_add (columns, (gpointer) "id");
  if (spec->village)
    g_ptr_array_add (columns, (gpointer) "village");
  for (guint i = 0; spec->columns[i] != NULL; i++)
    g_ptr_array_add (columns, (gpointer) spec->columns[i]);
  for (guint i = 0; fields != NULL && i < fields->len; i++)
    {
      const char *f = fields->pdata[i];

      if (!g_strv_contains (spec->columns, f) && g_strcmp0 (f, spec->last) != 0 && !g_str_equal (f, "id") &&
          !g_str_equal (f, "village"))
        g_ptr_array_add (columns, (gpointer) f);
    }
  if (spec->last != NULL)
    g_ptr_array_add (columns, (gpointer) spec->last);
  return columns;
}

/* The values of one record for @columns (borrowed from @fields). */
static void
row_values (GPtrArray *columns, const char *id, const char *village, GHashTable *fields, const char **values)
{
  for (guint i = 0; i < columns->len; i++)
    {
      const char *c = columns->pdata[i];

      if (g_str_equal (c, "id"))
        values[i] = id;
      else if (g_str_equal (c, "village"))
        values[i] = village;
      else
        values[i] = g_hash_table_lookup (fields, c);
    }
}

static gboolean
write_table (Export *e, const TableSpec *spec, GError **error)
{
  g_autoptr(GPtrArray) fields = NULL;
  g_autoptr(GPtrArray) ids = hearth_center_txn_list_touched (e->txn, spec->table, e->range, &fields, error);
  g_autoptr(GPtrArray) columns = NULL;
  g_autofree const char **values = NULL;

  if (ids == NULL)
    return FALSE;
  columns = table_columns (spec, fields);
  values = g_new0 (const char *, columns->len + 1);
  if (!hearth_batch_writer_begin_table (e->writer, spec->table, (const char *const *) columns->pdata, error))
    return FALSE;
  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = ids->pdata[i];
      g_autoptr(GError) local = NULL;

      if (spec->records)
        {
          g_autoptr(HearthChange) record = hearth_center_txn_find_record (e->txn, spec->table, id, &local);

          if (record == NULL)
            {
              if (local != NULL)
                {
                  g_propagate_error (error, g_steal_pointer (&local));
                  return FALSE;
                }
              continue;  /* cannot be: listed in the same snapshot */
            }
          row_values (columns, id, record->village, record->fields, values);
          if (!add_row (e, columns, values, error))
            return FALSE;
        }
      else
        {
          g_autoptr(GPtrArray) states = hearth_center_txn_list_field_states (e->txn, spec->table, id, error);
          g_autoptr(GHashTable) by_field = g_hash_table_new (g_str_hash, g_str_equal);
          g_autoptr(GPtrArray) conflicts = NULL;
          const HearthChange *newest = NULL;

          if (states == NULL)
            return FALSE;
          /* The village of the newest field: where the record is now. */
          for (guint k = 0; k < states->len; k++)
            {
              const HearthChange *s = states->pdata[k];

              g_hash_table_insert (by_field, s->field, s->value);
              if (newest == NULL || strcmp (s->hlc, newest->hlc) > 0)
                newest = s;
            }
          row_values (columns, id, newest != NULL ? newest->village : NULL, by_field, values);
          if (!add_row (e, columns, values, error))
            return FALSE;
          conflicts = hearth_center_txn_list_conflicts (e->txn, spec->table, id, error);
          if (conflicts == NULL)
            return FALSE;
          g_ptr_array_extend_and_steal (e->conflicts, g_steal_pointer (&conflicts));
        }
    }
  return TRUE;
}

static gboolean
write_conflicts (Export *e, GError **error)
{
  g_autoptr(GPtrArray) columns = g_ptr_array_new ();

  for (guint i = 0; conflict_columns[i] != NULL; i++)
    g_ptr_array_add (columns, (gpointer) conflict_columns[i]);
  if (!hearth_batch_writer_begin_table (e->writer, "conflicts", conflict_columns, error))
    return FALSE;
  for (guint i = 0; i < e->conflicts->len; i++)
    {
      const HearthCenterConflict *c = e->conflicts->pdata[i];
      const char *values[] = { c->id, c->table, c->record_id, c->field, c->household, c->village, c->winner_value,
                               c->winner_hlc, c->loser_value, c->loser_hlc };

      if (!add_row (e, columns, values, error))
        return FALSE;
    }
  return TRUE;
}

/* Removes what a failed export wrote into @dir (and @dir when it made it). */
static void
remove_partial (const char *dir, HearthBatchFormat format, gboolean made_dir)
{
  const char *ext = format == HEARTH_BATCH_CSV ? ".csv" : ".json";

  for (gsize i = 0; i <= G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *name = g_strconcat (i < G_N_ELEMENTS (tables) ? tables[i].table : "conflicts", ext, NULL);
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  for (gsize i = 0; i < 2; i++)
    {
      g_autofree char *path = g_build_filename (dir, i == 0 ? "manifest.json" : HEARTH_BATCH_SIGNATURE_NAME, NULL);
      g_unlink (path);
    }
  if (made_dir)
    g_rmdir (dir);
}

/* The files' total size, read back: what the batch holds, exactly. */
static guint64
files_size (const char *dir, JsonObject *manifest)
{
  JsonArray *files = json_object_get_array_member (manifest, "files");
  guint64 total = 0;

  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      g_autofree char *path = g_build_filename (dir, json_object_get_string_member (
                                                       json_array_get_object_element (files, i), "name"), NULL);
      GStatBuf st;

      if (g_stat (path, &st) == 0)
        total += (guint64) st.st_size;
    }
  return total;
}

/* Signs the batch in @dir with the center's key (batch.h). */
static gboolean
sign_batch (HearthCenterTxn *txn, const char *dir, GError **error)
{
  guint8 public_key[HEARTH_BATCH_KEY_BYTES];
  guint8 *seed = sodium_malloc (crypto_sign_SEEDBYTES);
  gboolean ok;

  if (seed == NULL)
    g_error ("sodium_malloc failed");
  ok = hearth_center_txn_get_batch_key (txn, seed, public_key, error) && hearth_batch_sign (dir, seed, error);
  sodium_free (seed);
  return ok;
}

gboolean
hearth_center_export (HearthCenterStore *store, const HearthCenterExportQuery *q, const char *dir, guint64 max_bytes,
                      JsonObject **manifest_out, const char **field, GError **error)
{
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_auto(HearthCenterCounty) county = { 0 };
  g_autoptr(GTimeZone) tz = NULL;
  g_autoptr(JsonObject) manifest = NULL;
  g_autoptr(GPtrArray) conflicts = NULL;
  HearthCenterRange range = { 0 };
  Export e = { 0 };
  GDate since, until;
  gboolean made_dir, ok = TRUE;
  gint64 cursor_to;

  g_return_val_if_fail (HEARTH_IS_CENTER_STORE (store) && q != NULL && dir != NULL, FALSE);

  if (manifest_out != NULL)
    *manifest_out = NULL;
  if (field != NULL)
    *field = NULL;
  txn = hearth_center_store_begin (store, FALSE, error);
  if (txn == NULL || !hearth_center_txn_get_county (txn, &county, error))
    return FALSE;
  if (!hearth_center_export_check (&county, q, field, error))
    return FALSE;
  tz = g_time_zone_new_identifier (county.time_zone);
  if (tz == NULL)
    tz = g_time_zone_new_utc ();

  parse_date (q->since, &since);
  range.prefix = q->scope;
  range.after_cursor = q->after_cursor;
  range.from_ms = day_start_ms (&since, tz);
  range.until_ms = G_MAXINT64;
  if (q->until != NULL)
    {
      parse_date (q->until, &until);
      g_date_add_days (&until, 1);
      range.until_ms = day_start_ms (&until, tz);
    }
  range.last_cursor = hearth_center_txn_last_cursor (txn, error);
  if (range.last_cursor < 0)
    return FALSE;
  if (q->after_cursor > range.last_cursor)
    return refuse (error, field, "after_cursor",
                   _("the cursor to continue after, %lld, is beyond the center's last change, %lld"),
                   (long long) q->after_cursor, (long long) range.last_cursor);
  /* A period with an end: its cursor_to is the cursor before the first
   * change received after it, so that every change it leaves out for that
   * is above it, in the batch that continues from it (PROTOCOL.md section
   * 10). Without an end, the snapshot's last. */
  cursor_to = range.last_cursor;
  if (q->until != NULL)
    {
      gint64 before = hearth_center_txn_last_cursor_before (txn, range.until_ms, error);

      if (before < 0)
        return FALSE;
      cursor_to = CLAMP (before, q->after_cursor, range.last_cursor);
    }

  made_dir = !g_file_test (dir, G_FILE_TEST_IS_DIR);
  e.writer = hearth_batch_writer_new (dir, q->format, error);
  if (e.writer == NULL)
    return FALSE;
  e.txn = txn;
  e.format = q->format;
  e.range = &range;
  e.max_bytes = max_bytes;
  e.conflicts = conflicts = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_center_conflict_free);
  for (gsize i = 0; ok && i < G_N_ELEMENTS (tables); i++)
    ok = write_table (&e, &tables[i], error);
  ok = ok && write_conflicts (&e, error);
  if (!ok)
    {
      hearth_batch_writer_free (e.writer);
      remove_partial (dir, q->format, made_dir);
      return FALSE;
    }

  manifest = json_object_new ();
  json_object_set_string_member (manifest, "county", county.code);
  json_object_set_string_member (manifest, "scope", q->scope);
  json_object_set_string_member (manifest, "since", q->since);
  if (q->until != NULL)
    json_object_set_string_member (manifest, "until", q->until);
  else
    json_object_set_null_member (manifest, "until");
  json_object_set_string_member (manifest, "time_zone", county.time_zone);
  json_object_set_int_member (manifest, "cursor_from", q->after_cursor);
  json_object_set_int_member (manifest, "cursor_to", cursor_to);
  if (!hearth_batch_writer_finish (e.writer, manifest, error))
    {
      remove_partial (dir, q->format, made_dir);
      return FALSE;
    }
  if (max_bytes > 0 && files_size (dir, manifest) > max_bytes)
    {
      remove_partial (dir, q->format, made_dir);
      return too_large (error);
    }
  if (!sign_batch (txn, dir, error))
    {
      remove_partial (dir, q->format, made_dir);
      return FALSE;
    }
  if (manifest_out != NULL)
    *manifest_out = g_steal_pointer (&manifest);
  return TRUE;
}

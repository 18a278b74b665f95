/* SPDX-License-Identifier: GPL-3.0-or-later */
/* case-notice.c: a village's public notice (case-notice.h). */
#define G_LOG_DOMAIN "hearth-case"

#include "case-notice.h"
#include "case-store.h"

#include <glib/gi18n-lib.h>
#include <string.h>

static char *
column_dup (sqlite3_stmt *st, int i)
{
  const unsigned char *text = sqlite3_column_text (st, i);

  return g_strdup (text != NULL ? (const char *) text : "");
}

static void *
sql_failed (sqlite3 *db, GError **error)
{
  g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SQLITE, "%s", sqlite3_errmsg (db));
  return NULL;
}

void
hearth_notice_row_free (HearthNoticeRow *row)
{
  if (row == NULL)
    return;
  g_free (row->household_id);
  g_free (row->head_name);
  g_free (row->category);
  g_free (row->risk_types);
  g_free (row->measures);
  g_free (row->monitoring_status);
  g_free (row->reviewed_on);
  g_free (row->approved_on);
  g_free (row);
}

gboolean
hearth_notice_is_health_risk (const char *code)
{
  /* DOMAIN.md's risk types: 01 illness, 03 disability. */
  return g_strcmp0 (code, "01") == 0 || g_strcmp0 (code, "03") == 0;
}

/* The space-separated codes without those a notice may not show (and
 * nothing that is not a plain code: the field is the store's text). */
static char *
keep_codes (const char *codes, gboolean (*forbidden) (const char *code))
{
  g_auto(GStrv) parts = g_strsplit_set (codes != NULL ? codes : "", " \t", -1);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *c = parts[i];

      if (c[0] == '\0' || strlen (c) > 32 || strspn (c, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen (c) ||
          forbidden (c))
        continue;
      /* Each once. */
      if (out->len > 0)
        {
          g_autofree char *padded = g_strdup_printf (" %s ", out->str);
          g_autofree char *needle = g_strdup_printf (" %s ", c);

          if (strstr (padded, needle) != NULL)
            continue;
          g_string_append_c (out, ' ');
        }
      g_string_append (out, c);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
health_measure (const char *type)
{
  return g_strcmp0 (type, "health") == 0;
}

GStrv
hearth_case_notice_villages (sqlite3 *db, GError **error)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  sqlite3_stmt *st = NULL;
  int rc;

  g_return_val_if_fail (db != NULL, NULL);

  if (sqlite3_prepare_v2 (db, "SELECT DISTINCT village_code FROM households WHERE deleted = 0 ORDER BY 1", -1, &st,
                          NULL) != SQLITE_OK)
    return sql_failed (db, error);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_strv_builder_add (b, (const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return sql_failed (db, error);
  return g_strv_builder_end (b);
}

GPtrArray *
hearth_case_notice (sqlite3 *db, const char *village_code, GError **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_notice_row_free);
  sqlite3_stmt *st = NULL;
  int rc;

  g_return_val_if_fail (db != NULL, NULL);

  if (village_code == NULL || strlen (village_code) != 12 || strspn (village_code, "0123456789") != 12)
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                   _("“%s” is not a village code (12 digits)"), village_code != NULL ? village_code : "");
      return NULL;
    }
  /* Only the columns a notice may show are read: what is not read cannot
   * leak. The measures' types, not their descriptions. A review's time is
   * UTC: its day is the tablet's local one. */
  if (sqlite3_prepare_v2 (db,
                          "SELECT h.id, h.head_name, h.member_count, h.category, h.risk_types, "
                          "  (SELECT group_concat (m.type, ' ') FROM measures AS m "
                          "   WHERE m.household_id = h.id AND m.status = 'active'), "
                          "  h.monitoring_status, "
                          "  (SELECT date (r.at, 'localtime') FROM reviews AS r WHERE r.household_id = h.id AND "
                          "   r.to_state = 'pending_county_approval' ORDER BY r.at DESC, r.rowid DESC LIMIT 1), "
                          "  (SELECT date (r.at, 'localtime') FROM reviews AS r WHERE r.household_id = h.id AND "
                          "   r.to_state = 'monitored' ORDER BY r.at DESC, r.rowid DESC LIMIT 1) "
                          "FROM households AS h "
                          "WHERE h.deleted = 0 AND h.village_code = ? AND h.monitoring_status IN "
                          "  ('pending_county_approval', 'monitored', 'pending_elimination') "
                          "ORDER BY h.head_name, h.id LIMIT ?",
                          -1, &st, NULL) != SQLITE_OK)
    return sql_failed (db, error);
  sqlite3_bind_text (st, 1, village_code, -1, SQLITE_STATIC);
  sqlite3_bind_int (st, 2, HEARTH_NOTICE_MAX);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      HearthNoticeRow *row = g_new0 (HearthNoticeRow, 1);
      g_autofree char *risks = column_dup (st, 4);
      g_autofree char *measures = column_dup (st, 5);

      row->household_id = column_dup (st, 0);
      row->head_name = column_dup (st, 1);
      row->member_count = sqlite3_column_int64 (st, 2);
      row->category = column_dup (st, 3);
      row->risk_types = keep_codes (risks, hearth_notice_is_health_risk);
      row->measures = keep_codes (measures, health_measure);
      row->monitoring_status = column_dup (st, 6);
      row->reviewed_on = column_dup (st, 7);
      row->approved_on = column_dup (st, 8);
      g_ptr_array_add (rows, row);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return sql_failed (db, error);
  return g_steal_pointer (&rows);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-state-target.c: a record_state.state text read by the center's
 * own reader (state_parse() in sync/center-store-sqlite.c) and by the
 * fallback it leaves what it refuses to (SQLite's json_each()),
 * differentially (fuzz-targets.h, hearth_fuzz_state()). */
#include "fuzz-targets.h"
#include "fuzz-util.h"

#include "center-store-private.h"

#include <sqlite3.h>
#include <string.h>

static sqlite3 *db;

/* Whether @a and @b hold the same fields, in the same order. */
static gboolean
same_fields (GPtrArray *a, GPtrArray *b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    if (g_strcmp0 (a->pdata[i], b->pdata[i]) != 0)
      return FALSE;
  return TRUE;
}

/* Whether SQLite takes @data for JSON. */
static gboolean
json_valid (const guint8 *data, gsize size)
{
  sqlite3_stmt *st = NULL;
  gboolean valid;

  fuzz_check (sqlite3_prepare_v2 (db, "SELECT json_valid (?1)", -1, &st, NULL) == SQLITE_OK);
  sqlite3_bind_text64 (st, 1, size > 0 ? (const char *) data : "", size, SQLITE_STATIC, SQLITE_UTF8);
  fuzz_check (sqlite3_step (st) == SQLITE_ROW);
  valid = sqlite3_column_int (st, 0) == 1;
  sqlite3_finalize (st);
  return valid;
}

/* Every field of @fields has a name, a value and a cursor. */
static void
check_complete (GPtrArray *fields)
{
  fuzz_check (fields->len % 4 == 0);
  for (guint i = 0; i < fields->len; i += 4)
    fuzz_check (fields->pdata[i] != NULL && fields->pdata[i + 1] != NULL && fields->pdata[i + 2] != NULL);
}

void
hearth_fuzz_state (const guint8 *data, gsize size)
{
  g_autoptr(GPtrArray) parsed = NULL;
  g_autoptr(GPtrArray) read = NULL;
  g_autoptr(GError) error = NULL;
  guint skipped = 0;

  if (db == NULL)
    fuzz_check (sqlite3_open (":memory:", &db) == SQLITE_OK);
  parsed = hearth_center_state_parse_private ((const char *) data, size);
  read = hearth_center_state_read_private (db, (const char *) data, size, &skipped, &error);
  fuzz_check ((read == NULL) == (error != NULL));
  if (read != NULL)
    check_complete (read);
  else
    fuzz_check (!json_valid (data, size));   /* JSON of any shape is read */
  if (parsed == NULL)
    return;   /* the fallback's: it must only not crash */

  /* What the reader accepts, SQLite reads the same: the reader is the
   * fallback's shortcut, not another format. */
  check_complete (parsed);
  fuzz_check (read != NULL);
  fuzz_check (skipped == 0);
  fuzz_check (same_fields (parsed, read));

  /* Written back as the writer writes it, both read it the same again. */
  {
    g_autofree char *json = hearth_center_state_json_private (parsed);
    g_autoptr(GPtrArray) again = hearth_center_state_parse_private (json, strlen (json));
    g_autoptr(GPtrArray) again_read = hearth_center_state_read_private (db, json, strlen (json), &skipped, NULL);

    fuzz_check (again != NULL);
    fuzz_check (same_fields (parsed, again));
    fuzz_check (again_read != NULL && same_fields (parsed, again_read));
  }
}

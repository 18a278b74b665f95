/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * center-vacuum.c: `hearth-center vacuum`, the store rewritten offline
 * (center-vacuum.h).
 */
#include "center-vacuum.h"
#include "center-store-sqlite.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/statvfs.h>

/* How long the rewrite waits for another connection to let go: an
 * export or a backup that ends soon is waited for, a serving center is
 * not. */
#define VACUUM_BUSY_MS 5000
/* Room kept free beside the journal and the temporary copy. */
#define VACUUM_SPARE_BYTES (64 * 1024 * 1024)

static gint64
file_bytes (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gint64) st.st_size : 0;
}

/* The store's files: the database and its WAL. */
static gint64
store_bytes (const char *path)
{
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);

  return file_bytes (path) + file_bytes (wal);
}

static gboolean
failed_as (GError **error, GQuark domain, int code, const char *step, const char *reason)
{
  g_set_error (error, domain, code, _("the store could not be vacuumed (%s): %s"), step, reason);
  return FALSE;
}

static gboolean
failed (GError **error, const char *step, const char *reason)
{
  return failed_as (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_FAILED, step, reason);
}

/* Another connection has the store: what to do about it. */
static gboolean
failed_busy (GError **error, const char *step)
{
  return failed_as (error, G_IO_ERROR, G_IO_ERROR_BUSY, step,
                    _("another process has the store open (a serving center, an export, a backup): let it end "
                      "first"));
}

/* Runs @sql, which answers one row of one column; its text in @out
 * (transfer full) when @out is not %NULL. */
static int
one_value (sqlite3 *db, const char *sql, char **out)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2 (db, sql, -1, &st, NULL);

  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        {
          if (out != NULL)
            *out = g_strdup ((const char *) sqlite3_column_text (st, 0));
          rc = SQLITE_OK;
        }
      else if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    }
  sqlite3_finalize (st);
  return rc;
}

static gint64
page_size (sqlite3 *db)
{
  g_autofree char *text = NULL;

  return one_value (db, "PRAGMA page_size", &text) == SQLITE_OK && text != NULL ? g_ascii_strtoll (text, NULL, 10)
                                                                                : 0;
}

/* Whether another connection holds the store: SQLite's answer to a step
 * that needs it alone. */
static gboolean
is_busy (int rc)
{
  return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

gboolean
hearth_center_store_sqlite_vacuum (const char *path, gint64 page_bytes, HearthCenterVacuum *out, GError **error)
{
  g_autofree char *folder = g_path_get_dirname (path);
  g_autofree char *mode = NULL;
  g_autofree char *check = NULL;
  g_autofree char *checkpoint = NULL;
  g_autofree char *set_size = NULL;
  char *old_temp = sqlite3_temp_directory;
  sqlite3 *db = NULL;
  struct statvfs fs;
  gboolean left_wal = FALSE, ok = FALSE;
  int rc;

  g_return_val_if_fail (path != NULL && out != NULL, FALSE);
  g_return_val_if_fail (page_bytes >= 512 && page_bytes <= 65536 && (page_bytes & (page_bytes - 1)) == 0, FALSE);
  memset (out, 0, sizeof *out);
  out->file_bytes_before = store_bytes (path);

  /* Twice the store: the rollback journal holds every page VACUUM writes
   * over, and the temporary copy it writes from is as large again. */
  if (statvfs (folder, &fs) != 0)
    return failed (error, folder, g_strerror (errno));
  if ((gint64) fs.f_bavail * (gint64) fs.f_frsize < 2 * out->file_bytes_before + VACUUM_SPARE_BYTES)
    {
      g_autofree char *need = g_format_size (2 * out->file_bytes_before + VACUUM_SPARE_BYTES);
      g_autofree char *have = g_format_size ((guint64) fs.f_bavail * fs.f_frsize);
      g_autofree char *reason = g_strdup_printf (_("it needs %s free in %s, which has %s"), need, folder, have);

      return failed_as (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, _("free space"), reason);
    }

  rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_EXRESCODE, NULL);
  if (rc != SQLITE_OK)
    {
      failed (error, path, db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
      goto out;
    }
  sqlite3_busy_timeout (db, VACUUM_BUSY_MS);
  /* VACUUM rebuilds every index: those on the key functions need them. */
  if ((rc = hearth_center_store_sqlite_add_functions (db)) != SQLITE_OK ||
      (rc = sqlite3_exec (db, "PRAGMA temp_store = FILE", NULL, NULL, NULL)) != SQLITE_OK)
    {
      failed (error, path, sqlite3_errmsg (db));
      goto out;
    }
  out->page_bytes_before = page_size (db);

  /* Everything of the WAL into the database first, the WAL emptied: a
   * busy checkpoint (its second column) means another connection reads
   * or writes the store. */
  rc = one_value (db, "PRAGMA wal_checkpoint (TRUNCATE)", &checkpoint);
  if (rc != SQLITE_OK || g_strcmp0 (checkpoint, "0") != 0)
    {
      if (rc != SQLITE_OK && !is_busy (rc))
        failed (error, _("checkpoint"), sqlite3_errmsg (db));
      else
        failed_busy (error, _("checkpoint"));
      goto out;
    }
  /* Out of WAL mode: SQLite refuses while another connection has the
   * store open, and answers the mode it is in. */
  rc = one_value (db, "PRAGMA journal_mode = DELETE", &mode);
  if (rc != SQLITE_OK || g_strcmp0 (mode, "delete") != 0)
    {
      if (rc != SQLITE_OK && !is_busy (rc))
        failed (error, _("leaving WAL mode"), sqlite3_errmsg (db));
      else
        failed_busy (error, _("leaving WAL mode"));
      goto out;
    }
  left_wal = TRUE;
  set_size = g_strdup_printf ("PRAGMA page_size = %" G_GINT64_FORMAT, page_bytes);
  /* SQLite's temporary copy beside the store, where the space was
   * checked (a small /tmp must not fail a large store). */
  sqlite3_temp_directory = sqlite3_mprintf ("%s", folder);
  rc = sqlite3_exec (db, set_size, NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec (db, "VACUUM", NULL, NULL, NULL);
  sqlite3_free (sqlite3_temp_directory);
  sqlite3_temp_directory = old_temp;
  if (rc != SQLITE_OK)
    {
      failed (error, "VACUUM", sqlite3_errmsg (db));
      goto out;
    }
  g_clear_pointer (&mode, g_free);
  rc = one_value (db, "PRAGMA journal_mode = WAL", &mode);
  if (rc != SQLITE_OK || g_strcmp0 (mode, "wal") != 0)
    {
      failed (error, _("WAL mode"), rc != SQLITE_OK ? sqlite3_errmsg (db) : mode);
      goto out;
    }
  left_wal = FALSE;
  rc = one_value (db, "PRAGMA quick_check", &check);
  if (rc != SQLITE_OK || g_strcmp0 (check, "ok") != 0)
    {
      failed (error, _("the check of every page"), rc != SQLITE_OK ? sqlite3_errmsg (db) : check);
      goto out;
    }
  out->page_bytes_after = page_size (db);
  ok = TRUE;

out:
  /* Whatever failed, the store goes back to WAL mode (VACUUM itself
   * changed nothing when it failed). */
  if (left_wal && db != NULL)
    sqlite3_exec (db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
  sqlite3_close (db);
  out->file_bytes_after = store_bytes (path);
  return ok;
}

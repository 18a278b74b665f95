/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * center-vacuum.h: rewriting a center's SQLite store offline, into the
 * page size a new store gets and without its free pages (`hearth-center
 * vacuum`, docs/operations.md).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What hearth_center_store_sqlite_vacuum() found and made. */
typedef struct
{
  gint64 page_bytes_before;
  gint64 page_bytes_after;
  gint64 file_bytes_before;   /* the database and its WAL */
  gint64 file_bytes_after;
} HearthCenterVacuum;

/**
 * hearth_center_store_sqlite_vacuum:
 * @path: the database file of a center store (migrated: open it with
 *   hearth_center_store_sqlite_open() first, and close it)
 * @page_bytes: the page size to rewrite it in (a power of two from 512 to
 *   65536; the center makes new stores with 8192)
 * @out: (out caller-allocates): the page and file sizes before and after
 *
 * Rewrites the store in place with SQLite's VACUUM (lang_vacuum.html):
 * its WAL checkpointed into it, the store out of WAL mode for the rewrite
 * (the only way SQLite changes a store's page size), @page_bytes set, the
 * rewrite, then WAL mode again and a quick check of every page. VACUUM is
 * one transaction through a rollback journal beside the store: a crash or
 * an error leaves the store as it was (SQLite rolls the journal back when
 * the store is next opened), and the center opens a store left out of WAL
 * mode as any other (it sets WAL mode on every connection).
 *
 * The rewrite needs the store to itself: any other connection (a serving
 * center, an export, a backup) makes it fail before anything is changed.
 * It needs free space beside the store for the journal and SQLite's
 * temporary copy (both kept in the store's folder, not in /tmp): twice
 * the store's size, checked first.
 *
 * Returns: %FALSE with G_IO_ERROR_BUSY (another process has the store
 *   open), G_IO_ERROR_NO_SPACE (not enough free space beside it) or
 *   HEARTH_CENTER_STORE_ERROR_FAILED (SQLite's error), each naming the
 *   step; the store is then as it was, in WAL mode.
 *   Not thread-safe: the process must not use the store meanwhile.
 */
gboolean hearth_center_store_sqlite_vacuum (const char         *path,
                                            gint64              page_bytes,
                                            HearthCenterVacuum *out,
                                            GError            **error);

G_END_DECLS

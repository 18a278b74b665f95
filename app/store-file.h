/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store-file.h: durable, atomic small-file writes and bounded reads. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * hearth_file_replace_durably:
 * @path: the file to replace
 * @data: (array length=len): the new contents
 * @mode: permission bits for the new file (e.g. 0600)
 *
 * Writes @data to "@path.tmp", fsyncs it, renames it over @path and fsyncs
 * the directory, so that after a crash @path holds either the old or the
 * new contents, whole. (g_file_set_contents_full() skips the fsync when the
 * target is new and never syncs the directory, which a keyslot needs.)
 *
 * Returns: %TRUE, or %FALSE with HEARTH_STORE_ERROR_IO naming the file.
 *   Not safe against a concurrent writer of the same @path.
 */
gboolean hearth_file_replace_durably (const char *path,
                                      const void *data,
                                      gsize       len,
                                      int         mode,
                                      GError    **error);

/* fsyncs the directory @dir. */
gboolean hearth_file_sync_dir (const char *dir,
                               GError    **error);

/**
 * hearth_file_read_bounded:
 * @max: the largest size accepted, in bytes
 *
 * Returns: (transfer full) (nullable): the contents; %NULL with
 *   G_FILE_ERROR_NOENT when the file is missing, or
 *   HEARTH_STORE_ERROR_BAD_FILE when larger than @max or unreadable.
 */
GBytes *hearth_file_read_bounded (const char *path,
                                  gsize       max,
                                  GError    **error);

G_END_DECLS

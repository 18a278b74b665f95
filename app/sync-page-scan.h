/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sync-page-scan.h: reading a pull page's body straight into changes,
 * without json-glib's tree, for the shape the center writes
 * (sync/center-store-sqlite.c). A fresh device's pull reads ten thousand
 * changes a page, and building, reading and freeing the tree cost more
 * than applying them.
 */
#pragma once

#include "sync-reply.h"

G_BEGIN_DECLS

/**
 * hearth_sync_scan_pull_page:
 * @body: (array length=len): a 2xx reply's body to a pull (after gunzip)
 * @len: its length
 * @cursor: the cursor the request asked from
 * @out: (out caller-allocates): the page, when %TRUE
 *
 * Reads @body as hearth_sync_parse_reply() and hearth_sync_read_pull_page()
 * would, when it is plain: an object of "changes" (an array of change
 * objects, each of the members a center writes, string values with the
 * escapes \" \\ \/ \b \f \n \r \t only), "next_cursor", "more",
 * "compact_until" and "server_time", numbers being whole and from 0, no
 * member twice, every change one hearth_change_valid() takes, and the
 * page's cursors as hearth_sync_read_pull_page() requires them.
 *
 * Returns: %TRUE with @out holding what those two would have given (no
 *   change skipped); %FALSE for anything else, @out untouched: the caller
 *   reads @body through them, whose errors say what is wrong.
 *   Thread-safe.
 */
gboolean hearth_sync_scan_pull_page (const char         *body,
                                     gsize               len,
                                     gint64              cursor,
                                     HearthSyncPullPage *out);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-sync-page.h: how the tablet's sync stands (hearth-syncer.h):
 * synced, syncing, or not synced with the number of changes waiting; the
 * last successful sync; why the last run failed, in plain words, and
 * when the next try is; changes refused or not applied; a warning when
 * the tablet's clock is off the center's; "Sync now".
 */
#pragma once

#include <adwaita.h>

#include "hearth-session.h"
#include "hearth-syncer.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_SYNC_PAGE (hearth_sync_page_get_type ())
G_DECLARE_FINAL_TYPE (HearthSyncPage, hearth_sync_page, HEARTH, SYNC_PAGE, GtkWidget)

HearthSyncPage *hearth_sync_page_new (HearthSession *session);

/* Returns: (transfer none): the syncer shown. */
HearthSyncer *hearth_sync_page_get_syncer (HearthSyncPage *self);

/* Returns: (transfer none): the list of the changes the center refused
 * (HearthRefusedRow rows, the newest first), for tests. */
GtkListBox *hearth_sync_page_get_refused_list (HearthSyncPage *self);

G_END_DECLS

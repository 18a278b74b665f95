/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-export-page.h: the county staff's batch export (issue 6, item
 * 7): the cursor range of the last batch this tablet fetched; an area (the
 * county or a township), a period, whether to continue after the last
 * batch and a format; a folder chosen with GtkFileChooserNative (GTK 4.8
 * has no GtkFileDialog), the batch fetched from the center's export
 * endpoint into a new folder inside it as `hearth-cli export` writes it
 * (app/sync-export.h), in the background, verified, and its files with
 * their record counts shown; a failure said in plain words.
 */
#pragma once

#include <adwaita.h>

#include "hearth-session.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_EXPORT_PAGE (hearth_export_page_get_type ())
G_DECLARE_FINAL_TYPE (HearthExportPage, hearth_export_page, HEARTH, EXPORT_PAGE, GtkWidget)

HearthExportPage *hearth_export_page_new (HearthSession *session);

/**
 * hearth_export_page_export_to:
 * @folder: the folder the user chose: the batch goes into a new folder in it
 *
 * Starts the export with the form's choices: what the file chooser's
 * answer calls. The result shows when it ends (::done).
 */
void hearth_export_page_export_to (HearthExportPage *self,
                                   GFile            *folder);

/* Returns: whether an export is under way. */
gboolean hearth_export_page_get_busy (HearthExportPage *self);

/* Returns: (transfer none) (nullable): the folder of the last batch written and verified here. */
const char *hearth_export_page_get_batch_dir (HearthExportPage *self);

/* Picks the area by its division code; %FALSE when it is not offered. */
gboolean hearth_export_page_set_scope (HearthExportPage *self,
                                       const char       *code);

G_END_DECLS

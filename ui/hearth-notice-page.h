/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-notice-page.h: the village clerk's public notice (公示名单, issue
 * 6, item 6): a village of the user's scope picked, the households that
 * passed its review (app/case-notice.h) with what a notice may show, never
 * ID numbers, phone numbers, bank accounts or health; saved as a CSV table
 * (UTF-8 with a byte order mark, for a spreadsheet or a printer) where the
 * user chooses (GtkFileChooserNative).
 */
#pragma once

#include <adwaita.h>

#include "hearth-session.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_NOTICE_PAGE (hearth_notice_page_get_type ())
G_DECLARE_FINAL_TYPE (HearthNoticePage, hearth_notice_page, HEARTH, NOTICE_PAGE, GtkWidget)

HearthNoticePage *hearth_notice_page_new (HearthSession *session);

/* Shows @village_code's notice; %FALSE when it is not one of the villages offered. */
gboolean hearth_notice_page_set_village (HearthNoticePage *self,
                                         const char       *village_code);

/* Returns: (transfer none) (nullable): the village shown. */
const char *hearth_notice_page_get_village (HearthNoticePage *self);

/* Returns: how many households the notice shows. */
guint hearth_notice_page_get_count (HearthNoticePage *self);

/**
 * hearth_notice_page_save:
 * @file: where the table goes (replaced)
 *
 * Writes the notice shown as CSV in the app's language: what the file
 * chooser's answer calls.
 *
 * Returns: %FALSE with a GIOError.
 */
gboolean hearth_notice_page_save (HearthNoticePage *self,
                                  GFile            *file,
                                  GError          **error);

G_END_DECLS

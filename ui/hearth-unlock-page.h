/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-unlock-page.h: the first screen. Before a store exists it makes
 * one: a new passphrase typed twice, its strength shown as it is typed;
 * afterwards it unlocks it. Errors are said in plain words with what to do
 * (a wrong passphrase, a damaged key file, damaged data, a newer version).
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define HEARTH_TYPE_UNLOCK_PAGE (hearth_unlock_page_get_type ())
G_DECLARE_FINAL_TYPE (HearthUnlockPage, hearth_unlock_page, HEARTH, UNLOCK_PAGE, GtkWidget)

/**
 * hearth_unlock_page_reset:
 * @data_dir: the data folder: whether it holds a store decides between
 *   making one and unlocking it
 *
 * Clears what was typed and any error.
 */
void     hearth_unlock_page_reset       (HearthUnlockPage *self,
                                         const char       *data_dir);
void     hearth_unlock_page_focus       (HearthUnlockPage *self);

/* Returns: whether this page made the store now open (then enrolment follows). */
gboolean hearth_unlock_page_get_created (HearthUnlockPage *self);

/**
 * hearth_unlock_page_describe_error:
 * @error: from opening or making a store
 * @details: (out) (optional) (transfer full) (nullable): the store's own
 *   message where county IT needs it (damage, a failure to read or write),
 *   shown apart in small print; %NULL otherwise
 *
 * Returns: (transfer full): @error in plain words, with what to do.
 */
char    *hearth_unlock_page_describe_error (const GError *error,
                                            char        **details);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-household-page.h: one household: who lives there, its risk level
 * with its colour and the reasons, its monitoring state, the next visit,
 * its open tasks, its visits and the review history with the clerks' and
 * the county's comments (case-household.h).
 */
#pragma once

#include <adwaita.h>

#include "hearth-session.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_HOUSEHOLD_PAGE (hearth_household_page_get_type ())
G_DECLARE_FINAL_TYPE (HearthHouseholdPage, hearth_household_page, HEARTH, HOUSEHOLD_PAGE, GtkWidget)

HearthHouseholdPage *hearth_household_page_new (HearthSession *session);

/**
 * hearth_household_page_show:
 * @household_id: (nullable): the household; %NULL: none ("pick one")
 *
 * Reads the household and shows it.
 *
 * Returns: %FALSE with HEARTH_CASE_ERROR (the page then says the household
 *   cannot be shown).
 */
gboolean    hearth_household_page_show (HearthHouseholdPage *self,
                                        const char          *household_id,
                                        GError             **error);

/* Returns: (transfer none) (nullable): the household shown. */
const char *hearth_household_page_get_household_id (HearthHouseholdPage *self);

/* Shows or hides the "back to the list" button (the list is folded away). */
void        hearth_household_page_set_show_back (HearthHouseholdPage *self,
                                                 gboolean             show);

G_END_DECLS

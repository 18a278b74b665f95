/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-households-page.h: the household list and the household beside
 * it (an AdwLeaflet: side by side on a landscape tablet, one at a time on
 * a portrait one, with a way back). Search as you type: a part of a name,
 * or the last digits of an ID number, over the keyset-paged model
 * (hearth-household-model.h).
 */
#pragma once

#include <adwaita.h>

#include "hearth-household-model.h"
#include "hearth-session.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_HOUSEHOLDS_PAGE (hearth_households_page_get_type ())
G_DECLARE_FINAL_TYPE (HearthHouseholdsPage, hearth_households_page, HEARTH, HOUSEHOLDS_PAGE, GtkWidget)

HearthHouseholdsPage *hearth_households_page_new (HearthSession *session);

/* Shows @household_id beside (or, folded, instead of) the list. */
void                  hearth_households_page_open (HearthHouseholdsPage *self,
                                                   const char           *household_id);

/* Puts the cursor in the search field. */
void                  hearth_households_page_focus_search (HearthHouseholdsPage *self);

/* Returns: (transfer none): the list's model, for tests and the benchmark. */
HearthHouseholdModel *hearth_households_page_get_model (HearthHouseholdsPage *self);

G_END_DECLS

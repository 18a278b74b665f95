/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-household-list-row.h: one line of the household list: the head's
 * name large enough to read at arm's length, the risk level as a coloured
 * badge with its name (never colour alone), the address, the members and
 * the end of the head's ID number to tell two namesakes apart, and the
 * monitoring state.
 */
#pragma once

#include <gtk/gtk.h>

#include "hearth-household-item.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_HOUSEHOLD_LIST_ROW (hearth_household_list_row_get_type ())
G_DECLARE_FINAL_TYPE (HearthHouseholdListRow, hearth_household_list_row, HEARTH, HOUSEHOLD_LIST_ROW, GtkWidget)

/* @item: (nullable): the household shown. */
void                 hearth_household_list_row_set_item (HearthHouseholdListRow  *self,
                                                    HearthHouseholdItem *item);
HearthHouseholdItem *hearth_household_list_row_get_item (HearthHouseholdListRow  *self);

G_END_DECLS

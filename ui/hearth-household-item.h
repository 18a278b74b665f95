/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-household-item.h: one household of the household list, as the
 * list rows bind to it: a read-only object over a search result row
 * (case-search.h). Its village code, head name and id are also the key the
 * next page of the list starts after.
 */
#pragma once

#include <glib-object.h>

#include "case-search.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_HOUSEHOLD_ITEM (hearth_household_item_get_type ())
G_DECLARE_FINAL_TYPE (HearthHouseholdItem, hearth_household_item, HEARTH, HOUSEHOLD_ITEM, GObject)

/* @row: (transfer full): the search row the item takes over.
 * @village: (nullable): the household's village as the list names it
 * (hearth_label_village()) when @row has no address; NULL: its code. */
HearthHouseholdItem *hearth_household_item_new (HearthHouseholdRow *row,
                                                const char         *village);

/**
 * hearth_household_item_set_row:
 * @row: (transfer full): another household's search row
 * @village: (nullable): its village's words, as for hearth_household_item_new()
 *
 * Makes the item show another household and notifies every property: the
 * household model reuses its items for a new search, so that the list's
 * rows are relabelled rather than made anew (GTK 4.8 makes a new row
 * widget for every new item, which costs more than a keystroke may).
 */
void hearth_household_item_set_row (HearthHouseholdItem *self,
                                    HearthHouseholdRow  *row,
                                    const char          *village);

const char *hearth_household_item_get_id                (HearthHouseholdItem *self);
const char *hearth_household_item_get_village_code      (HearthHouseholdItem *self);
const char *hearth_household_item_get_head_name         (HearthHouseholdItem *self);
const char *hearth_household_item_get_head_id_number    (HearthHouseholdItem *self);
const char *hearth_household_item_get_monitoring_status (HearthHouseholdItem *self);
const char *hearth_household_item_get_risk_level        (HearthHouseholdItem *self);
const char *hearth_household_item_get_next_visit_date   (HearthHouseholdItem *self);
const char *hearth_household_item_get_address           (HearthHouseholdItem *self);
/* Where the household is: its address, else its village's words. */
const char *hearth_household_item_get_place             (HearthHouseholdItem *self);
gint64      hearth_household_item_get_member_count      (HearthHouseholdItem *self);

G_END_DECLS

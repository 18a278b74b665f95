/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-household-model.h: the household list as a GListModel over the
 * household search (case-search.h), for 50,000 households and more.
 *
 * Rows are loaded a page at a time by key, never by OFFSET: a page starts
 * after the village code, head name and id of the last row loaded, so the
 * thousandth page costs what the first does. The model holds the rows
 * loaded so far; when the list is scrolled near its end, the page asks for
 * more (hearth_household_model_want_more()) and the next page is read from
 * the main loop and appended. (Asking from get_item() would not do: GTK
 * 4.8's list view makes rows for up to 200 items at once, so it would read
 * four pages before anything is scrolled.) A new query replaces the rows
 * with its first page at once, which is what search as you type needs:
 * one page read per keystroke.
 *
 * The store is used from the main thread only, like the rest of the app.
 */
#pragma once

#include <gio/gio.h>

#include "hearth-session.h"

G_BEGIN_DECLS

/* Rows in the first page of a query (what a portrait screen shows, and a
 * little more: every row relabelled costs time on each keystroke), and in
 * each page after it. */
#define HEARTH_HOUSEHOLD_MODEL_FIRST_PAGE 20
#define HEARTH_HOUSEHOLD_MODEL_PAGE 200

#define HEARTH_TYPE_HOUSEHOLD_MODEL (hearth_household_model_get_type ())
G_DECLARE_FINAL_TYPE (HearthHouseholdModel, hearth_household_model, HEARTH, HOUSEHOLD_MODEL, GObject)

/**
 * hearth_household_model_new:
 * @session: the unlocked store (a reference is kept)
 *
 * Returns: (transfer full): an empty model; hearth_household_model_set_query()
 *   fills it. Items are #HearthHouseholdItem.
 */
HearthHouseholdModel *hearth_household_model_new (HearthSession *session);

/**
 * hearth_household_model_set_query:
 * @text: (nullable): what the user typed (case-search.h: a part of a
 *   name, or the last digits of an ID number); %NULL or blank: everyone
 * @village_prefix: (nullable): 6, 9 or 12 digits
 * @status: (nullable): a monitoring status
 * @risk_level: (nullable): "red", "orange", "yellow" or "none"
 *
 * Replaces the rows with the first page of the query, announced as one
 * change.
 *
 * Returns: %FALSE with HEARTH_CASE_SEARCH_ERROR_INVALID (the message is
 *   for the user: too long, a bad prefix) or _SQLITE; the model is then
 *   empty.
 */
gboolean hearth_household_model_set_query (HearthHouseholdModel *self,
                                           const char           *text,
                                           const char           *village_prefix,
                                           const char           *status,
                                           const char           *risk_level,
                                           GError              **error);

/* Reads the current query again from its first page (the store changed). */
gboolean hearth_household_model_reload (HearthHouseholdModel *self,
                                        GError              **error);

/**
 * hearth_household_model_load_more:
 *
 * Appends the next page now (the list view's scrolling does it by itself).
 *
 * Returns: %FALSE with HEARTH_CASE_SEARCH_ERROR; rows loaded stay.
 */
gboolean hearth_household_model_load_more (HearthHouseholdModel *self,
                                           GError              **error);

/* Appends the next page soon, from the main loop (the list is scrolled
 * near its end); nothing when every row is loaded or a load is pending. */
void     hearth_household_model_want_more (HearthHouseholdModel *self);

/* Returns: whether rows after the last loaded one may exist. */
gboolean hearth_household_model_get_has_more (HearthHouseholdModel *self);

/* Returns: how many pages were read since the model was made (tests). */
guint    hearth_household_model_get_pages_read (HearthHouseholdModel *self);

G_END_DECLS

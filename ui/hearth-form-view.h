/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-form-view.h: filling a form (schema/form-session.h) on the
 * tablet: one page at a time (a field-list group, or one question, or the
 * prompt to add another instance of a repeat), moved through with the
 * buttons at the bottom, a swipe, or the list of pages; the progress
 * above. Every answer is checked as it is given and saved at once as a
 * draft (app/case-drafts.h), with the page the user is on; a required
 * answer missing or a constraint failing is said beside its question, in
 * the form's language (the app's). The last step is a summary with what
 * the form computed (the risk level, the income, the next visit) and any
 * answer still needed; saving records the submission and deletes the
 * draft in one transaction.
 *
 * Input methods: GTK 4.8 cannot make an input method commit what it is
 * composing. Before a page is checked or left, the focus leaves the text
 * fields (an input method commits on focus-out) and the page waits a
 * moment for that commit; a composition still shown is not guessed at or
 * dropped: the user is asked to finish it.
 */
#pragma once

#include <adwaita.h>

#include "case-forms.h"
#include "case-drafts.h"
#include "form-session.h"
#include "hearth-session.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_FORM_VIEW (hearth_form_view_get_type ())
G_DECLARE_FINAL_TYPE (HearthFormView, hearth_form_view, HEARTH, FORM_VIEW, GtkWidget)

/* The bundled forms a worker begins (schema/forms/README.md). */
#define HEARTH_FORM_REGISTRATION "hearth_household_registration"
#define HEARTH_FORM_VISIT "hearth_household_visit"
#define HEARTH_FORM_FOLLOW_UP "hearth_follow_up"

/* How long a page waits, after moving the focus off a text field, for an
 * input method to commit (its commit can come asynchronously, over D-Bus). */
#define HEARTH_FORM_SETTLE_MS 150

/* The page key of the summary (hearth_form_view_get_page_key()). */
#define HEARTH_FORM_SUMMARY_KEY "#summary"

/**
 * hearth_form_bundled_dirs:
 *
 * Returns: (transfer container) (element-type utf8): the folders of the
 *   bundled forms, NULL-terminated: $HEARTH_FORMS_DIR, the installed
 *   forms, the source tree's (as hearth-cli looks).
 */
GPtrArray *hearth_form_bundled_dirs (void);

/**
 * hearth_form_answer_text:
 * @question: a question with its value
 *
 * Returns: (transfer full): the answer in words: the labels of the
 *   choices, a date as the app writes dates, else the value.
 */
char *hearth_form_answer_text (const HearthFormQuestion *question);

/**
 * hearth_form_view_open:
 * @session: the unlocked store
 * @form_id: (nullable): the form to begin (a bundled form's id, or one the
 *   county published); %NULL with @draft_id
 * @household_id: (nullable): the household it is for; %NULL for a
 *   registration
 * @draft_id: (nullable): a draft to continue, on the page it was left
 *
 * Opens the form as `hearth-cli visit record --form ID` does
 * (app/case-forms.h), in the app's language.
 *
 * Returns: (transfer floating) (nullable): the view, or %NULL with
 *   HEARTH_CASE_ERROR (no such form, household or draft; the store
 *   refused), HEARTH_FORM_ERROR or HEARTH_FORM_SESSION_ERROR (the form or
 *   the draft does not load).
 */
HearthFormView *hearth_form_view_open (HearthSession *session,
                                       const char    *form_id,
                                       const char    *household_id,
                                       const char    *draft_id,
                                       GError       **error);

/**
 * hearth_form_view_new:
 * @session: the unlocked store
 * @form: (transfer full): the form with its instances
 * @form_id: the form's id, as the draft names it
 * @household_id: (nullable): the household
 * @draft: (nullable): a draft of @form to continue
 *
 * As hearth_form_view_open(), with the form given (tests fill their own).
 *
 * Returns: (transfer floating) (nullable): the view, or %NULL with
 *   HEARTH_FORM_SESSION_ERROR.
 */
HearthFormView *hearth_form_view_new (HearthSession     *session,
                                      HearthCaseForm    *form,
                                      const char        *household_id,
                                      const HearthDraft *draft,
                                      GError           **error);

/* Returns: (transfer none): the form session being filled. */
HearthFormSession *hearth_form_view_get_form_session (HearthFormView *self);

/* Returns: (transfer none): the draft's id (saved once the first answer is given). */
const char *hearth_form_view_get_draft_id (HearthFormView *self);

/* Returns: whether the draft is in the store. */
gboolean hearth_form_view_get_draft_saved (HearthFormView *self);

/* Returns: (transfer none): the page shown: its key (a page's instance
 * path, "+" and a repeat's path for its prompt, HEARTH_FORM_SUMMARY_KEY). */
const char *hearth_form_view_get_page_key (HearthFormView *self);

/* Returns: the page shown, from 0, and (@n_pages) how many there are now. */
guint hearth_form_view_get_page_index (HearthFormView *self,
                                       guint          *n_pages);

/**
 * hearth_form_view_get_field:
 * @path: a question's instance path
 *
 * Returns: (transfer none) (nullable): the field of the page shown for
 *   that question.
 */
GtkWidget *hearth_form_view_get_field (HearthFormView *self,
                                       const char     *path);

/* Returns: whether the view is waiting for an input method to commit. */
gboolean hearth_form_view_is_settling (HearthFormView *self);

/**
 * hearth_form_view_flush:
 *
 * Takes the focus off the text fields (an input method commits on
 * focus-out) and saves the draft where it stands: the screen is about to
 * go (the idle lock, the app closing).
 */
void hearth_form_view_flush (HearthFormView *self);

G_END_DECLS

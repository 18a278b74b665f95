/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-form-field.h: one question of a form page (schema/form-session.h,
 * HearthFormQuestion): its label, hint and "required" mark, the input its
 * type calls for, and its message (a failed constraint, a missing
 * answer, text that does not fit the type) beside it.
 *
 * Inputs: a text field with the keyboard the type wants (input purpose:
 * digits, a number, a phone pad for `numbers`, free text otherwise), a
 * text area for `multiline`, a calendar for dates (the calendar date is
 * the answer, as YYYY-MM-DD, whatever the time zone), large touch rows for
 * the choices of a select (one, or several), a button for a trigger; a
 * calculated or read-only question shows its value. A field reports every
 * committed change of its input as ::answer; what an input method is
 * still composing is not an answer yet (hearth_form_field_get_preedit()).
 */
#pragma once

#include <adwaita.h>

#include "form-session.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_FORM_FIELD (hearth_form_field_get_type ())
G_DECLARE_FINAL_TYPE (HearthFormField, hearth_form_field, HEARTH, FORM_FIELD, GtkWidget)

/**
 * hearth_form_field_new:
 * @question: the question as the session renders it now (copied)
 *
 * Returns: (transfer floating): the field.
 */
HearthFormField *hearth_form_field_new (const HearthFormQuestion *question);

/* Returns: (transfer none): the question's instance path. */
const char *hearth_form_field_get_path (HearthFormField *self);

/**
 * hearth_form_field_update:
 * @question: the same question, rendered again after an answer changed
 *
 * Shows the new label, hint, mark, choices and value. The text of an
 * input being typed in is left alone: the typing is its source.
 */
void hearth_form_field_update (HearthFormField          *self,
                               const HearthFormQuestion *question);

/**
 * hearth_form_field_set_message:
 * @message: (nullable): what is wrong with the answer, in the current
 *   language; %NULL: nothing
 */
void        hearth_form_field_set_message (HearthFormField *self,
                                           const char      *message);
/* Returns: (transfer none) (nullable): the message shown. */
const char *hearth_form_field_get_message (HearthFormField *self);

/**
 * hearth_form_field_set_type_error:
 * @message: (nullable): why the text typed does not fit the question's
 *   type; the answer is blank meanwhile, the text kept for correcting
 */
void     hearth_form_field_set_type_error (HearthFormField *self,
                                           const char      *message);
/* Returns: whether the text typed does not fit the question's type. */
gboolean hearth_form_field_has_type_error (HearthFormField *self);

/**
 * hearth_form_field_get_preedit:
 *
 * Returns: (transfer none): what an input method is composing in the
 *   field and has not committed ("" when nothing).
 */
const char *hearth_form_field_get_preedit (HearthFormField *self);

/**
 * hearth_form_field_get_input:
 *
 * Returns: (transfer none) (nullable): the input: a GtkEntry, a
 *   GtkTextView, a GtkMenuButton (dates), a GtkListBox (choices) or a
 *   GtkToggleButton (a trigger); %NULL for a read-only question.
 */
GtkWidget *hearth_form_field_get_input (HearthFormField *self);

/**
 * hearth_form_field_get_calendar:
 *
 * Returns: (transfer none) (nullable): a date question's calendar.
 */
GtkCalendar *hearth_form_field_get_calendar (HearthFormField *self);

/**
 * hearth_form_field_get_choice:
 * @value: a choice's name
 *
 * Returns: (transfer none) (nullable): the row of that choice (a tap on
 *   it, or its activation, answers it).
 */
GtkWidget *hearth_form_field_get_choice (HearthFormField *self,
                                         const char      *value);

/* Focuses the input (a text field's text, the first choice). */
void hearth_form_field_focus (HearthFormField *self);

G_END_DECLS

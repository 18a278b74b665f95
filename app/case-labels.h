/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-labels.h: the words a person reads for the codes the store keeps
 * (risk levels, monitoring states, risk types, relations, …), in the
 * current language. The code lists are those of ../shared/DOMAIN.md and
 * the bundled forms (schema/forms); a code without words is shown as it is.
 * Dates are shown as the calendar dates they are.
 */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

/* Returns: (transfer none): e.g. "Orange risk" for "orange". */
const char *hearth_label_risk_level (const char *code);
/* Returns: (transfer none): e.g. "Waiting for village review". */
const char *hearth_label_status (const char *code);
/* Returns: (transfer none): one risk type, e.g. "Illness" for "01". */
const char *hearth_label_risk_type (const char *code);
/* Returns: (transfer full): the space-separated codes as a list of words. */
char       *hearth_label_risk_types (const char *codes);
/* Returns: (transfer full): the space-separated @codes (nullable) each
 * given by @label, joined as a list ("Illness, Disability"). */
char       *hearth_label_codes (const char *codes, const char *(*label) (const char *code));
const char *hearth_label_relation (const char *code);
const char *hearth_label_sex (const char *code);
const char *hearth_label_health (const char *code);
const char *hearth_label_labour (const char *code);
const char *hearth_label_category (const char *code);
/* Returns: (transfer none): an assistance measure's type, e.g. "Education". */
const char *hearth_label_measure (const char *type);
const char *hearth_label_form (const char *form_id);
const char *hearth_label_task_kind (const char *kind);
const char *hearth_label_role (const char *role);
/* Returns: (transfer none): a workflow action (sync/workflow.h) as a
 * review names it, e.g. "Return for correction"; an unknown code as it
 * is. */
const char *hearth_label_action (const char *action);
/* Returns: (transfer none): a measure's follow-up, its progress
 * ("in_progress": "In progress") and its effect ("partly": "Partly
 * effective"), as the follow-up form words them; an unknown code as it
 * is. */
const char *hearth_label_progress (const char *progress);
const char *hearth_label_effect (const char *effect);

/* Returns: (transfer full): a YYYY-MM-DD date (or the date part of an ISO
 * 8601 time) as the locale writes dates, e.g. "3 May 2026" or
 * "2026年5月3日"; text that is no date is returned as it is. */
char *hearth_label_date (const char *date);

/* Returns: (transfer full): how a due date stands against @today, e.g.
 * "7 days overdue", "due today", "due in 3 days". */
/* Returns: (transfer none): a field of the case model in words (a
 * household's or a member's), else its name. */
const char *hearth_label_field (const char *table,
                                const char *field);

/* Returns: (transfer full): a field's value in words (codes named, dates
 * as the app writes them). */
char *hearth_label_field_value (const char *table,
                                const char *field,
                                const char *value);

/* Returns: (transfer full): an ISO 8601 moment (with its offset) as the
 * date and the time on the tablet's clock; unparsable text as it is. */
char *hearth_label_moment (const char *iso);

char *hearth_label_due (const char *due_date, const char *today);

/* Returns: (transfer full): why a task is open, in words: a follow-up's
 * risk level, a correction's comment in quotes; "" when there is nothing
 * to say. */
char *hearth_label_task_reason (const char *kind, const char *reason);

/* Returns: (transfer full): "…0038": the last four characters of an ID
 * number, enough to tell two people of one name apart on a list. */
char *hearth_label_id_tail (const char *id_number);

/* @store: (nullable): the store whose published division list names the
 * village (app/case-divisions.h), or NULL
 *
 * Returns: (transfer full): a village as a person knows it: its published
 * name with its code, "新立村 (150422100202)", or the code alone when no
 * list the center published names it. Reads the store (one indexed row
 * per call): on the store's thread. */
char *hearth_label_village (HearthStore *store, const char *village_code);

/* Returns: (transfer full): where a household is, for a line of a list:
 * its address, or when it has none its village (hearth_label_village()). */
char *hearth_label_place (HearthStore *store, const char *address, const char *village_code);

/* Returns: (transfer full): a household as its worker knows it: its
 * head's name and registry number (either may be NULL or empty), or
 * words saying it is not on this tablet. Personal data: for the screen. */
char *hearth_label_household (const char *head_name, const char *registry_no);

/* @fields: (nullable) (array zero-terminated=1): the fields a change wrote
 * @created: whether the change made its record
 * @member_name: (nullable): for a member, its name
 *
 * Returns: (transfer full): what a change of @table was about, in words:
 * "New member 刘桂兰", "Member 刘桂兰: Phone number", the fields' labels
 * (hearth_label_field(); the case model's own links and versions left
 * out) as a list, or for a record what it is ("A filled-in form"). */
char *hearth_label_change (const char *table, const char *const *fields, gboolean created,
                           const char *member_name);

/* Returns: (transfer full): the center's reason @message with the id
 * @household_id (nullable) written as @household (nullable; its words,
 * hearth_label_household()). */
char *hearth_label_refusal (const char *message, const char *household_id, const char *household);

/* Returns: (transfer none): what the center's refusal code @code
 * (nullable; sync/PROTOCOL.md section 7: `scope`, `role`, `duplicate`,
 * `audit`, `bad-change`) means for the worker and what to do, in the
 * user's language: the center's own words (hearth_label_refusal()) are in
 * the center's language and name the rule, not the remedy. */
const char *hearth_label_refusal_code (const char *code);

G_END_DECLS

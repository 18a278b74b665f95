/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * workflow.h: who may do what in the monitoring workflow
 * (../shared/INTERFACES.md, "Monitoring workflow"), as one rule table and
 * pure functions over it. The tablet's case model (app/case-store.c) makes
 * its moves by it; the county center (sync/center-sync.c) replays it on
 * every review record and workflow field a device pushes (PROTOCOL.md
 * section 7.1), so that a device cannot give its user another role's
 * decisions by writing them into its own store.
 *
 * All functions are pure and thread-safe.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HEARTH_WORKFLOW_ERROR (hearth_workflow_error_quark ())
GQuark hearth_workflow_error_quark (void);

/**
 * HearthWorkflowError:
 * @HEARTH_WORKFLOW_ERROR_REFUSED: the role may not make this change; the
 *   message says what it is and who makes it
 */
typedef enum {
  HEARTH_WORKFLOW_ERROR_REFUSED,
} HearthWorkflowError;

/**
 * HearthRole: who acts in the monitoring workflow.
 */
typedef enum {
  HEARTH_ROLE_WORKER,
  HEARTH_ROLE_CLERK,
  HEARTH_ROLE_TOWNSHIP,
  HEARTH_ROLE_COUNTY,
} HearthRole;

#define HEARTH_ROLE_COUNT 4

/**
 * hearth_role_name:
 *
 * Returns: (transfer none): "worker", "clerk", "township" or "county"; "?"
 *   for a value outside the enumeration.
 */
const char *hearth_role_name (HearthRole role);

/**
 * hearth_role_parse:
 * @name: (nullable): a role's name
 * @out: (out): the role
 *
 * Returns: whether @name is one of the four roles.
 */
gboolean hearth_role_parse (const char *name, HearthRole *out);

/**
 * hearth_workflow_is_action:
 * @action: (nullable): "declare", "approve", "return", "reject",
 *   "propose-elimination" or "revert": what a user asks for
 *
 * Returns: whether @action is one of them.
 */
gboolean hearth_workflow_is_action (const char *action);

/**
 * hearth_workflow_move:
 * @from: the household's monitoring state
 * @action: a user's action (hearth_workflow_is_action())
 *
 * Returns: (transfer none) (nullable): the state @role's @action leads to
 *   from @from (possibly @from itself: a township's approval is recorded
 *   without moving), or %NULL when @role may not.
 */
const char *hearth_workflow_move (const char *from, const char *action, HearthRole role);

/**
 * hearth_workflow_visit_move:
 * @from: the household's monitoring state
 *
 * A visit that finds a risk, or a worker's revisit of a returned case,
 * moves the household to village review from "none", "returned" or
 * "risk_eliminated"; the review it writes names the worker's role,
 * whoever recorded the visit.
 *
 * Returns: (transfer none) (nullable): the state the visit leads to, or
 *   %NULL when a visit moves nothing from @from.
 */
const char *hearth_workflow_visit_move (const char *from);

/**
 * hearth_workflow_decides_measures:
 *
 * Returns: whether @role adds and ends assistance measures (the village
 *   clerk and the county).
 */
gboolean hearth_workflow_decides_measures (HearthRole role);

/**
 * hearth_workflow_resolves_conflicts:
 *
 * Returns: whether @role resolves conflicts (the village clerk and the
 *   county).
 */
gboolean hearth_workflow_resolves_conflicts (HearthRole role);

/**
 * hearth_workflow_guards_field:
 * @table: a mutable table ("households", "measures", …)
 * @field: one of its fields
 *
 * Returns: whether only workflow decisions write @field: a household's
 *   monitoring_status and eliminated_on, and a measure's fields but the
 *   follow-up's reports on it (last_progress, last_effect, last_remark,
 *   progress_on, progress_submission).
 */
gboolean hearth_workflow_guards_field (const char *table, const char *field);

/**
 * hearth_workflow_check_review:
 * @sender: the role of the user whose device sent the review
 * @fields: (element-type utf8 utf8): the review record's fields
 *   (role, from_state, to_state, submission_id, …)
 *
 * Replays the rule table on a review record: its role must be @sender's
 * (a visit's review names the worker's role, whoever recorded the visit:
 * then it must carry its submission), and its move from from_state to
 * to_state one that role makes.
 *
 * Returns: %FALSE with HEARTH_WORKFLOW_ERROR_REFUSED saying why.
 */
gboolean hearth_workflow_check_review (HearthRole   sender,
                                       GHashTable  *fields,
                                       GError     **error);

/**
 * hearth_workflow_check_edit:
 * @sender: the role of the user whose device sent the edit
 * @table: the edit's table
 * @field: its field
 * @value: the value it writes
 * @n_parents: how many parents the edit names
 * @parent_values: (array length=n_known) (nullable): the values of those
 *   of its parents the checker holds
 * @n_known: how many
 *
 * Replays the rule table on a field edit. An edit whose known parents hold
 * two or more values resolves a conflict: only a role that resolves
 * conflicts makes one, and on a field of hearth_workflow_guards_field()
 * it takes one of those values. Otherwise, on a guarded field:
 * monitoring_status moves from its parent's value (from "none" without a
 * parent; from any state when no parent is known) to @value by a move of
 * @sender or a visit; eliminated_on is written by the role whose approval
 * eliminates a risk; a measure's decided fields by a role that decides
 * measures. Other fields are anyone's.
 *
 * Returns: %FALSE with HEARTH_WORKFLOW_ERROR_REFUSED saying why.
 */
gboolean hearth_workflow_check_edit (HearthRole          sender,
                                     const char         *table,
                                     const char         *field,
                                     const char         *value,
                                     guint               n_parents,
                                     const char *const  *parent_values,
                                     guint               n_known,
                                     GError            **error);

G_END_DECLS

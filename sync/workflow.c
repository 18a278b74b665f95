/* SPDX-License-Identifier: GPL-3.0-or-later */
/* workflow.c: the monitoring workflow's rule table (workflow.h). */

#include "workflow.h"
#include "merge.h"

#include <glib/gi18n-lib.h>
#include <string.h>

G_DEFINE_QUARK (hearth-workflow-error-quark, hearth_workflow_error)

static const char *const role_names[HEARTH_ROLE_COUNT] = { "worker", "clerk", "township", "county" };

/* The moves of ../shared/INTERFACES.md: from, action, role, to. "visit" is
 * no user's action: a recorded visit makes it, with a worker's review. */
static const struct {
  const char *from, *action;
  HearthRole role;
  const char *to;
} moves[] = {
  { "none", "declare", HEARTH_ROLE_WORKER, "pending_village_review" },
  { "risk_eliminated", "declare", HEARTH_ROLE_WORKER, "pending_village_review" },
  { "none", "visit", HEARTH_ROLE_WORKER, "pending_village_review" },
  { "returned", "visit", HEARTH_ROLE_WORKER, "pending_village_review" },
  { "risk_eliminated", "visit", HEARTH_ROLE_WORKER, "pending_village_review" },
  { "pending_village_review", "approve", HEARTH_ROLE_CLERK, "pending_county_approval" },
  { "pending_village_review", "return", HEARTH_ROLE_CLERK, "returned" },
  { "pending_county_approval", "approve", HEARTH_ROLE_TOWNSHIP, "pending_county_approval" },
  { "pending_county_approval", "approve", HEARTH_ROLE_COUNTY, "monitored" },
  { "pending_county_approval", "reject", HEARTH_ROLE_COUNTY, "none" },
  { "monitored", "propose-elimination", HEARTH_ROLE_WORKER, "pending_elimination" },
  { "pending_elimination", "approve", HEARTH_ROLE_CLERK, "pending_elimination" },
  { "pending_elimination", "approve", HEARTH_ROLE_COUNTY, "risk_eliminated" },
  { "pending_elimination", "return", HEARTH_ROLE_CLERK, "monitored" },
  { "pending_elimination", "return", HEARTH_ROLE_COUNTY, "monitored" },
  { "risk_eliminated", "revert", HEARTH_ROLE_COUNTY, "monitored" },
};

static const char *const actions[] = { "declare", "approve", "return", "reject", "propose-elimination", "revert", NULL };

/* The follow-up's reports on a measure: what a visit writes. The rest of a
 * measure is decided. */
static const char *const measure_reports[] = {
  "last_progress", "last_effect", "last_remark", "progress_on", "progress_submission", NULL,
};

const char *
hearth_role_name (HearthRole role)
{
  return (guint) role < HEARTH_ROLE_COUNT ? role_names[role] : "?";
}

gboolean
hearth_role_parse (const char *name, HearthRole *out)
{
  for (guint i = 0; name != NULL && i < HEARTH_ROLE_COUNT; i++)
    if (g_str_equal (name, role_names[i]))
      {
        *out = (HearthRole) i;
        return TRUE;
      }
  return FALSE;
}

gboolean
hearth_workflow_is_action (const char *action)
{
  return action != NULL && g_strv_contains (actions, action);
}

const char *
hearth_workflow_move (const char *from, const char *action, HearthRole role)
{
  if (from == NULL || !hearth_workflow_is_action (action))
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (moves); i++)
    if (g_str_equal (moves[i].from, from) && g_str_equal (moves[i].action, action) && moves[i].role == role)
      return moves[i].to;
  return NULL;
}

const char *
hearth_workflow_visit_move (const char *from)
{
  for (gsize i = 0; from != NULL && i < G_N_ELEMENTS (moves); i++)
    if (g_str_equal (moves[i].action, "visit") && g_str_equal (moves[i].from, from))
      return moves[i].to;
  return NULL;
}

gboolean
hearth_workflow_decides_measures (HearthRole role)
{
  return role == HEARTH_ROLE_CLERK || role == HEARTH_ROLE_COUNTY;
}

gboolean
hearth_workflow_resolves_conflicts (HearthRole role)
{
  return role == HEARTH_ROLE_CLERK || role == HEARTH_ROLE_COUNTY;
}

gboolean
hearth_workflow_guards_field (const char *table, const char *field)
{
  if (table == NULL || field == NULL)
    return FALSE;
  if (g_str_equal (table, "households"))
    return g_str_equal (field, "monitoring_status") || g_str_equal (field, "eliminated_on");
  if (g_str_equal (table, "measures"))
    return !g_strv_contains (measure_reports, field);
  return FALSE;
}

/* The move of the table from @from to @to that @role makes (any action;
 * a visit's move whatever the role when @visits); @from NULL: from any
 * state. Returns: its index, or -1. */
static int
find_move (HearthRole role, gboolean visits, const char *from, const char *to)
{
  for (gsize i = 0; to != NULL && i < G_N_ELEMENTS (moves); i++)
    if ((moves[i].role == role || (visits && g_str_equal (moves[i].action, "visit"))) &&
        (from == NULL || g_str_equal (moves[i].from, from)) && g_str_equal (moves[i].to, to))
      return (int) i;
  return -1;
}

static gboolean
has_text (const char *s)
{
  for (; s != NULL && *s != '\0'; s++)
    if (!g_ascii_isspace (*s))
      return TRUE;
  return FALSE;
}

G_GNUC_PRINTF (2, 3) static gboolean
refuse (GError **error, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (HEARTH_WORKFLOW_ERROR, HEARTH_WORKFLOW_ERROR_REFUSED, format, args));
  va_end (args);
  return FALSE;
}

gboolean
hearth_workflow_check_review (HearthRole sender, GHashTable *fields, GError **error)
{
  const char *role_text = g_hash_table_lookup (fields, "role");
  const char *from = g_hash_table_lookup (fields, "from_state");
  const char *to = g_hash_table_lookup (fields, "to_state");
  const char *submission = g_hash_table_lookup (fields, "submission_id");
  HearthRole role;
  gboolean visit;
  int move;

  g_return_val_if_fail (fields != NULL, FALSE);
  if (!hearth_role_parse (role_text, &role))
    return refuse (error, _("a review names its role (worker, clerk, township or county), not “%s”"),
                   role_text != NULL ? role_text : "");
  if (from == NULL || to == NULL)
    return refuse (error, _("a review names the state it moves from and the state it moves to"));
  /* A visit's review names the worker's role, whoever recorded it, and
   * comes with its submission. */
  visit = role == HEARTH_ROLE_WORKER && has_text (submission) && g_strcmp0 (hearth_workflow_visit_move (from), to) == 0;
  if (role != sender && !visit)
    return refuse (error, _("the review is signed as a %s's decision, but a %s sent it"), hearth_role_name (role),
                   hearth_role_name (sender));
  move = find_move (role, FALSE, from, to);
  if (move < 0)
    return refuse (error, _("a %s may not move a household from %s to %s"), hearth_role_name (role), from, to);
  if ((g_str_equal (moves[move].action, "return") || g_str_equal (moves[move].action, "reject")) &&
      !has_text (g_hash_table_lookup (fields, "comment")))
    return refuse (error, _("to %s a case, say why (a comment)"), moves[move].action);
  return TRUE;
}

gboolean
hearth_workflow_check_edit (HearthRole sender, const char *table, const char *field, const char *value,
                            guint n_parents, const char *const *parent_values, guint n_known, GError **error)
{
  gboolean guarded = hearth_workflow_guards_field (table, field);
  guint distinct = 0;

  g_return_val_if_fail (table != NULL && field != NULL && value != NULL, FALSE);
  g_return_val_if_fail (parent_values != NULL || n_known == 0, FALSE);

  for (guint i = 0; i < n_known; i++)
    {
      gboolean seen = FALSE;

      for (guint j = 0; j < i && !seen; j++)
        seen = g_strcmp0 (parent_values[i], parent_values[j]) == 0;
      if (!seen)
        distinct++;
    }
  /* Parents that disagree: only a resolution sees both sides (a plain
   * write names the heads holding the value it replaced; a counter's
   * write names every head, as it has no conflicts). */
  if (distinct >= 2 && !hearth_merge_is_counter (table, field))
    {
      if (!hearth_workflow_resolves_conflicts (sender))
        return refuse (error, _("a %s may not resolve a conflict (%s.%s): the village clerk or the county does"),
                       hearth_role_name (sender), table, field);
      if (guarded)
        {
          for (guint i = 0; i < n_known; i++)
            if (g_strcmp0 (parent_values[i], value) == 0)
              return TRUE;
          return refuse (error, _("a resolution of %s.%s takes one of the values in conflict, not “%s”"), table,
                         field, value);
        }
      return TRUE;
    }
  if (!guarded)
    return TRUE;

  if (g_str_equal (table, "measures"))
    {
      if (hearth_workflow_decides_measures (sender))
        return TRUE;
      return refuse (error, _("a %s may not decide assistance measures (%s.%s): the county or the village clerk does"),
                     hearth_role_name (sender), table, field);
    }
  if (g_str_equal (field, "monitoring_status"))
    {
      /* A household starts in "none" (nothing stamps it at creation); a
       * parent this side does not hold leaves where it moved from open. */
      const char *from = n_parents == 0 ? "none" : n_known > 0 ? parent_values[0] : NULL;

      if (find_move (sender, TRUE, from, value) >= 0)
        return TRUE;
      if (from != NULL)
        return refuse (error, _("a %s may not move a household from %s to %s"), hearth_role_name (sender), from,
                       value);
      return refuse (error, _("a %s may not move a household to %s"), hearth_role_name (sender), value);
    }
  /* eliminated_on: written with the approval that eliminates the risk. */
  if (find_move (sender, FALSE, NULL, "risk_eliminated") >= 0)
    return TRUE;
  return refuse (error, _("a %s may not set %s.%s: the approval that eliminates the risk writes it"),
                 hearth_role_name (sender), table, field);
}

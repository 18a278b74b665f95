/* SPDX-License-Identifier: GPL-3.0-or-later */
/* case-labels.c: words for the store's codes (case-labels.h). */
#define G_LOG_DOMAIN "hearth"

#include "case-labels.h"
#include "case-divisions.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const char *code;
  const char *label;
} Label;

static const char *
lookup (const Label *labels, gsize n, const char *code)
{
  if (code == NULL)
    return "";
  for (gsize i = 0; i < n; i++)
    if (strcmp (labels[i].code, code) == 0)
      return _(labels[i].label);
  return code;
}

#define LOOKUP(table, code) lookup (table, G_N_ELEMENTS (table), code)

static const Label risk_levels[] = {
  { "red", N_("Red risk") },
  { "orange", N_("Orange risk") },
  { "yellow", N_("Yellow risk") },
  { "none", N_("No risk found") },
  { "", N_("No risk found") },
};

static const Label statuses[] = {
  { "none", N_("Not monitored") },
  { "pending_village_review", N_("Waiting for village review") },
  { "returned", N_("Returned for correction") },
  { "pending_county_approval", N_("Waiting for county approval") },
  { "monitored", N_("Monitored") },
  { "pending_elimination", N_("Risk removal proposed") },
  { "risk_eliminated", N_("Risk removed") },
};

static const Label risk_types[] = {
  { "01", N_("Illness") },
  { "0201", N_("Natural disaster: flood") },
  { "0202", N_("Natural disaster: geological") },
  { "0203", N_("Natural disaster: drought") },
  { "0204", N_("Natural disaster: biological (pests, diseases)") },
  { "0205", N_("Natural disaster: meteorological (hail, frost, storm)") },
  { "0206", N_("Natural disaster: earthquake") },
  { "0299", N_("Natural disaster: other") },
  { "03", N_("Disability") },
  { "04", N_("Lack of labour") },
  { "05", N_("Accident") },
  { "06", N_("Industry failure") },
  { "07", N_("Unstable employment") },
  { "09", N_("Schooling costs") },
  { "99", N_("Other") },
};

static const Label relations[] = {
  { "01", N_("Head of household") },
  { "10", N_("Spouse") },
  { "20", N_("Son") },
  { "30", N_("Daughter") },
  { "40", N_("Grandchild") },
  { "50", N_("Parent") },
  { "60", N_("Grandparent") },
  { "70", N_("Sibling") },
  { "99", N_("Other") },
};

static const Label sexes[] = {
  { "1", N_("Male") },
  { "2", N_("Female") },
};

static const Label healths[] = {
  { "healthy", N_("Healthy") },
  { "chronic", N_("Chronic illness") },
  { "serious", N_("Serious illness") },
  { "disabled", N_("Disabled") },
};

static const Label labours[] = {
  { "ordinary", N_("Ordinary labour") },
  { "skilled", N_("Skilled labour") },
  { "weak", N_("Weak or half labour") },
  { "lost", N_("Lost labour capacity") },
  { "none", N_("No labour capacity") },
};

static const Label categories[] = {
  { "0", N_("Unstable formerly-poor household") },
  { "1", N_("Marginal household prone to poverty") },
  { "2", N_("Household in sudden severe difficulty") },
};

/* The `measures` list of the bundled forms. */
static const Label measures[] = {
  { "living", N_("Living assistance") },
  { "social_protection", N_("Social protection (minimum living allowance, extreme-poverty support)") },
  { "microcredit", N_("Financial (microcredit)") },
  { "industry", N_("Production (industry)") },
  { "public_job", N_("Employment: public-welfare job") },
  { "casual_work", N_("Employment: casual work") },
  { "regular_job", N_("Employment: regular job") },
  { "education", N_("Education assistance") },
  { "health", N_("Health assistance") },
  { "housing", N_("Housing safety") },
  { "water", N_("Drinking water safety") },
  { "temporary_relief", N_("Temporary relief") },
  { "insurance", N_("Insurance against return to poverty") },
};

static const Label forms[] = {
  { "hearth_household_registration", N_("Registration") },
  { "hearth_household_visit", N_("Household visit") },
  { "hearth_follow_up", N_("Follow-up visit") },
};

/* The fields of the case model two tablets can disagree on. */
static const Label household_fields[] = {
  { "registry_no", N_("Registry number") },
  { "village_code", N_("Village code") },
  { "address", N_("Address") },
  { "head_name", N_("Head of household") },
  { "head_id_number", N_("ID number of the head") },
  { "category", N_("Category") },
  { "phone", N_("Phone number") },
  { "location", N_("Location of the house") },
  { "member_count", N_("Members") },
  { "per_capita_income", N_("Income per person, last visit") },
  { "risk_level", N_("Risk level") },
  { "risk_types", N_("Reasons for the risk") },
  { "risk_submission", N_("The visit that set the risk level") },
  { "monitoring_status", N_("Monitoring") },
  { "last_visit_date", N_("Last visit") },
  { "next_visit_date", N_("Next visit") },
  { "eliminated_on", N_("Risk eliminated on") },
  { "deleted", N_("Removed") },
};

static const Label member_fields[] = {
  { "name", N_("Name") },
  { "id_number", N_("ID number") },
  { "sex", N_("Sex") },
  { "birth_date", N_("Birth date") },
  { "relation", N_("Relation to the head") },
  { "health", N_("Health assistance") },
  { "labour", N_("Labour ability") },
  { "phone", N_("Phone number") },
  { "education", N_("Education") },
  { "school_status", N_("School") },
  { "work_place", N_("Place of work") },
  { "insurance", N_("Insurance") },
  { "ethnicity", N_("Ethnicity") },
  { "benefits", N_("Benefits received") },
  { "months_worked", N_("Months worked") },
  { "disability_cert_year", N_("Disability certificate year") },
  { "deleted", N_("Removed") },
};

static const Label measure_fields[] = {
  { "type", N_("Kind of measure") },
  { "description", N_("Description") },
  { "started_on", N_("Started on") },
  { "ended_on", N_("Ended on") },
  { "status", N_("State") },
  { "last_progress", N_("Progress") },
  { "last_effect", N_("Effect") },
  { "last_remark", N_("Remark") },
  { "progress_on", N_("Date of the last follow-up") },
};

/* Fields the case model keeps for itself (links, order, versions): a
 * worker never typed them, so a list of what a change did leaves them out. */
static const char *const internal_fields[] = {
  "household_id", "position", "opened_by", "closed_by", "entity_version", "risk_submission", "created_by",
  "progress_submission", NULL,
};

static const Label task_fields[] = {
  { "kind", N_("Kind of task") },
  { "due_date", N_("Due date") },
  { "reason", N_("Why") },
  { "status", N_("State") },
  { "assignee", N_("Assigned to") },
  { "closed_by", N_("The visit that closed the task") },
};

static const Label task_kinds[] = {
  { "follow_up", N_("Follow-up visit") },
  { "correction", N_("Correction asked by the village") },
};

/* A measure's follow-up: its progress and its effect (the choices of
 * schema/forms/follow-up.xml, in the same words). */
static const Label progresses[] = {
  { "not_started", N_("Not started") },
  { "in_progress", N_("In progress") },
  { "completed", N_("Completed") },
  { "stopped", N_("Stopped") },
};

static const Label effects[] = {
  { "effective", N_("Effective") },
  { "partly", N_("Partly effective") },
  { "not_effective", N_("Not effective") },
  { "too_early", N_("Too early to tell") },
};

/* The workflow's actions (sync/workflow.c), as a review names them. */
static const Label actions[] = {
  { "declare", N_("Declare a difficulty") },
  { "approve", N_("Approve") },
  { "return", N_("Return for correction") },
  { "reject", N_("Reject") },
  { "propose-elimination", N_("Propose removing the risk") },
  { "revert", N_("Revert") },
};

static const Label roles[] = {
  { "worker", N_("Village worker") },
  { "clerk", N_("Village clerk") },
  { "township", N_("Township staff") },
  { "county", N_("County staff") },
};

const char *
hearth_label_risk_level (const char *code)
{
  return LOOKUP (risk_levels, code);
}

const char *
hearth_label_status (const char *code)
{
  return LOOKUP (statuses, code);
}

const char *
hearth_label_risk_type (const char *code)
{
  return LOOKUP (risk_types, code);
}

char *
hearth_label_codes (const char *codes, const char *(*label) (const char *code))
{
  g_auto(GStrv) parts = g_strsplit (codes != NULL ? codes : "", " ", -1);
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0')
        continue;
      if (s->len > 0)
        /* TRANSLATORS: between the items of a list of risk types */
        g_string_append (s, _(", "));
      g_string_append (s, label (parts[i]));
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

char *
hearth_label_risk_types (const char *codes)
{
  return hearth_label_codes (codes, hearth_label_risk_type);
}

const char *
hearth_label_relation (const char *code)
{
  return LOOKUP (relations, code);
}

const char *
hearth_label_sex (const char *code)
{
  return LOOKUP (sexes, code);
}

const char *
hearth_label_health (const char *code)
{
  return LOOKUP (healths, code);
}

const char *
hearth_label_labour (const char *code)
{
  return LOOKUP (labours, code);
}

const char *
hearth_label_category (const char *code)
{
  return LOOKUP (categories, code);
}

const char *
hearth_label_measure (const char *type)
{
  return LOOKUP (measures, type);
}

const char *
hearth_label_form (const char *form_id)
{
  return LOOKUP (forms, form_id);
}

const char *
hearth_label_task_kind (const char *kind)
{
  return LOOKUP (task_kinds, kind);
}

const char *
hearth_label_role (const char *role)
{
  return LOOKUP (roles, role);
}

const char *
hearth_label_action (const char *action)
{
  return LOOKUP (actions, action);
}

const char *
hearth_label_progress (const char *progress)
{
  return LOOKUP (progresses, progress);
}

const char *
hearth_label_effect (const char *effect)
{
  return LOOKUP (effects, effect);
}

/* The calendar date of "YYYY-MM-DD…", or FALSE. */
static gboolean
parse_date (const char *text, GDate *date)
{
  guint y, m, d;

  g_date_clear (date, 1);
  if (text == NULL || strlen (text) < 10 || sscanf (text, "%4u-%2u-%2u", &y, &m, &d) != 3 ||
      !g_date_valid_dmy ((GDateDay) d, (GDateMonth) m, (GDateYear) y))
    return FALSE;
  g_date_set_dmy (date, (GDateDay) d, (GDateMonth) m, (GDateYear) y);
  return TRUE;
}

char *
hearth_label_date (const char *text)
{
  GDate date;
  guint y, m, d;

  if (!parse_date (text, &date))
    return g_strdup (text != NULL ? text : "");
  y = g_date_get_year (&date);
  m = g_date_get_month (&date);
  d = g_date_get_day (&date);
  /* The date stays the calendar date it is: no time zone is involved. */
  /* TRANSLATORS: a date: %1$u is the year, %2$02u the month (01-12),
   * %3$02u the day; write them as your language writes dates, e.g.
   * "%1$u年%2$u月%3$u日" */
  return g_strdup_printf (_("%1$u-%2$02u-%3$02u"), y, m, d);
}

const char *
hearth_label_field (const char *table, const char *field)
{
  if (g_strcmp0 (table, "households") == 0)
    return LOOKUP (household_fields, field);
  if (g_strcmp0 (table, "members") == 0)
    return LOOKUP (member_fields, field);
  if (g_strcmp0 (table, "tasks") == 0)
    return LOOKUP (task_fields, field);
  if (g_strcmp0 (table, "measures") == 0)
    return LOOKUP (measure_fields, field);
  return field != NULL ? field : "";
}

char *
hearth_label_field_value (const char *table, const char *field, const char *value)
{
  if (value == NULL)
    return g_strdup ("");
  if (g_strcmp0 (field, "risk_level") == 0)
    return g_strdup (hearth_label_risk_level (value));
  if (g_strcmp0 (field, "risk_types") == 0)
    return hearth_label_risk_types (value);
  if (g_strcmp0 (field, "monitoring_status") == 0)
    return g_strdup (hearth_label_status (value));
  if (g_strcmp0 (field, "category") == 0)
    return g_strdup (hearth_label_category (value));
  if (g_strcmp0 (table, "members") == 0 && g_strcmp0 (field, "relation") == 0)
    return g_strdup (hearth_label_relation (value));
  if (g_strcmp0 (table, "members") == 0 && g_strcmp0 (field, "health") == 0)
    return g_strdup (hearth_label_health (value));
  if (g_strcmp0 (table, "members") == 0 && g_strcmp0 (field, "labour") == 0)
    return g_strdup (hearth_label_labour (value));
  if (g_strcmp0 (table, "measures") == 0 && g_strcmp0 (field, "last_progress") == 0)
    return g_strdup (hearth_label_progress (value));
  if (g_strcmp0 (table, "measures") == 0 && g_strcmp0 (field, "last_effect") == 0)
    return g_strdup (hearth_label_effect (value));
  if (g_str_has_suffix (field != NULL ? field : "", "_date") || g_strcmp0 (field, "eliminated_on") == 0)
    return hearth_label_date (value);
  return g_strdup (value);
}

char *
hearth_label_moment (const char *iso)
{
  g_autoptr(GDateTime) utc = iso != NULL ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;
  g_autoptr(GDateTime) local = NULL;
  g_autofree char *day = NULL;
  g_autofree char *date = NULL;

  if (utc == NULL)
    return g_strdup (iso != NULL ? iso : "");
  /* A moment is shown on the tablet's clock. */
  local = g_date_time_to_local (utc);
  day = g_date_time_format (local, "%Y-%m-%d");
  date = hearth_label_date (day);
  /* TRANSLATORS: a moment: the date as written above, then hours:minutes */
  return g_strdup_printf (_("%s, %02d:%02d"), date, g_date_time_get_hour (local), g_date_time_get_minute (local));
}

char *
hearth_label_due (const char *due_date, const char *today)
{
  GDate due, now;
  gint days;

  if (!parse_date (due_date, &due) || !parse_date (today, &now))
    return g_strdup (due_date != NULL ? due_date : "");
  days = g_date_days_between (&now, &due);
  if (days == 0)
    return g_strdup (_("due today"));
  if (days < 0)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d day overdue", "%d days overdue", (gulong) -days),
                            -days);
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "due in %d day", "due in %d days", (gulong) days), days);
}

char *
hearth_label_task_reason (const char *kind, const char *reason)
{
  if (reason == NULL || reason[0] == '\0')
    return g_strdup ("");
  /* A follow-up says which risk level set its date (case-store.c). */
  if (g_str_has_prefix (reason, "risk_level="))
    {
      const char *level = reason + strlen ("risk_level=");

      return g_str_equal (level, "none") ? g_strdup ("") : g_strdup (hearth_label_risk_level (level));
    }
  /* A correction carries the clerk's comment, in the clerk's words. */
  return g_strdup_printf (_("“%s”"), reason);
}

char *
hearth_label_id_tail (const char *id_number)
{
  gsize n = id_number != NULL ? strlen (id_number) : 0;

  if (n < 4)
    return g_strdup ("");
  return g_strdup_printf ("…%s", id_number + n - 4);
}

char *
hearth_label_village (HearthStore *store, const char *village_code)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (village_code != NULL, NULL);

  name = store != NULL ? hearth_division_name (store, village_code) : NULL;
  if (name == NULL)
    return g_strdup (village_code);
  /* TRANSLATORS: a village where a household has no address: the name the
   * county published for it, then its division code */
  return g_strdup_printf (_("%s (%s)"), name, village_code);
}

char *
hearth_label_place (HearthStore *store, const char *address, const char *village_code)
{
  if (address != NULL && address[0] != '\0')
    return g_strdup (address);
  return hearth_label_village (store, village_code != NULL ? village_code : "");
}

char *
hearth_label_household (const char *head_name, const char *registry_no)
{
  gboolean named = head_name != NULL && head_name[0] != '\0';
  gboolean numbered = registry_no != NULL && registry_no[0] != '\0';

  if (named && numbered)
    /* TRANSLATORS: a household on a list: its head's name, then its
     * county registry number (户编号). */
    return g_strdup_printf (_("%s, registry number %s"), head_name, registry_no);
  if (named)
    return g_strdup (head_name);
  if (numbered)
    return g_strdup_printf (_("Registry number %s"), registry_no);
  return g_strdup (_("A household not on this tablet"));
}

char *
hearth_label_change (const char *table, const char *const *fields, gboolean created, const char *member_name)
{
  g_autoptr(GString) list = g_string_new (NULL);
  gboolean member = g_strcmp0 (table, "members") == 0;
  gboolean named = member_name != NULL && member_name[0] != '\0';

  if (g_strcmp0 (table, "submissions") == 0)
    return g_strdup (_("A filled-in form"));
  if (g_strcmp0 (table, "reviews") == 0)
    return g_strdup (_("A review decision"));
  if (g_strcmp0 (table, "audit") == 0)
    return g_strdup (_("An entry of this tablet's log"));
  if (created && fields != NULL)
    {
      if (member)
        /* TRANSLATORS: a member added to a household, by name */
        return named ? g_strdup_printf (_("New member %s"), member_name) : g_strdup (_("New member"));
      if (g_strcmp0 (table, "tasks") == 0)
        return g_strdup (_("New task"));
      if (g_strcmp0 (table, "measures") == 0)
        return g_strdup (_("New assistance measure"));
      return g_strdup (_("New household"));
    }
  for (guint i = 0; fields != NULL && fields[i] != NULL; i++)
    {
      if (g_strv_contains (internal_fields, fields[i]))
        continue;
      if (list->len > 0)
        /* TRANSLATORS: between two items of a list, e.g. "Phone number, Address" */
        g_string_append (list, _(", "));
      g_string_append (list, hearth_label_field (table, fields[i]));
    }
  if (list->len > 0)
    {
      if (member && named)
        /* TRANSLATORS: what a change of a member changed: the member's
         * name, then the fields, e.g. "Member Liu Guilan: Phone number" */
        return g_strdup_printf (_("Member %s: %s"), member_name, list->str);
      return g_string_free (g_steal_pointer (&list), FALSE);
    }
  if (member)
    return named ? g_strdup_printf (_("A change of member %s"), member_name) : g_strdup (_("A change of a member"));
  if (g_strcmp0 (table, "tasks") == 0)
    return g_strdup (_("A change of a task"));
  if (g_strcmp0 (table, "measures") == 0)
    return g_strdup (_("A change of an assistance measure"));
  return g_strdup (_("A change of the household"));
}

char *
hearth_label_refusal (const char *message, const char *household_id, const char *household)
{
  g_auto(GStrv) parts = NULL;

  /* The center names records by id; the worker knows the household by
   * its head. */
  if (message == NULL)
    return g_strdup ("");
  if (household_id == NULL || household_id[0] == '\0' || household == NULL)
    return g_strdup (message);
  parts = g_strsplit (message, household_id, -1);
  return g_strjoinv (household, parts);
}

const char *
hearth_label_refusal_code (const char *code)
{
  if (g_strcmp0 (code, "scope") == 0)
    return _("This household is not in the villages you serve, so the county center did not take the change. "
             "Check the village, or ask the village clerk.");
  if (g_strcmp0 (code, "role") == 0)
    return _("Your role may not make this change. Ask the village clerk or the county to make it.");
  if (g_strcmp0 (code, "duplicate") == 0)
    return _("Another household already has this registry number. Check the number with the village clerk.");
  if (g_strcmp0 (code, "audit") == 0)
    return _("This tablet's record of its own work did not verify at the county center. Ask county IT.");
  if (g_strcmp0 (code, "bad-change") == 0)
    return _("The county center could not read this change. Record it again, or ask county IT.");
  return _("The county center did not take this change. Ask county IT.");
}

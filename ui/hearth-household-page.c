/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-household-page.c: one household (hearth-household-page.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-household-page.h"
#include "case-labels.h"
#include "case-drafts.h"
#include "case-household.h"
#include "hearth-form-view.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

struct _HearthHouseholdPage {
  GtkWidget parent_instance;
  GtkButton *back_button;
  GtkLabel *bar_title;
  GtkStack *stack;
  AdwStatusPage *empty_page;
  GtkScrolledWindow *scroller;
  GtkLabel *name_label;
  GtkLabel *risk_badge;
  GtkLabel *address_label;
  GtkButton *visit_button;
  GtkButton *follow_up_button;
  AdwPreferencesGroup *drafts_group;
  AdwActionRow *status_row;
  AdwActionRow *reasons_row;
  AdwActionRow *next_visit_row;
  AdwActionRow *category_row;
  AdwActionRow *income_row;
  AdwPreferencesGroup *tasks_group;
  AdwPreferencesGroup *members_group;
  AdwPreferencesGroup *reviews_group;
  AdwPreferencesGroup *visits_group;
  GPtrArray *added;        /* (group, row) pairs added for the household shown */
  HearthSession *session;
  char *household_id;
};

G_DEFINE_FINAL_TYPE (HearthHouseholdPage, hearth_household_page, GTK_TYPE_WIDGET)

static const char *const risk_classes[] = { "hearth-risk-red", "hearth-risk-orange", "hearth-risk-yellow",
                                            "hearth-risk-none" };

static void
clear_rows (HearthHouseholdPage *self)
{
  for (guint i = 0; i + 1 < self->added->len; i += 2)
    adw_preferences_group_remove (self->added->pdata[i], self->added->pdata[i + 1]);
  g_ptr_array_set_size (self->added, 0);
}

static AdwActionRow *
add_row (HearthHouseholdPage *self, AdwPreferencesGroup *group, const char *title, const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  /* Names and comments are the users' words, not markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  if (subtitle != NULL && subtitle[0] != '\0')
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  adw_preferences_group_add (group, row);
  g_ptr_array_add (self->added, group);
  g_ptr_array_add (self->added, row);
  return ADW_ACTION_ROW (row);
}

static void
set_subtitle (AdwActionRow *row, const char *text)
{
  adw_action_row_set_subtitle (row, text);
  gtk_widget_set_visible (GTK_WIDGET (row), text != NULL && text[0] != '\0');
}

/* Whole years from a YYYY-MM-DD birth date to @today, or -1. */
static int
age_on (const char *birth, const char *today)
{
  guint by, bm, bd, ty, tm, td;
  int age;

  if (birth == NULL || today == NULL || sscanf (birth, "%4u-%2u-%2u", &by, &bm, &bd) != 3 ||
      sscanf (today, "%4u-%2u-%2u", &ty, &tm, &td) != 3)
    return -1;
  age = (int) ty - (int) by;
  if (tm < bm || (tm == bm && td < bd))
    age--;
  return age >= 0 ? age : -1;
}

static void
show_members (HearthHouseholdPage *self, const HearthHousehold *h, const char *today)
{
  g_autofree char *title = g_strdup_printf (_("Members (%u)"), h->members->len);

  adw_preferences_group_set_title (self->members_group, title);
  for (guint i = 0; i < h->members->len; i++)
    {
      const HearthHouseholdMember *m = h->members->pdata[i];
      g_autoptr(GString) s = g_string_new (hearth_label_relation (m->relation));
      int age = age_on (m->birth_date, today);
      const char *parts[] = { hearth_label_sex (m->sex), NULL, hearth_label_health (m->health),
                              hearth_label_labour (m->labour) };
      g_autofree char *age_text = age >= 0 ? g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d year old",
                                                                           "%d years old", (gulong) age), age)
                                           : NULL;

      parts[1] = age_text;
      for (guint p = 0; p < G_N_ELEMENTS (parts); p++)
        if (parts[p] != NULL && parts[p][0] != '\0')
          {
            /* TRANSLATORS: between the facts about a member */
            g_string_append (s, _(" · "));
            g_string_append (s, parts[p]);
          }
      add_row (self, self->members_group, m->name, s->str);
    }
}

static void
show_tasks (HearthHouseholdPage *self, const HearthHousehold *h, const char *today)
{
  guint open = 0;

  for (guint i = 0; i < h->tasks->len; i++)
    {
      const HearthHouseholdTask *t = h->tasks->pdata[i];
      g_autofree char *due = NULL;
      g_autofree char *date = hearth_label_date (t->due_date);
      g_autofree char *subtitle = NULL;
      g_autofree char *reason = NULL;

      if (!g_str_equal (t->status, "open"))
        continue;
      open++;
      due = hearth_label_due (t->due_date, today);
      reason = hearth_label_task_reason (t->kind, t->reason);
      /* TRANSLATORS: a task's due date, how it stands, and why it is open,
       * e.g. "2026-05-03, 7 days overdue — Yellow risk" */
      subtitle = reason[0] != '\0' ? g_strdup_printf (_("%s, %s — %s"), date, due, reason)
                                   : g_strdup_printf (_("%s, %s"), date, due);
      add_row (self, self->tasks_group, hearth_label_task_kind (t->kind), subtitle);
    }
  if (open == 0)
    add_row (self, self->tasks_group, _("No open task"), NULL);
}

static void
show_reviews (HearthHouseholdPage *self, const HearthHousehold *h)
{
  for (guint i = 0; i < h->reviews->len; i++)
    {
      const HearthHouseholdReview *r = h->reviews->pdata[i];
      g_autofree char *date = hearth_label_date (r->at);
      g_autofree char *who = NULL;
      g_autofree char *subtitle = NULL;

      /* TRANSLATORS: who made a review and when: role, name, date */
      who = g_strdup_printf (_("%s %s, %s"), hearth_label_role (r->role), r->actor, date);
      subtitle = r->comment[0] != '\0' ? g_strdup_printf (_("%s\n“%s”"), who, r->comment) : g_strdup (who);
      add_row (self, self->reviews_group, hearth_label_status (r->to_state), subtitle);
    }
  if (h->reviews->len == 0)
    add_row (self, self->reviews_group, _("No review yet"), NULL);
}

static void
show_visits (HearthHouseholdPage *self, const HearthHousehold *h)
{
  for (guint i = 0; i < h->visits->len; i++)
    {
      const HearthHouseholdVisit *v = h->visits->pdata[i];
      g_autofree char *date = hearth_label_date (v->ended_at);
      g_autofree char *subtitle = NULL;

      /* TRANSLATORS: a visit: its date and who made it */
      subtitle = g_strdup_printf (_("%s, by %s"), date, v->author);
      if (v->risk_level[0] != '\0')
        {
          g_autofree char *with_risk = g_strdup_printf (_("%s · %s"), subtitle, hearth_label_risk_level (v->risk_level));
          g_free (subtitle);
          subtitle = g_steal_pointer (&with_risk);
        }
      add_row (self, self->visits_group, hearth_label_form (v->form_id), subtitle);
    }
  if (h->visits->len == 0)
    add_row (self, self->visits_group, _("No visit yet"), NULL);
}

/* A start button: continues the form's newest draft for the household,
 * or begins one. */
static void
set_start (GtkButton *button, const char *form_id, const char *household_id, GPtrArray *drafts,
           const char *start_label, const char *continue_label)
{
  const HearthDraft *draft = NULL;

  for (guint i = 0; drafts != NULL && i < drafts->len && draft == NULL; i++)
    if (g_str_equal (((HearthDraft *) drafts->pdata[i])->form_id, form_id))
      draft = drafts->pdata[i];
  gtk_button_set_label (button, draft != NULL ? continue_label : start_label);
  /* The target first: an action name without it would not match "(sss)". */
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "(sss)", draft != NULL ? "" : form_id,
                                    draft != NULL ? "" : household_id, draft != NULL ? draft->id : "");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "window.open-form");
}

static void
show_drafts (HearthHouseholdPage *self, const HearthHousehold *h, GPtrArray *drafts)
{
  gboolean monitored = g_str_equal (h->monitoring_status, "monitored") ||
                       g_str_equal (h->monitoring_status, "pending_elimination");

  set_start (self->visit_button, HEARTH_FORM_VISIT, h->id, drafts, _("Start a _visit"), _("Continue the _visit"));
  set_start (self->follow_up_button, HEARTH_FORM_FOLLOW_UP, h->id, drafts, _("Start a _follow-up"),
             _("Continue the _follow-up"));
  /* The follow-up reports on the measures of a household in monitoring. */
  gtk_widget_set_visible (GTK_WIDGET (self->follow_up_button), monitored);
  for (guint i = 0; drafts != NULL && i < drafts->len; i++)
    {
      const HearthDraft *d = drafts->pdata[i];
      g_autofree char *when = hearth_label_moment (d->updated_at);
      /* TRANSLATORS: an unfinished form: when it was last saved */
      g_autofree char *subtitle = g_strdup_printf (_("Last saved %s"), when);
      AdwActionRow *row = add_row (self, self->drafts_group, hearth_label_form (d->form_id), subtitle);
      GtkWidget *arrow = gtk_image_new_from_icon_name ("go-next-symbolic");

      gtk_accessible_update_property (GTK_ACCESSIBLE (arrow), GTK_ACCESSIBLE_PROPERTY_LABEL, "", -1);
      adw_action_row_add_suffix (row, arrow);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      gtk_actionable_set_action_target (GTK_ACTIONABLE (row), "(sss)", "", "", d->id);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "window.open-form");
    }
  gtk_widget_set_visible (GTK_WIDGET (self->drafts_group), drafts != NULL && drafts->len > 0);
}

static void
show (HearthHouseholdPage *self, const HearthHousehold *h)
{
  g_autofree char *today = hearth_session_get_today (self->session);
  g_autofree char *reasons = hearth_label_risk_types (h->risk_types);
  g_autofree char *next = NULL;
  g_autofree char *income = NULL;
  g_autofree char *risk_css = g_strdup_printf ("hearth-risk-%s", h->risk_level);
  g_autofree char *where = hearth_label_place (hearth_session_get_store (self->session), h->address, h->village_code);

  gtk_label_set_text (self->bar_title, h->head_name);
  gtk_label_set_text (self->name_label, h->head_name);
  gtk_label_set_text (self->address_label, where);
  for (guint i = 0; i < G_N_ELEMENTS (risk_classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (self->risk_badge), risk_classes[i]);
  gtk_widget_add_css_class (GTK_WIDGET (self->risk_badge), risk_css);
  gtk_label_set_text (self->risk_badge, hearth_label_risk_level (h->risk_level));

  set_subtitle (self->status_row, hearth_label_status (h->monitoring_status));
  set_subtitle (self->reasons_row, reasons);
  if (h->next_visit_date[0] != '\0')
    {
      g_autofree char *date = hearth_label_date (h->next_visit_date);
      g_autofree char *due = hearth_label_due (h->next_visit_date, today);

      next = g_strdup_printf (_("%s, %s"), date, due);
    }
  set_subtitle (self->next_visit_row, next);
  set_subtitle (self->category_row, hearth_label_category (h->category));
  if (h->per_capita_income[0] != '\0')
    /* TRANSLATORS: yuan per person per year */
    income = g_strdup_printf (_("%s yuan a year"), h->per_capita_income);
  set_subtitle (self->income_row, income);

  clear_rows (self);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) drafts = hearth_drafts_list (hearth_session_get_db (self->session), h->id, &error);

    if (drafts == NULL)
      g_warning ("The drafts of a household cannot be read: %s", error->message);
    show_drafts (self, h, drafts);
  }
  show_tasks (self, h, today);
  show_members (self, h, today);
  show_reviews (self, h);
  show_visits (self, h);
  gtk_stack_set_visible_child_name (self->stack, "household");
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->scroller), 0);
}

gboolean
hearth_household_page_show (HearthHouseholdPage *self, const char *household_id, GError **error)
{
  g_autoptr(HearthHousehold) h = NULL;
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (HEARTH_IS_HOUSEHOLD_PAGE (self), FALSE);

  g_free (self->household_id);
  self->household_id = g_strdup (household_id);
  if (household_id == NULL)
    {
      clear_rows (self);
      gtk_label_set_text (self->bar_title, _("Household"));
      adw_status_page_set_title (self->empty_page, _("Choose a household"));
      adw_status_page_set_description (self->empty_page,
                                       _("Tap a household on the list to see its members, visits and tasks."));
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return TRUE;
    }
  h = hearth_case_household_read (hearth_session_get_db (self->session), household_id, &local);
  if (h == NULL)
    {
      clear_rows (self);
      gtk_label_set_text (self->bar_title, _("Household"));
      adw_status_page_set_title (self->empty_page, _("This household cannot be shown"));
      adw_status_page_set_description (self->empty_page, local->message);
      gtk_stack_set_visible_child_name (self->stack, "empty");
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  show (self, h);
  return TRUE;
}

static void
session_changed (HearthSession *session, HearthHouseholdPage *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = g_strdup (self->household_id);

  if (id != NULL && !hearth_household_page_show (self, id, &error))
    g_debug ("The household shown is gone: %s", error->message);
}

static void
hearth_household_page_dispose (GObject *object)
{
  HearthHouseholdPage *self = HEARTH_HOUSEHOLD_PAGE (object);

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  g_clear_pointer (&self->added, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), HEARTH_TYPE_HOUSEHOLD_PAGE);
  /* Children of the template the class does not bind stay otherwise. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self)); child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (hearth_household_page_parent_class)->dispose (object);
}

static void
hearth_household_page_finalize (GObject *object)
{
  g_free (HEARTH_HOUSEHOLD_PAGE (object)->household_id);
  G_OBJECT_CLASS (hearth_household_page_parent_class)->finalize (object);
}

static void
hearth_household_page_class_init (HearthHouseholdPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearth_household_page_dispose;
  object_class->finalize = hearth_household_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-household-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, back_button);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, bar_title);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, stack);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, empty_page);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, scroller);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, name_label);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, risk_badge);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, address_label);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, visit_button);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, follow_up_button);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, drafts_group);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, status_row);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, reasons_row);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, next_visit_row);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, category_row);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, income_row);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, tasks_group);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, members_group);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, reviews_group);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdPage, visits_group);
}

static void
hearth_household_page_init (HearthHouseholdPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->added = g_ptr_array_new ();
}

HearthHouseholdPage *
hearth_household_page_new (HearthSession *session)
{
  HearthHouseholdPage *self = g_object_new (HEARTH_TYPE_HOUSEHOLD_PAGE, NULL);

  g_return_val_if_fail (HEARTH_IS_SESSION (session), NULL);
  self->session = g_object_ref (session);
  g_signal_connect (session, "changed", G_CALLBACK (session_changed), self);
  return self;
}

const char *
hearth_household_page_get_household_id (HearthHouseholdPage *self)
{
  g_return_val_if_fail (HEARTH_IS_HOUSEHOLD_PAGE (self), NULL);
  return self->household_id;
}

void
hearth_household_page_set_show_back (HearthHouseholdPage *self, gboolean show)
{
  g_return_if_fail (HEARTH_IS_HOUSEHOLD_PAGE (self));
  gtk_widget_set_visible (GTK_WIDGET (self->back_button), show);
}

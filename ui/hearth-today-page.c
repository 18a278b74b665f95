/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-today-page.c: the worker's tasks, overdue first (hearth-today-page.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-today-page.h"
#include "case-labels.h"
#include "case-drafts.h"
#include "case-published.h"
#include "case-search.h"

#include <glib/gi18n.h>
#include <string.h>

struct _HearthTodayPage {
  GtkWidget parent_instance;
  GtkStack *stack;
  GtkLabel *date_label;
  AdwPreferencesGroup *drafts_group;
  AdwPreferencesGroup *overdue_group;
  AdwPreferencesGroup *today_group;
  AdwPreferencesGroup *later_group;
  AdwPreferencesGroup *visit_group;
  GtkButton *more_button;
  GtkButton *visit_more_button;
  AdwStatusPage *today_empty_page;
  GPtrArray *rows;            /* (group, row) pairs */
  guint counts[3];
  char *after_due_date;
  char *after_id;
  /* Households due for a routine visit: how many shown, the cursor, and
   * the county's periods (read at each reload). */
  guint visit_count;
  char *after_visit_date;
  char *after_visit_id;
  guint routine_days;
  guint priority_days;
  /* The households to visit come below the tasks: on the first screen
   * they are read once it is drawn (unlocking shows the tasks sooner). */
  gboolean first_load;
  gboolean visits_pending;
  GPtrArray *later_tasks;     /* HearthTaskRow: the first page's rows below a screenful */
  guint later_from;
  GdkFrameClock *clock;
  gulong after_paint_handler;
  guint visits_source;
  HearthSession *session;
};

G_DEFINE_FINAL_TYPE (HearthTodayPage, hearth_today_page, GTK_TYPE_WIDGET)

static void
clear (HearthTodayPage *self)
{
  for (guint i = 0; i + 1 < self->rows->len; i += 2)
    adw_preferences_group_remove (self->rows->pdata[i], self->rows->pdata[i + 1]);
  g_ptr_array_set_size (self->rows, 0);
  memset (self->counts, 0, sizeof self->counts);
  g_clear_pointer (&self->after_due_date, g_free);
  g_clear_pointer (&self->after_id, g_free);
  self->visit_count = 0;
  g_clear_pointer (&self->after_visit_date, g_free);
  g_clear_pointer (&self->after_visit_id, g_free);
  g_clear_pointer (&self->later_tasks, g_ptr_array_unref);
}

/* A row of Today that opens a household: its head's name, @subtitle, the
 * badge of @risk_level (nullable or "none": no badge) and an arrow.
 * Returns: (transfer floating): the row. */
static GtkWidget *
household_row (const char *head_name, const char *subtitle, const char *risk_level, const char *household_id)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *arrow = gtk_image_new_from_icon_name ("go-next-symbolic");

  if (risk_level != NULL && !g_str_equal (risk_level, "none"))
    {
      g_autofree char *css = g_strdup_printf ("hearth-risk-%s", risk_level);
      GtkWidget *badge = gtk_label_new (hearth_label_risk_level (risk_level));

      gtk_widget_set_valign (badge, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (badge, "hearth-risk");
      gtk_widget_add_css_class (badge, css);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), badge);
    }
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), head_name);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);
  gtk_accessible_update_property (GTK_ACCESSIBLE (arrow), GTK_ACCESSIBLE_PROPERTY_LABEL, "", -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), arrow);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "worker.show-household");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (row), "s", household_id);
  return row;
}

static void
add_task (HearthTodayPage *self, const HearthTaskRow *task, const char *today)
{
  AdwPreferencesGroup *groups[] = { self->overdue_group, self->today_group, self->later_group };
  AdwPreferencesGroup *group = groups[task->urgency];
  GtkWidget *row;
  g_autofree char *due = hearth_label_due (task->due_date, today);
  g_autofree char *subtitle = NULL;
  g_autofree char *where = hearth_label_place (hearth_session_get_store (self->session), task->address,
                                               task->village_code);

  /* TRANSLATORS: a task on the today screen: what to do, how its due date
   * stands, and where (the household's address, else its village) */
  subtitle = g_strdup_printf (_("%s, %s\n%s"), hearth_label_task_kind (task->kind), due, where);
  /* A follow-up's risk level, as on the household list. */
  row = household_row (task->head_name, subtitle,
                       g_str_has_prefix (task->reason, "risk_level=") ? task->reason + strlen ("risk_level=") : NULL,
                       task->household_id);
  if (task->urgency == HEARTH_TASK_OVERDUE)
    gtk_widget_add_css_class (row, "hearth-overdue");
  adw_preferences_group_add (group, row);
  g_ptr_array_add (self->rows, group);
  g_ptr_array_add (self->rows, row);
  self->counts[task->urgency]++;
}

/* The forms begun and not finished, newest first: registrations (no
 * household yet) named by what the form calls them so far. */
static void
load_drafts (HearthTodayPage *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) drafts = hearth_drafts_list (hearth_session_get_db (self->session), NULL, &error);

  if (drafts == NULL)
    g_warning ("The drafts cannot be read: %s", error->message);
  for (guint i = 0; drafts != NULL && i < drafts->len; i++)
    {
      const HearthDraft *d = drafts->pdata[i];
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *arrow = gtk_image_new_from_icon_name ("go-next-symbolic");
      g_autofree char *when = hearth_label_moment (d->updated_at);
      /* TRANSLATORS: an unfinished form on the today screen: the form and
       * when it was last saved */
      g_autofree char *subtitle = g_strdup_printf (_("%s, last saved %s"), hearth_label_form (d->form_id), when);
      const char *title = d->head_name[0] != '\0' ? d->head_name
                          : d->label[0] != '\0' && d->household_id == NULL ? d->label
                          : d->household_id == NULL ? _("A new household") : _("A household");

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_accessible_update_property (GTK_ACCESSIBLE (arrow), GTK_ACCESSIBLE_PROPERTY_LABEL, "", -1);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), arrow);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      gtk_actionable_set_action_target (GTK_ACTIONABLE (row), "(sss)", "", "", d->id);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "window.open-form");
      adw_preferences_group_add (self->drafts_group, row);
      g_ptr_array_add (self->rows, self->drafts_group);
      g_ptr_array_add (self->rows, row);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->drafts_group), drafts != NULL && drafts->len > 0);
}

static void
add_visit (HearthTodayPage *self, const HearthVisitDueRow *visit, const char *today)
{
  GtkWidget *row;
  g_autofree char *where = hearth_label_place (hearth_session_get_store (self->session), visit->address,
                                               visit->village_code);
  g_autofree char *subtitle = NULL;

  if (visit->last_visit_date[0] == '\0')
    /* TRANSLATORS: a household to visit on the today screen that nobody
     * has visited yet, and where it is (its address) */
    subtitle = g_strdup_printf (_("Never visited\n%s"), where);
  else
    {
      g_autofree char *last = hearth_label_date (visit->last_visit_date);
      g_autofree char *due = hearth_label_due (visit->due_date, today);

      /* TRANSLATORS: a household to visit on the today screen: the date
       * of its last visit, how its routine visit stands ("12 days
       * overdue"), and where it is (its address) */
      subtitle = g_strdup_printf (_("Last visited %s, routine visit %s\n%s"), last, due, where);
    }
  row = household_row (visit->head_name, subtitle, visit->risk_level, visit->id);
  adw_preferences_group_add (self->visit_group, row);
  g_ptr_array_add (self->rows, self->visit_group);
  g_ptr_array_add (self->rows, row);
  self->visit_count++;
}

/* The next page of households with no open task whose routine visit is
 * due (case-search.h, hearth_case_visits_due()). */
static void
load_visits (HearthTodayPage *self)
{
  g_autofree char *today = hearth_session_get_today (self->session);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) visits = NULL;
  HearthVisitDueQuery q = {
    .today = today, .routine_days = self->routine_days, .priority_days = self->priority_days,
    .after_last_visit_date = self->after_visit_date, .after_id = self->after_visit_id,
    .limit = HEARTH_TODAY_VISITS_PER_PAGE,
  };

  visits = hearth_case_visits_due (hearth_session_get_db (self->session), &q, &error);
  if (visits == NULL)
    {
      g_warning ("The households to visit cannot be read: %s", error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->visit_group), self->visit_count > 0);
      gtk_widget_set_visible (GTK_WIDGET (self->visit_more_button), FALSE);
      return;
    }
  for (guint i = 0; i < visits->len; i++)
    add_visit (self, visits->pdata[i], today);
  if (visits->len > 0)
    {
      const HearthVisitDueRow *last = visits->pdata[visits->len - 1];

      g_free (self->after_visit_date);
      self->after_visit_date = g_strdup (last->last_visit_date);
      g_free (self->after_visit_id);
      self->after_visit_id = g_strdup (last->id);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->visit_group), self->visit_count > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->visit_more_button), visits->len == HEARTH_TODAY_VISITS_PER_PAGE);
}

/* The county's routine visit periods, or the defaults when they cannot be
 * read (the list is still worth showing). */
static void
read_visit_periods (HearthTodayPage *self)
{
  g_autoptr(GError) error = NULL;

  if (!hearth_published_visit_periods (hearth_session_get_store (self->session), &self->routine_days,
                                       &self->priority_days, &error))
    {
      g_warning ("The routine visit periods cannot be read: %s", error->message);
      self->routine_days = HEARTH_ROUTINE_VISIT_DAYS;
      self->priority_days = HEARTH_PRIORITY_VISIT_DAYS;
    }
}

/* The tasks, or why there are none. */
static void
show_tasks_or_empty (HearthTodayPage *self)
{
  if (self->rows->len == 0)
    {
      HearthHouseholdQuery any = { .limit = 1 };
      g_autoptr(GPtrArray) households = hearth_case_search_households (hearth_session_get_db (self->session), &any,
                                                                        NULL);

      if (households != NULL && households->len == 0)
        {
          adw_status_page_set_icon_name (self->today_empty_page, "system-users-symbolic");
          adw_status_page_set_title (self->today_empty_page, _("No households on this tablet yet"));
          adw_status_page_set_description (self->today_empty_page,
                                           _("The households of your villages arrive when the tablet is enrolled "
                                             "with the county center and syncs."));
        }
      else
        {
          adw_status_page_set_icon_name (self->today_empty_page, "object-select-symbolic");
          adw_status_page_set_title (self->today_empty_page, _("No visits to make"));
          adw_status_page_set_description (self->today_empty_page, _("No follow-up visit is open and no household is due for "
                                                               "a routine visit. Find a household under Households or "
                                                               "register it."));
        }
      gtk_stack_set_visible_child_name (self->stack, "empty");
    }
  else
    gtk_stack_set_visible_child_name (self->stack, "tasks");
}

/* The task groups with rows, shown. */
static void
show_groups (HearthTodayPage *self)
{
  AdwPreferencesGroup *groups[] = { self->overdue_group, self->today_group, self->later_group };

  for (guint i = 0; i < 3; i++)
    gtk_widget_set_visible (GTK_WIDGET (groups[i]), self->counts[i] > 0);
}

/* The rows of the first screen: a 1280-pixel tablet upright shows about
 * as many; the rest of the first page follow once it is drawn. */
#define FIRST_SCREEN_ROWS 12

static gboolean
load_page (HearthTodayPage *self)
{
  g_autofree char *today = hearth_session_get_today (self->session);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tasks = hearth_case_tasks_list (hearth_session_get_db (self->session), today, NULL,
                                                        self->after_due_date, self->after_id, HEARTH_TODAY_TASKS_PER_PAGE, &error);

  if (tasks == NULL)
    {
      adw_status_page_set_title (self->today_empty_page, _("The tasks cannot be read"));
      adw_status_page_set_description (self->today_empty_page, error->message);
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return FALSE;
    }
  for (guint i = 0; i < tasks->len; i++)
    {
      if (self->first_load && i == FIRST_SCREEN_ROWS)
        {
          self->later_tasks = g_ptr_array_ref (tasks);
          self->later_from = i;
          break;
        }
      add_task (self, tasks->pdata[i], today);
    }
  if (tasks->len > 0)
    {
      const HearthTaskRow *last = tasks->pdata[tasks->len - 1];

      g_free (self->after_due_date);
      self->after_due_date = g_strdup (last->due_date);
      g_free (self->after_id);
      self->after_id = g_strdup (last->id);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->more_button), tasks->len == HEARTH_TODAY_TASKS_PER_PAGE);
  show_groups (self);
  return TRUE;
}

void
hearth_today_page_reload (HearthTodayPage *self)
{
  g_autofree char *today = NULL;
  g_autofree char *date = NULL;
  g_autofree char *title = NULL;

  g_return_if_fail (HEARTH_IS_TODAY_PAGE (self));

  today = hearth_session_get_today (self->session);
  date = hearth_label_date (today);
  /* TRANSLATORS: the heading of the today screen, with today's date */
  title = g_strdup_printf (_("Today, %s"), date);
  gtk_label_set_text (self->date_label, title);
  clear (self);
  read_visit_periods (self);
  load_drafts (self);
  self->visits_pending = FALSE;
  if (!load_page (self))
    return;
  if (self->first_load && self->rows->len > 0)
    {
      /* With the rest of the first page's tasks. */
      self->visits_pending = TRUE;
      gtk_widget_set_visible (GTK_WIDGET (self->visit_group), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->visit_more_button), FALSE);
    }
  else
    load_visits (self);
  self->first_load = FALSE;
  show_tasks_or_empty (self);
}

static void
stop_waiting_for_paint (HearthTodayPage *self)
{
  if (self->clock != NULL)
    g_clear_signal_handler (&self->after_paint_handler, self->clock);
  g_clear_object (&self->clock);
}

/* The rest of the first screen's rows, once it is drawn (or before more
 * are read). */
static void
finish_first_screen (HearthTodayPage *self)
{
  if (self->visits_pending)
    {
      g_autofree char *today = hearth_session_get_today (self->session);

      self->visits_pending = FALSE;
      for (guint i = self->later_from; self->later_tasks != NULL && i < self->later_tasks->len; i++)
        add_task (self, self->later_tasks->pdata[i], today);
      g_clear_pointer (&self->later_tasks, g_ptr_array_unref);
      show_groups (self);
      load_visits (self);
      show_tasks_or_empty (self);
    }
}

static gboolean
load_visits_idle (gpointer data)
{
  HearthTodayPage *self = data;

  self->visits_source = 0;
  finish_first_screen (self);
  return G_SOURCE_REMOVE;
}

static void
first_screen_painted (GdkFrameClock *clock, HearthTodayPage *self)
{
  stop_waiting_for_paint (self);
  if (self->visits_source == 0)
    self->visits_source = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, load_visits_idle, self, NULL);
}

static void
hearth_today_page_map (GtkWidget *widget)
{
  HearthTodayPage *self = HEARTH_TODAY_PAGE (widget);

  GTK_WIDGET_CLASS (hearth_today_page_parent_class)->map (widget);
  if (self->visits_pending && self->clock == NULL && self->visits_source == 0)
    {
      self->clock = gtk_widget_get_frame_clock (widget);
      if (self->clock != NULL)
        {
          g_object_ref (self->clock);
          self->after_paint_handler = g_signal_connect (self->clock, "after-paint",
                                                        G_CALLBACK (first_screen_painted), self);
        }
      else
        self->visits_source = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, load_visits_idle, self, NULL);
    }
}

static void
more_clicked (HearthTodayPage *self)
{
  finish_first_screen (self);
  load_page (self);
}

static void
visit_more_clicked (HearthTodayPage *self)
{
  finish_first_screen (self);
  load_visits (self);
}

static void
session_changed (HearthSession *session, HearthTodayPage *self)
{
  hearth_today_page_reload (self);
}

static void
hearth_today_page_dispose (GObject *object)
{
  HearthTodayPage *self = HEARTH_TODAY_PAGE (object);

  stop_waiting_for_paint (self);
  g_clear_handle_id (&self->visits_source, g_source_remove);
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_pointer (&self->after_due_date, g_free);
  g_clear_pointer (&self->after_id, g_free);
  g_clear_pointer (&self->after_visit_date, g_free);
  g_clear_pointer (&self->after_visit_id, g_free);
  g_clear_pointer (&self->later_tasks, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), HEARTH_TYPE_TODAY_PAGE);
  /* Children of the template the class does not bind stay otherwise. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self)); child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (hearth_today_page_parent_class)->dispose (object);
}

static void
hearth_today_page_class_init (HearthTodayPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearth_today_page_dispose;
  widget_class->map = hearth_today_page_map;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-today-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthTodayPage, stack);
  gtk_widget_class_bind_template_child (widget_class, HearthTodayPage, date_label);
  gtk_widget_class_bind_template_child (widget_class, HearthTodayPage, drafts_group);
  gtk_widget_class_bind_template_child (widget_class, HearthTodayPage, overdue_group);
  gtk_widget_class_bind_template_child (widget_class, HearthTodayPage, today_group);
  gtk_widget_class_bind_template_child (widget_class, HearthTodayPage, later_group);
  gtk_widget_class_bind_template_child (widget_class, HearthTodayPage, more_button);
  gtk_widget_class_bind_template_child (widget_class, HearthTodayPage, visit_group);
  gtk_widget_class_bind_template_child (widget_class, HearthTodayPage, visit_more_button);
  gtk_widget_class_bind_template_child (widget_class, HearthTodayPage, today_empty_page);
  gtk_widget_class_bind_template_callback (widget_class, more_clicked);
  gtk_widget_class_bind_template_callback (widget_class, visit_more_clicked);
}

static void
hearth_today_page_init (HearthTodayPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->rows = g_ptr_array_new ();
}

HearthTodayPage *
hearth_today_page_new (HearthSession *session)
{
  HearthTodayPage *self = g_object_new (HEARTH_TYPE_TODAY_PAGE, NULL);

  g_return_val_if_fail (HEARTH_IS_SESSION (session), NULL);
  self->session = g_object_ref (session);
  g_signal_connect (session, "changed", G_CALLBACK (session_changed), self);
  self->first_load = TRUE;
  hearth_today_page_reload (self);
  return self;
}

void
hearth_today_page_get_counts (HearthTodayPage *self, guint *overdue, guint *today, guint *later)
{
  g_return_if_fail (HEARTH_IS_TODAY_PAGE (self));
  *overdue = self->counts[HEARTH_TASK_OVERDUE];
  *today = self->counts[HEARTH_TASK_DUE_TODAY];
  *later = self->counts[HEARTH_TASK_LATER];
}

guint
hearth_today_page_get_visit_count (HearthTodayPage *self)
{
  g_return_val_if_fail (HEARTH_IS_TODAY_PAGE (self), 0);
  return self->visit_count;
}

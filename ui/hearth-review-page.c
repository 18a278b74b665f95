/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-review-page.c: the clerk's review screen (hearth-review-page.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-review-page.h"
#include "hearth-form-view.h"
#include "hearth-i18n.h"
#include "case-labels.h"
#include "hearth-window.h"
#include "case-forms.h"
#include "case-review.h"

#include <glib/gi18n.h>
#include <string.h>

typedef enum {
  ACT_APPROVE,
  ACT_SEND_BACK,
} Act;

struct _HearthReviewPage {
  GtkWidget parent_instance;
  GtkStack *stack;
  GtkScrolledWindow *list_scroller;
  AdwPreferencesGroup *cases_group;
  GtkLabel *no_cases_label;
  AdwPreferencesGroup *conflicts_group;
  GtkLabel *case_title;
  GtkScrolledWindow *case_scroller;
  GtkLabel *name_label;
  GtkLabel *risk_badge;
  GtkLabel *status_label;
  AdwPreferencesGroup *visit_group;
  AdwPreferencesGroup *answers_group;
  GtkTextView *comment_view;
  GtkLabel *comment_hint;
  GtkLabel *error_label;
  GtkButton *send_back_button;
  GtkButton *approve_button;
  AdwPreferencesGroup *measures_group;
  AdwComboRow *measure_type_row;
  AdwEntryRow *measure_entry;

  HearthSession *session;
  GPtrArray *measures;        /* (type, description) pairs decided with the approval */
  GPtrArray *measure_rows;    /* their rows in measures_group */
  GPtrArray *queue;           /* (element-type HearthReviewItem) */
  GPtrArray *added;           /* (group, widget) pairs */
  GPtrArray *case_rows;       /* (group, widget) pairs of the case shown */
  guint n_conflicts;
  char *household_id;
  char *preedit;
  guint settle_source;
  Act act;
};

G_DEFINE_FINAL_TYPE (HearthReviewPage, hearth_review_page, GTK_TYPE_WIDGET)

static const char *const risk_classes[] = { "hearth-risk-red", "hearth-risk-orange", "hearth-risk-yellow",
                                            "hearth-risk-none" };

static void
clear (GPtrArray *pairs)
{
  for (guint i = 0; i + 1 < pairs->len; i += 2)
    adw_preferences_group_remove (pairs->pdata[i], pairs->pdata[i + 1]);
  g_ptr_array_set_size (pairs, 0);
}

static AdwActionRow *
add_row (GPtrArray *pairs, AdwPreferencesGroup *group, const char *title, const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL && subtitle[0] != '\0')
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  adw_preferences_group_add (group, row);
  g_ptr_array_add (pairs, group);
  g_ptr_array_add (pairs, row);
  return ADW_ACTION_ROW (row);
}

static void
toast (HearthReviewPage *self, const char *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (HEARTH_IS_WINDOW (root))
    hearth_window_toast (HEARTH_WINDOW (root), message);
}

static const HearthReviewItem *
item_of (HearthReviewPage *self, const char *household_id)
{
  for (guint i = 0; self->queue != NULL && i < self->queue->len; i++)
    if (g_strcmp0 (((HearthReviewItem *) self->queue->pdata[i])->household_id, household_id) == 0)
      return self->queue->pdata[i];
  return NULL;
}

/* ---- the list -------------------------------------------------------------- */

static void
case_activated (AdwActionRow *row, HearthReviewPage *self)
{
  hearth_review_page_open (self, g_object_get_data (G_OBJECT (row), "hearth-household"));
}

static void
add_case (HearthReviewPage *self, const HearthReviewItem *item)
{
  g_autofree char *when = item->ended_at[0] != '\0' ? hearth_label_date (item->ended_at) : NULL;
  g_autofree char *subtitle = NULL;
  AdwActionRow *row;
  GtkWidget *badge;
  g_autofree char *css = g_strdup_printf ("hearth-risk-%s", item->risk_level);
  g_autofree char *where = hearth_label_place (hearth_session_get_store (self->session), item->address,
                                               item->village_code);

  if (item->submission_id[0] != '\0')
    /* TRANSLATORS: a case waiting for review: its state; the visit that
     * raised it, who made it and when; where the household lives */
    subtitle = g_strdup_printf (_("%s · %s by %s, %s\n%s"), hearth_label_status (item->monitoring_status),
                                hearth_label_form (item->form_id), item->author, when, where);
  else
    subtitle = g_strdup_printf (_("%s\n%s"), hearth_label_status (item->monitoring_status), where);
  row = add_row (self->added, self->cases_group, item->head_name, subtitle);
  badge = gtk_label_new (hearth_label_risk_level (item->risk_level));
  gtk_widget_set_valign (badge, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (badge, "hearth-risk");
  gtk_widget_add_css_class (badge, css);
  adw_action_row_add_suffix (row, badge);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "hearth-household", g_strdup (item->household_id), g_free);
  g_signal_connect_object (row, "activated", G_CALLBACK (case_activated), self, 0);
}

typedef struct {
  char *conflict_id;
  char *value;
  char *what;
} Choice;

static void
choice_free (Choice *c)
{
  g_free (c->conflict_id);
  g_free (c->value);
  g_free (c->what);
  g_free (c);
}

static void
choice_clicked (GtkButton *button, HearthReviewPage *self)
{
  Choice *c = g_object_get_data (G_OBJECT (button), "hearth-choice");
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  if (!hearth_case_resolve_conflict (hearth_session_get_cases (self->session), c->conflict_id,
                                     hearth_session_get_identity (self->session)->role, c->value, &error))
    {
      message = g_strdup_printf (_("This cannot be decided here: %s"), error->message);
      toast (self, message);
      return;
    }
  /* TRANSLATORS: after a choice between two values: the field, and the value kept */
  message = g_strdup_printf (_("%s: “%s” kept. The other tablets take it when they sync."), c->what, c->value);
  toast (self, message);
  hearth_session_changed (self->session);
}

/* A value in words: a visit named by its form, author and date (the case
 * model keeps which visit set the risk level, or closed a task). */
static char *
value_words (HearthReviewPage *self, const HearthFieldConflict *fc, const char *value)
{
  if (g_uuid_string_is_valid (value))
    {
      g_autoptr(HearthSubmission) s = hearth_case_submission_read (hearth_session_get_db (self->session), value, NULL);

      if (s != NULL)
        {
          g_autofree char *when = hearth_label_date (s->ended_at);
          /* TRANSLATORS: a visit as a value: its form, who made it, when */
          return g_strdup_printf (_("%s by %s, %s"), hearth_label_form (s->form_id), s->author, when);
        }
    }
  return hearth_label_field_value (fc->record_table, fc->field, value);
}

/* A field two tablets disagree on: its values side by side, each a
 * button that keeps it. */
static void
add_conflict (HearthReviewPage *self, const HearthFieldConflict *fc)
{
  const char *own_device = hearth_case_store_get_device_id (hearth_session_get_cases (self->session));
  const char *field = hearth_label_field (fc->record_table, fc->field);
  GtkWidget *card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  GtkWidget *title = gtk_label_new (NULL);
  GtkWidget *sides = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  g_autofree char *heading = NULL;

  /* TRANSLATORS: a conflicting field: the household, then the field */
  heading = g_strdup_printf (_("%s · %s"), fc->head_name[0] != '\0' ? fc->head_name : fc->record_id, field);
  gtk_label_set_text (GTK_LABEL (title), heading);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_wrap (GTK_LABEL (title), TRUE);
  gtk_widget_add_css_class (title, "heading");
  gtk_box_set_homogeneous (GTK_BOX (sides), TRUE);
  gtk_box_append (GTK_BOX (card), title);
  gtk_box_append (GTK_BOX (card), sides);
  gtk_widget_add_css_class (card, "hearth-conflict");
  for (guint i = 0; i < fc->values->len; i++)
    {
      const HearthConflictValue *v = fc->values->pdata[i];
      GtkWidget *button = gtk_button_new ();
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
      GtkWidget *value = gtk_label_new (NULL);
      GtkWidget *where = gtk_label_new (NULL);
      g_autofree char *shown = value_words (self, fc, v->value);
      g_autofree char *when = v->wall[0] != '\0' ? hearth_label_moment (v->wall) : g_strdup ("");
      g_autofree char *caption = NULL;
      Choice *c = g_new0 (Choice, 1);

      /* TRANSLATORS: where and when a conflicting value was recorded */
      caption = g_strdup_printf (g_strcmp0 (v->device_id, own_device) == 0 ? _("on this tablet, %s")
                                                                           : _("on another tablet, %s"),
                                 when);
      if (v->kept)
        {
          g_autofree char *more = g_strdup_printf (_("%s\nin the record now"), caption);
          g_free (caption);
          caption = g_steal_pointer (&more);
        }
      gtk_label_set_text (GTK_LABEL (value), shown[0] != '\0' ? shown : _("(empty)"));
      gtk_label_set_wrap (GTK_LABEL (value), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (value), PANGO_WRAP_WORD_CHAR);
      gtk_widget_add_css_class (value, "title-4");
      gtk_label_set_text (GTK_LABEL (where), caption);
      gtk_label_set_wrap (GTK_LABEL (where), TRUE);
      gtk_label_set_justify (GTK_LABEL (where), GTK_JUSTIFY_CENTER);
      gtk_widget_add_css_class (where, "caption");
      gtk_box_append (GTK_BOX (box), value);
      gtk_box_append (GTK_BOX (box), where);
      gtk_button_set_child (GTK_BUTTON (button), box);
      gtk_widget_add_css_class (button, "hearth-conflict-choice");
      c->conflict_id = g_strdup (fc->conflict_id);
      c->value = g_strdup (v->value);
      c->what = g_strdup (field);
      g_object_set_data_full (G_OBJECT (button), "hearth-choice", c, (GDestroyNotify) choice_free);
      g_signal_connect_object (button, "clicked", G_CALLBACK (choice_clicked), self, 0);
      gtk_box_append (GTK_BOX (sides), button);
    }
  adw_preferences_group_add (self->conflicts_group, card);
  g_ptr_array_add (self->added, self->conflicts_group);
  g_ptr_array_add (self->added, card);
}

void
hearth_review_page_reload (HearthReviewPage *self)
{
  sqlite3 *db;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) conflicts = NULL;

  g_return_if_fail (HEARTH_IS_REVIEW_PAGE (self));

  db = hearth_session_get_db (self->session);
  clear (self->added);
  g_clear_pointer (&self->queue, g_ptr_array_unref);
  self->queue = hearth_case_review_queue (db, hearth_session_get_identity (self->session)->role, &error);
  if (self->queue == NULL)
    {
      g_warning ("The review queue cannot be read: %s", error->message);
      g_clear_error (&error);
    }
  for (guint i = 0; self->queue != NULL && i < self->queue->len; i++)
    add_case (self, self->queue->pdata[i]);
  gtk_widget_set_visible (GTK_WIDGET (self->cases_group), self->queue != NULL && self->queue->len > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->no_cases_label), self->queue == NULL || self->queue->len == 0);

  conflicts = hearth_case_conflicts_list (db, NULL, &error);
  if (conflicts == NULL)
    g_warning ("The conflicts cannot be read: %s", error->message);
  self->n_conflicts = conflicts != NULL ? conflicts->len : 0;
  for (guint i = 0; i < self->n_conflicts; i++)
    add_conflict (self, conflicts->pdata[i]);
  gtk_widget_set_visible (GTK_WIDGET (self->conflicts_group), self->n_conflicts > 0);
}

/* ---- a case --------------------------------------------------------------- */

/* The visit's answers, as its form words them in the app's language. */
static void
show_answers (HearthReviewPage *self, const HearthSubmission *s)
{
  g_autoptr(GPtrArray) dirs = hearth_form_bundled_dirs ();
  g_autoptr(HearthCaseForm) cf = NULL;
  g_autoptr(HearthFormSession) fs = NULL;
  g_autoptr(GPtrArray) pages = NULL;
  g_autoptr(GError) error = NULL;
  HearthFormSessionOptions options = { 0 };
  const char *app = hearth_i18n_get_language ();
  guint n = 0;

  cf = hearth_case_form_open (hearth_session_get_store (self->session), hearth_session_get_cases (self->session),
                              (const char *const *) dirs->pdata, s->form_id,
                              s->form_version[0] != '\0' ? s->form_version : NULL, s->household_id, &error);
  if (cf != NULL)
    {
      options.language = hearth_form_find_language (cf->form, app != NULL && g_str_has_prefix (app, "zh") ? "zh"
                                                                                                          : "en");
      options.instances = cf->instances;
      fs = hearth_form_session_new_from_draft (g_steal_pointer (&cf->form), s->xml, -1, FALSE, &options, &error);
    }
  if (fs == NULL)
    {
      add_row (self->case_rows, self->answers_group, _("The answers cannot be shown"), error->message);
      return;
    }
  pages = hearth_form_session_pages (fs);
  for (guint p = 0; p < pages->len; p++)
    {
      HearthFormPage *page = pages->pdata[p];

      for (guint k = 0; k < page->questions->len; k++)
        {
          HearthFormQuestion *q = page->questions->pdata[k];
          g_autofree char *text = NULL;

          if (q->readonly || q->value == NULL || q->value[0] == '\0')
            continue;
          text = hearth_form_answer_text (q);
          add_row (self->case_rows, self->answers_group, q->label != NULL ? q->label : q->path, text);
          n++;
        }
    }
  if (n == 0)
    add_row (self->case_rows, self->answers_group, _("No answer"), NULL);
}

/* ---- measures decided with the county's approval ---------------------------- */

/* The county approves a case into monitoring with its measures
 * (hearth-cli review approve --measure). */
static gboolean
decides_measures (HearthReviewPage *self, const HearthReviewItem *item)
{
  return item != NULL && hearth_session_get_identity (self->session)->role == HEARTH_ROLE_COUNTY &&
         g_str_equal (item->monitoring_status, "pending_county_approval");
}

static void
clear_measures (HearthReviewPage *self)
{
  for (guint i = 0; i < self->measure_rows->len; i++)
    adw_preferences_group_remove (self->measures_group, self->measure_rows->pdata[i]);
  g_ptr_array_set_size (self->measure_rows, 0);
  g_ptr_array_set_size (self->measures, 0);
  gtk_editable_set_text (GTK_EDITABLE (self->measure_entry), "");
}

static void
remove_measure_clicked (GtkButton *button, HearthReviewPage *self)
{
  GtkWidget *row = g_object_get_data (G_OBJECT (button), "hearth-row");
  guint i;

  if (!g_ptr_array_find (self->measure_rows, row, &i))
    return;
  adw_preferences_group_remove (self->measures_group, row);
  g_ptr_array_remove_index (self->measure_rows, i);
  g_ptr_array_remove_range (self->measures, 2 * i, 2);
}

static void
add_measure (HearthReviewPage *self, const char *type, const char *description)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");
  g_autofree char *label = g_strdup_printf (_("Remove the measure “%s”"), description);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), hearth_label_measure (type));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), description);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (remove, "flat");
  gtk_widget_set_tooltip_text (remove, label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  g_object_set_data (G_OBJECT (remove), "hearth-row", row);
  g_signal_connect_object (remove, "clicked", G_CALLBACK (remove_measure_clicked), self, 0);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
  adw_preferences_group_add (self->measures_group, row);
  g_ptr_array_add (self->measure_rows, row);
  g_ptr_array_add (self->measures, g_strdup (type));
  g_ptr_array_add (self->measures, g_strdup (description));
}

static void say_error (HearthReviewPage *self, const char *message);

/* The measure typed: added to the list (%FALSE, said, when it has no words). */
static gboolean
take_typed_measure (HearthReviewPage *self, gboolean needed)
{
  const char *const *types = hearth_case_measure_types ();
  guint i = adw_combo_row_get_selected (self->measure_type_row);
  g_autofree char *description = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->measure_entry))));

  if (description[0] == '\0')
    {
      if (needed)
        {
          say_error (self, _("Describe the measure first: what is done, for whom."));
          gtk_widget_grab_focus (GTK_WIDGET (self->measure_entry));
        }
      return !needed;
    }
  if (i >= g_strv_length ((char **) types))
    return FALSE;
  add_measure (self, types[i], description);
  gtk_editable_set_text (GTK_EDITABLE (self->measure_entry), "");
  return TRUE;
}

static void
add_measure_clicked (HearthReviewPage *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  take_typed_measure (self, TRUE);
}

/* What sends the case back from its state: the county rejects a case
 * waiting for its approval; otherwise it is returned. */
static const char *
send_back_action (HearthReviewPage *self, const HearthReviewItem *item)
{
  if (hearth_session_get_identity (self->session)->role == HEARTH_ROLE_COUNTY &&
      g_str_equal (item->monitoring_status, "pending_county_approval"))
    return "reject";
  return "return";
}

gboolean
hearth_review_page_open (HearthReviewPage *self, const char *household_id)
{
  const HearthReviewItem *item;
  g_autofree char *css = NULL;
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (HEARTH_IS_REVIEW_PAGE (self), FALSE);

  item = item_of (self, household_id);
  if (item == NULL)
    return FALSE;
  g_free (self->household_id);
  self->household_id = g_strdup (household_id);
  clear (self->case_rows);
  gtk_label_set_text (self->case_title, item->head_name);
  gtk_label_set_text (self->name_label, item->head_name);
  for (guint i = 0; i < G_N_ELEMENTS (risk_classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (self->risk_badge), risk_classes[i]);
  css = g_strdup_printf ("hearth-risk-%s", item->risk_level);
  gtk_widget_add_css_class (GTK_WIDGET (self->risk_badge), css);
  gtk_label_set_text (self->risk_badge, hearth_label_risk_level (item->risk_level));
  {
    g_autofree char *reasons = hearth_label_risk_types (item->risk_types);
    g_autofree char *where = hearth_label_place (hearth_session_get_store (self->session), item->address,
                                                 item->village_code);
    g_autofree char *status = reasons[0] != '\0'
                                ? g_strdup_printf (_("%s · %s\n%s"), hearth_label_status (item->monitoring_status),
                                                   reasons, where)
                                : g_strdup_printf (_("%s\n%s"), hearth_label_status (item->monitoring_status), where);
    gtk_label_set_text (self->status_label, status);
  }

  if (item->submission_id[0] != '\0')
    {
      g_autoptr(HearthSubmission) s = hearth_case_submission_read (hearth_session_get_db (self->session),
                                                                   item->submission_id, &error);
      if (s == NULL)
        add_row (self->case_rows, self->visit_group, _("The visit cannot be read"), error->message);
      else
        {
          g_autofree char *when = hearth_label_moment (s->ended_at);
          /* TRANSLATORS: a visit: who made it and when */
          g_autofree char *by = g_strdup_printf (_("by %s, %s"), s->author, when);

          add_row (self->case_rows, self->visit_group, hearth_label_form (s->form_id), by);
          if (s->risk_level[0] != '\0')
            add_row (self->case_rows, self->visit_group, _("Risk level it found"),
                     hearth_label_risk_level (s->risk_level));
          show_answers (self, s);
        }
    }
  else
    add_row (self->case_rows, self->visit_group, _("No visit raised it: it was declared."), NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->answers_group), item->submission_id[0] != '\0');

  gtk_button_set_label (self->send_back_button, g_str_equal (send_back_action (self, item), "reject")
                                                   ? _("_Reject") : _("_Return to the worker"));
  gtk_label_set_text (self->comment_hint, g_str_equal (send_back_action (self, item), "reject")
                                            ? _("Needed to reject the case: say why.")
                                            : _("Needed to return the case: say what the worker should correct."));
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->comment_view), "", -1);
  clear_measures (self);
  gtk_widget_set_visible (GTK_WIDGET (self->measures_group), decides_measures (self, item));
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  gtk_stack_set_visible_child_name (self->stack, "case");
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->case_scroller), 0);
  return TRUE;
}

static gboolean
scroll_to_end (gpointer data)
{
  GtkAdjustment *adj = data;

  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
  return G_SOURCE_REMOVE;
}

/* Beside the buttons, in view: the page is scrolled to its end once the
 * message has its place. */
static void
say_error (HearthReviewPage *self, const char *message)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->case_scroller);

  gtk_label_set_text (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, scroll_to_end, g_object_ref (adj), g_object_unref);
}

static char *
comment_text (HearthReviewPage *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->comment_view);
  GtkTextIter start, end;
  char *text;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  return g_strstrip (text);
}

static void
act (HearthReviewPage *self)
{
  const HearthReviewItem *item = item_of (self, self->household_id);
  g_autofree char *comment = comment_text (self);
  g_autofree char *new_state = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  const char *action;

  if (item == NULL)
    return;
  action = self->act == ACT_APPROVE ? "approve" : send_back_action (self, item);
  if (self->act == ACT_SEND_BACK && comment[0] == '\0')
    {
      say_error (self, g_str_equal (action, "reject") ? _("Write why first: the county's decision keeps it.")
                                                      : _("Write a comment first: the worker reads it to know what "
                                                          "to correct."));
      gtk_widget_grab_focus (GTK_WIDGET (self->comment_view));
      return;
    }
  /* A measure typed but not added is not lost. */
  if (self->act == ACT_APPROVE && decides_measures (self, item) && !take_typed_measure (self, FALSE))
    return;
  if (self->act == ACT_APPROVE && decides_measures (self, item) && self->measures->len > 0)
    {
      g_autofree HearthMeasureSpec *specs = g_new0 (HearthMeasureSpec, self->measures->len / 2);

      for (guint i = 0; i < self->measures->len / 2; i++)
        {
          specs[i].type = self->measures->pdata[2 * i];
          specs[i].description = self->measures->pdata[2 * i + 1];
        }
      if (!hearth_case_transition_with_measures (hearth_session_get_cases (self->session), item->household_id,
                                                 hearth_session_get_identity (self->session)->role, action,
                                                 comment[0] != '\0' ? comment : NULL, specs,
                                                 self->measures->len / 2, &new_state, &error))
        {
          g_autofree char *text = g_strdup_printf (_("This cannot be done: %s"), error->message);
          say_error (self, text);
          return;
        }
    }
  else if (!hearth_case_transition (hearth_session_get_cases (self->session), item->household_id,
                                    hearth_session_get_identity (self->session)->role, action,
                                    comment[0] != '\0' ? comment : NULL, &new_state, &error))
    {
      g_autofree char *text = g_strdup_printf (_("This cannot be done: %s"), error->message);
      say_error (self, text);
      return;
    }
  /* TRANSLATORS: after a review: the household, and the state it is in now */
  message = g_strdup_printf (_("%s: %s."), item->head_name, hearth_label_status (new_state));
  toast (self, message);
  g_clear_pointer (&self->household_id, g_free);
  gtk_stack_set_visible_child_name (self->stack, "list");
  /* The queue, the household, the sync: everyone reads again. */
  hearth_session_changed (self->session);
}

static gboolean
settled (gpointer data)
{
  HearthReviewPage *self = data;

  self->settle_source = 0;
  if (self->preedit[0] != '\0')
    {
      g_autofree char *text = g_strdup_printf (_("Finish typing first: the input method still shows “%s”."),
                                               self->preedit);
      say_error (self, text);
      gtk_widget_grab_focus (GTK_WIDGET (self->comment_view));
      return G_SOURCE_REMOVE;
    }
  act (self);
  return G_SOURCE_REMOVE;
}

/* As the form screen: a composition shown is the user's to finish; the
 * focus leaves the comment so an input method commits it, and the page
 * waits a moment for that commit. */
static void
settle_then (HearthReviewPage *self, Act what)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (self->settle_source != 0)
    return;
  self->act = what;
  if (self->preedit[0] != '\0')
    {
      settled (self);
      return;
    }
  if (root != NULL && gtk_widget_has_focus (GTK_WIDGET (self->comment_view)))
    {
      gtk_root_set_focus (root, NULL);
      self->settle_source = g_timeout_add (HEARTH_FORM_SETTLE_MS, settled, self);
      return;
    }
  act (self);
}

static void
approve_clicked (HearthReviewPage *self)
{
  settle_then (self, ACT_APPROVE);
}

static void
send_back_clicked (HearthReviewPage *self)
{
  settle_then (self, ACT_SEND_BACK);
}

static void
back_clicked (HearthReviewPage *self)
{
  g_clear_pointer (&self->household_id, g_free);
  gtk_stack_set_visible_child_name (self->stack, "list");
}

static void
preedit_changed (GtkTextView *view, const char *preedit, HearthReviewPage *self)
{
  g_free (self->preedit);
  self->preedit = g_strdup (preedit != NULL ? preedit : "");
}

static void
session_changed (HearthSession *session, HearthReviewPage *self)
{
  hearth_review_page_reload (self);
  /* The case shown may have been decided elsewhere (a sync). */
  if (self->household_id != NULL && item_of (self, self->household_id) == NULL)
    back_clicked (self);
}

static void
hearth_review_page_dispose (GObject *object)
{
  HearthReviewPage *self = HEARTH_REVIEW_PAGE (object);

  g_clear_handle_id (&self->settle_source, g_source_remove);
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  g_clear_pointer (&self->queue, g_ptr_array_unref);
  g_clear_pointer (&self->added, g_ptr_array_unref);
  g_clear_pointer (&self->case_rows, g_ptr_array_unref);
  g_clear_pointer (&self->measures, g_ptr_array_unref);
  g_clear_pointer (&self->measure_rows, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), HEARTH_TYPE_REVIEW_PAGE);
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self)); child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (hearth_review_page_parent_class)->dispose (object);
}

static void
hearth_review_page_finalize (GObject *object)
{
  HearthReviewPage *self = HEARTH_REVIEW_PAGE (object);

  g_free (self->household_id);
  g_free (self->preedit);
  G_OBJECT_CLASS (hearth_review_page_parent_class)->finalize (object);
}

static void
hearth_review_page_class_init (HearthReviewPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearth_review_page_dispose;
  object_class->finalize = hearth_review_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-review-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, stack);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, list_scroller);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, cases_group);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, no_cases_label);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, conflicts_group);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, case_title);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, case_scroller);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, name_label);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, risk_badge);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, visit_group);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, answers_group);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, comment_view);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, comment_hint);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, send_back_button);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, approve_button);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, measures_group);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, measure_type_row);
  gtk_widget_class_bind_template_child (widget_class, HearthReviewPage, measure_entry);
  gtk_widget_class_bind_template_callback (widget_class, add_measure_clicked);
  gtk_widget_class_bind_template_callback (widget_class, approve_clicked);
  gtk_widget_class_bind_template_callback (widget_class, send_back_clicked);
  gtk_widget_class_bind_template_callback (widget_class, back_clicked);
}

static void
hearth_review_page_init (HearthReviewPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->added = g_ptr_array_new ();
  self->case_rows = g_ptr_array_new ();
  self->measures = g_ptr_array_new_with_free_func (g_free);
  self->measure_rows = g_ptr_array_new ();
  self->preedit = g_strdup ("");
  {
    g_autoptr(GtkStringList) types = gtk_string_list_new (NULL);

    for (const char *const *t = hearth_case_measure_types (); *t != NULL; t++)
      gtk_string_list_append (types, hearth_label_measure (*t));
    adw_combo_row_set_model (self->measure_type_row, G_LIST_MODEL (types));
  }
  g_signal_connect (self->comment_view, "preedit-changed", G_CALLBACK (preedit_changed), self);
}

HearthReviewPage *
hearth_review_page_new (HearthSession *session)
{
  HearthReviewPage *self = g_object_new (HEARTH_TYPE_REVIEW_PAGE, NULL);

  g_return_val_if_fail (HEARTH_IS_SESSION (session), NULL);

  self->session = g_object_ref (session);
  g_signal_connect (session, "changed", G_CALLBACK (session_changed), self);
  hearth_review_page_reload (self);
  return self;
}

const char *
hearth_review_page_get_household_id (HearthReviewPage *self)
{
  g_return_val_if_fail (HEARTH_IS_REVIEW_PAGE (self), NULL);
  return self->household_id;
}

guint
hearth_review_page_get_counts (HearthReviewPage *self, guint *n_conflicts)
{
  g_return_val_if_fail (HEARTH_IS_REVIEW_PAGE (self), 0);
  if (n_conflicts != NULL)
    *n_conflicts = self->n_conflicts;
  return self->queue != NULL ? self->queue->len : 0;
}

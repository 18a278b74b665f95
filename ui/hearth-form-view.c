/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-form-view.c: filling a form on the tablet (hearth-form-view.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-form-view.h"
#include "hearth-form-field.h"
#include "hearth-i18n.h"
#include "case-labels.h"
#include "case-household.h"

#include <glib/gi18n.h>
#include <string.h>

typedef enum {
  AFTER_NEXT,
  AFTER_BACK,
  AFTER_GO,      /* to self->go_to */
  AFTER_CLOSE,
  AFTER_SAVE,
} After;

struct _HearthFormView {
  GtkWidget parent_instance;
  AdwHeaderBar *header_bar;
  AdwWindowTitle *window_title;
  GtkMenuButton *pages_button;
  GtkPopover *pages_popover;
  GtkListBox *pages_list;
  GtkProgressBar *progress_bar;
  GtkLabel *progress_label;
  GtkStack *content_stack;
  GtkScrolledWindow *page_scroller;
  GtkLabel *page_title;
  GtkBox *repeat_box;
  GtkLabel *repeat_label;
  GtkButton *remove_button;
  GtkBox *fields_box;
  AdwStatusPage *prompt_page;
  GtkScrolledWindow *summary_scroller;
  GtkLabel *summary_title;
  GtkBox *risk_box;
  GtkLabel *risk_badge;
  AdwPreferencesGroup *issues_group;
  AdwPreferencesGroup *outcome_group;
  AdwPreferencesGroup *answers_group;
  GtkButton *save_button;
  GtkButton *back_button;
  GtkButton *next_button;
  GtkLabel *saved_label;

  HearthSession *session;
  HearthFormSession *form;
  char *form_id;
  char *form_version;
  char *household_id;
  char *household_name;
  char *draft_id;
  char *instance_name_path;
  gboolean draft_saved;
  GPtrArray *pages;           /* (element-type HearthFormPage) as they are now */
  guint index;                /* the page shown; pages->len: the summary */
  char *key;                  /* its key */
  GHashTable *fields;         /* path -> HearthFormField of the page shown */
  GPtrArray *summary_rows;    /* (group, row) pairs on the summary */
  guint refresh_source;
  guint settle_source;
  After after;
  guint go_to;
  gboolean closed;
};

G_DEFINE_FINAL_TYPE (HearthFormView, hearth_form_view, GTK_TYPE_WIDGET)

enum {
  SIGNAL_CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void show_page (HearthFormView *self, guint index, gboolean navigated);
static void show_summary (HearthFormView *self);
static void finish (HearthFormView *self);

GPtrArray *
hearth_form_bundled_dirs (void)
{
  GPtrArray *dirs = g_ptr_array_new ();
  const char *env = g_getenv ("HEARTH_FORMS_DIR");

  if (env != NULL && env[0] != '\0')
    g_ptr_array_add (dirs, (gpointer) env);
  g_ptr_array_add (dirs, (gpointer) HEARTH_INSTALLED_FORMS_DIR);
  g_ptr_array_add (dirs, (gpointer) HEARTH_SOURCE_FORMS_DIR);
  g_ptr_array_add (dirs, NULL);
  return dirs;
}

static char *
page_key (const HearthFormPage *page)
{
  if (page->kind == HEARTH_FORM_PAGE_REPEAT_PROMPT)
    return g_strdup_printf ("+%s%s", page->path != NULL ? page->path : "", strrchr (page->repeat, '/'));
  if (page->path != NULL)
    return g_strdup (page->path);
  if (page->questions->len > 0)
    return g_strdup (((HearthFormQuestion *) page->questions->pdata[0])->path);
  return g_strdup ("");
}

static gboolean
on_summary (HearthFormView *self)
{
  return g_strcmp0 (self->key, HEARTH_FORM_SUMMARY_KEY) == 0;
}

/* The instance of @repeat (generic, `/data/members`) that @path
 * (`/data/members[2]/name`) lies in: `/data/members[2]`. */
static char *
repeat_instance (const char *repeat, const char *path)
{
  guint segments = 0;
  const char *p = path;

  for (const char *r = repeat; *r != '\0'; r++)
    if (*r == '/')
      segments++;
  for (guint seen = 0; *p != '\0'; p++)
    if (*p == '/' && ++seen > segments)
      break;
  return g_strndup (path, (gsize) (p - path));
}

/* 2 from `/data/members[2]`. */
static guint
instance_number (const char *instance)
{
  const char *open = strrchr (instance, '[');

  return open != NULL ? (guint) g_ascii_strtoull (open + 1, NULL, 10) : 1;
}

/* ---- the draft ------------------------------------------------------------ */

static void
say_saved (HearthFormView *self, const GError *error)
{
  if (error != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The answers could not be saved: %s"), error->message);

      gtk_label_set_text (self->saved_label, text);
      gtk_widget_add_css_class (GTK_WIDGET (self->saved_label), "hearth-error");
      gtk_widget_remove_css_class (GTK_WIDGET (self->saved_label), "dim-label");
      return;
    }
  {
    g_autoptr(GDateTime) now = g_date_time_new_now_local ();
    g_autofree char *time = g_date_time_format (now, "%H:%M");
    /* TRANSLATORS: shown below a form as the answers are saved; %s is the time */
    g_autofree char *text = g_strdup_printf (_("Saved on this tablet at %s"), time);

    gtk_label_set_text (self->saved_label, text);
    gtk_widget_remove_css_class (GTK_WIDGET (self->saved_label), "hearth-error");
    gtk_widget_add_css_class (GTK_WIDGET (self->saved_label), "dim-label");
  }
}

/* Saves the working instance and the page; @always: also before the
 * first answer. */
static gboolean
save_draft (HearthFormView *self, gboolean always)
{
  g_autofree char *xml = NULL;
  g_autofree char *label = NULL;
  g_autoptr(GError) error = NULL;
  HearthDraft d = { 0 };

  if (self->closed || (!always && !self->draft_saved))
    return TRUE;
  xml = hearth_form_session_save_draft (self->form);
  label = self->instance_name_path != NULL ? hearth_form_session_get_value (self->form, self->instance_name_path, NULL)
                                           : NULL;
  d.id = self->draft_id;
  d.form_id = self->form_id;
  d.form_version = self->form_version;
  d.household_id = self->household_id;
  d.instance_id = (char *) hearth_form_session_get_instance_id (self->form);
  d.label = label;
  d.page = self->key;
  d.xml = xml;
  if (d.instance_id == NULL || d.instance_id[0] == '\0')
    d.instance_id = self->draft_id;
  if (!hearth_draft_save (hearth_session_get_cases (self->session), &d, &error))
    {
      g_warning ("A draft of %s could not be saved: %s", self->form_id, error->message);
      say_saved (self, error);
      return FALSE;
    }
  self->draft_saved = TRUE;
  say_saved (self, NULL);
  return TRUE;
}

/* ---- answers ------------------------------------------------------------- */

static const HearthFormQuestion *
question_of (HearthFormView *self, const char *path)
{
  if (self->pages == NULL || self->index >= self->pages->len)
    return NULL;
  {
    HearthFormPage *page = self->pages->pdata[self->index];

    for (guint i = 0; i < page->questions->len; i++)
      {
        HearthFormQuestion *q = page->questions->pdata[i];
        if (g_str_equal (q->path, path))
          return q;
      }
  }
  return NULL;
}

/* What to type, for text that does not fit a question's type. */
static const char *
type_message (const char *type)
{
  if (g_strcmp0 (type, "int") == 0)
    return _("Type a whole number, such as 3.");
  if (g_strcmp0 (type, "decimal") == 0)
    return _("Type a number, such as 1200 or 12.5.");
  if (g_strcmp0 (type, "date") == 0)
    return _("Choose a date on the calendar.");
  if (g_strcmp0 (type, "time") == 0)
    return _("Type a time as hours and minutes, such as 09:30.");
  if (g_strcmp0 (type, "dateTime") == 0)
    return _("Type a date and time, such as 2026-03-05T09:30:00+08:00.");
  if (g_strcmp0 (type, "geopoint") == 0)
    return _("Type the latitude and the longitude with a space between them, such as 40.61 109.84.");
  return NULL;
}

/* The form's message for @path, or NULL when all is well; @required:
 * also a missing answer (not while it is being typed). */
static char *
issue_message (HearthFormView *self, const char *path, gboolean required)
{
  g_autoptr(GPtrArray) issues = hearth_form_session_validate (self->form, path);

  for (guint i = 0; i < issues->len; i++)
    {
      HearthFormIssue *issue = issues->pdata[i];

      if (!required && g_str_equal (issue->kind, "required"))
        continue;
      return g_strdup (issue->message);
    }
  return NULL;
}

static gboolean
refresh_now (gpointer data)
{
  HearthFormView *self = data;

  self->refresh_source = 0;
  if (self->closed)
    return G_SOURCE_REMOVE;
  if (on_summary (self))
    show_summary (self);
  else
    {
      g_clear_pointer (&self->pages, g_ptr_array_unref);
      self->pages = hearth_form_session_pages (self->form);
      show_page (self, self->index, FALSE);
    }
  return G_SOURCE_REMOVE;
}

/* Labels with outputs, relevance and calculations follow an answer: the
 * page is read again once the main loop is idle (typing makes an answer
 * of every keystroke). */
static void
queue_refresh (HearthFormView *self)
{
  if (self->refresh_source == 0)
    self->refresh_source = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, refresh_now, self, NULL);
}

static void
field_answered (HearthFormField *field, const char *value, HearthFormView *self)
{
  const char *path = hearth_form_field_get_path (field);
  const HearthFormQuestion *q = question_of (self, path);
  g_autoptr(GError) error = NULL;

  if (!hearth_form_session_set_value (self->form, path, value, &error))
    {
      const char *message = type_message (q != NULL ? q->type : NULL);
      gsize n = strlen (path);

      /* The session names the node ("/data/x: …"): the field is beside
       * the message already, the node path means nothing to the user. */
      if (message == NULL && strncmp (error->message, path, n) == 0 && g_str_has_prefix (error->message + n, ": "))
        message = error->message + n + 2;

      /* The stored answer is blank until the text fits; the text stays
       * in the field to be corrected. */
      if (g_error_matches (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_TYPE))
        hearth_form_session_set_value (self->form, path, "", NULL);
      hearth_form_field_set_type_error (field, message != NULL ? message : error->message);
    }
  else
    {
      hearth_form_field_set_type_error (field, NULL);
      /* A message shown goes as soon as the answer is right. */
      if (hearth_form_field_get_message (field) != NULL)
        {
          g_autofree char *message = issue_message (self, path, TRUE);
          hearth_form_field_set_message (field, message);
        }
    }
  save_draft (self, TRUE);
  queue_refresh (self);
}

/* Leaving a text field says what is wrong with it (not that it is
 * missing: the user may come back to it). */
static void
field_left (HearthFormField *field, HearthFormView *self)
{
  g_autofree char *message = NULL;

  if (self->closed || hearth_form_field_has_type_error (field) || hearth_form_field_get_preedit (field)[0] != '\0')
    return;
  message = issue_message (self, hearth_form_field_get_path (field), FALSE);
  hearth_form_field_set_message (field, message);
}

/* ---- the page ------------------------------------------------------------- */

static void
clear_fields (HearthFormView *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->fields_box))) != NULL)
    gtk_box_remove (self->fields_box, child);
  g_hash_table_remove_all (self->fields);
}

static HearthFormField *
make_field (HearthFormView *self, const HearthFormQuestion *q)
{
  HearthFormField *field = hearth_form_field_new (q);

  g_signal_connect_object (field, "answer", G_CALLBACK (field_answered), self, 0);
  g_signal_connect_object (field, "left", G_CALLBACK (field_left), self, 0);
  g_hash_table_insert (self->fields, g_strdup (q->path), field);
  return field;
}

/* The page's questions as they are now: fields kept (with what is being
 * typed in them), added and removed in place as relevance changes. */
static void
update_fields (HearthFormView *self, const HearthFormPage *page)
{
  g_autoptr(GHashTable) wanted = g_hash_table_new (g_str_hash, g_str_equal);
  GtkWidget *previous = NULL;
  GHashTableIter iter;
  gpointer path, field;

  for (guint i = 0; i < page->questions->len; i++)
    g_hash_table_add (wanted, ((HearthFormQuestion *) page->questions->pdata[i])->path);
  g_hash_table_iter_init (&iter, self->fields);
  while (g_hash_table_iter_next (&iter, &path, &field))
    if (!g_hash_table_contains (wanted, path))
      {
        gtk_box_remove (self->fields_box, field);
        g_hash_table_iter_remove (&iter);
      }
  for (guint i = 0; i < page->questions->len; i++)
    {
      const HearthFormQuestion *q = page->questions->pdata[i];
      HearthFormField *f = g_hash_table_lookup (self->fields, q->path);

      if (f != NULL)
        hearth_form_field_update (f, q);
      else
        {
          f = make_field (self, q);
          gtk_box_insert_child_after (self->fields_box, GTK_WIDGET (f), previous);
        }
      if (gtk_widget_get_prev_sibling (GTK_WIDGET (f)) != previous)
        gtk_box_reorder_child_after (self->fields_box, GTK_WIDGET (f), previous);
      previous = GTK_WIDGET (f);
    }
}

static void
show_progress (HearthFormView *self)
{
  guint n = self->pages->len + 1;   /* the summary is the last step */
  guint at = MIN (self->index, self->pages->len) + 1;
  g_autofree char *text = g_strdup_printf (_("Page %u of %u"), at, n);

  gtk_label_set_text (self->progress_label, text);
  gtk_progress_bar_set_fraction (self->progress_bar, (double) at / n);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress_bar), GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, text, -1);
  /* The buttons follow their actions. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "form.back", self->index > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->next_button), !on_summary (self));
  /* Saving is the summary's step, where Next was. */
  gtk_widget_set_visible (GTK_WIDGET (self->save_button), on_summary (self));
  gtk_button_set_label (self->next_button,
                        self->index + 1 >= self->pages->len ? _("_Review and finish") : _("_Next"));
}

static void
show_repeat_bar (HearthFormView *self, const HearthFormPage *page)
{
  g_autofree char *instance = NULL;
  g_autofree char *count_path = NULL;
  g_autofree char *text = NULL;
  gboolean removable = FALSE;
  int count;

  if (page->kind != HEARTH_FORM_PAGE_QUESTIONS || page->repeat == NULL || page->questions->len == 0)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->repeat_box), FALSE);
      return;
    }
  instance = repeat_instance (page->repeat, ((HearthFormQuestion *) page->questions->pdata[0])->path);
  /* The repeat with the indices of the repeats it is in: how many. */
  count_path = g_strndup (instance, (gsize) (strrchr (instance, '[') - instance));
  count = hearth_form_session_count_repeat (self->form, count_path, NULL);
  /* TRANSLATORS: which instance of a repeat a page is about: "2 of 3" */
  text = g_strdup_printf (_("%u of %d"), instance_number (instance), MAX (count, 1));
  gtk_label_set_text (self->repeat_label, text);
  /* jr:count and jr:noAddRemove repeats have no prompt: their count is
   * the form's. */
  for (guint i = 0; i < self->pages->len; i++)
    {
      HearthFormPage *p = self->pages->pdata[i];
      if (p->kind == HEARTH_FORM_PAGE_REPEAT_PROMPT && g_strcmp0 (p->repeat, page->repeat) == 0)
        removable = TRUE;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->remove_button), removable);
  gtk_widget_set_visible (GTK_WIDGET (self->repeat_box), TRUE);
}

/* What a repeat is called: its label, else the label of its instances'
 * pages (the group of its ref around it), else its element's name. */
static const char *
repeat_name (HearthFormView *self, const HearthFormPage *prompt)
{
  if (prompt->label != NULL && prompt->label[0] != '\0')
    return prompt->label;
  for (guint i = 0; i < self->pages->len; i++)
    {
      HearthFormPage *p = self->pages->pdata[i];
      if (p->kind == HEARTH_FORM_PAGE_QUESTIONS && g_strcmp0 (p->repeat, prompt->repeat) == 0 && p->label != NULL &&
          p->label[0] != '\0')
        return p->label;
    }
  return strrchr (prompt->repeat, '/') + 1;
}

static void
show_prompt (HearthFormView *self, const HearthFormPage *page)
{
  const char *what = repeat_name (self, page);
  g_autofree char *title = g_strdup_printf (_("%s: add another?"), what);
  g_autofree char *description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u entered so far.",
                                                               "%u entered so far.", page->repeat_count),
                                                  page->repeat_count);

  adw_status_page_set_title (self->prompt_page, title);
  adw_status_page_set_description (self->prompt_page, description);
  gtk_stack_set_visible_child_name (self->content_stack, "prompt");
}

static void
fill_pages_list (HearthFormView *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->pages_list))) != NULL)
    gtk_list_box_remove (self->pages_list, child);
  for (guint i = 0; i <= self->pages->len; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *title = NULL;
      g_autofree char *subtitle = NULL;

      if (i == self->pages->len)
        title = g_strdup (_("Summary, and finish"));
      else
        {
          HearthFormPage *page = self->pages->pdata[i];
          const char *label = page->label;

          if (page->kind == HEARTH_FORM_PAGE_REPEAT_PROMPT)
            title = g_strdup_printf (_("%s: add another?"), repeat_name (self, page));
          else
            {
              if ((label == NULL || label[0] == '\0') && page->questions->len > 0)
                label = ((HearthFormQuestion *) page->questions->pdata[0])->label;
              title = g_strdup (label != NULL && label[0] != '\0' ? label : _("Question"));
              if (page->repeat != NULL && page->questions->len > 0)
                {
                  g_autofree char *instance = repeat_instance (page->repeat,
                                                               ((HearthFormQuestion *) page->questions->pdata[0])->path);
                  subtitle = g_strdup_printf (_("Number %u"), instance_number (instance));
                }
            }
        }
      {
        /* TRANSLATORS: a page in the list of pages: its number and title */
        g_autofree char *numbered = g_strdup_printf (_("%u. %s"), i + 1, title);
        adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), numbered);
      }
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      if (subtitle != NULL)
        adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      if (i == MIN (self->index, self->pages->len))
        {
          GtkWidget *here = gtk_image_new_from_icon_name ("go-next-symbolic");
          gtk_accessible_update_property (GTK_ACCESSIBLE (here), GTK_ACCESSIBLE_PROPERTY_LABEL, _("This page"), -1);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), here);
        }
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      g_object_set_data (G_OBJECT (row), "hearth-page", GUINT_TO_POINTER (i));
      gtk_list_box_append (self->pages_list, row);
    }
}

static void
show_page (HearthFormView *self, guint index, gboolean navigated)
{
  HearthFormPage *page;
  g_autofree char *key = NULL;
  gboolean same;

  if (self->pages->len == 0)
    {
      show_summary (self);
      return;
    }
  /* The page shown may have gone (not relevant any more, removed): the
   * one now at its place. */
  if (!navigated)
    for (guint i = 0; i < self->pages->len; i++)
      {
        g_autofree char *k = page_key (self->pages->pdata[i]);
        if (g_strcmp0 (k, self->key) == 0)
          index = i;
      }
  index = MIN (index, self->pages->len - 1);
  page = self->pages->pdata[index];
  key = page_key (page);
  same = g_strcmp0 (key, self->key) == 0;
  self->index = index;
  g_free (self->key);
  self->key = g_steal_pointer (&key);

  if (page->kind == HEARTH_FORM_PAGE_REPEAT_PROMPT)
    {
      clear_fields (self);
      show_prompt (self, page);
    }
  else
    {
      if (!same)
        clear_fields (self);
      gtk_label_set_text (self->page_title, page->label != NULL ? page->label : "");
      gtk_widget_set_visible (GTK_WIDGET (self->page_title), page->label != NULL && page->label[0] != '\0');
      show_repeat_bar (self, page);
      update_fields (self, page);
      gtk_stack_set_visible_child_name (self->content_stack, "page");
      if (!same)
        gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->page_scroller), 0);
    }
  show_progress (self);
  fill_pages_list (self);
  if (!same)
    save_draft (self, FALSE);
}

/* Moves the view so that @widget shows. */
static void
scroll_to (HearthFormView *self, GtkWidget *widget)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->page_scroller);
  graphene_point_t p;

  if (gtk_widget_compute_point (widget, gtk_scrolled_window_get_child (self->page_scroller),
                                &GRAPHENE_POINT_INIT (0, 0), &p))
    gtk_adjustment_set_value (adj, MAX (0, p.y - 24));
}

/* Checks the page's answers, says what is wrong beside each question,
 * and returns whether all is well. */
static gboolean
check_page (HearthFormView *self)
{
  HearthFormPage *page;
  HearthFormField *first = NULL;

  if (self->index >= self->pages->len)
    return TRUE;
  page = self->pages->pdata[self->index];
  for (guint i = 0; i < page->questions->len; i++)
    {
      HearthFormQuestion *q = page->questions->pdata[i];
      HearthFormField *field = g_hash_table_lookup (self->fields, q->path);
      g_autofree char *message = NULL;

      if (field == NULL)
        continue;
      if (hearth_form_field_has_type_error (field))
        {
          first = first != NULL ? first : field;
          continue;
        }
      message = issue_message (self, q->path, TRUE);
      hearth_form_field_set_message (field, message);
      if (message != NULL && first == NULL)
        first = field;
    }
  if (first != NULL)
    {
      scroll_to (self, GTK_WIDGET (first));
      return FALSE;
    }
  return TRUE;
}

/* ---- the summary ---------------------------------------------------------- */

static void
clear_summary (HearthFormView *self)
{
  for (guint i = 0; i + 1 < self->summary_rows->len; i += 2)
    adw_preferences_group_remove (self->summary_rows->pdata[i], self->summary_rows->pdata[i + 1]);
  g_ptr_array_set_size (self->summary_rows, 0);
}

static AdwActionRow *
summary_row (HearthFormView *self, AdwPreferencesGroup *group, const char *title, const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL && subtitle[0] != '\0')
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  adw_preferences_group_add (group, row);
  g_ptr_array_add (self->summary_rows, group);
  g_ptr_array_add (self->summary_rows, row);
  return ADW_ACTION_ROW (row);
}

/* The value of the node an entity property is saved from (the form's
 * entities:saveto), or NULL. */
static char *
saved_property (HearthFormView *self, const char *property)
{
  const HearthForm *form = hearth_form_session_get_form (self->form);

  for (guint i = 0; i < form->binds->len; i++)
    {
      const HearthFormBind *b = form->binds->pdata[i];

      if (g_strcmp0 (b->saveto, property) == 0 && hearth_form_session_is_relevant (self->form, b->nodeset))
        return hearth_form_session_get_value (self->form, b->nodeset, NULL);
    }
  return NULL;
}

char *
hearth_form_answer_text (const HearthFormQuestion *q)
{
  g_autoptr(GString) s = NULL;
  g_auto(GStrv) names = NULL;

  if (q->choices == NULL)
    return g_str_equal (q->type, "date") ? hearth_label_date (q->value) : g_strdup (q->value);
  s = g_string_new (NULL);
  names = g_strsplit (q->value, " ", -1);
  for (guint i = 0; names[i] != NULL; i++)
    for (guint c = 0; c < q->choices->len; c++)
      {
        const HearthFormChoiceItem *item = q->choices->pdata[c];
        if (g_str_equal (item->value, names[i]))
          {
            if (s->len > 0)
              g_string_append (s, _(", "));
            g_string_append (s, item->label != NULL && item->label[0] != '\0' ? item->label : item->value);
          }
      }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
issue_activated (AdwActionRow *row, HearthFormView *self)
{
  const char *path = g_object_get_data (G_OBJECT (row), "hearth-path");

  for (guint i = 0; i < self->pages->len; i++)
    {
      HearthFormPage *page = self->pages->pdata[i];

      for (guint k = 0; k < page->questions->len; k++)
        if (g_str_equal (((HearthFormQuestion *) page->questions->pdata[k])->path, path))
          {
            HearthFormField *field;

            show_page (self, i, TRUE);
            check_page (self);
            field = g_hash_table_lookup (self->fields, path);
            if (field != NULL)
              {
                hearth_form_field_focus (field);
                scroll_to (self, GTK_WIDGET (field));
              }
            return;
          }
    }
}

static void
show_summary (HearthFormView *self)
{
  g_autoptr(GPtrArray) issues = hearth_form_session_validate (self->form, NULL);
  g_autofree char *risk = saved_property (self, "risk_level");
  const char *levels[] = { "red", "orange", "yellow", "none" };
  struct { const char *property; const char *title; } outcome[] = {
    { "head_name", N_("Head of household") },
    { "address", N_("Address") },
    { "member_count", N_("Members") },
    { "risk_types", N_("Reasons for the risk") },
    { "per_capita_income", N_("Income per person, a year") },
    { "next_visit_date", N_("Next visit") },
  };
  guint n_outcome = 0;

  g_clear_pointer (&self->pages, g_ptr_array_unref);
  self->pages = hearth_form_session_pages (self->form);
  self->index = self->pages->len;
  if (!on_summary (self))
    {
      g_free (self->key);
      self->key = g_strdup (HEARTH_FORM_SUMMARY_KEY);
      save_draft (self, FALSE);
    }
  clear_fields (self);
  clear_summary (self);

  gtk_label_set_text (self->summary_title, adw_window_title_get_title (self->window_title));
  gtk_widget_set_visible (GTK_WIDGET (self->risk_box), risk != NULL && risk[0] != '\0');
  if (risk != NULL && risk[0] != '\0')
    {
      g_autofree char *css = g_strdup_printf ("hearth-risk-%s", risk);

      for (guint i = 0; i < G_N_ELEMENTS (levels); i++)
        {
          g_autofree char *c = g_strdup_printf ("hearth-risk-%s", levels[i]);
          gtk_widget_remove_css_class (GTK_WIDGET (self->risk_badge), c);
        }
      gtk_widget_add_css_class (GTK_WIDGET (self->risk_badge), css);
      gtk_label_set_text (self->risk_badge, hearth_label_risk_level (risk));
    }

  for (guint i = 0; i < G_N_ELEMENTS (outcome); i++)
    {
      g_autofree char *value = saved_property (self, outcome[i].property);
      g_autofree char *text = NULL;

      if (value == NULL || value[0] == '\0')
        continue;
      if (g_str_equal (outcome[i].property, "risk_types"))
        text = hearth_label_risk_types (value);
      else if (g_str_equal (outcome[i].property, "next_visit_date"))
        text = hearth_label_date (value);
      else if (g_str_equal (outcome[i].property, "per_capita_income"))
        text = g_strdup_printf (_("%s yuan a year"), value);
      else
        text = g_strdup (value);
      summary_row (self, self->outcome_group, _(outcome[i].title), text);
      n_outcome++;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->outcome_group), n_outcome > 0);

  for (guint i = 0; i < issues->len; i++)
    {
      HearthFormIssue *issue = issues->pdata[i];
      const char *label = issue->path;
      AdwActionRow *row;

      for (guint p = 0; p < self->pages->len; p++)
        {
          HearthFormPage *page = self->pages->pdata[p];
          for (guint k = 0; k < page->questions->len; k++)
            {
              HearthFormQuestion *q = page->questions->pdata[k];
              if (g_str_equal (q->path, issue->path) && q->label != NULL)
                label = q->label;
            }
        }
      row = summary_row (self, self->issues_group, label, issue->message);
      gtk_widget_add_css_class (GTK_WIDGET (row), "hearth-issue");
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      g_object_set_data_full (G_OBJECT (row), "hearth-path", g_strdup (issue->path), g_free);
      g_signal_connect_object (row, "activated", G_CALLBACK (issue_activated), self, 0);
      {
        GtkWidget *arrow = gtk_image_new_from_icon_name ("go-next-symbolic");
        gtk_accessible_update_property (GTK_ACCESSIBLE (arrow), GTK_ACCESSIBLE_PROPERTY_LABEL, "", -1);
        adw_action_row_add_suffix (row, arrow);
      }
    }
  gtk_widget_set_visible (GTK_WIDGET (self->issues_group), issues->len > 0);

  for (guint p = 0; p < self->pages->len; p++)
    {
      HearthFormPage *page = self->pages->pdata[p];

      for (guint k = 0; k < page->questions->len; k++)
        {
          HearthFormQuestion *q = page->questions->pdata[k];
          g_autofree char *text = NULL;

          if (q->readonly || q->value == NULL || q->value[0] == '\0')
            continue;
          text = hearth_form_answer_text (q);
          summary_row (self, self->answers_group, q->label != NULL ? q->label : q->path, text);
        }
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "form.save", issues->len == 0);
  gtk_stack_set_visible_child_name (self->content_stack, "summary");
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->summary_scroller), 0);
  show_progress (self);
  fill_pages_list (self);
}

/* ---- input methods ------------------------------------------------------- */

static HearthFormField *
composing_field (HearthFormView *self)
{
  GHashTableIter iter;
  gpointer field;

  g_hash_table_iter_init (&iter, self->fields);
  while (g_hash_table_iter_next (&iter, NULL, &field))
    if (hearth_form_field_get_preedit (field)[0] != '\0')
      return field;
  return NULL;
}

/* The input method still shows what it composes: the user finishes it;
 * nothing is guessed or dropped. */
static void
ask_to_finish (HearthFormView *self, HearthFormField *field)
{
  g_autofree char *message = g_strdup_printf (_("Finish typing first: the input method still shows “%s”. Choose the "
                                                "characters (or delete them), then go on."),
                                              hearth_form_field_get_preedit (field));

  hearth_form_field_set_message (field, message);
  hearth_form_field_focus (field);
  scroll_to (self, GTK_WIDGET (field));
}

static void
go_on (HearthFormView *self)
{
  switch (self->after)
    {
    case AFTER_NEXT:
      if (!check_page (self))
        return;
      if (self->index + 1 >= self->pages->len)
        show_summary (self);
      else
        show_page (self, self->index + 1, TRUE);
      break;
    case AFTER_BACK:
      if (on_summary (self))
        show_page (self, self->pages->len - 1, TRUE);
      else if (self->index > 0)
        show_page (self, self->index - 1, TRUE);
      break;
    case AFTER_GO:
      if (self->go_to >= self->pages->len)
        show_summary (self);
      else
        show_page (self, self->go_to, TRUE);
      break;
    case AFTER_CLOSE:
      save_draft (self, FALSE);
      self->closed = TRUE;
      /* The screens behind list the draft now. */
      if (self->draft_saved)
        hearth_session_changed (self->session);
      g_signal_emit (self, signals[SIGNAL_CLOSED], 0, FALSE, self->household_id, NULL);
      break;
    case AFTER_SAVE:
      finish (self);
      break;
    default:
      break;
    }
}

static gboolean
settled (gpointer data)
{
  HearthFormView *self = data;
  HearthFormField *composing;

  self->settle_source = 0;
  if (self->closed)
    return G_SOURCE_REMOVE;
  /* Commits that came in are answers already (and saved); the page shows
   * them before it is checked. */
  if (self->refresh_source != 0)
    {
      g_clear_handle_id (&self->refresh_source, g_source_remove);
      refresh_now (self);
    }
  composing = composing_field (self);
  if (composing != NULL)
    ask_to_finish (self, composing);
  else
    go_on (self);
  return G_SOURCE_REMOVE;
}

/* Before a page is checked or left: a composition shown is finished by
 * the user; then the focus leaves the text fields, so that an input
 * method that keeps its composition to itself commits it, and the page
 * waits a moment for that commit. */
static void
settle_then (HearthFormView *self, After after)
{
  HearthFormField *composing;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

  if (self->settle_source != 0 || self->closed)
    return;
  self->after = after;
  composing = composing_field (self);
  if (composing != NULL)
    {
      ask_to_finish (self, composing);
      return;
    }
  if (focus != NULL && (GTK_IS_TEXT (focus) || GTK_IS_TEXT_VIEW (focus)) &&
      gtk_widget_is_ancestor (focus, GTK_WIDGET (self->fields_box)))
    {
      gtk_root_set_focus (root, NULL);
      self->settle_source = g_timeout_add (HEARTH_FORM_SETTLE_MS, settled, self);
      return;
    }
  if (self->refresh_source != 0)
    {
      g_clear_handle_id (&self->refresh_source, g_source_remove);
      refresh_now (self);
    }
  go_on (self);
}

/* ---- finishing ----------------------------------------------------------- */

static char *
household_of_submission (HearthFormView *self, const char *submission_id)
{
  sqlite3 *db = hearth_session_get_db (self->session);
  sqlite3_stmt *st = NULL;
  char *id = NULL;

  if (sqlite3_prepare_v2 (db, "SELECT household_id FROM submissions WHERE id = ?", -1, &st, NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, submission_id, -1, SQLITE_STATIC);
      if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_text (st, 0) != NULL)
        id = g_strdup ((const char *) sqlite3_column_text (st, 0));
    }
  sqlite3_finalize (st);
  return id;
}

/* Finalises, records and closes: the draft goes with the recording. */
static void
finish (HearthFormView *self)
{
  g_autoptr(GPtrArray) issues = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *recorded = NULL;
  g_autofree char *household = NULL;
  g_autofree char *risk = saved_property (self, "risk_level");
  g_autofree char *message = NULL;
  g_autoptr(HearthHousehold) h = NULL;

  xml = hearth_form_session_finalise (self->form, &issues, &error);
  if (xml == NULL)
    {
      /* What is missing shows on the summary. */
      show_summary (self);
      if (!g_error_matches (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_INVALID))
        say_saved (self, error);
      return;
    }
  /* The draft row must exist for the transaction to delete it. */
  save_draft (self, TRUE);
  recorded = hearth_draft_finish (hearth_session_get_cases (self->session), self->draft_id,
                                  hearth_form_session_get_form (self->form), xml, self->household_id, &error);
  if (recorded == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The form could not be saved: %s"), error->message);

      g_warning ("A submission of %s could not be recorded: %s", self->form_id, error->message);
      gtk_label_set_text (self->saved_label, text);
      gtk_widget_add_css_class (GTK_WIDGET (self->saved_label), "hearth-error");
      return;
    }
  household = self->household_id != NULL ? g_strdup (self->household_id) : household_of_submission (self, recorded);
  if (household != NULL)
    h = hearth_case_household_read (hearth_session_get_db (self->session), household, NULL);
  if (self->household_id == NULL)
    message = g_strdup (_("The household is registered."));
  else if (risk != NULL && risk[0] != '\0' && h != NULL &&
           g_str_equal (h->monitoring_status, "pending_village_review"))
    message = g_strdup_printf (_("Saved. Risk level: %s. The case goes to the village clerk for review."),
                               hearth_label_risk_level (risk));
  else if (risk != NULL && risk[0] != '\0')
    message = g_strdup_printf (_("Saved. Risk level: %s."), hearth_label_risk_level (risk));
  else
    message = g_strdup (_("Saved."));
  self->closed = TRUE;
  self->draft_saved = FALSE;
  hearth_session_changed (self->session);
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0, TRUE, household, message);
}

/* ---- actions -------------------------------------------------------------- */

static void
next_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  settle_then (HEARTH_FORM_VIEW (widget), AFTER_NEXT);
}

static void
back_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  settle_then (HEARTH_FORM_VIEW (widget), AFTER_BACK);
}

static void
close_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  settle_then (HEARTH_FORM_VIEW (widget), AFTER_CLOSE);
}

static void
save_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  settle_then (HEARTH_FORM_VIEW (widget), AFTER_SAVE);
}

static void
add_repeat_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  HearthFormView *self = HEARTH_FORM_VIEW (widget);
  HearthFormPage *page;
  g_autofree char *where = NULL;
  g_autoptr(GError) error = NULL;
  guint added = 0;

  if (self->index >= self->pages->len)
    return;
  page = self->pages->pdata[self->index];
  if (page->kind != HEARTH_FORM_PAGE_REPEAT_PROMPT)
    return;
  where = g_strdup_printf ("%s%s", page->path, strrchr (page->repeat, '/'));
  if (!hearth_form_session_add_repeat (self->form, where, &added, &error))
    {
      adw_status_page_set_description (self->prompt_page, error->message);
      return;
    }
  save_draft (self, TRUE);
  g_clear_pointer (&self->pages, g_ptr_array_unref);
  self->pages = hearth_form_session_pages (self->form);
  /* The new instance's first page. */
  {
    g_autofree char *instance = g_strdup_printf ("%s[%u]", where, added);
    g_autofree char *prefix = g_strdup_printf ("%s/", instance);

    for (guint i = 0; i < self->pages->len; i++)
      {
        HearthFormPage *p = self->pages->pdata[i];
        if (p->kind == HEARTH_FORM_PAGE_QUESTIONS && p->questions->len > 0 &&
            g_str_has_prefix (((HearthFormQuestion *) p->questions->pdata[0])->path, prefix))
          {
            show_page (self, i, TRUE);
            return;
          }
      }
  }
  show_page (self, self->index, FALSE);
}

static void
remove_repeat_response (AdwMessageDialog *dialog, const char *response, HearthFormView *self)
{
  const char *instance = g_object_get_data (G_OBJECT (dialog), "hearth-instance");
  g_autoptr(GError) error = NULL;

  if (!g_str_equal (response, "remove") || self->closed)
    return;
  if (!hearth_form_session_remove_repeat (self->form, instance, &error))
    {
      g_warning ("%s cannot be removed: %s", instance, error->message);
      return;
    }
  save_draft (self, TRUE);
  g_clear_pointer (&self->pages, g_ptr_array_unref);
  self->pages = hearth_form_session_pages (self->form);
  show_page (self, self->index, TRUE);
}

static void
remove_repeat_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  HearthFormView *self = HEARTH_FORM_VIEW (widget);
  HearthFormPage *page;
  g_autofree char *instance = NULL;
  g_autofree char *heading = NULL;
  AdwMessageDialog *dialog;

  if (self->index >= self->pages->len)
    return;
  page = self->pages->pdata[self->index];
  if (page->repeat == NULL || page->questions->len == 0)
    return;
  instance = repeat_instance (page->repeat, ((HearthFormQuestion *) page->questions->pdata[0])->path);
  heading = g_strdup_printf (_("Remove number %u of %s?"), instance_number (instance),
                             page->label != NULL ? page->label : strrchr (page->repeat, '/') + 1);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), heading,
                                                       _("Its answers are deleted.")));
  adw_message_dialog_add_responses (dialog, "cancel", _("_Keep"), "remove", _("_Remove"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "remove", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "hearth-instance", g_steal_pointer (&instance), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (remove_repeat_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
discard_response (AdwMessageDialog *dialog, const char *response, HearthFormView *self)
{
  g_autoptr(GError) error = NULL;

  if (!g_str_equal (response, "discard") || self->closed)
    return;
  if (!hearth_draft_delete (hearth_session_get_db (self->session), self->draft_id, &error))
    {
      say_saved (self, error);
      return;
    }
  self->closed = TRUE;
  self->draft_saved = FALSE;
  hearth_session_changed (self->session);
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0, FALSE, self->household_id, _("The answers were discarded."));
}

static void
discard_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  HearthFormView *self = HEARTH_FORM_VIEW (widget);
  AdwMessageDialog *dialog;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)),
                                                       _("Discard these answers?"),
                                                       _("Everything answered on this form is deleted from the "
                                                         "tablet. This cannot be undone.")));
  adw_message_dialog_add_responses (dialog, "cancel", _("_Keep"), "discard", _("_Discard"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "discard", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (discard_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
page_row_activated (HearthFormView *self, GtkListBoxRow *row)
{
  gtk_popover_popdown (self->pages_popover);
  self->go_to = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "hearth-page"));
  settle_then (self, AFTER_GO);
}

/* A swipe across the page turns it: to the left, the next. */
static void
swept (GtkGestureSwipe *gesture, double vx, double vy, HearthFormView *self)
{
  if (ABS (vx) < 400 || ABS (vx) < 2 * ABS (vy))
    return;
  settle_then (self, vx < 0 ? AFTER_NEXT : AFTER_BACK);
}

/* ---- life ----------------------------------------------------------------- */

static void
hearth_form_view_dispose (GObject *object)
{
  HearthFormView *self = HEARTH_FORM_VIEW (object);

  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_clear_handle_id (&self->settle_source, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), HEARTH_TYPE_FORM_VIEW);
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self)); child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);
  g_clear_pointer (&self->fields, g_hash_table_unref);
  g_clear_pointer (&self->summary_rows, g_ptr_array_unref);
  g_clear_pointer (&self->pages, g_ptr_array_unref);
  g_clear_object (&self->form);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (hearth_form_view_parent_class)->dispose (object);
}

static void
hearth_form_view_finalize (GObject *object)
{
  HearthFormView *self = HEARTH_FORM_VIEW (object);

  g_free (self->form_id);
  g_free (self->form_version);
  g_free (self->household_id);
  g_free (self->household_name);
  g_free (self->draft_id);
  g_free (self->instance_name_path);
  g_free (self->key);
  G_OBJECT_CLASS (hearth_form_view_parent_class)->finalize (object);
}

static void
hearth_form_view_class_init (HearthFormViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearth_form_view_dispose;
  object_class->finalize = hearth_form_view_finalize;

  /**
   * HearthFormView::closed:
   * @saved: the form was finalised and recorded
   * @household_id: (nullable): the household it was for (the new one
   *   for a registration)
   * @message: (nullable): what to tell the user
   *
   * The user is done with the form: saved, discarded or closed to
   * continue later (the draft is kept).
   */
  signals[SIGNAL_CLOSED] = g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                         G_TYPE_NONE, 3, G_TYPE_BOOLEAN, G_TYPE_STRING, G_TYPE_STRING);

  g_type_ensure (HEARTH_TYPE_FORM_FIELD);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-form-view.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, header_bar);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, window_title);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, pages_button);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, pages_popover);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, pages_list);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, progress_label);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, content_stack);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, page_scroller);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, page_title);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, repeat_box);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, repeat_label);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, remove_button);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, fields_box);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, prompt_page);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, summary_scroller);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, summary_title);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, risk_box);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, risk_badge);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, issues_group);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, outcome_group);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, answers_group);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, save_button);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, back_button);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, next_button);
  gtk_widget_class_bind_template_child (widget_class, HearthFormView, saved_label);
  gtk_widget_class_bind_template_callback (widget_class, page_row_activated);
  gtk_widget_class_install_action (widget_class, "form.next", NULL, next_action);
  gtk_widget_class_install_action (widget_class, "form.back", NULL, back_action);
  gtk_widget_class_install_action (widget_class, "form.close", NULL, close_action);
  gtk_widget_class_install_action (widget_class, "form.save", NULL, save_action);
  gtk_widget_class_install_action (widget_class, "form.discard", NULL, discard_action);
  gtk_widget_class_install_action (widget_class, "form.add-repeat", NULL, add_repeat_action);
  gtk_widget_class_install_action (widget_class, "form.remove-repeat", NULL, remove_repeat_action);
  /* Page Down and Page Up, for a tablet with a keyboard cover. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Page_Down, GDK_ALT_MASK, "form.next", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Page_Up, GDK_ALT_MASK, "form.back", NULL);
}

static void
hearth_form_view_init (HearthFormView *self)
{
  GtkGesture *swipe = gtk_gesture_swipe_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  self->fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->summary_rows = g_ptr_array_new ();
  gtk_gesture_single_set_touch_only (GTK_GESTURE_SINGLE (swipe), TRUE);
  gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (swipe), GTK_PHASE_CAPTURE);
  g_signal_connect_object (swipe, "swipe", G_CALLBACK (swept), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (self->content_stack), GTK_EVENT_CONTROLLER (swipe));
}

/* The form's language for the app's: the bundled forms name theirs
 * `中文 (zh)` and `English (en)`. */
static const char *
form_language (const HearthForm *form)
{
  const char *app = hearth_i18n_get_language ();
  const char *code = app != NULL && g_str_has_prefix (app, "zh") ? "zh" : "en";

  return hearth_form_find_language (form, code);
}

HearthFormView *
hearth_form_view_new (HearthSession *session, HearthCaseForm *cf, const char *household_id, const HearthDraft *draft,
                      GError **error)
{
  g_autoptr(HearthCaseForm) form = cf;
  HearthFormSessionOptions options = { 0 };
  g_autoptr(HearthFormSession) fs = NULL;
  HearthFormView *self;
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  const HearthForm *f;
  xmlNode *root;

  g_return_val_if_fail (HEARTH_IS_SESSION (session), NULL);
  g_return_val_if_fail (cf != NULL && cf->form != NULL, NULL);

  options.language = form_language (form->form);
  options.instances = form->instances;
  options.device_id = hearth_case_store_get_device_id (hearth_session_get_cases (session));
  options.username = hearth_session_get_identity (session)->user;
  if (draft != NULL)
    fs = hearth_form_session_new_from_draft (g_steal_pointer (&form->form), draft->xml, -1, FALSE, &options, error);
  else
    fs = hearth_form_session_new (g_steal_pointer (&form->form), &options, error);
  if (fs == NULL)
    return NULL;

  self = g_object_new (HEARTH_TYPE_FORM_VIEW, NULL);
  self->session = g_object_ref (session);
  self->form = g_steal_pointer (&fs);
  f = hearth_form_session_get_form (self->form);
  self->form_id = g_strdup (f->form_id != NULL ? f->form_id : "");
  self->form_version = g_strdup (form->version != NULL && form->version[0] != '\0' ? form->version : "0");
  self->household_id = g_strdup (household_id);
  self->draft_id = draft != NULL ? g_strdup (draft->id) : g_uuid_string_random ();
  self->draft_saved = draft != NULL;
  root = xmlDocGetRootElement (f->primary);
  if (root != NULL)
    self->instance_name_path = g_strdup_printf ("/%s/meta/instanceName", (const char *) root->name);
  if (self->instance_name_path != NULL && !hearth_form_session_is_relevant (self->form, self->instance_name_path))
    g_clear_pointer (&self->instance_name_path, g_free);

  /* The header: the form, and whom it is for. */
  title = g_strdup (hearth_label_form (self->form_id));
  if (title[0] == '\0' || g_str_equal (title, self->form_id))
    {
      g_free (title);
      title = g_strdup (f->title != NULL ? f->title : self->form_id);
    }
  if (household_id != NULL)
    {
      g_autoptr(HearthHousehold) h = hearth_case_household_read (hearth_session_get_db (session), household_id, NULL);
      subtitle = g_strdup (h != NULL ? h->head_name : "");
    }
  else if (g_str_equal (self->form_id, HEARTH_FORM_REGISTRATION))
    subtitle = g_strdup (_("A new household"));
  else
    subtitle = g_strdup ("");
  adw_window_title_set_title (self->window_title, title);
  adw_window_title_set_subtitle (self->window_title, subtitle);
  gtk_button_set_label (self->save_button, household_id == NULL ? _("_Save the registration") : _("_Save the visit"));

  self->pages = hearth_form_session_pages (self->form);
  if (draft != NULL && g_strcmp0 (draft->page, HEARTH_FORM_SUMMARY_KEY) == 0)
    {
      self->key = g_strdup (HEARTH_FORM_SUMMARY_KEY);
      show_summary (self);
    }
  else
    {
      self->key = g_strdup (draft != NULL ? draft->page : NULL);
      show_page (self, 0, FALSE);
    }
  if (draft != NULL && cf->other_version)
    {
      g_autofree char *text = g_strdup_printf (_("Begun with version %s of the form, continued with version %s."),
                                               draft->form_version, self->form_version);
      gtk_label_set_text (self->saved_label, text);
    }
  else if (draft != NULL)
    gtk_label_set_text (self->saved_label, _("Continued where it was left."));
  return self;
}

HearthFormView *
hearth_form_view_open (HearthSession *session, const char *form_id, const char *household_id, const char *draft_id,
                       GError **error)
{
  g_autoptr(GPtrArray) dirs = hearth_form_bundled_dirs ();
  g_autoptr(HearthDraft) draft = NULL;
  HearthCaseForm *cf;

  g_return_val_if_fail (HEARTH_IS_SESSION (session), NULL);
  g_return_val_if_fail (form_id != NULL || draft_id != NULL, NULL);

  if (draft_id != NULL)
    {
      draft = hearth_draft_read (hearth_session_get_db (session), draft_id, error);
      if (draft == NULL)
        return NULL;
      form_id = draft->form_id;
      household_id = draft->household_id;
    }
  cf = hearth_case_form_open (hearth_session_get_store (session), hearth_session_get_cases (session),
                              (const char *const *) dirs->pdata, form_id, draft != NULL ? draft->form_version : NULL,
                              household_id, error);
  if (cf == NULL)
    return NULL;
  return hearth_form_view_new (session, cf, household_id, draft, error);
}

HearthFormSession *
hearth_form_view_get_form_session (HearthFormView *self)
{
  g_return_val_if_fail (HEARTH_IS_FORM_VIEW (self), NULL);
  return self->form;
}

const char *
hearth_form_view_get_draft_id (HearthFormView *self)
{
  g_return_val_if_fail (HEARTH_IS_FORM_VIEW (self), NULL);
  return self->draft_id;
}

gboolean
hearth_form_view_get_draft_saved (HearthFormView *self)
{
  g_return_val_if_fail (HEARTH_IS_FORM_VIEW (self), FALSE);
  return self->draft_saved;
}

const char *
hearth_form_view_get_page_key (HearthFormView *self)
{
  g_return_val_if_fail (HEARTH_IS_FORM_VIEW (self), NULL);
  return self->key;
}

guint
hearth_form_view_get_page_index (HearthFormView *self, guint *n_pages)
{
  g_return_val_if_fail (HEARTH_IS_FORM_VIEW (self), 0);
  if (n_pages != NULL)
    *n_pages = self->pages->len;
  return self->index;
}

GtkWidget *
hearth_form_view_get_field (HearthFormView *self, const char *path)
{
  g_return_val_if_fail (HEARTH_IS_FORM_VIEW (self), NULL);
  return g_hash_table_lookup (self->fields, path);
}

gboolean
hearth_form_view_is_settling (HearthFormView *self)
{
  g_return_val_if_fail (HEARTH_IS_FORM_VIEW (self), FALSE);
  return self->settle_source != 0;
}

void
hearth_form_view_flush (HearthFormView *self)
{
  GtkRoot *root;

  g_return_if_fail (HEARTH_IS_FORM_VIEW (self));

  if (self->closed)
    return;
  root = gtk_widget_get_root (GTK_WIDGET (self));
  if (root != NULL)
    gtk_root_set_focus (root, NULL);
  save_draft (self, FALSE);
}

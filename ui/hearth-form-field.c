/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-form-field.c: one question of a form page (hearth-form-field.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-form-field.h"
#include "case-labels.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

typedef enum {
  INPUT_NONE,      /* read-only: the value shown */
  INPUT_ENTRY,
  INPUT_TEXT_VIEW, /* appearance multiline */
  INPUT_DATE,
  INPUT_SELECT1,
  INPUT_SELECT,
  INPUT_TRIGGER,
  INPUT_UPLOAD,    /* no attachment leaves this tablet: said so */
} InputKind;

struct _HearthFormField {
  GtkWidget parent_instance;
  GtkLabel *title_label;
  GtkLabel *required_label;
  GtkLabel *hint_label;
  AdwBin *input_bin;
  GtkLabel *value_label;
  GtkBox *message_box;
  GtkLabel *message_label;

  InputKind kind;
  HearthControlKind control_kind;
  char *path;
  char *type;
  char *appearance;
  char *value;
  char *label;
  gboolean readonly;
  GtkWidget *input;
  GtkWidget *text;           /* the GtkText or GtkTextView an input method types into */
  GtkCalendar *calendar;
  GtkWidget *clear_button;
  GPtrArray *checks;         /* (element-type GtkCheckButton) one per choice */
  GPtrArray *choice_values;  /* (element-type utf8) */
  GPtrArray *choice_labels;  /* (element-type utf8) */
  char *preedit;
  char *message;
  char *type_error;
  gboolean syncing;          /* the input is being set from the session */
};

G_DEFINE_FINAL_TYPE (HearthFormField, hearth_form_field, GTK_TYPE_WIDGET)

enum {
  SIGNAL_ANSWER,
  SIGNAL_LEFT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
answer (HearthFormField *self, const char *value)
{
  if (self->syncing)
    return;
  g_free (self->value);
  self->value = g_strdup (value);
  g_signal_emit (self, signals[SIGNAL_ANSWER], 0, value);
}

/* ---- text ----------------------------------------------------------------- */

static void
entry_changed (GtkEditable *editable, HearthFormField *self)
{
  answer (self, gtk_editable_get_text (editable));
}

static void
text_view_changed (GtkTextBuffer *buffer, HearthFormField *self)
{
  GtkTextIter start, end;
  g_autofree char *text = NULL;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  answer (self, text);
}

/* GtkText and GtkTextView announce what the input method composes; it
 * becomes text (and an answer) only when the method commits it. */
static void
preedit_changed (GtkWidget *text, const char *preedit, HearthFormField *self)
{
  g_free (self->preedit);
  self->preedit = g_strdup (preedit != NULL ? preedit : "");
}

static void
focus_left (GtkEventControllerFocus *controller, HearthFormField *self)
{
  g_signal_emit (self, signals[SIGNAL_LEFT], 0);
}

static void
watch_text (HearthFormField *self, GtkWidget *text, GtkWidget *focusable)
{
  GtkEventController *focus = gtk_event_controller_focus_new ();

  self->text = text;
  g_signal_connect_object (text, "preedit-changed", G_CALLBACK (preedit_changed), self, 0);
  g_signal_connect_object (focus, "leave", G_CALLBACK (focus_left), self, 0);
  gtk_widget_add_controller (focusable, focus);
}

/* The keyboard a type calls for: a tablet shows the digits, a number pad
 * or the full keyboard (with the input method) accordingly. */
static void
set_purpose (HearthFormField *self, GtkEntry *entry)
{
  GtkInputPurpose purpose = GTK_INPUT_PURPOSE_FREE_FORM;
  GtkInputHints hints = GTK_INPUT_HINT_NONE;
  const char *placeholder = NULL;

  if (g_str_equal (self->type, "int"))
    purpose = GTK_INPUT_PURPOSE_DIGITS, hints = GTK_INPUT_HINT_NO_EMOJI;
  else if (g_str_equal (self->type, "decimal"))
    purpose = GTK_INPUT_PURPOSE_NUMBER, hints = GTK_INPUT_HINT_NO_EMOJI;
  else if (g_str_equal (self->type, "geopoint"))
    {
      purpose = GTK_INPUT_PURPOSE_NUMBER, hints = GTK_INPUT_HINT_NO_EMOJI;
      /* TRANSLATORS: what a location answer looks like: latitude and longitude */
      placeholder = _("Latitude longitude, e.g. 40.61 109.84");
    }
  else if (g_str_equal (self->type, "time"))
    {
      purpose = GTK_INPUT_PURPOSE_NUMBER, hints = GTK_INPUT_HINT_NO_EMOJI;
      placeholder = _("Hours:minutes, e.g. 09:30");
    }
  else if (g_str_equal (self->type, "dateTime"))
    {
      purpose = GTK_INPUT_PURPOSE_NUMBER, hints = GTK_INPUT_HINT_NO_EMOJI;
      placeholder = _("Date and time, e.g. 2026-03-05T09:30:00+08:00");
    }
  else if (self->appearance != NULL && strstr (self->appearance, "numbers") != NULL)
    /* ODK's "numbers": a phone pad (digits, and the dash of a landline). */
    purpose = GTK_INPUT_PURPOSE_PHONE, hints = GTK_INPUT_HINT_NO_EMOJI;
  gtk_entry_set_input_purpose (entry, purpose);
  gtk_entry_set_input_hints (entry, hints);
  if (placeholder != NULL)
    gtk_entry_set_placeholder_text (entry, placeholder);
}

/* ---- dates ---------------------------------------------------------------- */

static void
show_date (HearthFormField *self)
{
  g_autofree char *label = NULL;

  if (self->value != NULL && self->value[0] != '\0')
    label = hearth_label_date (self->value);
  gtk_menu_button_set_label (GTK_MENU_BUTTON (self->input),
                             label != NULL && label[0] != '\0' ? label : _("Choose a date"));
  gtk_widget_set_visible (self->clear_button, self->value != NULL && self->value[0] != '\0');
}

static void
day_selected (GtkCalendar *calendar, HearthFormField *self)
{
  g_autoptr(GDateTime) picked = gtk_calendar_get_date (calendar);
  int y, m, d;
  char date[16];

  if (self->syncing)
    return;
  /* The day tapped, as written on the calendar: no time zone moves it. */
  g_date_time_get_ymd (picked, &y, &m, &d);
  g_snprintf (date, sizeof date, "%04d-%02d-%02d", y, m, d);
  answer (self, date);
  show_date (self);
  gtk_menu_button_popdown (GTK_MENU_BUTTON (self->input));
}

static void
select_day (HearthFormField *self)
{
  guint y, m, d;

  if (self->value == NULL || sscanf (self->value, "%4u-%2u-%2u", &y, &m, &d) != 3 || !g_date_valid_dmy (d, m, y))
    return;
  {
    /* Noon: the same calendar day in any zone the calendar reads it in. */
    g_autoptr(GDateTime) day = g_date_time_new_local ((int) y, (int) m, (int) d, 12, 0, 0);

    self->syncing = TRUE;
    gtk_calendar_select_day (self->calendar, day);
    self->syncing = FALSE;
  }
}

static void
date_cleared (HearthFormField *self)
{
  answer (self, "");
  show_date (self);
  gtk_menu_button_popdown (GTK_MENU_BUTTON (self->input));
}

static GtkWidget *
date_input (HearthFormField *self)
{
  GtkWidget *button = gtk_menu_button_new ();
  GtkWidget *popover = gtk_popover_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);

  self->input = button;
  self->calendar = GTK_CALENDAR (gtk_calendar_new ());
  self->clear_button = gtk_button_new_with_mnemonic (_("_Clear the date"));
  gtk_widget_add_css_class (self->clear_button, "flat");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->calendar));
  gtk_box_append (GTK_BOX (box), self->clear_button);
  gtk_popover_set_child (GTK_POPOVER (popover), box);
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (button), popover);
  gtk_menu_button_set_always_show_arrow (GTK_MENU_BUTTON (button), TRUE);
  gtk_widget_set_halign (button, GTK_ALIGN_START);
  g_signal_connect_object (self->calendar, "day-selected", G_CALLBACK (day_selected), self, 0);
  g_signal_connect_object (self->clear_button, "clicked", G_CALLBACK (date_cleared), self, G_CONNECT_SWAPPED);
  show_date (self);
  select_day (self);
  return button;
}

/* ---- choices -------------------------------------------------------------- */

static gboolean
chosen (const char *value, const char *name)
{
  g_auto(GStrv) names = g_strsplit (value != NULL ? value : "", " ", -1);

  return g_strv_contains ((const char *const *) names, name);
}

static void
check_toggled (GtkCheckButton *check, HearthFormField *self)
{
  g_autoptr(GString) value = g_string_new (NULL);

  if (self->syncing)
    return;
  if (self->kind == INPUT_SELECT1)
    {
      /* The other choice of the group reports its release too. */
      if (!gtk_check_button_get_active (check))
        return;
      for (guint i = 0; i < self->checks->len; i++)
        if (self->checks->pdata[i] == check)
          g_string_append (value, self->choice_values->pdata[i]);
    }
  else
    for (guint i = 0; i < self->checks->len; i++)
      if (gtk_check_button_get_active (self->checks->pdata[i]))
        {
          if (value->len > 0)
            g_string_append_c (value, ' ');
          g_string_append (value, self->choice_values->pdata[i]);
        }
  answer (self, value->str);
  if (self->clear_button != NULL)
    gtk_widget_set_visible (self->clear_button, value->len > 0);
}

static void
choice_cleared (HearthFormField *self)
{
  self->syncing = TRUE;
  for (guint i = 0; i < self->checks->len; i++)
    gtk_check_button_set_active (self->checks->pdata[i], FALSE);
  self->syncing = FALSE;
  answer (self, "");
  gtk_widget_set_visible (self->clear_button, FALSE);
}

static void
show_choices (HearthFormField *self)
{
  self->syncing = TRUE;
  for (guint i = 0; i < self->checks->len; i++)
    gtk_check_button_set_active (self->checks->pdata[i], chosen (self->value, self->choice_values->pdata[i]));
  self->syncing = FALSE;
  if (self->clear_button != NULL)
    gtk_widget_set_visible (self->clear_button, self->value != NULL && self->value[0] != '\0');
}

static gboolean
same_choices (HearthFormField *self, const GPtrArray *choices)
{
  if (choices == NULL || choices->len != self->choice_values->len)
    return FALSE;
  for (guint i = 0; i < choices->len; i++)
    {
      const HearthFormChoiceItem *c = choices->pdata[i];
      if (g_strcmp0 (c->value, self->choice_values->pdata[i]) != 0 ||
          g_strcmp0 (c->label, self->choice_labels->pdata[i]) != 0)
        return FALSE;
    }
  return TRUE;
}

/* Large touch rows: the whole row is the target, its check or radio
 * mark shows the answer. */
static GtkWidget *
choice_input (HearthFormField *self, const GPtrArray *choices, gboolean required)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *list = gtk_list_box_new ();
  GtkCheckButton *group = NULL;

  g_ptr_array_set_size (self->checks, 0);
  g_ptr_array_set_size (self->choice_values, 0);
  g_ptr_array_set_size (self->choice_labels, 0);
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (list), GTK_ACCESSIBLE_PROPERTY_LABEL, self->label, -1);
  for (guint i = 0; choices != NULL && i < choices->len; i++)
    {
      const HearthFormChoiceItem *c = choices->pdata[i];
      const char *text = c->label != NULL && c->label[0] != '\0' ? c->label : c->value;
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *check = gtk_check_button_new ();

      if (self->kind == INPUT_SELECT1)
        {
          if (group == NULL)
            group = GTK_CHECK_BUTTON (check);
          else
            gtk_check_button_set_group (GTK_CHECK_BUTTON (check), group);
        }
      gtk_widget_add_css_class (check, "hearth-choice");
      gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
      gtk_accessible_update_property (GTK_ACCESSIBLE (check), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), text);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
      gtk_widget_add_css_class (row, "hearth-choice-row");
      gtk_list_box_append (GTK_LIST_BOX (list), row);
      g_signal_connect_object (check, "toggled", G_CALLBACK (check_toggled), self, 0);
      g_ptr_array_add (self->checks, check);
      g_ptr_array_add (self->choice_values, g_strdup (c->value));
      g_ptr_array_add (self->choice_labels, g_strdup (c->label));
    }
  gtk_box_append (GTK_BOX (box), list);
  self->clear_button = NULL;
  /* A radio group cannot be emptied by tapping: an optional question
   * answered by mistake can. */
  if (self->kind == INPUT_SELECT1 && !required)
    {
      self->clear_button = gtk_button_new_with_mnemonic (_("_Clear the answer"));
      gtk_widget_set_halign (self->clear_button, GTK_ALIGN_START);
      gtk_widget_add_css_class (self->clear_button, "flat");
      g_signal_connect_object (self->clear_button, "clicked", G_CALLBACK (choice_cleared), self, G_CONNECT_SWAPPED);
      gtk_box_append (GTK_BOX (box), self->clear_button);
    }
  self->input = list;
  show_choices (self);
  return box;
}

/* ---- trigger -------------------------------------------------------------- */

static void
show_trigger (HearthFormField *self)
{
  gboolean on = self->value != NULL && self->value[0] != '\0';

  self->syncing = TRUE;
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->input), on);
  self->syncing = FALSE;
  gtk_button_set_label (GTK_BUTTON (self->input), on ? _("Confirmed") : _("_Confirm"));
}

static void
trigger_toggled (GtkToggleButton *button, HearthFormField *self)
{
  if (self->syncing)
    return;
  answer (self, gtk_toggle_button_get_active (button) ? "OK" : "");
  show_trigger (self);
}

/* ---- building ------------------------------------------------------------- */

/* What a read-only question shows: its value, in words for a choice. */
static char *
shown_value (HearthFormField *self, const HearthFormQuestion *q)
{
  g_autoptr(GString) s = NULL;
  g_auto(GStrv) names = NULL;

  if (q->value == NULL || q->value[0] == '\0')
    return NULL;
  if (q->choices == NULL)
    {
      if (g_str_equal (self->type, "date"))
        return hearth_label_date (q->value);
      return g_strdup (q->value);
    }
  s = g_string_new (NULL);
  names = g_strsplit (q->value, " ", -1);
  for (guint i = 0; names[i] != NULL; i++)
    for (guint c = 0; c < q->choices->len; c++)
      {
        const HearthFormChoiceItem *item = q->choices->pdata[c];
        if (g_str_equal (item->value, names[i]))
          {
            if (s->len > 0)
              /* TRANSLATORS: between the choices of an answer */
              g_string_append (s, _(", "));
            g_string_append (s, item->label != NULL && item->label[0] != '\0' ? item->label : item->value);
          }
      }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
build_input (HearthFormField *self, const HearthFormQuestion *q)
{
  GtkWidget *widget = NULL;

  self->input = NULL;
  self->text = NULL;
  self->calendar = NULL;
  self->clear_button = NULL;
  g_ptr_array_set_size (self->checks, 0);
  g_clear_pointer (&self->preedit, g_free);
  self->preedit = g_strdup ("");

  if (self->readonly)
    self->kind = INPUT_NONE;
  else
    switch (self->control_kind)
      {
      case HEARTH_CONTROL_SELECT1: self->kind = INPUT_SELECT1; break;
      case HEARTH_CONTROL_SELECT: self->kind = INPUT_SELECT; break;
      case HEARTH_CONTROL_TRIGGER: self->kind = INPUT_TRIGGER; break;
      case HEARTH_CONTROL_UPLOAD: self->kind = INPUT_UPLOAD; break;
      default:
        if (g_str_equal (self->type, "date"))
          self->kind = INPUT_DATE;
        else if (self->appearance != NULL && strstr (self->appearance, "multiline") != NULL)
          self->kind = INPUT_TEXT_VIEW;
        else
          self->kind = INPUT_ENTRY;
      }

  switch (self->kind)
    {
    case INPUT_ENTRY:
      widget = gtk_entry_new ();
      self->input = widget;
      set_purpose (self, GTK_ENTRY (widget));
      gtk_editable_set_text (GTK_EDITABLE (widget), q->value);
      gtk_entry_set_activates_default (GTK_ENTRY (widget), FALSE);
      watch_text (self, GTK_WIDGET (gtk_editable_get_delegate (GTK_EDITABLE (widget))), widget);
      g_signal_connect_object (widget, "changed", G_CALLBACK (entry_changed), self, 0);
      break;
    case INPUT_TEXT_VIEW:
      {
        GtkWidget *view = gtk_text_view_new ();
        GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (view));

        gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_WORD_CHAR);
        gtk_text_view_set_accepts_tab (GTK_TEXT_VIEW (view), FALSE);
        gtk_text_view_set_input_purpose (GTK_TEXT_VIEW (view), GTK_INPUT_PURPOSE_FREE_FORM);
        gtk_text_buffer_set_text (buffer, q->value, -1);
        gtk_widget_add_css_class (view, "hearth-multiline");
        widget = gtk_frame_new (NULL);
        gtk_frame_set_child (GTK_FRAME (widget), view);
        self->input = view;
        watch_text (self, view, view);
        g_signal_connect_object (buffer, "changed", G_CALLBACK (text_view_changed), self, 0);
      }
      break;
    case INPUT_DATE:
      widget = date_input (self);
      break;
    case INPUT_SELECT1:
    case INPUT_SELECT:
      widget = choice_input (self, q->choices, q->required);
      break;
    case INPUT_TRIGGER:
      widget = gtk_toggle_button_new ();
      gtk_button_set_use_underline (GTK_BUTTON (widget), TRUE);
      gtk_widget_set_halign (widget, GTK_ALIGN_START);
      gtk_widget_add_css_class (widget, "pill");
      self->input = widget;
      show_trigger (self);
      g_signal_connect_object (widget, "toggled", G_CALLBACK (trigger_toggled), self, 0);
      break;
    case INPUT_UPLOAD:
      widget = gtk_label_new (_("This tablet does not attach photos or files: keep the paper document with the "
                                "household's file."));
      gtk_label_set_wrap (GTK_LABEL (widget), TRUE);
      gtk_label_set_xalign (GTK_LABEL (widget), 0);
      gtk_widget_add_css_class (widget, "dim-label");
      break;
    case INPUT_NONE:
    default:
      break;
    }
  if (self->input != NULL)
    {
      /* Named by the question's label, described by its message. */
      gtk_accessible_update_relation (GTK_ACCESSIBLE (self->input), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                      self->title_label, NULL, -1);
      gtk_accessible_update_relation (GTK_ACCESSIBLE (self->input), GTK_ACCESSIBLE_RELATION_DESCRIBED_BY,
                                      self->message_label, NULL, -1);
    }
  adw_bin_set_child (self->input_bin, widget);
  gtk_widget_set_visible (GTK_WIDGET (self->input_bin), widget != NULL);
}

static void
show_labels (HearthFormField *self, const HearthFormQuestion *q)
{
  g_autofree char *shown = NULL;

  g_free (self->label);
  self->label = g_strdup (q->label != NULL && q->label[0] != '\0' ? q->label : q->path);
  gtk_label_set_text (self->title_label, self->label);
  gtk_label_set_text (self->hint_label, q->hint != NULL ? q->hint : "");
  gtk_widget_set_visible (GTK_WIDGET (self->hint_label), q->hint != NULL && q->hint[0] != '\0');
  gtk_widget_set_visible (GTK_WIDGET (self->required_label), q->required && !q->readonly);
  /* A note has a label and no value; a calculation shows what it found. */
  shown = self->kind == INPUT_NONE || self->kind == INPUT_UPLOAD ? shown_value (self, q) : NULL;
  gtk_label_set_text (self->value_label, shown != NULL ? shown : "");
  gtk_widget_set_visible (GTK_WIDGET (self->value_label), shown != NULL && shown[0] != '\0');
  gtk_widget_remove_css_class (GTK_WIDGET (self->title_label), "hearth-note");
  if (self->kind == INPUT_NONE && (shown == NULL || shown[0] == '\0'))
    gtk_widget_add_css_class (GTK_WIDGET (self->title_label), "hearth-note");
}

HearthFormField *
hearth_form_field_new (const HearthFormQuestion *q)
{
  HearthFormField *self = g_object_new (HEARTH_TYPE_FORM_FIELD, NULL);

  g_return_val_if_fail (q != NULL, NULL);

  self->path = g_strdup (q->path);
  self->type = g_strdup (q->type != NULL ? q->type : "string");
  self->appearance = g_strdup (q->control != NULL ? q->control->appearance : NULL);
  self->control_kind = q->control != NULL ? q->control->kind : HEARTH_CONTROL_INPUT;
  self->value = g_strdup (q->value != NULL ? q->value : "");
  self->readonly = q->readonly;
  self->label = g_strdup (q->label != NULL && q->label[0] != '\0' ? q->label : q->path);
  build_input (self, q);
  show_labels (self, q);
  return self;
}

const char *
hearth_form_field_get_path (HearthFormField *self)
{
  g_return_val_if_fail (HEARTH_IS_FORM_FIELD (self), NULL);
  return self->path;
}

static gboolean
typing_in (HearthFormField *self)
{
  return self->text != NULL && gtk_widget_has_focus (self->text);
}

void
hearth_form_field_update (HearthFormField *self, const HearthFormQuestion *q)
{
  const char *value;

  g_return_if_fail (HEARTH_IS_FORM_FIELD (self));
  g_return_if_fail (q != NULL && g_strcmp0 (q->path, self->path) == 0);

  value = q->value != NULL ? q->value : "";
  if (q->readonly != self->readonly ||
      ((self->kind == INPUT_SELECT1 || self->kind == INPUT_SELECT) && !same_choices (self, q->choices)))
    {
      self->readonly = q->readonly;
      g_free (self->value);
      self->value = g_strdup (value);
      g_free (self->label);
      self->label = g_strdup (q->label != NULL && q->label[0] != '\0' ? q->label : q->path);
      build_input (self, q);
      show_labels (self, q);
      return;
    }
  show_labels (self, q);
  if (self->kind == INPUT_SELECT1 || self->kind == INPUT_SELECT)
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->input), GTK_ACCESSIBLE_PROPERTY_LABEL, self->label, -1);
  if (g_strcmp0 (self->value, value) == 0)
    return;
  /* The text being typed is the answer's source; so is text that does
   * not fit the type (the answer is blank until it is corrected). */
  if (typing_in (self) || (self->type_error != NULL && value[0] == '\0'))
    return;
  g_free (self->value);
  self->value = g_strdup (value);
  self->syncing = TRUE;
  switch (self->kind)
    {
    case INPUT_ENTRY:
      gtk_editable_set_text (GTK_EDITABLE (self->input), value);
      break;
    case INPUT_TEXT_VIEW:
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->input)), value, -1);
      break;
    case INPUT_DATE:
      self->syncing = FALSE;
      show_date (self);
      select_day (self);
      break;
    case INPUT_SELECT1:
    case INPUT_SELECT:
      self->syncing = FALSE;
      show_choices (self);
      break;
    case INPUT_TRIGGER:
      self->syncing = FALSE;
      show_trigger (self);
      break;
    default:
      break;
    }
  self->syncing = FALSE;
}

static void
show_message (HearthFormField *self)
{
  const char *m = self->type_error != NULL ? self->type_error : self->message;

  gtk_label_set_text (self->message_label, m != NULL ? m : "");
  gtk_widget_set_visible (GTK_WIDGET (self->message_box), m != NULL && m[0] != '\0');
  if (self->input != NULL)
    {
      if (m != NULL && m[0] != '\0')
        {
          gtk_widget_add_css_class (self->input, "error");
          gtk_accessible_update_state (GTK_ACCESSIBLE (self->input), GTK_ACCESSIBLE_STATE_INVALID,
                                       GTK_ACCESSIBLE_INVALID_TRUE, -1);
        }
      else
        {
          gtk_widget_remove_css_class (self->input, "error");
          gtk_accessible_reset_state (GTK_ACCESSIBLE (self->input), GTK_ACCESSIBLE_STATE_INVALID);
        }
    }
}

void
hearth_form_field_set_message (HearthFormField *self, const char *message)
{
  g_return_if_fail (HEARTH_IS_FORM_FIELD (self));

  g_free (self->message);
  self->message = message != NULL && message[0] != '\0' ? g_strdup (message) : NULL;
  show_message (self);
}

const char *
hearth_form_field_get_message (HearthFormField *self)
{
  g_return_val_if_fail (HEARTH_IS_FORM_FIELD (self), NULL);
  return self->type_error != NULL ? self->type_error : self->message;
}

void
hearth_form_field_set_type_error (HearthFormField *self, const char *message)
{
  g_return_if_fail (HEARTH_IS_FORM_FIELD (self));

  g_free (self->type_error);
  self->type_error = message != NULL && message[0] != '\0' ? g_strdup (message) : NULL;
  if (self->type_error != NULL)
    {
      g_free (self->value);
      self->value = g_strdup ("");
    }
  show_message (self);
}

gboolean
hearth_form_field_has_type_error (HearthFormField *self)
{
  g_return_val_if_fail (HEARTH_IS_FORM_FIELD (self), FALSE);
  return self->type_error != NULL;
}

const char *
hearth_form_field_get_preedit (HearthFormField *self)
{
  g_return_val_if_fail (HEARTH_IS_FORM_FIELD (self), "");
  return self->preedit != NULL ? self->preedit : "";
}

GtkWidget *
hearth_form_field_get_input (HearthFormField *self)
{
  g_return_val_if_fail (HEARTH_IS_FORM_FIELD (self), NULL);
  return self->input;
}

GtkCalendar *
hearth_form_field_get_calendar (HearthFormField *self)
{
  g_return_val_if_fail (HEARTH_IS_FORM_FIELD (self), NULL);
  return self->calendar;
}

GtkWidget *
hearth_form_field_get_choice (HearthFormField *self, const char *value)
{
  g_return_val_if_fail (HEARTH_IS_FORM_FIELD (self), NULL);

  for (guint i = 0; i < self->choice_values->len; i++)
    if (g_strcmp0 (self->choice_values->pdata[i], value) == 0)
      return gtk_widget_get_ancestor (self->checks->pdata[i], GTK_TYPE_LIST_BOX_ROW);
  return NULL;
}

void
hearth_form_field_focus (HearthFormField *self)
{
  g_return_if_fail (HEARTH_IS_FORM_FIELD (self));

  if (self->checks->len > 0)
    gtk_widget_grab_focus (gtk_widget_get_ancestor (self->checks->pdata[0], GTK_TYPE_LIST_BOX_ROW));
  else if (self->input != NULL)
    gtk_widget_grab_focus (self->input);
}

static void
hearth_form_field_dispose (GObject *object)
{
  HearthFormField *self = HEARTH_FORM_FIELD (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), HEARTH_TYPE_FORM_FIELD);
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self)); child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);
  self->input = NULL;
  self->text = NULL;
  G_OBJECT_CLASS (hearth_form_field_parent_class)->dispose (object);
}

static void
hearth_form_field_finalize (GObject *object)
{
  HearthFormField *self = HEARTH_FORM_FIELD (object);

  g_free (self->path);
  g_free (self->type);
  g_free (self->appearance);
  g_free (self->value);
  g_free (self->label);
  g_free (self->preedit);
  g_free (self->message);
  g_free (self->type_error);
  g_ptr_array_unref (self->checks);
  g_ptr_array_unref (self->choice_values);
  g_ptr_array_unref (self->choice_labels);
  G_OBJECT_CLASS (hearth_form_field_parent_class)->finalize (object);
}

static void
hearth_form_field_class_init (HearthFormFieldClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearth_form_field_dispose;
  object_class->finalize = hearth_form_field_finalize;

  /**
   * HearthFormField::answer:
   * @value: the answer as the instance stores it ("" blank; the names of
   *   the choices, space-separated, for a select)
   *
   * The input changed: text committed (typed, pasted, or what an input
   * method composed), a choice tapped, a date picked.
   */
  signals[SIGNAL_ANSWER] = g_signal_new ("answer", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                         G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * HearthFormField::left:
   *
   * The focus left a text input: time to say what is wrong with it.
   */
  signals[SIGNAL_LEFT] = g_signal_new ("left", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                       G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-form-field.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthFormField, title_label);
  gtk_widget_class_bind_template_child (widget_class, HearthFormField, required_label);
  gtk_widget_class_bind_template_child (widget_class, HearthFormField, hint_label);
  gtk_widget_class_bind_template_child (widget_class, HearthFormField, input_bin);
  gtk_widget_class_bind_template_child (widget_class, HearthFormField, value_label);
  gtk_widget_class_bind_template_child (widget_class, HearthFormField, message_box);
  gtk_widget_class_bind_template_child (widget_class, HearthFormField, message_label);
}

static void
hearth_form_field_init (HearthFormField *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->checks = g_ptr_array_new ();
  self->choice_values = g_ptr_array_new_with_free_func (g_free);
  self->choice_labels = g_ptr_array_new_with_free_func (g_free);
  self->preedit = g_strdup ("");
}

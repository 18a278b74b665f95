/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-refused-row.c: one refused change on the sync page (hearth-refused-row.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-refused-row.h"
#include "case-labels.h"

#include <glib/gi18n.h>

struct _HearthRefusedRow {
  GtkWidget parent_instance;
  GtkLabel *household_label;
  GtkLabel *what_label;
  GtkLabel *reason_label;
  GtkLabel *center_label;
  GtkLabel *when_label;
};

G_DEFINE_FINAL_TYPE (HearthRefusedRow, hearth_refused_row, GTK_TYPE_WIDGET)

static void
hearth_refused_row_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), HEARTH_TYPE_REFUSED_ROW);
  G_OBJECT_CLASS (hearth_refused_row_parent_class)->dispose (object);
}

static void
hearth_refused_row_class_init (HearthRefusedRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearth_refused_row_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-refused-row.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthRefusedRow, household_label);
  gtk_widget_class_bind_template_child (widget_class, HearthRefusedRow, what_label);
  gtk_widget_class_bind_template_child (widget_class, HearthRefusedRow, reason_label);
  gtk_widget_class_bind_template_child (widget_class, HearthRefusedRow, center_label);
  gtk_widget_class_bind_template_child (widget_class, HearthRefusedRow, when_label);
}

static void
hearth_refused_row_init (HearthRefusedRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
hearth_refused_row_new (const HearthSyncRefusedChange *change)
{
  HearthRefusedRow *self = g_object_new (HEARTH_TYPE_REFUSED_ROW, NULL);
  g_autofree char *household = NULL;
  g_autofree char *what = NULL;
  g_autofree char *moment = NULL;
  g_autofree char *when = NULL;
  g_autofree char *why = NULL;
  g_autofree char *said = NULL;

  g_return_val_if_fail (change != NULL, NULL);

  household = hearth_label_household (change->head_name, change->registry_no);
  what = hearth_label_change (change->table, (const char *const *) change->fields, change->created,
                              change->member_name);
  why = hearth_label_refusal (change->message, change->household_id, household);
  moment = hearth_label_moment (change->at);
  /* TRANSLATORS: when the county center refused a change: a date and time */
  when = g_strdup_printf (_("Refused %s"), moment);
  gtk_label_set_text (self->household_label, household);
  gtk_label_set_text (self->what_label, what);
  /* TRANSLATORS: the county center's own words for a refusal, in the
   * center's language, under what it means for the worker */
  said = g_strdup_printf (_("The county center said: %s"), why);
  gtk_label_set_text (self->reason_label, hearth_label_refusal_code (change->code));
  gtk_label_set_text (self->center_label, said);
  gtk_label_set_text (self->when_label, when);
  return GTK_WIDGET (self);
}

const char *
hearth_refused_row_get_text (HearthRefusedRow *self, guint which)
{
  GtkLabel *labels[] = { self->household_label, self->what_label, self->reason_label, self->when_label,
                         self->center_label };

  g_return_val_if_fail (HEARTH_IS_REFUSED_ROW (self), NULL);
  g_return_val_if_fail (which < G_N_ELEMENTS (labels), NULL);
  return gtk_label_get_text (labels[which]);
}

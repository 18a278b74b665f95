/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-household-list-row.c: one line of the household list (hearth-household-list-row.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-household-list-row.h"
#include "case-labels.h"

#include <glib/gi18n.h>
#include <string.h>

struct _HearthHouseholdListRow {
  GtkWidget parent_instance;
  GtkLabel *name_label;
  GtkLabel *risk_badge;
  GtkLabel *detail_label;
  GtkLabel *status_label;
  HearthHouseholdItem *item;
};

G_DEFINE_FINAL_TYPE (HearthHouseholdListRow, hearth_household_list_row, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_ITEM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const risk_classes[] = { "hearth-risk-red", "hearth-risk-orange", "hearth-risk-yellow" };

static void
update (HearthHouseholdListRow *self)
{
  HearthHouseholdItem *item = self->item;
  const char *risk = item != NULL ? hearth_household_item_get_risk_level (item) : "none";
  const char *status = item != NULL ? hearth_household_item_get_monitoring_status (item) : "none";
  g_autofree char *tail = NULL;
  g_autofree char *members = NULL;
  g_autofree char *detail = NULL;
  gboolean has_risk = g_strcmp0 (risk, "none") != 0 && risk[0] != '\0';

  /* Only a badge whose level changes changes its style class: removing
   * and adding the same class would restyle every row on every keystroke. */
  for (guint i = 0; i < G_N_ELEMENTS (risk_classes); i++)
    {
      gboolean wanted = has_risk && g_str_equal (risk_classes[i] + strlen ("hearth-risk-"), risk);

      if (wanted != gtk_widget_has_css_class (GTK_WIDGET (self->risk_badge), risk_classes[i]))
        {
          if (wanted)
            gtk_widget_add_css_class (GTK_WIDGET (self->risk_badge), risk_classes[i]);
          else
            gtk_widget_remove_css_class (GTK_WIDGET (self->risk_badge), risk_classes[i]);
        }
    }
  if (item == NULL)
    {
      gtk_label_set_text (self->name_label, "");
      gtk_label_set_text (self->detail_label, "");
      gtk_widget_set_visible (GTK_WIDGET (self->risk_badge), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->status_label), FALSE);
      return;
    }

  gtk_label_set_text (self->name_label, hearth_household_item_get_head_name (item));
  gtk_widget_set_visible (GTK_WIDGET (self->risk_badge), has_risk);
  if (has_risk)
    gtk_label_set_text (self->risk_badge, hearth_label_risk_level (risk));

  tail = hearth_label_id_tail (hearth_household_item_get_head_id_number (item));
  members = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d member", "%d members",
                                          (gulong) hearth_household_item_get_member_count (item)),
                             (int) hearth_household_item_get_member_count (item));
  /* TRANSLATORS: a household on the list: its address (or its village),
   * how many members, and the end of the head's ID number (e.g. "…0038") */
  detail = g_strdup_printf (_("%s · %s · ID %s"), hearth_household_item_get_place (item), members, tail);
  gtk_label_set_text (self->detail_label, detail);
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), g_strcmp0 (status, "none") != 0);
  gtk_label_set_text (self->status_label, hearth_label_status (status));
}

static void
hearth_household_list_row_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_ITEM:
      g_value_set_object (value, HEARTH_HOUSEHOLD_LIST_ROW (object)->item);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hearth_household_list_row_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_ITEM:
      hearth_household_list_row_set_item (HEARTH_HOUSEHOLD_LIST_ROW (object), g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hearth_household_list_row_dispose (GObject *object)
{
  HearthHouseholdListRow *self = HEARTH_HOUSEHOLD_LIST_ROW (object);

  if (self->item != NULL)
    g_signal_handlers_disconnect_by_func (self->item, update, self);
  g_clear_object (&self->item);
  gtk_widget_dispose_template (GTK_WIDGET (self), HEARTH_TYPE_HOUSEHOLD_LIST_ROW);
  /* Children of the template the class does not bind stay otherwise. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self)); child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (hearth_household_list_row_parent_class)->dispose (object);
}

static void
hearth_household_list_row_class_init (HearthHouseholdListRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = hearth_household_list_row_get_property;
  object_class->set_property = hearth_household_list_row_set_property;
  object_class->dispose = hearth_household_list_row_dispose;

  properties[PROP_ITEM] =
    g_param_spec_object ("item", NULL, NULL, HEARTH_TYPE_HOUSEHOLD_ITEM,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-household-list-row.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdListRow, name_label);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdListRow, risk_badge);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdListRow, detail_label);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdListRow, status_label);
}

static void
hearth_household_list_row_init (HearthHouseholdListRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update (self);
}

void
hearth_household_list_row_set_item (HearthHouseholdListRow *self, HearthHouseholdItem *item)
{
  g_return_if_fail (HEARTH_IS_HOUSEHOLD_LIST_ROW (self));

  if (self->item == item)
    return;
  if (self->item != NULL)
    g_signal_handlers_disconnect_by_func (self->item, update, self);
  g_set_object (&self->item, item);
  /* The model gives its items other households as searches change. */
  if (item != NULL)
    g_signal_connect_swapped (item, "notify::id", G_CALLBACK (update), self);
  update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITEM]);
}

HearthHouseholdItem *
hearth_household_list_row_get_item (HearthHouseholdListRow *self)
{
  g_return_val_if_fail (HEARTH_IS_HOUSEHOLD_LIST_ROW (self), NULL);
  return self->item;
}

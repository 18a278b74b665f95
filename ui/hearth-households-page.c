/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-households-page.c: the household list and one household (hearth-households-page.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-households-page.h"
#include "hearth-household-item.h"
#include "hearth-household-page.h"
#include "hearth-household-list-row.h"

#include <glib/gi18n.h>

struct _HearthHouseholdsPage {
  GtkWidget parent_instance;
  AdwLeaflet *leaflet;
  GtkSearchEntry *search_entry;
  GtkLabel *count_label;
  GtkStack *list_stack;
  GtkListView *list_view;
  AdwStatusPage *list_empty_page;
  AdwBin *household_bin;
  HearthHouseholdPage *household_page;
  HearthHouseholdModel *model;
  GtkSingleSelection *selection;
  HearthSession *session;
  char *query;                /* the text of the rows shown */
  GPtrArray *spare_rows;      /* HearthHouseholdListRow, unparented, for the next rows */
};

/* Row widgets kept when the list no longer shows them: a search that finds
 * a few households and the next that finds a screenful would otherwise
 * make each row anew from its template (GTK 4.8's list view makes a
 * widget per new list item and destroys it with the item), which costs a
 * keystroke more than laying the rows out. A screenful and some more. */
#define SPARE_ROWS_MAX 40

G_DEFINE_FINAL_TYPE (HearthHouseholdsPage, hearth_households_page, GTK_TYPE_WIDGET)

static void
row_setup (GtkSignalListItemFactory *factory, GtkListItem *list_item, HearthHouseholdsPage *self)
{
  g_autoptr(GtkWidget) row = NULL;

  if (self->spare_rows->len > 0)
    row = g_ptr_array_steal_index_fast (self->spare_rows, self->spare_rows->len - 1);
  else
    row = g_object_ref_sink (g_object_new (HEARTH_TYPE_HOUSEHOLD_LIST_ROW, NULL));
  gtk_list_item_set_child (list_item, row);
}

static void
row_bind (GtkSignalListItemFactory *factory, GtkListItem *list_item, HearthHouseholdsPage *self)
{
  hearth_household_list_row_set_item (HEARTH_HOUSEHOLD_LIST_ROW (gtk_list_item_get_child (list_item)),
                                      gtk_list_item_get_item (list_item));
}

static void
row_unbind (GtkSignalListItemFactory *factory, GtkListItem *list_item, HearthHouseholdsPage *self)
{
  hearth_household_list_row_set_item (HEARTH_HOUSEHOLD_LIST_ROW (gtk_list_item_get_child (list_item)), NULL);
}

static void
row_teardown (GtkSignalListItemFactory *factory, GtkListItem *list_item, HearthHouseholdsPage *self)
{
  GtkWidget *row = gtk_list_item_get_child (list_item);

  if (row != NULL && self->spare_rows != NULL && self->spare_rows->len < SPARE_ROWS_MAX)
    {
      hearth_household_list_row_set_item (HEARTH_HOUSEHOLD_LIST_ROW (row), NULL);
      g_ptr_array_add (self->spare_rows, g_object_ref (row));
    }
  gtk_list_item_set_child (list_item, NULL);
}

static void
update_count (HearthHouseholdsPage *self, const GError *error)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->model));
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  g_autofree char *count = NULL;

  if (error != NULL)
    {
      adw_status_page_set_title (self->list_empty_page, _("This search cannot be done"));
      adw_status_page_set_description (self->list_empty_page, error->message);
      gtk_stack_set_visible_child_name (self->list_stack, "empty");
      gtk_label_set_text (self->count_label, "");
      return;
    }
  if (n == 0)
    {
      g_autofree char *title = NULL;

      if (text[0] != '\0')
        {
          title = g_strdup_printf (_("No household matches “%s”"), text);
          adw_status_page_set_description (self->list_empty_page,
                                           _("Check the name, or type the last 4 digits of an ID number."));
        }
      else
        {
          title = g_strdup (_("No households on this tablet yet"));
          adw_status_page_set_description (self->list_empty_page,
                                           _("The households of your villages arrive when the tablet is enrolled "
                                             "with the county center and syncs."));
        }
      adw_status_page_set_title (self->list_empty_page, title);
      gtk_stack_set_visible_child_name (self->list_stack, "empty");
      gtk_label_set_text (self->count_label, "");
      return;
    }
  gtk_stack_set_visible_child_name (self->list_stack, "list");
  if (hearth_household_model_get_has_more (self->model))
    count = text[0] != '\0' ? g_strdup (_("Many households match: type more to narrow the list."))
                            : g_strdup (_("All households, by village and name."));
  else
    count = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u household", "%u households", n), n);
  gtk_label_set_text (self->count_label, count);
}

static void
run_query (HearthHouseholdsPage *self)
{
  g_autoptr(GError) error = NULL;

  /* A new search starts at the top of its list, nothing chosen (the
   * model's items now show other households). */
  gtk_adjustment_set_value (gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->list_view)), 0);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  g_free (self->query);
  self->query = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
  hearth_household_model_set_query (self->model, self->query, NULL, NULL, NULL, &error);
  update_count (self, error);
}

/* Scrolled within two screens of the end: the next page. */
static void
scrolled (GtkAdjustment *adjustment, HearthHouseholdsPage *self)
{
  double left = gtk_adjustment_get_upper (adjustment) - gtk_adjustment_get_value (adjustment) -
                gtk_adjustment_get_page_size (adjustment);

  if (left < 2 * gtk_adjustment_get_page_size (adjustment))
    hearth_household_model_want_more (self->model);
}

static void
search_changed (HearthHouseholdsPage *self)
{
  /* The search field announces a change also when its text is set to
   * what it was. */
  if (g_strcmp0 (self->query, gtk_editable_get_text (GTK_EDITABLE (self->search_entry))) != 0)
    run_query (self);
}

static void
model_grew (HearthHouseholdsPage *self)
{
  update_count (self, NULL);
}

void
hearth_households_page_open (HearthHouseholdsPage *self, const char *household_id)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (HEARTH_IS_HOUSEHOLDS_PAGE (self));

  if (!hearth_household_page_show (self->household_page, household_id, &error))
    g_debug ("Household %s cannot be shown: %s", household_id, error->message);
  adw_leaflet_set_visible_child_name (self->leaflet, "household");
}

static void
row_activated (HearthHouseholdsPage *self, guint position)
{
  g_autoptr(HearthHouseholdItem) item = g_list_model_get_item (G_LIST_MODEL (self->model), position);

  if (item == NULL)
    return;
  gtk_single_selection_set_selected (self->selection, position);
  hearth_households_page_open (self, hearth_household_item_get_id (item));
}

/* Enter on the search field opens the first household found. */
static void
search_activated (HearthHouseholdsPage *self)
{
  if (g_list_model_get_n_items (G_LIST_MODEL (self->model)) > 0)
    row_activated (self, 0);
}

static void
folded_changed (HearthHouseholdsPage *self)
{
  hearth_household_page_set_show_back (self->household_page, adw_leaflet_get_folded (self->leaflet));
}

static void
back_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  HearthHouseholdsPage *self = HEARTH_HOUSEHOLDS_PAGE (widget);

  adw_leaflet_set_visible_child_name (self->leaflet, "list");
}

static void
session_changed (HearthSession *session, HearthHouseholdsPage *self)
{
  run_query (self);
}

static void
hearth_households_page_dispose (GObject *object)
{
  HearthHouseholdsPage *self = HEARTH_HOUSEHOLDS_PAGE (object);

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), HEARTH_TYPE_HOUSEHOLDS_PAGE);
  /* Children of the template the class does not bind stay otherwise. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self)); child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);
  g_clear_object (&self->selection);
  g_clear_object (&self->model);
  g_clear_object (&self->session);
  g_clear_pointer (&self->query, g_free);
  g_clear_pointer (&self->spare_rows, g_ptr_array_unref);
  G_OBJECT_CLASS (hearth_households_page_parent_class)->dispose (object);
}

static void
hearth_households_page_class_init (HearthHouseholdsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearth_households_page_dispose;

  g_type_ensure (HEARTH_TYPE_HOUSEHOLD_LIST_ROW);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-households-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdsPage, leaflet);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdsPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdsPage, count_label);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdsPage, list_stack);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdsPage, list_view);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdsPage, list_empty_page);
  gtk_widget_class_bind_template_child (widget_class, HearthHouseholdsPage, household_bin);
  gtk_widget_class_bind_template_callback (widget_class, search_changed);
  gtk_widget_class_bind_template_callback (widget_class, search_activated);
  gtk_widget_class_bind_template_callback (widget_class, row_activated);
  gtk_widget_class_bind_template_callback (widget_class, folded_changed);
  gtk_widget_class_install_action (widget_class, "households.back", NULL, back_action);
}

static void
hearth_households_page_init (HearthHouseholdsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->spare_rows = g_ptr_array_new_with_free_func (g_object_unref);
}

HearthHouseholdsPage *
hearth_households_page_new (HearthSession *session)
{
  HearthHouseholdsPage *self = g_object_new (HEARTH_TYPE_HOUSEHOLDS_PAGE, NULL);
  g_autoptr(GtkListItemFactory) factory = NULL;

  g_return_val_if_fail (HEARTH_IS_SESSION (session), NULL);

  self->session = g_object_ref (session);
  self->model = hearth_household_model_new (session);
  self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->model)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (row_setup), self);
  g_signal_connect (factory, "bind", G_CALLBACK (row_bind), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (row_unbind), self);
  g_signal_connect (factory, "teardown", G_CALLBACK (row_teardown), self);
  gtk_list_view_set_factory (self->list_view, factory);
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (self->selection));
  g_signal_connect_swapped (self->model, "notify::n-items", G_CALLBACK (model_grew), self);
  g_signal_connect_object (gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->list_view)), "value-changed",
                           G_CALLBACK (scrolled), self, 0);

  self->household_page = hearth_household_page_new (session);
  adw_bin_set_child (self->household_bin, GTK_WIDGET (self->household_page));
  hearth_household_page_show (self->household_page, NULL, NULL);
  folded_changed (self);

  g_signal_connect (session, "changed", G_CALLBACK (session_changed), self);
  run_query (self);
  return self;
}

void
hearth_households_page_focus_search (HearthHouseholdsPage *self)
{
  g_return_if_fail (HEARTH_IS_HOUSEHOLDS_PAGE (self));
  adw_leaflet_set_visible_child_name (self->leaflet, "list");
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

HearthHouseholdModel *
hearth_households_page_get_model (HearthHouseholdsPage *self)
{
  g_return_val_if_fail (HEARTH_IS_HOUSEHOLDS_PAGE (self), NULL);
  return self->model;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-county-page.c: the county staff's overview (hearth-county-page.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-county-page.h"
#include "case-divisions.h"
#include "case-labels.h"
#include "hearth-risk-chart.h"

#include <glib/gi18n.h>

struct _HearthCountyPage {
  GtkWidget parent_instance;
  GtkScrolledWindow *scroller;
  GtkLabel *total_label;
  HearthRiskChart *chart;
  AdwPreferencesGroup *levels_group;
  AdwPreferencesGroup *states_group;
  AdwPreferencesGroup *townships_group;

  HearthSession *session;
  HearthCaseSummary *summary;
  GPtrArray *added;        /* (group, widget) pairs */
};

G_DEFINE_FINAL_TYPE (HearthCountyPage, hearth_county_page, GTK_TYPE_WIDGET)

static const char *const risk_classes[] = { "hearth-risk-red", "hearth-risk-orange", "hearth-risk-yellow",
                                            "hearth-risk-none" };

static GtkWidget *
count_label (guint n)
{
  g_autofree char *text = g_strdup_printf ("%u", n);
  GtkWidget *label = gtk_label_new (text);

  gtk_widget_set_valign (label, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (label, "title-4");
  gtk_widget_add_css_class (label, "numeric");
  return label;
}

static AdwActionRow *
add_count_row (HearthCountyPage *self, AdwPreferencesGroup *group, const char *title, guint n)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), count_label (n));
  adw_preferences_group_add (group, row);
  g_ptr_array_add (self->added, group);
  g_ptr_array_add (self->added, row);
  return ADW_ACTION_ROW (row);
}

/* A group's counts in words: households and each risk level. */
static char *
group_words (const HearthSummaryGroup *g)
{
  /* TRANSLATORS: a township's or a village's counts: households, then
   * red, orange, yellow and no risk */
  return g_strdup_printf (g_dngettext (NULL, "%u household · red %u · orange %u · yellow %u · no risk %u",
                                       "%u households · red %u · orange %u · yellow %u · no risk %u", g->households),
                          g->households, g->by_level[HEARTH_SUMMARY_RED], g->by_level[HEARTH_SUMMARY_ORANGE],
                          g->by_level[HEARTH_SUMMARY_YELLOW], g->by_level[HEARTH_SUMMARY_NONE]);
}

static void
add_township (HearthCountyPage *self, const HearthSummaryGroup *t)
{
  GtkWidget *expander = adw_expander_row_new ();
  g_autofree char *name = hearth_division_name (hearth_session_get_store (self->session), t->code);
  /* TRANSLATORS: a township in the county's counts: its name, then its division code */
  g_autofree char *title = name != NULL ? g_strdup_printf (_("%s (%s)"), name, t->code)
                                        : g_strdup_printf (_("Township %s"), t->code);
  g_autofree char *subtitle = group_words (t);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (expander), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (expander), title);
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (expander), subtitle);
  for (guint i = 0; i < self->summary->villages->len; i++)
    {
      const HearthSummaryGroup *v = self->summary->villages->pdata[i];
      g_autofree char *vtitle = NULL;
      g_autofree char *vname = NULL;
      g_autofree char *vsub = NULL;
      g_autofree char *states = NULL;
      g_autoptr(GString) s = g_string_new (NULL);
      GtkWidget *row;

      if (!g_str_has_prefix (v->code, t->code))
        continue;
      vname = hearth_division_name (hearth_session_get_store (self->session), v->code);
      if (vname != NULL)
        /* TRANSLATORS: a village in the county's counts: its name, then its division code */
        vtitle = g_strdup_printf (_("%s (%s)"), vname, v->code);
      else
        /* TRANSLATORS: a village in the county's counts, by its division code */
        vtitle = g_strdup_printf (_("Village %s"), v->code);
      for (guint k = 0; k < HEARTH_SUMMARY_N_STATES; k++)
        if (v->by_state[k] > 0)
          g_string_append_printf (s, "%s%s %u", s->len > 0 ? " · " : "",
                                  hearth_label_status (hearth_summary_state_name (k)), v->by_state[k]);
      states = group_words (v);
      vsub = g_strdup_printf ("%s\n%s", states, s->str);
      row = adw_action_row_new ();
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), vtitle);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), vsub);
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
      adw_expander_row_add_row (ADW_EXPANDER_ROW (expander), row);
    }
  adw_preferences_group_add (self->townships_group, expander);
  g_ptr_array_add (self->added, self->townships_group);
  g_ptr_array_add (self->added, expander);
}

void
hearth_county_page_reload (HearthCountyPage *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *total = NULL;

  g_return_if_fail (HEARTH_IS_COUNTY_PAGE (self));

  for (guint i = 0; i + 1 < self->added->len; i += 2)
    adw_preferences_group_remove (self->added->pdata[i], self->added->pdata[i + 1]);
  g_ptr_array_set_size (self->added, 0);
  g_clear_pointer (&self->summary, hearth_case_summary_free);
  self->summary = hearth_case_summary_read (hearth_session_get_db (self->session), NULL, &error);
  if (self->summary == NULL)
    {
      g_warning ("The county's counts cannot be read: %s", error->message);
      gtk_label_set_text (self->total_label, _("The counts cannot be read from this tablet's store."));
      hearth_risk_chart_set_summary (self->chart, NULL, NULL);
      return;
    }
  /* TRANSLATORS: the county overview's heading */
  total = g_strdup_printf (g_dngettext (NULL, "%u household synchronised into this tablet",
                                        "%u households synchronised into this tablet", self->summary->total.households),
                           self->summary->total.households);
  gtk_label_set_text (self->total_label, total);
  hearth_risk_chart_set_summary (self->chart, self->summary, hearth_session_get_store (self->session));
  for (guint i = 0; i < HEARTH_SUMMARY_N_LEVELS; i++)
    {
      AdwActionRow *row = add_count_row (self, self->levels_group,
                                         hearth_label_risk_level (hearth_summary_level_name (i)),
                                         self->summary->total.by_level[i]);
      GtkWidget *swatch = gtk_label_new (NULL);

      /* The chart's colour beside the level's name. */
      gtk_widget_set_size_request (swatch, 16, 16);
      gtk_widget_set_valign (swatch, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (swatch, "hearth-risk");
      gtk_widget_add_css_class (swatch, risk_classes[i]);
      adw_action_row_add_prefix (row, swatch);
    }
  for (guint i = 0; i < HEARTH_SUMMARY_N_STATES; i++)
    add_count_row (self, self->states_group, hearth_label_status (hearth_summary_state_name (i)),
                   self->summary->total.by_state[i]);
  for (guint i = 0; i < self->summary->townships->len; i++)
    add_township (self, self->summary->townships->pdata[i]);
  gtk_widget_set_visible (GTK_WIDGET (self->townships_group), self->summary->townships->len > 0);
}

static void
hearth_county_page_dispose (GObject *object)
{
  HearthCountyPage *self = HEARTH_COUNTY_PAGE (object);

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  g_clear_pointer (&self->summary, hearth_case_summary_free);
  g_clear_pointer (&self->added, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), HEARTH_TYPE_COUNTY_PAGE);
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self)); child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (hearth_county_page_parent_class)->dispose (object);
}

static void
hearth_county_page_class_init (HearthCountyPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearth_county_page_dispose;

  g_type_ensure (HEARTH_TYPE_RISK_CHART);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-county-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthCountyPage, scroller);
  gtk_widget_class_bind_template_child (widget_class, HearthCountyPage, total_label);
  gtk_widget_class_bind_template_child (widget_class, HearthCountyPage, chart);
  gtk_widget_class_bind_template_child (widget_class, HearthCountyPage, levels_group);
  gtk_widget_class_bind_template_child (widget_class, HearthCountyPage, states_group);
  gtk_widget_class_bind_template_child (widget_class, HearthCountyPage, townships_group);
}

static void
hearth_county_page_init (HearthCountyPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->added = g_ptr_array_new ();
}

HearthCountyPage *
hearth_county_page_new (HearthSession *session)
{
  HearthCountyPage *self = g_object_new (HEARTH_TYPE_COUNTY_PAGE, NULL);

  g_return_val_if_fail (HEARTH_IS_SESSION (session), NULL);

  self->session = g_object_ref (session);
  /* A sync that brings records, a decision made here: counted again. */
  g_signal_connect_swapped (session, "changed", G_CALLBACK (hearth_county_page_reload), self);
  hearth_county_page_reload (self);
  return self;
}

const HearthCaseSummary *
hearth_county_page_get_summary (HearthCountyPage *self)
{
  g_return_val_if_fail (HEARTH_IS_COUNTY_PAGE (self), NULL);
  return self->summary;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-risk-chart.c: risk levels by township (hearth-risk-chart.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-risk-chart.h"
#include "case-labels.h"
#include "case-divisions.h"

#include <glib/gi18n.h>
#include <string.h>

typedef struct {
  char *label;             /* the township's name, else its code in words */
  guint by_level[HEARTH_SUMMARY_N_LEVELS];
  guint total;
} Bar;

struct _HearthRiskChart {
  GtkWidget parent_instance;
  GArray *bars;            /* (element-type Bar) */
  char *description;
};

G_DEFINE_FINAL_TYPE (HearthRiskChart, hearth_risk_chart, GTK_TYPE_WIDGET)

/* The colours of the risk badges (style.css). */
static const GdkRGBA level_colours[HEARTH_SUMMARY_N_LEVELS] = {
  { 0.753f, 0.110f, 0.157f, 1.0f }, /* #c01c28 */
  { 0.902f, 0.380f, 0.0f, 1.0f },   /* #e66100 */
  { 0.965f, 0.827f, 0.176f, 1.0f }, /* #f6d32d */
  { 0.604f, 0.600f, 0.588f, 1.0f }, /* #9a9996 */
};

#define PAD 12
#define ROW 44
#define BAR 28
#define SWATCH 16
#define LEGEND 32

static void
bar_clear (Bar *b)
{
  g_free (b->label);
}

static PangoLayout *
layout (HearthRiskChart *self, const char *text, gboolean bold)
{
  PangoLayout *l = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);

  if (bold)
    {
      PangoAttrList *attrs = pango_attr_list_new ();

      pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
      pango_layout_set_attributes (l, attrs);
      pango_attr_list_unref (attrs);
    }
  return l;
}

/* The township's published name, else its code in words. */
static char *
township_words (HearthStore *store, const char *code)
{
  g_autofree char *name = store != NULL ? hearth_division_name (store, code) : NULL;

  if (name != NULL)
    return g_steal_pointer (&name);
  /* TRANSLATORS: a township in the chart, by its division code */
  return g_strdup_printf (_("Township %s"), code);
}

static void
draw_text (GtkSnapshot *snapshot, PangoLayout *l, float x, float y, const GdkRGBA *colour)
{
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x, y));
  gtk_snapshot_append_layout (snapshot, l, colour);
  gtk_snapshot_restore (snapshot);
}

static void
hearth_risk_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  HearthRiskChart *self = HEARTH_RISK_CHART (widget);
  int width = gtk_widget_get_width (widget);
  GdkRGBA fg;
  float x = PAD, label_w = 0, count_w = 0, bar_x, bar_w;
  guint max = 1;

  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);

  /* The legend: a swatch and the level's name each. */
  for (guint i = 0; i < HEARTH_SUMMARY_N_LEVELS; i++)
    {
      g_autoptr(PangoLayout) l = layout (self, hearth_label_risk_level (hearth_summary_level_name (i)), FALSE);
      int w, h;

      pango_layout_get_pixel_size (l, &w, &h);
      gtk_snapshot_append_color (snapshot, &level_colours[i],
                                 &GRAPHENE_RECT_INIT (x, (LEGEND - SWATCH) / 2.0f, SWATCH, SWATCH));
      draw_text (snapshot, l, x + SWATCH + 6, (LEGEND - h) / 2.0f, &fg);
      x += SWATCH + 6 + w + 18;
    }

  if (self->bars->len == 0)
    return;
  for (guint i = 0; i < self->bars->len; i++)
    {
      Bar *b = &g_array_index (self->bars, Bar, i);
      const char *name = b->label;
      g_autofree char *n = g_strdup_printf ("%u", b->total);
      g_autoptr(PangoLayout) l = layout (self, name, FALSE);
      g_autoptr(PangoLayout) c = layout (self, n, TRUE);
      int w, h;

      pango_layout_get_pixel_size (l, &w, &h);
      label_w = MAX (label_w, w);
      pango_layout_get_pixel_size (c, &w, &h);
      count_w = MAX (count_w, w);
      max = MAX (max, b->total);
    }
  bar_x = PAD + label_w + 12;
  bar_w = MAX (40.0f, width - bar_x - count_w - 12 - PAD);
  for (guint i = 0; i < self->bars->len; i++)
    {
      Bar *b = &g_array_index (self->bars, Bar, i);
      float y = LEGEND + PAD + i * ROW;
      const char *name = b->label;
      g_autofree char *n = g_strdup_printf ("%u", b->total);
      g_autoptr(PangoLayout) l = layout (self, name, FALSE);
      g_autoptr(PangoLayout) c = layout (self, n, TRUE);
      float at = bar_x;
      int w, h;

      pango_layout_get_pixel_size (l, &w, &h);
      draw_text (snapshot, l, PAD, y + (BAR - h) / 2.0f, &fg);
      /* The bar's segments, worst first, each as long as its share of the
       * largest township. */
      for (guint k = 0; k < HEARTH_SUMMARY_N_LEVELS; k++)
        {
          float len = bar_w * b->by_level[k] / (float) max;

          if (len <= 0)
            continue;
          gtk_snapshot_append_color (snapshot, &level_colours[k], &GRAPHENE_RECT_INIT (at, y, len, BAR));
          at += len;
        }
      pango_layout_get_pixel_size (c, &w, &h);
      draw_text (snapshot, c, at + 8, y + (BAR - h) / 2.0f, &fg);
    }
}

static void
hearth_risk_chart_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum, int *natural,
                           int *minimum_baseline, int *natural_baseline)
{
  HearthRiskChart *self = HEARTH_RISK_CHART (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 280;
      *natural = 600;
    }
  else
    *minimum = *natural = LEGEND + PAD + (int) self->bars->len * ROW + PAD;
}

static void
hearth_risk_chart_finalize (GObject *object)
{
  HearthRiskChart *self = HEARTH_RISK_CHART (object);

  g_array_unref (self->bars);
  g_free (self->description);
  G_OBJECT_CLASS (hearth_risk_chart_parent_class)->finalize (object);
}

static void
hearth_risk_chart_class_init (HearthRiskChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = hearth_risk_chart_finalize;
  widget_class->snapshot = hearth_risk_chart_snapshot;
  widget_class->measure = hearth_risk_chart_measure;
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
hearth_risk_chart_init (HearthRiskChart *self)
{
  self->bars = g_array_new (FALSE, TRUE, sizeof (Bar));
  g_array_set_clear_func (self->bars, (GDestroyNotify) bar_clear);
  self->description = g_strdup ("");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Risk levels by township"), -1);
}

GtkWidget *
hearth_risk_chart_new (void)
{
  return g_object_new (HEARTH_TYPE_RISK_CHART, NULL);
}

void
hearth_risk_chart_set_summary (HearthRiskChart *self, const HearthCaseSummary *summary, HearthStore *store)
{
  g_autoptr(GString) words = g_string_new (NULL);

  g_return_if_fail (HEARTH_IS_RISK_CHART (self));

  g_array_set_size (self->bars, 0);
  for (guint i = 0; summary != NULL && i < summary->townships->len; i++)
    {
      const HearthSummaryGroup *g = summary->townships->pdata[i];
      g_autofree char *name = township_words (store, g->code);
      Bar b = { g_strdup (name), { 0 }, g->households };

      memcpy (b.by_level, g->by_level, sizeof b.by_level);
      g_array_append_val (self->bars, b);
      /* TRANSLATORS: a township's bar in words: the township, its
       * households, then the counts of red, orange, yellow and no risk */
      g_string_append_printf (words, _("%s: %u households, %u red, %u orange, %u yellow, %u without risk. "), name,
                              g->households, g->by_level[HEARTH_SUMMARY_RED], g->by_level[HEARTH_SUMMARY_ORANGE],
                              g->by_level[HEARTH_SUMMARY_YELLOW], g->by_level[HEARTH_SUMMARY_NONE]);
    }
  if (words->len == 0)
    g_string_append (words, _("No household has been synchronised yet."));
  g_free (self->description);
  self->description = g_strdup (g_strchomp (words->str));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, self->description, -1);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

const char *
hearth_risk_chart_get_description (HearthRiskChart *self)
{
  g_return_val_if_fail (HEARTH_IS_RISK_CHART (self), NULL);
  return self->description;
}

guint
hearth_risk_chart_get_n_bars (HearthRiskChart *self)
{
  g_return_val_if_fail (HEARTH_IS_RISK_CHART (self), 0);
  return self->bars->len;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-notice-page.c: the village's public notice (hearth-notice-page.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-notice-page.h"
#include "case-labels.h"
#include "hearth-window.h"
#include "batch.h"
#include "case-divisions.h"
#include "case-notice.h"

#include <glib/gi18n.h>
#include <string.h>

struct _HearthNoticePage {
  GtkWidget parent_instance;
  GtkScrolledWindow *scroller;
  GtkDropDown *village_drop;
  GtkButton *save_button;
  AdwPreferencesGroup *notice_group;
  GtkLabel *empty_label;

  HearthSession *session;
  GStrv villages;
  GPtrArray *rows;         /* (element-type HearthNoticeRow) */
  GPtrArray *added;        /* widgets added to notice_group */
  GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE (HearthNoticePage, hearth_notice_page, GTK_TYPE_WIDGET)

static void
toast (HearthNoticePage *self, const char *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (HEARTH_IS_WINDOW (root))
    hearth_window_toast (HEARTH_WINDOW (root), message);
}

/* A decision's date, or a dash. */
static char *
day (const char *date)
{
  return date != NULL && date[0] != '\0' ? hearth_label_date (date) : g_strdup ("—");
}

static void
add_household (HearthNoticePage *self, const HearthNoticeRow *r)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *state = gtk_label_new (hearth_label_status (r->monitoring_status));
  g_autofree char *risks = hearth_label_codes (r->risk_types, hearth_label_risk_type);
  g_autofree char *measures = hearth_label_codes (r->measures, hearth_label_measure);
  g_autofree char *reviewed = day (r->reviewed_on);
  g_autofree char *approved = day (r->approved_on);
  g_autofree char *people = g_strdup_printf (g_dngettext (NULL, "%d person", "%d people", (gulong) r->member_count),
                                             (int) r->member_count);
  g_autofree char *subtitle = NULL;

  /* TRANSLATORS: a household on the public notice: its size and
   * category; its risks; its measures; the dates of the village review
   * and of the county's approval */
  subtitle = g_strdup_printf (_("%s · %s\nRisks: %s\nMeasures: %s\nVillage review %s · County approval %s"), people,
                              r->category[0] != '\0' ? hearth_label_category (r->category) : _("category not set"),
                              risks[0] != '\0' ? risks : "—", measures[0] != '\0' ? measures : "—", reviewed, approved);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), r->head_name);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  gtk_widget_set_valign (state, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (state, "dim-label");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), state);
  adw_preferences_group_add (self->notice_group, row);
  g_ptr_array_add (self->added, row);
}

static void
reload (HearthNoticePage *self)
{
  const char *village = hearth_notice_page_get_village (self);
  g_autoptr(GError) error = NULL;
  g_autofree char *title = NULL;
  g_autofree char *name = NULL;

  for (guint i = 0; i < self->added->len; i++)
    adw_preferences_group_remove (self->notice_group, self->added->pdata[i]);
  g_ptr_array_set_size (self->added, 0);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  if (village != NULL)
    {
      self->rows = hearth_case_notice (hearth_session_get_db (self->session), village, &error);
      if (self->rows == NULL)
        g_warning ("The notice of village %s cannot be read: %s", village, error->message);
    }
  for (guint i = 0; self->rows != NULL && i < self->rows->len; i++)
    add_household (self, self->rows->pdata[i]);
  name = village != NULL ? hearth_division_name (hearth_session_get_store (self->session), village) : NULL;
  if (name != NULL)
    /* TRANSLATORS: the notice's heading: the village's name, then its code */
    title = g_strdup_printf (_("Public notice of %s (%s)"), name, village);
  else
    /* TRANSLATORS: the notice's heading: the village's code */
    title = g_strdup_printf (_("Public notice of village %s"), village != NULL ? village : "—");
  adw_preferences_group_set_title (self->notice_group, title);
  adw_preferences_group_set_description (self->notice_group,
                                         _("The households that passed the village review: post it in the village "
                                           "for at least 5 days."));
  gtk_widget_set_visible (GTK_WIDGET (self->empty_label), self->rows == NULL || self->rows->len == 0);
  gtk_widget_set_sensitive (GTK_WIDGET (self->save_button), self->rows != NULL && self->rows->len > 0);
}

static int
compare_codes (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* "新立村 (150422100202)", or the code when no published list names it. */
static char *
village_label (HearthNoticePage *self, const char *code)
{
  g_autofree char *name = hearth_division_name (hearth_session_get_store (self->session), code);

  return name != NULL ? g_strdup_printf ("%s (%s)", name, code) : g_strdup (code);
}

/* The villages of the user's scope: those it names, and those of the
 * store under a township's or the county's code. */
static void
read_villages (HearthNoticePage *self)
{
  const HearthIdentity *id = hearth_session_get_identity (self->session);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) held = hearth_case_notice_villages (hearth_session_get_db (self->session), &error);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_autoptr(GPtrArray) seen = g_ptr_array_new ();
  g_autoptr(GtkStringList) list = NULL;

  if (held == NULL)
    g_warning ("The villages cannot be read: %s", error->message);
  for (guint i = 0; id->scope != NULL && id->scope[i] != NULL; i++)
    if (strlen (id->scope[i]) == 12 && !g_ptr_array_find_with_equal_func (seen, id->scope[i], g_str_equal, NULL))
      g_ptr_array_add (seen, id->scope[i]);
  for (guint i = 0; held != NULL && held[i] != NULL; i++)
    for (guint k = 0; id->scope != NULL && id->scope[k] != NULL; k++)
      if (g_str_has_prefix (held[i], id->scope[k]) &&
          !g_ptr_array_find_with_equal_func (seen, held[i], g_str_equal, NULL))
        g_ptr_array_add (seen, held[i]);
  g_ptr_array_sort (seen, compare_codes);
  for (guint i = 0; i < seen->len; i++)
    g_strv_builder_add (b, seen->pdata[i]);
  g_strfreev (self->villages);
  self->villages = g_strv_builder_end (b);
  /* The picker shows each village's published name, else its code. */
  list = gtk_string_list_new (NULL);
  for (guint i = 0; self->villages[i] != NULL; i++)
    {
      g_autofree char *label = village_label (self, self->villages[i]);

      gtk_string_list_append (list, label);
    }
  gtk_drop_down_set_model (self->village_drop, G_LIST_MODEL (list));
}

gboolean
hearth_notice_page_set_village (HearthNoticePage *self, const char *village_code)
{
  g_return_val_if_fail (HEARTH_IS_NOTICE_PAGE (self), FALSE);

  for (guint i = 0; self->villages[i] != NULL; i++)
    if (g_str_equal (self->villages[i], village_code))
      {
        gtk_drop_down_set_selected (self->village_drop, i);
        reload (self);
        return TRUE;
      }
  return FALSE;
}

const char *
hearth_notice_page_get_village (HearthNoticePage *self)
{
  guint i;

  g_return_val_if_fail (HEARTH_IS_NOTICE_PAGE (self), NULL);
  i = gtk_drop_down_get_selected (self->village_drop);
  return self->villages != NULL && i < g_strv_length (self->villages) ? self->villages[i] : NULL;
}

guint
hearth_notice_page_get_count (HearthNoticePage *self)
{
  g_return_val_if_fail (HEARTH_IS_NOTICE_PAGE (self), 0);
  return self->rows != NULL ? self->rows->len : 0;
}

static void
csv_line (GString *out, const char *const *values, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      hearth_batch_csv_field (out, values[i] != NULL ? values[i] : "");
    }
  g_string_append (out, "\r\n");
}

gboolean
hearth_notice_page_save (HearthNoticePage *self, GFile *file, GError **error)
{
  g_autoptr(GString) out = g_string_new ("\xef\xbb\xbf");
  g_autofree char *title = NULL;
  const char *village;
  const char *head[] = {
    _("No."), _("Head of household"), _("Household size"), _("Monitoring category"), _("Risks"),
    _("Assistance measures"), _("State"), _("Village review"), _("County approval"),
  };

  g_return_val_if_fail (HEARTH_IS_NOTICE_PAGE (self), FALSE);

  village = hearth_notice_page_get_village (self);
  title = g_strdup_printf (_("Public notice of village %s"), village != NULL ? village : "—");
  csv_line (out, (const char *const *) &title, 1);
  csv_line (out, head, G_N_ELEMENTS (head));
  for (guint i = 0; self->rows != NULL && i < self->rows->len; i++)
    {
      const HearthNoticeRow *r = self->rows->pdata[i];
      g_autofree char *no = g_strdup_printf ("%u", i + 1);
      g_autofree char *size = g_strdup_printf ("%" G_GINT64_FORMAT, r->member_count);
      g_autofree char *risks = hearth_label_codes (r->risk_types, hearth_label_risk_type);
      g_autofree char *measures = hearth_label_codes (r->measures, hearth_label_measure);
      const char *values[] = {
        no, r->head_name, size, hearth_label_category (r->category), risks, measures,
        hearth_label_status (r->monitoring_status), r->reviewed_on, r->approved_on,
      };

      csv_line (out, values, G_N_ELEMENTS (values));
    }
  return g_file_replace_contents (file, out->str, out->len, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION, NULL,
                                  NULL, error);
}

static void
chooser_response (GtkNativeDialog *dialog, int response, HearthNoticePage *self)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_clear_object (&self->chooser);
  if (file == NULL)
    return;
  if (!hearth_notice_page_save (self, file, &error))
    {
      g_autofree char *text = g_strdup_printf (_("The notice could not be saved: %s"), error->message);
      toast (self, text);
      return;
    }
  toast (self, _("The notice was saved."));
}

static void
save_clicked (HearthNoticePage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autofree char *name = NULL;

  if (self->chooser != NULL)
    return;
  /* GTK 4.8 has no GtkFileDialog (4.10): the native chooser, through the
   * portal where there is one. */
  self->chooser = gtk_file_chooser_native_new (_("Save the public notice"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root)
                                                                                                 : NULL,
                                               GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  /* TRANSLATORS: the file name offered for a notice: the village's code */
  name = g_strdup_printf (_("notice-%s.csv"), hearth_notice_page_get_village (self));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), name);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
village_picked (GtkDropDown *drop, GParamSpec *pspec, HearthNoticePage *self)
{
  reload (self);
}

static void
session_changed (HearthSession *session, HearthNoticePage *self)
{
  g_autofree char *shown = g_strdup (hearth_notice_page_get_village (self));

  g_signal_handlers_block_by_func (self->village_drop, village_picked, self);
  read_villages (self);
  if (shown == NULL || !hearth_notice_page_set_village (self, shown))
    gtk_drop_down_set_selected (self->village_drop, 0);
  g_signal_handlers_unblock_by_func (self->village_drop, village_picked, self);
  reload (self);
}

static void
hearth_notice_page_dispose (GObject *object)
{
  HearthNoticePage *self = HEARTH_NOTICE_PAGE (object);

  if (self->chooser != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->chooser, self);
      gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
      g_clear_object (&self->chooser);
    }
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_pointer (&self->added, g_ptr_array_unref);
  g_clear_pointer (&self->villages, g_strfreev);
  gtk_widget_dispose_template (GTK_WIDGET (self), HEARTH_TYPE_NOTICE_PAGE);
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self)); child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (hearth_notice_page_parent_class)->dispose (object);
}

static void
hearth_notice_page_class_init (HearthNoticePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearth_notice_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-notice-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthNoticePage, scroller);
  gtk_widget_class_bind_template_child (widget_class, HearthNoticePage, village_drop);
  gtk_widget_class_bind_template_child (widget_class, HearthNoticePage, save_button);
  gtk_widget_class_bind_template_child (widget_class, HearthNoticePage, notice_group);
  gtk_widget_class_bind_template_child (widget_class, HearthNoticePage, empty_label);
  gtk_widget_class_bind_template_callback (widget_class, save_clicked);
}

static void
hearth_notice_page_init (HearthNoticePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->added = g_ptr_array_new ();
}

HearthNoticePage *
hearth_notice_page_new (HearthSession *session)
{
  HearthNoticePage *self = g_object_new (HEARTH_TYPE_NOTICE_PAGE, NULL);

  g_return_val_if_fail (HEARTH_IS_SESSION (session), NULL);

  self->session = g_object_ref (session);
  session_changed (session, self);
  g_signal_connect (self->village_drop, "notify::selected", G_CALLBACK (village_picked), self);
  g_signal_connect (session, "changed", G_CALLBACK (session_changed), self);
  return self;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-sync-page.c: how the tablet's sync stands (hearth-sync-page.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-sync-page.h"
#include "case-labels.h"
#include "hearth-refused-row.h"
#include "hearth-window.h"
#include "client.h"

#include <glib/gi18n.h>

struct _HearthSyncPage {
  GtkWidget parent_instance;
  GtkImage *state_icon;
  GtkLabel *state_label;
  GtkLabel *detail_label;
  GtkLabel *error_label;
  GtkLabel *clock_label;
  GtkButton *sync_button;
  GtkButton *enrol_again_button;
  GtkSpinner *spinner;
  AdwActionRow *pending_row;
  AdwActionRow *last_row;
  AdwActionRow *next_row;
  AdwActionRow *refused_row;
  AdwActionRow *rejected_row;
  AdwActionRow *center_row;
  AdwPreferencesGroup *refused_group;
  GtkListBox *refused_list;
  HearthSyncer *syncer;
  gint64 shown_refused;   /* the count the list was read at; -1: never read */
  guint shown_runs;
};

/* The refused changes the page lists, the newest: a worker redoes a few;
 * the count above says how many there are in all. */
#define SHOWN_REFUSED 50

G_DEFINE_FINAL_TYPE (HearthSyncPage, hearth_sync_page, GTK_TYPE_WIDGET)

static char *
moment_of_ms (gint64 ms)
{
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc (ms / 1000);
  g_autofree char *iso = g_date_time_format_iso8601 (t);

  return hearth_label_moment (iso);
}

static void
set_row (AdwActionRow *row, const char *text)
{
  adw_action_row_set_subtitle (row, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (row), text != NULL && text[0] != '\0');
}

/* Lists the changes the center refused (read again only when their count
 * or the runs changed: the page updates at every step of a sync). */
static void
update_refused (HearthSyncPage *self, const HearthSyncStatus *st)
{
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  guint runs = hearth_syncer_get_runs (self->syncer);
  GtkWidget *child;

  if (st->refused == self->shown_refused && runs == self->shown_runs)
    return;
  self->shown_refused = st->refused;
  self->shown_runs = runs;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->refused_list))) != NULL)
    gtk_list_box_remove (self->refused_list, child);
  if (st->refused > 0)
    {
      list = hearth_syncer_list_refused (self->syncer, SHOWN_REFUSED, &error);
      if (list == NULL)
        g_warning ("The refused changes cannot be read: %s", error->message);
    }
  for (guint i = 0; list != NULL && i < list->len; i++)
    gtk_list_box_append (self->refused_list, hearth_refused_row_new (list->pdata[i]));
  gtk_widget_set_visible (GTK_WIDGET (self->refused_group), list != NULL && list->len > 0);
}

static void
update (HearthSyncPage *self)
{
  HearthSyncer *s = self->syncer;
  const HearthSyncStatus *st = hearth_syncer_get_status (s);
  const GError *error = hearth_syncer_get_error (s);
  gboolean running = hearth_syncer_get_running (s);
  gint64 clock_off = hearth_syncer_get_clock_off_ms (s);
  g_autofree char *detail = NULL;
  g_autofree char *pending = NULL;
  g_autofree char *last = NULL;
  g_autofree char *next = NULL;
  g_autofree char *owned_title = NULL;
  const char *title, *icon;

  if (!hearth_syncer_get_enrolled (s))
    {
      title = _("Not enrolled");
      icon = "network-offline-symbolic";
      detail = g_strdup (_("This tablet syncs once it is enrolled with the county center: enrol it from the menu."));
    }
  else if (running)
    {
      title = _("Syncing…");
      icon = "emblem-synchronizing-symbolic";
      detail = g_strdup (_("Sending this tablet's changes to the county center and receiving the county's."));
    }
  else if (hearth_syncer_get_synced (s))
    {
      title = _("Synced");
      icon = "emblem-ok-symbolic";
      /* The headline says it too: "Synced" alone read as all well. */
      if (st->refused > 0)
        {
          owned_title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Synced, %u change refused",
                                                      "Synced, %u changes refused", (gulong) st->refused),
                                         (guint) MIN (st->refused, G_MAXUINT));
          title = owned_title;
          icon = "dialog-warning-symbolic";
        }
      if (st->refused > 0)
        detail = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                               "Everything recorded on this tablet reached the county center, "
                                               "but it refused %u change: see below.",
                                               "Everything recorded on this tablet reached the county center, "
                                               "but it refused %u changes: see below.",
                                               (gulong) st->refused),
                                  (guint) MIN (st->refused, G_MAXUINT));
      else
        detail = g_strdup (_("Everything recorded on this tablet reached the county center."));
    }
  else
    {
      title = _("Not synced");
      icon = "dialog-warning-symbolic";
      if (st->pending > 0)
        detail = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                               "%u change recorded on this tablet has not reached the county center yet. It is "
                                               "kept safe here until it does.",
                                               "%u changes recorded on this tablet have not reached the county center yet. "
                                               "They are kept safe here until they do.",
                                               (gulong) st->pending),
                                  (guint) MIN (st->pending, G_MAXUINT));
      else
        detail = g_strdup (_("What the county center sent has not all arrived yet."));
      if (hearth_syncer_get_offline (s))
        {
          g_autofree char *more = g_strdup_printf ("%s %s", detail,
                                                   _("There is no network here: the tablet syncs by itself when "
                                                     "the network is back."));
          g_free (detail);
          detail = g_steal_pointer (&more);
        }
    }
  gtk_label_set_text (self->state_label, title);
  gtk_label_set_text (self->detail_label, detail);
  gtk_image_set_from_icon_name (self->state_icon, icon);

  if (error != NULL && !running)
    {
      g_autofree char *text = hearth_syncer_describe_error (error);
      gtk_label_set_text (self->error_label, text);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), error != NULL && !running);

  if (clock_off != 0)
    {
      gint64 minutes = (ABS (clock_off) + 30000) / 60000;
      /* The center's clock minus the tablet's: positive, the tablet is behind. */
      g_autofree char *text = g_strdup_printf (clock_off > 0
                                               ? g_dngettext (GETTEXT_PACKAGE,
                                                              "This tablet's clock is %u minute behind "
                                                              "the county center's. Set the date and time in the "
                                                              "tablet's settings: the times it records are wrong "
                                                              "meanwhile.",
                                                              "This tablet's clock is %u minutes behind "
                                                              "the county center's. Set the date and time in the "
                                                              "tablet's settings: the times it records are wrong "
                                                              "meanwhile.",
                                                              (gulong) minutes)
                                               : g_dngettext (GETTEXT_PACKAGE,
                                                              "This tablet's clock is %u minute ahead "
                                                              "of the county center's. Set the date and time in the "
                                                              "tablet's settings: the times it records are wrong "
                                                              "meanwhile.",
                                                              "This tablet's clock is %u minutes ahead "
                                                              "of the county center's. Set the date and time in the "
                                                              "tablet's settings: the times it records are wrong "
                                                              "meanwhile.",
                                                              (gulong) minutes),
                                               (guint) MIN (minutes, G_MAXUINT));
      gtk_label_set_text (self->clock_label, text);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->clock_label), clock_off != 0);

  pending = g_strdup_printf ("%" G_GINT64_FORMAT, st->pending);
  set_row (self->pending_row, pending);
  last = st->last_sync_ms > 0 ? moment_of_ms (st->last_sync_ms) : g_strdup (_("Never"));
  set_row (self->last_row, last);
  if (hearth_syncer_get_next_run (s) > 0 && !running)
    next = moment_of_ms (hearth_syncer_get_next_run (s) / 1000);
  else if (hearth_syncer_get_offline (s) && !running && hearth_syncer_get_enrolled (s))
    next = g_strdup (_("When the network is back"));
  set_row (self->next_row, next);
  {
    g_autofree char *refused = st->refused > 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, st->refused) : NULL;
    g_autofree char *rejected = st->rejected > 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, st->rejected) : NULL;
    set_row (self->refused_row, refused);
    set_row (self->rejected_row, rejected);
  }
  update_refused (self, st);
  set_row (self->center_row, hearth_syncer_get_center (s));

  gtk_widget_set_sensitive (GTK_WIDGET (self->sync_button), hearth_syncer_get_enrolled (s) && !running);
  /* A center restored from a backup older than this tablet's enrolment
   * does not know it: it enrols again, keeping its store. */
  gtk_widget_set_visible (GTK_WIDGET (self->enrol_again_button),
                          !running && g_error_matches (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNKNOWN_DEVICE));
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), running);
  gtk_spinner_set_spinning (self->spinner, running);
}

static void
sync_clicked (HearthSyncPage *self)
{
  hearth_syncer_sync_now (self->syncer);
}

static void
enrol_again_clicked (HearthSyncPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (HEARTH_IS_WINDOW (root))
    hearth_window_show_enrol (HEARTH_WINDOW (root));
}

static void
hearth_sync_page_dispose (GObject *object)
{
  HearthSyncPage *self = HEARTH_SYNC_PAGE (object);

  if (self->syncer != NULL)
    g_signal_handlers_disconnect_by_data (self->syncer, self);
  g_clear_object (&self->syncer);
  gtk_widget_dispose_template (GTK_WIDGET (self), HEARTH_TYPE_SYNC_PAGE);
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self)); child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (hearth_sync_page_parent_class)->dispose (object);
}

static void
hearth_sync_page_class_init (HearthSyncPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearth_sync_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-sync-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthSyncPage, state_icon);
  gtk_widget_class_bind_template_child (widget_class, HearthSyncPage, state_label);
  gtk_widget_class_bind_template_child (widget_class, HearthSyncPage, detail_label);
  gtk_widget_class_bind_template_child (widget_class, HearthSyncPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, HearthSyncPage, clock_label);
  gtk_widget_class_bind_template_child (widget_class, HearthSyncPage, sync_button);
  gtk_widget_class_bind_template_child (widget_class, HearthSyncPage, enrol_again_button);
  gtk_widget_class_bind_template_child (widget_class, HearthSyncPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, HearthSyncPage, pending_row);
  gtk_widget_class_bind_template_child (widget_class, HearthSyncPage, last_row);
  gtk_widget_class_bind_template_child (widget_class, HearthSyncPage, next_row);
  gtk_widget_class_bind_template_child (widget_class, HearthSyncPage, refused_row);
  gtk_widget_class_bind_template_child (widget_class, HearthSyncPage, rejected_row);
  gtk_widget_class_bind_template_child (widget_class, HearthSyncPage, center_row);
  gtk_widget_class_bind_template_child (widget_class, HearthSyncPage, refused_group);
  gtk_widget_class_bind_template_child (widget_class, HearthSyncPage, refused_list);
  gtk_widget_class_bind_template_callback (widget_class, sync_clicked);
  gtk_widget_class_bind_template_callback (widget_class, enrol_again_clicked);
}

static void
hearth_sync_page_init (HearthSyncPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->shown_refused = -1;
}

HearthSyncPage *
hearth_sync_page_new (HearthSession *session)
{
  HearthSyncPage *self = g_object_new (HEARTH_TYPE_SYNC_PAGE, NULL);

  g_return_val_if_fail (HEARTH_IS_SESSION (session), NULL);

  self->syncer = g_object_ref (hearth_session_get_syncer (session));
  g_signal_connect_swapped (self->syncer, "changed", G_CALLBACK (update), self);
  update (self);
  return self;
}

GtkListBox *
hearth_sync_page_get_refused_list (HearthSyncPage *self)
{
  g_return_val_if_fail (HEARTH_IS_SYNC_PAGE (self), NULL);
  return self->refused_list;
}

HearthSyncer *
hearth_sync_page_get_syncer (HearthSyncPage *self)
{
  g_return_val_if_fail (HEARTH_IS_SYNC_PAGE (self), NULL);
  return self->syncer;
}

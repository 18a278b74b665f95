/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-worker-view.c: the screens of an unlocked tablet (hearth-worker-view.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-worker-view.h"
#include "hearth-county-page.h"
#include "hearth-export-page.h"
#include "hearth-notice-page.h"
#include "hearth-review-page.h"
#include "hearth-sync-page.h"

#include <glib/gi18n.h>

struct _HearthWorkerView {
  GtkWidget parent_instance;
  AdwHeaderBar *header_bar;
  AdwViewSwitcherTitle *switcher_title;
  AdwViewStack *view_stack;
  AdwBin *today_bin;
  AdwBin *households_bin;
  AdwBin *sync_bin;
  AdwViewStackPage *sync_stack_page;
  AdwViewSwitcherBar *switcher_bar;
  HearthTodayPage *today_page;
  HearthHouseholdsPage *households_page;
  HearthSyncPage *sync_page;
  HearthReviewPage *review_page;
  AdwViewStackPage *review_stack_page;
  HearthSession *session;
  guint reveal_source;
  /* The tabs not on the first screen are made after it is drawn. */
  GdkFrameClock *clock;
  gulong after_paint_handler;
  HearthSyncer *syncer;     /* the session's, for the Sync tab's badge */
  guint later_source;
};

G_DEFINE_FINAL_TYPE (HearthWorkerView, hearth_worker_view, GTK_TYPE_WIDGET)

/* Below this window width the tabs go to the bottom, within reach of the
 * thumb of the hand that holds the tablet (libadwaita 1.2 has no
 * breakpoints: the window's size is watched). */
#define NARROW_WIDTH 720

static void
window_resized (GtkWindow *window, GParamSpec *pspec, HearthWorkerView *self)
{
  int width = 0, height = 0;
  gboolean narrow;

  /* GTK 4.8 writes both sizes, optional or not. */
  gtk_window_get_default_size (window, &width, &height);
  narrow = width > 0 && width < NARROW_WIDTH;
  adw_view_switcher_title_set_view_switcher_enabled (self->switcher_title, !narrow);
  adw_view_switcher_bar_set_reveal (self->switcher_bar,
                                    narrow || adw_view_switcher_title_get_title_visible (self->switcher_title));
}

/* The tabs in the header do not fit (the clerk's and the county's have
 * more): they go to the bottom bar rather than nowhere. */
static gboolean
reveal_bar (gpointer data)
{
  HearthWorkerView *self = data;

  self->reveal_source = 0;
  adw_view_switcher_bar_set_reveal (self->switcher_bar,
                                    !adw_view_switcher_title_get_view_switcher_enabled (self->switcher_title) ||
                                      adw_view_switcher_title_get_title_visible (self->switcher_title));
  return G_SOURCE_REMOVE;
}

/* Told during a size allocation: the bar changes after it. */
static void
title_visible_changed (HearthWorkerView *self)
{
  if (self->reveal_source == 0)
    self->reveal_source = g_idle_add (reveal_bar, self);
}

static void
hearth_worker_view_root (GtkWidget *widget)
{
  HearthWorkerView *self = HEARTH_WORKER_VIEW (widget);
  GtkRoot *root;

  GTK_WIDGET_CLASS (hearth_worker_view_parent_class)->root (widget);
  root = gtk_widget_get_root (widget);
  if (GTK_IS_WINDOW (root))
    {
      g_signal_connect_object (root, "notify::default-width", G_CALLBACK (window_resized), self, 0);
      window_resized (GTK_WINDOW (root), NULL, self);
    }
}

static void
hearth_worker_view_unroot (GtkWidget *widget)
{
  GtkRoot *root = gtk_widget_get_root (widget);

  if (root != NULL)
    g_signal_handlers_disconnect_by_func (root, window_resized, widget);
  GTK_WIDGET_CLASS (hearth_worker_view_parent_class)->unroot (widget);
}

static void
stop_waiting_for_paint (HearthWorkerView *self)
{
  if (self->clock != NULL)
    g_clear_signal_handler (&self->after_paint_handler, self->clock);
  g_clear_object (&self->clock);
}

/* The Households and Sync tabs: made when first needed, or once the first
 * screen is drawn: unlocking shows the first screen sooner without them
 * (their widgets, the list's first page, the household page and the sync
 * status are made, and laid out, after it). */
static void
make_later_pages (HearthWorkerView *self)
{
  if (self->households_page != NULL)
    return;
  stop_waiting_for_paint (self);
  g_clear_handle_id (&self->later_source, g_source_remove);
  self->households_page = hearth_households_page_new (self->session);
  adw_bin_set_child (self->households_bin, GTK_WIDGET (self->households_page));
  self->sync_page = hearth_sync_page_new (self->session);
  adw_bin_set_child (self->sync_bin, GTK_WIDGET (self->sync_page));
}

static gboolean
make_later_pages_idle (gpointer data)
{
  HearthWorkerView *self = data;

  self->later_source = 0;
  make_later_pages (self);
  return G_SOURCE_REMOVE;
}

static void
first_screen_painted (GdkFrameClock *clock, HearthWorkerView *self)
{
  stop_waiting_for_paint (self);
  if (self->households_page == NULL && self->later_source == 0)
    self->later_source = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, make_later_pages_idle, self, NULL);
}

static void
hearth_worker_view_map (GtkWidget *widget)
{
  HearthWorkerView *self = HEARTH_WORKER_VIEW (widget);

  GTK_WIDGET_CLASS (hearth_worker_view_parent_class)->map (widget);
  if (self->households_page == NULL && self->clock == NULL && self->later_source == 0)
    {
      self->clock = gtk_widget_get_frame_clock (widget);
      if (self->clock != NULL)
        {
          g_object_ref (self->clock);
          self->after_paint_handler = g_signal_connect (self->clock, "after-paint", G_CALLBACK (first_screen_painted),
                                                        self);
        }
      else
        self->later_source = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, make_later_pages_idle, self, NULL);
    }
}

static void
visible_page_changed (HearthWorkerView *self)
{
  const char *name = adw_view_stack_get_visible_child_name (self->view_stack);

  if (g_strcmp0 (name, "households") == 0 || g_strcmp0 (name, "sync") == 0)
    make_later_pages (self);
}

void
hearth_worker_view_show_household (HearthWorkerView *self, const char *household_id)
{
  g_return_if_fail (HEARTH_IS_WORKER_VIEW (self));

  adw_view_stack_set_visible_child_name (self->view_stack, "households");
  make_later_pages (self);
  hearth_households_page_open (self->households_page, household_id);
}

static void
show_household_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  hearth_worker_view_show_household (HEARTH_WORKER_VIEW (widget), g_variant_get_string (parameter, NULL));
}

static void
search_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  HearthWorkerView *self = HEARTH_WORKER_VIEW (widget);

  adw_view_stack_set_visible_child_name (self->view_stack, "households");
  make_later_pages (self);
  hearth_households_page_focus_search (self->households_page);
}

/* The Sync tab asks for attention while the tablet is not synced, with
 * the number of changes waiting. */
static void
sync_changed (HearthWorkerView *self)
{
  HearthSyncer *syncer = self->syncer;
  const HearthSyncStatus *st = hearth_syncer_get_status (syncer);

  adw_view_stack_page_set_needs_attention (self->sync_stack_page, hearth_syncer_get_enrolled (syncer) &&
                                                                    !hearth_syncer_get_synced (syncer) &&
                                                                    !hearth_syncer_get_running (syncer));
  adw_view_stack_page_set_badge_number (self->sync_stack_page, (guint) CLAMP (st->pending, 0, G_MAXUINT));
}

/* The Review tab shows how many cases wait, and asks for attention. */
static void
review_changed (HearthWorkerView *self)
{
  guint conflicts = 0;
  guint cases = hearth_review_page_get_counts (self->review_page, &conflicts);

  adw_view_stack_page_set_badge_number (self->review_stack_page, cases + conflicts);
  adw_view_stack_page_set_needs_attention (self->review_stack_page, cases + conflicts > 0);
}

static void
hearth_worker_view_dispose (GObject *object)
{
  HearthWorkerView *self = HEARTH_WORKER_VIEW (object);

  g_clear_handle_id (&self->reveal_source, g_source_remove);
  g_clear_handle_id (&self->later_source, g_source_remove);
  stop_waiting_for_paint (self);
  if (self->syncer != NULL)
    g_signal_handlers_disconnect_by_data (self->syncer, self);
  g_clear_object (&self->syncer);
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);

  gtk_widget_dispose_template (GTK_WIDGET (self), HEARTH_TYPE_WORKER_VIEW);
  /* Children of the template the class does not bind stay otherwise. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self)); child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (hearth_worker_view_parent_class)->dispose (object);
}

static void
hearth_worker_view_class_init (HearthWorkerViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearth_worker_view_dispose;
  widget_class->root = hearth_worker_view_root;
  widget_class->map = hearth_worker_view_map;
  widget_class->unroot = hearth_worker_view_unroot;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-worker-view.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthWorkerView, header_bar);
  gtk_widget_class_bind_template_child (widget_class, HearthWorkerView, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, HearthWorkerView, view_stack);
  gtk_widget_class_bind_template_child (widget_class, HearthWorkerView, today_bin);
  gtk_widget_class_bind_template_child (widget_class, HearthWorkerView, households_bin);
  gtk_widget_class_bind_template_child (widget_class, HearthWorkerView, sync_bin);
  gtk_widget_class_bind_template_child (widget_class, HearthWorkerView, sync_stack_page);
  gtk_widget_class_bind_template_child (widget_class, HearthWorkerView, switcher_bar);
  gtk_widget_class_install_action (widget_class, "worker.show-household", "s", show_household_action);
  gtk_widget_class_install_action (widget_class, "worker.search", NULL, search_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "worker.search", NULL);
}

static void
hearth_worker_view_init (HearthWorkerView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->switcher_title, "notify::title-visible", G_CALLBACK (title_visible_changed), self);
  g_signal_connect_swapped (self->view_stack, "notify::visible-child-name", G_CALLBACK (visible_page_changed), self);
}

/* The clerk's public notice; the county staff's overview and export, first for them. */
static void
add_role_pages (HearthWorkerView *self, HearthRole role)
{
  AdwViewStackPage *page;

  if (role == HEARTH_ROLE_CLERK)
    {
      page = adw_view_stack_add_titled (self->view_stack, GTK_WIDGET (hearth_notice_page_new (self->session)), "notice",
                                        _("Notice"));
      adw_view_stack_page_set_icon_name (page, "x-office-document-symbolic");
    }
  if (role == HEARTH_ROLE_COUNTY)
    {
      page = adw_view_stack_add_titled (self->view_stack, GTK_WIDGET (hearth_county_page_new (self->session)), "county",
                                        _("Overview"));
      adw_view_stack_page_set_icon_name (page, "x-office-spreadsheet-symbolic");
      page = adw_view_stack_add_titled (self->view_stack, GTK_WIDGET (hearth_export_page_new (self->session)), "export",
                                        _("Export"));
      adw_view_stack_page_set_icon_name (page, "document-send-symbolic");
      adw_view_stack_set_visible_child_name (self->view_stack, "county");
    }
}

HearthWorkerView *
hearth_worker_view_new (HearthSession *session)
{
  HearthWorkerView *self = g_object_new (HEARTH_TYPE_WORKER_VIEW, NULL);

  g_return_val_if_fail (HEARTH_IS_SESSION (session), NULL);

  self->session = g_object_ref (session);
  self->today_page = hearth_today_page_new (session);
  adw_bin_set_child (self->today_bin, GTK_WIDGET (self->today_page));
  self->syncer = g_object_ref (hearth_session_get_syncer (session));
  g_signal_connect_swapped (self->syncer, "changed", G_CALLBACK (sync_changed), self);
  sync_changed (self);
  /* The village clerk, the township and the county decide cases: their
   * review screen comes first for them. */
  if (hearth_session_get_identity (session)->role != HEARTH_ROLE_WORKER)
    {
      self->review_page = hearth_review_page_new (session);
      self->review_stack_page = adw_view_stack_add_titled (self->view_stack, GTK_WIDGET (self->review_page), "review",
                                                           _("Review"));
      adw_view_stack_page_set_icon_name (self->review_stack_page, "emblem-documents-symbolic");
      adw_view_stack_set_visible_child_name (self->view_stack, "review");
      /* After the page's own handler: its counts are new by then. */
      g_signal_connect_object (session, "changed", G_CALLBACK (review_changed), self,
                               G_CONNECT_SWAPPED | G_CONNECT_AFTER);
      review_changed (self);
    }
  add_role_pages (self, hearth_session_get_identity (session)->role);
  return self;
}

HearthTodayPage *
hearth_worker_view_get_today_page (HearthWorkerView *self)
{
  g_return_val_if_fail (HEARTH_IS_WORKER_VIEW (self), NULL);
  return self->today_page;
}

HearthReviewPage *
hearth_worker_view_get_review_page (HearthWorkerView *self)
{
  g_return_val_if_fail (HEARTH_IS_WORKER_VIEW (self), NULL);
  return self->review_page;
}

HearthSyncPage *
hearth_worker_view_get_sync_page (HearthWorkerView *self)
{
  g_return_val_if_fail (HEARTH_IS_WORKER_VIEW (self), NULL);
  make_later_pages (self);
  return self->sync_page;
}

HearthHouseholdsPage *
hearth_worker_view_get_households_page (HearthWorkerView *self)
{
  g_return_val_if_fail (HEARTH_IS_WORKER_VIEW (self), NULL);
  make_later_pages (self);
  return self->households_page;
}

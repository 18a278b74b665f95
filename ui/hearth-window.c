/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-window.c: the app's window (hearth-window.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-window.h"
#include "hearth-application.h"
#include "hearth-enrol-page.h"
#include "hearth-form-view.h"
#include "hearth-idle-lock.h"
#include "hearth-syncer.h"
#include "hearth-unlock-page.h"
#include "hearth-worker-view.h"
#include "case-drafts.h"

#include <glib/gi18n.h>

struct _HearthWindow {
  AdwApplicationWindow parent_instance;
  AdwToastOverlay *toast_overlay;
  GtkStack *stack;
  HearthUnlockPage *unlock_page;
  HearthEnrolPage *enrol_page;
  AdwBin *main_bin;
  AdwBin *form_bin;
  HearthIdleLock *idle_lock;
  char *resume_draft;       /* the draft on screen when the app locked */
  char *resume_dir;         /* the data folder it is in */
  HearthApplication *app;   /* not referenced: the app outlives its windows */
};

G_DEFINE_FINAL_TYPE (HearthWindow, hearth_window, ADW_TYPE_APPLICATION_WINDOW)

static void
show_screen (HearthWindow *self, const char *name)
{
  gtk_stack_set_visible_child_name (self->stack, name);
  if (g_str_equal (name, "unlock"))
    hearth_unlock_page_focus (self->unlock_page);
}

/* The county revoked the tablet: its store goes, as the protocol asks. */
static void
revoked (HearthSyncer *syncer, HearthWindow *self)
{
  g_autofree char *dir = g_strdup (hearth_application_get_data_dir (self->app));
  g_autoptr(GError) error = NULL;

  hearth_application_set_session (self->app, NULL);
  if (!hearth_store_wipe (dir, &error))
    g_warning ("The store of a revoked tablet could not be wholly deleted: %s", error->message);
  hearth_unlock_page_reset (self->unlock_page, dir);
  /* A toast is one line. */
  hearth_window_toast (self, _("The county revoked this tablet: its data were deleted."));
}

void
hearth_window_show_main (HearthWindow *self)
{
  HearthSession *session = hearth_application_get_session (self->app);

  g_return_if_fail (HEARTH_IS_WINDOW (self));
  g_return_if_fail (session != NULL);

  /* Every role browses households; the clerk's and the county's own
   * screens come beside these. */
  adw_bin_set_child (self->main_bin, GTK_WIDGET (hearth_worker_view_new (session)));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "window.enrol", !hearth_session_is_enrolled (session));
  show_screen (self, "main");
  /* Syncing starts with the screens (a run at once), in the background. */
  if (hearth_session_is_enrolled (session))
    {
      HearthSyncer *syncer = hearth_session_get_syncer (session);

      g_signal_handlers_disconnect_by_func (syncer, revoked, self);
      g_signal_connect_object (syncer, "revoked", G_CALLBACK (revoked), self, 0);
      hearth_syncer_start (syncer);
    }
}

void
hearth_window_show_enrol (HearthWindow *self)
{
  HearthSession *session = hearth_application_get_session (self->app);

  g_return_if_fail (HEARTH_IS_WINDOW (self));
  g_return_if_fail (session != NULL);

  hearth_enrol_page_set_session (self->enrol_page, session);
  show_screen (self, "enrol");
}

/* The form screen goes: back to the user's screens. */
static void
drop_form (HearthWindow *self)
{
  GtkWidget *view = adw_bin_get_child (self->form_bin);

  if (view != NULL)
    g_signal_handlers_disconnect_by_data (view, self);
  adw_bin_set_child (self->form_bin, NULL);
}

static void
form_closed (HearthFormView *view, gboolean saved, const char *household_id, const char *message, HearthWindow *self)
{
  GtkWidget *main_view = adw_bin_get_child (self->main_bin);

  drop_form (self);
  show_screen (self, "main");
  if (HEARTH_IS_WORKER_VIEW (main_view) && household_id != NULL)
    hearth_worker_view_show_household (HEARTH_WORKER_VIEW (main_view), household_id);
  if (message != NULL)
    hearth_window_toast (self, message);
}

static void
broken_draft_response (AdwMessageDialog *dialog, const char *response, HearthWindow *self)
{
  HearthSession *session = hearth_application_get_session (self->app);
  const char *draft_id = g_object_get_data (G_OBJECT (dialog), "hearth-draft");
  g_autoptr(GError) error = NULL;

  if (!g_str_equal (response, "discard") || session == NULL)
    return;
  if (!hearth_draft_delete (hearth_session_get_db (session), draft_id, &error))
    {
      g_autofree char *text = g_strdup_printf (_("The answers could not be discarded: %s"), error->message);

      hearth_window_toast (self, text);
      return;
    }
  hearth_session_changed (session);
  hearth_window_toast (self, _("The answers were discarded."));
}

/* A draft that cannot be opened (its household removed at the county,
 * its answers damaged, its form changed beyond continuing) would stay on
 * the lists, and the household's visit button would lead to it for good:
 * the user may discard it, or keep it in case the reason goes away. */
static void
offer_discard (HearthWindow *self, const char *draft_id, const GError *error)
{
  AdwMessageDialog *dialog;
  g_autofree char *body = g_strdup_printf (_("Why: %s.\n\nDiscard its answers to begin the form again, or keep them "
                                             "for county IT to look at."), error->message);

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), _("This unfinished form cannot be opened"),
                                                       body));
  adw_message_dialog_add_responses (dialog, "cancel", _("_Keep"), "discard", _("_Discard"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "discard", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "hearth-draft", g_strdup (draft_id), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (broken_draft_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

gboolean
hearth_window_open_form (HearthWindow *self, const char *form_id, const char *household_id, const char *draft_id)
{
  HearthSession *session = hearth_application_get_session (self->app);
  g_autoptr(GError) error = NULL;
  HearthFormView *view;

  g_return_val_if_fail (HEARTH_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (session != NULL, FALSE);

  view = hearth_form_view_open (session, form_id, household_id, draft_id, &error);
  if (view == NULL && draft_id != NULL)
    {
      g_message ("Draft %s cannot be opened: %s", draft_id, error->message);
      offer_discard (self, draft_id, error);
      return FALSE;
    }
  if (view == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The form cannot be opened: %s"), error->message);

      g_warning ("Form %s cannot be opened: %s", form_id != NULL ? form_id : "", error->message);
      hearth_window_toast (self, text);
      return FALSE;
    }
  drop_form (self);
  g_signal_connect (view, "closed", G_CALLBACK (form_closed), self);
  adw_bin_set_child (self->form_bin, GTK_WIDGET (view));
  show_screen (self, "form");
  return TRUE;
}

GtkWidget *
hearth_window_get_form_view (HearthWindow *self)
{
  g_return_val_if_fail (HEARTH_IS_WINDOW (self), NULL);
  return adw_bin_get_child (self->form_bin);
}

static void
open_form_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  const char *form_id, *household_id, *draft_id;

  g_variant_get (parameter, "(&s&s&s)", &form_id, &household_id, &draft_id);
  hearth_window_open_form (HEARTH_WINDOW (widget), form_id[0] != '\0' ? form_id : NULL,
                           household_id[0] != '\0' ? household_id : NULL, draft_id[0] != '\0' ? draft_id : NULL);
}

static void
session_changed (HearthApplication *app, GParamSpec *pspec, HearthWindow *self)
{
  HearthSession *session = hearth_application_get_session (app);

  if (session == NULL)
    {
      GtkWidget *view = adw_bin_get_child (self->form_bin);

      /* A form being filled is saved where it stands and comes back
       * after the unlock, on its page. */
      g_clear_pointer (&self->resume_draft, g_free);
      g_clear_pointer (&self->resume_dir, g_free);
      if (HEARTH_IS_FORM_VIEW (view) && g_strcmp0 (hearth_window_get_screen (self), "form") == 0)
        {
          hearth_form_view_flush (HEARTH_FORM_VIEW (view));
          if (hearth_form_view_get_draft_saved (HEARTH_FORM_VIEW (view)))
            {
              self->resume_draft = g_strdup (hearth_form_view_get_draft_id (HEARTH_FORM_VIEW (view)));
              self->resume_dir = g_strdup (hearth_application_get_data_dir (app));
            }
        }
      /* Nothing may keep the store open behind the unlock screen. */
      hearth_idle_lock_set_running (self->idle_lock, FALSE);
      drop_form (self);
      adw_bin_set_child (self->main_bin, NULL);
      hearth_enrol_page_set_session (self->enrol_page, NULL);
      hearth_unlock_page_reset (self->unlock_page, hearth_application_get_data_dir (app));
      show_screen (self, "unlock");
      return;
    }
  hearth_idle_lock_set_timeout_ms (self->idle_lock,
                                   hearth_settings_get_lock_seconds (hearth_application_get_settings (app)) * 1000);
  hearth_idle_lock_set_running (self->idle_lock, TRUE);
  if (!hearth_session_is_enrolled (session) && hearth_unlock_page_get_created (self->unlock_page))
    hearth_window_show_enrol (self);
  else
    hearth_window_show_main (self);
  if (self->resume_draft != NULL)
    {
      g_autofree char *draft = g_steal_pointer (&self->resume_draft);
      g_autofree char *dir = g_steal_pointer (&self->resume_dir);

      if (g_strcmp0 (dir, hearth_application_get_data_dir (app)) == 0)
        hearth_window_open_form (self, NULL, NULL, draft);
    }
}

static void
lock_seconds_changed (HearthSettings *settings, GParamSpec *pspec, HearthWindow *self)
{
  hearth_idle_lock_set_timeout_ms (self->idle_lock, hearth_settings_get_lock_seconds (settings) * 1000);
}

static void
idle (HearthIdleLock *lock, HearthWindow *self)
{
  hearth_application_set_session (self->app, NULL);
}

static void
enrol_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  hearth_window_show_enrol (HEARTH_WINDOW (widget));
}

static void
hearth_window_dispose (GObject *object)
{
  HearthWindow *self = HEARTH_WINDOW (object);

  g_clear_object (&self->idle_lock);
  g_clear_pointer (&self->resume_draft, g_free);
  g_clear_pointer (&self->resume_dir, g_free);
  if (self->form_bin != NULL)
    drop_form (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), HEARTH_TYPE_WINDOW);
  G_OBJECT_CLASS (hearth_window_parent_class)->dispose (object);
}

static void
hearth_window_class_init (HearthWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearth_window_dispose;

  g_type_ensure (HEARTH_TYPE_UNLOCK_PAGE);
  g_type_ensure (HEARTH_TYPE_ENROL_PAGE);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-window.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, HearthWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, HearthWindow, unlock_page);
  gtk_widget_class_bind_template_child (widget_class, HearthWindow, enrol_page);
  gtk_widget_class_bind_template_child (widget_class, HearthWindow, main_bin);
  gtk_widget_class_bind_template_child (widget_class, HearthWindow, form_bin);
  gtk_widget_class_install_action (widget_class, "window.enrol", NULL, enrol_action);
  gtk_widget_class_install_action (widget_class, "window.open-form", "(sss)", open_form_action);
}

static void
hearth_window_init (HearthWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->idle_lock = hearth_idle_lock_new (GTK_WIDGET (self));
  g_signal_connect (self->idle_lock, "idle", G_CALLBACK (idle), self);
}

HearthWindow *
hearth_window_new (HearthApplication *app)
{
  HearthWindow *self = g_object_new (HEARTH_TYPE_WINDOW, "application", app, NULL);

  self->app = app;
  g_signal_connect_object (app, "notify::session", G_CALLBACK (session_changed), self, 0);
  g_signal_connect_object (hearth_application_get_settings (app), "notify::lock-seconds",
                           G_CALLBACK (lock_seconds_changed), self, 0);
  session_changed (app, NULL, self);
  return self;
}

void
hearth_window_toast (HearthWindow *self, const char *message)
{
  g_return_if_fail (HEARTH_IS_WINDOW (self));
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (message));
}

GObject *
hearth_window_get_idle_lock (HearthWindow *self)
{
  g_return_val_if_fail (HEARTH_IS_WINDOW (self), NULL);
  return G_OBJECT (self->idle_lock);
}

const char *
hearth_window_get_screen (HearthWindow *self)
{
  g_return_val_if_fail (HEARTH_IS_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (self->stack);
}

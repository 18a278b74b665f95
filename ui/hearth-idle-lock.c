/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-idle-lock.c: lock after a while without input (hearth-idle-lock.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-idle-lock.h"

struct _HearthIdleLock {
  GObject parent_instance;
  GtkEventController *controller;   /* owned by the window */
  GtkWidget *window;
  guint timeout_ms;
  gint64 last_input_us;
  guint source;
  gboolean running;
};

G_DEFINE_FINAL_TYPE (HearthIdleLock, hearth_idle_lock, G_TYPE_OBJECT)

enum {
  SIGNAL_IDLE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void schedule (HearthIdleLock *self, guint delay_ms);

static gboolean
check (gpointer data)
{
  HearthIdleLock *self = data;
  gint64 idle_ms = (g_get_monotonic_time () - self->last_input_us) / 1000;

  self->source = 0;
  if (!self->running)
    return G_SOURCE_REMOVE;
  /* Input came in the meantime: wait for what is left of the time (the
   * timer is not restarted on every event, which would be costly). */
  if (idle_ms < self->timeout_ms)
    {
      schedule (self, self->timeout_ms - (guint) idle_ms);
      return G_SOURCE_REMOVE;
    }
  self->running = FALSE;
  g_signal_emit (self, signals[SIGNAL_IDLE], 0);
  return G_SOURCE_REMOVE;
}

static void
schedule (HearthIdleLock *self, guint delay_ms)
{
  g_clear_handle_id (&self->source, g_source_remove);
  self->source = g_timeout_add (delay_ms, check, self);
}

static gboolean
on_event (GtkEventControllerLegacy *controller, GdkEvent *event, HearthIdleLock *self)
{
  switch (gdk_event_get_event_type (event))
    {
    case GDK_MOTION_NOTIFY:
    case GDK_BUTTON_PRESS:
    case GDK_BUTTON_RELEASE:
    case GDK_KEY_PRESS:
    case GDK_KEY_RELEASE:
    case GDK_SCROLL:
    case GDK_TOUCH_BEGIN:
    case GDK_TOUCH_UPDATE:
    case GDK_TOUCH_END:
    case GDK_TOUCHPAD_SWIPE:
    case GDK_TOUCHPAD_PINCH:
      self->last_input_us = g_get_monotonic_time ();
      break;
    default:
      break;
    }
  return GDK_EVENT_PROPAGATE;
}

static void
hearth_idle_lock_dispose (GObject *object)
{
  HearthIdleLock *self = HEARTH_IDLE_LOCK (object);

  g_clear_handle_id (&self->source, g_source_remove);
  if (self->window != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->controller, self);
      g_object_remove_weak_pointer (G_OBJECT (self->window), (gpointer *) &self->window);
      self->window = NULL;
    }
  G_OBJECT_CLASS (hearth_idle_lock_parent_class)->dispose (object);
}

static void
hearth_idle_lock_class_init (HearthIdleLockClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = hearth_idle_lock_dispose;

  /**
   * HearthIdleLock::idle:
   *
   * Nobody touched the window for the timeout: lock. The watch stops; set
   * it running again after the next unlock.
   */
  signals[SIGNAL_IDLE] = g_signal_new ("idle", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                       G_TYPE_NONE, 0);
}

static void
hearth_idle_lock_init (HearthIdleLock *self)
{
  self->timeout_ms = 5 * 60 * 1000;
}

HearthIdleLock *
hearth_idle_lock_new (GtkWidget *window)
{
  HearthIdleLock *self = g_object_new (HEARTH_TYPE_IDLE_LOCK, NULL);

  g_return_val_if_fail (GTK_IS_WIDGET (window), NULL);

  self->window = window;
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &self->window);
  /* The capture phase sees every event before any widget can stop it. */
  self->controller = gtk_event_controller_legacy_new ();
  gtk_event_controller_set_propagation_phase (self->controller, GTK_PHASE_CAPTURE);
  gtk_event_controller_set_name (self->controller, "hearth-idle-lock");
  g_signal_connect (self->controller, "event", G_CALLBACK (on_event), self);
  gtk_widget_add_controller (window, self->controller);
  return self;
}

void
hearth_idle_lock_set_timeout_ms (HearthIdleLock *self, guint timeout_ms)
{
  g_return_if_fail (HEARTH_IS_IDLE_LOCK (self));
  g_return_if_fail (timeout_ms > 0);

  self->timeout_ms = timeout_ms;
  if (self->running)
    schedule (self, 0);
}

guint
hearth_idle_lock_get_timeout_ms (HearthIdleLock *self)
{
  g_return_val_if_fail (HEARTH_IS_IDLE_LOCK (self), 0);
  return self->timeout_ms;
}

void
hearth_idle_lock_set_running (HearthIdleLock *self, gboolean running)
{
  g_return_if_fail (HEARTH_IS_IDLE_LOCK (self));

  self->running = running;
  if (running)
    {
      self->last_input_us = g_get_monotonic_time ();
      schedule (self, self->timeout_ms);
    }
  else
    g_clear_handle_id (&self->source, g_source_remove);
}

void
hearth_idle_lock_touch (HearthIdleLock *self)
{
  g_return_if_fail (HEARTH_IS_IDLE_LOCK (self));
  self->last_input_us = g_get_monotonic_time ();
}

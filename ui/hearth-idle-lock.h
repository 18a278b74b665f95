/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-idle-lock.h: notices when nobody has touched a window for a
 * while. A tablet left on a doorstep must lock itself: the window's input
 * (touch, pointer, keys, scrolling) restarts the count, and ::idle is
 * emitted once the time has passed without any.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HEARTH_TYPE_IDLE_LOCK (hearth_idle_lock_get_type ())
G_DECLARE_FINAL_TYPE (HearthIdleLock, hearth_idle_lock, HEARTH, IDLE_LOCK, GObject)

/**
 * hearth_idle_lock_new:
 * @window: the window whose input counts (not referenced: the lock is
 *   the window's)
 *
 * Returns: (transfer full): an idle watch, stopped.
 */
HearthIdleLock *hearth_idle_lock_new (GtkWidget *window);

/* How long without input before ::idle, in milliseconds (> 0). */
void  hearth_idle_lock_set_timeout_ms (HearthIdleLock *self,
                                       guint           timeout_ms);
guint hearth_idle_lock_get_timeout_ms (HearthIdleLock *self);

/* Counts while running (the store is unlocked); stopped, ::idle never comes. */
void  hearth_idle_lock_set_running (HearthIdleLock *self,
                                    gboolean        running);

/* Restarts the count as input would (work that keeps the user busy). */
void  hearth_idle_lock_touch (HearthIdleLock *self);

G_END_DECLS

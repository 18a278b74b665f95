/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-refused-row.h: one change the county center refused, on the sync
 * page, for the worker to redo: the household as the worker knows it (its
 * head's name and registry number), what was changed (the fields' labels,
 * or the kind of record), the center's reason in its own words, and when
 * the refusal came. Personal data on screen only, never logged.
 */
#pragma once

#include <gtk/gtk.h>

#include "sync-store.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_REFUSED_ROW (hearth_refused_row_get_type ())
G_DECLARE_FINAL_TYPE (HearthRefusedRow, hearth_refused_row, HEARTH, REFUSED_ROW, GtkWidget)

/* @change: (transfer none): shown as it is now (the row keeps no pointer). */
GtkWidget *hearth_refused_row_new (const HearthSyncRefusedChange *change);

/* Returns: (transfer none): the row's texts, for tests: 0 the household,
 * 1 what was changed, 2 what the refusal means for the worker (by its
 * code), 3 when, 4 the center's own words. */
const char *hearth_refused_row_get_text (HearthRefusedRow *self,
                                         guint             which);

G_END_DECLS

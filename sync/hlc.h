/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hlc.h: the hybrid logical clock that stamps every change of a mutable
 * field (Kulkarni, Demirbas et al., "Logical Physical Clocks and
 * Consistent Snapshots in Globally Distributed Databases", 2014): the
 * physical time in milliseconds, a counter that orders events within one
 * millisecond or while the wall clock lags, and the device id that breaks
 * the last ties. A clock never goes backwards, whatever the wall clock
 * does; a time received from another replica moves it forward.
 *
 * The text form sorts as the clock does: "WWWWWWWWWWWWWWW-CCCCCCCC-DEVICE",
 * the wall time as 15 decimal digits, the counter as 8 hex digits.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HEARTH_HLC_ERROR (hearth_hlc_error_quark ())
GQuark hearth_hlc_error_quark (void);

/**
 * HearthHlcError:
 * @HEARTH_HLC_ERROR_INVALID: a text that is not an HLC time (the message
 *   says which part)
 * @HEARTH_HLC_ERROR_DRIFT: a received time is further ahead of this
 *   device's clock than allowed
 */
typedef enum {
  HEARTH_HLC_ERROR_INVALID,
  HEARTH_HLC_ERROR_DRIFT,
} HearthHlcError;

/* The longest device id, in bytes. */
#define HEARTH_HLC_MAX_DEVICE 64

typedef struct {
  gint64 wall_ms;      /* milliseconds since 1970-01-01 UTC, 0 .. 10^15 - 1 */
  guint32 counter;
  char device[HEARTH_HLC_MAX_DEVICE + 1];
} HearthHlc;

/**
 * hearth_hlc_compare:
 *
 * Returns: < 0, 0 or > 0 as @a is before, the same as or after @b: by wall
 *   time, then counter, then device id. Thread-safe.
 */
int hearth_hlc_compare (const HearthHlc *a, const HearthHlc *b);

/** hearth_hlc_to_string: Returns: (transfer full): the text form. */
char *hearth_hlc_to_string (const HearthHlc *hlc);

/**
 * hearth_hlc_parse:
 * @text: the text form
 * @out: (out): the time
 *
 * Returns: %FALSE with HEARTH_HLC_ERROR_INVALID naming the part that is
 *   wrong.
 */
gboolean hearth_hlc_parse (const char *text, HearthHlc *out, GError **error);

typedef struct _HearthHlcClock HearthHlcClock;

/* A wall clock in milliseconds since 1970 (tests fix it). */
typedef gint64 (*HearthHlcWallFunc) (gpointer data);

/**
 * hearth_hlc_clock_new:
 * @device: this device's id (at most HEARTH_HLC_MAX_DEVICE bytes, no "-"
 *   needed; printable ASCII)
 * @last: (nullable): the last time this device issued, as stored, so that
 *   a restarted app never issues an earlier one
 *
 * Returns: (transfer full) (nullable): the clock, or %NULL with
 *   HEARTH_HLC_ERROR_INVALID for a bad device id or @last. Thread-safe
 *   (calls on one clock are serialised).
 */
HearthHlcClock *hearth_hlc_clock_new (const char *device, const char *last, GError **error);
void hearth_hlc_clock_free (HearthHlcClock *clock);

/* Replaces the wall clock (g_get_real_time by default). */
void hearth_hlc_clock_set_wall (HearthHlcClock *clock, HearthHlcWallFunc wall, gpointer data);

/**
 * hearth_hlc_clock_now:
 * @out: (out): a time later than every time this clock issued or received
 *
 * For a local change (or a message sent).
 */
void hearth_hlc_clock_now (HearthHlcClock *clock, HearthHlc *out);

/**
 * hearth_hlc_clock_receive:
 * @remote: a time from another replica
 * @max_ahead_ms: how far @remote may be ahead of this device's wall clock
 *   (0: no limit)
 * @out: (out) (optional): the clock's time after the receipt
 *
 * Moves the clock past @remote, so whatever this device does next is
 * ordered after what it has seen.
 *
 * Returns: %FALSE with HEARTH_HLC_ERROR_DRIFT when @remote is more than
 *   @max_ahead_ms ahead (the clock is left unchanged).
 */
gboolean hearth_hlc_clock_receive (HearthHlcClock *clock, const HearthHlc *remote, gint64 max_ahead_ms,
                                   HearthHlc *out, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthHlcClock, hearth_hlc_clock_free)

G_END_DECLS

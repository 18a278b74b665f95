/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hlc.c: the hybrid logical clock (hlc.h). */
#define G_LOG_DOMAIN "hearth-sync"

#include "hlc.h"
#include "hex-digit.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (hearth-hlc-error-quark, hearth_hlc_error)

#define WALL_MAX G_GINT64_CONSTANT (999999999999999)

struct _HearthHlcClock {
  GMutex lock;
  HearthHlc last;
  HearthHlcWallFunc wall;
  gpointer wall_data;
};

int
hearth_hlc_compare (const HearthHlc *a, const HearthHlc *b)
{
  if (a->wall_ms != b->wall_ms)
    return a->wall_ms < b->wall_ms ? -1 : 1;
  if (a->counter != b->counter)
    return a->counter < b->counter ? -1 : 1;
  return strcmp (a->device, b->device);
}

char *
hearth_hlc_to_string (const HearthHlc *hlc)
{
  return g_strdup_printf ("%015" G_GINT64_FORMAT "-%08x-%s", hlc->wall_ms, hlc->counter, hlc->device);
}

static gboolean
valid_device (const char *device)
{
  gsize n = strlen (device);

  if (n == 0 || n > HEARTH_HLC_MAX_DEVICE)
    return FALSE;
  for (const char *p = device; *p != '\0'; p++)
    if (*p <= ' ' || *p > '~')
      return FALSE;
  return TRUE;
}

gboolean
hearth_hlc_parse (const char *text, HearthHlc *out, GError **error)
{
  guint64 wall = 0, counter = 0;

  memset (out, 0, sizeof *out);
  if (text == NULL || strlen (text) < 26 || text[15] != '-' || text[24] != '-')
    {
      g_set_error (error, HEARTH_HLC_ERROR, HEARTH_HLC_ERROR_INVALID,
                   _("\"%s\" is not a clock time (15 digits, \"-\", 8 hex digits, \"-\", a device id)"),
                   text != NULL ? text : "");
      return FALSE;
    }
  /* Digits read in place, as g_ascii_string_to_unsigned() would take
   * them (no sign, space or "0x"): a pull parses two versions an edit,
   * 70,000 edits, and a copy and a strtoull each was a third of it. */
  for (int i = 0; i < 15; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        {
          wall = G_MAXUINT64;
          break;
        }
      wall = wall * 10 + (guint64) (text[i] - '0');
    }
  if (wall > (guint64) WALL_MAX)
    {
      g_set_error (error, HEARTH_HLC_ERROR, HEARTH_HLC_ERROR_INVALID,
                   _("\"%s\": the wall time is not 15 digits"), text);
      return FALSE;
    }
  for (int i = 16; i < 24; i++)
    {
      int d = hearth_hex_digit (text[i]);

      if (d < 0)
        {
          g_set_error (error, HEARTH_HLC_ERROR, HEARTH_HLC_ERROR_INVALID,
                       _("\"%s\": the counter is not 8 hexadecimal digits"), text);
          return FALSE;
        }
      counter = counter * 16 + (guint64) d;
    }
  if (!valid_device (text + 25))
    {
      g_set_error (error, HEARTH_HLC_ERROR, HEARTH_HLC_ERROR_INVALID,
                   _("\"%s\": the device id is empty, too long or not printable ASCII"), text);
      return FALSE;
    }
  out->wall_ms = (gint64) wall;
  out->counter = (guint32) counter;
  g_strlcpy (out->device, text + 25, sizeof out->device);
  return TRUE;
}

static gint64
real_wall (gpointer data)
{
  return g_get_real_time () / 1000;
}

HearthHlcClock *
hearth_hlc_clock_new (const char *device, const char *last, GError **error)
{
  HearthHlcClock *clock;

  if (device == NULL || !valid_device (device))
    {
      g_set_error (error, HEARTH_HLC_ERROR, HEARTH_HLC_ERROR_INVALID,
                   _("the device id \"%s\" is empty, too long or not printable ASCII"), device != NULL ? device : "");
      return NULL;
    }
  clock = g_new0 (HearthHlcClock, 1);
  g_mutex_init (&clock->lock);
  clock->wall = real_wall;
  g_strlcpy (clock->last.device, device, sizeof clock->last.device);
  if (last != NULL && last[0] != '\0')
    {
      HearthHlc stored;
      if (!hearth_hlc_parse (last, &stored, error))
        {
          hearth_hlc_clock_free (clock);
          return NULL;
        }
      clock->last.wall_ms = stored.wall_ms;
      clock->last.counter = stored.counter;
    }
  return clock;
}

void
hearth_hlc_clock_free (HearthHlcClock *clock)
{
  if (clock == NULL)
    return;
  g_mutex_clear (&clock->lock);
  g_free (clock);
}

void
hearth_hlc_clock_set_wall (HearthHlcClock *clock, HearthHlcWallFunc wall, gpointer data)
{
  g_mutex_lock (&clock->lock);
  clock->wall = wall != NULL ? wall : real_wall;
  clock->wall_data = data;
  g_mutex_unlock (&clock->lock);
}

static gint64
wall_now (HearthHlcClock *clock)
{
  return CLAMP (clock->wall (clock->wall_data), 0, WALL_MAX);
}

/* Moves to (wall, counter); a full counter carries into the next
 * millisecond rather than wrap. */
static void
advance (HearthHlcClock *clock, gint64 wall, guint64 counter)
{
  if (counter > G_MAXUINT32)
    {
      wall++;
      counter = 0;
    }
  clock->last.wall_ms = MIN (wall, WALL_MAX);
  clock->last.counter = (guint32) counter;
}

void
hearth_hlc_clock_now (HearthHlcClock *clock, HearthHlc *out)
{
  gint64 pt;

  g_mutex_lock (&clock->lock);
  pt = wall_now (clock);
  if (pt > clock->last.wall_ms)
    advance (clock, pt, 0);
  else
    advance (clock, clock->last.wall_ms, (guint64) clock->last.counter + 1);
  *out = clock->last;
  g_mutex_unlock (&clock->lock);
}

gboolean
hearth_hlc_clock_receive (HearthHlcClock *clock, const HearthHlc *remote, gint64 max_ahead_ms,
                          HearthHlc *out, GError **error)
{
  gint64 pt, l;

  g_mutex_lock (&clock->lock);
  pt = wall_now (clock);
  if (max_ahead_ms > 0 && remote->wall_ms - pt > max_ahead_ms)
    {
      g_mutex_unlock (&clock->lock);
      g_set_error (error, HEARTH_HLC_ERROR, HEARTH_HLC_ERROR_DRIFT,
                   _("a clock time %lld s ahead of this device's clock was refused"),
                   (long long) ((remote->wall_ms - pt) / 1000));
      return FALSE;
    }
  l = MAX (MAX (clock->last.wall_ms, remote->wall_ms), pt);
  if (l == clock->last.wall_ms && l == remote->wall_ms)
    advance (clock, l, (guint64) MAX (clock->last.counter, remote->counter) + 1);
  else if (l == clock->last.wall_ms)
    advance (clock, l, (guint64) clock->last.counter + 1);
  else if (l == remote->wall_ms)
    advance (clock, l, (guint64) remote->counter + 1);
  else
    advance (clock, l, 0);
  if (out != NULL)
    *out = clock->last;
  g_mutex_unlock (&clock->lock);
  return TRUE;
}

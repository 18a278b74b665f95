/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fake-clock.c: an LD_PRELOAD shim for tests.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
/* A wall clock set back or forward: the milliseconds in $FAKECLOCK_FILE
 * (read at each call) added to CLOCK_REALTIME, gettimeofday() and time().
 * LD_PRELOADed into a hearth-center by tests that change its clock while
 * it runs (an NTP step, a clock wrong at boot then corrected). */
static long long offset_ms (void)
{
  const char *f = getenv ("FAKECLOCK_FILE");
  long long v = 0;
  FILE *fp = f ? fopen (f, "r") : NULL;
  if (fp) { if (fscanf (fp, "%lld", &v) != 1) v = 0; fclose (fp); }
  return v;
}
int clock_gettime (clockid_t id, struct timespec *ts)
{
  static int (*real) (clockid_t, struct timespec *);
  if (!real) real = dlsym (RTLD_NEXT, "clock_gettime");
  int r = real (id, ts);
  if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
    long long ns = (long long) ts->tv_sec * 1000000000LL + ts->tv_nsec + offset_ms () * 1000000LL;
    ts->tv_sec = ns / 1000000000LL; ts->tv_nsec = ns % 1000000000LL;
  }
  return r;
}
int gettimeofday (struct timeval *tv, void *tz)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  tv->tv_sec = ts.tv_sec; tv->tv_usec = ts.tv_nsec / 1000;
  (void) tz; return 0;
}
time_t time (time_t *t) { struct timespec ts; clock_gettime (CLOCK_REALTIME, &ts); if (t) *t = ts.tv_sec; return ts.tv_sec; }

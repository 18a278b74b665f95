/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * slow-sync.c: an LD_PRELOAD shim for tests.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
/* A slow disk under a WAL: fdatasync() and fsync() of a file whose name
 * ends in "-wal" sleep $SLOWSYNC_MS milliseconds first, and append
 * "start MS" before and "end MS" after the real call (MS: the wall
 * clock, milliseconds since 1970) to $SLOWSYNC_LOG. LD_PRELOADed into a
 * hearth-center by the tests that check nothing is answered before it
 * is on disk (test-center.c, /center/ack-after-sync). */
static int is_wal (int fd)
{
  char link[64], path[4096];
  ssize_t n;
  snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  n = readlink (link, path, sizeof path - 1);
  if (n < 4) return 0;
  path[n] = '\0';
  return strcmp (path + n - 4, "-wal") == 0;
}
static void note (const char *what)
{
  const char *f = getenv ("SLOWSYNC_LOG");
  struct timespec ts;
  FILE *fp;
  if (!f) return;
  clock_gettime (CLOCK_REALTIME, &ts);
  fp = fopen (f, "a");
  if (fp) { fprintf (fp, "%s %lld\n", what, (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000); fclose (fp); }
}
/* A failing disk: while the file $SLOWSYNC_FAIL names exists, such a
 * sync fails with EIO (noted "fail MS"), the real call not made. */
static int failing (void)
{
  const char *f = getenv ("SLOWSYNC_FAIL");
  return f != NULL && access (f, F_OK) == 0;
}
static int slow (int fd, int (*real) (int))
{
  const char *ms = getenv ("SLOWSYNC_MS");
  int r;
  if (!is_wal (fd)) return real (fd);
  if (failing ()) { note ("fail"); errno = EIO; return -1; }
  note ("start");
  if (ms) usleep ((useconds_t) atoi (ms) * 1000);
  r = real (fd);
  note ("end");
  return r;
}
int fdatasync (int fd)
{
  static int (*real) (int);
  if (!real) real = (int (*) (int)) dlsym (RTLD_NEXT, "fdatasync");
  return slow (fd, real);
}
int fsync (int fd)
{
  static int (*real) (int);
  if (!real) real = (int (*) (int)) dlsym (RTLD_NEXT, "fsync");
  return slow (fd, real);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * slow-sync.c: an LD_PRELOAD shim for tests.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
/* A power cut's model: with $SLOWSYNC_COPY_DIR set, a sync of the WAL or
 * of the file $SLOWSYNC_COPY_DB first copies the file there (under its
 * own name): what a sync begun then makes durable, whatever is written
 * during it. A test kills the center, puts the copies in place of the
 * files (a WAL never synced: none) and starts it again, as after a power
 * cut that lost every write not synced. */
static pthread_mutex_t copy_lock = PTHREAD_MUTEX_INITIALIZER;
static void copy_durable (int fd)
{
  const char *dir = getenv ("SLOWSYNC_COPY_DIR"), *db = getenv ("SLOWSYNC_COPY_DB");
  char link[64], path[4096], tmp[4200], dst[4200], buf[65536];
  const char *base, *db_base;
  ssize_t n;
  off_t at = 0;
  int out;
  if (!dir || !db) return;
  snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  n = readlink (link, path, sizeof path - 1);
  if (n < 1) return;
  path[n] = '\0';
  base = strrchr (path, '/') ? strrchr (path, '/') + 1 : path;
  db_base = strrchr (db, '/') ? strrchr (db, '/') + 1 : db;
  if (strncmp (base, db_base, strlen (db_base)) != 0 ||
      (base[strlen (db_base)] != '\0' && strcmp (base + strlen (db_base), "-wal") != 0))
    return;
  pthread_mutex_lock (&copy_lock);
  snprintf (tmp, sizeof tmp, "%s/%s.tmp", dir, base);
  snprintf (dst, sizeof dst, "%s/%s", dir, base);
  out = open (tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (out >= 0)
    {
      while ((n = pread (fd, buf, sizeof buf, at)) > 0)
        {
          if (write (out, buf, (size_t) n) != n) break;
          at += n;
        }
      close (out);
      rename (tmp, dst);
    }
  pthread_mutex_unlock (&copy_lock);
}
static int slow (int fd, int (*real) (int))
{
  const char *ms = getenv ("SLOWSYNC_MS");
  int r;
  copy_durable (fd);
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

/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "store-file.h"
#include "store-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

G_GNUC_PRINTF (2, 3)
static gboolean
io_error (GError **error, const char *format, ...)
{
  va_list ap;

  va_start (ap, format);
  g_propagate_error (error, g_error_new_valist (HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_IO, format, ap));
  va_end (ap);
  return FALSE;
}

gboolean
hearth_file_sync_dir (const char *dir, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return io_error (error, _("Could not open the folder %s: %s"), dir, g_strerror (errno));
  if (fsync (fd) != 0)
    {
      int saved = errno;
      close (fd);
      return io_error (error, _("Could not sync the folder %s: %s"), dir, g_strerror (saved));
    }
  close (fd);
  return TRUE;
}

gboolean
hearth_file_replace_durably (const char *path, const void *data, gsize len,
                             int mode, GError **error)
{
  g_autofree char *tmp = g_strconcat (path, ".tmp", NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  const guint8 *p = data;
  gsize done = 0;
  int fd;

  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return io_error (error, _("Could not create %s: %s"), tmp, g_strerror (errno));
  while (done < len)
    {
      ssize_t w = write (fd, p + done, len - done);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        {
          int saved = errno;
          close (fd);
          g_unlink (tmp);
          return io_error (error, _("Could not write %s: %s"), tmp, g_strerror (saved));
        }
      done += (gsize) w;
    }
  if (fsync (fd) != 0)
    {
      int saved = errno;
      close (fd);
      g_unlink (tmp);
      return io_error (error, _("Could not sync %s: %s"), tmp, g_strerror (saved));
    }
  close (fd);
  if (rename (tmp, path) != 0)
    {
      int saved = errno;
      g_unlink (tmp);
      return io_error (error, _("Could not replace %s: %s"), path, g_strerror (saved));
    }
  return hearth_file_sync_dir (dir, error);
}

GBytes *
hearth_file_read_bounded (const char *path, gsize max, GError **error)
{
  g_autofree char *buf = NULL;
  struct stat st;
  gsize len, size;
  /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

  if (fd < 0)
    {
      int saved = errno;
      if (saved == ENOENT)
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, _("%s does not exist"), path);
      else
        g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE,
                     _("Could not open %s: %s"), path, g_strerror (saved));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || (guint64) st.st_size > max)
    {
      close (fd);
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE,
                   _("%s is not a regular file of at most %zu bytes"), path, (size_t) max);
      return NULL;
    }
  /* The file's size and one byte more, grown up to one byte more than
   * allowed when the file grew since fstat: a buffer of the bound for a
   * small file (64 MiB for a registry) made every read cost as much. */
  size = MIN ((gsize) st.st_size, max) + 1;
  buf = g_malloc (size);
  len = 0;
  for (;;)
    {
      ssize_t r;

      if (len == size && size < max + 1)
        {
          size = size > (max + 1) / 2 ? max + 1 : 2 * size;
          buf = g_realloc (buf, size);
        }
      r = read (fd, buf + len, size - len);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int saved = errno;
          close (fd);
          g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE,
                       _("Could not read %s: %s"), path, g_strerror (saved));
          return NULL;
        }
      if (r == 0 || len + (gsize) r > max)
        {
          len += (gsize) r;
          break;
        }
      len += (gsize) r;
    }
  close (fd);
  if (len > max)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE,
                   _("%s is larger than %zu bytes"), path, (size_t) max);
      return NULL;
    }
  return g_bytes_new_take (g_steal_pointer (&buf), len);
}

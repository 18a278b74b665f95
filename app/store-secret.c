/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "store-secret.h"
#include "store-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

struct _HearthSecret {
  guint8 *data;  /* sodium_malloc; at least one byte so that size 0 works */
  gsize size;
};

HearthSecret *
hearth_secret_new (gsize len)
{
  HearthSecret *self = g_new0 (HearthSecret, 1);

  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");
  self->data = sodium_malloc (MAX (len, 1));
  if (self->data == NULL)
    g_error ("out of secure memory (%" G_GSIZE_FORMAT " bytes)", len);
  sodium_memzero (self->data, MAX (len, 1));
  self->size = len;
  return self;
}

HearthSecret *
hearth_secret_new_random (gsize len)
{
  HearthSecret *self = hearth_secret_new (len);

  randombytes_buf (self->data, len);
  return self;
}

HearthSecret *
hearth_secret_new_from_data (const void *data, gsize len)
{
  HearthSecret *self = hearth_secret_new (len);

  memcpy (self->data, data, len);
  return self;
}

void
hearth_secret_free (HearthSecret *self)
{
  if (self == NULL)
    return;
  sodium_free (self->data);  /* wipes, unlocks and unmaps */
  g_free (self);
}

guint8 *
hearth_secret_get_data (HearthSecret *self)
{
  return self->data;
}

const guint8 *
hearth_secret_peek (const HearthSecret *self)
{
  return self->data;
}

gsize
hearth_secret_get_size (const HearthSecret *self)
{
  return self->size;
}

void
hearth_secret_seal (HearthSecret *self)
{
  sodium_mprotect_readonly (self->data);
}

/* Reads one line from @fd into secure memory, byte by byte so that nothing
 * past the line is read and no plaintext copy lands in a stdio buffer. */
static HearthSecret *
read_line_fd (int fd, const char *what, GError **error)
{
  g_autoptr(HearthSecret) buf = hearth_secret_new (HEARTH_PASSPHRASE_MAX + 1);
  gsize n = 0;

  for (;;)
    {
      guint8 c;
      ssize_t r = read (fd, &c, 1);

      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int saved = errno;
          g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE,
                       _("Could not read the passphrase from %s: %s"), what, g_strerror (saved));
          return NULL;
        }
      if (r == 0 || c == '\n')
        break;
      if (n == HEARTH_PASSPHRASE_MAX)
        {
          g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE,
                       _("The passphrase in %s is longer than %d bytes"), what, HEARTH_PASSPHRASE_MAX);
          return NULL;
        }
      buf->data[n++] = c;
    }
  if (n > 0 && buf->data[n - 1] == '\r')
    buf->data[--n] = 0;
  if (n == 0)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE,
                   _("The passphrase in %s is empty"), what);
      return NULL;
    }
  if (!g_utf8_validate ((const char *) buf->data, n, NULL))
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE,
                   _("The passphrase in %s is not valid UTF-8 text"), what);
      return NULL;
    }
  buf->size = n;
  return g_steal_pointer (&buf);
}

HearthSecret *
hearth_secret_read_passphrase_file (const char *path, GError **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  HearthSecret *result;

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE,
                   _("Could not open the passphrase file %s: %s"), path, g_strerror (saved));
      return NULL;
    }
  result = read_line_fd (fd, path, error);
  close (fd);
  return result;
}

HearthSecret *
hearth_secret_prompt_passphrase (const char *prompt, GError **error)
{
  struct termios old, quiet;
  HearthSecret *result;
  int fd = open ("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);

  if (fd < 0 || !isatty (fd))
    {
      if (fd >= 0)
        close (fd);
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_NO_PASSPHRASE,
                   _("No passphrase: there is no terminal to ask on; use --passphrase-file FILE or HEARTH_PASSPHRASE_FILE"));
      return NULL;
    }
  if (write (fd, prompt, strlen (prompt)) < 0)
    { /* the prompt is a courtesy; reading still works */ }
  tcgetattr (fd, &old);
  quiet = old;
  quiet.c_lflag &= ~(tcflag_t) ECHO;
  tcsetattr (fd, TCSAFLUSH, &quiet);
  result = read_line_fd (fd, _("the terminal"), error);
  tcsetattr (fd, TCSAFLUSH, &old);
  if (write (fd, "\n", 1) < 0)
    { /* as above */ }
  close (fd);
  return result;
}

gboolean
hearth_secret_check_new_passphrase (const HearthSecret *passphrase, GError **error)
{
  glong chars = g_utf8_strlen ((const char *) passphrase->data, passphrase->size);

  if (chars < HEARTH_PASSPHRASE_MIN_CHARS)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_WEAK_PASSPHRASE,
                   _("The new passphrase is too short (%ld of at least %d characters)"), chars,
                   HEARTH_PASSPHRASE_MIN_CHARS);
      return FALSE;
    }
  return TRUE;
}

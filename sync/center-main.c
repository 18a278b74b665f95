/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-center: the county center. Serves the sync protocol
 * (sync/PROTOCOL.md) to enrolled devices and administers the county:
 * initialise, users and their scopes, enrolment codes, devices; batches
 * for county staff (export, verify-batch); what the center itself sends
 * its devices (import-households, publish-form, set-thresholds).
 *
 * Exit codes (../shared/INTERFACES.md): 0 done, 1 refused input, 2 usage,
 * 70 internal error.
 */
#define G_LOG_DOMAIN "hearth-center"

#include "batch.h"
#include "case-store.h"
#include "center-export.h"
#include "center-publish.h"
#include "center-server.h"
#include "center-store.h"
#include "center-sync.h"
#include "center-vacuum.h"
#include "center-store-sqlite.h"
#include "form-model.h"
#include "store-countykey.h"
#include "store-error.h"
#include "store-file.h"
#include "terminal.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <malloc.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <errno.h>
#include <sys/file.h>
#include <fcntl.h>

typedef enum {
  EXIT_DONE = 0,
  EXIT_REFUSED = 1,
  EXIT_USAGE = 2,
  EXIT_INTERNAL = 70,
} CenterExit;

/* How long a shutdown waits for requests in progress. */
#define DRAIN_MS 30000
/* The largest certificate or key file read. */
#define PEM_MAX (1024 * 1024)
/* The freed memory malloc keeps for the next allocations (main(); at
 * most 32 MiB, glibc's ceiling for the mmap threshold on 64-bit). */
#define MALLOC_KEEP_BYTES (32 * 1024 * 1024)

static const char *const roles[] = { "worker", "clerk", "township", "county", NULL };

/* Prints @error and maps it onto an exit code. */
static int
fail_with (const GError *error)
{
  int code = EXIT_INTERNAL;

  g_printerr ("hearth-center: %s\n", error->message);
  if (error->domain == HEARTH_CENTER_STORE_ERROR)
    switch ((HearthCenterStoreError) error->code)
      {
      case HEARTH_CENTER_STORE_ERROR_NO_STORE:
      case HEARTH_CENTER_STORE_ERROR_NOT_INITIALISED:
      case HEARTH_CENTER_STORE_ERROR_NOT_FOUND:
      case HEARTH_CENTER_STORE_ERROR_EXISTS:
        code = EXIT_REFUSED;
        break;
      case HEARTH_CENTER_STORE_ERROR_UNSUPPORTED:
        code = EXIT_USAGE;
        break;
      case HEARTH_CENTER_STORE_ERROR_SCHEMA:
      case HEARTH_CENTER_STORE_ERROR_FAILED:
      case HEARTH_CENTER_STORE_ERROR_NOT_DURABLE:
        code = EXIT_INTERNAL;
        break;
      }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
    code = EXIT_USAGE;
  /* serve's address (in use, not this machine's) or its certificate. */
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
    code = EXIT_REFUSED;
  else if (error->domain == G_FILE_ERROR || g_error_matches (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_BAD_FILE) ||
           error->domain == HEARTH_CENTER_EXPORT_ERROR || error->domain == HEARTH_BATCH_ERROR ||
           error->domain == HEARTH_CENTER_PUBLISH_ERROR || error->domain == HEARTH_FORM_ERROR ||
           g_error_matches (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID))
    code = EXIT_REFUSED;
  return code;
}

G_GNUC_PRINTF (1, 2) static int
refused (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("hearth-center: %s\n", message);
  return EXIT_REFUSED;
}

G_GNUC_PRINTF (1, 2) static int
usage (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("hearth-center: %s\n", message);
  return EXIT_USAGE;
}

/* Parses a command's options; @arguments names the positional ones it
 * takes (exactly @n_args of them). Returns FALSE on a usage error. */
static gboolean
parse_command (const char *command, GOptionEntry *entries, const char *arguments, int n_args, int *argc,
               char ***argv)
{
  g_autoptr(GOptionContext) octx = g_option_context_new (arguments);
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = g_strdup_printf ("hearth-center %s", command);
  gboolean db_after = FALSE;

  /* The hint is for --db given after the command, not for every bad
   * option (a --ttl of "abc" has nothing to do with --db). */
  for (int i = 1; i < *argc; i++)
    db_after = db_after || g_str_equal ((*argv)[i], "--db") || g_str_has_prefix ((*argv)[i], "--db=");
  g_set_prgname (prgname);
  g_option_context_add_main_entries (octx, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (octx, GETTEXT_PACKAGE);
  if (!g_option_context_parse (octx, argc, argv, &error))
    {
      if (db_after)
        usage (_("%s (--db comes before the command)"), error->message);
      else
        usage ("%s", error->message);
      return FALSE;
    }
  if (*argc - 1 != n_args)
    {
      if (n_args == 0)
        usage (_("%s takes no argument"), command);
      else
        usage (_("%s needs %s"), command, arguments);
      return FALSE;
    }
  return TRUE;
}

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

static gboolean
all_digits (const char *s, gsize n)
{
  return strlen (s) == n && strspn (s, "0123456789") == n;
}

/* ---- init --------------------------------------------------------------------- */

static int
cmd_init (const char *db, int argc, char **argv)
{
  g_autofree char *county = NULL;
  g_autofree char *time_zone = NULL;
  g_autofree char *key_out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterStore) store = NULL;
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_autoptr(HearthSecret) secret = NULL;
  g_autoptr(GTimeZone) tz = NULL;
  g_auto(HearthCenterCounty) existing = { 0 };
  HearthCenterCounty row = { 0 };
  GOptionEntry entries[] = {
    { "county", 0, 0, G_OPTION_ARG_STRING, &county, N_("The 6-digit county code"), N_("CODE") },
    { "time-zone", 0, 0, G_OPTION_ARG_STRING, &time_zone, N_("The county's time zone (default Asia/Shanghai)"),
      N_("TZ") },
    { "county-key-out", 0, 0, G_OPTION_ARG_FILENAME, &key_out,
      N_("Write the county's secret recovery key to FILE (and nowhere else)"), N_("FILE") },
    { NULL }
  };

  if (!parse_command ("init", entries, NULL, 0, &argc, &argv))
    return EXIT_USAGE;
  if (county == NULL || !all_digits (county, 6))
    return usage (_("init needs --county CODE, the 6-digit county code"));
  /* GB/T 2260: a county's last two digits are never 00 (150400 is the
   * prefecture of Chifeng, 150000 the province), nor its province's. */
  if (strncmp (county, "00", 2) == 0 || strcmp (county + 4, "00") == 0)
    return refused (_("%s is not a county's code: a county's code ends in two digits other than 00 (150422, not "
                      "150400, which is its prefecture)"),
                    county);
  if (key_out == NULL || *key_out == '\0')
    return usage (_("init needs --county-key-out FILE: the county's secret key is written there and nowhere else"));
  if (time_zone == NULL)
    time_zone = g_strdup ("Asia/Shanghai");
  /* A name of the zone database (Asia/Shanghai) or an offset (+08:00),
   * never a path: GLib reads "/etc/localtime" or "../../etc/passwd" as a
   * file, and the county's days would follow whatever that file holds. */
  if (time_zone[0] == '/' || strstr (time_zone, "..") != NULL ||
      strspn (time_zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-:") != strlen (time_zone))
    return refused (_("“%s” is not a time zone this system knows"), time_zone);
  tz = g_time_zone_new_identifier (time_zone);
  if (tz == NULL)
    return refused (_("“%s” is not a time zone this system knows"), time_zone);
  if (g_file_test (key_out, G_FILE_TEST_EXISTS))
    return refused (_("%s exists: a county secret key is never written over"), key_out);
  /* Before the store is made: a folder typed wrong (a USB stick not
   * mounted) is the user's to fix, not an internal error (break33). */
  {
    g_autofree char *folder = g_path_get_dirname (key_out);

    if (!g_file_test (folder, G_FILE_TEST_IS_DIR))
      return refused (_("%s: the folder %s does not exist (is the medium for the county key mounted?)"), key_out,
                      folder);
  }

  store = hearth_center_store_open (db, TRUE, &error);
  if (store == NULL)
    return fail_with (error);
  txn = hearth_center_store_begin (store, TRUE, &error);
  if (txn == NULL)
    return fail_with (error);
  if (hearth_center_txn_get_county (txn, &existing, NULL))
    return refused (_("this center is initialised already, for county %s"), existing.code);

  row.code = county;
  row.time_zone = time_zone;
  secret = hearth_county_key_generate (row.public_key);
  /* The secret key goes to the file alone; the store keeps the public key. */
  if (!hearth_county_key_write (key_out, TRUE, hearth_secret_peek (secret), &error))
    return fail_with (error);
  if (!hearth_center_txn_set_county (txn, &row, now_ms (), &error) ||
      !hearth_center_txn_commit (g_steal_pointer (&txn), &error))
    {
      g_unlink (key_out);  /* a key for no county would only mislead */
      return fail_with (error);
    }
  g_printerr (_("hearth-center: county %s initialised (time zone %s); its secret recovery key is in %s: keep it "
                "offline\n"),
              county, time_zone, key_out);
  return EXIT_DONE;
}

/* ---- user add ------------------------------------------------------------------- */

static int
cmd_user (const char *db, int argc, char **argv)
{
  g_autofree char *role = NULL;
  g_autofree char *scope_text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterStore) store = NULL;
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_autoptr(GPtrArray) scope = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) parts = NULL;
  g_auto(HearthCenterCounty) county = { 0 };
  HearthCenterUser user = { 0 };
  const char *name;
  GOptionEntry entries[] = {
    { "role", 0, 0, G_OPTION_ARG_STRING, &role, N_("worker, clerk, township or county"), N_("ROLE") },
    { "scope", 0, 0, G_OPTION_ARG_STRING, &scope_text,
      N_("Division codes the user works in: 12-digit villages, 9-digit townships or the 6-digit county, "
         "separated by commas"),
      N_("CODE[,CODE…]") },
    { NULL }
  };

  if (argc < 2 || g_strcmp0 (argv[1], "add") != 0)
    return usage (_("the user command is: user add NAME --role ROLE --scope CODE[,CODE…]"));
  argc--;
  argv++;
  if (!parse_command ("user add", entries, _("NAME"), 1, &argc, &argv))
    return EXIT_USAGE;
  name = argv[1];
  if (!hearth_center_user_name_is_valid (name))
    return refused (_("“%s” is not a user name: 1 to 64 lowercase letters, digits, “.”, “_” or “-”, starting with a "
                      "letter or digit"),
                    name);
  if (role == NULL || !g_strv_contains (roles, role))
    return refused (_("--role must be worker, clerk, township or county, not “%s”"), role != NULL ? role : "");
  if (scope_text == NULL)
    return refused (_("--scope is needed: the division codes the user works in"));

  store = hearth_center_store_open (db, FALSE, &error);
  if (store == NULL)
    return fail_with (error);
  txn = hearth_center_store_begin (store, TRUE, &error);
  if (txn == NULL || !hearth_center_txn_get_county (txn, &county, &error))
    return fail_with (error);

  parts = g_strsplit (scope_text, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *code = g_strstrip (parts[i]);
      gsize n = strlen (code);

      if ((n != 6 && n != 9 && n != 12) || !all_digits (code, n))
        return refused (_("scope “%s” is not a division code: 6 digits (county), 9 (township) or 12 (village)"),
                        code);
      if (!g_str_has_prefix (code, county.code))
        return refused (_("scope “%s” is outside county %s"), code, county.code);
      /* 150422101000 is township 150422101 as statistics tables write
       * it: a village of that code holds no household. */
      if (n > 6 && strcmp (code + n - 3, "000") == 0)
        return refused (_("scope “%s” ends in 000: that is division %.*s written with more digits; give %.*s"), code,
                        (int) n - 3, code, (int) n - 3, code);
      if (n == 12 && strncmp (code + 6, "000", 3) == 0)
        return refused (_("scope “%s” has 000 for its township: no township's code is 000"), code);
      if (!g_ptr_array_find_with_equal_func (scope, code, g_str_equal, NULL))
        g_ptr_array_add (scope, g_strdup (code));
    }
  if (scope->len == 0)
    return refused (_("--scope is needed: the division codes the user works in"));
  if (scope->len > HEARTH_CENTER_MAX_SCOPE)
    return refused (_("--scope names %u division codes: a user's scope is at most %d division codes (give a "
                      "township's or the county's code instead of each of its villages)"),
                    scope->len, HEARTH_CENTER_MAX_SCOPE);
  g_ptr_array_add (scope, NULL);

  user.name = (char *) name;
  user.role = role;
  user.scope = (GStrv) scope->pdata;
  if (!hearth_center_txn_add_user (txn, &user, now_ms (), &error))
    {
      if (g_error_matches (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_EXISTS))
        return refused (_("user %s exists already"), name);
      return fail_with (error);
    }
  if (!hearth_center_txn_commit (g_steal_pointer (&txn), &error))
    return fail_with (error);
  {
    /* The user name, role and scope only: no personal data. */
    g_autofree char *scope_list = g_strjoinv (",", (GStrv) scope->pdata);

    /* TRANSLATORS: user name, role (worker, clerk, township or county),
     * division codes separated by commas */
    g_print (_("Added user %s as %s for %s.\n"), name, role, scope_list);
  }
  return EXIT_DONE;
}

/* ---- enrol-code --------------------------------------------------------------------- */

static int
cmd_enrol_code (const char *db, int argc, char **argv)
{
  int ttl = 72;
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterStore) store = NULL;
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_autoptr(HearthCenterUser) user = NULL;
  g_autofree char *code = NULL;
  guint8 hash[32];
  gint64 now = now_ms ();
  GOptionEntry entries[] = {
    { "ttl", 0, 0, G_OPTION_ARG_INT, &ttl, N_("How many hours the code is valid (default 72)"), N_("HOURS") },
    { NULL }
  };

  if (!parse_command ("enrol-code", entries, _("USER"), 1, &argc, &argv))
    return EXIT_USAGE;
  if (ttl < 1 || ttl > 24 * 365)
    return refused (_("--ttl must be from 1 to %d hours"), 24 * 365);

  store = hearth_center_store_open (db, FALSE, &error);
  if (store == NULL)
    return fail_with (error);
  txn = hearth_center_store_begin (store, TRUE, &error);
  if (txn == NULL)
    return fail_with (error);
  user = hearth_center_txn_get_user (txn, argv[1], &error);
  if (user == NULL)
    {
      if (g_error_matches (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_NOT_FOUND))
        return refused (_("there is no user %s (add one with hearth-center user add)"), argv[1]);
      return fail_with (error);
    }
  code = hearth_center_code_new (hash);
  if (!hearth_center_txn_add_code (txn, hash, user->name, now, now + (gint64) ttl * 3600 * 1000, &error) ||
      !hearth_center_txn_commit (g_steal_pointer (&txn), &error))
    return fail_with (error);
  /* The code alone on standard output, so that scripts can take it. */
  g_print ("%s\n", code);
  sodium_memzero (code, strlen (code));
  return EXIT_DONE;
}

/* ---- device list | revoke --------------------------------------------------------------- */

/* With its UTC offset: the center's times are the county's, which need
 * not be the operator's terminal's. */
static char *
format_time (gint64 ms, GTimeZone *tz)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;

  if (ms == 0)
    return g_strdup ("-");
  utc = g_date_time_new_from_unix_utc (ms / 1000);
  if (utc == NULL)
    return g_strdup ("?");
  local = g_date_time_to_timezone (utc, tz);
  return g_date_time_format (local, "%Y-%m-%d %H:%M %z");
}

static int
cmd_device (const char *db, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterStore) store = NULL;
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_auto(HearthCenterCounty) county = { 0 };
  g_autoptr(GTimeZone) tz = NULL;
  GOptionEntry entries[] = { { NULL } };
  gboolean list;

  if (argc < 2 || (g_strcmp0 (argv[1], "list") != 0 && g_strcmp0 (argv[1], "revoke") != 0))
    return usage (_("the device command is: device list, or device revoke ID"));
  list = g_str_equal (argv[1], "list");
  argc--;
  argv++;
  if (!parse_command (list ? "device list" : "device revoke", entries, list ? NULL : _("ID"), list ? 0 : 1, &argc,
                      &argv))
    return EXIT_USAGE;

  store = hearth_center_store_open (db, FALSE, &error);
  if (store == NULL)
    return fail_with (error);
  txn = hearth_center_store_begin (store, !list, &error);
  if (txn == NULL || !hearth_center_txn_get_county (txn, &county, &error))
    return fail_with (error);
  tz = g_time_zone_new_identifier (county.time_zone);
  if (tz == NULL)
    tz = g_time_zone_new_utc ();

  if (list)
    {
      g_autoptr(GPtrArray) devices = hearth_center_txn_list_devices (txn, &error);

      if (devices == NULL)
        return fail_with (error);
      /* Tab-separated, one device a line, with a header: for people and
       * for cut(1) alike. */
      g_print ("%s\n", _("ID\tUSER\tNAME\tENROLLED\tLAST SEEN\tACKED\tREVOKED\tAUDIT CHAIN"));
      for (guint i = 0; i < devices->len; i++)
        {
          HearthCenterDevice *d = devices->pdata[i];
          g_autofree char *enrolled = format_time (d->enrolled_at, tz);
          g_autofree char *seen = format_time (d->last_seen_at, tz);
          g_autofree char *revoked = format_time (d->revoked_at, tz);
          g_autofree char *audit = NULL;
          g_autofree char *name = g_strdelimit (g_strdup (d->name), "\t\r\n", ' ');

          if (d->audit_broken != NULL)
            audit = g_strdup_printf (_("broken: %s"), d->audit_broken);
          else
            audit = g_strdup_printf (ngettext ("whole (%lld entry)", "whole (%lld entries)",
                                               (unsigned long) MIN (d->audit_seq, G_MAXINT)),
                                     (long long) d->audit_seq);
          g_print ("%s\t%s\t%s\t%s\t%s\t%lld\t%s\t%s\n", d->id, d->user, name, enrolled, seen,
                   (long long) d->acked_seq, revoked, audit);
        }
      return EXIT_DONE;
    }

  {
    g_autoptr(HearthCenterDevice) device = hearth_center_txn_get_device (txn, argv[1], &error);

    if (device == NULL)
      {
        if (g_error_matches (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_NOT_FOUND))
          return refused (_("there is no device %s (see hearth-center device list)"), argv[1]);
        return fail_with (error);
      }
    if (device->revoked_at != 0)
      {
        g_printerr (_("hearth-center: device %s was revoked already\n"), device->id);
        return EXIT_DONE;
      }
    device->revoked_at = now_ms ();
    if (!hearth_center_txn_save_device (txn, device, &error) ||
        !hearth_center_txn_commit (g_steal_pointer (&txn), &error))
      return fail_with (error);
    g_printerr (_("hearth-center: device %s revoked; at its next request it is told to lock and wipe its store\n"),
                device->id);
    return EXIT_DONE;
  }
}

/* ---- serve ---------------------------------------------------------------------------------- */

static gboolean
on_signal (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
}

/* A PEM file into memory (the private key into secure memory). */
static HearthSecret *
read_pem (const char *path, GError **error)
{
  g_autoptr(GBytes) bytes = hearth_file_read_bounded (path, PEM_MAX, error);
  g_autoptr(HearthSecret) pem = NULL;
  gsize len;
  const guint8 *data;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  pem = hearth_secret_new (len + 1);  /* NUL-terminated */
  memcpy (hearth_secret_get_data (pem), data, len);
  sodium_memzero ((void *) data, len);
  return g_steal_pointer (&pem);
}

/* Takes PATH.serve-lock (flock, never let go: the process holds it until
 * it ends, however it ends) for the store sqlite:PATH. A lock file of its
 * own, not the database: closing another descriptor of the database
 * would drop SQLite's locks. PATH with its links resolved: a store named
 * through a symbolic link (or ../) has one lock, not one a name. Returns
 * %FALSE when another process holds it; a lock file that cannot be made
 * is not this check's to refuse. */
static gboolean
lock_serving (const char *db)
{
  g_autofree char *real = realpath (db + strlen ("sqlite:"), NULL);
  g_autofree char *path = g_strconcat (real != NULL ? real : db + strlen ("sqlite:"), ".serve-lock", NULL);
  int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

  if (fd < 0)
    return TRUE;
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int saved = errno;

      close (fd);
      return saved != EWOULDBLOCK;
    }
  return TRUE;   /* fd kept open on purpose */
}

static int
cmd_serve (const char *db, int argc, char **argv)
{
  g_autofree char *listen = NULL;
  g_autofree char *cert_path = NULL;
  g_autofree char *key_path = NULL;
  int threads = HEARTH_CENTER_SERVER_THREADS;
  int per_ip = HEARTH_CENTER_SERVER_PER_IP;
  int idle_timeout = HEARTH_CENTER_SERVER_IDLE_TIMEOUT_S;
  int body_memory_mib = (int) (HEARTH_CENTER_SERVER_BODY_MEMORY / (1024 * 1024));
  HearthCenterServerLimits limits;
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterStore) store = NULL;
  g_autoptr(HearthCenter) center = NULL;
  g_autoptr(HearthSecret) cert = NULL;
  g_autoptr(HearthSecret) key = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  HearthCenterServer *server;
  guint left;
  GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen, N_("The address to listen on, such as 127.0.0.1:8443"),
      N_("HOST:PORT") },
    { "cert", 0, 0, G_OPTION_ARG_FILENAME, &cert_path, N_("TLS certificate chain (PEM); HTTPS with --key"),
      N_("FILE") },
    { "key", 0, 0, G_OPTION_ARG_FILENAME, &key_path, N_("TLS private key (PEM)"), N_("FILE") },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, N_("Connection threads (default 8), each with 2 request handlers"), N_("N") },
    { "per-ip", 0, 0, G_OPTION_ARG_INT, &per_ip,
      N_("Connections one address may hold open (default 64; 0 for no limit, behind a reverse proxy)"), N_("N") },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_timeout,
      N_("Seconds a silent connection stays open (default 30)"), N_("SECONDS") },
    { "body-memory", 0, 0, G_OPTION_ARG_INT, &body_memory_mib,
      N_("MiB of request bodies held at once; past it, uploads are told to retry (default 256)"), N_("MIB") },
    { NULL }
  };

  if (!parse_command ("serve", entries, NULL, 0, &argc, &argv))
    return EXIT_USAGE;
  if (listen == NULL)
    return usage (_("serve needs --listen HOST:PORT"));
  if ((cert_path == NULL) != (key_path == NULL))
    return usage (_("--cert and --key go together"));
  if (threads < 1 || threads > 256)
    return usage (_("--threads must be from 1 to 256"));
  if (per_ip < 0 || per_ip > 65535)
    return usage (_("--per-ip must be from 0 to 65535"));
  if (idle_timeout < 1 || idle_timeout > 3600)
    return usage (_("--idle-timeout must be from 1 to 3600 seconds"));
  if (body_memory_mib < 2 * HEARTH_CENTER_MAX_BODY / (1024 * 1024) || body_memory_mib > 1024 * 1024)
    return usage (_("--body-memory must be from 16 to 1048576 MiB"));
  limits = (HearthCenterServerLimits) {
    .threads = (guint) threads,
    .per_ip_connections = (guint) per_ip,
    .idle_timeout_s = (guint) idle_timeout,
    .body_memory = (gsize) body_memory_mib * 1024 * 1024,
  };
  if (cert_path != NULL)
    {
      cert = read_pem (cert_path, &error);
      if (cert == NULL)
        return fail_with (error);
      key = read_pem (key_path, &error);
      if (key == NULL)
        return fail_with (error);
    }

  store = hearth_center_store_open (db, FALSE, &error);
  if (store == NULL)
    return fail_with (error);
  if (!lock_serving (db))
    return refused (_("another hearth-center serves %s already: one serve process a store (a GET's nonces are "
                      "kept in its memory, sync/PROTOCOL.md section 4)"), db + strlen ("sqlite:"));
  center = hearth_center_new (store, &error);
  if (center == NULL)
    return fail_with (error);
  server = hearth_center_server_start (center, listen,
                                       cert != NULL ? (const char *) hearth_secret_peek (cert) : NULL,
                                       key != NULL ? (const char *) hearth_secret_peek (key) : NULL,
                                       &limits, &error);
  if (server == NULL)
    return fail_with (error);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_printerr (_("hearth-center: serving %s on %s\n"), cert != NULL ? "https" : "http", listen);
  g_main_loop_run (loop);

  g_printerr (_("hearth-center: stopping: no new connections; finishing the requests in progress\n"));
  left = hearth_center_server_stop (server, DRAIN_MS);
  if (left > 0)
    g_printerr (_("hearth-center: stopped with %u requests unfinished after %d s\n"), left, DRAIN_MS / 1000);
  else
    g_printerr (_("hearth-center: stopped\n"));
  return EXIT_DONE;
}

/* ---- export | verify-batch --------------------------------------------------------------------- */

/* The files of a batch and their records, one a line. */
static void
print_files (JsonObject *manifest)
{
  JsonArray *files = json_object_get_array_member (manifest, "files");

  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      JsonObject *f = json_array_get_object_element (files, i);
      g_print ("  %-20s %8lld\n", json_object_get_string_member (f, "name"),
               (long long) json_object_get_int_member (f, "records"));
    }
}

static int
cmd_export (const char *db, int argc, char **argv)
{
  g_autofree char *scope = NULL;
  g_autofree char *since = NULL;
  g_autofree char *until = NULL;
  g_autofree char *format = NULL;
  g_autofree char *out = NULL;
  gint64 after = 0;
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterStore) store = NULL;
  g_autoptr(JsonObject) manifest = NULL;
  HearthCenterExportQuery q = { 0 };
  GOptionEntry entries[] = {
    { "scope", 0, 0, G_OPTION_ARG_STRING, &scope,
      N_("The division code to export: the county, a township or a village"), N_("CODE") },
    { "since", 0, 0, G_OPTION_ARG_STRING, &since, N_("The first day, in the county's time zone"), N_("YYYY-MM-DD") },
    { "until", 0, 0, G_OPTION_ARG_STRING, &until, N_("The last day (default: up to now)"), N_("YYYY-MM-DD") },
    { "after-cursor", 0, 0, G_OPTION_ARG_INT64, &after,
      N_("Continue after a batch whose manifest says this cursor_to"), N_("N") },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format, N_("csv (UTF-8 with a byte order mark) or json"),
      N_("FORMAT") },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, N_("The batch folder: new or empty"), N_("DIR") },
    { NULL }
  };

  if (!parse_command ("export", entries, NULL, 0, &argc, &argv))
    return EXIT_USAGE;
  if (scope == NULL || since == NULL || format == NULL || out == NULL || *out == '\0')
    return usage (_("export needs --scope CODE, --since YYYY-MM-DD, --format csv|json and --out DIR"));
  if (!hearth_center_export_parse_format (format, &q.format, &error))
    return fail_with (error);
  q.scope = scope;
  q.since = since;
  q.until = until;
  q.after_cursor = after;

  store = hearth_center_store_open (db, FALSE, &error);
  if (store == NULL)
    return fail_with (error);
  if (!hearth_center_export (store, &q, out, 0, &manifest, NULL, &error))
    return fail_with (error);
  g_print (_("Batch written to %s: changes after %lld up to %lld (the next batch continues with --after-cursor "
             "%lld).\n"),
           out, (long long) json_object_get_int_member (manifest, "cursor_from"),
           (long long) json_object_get_int_member (manifest, "cursor_to"),
           (long long) json_object_get_int_member (manifest, "cursor_to"));
  print_files (manifest);
  return EXIT_DONE;
}

static int
cmd_verify_batch (const char *db, int argc, char **argv)
{
  g_autofree char *key_text = NULL;
  GOptionEntry entries[] = {
    { "key", 0, 0, G_OPTION_ARG_STRING, &key_text,
      N_("Refuse the batch unless it is signed with this key (as hearth-center batch-key prints it)"), N_("KEY") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) manifest = NULL;
  g_autofree char *summary = NULL;
  guint8 key[HEARTH_BATCH_KEY_BYTES], signer[HEARTH_BATCH_KEY_BYTES];
  gboolean is_signed = FALSE;

  if (!parse_command ("verify-batch", entries, _("DIR"), 1, &argc, &argv))
    return EXIT_USAGE;
  if (key_text != NULL && !hearth_batch_key_from_text (key_text, key, &error))
    return usage ("%s", error->message);
  if (!hearth_batch_verify_signed (argv[1], key_text != NULL ? key : NULL, signer, &is_signed, &manifest, &error))
    return refused (_("the batch does not verify: %s"), error->message);
  g_print (_("The batch verifies: every file has its checksum and its record count.\n"));
  summary = hearth_batch_signature_summary (is_signed, signer, key_text != NULL);
  g_print ("%s", summary);
  print_files (manifest);
  return EXIT_DONE;
}

/* Prints the center's batch signing key alone: county staff publish it,
 * and verify-batch --key checks a batch against it. */
static int
cmd_batch_key (const char *db, int argc, char **argv)
{
  GOptionEntry entries[] = { { NULL } };
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterStore) store = NULL;
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_autofree char *text = NULL;
  guint8 public_key[HEARTH_BATCH_KEY_BYTES];
  guint8 *seed;
  gboolean ok;

  if (!parse_command ("batch-key", entries, NULL, 0, &argc, &argv))
    return EXIT_USAGE;
  store = hearth_center_store_open (db, FALSE, &error);
  if (store == NULL)
    return fail_with (error);
  txn = hearth_center_store_begin (store, FALSE, &error);
  if (txn == NULL)
    return fail_with (error);
  seed = sodium_malloc (crypto_sign_SEEDBYTES);
  if (seed == NULL)
    g_error ("sodium_malloc failed");
  ok = hearth_center_txn_get_batch_key (txn, seed, public_key, &error);
  sodium_free (seed);
  if (!ok)
    return fail_with (error);
  text = hearth_batch_key_to_text (public_key);
  g_print ("%s\n", text);
  return EXIT_DONE;
}

/* ---- import-households | publish-form | set-thresholds | import-divisions--------------------------------------- */

static int
cmd_import_households (const char *db, int argc, char **argv)
{
  GOptionEntry entries[] = { { NULL } };
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterStore) store = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) notices = NULL;
  guint households = 0, members = 0;

  if (!parse_command ("import-households", entries, _("FILE.csv"), 1, &argc, &argv))
    return EXIT_USAGE;
  store = hearth_center_store_open (db, FALSE, &error);
  if (store == NULL)
    return fail_with (error);
  if (!hearth_center_import_registry (store, argv[1], &households, &members, &problems, &notices, &error))
    {
      for (guint i = 0; problems != NULL && i < problems->len; i++)
        g_printerr ("%s\n", (const char *) problems->pdata[i]);
      return fail_with (error);
    }
  g_printerr (_("hearth-center: imported %u households with %u members; tablets whose scope holds their villages "
                "receive them at their next sync\n"),
              households, members);
  /* What was not imported, line by line (a member's own address). */
  for (guint i = 0; i < notices->len; i++)
    g_printerr (_("hearth-center: not imported: %s\n"), (const char *) notices->pdata[i]);
  return EXIT_DONE;
}

static int
cmd_publish_form (const char *db, int argc, char **argv)
{
  GOptionEntry entries[] = { { NULL } };
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterStore) store = NULL;
  g_autofree char *form_id = NULL;
  g_autofree char *version = NULL;
  gboolean already = FALSE;

  if (!parse_command ("publish-form", entries, _("FORM.xml"), 1, &argc, &argv))
    return EXIT_USAGE;
  store = hearth_center_store_open (db, FALSE, &error);
  if (store == NULL)
    return fail_with (error);
  if (!hearth_center_publish_form (store, argv[1], &form_id, &version, &already, &error))
    return fail_with (error);
  if (already)
    g_printerr (_("hearth-center: form %s version %s was published already, with the same content\n"), form_id,
                version);
  else
    g_printerr (_("hearth-center: form %s version %s published; tablets receive it at their next sync\n"), form_id,
                version);
  return EXIT_DONE;
}

static int
cmd_set_thresholds (const char *db, int argc, char **argv)
{
  GOptionEntry entries[] = { { NULL } };
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterStore) store = NULL;
  g_autofree char *version = NULL;
  gboolean already = FALSE;

  if (!parse_command ("set-thresholds", entries, _("FILE.xml"), 1, &argc, &argv))
    return EXIT_USAGE;
  store = hearth_center_store_open (db, FALSE, &error);
  if (store == NULL)
    return fail_with (error);
  if (!hearth_center_set_thresholds (store, argv[1], &version, &already, &error))
    return fail_with (error);
  if (already)
    g_printerr (_("hearth-center: thresholds version %s were published already, with the same content\n"), version);
  else
    g_printerr (_("hearth-center: thresholds version %s published; tablets receive them at their next sync\n"),
                version);
  return EXIT_DONE;
}

static int
cmd_import_divisions (const char *db, int argc, char **argv)
{
  GOptionEntry entries[] = { { NULL } };
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterStore) store = NULL;
  g_autofree char *version = NULL;
  guint n = 0;

  if (!parse_command ("import-divisions", entries, _("FILE.csv"), 1, &argc, &argv))
    return EXIT_USAGE;
  store = hearth_center_store_open (db, FALSE, &error);
  if (store == NULL)
    return fail_with (error);
  if (!hearth_center_import_divisions (store, argv[1], &n, &version, &error))
    return fail_with (error);
  g_printerr (_("hearth-center: the names of %u divisions published as version %s; tablets receive them at their "
                "next sync\n"),
              n, version);
  return EXIT_DONE;
}

/* ---- backup --------------------------------------------------------------------------------------- */

static int
cmd_backup (const char *db, int argc, char **argv)
{
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterStore) store = NULL;
  GOptionEntry entries[] = {
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, N_("The backup file to make (it must not exist)"), N_("FILE") },
    { NULL }
  };

  if (!parse_command ("backup", entries, NULL, 0, &argc, &argv))
    return EXIT_USAGE;
  if (out == NULL)
    return usage (_("backup needs --out FILE"));
  store = hearth_center_store_open (db, FALSE, &error);
  if (store == NULL || !hearth_center_store_backup (store, out, &error))
    return fail_with (error);
  g_printerr (_("hearth-center: backed up to %s (checked; open it with --db sqlite:%s)\n"), out, out);
  return EXIT_DONE;
}

/* ---- vacuum --------------------------------------------------------------------------------------- */

/* The store rewritten offline (center-vacuum.h): a store made before
 * 8 KiB pages gets them, free pages go. */
static int
cmd_vacuum (const char *db, int argc, char **argv)
{
  GOptionEntry entries[] = { { NULL } };
  g_autoptr(GError) error = NULL;
  HearthCenterVacuum v;
  const char *path;

  if (!parse_command ("vacuum", entries, NULL, 0, &argc, &argv))
    return EXIT_USAGE;
  /* Migrated first, and closed: the rewrite needs the store alone. */
  {
    g_autoptr(HearthCenterStore) store = hearth_center_store_open (db, FALSE, &error);

    if (store == NULL)
      return fail_with (error);
  }
  path = db + strlen ("sqlite:");
  /* A serving center keeps the store open: told apart from the others
   * that do, by its lock. */
  if (!lock_serving (db))
    return refused (_("a hearth-center serves %s: stop it first (vacuum rewrites the whole store)"), path);
  if (!hearth_center_store_sqlite_vacuum (path, HEARTH_CENTER_STORE_SQLITE_PAGE_BYTES, &v, &error))
    return error->domain == G_IO_ERROR ? refused ("%s", error->message) : fail_with (error);
  {
    g_autofree char *before = g_format_size ((guint64) v.file_bytes_before);
    g_autofree char *after = g_format_size ((guint64) v.file_bytes_after);

    g_printerr (_("hearth-center: %s vacuumed: pages of %lld bytes, now %lld; %s, now %s\n"), path,
                (long long) v.page_bytes_before, (long long) v.page_bytes_after, before, after);
  }
  return EXIT_DONE;
}

/* ---- main ------------------------------------------------------------------------------------- */

typedef struct {
  const char *name;
  int (*run) (const char *db, int argc, char **argv);
  const char *summary;
  gboolean without_store;   /* runs on files alone: no --db needed */
} Command;

static const Command commands[] = {
  { "init", cmd_init, N_("Initialise the center: init --county CODE [--time-zone TZ] --county-key-out FILE") },
  { "serve", cmd_serve, N_("Serve devices: serve --listen HOST:PORT [--cert FILE --key FILE] [--threads N] [--per-ip N] [--idle-timeout SECONDS] [--body-memory MIB]") },
  { "user", cmd_user, N_("Add a user: user add NAME --role worker|clerk|township|county --scope CODE[,CODE…]") },
  { "enrol-code", cmd_enrol_code, N_("Issue a one-time enrolment code: enrol-code USER [--ttl HOURS]") },
  { "device", cmd_device, N_("Devices: device list; device revoke ID") },
  { "export", cmd_export, N_("Write a batch for county staff: export --scope CODE --since YYYY-MM-DD [--until YYYY-MM-DD] [--after-cursor N] --format csv|json --out DIR") },
  { "verify-batch", cmd_verify_batch, N_("Check a batch against its manifest and signature: verify-batch [--key KEY] DIR"), TRUE },
  { "batch-key", cmd_batch_key, N_("Print the key this center signs batches with, for county staff to publish") },
  { "import-households", cmd_import_households, N_("Import the county registry for the tablets: import-households FILE.csv") },
  { "publish-form", cmd_publish_form, N_("Publish a form to the tablets: publish-form FORM.xml") },
  { "set-thresholds", cmd_set_thresholds, N_("Publish the county thresholds to the tablets: set-thresholds FILE.xml") },
  { "import-divisions", cmd_import_divisions, N_("Publish the names of the county's townships and villages: import-divisions FILE.csv (code,name)") },
  { "backup", cmd_backup, N_("Copy the store while it serves, checked: backup --out FILE") },
  { "vacuum", cmd_vacuum, N_("Rewrite the store with the center stopped, in 8 KiB pages and without free pages: vacuum") },
};

static char *
describe (void)
{
  GString *s = g_string_new (_("Commands:\n"));

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (s, "  %-17s %s\n", commands[i].name, _(commands[i].summary));
  g_string_append (s, _("\nThe store is --db sqlite:PATH, else $HEARTH_CENTER_DB (verify-batch needs none).\n"));
  g_string_append (s, _("\nExit codes:\n"
                        "  0   done\n"
                        "  1   refused input (a bad code, an unknown user or device, a store that exists, a bad\n"
                        "      registry row, form or date, a batch that does not verify)\n"
                        "  2   usage\n"
                        "  70  internal error\n"));
  return g_string_free (s, FALSE);
}

/* GLib's messages below warnings stay quiet unless HEARTH_VERBOSE is set. */
static GLogWriterOutput
log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  if ((level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG)) && g_getenv ("HEARTH_VERBOSE") == NULL)
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, fields, n_fields, data);
}

int
main (int argc, char **argv)
{
  g_autoptr(GOptionContext) octx = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *db = NULL;
  g_autofree char *description = NULL;
  gboolean version = FALSE;
  const char *localedir = g_getenv ("HEARTH_LOCALEDIR");
  struct rlimit no_core = { 0, 0 };
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_STRING, &db, N_("The center's store, sqlite:PATH"), N_("URI") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version"), NULL },
    { NULL }
  };

  /* glibc gives the memory freed at the top of a heap back to the kernel
   * once 128 KiB lie there, and the next allocation faults zeroed pages
   * in again: a group commit's savepoints (SQLite's statement journal in
   * memory) and its record states take and free a few MiB every push,
   * which made page faults some 7% of the center's CPU in the bench's
   * ingest. Kept up to MALLOC_KEEP_BYTES a heap; the mmap threshold is
   * set too, since setting the trim threshold fixes it at 128 KiB. */
  mallopt (M_TRIM_THRESHOLD, MALLOC_KEEP_BYTES);
  mallopt (M_MMAP_THRESHOLD, MALLOC_KEEP_BYTES);
  /* The county key passes through memory: never into a core file. */
  setrlimit (RLIMIT_CORE, &no_core);
  signal (SIGPIPE, SIG_IGN);
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : HEARTH_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  /* Refusals echo the operator's arguments; device list prints the names
   * tablets sent. */
  hearth_terminal_install ();
  g_log_writer_default_set_use_stderr (TRUE);
  g_log_set_writer_func (log_writer, NULL, NULL);
  if (sodium_init () < 0)
    {
      g_printerr ("hearth-center: libsodium could not be initialised\n");
      return EXIT_INTERNAL;
    }

  octx = g_option_context_new (_("COMMAND [OPTION…]"));
  g_option_context_set_summary (octx, _("The Hearth county center: sync for enrolled devices, and its administration."));
  description = describe ();
  g_option_context_set_description (octx, description);
  g_option_context_add_main_entries (octx, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (octx, GETTEXT_PACKAGE);
  g_option_context_set_strict_posix (octx, TRUE);
  if (!g_option_context_parse (octx, &argc, &argv, &error))
    return usage ("%s", error->message);
  if (version)
    {
      g_print ("hearth-center %s\n", HEARTH_VERSION);
      return EXIT_DONE;
    }
  if (argc < 2)
    {
      g_autofree char *help = g_option_context_get_help (octx, TRUE, NULL);
      g_printerr ("%s", help);
      return EXIT_USAGE;
    }
  if (db == NULL)
    db = g_strdup (g_getenv ("HEARTH_CENTER_DB"));

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        if (!commands[i].without_store && (db == NULL || *db == '\0'))
          return usage (_("name the store: --db sqlite:PATH before the command"));
        return commands[i].run (db, argc - 1, argv + 1);
      }
  return usage (_("unknown command “%s”; see hearth-center --help"), argv[1]);
}

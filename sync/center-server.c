/* SPDX-License-Identifier: GPL-3.0-or-later */
/* center-server.c: hearth-center over libmicrohttpd (center-server.h). */
#define G_LOG_DOMAIN "hearth-center"

#include "center-server.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <libdeflate.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zstd.h>

/* Compression only pays for itself beyond a packet or so. */
#define GZIP_MIN_BYTES 1024
/* libdeflate's level 8, for a client that accepts gzip but not zstd (a
 * device of before zstd replies). bench-sync's village pull (9 pages, 36.5
 * MB of JSON as version 2 listed it), gzip CPU and bytes: level 1 0.07 s,
 * 2.99 MB; 6 0.18 s, 2.39 MB; 7 0.23 s, 2.33 MB; 8 0.46 s, 2.27 MB; 9 as
 * 8 at more CPU; 12 10 s, 2.19 MB. Its bytes on a slow rural link are
 * what a tablet waits for; the device inflates either in the same time.
 * The output buffer is the body's size: what does not fit goes plain,
 * and a buffer of libdeflate's bound is no faster. */
#define GZIP_LEVEL 8
/* zstd (RFC 8878, "Content-Encoding: zstd", RFC 9659), preferred when the
 * client accepts it: bench-sync's village pull as version 3 lists it (22.1
 * MB of JSON in 9 pages) took libdeflate level 8 0.25 s of CPU for 1.655
 * MB, 1.1 G of the center's 1.9 G instructions for the pull (callgrind);
 * zstd level 2 with an 8 MiB window takes 0.022 s for 1.221 MB (26% fewer
 * bytes: pages of 4 MB repeat their keys, ids and versions further apart
 * than deflate's 32 KB reach), and the device decodes it in a third of
 * zlib's inflate. Levels 1 to 4 differ by a few percent in bytes; 5 and
 * above cost 4 to 8 times the CPU for 3 to 10% fewer. The window: RFC
 * 9659 has HTTP decoders support 8 MiB and encoders use no more. */
#define ZSTD_LEVEL 2
#define ZSTD_WINDOW_LOG 23
/* Connections at most, whatever the open-file limit allows. */
#define MAX_CONNECTIONS 16384
/* Descriptors kept for the store, its WAL and the logs. */
#define RESERVED_FDS 64
/* Handler threads per libmicrohttpd thread (--threads). Requests beyond
 * them wait in the pool's queue, their connections suspended (no idle
 * timeout runs); only those on a handler count towards a push's 20
 * seconds without being taken (center-sync.c, 503 busy): with 8 per
 * thread, 64 pushes waited for the group at once and the bench's ingest
 * on a loaded machine had 171 of 400 answered busy. */
#define HANDLERS_PER_THREAD 2
/* Handler threads for pushes, whatever --threads: a push's handler
 * hands it to the center's parse threads, then waits for its group
 * commit (center-sync.c),
 * and a group takes only the pushes waiting on a handler. With the 16
 * handlers of the default --threads, a hundred tablets pushing at once
 * were committed sixteen pushes a group: each group wrote again every
 * page of the indexes keyed by record ids (random places) its few
 * hundred visits touched, most of those indexes in the bench's ingest.
 * Pushes queue here, apart from pulls and the rest, which keep their
 * own handlers; what waits beyond them still counts towards the 20 s
 * of a push not taken (503 busy) only once on a handler. */
#define PUSH_HANDLERS 128
/* How long a handler thread with nothing to do is kept for the next
 * request (hearth_center_server_start()). */
#define IDLE_HANDLER_MS 60000
/* After the drain, how long the replies the handlers made last have to
 * go out before the daemon stops (it closes every connection). */
#define REPLY_FLUSH_MS 2000
/* A body without a length reserves memory in steps of this size. */
#define BODY_STEP (64 * 1024)

struct _HearthCenterServer {
  HearthCenter *center;
  struct MHD_Daemon *daemon;
  HearthCenterServerLimits limits;
  gint in_flight;        /* requests between their request line and their end */
  gint draining;
  GMutex body_lock;
  gsize body_reserved;   /* bytes of bodies held or promised, all requests */
  /* Requests are answered here, their connection suspended meanwhile: a
   * push waits for its group commit (center-sync.c), which under load
   * took longer than the idle timeout, and a libmicrohttpd pool thread
   * blocked in it served none of its other connections, which timed out
   * and were closed unanswered (the bench's ingest lost 80 of 400). */
  GThreadPool *handlers;
  GThreadPool *push_handlers;   /* pushes (PUSH_HANDLERS) */
  /* Guards handlers and push_handlers: a body may end after the drain, while the pool is
   * being stopped; that request is refused, never handed on (its
   * connection would stay suspended, which libmicrohttpd's stop aborts on). */
  GMutex handlers_lock;
};

/* The content codings of a reply. */
typedef enum {
  REPLY_PLAIN,
  REPLY_GZIP,
  REPLY_ZSTD,
} ReplyCoding;

/* One request, from its request line (uri_log) to its end (completed). */
typedef struct {
  HearthCenterServer *server;
  char *target;          /* as sent */
  char *method;
  char *device;
  char *time;
  char *nonce;
  char *signature;
  char *content_encoding;
  ReplyCoding reply_coding;   /* what the request accepts, best first */
  GByteArray *body;
  gboolean headers_seen;
  gboolean too_large;
  gboolean busy;         /* the body budget was spent: dropped, 503 follows */
  gsize reserved;        /* of the server's body_reserved */
  gint64 started_us;
  guint status;
  gsize bytes;
  char *log_device;
  struct MHD_Connection *conn;
  gboolean handed;               /* to the handlers, its connection suspended */
  HearthCenterReply *reply;      /* theirs, once its connection is resumed */
} Request;

static void
request_free (Request *r)
{
  g_free (r->target);
  g_free (r->method);
  g_free (r->device);
  g_free (r->time);
  g_free (r->nonce);
  g_free (r->signature);
  g_free (r->content_encoding);
  if (r->body != NULL)
    g_byte_array_unref (r->body);
  g_free (r->log_device);
  hearth_center_reply_free (r->reply);
  g_free (r);
}

/* ---- the access log ------------------------------------------------------------- */

static gboolean
is_safe_text (const char *s, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (s[i]) && strchr ("/_.-", s[i]) == NULL)
      return FALSE;
  return n > 0;
}

/* The target without what could be personal: the path when it is plain
 * (else "(other)"), query names, and the values of cursor and limit only. */
static char *
loggable_target (const char *target)
{
  const char *q = target != NULL ? strchr (target, '?') : NULL;
  gsize path_len = target == NULL ? 0 : q != NULL ? (gsize) (q - target) : strlen (target);
  GString *s = g_string_new (NULL);

  if (path_len <= 64 && is_safe_text (target, path_len))
    g_string_append_len (s, target, (gssize) path_len);
  else
    g_string_append (s, "(other)");
  if (q != NULL)
    {
      g_auto(GStrv) pairs = g_strsplit (q + 1, "&", 16);

      for (guint i = 0; pairs[i] != NULL; i++)
        {
          char *eq = strchr (pairs[i], '=');
          gsize name_len = eq != NULL ? (gsize) (eq - pairs[i]) : strlen (pairs[i]);

          g_string_append_c (s, i == 0 ? '?' : '&');
          if (name_len > 32 || !is_safe_text (pairs[i], name_len))
            {
              g_string_append (s, "…");
              continue;
            }
          g_string_append_len (s, pairs[i], (gssize) name_len);
          if (eq != NULL)
            {
              gboolean shown = (strncmp (pairs[i], "cursor", name_len) == 0 ||
                                strncmp (pairs[i], "limit", name_len) == 0) &&
                               strlen (eq + 1) <= 20 && strspn (eq + 1, "0123456789") == strlen (eq + 1);
              g_string_append_printf (s, "=%s", shown ? eq + 1 : "…");
            }
        }
    }
  return g_string_free (s, FALSE);
}

static void
log_request (Request *r)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S");
  g_autofree char *target = loggable_target (r->target);
  g_autofree char *line = NULL;
  char status[16] = "-";

  if (r->status != 0)
    g_snprintf (status, sizeof status, "%u", r->status);
  line = g_strdup_printf ("%s.%03dZ %s %s %s %" G_GSIZE_FORMAT " %" G_GINT64_FORMAT " %s\n", when,
                          g_date_time_get_microsecond (now) / 1000,
                          r->method != NULL && is_safe_text (r->method, strlen (r->method)) ? r->method : "-",
                          target, status, r->bytes, (g_get_monotonic_time () - r->started_us) / 1000,
                          r->log_device != NULL ? r->log_device : "-");
  /* One write per line: lines of concurrent requests never interleave. */
  fputs (line, stderr);
}

/* ---- replies ---------------------------------------------------------------------- */

/* The coding a reply to a request with the Accept-Encoding @header
 * takes (RFC 9110 section 12.5.3): zstd or gzip (or x-gzip), whichever
 * the header weighs more, zstd when both weigh the same; a coding with
 * q=0 is refused; plain when it names neither ("*" is not read as
 * either: a client that names no coding gets what any client reads). */
static ReplyCoding
reply_coding (const char *header)
{
  double gzip_q = 0, zstd_q = 0;
  const char *p = header;

  if (header == NULL)
    return REPLY_PLAIN;
  /* Each item and each of its parameters, however many (the header is
   * bounded by libmicrohttpd's buffer): a split into a bounded number of
   * pieces left the rest of the header in the last one, whose "q=" was
   * then read as another coding's, or not read at all. */
  while (*p != '\0')
    {
      const char *end = strchr (p, ',');
      const char *name, *name_end;
      double q = 1;
      double *slot = NULL;

      if (end == NULL)
        end = p + strlen (p);
      while (p < end && (*p == ' ' || *p == '\t'))
        p++;
      name = p;
      while (p < end && *p != ';')
        p++;
      name_end = p;
      while (name_end > name && (name_end[-1] == ' ' || name_end[-1] == '\t'))
        name_end--;
      if ((name_end - name == 4 && g_ascii_strncasecmp (name, "gzip", 4) == 0) ||
          (name_end - name == 6 && g_ascii_strncasecmp (name, "x-gzip", 6) == 0))
        slot = &gzip_q;
      else if (name_end - name == 4 && g_ascii_strncasecmp (name, "zstd", 4) == 0)
        slot = &zstd_q;
      /* Its parameters, from p (at a ';' or the item's end). */
      while (slot != NULL && p < end)
        {
          const char *param = p + 1;

          while (param < end && (*param == ' ' || *param == '\t'))
            param++;
          /* A number ends at the ',' or ';' after it at the latest. */
          if (end - param >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=')
            q = g_ascii_strtod (param + 2, NULL);
          for (p = param; p < end && *p != ';'; p++)
            ;
        }
      /* Named twice: the first says it (a client names each once). */
      if (slot != NULL && *slot == 0)
        *slot = q > 0 ? q : -1;
      p = *end == ',' ? end + 1 : end;
    }
  if (zstd_q > 0 && zstd_q >= gzip_q)
    return REPLY_ZSTD;
  return gzip_q > 0 ? REPLY_GZIP : REPLY_PLAIN;
}

/* A compressor for each thread that sends replies: one is a few hundred
 * kilobytes to set up, and is not to be shared between threads. */
static GPrivate compressor_key = G_PRIVATE_INIT ((GDestroyNotify) libdeflate_free_compressor);

/* @data in gzip (RFC 1952), or %NULL when that is not smaller. Whole
 * buffer at once: the body is in memory anyway. */
static GBytes *
gzip_bytes (GBytes *data)
{
  struct libdeflate_compressor *z = g_private_get (&compressor_key);
  gsize len, out_len;
  const void *bytes = g_bytes_get_data (data, &len);
  guint8 *out;

  if (z == NULL)
    {
      z = libdeflate_alloc_compressor (GZIP_LEVEL);
      if (z == NULL)
        return NULL;
      g_private_set (&compressor_key, z);
    }
  /* No room beyond the body's own size: what does not fit goes plain. */
  out = g_malloc (len);
  out_len = libdeflate_gzip_compress (z, bytes, len, out, len);
  if (out_len == 0)
    {
      g_free (out);
      return NULL;
    }
  return g_bytes_new_take (g_realloc (out, out_len), out_len);
}

static void
zstd_free (gpointer z)
{
  ZSTD_freeCCtx (z);
}

/* A zstd context for each thread that sends replies, as for gzip. */
static GPrivate zstd_key = G_PRIVATE_INIT (zstd_free);

/* @data in zstd (one frame with its content size, RFC 8878), or %NULL
 * when that is not smaller. */
static GBytes *
zstd_bytes (GBytes *data)
{
  ZSTD_CCtx *z = g_private_get (&zstd_key);
  gsize len, out_len;
  const void *bytes = g_bytes_get_data (data, &len);
  guint8 *out;

  if (z == NULL)
    {
      z = ZSTD_createCCtx ();
      if (z == NULL)
        return NULL;
      g_private_set (&zstd_key, z);
    }
  ZSTD_CCtx_reset (z, ZSTD_reset_session_and_parameters);
  if (ZSTD_isError (ZSTD_CCtx_setParameter (z, ZSTD_c_compressionLevel, ZSTD_LEVEL)) ||
      ZSTD_isError (ZSTD_CCtx_setParameter (z, ZSTD_c_windowLog, ZSTD_WINDOW_LOG)))
    return NULL;
  /* No room beyond the body's own size: what does not fit goes plain. */
  out = g_malloc (len);
  out_len = ZSTD_compress2 (z, out, len, bytes, len);
  if (ZSTD_isError (out_len))
    {
      g_free (out);
      return NULL;
    }
  return g_bytes_new_take (g_realloc (out, out_len), out_len);
}

static enum MHD_Result
send_reply (struct MHD_Connection *conn, Request *r, HearthCenterReply *reply)
{
  g_autoptr(GBytes) body = g_bytes_ref (reply->body);
  struct MHD_Response *response;
  char number[32];
  const char *coding = NULL;
  enum MHD_Result ok;
  gsize len;
  void *data;

  if (r->reply_coding != REPLY_PLAIN && g_bytes_get_size (body) >= GZIP_MIN_BYTES)
    {
      GBytes *z = r->reply_coding == REPLY_ZSTD ? zstd_bytes (body) : gzip_bytes (body);
      if (z != NULL)
        {
          g_bytes_unref (body);
          body = z;
          coding = r->reply_coding == REPLY_ZSTD ? "zstd" : "gzip";
        }
    }
  data = g_bytes_unref_to_data (g_steal_pointer (&body), &len);
  response = MHD_create_response_from_buffer_with_free_callback (len, data, g_free);
  if (response == NULL)
    {
      g_free (data);
      return MHD_NO;
    }
  g_snprintf (number, sizeof number, "%" G_GINT64_FORMAT, reply->server_time);
  MHD_add_response_header (response, "Hearth-Time", number);
  /* The epoch on every reply, errors included (PROTOCOL.md section 12): a
   * device that meets a restored center mid-run stops before it takes a
   * page or an acknowledgement of another epoch for one of its own. */
  MHD_add_response_header (response, "Hearth-Epoch", hearth_center_get_epoch (r->server->center));
  MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
  MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  MHD_add_response_header (response, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
  if (coding != NULL)
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_ENCODING, coding);
  if (reply->retry_after > 0)
    {
      g_snprintf (number, sizeof number, "%u", reply->retry_after);
      MHD_add_response_header (response, MHD_HTTP_HEADER_RETRY_AFTER, number);
    }
  if (g_atomic_int_get (&r->server->draining))
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONNECTION, "close");
  ok = MHD_queue_response (conn, reply->status, response);
  MHD_destroy_response (response);
  r->status = reply->status;
  r->bytes = len;
  if (reply->device_id != NULL && r->log_device == NULL)
    r->log_device = g_strdup (reply->device_id);
  return ok;
}

static enum MHD_Result
send_error (struct MHD_Connection *conn, Request *r, HearthCenterError error, const char *message)
{
  g_autoptr(HearthCenterReply) reply = hearth_center_error_reply (error, message);

  return send_reply (conn, r, reply);
}

/* ---- the body budget ------------------------------------------------------------- */

/* Reserves room for @r's body to reach @total bytes; FALSE (nothing
 * reserved) when that would pass the server's budget. */
static gboolean
reserve_body (HearthCenterServer *self, Request *r, gsize total)
{
  gboolean ok;

  if (total <= r->reserved)
    return TRUE;
  g_mutex_lock (&self->body_lock);
  ok = self->body_reserved + (total - r->reserved) <= self->limits.body_memory;
  if (ok)
    {
      self->body_reserved += total - r->reserved;
      r->reserved = total;
    }
  g_mutex_unlock (&self->body_lock);
  return ok;
}

static void
release_body (HearthCenterServer *self, Request *r)
{
  g_mutex_lock (&self->body_lock);
  self->body_reserved -= r->reserved;
  g_mutex_unlock (&self->body_lock);
  r->reserved = 0;
}

static const char *
busy_message (void)
{
  return _("the center is busy receiving other uploads; try again in a moment");
}

/* ---- libmicrohttpd callbacks ---------------------------------------------------- */

static void *
on_uri (void *cls, const char *uri, struct MHD_Connection *conn)
{
  HearthCenterServer *self = cls;
  Request *r = g_new0 (Request, 1);

  r->server = self;
  r->target = g_strdup (uri);
  r->started_us = g_get_monotonic_time ();
  g_atomic_int_inc (&self->in_flight);
  return r;
}

static void
on_completed (void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode why)
{
  HearthCenterServer *self = cls;
  Request *r = *req_cls;

  if (r == NULL)
    return;
  log_request (r);
  release_body (self, r);
  request_free (r);
  *req_cls = NULL;
  g_atomic_int_dec_and_test (&self->in_flight);
}

static enum MHD_Result
add_header_size (void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  gsize *total = cls;

  /* "Name: value" and its line end. */
  *total += strlen (key) + (value != NULL ? strlen (value) : 0) + 4;
  return MHD_YES;
}

static char *
header (struct MHD_Connection *conn, const char *name)
{
  return g_strdup (MHD_lookup_connection_value (conn, MHD_HEADER_KIND, name));
}

/* Whether @r is a push (PROTOCOL.md section 7), handled by the push
 * handlers. Anything else, or a push under another spelling, goes to the
 * others (hearth_center_handle() answers it either way). */
static gboolean
is_push (const Request *r)
{
  static const char path[] = "/v1/push";

  return r->method != NULL && strcmp (r->method, "POST") == 0 && r->target != NULL &&
         strncmp (r->target, path, sizeof path - 1) == 0 &&
         (r->target[sizeof path - 1] == '\0' || r->target[sizeof path - 1] == '?');
}

static enum MHD_Result
on_request (void *cls, struct MHD_Connection *conn, const char *url, const char *method, const char *version,
            const char *upload_data, size_t *upload_data_size, void **req_cls)
{
  HearthCenterServer *self = cls;
  Request *r = *req_cls;

  if (r == NULL)
    return MHD_NO;  /* every request gets one in on_uri */

  if (!r->headers_seen)
    {
      const char *length = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
      const char *device;

      r->headers_seen = TRUE;
      r->method = g_strdup (method);
      r->device = header (conn, "Hearth-Device");
      r->time = header (conn, "Hearth-Time");
      r->nonce = header (conn, "Hearth-Nonce");
      r->signature = header (conn, "Hearth-Signature");
      r->content_encoding = header (conn, MHD_HTTP_HEADER_CONTENT_ENCODING);
      r->reply_coding = reply_coding (MHD_lookup_connection_value (conn, MHD_HEADER_KIND,
                                                                   MHD_HTTP_HEADER_ACCEPT_ENCODING));
      r->body = g_byte_array_new ();
      device = r->device;
      if (device != NULL && g_uuid_string_is_valid (device))
        r->log_device = g_strdup (device);
      if (g_atomic_int_get (&self->draining))
        return send_error (conn, r, HEARTH_CENTER_ERROR_DRAINING,
                           _("the center is shutting down; try again in a moment"));
      /* Bounded here, below the head buffer libmicrohttpd answers for
       * with an HTML page of its own: up to that buffer, a device (or a
       * proxy's admin) reads the center's error object. */
      {
        gsize head = 0;

        if (r->target != NULL && strlen (r->target) > HEARTH_CENTER_MAX_TARGET)
          {
            g_autofree char *message = g_strdup_printf (_("the request's target (path and query) is longer than "
                                                          "%d bytes"),
                                                        HEARTH_CENTER_MAX_TARGET);
            return send_error (conn, r, HEARTH_CENTER_ERROR_TOO_LONG, message);
          }
        MHD_get_connection_values (conn, MHD_HEADER_KIND, add_header_size, &head);
        if (head > HEARTH_CENTER_MAX_HEADERS)
          {
            g_autofree char *message = g_strdup_printf (_("the request's header lines are larger than %d bytes "
                                                          "together"),
                                                        HEARTH_CENTER_MAX_HEADERS);
            return send_error (conn, r, HEARTH_CENTER_ERROR_HEADERS_TOO_LARGE, message);
          }
      }
      /* Refused before a byte of it is read: a client that waits for
       * "100 Continue" never sends it. */
      if (length != NULL)
        {
          guint64 declared = g_ascii_strtoull (length, NULL, 10);

          if (declared > HEARTH_CENTER_MAX_BODY)
            {
              g_autofree char *message = g_strdup_printf (_("the body is larger than %d bytes"),
                                                          HEARTH_CENTER_MAX_BODY);
              return send_error (conn, r, HEARTH_CENTER_ERROR_TOO_LARGE, message);
            }
          /* The whole declared body is reserved before a byte is read. */
          if (!reserve_body (self, r, (gsize) declared))
            return send_error (conn, r, HEARTH_CENTER_ERROR_BUSY, busy_message ());
        }
      return MHD_YES;
    }

  if (*upload_data_size > 0)
    {
      gsize total = r->body->len + *upload_data_size;

      /* A body that grows too large, or past the budget, is read to its
       * end and dropped; the refusal follows. */
      if (!r->too_large && !r->busy && total > HEARTH_CENTER_MAX_BODY)
        r->too_large = TRUE;
      else if (!r->too_large && !r->busy &&
               !reserve_body (self, r, MIN (MAX (total, r->reserved + BODY_STEP), HEARTH_CENTER_MAX_BODY)))
        r->busy = TRUE;
      if (r->too_large || r->busy)
        {
          g_byte_array_set_size (r->body, 0);
          release_body (self, r);
        }
      else
        g_byte_array_append (r->body, (const guint8 *) upload_data, (guint) *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }

  if (r->too_large)
    {
      g_autofree char *message = g_strdup_printf (_("the body is larger than %d bytes"), HEARTH_CENTER_MAX_BODY);
      return send_error (conn, r, HEARTH_CENTER_ERROR_TOO_LARGE, message);
    }
  if (r->busy)
    return send_error (conn, r, HEARTH_CENTER_ERROR_BUSY, busy_message ());
  if (r->reply != NULL)
    {
      g_autoptr(HearthCenterReply) reply = g_steal_pointer (&r->reply);

      return send_reply (conn, r, reply);
    }
  if (!r->handed)
    {
      g_mutex_lock (&self->handlers_lock);
      if (self->handlers == NULL)
        {
          g_mutex_unlock (&self->handlers_lock);
          return send_error (conn, r, HEARTH_CENTER_ERROR_DRAINING,
                             _("the center is shutting down; try again in a moment"));
        }
      /* Suspended before it is handed on: the handler resumes it. */
      r->handed = TRUE;
      r->conn = conn;
      MHD_suspend_connection (conn);
      g_thread_pool_push (is_push (r) ? self->push_handlers : self->handlers, r, NULL);
      g_mutex_unlock (&self->handlers_lock);
    }
  return MHD_YES;
}

/* A handler thread: answers @data (a Request whose connection is
 * suspended) and resumes its connection, after which the Request is
 * libmicrohttpd's again (on_request() sends the reply). */
static void
handle_request (gpointer data, gpointer user_data)
{
  Request *r = data;
  HearthCenterServer *self = user_data;
  HearthCenterRequest request = {
    .method = r->method,
    .target = r->target,
    .device = r->device,
    .time = r->time,
    .nonce = r->nonce,
    .signature = r->signature,
    .content_encoding = r->content_encoding,
    .body = r->body->data,
    .body_len = r->body->len,
  };

  r->reply = hearth_center_handle (self->center, &request);
  MHD_resume_connection (r->conn);
}

/* Whether a program already accepts connections on @address (for a
 * wildcard address, on the loopback address of its family). The center
 * listens with SO_REUSEPORT, which would let a second center share the
 * port, each taking some tablets' connections: this check refuses that.
 * A connection refused, or none within 2 s, means nothing serves there. */
static gboolean
already_served (GSocketAddress *address)
{
  GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (address);
  GInetAddress *host = g_inet_socket_address_get_address (inet);
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) target = NULL;
  g_autoptr(GSocket) socket = NULL;
  gboolean served;

  if (g_inet_socket_address_get_port (inet) == 0)
    return FALSE;
  if (g_inet_address_get_is_any (host))
    {
      loopback = g_inet_address_new_loopback (g_inet_address_get_family (host));
      target = g_inet_socket_address_new (loopback, g_inet_socket_address_get_port (inet));
    }
  else
    target = g_object_ref (address);
  socket = g_socket_new (g_socket_address_get_family (target), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  if (socket == NULL)
    return FALSE;
  g_socket_set_timeout (socket, 2);
  served = g_socket_connect (socket, target, NULL, NULL);
  g_socket_close (socket, NULL);
  return served;
}

/* Whether this machine has @address's host: a socket binds to it (any
 * port). Checked before already_served(), whose connection would reach
 * another machine serving that port and blame it. */
static gboolean
is_local (GSocketAddress *address)
{
  GInetAddress *host = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (host, 0);
  struct sockaddr_storage native;
  gboolean local = TRUE;
  int fd;

  if (!g_socket_address_to_native (any_port, &native, sizeof native, NULL))
    return TRUE;
  fd = socket (native.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return TRUE;
  if (bind (fd, (struct sockaddr *) &native, g_socket_address_get_native_size (any_port)) != 0 &&
      errno == EADDRNOTAVAIL)
    local = FALSE;
  close (fd);
  return local;
}

/* ---- start and stop ----------------------------------------------------------------- */

/* Whether a new connection is taken: not once the drain began
 * (hearth_center_server_stop()), when it is closed at once and its
 * client retries later. This stands for MHD_quiesce_daemon(), which with
 * a thread pool races the pool's threads taking the listening socket out
 * of their epoll sets and aborts the center when they win ("Failed to
 * remove listen FD from epoll set", libmicrohttpd 0.9.75 daemon.c, seen
 * on a SIGTERM in the tests). */
static enum MHD_Result
on_accept (void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
  HearthCenterServer *self = cls;

  return g_atomic_int_get (&self->draining) ? MHD_NO : MHD_YES;
}

HearthCenterServer *
hearth_center_server_start (HearthCenter *center, const char *listen, const char *cert_pem, const char *key_pem,
                            const HearthCenterServerLimits *limits, GError **error)
{
  struct rlimit files;
  unsigned int max_connections = MAX_CONNECTIONS;
  g_autoptr(GSocketAddress) address = NULL;
  g_autofree HearthCenterServer *self = NULL;
  struct sockaddr_storage native;
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_AUTO |
                       MHD_ALLOW_SUSPEND_RESUME;
  gboolean tls = cert_pem != NULL && key_pem != NULL;

  g_return_val_if_fail (center != NULL && listen != NULL, NULL);

  {
    /* "HOST:PORT" or "[HOST]:PORT", numeric only: no DNS at start-up. */
    const char *colon = strrchr (listen, ':');
    g_autofree char *host = NULL;
    guint64 port = 0;

    if (colon != NULL && g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
      {
        host = g_strndup (listen, colon - listen);
        if (host[0] == '[' && host[strlen (host) - 1] == ']')
          {
            char *inner = g_strndup (host + 1, strlen (host) - 2);
            g_free (host);
            host = inner;
          }
        address = g_inet_socket_address_new_from_string (host, (guint) port);
      }
  }
  if (address == NULL || !g_socket_address_to_native (address, &native, sizeof native, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an address to listen on: give a numeric HOST:PORT such as 127.0.0.1:8443"),
                   listen);
      return NULL;
    }
  if (limits->threads < 1 || limits->threads > 256)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("--threads must be from 1 to 256"));
      return NULL;
    }
  if (limits->idle_timeout_s < 1 || limits->idle_timeout_s > 3600)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("--idle-timeout must be from 1 to 3600 seconds"));
      return NULL;
    }
  if (limits->body_memory < 2 * (gsize) HEARTH_CENTER_MAX_BODY)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("--body-memory must be at least %d MiB: twice the largest request body"),
                   2 * HEARTH_CENTER_MAX_BODY / (1024 * 1024));
      return NULL;
    }

  /* Each connection is a descriptor: the usual soft limit of 1,024 would
   * let about a thousand idle clients lock everyone out. Raise it to the
   * hard limit, and keep the connection ceiling below what is left. */
  if (getrlimit (RLIMIT_NOFILE, &files) == 0)
    {
      if (files.rlim_cur < files.rlim_max)
        {
          files.rlim_cur = files.rlim_max;
          if (setrlimit (RLIMIT_NOFILE, &files) != 0)
            (void) getrlimit (RLIMIT_NOFILE, &files);
        }
      if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur < (rlim_t) max_connections + RESERVED_FDS)
        max_connections = files.rlim_cur > 2 * RESERVED_FDS ? (unsigned int) (files.rlim_cur - RESERVED_FDS)
                                                             : (unsigned int) (files.rlim_cur / 2);
    }
  if ((cert_pem == NULL) != (key_pem == NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("TLS needs both a certificate and its key"));
      return NULL;
    }
  if (tls && MHD_is_feature_supported (MHD_FEATURE_TLS) != MHD_YES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, _("this libmicrohttpd was built without TLS"));
      return NULL;
    }
  if (!is_local (address))
    {
      g_autofree char *host = g_inet_address_to_string (
        g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("cannot serve on %s: this machine has no address %s (see `ip address`)"), listen, host);
      return NULL;
    }
  if (already_served (address))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
                   _("another program already serves on %s: stop it first (two centers must not share a port)"),
                   listen);
      return NULL;
    }
  if (g_socket_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    flags |= MHD_USE_IPv6;
  if (tls)
    flags |= MHD_USE_TLS;

  self = g_new0 (HearthCenterServer, 1);
  self->center = center;
  self->limits = *limits;
  g_mutex_init (&self->body_lock);
  g_mutex_init (&self->handlers_lock);
  /* Up to HANDLERS_PER_THREAD requests answered at once per --threads,
   * and PUSH_HANDLERS pushes: they mostly wait for their group commit
   * there, and a group takes every push waiting (up to
   * HEARTH_CENTER_GROUP_CHANGES). */
  /* A handler that finds no request waiting within half a second goes
   * back to GLib's shared idle threads, of which GLib keeps two and ends
   * the rest: in the bench's ingest (100 tablets, 400 pushes) the center
   * ended 46 to 121 threads and made as many again (perf's task events),
   * each new one faulting in its stack and taking an arena. Kept idle for
   * a minute instead (no measurable CPU change on a loaded box). */
  g_thread_pool_set_max_unused_threads ((gint) (limits->threads * HANDLERS_PER_THREAD + PUSH_HANDLERS));
  g_thread_pool_set_max_idle_time (IDLE_HANDLER_MS);
  self->handlers = g_thread_pool_new (handle_request, self, (gint) (limits->threads * HANDLERS_PER_THREAD), FALSE,
                                      NULL);
  self->push_handlers = g_thread_pool_new (handle_request, self, PUSH_HANDLERS, TRUE, error);
  if (self->push_handlers == NULL)
    {
      g_thread_pool_free (g_steal_pointer (&self->handlers), TRUE, FALSE);
      g_mutex_clear (&self->body_lock);
      g_mutex_clear (&self->handlers_lock);
      return NULL;
    }
  self->daemon = MHD_start_daemon (flags, 0, on_accept, self, on_request, self,
                                   MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &native,
                                   /* One thread is the daemon's own, no pool: a pool size of 1 or 0
                                    * draws a warning into the access log, so the idle timeout is
                                    * said twice instead (both take an unsigned int). */
                                   limits->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_CONNECTION_TIMEOUT,
                                   limits->threads > 1 ? (unsigned int) limits->threads
                                                       : (unsigned int) limits->idle_timeout_s,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) limits->idle_timeout_s,
                                   MHD_OPTION_CONNECTION_LIMIT, max_connections,
                                   /* A request's head is read into this (libmicrohttpd's default is
                                    * 32 KiB): the center's own 414 and 431 come below it. */
                                   MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) HEARTH_CENTER_MAX_HEAD_BUFFER,
                                   MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) limits->per_ip_connections,
                                   MHD_OPTION_URI_LOG_CALLBACK, on_uri, self,
                                   MHD_OPTION_NOTIFY_COMPLETED, on_completed, self,
                                   /* SO_REUSEPORT: a center killed mid-request restarts at once, though
                                    * its old connections still hold the port (Linux refuses a plain
                                    * SO_REUSEADDR bind then); already_served() keeps a second center off. */
                                   MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int) 1,
                                   /* Without TLS the list ends here. */
                                   tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert_pem,
                                   MHD_OPTION_HTTPS_MEM_KEY, key_pem,
                                   MHD_OPTION_END);
  if (self->daemon == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
                   _("could not serve on %s (the address is in use or not this machine's, or the certificate and "
                     "key do not match)"),
                   listen);
      g_thread_pool_free (self->handlers, FALSE, TRUE);
      g_thread_pool_free (self->push_handlers, FALSE, TRUE);
      g_mutex_clear (&self->handlers_lock);
      g_mutex_clear (&self->body_lock);
      return NULL;
    }
  return g_steal_pointer (&self);
}

guint
hearth_center_server_stop (HearthCenterServer *self, guint drain_ms)
{
  GThreadPool *handlers, *push_handlers;
  gint64 deadline = g_get_monotonic_time () + (gint64) drain_ms * 1000;
  guint left;

  /* From now on on_accept() closes new connections; what was accepted
   * is still served. */
  g_atomic_int_set (&self->draining, 1);
  while (g_atomic_int_get (&self->in_flight) > 0 && g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  /* No connection may stay suspended when the daemon stops: every
   * request handed on is answered first. */
  g_mutex_lock (&self->handlers_lock);
  handlers = g_steal_pointer (&self->handlers);
  push_handlers = g_steal_pointer (&self->push_handlers);
  g_mutex_unlock (&self->handlers_lock);
  g_thread_pool_free (handlers, FALSE, TRUE);
  g_thread_pool_free (push_handlers, FALSE, TRUE);
  /* Their replies go out before the daemon closes the connections: a push
   * stored and answered, not stored and its device left to send it again.
   * A client that reads nothing holds the stop REPLY_FLUSH_MS at most. */
  deadline = g_get_monotonic_time () + (gint64) REPLY_FLUSH_MS * 1000;
  while (g_atomic_int_get (&self->in_flight) > 0 && g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  left = (guint) MAX (g_atomic_int_get (&self->in_flight), 0);
  MHD_stop_daemon (self->daemon);
  g_mutex_clear (&self->handlers_lock);
  g_mutex_clear (&self->body_lock);
  g_free (self);
  return left;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-client-headers.c: what the sync client (sync/client.h) takes from
 * a center's refusals and from the headers of a center that answers 503,
 * from a server on 127.0.0.1 that answers each connection with a reply
 * the test wrote:
 * - Retry-After in seconds is kept up to 5 minutes, and a longer one is
 *   5 minutes (a busy center asking for an hour is not retried in
 *   seconds), however many digits it has;
 * - one that is not a number of seconds (negative, a date, in the past or
 *   not, words, empty) is no wait: the device's own backoff stands;
 * - a 2xx reply's Retry-After asks for nothing;
 * - a refusal's message (shown on the tablet's sync screen and by
 *   hearth-cli) of a megabyte, or with line breaks, control and
 *   direction-changing characters, is kept short and on one line;
 * - a redirect (a Wi-Fi sign-in page) is the network's answer, not the
 *   center's: another try, no refusal and no wipe;
 * - a reply whose Hearth-Epoch is not the epoch the client was given (a
 *   center restored from a backup, PROTOCOL.md section 12) is not read,
 *   whatever its status: HEARTH_SYNC_ERROR_RESTORED; the same epoch, no
 *   header (a center of before it), a malformed one, or no epoch given,
 *   and it is read as usual; a reply naming two epochs, one of them
 *   another, is not read either, whichever comes last;
 * - a reply whose connection closed inside its headers (which libcurl
 *   reads as a whole reply without a body) is a cut connection, not the
 *   center's word, whatever its status: its time and epoch are not
 *   taken (issue 5: a 401 cut so ended a sync on "no reason given");
 * - a 4xx without the center's error object and its code (a proxy's page,
 *   an empty body) is the network's answer: another try, no refusal, no
 *   wipe; with it, the center's refusal as before;
 * - a replay refusal is signed again with a fresh nonce, three times,
 *   and one that persists is the network's doing (another try later); a
 *   stale time is tried once more and then refused, a bad signature and a
 *   revoked device at once;
 * - the client asks replies in zstd and gzip when its libcurl decodes
 *   zstd, else in gzip (PROTOCOL.md section 2).
 */
#include "test-util.h"
#include "client.h"
#include "sign.h"

#include <curl/curl.h>
#include <libdeflate.h>
#include <zstd.h>
#include <gio/gio.h>
#include <string.h>

typedef struct {
  GSocketListener *listener;
  GAsyncQueue *replies;   /* one reply per connection; "" stops */
  GAsyncQueue *requests;  /* (nullable): the head of each request read */
} Server;

static gpointer
serve (gpointer data)
{
  Server *s = data;

  for (;;)
    {
      g_autofree char *reply = g_async_queue_pop (s->replies);
      g_autoptr(GSocketConnection) conn = NULL;
      g_autoptr(GError) error = NULL;
      GInputStream *in;
      g_autoptr(GString) request = g_string_new (NULL);
      char buf[4096];

      if (reply[0] == '\0')
        return NULL;
      conn = g_socket_listener_accept (s->listener, NULL, NULL, &error);
      g_assert_no_error (error);
      in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
      /* The request's head (a GET has no body). */
      while (strstr (request->str, "\r\n\r\n") == NULL)
        {
          gssize n = g_input_stream_read (in, buf, sizeof buf, NULL, &error);

          g_assert_no_error (error);
          if (n <= 0)
            break;
          g_string_append_len (request, buf, n);
        }
      if (s->requests != NULL)
        g_async_queue_push (s->requests, g_strdup (request->str));
      /* "BIN:" LENGTH "\n" and that many bytes (NULs among them), or text. */
      {
        const char *bytes = reply;
        gsize len = strlen (reply);

        if (g_str_has_prefix (reply, "BIN:"))
          {
            char *nl = strchr (reply, '\n');

            len = (gsize) g_ascii_strtoull (reply + 4, NULL, 10);
            bytes = nl + 1;
          }
        g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), bytes, len,
                                                  NULL, NULL, &error));
      }
      g_assert_no_error (error);
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    }
}

/* The client's Retry-After (ms) after a reply of @status with the header
 * line @header (NULL: none). */
static gint64
retry_after (Server *s, HearthSyncClient *client, guint status, const char *header)
{
  const char *body = "{\"error\": \"busy\", \"message\": \"the center is busy\"}";
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = NULL;
  guint got = 0;

  g_async_queue_push (s->replies,
                      g_strdup_printf ("HTTP/1.1 %u Reply\r\nContent-Type: application/json\r\n%s%s"
                                       "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                       status, header != NULL ? header : "", header != NULL ? "\r\n" : "",
                                       strlen (body), body));
  reply = hearth_sync_client_call (client, "GET", "/v1/status", NULL, FALSE, &got, &error);
  g_assert_cmpuint (got, ==, status);
  return hearth_sync_client_get_retry_after (client);
}

/* @s's next reply: @status with @body, and the header line @header (NULL: none). */
static void
queue_reply (Server *s, guint status, const char *header, const char *body)
{
  g_async_queue_push (s->replies,
                      g_strdup_printf ("HTTP/1.1 %u Reply\r\nContent-Type: application/json\r\n%s%s"
                                       "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                       status, header != NULL ? header : "", header != NULL ? "\r\n" : "",
                                       strlen (body), body));
}

static void
server_start (Server *s, char **url)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  s->listener = g_socket_listener_new ();
  s->replies = g_async_queue_new_full (g_free);
  g_assert_true (g_socket_listener_add_address (s->listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                                NULL, &bound, &error));
  g_assert_no_error (error);
  *url = g_strdup_printf ("http://127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
}

#define EPOCH_A "0123456789abcdef0123456789abcdef"
#define EPOCH_B "fedcba9876543210fedcba9876543210"

/* Calls the server, which answers @status with @header; the reply read,
 * or NULL with @error. */
static JsonNode *
call_with (Server *s, HearthSyncClient *client, guint status, const char *header, GError **error)
{
  queue_reply (s, status, header, status < 300 ? "{\"acked\": 3}" : "{\"error\": {\"code\": \"gap\", \"message\": \"gap\"}}");
  return hearth_sync_client_call (client, "GET", "/v1/pull", NULL, FALSE, NULL, error);
}

static void
test_epoch (void)
{
  Server s = { 0 };
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;
  HearthSyncClient *client;
  GThread *thread;

  server_start (&s, &url);
  thread = g_thread_new ("server", serve, &s);
  client = hearth_sync_client_new (url, &error);
  g_assert_no_error (error);

  /* No epoch given: every reply is read; the last one's is kept. */
  {
    g_autoptr(JsonNode) r = call_with (&s, client, 200, "Hearth-Epoch: " EPOCH_B, &error);

    g_assert_no_error (error);
    g_assert_nonnull (r);
    g_assert_cmpstr (hearth_sync_client_get_epoch (client), ==, EPOCH_B);
  }
  hearth_sync_client_set_epoch (client, EPOCH_A);
  /* The same epoch, or none said (a center of before it): read. */
  {
    g_autoptr(JsonNode) same = call_with (&s, client, 200, "hearth-epoch:  " EPOCH_A " ", &error);

    g_assert_no_error (error);
    g_assert_nonnull (same);
  }
  {
    g_autoptr(JsonNode) none = call_with (&s, client, 200, NULL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (none);
    g_assert_null (hearth_sync_client_get_epoch (client));
  }
  /* Not an epoch (capitals, too short): as none. */
  {
    g_autoptr(JsonNode) odd = call_with (&s, client, 200, "Hearth-Epoch: FEDCBA9876543210FEDCBA9876543210", &error);

    g_assert_no_error (error);
    g_assert_nonnull (odd);
  }
  {
    g_autoptr(JsonNode) odd = call_with (&s, client, 200, "Hearth-Epoch: fedcba", &error);

    g_assert_no_error (error);
    g_assert_nonnull (odd);
  }
  /* Another epoch: neither an acknowledgement nor a refusal is read. */
  {
    g_autoptr(JsonNode) other = call_with (&s, client, 200, "Hearth-Epoch: " EPOCH_B, &error);

    g_assert_null (other);
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_RESTORED);
    g_assert_cmpstr (hearth_sync_client_get_epoch (client), ==, EPOCH_B);
    g_clear_error (&error);
  }
  {
    g_autoptr(JsonNode) other = call_with (&s, client, 409, "Hearth-Epoch: " EPOCH_B, &error);

    g_assert_null (other);
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_RESTORED);
    g_assert_null (hearth_sync_client_get_error_code (client));
    g_clear_error (&error);
  }
  /* Two epochs in one reply (a middlebox's doing; the center says one):
   * another epoch is in it, whichever comes last, so it is not read. */
  {
    g_autoptr(JsonNode) two = call_with (&s, client, 200, "Hearth-Epoch: " EPOCH_B "\r\nHearth-Epoch: " EPOCH_A,
                                         &error);

    g_assert_null (two);
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_RESTORED);
    g_clear_error (&error);
  }
  {
    g_autoptr(JsonNode) two = call_with (&s, client, 200, "Hearth-Epoch: " EPOCH_A "\r\nHearth-Epoch: " EPOCH_B,
                                         &error);

    g_assert_null (two);
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_RESTORED);
    g_clear_error (&error);
  }
  /* The same epoch twice is one epoch. */
  {
    g_autoptr(JsonNode) twice = call_with (&s, client, 200, "Hearth-Epoch: " EPOCH_A "\r\nHearth-Epoch: " EPOCH_A,
                                           &error);

    g_assert_no_error (error);
    g_assert_nonnull (twice);
  }
  /* Given none again (GET /v1/epoch is read whatever the epoch). */
  hearth_sync_client_set_epoch (client, NULL);
  {
    g_autoptr(JsonNode) r = call_with (&s, client, 200, "Hearth-Epoch: " EPOCH_B, &error);

    g_assert_no_error (error);
    g_assert_nonnull (r);
  }

  g_async_queue_push (s.replies, g_strdup (""));
  g_thread_join (thread);
  hearth_sync_client_free (client);
  g_socket_listener_close (s.listener);
  g_object_unref (s.listener);
  g_async_queue_unref (s.replies);
}

static void
test_retry_after (void)
{
  Server s = { g_socket_listener_new (), g_async_queue_new_full (g_free) };
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *url = NULL;
  HearthSyncClient *client;
  GThread *thread;

  g_assert_true (g_socket_listener_add_address (s.listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                                NULL, &bound, &error));
  g_assert_no_error (error);
  url = g_strdup_printf ("http://127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  thread = g_thread_new ("server", serve, &s);
  client = hearth_sync_client_new (url, &error);
  g_assert_no_error (error);

  g_assert_cmpint (retry_after (&s, client, 503, "Retry-After: 120"), ==, 120 * 1000);
  g_assert_cmpint (retry_after (&s, client, 503, "retry-after:   7  "), ==, 7 * 1000);
  g_assert_cmpint (retry_after (&s, client, 503, NULL), ==, 0);
  /* Longer than the longest backoff: the longest, not nothing. */
  g_assert_cmpint (retry_after (&s, client, 503, "Retry-After: 3600"), ==, 300 * 1000);
  g_assert_cmpint (retry_after (&s, client, 503, "Retry-After: 301"), ==, 300 * 1000);
  g_assert_cmpint (retry_after (&s, client, 500, "Retry-After: 99999999999999999999999999"), ==, 300 * 1000);
  /* Not a number of seconds: no wait of the center's. */
  g_assert_cmpint (retry_after (&s, client, 503, "Retry-After: -5"), ==, 0);
  g_assert_cmpint (retry_after (&s, client, 503, "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT"), ==, 0);
  g_assert_cmpint (retry_after (&s, client, 503, "Retry-After: Fri, 31 Dec 9999 23:59:59 GMT"), ==, 0);
  g_assert_cmpint (retry_after (&s, client, 503, "Retry-After: soon"), ==, 0);
  g_assert_cmpint (retry_after (&s, client, 503, "Retry-After: 12abc"), ==, 0);
  g_assert_cmpint (retry_after (&s, client, 503, "Retry-After: 1.5"), ==, 0);
  g_assert_cmpint (retry_after (&s, client, 503, "Retry-After:"), ==, 0);
  /* Only a 5xx asks to wait. */
  g_assert_cmpint (retry_after (&s, client, 200, "Retry-After: 120"), ==, 0);

  g_async_queue_push (s.replies, g_strdup (""));
  g_thread_join (thread);
  hearth_sync_client_free (client);
  g_socket_listener_close (s.listener);
  g_object_unref (s.listener);
  g_async_queue_unref (s.replies);
}

static void
test_refusal_message (void)
{
  g_autoptr(GString) big = g_string_new ("{\"error\": {\"code\": \"scope\", \"message\": \"");
  g_autoptr(GError) error = NULL;
  g_autofree char *code = NULL;

  for (guint i = 0; i < 1024 * 1024 / 8; i++)
    g_string_append (big, "refused ");
  g_string_append (big, "\"}}");
  g_assert_null (hearth_sync_parse_reply (big->str, big->len, 403, &code, NULL, &error));
  g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_REFUSED);
  g_assert_cmpstr (code, ==, "scope");
  g_assert_true (g_str_has_prefix (error->message, "the center answered 403: refused refused"));
  g_assert_cmpuint (g_utf8_strlen (error->message, -1), <, 600);
  g_assert_true (g_str_has_suffix (error->message, "…"));
  g_clear_error (&error);

  {
    const char *odd = "{\"error\": {\"message\": \"line one\\nline two\\r\\u0007\\u202egnol\\u2028\\u00e9\\u8bbe\\u5907 ok\"}}";

    g_assert_null (hearth_sync_parse_reply (odd, strlen (odd), 500, NULL, NULL, &error));
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE);
    g_assert_cmpstr (error->message, ==, "the center answered 500: line one line two   gnol é设备 ok");
  }
}

/* A redirect is not the center's answer but the network's (a sign-in
 * page of the township's Wi-Fi, a proxy): worth another try, never the
 * center's refusal ("Tell county IT", hearth-cli exit 6, no retry). */
static void
test_redirect (void)
{
  const char *html = "<html><body>Sign in to the Wi-Fi</body></html>";
  g_autoptr(GError) error = NULL;
  gboolean wipe = TRUE;

  for (guint status = 300; status < 400; status += 1)
    {
      g_assert_null (hearth_sync_parse_reply (html, strlen (html), status, NULL, &wipe, &error));
      g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE);
      g_assert_false (wipe);
      g_clear_error (&error);
    }
  /* Even one that copies the center's refusal. */
  {
    const char *revoked = "{\"error\": {\"code\": \"revoked\", \"message\": \"revoked\", \"wipe\": true}}";

    g_assert_null (hearth_sync_parse_reply (revoked, strlen (revoked), 302, NULL, &wipe, &error));
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE);
    g_assert_false (wipe);
  }
}

/* Calls the server, which answers the bytes @raw and closes. */
static JsonNode *
call_raw (Server *s, HearthSyncClient *client, const char *raw, guint *status, GError **error)
{
  g_async_queue_push (s->replies, g_strdup (raw));
  return hearth_sync_client_call (client, "GET", "/v1/pull", NULL, FALSE, status, error);
}

static void
server_stop (Server *s, GThread *thread)
{
  g_async_queue_push (s->replies, g_strdup (""));
  g_thread_join (thread);
  g_socket_listener_close (s->listener);
  g_object_unref (s->listener);
  g_async_queue_unref (s->replies);
  if (s->requests != NULL)
    g_async_queue_unref (s->requests);
}

/* A reply cut inside its headers: libcurl 7.88 ends the transfer without
 * an error when the connection closes before the blank line, and a cut
 * before Content-Length (the last header libmicrohttpd writes) leaves a
 * status and no body. The center's 401 head as libmicrohttpd writes it. */
static void
test_cut_head (void)
{
  const char *body = "{\"error\": {\"code\": \"unknown-device\", \"message\": \"enrol again\"}}";
  g_autofree char *whole = g_strdup_printf ("HTTP/1.1 401 Unauthorized\r\nDate: Tue, 01 Dec 2026 02:16:23 GMT\r\n"
                                            "Hearth-Time: 1796091383278\r\nHearth-Epoch: " EPOCH_B "\r\n"
                                            "Content-Type: application/json; charset=utf-8\r\n"
                                            "Cache-Control: no-store\r\nVary: Accept-Encoding\r\n"
                                            "Content-Length: %zu\r\n\r\n%s",
                                            strlen (body), body);
  const char *heads[] = {
    "HTTP/1.1 401 Unauthorized\r\n",
    "HTTP/1.1 401 Unauthorized\r\nDate: Tue, 01 Dec 2026 02:16:23 GMT\r\nHearth-Time: 1796091383278\r\n",
    "HTTP/1.1 401 Unauthorized\r\nDate: Tue, 01 Dec 2026 02:16:23 GMT\r\nHearth-Time: 1796091383278\r\n"
    "Hearth-Epoch: " EPOCH_B "\r\nContent-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\n"
    "Vary: Accept-Encoding\r\n",
    "HTTP/1.1 409 Conflict\r\nDate: Tue, 01 Dec 2026 02:16:23 GMT\r\n",
    "HTTP/1.1 403 Forbidden\r\nHearth-Time: 1796091383278\r\n",
    "HTTP/1.1 200 OK\r\nHearth-Time: 1796091383278\r\n",
  };
  Server s = { 0 };
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;
  HearthSyncClient *client;
  GThread *thread;

  server_start (&s, &url);
  thread = g_thread_new ("server", serve, &s);
  client = hearth_sync_client_new (url, &error);
  g_assert_no_error (error);
  hearth_sync_client_set_time_offset (client, 1234);
  hearth_sync_client_set_epoch (client, EPOCH_A);

  for (guint i = 0; i < G_N_ELEMENTS (heads); i++)
    {
      g_autoptr(JsonNode) reply = call_raw (&s, client, heads[i], NULL, &error);

      g_assert_null (reply);
      /* Neither a refusal nor another epoch: a cut connection. */
      g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE);
      g_assert_nonnull (strstr (error->message, "inside its headers"));
      g_assert_null (hearth_sync_client_get_error_code (client));
      g_assert_false (hearth_sync_client_get_wipe (client));
      /* Its Hearth-Time is not learnt, nor its epoch taken. */
      g_assert_cmpint (hearth_sync_client_get_time_offset (client), ==, 1234);
      g_assert_null (hearth_sync_client_get_epoch (client));
      g_clear_error (&error);
    }
  /* The whole reply: the center's refusal (of another epoch here). */
  hearth_sync_client_set_epoch (client, EPOCH_B);
  {
    g_autoptr(JsonNode) reply = call_raw (&s, client, whole, NULL, &error);

    g_assert_null (reply);
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_REFUSED);
    g_assert_cmpstr (hearth_sync_client_get_error_code (client), ==, "unknown-device");
    g_assert_cmpint (hearth_sync_client_get_time_offset (client), !=, 1234);
    g_clear_error (&error);
  }

  hearth_sync_client_free (client);
  server_stop (&s, thread);
}

/* Only the center's error object, with its code, is the center's word. */
static void
test_refusal_shape (void)
{
  const char *not_the_center[] = {
    "",
    "<html><body><h1>401 Authorization Required</h1></body></html>",
    "{\"error\": \"replay\"}",
    "{\"error\": {\"message\": \"lock and wipe\", \"wipe\": true}}",
    "{\"error\": {\"code\": 5, \"message\": \"m\", \"wipe\": true}}",
    "{\"acked\": 3}",
    "[1, 2]",
  };
  const guint statuses[] = { 400, 401, 403, 404, 407, 409, 410, 413, 429 };

  for (guint i = 0; i < G_N_ELEMENTS (not_the_center); i++)
    for (guint j = 0; j < G_N_ELEMENTS (statuses); j++)
      {
        g_autoptr(GError) error = NULL;
        char *code = (char *) "not set";
        gboolean wipe = TRUE;

        g_assert_null (hearth_sync_parse_reply (not_the_center[i], strlen (not_the_center[i]), statuses[j], &code,
                                                &wipe, &error));
        /* A web page (a proxy's, a Wi-Fi's sign-in) is said as such; a
         * 413 whatever its body is a proxy's limit on the request's
         * size, not worth sending again as it is. */
        g_assert_error (error, HEARTH_SYNC_ERROR,
                        (statuses[j] == 413               ? HEARTH_SYNC_ERROR_PROTOCOL
                         : not_the_center[i][0] == '<' ? HEARTH_SYNC_ERROR_WEB_PAGE
                                                       : HEARTH_SYNC_ERROR_UNREACHABLE));
        g_assert_null (code);
        g_assert_false (wipe);
        g_assert_null (strstr (error->message, "no reason given"));
      }
  /* The center's refusals are as before. */
  {
    const char *revoked = "{\"error\": {\"code\": \"revoked\", \"message\": \"wipe it\", \"wipe\": true}}";
    const char *signature = "{\"error\": {\"code\": \"bad-signature\"}}";
    const char *malformed = "{\"error\": {\"code\": \"bad-json\", \"message\": \"line 1\"}}";
    g_autoptr(GError) error = NULL;
    g_autofree char *code = NULL;
    gboolean wipe = FALSE;

    g_assert_null (hearth_sync_parse_reply (revoked, strlen (revoked), 403, &code, &wipe, &error));
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_REFUSED);
    g_assert_cmpstr (code, ==, "revoked");
    g_assert_true (wipe);
    g_clear_error (&error);
    g_clear_pointer (&code, g_free);
    g_assert_null (hearth_sync_parse_reply (signature, strlen (signature), 401, &code, &wipe, &error));
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_REFUSED);
    g_assert_cmpstr (error->message, ==, "the center answered 401: bad-signature");
    g_assert_false (wipe);
    g_clear_error (&error);
    g_clear_pointer (&code, g_free);
    g_assert_null (hearth_sync_parse_reply (malformed, strlen (malformed), 400, &code, NULL, &error));
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL);
  }
}

/* The value of @name in the request head @head. */
static char *
request_header (const char *head, const char *name)
{
  g_auto(GStrv) lines = g_strsplit (head, "\r\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_ascii_strncasecmp (lines[i], name, strlen (name)) == 0 && lines[i][strlen (name)] == ':')
      return g_strstrip (g_strdup (lines[i] + strlen (name) + 1));
  return NULL;
}

/* A signed call answered @n_refusals times 401 @code, then 200: the
 * reply, or NULL with @error and *@code_out the client's error code;
 * *@requests the requests the client made, each of which must have had a
 * nonce of its own. */
static JsonNode *
refused_then_ok (Server *s, HearthSyncClient *client, const char *code, guint n_refusals, guint *requests,
                 char **code_out, GError **error)
{
  g_autofree char *refusal = g_strdup_printf ("{\"error\": {\"code\": \"%s\", \"message\": \"%s\"}}", code, code);
  g_autoptr(GHashTable) nonces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  JsonNode *reply;
  char *head;

  for (guint i = 0; i < n_refusals; i++)
    queue_reply (s, 401, "Hearth-Time: 1796091383278", refusal);
  queue_reply (s, 200, NULL, "{\"acked\": 3}");
  reply = hearth_sync_client_call (client, "GET", "/v1/pull", NULL, TRUE, NULL, error);
  *code_out = g_strdup (hearth_sync_client_get_error_code (client));
  *requests = 0;
  while ((head = g_async_queue_try_pop (s->requests)) != NULL)
    {
      g_autofree char *nonce = request_header (head, "Hearth-Nonce");

      g_assert_nonnull (nonce);
      g_assert_false (g_hash_table_contains (nonces, nonce));
      g_hash_table_add (nonces, g_steal_pointer (&nonce));
      (*requests)++;
      g_free (head);
    }
  /* The replies the client did not ask for are read away. */
  for (guint i = *requests; i < n_refusals + 1; i++)
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(JsonNode) left = hearth_sync_client_call (client, "GET", "/v1/pull", NULL, FALSE, NULL, &local);

      g_free (g_async_queue_pop (s->requests));
    }
  return reply;
}

/* The codings the client asks replies in (PROTOCOL.md section 2): zstd
 * first when its libcurl decodes zstd, and gzip; a plain reply is read. */
static void
test_accept_encoding (void)
{
  Server s = { 0 };
  g_autofree char *url = NULL;
  g_autofree char *head = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = NULL;
  const curl_version_info_data *info = curl_version_info (CURLVERSION_NOW);
  HearthSyncClient *client;
  GThread *thread;
  guint status = 0;

  server_start (&s, &url);
  s.requests = g_async_queue_new_full (g_free);
  thread = g_thread_new ("server", serve, &s);
  client = hearth_sync_client_new (url, &error);
  g_assert_no_error (error);
  queue_reply (&s, 200, NULL, "{\"ok\": true}");
  reply = hearth_sync_client_call (client, "GET", "/v1/status", NULL, FALSE, &status, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_cmpuint (status, ==, 200);
  head = g_async_queue_pop (s.requests);
  g_test_message ("%s", head);
  if ((info->features & CURL_VERSION_ZSTD) != 0)
    g_assert_nonnull (strstr (head, "\r\nAccept-Encoding: zstd, gzip\r\n"));
  else
    g_assert_nonnull (strstr (head, "\r\nAccept-Encoding: gzip\r\n"));
  hearth_sync_client_free (client);
  server_stop (&s, thread);
}

/* A reply of @body's bytes in @coding, for the server's queue ("BIN:"). */
static char *
binary_reply (const char *coding, const void *body, gsize len)
{
  g_autofree char *head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                           "Content-Encoding: %s\r\nContent-Length: %zu\r\n"
                                           "Connection: close\r\n\r\n", coding, len);
  g_autofree char *prefix = g_strdup_printf ("BIN:%zu\n", strlen (head) + len);
  gsize at = strlen (prefix);
  char *out = g_malloc (at + strlen (head) + len + 1);

  memcpy (out, prefix, at);
  memcpy (out + at, head, strlen (head));
  memcpy (out + at + strlen (head), body, len);
  out[at + strlen (head) + len] = '\0';
  return out;
}

/* A hostile center's reply that decodes to more than
 * HEARTH_SYNC_MAX_REPLY (a few kilobytes of zstd or gzip of 70 MiB of
 * spaces, valid JSON around them) is refused as too large, whatever its
 * coding, and a small one in each coding is read. */
static void
test_reply_bomb (void)
{
  const curl_version_info_data *info = curl_version_info (CURLVERSION_NOW);
  static const char *const codings[] = { "zstd", "gzip" };
  gsize big = 70 * 1024 * 1024;
  g_autofree char *plain = g_malloc (big);
  Server s = { 0 };
  g_autofree char *url = NULL;
  HearthSyncClient *client;
  GThread *thread;

  g_assert_cmpuint (big, >, HEARTH_SYNC_MAX_REPLY);
  memset (plain, ' ', big);
  plain[0] = '{';
  memcpy (plain + big - 12, "\"ok\": true}", 12);
  server_start (&s, &url);
  thread = g_thread_new ("server", serve, &s);
  client = hearth_sync_client_new (url, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (codings); i++)
    for (guint small = 0; small < 2; small++)
      {
        const char *text = small ? "{\"ok\": true}" : plain;
        gsize len = small ? strlen (text) : big;
        g_autofree guint8 *packed = NULL;
        gsize packed_len;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) reply = NULL;
        guint status = 0;

        if (i == 0 && (info->features & CURL_VERSION_ZSTD) == 0)
          continue;
        if (i == 0)
          {
            packed = g_malloc (ZSTD_compressBound (len));
            packed_len = ZSTD_compress (packed, ZSTD_compressBound (len), text, len, 19);
            g_assert_false (ZSTD_isError (packed_len));
          }
        else
          {
            struct libdeflate_compressor *z = libdeflate_alloc_compressor (12);

            packed = g_malloc (libdeflate_gzip_compress_bound (z, len));
            packed_len = libdeflate_gzip_compress (z, text, len, packed, libdeflate_gzip_compress_bound (z, len));
            libdeflate_free_compressor (z);
            g_assert_cmpuint (packed_len, >, 0);
          }
        g_test_message ("%s, %zu bytes decoding to %zu", codings[i], packed_len, len);
        g_assert_cmpuint (packed_len, <, 1024 * 1024);
        g_async_queue_push (s.replies, binary_reply (codings[i], packed, packed_len));
        reply = hearth_sync_client_call (client, "GET", "/v1/status", NULL, FALSE, &status, &error);
        if (small)
          {
            g_assert_no_error (error);
            g_assert_nonnull (reply);
            continue;
          }
        g_assert_null (reply);
        g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL);
        g_assert_nonnull (strstr (error->message, "larger than"));
      }
  hearth_sync_client_free (client);
  server_stop (&s, thread);
}

static void
test_replay_and_stale (void)
{
  Server s = { 0 };
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthSecret) secret = NULL;
  guint8 public_key[32];
  HearthSyncClient *client;
  GThread *thread;
  guint requests = 0;

  server_start (&s, &url);
  s.requests = g_async_queue_new_full (g_free);
  thread = g_thread_new ("server", serve, &s);
  client = hearth_sync_client_new (url, &error);
  g_assert_no_error (error);
  secret = hearth_sign_keypair (public_key);
  hearth_sync_client_set_identity (client, "0b5e6a55-0000-4000-8000-000000000001", hearth_secret_peek (secret));

  /* Replays (copies of this request came first): signed again, a fresh
   * nonce each time, up to three times. */
  for (guint n = 0; n <= 3; n++)
    {
      g_autofree char *code = NULL;
      g_autoptr(JsonNode) reply = refused_then_ok (&s, client, "replay", n, &requests, &code, &error);

      g_assert_no_error (error);
      g_assert_nonnull (reply);
      g_assert_cmpuint (requests, ==, n + 1);
    }
  /* A replay that persists is the network's doing: another try later. */
  {
    g_autofree char *code = NULL;
    g_autoptr(JsonNode) reply = refused_then_ok (&s, client, "replay", 4, &requests, &code, &error);

    g_assert_null (reply);
    g_assert_cmpuint (requests, ==, 4);
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE);
    g_assert_null (code);
    g_clear_error (&error);
  }
  /* A stale time: once more with the center's time, then refused. */
  {
    g_autofree char *code = NULL;
    g_autoptr(JsonNode) reply = refused_then_ok (&s, client, "stale", 1, &requests, &code, &error);

    g_assert_no_error (error);
    g_assert_nonnull (reply);
    g_assert_cmpuint (requests, ==, 2);
  }
  {
    g_autofree char *code = NULL;
    g_autoptr(JsonNode) reply = refused_then_ok (&s, client, "stale", 2, &requests, &code, &error);

    g_assert_null (reply);
    g_assert_cmpuint (requests, ==, 2);
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_REFUSED);
    g_assert_cmpstr (code, ==, "stale");
    g_clear_error (&error);
  }
  /* A bad signature, an unknown device: refused at once. */
  {
    g_autofree char *code = NULL;
    g_autoptr(JsonNode) reply = refused_then_ok (&s, client, "bad-signature", 1, &requests, &code, &error);

    g_assert_null (reply);
    g_assert_cmpuint (requests, ==, 1);
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_REFUSED);
    g_assert_cmpstr (code, ==, "bad-signature");
    g_clear_error (&error);
  }
  {
    g_autofree char *code = NULL;
    g_autoptr(JsonNode) reply = refused_then_ok (&s, client, "unknown-device", 1, &requests, &code, &error);

    g_assert_null (reply);
    g_assert_cmpuint (requests, ==, 1);
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_REFUSED);
    g_clear_error (&error);
  }

  hearth_sync_client_free (client);
  server_stop (&s, thread);
}

/* The center's address as libcurl reads it (break13): a prefix check let
 * a user name ("http://127.0.0.1@host") or a longer host name
 * ("http://localhost.example") take plain http to another machine. */
static void
test_center_address (void)
{
  const char *good[] = { "https://center.example.gov.cn", "https://center.example.gov.cn:8443/hearth/",
                         "https://10.1.2.3:8443", "http://127.0.0.1:8470", "http://127.0.0.5:8470/",
                         "http://localhost:8470", "http://[::1]:8470", "https://[2001:db8::1]:8443" };
  const char *bad[] = { "", "center.example.gov.cn", "ftp://127.0.0.1:21", "http://192.0.2.1:8470",
                        "http://127.0.0.1@192.0.2.1:8470", "https://user:secret@center.example.gov.cn",
                        "http://localhost.example:8470", "http://127.0.0.1.example:8470", "http://[::1",
                        "http://127.0.0.1:99999", "http://127.0.0.1:0", "http://127.0.0.1:8470 ",
                        "https://center.example.gov.cn?x=1", "https://center.example.gov.cn/#top",
                        "https://cen ter.example.gov.cn" };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      HearthSyncClient *client = hearth_sync_client_new (good[i], &error);

      g_assert_no_error (error);
      g_assert_nonnull (client);
      hearth_sync_client_free (client);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_null (hearth_sync_client_new (bad[i], &error));
      g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_BAD_ADDRESS);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    }
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/client/retry-after", test_retry_after);
  g_test_add_func ("/client/center-address", test_center_address);
  g_test_add_func ("/client/refusal-message", test_refusal_message);
  g_test_add_func ("/client/redirect", test_redirect);
  g_test_add_func ("/client/epoch", test_epoch);
  g_test_add_func ("/client/cut-head", test_cut_head);
  g_test_add_func ("/client/refusal-shape", test_refusal_shape);
  g_test_add_func ("/client/replay-and-stale", test_replay_and_stale);
  g_test_add_func ("/client/accept-encoding", test_accept_encoding);
  g_test_add_func ("/client/reply-bomb", test_reply_bomb);
  return g_test_run ();
}

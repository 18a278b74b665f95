/* SPDX-License-Identifier: GPL-3.0-or-later */
/* client.c: the device's HTTP exchange with the center (client.h). */

#include "client.h"
#include "json-depth.h"
#include "sign.h"

#include <curl/curl.h>
#include <libdeflate.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <string.h>

G_DEFINE_QUARK (hearth-sync-error-quark, hearth_sync_error)

struct _HearthSyncClient {
  CURL *curl;
  char *base_url;
  char *device_id;
  guint8 *secret_key;        /* sodium_malloc, 64 bytes, or NULL */
  gint64 offset_ms;
  gint64 (*now_ms) (gpointer data);   /* NULL: the system clock */
  gpointer now_data;
  glong connect_ms;
  glong total_ms;
  char *ca_file;
  char *ca_pem;              /* a CA bundle's PEM text (CURLOPT_CAINFO_BLOB), or NULL */
  char *pinned_key;
  char *error_code;
  gboolean wipe;
  gint64 retry_after_ms;
  char *epoch;               /* the last reply's Hearth-Epoch, or NULL */
  char *expected_epoch;      /* the epoch the store knows, or NULL */
};

static gsize curl_users;
G_LOCK_DEFINE_STATIC (curl_init);

G_GNUC_PRINTF (2, 3) static gboolean
bad_address (GError **error, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_BAD_ADDRESS, format, args));
  va_end (args);
  return FALSE;
}

/* Whether @host (as libcurl's URL parser gives it: an IPv6 address in
 * brackets, an IPv4 one in dotted decimal) is this machine. */
static gboolean
host_is_loopback (const char *host)
{
  g_autofree char *bare = NULL;
  g_autoptr(GInetAddress) address = NULL;

  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  bare = host[0] == '[' ? g_strndup (host + 1, strlen (host) - 2) : g_strdup (host);
  address = g_inet_address_new_from_string (bare);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

/* @url read as libcurl reads it when it connects: http or https, a host,
 * a port if any from 1 to 65535, no user, query or fragment (the request
 * paths are appended to it), and plain http only to this machine. A
 * check of the text's start let "http://127.0.0.1@host.example" and
 * "http://localhost.example" through, and curl sent personal data to
 * that host unencrypted. */
static gboolean
check_center_url (const char *url, GError **error)
{
  CURLU *u = NULL;
  CURLUcode rc;
  char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL, *query = NULL, *fragment = NULL,
       *port = NULL;
  gboolean ok = FALSE;

  if (url == NULL)
    return bad_address (error, _("the center's address must start with https:// or http://: “%s”"), "");
  if (strlen (url) > 2048)
    return bad_address (error, _("the center's address is longer than 2048 characters"));
  if (!g_str_has_prefix (url, "https://") && !g_str_has_prefix (url, "http://"))
    return bad_address (error, _("the center's address must start with https:// or http://: “%s”"), url);
  u = curl_url ();
  if (u == NULL)
    return bad_address (error, _("the center's address cannot be read: “%s”"), url);
  rc = curl_url_set (u, CURLUPART_URL, url, 0);
  if (rc != CURLUE_OK)
    {
      /* TRANSLATORS: the center's address, then libcurl's reason (English) */
      bad_address (error, _("the center's address “%s” is not a web address: %s"), url, curl_url_strerror (rc));
      goto out;
    }
  curl_url_get (u, CURLUPART_SCHEME, &scheme, 0);
  curl_url_get (u, CURLUPART_HOST, &host, 0);
  curl_url_get (u, CURLUPART_USER, &user, 0);
  curl_url_get (u, CURLUPART_PASSWORD, &password, 0);
  curl_url_get (u, CURLUPART_QUERY, &query, 0);
  curl_url_get (u, CURLUPART_FRAGMENT, &fragment, 0);
  curl_url_get (u, CURLUPART_PORT, &port, 0);
  if (host == NULL || *host == '\0')
    bad_address (error, _("the center's address “%s” names no host"), url);
  else if (user != NULL || password != NULL)
    bad_address (error, _("the center's address “%s” holds a user name before “@”: the center's host is the part "
                          "after it; give https://HOST[:PORT] alone"),
                 url);
  else if (query != NULL || fragment != NULL)
    bad_address (error, _("the center's address “%s” has a “?” or “#” part: give https://HOST[:PORT] alone"), url);
  else if (port != NULL && g_strcmp0 (port, "0") == 0)
    bad_address (error, _("the center's address “%s” has port 0: a port is from 1 to 65535"), url);
  /* Personal data, acknowledgements and the order to wipe travel on this
   * link: unencrypted only to this machine (a center behind a local proxy,
   * the tests and the demo). */
  else if (g_strcmp0 (scheme, "https") != 0 && !host_is_loopback (host))
    bad_address (error, _("the center must be reached over https:// (plain http:// only on this machine): “%s”"),
                 url);
  else
    ok = TRUE;
out:
  curl_free (scheme);
  curl_free (host);
  curl_free (user);
  curl_free (password);
  curl_free (query);
  curl_free (fragment);
  curl_free (port);
  curl_url_cleanup (u);
  return ok;
}

/* The reply codings a request accepts: zstd first when this libcurl
 * decodes it (a center answers a pull page so in a tenth of the CPU of
 * its gzip, and a quarter fewer bytes, PROTOCOL.md section 2), else gzip.
 * A center of before zstd replies reads "gzip" in the list and answers
 * gzip. */
static const char *
accept_encoding (void)
{
  const curl_version_info_data *info = curl_version_info (CURLVERSION_NOW);

  return (info->features & CURL_VERSION_ZSTD) != 0 ? "zstd, gzip" : "gzip";
}

HearthSyncClient *
hearth_sync_client_new (const char *center_url, GError **error)
{
  HearthSyncClient *self;

  if (!check_center_url (center_url, error))
    return NULL;
  G_LOCK (curl_init);
  if (curl_users++ == 0)
    curl_global_init (CURL_GLOBAL_DEFAULT);
  G_UNLOCK (curl_init);

  self = g_new0 (HearthSyncClient, 1);
  self->curl = curl_easy_init ();
  self->base_url = g_strdup (center_url);
  while (g_str_has_suffix (self->base_url, "/"))
    self->base_url[strlen (self->base_url) - 1] = '\0';
  self->connect_ms = 10000;
  self->total_ms = 120000;
  return self;
}

void
hearth_sync_client_free (HearthSyncClient *self)
{
  if (self == NULL)
    return;
  curl_easy_cleanup (self->curl);
  g_free (self->base_url);
  g_free (self->device_id);
  if (self->secret_key != NULL)
    sodium_free (self->secret_key);
  g_free (self->ca_file);
  g_free (self->ca_pem);
  g_free (self->pinned_key);
  g_free (self->error_code);
  g_free (self->epoch);
  g_free (self->expected_epoch);
  g_free (self);
  G_LOCK (curl_init);
  if (--curl_users == 0)
    curl_global_cleanup ();
  G_UNLOCK (curl_init);
}

void
hearth_sync_client_set_identity (HearthSyncClient *self, const char *device_id, const guint8 *secret_key)
{
  g_free (self->device_id);
  self->device_id = g_strdup (device_id);
  if (self->secret_key == NULL)
    self->secret_key = sodium_malloc (crypto_sign_SECRETKEYBYTES);
  memcpy (self->secret_key, secret_key, crypto_sign_SECRETKEYBYTES);
}

void
hearth_sync_client_set_time_offset (HearthSyncClient *self, gint64 offset_ms)
{
  self->offset_ms = offset_ms;
}

gint64
hearth_sync_client_get_time_offset (HearthSyncClient *self)
{
  return self->offset_ms;
}

void
hearth_sync_client_set_clock (HearthSyncClient *self, gint64 (*now_ms) (gpointer data), gpointer data)
{
  self->now_ms = now_ms;
  self->now_data = data;
}

/* This device's clock, ms since 1970. */
static gint64
local_now (HearthSyncClient *self)
{
  return self->now_ms != NULL ? self->now_ms (self->now_data) : g_get_real_time () / 1000;
}

gint64
hearth_sync_client_center_now (HearthSyncClient *self)
{
  return local_now (self) + self->offset_ms;
}

void
hearth_sync_client_set_timeouts (HearthSyncClient *self, glong connect_ms, glong total_ms)
{
  self->connect_ms = connect_ms;
  self->total_ms = total_ms;
}

void
hearth_sync_client_set_tls (HearthSyncClient *self, const char *ca_file, const char *pinned_key)
{
  g_free (self->ca_file);
  g_free (self->ca_pem);
  g_free (self->pinned_key);
  self->ca_file = g_strdup (ca_file);
  self->ca_pem = NULL;
  self->pinned_key = g_strdup (pinned_key);
}

void
hearth_sync_client_set_ca_pem (HearthSyncClient *self, const char *ca_pem)
{
  g_free (self->ca_pem);
  self->ca_pem = g_strdup (ca_pem);
}

const char *
hearth_sync_client_get_error_code (HearthSyncClient *self)
{
  return self->error_code;
}

gint64
hearth_sync_client_get_retry_after (HearthSyncClient *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->retry_after_ms;
}

void
hearth_sync_client_set_epoch (HearthSyncClient *self, const char *epoch)
{
  g_return_if_fail (self != NULL);
  g_free (self->expected_epoch);
  self->expected_epoch = g_strdup (epoch);
}

const char *
hearth_sync_client_get_epoch (HearthSyncClient *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->epoch;
}

gboolean
hearth_sync_client_get_wipe (HearthSyncClient *self)
{
  return self->wipe;
}

gint64
hearth_sync_backoff_ms (guint attempt, GRand *rand)
{
  gint64 cap = 5 * 60 * 1000;
  gint64 ceiling = 1000;

  for (guint i = 1; i < attempt && ceiling < cap; i++)
    ceiling *= 2;
  ceiling = MIN (ceiling, cap);
  return (gint64) (g_rand_double (rand) * (double) ceiling);
}

/* ---- one exchange ------------------------------------------------------------ */

typedef struct {
  GByteArray *body;
  gboolean too_large;
  gint64 server_time;
  gboolean have_server_time;
  gint64 retry_after_s;
  char epoch[33];            /* Hearth-Epoch, 32 hex digits, or empty */
  gboolean epochs_differ;    /* the reply named two different epochs */
  gboolean head_ended;       /* the blank line that ends the last header block came */
} Reply;

static size_t
on_body (char *data, size_t size, size_t n, void *user)
{
  Reply *r = user;

  if (r->body->len + size * n > HEARTH_SYNC_MAX_REPLY)
    {
      r->too_large = TRUE;
      return 0;   /* libcurl stops with CURLE_WRITE_ERROR */
    }
  g_byte_array_append (r->body, (const guint8 *) data, (guint) (size * n));
  return size * n;
}

static size_t
on_header (char *data, size_t size, size_t n, void *user)
{
  Reply *r = user;
  gsize len = size * n;

  /* libcurl takes a connection closed inside a reply's headers for the
   * end of the reply, a reply without a body (libcurl 7.88): only the
   * blank line after them says the headers are whole. A status line
   * starts another block (a 1xx comes before the reply). */
  if (len >= 5 && memcmp (data, "HTTP/", 5) == 0)
    r->head_ended = FALSE;
  else if ((len == 2 && memcmp (data, "\r\n", 2) == 0) || (len == 1 && data[0] == '\n'))
    r->head_ended = TRUE;
  /* Retry-After in seconds (RFC 9110 section 10.2.3; the center never
   * sends the date form), bounded by the longest back-off: a longer wait
   * asked for is that longest one, not none (a busy center asking for an
   * hour must not be retried within seconds). */
  if (len > 12 && g_ascii_strncasecmp (data, "Retry-After:", 12) == 0)
    {
      g_autofree char *value = g_strstrip (g_strndup (data + 12, len - 12));
      gboolean digits = value[0] != '\0';
      guint64 s;

      for (const char *p = value; *p != '\0' && digits; p++)
        digits = g_ascii_isdigit (*p);
      if (digits)
        r->retry_after_s = g_ascii_string_to_unsigned (value, 10, 0, 300, &s, NULL) ? (gint64) s : 300;
    }
  if (len > 13 && g_ascii_strncasecmp (data, "Hearth-Epoch:", 13) == 0)
    {
      g_autofree char *value = g_strstrip (g_strndup (data + 13, len - 13));

      /* Two epochs in one reply (never the center's doing) are another
       * epoch, whichever comes last: such a reply is not read. */
      if (strlen (value) == 32 && strspn (value, "0123456789abcdef") == 32)
        {
          if (r->epoch[0] != '\0' && strcmp (r->epoch, value) != 0)
            r->epochs_differ = TRUE;
          memcpy (r->epoch, value, sizeof r->epoch);
        }
    }
  if (len > 12 && g_ascii_strncasecmp (data, "Hearth-Time:", 12) == 0)
    {
      g_autofree char *value = g_strstrip (g_strndup (data + 12, len - 12));
      guint64 ms;

      if (g_ascii_string_to_unsigned (value, 10, 1, G_MAXINT64, &ms, NULL))
        {
          r->server_time = (gint64) ms;
          r->have_server_time = TRUE;
        }
    }
  return len;
}

/* A request's body in gzip, with libdeflate at level 6 (as zlib's 6 was):
 * a push of 50 visits was a quarter of the device's instructions of its
 * sync run through zlib (19.0 M of 75 M under callgrind); libdeflate
 * takes 10.8 M, the bytes within a few percent. One compressor a thread,
 * kept. */
static GPrivate deflater_key = G_PRIVATE_INIT ((GDestroyNotify) libdeflate_free_compressor);

static GBytes *
gzip (const char *data, gsize len)
{
  struct libdeflate_compressor *z = g_private_get (&deflater_key);
  gsize bound, out_len;
  guint8 *out;

  if (z == NULL)
    {
      z = libdeflate_alloc_compressor (6);
      if (z == NULL)
        return NULL;
      g_private_set (&deflater_key, z);
    }
  bound = libdeflate_gzip_compress_bound (z, len);
  out = g_malloc (bound);
  out_len = libdeflate_gzip_compress (z, data, len, out, bound);
  if (out_len == 0)
    {
      g_free (out);
      return NULL;
    }
  return g_bytes_new_take (g_realloc (out, out_len), out_len);
}

/* Reads {"error": {"code", "message", "wipe"}} of a refusal. */
/* The most of a center's message kept, in characters. */
#define MESSAGE_MAX_CHARS 500

/* The center's message as the tablet's screens and hearth-cli show it:
 * a reply may hold megabytes of text (a GtkLabel would lay all of it
 * out), line breaks and control or direction-changing characters; kept
 * to MESSAGE_MAX_CHARS on one line, those characters made spaces. */
static char *
shown_message (const char *message)
{
  g_autofree char *valid = g_utf8_make_valid (message, -1);
  GString *s = g_string_new (NULL);
  guint n = 0;

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p), n++)
    {
      gunichar c = g_utf8_get_char (p);

      if (n == MESSAGE_MAX_CHARS)
        {
          g_string_append (s, "…");
          break;
        }
      if (g_unichar_iscntrl (c) || g_unichar_type (c) == G_UNICODE_FORMAT ||
          g_unichar_type (c) == G_UNICODE_LINE_SEPARATOR || g_unichar_type (c) == G_UNICODE_PARAGRAPH_SEPARATOR)
        c = ' ';
      g_string_append_unichar (s, c);
    }
  return g_string_free (s, FALSE);
}

/* Whether a reply's body is a web page (HTML or XML: its first character
 * past white space and a byte order mark is "<"), which the center never
 * sends: a Wi-Fi's sign-in page (a village's or a township's), a proxy's
 * or a web server's page answered at the center's address. */
static gboolean
is_web_page (const char *body, gsize len)
{
  gsize i = 0;

  if (len >= 3 && memcmp (body, "\xef\xbb\xbf", 3) == 0)
    i = 3;
  while (i < len && g_ascii_isspace (body[i]))
    i++;
  return i < len && body[i] == '<';
}

static void
read_refusal (JsonNode *reply, gboolean web_page, guint status, char **code_out, gboolean *wipe_out,
              GError **error)
{
  g_autofree char *shown = NULL;
  JsonObject *e = NULL;
  const char *code = NULL, *message = NULL;

  /* A redirect is the network's answer, not the center's (the center
   * never sends one): a Wi-Fi that asks for a sign-in first, a proxy.
   * Worth another try; nothing in it is the center's word (no wipe). */
  if (status >= 300 && status < 400)
    {
      if (code_out != NULL)
        *code_out = NULL;
      g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE,
                   _("the network answered %u (a redirect) instead of the center; it may ask for a sign-in first"),
                   status);
      return;
    }
  if (reply != NULL && JSON_NODE_HOLDS_OBJECT (reply))
    {
      JsonObject *root = json_node_get_object (reply);
      if (json_object_has_member (root, "error") && JSON_NODE_HOLDS_OBJECT (json_object_get_member (root, "error")))
        e = json_object_get_object_member (root, "error");
    }
  if (e != NULL)
    {
      JsonNode *c = json_object_get_member (e, "code");

      if (c != NULL && JSON_NODE_HOLDS_VALUE (c) && json_node_get_value_type (c) == G_TYPE_STRING)
        code = json_node_get_string (c);
      message = json_object_get_string_member_with_default (e, "message", NULL);
    }
  /* Every refusal of the center carries its error object with a code
   * (PROTOCOL.md section 3). A 4xx without one is not the center's word
   * but a proxy's, or the center's reply cut on the way (libcurl takes a
   * connection closed inside the headers, before Content-Length, for the
   * end of a reply without a body): worth another try, never a refusal
   * (issue 5: a sync through the faulty proxy ended on "401: no reason
   * given"), and nothing in it is the center's word (no wipe). */
  /* Too long a target or too many header lines (PROTOCOL.md section 2):
   * the center's 414 and 431 with their error object, or
   * libmicrohttpd's own page beyond its head buffer, or a proxy's limit.
   * Sent again it is refused again: this side's bug (exit 70), said as
   * such whoever answered. */
  if (code == NULL && (status == 414 || status == 431))
    {
      if (code_out != NULL)
        *code_out = NULL;
      g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL,
                   status == 414 ? _("the center (or a proxy before it) answered 414: this tablet's request address is "
                                     "too long for it. Tell county IT")
                                 : _("the center (or a proxy before it) answered 431: this tablet's request header "
                                     "lines are too large for it. Tell county IT"));
      return;
    }
  /* A 413 without the center's error object: a reverse proxy before the
   * center that takes less than the center's 8 MiB (nginx's
   * client_max_body_size is 1 MiB by default) and says so in a web page.
   * Sent again whole it is refused again; a push is sent again in halves
   * (app/sync-run.c), anything else is this side's to tell (exit 70). */
  if (code == NULL && status == 413)
    {
      if (code_out != NULL)
        *code_out = NULL;
      g_set_error_literal (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL,
                           _("a proxy before the center answered 413: this request is larger than it lets through. "
                             "Tell county IT (its limit should be the center's 8 MiB)"));
      return;
    }
  if (code == NULL && status < 500)
    {
      if (code_out != NULL)
        *code_out = NULL;
      if (web_page)
        g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_WEB_PAGE,
                     _("the center's address answered %u with a web page, not as the county center: the Wi-Fi may "
                       "ask for a sign-in first (open a web browser), or the address is wrong"),
                     status);
      else
        g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE,
                     _("the network answered %u without the center's error (a proxy, or a reply cut short)"), status);
      return;
    }
  if (e != NULL && wipe_out != NULL)
    *wipe_out = json_object_get_boolean_member_with_default (e, "wipe", FALSE);
  if (code_out != NULL)
    *code_out = g_strdup (code);
  shown = shown_message (message != NULL ? message : (code != NULL ? code : _("no reason given")));
  /* PROTOCOL.md section 3: a 5xx is worth another try; a malformed
   * request, an unknown endpoint or a body too large is this side's bug
   * (hearth-cli exit 70); any other 4xx the center's refusal (exit 6). */
  g_set_error (error, HEARTH_SYNC_ERROR,
               status >= 500                                        ? HEARTH_SYNC_ERROR_UNREACHABLE
               : status == 400 || status == 404 || status == 413 || status == 414 || status == 431
                 ? HEARTH_SYNC_ERROR_PROTOCOL
                                                                    : HEARTH_SYNC_ERROR_REFUSED,
               _("the center answered %u: %s"), status, shown);
}

JsonNode *
hearth_sync_parse_reply (const char *body, gsize len, guint status, char **code, gboolean *wipe, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) parse_error = NULL;
  JsonNode *root = NULL;

  g_return_val_if_fail (body != NULL || len == 0, NULL);

  if (code != NULL)
    *code = NULL;
  if (wipe != NULL)
    *wipe = FALSE;
  /* json-glib recurses without a limit: count the nesting first. */
  if (len > 0 && hearth_json_check_depth (body, len, HEARTH_JSON_MAX_DEPTH, NULL, &parse_error) &&
      json_parser_load_from_data (parser, body, (gssize) len, &parse_error))
    root = json_parser_steal_root (parser);
  if (status >= 200 && status < 300)
    {
      /* A reply that does not parse was cut on the way (a whole one is
       * always JSON): as if none had come, worth another try. */
      if (root == NULL && is_web_page (body, len))
        g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_WEB_PAGE,
                     _("the center's address answered with something that is not the county center (a web page): "
                       "the Wi-Fi may ask for a sign-in first (open a web browser), or the address is wrong"));
      else if (root == NULL)
        {
          /* json-glib quotes the text at fault, escapes undone and cut at a
           * byte count: not always UTF-8. */
          g_autofree char *why = g_utf8_make_valid (parse_error != NULL ? parse_error->message : _("empty"), -1);

          g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE,
                       _("the center's reply was cut short: %s"), why);
        }
      return root;
    }
  read_refusal (root, root == NULL && len > 0 && is_web_page (body, len), status, code, wipe, error);
  if (root != NULL)
    json_node_unref (root);
  return NULL;
}

/* @raw: (nullable): where a 2xx reply's body goes unparsed (the call
 * then returns NULL without an error). */
static JsonNode *
exchange (HearthSyncClient *self, const char *method, const char *path, GBytes *body, gboolean sign, GBytes **raw,
          guint *status_out,
          GError **error)
{
  g_autofree char *url = g_strconcat (self->base_url, path, NULL);
  g_autoptr(GByteArray) reply_body = g_byte_array_new ();
  Reply reply = { reply_body, FALSE, 0, FALSE, 0 };
  struct curl_slist *headers = NULL;
  gint64 sent_at, received_at;
  long status = 0;
  CURLcode rc;
  gsize body_len = 0;
  const char *body_data = body != NULL ? g_bytes_get_data (body, &body_len) : NULL;

  g_clear_pointer (&self->error_code, g_free);
  self->wipe = FALSE;
  curl_easy_reset (self->curl);
  curl_easy_setopt (self->curl, CURLOPT_URL, url);
  curl_easy_setopt (self->curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (self->curl, CURLOPT_CONNECTTIMEOUT_MS, self->connect_ms);
  curl_easy_setopt (self->curl, CURLOPT_TIMEOUT_MS, self->total_ms);
  curl_easy_setopt (self->curl, CURLOPT_ACCEPT_ENCODING, accept_encoding ());
  curl_easy_setopt (self->curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (self->curl, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt (self->curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (self->curl, CURLOPT_HEADERDATA, &reply);
  curl_easy_setopt (self->curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (self->curl, CURLOPT_FOLLOWLOCATION, 0L);
  if (self->ca_file != NULL)
    curl_easy_setopt (self->curl, CURLOPT_CAINFO, self->ca_file);
  if (self->ca_pem != NULL)
    {
      struct curl_blob blob = { self->ca_pem, strlen (self->ca_pem), CURL_BLOB_COPY };

      curl_easy_setopt (self->curl, CURLOPT_CAINFO_BLOB, &blob);
    }
  if (self->pinned_key != NULL)
    {
      curl_easy_setopt (self->curl, CURLOPT_PINNEDPUBLICKEY, self->pinned_key);
      /* A pin without a CA trusts exactly that key: libcurl checks the pin
       * (and the host name, CURLOPT_SSL_VERIFYHOST stays 2) without the
       * chain, so a self-signed certificate can be pinned. */
      if (self->ca_file == NULL && self->ca_pem == NULL)
        curl_easy_setopt (self->curl, CURLOPT_SSL_VERIFYPEER, 0L);
    }
  if (g_str_equal (method, "POST"))
    {
      curl_easy_setopt (self->curl, CURLOPT_POST, 1L);
      curl_easy_setopt (self->curl, CURLOPT_POSTFIELDS, body_data != NULL ? body_data : "");
      curl_easy_setopt (self->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body_len);
      headers = curl_slist_append (headers, "Content-Type: application/json");
      if (body != NULL)
        headers = curl_slist_append (headers, "Content-Encoding: gzip");
    }
  headers = curl_slist_append (headers, "Expect:");
  if (sign)
    {
      g_autofree char *time_header = NULL;
      g_autofree char *device_header = NULL;
      g_autofree char *nonce_header = NULL;
      g_autofree char *sig_header = NULL;
      g_autofree char *nonce = NULL;
      g_autofree char *signature = NULL;
      gint64 now = hearth_sync_client_center_now (self);

      if (self->secret_key == NULL || self->device_id == NULL)
        {
          curl_slist_free_all (headers);
          g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_NOT_ENROLLED,
                       _("this store is not enrolled with a county center"));
          return NULL;
        }
      nonce = hearth_sign_nonce ();
      signature = hearth_sign_request (self->secret_key, method, path, (const guint8 *) body_data, body_len,
                                       self->device_id, now, nonce);
      device_header = g_strdup_printf ("Hearth-Device: %s", self->device_id);
      time_header = g_strdup_printf ("Hearth-Time: %" G_GINT64_FORMAT, now);
      nonce_header = g_strdup_printf ("Hearth-Nonce: %s", nonce);
      sig_header = g_strdup_printf ("Hearth-Signature: %s", signature);
      headers = curl_slist_append (headers, device_header);
      headers = curl_slist_append (headers, time_header);
      headers = curl_slist_append (headers, nonce_header);
      headers = curl_slist_append (headers, sig_header);
    }
  curl_easy_setopt (self->curl, CURLOPT_HTTPHEADER, headers);

  sent_at = local_now (self);
  rc = curl_easy_perform (self->curl);
  received_at = local_now (self);
  curl_slist_free_all (headers);
  curl_easy_getinfo (self->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status_out != NULL)
    *status_out = (guint) status;

  g_clear_pointer (&self->epoch, g_free);
  self->retry_after_ms = 0;
  /* A reply cut inside its headers is not read at all, its Hearth-Time
   * and Hearth-Epoch lines included: its status may be a refusal whose
   * error object never came (issue 5). As if no reply had come. */
  if (rc == CURLE_OK && !reply.head_ended)
    {
      g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE,
                   _("the center's reply was cut short: the connection closed inside its headers"));
      return NULL;
    }
  if (reply.have_server_time)
    self->offset_ms = reply.server_time - (sent_at + received_at) / 2;
  self->retry_after_ms = status >= 500 ? reply.retry_after_s * 1000 : 0;
  if (reply.epoch[0] != '\0')
    self->epoch = g_strdup (reply.epoch);
  /* A reply of another epoch than the one the store knows comes from a
   * center restored from a backup (PROTOCOL.md section 12): whatever it
   * says (an acknowledgement, a page, a gap) is not taken before the
   * device has met the new epoch. A reply without the header is from a
   * center of before it. */
  if (rc == CURLE_OK && self->epoch != NULL && self->expected_epoch != NULL &&
      (reply.epochs_differ || strcmp (self->epoch, self->expected_epoch) != 0))
    {
      g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_RESTORED,
                   _("the center was restored from a backup since this tablet last met it"));
      return NULL;
    }
  if (reply.too_large)
    {
      g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL,
                   _("the center's reply is larger than %d bytes"), HEARTH_SYNC_MAX_REPLY);
      return NULL;
    }
  if (rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
    {
      g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNTRUSTED,
                   _("the center at %s answered with another key than the one this tablet is pinned to: it may not be "
                     "your county's center. Ask county IT; if the center's key was changed, give its new pin with "
                     "--pin (or enrol the tablet again)"), self->base_url);
      return NULL;
    }
  if (rc == CURLE_SSL_CACERT_BADFILE)
    {
      g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNTRUSTED,
                   _("the CA certificate this tablet was given for %s cannot be read: give a PEM file with --ca-file"),
                   self->base_url);
      return NULL;
    }
  if (rc == CURLE_PEER_FAILED_VERIFICATION)
    {
      g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNTRUSTED,
                   _("the center at %s has a certificate this tablet does not trust (or one for another address): "
                     "give the county's CA certificate with --ca-file or its key with --pin, or install the CA on "
                     "this system; ask county IT"), self->base_url);
      return NULL;
    }
  if (rc != CURLE_OK)
    {
      g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE,
                   _("the center at %s could not be reached: %s"), self->base_url, curl_easy_strerror (rc));
      return NULL;
    }
  if (raw != NULL && status >= 200 && status < 300)
    {
      *raw = g_byte_array_free_to_bytes (g_steal_pointer (&reply_body));
      return NULL;
    }
  return hearth_sync_parse_reply ((const char *) reply_body->data, reply_body->len, (guint) status, &self->error_code,
                                  &self->wipe, error);
}

/* Fresh nonces a request is signed with after a replay refusal. */
#define HEARTH_SYNC_REPLAY_TRIES 3

/* hearth_sync_client_call(), or with @raw hearth_sync_client_call_body(). */
static JsonNode *
call (HearthSyncClient *self, const char *method, const char *path_and_query, const char *text, gsize len,
      gboolean sign, GBytes **raw, guint *status, GError **error)
{
  g_autoptr(GBytes) payload = NULL;

  g_clear_pointer (&self->error_code, g_free);
  self->wipe = FALSE;
  self->retry_after_ms = 0;
  if (text != NULL)
    {
      payload = gzip (text, len);
      if (payload == NULL)
        {
          g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL, _("the request could not be compressed"));
          return NULL;
        }
    }
  for (guint stale = 0, replayed = 0;;)
    {
      g_autoptr(GError) local = NULL;
      JsonNode *reply = exchange (self, method, path_and_query, payload, sign, raw, status, &local);
      gboolean refused = reply == NULL && g_error_matches (local, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_REFUSED);

      /* A stale time was corrected from the refusal's Hearth-Time: one
       * more try; a clock still refused is reported (and warned about). */
      if (refused && g_strcmp0 (self->error_code, "stale") == 0 && stale++ == 0)
        continue;
      /* This device never sends a nonce twice: a replay means a copy of
       * this very request came first (a network that duplicates, or
       * libcurl sending it again on a fresh connection when a reused one
       * died), and the copy counts. Signed again with a fresh nonce, the
       * push being idempotent; a replay that persists is the network's
       * doing, worth another try later, never the center's refusal. */
      if (refused && g_strcmp0 (self->error_code, "replay") == 0)
        {
          if (replayed++ < HEARTH_SYNC_REPLAY_TRIES)
            continue;
          g_clear_error (&local);
          g_clear_pointer (&self->error_code, g_free);
          g_set_error_literal (&local, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE,
                               _("the center took this request for a replay each time it was signed again: the "
                                 "network sends requests twice"));
        }
      if (reply == NULL && local != NULL)
        g_propagate_error (error, g_steal_pointer (&local));
      return reply;
    }
}

JsonNode *
hearth_sync_client_call (HearthSyncClient *self, const char *method, const char *path_and_query, JsonNode *body,
                         gboolean sign, guint *status, GError **error)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (self != NULL && method != NULL && path_and_query != NULL, NULL);

  text = body != NULL ? json_to_string (body, FALSE) : NULL;
  return call (self, method, path_and_query, text, text != NULL ? strlen (text) : 0, sign, NULL, status, error);
}

JsonNode *
hearth_sync_client_call_text (HearthSyncClient *self, const char *method, const char *path_and_query,
                              const char *body, gsize length, gboolean sign, guint *status, GError **error)
{
  g_return_val_if_fail (self != NULL && method != NULL && path_and_query != NULL && body != NULL, NULL);

  return call (self, method, path_and_query, body, length, sign, NULL, status, error);
}

GBytes *
hearth_sync_client_call_body (HearthSyncClient *self, const char *method, const char *path_and_query, gboolean sign,
                              guint *status, GError **error)
{
  GBytes *raw = NULL;
  JsonNode *reply;

  g_return_val_if_fail (self != NULL && method != NULL && path_and_query != NULL, NULL);

  reply = call (self, method, path_and_query, NULL, 0, sign, &raw, status, error);
  /* Only a 2xx has a body to give, and it is given unparsed. */
  g_assert (reply == NULL);
  return raw;
}

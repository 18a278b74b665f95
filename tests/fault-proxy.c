/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fault-proxy.c: a TCP proxy for the sync tests that misbehaves on
 * purpose, between a device and hearth-center on 127.0.0.1. Per
 * connection and at random (reproducibly for a seed) it:
 *   - cuts the connection after a random number of bytes, towards the
 *     center or back towards the device: a cut at byte 0 of the reply is
 *     the worst case, the center committed and the device never heard;
 *   - delays every chunk it relays;
 *   - sends the device's first request a second time on its own connection
 *     (a duplicated request), discarding that reply.
 * With --replay-cut N, the first N connections meet the worst of those
 * together, every time (not at random): the device's first request goes
 * to the center on a connection of its own first, and only once the
 * center has answered that copy is the request itself relayed; the
 * center's answer to it, a replay refusal, goes back to the device cut
 * after its status line (what libcurl reads as a whole reply without a
 * body: issue 5's "401: no reason given").
 * While the file named by --offline exists, every connection is refused
 * (closed at once) and open ones are cut: the network is down.
 * With --not-found PREFIX, a request whose target starts with PREFIX is
 * answered by the proxy as a center that has no such endpoint answers it
 * (404 `not-found`, PROTOCOL.md section 3), and its connection closed: a
 * center of an earlier protocol version (no other fault then).
 * With --max-body N, a request whose body is longer than N bytes is
 * answered 413 with a web page, as nginx answers beyond its
 * client_max_body_size (1 MiB by default), and its connection closed: a
 * reverse proxy before the center with a lower limit than the center's
 * (no other fault then).
 *
 *   hearth-fault-proxy --target 127.0.0.1:PORT [--listen 127.0.0.1:0]
 *       [--seed N] [--cut P] [--delay-ms MAX] [--duplicate P] [--replay-cut N]
 *       [--offline FILE] [--not-found PREFIX] [--max-body N]
 *
 * Prints "listening PORT" on stdout once it accepts, and one line per
 * connection on stderr saying what it did to it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in target;
static double cut_p, duplicate_p;
static int delay_max_ms;
static gint replay_cut_left;   /* connections still to meet --replay-cut */
static char *offline_file;
static char *not_found;   /* --not-found: a target prefix answered 404 */
static gint64 max_body;   /* --max-body: longer bodies answered 413; 0: none */
static GRand *rand_;   /* the accept loop's only: decisions are made there, in order */

static gboolean
offline (void)
{
  return offline_file != NULL && g_file_test (offline_file, G_FILE_TEST_EXISTS);
}


static gboolean
parse_address (const char *text, struct sockaddr_in *out)
{
  g_autofree char *host = NULL;
  const char *colon = strrchr (text, ':');
  guint64 port;

  if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL))
    return FALSE;
  host = g_strndup (text, (gsize) (colon - text));
  memset (out, 0, sizeof *out);
  out->sin_family = AF_INET;
  out->sin_port = htons ((guint16) port);
  return inet_pton (AF_INET, host, &out->sin_addr) == 1;
}

static int
connect_target (void)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd >= 0 && connect (fd, (struct sockaddr *) &target, sizeof target) != 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static gboolean
write_all (int fd, const char *buf, gsize len)
{
  while (len > 0)
    {
      ssize_t n = send (fd, buf, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      buf += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* Sends @request on a connection of its own and reads the reply away. */
static gpointer
duplicate_thread (gpointer data)
{
  GBytes *request = data;
  int fd = connect_target ();
  char buf[16384];
  gsize len;
  const char *p = g_bytes_get_data (request, &len);

  if (fd >= 0 && write_all (fd, p, len))
    {
      shutdown (fd, SHUT_WR);
      while (recv (fd, buf, sizeof buf, 0) > 0)
        ;
    }
  if (fd >= 0)
    close (fd);
  g_bytes_unref (request);
  return NULL;
}

/* Sends @request on a connection of its own and waits for the head of
 * the center's reply: by then the center has handled the request (its
 * nonce is stored). */
static void
send_copy_first (GBytes *request)
{
  int fd = connect_target ();
  g_autoptr(GString) reply = g_string_new (NULL);
  gsize len;
  const char *p = g_bytes_get_data (request, &len);
  char buf[4096];
  ssize_t n;

  if (fd < 0)
    return;
  if (write_all (fd, p, len))
    while (strstr (reply->str, "\r\n\r\n") == NULL && (n = recv (fd, buf, sizeof buf, 0)) > 0)
      g_string_append_len (reply, buf, n);
  close (fd);
}

/* The first HTTP request of @buf, once whole (headers and Content-Length
 * body), or NULL. */
static GBytes *
whole_request (GByteArray *buf)
{
  const char *data = (const char *) buf->data;
  const char *end = g_strstr_len (data, (gssize) buf->len, "\r\n\r\n");
  gsize header_len, body_len = 0;

  if (end == NULL)
    return NULL;
  header_len = (gsize) (end - data) + 4;
  for (const char *line = data; line < end; line = strstr (line, "\r\n") + 2)
    if (g_ascii_strncasecmp (line, "Content-Length:", 15) == 0)
      body_len = g_ascii_strtoull (line + 15, NULL, 10);
  if (buf->len < header_len + body_len)
    return NULL;
  return g_bytes_new (data, header_len + body_len);
}

/* --not-found, --max-body: relays each whole request of @pending (the
 * device's bytes not relayed yet) unless its target starts with
 * not_found, which is answered as a center without that endpoint answers
 * it, or its body is longer than max_body, answered as nginx answers it.
 * Returns FALSE when the connection is done (answered so, or broken);
 * @fate then says how. */
static gboolean
relay_requests (GByteArray *pending, int client, int server, gint64 *relayed, const char **fate)
{
  GBytes *request;

  while ((request = whole_request (pending)) != NULL)
    {
      gsize len = g_bytes_get_size (request);
      const char *data = g_bytes_get_data (request, NULL);
      const char *space = memchr (data, ' ', len);
      const char *head_end = g_strstr_len (data, (gssize) len, "\r\n\r\n");
      gsize prefix = not_found != NULL ? strlen (not_found) : 0;
      g_autofree char *reply = NULL;

      /* The bytes are not terminated: compared within the request. */
      if (not_found != NULL && space != NULL && (gsize) (data + len - (space + 1)) >= prefix &&
          memcmp (space + 1, not_found, prefix) == 0)
        {
          static const char body[] = "{\"error\":{\"code\":\"not-found\",\"message\":\"no such endpoint\"}}";

          reply = g_strdup_printf ("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                                   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", sizeof body - 1, body);
          *fate = "answered 404 not-found";
        }
      else if (max_body > 0 && (gint64) (data + len - (head_end + 4)) > max_body)
        {
          static const char body[] = "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n"
                                     "<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n"
                                     "<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n";

          reply = g_strdup_printf ("HTTP/1.1 413 Request Entity Too Large\r\nServer: nginx/1.22.1\r\n"
                                   "Content-Type: text/html\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                   sizeof body - 1, body);
          *fate = "answered 413 too large";
        }
      if (reply != NULL)
        {
          g_bytes_unref (request);
          write_all (client, reply, strlen (reply));
          return FALSE;
        }
      g_bytes_unref (request);
      if (!write_all (server, (const char *) pending->data, len))
        {
          *fate = "cut (broken)";
          return FALSE;
        }
      *relayed += (gint64) len;
      g_byte_array_remove_range (pending, 0, (guint) len);
    }
  return TRUE;
}

/* What will happen to one connection, drawn when it is accepted so that a
 * seed replays the same faults in the same order. */
typedef struct {
  int client;
  guint number;
  gboolean cut;
  int cut_direction;     /* 0: towards the center, 1: back to the device */
  gint64 cut_after;      /* bytes relayed in that direction before the cut */
  gboolean duplicate;
  gboolean replay_cut;   /* --replay-cut */
  GRand *delays;
} Connection;

static gpointer
connection_thread (gpointer data)
{
  Connection *c = data;
  int server = -1;
  gboolean cut = c->cut;
  int cut_direction = c->cut_direction;
  gint64 cut_after = c->cut_after;
  gboolean duplicate = c->duplicate;
  gboolean replay_cut = c->replay_cut;
  gboolean copied = FALSE;   /* its first request's copy went first */
  gboolean duplicated = FALSE;
  gint64 relayed[2] = { 0, 0 };
  g_autoptr(GByteArray) first = g_byte_array_new ();
  g_autoptr(GByteArray) pending = g_byte_array_new ();   /* --not-found, --max-body */
  const char *fate = "relayed";

  if (offline ())
    {
      fate = "refused (offline)";
      goto done;
    }
  server = connect_target ();
  if (server < 0)
    {
      fate = "refused (no center)";
      goto done;
    }
  for (;;)
    {
      struct pollfd fds[2] = { { c->client, POLLIN, 0 }, { server, POLLIN, 0 } };
      char buf[8192];
      int rc = poll (fds, 2, 200);

      if (rc < 0 && errno == EINTR)
        continue;
      if (offline ())
        {
          fate = "cut (went offline)";
          break;
        }
      if (rc <= 0)
        continue;
      for (int dir = 0; dir < 2; dir++)
        {
          int from = dir == 0 ? c->client : server;
          int to = dir == 0 ? server : c->client;
          ssize_t n;
          gsize pass;

          if (!(fds[dir].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
          n = recv (from, buf, sizeof buf, 0);
          if (n <= 0)
            goto finished;
          if ((not_found != NULL || max_body > 0) && dir == 0)
            {
              g_byte_array_append (pending, (const guint8 *) buf, (guint) n);
              if (relay_requests (pending, c->client, server, &relayed[0], &fate))
                continue;
              goto finished;
            }
          if (replay_cut && dir == 0)
            {
              g_autoptr(GBytes) request = NULL;

              /* Held back until whole, then its copy goes first. */
              g_byte_array_append (first, (const guint8 *) buf, (guint) n);
              request = whole_request (first);
              if (request == NULL)
                continue;
              send_copy_first (request);
              if (!write_all (server, (const char *) first->data, first->len))
                goto finished;
              relayed[0] += first->len;
              g_clear_pointer (&first, g_byte_array_unref);
              replay_cut = FALSE;
              copied = TRUE;
              cut = TRUE;
              cut_direction = 1;
              cut_after = -1;   /* set at the reply's status line */
              continue;
            }
          if (cut && dir == 1 && cut_after < 0)
            {
              const char *eol = g_strstr_len (buf, n, "\r\n");

              cut_after = relayed[1] + (eol != NULL ? (gint64) (eol + 2 - buf) : n);
            }
          pass = (gsize) n;
          if (cut && dir == cut_direction && relayed[dir] + n > cut_after)
            pass = (gsize) MAX (0, cut_after - relayed[dir]);
          if (delay_max_ms > 0)
            g_usleep ((gulong) g_rand_int_range (c->delays, 0, delay_max_ms + 1) * 1000);
          if (pass > 0 && !write_all (to, buf, pass))
            goto finished;
          relayed[dir] += (gint64) pass;
          if (pass < (gsize) n)
            {
              /* A duplicated connection that is cut says both: a replay
               * refusal may be what was cut (issue 5). */
              fate = copied       ? "relayed after a copy, its reply cut after the status line"
                     : duplicated ? (dir == 0 ? "relayed and duplicated, then cut towards the center"
                                              : "relayed and duplicated, then cut towards the device")
                     : dir == 0   ? "cut towards the center"
                                  : "cut towards the device";
              goto finished;
            }
          if (dir == 0 && duplicate && first != NULL)
            {
              GBytes *request;

              g_byte_array_append (first, (const guint8 *) buf, (guint) n);
              request = whole_request (first);
              if (request != NULL)
                {
                  g_thread_unref (g_thread_new ("duplicate", duplicate_thread, request));
                  fate = "relayed and duplicated";
                  duplicated = TRUE;
                  g_clear_pointer (&first, g_byte_array_unref);
                }
            }
        }
    }
finished:
done:
  g_printerr ("fault-proxy: connection %u %s (%" G_GINT64_FORMAT " bytes up, %" G_GINT64_FORMAT " down)\n",
              c->number, fate, relayed[0], relayed[1]);
  if (server >= 0)
    close (server);
  close (c->client);
  g_rand_free (c->delays);
  g_free (c);
  return NULL;
}

int
main (int argc, char *argv[])
{
  g_autofree char *listen_text = g_strdup ("127.0.0.1:0");
  g_autofree char *target_text = NULL;
  gint64 seed = 1;
  double cut = 0, dup = 0;
  int delay = 0, replay_cut = 0;
  GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen_text, "address to listen on", "HOST:PORT" },
    { "target", 0, 0, G_OPTION_ARG_STRING, &target_text, "the center", "HOST:PORT" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "random seed", "N" },
    { "cut", 0, 0, G_OPTION_ARG_DOUBLE, &cut, "probability of cutting a connection", "P" },
    { "delay-ms", 0, 0, G_OPTION_ARG_INT, &delay, "largest delay per chunk", "MS" },
    { "duplicate", 0, 0, G_OPTION_ARG_DOUBLE, &dup, "probability of duplicating a request", "P" },
    { "replay-cut", 0, 0, G_OPTION_ARG_INT, &replay_cut,
      "the first N connections: the first request replayed first, its reply cut after the status line", "N" },
    { "offline", 0, 0, G_OPTION_ARG_FILENAME, &offline_file, "refuse everything while this file exists", "FILE" },
    { "not-found", 0, 0, G_OPTION_ARG_STRING, &not_found, "answer requests for targets with this prefix 404",
      "PREFIX" },
    { "max-body", 0, 0, G_OPTION_ARG_INT64, &max_body, "answer requests with longer bodies 413 (a web page)",
      "BYTES" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- a TCP proxy that cuts, delays and duplicates");
  g_autoptr(GError) error = NULL;
  struct sockaddr_in addr;
  socklen_t addr_len = sizeof addr;
  int listener, one = 1;
  guint number = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || target_text == NULL ||
      !parse_address (target_text, &target) || !parse_address (listen_text, &addr))
    {
      g_printerr ("usage: hearth-fault-proxy --target HOST:PORT [--listen HOST:PORT] [--seed N] [--cut P] "
                  "[--delay-ms MS] [--duplicate P] [--replay-cut N] [--offline FILE] [--not-found PREFIX] [--max-body N]%s%s\n",
                  error != NULL ? ": " : "", error != NULL ? error->message : "");
      return 2;
    }
  cut_p = cut;
  duplicate_p = dup;
  delay_max_ms = delay;
  replay_cut_left = MAX (replay_cut, 0);
  rand_ = g_rand_new_with_seed ((guint32) seed);
  signal (SIGPIPE, SIG_IGN);

  listener = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setsockopt (listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (listener < 0 || bind (listener, (struct sockaddr *) &addr, sizeof addr) != 0 || listen (listener, 64) != 0 ||
      getsockname (listener, (struct sockaddr *) &addr, &addr_len) != 0)
    {
      g_printerr ("hearth-fault-proxy: cannot listen on %s: %s\n", listen_text, g_strerror (errno));
      return 1;
    }
  printf ("listening %u\n", ntohs (addr.sin_port));
  fflush (stdout);
  for (;;)
    {
      int client = accept4 (listener, NULL, NULL, SOCK_CLOEXEC);
      Connection *c;

      if (client < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          g_printerr ("hearth-fault-proxy: accept: %s\n", g_strerror (errno));
          return 1;
        }
      setsockopt (client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      c = g_new0 (Connection, 1);
      c->client = client;
      c->number = ++number;
      c->cut = g_rand_double (rand_) < cut_p;
      c->cut_direction = g_rand_int_range (rand_, 0, 2);
      /* A quarter of the cuts at byte 0 (a request never sent, or a reply
       * never received after the center committed); the others at offsets
       * spread evenly over the scales from headers to large bodies. */
      c->cut_after = g_rand_int_range (rand_, 0, 4) == 0 ? 0 : g_rand_int_range (rand_, 0, 1 << g_rand_int_range (rand_, 4, 21));
      c->duplicate = g_rand_double (rand_) < duplicate_p;
      c->delays = g_rand_new_with_seed (g_rand_int (rand_));
      /* Drawn or not, the draws above stay the same for a seed. */
      if (replay_cut_left > 0)
        {
          replay_cut_left--;
          c->replay_cut = TRUE;
          c->cut = FALSE;
          c->duplicate = FALSE;
        }
      if (not_found != NULL || max_body > 0)
        c->cut = c->duplicate = c->replay_cut = FALSE;
      g_thread_unref (g_thread_new ("connection", connection_thread, c));
    }
}

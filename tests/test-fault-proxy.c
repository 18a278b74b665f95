/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-fault-proxy.c: the sync tests' faulty network does what it says.
 * Against a small HTTP target in this process: a clean proxy relays a
 * request and its reply whole; --cut 1 cuts most exchanges short;
 * --duplicate 1 makes the target see each request twice; while the
 * --offline file exists connections are refused, and they work again once
 * it is gone.
 */
#include "test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

typedef struct {
  GSocketService *service;
  guint16 port;
  gint requests;   /* atomic */
} Target;

static const char reply_body[] = "0123456789abcdefghijklmnopqrstuvwxyz";

/* Reads one request (headers only: the test sends no body) and replies. */
static gboolean
on_incoming (GSocketService *service, GSocketConnection *connection, GObject *source, gpointer data)
{
  Target *t = data;
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_autoptr(GString) got = g_string_new (NULL);
  char buf[1024];
  gssize n;
  g_autofree char *reply = NULL;

  while (strstr (got->str, "\r\n\r\n") == NULL && (n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL)) > 0)
    g_string_append_len (got, buf, n);
  if (strstr (got->str, "\r\n\r\n") == NULL)
    return TRUE;
  g_atomic_int_inc (&t->requests);
  /* A long reply, so a cut lands inside it. */
  reply = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", 200 * strlen (reply_body));
  g_output_stream_write_all (out, reply, strlen (reply), NULL, NULL, NULL);
  for (int i = 0; i < 200; i++)
    g_output_stream_write_all (out, reply_body, strlen (reply_body), NULL, NULL, NULL);
  return TRUE;
}

static gpointer
target_thread (gpointer data)
{
  GMainContext *ctx = data;

  for (;;)
    g_main_context_iteration (ctx, TRUE);
  return NULL;
}

static void
target_start (Target *t)
{
  g_autoptr(GError) error = NULL;
  GMainContext *ctx = g_main_context_new ();

  g_main_context_push_thread_default (ctx);
  /* No thread limit: at its limit a GThreadedSocketService stops accepting
   * and a worker restarts it, and that restart queues the next accept on
   * the worker's thread-default context (the global default one, which
   * nothing iterates here), so the target never accepted again.  Under
   * load the handlers of the cut and duplicated exchanges overlapped enough
   * to hit a limit of 4, and the next test's request waited unanswered. */
  t->service = g_threaded_socket_service_new (-1);
  t->port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (t->service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (t->service, "run", G_CALLBACK (on_incoming), t);
  g_socket_service_start (t->service);
  g_main_context_pop_thread_default (ctx);
  g_thread_unref (g_thread_new ("target", target_thread, ctx));
}

typedef struct {
  GSubprocess *proc;
  guint16 port;
} Proxy;

static void
proxy_start (Proxy *p, guint16 target_port, const char *const *extra)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;
  g_autofree char *target = g_strdup_printf ("127.0.0.1:%u", target_port);
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;

  g_strv_builder_add_many (b, g_getenv ("HEARTH_FAULT_PROXY"), "--target", target, "--seed", "7", NULL);
  g_strv_builder_addv (b, (const char **) extra);
  argv = g_strv_builder_end (b);
  p->proc = g_subprocess_newv ((const char *const *) argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                               &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p->proc));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (line, "listening "));
  p->port = (guint16) g_ascii_strtoull (line + 10, NULL, 10);
  g_assert_cmpuint (p->port, >, 0);
}

static void
proxy_stop (Proxy *p)
{
  g_subprocess_force_exit (p->proc);
  g_subprocess_wait (p->proc, NULL, NULL);
  g_clear_object (&p->proc);
}

/* One GET through the proxy: the bytes received, or -1 when the connection
 * could not be made or was closed before anything arrived. */
static gssize
get (guint16 port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  const char *request = "GET /v1/pull HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  char buf[4096];
  gssize n, total = 0;

  g_socket_client_set_timeout (client, 5);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  if (conn == NULL)
    return -1;
  if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), request, strlen (request), NULL,
                                  NULL, NULL))
    return -1;
  while ((n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (conn)), buf, sizeof buf, NULL, NULL)) > 0)
    total += n;
  return total > 0 ? total : -1;
}

static gssize
whole_reply_size (void)
{
  g_autofree char *head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                                           200 * strlen (reply_body));
  return (gssize) (strlen (head) + 200 * strlen (reply_body));
}

static void
wait_for_requests (Target *t, gint n)
{
  for (int i = 0; i < 200 && g_atomic_int_get (&t->requests) < n; i++)
    g_usleep (10000);
}

static void
test_clean (Target *t)
{
  Proxy p;
  const char *none[] = { NULL };

  proxy_start (&p, t->port, none);
  g_atomic_int_set (&t->requests, 0);
  for (int i = 0; i < 5; i++)
    g_assert_cmpint (get (p.port), ==, whole_reply_size ());
  g_assert_cmpint (g_atomic_int_get (&t->requests), ==, 5);
  proxy_stop (&p);
}

static void
test_cut (Target *t)
{
  Proxy p;
  const char *args[] = { "--cut", "1", NULL };
  guint whole = 0;

  proxy_start (&p, t->port, args);
  for (int i = 0; i < 20; i++)
    if (get (p.port) == whole_reply_size ())
      whole++;
  /* A cut beyond the end of a short exchange changes nothing, so not all
   * 20 are cut; with seed 7 most are. */
  g_test_message ("%u of 20 exchanges arrived whole", whole);
  g_assert_cmpuint (whole, <=, 12);
  proxy_stop (&p);
}

static void
test_duplicate (Target *t)
{
  Proxy p;
  const char *args[] = { "--duplicate", "1", NULL };

  proxy_start (&p, t->port, args);
  g_atomic_int_set (&t->requests, 0);
  for (int i = 0; i < 3; i++)
    g_assert_cmpint (get (p.port), ==, whole_reply_size ());
  wait_for_requests (t, 6);
  g_assert_cmpint (g_atomic_int_get (&t->requests), ==, 6);
  proxy_stop (&p);
}

static void
test_offline (Target *t)
{
  g_autofree char *dir = test_make_dir ("fault-proxy");
  g_autofree char *flag = g_build_filename (dir, "offline", NULL);
  const char *args[] = { "--offline", flag, NULL };
  Proxy p;

  proxy_start (&p, t->port, args);
  g_assert_true (g_file_set_contents (flag, "", 0, NULL));
  g_atomic_int_set (&t->requests, 0);
  g_assert_cmpint (get (p.port), ==, -1);
  g_assert_cmpint (g_atomic_int_get (&t->requests), ==, 0);
  g_assert_cmpint (g_remove (flag), ==, 0);
  g_assert_cmpint (get (p.port), ==, whole_reply_size ());
  proxy_stop (&p);
}

int
main (int argc, char *argv[])
{
  static Target target;

  test_init (&argc, &argv);
  target_start (&target);
  g_test_add_data_func ("/fault-proxy/clean", &target, (GTestDataFunc) test_clean);
  g_test_add_data_func ("/fault-proxy/cut", &target, (GTestDataFunc) test_cut);
  g_test_add_data_func ("/fault-proxy/duplicate", &target, (GTestDataFunc) test_duplicate);
  g_test_add_data_func ("/fault-proxy/offline", &target, (GTestDataFunc) test_offline);
  return g_test_run ();
}

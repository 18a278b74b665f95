/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * center-server.h: hearth-center's HTTP(S) front, on libmicrohttpd with a
 * thread pool: it reads each request whole (refusing more than 8 MiB),
 * hands it to center-sync.c, writes the reply (gzip when asked), puts
 * Hearth-Time on every reply, and logs one line per request on stderr:
 * time, method, path (query values other than cursor and limit hidden),
 * status, bytes, milliseconds, device id. Never a body, never personal
 * data.
 *
 * Shutdown drains: the listening socket closes, requests already received
 * complete, new ones on open connections get 503 "draining".
 *
 * Limits (HearthCenterServerLimits) keep one client, or many idle ones,
 * from taking the server: connections per address, an idle timeout, a
 * ceiling on connections (the open-file limit is raised to allow it), and
 * a budget for the request bodies held in memory at once: past it, a
 * request is answered 503 "busy" with Retry-After before its body is read.
 */
#pragma once

#include <glib.h>

#include "center-sync.h"

G_BEGIN_DECLS

typedef struct _HearthCenterServer HearthCenterServer;

/**
 * HearthCenterServerLimits:
 * @threads: the size of the thread pool (1 to 256)
 * @per_ip_connections: open connections one client address may hold (0:
 *   no limit, for a center behind a reverse proxy where every connection
 *   comes from the proxy's address)
 * @idle_timeout_s: seconds a connection may stay silent before it is
 *   closed (1 to 3600)
 * @body_memory: bytes of request bodies held in memory at once, across all
 *   requests (at least 2 × HEARTH_CENTER_MAX_BODY)
 */
typedef struct {
  guint threads;
  guint per_ip_connections;
  guint idle_timeout_s;
  gsize body_memory;
} HearthCenterServerLimits;

/* The defaults of `hearth-center serve`. */
#define HEARTH_CENTER_SERVER_THREADS        8
#define HEARTH_CENTER_SERVER_PER_IP         64
#define HEARTH_CENTER_SERVER_IDLE_TIMEOUT_S 30
#define HEARTH_CENTER_SERVER_BODY_MEMORY    ((gsize) 256 * 1024 * 1024)

/**
 * hearth_center_server_start:
 * @center: the center to serve (borrowed: it must outlive the server)
 * @listen: "HOST:PORT" with a numeric address ("127.0.0.1:8443",
 *   "[::1]:8443")
 * @cert_pem: (nullable): the TLS certificate chain in PEM; with @key_pem,
 *   the server speaks HTTPS only
 * @key_pem: (nullable): its private key in PEM
 * @limits: the server's limits (copied)
 *
 * Returns: (transfer full) (nullable): the running server, or %NULL with
 *   G_IO_ERROR_INVALID_ARGUMENT (a bad address or limit),
 *   G_IO_ERROR_NOT_SUPPORTED (TLS missing from libmicrohttpd) or
 *   G_IO_ERROR_ADDRESS_IN_USE (the address could not be bound, or the
 *   certificate and key do not match) or G_IO_ERROR_FAILED (threads).
 */
HearthCenterServer *hearth_center_server_start (HearthCenter *center,
                                                const char   *listen,
                                                const char   *cert_pem,
                                                const char   *key_pem,
                                                const HearthCenterServerLimits *limits,
                                                GError      **error);

/**
 * hearth_center_server_stop:
 * @server: (transfer full): stopped and freed by this call
 * @drain_ms: how long to wait for requests in progress
 *
 * Stops accepting connections, waits until the requests in progress are
 * answered (at most @drain_ms), lets the replies its handlers made last
 * go out (at most 2 s more), then stops. Call from one thread only.
 *
 * Returns: how many requests were still in progress when it stopped (0
 *   for a clean drain).
 */
guint hearth_center_server_stop (HearthCenterServer *server,
                                 guint               drain_ms);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * client.h: the device's HTTP exchange with the county center
 * (sync/PROTOCOL.md, sections 2-4) over libcurl: JSON bodies, gzip both
 * ways, timeouts, every request signed with the device key and the
 * device's estimate of the center's time, which every reply's Hearth-Time
 * refines. Knows nothing of stores: sync-run.c drives it.
 *
 * Not thread-safe: one client belongs to one thread at a time.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sodium.h>

G_BEGIN_DECLS

#define HEARTH_SYNC_ERROR (hearth_sync_error_quark ())
GQuark hearth_sync_error_quark (void);

/**
 * HearthSyncError:
 * @HEARTH_SYNC_ERROR_UNREACHABLE: no answer: refused, cut, timed out, a
 *   5xx, or an answer that is not the center's (a 3xx, a 4xx without its
 *   error object); worth retrying later (hearth-cli exit 5)
 * @HEARTH_SYNC_ERROR_REFUSED: the center answered no (a 4xx but those
 *   below): the message is the center's,
 *   hearth_sync_client_get_error_code() its code (hearth-cli exit 6)
 * @HEARTH_SYNC_ERROR_PROTOCOL: the center's reply is not what the protocol
 *   says, or the center found the request malformed (400, 404, 413,
 *   414, 431: PROTOCOL.md section 3), a bug of this side; the center's
 *   message and code as for _REFUSED, or a 414 or 431 said by its status
 *   when it came without the center's error object (hearth-cli exit 70)
 * @HEARTH_SYNC_ERROR_NOT_ENROLLED: the store has no device identity yet
 *   (hearth-cli exit 1)
 * @HEARTH_SYNC_ERROR_RESTORED: the reply's `Hearth-Epoch` is not the one
 *   set with hearth_sync_client_set_epoch(): the center was restored from
 *   a backup (PROTOCOL.md section 12); the reply was not read. The device
 *   meets the new epoch and starts its run again (sync-run.c); it is an
 *   error only when that keeps happening (hearth-cli exit 5)
 * @HEARTH_SYNC_ERROR_UNKNOWN_DEVICE: the center does not know this
 *   enrolled device (401 `unknown-device`): most likely it was restored
 *   from a backup taken before the device enrolled; the device enrols
 *   again, keeping its store (PROTOCOL.md section 12; hearth-cli exit 6).
 *   Set by sync-run.c; the client itself says _REFUSED
 * @HEARTH_SYNC_ERROR_BAD_ADDRESS: the center's address is not one the
 *   device may use: not an http(s) address libcurl reads, a user name,
 *   query or fragment in it, or plain http to another machine; nothing
 *   was sent (hearth-cli exit 1)
 * @HEARTH_SYNC_ERROR_UNTRUSTED: the center's certificate is not trusted
 *   (no trusted CA signed it, it is for another address, or its key is
 *   not the pinned one): retrying does not help (hearth-cli exit 7)
 * @HEARTH_SYNC_ERROR_WEB_PAGE: the center's address answered with a web
 *   page (HTML), which the center never sends: a Wi-Fi's sign-in page, a
 *   proxy's or another web server's; worth retrying later, once signed in
 *   (as _UNREACHABLE: hearth-cli exit 5, retried by --retry)
 */
typedef enum {
  HEARTH_SYNC_ERROR_UNREACHABLE,
  HEARTH_SYNC_ERROR_REFUSED,
  HEARTH_SYNC_ERROR_PROTOCOL,
  HEARTH_SYNC_ERROR_NOT_ENROLLED,
  HEARTH_SYNC_ERROR_RESTORED,
  HEARTH_SYNC_ERROR_UNKNOWN_DEVICE,
  HEARTH_SYNC_ERROR_BAD_ADDRESS,
  HEARTH_SYNC_ERROR_UNTRUSTED,
  HEARTH_SYNC_ERROR_WEB_PAGE,
} HearthSyncError;

/* The largest reply the client reads (after gunzip): a pull page is at
 * most 4 MiB, an export larger. */
#define HEARTH_SYNC_MAX_REPLY (64 * 1024 * 1024)

typedef struct _HearthSyncClient HearthSyncClient;

/**
 * hearth_sync_client_new:
 * @center_url: the center's base URL, "https://host[:port]" or
 *   "http://127.0.0.1:port" (no trailing path)
 *
 * Returns: (transfer full) (nullable): a client, or %NULL with
 *   HEARTH_SYNC_ERROR_BAD_ADDRESS for an address that is not an http(s)
 *   URL of a host (no user, query or fragment; plain http only to a
 *   loopback address or localhost).
 */
HearthSyncClient *hearth_sync_client_new (const char *center_url, GError **error);
void hearth_sync_client_free (HearthSyncClient *client);

/**
 * hearth_sync_client_set_identity:
 * @device_id: the enrolled device's UUID
 * @secret_key: (array fixed-size=64): its Ed25519 secret key; copied into
 *   sodium_malloc memory, wiped on free
 */
void hearth_sync_client_set_identity (HearthSyncClient *client,
                                      const char       *device_id,
                                      const guint8     *secret_key);

/**
 * hearth_sync_client_set_time_offset:
 * @offset_ms: the center's clock minus this device's, as last learned
 */
void hearth_sync_client_set_time_offset (HearthSyncClient *client, gint64 offset_ms);
/** hearth_sync_client_get_time_offset: Returns: the latest estimate, in ms. */
gint64 hearth_sync_client_get_time_offset (HearthSyncClient *client);
/** hearth_sync_client_center_now: Returns: the estimate of the center's clock, ms since 1970. */
gint64 hearth_sync_client_center_now (HearthSyncClient *client);

/**
 * hearth_sync_client_set_clock:
 * @now_ms: (nullable): this device's clock, ms since 1970; %NULL: the
 *   system clock
 *
 * The local clock the offset is learned against and the center's time
 * estimated from: the store's (sync-run.c gives the case store's, so that a
 * test clock a day off is a day off for the exchange too).
 */
void hearth_sync_client_set_clock (HearthSyncClient *client,
                                   gint64          (*now_ms) (gpointer data),
                                   gpointer          data);

/**
 * hearth_sync_client_set_timeouts:
 * @connect_ms: to connect (default 10 s)
 * @total_ms: for a whole exchange (default 120 s)
 */
void hearth_sync_client_set_timeouts (HearthSyncClient *client, glong connect_ms, glong total_ms);

/**
 * hearth_sync_client_set_tls:
 * @ca_file: (nullable): a CA bundle to trust instead of the system's
 * @pinned_key: (nullable): libcurl's CURLOPT_PINNEDPUBLICKEY
 *   ("sha256//BASE64;…"): refuse any other server key. Without a CA (file
 *   or PEM) the pin alone is the trust: the chain is not checked, the host
 *   name and the key are
 *
 * Replaces every trust set before (a PEM of hearth_sync_client_set_ca_pem()
 * included).
 */
void hearth_sync_client_set_tls (HearthSyncClient *client, const char *ca_file, const char *pinned_key);

/**
 * hearth_sync_client_set_ca_pem:
 * @ca_pem: (nullable): a CA bundle's PEM text to trust instead of the
 *   system's (CURLOPT_CAINFO_BLOB; copied)
 *
 * Keeps the pin and the CA file set before.
 */
void hearth_sync_client_set_ca_pem (HearthSyncClient *client, const char *ca_pem);

/**
 * hearth_sync_client_call:
 * @method: "GET" or "POST"
 * @path_and_query: "/v1/pull?cursor=0&limit=500"
 * @body: (nullable): a JSON body for POST
 * @sign: whether to sign (every endpoint but enrolment)
 * @status: (out) (optional): the HTTP status
 *
 * One exchange: sends @body gzipped, signs it (PROTOCOL.md section 4),
 * reads the reply (at most HEARTH_SYNC_MAX_REPLY bytes after gunzip) and
 * learns the center's time from it. A 401 "stale" is retried once with the
 * corrected time, a 401 "replay" up to three times, each with a fresh
 * nonce (a copy of the request came first). A reply whose connection
 * closed inside its headers is not read (PROTOCOL.md section 3).
 *
 * Returns: (transfer full) (nullable): the reply's JSON on 2xx; %NULL with
 *   HEARTH_SYNC_ERROR_UNREACHABLE (no answer, a reply cut short, a 3xx, a
 *   4xx without the center's error object, a replay that persists, a
 *   5xx), _WEB_PAGE (a web page instead of the center's reply: a Wi-Fi's
 *   sign-in page), _REFUSED (401, 403, 409, 410, with the center's
 *   message) or _PROTOCOL (400, 404, 413, 414 or 431 with the center's
 *   message, a 414 or 431 without it, or a reply that is not JSON).
 */
JsonNode *hearth_sync_client_call (HearthSyncClient *client,
                                   const char       *method,
                                   const char       *path_and_query,
                                   JsonNode         *body,
                                   gboolean          sign,
                                   guint            *status,
                                   GError          **error);

/**
 * hearth_sync_client_call_text:
 * @method: "POST"
 * @path_and_query: as hearth_sync_client_call()
 * @body: the JSON body as text, @length bytes (a push written by
 *   hearth_change_append_json() rather than built as a tree)
 * @sign: whether to sign
 * @status: (out) (optional): the HTTP status
 *
 * hearth_sync_client_call() with a body already written as text; the same
 * exchange, retries and errors. Not thread safe: one thread per client.
 *
 * Returns: (transfer full) (nullable): as hearth_sync_client_call().
 */
JsonNode *hearth_sync_client_call_text (HearthSyncClient *client,
                                        const char       *method,
                                        const char       *path_and_query,
                                        const char       *body,
                                        gsize             length,
                                        gboolean          sign,
                                        guint            *status,
                                        GError          **error);

/**
 * hearth_sync_client_call_body:
 * @method: "GET" (a body-less request)
 * @path_and_query: as hearth_sync_client_call()
 * @sign: whether to sign
 * @status: (out) (optional): the HTTP status
 *
 * hearth_sync_client_call() without its parse of a 2xx reply: the body
 * (after gunzip) is returned as it came, for a reader of its own (a pull
 * page, app/sync-page-scan.h); hearth_sync_parse_reply() reads it as
 * hearth_sync_client_call() would have. Anything else (no answer, a
 * refusal, a reply of another epoch) is as hearth_sync_client_call().
 *
 * Returns: (transfer full) (nullable): the body of a 2xx reply; %NULL
 *   with the errors of hearth_sync_client_call().
 */
GBytes *hearth_sync_client_call_body (HearthSyncClient *client,
                                      const char       *method,
                                      const char       *path_and_query,
                                      gboolean          sign,
                                      guint            *status,
                                      GError          **error);

/**
 * hearth_sync_parse_reply:
 * @body: (array length=len) (nullable): a reply's body after gunzip
 * @len: its length
 * @status: the reply's HTTP status
 * @code: (out) (optional) (transfer full) (nullable): a refusal's error
 *   code ("revoked", "stale", …), or %NULL
 * @wipe: (out) (optional): whether a refusal told the device to wipe
 *
 * What hearth_sync_client_call() makes of a reply once it has it: the
 * nesting counted in the raw bytes (HEARTH_JSON_MAX_DEPTH) before
 * json-glib parses it, then a 2xx's JSON, or the refusal of section 3 of
 * PROTOCOL.md. A function of its arguments alone, so that a hostile
 * center's bytes can be tried without a network (tests/fuzz/fuzz-reply.c).
 *
 * Returns: (transfer full) (nullable): the JSON of a 2xx reply; %NULL with
 *   HEARTH_SYNC_ERROR_UNREACHABLE (a 2xx that is not JSON, taken for a
 *   reply cut on the way, a 3xx or a 4xx without the center's error
 *   object and its code, the network's not the center's, or a 5xx),
 *   _WEB_PAGE (a body that is a web page, 2xx or 4xx without the
 *   center's error object), _PROTOCOL (400, 404, 413 (a proxy's too, whatever its body), 414, 431) or _REFUSED (any other status, with the
 *   center's message, at most 500 characters on one line).
 *   Thread-safe.
 */
JsonNode *hearth_sync_parse_reply (const char  *body,
                                   gsize        len,
                                   guint        status,
                                   char       **code,
                                   gboolean    *wipe,
                                   GError     **error);

/**
 * hearth_sync_client_get_error_code:
 *
 * Returns: (transfer none) (nullable): the center's error code of the last
 *   refused call ("revoked", "scope", …), or %NULL.
 */
const char *hearth_sync_client_get_error_code (HearthSyncClient *client);

/**
 * hearth_sync_client_get_retry_after:
 *
 * Returns: how long (ms) the center's last 5xx answer asked the device to
 *   wait (its Retry-After, PROTOCOL.md section 3; at most 5 minutes), 0
 *   when it did not.
 */
gint64 hearth_sync_client_get_retry_after (HearthSyncClient *client);

/**
 * hearth_sync_client_set_epoch:
 * @epoch: (nullable): the center's epoch as the store knows it (32 hex
 *   digits); %NULL: none (a store that has not met it yet)
 *
 * From now on a reply whose `Hearth-Epoch` header names another epoch
 * fails with HEARTH_SYNC_ERROR_RESTORED before anything of it is read
 * (PROTOCOL.md section 12). A reply without the header (a center of an
 * earlier version) is read as usual.
 */
void hearth_sync_client_set_epoch (HearthSyncClient *client, const char *epoch);

/**
 * hearth_sync_client_get_epoch:
 * Returns: (transfer none) (nullable): the `Hearth-Epoch` of the last
 *   reply, or %NULL when it had none.
 */
const char *hearth_sync_client_get_epoch (HearthSyncClient *client);

/** hearth_sync_client_get_wipe: Returns: whether the last refusal told the device to wipe. */
gboolean hearth_sync_client_get_wipe (HearthSyncClient *client);

/**
 * hearth_sync_backoff_ms:
 * @attempt: how many tries failed so far, from 1
 * @rand: the random source (tests seed it)
 *
 * Exponential backoff with full jitter: a uniform delay in
 * [0, min(5 min, 1 s × 2^(attempt-1))]. Pure apart from @rand.
 *
 * Returns: the delay before the next try, in milliseconds.
 */
gint64 hearth_sync_backoff_ms (guint attempt, GRand *rand);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthSyncClient, hearth_sync_client_free)

G_END_DECLS

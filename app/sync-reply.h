/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sync-reply.h: what a device reads in the center's replies to enrolment,
 * a push and a pull (sync/PROTOCOL.md, sections 5, 7 and 8), as functions
 * of the reply's JSON alone. sync-run.c calls them after each exchange;
 * the fuzz target tests/fuzz/fuzz-reply.c calls them without a network or
 * a store, so that a hostile or broken center is shown to meet a clear
 * error, never a crash and never a half-read reply taken for a whole one.
 *
 * Every reply that is not what the protocol says is refused with
 * HEARTH_SYNC_ERROR_PROTOCOL, the message naming the member at fault.
 *
 * Thread-safe: the functions keep no state.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "client.h"
#include "sync-store.h"

G_BEGIN_DECLS

/**
 * hearth_sync_read_enrolment:
 * @reply: the JSON of a 2xx reply to POST /v1/enrol
 * @center_url: the center's base URL, kept in the result
 * @device_id: the device id the request sent: the reply must name it
 *
 * Reads the enrolment of PROTOCOL.md section 5: a "user" (one line of
 * UTF-8 text, at most 64 bytes), a "role" (worker, clerk, township or
 * county), a 6-digit "county", the "device_id" the request sent, a "scope"
 * of at least one division code of that county (6, 9 or 12 digits), and
 * the county's recovery key "county_public_key" (the padded standard
 * base64 of 32 bytes); its "features" as hearth_sync_reply_features().
 *
 * Returns: (transfer full) (nullable): the enrolment, or %NULL with
 *   HEARTH_SYNC_ERROR_PROTOCOL naming the member at fault.
 */
HearthSyncEnrolment *hearth_sync_read_enrolment (JsonNode   *reply,
                                                 const char *center_url,
                                                 const char *device_id,
                                                 GError    **error);

/* The elements of a reply's "features" read, at most: a center names a
 * few; a longer array is a broken or hostile one's. */
#define HEARTH_SYNC_MAX_FEATURES 32

/**
 * hearth_sync_reply_features:
 * @reply: the JSON of a 2xx reply to enrolment, GET /v1/epoch or a push
 *
 * What the center says it takes (PROTOCOL.md section 5, "features"): the
 * names in its array, each once; an element that is not a name (1 to 32
 * of a-z, 0-9, "-" and "_") is left out, as unknown names are by the
 * caller, so a center that says more than this device knows is no error.
 * Only the first HEARTH_SYNC_MAX_FEATURES elements are read.
 *
 * Returns: (transfer full) (array zero-terminated=1) (nullable): the
 *   names, or %NULL when the reply has no array "features" (a center of
 *   before them).
 */
char **hearth_sync_reply_features (JsonNode *reply);

/**
 * HearthSyncPushReply:
 * @acked: every change up to this number was handled
 * @refused: (element-type HearthSyncRefusal): the refused changes; their
 *   strings point into the reply, which must outlive them
 * @clamped: (element-type HearthSyncClamp): the clamped edits, likewise
 *
 * A push reply as hearth_sync_store_acknowledge() takes it. Clear with
 * hearth_sync_push_reply_clear().
 */
typedef struct {
  gint64  acked;
  GArray *refused;
  GArray *clamped;
} HearthSyncPushReply;

/**
 * hearth_sync_read_push_reply:
 * @reply: the JSON of a 2xx reply to POST /v1/push
 * @first_seq: the number of the batch's first change
 * @last_seq: the number of its last
 * @out: (out caller-allocates): the reply read
 *
 * Reads a push reply (PROTOCOL.md section 7): "acked" a whole number from
 * @first_seq - 1 to @last_seq (never past what the batch carried: an
 * acknowledgement of changes not sent would let them go unsent); each of
 * "refused" (optional, an array when there) an object with a "seq" from
 * @first_seq to "acked" and an optional string "code" and "message"; each
 * of "clamped" (optional, an array when there) an object with such a "seq"
 * and a valid version "hlc" (sync/hlc.h).
 *
 * Returns: %FALSE with HEARTH_SYNC_ERROR_PROTOCOL naming the member at
 *   fault; @out is then cleared.
 */
gboolean hearth_sync_read_push_reply (JsonNode            *reply,
                                      gint64               first_seq,
                                      gint64               last_seq,
                                      HearthSyncPushReply *out,
                                      GError             **error);

/** hearth_sync_push_reply_clear: frees what @reply holds (not the reply JSON). */
void hearth_sync_push_reply_clear (HearthSyncPushReply *reply);

/**
 * HearthSyncPullPage:
 * @changes: (element-type HearthChange): the changes read, in the order
 *   of the page; a grouped write (kind "edits", PROTOCOL.md 6.1) as it
 *   came, which the store applies as the field edits it holds
 * @skipped: (element-type utf8): why each change that could not be read
 *   was skipped (PROTOCOL.md section 8: one change this version cannot
 *   read must not stop every later sync), one message each
 * @next_cursor: where the next pull starts
 * @more: whether the center has more
 * @compact_until: the cursor a compacted pull is of (PROTOCOL.md section
 *   8.1), or -1 when the page names none
 *
 * A pull page. Clear with hearth_sync_pull_page_clear().
 */
typedef struct {
  GPtrArray *changes;
  GPtrArray *skipped;
  gint64     next_cursor;
  gboolean   more;
  gint64     compact_until;
} HearthSyncPullPage;

/**
 * hearth_sync_read_pull_page:
 * @reply: the JSON of a 2xx reply to GET /v3/pull (or /v1, /v2)
 * @cursor: the cursor the request asked from
 * @out: (out caller-allocates): the page read
 *
 * Reads a pull page (PROTOCOL.md section 8): "changes" an array, each
 * element read with hearth_change_from_json() or skipped with its reason;
 * "next_cursor" a whole number not below @cursor; "more" a boolean
 * (absent: false), and a page that says more must move the cursor on, or
 * the pull would never end.
 *
 * Returns: %FALSE with HEARTH_SYNC_ERROR_PROTOCOL naming the member at
 *   fault; @out is then cleared.
 */
gboolean hearth_sync_read_pull_page (JsonNode           *reply,
                                     gint64              cursor,
                                     HearthSyncPullPage *out,
                                     GError            **error);

/** hearth_sync_pull_page_clear: frees what @page holds. */
void hearth_sync_pull_page_clear (HearthSyncPullPage *page);

/**
 * HearthEnrolRefusal:
 * @HEARTH_ENROL_REFUSAL_OTHER: any other code, or none
 * @HEARTH_ENROL_REFUSAL_CODE_UNKNOWN: `code-unknown`: the center never
 *   issued the code (or it is mistyped)
 * @HEARTH_ENROL_REFUSAL_CODE_EXPIRED: `code-expired`: issued, not used in time
 * @HEARTH_ENROL_REFUSAL_CODE_USED: `code-used`: another enrolment used it
 * @HEARTH_ENROL_REFUSAL_DEVICE_EXISTS: `device-exists`: this tablet's id or
 *   key is enrolled already
 * @HEARTH_ENROL_REFUSAL_REVOKED: `revoked`: the county revoked this tablet
 *
 * Why the center refused an enrolment (PROTOCOL.md sections 3 and 5), for
 * the tablet to say in the user's language rather than the center's
 * English.
 */
typedef enum {
  HEARTH_ENROL_REFUSAL_OTHER,
  HEARTH_ENROL_REFUSAL_CODE_UNKNOWN,
  HEARTH_ENROL_REFUSAL_CODE_EXPIRED,
  HEARTH_ENROL_REFUSAL_CODE_USED,
  HEARTH_ENROL_REFUSAL_DEVICE_EXISTS,
  HEARTH_ENROL_REFUSAL_REVOKED,
} HearthEnrolRefusal;

/**
 * hearth_sync_enrol_refusal:
 * @code: (nullable): the center's error code of a refused enrolment
 *   (hearth_sync_enrol_full())
 *
 * Returns: which refusal of PROTOCOL.md section 5 @code is.
 */
HearthEnrolRefusal hearth_sync_enrol_refusal (const char *code);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HearthSyncPushReply, hearth_sync_push_reply_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HearthSyncPullPage, hearth_sync_pull_page_clear)

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-reply-target.c: the tablet's reading of the center's replies
 * (fuzz-targets.h, hearth_fuzz_reply()). */
#include "fuzz-targets.h"
#include "fuzz-util.h"

#include "client.h"
#include "hlc.h"
#include "json-depth.h"
#include "sync-page-scan.h"
#include "sync-reply.h"

#include <string.h>

/* The request the replies answer: the device that enrols, the batch a
 * push carried, the cursor a pull asked from (the seeds use them). */
#define FUZZ_DEVICE_ID "9f1c2b3a-4d5e-4f60-8a71-b2c3d4e5f601"
#define FUZZ_CENTER_URL "https://center.example"
#define FUZZ_FIRST_SEQ 41
#define FUZZ_LAST_SEQ 50
#define FUZZ_CURSOR 1000

static void
check_protocol_error (const GError *error)
{
  hearth_fuzz_check_message (error);
  fuzz_check (error->domain == HEARTH_SYNC_ERROR && error->code == HEARTH_SYNC_ERROR_PROTOCOL);
}

static gboolean
all_digits (const char *s, gsize n)
{
  if (strlen (s) != n)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  return TRUE;
}

/* One line of UTF-8 text of 1 to @max bytes. */
static gboolean
one_line (const char *s, gsize max)
{
  if (s == NULL || s[0] == '\0' || strlen (s) > max || !g_utf8_validate (s, -1, NULL))
    return FALSE;
  for (const char *p = s; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

/* What a store and hearth-cli take from an enrolment without a second
 * look: the role picks the case model's rights, the scope is kept joined
 * by spaces and commas, the key seals the store's recovery envelope. */
static void
check_enrolment (JsonNode *root)
{
  static const char *const roles[] = { "worker", "clerk", "township", "county", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthSyncEnrolment) e = hearth_sync_read_enrolment (root, FUZZ_CENTER_URL, FUZZ_DEVICE_ID, &error);
  g_autofree guint8 *key = NULL;
  gsize key_len = 0;
  guint n = 0;

  if (e == NULL)
    {
      check_protocol_error (error);
      return;
    }
  fuzz_check (error == NULL);
  fuzz_check (g_str_equal (e->center_url, FUZZ_CENTER_URL));
  fuzz_check (one_line (e->user, 64));
  fuzz_check (e->role != NULL && g_strv_contains (roles, e->role));
  fuzz_check (e->county != NULL && all_digits (e->county, 6));
  fuzz_check (e->scope != NULL);
  for (; e->scope[n] != NULL; n++)
    {
      gsize len = strlen (e->scope[n]);

      fuzz_check ((len == 6 || len == 9 || len == 12) && all_digits (e->scope[n], len));
      fuzz_check (g_str_has_prefix (e->scope[n], e->county));
    }
  fuzz_check (n >= 1);
  fuzz_check (e->county_public_key != NULL && strlen (e->county_public_key) == 44);
  key = g_base64_decode (e->county_public_key, &key_len);
  fuzz_check (key_len == 32);
  {
    g_autofree char *again = g_base64_encode (key, key_len);
    fuzz_check (g_str_equal (again, e->county_public_key));
  }
}

/* What any reply says the center takes (PROTOCOL.md section 5): names of
 * a-z, 0-9, "-" and "_", each once, a few at most; an array always read
 * (as empty when it holds no name), anything else as none. */
static void
check_features (JsonNode *root)
{
  g_auto(GStrv) features = hearth_sync_reply_features (root);
  JsonNode *member = JSON_NODE_HOLDS_OBJECT (root) ? json_object_get_member (json_node_get_object (root), "features")
                                                   : NULL;
  guint n = 0;

  fuzz_check ((features != NULL) == (member != NULL && JSON_NODE_HOLDS_ARRAY (member)));
  for (; features != NULL && features[n] != NULL; n++)
    {
      gsize len = strlen (features[n]);

      fuzz_check (len >= 1 && len <= 32 && strspn (features[n], "abcdefghijklmnopqrstuvwxyz0123456789-_") == len);
      for (guint i = 0; i < n; i++)
        fuzz_check (!g_str_equal (features[i], features[n]));
    }
  fuzz_check (n <= HEARTH_SYNC_MAX_FEATURES);
}

/* A reply member that is there must be what the protocol says, not
 * skipped as if it were missing. */
static gboolean
present_but_not (JsonNode *root, const char *member, JsonNodeType type)
{
  JsonNode *n;

  if (!JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;
  n = json_object_get_member (json_node_get_object (root), member);
  return n != NULL && JSON_NODE_TYPE (n) != type;
}

static void
check_push_reply (JsonNode *root)
{
  g_autoptr(GError) error = NULL;
  g_auto(HearthSyncPushReply) r = { 0 };

  if (!hearth_sync_read_push_reply (root, FUZZ_FIRST_SEQ, FUZZ_LAST_SEQ, &r, &error))
    {
      check_protocol_error (error);
      fuzz_check (r.refused == NULL && r.clamped == NULL);
      return;
    }
  fuzz_check (error == NULL);
  /* Never past the batch: the changes after it were not sent. */
  fuzz_check (r.acked >= FUZZ_FIRST_SEQ - 1 && r.acked <= FUZZ_LAST_SEQ);
  fuzz_check (!present_but_not (root, "refused", JSON_NODE_ARRAY));
  fuzz_check (!present_but_not (root, "clamped", JSON_NODE_ARRAY));
  for (guint i = 0; i < r.refused->len; i++)
    {
      const HearthSyncRefusal *f = &g_array_index (r.refused, HearthSyncRefusal, i);

      fuzz_check (f->seq >= FUZZ_FIRST_SEQ && f->seq <= r.acked);
      fuzz_check (f->code == NULL || g_utf8_validate (f->code, -1, NULL));
      fuzz_check (f->message == NULL || g_utf8_validate (f->message, -1, NULL));
    }
  for (guint i = 0; i < r.clamped->len; i++)
    {
      const HearthSyncClamp *c = &g_array_index (r.clamped, HearthSyncClamp, i);
      HearthHlc hlc;

      fuzz_check (c->seq >= FUZZ_FIRST_SEQ && c->seq <= r.acked);
      /* The store rewrites the edit under it: it must be a version. */
      fuzz_check (c->hlc != NULL && hearth_hlc_parse (c->hlc, &hlc, NULL));
    }
}

static void
check_pull_page (JsonNode *root)
{
  g_autoptr(GError) error = NULL;
  g_auto(HearthSyncPullPage) page = { 0 };
  JsonArray *changes;

  if (!hearth_sync_read_pull_page (root, FUZZ_CURSOR, &page, &error))
    {
      check_protocol_error (error);
      fuzz_check (page.changes == NULL && page.skipped == NULL);
      return;
    }
  fuzz_check (error == NULL);
  /* Backwards only to a restored center's end: an empty last page. */
  fuzz_check (page.next_cursor >= FUZZ_CURSOR ||
              (page.next_cursor >= 0 && !page.more && page.changes->len == 0 && page.skipped->len == 0));
  /* A page that says more and does not move would be asked for forever. */
  fuzz_check (!page.more || page.next_cursor > FUZZ_CURSOR);
  {
    JsonNode *more = json_object_get_member (json_node_get_object (root), "more");
    fuzz_check (more == NULL || (JSON_NODE_HOLDS_VALUE (more) && json_node_get_value_type (more) == G_TYPE_BOOLEAN));
  }
  changes = json_object_get_array_member (json_node_get_object (root), "changes");
  /* Every change is read (an "edits" change as it came, with 1 to 64
   * fields) or skipped with a reason: none goes unnoticed. */
  fuzz_check (page.changes->len + page.skipped->len == json_array_get_length (changes));
  for (guint i = 0; i < page.changes->len; i++)
    {
      const HearthChange *c = page.changes->pdata[i];

      fuzz_check (c->kind != HEARTH_CHANGE_EDITS ||
                  (c->edits != NULL && c->edits->len >= 1 && c->edits->len <= HEARTH_CHANGE_MAX_FIELDS));
    }
  for (guint i = 0; i < page.skipped->len; i++)
    {
      const char *why = page.skipped->pdata[i];
      fuzz_check (why[0] != '\0' && g_utf8_validate (why, -1, NULL));
      fuzz_check (strstr (why, "changes[") != NULL);
    }
  for (guint i = 0; i < page.changes->len; i++)
    {
      const HearthChange *c = page.changes->pdata[i];
      g_autoptr(JsonNode) node = hearth_change_to_json (c);
      g_autoptr(GError) again_error = NULL;
      g_autoptr(HearthChange) again = hearth_change_from_json (node, NULL, &again_error);

      fuzz_check (again != NULL && hearth_change_equal (c, again) && again->cursor == c->cursor);
    }
}

/* The pull page's scan (app/sync-page-scan.h) takes only what json-glib
 * reads to the same page, change for change. */
static void
check_scan (const guint8 *data, gsize size, JsonNode *root)
{
  g_auto(HearthSyncPullPage) scanned = { 0 };
  g_auto(HearthSyncPullPage) read = { 0 };

  if (!hearth_sync_scan_pull_page ((const char *) data, size, FUZZ_CURSOR, &scanned))
    return;
  fuzz_check (root != NULL && hearth_sync_read_pull_page (root, FUZZ_CURSOR, &read, NULL));
  fuzz_check (scanned.next_cursor == read.next_cursor && scanned.more == read.more &&
              scanned.compact_until == read.compact_until && read.skipped->len == 0 &&
              scanned.skipped->len == 0 && scanned.changes->len == read.changes->len);
  for (guint i = 0; i < read.changes->len; i++)
    {
      const HearthChange *a = scanned.changes->pdata[i];
      const HearthChange *b = read.changes->pdata[i];

      fuzz_check (hearth_change_equal (a, b) && a->cursor == b->cursor && g_strcmp0 (a->wall, b->wall) == 0);
    }
}

/* What client.c takes for a web page (a byte order mark, spaces, "<"). */
static gboolean
web_page (const guint8 *data, gsize size)
{
  gsize i = size >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;

  while (i < size && g_ascii_isspace (data[i]))
    i++;
  return i < size && data[i] == '<';
}

/* A refusal: the center's message, whatever the body; a 4xx without the
 * center's error code is the network's answer, with nothing taken from it. */
static void
check_refused (const guint8 *data, gsize size, guint status)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = NULL;
  gboolean wipe = FALSE;
  JsonNode *root = hearth_sync_parse_reply ((const char *) data, size, status, &code, &wipe, &error);

  fuzz_check (root == NULL);
  hearth_fuzz_check_message (error);
  fuzz_check (error->domain == HEARTH_SYNC_ERROR);
  /* A 4xx web page without the center's code: a Wi-Fi's sign-in page or
   * another site (client.c's is_web_page()), said as such. */
  if (status < 500 && code == NULL && error->code == HEARTH_SYNC_ERROR_WEB_PAGE)
    fuzz_check (web_page (data, size));
  else
    fuzz_check (error->code == (status >= 500 || code == NULL ? HEARTH_SYNC_ERROR_UNREACHABLE
                                                              : HEARTH_SYNC_ERROR_REFUSED));
  fuzz_check (status >= 500 || code != NULL || !wipe);
  fuzz_check (code == NULL || g_utf8_validate (code, -1, NULL));
}

void
hearth_fuzz_reply (const guint8 *data, gsize size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = NULL;
  gboolean wipe = TRUE;
  g_autoptr(JsonNode) root = hearth_sync_parse_reply ((const char *) data, size, 200, &code, &wipe, &error);

  check_refused (data, size, 409);
  check_refused (data, size, 503);
  check_scan (data, size, root);
  fuzz_check (code == NULL && !wipe);
  if (root == NULL)
    {
      /* Taken for a reply cut on the way (worth another try), or for a
       * web page (a Wi-Fi's sign-in page) when it looks like one. */
      hearth_fuzz_check_message (error);
      fuzz_check (error->domain == HEARTH_SYNC_ERROR &&
                  error->code == (web_page (data, size) ? HEARTH_SYNC_ERROR_WEB_PAGE : HEARTH_SYNC_ERROR_UNREACHABLE));
      return;
    }
  fuzz_check (error == NULL);
  /* Parsed, so it nests no deeper than json-glib may be given. */
  fuzz_check (hearth_json_check_depth ((const char *) data, size, HEARTH_JSON_MAX_DEPTH, NULL, NULL));
  check_enrolment (root);
  check_features (root);
  check_push_reply (root);
  check_pull_page (root);
}

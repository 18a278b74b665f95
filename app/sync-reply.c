/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sync-reply.c: reading the center's replies (sync-reply.h). */

#include "sync-reply.h"
#include "hlc.h"

#include <glib/gi18n-lib.h>
#include <string.h>

static gboolean
protocol_error (GError **error, const char *what)
{
  g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL, _("the center's reply has no valid “%s”"), what);
  return FALSE;
}

static const char *
string_member (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static gboolean
int_member (JsonObject *o, const char *name, gint64 *out)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (n);
  return TRUE;
}

/* ---- enrolment ------------------------------------------------------------------ */

static const char *const roles[] = { "worker", "clerk", "township", "county", NULL };

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

static gboolean
digits (const char *s, gsize n)
{
  return s != NULL && strlen (s) == n && strspn (s, "0123456789") == n;
}

/* A division code of @county: 6 (the county), 9 (a township) or 12 (a
 * village) digits starting with it. */
static gboolean
division_code (const char *s, const char *county)
{
  return (digits (s, 6) || digits (s, 9) || digits (s, 12)) && g_str_has_prefix (s, county);
}

/* The padded standard base64 of 32 bytes, spelt one way only. */
static gboolean
key_base64 (const char *s)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  g_autofree guint8 *key = NULL;
  g_autofree char *again = NULL;
  gsize len = 0;

  if (s == NULL || strlen (s) != 44 || strspn (s, alphabet) != 43 || s[43] != '=')
    return FALSE;
  key = g_base64_decode (s, &len);
  again = g_base64_encode (key, len);
  return len == 32 && g_str_equal (again, s);
}

/* A feature's name: 1 to 32 of a-z, 0-9, "-" and "_". */
static gboolean
feature_name (const char *s)
{
  gsize len = s != NULL ? strlen (s) : 0;

  return len > 0 && len <= 32 && strspn (s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == len;
}

char **
hearth_sync_reply_features (JsonNode *reply)
{
  g_autoptr(GPtrArray) out = NULL;
  JsonNode *member;
  JsonArray *a;

  member = reply != NULL && JSON_NODE_HOLDS_OBJECT (reply)
           ? json_object_get_member (json_node_get_object (reply), "features") : NULL;
  if (member == NULL || !JSON_NODE_HOLDS_ARRAY (member))
    return NULL;
  a = json_node_get_array (member);
  out = g_ptr_array_new_with_free_func (g_free);
  /* A bounded look: each name is found among those kept (a few). */
  for (guint i = 0; i < json_array_get_length (a) && i < HEARTH_SYNC_MAX_FEATURES; i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      const char *name;

      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        continue;
      name = json_node_get_string (n);
      if (feature_name (name) && !g_ptr_array_find_with_equal_func (out, name, g_str_equal, NULL))
        g_ptr_array_add (out, g_strdup (name));
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

static gboolean
read_enrolment (JsonNode *reply, const char *device_id, HearthSyncEnrolment *enrolment, GError **error)
{
  JsonObject *o;
  JsonArray *scope;

  if (!JSON_NODE_HOLDS_OBJECT (reply))
    return protocol_error (error, "enrolment");
  o = json_node_get_object (reply);
  enrolment->user = g_strdup (string_member (o, "user"));
  enrolment->role = g_strdup (string_member (o, "role"));
  enrolment->county = g_strdup (string_member (o, "county"));
  enrolment->county_public_key = g_strdup (string_member (o, "county_public_key"));
  /* What the store keeps and the case model acts on: an unknown role
   * would be taken for a worker's, a scope is kept joined by spaces and
   * commas, the key seals the store's recovery envelope. */
  if (!one_line (enrolment->user, 64))
    return protocol_error (error, "user");
  if (enrolment->role == NULL || !g_strv_contains (roles, enrolment->role))
    return protocol_error (error, "role");
  if (!digits (enrolment->county, 6))
    return protocol_error (error, "county");
  if (g_strcmp0 (string_member (o, "device_id"), device_id) != 0)
    return protocol_error (error, "device_id");
  if (!json_object_has_member (o, "scope") || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "scope")))
    return protocol_error (error, "scope");
  scope = json_object_get_array_member (o, "scope");
  enrolment->scope = g_new0 (char *, json_array_get_length (scope) + 1);
  for (guint i = 0; i < json_array_get_length (scope); i++)
    {
      JsonNode *n = json_array_get_element (scope, i);
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING ||
          !division_code (json_node_get_string (n), enrolment->county))
        return protocol_error (error, "scope");
      enrolment->scope[i] = g_strdup (json_node_get_string (n));
    }
  if (enrolment->scope[0] == NULL)
    return protocol_error (error, "scope");
  if (!key_base64 (enrolment->county_public_key))
    return protocol_error (error, "county_public_key");
  enrolment->features = hearth_sync_reply_features (reply);
  return TRUE;
}

HearthSyncEnrolment *
hearth_sync_read_enrolment (JsonNode *reply, const char *center_url, const char *device_id, GError **error)
{
  g_autoptr(HearthSyncEnrolment) enrolment = g_new0 (HearthSyncEnrolment, 1);

  g_return_val_if_fail (reply != NULL && center_url != NULL && device_id != NULL, NULL);

  enrolment->center_url = g_strdup (center_url);
  if (!read_enrolment (reply, device_id, enrolment, error))
    return NULL;
  return g_steal_pointer (&enrolment);
}

/* ---- push ------------------------------------------------------------------------ */

void
hearth_sync_push_reply_clear (HearthSyncPushReply *r)
{
  g_clear_pointer (&r->refused, g_array_unref);
  g_clear_pointer (&r->clamped, g_array_unref);
  r->acked = 0;
}

static gboolean
read_push_reply (JsonNode *reply, gint64 first_seq, gint64 last_seq, HearthSyncPushReply *out, GError **error)
{
  JsonObject *o;

  if (!JSON_NODE_HOLDS_OBJECT (reply))
    return protocol_error (error, "acked");
  o = json_node_get_object (reply);
  /* Never past what this batch carried: an acknowledgement of changes
   * not sent would let them go unsent. */
  if (!int_member (o, "acked", &out->acked) || out->acked < first_seq - 1 || out->acked > last_seq)
    return protocol_error (error, "acked");
  /* There, they are arrays: anything else is not "none". */
  if (json_object_has_member (o, "refused") && !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "refused")))
    return protocol_error (error, "refused");
  if (json_object_has_member (o, "clamped") && !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "clamped")))
    return protocol_error (error, "clamped");
  if (json_object_has_member (o, "refused"))
    {
      JsonArray *a = json_object_get_array_member (o, "refused");
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *n = json_array_get_element (a, i);
          HearthSyncRefusal f = { 0 };
          if (!JSON_NODE_HOLDS_OBJECT (n) || !int_member (json_node_get_object (n), "seq", &f.seq) ||
              f.seq < first_seq || f.seq > out->acked)
            return protocol_error (error, "refused");
          f.code = string_member (json_node_get_object (n), "code");
          f.message = string_member (json_node_get_object (n), "message");
          g_array_append_val (out->refused, f);
        }
    }
  if (json_object_has_member (o, "clamped"))
    {
      JsonArray *a = json_object_get_array_member (o, "clamped");
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *n = json_array_get_element (a, i);
          HearthSyncClamp c = { 0 };
          HearthHlc hlc;

          /* The store rewrites the edit under it: a version, or the reply
           * is the center's fault, not the store's. */
          if (!JSON_NODE_HOLDS_OBJECT (n) || !int_member (json_node_get_object (n), "seq", &c.seq) ||
              (c.hlc = string_member (json_node_get_object (n), "hlc")) == NULL ||
              !hearth_hlc_parse (c.hlc, &hlc, NULL) || c.seq < first_seq || c.seq > out->acked)
            return protocol_error (error, "clamped");
          g_array_append_val (out->clamped, c);
        }
    }
  return TRUE;
}

gboolean
hearth_sync_read_push_reply (JsonNode *reply, gint64 first_seq, gint64 last_seq, HearthSyncPushReply *out,
                             GError **error)
{
  g_return_val_if_fail (reply != NULL && out != NULL, FALSE);

  out->acked = 0;
  out->refused = g_array_new (FALSE, TRUE, sizeof (HearthSyncRefusal));
  out->clamped = g_array_new (FALSE, TRUE, sizeof (HearthSyncClamp));
  if (read_push_reply (reply, first_seq, last_seq, out, error))
    return TRUE;
  hearth_sync_push_reply_clear (out);
  return FALSE;
}

/* ---- pull ------------------------------------------------------------------------ */

void
hearth_sync_pull_page_clear (HearthSyncPullPage *page)
{
  g_clear_pointer (&page->changes, g_ptr_array_unref);
  g_clear_pointer (&page->skipped, g_ptr_array_unref);
  page->next_cursor = 0;
  page->more = FALSE;
}

static gboolean
read_pull_page (JsonNode *reply, gint64 cursor, HearthSyncPullPage *out, GError **error)
{
  JsonObject *page;
  JsonNode *more;
  JsonArray *a;

  if (!JSON_NODE_HOLDS_OBJECT (reply))
    return protocol_error (error, "changes");
  page = json_node_get_object (reply);
  if (!json_object_has_member (page, "changes") || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (page, "changes")))
    return protocol_error (error, "changes");
  if (!int_member (page, "next_cursor", &out->next_cursor) || out->next_cursor < 0)
    return protocol_error (error, "next_cursor");
  /* Not read with a default: "more": 1 or "yes" is no answer. */
  more = json_object_get_member (page, "more");
  if (more != NULL && (!JSON_NODE_HOLDS_VALUE (more) || json_node_get_value_type (more) != G_TYPE_BOOLEAN))
    return protocol_error (error, "more");
  out->more = more != NULL && json_node_get_boolean (more);
  out->compact_until = -1;
  if (json_object_has_member (page, "compact_until") &&
      (!int_member (page, "compact_until", &out->compact_until) || out->compact_until < 0))
    return protocol_error (error, "compact_until");
  a = json_object_get_array_member (page, "changes");
  /* Backwards only as the center's end, below this cursor (a center
   * restored from a backup): an empty last page. */
  if (out->next_cursor < cursor && (out->more || json_array_get_length (a) > 0))
    return protocol_error (error, "next_cursor");
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      char where[32];
      g_autoptr(GError) unreadable = NULL;
      HearthChange *c;

      /* Formatted on the stack: ten thousand a page. */
      g_snprintf (where, sizeof where, "changes[%u]", i);
      c = hearth_change_from_json (json_array_get_element (a, i), where, &unreadable);

      if (c == NULL)
        g_ptr_array_add (out->skipped, g_strdup (unreadable->message));
      else
        g_ptr_array_add (out->changes, c);
    }
  /* A page that says "more" must move on, or the pull would never end. */
  if (out->more && out->next_cursor <= cursor)
    return protocol_error (error, "next_cursor");
  return TRUE;
}

gboolean
hearth_sync_read_pull_page (JsonNode *reply, gint64 cursor, HearthSyncPullPage *out, GError **error)
{
  g_return_val_if_fail (reply != NULL && out != NULL, FALSE);

  out->changes = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  out->skipped = g_ptr_array_new_with_free_func (g_free);
  out->next_cursor = 0;
  out->more = FALSE;
  if (read_pull_page (reply, cursor, out, error))
    return TRUE;
  hearth_sync_pull_page_clear (out);
  return FALSE;
}

HearthEnrolRefusal
hearth_sync_enrol_refusal (const char *code)
{
  static const struct {
    const char *code;
    HearthEnrolRefusal refusal;
  } codes[] = {
    { "code-unknown", HEARTH_ENROL_REFUSAL_CODE_UNKNOWN },
    { "code-expired", HEARTH_ENROL_REFUSAL_CODE_EXPIRED },
    { "code-used", HEARTH_ENROL_REFUSAL_CODE_USED },
    { "device-exists", HEARTH_ENROL_REFUSAL_DEVICE_EXISTS },
    { "revoked", HEARTH_ENROL_REFUSAL_REVOKED },
  };

  for (guint i = 0; code != NULL && i < G_N_ELEMENTS (codes); i++)
    if (strcmp (code, codes[i].code) == 0)
      return codes[i].refusal;
  return HEARTH_ENROL_REFUSAL_OTHER;
}

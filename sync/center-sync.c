/* SPDX-License-Identifier: GPL-3.0-or-later */
/* center-sync.c: the center's side of the sync protocol (center-sync.h). */
#define G_LOG_DOMAIN "hearth-center"

#include "center-sync.h"
#include "center-push-parse.h"
#include "center-export.h"
#include "case-audit.h"
#include "hlc.h"
#include "json-depth.h"
#include "merge.h"
#include "sign.h"
#include "str-hash.h"
#include "workflow.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <libdeflate.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

G_DEFINE_QUARK (hearth-center-error-quark, hearth_center_error)

/* Group commit (PROTOCOL.md section 7): pushes wait in @pending; the
 * writer thread takes the waiting pushes into one write transaction and
 * commits them, and each push's own thread waits for the sync of that
 * commit: every push is answered only after it. */
struct _HearthCenter {
  HearthCenterStore *store;
  HearthCenterCounty county;
  GMutex group_lock;
  GQueue pending;     /* PushJob */
  /* The one thread that writes pushes (writer_main()); it waits on
   * writer_wake for pushes. Under group_lock: */
  GThread *writer;
  GCond writer_wake;
  gboolean writer_stopping;
  /* What the writer's turn reuses from push to push and group to group
   * (push_scratch_reset()): touched only by the writer thread. */
  struct _PushScratch *scratch;
  char *epoch;        /* the store's, read once: a restore stops the center */

  /* A GET writes nothing (PROTOCOL.md section 4): its nonce is kept here,
   * not committed with a sync behind the pushes' group; what a restart or
   * a crash forgets is covered by refusing GETs signed before the start
   * (start_ms()). When it started, on the monotonic clock: a wall clock
   * set back after the start moves the start with it. */
  gint64 started_mono_us;
  GMutex nonce_lock;
  GHashTable *nonces;   /* SeenNonce.key, set; entries owned by nonce_order */
  GQueue nonce_order;   /* SeenNonce *, in the order seen */
  GHashTable *nonces_of; /* device id (owned) -> its nonces kept, GUINT_TO_POINTER */
  /* When GETs saw each device (id -> gint64 *), written by seen_thread
   * every HEARTH_CENTER_SEEN_FLUSH_MS and when the center is freed. Under
   * seen_lock. */
  GMutex seen_lock;
  GCond seen_cond;
  GHashTable *seen;
  gboolean stopping;
  GThread *seen_thread;

  /* Pushes to check and parse (PushIntake, oldest first), taken by the
   * parse threads (parser_main()), PARSERS_PER_PROCESSOR a processor:
   * first come, first parsed. Under intake_lock. */
  GMutex intake_lock;
  GCond intake_wake;
  GQueue intake;
  gboolean intake_stopping;
  GPtrArray *parsers;   /* GThread */
};

/* How often the devices' last sight learnt from GETs is written. */
#define HEARTH_CENTER_SEEN_FLUSH_MS 10000

typedef struct {
  gint64 seen_at;
  gsize id_len;         /* of DEVICE-ID in key */
  char key[];           /* "DEVICE-ID NONCE" */
} SeenNonce;

/* What remember_nonce() found. */
typedef enum {
  NONCE_FRESH,
  NONCE_REPLAY,
  NONCE_TOO_MANY,   /* the device's, or all devices', nonces kept are at their cap */
} NonceCheck;

static const struct {
  const char *code;
  guint status;
} error_table[] = {
  [HEARTH_CENTER_ERROR_BAD_JSON] = { "bad-json", 400 },
  [HEARTH_CENTER_ERROR_TOO_DEEP] = { "too-deep", 400 },
  [HEARTH_CENTER_ERROR_TOO_MANY] = { "too-many", 400 },
  [HEARTH_CENTER_ERROR_BAD_CHANGE] = { "bad-change", 400 },
  [HEARTH_CENTER_ERROR_BAD_REQUEST] = { "bad-request", 400 },
  [HEARTH_CENTER_ERROR_UNSIGNED] = { "unsigned", 401 },
  [HEARTH_CENTER_ERROR_BAD_SIGNATURE] = { "bad-signature", 401 },
  [HEARTH_CENTER_ERROR_STALE] = { "stale", 401 },
  [HEARTH_CENTER_ERROR_REPLAY] = { "replay", 401 },
  [HEARTH_CENTER_ERROR_UNKNOWN_DEVICE] = { "unknown-device", 401 },
  [HEARTH_CENTER_ERROR_REVOKED] = { "revoked", 403 },
  [HEARTH_CENTER_ERROR_FORBIDDEN] = { "forbidden", 403 },
  [HEARTH_CENTER_ERROR_NOT_FOUND] = { "not-found", 404 },
  [HEARTH_CENTER_ERROR_GAP] = { "gap", 409 },
  [HEARTH_CENTER_ERROR_DEVICE_EXISTS] = { "device-exists", 409 },
  [HEARTH_CENTER_ERROR_CODE_USED] = { "code-used", 410 },
  [HEARTH_CENTER_ERROR_CODE_EXPIRED] = { "code-expired", 410 },
  [HEARTH_CENTER_ERROR_CODE_UNKNOWN] = { "code-unknown", 410 },
  [HEARTH_CENTER_ERROR_TOO_LARGE] = { "too-large", 413 },
  [HEARTH_CENTER_ERROR_BUSY] = { "busy", 503 },
  [HEARTH_CENTER_ERROR_DRAINING] = { "draining", 503 },
  [HEARTH_CENTER_ERROR_INTERNAL] = { "internal", 500 },
  [HEARTH_CENTER_ERROR_WRONG_USER] = { "wrong-user", 409 },
  [HEARTH_CENTER_ERROR_TOO_LONG] = { "too-long", 414 },
  [HEARTH_CENTER_ERROR_HEADERS_TOO_LARGE] = { "headers-too-large", 431 },
};

/* The per-change refusal codes of a push reply (PROTOCOL.md section 7). */
#define REFUSED_BAD_CHANGE "bad-change"
#define REFUSED_SCOPE "scope"
#define REFUSED_AUDIT "audit"
#define REFUSED_ROLE "role"
#define REFUSED_DUPLICATE "duplicate"

const char *
hearth_center_error_code (HearthCenterError error)
{
  g_return_val_if_fail ((guint) error < G_N_ELEMENTS (error_table), "internal");
  return error_table[error].code;
}

guint
hearth_center_error_status (HearthCenterError error)
{
  g_return_val_if_fail ((guint) error < G_N_ELEMENTS (error_table), 500);
  return error_table[error].status;
}

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

/* ---- replies ---------------------------------------------------------------------- */

void
hearth_center_reply_free (HearthCenterReply *reply)
{
  if (reply == NULL)
    return;
  g_clear_pointer (&reply->body, g_bytes_unref);
  g_free (reply->device_id);
  g_free (reply);
}

static HearthCenterReply *
json_reply (guint status, JsonBuilder *b)
{
  HearthCenterReply *reply = g_new0 (HearthCenterReply, 1);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  char *text = json_to_string (root, FALSE);

  reply->status = status;
  reply->server_time = now_ms ();
  reply->body = g_bytes_new_take (text, strlen (text));
  return reply;
}

/* {"error": {"code", "message", "field"?, "expected"?, "wipe"?,
 * "error_id"?}}: @expected (> 0) for a gap, @wipe for a revoked device,
 * @error_id for a failure of the center's own. */
static HearthCenterReply *
error_reply_id (HearthCenterError error, const char *field, gint64 expected, const char *error_id,
                const char *message)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  HearthCenterReply *reply;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, hearth_center_error_code (error));
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  if (field != NULL)
    {
      json_builder_set_member_name (b, "field");
      json_builder_add_string_value (b, field);
    }
  if (expected > 0)
    {
      json_builder_set_member_name (b, "expected");
      json_builder_add_int_value (b, expected);
    }
  if (error == HEARTH_CENTER_ERROR_REVOKED)
    {
      json_builder_set_member_name (b, "wipe");
      json_builder_add_boolean_value (b, TRUE);
    }
  if (error_id != NULL)
    {
      json_builder_set_member_name (b, "error_id");
      json_builder_add_string_value (b, error_id);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  reply = json_reply (hearth_center_error_status (error), b);
  if (error == HEARTH_CENTER_ERROR_BUSY || error == HEARTH_CENTER_ERROR_DRAINING ||
      error == HEARTH_CENTER_ERROR_INTERNAL)
    reply->retry_after = 5;
  return reply;
}

static HearthCenterReply *
error_reply_full (HearthCenterError error, const char *field, gint64 expected, const char *message)
{
  return error_reply_id (error, field, expected, NULL, message);
}

HearthCenterReply *
hearth_center_error_reply (HearthCenterError error, const char *message)
{
  return error_reply_full (error, NULL, 0, message);
}

G_GNUC_PRINTF (2, 3) static HearthCenterReply *
fail (HearthCenterError error, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  return error_reply_full (error, NULL, 0, message);
}

/* A 500 for a failure of the center's own (the store, the file system):
 * what failed goes to the log under a fresh error id, and the reply gives
 * the id alone, never the database's words (table names, SQL). A failed
 * WAL sync (@not_durable) is no "committed nothing": the request's
 * writes may be kept, or lost at a power cut, and the center answers
 * nothing until it is restarted (PROTOCOL.md section 1). */
static HearthCenterReply *
internal_reply (const char *what, gboolean not_durable)
{
  guint8 raw[8];
  char id[2 * sizeof raw + 1];
  g_autofree char *message = NULL;

  randombytes_buf (raw, sizeof raw);
  sodium_bin2hex (id, sizeof id, raw, sizeof raw);
  /* Store and file errors name tables, statements and paths, never a
   * record's values. */
  g_warning ("internal failure %s: %s", id, what);
  if (not_durable)
    message = g_strdup_printf (_("the center could not write to its disk (error %s: county IT finds it in the "
                                 "center's log) and answers nothing until it is restarted; try again later"),
                               id);
  else
    message = g_strdup_printf (_("the center failed and committed nothing (error %s: county IT finds it in the "
                                 "center's log); try again later"),
                               id);
  return error_reply_id (HEARTH_CENTER_ERROR_INTERNAL, NULL, 0, id, message);
}

/* A reply for a GError of HEARTH_CENTER_ERROR (a refusal) or any other
 * domain (a store failure: 500, logged, nothing committed; or not synced,
 * HEARTH_CENTER_STORE_ERROR_NOT_DURABLE). */
static HearthCenterReply *
reply_for_error (const GError *error, const char *field)
{
  g_autofree char *what = NULL;

  if (error->domain == HEARTH_CENTER_ERROR)
    return error_reply_full ((HearthCenterError) error->code, field, 0, error->message);
  what = g_strdup_printf ("%s (%s %d)", error->message, g_quark_to_string (error->domain), error->code);
  return internal_reply (what, g_error_matches (error, HEARTH_CENTER_STORE_ERROR,
                                                HEARTH_CENTER_STORE_ERROR_NOT_DURABLE));
}

/* ---- bodies ----------------------------------------------------------------------- */

/* A decompressor for each thread that reads bodies: set up once, not
 * shared between threads (libdeflate's are not thread-safe). */
static GPrivate decompressor_key = G_PRIVATE_INIT ((GDestroyNotify) libdeflate_free_decompressor);

/* Inflates a gzip body of at most @max bytes inflated: a few kilobytes can
 * inflate to gigabytes. In one call into a buffer the size the stream's
 * trailer states (libdeflate, a third of zlib's streaming through GIO):
 * the stated size is a hint only, never trusted past @max, and a stream
 * that needs more than the hint is inflated again into @max bytes, which
 * it must not fill. */
static GBytes *
gunzip_bounded (const guint8 *data, gsize len, gsize max, GError **error)
{
  struct libdeflate_decompressor *d = g_private_get (&decompressor_key);
  gsize room, in_used = 0, out_len = 0;
  enum libdeflate_result rc;
  g_autofree guint8 *out = NULL;

  if (d == NULL)
    {
      d = libdeflate_alloc_decompressor ();
      if (d == NULL)
        g_error ("libdeflate could not allocate a decompressor");
      g_private_set (&decompressor_key, d);
    }
  /* The last four bytes of a gzip member: its inflated size, modulo 2^32. */
  room = len >= 18 ? (gsize) data[len - 4] | (gsize) data[len - 3] << 8 | (gsize) data[len - 2] << 16 |
                       (gsize) data[len - 1] << 24
                   : 0;
  if (room > max)
    room = max;
  for (;;)
    {
      out = g_malloc (MAX (room, 1));
      rc = libdeflate_gzip_decompress_ex (d, data, len, out, room, &in_used, &out_len);
      if (rc != LIBDEFLATE_INSUFFICIENT_SPACE || room == max)
        break;
      g_clear_pointer (&out, g_free);
      room = max;
    }
  if (rc == LIBDEFLATE_INSUFFICIENT_SPACE)
    {
      g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_TOO_LARGE,
                   _("the body inflates to more than %d bytes"), (int) max);
      return NULL;
    }
  if (rc != LIBDEFLATE_SUCCESS)
    {
      g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_REQUEST,
                   _("the gzip body is damaged or cut short"));
      return NULL;
    }
  if (in_used != len)
    {
      g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_REQUEST,
                   _("the body holds data after the end of its gzip stream"));
      return NULL;
    }
  /* An honest stream fills its stated size exactly: no copy. */
  if (out_len < room)
    out = g_realloc (out, MAX (out_len, 1));
  return g_bytes_new_take (g_steal_pointer (&out), out_len);
}

/* The body as JSON text: inflated when it says gzip. */
static GBytes *
decode_body (const HearthCenterRequest *req, GError **error)
{
  const char *enc = req->content_encoding;

  if (req->body_len > HEARTH_CENTER_MAX_BODY)
    {
      g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_TOO_LARGE,
                   _("the body is larger than %d bytes"), HEARTH_CENTER_MAX_BODY);
      return NULL;
    }
  /* The request's own bytes, not a copy: they outlive the handler. */
  if (enc == NULL || *enc == '\0' || g_ascii_strcasecmp (enc, "identity") == 0)
    return g_bytes_new_static (req->body, req->body_len);
  if (g_ascii_strcasecmp (enc, "gzip") == 0)
    return gunzip_bounded (req->body, req->body_len, HEARTH_CENTER_MAX_BODY, error);
  g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_REQUEST,
               _("Content-Encoding “%s” is not supported (send gzip or nothing)"), enc);
  return NULL;
}

/* The names each object of a body holds so far (JsonObject → set of
 * names), and the first name each object holds twice (JsonObject →
 * name): json-glib keeps the last of a repeated member without a word,
 * and a device's change read as it was not meant to be must be refused. */
typedef struct
{
  GHashTable *names;
  GHashTable *repeated;
} MemberNames;

static void
member_seen (JsonParser *parser, JsonObject *object, const char *name, gpointer user_data)
{
  MemberNames *m = user_data;
  GHashTable *names = g_hash_table_lookup (m->names, object);

  if (names == NULL)
    {
      names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_insert (m->names, object, names);
    }
  if (!g_hash_table_add (names, g_strdup (name)) && !g_hash_table_contains (m->repeated, object))
    g_hash_table_insert (m->repeated, object, g_strdup (name));
}

/* hearth_center_parse_json(), the objects holding a member twice in
 * *@repeated (JsonObject → the name, valid while the tree is) or, without
 * @repeated, an error naming the first such member. */
static JsonNode *
parse_json (const char *data, gsize len, GHashTable **repeated, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local = NULL;
  g_autoptr(GHashTable) names = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_hash_table_unref);
  g_autoptr(GHashTable) twice = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  MemberNames m = { names, twice };
  const char *bad_utf8 = NULL;
  JsonNode *root;

  if (len > HEARTH_CENTER_MAX_BODY)
    {
      g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_TOO_LARGE,
                   _("the body is larger than %d bytes"), HEARTH_CENTER_MAX_BODY);
      return NULL;
    }
  /* json-glib refuses no data without saying why. */
  if (data == NULL || len == 0)
    {
      g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_JSON, _("the body is empty: a JSON object is "
                                                                              "expected"));
      return NULL;
    }
  if (!g_utf8_validate (data, (gssize) len, &bad_utf8))
    {
      g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_JSON,
                   _("the body is not UTF-8 text (byte %lu)"), (unsigned long) (bad_utf8 - data));
      return NULL;
    }
  /* Before json-glib sees it: its parser recurses without a limit. */
  if (!hearth_json_check_depth (data, len, HEARTH_JSON_MAX_DEPTH, NULL, &local))
    {
      g_set_error_literal (error, HEARTH_CENTER_ERROR,
                           local->code == HEARTH_JSON_DEPTH_ERROR_TOO_DEEP ? HEARTH_CENTER_ERROR_TOO_DEEP
                                                                           : HEARTH_CENTER_ERROR_BAD_JSON,
                           local->message);
      return NULL;
    }
  g_signal_connect (parser, "object-member", G_CALLBACK (member_seen), &m);
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local))
    {
      unsigned line = 0, column = 0;
      int consumed = 0;

      /* json-glib says "<data>:LINE:COLUMN: Parse error: …", quoting the
       * text at fault cut at a byte count, which may split a character. */
      g_autofree char *valid = g_utf8_make_valid (local->message, -1);

      if (sscanf (valid, "<data>:%u:%u: %n", &line, &column, &consumed) == 2 && consumed > 0)
        g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_JSON, _("line %u, column %u: %s"), line,
                     column, valid + consumed);
      else
        g_set_error_literal (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_JSON, valid);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_JSON, _("the body is empty"));
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_REQUEST, _("the body must be a JSON object"));
      return NULL;
    }
  if (repeated != NULL)
    *repeated = g_steal_pointer (&twice);
  else if (g_hash_table_size (twice) > 0)
    {
      GHashTableIter iter;
      gpointer name;

      g_hash_table_iter_init (&iter, twice);
      g_hash_table_iter_next (&iter, NULL, &name);
      g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_JSON,
                   _("an object holds the member “%s” twice: each name may appear once"), (const char *) name);
      return NULL;
    }
  return json_node_ref (root);
}

JsonNode *
hearth_center_parse_json (const char *data, gsize len, GError **error)
{
  return parse_json (data, len, NULL, error);
}

/* Takes from @repeated the name that @object (which may be %NULL) or,
 * for a change, its "fields" object or one of their field edits holds
 * twice, as "fields.phone" or a member of the change: %NULL when none. */
static char *
take_repeated (GHashTable *repeated, JsonObject *object, gboolean change)
{
  char *name = NULL;

  if (object == NULL || g_hash_table_size (repeated) == 0)
    return NULL;
  if (g_hash_table_steal_extended (repeated, object, NULL, (gpointer *) &name))
    return name;
  if (change && json_object_has_member (object, "fields") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "fields")))
    {
      JsonObject *fields = json_object_get_object_member (object, "fields");
      JsonObjectIter iter;
      const char *member;
      JsonNode *node;

      name = take_repeated (repeated, fields, FALSE);
      if (name != NULL)
        {
          char *path = g_strconcat ("fields.", name, NULL);

          g_free (name);
          return path;
        }
      json_object_iter_init (&iter, fields);
      while (json_object_iter_next (&iter, &member, &node))
        if (JSON_NODE_HOLDS_OBJECT (node) && (name = take_repeated (repeated, json_node_get_object (node), FALSE)))
          {
            char *path = g_strdup_printf ("fields.%s.%s", member, name);

            g_free (name);
            return path;
          }
    }
  return NULL;
}

/* A device id as devices make them (g_uuid_string_random()): a UUID in
 * lowercase. g_uuid_string_is_valid() takes capitals too, and one device
 * under two spellings would be two devices to the store. */
static gboolean
device_id_is_valid (const char *id)
{
  if (id == NULL || !g_uuid_string_is_valid (id))
    return FALSE;
  for (const char *p = id; *p != '\0'; p++)
    if (g_ascii_isupper (*p))
      return FALSE;
  return TRUE;
}

/* What a JSON value is, in words, for a refusal of a member of another
 * type than the one asked for. */
static const char *
json_kind_words (JsonNode *n)
{
  if (JSON_NODE_HOLDS_OBJECT (n))
    return _("an object");
  if (JSON_NODE_HOLDS_ARRAY (n))
    return _("an array");
  if (JSON_NODE_HOLDS_NULL (n))
    return _("null");
  switch (json_node_get_value_type (n))
    {
    case G_TYPE_BOOLEAN:
      return _("true or false");
    case G_TYPE_STRING:
      return _("a string");
    default:
      return _("a number");
    }
}

/* A string member, or NULL when it is missing or not a string. */
static const char *
member_string (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

void
hearth_push_item_free (HearthPushItem *item)
{
  hearth_change_free (item->change);
  g_free (item->refusal);
  g_clear_pointer (&item->fields, g_bytes_unref);
  g_free (item);
}

void
hearth_push_batch_free (HearthPushBatch *batch)
{
  if (batch == NULL)
    return;
  g_free (batch->device_id);
  /* The changes first: their strings may be in @strings. */
  g_clear_pointer (&batch->items, g_ptr_array_unref);
  g_clear_pointer (&batch->strings, g_string_chunk_free);
  g_free (batch);
}

/* @n bytes of @in as 2 * @n lowercase hex digits and a NUL into @out:
 * sodium_bin2hex()'s text without its constant time, which a change's
 * digest (no secret) does not need (a thousand instructions a change). */
static void
digest_hex (char *out, const guint8 *in, gsize n)
{
  static const char digits[] = "0123456789abcdef";

  for (gsize i = 0; i < n; i++)
    {
      out[2 * i] = digits[in[i] >> 4];
      out[2 * i + 1] = digits[in[i] & 0xf];
    }
  out[2 * n] = '\0';
}

/* The key of the changes' digests (push_item_digest()): fixed and
 * public. The digest tells a device's repeat of its change N from
 * another change it numbered N; a device that made two of its own
 * changes collide would only have its second taken for a repeat of its
 * first (nothing of another device's), so what it must resist is an
 * accidental collision, which 128 bits do. */
static const guint8 digest_key[crypto_shorthash_siphashx24_KEYBYTES] = {
  'h', 'e', 'a', 'r', 't', 'h', ' ', 'c', 'h', 'a', 'n', 'g', 'e', ' ', 'v', '1',
};

/* BLAKE2b-256 in hex (@out: 65 bytes) of the @n pieces of a change's
 * digest's text: its digest as centers before migration 0026 made it. */
static void
digest_before_0026 (const char *const *text, const gsize *len, guint n, char *out)
{
  crypto_generichash_state state;
  guint8 digest[32];

  crypto_generichash_init (&state, NULL, 0, sizeof digest);
  for (guint i = 0; i < n; i++)
    crypto_generichash_update (&state, (const guint8 *) text[i], len[i]);
  crypto_generichash_final (&state, digest, sizeof digest);
  digest_hex (out, digest, sizeof digest);
}

/* What the change holds, to tell a repeat of change N from another change
 * under the number N (PROTOCOL.md section 7): SipHash-2-4 of 128 bits
 * (libsodium's crypto_shorthash_siphashx24) of its text, 32 hex digits.
 * Until center migration 0026 it was BLAKE2b-256 (64 digits; a fifth as
 * fast, 7.6% of the center's processor samples in an ingest): for a
 * repeat of a change stored then (push_item_digest_matches()), the text
 * is kept when it is the body's own pieces (@item's digest_text), else
 * that digest is made now (@item's digest_before). @text:
 * the batch's scratch buffer, written over: one allocation for all its
 * changes rather than a string grown from nothing for each. */
static void
push_item_digest (HearthPushItem *item, JsonNode *element, GString *text)
{
  g_string_truncate (text, 0);

  if (item->change != NULL && item->n_digest_text > 0)
    {
      /* The change came as the center writes it (the fast reader saw to
       * it): its text is the body's own pieces, not written again (one
       * copy: SipHash takes its input whole). */
      for (guint i = 0; i < item->n_digest_text; i++)
        g_string_append_len (text, item->digest_text[i], (gssize) item->digest_len[i]);
      if (item->fields_text != NULL)
        item->fields = hearth_center_fields_pack (item->fields_text, item->fields_len);
      item->fields_text = NULL;
    }
  /* The text json-glib's tree gave, written directly (a tenth of the
   * center's time per change went into building and writing the tree). */
  else if (item->change != NULL && item->fields_text != NULL)
    {
      /* The body's own fields, already in the digest's form (the fast
       * reader saw to it): neither sorted nor escaped again. */
      hearth_change_append_record_json (item->change, TRUE, item->fields_text, item->fields_len, text);
      item->fields = hearth_center_fields_pack (item->fields_text, item->fields_len);
      item->fields_text = NULL;
    }
  else if (item->change != NULL)
    {
      hearth_change_append_json (item->change, TRUE, text);
      /* A record's text ends in its fields, as the store keeps them: the
       * first ,"fields":{ is the member (inside a string a quote is
       * escaped, so never follows a comma). */
      if (item->change->kind == HEARTH_CHANGE_RECORD)
        {
          const char *at = strstr (text->str, ",\"fields\":{");

          if (at != NULL && text->str[text->len - 1] == '}')
            {
              const char *start = at + strlen (",\"fields\":");

              /* Packed here, in the request's thread: the group's
               * writer only stores them (0019-packed-fields.sql). */
              item->fields = hearth_center_fields_pack (start, (gsize) (text->str + text->len - 1 - start));
            }
        }
    }
  else
    {
      g_autofree char *raw = json_to_string (element, FALSE);
      g_string_append (text, raw);
    }
  /* Not the body's own pieces (a body not in the devices' form): the
   * digest of before 0026 made now, not the text kept (a copy of each of
   * its changes until the push is answered: 5.9 MB more for a push of
   * 6.5 MB). */
  if (item->n_digest_text == 0)
    digest_before_0026 ((const char *const *) &text->str, &text->len, 1, item->digest_before);
  hearth_center_change_digest (text->str, text->len, item->digest);
}

void
hearth_center_change_digest (const char *text, gsize len, char *out)
{
  guint8 digest[crypto_shorthash_siphashx24_BYTES];

  G_STATIC_ASSERT (2 * sizeof digest == HEARTH_CENTER_DIGEST_LEN);
  crypto_shorthash_siphashx24 (digest, (const guint8 *) text, len, digest_key);
  digest_hex (out, digest, sizeof digest);
}

/* Whether @stored, the digest stored with change N of @item's device,
 * is @item's: 32 digits (push_item_digest()), or 64 of BLAKE2b-256 of
 * the same text for a change stored before center migration 0026 (its
 * repeat, sent again after the upgrade, is still a repeat). */
static gboolean
push_item_digest_matches (const HearthPushItem *item, const char *stored)
{
  char hex[65];

  if (strlen (stored) != 64)
    return strcmp (stored, item->digest) == 0;
  if (item->n_digest_text == 0)
    return strcmp (stored, item->digest_before) == 0;
  digest_before_0026 (item->digest_text, item->digest_len, item->n_digest_text, hex);
  return strcmp (stored, hex) == 0;
}

/* The digest buffer's first size: a visit's largest change, an audit
 * entry or a write of a dozen fields, fits. */
#define DIGEST_TEXT_BYTES 2048

HearthPushBatch *
hearth_center_parse_push (const char *data, gsize len, char **field, GError **error)
{
  g_autoptr(HearthPushBatch) batch = NULL;
  g_autoptr(GString) text = NULL;

  /* A device's body is read in one pass (center-push-parse.h); anything
   * else, and every error, through json-glib's tree, which says what is
   * wrong. */
  if (data != NULL && len <= HEARTH_CENTER_MAX_BODY && hearth_center_push_text_is_utf8 (data, len))
    batch = hearth_center_parse_push_fast (data, len);
  if (batch == NULL)
    return hearth_center_parse_push_tree (data, len, field, error);
  if (field != NULL)
    *field = NULL;
  text = g_string_sized_new (DIGEST_TEXT_BYTES);
  for (guint i = 0; i < batch->items->len; i++)
    push_item_digest (batch->items->pdata[i], NULL, text);
  return g_steal_pointer (&batch);
}

HearthPushBatch *
hearth_center_parse_push_tree (const char *data, gsize len, char **field, GError **error)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(HearthPushBatch) batch = NULL;
  g_autoptr(GString) text = g_string_sized_new (DIGEST_TEXT_BYTES);
  JsonObject *o;
  JsonNode *changes;
  JsonArray *array;
  const char *device_id;
  gint64 first = 0;
  g_autoptr(GHashTable) repeated = NULL;

  if (field != NULL)
    *field = NULL;
  root = parse_json (data, len, &repeated, error);
  if (root == NULL)
    return NULL;
  o = json_node_get_object (root);
  device_id = member_string (o, "device_id");
  if (!device_id_is_valid (device_id))
    {
      if (field != NULL)
        *field = g_strdup ("device_id");
      if (json_object_has_member (o, "device_id") && device_id == NULL)
        g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_REQUEST,
                     _("“%s” must be a string (in double quotes), not %s"), "device_id",
                     json_kind_words (json_object_get_member (o, "device_id")));
      else
        g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_REQUEST,
                     _("“device_id” must be the device's UUID, in lowercase"));
      return NULL;
    }
  changes = json_object_get_member (o, "changes");
  if (changes == NULL || !JSON_NODE_HOLDS_ARRAY (changes))
    {
      if (field != NULL)
        *field = g_strdup ("changes");
      g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_REQUEST, _("“changes” must be an array"));
      return NULL;
    }
  array = json_node_get_array (changes);
  if (json_array_get_length (array) > HEARTH_CENTER_MAX_CHANGES)
    {
      if (field != NULL)
        *field = g_strdup ("changes");
      g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_TOO_MANY,
                   _("a push holds at most %d changes, this one %u"), HEARTH_CENTER_MAX_CHANGES,
                   json_array_get_length (array));
      return NULL;
    }

  batch = g_new0 (HearthPushBatch, 1);
  batch->device_id = g_strdup (device_id);
  batch->items = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_push_item_free);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      g_autofree char *where = g_strdup_printf ("changes[%u]", i);
      g_autoptr(GError) local = NULL;
      g_autofree char *twice = NULL;
      HearthPushItem *item;
      JsonNode *seq = NULL;

      /* Without its number a change cannot even be consumed: the batch is
       * malformed, not the change. */
      if (JSON_NODE_HOLDS_OBJECT (element))
        seq = json_object_get_member (json_node_get_object (element), "seq");
      if (seq == NULL || !JSON_NODE_HOLDS_VALUE (seq) || json_node_get_value_type (seq) != G_TYPE_INT64 ||
          json_node_get_int (seq) < 1 || json_node_get_int (seq) > HEARTH_CENTER_MAX_SEQ)
        {
          if (field != NULL)
            *field = g_strconcat (where, ".seq", NULL);
          g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_CHANGE,
                       _("%s: a change must be an object with a whole “seq” from 1"), where);
          return NULL;
        }
      if (i == 0)
        first = json_node_get_int (seq);
      else if (json_node_get_int (seq) != first + i)
        {
          if (field != NULL)
            *field = g_strconcat (where, ".seq", NULL);
          g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_CHANGE,
                       _("%s: “seq” is %lld where %lld follows (a batch holds consecutive numbers)"), where,
                       (long long) json_node_get_int (seq), (long long) (first + i));
          return NULL;
        }
      item = g_new0 (HearthPushItem, 1);
      item->seq = json_node_get_int (seq);
      twice = take_repeated (repeated, json_node_get_object (element), TRUE);
      if (twice != NULL)
        item->refusal = g_strdup_printf (_("%s: “%s” appears twice: each name may appear once"), where, twice);
      else
        {
          item->change = hearth_change_from_json (element, where, &local);
          if (item->change == NULL)
            item->refusal = g_strdup (local->message);
        }
      push_item_digest (item, element, text);
      g_ptr_array_add (batch->items, item);
    }
  /* A member named twice outside the changes: the body is not what its
   * sender meant, or not a device's. */
  if (g_hash_table_size (repeated) > 0)
    {
      GHashTableIter iter;
      gpointer name;

      g_hash_table_iter_init (&iter, repeated);
      g_hash_table_iter_next (&iter, NULL, &name);
      g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_JSON,
                   _("an object holds the member “%s” twice: each name may appear once"), (const char *) name);
      return NULL;
    }
  return g_steal_pointer (&batch);
}

/* ---- enrolment codes --------------------------------------------------------------- */

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#define CODE_CHARS 16

static void
code_digest (const char *normalised, guint8 *hash)
{
  crypto_generichash (hash, 32, (const guint8 *) normalised, CODE_CHARS, NULL, 0);
}

char *
hearth_center_code_new (guint8 *hash)
{
  guint8 raw[10];  /* 80 bits: 16 digits of 5 bits */
  char digits[CODE_CHARS + 1];
  guint bit = 0;

  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");
  randombytes_buf (raw, sizeof raw);
  for (guint i = 0; i < CODE_CHARS; i++, bit += 5)
    {
      guint value = ((guint) raw[bit / 8] << 8 | (bit / 8 + 1 < sizeof raw ? raw[bit / 8 + 1] : 0)) >> (11 - bit % 8);
      digits[i] = crockford[value & 31];
    }
  digits[CODE_CHARS] = '\0';
  code_digest (digits, hash);
  sodium_memzero (raw, sizeof raw);
  return g_strdup_printf ("%.4s-%.4s-%.4s-%.4s", digits, digits + 4, digits + 8, digits + 12);
}

gboolean
hearth_center_code_hash (const char *entered, guint8 *hash)
{
  char digits[CODE_CHARS + 1];
  guint n = 0;

  for (const char *p = entered; *p != '\0'; p++)
    {
      char c = g_ascii_toupper (*p);

      if (c == '-' || c == ' ')
        continue;
      if (c == 'O')
        c = '0';
      else if (c == 'I' || c == 'L')
        c = '1';
      if (c == '\0' || strchr (crockford, c) == NULL || n == CODE_CHARS)
        return FALSE;
      digits[n++] = c;
    }
  if (n != CODE_CHARS)
    return FALSE;
  digits[n] = '\0';
  code_digest (digits, hash);
  return TRUE;
}

/* ---- the center -------------------------------------------------------------------- */

gboolean
hearth_center_user_name_is_valid (const char *name)
{
  gsize n = strlen (name);

  if (n == 0 || n > 64 || !g_ascii_isalnum (name[0]))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!(g_ascii_islower (name[i]) || g_ascii_isdigit (name[i]) || strchr ("._-", name[i]) != NULL))
      return FALSE;
  return TRUE;
}

static gpointer seen_thread (gpointer data);
static struct _PushScratch *push_scratch_new (void);
static void push_scratch_free (struct _PushScratch *s);

static gpointer writer_main (gpointer data);
/* Parse threads a processor (parser_main()): a parse thread also waits
 * (its check of the signature reads the store once every commit begun
 * is durable, and a first read opens a connection), and with one a
 * processor the cores sat idle meanwhile: the bench's ingest lost a
 * tenth of its rate; with two, its p99 was 250-284 ms where a thread a
 * push (the 128 handlers) had 305-419 ms, at the same rate. */
#define PARSERS_PER_PROCESSOR 2
static gpointer parser_main (gpointer data);

HearthCenter *
hearth_center_new (HearthCenterStore *store, GError **error)
{
  g_autoptr(HearthCenterTxn) txn = NULL;
  HearthCenter *self;
  gint64 restore_cursor = 0;

  g_return_val_if_fail (HEARTH_IS_CENTER_STORE (store), NULL);

  self = g_new0 (HearthCenter, 1);
  self->store = g_object_ref (store);
  /* This center is the store's one server (serve holds PATH.serve-lock):
   * the group commit leaves the sync of each group off the writer's way
   * (wait_for_group(), PROTOCOL.md section 1). */
  hearth_center_store_pipeline (store);
  g_mutex_init (&self->group_lock);
  g_cond_init (&self->writer_wake);
  g_queue_init (&self->pending);
  self->scratch = push_scratch_new ();
  /* A GET taken before a crash was signed at most
   * HEARTH_CENTER_GET_AHEAD_MS ahead of that center's clock: once this
   * long has passed, it was signed before this start (authenticate()). */
  g_usleep (HEARTH_CENTER_GET_AHEAD_MS * 1000);
  self->started_mono_us = g_get_monotonic_time ();
  g_mutex_init (&self->nonce_lock);
  self->nonces = g_hash_table_new (g_str_hash, g_str_equal);
  self->nonces_of = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&self->nonce_order);
  g_mutex_init (&self->seen_lock);
  g_cond_init (&self->seen_cond);
  self->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  txn = hearth_center_store_begin (store, FALSE, error);
  if (txn == NULL || !hearth_center_txn_get_county (txn, &self->county, error) ||
      !hearth_center_txn_get_epoch (txn, &self->epoch, &restore_cursor, error))
    {
      hearth_center_free (self);
      return NULL;
    }
  self->seen_thread = g_thread_new ("hearth-seen", seen_thread, self);
  /* Made here, by the thread that makes the center, not by a parse
   * thread: a thread inherits its maker's nice value, and the parse
   * threads nice themselves (parser_main()). */
  self->writer = g_thread_new ("hearth-writer", writer_main, self);
  g_mutex_init (&self->intake_lock);
  g_cond_init (&self->intake_wake);
  g_queue_init (&self->intake);
  self->parsers = g_ptr_array_new ();
  for (guint i = 0; i < PARSERS_PER_PROCESSOR * g_get_num_processors (); i++)
    g_ptr_array_add (self->parsers, g_thread_new ("hearth-parse", parser_main, self));
  return self;
}

const char *
hearth_center_get_epoch (HearthCenter *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->epoch;
}

void
hearth_center_free (HearthCenter *self)
{
  if (self == NULL)
    return;
  /* Every push has been answered (the server drained): the parse
   * threads and the writer wait for pushes, none left. */
  if (self->parsers != NULL)
    {
      g_mutex_lock (&self->intake_lock);
      self->intake_stopping = TRUE;
      g_cond_broadcast (&self->intake_wake);
      g_mutex_unlock (&self->intake_lock);
      for (guint i = 0; i < self->parsers->len; i++)
        g_thread_join (self->parsers->pdata[i]);
      g_clear_pointer (&self->parsers, g_ptr_array_unref);
      g_mutex_clear (&self->intake_lock);
      g_cond_clear (&self->intake_wake);
    }
  g_mutex_lock (&self->group_lock);
  self->writer_stopping = TRUE;
  g_cond_signal (&self->writer_wake);
  g_mutex_unlock (&self->group_lock);
  if (self->writer != NULL)
    g_thread_join (self->writer);
  if (self->seen_thread != NULL)
    {
      g_mutex_lock (&self->seen_lock);
      self->stopping = TRUE;
      g_cond_signal (&self->seen_cond);
      g_mutex_unlock (&self->seen_lock);
      g_thread_join (self->seen_thread);
    }
  hearth_center_county_clear (&self->county);
  g_free (self->epoch);
  g_clear_object (&self->store);
  g_mutex_clear (&self->group_lock);
  g_cond_clear (&self->writer_wake);
  g_clear_pointer (&self->scratch, push_scratch_free);
  g_clear_pointer (&self->nonces, g_hash_table_unref);
  g_clear_pointer (&self->nonces_of, g_hash_table_unref);
  g_queue_clear_full (&self->nonce_order, g_free);
  g_mutex_clear (&self->nonce_lock);
  g_clear_pointer (&self->seen, g_hash_table_unref);
  g_mutex_clear (&self->seen_lock);
  g_cond_clear (&self->seen_cond);
  g_free (self);
}

gboolean
hearth_center_scope_contains (const char *const *scope, const char *village)
{
  if (village == NULL)
    return FALSE;
  for (guint i = 0; scope != NULL && scope[i] != NULL; i++)
    if (g_str_has_prefix (village, scope[i]))
      return TRUE;
  return FALSE;
}

static gboolean
is_not_found (const GError *error)
{
  return g_error_matches (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_NOT_FOUND);
}

/* ---- enrolment (PROTOCOL.md section 5) ---------------------------------------------------- */

static gboolean
valid_device_name (const char *name)
{
  if (name == NULL || *name == '\0' || strlen (name) > 128)
    return FALSE;
  for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

/* What this center takes beyond the protocol's first version, named in
 * the replies a device learns it from (PROTOCOL.md section 5): "edits",
 * a write of several fields as one change (section 6.1). A center never
 * stops taking what it named. */
static const char *const center_features[] = { "edits", NULL };

static void
add_features (JsonBuilder *b)
{
  json_builder_set_member_name (b, "features");
  json_builder_begin_array (b);
  for (guint i = 0; center_features[i] != NULL; i++)
    json_builder_add_string_value (b, center_features[i]);
  json_builder_end_array (b);
}

static HearthCenterReply *
enrolment_reply (HearthCenter *self, const char *device_id, HearthCenterUser *user)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  char key[sodium_base64_ENCODED_LEN (32, sodium_base64_VARIANT_ORIGINAL)];
  HearthCenterReply *reply;

  sodium_bin2base64 (key, sizeof key, self->county.public_key, 32, sodium_base64_VARIANT_ORIGINAL);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "device_id");
  json_builder_add_string_value (b, device_id);
  json_builder_set_member_name (b, "user");
  json_builder_add_string_value (b, user->name);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, user->role);
  json_builder_set_member_name (b, "scope");
  json_builder_begin_array (b);
  for (guint i = 0; user->scope[i] != NULL; i++)
    json_builder_add_string_value (b, user->scope[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "county");
  json_builder_add_string_value (b, self->county.code);
  json_builder_set_member_name (b, "county_public_key");
  json_builder_add_string_value (b, key);
  json_builder_set_member_name (b, "time_zone");
  json_builder_add_string_value (b, self->county.time_zone);
  add_features (b);
  json_builder_set_member_name (b, "server_time");
  json_builder_add_int_value (b, now_ms ());
  json_builder_end_object (b);
  reply = json_reply (200, b);
  reply->device_id = g_strdup (device_id);
  return reply;
}

static HearthCenterReply *
handle_enrol (HearthCenter *self, const HearthCenterRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_autoptr(HearthCenterDevice) existing = NULL;
  g_autoptr(HearthCenterUser) user = NULL;
  g_auto(HearthCenterCode) code = { 0 };
  HearthCenterDevice device = { 0 };
  const char *entered, *device_id, *key_text, *name, *expected_user;
  guint8 hash[32], key[32];
  gint64 now = now_ms ();
  JsonObject *o;

  body = decode_body (req, &error);
  if (body == NULL)
    return reply_for_error (error, NULL);
  root = hearth_center_parse_json (g_bytes_get_data (body, NULL), g_bytes_get_size (body), &error);
  if (root == NULL)
    return reply_for_error (error, NULL);
  o = json_node_get_object (root);
  /* A member of another type is named as such, not as missing: a code
   * sent as a number (its digits typed into a JSON tool) was reported
   * "missing" though it was there. */
  {
    static const char *const strings[] = { "code", "device_id", "public_key", "name", "user" };

    for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
      if (json_object_has_member (o, strings[i]) && member_string (o, strings[i]) == NULL)
        {
          g_autofree char *message = g_strdup_printf (_("“%s” must be a string (in double quotes), not %s"),
                                                      strings[i],
                                                      json_kind_words (json_object_get_member (o, strings[i])));
          return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, strings[i], 0, message);
        }
  }
  entered = member_string (o, "code");
  device_id = member_string (o, "device_id");
  key_text = member_string (o, "public_key");
  name = member_string (o, "name");
  expected_user = member_string (o, "user");
  /* The name is said back in the wrong-user reply: it must be a name. */
  if (json_object_has_member (o, "user") && (expected_user == NULL || !hearth_center_user_name_is_valid (expected_user)))
    return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, "user", 0, _("“user” must be a user name"));
  if (entered == NULL)
    return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, "code", 0, _("“code” is missing"));
  if (!device_id_is_valid (device_id))
    return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, "device_id", 0,
                             _("“device_id” must be the device's UUID, in lowercase"));
  if (!hearth_sign_decode_key (key_text, key, &error))
    return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, "public_key", 0, error->message);
  if (!valid_device_name (name))
    return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, "name", 0,
                             _("“name” must be a line of text of at most 128 bytes"));
  if (!hearth_center_code_hash (entered, hash))
    return fail (HEARTH_CENTER_ERROR_CODE_UNKNOWN, _("no such enrolment code"));

  txn = hearth_center_store_begin (self->store, TRUE, &error);
  if (txn == NULL)
    return reply_for_error (error, NULL);
  if (!hearth_center_txn_get_code (txn, hash, &code, &error))
    return is_not_found (error) ? fail (HEARTH_CENTER_ERROR_CODE_UNKNOWN, _("no such enrolment code"))
                                : reply_for_error (error, NULL);
  existing = hearth_center_txn_get_device (txn, device_id, &error);
  if (existing == NULL && !is_not_found (error))
    return reply_for_error (error, NULL);
  g_clear_error (&error);
  user = hearth_center_txn_get_user (txn, code.user, &error);
  if (user == NULL)
    return reply_for_error (error, NULL);
  /* A tablet enrolling again keeps its records, which are its user's: a
   * code of another user is refused unused (PROTOCOL.md section 12). */
  if (expected_user != NULL && strcmp (expected_user, code.user) != 0)
    return fail (HEARTH_CENTER_ERROR_WRONG_USER,
                 _("this enrolment code is for %s, but this tablet is %s's: ask for a code for %s"), code.user,
                 expected_user, expected_user);

  if (code.used_at != 0)
    {
      /* The same device and key again: its reply was lost; answer alike. */
      if (existing != NULL && g_strcmp0 (code.device_id, device_id) == 0 &&
          sodium_memcmp (existing->public_key, key, sizeof key) == 0)
        {
          if (existing->revoked_at != 0)
            return fail (HEARTH_CENTER_ERROR_REVOKED, _("this device was revoked: lock and wipe its store"));
          return enrolment_reply (self, device_id, user);
        }
      return fail (HEARTH_CENTER_ERROR_CODE_USED, _("this enrolment code was used already; ask for a new one"));
    }
  if (code.expires_at <= now)
    return fail (HEARTH_CENTER_ERROR_CODE_EXPIRED, _("this enrolment code has expired; ask for a new one"));
  /* A revoked tablet (lost, stolen) stays revoked: it is told to wipe,
   * not that it is enrolled, and the code stays unused for a new one. */
  if (existing != NULL && existing->revoked_at != 0)
    return fail (HEARTH_CENTER_ERROR_REVOKED, _("this device was revoked: lock and wipe its store"));
  if (existing != NULL)
    return fail (HEARTH_CENTER_ERROR_DEVICE_EXISTS, _("device %s is enrolled already"), device_id);

  device.id = (char *) device_id;
  device.user = code.user;
  memcpy (device.public_key, key, sizeof key);
  device.name = (char *) name;
  device.enrolled_at = now;
  if (!hearth_center_txn_add_device (txn, &device, &error))
    {
      if (g_error_matches (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_EXISTS))
        return fail (HEARTH_CENTER_ERROR_DEVICE_EXISTS, _("this public key is enrolled for another device"));
      return reply_for_error (error, NULL);
    }
  if (!hearth_center_txn_use_code (txn, hash, device_id, now, &error) ||
      !hearth_center_txn_commit (g_steal_pointer (&txn), &error))
    return reply_for_error (error, NULL);
  return enrolment_reply (self, device_id, user);
}

/* ---- what GETs leave behind (PROTOCOL.md section 4) ------------------------------------------ */

/* Whether @nonce of @device_id is new within HEARTH_CENTER_NONCE_KEEP_MS,
 * remembering it if so (forgetting those older), unless the device's or
 * all devices' nonces kept are at their cap. Thread-safe. */
static NonceCheck
remember_nonce (HearthCenter *self, const char *device_id, const char *nonce, gint64 now)
{
  gsize id_len = strlen (device_id), nonce_len = strlen (nonce);
  SeenNonce *entry = g_malloc (sizeof (SeenNonce) + id_len + 1 + nonce_len + 1);
  SeenNonce *head;
  NonceCheck check = NONCE_FRESH;
  guint kept;

  entry->seen_at = now;
  entry->id_len = id_len;
  memcpy (entry->key, device_id, id_len);
  entry->key[id_len] = ' ';
  memcpy (entry->key + id_len + 1, nonce, nonce_len + 1);
  g_mutex_lock (&self->nonce_lock);
  while ((head = g_queue_peek_head (&self->nonce_order)) != NULL &&
         head->seen_at < now - HEARTH_CENTER_NONCE_KEEP_MS)
    {
      g_hash_table_remove (self->nonces, head->key);
      head->key[head->id_len] = '\0';   /* the key is its device's id now */
      kept = GPOINTER_TO_UINT (g_hash_table_lookup (self->nonces_of, head->key));
      if (kept <= 1)
        g_hash_table_remove (self->nonces_of, head->key);
      else
        g_hash_table_insert (self->nonces_of, g_strdup (head->key), GUINT_TO_POINTER (kept - 1));
      g_free (g_queue_pop_head (&self->nonce_order));
    }
  kept = GPOINTER_TO_UINT (g_hash_table_lookup (self->nonces_of, device_id));
  if (g_hash_table_contains (self->nonces, entry->key))
    check = NONCE_REPLAY;
  else if (kept >= HEARTH_CENTER_MAX_GET_NONCES_DEVICE ||
           g_hash_table_size (self->nonces) >= HEARTH_CENTER_MAX_GET_NONCES)
    check = NONCE_TOO_MANY;
  else
    {
      g_hash_table_add (self->nonces, entry->key);
      g_queue_push_tail (&self->nonce_order, entry);
      g_hash_table_insert (self->nonces_of, g_strdup (device_id), GUINT_TO_POINTER (kept + 1));
    }
  g_mutex_unlock (&self->nonce_lock);
  if (check != NONCE_FRESH)
    g_free (entry);
  return check;
}

/* When the center started, on the wall clock of @now: measured on the
 * monotonic clock, so that a wall clock set back (or forward) after the
 * start moves the start with it. Thread-safe. */
static gint64
start_ms (HearthCenter *self, gint64 now)
{
  return now - (g_get_monotonic_time () - self->started_mono_us) / 1000;
}

/* Notes that a GET saw @device_id at @now, for seen_thread to write. */
static void
note_seen (HearthCenter *self, const char *device_id, gint64 now)
{
  gint64 *at;

  g_mutex_lock (&self->seen_lock);
  at = g_hash_table_lookup (self->seen, device_id);
  if (at == NULL)
    {
      at = g_new (gint64, 1);
      *at = now;
      g_hash_table_insert (self->seen, g_strdup (device_id), at);
    }
  else if (*at < now)
    *at = now;
  g_mutex_unlock (&self->seen_lock);
}

/* Writes @seen (device id -> gint64 *) into the devices' last sight, a
 * time never moved back. Waits for the writer, which no request waits
 * for: it runs on seen_thread. */
static void
write_seen (HearthCenter *self, GHashTable *seen)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterTxn) txn = NULL;
  GHashTableIter iter;
  gpointer key, value;

  if (g_hash_table_size (seen) == 0)
    return;
  txn = hearth_center_store_begin (self->store, TRUE, &error);
  if (txn == NULL)
    goto failed;
  g_hash_table_iter_init (&iter, seen);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autoptr(HearthCenterDevice) device = hearth_center_txn_get_device (txn, key, &error);

      if (device == NULL)
        {
          /* Removed meanwhile (a restore stops the center): nothing to note. */
          if (!is_not_found (error))
            goto failed;
          g_clear_error (&error);
          continue;
        }
      if (device->last_seen_at >= *(gint64 *) value)
        continue;
      device->last_seen_at = *(gint64 *) value;
      if (!hearth_center_txn_save_device (txn, device, &error))
        goto failed;
    }
  if (hearth_center_txn_commit (g_steal_pointer (&txn), &error))
    return;
failed:
  /* Only when devices were last seen is lost (the next GET notes it again). */
  g_warning ("could not note when %u devices were last seen: %s", g_hash_table_size (seen), error->message);
}

static gpointer
seen_thread (gpointer data)
{
  HearthCenter *self = data;
  gboolean stopping;

  do
    {
      g_autoptr(GHashTable) seen = NULL;
      gint64 until = g_get_monotonic_time () + HEARTH_CENTER_SEEN_FLUSH_MS * G_TIME_SPAN_MILLISECOND;

      g_mutex_lock (&self->seen_lock);
      while (!self->stopping && g_get_monotonic_time () < until)
        g_cond_wait_until (&self->seen_cond, &self->seen_lock, until);
      stopping = self->stopping;
      seen = g_steal_pointer (&self->seen);
      self->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_mutex_unlock (&self->seen_lock);
      write_seen (self, seen);
    }
  while (!stopping);
  return NULL;
}

/* ---- signed requests (PROTOCOL.md section 4) ------------------------------------------------ */

/* Decimal digits, no sign or leading zero: the one spelling of a number
 * (Hearth-Time is signed as sent). */
static gboolean
parse_decimal (const char *text, gint64 *out)
{
  guint64 v;
  gsize n = strlen (text);

  if (n == 0 || n > 15 || (n > 1 && text[0] == '0') || strspn (text, "0123456789") != n)
    return FALSE;
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64, &v, NULL))
    return FALSE;
  *out = (gint64) v;
  return TRUE;
}

/* Checks a signed request in the protocol's order: unsigned, unknown
 * device, bad signature, (revoked), stale, replay. A push (@defer_nonce)
 * records its nonce and the time its device was seen in its own
 * transaction (one commit, one sync), and here the nonce is only looked
 * up; a GET's are kept in memory (remember_nonce(), note_seen()), so that
 * it never waits for the writer. Returns: (transfer full) the device, or NULL with
 * *@reply set. */
static HearthCenterDevice *
authenticate (HearthCenter *self, const HearthCenterRequest *req, const char *path_and_query, gboolean defer_nonce,
              HearthCenterReply **reply)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_autoptr(HearthCenterDevice) device = NULL;
  g_autoptr(GError) seen_error = NULL;
  gint64 sent_ms = 0, now;
  int seen = 0;
  const char *missing = req->device == NULL      ? "Hearth-Device"
                        : req->time == NULL      ? "Hearth-Time"
                        : req->nonce == NULL     ? "Hearth-Nonce"
                        : req->signature == NULL ? "Hearth-Signature"
                                                 : NULL;

  if (missing != NULL)
    {
      *reply = fail (HEARTH_CENTER_ERROR_UNSIGNED, _("the request is not signed: %s is missing"), missing);
      return NULL;
    }
  if (!parse_decimal (req->time, &sent_ms))
    {
      *reply = fail (HEARTH_CENTER_ERROR_UNSIGNED, _("Hearth-Time must be milliseconds since 1970 in digits"));
      return NULL;
    }
  if (!hearth_sign_nonce_is_valid (req->nonce))
    {
      *reply = fail (HEARTH_CENTER_ERROR_UNSIGNED, _("Hearth-Nonce must be 16 bytes in base64"));
      return NULL;
    }
  if (!device_id_is_valid (req->device))
    {
      *reply = fail (HEARTH_CENTER_ERROR_UNKNOWN_DEVICE, _("Hearth-Device is not a device id (a UUID in lowercase)"));
      return NULL;
    }

  /* A push's nonce is looked up in the same read as its device (one
   * transaction a push, not two); what it says counts only after the
   * checks before it, as ever. */
  now = now_ms ();
  txn = hearth_center_store_begin (self->store, FALSE, &error);
  if (txn != NULL)
    device = hearth_center_txn_get_device (txn, req->device, &error);
  if (device != NULL && defer_nonce)
    seen = hearth_center_txn_nonce_seen (txn, device->id, req->nonce, now - HEARTH_CENTER_NONCE_KEEP_MS,
                                         &seen_error);
  g_clear_pointer (&txn, hearth_center_txn_rollback);
  if (device == NULL)
    {
      /* Most likely a tablet enrolled after the backup this center was
       * restored from (PROTOCOL.md section 12): say how it recovers. */
      *reply = is_not_found (error) ? fail (HEARTH_CENTER_ERROR_UNKNOWN_DEVICE,
                                            _("device %s is not enrolled here (was the center restored from a backup "
                                              "taken before it enrolled?): ask for a new enrolment code and enrol this "
                                              "tablet again, which keeps everything it holds"),
                                            req->device)
                                    : reply_for_error (error, NULL);
      return NULL;
    }
  if (!hearth_sign_verify (device->public_key, req->signature, req->method, path_and_query, req->body,
                           req->body_len, req->device, sent_ms, req->nonce, &error))
    {
      *reply = fail (HEARTH_CENTER_ERROR_BAD_SIGNATURE, "%s", error->message);
      return NULL;
    }
  if (device->revoked_at != 0)
    {
      *reply = fail (HEARTH_CENTER_ERROR_REVOKED, _("this device was revoked: lock and wipe its store"));
      return NULL;
    }
  if (ABS (sent_ms - now) > HEARTH_CENTER_MAX_SKEW_MS)
    {
      *reply = fail (HEARTH_CENTER_ERROR_STALE,
                     _("the request's time is %lld s from the center's (at most %d s): take the center's time from "
                       "Hearth-Time and sign again"),
                     (long long) ((sent_ms - now) / 1000), HEARTH_CENTER_MAX_SKEW_MS / 1000);
      return NULL;
    }

  if (defer_nonce)
    {
      if (seen != 0)
        {
          *reply = seen > 0 ? fail (HEARTH_CENTER_ERROR_REPLAY, _("this request's nonce was used already: send a "
                                                                  "fresh one"))
                            : reply_for_error (seen_error, NULL);
          return NULL;
        }
      return g_steal_pointer (&device);
    }
  /* A GET writes nothing: its nonce is kept in memory, and the nonces a
   * restart or crash forgot are those of GETs signed before this center
   * started, refused here (the device signs again at once with the time
   * of this reply). So a GET is never signed more than
   * HEARTH_CENTER_GET_AHEAD_MS ahead of the center's clock, and the center
   * waits that long when it starts: one taken before a crash was signed
   * before the restart. A device signs with its estimate of the center's
   * time, which lags it by the reply's way (section 2); drifted ahead
   * between syncs, it is refused once and signs again with this reply's
   * time. */
  if (sent_ms > now + HEARTH_CENTER_GET_AHEAD_MS)
    {
      *reply = fail (HEARTH_CENTER_ERROR_STALE,
                     _("the request's time is %lld ms ahead of the center's (a GET at most %d ms): take the center's "
                       "time from Hearth-Time and sign again"),
                     (long long) (sent_ms - now), HEARTH_CENTER_GET_AHEAD_MS);
      return NULL;
    }
  if (sent_ms < start_ms (self, now))
    {
      *reply = fail (HEARTH_CENTER_ERROR_STALE,
                     _("the request was signed before the center started: take the center's time from Hearth-Time "
                       "and sign again"));
      return NULL;
    }
  switch (remember_nonce (self, device->id, req->nonce, now))
    {
    case NONCE_FRESH:
      break;
    case NONCE_REPLAY:
      *reply = fail (HEARTH_CENTER_ERROR_REPLAY, _("this request's nonce was used already: send a fresh one"));
      return NULL;
    case NONCE_TOO_MANY:
    default:
      *reply = fail (HEARTH_CENTER_ERROR_BUSY,
                     _("the center keeps at most %d requests of a device (and %d of all devices) from the last %d "
                       "minutes: try again in a moment"),
                     HEARTH_CENTER_MAX_GET_NONCES_DEVICE, HEARTH_CENTER_MAX_GET_NONCES,
                     HEARTH_CENTER_NONCE_KEEP_MS / 60000);
      return NULL;
    }
  note_seen (self, device->id, now);
  device->last_seen_at = now;
  return g_steal_pointer (&device);
}

/* ---- push (PROTOCOL.md section 7) -------------------------------------------------------------- */

/* A block of an Arena. */
typedef struct {
  gsize size;
  char data[];
} ArenaBlock;

/* Strings of one push, forgotten together (arena_reset()): its blocks
 * are kept from push to push, so that the writer's turn allocates
 * nothing for them once it ran a push of that size. */
typedef struct {
  GPtrArray *blocks;   /* ArenaBlock * (g_free) */
  guint block;         /* the one in use */
  gsize used;          /* of it */
} Arena;

/* An arena's block, and the most it keeps between pushes (a push of
 * unusual size does not keep its memory). */
#define ARENA_BLOCK 8192
#define ARENA_KEPT 64

/* A copy of @s (nullable) in @a, until its reset. */
static const char *
arena_strdup (Arena *a, const char *s)
{
  gsize n;

  if (s == NULL)
    return NULL;
  n = strlen (s) + 1;
  for (;;)
    {
      ArenaBlock *b;

      if (a->block == a->blocks->len)
        {
          gsize size = MAX (ARENA_BLOCK, n);

          b = g_malloc (sizeof (ArenaBlock) + size);
          b->size = size;
          g_ptr_array_add (a->blocks, b);
          a->used = 0;
        }
      b = a->blocks->pdata[a->block];
      if (b->size - a->used >= n)
        {
          char *out = b->data + a->used;

          memcpy (out, s, n);
          a->used += n;
          return out;
        }
      a->block++;
      a->used = 0;
    }
}

static void
arena_reset (Arena *a)
{
  if (a->blocks->len > ARENA_KEPT)
    g_ptr_array_set_size (a->blocks, ARENA_KEPT);
  a->block = 0;
  a->used = 0;
}

typedef struct _RecordMemo {
  /* Its record: strings of the push's arena. */
  const char *table, *id;
  /* The household the record belongs to at the center
   * (hearth_center_txn_get_record_household()), when known (in the
   * push's arena). */
  gboolean owner_known;
  const char *owner;
  /* The center held no edit of the record when the push first asked;
   * the fields the push stored since, which are no longer new: borrowed
   * from the batch's changes (a field's name is never replaced, and the
   * batch outlives the push), a few a record, found by a walk (a hash
   * table and a copy of each name cost more). Made once with the memo,
   * emptied when the memo serves another push. */
  gboolean unseen;
  GPtrArray *stored;
} RecordMemo;

static void
record_memo_free (RecordMemo *m)
{
  g_ptr_array_unref (m->stored);
  g_free (m);
}

/* Push.villages' key: a household. */
static guint
household_hash (gconstpointer key)
{
  return hearth_str_hash (key);
}

/* A memo's key: its record. */
static guint
record_memo_hash (gconstpointer key)
{
  const RecordMemo *m = key;

  return hearth_record_hash (m->table, m->id);
}

static gboolean
record_memo_equal (gconstpointer a, gconstpointer b)
{
  const RecordMemo *x = a, *y = b;

  return hearth_record_equal (x->table, x->id, y->table, y->id);
}

/* What the writer's turn reuses (HearthCenter.scratch): the containers
 * of a push's memory and of its writes of several fields, made once and
 * emptied for each push (push_scratch_reset()) rather than made and
 * freed for each push, change or field. GLib 2.74 makes each GPtrArray,
 * GArray and GHashTable with g_slice_alloc(), whose global lock the
 * leader slept on (up to a twentieth of the ingest's time) while the
 * request threads parsed. */
typedef struct _PushScratch {
  Arena strings;
  /* Push.villages: household -> its village or NULL, strings of
   * @strings. */
  GHashTable *villages;
  /* Push.records: a set of RecordMemo * (by their record); the memos are
   * the first @n_memos of @memos, which keeps them for the next pushes. */
  GHashTable *records;
  GPtrArray *memos;
  guint n_memos;
  /* The heads of a field new to the center: none, shared. */
  GPtrArray *no_heads;
  /* merge_field()'s two lists, emptied each time. */
  GPtrArray *merge_edits, *merge_losers;
  /* push_edits()'s: the views of a write's fields (@n_views made), the
   * fields kept, their heads (a reference each) and whether each is a
   * late parent; emptied when it returns. The parents of a field that
   * names none: an empty list, shared. */
  HearthChange *views;
  guint n_views;
  GPtrArray *edits, *kept, *heads;
  GArray *lates;
  GPtrArray *no_parents;
} PushScratch;

static PushScratch *
push_scratch_new (void)
{
  PushScratch *s = g_new0 (PushScratch, 1);

  s->strings.blocks = g_ptr_array_new_with_free_func (g_free);
  s->villages = g_hash_table_new (household_hash, g_str_equal);
  s->records = g_hash_table_new (record_memo_hash, record_memo_equal);
  s->memos = g_ptr_array_new_with_free_func ((GDestroyNotify) record_memo_free);
  s->no_heads = g_ptr_array_new ();
  s->merge_edits = g_ptr_array_new ();
  s->merge_losers = g_ptr_array_new ();
  s->edits = g_ptr_array_new ();
  s->kept = g_ptr_array_new ();
  s->heads = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  s->lates = g_array_new (FALSE, FALSE, sizeof (int));
  s->no_parents = g_ptr_array_new ();
  return s;
}

static void
push_scratch_free (PushScratch *s)
{
  g_ptr_array_unref (s->strings.blocks);
  g_hash_table_unref (s->villages);
  g_hash_table_unref (s->records);
  g_ptr_array_unref (s->memos);
  g_ptr_array_unref (s->no_heads);
  g_ptr_array_unref (s->merge_edits);
  g_ptr_array_unref (s->merge_losers);
  g_free (s->views);
  g_ptr_array_unref (s->edits);
  g_ptr_array_unref (s->kept);
  g_ptr_array_unref (s->heads);
  g_array_unref (s->lates);
  g_ptr_array_unref (s->no_parents);
  g_free (s);
}

/* Forgets what the last push learnt: a push's memory is its own (the
 * push before it may have been undone, its savepoint or its group's
 * transaction rolled back, and what it learnt with it). */
static void
push_scratch_reset (PushScratch *s)
{
  g_hash_table_remove_all (s->villages);
  g_hash_table_remove_all (s->records);
  s->n_memos = 0;
  /* The arena last: the tables' keys are its strings. */
  arena_reset (&s->strings);
}

typedef struct {
  HearthCenterTxn *txn;
  HearthCenterDevice *device;  /* read in the push's transaction */
  HearthCenterUser *user;
  HearthRole role;             /* the user's */
  gint64 now;
  /* The writer's containers (HearthCenter.scratch), emptied for this
   * push. */
  PushScratch *s;
  /* Where the center has each household this push named (NULL value:
   * nowhere yet), as the push itself moves them: the changes of a visit
   * name one household (s->villages). */
  GHashTable *villages;
  /* What the push learnt of each record of a household's tables it
   * edits (RecordMemo, s->records): a visit makes a task, eight edits
   * of one record the center never saw, each of which asked the store
   * for the record's household, the edit's identity, whether an edit
   * names it and the field's heads. */
  GHashTable *records;
  /* The last record_memo() found: a change's fields ask for their
   * record's one after another (a key made and hashed for each cost
   * some 1,000 instructions a field). */
  struct _RecordMemo *last_memo;
  /* The heads of a field new to the center (none), shared: heads are
   * never changed once listed. And merge_field()'s two lists, emptied
   * each time (two arrays made and freed for each field stored). */
  GPtrArray *no_heads;
  GPtrArray *merge_edits, *merge_losers;
  /* What was prepared of each item of the batch on the request's thread
   * (HearthCenterPrepared, or NULL), and whether clamp_edit() renamed a
   * parent of the change at hand: a change clamped, renamed or stored in
   * part is stored without it. */
  GPtrArray *prepared;
  gboolean renamed;
  /* What the push changed of its changes (PushedString, the job's): a
   * group run again puts them back first (push_job_reset()). */
  GArray *undo;
} Push;

/* A string of a change as pushed, which the push replaced in @slot (a
 * clamped version, a parent renamed, a record's owner). */
typedef struct {
  char **slot;
  char *pushed;
} PushedString;

/* Sets *@slot, a string of a change of the push, to @value (taken),
 * keeping the string as pushed: a group whose first run fails is run
 * again (commit_group()), and that run must see each change as pushed,
 * or it would not clamp or rename again (nor answer the clamp, nor
 * keep its mapping) and the store would bind what was prepared of the
 * change as pushed to the change as changed. */
static void
replace_pushed (Push *p, char **slot, char *value)
{
  PushedString kept = { slot, *slot };

  g_array_append_val (p->undo, kept);
  *slot = value;
}

/* Puts back the strings @undo kept, the last replaced first. */
static void
restore_pushed (GArray *undo)
{
  for (guint i = undo->len; i > 0; i--)
    {
      PushedString *kept = &g_array_index (undo, PushedString, i - 1);

      g_free (*kept->slot);
      *kept->slot = kept->pushed;
    }
  g_array_set_size (undo, 0);
}

/* Frees the strings @undo kept (the push is answered). */
static void
forget_pushed (GArray *undo)
{
  for (guint i = 0; i < undo->len; i++)
    g_free (g_array_index (undo, PushedString, i).pushed);
  g_array_set_size (undo, 0);
}

/* @p's memory of the record @c edits, made on first use. */
static RecordMemo *
record_memo (Push *p, const HearthChange *c)
{
  PushScratch *s = p->s;
  RecordMemo probe = { .table = c->table, .id = c->id };
  RecordMemo *m = p->last_memo;

  if (m != NULL && strcmp (c->id, m->id) == 0 && strcmp (c->table, m->table) == 0)
    return m;
  m = g_hash_table_lookup (p->records, &probe);
  if (m == NULL)
    {
      if (s->n_memos == s->memos->len)
        {
          m = g_new0 (RecordMemo, 1);
          m->stored = g_ptr_array_new ();
          g_ptr_array_add (s->memos, m);
        }
      m = s->memos->pdata[s->n_memos++];
      /* The memo's own copy: @c may be a view that goes before the push
       * does. */
      m->table = arena_strdup (&s->strings, c->table);
      m->id = arena_strdup (&s->strings, c->id);
      m->owner_known = FALSE;
      m->owner = NULL;
      m->unseen = FALSE;
      g_ptr_array_set_size (m->stored, 0);
      g_hash_table_add (p->records, m);
    }
  p->last_memo = m;
  return m;
}

/* The household @c's record belongs to at the center, through @p's
 * memory: (transfer none) (nullable); @error only when the store fails. */
static const char *
record_owner (Push *p, const HearthChange *c, GError **error)
{
  RecordMemo *m = record_memo (p, c);
  GError *local = NULL;
  char *owner;

  if (m->owner_known)
    return m->owner;
  owner = hearth_center_txn_get_record_household (p->txn, c->table, c->id, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return NULL;
    }
  m->owner = arena_strdup (&p->s->strings, owner);
  g_free (owner);
  m->owner_known = TRUE;
  /* Without a merged household_id nor any edit: the center never saw it,
   * unless it learnt so earlier in this push. */
  if (m->owner == NULL && !m->unseen)
    m->unseen = TRUE;
  return m->owner;
}

/* Whether the center holds nothing of @c's field: no edit, no state, no
 * dangling version, no head (the record was unseen when the push began
 * and the push stored no edit of the field). */
static gboolean
field_is_new (Push *p, const HearthChange *c)
{
  RecordMemo *m = record_memo (p, c);

  if (!m->unseen)
    return FALSE;
  for (guint i = 0; i < m->stored->len; i++)
    if (strcmp (m->stored->pdata[i], c->field) == 0)
      return FALSE;
  return TRUE;
}

/* After an edit of @c's record was stored (under c->household). */
static void
record_stored (Push *p, const HearthChange *c)
{
  RecordMemo *m = record_memo (p, c);

  if (m->unseen)
    g_ptr_array_add (m->stored, (gpointer) c->field);
  /* Its household is the merged household_id, or that of its first edit. */
  if (g_str_equal (c->field, "household_id"))
    {
      m->owner_known = FALSE;
      m->owner = NULL;
    }
  else if (m->owner_known && m->owner == NULL)
    m->owner = arena_strdup (&p->s->strings, c->household);
}

/* The village of @household at the center, through @p's memory. Returns
 * FALSE with @error when the store fails; *@village is NULL (borrowed:
 * the push's) when the center has the household nowhere yet. */
static gboolean
household_village (Push *p, const char *household, const char **village, GError **error)
{
  gpointer found = NULL;
  GError *local = NULL;
  const char *kept;
  char *v;

  if (g_hash_table_lookup_extended (p->villages, household, NULL, &found))
    {
      *village = found;
      return TRUE;
    }
  v = hearth_center_txn_get_household_village (p->txn, household, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  kept = arena_strdup (&p->s->strings, v);
  g_free (v);
  g_hash_table_insert (p->villages, (gpointer) arena_strdup (&p->s->strings, household), (gpointer) kept);
  *village = kept;
  return TRUE;
}

static gboolean
set_household_village (Push *p, const char *household, const char *village, GError **error)
{
  if (!hearth_center_txn_set_household_village (p->txn, household, village, error))
    return FALSE;
  g_hash_table_insert (p->villages, (gpointer) arena_strdup (&p->s->strings, household),
                       (gpointer) arena_strdup (&p->s->strings, village));
  return TRUE;
}

G_GNUC_PRINTF (3, 4) static void
refuse (HearthCenterOutcome *out, const char *code, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_free (out->message);
  out->message = g_strdup_vprintf (format, args);
  va_end (args);
  g_free (out->code);
  out->code = g_strdup (code);
}

/* The fields of audit entry @c that its hash covers, checked alone (as
 * far as they do not depend on the device's chain): @values (eight) set,
 * and *@seq, *@prev and *@hash. Returns: (transfer full) the reason the
 * entry breaks the chain, or NULL. */
static char *
audit_entry_values (const HearthChange *c, const char **values, gint64 *seq, const char **prev, const char **hash)
{
  static const char *const names[] = { "at", "actor", "device_id", "action", "record_table", "record_id", "fields" };
  const char *seq_text = g_hash_table_lookup (c->fields, "seq");

  *prev = g_hash_table_lookup (c->fields, "prev_hash");
  *hash = g_hash_table_lookup (c->fields, "hash");
  if (seq_text == NULL || !g_ascii_string_to_signed (seq_text, 10, 1, HEARTH_CENTER_MAX_SEQ, seq, NULL))
    return g_strdup (_("an audit entry needs a whole “seq” from 1"));
  if (*prev == NULL || *hash == NULL)
    return g_strdup_printf (_("audit entry %lld has no “prev_hash” or “hash”"), (long long) *seq);
  values[0] = c->id;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const char *v = g_hash_table_lookup (c->fields, names[i]);

      /* "fields" may be blank; the others are required. Each is one line
       * of the hashed text, so a line break would make it ambiguous. */
      if (v == NULL && g_str_equal (names[i], "fields"))
        v = "";
      if (v == NULL || (*v == '\0' && !g_str_equal (names[i], "fields")))
        return g_strdup_printf (_("audit entry %lld has no “%s”"), (long long) *seq, names[i]);
      if (strpbrk (v, "\r\n") != NULL)
        return g_strdup_printf (_("audit entry %lld: “%s” holds a line break"), (long long) *seq, names[i]);
      values[i + 1] = v;
    }
  return NULL;
}

/* What check_audit_entry() needs of audit entry @c whose fields were
 * checked and hashed on the request's thread (audit_entry_hash_ahead()):
 * its number, its previous hash and its own, and its device's id.
 * %FALSE when one is missing (check_audit_entry() then checks it all). */
static gboolean
audit_entry_chain (const HearthChange *c, gint64 *seq, const char **prev, const char **hash, const char **device_id)
{
  const char *seq_text = g_hash_table_lookup (c->fields, "seq");

  *prev = g_hash_table_lookup (c->fields, "prev_hash");
  *hash = g_hash_table_lookup (c->fields, "hash");
  *device_id = g_hash_table_lookup (c->fields, "device_id");
  return seq_text != NULL && g_ascii_string_to_signed (seq_text, 10, 1, HEARTH_CENTER_MAX_SEQ, seq, NULL) &&
         *prev != NULL && *hash != NULL && *device_id != NULL;
}

/* What the writer's check of an audit entry (check_audit_entry()) can
 * compute of @item alone, on the request's thread: the entry's hash
 * from its own prev_hash and fields, into item->audit_hash (left empty
 * when the entry's fields are refused: the writer says why). */
static void
audit_entry_hash_ahead (HearthPushItem *item)
{
  const HearthChange *c = item->change;
  const char *values[8];
  const char *prev, *hash;
  g_autofree char *broken = NULL;
  gint64 seq;

  item->audit_hash[0] = '\0';
  if (c == NULL || c->kind != HEARTH_CHANGE_RECORD || !g_str_equal (c->table, "audit") || c->fields == NULL)
    return;
  broken = audit_entry_values (c, values, &seq, &prev, &hash);
  if (broken == NULL)
    hearth_audit_entry_hash (prev, seq, values, item->audit_hash);
}

/* What push_change() parses of an edit's or a write's version, parsed on
 * the request's thread instead of in the single writer: into
 * item->version, item->version_parsed 1 (or -1: no version, refused by
 * the writer with the parser's reason). The writer parses the version it
 * is handed (the pushed text, restored when a group runs again:
 * restore_pushed()), which is the one parsed here. */
static void
version_ahead (HearthPushItem *item)
{
  const HearthChange *c = item->change;

  /* The one-pass reader's check parsed it already (center-push-parse.c). */
  if (item->version_parsed == 1)
    return;
  item->version_parsed = 0;
  if (c == NULL || (c->kind != HEARTH_CHANGE_EDIT && c->kind != HEARTH_CHANGE_EDITS) || c->hlc == NULL)
    return;
  item->version_parsed = hearth_hlc_parse (c->hlc, &item->version, NULL) ? 1 : -1;
}

/* What the writer asks of an edit's or a write's fields that depends on
 * their names alone, asked on the request's thread instead (some 750
 * instructions a change of the writer's turn): whether its table has
 * each and whether the workflow guards each, into item->unknown_field,
 * item->guarded and item->fields_known. A write of more fields than
 * item->guarded holds is left to the writer. */
static void
fields_ahead (HearthPushItem *item)
{
  const HearthChange *c = item->change;

  item->fields_known = FALSE;
  item->unknown_field = -1;
  item->guarded = 0;
  if (c == NULL || c->table == NULL)
    return;
  if (c->kind == HEARTH_CHANGE_EDIT && c->field != NULL)
    {
      if (!hearth_change_is_field (c->table, c->field))
        item->unknown_field = 0;
      if (hearth_workflow_guards_field (c->table, c->field))
        item->guarded = 1;
      item->fields_known = TRUE;
    }
  else if (c->kind == HEARTH_CHANGE_EDITS && c->edits != NULL && c->edits->len <= 64)
    {
      for (guint i = 0; i < c->edits->len; i++)
        {
          const HearthChangeField *e = c->edits->pdata[i];

          if (item->unknown_field < 0 && !hearth_change_is_field (c->table, e->field))
            item->unknown_field = (int) i;
          if (hearth_workflow_guards_field (c->table, e->field))
            item->guarded |= G_GUINT64_CONSTANT (1) << i;
        }
      item->fields_known = TRUE;
    }
}

/* Whether the workflow guards field @i of @item's change (an edit's: 0):
 * as fields_ahead() found, or asked of @c (the field's edit). */
static gboolean
field_guarded (const HearthPushItem *item, guint i, const HearthChange *c)
{
  if (item != NULL && item->fields_known)
    return (item->guarded >> i) & 1;
  return hearth_workflow_guards_field (c->table, c->field);
}

/* Whether audit entry @c follows the device's chain: its fields whole, its
 * number the next, its previous hash the chain's head and its own hash
 * that of its fields. The entry then becomes the device's
 * chain's head (in memory, saved with the device). @ahead: its hash
 * computed on the request's thread (audit_entry_hash_ahead()), or "".
 * Returns: (transfer full) the reason it breaks the chain, or NULL. */
static char *
check_audit_entry (Push *p, const HearthChange *c, const char *ahead)
{
  const char *values[8];
  const char *prev, *hash, *device_id;
  HearthCenterDevice *d = p->device;
  char computed[65];
  gint64 seq;
  /* Its fields checked and hashed on the request's thread: only what the
   * chain needs is looked up again (the eight look-ups and the scan of
   * each field cost the writer some 2,500 instructions an entry). */
  gboolean hashed = ahead != NULL && ahead[0] != '\0' && audit_entry_chain (c, &seq, &prev, &hash, &device_id);

  if (!hashed)
    {
      char *broken = audit_entry_values (c, values, &seq, &prev, &hash);

      if (broken != NULL)
        return broken;
      device_id = values[3];
    }
  if (g_strcmp0 (device_id, d->id) != 0)
    return g_strdup_printf (_("audit entry %lld names device %s, not the device that sent it"), (long long) seq,
                            device_id);
  if (seq > d->audit_seq + 1)
    return g_strdup_printf (_("audit entry %lld does not follow entry %lld: entries %lld to %lld are missing"),
                            (long long) seq, (long long) d->audit_seq, (long long) (d->audit_seq + 1),
                            (long long) (seq - 1));
  if (seq <= d->audit_seq)
    return g_strdup_printf (_("audit entry %lld repeats a number the chain holds already (the next is %lld)"),
                            (long long) seq, (long long) (d->audit_seq + 1));
  if (strcmp (prev, d->audit_hash) != 0)
    return g_strdup_printf (_("audit entry %lld does not follow entry %lld: its previous hash differs (entries "
                              "were replaced, reordered or removed)"),
                            (long long) seq, (long long) d->audit_seq);
  /* Of the entry's own fields: computed ahead but for an entry the
   * request's thread did not see whole. */
  if (hashed)
    memcpy (computed, ahead, sizeof computed);
  else
    hearth_audit_entry_hash (prev, seq, values, computed);
  if (strcmp (hash, computed) != 0)
    return g_strdup_printf (_("audit entry %lld was changed after it was written: its hash does not match"),
                            (long long) seq);
  d->audit_seq = seq;
  memcpy (d->audit_hash, computed, sizeof d->audit_hash);
  return NULL;
}

/* Adds to @edits the heads in @heads that @c does not name as parents. */
static void
heads_not_named (GPtrArray *heads, const HearthChange *c, GPtrArray *edits)
{
  for (guint i = 0; i < heads->len; i++)
    {
      HearthChange *h = heads->pdata[i];

      if (!g_ptr_array_find_with_equal_func (c->parents, h->hlc, g_str_equal, NULL))
        g_ptr_array_add (edits, h);
    }
}

/* The merge (sync/merge.h) of @edits, edits of @c's field: its winner
 * and, into @losers, the open conflicts' edits. */
static gboolean
merge_edits (const HearthChange *c, GPtrArray *edits, const HearthChange **winner, GPtrArray *losers, GError **error)
{
  g_autofree HearthFieldEdit *fe = g_new0 (HearthFieldEdit, edits->len);
  HearthFieldMerge merged = { 0 };

  for (guint i = 0; i < edits->len; i++)
    {
      HearthChange *e = edits->pdata[i];

      fe[i].hlc = e->hlc;
      fe[i].value = e->value;
    }
  if (!hearth_merge_field_of (c->table, c->field, fe, edits->len, &merged, error))
    return FALSE;
  *winner = edits->pdata[merged.winner - fe];
  for (guint i = 0; i < merged.losers->len; i++)
    g_ptr_array_add (losers, edits->pdata[(const HearthFieldEdit *) merged.losers->pdata[i] - fe]);
  g_ptr_array_unref (merged.losers);
  return TRUE;
}

/* Recomputes the merged state of @c's field, just stored, from its heads:
 * @heads, the heads before it (hearth_center_txn_list_heads()), less those
 * it names, and @c itself. Heads name no other head, so the merge of the
 * heads alone is the merge of every edit (PROTOCOL.md section 6.3). */
static gboolean
merge_field (Push *p, const HearthChange *c, GPtrArray *heads, GError **error)
{
  GPtrArray *edits = p->merge_edits;
  GPtrArray *losers = p->merge_losers;
  const HearthChange *winner = c;

  g_ptr_array_set_size (edits, 0);
  g_ptr_array_set_size (losers, 0);

  heads_not_named (heads, c, edits);
  g_ptr_array_add (edits, (gpointer) c);
  /* @c alone (most edits: a new field, or one that supersedes its only
   * head) wins, without a loser: its version is valid (clamp_edit() read
   * it), and the merge of one edit is that edit. */
  if (edits->len > 1 && !merge_edits (c, edits, &winner, losers, error))
    return FALSE;
  if (!hearth_center_txn_set_field_state (p->txn, winner, losers, edits, heads->len > 1, error))
    return FALSE;
  /* A household's village is its merged village_code (a move). */
  if (g_str_equal (c->table, "households") && g_str_equal (c->field, "village_code") &&
      strlen (winner->value) == 12 && strspn (winner->value, "0123456789") == 12)
    return set_household_village (p, winner->id, winner->value, error);
  return TRUE;
}

/* A parent that a restore from a backup lost, stored again after an edit
 * that names it (PROTOCOL.md section 12): it is superseded, so no head,
 * and the heads it names are superseded too (the center, lacking it, took
 * them for open versions). */
static gboolean
merge_late_parent (Push *p, const HearthChange *c, GPtrArray *heads, GError **error)
{
  GPtrArray *edits = p->merge_edits;
  GPtrArray *losers = p->merge_losers;
  const HearthChange *winner;

  g_ptr_array_set_size (edits, 0);
  g_ptr_array_set_size (losers, 0);
  heads_not_named (heads, c, edits);
  /* Nothing it supersedes was a head, or (a device inventing versions) it
   * would leave none: the field stays as it is. */
  if (edits->len == heads->len || edits->len == 0)
    return TRUE;
  if (!merge_edits (c, edits, &winner, losers, error))
    return FALSE;
  return hearth_center_txn_set_field_state (p->txn, winner, losers, edits, TRUE, error);
}

/* How many heads a field would have with @c: @heads less those @c names,
 * and @c. */
static guint
heads_with (GPtrArray *heads, const HearthChange *c)
{
  guint n = 1;

  for (guint i = 0; i < heads->len; i++)
    if (!g_ptr_array_find_with_equal_func (c->parents, ((HearthChange *) heads->pdata[i])->hlc, g_str_equal, NULL))
      n++;
  return n;
}

/* A version after clamping (rule 5 of PROTOCOL.md section 6.3): *@hlc
 * replaced, and @out's clamped versions set, when it clamps. */
static gboolean
clamp_version (Push *p, char **hlc_text, const HearthHlc *parsed, HearthCenterOutcome *out, char **floor_out,
               GError **error)
{
  HearthHlc hlc, floor, clamped;
  gboolean have_floor;

  /* @parsed: *@hlc_text parsed already (the caller's check of whose it is). */
  if (parsed != NULL)
    hlc = *parsed;
  else if (!hearth_hlc_parse (*hlc_text, &hlc, error))
    return FALSE;
  /* One mapping per version: the fields of one write sent as edits of
   * one field each (to a center that did not say "edits", or before the
   * device's outbox grouped them) share their version, and each gets the
   * clamp the first got, whatever the clock says now, so that every
   * field of the write is stored under one version and
   * hearth_center_txn_find_clamped() names one. A device never clamped
   * has none (its floor is unset). */
  if (p->device->clamp_floor != NULL)
    {
      g_autoptr(GError) local = NULL;
      char *before = hearth_center_txn_find_clamped (p->txn, p->device->id, *hlc_text, &local);

      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (before != NULL)
        {
          out->original_hlc = g_strdup (*hlc_text);
          out->clamped_hlc = before;
          replace_pushed (p, hlc_text, g_strdup (before));
          return TRUE;
        }
    }
  have_floor = p->device->clamp_floor != NULL && hearth_hlc_parse (p->device->clamp_floor, &floor, NULL);
  if (hearth_merge_clamp (&hlc, p->now, HEARTH_MERGE_MAX_AHEAD_MS, have_floor ? &floor : NULL, &clamped))
    {
      out->original_hlc = g_strdup (*hlc_text);
      out->clamped_hlc = hearth_hlc_to_string (&clamped);
      replace_pushed (p, hlc_text, g_strdup (out->clamped_hlc));
      *floor_out = g_strdup (out->clamped_hlc);
    }
  return TRUE;
}

/* @parents as stored: a parent this device had clamped is named by its
 * clamped version. */
static gboolean
rename_clamped (Push *p, GPtrArray *parents, GError **error)
{
  /* A device never clamped has no clamped version to rename. */
  for (guint i = 0; p->device->clamp_floor != NULL && parents != NULL && i < parents->len; i++)
    {
      g_autoptr(GError) local = NULL;
      char *renamed = hearth_center_txn_find_clamped (p->txn, p->device->id, parents->pdata[i], &local);

      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (renamed != NULL)
        {
          replace_pushed (p, (char **) &parents->pdata[i], renamed);
          p->renamed = TRUE;
        }
    }
  return TRUE;
}

/* The edit's version after clamping and its parents as stored (a write
 * of several fields, kind "edits": its one version and each field's
 * parents). Sets @out's clamped versions when it clamps. */
static gboolean
clamp_edit (Push *p, HearthChange *c, const HearthHlc *parsed, HearthCenterOutcome *out, char **floor_out,
            GError **error)
{
  if (!clamp_version (p, &c->hlc, parsed, out, floor_out, error))
    return FALSE;
  if (c->kind != HEARTH_CHANGE_EDITS)
    return rename_clamped (p, c->parents, error);
  for (guint i = 0; i < c->edits->len; i++)
    if (!rename_clamped (p, ((HearthChangeField *) c->edits->pdata[i])->parents, error))
      return FALSE;
  return TRUE;
}

/* The workflow's role rules (sync/workflow.h) on a new edit: the values of
 * its parents the center holds say what it moves from, or that it resolves
 * a conflict. Returns: (transfer full) why the sender's role may not make
 * it, or NULL; @error only when the store fails. */
static char *
check_edit_role (Push *p, const HearthChange *c, gboolean guarded, GError **error)
{
  /* Made only for a parent found: most edits have none to look up. */
  g_autoptr(GPtrArray) values = NULL;
  g_autoptr(GError) refusal = NULL;

  /* A plain write names one parent: only a guarded field needs its value. */
  if (c->parents->len >= 2 || guarded)
    for (guint i = 0; i < c->parents->len; i++)
      {
        g_autoptr(GError) local = NULL;
        g_autoptr(HearthChange) parent = hearth_center_txn_find_edit (p->txn, c->table, c->id, c->field,
                                                                      c->parents->pdata[i], &local);

        if (local != NULL)
          {
            g_propagate_error (error, g_steal_pointer (&local));
            return NULL;
          }
        if (parent == NULL)
          continue;
        if (values == NULL)
          values = g_ptr_array_new_with_free_func (g_free);
        g_ptr_array_add (values, g_strdup (parent->value));
      }
  /* Neither guarded nor parents' values that may disagree: the workflow
   * has nothing to check (hearth_workflow_check_edit() allows it), and
   * most edits are such. */
  if (!guarded && (values == NULL || values->len < 2) && c->value != NULL)
    return NULL;
  if (hearth_workflow_check_edit (p->role, c->table, c->field, c->value, c->parents->len,
                                  values != NULL ? (const char *const *) values->pdata : NULL,
                                  values != NULL ? values->len : 0, &refusal))
    return NULL;
  return g_strdup (refusal->message);
}

/* A county registry number names one household (PROTOCOL.md section
 * 7.2): the household whose number reached the center first keeps it; an
 * edit giving it to another one is refused, so the worker learns it and
 * the other household is kept without it. Returns: (transfer full) the
 * reason, or NULL; @error only when the store fails. */
static char *
check_registry_no (Push *p, const HearthChange *c, GError **error)
{
  g_autofree char *holder = NULL;

  if (!g_str_equal (c->table, "households") || !g_str_equal (c->field, "registry_no") || c->value == NULL ||
      c->value[0] == '\0')
    return NULL;
  holder = hearth_center_txn_find_by_value (p->txn, "households", "registry_no", c->value, error);
  if (holder == NULL || g_str_equal (holder, c->id))
    return NULL;
  return g_strdup_printf (_("registry number %s was registered first for household %s: household %s keeps no "
                            "registry number; check the number with the village clerk"),
                          c->value, holder, c->id);
}

/* The village the center has @household in, and whether it is in the
 * sender's scope; the village is NULL for a household the center does not
 * know. Returns: %FALSE only when the store fails. */
static gboolean
household_in_scope (Push *p, const char *household, char **village, gboolean *in_scope, GError **error)
{
  g_autoptr(GError) local = NULL;

  *village = hearth_center_txn_get_household_village (p->txn, household, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  *in_scope = hearth_center_scope_contains ((const char *const *) p->user->scope, *village);
  return TRUE;
}

/* An edit of @field of (@table, @id), @household's, to @value that moves
 * a household to another village or a record to another household: the
 * new place must be in scope too. Refusals go to @out. Returns: %FALSE
 * only when the store fails. */
static gboolean
check_move (Push *p, const char *table, const char *id, const char *household, const char *field,
            const char *value, HearthCenterOutcome *out, GError **error)
{
  const char *const *scope = (const char *const *) p->user->scope;

  if (g_str_equal (table, "households") && g_str_equal (field, "village_code") &&
      !hearth_center_scope_contains (scope, value))
    {
      refuse (out, REFUSED_SCOPE, _("household %s would move to village %s, outside your scope"), id, value);
      return TRUE;
    }
  if (!g_str_equal (table, "households") && g_str_equal (field, "household_id") && g_strcmp0 (value, household) != 0)
    {
      g_autofree char *village = NULL;
      gboolean in_scope = FALSE;

      if (!household_in_scope (p, value, &village, &in_scope, error))
        return FALSE;
      if (!in_scope)
        refuse (out, REFUSED_SCOPE, _("%s record %s would move to household %s, which is not in your scope"),
                table, id, value);
    }
  return TRUE;
}

/* Scope by what the center holds rather than what the change claims: a
 * record hanging off a household is checked against the household it
 * belongs to at the center (and the change is stored under it), an
 * immutable record must name the household it claims in its fields, and
 * an edit that moves a household to another village or a record to
 * another household must stay in scope. @at_center: the claimed
 * household's village at the center, replaced when the change is placed
 * under another. Refusals go to @out. Returns: %FALSE only when the store
 * fails. */
static gboolean
check_owner (Push *p, HearthChange *c, const char **at_center, HearthCenterOutcome *out, GError **error)
{
  g_autoptr(GError) local = NULL;

  if (c->household == NULL)
    ;
  else if (g_str_equal (c->table, "households"))
    {
      /* A household is its own: asked only so that the edits of one the
       * center never saw skip the probes for what it holds of them
       * (field_is_new()); a visit edits its household, often a new one. */
      if (c->kind != HEARTH_CHANGE_RECORD)
        {
          record_owner (p, c, &local);
          if (local != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&local));
              return FALSE;
            }
        }
    }
  else if (c->kind == HEARTH_CHANGE_RECORD)
    {
      const char *named = c->fields != NULL ? g_hash_table_lookup (c->fields, "household_id") : NULL;

      if (named != NULL && strcmp (named, c->household) != 0)
        {
          refuse (out, REFUSED_BAD_CHANGE, _("%s record %s names household %s, but is sent as household %s's"),
                  c->table, c->id, named, c->household);
          return TRUE;
        }
    }
  else
    {
      const char *owner = record_owner (p, c, &local);
      g_autofree char *village = NULL;
      gboolean in_scope = FALSE;

      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (owner != NULL && strcmp (owner, c->household) != 0)
        {
          if (!household_in_scope (p, owner, &village, &in_scope, error))
            return FALSE;
          if (!in_scope)
            {
              refuse (out, REFUSED_SCOPE, _("%s record %s belongs to household %s in village %s at the center, "
                                            "outside your scope"),
                      c->table, c->id, owner, village != NULL ? village : "?");
              return TRUE;
            }
          /* Whose data it is, for scope on pull: the record's household. */
          replace_pushed (p, &c->household, g_strdup (owner));
          replace_pushed (p, &c->village, g_strdup (village));
          /* Borrowed from the push's cache, as the caller's was. */
          if (!household_village (p, c->household, at_center, error))
            return FALSE;
        }
    }

  if (c->kind == HEARTH_CHANGE_EDIT)
    return check_move (p, c->table, c->id, c->household, c->field, c->value, out, error);
  for (guint i = 0; c->kind == HEARTH_CHANGE_EDITS && out->code == NULL && i < c->edits->len; i++)
    {
      const HearthChangeField *e = c->edits->pdata[i];

      if (!check_move (p, c->table, c->id, c->household, e->field, e->value, out, error))
        return FALSE;
    }
  return TRUE;
}

/* Refuses @e, which arrives after an edit that names it (PROTOCOL.md
 * section 7). */
static void
refuse_named (HearthCenterOutcome *out, const HearthChange *e)
{
  refuse (out, REFUSED_BAD_CHANGE, _("version %s of “%s” of %s record %s arrives after an edit that names it "
                                     "as a parent: a parent is sent before the edits that name it"),
          e->hlc, e->field, e->table, e->id);
}

/* The checks of an edit @e (its version clamped, its parents renamed) of
 * a push: a repeat of a stored edit (*@repeat), or refused (@out's code
 * and message: another value under a stored identity, the sender's role,
 * a registry number another household holds, parents first, open
 * versions), or new, with its field's heads before it (*@heads) and
 * whether it is a parent a restore lost (*@late, PROTOCOL.md section 12).
 * With @named, an edit that a stored edit names is not decided here
 * (hearth_center_txn_take_late_parent() forgets the version as dangling
 * when it is late, which a write refused for another field must not
 * do): *@named is set, and the caller decides. Returns: %FALSE only when
 * the store fails. */
static gboolean
check_new_edit (Push *p, const HearthChange *e, gboolean guarded, HearthCenterOutcome *out, gboolean *repeat,
                int *late, GPtrArray **heads, gboolean *named, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(HearthChange) existing = NULL;
  g_autofree char *refusal = NULL;
  /* A field of a record the center never saw has no edit to repeat,
   * none naming this one and no head. */
  gboolean fresh = field_is_new (p, e);

  *repeat = FALSE;
  *late = 0;
  *heads = NULL;
  existing = fresh ? NULL : hearth_center_txn_find_edit (p->txn, e->table, e->id, e->field, e->hlc, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (existing != NULL)
    {
      if (!hearth_change_equal (existing, e))
        refuse (out, REFUSED_BAD_CHANGE, _("version %s of “%s” of %s record %s was sent before with another value"),
                e->hlc, e->field, e->table, e->id);
      else
        *repeat = TRUE;
      return TRUE;
    }
  refusal = check_edit_role (p, e, guarded, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (refusal != NULL)
    {
      refuse (out, REFUSED_ROLE, "%s", refusal);
      return TRUE;
    }
  refusal = check_registry_no (p, e, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (refusal != NULL)
    {
      refuse (out, REFUSED_DUPLICATE, "%s", refusal);
      return TRUE;
    }
  /* Parents before the edits that name them: what a compacted pull
   * leaves out relies on it (PROTOCOL.md sections 7 and 8.1). Only a
   * device that invents versions can send one after its child. */
  switch (fresh ? 0 : hearth_center_txn_edit_named (p->txn, e->table, e->id, e->field, e->hlc, &local))
    {
    case -1:
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    case 1:
      if (named != NULL)
        {
          *named = TRUE;
          break;
        }
      /* Unless a restore from a backup lost it (section 12). */
      *late = hearth_center_txn_take_late_parent (p->txn, e->table, e->id, e->field, e->hlc, &local);
      if (*late < 0)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (*late)
        break;
      refuse_named (out, e);
      return TRUE;
    default:
      break;
    }
  /* A field's open versions are bounded: each push merges them all
   * (review finding H5). A resolution (naming them) always fits. */
  *heads = fresh ? g_ptr_array_ref (p->no_heads)
                 : hearth_center_txn_list_heads (p->txn, e->table, e->id, e->field, &local);
  if (*heads == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!*late && !(named != NULL && *named) && heads_with (*heads, e) > HEARTH_CENTER_MAX_HEADS)
    {
      refuse (out, REFUSED_BAD_CHANGE, _("“%s” of %s record %s has %u open versions already, the most a field "
                                         "keeps: resolve its conflicts, then edit it again"),
              e->field, e->table, e->id, (*heads)->len);
      g_clear_pointer (heads, g_ptr_array_unref);
      return TRUE;
    }
  return TRUE;
}

/* Refuses the write @c whole for its field @e, refused as @field_out
 * says; nothing of it is clamped. */
static void
refuse_field (HearthCenterOutcome *out, const HearthChange *c, const HearthChange *e,
              const HearthCenterOutcome *field_out)
{
  g_clear_pointer (&out->original_hlc, g_free);
  g_clear_pointer (&out->clamped_hlc, g_free);
  refuse (out, field_out->code, _("the write of %s record %s is refused for its field “%s”: %s"), c->table, c->id,
          e->field, field_out->message);
}

/* Refuses @c, @item's change, when it edits a field its table does not
 * have (hearth_change_table_fields(): "id", a field of another table, a
 * misspelt one): stored, it would be served to every device in scope.
 * A write is refused whole for it, as for any other field at fault
 * (PROTOCOL.md section 6.1). Asked on the request's thread when it could
 * be (fields_ahead()). Returns: whether @c was refused. */
static gboolean
unknown_field (const HearthPushItem *item, const HearthChange *c, HearthCenterOutcome *out)
{
  if (item->fields_known && item->unknown_field < 0)
    return FALSE;
  if (c->kind == HEARTH_CHANGE_EDIT && !hearth_change_is_field (c->table, c->field))
    {
      refuse (out, REFUSED_BAD_CHANGE, _("%s has no field “%s”: the edit of %s record %s is refused"), c->table,
              c->field, c->table, c->id);
      return TRUE;
    }
  for (guint i = 0; c->kind == HEARTH_CHANGE_EDITS && i < c->edits->len; i++)
    {
      const HearthChangeField *e = c->edits->pdata[i];

      if (!hearth_change_is_field (c->table, e->field))
        {
          refuse (out, REFUSED_BAD_CHANGE, _("the write of %s record %s is refused for its field “%s”: %s has no "
                                             "field “%s”"), c->table, c->id, e->field, c->table, e->field);
          return TRUE;
        }
    }
  return FALSE;
}

/* A write of several fields of a record under one version (kind "edits",
 * PROTOCOL.md section 6.1), its version clamped and its parents renamed:
 * each field is checked as the edit it holds (check_new_edit()), and the
 * write is stored, once, or refused whole, with a message naming the
 * field at fault; then each field is merged. Fields stored before under
 * the same identity (the write sent before as edits of one field each)
 * are repeats: the others are stored, and a write of repeats only is
 * acknowledged. @at_center: the household's village at the center
 * (borrowed); @floor: the clamped version when it was, taken when the
 * write is stored. Returns: %FALSE only when the store fails. */
static gboolean
push_edits_in (Push *p, HearthPushItem *item, const HearthCenterPrepared *prepared, HearthChange *c,
               const char *at_center, char **floor, HearthCenterOutcome *out, GError **error)
{
  /* Each field as the edit it holds: views of @c's strings rather than
   * copies (hearth_change_expand()), which the writer made and freed for
   * each field a push stores (some 4,000 instructions a field). They live
   * as long as @c, and nothing below keeps, frees or changes their
   * strings. The lists: the writer's, empty (push_edits()). */
  guint n = c->edits->len;
  PushScratch *s = p->s;
  HearthChange *views;
  GPtrArray *edits = s->edits;
  GPtrArray *kept = s->kept;
  GPtrArray *heads = s->heads;
  GArray *lates = s->lates;
  g_autoptr(HearthChange) part = NULL;
  const HearthChange *stored = c;
  gboolean any_named = FALSE;
  gint64 cursor;

  if (n > s->n_views)
    {
      g_free (s->views);
      s->n_views = MAX (n, 2 * s->n_views);
      s->views = g_new (HearthChange, s->n_views);
    }
  views = s->views;
  memset (views, 0, n * sizeof *views);
  for (guint i = 0; i < n; i++)
    {
      const HearthChangeField *f = c->edits->pdata[i];
      HearthChange *v = &views[i];

      v->kind = HEARTH_CHANGE_EDIT;
      v->seq = c->seq;
      v->table = c->table;
      v->id = c->id;
      v->household = c->household;
      v->village = c->village;
      v->hlc = c->hlc;
      v->wall = c->wall;
      v->field = f->field;
      v->value = f->value;
      if ((v->parents = f->parents) == NULL)
        v->parents = s->no_parents;
      g_ptr_array_add (edits, v);
    }
  for (guint i = 0; i < edits->len; i++)
    {
      HearthChange *e = edits->pdata[i];
      g_auto(HearthCenterOutcome) field_out = { 0 };
      GPtrArray *field_heads = NULL;
      gboolean repeat = FALSE, named = FALSE;
      int late = 0;

      if (!check_new_edit (p, e, field_guarded (item, i, e), &field_out, &repeat, &late, &field_heads, &named,
                           error))
        return FALSE;
      if (field_out.code != NULL)
        {
          refuse_field (out, c, e, &field_out);
          return TRUE;
        }
      if (repeat)
        continue;
      /* -1: named by a stored edit, decided below. */
      late = named ? -1 : 0;
      any_named = any_named || named;
      g_ptr_array_add (kept, e);
      g_ptr_array_add (heads, field_heads);
      g_array_append_val (lates, late);
    }
  /* A field that a stored edit names is a parent a restore lost, or the
   * write is refused (PROTOCOL.md sections 7 and 12): decided once every
   * other check passed, in a savepoint of its own, so that a refusal
   * keeps the versions the center lacks as it had them. */
  if (any_named)
    {
      if (!hearth_center_txn_savepoint (p->txn, HEARTH_CENTER_SAVEPOINT_BEGIN, error))
        return FALSE;
      for (guint i = 0; i < kept->len; i++)
        {
          HearthChange *e = kept->pdata[i];
          g_autoptr(GError) local = NULL;
          int late;

          if (g_array_index (lates, int, i) >= 0)
            continue;
          late = hearth_center_txn_take_late_parent (p->txn, e->table, e->id, e->field, e->hlc, &local);
          if (late <= 0)
            {
              g_auto(HearthCenterOutcome) field_out = { 0 };

              /* The enclosing savepoint is the push's: this one ends first. */
              if (!hearth_center_txn_savepoint (p->txn, HEARTH_CENTER_SAVEPOINT_ROLLBACK, error))
                return FALSE;
              if (late < 0)
                {
                  g_propagate_error (error, g_steal_pointer (&local));
                  return FALSE;
                }
              refuse_named (&field_out, e);
              refuse_field (out, c, e, &field_out);
              return TRUE;
            }
          g_array_index (lates, int, i) = 1;
        }
      if (!hearth_center_txn_savepoint (p->txn, HEARTH_CENTER_SAVEPOINT_RELEASE, error))
        return FALSE;
    }
  if (kept->len == 0)
    {
      g_clear_pointer (&out->original_hlc, g_free);
      g_clear_pointer (&out->clamped_hlc, g_free);
      return TRUE;  /* the same write again: acknowledged, not stored twice */
    }
  if (kept->len < edits->len)
    {
      part = hearth_change_new (HEARTH_CHANGE_EDITS);
      part->table = g_strdup (c->table);
      part->id = g_strdup (c->id);
      part->household = g_strdup (c->household);
      part->village = g_strdup (c->village);
      part->hlc = g_strdup (c->hlc);
      part->wall = g_strdup (c->wall);
      for (guint i = 0; i < kept->len; i++)
        {
          const HearthChange *e = kept->pdata[i];

          hearth_change_add_edit (part, e->field, e->value, e->parents);
        }
      stored = part;
    }
  if (*floor != NULL)
    {
      g_free (p->device->clamp_floor);
      p->device->clamp_floor = g_steal_pointer (floor);
    }

  /* The digest is of the write as pushed, whatever part of it is new. */
  cursor = hearth_center_txn_add_prepared_change (p->txn, p->device->id, item->seq, stored,
                                                  stored == c ? prepared : NULL, item->digest, NULL, p->now, error);
  if (cursor == 0)
    return FALSE;
  out->cursor = cursor;
  c->cursor = cursor;
  if (c->household != NULL && at_center == NULL && !set_household_village (p, c->household, c->village, error))
    return FALSE;
  for (guint i = 0; i < kept->len; i++)
    {
      HearthChange *e = kept->pdata[i];

      /* Each field a head of its field, by the write's cursor. */
      e->cursor = cursor;
      if (!(g_array_index (lates, int, i) ? merge_late_parent (p, e, heads->pdata[i], error)
                                          : merge_field (p, e, heads->pdata[i], error)))
        return FALSE;
      record_stored (p, e);
    }
  return TRUE;
}

/* push_edits_in(), its lists emptied after (the heads' references
 * dropped). */
static gboolean
push_edits (Push *p, HearthPushItem *item, const HearthCenterPrepared *prepared, HearthChange *c,
            const char *at_center, char **floor, HearthCenterOutcome *out, GError **error)
{
  PushScratch *s = p->s;
  gboolean ok = push_edits_in (p, item, prepared, c, at_center, floor, out, error);

  g_ptr_array_set_size (s->edits, 0);
  g_ptr_array_set_size (s->kept, 0);
  g_ptr_array_set_size (s->heads, 0);
  g_array_set_size (s->lates, 0);
  return ok;
}

/* One change of a push: stored, acknowledged as a repeat, or refused with a
 * reason in @out. Returns: %FALSE only when the store fails. */
static gboolean
push_change (Push *p, HearthPushItem *item, const HearthCenterPrepared *prepared, HearthCenterOutcome *out,
             GError **error)
{
  HearthChange *c = item->change;
  g_autoptr(GError) local = NULL;
  g_autoptr(HearthChange) existing = NULL;
  const char *at_center = NULL;
  g_autofree char *floor = NULL;
  g_autoptr(GPtrArray) heads = NULL;
  gboolean audit;
  int late = 0;

  out->seq = item->seq;
  if (c == NULL)
    {
      refuse (out, REFUSED_BAD_CHANGE, "%s", item->refusal);
      return TRUE;
    }
  /* Its record's key, computed on the request's thread. */
  hearth_center_txn_note_prepared (p->txn, c, prepared);
  if (c->kind == HEARTH_CHANGE_RECORD && (g_str_equal (c->table, "forms") || g_str_equal (c->table, "thresholds") ||
                                                g_str_equal (c->table, "divisions")))
    {
      refuse (out, REFUSED_BAD_CHANGE, _("only the center publishes %s"), c->table);
      return TRUE;
    }
  audit = c->kind == HEARTH_CHANGE_RECORD && g_str_equal (c->table, "audit");
  if (!audit && (c->household == NULL || c->village == NULL))
    {
      refuse (out, REFUSED_BAD_CHANGE, _("a change of “%s” must name its “household” and “village”"), c->table);
      return TRUE;
    }
  if ((c->household == NULL) != (c->village == NULL))
    {
      refuse (out, REFUSED_BAD_CHANGE, _("a change names both its “household” and “village”, or neither"));
      return TRUE;
    }
  if (g_str_equal (c->table, "households") && g_strcmp0 (c->household, c->id) != 0)
    {
      refuse (out, REFUSED_BAD_CHANGE, _("a change of a household must name the household itself as “household”"));
      return TRUE;
    }
  if (unknown_field (item, c, out))
    return TRUE;

  /* Scope: where the change says the data is, and where the center has the
   * household: a device must not move another scope's household into its
   * own. */
  if (c->village != NULL && !hearth_center_scope_contains ((const char *const *) p->user->scope, c->village))
    {
      refuse (out, REFUSED_SCOPE, _("household %s is in village %s, outside your scope"), c->household, c->village);
      return TRUE;
    }
  if (c->household != NULL)
    {
      if (!household_village (p, c->household, &at_center, error))
        return FALSE;
      if (at_center != NULL && !hearth_center_scope_contains ((const char *const *) p->user->scope, at_center))
        {
          refuse (out, REFUSED_SCOPE, _("household %s is in village %s at the center, outside your scope"),
                  c->household, at_center);
          return TRUE;
        }
    }
  if (!check_owner (p, c, &at_center, out, error))
    return FALSE;
  if (out->code != NULL)
    return TRUE;

  if (c->kind == HEARTH_CHANGE_RECORD)
    {
      g_autofree char *broken = NULL;

      existing = hearth_center_txn_find_record (p->txn, c->table, c->id, &local);
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (existing != NULL)
        {
          if (!hearth_change_equal (existing, c))
            refuse (out, REFUSED_BAD_CHANGE, _("%s record %s was recorded with other content"), c->table, c->id);
          return TRUE;  /* the same record again: acknowledged, not stored twice */
        }
      if (audit && (broken = check_audit_entry (p, c, item->audit_hash)) != NULL)
        {
          if (p->device->audit_broken == NULL)
            p->device->audit_broken = g_strdup (broken);
          refuse (out, REFUSED_AUDIT, "%s", broken);
          return TRUE;
        }
      if (g_str_equal (c->table, "reviews") && !hearth_workflow_check_review (p->role, c->fields, &local))
        {
          refuse (out, REFUSED_ROLE, "%s", local->message);
          return TRUE;
        }
    }
  else
    {
      HearthHlc parsed_here;
      const HearthHlc *version = &parsed_here;
      gboolean repeat = FALSE;
      gboolean parsed;

      /* Parsed on the request's thread (version_ahead()) unless the
       * item came another way. */
      if (item->version_parsed != 0)
        {
          parsed = item->version_parsed > 0;
          version = &item->version;
        }
      else
        parsed = hearth_hlc_parse (c->hlc, &parsed_here, NULL);

      /* A version names the device whose clock made it: a device makes
       * its own versions only (a resolution too is the resolver's). */
      if (parsed && strcmp (version->device, p->device->id) != 0)
        {
          refuse (out, REFUSED_BAD_CHANGE, _("version %s names device %s, not the device that sent it"), c->hlc,
                  version->device);
          return TRUE;
        }
      p->renamed = FALSE;
      if (!clamp_edit (p, c, parsed ? version : NULL, out, &floor, &local))
        {
          if (local->domain != HEARTH_HLC_ERROR)
            {
              g_propagate_error (error, g_steal_pointer (&local));
              return FALSE;
            }
          refuse (out, REFUSED_BAD_CHANGE, "%s", local->message);
          return TRUE;
        }
      /* Prepared of the change as pushed: not of it clamped or renamed. */
      if (out->clamped_hlc != NULL || p->renamed)
        prepared = NULL;
      if (c->kind == HEARTH_CHANGE_EDITS)
        return push_edits (p, item, prepared, c, at_center, &floor, out, error);
      if (!check_new_edit (p, c, field_guarded (item, 0, c), out, &repeat, &late, &heads, NULL, error))
        return FALSE;
      if (repeat || out->code != NULL)
        {
          g_clear_pointer (&out->original_hlc, g_free);
          g_clear_pointer (&out->clamped_hlc, g_free);
          return TRUE;
        }
      if (floor != NULL)
        {
          g_free (p->device->clamp_floor);
          p->device->clamp_floor = g_steal_pointer (&floor);
        }
    }

  out->cursor = hearth_center_txn_add_prepared_change (p->txn, p->device->id, item->seq, c,
                                                      c->kind == HEARTH_CHANGE_RECORD ? NULL : prepared, item->digest,
                                                      item->fields, p->now, error);
  if (out->cursor == 0)
    return FALSE;
  c->cursor = out->cursor;   /* a head of its field, by its cursor */
  if (c->household != NULL && at_center == NULL && !set_household_village (p, c->household, c->village, error))
    return FALSE;
  if (c->kind != HEARTH_CHANGE_EDIT)
    return TRUE;
  if (!(late ? merge_late_parent (p, c, heads, error) : merge_field (p, c, heads, error)))
    return FALSE;
  record_stored (p, c);
  return TRUE;
}

static void
add_outcome_to_reply (JsonArray *refused, JsonArray *clamped, const HearthCenterOutcome *o)
{
  if (o->code != NULL)
    {
      JsonObject *r = json_object_new ();
      json_object_set_int_member (r, "seq", o->seq);
      json_object_set_string_member (r, "code", o->code);
      json_object_set_string_member (r, "message", o->message);
      json_array_add_object_element (refused, r);
    }
  if (o->clamped_hlc != NULL)
    {
      JsonObject *r = json_object_new ();
      json_object_set_int_member (r, "seq", o->seq);
      json_object_set_string_member (r, "hlc", o->clamped_hlc);
      json_array_add_object_element (clamped, r);
    }
}

/* One push waiting for, or in, a group commit. */
typedef struct _PushJob {
  HearthPushBatch *batch;        /* borrowed */
  GPtrArray *prepared;           /* borrowed: HearthCenterPrepared * or NULL, an item each */
  const char *device_id;         /* the signer */
  const char *nonce;
  gint64 queued_us;
  /* Set by the group: */
  JsonArray *refused;
  JsonArray *clamped;
  gint64 acked;
  HearthCenterReply *reply;      /* a refusal, or the 500 of a failure */
  /* Under group_lock. written: the writer is through with the push; the
   * group's first push then has the group's commit to sync (ticket, 0:
   * none, the replies say why) and the group's other pushes to answer
   * (followers, n_followers). done: committed and synced, or refused. */
  gboolean written;
  gboolean done;
  guint64 ticket;
  struct _PushJob **followers;
  guint n_followers;
  /* Signalled (under group_lock) when this push is written or done. */
  GCond wake;
  GArray *undo;                  /* PushedString: what a run changed of the batch */
} PushJob;

/* The pushes of a group: at most those waiting (HEARTH_CENTER_MAX_WAITING),
 * on the writer's stack rather than a list made for each group. */
typedef struct {
  PushJob *jobs[HEARTH_CENTER_MAX_WAITING];
  guint len;
} PushGroup;

/* Forgets what a run of the group set in @job (a group that failed is
 * run again). */
static void
push_job_reset (PushJob *job)
{
  g_clear_pointer (&job->reply, hearth_center_reply_free);
  /* The batch's changes as pushed again. */
  restore_pushed (job->undo);
  while (json_array_get_length (job->refused) > 0)
    json_array_remove_element (job->refused, json_array_get_length (job->refused) - 1);
  while (json_array_get_length (job->clamped) > 0)
    json_array_remove_element (job->clamped, json_array_get_length (job->clamped) - 1);
  job->acked = 0;
}

/* One push inside the group's transaction: the nonce and the device's
 * last sight, then the changes. @isolated: in a savepoint of its own, so
 * that a push the store fails is undone alone (the savepoint rolled
 * back, @job's reply the failure) and the others go on; else (the
 * group's first run, commit_group()) without one, and a failure returns
 * %FALSE with @error set, the transaction holding part of the push. A
 * savepoint copies the first image of every page the push changes into
 * its journal (each page a few allocations and a copy): a fifth of the
 * center's CPU in the bench's ingest. Returns %FALSE only when the store
 * fails; a refusal (a replay, a gap) is @job's reply, its nonce kept. */
static gboolean
push_in_group (HearthCenter *self, HearthCenterTxn *txn, PushJob *job, gboolean isolated, GError **error)
{
  g_autoptr(HearthCenterDevice) device = NULL;
  g_autoptr(HearthCenterUser) user = NULL;
  g_autoptr(GError) local = NULL;
  HearthPushBatch *batch = job->batch;
  PushScratch *s = self->scratch;
  Push p = { 0 };
  gint64 acked, now = now_ms ();

  push_scratch_reset (s);

  if (isolated && !hearth_center_txn_savepoint (txn, HEARTH_CENTER_SAVEPOINT_BEGIN, error))
    return FALSE;
  if (!hearth_center_txn_add_nonce (txn, job->device_id, job->nonce, now, HEARTH_CENTER_NONCE_KEEP_MS, &local))
    {
      if (!g_error_matches (local, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_EXISTS))
        goto failed;
      /* The same request twice at once: the other one counts. The
       * refused insert changed nothing (SQLite undoes a statement that
       * fails); the old nonces it cleared stay cleared. */
      job->reply = fail (HEARTH_CENTER_ERROR_REPLAY, _("this request's nonce was used already: send a fresh one"));
      return !isolated || hearth_center_txn_savepoint (txn, HEARTH_CENTER_SAVEPOINT_ROLLBACK, error);
    }
  device = hearth_center_txn_get_device (txn, job->device_id, &local);
  if (device == NULL || (user = hearth_center_txn_get_user (txn, device->user, &local)) == NULL)
    goto failed;
  device->last_seen_at = now;
  acked = device->acked_seq;
  if (batch->items->len > 0 && ((HearthPushItem *) batch->items->pdata[0])->seq > acked + 1)
    {
      g_autofree char *message = g_strdup_printf (_("this push starts at change %lld, but the center has "
                                                    "changes up to %lld: send from %lld"),
                                                  (long long) ((HearthPushItem *) batch->items->pdata[0])->seq,
                                                  (long long) acked, (long long) (acked + 1));
      job->reply = error_reply_full (HEARTH_CENTER_ERROR_GAP, NULL, acked + 1, message);
      if (!hearth_center_txn_save_device (txn, device, &local))
        goto failed;
      return !isolated || hearth_center_txn_savepoint (txn, HEARTH_CENTER_SAVEPOINT_RELEASE, error);
    }

  p.txn = txn;
  p.device = device;
  p.user = user;
  /* The store admits only the four roles. */
  if (!hearth_role_parse (user->role, &p.role))
    {
      local = g_error_new_literal (HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_FAILED,
                                   "a user's role is none the workflow knows");
      goto failed;
    }
  p.now = now;
  /* The writer's, emptied above. */
  p.s = s;
  p.villages = s->villages;
  p.records = s->records;
  p.no_heads = s->no_heads;
  p.merge_edits = s->merge_edits;
  p.merge_losers = s->merge_losers;
  p.undo = job->undo;
  for (guint i = 0; i < batch->items->len; i++)
    {
      HearthPushItem *item = batch->items->pdata[i];
      g_auto(HearthCenterOutcome) outcome = { 0 };

      if (item->seq <= acked)
        {
          /* A repeat: answered from what the first delivery gave. */
          if (!hearth_center_txn_get_outcome (txn, device->id, item->seq, &outcome, &local))
            {
              if (!is_not_found (local))
                goto failed;
              g_clear_error (&local);
              outcome.seq = item->seq;
            }
          /* The number again with other content: the device numbers anew
           * what it numbered before (a store restored from a backup). Not
           * a repeat, and nothing to store over the first. */
          else if (outcome.digest != NULL && !push_item_digest_matches (item, outcome.digest))
            {
              hearth_center_outcome_clear (&outcome);
              outcome.seq = item->seq;
              refuse (&outcome, REFUSED_BAD_CHANGE,
                      _("change %lld was received before with other content: this device numbers its changes again "
                        "(was its store restored from a backup?); the center keeps the first change %lld"),
                      (long long) item->seq, (long long) item->seq);
            }
        }
      else
        {
          gboolean stored;

          /* The item's, which outlives the push: given back before the
           * outcome is cleared (a copy a change). */
          outcome.digest = item->digest;
          stored = push_change (&p, item, job->prepared != NULL ? job->prepared->pdata[i] : NULL, &outcome, &local);
          /* A change stored as pushed is its own outcome: its row holds
           * its number and digest (a row of push_outcomes for each cost
           * the center a sixteenth of its time per change). */
          stored = stored && (!(outcome.cursor == 0 || outcome.code != NULL || outcome.original_hlc != NULL) ||
                              hearth_center_txn_add_outcome (txn, device->id, &outcome, &local));
          outcome.digest = NULL;
          if (!stored)
            goto failed;
          device->acked_seq = item->seq;
        }
      add_outcome_to_reply (job->refused, job->clamped, &outcome);
    }
  if (!hearth_center_txn_save_device (txn, device, &local))
    goto failed;
  job->acked = device->acked_seq;
  /* The push's new records' rows are written as its savepoint ends
   * (center-store-sqlite.c, states_flush()): a row the store refuses
   * there is this push's failure, undone with it, not its group's. */
  if (!isolated || hearth_center_txn_savepoint (txn, HEARTH_CENTER_SAVEPOINT_RELEASE, &local))
    return TRUE;

failed:
  job->reply = reply_for_error (local, NULL);
  if (!isolated)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  /* This push's work is undone; the others of the group go on. */
  return hearth_center_txn_savepoint (txn, HEARTH_CENTER_SAVEPOINT_ROLLBACK, error);
}

static HearthCenterReply *
push_reply (PushJob *job)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  JsonNode *node;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "acked");
  json_builder_add_int_value (b, job->acked);
  json_builder_set_member_name (b, "refused");
  node = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (node, job->refused);
  json_builder_add_value (b, node);
  json_builder_set_member_name (b, "clamped");
  node = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (node, job->clamped);
  json_builder_add_value (b, node);
  add_features (b);
  json_builder_set_member_name (b, "server_time");
  json_builder_add_int_value (b, now_ms ());
  json_builder_end_object (b);
  return json_reply (200, b);
}

/* The writer's work: @group in one transaction, one commit; a job's
 * reply is set when it is not the push's answer (a refusal, or a 500 for
 * all when the commit fails: nothing of the group was committed). Each
 * request thread writes its own answer (push_reply()), out of the
 * writer's time. */
static gboolean
run_group (HearthCenter *self, PushGroup *group, gboolean isolated, guint64 *ticket, GError **error)
{
  g_autoptr(HearthCenterTxn) txn = hearth_center_store_begin (self->store, TRUE, error);

  if (txn == NULL)
    return FALSE;
  for (guint i = 0; i < group->len; i++)
    {
      push_job_reset (group->jobs[i]);
      if (!push_in_group (self, txn, group->jobs[i], isolated, error))
        return FALSE;   /* the transaction rolled back as it goes */
    }
  /* Not synced yet: the next group goes first (wait_for_group()). */
  return hearth_center_txn_commit_deferred (g_steal_pointer (&txn), ticket, error);
}

/* The group's pushes without a savepoint each, the usual case; when the
 * store fails (a push, or the commit), nothing of that run is kept and
 * the group runs again with a savepoint for each push, so that only the
 * push that fails is refused, as when every push had its own. */
static gboolean
commit_group (HearthCenter *self, PushGroup *group, guint64 *ticket, GError **error)
{
  *ticket = 0;
  if (run_group (self, group, FALSE, ticket, error))
    return TRUE;
  g_clear_error (error);
  return run_group (self, group, TRUE, ticket, error);
}

/* Every push of @group answered with @error's 500: the group's commit
 * failed, or its sync did (then it may be lost: none is acknowledged). */
static void
fail_group (PushGroup *group, const GError *error)
{
  for (guint i = 0; i < group->len; i++)
    {
      PushJob *job = group->jobs[i];

      hearth_center_reply_free (job->reply);
      job->reply = reply_for_error (error, NULL);
    }
}

/* The writer thread: takes the pushes waiting (up to
 * HEARTH_CENTER_GROUP_CHANGES changes) as a group, commits them in one
 * write transaction and hands the commit's ticket and the group to the
 * group's first push, whose thread syncs it and answers the others
 * (wait_for_group()): the next group is written while this one's WAL
 * frames are synced (PROTOCOL.md section 1). One thread of its own rather than one of the
 * pushes' leading: the serve's push handlers parse at a lower priority
 * than it (center-server.c), and the writer's turn, the one serial part
 * of an ingest, is not preempted by a hundred pushes being parsed. */
static gpointer
writer_main (gpointer data)
{
  HearthCenter *self = data;

  g_mutex_lock (&self->group_lock);
  for (;;)
    {
      PushGroup group;
      g_autoptr(GError) error = NULL;
      guint64 ticket = 0;
      guint changes = 0;

      if (g_queue_is_empty (&self->pending))
        {
          if (self->writer_stopping)
            break;
          g_cond_wait (&self->writer_wake, &self->group_lock);
          continue;
        }
      group.len = 0;
      /* The queue holds at most HEARTH_CENTER_MAX_WAITING (push_intake()). */
      while (!g_queue_is_empty (&self->pending) && changes < HEARTH_CENTER_GROUP_CHANGES)
        {
          PushJob *next = g_queue_pop_head (&self->pending);

          if (g_get_monotonic_time () - next->queued_us > HEARTH_CENTER_BUSY_WAIT_MS * 1000)
            {
              next->reply = fail (HEARTH_CENTER_ERROR_BUSY, _("the center is busy: try again in a moment"));
              next->done = TRUE;
              g_cond_signal (&next->wake);
              continue;
            }
          g_assert (group.len < G_N_ELEMENTS (group.jobs));
          group.jobs[group.len++] = next;
          changes += next->batch->items->len;
        }
      g_mutex_unlock (&self->group_lock);
      if (group.len > 0 && !commit_group (self, &group, &ticket, &error))
        {
          fail_group (&group, error);
          ticket = 0;
        }
      g_mutex_lock (&self->group_lock);
      if (group.len > 0)
        {
          PushJob *first = group.jobs[0];

          first->ticket = ticket;
          first->n_followers = group.len - 1;
          first->followers = g_memdup2 (group.jobs + 1, sizeof (PushJob *) * first->n_followers);
          first->written = TRUE;
          g_cond_signal (&first->wake);
        }
    }
  g_mutex_unlock (&self->group_lock);
  return NULL;
}

/* A push on its way from its handler's thread (handle_push(), which
 * waits for it) through a parse thread (push_intake()) to the group:
 * on the handler's stack. What the parse thread makes of it is freed by
 * the handler (push_intake_clear()). */
typedef struct {
  const HearthCenterRequest *req;
  HearthCenterDevice *device;
  GBytes *body;
  HearthPushBatch *batch;
  GPtrArray *prepared;           /* HearthCenterPrepared * or NULL, an item each */
  PushJob job;
} PushIntake;

/* Checks and parses @in's request, makes what the store computes of
 * each change alone (rather than in the single writer) and readies its
 * job; or answers it (*@reply: a refusal, before the group). */
static void
push_prepare (HearthCenter *self, PushIntake *in, HearthCenterReply **reply)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *field = NULL;
  HearthPushBatch *batch;

  in->device = authenticate (self, in->req, in->req->target, TRUE, reply);
  if (in->device == NULL)
    return;
  in->body = decode_body (in->req, &error);
  if (in->body == NULL)
    {
      *reply = reply_for_error (error, NULL);
      return;
    }
  in->batch = batch = hearth_center_parse_push (g_bytes_get_data (in->body, NULL), g_bytes_get_size (in->body),
                                                &field, &error);
  if (batch == NULL)
    {
      *reply = reply_for_error (error, field);
      return;
    }
  if (strcmp (batch->device_id, in->device->id) != 0)
    {
      *reply = error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, "device_id", 0,
                                 _("“device_id” names another device than the one that signed the request"));
      return;
    }
  in->prepared = g_ptr_array_new_full (batch->items->len, (GDestroyNotify) hearth_center_prepared_free);
  for (guint i = 0; i < batch->items->len; i++)
    {
      HearthPushItem *item = batch->items->pdata[i];

      g_ptr_array_add (in->prepared, item->change != NULL
                                       ? hearth_center_store_prepare_change (self->store, item->change) : NULL);
      audit_entry_hash_ahead (item);
      version_ahead (item);
      fields_ahead (item);
    }
  in->job.batch = batch;
  in->job.prepared = in->prepared;
  in->job.device_id = in->device->id;
  in->job.nonce = in->req->nonce;
  in->job.refused = json_array_new ();
  in->job.clamped = json_array_new ();
  in->job.undo = g_array_new (FALSE, FALSE, sizeof (PushedString));
}

/* On a parse thread: @in checked and parsed, then queued for the writer;
 * or answered at once (done): refused, or HEARTH_CENTER_MAX_WAITING
 * pushes already waiting (503 "busy", untouched: PROTOCOL.md section 3). */
static void
push_intake (HearthCenter *self, PushIntake *in)
{
  HearthCenterReply *reply = NULL;

  push_prepare (self, in, &reply);
  g_mutex_lock (&self->group_lock);
  if (reply == NULL && g_queue_get_length (&self->pending) >= HEARTH_CENTER_MAX_WAITING)
    reply = fail (HEARTH_CENTER_ERROR_BUSY, _("the center is busy: try again in a moment"));
  if (reply != NULL)
    {
      in->job.reply = reply;
      in->job.done = TRUE;
      g_cond_signal (&in->job.wake);
    }
  else
    {
      in->job.queued_us = g_get_monotonic_time ();
      g_queue_push_tail (&self->pending, &in->job);
      g_cond_signal (&self->writer_wake);
    }
  g_mutex_unlock (&self->group_lock);
}

/* How much the parse threads' nice value is above the center's
 * (parser_main()). */
#define PARSE_NICE 10

/* Raises the calling thread's own nice value by @by (at most to 19).
 * Linux: a thread's own nice value, by its id, raised from the
 * process's (a center started niced keeps the difference). Raising it
 * needs no privilege; failing leaves the thread as it was. */
static void
nice_thread (int by)
{
  id_t tid = (id_t) syscall (SYS_gettid);
  int nice_now;

  errno = 0;
  nice_now = getpriority (PRIO_PROCESS, tid);
  if (errno == 0 && setpriority (PRIO_PROCESS, tid, MIN (nice_now + by, 19)) != 0)
    g_debug ("parse thread left at its priority: %s", g_strerror (errno));
}

/* A parse thread: checks and parses pushes one after another, in the
 * order their handlers handed them over (handle_push()), and queues each
 * for the writer. Two a processor (PARSERS_PER_PROCESSOR), each niced
 * PARSE_NICE above the center (the writer is not): parsing uses the
 * cores the writer leaves; with a thread a push parsing, a hundred
 * pushes came at once shared the cores among them, each finished its
 * parse late and about when all the others did, and the writer waited
 * meanwhile. First come, first parsed, each push reaches the writer as
 * soon as it can, and waits about as long as any other. A thread that
 * ends a parse takes the next push itself: no hand-over between threads
 * on the way. */
static gpointer
parser_main (gpointer data)
{
  HearthCenter *self = data;

  nice_thread (PARSE_NICE);
  g_mutex_lock (&self->intake_lock);
  for (;;)
    {
      PushIntake *in = g_queue_pop_head (&self->intake);

      if (in == NULL)
        {
          if (self->intake_stopping)
            break;
          g_cond_wait (&self->intake_wake, &self->intake_lock);
          continue;
        }
      g_mutex_unlock (&self->intake_lock);
      push_intake (self, in);
      g_mutex_lock (&self->intake_lock);
    }
  g_mutex_unlock (&self->intake_lock);
  return NULL;
}

/* Waits until @job's group is committed and synced, or @job is answered
 * before it (push_intake(), writer_main(): a push that waited
 * HEARTH_CENTER_BUSY_WAIT_MS without being taken is answered 503 "busy"
 * untouched, PROTOCOL.md section 3). The sync is waited for by the
 * group's first push's thread, which then answers the group's others
 * (one thread woken a push, not all of the group at every sync). */
static void
wait_for_group (HearthCenter *self, PushJob *job)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = TRUE;

  g_mutex_lock (&self->group_lock);
  while (!job->done && !job->written)
    g_cond_wait (&job->wake, &self->group_lock);
  if (job->done)
    {
      g_mutex_unlock (&self->group_lock);
      return;
    }
  g_mutex_unlock (&self->group_lock);
  /* The group's first: the others wait on done, their replies untouched
   * by anyone else until it is set. */
  if (job->ticket != 0)
    ok = hearth_center_store_wait_durable (self->store, job->ticket, &error);
  g_mutex_lock (&self->group_lock);
  for (guint i = 0; i <= job->n_followers; i++)
    {
      PushJob *member = i == 0 ? job : job->followers[i - 1];

      if (!ok)
        {
          /* Maybe lost: none acknowledged. */
          hearth_center_reply_free (member->reply);
          member->reply = reply_for_error (error, NULL);
        }
      member->done = TRUE;
      g_cond_signal (&member->wake);
    }
  g_mutex_unlock (&self->group_lock);
  g_clear_pointer (&job->followers, g_free);
}

/* A push: handed to a parse thread (parser_main()), which checks,
 * parses and queues it for the group commit; answered once its group is
 * committed and synced (wait_for_group()), or when refused. */
static HearthCenterReply *
handle_push (HearthCenter *self, const HearthCenterRequest *req)
{
  PushIntake in = { .req = req };
  HearthCenterReply *reply;

  g_cond_init (&in.job.wake);
  g_mutex_lock (&self->intake_lock);
  g_queue_push_tail (&self->intake, &in);
  g_cond_signal (&self->intake_wake);
  g_mutex_unlock (&self->intake_lock);
  wait_for_group (self, &in.job);
  g_cond_clear (&in.job.wake);
  reply = in.job.reply != NULL ? in.job.reply : push_reply (&in.job);
  g_clear_pointer (&in.job.refused, json_array_unref);
  g_clear_pointer (&in.job.clamped, json_array_unref);
  if (in.job.undo != NULL)
    {
      forget_pushed (in.job.undo);
      g_array_unref (in.job.undo);
    }
  g_clear_pointer (&in.prepared, g_ptr_array_unref);
  g_clear_pointer (&in.batch, hearth_push_batch_free);
  g_clear_pointer (&in.body, g_bytes_unref);
  g_clear_pointer (&in.device, hearth_center_device_free);
  return reply;
}

/* ---- pull (PROTOCOL.md section 8) ----------------------------------------------------------------- */

/* The longest query value, escapes undone: a date or a number is 10 to
 * 16 characters. */
#define QUERY_VALUE_MAX 256

/* @name's value in @query, percent-escapes undone (RFC 3986: a proxy or
 * a client library may write "2026-01-01" as "2026%2D01%2D01"; the
 * signature covers the target as sent, checked before this). "+" stays
 * "+" (the form encoding's space has no place in these values). Refused,
 * naming @name: given twice, longer than QUERY_VALUE_MAX, a "%" without
 * two hex digits, or a value that is not one line of UTF-8. @out is NULL
 * when @name is absent. */
static gboolean
query_value (const char *query, const char *name, char **out, GError **error)
{
  g_auto(GStrv) pairs = g_strsplit (query != NULL ? query : "", "&", -1);
  gsize n = strlen (name);

  *out = NULL;
  for (guint i = 0; pairs[i] != NULL; i++)
    {
      const char *raw;
      g_autoptr(GString) v = NULL;

      if (strncmp (pairs[i], name, n) != 0 || pairs[i][n] != '=')
        continue;
      if (*out != NULL)
        {
          g_clear_pointer (out, g_free);
          g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_REQUEST, _("“%s” is given twice"), name);
          return FALSE;
        }
      raw = pairs[i] + n + 1;
      if (strlen (raw) > 3 * QUERY_VALUE_MAX)
        goto too_long;
      v = g_string_new (NULL);
      for (const char *p = raw; *p != '\0'; p++)
        {
          int hi, lo;

          if (*p != '%')
            {
              g_string_append_c (v, *p);
              continue;
            }
          hi = g_ascii_xdigit_value (p[1]);
          lo = hi < 0 ? -1 : g_ascii_xdigit_value (p[2]);
          if (lo < 0)
            {
              g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_REQUEST,
                           _("“%s” has a “%%” not followed by two hex digits"), name);
              return FALSE;
            }
          g_string_append_c (v, (char) (hi * 16 + lo));
          p += 2;
        }
      if (v->len > QUERY_VALUE_MAX)
        goto too_long;
      for (gsize k = 0; k < v->len; k++)
        if ((guchar) v->str[k] < 0x20 || v->str[k] == 0x7f)
          {
            g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_REQUEST,
                         _("“%s” holds a control character (byte %u) once its escapes are undone"), name,
                         (guint) (guchar) v->str[k]);
            return FALSE;
          }
      if (!g_utf8_validate_len (v->str, v->len, NULL))
        {
          g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_REQUEST,
                       _("“%s” is not UTF-8 once its escapes are undone"), name);
          return FALSE;
        }
      *out = g_string_free (g_steal_pointer (&v), FALSE);
    }
  return TRUE;

too_long:
  g_clear_pointer (out, g_free);
  g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_REQUEST,
               _("“%s” is longer than %d bytes"), name, QUERY_VALUE_MAX);
  return FALSE;
}

/* A query parameter that is a whole number (query_value()'s escapes undone). */
static gboolean
query_number (const char *query, const char *name, gint64 fallback, gint64 min, gint64 max, gint64 *out,
              GError **error)
{
  g_autofree char *text = NULL;
  gint64 v = 0;

  *out = fallback;
  if (!query_value (query, name, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;
  if (!parse_decimal (text, &v) || v < min || v > max)
    {
      g_set_error (error, HEARTH_CENTER_ERROR, HEARTH_CENTER_ERROR_BAD_REQUEST,
                   _("“%s” must be given once, a whole number from %lld to %lld"), name, (long long) min,
                   (long long) max);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

/* Whether @query names @name at all. */
static gboolean
query_has (const char *query, const char *name)
{
  g_auto(GStrv) pairs = g_strsplit (query != NULL ? query : "", "&", -1);
  gsize n = strlen (name);

  for (guint i = 0; pairs[i] != NULL; i++)
    if (strncmp (pairs[i], name, n) == 0 && pairs[i][n] == '=')
      return TRUE;
  return FALSE;
}

/* GET /v1/pull, /v2/pull and /v3/pull (PROTOCOL.md section 8): @version 2
 * allows larger pages and compaction (section 8.1), and 3 lists grouped
 * writes as they are (section 8.2). */
static HearthCenterReply *
handle_pull (HearthCenter *self, guint version, const char *query, HearthCenterDevice *device)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_autoptr(HearthCenterUser) user = NULL;
  g_autoptr(GString) out = g_string_new ("{\"changes\":[");
  HearthCenterPullQuery q = { 0 };
  HearthCenterReply *reply;
  gint64 cursor, limit, last, next, compact_until = -1, listed_last;
  gboolean more = FALSE, whole_county = FALSE;
  guint listed = 0;

  if (!query_number (query, "cursor", 0, 0, HEARTH_CENTER_MAX_SEQ - 1, &cursor, &error))
    return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, "cursor", 0, error->message);
  if (!query_number (query, "limit", version >= 2 ? HEARTH_CENTER_DEFAULT_PULL_V2 : HEARTH_CENTER_DEFAULT_PULL, 1,
                     version >= 2 ? HEARTH_CENTER_MAX_PULL_V2 : HEARTH_CENTER_MAX_PULL, &limit, &error))
    return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, "limit", 0, error->message);
  if (version >= 2 && query_has (query, "compact_until"))
    {
      if (!query_number (query, "compact_until", 0, 0, HEARTH_CENTER_MAX_SEQ - 1, &compact_until, &error))
        return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, "compact_until", 0, error->message);
      /* Compaction is sound from the first change only (section 8.1). */
      if (compact_until == 0 && cursor != 0)
        return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, "compact_until", 0,
                                 _("a compacted pull starts (“compact_until=0”) with “cursor=0”"));
    }

  txn = hearth_center_store_begin (self->store, FALSE, &error);
  if (txn == NULL)
    return reply_for_error (error, NULL);
  user = hearth_center_txn_get_user (txn, device->user, &error);
  if (user == NULL || (last = hearth_center_txn_last_cursor (txn, &error)) < 0)
    return reply_for_error (error, NULL);
  if (compact_until > last)
    return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, "compact_until", 0,
                             _("“compact_until” is beyond the center's last change"));
  if (compact_until == 0)
    compact_until = last;   /* the snapshot this compacted pull is of */
  /* Audit entries without a village go to whoever's scope is the whole
   * county. */
  for (guint i = 0; user->scope[i] != NULL; i++)
    whole_county = whole_county || g_str_equal (user->scope[i], self->county.code);
  q.after = cursor;
  q.exclude_device = device->id;
  q.prefixes = (const char *const *) user->scope;
  q.unplaced = whole_county;
  q.compact_until = MAX (compact_until, 0);
  q.whole_edits = version >= 3;
  q.limit = (guint) limit;
  q.max_bytes = version >= 2 ? HEARTH_CENTER_MAX_PAGE_V2 : HEARTH_CENTER_MAX_PAGE;
  if (!hearth_center_txn_pull_page (txn, &q, out, &listed, &listed_last, &more, &error))
    return reply_for_error (error, NULL);
  hearth_center_txn_rollback (g_steal_pointer (&txn));

  /* Without more, the next pull starts from the highest cursor of this
   * snapshot: what was skipped as out of scope is never looked at again.
   * That is the real end, below @cursor when the device is beyond it (a
   * center restored from a backup): it moves back, and nothing stored from
   * here on passes it by. */
  next = more ? listed_last : last;
  g_string_append_printf (out, "],\"next_cursor\":%" G_GINT64_FORMAT ",\"more\":%s", next, more ? "true" : "false");
  if (compact_until >= 0)
    g_string_append_printf (out, ",\"compact_until\":%" G_GINT64_FORMAT, compact_until);
  g_string_append_printf (out, ",\"server_time\":%" G_GINT64_FORMAT "}", now_ms ());

  reply = g_new0 (HearthCenterReply, 1);
  reply->status = 200;
  reply->server_time = now_ms ();
  reply->body = g_string_free_to_bytes (g_steal_pointer (&out));
  return reply;
}

/* ---- epoch (PROTOCOL.md section 12) ------------------------------------------------------------------ */

/* The store's epoch, its restore point and the device's acknowledged
 * number: what a device compares with what it knows before it pushes. */
static HearthCenterReply *
handle_epoch (HearthCenter *self, HearthCenterDevice *device)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_autoptr(HearthCenterDevice) fresh = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *epoch = NULL;
  gint64 restore_cursor = 0;

  txn = hearth_center_store_begin (self->store, FALSE, &error);
  if (txn == NULL || (fresh = hearth_center_txn_get_device (txn, device->id, &error)) == NULL ||
      !hearth_center_txn_get_epoch (txn, &epoch, &restore_cursor, &error))
    return reply_for_error (error, NULL);
  hearth_center_txn_rollback (g_steal_pointer (&txn));
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "epoch");
  json_builder_add_string_value (b, epoch);
  json_builder_set_member_name (b, "acked");
  json_builder_add_int_value (b, fresh->acked_seq);
  json_builder_set_member_name (b, "restore_cursor");
  json_builder_add_int_value (b, restore_cursor);
  add_features (b);
  json_builder_set_member_name (b, "server_time");
  json_builder_add_int_value (b, now_ms ());
  json_builder_end_object (b);
  return json_reply (200, b);
}

/* ---- export (PROTOCOL.md sections 9 and 10) ---------------------------------------------------------- */

/* A query parameter (query_value()), given at most once; @out is NULL
 * when it is absent. */
static gboolean
query_text (const char *query, const char *name, const char **out, char **owned, GError **error)
{
  gboolean ok = query_value (query, name, owned, error);

  *out = *owned;
  return ok;
}

/* Removes a temporary batch folder and what is in it. */
static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

/* {"manifest": {…}, "signature": {"key", "ed25519"}, "manifest_json":
 * "…", "files": [{"name", "content_base64"}, …]} from a batch folder, or NULL with @error when it
 * would pass HEARTH_CENTER_MAX_EXPORT. */
static GBytes *
export_document (const char *dir, JsonObject *manifest, GError **error)
{
  JsonArray *files = json_object_get_array_member (manifest, "files");
  g_autoptr(JsonNode) manifest_node = json_node_init_object (json_node_alloc (), manifest);
  g_autofree char *manifest_text = json_to_string (manifest_node, FALSE);
  g_autoptr(GPtrArray) contents = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GString) out = NULL;
  guint64 size = strlen (manifest_text) + 256;
  guint8 public_key[HEARTH_BATCH_KEY_BYTES];
  guint8 signature[HEARTH_BATCH_SIGNATURE_BYTES];
  g_autofree char *key_text = NULL, *signature_text = NULL, *manifest_bytes = NULL;

  if (!hearth_batch_read_signature (dir, public_key, signature, error))
    return NULL;
  key_text = hearth_batch_key_to_text (public_key);
  signature_text = g_base64_encode (signature, sizeof signature);
  /* manifest.json's own bytes, which the signature covers: a client whose
   * JSON library formats a manifest otherwise still writes these. */
  {
    g_autofree char *path = g_build_filename (dir, "manifest.json", NULL);
    g_autofree char *bytes = NULL;
    g_autoptr(JsonNode) node = NULL;

    if (!g_file_get_contents (path, &bytes, NULL, error))
      return NULL;
    node = json_node_init_string (json_node_alloc (), bytes);
    manifest_bytes = json_to_string (node, FALSE);
    size += strlen (manifest_bytes) + 32;
  }

  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      const char *name = json_object_get_string_member (json_array_get_object_element (files, i), "name");
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr(GMappedFile) mapped = g_mapped_file_new (path, FALSE, error);

      if (mapped == NULL)
        return NULL;
      size += 4 * ((g_mapped_file_get_length (mapped) + 2) / 3) + strlen (name) + 48;
      if (size > HEARTH_CENTER_MAX_EXPORT)
        {
          g_set_error_literal (error, HEARTH_CENTER_EXPORT_ERROR, HEARTH_CENTER_EXPORT_ERROR_TOO_LARGE, "");
          return NULL;
        }
      g_ptr_array_add (contents, g_mapped_file_get_bytes (mapped));
    }

  /* Written by hand: the files' base64 would be copied thrice through a
   * JsonNode tree. Names are plain (batch.c's), the manifest is JSON. */
  out = g_string_sized_new ((gsize) size);
  g_string_append (out, "{\"manifest\":");
  g_string_append (out, manifest_text);
  g_string_append_printf (out, ",\"signature\":{\"key\":\"%s\",\"ed25519\":\"%s\"}", key_text, signature_text);
  g_string_append_printf (out, ",\"manifest_json\":%s", manifest_bytes);
  g_string_append (out, ",\"files\":[");
  for (guint i = 0; i < contents->len; i++)
    {
      const char *name = json_object_get_string_member (json_array_get_object_element (files, i), "name");
      gsize len = 0;
      const guchar *data = g_bytes_get_data (contents->pdata[i], &len);
      g_autofree char *encoded = g_base64_encode (data, len);

      g_string_append_printf (out, "%s{\"name\":\"%s\",\"content_base64\":\"%s\"}", i > 0 ? "," : "", name,
                              encoded);
    }
  g_string_append (out, "]}");
  return g_string_free_to_bytes (g_steal_pointer (&out));
}

static HearthCenterReply *
handle_export (HearthCenter *self, const char *query, HearthCenterDevice *device)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_autoptr(HearthCenterUser) user = NULL;
  g_autoptr(JsonObject) manifest = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *scope = NULL, *since = NULL, *until = NULL, *format_text = NULL, *dir = NULL;
  HearthCenterExportQuery q = { 0 };
  const char *field = NULL;
  HearthCenterReply *reply;
  const char *names[] = { "scope", "since", "until", "format" };
  char **owned[] = { &scope, &since, &until, &format_text };
  const char *values[G_N_ELEMENTS (names)];

  txn = hearth_center_store_begin (self->store, FALSE, &error);
  if (txn == NULL)
    return reply_for_error (error, NULL);
  user = hearth_center_txn_get_user (txn, device->user, &error);
  if (user == NULL)
    return reply_for_error (error, NULL);
  hearth_center_txn_rollback (g_steal_pointer (&txn));
  if (!g_str_equal (user->role, "county"))
    return fail (HEARTH_CENTER_ERROR_FORBIDDEN, _("exports are for county staff: %s has the role %s"), user->name,
                 user->role);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (!query_text (query, names[i], &values[i], owned[i], &error))
      return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, names[i], 0, error->message);
  if (!query_number (query, "after_cursor", 0, 0, HEARTH_CENTER_MAX_SEQ - 1, &q.after_cursor, &error))
    return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, "after_cursor", 0, error->message);
  if (values[0] == NULL)
    return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, "scope", 0, _("“scope” is missing"));
  if (values[1] == NULL)
    return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, "since", 0, _("“since” is missing"));
  if (values[3] == NULL)
    return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, "format", 0, _("“format” is missing"));
  if (!hearth_center_export_parse_format (values[3], &q.format, &error))
    return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, "format", 0, error->message);
  q.scope = values[0];
  q.since = values[1];
  q.until = values[2];
  if (!hearth_center_export_check (&self->county, &q, &field, &error))
    return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, field, 0, error->message);
  if (!hearth_center_scope_contains ((const char *const *) user->scope, q.scope))
    return fail (HEARTH_CENTER_ERROR_FORBIDDEN, _("the scope %s is outside the scope of user %s"), q.scope,
                 user->name);

  /* A private folder of its own, gone before the reply leaves. */
  dir = g_dir_make_tmp ("hearth-export-XXXXXX", &error);
  if (dir == NULL)
    return reply_for_error (error, NULL);
  /* Base64 makes 4 bytes of 3: the files may hold three quarters. */
  if (hearth_center_export (self->store, &q, dir, HEARTH_CENTER_MAX_EXPORT / 4 * 3, &manifest, &field, &error))
    body = export_document (dir, manifest, &error);
  remove_dir (dir);
  if (body == NULL)
    {
      if (g_error_matches (error, HEARTH_CENTER_EXPORT_ERROR, HEARTH_CENTER_EXPORT_ERROR_TOO_LARGE))
        return fail (HEARTH_CENTER_ERROR_TOO_LARGE,
                     _("the batch would be larger than %d MiB: export a shorter period (until) or a smaller scope"),
                     HEARTH_CENTER_MAX_EXPORT / (1024 * 1024));
      if (g_error_matches (error, HEARTH_CENTER_EXPORT_ERROR, HEARTH_CENTER_EXPORT_ERROR_INVALID))
        return error_reply_full (HEARTH_CENTER_ERROR_BAD_REQUEST, field, 0, error->message);
      return reply_for_error (error, NULL);
    }

  reply = g_new0 (HearthCenterReply, 1);
  reply->status = 200;
  reply->server_time = now_ms ();
  reply->body = g_steal_pointer (&body);
  return reply;
}

/* ---- dispatch --------------------------------------------------------------------------------------- */

HearthCenterReply *
hearth_center_handle (HearthCenter *self, const HearthCenterRequest *req)
{
  g_autofree char *path = NULL;
  g_autoptr(HearthCenterDevice) device = NULL;
  HearthCenterReply *reply = NULL;
  const char *question;
  const char *query = NULL;
  gboolean post, get;

  g_return_val_if_fail (self != NULL && req != NULL && req->method != NULL && req->target != NULL, NULL);

  question = strchr (req->target, '?');
  path = question != NULL ? g_strndup (req->target, question - req->target) : g_strdup (req->target);
  if (question != NULL)
    query = question + 1;
  post = g_str_equal (req->method, "POST");
  get = g_str_equal (req->method, "GET");

  if (post && g_str_equal (path, "/v1/enrol"))
    return handle_enrol (self, req);
  if (!(post && g_str_equal (path, "/v1/push")) && !(get && g_str_equal (path, "/v1/pull")) &&
      !(get && g_str_equal (path, "/v2/pull")) && !(get && g_str_equal (path, "/v3/pull")) &&
      !(get && g_str_equal (path, "/v1/export")) &&
      !(get && g_str_equal (path, "/v1/epoch")))
    return fail (HEARTH_CENTER_ERROR_NOT_FOUND, _("no such endpoint: %s %s"), req->method, path);

  if (post)
    reply = handle_push (self, req);
  else if ((device = authenticate (self, req, req->target, FALSE, &reply)) != NULL)
    reply = g_str_equal (path, "/v1/pull") ? handle_pull (self, 1, query, device)
            : g_str_equal (path, "/v2/pull") ? handle_pull (self, 2, query, device)
            : g_str_equal (path, "/v3/pull") ? handle_pull (self, 3, query, device)
            : g_str_equal (path, "/v1/epoch") ? handle_epoch (self, device)
                                             : handle_export (self, query, device);
  if (device_id_is_valid (req->device))
    reply->device_id = g_strdup (req->device);
  return reply;
}

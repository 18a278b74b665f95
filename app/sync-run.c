/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sync-run.c: enrolment and one sync run (sync-run.h). */

#include "sync-restore.h"
#include "sync-run.h"
#include "sync-run-private.h"
#include "sync-store-private.h"
#include "sync-page-scan.h"
#include "sign.h"
#include "sync-reply.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <string.h>

/* SQLite's default WAL size before a checkpoint, and the one of a pull. */
#define HEARTH_SYNC_CHECKPOINT_PAGES 1000
#define HEARTH_SYNC_PULL_CHECKPOINT_PAGES 50000

static gint64
store_clock (gpointer data)
{
  return hearth_case_store_now_ms (hearth_sync_store_get_cases (data));
}

HearthSyncClient *
hearth_sync_make_client (HearthSyncStore *store, const char *url, const HearthSyncRunOptions *o, GError **error)
{
  HearthSyncClient *client = hearth_sync_client_new (url, error);

  if (client == NULL)
    return NULL;
  hearth_sync_client_set_clock (client, store_clock, store);
  if (o != NULL)
    {
      hearth_sync_client_set_timeouts (client, o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000,
                                       o->total_timeout_ms > 0 ? o->total_timeout_ms : 120000);
    }
  hearth_sync_client_apply_trust (client, store, o);
  return client;
}

void
hearth_sync_client_apply_trust (HearthSyncClient *client, HearthSyncStore *store, const HearthSyncRunOptions *o)
{
  g_autoptr(HearthSyncEnrolment) enrolment = NULL;

  /* Given to this command: used instead of the kept trust, which stays. */
  if (o != NULL && (o->ca_file != NULL || o->pinned_key != NULL))
    {
      hearth_sync_client_set_tls (client, o->ca_file, o->pinned_key);
      return;
    }
  enrolment = hearth_sync_store_get_enrolment (store, NULL);
  if (enrolment == NULL)
    return;
  hearth_sync_client_set_tls (client, NULL, enrolment->tls_pin);
  hearth_sync_client_set_ca_pem (client, enrolment->tls_ca_pem);
}

/* The largest CA bundle an enrolment keeps. */
#define HEARTH_SYNC_MAX_CA_PEM (1024 * 1024)

char *
hearth_sync_read_ca_file (const char *path, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *text = NULL;
  g_autofree char *shown = g_filename_display_name (path);
  GStatBuf st;
  gsize len = 0;

  /* Bounded before it is read: a CA bundle is a few kilobytes. */
  if (g_stat (path, &st) == 0 && S_ISREG (st.st_mode) && st.st_size > HEARTH_SYNC_MAX_CA_PEM)
    {
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
                   _("%s is not a CA certificate in PEM form (“-----BEGIN CERTIFICATE-----”)"), shown);
      return NULL;
    }
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
                   _("the CA certificate cannot be read: %s"), local->message);
      return NULL;
    }
  if (len > HEARTH_SYNC_MAX_CA_PEM || strlen (text) != len || !g_utf8_validate (text, len, NULL) ||
      strstr (text, "-----BEGIN CERTIFICATE-----") == NULL)
    {
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
                   _("%s is not a CA certificate in PEM form (“-----BEGIN CERTIFICATE-----”)"), shown);
      return NULL;
    }
  return g_steal_pointer (&text);
}

gboolean
hearth_sync_read_trust (HearthSyncStore *store, const HearthSyncRunOptions *o, char **ca_pem, char **pin,
                        GError **error)
{
  g_autoptr(HearthSyncEnrolment) existing = NULL;
  g_autofree char *text = NULL;

  *ca_pem = NULL;
  *pin = NULL;
  if (o == NULL || (o->ca_file == NULL && o->pinned_key == NULL))
    {
      existing = hearth_sync_store_get_enrolment (store, NULL);
      if (existing != NULL)
        {
          *ca_pem = g_steal_pointer (&existing->tls_ca_pem);
          *pin = g_steal_pointer (&existing->tls_pin);
        }
      return TRUE;
    }
  if (o->pinned_key != NULL && !g_str_has_prefix (o->pinned_key, "sha256//"))
    {
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
                   _("“%s” is not a pin: it is sha256// and the base64 of the center's public key's SHA-256 "
                     "(docs/operations.md)"), o->pinned_key);
      return FALSE;
    }
  if (o->ca_file != NULL && (text = hearth_sync_read_ca_file (o->ca_file, error)) == NULL)
    return FALSE;
  *ca_pem = g_steal_pointer (&text);
  *pin = g_strdup (o->pinned_key);
  return TRUE;
}

gboolean
hearth_sync_change_trust (HearthSyncStore *store, const HearthSyncRunOptions *o, gboolean system, GError **error)
{
  g_autoptr(HearthSyncEnrolment) enrolment = hearth_sync_store_get_enrolment (store, error);
  g_autoptr(HearthSyncClient) client = NULL;
  g_autoptr(HearthSecret) secret = NULL;
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *ca_pem = NULL;
  g_autofree char *pin = NULL;
  HearthSyncStatus status = { 0 };
  guint http_status = 0;

  g_return_val_if_fail (system || (o != NULL && (o->ca_file != NULL || o->pinned_key != NULL)), FALSE);

  if (enrolment == NULL)
    return FALSE;
  if (!system && !hearth_sync_read_trust (store, o, &ca_pem, &pin, error))
    return FALSE;
  secret = hearth_sync_store_load_secret_key (store, error);
  if (secret == NULL || !hearth_sync_store_status (store, &status, error))
    return FALSE;
  client = hearth_sync_client_new (enrolment->center_url, error);
  if (client == NULL)
    return FALSE;
  hearth_sync_client_set_clock (client, store_clock, store);
  hearth_sync_client_set_timeouts (client, 10000, 30000);
  hearth_sync_client_set_tls (client, NULL, pin);
  hearth_sync_client_set_ca_pem (client, ca_pem);
  hearth_sync_client_set_identity (client, hearth_case_store_get_device_id (hearth_sync_store_get_cases (store)),
                                   hearth_secret_peek (secret));
  hearth_sync_client_set_time_offset (client, status.center_offset_ms);
  /* A signed request: the center that answers knows this device, so the
   * trust is the county center's, not any server's at that address. Its
   * epoch is not met here (the next sync does). */
  reply = hearth_sync_client_call (client, "GET", "/v1/epoch", NULL, TRUE, &http_status, &local);
  if (reply == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return hearth_sync_store_set_trust (store, ca_pem, pin, error);
}

HearthSyncEnrolment *
hearth_sync_request_enrolment (HearthSyncClient *client, const char *center_url, const char *code,
                               const char *device_id, const guint8 *public_key, const char *device_name,
                               const char *user, char **refusal_code, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) reply = NULL;
  g_autofree char *public_b64 = g_base64_encode (public_key, HEARTH_SIGN_PUBLIC_KEY_BYTES);
  g_autoptr(GError) local = NULL;

  if (refusal_code != NULL)
    *refusal_code = NULL;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "device_id");
  json_builder_add_string_value (b, device_id);
  json_builder_set_member_name (b, "public_key");
  json_builder_add_string_value (b, public_b64);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, device_name != NULL ? device_name : g_get_host_name ());
  if (user != NULL)
    {
      json_builder_set_member_name (b, "user");
      json_builder_add_string_value (b, user);
    }
  json_builder_end_object (b);
  body = json_builder_get_root (b);

  reply = hearth_sync_client_call (client, "POST", "/v1/enrol", body, FALSE, NULL, &local);
  if (reply == NULL)
    {
      if (refusal_code != NULL)
        *refusal_code = g_strdup (hearth_sync_client_get_error_code (client));
      /* A center that answers "no such endpoint" to the first request of
       * all was given a path it is not served under (a typing error):
       * the user's address, not a bug of this tablet (break33: exit 70). */
      if (g_error_matches (local, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL) &&
          g_strcmp0 (hearth_sync_client_get_error_code (client), "not-found") == 0)
        {
          g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_BAD_ADDRESS,
                       _("%s: the county center there has no enrolment under this path (%s). Give the center's "
                         "address without a path, or with the path county IT gave"),
                       center_url, local->message);
          return NULL;
        }
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return hearth_sync_read_enrolment (reply, center_url, device_id, error);
}

gboolean
hearth_sync_enrol (HearthSyncStore *store, const char *center_url, const char *code, const char *device_name,
                   const HearthSyncRunOptions *options, HearthSyncEnrolment **enrolment_out, GError **error)
{
  return hearth_sync_enrol_full (store, center_url, code, device_name, options, enrolment_out, NULL, error);
}

gboolean
hearth_sync_enrol_full (HearthSyncStore *store, const char *center_url, const char *code, const char *device_name,
                        const HearthSyncRunOptions *options, HearthSyncEnrolment **enrolment_out, char **refusal_code,
                        GError **error)
{
  g_autoptr(HearthSyncClient) client = NULL;
  g_autoptr(HearthSecret) secret = NULL;
  g_autoptr(HearthSyncEnrolment) enrolment = NULL;
  g_autoptr(GError) not_enrolled = NULL;
  g_autoptr(HearthSyncEnrolment) existing = NULL;
  g_autofree char *ca_pem = NULL;
  g_autofree char *pin = NULL;
  guint8 public_key[HEARTH_SIGN_PUBLIC_KEY_BYTES];
  const char *device_id;

  if (refusal_code != NULL)
    *refusal_code = NULL;
  existing = hearth_sync_store_get_enrolment (store, &not_enrolled);
  if (existing != NULL)
    {
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
                   _("this store is enrolled already, with the center %s, for %s"), existing->center_url,
                   existing->user);
      return FALSE;
    }
  if (!g_error_matches (not_enrolled, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_NOT_ENROLLED))
    {
      g_propagate_error (error, g_steal_pointer (&not_enrolled));
      return FALSE;
    }
  /* Read before the code is spent: a bad CA file is refused first. */
  if (!hearth_sync_read_trust (store, options, &ca_pem, &pin, error))
    return FALSE;
  client = hearth_sync_make_client (store, center_url, options, error);
  if (client == NULL)
    return FALSE;

  secret = hearth_sync_store_enrolment_key (store, public_key, error);
  if (secret == NULL)
    return FALSE;
  device_id = hearth_case_store_get_device_id (hearth_sync_store_get_cases (store));
  enrolment = hearth_sync_request_enrolment (client, center_url, code, device_id, public_key, device_name, NULL,
                                             refusal_code, error);
  if (enrolment == NULL)
    return FALSE;
  /* A store sealed to a county key already belongs to that county: a
   * center of another county is the wrong one (or an impostor), and must
   * not become the store's center or its recovery key. */
  if (options != NULL && options->county_key != NULL)
    {
      gsize len = 0;
      g_autofree guint8 *key = enrolment->county_public_key != NULL
                                 ? g_base64_decode (enrolment->county_public_key, &len)
                                 : NULL;

      if (len != 32 || sodium_memcmp (key, options->county_key, 32) != 0)
        {
          g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_INVALID,
                       _("this store's recovery envelope is sealed to another county key than the one the center "
                         "%s sent: is it your county's center? The store was not enrolled"),
                       center_url);
          return FALSE;
        }
    }
  enrolment->tls_ca_pem = g_steal_pointer (&ca_pem);
  enrolment->tls_pin = g_steal_pointer (&pin);
  if (!hearth_sync_store_set_enrolment (store, enrolment, secret, error) ||
      !hearth_sync_store_set_exchange (store, hearth_sync_client_get_time_offset (client), 0, error))
    return FALSE;
  if (enrolment_out != NULL)
    *enrolment_out = g_steal_pointer (&enrolment);
  return TRUE;
}

/* ---- a run --------------------------------------------------------------------- */

static gboolean
push_all (HearthSyncStore *store, HearthSyncClient *client, const HearthSyncRunOptions *o, HearthSyncRunResult *r,
          const char *device_id, GError **error)
{
  guint batch_size = o->push_batch > 0 ? MIN (o->push_batch, HEARTH_SYNC_MAX_PUSH) : HEARTH_SYNC_DEFAULT_PUSH;

  for (;;)
    {
      g_autoptr(GPtrArray) batch = hearth_sync_store_next_batch (store, batch_size, error);
      g_autoptr(GString) body = NULL;
      g_autoptr(JsonNode) reply = NULL;
      g_auto(HearthSyncPushReply) ack = { 0 };
      g_autoptr(GError) local = NULL;
      gint64 before = r->status.acked_seq;
      guint status = 0;

      if (batch == NULL)
        return FALSE;
      if (batch->len == 0)
        return TRUE;
      if (!hearth_sync_store_lease_renew (store, o->holder, HEARTH_SYNC_LEASE_MS, error))
        return FALSE;
      /* Written as text, as the tree json-glib would print (change.h):
       * the push of a thousand changes without building a thousand trees.
       * The device id is a UUID (checked below): nothing to escape. */
      if (!g_uuid_string_is_valid (device_id))
        {
          g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL,
                       _("this store's device id is not a UUID"));
          return FALSE;
        }
      body = g_string_sized_new (256 * batch->len + 64);
      g_string_append_printf (body, "{\"device_id\":\"%s\",\"changes\":[", device_id);
      for (guint i = 0; i < batch->len; i++)
        {
          if (i > 0)
            g_string_append_c (body, ',');
          hearth_change_append_json (batch->pdata[i], FALSE, body);
        }
      g_string_append (body, "]}");

      reply = hearth_sync_client_call_text (client, "POST", "/v1/push", body->str, body->len, TRUE, &status, &local);
      if (reply == NULL && batch->len > 1 && g_error_matches (local, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL) &&
          (status == 413 || g_strcmp0 (hearth_sync_client_get_error_code (client), "too-many") == 0 ||
           g_strcmp0 (hearth_sync_client_get_error_code (client), "too-large") == 0))
        {
          /* Refused whole, nothing stored: a center of before 2,000
           * changes a push (500, PROTOCOL.md section 2), changes whose
           * values pass 8 MiB together, or a push larger than a proxy
           * before the center lets through (its own 413, a web page).
           * The same changes again, half as many at a time. */
          batch_size = batch->len / 2;
          continue;
        }
      if (reply == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (!hearth_sync_read_push_reply (reply, ((HearthChange *) batch->pdata[0])->seq,
                                        ((HearthChange *) batch->pdata[batch->len - 1])->seq, &ack, error))
        return FALSE;
      {
        g_auto(GStrv) features = hearth_sync_reply_features (reply);

        if (!hearth_sync_store_set_features (store, (const char *const *) features, error))
          return FALSE;
      }
      if (!hearth_sync_store_acknowledge (store, ack.acked, (HearthSyncRefusal *) (gpointer) ack.refused->data,
                                          ack.refused->len, (HearthSyncClamp *) (gpointer) ack.clamped->data,
                                          ack.clamped->len, error) ||
          !hearth_sync_store_status (store, &r->status, error))
        return FALSE;
      r->pushed += MAX (0, r->status.acked_seq - before);
      r->refused += ack.refused->len;
      if (r->status.acked_seq <= before)
        {
          /* The center acknowledged nothing new: asking again would loop. */
          g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL,
                       _("the center acknowledged none of the changes from number %lld"),
                       (long long) ((HearthChange *) batch->pdata[0])->seq);
          return FALSE;
        }
    }
}

/* The next page, fetched and read on a thread of its own while the store
 * applies the one before: the center reads a page while the device writes
 * one, and the device's reading of the JSON (parsing it, making the
 * changes, freeing the tree) is off the thread that applies. The client
 * is used by that thread alone until it is joined. */
typedef struct {
  HearthSyncClient *client;
  char *path;
  gint64 cursor;              /* the cursor @path asks from */
  GPtrArray *spent;           /* (nullable) an applied page's changes, freed by the thread */
  HearthSyncPagePrep *spent_prep;   /* (nullable) and its preparation, freed before them */
  HearthSyncPullPage page;
  HearthSyncPagePrep *prep;   /* the page's, made by the thread (hearth_sync_page_prepare()) */
  guint status;               /* the reply's HTTP status, 0 for none */
  gboolean ok;
  GError *error;
  GThread *thread;
} Fetch;

/* One page: asked, and read straight into changes when it is plain
 * (hearth_sync_scan_pull_page()), else through json-glib and
 * hearth_sync_read_pull_page(), which say what is wrong with it. */
static gboolean
fetch_page (HearthSyncClient *client, const char *path, gint64 cursor, HearthSyncPullPage *page, guint *status_out,
            GError **error)
{
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonNode) reply = NULL;
  const char *data;
  guint status = 0;
  gsize len = 0;

  body = hearth_sync_client_call_body (client, "GET", path, TRUE, &status, error);
  *status_out = status;
  if (body == NULL)
    return FALSE;
  data = g_bytes_get_data (body, &len);
  if (hearth_sync_scan_pull_page (data, len, cursor, page))
    return TRUE;
  reply = hearth_sync_parse_reply (data, len, status, NULL, NULL, error);
  return reply != NULL && hearth_sync_read_pull_page (reply, cursor, page, error);
}

static gpointer
fetch_main (gpointer data)
{
  Fetch *f = data;

  f->ok = fetch_page (f->client, f->path, f->cursor, &f->page, &f->status, &f->error);
  /* What the apply needs no store for (packing the visits' forms):
   * done here, beside the thread that applies. */
  if (f->ok)
    f->prep = hearth_sync_page_prepare (f->page.changes);
  /* Off the thread that applies, which waits for this one less than
   * this one waits for the center: the apply's working memory, then the
   * changes it borrowed from. */
  g_clear_pointer (&f->spent_prep, hearth_sync_page_prep_free);
  g_clear_pointer (&f->spent, g_ptr_array_unref);
  return NULL;
}

/* @spent: (transfer full) (nullable): changes to free meanwhile;
 * @spent_prep: (transfer full) (nullable): their preparation. */
static Fetch *
fetch_start (HearthSyncClient *client, char *path, gint64 cursor, GPtrArray *spent, HearthSyncPagePrep *spent_prep)
{
  Fetch *f = g_new0 (Fetch, 1);

  f->client = client;
  f->path = path;
  f->cursor = cursor;
  f->spent = spent;
  f->spent_prep = spent_prep;
  f->thread = g_thread_new ("sync-fetch", fetch_main, f);
  return f;
}

/* Waits for @f and frees it; its page in @page and its preparation in
 * @prep, or FALSE with @error; the reply's HTTP status in @status either
 * way (0 for none). */
static gboolean
fetch_finish (Fetch *f, HearthSyncPullPage *page, HearthSyncPagePrep **prep, guint *status, GError **error)
{
  gboolean ok;

  g_thread_join (f->thread);
  ok = f->ok;
  *status = f->status;
  if (ok)
    {
      *page = f->page;
      *prep = f->prep;
    }
  else
    g_propagate_error (error, f->error);
  g_free (f->path);
  g_free (f);
  return ok;
}

/* The target of the page from @cursor, of version 3 (PROTOCOL.md section
 * 8.2), or 2 (8.1) for a center of before it: a compacted pull asks with
 * its bound until the cursor passes it, and a fresh store (cursor 0)
 * starts one. */
static char *
page_path (guint version, gint64 cursor, gint64 compact_until, guint limit)
{
  if (cursor == 0)
    return g_strdup_printf ("/v%u/pull?cursor=0&limit=%u&compact_until=0", version, limit);
  if (compact_until > cursor)
    return g_strdup_printf ("/v%u/pull?cursor=%lld&limit=%u&compact_until=%lld", version, (long long) cursor, limit,
                            (long long) compact_until);
  return g_strdup_printf ("/v%u/pull?cursor=%lld&limit=%u", version, (long long) cursor, limit);
}

/* Whether a pull of version 3 failed as a center of before it answers
 * one: 404 with its error `not-found` (a 404 without it, a proxy's, is
 * no answer of the center's: HEARTH_SYNC_ERROR_UNREACHABLE). */
static gboolean
no_version_3 (guint status, const GError *error)
{
  return status == 404 && g_error_matches (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL);
}

/* The changes of @page, a grouped write counting as its fields (the
 * center's limit counts so, PROTOCOL.md section 8.2): the store's work. */
static guint
page_edits (const HearthSyncPullPage *page)
{
  guint n = 0;

  for (guint i = 0; i < page->changes->len; i++)
    {
      const HearthChange *c = page->changes->pdata[i];

      n += c->kind == HEARTH_CHANGE_EDITS && c->edits != NULL ? c->edits->len : 1;
    }
  return n;
}

/* Pages applied in one transaction (hearth_sync_store_begin_pages()):
 * committed after this many pages, changes or microseconds since the
 * first, whichever comes first, and at the end of the pull. A fresh
 * device's pages each touch the whole width of the edit tables (random
 * ids), so a commit a page wrote most of their pages to the WAL again, and
 * waited for an fsync, every page. The bounds keep what a killed run
 * loses small (a run killed over and over still moves on), and the
 * store's write lock from being held for long while the app may want to
 * save. */
#define HEARTH_SYNC_PULL_BATCH_PAGES 4
#define HEARTH_SYNC_PULL_BATCH_CHANGES 40000
#ifndef HEARTH_SYNC_PULL_BATCH_US   /* a measuring build may lift it (callgrind runs ~50x slower) */
#define HEARTH_SYNC_PULL_BATCH_US (G_USEC_PER_SEC * 2)
#endif

/* A fresh store's first pull (cursor 0) of full pages commits after this
 * many changes (or the time bound above), not after
 * HEARTH_SYNC_PULL_BATCH_PAGES: a village of some 75,000 field edits in
 * one commit where the machine keeps up, not three. Each commit wrote the
 * pages of the edit tables' random-keyed indexes (and the records' UUID
 * indexes) to the WAL again, to be encrypted, authenticated and
 * checkpointed once more, and waited for an fsync. A pull of smaller
 * pages (a run's pull_limit) keeps the page bound. */
#define HEARTH_SYNC_FRESH_BATCH_CHANGES 100000

/* Changes of a run's first pull page at most (pull_pages()). */
#define HEARTH_SYNC_FIRST_PULL 1000

/* The pages of one pull, through version 3 (PROTOCOL.md section 8.2; 2
 * for a center of before it): a fresh store (cursor 0) asks for a
 * compacted pull, and keeps its bound with each page until the cursor
 * passes it. While a page is applied the
 * next one is on its way; it is asked from the cursor the page will
 * store, and dropped if the page fails. Several pages share a commit:
 * what stops the pull (the network, the center, the time limit) commits
 * the pages applied before it; a page the store fails to apply rolls
 * back those since the last commit with it, and their cursor. */
static gboolean
pull_pages (HearthSyncStore *store, HearthSyncClient *client, const HearthSyncRunOptions *o, HearthSyncRunResult *r,
            gboolean *left_open, GError **error)
{
  guint limit = o->pull_limit > 0 ? MIN (o->pull_limit, HEARTH_SYNC_MAX_PULL) : HEARTH_SYNC_DEFAULT_PULL;
  Fetch *ahead = NULL;
  g_autoptr(GPtrArray) spent = NULL;   /* the page applied last, freed by the next fetch */
  /* Its preparation, with the apply's memory: freed before it. */
  g_autoptr(HearthSyncPagePrep) spent_prep = NULL;
  gboolean ok = FALSE;
  gboolean batch = FALSE;
  /* A fresh store's first pull of full pages: HEARTH_SYNC_FRESH_BATCH_CHANGES. */
  gboolean fresh = r->status.cursor == 0 && limit >= HEARTH_SYNC_DEFAULT_PULL;
  gint64 batch_started = 0;
  guint batch_changes = 0, batch_pages = 0;
  guint version = 3;   /* 2 once the center answers that it has no /v3/pull */

  for (;;)
    {
      g_auto(HearthSyncPullPage) page = { 0 };
      /* The page's: made by its fetch, else here; freed before it. */
      g_autoptr(HearthSyncPagePrep) prep = NULL;
      g_autoptr(GError) local = NULL;
      gboolean fetched;
      gint64 compact_until = 0;
      gboolean compacting;
      guint rejected = 0, n_edits, status = 0;

      if (!hearth_sync_store_lease_renew (store, o->holder, HEARTH_SYNC_LEASE_MS, error))
        goto out;
      compacting = r->status.cursor == 0 || r->status.compact_until > r->status.cursor;
      if (ahead != NULL)
        fetched = fetch_finish (g_steal_pointer (&ahead), &page, &prep, &status, &local);
      else
        {
          /* Nothing is applied while the first page is on its way: a
           * smaller one starts the store's work sooner, and the next is
           * asked for while it is applied. */
          g_autofree char *path = page_path (version, r->status.cursor, r->status.compact_until,
                                             MIN (limit, HEARTH_SYNC_FIRST_PULL));
          fetched = fetch_page (client, path, r->status.cursor, &page, &status, &local);
        }
      /* A center of before version 3 (upgraded after this tablet, which
       * docs/operations.md advises against): the same pages, the grouped
       * writes one edit a field, from version 2. The page asked is the one
       * from the cursor the store holds, as every page is. */
      if (!fetched && version == 3 && no_version_3 (status, local))
        {
          g_autofree char *path = page_path (2, r->status.cursor, r->status.compact_until,
                                             MIN (limit, HEARTH_SYNC_FIRST_PULL));

          g_debug ("sync: the center has no /v3/pull; pulling with /v2/pull");
          g_clear_error (&local);
          version = 2;
          fetched = fetch_page (client, path, r->status.cursor, &page, &status, &local);
        }
      if (!fetched)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          goto out;
        }
      /* The first page's, or a page of version 2 after a 404: here. */
      if (prep == NULL)
        prep = hearth_sync_page_prepare (page.changes);
      /* The bound is the one asked for, or the center's choice at the start. */
      if (compacting)
        {
          compact_until = page.compact_until;
          if (compact_until < 0 || (r->status.cursor > 0 && compact_until != r->status.compact_until))
            {
              g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL,
                           _("the center's reply has no valid “%s”"), "compact_until");
              goto out;
            }
        }
      /* One change this version cannot read must not stop every later
       * sync: it is counted and skipped, as the store does with a change
       * it cannot apply (PROTOCOL.md section 8). */
      for (guint i = 0; i < page.skipped->len; i++)
        g_warning ("sync: skipped a change the center sent: %s", (const char *) page.skipped->pdata[i]);
      r->rejected += page.skipped->len;
      /* Versions are bounded by the center's time as this exchange knows
       * it; read before the next page's thread starts, which writes the
       * client's offset when its reply comes. */
      hearth_sync_store_set_center_offset (store, hearth_sync_client_get_time_offset (client));
      if (page.more)
        ahead = fetch_start (client, page_path (version, page.next_cursor, compact_until, limit), page.next_cursor,
                             g_steal_pointer (&spent), g_steal_pointer (&spent_prep));
      if (!batch)
        {
          if (!hearth_sync_store_begin_pages (store, error))
            goto out;
          batch = TRUE;
          batch_started = g_get_monotonic_time ();
          batch_changes = 0;
          batch_pages = 0;
        }
      if (!hearth_sync_store_apply_prepared (store, page.changes, prep, page.next_cursor, page.more, compact_until,
                                             &rejected, error) ||
          !hearth_sync_store_status (store, &r->status, error))
        goto out;
      n_edits = page_edits (&page);
      r->pulled += n_edits;
      r->rejected += rejected;
      batch_changes += n_edits;
      /* Freeing a page of ten thousand changes is a few percent of its
       * apply: the next fetch does it. */
      g_clear_pointer (&spent_prep, hearth_sync_page_prep_free);
      g_clear_pointer (&spent, g_ptr_array_unref);
      spent_prep = g_steal_pointer (&prep);
      spent = g_steal_pointer (&page.changes);
      batch_pages++;
      if (!page.more)
        {
          ok = TRUE;
          goto out;
        }
      if ((fresh ? batch_changes >= HEARTH_SYNC_FRESH_BATCH_CHANGES
                 : batch_pages >= HEARTH_SYNC_PULL_BATCH_PAGES || batch_changes >= HEARTH_SYNC_PULL_BATCH_CHANGES) ||
          g_get_monotonic_time () - batch_started >= HEARTH_SYNC_PULL_BATCH_US)
        {
          batch = FALSE;
          if (!hearth_sync_store_commit_pages (store, error))
            goto out;
        }
      if (o->retry && g_get_monotonic_time () > o->deadline_us)
        {
          g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE,
                       _("the time limit passed while receiving; the next sync continues from here"));
          goto out;
        }
    }

out:
  /* The pages' apply left the triggers off (apply_page()): on again
   * before anything else writes, whatever stopped the pull. */
  hearth_sync_triggers_on (hearth_case_store_get_db (hearth_sync_store_get_cases (store)));
  /* A pull that ended well leaves its last pages' transaction open for
   * the end of the run (finish_run()): one commit for both. */
  if (batch && ok && left_open != NULL)
    {
      *left_open = TRUE;
      batch = FALSE;
    }
  /* The pages applied so far are kept, whatever ended the pull; when the
   * commit fails, its error is the one reported unless the pull had one. */
  if (batch)
    {
      g_autoptr(GError) local = NULL;

      if (!hearth_sync_store_commit_pages (store, &local) && ok)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          ok = FALSE;
        }
    }
  if (ahead != NULL)
    {
      g_auto(HearthSyncPullPage) dropped = { 0 };
      g_autoptr(HearthSyncPagePrep) dropped_prep = NULL;
      guint status;

      fetch_finish (ahead, &dropped, &dropped_prep, &status, NULL);
    }
  return ok;
}

/* A run writes many pages in a row (a pull): the store's WAL is not
 * checkpointed every thousand pages or so, which rewrote the same pages of
 * the database again and again (each commit stays durable in the WAL,
 * synchronous=FULL). Nor at the end of the run: copying the WAL into the
 * database file is maintenance, not sync (a fresh device's village: 4,280
 * pages, some 50 ms, a tenth of the pull), so the run only says whether it
 * is due (HearthSyncRunResult.checkpoint_due: the WAL holds as many frames
 * as SQLite's own autocheckpoint waits for) and its caller runs it once the
 * result is shown (hearth_store_checkpoint()). A run of a push and a small
 * pull leaves it to that autocheckpoint: a checkpoint after every run
 * copied the pages the app wrote since the last one (a push of 50 visits:
 * some 300, each read back and authenticated) and synced the WAL and the
 * database file, three syncs of a run's eight. While the watch is on,
 * SQLite's autocheckpoint is off (its hook is replaced); wal_watch_end()
 * puts it back. */
typedef struct {
  sqlite3 *db;
  int frames;   /* in the WAL after the run's last commit */
} WalWatch;

static int
wal_watch_hook (void *data, sqlite3 *db, const char *name, int frames)
{
  WalWatch *w = data;

  w->frames = frames;
  /* What sqlite3_wal_autocheckpoint() would do at the pull's bound. */
  if (frames >= HEARTH_SYNC_PULL_CHECKPOINT_PAGES)
    sqlite3_wal_checkpoint (db, name);
  return SQLITE_OK;
}

static void
wal_watch_begin (WalWatch *w, HearthSyncStore *store)
{
  w->db = hearth_case_store_get_db (hearth_sync_store_get_cases (store));
  w->frames = 0;
  sqlite3_wal_hook (w->db, wal_watch_hook, w);
}

/* Returns: whether the WAL is due for a checkpoint. */
static gboolean
wal_watch_end (WalWatch *w)
{
  sqlite3_wal_autocheckpoint (w->db, HEARTH_SYNC_CHECKPOINT_PAGES);
  return w->frames >= HEARTH_SYNC_CHECKPOINT_PAGES;
}

/* The pull; @left_open as pull_pages()'s. */
static gboolean
pull_all (HearthSyncStore *store, HearthSyncClient *client, const HearthSyncRunOptions *o, HearthSyncRunResult *r,
          gboolean *left_open, GError **error)
{
  sqlite3 *db = hearth_case_store_get_db (hearth_sync_store_get_cases (store));
  gboolean ok;

  /* Each page would otherwise prepare its few dozen statements again. */
  hearth_sync_cache_open (db);
  ok = pull_pages (store, client, o, r, left_open, error);
  hearth_sync_cache_close (db);
  return ok;
}

/* One try: push everything, then pull everything. *@released: whether
 * the run let @o->holder's lease go itself (with its last commit). */
static gboolean
run_once (HearthSyncStore *store, const HearthSyncRunOptions *o, HearthSyncRunResult *r, gboolean *released,
          GError **error)
{
  g_autoptr(HearthSyncEnrolment) enrolment = hearth_sync_store_get_enrolment (store, error);
  g_autoptr(HearthSyncClient) client = NULL;
  g_autoptr(HearthSecret) secret = NULL;
  const char *device_id = hearth_case_store_get_device_id (hearth_sync_store_get_cases (store));
  gint64 resent = 0;
  gboolean pages_open = FALSE;
  gboolean ok;

  if (enrolment == NULL)
    return FALSE;
  secret = hearth_sync_store_load_secret_key (store, error);
  if (secret == NULL)
    return FALSE;
  client = hearth_sync_make_client (store, enrolment->center_url, o, error);
  if (client == NULL || !hearth_sync_store_status (store, &r->status, error))
    return FALSE;
  hearth_sync_client_set_identity (client, device_id, hearth_secret_peek (secret));
  hearth_sync_client_set_time_offset (client, r->status.center_offset_ms);

  /* A center restored from a backup lost what it acknowledged since: the
   * changes are numbered again before the push (PROTOCOL.md section 12).
   * A reply of another epoch later in the run (the center was restored
   * meanwhile) is not read: the run meets the new epoch and starts again,
   * a few times at most. */
  for (guint restarts = 0;; restarts++)
    {
      g_autoptr(GError) local = NULL;

      ok = hearth_sync_exchange_epoch (store, client, &resent, &local) &&
           hearth_sync_store_status (store, &r->status, &local);
      r->resent += resent;
      ok = ok && push_all (store, client, o, r, device_id, &local) &&
           pull_all (store, client, o, r, &pages_open, &local);
      if (!ok && restarts < HEARTH_SYNC_EPOCH_RESTARTS &&
          g_error_matches (local, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_RESTORED))
        {
          g_debug ("sync: %s; meeting the center's new epoch", local->message);
          continue;
        }
      /* A center restored from a backup taken before this tablet
       * enrolled: county IT needs the user to issue the code that enrols
       * it again (PROTOCOL.md section 12). */
      if (!ok && g_strcmp0 (hearth_sync_client_get_error_code (client), "unknown-device") == 0)
        {
          GError *unknown = g_error_new (HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNKNOWN_DEVICE,
                                         _("this tablet (user %s) is unknown to the center: %s"), enrolment->user,
                                         local->message);

          g_clear_error (&local);
          local = unknown;
        }
      /* The epoch kept changing: not one restore, but centers taking
       * turns at the address (a router or DNS between two of them). */
      if (!ok && g_error_matches (local, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_RESTORED))
        {
          GError *flapping = g_error_new (HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_RESTORED,
                                          _("the center's epoch changed %u times during this run: more than one "
                                            "center may be answering at %s (one of them restored from a backup); "
                                            "tell county IT"),
                                          restarts + 1, enrolment->center_url);

          g_clear_error (&local);
          local = flapping;
        }
      if (!ok)
        g_propagate_error (error, g_steal_pointer (&local));
      break;
    }
  r->wipe = hearth_sync_client_get_wipe (client);
  r->retry_after_ms = hearth_sync_client_get_retry_after (client);
  r->clock_off = ABS (hearth_sync_client_get_time_offset (client)) > HEARTH_SYNC_CLOCK_WARNING_MS;
  if (ok)
    {
      /* A completed run ends with one commit: the pull's last pages,
       * what the exchange taught about the center's clock, when, and
       * the lease let go. The pages are kept even when the rest fails. */
      g_autoptr(GError) local = NULL;

      ok = hearth_sync_store_finish_run (store, hearth_sync_client_get_time_offset (client), store_clock (store),
                                         o->holder, &local);
      if (!hearth_sync_store_commit_pages (store, ok ? &local : NULL))
        ok = FALSE;
      *released = ok;
      if (!ok)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      return hearth_sync_store_status (store, &r->status, error);
    }
  /* What the exchange taught about the center's clock is kept even when
   * the run failed. A failed run is remembered, so a later status does
   * not say only "synced" while the center's latest never arrived. Best
   * effort: the run's own error is what this call reports. */
  hearth_sync_store_set_exchange (store, hearth_sync_client_get_time_offset (client), 0, NULL);
  hearth_sync_store_note_failed_run (store, store_clock (store), NULL);
  return FALSE;
}

gboolean
hearth_sync_run (HearthSyncStore *store, const HearthSyncRunOptions *o, HearthSyncRunResult *r, GError **error)
{
  g_autoptr(GRand) rand = g_rand_new ();

  g_return_val_if_fail (o != NULL && o->holder != NULL && r != NULL, FALSE);
  memset (r, 0, sizeof *r);

  for (;;)
    {
      g_autoptr(GError) local = NULL;
      gboolean ok;
      gint64 wait_ms, left_us;

      r->attempts++;
      if (!hearth_sync_store_lease_acquire (store, o->holder, HEARTH_SYNC_LEASE_MS, error))
        return FALSE;
      {
        WalWatch watch;
        gboolean released = FALSE;

        wal_watch_begin (&watch, store);
        ok = run_once (store, o, r, &released, &local);
        /* The lease is released between tries: waiting is not syncing. */
        if (!released)
          hearth_sync_store_lease_release (store, o->holder, NULL);
        /* Whatever the run did is durable: the caller copies the WAL
         * once it has shown the result (or a try's wait does, below). */
        r->checkpoint_due = wal_watch_end (&watch);
      }
      if (ok)
        return TRUE;   /* r->status.synced says whether more came in meanwhile */
      /* A Wi-Fi's sign-in page goes once someone signs in: tried again. */
      if (!o->retry || !(g_error_matches (local, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE) ||
                         g_error_matches (local, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_WEB_PAGE)))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      /* An overloaded center says how long to stay away (Retry-After). */
      wait_ms = MAX (hearth_sync_backoff_ms (r->attempts, rand), r->retry_after_ms);
      left_us = o->deadline_us - g_get_monotonic_time ();
      if (left_us <= 0 || g_cancellable_is_cancelled (o->cancellable))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      /* A try that pulled much before it failed: its WAL copied while
       * the run waits anyway (best effort; a busy WAL is copied later). */
      if (r->checkpoint_due)
        {
          sqlite3_wal_checkpoint_v2 (hearth_case_store_get_db (hearth_sync_store_get_cases (store)), NULL,
                                     SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
          r->checkpoint_due = FALSE;
        }
      wait_ms = MIN (wait_ms, left_us / 1000);
      g_debug ("sync: try %u failed (%s); next in %lld ms", r->attempts, local->message, (long long) wait_ms);
      /* Sleep in slices so a cancellation ends the wait promptly. */
      for (gint64 slept = 0; slept < wait_ms && !g_cancellable_is_cancelled (o->cancellable); slept += 100)
        g_usleep ((gulong) MIN (100, wait_ms - slept) * 1000);
    }
}

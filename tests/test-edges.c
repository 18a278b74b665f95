/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-edges.c: edges earlier sessions noticed (session 13's note, "Noticed,
 * left alone"), each against the real parts: hearth-center on 127.0.0.1,
 * the sync client over libcurl, hearth-cli on a real encrypted store, in
 * English and Chinese where a person reads the words.
 * - a request target or header lines too large get the center's error
 *   object (414 too-long, 431 headers-too-large); beyond the server's head
 *   buffer libmicrohttpd's own page, which the client reports by status;
 * - an enrolment's (and a push's) string members sent as another JSON type
 *   are named as such, not as missing;
 * - query values percent-escaped (by a proxy or a client library) are
 *   read with their escapes undone; a bad escape is refused naming the
 *   parameter;
 * - a web page at the center's address (a Wi-Fi's sign-in page) is said to
 *   be one, not "a reply cut short";
 * - `sync --time-limit 0` is refused, not the default;
 * - the --ca-file and --pin help says what is kept;
 * - a batch's manifest is the owner's alone (0600), as its data files;
 * - an export scope that can name no division (a county code padded with
 *   000) is refused naming it;
 * - a registry's other members' phone numbers are imported, and their own
 *   address (which the case model does not hold) said per line.
 */
#include "test-center-util.h"

#include "client.h"
#include "sign.h"

#include <curl/curl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

#define COUNTY "361102"
#define VILLAGE "361102001201"

static const char *const zh[] = { "LANGUAGE", "zh_CN", NULL };

/* ---- plain HTTP ------------------------------------------------------------------- */

typedef struct {
  long status;
  GString *body;
  GString *head;
} Raw;

static void
raw_clear (Raw *r)
{
  if (r->body != NULL)
    g_string_free (r->body, TRUE);
  if (r->head != NULL)
    g_string_free (r->head, TRUE);
  memset (r, 0, sizeof *r);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Raw, raw_clear)

static size_t
on_data (char *data, size_t size, size_t n, void *user)
{
  g_string_append_len (user, data, (gssize) (size * n));
  return size * n;
}

/* GET @target at @base with the header line @header (nullable). */
static void
raw_get (const char *base, const char *target, const char *header, Raw *out)
{
  g_autofree char *url = g_strconcat (base, target, NULL);
  struct curl_slist *list = header != NULL ? curl_slist_append (NULL, header) : NULL;
  CURL *curl = curl_easy_init ();
  CURLcode rc;

  out->body = g_string_new (NULL);
  out->head = g_string_new (NULL);
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, out->body);
  curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, on_data);
  curl_easy_setopt (curl, CURLOPT_HEADERDATA, out->head);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, list);
  rc = curl_easy_perform (curl);
  g_assert_cmpstr (curl_easy_strerror (rc), ==, curl_easy_strerror (CURLE_OK));
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &out->status);
  curl_slist_free_all (list);
  curl_easy_cleanup (curl);
  g_test_message ("GET (%zu bytes) -> %ld %.200s", strlen (target), out->status, out->body->str);
}

/* The error code of the center's error object in @r (NULL: none). */
static char *
raw_error_code (Raw *r)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *o;

  if (!json_parser_load_from_data (parser, r->body->str, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  o = json_node_get_object (json_parser_get_root (parser));
  if (!json_object_has_member (o, "error"))
    return NULL;
  return g_strdup (json_object_get_string_member (json_object_get_object_member (o, "error"), "code"));
}

/* ---- a device of the test's own (its key in memory) -------------------------------- */

typedef struct {
  char *id;
  HearthSecret *sk;
  guint8 pk[32];
  HearthSyncClient *client;
} Device;

static void
device_free (Device *d)
{
  g_free (d->id);
  hearth_secret_free (d->sk);
  hearth_sync_client_free (d->client);
  g_free (d);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Device, device_free)

static char *
enrol_body (Device *d, const char *code_json, const char *name_json)
{
  char key[sodium_base64_ENCODED_LEN (32, sodium_base64_VARIANT_ORIGINAL)];

  sodium_bin2base64 (key, sizeof key, d->pk, 32, sodium_base64_VARIANT_ORIGINAL);
  return g_strdup_printf ("{\"code\": %s, \"device_id\": \"%s\", \"public_key\": \"%s\", \"name\": %s}", code_json,
                          d->id, key, name_json);
}

static Device *
device_new (Center *c)
{
  g_autoptr(GError) error = NULL;
  Device *d = g_new0 (Device, 1);

  d->id = g_uuid_string_random ();
  d->sk = hearth_sign_keypair (d->pk);
  d->client = hearth_sync_client_new (c->base, &error);
  g_assert_no_error (error);
  hearth_sync_client_set_identity (d->client, d->id, hearth_secret_peek (d->sk));
  return d;
}

/* POST /v1/enrol with @body: the reply, or NULL with @error. */
static JsonNode *
post_enrol (Device *d, const char *body, GError **error)
{
  return hearth_sync_client_call_text (d->client, "POST", "/v1/enrol", body, strlen (body), FALSE, NULL, error);
}

static Device *
enrolled (Center *c, const char *user)
{
  g_autoptr(Device) d = device_new (c);
  g_autofree char *code = center_enrol_code (c, user);
  g_autofree char *quoted = g_strdup_printf ("\"%s\"", code);
  g_autofree char *body = enrol_body (d, quoted, "\"edge tablet\"");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = post_enrol (d, body, &error);

  g_assert_no_error (error);
  g_assert_nonnull (reply);
  return g_steal_pointer (&d);
}

static Center *
center_new (const char *name)
{
  Center *c = center_init (name, COUNTY);

  center_add_user (c, "w.a", "worker", VILLAGE);
  center_add_user (c, "c.staff", "county", COUNTY);
  return c;
}

/* ---- 1. a request's head too large ------------------------------------------------- */

static void
test_head_limits (void)
{
  g_autoptr(Center) c = center_new ("edges-head");
  g_autoptr(Device) d = NULL;
  g_autofree char *long_query = g_strnfill (20 * 1024, 'a');
  g_autofree char *long_target = g_strconcat ("/v1/epoch?x=", long_query, NULL);
  g_autofree char *huge_query = g_strnfill (200 * 1024, 'a');
  g_autofree char *huge_target = g_strconcat ("/v1/epoch?x=", huge_query, NULL);
  g_autofree char *filler = g_strnfill (30 * 1024, 'b');
  g_autofree char *filler_header = g_strconcat ("X-Filler: ", filler, NULL);

  center_start (c);
  d = enrolled (c, "w.a");

  /* Below the server's head buffer: the center's own error object, its
   * time and JSON type, as every refusal of it. */
  {
    g_auto(Raw) r = { 0 };
    g_autofree char *code = NULL;

    raw_get (c->base, long_target, NULL, &r);
    g_assert_cmpint (r.status, ==, 414);
    code = raw_error_code (&r);
    g_assert_cmpstr (code, ==, "too-long");
    g_assert_nonnull (strcasestr (r.head->str, "Content-Type: application/json"));
    g_assert_nonnull (strcasestr (r.head->str, "Hearth-Time: "));
  }
  {
    g_auto(Raw) r = { 0 };
    g_autofree char *code = NULL;

    raw_get (c->base, "/v1/epoch", filler_header, &r);
    g_assert_cmpint (r.status, ==, 431);
    code = raw_error_code (&r);
    g_assert_cmpstr (code, ==, "headers-too-large");
    g_assert_nonnull (strcasestr (r.head->str, "Content-Type: application/json"));
  }
  /* Beyond it, libmicrohttpd answers with a page of its own. */
  {
    g_auto(Raw) r = { 0 };
    g_autofree char *code = NULL;

    raw_get (c->base, huge_target, NULL, &r);
    g_assert_cmpint (r.status, ==, 414);
    code = raw_error_code (&r);
    g_assert_null (code);
  }
  /* The client: either is this side's fault (exit 70), said by status,
   * never "a proxy, or a reply cut short" (worth another try). */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) reply = hearth_sync_client_call (d->client, "GET", long_target, NULL, TRUE, NULL, &error);

    g_assert_null (reply);
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL);
    g_assert_cmpstr (hearth_sync_client_get_error_code (d->client), ==, "too-long");
    g_assert_nonnull (strstr (error->message, "414"));
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) reply = hearth_sync_client_call (d->client, "GET", huge_target, NULL, TRUE, NULL, &error);

    g_assert_null (reply);
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL);
    g_assert_nonnull (strstr (error->message, "414"));
    g_assert_nonnull (strstr (error->message, "too long"));
    g_assert_null (strstr (error->message, "cut short"));
  }
  /* … and the center answers as before. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) reply = hearth_sync_client_call (d->client, "GET", "/v1/epoch", NULL, TRUE, NULL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (reply);
  }
  center_stop (c);
}

/* ---- 2. members of another JSON type ----------------------------------------------- */

static void
test_typed_members (void)
{
  g_autoptr(Center) c = center_new ("edges-types");
  g_autoptr(Device) d = NULL;
  g_autoptr(Device) pusher = NULL;

  center_start (c);
  d = device_new (c);
  {
    g_autofree char *code = center_enrol_code (c, "w.a");
    const struct { const char *code, *name, *field, *kind; } cases[] = {
      { "123456789", "\"t\"", "code", "a number" },
      { "[\"x\"]", "\"t\"", "code", "an array" },
      { NULL, "true", "name", "true or false" },
      { NULL, "null", "name", "null" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autofree char *quoted = g_strdup_printf ("\"%s\"", code);
        g_autofree char *body = enrol_body (d, cases[i].code != NULL ? cases[i].code : quoted, cases[i].name);
        g_autofree char *said = g_strdup_printf ("“%s” must be a string (in double quotes), not %s", cases[i].field,
                                                 cases[i].kind);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) reply = post_enrol (d, body, &error);

        g_assert_null (reply);
        g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL);
        g_assert_cmpstr (hearth_sync_client_get_error_code (d->client), ==, "bad-request");
        g_assert_nonnull (strstr (error->message, said));
        g_assert_null (strstr (error->message, "missing"));
      }
    /* The code was not spent: it enrols as a string. */
    {
      g_autofree char *quoted = g_strdup_printf ("\"%s\"", code);
      g_autofree char *body = enrol_body (d, quoted, "\"t\"");
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) reply = post_enrol (d, body, &error);

      g_assert_no_error (error);
    }
  }
  /* A push's device_id as a number. */
  pusher = enrolled (c, "w.a");
  {
    const char *body = "{\"device_id\": 42, \"changes\": []}";
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) reply = hearth_sync_client_call_text (pusher->client, "POST", "/v1/push", body,
                                                              strlen (body), TRUE, NULL, &error);

    g_assert_null (reply);
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL);
    g_assert_nonnull (strstr (error->message, "“device_id” must be a string (in double quotes), not a number"));
  }
  center_stop (c);
}

/* ---- 3. percent-escaped query values ------------------------------------------------ */

/* GET @target signed by @d: the reply, or NULL with @error. */
static JsonNode *
signed_get (Device *d, const char *target, GError **error)
{
  return hearth_sync_client_call (d->client, "GET", target, NULL, TRUE, NULL, error);
}

static void
test_query_escapes (void)
{
  g_autoptr(Center) c = center_new ("edges-query");
  g_autoptr(Device) staff = NULL;

  center_start (c);
  staff = enrolled (c, "c.staff");
  /* Escaped dashes, an escaped scope, lower-case hex: read as written
   * plainly. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) reply = signed_get (staff, "/v1/export?scope=%33%36%31%31%30%32&since=2026%2D01%2d01"
                                                   "&until=2026-12-31&format=csv", &error);
    JsonObject *manifest;

    g_assert_no_error (error);
    manifest = json_object_get_object_member (json_node_get_object (reply), "manifest");
    g_assert_cmpstr (json_object_get_string_member (manifest, "scope"), ==, COUNTY);
    g_assert_cmpstr (json_object_get_string_member (manifest, "since"), ==, "2026-01-01");
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) reply = signed_get (staff, "/v2/pull?cursor=%30&limit=%31%30", &error);

    g_assert_no_error (error);
    g_assert_nonnull (reply);
  }
  /* Bad escapes, named by their parameter. */
  {
    const struct { const char *target, *said; } bad[] = {
      { "/v1/export?scope=361102&since=2026-01-0%G1&format=csv", "“since” has a “%” not followed by two hex digits" },
      { "/v1/export?scope=361102&since=2026-01-01&format=csv%", "“format” has a “%” not followed by two hex digits" },
      { "/v1/export?scope=361102%00&since=2026-01-01&format=csv", "“scope” holds a control character (byte 0)" },
      { "/v1/export?scope=361102&since=2026-01-01%0A&format=csv", "“since” holds a control character (byte 10)" },
      { "/v1/export?scope=361102&since=%FF%FE&format=csv", "“since” is not UTF-8" },
      { "/v2/pull?cursor=%3&limit=10", "“cursor” has a “%” not followed by two hex digits" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) reply = signed_get (staff, bad[i].target, &error);

        g_assert_null (reply);
        g_test_message ("%s: %s", bad[i].target, error != NULL ? error->message : "(none)");
        g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL);
        g_assert_cmpstr (hearth_sync_client_get_error_code (staff->client), ==, "bad-request");
        g_assert_nonnull (strstr (error->message, bad[i].said));
      }
  }
  /* Bounded: a value of 300 escaped bytes. */
  {
    g_autoptr(GString) target = g_string_new ("/v1/export?scope=361102&since=2026-01-01&format=");
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) reply = NULL;

    for (guint i = 0; i < 300; i++)
      g_string_append (target, "%41");
    reply = signed_get (staff, target->str, &error);
    g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL);
    g_assert_nonnull (strstr (error->message, "“format” is longer than 256 bytes"));
  }
  center_stop (c);
}

/* ---- 9. export scopes that can name no division ------------------------------------- */

static void
test_export_scope (void)
{
  g_autoptr(Center) c = center_new ("edges-scope");
  g_autoptr(Device) staff = NULL;
  g_auto(TestTablet) t = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autofree char *out = NULL;
  const char *never[] = { "361102000", "361102001000", "361102000201" };

  center_start (c);
  staff = enrolled (c, "c.staff");
  for (guint i = 0; i < G_N_ELEMENTS (never); i++)
    {
      g_autofree char *target = g_strdup_printf ("/v1/export?scope=%s&since=2026-01-01&format=csv", never[i]);
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) reply = signed_get (staff, target, &error);

      g_assert_null (reply);
      g_assert_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (error->message, never[i]));
      g_assert_nonnull (strstr (error->message, "000"));
    }
  /* hearth-cli export: refused input (1), the scope named. */
  test_tablet_enrol (&t, "edges-scope-tablet", c, "c.staff");
  out = g_build_filename (t.dir, "..", "batch", NULL);
  test_tablet_cli (&r, &t, "export", "--scope", "361102000", "--since", "2026-01-01", "--format", "csv", "--out",
                   out, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "361102000"));
  /* hearth-center export alike. */
  {
    g_autofree char *local = g_build_filename (c->dir, "batch-local", NULL);
    g_auto(TestRun) cr = { 0 };

    run_center (&cr, "--db", c->db, "export", "--scope", "361102000", "--since", "2026-01-01", "--format", "csv",
                "--out", local, NULL);
    g_assert_cmpint (cr.status, !=, 0);
    g_assert_nonnull (strstr (cr.err, "361102000"));
  }
  center_stop (c);
}

/* ---- 8. a batch's files are the owner's ------------------------------------------------ */

static void
assert_private_batch (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint files = 0;
  gboolean manifest = FALSE;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      struct stat st;

      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_test_message ("%s %o", name, st.st_mode & 0777);
      g_assert_cmpint (st.st_mode & 0777, ==, 0600);
      manifest = manifest || g_str_equal (name, "manifest.json");
      files++;
    }
  g_assert_true (manifest);
  g_assert_cmpuint (files, >, 1);
}

static void
test_batch_modes (void)
{
  g_autoptr(Center) c = center_new ("edges-modes");
  g_auto(TestTablet) t = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autofree char *remote = NULL;
  g_autofree char *local = g_build_filename (c->dir, "batch-local", NULL);
  mode_t old = umask (022);

  center_start (c);
  test_tablet_enrol (&t, "edges-modes-tablet", c, "c.staff");
  remote = g_build_filename (c->dir, "batch-remote", NULL);
  test_tablet_cli (&r, &t, "export", "--scope", COUNTY, "--since", "2026-01-01", "--format", "csv", "--out", remote,
                   NULL);
  g_assert_cmpint (r.status, ==, 0);
  assert_private_batch (remote);
  {
    g_auto(TestRun) cr = { 0 };

    run_center (&cr, "--db", c->db, "export", "--scope", COUNTY, "--since", "2026-01-01", "--format", "json",
                "--out", local, NULL);
    g_assert_cmpint (cr.status, ==, 0);
    assert_private_batch (local);
  }
  umask (old);
  center_stop (c);
}

/* ---- 4. a web page at the center's address ------------------------------------------- */

#define WEB_PAGE_EN "the center's address answered with something that is not the county center (a web page)"
#define WEB_PAGE_ZH "中心的地址回复的不是县中心，而是一个网页"

static void
test_web_page (void)
{
  g_autoptr(Center) c = center_new ("edges-web");
  g_auto(TestTablet) fresh = { 0 };
  g_auto(TestTablet) t = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autofree char *portal_url = NULL;
  TestPortal *portal;
  guint port;

  /* Enrolling through a sign-in page: the code is not spent there. */
  portal = test_portal_start (0);
  portal_url = g_strdup_printf ("http://127.0.0.1:%u", portal->port);
  test_tablet_init (&fresh, "edges-web-fresh");
  test_tablet_cli_env (&r, &fresh, NULL, "enrol", "--center", portal_url, "--code", "ABCD-EFGH-JKMN-PQRS", NULL);
  g_assert_cmpint (r.status, ==, 5);
  g_assert_nonnull (strstr (r.err, WEB_PAGE_EN));
  g_assert_null (strstr (r.err, "cut short"));
  test_tablet_cli_env (&r, &fresh, zh, "enrol", "--center", portal_url, "--code", "ABCD-EFGH-JKMN-PQRS", NULL);
  g_assert_cmpint (r.status, ==, 5);
  g_assert_nonnull (strstr (r.err, WEB_PAGE_ZH));
  test_portal_stop (portal);

  /* An enrolled tablet whose center's address now answers with the page. */
  center_start (c);
  test_tablet_enrol (&t, "edges-web-tablet", c, "w.a");
  port = (guint) g_ascii_strtoull (strrchr (c->base, ':') + 1, NULL, 10);
  center_stop (c);
  portal = test_portal_start (port);
  test_tablet_cli_env (&r, &t, NULL, "sync", NULL);
  g_assert_cmpint (r.status, ==, 5);
  g_assert_nonnull (strstr (r.err, WEB_PAGE_EN));
  g_assert_null (strstr (r.err, "cut short"));
  test_tablet_cli_env (&r, &t, zh, "sync", NULL);
  g_assert_cmpint (r.status, ==, 5);
  g_assert_nonnull (strstr (r.err, WEB_PAGE_ZH));
  test_portal_stop (portal);
}

/* ---- 5 and 7. options ------------------------------------------------------------------ */

static void
test_options (void)
{
  g_auto(TestTablet) t = { 0 };
  g_auto(TestRun) r = { 0 };

  test_tablet_init (&t, "edges-options");
  /* 0 seconds is not the default 600. */
  test_tablet_cli_env (&r, &t, NULL, "sync", "--retry", "--time-limit", "0", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--time-limit takes a number of seconds, 1 or more"));
  test_tablet_cli_env (&r, &t, NULL, "sync", "--retry", "--time-limit", "-5", NULL);
  g_assert_cmpint (r.status, ==, 2);
  test_tablet_cli_env (&r, &t, NULL, "sync", "--help", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "give up after this many seconds, 1 or more (default 600)"));
  /* What is kept, said by each command's help, in both languages. */
  g_assert_nonnull (strstr (r.out, "for this command only (the one given at enrol is kept)"));
  test_tablet_cli_env (&r, &t, NULL, "export", "--help", NULL);
  g_assert_nonnull (strstr (r.out, "for this command only (the one given at enrol is kept)"));
  test_tablet_cli_env (&r, &t, NULL, "enrol", "--help", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Trust this CA bundle for https; kept in the store for every later sync and "
                                   "export"));
  g_assert_nonnull (strstr (r.out, "(sha256//BASE64); kept in the store for every later sync and export"));
  test_tablet_cli_env (&r, &t, zh, "enrol", "--help", NULL);
  g_assert_nonnull (strstr (r.out, "保存在存储中，以后每次同步和导出都使用"));
  test_tablet_cli_env (&r, &t, zh, "sync", "--help", NULL);
  g_assert_nonnull (strstr (r.out, "仅用于本次命令（注册时提供的仍然保留）"));
  g_assert_nonnull (strstr (r.out, "至少 1 秒"));
  test_tablet_cli_env (&r, &t, zh, "sync", "--retry", "--time-limit", "0", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "至少 1 秒"));
}

/* ---- 11. a registry's other members ---------------------------------------------------- */

#define REGISTRY_HEADER "household_no,village_code,address,category,phone,name,id_number,relation\n"

static void
test_registry_members (void)
{
  g_autoptr(Center) c = center_new ("edges-registry");
  g_auto(TestTablet) t = { 0 };
  g_auto(TestRun) r = { 0 };
  g_autofree char *dir = test_make_dir ("edges-registry-file");
  g_autofree char *path = g_build_filename (dir, "registry.csv", NULL);
  g_autofree char *phone = NULL;
  const char *csv = REGISTRY_HEADER
    "H001," VILLAGE ",一组12号,1,13800000001,张三,11010519491231002X,01\n"
    "H001," VILLAGE ",县城东街5号,,13800000002,李四,360426199101010071,10\n"
    "H001," VILLAGE ",一组12号,2,,张小,440524188001010014,20\n";

  g_assert_true (g_file_set_contents (path, csv, -1, NULL));
  test_tablet_init (&t, "edges-registry-tablet");
  test_tablet_cli_env (&r, &t, NULL, "household", "import", path, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Imported 1 household with 3 members"));
  g_assert_nonnull (strstr (r.out, "Not imported: line 3: the member's own address was not imported: it differs "
                                   "from the head's (line 2)"));
  g_assert_nonnull (strstr (r.out, "Not imported: line 4: the member's own category was not imported"));
  /* Line 4's address is the head's, line 3's category none: nothing to
   * say of them; and the values themselves are not printed. */
  g_assert_null (strstr (r.out, "line 4: the member's own address"));
  g_assert_null (strstr (r.out, "line 3: the member's own category"));
  g_assert_null (strstr (r.out, "县城东街5号"));
  phone = test_tablet_text (&t, "SELECT phone FROM members WHERE name = '李四'");
  g_assert_cmpstr (phone, ==, "13800000002");
  g_clear_pointer (&phone, g_free);
  phone = test_tablet_text (&t, "SELECT phone FROM members WHERE name = '张三'");
  g_assert_cmpstr (phone, ==, "13800000001");
  g_clear_pointer (&phone, g_free);
  phone = test_tablet_text (&t, "SELECT phone FROM households");
  g_assert_cmpstr (phone, ==, "13800000001");
  g_clear_pointer (&phone, g_free);

  /* In Chinese, on a store of its own. */
  {
    g_auto(TestTablet) z = { 0 };

    test_tablet_init (&z, "edges-registry-zh");
    test_tablet_cli_env (&r, &z, zh, "household", "import", path, NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "未导入：第 3 行"));
  }

  /* The center's import alike: the phone goes to the tablets. */
  {
    g_auto(TestRun) cr = { 0 };
    g_auto(TestTablet) w = { 0 };

    run_center (&cr, "--db", c->db, "import-households", path, NULL);
    g_assert_cmpint (cr.status, ==, 0);
    g_assert_nonnull (strstr (cr.err, "not imported: line 3: the member's own address was not imported"));
    center_start (c);
    test_tablet_enrol (&w, "edges-registry-worker", c, "w.a");
    g_assert_cmpint (test_tablet_sync (&w), ==, 0);
    phone = test_tablet_text (&w, "SELECT phone FROM members WHERE name = '李四'");
    g_assert_cmpstr (phone, ==, "13800000002");
    center_stop (c);
  }
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  g_test_add_func ("/edges/head-limits", test_head_limits);
  g_test_add_func ("/edges/typed-members", test_typed_members);
  g_test_add_func ("/edges/query-escapes", test_query_escapes);
  g_test_add_func ("/edges/export-scope", test_export_scope);
  g_test_add_func ("/edges/batch-modes", test_batch_modes);
  g_test_add_func ("/edges/web-page", test_web_page);
  g_test_add_func ("/edges/options", test_options);
  g_test_add_func ("/edges/registry-members", test_registry_members);
  return g_test_run ();
}

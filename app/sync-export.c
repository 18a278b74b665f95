/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sync-export.c: a county batch from the export endpoint (sync-export.h). */
#define G_LOG_DOMAIN "hearth-sync"

#include "sync-export.h"
#include "batch.h"
#include "case-store.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

HearthSyncClient *
hearth_sync_export_client (HearthSyncStore *sync, GError **error)
{
  g_autoptr(HearthSyncEnrolment) enrolment = NULL;
  g_autoptr(HearthSecret) secret = NULL;
  g_autoptr(HearthSyncClient) client = NULL;
  HearthSyncStatus status = { 0 };

  g_return_val_if_fail (HEARTH_IS_SYNC_STORE (sync), NULL);

  enrolment = hearth_sync_store_get_enrolment (sync, error);
  if (enrolment == NULL)
    return NULL;
  secret = hearth_sync_store_load_secret_key (sync, error);
  if (secret == NULL || !hearth_sync_store_status (sync, &status, error))
    return NULL;
  client = hearth_sync_client_new (enrolment->center_url, error);
  if (client == NULL)
    return NULL;
  hearth_sync_client_set_identity (client, hearth_case_store_get_device_id (hearth_sync_store_get_cases (sync)),
                                   hearth_secret_peek (secret));
  hearth_sync_client_set_time_offset (client, status.center_offset_ms);
  hearth_sync_client_set_tls (client, NULL, enrolment->tls_pin);
  hearth_sync_client_set_ca_pem (client, enrolment->tls_ca_pem);
  return g_steal_pointer (&client);
}

/* A file name a batch may hold: a plain .csv or .json name (batch.c's). */
static gboolean
batch_file_name (const char *name)
{
  return name != NULL && name[0] != '\0' && name[0] != '.' && strchr (name, '/') == NULL &&
         strchr (name, '\\') == NULL && strlen (name) <= 64 && g_strcmp0 (name, "manifest.json") != 0 &&
         (g_str_has_suffix (name, ".csv") || g_str_has_suffix (name, ".json"));
}

static gboolean
export_protocol_error (GError **error, const char *what)
{
  g_set_error (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL, _("the center's export reply has no valid %s"),
               what);
  return FALSE;
}

/* The reply's "signature": {"key", "ed25519"}, each standard base64. */
static gboolean
read_signature (JsonObject *reply, guint8 *public_key, guint8 *signature)
{
  JsonNode *n = json_object_get_member (reply, "signature");
  JsonObject *o = n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
  const char *key = o != NULL ? json_object_get_string_member_with_default (o, "key", NULL) : NULL;
  const char *sig = o != NULL ? json_object_get_string_member_with_default (o, "ed25519", NULL) : NULL;
  g_autofree guchar *sig_bytes = NULL;
  gsize len = 0;

  if (key == NULL || sig == NULL || strlen (sig) > 128 || !hearth_batch_key_from_text (key, public_key, NULL))
    return FALSE;
  sig_bytes = g_base64_decode (sig, &len);
  if (len != HEARTH_BATCH_SIGNATURE_BYTES)
    return FALSE;
  memcpy (signature, sig_bytes, len);
  return TRUE;
}

/* Removes what write_export() wrote into @dir (the reply's files, the
 * manifest, its signature), and @dir itself when it made it: a batch
 * that does not verify (another key than --key, a file that is not what
 * the manifest says) is not left where a script would take it. */
static void
remove_export (const char *dir, JsonArray *files, gboolean made_dir)
{
  const char *own[] = { "manifest.json", HEARTH_BATCH_SIGNATURE_NAME };

  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      g_autofree char *path = g_build_filename (dir, json_object_get_string_member (
                                                       json_array_get_object_element (files, i), "name"), NULL);
      g_unlink (path);
    }
  for (guint i = 0; i < G_N_ELEMENTS (own); i++)
    {
      g_autofree char *path = g_build_filename (dir, own[i], NULL);
      g_unlink (path);
    }
  if (made_dir)
    g_rmdir (dir);
}

/* Writes the reply's files, its manifest and its signature into @dir as
 * the center's export writes them (the manifest as batch.c formats it),
 * then verifies the batch and its signature; removes them again when
 * they do not verify or cannot all be written. */
static gboolean
write_export (const char *dir, JsonObject *reply, const guint8 *batch_key, JsonObject **manifest_out,
              guint8 *signer, GError **error)
{
  gboolean made_dir;
  guint8 public_key[HEARTH_BATCH_KEY_BYTES];
  guint8 signature[HEARTH_BATCH_SIGNATURE_BYTES];
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) manifest_node = NULL;
  g_autofree char *manifest_path = NULL;
  JsonNode *m = json_object_get_member (reply, "manifest");
  JsonNode *f = json_object_get_member (reply, "files");
  const char *manifest_bytes = NULL;
  gboolean written;
  JsonArray *files;

  if (m == NULL || !JSON_NODE_HOLDS_OBJECT (m))
    return export_protocol_error (error, "“manifest”");
  if (f == NULL || !JSON_NODE_HOLDS_ARRAY (f))
    return export_protocol_error (error, "“files”");
  /* Every batch is signed (PROTOCOL.md section 9.1). */
  if (!read_signature (reply, public_key, signature))
    return export_protocol_error (error, "“signature”");
  /* manifest.json's own bytes, when the center sends them (section 9.1). */
  if (json_object_has_member (reply, "manifest_json"))
    {
      JsonNode *n = json_object_get_member (reply, "manifest_json");

      manifest_bytes = JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
                         ? json_node_get_string (n) : NULL;
      if (manifest_bytes == NULL || strlen (manifest_bytes) > HEARTH_BATCH_MAX_MANIFEST)
        return export_protocol_error (error, "“manifest_json”");
    }
  files = json_node_get_array (f);
  /* Every name checked before a byte is written: a reply names no path. */
  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      JsonNode *n = json_array_get_element (files, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      const char *name = o != NULL ? json_object_get_string_member_with_default (o, "name", NULL) : NULL;

      if (!batch_file_name (name) || !g_hash_table_add (seen, (gpointer) name) ||
          json_object_get_string_member_with_default (o, "content_base64", NULL) == NULL)
        return export_protocol_error (error, "“files”");
    }
  made_dir = !g_file_test (dir, G_FILE_TEST_EXISTS);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), _("%s: %s"), dir, g_strerror (saved));
      return FALSE;
    }
  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      JsonObject *o = json_array_get_object_element (files, i);
      g_autofree char *path = g_build_filename (dir, json_object_get_string_member (o, "name"), NULL);
      gsize len = 0;
      g_autofree guchar *data = g_base64_decode (json_object_get_string_member (o, "content_base64"), &len);

      if (!g_file_set_contents_full (path, (const char *) data, (gssize) len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                     error))
        {
          remove_export (dir, files, made_dir);
          return FALSE;
        }
    }
  manifest_path = g_build_filename (dir, "manifest.json", NULL);
  if (manifest_bytes != NULL)
    written = g_file_set_contents_full (manifest_path, manifest_bytes, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                        error);
  else
    {
      /* A center from before "manifest_json": formatted as it does. */
      manifest_node = json_node_ref (m);
      json_generator_set_root (gen, manifest_node);
      json_generator_set_pretty (gen, TRUE);
      written = hearth_batch_write_manifest (gen, manifest_path, error);
    }
  if (!written ||
      !hearth_batch_write_signature (dir, public_key, signature, error) ||
      !hearth_batch_verify_signed (dir, batch_key, signer, NULL, manifest_out, error))
    {
      remove_export (dir, files, made_dir);
      return FALSE;
    }
  return TRUE;
}

/* Whether @dir is missing or an empty folder. */
static gboolean
empty_or_missing (const char *dir)
{
  g_autoptr(GDir) d = NULL;

  if (!g_file_test (dir, G_FILE_TEST_EXISTS))
    return TRUE;
  d = g_dir_open (dir, 0, NULL);
  return d != NULL && g_dir_read_name (d) == NULL;
}

/* The query parameter values the center takes: digits and dates (the
 * target is signed as sent, never escaped). */
static gboolean
plain_value (const char *s)
{
  return s != NULL && *s != '\0' && strlen (s) <= 32 && strspn (s, "0123456789-") == strlen (s);
}

gboolean
hearth_sync_export_fetch (HearthSyncClient *client, const HearthSyncExportQuery *query, const char *dir,
                          JsonObject **manifest, guint8 *signer, GError **error)
{
  g_autoptr(GString) target = NULL;
  g_autoptr(JsonNode) reply = NULL;

  g_return_val_if_fail (client != NULL && query != NULL && dir != NULL, FALSE);

  if (!plain_value (query->scope) || strchr (query->scope, '-') != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("“%s” is not a division code (digits)"),
                   query->scope != NULL ? query->scope : "");
      return FALSE;
    }
  if (!plain_value (query->since) || (query->until != NULL && !plain_value (query->until)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("“%s” is not a date: write YYYY-MM-DD"),
                   !plain_value (query->since) ? (query->since != NULL ? query->since : "") : query->until);
      return FALSE;
    }
  if (query->after_cursor < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("the cursor to continue after must be 0 or more"));
      return FALSE;
    }
  if (g_strcmp0 (query->format, "csv") != 0 && g_strcmp0 (query->format, "json") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("the format must be csv or json, not “%s”"),
                   query->format != NULL ? query->format : "");
      return FALSE;
    }
  if (!empty_or_missing (dir))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   _("%s is not empty: a batch is written into a new or empty folder"), dir);
      return FALSE;
    }

  target = g_string_new ("/v1/export?scope=");
  g_string_append_printf (target, "%s&since=%s", query->scope, query->since);
  if (query->until != NULL)
    g_string_append_printf (target, "&until=%s", query->until);
  if (query->after_cursor > 0)
    g_string_append_printf (target, "&after_cursor=%" G_GINT64_FORMAT, query->after_cursor);
  g_string_append_printf (target, "&format=%s", query->format);
  reply = hearth_sync_client_call (client, "GET", target->str, NULL, TRUE, NULL, error);
  if (reply == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (reply))
    return export_protocol_error (error, "JSON object");
  return write_export (dir, json_node_get_object (reply), query->batch_key, manifest, signer, error);
}

static gboolean
meta_set (sqlite3 *db, const char *key, const char *value, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2 (db, "INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)", -1, &st, NULL);

  if (rc == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 2, value, -1, SQLITE_STATIC);
      rc = sqlite3_step (st);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE && rc != SQLITE_OK)
    {
      g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_SQLITE, "%s", sqlite3_errmsg (db));
      return FALSE;
    }
  return TRUE;
}

static char *
meta_get (sqlite3 *db, const char *key, GError **error)
{
  sqlite3_stmt *st = NULL;
  char *value = NULL;
  int rc = sqlite3_prepare_v2 (db, "SELECT value FROM store_meta WHERE key = ?", -1, &st, NULL);

  if (rc == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW && sqlite3_column_text (st, 0) != NULL)
        value = g_strdup ((const char *) sqlite3_column_text (st, 0));
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    g_set_error (error, HEARTH_SYNC_STORE_ERROR, HEARTH_SYNC_STORE_ERROR_SQLITE, "%s", sqlite3_errmsg (db));
  return value;
}

/* The last batch in one store_meta value, written in one statement, so
 * that its parts never disagree. */
#define LAST_EXPORT_KEY "last_export"

gboolean
hearth_sync_export_remember (HearthSyncStore *sync, JsonObject *manifest, GError **error)
{
  HearthCaseStore *cases = hearth_sync_store_get_cases (sync);
  g_autoptr(GDateTime) now = g_date_time_new_from_unix_local (hearth_case_store_now_ms (cases) / 1000);
  g_autofree char *at = g_date_time_format_iso8601 (now);
  g_autofree char *value = g_strdup_printf (
    "%s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %s", json_object_get_string_member_with_default (manifest, "scope", "-"),
    json_object_get_int_member_with_default (manifest, "cursor_from", 0),
    json_object_get_int_member_with_default (manifest, "cursor_to", 0), at);

  return meta_set (hearth_case_store_get_db (cases), LAST_EXPORT_KEY, value, error);
}

void
hearth_sync_export_last_free (HearthSyncExportLast *last)
{
  if (last == NULL)
    return;
  g_free (last->scope);
  g_free (last->at);
  g_free (last);
}

HearthSyncExportLast *
hearth_sync_export_last (HearthSyncStore *sync, GError **error)
{
  GError *local = NULL;
  g_autofree char *value = meta_get (hearth_case_store_get_db (hearth_sync_store_get_cases (sync)), LAST_EXPORT_KEY,
                                     &local);
  g_auto(GStrv) parts = NULL;
  HearthSyncExportLast *last;

  if (local != NULL)
    {
      g_propagate_error (error, local);
      return NULL;
    }
  if (value == NULL)
    return NULL;
  parts = g_strsplit (value, " ", 4);
  if (g_strv_length (parts) != 4)
    return NULL;
  last = g_new0 (HearthSyncExportLast, 1);
  last->scope = g_strdup (parts[0]);
  last->cursor_from = g_ascii_strtoll (parts[1], NULL, 10);
  last->cursor_to = g_ascii_strtoll (parts[2], NULL, 10);
  last->at = g_strdup (parts[3]);
  return last;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-push-target.c: the push body fuzz target (fuzz-targets.h), apart
 * from fuzz-targets.c because it needs the center's library. */
#include "fuzz-targets.h"

#include "center-push-parse.h"
#include "center-sync.h"
#include "change.h"
#include "json-depth.h"

#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#define fuzz_check(expr) \
  G_STMT_START { \
    if (G_LIKELY (expr)) ; \
    else \
      fuzz_fail (__FILE__, __LINE__, #expr); \
  } G_STMT_END

G_GNUC_NORETURN static void
fuzz_fail (const char *file, int line, const char *expr)
{
  fprintf (stderr, "%s:%d: fuzz invariant broken: %s\n", file, line, expr);
  fflush (stderr);
  abort ();
}

/* A change that was read must write back to JSON that reads as the same. */
static void
check_round_trip (const HearthChange *change)
{
  g_autoptr(JsonNode) node = hearth_change_to_json (change);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthChange) again = hearth_change_from_json (node, "again", &error);

  fuzz_check (again != NULL && error == NULL);
  fuzz_check (hearth_change_equal (change, again));
  fuzz_check (again->seq == change->seq);
}

/* The one-pass reader takes a body only as the tree reader reads it. */
static void
check_fast_reader (const char *data, gsize size)
{
  g_autoptr(HearthPushBatch) fast = NULL;
  g_autoptr(HearthPushBatch) tree = NULL;

  if (!g_utf8_validate (data, (gssize) size, NULL) || (fast = hearth_center_parse_push_fast (data, size)) == NULL)
    return;
  tree = hearth_center_parse_push_tree (data, size, NULL, NULL);
  fuzz_check (tree != NULL);
  fuzz_check (g_strcmp0 (fast->device_id, tree->device_id) == 0);
  fuzz_check (fast->items->len == tree->items->len);
  for (guint i = 0; i < fast->items->len; i++)
    {
      HearthPushItem *f = fast->items->pdata[i];
      HearthPushItem *t = tree->items->pdata[i];
      g_autoptr(GString) ftext = g_string_new (NULL);
      g_autoptr(GString) ttext = g_string_new (NULL);

      fuzz_check (f->seq == t->seq && f->change != NULL && t->change != NULL && t->refusal == NULL);
      /* An edit's or a write's version comes parsed by the reader's check
       * (the center does not parse it again), as hearth_hlc_parse() reads
       * it. */
      if (f->change->kind == HEARTH_CHANGE_EDIT || f->change->kind == HEARTH_CHANGE_EDITS)
        {
          HearthHlc version;

          fuzz_check (f->version_parsed == 1 && hearth_hlc_parse (f->change->hlc, &version, NULL));
          fuzz_check (hearth_hlc_compare (&f->version, &version) == 0 &&
                      strcmp (f->version.device, version.device) == 0);
        }
      else
        fuzz_check (f->version_parsed == 0);
      hearth_change_append_json (f->change, FALSE, ftext);
      hearth_change_append_json (t->change, FALSE, ttext);
      fuzz_check (g_string_equal (ftext, ttext));
    }
}

void
hearth_fuzz_push_body (const guint8 *data, gsize size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *field = NULL;
  g_autoptr(HearthPushBatch) batch = hearth_center_parse_push ((const char *) data, size, &field, &error);

  /* The push's UTF-8 check answers as GLib's (center-push-parse.h). */
  fuzz_check (hearth_center_push_text_is_utf8 ((const char *) data, size) ==
              g_utf8_validate_len ((const char *) data, size, NULL));
  check_fast_reader ((const char *) data, size);
  if (batch == NULL)
    {
      fuzz_check (error != NULL && error->domain == HEARTH_CENTER_ERROR);
      fuzz_check (error->code == HEARTH_CENTER_ERROR_BAD_JSON || error->code == HEARTH_CENTER_ERROR_TOO_DEEP ||
                  error->code == HEARTH_CENTER_ERROR_TOO_MANY || error->code == HEARTH_CENTER_ERROR_BAD_CHANGE ||
                  error->code == HEARTH_CENTER_ERROR_BAD_REQUEST || error->code == HEARTH_CENTER_ERROR_TOO_LARGE);
      fuzz_check (error->message[0] != '\0' && g_utf8_validate (error->message, -1, NULL));
      fuzz_check (field == NULL || g_utf8_validate (field, -1, NULL));
      return;
    }
  fuzz_check (error == NULL);
  /* Accepted, so json-glib parsed it: it must not nest past the limit. */
  fuzz_check (hearth_json_check_depth ((const char *) data, size, HEARTH_JSON_MAX_DEPTH, NULL, NULL));
  fuzz_check (g_uuid_string_is_valid (batch->device_id));
  fuzz_check (batch->items->len <= HEARTH_CENTER_MAX_CHANGES);
  for (guint i = 0; i < batch->items->len; i++)
    {
      HearthPushItem *item = batch->items->pdata[i];
      HearthPushItem *first = batch->items->pdata[0];

      fuzz_check (item->seq == first->seq + i);
      fuzz_check (item->seq >= 1 && item->seq <= HEARTH_CENTER_MAX_SEQ);
      fuzz_check ((item->change == NULL) != (item->refusal == NULL));
      if (item->change != NULL)
        {
          g_autoptr(GString) text = g_string_new (NULL);
          g_autoptr(GString) kept = g_string_new (NULL);
          char hex[HEARTH_CENTER_DIGEST_LEN + 1];

          fuzz_check (item->change->seq == item->seq);
          check_round_trip (item->change);
          /* The digest is of the change as the center writes it, whether
           * the reader took a record's fields from the body or wrote them
           * again (hearth_scan_change_fields()); for BLAKE2b's digest of
           * before 0026, the body's pieces are kept, or that digest made. */
          hearth_change_append_json (item->change, TRUE, text);
          hearth_center_change_digest (text->str, text->len, hex);
          fuzz_check (strcmp (hex, item->digest) == 0);
          fuzz_check (item->fields_text == NULL && (item->n_digest_text == 0 || item->n_digest_text == 3));
          if (item->n_digest_text == 3)
            {
              for (guint k = 0; k < item->n_digest_text; k++)
                g_string_append_len (kept, item->digest_text[k], (gssize) item->digest_len[k]);
              fuzz_check (g_string_equal (kept, text));
            }
          else
            {
              guint8 digest[32];
              char before[65];

              crypto_generichash (digest, sizeof digest, (const guint8 *) text->str, text->len, NULL, 0);
              sodium_bin2hex (before, sizeof before, digest, sizeof digest);
              fuzz_check (strcmp (before, item->digest_before) == 0);
            }
        }
      else
        fuzz_check (item->refusal[0] != '\0' && g_utf8_validate (item->refusal, -1, NULL));
      /* A record's fields as the store keeps them (0019-packed-fields.sql)
       * read back as the text the center writes of them. */
      if (item->fields != NULL)
        {
          g_autoptr(GString) want = g_string_new (NULL);
          g_autofree char *text = NULL;
          gsize len;
          const char *packed = g_bytes_get_data (item->fields, &len);

          fuzz_check (item->change != NULL && item->change->kind == HEARTH_CHANGE_RECORD);
          hearth_change_append_fields_json (item->change, want);
          text = len > 0 && packed[0] == '{' ? g_strndup (packed, len)
                                             : hearth_center_fields_unpack ((const guint8 *) packed, len, NULL);
          fuzz_check (text != NULL && strcmp (text, want->str) == 0);
        }
    }
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fields-dict: makes the center's dictionary for packed fields, format 2
 * (schema/center/fields-dict-2.json, sync/center-store.c), from the
 * bundled visit form's generated submissions.
 *
 *   fields-dict FORMS_DIR OUT
 *
 * It fills a fresh device store through the demo generator (a fixed seed:
 * the registry, visits filled through the form session and recorded as
 * a worker's tablet records them, app/demo-generate.h), takes the fields
 * of the records a push of it carries, as the center receives and stores
 * them (hearth_change_append_fields_json()), and writes the commonest
 * submissions and audit entries, their variable parts blanked: what the
 * clock or the random source gave (ids, hashes, times), and so every
 * digit, is written as '0', so that the same program always writes the
 * same bytes (the test fields-dict checks that the file in the tree is
 * this program's output). The dictionary never changes once a center has
 * stored fields with it: another would be another format byte.
 */
#include "bench-util.h"
#include "case-store.h"
#include "change.h"
#include "demo-generate.h"
#include "store-secret.h"
#include "store.h"
#include "sync-store.h"

#include <string.h>

#define SEED 20261202
#define HOUSEHOLDS 40
#define VISITS 120
/* How many of each kind, commonest first; a submission last, nearest
 * (LZ4 finds matches in the dictionary's last 64 KiB, cheaper near its
 * end). */
#define AUDIT_ENTRIES 2
#define SUBMISSIONS 3

static gboolean
is_hex (char c)
{
  return g_ascii_isxdigit (c) || c == '-';
}

/* Runs of hex digits and dashes holding a digit, 8 long or more (ids,
 * hashes, dates) as zeros (dashes kept), then every other digit. */
static char *
blank (const char *text)
{
  char *out = g_strdup (text);
  gsize n = strlen (out);

  for (gsize i = 0; i < n;)
    {
      gsize j = i;
      gboolean digit = FALSE;

      if (!is_hex (out[i]))
        {
          i++;
          continue;
        }
      while (j < n && is_hex (out[j]))
        digit |= g_ascii_isdigit (out[j++]);
      if (digit && j - i >= 8)
        for (gsize k = i; k < j; k++)
          if (out[k] != '-')
            out[k] = '0';
      i = j;
    }
  for (gsize i = 0; i < n; i++)
    if (g_ascii_isdigit (out[i]))
      out[i] = '0';
  return out;
}

typedef struct {
  const char *text;
  guint count;
} Seen;

static int
by_count (gconstpointer a, gconstpointer b)
{
  const Seen *x = *(Seen *const *) a, *y = *(Seen *const *) b;

  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  return strcmp (x->text, y->text);
}

/* The @n commonest of @counts, commonest first. */
static GPtrArray *
commonest (GHashTable *counts, guint n)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *top = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, counts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Seen *s = g_new (Seen, 1);

      s->text = key;
      s->count = GPOINTER_TO_UINT (value);
      g_ptr_array_add (all, s);
    }
  g_ptr_array_sort (all, by_count);
  for (guint i = 0; i < all->len && i < n; i++)
    g_ptr_array_add (top, (gpointer) ((Seen *) all->pdata[i])->text);
  return top;
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(HearthSecret) pass = NULL;
  g_autoptr(HearthStore) store = NULL;
  g_autoptr(HearthCaseStore) cases = NULL;
  g_autoptr(HearthSyncStore) sync = NULL;
  g_autoptr(GPtrArray) batch = NULL;
  g_autoptr(GHashTable) submissions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) audit = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) top_audit = NULL;
  g_autoptr(GPtrArray) top_submissions = NULL;
  g_autoptr(GString) dict = g_string_new (NULL);
  g_autoptr(GString) text = g_string_new (NULL);
  HearthDemoFillOptions fill = { 0 };

  if (argc != 3)
    {
      g_printerr ("usage: %s FORMS_DIR OUT\n", argv[0]);
      return 2;
    }
  dir = g_dir_make_tmp ("hearth-fields-dict-XXXXXX", &error);
  if (dir == NULL)
    g_error ("%s", error->message);
  pass = hearth_secret_new_from_data ("fields-dict", 11);
  fill.households = HOUSEHOLDS;
  fill.visits = VISITS;
  fill.seed = SEED;
  fill.forms_dir = argv[1];
  fill.worker_only = TRUE;
  fill.larger_households = TRUE;
  if (!hearth_store_create (dir, pass, HEARTH_KDF_TEST, NULL, &error) ||
      (store = hearth_store_open (dir, pass, &error)) == NULL || !hearth_demo_fill_store (store, &fill, NULL, &error) ||
      (cases = hearth_case_store_new (store, "fields-dict", &error)) == NULL)
    g_error ("%s", error->message);
  sync = hearth_sync_store_new (cases);
  batch = hearth_sync_store_next_batch (sync, G_MAXUINT, &error);
  if (batch == NULL)
    g_error ("%s", error->message);
  for (guint i = 0; i < batch->len; i++)
    {
      const HearthChange *c = batch->pdata[i];
      GHashTable *counts;
      char *blanked;

      if (c->kind != HEARTH_CHANGE_RECORD)
        continue;
      counts = g_strcmp0 (c->table, "submissions") == 0 ? submissions : g_strcmp0 (c->table, "audit") == 0 ? audit : NULL;
      if (counts == NULL)
        continue;
      g_string_truncate (text, 0);
      hearth_change_append_fields_json (c, text);
      blanked = blank (text->str);
      g_hash_table_insert (counts, blanked, GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, blanked)) + 1));
    }
  if (g_hash_table_size (submissions) == 0 || g_hash_table_size (audit) == 0)
    g_error ("the generated store holds no submissions or no audit entries");
  top_audit = commonest (audit, AUDIT_ENTRIES);
  top_submissions = commonest (submissions, SUBMISSIONS);
  /* The commonest last. */
  for (guint i = top_audit->len; i-- > 0;)
    g_string_append (dict, top_audit->pdata[i]);
  for (guint i = top_submissions->len; i-- > 0;)
    g_string_append (dict, top_submissions->pdata[i]);
  g_clear_object (&sync);
  g_clear_object (&cases);
  g_clear_object (&store);
  bench_remove_tree (dir);
  if (!g_file_set_contents (argv[2], dict->str, (gssize) dict->len, &error))
    g_error ("%s", error->message);
  g_print ("%s: %" G_GSIZE_FORMAT " bytes (%u of %u distinct submissions, %u of %u audit entries)\n", argv[2],
           dict->len, top_submissions->len, g_hash_table_size (submissions), top_audit->len,
           g_hash_table_size (audit));
  return 0;
}

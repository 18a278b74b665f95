/* SPDX-License-Identifier: GPL-3.0-or-later */
/* merge.c: the merge rules of PROTOCOL.md section 6.3 (merge.h). */

#include "merge.h"

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

G_DEFINE_QUARK (hearth-merge-error-quark, hearth_merge_error)

static gboolean
valid_hlc (const char *text, GError **error)
{
  HearthHlc parsed;
  g_autoptr(GError) local = NULL;

  if (text != NULL && hearth_hlc_parse (text, &parsed, &local))
    return TRUE;
  g_set_error (error, HEARTH_MERGE_ERROR, HEARTH_MERGE_ERROR_INVALID, _("“%s” is not a version: %s"),
               text != NULL ? text : "", local != NULL ? local->message : _("missing"));
  return FALSE;
}

static gboolean
same_edit (const HearthFieldEdit *a, const HearthFieldEdit *b)
{
  if (g_strcmp0 (a->value, b->value) != 0 || a->n_parents != b->n_parents)
    return FALSE;
  /* Parents are a set: compare regardless of order. */
  for (guint i = 0; i < a->n_parents; i++)
    {
      gboolean found = FALSE;
      for (guint j = 0; j < b->n_parents && !found; j++)
        found = strcmp (a->parents[i], b->parents[j]) == 0;
      if (!found)
        return FALSE;
    }
  return TRUE;
}

/* The HLC text form sorts as the clock compares (hlc.h), so strcmp orders
 * versions once they are known to be valid. Newest first. */
static int
newest_first (gconstpointer a, gconstpointer b)
{
  const HearthFieldEdit *x = *(const HearthFieldEdit *const *) a;
  const HearthFieldEdit *y = *(const HearthFieldEdit *const *) b;

  return strcmp (y->hlc, x->hlc);
}

gboolean
hearth_merge_field (const HearthFieldEdit *edits, guint n_edits, HearthFieldMerge *out, GError **error)
{
  g_autoptr(GHashTable) by_hlc = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) superseded = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) heads = g_ptr_array_new ();

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (edits != NULL || n_edits == 0, FALSE);

  /* One edit, a field's first (most sets a pull merges): it is the only
   * head, or superseded only by naming itself, where the newest edit is
   * taken below: it wins either way and nothing conflicts. The same
   * checks in the same order, without the tables. */
  if (n_edits == 1)
    {
      if (!valid_hlc (edits[0].hlc, error))
        return FALSE;
      for (guint p = 0; p < edits[0].n_parents; p++)
        if (!valid_hlc (edits[0].parents[p], error))
          return FALSE;
      out->winner = &edits[0];
      out->losers = g_ptr_array_new ();
      return TRUE;
    }

  for (guint i = 0; i < n_edits; i++)
    {
      const HearthFieldEdit *e = &edits[i];
      const HearthFieldEdit *known;

      if (!valid_hlc (e->hlc, error))
        return FALSE;
      for (guint p = 0; p < e->n_parents; p++)
        {
          if (!valid_hlc (e->parents[p], error))
            return FALSE;
          g_hash_table_add (superseded, (gpointer) e->parents[p]);
        }
      known = g_hash_table_lookup (by_hlc, e->hlc);
      if (known == NULL)
        g_hash_table_insert (by_hlc, (gpointer) e->hlc, (gpointer) e);
      else if (!same_edit (known, e))
        {
          g_set_error (error, HEARTH_MERGE_ERROR, HEARTH_MERGE_ERROR_DIVERGED,
                       _("two different edits carry the version %s"), e->hlc);
          return FALSE;
        }
    }

  {
    GHashTableIter iter;
    gpointer key, value;

    g_hash_table_iter_init (&iter, by_hlc);
    while (g_hash_table_iter_next (&iter, &key, &value))
      if (!g_hash_table_contains (superseded, key))
        g_ptr_array_add (heads, value);
  }
  g_ptr_array_sort (heads, newest_first);

  out->winner = NULL;
  out->losers = g_ptr_array_new ();
  if (heads->len == 0 && n_edits > 0)
    {
      /* Only a cycle of parents supersedes every edit, which no clock can
       * make; fall back to the newest edit so the value is still defined. */
      for (guint i = 0; i < n_edits; i++)
        if (out->winner == NULL || strcmp (edits[i].hlc, out->winner->hlc) > 0)
          out->winner = &edits[i];
      return TRUE;
    }
  if (heads->len == 0)
    return TRUE;
  out->winner = heads->pdata[0];
  /* Two offline edits that wrote the same value agree: nothing for the
   * clerk to decide. */
  for (guint i = 1; i < heads->len; i++)
    if (g_strcmp0 (((HearthFieldEdit *) heads->pdata[i])->value, out->winner->value) != 0)
      g_ptr_array_add (out->losers, heads->pdata[i]);
  return TRUE;
}

gboolean
hearth_merge_is_counter (const char *table, const char *field)
{
  return g_strcmp0 (table, "households") == 0 && g_strcmp0 (field, "entity_version") == 0;
}

/* A counter's value as a number; FALSE for one that is not a whole number. */
static gboolean
counter_value (const char *value, gint64 *out)
{
  return value != NULL && g_ascii_string_to_signed (value, 10, G_MININT64, G_MAXINT64, out, NULL);
}

gboolean
hearth_merge_field_of (const char *table, const char *field, const HearthFieldEdit *edits, guint n_edits,
                       HearthFieldMerge *out, GError **error)
{
  const HearthFieldEdit *best = NULL;
  gint64 best_value = 0;
  gboolean best_number = FALSE;

  if (!hearth_merge_field (edits, n_edits, out, error))
    return FALSE;
  if (!hearth_merge_is_counter (table, field) || out->winner == NULL)
    return TRUE;
  /* The heads that count are the winner and the losers: the others agree
   * with the winner, whose version is the newest of all. */
  for (guint i = 0; i <= out->losers->len; i++)
    {
      const HearthFieldEdit *e = i == 0 ? out->winner : out->losers->pdata[i - 1];
      gint64 v = 0;
      gboolean number = counter_value (e->value, &v);

      if (best == NULL || (number && !best_number) || (number == best_number && number && v > best_value) ||
          (number == best_number && (!number || v == best_value) && strcmp (e->hlc, best->hlc) > 0))
        {
          best = e;
          best_value = v;
          best_number = number;
        }
    }
  out->winner = best;
  g_ptr_array_set_size (out->losers, 0);
  return TRUE;
}

char *
hearth_merge_conflict_id (const char *table, const char *record_id, const char *field, const char *winner_hlc,
                          const char *loser_hlc)
{
  const char *parts[] = { "hearth conflict v1", table, record_id, field, winner_hlc, loser_hlc };
  crypto_generichash_state st;
  guint8 digest[32];
  char hex[33];

  crypto_generichash_init (&st, NULL, 0, sizeof digest);
  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      if (i > 0)
        crypto_generichash_update (&st, (const guint8 *) "\n", 1);
      crypto_generichash_update (&st, (const guint8 *) parts[i], strlen (parts[i]));
    }
  crypto_generichash_final (&st, digest, sizeof digest);
  sodium_bin2hex (hex, sizeof hex, digest, 16);
  return g_strdup_printf ("%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

gboolean
hearth_merge_clamp (const HearthHlc *hlc, gint64 center_now_ms, gint64 max_ahead_ms, const HearthHlc *floor,
                    HearthHlc *out)
{
  g_return_val_if_fail (hlc != NULL && out != NULL, FALSE);

  *out = *hlc;
  if (hlc->wall_ms <= center_now_ms + max_ahead_ms)
    return FALSE;
  out->wall_ms = center_now_ms;
  if (floor != NULL && hearth_hlc_compare (out, floor) <= 0)
    {
      /* Keep the device's clamped edits in their order and distinct. */
      out->wall_ms = floor->wall_ms;
      out->counter = floor->counter + 1;
      if (floor->counter == G_MAXUINT32)
        {
          out->wall_ms = floor->wall_ms + 1;
          out->counter = 0;
        }
    }
  return TRUE;
}

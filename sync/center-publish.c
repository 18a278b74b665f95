/* SPDX-License-Identifier: GPL-3.0-or-later */
/* center-publish.c: the center's own changes (center-publish.h). */
#define G_LOG_DOMAIN "hearth-center"

#include "center-publish.h"
#include "record-id.h"
#include "case-registry.h"
#include "case-search.h"
#include "csv.h"
#include "form-model.h"
#include "form-session.h"
#include "hlc.h"
#include "store-file.h"

#include <glib/gi18n-lib.h>
#include <libxml/parser.h>
#include <sodium.h>
#include <string.h>

G_DEFINE_QUARK (hearth-center-publish-error-quark, hearth_center_publish_error)

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

char *
hearth_center_published_id (const char *table, const char *key, const char *version)
{
  const char *parts[] = { "hearth published v1", table, key != NULL ? key : "", version };
  crypto_generichash_state st;
  guint8 digest[32];
  char hex[33];

  g_return_val_if_fail (table != NULL && version != NULL, NULL);

  crypto_generichash_init (&st, NULL, 0, sizeof digest);
  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      if (i > 0)
        crypto_generichash_update (&st, (const guint8 *) "\n", 1);
      crypto_generichash_update (&st, (const guint8 *) parts[i], strlen (parts[i]));
    }
  crypto_generichash_final (&st, digest, sizeof digest);
  /* RFC 9562: version 8 (custom), variant 10. */
  digest[6] = (digest[6] & 0x0f) | 0x80;
  digest[8] = (digest[8] & 0x3f) | 0x80;
  sodium_bin2hex (hex, sizeof hex, digest, 16);
  return g_strdup_printf ("%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* ---- the center's own changes ------------------------------------------------------ */

/* The numbering of the center's changes within one transaction. */
typedef struct {
  HearthCenterTxn *txn;
  HearthHlcClock *clock;
  gint64 seq;
  char *last_hlc;
  gint64 now;
  char *wall;
} Own;

static void
own_clear (Own *o)
{
  g_clear_pointer (&o->clock, hearth_hlc_clock_free);
  g_clear_pointer (&o->last_hlc, g_free);
  g_clear_pointer (&o->wall, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Own, own_clear)

static gboolean
own_begin (Own *o, HearthCenterTxn *txn, GError **error)
{
  g_autoptr(GDateTime) t = NULL;

  o->txn = txn;
  o->now = now_ms ();
  t = g_date_time_new_from_unix_utc (o->now / 1000);
  o->wall = g_date_time_format_iso8601 (t);
  if (!hearth_center_txn_get_own (txn, &o->seq, &o->last_hlc, error))
    return FALSE;
  o->clock = hearth_hlc_clock_new (HEARTH_CENTER_OWN_DEVICE, o->last_hlc, error);
  return o->clock != NULL;
}

/* Stores @c as the center's next change: an edit gets the next version. */
static gboolean
own_add (Own *o, HearthChange *c, GError **error)
{
  if (c->kind == HEARTH_CHANGE_EDIT)
    {
      HearthHlc hlc;

      hearth_hlc_clock_now (o->clock, &hlc);
      g_free (c->hlc);
      c->hlc = hearth_hlc_to_string (&hlc);
      g_free (o->last_hlc);
      o->last_hlc = g_strdup (c->hlc);
      g_free (c->wall);
      c->wall = g_strdup (o->wall);
    }
  o->seq++;
  c->cursor = hearth_center_txn_add_change (o->txn, HEARTH_CENTER_OWN_DEVICE, o->seq, c, NULL, NULL, o->now, error);
  return c->cursor > 0;
}

static gboolean
own_end (Own *o, GError **error)
{
  return hearth_center_txn_set_own (o->txn, o->seq, o->last_hlc, error);
}

/* ---- the registry ------------------------------------------------------------------ */

static gboolean
center_taken (HearthRegistryKey key, const char *value, gboolean *taken, gpointer data, GError **error)
{
  HearthCenterTxn *txn = data;
  g_autoptr(GError) local = NULL;
  g_autofree char *found = NULL;

  found = key == HEARTH_REGISTRY_HOUSEHOLD_NO
            ? hearth_center_txn_find_by_value (txn, "households", "registry_no", value, &local)
            : hearth_center_txn_find_by_value (txn, "members", "id_number", value, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  *taken = found != NULL;
  return TRUE;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* One new record: an edit of each of its fields (by name), without
 * parents; each is its field's only edit, so it is its merged state. */
static gboolean
add_record (Own *o, const char *table, const char *id, const char *household, const char *village,
            GHashTable *fields, GError **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GPtrArray) no_losers = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, fields);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, key);
  g_ptr_array_sort (names, compare_strings);
  /* The registry's reader names the fields; one the table lacks would be
   * served to every tablet of the village, which would refuse it. */
  for (guint i = 0; i < names->len; i++)
    if (!hearth_change_is_field (table, names->pdata[i]))
      {
        g_set_error (error, HEARTH_CENTER_PUBLISH_ERROR, HEARTH_CENTER_PUBLISH_ERROR_INVALID,
                     _("%s has no field “%s”: the import of %s record %s is refused"), table,
                     (const char *) names->pdata[i], table, id);
        return FALSE;
      }
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr(HearthChange) c = hearth_change_new (HEARTH_CHANGE_EDIT);
      g_autoptr(GPtrArray) heads = g_ptr_array_new ();

      c->table = g_strdup (table);
      c->id = g_strdup (id);
      c->household = g_strdup (household);
      c->village = g_strdup (village);
      c->field = g_strdup (names->pdata[i]);
      c->value = g_strdup (g_hash_table_lookup (fields, names->pdata[i]));
      g_ptr_array_add (heads, c);
      if (!own_add (o, c, error) || !hearth_center_txn_set_field_state (o->txn, c, no_losers, heads, FALSE, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
hearth_center_import_registry (HearthCenterStore *store, const char *path, guint *n_households, guint *n_members,
                               GPtrArray **problems, GPtrArray **notices, GError **error)
{
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_autoptr(HearthRegistry) registry = NULL;
  g_auto(HearthCenterCounty) county = { 0 };
  g_auto(Own) own = { 0 };
  guint people = 0, n;

  g_return_val_if_fail (HEARTH_IS_CENTER_STORE (store) && path != NULL, FALSE);

  if (n_households != NULL)
    *n_households = 0;
  if (n_members != NULL)
    *n_members = 0;
  if (problems != NULL)
    *problems = NULL;
  if (notices != NULL)
    *notices = NULL;
  /* One write transaction from the checks to the last edit: what the
   * checks saw cannot change before the import is stored. */
  txn = hearth_center_store_begin (store, TRUE, error);
  if (txn == NULL || !hearth_center_txn_get_county (txn, &county, error))
    return FALSE;
  registry = hearth_case_registry_read (path, county.code, center_taken, txn, problems, error);
  if (registry == NULL || !own_begin (&own, txn, error))
    return FALSE;

  n = hearth_case_registry_get_n_households (registry);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GHashTable) h = hearth_case_registry_household_fields (registry, i);
      g_autofree char *household_id = hearth_record_id_new ();
      const char *village = g_hash_table_lookup (h, "village_code");

      if (!add_record (&own, "households", household_id, household_id, village, h, error) ||
          !hearth_center_txn_set_household_village (txn, household_id, village, error))
        return FALSE;
      for (guint k = 0; k < hearth_case_registry_get_n_members (registry, i); k++)
        {
          g_autoptr(GHashTable) m = hearth_case_registry_member_fields (registry, i, k, household_id);
          g_autofree char *member_id = hearth_record_id_new ();

          if (!add_record (&own, "members", member_id, household_id, village, m, error))
            return FALSE;
          people++;
        }
    }
  if (!own_end (&own, error) || !hearth_center_txn_commit (g_steal_pointer (&txn), error))
    return FALSE;
  if (n_households != NULL)
    *n_households = n;
  if (n_members != NULL)
    *n_members = people;
  if (notices != NULL)
    *notices = g_ptr_array_ref (hearth_case_registry_get_notices (registry));
  return TRUE;
}

/* ---- published documents ------------------------------------------------------------- */

G_GNUC_PRINTF (2, 3) static gboolean
invalid (GError **error, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (HEARTH_CENTER_PUBLISH_ERROR, HEARTH_CENTER_PUBLISH_ERROR_INVALID,
                                                format, args));
  va_end (args);
  return FALSE;
}

/* A document's text: at most one change value, UTF-8. */
static gboolean
check_text (const char *name, const char *data, gsize len, GError **error)
{
  if (len > HEARTH_CHANGE_MAX_VALUE)
    return invalid (error, _("%s is larger than %d bytes"), name, HEARTH_CHANGE_MAX_VALUE);
  /* An empty file was said not to be UTF-8 text (break33). */
  if (len == 0)
    return invalid (error, _("%s is empty"), name);
  if (!g_utf8_validate (data, (gssize) len, NULL) || memchr (data, '\0', len) != NULL)
    return invalid (error, _("%s is not UTF-8 text"), name);
  return TRUE;
}

static char *
read_document (const char *path, GError **error)
{
  g_autoptr(GBytes) bytes = hearth_file_read_bounded (path, HEARTH_CHANGE_MAX_VALUE, error);
  gsize len = 0;
  const char *data;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  if (!check_text (path, data, len, error))
    return NULL;
  return g_strndup (data, len);
}

/* A version or a form id: one line of at most 128 bytes of printable
 * text, without invisible formatting characters (a direction override
 * would make "2025" of "5202" in every list that shows it). */
static gboolean
valid_key (const char *s)
{
  if (s == NULL || *s == '\0' || strlen (s) > 128)
    return FALSE;
  for (const char *p = s; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c) || g_unichar_type (c) == G_UNICODE_FORMAT || c == 0x2028 || c == 0x2029)
        return FALSE;
    }
  return TRUE;
}

/* @s shown in a refusal: its first 40 characters, what cannot be shown as
 * U+FFFD. */
static char *
shown_key (const char *s)
{
  GString *out = g_string_new (NULL);
  glong n = 0;

  for (const char *p = s; *p != '\0' && n < 40; p = g_utf8_next_char (p), n++)
    {
      gunichar c = g_utf8_get_char (p);

      g_string_append_unichar (out, g_unichar_iscntrl (c) || g_unichar_type (c) == G_UNICODE_FORMAT ? 0xfffd : c);
    }
  if (g_utf8_strlen (s, -1) > 40)
    g_string_append (out, "…");
  return g_string_free (out, FALSE);
}

/* Stores @record, unless its id holds it already: the same document again
 * is @already, another one refused. */
static gboolean
publish (HearthCenterStore *store, HearthChange *record, const char *what, gboolean *already, GError **error)
{
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_autoptr(HearthChange) existing = NULL;
  g_autoptr(GError) local = NULL;
  g_auto(Own) own = { 0 };

  if (already != NULL)
    *already = FALSE;
  txn = hearth_center_store_begin (store, TRUE, error);
  if (txn == NULL)
    return FALSE;
  existing = hearth_center_txn_find_record (txn, record->table, record->id, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (existing != NULL)
    {
      if (g_strcmp0 (g_hash_table_lookup (existing->fields, "xml"), g_hash_table_lookup (record->fields, "xml")) != 0)
        return invalid (error, _("%s was published already with other content: give the new one another version"),
                        what);
      if (already != NULL)
        *already = TRUE;
      return TRUE;
    }
  return own_begin (&own, txn, error) && own_add (&own, record, error) && own_end (&own, error) &&
         hearth_center_txn_commit (g_steal_pointer (&txn), error);
}

static char *
iso_now (void)
{
  g_autoptr(GDateTime) t = g_date_time_new_now_utc ();

  return g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ");
}

HearthForm *
hearth_center_read_form (const char *path, char **xml_out, GError **error)
{
  g_autofree char *xml = NULL;
  g_autoptr(HearthForm) form = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  xml = read_document (path, error);
  if (xml == NULL)
    return NULL;
  /* The checks of `hearth-cli form check`: what a tablet could not load
   * is never published. External instances come from the tablet's media.
   * The text read once: a file changed meanwhile cannot have one version
   * checked and another stored (break33). */
  form = hearth_form_load_data (path, xml, strlen (xml), NULL, error);
  if (form == NULL)
    return NULL;
  if (form->form_id == NULL || *form->form_id == '\0')
    return invalid (error, _("%s: the form has no id (the id attribute of its primary instance)"), path), NULL;
  /* It said "no id" or "no version" of one too long or with a line break
   * (break13). */
  if (!valid_key (form->form_id))
    {
      g_autofree char *shown = shown_key (form->form_id);

      return invalid (error, _("%s: the form id “%s” is not one line of at most 128 bytes of visible text"), path,
                      shown), NULL;
    }
  /* The title is a published record's field every tablet lists: bounded
   * (break33 published one of 100,000 characters). */
  if (form->title != NULL && g_utf8_strlen (form->title, -1) > HEARTH_CENTER_FORM_TITLE_MAX)
    return invalid (error, _("%s: form %s: the title has %ld characters, more than %d"), path, form->form_id,
                    g_utf8_strlen (form->title, -1), HEARTH_CENTER_FORM_TITLE_MAX), NULL;
  if (form->version == NULL || *form->version == '\0')
    return invalid (error, _("%s: form %s has no version (the version attribute of its primary instance): a "
                             "published form needs one, so that tablets tell its versions apart"),
                    path, form->form_id), NULL;
  if (!valid_key (form->version))
    {
      g_autofree char *shown = shown_key (form->version);

      return invalid (error, _("%s: form %s: the version “%s” is not one line of at most 128 bytes of visible text"),
                      path, form->form_id, shown), NULL;
    }
  /* What a tablet does first with it: a new session. A bind on a node the
   * instance lacks, or calculations in a cycle, fail only there, and would
   * fail every visit with the newest published version on every tablet. */
  {
    HearthForm *probe = hearth_form_load_data (path, xml, strlen (xml), NULL, error);
    g_autoptr(HearthFormSession) session = NULL;
    g_autoptr(GError) local = NULL;

    if (probe == NULL)
      return NULL;
    session = hearth_form_session_new (probe, NULL, &local);  /* takes probe */
    if (session == NULL)
      return invalid (error, "%s", local->message), NULL;
  }
  if (xml_out != NULL)
    *xml_out = g_steal_pointer (&xml);
  return g_steal_pointer (&form);
}

gboolean
hearth_center_publish_form (HearthCenterStore *store, const char *path, char **form_id, char **version,
                            gboolean *already, GError **error)
{
  g_autofree char *xml = NULL;
  g_autoptr(HearthForm) form = NULL;
  g_autoptr(HearthChange) record = NULL;
  g_autofree char *what = NULL;

  g_return_val_if_fail (HEARTH_IS_CENTER_STORE (store) && path != NULL, FALSE);

  form = hearth_center_read_form (path, &xml, error);
  if (form == NULL)
    return FALSE;
  record = hearth_change_new (HEARTH_CHANGE_RECORD);
  record->table = g_strdup ("forms");
  record->id = hearth_center_published_id ("forms", form->form_id, form->version);
  g_hash_table_insert (record->fields, g_strdup ("form_id"), g_strdup (form->form_id));
  g_hash_table_insert (record->fields, g_strdup ("version"), g_strdup (form->version));
  g_hash_table_insert (record->fields, g_strdup ("title"), g_strdup (form->title != NULL ? form->title : ""));
  g_hash_table_insert (record->fields, g_strdup ("xml"), g_steal_pointer (&xml));
  g_hash_table_insert (record->fields, g_strdup ("published_at"), iso_now ());
  what = g_strdup_printf (_("form %s version %s"), form->form_id, form->version);
  if (!publish (store, record, what, already, error))
    return FALSE;
  if (form_id != NULL)
    *form_id = g_strdup (form->form_id);
  if (version != NULL)
    *version = g_strdup (form->version);
  return TRUE;
}

static void
keep_first_error (void *data, xmlError *error)
{
  xmlError *first = data;

  if (first->code == 0)
    xmlCopyError (error, first);
}

/* The text of @parent's first child element @name, trimmed, or NULL. */
static char *
child_text (xmlNode *parent, const char *name)
{
  for (xmlNode *n = parent->children; n != NULL; n = n->next)
    if (n->type == XML_ELEMENT_NODE && xmlStrEqual (n->name, (const xmlChar *) name))
      {
        xmlChar *content = xmlNodeGetContent (n);
        char *text = g_strstrip (g_strdup ((const char *) content));

        xmlFree (content);
        return text;
      }
  return NULL;
}

/* One figure of a thresholds document: its element path below the root,
 * and its bounds. Days are whole numbers; the others are decimals as
 * XPath 1.0's number() reads them (no sign, no exponent). */
typedef struct {
  const char *path;
  gboolean whole;
  gboolean optional;
  double min, max;
} Figure;

static const Figure figures[] = {
  { "watch_band", FALSE, FALSE, 1, 10 },
  { "income_drop", FALSE, FALSE, 0.01, 1 },
  { "elimination_watch_days", TRUE, FALSE, 1, 3660 },
  { "department/medical_self_pay", FALSE, FALSE, 1, 10000000 },
  { "department/education_spending", FALSE, FALSE, 1, 10000000 },
  { "registration_visit_days", TRUE, FALSE, 0, HEARTH_ROUTINE_VISIT_MAX_DAYS },
  { "followup_days/red", TRUE, FALSE, 1, HEARTH_ROUTINE_VISIT_MAX_DAYS },
  { "followup_days/orange", TRUE, FALSE, 1, HEARTH_ROUTINE_VISIT_MAX_DAYS },
  { "followup_days/yellow", TRUE, FALSE, 1, HEARTH_ROUTINE_VISIT_MAX_DAYS },
  { "followup_days/none", TRUE, FALSE, 1, HEARTH_ROUTINE_VISIT_MAX_DAYS },
  { "routine_visit_days/all", TRUE, TRUE, 1, HEARTH_ROUTINE_VISIT_MAX_DAYS },
  { "routine_visit_days/priority", TRUE, TRUE, 1, HEARTH_ROUTINE_VISIT_MAX_DAYS },
};

/* @text as a number of XPath 1.0 (digits, at most one point), whole when
 * @whole; FALSE for anything else ("-5", "1e3", "7,800", "NaN"). */
static gboolean
parse_figure (const char *text, gboolean whole, double *value)
{
  gsize digits = strspn (text, "0123456789");
  const char *rest = text + digits;

  if (*rest == '.' && !whole)
    {
      gsize more = strspn (rest + 1, "0123456789");

      digits += more;
      rest += 1 + more;
    }
  if (digits == 0 || digits > 15 || *rest != '\0')
    return FALSE;
  *value = g_ascii_strtod (text, NULL);
  return TRUE;
}

/* The first element at @path ("a/b") below @root, or NULL. @repeated
 * (optional): the second element of a step on the way (a second
 * <routine_visit_days>, or a second <red> in the first <followup_days>),
 * or NULL: the forms' XPath reads the first of each, and a reader that
 * took the last (the tablet's visit periods did) would read another
 * figure than the one checked here. */
static xmlNode *
find_path (xmlNode *root, const char *path, xmlNode **repeated)
{
  g_auto(GStrv) steps = g_strsplit (path, "/", -1);
  xmlNode *at = root;

  if (repeated != NULL)
    *repeated = NULL;
  for (guint i = 0; at != NULL && steps[i] != NULL; i++)
    {
      xmlNode *first = NULL;

      for (xmlNode *n = at->children; n != NULL; n = n->next)
        if (n->type == XML_ELEMENT_NODE && xmlStrEqual (n->name, (const xmlChar *) steps[i]))
          {
            if (first == NULL)
              first = n;
            else if (repeated != NULL && *repeated == NULL)
              *repeated = n;
          }
      at = first;
    }
  return at;
}

/* The trimmed text of @node as a number from @min to @max; else FALSE
 * with an error naming the line, the element and the bounds. */
static gboolean
check_figure (const char *name, xmlNode *node, const char *path, gboolean whole, double min, double max, double *out,
              GError **error)
{
  g_autofree char *text = NULL;
  xmlChar *content = xmlNodeGetContent (node);
  double value = 0;

  text = g_strstrip (g_strdup (content != NULL ? (const char *) content : ""));
  xmlFree (content);
  if (!parse_figure (text, whole, &value) || value < min || value > max)
    {
      g_autofree char *shown = g_utf8_make_valid (text, MIN (strlen (text), (gsize) 32));

      return invalid (error, whole ? _("%s: line %ld: <%s> must be a whole number from %.15g to %.15g, not “%s”")
                                   : _("%s: line %ld: <%s> must be a number from %.15g to %.15g, not “%s”"),
                      name, xmlGetLineNo (node), path, min, max, shown);
    }
  if (out != NULL)
    *out = value;
  return TRUE;
}

/* The figures the forms and the tablets read (schema/forms/README.md, "The
 * thresholds instance"): each there and in its bounds, one income line per
 * year, so that no tablet measures a household against a line of -5 or
 * "abc", or finds no line at all. */
static gboolean
check_figures (const char *name, xmlNode *root, GError **error)
{
  g_autoptr(GHashTable) years = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  double all = HEARTH_ROUTINE_VISIT_DAYS, priority = 0;
  guint lines = 0;

  for (xmlNode *n = root->children; n != NULL; n = n->next)
    {
      xmlNode *year, *value;
      double y;

      if (n->type != XML_ELEMENT_NODE || !xmlStrEqual (n->name, (const xmlChar *) "income_line"))
        continue;
      year = find_path (n, "year", NULL);
      value = find_path (n, "value", NULL);
      if (year == NULL || value == NULL)
        return invalid (error, _("%s: line %ld: an <income_line> needs a <year> and a <value>"), name,
                        xmlGetLineNo (n));
      if (!check_figure (name, year, "income_line/year", TRUE, 2000, 2100, &y, error) ||
          !check_figure (name, value, "income_line/value", FALSE, 1, 1000000, NULL, error))
        return FALSE;
      if (!g_hash_table_add (years, g_strdup_printf ("%.0f", y)))
        return invalid (error, _("%s: line %ld: a second income line for %.0f"), name, xmlGetLineNo (n), y);
      lines++;
    }
  if (lines == 0)
    return invalid (error, _("%s: there is no <income_line>: the visit forms measure incomes against it"), name);
  for (gsize i = 0; i < G_N_ELEMENTS (figures); i++)
    {
      xmlNode *again;
      xmlNode *node = find_path (root, figures[i].path, &again);
      double value = 0;

      if (again != NULL)
        return invalid (error, _("%s: line %ld: a second <%s> (of <%s>): give each figure once"), name,
                        xmlGetLineNo (again), (const char *) again->name, figures[i].path);

      if (node == NULL && figures[i].optional)
        continue;
      if (node == NULL)
        return invalid (error, _("%s: <%s> is missing (see the bundled thresholds.xml)"), name, figures[i].path);
      if (!check_figure (name, node, figures[i].path, figures[i].whole, figures[i].min, figures[i].max, &value, error))
        return FALSE;
      if (g_str_equal (figures[i].path, "routine_visit_days/all"))
        all = value;
      else if (g_str_equal (figures[i].path, "routine_visit_days/priority"))
        priority = value;
    }
  /* As the tablet reads them (hearth_published_visit_periods()). */
  if (priority > all)
    return invalid (error, _("%s: the priority routine visit period (%.0f days) is longer than the routine one (%.0f)"),
                    name, priority, all);
  return TRUE;
}

gboolean
hearth_center_read_thresholds (const char *name, const char *data, gsize len, char **version_out, char **county_out,
                               GError **error)
{
  g_autofree char *version = NULL;
  g_autofree char *doc_county = NULL;
  xmlError first = { 0 };
  xmlDoc *doc;
  xmlNode *root;

  g_return_val_if_fail (name != NULL && (data != NULL || len == 0), FALSE);

  if (!check_text (name, data, len, error))
    return FALSE;
  xmlSetStructuredErrorFunc (&first, keep_first_error);
  doc = xmlReadMemory (data, (int) len, name, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  xmlSetStructuredErrorFunc (NULL, NULL);
  if (doc == NULL)
    {
      gboolean r = invalid (error, _("%s: line %d: not well-formed XML: %s"), name, first.line,
                            first.message != NULL ? g_strstrip (first.message) : "");
      xmlResetError (&first);
      return r;
    }
  xmlResetError (&first);
  root = xmlDocGetRootElement (doc);
  if (doc->intSubset != NULL || doc->extSubset != NULL)
    {
      xmlFreeDoc (doc);
      return invalid (error, _("%s: a DOCTYPE is not allowed (its entities would change the text)"), name);
    }
  if (root == NULL || !xmlStrEqual (root->name, (const xmlChar *) HEARTH_CENTER_THRESHOLDS_ROOT))
    {
      gboolean r = invalid (error, _("%s: line %d: the root element is <%s>, not <%s> as in the bundled "
                                     "thresholds.xml"),
                            name, root != NULL ? root->line : 1, root != NULL ? (const char *) root->name : "",
                            HEARTH_CENTER_THRESHOLDS_ROOT);
      xmlFreeDoc (doc);
      return r;
    }
  version = child_text (root, "version");
  doc_county = child_text (root, "county");
  if (!check_figures (name, root, error))
    {
      xmlFreeDoc (doc);
      return FALSE;
    }
  xmlFreeDoc (doc);
  if (version == NULL || *version == '\0')
    return invalid (error, _("%s: the thresholds have no <version>: published thresholds need one, so that tablets "
                             "tell them apart"),
                    name);
  if (!valid_key (version))
    {
      g_autofree char *shown = shown_key (version);

      return invalid (error, _("%s: the thresholds' <version> “%s” is not one line of at most 128 bytes of visible "
                               "text"),
                      name, shown);
    }
  /* "for county , this center's is 150422" said nothing (break33). */
  if (doc_county != NULL && *doc_county == '\0')
    return invalid (error, _("%s: the thresholds' <county> is empty: give the county's code, or leave the element "
                             "out"),
                    name);
  if (version_out != NULL)
    *version_out = g_steal_pointer (&version);
  if (county_out != NULL)
    *county_out = g_steal_pointer (&doc_county);
  return TRUE;
}

gboolean
hearth_center_set_thresholds (HearthCenterStore *store, const char *path, char **version_out, gboolean *already,
                              GError **error)
{
  g_autofree char *xml = NULL;
  g_autofree char *version = NULL;
  g_autofree char *doc_county = NULL;
  g_autofree char *what = NULL;
  g_autoptr(HearthChange) record = NULL;
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_auto(HearthCenterCounty) county = { 0 };

  g_return_val_if_fail (HEARTH_IS_CENTER_STORE (store) && path != NULL, FALSE);

  xml = read_document (path, error);
  if (xml == NULL || !hearth_center_read_thresholds (path, xml, strlen (xml), &version, &doc_county, error))
    return FALSE;

  txn = hearth_center_store_begin (store, FALSE, error);
  if (txn == NULL || !hearth_center_txn_get_county (txn, &county, error))
    return FALSE;
  hearth_center_txn_rollback (g_steal_pointer (&txn));
  if (doc_county != NULL && !g_str_equal (doc_county, county.code))
    return invalid (error, _("%s: these thresholds are for county %s, this center's is %s"), path, doc_county,
                    county.code);

  record = hearth_change_new (HEARTH_CHANGE_RECORD);
  record->table = g_strdup ("thresholds");
  record->id = hearth_center_published_id ("thresholds", NULL, version);
  g_hash_table_insert (record->fields, g_strdup ("version"), g_strdup (version));
  g_hash_table_insert (record->fields, g_strdup ("xml"), g_steal_pointer (&xml));
  g_hash_table_insert (record->fields, g_strdup ("published_at"), iso_now ());
  what = g_strdup_printf (_("thresholds version %s"), version);
  if (!publish (store, record, what, already, error))
    return FALSE;
  if (version_out != NULL)
    *version_out = g_steal_pointer (&version);
  return TRUE;
}

/* ---- the county's division names --------------------------------------------------------- */

/* A division's name: trimmed, 1 to HEARTH_CENTER_DIVISION_NAME_MAX
 * characters of one line. */
static gboolean
valid_division_name (const char *name)
{
  glong n = g_utf8_strlen (name, -1);

  if (n < 1 || n > HEARTH_CENTER_DIVISION_NAME_MAX)
    return FALSE;
  for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      /* Nor an invisible formatting character but the joiners some
       * scripts need, as in a registry (break33: a direction override
       * was published, and reversed the name on every tablet). */
      if (g_unichar_iscntrl (c) || c == 0x2028 || c == 0x2029 ||
          (g_unichar_type (c) == G_UNICODE_FORMAT && c != 0x200c && c != 0x200d))
        return FALSE;
    }
  return TRUE;
}

/* A division code of @county: the county's own 6 digits, a township's 9
 * or a village's 12 starting with them, no township's or village's own
 * part 000 (GB/T 2260: 150422101000 is township 150422101 in 12 digits,
 * a name no tablet would ever show, break33). */
static gboolean
valid_division_code (const char *code, const char *county)
{
  gsize len = strlen (code);

  if (len != 6 && len != 9 && len != 12)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (code[i]))
      return FALSE;
  if (len >= 9 && strncmp (code + 6, "000", 3) == 0)
    return FALSE;
  if (len == 12 && strncmp (code + 9, "000", 3) == 0)
    return FALSE;
  return strncmp (code, county, 6) == 0;
}

/* The lines from @from to @to: line feeds, and carriage returns without
 * one (a record ends at either: a file saved with CR alone named line 1
 * for every refusal). */
static guint
count_lines (const char *from, const char *to)
{
  guint n = 0;

  for (const char *p = from; p < to; p++)
    if (*p == '\n' || (*p == '\r' && (p + 1 >= to || p[1] != '\n')))
      n++;
  return n;
}

char *
hearth_center_read_divisions (const char *name, const char *data, gsize len, const char *county, const char *version,
                              guint *n_out, GError **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GString) doc = NULL;
  g_autofree char *text = NULL;
  const char *p, *start;
  guint line = 1, n = 0;
  HearthCsvProblem bad = HEARTH_CSV_OK;

  g_return_val_if_fail (name != NULL && (data != NULL || len == 0) && county != NULL && version != NULL, NULL);

  if (len == 0)
    return invalid (error, _("%s is empty"), name), NULL;
  if (!g_utf8_validate (data, (gssize) len, NULL) || memchr (data, '\0', len) != NULL)
    return invalid (error, _("%s is not UTF-8 text"), name), NULL;
  text = g_strndup (data, len);
  p = text;
  if (g_str_has_prefix (p, "\xef\xbb\xbf"))
    p += 3;
  {
    g_autoptr(GPtrArray) header = NULL;

    start = p;
    header = hearth_csv_record_strict (&p, &bad);
    if (header == NULL || bad != HEARTH_CSV_OK || header->len != 2 || strcmp (header->pdata[0], "code") != 0 ||
        strcmp (header->pdata[1], "name") != 0)
      return invalid (error, _("%s: line 1: the header must be “code,name”"), name), NULL;
    line += count_lines (start, p);
  }
  doc = g_string_new (NULL);
  g_string_append_printf (doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" HEARTH_CENTER_DIVISIONS_ROOT
                               " county=\"%s\" version=\"%s\">\n",
                          county, version);
  for (;;)
    {
      g_autoptr(GPtrArray) row = NULL;
      g_autofree char *escaped = NULL;
      const char *code, *division;
      char *trimmed;

      start = p;
      row = hearth_csv_record_strict (&p, &bad);
      if (row == NULL)
        break;
      if (bad == HEARTH_CSV_UNCLOSED_QUOTE)
        return invalid (error, _("%s: line %u: a quoted field is not closed"), name, line), NULL;
      if (bad == HEARTH_CSV_TEXT_AFTER_QUOTE)
        return invalid (error, _("%s: line %u: text follows the closing quote of a quoted field (write \"\" for a "
                                 "quote inside one)"),
                        name, line), NULL;
      if (row->len == 1 && *(const char *) row->pdata[0] == '\0')
        {
          line += count_lines (start, p);
          continue;
        }
      if (row->len != 2)
        return invalid (error, _("%s: line %u: a row has %u fields, not 2 (code,name)"), name, line, row->len), NULL;
      code = g_strstrip ((char *) row->pdata[0]);
      trimmed = g_strstrip ((char *) row->pdata[1]);
      division = trimmed;
      if (!valid_division_code (code, county))
        return invalid (error, _("%s: line %u: field code: “%s” is not a division of county %s (6, 9 or 12 digits "
                                 "starting with %s, none of a township's or village's own part 000)"),
                        name, line, code, county, county), NULL;
      if (!valid_division_name (division))
        return invalid (error, _("%s: line %u: field name: a name is 1 to %d characters on one line, without "
                                 "invisible formatting characters"),
                        name, line, HEARTH_CENTER_DIVISION_NAME_MAX), NULL;
      if (g_hash_table_contains (seen, code))
        return invalid (error, _("%s: line %u: field code: %s is named twice"), name, line, code), NULL;
      if (++n > HEARTH_CENTER_DIVISIONS_MAX)
        return invalid (error, _("%s: line %u: more than %d divisions"), name, line, HEARTH_CENTER_DIVISIONS_MAX),
               NULL;
      g_hash_table_add (seen, g_strdup (code));
      escaped = g_markup_printf_escaped ("<division code=\"%s\" name=\"%s\"/>\n", code, division);
      g_string_append (doc, escaped);
      line += count_lines (start, p);
    }
  if (n == 0)
    return invalid (error, _("%s: no divisions below the header"), name), NULL;
  g_string_append (doc, "</" HEARTH_CENTER_DIVISIONS_ROOT ">\n");
  if (doc->len > HEARTH_CHANGE_MAX_VALUE)
    return invalid (error, _("%s: the published list would be larger than %d bytes"), name, HEARTH_CHANGE_MAX_VALUE),
           NULL;
  if (n_out != NULL)
    *n_out = n;
  return g_string_free (g_steal_pointer (&doc), FALSE);
}

gboolean
hearth_center_import_divisions (HearthCenterStore *store, const char *path, guint *n_out, char **version_out,
                                GError **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(HearthChange) record = NULL;
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_autoptr(GDateTime) t = NULL;
  g_auto(HearthCenterCounty) county = { 0 };
  g_autofree char *seconds = NULL;
  g_autofree char *version = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *what = NULL;
  const char *data;
  gsize len = 0;
  guint n = 0;

  g_return_val_if_fail (HEARTH_IS_CENTER_STORE (store) && path != NULL, FALSE);

  bytes = hearth_file_read_bounded (path, HEARTH_CENTER_DIVISIONS_FILE_MAX, error);
  if (bytes == NULL)
    return FALSE;
  txn = hearth_center_store_begin (store, FALSE, error);
  if (txn == NULL || !hearth_center_txn_get_county (txn, &county, error))
    return FALSE;
  hearth_center_txn_rollback (g_steal_pointer (&txn));
  /* The version is the time of the import, to the millisecond: a later
   * import sorts after an earlier one, and tablets keep the newest. */
  t = g_date_time_new_now_utc ();
  seconds = g_date_time_format (t, "%Y-%m-%dT%H:%M:%S");
  version = g_strdup_printf ("%s.%03dZ", seconds, g_date_time_get_microsecond (t) / 1000);
  data = g_bytes_get_data (bytes, &len);
  xml = hearth_center_read_divisions (path, data, len, county.code, version, &n, error);
  if (xml == NULL)
    return FALSE;
  record = hearth_change_new (HEARTH_CHANGE_RECORD);
  record->table = g_strdup ("divisions");
  record->id = hearth_center_published_id ("divisions", NULL, version);
  g_hash_table_insert (record->fields, g_strdup ("version"), g_strdup (version));
  g_hash_table_insert (record->fields, g_strdup ("xml"), g_steal_pointer (&xml));
  g_hash_table_insert (record->fields, g_strdup ("published_at"), g_strdup (version));
  what = g_strdup_printf (_("division names version %s"), version);
  if (!publish (store, record, what, NULL, error))
    return FALSE;
  if (n_out != NULL)
    *n_out = n;
  if (version_out != NULL)
    *version_out = g_steal_pointer (&version);
  return TRUE;
}

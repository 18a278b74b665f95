/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-household-model.c: the household list, keyset-paged (hearth-household-model.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-household-model.h"
#include "hearth-household-item.h"
#include "case-labels.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

struct _HearthHouseholdModel {
  GObject parent_instance;
  HearthSession *session;
  GPtrArray *items;           /* HearthHouseholdItem */
  GHashTable *villages;       /* village code → its words, for rows without an address */
  char *text;
  char *village_prefix;
  char *status;
  char *risk_level;
  gboolean has_more;
  guint load_source;
  guint trim_source;
  guint pages_read;
};

static void list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (HearthHouseholdModel, hearth_household_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_init))

enum {
  PROP_0,
  PROP_HAS_MORE,
  PROP_N_ITEMS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* One page after @after (NULL: the first), as search rows. */
static GPtrArray *
read_page (HearthHouseholdModel *self, HearthHouseholdItem *after, guint limit, GError **error)
{
  HearthHouseholdQuery q = {
    .text = self->text,
    .village_prefix = self->village_prefix,
    .monitoring_status = self->status,
    .risk_level = self->risk_level,
    .limit = limit,
  };
  GPtrArray *rows;

  if (after != NULL)
    {
      q.after_village_code = hearth_household_item_get_village_code (after);
      q.after_head_name = hearth_household_item_get_head_name (after);
      q.after_id = hearth_household_item_get_id (after);
    }
  rows = hearth_case_search_households (hearth_session_get_db (self->session), &q, error);
  if (rows != NULL)
    self->pages_read++;
  return rows;
}

/* The words for the village of a household without an address (NULL for
 * one with an address): each village looked up once per search, so that a
 * division list published meanwhile shows with the next one. */
static const char *
village_of (HearthHouseholdModel *self, const HearthHouseholdRow *row)
{
  char *label;

  if (row->address[0] != '\0')
    return NULL;
  label = g_hash_table_lookup (self->villages, row->village_code);
  if (label == NULL)
    {
      label = hearth_label_village (hearth_session_get_store (self->session), row->village_code);
      g_hash_table_insert (self->villages, g_strdup (row->village_code), label);
    }
  return label;
}

/* Hands each row of @rows to a new item appended to the model (the rows
 * are the items' from then on). */
static void
append_rows (HearthHouseholdModel *self, GPtrArray *rows, guint from)
{
  for (guint i = from; i < rows->len; i++)
    {
      g_ptr_array_add (self->items, hearth_household_item_new (rows->pdata[i], village_of (self, rows->pdata[i])));
      rows->pdata[i] = NULL;
    }
}

static void
set_has_more (HearthHouseholdModel *self, gboolean has_more)
{
  if (self->has_more != has_more)
    {
      self->has_more = has_more;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_MORE]);
    }
}

/* From the main loop: never inside a list view's own update. */
static gboolean
load_idle (gpointer data)
{
  HearthHouseholdModel *self = data;
  g_autoptr(GError) error = NULL;

  self->load_source = 0;
  if (!hearth_household_model_load_more (self, &error))
    g_warning ("The next page of households could not be read: %s", error->message);
  return G_SOURCE_REMOVE;
}

static GType
list_get_item_type (GListModel *model)
{
  return HEARTH_TYPE_HOUSEHOLD_ITEM;
}

static guint
list_get_n_items (GListModel *model)
{
  return HEARTH_HOUSEHOLD_MODEL (model)->items->len;
}

static gpointer
list_get_item (GListModel *model, guint position)
{
  HearthHouseholdModel *self = HEARTH_HOUSEHOLD_MODEL (model);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (self->items->pdata[position]);
}

static void
list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = list_get_item_type;
  iface->get_n_items = list_get_n_items;
  iface->get_item = list_get_item;
}

static void
hearth_household_model_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HearthHouseholdModel *self = HEARTH_HOUSEHOLD_MODEL (object);

  switch (prop_id)
    {
    case PROP_HAS_MORE:
      g_value_set_boolean (value, self->has_more);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->items->len);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hearth_household_model_dispose (GObject *object)
{
  HearthHouseholdModel *self = HEARTH_HOUSEHOLD_MODEL (object);

  g_clear_handle_id (&self->load_source, g_source_remove);
  g_clear_handle_id (&self->trim_source, g_source_remove);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (hearth_household_model_parent_class)->dispose (object);
}

static void
hearth_household_model_finalize (GObject *object)
{
  HearthHouseholdModel *self = HEARTH_HOUSEHOLD_MODEL (object);

  g_ptr_array_unref (self->items);
  g_hash_table_unref (self->villages);
  g_free (self->text);
  g_free (self->village_prefix);
  g_free (self->status);
  g_free (self->risk_level);
  G_OBJECT_CLASS (hearth_household_model_parent_class)->finalize (object);
}

static void
hearth_household_model_class_init (HearthHouseholdModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = hearth_household_model_get_property;
  object_class->dispose = hearth_household_model_dispose;
  object_class->finalize = hearth_household_model_finalize;

  properties[PROP_HAS_MORE] =
    g_param_spec_boolean ("has-more", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hearth_household_model_init (HearthHouseholdModel *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->villages = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

HearthHouseholdModel *
hearth_household_model_new (HearthSession *session)
{
  HearthHouseholdModel *self = g_object_new (HEARTH_TYPE_HOUSEHOLD_MODEL, NULL);

  g_return_val_if_fail (HEARTH_IS_SESSION (session), NULL);
  self->session = g_object_ref (session);
  return self;
}

static char *
nonblank (const char *text)
{
  g_autofree char *copy = g_strstrip (g_strdup (text != NULL ? text : ""));

  return copy[0] != '\0' ? g_steal_pointer (&copy) : NULL;
}

/* After the list dropped pages of rows: glibc keeps freed memory for the
 * next allocations and returns it to the system only at the top of its
 * heap, so the rows scrolled through would stay resident; trimming gives
 * the free pages back. Once the window is idle: never in a keystroke's
 * time. */
static gboolean
trim_idle (gpointer data)
{
  HearthHouseholdModel *self = data;

  self->trim_source = 0;
#ifdef __GLIBC__
  malloc_trim (0);
#endif
  return G_SOURCE_REMOVE;
}

/* Shows @rows (NULL: none) instead of the rows loaded. The items there are
 * reused for the first rows, relabelled in place; only the difference in
 * length is announced as added or removed. */
static void
replace_all (HearthHouseholdModel *self, GPtrArray *rows)
{
  guint before = self->items->len;
  guint after = rows != NULL ? rows->len : 0;
  guint common = MIN (before, after);

  for (guint i = 0; i < common; i++)
    {
      hearth_household_item_set_row (self->items->pdata[i], rows->pdata[i], village_of (self, rows->pdata[i]));
      rows->pdata[i] = NULL;
    }
  if (after > before)
    append_rows (self, rows, before);
  else if (before > after)
    g_ptr_array_remove_range (self->items, after, before - after);
  if (before - common >= HEARTH_HOUSEHOLD_MODEL_PAGE && self->trim_source == 0)
    self->trim_source = g_timeout_add_full (G_PRIORITY_LOW, 1000, trim_idle, self, NULL);
  set_has_more (self, after == HEARTH_HOUSEHOLD_MODEL_FIRST_PAGE);
  if (before != after)
    {
      g_list_model_items_changed (G_LIST_MODEL (self), common, before - common, after - common);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
    }
}

gboolean
hearth_household_model_reload (HearthHouseholdModel *self, GError **error)
{
  g_autoptr(GPtrArray) rows = NULL;

  g_return_val_if_fail (HEARTH_IS_HOUSEHOLD_MODEL (self), FALSE);

  g_clear_handle_id (&self->load_source, g_source_remove);
  g_hash_table_remove_all (self->villages);
  rows = read_page (self, NULL, HEARTH_HOUSEHOLD_MODEL_FIRST_PAGE, error);
  replace_all (self, rows);
  return rows != NULL;
}

gboolean
hearth_household_model_set_query (HearthHouseholdModel *self, const char *text, const char *village_prefix,
                                  const char *status, const char *risk_level, GError **error)
{
  g_return_val_if_fail (HEARTH_IS_HOUSEHOLD_MODEL (self), FALSE);

  g_free (self->text);
  self->text = nonblank (text);
  g_free (self->village_prefix);
  self->village_prefix = nonblank (village_prefix);
  g_free (self->status);
  self->status = nonblank (status);
  g_free (self->risk_level);
  self->risk_level = nonblank (risk_level);
  return hearth_household_model_reload (self, error);
}

gboolean
hearth_household_model_load_more (HearthHouseholdModel *self, GError **error)
{
  g_autoptr(GPtrArray) rows = NULL;
  guint position;

  g_return_val_if_fail (HEARTH_IS_HOUSEHOLD_MODEL (self), FALSE);

  g_clear_handle_id (&self->load_source, g_source_remove);
  if (!self->has_more)
    return TRUE;
  rows = read_page (self, self->items->len > 0 ? self->items->pdata[self->items->len - 1] : NULL,
                    HEARTH_HOUSEHOLD_MODEL_PAGE, error);
  if (rows == NULL)
    return FALSE;
  position = self->items->len;
  append_rows (self, rows, 0);
  set_has_more (self, rows->len == HEARTH_HOUSEHOLD_MODEL_PAGE);
  if (rows->len > 0)
    {
      g_list_model_items_changed (G_LIST_MODEL (self), position, 0, rows->len);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
    }
  return TRUE;
}

void
hearth_household_model_want_more (HearthHouseholdModel *self)
{
  g_return_if_fail (HEARTH_IS_HOUSEHOLD_MODEL (self));

  if (self->has_more && self->load_source == 0)
    self->load_source = g_idle_add_full (G_PRIORITY_HIGH_IDLE + 20, load_idle, self, NULL);
}

gboolean
hearth_household_model_get_has_more (HearthHouseholdModel *self)
{
  g_return_val_if_fail (HEARTH_IS_HOUSEHOLD_MODEL (self), FALSE);
  return self->has_more;
}

guint
hearth_household_model_get_pages_read (HearthHouseholdModel *self)
{
  g_return_val_if_fail (HEARTH_IS_HOUSEHOLD_MODEL (self), 0);
  return self->pages_read;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-household-item.c: one household of the list (hearth-household-item.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-household-item.h"

struct _HearthHouseholdItem {
  GObject parent_instance;
  HearthHouseholdRow *row;
  char *village;            /* the village's words when the row has no address */
};

G_DEFINE_FINAL_TYPE (HearthHouseholdItem, hearth_household_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_VILLAGE_CODE,
  PROP_HEAD_NAME,
  PROP_HEAD_ID_NUMBER,
  PROP_MONITORING_STATUS,
  PROP_RISK_LEVEL,
  PROP_NEXT_VISIT_DATE,
  PROP_MEMBER_COUNT,
  PROP_ADDRESS,
  PROP_PLACE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
hearth_household_item_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HearthHouseholdRow *row = HEARTH_HOUSEHOLD_ITEM (object)->row;

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, row->id);
      break;
    case PROP_VILLAGE_CODE:
      g_value_set_string (value, row->village_code);
      break;
    case PROP_HEAD_NAME:
      g_value_set_string (value, row->head_name);
      break;
    case PROP_HEAD_ID_NUMBER:
      g_value_set_string (value, row->head_id_number);
      break;
    case PROP_MONITORING_STATUS:
      g_value_set_string (value, row->monitoring_status);
      break;
    case PROP_RISK_LEVEL:
      g_value_set_string (value, row->risk_level);
      break;
    case PROP_NEXT_VISIT_DATE:
      g_value_set_string (value, row->next_visit_date);
      break;
    case PROP_MEMBER_COUNT:
      g_value_set_int64 (value, row->member_count);
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, row->address);
      break;
    case PROP_PLACE:
      g_value_set_string (value, hearth_household_item_get_place (HEARTH_HOUSEHOLD_ITEM (object)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hearth_household_item_finalize (GObject *object)
{
  g_clear_pointer (&HEARTH_HOUSEHOLD_ITEM (object)->row, hearth_household_row_free);
  g_clear_pointer (&HEARTH_HOUSEHOLD_ITEM (object)->village, g_free);
  G_OBJECT_CLASS (hearth_household_item_parent_class)->finalize (object);
}

static void
hearth_household_item_class_init (HearthHouseholdItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->get_property = hearth_household_item_get_property;
  object_class->finalize = hearth_household_item_finalize;

  properties[PROP_ID] = g_param_spec_string ("id", NULL, NULL, NULL, flags);
  properties[PROP_VILLAGE_CODE] = g_param_spec_string ("village-code", NULL, NULL, NULL, flags);
  properties[PROP_HEAD_NAME] = g_param_spec_string ("head-name", NULL, NULL, NULL, flags);
  properties[PROP_HEAD_ID_NUMBER] = g_param_spec_string ("head-id-number", NULL, NULL, NULL, flags);
  properties[PROP_MONITORING_STATUS] = g_param_spec_string ("monitoring-status", NULL, NULL, NULL, flags);
  properties[PROP_RISK_LEVEL] = g_param_spec_string ("risk-level", NULL, NULL, NULL, flags);
  properties[PROP_NEXT_VISIT_DATE] = g_param_spec_string ("next-visit-date", NULL, NULL, NULL, flags);
  properties[PROP_MEMBER_COUNT] = g_param_spec_int64 ("member-count", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_ADDRESS] = g_param_spec_string ("address", NULL, NULL, NULL, flags);
  properties[PROP_PLACE] = g_param_spec_string ("place", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hearth_household_item_init (HearthHouseholdItem *self)
{
}

HearthHouseholdItem *
hearth_household_item_new (HearthHouseholdRow *row, const char *village)
{
  HearthHouseholdItem *self = g_object_new (HEARTH_TYPE_HOUSEHOLD_ITEM, NULL);

  g_return_val_if_fail (row != NULL, NULL);
  self->row = row;
  self->village = g_strdup (village);
  return self;
}

void
hearth_household_item_set_row (HearthHouseholdItem *self, HearthHouseholdRow *row, const char *village)
{
  g_return_if_fail (HEARTH_IS_HOUSEHOLD_ITEM (self));
  g_return_if_fail (row != NULL);

  hearth_household_row_free (self->row);
  self->row = row;
  if (g_strcmp0 (self->village, village) != 0)
    {
      g_free (self->village);
      self->village = g_strdup (village);
    }
  g_object_freeze_notify (G_OBJECT (self));
  for (guint i = PROP_0 + 1; i < N_PROPS; i++)
    g_object_notify_by_pspec (G_OBJECT (self), properties[i]);
  g_object_thaw_notify (G_OBJECT (self));
}

#define GETTER(name, member)                                            \
  const char *                                                          \
  hearth_household_item_get_##name (HearthHouseholdItem *self)          \
  {                                                                     \
    g_return_val_if_fail (HEARTH_IS_HOUSEHOLD_ITEM (self), NULL);       \
    return self->row->member;                                           \
  }

GETTER (id, id)
GETTER (village_code, village_code)
GETTER (head_name, head_name)
GETTER (head_id_number, head_id_number)
GETTER (monitoring_status, monitoring_status)
GETTER (risk_level, risk_level)
GETTER (next_visit_date, next_visit_date)
GETTER (address, address)

const char *
hearth_household_item_get_place (HearthHouseholdItem *self)
{
  g_return_val_if_fail (HEARTH_IS_HOUSEHOLD_ITEM (self), NULL);

  if (self->row->address[0] != '\0')
    return self->row->address;
  return self->village != NULL ? self->village : self->row->village_code;
}

gint64
hearth_household_item_get_member_count (HearthHouseholdItem *self)
{
  g_return_val_if_fail (HEARTH_IS_HOUSEHOLD_ITEM (self), 0);
  return self->row->member_count;
}

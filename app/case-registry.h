/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-registry.h: a county registry file (its columns and checks:
 * README.md, hearth-cli's `household import FILE.csv`) read and checked row by row,
 * apart from where it goes: the tablet's case store imports it with
 * hearth_case_import_registry() (app/case-store.h), the county center as
 * changes its devices pull (sync/center-publish.h). Both take the same
 * columns, the same checks and the same fields, from here.
 *
 * Thread-safe: a registry read is owned by its caller and never shared.
 */
#pragma once

#include <glib.h>

#include "case-store.h"

G_BEGIN_DECLS

/**
 * HearthRegistryKey:
 * @HEARTH_REGISTRY_HOUSEHOLD_NO: a household's registry number
 * @HEARTH_REGISTRY_ID_NUMBER: a member's ID number (normalised: uppercase X)
 *
 * What the store the registry goes to may hold already.
 */
typedef enum {
  HEARTH_REGISTRY_HOUSEHOLD_NO,
  HEARTH_REGISTRY_ID_NUMBER,
} HearthRegistryKey;

/**
 * HearthRegistryTakenFunc:
 * @key: what @value is
 * @value: a registry number or an ID number of the file
 * @taken: (out): whether the store holds it already (a live record)
 * @data: the caller's
 *
 * Returns: %FALSE with @error set when the store could not be asked.
 */
typedef gboolean (*HearthRegistryTakenFunc) (HearthRegistryKey key, const char *value, gboolean *taken,
                                             gpointer data, GError **error);

typedef struct _HearthRegistry HearthRegistry;

/**
 * hearth_case_registry_read:
 * @path: a county registry as CSV, one row per member: UTF-8 (with or
 *   without a byte order mark) or GB18030; the columns named in the first
 *   row, in English or Chinese
 * @county: (nullable): when given, every village code must start with it
 * @taken: (nullable): asks the store for registry and ID numbers it holds
 * @data: for @taken
 * @problems: (out) (optional) (transfer full) (element-type utf8): when the
 *   file is refused for its rows, every bad row as "line N: reason" (at
 *   most HEARTH_REGISTRY_MAX_PROBLEMS; when the check stopped there, a
 *   last element says so, and @error's message says "at least")
 *
 * Reads every row and checks it: each column named once in the header
 * (in English or in Chinese), as many fields as the header, each
 * value one line of at most HEARTH_REGISTRY_MAX_CHARS characters, the
 * required columns, the 12-digit village code (inside @county), the ID
 * number's checksum and birth date, the relation to the head, the
 * category, the health, labour, school status and insurance codes of the
 * registration form, one head per household, one village per household,
 * no registry number or ID number twice in the file or already in the
 * store. Lines are counted as an editor shows them (a quoted field may
 * hold line breaks). The file must be a regular file (not a FIFO or a
 * device).
 *
 * Returns: (transfer full) (nullable): the households, or %NULL with
 *   HEARTH_CASE_ERROR_INVALID (bad rows, see @problems; a file that cannot
 *   be read, is not UTF-8 or GB18030, or is larger than
 *   HEARTH_REGISTRY_MAX_BYTES), or the error of @taken.
 */
HearthRegistry *hearth_case_registry_read (const char               *path,
                                           const char               *county,
                                           HearthRegistryTakenFunc   taken,
                                           gpointer                  data,
                                           GPtrArray               **problems,
                                           GError                  **error);

/** hearth_case_registry_free: @registry: (transfer full) (nullable): freed. */
void hearth_case_registry_free (HearthRegistry *registry);

/**
 * hearth_case_registry_get_notices:
 *
 * What the file holds that is not imported, as "line N: …": a member's
 * address or category other than the head's (a household has one, its
 * head's). Not a problem: the file is imported; the importer says them.
 *
 * Returns: (transfer none) (element-type utf8): the notices, maybe none.
 */
GPtrArray *hearth_case_registry_get_notices (const HearthRegistry *registry);

/** hearth_case_registry_get_n_households: Returns: how many households the file holds. */
guint hearth_case_registry_get_n_households (const HearthRegistry *registry);

/**
 * hearth_case_registry_get_n_members:
 * @household: an index below hearth_case_registry_get_n_households()
 *
 * Returns: how many members the household has (at least its head).
 */
guint hearth_case_registry_get_n_members (const HearthRegistry *registry, guint household);

/**
 * hearth_case_registry_household_fields:
 * @household: an index, in the order of the file
 *
 * Returns: (transfer full) (element-type utf8 utf8): the household's
 *   columns of the case model (registry_no, village_code, address,
 *   category, phone, head_name, head_id_number, member_count) and their
 *   values.
 */
GHashTable *hearth_case_registry_household_fields (const HearthRegistry *registry, guint household);

/**
 * hearth_case_registry_member_fields:
 * @household: an index
 * @member: an index below hearth_case_registry_get_n_members(), in the
 *   order of the file
 * @household_id: the id the household was given
 *
 * Returns: (transfer full) (element-type utf8 utf8): the member's columns
 *   (household_id, position from 1, name, id_number, sex, birth_date,
 *   relation, phone, health, labour, school_status, insurance) and their
 *   values.
 */
GHashTable *hearth_case_registry_member_fields (const HearthRegistry *registry, guint household, guint member,
                                                const char *household_id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthRegistry, hearth_case_registry_free)

G_END_DECLS

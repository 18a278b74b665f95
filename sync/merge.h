/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * merge.h: the merge rules of the sync protocol (sync/PROTOCOL.md, section
 * 6.3), as pure functions over the set of edits a replica holds for one
 * field. The result depends only on the set, never on the order or number
 * of deliveries, so every replica holding the same edits holds the same
 * value and names the same conflicts (../shared/INTERFACES.md, "Sync
 * contracts").
 *
 * All functions are pure and thread-safe.
 */
#pragma once

#include <glib.h>

#include "hlc.h"

G_BEGIN_DECLS

#define HEARTH_MERGE_ERROR (hearth_merge_error_quark ())
GQuark hearth_merge_error_quark (void);

/**
 * HearthMergeError:
 * @HEARTH_MERGE_ERROR_INVALID: an edit whose hlc or a parent is not an HLC
 *   time (the message names it)
 * @HEARTH_MERGE_ERROR_DIVERGED: two edits with one identity (the same hlc)
 *   but different values or parents
 */
typedef enum {
  HEARTH_MERGE_ERROR_INVALID,
  HEARTH_MERGE_ERROR_DIVERGED,
} HearthMergeError;

/**
 * HearthFieldEdit:
 * @hlc: the edit's version, the HLC text form (sync/hlc.h)
 * @parents: (array length=n_parents): the versions the editor saw as
 *   current; none for a first value
 * @n_parents: how many
 * @value: the value written ("" for blank)
 *
 * One edit of one field of one record. Borrowed: the merge functions never
 * keep or free it.
 */
typedef struct {
  const char        *hlc;
  const char *const *parents;
  guint              n_parents;
  const char        *value;
} HearthFieldEdit;

/**
 * HearthFieldMerge:
 * @winner: (nullable): the edit whose value the field holds; %NULL for no
 *   edits
 * @losers: (element-type HearthFieldEdit) (transfer container): the other
 *   heads whose value differs from @winner's, each an open conflict
 *   against it, newest first
 *
 * Points into the array given to hearth_merge_field().
 */
typedef struct {
  const HearthFieldEdit *winner;
  GPtrArray             *losers;
} HearthFieldMerge;

/**
 * hearth_merge_field:
 * @edits: (array length=n_edits): every edit of one field a replica holds,
 *   in any order, duplicates allowed
 * @n_edits: how many
 * @out: (out caller-allocates): the merged state; free its @losers with
 *   g_ptr_array_unref() (set on success only)
 *
 * Applies PROTOCOL.md section 6.3: an edit named among another's parents is
 * superseded; of the remaining heads the highest hlc wins and every other
 * head with another value is an open conflict.
 *
 * Returns: %FALSE with HEARTH_MERGE_ERROR_INVALID for an edit whose hlc or
 *   parent is not an HLC time, or _DIVERGED for two different edits under
 *   one hlc.
 */
gboolean hearth_merge_field (const HearthFieldEdit *edits,
                             guint                  n_edits,
                             HearthFieldMerge      *out,
                             GError               **error);

/**
 * hearth_merge_is_counter:
 * @table: a mutable table
 * @field: one of its fields
 *
 * Whether the field merges as a counter rather than by rule 2 of
 * PROTOCOL.md section 6.3: households.entity_version, which every visit
 * raises by one, so two offline visits raise it alike and neither loses.
 *
 * Returns: %TRUE for a counter.
 */
gboolean hearth_merge_is_counter (const char *table,
                                  const char *field);

/**
 * hearth_merge_field_of:
 * @table: the record's table
 * @field: the field @edits are of
 *
 * As hearth_merge_field(), by the rule of @field: for a counter
 * (hearth_merge_is_counter()) the winner is the head holding the largest
 * whole number (a value that is not one ranks below every number; equal
 * values by the highest hlc), and no head is a conflict.
 *
 * Returns: as hearth_merge_field().
 */
gboolean hearth_merge_field_of (const char            *table,
                                const char            *field,
                                const HearthFieldEdit *edits,
                                guint                  n_edits,
                                HearthFieldMerge      *out,
                                GError               **error);

/**
 * hearth_merge_conflict_id:
 * @table: the record's table
 * @record_id: the record's id
 * @field: the field
 * @winner_hlc: the winning edit's version
 * @loser_hlc: the losing edit's version
 *
 * The conflict's identity, the same on every replica: the first 16 bytes of
 * BLAKE2b-256 over "hearth conflict v1" and the five arguments, one per
 * line, formatted as a lowercase UUID (8-4-4-4-12 hex digits).
 *
 * Returns: (transfer full): the id.
 */
char *hearth_merge_conflict_id (const char *table,
                                const char *record_id,
                                const char *field,
                                const char *winner_hlc,
                                const char *loser_hlc);

/* How far ahead of the center's clock an edit's time may be. */
#define HEARTH_MERGE_MAX_AHEAD_MS (10 * 60 * 1000)

/**
 * hearth_merge_clamp:
 * @hlc: an edit's version as pushed
 * @center_now_ms: the center's clock, milliseconds since 1970
 * @max_ahead_ms: how far ahead @hlc may be (HEARTH_MERGE_MAX_AHEAD_MS)
 * @floor: (nullable): the last time this clamping gave the same device,
 *   so that clamped edits keep their order and stay distinct
 * @out: (out): @hlc, or, when its wall time is more than @max_ahead_ms
 *   ahead, (@center_now_ms, its counter, its device) moved just past @floor
 *
 * The center's clock clamping (PROTOCOL.md section 6.3, rule 5).
 *
 * Returns: %TRUE when @out differs from @hlc.
 */
gboolean hearth_merge_clamp (const HearthHlc *hlc,
                             gint64           center_now_ms,
                             gint64           max_ahead_ms,
                             const HearthHlc *floor,
                             HearthHlc       *out);

G_END_DECLS

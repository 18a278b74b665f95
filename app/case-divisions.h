/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-divisions.h: the names of the county's townships and villages, as
 * the county center published them (`hearth-center import-divisions`,
 * sync/PROTOCOL.md section 6.2; migration 0010), so that screens show
 * "隆昌镇" rather than a division code.
 */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

/**
 * hearth_division_name:
 * @store: an open store (migration 0010 or later)
 * @code: a division code (6, 9 or 12 digits)
 *
 * Looks @code up in the newest division list the center published
 * ("newest" as in case-published.h: published_at, then received). The
 * list is parsed once and kept with @store until a newer one arrives, so
 * a screen may ask for each code it shows. A list that cannot be read
 * names nothing (a warning is logged once per version, without names).
 *
 * Thread-safe: the cache is guarded by a lock; the query uses the store's
 * connection, so callers keep to the store's own thread rules.
 *
 * Returns: (transfer full) (nullable): the name, or %NULL when no list
 *   names @code.
 */
char *hearth_division_name (HearthStore *store,
                            const char  *code);

/**
 * hearth_division_label:
 * @store: (nullable): an open store, or %NULL
 * @code: a division code
 *
 * Returns: (transfer full): hearth_division_name(), or a copy of @code
 *   when @store is %NULL or the code has no name.
 */
char *hearth_division_label (HearthStore *store,
                             const char  *code);

G_END_DECLS

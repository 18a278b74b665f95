/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-published.h: the forms and county thresholds the county center
 * published to this store (sync/PROTOCOL.md section 9.2; migration 0007),
 * as the visits use them: a published version of a form replaces the
 * bundled one of the same form id, and published thresholds replace the
 * bundled `thresholds` instance (schema/forms/media/thresholds.xml), so
 * that a county that moves its income line does not need new tablets.
 *
 * "Newest" is the last published at the center (published_at), then the
 * last received. Thread-safety: as the store's connection.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "store.h"

G_BEGIN_DECLS

/**
 * hearth_published_form:
 * @store: an open store (migration 0007 or later)
 * @form_id: a form id, as in the form's primary instance (`id="…"`)
 * @version_out: (out) (optional) (transfer full): the published version
 *
 * Returns: (transfer full) (nullable): the newest published XForm document
 *   with @form_id, or %NULL with @error unset when the center published
 *   none, or %NULL with HEARTH_CASE_ERROR_SQLITE.
 */
char *hearth_published_form (HearthStore *store,
                             const char  *form_id,
                             char       **version_out,
                             GError     **error);

/**
 * hearth_published_form_version:
 * @store: an open store (migration 0007 or later)
 * @form_id: a form id
 * @version: one published version of it
 *
 * A form as the center published it in one version, such as the version a
 * draft was begun with after a newer one arrived.
 *
 * Returns: (transfer full) (nullable): the XForm document, or %NULL with
 *   @error unset when this store received no such version, or %NULL with
 *   HEARTH_CASE_ERROR_SQLITE.
 */
char *hearth_published_form_version (HearthStore *store,
                                     const char  *form_id,
                                     const char  *version,
                                     GError     **error);

/**
 * hearth_published_thresholds:
 * @store: an open store (migration 0007 or later)
 * @version_out: (out) (optional) (transfer full): the published version
 *
 * Reads the newest published thresholds document, refusing a DOCTYPE and
 * never reaching the network, as the center did when it published it.
 *
 * Returns: (transfer full) (nullable): the document (free with
 *   xmlFreeDoc()), to give a form session as its `thresholds` instance; or
 *   %NULL with @error unset when the center published none; or %NULL with
 *   HEARTH_CASE_ERROR_SQLITE, or HEARTH_CASE_ERROR_INVALID when the stored
 *   document is not well-formed thresholds.
 */
xmlDoc *hearth_published_thresholds (HearthStore *store,
                                     char       **version_out,
                                     GError     **error);

/**
 * hearth_published_visit_periods:
 * @store: an open store (migration 0007 or later)
 * @routine_days: (out): every household's routine visit period, in days
 * @priority_days: (out): a priority household's period, in days
 * @error: return location for a #GError
 *
 * The county's routine visit periods (../shared/DOMAIN.md, "The
 * procedure", 8): routine_visit_days/all and /priority of the newest
 * published thresholds (schema/forms/README.md, "The thresholds
 * instance"); where the center published none, or a document without
 * them, %HEARTH_ROUTINE_VISIT_DAYS and %HEARTH_PRIORITY_VISIT_DAYS
 * (case-search.h).
 *
 * Returns: %TRUE with both set; %FALSE with HEARTH_CASE_ERROR_SQLITE, or
 *   HEARTH_CASE_ERROR_INVALID when the document is not thresholds or a
 *   period is not a whole number of days from 1 to
 *   %HEARTH_ROUTINE_VISIT_MAX_DAYS with the priority one no longer than
 *   the routine one. Not thread-safe for one @store.
 */
gboolean hearth_published_visit_periods (HearthStore *store,
                                         guint       *routine_days,
                                         guint       *priority_days,
                                         GError     **error);

G_END_DECLS

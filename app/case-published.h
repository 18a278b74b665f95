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

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * center-publish.h: what the county center itself puts in the change log
 * for its devices to pull (sync/PROTOCOL.md, sections 6 and 8): the
 * households and members of a county registry imported at the center, as
 * field edits, and forms and thresholds it publishes, as immutable records
 * of the tables "forms" and "thresholds" that every device receives.
 *
 * The center's changes are numbered and versioned as those of a device
 * whose id is HEARTH_CENTER_OWN_DEVICE ("center"), from where its last
 * change left off (center-store.h, hearth_center_txn_get_own()), each
 * batch of them in one write transaction.
 *
 * Thread-safe: the functions keep no state; each runs its own transaction.
 */
#pragma once

#include <glib.h>

#include "center-store.h"
#include "form-model.h"

G_BEGIN_DECLS

#define HEARTH_CENTER_PUBLISH_ERROR (hearth_center_publish_error_quark ())
GQuark hearth_center_publish_error_quark (void);

/**
 * HearthCenterPublishError:
 * @HEARTH_CENTER_PUBLISH_ERROR_INVALID: a document the center does not
 *   publish: not UTF-8, too large, not well-formed, without the version
 *   that keys it, thresholds of another county or under another root, or a
 *   version published already with other content (the message says which)
 */
typedef enum {
  HEARTH_CENTER_PUBLISH_ERROR_INVALID,
} HearthCenterPublishError;

/* The root element of a thresholds document, as in the bundled
 * schema/forms/media/thresholds.xml. */
#define HEARTH_CENTER_THRESHOLDS_ROOT "thresholds"

/**
 * hearth_center_published_id:
 * @table: "forms" or "thresholds"
 * @key: a form's id (%NULL for thresholds)
 * @version: the version
 *
 * The record id of a published document: the same on every center for the
 * same table, key and version (a UUID of version 8 made of the first 16
 * bytes of a BLAKE2b-256 of them).
 *
 * Returns: (transfer full): the id. Thread-safe.
 */
char *hearth_center_published_id (const char *table,
                                  const char *key,
                                  const char *version);

/**
 * hearth_center_import_registry:
 * @store: the center's store
 * @path: a county registry (app/case-registry.h: the format and checks of
 *   `hearth-cli household import`)
 * @n_households: (out) (optional): how many households were imported
 * @n_members: (out) (optional): how many members
 * @problems: (out) (optional) (transfer full) (element-type utf8): when
 *   refused for its rows, every bad row as "line N: reason"
 * @notices: (out) (optional) (transfer full) (element-type utf8): when
 *   imported, what was not, as "line N: …" (hearth_case_registry_get_notices())
 *
 * Checks every row, also that its village is in the county and that no
 * registry or ID number is the center's already, then stores every
 * household and member as edits of the center's own device (one edit per
 * field, new records, no parents), all in one transaction, or nothing.
 * A device whose scope holds a village receives its households with its
 * next pull.
 *
 * Returns: %FALSE with HEARTH_CASE_ERROR_INVALID (see @problems) or
 *   HEARTH_CENTER_STORE_ERROR.
 */
gboolean hearth_center_import_registry (HearthCenterStore *store,
                                        const char        *path,
                                        guint             *n_households,
                                        guint             *n_members,
                                        GPtrArray        **problems,
                                        GPtrArray        **notices,
                                        GError           **error);

/**
 * hearth_center_publish_form:
 * @path: an XForm file (at most 1 MiB, UTF-8)
 * @form_id: (out) (optional) (transfer full): its form id
 * @version: (out) (optional) (transfer full): its version
 * @already: (out) (optional): whether that version was published already
 *   with the same content (then nothing is stored)
 *
 * Loads the form with schema/form-model.h (it must load: the same checks as
 * `hearth-cli form check`), requires a form id and a version, and stores it
 * as a "forms" record keyed by both (hearth_center_published_id()).
 *
 * Returns: %FALSE with HEARTH_FORM_ERROR (naming the line and element),
 *   HEARTH_CENTER_PUBLISH_ERROR_INVALID, HEARTH_STORE_ERROR_BAD_FILE (too
 *   large), G_FILE_ERROR or HEARTH_CENTER_STORE_ERROR.
 */
gboolean hearth_center_publish_form (HearthCenterStore *store,
                                     const char        *path,
                                     char             **form_id,
                                     char             **version,
                                     gboolean          *already,
                                     GError           **error);

/* The longest title a published form may have, in characters (a form's
 * name in the tablets' lists). */
#define HEARTH_CENTER_FORM_TITLE_MAX 200

/**
 * hearth_center_read_form:
 * @path: an XForm file (at most 1 MiB, UTF-8)
 * @xml: (out) (optional) (transfer full): its text, as published
 *
 * The checks of hearth_center_publish_form() that need no store: the
 * file's text, the form loaded with schema/form-model.h, a new session of
 * it started as a tablet starts one (schema/form-session.h: binds on
 * missing nodes, calculation cycles and dangling references fail there),
 * its form id and version each one line of at most 128 bytes, its title
 * at most HEARTH_CENTER_FORM_TITLE_MAX characters.
 *
 * Returns: (transfer full) (nullable): the form, or %NULL with
 *   HEARTH_FORM_ERROR, HEARTH_CENTER_PUBLISH_ERROR_INVALID,
 *   HEARTH_STORE_ERROR_BAD_FILE (too large) or G_FILE_ERROR.
 */
HearthForm *hearth_center_read_form (const char  *path,
                                     char       **xml,
                                     GError     **error);

/**
 * hearth_center_read_thresholds:
 * @name: how messages name the document (its path)
 * @data: (array length=len): the document's bytes
 * @len: their number
 * @version: (out) (optional) (transfer full): its `version`, trimmed
 * @county: (out) (optional) (transfer full) (nullable): its `county`,
 *   trimmed, or %NULL without one
 *
 * The checks of hearth_center_set_thresholds() that need no store: UTF-8
 * text of 1 byte to HEARTH_CHANGE_MAX_VALUE without a NUL, well-formed XML
 * without a DOCTYPE, the root HEARTH_CENTER_THRESHOLDS_ROOT, a version
 * of one line of at most 128 bytes, and the figures the forms and tablets
 * read (schema/forms/README.md, "The thresholds instance") each present
 * and in bounds: at least one income line, one per year (2000 to 2100),
 * each a number from 1 to 1,000,000 as XPath reads numbers (no sign, no
 * exponent); the watch band 1 to 10, the income drop 0.01 to 1; the
 * periods whole days (follow-ups 1 to 366, the registration visit 0 to
 * 366, the elimination watch 1 to 3660); the routine visit periods, when
 * given, as hearth_published_visit_periods() reads them. Thread-safe, but for libxml2's error
 * handler, which it sets and resets on the calling thread.
 *
 * Returns: %FALSE with HEARTH_CENTER_PUBLISH_ERROR_INVALID (naming the
 *   line for XML that is not well-formed).
 */
gboolean hearth_center_read_thresholds (const char  *name,
                                        const char  *data,
                                        gsize        len,
                                        char       **version,
                                        char       **county,
                                        GError     **error);

/**
 * hearth_center_set_thresholds:
 * @path: a thresholds document (at most 1 MiB, UTF-8)
 * @version: (out) (optional) (transfer full): its version
 * @already: (out) (optional): whether that version was published already
 *   with the same content
 *
 * Checks that the document is well-formed XML without a DOCTYPE, that its
 * root is HEARTH_CENTER_THRESHOLDS_ROOT, that it has a `version` and that
 * its `county`, when present, is the center's; stores it as a "thresholds"
 * record keyed by the version.
 *
 * Returns: %FALSE with HEARTH_CENTER_PUBLISH_ERROR_INVALID (naming the
 *   line for XML that is not well-formed), HEARTH_STORE_ERROR_BAD_FILE,
 *   G_FILE_ERROR or HEARTH_CENTER_STORE_ERROR.
 */
gboolean hearth_center_set_thresholds (HearthCenterStore *store,
                                       const char        *path,
                                       char             **version,
                                       gboolean          *already,
                                       GError           **error);

/* The root element of a published division list (PROTOCOL.md section 6.2). */
#define HEARTH_CENTER_DIVISIONS_ROOT "divisions"
/* Bounds of `import-divisions`: rows, characters of a name, bytes of the file. */
#define HEARTH_CENTER_DIVISIONS_MAX 10000
#define HEARTH_CENTER_DIVISION_NAME_MAX 64
#define HEARTH_CENTER_DIVISIONS_FILE_MAX (4 * 1024 * 1024)

/**
 * hearth_center_read_divisions:
 * @name: how messages name the file (its path)
 * @data: (array length=len): the CSV's bytes
 * @len: their number
 * @county: the center's 6-digit county code
 * @version: the version the list is published under
 * @n: (out) (optional): the number of divisions
 *
 * The checks of hearth_center_import_divisions() that need no store: UTF-8
 * CSV with an optional BOM, the header `code,name`, then rows of a code of
 * @county (its own 6 digits, a township's 9 or a village's 12 starting with
 * them), each once, and a name of 1 to HEARTH_CENTER_DIVISION_NAME_MAX
 * characters on one line (surrounding blanks trimmed); blank lines are
 * skipped; at most HEARTH_CENTER_DIVISIONS_MAX rows. Thread-safe.
 *
 * Returns: (transfer full) (nullable): the list as published (the XML of
 *   PROTOCOL.md section 6.2), or %NULL with
 *   HEARTH_CENTER_PUBLISH_ERROR_INVALID naming the line and the field.
 */
char *hearth_center_read_divisions (const char  *name,
                                    const char  *data,
                                    gsize        len,
                                    const char  *county,
                                    const char  *version,
                                    guint       *n,
                                    GError     **error);

/**
 * hearth_center_import_divisions:
 * @path: a CSV file of division names (at most
 *   HEARTH_CENTER_DIVISIONS_FILE_MAX bytes)
 * @n: (out) (optional): the number of divisions named
 * @version: (out) (optional) (transfer full): the version published
 *
 * Reads @path with hearth_center_read_divisions() and publishes the whole
 * list as one "divisions" record whose version is the time of the import
 * (ISO 8601 UTC to the millisecond): tablets use the newest, so an import
 * replaces the names of the one before. Nothing is stored on any error.
 *
 * Returns: %FALSE with HEARTH_CENTER_PUBLISH_ERROR_INVALID,
 *   HEARTH_STORE_ERROR_BAD_FILE (too large), G_FILE_ERROR or
 *   HEARTH_CENTER_STORE_ERROR.
 */
gboolean hearth_center_import_divisions (HearthCenterStore *store,
                                         const char        *path,
                                         guint             *n,
                                         char             **version,
                                         GError           **error);

G_END_DECLS

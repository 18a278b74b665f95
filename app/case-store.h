/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-store.h: the case model over an open store (schema migration 2):
 * writes of households, members and tasks that stamp each changed field
 * with the hybrid logical clock (sync/hlc.h) and append an audit entry
 * naming the fields (app/case-audit.h), and the recording of a finalised
 * form into the case in one transaction: the submission, the household
 * properties its entities:saveto binds carry (ODK Entities 2024.1), the
 * members of a registration, the risk level, the follow-up task due on the
 * form's next_visit_date, and the move to village review when a visit
 * finds a risk (../shared/INTERFACES.md, "Monitoring workflow").
 *
 * Not thread-safe: one case store belongs to one thread at a time.
 */
#pragma once

#include <glib-object.h>
#include <libxml/tree.h>

#include "form-model.h"
#include "store.h"

G_BEGIN_DECLS

#define HEARTH_CASE_ERROR (hearth_case_error_quark ())
GQuark hearth_case_error_quark (void);

/**
 * HearthCaseError:
 * @HEARTH_CASE_ERROR_INVALID: a field, table or value the case model does
 *   not take (the message names it)
 * @HEARTH_CASE_ERROR_NOT_FOUND: no such household or record
 * @HEARTH_CASE_ERROR_SUBMISSION: a submission that cannot be recorded (not
 *   XML, another form, no instanceID, recorded already with other content)
 * @HEARTH_CASE_ERROR_SQLITE: the database refused a statement
 * @HEARTH_CASE_ERROR_REFUSED: a workflow transition this role may not make
 *   from the household's state, or without the comment it needs; the
 *   message says why
 */
typedef enum {
  HEARTH_CASE_ERROR_INVALID,
  HEARTH_CASE_ERROR_NOT_FOUND,
  HEARTH_CASE_ERROR_SUBMISSION,
  HEARTH_CASE_ERROR_SQLITE,
  HEARTH_CASE_ERROR_REFUSED,
} HearthCaseError;

/**
 * HearthRole: who acts in the monitoring workflow (../shared/INTERFACES.md).
 */
typedef enum {
  HEARTH_ROLE_WORKER,
  HEARTH_ROLE_CLERK,
  HEARTH_ROLE_TOWNSHIP,
  HEARTH_ROLE_COUNTY,
} HearthRole;

#define HEARTH_TYPE_CASE_STORE (hearth_case_store_get_type ())
G_DECLARE_FINAL_TYPE (HearthCaseStore, hearth_case_store, HEARTH, CASE_STORE, GObject)

/**
 * hearth_case_store_new:
 * @store: an open store (a reference is kept)
 * @actor: the user making the changes (audit entries name them)
 *
 * Reads, or makes once, this store's device id and resumes its clock.
 *
 * Returns: (transfer full) (nullable): the case store, or %NULL with
 *   HEARTH_CASE_ERROR_INVALID for an empty actor, or _SQLITE.
 */
HearthCaseStore *hearth_case_store_new (HearthStore *store,
                                        const char  *actor,
                                        GError     **error);

/** hearth_case_store_get_device_id: Returns: (transfer none): this store's device id. */
const char *hearth_case_store_get_device_id (HearthCaseStore *self);

/**
 * hearth_case_store_set_wall_clock:
 * @now_ms: (nullable): milliseconds since 1970 for the clock and the
 *   records' times, for tests; %NULL: the system clock
 */
void hearth_case_store_set_wall_clock (HearthCaseStore *self,
                                       gint64 (*now_ms) (gpointer data),
                                       gpointer data);

/**
 * hearth_case_write:
 * @table: "households", "members" or "tasks"
 * @id: the record's UUID
 * @create: insert a new record (else update an existing one)
 * @fields: (element-type utf8 utf8): column → value; columns the case
 *   model owns (ids, times, versions, the workflow state) are refused
 * @action: the audit action ("create", "update", …)
 * @changed: (out) (optional): how many fields changed
 *
 * Writes only the fields whose value changes: each gets a new clock stamp
 * (field_versions) and the audit entry names them; an update that changes
 * nothing writes nothing. Runs in its own savepoint.
 *
 * Returns: %FALSE with HEARTH_CASE_ERROR_INVALID, _NOT_FOUND or _SQLITE
 *   (nothing written).
 */
gboolean hearth_case_write (HearthCaseStore *self,
                            const char      *table,
                            const char      *id,
                            gboolean         create,
                            GHashTable      *fields,
                            const char      *action,
                            guint           *changed,
                            GError         **error);

/**
 * hearth_case_record_submission:
 * @form: the form the submission was made with
 * @xml: the finalised submission (hearth_form_session_finalise())
 * @household_id: (nullable): the household a visit is for; %NULL: the
 *   entity id the submission names
 *
 * Records the submission and updates the case, all in one transaction:
 * wholly saved or not at all. Recording the same submission again changes
 * nothing.
 *
 * Returns: (transfer full) (nullable): the submission id (the instanceID
 *   without "uuid:"), or %NULL with a HEARTH_CASE_ERROR.
 */
char *hearth_case_record_submission (HearthCaseStore  *self,
                                     const HearthForm *form,
                                     const char       *xml,
                                     const char       *household_id,
                                     GError          **error);

/* The largest registry file accepted, in bytes. */
#define HEARTH_REGISTRY_MAX_BYTES (64 * 1024 * 1024)

/**
 * hearth_case_import_registry:
 * @path: a county registry exported as CSV, one row per member: UTF-8
 *   (with or without a byte order mark) or GB18030; the columns are named
 *   in the first row, in English or Chinese (schema/forms/README.md,
 *   "Registry import")
 * @households: (out) (optional): how many households were imported
 * @members: (out) (optional): how many members
 * @problems: (out) (optional) (transfer full) (element-type utf8): when
 *   refused, every bad row as "line N: reason"
 *
 * Checks every row (required columns, the 12-digit village code, the ID
 * number's checksum and birth date, the relation to the head, one head per
 * household, no registry number or ID number twice) and imports all rows
 * in one transaction, or none.
 *
 * Returns: %FALSE with HEARTH_CASE_ERROR_INVALID (see @problems) for bad
 *   rows, or for a file that cannot be read, is not UTF-8 or GB18030, or
 *   is too large; _SQLITE.
 */
gboolean hearth_case_import_registry (HearthCaseStore *self,
                                      const char      *path,
                                      guint           *households,
                                      guint           *members,
                                      GPtrArray      **problems,
                                      GError         **error);

/**
 * hearth_case_build_instance:
 * @household_id: the household a form is opened for
 *
 * The `case` secondary instance of ../shared/INTERFACES.md ("Forms and
 * cases"; format in schema/forms/README.md): the household's properties
 * and entity version, its members, and a summary of its last visit, so a
 * visit form can compare with the previous one.
 *
 * Returns: (transfer full) (nullable): the instance (root element
 *   `household`), or %NULL with HEARTH_CASE_ERROR_NOT_FOUND or _SQLITE.
 */
xmlDoc *hearth_case_build_instance (HearthCaseStore *self,
                                    const char      *household_id,
                                    GError         **error);

/**
 * hearth_case_transition:
 * @household_id: the household
 * @role: the role of the case store's actor
 * @action: "declare", "approve", "return", "reject", "propose-elimination"
 *   or "revert"
 * @comment: (nullable): why; needed to return or reject
 * @new_state: (out) (optional) (transfer full): the state after the move
 *
 * Moves the household through the monitoring workflow of
 * ../shared/INTERFACES.md when @role may make that move from its state,
 * with an immutable review record (who, role, when, from, to, why) and an
 * audit entry, in one transaction. Returning a case opens a correction
 * task for the worker who made the visit that raised it; eliminating a
 * risk needs the clerk's approval before the county's.
 *
 * Returns: %FALSE with HEARTH_CASE_ERROR_REFUSED saying why, _NOT_FOUND,
 *   _INVALID (unknown action) or _SQLITE; nothing is written then.
 */
gboolean hearth_case_transition (HearthCaseStore *self,
                                 const char      *household_id,
                                 HearthRole       role,
                                 const char      *action,
                                 const char      *comment,
                                 char           **new_state,
                                 GError         **error);

G_END_DECLS

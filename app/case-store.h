/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-store.h: the case model over an open store (schema migration 2):
 * writes of households, members and tasks that stamp each changed field
 * with the hybrid logical clock (sync/hlc.h), and the recording of a finalised
 * form into the case in one transaction: the submission, the household
 * properties its entities:saveto binds carry (ODK Entities 2024.1), the
 * members of a registration, the risk level, the follow-up task due on the
 * form's next_visit_date, and the move to village review when a visit
 * finds a risk (../shared/INTERFACES.md, "Monitoring workflow"); and the
 * household's assistance measures (migration 5): added by the county or
 * the village clerk, on their own or with the approval into monitoring,
 * and the latest follow-up's report on each. Every change enters the sync
 * outbox in the transaction that makes it (app/sync-store.h).
 *
 * Each public operation that writes is one user action with one audit
 * entry (app/case-audit.h) in its transaction: it names the action, the
 * record the action is about and every record it wrote with the fields it
 * wrote (a visit: the submission, the household, the tasks closed and
 * opened, the measures reported on, the review; a move: the household,
 * its review, the measures and the correction task). A registry import
 * is one action per household. An operation that writes nothing appends
 * nothing. *
 * Not thread-safe: one case store belongs to one thread at a time.
 */
#pragma once

#include <glib-object.h>
#include <libxml/tree.h>

#include "form-model.h"
#include "store.h"
#include "workflow.h"

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

#define HEARTH_TYPE_CASE_STORE (hearth_case_store_get_type ())
G_DECLARE_FINAL_TYPE (HearthCaseStore, hearth_case_store, HEARTH, CASE_STORE, GObject)

/**
 * hearth_case_store_new:
 * @store: an open store (a reference is kept)
 * @actor: the user making the changes (audit entries name them)
 *
 * Reads, or makes once, this store's device id and resumes its clock. The
 * first time it opens a store used before sync, puts all its data in the
 * sync outbox (hearth_sync_capture_new()).
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
 * @action: the audit entry's action ("create", "update", …)
 * @changed: (out) (optional): how many fields changed
 *
 * Writes only the fields whose value changes: each gets a new clock stamp
 * (record_versions) and an edit in the sync outbox (app/sync-store.h), and
 * the write's audit entry (its own: a user action) names them; an update
 * that changes nothing writes nothing. Runs in its own savepoint.
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
 * wholly saved or not at all. A follow-up's reports on the household's
 * measures (the repeat /ROOT/measures/measure, matched by measure_id)
 * become each measure's last progress, effect and remark, unless a later
 * follow-up reported already; ids of no measure of the household are
 * skipped. Recording the same submission again changes nothing.
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
/* The longest registry value accepted, in characters (an address, a name). */
#define HEARTH_REGISTRY_MAX_CHARS 256
/* Problems a registry's check lists at the most: the rest of a file of
 * thousands of bad rows (one imported twice) is not read. */
#define HEARTH_REGISTRY_MAX_PROBLEMS 1000

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
 * @notices: (out) (optional) (transfer full) (element-type utf8): when
 *   imported, what was not, as "line N: …" (hearth_case_registry_get_notices())
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
                                      GPtrArray      **notices,
                                      GError         **error);

/**
 * hearth_case_build_instance:
 * @household_id: the household a form is opened for
 *
 * The `case` secondary instance of ../shared/INTERFACES.md ("Forms and
 * cases"; format in schema/forms/README.md): the household's properties
 * and entity version, its members, a summary of its last visit, so a
 * visit form can compare with the previous one, and its active assistance
 * measures by start date (then id), which the follow-up form asks about.
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

/**
 * HearthMeasureSpec:
 * @type: a code of the forms' `measures` list (hearth_case_measure_types())
 * @description: what is done, for whom (shown on the follow-up form)
 * @started_on: (nullable): the date it starts, YYYY-MM-DD; %NULL: today
 *   (the local date)
 *
 * An assistance measure to add (../shared/DOMAIN.md, "Assistance
 * measures"). The strings stay the caller's.
 */
typedef struct {
  const char *type;
  const char *description;
  const char *started_on;
} HearthMeasureSpec;

/**
 * hearth_case_measure_types:
 *
 * The codes an assistance measure's type takes: those of the `measures`
 * list of the bundled forms (schema/forms/README.md). Thread-safe.
 *
 * Returns: (transfer none) (array zero-terminated=1): the codes.
 */
const char *const *hearth_case_measure_types (void);

/**
 * hearth_case_add_measure:
 * @household_id: the household the measure is for
 * @role: the role of the case store's actor: the county or the village
 *   clerk decides measures
 * @spec: the measure
 * @measure_id: (out) (optional) (transfer full): the new measure's UUID
 *
 * Adds an active assistance measure to the household, stamped field by
 * field and with its audit entry, in one transaction. The household's
 * follow-up form then reports on it (the `case` instance lists the active
 * measures).
 *
 * Returns: %FALSE with HEARTH_CASE_ERROR_REFUSED (a role that does not
 *   decide measures), _NOT_FOUND (no such household), _INVALID (an
 *   unknown type, named in the message, no description, or a bad date) or
 *   _SQLITE; nothing is written then. Not thread-safe (as the case store).
 */
gboolean hearth_case_add_measure (HearthCaseStore         *self,
                                  const char              *household_id,
                                  HearthRole               role,
                                  const HearthMeasureSpec *spec,
                                  char                   **measure_id,
                                  GError                 **error);

/**
 * hearth_case_end_measure:
 * @measure_id: the measure
 * @role: the role of the case store's actor: the county or the village
 *   clerk
 * @ended_on: (nullable): the date it ended, YYYY-MM-DD, not before it
 *   started; %NULL: today (the local date)
 *
 * Ends an active measure, with its audit entry, in one transaction: the
 * follow-up form no longer asks about it. A follow-up reporting a measure
 * `completed` or `stopped` does not end it: ending is this decision.
 *
 * Returns: %FALSE with HEARTH_CASE_ERROR_REFUSED (the role, or a measure
 *   ended already), _NOT_FOUND, _INVALID (a bad date, or one before the
 *   start) or _SQLITE; nothing is written then. Not thread-safe.
 */
gboolean hearth_case_end_measure (HearthCaseStore *self,
                                  const char      *measure_id,
                                  HearthRole       role,
                                  const char      *ended_on,
                                  GError         **error);

/**
 * hearth_case_transition_with_measures:
 * @measures: (array length=n_measures) (nullable): assistance measures
 *   decided with the move
 * @n_measures: how many
 *
 * As hearth_case_transition(), and adds @measures in the same transaction
 * as the review record (each measure's created_by is the review's id), as
 * when the county approves a case into monitoring with its measures. With
 * measures, the move must lead to `monitored` and @role must be one that
 * decides measures (hearth_case_add_measure()); every measure is checked
 * before anything is written.
 *
 * Returns: %FALSE with an error as for hearth_case_transition() or
 *   hearth_case_add_measure() (HEARTH_CASE_ERROR_REFUSED for measures
 *   with a move that does not lead to `monitored`); nothing is written
 *   then. Not thread-safe.
 */
gboolean hearth_case_transition_with_measures (HearthCaseStore         *self,
                                               const char              *household_id,
                                               HearthRole               role,
                                               const char              *action,
                                               const char              *comment,
                                               const HearthMeasureSpec *measures,
                                               guint                    n_measures,
                                               char                   **new_state,
                                               GError                 **error);

/**
 * hearth_case_resolve_conflict:
 * @conflict_id: an open conflict (conflicts.id)
 * @role: the role of the case store's actor: a village clerk or the county
 * @value: the value chosen: either side's or a new one
 *
 * Resolves the conflict's field (sync/PROTOCOL.md section 6.3, rule 4): an
 * edit whose parents are all the field's heads, so every open conflict of
 * that field closes here and, once the edit is synced, everywhere; with an
 * audit entry, in one transaction.
 *
 * Returns: %FALSE with HEARTH_CASE_ERROR_REFUSED (another role),
 *   _NOT_FOUND (no such open conflict), _INVALID (a value the field does
 *   not take), or HEARTH_SYNC_STORE_ERROR_SQLITE; nothing is written then.
 */
gboolean hearth_case_resolve_conflict (HearthCaseStore *self,
                                       const char      *conflict_id,
                                       HearthRole       role,
                                       const char      *value,
                                       GError         **error);

/* ---- For sync (app/sync-store.h) --------------------------------------- */

/** hearth_case_store_get_db: Returns: (transfer none): the store's connection. */
sqlite3 *hearth_case_store_get_db (HearthCaseStore *self);

/** hearth_case_store_now_ms: Returns: the case store's wall clock, ms since 1970. */
gint64 hearth_case_store_now_ms (HearthCaseStore *self);

/**
 * hearth_case_store_receive_hlc:
 * @hlc: a version received from another replica
 *
 * Moves this store's clock past @hlc and keeps it, so every later local
 * edit is ordered after what the device has seen (call inside the
 * transaction that stores what was received).
 *
 * Returns: %FALSE with HEARTH_HLC_ERROR_INVALID or HEARTH_CASE_ERROR_SQLITE.
 */
gboolean hearth_case_store_receive_hlc (HearthCaseStore *self,
                                        const char      *hlc,
                                        GError         **error);

G_END_DECLS

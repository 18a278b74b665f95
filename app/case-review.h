/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-review.h: what waits for a role's decision, as the clerk's and the
 * county's screens show it: the cases in the states a role moves on
 * (../shared/INTERFACES.md, "Monitoring workflow"; `hearth-cli review
 * list`), each with the visit that raised it; a recorded submission; and
 * the open conflicts (sync/PROTOCOL.md section 6.3) grouped by field, each
 * value with where and when it was recorded, for a choice per field
 * (hearth_case_resolve_conflict()).
 *
 * Thread-safety: as the store's connection.
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

#include "workflow.h"

G_BEGIN_DECLS

/* The most cases a queue reads at once. */
#define HEARTH_REVIEW_QUEUE_MAX 200

/**
 * HearthReviewItem:
 * @household_id: the household
 * @head_name: its head
 * @village_code: its village
 * @address: its address ("" when none)
 * @risk_level: "red", "orange", "yellow" or "none"
 * @risk_types: space-separated codes
 * @monitoring_status: the state it waits in
 * @submission_id: the visit that raised it (the one that set the risk
 *   level, else the household's latest); "" when none
 * @form_id: that visit's form ("" when none)
 * @author: who made it ("" when none)
 * @ended_at: when it ended, ISO 8601 ("" when none)
 *
 * Free with hearth_review_item_free().
 */
typedef struct {
  char *household_id;
  char *head_name;
  char *village_code;
  char *address;
  char *risk_level;
  char *risk_types;
  char *monitoring_status;
  char *submission_id;
  char *form_id;
  char *author;
  char *ended_at;
} HearthReviewItem;

void hearth_review_item_free (HearthReviewItem *item);

/**
 * hearth_case_review_queue:
 * @role: whose decisions: a clerk's village review and eliminations, the
 *   township's and the county's approvals, a worker's returned cases
 *
 * Returns: (transfer full) (element-type HearthReviewItem) (nullable): at
 *   most HEARTH_REVIEW_QUEUE_MAX cases, by village, head and id; %NULL
 *   with HEARTH_CASE_ERROR_SQLITE.
 */
GPtrArray *hearth_case_review_queue (sqlite3    *db,
                                     HearthRole  role,
                                     GError    **error);

/**
 * HearthSubmission:
 * @id: the submission (its instanceID without "uuid:")
 * @form_id: its form
 * @form_version: the form's version ("" when it named none)
 * @household_id: (nullable): its household
 * @author: who made it
 * @ended_at: when it ended
 * @risk_level: the risk level it found ("" when the form sets none)
 * @xml: the submission as recorded
 *
 * Free with hearth_submission_free().
 */
typedef struct {
  char *id;
  char *form_id;
  char *form_version;
  char *household_id;
  char *author;
  char *ended_at;
  char *risk_level;
  char *xml;
} HearthSubmission;

void hearth_submission_free (HearthSubmission *submission);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthSubmission, hearth_submission_free)

/**
 * hearth_case_submission_read:
 *
 * Returns: (transfer full) (nullable): the submission, or %NULL with
 *   HEARTH_CASE_ERROR_NOT_FOUND or _SQLITE, or HEARTH_STORE_ERROR_CORRUPT
 *   naming the submission when its stored form is damaged
 *   (store-packed.h).
 */
HearthSubmission *hearth_case_submission_read (sqlite3    *db,
                                               const char *id,
                                               GError    **error);

/**
 * HearthConflictValue:
 * @value: a value the field was given
 * @wall: when, on the recording device's clock (ISO 8601; "" unknown)
 * @device_id: the device that recorded it ("" unknown)
 * @kept: the value the field holds now (the merge rules' winner)
 */
typedef struct {
  char *value;
  char *wall;
  char *device_id;
  gboolean kept;
} HearthConflictValue;

/**
 * HearthFieldConflict:
 * @conflict_id: one open conflict of the field (resolving it resolves
 *   them all: hearth_case_resolve_conflict())
 * @record_table: "households", "members", "tasks" or "measures"
 * @record_id: the record
 * @field: the field
 * @household_id: the household the record belongs to ("" unknown)
 * @head_name: its head ("" unknown)
 * @values: (element-type HearthConflictValue): the kept value first, then
 *   the others, each once
 *
 * Free with hearth_field_conflict_free().
 */
typedef struct {
  char *conflict_id;
  char *record_table;
  char *record_id;
  char *field;
  char *household_id;
  char *head_name;
  GPtrArray *values;
} HearthFieldConflict;

void hearth_field_conflict_free (HearthFieldConflict *conflict);

/**
 * hearth_case_conflicts_list:
 * @household_id: (nullable): one household's; %NULL: all
 *
 * Returns: (transfer full) (element-type HearthFieldConflict) (nullable):
 *   the fields with open conflicts, by household and field; %NULL with
 *   HEARTH_CASE_ERROR_SQLITE.
 */
GPtrArray *hearth_case_conflicts_list (sqlite3    *db,
                                       const char *household_id,
                                       GError    **error);

G_END_DECLS

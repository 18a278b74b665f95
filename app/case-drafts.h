/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-drafts.h: forms being filled on this device (migration 0008): the
 * working instance of each (hearth_form_session_save_draft()), the form
 * and version it was begun with, the household it is for and where the
 * user was, saved after every answer so that leaving the form, the idle
 * lock or a killed app loses nothing. Drafts are this device's own and
 * never enter the sync outbox; finishing one records its submission and
 * deletes it in one transaction.
 *
 * Thread-safety: as the store's connection (one thread at a time).
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

#include "case-store.h"

G_BEGIN_DECLS

/* The largest draft kept, in bytes (a form's working instance). */
#define HEARTH_DRAFT_MAX_BYTES HEARTH_FORM_MAX_BYTES

/**
 * HearthDraft:
 * @id: the draft's UUID
 * @form_id: the form's id
 * @form_version: the form's version it was begun with
 * @household_id: (nullable): the household; %NULL for a registration
 * @instance_id: the submission's meta/instanceID
 * @label: meta/instanceName as it stood at the last save ("" when none)
 * @page: where the user was (the form screen's page key; "" the first)
 * @xml: (nullable): the working instance; %NULL in lists
 * @created_at: when it was begun, ISO 8601 UTC
 * @updated_at: when it was last saved, ISO 8601 UTC
 * @head_name: the household's head as the store knows it ("" for a
 *   registration or a household not on this device)
 *
 * Free with hearth_draft_free().
 */
typedef struct {
  char *id;
  char *form_id;
  char *form_version;
  char *household_id;
  char *instance_id;
  char *label;
  char *page;
  char *xml;
  char *created_at;
  char *updated_at;
  char *head_name;
} HearthDraft;

void hearth_draft_free (HearthDraft *draft);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthDraft, hearth_draft_free)

/**
 * hearth_draft_save:
 * @cases: the case store (its clock stamps the times)
 * @draft: the draft: @id, @form_id, @form_version, @instance_id and @xml
 *   required, @household_id, @label and @page optional; the times are
 *   set here (@created_at kept when the draft exists already)
 *
 * Inserts or replaces the draft in one statement.
 *
 * Returns: %FALSE with HEARTH_CASE_ERROR_INVALID (a missing member, an
 *   id that is not a UUID, a draft larger than HEARTH_DRAFT_MAX_BYTES) or
 *   _SQLITE; the stored draft is then as it was.
 */
gboolean hearth_draft_save (HearthCaseStore   *cases,
                            const HearthDraft *draft,
                            GError           **error);

/**
 * hearth_draft_read:
 * @id: a draft's id
 *
 * Returns: (transfer full) (nullable): the draft with its @xml, or %NULL
 *   with HEARTH_CASE_ERROR_NOT_FOUND or _SQLITE.
 */
HearthDraft *hearth_draft_read (sqlite3    *db,
                                const char *id,
                                GError    **error);

/**
 * hearth_drafts_list:
 * @household_id: (nullable): one household's drafts; %NULL: every draft
 *
 * Drafts whose submission was recorded already (a finish interrupted
 * between the two, which one transaction prevents, or a draft restored
 * from a backup) are left out.
 *
 * Returns: (transfer full) (element-type HearthDraft) (nullable): the
 *   drafts without their @xml, the last saved first; %NULL with
 *   HEARTH_CASE_ERROR_SQLITE.
 */
GPtrArray *hearth_drafts_list (sqlite3    *db,
                               const char *household_id,
                               GError    **error);

/**
 * hearth_draft_delete:
 *
 * Deletes a draft (the user discarded it); an unknown id is no error.
 *
 * Returns: %FALSE with HEARTH_CASE_ERROR_SQLITE.
 */
gboolean hearth_draft_delete (sqlite3    *db,
                              const char *id,
                              GError    **error);

/**
 * hearth_draft_finish:
 * @cases: the case store of the user
 * @draft_id: the draft the submission was finalised from
 * @form: the form it was made with
 * @xml: the finalised submission (hearth_form_session_finalise())
 * @household_id: (nullable): as for hearth_case_record_submission()
 *
 * Records the submission (hearth_case_record_submission()) and deletes
 * the draft in one transaction: both happen or neither.
 *
 * Returns: (transfer full) (nullable): the submission id, or %NULL with
 *   the errors of hearth_case_record_submission() or
 *   HEARTH_CASE_ERROR_SQLITE; then the draft is kept and nothing recorded.
 */
char *hearth_draft_finish (HearthCaseStore  *cases,
                           const char       *draft_id,
                           const HearthForm *form,
                           const char       *xml,
                           const char       *household_id,
                           GError          **error);

G_END_DECLS

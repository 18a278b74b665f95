/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-forms.h: the form a visit opens, as `hearth-cli visit record --form
 * ID` resolves it: the county's newest published version of the form
 * (app/case-published.h) over the bundled one, the county's published
 * thresholds over the bundled `thresholds` instance, and the household's
 * `case` instance (hearth_case_build_instance()); or, for a draft, the
 * version the draft was begun with while this device still has it.
 *
 * Thread-safety: as the case store (one thread at a time).
 */
#pragma once

#include <glib.h>

#include "case-store.h"
#include "form-model.h"
#include "store.h"

G_BEGIN_DECLS

/**
 * HearthCaseForm:
 * @form: (transfer full): the form loaded (steal it for a form session)
 * @version: its version ("" when the form names none)
 * @published: it is a version the county published, not a bundled form
 * @other_version: a version was asked for (a draft's) and this device no
 *   longer has it: @form is the newest instead
 * @media_dir: (nullable): the bundled forms' media folder, where the
 *   external instances the form names come from
 * @instances: (element-type utf8 xmlDoc): the secondary instances to give
 *   the form session (`case` for a household, `thresholds` when the
 *   county published some); owned
 *
 * Free with hearth_case_form_free().
 */
typedef struct {
  HearthForm *form;
  char *version;
  gboolean published;
  gboolean other_version;
  char *media_dir;
  GHashTable *instances;
} HearthCaseForm;

void hearth_case_form_free (HearthCaseForm *form);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthCaseForm, hearth_case_form_free)

/**
 * hearth_case_form_open:
 * @store: the open store (what the county published)
 * @cases: the user's case store over @store
 * @bundled_dirs: (array zero-terminated=1): the folders of the bundled
 *   forms, searched in order (each form's external instances are in its
 *   folder's `media`)
 * @form_id: the form's id (`hearth_household_visit`)
 * @version: (nullable): the version wanted (a draft's); %NULL: the newest
 * @household_id: (nullable): the household the form is for: its `case`
 *   instance is supplied; %NULL for a registration
 *
 * Returns: (transfer full) (nullable): the form and its instances, or
 *   %NULL with HEARTH_CASE_ERROR_NOT_FOUND (no such form on this device,
 *   or no such household), _SQLITE, _INVALID (the county's thresholds are
 *   not well-formed, or a form it published is not the form and version
 *   it named) or a HEARTH_FORM_ERROR (a form that does not load).
 */
HearthCaseForm *hearth_case_form_open (HearthStore        *store,
                                       HearthCaseStore    *cases,
                                       const char *const  *bundled_dirs,
                                       const char         *form_id,
                                       const char         *version,
                                       const char         *household_id,
                                       GError            **error);

G_END_DECLS

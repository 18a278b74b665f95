/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * form-session.h: filling one ODK XForm, independent of any toolkit.
 *
 * A session owns a working copy of the form's primary instance. It keeps
 * calculations and relevance up to date through a dependency graph built
 * from the binds' references (ODK XForms specification, "Bindings"; W3C
 * XForms 1.0, section 4.3 recalculation): setting an answer recomputes only
 * what depends on it, in topological order. A cycle among calculations is
 * refused when the session is created, naming the binds.
 *
 * It walks the body as pages (a `field-list` group is one page, any other
 * question its own page), takes typed answers, adds and removes repeat
 * instances (following `jr:count` and `jr:noAddRemove`), validates with
 * the form's messages in the current language, saves and resumes drafts,
 * and finalises into the submission XML that ODK Collect would send:
 * non-relevant nodes left out, `meta/instanceID` as `uuid:…`,
 * `deprecatedID` when a finalised submission is edited.
 *
 * Not thread-safe: one session belongs to one thread at a time.
 */
#pragma once

#include <glib-object.h>

#include "form-model.h"

G_BEGIN_DECLS

#define HEARTH_FORM_SESSION_ERROR (hearth_form_session_error_quark ())
GQuark hearth_form_session_error_quark (void);

/**
 * HearthFormSessionError:
 * @HEARTH_FORM_SESSION_ERROR_UNKNOWN_PATH: the path names no node of the
 *   instance, or a group rather than a question
 * @HEARTH_FORM_SESSION_ERROR_READONLY: the node is calculated or read-only
 * @HEARTH_FORM_SESSION_ERROR_TYPE: the value does not fit the bind's type
 *   or the question's choices
 * @HEARTH_FORM_SESSION_ERROR_REPEAT: a repeat cannot be added or removed
 *   there (`jr:count`, `jr:noAddRemove`, not a repeat, too many)
 * @HEARTH_FORM_SESSION_ERROR_CYCLE: calculations depend on each other in a
 *   cycle; the message names the binds
 * @HEARTH_FORM_SESSION_ERROR_DRAFT: a draft is not well-formed or belongs to
 *   another form
 * @HEARTH_FORM_SESSION_ERROR_EVAL: an expression failed while evaluating;
 *   the message names the bind and the expression's error
 * @HEARTH_FORM_SESSION_ERROR_INVALID: finalising found answers that fail
 *   validation (the issues are returned separately)
 */
typedef enum {
  HEARTH_FORM_SESSION_ERROR_UNKNOWN_PATH,
  HEARTH_FORM_SESSION_ERROR_READONLY,
  HEARTH_FORM_SESSION_ERROR_TYPE,
  HEARTH_FORM_SESSION_ERROR_REPEAT,
  HEARTH_FORM_SESSION_ERROR_CYCLE,
  HEARTH_FORM_SESSION_ERROR_DRAFT,
  HEARTH_FORM_SESSION_ERROR_EVAL,
  HEARTH_FORM_SESSION_ERROR_INVALID,
} HearthFormSessionError;

/* The most instances one repeat may hold, and the longest answer in bytes. */
#define HEARTH_FORM_MAX_REPEATS 1000
#define HEARTH_FORM_MAX_ANSWER (64 * 1024)
/* The most repeat instances one submission may hold, all repeats together. */
#define HEARTH_FORM_MAX_INSTANCES 5000

/**
 * HearthFormSessionOptions:
 * @now: (nullable): fixes now(), today() and the start and end preloads, as
 *   an ISO 8601 dateTime with offset; today() is its calendar date as
 *   written. %NULL: the clock, in local time.
 * @instance_id: (nullable): fixes meta/instanceID (with or without the
 *   `uuid:` prefix); %NULL: a random version 4 UUID
 * @language: (nullable): the language, by name or code; %NULL: the form's
 *   default
 * @device_id: (nullable): the `deviceid` property preload
 * @username: (nullable): the `username` property preload
 * @media_dir: (nullable): where attachments are: an attachment answer
 *   must name a file there; %NULL: any file name is taken
 * @instances: (nullable) (element-type utf8 xmlDoc): secondary instances
 *   that replace the form's of the same id (the case model supplies `case`);
 *   copied by the session
 */
typedef struct {
  const char *now;
  const char *instance_id;
  const char *language;
  const char *device_id;
  const char *username;
  const char *media_dir;
  GHashTable *instances;
} HearthFormSessionOptions;

/**
 * HearthFormIssue:
 * @path: the node, as an instance path with repeat indices
 *   (`/data/members[2]/id_number`)
 * @kind: "required", "constraint" or "type"
 * @message: in the current language: the form's jr:requiredMsg or
 *   jr:constraintMsg, else Hearth's own
 */
typedef struct {
  char *path;
  char *kind;
  char *message;
} HearthFormIssue;

void hearth_form_issue_free (HearthFormIssue *issue);

/**
 * HearthFormChoiceItem: a choice as shown: its name and its label in the
 * current language.
 */
typedef struct {
  char *value;
  char *label;
} HearthFormChoiceItem;

/**
 * HearthFormQuestion:
 * @path: the node, as an instance path with repeat indices
 * @control: (transfer none): the body control
 * @type: the bind's type without prefix ("string", "int", "date", …)
 * @label: (nullable): rendered, outputs evaluated
 * @hint: (nullable): rendered
 * @value: the stored value ("" when blank)
 * @required: the required expression holds now
 * @readonly: calculated, or the readonly expression holds now
 * @choices: (nullable) (element-type HearthFormChoiceItem): for select1 and
 *   select, the choices as they are now (itemsets filtered)
 */
typedef struct {
  char *path;
  const HearthFormControl *control;
  const char *type;
  char *label;
  char *hint;
  char *value;
  gboolean required;
  gboolean readonly;
  GPtrArray *choices;
} HearthFormQuestion;

typedef enum {
  HEARTH_FORM_PAGE_QUESTIONS,
  HEARTH_FORM_PAGE_REPEAT_PROMPT,
} HearthFormPageKind;

/**
 * HearthFormPage:
 * @kind: questions, or the prompt to add another instance of a repeat
 * @label: (nullable): the field-list group's label, or the repeat's
 * @path: (nullable): the field-list group's node; for a prompt, the node
 *   the new instance would go under (the repeat's parent)
 * @repeat: (nullable): the repeat's generic path (`/data/members`): for a
 *   prompt, the repeat to add to; else the innermost repeat the page is in
 * @repeat_count: for a prompt, how many instances there are now
 * @questions: (element-type HearthFormQuestion): empty for a prompt
 */
typedef struct {
  HearthFormPageKind kind;
  char *label;
  char *path;
  char *repeat;
  guint repeat_count;
  GPtrArray *questions;
} HearthFormPage;

void hearth_form_page_free (HearthFormPage *page);

#define HEARTH_TYPE_FORM_SESSION (hearth_form_session_get_type ())
G_DECLARE_FINAL_TYPE (HearthFormSession, hearth_form_session, HEARTH, FORM_SESSION, GObject)

/**
 * hearth_form_session_new:
 * @form: (transfer full): a loaded form; the session owns it
 * @options: (nullable): fixed time, instance id, language, replacement
 *   secondary instances
 *
 * Starts a new submission: repeat templates removed, preloads filled,
 * odk-instance-first-load and odk-instance-load actions run, everything
 * calculated.
 *
 * Returns: (transfer full) (nullable): the session, or %NULL with
 *   HEARTH_FORM_SESSION_ERROR_CYCLE, _EVAL or a HEARTH_FORM_ERROR for an
 *   unknown language.
 */
HearthFormSession *hearth_form_session_new (HearthForm                     *form,
                                            const HearthFormSessionOptions *options,
                                            GError                        **error);

/**
 * hearth_form_session_new_from_draft:
 * @form: (transfer full): the form the draft was made with
 * @xml: the draft (hearth_form_session_save_draft()) or a finalised
 *   submission, UTF-8, at most %HEARTH_FORM_MAX_BYTES
 * @len: its length in bytes, or -1 when NUL-terminated
 * @edit_finalised: the XML is a finalised submission being edited: it gets
 *   a new instanceID and keeps the old one as deprecatedID
 * @options: (nullable): as for hearth_form_session_new(); @instance_id is
 *   used only with @edit_finalised
 *
 * Resumes: values are kept exactly as written (a date or a time nobody
 * touches is never rewritten); odk-instance-load actions run and
 * calculations are brought up to date.
 *
 * Returns: (transfer full) (nullable): the session, or %NULL with
 *   HEARTH_FORM_SESSION_ERROR_DRAFT naming what is wrong.
 */
HearthFormSession *hearth_form_session_new_from_draft (HearthForm                     *form,
                                                       const char                     *xml,
                                                       gssize                          len,
                                                       gboolean                        edit_finalised,
                                                       const HearthFormSessionOptions *options,
                                                       GError                        **error);

/** hearth_form_session_get_form: Returns: (transfer none): the form. */
const HearthForm *hearth_form_session_get_form (HearthFormSession *self);

/**
 * hearth_form_session_set_language:
 * @language: a language of the form, by name (`English (en)`) or code (`en`)
 *
 * Returns: %FALSE with HEARTH_FORM_ERROR_INVALID when the form has no such
 *   language.
 */
gboolean hearth_form_session_set_language (HearthFormSession *self,
                                           const char        *language,
                                           GError           **error);

/** hearth_form_session_get_language: Returns: (transfer none) (nullable): the form's name of the current language. */
const char *hearth_form_session_get_language (HearthFormSession *self);

/**
 * hearth_form_session_get_value:
 * @path: an instance path with repeat indices
 *
 * Returns: (transfer full) (nullable): the stored value, "" when blank;
 *   %NULL with HEARTH_FORM_SESSION_ERROR_UNKNOWN_PATH.
 */
char *hearth_form_session_get_value (HearthFormSession *self,
                                     const char        *path,
                                     GError           **error);

/**
 * hearth_form_session_set_value:
 * @path: an instance path with repeat indices (`/data/members[2]/name`)
 * @value: (nullable): the answer as the instance stores it; %NULL or ""
 *   clears it. Numbers are normalised (15 significant digits), a select
 *   answer's names are deduplicated; dates, times and text are stored as
 *   given once valid.
 *
 * Checks the value against the bind's type and the question's choices,
 * stores it, runs the question's xforms-value-changed actions and
 * recalculates what depends on it.
 *
 * Returns: %FALSE with HEARTH_FORM_SESSION_ERROR_UNKNOWN_PATH, _READONLY,
 *   _TYPE (the message says what was expected) or _EVAL.
 */
gboolean hearth_form_session_set_value (HearthFormSession *self,
                                        const char        *path,
                                        const char        *value,
                                        GError           **error);

/**
 * hearth_form_session_set_choices:
 * @names: (array zero-terminated=1): the selected choice names
 *
 * A select answer from its names; see hearth_form_session_set_value().
 */
gboolean hearth_form_session_set_choices (HearthFormSession  *self,
                                          const char         *path,
                                          const char * const *names,
                                          GError            **error);

/**
 * hearth_form_session_add_repeat:
 * @repeat: the repeat's path; with indices for the repeats it is nested in
 *   (`/data/visits[2]/crops`)
 * @index: (out) (optional): the new instance's index, from 1
 *
 * Appends an instance from the repeat's template and runs its
 * odk-new-repeat actions.
 *
 * Returns: %FALSE with HEARTH_FORM_SESSION_ERROR_REPEAT (jr:count fixes
 *   the count, jr:noAddRemove, %HEARTH_FORM_MAX_REPEATS reached, not a
 *   repeat) or _UNKNOWN_PATH.
 */
gboolean hearth_form_session_add_repeat (HearthFormSession *self,
                                         const char        *repeat,
                                         guint             *index,
                                         GError           **error);

/**
 * hearth_form_session_remove_repeat:
 * @instance: a repeat instance's path with its index (`/data/members[2]`)
 *
 * Returns: %FALSE with HEARTH_FORM_SESSION_ERROR_REPEAT or _UNKNOWN_PATH.
 */
gboolean hearth_form_session_remove_repeat (HearthFormSession *self,
                                            const char        *instance,
                                            GError           **error);

/**
 * hearth_form_session_count_repeat:
 * @repeat: as for hearth_form_session_add_repeat()
 *
 * Returns: the number of instances, or -1 with an error.
 */
int hearth_form_session_count_repeat (HearthFormSession *self,
                                      const char        *repeat,
                                      GError           **error);

/**
 * hearth_form_session_is_relevant:
 *
 * Returns: whether the node and every group above it is relevant; %FALSE
 *   for an unknown path.
 */
gboolean hearth_form_session_is_relevant (HearthFormSession *self,
                                          const char        *path);

/**
 * hearth_form_session_pages:
 *
 * The relevant pages as they are now, in body order: a field-list group
 * is one page, any other question its own; each instance of a repeat
 * contributes its pages, followed by a prompt to add another unless
 * jr:count or jr:noAddRemove fixes the count.
 *
 * Returns: (transfer full) (element-type HearthFormPage): the pages.
 */
GPtrArray *hearth_form_session_pages (HearthFormSession *self);

/**
 * hearth_form_session_validate:
 * @path: (nullable): one node, or %NULL for every relevant node
 *
 * Returns: (transfer full) (element-type HearthFormIssue): the required
 *   answers missing, the constraints failing and the values that do not
 *   fit their type, in document order; empty when all is well.
 */
GPtrArray *hearth_form_session_validate (HearthFormSession *self,
                                         const char        *path);

/**
 * hearth_form_session_save_draft:
 *
 * Returns: (transfer full): the whole working instance, non-relevant
 *   answers included (so nothing typed is lost), as UTF-8 XML.
 */
char *hearth_form_session_save_draft (HearthFormSession *self);

/**
 * hearth_form_session_finalise:
 * @issues: (out) (transfer full) (optional) (element-type HearthFormIssue):
 *   the validation issues when finalising is refused
 *
 * Validates everything; when all is well fills the end preloads and the
 * instanceID and serialises the submission: the relevant nodes only, as
 * ODK Collect submits them.
 *
 * Returns: (transfer full) (nullable): the submission XML, or %NULL with
 *   HEARTH_FORM_SESSION_ERROR_INVALID (see @issues) or _EVAL.
 */
char *hearth_form_session_finalise (HearthFormSession *self,
                                    GPtrArray        **issues,
                                    GError           **error);

/**
 * hearth_form_session_get_instance_id: Returns: (transfer none): meta/instanceID ("uuid:…"), or "" when the form has none.
 */
const char *hearth_form_session_get_instance_id (HearthFormSession *self);

/**
 * hearth_form_session_get_evaluations:
 *
 * Returns: how many bind expressions have been evaluated since the session
 *   began (for tests and benchmarks of incremental recalculation).
 */
guint64 hearth_form_session_get_evaluations (HearthFormSession *self);

G_END_DECLS

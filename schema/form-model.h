/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * form-model.h: an ODK XForm loaded with libxml2 (ODK XForms specification;
 * W3C XForms 1.0 for the model and controls): the primary instance, the
 * secondary instances (inline, jr://file/NAME.xml and jr://file-csv/NAME.csv
 * from a media folder), the binds with their expressions parsed, the itext
 * translations and the tree of body controls. A feature Hearth does not
 * support is refused at load, naming the element, its line and the feature.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "xpath-expr.h"

G_BEGIN_DECLS

#define HEARTH_FORM_ERROR (hearth_form_error_quark ())
GQuark hearth_form_error_quark (void);

/**
 * HearthFormError:
 * @HEARTH_FORM_ERROR_INVALID: the file is not a well-formed XForm (no model,
 *   no primary instance, a bind without nodeset, an expression that does not
 *   parse, a bad CSV); the message names the file, line and element
 * @HEARTH_FORM_ERROR_UNSUPPORTED: the form uses a feature Hearth refuses;
 *   the message names the element, its line and the feature
 * @HEARTH_FORM_ERROR_MEDIA: an external instance is missing from the media
 *   folder or too large
 */
typedef enum {
  HEARTH_FORM_ERROR_INVALID,
  HEARTH_FORM_ERROR_UNSUPPORTED,
  HEARTH_FORM_ERROR_MEDIA,
} HearthFormError;

/* The largest form and external instance accepted, in bytes. */
#define HEARTH_FORM_MAX_BYTES (16 * 1024 * 1024)

typedef struct {
  char *nodeset;
  char *type;              /* "string" when absent; without the xsd: prefix */
  HearthXPathExpr *relevant, *constraint, *calculate, *required, *readonly;
  char *constraint_msg;    /* jr:constraintMsg as written (literal or jr:itext(…)) */
  char *required_msg;
  char *preload, *preload_params;
  char *saveto;            /* entities:saveto */
  guint line;
} HearthFormBind;

/* A piece of a label: literal text, or an <output value="…"/>. */
typedef struct {
  char *text;                /* nullable */
  HearthXPathExpr *output;   /* nullable */
} HearthFormTextPart;

/*
 * A label, hint or itext value: either a reference (`ref="jr:itext('id')"`,
 * kept as @itext_id; any other ref expression, as @ref) or literal parts.
 */
typedef struct {
  char *itext_id;            /* nullable */
  HearthXPathExpr *ref;      /* nullable: a label ref that is not jr:itext('…') */
  GPtrArray *parts;          /* (element-type HearthFormTextPart) */
} HearthFormText;

typedef struct {
  char *value;
  HearthFormText *label;     /* nullable */
} HearthFormChoice;

/*
 * A setvalue action (ODK XForms, "Actions"): on @event (one of
 * odk-instance-first-load, odk-instance-load, odk-new-repeat,
 * xforms-value-changed), set @ref to @value, or to @literal when the action
 * has no value attribute. @control_ref is the ref of the control the action
 * sits in (the repeat for odk-new-repeat, the question for
 * xforms-value-changed); %NULL in the model.
 */
typedef struct {
  char *event;
  char *ref;
  HearthXPathExpr *value;    /* nullable */
  char *literal;             /* nullable */
  char *control_ref;         /* nullable */
  guint line;
} HearthFormSetvalue;

typedef enum {
  HEARTH_CONTROL_INPUT, HEARTH_CONTROL_SELECT1, HEARTH_CONTROL_SELECT,
  HEARTH_CONTROL_TRIGGER, HEARTH_CONTROL_UPLOAD, HEARTH_CONTROL_RANGE,
  HEARTH_CONTROL_GROUP, HEARTH_CONTROL_REPEAT,
} HearthControlKind;

typedef struct _HearthFormControl HearthFormControl;
struct _HearthFormControl {
  HearthControlKind kind;
  char *ref;               /* ref, or nodeset for a repeat; nullable for a group */
  char *appearance;
  HearthFormText *label;   /* nullable */
  HearthFormText *hint;    /* nullable */
  GPtrArray *items;        /* static choices: (element-type HearthFormChoice), nullable */
  HearthXPathExpr *itemset;/* itemset nodeset, nullable */
  HearthXPathExpr *itemset_value, *itemset_label; /* relative to an item, nullable */
  char *mediatype;         /* upload: accepted media type, nullable */
  HearthXPathExpr *jr_count;
  gboolean no_add_remove;
  GPtrArray *children;     /* (element-type HearthFormControl) */
  guint line;
};

typedef struct {
  char *path;
  char *title;
  char *form_id;
  char *version;
  xmlDoc *primary;         /* the primary instance, its own document */
  GHashTable *instances;   /* (utf8 id -> xmlDoc) secondary instances */
  GPtrArray *binds;        /* (element-type HearthFormBind) */
  HearthFormControl *body; /* a group holding the body's controls */
  GPtrArray *languages;    /* (element-type utf8) itext languages, in order */
  char *default_language;  /* nullable */
  GHashTable *itext;       /* (utf8 "lang\x1fid" -> HearthFormText) */
  GPtrArray *setvalues;    /* (element-type HearthFormSetvalue) in document order */
  GPtrArray *unresolved;   /* (element-type utf8) ids of external instances
                            * left empty (no media folder) */
  guint n_controls;
  guint n_setvalues;
} HearthForm;

/**
 * hearth_form_load:
 * @path: the XForm file
 * @media_dir: (nullable): the folder external instances come from; when
 *   %NULL, external instances are left empty and listed as unresolved
 *
 * Returns: (transfer full) (nullable): the form, or %NULL with a
 *   HEARTH_FORM_ERROR naming file, line, element and reason. Thread-safe.
 */
HearthForm *hearth_form_load (const char *path,
                              const char *media_dir,
                              GError    **error);

/**
 * hearth_form_load_data:
 * @name: what errors call the form (a path, or "published form ID version
 *   V"); kept as the form's path
 * @text: (array length=len): the XForm document
 * @len: its length in bytes
 * @media_dir: (nullable): as for hearth_form_load()
 *
 * Loads a form held in memory, such as one the county center published to
 * the store, with the same checks as hearth_form_load().
 *
 * Returns: (transfer full) (nullable): the form, or %NULL with a
 *   HEARTH_FORM_ERROR naming @name, line, element and reason. Thread-safe.
 */
HearthForm *hearth_form_load_data (const char *name,
                                   const char *text,
                                   gsize       len,
                                   const char *media_dir,
                                   GError    **error);

void hearth_form_free (HearthForm *form);

/**
 * hearth_form_find_language:
 * @form: a form
 * @wanted: a language as the form names it (`中文 (zh)`) or its code (`zh`)
 *
 * Returns: (transfer none) (nullable): the form's name of the language, or
 *   %NULL when the form has no such language. Thread-safe.
 */
const char *hearth_form_find_language (const HearthForm *form,
                                       const char       *wanted);

/**
 * hearth_form_itext:
 * @form: a form
 * @language: (nullable): a language of the form; %NULL for the default
 * @id: an itext id
 *
 * Returns: (transfer none) (nullable): the text of @id in @language, else in
 *   the default language, else in the first language that has it.
 */
const HearthFormText *hearth_form_itext (const HearthForm *form,
                                         const char       *language,
                                         const char       *id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthForm, hearth_form_free)

G_END_DECLS

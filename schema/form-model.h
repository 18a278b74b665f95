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
  char *label;             /* a literal label, or the ref of jr:itext('id') */
  char *hint;
  GPtrArray *items;        /* static choices: (element-type utf8) values */
  HearthXPathExpr *itemset;/* itemset nodeset, nullable */
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
  GHashTable *itext;       /* (utf8 "lang\x1fid" -> utf8 text) */
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

void hearth_form_free (HearthForm *form);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthForm, hearth_form_free)

G_END_DECLS

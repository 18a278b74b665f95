/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xpath-eval.h: evaluating parsed XPath expressions (xpath-expr.h) over
 * libxml2 trees with ODK's typing: XPath 1.0's values and conversions
 * (W3C XPath 1.0, sections 3.4 and 4), extended as the ODK XForms
 * specification does (a date string is a number of days in a numeric
 * context; xpath-value.h) and with the ODK function library.
 *
 * Instances are separate documents: an absolute path starts at the
 * document of the context node, and instance('id') at the document of a
 * secondary instance.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "xpath-expr.h"

G_BEGIN_DECLS

typedef enum {
  HEARTH_XVALUE_BOOLEAN,
  HEARTH_XVALUE_NUMBER,
  HEARTH_XVALUE_STRING,
  HEARTH_XVALUE_NODESET,
} HearthXValueType;

typedef struct {
  HearthXValueType type;
  gboolean boolean;
  double number;
  char *string;
  GPtrArray *nodes;  /* (element-type xmlNode) borrowed, in document order */
} HearthXValue;

/**
 * HearthXPathContext:
 * @node: the context node
 * @position: the context position, from 1
 * @size: the context size
 * @current: the node current() returns (the bind's or control's node)
 * @instances: (element-type utf8 xmlDoc) (nullable): secondary instances by id
 * @today: (nullable): today() as "YYYY-MM-DD", for tests (else the local date)
 * @now: (nullable): now() as an ISO 8601 dateTime with offset (else the clock)
 * @contextualise: resolve an absolute path against @current's ancestors, as
 *   JavaRosa does (TreeReference.contextualize): from inside
 *   `/data/rep[2]/x`, `/data/rep/age` means `/data/rep[2]/age`. Applied to
 *   the steps above a path's last step only, so `count(/data/rep)` still
 *   counts every instance.
 * @choice_name: (nullable): the host's jr:choice-name(): the label, in the
 *   current language, of choice @value of the control bound to @node;
 *   (transfer full) %NULL when unknown
 * @itext: (nullable): the host's jr:itext(): the text of @id in the current
 *   language; (transfer full) %NULL when unknown
 * @host: passed to the hooks
 *
 * Borrowed by the evaluator for the length of one call.
 */
typedef struct {
  xmlNode *node;
  guint position;
  guint size;
  xmlNode *current;
  GHashTable *instances;
  const char *today;
  const char *now;
  gboolean contextualise;
  char *(*choice_name) (gpointer host, const char *value, xmlNode *node);
  char *(*itext) (gpointer host, const char *id);
  gpointer host;
} HearthXPathContext;

/* Errors of evaluation, in the HEARTH_XPATH_ERROR domain. */
#define HEARTH_XPATH_ERROR_EVAL 10

/**
 * hearth_xpath_evaluate:
 * @expr: a parsed expression
 * @ctx: the context
 *
 * Returns: (transfer full) (nullable): the value, or %NULL with
 *   HEARTH_XPATH_ERROR_EVAL naming the function, the argument count or the
 *   instance that is wrong. Not thread-safe for one @ctx.
 */
HearthXValue *hearth_xpath_evaluate (const HearthXPathExpr   *expr,
                                     const HearthXPathContext *ctx,
                                     GError                  **error);

void     hearth_xvalue_free       (HearthXValue *value);
/* XPath 1.0 string(), number() (with ODK dates) and boolean(). */
char    *hearth_xvalue_to_string  (const HearthXValue *value);
double   hearth_xvalue_to_number  (const HearthXValue *value);
gboolean hearth_xvalue_to_boolean (const HearthXValue *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthXValue, hearth_xvalue_free)

G_END_DECLS

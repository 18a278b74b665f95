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
 * @budget: the most work one hearth_xpath_evaluate() call may do, in steps
 *   (see HEARTH_XPATH_DEFAULT_BUDGET); 0 means that default
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
  guint64 budget;
} HearthXPathContext;

/* Errors of evaluation, in the HEARTH_XPATH_ERROR domain: an expression
 * that cannot be evaluated (unknown function, wrong arguments, missing
 * instance), and one that would take more work or memory than allowed. */
#define HEARTH_XPATH_ERROR_EVAL 10
#define HEARTH_XPATH_ERROR_TOO_COSTLY 11

/**
 * HEARTH_XPATH_DEFAULT_BUDGET:
 *
 * The steps one evaluation may take unless HearthXPathContext.budget says
 * otherwise. A step is roughly one node visited on an axis or one context
 * node a path step starts from, eight bytes of string made or read from
 * the instance, one character translated, or 20 ns spent in a regular
 * expression; evaluating an expression costs 2, calling a function or
 * writing a format code 4, a path step 8. Ten million steps take from
 * 0.05 to 0.25 s on a 2020s desktop, a few times that on a phone. The
 * expressions of real forms take tens to thousands; an itemset filtered
 * over a secondary instance of 50,000 items about 2.3 million;
 * counting every node for each node of an instance of 3,000 about ten
 * million.
 */
#define HEARTH_XPATH_DEFAULT_BUDGET 10000000

/* The longest string an evaluation may make (concat(), join(), uuid(n),
 * format-date(), ...), in bytes: beyond it, HEARTH_XPATH_ERROR_TOO_COSTLY. */
#define HEARTH_XPATH_MAX_STRING (1024 * 1024)
/* regex(): the longest pattern and the longest value matched, in characters. */
#define HEARTH_XPATH_MAX_REGEX_PATTERN 1000
#define HEARTH_XPATH_MAX_REGEX_SUBJECT 4096

/**
 * hearth_xpath_evaluate:
 * @expr: a parsed expression
 * @ctx: the context
 *
 * Evaluates @expr with @ctx. The work is bounded by @ctx's budget and the
 * strings made by HEARTH_XPATH_MAX_STRING, so that no expression, however
 * written, can hang the app or exhaust its memory: past a bound the
 * evaluation stops with HEARTH_XPATH_ERROR_TOO_COSTLY.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL with
 *   HEARTH_XPATH_ERROR_EVAL naming the function, the argument count or the
 *   instance that is wrong, or HEARTH_XPATH_ERROR_TOO_COSTLY. Not
 *   thread-safe for one @ctx.
 */
HearthXValue *hearth_xpath_evaluate (const HearthXPathExpr   *expr,
                                     const HearthXPathContext *ctx,
                                     GError                  **error);

void     hearth_xvalue_free       (HearthXValue *value);
/* XPath 1.0 string(), number() (with ODK dates) and boolean(). */
char    *hearth_xvalue_to_string  (const HearthXValue *value);
double   hearth_xvalue_to_number  (const HearthXValue *value);
gboolean hearth_xvalue_to_boolean (const HearthXValue *value);

/**
 * hearth_xpath_function_known:
 * @name: a function name as written (`concat`, `jr:choice-name`)
 *
 * Returns: whether the evaluator implements the function (the loader
 *   refuses forms that call any other). Thread-safe.
 */
gboolean hearth_xpath_function_known (const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthXValue, hearth_xvalue_free)

G_END_DECLS

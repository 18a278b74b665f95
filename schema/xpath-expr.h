/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xpath-expr.h: XPath 1.0 expressions of ODK XForms, parsed into Hearth's
 * own syntax tree.
 *
 * libxml2 parses forms and holds instances, but its XPath engine can
 * express neither ODK's typing (a date string is a number of days in a
 * numeric context) nor the references that the dependency graph of binds
 * needs. So expressions (relevant, constraint, calculate, itemset nodesets,
 * outputs) are parsed here, following the grammar of XPath 1.0
 * (W3C Recommendation, 16 November 1999, section 3 and the lexical rules
 * of section 3.7), and evaluated over libxml2's nodes elsewhere.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HEARTH_XPATH_ERROR (hearth_xpath_error_quark ())
GQuark hearth_xpath_error_quark (void);

/**
 * HearthXPathError:
 * @HEARTH_XPATH_ERROR_SYNTAX: the expression does not follow the XPath 1.0
 *   grammar; the message names the column (counted in characters, from 1)
 *   and what was expected there
 * @HEARTH_XPATH_ERROR_TOO_COMPLEX: the expression is longer or nested
 *   deeper than Hearth accepts (bounded input)
 */
typedef enum {
  HEARTH_XPATH_ERROR_SYNTAX,
  HEARTH_XPATH_ERROR_TOO_COMPLEX,
} HearthXPathError;

/* Longest expression accepted, in bytes, and deepest nesting. */
#define HEARTH_XPATH_MAX_LENGTH 65536
#define HEARTH_XPATH_MAX_DEPTH 200
#define HEARTH_XPATH_MAX_HEIGHT 400

typedef enum {
  HEARTH_XPATH_NUMBER,     /* number */
  HEARTH_XPATH_STRING,     /* text */
  HEARTH_XPATH_FUNCTION,   /* name (QName as written), args */
  HEARTH_XPATH_BINARY,     /* op, args[0], args[1] */
  HEARTH_XPATH_NEGATE,     /* args[0] */
  HEARTH_XPATH_VARIABLE,   /* name */
  HEARTH_XPATH_PATH,       /* filter (nullable), absolute, steps */
} HearthXPathKind;

typedef enum {
  HEARTH_XPATH_OR, HEARTH_XPATH_AND,
  HEARTH_XPATH_EQ, HEARTH_XPATH_NE,
  HEARTH_XPATH_LT, HEARTH_XPATH_LE, HEARTH_XPATH_GT, HEARTH_XPATH_GE,
  HEARTH_XPATH_ADD, HEARTH_XPATH_SUB,
  HEARTH_XPATH_MUL, HEARTH_XPATH_DIV, HEARTH_XPATH_MOD,
  HEARTH_XPATH_UNION,
} HearthXPathOp;

typedef enum {
  HEARTH_XPATH_AXIS_CHILD, HEARTH_XPATH_AXIS_DESCENDANT, HEARTH_XPATH_AXIS_PARENT,
  HEARTH_XPATH_AXIS_ANCESTOR, HEARTH_XPATH_AXIS_FOLLOWING_SIBLING,
  HEARTH_XPATH_AXIS_PRECEDING_SIBLING, HEARTH_XPATH_AXIS_FOLLOWING,
  HEARTH_XPATH_AXIS_PRECEDING, HEARTH_XPATH_AXIS_ATTRIBUTE, HEARTH_XPATH_AXIS_NAMESPACE,
  HEARTH_XPATH_AXIS_SELF, HEARTH_XPATH_AXIS_DESCENDANT_OR_SELF,
  HEARTH_XPATH_AXIS_ANCESTOR_OR_SELF,
} HearthXPathAxis;

typedef enum {
  HEARTH_XPATH_TEST_NAME,     /* name: a QName, "*" or "prefix:*" */
  HEARTH_XPATH_TEST_NODE,     /* node() */
  HEARTH_XPATH_TEST_TEXT,     /* text() */
  HEARTH_XPATH_TEST_COMMENT,  /* comment() */
  HEARTH_XPATH_TEST_PI,       /* processing-instruction(literal?) */
} HearthXPathTestKind;

typedef struct _HearthXPathExpr HearthXPathExpr;

typedef struct {
  HearthXPathAxis axis;
  HearthXPathTestKind test;
  char *name;              /* the name test, or the PI literal; nullable */
  GPtrArray *predicates;   /* (element-type HearthXPathExpr) */
} HearthXPathStep;

struct _HearthXPathExpr {
  HearthXPathKind kind;
  HearthXPathOp op;
  double number;
  char *text;              /* string literal, function or variable name */
  GPtrArray *args;         /* (element-type HearthXPathExpr) operands, arguments */
  HearthXPathExpr *filter; /* PATH: the primary expression it starts from, or NULL */
  GPtrArray *filter_predicates; /* PATH: predicates on the filter's whole node-set
                                 * (XPath 1.0 section 3.3), nullable */
  gboolean absolute;       /* PATH without filter: starts at the root */
  GPtrArray *steps;        /* PATH: (element-type HearthXPathStep) */
  guint column;            /* where it starts, in characters from 1 */
  guint height;            /* 1 + the height of its tallest operand, argument,
                            * filter or predicate: the depth of any recursion
                            * over the tree, bounded by HEARTH_XPATH_MAX_HEIGHT */
};

/**
 * hearth_xpath_parse:
 * @text: the expression, UTF-8
 *
 * Parses one XPath 1.0 expression. Abbreviations are expanded as the
 * specification defines them (`.` self::node(), `..` parent::node(), `@`
 * the attribute axis, `//` /descendant-or-self::node()/).
 *
 * Returns: (transfer full) (nullable): the syntax tree, or %NULL with
 *   HEARTH_XPATH_ERROR_SYNTAX naming the column and what was expected, or
 *   HEARTH_XPATH_ERROR_TOO_COMPLEX. Thread-safe.
 */
HearthXPathExpr *hearth_xpath_parse (const char *text,
                                     GError    **error);

void hearth_xpath_expr_free (HearthXPathExpr *expr);

/**
 * hearth_xpath_expr_to_string:
 *
 * Returns: (transfer full): the tree written back in XPath, fully
 *   parenthesised and unabbreviated (for tests and diagnostics).
 */
char *hearth_xpath_expr_to_string (const HearthXPathExpr *expr);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthXPathExpr, hearth_xpath_expr_free)

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xpath-eval.c: XPath 1.0 evaluation over libxml2 nodes with ODK typing.
 * Values and conversions follow XPath 1.0 sections 3.4 (comparisons) and 4
 * (core functions); numbers and dates follow xpath-value.h. The ODK
 * functions are those of the ODK XForms specification, "XPath functions".
 */
#define G_LOG_DOMAIN "hearth-xpath"

#include "xpath-eval.h"
#include "xpath-value.h"

#include <glib/gi18n.h>
#include <libxml/xpath.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- values ----------------------------------------------------------- */

void
hearth_xvalue_free (HearthXValue *v)
{
  if (v == NULL)
    return;
  g_free (v->string);
  g_clear_pointer (&v->nodes, g_ptr_array_unref);
  g_free (v);
}

static HearthXValue *
value_boolean (gboolean b)
{
  HearthXValue *v = g_new0 (HearthXValue, 1);
  v->type = HEARTH_XVALUE_BOOLEAN;
  v->boolean = b;
  return v;
}

static HearthXValue *
value_number (double n)
{
  HearthXValue *v = g_new0 (HearthXValue, 1);
  v->type = HEARTH_XVALUE_NUMBER;
  v->number = n;
  return v;
}

static HearthXValue *
value_string_take (char *s)
{
  HearthXValue *v = g_new0 (HearthXValue, 1);
  v->type = HEARTH_XVALUE_STRING;
  v->string = s;
  return v;
}

static HearthXValue *
value_nodes (GPtrArray *nodes)
{
  HearthXValue *v = g_new0 (HearthXValue, 1);
  v->type = HEARTH_XVALUE_NODESET;
  v->nodes = nodes != NULL ? nodes : g_ptr_array_new ();
  return v;
}

static char *
node_string (xmlNode *node)
{
  xmlChar *c = xmlNodeGetContent (node);
  char *s = g_strdup (c != NULL ? (const char *) c : "");
  xmlFree (c);
  return s;
}

char *
hearth_xvalue_to_string (const HearthXValue *v)
{
  switch (v->type)
    {
    case HEARTH_XVALUE_BOOLEAN: return g_strdup (v->boolean ? "true" : "false");
    case HEARTH_XVALUE_NUMBER: return hearth_xpath_number_to_string (v->number);
    case HEARTH_XVALUE_STRING: return g_strdup (v->string);
    case HEARTH_XVALUE_NODESET:
    default:
      return v->nodes->len > 0 ? node_string (g_ptr_array_index (v->nodes, 0)) : g_strdup ("");
    }
}

double
hearth_xvalue_to_number (const HearthXValue *v)
{
  switch (v->type)
    {
    case HEARTH_XVALUE_BOOLEAN: return v->boolean ? 1 : 0;
    case HEARTH_XVALUE_NUMBER: return v->number;
    default:
      {
        g_autofree char *s = hearth_xvalue_to_string (v);
        return hearth_xpath_string_to_number (s);
      }
    }
}

gboolean
hearth_xvalue_to_boolean (const HearthXValue *v)
{
  switch (v->type)
    {
    case HEARTH_XVALUE_BOOLEAN: return v->boolean;
    case HEARTH_XVALUE_NUMBER: return v->number != 0 && !isnan (v->number);
    case HEARTH_XVALUE_STRING: return v->string[0] != '\0';
    case HEARTH_XVALUE_NODESET:
    default:
      return v->nodes->len > 0;
    }
}

/* ---- evaluation --------------------------------------------------------- */

typedef struct {
  const HearthXPathContext *ctx;
  GError **error;
} Eval;

G_GNUC_PRINTF (2, 3)
static HearthXValue *
eval_error (Eval *ev, const char *fmt, ...)
{
  va_list ap;

  if (ev->error != NULL && *ev->error == NULL)
    {
      va_start (ap, fmt);
      g_propagate_error (ev->error, g_error_new_valist (HEARTH_XPATH_ERROR, HEARTH_XPATH_ERROR_EVAL, fmt, ap));
      va_end (ap);
    }
  return NULL;
}

static HearthXValue *eval (Eval *ev, const HearthXPathExpr *e, xmlNode *node, guint pos, guint size);

static int
doc_order (gconstpointer a, gconstpointer b)
{
  xmlNode *x = *(xmlNode **) a, *y = *(xmlNode **) b;
  int c;

  if (x == y)
    return 0;
  c = xmlXPathCmpNodes (x, y);  /* 1 when x comes first */
  return c == 1 ? -1 : c == -1 ? 1 : (x < y ? -1 : 1);
}

/* Sorts into document order and drops duplicates. */
static void
normalise (GPtrArray *nodes)
{
  guint out = 0;

  g_ptr_array_sort (nodes, doc_order);
  for (guint i = 0; i < nodes->len; i++)
    if (out == 0 || nodes->pdata[out - 1] != nodes->pdata[i])
      nodes->pdata[out++] = nodes->pdata[i];
  g_ptr_array_set_size (nodes, out);
}

static gboolean
name_matches (const HearthXPathStep *step, xmlNode *n)
{
  const char *colon;

  switch (step->test)
    {
    case HEARTH_XPATH_TEST_NODE:
      return TRUE;
    case HEARTH_XPATH_TEST_TEXT:
      return n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE;
    case HEARTH_XPATH_TEST_COMMENT:
      return n->type == XML_COMMENT_NODE;
    case HEARTH_XPATH_TEST_PI:
      return n->type == XML_PI_NODE && (step->name == NULL || g_strcmp0 ((const char *) n->name, step->name) == 0);
    case HEARTH_XPATH_TEST_NAME:
    default:
      if (step->axis == HEARTH_XPATH_AXIS_ATTRIBUTE ? n->type != XML_ATTRIBUTE_NODE : n->type != XML_ELEMENT_NODE)
        return FALSE;
      if (g_str_equal (step->name, "*"))
        return TRUE;
      /* Instances are matched by local name: forms write their instance in
       * the XForms default namespace and their paths without a prefix. */
      colon = strchr (step->name, ':');
      if (colon != NULL && colon[1] == '*')
        return TRUE;
      return g_strcmp0 ((const char *) n->name, colon != NULL ? colon + 1 : step->name) == 0;
    }
}

static void
add_descendants (xmlNode *n, GPtrArray *out)
{
  for (xmlNode *c = n->children; c != NULL; c = c->next)
    {
      g_ptr_array_add (out, c);
      add_descendants (c, out);
    }
}

/* The nodes of @axis from @n, in axis order. */
static void
axis_nodes (HearthXPathAxis axis, xmlNode *n, GPtrArray *out)
{
  switch (axis)
    {
    case HEARTH_XPATH_AXIS_CHILD:
      if (n->type != XML_ATTRIBUTE_NODE)
        for (xmlNode *c = n->children; c != NULL; c = c->next)
          g_ptr_array_add (out, c);
      break;
    case HEARTH_XPATH_AXIS_ATTRIBUTE:
      if (n->type == XML_ELEMENT_NODE)
        for (xmlAttr *a = n->properties; a != NULL; a = a->next)
          g_ptr_array_add (out, a);
      break;
    case HEARTH_XPATH_AXIS_SELF:
      g_ptr_array_add (out, n);
      break;
    case HEARTH_XPATH_AXIS_PARENT:
      if (n->parent != NULL)
        g_ptr_array_add (out, n->parent);
      break;
    case HEARTH_XPATH_AXIS_DESCENDANT_OR_SELF:
      g_ptr_array_add (out, n);
      G_GNUC_FALLTHROUGH;
    case HEARTH_XPATH_AXIS_DESCENDANT:
      if (n->type != XML_ATTRIBUTE_NODE)
        add_descendants (n, out);
      break;
    case HEARTH_XPATH_AXIS_ANCESTOR_OR_SELF:
      g_ptr_array_add (out, n);
      G_GNUC_FALLTHROUGH;
    case HEARTH_XPATH_AXIS_ANCESTOR:
      for (xmlNode *p = n->parent; p != NULL; p = p->parent)
        g_ptr_array_add (out, p);
      break;
    case HEARTH_XPATH_AXIS_FOLLOWING_SIBLING:
      if (n->type != XML_ATTRIBUTE_NODE)
        for (xmlNode *s = n->next; s != NULL; s = s->next)
          g_ptr_array_add (out, s);
      break;
    case HEARTH_XPATH_AXIS_PRECEDING_SIBLING:
      if (n->type != XML_ATTRIBUTE_NODE)
        for (xmlNode *s = n->prev; s != NULL; s = s->prev)
          g_ptr_array_add (out, s);
      break;
    default:
      break;
    }
}

/* Applies @preds to @nodes (in axis order), keeping those that pass. */
static gboolean
filter (Eval *ev, GPtrArray *preds, GPtrArray *nodes)
{
  for (guint p = 0; preds != NULL && p < preds->len; p++)
    {
      const HearthXPathExpr *pred = g_ptr_array_index (preds, p);
      guint out = 0, size = nodes->len;

      for (guint i = 0; i < size; i++)
        {
          g_autoptr(HearthXValue) v = eval (ev, pred, nodes->pdata[i], i + 1, size);
          gboolean keep;

          if (v == NULL)
            return FALSE;
          keep = v->type == HEARTH_XVALUE_NUMBER ? v->number == (double) (i + 1)
                                                 : hearth_xvalue_to_boolean (v);
          if (keep)
            nodes->pdata[out++] = nodes->pdata[i];
        }
      g_ptr_array_set_size (nodes, out);
    }
  return TRUE;
}

static HearthXValue *
eval_path (Eval *ev, const HearthXPathExpr *e, xmlNode *node, guint pos, guint size)
{
  g_autoptr(GPtrArray) current = g_ptr_array_new ();
  g_autoptr(GPtrArray) chain = NULL;  /* the anchor's ancestors, root first */

  if (e->filter != NULL)
    {
      g_autoptr(HearthXValue) start = eval (ev, e->filter, node, pos, size);
      if (start == NULL)
        return NULL;
      if (start->type != HEARTH_XVALUE_NODESET)
        return eval_error (ev, _("a path must start from nodes, not from a %s (column %u)"),
                           start->type == HEARTH_XVALUE_NUMBER ? _("number") :
                           start->type == HEARTH_XVALUE_STRING ? _("string") : _("boolean"),
                           e->column);
      for (guint i = 0; i < start->nodes->len; i++)
        g_ptr_array_add (current, start->nodes->pdata[i]);
      if (!filter (ev, e->filter_predicates, current))
        return NULL;
    }
  else if (e->absolute)
    {
      g_ptr_array_add (current, node->doc != NULL ? (xmlNode *) node->doc : node);
      if (ev->ctx->contextualise)
        {
          xmlNode *anchor = ev->ctx->current != NULL ? ev->ctx->current : ev->ctx->node;
          if (anchor != NULL && anchor->doc == node->doc)
            {
              chain = g_ptr_array_new ();
              for (xmlNode *a = anchor; a != NULL && a->type != XML_DOCUMENT_NODE; a = a->parent)
                g_ptr_array_insert (chain, 0, a);
            }
        }
    }
  else
    g_ptr_array_add (current, node);

  for (guint s = 0; s < e->steps->len; s++)
    {
      const HearthXPathStep *step = g_ptr_array_index (e->steps, s);
      g_autoptr(GPtrArray) next = g_ptr_array_new ();

      if (step->axis == HEARTH_XPATH_AXIS_FOLLOWING || step->axis == HEARTH_XPATH_AXIS_PRECEDING ||
          step->axis == HEARTH_XPATH_AXIS_NAMESPACE)
        return eval_error (ev, _("the %s axis is not supported in forms (column %u)"),
                           step->axis == HEARTH_XPATH_AXIS_NAMESPACE ? "namespace" :
                           step->axis == HEARTH_XPATH_AXIS_FOLLOWING ? "following" : "preceding",
                           e->column);
      /* Contextualised: while the path follows the anchor's ancestors by
       * name, without predicates, it stays on them (not the last step). */
      if (chain != NULL)
        {
          if (s + 1 < e->steps->len && s < chain->len && step->axis == HEARTH_XPATH_AXIS_CHILD &&
              step->test == HEARTH_XPATH_TEST_NAME && (step->predicates == NULL || step->predicates->len == 0) &&
              name_matches (step, chain->pdata[s]))
            {
              g_ptr_array_set_size (current, 0);
              g_ptr_array_add (current, chain->pdata[s]);
              continue;
            }
          g_clear_pointer (&chain, g_ptr_array_unref);
        }
      for (guint i = 0; i < current->len; i++)
        {
          g_autoptr(GPtrArray) candidates = g_ptr_array_new ();
          guint out = 0;

          axis_nodes (step->axis, current->pdata[i], candidates);
          for (guint c = 0; c < candidates->len; c++)
            if (name_matches (step, candidates->pdata[c]))
              candidates->pdata[out++] = candidates->pdata[c];
          g_ptr_array_set_size (candidates, out);
          if (!filter (ev, step->predicates, candidates))
            return NULL;
          g_ptr_array_extend (next, candidates, NULL, NULL);
        }
      normalise (next);
      g_ptr_array_unref (current);
      current = g_steal_pointer (&next);
    }
  return value_nodes (g_steal_pointer (&current));
}

/* XPath 1.0 section 3.4, with ODK's date strings as numbers. */
static gboolean
compare_atoms (HearthXPathOp op, const HearthXValue *a, const HearthXValue *b)
{
  if (op == HEARTH_XPATH_EQ || op == HEARTH_XPATH_NE)
    {
      gboolean eq;

      if (a->type == HEARTH_XVALUE_BOOLEAN || b->type == HEARTH_XVALUE_BOOLEAN)
        eq = hearth_xvalue_to_boolean (a) == hearth_xvalue_to_boolean (b);
      else if (a->type == HEARTH_XVALUE_NUMBER || b->type == HEARTH_XVALUE_NUMBER)
        eq = hearth_xvalue_to_number (a) == hearth_xvalue_to_number (b);
      else
        {
          g_autofree char *x = hearth_xvalue_to_string (a);
          g_autofree char *y = hearth_xvalue_to_string (b);
          eq = g_str_equal (x, y);
        }
      return op == HEARTH_XPATH_EQ ? eq : !eq;
    }
  {
    double x = hearth_xvalue_to_number (a), y = hearth_xvalue_to_number (b);
    switch (op)
      {
      case HEARTH_XPATH_LT: return x < y;
      case HEARTH_XPATH_LE: return x <= y;
      case HEARTH_XPATH_GT: return x > y;
      case HEARTH_XPATH_GE: return x >= y;
      default: return FALSE;
      }
  }
}

static gboolean
compare (HearthXPathOp op, const HearthXValue *a, const HearthXValue *b)
{
  /* A node-set compares through each of its nodes' string values. */
  if (a->type == HEARTH_XVALUE_NODESET && b->type != HEARTH_XVALUE_BOOLEAN)
    {
      for (guint i = 0; i < a->nodes->len; i++)
        {
          HearthXValue atom = { .type = HEARTH_XVALUE_STRING,
                                .string = node_string (a->nodes->pdata[i]) };
          gboolean r = compare (op, &atom, b);
          g_free (atom.string);
          if (r)
            return TRUE;
        }
      return FALSE;
    }
  if (b->type == HEARTH_XVALUE_NODESET && a->type != HEARTH_XVALUE_BOOLEAN)
    {
      for (guint i = 0; i < b->nodes->len; i++)
        {
          HearthXValue atom = { .type = HEARTH_XVALUE_STRING,
                                .string = node_string (b->nodes->pdata[i]) };
          gboolean r = compare (op, a, &atom);
          g_free (atom.string);
          if (r)
            return TRUE;
        }
      return FALSE;
    }
  return compare_atoms (op, a, b);
}

static HearthXValue *eval_function (Eval *ev, const HearthXPathExpr *e, xmlNode *node,
                                    guint pos, guint size);

static HearthXValue *
eval (Eval *ev, const HearthXPathExpr *e, xmlNode *node, guint pos, guint size)
{
  switch (e->kind)
    {
    case HEARTH_XPATH_NUMBER:
      return value_number (e->number);
    case HEARTH_XPATH_STRING:
      return value_string_take (g_strdup (e->text));
    case HEARTH_XPATH_VARIABLE:
      return eval_error (ev, _("unknown variable $%s (column %u)"), e->text, e->column);
    case HEARTH_XPATH_PATH:
      return eval_path (ev, e, node, pos, size);
    case HEARTH_XPATH_FUNCTION:
      return eval_function (ev, e, node, pos, size);
    case HEARTH_XPATH_NEGATE:
      {
        g_autoptr(HearthXValue) v = eval (ev, g_ptr_array_index (e->args, 0), node, pos, size);
        return v == NULL ? NULL : value_number (-hearth_xvalue_to_number (v));
      }
    case HEARTH_XPATH_BINARY:
    default:
      break;
    }

  {
    g_autoptr(HearthXValue) a = eval (ev, g_ptr_array_index (e->args, 0), node, pos, size);
    g_autoptr(HearthXValue) b = NULL;
    double x, y;

    if (a == NULL)
      return NULL;
    /* "and" and "or" look at their right side only when they must. */
    if (e->op == HEARTH_XPATH_AND && !hearth_xvalue_to_boolean (a))
      return value_boolean (FALSE);
    if (e->op == HEARTH_XPATH_OR && hearth_xvalue_to_boolean (a))
      return value_boolean (TRUE);
    b = eval (ev, g_ptr_array_index (e->args, 1), node, pos, size);
    if (b == NULL)
      return NULL;
    switch (e->op)
      {
      case HEARTH_XPATH_AND:
      case HEARTH_XPATH_OR:
        return value_boolean (hearth_xvalue_to_boolean (b));
      case HEARTH_XPATH_EQ: case HEARTH_XPATH_NE: case HEARTH_XPATH_LT:
      case HEARTH_XPATH_LE: case HEARTH_XPATH_GT: case HEARTH_XPATH_GE:
        return value_boolean (compare (e->op, a, b));
      case HEARTH_XPATH_UNION:
        {
          GPtrArray *nodes;
          if (a->type != HEARTH_XVALUE_NODESET || b->type != HEARTH_XVALUE_NODESET)
            return eval_error (ev, _("\"|\" joins node-sets only (column %u)"), e->column);
          nodes = g_ptr_array_new ();
          g_ptr_array_extend (nodes, a->nodes, NULL, NULL);
          g_ptr_array_extend (nodes, b->nodes, NULL, NULL);
          normalise (nodes);
          return value_nodes (nodes);
        }
      default:
        break;
      }
    x = hearth_xvalue_to_number (a);
    y = hearth_xvalue_to_number (b);
    switch (e->op)
      {
      case HEARTH_XPATH_ADD: return value_number (x + y);
      case HEARTH_XPATH_SUB: return value_number (x - y);
      case HEARTH_XPATH_MUL: return value_number (x * y);
      case HEARTH_XPATH_DIV: return value_number (x / y);
      case HEARTH_XPATH_MOD: return value_number (fmod (x, y));
      default: return eval_error (ev, _("unknown operator (column %u)"), e->column);
      }
  }
}

/* ---- functions ---------------------------------------------------------- */

typedef struct {
  const char *name;
  int min_args, max_args;  /* max -1: any number */
} FunctionSpec;

static const FunctionSpec functions[] = {
  { "true", 0, 0 }, { "false", 0, 0 }, { "not", 1, 1 }, { "boolean", 1, 1 },
  { "number", 0, 1 }, { "string", 0, 1 }, { "concat", 0, -1 }, { "string-length", 0, 1 },
  { "contains", 2, 2 }, { "starts-with", 2, 2 }, { "ends-with", 2, 2 },
  { "substr", 2, 3 }, { "substring", 2, 3 }, { "normalize-space", 0, 1 },
  { "count", 1, 1 }, { "sum", 1, 1 },
  { "position", 0, 1 }, { "last", 0, 0 }, { "uuid", 0, 1 }, { "once", 1, 1 },
  { "date-time", 1, 1 }, { "format-date", 2, 2 }, { "format-date-time", 2, 2 },
  { "round", 1, 2 }, { "floor", 1, 1 }, { "ceiling", 1, 1 }, { "int", 1, 1 }, { "abs", 1, 1 },
  { "pow", 2, 2 }, { "min", 1, -1 }, { "max", 1, -1 }, { "if", 3, 3 }, { "coalesce", 2, 2 },
  { "selected", 2, 2 }, { "count-selected", 1, 1 }, { "selected-at", 2, 2 }, { "join", 1, -1 },
  { "today", 0, 0 }, { "now", 0, 0 }, { "date", 1, 1 }, { "decimal-date-time", 1, 1 },
  { "regex", 2, 2 }, { "current", 0, 0 }, { "instance", 1, 1 }, { "boolean-from-string", 1, 1 },
  { "jr:choice-name", 2, 2 }, { "jr:itext", 1, 1 },
};

static char *
arg_string (Eval *ev, GPtrArray *vals, guint i)
{
  return hearth_xvalue_to_string (g_ptr_array_index (vals, i));
}

static double
arg_number (GPtrArray *vals, guint i)
{
  return hearth_xvalue_to_number (g_ptr_array_index (vals, i));
}

/* The space-separated choice names of a select-multiple answer. */
static char **
choices (const char *value)
{
  g_auto(GStrv) parts = g_strsplit_set (value, " \t\r\n", -1);
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_ptr_array_add (out, g_strdup (parts[i]));
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

static char *
local_today (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  return g_date_time_format (now, "%Y-%m-%d");
}

static HearthXValue *
eval_function (Eval *ev, const HearthXPathExpr *e, xmlNode *node, guint pos, guint size)
{
  const FunctionSpec *spec = NULL;
  g_autoptr(GPtrArray) vals = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_xvalue_free);
  const char *name = e->text;
  guint n = e->args->len;

  for (gsize i = 0; i < G_N_ELEMENTS (functions); i++)
    if (g_str_equal (functions[i].name, name))
      spec = &functions[i];
  if (spec == NULL)
    return eval_error (ev, _("unknown function %s() (column %u)"), name, e->column);
  if ((int) n < spec->min_args || (spec->max_args >= 0 && (int) n > spec->max_args))
    return eval_error (ev, _("%s() takes %d to %d arguments, not %u (column %u)"), name,
                       spec->min_args, spec->max_args, n, e->column);

  /* if() evaluates only the branch it takes. */
  if (g_str_equal (name, "if"))
    {
      g_autoptr(HearthXValue) c = eval (ev, g_ptr_array_index (e->args, 0), node, pos, size);
      if (c == NULL)
        return NULL;
      return eval (ev, g_ptr_array_index (e->args, hearth_xvalue_to_boolean (c) ? 1 : 2), node, pos, size);
    }
  for (guint i = 0; i < n; i++)
    {
      HearthXValue *v = eval (ev, g_ptr_array_index (e->args, i), node, pos, size);
      if (v == NULL)
        return NULL;
      g_ptr_array_add (vals, v);
    }

  if (g_str_equal (name, "true")) return value_boolean (TRUE);
  if (g_str_equal (name, "false")) return value_boolean (FALSE);
  if (g_str_equal (name, "not")) return value_boolean (!hearth_xvalue_to_boolean (vals->pdata[0]));
  if (g_str_equal (name, "boolean")) return value_boolean (hearth_xvalue_to_boolean (vals->pdata[0]));
  if (g_str_equal (name, "boolean-from-string"))
    {
      g_autofree char *s = arg_string (ev, vals, 0);
      return value_boolean (g_str_equal (s, "true") || g_str_equal (s, "1"));
    }
  if (g_str_equal (name, "position"))
    {
      /* ODK position(node): the 1-based index of a (repeat) node among its
       * same-named siblings. */
      HearthXValue *v = n > 0 ? vals->pdata[0] : NULL;
      xmlNode *x;
      guint index = 1;

      if (v == NULL)
        return value_number (pos);
      if (v->type != HEARTH_XVALUE_NODESET || v->nodes->len != 1)
        return eval_error (ev, _("position() takes one node (column %u)"), e->column);
      x = v->nodes->pdata[0];
      for (xmlNode *s = x->prev; s != NULL; s = s->prev)
        if (s->type == XML_ELEMENT_NODE && g_strcmp0 ((const char *) s->name, (const char *) x->name) == 0)
          index++;
      return value_number (index);
    }
  if (g_str_equal (name, "uuid"))
    {
      /* uuid(): a version 4 UUID; uuid(n): n random hexadecimal digits. */
      if (n == 0)
        return value_string_take (g_uuid_string_random ());
      {
        double len = arg_number (vals, 0);
        GString *s;

        if (isnan (len) || len < 0 || len > 4096)
          return eval_error (ev, _("uuid() takes a length from 0 to 4096 (column %u)"), e->column);
        s = g_string_new (NULL);
        for (int i = 0; i < (int) len; i++)
          g_string_append_printf (s, "%x", g_random_int_range (0, 16));
        return value_string_take (g_string_free (s, FALSE));
      }
    }
  if (g_str_equal (name, "once"))
    {
      /* The context node keeps its value once it has one. */
      g_autofree char *current = node_string (node);
      if (current[0] != '\0')
        return value_string_take (g_steal_pointer (&current));
      return value_string_take (arg_string (ev, vals, 0));
    }
  if (g_str_equal (name, "date-time"))
    {
      /* A number of days (decimal) since 1970-01-01 UTC, as a dateTime in
       * UTC; a dateTime string as it is; a date at midnight UTC. */
      HearthXValue *v = vals->pdata[0];
      double days;

      if (v->type != HEARTH_XVALUE_NUMBER)
        {
          g_autofree char *s = hearth_xvalue_to_string (v);
          g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601 (s, NULL);
          gint64 d;
          if (dt != NULL)
            return value_string_take (g_steal_pointer (&s));
          if (hearth_xpath_parse_date (s, &d) && s[10] == '\0')
            return value_string_take (g_strdup_printf ("%sT00:00:00.000Z", s));
        }
      days = hearth_xvalue_to_number (v);
      if (isnan (days) || isinf (days) || fabs (days) > 2932896)
        return value_string_take (g_strdup (""));
      {
        g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc ((gint64) floor (days * 86400.0));
        g_autofree char *base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
        int ms = (int) fmod (floor (days * 86400000.0 + 0.5), 1000.0);
        return value_string_take (g_strdup_printf ("%s.%03dZ", base, ms < 0 ? ms + 1000 : ms));
      }
    }
  if (g_str_equal (name, "format-date") || g_str_equal (name, "format-date-time"))
    {
      /* The ODK format codes (%Y %y %m %n %b %d %e %a %H %h %M %S %3) on
       * the calendar date and clock time as written: no time zone moves them. */
      g_autofree char *value = arg_string (ev, vals, 0);
      g_autofree char *format = arg_string (ev, vals, 1);
      static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
      static const char *const weekdays[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
      GString *out;
      gint64 days;
      int y, mo, d, hh = 0, mi = 0, ss = 0, ms = 0, wd;
      GDate date;

      if (!hearth_xpath_parse_date (value, &days))
        return value_string_take (g_strdup (""));
      if (value[10] == 'T' && strlen (value) >= 19)
        {
          hh = atoi (value + 11);
          mi = atoi (value + 14);
          ss = atoi (value + 17);
          if (value[19] == '.')
            ms = atoi (value + 20);
        }
      g_date_clear (&date, 1);
      g_date_set_julian (&date, (guint32) (days + 719163));
      y = g_date_get_year (&date);
      mo = g_date_get_month (&date);
      d = g_date_get_day (&date);
      wd = g_date_get_weekday (&date) - 1;
      out = g_string_new (NULL);
      for (const char *p = format; *p != '\0'; p++)
        {
          if (*p != '%' || p[1] == '\0')
            {
              g_string_append_c (out, *p);
              continue;
            }
          switch (*++p)
            {
            case 'Y': g_string_append_printf (out, "%04d", y); break;
            case 'y': g_string_append_printf (out, "%02d", y % 100); break;
            case 'm': g_string_append_printf (out, "%02d", mo); break;
            case 'n': g_string_append_printf (out, "%d", mo); break;
            case 'b': g_string_append (out, months[mo - 1]); break;
            case 'd': g_string_append_printf (out, "%02d", d); break;
            case 'e': g_string_append_printf (out, "%d", d); break;
            case 'a': g_string_append (out, weekdays[wd]); break;
            case 'H': g_string_append_printf (out, "%02d", hh); break;
            case 'h': g_string_append_printf (out, "%d", hh); break;
            case 'M': g_string_append_printf (out, "%02d", mi); break;
            case 'S': g_string_append_printf (out, "%02d", ss); break;
            case '3': g_string_append_printf (out, "%03d", ms); break;
            case '%': g_string_append_c (out, '%'); break;
            default: g_string_append_c (out, '%'); g_string_append_c (out, *p); break;
            }
        }
      return value_string_take (g_string_free (out, FALSE));
    }
  if (g_str_equal (name, "last")) return value_number (size);
  if (g_str_equal (name, "current"))
    {
      GPtrArray *nodes = g_ptr_array_new ();
      g_ptr_array_add (nodes, ev->ctx->current != NULL ? ev->ctx->current : ev->ctx->node);
      return value_nodes (nodes);
    }
  if (g_str_equal (name, "number") || g_str_equal (name, "string") ||
      g_str_equal (name, "string-length") || g_str_equal (name, "normalize-space"))
    {
      g_autofree char *s = n > 0 ? arg_string (ev, vals, 0) : node_string (node);
      if (g_str_equal (name, "number"))
        return value_number (n > 0 ? arg_number (vals, 0) : hearth_xpath_string_to_number (s));
      if (g_str_equal (name, "string"))
        return value_string_take (g_steal_pointer (&s));
      if (g_str_equal (name, "string-length"))
        return value_number (g_utf8_strlen (s, -1));  /* characters, not bytes */
      {
        g_auto(GStrv) words = choices (s);
        return value_string_take (g_strjoinv (" ", words));
      }
    }
  if (g_str_equal (name, "concat") || g_str_equal (name, "join"))
    {
      GString *out = g_string_new (NULL);
      g_autofree char *sep = g_str_equal (name, "join") ? arg_string (ev, vals, 0) : NULL;
      gboolean first = TRUE;

      for (guint i = sep != NULL ? 1 : 0; i < n; i++)
        {
          HearthXValue *v = vals->pdata[i];
          if (v->type == HEARTH_XVALUE_NODESET)
            for (guint k = 0; k < v->nodes->len; k++)
              {
                g_autofree char *s = node_string (v->nodes->pdata[k]);
                if (!first && sep != NULL)
                  g_string_append (out, sep);
                g_string_append (out, s);
                first = FALSE;
                if (sep == NULL)
                  break;  /* concat takes a node-set's first node, as string() does */
              }
          else
            {
              g_autofree char *s = hearth_xvalue_to_string (v);
              if (!first && sep != NULL)
                g_string_append (out, sep);
              g_string_append (out, s);
              first = FALSE;
            }
        }
      return value_string_take (g_string_free (out, FALSE));
    }
  if (g_str_equal (name, "contains") || g_str_equal (name, "starts-with") || g_str_equal (name, "ends-with"))
    {
      g_autofree char *a = arg_string (ev, vals, 0);
      g_autofree char *b = arg_string (ev, vals, 1);
      if (g_str_equal (name, "contains")) return value_boolean (strstr (a, b) != NULL);
      if (g_str_equal (name, "starts-with")) return value_boolean (g_str_has_prefix (a, b));
      return value_boolean (g_str_has_suffix (a, b));
    }
  if (g_str_equal (name, "substr") || g_str_equal (name, "substring"))
    {
      g_autofree char *s = arg_string (ev, vals, 0);
      glong len = g_utf8_strlen (s, -1);
      double start = arg_number (vals, 1), end;

      if (g_str_equal (name, "substr"))
        {
          /* ODK substr(s, start, end): 0-based, end exclusive, characters. */
          end = n > 2 ? arg_number (vals, 2) : (double) len;
        }
      else
        {
          /* XPath substring(s, start, length): 1-based, rounded. */
          double first = round (start);
          double last = n > 2 ? first + round (arg_number (vals, 2)) : INFINITY;
          start = first - 1;
          end = last - 1;
        }
      if (isnan (start) || isnan (end))
        return value_string_take (g_strdup (""));
      start = CLAMP (start, 0, (double) len);
      end = CLAMP (end, start, (double) len);
      return value_string_take (g_utf8_substring (s, (glong) start, (glong) end));
    }
  if (g_str_equal (name, "count") || g_str_equal (name, "sum"))
    {
      HearthXValue *v = vals->pdata[0];
      double total = 0;

      if (v->type != HEARTH_XVALUE_NODESET)
        return eval_error (ev, _("%s() needs a node-set (column %u)"), name, e->column);
      if (g_str_equal (name, "count"))
        return value_number (v->nodes->len);
      for (guint i = 0; i < v->nodes->len; i++)
        {
          g_autofree char *s = node_string (v->nodes->pdata[i]);
          total += hearth_xpath_string_to_number (s);
        }
      return value_number (total);
    }
  if (g_str_equal (name, "min") || g_str_equal (name, "max"))
    {
      gboolean want_max = g_str_equal (name, "max");
      double best = NAN;
      gboolean any = FALSE;

      for (guint i = 0; i < n; i++)
        {
          HearthXValue *v = vals->pdata[i];
          guint count = v->type == HEARTH_XVALUE_NODESET ? v->nodes->len : 1;
          for (guint k = 0; k < count; k++)
            {
              double x;
              if (v->type == HEARTH_XVALUE_NODESET)
                {
                  g_autofree char *s = node_string (v->nodes->pdata[k]);
                  x = hearth_xpath_string_to_number (s);
                }
              else
                x = hearth_xvalue_to_number (v);
              if (isnan (x))
                return value_number (NAN);  /* a blank answer makes the result unknown */
              if (!any || (want_max ? x > best : x < best))
                best = x;
              any = TRUE;
            }
        }
      return value_number (best);
    }
  if (g_str_equal (name, "round"))
    return value_number (hearth_xpath_round (arg_number (vals, 0), n > 1 ? (int) arg_number (vals, 1) : 0));
  if (g_str_equal (name, "floor")) return value_number (floor (arg_number (vals, 0)));
  if (g_str_equal (name, "ceiling")) return value_number (ceil (arg_number (vals, 0)));
  if (g_str_equal (name, "int")) return value_number (trunc (arg_number (vals, 0)));
  if (g_str_equal (name, "abs")) return value_number (fabs (arg_number (vals, 0)));
  if (g_str_equal (name, "pow")) return value_number (pow (arg_number (vals, 0), arg_number (vals, 1)));
  if (g_str_equal (name, "coalesce"))
    {
      g_autofree char *a = arg_string (ev, vals, 0);
      return value_string_take (a[0] != '\0' ? g_steal_pointer (&a) : arg_string (ev, vals, 1));
    }
  if (g_str_equal (name, "selected") || g_str_equal (name, "count-selected") ||
      g_str_equal (name, "selected-at"))
    {
      g_autofree char *value = arg_string (ev, vals, 0);
      g_auto(GStrv) names = choices (value);

      if (g_str_equal (name, "count-selected"))
        return value_number (g_strv_length (names));
      if (g_str_equal (name, "selected"))
        {
          g_autofree char *wanted = arg_string (ev, vals, 1);
          g_auto(GStrv) w = choices (wanted);
          return value_boolean (w[0] != NULL && g_strv_contains ((const char * const *) names, w[0]));
        }
      {
        double at = arg_number (vals, 1);
        if (isnan (at) || at < 0 || at >= g_strv_length (names))
          return value_string_take (g_strdup (""));
        return value_string_take (g_strdup (names[(guint) at]));
      }
    }
  if (g_str_equal (name, "today"))
    return value_string_take (ev->ctx->today != NULL ? g_strdup (ev->ctx->today) : local_today ());
  if (g_str_equal (name, "now"))
    {
      if (ev->ctx->now != NULL)
        return value_string_take (g_strdup (ev->ctx->now));
      {
        g_autoptr(GDateTime) now = g_date_time_new_now_local ();
        return value_string_take (g_date_time_format_iso8601 (now));
      }
    }
  if (g_str_equal (name, "date"))
    {
      HearthXValue *v = vals->pdata[0];
      gint64 days;
      double x;

      if (v->type != HEARTH_XVALUE_NUMBER)
        {
          g_autofree char *s = hearth_xvalue_to_string (v);
          if (s[0] == '\0')
            return value_string_take (g_strdup (""));
          if (hearth_xpath_parse_date (s, &days))
            return value_string_take (hearth_xpath_days_to_date (days));
        }
      x = hearth_xvalue_to_number (v);
      if (isnan (x) || isinf (x))
        return value_string_take (g_strdup (""));
      {
        char *d = hearth_xpath_days_to_date ((gint64) floor (x));
        return value_string_take (d != NULL ? d : g_strdup (""));
      }
    }
  if (g_str_equal (name, "decimal-date-time"))
    {
      g_autofree char *s = arg_string (ev, vals, 0);
      g_autoptr(GDateTime) dt = NULL;
      gint64 days;

      if (hearth_xpath_parse_date (s, &days) && s[10] == '\0')
        return value_number ((double) days);
      dt = g_date_time_new_from_iso8601 (s, NULL);
      if (dt == NULL)
        return value_number (NAN);
      return value_number ((double) g_date_time_to_unix (dt) / 86400.0 +
                           g_date_time_get_microsecond (dt) / 86400e6);
    }
  if (g_str_equal (name, "regex"))
    {
      g_autofree char *s = arg_string (ev, vals, 0);
      g_autofree char *pattern = arg_string (ev, vals, 1);
      g_autoptr(GError) local = NULL;
      g_autoptr(GRegex) re = g_regex_new (pattern, 0, 0, &local);  /* UTF-8: characters */

      if (re == NULL)
        return eval_error (ev, _("regex(): the pattern \"%s\" is invalid: %s (column %u)"),
                           pattern, local->message, e->column);
      return value_boolean (g_regex_match (re, s, 0, NULL));
    }
  if (g_str_equal (name, "jr:choice-name"))
    {
      /* jr:choice-name(value, 'path'): the label of a choice of the control
       * bound to the node the path names (ODK XForms, "Select functions"). */
      g_autofree char *value = arg_string (ev, vals, 0);
      g_autofree char *path = arg_string (ev, vals, 1);
      g_autoptr(HearthXPathExpr) pe = NULL;
      g_autoptr(HearthXValue) target = NULL;
      g_autoptr(GError) local = NULL;
      char *label = NULL;

      if (value[0] == '\0' || ev->ctx->choice_name == NULL)
        return value_string_take (g_strdup (""));
      pe = hearth_xpath_parse (path, &local);
      if (pe == NULL)
        return eval_error (ev, _("jr:choice-name(): \"%s\" is not a path: %s (column %u)"), path,
                           local->message, e->column);
      target = eval (ev, pe, node, pos, size);
      if (target == NULL)
        return NULL;
      if (target->type == HEARTH_XVALUE_NODESET && target->nodes->len > 0)
        label = ev->ctx->choice_name (ev->ctx->host, value, target->nodes->pdata[0]);
      return value_string_take (label != NULL ? label : g_strdup (""));
    }
  if (g_str_equal (name, "jr:itext"))
    {
      g_autofree char *id = arg_string (ev, vals, 0);
      char *text = ev->ctx->itext != NULL ? ev->ctx->itext (ev->ctx->host, id) : NULL;
      return value_string_take (text != NULL ? text : g_strdup (""));
    }
  if (g_str_equal (name, "instance"))
    {
      g_autofree char *id = arg_string (ev, vals, 0);
      xmlDoc *doc = ev->ctx->instances != NULL ? g_hash_table_lookup (ev->ctx->instances, id) : NULL;
      GPtrArray *nodes;

      if (doc == NULL)
        return eval_error (ev, _("instance('%s') is not a secondary instance of this form (column %u)"),
                           id, e->column);
      nodes = g_ptr_array_new ();
      g_ptr_array_add (nodes, doc);
      return value_nodes (nodes);
    }
  return eval_error (ev, _("unknown function %s() (column %u)"), name, e->column);
}

HearthXValue *
hearth_xpath_evaluate (const HearthXPathExpr *expr, const HearthXPathContext *ctx, GError **error)
{
  Eval ev = { ctx, error };

  return eval (&ev, expr, ctx->node, ctx->position > 0 ? ctx->position : 1, ctx->size > 0 ? ctx->size : 1);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xpath-eval.c: XPath 1.0 evaluation over libxml2 nodes with ODK typing.
 * Values and conversions follow XPath 1.0 sections 3.4 (comparisons) and 4
 * (core functions); numbers and dates follow xpath-value.h. The ODK
 * functions are those of the ODK XForms specification, "XPath functions".
 *
 * Every evaluation runs on a budget (HearthXPathContext.budget): each
 * expression evaluated, node visited, byte of string made and moment spent
 * in a regular expression costs steps, and when they run out the
 * evaluation stops with HEARTH_XPATH_ERROR_TOO_COSTLY. Helpers that cannot
 * return an error mark the evaluation as over; eval() then drops whatever
 * they produced, so the error reaches the caller however deep it arose.
 */
#define G_LOG_DOMAIN "hearth-xpath"

#include "xpath-eval.h"
#include "xpath-value.h"

#include <glib/gi18n.h>
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

/* Every string the evaluator handles is UTF-8, so that the g_utf8_*
 * functions may walk it: the parser checks literals, and a node built
 * through the libxml2 API (rather than parsed) may hold anything. */
static char *
valid_utf8_take (char *s)
{
  char *valid;

  if (g_utf8_validate (s, -1, NULL))
    return s;
  valid = g_utf8_make_valid (s, -1);
  g_free (s);
  return valid;
}

static char *
node_string (xmlNode *node)
{
  xmlChar *c = xmlNodeGetContent (node);
  char *s = g_strdup (c != NULL ? (const char *) c : "");
  xmlFree (c);
  return valid_utf8_take (s);
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

/* ---- evaluation state, errors and the budget ----------------------------- */

/* What costs one step: a node visited on an axis, or this many bytes of
 * string made, copied or read. An expression evaluated (a value made and
 * freed) costs a few, a function called (its arguments gathered) more. */
#define BYTES_PER_STEP 8
#define EXPR_STEPS 2
#define CALL_STEPS 4
#define FORMAT_CODE_STEPS 4
#define PATH_STEP_STEPS 8
/* How deep a path given as a string (jr:choice-name()) may be evaluated
 * from within another such path. */
#define MAX_DYNAMIC_DEPTH 1

typedef struct {
  const HearthXPathContext *ctx;
  GError **error;
  guint64 budget;        /* steps allowed */
  guint64 spent;         /* steps taken, never above @budget */
  gboolean over;         /* an error was raised: every caller unwinds */
  gboolean plain_paths;  /* indexed-repeat(): absolute paths not contextualised */
  guint dynamic;         /* jr:choice-name() paths being evaluated */
  GHashTable *order;     /* xmlNode → its place in document order, from 1 */
  GHashTable *numbered;  /* the roots of the trees numbered in @order */
  guint next_place;
  GHashTable *regexes;   /* "depth:pattern" → GRegex, for this evaluation */
} Eval;

G_GNUC_PRINTF (3, 0)
static void
fail_valist (Eval *ev, int code, const char *fmt, va_list ap)
{
  ev->over = TRUE;
  if (ev->error != NULL && *ev->error == NULL)
    g_propagate_error (ev->error, g_error_new_valist (HEARTH_XPATH_ERROR, code, fmt, ap));
}

G_GNUC_PRINTF (2, 3)
static HearthXValue *
eval_error (Eval *ev, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  fail_valist (ev, HEARTH_XPATH_ERROR_EVAL, fmt, ap);
  va_end (ap);
  return NULL;
}

G_GNUC_PRINTF (2, 3)
static HearthXValue *
costly_error (Eval *ev, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  fail_valist (ev, HEARTH_XPATH_ERROR_TOO_COSTLY, fmt, ap);
  va_end (ap);
  return NULL;
}

/* Spends @steps of the budget. Returns: FALSE, with the error raised, when
 * the budget is spent (or an error was raised before). */
static gboolean
charge (Eval *ev, guint64 steps)
{
  if (ev->over)
    return FALSE;
  if (steps <= ev->budget - ev->spent)
    {
      ev->spent += steps;
      return TRUE;
    }
  ev->spent = ev->budget;
  {
    g_autofree char *limit = g_strdup_printf ("%" G_GUINT64_FORMAT, ev->budget);
    costly_error (ev, _("the expression is too costly to evaluate: it takes more than %s steps "
                        "(nodes visited, expressions evaluated, text handled)"), limit);
  }
  return FALSE;
}

/* Charges for @len bytes of string. */
static gboolean
charge_bytes (Eval *ev, gsize len)
{
  return charge (ev, len / BYTES_PER_STEP);
}

/* At most 40 characters of @s, for an error message. */
static char *
shorten (const char *s)
{
  if (g_utf8_strlen (s, -1) <= 40)
    return g_strdup (s);
  {
    g_autofree char *head = g_utf8_substring (s, 0, 39);
    return g_strconcat (head, "…", NULL);
  }
}

/* The string-value of @node (XPath 1.0 section 5): for an element or a
 * document, its text descendants in document order. Visits are charged. */
static char *
text_of (Eval *ev, xmlNode *node)
{
  GString *out;
  guint64 visited = 1;

  if (node->type != XML_ELEMENT_NODE && node->type != XML_DOCUMENT_NODE &&
      node->type != XML_HTML_DOCUMENT_NODE && node->type != XML_DOCUMENT_FRAG_NODE)
    {
      char *s = node_string (node);
      charge (ev, 1 + strlen (s) / BYTES_PER_STEP);
      return s;
    }
  out = g_string_new (NULL);
  for (xmlNode *n = node->children; n != NULL;)
    {
      visited++;
      if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content != NULL)
        g_string_append (out, (const char *) n->content);
      else if (n->type == XML_ENTITY_REF_NODE)
        {
          xmlChar *c = xmlNodeGetContent (n);
          if (c != NULL)
            g_string_append (out, (const char *) c);
          xmlFree (c);
        }
      /* Elements only: an entity reference's children belong to the entity. */
      if (n->type == XML_ELEMENT_NODE && n->children != NULL)
        {
          n = n->children;
          continue;
        }
      while (n != node && n->next == NULL)
        n = n->parent;
      if (n == node)
        break;
      n = n->next;
    }
  charge (ev, visited + out->len / BYTES_PER_STEP);
  return valid_utf8_take (g_string_free (out, FALSE));
}

static HearthXValue *eval (Eval *ev, const HearthXPathExpr *e, xmlNode *node, guint pos, guint size);

/* ---- document order ------------------------------------------------------ */

/* Numbers the tree under @root in document order: a node, then its
 * attributes, then its children. */
static void
number_tree (Eval *ev, xmlNode *root)
{
  guint64 count = 0;

  g_hash_table_add (ev->numbered, root);
  for (xmlNode *n = root; n != NULL;)
    {
      g_hash_table_insert (ev->order, n, GUINT_TO_POINTER (++ev->next_place));
      count++;
      if (n->type == XML_ELEMENT_NODE)
        for (xmlAttr *a = n->properties; a != NULL; a = a->next)
          {
            g_hash_table_insert (ev->order, a, GUINT_TO_POINTER (++ev->next_place));
            count++;
          }
      if ((n->type == XML_ELEMENT_NODE || n->type == XML_DOCUMENT_NODE ||
           n->type == XML_HTML_DOCUMENT_NODE || n->type == XML_DOCUMENT_FRAG_NODE) &&
          n->children != NULL)
        {
          n = n->children;
          continue;
        }
      while (n != root && n->next == NULL)
        n = n->parent;
      if (n == root)
        break;
      n = n->next;
    }
  charge (ev, count);
}

/* @n's place in document order, numbering its tree when first asked. */
static guint
place_of (Eval *ev, xmlNode *n)
{
  gpointer place;
  xmlNode *root = n;

  if (ev->order == NULL)
    {
      ev->order = g_hash_table_new (NULL, NULL);
      ev->numbered = g_hash_table_new (NULL, NULL);
    }
  place = g_hash_table_lookup (ev->order, n);
  if (place != NULL)
    return GPOINTER_TO_UINT (place);
  while (root->parent != NULL)
    root = root->parent;
  if (!g_hash_table_contains (ev->numbered, root))
    {
      number_tree (ev, root);
      place = g_hash_table_lookup (ev->order, n);
      if (place != NULL)
        return GPOINTER_TO_UINT (place);
    }
  /* Not reached by the numbering (an attribute's text): after the rest. */
  g_hash_table_insert (ev->order, n, GUINT_TO_POINTER (++ev->next_place));
  return ev->next_place;
}

/* TRUE when @a is @b or surely precedes it, found with a walk along
 * siblings that is charged; FALSE when it follows, or the walk cannot tell. */
static gboolean
precedes (Eval *ev, xmlNode *a, xmlNode *b)
{
  guint da = 0, db = 0;
  guint64 walked;
  xmlNode *p;

  if (a == b)
    return TRUE;
  for (p = a; p->parent != NULL; p = p->parent)
    da++;
  for (p = b; p->parent != NULL; p = p->parent)
    db++;
  walked = 1 + da + db;
  for (; db > da; db--)
    {
      b = b->parent;
      if (b == a)  /* an ancestor comes first */
        return charge (ev, walked);
    }
  for (; da > db; da--)
    {
      a = a->parent;
      if (a == b)
        {
          charge (ev, walked);
          return FALSE;
        }
    }
  while (a->parent != b->parent)
    {
      a = a->parent;
      b = b->parent;
    }
  if (a->parent == NULL)  /* two documents */
    {
      charge (ev, walked);
      return FALSE;
    }
  /* Siblings: an element's attributes come before its children. */
  if ((a->type == XML_ATTRIBUTE_NODE) != (b->type == XML_ATTRIBUTE_NODE))
    return charge (ev, walked) && a->type == XML_ATTRIBUTE_NODE;
  for (p = a->next; p != NULL; p = p->next)
    {
      walked++;
      if (p == b)
        return charge (ev, walked);
    }
  charge (ev, walked);
  return FALSE;
}

typedef struct {
  guint place;
  xmlNode *node;
} Placed;

static int
compare_places (gconstpointer a, gconstpointer b)
{
  guint x = ((const Placed *) a)->place, y = ((const Placed *) b)->place;
  return x < y ? -1 : x > y ? 1 : 0;
}

/* Sorts @nodes into document order and drops duplicates. Sets from one
 * axis step usually are in order already, which a walk along them shows;
 * the others are sorted by the places of their nodes.
 * Returns: FALSE when the budget ran out. */
static gboolean
normalise (Eval *ev, GPtrArray *nodes)
{
  gboolean sorted = TRUE;
  guint out = 0;

  if (nodes->len < 2)
    return TRUE;
  for (guint i = 1; i < nodes->len && sorted; i++)
    sorted = precedes (ev, nodes->pdata[i - 1], nodes->pdata[i]);
  if (ev->over)
    return FALSE;
  if (!sorted)
    {
      g_autofree Placed *placed = g_new (Placed, nodes->len);
      guint64 log2n = 1;

      for (guint i = 0; i < nodes->len; i++)
        {
          placed[i].node = nodes->pdata[i];
          placed[i].place = place_of (ev, nodes->pdata[i]);
        }
      for (guint k = nodes->len; k > 1; k >>= 1)
        log2n++;
      if (!charge (ev, nodes->len * log2n))
        return FALSE;
      qsort (placed, nodes->len, sizeof *placed, compare_places);
      for (guint i = 0; i < nodes->len; i++)
        nodes->pdata[i] = placed[i].node;
    }
  for (guint i = 0; i < nodes->len; i++)
    if (out == 0 || nodes->pdata[out - 1] != nodes->pdata[i])
      nodes->pdata[out++] = nodes->pdata[i];
  g_ptr_array_set_size (nodes, out);
  return TRUE;
}

/* ---- paths ------------------------------------------------------------- */

/* The kinds of node XPath's data model has (section 5): not a DTD nor its
 * declarations, which libxml2 keeps among a document's children. */
static gboolean
is_xpath_node (xmlNode *n)
{
  switch (n->type)
    {
    case XML_ELEMENT_NODE: case XML_ATTRIBUTE_NODE: case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE: case XML_ENTITY_REF_NODE: case XML_PI_NODE:
    case XML_COMMENT_NODE: case XML_DOCUMENT_NODE: case XML_HTML_DOCUMENT_NODE:
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
name_matches (const HearthXPathStep *step, xmlNode *n)
{
  const char *colon;

  switch (step->test)
    {
    case HEARTH_XPATH_TEST_NODE:
      return is_xpath_node (n);
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

/* The descendants of @top in document order, without recursion (a tree
 * built through the API may be deeper than the stack). Only elements are
 * descended into: an entity reference's children belong to the entity. */
static void
add_descendants (xmlNode *top, GPtrArray *out)
{
  for (xmlNode *n = top->children; n != NULL;)
    {
      g_ptr_array_add (out, n);
      if (n->type == XML_ELEMENT_NODE && n->children != NULL)
        {
          n = n->children;
          continue;
        }
      while (n != top && n->next == NULL)
        n = n->parent;
      if (n == top)
        break;
      n = n->next;
    }
}

/* The nodes of @axis from @n, in axis order. */
static void
axis_nodes (HearthXPathAxis axis, xmlNode *n, GPtrArray *out)
{
  switch (axis)
    {
    case HEARTH_XPATH_AXIS_CHILD:
      if (n->type != XML_ATTRIBUTE_NODE && n->type != XML_ENTITY_REF_NODE)
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
      if (n->type != XML_ATTRIBUTE_NODE && n->type != XML_ENTITY_REF_NODE)
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

/* Applies @preds to the nodes of @nodes from @start on (in axis order),
 * keeping those that pass. */
static gboolean
filter (Eval *ev, GPtrArray *preds, GPtrArray *nodes, guint start)
{
  for (guint p = 0; preds != NULL && p < preds->len; p++)
    {
      const HearthXPathExpr *pred = g_ptr_array_index (preds, p);
      guint out = start, size = nodes->len - start;

      for (guint i = 0; i < size; i++)
        {
          g_autoptr(HearthXValue) v = eval (ev, pred, nodes->pdata[start + i], i + 1, size);
          gboolean keep;

          if (v == NULL)
            return FALSE;
          keep = v->type == HEARTH_XVALUE_NUMBER ? v->number == (double) (i + 1)
                                                 : hearth_xvalue_to_boolean (v);
          if (keep)
            nodes->pdata[out++] = nodes->pdata[start + i];
        }
      g_ptr_array_set_size (nodes, out);
    }
  return TRUE;
}

static gboolean
no_predicates (const HearthXPathStep *step)
{
  return step->predicates == NULL || step->predicates->len == 0;
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
      if (!filter (ev, e->filter_predicates, current, 0))
        return NULL;
    }
  else if (e->absolute)
    {
      /* "/" is the primary instance's root, even inside a predicate over a
       * secondary instance (ODK: instance('cities')/root/item[country =
       * /data/country]): the document of the expression's own node. */
      xmlNode *home = ev->ctx->current != NULL ? ev->ctx->current : ev->ctx->node;
      xmlDoc *doc = home != NULL && home->doc != NULL ? home->doc : node->doc;

      g_ptr_array_add (current, doc != NULL ? (xmlNode *) doc : node);
      if (ev->ctx->contextualise && !ev->plain_paths)
        {
          xmlNode *anchor = home;
          if (anchor != NULL && anchor->doc == doc)
            {
              chain = g_ptr_array_new ();
              for (xmlNode *a = anchor; a != NULL && a->type != XML_DOCUMENT_NODE; a = a->parent)
                g_ptr_array_insert (chain, 0, a);
              if (!charge (ev, chain->len))
                return NULL;
            }
        }
    }
  else
    g_ptr_array_add (current, node);

  for (guint s = 0; s < e->steps->len; s++)
    {
      const HearthXPathStep *step = g_ptr_array_index (e->steps, s);
      g_autoptr(GPtrArray) next = g_ptr_array_new ();
      HearthXPathStep merged;

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
              step->test == HEARTH_XPATH_TEST_NAME && no_predicates (step) &&
              name_matches (step, chain->pdata[s]))
            {
              g_ptr_array_set_size (current, 0);
              g_ptr_array_add (current, chain->pdata[s]);
              continue;
            }
          g_clear_pointer (&chain, g_ptr_array_unref);
        }
      /* "//x" (descendant-or-self::node()/child::x) without predicates is
       * descendant::x: the same nodes, found in order in one walk. */
      if (step->axis == HEARTH_XPATH_AXIS_DESCENDANT_OR_SELF && step->test == HEARTH_XPATH_TEST_NODE &&
          no_predicates (step) && s + 1 < e->steps->len)
        {
          const HearthXPathStep *child = g_ptr_array_index (e->steps, s + 1);
          if (child->axis == HEARTH_XPATH_AXIS_CHILD && no_predicates (child))
            {
              merged = *child;
              merged.axis = HEARTH_XPATH_AXIS_DESCENDANT;
              step = &merged;
              s++;
            }
        }
      /* A step: its arrays, then a step a node it starts from and a step
       * a node it meets. */
      if (!charge (ev, PATH_STEP_STEPS + current->len))
        return NULL;
      for (guint i = 0; i < current->len; i++)
        {
          guint start = next->len, out = start;

          /* The nodes of this context node go to the end of @next, where
           * they are filtered in place. */
          axis_nodes (step->axis, current->pdata[i], next);
          if (!charge (ev, next->len - start))
            return NULL;
          for (guint c = start; c < next->len; c++)
            if (name_matches (step, next->pdata[c]))
              next->pdata[out++] = next->pdata[c];
          g_ptr_array_set_size (next, out);
          if (!filter (ev, step->predicates, next, start))
            return NULL;
        }
      if (!normalise (ev, next))
        return NULL;
      g_ptr_array_unref (current);
      current = g_steal_pointer (&next);
    }
  return value_nodes (g_steal_pointer (&current));
}

/* ---- comparisons ----------------------------------------------------------- */

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

/* The string-values of @nodes. */
static GPtrArray *
texts_of (Eval *ev, GPtrArray *nodes)
{
  GPtrArray *texts = g_ptr_array_new_full (nodes->len, g_free);

  for (guint i = 0; i < nodes->len && !ev->over; i++)
    g_ptr_array_add (texts, text_of (ev, nodes->pdata[i]));
  return texts;
}

/* Two node-sets: true when some pair of their nodes compares true. Found
 * without trying every pair: by a hash of strings for "=", by the extremes
 * of the numbers for "<" and the like. */
static gboolean
compare_sets (Eval *ev, HearthXPathOp op, GPtrArray *a, GPtrArray *b)
{
  g_autoptr(GPtrArray) ta = NULL;
  g_autoptr(GPtrArray) tb = NULL;

  if (a->len == 0 || b->len == 0)
    return FALSE;
  ta = texts_of (ev, a);
  tb = texts_of (ev, b);
  if (ev->over)
    return FALSE;
  if (op == HEARTH_XPATH_EQ)
    {
      g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
      for (guint i = 0; i < tb->len; i++)
        g_hash_table_add (seen, tb->pdata[i]);
      for (guint i = 0; i < ta->len; i++)
        if (g_hash_table_contains (seen, ta->pdata[i]))
          return TRUE;
      return FALSE;
    }
  if (op == HEARTH_XPATH_NE)
    {
      /* False only when every string of both sets is one and the same. */
      const char *first = ta->pdata[0];
      for (guint i = 1; i < ta->len; i++)
        if (!g_str_equal (ta->pdata[i], first))
          return TRUE;
      for (guint i = 0; i < tb->len; i++)
        if (!g_str_equal (tb->pdata[i], first))
          return TRUE;
      return FALSE;
    }
  {
    double min_a = INFINITY, max_a = -INFINITY, min_b = INFINITY, max_b = -INFINITY;
    gboolean any_a = FALSE, any_b = FALSE;

    for (guint i = 0; i < ta->len; i++)
      {
        double x = hearth_xpath_string_to_number (ta->pdata[i]);
        if (isnan (x))
          continue;
        min_a = MIN (min_a, x);
        max_a = MAX (max_a, x);
        any_a = TRUE;
      }
    for (guint i = 0; i < tb->len; i++)
      {
        double y = hearth_xpath_string_to_number (tb->pdata[i]);
        if (isnan (y))
          continue;
        min_b = MIN (min_b, y);
        max_b = MAX (max_b, y);
        any_b = TRUE;
      }
    if (!any_a || !any_b)
      return FALSE;
    switch (op)
      {
      case HEARTH_XPATH_LT: return min_a < max_b;
      case HEARTH_XPATH_LE: return min_a <= max_b;
      case HEARTH_XPATH_GT: return max_a > min_b;
      case HEARTH_XPATH_GE: return max_a >= min_b;
      default: return FALSE;
      }
  }
}

static gboolean
compare (Eval *ev, HearthXPathOp op, const HearthXValue *a, const HearthXValue *b)
{
  if (a->type == HEARTH_XVALUE_NODESET && b->type == HEARTH_XVALUE_NODESET)
    return compare_sets (ev, op, a->nodes, b->nodes);
  /* A node-set compares through each of its nodes' string values. */
  if (a->type == HEARTH_XVALUE_NODESET && b->type != HEARTH_XVALUE_BOOLEAN)
    {
      for (guint i = 0; i < a->nodes->len && !ev->over; i++)
        {
          HearthXValue atom = { .type = HEARTH_XVALUE_STRING,
                                .string = text_of (ev, a->nodes->pdata[i]) };
          gboolean r = compare_atoms (op, &atom, b);
          g_free (atom.string);
          if (r)
            return TRUE;
        }
      return FALSE;
    }
  if (b->type == HEARTH_XVALUE_NODESET && a->type != HEARTH_XVALUE_BOOLEAN)
    {
      for (guint i = 0; i < b->nodes->len && !ev->over; i++)
        {
          HearthXValue atom = { .type = HEARTH_XVALUE_STRING,
                                .string = text_of (ev, b->nodes->pdata[i]) };
          gboolean r = compare_atoms (op, a, &atom);
          g_free (atom.string);
          if (r)
            return TRUE;
        }
      return FALSE;
    }
  return compare_atoms (op, a, b);
}

/* ---- expressions ------------------------------------------------------------ */

static HearthXValue *eval_function (Eval *ev, const HearthXPathExpr *e, xmlNode *node,
                                    guint pos, guint size);

/* number() of @v, the string-value of a node-set's first node charged. */
static double
number_of (Eval *ev, const HearthXValue *v)
{
  if (v->type == HEARTH_XVALUE_NODESET)
    {
      g_autofree char *s = v->nodes->len > 0 ? text_of (ev, v->nodes->pdata[0]) : g_strdup ("");
      return hearth_xpath_string_to_number (s);
    }
  return hearth_xvalue_to_number (v);
}

static HearthXValue *
eval_expr (Eval *ev, const HearthXPathExpr *e, xmlNode *node, guint pos, guint size)
{
  switch (e->kind)
    {
    case HEARTH_XPATH_NUMBER:
      return value_number (e->number);
    case HEARTH_XPATH_STRING:
      if (!charge_bytes (ev, strlen (e->text)))
        return NULL;
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
        return v == NULL ? NULL : value_number (-number_of (ev, v));
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
        return value_boolean (compare (ev, e->op, a, b));
      case HEARTH_XPATH_UNION:
        {
          GPtrArray *nodes;
          if (a->type != HEARTH_XVALUE_NODESET || b->type != HEARTH_XVALUE_NODESET)
            return eval_error (ev, _("\"|\" joins node-sets only (column %u)"), e->column);
          if (!charge (ev, a->nodes->len + b->nodes->len))
            return NULL;
          nodes = g_ptr_array_new ();
          g_ptr_array_extend (nodes, a->nodes, NULL, NULL);
          g_ptr_array_extend (nodes, b->nodes, NULL, NULL);
          if (!normalise (ev, nodes))
            {
              g_ptr_array_unref (nodes);
              return NULL;
            }
          return value_nodes (nodes);
        }
      default:
        break;
      }
    x = number_of (ev, a);
    y = number_of (ev, b);
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

/* Every evaluation goes through here: its steps for the expression, and a
 * value made while an error was raised below is dropped. */
static HearthXValue *
eval (Eval *ev, const HearthXPathExpr *e, xmlNode *node, guint pos, guint size)
{
  HearthXValue *v;

  if (!charge (ev, EXPR_STEPS))
    return NULL;
  v = eval_expr (ev, e, node, pos, size);
  if (v != NULL && ev->over)
    g_clear_pointer (&v, hearth_xvalue_free);
  return v;
}

/* ---- functions: the call --------------------------------------------------- */

typedef struct {
  Eval *ev;
  const HearthXPathExpr *e;  /* the call, for its name, arguments and column */
  GPtrArray *vals;           /* the arguments' values; NULL for a lazy function */
  guint n;                   /* how many arguments */
  xmlNode *node;
  guint pos, size;
} Call;

static char *
arg_string (Call *c, guint i)
{
  HearthXValue *v = g_ptr_array_index (c->vals, i);
  char *s;

  if (v->type == HEARTH_XVALUE_NODESET)
    return v->nodes->len > 0 ? text_of (c->ev, v->nodes->pdata[0]) : g_strdup ("");
  s = hearth_xvalue_to_string (v);
  charge_bytes (c->ev, strlen (s));
  return s;
}

static double
arg_number (Call *c, guint i)
{
  HearthXValue *v = g_ptr_array_index (c->vals, i);

  if (v->type == HEARTH_XVALUE_NODESET)
    {
      g_autofree char *s = arg_string (c, i);
      return hearth_xpath_string_to_number (s);
    }
  return hearth_xvalue_to_number (v);
}

static HearthXValue *
arg_value (Call *c, guint i)
{
  return g_ptr_array_index (c->vals, i);
}

/* Evaluates argument @i of a lazy function. */
static HearthXValue *
arg_eval (Call *c, guint i)
{
  return eval (c->ev, g_ptr_array_index (c->e->args, i), c->node, c->pos, c->size);
}

/* A string made by a function: refused beyond HEARTH_XPATH_MAX_STRING. */
static HearthXValue *
string_result (Call *c, char *s)
{
  gsize len = strlen (s);

  if (len > HEARTH_XPATH_MAX_STRING)
    {
      g_free (s);
      return costly_error (c->ev, _("%s() is too costly: it makes a string of more than %u bytes (column %u)"),
                           c->e->text, (guint) HEARTH_XPATH_MAX_STRING, c->e->column);
    }
  if (!charge_bytes (c->ev, len))
    {
      g_free (s);
      return NULL;
    }
  return value_string_take (s);
}

/* The same for a string being built: FALSE, with the error, once too long. */
static gboolean
string_fits (Call *c, const GString *s)
{
  if (s->len <= HEARTH_XPATH_MAX_STRING)
    return TRUE;
  costly_error (c->ev, _("%s() is too costly: it makes a string of more than %u bytes (column %u)"),
                c->e->text, (guint) HEARTH_XPATH_MAX_STRING, c->e->column);
  return FALSE;
}

static HearthXValue *
need_nodes (Call *c, guint i)
{
  HearthXValue *v = arg_value (c, i);

  if (v->type != HEARTH_XVALUE_NODESET)
    return eval_error (c->ev, _("%s() needs a node-set (column %u)"), c->e->text, c->e->column);
  return v;
}

/* The space-separated choice names of a select-multiple answer; each
 * piece made is a step. */
static char **
choices (Eval *ev, const char *value)
{
  g_auto(GStrv) parts = g_strsplit_set (value, " \t\r\n", -1);
  GPtrArray *out = g_ptr_array_new ();
  guint i;

  for (i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_ptr_array_add (out, g_strdup (parts[i]));
  g_ptr_array_add (out, NULL);
  charge (ev, i);
  return (char **) g_ptr_array_free (out, FALSE);
}

/* ---- functions: boolean -------------------------------------------------- */

static HearthXValue *
fn_true (Call *c)
{
  return value_boolean (TRUE);
}

static HearthXValue *
fn_false (Call *c)
{
  return value_boolean (FALSE);
}

static HearthXValue *
fn_not (Call *c)
{
  return value_boolean (!hearth_xvalue_to_boolean (arg_value (c, 0)));
}

static HearthXValue *
fn_boolean (Call *c)
{
  return value_boolean (hearth_xvalue_to_boolean (arg_value (c, 0)));
}

static HearthXValue *
fn_boolean_from_string (Call *c)
{
  g_autofree char *s = arg_string (c, 0);
  return value_boolean (g_str_equal (s, "true") || g_str_equal (s, "1"));
}

/* if() evaluates only the branch it takes. */
static HearthXValue *
fn_if (Call *c)
{
  g_autoptr(HearthXValue) cond = arg_eval (c, 0);

  if (cond == NULL)
    return NULL;
  return arg_eval (c, hearth_xvalue_to_boolean (cond) ? 1 : 2);
}

/* A value of checklist(): true when it is a number above zero (ODK XForms,
 * "checklist"); a boolean counts as 1 or 0. */
static gboolean
checked (Eval *ev, const HearthXValue *v, guint k)
{
  if (v->type == HEARTH_XVALUE_NODESET)
    {
      g_autofree char *s = text_of (ev, v->nodes->pdata[k]);
      return hearth_xpath_string_to_number (s) > 0;
    }
  return hearth_xvalue_to_number (v) > 0;
}

static HearthXValue *
checklist_result (double min, double max, double total)
{
  /* A negative minimum or maximum means no bound; a blank one (NaN) fails. */
  return value_boolean ((min < 0 || total >= min) && (max < 0 || total <= max));
}

/* checklist(min, max, v…): how many of the values (each node of a
 * node-set counting as one) are true, between min and max inclusive. */
static HearthXValue *
fn_checklist (Call *c)
{
  double total = 0;

  for (guint i = 2; i < c->n; i++)
    {
      HearthXValue *v = arg_value (c, i);
      guint count = v->type == HEARTH_XVALUE_NODESET ? v->nodes->len : 1;
      for (guint k = 0; k < count; k++)
        if (checked (c->ev, v, k))
          total++;
    }
  return checklist_result (arg_number (c, 0), arg_number (c, 1), total);
}

/* weighted-checklist(min, max, v, w, …): the weights w of the true values
 * v summed, between min and max inclusive. A pair of node-sets pairs their
 * nodes one by one. */
static HearthXValue *
fn_weighted_checklist (Call *c)
{
  double total = 0;

  if (c->n % 2 != 0)
    return eval_error (c->ev, _("weighted-checklist() takes a minimum, a maximum and then pairs of "
                                "a value and a weight, not %u arguments (column %u)"),
                       c->n, c->e->column);
  for (guint i = 2; i < c->n; i += 2)
    {
      HearthXValue *v = arg_value (c, i), *w = arg_value (c, i + 1);

      if (v->type == HEARTH_XVALUE_NODESET && w->type == HEARTH_XVALUE_NODESET)
        {
          if (v->nodes->len != w->nodes->len)
            return eval_error (c->ev, _("weighted-checklist(): %u values but %u weights (column %u)"),
                               v->nodes->len, w->nodes->len, c->e->column);
          for (guint k = 0; k < v->nodes->len; k++)
            if (checked (c->ev, v, k))
              {
                g_autofree char *s = text_of (c->ev, w->nodes->pdata[k]);
                total += hearth_xpath_string_to_number (s);
              }
        }
      else if (v->type == HEARTH_XVALUE_NODESET ? v->nodes->len > 0 && checked (c->ev, v, 0)
                                                : checked (c->ev, v, 0))
        total += arg_number (c, i + 1);
    }
  return checklist_result (arg_number (c, 0), arg_number (c, 1), total);
}

/* ---- functions: node-sets and context --------------------------------------- */

static HearthXValue *
fn_last (Call *c)
{
  return value_number (c->size);
}

/* position(): the context position; ODK position(node): the 1-based index
 * of a (repeat) node among its same-named siblings. */
static HearthXValue *
fn_position (Call *c)
{
  HearthXValue *v;
  xmlNode *x;
  guint index = 1;
  guint64 walked = 0;

  if (c->n == 0)
    return value_number (c->pos);
  v = arg_value (c, 0);
  if (v->type != HEARTH_XVALUE_NODESET || v->nodes->len != 1)
    return eval_error (c->ev, _("position() takes one node (column %u)"), c->e->column);
  x = v->nodes->pdata[0];
  for (xmlNode *s = x->prev; s != NULL; s = s->prev)
    {
      walked++;
      if (s->type == XML_ELEMENT_NODE && g_strcmp0 ((const char *) s->name, (const char *) x->name) == 0)
        index++;
    }
  if (!charge (c->ev, walked))
    return NULL;
  return value_number (index);
}

static HearthXValue *
fn_current (Call *c)
{
  GPtrArray *nodes = g_ptr_array_new ();
  g_ptr_array_add (nodes, c->ev->ctx->current != NULL ? c->ev->ctx->current : c->ev->ctx->node);
  return value_nodes (nodes);
}

static HearthXValue *
fn_count (Call *c)
{
  HearthXValue *v = need_nodes (c, 0);
  return v == NULL ? NULL : value_number (v->nodes->len);
}

static HearthXValue *
fn_sum (Call *c)
{
  HearthXValue *v = need_nodes (c, 0);
  double total = 0;

  if (v == NULL)
    return NULL;
  for (guint i = 0; i < v->nodes->len; i++)
    {
      g_autofree char *s = text_of (c->ev, v->nodes->pdata[i]);
      total += hearth_xpath_string_to_number (s);
    }
  return value_number (total);
}

/* count-non-empty(nodes): the nodes whose string-value is not empty. */
static HearthXValue *
fn_count_non_empty (Call *c)
{
  HearthXValue *v = need_nodes (c, 0);
  guint count = 0;

  if (v == NULL)
    return NULL;
  for (guint i = 0; i < v->nodes->len; i++)
    {
      g_autofree char *s = text_of (c->ev, v->nodes->pdata[i]);
      if (s[0] != '\0')
        count++;
    }
  return value_number (count);
}

static HearthXValue *
fn_min_max (Call *c)
{
  gboolean want_max = g_str_equal (c->e->text, "max");
  double best = NAN;
  gboolean any = FALSE;

  for (guint i = 0; i < c->n; i++)
    {
      HearthXValue *v = arg_value (c, i);
      guint count = v->type == HEARTH_XVALUE_NODESET ? v->nodes->len : 1;
      for (guint k = 0; k < count; k++)
        {
          double x;
          if (v->type == HEARTH_XVALUE_NODESET)
            {
              g_autofree char *s = text_of (c->ev, v->nodes->pdata[k]);
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

static HearthXValue *
fn_instance (Call *c)
{
  g_autofree char *id = arg_string (c, 0);
  GHashTable *instances = c->ev->ctx->instances;
  xmlDoc *doc = instances != NULL ? g_hash_table_lookup (instances, id) : NULL;
  GPtrArray *nodes;

  if (doc == NULL)
    {
      g_autofree char *shown = shorten (id);
      return eval_error (c->ev, _("instance('%s') is not a secondary instance of this form (column %u)"),
                         shown, c->e->column);
    }
  nodes = g_ptr_array_new ();
  g_ptr_array_add (nodes, doc);
  return value_nodes (nodes);
}

static gboolean
is_within (xmlNode *n, xmlNode *ancestor, guint64 *walked)
{
  for (; n != NULL; n = n->parent)
    {
      (*walked)++;
      if (n == ancestor)
        return TRUE;
    }
  return FALSE;
}

/* indexed-repeat(nodes, repeat1, index1[, repeat2, index2[, repeat3,
 * index3]]): the value of the node of @nodes inside instance index1 of
 * repeat1, inside that instance index2 of repeat2, and so on (1-based).
 * The paths are taken as written, not contextualised: the expression is
 * often used inside the repeat itself, to read another instance. */
static HearthXValue *
fn_indexed_repeat (Call *c)
{
  Eval *ev = c->ev;
  g_autoptr(HearthXValue) target = NULL;
  xmlNode *within = NULL;
  gboolean plain = ev->plain_paths;
  guint64 walked = 0;

  if (c->n % 2 == 0)
    return eval_error (ev, _("indexed-repeat() takes nodes and then pairs of a repeat and an index, "
                             "not %u arguments (column %u)"), c->n, c->e->column);
  ev->plain_paths = TRUE;
  target = arg_eval (c, 0);
  ev->plain_paths = plain;
  if (target == NULL)
    return NULL;
  if (target->type != HEARTH_XVALUE_NODESET)
    return eval_error (ev, _("%s() needs a node-set (column %u)"), c->e->text, c->e->column);
  for (guint i = 1; i + 1 < c->n; i += 2)
    {
      g_autoptr(HearthXValue) repeat = NULL;
      g_autoptr(HearthXValue) index = NULL;
      double at;
      guint seen = 0;
      xmlNode *found = NULL;

      ev->plain_paths = TRUE;
      repeat = arg_eval (c, i);
      ev->plain_paths = plain;
      if (repeat == NULL)
        return NULL;
      if (repeat->type != HEARTH_XVALUE_NODESET)
        return eval_error (ev, _("%s() needs a node-set (column %u)"), c->e->text, c->e->column);
      index = arg_eval (c, i + 1);
      if (index == NULL)
        return NULL;
      if (index->type == HEARTH_XVALUE_NODESET)
        {
          g_autofree char *s = index->nodes->len > 0 ? text_of (ev, index->nodes->pdata[0]) : g_strdup ("");
          at = hearth_xpath_string_to_number (s);
        }
      else
        at = hearth_xvalue_to_number (index);
      at = trunc (at);
      if (isnan (at) || at < 1 || at > repeat->nodes->len)
        return value_string_take (g_strdup (""));
      for (guint k = 0; k < repeat->nodes->len && found == NULL; k++)
        if (within == NULL || is_within (repeat->nodes->pdata[k], within, &walked))
          if (++seen == (guint) at)
            found = repeat->nodes->pdata[k];
      if (!charge (ev, walked))
        return NULL;
      if (found == NULL)
        return value_string_take (g_strdup (""));
      within = found;
    }
  for (guint k = 0; k < target->nodes->len; k++)
    if (is_within (target->nodes->pdata[k], within, &walked))
      {
        if (!charge (ev, walked))
          return NULL;
        return string_result (c, text_of (ev, target->nodes->pdata[k]));
      }
  if (!charge (ev, walked))
    return NULL;
  return value_string_take (g_strdup (""));
}

/* ---- functions: strings ---------------------------------------------------- */

static HearthXValue *
fn_string (Call *c)
{
  return string_result (c, c->n > 0 ? arg_string (c, 0) : text_of (c->ev, c->node));
}

static HearthXValue *
fn_number (Call *c)
{
  if (c->n > 0)
    return value_number (arg_number (c, 0));
  {
    g_autofree char *s = text_of (c->ev, c->node);
    return value_number (hearth_xpath_string_to_number (s));
  }
}

static HearthXValue *
fn_string_length (Call *c)
{
  g_autofree char *s = c->n > 0 ? arg_string (c, 0) : text_of (c->ev, c->node);
  return value_number (g_utf8_strlen (s, -1));  /* characters, not bytes */
}

static HearthXValue *
fn_normalize_space (Call *c)
{
  g_autofree char *s = c->n > 0 ? arg_string (c, 0) : text_of (c->ev, c->node);
  g_auto(GStrv) words = choices (c->ev, s);
  return string_result (c, g_strjoinv (" ", words));
}

/* concat() takes a node-set's first node, as string() does; join(sep,
 * v…) takes every node. */
static HearthXValue *
fn_concat_join (Call *c)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *sep = g_str_equal (c->e->text, "join") ? arg_string (c, 0) : NULL;
  gboolean first = TRUE;

  for (guint i = sep != NULL ? 1 : 0; i < c->n; i++)
    {
      HearthXValue *v = arg_value (c, i);
      /* ODK concat(): "all string values and all node values inside the
       * provided node-sets", as join() does. */
      guint count = v->type != HEARTH_XVALUE_NODESET ? 1 : v->nodes->len;

      for (guint k = 0; k < count; k++)
        {
          g_autofree char *s = v->type == HEARTH_XVALUE_NODESET ? text_of (c->ev, v->nodes->pdata[k])
                                                                : arg_string (c, i);
          if (!first && sep != NULL)
            g_string_append (out, sep);
          g_string_append (out, s);
          first = FALSE;
          if (!string_fits (c, out) || c->ev->over)
            return NULL;
        }
    }
  return string_result (c, g_string_free (g_steal_pointer (&out), FALSE));
}

static HearthXValue *
fn_contains (Call *c)
{
  g_autofree char *a = arg_string (c, 0);
  g_autofree char *b = arg_string (c, 1);
  const char *name = c->e->text;

  if (g_str_equal (name, "contains"))
    return value_boolean (strstr (a, b) != NULL);
  if (g_str_equal (name, "starts-with"))
    return value_boolean (g_str_has_prefix (a, b));
  return value_boolean (g_str_has_suffix (a, b));
}

static HearthXValue *
fn_substring (Call *c)
{
  g_autofree char *s = arg_string (c, 0);
  glong len = g_utf8_strlen (s, -1);
  double start = arg_number (c, 1), end;

  if (g_str_equal (c->e->text, "substr"))
    {
      /* ODK substr(s, start, end): 0-based, end exclusive, characters;
       * a negative index counts from the end (JavaRosa, Enketo). */
      end = c->n > 2 ? arg_number (c, 2) : (double) len;
      if (start < 0)
        start += (double) len;
      if (end < 0)
        end += (double) len;
    }
  else
    {
      /* XPath substring(s, start, length): 1-based, rounded. */
      double first = round (start);
      double last = c->n > 2 ? first + round (arg_number (c, 2)) : INFINITY;
      start = first - 1;
      end = last - 1;
    }
  if (isnan (start) || isnan (end))
    return value_string_take (g_strdup (""));
  start = CLAMP (start, 0, (double) len);
  end = CLAMP (end, start, (double) len);
  return string_result (c, g_utf8_substring (s, (glong) start, (glong) end));
}

/* substring-before(s, t), substring-after(s, t): XPath 1.0. A match of a
 * UTF-8 string inside another always falls on character boundaries. */
static HearthXValue *
fn_substring_before_after (Call *c)
{
  g_autofree char *s = arg_string (c, 0);
  g_autofree char *t = arg_string (c, 1);
  gboolean before = g_str_equal (c->e->text, "substring-before");
  const char *at = strstr (s, t);

  if (at == NULL)
    return value_string_take (g_strdup (""));
  if (before)
    return string_result (c, g_strndup (s, at - s));
  return string_result (c, g_strdup (at + strlen (t)));
}

/* translate(s, from, to): XPath 1.0, on characters. A character of @from
 * maps to the character at the same place in @to, or is dropped when @to
 * is shorter; when it occurs twice in @from, the first place counts. */
static HearthXValue *
fn_translate (Call *c)
{
  g_autofree char *s = arg_string (c, 0);
  g_autofree char *from = arg_string (c, 1);
  g_autofree char *to = arg_string (c, 2);
  g_autoptr(GHashTable) map = g_hash_table_new (NULL, NULL);
  g_autofree gunichar *from_chars = NULL;
  g_autofree gunichar *to_chars = NULL;
  glong from_len = 0, to_len = 0;
  g_autoptr(GString) out = g_string_sized_new (strlen (s));

  from_chars = g_utf8_to_ucs4_fast (from, -1, &from_len);
  to_chars = g_utf8_to_ucs4_fast (to, -1, &to_len);
  for (glong i = 0; i < from_len; i++)
    if (!g_hash_table_contains (map, GUINT_TO_POINTER (from_chars[i])))
      g_hash_table_insert (map, GUINT_TO_POINTER (from_chars[i]), GSIZE_TO_POINTER ((gsize) i + 1));
  for (const char *p = s; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar ch = g_utf8_get_char (p);
      gsize place = GPOINTER_TO_SIZE (g_hash_table_lookup (map, GUINT_TO_POINTER (ch)));

      if (place == 0)
        g_string_append_unichar (out, ch);
      else if (place <= (gsize) to_len)
        g_string_append_unichar (out, to_chars[place - 1]);
    }
  /* A step a character: each is looked up and written. */
  if (!charge (c->ev, (guint64) g_utf8_strlen (s, -1) + from_len + to_len))
    return NULL;
  return string_result (c, g_string_free (g_steal_pointer (&out), FALSE));
}

static HearthXValue *
fn_coalesce (Call *c)
{
  g_autofree char *a = arg_string (c, 0);
  return string_result (c, a[0] != '\0' ? g_steal_pointer (&a) : arg_string (c, 1));
}

static HearthXValue *
fn_once (Call *c)
{
  /* The context node keeps its value once it has one. */
  g_autofree char *current = text_of (c->ev, c->node);
  if (current[0] != '\0')
    return string_result (c, g_steal_pointer (&current));
  return string_result (c, arg_string (c, 0));
}

/* uuid(): a version 4 UUID; uuid(n): n random hexadecimal digits. */
static HearthXValue *
fn_uuid (Call *c)
{
  double len;
  GString *s;

  if (c->n == 0)
    return value_string_take (g_uuid_string_random ());
  len = arg_number (c, 0);
  if (isnan (len) || len < 0 || len > 4096)
    return eval_error (c->ev, _("uuid() takes a length from 0 to 4096 (column %u)"), c->e->column);
  if (!charge (c->ev, (guint64) len))
    return NULL;
  s = g_string_sized_new ((gsize) len);
  for (int i = 0; i < (int) len; i++)
    g_string_append_c (s, "0123456789abcdef"[g_random_int_range (0, 16)]);
  return string_result (c, g_string_free (s, FALSE));
}

/* digest(data, algorithm[, encoding]): XForms 1.1, on the UTF-8 bytes of
 * @data; base64 unless the encoding says "hex" (lower case). */
static HearthXValue *
fn_digest (Call *c)
{
  static const struct { const char *name; GChecksumType type; } algorithms[] = {
    { "MD5", G_CHECKSUM_MD5 }, { "SHA-1", G_CHECKSUM_SHA1 }, { "SHA-256", G_CHECKSUM_SHA256 },
    { "SHA-384", G_CHECKSUM_SHA384 }, { "SHA-512", G_CHECKSUM_SHA512 },
  };
  g_autofree char *data = arg_string (c, 0);
  g_autofree char *algorithm = arg_string (c, 1);
  g_autofree char *encoding = c->n > 2 ? arg_string (c, 2) : g_strdup ("base64");
  g_autoptr(GChecksum) checksum = NULL;
  gboolean hex;
  int found = -1;

  for (gsize i = 0; i < G_N_ELEMENTS (algorithms); i++)
    if (g_ascii_strcasecmp (algorithm, algorithms[i].name) == 0)
      found = (int) i;
  if (found < 0)
    {
      g_autofree char *shown = shorten (algorithm);
      return eval_error (c->ev, _("digest(): unknown algorithm \"%s\"; use MD5, SHA-1, SHA-256, "
                                  "SHA-384 or SHA-512 (column %u)"), shown, c->e->column);
    }
  if (g_ascii_strcasecmp (encoding, "hex") == 0)
    hex = TRUE;
  else if (g_ascii_strcasecmp (encoding, "base64") == 0)
    hex = FALSE;
  else
    {
      g_autofree char *shown = shorten (encoding);
      return eval_error (c->ev, _("digest(): unknown encoding \"%s\"; use base64 or hex (column %u)"),
                         shown, c->e->column);
    }
  if (!charge_bytes (c->ev, strlen (data)))
    return NULL;
  checksum = g_checksum_new (algorithms[found].type);
  g_checksum_update (checksum, (const guchar *) data, strlen (data));
  if (hex)
    return value_string_take (g_strdup (g_checksum_get_string (checksum)));
  {
    guint8 digest[64];
    gsize digest_len = sizeof digest;

    g_checksum_get_digest (checksum, digest, &digest_len);
    return value_string_take (g_base64_encode (digest, digest_len));
  }
}

/* base64-decode(s): the UTF-8 text that @s encodes (ASCII whitespace
 * ignored, padding optional); bytes that are not UTF-8, and NUL, become
 * U+FFFD. Not base64 at all: the empty string, as for a blank answer. */
static HearthXValue *
fn_base64_decode (Call *c)
{
  g_autofree char *s = arg_string (c, 0);
  g_autoptr(GString) clean = g_string_sized_new (strlen (s) + 3);
  g_autofree guchar *bytes = NULL;
  gsize len = 0, padding = 0;

  for (const char *p = s; *p != '\0'; p++)
    {
      if (g_ascii_isspace (*p))
        continue;
      if (*p == '=')
        padding++;
      else if (padding > 0 || !(g_ascii_isalnum (*p) || *p == '+' || *p == '/'))
        return value_string_take (g_strdup (""));
      g_string_append_c (clean, *p);
    }
  if (padding > 2 || clean->len % 4 == 1 || (padding > 0 && clean->len % 4 != 0))
    return value_string_take (g_strdup (""));
  while (clean->len % 4 != 0)
    g_string_append_c (clean, '=');
  if (clean->len == 0)
    return value_string_take (g_strdup (""));
  bytes = g_base64_decode (clean->str, &len);
  return string_result (c, g_utf8_make_valid ((const char *) bytes, len));
}

/* ---- functions: numbers ---------------------------------------------------- */

static HearthXValue *
fn_round (Call *c)
{
  double digits = c->n > 1 ? arg_number (c, 1) : 0;

  if (isnan (digits))
    return value_number (NAN);
  digits = CLAMP (digits, -400, 400);
  return value_number (hearth_xpath_round (arg_number (c, 0), (int) digits));
}

static double
exp10_of (double x)
{
  return pow (10, x);
}

/* The functions of one number; XPath 3.0's math functions: NaN outside
 * their domain (log(-1), sqrt(-1), asin(2)). */
static const struct {
  const char *name;
  double (*f) (double);
} math_functions[] = {
  { "floor", floor }, { "ceiling", ceil }, { "int", trunc }, { "abs", fabs },
  { "exp", exp }, { "exp10", exp10_of }, { "log", log }, { "log10", log10 }, { "sqrt", sqrt },
  { "sin", sin }, { "cos", cos }, { "tan", tan }, { "asin", asin }, { "acos", acos }, { "atan", atan },
};

static HearthXValue *
fn_math (Call *c)
{
  double x = arg_number (c, 0);

  for (gsize i = 0; i < G_N_ELEMENTS (math_functions); i++)
    if (g_str_equal (math_functions[i].name, c->e->text))
      return value_number (math_functions[i].f (x));
  return eval_error (c->ev, _("unknown function %s() (column %u)"), c->e->text, c->e->column);
}

static HearthXValue *
fn_pow (Call *c)
{
  return value_number (pow (arg_number (c, 0), arg_number (c, 1)));
}

/* atan2(y, x): the angle of the point (x, y), in radians. */
static HearthXValue *
fn_atan2 (Call *c)
{
  return value_number (atan2 (arg_number (c, 0), arg_number (c, 1)));
}

static HearthXValue *
fn_pi (Call *c)
{
  return value_number (G_PI);
}

/* random(): from 0 (included) to 1 (excluded). */
static HearthXValue *
fn_random (Call *c)
{
  return value_number (g_random_double ());
}

/* randomize(nodes[, seed]): the nodes in a random order (ODK: for
 * shuffling choices). With a seed, the order JavaRosa, Enketo and ODK Web
 * Forms give: the Park-Miller generator (multiplier 16807, modulus 2^31 - 1)
 * driving an out-of-place Fisher-Yates shuffle, so a seeded order is the
 * same in every ODK tool. The result keeps that order. */
static HearthXValue *
fn_randomize (Call *c)
{
  HearthXValue *v = arg_value (c, 0);
  g_autofree gpointer *in = NULL;
  GPtrArray *nodes;
  gint64 state = 0;
  gboolean seeded = c->n > 1;
  guint n;

  if (v->type != HEARTH_XVALUE_NODESET)
    return eval_error (c->ev, _("randomize() needs a node-set (column %u)"), c->e->column);
  if (seeded)
    {
      double seed = arg_number (c, 1);
      if (isnan (seed) || isinf (seed) || fabs (seed) > 9.2e18)
        return eval_error (c->ev, _("randomize(): the seed is not a number (column %u)"), c->e->column);
      state = (gint64) seed % 2147483647;
      if (state <= 0)
        state += 2147483646;
    }
  n = v->nodes->len;
  if (!charge (c->ev, n))
    return NULL;
  in = g_memdup2 (v->nodes->pdata, sizeof (gpointer) * MAX (n, 1));
  nodes = g_ptr_array_sized_new (n);
  g_ptr_array_set_size (nodes, n);
  for (guint i = 0; i < n; i++)
    {
      double r;
      guint j;

      if (seeded)
        {
          state = state * 16807 % 2147483647;
          r = (double) (state - 1) / 2147483646.0;
        }
      else
        r = g_random_double ();
      j = (guint) (r * (i + 1));
      j = MIN (j, i);
      if (j != i)
        nodes->pdata[i] = nodes->pdata[j];
      nodes->pdata[j] = in[i];
    }
  return value_nodes (nodes);
}

/* ---- functions: selects ------------------------------------------------------ */

static HearthXValue *
fn_selected (Call *c)
{
  g_autofree char *value = arg_string (c, 0);
  g_auto(GStrv) names = choices (c->ev, value);
  const char *name = c->e->text;

  if (g_str_equal (name, "count-selected"))
    return value_number (g_strv_length (names));
  if (g_str_equal (name, "selected"))
    {
      /* "Checks if value is equal to an item in a space-separated list":
       * 'a b' is no item. Surrounding spaces are ignored. */
      g_autofree char *wanted = g_strstrip (arg_string (c, 1));
      return value_boolean (wanted[0] != '\0' && g_strv_contains ((const char * const *) names, wanted));
    }
  {
    double at = arg_number (c, 1);
    if (isnan (at) || at < 0 || at >= g_strv_length (names))
      return value_string_take (g_strdup (""));
    return string_result (c, g_strdup (names[(guint) at]));
  }
}

/* jr:choice-name(value, 'path'): the label of a choice of the control
 * bound to the node the path names (ODK XForms, "Select functions"). */
static HearthXValue *
fn_choice_name (Call *c)
{
  Eval *ev = c->ev;
  g_autofree char *value = arg_string (c, 0);
  g_autofree char *path = arg_string (c, 1);
  g_autoptr(HearthXPathExpr) pe = NULL;
  g_autoptr(HearthXValue) target = NULL;
  g_autoptr(GError) local = NULL;
  char *label = NULL;

  if (value[0] == '\0' || ev->ctx->choice_name == NULL)
    return value_string_take (g_strdup (""));
  /* The path is text, maybe an answer: it must not lead to itself. */
  if (ev->dynamic >= MAX_DYNAMIC_DEPTH)
    return eval_error (ev, _("jr:choice-name(): a path given as text may not call jr:choice-name() "
                             "(column %u)"), c->e->column);
  if (!charge_bytes (ev, strlen (path)))
    return NULL;
  pe = hearth_xpath_parse (path, &local);
  if (pe == NULL)
    {
      g_autofree char *shown = shorten (path);
      /* The parser's message quotes the text, and may cut it inside a
       * character (xpath-expr.c, expected()): keep the message UTF-8. */
      g_autofree char *why = g_utf8_make_valid (local->message, -1);
      return eval_error (ev, _("jr:choice-name(): \"%s\" is not a path: %s (column %u)"), shown,
                         why, c->e->column);
    }
  ev->dynamic++;
  target = eval (ev, pe, c->node, c->pos, c->size);
  ev->dynamic--;
  if (target == NULL)
    return NULL;
  if (target->type == HEARTH_XVALUE_NODESET && target->nodes->len > 0)
    label = ev->ctx->choice_name (ev->ctx->host, value, target->nodes->pdata[0]);
  return string_result (c, label != NULL ? valid_utf8_take (label) : g_strdup (""));
}

static HearthXValue *
fn_itext (Call *c)
{
  g_autofree char *id = arg_string (c, 0);
  char *text = c->ev->ctx->itext != NULL ? c->ev->ctx->itext (c->ev->ctx->host, id) : NULL;
  return string_result (c, text != NULL ? valid_utf8_take (text) : g_strdup (""));
}

/* ---- functions: regular expressions ------------------------------------------- */

/* regex() runs PCRE2 through GRegex, which cannot be interrupted nor asked
 * how much it did. So each match runs under limits written into the
 * pattern ("start of pattern" options, which can only lower PCRE2's own):
 * backtracking steps, nesting depth and memory; the depth allowed shrinks
 * as the value grows, for the time a match takes grows with both. The time
 * it did take is charged to the budget. Without JIT (no G_REGEX_OPTIMIZE),
 * for which the limits work differently. */
#define REGEX_MATCH_LIMIT 100000
#define REGEX_HEAP_LIMIT_KIB 16384
#define REGEX_DEPTH_WORK 262144   /* value bytes × depth */
#define REGEX_DEPTH_MIN 32
#define REGEX_DEPTH_MAX 65536
#define REGEX_NS_PER_STEP 20
#define REGEX_CACHE_MAX 64

static GRegex *
regex_get (Eval *ev, const char *pattern, guint depth, GError **error)
{
  g_autofree char *key = g_strdup_printf ("%u:%s", depth, pattern);
  GRegex *re;

  if (ev->regexes == NULL)
    ev->regexes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_regex_unref);
  re = g_hash_table_lookup (ev->regexes, key);
  if (re != NULL)
    return re;
  /* Compiling costs about as much as reading the pattern a few times. */
  if (!charge (ev, 16 + strlen (pattern)))
    return NULL;
  if (depth == 0)
    re = g_regex_new (pattern, 0, 0, error);  /* UTF-8: characters */
  else
    {
      g_autofree char *limited = g_strdup_printf ("(*LIMIT_MATCH=%u)(*LIMIT_DEPTH=%u)(*LIMIT_HEAP=%u)%s",
                                                  (guint) REGEX_MATCH_LIMIT, depth,
                                                  (guint) REGEX_HEAP_LIMIT_KIB, pattern);
      re = g_regex_new (limited, 0, 0, error);
    }
  if (re == NULL)
    return NULL;
  if (g_hash_table_size (ev->regexes) >= REGEX_CACHE_MAX)
    g_hash_table_remove_all (ev->regexes);
  g_hash_table_insert (ev->regexes, g_steal_pointer (&key), re);
  return re;
}

/* ODK patterns follow Java's syntax, where \uXXXX names a character
 * ([\u4e00-\u9fa5] in Chinese name checks); PCRE writes it \x{XXXX}. */
static char *
java_escapes (const char *pattern)
{
  GString *out = g_string_new (NULL);

  for (const char *p = pattern; *p != '\0'; p++)
    {
      if (*p == '\\' && p[1] == 'u' && g_ascii_isxdigit (p[2]) && g_ascii_isxdigit (p[3]) &&
          g_ascii_isxdigit (p[4]) && g_ascii_isxdigit (p[5]))
        {
          g_string_append (out, "\\x{");
          g_string_append_len (out, p + 2, 4);
          g_string_append_c (out, '}');
          p += 5;
        }
      else if (*p == '\\' && p[1] != '\0')
        {
          g_string_append_len (out, p, 2);  /* an escaped backslash stays one */
          p++;
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

static HearthXValue *
fn_regex (Call *c)
{
  Eval *ev = c->ev;
  g_autofree char *s = arg_string (c, 0);
  g_autofree char *pattern = arg_string (c, 1);
  g_autoptr(GError) local = NULL;
  gsize len = strlen (s);
  guint depth = REGEX_DEPTH_MIN;
  GRegex *re;
  gboolean matched;
  gint64 started, elapsed;

  if (g_utf8_strlen (pattern, -1) > HEARTH_XPATH_MAX_REGEX_PATTERN)
    return costly_error (ev, _("regex() is too costly: the pattern is longer than %u characters (column %u)"),
                         (guint) HEARTH_XPATH_MAX_REGEX_PATTERN, c->e->column);
  if (g_utf8_strlen (s, -1) > HEARTH_XPATH_MAX_REGEX_SUBJECT)
    return costly_error (ev, _("regex() is too costly: the value is longer than %u characters (column %u)"),
                         (guint) HEARTH_XPATH_MAX_REGEX_SUBJECT, c->e->column);
  /* PCRE2's own options, which would lift the limits: no pattern of the
   * Java syntax ODK uses starts so. */
  if (g_str_has_prefix (pattern, "(*"))
    {
      g_autofree char *shown = shorten (pattern);
      return eval_error (ev, _("regex(): the pattern \"%s\" is invalid: it starts with \"(*\" (column %u)"),
                         shown, c->e->column);
    }
  {
    char *pcre = java_escapes (pattern);
    g_free (pattern);
    pattern = pcre;
  }
  re = regex_get (ev, pattern, 0, &local);
  if (re == NULL && local != NULL)
    {
      g_autofree char *shown = shorten (pattern);
      return eval_error (ev, _("regex(): the pattern \"%s\" is invalid: %s (column %u)"),
                         shown, local->message, c->e->column);
    }
  while (depth < REGEX_DEPTH_MAX && (gsize) depth * 2 * MAX (len, 1) <= REGEX_DEPTH_WORK)
    depth *= 2;
  re = re != NULL ? regex_get (ev, pattern, depth, &local) : NULL;
  if (re == NULL)
    {
      if (local != NULL)  /* the limits made it too large: not the pattern's fault alone */
        return costly_error (ev, _("regex() is too costly: %s (column %u)"), local->message, c->e->column);
      return NULL;
    }
  started = g_get_monotonic_time ();
  matched = g_regex_match_full (re, s, -1, 0, 0, NULL, &local);
  elapsed = g_get_monotonic_time () - started;
  if (!charge (ev, 1 + len / BYTES_PER_STEP + (guint64) MAX (elapsed, 0) * 1000 / REGEX_NS_PER_STEP))
    return NULL;
  if (local != NULL)
    {
      g_autofree char *shown = shorten (pattern);
      return costly_error (ev, _("regex() is too costly: matching \"%s\" takes too many steps (column %u)"),
                           shown, c->e->column);
    }
  return value_boolean (matched);
}

/* ---- functions: dates and times ----------------------------------------------- */

static char *
local_today (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  return g_date_time_format (now, "%Y-%m-%d");
}

static HearthXValue *
fn_today (Call *c)
{
  return value_string_take (c->ev->ctx->today != NULL ? g_strdup (c->ev->ctx->today) : local_today ());
}

static HearthXValue *
fn_now (Call *c)
{
  if (c->ev->ctx->now != NULL)
    return value_string_take (g_strdup (c->ev->ctx->now));
  {
    g_autoptr(GDateTime) now = g_date_time_new_now_local ();
    return value_string_take (g_date_time_format_iso8601 (now));
  }
}

/* Days from 1970-01-01 of 0001-01-01 and of 9999-12-31. */
#define FIRST_DAY (-719162.0)
#define LAST_DAY 2932896.0

static HearthXValue *
fn_date (Call *c)
{
  HearthXValue *v = arg_value (c, 0);
  gint64 days;
  double x;

  if (v->type == HEARTH_XVALUE_STRING || v->type == HEARTH_XVALUE_NODESET)
    {
      g_autofree char *s = arg_string (c, 0);
      if (s[0] == '\0')
        return value_string_take (g_strdup (""));
      if (hearth_xpath_parse_date (s, &days))
        return value_string_take (hearth_xpath_days_to_date (days));
      x = hearth_xpath_string_to_number (s);
    }
  else
    x = hearth_xvalue_to_number (v);
  if (isnan (x) || floor (x) < FIRST_DAY || floor (x) > LAST_DAY)
    return value_string_take (g_strdup (""));
  {
    char *d = hearth_xpath_days_to_date ((gint64) floor (x));
    return value_string_take (d != NULL ? d : g_strdup (""));
  }
}

/* date-time(v): a number of days (decimal) since 1970-01-01 UTC, as a
 * dateTime in UTC; a dateTime string as it is; a date at midnight UTC. */
static HearthXValue *
fn_date_time (Call *c)
{
  HearthXValue *v = arg_value (c, 0);
  double days, millis, seconds;

  if (v->type == HEARTH_XVALUE_STRING || v->type == HEARTH_XVALUE_NODESET)
    {
      g_autofree char *s = arg_string (c, 0);
      g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601 (s, NULL);
      gint64 d;
      if (dt != NULL)
        return string_result (c, g_steal_pointer (&s));
      if (hearth_xpath_parse_date (s, &d) && s[10] == '\0')
        return value_string_take (g_strdup_printf ("%sT00:00:00.000Z", s));
      days = hearth_xpath_string_to_number (s);
    }
  else
    days = hearth_xvalue_to_number (v);
  /* To the nearest millisecond, then whole seconds and the rest. */
  millis = floor (days * 86400000.0 + 0.5);
  seconds = floor (millis / 1000.0);
  /* GDateTime's years, 0001 to 9999. */
  if (isnan (seconds) || seconds < FIRST_DAY * 86400.0 || seconds >= (LAST_DAY + 1) * 86400.0)
    return value_string_take (g_strdup (""));
  {
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc ((gint64) seconds);
    g_autofree char *base = NULL;

    if (dt == NULL)
      return value_string_take (g_strdup (""));
    base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
    return value_string_take (g_strdup_printf ("%s.%03dZ", base, (int) (millis - seconds * 1000.0)));
  }
}

/* Two ASCII digits at @p as a number, or -1. */
static int
two_digits (const char *p)
{
  if (!g_ascii_isdigit (p[0]) || !g_ascii_isdigit (p[1]))
    return -1;
  return (p[0] - '0') * 10 + (p[1] - '0');
}

/* The clock time of "HH:MM[:SS[.fff…]]" at @p, each part that is there
 * read; milliseconds from the first three decimals. */
static void
read_clock (const char *p, int *hh, int *mi, int *ss, int *ms)
{
  *hh = *mi = *ss = *ms = 0;
  if (two_digits (p) < 0 || p[2] != ':' || two_digits (p + 3) < 0)
    return;
  *hh = two_digits (p);
  *mi = two_digits (p + 3);
  if (p[5] != ':' || two_digits (p + 6) < 0)
    return;
  *ss = two_digits (p + 6);
  if (p[8] != '.')
    return;
  for (int i = 0, scale = 100; i < 3 && g_ascii_isdigit (p[9 + i]); i++, scale /= 10)
    *ms += (p[9 + i] - '0') * scale;
}

/* format-date(v, f), format-date-time(v, f): the ODK format codes (%Y %y
 * %m %n %b %d %e %a %H %h %M %S %3) on the calendar date and clock time as
 * written: no time zone moves them. */
static HearthXValue *
fn_format_date (Call *c)
{
  g_autofree char *value = arg_string (c, 0);
  g_autofree char *format = arg_string (c, 1);
  static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  static const char *const weekdays[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  g_autoptr(GString) out = NULL;
  gint64 days;
  int y, mo, d, hh = 0, mi = 0, ss = 0, ms = 0, wd;
  GDate date;

  if (arg_value (c, 0)->type == HEARTH_XVALUE_NUMBER)
    {
      /* A number of days since 1970-01-01 (date arithmetic): the spec casts
       * arguments to the type a function needs. */
      double x = arg_number (c, 0);
      g_autofree char *as_date = NULL;

      if (isnan (x) || isinf (x) || (as_date = hearth_xpath_days_to_date ((gint64) floor (x))) == NULL)
        return value_string_take (g_strdup (""));
      g_free (value);
      value = g_steal_pointer (&as_date);
    }
  if (!hearth_xpath_parse_date (value, &days))
    return value_string_take (g_strdup (""));
  if (value[10] == 'T')
    read_clock (value + 11, &hh, &mi, &ss, &ms);
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
      /* A code written out costs about what a node visited does. */
      if (!charge (c->ev, FORMAT_CODE_STEPS))
        return NULL;
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
      if (!string_fits (c, out))
        return NULL;
    }
  return string_result (c, g_string_free (g_steal_pointer (&out), FALSE));
}

static HearthXValue *
fn_decimal_date_time (Call *c)
{
  g_autofree char *s = arg_string (c, 0);
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

/* decimal-time(t): a time "HH:MM[:SS[.s…]]" with an optional offset ("Z",
 * "+08:00") as the fraction of a day its clock time is: noon 0.5, 18:00
 * 0.75. The clock time is taken as written, in the offset it was written
 * with (for an answer recorded on the device, the device's), as dates are:
 * no time zone moves it. Anything else is NaN. */
static HearthXValue *
fn_decimal_time (Call *c)
{
  g_autofree char *s = arg_string (c, 0);
  const char *p = g_strstrip (s);
  int hh, mi, ss = 0;
  double fraction = 0, scale = 0.1;

  hh = two_digits (p);
  if (hh < 0 || hh > 23 || p[2] != ':')
    return value_number (NAN);
  mi = two_digits (p + 3);
  if (mi < 0 || mi > 59)
    return value_number (NAN);
  p += 5;
  if (*p == ':')
    {
      ss = two_digits (p + 1);
      if (ss < 0 || ss > 59)
        return value_number (NAN);
      p += 3;
      if (*p == '.')
        {
          if (!g_ascii_isdigit (p[1]))
            return value_number (NAN);
          for (p++; g_ascii_isdigit (*p); p++, scale /= 10)
            fraction += (*p - '0') * scale;
        }
    }
  if (*p == 'Z')
    p++;
  else if (*p == '+' || *p == '-')
    {
      int oh = two_digits (p + 1), om;
      if (oh < 0 || oh > 23)
        return value_number (NAN);
      p += 3;
      if (*p == ':')
        p++;
      if (*p != '\0')
        {
          om = two_digits (p);
          if (om < 0 || om > 59)
            return value_number (NAN);
          p += 2;
        }
    }
  if (*p != '\0')
    return value_number (NAN);
  return value_number ((hh * 3600 + mi * 60 + ss + fraction) / 86400.0);
}

/* ---- functions: geography ---------------------------------------------------- */

/* As JavaRosa (org.javarosa.core.util.GeoUtils), so that Hearth and ODK
 * Collect agree: a sphere of the Earth's equatorial radius, 6,378,100 m
 * (WGS84's is 6,378,137 m). area() projects the points onto a plane
 * through the first of them (latitude to y along a meridian, longitude to
 * x scaled by the cosine of the point's latitude) and sums the triangles
 * from it (the shoelace formula), which suits fields and villages, not
 * continents. distance() is the great-circle distance between successive
 * points, with the haversine formula (JavaRosa's law of cosines on the
 * same sphere, but exact to the millimetre for points a metre apart). */
#define EARTH_RADIUS_M 6378100.0

typedef struct {
  double lat, lon;
} GeoPoint;

static gboolean
read_coordinate (const char *text, double *out)
{
  char *end = NULL;

  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p) && *p != '-' && *p != '+' && *p != '.' && *p != 'e' && *p != 'E')
      return FALSE;
  *out = g_ascii_strtod (text, &end);
  return end != text && *end == '\0' && isfinite (*out);
}

/* Appends the points of @text: geopoints "lat lon [altitude [accuracy]]"
 * separated by ";" (a geotrace or a geoshape). Returns: FALSE when one is
 * malformed or off the globe. */
static gboolean
read_points (const char *text, GArray *points)
{
  g_auto(GStrv) parts = g_strsplit (text, ";", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit_set (parts[i], " \t\r\n", -1);
      double values[4];
      guint count = 0;
      GeoPoint point;

      for (guint k = 0; fields[k] != NULL; k++)
        {
          if (fields[k][0] == '\0')
            continue;
          if (count == 4 || !read_coordinate (fields[k], &values[count]))
            return FALSE;
          count++;
        }
      if (count == 0)
        continue;  /* a blank, or the space after a trailing ";" */
      if (count < 2 || fabs (values[0]) > 90 || fabs (values[1]) > 180)
        return FALSE;
      point.lat = values[0];
      point.lon = values[1];
      g_array_append_val (points, point);
    }
  return TRUE;
}

static double
radians (double degrees)
{
  return degrees * G_PI / 180.0;
}

static double
geo_area (const GeoPoint *p, guint n)
{
  const double circumference = 2 * G_PI * EARTH_RADIUS_M;
  double sum = 0, px = 0, py = 0;

  if (n < 3)
    return 0;
  for (guint i = 1; i < n; i++)
    {
      double y = (p[i].lat - p[0].lat) * circumference / 360.0;
      double x = (p[i].lon - p[0].lon) * circumference * cos (radians (p[i].lat)) / 360.0;
      if (i > 1)
        sum += (py * x - px * y) / 2;
      px = x;
      py = y;
    }
  return fabs (sum);
}

static double
geo_distance (const GeoPoint *p, guint n)
{
  double total = 0;

  for (guint i = 1; i < n; i++)
    {
      double dlat = radians (p[i].lat - p[i - 1].lat), dlon = radians (p[i].lon - p[i - 1].lon);
      double a = sin (dlat / 2) * sin (dlat / 2) +
                 cos (radians (p[i - 1].lat)) * cos (radians (p[i].lat)) * sin (dlon / 2) * sin (dlon / 2);
      total += 2 * EARTH_RADIUS_M * atan2 (sqrt (a), sqrt (MAX (0, 1 - a)));
    }
  return total;
}

/* area(shape | nodes), distance(trace | shape | nodes | point…): in m² and
 * m. The points are those of every value given (each node of a node-set
 * is one value). No point at all (a blank answer) is NaN, as a blank is
 * not zero; fewer than three points have no area, one point no length. */
static HearthXValue *
fn_geo (Call *c)
{
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (GeoPoint));
  gboolean area = g_str_equal (c->e->text, "area");

  for (guint i = 0; i < c->n; i++)
    {
      HearthXValue *v = arg_value (c, i);
      guint count = v->type == HEARTH_XVALUE_NODESET ? v->nodes->len : 1;

      for (guint k = 0; k < count; k++)
        {
          g_autofree char *s = v->type == HEARTH_XVALUE_NODESET ? text_of (c->ev, v->nodes->pdata[k])
                                                                : arg_string (c, i);
          if (c->ev->over)
            return NULL;
          if (!read_points (s, points))
            {
              g_autofree char *shown = shorten (s);
              return eval_error (c->ev, _("%s(): \"%s\" is not a list of geopoints (column %u)"),
                                 c->e->text, shown, c->e->column);
            }
        }
    }
  if (!charge (c->ev, points->len))
    return NULL;
  if (points->len == 0)
    return value_number (NAN);
  if (area)
    return value_number (geo_area ((GeoPoint *) (void *) points->data, points->len));
  return value_number (geo_distance ((GeoPoint *) (void *) points->data, points->len));
}

/* ---- functions: the table --------------------------------------------------- */

typedef HearthXValue *(*FunctionImpl) (Call *c);

typedef struct {
  const char *name;
  int min_args, max_args;  /* max -1: any number */
  FunctionImpl impl;
  gboolean lazy;           /* evaluates its arguments itself */
} FunctionSpec;

static const FunctionSpec functions[] = {
  { "true", 0, 0, fn_true }, { "false", 0, 0, fn_false }, { "not", 1, 1, fn_not },
  { "boolean", 1, 1, fn_boolean }, { "boolean-from-string", 1, 1, fn_boolean_from_string },
  { "if", 3, 3, fn_if, TRUE }, { "checklist", 2, -1, fn_checklist },
  { "weighted-checklist", 2, -1, fn_weighted_checklist },
  { "number", 0, 1, fn_number }, { "string", 0, 1, fn_string }, { "concat", 0, -1, fn_concat_join },
  { "join", 1, -1, fn_concat_join }, { "string-length", 0, 1, fn_string_length },
  { "normalize-space", 0, 1, fn_normalize_space },
  { "contains", 2, 2, fn_contains }, { "starts-with", 2, 2, fn_contains }, { "ends-with", 2, 2, fn_contains },
  { "substr", 2, 3, fn_substring }, { "substring", 2, 3, fn_substring },
  { "substring-before", 2, 2, fn_substring_before_after }, { "substring-after", 2, 2, fn_substring_before_after },
  { "translate", 3, 3, fn_translate }, { "coalesce", 2, 2, fn_coalesce }, { "once", 1, 1, fn_once },
  { "uuid", 0, 1, fn_uuid }, { "digest", 2, 3, fn_digest }, { "base64-decode", 1, 1, fn_base64_decode },
  { "count", 1, 1, fn_count }, { "sum", 1, 1, fn_sum }, { "count-non-empty", 1, 1, fn_count_non_empty },
  { "min", 1, -1, fn_min_max }, { "max", 1, -1, fn_min_max },
  { "position", 0, 1, fn_position }, { "last", 0, 0, fn_last }, { "current", 0, 0, fn_current },
  { "instance", 1, 1, fn_instance }, { "indexed-repeat", 3, 7, fn_indexed_repeat, TRUE },
  { "round", 1, 2, fn_round }, { "floor", 1, 1, fn_math }, { "ceiling", 1, 1, fn_math },
  { "int", 1, 1, fn_math }, { "abs", 1, 1, fn_math }, { "exp", 1, 1, fn_math }, { "exp10", 1, 1, fn_math },
  { "log", 1, 1, fn_math }, { "log10", 1, 1, fn_math }, { "sqrt", 1, 1, fn_math },
  { "sin", 1, 1, fn_math }, { "cos", 1, 1, fn_math }, { "tan", 1, 1, fn_math },
  { "asin", 1, 1, fn_math }, { "acos", 1, 1, fn_math }, { "atan", 1, 1, fn_math },
  { "atan2", 2, 2, fn_atan2 }, { "pow", 2, 2, fn_pow }, { "pi", 0, 0, fn_pi }, { "random", 0, 0, fn_random },
  { "randomize", 1, 2, fn_randomize },
  { "selected", 2, 2, fn_selected }, { "count-selected", 1, 1, fn_selected },
  { "selected-at", 2, 2, fn_selected },
  { "jr:choice-name", 2, 2, fn_choice_name }, { "jr:itext", 1, 1, fn_itext },
  { "regex", 2, 2, fn_regex },
  { "today", 0, 0, fn_today }, { "now", 0, 0, fn_now }, { "date", 1, 1, fn_date },
  { "date-time", 1, 1, fn_date_time }, { "format-date", 2, 2, fn_format_date },
  { "format-date-time", 2, 2, fn_format_date }, { "decimal-date-time", 1, 1, fn_decimal_date_time },
  { "decimal-time", 1, 1, fn_decimal_time },
  { "area", 1, 1, fn_geo }, { "distance", 1, -1, fn_geo },
};

static const FunctionSpec *function_lookup (const char *name);

gboolean
hearth_xpath_function_known (const char *name)
{
  return function_lookup (name) != NULL;
}

static const FunctionSpec *
function_lookup (const char *name)
{
  static gsize initialised = 0;
  static GHashTable *table;

  if (g_once_init_enter (&initialised))
    {
      GHashTable *t = g_hash_table_new (g_str_hash, g_str_equal);
      for (gsize i = 0; i < G_N_ELEMENTS (functions); i++)
        g_hash_table_insert (t, (gpointer) functions[i].name, (gpointer) &functions[i]);
      table = t;
      g_once_init_leave (&initialised, 1);
    }
  return g_hash_table_lookup (table, name);
}

static HearthXValue *
eval_function (Eval *ev, const HearthXPathExpr *e, xmlNode *node, guint pos, guint size)
{
  const FunctionSpec *spec = function_lookup (e->text);
  g_autoptr(GPtrArray) vals = NULL;
  Call call = { ev, e, NULL, e->args->len, node, pos, size };

  if (spec == NULL)
    return eval_error (ev, _("unknown function %s() (column %u)"), e->text, e->column);
  if (!charge (ev, CALL_STEPS))
    return NULL;
  if (spec->max_args < 0 && (int) call.n < spec->min_args)
    return eval_error (ev, _("%s() takes at least %d arguments, not %u (column %u)"), e->text,
                       spec->min_args, call.n, e->column);
  if ((int) call.n < spec->min_args || (spec->max_args >= 0 && (int) call.n > spec->max_args))
    return eval_error (ev, _("%s() takes %d to %d arguments, not %u (column %u)"), e->text,
                       spec->min_args, spec->max_args, call.n, e->column);
  if (!spec->lazy && call.n > 0)
    {
      vals = g_ptr_array_new_full (call.n, (GDestroyNotify) hearth_xvalue_free);
      for (guint i = 0; i < call.n; i++)
        {
          HearthXValue *v = eval (ev, g_ptr_array_index (e->args, i), node, pos, size);
          if (v == NULL)
            return NULL;
          g_ptr_array_add (vals, v);
        }
      call.vals = vals;
    }
  return spec->impl (&call);
}

HearthXValue *
hearth_xpath_evaluate (const HearthXPathExpr *expr, const HearthXPathContext *ctx, GError **error)
{
  Eval ev = { .ctx = ctx, .error = error,
              .budget = ctx->budget > 0 ? ctx->budget : HEARTH_XPATH_DEFAULT_BUDGET };
  HearthXValue *v;

  g_return_val_if_fail (expr != NULL && ctx != NULL && ctx->node != NULL, NULL);
  v = eval (&ev, expr, ctx->node, ctx->position > 0 ? ctx->position : 1, ctx->size > 0 ? ctx->size : 1);
  g_clear_pointer (&ev.order, g_hash_table_unref);
  g_clear_pointer (&ev.numbered, g_hash_table_unref);
  g_clear_pointer (&ev.regexes, g_hash_table_unref);
  return v;
}

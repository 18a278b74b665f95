/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * form-session.c: filling one XForm (form-session.h).
 *
 * Binds are grouped by their generic path (the nodeset without repeat
 * indices, `/data/members/age`). Every expression of a bind is walked for
 * the generic paths it reads; those references give the dependency graph:
 * a change at a path recomputes the binds that read it, an ancestor of it
 * (a group's string value changes with its children) or, when repeat
 * instances come or go, anything below it. Calculations run in one
 * topological order fixed when the session starts.
 */
#define G_LOG_DOMAIN "hearth-forms"

#include "form-session.h"
#include "record-id.h"
#include "xpath-eval.h"
#include "xpath-value.h"

#include <glib/gi18n.h>
#include <libxml/parser.h>
#include <math.h>
#include <string.h>

G_DEFINE_QUARK (hearth-form-session-error-quark, hearth_form_session_error)

typedef struct {
  char *path;                  /* generic */
  const char *type;
  HearthXPathExpr *relevant, *required, *readonly, *constraint, *calculate;  /* borrowed */
  const char *constraint_msg, *required_msg, *preload, *preload_params;
  guint line;
  GPtrArray *refs;             /* (element-type utf8) what any expression reads */
  GPtrArray *calc_refs;        /* what the calculate reads */
  GPtrArray *members_refs;     /* node-sets whose membership any expression reads */
  guint order;                 /* position in the topological order */
  gboolean queued_all;         /* recompute every node */
  GPtrArray *scopes;           /* else: the repeat instances to recompute in */
} Binding;

struct _HearthFormSession {
  GObject parent_instance;

  HearthForm *form;
  xmlDoc *doc;
  GHashTable *instances;       /* id -> xmlDoc, borrowed from form or overrides */
  GHashTable *overrides;       /* id -> xmlDoc, owned */
  GHashTable *bindings;        /* generic path -> Binding */
  GPtrArray *binding_list;     /* (element-type Binding) in the order of the binds */
  GPtrArray *calc_order;       /* (element-type Binding) calculates, topological */
  GPtrArray *relevant_binds;   /* (element-type Binding) those with relevant */
  GHashTable *dependents;      /* generic path -> GPtrArray of Binding reading its value */
  GHashTable *members_dependents; /* generic path -> GPtrArray of Binding reading which nodes it has */
  GHashTable *controls;        /* generic path -> HearthFormControl (questions, groups, repeats) */
  GHashTable *repeats;         /* generic path -> HearthFormControl (repeats) */
  GPtrArray *counts;           /* (element-type CountRule) repeats with jr:count */
  GHashTable *exprs;           /* text -> HearthXPathExpr: parsed control refs */
  GHashTable *not_relevant;    /* xmlNode set: nodes whose own relevant is false */
  char *language;
  char *now;
  char *today;
  char *device_id;
  char *username;
  char *media_dir;
  char *instance_id;
  guint64 evaluations;
  guint n_instances;           /* repeat instances in the working instance */
  GError *eval_error;          /* the first evaluation error, reported once */
};

/* A repeat whose number of instances follows its jr:count. */
typedef struct {
  char *path;                  /* the repeat's generic path */
  const HearthFormControl *control;
  GPtrArray *refs;             /* what the count reads */
  gboolean queued;
} CountRule;

static void
count_rule_free (gpointer data)
{
  CountRule *r = data;

  g_free (r->path);
  g_ptr_array_unref (r->refs);
  g_free (r);
}

G_DEFINE_FINAL_TYPE (HearthFormSession, hearth_form_session, G_TYPE_OBJECT)

/* ---- small helpers ------------------------------------------------------ */

static char *
node_text (xmlNode *n)
{
  xmlChar *c = xmlNodeGetContent (n);
  char *s = g_strdup (c != NULL ? (const char *) c : "");
  xmlFree (c);
  return s;
}

/* Replaces the content of a leaf with raw text (no entity parsing). */
static void
set_text (xmlNode *n, const char *value)
{
  if (n->type == XML_ATTRIBUTE_NODE)
    {
      xmlAttr *a = (xmlAttr *) n;
      xmlSetNsProp (a->parent, a->ns, a->name, (const xmlChar *) (value != NULL ? value : ""));
      return;
    }
  while (n->children != NULL)
    {
      xmlNode *c = n->children;
      xmlUnlinkNode (c);
      xmlFreeNode (c);
    }
  if (value != NULL && value[0] != '\0')
    xmlNodeAddContent (n, (const xmlChar *) value);
}

static gboolean
has_element_children (xmlNode *n)
{
  for (xmlNode *c = n->children; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      return TRUE;
  return FALSE;
}

/* The generic path of a node: local names from the root, no indices. */
static char *
generic_path (xmlNode *n)
{
  GPtrArray *names = g_ptr_array_new ();
  GString *s = g_string_new (NULL);

  if (n->type == XML_ATTRIBUTE_NODE)
    {
      g_autofree char *parent = generic_path (n->parent);
      g_string_free (s, TRUE);
      g_ptr_array_unref (names);
      return g_strdup_printf ("%s/@%s", parent, (const char *) n->name);
    }
  for (xmlNode *a = n; a != NULL && a->type == XML_ELEMENT_NODE; a = a->parent)
    g_ptr_array_add (names, (gpointer) a->name);
  for (guint i = names->len; i > 0; i--)
    {
      g_string_append_c (s, '/');
      g_string_append (s, names->pdata[i - 1]);
    }
  g_ptr_array_unref (names);
  return g_string_free (s, FALSE);
}

/* The generic path of an expression that is a simple absolute path
 * (`/data/a/b`, prefixes dropped), or NULL. */
static char *
simple_path (const char *text)
{
  g_autoptr(HearthXPathExpr) e = hearth_xpath_parse (text, NULL);
  GString *s;

  if (e == NULL || e->kind != HEARTH_XPATH_PATH || e->filter != NULL || !e->absolute || e->steps->len == 0)
    return NULL;
  s = g_string_new (NULL);
  for (guint i = 0; i < e->steps->len; i++)
    {
      const HearthXPathStep *st = e->steps->pdata[i];
      const char *colon;

      gboolean attribute = st->axis == HEARTH_XPATH_AXIS_ATTRIBUTE && i + 1 == e->steps->len;

      if ((st->axis != HEARTH_XPATH_AXIS_CHILD && !attribute) || st->test != HEARTH_XPATH_TEST_NAME ||
          g_str_equal (st->name, "*") || (st->predicates != NULL && st->predicates->len > 0))
        {
          g_string_free (s, TRUE);
          return NULL;
        }
      colon = strchr (st->name, ':');
      g_string_append_c (s, '/');
      if (attribute)
        g_string_append_c (s, '@');
      g_string_append (s, colon != NULL ? colon + 1 : st->name);
    }
  return g_string_free (s, FALSE);
}

/* The path with repeat indices of a node, as the answers JSON names it. */
static char *
indexed_path (HearthFormSession *self, xmlNode *n)
{
  GPtrArray *parts = g_ptr_array_new_with_free_func (g_free);
  GString *s = g_string_new (NULL);

  if (n->type == XML_ATTRIBUTE_NODE)
    {
      g_autofree char *parent = indexed_path (self, n->parent);
      g_string_free (s, TRUE);
      g_ptr_array_unref (parts);
      return g_strdup_printf ("%s/@%s", parent, (const char *) n->name);
    }

  for (xmlNode *a = n; a != NULL && a->type == XML_ELEMENT_NODE; a = a->parent)
    {
      g_autofree char *gp = generic_path (a);

      if (g_hash_table_contains (self->repeats, gp))
        {
          guint index = 1;
          for (xmlNode *p = a->prev; p != NULL; p = p->prev)
            if (p->type == XML_ELEMENT_NODE && xmlStrEqual (p->name, a->name))
              index++;
          g_ptr_array_add (parts, g_strdup_printf ("%s[%u]", (const char *) a->name, index));
        }
      else
        g_ptr_array_add (parts, g_strdup ((const char *) a->name));
    }
  for (guint i = parts->len; i > 0; i--)
    {
      g_string_append_c (s, '/');
      g_string_append (s, parts->pdata[i - 1]);
    }
  g_ptr_array_unref (parts);
  return g_string_free (s, FALSE);
}

static const HearthXPathExpr *
cached_expr (HearthFormSession *self, const char *text)
{
  HearthXPathExpr *e = g_hash_table_lookup (self->exprs, text);

  if (e == NULL)
    {
      e = hearth_xpath_parse (text, NULL);
      if (e != NULL)
        g_hash_table_insert (self->exprs, g_strdup (text), e);
    }
  return e;
}

/* ---- evaluation ------------------------------------------------------------ */

static char *choice_label_hook (gpointer host, const char *value, xmlNode *node);
static char *itext_hook (gpointer host, const char *id);

static HearthXValue *
evaluate (HearthFormSession *self, const HearthXPathExpr *e, xmlNode *node, xmlNode *current,
          const char *what, GError **error)
{
  HearthXPathContext ctx = {
    .node = node, .current = current != NULL ? current : node,
    .instances = self->instances, .today = self->today, .now = self->now,
    .contextualise = TRUE, .choice_name = choice_label_hook, .itext = itext_hook, .host = self,
  };
  g_autoptr(GError) local = NULL;
  HearthXValue *v;

  self->evaluations++;
  v = hearth_xpath_evaluate (e, &ctx, &local);
  if (v == NULL)
    {
      g_autofree char *path = generic_path (node);
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_EVAL,
                   _("%s of %s: %s"), what, path, local->message);
    }
  return v;
}

/* Evaluates and remembers the first failure (a session keeps going: one bad
 * expression must not lose the answers already given). */
static HearthXValue *
evaluate_noted (HearthFormSession *self, const HearthXPathExpr *e, xmlNode *node, const char *what)
{
  GError *local = NULL;
  HearthXValue *v = evaluate (self, e, node, NULL, what, &local);

  if (v == NULL)
    {
      if (self->eval_error == NULL)
        self->eval_error = local;
      else
        g_error_free (local);
    }
  return v;
}

static gboolean
evaluate_boolean (HearthFormSession *self, const HearthXPathExpr *e, xmlNode *node, const char *what,
                  gboolean fallback)
{
  g_autoptr(HearthXValue) v = NULL;

  if (e == NULL)
    return fallback;
  v = evaluate_noted (self, e, node, what);
  return v != NULL ? hearth_xvalue_to_boolean (v) : fallback;
}

/* ---- reading the form ------------------------------------------------------ */

static void
binding_free (gpointer data)
{
  Binding *b = data;

  g_free (b->path);
  g_ptr_array_unref (b->refs);
  g_ptr_array_unref (b->calc_refs);
  g_ptr_array_unref (b->members_refs);
  g_ptr_array_unref (b->scopes);
  g_free (b);
}

/*
 * A generic path an expression reads. @anchored counts the leading path
 * components that are certainly the expression's own node's ancestors
 * (through `..`, or an absolute path contextualised inside its repeat):
 * within a repeat at that depth or above, the expression reads its own
 * instance only, so a change in one instance recomputes that instance.
 */
typedef struct {
  char *path;
  guint anchored;
} Ref;

static void
ref_free (gpointer data)
{
  Ref *r = data;

  g_free (r->path);
  g_free (r);
}

static GPtrArray *
refs_new (void)
{
  return g_ptr_array_new_with_free_func (ref_free);
}

static void
add_ref (GPtrArray *out, GPtrArray *names, guint anchored)
{
  GString *s = g_string_new (NULL);

  anchored = MIN (anchored, names->len);
  for (guint i = 0; i < names->len; i++)
    {
      g_string_append_c (s, '/');
      g_string_append (s, names->pdata[i]);
    }
  for (guint i = 0; i < out->len; i++)
    {
      Ref *r = out->pdata[i];
      if (g_str_equal (r->path, s->str))
        {
          r->anchored = MIN (r->anchored, anchored);
          g_string_free (s, TRUE);
          return;
        }
    }
  {
    Ref *r = g_new0 (Ref, 1);
    r->path = g_string_free (s, FALSE);
    r->anchored = anchored;
    g_ptr_array_add (out, r);
  }
}

static GPtrArray *
names_copy (GPtrArray *names)
{
  GPtrArray *c = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; names != NULL && i < names->len; i++)
    g_ptr_array_add (c, g_strdup (names->pdata[i]));
  return c;
}

/* Where collected references go: values read, and node-sets whose
 * membership only is read (count(), position()): those change when repeat
 * instances come or go, not when an answer below them changes. */
typedef struct {
  GPtrArray *values;
  GPtrArray *structure;        /* nullable: then into values */
  GPtrArray *current;          /* the names of the node current() is */
} Refs;

/*
 * Collects the generic paths of the primary instance that @e reads, with
 * @context the generic path (as names) of the node it is evaluated at
 * (NULL inside a predicate over a secondary instance). A path that leaves
 * what can be named statically (a wildcard, `//`, an axis other than child,
 * attribute, parent and self) is kept up to where it could be followed:
 * depending on a group covers everything under it.
 */
static void
collect_refs (const HearthXPathExpr *e, GPtrArray *context, guint anchor, Refs *r, gboolean membership)
{
  if (e == NULL)
    return;
  switch (e->kind)
    {
    case HEARTH_XPATH_PATH:
      {
        g_autoptr(GPtrArray) base = NULL;
        GPtrArray *into = membership && r->structure != NULL ? r->structure : r->values;
        guint anchored = 0;          /* leading components known to be own ancestors */
        gboolean following = FALSE;  /* an absolute path still on the own chain */

        if (e->filter != NULL)
          {
            const HearthXPathExpr *f = e->filter;

            if (f->kind == HEARTH_XPATH_FUNCTION && g_str_equal (f->text, "current") && r->current != NULL)
              {
                base = names_copy (r->current);
                anchored = base->len;
              }
            else
              collect_refs (f, context, anchor, r, FALSE);  /* instance('x'), or a union: no primary base */
            for (guint i = 0; e->filter_predicates != NULL && i < e->filter_predicates->len; i++)
              collect_refs (e->filter_predicates->pdata[i], base, anchored, r, FALSE);
          }
        else if (e->absolute)
          {
            base = g_ptr_array_new_with_free_func (g_free);
            following = r->current != NULL;
          }
        else if (context != NULL)
          {
            base = names_copy (context);
            anchored = MIN (anchor, base->len);
          }

        for (guint s = 0; s < e->steps->len; s++)
          {
            const HearthXPathStep *st = e->steps->pdata[s];
            gboolean stop = FALSE;

            if (base != NULL)
              switch (st->axis)
                {
                case HEARTH_XPATH_AXIS_CHILD:
                case HEARTH_XPATH_AXIS_ATTRIBUTE:
                  if (st->test == HEARTH_XPATH_TEST_NAME && strchr (st->name, '*') == NULL)
                    {
                      const char *colon = strchr (st->name, ':');
                      const char *local = colon != NULL ? colon + 1 : st->name;

                      /* The evaluator contextualises an absolute path while it
                       * follows the own node's ancestors by name, without
                       * predicates, except on its last step. */
                      if (following && st->axis == HEARTH_XPATH_AXIS_CHILD && s + 1 < e->steps->len &&
                          (st->predicates == NULL || st->predicates->len == 0) &&
                          base->len < r->current->len && g_str_equal (r->current->pdata[base->len], local))
                        anchored = base->len + 1;
                      else
                        following = FALSE;
                      g_ptr_array_add (base, st->axis == HEARTH_XPATH_AXIS_ATTRIBUTE ? g_strconcat ("@", local, NULL)
                                                                                     : g_strdup (local));
                    }
                  else if (st->test != HEARTH_XPATH_TEST_TEXT)
                    stop = TRUE;
                  break;
                case HEARTH_XPATH_AXIS_PARENT:
                  following = FALSE;
                  if (base->len > 0)
                    g_ptr_array_remove_index (base, base->len - 1);
                  anchored = MIN (anchored, base->len);
                  break;
                case HEARTH_XPATH_AXIS_SELF:
                  break;
                default:
                  stop = TRUE;
                  break;
                }
            for (guint p = 0; st->predicates != NULL && p < st->predicates->len; p++)
              collect_refs (st->predicates->pdata[p], base, anchored, r, FALSE);
            if (stop && base != NULL)
              {
                add_ref (r->values, base, anchored);
                g_clear_pointer (&base, g_ptr_array_unref);
              }
          }
        if (base != NULL)
          add_ref (into, base, anchored);
        return;
      }
    case HEARTH_XPATH_FUNCTION:
      if (g_str_equal (e->text, "current") && r->current != NULL)
        add_ref (r->values, r->current, r->current->len);
      /* jr:choice-name(value, 'path') reads the path written as a string. */
      if (g_str_equal (e->text, "jr:choice-name") && e->args->len == 2 &&
          ((HearthXPathExpr *) e->args->pdata[1])->kind == HEARTH_XPATH_STRING)
        {
          g_autoptr(HearthXPathExpr) inner =
            hearth_xpath_parse (((HearthXPathExpr *) e->args->pdata[1])->text, NULL);
          collect_refs (inner, context, anchor, r, FALSE);
        }
      /* count() and position() read which nodes there are, not their values. */
      membership = g_str_equal (e->text, "count") || g_str_equal (e->text, "position");
      for (guint i = 0; e->args != NULL && i < e->args->len; i++)
        collect_refs (e->args->pdata[i], context, anchor, r, membership);
      return;
    default:
      break;
    }
  for (guint i = 0; e->args != NULL && i < e->args->len; i++)
    collect_refs (e->args->pdata[i], context, anchor, r, FALSE);
}

/* @a is @b, or an ancestor or descendant of it. */
static gboolean
paths_related (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);

  if (la == lb)
    return g_str_equal (a, b);
  if (la < lb)
    return strncmp (a, b, la) == 0 && (b[la] == '/' || la == 0);
  return strncmp (a, b, lb) == 0 && (a[lb] == '/' || lb == 0);
}

static Binding *
binding_for (HearthFormSession *self, const char *path)
{
  Binding *b = g_hash_table_lookup (self->bindings, path);

  if (b == NULL)
    {
      b = g_new0 (Binding, 1);
      b->path = g_strdup (path);
      b->type = "string";
      b->refs = refs_new ();
      b->calc_refs = refs_new ();
      b->members_refs = refs_new ();
      b->scopes = g_ptr_array_new ();
      g_hash_table_insert (self->bindings, b->path, b);
      g_ptr_array_add (self->binding_list, b);
    }
  return b;
}

static GPtrArray *nodes_at (xmlDoc *doc, const char *path);

static gboolean
read_binds (HearthFormSession *self, GError **error)
{
  for (guint i = 0; i < self->form->binds->len; i++)
    {
      HearthFormBind *fb = g_ptr_array_index (self->form->binds, i);
      g_autofree char *path = simple_path (fb->nodeset);
      Binding *b;

      if (path == NULL)
        {
          g_set_error (error, HEARTH_FORM_ERROR, HEARTH_FORM_ERROR_UNSUPPORTED,
                       _("%s, line %u, <bind>: the nodeset \"%s\" is not an absolute path of element names"),
                       self->form->path, fb->line, fb->nodeset);
          return FALSE;
        }
      /* A bind on a node the instance lacks is a typo that would silently
       * disable its constraint or calculation. */
      {
        g_autoptr(GPtrArray) nodes = nodes_at (self->form->primary, path);
        if (nodes->len == 0)
          {
            g_set_error (error, HEARTH_FORM_ERROR, HEARTH_FORM_ERROR_INVALID,
                         _("%s, line %u, <bind>: the nodeset %s names no node of the primary instance"),
                         self->form->path, fb->line, fb->nodeset);
            return FALSE;
          }
      }
      /* Several binds on one node: each attribute from the last that sets it. */
      b = binding_for (self, path);
      b->line = fb->line;
      if (fb->type != NULL && (g_strcmp0 (fb->type, "string") != 0 || b->type == NULL))
        b->type = fb->type;
#define TAKE(field) if (fb->field != NULL) b->field = fb->field
      TAKE (relevant); TAKE (required); TAKE (readonly); TAKE (constraint); TAKE (calculate);
      TAKE (constraint_msg); TAKE (required_msg); TAKE (preload); TAKE (preload_params);
#undef TAKE
    }
  /* meta/instanceID and deprecatedID belong to the session (a new id per
   * submission, kept through drafts): a form's calculate of
   * concat('uuid:', uuid()) would change it on every load. */
  {
    g_autofree char *root = g_strdup_printf ("/%s/meta/", (const char *) xmlDocGetRootElement (self->form->primary)->name);
    for (guint i = 0; i < self->binding_list->len; i++)
      {
        Binding *b = self->binding_list->pdata[i];
        if (g_str_has_prefix (b->path, root) &&
            (g_str_equal (b->path + strlen (root), "instanceID") || g_str_equal (b->path + strlen (root), "deprecatedID")))
          {
            b->calculate = NULL;
            b->preload = NULL;
          }
      }
  }
  return TRUE;
}

static void
read_controls (HearthFormSession *self, const HearthFormControl *c, const char *parent)
{
  g_autofree char *path = NULL;

  if (c->ref != NULL)
    {
      g_autofree char *abs = c->ref[0] == '/' || parent == NULL ? g_strdup (c->ref)
                                                                 : g_strdup_printf ("%s/%s", parent, c->ref);
      path = simple_path (abs);
      if (path != NULL)
        {
          g_hash_table_replace (self->controls, g_strdup (path), (gpointer) c);
          if (c->kind == HEARTH_CONTROL_REPEAT)
            g_hash_table_replace (self->repeats, g_strdup (path), (gpointer) c);
        }
    }
  for (guint i = 0; c->children != NULL && i < c->children->len; i++)
    read_controls (self, c->children->pdata[i], path != NULL ? path : parent);
}

static GPtrArray *
split_path (const char *path)
{
  g_auto(GStrv) parts = g_strsplit (path, "/", -1);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_ptr_array_add (names, g_strdup (parts[i]));
  return names;
}

/* A binding that reads a path, and how much of it is its own chain. */
typedef struct {
  Binding *binding;
  guint anchored;
} Dependent;

static void
add_dependent (GHashTable *dependents, const Ref *ref, Binding *b)
{
  GPtrArray *list = g_hash_table_lookup (dependents, ref->path);
  Dependent *d;

  if (list == NULL)
    {
      list = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (dependents, g_strdup (ref->path), list);
    }
  for (guint i = 0; i < list->len; i++)
    {
      d = list->pdata[i];
      if (d->binding == b)
        {
          d->anchored = MIN (d->anchored, ref->anchored);
          return;
        }
    }
  d = g_new0 (Dependent, 1);
  d->binding = b;
  d->anchored = ref->anchored;
  g_ptr_array_add (list, d);
}

/* Builds the references, the dependents and the topological order of the
 * calculations (Kahn's algorithm); a cycle is an error naming its binds. */
static gboolean
build_graph (HearthFormSession *self, GError **error)
{
  g_autoptr(GPtrArray) calcs = g_ptr_array_new ();
  g_autoptr(GHashTable) indegree = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) edges = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GQueue) ready = g_queue_new ();

  for (guint n = 0; n < self->binding_list->len; n++)
    {
      Binding *b = self->binding_list->pdata[n];
      g_autoptr(GPtrArray) context = split_path (b->path);
      HearthXPathExpr *exprs[] = { b->relevant, b->required, b->readonly, b->constraint, b->calculate };

      Refs all = { b->refs, b->members_refs, context };
      Refs calc = { b->calc_refs, NULL, context };

      for (gsize i = 0; i < G_N_ELEMENTS (exprs); i++)
        collect_refs (exprs[i], context, context->len, &all, FALSE);
      /* For the order of calculations, membership does not matter (no
       * calculation adds or removes instances). */
      calc.structure = refs_new ();
      collect_refs (b->calculate, context, context->len, &calc, FALSE);
      g_ptr_array_unref (calc.structure);
      /* A path read that the instance lacks is a typo: it would read as
       * blank forever and silently disable what uses it. */
      for (guint k = 0; k < 2; k++)
        {
          GPtrArray *list = k == 0 ? b->refs : b->members_refs;
          for (guint i = 0; i < list->len; i++)
            {
              const Ref *r = list->pdata[i];
              g_autoptr(GPtrArray) nodes = r->path[0] != '\0' ? nodes_at (self->form->primary, r->path) : NULL;

              if (nodes != NULL && nodes->len == 0)
                {
                  g_set_error (error, HEARTH_FORM_ERROR, HEARTH_FORM_ERROR_INVALID,
                               _("%s, line %u, <bind> of %s: it reads %s, which is not in the primary instance"),
                               self->form->path, b->line, b->path, r->path);
                  return FALSE;
                }
            }
        }
      for (guint i = 0; i < b->refs->len; i++)
        add_dependent (self->dependents, b->refs->pdata[i], b);
      for (guint i = 0; i < b->members_refs->len; i++)
        add_dependent (self->members_dependents, b->members_refs->pdata[i], b);
      if (b->calculate != NULL)
        g_ptr_array_add (calcs, b);
      if (b->relevant != NULL)
        g_ptr_array_add (self->relevant_binds, b);
    }
  for (guint i = 0; i < calcs->len; i++)
    g_hash_table_insert (indegree, calcs->pdata[i], GUINT_TO_POINTER (0));
  for (guint i = 0; i < calcs->len; i++)
    {
      Binding *to = calcs->pdata[i];
      for (guint k = 0; k < calcs->len; k++)
        {
          Binding *from = calcs->pdata[k];
          if (from == to)
            continue;  /* a calculation may read its own node (once(), if(. = '', …)) */
          for (guint r = 0; r < to->calc_refs->len; r++)
            if (paths_related (((Ref *) to->calc_refs->pdata[r])->path, from->path))
              {
                GPtrArray *list = g_hash_table_lookup (edges, from);
                if (list == NULL)
                  g_hash_table_insert (edges, from, list = g_ptr_array_new ());
                g_ptr_array_add (list, to);
                g_hash_table_insert (indegree, to,
                                     GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (indegree, to)) + 1));
                break;
              }
        }
    }
  for (guint i = 0; i < calcs->len; i++)
    if (GPOINTER_TO_UINT (g_hash_table_lookup (indegree, calcs->pdata[i])) == 0)
      g_queue_push_tail (ready, calcs->pdata[i]);
  while (!g_queue_is_empty (ready))
    {
      Binding *from = g_queue_pop_head (ready);
      GPtrArray *list = g_hash_table_lookup (edges, from);

      from->order = self->calc_order->len;
      g_ptr_array_add (self->calc_order, from);
      for (guint i = 0; list != NULL && i < list->len; i++)
        {
          Binding *to = list->pdata[i];
          guint d = GPOINTER_TO_UINT (g_hash_table_lookup (indegree, to)) - 1;
          g_hash_table_insert (indegree, to, GUINT_TO_POINTER (d));
          if (d == 0)
            g_queue_push_tail (ready, to);
        }
    }
  if (self->calc_order->len < calcs->len)
    {
      g_autoptr(GString) names = g_string_new (NULL);
      gboolean trimmed = TRUE;

      /* What is left is in a cycle or downstream of one: drop the
       * downstream part (nodes with no edge back into what is left). */
      while (trimmed)
        {
          trimmed = FALSE;
          for (guint i = 0; i < calcs->len; i++)
            {
              Binding *from = calcs->pdata[i];
              GPtrArray *list = g_hash_table_lookup (edges, from);
              gboolean feeds = FALSE;

              if (GPOINTER_TO_UINT (g_hash_table_lookup (indegree, from)) == 0)
                continue;
              for (guint k = 0; list != NULL && k < list->len; k++)
                feeds = feeds || GPOINTER_TO_UINT (g_hash_table_lookup (indegree, list->pdata[k])) > 0;
              if (!feeds)
                {
                  g_hash_table_insert (indegree, from, GUINT_TO_POINTER (0));
                  trimmed = TRUE;
                }
            }
        }
      for (guint i = 0; i < calcs->len; i++)
        if (GPOINTER_TO_UINT (g_hash_table_lookup (indegree, calcs->pdata[i])) > 0)
          g_string_append_printf (names, "%s%s (line %u)", names->len > 0 ? ", " : "",
                                  ((Binding *) calcs->pdata[i])->path, ((Binding *) calcs->pdata[i])->line);
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_CYCLE,
                   _("%s: the calculations of these binds depend on each other in a cycle: %s"),
                   self->form->path, names->str);
      return FALSE;
    }
  return TRUE;
}

/* ---- the instance ------------------------------------------------------------ */

/* The instance nodes at a generic path, in document order. */
static void
nodes_at_names (xmlNode *n, GPtrArray *names, guint depth, GPtrArray *out)
{
  if (n == NULL || n->type != XML_ELEMENT_NODE || depth >= names->len ||
      !g_str_equal ((const char *) n->name, names->pdata[depth]))
    return;
  if (depth + 1 == names->len)
    {
      g_ptr_array_add (out, n);
      return;
    }
  if (depth + 2 == names->len && ((const char *) names->pdata[depth + 1])[0] == '@')
    {
      const char *name = (const char *) names->pdata[depth + 1] + 1;
      for (xmlAttr *a = n->properties; a != NULL; a = a->next)
        if (g_str_equal ((const char *) a->name, name))
          g_ptr_array_add (out, a);
      return;
    }
  for (xmlNode *c = n->children; c != NULL; c = c->next)
    nodes_at_names (c, names, depth + 1, out);
}

static GPtrArray *
nodes_at (xmlDoc *doc, const char *path)
{
  g_autoptr(GPtrArray) names = split_path (path);
  GPtrArray *out = g_ptr_array_new ();

  if (names->len > 0)
    nodes_at_names (xmlDocGetRootElement (doc), names, 0, out);
  return out;
}

static gboolean
is_template (xmlNode *n)
{
  for (xmlAttr *a = n->properties; a != NULL; a = a->next)
    if (xmlStrEqual (a->name, (const xmlChar *) "template") && a->ns != NULL &&
        xmlStrEqual (a->ns->href, (const xmlChar *) "http://openrosa.org/javarosa"))
      return TRUE;
  return FALSE;
}

/* Drops repeat templates (jr:template) below @n and whitespace-only text
 * between elements; a leaf holding only whitespace is blank. */
static void
tidy (xmlNode *n)
{
  gboolean elements = has_element_children (n);
  xmlNode *next;

  for (xmlNode *c = n->children; c != NULL; c = next)
    {
      next = c->next;
      if (c->type == XML_ELEMENT_NODE)
        {
          if (is_template (c))
            {
              xmlUnlinkNode (c);
              xmlFreeNode (c);
            }
          else
            tidy (c);
        }
      else if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE ||
               ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
                (elements || xmlIsBlankNode (c))))
        {
          xmlUnlinkNode (c);
          xmlFreeNode (c);
        }
    }
}

static xmlNode *
meta_child (xmlDoc *doc, const char *name, gboolean create)
{
  xmlNode *root = xmlDocGetRootElement (doc);
  xmlNode *meta = NULL, *child = NULL;

  for (xmlNode *c = root->children; c != NULL && meta == NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE && xmlStrEqual (c->name, (const xmlChar *) "meta"))
      meta = c;
  for (xmlNode *c = meta != NULL ? meta->children : NULL; c != NULL && child == NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE && xmlStrEqual (c->name, (const xmlChar *) name))
      child = c;
  if (child == NULL && create && meta != NULL)
    child = xmlNewChild (meta, meta->ns, (const xmlChar *) name, NULL);
  return child;
}

/* now() as an ISO 8601 dateTime with offset, as the preloads store it. */
static char *
now_string (HearthFormSession *self)
{
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *base = NULL;
  g_autofree char *offset = NULL;

  if (self->now != NULL)
    return g_strdup (self->now);
  now = g_date_time_new_now_local ();
  base = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S");
  offset = g_date_time_format (now, "%:z");
  return g_strdup_printf ("%s.%03d%s", base, g_date_time_get_microsecond (now) / 1000, offset);
}

static char *
today_string (HearthFormSession *self)
{
  g_autoptr(GDateTime) now = NULL;

  if (self->today != NULL)
    return g_strdup (self->today);
  now = g_date_time_new_now_local ();
  return g_date_time_format (now, "%Y-%m-%d");
}

/* A calculated value as the bind's type stores it. */
static char *
stored_value (const char *type, const HearthXValue *v)
{
  gboolean numeric = g_strcmp0 (type, "int") == 0 || g_strcmp0 (type, "decimal") == 0;

  if (v->type == HEARTH_XVALUE_NUMBER)
    {
      if (isnan (v->number) || isinf (v->number))
        return g_strdup ("");
      if (g_strcmp0 (type, "int") == 0)
        return hearth_xpath_number_to_string (trunc (v->number));
      if (g_strcmp0 (type, "date") == 0)
        {
          char *d = hearth_xpath_days_to_date ((gint64) floor (v->number));
          return d != NULL ? d : g_strdup ("");
        }
      return hearth_xpath_number_to_string (v->number);
    }
  if (v->type == HEARTH_XVALUE_BOOLEAN && numeric)
    return g_strdup (v->boolean ? "1" : "0");
  if (numeric)
    {
      g_autofree char *s = hearth_xvalue_to_string (v);
      double x = hearth_xpath_string_to_number (s);

      if (s[0] == '\0' || isnan (x))
        return g_steal_pointer (&s);
      return hearth_xpath_number_to_string (g_strcmp0 (type, "int") == 0 ? trunc (x) : x);
    }
  return hearth_xvalue_to_string (v);
}

/* ---- recalculation ------------------------------------------------------------ */

/* How many leading components two generic paths share. */
static guint
common_components (const char *a, const char *b)
{
  guint n = 0;
  gsize i = 0;

  while (a[i] == '/' && b[i] == '/')
    {
      gsize j = i + 1;

      while (a[j] != '\0' && a[j] != '/' && a[j] == b[j])
        j++;
      if (j == i + 1 || !(a[j] == '\0' || a[j] == '/') || !(b[j] == '\0' || b[j] == '/'))
        break;
      n++;
      i = j;
    }
  return n;
}

/* The first @depth components of a generic path. */
static char *
path_prefix (const char *path, guint depth)
{
  guint seen = 0;
  gsize i = 0;

  for (i = 1; path[i - 1] != '\0'; i++)
    if ((path[i] == '/' || path[i] == '\0') && ++seen == depth)
      break;
  return g_strndup (path, i);
}

/* The ancestor-or-self of @n at @depth components (1: the root element). */
static xmlNode *
ancestor_at (xmlNode *n, guint depth)
{
  guint d = 0;

  if (n->type == XML_ATTRIBUTE_NODE)
    n = n->parent;
  for (xmlNode *a = n; a != NULL && a->type == XML_ELEMENT_NODE; a = a->parent)
    d++;
  for (; n != NULL && d > depth; d--)
    n = n->parent;
  return d == depth ? n : NULL;
}

/*
 * Queues @b after a change at @path, in instance @node (NULL: anywhere).
 * When @b and @path lie in one repeat instance and @b reads @path through
 * its own ancestors only (@anchored deep enough), only that instance is
 * queued; otherwise every node of @b.
 */
static void
schedule (HearthFormSession *self, Binding *b, guint anchored, const char *path, xmlNode *node)
{
  xmlNode *scope = NULL;

  if (b->queued_all)
    return;
  if (node != NULL)
    {
      /* The deepest repeat both lie in, within the anchored part. */
      for (guint depth = MIN (common_components (path, b->path), anchored); depth > 0 && scope == NULL; depth--)
        {
          g_autofree char *prefix = path_prefix (b->path, depth);

          if (g_hash_table_contains (self->repeats, prefix))
            scope = ancestor_at (node, depth);
        }
    }
  if (scope == NULL)
    {
      b->queued_all = TRUE;
      g_ptr_array_set_size (b->scopes, 0);
      return;
    }
  if (!g_ptr_array_find (b->scopes, scope, NULL))
    g_ptr_array_add (b->scopes, scope);
}

static void
schedule_list (HearthFormSession *self, GPtrArray *list, const char *path, xmlNode *node)
{
  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      Dependent *d = list->pdata[i];
      schedule (self, d->binding, d->anchored, path, node);
    }
}

/*
 * Queues what depends on a change at @path (generic) in node @node
 * (nullable: somewhere). @structural: instances came or went there, so
 * everything below it and what counts its nodes change too.
 */
static void
mark_dependents (HearthFormSession *self, const char *path, xmlNode *node, gboolean structural)
{
  g_autofree char *p = g_strdup (path);

  for (guint i = 0; i < self->counts->len; i++)
    {
      CountRule *r = self->counts->pdata[i];
      for (guint k = 0; k < r->refs->len && !r->queued; k++)
        r->queued = paths_related (((Ref *) r->refs->pdata[k])->path, path);
    }
  /* The path and its ancestors: their values change with it. */
  for (;;)
    {
      char *slash;

      schedule_list (self, g_hash_table_lookup (self->dependents, p), path, node);
      slash = strrchr (p, '/');
      if (slash == NULL || slash == p)
        break;
      *slash = '\0';
    }
  /* Instances coming or going change everything below. */
  if (structural)
    {
      GHashTableIter it;
      const char *key;
      GPtrArray *list;
      gsize n = strlen (path);

      g_hash_table_iter_init (&it, self->dependents);
      while (g_hash_table_iter_next (&it, (gpointer *) &key, (gpointer *) &list))
        if (strncmp (key, path, n) == 0 && key[n] == '/')
          schedule_list (self, list, key, node);
      g_hash_table_iter_init (&it, self->members_dependents);
      while (g_hash_table_iter_next (&it, (gpointer *) &key, (gpointer *) &list))
        if (strncmp (key, path, n) == 0 && (key[n] == '/' || key[n] == '\0'))
          schedule_list (self, list, key, node);
    }
}

/* The nodes of @b to recompute: all, or those in the queued instances. */
static GPtrArray *
queued_nodes (HearthFormSession *self, Binding *b)
{
  GPtrArray *nodes;

  if (b->queued_all)
    nodes = nodes_at (self->doc, b->path);
  else
    {
      g_autoptr(GPtrArray) names = split_path (b->path);

      nodes = g_ptr_array_new ();
      for (guint i = 0; i < b->scopes->len; i++)
        {
          xmlNode *scope = b->scopes->pdata[i];
          guint depth = 0;

          /* A scope removed since it was queued is no longer in the tree. */
          for (xmlNode *a = scope; a != NULL && a->type == XML_ELEMENT_NODE; a = a->parent)
            depth++;
          if (scope->doc == self->doc && depth > 0 && xmlDocGetRootElement (self->doc) == ancestor_at (scope, 1))
            nodes_at_names (scope, names, depth - 1, nodes);
        }
    }
  b->queued_all = FALSE;
  g_ptr_array_set_size (b->scopes, 0);
  return nodes;
}

static gboolean
is_queued (Binding *b)
{
  return b->queued_all || b->scopes->len > 0;
}

static void
recompute_calculate (HearthFormSession *self, Binding *b)
{
  g_autoptr(GPtrArray) nodes = queued_nodes (self, b);

  for (guint i = 0; i < nodes->len; i++)
    {
      xmlNode *n = nodes->pdata[i];
      g_autoptr(HearthXValue) v = NULL;
      g_autofree char *value = NULL;
      g_autofree char *old = NULL;

      if (has_element_children (n))
        continue;
      v = evaluate_noted (self, b->calculate, n, "calculate");
      value = v != NULL ? stored_value (b->type, v) : g_strdup ("");
      old = node_text (n);
      if (!g_str_equal (old, value))
        {
          set_text (n, value);
          mark_dependents (self, b->path, n, FALSE);
        }
    }
}

static void
recompute_relevant (HearthFormSession *self, Binding *b)
{
  g_autoptr(GPtrArray) nodes = queued_nodes (self, b);

  for (guint i = 0; i < nodes->len; i++)
    {
      xmlNode *n = nodes->pdata[i];

      if (evaluate_boolean (self, b->relevant, n, "relevant", TRUE))
        g_hash_table_remove (self->not_relevant, n);
      else
        g_hash_table_add (self->not_relevant, n);
    }
}

static gboolean adjust_counts (HearthFormSession *self);

/* Recomputes the queued binds: calculations in topological order, each
 * change queueing what reads it; then relevance; then jr:count. */
static void
recalculate (HearthFormSession *self)
{
  for (guint round = 0; round < 16; round++)
    {
      for (guint i = 0; i < self->calc_order->len; i++)
        {
          Binding *b = self->calc_order->pdata[i];

          if (is_queued (b))
            recompute_calculate (self, b);
        }
      for (guint i = 0; i < self->relevant_binds->len; i++)
        {
          Binding *b = self->relevant_binds->pdata[i];
          if (is_queued (b))
            recompute_relevant (self, b);
        }
      for (guint i = 0; i < self->binding_list->len; i++)
        {
          Binding *b = self->binding_list->pdata[i];
          b->queued_all = FALSE;
          g_ptr_array_set_size (b->scopes, 0);
        }
      if (!adjust_counts (self))
        return;
    }
}

static void
recalculate_all (HearthFormSession *self)
{
  for (guint i = 0; i < self->binding_list->len; i++)
    ((Binding *) self->binding_list->pdata[i])->queued_all = TRUE;
  for (guint i = 0; i < self->counts->len; i++)
    ((CountRule *) self->counts->pdata[i])->queued = TRUE;
  recalculate (self);
}

/* ---- repeats ------------------------------------------------------------------ */

static void
forget_subtree (HearthFormSession *self, xmlNode *n)
{
  g_hash_table_remove (self->not_relevant, n);
  for (xmlNode *c = n->children; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      forget_subtree (self, c);
}

static void run_setvalues (HearthFormSession *self, const char *event, const char *control_path,
                           xmlNode *context);

static void
repoint_ns (xmlNode *n, xmlNs *from, xmlNs *to)
{
  if (n->ns == from)
    n->ns = to;
  for (xmlAttr *a = n->properties; a != NULL; a = a->next)
    if (a->ns == from)
      a->ns = to;
  for (xmlNode *c = n->children; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      repoint_ns (c, from, to);
}

/* A copied template redeclares its namespaces: use the ones in scope. */
static void
drop_redundant_ns (xmlNode *copy)
{
  xmlNs **prev = &copy->nsDef;

  while (*prev != NULL)
    {
      xmlNs *d = *prev;
      xmlNs *outer = copy->parent != NULL ? xmlSearchNs (copy->doc, copy->parent, d->prefix) : NULL;

      if (outer != NULL && xmlStrEqual (outer->href, d->href))
        {
          repoint_ns (copy, d, outer);
          *prev = d->next;
          d->next = NULL;
          xmlFreeNs (d);
        }
      else
        prev = &d->next;
    }
}

/* How many repeat instances @n and its descendants hold. */
static guint
count_instances (HearthFormSession *self, xmlNode *n)
{
  g_autofree char *gp = generic_path (n);
  guint count = g_hash_table_contains (self->repeats, gp) ? 1 : 0;

  for (xmlNode *c = n->children; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      count += count_instances (self, c);
  return count;
}

/* Appends an instance of repeat @path under @parent from its template;
 * NULL when the template is missing or the session holds
 * HEARTH_FORM_MAX_INSTANCES already (nested jr:count must not exhaust
 * memory). */
static xmlNode *
new_repeat_instance (HearthFormSession *self, const char *path, xmlNode *parent)
{
  if (self->n_instances >= HEARTH_FORM_MAX_INSTANCES)
    return NULL;
  {
  g_autoptr(GPtrArray) candidates = nodes_at (self->form->primary, path);
  const char *name = strrchr (path, '/') + 1;
  xmlNode *template = NULL, *copy, *last = NULL, *before = NULL;

  for (guint i = 0; i < candidates->len && template == NULL; i++)
    if (is_template (candidates->pdata[i]))
      template = candidates->pdata[i];
  if (template == NULL && candidates->len > 0)
    template = candidates->pdata[0];
  if (template == NULL)
    return NULL;
  copy = xmlDocCopyNode (template, self->doc, 1);
  for (xmlAttr *a = copy->properties; a != NULL; a = a->next)
    if (xmlStrEqual (a->name, (const xmlChar *) "template"))
      {
        xmlRemoveProp (a);
        break;
      }
  tidy (copy);
  for (xmlNode *c = parent->children; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE && xmlStrEqual (c->name, (const xmlChar *) name))
      last = c;
  if (last != NULL)
    xmlAddNextSibling (last, copy);
  else
    {
      /* Where the template stood: before the first sibling that follows it. */
      for (xmlNode *f = template->next; f != NULL && before == NULL; f = f->next)
        if (f->type == XML_ELEMENT_NODE)
          for (xmlNode *c = parent->children; c != NULL && before == NULL; c = c->next)
            if (c->type == XML_ELEMENT_NODE && xmlStrEqual (c->name, f->name))
              before = c;
      if (before != NULL)
        xmlAddPrevSibling (before, copy);
      else
        xmlAddChild (parent, copy);
    }
  drop_redundant_ns (copy);
  self->n_instances += count_instances (self, copy);
  return copy;
  }
}

static guint
count_children (xmlNode *parent, const char *name)
{
  guint n = 0;

  for (xmlNode *c = parent->children; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE && xmlStrEqual (c->name, (const xmlChar *) name))
      n++;
  return n;
}

static void
after_new_instance (HearthFormSession *self, const char *path, xmlNode *inst)
{
  run_setvalues (self, "odk-new-repeat", path, inst);
  mark_dependents (self, path, inst, TRUE);
}

/* Brings every jr:count repeat to its count. Returns whether anything
 * changed (then the caller recalculates again). */
static gboolean
adjust_counts (HearthFormSession *self)
{
  gboolean changed = FALSE;

  for (guint r = 0; r < self->counts->len; r++)
    {
      CountRule *rule = self->counts->pdata[r];
      const char *path = rule->path;
      const HearthFormControl *c = rule->control;
      g_autofree char *parent_path = NULL;
      g_autoptr(GPtrArray) parents = NULL;
      const char *name = strrchr (path, '/') + 1;

      if (!rule->queued)
        continue;
      rule->queued = FALSE;
      parent_path = g_strndup (path, (gsize) (name - 1 - path));
      parents = nodes_at (self->doc, parent_path);
      for (guint i = 0; i < parents->len; i++)
        {
          xmlNode *parent = parents->pdata[i];
          g_autoptr(HearthXValue) v = NULL;
          double want;
          guint have = count_children (parent, name), target;

          if (g_hash_table_contains (self->not_relevant, parent))
            continue;
          v = evaluate_noted (self, c->jr_count, parent, "jr:count");
          want = v != NULL ? hearth_xvalue_to_number (v) : 0;
          target = isnan (want) || want < 0 ? 0 : want > HEARTH_FORM_MAX_REPEATS ? HEARTH_FORM_MAX_REPEATS
                                                                                 : (guint) want;
          while (have < target)
            {
              xmlNode *inst = new_repeat_instance (self, path, parent);
              if (inst == NULL)
                {
                  /* Say so rather than submit fewer instances than asked. */
                  if (self->eval_error == NULL)
                    g_set_error (&self->eval_error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_REPEAT,
                                 _("jr:count of %s asks for more repeat instances than the %d Hearth allows"),
                                 path, HEARTH_FORM_MAX_INSTANCES);
                  break;
                }
              after_new_instance (self, path, inst);
              have++;
              changed = TRUE;
            }
          while (have > target)
            {
              xmlNode *lastc = NULL;
              for (xmlNode *k = parent->children; k != NULL; k = k->next)
                if (k->type == XML_ELEMENT_NODE && xmlStrEqual (k->name, (const xmlChar *) name))
                  lastc = k;
              forget_subtree (self, lastc);
              self->n_instances -= MIN (self->n_instances, count_instances (self, lastc));
              xmlUnlinkNode (lastc);
              xmlFreeNode (lastc);
              have--;
              changed = TRUE;
              mark_dependents (self, path, parent, TRUE);
            }
        }
    }
  return changed;
}

/* ---- actions and preloads -------------------------------------------------------- */

static void
store_calculated (HearthFormSession *self, xmlNode *target, const HearthXValue *v)
{
  g_autofree char *gp = generic_path (target);
  Binding *b = g_hash_table_lookup (self->bindings, gp);
  g_autofree char *value = stored_value (b != NULL ? b->type : "string", v);

  set_text (target, value);
  mark_dependents (self, gp, target, FALSE);
}

/* Runs the setvalue actions of @event; for odk-new-repeat and
 * xforms-value-changed only those of the control at @control_path, with
 * their refs resolved from @context (the new instance, the changed node). */
static void
run_setvalues (HearthFormSession *self, const char *event, const char *control_path, xmlNode *context)
{
  for (guint i = 0; i < self->form->setvalues->len; i++)
    {
      HearthFormSetvalue *sv = self->form->setvalues->pdata[i];
      const HearthXPathExpr *ref;
      g_autoptr(HearthXValue) targets = NULL;
      xmlNode *target;

      if (!g_str_equal (sv->event, event))
        continue;
      if (control_path != NULL)
        {
          g_autofree char *cp = sv->control_ref != NULL ? simple_path (sv->control_ref) : NULL;
          if (g_strcmp0 (cp, control_path) != 0)
            continue;
        }
      ref = cached_expr (self, sv->ref);
      if (ref == NULL)
        continue;
      targets = evaluate_noted (self, ref, context != NULL ? context : xmlDocGetRootElement (self->doc),
                                "setvalue ref");
      if (targets == NULL || targets->type != HEARTH_XVALUE_NODESET || targets->nodes->len == 0)
        continue;
      target = targets->nodes->pdata[0];
      if (target->type != XML_ELEMENT_NODE && target->type != XML_ATTRIBUTE_NODE)
        continue;
      if (sv->value != NULL)
        {
          g_autoptr(HearthXValue) v = evaluate_noted (self, sv->value, target, "setvalue");
          if (v != NULL)
            store_calculated (self, target, v);
        }
      else
        {
          HearthXValue literal = { .type = HEARTH_XVALUE_STRING, .string = sv->literal != NULL ? sv->literal : "" };
          store_calculated (self, target, &literal);
        }
    }
}

static void
fill_preloads (HearthFormSession *self, const char *when)
{
  for (guint i = 0; i < self->binding_list->len; i++)
    {
      Binding *b = self->binding_list->pdata[i];
      g_autoptr(GPtrArray) nodes = NULL;
      g_autofree char *value = NULL;

      if (b->preload == NULL)
        continue;
      if (g_str_equal (when, "end"))
        {
          if (g_str_equal (b->preload, "timestamp") && g_strcmp0 (b->preload_params, "end") == 0)
            value = now_string (self);
        }
      else if (g_str_equal (b->preload, "timestamp") && g_strcmp0 (b->preload_params, "start") == 0)
        value = now_string (self);
      else if (g_str_equal (b->preload, "date") && g_strcmp0 (b->preload_params, "today") == 0)
        value = today_string (self);
      else if (g_str_equal (b->preload, "uid"))
        value = g_strdup (self->instance_id);
      else if (g_str_equal (b->preload, "property"))
        value = g_strdup (g_strcmp0 (b->preload_params, "deviceid") == 0 && self->device_id != NULL ? self->device_id :
                          g_strcmp0 (b->preload_params, "username") == 0 && self->username != NULL ? self->username :
                          "");
      if (value == NULL)
        continue;
      nodes = nodes_at (self->doc, b->path);
      for (guint k = 0; k < nodes->len; k++)
        {
          set_text (nodes->pdata[k], value);
          mark_dependents (self, b->path, NULL, FALSE);
        }
    }
}

static char *
normalise_instance_id (const char *given)
{
  if (given == NULL)
    {
      g_autofree char *u = hearth_record_id_new ();
      return g_strconcat ("uuid:", u, NULL);
    }
  return g_str_has_prefix (given, "uuid:") ? g_strdup (given) : g_strconcat ("uuid:", given, NULL);
}

/* ---- text in the current language ------------------------------------------------- */

static char *
render_parts (HearthFormSession *self, GPtrArray *parts, xmlNode *context)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; parts != NULL && i < parts->len; i++)
    {
      const HearthFormTextPart *p = parts->pdata[i];

      if (p->text != NULL)
        g_string_append (s, p->text);
      else if (p->output != NULL)
        {
          g_autoptr(HearthXValue) v = evaluate_noted (self, p->output, context, "output");
          if (v != NULL)
            {
              g_autofree char *t = hearth_xvalue_to_string (v);
              g_string_append (s, t);
            }
        }
    }
  return g_string_free (s, FALSE);
}

static char *
render_text (HearthFormSession *self, const HearthFormText *t, xmlNode *context)
{
  if (t == NULL)
    return NULL;
  if (t->itext_id != NULL)
    {
      const HearthFormText *tr = hearth_form_itext (self->form, self->language, t->itext_id);
      return tr != NULL ? render_parts (self, tr->parts, context) : g_strdup (t->itext_id);
    }
  if (t->ref != NULL)
    {
      g_autoptr(HearthXValue) v = evaluate_noted (self, t->ref, context, "label");
      return v != NULL ? hearth_xvalue_to_string (v) : g_strdup ("");
    }
  return render_parts (self, t->parts, context);
}

static char *
itext_hook (gpointer host, const char *id)
{
  HearthFormSession *self = host;
  const HearthFormText *t = hearth_form_itext (self->form, self->language, id);
  GString *s;

  if (t == NULL)
    return NULL;
  /* Outputs inside a text reached through jr:itext() have no question to
   * stand on: only the literal parts. */
  s = g_string_new (NULL);
  for (guint i = 0; i < t->parts->len; i++)
    if (((HearthFormTextPart *) t->parts->pdata[i])->text != NULL)
      g_string_append (s, ((HearthFormTextPart *) t->parts->pdata[i])->text);
  return g_string_free (s, FALSE);
}

/* A jr:constraintMsg or jr:requiredMsg: a literal or jr:itext('id'). */
static char *
render_message (HearthFormSession *self, const char *msg, xmlNode *context)
{
  g_autoptr(HearthXPathExpr) e = NULL;

  if (msg == NULL)
    return NULL;
  if (g_str_has_prefix (msg, "jr:itext("))
    e = hearth_xpath_parse (msg, NULL);
  if (e != NULL && e->kind == HEARTH_XPATH_FUNCTION && g_str_equal (e->text, "jr:itext") && e->args->len == 1 &&
      ((HearthXPathExpr *) e->args->pdata[0])->kind == HEARTH_XPATH_STRING)
    {
      const HearthFormText *t = hearth_form_itext (self->form, self->language,
                                                   ((HearthXPathExpr *) e->args->pdata[0])->text);
      if (t != NULL)
        return render_parts (self, t->parts, context);
    }
  return g_strdup (msg);
}

static void
choice_item_free (gpointer data)
{
  HearthFormChoiceItem *c = data;

  g_free (c->value);
  g_free (c->label);
  g_free (c);
}

/* The choices of @control for the question at @node, as they are now. */
static GPtrArray *
question_choices (HearthFormSession *self, const HearthFormControl *control, xmlNode *node)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (choice_item_free);

  if (control == NULL)
    return out;
  for (guint i = 0; control->items != NULL && i < control->items->len; i++)
    {
      const HearthFormChoice *c = control->items->pdata[i];
      HearthFormChoiceItem *item = g_new0 (HearthFormChoiceItem, 1);

      item->value = g_strdup (c->value);
      item->label = c->label != NULL ? render_text (self, c->label, node) : g_strdup (c->value);
      g_ptr_array_add (out, item);
    }
  if (control->itemset != NULL)
    {
      g_autoptr(HearthXValue) set = evaluate_noted (self, control->itemset, node, "itemset");

      for (guint i = 0; set != NULL && set->type == HEARTH_XVALUE_NODESET && i < set->nodes->len; i++)
        {
          xmlNode *item_node = set->nodes->pdata[i];
          g_autoptr(HearthXValue) value = evaluate (self, control->itemset_value, item_node, node, "itemset value", NULL);
          g_autoptr(HearthXValue) label = control->itemset_label != NULL ?
            evaluate (self, control->itemset_label, item_node, node, "itemset label", NULL) : NULL;
          HearthFormChoiceItem *item;

          if (value == NULL)
            continue;
          item = g_new0 (HearthFormChoiceItem, 1);
          item->value = hearth_xvalue_to_string (value);
          item->label = label != NULL ? hearth_xvalue_to_string (label) : g_strdup (item->value);
          g_ptr_array_add (out, item);
        }
    }
  return out;
}

static char *
choice_label_hook (gpointer host, const char *value, xmlNode *node)
{
  HearthFormSession *self = host;
  g_autofree char *gp = generic_path (node);
  const HearthFormControl *control = g_hash_table_lookup (self->controls, gp);
  g_autoptr(GPtrArray) choices = NULL;

  if (control == NULL)
    return NULL;
  choices = question_choices (self, control, node);
  for (guint i = 0; i < choices->len; i++)
    {
      HearthFormChoiceItem *c = choices->pdata[i];
      if (g_str_equal (c->value, value))
        return g_strdup (c->label);
    }
  return NULL;
}

/* ---- types ------------------------------------------------------------------------- */

static gboolean
matches (const char *pattern, const char *value)
{
  return g_regex_match_simple (pattern, value, 0, 0);
}

static gboolean
valid_geopoint (const char *value)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (value));
  g_auto(GStrv) parts = g_strsplit (trimmed, " ", -1);
  guint n = 0;
  double v[4] = { 0 };

  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *end = NULL;
      if (parts[i][0] == '\0')
        continue;
      if (n == 4)
        return FALSE;
      v[n] = g_ascii_strtod (parts[i], &end);
      if (end == parts[i] || *end != '\0' || !isfinite (v[n]))
        return FALSE;
      n++;
    }
  return n >= 2 && fabs (v[0]) <= 90 && fabs (v[1]) <= 180 && (n < 4 || v[3] >= 0);
}

/* Whether a decimal answer as typed has more significant digits than
 * the 15 a number keeps (it would be changed, not kept). */
static gboolean
too_many_digits (const char *value)
{
  const char *dot = strchr (value, '.');
  const char *end = value + strlen (value);
  guint significant = 0;
  gboolean leading = TRUE;

  if (dot != NULL)
    while (end > dot + 1 && end[-1] == '0')
      end--;  /* trailing zeros after the point */
  for (const char *p = value; p < end; p++)
    if (g_ascii_isdigit (*p) && !(leading && *p == '0'))
      {
        leading = FALSE;
        significant++;
      }
  return significant > 15;
}

/*
 * Checks @value against the type of the bind and the choices of the
 * control. Returns the value to store in @normalised, or %FALSE with a
 * message naming what was expected.
 */
static gboolean
check_value (HearthFormSession *self, const char *type, const HearthFormControl *control, xmlNode *node,
             const char *value, char **normalised, char **message)
{
  *normalised = NULL;
  *message = NULL;
  if (strlen (value) > HEARTH_FORM_MAX_ANSWER)
    {
      *message = g_strdup_printf (_("the answer is longer than %d bytes"), HEARTH_FORM_MAX_ANSWER);
      return FALSE;
    }
  if (!g_utf8_validate (value, -1, NULL))
    {
      *message = g_strdup (_("the answer is not valid UTF-8"));
      return FALSE;
    }
  for (const char *p = value; *p != '\0'; p++)
    if (((guchar) *p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f)
      {
        *message = g_strdup_printf (_("the answer holds the control character U+%04X"), (guint) (guchar) *p);
        return FALSE;
      }
  if (value[0] == '\0')
    {
      *normalised = g_strdup ("");
      return TRUE;
    }
  if (control != NULL && (control->kind == HEARTH_CONTROL_SELECT1 || control->kind == HEARTH_CONTROL_SELECT))
    {
      g_autoptr(GPtrArray) choices = question_choices (self, control, node);
      g_auto(GStrv) names = g_strsplit_set (value, " \t\r\n", -1);
      g_autoptr(GPtrArray) kept = g_ptr_array_new ();

      for (guint i = 0; names[i] != NULL; i++)
        {
          gboolean known = FALSE;

          if (names[i][0] == '\0')
            continue;
          for (guint k = 0; k < choices->len && !known; k++)
            known = g_str_equal (((HearthFormChoiceItem *) choices->pdata[k])->value, names[i]);
          if (!known)
            {
              g_autoptr(GString) list = g_string_new (NULL);

              for (guint k = 0; k < choices->len && k < 12; k++)
                g_string_append_printf (list, "%s%s", k > 0 ? ", " : "",
                                        ((HearthFormChoiceItem *) choices->pdata[k])->value);
              if (choices->len > 12)
                g_string_append (list, ", …");
              *message = choices->len > 0
                ? g_strdup_printf (_("\"%s\" is not one of the choices (their names: %s)"), names[i], list->str)
                : g_strdup_printf (_("\"%s\" is not one of the choices (there are none now)"), names[i]);
              return FALSE;
            }
          if (control->kind == HEARTH_CONTROL_SELECT1 && kept->len > 0)
            {
              *message = g_strdup (_("only one choice may be selected"));
              return FALSE;
            }
          if (!g_ptr_array_find_with_equal_func (kept, names[i], g_str_equal, NULL))
            g_ptr_array_add (kept, names[i]);
        }
      if (control->kind == HEARTH_CONTROL_SELECT1 && kept->len > 1)
        {
          *message = g_strdup (_("only one choice may be selected"));
          return FALSE;
        }
      g_ptr_array_add (kept, NULL);
      *normalised = g_strjoinv (" ", (char **) kept->pdata);
      return TRUE;
    }
  if (g_strcmp0 (type, "int") == 0 || g_strcmp0 (type, "integer") == 0)
    {
      gint64 n;
      if (!matches ("^[-+]?[0-9]{1,10}$", value) || !g_ascii_string_to_signed (value, 10, G_MININT32, G_MAXINT32, &n, NULL))
        {
          *message = g_strdup (_("expected a whole number"));
          return FALSE;
        }
      *normalised = g_strdup_printf ("%" G_GINT64_FORMAT, n);
      return TRUE;
    }
  if (g_strcmp0 (type, "decimal") == 0)
    {
      double x;

      if (!matches ("^[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)$", value) || strlen (value) > 64 ||
          !isfinite (x = g_ascii_strtod (value, NULL)))
        {
          *message = g_strdup (_("expected a number"));
          return FALSE;
        }

      *normalised = hearth_xpath_number_to_string (x);
      return TRUE;
    }
  if (g_strcmp0 (type, "date") == 0)
    {
      gint64 days;
      if (strlen (value) != 10 || !hearth_xpath_parse_date (value, &days))
        {
          *message = g_strdup (_("expected a date as YYYY-MM-DD"));
          return FALSE;
        }
    }
  else if (g_strcmp0 (type, "time") == 0)
    {
      if (!matches ("^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,3})?)?(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?$",
                    value))
        {
          *message = g_strdup (_("expected a time as HH:MM:SS with an offset"));
          return FALSE;
        }
    }
  else if (g_strcmp0 (type, "dateTime") == 0)
    {
      g_autoptr(GDateTime) dt = NULL;
      if (!matches ("^[0-9]{4}-[0-9]{2}-[0-9]{2}T", value) || (dt = g_date_time_new_from_iso8601 (value, NULL)) == NULL)
        {
          *message = g_strdup (_("expected a date and time in ISO 8601 with an offset"));
          return FALSE;
        }
    }
  else if (g_strcmp0 (type, "geopoint") == 0)
    {
      if (!valid_geopoint (value))
        {
          *message = g_strdup (_("expected a location as \"latitude longitude [altitude [accuracy]]\""));
          return FALSE;
        }
    }
  else if (g_strcmp0 (type, "geotrace") == 0 || g_strcmp0 (type, "geoshape") == 0)
    {
      g_auto(GStrv) points = g_strsplit (value, ";", -1);
      guint n = 0;
      for (guint i = 0; points[i] != NULL; i++)
        {
          if (g_strstrip (points[i])[0] == '\0')
            continue;
          if (!valid_geopoint (points[i]))
            {
              *message = g_strdup_printf (_("point %u is not \"latitude longitude [altitude [accuracy]]\""), i + 1);
              return FALSE;
            }
          n++;
        }
      if (n < 2)
        {
          *message = g_strdup (_("expected at least two points separated by \";\""));
          return FALSE;
        }
    }
  else if (g_strcmp0 (type, "boolean") == 0)
    {
      if (!matches ("^(true|false|1|0)$", value))
        {
          *message = g_strdup (_("expected true or false"));
          return FALSE;
        }
    }
  else if (g_strcmp0 (type, "binary") == 0)
    {
      if (strchr (value, '/') != NULL || strchr (value, '\\') != NULL || g_str_equal (value, "..") ||
          g_str_equal (value, "."))
        {
          *message = g_strdup (_("expected a file name without a folder"));
          return FALSE;
        }
      if (self->media_dir != NULL)
        {
          g_autofree char *file = g_build_filename (self->media_dir, value, NULL);
          if (!g_file_test (file, G_FILE_TEST_IS_REGULAR))
            {
              *message = g_strdup_printf (_("the file %s is not in the media folder %s"), value, self->media_dir);
              return FALSE;
            }
        }
    }
  *normalised = g_strdup (value);
  return TRUE;
}

/* ---- paths ------------------------------------------------------------------------- */

/* The one element an instance path names: absolute, element names, and
 * positive whole-number predicates only. */
static xmlNode *
resolve_path (HearthFormSession *self, const char *path, GError **error)
{
  g_autoptr(HearthXPathExpr) e = hearth_xpath_parse (path, NULL);
  g_autoptr(HearthXValue) v = NULL;
  HearthXPathContext ctx = { .node = xmlDocGetRootElement (self->doc), .instances = self->instances };
  gboolean simple = e != NULL && e->kind == HEARTH_XPATH_PATH && e->filter == NULL && e->absolute &&
                    e->steps->len > 0;

  for (guint i = 0; simple && i < e->steps->len; i++)
    {
      const HearthXPathStep *st = e->steps->pdata[i];

      simple = st->axis == HEARTH_XPATH_AXIS_CHILD && st->test == HEARTH_XPATH_TEST_NAME &&
               strchr (st->name, '*') == NULL;
      for (guint p = 0; simple && st->predicates != NULL && p < st->predicates->len; p++)
        {
          const HearthXPathExpr *pred = st->predicates->pdata[p];
          simple = pred->kind == HEARTH_XPATH_NUMBER && pred->number >= 1 && pred->number == floor (pred->number);
        }
    }
  if (simple)
    v = hearth_xpath_evaluate (e, &ctx, NULL);
  if (v == NULL || v->type != HEARTH_XVALUE_NODESET || v->nodes->len != 1 ||
      ((xmlNode *) v->nodes->pdata[0])->type != XML_ELEMENT_NODE)
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_UNKNOWN_PATH,
                   _("%s is not a node of this form's instance"), path);
      return NULL;
    }
  return v->nodes->pdata[0];
}

static gboolean
node_relevant (HearthFormSession *self, xmlNode *n)
{
  for (xmlNode *a = n; a != NULL && a->type == XML_ELEMENT_NODE; a = a->parent)
    if (g_hash_table_contains (self->not_relevant, a))
      return FALSE;
  return TRUE;
}

gboolean
hearth_form_session_is_relevant (HearthFormSession *self, const char *path)
{
  xmlNode *n = resolve_path (self, path, NULL);

  return n != NULL && node_relevant (self, n);
}

char *
hearth_form_session_get_value (HearthFormSession *self, const char *path, GError **error)
{
  xmlNode *n = resolve_path (self, path, error);

  return n != NULL ? node_text (n) : NULL;
}

/* ---- answers ----------------------------------------------------------------------- */

static gboolean
take_eval_error (HearthFormSession *self, GError **error)
{
  if (self->eval_error == NULL)
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&self->eval_error));
  return FALSE;
}

gboolean
hearth_form_session_set_value (HearthFormSession *self, const char *path, const char *value, GError **error)
{
  xmlNode *n;
  g_autofree char *gp = NULL;
  g_autofree char *normalised = NULL;
  g_autofree char *message = NULL;
  g_autofree char *old = NULL;
  Binding *b;

  g_return_val_if_fail (HEARTH_IS_FORM_SESSION (self), FALSE);
  n = resolve_path (self, path, error);
  if (n == NULL)
    return FALSE;
  gp = generic_path (n);
  if (has_element_children (n) || g_hash_table_contains (self->repeats, gp))
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_UNKNOWN_PATH,
                   _("%s is a group, not a question"), path);
      return FALSE;
    }
  b = g_hash_table_lookup (self->bindings, gp);
  if (b != NULL && (b->calculate != NULL || evaluate_boolean (self, b->readonly, n, "readonly", FALSE)))
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_READONLY,
                   b->calculate != NULL ? _("%s is calculated by the form") : _("%s is read-only"), path);
      return FALSE;
    }
  if (!check_value (self, b != NULL ? b->type : "string", g_hash_table_lookup (self->controls, gp), n,
                    value != NULL ? value : "", &normalised, &message))
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_TYPE, "%s: %s", path, message);
      return FALSE;
    }
  if (b != NULL && g_strcmp0 (b->type, "decimal") == 0 && value != NULL && too_many_digits (value))
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_TYPE,
                   _("%s: the number has more than 15 significant digits"), path);
      return FALSE;
    }
  old = node_text (n);
  if (g_str_equal (old, normalised))
    return take_eval_error (self, error);
  set_text (n, normalised);
  mark_dependents (self, gp, n, FALSE);
  run_setvalues (self, "xforms-value-changed", gp, n);
  recalculate (self);
  return take_eval_error (self, error);
}

gboolean
hearth_form_session_set_choices (HearthFormSession *self, const char *path, const char * const *names,
                                 GError **error)
{
  g_autofree char *joined = g_strjoinv (" ", (char **) names);

  return hearth_form_session_set_value (self, path, joined, error);
}

/* The repeat control and the parent node of `/…/parent[i]/name`. */
static const HearthFormControl *
resolve_repeat (HearthFormSession *self, const char *repeat, xmlNode **parent, char **generic, GError **error)
{
  const char *slash = strrchr (repeat, '/');
  g_autofree char *parent_path = NULL;
  g_autofree char *gp = NULL;
  const HearthFormControl *c;

  if (slash == NULL || slash == repeat || slash[1] == '\0' || strchr (slash, '[') != NULL)
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_REPEAT,
                   _("%s does not name a repeat (write it without the index of its own instances)"), repeat);
      return NULL;
    }
  parent_path = g_strndup (repeat, (gsize) (slash - repeat));
  *parent = resolve_path (self, parent_path, error);
  if (*parent == NULL)
    return NULL;
  {
    g_autofree char *pgp = generic_path (*parent);
    gp = g_strdup_printf ("%s/%s", pgp, slash + 1);
  }
  c = g_hash_table_lookup (self->repeats, gp);
  if (c == NULL)
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_REPEAT,
                   _("%s is not a repeat of this form"), repeat);
      return NULL;
    }
  *generic = g_steal_pointer (&gp);
  return c;
}

gboolean
hearth_form_session_add_repeat (HearthFormSession *self, const char *repeat, guint *index, GError **error)
{
  xmlNode *parent = NULL, *inst;
  g_autofree char *gp = NULL;
  const HearthFormControl *c = resolve_repeat (self, repeat, &parent, &gp, error);
  guint have;

  if (c == NULL)
    return FALSE;
  if (c->jr_count != NULL || c->no_add_remove)
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_REPEAT,
                   c->jr_count != NULL ? _("%s: the form fixes the number of instances (jr:count)")
                                       : _("%s: the form does not let instances be added or removed"), repeat);
      return FALSE;
    }
  have = count_children (parent, strrchr (gp, '/') + 1);
  if (have >= HEARTH_FORM_MAX_REPEATS)
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_REPEAT,
                   _("%s already has %d instances, the most Hearth allows"), repeat, HEARTH_FORM_MAX_REPEATS);
      return FALSE;
    }
  if (self->n_instances >= HEARTH_FORM_MAX_INSTANCES)
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_REPEAT,
                   _("%s: the form already holds %d repeat instances, the most Hearth allows"), repeat,
                   HEARTH_FORM_MAX_INSTANCES);
      return FALSE;
    }
  inst = new_repeat_instance (self, gp, parent);
  if (inst == NULL)
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_REPEAT,
                   _("%s has no template in the form's instance"), repeat);
      return FALSE;
    }
  after_new_instance (self, gp, inst);
  recalculate (self);
  if (index != NULL)
    *index = have + 1;
  return take_eval_error (self, error);
}

gboolean
hearth_form_session_remove_repeat (HearthFormSession *self, const char *instance, GError **error)
{
  xmlNode *n = resolve_path (self, instance, error), *parent;
  g_autofree char *gp = NULL;
  const HearthFormControl *c;

  if (n == NULL)
    return FALSE;
  gp = generic_path (n);
  c = g_hash_table_lookup (self->repeats, gp);
  if (c == NULL || c->jr_count != NULL || c->no_add_remove)
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_REPEAT,
                   c == NULL ? _("%s is not a repeat instance") :
                   c->jr_count != NULL ? _("%s: the form fixes the number of instances (jr:count)")
                                       : _("%s: the form does not let instances be added or removed"), instance);
      return FALSE;
    }
  parent = n->parent;
  forget_subtree (self, n);
  self->n_instances -= MIN (self->n_instances, count_instances (self, n));
  xmlUnlinkNode (n);
  xmlFreeNode (n);
  mark_dependents (self, gp, parent, TRUE);
  recalculate (self);
  return take_eval_error (self, error);
}

int
hearth_form_session_count_repeat (HearthFormSession *self, const char *repeat, GError **error)
{
  xmlNode *parent = NULL;
  g_autofree char *gp = NULL;

  if (resolve_repeat (self, repeat, &parent, &gp, error) == NULL)
    return -1;
  return (int) count_children (parent, strrchr (gp, '/') + 1);
}

/* ---- pages ------------------------------------------------------------------------- */

void
hearth_form_page_free (HearthFormPage *page)
{
  if (page == NULL)
    return;
  g_free (page->label);
  g_free (page->path);
  g_free (page->repeat);
  g_ptr_array_unref (page->questions);
  g_free (page);
}

static void
question_free (gpointer data)
{
  HearthFormQuestion *q = data;

  g_free (q->path);
  g_free (q->label);
  g_free (q->hint);
  g_free (q->value);
  g_clear_pointer (&q->choices, g_ptr_array_unref);
  g_free (q);
}

static HearthFormPage *
page_new (HearthFormPageKind kind, char *label, char *path, const char *repeat)
{
  HearthFormPage *p = g_new0 (HearthFormPage, 1);

  p->kind = kind;
  p->label = label;
  p->path = path;
  p->repeat = g_strdup (repeat);
  p->questions = g_ptr_array_new_with_free_func (question_free);
  return p;
}

static HearthFormQuestion *
question_new (HearthFormSession *self, const HearthFormControl *c, xmlNode *n)
{
  HearthFormQuestion *q = g_new0 (HearthFormQuestion, 1);
  g_autofree char *gp = generic_path (n);
  Binding *b = g_hash_table_lookup (self->bindings, gp);

  q->path = indexed_path (self, n);
  q->control = c;
  q->type = b != NULL ? b->type : "string";
  q->label = render_text (self, c->label, n);
  q->hint = render_text (self, c->hint, n);
  q->value = node_text (n);
  q->required = b != NULL && evaluate_boolean (self, b->required, n, "required", FALSE);
  q->readonly = b != NULL && (b->calculate != NULL || evaluate_boolean (self, b->readonly, n, "readonly", FALSE));
  if (c->kind == HEARTH_CONTROL_SELECT1 || c->kind == HEARTH_CONTROL_SELECT)
    q->choices = question_choices (self, c, n);
  return q;
}

/* The nodes a control's ref names from @context. */
static GPtrArray *
control_nodes (HearthFormSession *self, const HearthFormControl *c, xmlNode *context)
{
  const HearthXPathExpr *e = c->ref != NULL ? cached_expr (self, c->ref) : NULL;
  g_autoptr(HearthXValue) v = NULL;
  GPtrArray *out = g_ptr_array_new ();

  if (e == NULL)
    return out;
  v = evaluate_noted (self, e, context, "ref");
  for (guint i = 0; v != NULL && v->type == HEARTH_XVALUE_NODESET && i < v->nodes->len; i++)
    if (((xmlNode *) v->nodes->pdata[i])->type == XML_ELEMENT_NODE)
      g_ptr_array_add (out, v->nodes->pdata[i]);
  return out;
}

static gboolean
is_field_list (const HearthFormControl *c)
{
  return c->appearance != NULL && strstr (c->appearance, "field-list") != NULL;
}

static void
walk_pages (HearthFormSession *self, const HearthFormControl *group, xmlNode *context, const char *repeat,
            HearthFormPage *field_list, GPtrArray *pages)
{
  for (guint i = 0; group->children != NULL && i < group->children->len; i++)
    {
      const HearthFormControl *c = group->children->pdata[i];
      g_autoptr(GPtrArray) nodes = control_nodes (self, c, context);
      xmlNode *n = nodes->len > 0 ? nodes->pdata[0] : NULL;

      if (c->kind == HEARTH_CONTROL_GROUP)
        {
          g_autofree char *gp = c->ref != NULL ? simple_path (c->ref) : NULL;

          /* A group around a repeat of the same ref (as XLSForm writes
           * them) stands for the repeat: its instances are below. */
          if (gp != NULL && g_hash_table_contains (self->repeats, gp))
            {
              walk_pages (self, c, context, repeat, field_list, pages);
              continue;
            }
          if (c->ref != NULL && (n == NULL || !node_relevant (self, n)))
            continue;
          if (is_field_list (c) && field_list == NULL)
            {
              HearthFormPage *page = page_new (HEARTH_FORM_PAGE_QUESTIONS, render_text (self, c->label, n != NULL ? n : context),
                                               n != NULL ? indexed_path (self, n) : NULL, repeat);
              walk_pages (self, c, n != NULL ? n : context, repeat, page, pages);
              if (page->questions->len > 0)
                g_ptr_array_add (pages, page);
              else
                hearth_form_page_free (page);
            }
          else
            walk_pages (self, c, n != NULL ? n : context, repeat, field_list, pages);
        }
      else if (c->kind == HEARTH_CONTROL_REPEAT)
        {
          g_autofree char *gp = c->ref != NULL ? simple_path (c->ref) : NULL;
          xmlNode *parent = NULL;

          for (guint k = 0; k < nodes->len; k++)
            {
              xmlNode *inst = nodes->pdata[k];

              if (!node_relevant (self, inst))
                continue;
              /* A field-list repeat shows each instance as one page
               * (ODK Collect's way), labelled as the repeat, or as the
               * group of the same ref around it. */
              if (is_field_list (c) && field_list == NULL)
                {
                  g_autofree char *group_gp = group->ref != NULL ? simple_path (group->ref) : NULL;
                  const HearthFormText *label = c->label != NULL ? c->label
                                                : g_strcmp0 (group_gp, gp) == 0 ? group->label : NULL;
                  HearthFormPage *page = page_new (HEARTH_FORM_PAGE_QUESTIONS, render_text (self, label, inst),
                                                   indexed_path (self, inst), gp);

                  walk_pages (self, c, inst, gp, page, pages);
                  if (page->questions->len > 0)
                    g_ptr_array_add (pages, page);
                  else
                    hearth_form_page_free (page);
                }
              else
                walk_pages (self, c, inst, gp, field_list, pages);
            }
          if (c->jr_count != NULL || c->no_add_remove || field_list != NULL || gp == NULL)
            continue;
          /* The node a new instance would go under. */
          {
            g_autofree char *parent_gp = g_strndup (gp, (gsize) (strrchr (gp, '/') - gp));
            for (xmlNode *a = context; a != NULL && a->type == XML_ELEMENT_NODE && parent == NULL; a = a->parent)
              {
                g_autofree char *agp = generic_path (a);
                if (g_str_equal (agp, parent_gp))
                  parent = a;
              }
            if (parent == NULL)
              {
                g_autoptr(GPtrArray) ps = nodes_at (self->doc, parent_gp);
                parent = ps->len > 0 ? ps->pdata[0] : NULL;
              }
          }
          if (parent != NULL && node_relevant (self, parent))
            {
              HearthFormPage *prompt = page_new (HEARTH_FORM_PAGE_REPEAT_PROMPT,
                                                 render_text (self, c->label, parent),
                                                 indexed_path (self, parent), gp);
              prompt->repeat_count = count_children (parent, strrchr (gp, '/') + 1);
              g_ptr_array_add (pages, prompt);
            }
        }
      else
        {
          HearthFormQuestion *q;

          if (n == NULL || !node_relevant (self, n))
            continue;
          q = question_new (self, c, n);
          if (field_list != NULL)
            g_ptr_array_add (field_list->questions, q);
          else
            {
              HearthFormPage *page = page_new (HEARTH_FORM_PAGE_QUESTIONS, NULL, g_strdup (q->path), repeat);
              g_ptr_array_add (page->questions, q);
              g_ptr_array_add (pages, page);
            }
        }
    }
}

GPtrArray *
hearth_form_session_pages (HearthFormSession *self)
{
  GPtrArray *pages = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_form_page_free);

  g_return_val_if_fail (HEARTH_IS_FORM_SESSION (self), pages);
  walk_pages (self, self->form->body, xmlDocGetRootElement (self->doc), NULL, NULL, pages);
  g_clear_error (&self->eval_error);
  return pages;
}

/* ---- validation -------------------------------------------------------------------- */

void
hearth_form_issue_free (HearthFormIssue *issue)
{
  if (issue == NULL)
    return;
  g_free (issue->path);
  g_free (issue->kind);
  g_free (issue->message);
  g_free (issue);
}

static void
add_issue (HearthFormSession *self, GPtrArray *issues, xmlNode *n, const char *kind, char *message)
{
  HearthFormIssue *issue = g_new0 (HearthFormIssue, 1);

  issue->path = indexed_path (self, n);
  issue->kind = g_strdup (kind);
  issue->message = message;
  g_ptr_array_add (issues, issue);
}

static void
validate_node (HearthFormSession *self, xmlNode *n, GPtrArray *issues)
{
  g_autofree char *gp = generic_path (n);
  Binding *b = g_hash_table_lookup (self->bindings, gp);
  g_autofree char *value = NULL;
  g_autofree char *normalised = NULL;
  g_autofree char *message = NULL;

  /* Only questions are validated, as ODK Collect does: a node no control
   * shows cannot be corrected by the person filling the form. */
  if (b == NULL || !g_hash_table_contains (self->controls, gp))
    return;
  value = node_text (n);
  if (value[0] == '\0')
    {
      if (evaluate_boolean (self, b->required, n, "required", FALSE))
        {
          char *m = render_message (self, b->required_msg, n);
          add_issue (self, issues, n, "required", m != NULL ? m : g_strdup (_("This question requires an answer.")));
        }
      return;
    }
  /* Calculated values are the form's own: only what people enter is typed. */
  if (b->calculate == NULL &&
      !check_value (self, b->type, g_hash_table_lookup (self->controls, gp), n, value, &normalised, &message))
    {
      add_issue (self, issues, n, "type", g_steal_pointer (&message));
      return;
    }
  if (b->constraint != NULL)
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(HearthXValue) v = evaluate (self, b->constraint, n, NULL, "constraint", &local);

      /* A constraint that cannot be evaluated for this answer (too costly,
       * say) refuses the answer rather than the whole form. */
      if (v == NULL)
        add_issue (self, issues, n, "constraint", g_strdup (local->message));
      else if (!hearth_xvalue_to_boolean (v))
        {
          char *m = render_message (self, b->constraint_msg, n);
          add_issue (self, issues, n, "constraint", m != NULL ? m : g_strdup (_("This answer is not allowed.")));
        }
    }
}

static void
validate_tree (HearthFormSession *self, xmlNode *n, GPtrArray *issues)
{
  if (g_hash_table_contains (self->not_relevant, n))
    return;
  if (!has_element_children (n))
    {
      validate_node (self, n, issues);
      return;
    }
  for (xmlNode *c = n->children; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      validate_tree (self, c, issues);
}

GPtrArray *
hearth_form_session_validate (HearthFormSession *self, const char *path)
{
  GPtrArray *issues = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_form_issue_free);

  g_return_val_if_fail (HEARTH_IS_FORM_SESSION (self), issues);
  if (path != NULL)
    {
      xmlNode *n = resolve_path (self, path, NULL);
      if (n != NULL && node_relevant (self, n))
        validate_tree (self, n, issues);
    }
  else
    validate_tree (self, xmlDocGetRootElement (self->doc), issues);
  return issues;
}

/* ---- serialising ------------------------------------------------------------------- */

static char *
dump (xmlDoc *doc)
{
  xmlChar *buf = NULL;
  int len = 0;
  char *out;

  xmlDocDumpMemoryEnc (doc, &buf, &len, "UTF-8");
  out = g_strndup ((const char *) buf, (gsize) len);
  xmlFree (buf);
  return out;
}

char *
hearth_form_session_save_draft (HearthFormSession *self)
{
  g_return_val_if_fail (HEARTH_IS_FORM_SESSION (self), NULL);
  return dump (self->doc);
}

/* Drops from @copy the nodes that are not relevant in @orig (the same
 * shape). */
static void
prune (HearthFormSession *self, xmlNode *orig, xmlNode *copy)
{
  xmlNode *o = orig->children, *c = copy->children;

  while (o != NULL && c != NULL)
    {
      xmlNode *next_o = o->next, *next_c = c->next;

      if (o->type == XML_ELEMENT_NODE)
        {
          if (g_hash_table_contains (self->not_relevant, o))
            {
              xmlUnlinkNode (c);
              xmlFreeNode (c);
            }
          else
            prune (self, o, c);
        }
      o = next_o;
      c = next_c;
    }
}

char *
hearth_form_session_finalise (HearthFormSession *self, GPtrArray **issues, GError **error)
{
  g_autoptr(GPtrArray) found = NULL;
  xmlDoc *copy;
  char *out;

  g_return_val_if_fail (HEARTH_IS_FORM_SESSION (self), NULL);
  if (issues != NULL)
    *issues = NULL;
  fill_preloads (self, "end");
  recalculate (self);
  if (!take_eval_error (self, error))
    return NULL;
  found = hearth_form_session_validate (self, NULL);
  if (!take_eval_error (self, error))
    return NULL;
  if (found->len > 0)
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_INVALID,
                   g_dngettext (GETTEXT_PACKAGE, "%u answer needs attention", "%u answers need attention",
                                found->len), found->len);
      if (issues != NULL)
        *issues = g_steal_pointer (&found);
      return NULL;
    }
  copy = xmlCopyDoc (self->doc, 1);
  prune (self, xmlDocGetRootElement (self->doc), xmlDocGetRootElement (copy));
  out = dump (copy);
  xmlFreeDoc (copy);
  return out;
}

const char *
hearth_form_session_get_instance_id (HearthFormSession *self)
{
  return self->instance_id != NULL ? self->instance_id : "";
}

guint64
hearth_form_session_get_evaluations (HearthFormSession *self)
{
  return self->evaluations;
}

const HearthForm *
hearth_form_session_get_form (HearthFormSession *self)
{
  return self->form;
}

gboolean
hearth_form_session_set_language (HearthFormSession *self, const char *language, GError **error)
{
  const char *found = hearth_form_find_language (self->form, language);

  if (found == NULL)
    {
      g_autofree char *known = NULL;

      g_ptr_array_add (self->form->languages, NULL);
      known = g_strjoinv (", ", (char **) self->form->languages->pdata);
      g_ptr_array_remove_index (self->form->languages, self->form->languages->len - 1);
      g_set_error (error, HEARTH_FORM_ERROR, HEARTH_FORM_ERROR_INVALID,
                   _("the form has no language \"%s\" (it has: %s)"), language,
                   known[0] != '\0' ? known : _("none"));
      return FALSE;
    }
  g_free (self->language);
  self->language = g_strdup (found);
  return TRUE;
}

const char *
hearth_form_session_get_language (HearthFormSession *self)
{
  return self->language;
}

/* ---- construction ------------------------------------------------------------------ */

static void
hearth_form_session_finalize (GObject *object)
{
  HearthFormSession *self = HEARTH_FORM_SESSION (object);

  if (self->doc != NULL)
    xmlFreeDoc (self->doc);
  g_clear_pointer (&self->instances, g_hash_table_unref);
  g_clear_pointer (&self->overrides, g_hash_table_unref);
  g_clear_pointer (&self->dependents, g_hash_table_unref);
  g_clear_pointer (&self->members_dependents, g_hash_table_unref);
  g_clear_pointer (&self->calc_order, g_ptr_array_unref);
  g_clear_pointer (&self->relevant_binds, g_ptr_array_unref);
  g_clear_pointer (&self->binding_list, g_ptr_array_unref);
  g_clear_pointer (&self->bindings, g_hash_table_unref);
  g_clear_pointer (&self->controls, g_hash_table_unref);
  g_clear_pointer (&self->repeats, g_hash_table_unref);
  g_clear_pointer (&self->counts, g_ptr_array_unref);
  g_clear_pointer (&self->exprs, g_hash_table_unref);
  g_clear_pointer (&self->not_relevant, g_hash_table_unref);
  g_clear_pointer (&self->form, hearth_form_free);
  g_free (self->language);
  g_free (self->now);
  g_free (self->today);
  g_free (self->device_id);
  g_free (self->username);
  g_free (self->media_dir);
  g_free (self->instance_id);
  g_clear_error (&self->eval_error);
  G_OBJECT_CLASS (hearth_form_session_parent_class)->finalize (object);
}

static void
hearth_form_session_class_init (HearthFormSessionClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hearth_form_session_finalize;
}

static void
hearth_form_session_init (HearthFormSession *self)
{
  self->bindings = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, binding_free);
  self->binding_list = g_ptr_array_new ();
  self->calc_order = g_ptr_array_new ();
  self->relevant_binds = g_ptr_array_new ();
  self->dependents = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  self->members_dependents = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                    (GDestroyNotify) g_ptr_array_unref);
  self->controls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->repeats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->counts = g_ptr_array_new_with_free_func (count_rule_free);
  self->exprs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) hearth_xpath_expr_free);
  self->not_relevant = g_hash_table_new (NULL, NULL);
  self->instances = g_hash_table_new (g_str_hash, g_str_equal);
  self->overrides = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) xmlFreeDoc);
}

/* What both constructors share: options, the graph, the secondary
 * instances. */
static HearthFormSession *
session_prepare (HearthForm *form, const HearthFormSessionOptions *options, GError **error)
{
  g_autoptr(HearthFormSession) self = g_object_new (HEARTH_TYPE_FORM_SESSION, NULL);
  GHashTableIter it;
  const char *id;
  xmlDoc *doc;

  self->form = form;
  if (options != NULL && options->now != NULL)
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601 (options->now, NULL);
      if (dt == NULL)
        {
          g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_TYPE,
                       _("the time %s is not an ISO 8601 date and time with an offset"), options->now);
          return NULL;
        }
      self->now = g_strdup (options->now);
      self->today = g_strndup (options->now, 10);  /* the calendar date as written */
    }
  if (options != NULL)
    {
      self->device_id = g_strdup (options->device_id);
      self->username = g_strdup (options->username);
      self->media_dir = g_strdup (options->media_dir);
    }
  if (options != NULL && options->language != NULL)
    {
      if (!hearth_form_session_set_language (self, options->language, error))
        return NULL;
    }
  else
    self->language = g_strdup (form->default_language != NULL ? form->default_language :
                               form->languages->len > 0 ? form->languages->pdata[0] : NULL);
  g_hash_table_iter_init (&it, form->instances);
  while (g_hash_table_iter_next (&it, (gpointer *) &id, (gpointer *) &doc))
    g_hash_table_insert (self->instances, (gpointer) id, doc);
  if (options != NULL && options->instances != NULL)
    {
      g_hash_table_iter_init (&it, options->instances);
      while (g_hash_table_iter_next (&it, (gpointer *) &id, (gpointer *) &doc))
        {
          xmlDoc *copy = xmlCopyDoc (doc, 1);
          char *key = g_strdup (id);

          g_hash_table_insert (self->overrides, key, copy);
          g_hash_table_insert (self->instances, key, copy);
        }
    }
  if (!read_binds (self, error))
    return NULL;
  read_controls (self, form->body, NULL);
  {
    GHashTableIter rit;
    const char *rpath;
    const HearthFormControl *rc;

    g_hash_table_iter_init (&rit, self->repeats);
    while (g_hash_table_iter_next (&rit, (gpointer *) &rpath, (gpointer *) &rc))
      if (rc->jr_count != NULL)
        {
          CountRule *rule = g_new0 (CountRule, 1);
          g_autoptr(GPtrArray) context = split_path (rpath);

          Refs refs = { NULL, NULL, NULL };

          g_ptr_array_remove_index (context, context->len - 1);
          rule->path = g_strdup (rpath);
          rule->control = rc;
          rule->refs = refs_new ();
          refs.values = rule->refs;
          refs.current = context;
          collect_refs (rc->jr_count, context, context->len, &refs, FALSE);
          g_ptr_array_add (self->counts, rule);
        }
  }
  if (!build_graph (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

HearthFormSession *
hearth_form_session_new (HearthForm *form, const HearthFormSessionOptions *options, GError **error)
{
  g_autoptr(HearthFormSession) self = NULL;
  xmlNode *id_node;

  g_return_val_if_fail (form != NULL, NULL);
  self = session_prepare (form, options, error);
  if (self == NULL)
    return NULL;  /* the form went with the session */
  self->doc = xmlCopyDoc (form->primary, 1);
  tidy (xmlDocGetRootElement (self->doc));
  self->n_instances = count_instances (self, xmlDocGetRootElement (self->doc));
  self->instance_id = normalise_instance_id (options != NULL ? options->instance_id : NULL);
  id_node = meta_child (self->doc, "instanceID", FALSE);
  if (id_node != NULL)
    set_text (id_node, self->instance_id);
  fill_preloads (self, "start");
  run_setvalues (self, "odk-instance-first-load", NULL, NULL);
  run_setvalues (self, "odk-instance-load", NULL, NULL);
  recalculate_all (self);
  if (!take_eval_error (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

/* A draft begun with another version of the form (the county published a
 * new one, or the app's bundled form changed): the elements the form has
 * and the draft lacks, a question the new version added, are added where
 * the form has them, as the form leaves them (blank or its default), so
 * that they can be answered and finalised; what the draft has beyond the
 * form is kept, nothing answered is lost. Repeats keep the instances the
 * draft has; a leaf the draft answered is left as it is. */
static void
conform (HearthFormSession *self, xmlNode *draft, xmlNode *proto)
{
  g_autofree char *gp = generic_path (draft);
  xmlNode *prev = NULL;   /* the draft's last child matched so far */

  for (xmlNode *p = proto->children; p != NULL; p = p->next)
    {
      xmlNode *model = p, *last = NULL, *copy;
      gboolean seen = FALSE;

      if (p->type != XML_ELEMENT_NODE)
        continue;
      /* Each name once: a repeat's template, else its first element. */
      for (xmlNode *q = proto->children; q != p && !seen; q = q->next)
        seen = q->type == XML_ELEMENT_NODE && xmlStrEqual (q->name, p->name);
      if (seen)
        continue;
      for (xmlNode *q = p->next; q != NULL; q = q->next)
        if (q->type == XML_ELEMENT_NODE && xmlStrEqual (q->name, p->name) && is_template (q))
          model = q;
      for (xmlNode *c = draft->children; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual (c->name, p->name))
          {
            g_autofree char *text = has_element_children (c) ? NULL : node_text (c);

            if (has_element_children (model) && (text == NULL || text[0] == '\0'))
              conform (self, c, model);
            last = c;
          }
      if (last != NULL)
        {
          prev = last;
          continue;
        }
      {
        g_autofree char *child_gp = g_strdup_printf ("%s/%s", gp, (const char *) p->name);

        if (is_template (model) || g_hash_table_contains (self->repeats, child_gp))
          continue;
      }
      copy = xmlDocCopyNode (model, self->doc, 1);
      tidy (copy);
      if (prev != NULL)
        xmlAddNextSibling (prev, copy);
      else if (draft->children != NULL)
        xmlAddPrevSibling (draft->children, copy);
      else
        xmlAddChild (draft, copy);
      drop_redundant_ns (copy);
      prev = copy;
    }
}

HearthFormSession *
hearth_form_session_new_from_draft (HearthForm *form, const char *xml, gssize len, gboolean edit_finalised,
                                    const HearthFormSessionOptions *options, GError **error)
{
  g_autoptr(HearthFormSession) self = NULL;
  xmlNode *root, *form_root, *id_node;
  g_autofree char *draft_id = NULL;
  gsize n = len < 0 ? strlen (xml) : (gsize) len;

  g_return_val_if_fail (form != NULL, NULL);
  self = session_prepare (form, options, error);
  if (self == NULL)
    return NULL;  /* the form went with the session */
  if (n > HEARTH_FORM_MAX_BYTES)
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_DRAFT,
                   _("the draft is larger than %d bytes"), HEARTH_FORM_MAX_BYTES);
      return NULL;
    }
  self->doc = xmlReadMemory (xml, (int) n, "draft.xml", "UTF-8", XML_PARSE_NONET | XML_PARSE_NOERROR |
                             XML_PARSE_NOWARNING);
  if (self->doc == NULL || xmlDocGetRootElement (self->doc) == NULL)
    {
      const xmlError *xe = xmlGetLastError ();
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_DRAFT,
                   _("the draft is not well-formed XML (line %d)"), xe != NULL ? xe->line : 0);
      return NULL;
    }
  /* A submission from another tablet comes here unparsed by the sync:
   * entities would make the text read other than the text sent. */
  if (self->doc->intSubset != NULL || self->doc->extSubset != NULL)
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_DRAFT,
                   _("the draft has a DOCTYPE, which is not allowed (its entities would change the text)"));
      return NULL;
    }
  root = xmlDocGetRootElement (self->doc);
  form_root = xmlDocGetRootElement (form->primary);
  {
    xmlChar *id = xmlGetProp (root, (const xmlChar *) "id");
    draft_id = g_strdup ((const char *) id);
    xmlFree (id);
  }
  if (!xmlStrEqual (root->name, form_root->name) || g_strcmp0 (draft_id, form->form_id) != 0)
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_DRAFT,
                   _("the draft belongs to form \"%s\", not to \"%s\""), draft_id != NULL ? draft_id : (const char *) root->name,
                   form->form_id != NULL ? form->form_id : (const char *) form_root->name);
      return NULL;
    }
  tidy (root);
  conform (self, root, form_root);
  {
    xmlChar *version = xmlGetProp (form_root, (const xmlChar *) "version");

    /* The submission is made with this form: it carries its version. */
    if (version != NULL)
      xmlSetProp (root, (const xmlChar *) "version", version);
    xmlFree (version);
  }
  self->n_instances = count_instances (self, root);
  if (self->n_instances > HEARTH_FORM_MAX_INSTANCES)
    {
      g_set_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_DRAFT,
                   _("the draft holds more than %d repeat instances"), HEARTH_FORM_MAX_INSTANCES);
      return NULL;
    }
  id_node = meta_child (self->doc, "instanceID", FALSE);
  if (edit_finalised)
    {
      g_autofree char *old = id_node != NULL ? node_text (id_node) : NULL;
      xmlNode *deprecated = meta_child (self->doc, "deprecatedID", old != NULL && old[0] != '\0');

      if (deprecated != NULL)
        set_text (deprecated, old);
      self->instance_id = normalise_instance_id (options != NULL ? options->instance_id : NULL);
      if (id_node != NULL)
        set_text (id_node, self->instance_id);
    }
  else
    {
      g_autofree char *old = id_node != NULL ? node_text (id_node) : NULL;
      self->instance_id = old != NULL && old[0] != '\0' ? g_steal_pointer (&old)
                                                        : normalise_instance_id (NULL);
      if (id_node != NULL)
        set_text (id_node, self->instance_id);
    }
  run_setvalues (self, "odk-instance-load", NULL, NULL);
  recalculate_all (self);
  if (!take_eval_error (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * form-model.c: loading an ODK XForm into HearthForm (form-model.h).
 * Elements are recognised by namespace and local name, whatever prefix a
 * form gives them (some write xf:bind, most the default namespace).
 */
#define G_LOG_DOMAIN "hearth-forms"

#include "form-model.h"
#include "xpath-eval.h"
#include "csv.h"

#include <glib/gi18n.h>
#include <libxml/parser.h>
#include <string.h>

#define NS_XFORMS "http://www.w3.org/2002/xforms"
#define NS_XHTML "http://www.w3.org/1999/xhtml"

G_DEFINE_QUARK (hearth-form-error-quark, hearth_form_error)

typedef struct {
  const char *path;
  const char *media_dir;
  HearthForm *form;
  GError **error;
  GPtrArray *instance_refs;  /* (element-type InstanceRef) instance('id') calls */
} Loader;

/* An instance('id') call, checked against the declared instances once the
 * whole form is read. */
typedef struct {
  char *id;
  guint line;
  char *element;
} InstanceRef;

static void
instance_ref_free (gpointer data)
{
  InstanceRef *r = data;

  g_free (r->id);
  g_free (r->element);
  g_free (r);
}

G_GNUC_PRINTF (4, 5)
static gboolean
fail (Loader *ld, int code, xmlNode *node, const char *fmt, ...)
{
  g_autofree char *what = NULL;
  va_list ap;

  va_start (ap, fmt);
  what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (ld->error != NULL && *ld->error == NULL)
    {
      if (node != NULL)
        g_set_error (ld->error, HEARTH_FORM_ERROR, code, _("%s, line %ld, <%s>: %s"),
                     ld->path, (long) xmlGetLineNo (node), (const char *) node->name, what);
      else
        g_set_error (ld->error, HEARTH_FORM_ERROR, code, _("%s: %s"), ld->path, what);
    }
  return FALSE;
}

static gboolean
is_el (xmlNode *n, const char *ns, const char *name)
{
  return n != NULL && n->type == XML_ELEMENT_NODE && g_strcmp0 ((const char *) n->name, name) == 0 &&
         (ns == NULL || (n->ns != NULL && g_strcmp0 ((const char *) n->ns->href, ns) == 0));
}

static xmlNode *
child_el (xmlNode *parent, const char *ns, const char *name)
{
  for (xmlNode *c = parent != NULL ? parent->children : NULL; c != NULL; c = c->next)
    if (is_el (c, ns, name))
      return c;
  return NULL;
}

/* An attribute by local name, whatever its namespace (jr:, odk:, none). */
static char *
attr (xmlNode *n, const char *name)
{
  for (xmlAttr *a = n->properties; a != NULL; a = a->next)
    if (g_strcmp0 ((const char *) a->name, name) == 0)
      {
        xmlChar *v = xmlNodeListGetString (n->doc, a->children, 1);
        char *s = g_strdup (v != NULL ? (const char *) v : "");
        xmlFree (v);
        return s;
      }
  return NULL;
}

static xmlDoc *
doc_from_element (xmlNode *el)
{
  xmlDoc *doc = xmlNewDoc ((const xmlChar *) "1.0");
  xmlNode *copy = xmlDocCopyNode (el, doc, 1);

  xmlDocSetRootElement (doc, copy);
  return doc;
}

static void
free_bind (gpointer data)
{
  HearthFormBind *b = data;

  g_free (b->nodeset);
  g_free (b->type);
  hearth_xpath_expr_free (b->relevant);
  hearth_xpath_expr_free (b->constraint);
  hearth_xpath_expr_free (b->calculate);
  hearth_xpath_expr_free (b->required);
  hearth_xpath_expr_free (b->readonly);
  g_free (b->constraint_msg);
  g_free (b->required_msg);
  g_free (b->preload);
  g_free (b->preload_params);
  g_free (b->saveto);
  g_free (b);
}

static void
free_text_part (gpointer data)
{
  HearthFormTextPart *p = data;

  g_free (p->text);
  hearth_xpath_expr_free (p->output);
  g_free (p);
}

static void
free_text (gpointer data)
{
  HearthFormText *t = data;

  if (t == NULL)
    return;
  g_free (t->itext_id);
  hearth_xpath_expr_free (t->ref);
  g_clear_pointer (&t->parts, g_ptr_array_unref);
  g_free (t);
}

static void
free_choice (gpointer data)
{
  HearthFormChoice *c = data;

  g_free (c->value);
  free_text (c->label);
  g_free (c);
}

static void
free_setvalue (gpointer data)
{
  HearthFormSetvalue *sv = data;

  g_free (sv->event);
  g_free (sv->ref);
  hearth_xpath_expr_free (sv->value);
  g_free (sv->literal);
  g_free (sv->control_ref);
  g_free (sv);
}

static void
free_control (gpointer data)
{
  HearthFormControl *c = data;

  if (c == NULL)
    return;
  g_free (c->ref);
  g_free (c->appearance);
  free_text (c->label);
  free_text (c->hint);
  g_clear_pointer (&c->items, g_ptr_array_unref);
  hearth_xpath_expr_free (c->itemset);
  hearth_xpath_expr_free (c->itemset_value);
  hearth_xpath_expr_free (c->itemset_label);
  g_free (c->mediatype);
  hearth_xpath_expr_free (c->jr_count);
  g_clear_pointer (&c->children, g_ptr_array_unref);
  g_free (c);
}

void
hearth_form_free (HearthForm *f)
{
  if (f == NULL)
    return;
  g_free (f->path);
  g_free (f->title);
  g_free (f->form_id);
  g_free (f->version);
  if (f->primary != NULL)
    xmlFreeDoc (f->primary);
  g_clear_pointer (&f->instances, g_hash_table_unref);
  g_clear_pointer (&f->binds, g_ptr_array_unref);
  free_control (f->body);
  g_clear_pointer (&f->languages, g_ptr_array_unref);
  g_free (f->default_language);
  g_clear_pointer (&f->itext, g_hash_table_unref);
  g_clear_pointer (&f->setvalues, g_ptr_array_unref);
  g_clear_pointer (&f->unresolved, g_ptr_array_unref);
  g_free (f);
}

const char *
hearth_form_find_language (const HearthForm *form, const char *wanted)
{
  for (guint i = 0; i < form->languages->len; i++)
    {
      const char *lang = g_ptr_array_index (form->languages, i);
      const char *open = strrchr (lang, '(');
      gsize n = strlen (wanted);

      if (g_str_equal (lang, wanted))
        return lang;
      /* ODK's "Name (code)" convention: the code alone names it too, and so
       * does the name alone; codes in any case. */
      if (open != NULL && g_ascii_strncasecmp (open + 1, wanted, n) == 0 && g_str_equal (open + 1 + n, ")"))
        return lang;
      if (open != NULL && open > lang && open[-1] == ' ' && (gsize) (open - 1 - lang) == n &&
          g_ascii_strncasecmp (lang, wanted, n) == 0)
        return lang;
    }
  return NULL;
}

const HearthFormText *
hearth_form_itext (const HearthForm *form, const char *language, const char *id)
{
  const HearthFormText *t = NULL;

  if (language != NULL)
    {
      g_autofree char *key = g_strdup_printf ("%s\x1f%s", language, id);
      t = g_hash_table_lookup (form->itext, key);
    }
  if (t == NULL && form->default_language != NULL)
    {
      g_autofree char *key = g_strdup_printf ("%s\x1f%s", form->default_language, id);
      t = g_hash_table_lookup (form->itext, key);
    }
  for (guint i = 0; t == NULL && i < form->languages->len; i++)
    {
      g_autofree char *key = g_strdup_printf ("%s\x1f%s", (char *) form->languages->pdata[i], id);
      t = g_hash_table_lookup (form->itext, key);
    }
  return t;
}

/* Refuses a function the evaluator lacks (CHT's difference-in-months(),
 * a typo) at load, where the author can see the line, rather than when
 * the expression first runs; notes instance('id') calls. */
static gboolean
check_expr (Loader *ld, xmlNode *n, const char *name, const HearthXPathExpr *e)
{
  if (e == NULL)
    return TRUE;
  if (e->kind == HEARTH_XPATH_FUNCTION)
    {
      if (!hearth_xpath_function_known (e->text))
        return fail (ld, HEARTH_FORM_ERROR_UNSUPPORTED, n,
                     _("attribute %s: the function %s() is not in the ODK XForms function library (column %u)"),
                     name, e->text, e->column);
      if (g_str_equal (e->text, "instance") && e->args->len == 1 &&
          ((HearthXPathExpr *) e->args->pdata[0])->kind == HEARTH_XPATH_STRING)
        {
          InstanceRef *r = g_new0 (InstanceRef, 1);
          r->id = g_strdup (((HearthXPathExpr *) e->args->pdata[0])->text);
          r->line = (guint) xmlGetLineNo (n);
          r->element = g_strdup ((const char *) n->name);
          g_ptr_array_add (ld->instance_refs, r);
        }
    }
  for (guint i = 0; e->args != NULL && i < e->args->len; i++)
    if (!check_expr (ld, n, name, e->args->pdata[i]))
      return FALSE;
  if (!check_expr (ld, n, name, e->filter))
    return FALSE;
  for (guint i = 0; e->filter_predicates != NULL && i < e->filter_predicates->len; i++)
    if (!check_expr (ld, n, name, e->filter_predicates->pdata[i]))
      return FALSE;
  for (guint s = 0; e->steps != NULL && s < e->steps->len; s++)
    {
      const HearthXPathStep *st = e->steps->pdata[s];
      for (guint p = 0; st->predicates != NULL && p < st->predicates->len; p++)
        if (!check_expr (ld, n, name, st->predicates->pdata[p]))
          return FALSE;
    }
  return TRUE;
}

/* Parses the expression in attribute @name of @n, if present. */
static gboolean
parse_attr_expr (Loader *ld, xmlNode *n, const char *name, HearthXPathExpr **out)
{
  g_autofree char *text = attr (n, name);
  g_autoptr(GError) local = NULL;

  *out = NULL;
  if (text == NULL)
    return TRUE;
  *out = hearth_xpath_parse (text, &local);
  if (*out == NULL)
    return fail (ld, HEARTH_FORM_ERROR_INVALID, n, _("attribute %s: %s"), name, local->message);
  if (!check_expr (ld, n, name, *out))
    {
      g_clear_pointer (out, hearth_xpath_expr_free);
      return FALSE;
    }
  return TRUE;
}

/* The literal parts of @el: its text, with <output value="…"/> kept as
 * expressions. Other markup inside a label (XHTML spans) counts as text. */
static gboolean
parse_text_parts (Loader *ld, xmlNode *el, GPtrArray *parts)
{
  for (xmlNode *c = el->children; c != NULL; c = c->next)
    {
      HearthFormTextPart *p;

      if (is_el (c, NS_XFORMS, "output"))
        {
          HearthXPathExpr *e = NULL;

          if (!parse_attr_expr (ld, c, "value", &e))
            return FALSE;
          if (e == NULL && !parse_attr_expr (ld, c, "ref", &e))
            return FALSE;
          if (e == NULL)
            return fail (ld, HEARTH_FORM_ERROR_INVALID, c, _("an output needs a value"));
          p = g_new0 (HearthFormTextPart, 1);
          p->output = e;
          g_ptr_array_add (parts, p);
        }
      else if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
        {
          p = g_new0 (HearthFormTextPart, 1);
          p->text = g_strdup ((const char *) c->content);
          g_ptr_array_add (parts, p);
        }
      else if (c->type == XML_ELEMENT_NODE && !parse_text_parts (ld, c, parts))
        return FALSE;
    }
  return TRUE;
}

/* A label or hint: ref="jr:itext('id')", another ref expression, or text. */
static HearthFormText *
parse_text (Loader *ld, xmlNode *el)
{
  g_autofree char *ref = attr (el, "ref");
  HearthFormText *t = g_new0 (HearthFormText, 1);

  t->parts = g_ptr_array_new_with_free_func (free_text_part);
  if (ref != NULL)
    {
      g_autoptr(GError) local = NULL;
      HearthXPathExpr *e = hearth_xpath_parse (ref, &local);

      if (e == NULL)
        {
          fail (ld, HEARTH_FORM_ERROR_INVALID, el, _("attribute ref: %s"), local->message);
          free_text (t);
          return NULL;
        }
      if (!check_expr (ld, el, "ref", e))
        {
          hearth_xpath_expr_free (e);
          free_text (t);
          return NULL;
        }
      if (e->kind == HEARTH_XPATH_FUNCTION && g_str_equal (e->text, "jr:itext") && e->args->len == 1 &&
          ((HearthXPathExpr *) e->args->pdata[0])->kind == HEARTH_XPATH_STRING)
        {
          t->itext_id = g_strdup (((HearthXPathExpr *) e->args->pdata[0])->text);
          hearth_xpath_expr_free (e);
          /* The itext is in the model, read before the body: an id no
           * language holds would show the worker the bare id. */
          if (hearth_form_itext (ld->form, NULL, t->itext_id) == NULL)
            {
              fail (ld, HEARTH_FORM_ERROR_INVALID, el, _("jr:itext('%s') names no text of the form's itext"),
                    t->itext_id);
              free_text (t);
              return NULL;
            }
        }
      else
        t->ref = e;
      return t;
    }
  if (!parse_text_parts (ld, el, t->parts))
    {
      free_text (t);
      return NULL;
    }
  return t;
}

/* ---- external instances ------------------------------------------------- */

/* jr://file-csv: the first row names the columns; every other row becomes
 * root/item with one child element per column. */
static xmlDoc *
csv_instance (Loader *ld, xmlNode *el, const char *file, const char *text)
{
  g_autoptr(GPtrArray) header = NULL;
  xmlDoc *doc = xmlNewDoc ((const xmlChar *) "1.0");
  xmlNode *root = xmlNewNode (NULL, (const xmlChar *) "root");
  const char *p = text;
  gboolean bad = FALSE;
  guint row = 1;

  xmlDocSetRootElement (doc, root);
  if (g_str_has_prefix (p, "\xef\xbb\xbf"))
    p += 3;
  header = hearth_csv_record (&p, &bad);
  if (header == NULL || bad)
    goto invalid;
  for (guint i = 0; i < header->len; i++)
    if (xmlValidateNCName ((const xmlChar *) g_ptr_array_index (header, i), 0) != 0)
      {
        fail (ld, HEARTH_FORM_ERROR_MEDIA, el, _("%s, line 1: column name \"%s\" is not a valid XML name"),
              file, (char *) g_ptr_array_index (header, i));
        xmlFreeDoc (doc);
        return NULL;
      }
  for (;;)
    {
      g_autoptr(GPtrArray) fields = hearth_csv_record (&p, &bad);
      xmlNode *item;

      row++;
      if (bad)
        goto invalid;
      if (fields == NULL)
        break;
      if (fields->len == 1 && ((char *) fields->pdata[0])[0] == '\0')
        continue;  /* a blank line */
      item = xmlNewChild (root, NULL, (const xmlChar *) "item", NULL);
      for (guint i = 0; i < header->len; i++)
        xmlNewTextChild (item, NULL, (const xmlChar *) header->pdata[i],
                         (const xmlChar *) (i < fields->len ? (char *) fields->pdata[i] : ""));
    }
  return doc;

invalid:
  fail (ld, HEARTH_FORM_ERROR_MEDIA, el, _("%s, line %u: a quoted field is not closed"), file, row);
  xmlFreeDoc (doc);
  return NULL;
}

/* The first error libxml2 reports while parsing (its last one is often a
 * consequence: "Premature end of data" after a mismatched tag). */
static void
keep_first_error (void *data, xmlError *error)
{
  xmlError *first = data;

  if (first->code == 0 && error != NULL)
    xmlCopyError (error, first);
}

/* Parses a form or an XML instance: no network, no DTD, no entities from
 * anywhere; a DOCTYPE is refused (its entities would change the text). */
static xmlDoc *
parse_xml (const char *text, gsize len, const char *name, char **why)
{
  xmlError first = { 0 };
  xmlDoc *doc;

  xmlSetStructuredErrorFunc (&first, keep_first_error);
  doc = xmlReadMemory (text, (int) len, name, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  xmlSetStructuredErrorFunc (NULL, NULL);
  if (doc != NULL && (doc->intSubset != NULL || doc->extSubset != NULL))
    {
      xmlFreeDoc (doc);
      *why = g_strdup (_("a DOCTYPE is not allowed (its entities would change the text)"));
      xmlResetError (&first);
      return NULL;
    }
  if (doc == NULL)
    *why = first.code != 0 ? g_strdup_printf (_("line %d: not well-formed XML: %s"), first.line,
                                              first.message != NULL ? g_strstrip (first.message) : "")
                           : g_strdup (_("not well-formed XML (empty?)"));
  xmlResetError (&first);
  return doc;
}

static gboolean
load_instance (Loader *ld, xmlNode *el, const char *id)
{
  g_autofree char *src = attr (el, "src");
  xmlNode *content = NULL;
  xmlDoc *doc = NULL;

  for (xmlNode *c = el->children; c != NULL && content == NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      content = c;

  if (src != NULL && src[0] != '\0')
    {
      gboolean csv = g_str_has_prefix (src, "jr://file-csv/");
      const char *name = csv ? src + strlen ("jr://file-csv/") :
                         g_str_has_prefix (src, "jr://file/") ? src + strlen ("jr://file/") : NULL;
      g_autofree char *path = NULL;
      g_autofree char *text = NULL;
      gsize len = 0;

      if (name == NULL || name[0] == '\0' || strchr (name, '/') != NULL)
        return fail (ld, HEARTH_FORM_ERROR_UNSUPPORTED, el,
                     _("instance \"%s\": source %s is not supported (only jr://file/NAME and jr://file-csv/NAME)"),
                     id, src);
      if (ld->media_dir == NULL)
        {
          /* Unresolved: an empty instance, so that the form can be checked. */
          doc = xmlNewDoc ((const xmlChar *) "1.0");
          xmlDocSetRootElement (doc, xmlNewNode (NULL, (const xmlChar *) "root"));
          g_ptr_array_add (ld->form->unresolved, g_strdup (id));
        }
      else
        {
          path = g_build_filename (ld->media_dir, name, NULL);
          if (!g_file_get_contents (path, &text, &len, NULL))
            return fail (ld, HEARTH_FORM_ERROR_MEDIA, el, _("instance \"%s\": %s is not in the media folder %s"),
                         id, name, ld->media_dir);
          if (len > HEARTH_FORM_MAX_BYTES)
            return fail (ld, HEARTH_FORM_ERROR_MEDIA, el, _("instance \"%s\": %s is larger than %d bytes"),
                         id, name, HEARTH_FORM_MAX_BYTES);
          if (csv)
            {
              /* Spreadsheets on Chinese Windows save GB18030: refuse it rather
               * than turn names into replacement characters. */
              if (!g_utf8_validate (text, (gssize) len, NULL))
                return fail (ld, HEARTH_FORM_ERROR_MEDIA, el,
                             _("instance \"%s\": %s is not UTF-8 text (save it as CSV UTF-8)"), id, name);
              doc = csv_instance (ld, el, name, text);
            }
          else
            {
              g_autofree char *why = NULL;

              doc = parse_xml (text, len, name, &why);
              if (doc == NULL || xmlDocGetRootElement (doc) == NULL)
                {
                  if (doc != NULL)
                    xmlFreeDoc (doc);
                  return fail (ld, HEARTH_FORM_ERROR_MEDIA, el, _("instance \"%s\": %s: %s"), id, name,
                               why != NULL ? why : _("no root element"));
                }
            }
          if (doc == NULL)
            return FALSE;
        }
    }
  else if (content != NULL)
    doc = doc_from_element (content);
  else
    {
      /* An empty instance the host application fills (CHT's
       * contact-summary): empty here. */
      doc = xmlNewDoc ((const xmlChar *) "1.0");
      xmlDocSetRootElement (doc, xmlNewNode (NULL, (const xmlChar *) "root"));
    }
  if (g_hash_table_contains (ld->form->instances, id))
    {
      xmlFreeDoc (doc);
      return fail (ld, HEARTH_FORM_ERROR_INVALID, el, _("a second instance with the id \"%s\""), id);
    }
  g_hash_table_insert (ld->form->instances, g_strdup (id), doc);
  return TRUE;
}

/* ---- model ---------------------------------------------------------------- */

static gboolean
load_bind (Loader *ld, xmlNode *el)
{
  HearthFormBind *b = g_new0 (HearthFormBind, 1);
  g_autofree char *type = NULL;

  g_ptr_array_add (ld->form->binds, b);
  b->line = (guint) xmlGetLineNo (el);
  b->nodeset = attr (el, "nodeset");
  if (b->nodeset == NULL)
    b->nodeset = attr (el, "ref");
  if (b->nodeset == NULL || b->nodeset[0] == '\0')
    return fail (ld, HEARTH_FORM_ERROR_INVALID, el, _("a bind needs a nodeset"));
  type = attr (el, "type");
  b->type = g_strdup (type == NULL ? "string" : strchr (type, ':') ? strchr (type, ':') + 1 : type);
  b->constraint_msg = attr (el, "constraintMsg");
  b->required_msg = attr (el, "requiredMsg");
  b->preload = attr (el, "preload");
  b->preload_params = attr (el, "preloadParams");
  b->saveto = attr (el, "saveto");
  {
    HearthXPathExpr *nodeset = NULL;
    gboolean ok = parse_attr_expr (ld, el, "nodeset", &nodeset);
    hearth_xpath_expr_free (nodeset);
    if (!ok)
      return FALSE;
  }
  return parse_attr_expr (ld, el, "relevant", &b->relevant) &&
         parse_attr_expr (ld, el, "constraint", &b->constraint) &&
         parse_attr_expr (ld, el, "calculate", &b->calculate) &&
         parse_attr_expr (ld, el, "required", &b->required) &&
         parse_attr_expr (ld, el, "readonly", &b->readonly);
}

static gboolean
load_itext (Loader *ld, xmlNode *itext)
{
  for (xmlNode *tr = itext->children; tr != NULL; tr = tr->next)
    {
      g_autofree char *lang = NULL;
      g_autofree char *def = NULL;

      if (tr->type != XML_ELEMENT_NODE)
        continue;
      /* By local name: some real forms put translation, text and value in
       * the XHTML namespace by accident, and engines accept them. */
      if (!is_el (tr, NULL, "translation"))
        return fail (ld, HEARTH_FORM_ERROR_INVALID, tr, _("itext holds translation elements only"));
      lang = attr (tr, "lang");
      if (lang == NULL)
        return fail (ld, HEARTH_FORM_ERROR_INVALID, tr, _("a translation needs a lang"));
      def = attr (tr, "default");
      g_ptr_array_add (ld->form->languages, g_strdup (lang));
      if (def != NULL && ld->form->default_language == NULL)
        ld->form->default_language = g_strdup (lang);
      for (xmlNode *text = tr->children; text != NULL; text = text->next)
        {
          g_autofree char *id = NULL;

          if (!is_el (text, NULL, "text"))
            continue;
          id = attr (text, "id");
          if (id == NULL)
            return fail (ld, HEARTH_FORM_ERROR_INVALID, text, _("an itext text needs an id"));
          for (xmlNode *v = text->children; v != NULL; v = v->next)
            {
              g_autofree char *form = NULL;

              if (!is_el (v, NULL, "value"))
                continue;
              form = attr (v, "form");
              /* The plain text; image, audio and video forms are media. */
              if (form == NULL || g_str_equal (form, "long") || g_str_equal (form, "short") ||
                  g_str_equal (form, "guidance"))
                {
                  g_autofree char *key = g_strdup_printf ("%s\x1f%s", lang, id);
                  HearthFormText *t = g_new0 (HearthFormText, 1);

                  t->parts = g_ptr_array_new_with_free_func (free_text_part);
                  if (!parse_text_parts (ld, v, t->parts))
                    {
                      free_text (t);
                      return FALSE;
                    }
                  /* The plain form wins over long, short and guidance. */
                  if (form == NULL || !g_hash_table_contains (ld->form->itext, key))
                    g_hash_table_replace (ld->form->itext, g_steal_pointer (&key), t);
                  else
                    free_text (t);
                }
            }
        }
    }
  return TRUE;
}

static const char *const setvalue_events[] = {
  "odk-instance-first-load", "odk-instance-load", "odk-new-repeat", "xforms-value-changed",
};

/* A setvalue in the model (@control_ref NULL) or in a control. One action
 * may name several events, separated by spaces. */
static gboolean
load_setvalue (Loader *ld, xmlNode *el, const char *control_ref)
{
  g_autofree char *events = attr (el, "event");
  g_autofree char *ref = attr (el, "ref");
  g_auto(GStrv) names = NULL;
  HearthXPathExpr *value = NULL;

  if (events == NULL || events[0] == '\0')
    return fail (ld, HEARTH_FORM_ERROR_INVALID, el, _("a setvalue needs an event"));
  if (ref == NULL)
    ref = attr (el, "bind");
  if (ref == NULL || ref[0] == '\0')
    return fail (ld, HEARTH_FORM_ERROR_INVALID, el, _("a setvalue needs a ref"));
  names = g_strsplit_set (events, " \t\r\n", -1);
  for (guint i = 0; names[i] != NULL; i++)
    {
      gboolean known = FALSE;

      if (names[i][0] == '\0')
        continue;
      for (gsize k = 0; k < G_N_ELEMENTS (setvalue_events); k++)
        known = known || g_str_equal (names[i], setvalue_events[k]);
      if (!known)
        return fail (ld, HEARTH_FORM_ERROR_UNSUPPORTED, el, _("the event %s is not supported"), names[i]);
      if (control_ref == NULL && (g_str_equal (names[i], "odk-new-repeat") ||
                                  g_str_equal (names[i], "xforms-value-changed")))
        return fail (ld, HEARTH_FORM_ERROR_INVALID, el, _("the event %s belongs in a control, not in the model"),
                     names[i]);
    }
  if (!parse_attr_expr (ld, el, "value", &value))
    return FALSE;
  for (guint i = 0; names[i] != NULL; i++)
    {
      HearthFormSetvalue *sv;
      xmlChar *content;

      if (names[i][0] == '\0')
        continue;
      sv = g_new0 (HearthFormSetvalue, 1);
      sv->event = g_strdup (names[i]);
      sv->ref = g_strdup (ref);
      sv->value = value;
      value = NULL;
      if (sv->value == NULL)
        {
          g_autofree char *again = attr (el, "value");
          if (again != NULL)
            {
              sv->value = hearth_xpath_parse (again, NULL);
            }
          else
            {
              content = xmlNodeGetContent (el);
              sv->literal = g_strdup ((const char *) content);
              xmlFree (content);
            }
        }
      sv->control_ref = g_strdup (control_ref);
      sv->line = (guint) xmlGetLineNo (el);
      g_ptr_array_add (ld->form->setvalues, sv);
    }
  hearth_xpath_expr_free (value);
  return TRUE;
}

static gboolean
load_model (Loader *ld, xmlNode *model)
{
  gboolean have_primary = FALSE;

  for (xmlNode *c = model->children; c != NULL; c = c->next)
    {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      if (is_el (c, NS_XFORMS, "instance"))
        {
          g_autofree char *id = attr (c, "id");

          if (!have_primary)
            {
              xmlNode *root = NULL;
              for (xmlNode *k = c->children; k != NULL && root == NULL; k = k->next)
                if (k->type == XML_ELEMENT_NODE)
                  root = k;
              if (root == NULL)
                return fail (ld, HEARTH_FORM_ERROR_INVALID, c, _("the primary instance is empty"));
              ld->form->primary = doc_from_element (root);
              ld->form->form_id = attr (root, "id");
              ld->form->version = attr (root, "version");
              have_primary = TRUE;
              continue;
            }
          if (id == NULL || id[0] == '\0')
            return fail (ld, HEARTH_FORM_ERROR_INVALID, c, _("a secondary instance needs an id"));
          if (!load_instance (ld, c, id))
            return FALSE;
        }
      else if (is_el (c, NS_XFORMS, "bind"))
        {
          if (!load_bind (ld, c))
            return FALSE;
        }
      else if (is_el (c, NS_XFORMS, "itext"))
        {
          if (!load_itext (ld, c))
            return FALSE;
        }
      else if (is_el (c, NS_XFORMS, "setvalue"))
        {
          if (!load_setvalue (ld, c, NULL))
            return FALSE;
          ld->form->n_setvalues++;
        }
      else if (is_el (c, NS_XFORMS, "submission"))
        continue;  /* where a server would send it: not Hearth's concern */
      else
        return fail (ld, HEARTH_FORM_ERROR_UNSUPPORTED, c, _("%s in the model is not supported"),
                     (const char *) c->name);
    }
  if (!have_primary)
    return fail (ld, HEARTH_FORM_ERROR_INVALID, model, _("the model has no instance"));
  return TRUE;
}

/* ---- body ------------------------------------------------------------------ */

static const struct { const char *name; HearthControlKind kind; } control_names[] = {
  { "input", HEARTH_CONTROL_INPUT }, { "select1", HEARTH_CONTROL_SELECT1 },
  { "select", HEARTH_CONTROL_SELECT }, { "trigger", HEARTH_CONTROL_TRIGGER },
  { "upload", HEARTH_CONTROL_UPLOAD }, { "range", HEARTH_CONTROL_RANGE },
  { "group", HEARTH_CONTROL_GROUP }, { "repeat", HEARTH_CONTROL_REPEAT },
};

static gboolean load_children (Loader *ld, xmlNode *parent, HearthFormControl *into);

static gboolean
load_control (Loader *ld, xmlNode *el, HearthControlKind kind, HearthFormControl *into)
{
  HearthFormControl *c = g_new0 (HearthFormControl, 1);
  g_autofree char *no_add_remove = NULL;

  g_ptr_array_add (into->children, c);
  c->kind = kind;
  c->line = (guint) xmlGetLineNo (el);
  c->children = g_ptr_array_new_with_free_func (free_control);
  c->ref = attr (el, kind == HEARTH_CONTROL_REPEAT ? "nodeset" : "ref");
  if (c->ref == NULL)
    c->ref = attr (el, "bind");
  c->appearance = attr (el, "appearance");
  if (c->ref == NULL && kind != HEARTH_CONTROL_GROUP)
    return fail (ld, HEARTH_FORM_ERROR_INVALID, el, _("a %s needs a ref"), (const char *) el->name);
  if (kind == HEARTH_CONTROL_UPLOAD)
    c->mediatype = attr (el, "mediatype");
  if (kind == HEARTH_CONTROL_REPEAT)
    {
      if (!parse_attr_expr (ld, el, "count", &c->jr_count))
        return FALSE;
      no_add_remove = attr (el, "noAddRemove");
      c->no_add_remove = no_add_remove != NULL && g_str_has_prefix (no_add_remove, "true");
    }
  ld->form->n_controls++;
  return load_children (ld, el, c);
}

static gboolean
load_children (Loader *ld, xmlNode *parent, HearthFormControl *into)
{
  for (xmlNode *el = parent->children; el != NULL; el = el->next)
    {
      gboolean known = FALSE;

      if (el->type != XML_ELEMENT_NODE)
        continue;
      if (el->ns == NULL || g_strcmp0 ((const char *) el->ns->href, NS_XFORMS) != 0)
        return fail (ld, HEARTH_FORM_ERROR_UNSUPPORTED, el,
                     _("only XForms controls are supported in the body (this element is in %s)"),
                     el->ns != NULL ? (const char *) el->ns->href : _("no namespace"));
      for (gsize i = 0; i < G_N_ELEMENTS (control_names); i++)
        if (g_str_equal ((const char *) el->name, control_names[i].name))
          {
            if (!load_control (ld, el, control_names[i].kind, into))
              return FALSE;
            known = TRUE;
          }
      if (known)
        continue;
      /* A second label or hint replaces the first (forms do repeat them). */
      if (g_str_equal ((const char *) el->name, "label") || g_str_equal ((const char *) el->name, "hint"))
        {
          HearthFormText **slot = el->name[0] == 'l' ? &into->label : &into->hint;
          HearthFormText *t = parse_text (ld, el);

          if (t == NULL)
            return FALSE;
          free_text (*slot);
          *slot = t;
        }
      else if (g_str_equal ((const char *) el->name, "item"))
        {
          xmlNode *value = child_el (el, NS_XFORMS, "value");
          xmlNode *label = child_el (el, NS_XFORMS, "label");
          xmlChar *v = value != NULL ? xmlNodeGetContent (value) : NULL;
          HearthFormChoice *choice;

          if (v == NULL)
            return fail (ld, HEARTH_FORM_ERROR_INVALID, el, _("a choice needs a value"));
          /* Answers hold choice names separated by spaces (select), and
           * selected() and jr:choice-name() split on them (select1 too). */
          if (strpbrk ((const char *) v, " \t\r\n") != NULL)
            {
              fail (ld, HEARTH_FORM_ERROR_INVALID, el,
                    _("choice \"%s\" contains a space: select-multiple answers are space-separated names"),
                    (const char *) v);
              xmlFree (v);
              return FALSE;
            }
          if (into->items == NULL)
            into->items = g_ptr_array_new_with_free_func (free_choice);
          choice = g_new0 (HearthFormChoice, 1);
          choice->value = g_strdup (g_strstrip ((char *) v));
          xmlFree (v);
          g_ptr_array_add (into->items, choice);
          if (label != NULL && (choice->label = parse_text (ld, label)) == NULL)
            return FALSE;
        }
      else if (g_str_equal ((const char *) el->name, "itemset"))
        {
          if (into->itemset != NULL)
            return fail (ld, HEARTH_FORM_ERROR_INVALID, el, _("a control has one itemset"));
          if (!parse_attr_expr (ld, el, "nodeset", &into->itemset))
            return FALSE;
          if (into->itemset == NULL)
            return fail (ld, HEARTH_FORM_ERROR_INVALID, el, _("an itemset needs a nodeset"));
          {
            xmlNode *value = child_el (el, NS_XFORMS, "value");
            xmlNode *label = child_el (el, NS_XFORMS, "label");

            if (value == NULL || !parse_attr_expr (ld, value, "ref", &into->itemset_value) ||
                into->itemset_value == NULL)
              return ld->error != NULL && *ld->error != NULL ? FALSE :
                     fail (ld, HEARTH_FORM_ERROR_INVALID, el, _("an itemset needs a value ref"));
            if (label != NULL && !parse_attr_expr (ld, label, "ref", &into->itemset_label))
              return FALSE;
          }
        }
      else if (g_str_equal ((const char *) el->name, "value") || g_str_equal ((const char *) el->name, "help"))
        continue;
      else if (g_str_equal ((const char *) el->name, "output"))
        {
          HearthXPathExpr *e = NULL;
          if (!parse_attr_expr (ld, el, "value", &e))
            return FALSE;
          hearth_xpath_expr_free (e);
        }
      else if (g_str_equal ((const char *) el->name, "setvalue"))
        {
          if (into->ref == NULL)
            return fail (ld, HEARTH_FORM_ERROR_INVALID, el, _("a setvalue in the body belongs in a control"));
          if (!load_setvalue (ld, el, into->ref))
            return FALSE;
          ld->form->n_setvalues++;
        }
      else
        return fail (ld, HEARTH_FORM_ERROR_UNSUPPORTED, el, _("the %s control is not supported"),
                     (const char *) el->name);
    }
  return TRUE;
}

HearthForm *
hearth_form_load (const char *path, const char *media_dir, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;

  {
    g_autoptr(GError) local = NULL;
    if (!g_file_get_contents (path, &text, &len, &local))
      {
        g_set_error (error, HEARTH_FORM_ERROR, HEARTH_FORM_ERROR_INVALID, _("the form %s cannot be read: %s"), path,
                     local->message);
        return NULL;
      }
  }
  return hearth_form_load_data (path, text, len, media_dir, error);
}

HearthForm *
hearth_form_load_data (const char *path, const char *text, gsize len, const char *media_dir, GError **error)
{
  g_autoptr(HearthForm) form = g_new0 (HearthForm, 1);
  g_autoptr(GPtrArray) instance_refs = g_ptr_array_new_with_free_func (instance_ref_free);
  Loader ld = { path, media_dir, form, error, instance_refs };
  xmlDoc *doc;
  xmlNode *html, *head, *model, *body, *title;
  gboolean ok;

  if (len > HEARTH_FORM_MAX_BYTES)
    {
      g_set_error (error, HEARTH_FORM_ERROR, HEARTH_FORM_ERROR_INVALID,
                   _("%s is larger than %d bytes"), path, HEARTH_FORM_MAX_BYTES);
      return NULL;
    }
  form->path = g_strdup (path);
  form->instances = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) xmlFreeDoc);
  form->binds = g_ptr_array_new_with_free_func (free_bind);
  form->languages = g_ptr_array_new_with_free_func (g_free);
  form->itext = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_text);
  form->setvalues = g_ptr_array_new_with_free_func (free_setvalue);
  form->unresolved = g_ptr_array_new_with_free_func (g_free);
  form->body = g_new0 (HearthFormControl, 1);
  form->body->kind = HEARTH_CONTROL_GROUP;
  form->body->children = g_ptr_array_new_with_free_func (free_control);

  /* No network, no entities from outside, no DTD loading: a form is data. */
  {
    g_autofree char *why = NULL;

    doc = parse_xml (text, len, path, &why);
    if (doc == NULL)
      {
        g_set_error (error, HEARTH_FORM_ERROR, HEARTH_FORM_ERROR_INVALID, _("%s, %s"), path, why);
        return NULL;
      }
  }
  html = xmlDocGetRootElement (doc);
  head = child_el (html, NS_XHTML, "head");
  model = child_el (head, NS_XFORMS, "model");
  body = child_el (html, NS_XHTML, "body");
  title = child_el (head, NS_XHTML, "title");
  if (!is_el (html, NS_XHTML, "html") || model == NULL || body == NULL)
    ok = fail (&ld, HEARTH_FORM_ERROR_INVALID, html,
               _("an XForm is an h:html with an h:head holding a model, and an h:body"));
  else
    {
      if (title != NULL)
        {
          xmlChar *t = xmlNodeGetContent (title);
          form->title = g_strdup ((const char *) t);
          xmlFree (t);
        }
      ok = load_model (&ld, model) && load_children (&ld, body, form->body);
      for (guint i = 0; ok && i < instance_refs->len; i++)
        {
          InstanceRef *r = instance_refs->pdata[i];
          if (!g_hash_table_contains (form->instances, r->id))
            {
              g_set_error (error, HEARTH_FORM_ERROR, HEARTH_FORM_ERROR_INVALID,
                           _("%s, line %u, <%s>: instance('%s') names no secondary instance of this form"),
                           path, r->line, r->element, r->id);
              ok = FALSE;
            }
        }
    }
  xmlFreeDoc (doc);
  if (!ok)
    return NULL;
  return g_steal_pointer (&form);
}

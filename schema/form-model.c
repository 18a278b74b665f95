/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * form-model.c: loading an ODK XForm into HearthForm (form-model.h).
 * Elements are recognised by namespace and local name, whatever prefix a
 * form gives them (some write xf:bind, most the default namespace).
 */
#define G_LOG_DOMAIN "hearth-forms"

#include "form-model.h"

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
} Loader;

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
free_control (gpointer data)
{
  HearthFormControl *c = data;

  if (c == NULL)
    return;
  g_free (c->ref);
  g_free (c->appearance);
  g_free (c->label);
  g_free (c->hint);
  g_clear_pointer (&c->items, g_ptr_array_unref);
  hearth_xpath_expr_free (c->itemset);
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
  g_free (f);
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
  return TRUE;
}

/* ---- external instances ------------------------------------------------- */

/* One CSV record from @p (RFC 4180 quoting); NULL at the end. */
static GPtrArray *
csv_record (const char **p, gboolean *bad)
{
  GPtrArray *fields;
  GString *field = g_string_new (NULL);
  const char *s = *p;

  if (*s == '\0')
    {
      g_string_free (field, TRUE);
      return NULL;
    }
  fields = g_ptr_array_new_with_free_func (g_free);
  for (;;)
    {
      if (*s == '"')
        {
          s++;
          for (;;)
            {
              if (*s == '\0')
                {
                  *bad = TRUE;
                  break;
                }
              if (*s == '"' && s[1] == '"')
                {
                  g_string_append_c (field, '"');
                  s += 2;
                  continue;
                }
              if (*s == '"')
                {
                  s++;
                  break;
                }
              g_string_append_c (field, *s++);
            }
        }
      while (*s != '\0' && *s != ',' && *s != '\n' && *s != '\r')
        g_string_append_c (field, *s++);
      g_ptr_array_add (fields, g_string_free (g_steal_pointer (&field), FALSE));
      field = g_string_new (NULL);
      if (*s == ',')
        {
          s++;
          continue;
        }
      if (*s == '\r')
        s++;
      if (*s == '\n')
        s++;
      break;
    }
  g_string_free (field, TRUE);
  *p = s;
  return fields;
}

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
  header = csv_record (&p, &bad);
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
      g_autoptr(GPtrArray) fields = csv_record (&p, &bad);
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
            doc = csv_instance (ld, el, name, text);
          else
            {
              doc = xmlReadMemory (text, (int) len, name, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                   XML_PARSE_NOWARNING);
              if (doc == NULL || xmlDocGetRootElement (doc) == NULL)
                {
                  if (doc != NULL)
                    xmlFreeDoc (doc);
                  return fail (ld, HEARTH_FORM_ERROR_MEDIA, el, _("instance \"%s\": %s is not well-formed XML"),
                               id, name);
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
                  xmlChar *content = xmlNodeGetContent (v);
                  if (form == NULL || !g_hash_table_contains (ld->form->itext, id))
                    g_hash_table_replace (ld->form->itext, g_strdup_printf ("%s\x1f%s", lang, id),
                                          g_strdup ((const char *) content));
                  xmlFree (content);
                }
              /* Outputs in a label: their expressions must parse. */
              for (xmlNode *o = v->children; o != NULL; o = o->next)
                if (is_el (o, NS_XFORMS, "output"))
                  {
                    HearthXPathExpr *e = NULL;
                    if (!parse_attr_expr (ld, o, "value", &e))
                      return FALSE;
                    hearth_xpath_expr_free (e);
                  }
            }
        }
    }
  return TRUE;
}

static const char *const model_actions[] = { "setvalue" };

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
      else if (is_el (c, NS_XFORMS, model_actions[0]))
        {
          HearthXPathExpr *e = NULL;
          if (!parse_attr_expr (ld, c, "value", &e))
            return FALSE;
          hearth_xpath_expr_free (e);
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

static char *
label_of (xmlNode *el)
{
  g_autofree char *ref = attr (el, "ref");
  xmlChar *content;
  char *s;

  if (ref != NULL)
    return g_steal_pointer (&ref);
  content = xmlNodeGetContent (el);
  s = g_strdup ((const char *) content);
  xmlFree (content);
  return s;
}

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
      if (g_str_equal ((const char *) el->name, "label"))
        {
          g_free (into->label);
          into->label = label_of (el);
        }
      else if (g_str_equal ((const char *) el->name, "hint"))
        {
          g_free (into->hint);
          into->hint = label_of (el);
        }
      else if (g_str_equal ((const char *) el->name, "item"))
        {
          xmlNode *value = child_el (el, NS_XFORMS, "value");
          xmlChar *v = value != NULL ? xmlNodeGetContent (value) : NULL;

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
            into->items = g_ptr_array_new_with_free_func (g_free);
          g_ptr_array_add (into->items, g_strdup ((const char *) v));
          xmlFree (v);
        }
      else if (g_str_equal ((const char *) el->name, "itemset"))
        {
          if (into->itemset != NULL)
            return fail (ld, HEARTH_FORM_ERROR_INVALID, el, _("a control has one itemset"));
          if (!parse_attr_expr (ld, el, "nodeset", &into->itemset))
            return FALSE;
          if (into->itemset == NULL)
            return fail (ld, HEARTH_FORM_ERROR_INVALID, el, _("an itemset needs a nodeset"));
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
          HearthXPathExpr *e = NULL;
          if (!parse_attr_expr (ld, el, "value", &e))
            return FALSE;
          hearth_xpath_expr_free (e);
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
  g_autoptr(HearthForm) form = g_new0 (HearthForm, 1);
  Loader ld = { path, media_dir, form, error };
  g_autofree char *text = NULL;
  gsize len = 0;
  xmlDoc *doc;
  xmlNode *html, *head, *model, *body, *title;
  gboolean ok;

  if (!g_file_get_contents (path, &text, &len, NULL))
    {
      g_set_error (error, HEARTH_FORM_ERROR, HEARTH_FORM_ERROR_INVALID, _("%s cannot be read"), path);
      return NULL;
    }
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
  form->itext = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  form->body = g_new0 (HearthFormControl, 1);
  form->body->kind = HEARTH_CONTROL_GROUP;
  form->body->children = g_ptr_array_new_with_free_func (free_control);

  /* No network, no entities from outside, no DTD loading: a form is data. */
  doc = xmlReadMemory (text, (int) len, path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == NULL)
    {
      const xmlError *xe = xmlGetLastError ();
      g_set_error (error, HEARTH_FORM_ERROR, HEARTH_FORM_ERROR_INVALID, _("%s, line %d: not well-formed XML: %s"),
                   path, xe != NULL ? xe->line : 0, xe != NULL && xe->message ? g_strstrip (xe->message) : "");
      return NULL;
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
    }
  xmlFreeDoc (doc);
  if (!ok)
    return NULL;
  return g_steal_pointer (&form);
}

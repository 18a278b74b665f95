/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-xpath-parse.c: the XPath 1.0 parser of the forms engine: the
 * grammar and abbreviations of the specification, errors that name the
 * column, bounded nesting, and every expression of the real public XForms
 * in ../shared/corpus/xforms (skipped when that folder is absent).
 */
#include "test-util.h"
#include "xpath-expr.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

static const struct { const char *in; const char *out; } valid[] = {
  { "1 + 2 * 3", "(1 + (2 * 3))" },
  { "(1 + 2) * 3", "((1 + 2) * 3)" },
  { "10 div 4 mod 3", "((10 div 4) mod 3)" },
  { "- - 2", "-(-(2))" },
  { "1 - -2", "(1 - -(2))" },
  { "a or b and c", "(child::a or (child::b and child::c))" },
  { "1 < 2 = 2 > 1", "((1 < 2) = (2 > 1))" },
  { ". <= today()", "(self::node() <= today())" },
  { "../inputs/contact/_id", "parent::node()/child::inputs/child::contact/child::_id" },
  { "/data/members[2]/id_number", "/child::data/child::members[2]/child::id_number" },
  { "//item", "/descendant-or-self::node()/child::item" },
  { "a//b", "child::a/descendant-or-self::node()/child::b" },
  { "@id", "attribute::id" },
  { "/data/meta/instanceID", "/child::data/child::meta/child::instanceID" },
  { "/", "/" },
  { "*", "child::*" },
  { "* * *", "(child::* * child::*)" },
  { "div div div", "(child::div div child::div)" },
  { "and", "child::and" },
  { "ancestor-or-self::node()", "ancestor-or-self::node()" },
  { "text()", "child::text()" },
  { "processing-instruction('x')", "child::processing-instruction('x')" },
  { "jr:choice-name(/data/a, '/data/a')", "jr:choice-name(/child::data/child::a, '/data/a')" },
  { "count-selected(.)", "count-selected(self::node())" },
  { "instance('cities')/root/item[country = current()/../country]",
    "(instance('cities'))/child::root/child::item[(child::country = (current())/parent::node()/child::country)]" },
  { "(/a/b)[2]", "(/child::a/child::b)[2]" },
  { "$x + 1", "($x + 1)" },
  { "concat('it', \"'s\")", "concat('it', \"'s\")" },
  { "a | b | c", "((child::a | child::b) | child::c)" },
  { "0.5 + .5 + 5.", "((0.5 + 0.5) + 5)" },
  { "string-length(.) <= 300", "(string-length(self::node()) <= 300)" },
  { "if(selected(../fever, 'yes') or\nselected(../headache, 'yes'), 'yes', 'no')",
    "if((selected(parent::node()/child::fever, 'yes') or selected(parent::node()/child::headache, 'yes')), 'yes', 'no')" },
  { "regex(., '^[0-9]{17}[0-9X]$')", "regex(self::node(), '^[0-9]{17}[0-9X]$')" },
  { "/数据/户主姓名 != ''", "(/child::数据/child::户主姓名 != '')" },
  { "x:*", "child::x:*" },
  /* XPath numbers have no exponent: written back in full. */
  { "100000000000000000000 + 0.0000001", "(100000000000000000000 + 0.0000001)" },
};

static const struct { const char *in; guint column; const char *fragment; } invalid[] = {
  { "(1 $x张", 4, "\"$x张\"" },  /* a message cuts no character in half */
  { "1 +", 4, "end of the expression" },
  { "(1 + 2", 7, "\")\"" },
  { "a b", 3, "operator" },
  { "'unclosed", 1, "not closed" },
  { "f(1,)", 5, "expression" },
  { "a[1", 4, "\"]\"" },
  { "1 ! 2", 3, "\"=\"" },
  { "bogus::a", 1, "axis" },
  { "a # b", 3, "unexpected character" },
  { "/data/\xe6\x88\xb7 ?", 9, "unexpected character" },
  { "", 1, "expression" },
  { "$", 2, "variable" },
  { ")", 1, "expression" },
  /* XPath 1.0 has no doubled-quote escape (XPath 2.0 does). */
  { "concat('it''s')", 12, "found a string" },
};

static void
test_valid (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (valid); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HearthXPathExpr) e = hearth_xpath_parse (valid[i].in, &error);
      g_autofree char *out = NULL;

      g_assert_no_error (error);
      g_assert_nonnull (e);
      out = hearth_xpath_expr_to_string (e);
      if (valid[i].out != NULL)
        g_assert_cmpstr (out, ==, valid[i].out);
      /* What is written back parses to the same tree. */
      {
        g_autoptr(HearthXPathExpr) again = hearth_xpath_parse (out, &error);
        g_autofree char *out2 = NULL;
        g_assert_no_error (error);
        out2 = hearth_xpath_expr_to_string (again);
        g_assert_cmpstr (out2, ==, out);
      }
    }
}

static void
test_invalid (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HearthXPathExpr) e = hearth_xpath_parse (invalid[i].in, &error);
      g_autofree char *column = g_strdup_printf ("column %u ", invalid[i].column);

      g_assert_null (e);
      g_assert_error (error, HEARTH_XPATH_ERROR, HEARTH_XPATH_ERROR_SYNTAX);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, column));
      g_assert_nonnull (strstr (error->message, invalid[i].fragment));
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    }
}

static void
test_bounds (void)
{
  g_autoptr(GString) deep = g_string_new (NULL);
  g_autoptr(GString) minus = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthXPathExpr) e = NULL;
  g_autofree char *huge = g_malloc (HEARTH_XPATH_MAX_LENGTH + 2);

  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '(');
  e = hearth_xpath_parse (deep->str, &error);
  g_assert_null (e);
  g_assert_error (error, HEARTH_XPATH_ERROR, HEARTH_XPATH_ERROR_TOO_COMPLEX);
  g_clear_error (&error);

  for (int i = 0; i < 100000; i++)
    g_string_append_c (minus, '-');
  g_string_append_c (minus, '1');
  e = hearth_xpath_parse (minus->str, &error);
  g_assert_null (e);
  g_assert_error (error, HEARTH_XPATH_ERROR, HEARTH_XPATH_ERROR_TOO_COMPLEX);
  g_clear_error (&error);

  /* A long chain of one operator is as deep as nesting: bounded too, so
   * that no recursion over the tree can exhaust the stack. */
  {
    g_autoptr(GString) chain = g_string_new ("1");
    g_autoptr(GString) unions = g_string_new ("a");
    for (int i = 0; i < 10000; i++)
      {
        g_string_append (chain, "+1");
        g_string_append (unions, "|a");
      }
    e = hearth_xpath_parse (chain->str, &error);
    g_assert_null (e);
    g_assert_error (error, HEARTH_XPATH_ERROR, HEARTH_XPATH_ERROR_TOO_COMPLEX);
    g_clear_error (&error);
    e = hearth_xpath_parse (unions->str, &error);
    g_assert_null (e);
    g_assert_error (error, HEARTH_XPATH_ERROR, HEARTH_XPATH_ERROR_TOO_COMPLEX);
    g_clear_error (&error);
    g_string_truncate (chain, 2 * 300 + 1);  /* 301 terms: fine */
    e = hearth_xpath_parse (chain->str, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (e->height, <=, HEARTH_XPATH_MAX_HEIGHT);
    g_clear_pointer (&e, hearth_xpath_expr_free);
  }

  memset (huge, 'a', HEARTH_XPATH_MAX_LENGTH + 1);
  huge[HEARTH_XPATH_MAX_LENGTH + 1] = '\0';
  e = hearth_xpath_parse (huge, &error);
  g_assert_null (e);
  g_assert_error (error, HEARTH_XPATH_ERROR, HEARTH_XPATH_ERROR_TOO_COMPLEX);
  g_clear_error (&error);

  e = hearth_xpath_parse ("/a/\xff", &error);
  g_assert_null (e);
  g_assert_error (error, HEARTH_XPATH_ERROR, HEARTH_XPATH_ERROR_SYNTAX);
}

/* Every XPath attribute of the corpus forms parses. */
static const char *const xpath_attributes[] = {
  "relevant", "constraint", "calculate", "readonly", "required", "nodeset", "ref", "value",
};

static guint
check_node (xmlNode *node, const char *file)
{
  guint n = 0;

  for (; node != NULL; node = node->next)
    {
      if (node->type != XML_ELEMENT_NODE)
        continue;
      for (gsize i = 0; i < G_N_ELEMENTS (xpath_attributes); i++)
        {
          xmlChar *v = xmlGetProp (node, (const xmlChar *) xpath_attributes[i]);
          g_autoptr(GError) error = NULL;
          g_autoptr(HearthXPathExpr) e = NULL;

          if (v == NULL)
            continue;
          /* required/readonly hold true() or false() or an expression. */
          e = hearth_xpath_parse ((const char *) v, &error);
          if (e == NULL)
            g_error ("%s, line %ld, %s=\"%s\": %s", file, (long) xmlGetLineNo (node),
                     xpath_attributes[i], (const char *) v, error->message);
          xmlFree (v);
          n++;
        }
      n += check_node (node->children, file);
    }
  return n;
}

static void
test_corpus (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("HEARTH_SHARED_DIR"), "corpus", "xforms", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint forms = 0, expressions = 0;

  if (d == NULL)
    {
      g_test_skip ("../shared/corpus/xforms is absent: the corpus test needs the real public XForms");
      return;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      xmlDoc *doc;

      if (!g_str_has_suffix (name, ".xml"))
        continue;
      doc = xmlReadFile (path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
      g_assert_nonnull (doc);
      expressions += check_node (xmlDocGetRootElement (doc), name);
      xmlFreeDoc (doc);
      forms++;
    }
  g_test_message ("%u forms, %u expressions parsed", forms, expressions);
  g_assert_cmpuint (forms, >, 20);
  g_assert_cmpuint (expressions, >, 500);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/xpath/parse/valid", test_valid);
  g_test_add_func ("/xpath/parse/invalid", test_invalid);
  g_test_add_func ("/xpath/parse/bounds", test_bounds);
  g_test_add_func ("/xpath/parse/corpus", test_corpus);
  return g_test_run ();
}

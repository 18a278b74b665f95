/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-xpath-eval.c: evaluation over a libxml2 instance with ODK typing:
 * paths, predicates, comparisons of XPath 1.0 section 3.4 (blank is not
 * zero, dates compare and subtract as days), the ODK functions, Chinese
 * text counted in characters, secondary instances, and clear errors.
 */
#include "test-util.h"
#include "xpath-eval.h"

#include <libxml/parser.h>
#include <string.h>

static const char instance_xml[] =
  "<data>"
  "<household><head_name>张三</head_name><size>4</size><income>9000.5</income>"
  "<visit_date>2024-03-05</visit_date><blank/></household>"
  "<members><name>张三</name><age>40</age><health>healthy</health></members>"
  "<members><name>李四</name><age>38</age><health>chronic</health></members>"
  "<members><name>小明</name><age>10</age><health>healthy</health></members>"
  "<water>piped well</water>"
  "</data>";

static const char cities_xml[] =
  "<root><item><name>北京</name><country>cn</country></item>"
  "<item><name>Paris</name><country>fr</country></item>"
  "<item><name>上海</name><country>cn</country></item></root>";

static const struct { const char *expr; const char *context; const char *expected; } cases[] = {
  { "count(/data/members)", NULL, "3" },
  { "sum(/data/members/age)", NULL, "88" },
  { "/data/household/size * 2", NULL, "8" },
  { "0.1 + 0.2", NULL, "0.3" },
  { "round(47.225, 2)", NULL, "47.23" },
  { "/data/household/income mod 2", NULL, "0.5" },
  /* A blank answer is not zero. */
  { "/data/household/blank < 1", NULL, "false" },
  { "/data/household/blank >= 0", NULL, "false" },
  { "/data/household/blank = ''", NULL, "true" },
  { "number(/data/household/blank)", NULL, "NaN" },
  { "min(/data/household/blank, 5)", NULL, "NaN" },
  /* Dates compare and subtract as days. */
  { "/data/household/visit_date <= '2024-03-06'", NULL, "true" },
  { "/data/household/visit_date > '2024-03-06'", NULL, "false" },
  { "date('2024-03-05') - date('2024-03-01')", NULL, "4" },
  { "/data/household/visit_date - date('2023-03-05')", NULL, "366" },
  { "date(19787)", NULL, "2024-03-05" },
  { "date(/data/household/visit_date + 30)", NULL, "2024-04-04" },
  { "decimal-date-time('1970-01-02')", NULL, "1" },
  { ". <= today()", "/data/household/visit_date", "true" },
  { "today()", NULL, "2026-11-29" },
  /* Select-multiple answers. */
  { "selected(/data/water, 'well')", NULL, "true" },
  { "selected(/data/water, 'wel')", NULL, "false" },
  { "count-selected(/data/water)", NULL, "2" },
  { "selected-at(/data/water, 1)", NULL, "well" },
  { "selected-at(/data/water, 5)", NULL, "" },
  /* Characters, not bytes. */
  { "string-length(/data/household/head_name)", NULL, "2" },
  { "regex(/data/household/head_name, '^.{2}$')", NULL, "true" },
  { "substr('张三丰', 1, 2)", NULL, "三" },
  { "substring('张三丰', 2)", NULL, "三丰" },
  { "if(/data/household/size > 3, 'big', 'small')", NULL, "big" },
  { "coalesce(/data/household/blank, 'x')", NULL, "x" },
  { "/data/members[2]/name", NULL, "李四" },
  { "/data/members[age > 18][last()]/name", NULL, "李四" },
  { "count(/data/members[health = 'healthy'])", NULL, "2" },
  { "concat(/data/members/name, '-', 1 div 0)", NULL, "张三-Infinity" },
  { "join(', ', /data/members/name)", NULL, "张三, 李四, 小明" },
  { "max(/data/members/age)", NULL, "40" },
  { "min(/data/members/age, 5)", NULL, "5" },
  { "int(-3.7)", NULL, "-3" },
  { "pow(2, 10)", NULL, "1024" },
  { "-/data/household/size", NULL, "-4" },
  { "(/data/members/age | /data/household/size)[1]", NULL, "4" },
  { "not(/data/household/blank)", NULL, "false" },
  { "../size", "/data/household/head_name", "4" },
  { "current()/../size", "/data/household/head_name", "4" },
  { "count(/data/members[name = current()])", "/data/household/head_name", "1" },
  { "count(instance('cities')/root/item[country = 'cn'])", NULL, "2" },
  { "instance('cities')/root/item[country = 'fr']/name", NULL, "Paris" },
  { "normalize-space('  a   b ')", NULL, "a b" },
  { "boolean-from-string('true') and true()", NULL, "true" },
  { "position() = last()", NULL, "true" },
  { "position(/data/members[3])", NULL, "3" },
  { "position(..)", "/data/members[2]/name", "2" },
  { "string-length(uuid())", NULL, "36" },
  { "regex(uuid(), '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')", NULL, "true" },
  { "string-length(uuid(12))", NULL, "12" },
  { "once('new')", "/data/household/size", "4" },
  { "once('new')", "/data/household/blank", "new" },
  { "date-time(1.5)", NULL, "1970-01-02T12:00:00.000Z" },
  { "date-time('2024-03-05')", NULL, "2024-03-05T00:00:00.000Z" },
  { "format-date('2024-03-05', '%Y/%m/%d %e %n %b %a %y')", NULL, "2024/03/05 5 3 Mar Tue 24" },
  { "format-date(/data/household/visit_date, '%d.%m.%Y')", NULL, "05.03.2024" },
  { "format-date-time('2024-03-05T09:07:03.250+08:00', '%H:%M:%S.%3 %h')", NULL, "09:07:03.250 9" },
  { "format-date('', '%Y')", NULL, "" },
};

static const struct { const char *expr; const char *fragment; } errors[] = {
  { "nosuch(1)", "unknown function nosuch()" },
  { "count(1)", "node-set" },
  { "instance('nope')/x", "instance('nope')" },
  { "substr('a')", "substr() takes 2 to 3 arguments, not 1" },
  { "$v + 1", "unknown variable $v" },
  { "regex('a', '(')", "regex()" },
  { "'a'/b", "must start from nodes" },
  { "1 | /data", "node-sets only" },
  { "/data/following::x", "following axis" },
  { "position(/data/members)", "position() takes one node" },
  { "uuid(-1)", "uuid() takes a length" },
};

static xmlNode *
find (xmlDoc *doc, const char *path, GHashTable *instances)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthXPathExpr) e = hearth_xpath_parse (path, &error);
  HearthXPathContext ctx = { .node = xmlDocGetRootElement (doc), .instances = instances };
  g_autoptr(HearthXValue) v = hearth_xpath_evaluate (e, &ctx, &error);

  g_assert_no_error (error);
  g_assert_cmpint (v->type, ==, HEARTH_XVALUE_NODESET);
  g_assert_cmpuint (v->nodes->len, ==, 1);
  return g_ptr_array_index (v->nodes, 0);
}

static void
test_evaluate (void)
{
  xmlDoc *doc = xmlReadMemory (instance_xml, sizeof instance_xml - 1, "instance.xml", "UTF-8", 0);
  xmlDoc *cities = xmlReadMemory (cities_xml, sizeof cities_xml - 1, "cities.xml", "UTF-8", 0);
  g_autoptr(GHashTable) instances = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_nonnull (doc);
  g_assert_nonnull (cities);
  g_hash_table_insert (instances, (char *) "cities", cities);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HearthXPathExpr) e = hearth_xpath_parse (cases[i].expr, &error);
      xmlNode *node;
      HearthXPathContext ctx = { 0 };
      g_autoptr(HearthXValue) v = NULL;
      g_autofree char *text = NULL;

      g_assert_no_error (error);
      node = cases[i].context != NULL ? find (doc, cases[i].context, instances) : xmlDocGetRootElement (doc);
      ctx.node = node;
      ctx.current = node;
      ctx.instances = instances;
      ctx.today = "2026-11-29";
      v = hearth_xpath_evaluate (e, &ctx, &error);
      g_assert_no_error (error);
      text = hearth_xvalue_to_string (v);
      if (g_strcmp0 (text, cases[i].expected) != 0)
        g_error ("%s gave \"%s\", expected \"%s\"", cases[i].expr, text, cases[i].expected);
    }
  xmlFreeDoc (doc);
  xmlFreeDoc (cities);
}

static void
test_errors (void)
{
  xmlDoc *doc = xmlReadMemory (instance_xml, sizeof instance_xml - 1, "instance.xml", "UTF-8", 0);

  for (gsize i = 0; i < G_N_ELEMENTS (errors); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HearthXPathExpr) e = hearth_xpath_parse (errors[i].expr, &error);
      HearthXPathContext ctx = { .node = xmlDocGetRootElement (doc) };
      g_autoptr(HearthXValue) v = NULL;

      g_assert_no_error (error);
      v = hearth_xpath_evaluate (e, &ctx, &error);
      g_assert_null (v);
      g_assert_error (error, HEARTH_XPATH_ERROR, HEARTH_XPATH_ERROR_EVAL);
      g_test_message ("%s: %s", errors[i].expr, error->message);
      g_assert_nonnull (strstr (error->message, errors[i].fragment));
    }
  xmlFreeDoc (doc);
}

static char *
fake_choice_name (gpointer host, const char *value, xmlNode *node)
{
  return g_strdup_printf ("%s:%s:%s", (const char *) host, (const char *) node->name, value);
}

static char *
fake_itext (gpointer host, const char *id)
{
  return g_str_equal (id, "known") ? g_strdup ("已知") : NULL;
}

/* JavaRosa's contextualisation of absolute paths inside a repeat, and the
 * host's jr:choice-name() and jr:itext(). */
static void
test_context_and_hooks (void)
{
  xmlDoc *doc = xmlReadMemory (instance_xml, sizeof instance_xml - 1, "instance.xml", "UTF-8", 0);
  static const struct { const char *expr; gboolean contextualise; const char *expected; } steps[] = {
    { "/data/members/age", TRUE, "38" },
    { "/data/members/age", FALSE, "40" },
    { "count(/data/members)", TRUE, "3" },
    { "sum(/data/members[1]/age)", TRUE, "40" },
    { "/data/household/size", TRUE, "4" },
    { "jr:choice-name('chronic', '/data/members/health')", TRUE, "host:health:chronic" },
    { "jr:choice-name('', '/data/members/health')", TRUE, "" },
    { "jr:itext('known')", TRUE, "已知" },
    { "jr:itext('unknown')", TRUE, "" },
  };
  xmlNode *second_name = find (doc, "/data/members[2]/name", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HearthXPathExpr) e = hearth_xpath_parse (steps[i].expr, &error);
      HearthXPathContext ctx = { .node = second_name, .current = second_name,
                                 .contextualise = steps[i].contextualise,
                                 .choice_name = fake_choice_name, .itext = fake_itext,
                                 .host = (gpointer) "host" };
      g_autoptr(HearthXValue) v = hearth_xpath_evaluate (e, &ctx, &error);
      g_autofree char *text = NULL;

      g_assert_no_error (error);
      text = hearth_xvalue_to_string (v);
      if (g_strcmp0 (text, steps[i].expected) != 0)
        g_error ("%s gave \"%s\", expected \"%s\"", steps[i].expr, text, steps[i].expected);
    }
  xmlFreeDoc (doc);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/xpath/eval/evaluate", test_evaluate);
  g_test_add_func ("/xpath/eval/errors", test_errors);
  g_test_add_func ("/xpath/eval/context-and-hooks", test_context_and_hooks);
  return g_test_run ();
}

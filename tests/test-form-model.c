/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-form-model.c: loading XForms: every real public form of
 * ../shared/corpus/xforms loads (or is refused for a listed reason) and its
 * bind nodesets evaluate over its primary instance; external instances come
 * from a media folder (XML, and CSV with quotes, a BOM and Chinese text);
 * bad forms are refused naming file, line, element and reason.
 */
#include "test-util.h"
#include "form-model.h"
#include "xpath-eval.h"

#include <string.h>

/* Corpus forms Hearth refuses on purpose, with the reason. */
static const struct { const char *file; const char *fragment; const char *why; } refusals[] = {
  { "odk-minimal.xml", "unknown-control", "a control that no XForms engine defines" },
  { "cht-delivery.xml", "difference-in-months", "CHT's own function, not in the ODK specification" },
  { "cht-pnc-danger-sign-follow-up-mother.xml", "difference-in-months", "CHT's own function" },
  { "cht-household-create.xml", "add-date", "CHT's own function" },
  { "cht-person-create.xml", "add-date", "CHT's own function" },
};

static char *
data_file (const char *name)
{
  return g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "forms", name, NULL);
}

static void
test_corpus (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("HEARTH_SHARED_DIR"), "corpus", "xforms", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint loaded = 0, refused = 0, nodesets = 0;

  if (d == NULL)
    {
      g_test_skip ("../shared/corpus/xforms is absent: the corpus test needs the real public XForms");
      return;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(HearthForm) form = NULL;
      gsize r;

      if (!g_str_has_suffix (name, ".xml"))
        continue;
      form = hearth_form_load (path, NULL, &error);
      for (r = 0; r < G_N_ELEMENTS (refusals) && !g_str_equal (refusals[r].file, name); r++)
        ;
      if (r < G_N_ELEMENTS (refusals))
        {
          g_assert_null (form);
          g_assert_error (error, HEARTH_FORM_ERROR, HEARTH_FORM_ERROR_UNSUPPORTED);
          g_assert_nonnull (strstr (error->message, refusals[r].fragment));
          g_assert_nonnull (strstr (error->message, "line "));
          g_test_message ("%s refused (%s): %s", name, refusals[r].why, error->message);
          refused++;
          continue;
        }
      if (form == NULL)
        g_error ("%s: %s", name, error->message);
      g_assert_nonnull (form->primary);
      g_assert_nonnull (xmlDocGetRootElement (form->primary));
      g_assert_cmpuint (form->n_controls, >, 0);
      /* Every bind's nodeset evaluates over the primary instance. */
      for (guint i = 0; i < form->binds->len; i++)
        {
          HearthFormBind *b = g_ptr_array_index (form->binds, i);
          g_autoptr(HearthXPathExpr) e = hearth_xpath_parse (b->nodeset, &error);
          HearthXPathContext ctx = { .node = xmlDocGetRootElement (form->primary),
                                     .instances = form->instances };
          g_autoptr(HearthXValue) v = NULL;

          g_assert_no_error (error);
          v = hearth_xpath_evaluate (e, &ctx, &error);
          if (v == NULL)
            g_error ("%s, line %u: bind %s: %s", name, b->line, b->nodeset, error->message);
          g_assert_cmpint (v->type, ==, HEARTH_XVALUE_NODESET);
          nodesets++;
        }
      loaded++;
    }
  g_test_message ("%u forms loaded, %u refused, %u bind nodesets evaluated", loaded, refused, nodesets);
  g_assert_cmpuint (loaded, >=, 27);
  g_assert_cmpuint (refused, ==, G_N_ELEMENTS (refusals));
}

static void
test_external_instances (void)
{
  g_autofree char *path = data_file ("external.xml");
  g_autofree char *media = data_file ("media");
  g_autofree char *empty = test_make_dir ("no-media");
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthForm) form = hearth_form_load (path, media, &error);
  xmlDoc *villages, *crops;
  xmlNode *root;
  guint items = 0;

  g_assert_no_error (error);
  g_assert_cmpstr (form->title, ==, "External instances");
  g_assert_cmpstr (form->form_id, ==, "external");
  g_assert_cmpstr (form->version, ==, "2026112901");
  g_assert_cmpuint (form->binds->len, ==, 3);
  g_assert_cmpstr (((HearthFormBind *) g_ptr_array_index (form->binds, 2))->preload, ==, "uid");
  villages = g_hash_table_lookup (form->instances, "villages");
  crops = g_hash_table_lookup (form->instances, "crops");
  g_assert_nonnull (villages);
  g_assert_nonnull (crops);
  root = xmlDocGetRootElement (villages);
  for (xmlNode *item = root->children; item != NULL; item = item->next)
    items++;
  g_assert_cmpuint (items, ==, 3);  /* the blank line is no item */

  /* The itemset filter finds the two villages of the township; quoted
   * fields keep their commas and doubled quotes. */
  {
    g_autoptr(HearthXPathExpr) e = hearth_xpath_parse (
        "join('|', instance('villages')/root/item[township = '150402001']/name)", &error);
    HearthXPathContext ctx = { .node = xmlDocGetRootElement (form->primary), .instances = form->instances };
    g_autoptr(HearthXValue) v = hearth_xpath_evaluate (e, &ctx, &error);
    g_autofree char *text = NULL;
    g_assert_no_error (error);
    text = hearth_xvalue_to_string (v);
    g_assert_cmpstr (text, ==, "红山区, 一村|二村");
  }
  {
    g_autoptr(HearthXPathExpr) e = hearth_xpath_parse (
        "concat(instance('villages')/root/item[3]/name, instance('crops')/root/item[2]/label)", &error);
    HearthXPathContext ctx = { .node = xmlDocGetRootElement (form->primary), .instances = form->instances };
    g_autoptr(HearthXValue) v = hearth_xpath_evaluate (e, &ctx, &error);
    g_autofree char *text = NULL;
    g_assert_no_error (error);
    text = hearth_xvalue_to_string (v);
    g_assert_cmpstr (text, ==, "三\"村马铃薯");
  }
  g_clear_pointer (&form, hearth_form_free);

  /* A CSV that is not UTF-8: refused, naming the file. */
  {
    g_autofree char *gb = data_file ("gb18030-csv.xml");
    g_autoptr(HearthForm) refused = hearth_form_load (gb, media, &error);

    g_assert_null (refused);
    g_assert_error (error, HEARTH_FORM_ERROR, HEARTH_FORM_ERROR_MEDIA);
    g_assert_nonnull (strstr (error->message, "names-gb18030.csv is not UTF-8"));
    g_clear_error (&error);
  }

  /* A media folder without the files: refused, naming the file. */
  form = hearth_form_load (path, empty, &error);
  g_assert_null (form);
  g_assert_error (error, HEARTH_FORM_ERROR, HEARTH_FORM_ERROR_MEDIA);
  g_assert_nonnull (strstr (error->message, "villages.csv"));
}

static void
assert_refused (const char *file, int code, const char *line, const char *fragment)
{
  g_autofree char *path = data_file (file);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthForm) form = hearth_form_load (path, NULL, &error);

  g_assert_null (form);
  g_assert_error (error, HEARTH_FORM_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, file));
  if (line != NULL)
    g_assert_nonnull (strstr (error->message, line));
  g_assert_nonnull (strstr (error->message, fragment));
}

static void
test_refusals (void)
{
  assert_refused ("space-choice.xml", HEARTH_FORM_ERROR_INVALID, "line 14", "contains a space");
  assert_refused ("bad-expression.xml", HEARTH_FORM_ERROR_INVALID, "line 7", "constraint");
  assert_refused ("bad-expression.xml", HEARTH_FORM_ERROR_INVALID, NULL, "column 14");
  assert_refused ("xhtml-in-body.xml", HEARTH_FORM_ERROR_UNSUPPORTED, "line 10", "<p>");
  assert_refused ("not-well-formed.xml", HEARTH_FORM_ERROR_INVALID, "line ", "not well-formed");
  assert_refused ("no-such-form.xml", HEARTH_FORM_ERROR_INVALID, NULL, "cannot be read");
  assert_refused ("unknown-function.xml", HEARTH_FORM_ERROR_UNSUPPORTED, "line 9", "difference-in-months()");
  assert_refused ("unknown-instance.xml", HEARTH_FORM_ERROR_INVALID, "line 8", "instance('villages')");
  assert_refused ("doctype.xml", HEARTH_FORM_ERROR_INVALID, NULL, "DOCTYPE");
  /* The worker would see the bare id "/data/toilet:label". */
  assert_refused ("missing-itext.xml", HEARTH_FORM_ERROR_INVALID, "line 17", "jr:itext('/data/toilet:label')");
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/forms/model/corpus", test_corpus);
  g_test_add_func ("/forms/model/external-instances", test_external_instances);
  g_test_add_func ("/forms/model/refusals", test_refusals);
  return g_test_run ();
}

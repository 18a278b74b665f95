/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-form-fill.c: the bundled monitoring forms (schema/forms/) filled
 * headlessly through `hearth-cli form fill`, in Chinese and in English, with
 * the answers of tests/data/answers/: the risk level and next visit date
 * each household should get, the refusals each wrong answer file should
 * give (path, kind, message in the chosen language), and the exit codes and
 * answers-JSON rules of ../shared/INTERFACES.md.
 */
#include "test-util.h"

#include <json-glib/json-glib.h>
#include <libxml/parser.h>
#include <string.h>

#define NOW "2026-03-05T10:00:00+08:00"
#define ID "11111111-2222-4333-8444-555555555555"

static char *
source (const char *a, const char *b)
{
  return g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), a, b, NULL);
}

/* Runs form fill; @media NULL means the form's own media folder. */
static void
fill (TestRun *r, const char *form, const char *answers, const char *lang, const char *media)
{
  g_autofree char *form_path = source ("schema/forms", form);
  g_autofree char *answers_path = source ("tests/data/answers", answers);
  g_autofree char *media_path = media != NULL ? source ("tests/data/answers", media) : NULL;
  const char *args[16] = { "form", "fill", form_path, "--answers", answers_path, "--now", NOW,
                           "--instance-id", ID, NULL };
  guint n = 9;

  if (lang != NULL)
    {
      args[n++] = "--lang";
      args[n++] = lang;
    }
  if (media_path != NULL)
    {
      args[n++] = "--media";
      args[n++] = media_path;
    }
  test_run_cliv (r, NULL, args);
}

/* The forms and the outcome each answers file must give. */
static const struct {
  const char *form, *answers, *lang, *media;
  const char *risk_level, *next_visit;
} filled[] = {
  { "household-registration.xml", "registration-zh.json", "zh", NULL, NULL, "2026-03-08" },
  { "household-registration.xml", "registration-en.json", "en", NULL, NULL, "2026-03-08" },
  { "household-visit.xml", "visit-zh.json", "zh", NULL, "orange", "2026-03-12" },
  { "household-visit.xml", "visit-en.json", "English (en)", NULL, "red", "2026-03-08" },
  { "household-visit.xml", "visit-eliminated-zh.json", "中文 (zh)", "media-no-labour", "yellow", "2026-04-04" },
  { "follow-up.xml", "follow-up-zh.json", "zh", NULL, "none", "2026-06-03" },
  { "follow-up.xml", "follow-up-en.json", "en", NULL, "red", "2026-03-08" },
};

static void
test_filled (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (filled); i++)
    {
      g_auto(TestRun) r = { 0 };
      g_autofree char *id = NULL;
      g_autofree char *next = NULL;
      g_autoptr(GError) error = NULL;
      xmlDoc *doc;

      fill (&r, filled[i].form, filled[i].answers, filled[i].lang, filled[i].media);
      if (r.status != 0)
        g_error ("%s: exit %d\n%s%s", filled[i].answers, r.status, r.out, r.err);
      g_assert_true (g_str_has_prefix (r.out, "<?xml"));
      /* The submission is well-formed XML. */
      doc = xmlReadMemory (r.out, (int) strlen (r.out), "submission.xml", "UTF-8", XML_PARSE_NONET);
      g_assert_nonnull (doc);
      xmlFreeDoc (doc);
      id = test_xml_element (r.out, "instanceID");
      g_assert_cmpstr (id, ==, "uuid:" ID);
      next = test_xml_element (r.out, "next_visit_date");
      g_assert_cmpstr (next, ==, filled[i].next_visit);
      if (filled[i].risk_level != NULL)
        {
          g_autofree char *level = test_xml_element (r.out, "risk_level");
          g_assert_cmpstr (level, ==, filled[i].risk_level);
          /* An update of the household entity, from the case. */
          g_assert_nonnull (strstr (r.out, "update=\"1\""));
          g_assert_nonnull (strstr (r.out, "baseVersion=\""));
          g_assert_null (strstr (r.out, "baseVersion=\"\""));
        }
      else
        g_assert_nonnull (strstr (r.out, "create=\"1\""));
    }
}

static void
test_registration_details (void)
{
  g_auto(TestRun) r = { 0 };
  g_autofree char *head = NULL;
  g_autofree char *count = NULL;

  fill (&r, "household-registration.xml", "registration-en.json", "en", NULL);
  g_assert_cmpint (r.status, ==, 0);
  /* The head's lowercase x is normalised; sex and birth date come from the
   * ID number (GB 11643). */
  head = test_xml_element (r.out, "head_id_number");
  g_assert_cmpstr (head, ==, "15042219781205005X");
  count = test_xml_element (r.out, "member_count");
  g_assert_cmpstr (count, ==, "4");
  g_assert_nonnull (strstr (r.out, "<sex>1</sex><birth_date>1978-12-05</birth_date>"));
}

/* Refused answers: the paths and kinds, with the form's own messages in
 * the chosen language. */
static const struct {
  const char *form, *answers, *lang, *media;
  const char *paths;  /* space-separated, in order */
  const char *message_fragment;
} refused[] = {
  { "household-registration.xml", "registration-checksum-invalid.json", "zh", NULL,
    "/data/members[3]/id_number", "身份证" },
  { "household-registration.xml", "registration-checksum-invalid.json", "en", NULL,
    "/data/members[3]/id_number", "identity number" },
  { "household-registration.xml", "registration-birthdate-invalid.json", "zh", NULL,
    "/data/members[3]/id_number /data/members[4]/id_number", NULL },
  { "household-registration.xml", "registration-two-heads-invalid.json", "zh", NULL,
    "/data/members[1]/relation /data/members[2]/relation /data/check/members_confirmed", NULL },
  { "household-registration.xml", "registration-no-head-invalid.json", "zh", NULL,
    "/data/check/members_confirmed", NULL },
  { "household-registration.xml", "registration-fields-invalid.json", "zh", NULL,
    "/data/household/village_code /data/household/phone /data/members[2]/labour /data/members[5]/months_worked", NULL },
  { "household-visit.xml", "visit-wages-invalid.json", "zh", NULL, "/data/income/wages_public", NULL },
  { "household-visit.xml", "visit-risk-types-invalid.json", "en", NULL, "/data/risks/risk_types", NULL },
  { "household-visit.xml", "visit-employment-invalid.json", "zh", "media-no-labour", "/data/risks/risk_types", NULL },
  { "follow-up.xml", "follow-up-changes-invalid.json", "zh", NULL, "/data/changes/changes", NULL },
  { "follow-up.xml", "follow-up-elimination-invalid.json", "en", NULL, "/data/risks/propose_elimination", NULL },
};

static gboolean
has_cjk (const char *s)
{
  for (const char *p = s; *p != '\0'; p = g_utf8_next_char (p))
    if (g_utf8_get_char (p) >= 0x4e00 && g_utf8_get_char (p) <= 0x9fff)
      return TRUE;
  return FALSE;
}

static void
test_refused (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_auto(TestRun) r = { 0 };
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;
      g_auto(GStrv) want = g_strsplit (refused[i].paths, " ", -1);
      JsonArray *errors;

      fill (&r, refused[i].form, refused[i].answers, refused[i].lang, refused[i].media);
      g_assert_cmpint (r.status, ==, 1);
      json_parser_load_from_data (parser, r.out, -1, &error);
      g_assert_no_error (error);
      errors = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "errors");
      g_assert_cmpuint (json_array_get_length (errors), ==, g_strv_length (want));
      for (guint k = 0; k < json_array_get_length (errors); k++)
        {
          JsonObject *e = json_array_get_object_element (errors, k);
          const char *message = json_object_get_string_member (e, "message");

          g_assert_cmpstr (json_object_get_string_member (e, "path"), ==, want[k]);
          g_assert_nonnull (json_object_get_string_member (e, "kind"));
          g_assert_true (g_str_equal (json_object_get_string_member (e, "kind"), "constraint") ||
                         g_str_equal (json_object_get_string_member (e, "kind"), "required"));
          g_assert_true (message != NULL && message[0] != '\0');
          if (refused[i].message_fragment != NULL && k == 0)
            g_assert_nonnull (strstr (message, refused[i].message_fragment));
          /* Chinese answers get Chinese messages. */
          g_assert_true (has_cjk (message) == g_str_equal (refused[i].lang, "zh"));
        }
    }
}

/* The answers-JSON rules: unknown, calculated and read-only paths, types,
 * JSON numbers and arrays, repeat indices, jr:count, non-relevant answers,
 * and a form or file that cannot be read. */
static void
test_answers_rules (void)
{
  g_autofree char *dir = test_make_dir ("form-fill");
  g_autofree char *form = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "forms",
                                            "session.xml", NULL);
  static const struct { const char *json; int status; const char *expect; } cases[] = {
    { "{\"/data/n\": 3, \"/data/a\": 0.1, \"/data/water\": [\"well\", \"river\"], \"/data/members[2]/mname\": \"李四\","
      " \"/data/members[1]/mname\": \"王五\", \"/data/k\": \"2\", \"/data/fixed[2]/slot\": \"b\"}",
      0, "<a>0.1</a><b>0.2</b><c>1.2</c>" },
    { "{\"/data/n\": 3, \"/data/water\": [\"well\", \"river\"]}", 0, "<water>well river</water>" },
    { "{\"/data/n\": 1, \"/data/details/note\": \"dropped\"}", 0, "<water/>" },
    { "{\"/data/n\": 3, \"/data/nosuch\": \"1\"}", 1, "\"kind\" : \"unknown-path\"" },
    { "{\"/data/n\": 3, \"/data/b\": \"1\"}", 1, "\"kind\" : \"readonly\"" },
    { "{\"/data/n\": 3, \"/data/chinese\": \"1\"}", 1, "\"kind\" : \"readonly\"" },
    { "{\"/data/n\": \"three\"}", 1, "\"kind\" : \"type\"" },
    { "{\"/data/n\": {\"x\": 1}}", 1, "\"kind\" : \"type\"" },
    { "{\"/data/n\": 3, \"/data/k\": \"1\", \"/data/fixed[2]/slot\": \"b\"}", 1, "jr:count" },
    { "{\"/data/n\": null}", 1, "\"kind\" : \"required\"" },
    { "{\"/data/n\": 30}", 1, "\"kind\" : \"constraint\"" },
    { "{\"/data/n\": \"3\", \"/data/n\" : \"4\"}", 1, NULL },
    { "{\"/data/n\": 99999999999999999999}", 1, NULL },
    { "{\"/data/name\": \"a\\u0000b\"}", 1, NULL },
    { "{\"/data/name\": \"a\\u0001b\", \"/data/n\": 3}", 1, "control character" },
    { "{\"/data/n\": 3, \"/data/a\": \"1234567890.1234567\"}", 1, "15 significant digits" },
    { "{\"/data/n\": 3, \"/data/water\": [\"well river\"]}", 1, "without spaces" },
    { "[1, 2]", 1, NULL },
    { "{\"/data/n\": ", 1, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(TestRun) r = { 0 };
      g_autofree char *answers = g_build_filename (dir, "answers.json", NULL);

      g_assert_true (g_file_set_contents (answers, cases[i].json, -1, NULL));
      test_run_cli (&r, NULL, "form", "fill", form, "--answers", answers, "--now", NOW, "--instance-id", ID, NULL);
      if (r.status != cases[i].status)
        g_error ("%s: exit %d, expected %d\n%s%s", cases[i].json, r.status, cases[i].status, r.out, r.err);
      if (cases[i].expect != NULL)
        g_assert_nonnull (strstr (r.out, cases[i].expect));
      else
        g_assert_true (r.err[0] != '\0' && r.out[0] == '\0');
      if (i == 2)
        g_assert_null (strstr (r.out, "dropped"));
    }
  /* A form that cannot be loaded: element, line and reason on stderr. */
  {
    g_auto(TestRun) r = { 0 };
    g_autofree char *bad = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "forms",
                                             "bad-expression.xml", NULL);
    g_autofree char *answers = g_build_filename (dir, "empty.json", NULL);

    g_assert_true (g_file_set_contents (answers, "{}", -1, NULL));
    test_run_cli (&r, NULL, "form", "fill", bad, "--answers", answers, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "line"));
    test_run_clear (&r);
    test_run_cli (&r, NULL, "form", "fill", bad, NULL);
    g_assert_cmpint (r.status, ==, 2);
    test_run_clear (&r);
    test_run_cli (&r, NULL, "form", "fill", form, "--answers", answers, "--instance-id", "not-a-uuid", NULL);
    g_assert_cmpint (r.status, ==, 2);
  }
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/form/fill/bundled", test_filled);
  g_test_add_func ("/form/fill/registration-details", test_registration_details);
  g_test_add_func ("/form/fill/refused", test_refused);
  g_test_add_func ("/form/fill/answers-rules", test_answers_rules);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-form-session.c: filling forms through the session API, and the
 * semantics the forms issue names, each a test: a blank is not zero,
 * numbers keep the number rule, calendar dates do not move with the time
 * zone (meson runs this program under Pacific/Kiritimati and under
 * America/Los_Angeles) and survive a draft untouched, select-multiple
 * answers keep every choice, Chinese is counted in characters; and the
 * dependency graph recomputes only what depends on a change, refuses
 * cycles by name, drops non-relevant answers, handles repeats, actions,
 * pages, languages, drafts and finalised edits.
 */
#include "test-util.h"
#include "form-session.h"

#include <libxml/parser.h>
#include <string.h>

#define NOW "2026-11-29T10:00:00.000+08:00"
#define ID "11111111-2222-4333-8444-555555555555"

static char *
data_file (const char *name)
{
  return g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "forms", name, NULL);
}

static HearthForm *
load (const char *name)
{
  g_autofree char *path = data_file (name);
  g_autoptr(GError) error = NULL;
  HearthForm *form = hearth_form_load (path, NULL, &error);

  g_assert_no_error (error);
  return form;
}

static HearthFormSession *
start (const char *name, const char *language)
{
  HearthFormSessionOptions options = { .now = NOW, .instance_id = ID, .language = language };
  g_autoptr(GError) error = NULL;
  HearthFormSession *s = hearth_form_session_new (load (name), &options, &error);

  g_assert_no_error (error);
  g_assert_nonnull (s);
  return s;
}

static void
set (HearthFormSession *s, const char *path, const char *value)
{
  g_autoptr(GError) error = NULL;

  hearth_form_session_set_value (s, path, value, &error);
  g_assert_no_error (error);
}

static void
assert_value (HearthFormSession *s, const char *path, const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *value = hearth_form_session_get_value (s, path, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (value, ==, expected);
}

static char *
finalise (HearthFormSession *s)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) issues = NULL;
  char *xml = hearth_form_session_finalise (s, &issues, &error);

  if (xml == NULL && issues != NULL)
    for (guint i = 0; i < issues->len; i++)
      g_test_message ("issue: %s %s %s", ((HearthFormIssue *) issues->pdata[i])->path,
                      ((HearthFormIssue *) issues->pdata[i])->kind, ((HearthFormIssue *) issues->pdata[i])->message);
  g_assert_no_error (error);
  g_assert_nonnull (xml);
  return xml;
}

/* The minimum every submission of session.xml needs. */
static void
fill_required (HearthFormSession *s)
{
  set (s, "/data/n", "3");
}

/* A blank integer is neither less than 1 nor zero. */
static void
test_blank_is_not_zero (void)
{
  g_autoptr(HearthFormSession) s = start ("session.xml", NULL);

  assert_value (s, "/data/small", "not small");
  set (s, "/data/n", "0");
  assert_value (s, "/data/small", "small");
  set (s, "/data/n", "");
  assert_value (s, "/data/small", "not small");
  /* A blank decimal makes what is computed from it blank, not 1. */
  assert_value (s, "/data/e", "");
  set (s, "/data/d", "0");
  assert_value (s, "/data/e", "1");
}

static void
test_number_rule (void)
{
  g_autoptr(HearthFormSession) s = start ("session.xml", NULL);
  g_autofree char *xml = NULL;
  g_autofree char *sum = NULL;
  g_autofree char *rounded = NULL;

  fill_required (s);
  set (s, "/data/a", "12.50");
  assert_value (s, "/data/a", "12.5");
  assert_value (s, "/data/c", "26");
  xml = finalise (s);
  sum = test_xml_element (xml, "sum");
  rounded = test_xml_element (xml, "rounded");
  g_assert_cmpstr (sum, ==, "0.3");
  g_assert_cmpstr (rounded, ==, "47.23");
}

/* Dates are calendar dates: the same under any time zone, and a draft
 * resumed and finalised keeps a date, a time and a dateTime exactly. */
static void
test_dates_keep (void)
{
  g_autoptr(HearthFormSession) s = start ("session.xml", NULL);
  g_autoptr(HearthFormSession) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *draft = NULL;
  g_autofree char *xml = NULL;
  static const struct { const char *name, *value; } kept[] = {
    { "visit_date", "2024-03-05" }, { "visit_time", "09:30:00.000+08:00" },
    { "visit_at", "2024-03-05T23:30:00.000+08:00" }, { "due", "2024-03-08" },
    { "loaded", "first 2026-11-29" },
  };

  g_test_message ("TZ=%s", g_getenv ("TZ") != NULL ? g_getenv ("TZ") : "(unset)");
  fill_required (s);
  set (s, "/data/visit_date", "2024-03-05");
  set (s, "/data/visit_time", "09:30:00.000+08:00");
  set (s, "/data/visit_at", "2024-03-05T23:30:00.000+08:00");
  assert_value (s, "/data/due", "2024-03-08");
  draft = hearth_form_session_save_draft (s);
  again = hearth_form_session_new_from_draft (load ("session.xml"), draft, -1, FALSE, NULL, &error);
  g_assert_no_error (error);
  xml = finalise (again);
  for (gsize i = 0; i < G_N_ELEMENTS (kept); i++)
    {
      g_autofree char *v = test_xml_element (xml, kept[i].name);
      g_assert_cmpstr (v, ==, kept[i].value);
    }
  /* Without a fixed clock, today() is the local calendar date. */
  {
    g_autoptr(HearthFormSession) clock = hearth_form_session_new (load ("session.xml"), NULL, &error);
    g_autoptr(GDateTime) now = g_date_time_new_now_local ();
    g_autofree char *today = g_date_time_format (now, "first %Y-%m-%d");
    g_autofree char *loaded = hearth_form_session_get_value (clock, "/data/loaded", NULL);

    g_assert_no_error (error);
    g_assert_cmpstr (loaded, ==, today);
  }
}

static void
test_select_multiple_kept (void)
{
  g_autoptr(HearthFormSession) s = start ("session.xml", NULL);
  g_autoptr(HearthFormSession) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *draft = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *water = NULL;
  const char *names[] = { "river", "piped", "river", "well", NULL };

  fill_required (s);
  hearth_form_session_set_choices (s, "/data/water", names, &error);
  g_assert_no_error (error);
  assert_value (s, "/data/water", "river piped well");
  assert_value (s, "/data/water_label", "河水");
  draft = hearth_form_session_save_draft (s);
  again = hearth_form_session_new_from_draft (load ("session.xml"), draft, -1, FALSE, NULL, &error);
  g_assert_no_error (error);
  xml = finalise (again);
  water = test_xml_element (xml, "water");
  g_assert_cmpstr (water, ==, "river piped well");
  /* A name that is not a choice is refused, naming it. */
  hearth_form_session_set_value (again, "/data/water", "well lake", &error);
  g_assert_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_TYPE);
  g_assert_nonnull (strstr (error->message, "lake"));
}

static void
test_chinese_characters (void)
{
  g_autoptr(HearthFormSession) s = start ("session.xml", NULL);
  g_autoptr(GPtrArray) issues = NULL;

  fill_required (s);
  set (s, "/data/name", "张三丰");  /* 3 characters, 9 bytes */
  issues = hearth_form_session_validate (s, "/data/name");
  g_assert_cmpuint (issues->len, ==, 0);
  set (s, "/data/name", "张三");
  g_clear_pointer (&issues, g_ptr_array_unref);
  issues = hearth_form_session_validate (s, "/data/name");
  g_assert_cmpuint (issues->len, ==, 1);
  g_assert_cmpstr (((HearthFormIssue *) issues->pdata[0])->kind, ==, "constraint");
}

/* Setting one answer recomputes the chain that reads it and nothing else. */
static void
test_incremental (void)
{
  g_autoptr(HearthFormSession) s = start ("session.xml", NULL);
  guint64 before, cost_a, cost_d;

  before = hearth_form_session_get_evaluations (s);
  set (s, "/data/a", "2");
  cost_a = hearth_form_session_get_evaluations (s) - before;
  assert_value (s, "/data/b", "4");
  assert_value (s, "/data/c", "5");
  /* b and c: two calculations, nothing else. */
  g_assert_cmpuint (cost_a, ==, 2);
  before = hearth_form_session_get_evaluations (s);
  set (s, "/data/d", "2");
  cost_d = hearth_form_session_get_evaluations (s) - before;
  g_assert_cmpuint (cost_d, ==, 1);
  assert_value (s, "/data/e", "3");
  assert_value (s, "/data/c", "5");
  /* Setting the same value again costs nothing. */
  before = hearth_form_session_get_evaluations (s);
  set (s, "/data/d", "2");
  g_assert_cmpuint (hearth_form_session_get_evaluations (s) - before, ==, 0);
}

static void
test_cycle_named (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthFormSession) s = hearth_form_session_new (load ("cycle.xml"), NULL, &error);

  g_assert_null (s);
  g_assert_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_CYCLE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "/data/x"));
  g_assert_nonnull (strstr (error->message, "/data/y"));
  g_assert_nonnull (strstr (error->message, "/data/z"));
  /* Downstream of the cycle, but not in it. */
  g_assert_null (strstr (error->message, "/data/after"));
}

/* A read of a node the instance lacks is refused, naming bind and path. */
static void
test_dangling_reference (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthFormSession) s = hearth_form_session_new (load ("dangling.xml"), NULL, &error);

  g_assert_null (s);
  g_assert_error (error, HEARTH_FORM_ERROR, HEARTH_FORM_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "/data/max_age"));
  g_assert_nonnull (strstr (error->message, "line 9"));
}

static void
test_relevance (void)
{
  g_autoptr(HearthFormSession) s = start ("session.xml", NULL);
  g_autofree char *xml = NULL;
  g_autofree char *deep = NULL;

  set (s, "/data/n", "1");
  /* Answering a non-relevant question is accepted... */
  set (s, "/data/details/inner/deep", "kept in the draft");
  g_assert_false (hearth_form_session_is_relevant (s, "/data/details/inner/deep"));
  {
    g_autofree char *draft = hearth_form_session_save_draft (s);
    g_assert_nonnull (strstr (draft, "kept in the draft"));
  }
  /* ...and dropped from the submission with its group. */
  xml = finalise (s);
  g_assert_null (strstr (xml, "<details"));
  g_assert_null (strstr (xml, "kept in the draft"));
  g_free (xml);
  set (s, "/data/n", "5");
  g_assert_true (hearth_form_session_is_relevant (s, "/data/details/inner/deep"));
  xml = finalise (s);
  deep = test_xml_element (xml, "deep");
  g_assert_cmpstr (deep, ==, "kept in the draft");
}

static void
test_repeats (void)
{
  g_autoptr(HearthFormSession) s = start ("session.xml", NULL);
  g_autoptr(GError) error = NULL;
  guint index = 0;

  g_assert_cmpint (hearth_form_session_count_repeat (s, "/data/members", NULL), ==, 0);
  hearth_form_session_add_repeat (s, "/data/members", &index, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (index, ==, 1);
  hearth_form_session_add_repeat (s, "/data/members", &index, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (index, ==, 2);
  assert_value (s, "/data/members[2]/added", "new 2");
  set (s, "/data/members[1]/age", "40");
  {
    /* A change in one instance recomputes that instance only. */
    guint64 before = hearth_form_session_get_evaluations (s);
    set (s, "/data/members[2]/age", "10");
    g_assert_cmpuint (hearth_form_session_get_evaluations (s) - before, ==, 1);
  }
  /* Absolute paths inside a repeat mean the same instance. */
  assert_value (s, "/data/members[1]/adult", "yes");
  assert_value (s, "/data/members[2]/adult", "no");
  hearth_form_session_remove_repeat (s, "/data/members[1]", &error);
  g_assert_no_error (error);
  assert_value (s, "/data/members[1]/age", "10");
  assert_value (s, "/data/members[1]/adult", "no");

  /* jr:count follows its expression; adding by hand is refused. */
  g_assert_cmpint (hearth_form_session_count_repeat (s, "/data/fixed", NULL), ==, 0);
  set (s, "/data/k", "3");
  g_assert_cmpint (hearth_form_session_count_repeat (s, "/data/fixed", NULL), ==, 3);
  set (s, "/data/k", "1");
  g_assert_cmpint (hearth_form_session_count_repeat (s, "/data/fixed", NULL), ==, 1);
  g_assert_false (hearth_form_session_add_repeat (s, "/data/fixed", NULL, &error));
  g_assert_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_REPEAT);
  g_clear_error (&error);
  g_assert_false (hearth_form_session_remove_repeat (s, "/data/locked[1]", &error));
  g_assert_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_REPEAT);
  g_clear_error (&error);
  g_assert_false (hearth_form_session_add_repeat (s, "/data/name", NULL, &error));
  g_assert_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_REPEAT);
}

static void
test_refusals (void)
{
  g_autoptr(HearthFormSession) s = start ("session.xml", NULL);
  static const struct { const char *path, *value; int code; const char *fragment; } cases[] = {
    { "/data/nosuch", "1", HEARTH_FORM_SESSION_ERROR_UNKNOWN_PATH, "/data/nosuch" },
    { "/data/members[3]/mname", "x", HEARTH_FORM_SESSION_ERROR_UNKNOWN_PATH, "members[3]" },
    { "/data/details", "x", HEARTH_FORM_SESSION_ERROR_UNKNOWN_PATH, "group" },
    { "//name", "x", HEARTH_FORM_SESSION_ERROR_UNKNOWN_PATH, "//name" },
    { "/data/b", "1", HEARTH_FORM_SESSION_ERROR_READONLY, "calculated" },
    { "/data/chinese", "1", HEARTH_FORM_SESSION_ERROR_READONLY, "read-only" },
    { "/data/meta/instanceID", "uuid:x", HEARTH_FORM_SESSION_ERROR_READONLY, "read-only" },
    { "/data/n", "2.5", HEARTH_FORM_SESSION_ERROR_TYPE, "whole number" },
    { "/data/n", "99999999999", HEARTH_FORM_SESSION_ERROR_TYPE, "whole number" },
    { "/data/a", "1e5", HEARTH_FORM_SESSION_ERROR_TYPE, "number" },
    { "/data/a", "abc", HEARTH_FORM_SESSION_ERROR_TYPE, "number" },
    { "/data/visit_date", "2023-02-29", HEARTH_FORM_SESSION_ERROR_TYPE, "YYYY-MM-DD" },
    { "/data/visit_date", "2024-3-5", HEARTH_FORM_SESSION_ERROR_TYPE, "YYYY-MM-DD" },
    { "/data/visit_time", "25:00", HEARTH_FORM_SESSION_ERROR_TYPE, "HH:MM" },
    { "/data/visit_at", "2024-03-05T10:00:00", HEARTH_FORM_SESSION_ERROR_TYPE, "offset" },
    { "/data/place", "91 10", HEARTH_FORM_SESSION_ERROR_TYPE, "latitude" },
    { "/data/place", "30 120 5 -1", HEARTH_FORM_SESSION_ERROR_TYPE, "latitude" },
    { "/data/photo", "../etc/passwd", HEARTH_FORM_SESSION_ERROR_TYPE, "file name" },
    { "/data/water", "lake", HEARTH_FORM_SESSION_ERROR_TYPE, "lake" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (hearth_form_session_set_value (s, cases[i].path, cases[i].value, &error));
      g_assert_error (error, HEARTH_FORM_SESSION_ERROR, cases[i].code);
      g_test_message ("%s = %s: %s", cases[i].path, cases[i].value, error->message);
      g_assert_nonnull (strstr (error->message, cases[i].fragment));
    }
  /* Nothing refused was stored. */
  assert_value (s, "/data/n", "");
  assert_value (s, "/data/visit_date", "");
  set (s, "/data/place", "30.5 120.25 12 5");
  set (s, "/data/photo", "house.jpg");
}

/* Messages and labels in the current language, outputs evaluated. */
static void
test_languages_and_pages (void)
{
  g_autoptr(HearthFormSession) s = start ("session.xml", "en");
  g_autoptr(GPtrArray) issues = NULL;
  g_autoptr(GPtrArray) pages = NULL;
  g_autoptr(GError) error = NULL;
  HearthFormPage *page;
  HearthFormQuestion *q;
  gboolean saw_prompt = FALSE;

  g_assert_cmpstr (hearth_form_session_get_language (s), ==, "English (en)");
  issues = hearth_form_session_validate (s, NULL);
  g_assert_cmpuint (issues->len, ==, 1);
  g_assert_cmpstr (((HearthFormIssue *) issues->pdata[0])->path, ==, "/data/n");
  g_assert_cmpstr (((HearthFormIssue *) issues->pdata[0])->kind, ==, "required");
  g_assert_cmpstr (((HearthFormIssue *) issues->pdata[0])->message, ==, "Give the number of people");
  set (s, "/data/n", "30");
  g_clear_pointer (&issues, g_ptr_array_unref);
  g_assert_true (hearth_form_session_set_language (s, "中文 (zh)", &error));
  issues = hearth_form_session_validate (s, NULL);
  g_assert_cmpuint (issues->len, ==, 1);
  g_assert_cmpstr (((HearthFormIssue *) issues->pdata[0])->message, ==, "人数必须在 1 到 20 之间");
  g_assert_false (hearth_form_session_set_language (s, "fr", &error));
  g_assert_nonnull (error);

  set (s, "/data/n", "4");
  set (s, "/data/name", "张三丰");
  pages = hearth_form_session_pages (s);
  page = pages->pdata[1];
  q = page->questions->pdata[0];
  g_assert_cmpstr (q->path, ==, "/data/n");
  g_assert_cmpstr (q->label, ==, "人数：4");
  g_assert_true (q->required);
  /* The field-list group is one page with its nested questions. */
  for (guint i = 0; i < pages->len; i++)
    {
      page = pages->pdata[i];
      if (page->kind == HEARTH_FORM_PAGE_QUESTIONS && g_strcmp0 (page->path, "/data/details") == 0)
        {
          g_assert_cmpstr (page->label, ==, "详情");
          g_assert_cmpuint (page->questions->len, ==, 2);
          q = page->questions->pdata[0];
          g_assert_cmpstr (q->label, ==, "Note for 张三丰");
          q = page->questions->pdata[1];
          g_assert_cmpstr (q->path, ==, "/data/details/inner/deep");
        }
      if (page->kind == HEARTH_FORM_PAGE_REPEAT_PROMPT && g_strcmp0 (page->repeat, "/data/members") == 0)
        {
          g_assert_cmpuint (page->repeat_count, ==, 0);
          g_assert_cmpstr (page->path, ==, "/data");
          saw_prompt = TRUE;
        }
      /* Neither jr:count nor noAddRemove repeats offer a prompt. */
      g_assert_true (page->kind != HEARTH_FORM_PAGE_REPEAT_PROMPT || g_str_equal (page->repeat, "/data/members"));
    }
  g_assert_true (saw_prompt);
  /* Select choices carry their labels in the language. */
  for (guint i = 0; i < pages->len; i++)
    {
      page = pages->pdata[i];
      q = page->questions->len > 0 ? page->questions->pdata[0] : NULL;
      if (q != NULL && g_str_equal (q->path, "/data/water"))
        {
          g_assert_cmpuint (q->choices->len, ==, 3);
          g_assert_cmpstr (((HearthFormChoiceItem *) q->choices->pdata[1])->label, ==, "井水");
        }
    }
}

/* A field-list repeat (the registration's members) is one page per
 * instance, labelled as the group around it, followed by the prompt. */
static void
test_field_list_repeat_pages (void)
{
  HearthFormSessionOptions options = { .now = NOW, .instance_id = ID, .language = "en" };
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthFormSession) s = hearth_form_session_new (test_load_bundled_form ("household-registration.xml"),
                                                            &options, &error);
  g_autoptr(GPtrArray) pages = NULL;
  guint member_pages = 0, prompts = 0;

  g_assert_no_error (error);
  g_assert_true (hearth_form_session_add_repeat (s, "/data/members", NULL, &error));
  pages = hearth_form_session_pages (s);
  for (guint i = 0; i < pages->len; i++)
    {
      HearthFormPage *page = pages->pdata[i];

      if (page->kind == HEARTH_FORM_PAGE_REPEAT_PROMPT)
        {
          g_assert_cmpstr (page->repeat, ==, "/data/members");
          g_assert_cmpuint (page->repeat_count, ==, 2);
          /* After both instances. */
          g_assert_cmpuint (member_pages, ==, 2);
          prompts++;
        }
      else if (g_strcmp0 (page->repeat, "/data/members") == 0)
        {
          g_autofree char *path = g_strdup_printf ("/data/members[%u]", member_pages + 1);

          g_assert_cmpstr (page->path, ==, path);
          g_assert_cmpstr (page->label, ==, "Household members");
          g_assert_cmpuint (page->questions->len, >=, 10);
          g_assert_true (g_str_has_prefix (((HearthFormQuestion *) page->questions->pdata[0])->path, path));
          member_pages++;
        }
    }
  g_assert_cmpuint (member_pages, ==, 2);
  g_assert_cmpuint (prompts, ==, 1);
}

/* Editing a finalised submission: a new instanceID, the old one kept as
 * deprecatedID; a draft of another form is refused. */
static void
test_drafts (void)
{
  g_autoptr(HearthFormSession) s = start ("session.xml", NULL);
  g_autoptr(HearthFormSession) edit = NULL;
  g_autoptr(GError) error = NULL;
  HearthFormSessionOptions options = { .instance_id = "uuid:aaaaaaaa-2222-4333-8444-555555555555" };
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *deprecated = NULL;
  g_autofree char *id = NULL;

  fill_required (s);
  g_assert_cmpstr (hearth_form_session_get_instance_id (s), ==, "uuid:" ID);
  first = finalise (s);
  edit = hearth_form_session_new_from_draft (load ("session.xml"), first, -1, TRUE, &options, &error);
  g_assert_no_error (error);
  second = finalise (edit);
  id = test_xml_element (second, "instanceID");
  deprecated = test_xml_element (second, "deprecatedID");
  g_assert_cmpstr (id, ==, "uuid:aaaaaaaa-2222-4333-8444-555555555555");
  g_assert_cmpstr (deprecated, ==, "uuid:" ID);

  g_assert_null (hearth_form_session_new_from_draft (load ("session.xml"), "<other id=\"x\"/>", -1, FALSE, NULL, &error));
  g_assert_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_DRAFT);
  g_clear_error (&error);
  g_assert_null (hearth_form_session_new_from_draft (load ("session.xml"), "<data id=\"session\"><n>", -1, FALSE, NULL, &error));
  g_assert_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_DRAFT);
  g_clear_error (&error);
  /* A submission another tablet sent (the review screen opens it as a
   * draft; the sync relays it unparsed) with a DOCTYPE: its entities
   * change and multiply the text read from what was sent, so it is
   * refused as the form loader and the case store refuse it. */
  g_assert_null (hearth_form_session_new_from_draft (load ("session.xml"),
                                                     "<!DOCTYPE data [<!ENTITY a \"aaaaaaaaaa\">"
                                                     "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
                                                     "<data id=\"session\"><name>&b;</name></data>",
                                                     -1, FALSE, NULL, &error));
  g_assert_error (error, HEARTH_FORM_SESSION_ERROR, HEARTH_FORM_SESSION_ERROR_DRAFT);
}

/* The host (the case model) supplies the `case` instance of a household:
 * it replaces the form's, and first-load actions read it. */
static void
test_case_instance (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "schema", "forms",
                                            "household-visit.xml", NULL);
  g_autofree char *media = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "schema", "forms", "media", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) instances = g_hash_table_new (g_str_hash, g_str_equal);
  static const char case_xml[] = "<household><id>5b0e7c1e-2d4f-4a8b-9c3d-1f2e3a4b5c6d</id><version>9</version>"
                                 "<member_count>7</member_count><members/></household>";
  xmlDoc *doc = xmlReadMemory (case_xml, sizeof case_xml - 1, "case.xml", "UTF-8", 0);
  HearthFormSessionOptions options = { .now = NOW, .instance_id = ID, .instances = instances };
  HearthForm *form = hearth_form_load (path, media, &error);
  g_autoptr(HearthFormSession) s = NULL;

  g_assert_no_error (error);
  g_hash_table_insert (instances, (char *) "case", doc);
  s = hearth_form_session_new (form, &options, &error);
  g_assert_no_error (error);
  xmlFreeDoc (doc);  /* the session keeps its own copy */
  assert_value (s, "/data/income/household_size", "7");
}

/* Corpus forms the engine refuses, with the feature named, and why. */
static const struct { const char *file; const char *fragment; const char *why; } corpus_refusals[] = {
  { "odk-minimal.xml", "unknown-control", "a control that no XForms engine defines" },
  { "cht-delivery.xml", "difference-in-months", "CHT's own function, not in the ODK specification" },
  { "cht-pnc-danger-sign-follow-up-mother.xml", "difference-in-months", "CHT's own function" },
  { "cht-household-create.xml", "add-date", "CHT's own function" },
  { "cht-person-create.xml", "add-date", "CHT's own function" },
};

/* Plausible answers by type, tried in order until one passes validation. */
static const char *const *
candidates (const HearthFormQuestion *q)
{
  static const char *const ints[] = { "3", "1", "0", "20", "150", NULL };
  static const char *const decimals[] = { "2.5", "1", "0", "100", NULL };
  static const char *const dates[] = { "2024-03-05", "2000-01-01", "2026-11-29", "2030-06-15", NULL };
  static const char *const times[] = { "09:30:00.000+08:00", NULL };
  static const char *const date_times[] = { "2024-03-05T09:30:00.000+08:00", NULL };
  static const char *const points[] = { "30.5 120.25 10 5", NULL };
  static const char *const traces[] = { "30.5 120.25 0 0;30.6 120.3 0 0", NULL };
  static const char *const shapes[] = { "30.5 120.25 0 0;30.6 120.3 0 0;30.5 120.4 0 0;30.5 120.25 0 0", NULL };
  static const char *const files[] = { "photo.jpg", NULL };
  static const char *const texts[] = { "测试 text", "abc", "1", "OK", NULL };
  static const char *const booleans[] = { "true", "false", NULL };

  if (g_str_equal (q->type, "int")) return ints;
  if (g_str_equal (q->type, "decimal")) return decimals;
  if (g_str_equal (q->type, "date")) return dates;
  if (g_str_equal (q->type, "time")) return times;
  if (g_str_equal (q->type, "dateTime")) return date_times;
  if (g_str_equal (q->type, "geopoint")) return points;
  if (g_str_equal (q->type, "geotrace")) return traces;
  if (g_str_equal (q->type, "geoshape")) return shapes;
  if (g_str_equal (q->type, "binary")) return files;
  if (g_str_equal (q->type, "boolean")) return booleans;
  return texts;
}

/* Answers one question with the first plausible value that validates. */
static void
answer (HearthFormSession *s, const HearthFormQuestion *q)
{
  g_autoptr(GPtrArray) values = g_ptr_array_new ();
  const char *const *texts = candidates (q);

  if (q->choices != NULL)
    {
      for (guint i = 0; i < q->choices->len; i++)
        g_ptr_array_add (values, ((HearthFormChoiceItem *) q->choices->pdata[i])->value);
    }
  else
    for (gsize i = 0; texts[i] != NULL; i++)
      g_ptr_array_add (values, (gpointer) texts[i]);
  for (guint i = 0; i < values->len; i++)
    {
      g_autoptr(GPtrArray) issues = NULL;

      if (!hearth_form_session_set_value (s, q->path, values->pdata[i], NULL))
        continue;
      issues = hearth_form_session_validate (s, q->path);
      if (issues->len == 0)
        return;
    }
  hearth_form_session_set_value (s, q->path, "", NULL);
}

/* Every corpus form loads (or is refused as listed), is walked page by
 * page and filled with plausible answers, finalises, and its submission
 * parses again and resumes for editing. */
static void
test_corpus_fill (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("HEARTH_SHARED_DIR"), "corpus", "xforms", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint filled = 0, refused = 0;

  if (d == NULL)
    {
      g_test_skip ("../shared/corpus/xforms is absent: the corpus test needs the real public XForms");
      return;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(HearthFormSession) s = NULL;
      g_autoptr(GHashTable) tried = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_autoptr(GPtrArray) issues = NULL;
      g_autofree char *xml = NULL;
      HearthFormSessionOptions options = { .now = NOW, .instance_id = ID };
      HearthForm *form;
      guint adds = 0, answered = 0;
      gsize r;

      if (!g_str_has_suffix (name, ".xml"))
        continue;
      for (r = 0; r < G_N_ELEMENTS (corpus_refusals) && !g_str_equal (corpus_refusals[r].file, name); r++)
        ;
      form = hearth_form_load (path, NULL, &error);
      if (form != NULL)
        s = hearth_form_session_new (form, &options, &error);
      if (r < G_N_ELEMENTS (corpus_refusals))
        {
          if (s != NULL)
            g_error ("%s loaded, but the test lists it as refused (%s)", name, corpus_refusals[r].why);
          g_test_message ("%s refused as expected: %s", name, error->message);
          g_assert_nonnull (strstr (error->message, corpus_refusals[r].fragment));
          refused++;
          continue;
        }
      if (s == NULL)
        g_error ("%s: %s", name, error->message);

      for (guint pass = 0; pass < 6; pass++)
        {
          g_autoptr(GPtrArray) pages = hearth_form_session_pages (s);
          gboolean progress = FALSE;

          for (guint p = 0; p < pages->len; p++)
            {
              HearthFormPage *page = pages->pdata[p];

              if (page->kind == HEARTH_FORM_PAGE_REPEAT_PROMPT)
                {
                  g_autofree char *where = g_strdup_printf ("%s/%s", page->path, strrchr (page->repeat, '/') + 1);
                  if (page->repeat_count < 2 && adds < 8 && !g_hash_table_contains (tried, where))
                    {
                      hearth_form_session_add_repeat (s, where, NULL, &error);
                      g_assert_no_error (error);
                      adds++;
                      progress = TRUE;
                    }
                  g_hash_table_add (tried, g_steal_pointer (&where));
                  continue;
                }
              for (guint k = 0; k < page->questions->len; k++)
                {
                  HearthFormQuestion *q = page->questions->pdata[k];

                  g_autofree char *now_value = NULL;

                  if (q->readonly || (q->control->kind == HEARTH_CONTROL_TRIGGER && !q->required) ||
                      g_hash_table_contains (tried, q->path))
                    continue;
                  /* Choices shown on this page may depend on an answer
                   * given just before: a question that found none is tried
                   * again on the next pass. */
                  now_value = hearth_form_session_get_value (s, q->path, NULL);
                  if (now_value == NULL || now_value[0] != '\0')
                    continue;
                  answer (s, q);
                  g_free (now_value);
                  now_value = hearth_form_session_get_value (s, q->path, NULL);
                  if (now_value != NULL && now_value[0] != '\0')
                    {
                      g_hash_table_add (tried, g_strdup (q->path));
                      answered++;
                      progress = TRUE;
                    }
                }
            }
          if (!progress)
            break;
        }
      xml = hearth_form_session_finalise (s, &issues, &error);
      if (xml == NULL)
        {
          for (guint i = 0; issues != NULL && i < issues->len; i++)
            g_test_message ("%s: %s %s %s", name, ((HearthFormIssue *) issues->pdata[i])->path,
                            ((HearthFormIssue *) issues->pdata[i])->kind,
                            ((HearthFormIssue *) issues->pdata[i])->message);
          g_error ("%s does not finalise: %s", name, error->message);
        }
      {
        xmlDoc *doc = xmlReadMemory (xml, (int) strlen (xml), name, "UTF-8", XML_PARSE_NONET);
        g_autoptr(HearthFormSession) edit = NULL;
        g_autoptr(HearthForm) again = hearth_form_load (path, NULL, &error);

        g_assert_nonnull (doc);
        xmlFreeDoc (doc);
        g_assert_no_error (error);
        edit = hearth_form_session_new_from_draft (g_steal_pointer (&again), xml, -1, TRUE, NULL, &error);
        g_assert_no_error (error);
      }
      g_test_message ("%s: %u answers, %u repeat instances added, finalised", name, answered, adds);
      filled++;
    }
  g_test_message ("%u corpus forms filled, %u refused as listed", filled, refused);
  g_assert_cmpuint (filled, >=, 20);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/form/session/blank-is-not-zero", test_blank_is_not_zero);
  g_test_add_func ("/form/session/number-rule", test_number_rule);
  g_test_add_func ("/form/session/dates-keep", test_dates_keep);
  g_test_add_func ("/form/session/select-multiple-kept", test_select_multiple_kept);
  g_test_add_func ("/form/session/chinese-characters", test_chinese_characters);
  g_test_add_func ("/form/session/incremental", test_incremental);
  g_test_add_func ("/form/session/cycle-named", test_cycle_named);
  g_test_add_func ("/form/session/dangling-reference", test_dangling_reference);
  g_test_add_func ("/form/session/relevance", test_relevance);
  g_test_add_func ("/form/session/repeats", test_repeats);
  g_test_add_func ("/form/session/refusals", test_refusals);
  g_test_add_func ("/form/session/languages-and-pages", test_languages_and_pages);
  g_test_add_func ("/form/session/field-list-repeat-pages", test_field_list_repeat_pages);
  g_test_add_func ("/form/session/drafts", test_drafts);
  g_test_add_func ("/form/session/case-instance", test_case_instance);
  g_test_add_func ("/form/session/corpus-fill", test_corpus_fill);
  return g_test_run ();
}

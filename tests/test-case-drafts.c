/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-case-drafts.c: forms being filled (case-drafts.h) and the form a
 * visit opens (case-forms.h), in a real encrypted store:
 * - the bundled visit form opens for a household with its `case`
 *   instance; a version the county published replaces it, and a draft's
 *   own version is found again while the device has it (else the newest,
 *   said so); an unknown form or household is not found; a publication
 *   that is not the form or version the center named is refused;
 * - a draft saved from a form session survives closing and reopening the
 *   store and resumes with every answer; saving again keeps its creation
 *   time; drafts never enter the sync outbox; bad drafts are refused;
 * - finishing records the submission and deletes the draft in one
 *   transaction: a submission the case refuses leaves the draft and
 *   records nothing; a draft whose submission is recorded is not listed;
 * - a draft resumed with a newer version of its form (its own is gone)
 *   can answer the questions the new version added, keeps its answers and
 *   is finalised with the new version;
 * - the app killed at random while saving and finishing drafts, 20 times,
 *   leaves every draft whole and none beside its recorded submission.
 */
#include "test-util.h"
#include "case-drafts.h"
#include "case-forms.h"
#include "case-identity.h"
#include "case-store.h"
#include "form-session.h"

#include <json-glib/json-glib.h>
#include <libxml/parser.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOW "2026-03-05T10:00:00+08:00"
#define REGISTRATION_ID "11111111-2222-4333-8444-000000000001"
#define DRAFT_ID "21111111-2222-4333-8444-000000000001"

static char *
forms_dir (void)
{
  return g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "schema", "forms", NULL);
}

/* A store with one registered household; returns its id. */
static char *
registered (HearthStore *store, HearthCaseStore *cases)
{
  g_autoptr(HearthForm) registration = test_load_bundled_form ("household-registration.xml");
  g_autofree char *xml = test_fill_bundled ("household-registration.xml", "registration-zh.json", NOW, REGISTRATION_ID);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = hearth_case_record_submission (cases, registration, xml, NULL, &error);
  sqlite3_stmt *st = NULL;
  char *household = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_prepare_v2 (hearth_store_get_db (store), "SELECT id FROM households", -1, &st, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  household = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return household;
}

static void
answer_all (HearthFormSession *session, const char *answers)
{
  g_autofree char *path = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "answers", answers, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *object;
  g_autoptr(GList) members = NULL;

  g_assert_true (json_parser_load_from_file (parser, path, &error));
  object = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    {
      g_assert_true (hearth_form_session_set_value (session, l->data, json_object_get_string_member (object, l->data),
                                                    &error));
      g_assert_no_error (error);
    }
}

static HearthFormSession *
session_of (HearthCaseForm *cf, const char *draft_xml)
{
  HearthFormSessionOptions options = { .now = NOW, .language = "zh", .instances = cf->instances };
  g_autoptr(GError) error = NULL;
  HearthFormSession *session;

  if (draft_xml != NULL)
    session = hearth_form_session_new_from_draft (g_steal_pointer (&cf->form), draft_xml, -1, FALSE, &options, &error);
  else
    session = hearth_form_session_new (g_steal_pointer (&cf->form), &options, &error);
  g_assert_no_error (error);
  return session;
}

static void
test_form_open (void)
{
  g_autofree char *dir = test_create_store ("case-forms", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseStore) cases = hearth_case_store_new (store, "worker-1", &error);
  g_autofree char *forms = forms_dir ();
  const char *dirs[] = { "/nonexistent", forms, NULL };
  g_autofree char *household = registered (store, cases);
  g_autoptr(HearthCaseForm) cf = NULL;
  g_autoptr(HearthForm) bundled_visit = test_load_bundled_form ("household-visit.xml");
  g_autofree char *newer = NULL;
  g_autofree char *visit_path = g_build_filename (forms, "household-visit.xml", NULL);
  g_autofree char *text = NULL;
  g_autofree char *old_attr = NULL, *new_attr = NULL;
  sqlite3_stmt *st = NULL;

  /* The bundled form, with the household's case and no county thresholds. */
  cf = hearth_case_form_open (store, cases, dirs, "hearth_household_visit", NULL, household, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cf->form->form_id, ==, "hearth_household_visit");
  g_assert_cmpstr (cf->version, ==, bundled_visit->version);
  g_assert_false (cf->published);
  g_assert_false (cf->other_version);
  g_assert_true (g_str_has_suffix (cf->media_dir, "media"));
  g_assert_true (g_hash_table_contains (cf->instances, "case"));
  g_assert_false (g_hash_table_contains (cf->instances, "thresholds"));
  g_clear_pointer (&cf, hearth_case_form_free);

  /* A registration has no household. */
  cf = hearth_case_form_open (store, cases, dirs, "hearth_household_registration", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (g_hash_table_contains (cf->instances, "case"));
  g_clear_pointer (&cf, hearth_case_form_free);

  /* No such form, no such household. */
  g_assert_null (hearth_case_form_open (store, cases, dirs, "no_such_form", NULL, NULL, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (hearth_case_form_open (store, cases, dirs, "hearth_household_visit", NULL,
                                        "99999999-2222-4333-8444-000000000001", &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The county publishes a newer version: it replaces the bundled one. */
  g_assert_true (g_file_get_contents (visit_path, &text, NULL, &error));
  old_attr = g_strdup_printf ("version=\"%s\"", bundled_visit->version);
  new_attr = g_strdup ("version=\"2099010101\"");
  g_assert_nonnull (strstr (text, old_attr));
  {
    g_auto(GStrv) parts = g_strsplit (text, old_attr, 2);
    newer = g_strjoin (new_attr, parts[0], parts[1], NULL);
  }
  g_assert_cmpint (sqlite3_prepare_v2 (hearth_store_get_db (store),
                                       "INSERT INTO published_forms (id, kind, form_id, version, xml, published_at, "
                                       "received_at) VALUES ('p1', 'form', 'hearth_household_visit', '2099010101', ?, "
                                       "'2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z')", -1, &st, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (st, 1, newer, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
  sqlite3_finalize (st);
  cf = hearth_case_form_open (store, cases, dirs, "hearth_household_visit", NULL, household, &error);
  g_assert_no_error (error);
  g_assert_true (cf->published);
  g_assert_cmpstr (cf->version, ==, "2099010101");
  g_assert_cmpstr (cf->form->version, ==, "2099010101");
  /* Its external instances come from the bundled media. */
  g_assert_nonnull (cf->media_dir);
  g_clear_pointer (&cf, hearth_case_form_free);

  /* A draft begun with the bundled version still gets it. */
  cf = hearth_case_form_open (store, cases, dirs, "hearth_household_visit", bundled_visit->version, household, &error);
  g_assert_no_error (error);
  g_assert_false (cf->published);
  g_assert_false (cf->other_version);
  g_assert_cmpstr (cf->version, ==, bundled_visit->version);
  g_clear_pointer (&cf, hearth_case_form_free);

  /* A version the device no longer has: the newest, said so. */
  cf = hearth_case_form_open (store, cases, dirs, "hearth_household_visit", "2001010101", household, &error);
  g_assert_no_error (error);
  g_assert_true (cf->other_version);
  g_assert_cmpstr (cf->version, ==, "2099010101");
}

static gint64
outbox_count (HearthStore *store)
{
  return test_query_int (hearth_store_get_db (store), "SELECT count(*) FROM sync_outbox");
}

static void
test_draft_round_trip (void)
{
  g_autofree char *dir = test_create_store ("case-drafts", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseStore) cases = hearth_case_store_new (store, "worker-1", &error);
  g_autofree char *forms = forms_dir ();
  const char *dirs[] = { forms, NULL };
  g_autofree char *household = registered (store, cases);
  g_autoptr(HearthCaseForm) cf = hearth_case_form_open (store, cases, dirs, "hearth_household_visit", NULL, household,
                                                        &error);
  g_autoptr(HearthFormSession) session = NULL;
  g_autofree char *version = g_strdup (cf->version);
  g_autofree char *xml = NULL;
  g_autofree char *created = NULL;
  g_autoptr(HearthDraft) read = NULL;
  g_autoptr(GPtrArray) list = NULL;
  gint64 outbox;
  HearthDraft d = { 0 };

  g_assert_no_error (error);
  session = session_of (cf, NULL);
  g_assert_true (hearth_form_session_set_value (session, "/data/intro/visit_reason", "warning", &error));
  g_assert_true (hearth_form_session_set_value (session, "/data/risks/risk_description", "户主住院，医疗费用高", &error));
  g_assert_no_error (error);
  xml = hearth_form_session_save_draft (session);
  outbox = outbox_count (store);

  d.id = (char *) DRAFT_ID;
  d.form_id = (char *) "hearth_household_visit";
  d.form_version = version;
  d.household_id = household;
  d.instance_id = (char *) hearth_form_session_get_instance_id (session);
  d.label = (char *) "张三";
  d.page = (char *) "/data/risks";
  d.xml = xml;
  g_assert_true (hearth_draft_save (cases, &d, &error));
  g_assert_no_error (error);
  /* A draft is this device's own. */
  g_assert_cmpint (outbox_count (store), ==, outbox);

  /* Bad drafts are refused and change nothing. */
  {
    HearthDraft bad = d;
    bad.id = (char *) "not-a-uuid";
    g_assert_false (hearth_draft_save (cases, &bad, &error));
    g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
    g_clear_error (&error);
    bad = d;
    bad.xml = (char *) "";
    g_assert_false (hearth_draft_save (cases, &bad, &error));
    g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
    g_clear_error (&error);
  }
  g_assert_cmpint (test_query_int (hearth_store_get_db (store), "SELECT count(*) FROM drafts"), ==, 1);

  /* The store closed and opened again: the draft is there, whole. */
  g_clear_object (&session);
  g_clear_object (&cases);
  g_clear_object (&store);
  store = test_open_store (dir);
  cases = hearth_case_store_new (store, "worker-1", &error);
  g_assert_no_error (error);
  list = hearth_drafts_list (hearth_store_get_db (store), household, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((HearthDraft *) list->pdata[0])->id, ==, DRAFT_ID);
  g_assert_null (((HearthDraft *) list->pdata[0])->xml);
  g_assert_cmpstr (((HearthDraft *) list->pdata[0])->head_name, !=, "");
  g_clear_pointer (&list, g_ptr_array_unref);
  list = hearth_drafts_list (hearth_store_get_db (store), "99999999-2222-4333-8444-000000000001", &error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);

  read = hearth_draft_read (hearth_store_get_db (store), DRAFT_ID, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (read->xml, ==, xml);
  g_assert_cmpstr (read->page, ==, "/data/risks");
  g_assert_cmpstr (read->label, ==, "张三");
  g_assert_cmpstr (read->form_version, ==, version);
  g_assert_cmpstr (read->household_id, ==, household);
  created = g_strdup (read->created_at);

  g_clear_pointer (&cf, hearth_case_form_free);
  cf = hearth_case_form_open (store, cases, dirs, read->form_id, read->form_version, read->household_id, &error);
  g_assert_no_error (error);
  session = session_of (cf, read->xml);
  {
    g_autofree char *reason = hearth_form_session_get_value (session, "/data/intro/visit_reason", NULL);
    g_autofree char *description = hearth_form_session_get_value (session, "/data/risks/risk_description", NULL);
    g_assert_cmpstr (reason, ==, "warning");
    g_assert_cmpstr (description, ==, "户主住院，医疗费用高");
  }
  g_assert_cmpstr (hearth_form_session_get_instance_id (session), ==, read->instance_id);

  /* Saved again: the new answers, the first creation time. */
  g_assert_true (hearth_form_session_set_value (session, "/data/intro/visit_reason", "routine", &error));
  g_free (xml);
  xml = hearth_form_session_save_draft (session);
  d.xml = xml;
  d.instance_id = read->instance_id;
  g_assert_true (hearth_draft_save (cases, &d, &error));
  g_clear_pointer (&read, hearth_draft_free);
  read = hearth_draft_read (hearth_store_get_db (store), DRAFT_ID, &error);
  g_assert_cmpstr (read->created_at, ==, created);
  g_assert_nonnull (strstr (read->xml, "routine"));

  /* Discarded: gone; discarding again is no error. */
  g_assert_true (hearth_draft_delete (hearth_store_get_db (store), DRAFT_ID, &error));
  g_assert_true (hearth_draft_delete (hearth_store_get_db (store), DRAFT_ID, &error));
  g_assert_no_error (error);
  g_assert_null (hearth_draft_read (hearth_store_get_db (store), DRAFT_ID, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_NOT_FOUND);
}

static void
test_draft_finish (void)
{
  g_autofree char *dir = test_create_store ("case-drafts-finish", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseStore) cases = hearth_case_store_new (store, "worker-1", &error);
  g_autofree char *forms = forms_dir ();
  const char *dirs[] = { forms, NULL };
  g_autofree char *household = registered (store, cases);
  g_autoptr(HearthCaseForm) cf = hearth_case_form_open (store, cases, dirs, "hearth_household_visit", NULL, household,
                                                        &error);
  g_autoptr(HearthForm) registration = test_load_bundled_form ("household-registration.xml");
  g_autoptr(HearthFormSession) session = NULL;
  g_autofree char *version = g_strdup (cf->version);
  g_autofree char *draft_xml = NULL, *submission = NULL, *recorded = NULL;
  g_autoptr(GPtrArray) issues = NULL;
  gint64 submissions;
  HearthDraft d = { 0 };

  g_assert_no_error (error);
  session = session_of (cf, NULL);
  answer_all (session, "visit-zh.json");
  draft_xml = hearth_form_session_save_draft (session);
  d.id = (char *) DRAFT_ID;
  d.form_id = (char *) "hearth_household_visit";
  d.form_version = version;
  d.household_id = household;
  d.instance_id = (char *) hearth_form_session_get_instance_id (session);
  d.xml = draft_xml;
  g_assert_true (hearth_draft_save (cases, &d, &error));
  submission = hearth_form_session_finalise (session, &issues, &error);
  g_assert_no_error (error);
  submissions = test_query_int (db, "SELECT count(*) FROM submissions");

  /* Refused by the case (another form's): nothing recorded, the draft kept. */
  g_assert_null (hearth_draft_finish (cases, DRAFT_ID, registration, submission, household, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_SUBMISSION);
  g_clear_error (&error);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM submissions"), ==, submissions);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM drafts"), ==, 1);
  g_assert_true (sqlite3_get_autocommit (db));

  /* Finished: recorded, and the draft gone, together. */
  recorded = hearth_draft_finish (cases, DRAFT_ID, hearth_form_session_get_form (session), submission, household, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (recorded, ==, hearth_form_session_get_instance_id (session) + strlen ("uuid:"));
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM submissions"), ==, submissions + 1);
  g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM drafts"), ==, 0);
  g_assert_true (sqlite3_get_autocommit (db));

  /* A draft whose submission is recorded (restored from a backup, say)
   * is not offered again. */
  g_assert_true (hearth_draft_save (cases, &d, &error));
  {
    g_autoptr(GPtrArray) list = hearth_drafts_list (db, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (list->len, ==, 0);
  }
}

/* @text with @from replaced by @to once (which must be there). */
static char *
replaced (const char *text, const char *from, const char *to)
{
  g_autoptr(GString) s = g_string_new (text);

  g_assert_cmpuint (g_string_replace (s, from, to, 1), ==, 1);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
publish_form (sqlite3 *db, const char *id, const char *version, const char *xml)
{
  sqlite3_stmt *st = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "INSERT INTO published_forms (id, kind, form_id, version, xml, published_at, "
                                       "received_at) VALUES (?1, 'form', 'hearth_household_visit', ?2, ?3, "
                                       "'2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z')", -1, &st, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, version, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, xml, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
  sqlite3_finalize (st);
}

static void
test_draft_other_version (void)
{
  g_autofree char *dir = test_create_store ("case-drafts-other", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  sqlite3 *db = hearth_store_get_db (store);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseStore) cases = hearth_case_store_new (store, "worker-1", &error);
  g_autofree char *forms = forms_dir ();
  const char *dirs[] = { forms, NULL };
  g_autofree char *household = registered (store, cases);
  g_autoptr(HearthForm) bundled_visit = test_load_bundled_form ("household-visit.xml");
  g_autofree char *visit_path = g_build_filename (forms, "household-visit.xml", NULL);
  g_autofree char *text = NULL, *old_attr = NULL, *a = NULL, *b = NULL, *c = NULL, *v2 = NULL;
  g_autoptr(HearthCaseForm) cf = NULL;
  g_autoptr(HearthFormSession) session = NULL;
  g_autofree char *draft_xml = NULL, *submission = NULL;
  g_autoptr(GPtrArray) issues = NULL;

  g_assert_no_error (error);
  /* Begun with the bundled version. */
  cf = hearth_case_form_open (store, cases, dirs, "hearth_household_visit", NULL, household, &error);
  g_assert_no_error (error);
  session = session_of (cf, NULL);
  answer_all (session, "visit-zh.json");
  draft_xml = hearth_form_session_save_draft (session);
  g_clear_object (&session);
  g_clear_pointer (&cf, hearth_case_form_free);

  /* The county publishes a version with one more question. */
  g_assert_true (g_file_get_contents (visit_path, &text, NULL, &error));
  old_attr = g_strdup_printf ("version=\"%s\"", bundled_visit->version);
  a = replaced (text, old_attr, "version=\"2099010101\"");
  b = replaced (a, "<visit_reason/>", "<visit_reason/><extra_note/>");
  c = replaced (b, "<bind nodeset=\"/data/intro/visit_reason\"",
                "<bind nodeset=\"/data/intro/extra_note\" type=\"string\"/><bind nodeset=\"/data/intro/visit_reason\"");
  v2 = replaced (c, "<select1 ref=\"/data/intro/visit_reason\">",
                 "<input ref=\"/data/intro/extra_note\"><label>Extra</label></input><select1 ref=\"/data/intro/visit_reason\">");
  publish_form (db, "p2", "2099010101", v2);

  /* The draft's version is gone (the app was updated): the newest. */
  cf = hearth_case_form_open (store, cases, dirs, "hearth_household_visit", "2001010101", household, &error);
  g_assert_no_error (error);
  g_assert_true (cf->other_version);
  session = session_of (cf, draft_xml);
  g_assert_true (hearth_form_session_set_value (session, "/data/intro/extra_note", "more", &error));
  g_assert_no_error (error);
  g_assert_no_error (error);
  submission = hearth_form_session_finalise (session, &issues, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (submission, "version=\"2099010101\""));
  /* The answers of the draft kept, the new question where the form has it. */
  g_assert_nonnull (strstr (submission, "<visit_reason>routine</visit_reason><extra_note>more</extra_note>"));
}

/* A publication whose XML is another form, or another version, than the
 * center named beside it is refused: else the visit button opened the
 * registration form, or submissions carried a version not published. */
static void
test_published_mismatch (void)
{
  g_autofree char *dir = test_create_store ("case-forms-mismatch", NULL);
  g_autoptr(HearthStore) store = test_open_store (dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseStore) cases = hearth_case_store_new (store, "worker-1", &error);
  g_autofree char *forms = forms_dir ();
  const char *dirs[] = { forms, NULL };
  g_autofree char *household = registered (store, cases);
  g_autofree char *registration_path = g_build_filename (forms, "household-registration.xml", NULL);
  g_autofree char *visit_path = g_build_filename (forms, "household-visit.xml", NULL);
  g_autofree char *registration = NULL, *visit = NULL;
  g_autoptr(HearthCaseForm) cf = NULL;
  g_autoptr(HearthForm) bundled_visit = test_load_bundled_form ("household-visit.xml");

  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (registration_path, &registration, NULL, NULL));
  g_assert_true (g_file_get_contents (visit_path, &visit, NULL, NULL));
  /* Named the visit form, newer: the registration form's XML. */
  publish_form (hearth_store_get_db (store), "p3", "2099010101", registration);
  g_assert_null (hearth_case_form_open (store, cases, dirs, "hearth_household_visit", NULL, household, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "hearth_household_registration"));
  g_clear_error (&error);
  /* The visit form under a version its XML does not have. */
  publish_form (hearth_store_get_db (store), "p4", "2099020202", visit);
  g_assert_null (hearth_case_form_open (store, cases, dirs, "hearth_household_visit", NULL, household, &error));
  g_assert_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID);
  g_clear_error (&error);
  /* The version a draft was begun with is the bundled one: still there. */
  cf = hearth_case_form_open (store, cases, dirs, "hearth_household_visit", bundled_visit->version, household,
                              &error);
  g_assert_no_error (error);
  g_assert_false (cf->published);
}

/* The draft writer: saves draft @first, @first + 1, … with every answer
 * changed each time, and finishes every third (its submission recorded
 * and the draft deleted) until killed. */
static void G_GNUC_NORETURN
draft_writer (const char *dir, const char *household, guint first)
{
  g_autoptr(HearthStore) store = NULL;

  g_random_set_seed ((guint32) getpid () ^ (guint32) g_get_monotonic_time ());
  store = test_open_store (dir);
  {
    g_autoptr(HearthCaseStore) cases = hearth_case_store_new (store, "worker-1", NULL);
    g_autofree char *forms = forms_dir ();
    const char *dirs[] = { forms, NULL };

    for (guint n = first;; n++)
      {
        g_autoptr(HearthCaseForm) cf = hearth_case_form_open (store, cases, dirs, "hearth_household_visit", NULL,
                                                              household, NULL);
        g_autofree char *version = g_strdup (cf->version);
        g_autoptr(HearthFormSession) session = session_of (cf, NULL);
        g_autofree char *draft_id = g_strdup_printf ("31111111-2222-4333-8444-%012u", n);
        g_autoptr(GError) error = NULL;
        HearthDraft d = { 0 };

        answer_all (session, "visit-zh.json");
        d.id = draft_id;
        d.form_id = (char *) "hearth_household_visit";
        d.form_version = version;
        d.household_id = (char *) household;
        d.instance_id = (char *) hearth_form_session_get_instance_id (session);
        for (guint k = 0; k < 5; k++)
          {
            g_autofree char *filler = g_strnfill (2000, 'x');
            g_autofree char *text = g_strdup_printf ("draft %u save %u %s", n, k, filler);
            g_autofree char *xml = NULL;

            g_assert_true (hearth_form_session_set_value (session, "/data/risks/risk_description", text, NULL));
            xml = hearth_form_session_save_draft (session);
            d.xml = xml;
            if (!hearth_draft_save (cases, &d, &error))
              {
                g_printerr ("draft %u: %s\n", n, error->message);
                _exit (3);
              }
          }
        if (n % 2 == 0)
          {
            g_autofree char *submission = hearth_form_session_finalise (session, NULL, &error);
            g_autofree char *id = submission != NULL ? hearth_draft_finish (cases, draft_id,
                                                                            hearth_form_session_get_form (session),
                                                                            submission, household, &error)
                                                     : NULL;
            if (id == NULL)
              {
                g_printerr ("finishing draft %u: %s\n", n, error->message);
                _exit (3);
              }
          }
      }
  }
}

/* The app killed while saving drafts and finishing them, 20 times: every
 * draft left opens with a whole instance (one save or the next, never a
 * mix), and no draft outlives its recorded submission. */
static void
test_draft_killed (void)
{
  g_autofree char *dir = test_create_store ("case-drafts-killed", NULL);
  g_autofree char *household = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261130);
  guint next = 1, drafts_seen = 0, submissions = 0;

  {
    g_autoptr(HearthStore) store = test_open_store (dir);
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthCaseStore) cases = hearth_case_store_new (store, "worker-1", &error);

    g_assert_no_error (error);
    household = registered (store, cases);
  }
  for (guint kill_n = 0; kill_n < 20; kill_n++)
    {
      int status = 0;
      pid_t pid = fork ();

      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        draft_writer (dir, household, next);
      g_usleep ((gulong) g_rand_int_range (rand, 20000, 800000));
      kill (pid, SIGKILL);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFSIGNALED (status));
      {
        g_autoptr(HearthStore) store = test_open_store (dir);
        g_autoptr(GError) error = NULL;
        g_autoptr(HearthCaseStore) cases = hearth_case_store_new (store, "worker-1", &error);
        sqlite3 *db = hearth_store_get_db (store);
        g_autoptr(GPtrArray) list = NULL;
        g_autofree char *forms = forms_dir ();
        const char *dirs[] = { forms, NULL };

        g_assert_true (hearth_store_check (store, &error));
        g_assert_no_error (error);
        g_assert_cmpint (test_query_int (db, "SELECT count(*) FROM drafts d WHERE EXISTS (SELECT 1 FROM submissions s "
                                             "WHERE 'uuid:' || s.id = d.instance_id)"), ==, 0);
        list = hearth_drafts_list (db, household, &error);
        g_assert_no_error (error);
        for (guint i = 0; i < list->len; i++)
          {
            g_autoptr(HearthDraft) d = hearth_draft_read (db, ((HearthDraft *) list->pdata[i])->id, &error);
            xmlDoc *doc;

            g_assert_no_error (error);
            doc = xmlReadMemory (d->xml, (int) strlen (d->xml), "draft.xml", "UTF-8", XML_PARSE_NONET);
            g_assert_nonnull (doc);
            xmlFreeDoc (doc);
            g_assert_nonnull (strstr (d->xml, "</data>"));
            drafts_seen++;
            /* The last saved, the one the kill most likely caught: opens
             * with its answers. */
            if (i == 0)
              {
                g_autoptr(HearthCaseForm) cf = hearth_case_form_open (store, cases, dirs, d->form_id, d->form_version,
                                                                      d->household_id, &error);
                g_autoptr(HearthFormSession) session = NULL;
                g_autofree char *text = NULL;

                g_assert_no_error (error);
                session = session_of (cf, d->xml);
                text = hearth_form_session_get_value (session, "/data/risks/risk_description", NULL);
                g_assert_true (g_str_has_prefix (text, "draft "));
                g_assert_cmpuint (strlen (text), >, 2000);
              }
          }
        submissions = (guint) test_query_int (db, "SELECT count(*) FROM submissions") - 1;
        /* Each writer's drafts ids of their own. */
        next = 1000 * (kill_n + 1);
      }
    }
  g_test_message ("20 kills, %u drafts left whole, %u finished", drafts_seen, submissions);
  g_assert_cmpuint (drafts_seen, >, 0);
  g_assert_cmpuint (submissions, >, 0);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/case-forms/open", test_form_open);
  g_test_add_func ("/case-drafts/round-trip", test_draft_round_trip);
  g_test_add_func ("/case-drafts/finish", test_draft_finish);
  g_test_add_func ("/case-drafts/other-version", test_draft_other_version);
  g_test_add_func ("/case-forms/published-mismatch", test_published_mismatch);
  g_test_add_func ("/case-drafts/killed", test_draft_killed);
  return g_test_run ();
}

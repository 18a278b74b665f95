/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-ui-form.c: filling forms on the tablet app (hearth-form-view.h)
 * under Xvfb, in the language of $HEARTH_TEST_LANGUAGE, on a store of the
 * demo generator, through the real widgets:
 * - a visit begun from the household page: a required answer missing is
 *   said beside its question and the page stays; text that is not a
 *   number is said so; each page answered as a worker would (typing,
 *   tapping choice rows), the summary shows the risk level the form
 *   computed, and saving records the submission (the household's risk
 *   level, the case sent for review) and deletes the draft together;
 * - answers are saved as they are given: a second connection to the
 *   store reads every keystroke; the idle lock drops the screen, and the
 *   unlock brings the form back on its page with its answers; closed, the
 *   household page offers to continue it and discarding deletes it; a
 *   draft that cannot be opened any more is offered for discarding; a
 *   megabyte pasted into a multi-line field is said too long in words;
 * - input methods: a composition still shown stops the page and asks the
 *   user to finish it (nothing is answered meanwhile); the focus leaves
 *   the text field before the page is checked, and an input method that
 *   commits on focus-out has its text taken;
 * - a registration from the household list: members added at the prompt,
 *   one removed, a jump through the list of pages, the new household
 *   saved with its members;
 * - the inputs of the test form tests/data/forms/session.xml: the keyboard
 *   each type calls for, a megabyte pasted into a text field kept to the
 *   longest answer, a date picked on the calendar kept as that
 *   calendar date (the test runs at UTC+14), outputs in labels, the
 *   form's own messages in the current language.
 * Every screen's controls are labelled and large enough for a finger;
 * screenshots go to tests/screenshots/LANGUAGE/.
 */
#include "ui-test-util.h"
#include "case-drafts.h"
#include "case-household.h"
#include "case-identity.h"
#include "demo-generate.h"
#include "hearth-form-field.h"
#include "hearth-form-view.h"
#include "hearth-household-page.h"
#include "case-labels.h"
#include "hearth-worker-view.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define TODAY HEARTH_DEMO_REFERENCE_DATE

static char *store_dir;

static void
make_store (void)
{
  g_autoptr(HearthStore) store = NULL;
  g_autofree char *forms = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "schema", "forms", NULL);
  HearthDemoFillOptions options = { .households = 80, .visits = 120, .seed = 9, .forms_dir = forms };
  g_autoptr(GError) error = NULL;

  store_dir = test_create_store ("ui-form", NULL);
  store = test_open_store (store_dir);
  g_assert_true (hearth_demo_fill_store (store, &options, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (hearth_identity_write (store, "李娟", HEARTH_ROLE_WORKER, NULL, &error));
  g_assert_no_error (error);
}

static gboolean
unlocked (gpointer app)
{
  return hearth_application_get_session (app) != NULL;
}

static void
unlock (HearthApplication *app)
{
  HearthWindow *window = ui_test_window (app);

  ui_test_type (ui_test_find (GTK_WIDGET (window), "passphrase_entry"), TEST_PASSPHRASE);
  ui_test_click (ui_test_find (GTK_WIDGET (window), "unlock_button"));
  ui_test_wait_for (unlocked, app, 20000, "the store to open");
}

static HearthApplication *
start (void)
{
  HearthApplication *app = ui_test_app_new (store_dir);
  HearthWindow *window = ui_test_window (app);

  unlock (app);
  ui_test_wait_screen (window, "main");
  hearth_session_set_today (hearth_application_get_session (app), TODAY);
  ui_test_flush (GTK_WIDGET (window));
  return app;
}

static HearthFormField *
field_at (HearthFormView *view, const char *path)
{
  GtkWidget *f = hearth_form_view_get_field (view, path);

  if (f == NULL)
    g_error ("no field for %s on the page %s", path, hearth_form_view_get_page_key (view));
  return HEARTH_FORM_FIELD (f);
}

/* An answer of the answers files as the instance stores it. */
static char *
answer_text (JsonNode *node)
{
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);
      g_autoptr(GPtrArray) names = g_ptr_array_new ();

      for (guint i = 0; i < json_array_get_length (a); i++)
        g_ptr_array_add (names, (gpointer) json_array_get_string_element (a, i));
      g_ptr_array_add (names, NULL);
      return g_strjoinv (" ", (char **) names->pdata);
    }
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      return g_strdup (g_ascii_dtostr (buf, sizeof buf, json_node_get_double (node)));
    }
  return g_strdup (json_node_get_string (node));
}

static JsonObject *
load_answers (const char *name, JsonParser **parser)
{
  g_autofree char *path = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "answers", name, NULL);
  g_autoptr(GError) error = NULL;

  *parser = json_parser_new ();
  g_assert_true (json_parser_load_from_file (*parser, path, &error));
  return json_node_get_object (json_parser_get_root (*parser));
}

/* Answers the questions of the page shown that @answers has. */
static guint
fill_page (HearthFormView *view, JsonObject *answers)
{
  g_autoptr(GPtrArray) fields = ui_test_find_all (GTK_WIDGET (view), HEARTH_TYPE_FORM_FIELD);
  guint n = 0;

  for (guint i = 0; i < fields->len; i++)
    {
      HearthFormField *field = fields->pdata[i];
      const char *path = hearth_form_field_get_path (field);
      g_autofree char *value = NULL;
      g_autofree char *now = NULL;

      if (!json_object_has_member (answers, path) || hearth_form_field_get_input (field) == NULL)
        continue;
      value = answer_text (json_object_get_member (answers, path));
      now = ui_test_form_value (view, path);
      /* A default the form filled in, already right. */
      if (g_strcmp0 (now, value) == 0)
        continue;
      ui_test_form_answer (view, field, value);
      n++;
    }
  return n;
}

static gboolean
at_summary (HearthFormView *view)
{
  return g_strcmp0 (hearth_form_view_get_page_key (view), HEARTH_FORM_SUMMARY_KEY) == 0;
}

/* Every page from the one shown to the summary, answered from @answers. */
static void
fill_to_summary (HearthFormView *view, JsonObject *answers, const char *shot_prefix)
{
  for (guint guard = 0; !at_summary (view); guard++)
    {
      g_autofree char *before = g_strdup (hearth_form_view_get_page_key (view));

      g_assert_cmpuint (guard, <, 60);
      fill_page (view, answers);
      if (shot_prefix != NULL && guard < 3)
        {
          g_autofree char *name = g_strdup_printf ("%s-%u", shot_prefix, guard);
          ui_test_assert_labelled (GTK_WIDGET (view), "a form page");
          ui_test_assert_touch_targets (GTK_WIDGET (view), "a form page");
          ui_test_screenshot (gtk_widget_get_ancestor (GTK_WIDGET (view), GTK_TYPE_WINDOW), name);
        }
      ui_test_form_press (view, "next_button");
      if (g_strcmp0 (before, hearth_form_view_get_page_key (view)) == 0)
        {
          g_autofree char *shown = ui_test_visible_text (GTK_WIDGET (view));
          g_error ("the page %s did not let go:\n%s", before, shown);
        }
    }
}

/* A household to visit: one without a case, and its head's name. */
static char *
household_to_visit (HearthApplication *app)
{
  return ui_test_app_text (app,
                           "SELECT id FROM households WHERE monitoring_status = 'none' AND deleted = 0 "
                           "ORDER BY id LIMIT 1", NULL);
}

static void
open_household (HearthApplication *app, const char *id)
{
  GtkWidget *root = GTK_WIDGET (ui_test_window (app));
  GtkWidget *view = ui_test_find_type (root, HEARTH_TYPE_WORKER_VIEW);

  hearth_worker_view_show_household (HEARTH_WORKER_VIEW (view), id);
  ui_test_flush (root);
}

static HearthFormView *
begin_visit (HearthApplication *app, const char *household)
{
  GtkWidget *root = GTK_WIDGET (ui_test_window (app));
  GtkWidget *hp;

  open_household (app, household);
  hp = ui_test_find_type (root, HEARTH_TYPE_HOUSEHOLD_PAGE);
  ui_test_click (ui_test_find (hp, "visit_button"));
  ui_test_wait_screen (ui_test_window (app), "form");
  return ui_test_form_view (app);
}

static void
test_visit (void)
{
  HearthApplication *app = start ();
  GtkWidget *root = GTK_WIDGET (ui_test_window (app));
  g_autofree char *household = household_to_visit (app);
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *answers = load_answers ("visit-zh.json", &parser);
  HearthFormView *view;
  HearthFormField *reason;
  g_autoptr(GPtrArray) issues = NULL;
  g_autofree char *draft_id = NULL;
  g_autofree char *instance_id = NULL;
  g_autofree char *risk = NULL;
  guint n_pages = 0;

  g_assert_nonnull (household);
  view = begin_visit (app, household);
  draft_id = g_strdup (hearth_form_view_get_draft_id (view));
  /* Nothing answered yet: nothing saved. */
  g_assert_false (hearth_form_view_get_draft_saved (view));
  g_assert_cmpuint (hearth_form_view_get_page_index (view, &n_pages), ==, 0);
  g_assert_cmpuint (n_pages, >, 4);
  {
    g_autofree char *progress = g_strdup_printf (_("Page %u of %u"), 1, n_pages + 1);
    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (GTK_WIDGET (view), "progress_label"))), ==, progress);
  }
  g_assert_false (gtk_widget_get_sensitive (ui_test_find (GTK_WIDGET (view), "back_button")));
  ui_test_assert_labelled (root, "the first page of a visit");
  ui_test_assert_touch_targets (root, "the first page of a visit");
  ui_test_screenshot (root, "20-visit-first-page");

  /* Next without the required answer: the form's message beside it, in
   * the current language; the page stays. */
  ui_test_form_press (view, "next_button");
  g_assert_cmpuint (hearth_form_view_get_page_index (view, NULL), ==, 0);
  reason = field_at (view, "/data/intro/visit_reason");
  issues = hearth_form_session_validate (hearth_form_view_get_form_session (view), "/data/intro/visit_reason");
  g_assert_cmpuint (issues->len, ==, 1);
  g_assert_cmpstr (hearth_form_field_get_message (reason), ==, ((HearthFormIssue *) issues->pdata[0])->message);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (reason)));
  if (g_str_equal (ui_test_language (), "zh_CN"))
    g_assert_true (g_utf8_validate (hearth_form_field_get_message (reason), -1, NULL) &&
                   strstr (hearth_form_field_get_message (reason), "必") != NULL);
  ui_test_screenshot (root, "21-visit-required");

  /* A tap on a choice row answers, saves the draft and clears the message. */
  ui_test_form_answer (view, reason, "warning");
  g_assert_null (hearth_form_field_get_message (reason));
  g_assert_true (hearth_form_view_get_draft_saved (view));
  ui_test_assert_app_text (app, "SELECT household_id FROM drafts WHERE id = ?", draft_id, household);
  ui_test_form_press (view, "next_button");
  g_assert_cmpstr (hearth_form_view_get_page_key (view), ==, "/data/income");

  /* The keyboards: whole numbers, numbers. */
  g_assert_cmpint (gtk_entry_get_input_purpose (GTK_ENTRY (hearth_form_field_get_input (
                     field_at (view, "/data/income/household_size")))), ==, GTK_INPUT_PURPOSE_DIGITS);
  g_assert_cmpint (gtk_entry_get_input_purpose (GTK_ENTRY (hearth_form_field_get_input (
                     field_at (view, "/data/income/wages_public")))), ==, GTK_INPUT_PURPOSE_NUMBER);
  /* The household's size comes from the case. */
  {
    g_autoptr(HearthHousehold) h = hearth_case_household_read (ui_test_db (app), household, NULL);
    g_autofree char *size = g_strdup_printf ("%" G_GINT64_FORMAT, h->member_count);
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (hearth_form_field_get_input (
                       field_at (view, "/data/income/household_size")))), ==, size);
  }
  /* Text that is not a number: said so, the answer blank meanwhile. */
  ui_test_form_answer (view, field_at (view, "/data/income/wages_public"), "4800元");
  g_assert_true (hearth_form_field_has_type_error (field_at (view, "/data/income/wages_public")));
  g_assert_cmpstr (hearth_form_field_get_message (field_at (view, "/data/income/wages_public")), ==,
                   _("Type a number, such as 1200 or 12.5."));
  ui_test_assert_form_value (view, "/data/income/wages_public", "");
  ui_test_screenshot (root, "22-visit-not-a-number");
  ui_test_form_answer (view, field_at (view, "/data/income/wages_public"), "4800");
  g_assert_false (hearth_form_field_has_type_error (field_at (view, "/data/income/wages_public")));
  ui_test_assert_form_value (view, "/data/income/wages_public", "4800");

  fill_to_summary (view, answers, "23-visit-page");

  /* The summary: the risk level the form computed, before saving. */
  risk = ui_test_form_value (view, "/data/assessment/risk_level");
  g_assert_nonnull (risk);
  g_assert_cmpstr (risk, !=, "");
  g_assert_true (gtk_widget_get_mapped (ui_test_find (GTK_WIDGET (view), "risk_badge")));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (GTK_WIDGET (view), "risk_badge"))), ==,
                   hearth_label_risk_level (risk));
  g_assert_false (gtk_widget_get_visible (ui_test_find (GTK_WIDGET (view), "issues_group")));
  g_assert_true (gtk_widget_get_sensitive (ui_test_find (GTK_WIDGET (view), "save_button")));
  ui_test_assert_labelled (root, "the summary of a visit");
  ui_test_assert_touch_targets (root, "the summary of a visit");
  ui_test_screenshot (root, "24-visit-summary");
  instance_id = g_strdup (hearth_form_session_get_instance_id (hearth_form_view_get_form_session (view)));

  /* Saved: recorded, the household's risk level, the draft gone. */
  ui_test_form_press (view, "save_button");
  ui_test_wait_screen (ui_test_window (app), "main");
  ui_test_assert_app_text (app, "SELECT household_id FROM submissions WHERE id = ?", instance_id + 5, household);
  ui_test_assert_app_text (app, "SELECT id FROM drafts WHERE id = ?", draft_id, NULL);
  {
    g_autoptr(HearthHousehold) h = hearth_case_household_read (ui_test_db (app), household, NULL);
    GtkWidget *hp = ui_test_find_type (root, HEARTH_TYPE_HOUSEHOLD_PAGE);

    g_assert_cmpstr (h->risk_level, ==, risk);
    g_assert_cmpstr (h->visits->len > 0 ? ((HearthHouseholdVisit *) h->visits->pdata[0])->id : "", ==,
                     instance_id + 5);
    if (!g_str_equal (risk, "none"))
      g_assert_cmpstr (h->monitoring_status, ==, "pending_village_review");
    /* The household page shows it at once. */
    g_assert_cmpstr (hearth_household_page_get_household_id (HEARTH_HOUSEHOLD_PAGE (hp)), ==, household);
    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (hp, "risk_badge"))), ==,
                     hearth_label_risk_level (risk));
    ui_test_screenshot (root, "25-household-after-visit");
  }
  ui_test_app_free (app);
}

/* The draft as another connection to the store reads it: what a killed
 * app leaves. */
static char *
draft_on_disk (const char *draft_id)
{
  g_autoptr(HearthStore) store = test_open_store (store_dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthDraft) d = hearth_draft_read (hearth_store_get_db (store), draft_id, &error);

  g_assert_no_error (error);
  return g_strdup_printf ("%s\n%s", d->page, d->xml);
}

static gboolean
dialog_shown (gpointer data)
{
  for (GList *l = gtk_window_list_toplevels (); l != NULL; l = g_list_delete_link (l, l))
    if (ADW_IS_MESSAGE_DIALOG (l->data) && gtk_widget_get_visible (l->data))
      {
        *(gpointer *) data = l->data;
        g_list_free (l);
        return TRUE;
      }
  return FALSE;
}

static void
respond (const char *response)
{
  gpointer dialog = NULL;

  ui_test_wait_for (dialog_shown, &dialog, 5000, "a dialog");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), response);
  gtk_window_destroy (GTK_WINDOW (dialog));
  ui_test_run_for (20);
}

static void
test_draft_kept (void)
{
  HearthApplication *app = start ();
  HearthWindow *window = ui_test_window (app);
  GtkWidget *root = GTK_WIDGET (window);
  g_autofree char *household = household_to_visit (app);
  HearthFormView *view = begin_visit (app, household);
  g_autofree char *draft_id = g_strdup (hearth_form_view_get_draft_id (view));
  g_autofree char *on_disk = NULL;
  GtkWidget *entry;

  ui_test_form_answer (view, field_at (view, "/data/intro/visit_reason"), "routine");
  ui_test_form_press (view, "next_button");
  /* Every keystroke is in the store as it is typed. */
  entry = hearth_form_field_get_input (field_at (view, "/data/income/wages_other"));
  gtk_widget_grab_focus (entry);
  for (const char *typed = "31250"; *typed != '\0'; typed++)
    {
      int pos = -1;
      g_autofree char *sofar = NULL;

      gtk_editable_set_position (GTK_EDITABLE (entry), -1);
      pos = gtk_editable_get_position (GTK_EDITABLE (entry));
      gtk_editable_insert_text (GTK_EDITABLE (entry), typed, 1, &pos);
      g_free (on_disk);
      on_disk = draft_on_disk (draft_id);
      sofar = g_strdup_printf ("<wages_other>%.*s</wages_other>", (int) (typed - "31250" + 1), "31250");
      g_assert_nonnull (strstr (on_disk, sofar));
    }
  g_assert_true (g_str_has_prefix (on_disk, "/data/income\n"));

  /* The idle lock: the form goes with the store ... */
  g_action_group_activate_action (G_ACTION_GROUP (app), "lock", NULL);
  ui_test_flush (root);
  g_assert_cmpstr (hearth_window_get_screen (window), ==, "unlock");
  g_assert_null (hearth_window_get_form_view (window));
  /* ... and comes back on its page, with its answers. */
  unlock (app);
  ui_test_wait_screen (window, "form");
  view = ui_test_form_view (app);
  g_assert_cmpstr (hearth_form_view_get_draft_id (view), ==, draft_id);
  g_assert_cmpstr (hearth_form_view_get_page_key (view), ==, "/data/income");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (hearth_form_field_get_input (
                     field_at (view, "/data/income/wages_other")))), ==, "31250");
  ui_test_assert_form_value (view, "/data/intro/visit_reason", "routine");
  ui_test_screenshot (root, "26-visit-after-unlock");

  /* Closed: the household page offers to continue it. */
  ui_test_form_press (view, "close_button");
  ui_test_wait_screen (window, "main");
  {
    GtkWidget *hp = ui_test_find_type (root, HEARTH_TYPE_HOUSEHOLD_PAGE);
    GtkWidget *visit_button = ui_test_find (hp, "visit_button");
    g_autoptr(GVariant) target = g_variant_ref_sink (g_variant_new ("(sss)", "", "", draft_id));
    g_autoptr(GPtrArray) rows = ui_test_find_all (ui_test_find (hp, "drafts_group"), ADW_TYPE_ACTION_ROW);

    g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (visit_button)), ==, _("Continue the _visit"));
    g_assert_true (g_variant_equal (gtk_actionable_get_action_target_value (GTK_ACTIONABLE (visit_button)), target));
    g_assert_cmpuint (rows->len, ==, 1);
    g_assert_cmpstr (adw_preferences_row_get_title (rows->pdata[0]), ==, hearth_label_form (HEARTH_FORM_VISIT));
    ui_test_assert_labelled (root, "a household with an unfinished visit");
    ui_test_assert_touch_targets (root, "a household with an unfinished visit");
    ui_test_screenshot (root, "27-household-unfinished");

    /* Continued, then discarded. */
    ui_test_click (visit_button);
    ui_test_wait_screen (window, "form");
    view = ui_test_form_view (app);
    g_assert_cmpstr (hearth_form_view_get_draft_id (view), ==, draft_id);
    gtk_widget_activate_action (GTK_WIDGET (view), "form.discard", NULL);
    respond ("discard");
    ui_test_wait_screen (window, "main");
    ui_test_assert_app_text (app, "SELECT id FROM drafts WHERE id = ?", draft_id, NULL);
    hp = ui_test_find_type (root, HEARTH_TYPE_HOUSEHOLD_PAGE);
    g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (ui_test_find (hp, "visit_button"))), ==, _("Start a _visit"));
  }
  ui_test_app_free (app);
}

static void show_page_of (HearthFormView *view, const char *key);

/* A draft that cannot be opened any more (here its answers damaged; a
 * household the county removed, a form changed beyond continuing, do the
 * same) is offered for discarding: else the household's visit button led
 * to it for good and no visit could be begun. */
static void
test_broken_draft (void)
{
  HearthApplication *app = start ();
  HearthWindow *window = ui_test_window (app);
  GtkWidget *root = GTK_WIDGET (window);
  g_autofree char *household = household_to_visit (app);
  HearthFormView *view = begin_visit (app, household);
  g_autofree char *draft_id = g_strdup (hearth_form_view_get_draft_id (view));
  g_autofree char *sql = NULL;
  GtkWidget *hp;

  ui_test_form_answer (view, field_at (view, "/data/intro/visit_reason"), "routine");
  g_assert_true (hearth_form_view_get_draft_saved (view));
  /* A megabyte pasted into a multi-line field (no length of its own):
   * too long, said without the form's node path; the answer blank. */
  show_page_of (view, "/data/summary");
  {
    HearthFormField *f = field_at (view, "/data/summary/remarks");
    g_autoptr(GString) big = g_string_new (NULL);

    while (big->len < 1024 * 1024)
      g_string_append (big, "户主住院");
    ui_test_form_answer (view, f, big->str);
    ui_test_flush (root);
    g_assert_true (hearth_form_field_has_type_error (f));
    g_assert_nonnull (strstr (hearth_form_field_get_message (f), "65536"));
    g_assert_null (strstr (hearth_form_field_get_message (f), "/data/"));
    ui_test_assert_form_value (view, "/data/summary/remarks", "");
  }
  ui_test_form_press (view, "close_button");
  ui_test_wait_screen (window, "main");
  sql = sqlite3_mprintf ("UPDATE drafts SET xml = '<data id=\"hearth_household_visit\"><intro>' WHERE id = %Q",
                         draft_id);
  g_assert_cmpint (sqlite3_exec (ui_test_db (app), sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_free (sql);
  sql = NULL;

  /* Kept: nothing changes. */
  open_household (app, household);
  hp = ui_test_find_type (root, HEARTH_TYPE_HOUSEHOLD_PAGE);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (ui_test_find (hp, "visit_button"))), ==, _("Continue the _visit"));
  ui_test_click (ui_test_find (hp, "visit_button"));
  {
    gpointer dialog = NULL;

    ui_test_wait_for (dialog_shown, &dialog, 5000, "a dialog");
    g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, _("This unfinished form cannot be opened"));
    g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "XML"));
    ui_test_screenshot (GTK_WIDGET (dialog), "28-unfinished-form-broken");
  }
  respond ("cancel");
  g_assert_cmpstr (hearth_window_get_screen (window), ==, "main");
  ui_test_assert_app_text (app, "SELECT id FROM drafts WHERE id = ?", draft_id, draft_id);

  /* Discarded: gone, and a visit can be begun again. */
  ui_test_click (ui_test_find (hp, "visit_button"));
  respond ("discard");
  ui_test_assert_app_text (app, "SELECT id FROM drafts WHERE id = ?", draft_id, NULL);
  hp = ui_test_find_type (root, HEARTH_TYPE_HOUSEHOLD_PAGE);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (ui_test_find (hp, "visit_button"))), ==, _("Start a _visit"));
  ui_test_app_free (app);
}

/* An input method that keeps its composition to itself and commits it
 * when the focus leaves (as IBus and Fcitx can be set to). */
static gboolean
commit_later (gpointer data)
{
  GtkEditable *entry = data;
  int pos = (int) g_utf8_strlen (gtk_editable_get_text (entry), -1);

  gtk_editable_insert_text (entry, "三", -1, &pos);
  return G_SOURCE_REMOVE;
}

static void
commit_on_focus_out (GtkWidget *text, GParamSpec *pspec, GtkWidget *entry)
{
  if (!gtk_widget_has_focus (text))
    g_timeout_add (HEARTH_FORM_SETTLE_MS / 3, commit_later, entry);
}

static void
test_input_method (void)
{
  HearthApplication *app = start ();
  HearthWindow *window = ui_test_window (app);
  GtkWidget *root = GTK_WIDGET (window);
  HearthFormView *view;
  HearthFormField *name;
  GtkWidget *entry;
  GtkWidget *text;
  g_autofree char *on_disk = NULL;
  g_autofree char *draft_id = NULL;

  g_assert_true (hearth_window_open_form (window, HEARTH_FORM_REGISTRATION, NULL, NULL));
  ui_test_wait_screen (window, "form");
  view = ui_test_form_view (app);
  draft_id = g_strdup (hearth_form_view_get_draft_id (view));
  ui_test_form_answer (view, field_at (view, "/data/household/address"), "大新庄村三组 12 号");

  /* Composing "zhang" in the address: the page stays and asks to finish;
   * nothing of it is an answer. */
  name = field_at (view, "/data/household/address");
  entry = hearth_form_field_get_input (name);
  text = GTK_WIDGET (gtk_editable_get_delegate (GTK_EDITABLE (entry)));
  gtk_widget_grab_focus (entry);
  g_signal_emit_by_name (text, "preedit-changed", "zhang");
  ui_test_form_press (view, "next_button");
  g_assert_cmpstr (hearth_form_view_get_page_key (view), ==, "/data/household");
  g_assert_nonnull (strstr (hearth_form_field_get_message (name), "zhang"));
  g_assert_true (gtk_widget_has_focus (text));
  ui_test_assert_form_value (view, "/data/household/address", "大新庄村三组 12 号");
  ui_test_assert_labelled (root, "a page asking to finish a composition");
  ui_test_screenshot (root, "30-input-method-composing");
  /* Closing waits for it too. */
  ui_test_form_press (view, "close_button");
  g_assert_cmpstr (hearth_window_get_screen (window), ==, "form");

  /* Composed and committed: an answer, saved. */
  g_signal_emit_by_name (text, "preedit-changed", "");
  {
    int pos = (int) g_utf8_strlen (gtk_editable_get_text (GTK_EDITABLE (entry)), -1);
    gtk_editable_insert_text (GTK_EDITABLE (entry), "张", -1, &pos);
  }
  ui_test_flush (root);
  ui_test_assert_form_value (view, "/data/household/address", "大新庄村三组 12 号张");
  g_assert_null (hearth_form_field_get_message (name));

  /* A method that commits when the focus leaves: the focus leaves the
   * text before the page is checked, and the commit is taken. */
  ui_test_form_answer (view, field_at (view, "/data/household/village_code"), "150422100202");
  ui_test_form_answer (view, field_at (view, "/data/household/category"), "0");
  ui_test_form_answer (view, field_at (view, "/data/household/source"), "screening");
  gtk_widget_grab_focus (entry);
  g_assert_true (gtk_widget_has_focus (text));
  g_object_ref (text);
  g_signal_connect_object (text, "notify::has-focus", G_CALLBACK (commit_on_focus_out), entry, 0);
  ui_test_form_press (view, "next_button");
  g_assert_false (gtk_widget_has_focus (text));
  g_object_unref (text);
  ui_test_assert_form_value (view, "/data/household/address", "大新庄村三组 12 号张三");
  g_assert_cmpstr (hearth_form_view_get_page_key (view), ==, "/data/conditions");
  on_disk = draft_on_disk (draft_id);
  g_assert_nonnull (strstr (on_disk, "<address>大新庄村三组 12 号张三</address>"));

  ui_test_form_press (view, "close_button");
  ui_test_wait_screen (window, "main");
  ui_test_app_free (app);
}

static gboolean
page_is (HearthFormView *view, const char *key)
{
  return g_strcmp0 (hearth_form_view_get_page_key (view), key) == 0;
}

static void
test_registration (void)
{
  HearthApplication *app = start ();
  HearthWindow *window = ui_test_window (app);
  GtkWidget *root = GTK_WIDGET (window);
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *answers = load_answers ("registration-zh.json", &parser);
  HearthFormView *view;
  g_autofree char *instance_id = NULL;
  g_autofree char *household = NULL;
  g_autofree char *members_title = NULL;

  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (ui_test_find (root, "view_stack")), "households");
  ui_test_flush (root);
  ui_test_click (ui_test_find (root, "register_button"));
  ui_test_wait_screen (window, "form");
  view = ui_test_form_view (app);

  /* Household and conditions. */
  fill_page (view, answers);
  ui_test_form_press (view, "next_button");
  fill_page (view, answers);
  ui_test_form_press (view, "next_button");
  /* Members: one page each, "1 of 1", then the prompt. */
  g_assert_true (page_is (view, "/data/members[1]"));
  {
    g_autofree char *one_of_one = g_strdup_printf (_("%u of %d"), 1, 1);
    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (ui_test_find (GTK_WIDGET (view), "repeat_label"))), ==, one_of_one);
  }
  g_assert_cmpint (gtk_entry_get_input_purpose (GTK_ENTRY (hearth_form_field_get_input (
                     field_at (view, "/data/members[1]/phone")))), ==, GTK_INPUT_PURPOSE_PHONE);
  fill_page (view, answers);
  /* Relevance follows the answers on the page: no work place without
   * months worked. */
  g_assert_null (hearth_form_view_get_field (view, "/data/members[1]/work_place"));
  ui_test_assert_labelled (root, "a member's page");
  ui_test_assert_touch_targets (root, "a member's page");
  ui_test_screenshot (root, "31-registration-member");
  members_title = g_strdup (gtk_label_get_text (GTK_LABEL (ui_test_find (GTK_WIDGET (view), "page_title"))));
  ui_test_form_press (view, "next_button");
  g_assert_true (page_is (view, "+/data/members"));
  /* The prompt names the repeat as its pages do. */
  {
    g_autofree char *title = g_strdup_printf (_("%s: add another?"), members_title);
    g_assert_cmpstr (adw_status_page_get_title (ADW_STATUS_PAGE (ui_test_find (GTK_WIDGET (view), "prompt_page"))), ==,
                     title);
  }
  ui_test_assert_labelled (root, "the prompt to add a member");
  ui_test_assert_touch_targets (root, "the prompt to add a member");
  ui_test_screenshot (root, "32-registration-add-member");

  /* Four more members, from the prompt. */
  for (guint m = 2; m <= 5; m++)
    {
      g_autofree char *key = g_strdup_printf ("/data/members[%u]", m);

      ui_test_form_press (view, "add_button");
      g_assert_true (page_is (view, key));
      fill_page (view, answers);
      if (m == 2)
        g_assert_nonnull (hearth_form_view_get_field (view, "/data/members[2]/work_place"));
      fill_page (view, answers);
      ui_test_form_press (view, "next_button");
      g_assert_true (page_is (view, "+/data/members"));
    }
  /* One too many, removed. */
  ui_test_form_press (view, "add_button");
  g_assert_true (page_is (view, "/data/members[6]"));
  ui_test_form_answer (view, field_at (view, "/data/members[6]/name"), "多余的人");
  gtk_widget_activate_action (GTK_WIDGET (view), "form.remove-repeat", NULL);
  respond ("remove");
  ui_test_flush (root);
  g_assert_cmpint (hearth_form_session_count_repeat (hearth_form_view_get_form_session (view), "/data/members", NULL),
                   ==, 5);

  /* Jump through the list of pages: back to member 3, then on. */
  {
    g_autoptr(GPtrArray) rows = ui_test_find_all (ui_test_find (GTK_WIDGET (view), "pages_list"), ADW_TYPE_ACTION_ROW);
    guint n_pages = 0;

    hearth_form_view_get_page_index (view, &n_pages);
    g_assert_cmpuint (rows->len, ==, n_pages + 1);
    g_signal_emit_by_name (ui_test_find (GTK_WIDGET (view), "pages_list"), "row-activated", rows->pdata[4]);
    ui_test_wait_for (ui_test_form_settled, view, 5000, "the jump");
    ui_test_flush (root);
    g_assert_true (page_is (view, "/data/members[3]"));
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (hearth_form_field_get_input (
                       field_at (view, "/data/members[3]/name")))), ==, "黄小明");
  }
  fill_to_summary (view, answers, NULL);
  g_assert_false (gtk_widget_get_visible (ui_test_find (GTK_WIDGET (view), "risk_box")));
  g_assert_true (gtk_widget_get_sensitive (ui_test_find (GTK_WIDGET (view), "save_button")));
  ui_test_screenshot (root, "33-registration-summary");
  instance_id = g_strdup (hearth_form_session_get_instance_id (hearth_form_view_get_form_session (view)));
  ui_test_form_press (view, "save_button");
  ui_test_wait_screen (window, "main");
  household = ui_test_app_text (app, "SELECT household_id FROM submissions WHERE id = ?", instance_id + 5);
  g_assert_nonnull (household);
  {
    g_autoptr(HearthHousehold) h = hearth_case_household_read (ui_test_db (app), household, NULL);
    GtkWidget *hp = ui_test_find_type (root, HEARTH_TYPE_HOUSEHOLD_PAGE);

    g_assert_cmpstr (h->head_name, ==, "黄志强");
    g_assert_cmpuint (h->members->len, ==, 5);
    g_assert_cmpstr (hearth_household_page_get_household_id (HEARTH_HOUSEHOLD_PAGE (hp)), ==, household);
  }
  ui_test_app_free (app);
}

/* ---- the inputs, on the session test form -------------------------------- */

static void
show_page_of (HearthFormView *view, const char *key)
{
  GtkWidget *list = ui_test_find (GTK_WIDGET (view), "pages_list");
  HearthFormSession *fs = hearth_form_view_get_form_session (view);
  g_autoptr(GPtrArray) pages = hearth_form_session_pages (fs);
  g_autoptr(GPtrArray) rows = ui_test_find_all (list, ADW_TYPE_ACTION_ROW);

  for (guint i = 0; i < pages->len; i++)
    {
      HearthFormPage *p = pages->pdata[i];
      const char *k = p->path != NULL ? p->path : ((HearthFormQuestion *) p->questions->pdata[0])->path;

      if (p->kind == HEARTH_FORM_PAGE_QUESTIONS && g_str_equal (k, key))
        {
          g_signal_emit_by_name (list, "row-activated", rows->pdata[i]);
          ui_test_wait_for (ui_test_form_settled, view, 5000, "the jump");
          ui_test_flush (GTK_WIDGET (view));
          g_assert_cmpstr (hearth_form_view_get_page_key (view), ==, key);
          return;
        }
    }
  g_error ("no page %s", key);
}

static void
test_inputs (void)
{
  HearthApplication *app = start ();
  g_autofree char *path = g_build_filename (g_getenv ("HEARTH_SOURCE_DIR"), "tests", "data", "forms", "session.xml",
                                            NULL);
  g_autoptr(GError) error = NULL;
  HearthCaseForm *cf = g_new0 (HearthCaseForm, 1);
  HearthFormView *view;
  GtkWidget *window = gtk_window_new ();
  HearthFormField *f;
  GtkCalendar *calendar;
  const gboolean zh = g_str_equal (ui_test_language (), "zh_CN");

  cf->form = hearth_form_load (path, NULL, &error);
  g_assert_no_error (error);
  cf->version = g_strdup ("1");
  cf->instances = g_hash_table_new (g_str_hash, g_str_equal);
  view = hearth_form_view_new (hearth_application_get_session (app), cf, NULL, NULL, &error);
  g_assert_no_error (error);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (view));
  gtk_window_set_default_size (GTK_WINDOW (window), 800, 1200);
  gtk_window_present (GTK_WINDOW (window));
  ui_test_flush (window);

  /* Whole numbers: the digits; the label's output follows the answer; the
   * form's own constraint message, in the language. */
  show_page_of (view, "/data/n");
  f = field_at (view, "/data/n");
  g_assert_cmpint (gtk_entry_get_input_purpose (GTK_ENTRY (hearth_form_field_get_input (f))), ==,
                   GTK_INPUT_PURPOSE_DIGITS);
  ui_test_form_answer (view, f, "30");
  ui_test_flush (window);
  ui_test_form_press (view, "next_button");
  g_assert_cmpstr (hearth_form_field_get_message (f), ==, zh ? "人数必须在 1 到 20 之间" : "People must be from 1 to 20");
  ui_test_screenshot (window, "34-inputs-constraint");
  ui_test_form_answer (view, f, "4");
  ui_test_run_for (20);
  ui_test_flush (window);
  {
    g_autofree char *shown = ui_test_visible_text (GTK_WIDGET (view));
    g_assert_nonnull (strstr (shown, zh ? "人数：4" : "People: 4"));
  }
  g_assert_null (hearth_form_field_get_message (f));

  /* A megabyte of Chinese pasted into a text field: the entry keeps what
   * fits the longest answer, cut between characters, and it is the
   * ui_test_form_answer (a GtkEntry holds at most 65535 bytes). */
  show_page_of (view, "/data/name");
  f = field_at (view, "/data/name");
  {
    g_autoptr(GString) big = g_string_new (NULL);
    const char *kept;

    while (big->len < 1024 * 1024)
      g_string_append (big, "户主住院");
    ui_test_form_answer (view, f, big->str);
    ui_test_flush (window);
    kept = gtk_editable_get_text (GTK_EDITABLE (hearth_form_field_get_input (f)));
    g_assert_cmpuint (strlen (kept), >, 60000);
    g_assert_cmpuint (strlen (kept), <=, HEARTH_FORM_MAX_ANSWER);
    g_assert_true (g_utf8_validate (kept, -1, NULL));
    g_assert_false (hearth_form_field_has_type_error (f));
    ui_test_assert_form_value (view, "/data/name", kept);
  }
  ui_test_form_answer (view, f, "abc");
  ui_test_flush (window);
  ui_test_assert_form_value (view, "/data/name", "abc");

  /* Decimal, time, a location: their keyboards and what to type. */
  show_page_of (view, "/data/a");
  g_assert_cmpint (gtk_entry_get_input_purpose (GTK_ENTRY (hearth_form_field_get_input (field_at (view, "/data/a")))), ==,
                   GTK_INPUT_PURPOSE_NUMBER);
  show_page_of (view, "/data/visit_time");
  ui_test_form_answer (view, field_at (view, "/data/visit_time"), "09:30");
  ui_test_assert_form_value (view, "/data/visit_time", "09:30");
  show_page_of (view, "/data/place");
  f = field_at (view, "/data/place");
  ui_test_form_answer (view, f, "43.98");
  g_assert_cmpstr (hearth_form_field_get_message (f), ==,
                   _("Type the latitude and the longitude with a space between them, such as 40.61 109.84."));
  ui_test_form_answer (view, f, "43.98 119.39");
  ui_test_assert_form_value (view, "/data/place", "43.98 119.39");

  /* A date picked on the calendar is that calendar date, here at UTC+14
   * as anywhere; the button says it as the app writes dates. */
  show_page_of (view, "/data/visit_date");
  f = field_at (view, "/data/visit_date");
  g_assert_true (GTK_IS_MENU_BUTTON (hearth_form_field_get_input (f)));
  calendar = hearth_form_field_get_calendar (f);
  {
    g_autoptr(GDateTime) day = g_date_time_new_local (2026, 3, 5, 0, 0, 0);
    g_autofree char *label = hearth_label_date ("2026-03-05");

    gtk_menu_button_popup (GTK_MENU_BUTTON (hearth_form_field_get_input (f)));
    ui_test_flush (window);
    gtk_calendar_select_day (calendar, day);
    g_signal_emit_by_name (calendar, "day-selected");
    ui_test_flush (window);
    ui_test_assert_form_value (view, "/data/visit_date", "2026-03-05");
    g_assert_cmpstr (gtk_menu_button_get_label (GTK_MENU_BUTTON (hearth_form_field_get_input (f))), ==, label);
    /* A calculation from it: three days on. */
    ui_test_assert_form_value (view, "/data/due", "2026-03-08");
  }
  ui_test_assert_labelled (GTK_WIDGET (view), "a date question");
  ui_test_assert_touch_targets (GTK_WIDGET (view), "a date question");
  ui_test_screenshot (window, "35-inputs-date");

  /* A select of several: rows with checks. */
  show_page_of (view, "/data/water");
  ui_test_form_answer (view, field_at (view, "/data/water"), "well river");
  ui_test_assert_form_value (view, "/data/water", "well river");
  ui_test_form_answer (view, field_at (view, "/data/water"), "well");
  ui_test_assert_form_value (view, "/data/water", "river");
  ui_test_screenshot (window, "36-inputs-select");

  /* An attachment: said plainly that this tablet does not take it. */
  show_page_of (view, "/data/photo");
  g_assert_null (hearth_form_field_get_input (field_at (view, "/data/photo")));

  gtk_window_destroy (GTK_WINDOW (window));
  ui_test_app_free (app);
}

int
main (int argc, char **argv)
{
  ui_test_init (&argc, &argv);
  make_store ();
  g_test_add_func ("/ui/form/visit", test_visit);
  g_test_add_func ("/ui/form/draft-kept", test_draft_kept);
  g_test_add_func ("/ui/form/broken-draft", test_broken_draft);
  g_test_add_func ("/ui/form/input-method", test_input_method);
  g_test_add_func ("/ui/form/registration", test_registration);
  g_test_add_func ("/ui/form/inputs", test_inputs);
  return g_test_run ();
}

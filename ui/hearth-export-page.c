/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-export-page.c: the county staff's batch export (hearth-export-page.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-export-page.h"
#include "case-labels.h"
#include "batch.h"
#include "case-divisions.h"
#include "case-summary.h"
#include "sync-export.h"

#include <glib/gi18n.h>
#include <string.h>

struct _HearthExportPage {
  GtkWidget parent_instance;
  GtkScrolledWindow *scroller;
  AdwActionRow *last_row;
  AdwComboRow *scope_row;
  AdwEntryRow *since_row;
  AdwEntryRow *until_row;
  AdwActionRow *continue_row;
  GtkSwitch *continue_switch;
  AdwComboRow *format_row;
  GtkButton *export_button;
  GtkSpinner *spinner;
  GtkLabel *result_label;
  AdwPreferencesGroup *files_group;

  HearthSession *session;
  GStrv scopes;              /* the codes scope_row offers, in its order */
  GPtrArray *file_rows;
  GtkFileChooserNative *chooser;
  GCancellable *cancellable;
  char *batch_dir;
  gint64 last_cursor_to;     /* -1: no batch yet */
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (HearthExportPage, hearth_export_page, GTK_TYPE_WIDGET)

static const char *const formats[] = { "csv", "json" };

static void
show_last (HearthExportPage *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthSyncExportLast) last = hearth_sync_export_last (hearth_session_get_sync (self->session), &error);

  if (last == NULL)
    {
      if (error != NULL)
        g_warning ("The last batch cannot be read: %s", error->message);
      self->last_cursor_to = -1;
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->last_row),
                                     _("No batch has been exported from this tablet yet."));
      adw_action_row_set_subtitle (self->last_row, "");
      adw_action_row_set_subtitle (self->continue_row, _("There is no batch to continue after: all changes of the "
                                                         "period are exported."));
      gtk_switch_set_active (self->continue_switch, FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->continue_row), FALSE);
      return;
    }
  {
    g_autofree char *when = hearth_label_moment (last->at);
    /* TRANSLATORS: the last batch: its area's code, and when it was fetched */
    g_autofree char *title = g_strdup_printf (_("Area %s, exported %s"), last->scope, when);
    /* TRANSLATORS: the last batch's cursor range */
    g_autofree char *range = g_strdup_printf (_("Changes numbered after %lld up to %lld"),
                                              (long long) last->cursor_from, (long long) last->cursor_to);
    g_autofree char *cont = g_strdup_printf (_("Only the changes after number %lld, so that nothing is exported twice"),
                                             (long long) last->cursor_to);

    self->last_cursor_to = last->cursor_to;
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->last_row), title);
    adw_action_row_set_subtitle (self->last_row, range);
    adw_action_row_set_subtitle (self->continue_row, cont);
    gtk_widget_set_sensitive (GTK_WIDGET (self->continue_row), TRUE);
    gtk_switch_set_active (self->continue_switch, TRUE);
  }
}

/* The areas: the user's scope (the county) and the townships held. */
static void
read_scopes (HearthExportPage *self)
{
  const HearthIdentity *id = hearth_session_get_identity (self->session);
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCaseSummary) summary = hearth_case_summary_read (hearth_session_get_db (self->session), NULL,
                                                                    &error);
  g_autoptr(GStrvBuilder) codes = g_strv_builder_new ();
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);

  if (summary == NULL)
    g_warning ("The townships cannot be read: %s", error->message);
  for (guint i = 0; id->scope != NULL && id->scope[i] != NULL; i++)
    {
      g_autofree char *name = hearth_division_name (hearth_session_get_store (self->session), id->scope[i]);

      if (name != NULL)
        {
          g_autofree char *named = name;

          /* TRANSLATORS: an area to export: its name, then its division code */
          name = g_strdup_printf (_("%s (%s)"), named, id->scope[i]);
        }
      else if (strlen (id->scope[i]) == 6)
        /* TRANSLATORS: an area to export: the whole county, by its division code */
        name = g_strdup_printf (_("County %s"), id->scope[i]);
      else if (strlen (id->scope[i]) == 9)
        name = g_strdup_printf (_("Township %s"), id->scope[i]);
      else
        name = g_strdup_printf (_("Village %s"), id->scope[i]);
      g_strv_builder_add (codes, id->scope[i]);
      gtk_string_list_append (names, name);
      for (guint k = 0; summary != NULL && strlen (id->scope[i]) < 9 && k < summary->townships->len; k++)
        {
          const char *code = ((HearthSummaryGroup *) summary->townships->pdata[k])->code;
          g_autofree char *tname = NULL;
          g_autofree char *known = NULL;

          if (!g_str_has_prefix (code, id->scope[i]))
            continue;
          known = hearth_division_name (hearth_session_get_store (self->session), code);
          tname = known != NULL ? g_strdup_printf (_("%s (%s)"), known, code) : g_strdup_printf (_("Township %s"), code);
          g_strv_builder_add (codes, code);
          gtk_string_list_append (names, tname);
        }
    }
  g_strfreev (self->scopes);
  self->scopes = g_strv_builder_end (codes);
  adw_combo_row_set_model (self->scope_row, G_LIST_MODEL (names));
}

gboolean
hearth_export_page_set_scope (HearthExportPage *self, const char *code)
{
  g_return_val_if_fail (HEARTH_IS_EXPORT_PAGE (self), FALSE);

  for (guint i = 0; self->scopes[i] != NULL; i++)
    if (g_str_equal (self->scopes[i], code))
      {
        adw_combo_row_set_selected (self->scope_row, i);
        return TRUE;
      }
  return FALSE;
}

static void
clear_files (HearthExportPage *self)
{
  for (guint i = 0; i < self->file_rows->len; i++)
    adw_preferences_group_remove (self->files_group, self->file_rows->pdata[i]);
  g_ptr_array_set_size (self->file_rows, 0);
  gtk_widget_set_visible (GTK_WIDGET (self->files_group), FALSE);
}

static void
set_busy (HearthExportPage *self, gboolean busy)
{
  self->busy = busy;
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_button), !busy);
}

static void
say (HearthExportPage *self, const char *text, gboolean failed)
{
  gtk_label_set_text (self->result_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->result_label), TRUE);
  if (failed)
    gtk_widget_add_css_class (GTK_WIDGET (self->result_label), "hearth-error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->result_label), "hearth-error");
}

/* ---- the export, in the background ---------------------------------------- */

typedef struct {
  HearthSyncClient *client;
  char *scope, *since, *until, *format, *dir;
  gint64 after;
  char *error_code;        /* the center's, when it refused the query */
  gint64 time_offset;
} Job;

static void
job_free (Job *j)
{
  g_clear_pointer (&j->client, hearth_sync_client_free);
  g_free (j->scope);
  g_free (j->since);
  g_free (j->until);
  g_free (j->format);
  g_free (j->dir);
  g_free (j->error_code);
  g_free (j);
}

static void
export_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Job *j = data;
  HearthSyncExportQuery q = { j->scope, j->since, j->until, j->after, j->format };
  JsonObject *manifest = NULL;
  GError *error = NULL;

  if (!hearth_sync_export_fetch (j->client, &q, j->dir, &manifest, NULL, &error))
    {
      j->error_code = g_strdup (hearth_sync_client_get_error_code (j->client));
      j->time_offset = hearth_sync_client_get_time_offset (j->client);
      g_task_return_error (task, error);
      return;
    }
  j->time_offset = hearth_sync_client_get_time_offset (j->client);
  g_task_return_pointer (task, manifest, (GDestroyNotify) json_object_unref);
}

/* What went wrong, in words a county official acts on. */
static char *
plain_words (const GError *error, const char *code)
{
  if (error->domain == HEARTH_SYNC_ERROR && error->code == HEARTH_SYNC_ERROR_UNREACHABLE)
    return g_strdup (_("The county center cannot be reached. Check the network, then try again."));
  if (error->domain == HEARTH_SYNC_ERROR && error->code == HEARTH_SYNC_ERROR_WEB_PAGE)
    return g_strdup (_("The network here answered with a web page, not as the county center: the Wi-Fi may ask "
                       "for a sign-in first. Sign in with a web browser, then try again."));
  if (error->domain == HEARTH_SYNC_ERROR && error->code == HEARTH_SYNC_ERROR_UNTRUSTED)
    return g_strdup (_("The county center's certificate is not trusted by this tablet, or its key does not match "
                       "the pin it was enrolled with. Tell county IT."));
  if (error->domain == HEARTH_SYNC_ERROR && g_strcmp0 (code, "too-large") == 0)
    return g_strdup (_("The batch would be too large to send at once: choose a shorter period or one township."));
  if (error->domain == HEARTH_SYNC_ERROR && g_strcmp0 (code, "bad-request") == 0)
    return g_strdup_printf (_("The county center did not accept the request: %s"), error->message);
  if (error->domain == HEARTH_SYNC_ERROR && error->code == HEARTH_SYNC_ERROR_REFUSED)
    return g_strdup_printf (_("The county center refused this tablet: %s"), error->message);
  if (error->domain == HEARTH_SYNC_STORE_ERROR && error->code == HEARTH_SYNC_STORE_ERROR_NOT_ENROLLED)
    return g_strdup (_("This tablet is not enrolled with the county center: enrol it first."));
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
    return g_strdup_printf (_("Check the form: %s."), error->message);
  if (error->domain == G_FILE_ERROR || error->domain == G_IO_ERROR)
    return g_strdup_printf (_("The folder cannot be written: %s. Choose another folder."), error->message);
  if (error->domain == HEARTH_BATCH_ERROR)
    return g_strdup_printf (_("The batch written does not verify, so do not use it: %s"), error->message);
  return g_strdup_printf (_("The batch could not be exported: %s"), error->message);
}

/* A batch file's table in words (center-export.h names them). */
static const char *
table_words (const char *file)
{
  static const struct {
    const char *name;
    const char *words;
  } tables[] = {
    { "households", N_("Households") },
    { "members", N_("Household members") },
    { "submissions", N_("Visits and forms") },
    { "tasks", N_("Follow-up and correction tasks") },
    { "reviews", N_("Review decisions") },
    { "measures", N_("Assistance measures") },
    { "conflicts", N_("Values that disagree") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    if (g_str_has_prefix (file, tables[i].name) && file[strlen (tables[i].name)] == '.')
      return _(tables[i].words);
  return "";
}

static void
export_done (GObject *source, GAsyncResult *result, gpointer data)
{
  HearthExportPage *self = HEARTH_EXPORT_PAGE (source);
  Job *j = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) manifest = g_task_propagate_pointer (G_TASK (result), &error);
  JsonArray *files;
  gint64 records = 0;

  /* The screen went (the app locked) while the batch was fetched: what
   * was written stays where it is. */
  if (self->session == NULL)
    return;
  set_busy (self, FALSE);
  /* What the exchange taught about the center's clock is kept, as the CLI does. */
  hearth_sync_store_set_exchange (hearth_session_get_sync (self->session), j->time_offset, 0, NULL);
  if (manifest == NULL)
    {
      g_autofree char *text = plain_words (error, j->error_code);

      g_message ("The export into %s failed: %s", j->dir, error->message);
      say (self, text, TRUE);
      return;
    }
  g_clear_error (&error);
  if (!hearth_sync_export_remember (hearth_session_get_sync (self->session), manifest, &error))
    g_warning ("The last batch cannot be kept: %s", error->message);
  g_free (self->batch_dir);
  self->batch_dir = g_strdup (j->dir);
  files = json_object_get_array_member (manifest, "files");
  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      JsonObject *f = json_array_get_object_element (files, i);
      gint64 n = json_object_get_int_member (f, "records");
      g_autofree char *count = g_strdup_printf ("%" G_GINT64_FORMAT, n);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *label = gtk_label_new (count);

      records += n;
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), json_object_get_string_member (f, "name"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), table_words (json_object_get_string_member (f, "name")));
      gtk_widget_add_css_class (label, "numeric");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
      adw_preferences_group_add (self->files_group, row);
      g_ptr_array_add (self->file_rows, row);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->files_group), TRUE);
  {
    /* TRANSLATORS: after an export: the folder, the records and files, and the cursor range */
    g_autofree char *text = g_strdup_printf (
      _("Written to %s and verified: %lld records in %u files, the changes numbered after %lld up to %lld."), j->dir,
      (long long) records, json_array_get_length (files),
      (long long) json_object_get_int_member (manifest, "cursor_from"),
      (long long) json_object_get_int_member (manifest, "cursor_to"));
    say (self, text, FALSE);
  }
  show_last (self);
}

/* A new folder in @parent for the batch: the center writes into an empty one. */
static char *
batch_folder (const char *parent, const char *scope)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");

  for (guint n = 1; n < 1000; n++)
    {
      g_autofree char *name = n == 1 ? g_strdup_printf ("hearth-batch-%s-%s", scope, stamp)
                                     : g_strdup_printf ("hearth-batch-%s-%s-%u", scope, stamp, n);
      char *path = g_build_filename (parent, name, NULL);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        return path;
      g_free (path);
    }
  return NULL;
}

void
hearth_export_page_export_to (HearthExportPage *self, GFile *folder)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;
  g_autofree char *parent = NULL;
  guint scope_i, format_i;
  const char *until;
  Job *j;

  g_return_if_fail (HEARTH_IS_EXPORT_PAGE (self));
  g_return_if_fail (G_IS_FILE (folder));

  if (self->busy)
    return;
  clear_files (self);
  scope_i = adw_combo_row_get_selected (self->scope_row);
  format_i = adw_combo_row_get_selected (self->format_row);
  parent = g_file_get_path (folder);
  if (parent == NULL || scope_i >= g_strv_length (self->scopes) || format_i >= G_N_ELEMENTS (formats))
    {
      say (self, _("Choose a folder on this tablet and an area."), TRUE);
      return;
    }
  j = g_new0 (Job, 1);
  j->client = hearth_sync_export_client (hearth_session_get_sync (self->session), &error);
  j->scope = g_strdup (self->scopes[scope_i]);
  j->since = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->since_row))));
  until = gtk_editable_get_text (GTK_EDITABLE (self->until_row));
  j->until = until != NULL && until[0] != '\0' ? g_strstrip (g_strdup (until)) : NULL;
  j->format = g_strdup (formats[format_i]);
  j->after = gtk_switch_get_active (self->continue_switch) && self->last_cursor_to > 0 ? self->last_cursor_to : 0;
  j->dir = batch_folder (parent, j->scope);
  task = g_task_new (self, self->cancellable, export_done, NULL);
  g_task_set_task_data (task, j, (GDestroyNotify) job_free);
  if (j->client == NULL || j->dir == NULL)
    {
      g_autofree char *text = error != NULL ? plain_words (error, NULL)
                                            : g_strdup (_("The folder cannot be written: choose another folder."));
      say (self, text, TRUE);
      return;
    }
  say (self, _("Exporting…"), FALSE);
  set_busy (self, TRUE);
  g_task_run_in_thread (task, export_thread);
}

static void
chooser_response (GtkNativeDialog *dialog, int response, HearthExportPage *self)
{
  g_autoptr(GFile) folder = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    folder = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_clear_object (&self->chooser);
  if (folder != NULL)
    hearth_export_page_export_to (self, folder);
}

static void
export_clicked (HearthExportPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (self->chooser != NULL || self->busy)
    return;
  /* GTK 4.8: GtkFileChooserNative (GtkFileDialog came with 4.10). */
  self->chooser = gtk_file_chooser_native_new (_("Choose the folder for the batch"),
                                               GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Export here"),
                                               _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
session_changed (HearthSession *session, HearthExportPage *self)
{
  g_autofree char *scope = NULL;
  guint i = adw_combo_row_get_selected (self->scope_row);

  if (self->scopes != NULL && i < g_strv_length (self->scopes))
    scope = g_strdup (self->scopes[i]);
  read_scopes (self);
  if (scope != NULL)
    hearth_export_page_set_scope (self, scope);
}

static void
hearth_export_page_dispose (GObject *object)
{
  HearthExportPage *self = HEARTH_EXPORT_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (self->chooser != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->chooser, self);
      gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
      g_clear_object (&self->chooser);
    }
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->file_rows, g_ptr_array_unref);
  g_clear_pointer (&self->scopes, g_strfreev);
  g_clear_pointer (&self->batch_dir, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), HEARTH_TYPE_EXPORT_PAGE);
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self)); child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (hearth_export_page_parent_class)->dispose (object);
}

static void
hearth_export_page_class_init (HearthExportPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearth_export_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-export-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthExportPage, scroller);
  gtk_widget_class_bind_template_child (widget_class, HearthExportPage, last_row);
  gtk_widget_class_bind_template_child (widget_class, HearthExportPage, scope_row);
  gtk_widget_class_bind_template_child (widget_class, HearthExportPage, since_row);
  gtk_widget_class_bind_template_child (widget_class, HearthExportPage, until_row);
  gtk_widget_class_bind_template_child (widget_class, HearthExportPage, continue_row);
  gtk_widget_class_bind_template_child (widget_class, HearthExportPage, continue_switch);
  gtk_widget_class_bind_template_child (widget_class, HearthExportPage, format_row);
  gtk_widget_class_bind_template_child (widget_class, HearthExportPage, export_button);
  gtk_widget_class_bind_template_child (widget_class, HearthExportPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, HearthExportPage, result_label);
  gtk_widget_class_bind_template_child (widget_class, HearthExportPage, files_group);
  gtk_widget_class_bind_template_callback (widget_class, export_clicked);
}

static void
hearth_export_page_init (HearthExportPage *self)
{
  g_autoptr(GtkStringList) format_names = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->file_rows = g_ptr_array_new ();
  self->cancellable = g_cancellable_new ();
  self->last_cursor_to = -1;
  format_names = gtk_string_list_new (NULL);
  gtk_string_list_append (format_names, _("CSV (spreadsheets)"));
  gtk_string_list_append (format_names, _("JSON (other systems)"));
  adw_combo_row_set_model (self->format_row, G_LIST_MODEL (format_names));
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
}

HearthExportPage *
hearth_export_page_new (HearthSession *session)
{
  HearthExportPage *self = g_object_new (HEARTH_TYPE_EXPORT_PAGE, NULL);
  g_autofree char *today = NULL;
  g_autofree char *since = NULL;

  g_return_val_if_fail (HEARTH_IS_SESSION (session), NULL);

  self->session = g_object_ref (session);
  /* From the first of the year; continuing after the last batch is what
   * keeps consecutive batches from overlapping. */
  today = hearth_session_get_today (session);
  since = g_strdup_printf ("%.4s-01-01", today);
  gtk_editable_set_text (GTK_EDITABLE (self->since_row), since);
  read_scopes (self);
  show_last (self);
  g_signal_connect (session, "changed", G_CALLBACK (session_changed), self);
  return self;
}

gboolean
hearth_export_page_get_busy (HearthExportPage *self)
{
  g_return_val_if_fail (HEARTH_IS_EXPORT_PAGE (self), FALSE);
  return self->busy;
}

const char *
hearth_export_page_get_batch_dir (HearthExportPage *self)
{
  g_return_val_if_fail (HEARTH_IS_EXPORT_PAGE (self), NULL);
  return self->batch_dir;
}

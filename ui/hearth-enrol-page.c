/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-enrol-page.c: enrol with the county center (hearth-enrol-page.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-enrol-page.h"
#include "hearth-idle-lock.h"
#include "hearth-window.h"
#include "case-identity.h"
#include "client.h"
#include "sync-reply.h"
#include "sync-restore.h"
#include "sync-run.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

struct _HearthEnrolPage {
  GtkWidget parent_instance;
  GtkWidget *form_box;
  GtkEntry *center_entry;
  GtkEntry *code_entry;
  GtkButton *paste_button;
  GtkEntry *name_entry;
  GtkEntry *pin_entry;
  GtkButton *ca_button;
  GtkLabel *ca_label;
  GtkButton *ca_clear_button;
  char *ca_file;           /* the CA bundle chosen, checked, or NULL */
  GtkFileChooserNative *chooser;
  GtkLabel *error_label;
  GtkWidget *busy_box;
  GtkSpinner *spinner;
  GtkButton *enrol_button;
  GtkButton *later_button;
  HearthSession *session;
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (HearthEnrolPage, hearth_enrol_page, GTK_TYPE_WIDGET)

char *
hearth_enrol_page_describe_error (const GError *error, const char *center_code)
{
  if (g_error_matches (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNREACHABLE))
    return g_strdup (_("The county center cannot be reached. Check that the tablet has a network (Wi-Fi or "
                       "mobile data) and that the address is right, then try again, or choose Later."));
  if (g_error_matches (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_WEB_PAGE))
    return g_strdup (_("The network here answered with a web page, not as the county center: the Wi-Fi may ask "
                       "for a sign-in first (sign in with a web browser), or the address is wrong. Then try "
                       "again, or choose Later."));
  if (g_error_matches (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_UNTRUSTED))
    return g_strdup (_("The county center's certificate is not trusted by this tablet, or its key does not match "
                       "the pin: check the address and the pin (or the CA certificate file) on the enrolment sheet, "
                       "or ask county IT."));
  if (g_error_matches (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_REFUSED))
    /* The center's reasons (PROTOCOL.md section 5) in the user's words:
     * its own message is English for county IT. */
    switch (hearth_sync_enrol_refusal (center_code))
      {
      case HEARTH_ENROL_REFUSAL_CODE_UNKNOWN:
        return g_strdup (_("The county center does not know this code. Check that it is typed as county staff "
                           "wrote it, or ask them for a new one."));
      case HEARTH_ENROL_REFUSAL_CODE_EXPIRED:
        return g_strdup (_("This code has expired: a code is good for a few days only. Ask county staff for a "
                           "new one."));
      case HEARTH_ENROL_REFUSAL_CODE_USED:
        return g_strdup (_("This code has been used already: a code enrols one tablet, once. Ask county staff "
                           "for a new one."));
      case HEARTH_ENROL_REFUSAL_DEVICE_EXISTS:
        return g_strdup (_("The county center has this tablet enrolled already. Ask county staff to check their "
                           "list of tablets."));
      case HEARTH_ENROL_REFUSAL_REVOKED:
        return g_strdup (_("The county center has withdrawn this tablet: it cannot be enrolled again. Ask county "
                           "staff."));
      case HEARTH_ENROL_REFUSAL_OTHER:
      default:
        return g_strdup_printf (_("The county center did not accept this code: it may be mistyped, used already or "
                                  "expired. Check the code, or ask county staff for a new one. (The center said: %s)"),
                                error->message);
      }
  if (g_error_matches (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_BAD_ADDRESS))
    return g_strdup_printf (_("This is not an address the tablet can use for the county center: type it as county "
                              "staff gave it, such as https://center.example.gov.cn:8443. (Details: %s)"),
                            error->message);
  if (g_error_matches (error, HEARTH_SYNC_ERROR, HEARTH_SYNC_ERROR_PROTOCOL))
    return g_strdup_printf (_("The address does not lead to a county center, or the center answered in a way "
                              "this version of Hearth does not understand. Check the address. (Details: %s)"),
                            error->message);
  return g_strdup_printf (_("The tablet could not be enrolled: %s"), error->message);
}

static void
show_error (HearthEnrolPage *self, const char *message)
{
  gtk_label_set_text (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

static void
set_busy (HearthEnrolPage *self, gboolean busy)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  self->busy = busy;
  gtk_widget_set_visible (self->busy_box, busy);
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->center_entry), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->code_entry), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->paste_button), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->name_entry), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->pin_entry), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->ca_button), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->ca_clear_button), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->enrol_button), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->later_button), !busy);
  /* The store is the enrolment thread's meanwhile: no idle lock. */
  if (HEARTH_IS_WINDOW (root))
    hearth_idle_lock_set_running (HEARTH_IDLE_LOCK (hearth_window_get_idle_lock (HEARTH_WINDOW (root))), !busy);
}

typedef struct {
  char *center;
  char *code;
  char *name;
  char *pin;           /* sha256//…, or NULL */
  char *ca_file;       /* a CA bundle's path, or NULL */
  char *refusal_code;
  HearthSyncEnrolment *enrolment;
  gboolean again;      /* the store is enrolled: enrolling again */
} EnrolData;

static void
enrol_data_free (EnrolData *data)
{
  g_free (data->center);
  g_free (data->code);
  g_free (data->name);
  g_free (data->pin);
  g_free (data->ca_file);
  g_free (data->refusal_code);
  g_clear_pointer (&data->enrolment, hearth_sync_enrolment_free);
  g_free (data);
}

static void
enrol_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  HearthSession *session = source;
  EnrolData *data = task_data;
  HearthSyncRunOptions options = { 0 };
  GError *error = NULL;

  /* A pin or a CA is kept with the enrolment and used at every sync;
   * without either, enrolling again keeps the trust the tablet has. */
  options.pinned_key = data->pin;
  options.ca_file = data->ca_file;

  /* An enrolled tablet the center does not know (restored from a backup
   * older than the enrolment) enrols again, keeping its store. */
  if (data->again ? !hearth_sync_reenrol (hearth_session_get_sync (session), data->center, data->code, data->name,
                                          &options, &data->enrolment, &data->refusal_code, &error)
                  : !hearth_sync_enrol_full (hearth_session_get_sync (session), data->center, data->code, data->name,
                                             &options, &data->enrolment, &data->refusal_code, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/* Writes who the user is and seals the recovery envelope (main thread: the
 * store is the page's again). */
static gboolean
adopt (HearthSession *session, const HearthSyncEnrolment *e, GError **error)
{
  HearthRole role;
  const HearthSecret *passphrase = hearth_session_get_passphrase (session);
  HearthStore *store = hearth_session_get_store (session);

  if (!hearth_role_from_name (e->role, &role))
    {
      g_set_error (error, HEARTH_CASE_ERROR, HEARTH_CASE_ERROR_INVALID,
                   _("The center gave a role this version of Hearth does not know: “%s”"), e->role);
      return FALSE;
    }
  if (!hearth_identity_write (store, e->user, role, (const char *const *) e->scope, error))
    return FALSE;
  if (e->county_public_key != NULL && passphrase != NULL)
    {
      gsize len = 0;
      g_autofree guint8 *key = g_base64_decode (e->county_public_key, &len);

      if (len == crypto_box_PUBLICKEYBYTES &&
          !hearth_store_set_county_key (hearth_store_get_data_dir (store), passphrase, key, error))
        return FALSE;
    }
  return hearth_session_reload_identity (session, error);
}

static void
enrolled (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(HearthEnrolPage) self = user_data;
  HearthSession *session = HEARTH_SESSION (source);
  EnrolData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  set_busy (self, FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), &error) || !adopt (session, data->enrolment, &error))
    {
      g_autofree char *message = hearth_enrol_page_describe_error (error, data->refusal_code);

      show_error (self, message);
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->code_entry), "");
  if (HEARTH_IS_WINDOW (root) && self->session == session)
    {
      g_autofree char *message =
        data->again ? g_strdup_printf (_("This tablet is enrolled again for %s: it sends everything it recorded."),
                                       data->enrolment->user)
                    : g_strdup_printf (_("This tablet is enrolled for %s."), data->enrolment->user);

      hearth_window_show_main (HEARTH_WINDOW (root));
      hearth_window_toast (HEARTH_WINDOW (root), message);
    }
}

static void
enrol_clicked (HearthEnrolPage *self)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *center = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->center_entry))));
  g_autofree char *code = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->code_entry))));
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_entry))));
  g_autofree char *pin = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->pin_entry))));
  EnrolData *data;

  if (self->busy || self->session == NULL)
    return;
  if (center[0] == '\0')
    {
      show_error (self, _("Type the county center’s address, as county staff wrote it for you."));
      gtk_widget_grab_focus (GTK_WIDGET (self->center_entry));
      return;
    }
  if (!g_str_has_prefix (center, "https://") && !g_str_has_prefix (center, "http://"))
    {
      g_autofree char *with_scheme = g_strconcat ("https://", center, NULL);
      g_free (center);
      center = g_steal_pointer (&with_scheme);
    }
  if (code[0] == '\0')
    {
      show_error (self, _("Type or paste the one-time code."));
      gtk_widget_grab_focus (GTK_WIDGET (self->code_entry));
      return;
    }
  show_error (self, NULL);
  data = g_new0 (EnrolData, 1);
  data->center = g_steal_pointer (&center);
  data->code = g_steal_pointer (&code);
  data->name = name[0] != '\0' ? g_steal_pointer (&name) : g_strdup (g_get_host_name ());
  /* The sheet may print the base64 alone. */
  if (pin[0] != '\0')
    data->pin = g_str_has_prefix (pin, "sha256//") ? g_steal_pointer (&pin) : g_strconcat ("sha256//", pin, NULL);
  data->ca_file = g_strdup (self->ca_file);
  data->again = hearth_session_is_enrolled (self->session);
  task = g_task_new (self->session, NULL, enrolled, g_object_ref (self));
  g_task_set_task_data (task, data, (GDestroyNotify) enrol_data_free);
  set_busy (self, TRUE);
  g_task_run_in_thread (task, enrol_thread);
}

gboolean
hearth_enrol_page_set_ca_file (HearthEnrolPage *self, const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = NULL;

  g_return_val_if_fail (HEARTH_IS_ENROL_PAGE (self), FALSE);

  /* Checked as it is chosen, so that the page says so before the code is
   * spent on a wrong file; read again (the same check) at enrolment. */
  if (path != NULL && (pem = hearth_sync_read_ca_file (path, &error)) == NULL)
    {
      g_autofree char *shown = g_filename_display_basename (path);
      g_autofree char *message = g_strdup_printf (_("“%s” is not a CA certificate: choose the file county IT gave "
                                                    "you (its text begins “-----BEGIN CERTIFICATE-----”)."),
                                                  shown);

      show_error (self, message);
      return FALSE;
    }
  g_free (self->ca_file);
  self->ca_file = g_strdup (path);
  if (path != NULL)
    {
      g_autofree char *shown = g_filename_display_basename (path);

      gtk_label_set_text (self->ca_label, shown);
      show_error (self, NULL);
    }
  else
    gtk_label_set_text (self->ca_label, _("No file chosen"));
  gtk_widget_set_visible (GTK_WIDGET (self->ca_clear_button), path != NULL);
  return TRUE;
}

static void
ca_chosen (HearthEnrolPage *self, int response, GtkFileChooserNative *chooser)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL)
        hearth_enrol_page_set_ca_file (self, path);
    }
  g_clear_object (&self->chooser);
}

static void
ca_clicked (HearthEnrolPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  if (self->chooser != NULL)
    return;
  gtk_file_filter_set_name (filter, _("Certificates (.pem, .crt, .cer)"));
  gtk_file_filter_add_pattern (filter, "*.pem");
  gtk_file_filter_add_pattern (filter, "*.crt");
  gtk_file_filter_add_pattern (filter, "*.cer");
  self->chooser = gtk_file_chooser_native_new (_("The county’s CA certificate"),
                                               GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_OPEN, _("_Choose"), _("_Cancel"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect_swapped (self->chooser, "response", G_CALLBACK (ca_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
ca_clear_clicked (HearthEnrolPage *self)
{
  hearth_enrol_page_set_ca_file (self, NULL);
}

static void
center_activated (HearthEnrolPage *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self->code_entry));
}

static void
pasted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(HearthEnrolPage) self = user_data;
  g_autofree char *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, NULL);

  if (text == NULL || g_strstrip (text)[0] == '\0')
    {
      show_error (self, _("There is no text to paste: copy the code first, or type it."));
      return;
    }
  show_error (self, NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->code_entry), text);
  gtk_widget_grab_focus (GTK_WIDGET (self->code_entry));
}

static void
paste_clicked (HearthEnrolPage *self)
{
  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (GTK_WIDGET (self)), NULL, pasted, g_object_ref (self));
}

static void
later_clicked (HearthEnrolPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (HEARTH_IS_WINDOW (root))
    hearth_window_show_main (HEARTH_WINDOW (root));
}

static void
hearth_enrol_page_dispose (GObject *object)
{
  HearthEnrolPage *self = HEARTH_ENROL_PAGE (object);

  g_clear_object (&self->session);
  if (self->chooser != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->chooser, self);
      gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
      g_clear_object (&self->chooser);
    }
  g_clear_pointer (&self->ca_file, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), HEARTH_TYPE_ENROL_PAGE);
  /* Children of the template the class does not bind stay otherwise. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self)); child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (hearth_enrol_page_parent_class)->dispose (object);
}

static void
hearth_enrol_page_class_init (HearthEnrolPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearth_enrol_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-enrol-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthEnrolPage, form_box);
  gtk_widget_class_bind_template_child (widget_class, HearthEnrolPage, center_entry);
  gtk_widget_class_bind_template_child (widget_class, HearthEnrolPage, code_entry);
  gtk_widget_class_bind_template_child (widget_class, HearthEnrolPage, paste_button);
  gtk_widget_class_bind_template_child (widget_class, HearthEnrolPage, name_entry);
  gtk_widget_class_bind_template_child (widget_class, HearthEnrolPage, pin_entry);
  gtk_widget_class_bind_template_child (widget_class, HearthEnrolPage, ca_button);
  gtk_widget_class_bind_template_child (widget_class, HearthEnrolPage, ca_label);
  gtk_widget_class_bind_template_child (widget_class, HearthEnrolPage, ca_clear_button);
  gtk_widget_class_bind_template_child (widget_class, HearthEnrolPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, HearthEnrolPage, busy_box);
  gtk_widget_class_bind_template_child (widget_class, HearthEnrolPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, HearthEnrolPage, enrol_button);
  gtk_widget_class_bind_template_child (widget_class, HearthEnrolPage, later_button);
  gtk_widget_class_bind_template_callback (widget_class, enrol_clicked);
  gtk_widget_class_bind_template_callback (widget_class, center_activated);
  gtk_widget_class_bind_template_callback (widget_class, paste_clicked);
  gtk_widget_class_bind_template_callback (widget_class, later_clicked);
  gtk_widget_class_bind_template_callback (widget_class, ca_clicked);
  gtk_widget_class_bind_template_callback (widget_class, ca_clear_clicked);
}

static void
hearth_enrol_page_init (HearthEnrolPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

void
hearth_enrol_page_set_session (HearthEnrolPage *self, HearthSession *session)
{
  g_return_if_fail (HEARTH_IS_ENROL_PAGE (self));

  g_set_object (&self->session, session);
  show_error (self, NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->code_entry), "");
  /* Enrolling again: the center is the one the tablet knows. */
  if (session != NULL && hearth_session_is_enrolled (session))
    {
      g_autoptr(HearthSyncEnrolment) e = hearth_sync_store_get_enrolment (hearth_session_get_sync (session), NULL);

      if (e != NULL)
        gtk_editable_set_text (GTK_EDITABLE (self->center_entry), e->center_url);
    }
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hearth-unlock-page.c: make or unlock the store (hearth-unlock-page.h). */
#define G_LOG_DOMAIN "hearth"

#include "hearth-unlock-page.h"
#include "hearth-application.h"
#include "hearth-passphrase-strength.h"
#include "hearth-session.h"
#include "store-secret.h"

#include <glib/gi18n.h>
#include <string.h>

struct _HearthUnlockPage {
  GtkWidget parent_instance;
  GtkStack *mode_stack;
  GtkPasswordEntry *passphrase_entry;
  GtkButton *unlock_button;
  GtkPasswordEntry *new_entry;
  GtkPasswordEntry *confirm_entry;
  GtkLevelBar *strength_bar;
  GtkLabel *strength_label;
  GtkLabel *match_label;
  GtkButton *create_button;
  GtkLabel *error_label;
  GtkLabel *details_label;
  GtkWidget *busy_box;
  GtkSpinner *spinner;
  GtkLabel *busy_label;
  GtkWidget *hint_label;
  GCancellable *cancellable;
  char *data_dir;
  gboolean busy;
  gboolean created;
};

G_DEFINE_FINAL_TYPE (HearthUnlockPage, hearth_unlock_page, GTK_TYPE_WIDGET)

char *
hearth_unlock_page_describe_error (const GError *error, char **details)
{
  /* What county IT needs to know, apart from what the user reads. */
  if (details != NULL)
    *details = NULL;
  if (error->domain == HEARTH_STORE_ERROR)
    switch ((HearthStoreError) error->code)
      {
      case HEARTH_STORE_ERROR_WRONG_PASSPHRASE:
        return g_strdup (_("That passphrase is not the right one. Check that the keyboard types letters, not "
                           "Chinese characters, and that capital letters are as you set them, then try again."));
      case HEARTH_STORE_ERROR_KEYSLOT_CORRUPT:
      case HEARTH_STORE_ERROR_KEYSLOT_MISMATCH:
        if (details != NULL)
          *details = g_strdup (error->message);
        return g_strdup (_("The key file that opens this tablet’s data is damaged, so the data cannot be opened "
                           "with a passphrase. Do not delete anything: county IT can open the data again with "
                           "the county key."));
      case HEARTH_STORE_ERROR_CORRUPT:
        if (details != NULL)
          *details = g_strdup (error->message);
        return g_strdup (_("The data on this tablet is damaged and cannot be read safely. Do not delete anything "
                           "and ask county IT for help."));
      case HEARTH_STORE_ERROR_NEWER_SCHEMA:
        return g_strdup (_("This data was written by a newer version of Hearth. Update Hearth on this tablet, "
                           "then unlock again."));
      case HEARTH_STORE_ERROR_WEAK_PASSPHRASE:
        return g_strdup (_("The passphrase needs at least 8 characters."));
      case HEARTH_STORE_ERROR_BUSY:
        return g_strdup (_("Another program is using the data right now. Close it and try again."));
      case HEARTH_STORE_ERROR_NOT_FOUND:
        return g_strdup (_("There is no data on this tablet yet."));
      case HEARTH_STORE_ERROR_EXISTS:
        return g_strdup (_("This tablet already has data: unlock it with its passphrase."));
      case HEARTH_STORE_ERROR_IO:
        if (details != NULL)
          *details = g_strdup (error->message);
        return g_strdup (_("The tablet could not read or write its data; its storage may be full."));
      default:
        break;
      }
  if (details != NULL)
    *details = g_strdup (error->message);
  return g_strdup (_("Hearth could not open the data. Do not delete anything and ask county IT for help."));
}

static void
show_error_details (HearthUnlockPage *self, const char *message, const char *details)
{
  gtk_label_set_text (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
  gtk_label_set_text (self->details_label, details != NULL ? details : "");
  gtk_widget_set_visible (GTK_WIDGET (self->details_label), details != NULL);
}

static void
show_error (HearthUnlockPage *self, const char *message)
{
  show_error_details (self, message, NULL);
}

static void
set_busy (HearthUnlockPage *self, gboolean busy, const char *message)
{
  self->busy = busy;
  gtk_widget_set_visible (self->busy_box, busy);
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_label_set_text (self->busy_label, message != NULL ? message : "");
  gtk_widget_set_sensitive (GTK_WIDGET (self->mode_stack), !busy);
}

static gboolean
creating (HearthUnlockPage *self)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->mode_stack), "create") == 0;
}

static void
update_create (HearthUnlockPage *self)
{
  const char *first = gtk_editable_get_text (GTK_EDITABLE (self->new_entry));
  const char *second = gtk_editable_get_text (GTK_EDITABLE (self->confirm_entry));
  HearthStrength strength = hearth_passphrase_strength (first, NULL);
  gboolean same = strcmp (first, second) == 0;

  gtk_level_bar_set_value (self->strength_bar, first[0] != '\0' ? (double) strength : 0);
  gtk_label_set_text (self->strength_label, first[0] != '\0' ? hearth_passphrase_strength_describe (strength) : "");
  if (second[0] == '\0')
    gtk_label_set_text (self->match_label, "");
  else
    gtk_label_set_text (self->match_label, same ? _("The two passphrases are the same.")
                                                : _("The two passphrases are not the same yet."));
  /* Red only once the second is as long as the first: not while it is
   * still being typed. */
  gtk_widget_remove_css_class (GTK_WIDGET (self->match_label), "hearth-error");
  if (second[0] != '\0' && !same && strlen (second) >= strlen (first))
    gtk_widget_add_css_class (GTK_WIDGET (self->match_label), "hearth-error");
  gtk_widget_set_sensitive (GTK_WIDGET (self->create_button),
                            strength != HEARTH_STRENGTH_TOO_SHORT && same);
}

static void
text_changed (HearthUnlockPage *self)
{
  if (creating (self))
    update_create (self);
}

static void
new_activated (HearthUnlockPage *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self->confirm_entry));
}

static void
opened (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(HearthUnlockPage) self = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthSession) session = hearth_session_open_finish (result, &error);
  GtkRoot *root;
  GtkApplication *app;

  set_busy (self, FALSE, NULL);
  if (session == NULL)
    {
      g_autofree char *message = NULL;
      g_autofree char *details = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      message = hearth_unlock_page_describe_error (error, &details);
      show_error_details (self, message, details);
      if (g_error_matches (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_EXISTS))
        hearth_unlock_page_reset (self, self->data_dir);
      hearth_unlock_page_focus (self);
      return;
    }
  root = gtk_widget_get_root (GTK_WIDGET (self));
  app = root != NULL ? gtk_window_get_application (GTK_WINDOW (root)) : NULL;
  if (app != NULL)
    hearth_application_set_session (HEARTH_APPLICATION (app), session);
}

/* The text of @entry in guarded memory; the entry is emptied. */
static HearthSecret *
take_secret (GtkPasswordEntry *entry)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  HearthSecret *secret = hearth_secret_new_from_data (text, strlen (text));

  gtk_editable_set_text (GTK_EDITABLE (entry), "");
  return secret;
}

static void
unlock_clicked (HearthUnlockPage *self)
{
  HearthSecret *passphrase;

  if (self->busy)
    return;
  if (gtk_editable_get_text (GTK_EDITABLE (self->passphrase_entry))[0] == '\0')
    {
      show_error (self, _("Type your passphrase first."));
      hearth_unlock_page_focus (self);
      return;
    }
  show_error (self, NULL);
  passphrase = take_secret (self->passphrase_entry);
  self->created = FALSE;
  set_busy (self, TRUE, _("Unlocking…"));
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  hearth_session_open_async (self->data_dir, passphrase, FALSE, self->cancellable, opened, g_object_ref (self));
}

static void
create_clicked (HearthUnlockPage *self)
{
  HearthSecret *passphrase;
  const char *first = gtk_editable_get_text (GTK_EDITABLE (self->new_entry));
  const char *second = gtk_editable_get_text (GTK_EDITABLE (self->confirm_entry));

  if (self->busy)
    return;
  if (hearth_passphrase_strength (first, NULL) == HEARTH_STRENGTH_TOO_SHORT)
    {
      show_error (self, _("The passphrase needs at least 8 characters."));
      gtk_widget_grab_focus (GTK_WIDGET (self->new_entry));
      return;
    }
  if (strcmp (first, second) != 0)
    {
      show_error (self, _("The two passphrases are not the same. Type the passphrase again in the second box."));
      gtk_widget_grab_focus (GTK_WIDGET (self->confirm_entry));
      return;
    }
  show_error (self, NULL);
  passphrase = take_secret (self->new_entry);
  gtk_editable_set_text (GTK_EDITABLE (self->confirm_entry), "");
  self->created = TRUE;
  set_busy (self, TRUE, _("Locking the data with the passphrase…"));
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  hearth_session_open_async (self->data_dir, passphrase, TRUE, self->cancellable, opened, g_object_ref (self));
}

static void
hearth_unlock_page_dispose (GObject *object)
{
  HearthUnlockPage *self = HEARTH_UNLOCK_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), HEARTH_TYPE_UNLOCK_PAGE);
  /* Children of the template the class does not bind stay otherwise. */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self)); child != NULL;
       child = gtk_widget_get_first_child (GTK_WIDGET (self)))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (hearth_unlock_page_parent_class)->dispose (object);
}

static void
hearth_unlock_page_finalize (GObject *object)
{
  HearthUnlockPage *self = HEARTH_UNLOCK_PAGE (object);

  g_free (self->data_dir);
  G_OBJECT_CLASS (hearth_unlock_page_parent_class)->finalize (object);
}

static void
hearth_unlock_page_class_init (HearthUnlockPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hearth_unlock_page_dispose;
  object_class->finalize = hearth_unlock_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/hearth/Hearth/hearth-unlock-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HearthUnlockPage, mode_stack);
  gtk_widget_class_bind_template_child (widget_class, HearthUnlockPage, passphrase_entry);
  gtk_widget_class_bind_template_child (widget_class, HearthUnlockPage, unlock_button);
  gtk_widget_class_bind_template_child (widget_class, HearthUnlockPage, new_entry);
  gtk_widget_class_bind_template_child (widget_class, HearthUnlockPage, confirm_entry);
  gtk_widget_class_bind_template_child (widget_class, HearthUnlockPage, strength_bar);
  gtk_widget_class_bind_template_child (widget_class, HearthUnlockPage, strength_label);
  gtk_widget_class_bind_template_child (widget_class, HearthUnlockPage, match_label);
  gtk_widget_class_bind_template_child (widget_class, HearthUnlockPage, create_button);
  gtk_widget_class_bind_template_child (widget_class, HearthUnlockPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, HearthUnlockPage, details_label);
  gtk_widget_class_bind_template_child (widget_class, HearthUnlockPage, busy_box);
  gtk_widget_class_bind_template_child (widget_class, HearthUnlockPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, HearthUnlockPage, busy_label);
  gtk_widget_class_bind_template_child (widget_class, HearthUnlockPage, hint_label);
  gtk_widget_class_bind_template_callback (widget_class, unlock_clicked);
  gtk_widget_class_bind_template_callback (widget_class, create_clicked);
  gtk_widget_class_bind_template_callback (widget_class, text_changed);
  gtk_widget_class_bind_template_callback (widget_class, new_activated);
}

static void
hearth_unlock_page_init (HearthUnlockPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* The strength bar's colours: its offsets follow HearthStrength. */
  gtk_level_bar_remove_offset_value (self->strength_bar, GTK_LEVEL_BAR_OFFSET_LOW);
  gtk_level_bar_remove_offset_value (self->strength_bar, GTK_LEVEL_BAR_OFFSET_HIGH);
  gtk_level_bar_remove_offset_value (self->strength_bar, GTK_LEVEL_BAR_OFFSET_FULL);
  gtk_level_bar_add_offset_value (self->strength_bar, "weak", HEARTH_STRENGTH_WEAK);
  gtk_level_bar_add_offset_value (self->strength_bar, "fair", HEARTH_STRENGTH_FAIR);
  gtk_level_bar_add_offset_value (self->strength_bar, "good", HEARTH_STRENGTH_GOOD);
  gtk_level_bar_add_offset_value (self->strength_bar, "strong", HEARTH_STRENGTH_STRONG);
}

void
hearth_unlock_page_reset (HearthUnlockPage *self, const char *data_dir)
{
  g_return_if_fail (HEARTH_IS_UNLOCK_PAGE (self));
  g_return_if_fail (data_dir != NULL);

  g_free (self->data_dir);
  self->data_dir = g_strdup (data_dir);
  g_cancellable_cancel (self->cancellable);
  set_busy (self, FALSE, NULL);
  show_error (self, NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->passphrase_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->new_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->confirm_entry), "");
  gtk_stack_set_visible_child_name (self->mode_stack, hearth_session_store_exists (data_dir) ? "unlock" : "create");
  gtk_widget_set_visible (self->hint_label, !creating (self));
  update_create (self);
}

void
hearth_unlock_page_focus (HearthUnlockPage *self)
{
  g_return_if_fail (HEARTH_IS_UNLOCK_PAGE (self));
  gtk_widget_grab_focus (GTK_WIDGET (creating (self) ? self->new_entry : self->passphrase_entry));
}

gboolean
hearth_unlock_page_get_created (HearthUnlockPage *self)
{
  g_return_val_if_fail (HEARTH_IS_UNLOCK_PAGE (self), FALSE);
  return self->created;
}

/* ps-sync-file-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Asks for the passphrase of a sync file, then exports into it or imports
 * from it, with a progress bar and the outcome in plain words. A new
 * file's passphrase is checked as it is typed: one that is easy to guess
 * keeps the button off and says why.
 */

#define G_LOG_DOMAIN "ps-sync-file-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-export.h"
#include "ps-export-state.h"
#include "ps-import.h"
#include "ps-secrets.h"
#include "ps-sync-file.h"
#include "ps-sync-file-dialog.h"

struct _PsSyncFileDialog
{
  GtkDialog       parent_instance;

  GtkWidget      *cancel_button;
  GtkWidget      *run_button;
  GtkWidget      *intro_label;
  GtkWidget      *peer_label;
  GtkWidget      *peer_combo;
  GtkWidget      *since_last_check;
  GtkWidget      *passphrase_entry;
  GtkWidget      *confirm_label;
  GtkWidget      *confirm_entry;
  GtkWidget      *strength_label;
  GtkWidget      *progress_bar;
  GtkWidget      *status_label;

  PsContext      *context;
  char           *path;
  gboolean        exporting;
  gboolean        running;
  guint           pulse_id;
  GCancellable   *cancellable;
  PsExport       *export;
  PsImport       *import;
  char           *peer;
  char          **databases;
};

G_DEFINE_FINAL_TYPE (PsSyncFileDialog, ps_sync_file_dialog, GTK_TYPE_DIALOG)

static void
update_run_button (PsSyncFileDialog *self)
{
  const char *passphrase = gtk_entry_get_text (GTK_ENTRY (self->passphrase_entry));
  gboolean ok = !self->running && *passphrase != '\0';

  if (self->exporting && *passphrase != '\0')
    {
      g_autoptr(GError) error = NULL;
      gboolean strong = ps_sync_file_check_passphrase (passphrase, &error);

      gtk_label_set_text (GTK_LABEL (self->strength_label), strong ? "" : error->message);
      ok = ok && strong &&
           g_str_equal (passphrase, gtk_entry_get_text (GTK_ENTRY (self->confirm_entry)));
    }
  else
    gtk_label_set_text (GTK_LABEL (self->strength_label), "");
  gtk_widget_set_sensitive (self->run_button, ok);
}

static void
on_entry_changed_cb (PsSyncFileDialog *self)
{
  update_run_button (self);
}

static gboolean
on_pulse_cb (gpointer user_data)
{
  gtk_progress_bar_pulse (GTK_PROGRESS_BAR (user_data));
  return G_SOURCE_CONTINUE;
}

static void
set_running (PsSyncFileDialog *self,
             gboolean          running)
{
  self->running = running;
  gtk_widget_set_sensitive (self->passphrase_entry, !running);
  gtk_widget_set_sensitive (self->confirm_entry, !running);
  gtk_widget_set_sensitive (self->peer_combo, !running);
  gtk_widget_set_sensitive (self->since_last_check, !running);
  gtk_widget_set_visible (self->progress_bar, running);
  g_clear_handle_id (&self->pulse_id, g_source_remove);
  if (running)
    self->pulse_id = g_timeout_add (150, on_pulse_cb, self->progress_bar);
  update_run_button (self);
}

static void
finish (PsSyncFileDialog *self,
        const char       *message)
{
  set_running (self, FALSE);
  gtk_label_set_text (GTK_LABEL (self->status_label), message);
  gtk_button_set_label (GTK_BUTTON (self->cancel_button), _("_Close"));
}

static void
on_export_progress_cb (PsExport         *export,
                       const char       *database,
                       guint             revisions,
                       PsSyncFileDialog *self)
{
  g_autofree char *text = g_strdup_printf (_("%s: %u revisions"), database, revisions);

  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress_bar), text);
}

static void
on_export_done_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(PsSyncFileDialog) self = user_data;
  g_autoptr(PsExportState) state = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  JsonObject *summary;

  if (!ps_export_run_finish (PS_EXPORT (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      message = g_strdup_printf (_("Nothing was exported: %s"), error->message);
      finish (self, message);
      return;
    }

  /* Only a complete file moves the starting point of the next one. */
  state = ps_export_state_new_for_store (ps_context_get_server_store (self->context));
  ps_export_state_record (state, self->peer, self->export, self->databases);
  if (!ps_export_state_save (state, &error))
    g_warning ("The end of this export could not be recorded: %s", error->message);

  summary = ps_export_get_summary (self->export);
  message = g_strdup_printf (_("The file holds %u records, %u revisions in all. Keep it safe, "
                               "and give the passphrase to whoever imports it separately."),
                             (guint) json_object_get_int_member (summary, "records"),
                             (guint) json_object_get_int_member (summary, "revisions"));
  finish (self, message);
}

static void
on_import_done_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(PsSyncFileDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  g_autofree char *outcome = NULL;
  PsImport *import = PS_IMPORT (object);

  if (!ps_import_run_finish (import, result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      message = ps_import_get_n_written (import) == 0
                ? g_strdup_printf (_("Nothing was imported: %s"), error->message)
                : g_strdup_printf (_("The import stopped: %s"), error->message);
    }
  else if (ps_import_get_n_written (import) == 0)
    message = g_strdup_printf (_("Nothing new: all %u revisions in this file are already here."),
                               ps_import_get_n_revisions (import));
  else
    message = g_strdup_printf (_("Imported %u of %u revisions (the others were already here); "
                                 "%u records resolved."),
                               ps_import_get_n_written (import),
                               ps_import_get_n_revisions (import),
                               ps_import_get_n_resolved (import));

  /* A file of the chain that never came here matters more than counts. */
  if (ps_import_get_warning (import) != NULL)
    {
      outcome = g_steal_pointer (&message);
      message = g_strdup_printf (_("%s\n\nWarning: %s"), outcome, ps_import_get_warning (import));
    }
  finish (self, message);
}

static void
start (PsSyncFileDialog *self,
       PsServerAccess   *access)
{
  PsServerStore *store = ps_context_get_server_store (self->context);
  PsServer *local = ps_server_access_get_server (access);
  const char *passphrase = gtk_entry_get_text (GTK_ENTRY (self->passphrase_entry));

  gtk_label_set_text (GTK_LABEL (self->status_label), "");
  if (!self->exporting)
    {
      g_autoptr(PsExportState) state = ps_export_state_new_for_store (store);

      g_clear_object (&self->import);
      self->import = ps_import_new (access);
      ps_import_set_journal (self->import, ps_context_get_journal (self->context));
      ps_import_set_state (self->import, state);
      gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress_bar),
                                 _("Checking the file, then importing…"));
      ps_import_run_async (self->import, self->path, passphrase, self->cancellable,
                           on_import_done_cb, g_object_ref (self));
      return;
    }

  {
    g_autoptr(PsExportState) state = ps_export_state_new_for_store (store);
    const char *peer = gtk_combo_box_get_active_id (GTK_COMBO_BOX (self->peer_combo));
    gboolean since_last = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->since_last_check));
    PsServer *server = g_strcmp0 (peer, PS_EXPORT_STATE_ALL) == 0
                       ? local : ps_server_store_lookup (store, peer);

    if (server == NULL)
      server = local;
    g_free (self->peer);
    self->peer = g_strdup (server == local ? PS_EXPORT_STATE_ALL : ps_server_get_id (server));
    g_strfreev (self->databases);
    self->databases = ps_server_dup_database_names (server);

    g_clear_object (&self->export);
    self->export = ps_export_new (access, self->peer);
    for (guint i = 0; self->databases[i] != NULL; i++)
      ps_export_add_database (self->export, self->databases[i],
                              since_last ? ps_export_state_get_since (state, self->peer,
                                                                      self->databases[i])
                                         : NULL);
    if (since_last)
      ps_export_set_follows (self->export, ps_export_state_get_last_file (state, self->peer));
    g_signal_connect_object (self->export, "progress", G_CALLBACK (on_export_progress_cb),
                             self, 0);
    gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress_bar), _("Exporting…"));
    ps_export_run_async (self->export, self->path, passphrase, self->cancellable,
                         on_export_done_cb, g_object_ref (self));
  }
}

static void
on_access_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(PsSyncFileDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  g_autoptr(PsServerAccess) access = ps_server_access_new_finish (result, &error);

  if (access == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      message = g_strdup_printf (_("This instance’s password could not be read: %s"),
                                 error->message);
      finish (self, message);
      return;
    }

  start (self, access);
}

static void
ps_sync_file_dialog_response (GtkDialog *dialog,
                              int        response_id)
{
  PsSyncFileDialog *self = PS_SYNC_FILE_DIALOG (dialog);
  PsServerStore *store = ps_context_get_server_store (self->context);

  if (response_id != GTK_RESPONSE_OK)
    {
      g_cancellable_cancel (self->cancellable);
      gtk_widget_destroy (GTK_WIDGET (self));
      return;
    }

  if (self->running)
    return;
  set_running (self, TRUE);

  ps_server_access_new_async (ps_server_store_get_local (store),
                              ps_context_get_session (self->context), self->cancellable,
                              on_access_cb, g_object_ref (self));
}

static void
ps_sync_file_dialog_dispose (GObject *object)
{
  PsSyncFileDialog *self = PS_SYNC_FILE_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->pulse_id, g_source_remove);
  g_clear_object (&self->export);
  g_clear_object (&self->import);
  g_clear_object (&self->context);

  G_OBJECT_CLASS (ps_sync_file_dialog_parent_class)->dispose (object);
}

static void
ps_sync_file_dialog_finalize (GObject *object)
{
  PsSyncFileDialog *self = PS_SYNC_FILE_DIALOG (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->peer, g_free);
  g_clear_pointer (&self->databases, g_strfreev);

  G_OBJECT_CLASS (ps_sync_file_dialog_parent_class)->finalize (object);
}

static void
ps_sync_file_dialog_class_init (PsSyncFileDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkDialogClass *dialog_class = GTK_DIALOG_CLASS (klass);

  object_class->dispose = ps_sync_file_dialog_dispose;
  object_class->finalize = ps_sync_file_dialog_finalize;
  dialog_class->response = ps_sync_file_dialog_response;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/primero/Sync/ps-sync-file-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, PsSyncFileDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, PsSyncFileDialog, run_button);
  gtk_widget_class_bind_template_child (widget_class, PsSyncFileDialog, intro_label);
  gtk_widget_class_bind_template_child (widget_class, PsSyncFileDialog, peer_label);
  gtk_widget_class_bind_template_child (widget_class, PsSyncFileDialog, peer_combo);
  gtk_widget_class_bind_template_child (widget_class, PsSyncFileDialog, since_last_check);
  gtk_widget_class_bind_template_child (widget_class, PsSyncFileDialog, passphrase_entry);
  gtk_widget_class_bind_template_child (widget_class, PsSyncFileDialog, confirm_label);
  gtk_widget_class_bind_template_child (widget_class, PsSyncFileDialog, confirm_entry);
  gtk_widget_class_bind_template_child (widget_class, PsSyncFileDialog, strength_label);
  gtk_widget_class_bind_template_child (widget_class, PsSyncFileDialog, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, PsSyncFileDialog, status_label);
}

static void
ps_sync_file_dialog_init (PsSyncFileDialog *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect_swapped (self->passphrase_entry, "changed",
                            G_CALLBACK (on_entry_changed_cb), self);
  g_signal_connect_swapped (self->confirm_entry, "changed",
                            G_CALLBACK (on_entry_changed_cb), self);
}

static PsSyncFileDialog *
new_dialog (GtkWindow  *parent,
            PsContext  *context,
            const char *path,
            gboolean    exporting)
{
  PsSyncFileDialog *self = g_object_new (PS_TYPE_SYNC_FILE_DIALOG,
                                         "use-header-bar", TRUE,
                                         "transient-for", parent,
                                         "modal", TRUE,
                                         NULL);

  self->context = g_object_ref (context);
  self->path = g_strdup (path);
  self->exporting = exporting;
  gtk_window_set_title (GTK_WINDOW (self), exporting ? _("Export Records") : _("Import Records"));
  gtk_button_set_label (GTK_BUTTON (self->run_button), exporting ? _("_Export") : _("_Import"));
  return self;
}

/**
 * ps_sync_file_dialog_new_export:
 * @parent: the window the dialog belongs to
 * @context: the application's context
 * @path: the file to write
 *
 * Returns: (transfer none): a dialog that exports into @path when the user
 *   has chosen for whom and typed a passphrase twice
 */
PsSyncFileDialog *
ps_sync_file_dialog_new_export (GtkWindow  *parent,
                                PsContext  *context,
                                const char *path)
{
  PsSyncFileDialog *self = new_dialog (parent, context, path, TRUE);
  GListModel *servers = G_LIST_MODEL (ps_context_get_server_store (context));
  g_autofree char *name = g_filename_display_basename (path);
  g_autofree char *intro = NULL;

  intro = g_strdup_printf (_("The records another instance may lack go into “%s”, encrypted "
                             "with a passphrase. Without the passphrase nobody can read "
                             "them, not even you."), name);
  gtk_label_set_text (GTK_LABEL (self->intro_label), intro);

  gtk_combo_box_text_append (GTK_COMBO_BOX_TEXT (self->peer_combo), PS_EXPORT_STATE_ALL,
                             _("Any server"));
  for (guint i = 0; i < g_list_model_get_n_items (servers); i++)
    {
      g_autoptr(PsServer) server = g_list_model_get_item (servers, i);

      gtk_combo_box_text_append (GTK_COMBO_BOX_TEXT (self->peer_combo), ps_server_get_id (server),
                                 ps_server_get_description (server));
    }
  gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->peer_combo), PS_EXPORT_STATE_ALL);

  gtk_widget_show (self->peer_label);
  gtk_widget_show (self->peer_combo);
  gtk_widget_show (self->since_last_check);
  gtk_widget_show (self->confirm_label);
  gtk_widget_show (self->confirm_entry);
  return self;
}

/**
 * ps_sync_file_dialog_new_import:
 * @parent: the window the dialog belongs to
 * @context: the application's context
 * @path: the file to import
 *
 * Returns: (transfer none): a dialog that shows what the file says it holds
 *   and imports it once the user typed its passphrase
 */
PsSyncFileDialog *
ps_sync_file_dialog_new_import (GtkWindow  *parent,
                                PsContext  *context,
                                const char *path)
{
  PsSyncFileDialog *self = new_dialog (parent, context, path, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) summary = ps_sync_file_read_summary (path, &error);
  g_autofree char *intro = NULL;

  if (summary == NULL)
    intro = g_strdup_printf (_("This file cannot be imported: %s"), error->message);
  else
    intro = g_strdup_printf (_("This file says it holds %u records (%u revisions). It is "
                               "checked whole before anything is written."),
                             (guint) json_object_get_int_member_with_default (summary,
                                                                              "records", 0),
                             (guint) json_object_get_int_member_with_default (summary,
                                                                              "revisions", 0));
  gtk_label_set_text (GTK_LABEL (self->intro_label), intro);
  gtk_widget_set_sensitive (self->passphrase_entry, summary != NULL);
  return self;
}

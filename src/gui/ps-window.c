/* ps-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-window"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-conflicts-page.h"
#include "ps-diagnostics-dialog.h"
#include "ps-secrets.h"
#include "ps-server-dialog.h"
#include "ps-server-page.h"
#include "ps-server-row.h"
#include "ps-sync-file-dialog.h"
#include "ps-window.h"

struct _PsWindow
{
  GtkApplicationWindow  parent_instance;

  PsContext            *context;
  GCancellable         *cancellable;

  /* Template widgets */
  GtkInfoBar           *error_bar;
  GtkLabel             *error_label;
  GtkStack             *main_stack;
  GtkStack             *stack;
  GtkListBox           *server_list;

  PsConflictsPage      *conflicts_page;
  PsServerPage         *server_page;
};

G_DEFINE_FINAL_TYPE (PsWindow, ps_window, GTK_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_CONTEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];


/*
 * Auxiliary methods
 */

static void update_back_action (PsWindow *self);

static PsServer *
lookup_server (PsWindow   *self,
               const char *server_id)
{
  if (self->context == NULL)
    return NULL;

  return ps_server_store_lookup (ps_context_get_server_store (self->context), server_id);
}

static void
show_error (PsWindow   *self,
            const char *message)
{
  gtk_label_set_text (self->error_label, message);
  gtk_info_bar_set_revealed (self->error_bar, TRUE);
}

static void
update_stack (PsWindow *self)
{
  GListModel *servers = G_LIST_MODEL (ps_context_get_server_store (self->context));
  gboolean empty = g_list_model_get_n_items (servers) == 0;
  PsServer *shown = ps_server_page_get_server (self->server_page);

  /* The details of a server stay up while the server does. */
  if (shown != NULL && lookup_server (self, ps_server_get_id (shown)) == shown &&
      g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "server") == 0)
    return;

  ps_server_page_set_server (self->server_page, NULL);
  gtk_stack_set_visible_child_name (self->stack, empty ? "empty" : "servers");
  update_back_action (self);
}

static void
update_back_action (PsWindow *self)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "show-servers");

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action),
                               g_strcmp0 (gtk_stack_get_visible_child_name (self->stack),
                                          "server") == 0);
}

static void
show_server_page (PsWindow *self,
                  PsServer *server)
{
  ps_server_page_set_server (self->server_page, server);
  gtk_stack_set_visible_child_name (self->main_stack, "servers");
  gtk_stack_set_visible_child_name (self->stack, "server");
  update_back_action (self);
}

static void
update_selection_actions (PsWindow *self)
{
  GAction *action;

  action = g_action_map_lookup_action (G_ACTION_MAP (self), "sync-selected");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action),
                               gtk_list_box_get_selected_row (self->server_list) != NULL);
}

static GtkWidget *
create_row_cb (gpointer item,
               gpointer user_data)
{
  PsWindow *self = PS_WINDOW (user_data);
  PsServer *server = PS_SERVER (item);
  PsSyncManager *manager = ps_context_get_sync_manager (self->context);
  PsSyncJob *job;
  GtkWidget *row;

  job = ps_sync_manager_get_job (manager, ps_server_get_id (server));
  row = GTK_WIDGET (ps_server_row_new (server, job, manager));

  /* Activating a row opens the server's details. */
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);

  return row;
}

static void
update_header_cb (GtkListBoxRow *row,
                  GtkListBoxRow *before,
                  gpointer       user_data)
{
  if (before == NULL)
    {
      gtk_list_box_row_set_header (row, NULL);
      return;
    }

  if (gtk_list_box_row_get_header (row) == NULL)
    gtk_list_box_row_set_header (row, gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));
}

static void
free_server_id (gpointer  data,
                GClosure *closure)
{
  g_free (data);
}

static void
on_server_replication_applied_cb (GObject      *source,
                                  GAsyncResult *result,
                                  gpointer      user_data)
{
  g_autoptr(GTask) task = G_TASK (user_data);
  PsWindow *self = g_task_get_source_object (task);
  PsSyncManager *manager = PS_SYNC_MANAGER (source);
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  if (!ps_sync_manager_apply_server_replication_finish (manager, result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      message = g_strdup_printf (_("The replication documents in this instance’s CouchDB "
                                   "could not be updated: %s"), error->message);
      show_error (self, message);
    }
}

/* Writes the server's documents into this instance's _replicator, or
 * removes them when it is no longer kept in sync there (or is gone).
 */
static void
apply_server_replication (PsWindow *self,
                          PsServer *server)
{
  GTask *task;

  /* The task only carries the window to the callback. */
  task = g_task_new (self, self->cancellable, NULL, NULL);
  g_task_set_source_tag (task, apply_server_replication);
  ps_sync_manager_apply_server_replication_async (ps_context_get_sync_manager (self->context),
                                                  server, self->cancellable,
                                                  on_server_replication_applied_cb, task);
}

static void
on_server_dialog_saved_cb (PsServerDialog *dialog,
                           PsServer       *server,
                           gboolean        was_on_server,
                           PsWindow       *self)
{
  if (ps_server_get_on_server (server) || was_on_server)
    apply_server_replication (self, server);
}

static PsServerDialog *
open_server_dialog (PsWindow *self,
                    PsServer *server)
{
  PsServerDialog *dialog;

  dialog = ps_server_dialog_new (GTK_WINDOW (self), self->context, server);
  g_signal_connect_object (dialog, "saved", G_CALLBACK (on_server_dialog_saved_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));

  return dialog;
}


/*
 * Callbacks
 */

static void
on_error_bar_response_cb (GtkInfoBar *info_bar,
                          int         response_id,
                          PsWindow   *self)
{
  gtk_info_bar_set_revealed (info_bar, FALSE);
}

static void
on_server_list_row_selected_cb (GtkListBox    *box,
                                GtkListBoxRow *row,
                                PsWindow      *self)
{
  update_selection_actions (self);
}

static void
on_server_list_row_activated_cb (GtkListBox    *box,
                                 GtkListBoxRow *row,
                                 PsWindow      *self)
{
  show_server_page (self, ps_server_row_get_server (PS_SERVER_ROW (row)));
}

static void
on_main_stack_visible_child_changed_cb (GtkStack   *stack,
                                        GParamSpec *pspec,
                                        PsWindow   *self)
{
  /* Resolutions may have come in while another page was shown. */
  if (self->conflicts_page != NULL &&
      gtk_stack_get_visible_child (stack) == GTK_WIDGET (self->conflicts_page))
    ps_conflicts_page_refresh (self->conflicts_page);
}

static void
on_show_servers_activated_cb (GSimpleAction *action,
                              GVariant      *parameter,
                              gpointer       user_data)
{
  PsWindow *self = PS_WINDOW (user_data);
  PsServer *shown = ps_server_page_get_server (self->server_page);
  g_autofree char *shown_id = shown != NULL ? g_strdup (ps_server_get_id (shown)) : NULL;

  ps_server_page_set_server (self->server_page, NULL);
  gtk_stack_set_visible_child_name (self->main_stack, "servers");
  update_stack (self);

  /* Back where the user left. */
  if (shown_id != NULL)
    ps_window_show_server (self, shown_id);
}

static void
on_show_server_details_activated_cb (GSimpleAction *action,
                                     GVariant      *parameter,
                                     gpointer       user_data)
{
  PsWindow *self = PS_WINDOW (user_data);
  PsServer *server = lookup_server (self, g_variant_get_string (parameter, NULL));

  if (server != NULL)
    show_server_page (self, server);
}

static void
on_show_conflicts_activated_cb (GSimpleAction *action,
                                GVariant      *parameter,
                                gpointer       user_data)
{
  PsWindow *self = PS_WINDOW (user_data);

  gtk_stack_set_visible_child_name (self->main_stack, "conflicts");
}

static void
on_server_store_items_changed_cb (GListModel *model,
                                  guint       position,
                                  guint       removed,
                                  guint       added,
                                  PsWindow   *self)
{
  update_stack (self);
  update_selection_actions (self);
}

static void
on_server_deleted_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(PsWindow) self = PS_WINDOW (user_data);
  g_autoptr(GError) error = NULL;
  gboolean removed = FALSE;

  if (ps_server_store_delete_finish (PS_SERVER_STORE (source), result, &removed, &error) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (removed)
    {
      g_autofree char *message = NULL;

      message = g_strdup_printf (_("The server was deleted, but its password could not be "
                                   "removed from the keyring: %s"), error->message);
      show_error (self, message);
      return;
    }
  show_error (self, error->message);
}

static void
on_delete_dialog_response_cb (GtkDialog *dialog,
                              int        response_id,
                              gpointer   user_data)
{
  PsWindow *self = PS_WINDOW (gtk_window_get_transient_for (GTK_WINDOW (dialog)));
  g_autofree char *server_id = g_strdup (user_data);
  PsServerStore *store;
  g_autoptr(PsServer) server = NULL;

  gtk_widget_destroy (GTK_WIDGET (dialog));

  if (response_id != GTK_RESPONSE_ACCEPT)
    return;

  store = ps_context_get_server_store (self->context);
  server = ps_server_store_lookup (store, server_id);
  if (server == NULL)
    return;
  g_object_ref (server);

  ps_sync_manager_stop (ps_context_get_sync_manager (self->context), server_id);

  ps_server_store_delete_async (store, server_id, self->cancellable, on_server_deleted_cb,
                                g_object_ref (self));

  /* The store lets go of the server at once; its documents go with it. */
  if (ps_server_get_on_server (server) && ps_server_store_lookup (store, server_id) == NULL)
    apply_server_replication (self, server);
}

static void
on_add_server_activated_cb (GSimpleAction *action,
                            GVariant      *parameter,
                            gpointer       user_data)
{
  open_server_dialog (PS_WINDOW (user_data), NULL);
}

static void
on_edit_server_activated_cb (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  PsWindow *self = PS_WINDOW (user_data);
  PsServer *server = lookup_server (self, g_variant_get_string (parameter, NULL));

  if (server != NULL)
    open_server_dialog (self, server);
}

static void
on_remove_server_activated_cb (GSimpleAction *action,
                               GVariant      *parameter,
                               gpointer       user_data)
{
  PsWindow *self = PS_WINDOW (user_data);
  PsServer *server = lookup_server (self, g_variant_get_string (parameter, NULL));
  GtkWidget *dialog;
  GtkWidget *button;

  if (server == NULL)
    return;

  /* Translators: %s is the description of a server */
  dialog = gtk_message_dialog_new (GTK_WINDOW (self),
                                   GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                   _("Delete “%s”?"), ps_server_get_description (server));
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog),
                                            _("This instance will stop syncing with this "
                                              "server, and its password will be removed "
                                              "from the keyring. Records already synced "
                                              "stay on both instances."));
  gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL);
  button = gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Delete"), GTK_RESPONSE_ACCEPT);
  gtk_style_context_add_class (gtk_widget_get_style_context (button), "destructive-action");
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);

  g_signal_connect_data (dialog, "response", G_CALLBACK (on_delete_dialog_response_cb),
                         g_strdup (ps_server_get_id (server)), free_server_id, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_diagnostics_edit_requested_cb (PsDiagnosticsDialog *dialog,
                                  const char          *field,
                                  gpointer             user_data)
{
  const char *server_id = user_data;
  PsWindow *self = PS_WINDOW (gtk_window_get_transient_for (GTK_WINDOW (dialog)));
  PsServer *server = lookup_server (self, server_id);

  if (server != NULL)
    ps_server_dialog_focus_field (open_server_dialog (self, server), field);
}

static void
on_diagnose_access_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = G_TASK (user_data);
  PsWindow *self = g_task_get_source_object (task);
  const char *server_id = g_task_get_task_data (task);
  g_autoptr(PsDiagnostics) diagnostics = NULL;
  g_autoptr(PsServerAccess) access = NULL;
  g_autoptr(GError) error = NULL;
  PsDiagnosticsDialog *dialog;
  PsServer *server;

  access = ps_server_access_new_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  server = lookup_server (self, server_id);
  if (server == NULL)
    return;

  /* Without the keyring the checks still run, and say what fails. */
  if (error != NULL)
    {
      show_error (self, error->message);
      access = ps_server_access_new (server, ps_context_get_session (self->context), NULL);
    }

  diagnostics = ps_diagnostics_new_for_access (access);

  dialog = ps_diagnostics_dialog_new (GTK_WINDOW (self), diagnostics,
                                      ps_server_get_description (server));
  /* The server is found again by id: it may be gone by then. */
  g_signal_connect_data (dialog, "edit-requested",
                         G_CALLBACK (on_diagnostics_edit_requested_cb),
                         g_strdup (ps_server_get_id (server)), free_server_id, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_diagnose_server_activated_cb (GSimpleAction *action,
                                 GVariant      *parameter,
                                 gpointer       user_data)
{
  PsWindow *self = PS_WINDOW (user_data);
  const char *server_id = g_variant_get_string (parameter, NULL);
  PsServer *server = lookup_server (self, server_id);
  GTask *task;

  if (server == NULL)
    return;

  /* The task only carries the window and the id to the callback. */
  task = g_task_new (self, self->cancellable, NULL, NULL);
  g_task_set_source_tag (task, on_diagnose_server_activated_cb);
  g_task_set_task_data (task, g_strdup (server_id), g_free);
  ps_server_access_new_async (server, ps_context_get_session (self->context), self->cancellable,
                              on_diagnose_access_cb, task);
}

static void
free_server_ids (gpointer  data,
                 GClosure *closure)
{
  g_strfreev (data);
}

static void
on_metered_dialog_response_cb (GtkDialog *dialog,
                               int        response,
                               gpointer   user_data)
{
  PsWindow *self = PS_WINDOW (gtk_window_get_transient_for (GTK_WINDOW (dialog)));
  const char * const *server_ids = user_data;

  for (guint i = 0; response == GTK_RESPONSE_ACCEPT && server_ids[i] != NULL; i++)
    {
      if (lookup_server (self, server_ids[i]) != NULL)
        ps_sync_manager_sync (ps_context_get_sync_manager (self->context), server_ids[i]);
    }
  gtk_widget_destroy (GTK_WIDGET (dialog));
}

static gboolean
needs_asking (PsWindow *self,
              PsServer *server)
{
  PsSyncManager *manager = ps_context_get_sync_manager (self->context);
  PsSyncJob *job = ps_sync_manager_get_job (manager, ps_server_get_id (server));

  return job != NULL && ps_sync_job_needs_consent (job, FALSE);
}

/* One question for all the servers in @servers; @n_syncing others, allowed
 * to use metered connections, were started without asking.
 */
static void
ask_before_syncing (PsWindow  *self,
                    GPtrArray *servers,
                    guint      n_syncing)
{
  g_autoptr(GStrvBuilder) ids = g_strv_builder_new ();
  g_autofree char *not_set = NULL;
  g_autofree char *detail = NULL;
  GtkWidget *dialog;

  dialog = gtk_message_dialog_new (GTK_WINDOW (self),
                                   GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                   _("This connection may cost money. Sync anyway?"));
  if (servers->len == 1)
    not_set = g_strdup_printf (_("“%s” is not set to sync over metered connections."),
                               ps_server_get_description (servers->pdata[0]));
  else
    not_set = g_strdup_printf (ngettext ("%u server is not set to sync over metered "
                                         "connections.",
                                         "%u servers are not set to sync over metered "
                                         "connections.",
                                         servers->len),
                               servers->len);
  /* Continuous servers that are not allowed pause by themselves: they are
   * not said to be syncing.
   */
  if (n_syncing > 0)
    {
      g_autofree char *others = g_strdup_printf (ngettext ("%u other server is syncing.",
                                                           "%u other servers are syncing.",
                                                           n_syncing),
                                                 n_syncing);

      detail = g_strdup_printf ("%s %s", not_set, others);
    }
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s",
                                            detail != NULL ? detail : not_set);
  gtk_dialog_add_buttons (GTK_DIALOG (dialog),
                          _("_Cancel"), GTK_RESPONSE_CANCEL,
                          _("_Sync Anyway"), GTK_RESPONSE_ACCEPT,
                          NULL);
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);

  for (guint i = 0; i < servers->len; i++)
    g_strv_builder_add (ids, ps_server_get_id (servers->pdata[i]));
  g_signal_connect_data (dialog, "response", G_CALLBACK (on_metered_dialog_response_cb),
                         g_strv_builder_end (ids), free_server_ids, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
sync_server_asking (PsWindow *self,
                    PsServer *server)
{
  g_autoptr(GPtrArray) servers = NULL;

  /* CouchDB syncs it: syncing now writes its documents again. */
  if (ps_server_get_on_server (server))
    {
      apply_server_replication (self, server);
      return;
    }

  if (!needs_asking (self, server))
    {
      ps_sync_manager_sync (ps_context_get_sync_manager (self->context),
                            ps_server_get_id (server));
      return;
    }

  servers = g_ptr_array_new ();
  g_ptr_array_add (servers, server);
  ask_before_syncing (self, servers, 0);
}

/**
 * ps_window_sync_all:
 * @self: a #PsWindow
 *
 * Syncs every server once, after one question for those that would sync
 * over a metered connection without the user's leave.
 */
void
ps_window_sync_all (PsWindow *self)
{
  GListModel *servers = G_LIST_MODEL (ps_context_get_server_store (self->context));
  g_autoptr(GPtrArray) to_ask = g_ptr_array_new_with_free_func (g_object_unref);
  guint n_syncing = 0;

  g_return_if_fail (PS_IS_WINDOW (self));

  for (guint i = 0; i < g_list_model_get_n_items (servers); i++)
    {
      g_autoptr(PsServer) server = g_list_model_get_item (servers, i);

      if (ps_server_get_on_server (server))
        {
          apply_server_replication (self, server);
          continue;
        }
      if (needs_asking (self, server))
        {
          g_ptr_array_add (to_ask, g_steal_pointer (&server));
          continue;
        }
      if (ps_server_get_allow_metered (server))
        n_syncing++;
      ps_sync_manager_sync (ps_context_get_sync_manager (self->context),
                            ps_server_get_id (server));
    }

  if (to_ask->len > 0)
    ask_before_syncing (self, to_ask, n_syncing);
}

static void
on_sync_server_activated_cb (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  PsWindow *self = PS_WINDOW (user_data);
  const char *server_id = g_variant_get_string (parameter, NULL);
  PsServer *server = lookup_server (self, server_id);

  if (server != NULL)
    sync_server_asking (self, server);
}

static void
on_stop_server_activated_cb (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  PsWindow *self = PS_WINDOW (user_data);
  const char *server_id = g_variant_get_string (parameter, NULL);

  if (lookup_server (self, server_id) != NULL)
    ps_sync_manager_stop (ps_context_get_sync_manager (self->context), server_id);
}

static void
on_sync_selected_activated_cb (GSimpleAction *action,
                               GVariant      *parameter,
                               gpointer       user_data)
{
  PsWindow *self = PS_WINDOW (user_data);
  GtkListBoxRow *row = gtk_list_box_get_selected_row (self->server_list);
  PsServer *server;

  if (row == NULL)
    return;

  server = ps_server_row_get_server (PS_SERVER_ROW (row));
  sync_server_asking (self, server);
}


/*
 * GObject overrides
 */

static void
ps_window_constructed (GObject *object)
{
  PsWindow *self = (PsWindow *)object;
  PsServerStore *store;

  G_OBJECT_CLASS (ps_window_parent_class)->constructed (object);

  g_assert (PS_IS_CONTEXT (self->context));

  /* Back from a server's details, as in a browser. */
  if (gtk_window_get_application (GTK_WINDOW (self)) != NULL)
    {
      const char *back_accels[] = { "<Alt>Left", NULL };

      gtk_application_set_accels_for_action (gtk_window_get_application (GTK_WINDOW (self)),
                                             "win.show-servers", back_accels);
    }

  self->server_page = ps_server_page_new (self->context);
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->server_page), "server");

  self->conflicts_page = ps_conflicts_page_new (self->context);
  gtk_container_add_with_properties (GTK_CONTAINER (self->main_stack),
                                     GTK_WIDGET (self->conflicts_page),
                                     "name", "conflicts",
                                     "title", _("Conflicts"),
                                     NULL);

  store = ps_context_get_server_store (self->context);
  gtk_list_box_bind_model (self->server_list, G_LIST_MODEL (store),
                           create_row_cb, self, NULL);
  g_signal_connect_object (store, "items-changed",
                           G_CALLBACK (on_server_store_items_changed_cb), self, 0);

  update_stack (self);
  update_selection_actions (self);
}

static void
ps_window_dispose (GObject *object)
{
  PsWindow *self = (PsWindow *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (ps_window_parent_class)->dispose (object);
}

/* The context outlives the bound list box, whose rows are made with it. */
static void
ps_window_finalize (GObject *object)
{
  PsWindow *self = (PsWindow *)object;

  g_clear_object (&self->context);

  G_OBJECT_CLASS (ps_window_parent_class)->finalize (object);
}

static void
ps_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  PsWindow *self = PS_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_object (value, self->context);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  PsWindow *self = PS_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_assert (self->context == NULL);
      self->context = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_window_class_init (PsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = ps_window_constructed;
  object_class->dispose = ps_window_dispose;
  object_class->finalize = ps_window_finalize;
  object_class->get_property = ps_window_get_property;
  object_class->set_property = ps_window_set_property;

  properties[PROP_CONTEXT] =
    g_param_spec_object ("context", NULL, NULL,
                         PS_TYPE_CONTEXT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/primero/Sync/ps-window.ui");

  gtk_widget_class_bind_template_child (widget_class, PsWindow, error_bar);
  gtk_widget_class_bind_template_child (widget_class, PsWindow, error_label);
  gtk_widget_class_bind_template_child (widget_class, PsWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, PsWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, PsWindow, server_list);

  gtk_widget_class_bind_template_callback (widget_class, on_error_bar_response_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_server_list_row_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_server_list_row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_main_stack_visible_child_changed_cb);
}

static void
on_file_chosen_cb (GtkNativeDialog *chooser,
                   int              response,
                   PsWindow        *self)
{
  gboolean exporting = gtk_file_chooser_get_action (GTK_FILE_CHOOSER (chooser)) ==
                       GTK_FILE_CHOOSER_ACTION_SAVE;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    path = gtk_file_chooser_get_filename (GTK_FILE_CHOOSER (chooser));
  g_object_unref (chooser);
  if (path == NULL || self->context == NULL)
    return;

  gtk_window_present (GTK_WINDOW (exporting
                                  ? ps_sync_file_dialog_new_export (GTK_WINDOW (self),
                                                                    self->context, path)
                                  : ps_sync_file_dialog_new_import (GTK_WINDOW (self),
                                                                    self->context, path)));
}

/* Records travel on a USB stick where no network reaches. */
static void
choose_sync_file (PsWindow *self,
                  gboolean  exporting)
{
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (exporting ? _("Export Records To") : _("Import Records"),
                                         GTK_WINDOW (self),
                                         exporting ? GTK_FILE_CHOOSER_ACTION_SAVE
                                                   : GTK_FILE_CHOOSER_ACTION_OPEN,
                                         exporting ? _("_Export") : _("_Import"),
                                         _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (exporting)
    {
      gtk_file_chooser_set_do_overwrite_confirmation (GTK_FILE_CHOOSER (chooser), TRUE);
      gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), "records.primero-sync");
    }
  g_signal_connect (chooser, "response", G_CALLBACK (on_file_chosen_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_export_file_activated_cb (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  choose_sync_file (PS_WINDOW (user_data), TRUE);
}

static void
on_import_file_activated_cb (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  choose_sync_file (PS_WINDOW (user_data), FALSE);
}

static const GActionEntry win_actions[] = {
  { "add-server", on_add_server_activated_cb },
  { "edit-server", on_edit_server_activated_cb, "s" },
  { "remove-server", on_remove_server_activated_cb, "s" },
  { "diagnose-server", on_diagnose_server_activated_cb, "s" },
  { "sync-server", on_sync_server_activated_cb, "s" },
  { "stop-server", on_stop_server_activated_cb, "s" },
  { "sync-selected", on_sync_selected_activated_cb },
  { "show-servers", on_show_servers_activated_cb },
  { "show-server-details", on_show_server_details_activated_cb, "s" },
  { "show-conflicts", on_show_conflicts_activated_cb },
  { "export-file", on_export_file_activated_cb },
  { "import-file", on_import_file_activated_cb },
};

static void
ps_window_init (PsWindow *self)
{
  g_autoptr(GtkBuilder) builder = NULL;
  GtkShortcutsWindow *shortcuts;

  self->cancellable = g_cancellable_new ();

  g_action_map_add_action_entries (G_ACTION_MAP (self),
                                   win_actions, G_N_ELEMENTS (win_actions),
                                   self);

  gtk_widget_init_template (GTK_WIDGET (self));

  builder = gtk_builder_new_from_resource ("/org/primero/Sync/ps-shortcuts-window.ui");
  shortcuts = GTK_SHORTCUTS_WINDOW (gtk_builder_get_object (builder, "shortcuts_window"));
  gtk_application_window_set_help_overlay (GTK_APPLICATION_WINDOW (self), shortcuts);

  gtk_list_box_set_header_func (self->server_list, update_header_cb, NULL, NULL);
}


/*
 * Public API
 */

PsWindow *
ps_window_new (PsApplication *application,
               PsContext     *context)
{
  g_return_val_if_fail (PS_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (PS_IS_CONTEXT (context), NULL);

  return g_object_new (PS_TYPE_WINDOW,
                       "application", application,
                       "context", context,
                       NULL);
}

PsContext *
ps_window_get_context (PsWindow *self)
{
  g_return_val_if_fail (PS_IS_WINDOW (self), NULL);

  return self->context;
}

/**
 * ps_window_show_server:
 * @self: a #PsWindow
 * @server_id: the id of a configured server
 *
 * Selects the row of a server and moves the keyboard focus to it, as when
 * the user follows a notification about that server.
 */
void
ps_window_show_server (PsWindow   *self,
                       const char *server_id)
{
  GListModel *servers;
  guint n_items;

  g_return_if_fail (PS_IS_WINDOW (self));
  g_return_if_fail (server_id != NULL);

  servers = G_LIST_MODEL (ps_context_get_server_store (self->context));
  n_items = g_list_model_get_n_items (servers);

  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(PsServer) server = g_list_model_get_item (servers, i);
      GtkListBoxRow *row;

      if (g_strcmp0 (ps_server_get_id (server), server_id) != 0)
        continue;

      row = gtk_list_box_get_row_at_index (self->server_list, i);
      if (row != NULL)
        {
          gtk_list_box_select_row (self->server_list, row);
          gtk_widget_grab_focus (GTK_WIDGET (row));
        }
      return;
    }
}

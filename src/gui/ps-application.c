/* ps-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-application"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-application.h"
#include "ps-preferences-dialog.h"
#include "ps-window-state.h"
#include "ps-window.h"

#define SETTINGS_SCHEMA_ID "org.primero.Sync"

struct _PsApplication
{
  GtkApplication  parent_instance;

  PsContext      *context;
  GSettings      *settings;
  gboolean        held_for_background;
};

G_DEFINE_FINAL_TYPE (PsApplication, ps_application, GTK_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_CONTEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];


/*
 * Auxiliary methods
 */

static PsWindow *
ensure_window (PsApplication *self)
{
  GtkWindow *window;

  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (window == NULL)
    {
      window = GTK_WINDOW (ps_window_new (self, self->context));
      ps_window_state_bind (window, self->settings);
    }

  return PS_WINDOW (window);
}

static gboolean
has_continuous_server (PsApplication *self)
{
  GListModel *servers = G_LIST_MODEL (ps_context_get_server_store (self->context));
  guint n_items = g_list_model_get_n_items (servers);

  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(PsServer) server = g_list_model_get_item (servers, i);

      if (ps_server_get_continuous (server))
        return TRUE;
    }

  return FALSE;
}

/* Continuous sync goes on without a window only when the user asked for it. */
static void
update_background_hold (PsApplication *self)
{
  gboolean hold;

  hold = g_settings_get_boolean (self->settings, "run-in-background") &&
         has_continuous_server (self);

  if (hold == self->held_for_background)
    return;

  self->held_for_background = hold;
  if (hold)
    g_application_hold (G_APPLICATION (self));
  else
    g_application_release (G_APPLICATION (self));
}

static void
update_actions (PsApplication *self)
{
  GListModel *servers = G_LIST_MODEL (ps_context_get_server_store (self->context));
  GAction *action;

  action = g_action_map_lookup_action (G_ACTION_MAP (self), "sync-all");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action),
                               g_list_model_get_n_items (servers) > 0);
}

static char *
dup_notification_id (PsServer *server)
{
  return g_strdup_printf ("sync-failed-%s", ps_server_get_id (server));
}


/*
 * Callbacks
 */

static void
on_quit_activated_cb (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  PsApplication *self = PS_APPLICATION (user_data);
  GList *windows;

  /* Closing the windows first lets them save their state. */
  windows = gtk_application_get_windows (GTK_APPLICATION (self));
  while (windows != NULL)
    {
      gtk_widget_destroy (GTK_WIDGET (windows->data));
      windows = gtk_application_get_windows (GTK_APPLICATION (self));
    }

  g_application_quit (G_APPLICATION (self));
}

static void
on_about_activated_cb (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);

  gtk_show_about_dialog (gtk_application_get_active_window (app),
                         "program-name", _("Primero Sync"),
                         "logo-icon-name", APPLICATION_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Keeps Primero instances in sync"),
                         "website", "https://www.primero.org/",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         /* Translators: replace with your names, one per line */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
on_help_activated_cb (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  GtkWindow *window = gtk_application_get_active_window (app);
  g_autoptr(GError) error = NULL;

  /* The guide keeps its id across profiles, as its pages are installed. */
  if (!gtk_show_uri_on_window (window, "help:org.primero.Sync", GDK_CURRENT_TIME, &error))
    {
      GtkWidget *dialog;

      dialog = gtk_message_dialog_new (window, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                       GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE,
                                       _("The user guide could not be opened"));
      gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s",
                                                error->message);
      g_signal_connect (dialog, "response", G_CALLBACK (gtk_widget_destroy), NULL);
      gtk_window_present (GTK_WINDOW (dialog));
    }
}

static void
on_preferences_activated_cb (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  PsApplication *self = PS_APPLICATION (user_data);
  PsWindow *window = ensure_window (self);
  PsPreferencesDialog *dialog;

  gtk_window_present (GTK_WINDOW (window));
  dialog = ps_preferences_dialog_new (GTK_WINDOW (window), self->context, self->settings);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_sync_all_activated_cb (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer       user_data)
{
  PsApplication *self = PS_APPLICATION (user_data);

  ps_window_sync_all (ensure_window (self));
}

static void
on_sync_server_activated_cb (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  PsApplication *self = PS_APPLICATION (user_data);
  const char *server_id = g_variant_get_string (parameter, NULL);
  PsServerStore *store = ps_context_get_server_store (self->context);

  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  /* A notification may outlive the server it is about. */
  if (ps_server_store_lookup (store, server_id) == NULL)
    return;

  /* The window asks first when the connection may cost money. */
  if (window != NULL && g_action_group_has_action (G_ACTION_GROUP (window), "sync-server"))
    {
      g_action_group_activate_action (G_ACTION_GROUP (window), "sync-server", parameter);
      return;
    }

  ps_sync_manager_sync (ps_context_get_sync_manager (self->context), server_id);
}

static void
on_show_server_activated_cb (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  PsApplication *self = PS_APPLICATION (user_data);
  PsWindow *window = ensure_window (self);
  const char *server_id = g_variant_get_string (parameter, NULL);
  PsServerStore *store = ps_context_get_server_store (self->context);
  PsSyncManager *manager = ps_context_get_sync_manager (self->context);
  PsServer *server;
  gboolean failed;

  gtk_window_present (GTK_WINDOW (window));
  server = ps_server_store_lookup (store, server_id);
  if (server == NULL)
    return;

  ps_window_show_server (window, server_id);

  /* Coming from a failure, what the user wants next is why. */
  if (ps_server_get_on_server (server))
    {
      PsServerReplicationStatus *status = ps_sync_manager_get_server_replication (manager,
                                                                                  server);
      PsServerReplicationState state = status != NULL
                                       ? ps_server_replication_status_get_state (status)
                                       : PS_SERVER_REPLICATION_STATE_UNKNOWN;

      failed = ps_server_replication_state_is_failing (state);
    }
  else
    {
      failed = ps_sync_job_get_state (ps_sync_manager_get_job (manager, server_id)) ==
               PS_SYNC_STATE_FAILED;
    }
  if (failed)
    g_action_group_activate_action (G_ACTION_GROUP (window), "diagnose-server", parameter);
}

/* A failed sync from this desktop and a failing replication on the server
 * are told alike, under the same id: a server syncs one way or the other.
 */
static void
notify_sync_failed (PsApplication *self,
                    PsServer      *server,
                    const char    *message)
{
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *id = dup_notification_id (server);
  g_autofree char *title = NULL;
  GVariant *target;

  /* Translators: %s is the description of a server, e.g. “Field office” */
  title = g_strdup_printf (_("Sync with %s failed"), ps_server_get_description (server));

  notification = g_notification_new (title);
  if (message != NULL && *message != '\0')
    g_notification_set_body (notification, message);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_HIGH);

  target = g_variant_new_string (ps_server_get_id (server));
  g_notification_set_default_action_and_target_value (notification, "app.show-server", target);
  g_notification_add_button_with_target_value (notification, _("Retry"),
                                               "app.sync-server", target);
  g_notification_add_button_with_target_value (notification, _("Diagnose"),
                                               "app.show-server", target);

  g_application_send_notification (G_APPLICATION (self), id, notification);
}

static void
withdraw_sync_failed (PsApplication *self,
                      PsServer      *server)
{
  g_autofree char *id = dup_notification_id (server);

  g_application_withdraw_notification (G_APPLICATION (self), id);
}

static void
on_sync_manager_sync_failed_cb (PsSyncManager *manager,
                                PsSyncJob     *job,
                                PsApplication *self)
{
  notify_sync_failed (self, ps_sync_job_get_server (job), ps_sync_job_get_error_message (job));
}

static void
on_sync_manager_sync_recovered_cb (PsSyncManager *manager,
                                   PsSyncJob     *job,
                                   PsApplication *self)
{
  withdraw_sync_failed (self, ps_sync_job_get_server (job));
}

static void
on_sync_manager_server_replication_failed_cb (PsSyncManager             *manager,
                                              PsServer                  *server,
                                              PsServerReplicationStatus *status,
                                              PsApplication             *self)
{
  notify_sync_failed (self, server, ps_server_replication_status_get_error (status));
}

static void
on_sync_manager_server_replication_recovered_cb (PsSyncManager *manager,
                                                 PsServer      *server,
                                                 PsApplication *self)
{
  withdraw_sync_failed (self, server);
}

static void
on_server_store_items_changed_cb (GListModel    *model,
                                  guint          position,
                                  guint          removed,
                                  guint          added,
                                  PsApplication *self)
{
  update_actions (self);
  update_background_hold (self);
}

static void
on_settings_run_in_background_changed_cb (GSettings     *settings,
                                          const char    *key,
                                          PsApplication *self)
{
  update_background_hold (self);
}


/*
 * GApplication overrides
 */

static const GActionEntry app_actions[] = {
  { "quit", on_quit_activated_cb },
  { "about", on_about_activated_cb },
  { "help", on_help_activated_cb },
  { "preferences", on_preferences_activated_cb },
  { "sync-all", on_sync_all_activated_cb },
  { "sync-server", on_sync_server_activated_cb, "s" },
  { "show-server", on_show_server_activated_cb, "s" },
};

static const struct
{
  const char *action;
  const char *accels[3];
} app_accels[] = {
  { "app.quit", { "<Control>q", NULL } },
  { "app.preferences", { "<Control>comma", NULL } },
  { "app.help", { "F1", NULL } },
  { "app.sync-all", { "<Control><Shift>r", NULL } },
  { "win.add-server", { "<Control>n", NULL } },
  { "win.sync-selected", { "<Control>r", NULL } },
  { "win.show-help-overlay", { "<Control>question", NULL } },
};

static void
ps_application_activate (GApplication *application)
{
  PsApplication *self = PS_APPLICATION (application);

  gtk_window_present (GTK_WINDOW (ensure_window (self)));
}

static void
ps_application_startup (GApplication *application)
{
  PsApplication *self = PS_APPLICATION (application);
  g_autoptr(GtkCssProvider) css = NULL;
  PsSyncManager *manager;

  G_APPLICATION_CLASS (ps_application_parent_class)->startup (application);

  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/primero/Sync/style.css");
  gtk_style_context_add_provider_for_screen (gdk_screen_get_default (),
                                             GTK_STYLE_PROVIDER (css),
                                             GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  if (self->context == NULL)
    self->context = ps_context_new ();
  self->settings = g_settings_new (SETTINGS_SCHEMA_ID);
  g_settings_bind (self->settings, "max-concurrent-syncs",
                   ps_context_get_sync_manager (self->context), "max-jobs",
                   G_SETTINGS_BIND_GET);

  g_action_map_add_action_entries (G_ACTION_MAP (application),
                                   app_actions, G_N_ELEMENTS (app_actions),
                                   application);
  for (gsize i = 0; i < G_N_ELEMENTS (app_accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (application),
                                           app_accels[i].action,
                                           app_accels[i].accels);

  manager = ps_context_get_sync_manager (self->context);
  g_signal_connect_object (manager, "sync-failed",
                           G_CALLBACK (on_sync_manager_sync_failed_cb), self, 0);
  g_signal_connect_object (manager, "sync-recovered",
                           G_CALLBACK (on_sync_manager_sync_recovered_cb), self, 0);
  g_signal_connect_object (manager, "server-replication-failed",
                           G_CALLBACK (on_sync_manager_server_replication_failed_cb), self, 0);
  g_signal_connect_object (manager, "server-replication-recovered",
                           G_CALLBACK (on_sync_manager_server_replication_recovered_cb),
                           self, 0);

  g_signal_connect_object (ps_context_get_server_store (self->context), "items-changed",
                           G_CALLBACK (on_server_store_items_changed_cb), self, 0);
  g_signal_connect_object (self->settings, "changed::run-in-background",
                           G_CALLBACK (on_settings_run_in_background_changed_cb), self, 0);
  update_actions (self);
  update_background_hold (self);

  ps_sync_manager_start_continuous (manager);
}

static void
ps_application_shutdown (GApplication *application)
{
  PsApplication *self = PS_APPLICATION (application);

  if (self->context != NULL)
    {
      PsSyncManager *manager = ps_context_get_sync_manager (self->context);
      GListModel *servers = G_LIST_MODEL (ps_context_get_server_store (self->context));
      guint n_items = g_list_model_get_n_items (servers);

      for (guint i = 0; i < n_items; i++)
        {
          g_autoptr(PsServer) server = g_list_model_get_item (servers, i);

          ps_sync_manager_stop (manager, ps_server_get_id (server));
        }
    }

  G_APPLICATION_CLASS (ps_application_parent_class)->shutdown (application);
}


/*
 * GObject overrides
 */

static void
ps_application_finalize (GObject *object)
{
  PsApplication *self = (PsApplication *)object;

  g_clear_object (&self->context);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (ps_application_parent_class)->finalize (object);
}

static void
ps_application_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  PsApplication *self = PS_APPLICATION (object);

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
ps_application_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  PsApplication *self = PS_APPLICATION (object);

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
ps_application_class_init (PsApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = ps_application_finalize;
  object_class->get_property = ps_application_get_property;
  object_class->set_property = ps_application_set_property;

  app_class->activate = ps_application_activate;
  app_class->startup = ps_application_startup;
  app_class->shutdown = ps_application_shutdown;

  /**
   * PsApplication:context:
   *
   * The servers, sync jobs and journal the application shows. When none
   * is given, one for the user's own directories is made at startup.
   */
  properties[PROP_CONTEXT] =
    g_param_spec_object ("context", NULL, NULL,
                         PS_TYPE_CONTEXT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ps_application_init (PsApplication *self)
{
}


/*
 * Public API
 */

PsApplication *
ps_application_new (void)
{
  return ps_application_new_for_context (NULL);
}

/**
 * ps_application_new_for_context:
 * @context: (nullable): the context to show, or %NULL for the user's own
 *
 * Returns: (transfer full): a new #PsApplication
 */
PsApplication *
ps_application_new_for_context (PsContext *context)
{
  g_return_val_if_fail (context == NULL || PS_IS_CONTEXT (context), NULL);

  return g_object_new (PS_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "resource-base-path", "/org/primero/Sync",
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "context", context,
                       NULL);
}

PsContext *
ps_application_get_context (PsApplication *self)
{
  g_return_val_if_fail (PS_IS_APPLICATION (self), NULL);

  return self->context;
}

GSettings *
ps_application_get_settings (PsApplication *self)
{
  g_return_val_if_fail (PS_IS_APPLICATION (self), NULL);

  return self->settings;
}

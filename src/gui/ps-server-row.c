/* ps-server-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-server-row"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-server-row.h"
#include "ps-quiet-widgets.h"
#include "ps-url.h"

struct _PsServerRow
{
  GtkListBoxRow   parent_instance;

  PsServer       *server;
  PsSyncJob      *job;
  PsSyncManager  *manager;

  /* Template widgets */
  GtkImage       *state_image;
  GtkLabel       *description_label;
  GtkLabel       *continuous_badge;
  GtkLabel       *on_server_badge;
  GtkLabel       *host_label;
  GtkLabel       *status_label;
  GtkLabel       *last_sync_label;
  GtkProgressBar *progress_bar;
  GtkButton      *sync_button;
  GtkMenuButton  *menu_button;
};

G_DEFINE_FINAL_TYPE (PsServerRow, ps_server_row, GTK_TYPE_LIST_BOX_ROW)

enum {
  PROP_0,
  PROP_SERVER,
  PROP_JOB,
  PROP_MANAGER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];


/*
 * Auxiliary methods
 */

static const char *
get_state_icon_name (PsSyncState state)
{
  switch (state)
    {
    case PS_SYNC_STATE_IDLE:
      return "network-server-symbolic";
    case PS_SYNC_STATE_CONNECTING:
    case PS_SYNC_STATE_SYNCING:
      return "emblem-synchronizing-symbolic";
    case PS_SYNC_STATE_UP_TO_DATE:
      return "emblem-ok-symbolic";
    case PS_SYNC_STATE_WAITING_FOR_NETWORK:
      return "network-offline-symbolic";
    case PS_SYNC_STATE_PAUSED_METERED:
      return "media-playback-pause-symbolic";
    case PS_SYNC_STATE_QUEUED:
      return "content-loading-symbolic";
    case PS_SYNC_STATE_BACKING_OFF:
    case PS_SYNC_STATE_STALLED:
      return "dialog-warning-symbolic";
    case PS_SYNC_STATE_FAILED:
      return "dialog-error-symbolic";
    default:
      return "network-server-symbolic";
    }
}

static const char *
get_replication_icon_name (PsServerReplicationState state)
{
  switch (state)
    {
    case PS_SERVER_REPLICATION_STATE_PENDING:
      return "content-loading-symbolic";
    case PS_SERVER_REPLICATION_STATE_RUNNING:
      return "emblem-synchronizing-symbolic";
    case PS_SERVER_REPLICATION_STATE_CRASHING:
      return "dialog-warning-symbolic";
    case PS_SERVER_REPLICATION_STATE_FAILED:
      return "dialog-error-symbolic";
    case PS_SERVER_REPLICATION_STATE_UNKNOWN:
    default:
      return "network-server-symbolic";
    }
}

/* The state, and for a failing replication the reason. */
static char *
dup_replication_status_text (PsServerReplicationStatus *status)
{
  PsServerReplicationState state = PS_SERVER_REPLICATION_STATE_UNKNOWN;
  const char *error = NULL;

  if (status != NULL)
    {
      state = ps_server_replication_status_get_state (status);
      error = ps_server_replication_status_get_error (status);
    }

  /* An unknown state says why it is unknown, when it can. */
  if (error == NULL || *error == '\0' ||
      state == PS_SERVER_REPLICATION_STATE_RUNNING ||
      state == PS_SERVER_REPLICATION_STATE_PENDING)
    return g_strdup (ps_server_replication_state_to_label (state));

  /* Translators: the first %s is the state of a replication, e.g. “Failing,
   * retrying”, the second the reason, as CouchDB (or the connection) gives it
   */
  return g_strdup_printf (_("%s: %s"), ps_server_replication_state_to_label (state), error);
}

static void
set_status (PsServerRow *self,
            const char  *icon_name,
            const char  *status,
            const char  *description,
            gboolean     failed)
{
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (self->status_label));
  AtkObject *image_accessible = gtk_widget_get_accessible (GTK_WIDGET (self->state_image));
  AtkObject *accessible = gtk_widget_get_accessible (GTK_WIDGET (self));
  const char *shown_icon_name = NULL;
  g_autofree char *shown_tooltip = gtk_widget_get_tooltip_text (GTK_WIDGET (self->status_label));

  /* The status is read every few seconds: what has not changed is not set
   * again, or a screen reader would say it again.
   */
  gtk_image_get_icon_name (self->state_image, &shown_icon_name, NULL);
  if (g_strcmp0 (shown_icon_name, icon_name) != 0)
    gtk_image_set_from_icon_name (self->state_image, icon_name, GTK_ICON_SIZE_LARGE_TOOLBAR);
  ps_quiet_label_set_text (self->status_label, status);
  /* The label keeps to one line and ends in “…” where the row is too
   * narrow: the whole text is in its tooltip.
   */
  if (g_strcmp0 (shown_tooltip, status) != 0)
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_label), status);

  /* The icon's meaning is in the status text for screen readers, and the
   * row says it without being entered.
   */
  if (g_strcmp0 (atk_object_get_name (image_accessible), status) != 0)
    atk_object_set_name (image_accessible, status);
  if (g_strcmp0 (atk_object_get_description (accessible), description) != 0)
    atk_object_set_description (accessible, description);

  if (failed)
    gtk_style_context_add_class (style, "error");
  else
    gtk_style_context_remove_class (style, "error");
}

static void
update_replication_state (PsServerRow *self)
{
  PsServerReplicationStatus *status = NULL;
  PsServerReplicationState state = PS_SERVER_REPLICATION_STATE_UNKNOWN;
  g_autofree char *text = NULL;
  g_autofree char *description = NULL;

  if (self->manager != NULL)
    status = ps_sync_manager_get_server_replication (self->manager, self->server);
  if (status != NULL)
    state = ps_server_replication_status_get_state (status);

  text = dup_replication_status_text (status);
  /* Translators: %s is the state of the replication, maybe with CouchDB's
   * reason, e.g. “Running” or “Failing, retrying: unauthorized”
   */
  description = g_strdup_printf (_("Synced on the server by this instance’s CouchDB. %s"),
                                 text);
  set_status (self, get_replication_icon_name (state), text, description,
              ps_server_replication_state_is_failing (state));

  /* No sync runs from this desktop: there is nothing to follow or stop. */
  gtk_widget_hide (GTK_WIDGET (self->progress_bar));
  gtk_widget_hide (GTK_WIDGET (self->last_sync_label));
  ps_quiet_button_set (self->sync_button, _("Update"), "win.sync-server",
                       _("Write this server’s replication documents into this "
                         "instance’s CouchDB again"));
}

static void
update_job_state (PsServerRow *self)
{
  PsSyncState state;
  g_autofree char *status = NULL;
  gboolean running;

  if (ps_server_get_on_server (self->server))
    {
      update_replication_state (self);
      return;
    }

  state = ps_sync_job_get_state (self->job);
  /* A queued sync can be taken back like a running one. */
  running = ps_sync_job_get_running (self->job) || state == PS_SYNC_STATE_QUEUED;
  status = ps_sync_job_dup_status_text (self->job);

  set_status (self, get_state_icon_name (state), status != NULL ? status : "",
              status != NULL ? status : "", state == PS_SYNC_STATE_FAILED);
  gtk_widget_set_visible (GTK_WIDGET (self->last_sync_label),
                          ps_server_get_last_sync_time (self->server) > 0);

  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), state == PS_SYNC_STATE_SYNCING);
  gtk_progress_bar_set_fraction (self->progress_bar,
                                 CLAMP (ps_sync_job_get_progress (self->job), 0.0, 1.0));

  if (running)
    ps_quiet_button_set (self->sync_button, _("Stop"), "win.stop-server",
                         _("Stop syncing with this server"));
  else
    ps_quiet_button_set (self->sync_button, _("Sync Now"), "win.sync-server",
                         _("Sync with this server now"));
}

static gboolean
transform_url_to_host (GBinding     *binding,
                       const GValue *from_value,
                       GValue       *to_value,
                       gpointer      user_data)
{
  const char *url = g_value_get_string (from_value);
  g_autoptr(GUri) uri = NULL;

  if (url != NULL)
    uri = ps_url_parse (url, NULL);

  if (uri == NULL || g_uri_get_host (uri) == NULL)
    {
      g_value_set_string (to_value, url != NULL ? url : "");
      return TRUE;
    }

  if (g_uri_get_port (uri) > 0)
    g_value_take_string (to_value, g_strdup_printf ("%s:%d", g_uri_get_host (uri),
                                                    g_uri_get_port (uri)));
  else
    g_value_set_string (to_value, g_uri_get_host (uri));

  return TRUE;
}

static gboolean
transform_time_to_last_sync (GBinding     *binding,
                             const GValue *from_value,
                             GValue       *to_value,
                             gpointer      user_data)
{
  gint64 unix_time = g_value_get_int64 (from_value);
  g_autoptr(GDateTime) date_time = NULL;
  g_autofree char *formatted = NULL;

  if (unix_time <= 0)
    {
      g_value_set_string (to_value, _("Never synced"));
      return TRUE;
    }

  date_time = g_date_time_new_from_unix_local (unix_time);
  if (date_time == NULL)
    {
      g_value_set_string (to_value, _("Never synced"));
      return TRUE;
    }

  /* Translators: a date and time as g_date_time_format() writes it,
   * e.g. “26 November 2026, 14:05”
   */
  formatted = g_date_time_format (date_time, _("%-d %B %Y, %H:%M"));
  /* Translators: %s is a date and time */
  g_value_take_string (to_value, g_strdup_printf (_("Last synced %s"), formatted));

  return TRUE;
}

static void
setup_menu (PsServerRow *self)
{
  g_autoptr(GMenu) menu = g_menu_new ();
  GVariant *target = g_variant_new_string (ps_server_get_id (self->server));
  g_autoptr(GMenuItem) edit = NULL;
  g_autoptr(GMenuItem) diagnose = NULL;
  g_autoptr(GMenuItem) remove = NULL;

  g_variant_ref_sink (target);

  edit = g_menu_item_new (_("_Edit…"), NULL);
  g_menu_item_set_action_and_target_value (edit, "win.edit-server", target);
  g_menu_append_item (menu, edit);

  diagnose = g_menu_item_new (_("Dia_gnose…"), NULL);
  g_menu_item_set_action_and_target_value (diagnose, "win.diagnose-server", target);
  g_menu_append_item (menu, diagnose);

  remove = g_menu_item_new (_("_Delete…"), NULL);
  g_menu_item_set_action_and_target_value (remove, "win.remove-server", target);
  g_menu_append_item (menu, remove);

  gtk_menu_button_set_menu_model (self->menu_button, G_MENU_MODEL (menu));
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->sync_button), target);

  g_variant_unref (target);
}


/*
 * Callbacks
 */

static void
on_job_notify_cb (PsSyncJob   *job,
                  GParamSpec  *pspec,
                  PsServerRow *self)
{
  update_job_state (self);
}

/* Until the first sync, the status already says so; a server kept on the
 * server is not synced from here at all.
 */
static void
on_server_notify_cb (PsServer    *server,
                     GParamSpec  *pspec,
                     PsServerRow *self)
{
  update_job_state (self);
}

static void
on_server_replication_changed_cb (PsSyncManager *manager,
                                  PsServer      *server,
                                  PsServerRow   *self)
{
  if (server == self->server)
    update_job_state (self);
}


/*
 * GObject overrides
 */

static void
ps_server_row_constructed (GObject *object)
{
  PsServerRow *self = (PsServerRow *)object;

  G_OBJECT_CLASS (ps_server_row_parent_class)->constructed (object);

  g_assert (PS_IS_SERVER (self->server));
  g_assert (PS_IS_SYNC_JOB (self->job));

  g_object_bind_property (self->server, "description",
                          self->description_label, "label",
                          G_BINDING_SYNC_CREATE);
  g_object_bind_property_full (self->server, "url",
                               self->host_label, "label",
                               G_BINDING_SYNC_CREATE,
                               transform_url_to_host, NULL, NULL, NULL);
  g_object_bind_property (self->server, "continuous",
                          self->continuous_badge, "visible",
                          G_BINDING_SYNC_CREATE);
  g_object_bind_property_full (self->server, "last-sync-time",
                               self->last_sync_label, "label",
                               G_BINDING_SYNC_CREATE,
                               transform_time_to_last_sync, NULL, NULL, NULL);
  g_object_bind_property (self->server, "on-server",
                          self->on_server_badge, "visible",
                          G_BINDING_SYNC_CREATE);

  setup_menu (self);

  g_signal_connect_object (self->job, "notify", G_CALLBACK (on_job_notify_cb), self, 0);
  g_signal_connect_object (self->server, "notify::on-server",
                           G_CALLBACK (on_server_notify_cb), self, 0);
  g_signal_connect_object (self->server, "notify::last-sync-time",
                           G_CALLBACK (on_server_notify_cb), self, 0);
  if (self->manager != NULL)
    g_signal_connect_object (self->manager, "server-replication-changed",
                             G_CALLBACK (on_server_replication_changed_cb), self, 0);
  update_job_state (self);
}

static void
ps_server_row_dispose (GObject *object)
{
  PsServerRow *self = (PsServerRow *)object;

  if (self->job != NULL)
    g_signal_handlers_disconnect_by_func (self->job, on_job_notify_cb, self);
  if (self->server != NULL)
    g_signal_handlers_disconnect_by_func (self->server, on_server_notify_cb, self);
  if (self->manager != NULL)
    g_signal_handlers_disconnect_by_func (self->manager, on_server_replication_changed_cb,
                                          self);
  g_clear_object (&self->manager);
  g_clear_object (&self->job);
  g_clear_object (&self->server);

  G_OBJECT_CLASS (ps_server_row_parent_class)->dispose (object);
}

static void
ps_server_row_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  PsServerRow *self = PS_SERVER_ROW (object);

  switch (prop_id)
    {
    case PROP_SERVER:
      g_value_set_object (value, self->server);
      break;

    case PROP_JOB:
      g_value_set_object (value, self->job);
      break;

    case PROP_MANAGER:
      g_value_set_object (value, self->manager);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_server_row_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  PsServerRow *self = PS_SERVER_ROW (object);

  switch (prop_id)
    {
    case PROP_SERVER:
      self->server = g_value_dup_object (value);
      break;

    case PROP_JOB:
      self->job = g_value_dup_object (value);
      break;

    case PROP_MANAGER:
      self->manager = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_server_row_class_init (PsServerRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = ps_server_row_constructed;
  object_class->dispose = ps_server_row_dispose;
  object_class->get_property = ps_server_row_get_property;
  object_class->set_property = ps_server_row_set_property;

  properties[PROP_SERVER] =
    g_param_spec_object ("server", NULL, NULL,
                         PS_TYPE_SERVER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  properties[PROP_JOB] =
    g_param_spec_object ("job", NULL, NULL,
                         PS_TYPE_SYNC_JOB,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /* Where the status of a server kept on the server comes from. */
  properties[PROP_MANAGER] =
    g_param_spec_object ("manager", NULL, NULL,
                         PS_TYPE_SYNC_MANAGER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/primero/Sync/ps-server-row.ui");

  gtk_widget_class_bind_template_child (widget_class, PsServerRow, state_image);
  gtk_widget_class_bind_template_child (widget_class, PsServerRow, description_label);
  gtk_widget_class_bind_template_child (widget_class, PsServerRow, continuous_badge);
  gtk_widget_class_bind_template_child (widget_class, PsServerRow, on_server_badge);
  gtk_widget_class_bind_template_child (widget_class, PsServerRow, host_label);
  gtk_widget_class_bind_template_child (widget_class, PsServerRow, status_label);
  gtk_widget_class_bind_template_child (widget_class, PsServerRow, last_sync_label);
  gtk_widget_class_bind_template_child (widget_class, PsServerRow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, PsServerRow, sync_button);
  gtk_widget_class_bind_template_child (widget_class, PsServerRow, menu_button);
}

static void
ps_server_row_init (PsServerRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}


/*
 * Public API
 */

/**
 * ps_server_row_new:
 * @server: the server shown
 * @job: its sync job
 * @manager: (nullable): the sync manager, for a server kept on the server
 *
 * Returns: (transfer floating): a new row
 */
PsServerRow *
ps_server_row_new (PsServer      *server,
                   PsSyncJob     *job,
                   PsSyncManager *manager)
{
  g_return_val_if_fail (PS_IS_SERVER (server), NULL);
  g_return_val_if_fail (PS_IS_SYNC_JOB (job), NULL);
  g_return_val_if_fail (manager == NULL || PS_IS_SYNC_MANAGER (manager), NULL);

  return g_object_new (PS_TYPE_SERVER_ROW,
                       "server", server,
                       "job", job,
                       "manager", manager,
                       NULL);
}

PsServer *
ps_server_row_get_server (PsServerRow *self)
{
  g_return_val_if_fail (PS_IS_SERVER_ROW (self), NULL);

  return self->server;
}

PsSyncJob *
ps_server_row_get_job (PsServerRow *self)
{
  g_return_val_if_fail (PS_IS_SERVER_ROW (self), NULL);

  return self->job;
}

/* ps-sync-manager.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * At most one sync job per server. The manager follows the server store:
 * a removed server's job is stopped and dropped. It turns the jobs' state
 * changes into "sync-failed" and "sync-recovered" for notifications, and
 * saves each server's last outcome: failures at once, successes at most
 * once per #PsSyncManager:save-interval, since a continuous sync is up to
 * date again after every change and each save writes and syncs two files
 * on the main loop.
 *
 * A server set as on-server has no job: its replication documents are
 * written into this instance's `_replicator` (ps-replicator-documents.c)
 * and their state polled from `_scheduler/docs` (ps-server-replication.c),
 * which gives "server-replication-failed" and "-recovered" in the same way.
 */

#define G_LOG_DOMAIN "ps-sync-manager"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-replicator-documents.h"
#include "ps-secrets.h"
#include "ps-server-access.h"
#include "ps-sync-manager.h"

struct _PsSyncManager
{
  GObject        parent_instance;

  PsServerStore *store;
  SoupSession   *session;
  PsJournal     *journal;
  GHashTable    *jobs;        /* server id → PsSyncJob */
  GHashTable    *failed;      /* server ids whose failure was announced */
  GQueue         queue;       /* Queued, waiting for a free slot */
  guint          max_jobs;

  GHashTable    *replication;          /* server id → PsServerReplicationStatus */
  GHashTable    *replication_failed;   /* server ids whose failure was announced */
  GCancellable  *cancellable;
  guint          poll_interval;        /* ms */
  guint          poll_id;
  guint          n_polls;              /* status reads in flight */
  gboolean       follows_replication;  /* started by start_continuous() */

  guint          save_interval;        /* ms */
  gint64         last_save;            /* monotonic µs; 0 before the first */
  guint          save_id;              /* the pending trailing save */
};

/* A server waiting for its turn. */
typedef struct
{
  char     *server_id;
  gboolean  once;
} Queued;

#define DEFAULT_MAX_JOBS 4
#define DEFAULT_POLL_INTERVAL 5000
#define DEFAULT_SAVE_INTERVAL 10000

G_DEFINE_FINAL_TYPE (PsSyncManager, ps_sync_manager, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MAX_JOBS,
  PROP_REPLICATION_POLL_INTERVAL,
  PROP_SAVE_INTERVAL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SYNC_FAILED,
  SYNC_RECOVERED,
  SERVER_REPLICATION_CHANGED,
  SERVER_REPLICATION_FAILED,
  SERVER_REPLICATION_RECOVERED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* A save writes every server's state, so it takes in a pending one. */
static void
save_store (PsSyncManager *self)
{
  g_autoptr(GError) error = NULL;

  g_clear_handle_id (&self->save_id, g_source_remove);
  self->last_save = g_get_monotonic_time ();
  if (!ps_server_store_save (self->store, &error))
    g_warning ("The server list could not be saved: %s", error->message);
}

static void
on_save_cb (gpointer user_data)
{
  PsSyncManager *self = user_data;

  self->save_id = 0;
  if (ps_server_store_get_dirty (self->store))
    save_store (self);
}

/* For a success: now if the last save is older than the interval, else
 * once the interval has passed, in one save for all that came meanwhile.
 * A continuous sync past its first pass changes no outcome: then the store
 * has nothing unsaved, and nothing is written.
 */
static void
save_store_soon (PsSyncManager *self)
{
  gint64 since_ms;

  if (self->save_id != 0 || !ps_server_store_get_dirty (self->store))
    return;

  since_ms = (g_get_monotonic_time () - self->last_save) / 1000;
  if (self->last_save == 0 || since_ms >= self->save_interval)
    {
      save_store (self);
      return;
    }
  self->save_id = g_timeout_add_once ((guint) (self->save_interval - since_ms),
                                      on_save_cb, self);
}

/* Nothing is left waiting when the manager or a job ends. */
static void
flush_save (PsSyncManager *self)
{
  if (self->save_id != 0 && ps_server_store_get_dirty (self->store))
    save_store (self);
  g_clear_handle_id (&self->save_id, g_source_remove);
}

static void
queued_free (Queued *queued)
{
  g_free (queued->server_id);
  g_free (queued);
}

/* A job in its first pass holds one of the max-jobs slots. */
static gboolean
job_is_busy (PsSyncJob *job)
{
  PsSyncState state = ps_sync_job_get_state (job);

  return ps_sync_job_get_running (job) && !ps_sync_job_get_following (job) &&
         (state == PS_SYNC_STATE_CONNECTING || state == PS_SYNC_STATE_SYNCING);
}

static Queued *
take_queued (PsSyncManager *self,
             const char    *server_id)
{
  for (GList *l = self->queue.head; l != NULL; l = l->next)
    {
      Queued *queued = l->data;

      if (g_str_equal (queued->server_id, server_id))
        {
          g_queue_delete_link (&self->queue, l);
          return queued;
        }
    }
  return NULL;
}

static void
start_queued (PsSyncManager *self)
{
  while (self->queue.length > 0 &&
         (self->max_jobs == 0 || ps_sync_manager_get_n_busy (self) < self->max_jobs))
    {
      Queued *queued = g_queue_pop_head (&self->queue);
      PsSyncJob *job = g_hash_table_lookup (self->jobs, queued->server_id);

      if (job != NULL && ps_sync_job_get_state (job) == PS_SYNC_STATE_QUEUED)
        ps_sync_job_start (job, queued->once);
      queued_free (queued);
    }
}

static void
on_job_state_cb (PsSyncJob     *job,
                 GParamSpec    *pspec,
                 PsSyncManager *self)
{
  const char *id = ps_server_get_id (ps_sync_job_get_server (job));
  PsSyncState state = ps_sync_job_get_state (job);

  start_queued (self);

  switch (state)
    {
    case PS_SYNC_STATE_FAILED:
    case PS_SYNC_STATE_STALLED:
      save_store (self);
      if (g_hash_table_add (self->failed, g_strdup (id)))
        g_signal_emit (self, signals[SYNC_FAILED], 0, job);
      break;

    case PS_SYNC_STATE_UP_TO_DATE:
      save_store_soon (self);
      if (g_hash_table_remove (self->failed, id))
        g_signal_emit (self, signals[SYNC_RECOVERED], 0, job);
      break;

    case PS_SYNC_STATE_IDLE:
    case PS_SYNC_STATE_CONNECTING:
    case PS_SYNC_STATE_SYNCING:
    case PS_SYNC_STATE_WAITING_FOR_NETWORK:
    case PS_SYNC_STATE_BACKING_OFF:
    case PS_SYNC_STATE_PAUSED_METERED:
    case PS_SYNC_STATE_QUEUED:
    default:
      break;
    }
}

static void
drop_missing_jobs (PsSyncManager *self)
{
  GHashTableIter iter;
  gpointer id;
  gpointer job;

  g_hash_table_iter_init (&iter, self->jobs);
  while (g_hash_table_iter_next (&iter, &id, &job))
    {
      if (ps_server_store_lookup (self->store, id) == NULL)
        {
          Queued *queued = take_queued (self, id);

          g_clear_pointer (&queued, queued_free);
          ps_sync_job_stop (job);
          g_hash_table_remove (self->failed, id);
          g_hash_table_iter_remove (&iter);
        }
    }

  g_hash_table_iter_init (&iter, self->replication);
  while (g_hash_table_iter_next (&iter, &id, NULL))
    {
      if (ps_server_store_lookup (self->store, id) == NULL)
        {
          g_hash_table_remove (self->replication_failed, id);
          g_hash_table_iter_remove (&iter);
        }
    }
}

static void
on_store_items_changed_cb (GListModel    *model,
                           guint          position,
                           guint          removed,
                           guint          added,
                           PsSyncManager *self)
{
  if (removed > 0)
    drop_missing_jobs (self);
}

static void
stop_job (gpointer data)
{
  PsSyncJob *job = data;

  g_signal_handlers_disconnect_matched (job, G_SIGNAL_MATCH_FUNC, 0, 0, NULL,
                                        on_job_state_cb, NULL);
  g_signal_handlers_disconnect_matched (job, G_SIGNAL_MATCH_FUNC, 0, 0, NULL,
                                        start_queued, NULL);
  ps_sync_job_stop (job);
  g_object_unref (job);
}

static void
ps_sync_manager_dispose (GObject *object)
{
  PsSyncManager *self = (PsSyncManager *)object;

  g_queue_clear_full (&self->queue, (GDestroyNotify) queued_free);
  g_clear_pointer (&self->jobs, g_hash_table_unref);
  if (self->store != NULL)
    flush_save (self);
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->poll_id, g_source_remove);

  G_OBJECT_CLASS (ps_sync_manager_parent_class)->dispose (object);
}

static void
ps_sync_manager_finalize (GObject *object)
{
  PsSyncManager *self = (PsSyncManager *)object;

  g_clear_object (&self->store);
  g_clear_object (&self->session);
  g_clear_object (&self->journal);
  g_clear_pointer (&self->failed, g_hash_table_unref);
  g_clear_pointer (&self->replication, g_hash_table_unref);
  g_clear_pointer (&self->replication_failed, g_hash_table_unref);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (ps_sync_manager_parent_class)->finalize (object);
}

static void
ps_sync_manager_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  PsSyncManager *self = PS_SYNC_MANAGER (object);

  switch (prop_id)
    {
    case PROP_MAX_JOBS:
      g_value_set_uint (value, self->max_jobs);
      break;
    case PROP_REPLICATION_POLL_INTERVAL:
      g_value_set_uint (value, self->poll_interval);
      break;
    case PROP_SAVE_INTERVAL:
      g_value_set_uint (value, self->save_interval);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_sync_manager_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  PsSyncManager *self = PS_SYNC_MANAGER (object);

  switch (prop_id)
    {
    case PROP_MAX_JOBS:
      ps_sync_manager_set_max_jobs (self, g_value_get_uint (value));
      break;
    case PROP_REPLICATION_POLL_INTERVAL:
      ps_sync_manager_set_replication_poll_interval (self, g_value_get_uint (value));
      break;
    case PROP_SAVE_INTERVAL:
      ps_sync_manager_set_save_interval (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_sync_manager_class_init (PsSyncManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ps_sync_manager_dispose;
  object_class->finalize = ps_sync_manager_finalize;
  object_class->get_property = ps_sync_manager_get_property;
  object_class->set_property = ps_sync_manager_set_property;

  properties[PROP_MAX_JOBS] =
    g_param_spec_uint ("max-jobs", "Max jobs",
                       "How many servers make their first pass at once; 0 for no limit",
                       0, G_MAXUINT, DEFAULT_MAX_JOBS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REPLICATION_POLL_INTERVAL] =
    g_param_spec_uint ("replication-poll-interval", "Replication poll interval",
                       "How often, in milliseconds, the state of on-server servers is read",
                       10, G_MAXUINT, DEFAULT_POLL_INTERVAL,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SAVE_INTERVAL] =
    g_param_spec_uint ("save-interval", "Save interval",
                       "How long, in milliseconds, a sync that succeeded may wait before the "
                       "server list is saved again; failures are saved at once",
                       0, G_MAXUINT, DEFAULT_SAVE_INTERVAL,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PsSyncManager::sync-failed:
   * @self: a #PsSyncManager
   * @job: the #PsSyncJob that failed or stalled
   */
  signals[SYNC_FAILED] =
    g_signal_new ("sync-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, PS_TYPE_SYNC_JOB);

  /**
   * PsSyncManager::sync-recovered:
   * @self: a #PsSyncManager
   * @job: the #PsSyncJob that is up to date again after a failure
   */
  signals[SYNC_RECOVERED] =
    g_signal_new ("sync-recovered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, PS_TYPE_SYNC_JOB);

  /**
   * PsSyncManager::server-replication-changed:
   * @self: a #PsSyncManager
   * @server: the on-server #PsServer whose status was read
   */
  signals[SERVER_REPLICATION_CHANGED] =
    g_signal_new ("server-replication-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, PS_TYPE_SERVER);

  /**
   * PsSyncManager::server-replication-failed:
   * @self: a #PsSyncManager
   * @server: the on-server #PsServer
   * @status: its #PsServerReplicationStatus, crashing or failed
   */
  signals[SERVER_REPLICATION_FAILED] =
    g_signal_new ("server-replication-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, PS_TYPE_SERVER,
                  PS_TYPE_SERVER_REPLICATION_STATUS);

  /**
   * PsSyncManager::server-replication-recovered:
   * @self: a #PsSyncManager
   * @server: the #PsServer that replicates again, or is no longer on-server
   */
  signals[SERVER_REPLICATION_RECOVERED] =
    g_signal_new ("server-replication-recovered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, PS_TYPE_SERVER);
}

static void
ps_sync_manager_init (PsSyncManager *self)
{
  self->jobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, stop_job);
  self->failed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&self->queue);
  self->max_jobs = DEFAULT_MAX_JOBS;
  self->replication = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->replication_failed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->cancellable = g_cancellable_new ();
  self->poll_interval = DEFAULT_POLL_INTERVAL;
  self->save_interval = DEFAULT_SAVE_INTERVAL;
}

/**
 * ps_sync_manager_new:
 * @store: the configured servers
 * @session: the session every job uses
 * @journal: (nullable): where jobs record what they did
 *
 * Returns: (transfer full): a new #PsSyncManager
 */
PsSyncManager *
ps_sync_manager_new (PsServerStore *store,
                     SoupSession   *session,
                     PsJournal     *journal)
{
  PsSyncManager *self;

  g_return_val_if_fail (PS_IS_SERVER_STORE (store), NULL);
  g_return_val_if_fail (SOUP_IS_SESSION (session), NULL);

  self = g_object_new (PS_TYPE_SYNC_MANAGER, NULL);
  self->store = g_object_ref (store);
  self->session = g_object_ref (session);
  self->journal = journal != NULL ? g_object_ref (journal) : NULL;
  g_signal_connect_object (store, "items-changed", G_CALLBACK (on_store_items_changed_cb),
                           self, 0);

  return self;
}

/**
 * ps_sync_manager_get_job:
 * @self: a #PsSyncManager
 * @server_id: the id of a server of the store
 *
 * Returns: (transfer none) (nullable): the server's job, created on first
 *   use; %NULL for an unknown server
 */
PsSyncJob *
ps_sync_manager_get_job (PsSyncManager *self,
                         const char    *server_id)
{
  PsSyncJob *job;
  PsServer *server;

  g_return_val_if_fail (PS_IS_SYNC_MANAGER (self), NULL);
  g_return_val_if_fail (server_id != NULL, NULL);

  job = g_hash_table_lookup (self->jobs, server_id);
  if (job != NULL)
    return job;

  server = ps_server_store_lookup (self->store, server_id);
  if (server == NULL)
    return NULL;

  job = ps_sync_job_new (server, ps_server_store_get_local (self->store), self->session,
                         self->journal);
  g_signal_connect (job, "notify::state", G_CALLBACK (on_job_state_cb), self);
  g_signal_connect_swapped (job, "notify::following", G_CALLBACK (start_queued), self);
  g_hash_table_insert (self->jobs, g_strdup (ps_server_get_id (server)), job);

  return job;
}

/* On-server servers: their replication documents and status. */

typedef struct
{
  PsServer        *server;
  PsServer        *local;
  PsServerAccess  *local_access;
  PsServerAccess  *server_access;
  GPtrArray       *servers;   /* when reading: whose status, @server first */
  gboolean         apply;     /* write or remove the documents, else read the status */
  gboolean   wanted;
  char     **written;
  char     **removed;
} ReplicationData;

static void
replication_data_free (ReplicationData *data)
{
  g_clear_object (&data->server);
  g_clear_object (&data->local);
  g_clear_object (&data->local_access);
  g_clear_object (&data->server_access);
  g_clear_pointer (&data->servers, g_ptr_array_unref);
  g_strfreev (data->written);
  g_strfreev (data->removed);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReplicationData, replication_data_free)

static void
record_status (PsSyncManager             *self,
               PsServer                  *server,
               PsServerReplicationStatus *status)
{
  const char *id = ps_server_get_id (server);
  PsServerReplicationState state = PS_SERVER_REPLICATION_STATE_UNKNOWN;

  if (status != NULL)
    {
      state = ps_server_replication_status_get_state (status);
      g_hash_table_replace (self->replication, g_strdup (id), g_object_ref (status));
    }
  else
    {
      g_hash_table_remove (self->replication, id);
    }

  g_signal_emit (self, signals[SERVER_REPLICATION_CHANGED], 0, server);

  switch (state)
    {
    case PS_SERVER_REPLICATION_STATE_CRASHING:
    case PS_SERVER_REPLICATION_STATE_FAILED:
      if (g_hash_table_add (self->replication_failed, g_strdup (id)))
        g_signal_emit (self, signals[SERVER_REPLICATION_FAILED], 0, server, status);
      break;

    case PS_SERVER_REPLICATION_STATE_RUNNING:
    case PS_SERVER_REPLICATION_STATE_PENDING:
      if (g_hash_table_remove (self->replication_failed, id))
        g_signal_emit (self, signals[SERVER_REPLICATION_RECOVERED], 0, server);
      break;

    case PS_SERVER_REPLICATION_STATE_UNKNOWN:
    default:
      /* No status at all: the server went back to the desktop. */
      if (status == NULL && g_hash_table_remove (self->replication_failed, id))
        g_signal_emit (self, signals[SERVER_REPLICATION_RECOVERED], 0, server);
      break;
    }
}

static gboolean
is_wanted_on_server (PsSyncManager *self,
                     PsServer      *server)
{
  return ps_server_get_on_server (server) &&
         ps_server_store_lookup (self->store, ps_server_get_id (server)) != NULL;
}

static void poll_all (PsSyncManager *self);
static void start_polling (PsSyncManager *self);

static void
on_documents_applied_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsSyncManager *self = g_task_get_source_object (task);
  ReplicationData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  /* The passwords are not needed any more, whatever happened. */
  g_clear_object (&data->local_access);
  g_clear_object (&data->server_access);

  if (!ps_replicator_documents_apply_finish (result, &data->written, &data->removed, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* A manager that follows replications (the application's, not a
   * command's) follows an on-server server from its first apply on, and
   * shows the new documents' state at once.
   */
  if (data->wanted && self->follows_replication && self->poll_id == 0)
    start_polling (self);
  else if (data->wanted && self->poll_id != 0)
    poll_all (self);
  else if (!g_cancellable_is_cancelled (self->cancellable))
    record_status (self, data->server, NULL);

  g_task_return_boolean (task, TRUE);
}

static void
on_status_read_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsSyncManager *self = g_task_get_source_object (task);
  ReplicationData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) statuses = NULL;

  statuses = ps_server_replication_status_read_all_finish (result, &error);
  if (statuses == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (statuses == NULL)
    {
      statuses = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < data->servers->len; i++)
        g_ptr_array_add (statuses, ps_server_replication_status_new_with_error (
                                     PS_SERVER_REPLICATION_STATE_UNKNOWN, error->message));
    }

  /* A server switched back to the desktop while the status was being read
   * is not followed any more.
   */
  for (guint i = 0; i < data->servers->len; i++)
    if (is_wanted_on_server (self, data->servers->pdata[i]))
      record_status (self, data->servers->pdata[i], statuses->pdata[i]);

  g_task_return_pointer (task, g_steal_pointer (&statuses), (GDestroyNotify) g_ptr_array_unref);
}

static void
run_with_passwords (GTask *owned)
{
  g_autoptr(GTask) task = owned;
  PsSyncManager *self = g_task_get_source_object (task);
  ReplicationData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(PsCouchDatabase) replicator = NULL;

  if (!data->apply)
    {
      replicator = ps_server_access_open_database (data->local_access, "_replicator", &error);
      g_clear_object (&data->local_access);
      if (replicator == NULL)
        g_task_return_error (task, g_steal_pointer (&error));
      else
        ps_server_replication_status_read_all_async (replicator, data->servers, cancellable,
                                                     on_status_read_cb,
                                                     g_steal_pointer (&task));
      return;
    }

  /* The desktop must not replicate alongside CouchDB. */
  if (data->wanted)
    ps_sync_manager_stop (self, ps_server_get_id (data->server));

  /* Removing documents needs no remote password. */
  if (data->server_access == NULL)
    data->server_access = ps_server_access_new (data->server, self->session, NULL);
  ps_replicator_documents_apply_async (data->local_access, data->server_access, data->wanted,
                                       cancellable, on_documents_applied_cb,
                                       g_steal_pointer (&task));
}

static void
on_server_access_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ReplicationData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  data->server_access = ps_server_access_new_finish (result, &error);
  if (data->server_access == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (ps_server_access_lacks_password (data->server_access))
    {
      g_task_return_new_error (task, PS_SECRETS_ERROR, PS_SECRETS_ERROR_FAILED,
                               _("The password for “%s” is not in the keyring. "
                                 "Enter it in the server’s settings."),
                               ps_server_get_description (data->server));
      return;
    }

  run_with_passwords (g_steal_pointer (&task));
}

static void
on_local_access_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsSyncManager *self = g_task_get_source_object (task);
  ReplicationData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  data->local_access = ps_server_access_new_finish (result, &error);
  if (data->local_access == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* A CouchDB with no administrator needs no password of its own. */
  if (ps_server_access_lacks_password (data->local_access))
    {
      g_task_return_new_error (task, PS_SECRETS_ERROR, PS_SECRETS_ERROR_FAILED,
                               _("The password of this instance’s CouchDB is not in the "
                                 "keyring. Set this instance up first."));
      return;
    }

  if (data->apply && data->wanted)
    {
      GCancellable *cancellable = g_task_get_cancellable (task);

      ps_server_access_new_async (data->server, self->session, cancellable,
                                  on_server_access_cb, g_steal_pointer (&task));
      return;
    }

  run_with_passwords (g_steal_pointer (&task));
}

static GTask *
new_replication_task (PsSyncManager       *self,
                      PsServer            *server,
                      gboolean             apply,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data,
                      gpointer             source_tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  ReplicationData *data = g_new0 (ReplicationData, 1);

  g_task_set_source_tag (task, source_tag);
  data->server = g_object_ref (server);
  data->local = g_object_ref (ps_server_store_get_local (self->store));
  data->apply = apply;
  data->wanted = is_wanted_on_server (self, server);
  g_task_set_task_data (task, data, (GDestroyNotify) replication_data_free);

  return task;
}

static void
start_replication_task (GTask *task)
{
  PsSyncManager *self = g_task_get_source_object (task);
  ReplicationData *data = g_task_get_task_data (task);

  ps_server_access_new_async (data->local, self->session, g_task_get_cancellable (task),
                              on_local_access_cb, task);
}

/**
 * ps_sync_manager_apply_server_replication_async:
 * @self: a #PsSyncManager
 * @server: a server, after its settings were saved (or it was removed)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the documents match the settings
 * @user_data: data for @callback
 *
 * Writes @server's documents into this instance's `_replicator` when it is
 * on-server, and removes them when it is not, or no longer in the store.
 * Only changed documents are written. An on-server server's desktop job
 * is stopped.
 */
void
ps_sync_manager_apply_server_replication_async (PsSyncManager       *self,
                                                PsServer            *server,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data)
{
  g_return_if_fail (PS_IS_SYNC_MANAGER (self));
  g_return_if_fail (PS_IS_SERVER (server));

  start_replication_task (new_replication_task (self, server, TRUE, cancellable, callback,
                                                user_data,
                                                ps_sync_manager_apply_server_replication_async));
}

gboolean
ps_sync_manager_apply_server_replication_finish (PsSyncManager  *self,
                                                 GAsyncResult   *result,
                                                 GError        **error)
{
  return ps_sync_manager_apply_server_replication_finish_changes (self, result, NULL, NULL,
                                                                  error);
}

/**
 * ps_sync_manager_apply_server_replication_finish_changes:
 * @self: a #PsSyncManager
 * @result: the #GAsyncResult
 * @written: (out) (optional) (transfer full): ids of the documents written
 * @removed: (out) (optional) (transfer full): ids of the documents removed
 * @error: return location for a #GError
 *
 * As ps_sync_manager_apply_server_replication_finish(), telling what changed.
 */
gboolean
ps_sync_manager_apply_server_replication_finish_changes (PsSyncManager   *self,
                                                         GAsyncResult    *result,
                                                         char          ***written,
                                                         char          ***removed,
                                                         GError         **error)
{
  ReplicationData *data;

  g_return_val_if_fail (PS_IS_SYNC_MANAGER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        ps_sync_manager_apply_server_replication_async, FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;

  data = g_task_get_task_data (G_TASK (result));
  if (written != NULL)
    *written = g_steal_pointer (&data->written);
  if (removed != NULL)
    *removed = g_steal_pointer (&data->removed);
  return TRUE;
}

/* Reads the status of the task's servers: one keyring look-up and one
 * reading of _scheduler/docs for all of them.
 */
static void
read_statuses (GTask *task)
{
  ReplicationData *data = g_task_get_task_data (task);

  if (data->servers == NULL)
    {
      data->servers = g_ptr_array_new_with_free_func (g_object_unref);
      g_ptr_array_add (data->servers, g_object_ref (data->server));
    }
  start_replication_task (task);
}

/**
 * ps_sync_manager_read_server_replication_async:
 * @self: a #PsSyncManager
 * @server: an on-server server
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the status
 * @user_data: data for @callback
 *
 * Reads @server's status now, as the poll does, and emits the same signals.
 */
void
ps_sync_manager_read_server_replication_async (PsSyncManager       *self,
                                               PsServer            *server,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (PS_IS_SYNC_MANAGER (self));
  g_return_if_fail (PS_IS_SERVER (server));

  task = new_replication_task (self, server, FALSE, cancellable, callback, user_data,
                               ps_sync_manager_read_server_replication_async);
  if (!ps_server_get_on_server (server))
    {
      g_task_return_pointer (task, NULL, NULL);
      return;
    }
  read_statuses (g_steal_pointer (&task));
}

/**
 * ps_sync_manager_read_server_replication_finish:
 * @self: a #PsSyncManager
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * A status that could not be read is %PS_SERVER_REPLICATION_STATE_UNKNOWN
 * with the reason; an error is only for a missing password or a
 * cancellation.
 *
 * Returns: (transfer full) (nullable): the status; %NULL for a server that
 *   is not on-server
 */
PsServerReplicationStatus *
ps_sync_manager_read_server_replication_finish (PsSyncManager  *self,
                                                GAsyncResult   *result,
                                                GError        **error)
{
  g_autoptr(GPtrArray) statuses = NULL;

  g_return_val_if_fail (PS_IS_SYNC_MANAGER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        ps_sync_manager_read_server_replication_async, NULL);

  statuses = g_task_propagate_pointer (G_TASK (result), error);
  if (statuses == NULL || statuses->len == 0)
    return NULL;
  return g_object_ref (statuses->pdata[0]);
}

/**
 * ps_sync_manager_get_server_replication:
 * @self: a #PsSyncManager
 * @server: a server
 *
 * Returns: (transfer none) (nullable): the last status read for @server
 */
PsServerReplicationStatus *
ps_sync_manager_get_server_replication (PsSyncManager *self,
                                        PsServer      *server)
{
  g_return_val_if_fail (PS_IS_SYNC_MANAGER (self), NULL);
  g_return_val_if_fail (PS_IS_SERVER (server), NULL);

  return g_hash_table_lookup (self->replication, ps_server_get_id (server));
}

static void
on_polled_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  PsSyncManager *self = PS_SYNC_MANAGER (object);
  ReplicationData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(GPtrArray) statuses = NULL;
  g_autoptr(GError) error = NULL;

  self->n_polls--;
  statuses = g_task_propagate_pointer (G_TASK (result), &error);
  if (error == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* This instance could not be reached (a password missing from the
   * keyring, say): shown for each server, not announced.
   */
  for (guint i = 0; i < data->servers->len; i++)
    if (is_wanted_on_server (self, data->servers->pdata[i]))
      {
        g_autoptr(PsServerReplicationStatus) unknown =
          ps_server_replication_status_new_with_error (PS_SERVER_REPLICATION_STATE_UNKNOWN,
                                                       error->message);

        record_status (self, data->servers->pdata[i], unknown);
      }
}

static void
poll_all (PsSyncManager *self)
{
  GListModel *store = G_LIST_MODEL (self->store);
  g_autoptr(GPtrArray) servers = g_ptr_array_new_with_free_func (g_object_unref);
  ReplicationData *data;
  GTask *task;

  /* A slow instance is not asked again before it answered. */
  if (self->n_polls > 0)
    return;

  for (guint i = 0; i < g_list_model_get_n_items (store); i++)
    {
      g_autoptr(PsServer) server = g_list_model_get_item (store, i);

      if (ps_server_get_on_server (server))
        g_ptr_array_add (servers, g_steal_pointer (&server));
    }
  if (servers->len == 0)
    return;

  self->n_polls++;
  task = new_replication_task (self, servers->pdata[0], FALSE, self->cancellable,
                               on_polled_cb, NULL, ps_sync_manager_read_server_replication_async);
  data = g_task_get_task_data (task);
  data->servers = g_steal_pointer (&servers);
  read_statuses (task);
}

static gboolean
on_poll_cb (gpointer user_data)
{
  poll_all (PS_SYNC_MANAGER (user_data));
  return G_SOURCE_CONTINUE;
}

static void
start_polling (PsSyncManager *self)
{
  if (self->poll_id != 0)
    return;

  self->poll_id = g_timeout_add (self->poll_interval, on_poll_cb, self);
  poll_all (self);
}

guint
ps_sync_manager_get_replication_poll_interval (PsSyncManager *self)
{
  g_return_val_if_fail (PS_IS_SYNC_MANAGER (self), 0);
  return self->poll_interval;
}

/**
 * ps_sync_manager_set_replication_poll_interval:
 * @self: a #PsSyncManager
 * @interval_ms: how often, in milliseconds, on-server servers' status is read
 */
void
ps_sync_manager_set_replication_poll_interval (PsSyncManager *self,
                                               guint          interval_ms)
{
  g_return_if_fail (PS_IS_SYNC_MANAGER (self));
  g_return_if_fail (interval_ms >= 10);

  if (self->poll_interval == interval_ms)
    return;

  self->poll_interval = interval_ms;
  if (self->poll_id != 0)
    {
      g_clear_handle_id (&self->poll_id, g_source_remove);
      self->poll_id = g_timeout_add (self->poll_interval, on_poll_cb, self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REPLICATION_POLL_INTERVAL]);
}

guint
ps_sync_manager_get_save_interval (PsSyncManager *self)
{
  g_return_val_if_fail (PS_IS_SYNC_MANAGER (self), 0);
  return self->save_interval;
}

/**
 * ps_sync_manager_set_save_interval:
 * @self: a #PsSyncManager
 * @interval_ms: how long, in milliseconds, a success may wait to be saved
 *
 * A job that becomes up to date saves the server list at once when the
 * last save is older than @interval_ms, else once @interval_ms has passed
 * since it; 0 saves each time. A save already waiting keeps its time.
 */
void
ps_sync_manager_set_save_interval (PsSyncManager *self,
                                   guint          interval_ms)
{
  g_return_if_fail (PS_IS_SYNC_MANAGER (self));

  if (self->save_interval == interval_ms)
    return;

  self->save_interval = interval_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAVE_INTERVAL]);
}

static void
on_sync_applied_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  PsSyncManager *self = PS_SYNC_MANAGER (object);
  ReplicationData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (ps_sync_manager_apply_server_replication_finish (self, result, &error))
    return;

  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autoptr(PsServerReplicationStatus) status = NULL;

      /* Sync was asked for and cannot happen: as loud as a failed sync. */
      status = ps_server_replication_status_new_with_error (PS_SERVER_REPLICATION_STATE_FAILED,
                                                            error->message);
      record_status (self, data->server, status);
    }
}

/* Sync and Sync All on an on-server server: CouchDB syncs, if its
 * documents are in place.
 */
static void
apply_for_sync (PsSyncManager *self,
                PsServer      *server)
{
  ps_sync_manager_apply_server_replication_async (self, server, self->cancellable,
                                                  on_sync_applied_cb, NULL);
}

static void
sync_server (PsSyncManager *self,
             const char    *server_id,
             gboolean       once)
{
  PsServer *server = ps_server_store_lookup (self->store, server_id);
  PsSyncJob *job;
  Queued *queued;

  if (server != NULL && ps_server_get_on_server (server))
    {
      apply_for_sync (self, server);
      return;
    }

  job = ps_sync_manager_get_job (self, server_id);
  if (job == NULL || ps_sync_job_get_running (job) ||
      ps_sync_job_get_state (job) == PS_SYNC_STATE_QUEUED)
    return;

  if (self->max_jobs == 0 || ps_sync_manager_get_n_busy (self) < self->max_jobs)
    {
      ps_sync_job_start (job, once);
      return;
    }

  queued = g_new0 (Queued, 1);
  queued->server_id = g_strdup (server_id);
  queued->once = once;
  g_queue_push_tail (&self->queue, queued);
  ps_sync_job_queue (job);
}

/**
 * ps_sync_manager_sync:
 * @self: a #PsSyncManager
 * @server_id: a server id
 *
 * Syncs the server now, or as soon as a slot is free: once, or
 * continuously when it is set so.
 */
void
ps_sync_manager_sync (PsSyncManager *self,
                      const char    *server_id)
{
  g_return_if_fail (PS_IS_SYNC_MANAGER (self));

  sync_server (self, server_id, FALSE);
}

/**
 * ps_sync_manager_sync_once:
 * @self: a #PsSyncManager
 * @server_id: a server id
 *
 * Syncs the server once, even when it is set as continuous, now or as
 * soon as a slot is free.
 */
void
ps_sync_manager_sync_once (PsSyncManager *self,
                           const char    *server_id)
{
  g_return_if_fail (PS_IS_SYNC_MANAGER (self));

  sync_server (self, server_id, TRUE);
}

void
ps_sync_manager_stop (PsSyncManager *self,
                      const char    *server_id)
{
  PsSyncJob *job;
  Queued *queued;

  g_return_if_fail (PS_IS_SYNC_MANAGER (self));

  queued = take_queued (self, server_id);
  g_clear_pointer (&queued, queued_free);
  job = g_hash_table_lookup (self->jobs, server_id);
  if (job != NULL)
    ps_sync_job_stop (job);
  /* The window stops every job as it quits. */
  flush_save (self);
}

guint
ps_sync_manager_get_max_jobs (PsSyncManager *self)
{
  g_return_val_if_fail (PS_IS_SYNC_MANAGER (self), 0);
  return self->max_jobs;
}

/**
 * ps_sync_manager_set_max_jobs:
 * @self: a #PsSyncManager
 * @max_jobs: how many servers make their first pass at once; 0 for no limit
 */
void
ps_sync_manager_set_max_jobs (PsSyncManager *self,
                              guint          max_jobs)
{
  g_return_if_fail (PS_IS_SYNC_MANAGER (self));

  if (self->max_jobs == max_jobs)
    return;

  self->max_jobs = max_jobs;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_JOBS]);
  start_queued (self);
}

/**
 * ps_sync_manager_get_n_busy:
 * @self: a #PsSyncManager
 *
 * Returns: how many servers are in their first pass, connecting or syncing
 */
guint
ps_sync_manager_get_n_busy (PsSyncManager *self)
{
  GHashTableIter iter;
  gpointer job;
  guint n = 0;

  g_return_val_if_fail (PS_IS_SYNC_MANAGER (self), 0);

  g_hash_table_iter_init (&iter, self->jobs);
  while (g_hash_table_iter_next (&iter, NULL, &job))
    n += job_is_busy (job);

  return n;
}

void
ps_sync_manager_sync_all (PsSyncManager *self)
{
  GListModel *servers = G_LIST_MODEL (self->store);

  g_return_if_fail (PS_IS_SYNC_MANAGER (self));

  for (guint i = 0; i < g_list_model_get_n_items (servers); i++)
    {
      g_autoptr(PsServer) server = g_list_model_get_item (servers, i);

      ps_sync_manager_sync (self, ps_server_get_id (server));
    }
}

/**
 * ps_sync_manager_start_continuous:
 * @self: a #PsSyncManager
 *
 * Starts every server set as continuous; called when the application starts.
 */
void
ps_sync_manager_start_continuous (PsSyncManager *self)
{
  GListModel *servers = G_LIST_MODEL (self->store);

  g_return_if_fail (PS_IS_SYNC_MANAGER (self));

  self->follows_replication = TRUE;
  for (guint i = 0; i < g_list_model_get_n_items (servers); i++)
    {
      g_autoptr(PsServer) server = g_list_model_get_item (servers, i);

      if (ps_server_get_on_server (server))
        start_polling (self);
      else if (ps_server_get_continuous (server))
        ps_sync_manager_sync (self, ps_server_get_id (server));
    }
}

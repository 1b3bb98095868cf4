/* ps-sync-manager.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * At most one sync job per server. The manager follows the server store:
 * a removed server's job is stopped and dropped. It turns the jobs' state
 * changes into "sync-failed" and "sync-recovered" for notifications, and
 * saves each server's last outcome.
 */

#define G_LOG_DOMAIN "ps-sync-manager"

#include "config.h"

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
};

/* A server waiting for its turn. */
typedef struct
{
  char     *server_id;
  gboolean  once;
} Queued;

#define DEFAULT_MAX_JOBS 4

G_DEFINE_FINAL_TYPE (PsSyncManager, ps_sync_manager, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MAX_JOBS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SYNC_FAILED,
  SYNC_RECOVERED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
save_store (PsSyncManager *self)
{
  g_autoptr(GError) error = NULL;

  if (!ps_server_store_save (self->store, &error))
    g_warning ("The server list could not be saved: %s", error->message);
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
      save_store (self);
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
}

static void
ps_sync_manager_init (PsSyncManager *self)
{
  self->jobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, stop_job);
  self->failed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&self->queue);
  self->max_jobs = DEFAULT_MAX_JOBS;
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

static void
sync_server (PsSyncManager *self,
             const char    *server_id,
             gboolean       once)
{
  PsSyncJob *job = ps_sync_manager_get_job (self, server_id);
  Queued *queued;

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

  for (guint i = 0; i < g_list_model_get_n_items (servers); i++)
    {
      g_autoptr(PsServer) server = g_list_model_get_item (servers, i);

      if (ps_server_get_continuous (server))
        ps_sync_manager_sync (self, ps_server_get_id (server));
    }
}

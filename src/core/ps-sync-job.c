/* ps-sync-job.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One server's sync. A pass goes through every record database: pull
 * (remote → this instance), resolve the conflicts among what was pulled,
 * push (this instance → remote), so that resolutions reach both ends. A
 * continuous job then keeps pull and push replications open and resolves
 * conflicts as they arrive. Transient failures back off (1 s up to 5 min,
 * with jitter) and wait for the network when there is none.
 */

#define G_LOG_DOMAIN "ps-sync-job"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ps-bandwidth-limiter.h"
#include "ps-replication.h"
#include "ps-resolver.h"
#include "ps-secrets.h"
#include "ps-sync-database.h"
#include "ps-sync-job.h"
#include "ps-url.h"

#define FIRST_BACKOFF_MS        1000
#define MAX_BACKOFF_MS          (5 * 60 * 1000)
#define ONE_SHOT_ATTEMPTS       3
#define STALL_CHECK_SECONDS     5
#define DEFAULT_STALL_SECONDS   120

typedef enum
{
  STEP_PULL,
  STEP_RESOLVE,
  STEP_PUSH,
  N_STEPS
} Step;

struct _PsSyncJob
{
  GObject         parent_instance;

  PsServer       *server;
  PsServer       *local;
  SoupSession    *session;
  PsJournal      *journal;

  PsSyncState     state;
  double          progress;
  char           *error_message;
  gint64          next_attempt;
  gboolean        running;
  gboolean        once;
  guint           attempts;
  guint           backoff_ms;
  guint           stall_seconds;
  gint64          failing_since;   /* first failure of a pass not yet recovered */

  GCancellable   *cancellable;
  char           *remote_password;
  char           *local_password;
  GListStore     *databases;
  guint           db_index;
  Step            step;
  gboolean        attachments_pass; /* deferring: the step's second replication */
  GPtrArray      *written_ids;     /* pulled in the current database */
  GPtrArray      *continuous;      /* ContinuousLink */
  guint           retry_source;
  guint           stall_source;
  GNetworkMonitor *monitor;
  gulong          network_handler;
  gulong          metered_handler;
  PsBandwidthLimiter *upload_limiter;    /* shared by the remote's databases */
  PsBandwidthLimiter *download_limiter;
};

typedef struct
{
  PsSyncJob      *job;             /* not a reference: the job owns the link */
  PsSyncDatabase *database;
  PsReplication  *replication;
  PsResolver     *resolver;
  GPtrArray      *pending_ids;     /* pulled, not yet resolved */
  gboolean        resolving;
  gboolean        is_pull;
  guint64         last_count;
  gint64          last_progress_time;
} ContinuousLink;

G_DEFINE_FINAL_TYPE (PsSyncJob, ps_sync_job, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (PsSyncState, ps_sync_state,
  G_DEFINE_ENUM_VALUE (PS_SYNC_STATE_IDLE, "idle"),
  G_DEFINE_ENUM_VALUE (PS_SYNC_STATE_CONNECTING, "connecting"),
  G_DEFINE_ENUM_VALUE (PS_SYNC_STATE_SYNCING, "syncing"),
  G_DEFINE_ENUM_VALUE (PS_SYNC_STATE_UP_TO_DATE, "up-to-date"),
  G_DEFINE_ENUM_VALUE (PS_SYNC_STATE_WAITING_FOR_NETWORK, "waiting-for-network"),
  G_DEFINE_ENUM_VALUE (PS_SYNC_STATE_BACKING_OFF, "backing-off"),
  G_DEFINE_ENUM_VALUE (PS_SYNC_STATE_STALLED, "stalled"),
  G_DEFINE_ENUM_VALUE (PS_SYNC_STATE_PAUSED_METERED, "paused-metered"),
  G_DEFINE_ENUM_VALUE (PS_SYNC_STATE_FAILED, "failed"))

enum {
  PROP_0,
  PROP_SERVER,
  PROP_STATE,
  PROP_PROGRESS,
  PROP_ERROR_MESSAGE,
  PROP_NEXT_ATTEMPT,
  PROP_RUNNING,
  N_PROPS
};

enum {
  FINISHED,
  RESOLVED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void begin_pass    (PsSyncJob *self);
static void on_network_changed_cb (GNetworkMonitor *monitor,
                                   gboolean         available,
                                   PsSyncJob       *self);
static void on_metered_changed_cb (GNetworkMonitor *monitor,
                                   GParamSpec      *pspec,
                                   PsSyncJob       *self);
static void on_server_changed_cb  (PsServer        *server,
                                   GParamSpec      *pspec,
                                   PsSyncJob       *self);
static void on_attachment_limit_changed_cb (PsServer   *server,
                                            GParamSpec *pspec,
                                            PsSyncJob  *self);
static void run_step      (PsSyncJob *self);

static void
continuous_link_clear (ContinuousLink *link)
{
  g_clear_object (&link->replication);
  g_clear_object (&link->resolver);
  g_clear_object (&link->database);
  g_clear_pointer (&link->pending_ids, g_ptr_array_unref);
}

static void
continuous_link_release (ContinuousLink *link)
{
  g_rc_box_release_full (link, (GDestroyNotify) continuous_link_clear);
}

/* A resolution in flight keeps its link alive; a link the job dropped is
 * detached (job = NULL) and its late answers are ignored.
 */
static void
continuous_link_detach (ContinuousLink *link)
{
  if (link->replication != NULL)
    g_signal_handlers_disconnect_by_data (link->replication, link);
  link->job = NULL;
  continuous_link_release (link);
}

static void
set_state (PsSyncJob   *self,
           PsSyncState  state)
{
  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
set_progress (PsSyncJob *self,
              double     progress)
{
  if (G_APPROX_VALUE (self->progress, progress, 0.001))
    return;

  self->progress = progress;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
}

static void
set_error_message (PsSyncJob  *self,
                   const char *message)
{
  if (g_strcmp0 (self->error_message, message) == 0)
    return;

  g_free (self->error_message);
  self->error_message = g_strdup (message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR_MESSAGE]);
}

static void
set_running (PsSyncJob *self,
             gboolean   running)
{
  if (self->running == running)
    return;

  self->running = running;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

static void
set_next_attempt (PsSyncJob *self,
                  gint64     when)
{
  if (self->next_attempt == when)
    return;

  self->next_attempt = when;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NEXT_ATTEMPT]);
}

static void
journal_entry (PsSyncJob  *self,
               const char *kind,
               JsonObject *entry)
{
  g_autoptr(GError) error = NULL;

  if (self->journal == NULL)
    return;

  json_object_set_string_member (entry, "kind", kind);
  json_object_set_string_member (entry, "server", ps_server_get_id (self->server));
  if (!ps_journal_append (self->journal, entry, &error))
    g_warning ("The journal could not be written: %s", error->message);
}

static void
stop_continuous (PsSyncJob *self)
{
  g_ptr_array_set_size (self->continuous, 0);
}

static void
drop_run (PsSyncJob *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->retry_source, g_source_remove);
  stop_continuous (self);
  g_ptr_array_set_size (self->written_ids, 0);
}

static void
ps_sync_job_dispose (GObject *object)
{
  PsSyncJob *self = (PsSyncJob *)object;

  drop_run (self);
  g_clear_handle_id (&self->stall_source, g_source_remove);
  if (self->monitor != NULL)
    {
      g_clear_signal_handler (&self->network_handler, self->monitor);
      g_clear_signal_handler (&self->metered_handler, self->monitor);
    }
  g_clear_object (&self->monitor);

  G_OBJECT_CLASS (ps_sync_job_parent_class)->dispose (object);
}

static void
ps_sync_job_finalize (GObject *object)
{
  PsSyncJob *self = (PsSyncJob *)object;

  g_clear_object (&self->server);
  g_clear_object (&self->local);
  g_clear_object (&self->session);
  g_clear_object (&self->journal);
  g_clear_object (&self->databases);
  g_clear_object (&self->upload_limiter);
  g_clear_object (&self->download_limiter);
  g_clear_pointer (&self->error_message, g_free);
  g_clear_pointer (&self->written_ids, g_ptr_array_unref);
  g_clear_pointer (&self->continuous, g_ptr_array_unref);
  ps_secrets_wipe (&self->remote_password);
  ps_secrets_wipe (&self->local_password);

  G_OBJECT_CLASS (ps_sync_job_parent_class)->finalize (object);
}

static void
ps_sync_job_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  PsSyncJob *self = PS_SYNC_JOB (object);

  switch (prop_id)
    {
    case PROP_SERVER:
      g_value_set_object (value, self->server);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, self->progress);
      break;
    case PROP_ERROR_MESSAGE:
      g_value_set_string (value, self->error_message);
      break;
    case PROP_NEXT_ATTEMPT:
      g_value_set_int64 (value, self->next_attempt);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_sync_job_class_init (PsSyncJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ps_sync_job_dispose;
  object_class->finalize = ps_sync_job_finalize;
  object_class->get_property = ps_sync_job_get_property;

  properties[PROP_SERVER] =
    g_param_spec_object ("server", "Server", NULL, PS_TYPE_SERVER,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", "State", NULL, PS_TYPE_SYNC_STATE, PS_SYNC_STATE_IDLE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROGRESS] =
    g_param_spec_double ("progress", "Progress", "From 0 to 1 while syncing", 0, 1, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ERROR_MESSAGE] =
    g_param_spec_string ("error-message", "Error message", "The last failure, in plain words",
                         NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_NEXT_ATTEMPT] =
    g_param_spec_int64 ("next-attempt", "Next attempt",
                        "When a backing-off job tries again (monotonic µs), or 0",
                        0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", "Running", NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PsSyncJob::finished:
   * @self: a #PsSyncJob
   * @success: whether the one-shot sync completed
   *
   * Emitted when a one-shot sync ends, and when any sync fails for good.
   */
  signals[FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);

  /**
   * PsSyncJob::resolved:
   * @self: a #PsSyncJob
   * @report: the resolution report of one record
   */
  signals[RESOLVED] =
    g_signal_new ("resolved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, JSON_TYPE_OBJECT);
}

static void
ps_sync_job_init (PsSyncJob *self)
{
  const char *stall = g_getenv ("PS_SYNC_STALL_SECONDS");

  self->databases = g_list_store_new (PS_TYPE_SYNC_DATABASE);
  self->monitor = g_object_ref (g_network_monitor_get_default ());
  self->upload_limiter = ps_bandwidth_limiter_new (0);
  self->download_limiter = ps_bandwidth_limiter_new (0);
  self->written_ids = g_ptr_array_new_with_free_func (g_free);
  self->continuous = g_ptr_array_new_with_free_func ((GDestroyNotify) continuous_link_detach);
  self->stall_seconds = stall != NULL ? (guint) g_ascii_strtoull (stall, NULL, 10) : 0;
  if (self->stall_seconds == 0)
    self->stall_seconds = DEFAULT_STALL_SECONDS;
}

/**
 * ps_sync_job_new:
 * @server: the remote server
 * @local: this instance
 * @session: the session requests go through
 * @journal: (nullable): where syncs, failures and resolutions are recorded
 *
 * Returns: (transfer full): an idle job
 */
PsSyncJob *
ps_sync_job_new (PsServer    *server,
                 PsServer    *local,
                 SoupSession *session,
                 PsJournal   *journal)
{
  PsSyncJob *self;

  g_return_val_if_fail (PS_IS_SERVER (server), NULL);
  g_return_val_if_fail (PS_IS_SERVER (local), NULL);
  g_return_val_if_fail (SOUP_IS_SESSION (session), NULL);

  self = g_object_new (PS_TYPE_SYNC_JOB, NULL);
  self->server = g_object_ref (server);
  self->local = g_object_ref (local);
  self->session = g_object_ref (session);
  self->journal = journal != NULL ? g_object_ref (journal) : NULL;
  ps_bandwidth_limiter_set_rate (self->upload_limiter, ps_server_get_bandwidth_limit (server));
  ps_bandwidth_limiter_set_rate (self->download_limiter, ps_server_get_bandwidth_limit (server));
  g_signal_connect_object (server, "notify::bandwidth-limit",
                           G_CALLBACK (on_server_changed_cb), self, 0);
  g_signal_connect_object (server, "notify::allow-metered",
                           G_CALLBACK (on_server_changed_cb), self, 0);
  g_signal_connect_object (server, "notify::max-attachment-size",
                           G_CALLBACK (on_attachment_limit_changed_cb), self, 0);

  return self;
}

PsServer *
ps_sync_job_get_server (PsSyncJob *self)
{
  g_return_val_if_fail (PS_IS_SYNC_JOB (self), NULL);
  return self->server;
}

PsSyncState
ps_sync_job_get_state (PsSyncJob *self)
{
  g_return_val_if_fail (PS_IS_SYNC_JOB (self), PS_SYNC_STATE_IDLE);
  return self->state;
}

double
ps_sync_job_get_progress (PsSyncJob *self)
{
  g_return_val_if_fail (PS_IS_SYNC_JOB (self), 0);
  return self->progress;
}

/**
 * ps_sync_job_get_error_message:
 * @self: a #PsSyncJob
 *
 * Returns: (nullable): the last failure, naming the step and the reason,
 *   e.g. "pull primero_child_production: …"
 */
const char *
ps_sync_job_get_error_message (PsSyncJob *self)
{
  g_return_val_if_fail (PS_IS_SYNC_JOB (self), NULL);
  return self->error_message;
}

gint64
ps_sync_job_get_next_attempt (PsSyncJob *self)
{
  g_return_val_if_fail (PS_IS_SYNC_JOB (self), 0);
  return self->next_attempt;
}

/**
 * ps_sync_job_get_databases:
 * @self: a #PsSyncJob
 *
 * Returns: (transfer none): a #GListModel of #PsSyncDatabase
 */
GListModel *
ps_sync_job_get_databases (PsSyncJob *self)
{
  g_return_val_if_fail (PS_IS_SYNC_JOB (self), NULL);
  return G_LIST_MODEL (self->databases);
}

gboolean
ps_sync_job_get_running (PsSyncJob *self)
{
  g_return_val_if_fail (PS_IS_SYNC_JOB (self), FALSE);
  return self->running;
}

/**
 * ps_sync_job_dup_status_text:
 * @self: a #PsSyncJob
 *
 * Returns: (transfer full): the state in a few words, for a list row
 */
char *
ps_sync_job_dup_status_text (PsSyncJob *self)
{
  g_return_val_if_fail (PS_IS_SYNC_JOB (self), NULL);

  switch (self->state)
    {
    case PS_SYNC_STATE_IDLE:
      if (ps_server_get_last_sync_time (self->server) == 0)
        return g_strdup (_("Never synced"));
      return g_strdup (_("Not syncing"));
    case PS_SYNC_STATE_CONNECTING:
      return g_strdup (_("Connecting…"));
    case PS_SYNC_STATE_SYNCING:
      /* TRANSLATORS: %d is a percentage */
      return g_strdup_printf (_("Syncing %d %%"), (int) (self->progress * 100));
    case PS_SYNC_STATE_UP_TO_DATE:
      return g_strdup (_("Up to date"));
    case PS_SYNC_STATE_WAITING_FOR_NETWORK:
      return g_strdup (_("Waiting for network"));
    case PS_SYNC_STATE_BACKING_OFF:
      {
        gint64 seconds = (self->next_attempt - g_get_monotonic_time ()) / G_USEC_PER_SEC;

        if (self->next_attempt == 0 || seconds <= 0)
          return g_strdup (_("Retrying…"));
        return g_strdup_printf (ngettext ("Retrying in %d s", "Retrying in %d s", (int) seconds),
                                (int) seconds);
      }
    case PS_SYNC_STATE_STALLED:
      return g_strdup (_("Stalled"));
    case PS_SYNC_STATE_PAUSED_METERED:
      return g_strdup (_("Paused: metered connection"));
    case PS_SYNC_STATE_FAILED:
    default:
      return g_strdup_printf (_("Failed: %s"),
                              self->error_message != NULL ? self->error_message : _("unknown error"));
    }
}

/* Failures */

/* Loopback servers (a demo, tests, a tunnel) need no network at all. */
static gboolean
network_is_missing (PsSyncJob *self)
{
  g_autoptr(GUri) uri = ps_url_parse (ps_server_get_url (self->server), NULL);
  const char *host = uri != NULL ? g_uri_get_host (uri) : NULL;

  if (host != NULL && (g_str_equal (host, "localhost") || g_str_has_prefix (host, "127.") ||
                       g_str_equal (host, "::1")))
    return FALSE;

  return !g_network_monitor_get_network_available (self->monitor);
}

static void
on_retry_cb (gpointer user_data)
{
  PsSyncJob *self = user_data;

  self->retry_source = 0;
  set_next_attempt (self, 0);
  begin_pass (self);
}

static void
connect_monitor (PsSyncJob *self)
{
  if (self->network_handler == 0)
    self->network_handler = g_signal_connect_object (self->monitor, "network-changed",
                                                     G_CALLBACK (on_network_changed_cb), self, 0);
  if (self->metered_handler == 0)
    self->metered_handler = g_signal_connect_object (self->monitor, "notify::network-metered",
                                                     G_CALLBACK (on_metered_changed_cb), self, 0);
}

static void
fail_for_good (PsSyncJob  *self,
               const char *message)
{
  g_autoptr(JsonObject) entry = json_object_new ();

  drop_run (self);
  g_clear_handle_id (&self->stall_source, g_source_remove);
  set_error_message (self, message);
  ps_server_set_last_outcome (self->server, message);
  json_object_set_string_member (entry, "message", message);
  journal_entry (self, "failure", entry);
  set_state (self, PS_SYNC_STATE_FAILED);
  set_running (self, FALSE);
  g_signal_emit (self, signals[FINISHED], 0, FALSE);
}

/* @what names the step and database: "pull primero_child_production". */
static void
handle_error (PsSyncJob    *self,
              const char   *what,
              const GError *error)
{
  g_autofree char *message = NULL;
  double jitter;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  message = what != NULL ? g_strdup_printf ("%s: %s", what, error->message) : g_strdup (error->message);
  g_debug ("%s", message);

  if (!ps_couch_error_is_transient (error) || (self->once && ++self->attempts >= ONE_SHOT_ATTEMPTS))
    {
      fail_for_good (self, message);
      return;
    }

  drop_run (self);
  self->cancellable = g_cancellable_new ();
  set_error_message (self, message);
  if (self->failing_since == 0)
    self->failing_since = g_get_monotonic_time ();

  if (network_is_missing (self))
    {
      set_next_attempt (self, 0);
      set_state (self, PS_SYNC_STATE_WAITING_FOR_NETWORK);
      return;
    }

  /* Back off with jitter, so that offices do not retry in lockstep. */
  self->backoff_ms = self->backoff_ms == 0 ? FIRST_BACKOFF_MS : MIN (self->backoff_ms * 2, MAX_BACKOFF_MS);
  jitter = g_random_double_range (0.8, 1.2);
  set_next_attempt (self, g_get_monotonic_time () + (gint64) (self->backoff_ms * jitter) * 1000);
  set_state (self, PS_SYNC_STATE_BACKING_OFF);
  self->retry_source = g_timeout_add_once ((guint) (self->backoff_ms * jitter), on_retry_cb, self);
}

static void
on_network_changed_cb (GNetworkMonitor *monitor,
                       gboolean         available,
                       PsSyncJob       *self)
{
  if (!available || !self->running || self->state == PS_SYNC_STATE_PAUSED_METERED)
    return;

  /* The network is back: retry at once instead of waiting out a delay. */
  if (self->state == PS_SYNC_STATE_WAITING_FOR_NETWORK ||
      self->state == PS_SYNC_STATE_BACKING_OFF)
    {
      g_clear_handle_id (&self->retry_source, g_source_remove);
      self->backoff_ms = 0;
      on_retry_cb (self);
    }
}

/* Metered connections */

/* A one-shot sync was asked for by the user, who was asked (GUI) or had to
 * say so (CLI); only continuous syncs wait for a free connection.
 */
static gboolean
metered_blocks (PsSyncJob *self)
{
  return !self->once && !ps_server_get_allow_metered (self->server) &&
         g_network_monitor_get_network_metered (self->monitor);
}

static void
pause_for_metered (PsSyncJob *self)
{
  g_debug ("pausing %s: the connection is metered", ps_server_get_id (self->server));
  drop_run (self);
  self->cancellable = g_cancellable_new ();
  self->failing_since = 0;
  set_next_attempt (self, 0);
  set_state (self, PS_SYNC_STATE_PAUSED_METERED);
}

static void
on_metered_changed_cb (GNetworkMonitor *monitor,
                       GParamSpec      *pspec,
                       PsSyncJob       *self)
{
  if (!self->running || self->once)
    return;

  if (metered_blocks (self))
    {
      /* Still looking up passwords: begin_pass() pauses. */
      if (self->state != PS_SYNC_STATE_CONNECTING && self->state != PS_SYNC_STATE_PAUSED_METERED)
        pause_for_metered (self);
      return;
    }

  if (self->state == PS_SYNC_STATE_PAUSED_METERED)
    begin_pass (self);
}

static void
on_server_changed_cb (PsServer   *server,
                      GParamSpec *pspec,
                      PsSyncJob  *self)
{
  guint limit = ps_server_get_bandwidth_limit (server);

  /* A changed cap applies to the requests still to come. */
  ps_bandwidth_limiter_set_rate (self->upload_limiter, limit);
  ps_bandwidth_limiter_set_rate (self->download_limiter, limit);

  on_metered_changed_cb (self->monitor, NULL, self);
}

/* Records held back by the old limit lie behind the checkpoints: a
 * continuous sync starts a new pass to read them again.
 */
static void
on_attachment_limit_changed_cb (PsServer   *server,
                                GParamSpec *pspec,
                                PsSyncJob  *self)
{
  if (!self->running || self->once || self->continuous->len == 0)
    return;

  drop_run (self);
  self->cancellable = g_cancellable_new ();
  begin_pass (self);
}

/**
 * ps_sync_job_set_network_monitor:
 * @self: a #PsSyncJob
 * @monitor: the monitor that says whether the network is there and metered
 *
 * For tests and for front ends with their own monitor; the default is
 * g_network_monitor_get_default().
 */
void
ps_sync_job_set_network_monitor (PsSyncJob       *self,
                                 GNetworkMonitor *monitor)
{
  g_return_if_fail (PS_IS_SYNC_JOB (self));
  g_return_if_fail (G_IS_NETWORK_MONITOR (monitor));

  if (self->monitor == monitor)
    return;

  g_clear_signal_handler (&self->network_handler, self->monitor);
  g_clear_signal_handler (&self->metered_handler, self->monitor);
  g_set_object (&self->monitor, monitor);
  if (self->running)
    {
      connect_monitor (self);
      on_metered_changed_cb (monitor, NULL, self);
    }
}

/**
 * ps_sync_job_get_network_metered:
 * @self: a #PsSyncJob
 *
 * Returns: whether the connection may cost money, as the job's monitor says
 */
gboolean
ps_sync_job_get_network_metered (PsSyncJob *self)
{
  g_return_val_if_fail (PS_IS_SYNC_JOB (self), FALSE);

  return g_network_monitor_get_network_metered (self->monitor);
}

/* Databases */

static PsCouchDatabase *
open_database (PsSyncJob   *self,
               PsServer    *server,
               const char  *password,
               const char  *name,
               GError     **error)
{
  g_autoptr(PsCouchDatabase) database = NULL;

  database = ps_server_open_database (server, self->session, password, name, error);
  if (database == NULL)
    return NULL;

  /* The cap is on the remote's link; this instance is usually local. */
  if (server == self->server)
    ps_couch_database_set_bandwidth_limiters (database, self->upload_limiter,
                                              self->download_limiter);

  return g_steal_pointer (&database);
}

static PsSyncDatabase *
current_database (PsSyncJob *self)
{
  return g_list_model_get_item (G_LIST_MODEL (self->databases), self->db_index);
}

static void
update_progress (PsSyncJob *self)
{
  guint n_databases = g_list_model_get_n_items (G_LIST_MODEL (self->databases));

  if (n_databases == 0)
    return;
  set_progress (self, MIN (1.0, (double) (self->db_index * N_STEPS + self->step) /
                                (n_databases * N_STEPS)));
}

static PsReplication *
new_replication (PsSyncJob       *self,
                 PsSyncDatabase  *database,
                 gboolean         pull,
                 GError         **error)
{
  const char *name = ps_sync_database_get_name (database);
  g_autoptr(PsCouchDatabase) remote = open_database (self, self->server, self->remote_password,
                                                     name, error);
  g_autoptr(PsCouchDatabase) local = NULL;
  PsReplication *replication;
  guint64 max_attachment_bytes;

  if (remote == NULL)
    return NULL;
  local = open_database (self, self->local, self->local_password, name, error);
  if (local == NULL)
    return NULL;

  replication = pull ? ps_replication_new (remote, local) : ps_replication_new (local, remote);
  max_attachment_bytes = (guint64) ps_server_get_max_attachment_size (self->server) * 1000;
  ps_replication_set_max_attachment_size (replication, max_attachment_bytes);
  /* This instance's databases may be created; a remote's are its own. */
  ps_replication_set_create_target (replication, pull);
  return replication;
}

static void
on_pulled_ids_cb (PsReplication  *replication,
                  char          **ids,
                  PsSyncJob      *self)
{
  for (guint i = 0; ids[i] != NULL; i++)
    g_ptr_array_add (self->written_ids, g_strdup (ids[i]));
}

static void
advance (PsSyncJob *self)
{
  self->failing_since = 0;
  self->step++;
  if (self->step == N_STEPS)
    {
      self->step = STEP_PULL;
      self->db_index++;
    }
  update_progress (self);
  run_step (self);
}

static void
on_step_replicated_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(PsSyncJob) self = user_data;
  g_autoptr(PsSyncDatabase) database = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *what = NULL;

  if (!ps_replication_run_finish (PS_REPLICATION (object), result, &error))
    {
      database = current_database (self);
      /* TRANSLATORS: "pull primero_child_production" or "push …" */
      what = g_strdup_printf (self->step == STEP_PULL ? _("pull %s") : _("push %s"),
                              ps_sync_database_get_name (database));
      handle_error (self, what, error);
      return;
    }

  /* Deferring: the records without attachments are over; now the rest. */
  if (ps_server_get_defer_attachments (self->server) && !self->attachments_pass)
    {
      self->attachments_pass = TRUE;
      run_step (self);
      return;
    }

  self->attachments_pass = FALSE;
  advance (self);
}

static void
on_resolver_resolved_cb (PsResolver *resolver,
                         JsonObject *report,
                         PsSyncJob  *self)
{
  g_signal_emit (self, signals[RESOLVED], 0, report);
}

static void
on_step_resolved_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(PsSyncJob) self = user_data;
  g_autoptr(PsSyncDatabase) database = current_database (self);
  g_autoptr(GError) error = NULL;

  if (!ps_resolver_resolve_finish (PS_RESOLVER (object), result, &error))
    {
      g_autofree char *what = g_strdup_printf (_("resolve %s"), ps_sync_database_get_name (database));

      handle_error (self, what, error);
      return;
    }

  ps_sync_database_add_resolved (database, ps_resolver_get_n_resolved (PS_RESOLVER (object)));
  advance (self);
}

static PsResolver *
new_resolver (PsSyncJob       *self,
              PsSyncDatabase  *database,
              GError         **error)
{
  g_autoptr(PsCouchDatabase) local = open_database (self, self->local, self->local_password,
                                                    ps_sync_database_get_name (database), error);
  PsResolver *resolver;

  if (local == NULL)
    return NULL;

  resolver = ps_resolver_new (local);
  ps_resolver_set_journal (resolver, self->journal, ps_server_get_id (self->server));
  g_signal_connect_object (resolver, "resolved", G_CALLBACK (on_resolver_resolved_cb), self, 0);
  return resolver;
}

static void start_continuous (PsSyncJob *self);

static void
finish_pass (PsSyncJob *self)
{
  g_autoptr(JsonObject) entry = json_object_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  JsonArray *databases = json_array_new ();

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->databases)); i++)
    {
      g_autoptr(PsSyncDatabase) database = g_list_model_get_item (G_LIST_MODEL (self->databases), i);
      JsonObject *item = json_object_new ();
      PsReplication *pull = ps_sync_database_get_pull (database);
      PsReplication *push = ps_sync_database_get_push (database);

      json_object_set_string_member (item, "database", ps_sync_database_get_name (database));
      if (pull != NULL)
        json_object_set_object_member (item, "pull", ps_replication_dup_stats (pull));
      if (push != NULL)
        json_object_set_object_member (item, "push", ps_replication_dup_stats (push));
      json_object_set_int_member (item, "resolved", ps_sync_database_get_resolved (database));
      json_array_add_object_element (databases, item);
    }
  json_object_set_array_member (entry, "databases", databases);
  journal_entry (self, "sync", entry);

  self->attempts = 0;
  self->backoff_ms = 0;
  self->failing_since = 0;
  set_error_message (self, NULL);
  set_progress (self, 1.0);
  ps_server_set_last_sync_time (self->server, g_date_time_to_unix (now));
  ps_server_set_last_outcome (self->server, _("Up to date"));

  if (self->once)
    {
      set_state (self, PS_SYNC_STATE_UP_TO_DATE);
      set_running (self, FALSE);
      g_signal_emit (self, signals[FINISHED], 0, TRUE);
      return;
    }

  start_continuous (self);
}

static void
run_step (PsSyncJob *self)
{
  g_autoptr(PsSyncDatabase) database = NULL;
  g_autoptr(GError) error = NULL;
  PsSyncDirection direction = ps_server_get_direction (self->server);

  if (self->db_index >= g_list_model_get_n_items (G_LIST_MODEL (self->databases)))
    {
      finish_pass (self);
      return;
    }

  database = current_database (self);
  set_state (self, PS_SYNC_STATE_SYNCING);

  switch (self->step)
    {
    case STEP_PULL:
    case STEP_PUSH:
      {
        gboolean pull = self->step == STEP_PULL;
        g_autoptr(PsReplication) replication = NULL;

        if ((pull && direction == PS_SYNC_DIRECTION_PUSH) ||
            (!pull && direction == PS_SYNC_DIRECTION_PULL))
          {
            advance (self);
            return;
          }

        replication = new_replication (self, database, pull, &error);
        if (replication == NULL)
          {
            fail_for_good (self, error->message);
            return;
          }
        if (ps_server_get_defer_attachments (self->server) && !self->attachments_pass)
          ps_replication_set_defer_attachments (replication, TRUE);
        if (pull)
          {
            /* What the first pass of a deferring pull wrote is resolved too. */
            if (!self->attachments_pass)
              g_ptr_array_set_size (self->written_ids, 0);
            g_signal_connect_object (replication, "documents-written",
                                     G_CALLBACK (on_pulled_ids_cb), self, 0);
            ps_sync_database_set_pull (database, replication);
          }
        else
          ps_sync_database_set_push (database, replication);

        ps_replication_run_async (replication, self->cancellable, on_step_replicated_cb,
                                  g_object_ref (self));
        return;
      }

    case STEP_RESOLVE:
      {
        g_autoptr(PsResolver) resolver = NULL;

        /* Only what was pulled can have brought a conflict. */
        if (self->written_ids->len == 0)
          {
            advance (self);
            return;
          }

        resolver = new_resolver (self, database, &error);
        if (resolver == NULL)
          {
            fail_for_good (self, error->message);
            return;
          }
        g_ptr_array_add (self->written_ids, NULL);
        ps_resolver_resolve_async (resolver, (const char * const *) self->written_ids->pdata,
                                   self->cancellable, on_step_resolved_cb, g_object_ref (self));
        g_ptr_array_set_size (self->written_ids, 0);
        return;
      }

    case N_STEPS:
    default:
      g_assert_not_reached ();
    }
}

static void
begin_pass (PsSyncJob *self)
{
  g_auto(GStrv) names = ps_server_dup_database_names (self->server);

  if (self->cancellable == NULL)
    self->cancellable = g_cancellable_new ();

  if (metered_blocks (self))
    {
      pause_for_metered (self);
      return;
    }

  g_list_store_remove_all (self->databases);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autoptr(PsSyncDatabase) database = ps_sync_database_new (names[i]);

      g_list_store_append (self->databases, database);
    }

  self->db_index = 0;
  self->step = STEP_PULL;
  self->attachments_pass = FALSE;
  set_progress (self, 0);
  run_step (self);
}

/* Continuous */

static void resolve_pending (ContinuousLink *link);

static void
on_link_resolved_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  ContinuousLink *link = user_data;
  g_autoptr(GError) error = NULL;
  gboolean resolved;

  resolved = ps_resolver_resolve_finish (PS_RESOLVER (object), result, &error);
  if (link->job == NULL)
    {
      continuous_link_release (link);
      return;
    }
  continuous_link_release (link);

  link->resolving = FALSE;
  if (!resolved)
    {
      g_autofree char *what = g_strdup_printf (_("resolve %s"),
                                               ps_sync_database_get_name (link->database));

      handle_error (link->job, what, error);
      return;
    }

  ps_sync_database_add_resolved (link->database, ps_resolver_get_n_resolved (PS_RESOLVER (object)));
  g_clear_object (&link->resolver);
  resolve_pending (link);
}

/* Conflicts are resolved as they arrive; the push then carries the
 * resolutions to the remote.
 */
static void
resolve_pending (ContinuousLink *link)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = NULL;

  if (link->resolving || link->pending_ids->len == 0)
    return;

  link->resolver = new_resolver (link->job, link->database, &error);
  if (link->resolver == NULL)
    return;

  ids = g_steal_pointer (&link->pending_ids);
  link->pending_ids = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (ids, NULL);
  link->resolving = TRUE;
  ps_resolver_resolve_async (link->resolver, (const char * const *) ids->pdata,
                             link->job->cancellable, on_link_resolved_cb,
                             g_rc_box_acquire (link));
}

static void
on_link_documents_written_cb (PsReplication  *replication,
                              char          **ids,
                              ContinuousLink *link)
{
  link->last_progress_time = g_get_monotonic_time ();
  if (!link->is_pull)
    return;

  for (guint i = 0; ids[i] != NULL; i++)
    g_ptr_array_add (link->pending_ids, g_strdup (ids[i]));
  resolve_pending (link);
}

static void
update_continuous_state (PsSyncJob *self)
{
  gboolean retrying = FALSE;
  gboolean busy = FALSE;

  if (self->state == PS_SYNC_STATE_FAILED || self->state == PS_SYNC_STATE_STALLED)
    return;

  for (guint i = 0; i < self->continuous->len; i++)
    {
      ContinuousLink *link = g_ptr_array_index (self->continuous, i);

      switch (ps_replication_get_state (link->replication))
        {
        case PS_REPLICATION_STATE_RETRYING:
          retrying = TRUE;
          set_error_message (self, ps_replication_get_last_error (link->replication));
          break;
        case PS_REPLICATION_STATE_STARTING:
        case PS_REPLICATION_STATE_RUNNING:
          busy = TRUE;
          break;
        case PS_REPLICATION_STATE_IDLE:
        case PS_REPLICATION_STATE_WAITING:
        case PS_REPLICATION_STATE_COMPLETED:
        case PS_REPLICATION_STATE_FAILED:
        case PS_REPLICATION_STATE_CANCELLED:
        default:
          break;
        }
    }

  if (retrying)
    set_state (self, network_is_missing (self)
                     ? PS_SYNC_STATE_WAITING_FOR_NETWORK : PS_SYNC_STATE_BACKING_OFF);
  else if (busy)
    set_state (self, PS_SYNC_STATE_SYNCING);
  else
    {
      set_error_message (self, NULL);
      set_state (self, PS_SYNC_STATE_UP_TO_DATE);
    }
}

static void
on_link_state_cb (PsReplication  *replication,
                  GParamSpec     *pspec,
                  ContinuousLink *link)
{
  if (ps_replication_get_state (replication) == PS_REPLICATION_STATE_WAITING)
    link->last_progress_time = g_get_monotonic_time ();
  update_continuous_state (link->job);
}

static void
on_link_finished_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(PsSyncJob) self = user_data;
  g_autoptr(GError) error = NULL;

  /* A continuous replication only ends when stopped or failed for good. */
  if (!ps_replication_run_finish (PS_REPLICATION (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && self->running)
    fail_for_good (self, error->message);
}

/* A replication whose checkpoint stops moving while changes are pending is
 * the most common silent failure of CouchDB replication: say so.
 */
static void
announce_stall (PsSyncJob  *self,
                const char *message)
{
  set_error_message (self, message);
  set_state (self, PS_SYNC_STATE_STALLED);
  g_signal_emit (self, signals[FINISHED], 0, FALSE);
}

static gboolean
on_stall_check_cb (gpointer user_data)
{
  PsSyncJob *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 stall = (gint64) self->stall_seconds * G_USEC_PER_SEC;

  /* A continuous sync that keeps failing before it ever catches up. */
  if (self->failing_since != 0 && now - self->failing_since >= stall &&
      self->state != PS_SYNC_STATE_STALLED)
    {
      g_autofree char *message = NULL;

      message = g_strdup_printf (_("nothing was synced for %u s: %s"), self->stall_seconds,
                                 self->error_message != NULL ? self->error_message : _("unknown error"));
      announce_stall (self, message);
      return G_SOURCE_CONTINUE;
    }

  for (guint i = 0; i < self->continuous->len; i++)
    {
      ContinuousLink *link = g_ptr_array_index (self->continuous, i);
      PsReplication *replication = link->replication;
      guint64 count = ps_replication_get_docs_written (replication) +
                      ps_replication_get_docs_read (replication);
      gboolean pending = ps_replication_get_pending (replication) > 0 ||
                         ps_replication_get_state (replication) == PS_REPLICATION_STATE_RETRYING;

      if (count != link->last_count || !pending)
        {
          link->last_count = count;
          link->last_progress_time = now;
          continue;
        }

      if (now - link->last_progress_time >= (gint64) self->stall_seconds * G_USEC_PER_SEC &&
          self->state != PS_SYNC_STATE_STALLED)
        {
          g_autofree char *message = NULL;

          message = g_strdup_printf (_("%s %s has not moved for %u s while changes are waiting%s%s"),
                                     link->is_pull ? _("pull") : _("push"),
                                     ps_sync_database_get_name (link->database),
                                     self->stall_seconds,
                                     ps_replication_get_last_error (replication) != NULL ? ": " : "",
                                     ps_replication_get_last_error (replication) != NULL
                                       ? ps_replication_get_last_error (replication) : "");
          announce_stall (self, message);
          return G_SOURCE_CONTINUE;
        }
    }

  if (self->state == PS_SYNC_STATE_STALLED && self->failing_since == 0)
    {
      /* It moved again. */
      self->state = PS_SYNC_STATE_SYNCING;
      update_continuous_state (self);
    }

  return G_SOURCE_CONTINUE;
}

static gboolean
add_link (PsSyncJob      *self,
          PsSyncDatabase *database,
          gboolean        pull)
{
  g_autoptr(GError) error = NULL;
  ContinuousLink *link;
  PsReplication *replication = new_replication (self, database, pull, &error);

  if (replication == NULL)
    {
      fail_for_good (self, error->message);
      return FALSE;
    }

  link = g_rc_box_new0 (ContinuousLink);
  link->job = self;
  link->database = g_object_ref (database);
  link->replication = replication;
  link->is_pull = pull;
  link->pending_ids = g_ptr_array_new_with_free_func (g_free);
  link->last_progress_time = g_get_monotonic_time ();
  g_ptr_array_add (self->continuous, link);

  ps_replication_set_continuous (replication, TRUE);
  if (pull)
    ps_sync_database_set_pull (database, replication);
  else
    ps_sync_database_set_push (database, replication);
  g_signal_connect (replication, "documents-written",
                    G_CALLBACK (on_link_documents_written_cb), link);
  g_signal_connect (replication, "notify::state", G_CALLBACK (on_link_state_cb), link);
  ps_replication_run_async (replication, self->cancellable, on_link_finished_cb,
                            g_object_ref (self));
  return TRUE;
}

static void
start_continuous (PsSyncJob *self)
{
  PsSyncDirection direction = ps_server_get_direction (self->server);

  set_state (self, PS_SYNC_STATE_UP_TO_DATE);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->databases)); i++)
    {
      g_autoptr(PsSyncDatabase) database = g_list_model_get_item (G_LIST_MODEL (self->databases), i);

      if (direction != PS_SYNC_DIRECTION_PUSH && !add_link (self, database, TRUE))
        return;
      if (direction != PS_SYNC_DIRECTION_PULL && !add_link (self, database, FALSE))
        return;
    }
}

/* Starting and stopping */

static void
on_local_password_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(PsSyncJob) self = user_data;
  g_autoptr(GError) error = NULL;

  ps_secrets_wipe (&self->local_password);
  self->local_password = ps_secrets_lookup_finish (result, &error);
  if (error != NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail_for_good (self, error->message);
      return;
    }

  begin_pass (self);
}

static void
lookup_local_password (PsSyncJob *self)
{
  if (ps_server_get_username (self->local) == NULL)
    {
      begin_pass (self);
      return;
    }
  ps_secrets_lookup_async (ps_server_get_id (self->local), self->cancellable,
                           on_local_password_cb, g_object_ref (self));
}

static void
on_remote_password_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(PsSyncJob) self = user_data;
  g_autoptr(GError) error = NULL;

  ps_secrets_wipe (&self->remote_password);
  self->remote_password = ps_secrets_lookup_finish (result, &error);
  if (error != NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail_for_good (self, error->message);
      return;
    }

  lookup_local_password (self);
}

/**
 * ps_sync_job_start:
 * @self: a #PsSyncJob
 * @once: sync once and stop, even for a continuous server
 *
 * Starts syncing unless the job already runs. Passwords come from the
 * keyring.
 */
void
ps_sync_job_start (PsSyncJob *self,
                   gboolean   once)
{
  g_return_if_fail (PS_IS_SYNC_JOB (self));

  if (self->running)
    return;

  drop_run (self);
  self->cancellable = g_cancellable_new ();
  self->once = once || !ps_server_get_continuous (self->server);
  self->attempts = 0;
  self->backoff_ms = 0;
  self->failing_since = 0;
  set_error_message (self, NULL);
  set_next_attempt (self, 0);
  set_running (self, TRUE);
  g_clear_handle_id (&self->stall_source, g_source_remove);
  if (!self->once)
    self->stall_source = g_timeout_add_seconds (MIN (STALL_CHECK_SECONDS, self->stall_seconds),
                                                on_stall_check_cb, self);
  set_state (self, PS_SYNC_STATE_CONNECTING);

  connect_monitor (self);

  if (ps_server_get_username (self->server) == NULL)
    {
      lookup_local_password (self);
      return;
    }
  ps_secrets_lookup_async (ps_server_get_id (self->server), self->cancellable,
                           on_remote_password_cb, g_object_ref (self));
}

/**
 * ps_sync_job_stop:
 * @self: a #PsSyncJob
 *
 * Stops syncing. What was written stays written; the next sync resumes
 * from the checkpoints.
 */
void
ps_sync_job_stop (PsSyncJob *self)
{
  g_return_if_fail (PS_IS_SYNC_JOB (self));

  if (!self->running)
    return;

  drop_run (self);
  g_clear_handle_id (&self->stall_source, g_source_remove);
  set_next_attempt (self, 0);
  set_running (self, FALSE);
  set_state (self, PS_SYNC_STATE_IDLE);
}

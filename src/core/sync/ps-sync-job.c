/* ps-sync-job.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One server's sync: the object, its state and signals, starting and
 * stopping, and what happens when something fails. A sync first makes one
 * pass over every record database (ps-sync-pass.c); a continuous job then
 * keeps one link per database and direction open (ps-sync-link.c).
 * Transient failures back off and wait for the network when there is none
 * (ps-sync-policy.c decides).
 */

#define G_LOG_DOMAIN "ps-sync-job"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ps-host.h"
#include "ps-sync-job-private.h"
#include "ps-sync-policy.h"
#include "ps-url.h"

#define STALL_CHECK_SECONDS     5
#define DEFAULT_STALL_SECONDS   120

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
  G_DEFINE_ENUM_VALUE (PS_SYNC_STATE_FAILED, "failed"),
  G_DEFINE_ENUM_VALUE (PS_SYNC_STATE_QUEUED, "queued"))

enum {
  PROP_0,
  PROP_SERVER,
  PROP_STATE,
  PROP_PROGRESS,
  PROP_ERROR_MESSAGE,
  PROP_ERROR,
  PROP_NEXT_ATTEMPT,
  PROP_RUNNING,
  PROP_FOLLOWING,
  N_PROPS
};

enum {
  FINISHED,
  RESOLVED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void begin_pass            (PsSyncJob       *self);
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

void
ps_sync_job_set_state (PsSyncJob   *self,
                       PsSyncState  state)
{
  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
ps_sync_job_set_progress (PsSyncJob *self,
                          double     progress)
{
  if (G_APPROX_VALUE (self->progress, progress, 0.001))
    return;

  self->progress = progress;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
}

void
ps_sync_job_set_error_message (PsSyncJob  *self,
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
set_error (PsSyncJob    *self,
           const GError *error)
{
  if (self->error == error)
    return;

  g_clear_error (&self->error);
  self->error = error != NULL ? g_error_copy (error) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

void
ps_sync_job_set_following (PsSyncJob *self,
                           gboolean   following)
{
  if (self->following == following)
    return;

  self->following = following;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOLLOWING]);
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

void
ps_sync_job_journal (PsSyncJob  *self,
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
drop_run (PsSyncJob *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->retry_source, g_source_remove);
  g_ptr_array_set_size (self->links, 0);
  ps_sync_job_set_following (self, FALSE);
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
  g_clear_error (&self->error);
  g_clear_pointer (&self->written_ids, g_ptr_array_unref);
  g_clear_pointer (&self->links, g_ptr_array_unref);
  g_clear_object (&self->remote_access);
  g_clear_object (&self->local_access);

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
    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;
    case PROP_NEXT_ATTEMPT:
      g_value_set_int64 (value, self->next_attempt);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    case PROP_FOLLOWING:
      g_value_set_boolean (value, self->following);
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
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", "Error",
                        "Why the sync failed for good, with the domain and code of the cause",
                        G_TYPE_ERROR,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_NEXT_ATTEMPT] =
    g_param_spec_int64 ("next-attempt", "Next attempt",
                        "When a backing-off job tries again (monotonic µs), or 0",
                        0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", "Running", NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_FOLLOWING] =
    g_param_spec_boolean ("following", "Following",
                          "Whether a continuous sync is past its first pass, following changes",
                          FALSE,
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
  self->links = g_ptr_array_new_with_free_func ((GDestroyNotify) ps_sync_link_detach);
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

/**
 * ps_sync_job_get_error:
 * @self: a #PsSyncJob
 *
 * The window and the command line act on the domain and code (a refused
 * password, a missing keyring), not on the words.
 *
 * Returns: (nullable): why the sync failed for good, with the domain and
 *   code of the cause and the message of #PsSyncJob:error-message
 */
const GError *
ps_sync_job_get_error (PsSyncJob *self)
{
  g_return_val_if_fail (PS_IS_SYNC_JOB (self), NULL);
  return self->error;
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
    case PS_SYNC_STATE_QUEUED:
      /* TRANSLATORS: waiting for other servers' syncs to finish */
      return g_strdup (_("Queued"));
    case PS_SYNC_STATE_FAILED:
    default:
      return g_strdup_printf (_("Failed: %s"),
                              self->error_message != NULL ? self->error_message : _("unknown error"));
    }
}

/* Failures */

/* Loopback servers (a demo, tests, a tunnel) need no network at all. */
gboolean
ps_sync_job_network_is_missing (PsSyncJob *self)
{
  g_autoptr(GUri) uri = ps_url_parse (ps_server_get_url (self->server), NULL);

  if (uri != NULL && ps_host_is_loopback (g_uri_get_host (uri)))
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

void
ps_sync_job_fail (PsSyncJob    *self,
                  const GError *error)
{
  g_autoptr(JsonObject) entry = json_object_new ();

  drop_run (self);
  g_clear_handle_id (&self->stall_source, g_source_remove);
  set_error (self, error);
  ps_sync_job_set_error_message (self, error->message);
  ps_server_set_last_outcome (self->server, error->message);
  json_object_set_string_member (entry, "message", error->message);
  ps_sync_job_journal (self, "failure", entry);
  ps_sync_job_set_state (self, PS_SYNC_STATE_FAILED);
  set_running (self, FALSE);
  g_signal_emit (self, signals[FINISHED], 0, FALSE);
}

/* @message says what failed in a whole sentence; @error says whether it
 * may pass by itself.
 */
void
ps_sync_job_handle_error (PsSyncJob    *self,
                          const char   *message,
                          const GError *error)
{
  guint delay_ms;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_debug ("%s", message);

  if (self->once)
    self->attempts++;
  if (ps_sync_policy_gives_up (ps_couch_error_is_transient (error), self->once, self->attempts))
    {
      g_autoptr(GError) failure = g_error_new_literal (error->domain, error->code, message);

      ps_sync_job_fail (self, failure);
      return;
    }

  drop_run (self);
  self->cancellable = g_cancellable_new ();
  ps_sync_job_set_error_message (self, message);
  if (self->failing_since == 0)
    self->failing_since = g_get_monotonic_time ();

  if (ps_sync_job_network_is_missing (self))
    {
      set_next_attempt (self, 0);
      ps_sync_job_set_state (self, PS_SYNC_STATE_WAITING_FOR_NETWORK);
      return;
    }

  self->backoff_ms = ps_sync_policy_next_backoff_ms (self->backoff_ms);
  delay_ms = ps_sync_policy_jittered_ms (self->backoff_ms, g_random_double_range (0.8, 1.2));
  set_next_attempt (self, g_get_monotonic_time () + (gint64) delay_ms * 1000);
  ps_sync_job_set_state (self, PS_SYNC_STATE_BACKING_OFF);
  self->retry_source = g_timeout_add_once (delay_ms, on_retry_cb, self);
}

/* A continuous sync whose work stopped moving: the user must know. */
void
ps_sync_job_announce_stall (PsSyncJob  *self,
                            const char *message)
{
  ps_sync_job_set_error_message (self, message);
  ps_sync_job_set_state (self, PS_SYNC_STATE_STALLED);
  g_signal_emit (self, signals[FINISHED], 0, FALSE);
}

/* Both ends hold the same records as of now: what the server list keeps
 * as its last sync.
 */
void
ps_sync_job_note_in_sync (PsSyncJob *self)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  ps_server_set_last_sync_time (self->server, g_date_time_to_unix (now));
  ps_server_set_last_outcome (self->server, _("Up to date"));
}

/* A pass went through every database. */
void
ps_sync_job_succeed (PsSyncJob *self)
{
  self->attempts = 0;
  self->backoff_ms = 0;
  self->failing_since = 0;
  ps_sync_job_set_error_message (self, NULL);
  ps_sync_job_set_progress (self, 1.0);
  ps_sync_job_note_in_sync (self);

  if (self->once)
    {
      ps_sync_job_set_state (self, PS_SYNC_STATE_UP_TO_DATE);
      set_running (self, FALSE);
      g_signal_emit (self, signals[FINISHED], 0, TRUE);
      return;
    }

  ps_sync_links_start (self);
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
  return ps_sync_policy_metered_blocks (self->once, ps_server_get_allow_metered (self->server),
                                        g_network_monitor_get_network_metered (self->monitor));
}

static void
pause_for_metered (PsSyncJob *self)
{
  g_debug ("pausing %s: the connection is metered", ps_server_get_id (self->server));
  drop_run (self);
  self->cancellable = g_cancellable_new ();
  self->failing_since = 0;
  set_next_attempt (self, 0);
  ps_sync_job_set_state (self, PS_SYNC_STATE_PAUSED_METERED);
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
  if (!self->running || self->once || self->links->len == 0)
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

/**
 * ps_sync_job_get_following:
 * @self: a #PsSyncJob
 *
 * Returns: whether a continuous sync has made its first pass and now
 *   follows changes as they come
 */
gboolean
ps_sync_job_get_following (PsSyncJob *self)
{
  g_return_val_if_fail (PS_IS_SYNC_JOB (self), FALSE);
  return self->following;
}

/**
 * ps_sync_job_queue:
 * @self: a #PsSyncJob that is not running
 *
 * Shows the job as waiting for its turn; whoever queued it starts it
 * with ps_sync_job_start() or takes it back with ps_sync_job_stop().
 */
void
ps_sync_job_queue (PsSyncJob *self)
{
  g_return_if_fail (PS_IS_SYNC_JOB (self));

  if (self->running)
    return;

  ps_sync_job_set_error_message (self, NULL);
  set_error (self, NULL);
  ps_sync_job_set_state (self, PS_SYNC_STATE_QUEUED);
}

/**
 * ps_sync_job_needs_consent:
 * @self: a #PsSyncJob
 * @once: whether the sync is to run once even for a continuous server
 *
 * A one-shot sync over a metered connection is the user's call: the
 * window asks, the command line wants `--allow-metered`. A continuous one
 * pauses by itself until the connection is free.
 *
 * Returns: whether to ask the user before ps_sync_job_start()
 */
gboolean
ps_sync_job_needs_consent (PsSyncJob *self,
                           gboolean   once)
{
  g_return_val_if_fail (PS_IS_SYNC_JOB (self), FALSE);

  return ps_sync_policy_needs_consent (once || !ps_server_get_continuous (self->server),
                                       ps_server_get_allow_metered (self->server),
                                       g_network_monitor_get_network_metered (self->monitor));
}

/* Databases */

static PsCouchDatabase *
open_database (PsSyncJob       *self,
               PsServerAccess  *access,
               const char      *name,
               GError         **error)
{
  g_autoptr(PsCouchDatabase) database = NULL;

  database = ps_server_access_open_database (access, name, error);
  if (database == NULL)
    return NULL;

  /* The cap is on the remote's link; this instance is usually local. */
  if (access == self->remote_access)
    ps_couch_database_set_bandwidth_limiters (database, self->upload_limiter,
                                              self->download_limiter);

  return g_steal_pointer (&database);
}

PsReplication *
ps_sync_job_new_replication (PsSyncJob       *self,
                             PsSyncDatabase  *database,
                             gboolean         pull,
                             GError         **error)
{
  const char *name = ps_sync_database_get_name (database);
  g_autoptr(PsCouchDatabase) remote = open_database (self, self->remote_access, name, error);
  g_autoptr(PsCouchDatabase) local = NULL;
  PsReplication *replication;
  guint64 max_attachment_bytes;

  if (remote == NULL)
    return NULL;
  local = open_database (self, self->local_access, name, error);
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
on_resolver_resolved_cb (PsResolver  *resolver,
                         JsonObject  *report,
                         PsJsonTexts *texts,
                         PsSyncJob   *self)
{
  g_signal_emit (self, signals[RESOLVED], 0, report);
}

PsResolver *
ps_sync_job_new_resolver (PsSyncJob       *self,
                          PsSyncDatabase  *database,
                          GError         **error)
{
  g_autoptr(PsCouchDatabase) local = open_database (self, self->local_access,
                                                    ps_sync_database_get_name (database), error);
  PsResolver *resolver;

  if (local == NULL)
    return NULL;

  resolver = ps_resolver_new (local);
  ps_resolver_set_journal (resolver, self->journal, ps_server_get_id (self->server));
  g_signal_connect_object (resolver, "resolved", G_CALLBACK (on_resolver_resolved_cb), self, 0);
  return resolver;
}

static void
begin_pass (PsSyncJob *self)
{
  if (self->cancellable == NULL)
    self->cancellable = g_cancellable_new ();

  if (metered_blocks (self))
    {
      pause_for_metered (self);
      return;
    }

  ps_sync_pass_begin (self);
}

/* Starting and stopping */

/* Both passwords are looked up before the first pass: the remote's,
 * then this instance's.
 */
static void
on_access_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(PsSyncJob) self = user_data;
  g_autoptr(PsServerAccess) access = NULL;
  g_autoptr(GError) error = NULL;

  access = ps_server_access_new_finish (result, &error);
  if (access == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        ps_sync_job_fail (self, error);
      return;
    }

  if (self->remote_access == NULL)
    {
      g_set_object (&self->remote_access, access);
      ps_server_access_new_async (self->local, self->session, self->cancellable,
                                  on_access_cb, g_object_ref (self));
      return;
    }

  g_set_object (&self->local_access, access);
  begin_pass (self);
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
  ps_sync_job_set_error_message (self, NULL);
  set_error (self, NULL);
  set_next_attempt (self, 0);
  set_running (self, TRUE);
  g_clear_handle_id (&self->stall_source, g_source_remove);
  if (!self->once)
    self->stall_source = g_timeout_add_seconds (MIN (STALL_CHECK_SECONDS, self->stall_seconds),
                                                ps_sync_links_check_stall, self);
  ps_sync_job_set_state (self, PS_SYNC_STATE_CONNECTING);

  connect_monitor (self);

  g_clear_object (&self->remote_access);
  g_clear_object (&self->local_access);
  ps_server_access_new_async (self->server, self->session, self->cancellable,
                              on_access_cb, g_object_ref (self));
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
    {
      if (self->state == PS_SYNC_STATE_QUEUED)
        ps_sync_job_set_state (self, PS_SYNC_STATE_IDLE);
      return;
    }

  drop_run (self);
  g_clear_handle_id (&self->stall_source, g_source_remove);
  set_next_attempt (self, 0);
  set_running (self, FALSE);
  ps_sync_job_set_state (self, PS_SYNC_STATE_IDLE);
}

/* ps-watcher.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-watcher"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <errno.h>

#include "ps-json.h"
#include "ps-resolver.h"
#include "ps-sync-policy.h"
#include "ps-watcher.h"

/**
 * PsWatcher:
 *
 * Follows the `_changes` feed (`feed=longpoll`, `style=all_docs`) of each
 * database it is given and resolves every record whose change row lists
 * more than one leaf, with #PsResolver and the journal, as it appears.
 *
 * For each database it keeps a checkpoint: the last sequence whose
 * conflicts are all resolved, in a small JSON file under the XDG state
 * directory, replaced atomically. A watcher started again resumes from
 * there, so records made conflicted while it was stopped are resolved and
 * those resolved before are not looked at again.
 *
 * A request that fails for a transient reason (the server restarts, the
 * network drops) is sent again after a back-off that grows up to
 * %PS_SYNC_POLICY_MAX_BACKOFF_MS, for ever. Any other failure (a refused
 * password, a missing database) ends the run with that error.
 *
 * Some servers ignore the `timeout` of a long poll, so the watcher ends
 * each poll itself after a deadline and polls again.
 */

#define PAGE_SIZE             200
#define DEFAULT_POLL_DEADLINE 50

struct _PsWatcher
{
  GObject       parent_instance;

  PsJournal    *journal;
  char         *state_path;
  GPtrArray    *followers;     /* Follower */
  JsonObject   *checkpoints;   /* identity URL → last seq */
  guint         poll_deadline_s;

  GTask        *task;
  GCancellable *cancellable;   /* cancelled when the run ends */
  gulong        cancelled_id;
  GCancellable *caller_cancellable;
  GError       *fatal;
  guint         n_running;
};

typedef struct
{
  PsWatcher       *self;              /* unowned: it owns the follower */
  PsCouchDatabase *database;
  PsResolver      *resolver;
  char            *key;
  JsonNode        *since;
  JsonNode        *page_seq;          /* the last seq of the page being resolved */
  GCancellable    *poll_cancellable;
  guint            deadline_id;
  guint            retry_id;
  guint            backoff_ms;
  guint            n_failures_seen;
  gboolean         deadline_hit;
  gboolean         running;
  PsWatcherState   state;
} Follower;

G_DEFINE_FINAL_TYPE (PsWatcher, ps_watcher, G_TYPE_OBJECT)

G_DEFINE_QUARK (ps-watcher-error-quark, ps_watcher_error)

enum {
  RESOLVED,
  NOT_RESOLVED,
  STATE_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void poll_changes (Follower *follower);

static void
follower_free (Follower *follower)
{
  g_clear_object (&follower->poll_cancellable);
  g_clear_handle_id (&follower->deadline_id, g_source_remove);
  g_clear_handle_id (&follower->retry_id, g_source_remove);
  g_clear_object (&follower->resolver);
  g_clear_object (&follower->database);
  g_clear_pointer (&follower->since, json_node_unref);
  g_clear_pointer (&follower->page_seq, json_node_unref);
  g_free (follower->key);
  g_free (follower);
}

static void
ps_watcher_dispose (GObject *object)
{
  PsWatcher *self = PS_WATCHER (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (self->caller_cancellable != NULL)
    g_cancellable_disconnect (self->caller_cancellable, self->cancelled_id);
  self->cancelled_id = 0;
  g_clear_object (&self->caller_cancellable);
  g_clear_pointer (&self->followers, g_ptr_array_unref);

  G_OBJECT_CLASS (ps_watcher_parent_class)->dispose (object);
}

static void
ps_watcher_finalize (GObject *object)
{
  PsWatcher *self = PS_WATCHER (object);

  g_clear_object (&self->journal);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->checkpoints, json_object_unref);
  g_clear_error (&self->fatal);
  g_free (self->state_path);

  G_OBJECT_CLASS (ps_watcher_parent_class)->finalize (object);
}

static void
ps_watcher_class_init (PsWatcherClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ps_watcher_dispose;
  object_class->finalize = ps_watcher_finalize;

  /**
   * PsWatcher::resolved:
   * @self: the watcher
   * @database: the database of the record
   * @report: what the resolution decided (see #PsResolver::resolved)
   */
  signals[RESOLVED] =
    g_signal_new ("resolved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                  PS_TYPE_COUCH_DATABASE, JSON_TYPE_OBJECT);

  /**
   * PsWatcher::not-resolved:
   * @self: the watcher
   * @database: the database of the record
   * @failure: the record's id and why it stays conflicted
   */
  signals[NOT_RESOLVED] =
    g_signal_new ("not-resolved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                  PS_TYPE_COUCH_DATABASE, G_TYPE_STRING);

  /**
   * PsWatcher::state-changed:
   * @self: the watcher
   * @database: the database whose watch changed
   * @state: a #PsWatcherState
   * @delay_ms: for %PS_WATCHER_STATE_WAITING, the pause before trying again
   * @message: (nullable): for %PS_WATCHER_STATE_WAITING, what failed
   */
  signals[STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                  PS_TYPE_COUCH_DATABASE, G_TYPE_UINT, G_TYPE_UINT, G_TYPE_STRING);
}

static void
ps_watcher_init (PsWatcher *self)
{
  self->followers = g_ptr_array_new_with_free_func ((GDestroyNotify) follower_free);
  self->checkpoints = json_object_new ();
  self->poll_deadline_s = DEFAULT_POLL_DEADLINE;
}

/**
 * ps_watcher_dup_default_state_path:
 *
 * Returns: (transfer full): where the checkpoints are kept by default
 */
char *
ps_watcher_dup_default_state_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "primero-sync", "watch-checkpoints.json",
                           NULL);
}

/**
 * ps_watcher_new:
 * @journal: (nullable): where each resolution is recorded
 * @state_path: (nullable): the checkpoint file, or %NULL for the default
 *
 * Returns: (transfer full): a new #PsWatcher
 */
PsWatcher *
ps_watcher_new (PsJournal  *journal,
                const char *state_path)
{
  PsWatcher *self = g_object_new (PS_TYPE_WATCHER, NULL);

  g_set_object (&self->journal, journal);
  self->state_path = state_path != NULL ? g_strdup (state_path)
                                        : ps_watcher_dup_default_state_path ();
  return self;
}

const char *
ps_watcher_get_state_path (PsWatcher *self)
{
  g_return_val_if_fail (PS_IS_WATCHER (self), NULL);

  return self->state_path;
}

/**
 * ps_watcher_set_poll_deadline:
 * @self: a #PsWatcher
 * @seconds: how long one long poll may stay open
 *
 * A poll with no change is ended after @seconds and sent again.
 */
void
ps_watcher_set_poll_deadline (PsWatcher *self,
                              guint      seconds)
{
  g_return_if_fail (PS_IS_WATCHER (self));
  g_return_if_fail (seconds > 0);

  self->poll_deadline_s = seconds;
}

static void
on_resolver_resolved_cb (PsResolver  *resolver,
                         JsonObject  *report,
                         PsJsonTexts *texts,
                         Follower    *follower)
{
  g_signal_emit (follower->self, signals[RESOLVED], 0, follower->database, report);
}

/**
 * ps_watcher_add_database:
 * @self: a #PsWatcher
 * @database: a database to watch, with its credentials
 *
 * Adds a database before ps_watcher_run_async().
 */
void
ps_watcher_add_database (PsWatcher       *self,
                         PsCouchDatabase *database)
{
  Follower *follower;

  g_return_if_fail (PS_IS_WATCHER (self));
  g_return_if_fail (PS_IS_COUCH_DATABASE (database));
  g_return_if_fail (self->task == NULL);

  follower = g_new0 (Follower, 1);
  follower->self = self;
  follower->database = g_object_ref (database);
  follower->key = ps_couch_database_dup_identity_url (database);
  follower->resolver = ps_resolver_new (database);
  ps_resolver_set_journal (follower->resolver, self->journal, NULL);
  g_signal_connect (follower->resolver, "resolved", G_CALLBACK (on_resolver_resolved_cb),
                    follower);
  g_ptr_array_add (self->followers, follower);
}

/* Checkpoints */

/* A missing or unreadable file only costs a scan from the start: the
 * resolver finds nothing to do for records resolved already.
 */
static void
load_checkpoints (PsWatcher *self)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) root = NULL;
  JsonObject *databases;
  gsize length = 0;

  if (!g_file_get_contents (self->state_path, &contents, &length, &error))
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_warning ("The watch checkpoints could not be read: %s", error->message);
      return;
    }

  root = ps_json_parse_object (contents, length);
  databases = root != NULL ? ps_json_get_object (root, "databases") : NULL;
  if (databases == NULL)
    {
      g_warning ("The watch checkpoints are not readable; watching from the start");
      return;
    }

  g_clear_pointer (&self->checkpoints, json_object_unref);
  self->checkpoints = json_object_ref (databases);
}

static gboolean
save_checkpoints (PsWatcher  *self,
                  GError    **error)
{
  g_autoptr(JsonObject) root = json_object_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *dir = g_path_get_dirname (self->state_path);
  g_autofree char *text = NULL;

  json_object_set_object_member (root, "databases", json_object_ref (self->checkpoints));
  node = json_node_init_object (json_node_alloc (), root);
  text = json_to_string (node, TRUE);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, PS_WATCHER_ERROR, PS_WATCHER_ERROR_FAILED,
                   _("The folder %s could not be created: %s"), dir, g_strerror (saved_errno));
      return FALSE;
    }

  /* Written to a new file renamed over the old one: a crash leaves one or
   * the other, never half of each.
   */
  return g_file_set_contents_full (self->state_path, text, -1,
                                   G_FILE_SET_CONTENTS_CONSISTENT |
                                   G_FILE_SET_CONTENTS_DURABLE,
                                   0600, error);
}

/* The run */

static void
finish_run (PsWatcher *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  if (self->caller_cancellable != NULL)
    g_cancellable_disconnect (self->caller_cancellable, self->cancelled_id);
  self->cancelled_id = 0;
  g_clear_object (&self->caller_cancellable);

  if (self->fatal != NULL)
    g_task_return_error (task, g_steal_pointer (&self->fatal));
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             _("The watch was stopped"));
}

static void
follower_stopped (Follower *follower)
{
  PsWatcher *self = follower->self;

  if (!follower->running)
    return;
  follower->running = FALSE;
  g_clear_handle_id (&follower->deadline_id, g_source_remove);
  g_clear_handle_id (&follower->retry_id, g_source_remove);

  g_assert (self->n_running > 0);
  if (--self->n_running == 0 && self->task != NULL)
    finish_run (self);
}

/* Every follower stops once its request in flight is cancelled; a pending
 * back-off has none, so it stops here.
 */
static void
stop_all (PsWatcher *self)
{
  g_cancellable_cancel (self->cancellable);
  for (guint i = 0; i < self->followers->len; i++)
    {
      Follower *follower = g_ptr_array_index (self->followers, i);

      if (follower->poll_cancellable != NULL)
        {
          g_autoptr(GCancellable) poll_cancellable = g_object_ref (follower->poll_cancellable);

          g_cancellable_cancel (poll_cancellable);
        }
      else if (follower->retry_id != 0)
        follower_stopped (follower);
    }
}

/* Ends the run with @error (taken) once every follower has stopped. */
static void
fail_run (PsWatcher *self,
          GError    *error)
{
  if (self->fatal == NULL)
    self->fatal = error;
  else
    g_error_free (error);
  stop_all (self);
}

static void
set_state (Follower       *follower,
           PsWatcherState  state,
           guint           delay_ms,
           const char     *message)
{
  if (follower->state == state && state != PS_WATCHER_STATE_WAITING)
    return;

  follower->state = state;
  g_signal_emit (follower->self, signals[STATE_CHANGED], 0, follower->database, state,
                 delay_ms, message);
}

static gboolean
on_retry_cb (gpointer user_data)
{
  Follower *follower = user_data;

  follower->retry_id = 0;
  poll_changes (follower);
  return G_SOURCE_REMOVE;
}

/* Transient failures are retried for ever, ever less often. */
static void
retry_later (Follower     *follower,
             const GError *error)
{
  guint delay;

  follower->backoff_ms = ps_sync_policy_next_backoff_ms (follower->backoff_ms);
  /* Watchers that failed together must not retry in lockstep. */
  delay = ps_sync_policy_jittered_ms (follower->backoff_ms, g_random_double_range (0.8, 1.2));
  g_debug ("%s: trying again in %u ms: %s", ps_couch_database_get_name (follower->database),
           delay, error->message);
  set_state (follower, PS_WATCHER_STATE_WAITING, delay, error->message);
  follower->retry_id = g_timeout_add (delay, on_retry_cb, follower);
}

/* Returns TRUE when @error (taken) ended this follower's work. */
static gboolean
handle_error (Follower *follower,
              GError   *error)
{
  PsWatcher *self = follower->self;

  if (error == NULL)
    return FALSE;

  if (g_cancellable_is_cancelled (self->cancellable))
    {
      g_error_free (error);
      follower_stopped (follower);
    }
  else if (ps_couch_error_is_transient (error))
    {
      retry_later (follower, error);
      g_error_free (error);
    }
  else if (g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_FOUND))
    {
      g_autofree char *url = ps_couch_database_dup_display_url (follower->database);

      /* Every request is to the database itself: it is not there. */
      g_error_free (error);
      fail_run (self, g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_FOUND,
                                   _("The database %s does not exist; create it, or change "
                                     "the record types of this instance"), url));
      follower_stopped (follower);
    }
  else
    {
      g_prefix_error (&error, _("Watching %s: "), ps_couch_database_get_name (follower->database));
      fail_run (self, error);
      follower_stopped (follower);
    }

  return TRUE;
}

/* The page's conflicts are resolved: nothing before its last seq needs
 * looking at again.
 */
static void
advance (Follower *follower)
{
  PsWatcher *self = follower->self;
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&follower->since, json_node_unref);
  follower->since = g_steal_pointer (&follower->page_seq);
  json_object_set_member (self->checkpoints, follower->key, json_node_copy (follower->since));
  if (!save_checkpoints (self, &error))
    {
      fail_run (self, g_steal_pointer (&error));
      follower_stopped (follower);
      return;
    }

  poll_changes (follower);
}

static void
report_failures (Follower *follower)
{
  GPtrArray *failures = ps_resolver_get_failures (follower->resolver);

  for (; follower->n_failures_seen < failures->len; follower->n_failures_seen++)
    g_signal_emit (follower->self, signals[NOT_RESOLVED], 0, follower->database,
                   g_ptr_array_index (failures, follower->n_failures_seen));
}

static void
on_resolved_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Follower *follower = user_data;
  GError *error = NULL;

  ps_resolver_resolve_finish (PS_RESOLVER (object), result, &error);
  report_failures (follower);
  /* The page is read again after the pause: its records are still
   * conflicted.
   */
  if (handle_error (follower, error))
    return;

  /* Stopped while resolving: the page may not be done, so it is read
   * again next time rather than passed over.
   */
  if (g_cancellable_is_cancelled (follower->self->cancellable))
    {
      follower_stopped (follower);
      return;
    }

  follower->backoff_ms = 0;
  advance (follower);
}

static GPtrArray *
conflicted_ids (JsonArray *results)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);

  /* With style=all_docs a row lists every leaf, deleted ones too: the
   * resolver looks at the record and leaves it alone if it has only one
   * live leaf.
   */
  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonObject *row = ps_json_get_object_element (results, i);
      JsonArray *changes = row != NULL ? ps_json_get_array (row, "changes") : NULL;
      const char *id = row != NULL ? ps_json_get_string (row, "id") : NULL;

      if (id != NULL && changes != NULL && json_array_get_length (changes) > 1)
        g_ptr_array_add (ids, g_strdup (id));
    }
  g_ptr_array_add (ids, NULL);

  return ids;
}

static void
on_changes_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Follower *follower = user_data;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  GError *error = NULL;
  JsonObject *page;
  JsonArray *results;
  JsonNode *last_seq;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  g_clear_handle_id (&follower->deadline_id, g_source_remove);
  g_clear_object (&follower->poll_cancellable);

  /* Nothing changed before the deadline of a long poll: ask again. Any
   * other request should have been answered by then.
   */
  if (follower->deadline_hit && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      !g_cancellable_is_cancelled (follower->self->cancellable))
    {
      g_clear_error (&error);
      if (follower->state == PS_WATCHER_STATE_WATCHING)
        poll_changes (follower);
      else
        handle_error (follower,
                      g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_TIMED_OUT,
                                   _("the server did not answer within %u s"),
                                   follower->self->poll_deadline_s));
      return;
    }
  if (handle_error (follower, error))
    return;

  page = JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;
  results = page != NULL ? ps_json_get_array (page, "results") : NULL;
  last_seq = page != NULL ? json_object_get_member (page, "last_seq") : NULL;
  if (results == NULL || last_seq == NULL)
    {
      handle_error (follower,
                    g_error_new_literal (PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                                         _("the list of changes is not in CouchDB’s format")));
      return;
    }

  follower->backoff_ms = 0;
  set_state (follower,
             json_array_get_length (results) >= PAGE_SIZE
               ? PS_WATCHER_STATE_CATCHING_UP : PS_WATCHER_STATE_WATCHING,
             0, NULL);

  g_clear_pointer (&follower->page_seq, json_node_unref);
  follower->page_seq = json_node_copy (last_seq);
  ids = conflicted_ids (results);
  if (ids->len == 1)
    {
      advance (follower);
      return;
    }

  ps_resolver_resolve_async (follower->resolver, (const char * const *) ids->pdata,
                             follower->self->cancellable, on_resolved_cb, follower);
}

static gboolean
on_deadline_cb (gpointer user_data)
{
  Follower *follower = user_data;

  follower->deadline_id = 0;
  follower->deadline_hit = TRUE;
  g_cancellable_cancel (follower->poll_cancellable);
  return G_SOURCE_REMOVE;
}

static char *
seq_to_query (JsonNode *seq)
{
  g_autofree char *text = NULL;

  if (seq == NULL)
    return g_strdup ("0");
  /* Seqs are opaque: CouchDB's are strings, some servers' numbers. */
  if (JSON_NODE_HOLDS_VALUE (seq) && json_node_get_value_type (seq) == G_TYPE_STRING)
    return g_uri_escape_string (json_node_get_string (seq), NULL, FALSE);

  text = json_to_string (seq, FALSE);
  return g_uri_escape_string (text, NULL, FALSE);
}

static void
poll_changes (Follower *follower)
{
  PsWatcher *self = follower->self;
  g_autofree char *since = NULL;
  g_autofree char *query = NULL;

  if (g_cancellable_is_cancelled (self->cancellable))
    {
      follower_stopped (follower);
      return;
    }

  since = seq_to_query (follower->since);
  /* Until it has caught up (at the start, after a failure) it reads what
   * is there and says so; then it waits for what comes. A server that
   * honours timeout ends a long poll itself; the deadline is for those
   * that do not.
   */
  if (follower->state == PS_WATCHER_STATE_WATCHING)
    query = g_strdup_printf ("feed=longpoll&style=all_docs&since=%s&limit=%u"
                             "&heartbeat=10000&timeout=%u",
                             since, PAGE_SIZE, (self->poll_deadline_s / 2) * 1000);
  else
    query = g_strdup_printf ("style=all_docs&since=%s&limit=%u", since, PAGE_SIZE);

  follower->deadline_hit = FALSE;
  follower->poll_cancellable = g_cancellable_new ();
  follower->deadline_id = g_timeout_add_seconds (self->poll_deadline_s, on_deadline_cb,
                                                 follower);
  ps_couch_database_request_async (follower->database, "GET", "_changes", query, NULL,
                                   follower->poll_cancellable, on_changes_cb, follower);
}

static gboolean
on_stop_idle_cb (gpointer user_data)
{
  PsWatcher *self = PS_WATCHER (user_data);

  if (self->task != NULL)
    stop_all (self);
  return G_SOURCE_REMOVE;
}

/* From an idle: the run may end, which disconnects this handler, and a
 * handler cannot disconnect itself.
 */
static void
on_caller_cancelled_cb (GCancellable *cancellable,
                        PsWatcher    *self)
{
  g_idle_add_full (G_PRIORITY_HIGH, on_stop_idle_cb, g_object_ref (self), g_object_unref);
}

/**
 * ps_watcher_run_async:
 * @self: a #PsWatcher
 * @cancellable: (nullable): cancel to stop watching
 * @callback: called when the watch ends
 * @user_data: data for @callback
 *
 * Watches every database added until @cancellable is cancelled (the run
 * then ends with %G_IO_ERROR_CANCELLED) or a failure that retrying cannot
 * mend.
 */
void
ps_watcher_run_async (PsWatcher           *self,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_return_if_fail (PS_IS_WATCHER (self));
  g_return_if_fail (self->task == NULL);

  self->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (self->task, ps_watcher_run_async);
  g_task_set_check_cancellable (self->task, FALSE);

  if (self->followers->len == 0)
    {
      g_autoptr(GTask) task = g_steal_pointer (&self->task);

      g_task_return_new_error (task, PS_WATCHER_ERROR, PS_WATCHER_ERROR_NO_DATABASE,
                               _("There is no database to watch"));
      return;
    }

  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  load_checkpoints (self);

  for (guint i = 0; i < self->followers->len; i++)
    {
      Follower *follower = g_ptr_array_index (self->followers, i);
      JsonNode *since = json_object_get_member (self->checkpoints, follower->key);

      g_clear_pointer (&follower->since, json_node_unref);
      follower->since = since != NULL ? json_node_copy (since) : NULL;
      follower->state = PS_WATCHER_STATE_STARTING;
      follower->running = TRUE;
      self->n_running++;
    }

  for (guint i = 0; i < self->followers->len; i++)
    poll_changes (g_ptr_array_index (self->followers, i));

  if (cancellable != NULL)
    {
      self->caller_cancellable = g_object_ref (cancellable);
      self->cancelled_id = g_cancellable_connect (cancellable,
                                                  G_CALLBACK (on_caller_cancelled_cb),
                                                  self, NULL);
    }
}

gboolean
ps_watcher_run_finish (PsWatcher     *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (PS_IS_WATCHER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ps-replication-checkpoint.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The replication log on both databases: writing it, and reading it again
 * when a write conflicts, so that a restart resumes from what was written.
 */

#define G_LOG_DOMAIN "ps-replication"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-checkpoint.h"
#include "ps-json.h"
#include "ps-replication-private.h"

#define MAX_LOG_CONFLICTS 5

static void
on_log_written_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data);
static void
on_log_reread_cb  (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data);

static void
write_log (PsReplication   *self,
           PsCouchDatabase *database,
           gboolean         on_source)
{
  g_autoptr(JsonObject) stats = ps_replication_dup_stats (self);
  g_autoptr(JsonObject) log = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GBytes) body = NULL;
  const char *rev = on_source ? self->source_log_rev : self->target_log_rev;

  log = ps_checkpoint_update_log (on_source ? self->source_log : self->target_log,
                                  self->session_id, self->start_time, self->start_seq,
                                  self->checkpoint_seq, stats);
  if (rev != NULL)
    json_object_set_string_member (log, "_rev", rev);

  node = json_node_init_object (json_node_alloc (), log);
  body = ps_couch_json_to_bytes (node);
  ps_couch_database_request_async (database, "PUT", self->local_path, NULL, body,
                                   self->run_cancellable, on_log_written_cb,
                                   ps_replication_call_new (self, GINT_TO_POINTER (on_source)));
}

static void
on_log_reread_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  PsReplication *self = call->self;
  gboolean on_source = GPOINTER_TO_INT (call->data);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  char **rev_slot;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  if (ps_replication_call_is_stale (call))
    return;

  if (answer == NULL)
    {
      ps_replication_fail (self, PS_COUCH_DATABASE (object),
                           _("Reading the replication checkpoint from"),
                           g_steal_pointer (&error));
      return;
    }

  rev_slot = on_source ? &self->source_log_rev : &self->target_log_rev;
  g_free (*rev_slot);
  *rev_slot = g_strdup (JSON_NODE_HOLDS_OBJECT (answer)
                          ? ps_json_get_string (json_node_get_object (answer), "_rev") : NULL);
  write_log (self, PS_COUCH_DATABASE (object), on_source);
}

/* Both logs are written at once: each only records what is already on
 * the target, so neither may go first.
 */
static void
log_write_done (PsReplication *self)
{
  g_assert (self->checkpoint_writes > 0);
  if (--self->checkpoint_writes > 0)
    return;

  ps_replication_replace_node (&self->recorded_seq, self->checkpoint_seq);
  self->checkpoint_in_flight = FALSE;
  self->last_checkpoint_time = g_get_monotonic_time ();
  ps_replication_pump (self);
}

static void
on_log_written_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  PsReplication *self = call->self;
  gboolean on_source = GPOINTER_TO_INT (call->data);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  JsonObject *log;
  char **rev_slot;
  JsonObject **log_slot;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  if (ps_replication_call_is_stale (call))
    return;

  rev_slot = on_source ? &self->source_log_rev : &self->target_log_rev;
  log_slot = on_source ? &self->source_log : &self->target_log;

  /* The log was stored but the answer lost, so the retry carried an old
   * revision: read the current one and write again.
   */
  if (answer == NULL && g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_CONFLICT) &&
      self->log_conflicts++ < MAX_LOG_CONFLICTS)
    {
      ps_couch_database_request_async (PS_COUCH_DATABASE (object), "GET", self->local_path,
                                       NULL, NULL, self->run_cancellable, on_log_reread_cb,
                                       ps_replication_call_new (self, GINT_TO_POINTER (on_source)));
      return;
    }

  if (answer == NULL)
    {
      if (on_source && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
          !ps_couch_error_is_transient (error))
        {
          /* A read-only source account cannot keep a log there; the run
           * then resumes from the target's log alone next time.
           */
          g_debug ("the source log could not be written: %s", error->message);
          log_write_done (self);
          return;
        }
      ps_replication_fail (self, on_source ? self->source : self->target,
                           _("Saving the replication checkpoint on"), g_steal_pointer (&error));
      return;
    }

  self->log_conflicts = 0;
  g_free (*rev_slot);
  *rev_slot = NULL;
  if (JSON_NODE_HOLDS_OBJECT (answer))
    *rev_slot = g_strdup (ps_json_get_string (json_node_get_object (answer), "rev"));

  /* Remember the log as written, so the next one extends its history. */
  {
    g_autoptr(JsonObject) stats = ps_replication_dup_stats (self);

    log = ps_checkpoint_update_log (*log_slot, self->session_id, self->start_time,
                                    self->start_seq, self->checkpoint_seq, stats);
    g_clear_pointer (log_slot, json_object_unref);
    *log_slot = log;
  }

  log_write_done (self);
}

static void
write_logs (PsReplication *self)
{
  self->checkpoint_writes = 2;
  write_log (self, self->source, TRUE);
  write_log (self, self->target, FALSE);
}

static void
on_full_commit_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  if (ps_replication_call_is_stale (call))
    return;

  /* Servers that commit every write at once do not know this request. */
  if (answer == NULL && (ps_couch_error_is_transient (error) ||
                         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
    {
      ps_replication_fail (call->self, call->self->target, _("Committing the writes to"),
                           g_steal_pointer (&error));
      return;
    }

  write_logs (call->self);
}

void
ps_replication_write_checkpoint (PsReplication *self)
{
  g_autoptr(GBytes) empty = g_bytes_new_static ("{}", 2);

  self->checkpoint_in_flight = TRUE;
  ps_replication_replace_node (&self->checkpoint_seq, self->completed_seq);
  if (self->target_commits_at_once)
    {
      write_logs (self);
      return;
    }

  ps_couch_database_request_async (self->target, "POST", "_ensure_full_commit", NULL, empty,
                                   self->run_cancellable, on_full_commit_cb,
                                   ps_replication_call_new (self, NULL));
}

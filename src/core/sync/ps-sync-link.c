/* ps-sync-link.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * After its first pass, a continuous job keeps one link open per record
 * database and direction: a continuous replication, and for a pull the
 * queue of records it wrote that still need their conflicts resolved.
 * Every few seconds the links are checked for a stall: a checkpoint that
 * stops moving while changes are pending is the most common silent
 * failure of CouchDB replication.
 */

#define G_LOG_DOMAIN "ps-sync-link"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-sync-job-private.h"
#include "ps-sync-policy.h"

struct _PsSyncLink
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
};

static void
ps_sync_link_clear (PsSyncLink *link)
{
  g_clear_object (&link->replication);
  g_clear_object (&link->resolver);
  g_clear_object (&link->database);
  g_clear_pointer (&link->pending_ids, g_ptr_array_unref);
}

static void
ps_sync_link_release (PsSyncLink *link)
{
  g_rc_box_release_full (link, (GDestroyNotify) ps_sync_link_clear);
}

/* A resolution in flight keeps its link alive; a link the job dropped is
 * detached (job = NULL) and its late answers are ignored.
 */
void
ps_sync_link_detach (PsSyncLink *link)
{
  if (link->replication != NULL)
    g_signal_handlers_disconnect_by_data (link->replication, link);
  link->job = NULL;
  ps_sync_link_release (link);
}

static void resolve_pending (PsSyncLink *link);

static void
on_link_resolved_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  PsSyncLink *link = user_data;
  g_autoptr(GError) error = NULL;
  gboolean resolved;

  resolved = ps_resolver_resolve_finish (PS_RESOLVER (object), result, &error);
  if (link->job == NULL)
    {
      ps_sync_link_release (link);
      return;
    }
  ps_sync_link_release (link);

  link->resolving = FALSE;
  if (!resolved)
    {
      g_autofree char *message = NULL;

      /* TRANSLATORS: the first %s is a database, the second the reason */
      message = g_strdup_printf (_("Could not resolve the conflicts in %s: %s"),
                                 ps_sync_database_get_name (link->database), error->message);
      ps_sync_job_handle_error (link->job, message, error);
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
resolve_pending (PsSyncLink *link)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = NULL;

  if (link->resolving || link->pending_ids->len == 0)
    return;

  link->resolver = ps_sync_job_new_resolver (link->job, link->database, &error);
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
                              PsSyncLink     *link)
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

  for (guint i = 0; i < self->links->len; i++)
    {
      PsSyncLink *link = g_ptr_array_index (self->links, i);

      switch (ps_replication_get_state (link->replication))
        {
        case PS_REPLICATION_STATE_RETRYING:
          retrying = TRUE;
          ps_sync_job_set_error_message (self, ps_replication_get_last_error (link->replication));
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
    ps_sync_job_set_state (self, ps_sync_job_network_is_missing (self)
                                 ? PS_SYNC_STATE_WAITING_FOR_NETWORK
                                 : PS_SYNC_STATE_BACKING_OFF);
  else if (busy)
    ps_sync_job_set_state (self, PS_SYNC_STATE_SYNCING);
  else
    {
      /* Caught up again after carrying changes: in sync as of now. The
       * manager saves that at most once per its save interval.
       */
      if (ps_sync_job_get_state (self) != PS_SYNC_STATE_UP_TO_DATE)
        ps_sync_job_note_in_sync (self);
      ps_sync_job_set_error_message (self, NULL);
      ps_sync_job_set_state (self, PS_SYNC_STATE_UP_TO_DATE);
    }
}

static void
on_link_state_cb (PsReplication *replication,
                  GParamSpec    *pspec,
                  PsSyncLink    *link)
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
    ps_sync_job_fail (self, error);
}

static char *
dup_stall_message (PsSyncLink *link,
                   guint       stall_seconds)
{
  const char *name = ps_sync_database_get_name (link->database);
  const char *reason = ps_replication_get_last_error (link->replication);

  if (reason == NULL)
    return g_strdup_printf (link->is_pull
                            /* TRANSLATORS: %s is a database, %u a number of seconds */
                            ? _("Pulling %s has not moved for %u s while changes are waiting.")
                            : _("Pushing %s has not moved for %u s while changes are waiting."),
                            name, stall_seconds);

  return g_strdup_printf (link->is_pull
                          /* TRANSLATORS: %s is a database, %u a number of seconds, then the reason */
                          ? _("Pulling %s has not moved for %u s while changes are waiting: %s")
                          : _("Pushing %s has not moved for %u s while changes are waiting: %s"),
                          name, stall_seconds, reason);
}

/* Runs every few seconds while a continuous job runs. */
gboolean
ps_sync_links_check_stall (gpointer user_data)
{
  PsSyncJob *self = user_data;
  gint64 now = g_get_monotonic_time ();

  /* A continuous sync that keeps failing before it ever catches up. */
  if (self->failing_since != 0 && self->state != PS_SYNC_STATE_STALLED &&
      ps_sync_policy_is_stalled (now, self->failing_since, self->stall_seconds))
    {
      g_autofree char *message = NULL;

      /* TRANSLATORS: %u is a number of seconds, %s the reason */
      message = g_strdup_printf (_("nothing was synced for %u s: %s"), self->stall_seconds,
                                 self->error_message != NULL ? self->error_message
                                                             : _("unknown error"));
      ps_sync_job_announce_stall (self, message);
      return G_SOURCE_CONTINUE;
    }

  for (guint i = 0; i < self->links->len; i++)
    {
      PsSyncLink *link = g_ptr_array_index (self->links, i);
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

      if (self->state != PS_SYNC_STATE_STALLED &&
          ps_sync_policy_is_stalled (now, link->last_progress_time, self->stall_seconds))
        {
          g_autofree char *message = dup_stall_message (link, self->stall_seconds);

          ps_sync_job_announce_stall (self, message);
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
  PsSyncLink *link;
  PsReplication *replication = ps_sync_job_new_replication (self, database, pull, &error);

  if (replication == NULL)
    {
      ps_sync_job_fail (self, error);
      return FALSE;
    }

  link = g_rc_box_new0 (PsSyncLink);
  link->job = self;
  link->database = g_object_ref (database);
  link->replication = replication;
  link->is_pull = pull;
  link->pending_ids = g_ptr_array_new_with_free_func (g_free);
  link->last_progress_time = g_get_monotonic_time ();
  g_ptr_array_add (self->links, link);

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

/* After a complete pass: one link per database and direction. */
void
ps_sync_links_start (PsSyncJob *self)
{
  PsSyncDirection direction = ps_server_get_direction (self->server);

  ps_sync_job_set_following (self, TRUE);
  ps_sync_job_set_state (self, PS_SYNC_STATE_UP_TO_DATE);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->databases)); i++)
    {
      g_autoptr(PsSyncDatabase) database = g_list_model_get_item (G_LIST_MODEL (self->databases), i);

      if (direction != PS_SYNC_DIRECTION_PUSH && !add_link (self, database, TRUE))
        return;
      if (direction != PS_SYNC_DIRECTION_PULL && !add_link (self, database, FALSE))
        return;
    }
}

/* ps-sync-pass.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The one-shot pass of a sync job: for each record database in turn, pull
 * (remote → this instance), resolve the conflicts among what was pulled,
 * push (this instance → remote), so that resolutions reach both ends.
 * With deferred attachments each pull and push runs twice: first without
 * the records that have attachments, then with them.
 */

#define G_LOG_DOMAIN "ps-sync-pass"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-sync-job-private.h"

static void run_step (PsSyncJob *self);

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
  ps_sync_job_set_progress (self, MIN (1.0, (double) (self->db_index * PS_SYNC_N_STEPS + self->step) /
                                            (n_databases * PS_SYNC_N_STEPS)));
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
  if (self->step == PS_SYNC_N_STEPS)
    {
      self->step = PS_SYNC_STEP_PULL;
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
  g_autoptr(GError) error = NULL;

  if (!ps_replication_run_finish (PS_REPLICATION (object), result, &error))
    {
      g_autoptr(PsSyncDatabase) database = current_database (self);
      g_autofree char *message = NULL;

      message = g_strdup_printf (self->step == PS_SYNC_STEP_PULL
                                 /* TRANSLATORS: the first %s is a database, the second the reason */
                                 ? _("Could not pull %s: %s")
                                 : _("Could not push %s: %s"),
                                 ps_sync_database_get_name (database), error->message);
      ps_sync_job_handle_error (self, message, error);
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
on_step_resolved_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(PsSyncJob) self = user_data;
  g_autoptr(PsSyncDatabase) database = current_database (self);
  g_autoptr(GError) error = NULL;

  if (!ps_resolver_resolve_finish (PS_RESOLVER (object), result, &error))
    {
      g_autofree char *message = NULL;

      message = g_strdup_printf (_("Could not resolve the conflicts in %s: %s"),
                                 ps_sync_database_get_name (database), error->message);
      ps_sync_job_handle_error (self, message, error);
      return;
    }

  ps_sync_database_add_resolved (database, ps_resolver_get_n_resolved (PS_RESOLVER (object)));
  advance (self);
}

static void
finish_pass (PsSyncJob *self)
{
  g_autoptr(JsonObject) entry = json_object_new ();
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
  ps_sync_job_journal (self, "sync", entry);

  ps_sync_job_succeed (self);
}

static void
start_replication (PsSyncJob      *self,
                   PsSyncDatabase *database,
                   gboolean        pull)
{
  PsSyncDirection direction = ps_server_get_direction (self->server);
  g_autoptr(PsReplication) replication = NULL;
  g_autoptr(GError) error = NULL;

  if ((pull && direction == PS_SYNC_DIRECTION_PUSH) ||
      (!pull && direction == PS_SYNC_DIRECTION_PULL))
    {
      advance (self);
      return;
    }

  replication = ps_sync_job_new_replication (self, database, pull, &error);
  if (replication == NULL)
    {
      ps_sync_job_fail (self, error);
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
}

static void
start_resolver (PsSyncJob      *self,
                PsSyncDatabase *database)
{
  g_autoptr(PsResolver) resolver = NULL;
  g_autoptr(GError) error = NULL;

  /* Only what was pulled can have brought a conflict. */
  if (self->written_ids->len == 0)
    {
      advance (self);
      return;
    }

  resolver = ps_sync_job_new_resolver (self, database, &error);
  if (resolver == NULL)
    {
      ps_sync_job_fail (self, error);
      return;
    }
  g_ptr_array_add (self->written_ids, NULL);
  ps_resolver_resolve_async (resolver, (const char * const *) self->written_ids->pdata,
                             self->cancellable, on_step_resolved_cb, g_object_ref (self));
  g_ptr_array_set_size (self->written_ids, 0);
}

static void
run_step (PsSyncJob *self)
{
  g_autoptr(PsSyncDatabase) database = NULL;

  if (self->db_index >= g_list_model_get_n_items (G_LIST_MODEL (self->databases)))
    {
      finish_pass (self);
      return;
    }

  database = current_database (self);
  ps_sync_job_set_state (self, PS_SYNC_STATE_SYNCING);

  switch (self->step)
    {
    case PS_SYNC_STEP_PULL:
      start_replication (self, database, TRUE);
      break;
    case PS_SYNC_STEP_RESOLVE:
      start_resolver (self, database);
      break;
    case PS_SYNC_STEP_PUSH:
      start_replication (self, database, FALSE);
      break;
    case PS_SYNC_N_STEPS:
    default:
      g_assert_not_reached ();
    }
}

/* Starts a pass over the server's record databases, as they are now. */
void
ps_sync_pass_begin (PsSyncJob *self)
{
  g_auto(GStrv) names = ps_server_dup_database_names (self->server);

  g_list_store_remove_all (self->databases);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autoptr(PsSyncDatabase) database = ps_sync_database_new (names[i]);

      g_list_store_append (self->databases, database);
    }

  self->db_index = 0;
  self->step = PS_SYNC_STEP_PULL;
  self->attachments_pass = FALSE;
  ps_sync_job_set_progress (self, 0);
  run_step (self);
}

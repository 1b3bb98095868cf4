/* ps-cli-sync.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "ps-cli-commands.h"
#include "ps-cli-common.h"
#include "ps-context.h"
#include "ps-sync-database.h"

typedef struct
{
  guint    running;
  gboolean failed;
  guint    resolved;
} SyncRun;

static void
on_job_state_cb (PsSyncJob  *job,
                 GParamSpec *pspec,
                 SyncRun    *run)
{
  g_autofree char *status = ps_sync_job_dup_status_text (job);

  g_print ("%s: %s\n", ps_server_get_description (ps_sync_job_get_server (job)), status);
}

static void
on_job_resolved_cb (PsSyncJob  *job,
                    JsonObject *report,
                    SyncRun    *run)
{
  const char *display_id = json_object_get_string_member_with_default (report, "display_id", NULL);
  JsonArray *decisions = json_object_get_array_member (report, "decisions");

  run->resolved++;
  g_print (_("%s: resolved %s %s (%u contested field(s))\n"),
           ps_server_get_description (ps_sync_job_get_server (job)),
           json_object_get_string_member_with_default (report, "record_type", ""),
           display_id != NULL ? display_id : json_object_get_string_member (report, "id"),
           decisions != NULL ? json_array_get_length (decisions) : 0);
}

static void
on_job_finished_cb (PsSyncJob *job,
                    gboolean   success,
                    SyncRun   *run)
{
  /* A one-shot job finishes when done; a continuous one only when it
   * fails for good (a stall is reported, and it keeps trying).
   */
  if (success)
    run->running--;
  else if (ps_sync_job_get_state (job) == PS_SYNC_STATE_FAILED)
    {
      run->failed = TRUE;
      run->running--;
    }
}

/* Records left out, such as those with an attachment over the limit. */
static void
print_not_synced (PsSyncJob *job)
{
  GListModel *databases = ps_sync_job_get_databases (job);

  for (guint i = 0; i < g_list_model_get_n_items (databases); i++)
    {
      g_autoptr(PsSyncDatabase) database = g_list_model_get_item (databases, i);
      PsReplication *replications[] = {
        ps_sync_database_get_pull (database), ps_sync_database_get_push (database),
      };

      for (guint r = 0; r < G_N_ELEMENTS (replications); r++)
        {
          GPtrArray *failures = replications[r] != NULL
            ? ps_replication_get_write_failures (replications[r]) : NULL;

          for (guint f = 0; failures != NULL && f < failures->len; f++)
            {
              PsWriteFailure *failure = g_ptr_array_index (failures, f);

              /* TRANSLATORS: “DATABASE: RECORD ID not synced: REASON” */
              g_print (_("%s: %s not synced: %s\n"), ps_sync_database_get_name (database),
                       failure->id, failure->reason != NULL ? failure->reason : failure->error);
            }
        }
    }
}

/* What `sync --status` knows of a server without syncing it. */
static JsonNode *
status_to_json (PsServer                  *server,
                PsServerReplicationStatus *replication)
{
  g_autoptr(JsonObject) object = json_object_new ();

  json_object_set_string_member (object, "id", ps_server_get_id (server));
  json_object_set_string_member (object, "description", ps_server_get_description (server));
  ps_cli_add_last_sync_json (object, server);
  if (replication != NULL)
    json_object_set_member (object, "on_server",
                            ps_server_replication_status_to_json (replication));
  else
    json_object_set_null_member (object, "on_server");

  return json_node_init_object (json_node_alloc (), object);
}

static void
print_status (PsServer                  *server,
              PsServerReplicationStatus *replication)
{
  g_print ("%s (%s)\n", ps_server_get_description (server), ps_server_get_id (server));
  ps_cli_print_last_sync (server);
  if (replication != NULL)
    ps_cli_print_server_replication (replication);
}

static int
show_status (PsServerStore *store,
             GPtrArray     *servers,
             gboolean       json)
{
  g_autoptr(PsSyncManager) manager = ps_cli_new_sync_manager (store);
  g_autoptr(JsonArray) array = json_array_new ();

  for (guint i = 0; i < servers->len; i++)
    {
      PsServer *server = g_ptr_array_index (servers, i);
      g_autoptr(PsServerReplicationStatus) replication = NULL;

      if (ps_server_get_on_server (server))
        replication = ps_cli_read_server_replication (manager, server);

      if (json)
        json_array_add_element (array, status_to_json (server, replication));
      else
        {
          if (i > 0)
            g_print ("\n");
          print_status (server, replication);
        }
    }

  if (json)
    {
      g_autoptr(JsonNode) node = json_node_init_array (json_node_alloc (), array);

      ps_cli_print_json (node);
    }

  return PS_CLI_EXIT_OK;
}

int
ps_cli_sync (int    argc,
             char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(PsContext) ps_context = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GPtrArray) servers = g_ptr_array_new_with_free_func (g_object_unref);
  gboolean all = FALSE;
  gboolean once = FALSE;
  gboolean allow_metered = FALSE;
  gboolean status = FALSE;
  gboolean json = FALSE;
  gboolean failed = FALSE;
  SyncRun run = { 0, };
  PsServerStore *store;
  PsSyncManager *manager;
  const GOptionEntry entries[] = {
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, N_("Sync every configured server"), NULL },
    { "once", 0, 0, G_OPTION_ARG_NONE, &once,
      N_("Sync once and stop, also for continuous servers"), NULL },
    { "allow-metered", 0, 0, G_OPTION_ARG_NONE, &allow_metered,
      N_("Sync once even over a connection that may cost money"), NULL },
    { "status", 0, 0, G_OPTION_ARG_NONE, &status,
      N_("Do not sync: show the last sync of each server named (all without one) and, for "
         "servers synced on the server, the replication’s state"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("With --status, print a JSON array"), NULL },
    { NULL }
  };

  context = ps_cli_option_context_new (_("ID|--all"),
                                       _("Syncs this instance with a configured server (by id or "
                                         "description) or with all of them: for every record "
                                         "database, pull, resolve conflicts, push. Continuous "
                                         "servers keep syncing until interrupted unless --once "
                                         "is given. Passwords come from the keyring. A server "
                                         "synced on the server has its replication documents "
                                         "written again instead."),
                                       entries);
  if (!ps_cli_parse_options (context, &argc, &argv))
    return PS_CLI_EXIT_USAGE;
  if (json && !status)
    return ps_cli_usage_error (context, _("--json goes with --status."));
  /* The status of every server is the usual question. */
  if (status && argc == 1)
    all = TRUE;
  if ((all && argc != 1) || (!all && argc != 2))
    return ps_cli_usage_error (context, _("Name one server, or give --all."));

  ps_context = ps_context_new ();
  store = ps_context_get_server_store (ps_context);
  manager = ps_context_get_sync_manager (ps_context);

  if (all)
    {
      for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (store)); i++)
        g_ptr_array_add (servers, g_list_model_get_item (G_LIST_MODEL (store), i));
      if (servers->len == 0)
        {
          g_printerr (_("No server is configured; add one with “%s server add”.\n"),
                      g_get_prgname ());
          return PS_CLI_EXIT_FAILED;
        }
    }
  else
    {
      g_autoptr(GError) error = NULL;
      PsServer *server = ps_server_store_find (store, argv[1], &error);

      if (server == NULL)
        {
          ps_cli_print_error (NULL, error);
          return PS_CLI_EXIT_FAILED;
        }
      g_ptr_array_add (servers, g_object_ref (server));
    }

  if (status)
    return show_status (store, servers, json);

  /* CouchDB syncs these: their documents are brought up to date instead. */
  for (guint i = 0; i < servers->len;)
    {
      PsServer *server = g_ptr_array_index (servers, i);

      if (!ps_server_get_on_server (server))
        {
          i++;
          continue;
        }
      g_print (_("%s is synced on the server by this instance’s CouchDB.\n"),
               ps_server_get_description (server));
      if (!ps_cli_apply_server_replication (store, server))
        failed = TRUE;
      g_ptr_array_remove_index (servers, i);
    }

  /* A continuous job pauses by itself; a one-shot sync must be asked for. */
  for (guint i = 0; i < servers->len && !allow_metered; i++)
    {
      PsServer *server = g_ptr_array_index (servers, i);
      PsSyncJob *job = ps_sync_manager_get_job (manager, ps_server_get_id (server));

      if (ps_sync_job_needs_consent (job, once))
        {
          g_printerr (_("Error: this connection may cost money and %s is not allowed to sync "
                        "over a metered connection. Give --allow-metered to sync anyway, or "
                        "allow it with “%s server edit %s --allow-metered”.\n"),
                      ps_server_get_description (server), g_get_prgname (),
                      ps_server_get_id (server));
          return PS_CLI_EXIT_FAILED;
        }
    }

  cancellable = ps_cli_cancel_on_interrupt ();
  for (guint i = 0; i < servers->len; i++)
    {
      PsServer *server = g_ptr_array_index (servers, i);
      PsSyncJob *job = ps_sync_manager_get_job (manager, ps_server_get_id (server));

      g_signal_connect (job, "notify::state", G_CALLBACK (on_job_state_cb), &run);
      g_signal_connect (job, "resolved", G_CALLBACK (on_job_resolved_cb), &run);
      g_signal_connect (job, "finished", G_CALLBACK (on_job_finished_cb), &run);
      run.running++;
      /* Through the manager, so that a fleet syncs a few at a time. */
      if (once)
        ps_sync_manager_sync_once (manager, ps_server_get_id (server));
      else
        ps_sync_manager_sync (manager, ps_server_get_id (server));
    }

  while (run.running > 0 && !g_cancellable_is_cancelled (cancellable))
    g_main_context_iteration (NULL, TRUE);

  for (guint i = 0; i < servers->len; i++)
    {
      PsServer *server = g_ptr_array_index (servers, i);
      PsSyncJob *job = ps_sync_manager_get_job (manager, ps_server_get_id (server));

      g_signal_handlers_disconnect_by_data (job, &run);
      print_not_synced (job);
      if (ps_sync_job_get_state (job) == PS_SYNC_STATE_FAILED)
        g_printerr (_("Error: sync with %s failed: %s\n"), ps_server_get_description (server),
                    ps_sync_job_get_error_message (job));
      if (g_error_matches (ps_sync_job_get_error (job), PS_COUCH_ERROR, PS_COUCH_ERROR_UNAUTHORIZED))
        g_printerr (_("Change the password kept for %s with “%s server edit %s --password-stdin”.\n"),
                    ps_server_get_description (server), g_get_prgname (), ps_server_get_id (server));
      ps_sync_job_stop (job);
    }

  g_print (ngettext ("%u record resolved\n", "%u records resolved\n", run.resolved), run.resolved);
  return run.failed || failed ? PS_CLI_EXIT_FAILED : PS_CLI_EXIT_OK;
}

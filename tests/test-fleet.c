/* test-fleet.c: a head office syncs with fifty field offices. Sync All
 * runs a few at a time and queues the rest; every office converges.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-context.h"
#include "ps-record-generator.h"
#include "ps-test-peer.h"

#include <stdio.h>
#include <string.h>

#define N_OFFICES 50
#define MAX_JOBS  4

typedef struct
{
  PsTestPeer    *local;
  PsTestPeer    *remote;
  PsContext     *context;
  PsSyncManager *manager;
  GPtrArray     *servers;
  char          *dir;
  guint          most_busy;
  guint          ever_queued;
  guint          finished;
  guint          failed;
} Fleet;

static char *
database_name (guint office)
{
  return g_strdup_printf ("office%02u_child_production", office);
}

/* Each office's database holds a case on each side, and one case both
 * sides edited, so that every sync pulls, resolves and pushes.
 */
static void
fleet_set_up (Fleet *fleet)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (50);
  g_autoptr(GError) error = NULL;
  g_autofree char *journal = NULL;
  PsServerStore *store;
  const char * const child[] = { "child", NULL };

  fleet->local = ps_test_peer_new (TRUE);
  fleet->remote = ps_test_peer_new (TRUE);
  fleet->dir = g_dir_make_tmp ("ps-fleet-XXXXXX", &error);
  g_assert_no_error (error);
  journal = g_build_filename (fleet->dir, "journal.jsonl", NULL);
  fleet->context = ps_context_new_for_dirs (fleet->dir, journal);
  fleet->manager = ps_context_get_sync_manager (fleet->context);
  store = ps_context_get_server_store (fleet->context);
  ps_server_set_url (ps_server_store_get_local (store), ps_test_peer_get_url (fleet->local));
  fleet->servers = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 1; i <= N_OFFICES; i++)
    {
      g_autofree char *name = database_name (i);
      g_autofree char *description = g_strdup_printf ("Office %02u", i);
      g_autofree char *prefix = g_strdup_printf ("office%02u", i);
      g_autoptr(GPtrArray) shared = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
      g_autoptr(GPtrArray) local_edits = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
      g_autoptr(GPtrArray) remote_edits = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
      PsServer *server;

      ps_test_peer_create_db (fleet->local, name);
      ps_test_peer_create_db (fleet->remote, name);
      g_ptr_array_add (shared, ps_record_generator_child (rand, i * 10));
      ps_test_peer_put_records (fleet->local, name, shared);
      ps_test_peer_put_records (fleet->remote, name, shared);
      g_ptr_array_add (local_edits, ps_record_generator_edit (rand, shared->pdata[0]));
      g_ptr_array_add (local_edits, ps_record_generator_child (rand, i * 10 + 1));
      g_ptr_array_add (remote_edits, ps_record_generator_edit (rand, shared->pdata[0]));
      g_ptr_array_add (remote_edits, ps_record_generator_child (rand, i * 10 + 2));
      ps_test_peer_put_records (fleet->local, name, local_edits);
      ps_test_peer_put_records (fleet->remote, name, remote_edits);

      server = ps_server_new (description, ps_test_peer_get_url (fleet->remote));
      ps_server_set_database_prefix (server, prefix);
      ps_server_set_record_types (server, child);
      g_assert_true (ps_server_store_add (store, server, &error));
      g_assert_no_error (error);
      g_ptr_array_add (fleet->servers, server);
    }
}

static void
fleet_tear_down (Fleet *fleet)
{
  g_clear_pointer (&fleet->servers, g_ptr_array_unref);
  g_clear_object (&fleet->context);
  g_clear_pointer (&fleet->local, ps_test_peer_free);
  g_clear_pointer (&fleet->remote, ps_test_peer_free);
  ps_test_remove_dir (fleet->dir);
  g_clear_pointer (&fleet->dir, g_free);
}

static void
on_state_cb (PsSyncJob  *job,
             GParamSpec *pspec,
             Fleet      *fleet)
{
  fleet->most_busy = MAX (fleet->most_busy, ps_sync_manager_get_n_busy (fleet->manager));
  if (ps_sync_job_get_state (job) == PS_SYNC_STATE_QUEUED)
    fleet->ever_queued++;
}

static void
on_finished_cb (PsSyncJob *job,
                gboolean   success,
                Fleet     *fleet)
{
  fleet->finished++;
  fleet->failed += !success;
}

static gboolean
on_timeout_cb (gpointer user_data)
{
  g_error ("the fleet did not finish in time");
  return G_SOURCE_REMOVE;
}

/* The test process's peak resident memory, in kB. */
static guint64
peak_rss_kb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmHWM:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("VmHWM:"), NULL, 10);
}

static void
test_sync_all_fifty_offices (void)
{
  Fleet fleet = { 0, };
  PsServer *taken_back;
  PsSyncJob *taken_back_job;
  guint timeout;

  fleet_set_up (&fleet);
  ps_sync_manager_set_max_jobs (fleet.manager, MAX_JOBS);
  for (guint i = 0; i < fleet.servers->len; i++)
    {
      PsSyncJob *job = ps_sync_manager_get_job (fleet.manager,
                                                ps_server_get_id (fleet.servers->pdata[i]));

      g_signal_connect (job, "notify::state", G_CALLBACK (on_state_cb), &fleet);
      g_signal_connect (job, "finished", G_CALLBACK (on_finished_cb), &fleet);
    }

  /* Sync All: four start, the others wait their turn and say so. */
  ps_sync_manager_sync_all (fleet.manager);
  g_assert_cmpuint (ps_sync_manager_get_n_busy (fleet.manager), ==, MAX_JOBS);
  taken_back = fleet.servers->pdata[N_OFFICES - 1];
  taken_back_job = ps_sync_manager_get_job (fleet.manager, ps_server_get_id (taken_back));
  g_assert_cmpint (ps_sync_job_get_state (taken_back_job), ==, PS_SYNC_STATE_QUEUED);
  {
    g_autofree char *status = ps_sync_job_dup_status_text (taken_back_job);

    g_assert_cmpstr (status, ==, "Queued");
  }

  /* A queued office can be taken back before its turn. */
  ps_sync_manager_stop (fleet.manager, ps_server_get_id (taken_back));
  g_assert_cmpint (ps_sync_job_get_state (taken_back_job), ==, PS_SYNC_STATE_IDLE);

  timeout = g_timeout_add_seconds (240, on_timeout_cb, NULL);
  while (fleet.finished < N_OFFICES - 1)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (ps_sync_job_get_state (taken_back_job), ==, PS_SYNC_STATE_IDLE);

  /* Then it syncs on its own. */
  ps_sync_manager_sync (fleet.manager, ps_server_get_id (taken_back));
  while (fleet.finished < N_OFFICES)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);

  g_test_message ("at most %u busy at once; %u queued; peak RSS %" G_GUINT64_FORMAT " kB",
                  fleet.most_busy, fleet.ever_queued, peak_rss_kb ());
  g_assert_cmpuint (fleet.failed, ==, 0);
  g_assert_cmpuint (fleet.most_busy, <=, MAX_JOBS);
  g_assert_cmpuint (fleet.ever_queued, >=, N_OFFICES - MAX_JOBS);

  /* Every office holds what the head office holds, conflicts resolved. */
  for (guint i = 1; i <= N_OFFICES; i++)
    {
      g_autofree char *name = database_name (i);

      ps_test_assert_same_rev_trees (fleet.local, name, fleet.remote, name);
      g_assert_cmpuint (ps_test_peer_count_conflicts (fleet.local, name), ==, 0);
    }

  fleet_tear_down (&fleet);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/fleet/sync-all-fifty-offices", test_sync_all_fifty_offices);

  return g_test_run ();
}

/* test-sync.c: syncing this instance with a configured server, both real
 * CouchDB-compatible servers, passwords in a real keyring.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-context.h"
#include "ps-record-generator.h"
#include "ps-sync-database.h"
#include "ps-test-keyring.h"
#include "ps-test-peer.h"

#include <string.h>
#include <sys/stat.h>

#define REMOTE_PASSWORD "Quartz-Heron-9052"

static const char *databases[] = {
  "primero_child_production",
  "primero_incident_production",
  "primero_tracing_request_production",
};

typedef struct
{
  PsTestPeer *local;
  PsTestPeer *remote;
  PsContext  *context;
  PsServer   *server;
  char       *dir;
} Fixture;

/* Both instances share 40 cases; then each edits its own cases, both edit
 * five of the same ones, and each creates cases of its own.
 */
static void
seed_diverging_records (Fixture *fixture)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (21);
  g_autoptr(GPtrArray) shared = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GPtrArray) local_edits = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GPtrArray) remote_edits = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

  for (guint i = 0; i < 40; i++)
    g_ptr_array_add (shared, ps_record_generator_child (rand, i));
  for (guint i = 0; i < 10; i++)
    {
      g_ptr_array_add (local_edits, ps_record_generator_edit (rand, shared->pdata[i]));
      g_ptr_array_add (remote_edits, ps_record_generator_edit (rand, shared->pdata[10 + i]));
    }
  for (guint i = 20; i < 25; i++)
    {
      g_ptr_array_add (local_edits, ps_record_generator_edit (rand, shared->pdata[i]));
      g_ptr_array_add (remote_edits, ps_record_generator_edit (rand, shared->pdata[i]));
    }
  for (guint i = 0; i < 5; i++)
    {
      g_ptr_array_add (local_edits, ps_record_generator_child (rand, 100 + i));
      g_ptr_array_add (remote_edits, ps_record_generator_child (rand, 200 + i));
    }

  ps_test_peer_put_records (fixture->local, databases[0], shared);
  ps_test_peer_put_records (fixture->remote, databases[0], shared);
  ps_test_peer_put_records (fixture->local, databases[0], local_edits);
  ps_test_peer_put_records (fixture->remote, databases[0], remote_edits);

  /* The other record databases get a few records of their own. */
  for (guint d = 1; d < G_N_ELEMENTS (databases); d++)
    {
      g_autoptr(GPtrArray) only_local = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

      for (guint i = 0; i < 3; i++)
        g_ptr_array_add (only_local, ps_record_generator_child (rand, 300 + d * 10 + i));
      ps_test_peer_put_records (fixture->local, databases[d], only_local);
    }
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  gboolean persistent_remote = GPOINTER_TO_INT (data);
  g_autofree char *journal = NULL;
  g_autoptr(GError) error = NULL;
  PsServerStore *store;

  fixture->local = ps_test_peer_new (TRUE);
  fixture->remote = ps_test_peer_new_with_admin (!persistent_remote, "admin", REMOTE_PASSWORD);
  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    {
      ps_test_peer_create_db (fixture->local, databases[d]);
      ps_test_peer_create_db (fixture->remote, databases[d]);
    }

  fixture->dir = g_dir_make_tmp ("ps-sync-XXXXXX", &error);
  g_assert_no_error (error);
  journal = g_build_filename (fixture->dir, "journal.jsonl", NULL);
  fixture->context = ps_context_new_for_dirs (fixture->dir, journal);
  store = ps_context_get_server_store (fixture->context);
  ps_server_set_url (ps_server_store_get_local (store), ps_test_peer_get_url (fixture->local));

  fixture->server = ps_server_new ("Field office", ps_test_peer_get_url (fixture->remote));
  ps_server_set_username (fixture->server, "admin");
  g_assert_true (ps_server_store_add (store, fixture->server, &error));
  g_assert_no_error (error);

  ps_test_keyring_store (ps_server_get_id (fixture->server), "Field office", REMOTE_PASSWORD);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->server);
  g_clear_object (&fixture->context);
  g_clear_pointer (&fixture->local, ps_test_peer_free);
  g_clear_pointer (&fixture->remote, ps_test_peer_free);
  ps_test_remove_dir (fixture->dir);
  g_clear_pointer (&fixture->dir, g_free);
}

static PsSyncJob *
get_job (Fixture *fixture)
{
  PsSyncManager *manager = ps_context_get_sync_manager (fixture->context);

  return ps_sync_manager_get_job (manager, ps_server_get_id (fixture->server));
}

static void
on_finished_cb (PsSyncJob *job,
                gboolean   success,
                int       *outcome)
{
  *outcome = success ? 1 : -1;
}

static int
sync_once (PsSyncJob *job)
{
  int outcome = 0;
  gulong handler = g_signal_connect (job, "finished", G_CALLBACK (on_finished_cb), &outcome);

  ps_sync_job_start (job, TRUE);
  while (outcome == 0)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (job, handler);
  return outcome;
}

static void
test_sync_once_converges (Fixture       *fixture,
                          gconstpointer  data)
{
  PsSyncJob *job = get_job (fixture);
  g_autoptr(GPtrArray) resolutions = NULL;
  g_autoptr(GPtrArray) syncs = NULL;
  g_autoptr(GError) error = NULL;
  PsJournalFilter filter = { 0, };

  seed_diverging_records (fixture);

  g_assert_cmpint (sync_once (job), ==, 1);
  g_assert_cmpint (ps_sync_job_get_state (job), ==, PS_SYNC_STATE_UP_TO_DATE);
  g_assert_cmpuint (g_list_model_get_n_items (ps_sync_job_get_databases (job)), ==, 3);

  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    {
      ps_test_assert_same_rev_trees (fixture->local, databases[d], fixture->remote, databases[d]);
      g_assert_cmpuint (ps_test_peer_count_conflicts (fixture->local, databases[d]), ==, 0);
      g_assert_cmpuint (ps_test_peer_count_conflicts (fixture->remote, databases[d]), ==, 0);
    }

  /* The five records edited on both sides were resolved, and journaled. */
  filter.kind = "resolution";
  resolutions = ps_journal_read (ps_context_get_journal (fixture->context), &filter, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (resolutions->len, ==, 5);
  filter.kind = "sync";
  syncs = ps_journal_read (ps_context_get_journal (fixture->context), &filter, &error);
  g_assert_cmpuint (syncs->len, ==, 1);
  g_assert_cmpint (ps_server_get_last_sync_time (fixture->server), >, 0);

  /* Nothing new: a second sync copies nothing and resolves nothing. */
  g_assert_cmpint (sync_once (job), ==, 1);
  {
    g_autoptr(PsSyncDatabase) child = g_list_model_get_item (ps_sync_job_get_databases (job), 0);

    g_assert_cmpuint (ps_replication_get_docs_written (ps_sync_database_get_pull (child)), ==, 0);
    g_assert_cmpuint (ps_replication_get_docs_written (ps_sync_database_get_push (child)), ==, 0);
  }
}

static void
put_plain_doc (PsTestPeer *peer,
               const char *id)
{
  ps_test_peer_put_named_doc (peer, databases[0], id, "Amina");
}

static gboolean
has_doc (PsTestPeer *peer,
         const char *id)
{
  g_autofree char *path = g_strdup_printf ("/%s/%s", databases[0], id);
  g_autoptr(JsonNode) answer = NULL;
  guint status = 0;

  answer = ps_test_peer_request (peer, "GET", path, NULL, &status);
  return status == 200;
}

static void
iterate_for (guint milliseconds)
{
  gint64 until = g_get_monotonic_time () + milliseconds * 1000;

  while (g_get_monotonic_time () < until)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (5000);
}

static gint64
wait_for_doc (PsTestPeer *peer,
              const char *id,
              guint       timeout_ms)
{
  gint64 start = g_get_monotonic_time ();

  while (!has_doc (peer, id))
    {
      g_assert_cmpint ((g_get_monotonic_time () - start) / 1000, <, timeout_ms);
      iterate_for (50);
    }
  return (g_get_monotonic_time () - start) / 1000;
}

static void
wait_for_state (PsSyncJob   *job,
                PsSyncState  state,
                guint        timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  while (ps_sync_job_get_state (job) != state)
    {
      if (g_get_monotonic_time () >= deadline)
        {
          g_autofree char *status = ps_sync_job_dup_status_text (job);

          g_error ("waited for state %d, still %d: %s", state, ps_sync_job_get_state (job), status);
        }
      iterate_for (20);
    }
}

static void
test_continuous_follows_and_recovers (Fixture       *fixture,
                                      gconstpointer  data)
{
  PsSyncJob *job = get_job (fixture);
  gint64 took;

  ps_server_set_continuous (fixture->server, TRUE);
  ps_sync_job_start (job, FALSE);
  wait_for_state (job, PS_SYNC_STATE_UP_TO_DATE, 20000);

  put_plain_doc (fixture->remote, "edited-on-remote");
  took = wait_for_doc (fixture->local, "edited-on-remote", 5000);
  g_test_message ("an edit on the remote reached this instance in %" G_GINT64_FORMAT " ms", took);
  g_assert_cmpint (took, <, 2000);

  /* The remote goes away; writes here wait, and flow once it is back. */
  ps_test_peer_stop (fixture->remote);
  put_plain_doc (fixture->local, "written-while-remote-down");
  wait_for_state (job, PS_SYNC_STATE_BACKING_OFF, 30000);
  g_assert_nonnull (ps_sync_job_get_error_message (job));
  ps_test_peer_start (fixture->remote);

  wait_for_doc (fixture->remote, "written-while-remote-down", 60000);
  wait_for_state (job, PS_SYNC_STATE_UP_TO_DATE, 30000);
  g_assert_true (ps_sync_job_get_running (job));
  ps_sync_job_stop (job);
  g_assert_cmpint (ps_sync_job_get_state (job), ==, PS_SYNC_STATE_IDLE);

  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    ps_test_assert_same_rev_trees (fixture->local, databases[d], fixture->remote, databases[d]);
}

static void
on_sync_failed_cb (PsSyncManager *manager,
                   PsSyncJob     *job,
                   guint         *count)
{
  (*count)++;
}

static void
test_wrong_password_fails_plainly (Fixture       *fixture,
                                   gconstpointer  data)
{
  PsSyncJob *job = get_job (fixture);
  guint failures = 0;
  char *status;

  g_signal_connect (ps_context_get_sync_manager (fixture->context), "sync-failed",
                    G_CALLBACK (on_sync_failed_cb), &failures);
  ps_test_keyring_store (ps_server_get_id (fixture->server), "Field office", "not-the-password");

  g_assert_cmpint (sync_once (job), ==, -1);
  g_assert_cmpint (ps_sync_job_get_state (job), ==, PS_SYNC_STATE_FAILED);
  g_assert_cmpuint (failures, ==, 1);
  g_test_message ("%s", ps_sync_job_get_error_message (job));
  g_assert_true (g_str_has_prefix (ps_sync_job_get_error_message (job),
                                   "Could not pull primero_child_production: "));
  /* The cause keeps its code, for the window and the command line to act on. */
  g_assert_error ((GError *) ps_sync_job_get_error (job), PS_COUCH_ERROR, PS_COUCH_ERROR_UNAUTHORIZED);
  g_assert_cmpstr (ps_sync_job_get_error (job)->message, ==, ps_sync_job_get_error_message (job));
  g_assert_nonnull (strstr (ps_sync_job_get_error_message (job), "password was refused (401)"));
  g_assert_null (strstr (ps_sync_job_get_error_message (job), REMOTE_PASSWORD));
  status = ps_sync_job_dup_status_text (job);
  g_assert_true (g_str_has_prefix (status, "Failed: "));
  g_free (status);
}

static void
on_sync_recovered_cb (PsSyncManager *manager,
                      PsSyncJob     *job,
                      guint         *count)
{
  (*count)++;
}

/* A continuous sync that cannot get anywhere says so instead of retrying
 * in silence, and says when it works again.
 */
static void
test_continuous_stall_reported (Fixture       *fixture,
                                gconstpointer  data)
{
  PsSyncManager *manager = ps_context_get_sync_manager (fixture->context);
  PsSyncJob *job;
  guint failures = 0;
  guint recoveries = 0;

  g_setenv ("PS_SYNC_STALL_SECONDS", "2", TRUE);
  job = get_job (fixture);
  g_unsetenv ("PS_SYNC_STALL_SECONDS");
  g_signal_connect (manager, "sync-failed", G_CALLBACK (on_sync_failed_cb), &failures);
  g_signal_connect (manager, "sync-recovered", G_CALLBACK (on_sync_recovered_cb), &recoveries);

  ps_server_set_continuous (fixture->server, TRUE);
  ps_test_peer_stop (fixture->remote);
  ps_sync_job_start (job, FALSE);

  wait_for_state (job, PS_SYNC_STATE_STALLED, 30000);
  g_assert_cmpuint (failures, ==, 1);
  g_test_message ("%s", ps_sync_job_get_error_message (job));
  g_assert_nonnull (strstr (ps_sync_job_get_error_message (job), "refused"));

  ps_test_peer_start (fixture->remote);
  wait_for_state (job, PS_SYNC_STATE_UP_TO_DATE, 60000);
  g_assert_cmpuint (recoveries, ==, 1);
  ps_sync_job_stop (job);
}

/* What identifies one version of a file replaced by a rename. */
static char *
file_signature (const char *path)
{
  struct stat st;

  if (stat (path, &st) != 0)
    return g_strdup ("absent");
  return g_strdup_printf ("%lu/%ld.%09ld", (gulong) st.st_ino, (long) st.st_ctim.tv_sec,
                          st.st_ctim.tv_nsec);
}

typedef struct
{
  const char *path;
  char       *signature;
  guint       n_replaced;
  guint       n_up_to_date;
} SaveCount;

/* Connected after the manager's handler, so a save made for this state is
 * on disk already.
 */
static void
count_replaced (SaveCount *count)
{
  g_autofree char *signature = file_signature (count->path);

  if (g_strcmp0 (signature, count->signature) != 0)
    {
      count->n_replaced++;
      g_free (count->signature);
      count->signature = g_steal_pointer (&signature);
    }
}

static void
on_job_state_count_saves_cb (PsSyncJob  *job,
                             GParamSpec *pspec,
                             SaveCount  *count)
{
  if (ps_sync_job_get_state (job) == PS_SYNC_STATE_UP_TO_DATE)
    count->n_up_to_date++;
  count_replaced (count);
}

/* A continuous sync becomes up to date again after every change the feed
 * brings; rewriting the server list each time stalls the main loop and
 * the next request (fsyncs on a field laptop's SD card).
 */
static void
test_continuous_saves_throttled (Fixture       *fixture,
                                 gconstpointer  data)
{
  PsSyncManager *manager = ps_context_get_sync_manager (fixture->context);
  PsServerStore *store = ps_context_get_server_store (fixture->context);
  PsSyncJob *job = get_job (fixture);
  SaveCount count = { ps_server_store_get_path (store), NULL, 0, 0 };
  const guint interval_ms = 1000;
  const guint n_changes = 40;
  gint64 start;
  gint64 elapsed_ms;

  ps_sync_manager_set_save_interval (manager, interval_ms);
  count.signature = file_signature (count.path);
  g_signal_connect (job, "notify::state", G_CALLBACK (on_job_state_count_saves_cb), &count);

  ps_server_set_continuous (fixture->server, TRUE);
  start = g_get_monotonic_time ();
  ps_sync_job_start (job, FALSE);
  wait_for_state (job, PS_SYNC_STATE_UP_TO_DATE, 20000);

  for (guint i = 0; i < n_changes; i++)
    {
      g_autofree char *id = g_strdup_printf ("change-%02u", i);

      put_plain_doc (fixture->remote, id);
      iterate_for (25);
    }
  wait_for_doc (fixture->local, "change-39", 10000);
  wait_for_state (job, PS_SYNC_STATE_UP_TO_DATE, 10000);
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;

  g_test_message ("%u times up to date, server list replaced %u times in %" G_GINT64_FORMAT
                  " ms", count.n_up_to_date, count.n_replaced, elapsed_ms);
  /* The feed brought the changes one by one, or this proves nothing. */
  g_assert_cmpuint (count.n_up_to_date, >=, 10);
  /* The first at once, then at most one per interval. */
  g_assert_cmpuint (count.n_replaced, <=, 2 + elapsed_ms / interval_ms);

  ps_sync_job_stop (job);
  g_signal_handlers_disconnect_by_data (job, &count);
  g_free (count.signature);
}

/* The server as the next program to start would read it from disk. */
static PsServer *
saved_server (Fixture *fixture)
{
  g_autoptr(PsServerStore) store = ps_server_store_new_for_directory (fixture->dir);
  g_autoptr(GError) error = NULL;
  PsServer *server;

  g_assert_true (ps_server_store_load (store, &error));
  g_assert_no_error (error);
  server = ps_server_store_lookup (store, ps_server_get_id (fixture->server));
  g_assert_nonnull (server);
  return g_object_ref (server);
}

static gint64
last_sync_time_on_disk (Fixture *fixture)
{
  g_autoptr(PsServer) server = saved_server (fixture);

  return ps_server_get_last_sync_time (server);
}

/* A continuous sync that carries changes all day is in sync all day: its
 * last sync time follows the changes it carried, not its first pass, yet
 * the server list is written at most once per interval.
 */
static void
test_continuous_last_sync_follows (Fixture       *fixture,
                                   gconstpointer  data)
{
  PsSyncManager *manager = ps_context_get_sync_manager (fixture->context);
  PsServerStore *store = ps_context_get_server_store (fixture->context);
  PsSyncJob *job = get_job (fixture);
  SaveCount count = { ps_server_store_get_path (store), NULL, 0, 0 };
  const guint interval_ms = 100;
  gint64 first_pass;

  ps_sync_manager_set_save_interval (manager, interval_ms);
  ps_server_set_continuous (fixture->server, TRUE);
  ps_sync_job_start (job, FALSE);
  wait_for_state (job, PS_SYNC_STATE_UP_TO_DATE, 20000);
  iterate_for (2 * interval_ms);
  g_assert_false (ps_server_store_get_dirty (store));
  first_pass = last_sync_time_on_disk (fixture);
  g_assert_cmpint (first_pass, >, 0);
  count.signature = file_signature (count.path);
  g_signal_connect (job, "notify::state", G_CALLBACK (on_job_state_count_saves_cb), &count);

  /* Times are kept in seconds. */
  iterate_for (1100);
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *id = g_strdup_printf ("apart-%u", i);

      put_plain_doc (fixture->remote, id);
      wait_for_doc (fixture->local, id, 10000);
      wait_for_state (job, PS_SYNC_STATE_UP_TO_DATE, 10000);
      iterate_for (2 * interval_ms);
    }
  count_replaced (&count);

  g_test_message ("%u times up to date, server list replaced %u times",
                  count.n_up_to_date, count.n_replaced);
  g_assert_cmpuint (count.n_up_to_date, >=, 5);
  g_assert_cmpint (last_sync_time_on_disk (fixture), >, first_pass);
  g_assert_cmpuint (count.n_replaced, <=, count.n_up_to_date);
  g_assert_true (g_str_has_prefix (ps_server_get_last_outcome (fixture->server), "Up to date"));

  ps_sync_job_stop (job);
  g_signal_handlers_disconnect_by_data (job, &count);
  g_free (count.signature);
}

/* The last outcome as the next program to start would read it. */
static void
assert_outcome_on_disk (Fixture    *fixture,
                        const char *outcome,
                        gboolean    synced)
{
  g_autoptr(PsServer) server = saved_server (fixture);

  if (!g_str_has_prefix (ps_server_get_last_outcome (server), outcome))
    g_error ("the last outcome on disk is \"%s\", not \"%s...\"",
             ps_server_get_last_outcome (server), outcome);
  if (synced)
    g_assert_cmpint (ps_server_get_last_sync_time (server), >, 0);
  else
    g_assert_cmpint (ps_server_get_last_sync_time (server), ==, 0);
}

/* A failure is saved at once; the success that follows soon after waits
 * for the interval, but is on disk once the manager goes (the command
 * line's end) or the job is stopped (the window's end).
 */
static void
check_outcome_saved_at_the_end (Fixture  *fixture,
                                gboolean  by_dispose)
{
  PsSyncManager *manager = ps_context_get_sync_manager (fixture->context);
  PsSyncJob *job = get_job (fixture);

  ps_sync_manager_set_save_interval (manager, 600000);

  ps_test_keyring_store (ps_server_get_id (fixture->server), "Field office", "not-the-password");
  g_assert_cmpint (sync_once (job), ==, -1);
  assert_outcome_on_disk (fixture, "Could not pull", FALSE);

  ps_test_keyring_store (ps_server_get_id (fixture->server), "Field office", REMOTE_PASSWORD);
  g_assert_cmpint (sync_once (job), ==, 1);
  /* Saved a moment ago: this one waits. */
  assert_outcome_on_disk (fixture, "Could not pull", FALSE);

  if (by_dispose)
    g_clear_object (&fixture->context);
  else
    ps_sync_manager_stop (manager, ps_server_get_id (fixture->server));
  assert_outcome_on_disk (fixture, "Up to date", TRUE);
}

static void
test_outcome_saved_on_dispose (Fixture       *fixture,
                               gconstpointer  data)
{
  check_outcome_saved_at_the_end (fixture, TRUE);
}

static void
test_outcome_saved_on_stop (Fixture       *fixture,
                            gconstpointer  data)
{
  check_outcome_saved_at_the_end (fixture, FALSE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add ("/ps/sync/once-converges", Fixture, GINT_TO_POINTER (FALSE),
              fixture_set_up, test_sync_once_converges, fixture_tear_down);
  g_test_add ("/ps/sync/continuous-follows-and-recovers", Fixture, GINT_TO_POINTER (TRUE),
              fixture_set_up, test_continuous_follows_and_recovers, fixture_tear_down);
  g_test_add ("/ps/sync/continuous-stall-reported", Fixture, GINT_TO_POINTER (TRUE),
              fixture_set_up, test_continuous_stall_reported, fixture_tear_down);
  g_test_add ("/ps/sync/wrong-password-fails-plainly", Fixture, GINT_TO_POINTER (FALSE),
              fixture_set_up, test_wrong_password_fails_plainly, fixture_tear_down);

  g_test_add ("/ps/sync/continuous-saves-throttled", Fixture, GINT_TO_POINTER (TRUE),
              fixture_set_up, test_continuous_saves_throttled, fixture_tear_down);
  g_test_add ("/ps/sync/continuous-last-sync-follows", Fixture, GINT_TO_POINTER (TRUE),
              fixture_set_up, test_continuous_last_sync_follows, fixture_tear_down);
  g_test_add ("/ps/sync/outcome-saved-on-dispose", Fixture, GINT_TO_POINTER (FALSE),
              fixture_set_up, test_outcome_saved_on_dispose, fixture_tear_down);
  g_test_add ("/ps/sync/outcome-saved-on-stop", Fixture, GINT_TO_POINTER (FALSE),
              fixture_set_up, test_outcome_saved_on_stop, fixture_tear_down);

  return g_test_run ();
}

/* test-watch.c: `primero-sync-cli watch` resolving conflicts as they appear
 * on real CouchDB-compatible servers, across restarts of itself and of the
 * server, with the password from a file or from systemd's credentials.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-journal.h"
#include "ps-record-generator.h"
#include "ps-replication.h"
#include "ps-test-cli.h"
#include "ps-test-peer.h"
#include "ps-test-replication.h"
#include "ps-watcher.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#define DB            "primero_child_production"
#define ADMIN         "admin"
#define TEST_PASSWORD "Kestrel-Quartz-4471"
#define WAIT_S        40

static const char * const databases[] = {
  "primero_child_production",
  "primero_incident_production",
  "primero_tracing_request_production",
};

typedef struct
{
  char       *home;
  PsTestPeer *peer;
} Instance;

static void
instance_clear (Instance *instance)
{
  if (instance->home != NULL)
    ps_test_remove_dir (instance->home);
  g_clear_pointer (&instance->home, g_free);
  g_clear_pointer (&instance->peer, ps_test_peer_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Instance, instance_clear)

/* A peer with the record databases, and a home whose configuration names
 * it as this instance.
 */
static void
instance_init (Instance *instance,
               gboolean  in_memory,
               gboolean  with_admin)
{
  const char *set[] = { "instance", "set", "--url", NULL, "--username", ADMIN, NULL };
  g_auto(PsCliResult) result = { 0, };
  g_autoptr(GError) error = NULL;

  instance->peer = with_admin
    ? ps_test_peer_new_with_admin (in_memory, ADMIN, TEST_PASSWORD)
    : ps_test_peer_new (in_memory);
  instance->home = g_dir_make_tmp ("ps-watch-XXXXXX", &error);
  g_assert_no_error (error);

  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    ps_test_peer_create_db (instance->peer, databases[d]);

  set[3] = ps_test_peer_get_url (instance->peer);
  if (!with_admin)
    set[4] = NULL;
  ps_test_run_cli (&result, instance->home, NULL, set);
  g_assert_cmpint (result.status, ==, 0);
}

/* A case edited on two servers: its base and two conflicting leaves. */
static char *
put_conflict (PsTestPeer *peer,
              guint32     seed,
              guint       index)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(JsonNode) record = ps_record_generator_child (rand, index);
  g_autoptr(JsonArray) leaves = ps_record_generator_conflict_leaves (rand, record, 2);
  g_autoptr(JsonArray) bases = json_array_new ();

  json_array_add_element (bases, json_node_copy (record));
  ps_test_peer_put_docs (peer, DB, bases, FALSE);
  ps_test_peer_put_docs (peer, DB, leaves, FALSE);

  return g_strdup (json_object_get_string_member (json_node_get_object (record), "_id"));
}

static JsonObject *
get_doc (PsTestPeer *peer,
         const char *id)
{
  g_autofree char *path = g_strdup_printf ("/%s/%s?conflicts=true", DB, id);
  g_autoptr(JsonNode) doc = NULL;
  guint status = 0;

  doc = ps_test_peer_request (peer, "GET", path, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  return json_object_ref (json_node_get_object (doc));
}

static gboolean
is_conflicted (PsTestPeer *peer,
               const char *id)
{
  g_autoptr(JsonObject) doc = get_doc (peer, id);

  return json_object_has_member (doc, "_conflicts");
}

/* Runs this process's main loop (the command's output is read there)
 * until the record has one live leaf.
 */
static void
wait_until_resolved (PsTestPeer *peer,
                     const char *id)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;

  while (is_conflicted (peer, id))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("%s is still conflicted after %u s", id, WAIT_S);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (100 * G_TIME_SPAN_MILLISECOND);
    }
}

static void
pause_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (50 * G_TIME_SPAN_MILLISECOND);
    }
}

static PsTestCli *
start_watch (Instance           *instance,
             const char * const *env,
             const char         *password_file)
{
  const char * const plain[] = { "watch", NULL };
  const char * const with_file[] = { "watch", "--password-file", password_file, NULL };
  const PsCliOptions options = { .home = instance->home, .env = env, .timeout_s = 120 };

  return ps_test_cli_start (&options, password_file != NULL ? with_file : plain);
}

/* SIGTERM, as systemd stops it: a clean end. */
static void
stop_watch (PsTestCli   *cli,
            PsCliResult *result)
{
  g_subprocess_send_signal (ps_test_cli_get_process (cli), SIGTERM);
  ps_test_cli_finish (cli, result);
  g_assert_cmpint (result->status, ==, 0);
  g_assert_nonnull (strstr (result->out, "Stopped;"));
}

static guint
count_resolutions (Instance   *instance,
                   const char *id)
{
  g_autofree char *path = g_build_filename (instance->home, "state", "primero-sync",
                                            "journal.jsonl", NULL);
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  const PsJournalFilter filter = { .record = id, .kind = "resolution" };

  entries = ps_journal_read (journal, &filter, &error);
  g_assert_no_error (error);
  return entries->len;
}

static guint
count_occurrences (const char *text,
                   const char *needle)
{
  guint n = 0;

  for (const char *c = strstr (text, needle); c != NULL; c = strstr (c + 1, needle))
    n++;
  return n;
}

static void
test_resolves_as_conflicts_appear (void)
{
  g_auto(Instance) instance = { 0, };
  g_auto(PsCliResult) result = { 0, };
  g_autofree char *before = NULL;
  g_autofree char *during = NULL;
  PsTestCli *cli;

  instance_init (&instance, TRUE, FALSE);
  before = put_conflict (instance.peer, 1, 0);
  g_assert_true (is_conflicted (instance.peer, before));

  cli = start_watch (&instance, NULL, NULL);
  /* What was there already is resolved first; then what appears. */
  wait_until_resolved (instance.peer, before);
  during = put_conflict (instance.peer, 2, 1);
  wait_until_resolved (instance.peer, during);
  g_assert_false (ps_test_cli_is_done (cli));
  stop_watch (cli, &result);

  g_assert_cmpuint (count_resolutions (&instance, before), ==, 1);
  g_assert_cmpuint (count_resolutions (&instance, during), ==, 1);
  g_assert_nonnull (strstr (result.out, DB ": watching for conflicts"));
  g_assert_cmpuint (count_occurrences (result.out, DB ": resolved "), ==, 2);
  g_assert_nonnull (strstr (result.out, "Stopped; 2 records resolved"));
  g_assert_cmpuint (ps_test_peer_count_conflicts (instance.peer, DB), ==, 0);
  ps_test_peer_assert_alive (instance.peer);
}

static guint
count_changes_requests_from_start (PsTestPeer *peer)
{
  g_autofree char *path = g_build_filename (ps_test_peer_get_dir (peer), "log.txt", NULL);
  g_autofree char *log = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &log, NULL, &error);
  g_assert_no_error (error);
  return count_occurrences (log, "/" DB "/_changes?style=all_docs&since=0&");
}

static void
test_resumes_from_checkpoint (void)
{
  g_auto(Instance) instance = { 0, };
  g_auto(PsCliResult) first = { 0, };
  g_auto(PsCliResult) second = { 0, };
  g_autofree char *checkpoints = NULL;
  g_autofree char *early = NULL;
  g_autofree char *while_down = NULL;
  PsTestCli *cli;

  instance_init (&instance, TRUE, FALSE);
  early = put_conflict (instance.peer, 3, 0);
  cli = start_watch (&instance, NULL, NULL);
  wait_until_resolved (instance.peer, early);
  stop_watch (cli, &first);

  checkpoints = g_build_filename (instance.home, "state", "primero-sync",
                                  "watch-checkpoints.json", NULL);
  g_assert_true (g_file_test (checkpoints, G_FILE_TEST_IS_REGULAR));

  /* Made while no watcher ran: found when it is back. */
  while_down = put_conflict (instance.peer, 4, 1);
  cli = start_watch (&instance, NULL, NULL);
  wait_until_resolved (instance.peer, while_down);
  stop_watch (cli, &second);

  /* It went on from its checkpoint, not from the start, and resolved
   * each record once.
   */
  g_assert_cmpuint (count_changes_requests_from_start (instance.peer), ==, 1);
  g_assert_nonnull (strstr (second.out, "Stopped; 1 record resolved"));
  g_assert_cmpuint (count_resolutions (&instance, early), ==, 1);
  g_assert_cmpuint (count_resolutions (&instance, while_down), ==, 1);
  g_assert_cmpuint (ps_test_peer_count_conflicts (instance.peer, DB), ==, 0);
}

static void
test_survives_server_restart (void)
{
  g_auto(Instance) instance = { 0, };
  g_auto(PsCliResult) result = { 0, };
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  PsTestCli *cli;

  /* On disk, so that the records outlive the server process. */
  instance_init (&instance, FALSE, FALSE);
  before = put_conflict (instance.peer, 5, 0);
  cli = start_watch (&instance, NULL, NULL);
  wait_until_resolved (instance.peer, before);

  /* Down for longer than a request's own retries last (about 4 s), so
   * that the watcher's back-off is what carries it through.
   */
  ps_test_peer_stop (instance.peer);
  pause_for (6000);
  g_assert_false (ps_test_cli_is_done (cli));
  ps_test_peer_start (instance.peer);

  after = put_conflict (instance.peer, 6, 1);
  wait_until_resolved (instance.peer, after);
  stop_watch (cli, &result);

  g_assert_nonnull (strstr (result.out, "trying again in"));
  g_assert_cmpuint (count_resolutions (&instance, after), ==, 1);
  g_assert_nonnull (strstr (result.out, "Stopped; 2 records resolved"));
}

/* Stopping it while it waits for the server is as clean as ever; a
 * database that is not there ends it, saying which.
 */
static void
test_stops_cleanly_or_plainly (void)
{
  g_auto(Instance) instance = { 0, };
  g_auto(PsCliResult) waiting = { 0, };
  g_auto(PsCliResult) missing = { 0, };
  g_autofree char *path = g_strdup_printf ("/%s", databases[1]);
  g_autoptr(JsonNode) answer = NULL;
  guint status = 0;
  PsTestCli *cli;

  instance_init (&instance, FALSE, FALSE);
  ps_test_peer_stop (instance.peer);
  cli = start_watch (&instance, NULL, NULL);
  pause_for (6000);
  g_assert_false (ps_test_cli_is_done (cli));
  stop_watch (cli, &waiting);
  g_assert_nonnull (strstr (waiting.out, "trying again in"));
  g_assert_nonnull (strstr (waiting.out, "Stopped; 0 records resolved"));

  ps_test_peer_start (instance.peer);
  answer = ps_test_peer_request (instance.peer, "DELETE", path, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  cli = start_watch (&instance, NULL, NULL);
  ps_test_cli_finish (cli, &missing);
  g_assert_cmpint (missing.status, ==, 1);
  g_assert_true (g_str_has_prefix (missing.err, "Error: The database http://127.0.0.1:"));
  g_assert_nonnull (strstr (missing.err, "/primero_incident_production does not exist"));
  ps_test_peer_assert_alive (instance.peer);
}

static char *
write_password_file (const char *dir,
                     const char *name,
                     const char *password,
                     int         mode)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = g_strconcat (password, "\n", NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
  return g_steal_pointer (&path);
}

static void
test_password_sources (void)
{
  g_auto(Instance) instance = { 0, };
  g_auto(PsCliResult) no_keyring = { 0, };
  g_auto(PsCliResult) refused = { 0, };
  g_auto(PsCliResult) wrong = { 0, };
  g_auto(PsCliResult) from_credentials = { 0, };
  g_auto(PsCliResult) from_file = { 0, };
  g_autofree char *credentials = NULL;
  g_autofree char *credentials_env = NULL;
  g_autofree char *open_file = NULL;
  g_autofree char *wrong_file = NULL;
  g_autofree char *good_file = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  const char *env[2] = { NULL, NULL };
  PsTestCli *cli;

  instance_init (&instance, TRUE, TRUE);
  first = put_conflict (instance.peer, 7, 0);

  /* No keyring and no other source: it says where else the password
   * may come from.
   */
  env[0] = "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus";
  cli = start_watch (&instance, env, NULL);
  ps_test_cli_finish (cli, &no_keyring);
  g_assert_cmpint (no_keyring.status, ==, 1);
  g_assert_nonnull (strstr (no_keyring.err, "--password-file"));
  g_assert_nonnull (strstr (no_keyring.err, "primero-sync-password"));

  /* A password file others may read is refused, plainly, and the
   * password is not shown.
   */
  open_file = write_password_file (instance.home, "open", TEST_PASSWORD, 0644);
  cli = start_watch (&instance, NULL, open_file);
  ps_test_cli_finish (cli, &refused);
  g_assert_cmpint (refused.status, ==, 1);
  g_assert_nonnull (strstr (refused.err, "mode 0644"));
  g_assert_nonnull (strstr (refused.err, "0600"));
  g_assert_null (strstr (refused.err, TEST_PASSWORD));
  g_assert_null (strstr (refused.out, TEST_PASSWORD));
  g_assert_true (is_conflicted (instance.peer, first));

  /* A refused password ends the watch with a plain message. */
  wrong_file = write_password_file (instance.home, "wrong", "Not-The-Password-1", 0600);
  cli = start_watch (&instance, NULL, wrong_file);
  ps_test_cli_finish (cli, &wrong);
  g_assert_cmpint (wrong.status, ==, 1);
  g_assert_true (g_str_has_prefix (wrong.err, "Error: "));
  g_assert_null (strstr (wrong.err, "Not-The-Password-1"));
  g_assert_null (strstr (wrong.out, "Not-The-Password-1"));
  g_assert_true (is_conflicted (instance.peer, first));

  /* systemd's LoadCredential= gives it in $CREDENTIALS_DIRECTORY. */
  credentials = g_build_filename (instance.home, "credentials", NULL);
  g_assert_cmpint (g_mkdir (credentials, 0700), ==, 0);
  g_free (write_password_file (credentials, "primero-sync-password", TEST_PASSWORD, 0400));
  credentials_env = g_strconcat ("CREDENTIALS_DIRECTORY=", credentials, NULL);
  env[0] = credentials_env;
  cli = start_watch (&instance, env, NULL);
  wait_until_resolved (instance.peer, first);
  stop_watch (cli, &from_credentials);
  g_assert_null (strstr (from_credentials.out, TEST_PASSWORD));

  /* A file of mode 0600 is taken. */
  second = put_conflict (instance.peer, 8, 1);
  good_file = write_password_file (instance.home, "good", TEST_PASSWORD, 0600);
  cli = start_watch (&instance, NULL, good_file);
  wait_until_resolved (instance.peer, second);
  stop_watch (cli, &from_file);
  g_assert_null (strstr (from_file.out, TEST_PASSWORD));
  g_assert_null (strstr (from_file.err, TEST_PASSWORD));
  ps_test_peer_assert_alive (instance.peer);
}

static guint
count_live_leaves (PsTestPeer *peer,
                   const char *id)
{
  g_autofree char *path = g_strdup_printf ("/%s/%s?open_revs=all", DB, id);
  g_autoptr(JsonNode) answer = NULL;
  JsonArray *leaves;
  guint status = 0;
  guint live = 0;

  answer = ps_test_peer_request (peer, "GET", path, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  leaves = json_node_get_array (answer);
  for (guint i = 0; i < json_array_get_length (leaves); i++)
    {
      JsonObject *leaf = json_array_get_object_element (leaves, i);
      JsonObject *doc = json_object_get_object_member (leaf, "ok");

      if (doc != NULL && !json_object_get_boolean_member_with_default (doc, "_deleted", FALSE))
        live++;
    }
  return live;
}

static PsCouchDatabase *
open_database (SoupSession *session,
               PsTestPeer  *peer)
{
  g_autofree char *url = ps_test_peer_db_url (peer, DB);
  g_autoptr(GError) error = NULL;
  PsCouchDatabase *database = ps_couch_database_new (session, url, &error);

  g_assert_no_error (error);
  return database;
}

static void
replicate (PsCouchDatabase *source,
           PsCouchDatabase *target)
{
  g_autoptr(PsReplication) replication = ps_replication_new (source, target);
  PsTestRun run = { 0, };

  ps_test_replication_run (replication, NULL, 60, &run);
  g_assert_no_error (run.error);
  g_assert_true (run.ok);
}

/* Two offices each run a watcher, and both see the same conflict: the
 * merge is deterministic, so both write the same revision, and syncing
 * afterwards adds nothing to resolve.
 */
static void
test_two_watchers_converge (void)
{
  g_auto(Instance) first = { 0, };
  g_auto(Instance) second = { 0, };
  g_auto(PsCliResult) first_result = { 0, };
  g_auto(PsCliResult) second_result = { 0, };
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsCouchDatabase) first_db = NULL;
  g_autoptr(PsCouchDatabase) second_db = NULL;
  g_autoptr(JsonObject) first_doc = NULL;
  g_autoptr(JsonObject) second_doc = NULL;
  g_autofree char *id = NULL;
  g_autofree char *same_id = NULL;
  PsTestCli *first_cli;
  PsTestCli *second_cli;

  instance_init (&first, TRUE, FALSE);
  instance_init (&second, TRUE, FALSE);
  first_cli = start_watch (&first, NULL, NULL);
  second_cli = start_watch (&second, NULL, NULL);

  id = put_conflict (first.peer, 9, 0);
  same_id = put_conflict (second.peer, 9, 0);
  g_assert_cmpstr (id, ==, same_id);
  wait_until_resolved (first.peer, id);
  wait_until_resolved (second.peer, id);
  stop_watch (first_cli, &first_result);
  stop_watch (second_cli, &second_result);

  first_doc = get_doc (first.peer, id);
  second_doc = get_doc (second.peer, id);
  g_assert_cmpstr (json_object_get_string_member (first_doc, "_rev"), ==,
                   json_object_get_string_member (second_doc, "_rev"));

  first_db = open_database (session, first.peer);
  second_db = open_database (session, second.peer);
  replicate (first_db, second_db);
  replicate (second_db, first_db);

  g_assert_cmpuint (count_live_leaves (first.peer, id), ==, 1);
  g_assert_cmpuint (count_live_leaves (second.peer, id), ==, 1);
  g_assert_cmpuint (ps_test_peer_count_conflicts (first.peer, DB), ==, 0);
  g_assert_cmpuint (ps_test_peer_count_conflicts (second.peer, DB), ==, 0);
  ps_test_assert_same_rev_trees (first.peer, DB, second.peer, DB);
}

typedef struct
{
  gboolean  done;
  GError   *error;
  guint     resolved;
} WatchRun;

static void
on_watch_done_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  WatchRun *run = user_data;

  g_assert_false (ps_watcher_run_finish (PS_WATCHER (object), result, &run->error));
  run->done = TRUE;
}

static void
on_watch_resolved_cb (PsWatcher       *watcher,
                      PsCouchDatabase *database,
                      JsonObject      *report,
                      WatchRun        *run)
{
  run->resolved++;
}

static guint
count_long_polls (PsTestPeer *peer)
{
  g_autofree char *path = g_build_filename (ps_test_peer_get_dir (peer), "log.txt", NULL);
  g_autofree char *log = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &log, NULL, &error);
  g_assert_no_error (error);
  return count_occurrences (log, "/" DB "/_changes?feed=longpoll");
}

/* This server ignores a long poll's timeout: the watcher ends each poll
 * itself and polls again, and still sees the next conflict.
 */
static void
test_poll_deadline (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsCouchDatabase) database = NULL;
  g_autoptr(PsJournal) journal = NULL;
  g_autoptr(PsWatcher) watcher = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ps-watcher-XXXXXX", &error);
  g_autofree char *journal_path = g_build_filename (dir, "journal.jsonl", NULL);
  g_autofree char *state_path = g_build_filename (dir, "state", "checkpoints.json", NULL);
  g_autofree char *id = NULL;
  WatchRun run = { 0, };

  g_assert_no_error (error);
  ps_test_peer_create_db (peer, DB);
  database = open_database (session, peer);
  journal = ps_journal_new_for_path (journal_path);
  watcher = ps_watcher_new (journal, state_path);
  ps_watcher_add_database (watcher, database);
  ps_watcher_set_poll_deadline (watcher, 2);
  g_signal_connect (watcher, "resolved", G_CALLBACK (on_watch_resolved_cb), &run);

  ps_watcher_run_async (watcher, cancellable, on_watch_done_cb, &run);
  pause_for (5000);
  g_assert_cmpuint (count_long_polls (peer), >=, 2);
  g_assert_false (run.done);

  id = put_conflict (peer, 10, 0);
  wait_until_resolved (peer, id);
  /* The report follows once the server answered the last write. */
  while (run.resolved == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (run.resolved, ==, 1);
  g_assert_true (g_file_test (state_path, G_FILE_TEST_IS_REGULAR));

  g_cancellable_cancel (cancellable);
  while (!run.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&run.error);
  ps_test_peer_assert_alive (peer);
  ps_test_remove_dir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/watch/resolves-as-conflicts-appear", test_resolves_as_conflicts_appear);
  g_test_add_func ("/ps/watch/resumes-from-checkpoint", test_resumes_from_checkpoint);
  g_test_add_func ("/ps/watch/survives-server-restart", test_survives_server_restart);
  g_test_add_func ("/ps/watch/stops-cleanly-or-plainly", test_stops_cleanly_or_plainly);
  g_test_add_func ("/ps/watch/password-sources", test_password_sources);
  g_test_add_func ("/ps/watch/two-watchers-converge", test_two_watchers_converge);
  g_test_add_func ("/ps/watch/poll-deadline", test_poll_deadline);

  return g_test_run ();
}

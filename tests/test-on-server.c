/* test-on-server.c: a server set to "Keep syncing on the server", against
 * two real Apache CouchDB servers: this instance's replicator carries the
 * records with no application running, the watchers resolve conflicts,
 * its state reaches the command line and the sync manager, and switching
 * back cleans `_replicator`. The passwords live in a real keyring.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-record-generator.h"
#include "ps-server-store.h"
#include "ps-sync-manager.h"
#include "ps-test-cli.h"
#include "ps-test-couch-server.h"
#include "ps-test-peer.h"

#include <signal.h>
#include <string.h>

#define WRONG_PASSWORD "Not-The-Password-4711"
#define FOREIGN_ID     "office-backup"
#define WAIT_S         45

static PsTestCouchServer *local;
static PsTestCouchServer *remote;
static char *home_a;       /* this instance is A; B is its on-server server */
static char *home_b;       /* B's own instance, for its watcher */
static char *server_id;

static const char * const databases[] = {
  "primero_child_production",
  "primero_incident_production",
  "primero_tracing_request_production",
};

static void
assert_no_password (const char *text)
{
  g_assert_null (strstr (text, ps_test_couch_server_get_password (local)));
  g_assert_null (strstr (text, ps_test_couch_server_get_password (remote)));
  g_assert_null (strstr (text, WRONG_PASSWORD));
}

static void
run_ok (PsCliResult        *result,
        const char         *home,
        const char         *input,
        const char * const *args)
{
  ps_test_run_cli (result, home, input, args);
  if (result->status != 0)
    g_error ("%s exited with %d:\n%s%s", args[0], result->status, result->out, result->err);
  assert_no_password (result->out);
  assert_no_password (result->err);
}

static guint
count_occurrences (const char *text,
                   const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (text, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static void
set_instance (const char        *home,
              PsTestCouchServer *server)
{
  g_autofree char *input = g_strconcat (ps_test_couch_server_get_password (server), "\n", NULL);
  const char * const args[] = { "instance", "set", "--url",
                                ps_test_couch_server_get_url (server),
                                "--username", ps_test_couch_server_get_user (server),
                                "--password-stdin", NULL };
  g_auto(PsCliResult) result = { 0, };

  run_ok (&result, home, input, args);
}

static void
spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (50 * G_TIME_SPAN_MILLISECOND);
    }
}

/* The documents of A's `_replicator` whose id starts with @prefix. */
static GHashTable *
replicator_docs (const char *prefix)
{
  PsTestPeer *a = ps_test_couch_server_get_peer (local);
  g_autoptr(JsonNode) answer = NULL;
  GHashTable *docs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) json_object_unref);
  JsonArray *rows;
  guint status = 0;

  answer = ps_test_peer_request (a, "GET", "/_replicator/_all_docs?include_docs=true", NULL,
                                 &status);
  g_assert_cmpuint (status, ==, 200);
  rows = json_object_get_array_member (json_node_get_object (answer), "rows");
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      const char *id = json_object_get_string_member (row, "id");

      if (g_str_has_prefix (id, prefix))
        g_hash_table_insert (docs, g_strdup (id),
                             json_object_ref (json_object_get_object_member (row, "doc")));
    }

  return docs;
}

/* As the documents name a database: no credentials in the URL. */
static char *
plain_db_url (PsTestCouchServer *server,
              const char        *db)
{
  return g_strconcat (ps_test_couch_server_get_url (server), "/", db, NULL);
}

static char *
our_prefix (void)
{
  return g_strdup_printf ("primero-sync-%s-", server_id);
}

static void
assert_foreign_doc_untouched (void)
{
  g_autoptr(GHashTable) docs = replicator_docs (FOREIGN_ID);
  JsonObject *doc = g_hash_table_lookup (docs, FOREIGN_ID);
  g_autofree char *source = plain_db_url (local, databases[0]);

  g_assert_nonnull (doc);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (doc, "source"),
                                                  "url"), ==, source);
}

static void
assert_endpoint (JsonObject        *doc,
                 const char        *member,
                 PsTestCouchServer *server,
                 const char        *database)
{
  JsonObject *endpoint = json_object_get_object_member (doc, member);
  g_autofree char *url = plain_db_url (server, database);
  JsonObject *basic;

  /* The credentials are in the auth object, never in the URL. */
  g_assert_cmpstr (json_object_get_string_member (endpoint, "url"), ==, url);
  g_assert_null (strchr (json_object_get_string_member (endpoint, "url"), '@'));
  assert_no_password (json_object_get_string_member (endpoint, "url"));
  basic = json_object_get_object_member (json_object_get_object_member (endpoint, "auth"),
                                         "basic");
  g_assert_cmpstr (json_object_get_string_member (basic, "username"), ==,
                   ps_test_couch_server_get_user (server));
  g_assert_cmpstr (json_object_get_string_member (basic, "password"), ==,
                   ps_test_couch_server_get_password (server));
}

/* (a) One continuous document per database and direction, with fixed ids. */
static void
test_add_writes_documents (void)
{
  g_autofree char *input = g_strconcat (ps_test_couch_server_get_password (remote), "\n", NULL);
  const char * const add[] = { "server", "add", "--description", "Field office",
                               "--url", ps_test_couch_server_get_url (remote),
                               "--username", ps_test_couch_server_get_user (remote),
                               "--password-stdin", "--no-check", "--on-server", NULL };
  const char * const again[] = { "server", "edit", "Field office", "--on-server", NULL };
  g_auto(PsCliResult) added = { 0, };
  g_auto(PsCliResult) applied = { 0, };
  g_autoptr(GHashTable) docs = NULL;
  g_autoptr(GHashTable) after = NULL;
  g_autofree char *prefix = NULL;
  const char *id_start;

  run_ok (&added, home_a, input, add);
  id_start = strstr (added.out, "with id ");
  g_assert_nonnull (id_start);
  server_id = g_strndup (id_start + strlen ("with id "), strcspn (id_start + strlen ("with id "),
                                                                  "\n"));
  g_assert_cmpuint (count_occurrences (added.out, "Wrote the replication document"), ==, 6);
  g_assert_nonnull (strstr (added.out, "_replicator database"));

  prefix = our_prefix ();
  docs = replicator_docs (prefix);
  g_assert_cmpuint (g_hash_table_size (docs), ==, 6);
  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    {
      g_autofree char *pull_id = g_strconcat (prefix, databases[d], "-pull", NULL);
      g_autofree char *push_id = g_strconcat (prefix, databases[d], "-push", NULL);
      JsonObject *pull = g_hash_table_lookup (docs, pull_id);
      JsonObject *push = g_hash_table_lookup (docs, push_id);

      g_assert_nonnull (pull);
      g_assert_nonnull (push);
      g_assert_true (json_object_get_boolean_member (pull, "continuous"));
      g_assert_false (json_object_has_member (pull, "create_target"));
      assert_endpoint (pull, "source", remote, databases[d]);
      assert_endpoint (pull, "target", local, databases[d]);
      assert_endpoint (push, "source", local, databases[d]);
      assert_endpoint (push, "target", remote, databases[d]);
    }
  assert_foreign_doc_untouched ();

  /* Applied again unchanged: nothing is rewritten, nothing restarts. */
  run_ok (&applied, home_a, NULL, again);
  g_assert_cmpuint (count_occurrences (applied.out, "Wrote the replication document"), ==, 0);
  g_assert_nonnull (strstr (applied.out, "already up to date"));
  after = replicator_docs (prefix);
  g_assert_cmpuint (g_hash_table_size (after), ==, 6);
  {
    GHashTableIter iter;
    gpointer id, doc;

    g_hash_table_iter_init (&iter, docs);
    while (g_hash_table_iter_next (&iter, &id, &doc))
      g_assert_cmpstr (json_object_get_string_member (doc, "_rev"), ==,
                       json_object_get_string_member (g_hash_table_lookup (after, id), "_rev"));
  }
}

static void
wait_for_doc (PsTestCouchServer *server,
              const char        *db,
              const char        *id)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;

  while (!ps_test_peer_has_doc (ps_test_couch_server_get_peer (server), db, id))
    {
      if (g_get_monotonic_time () > deadline)
        {
          const char * const args[] = { "sync", "--status", "--json", NULL };
          g_auto(PsCliResult) result = { 0, };

          ps_test_run_cli (&result, home_a, NULL, args);
          g_error ("%s did not reach %s within %u s:\n%s", id, db, WAIT_S, result.out);
        }
      g_usleep (200 * G_TIME_SPAN_MILLISECOND);
    }
}

/* (b) No application runs: CouchDB carries records both ways. */
static void
test_records_travel_without_app (void)
{
  ps_test_peer_put_named_doc (ps_test_couch_server_get_peer (local), databases[0],
                              "written-on-a", "Amina");
  ps_test_peer_put_named_doc (ps_test_couch_server_get_peer (remote), databases[1],
                              "written-on-b", "Bilal");

  wait_for_doc (remote, databases[0], "written-on-a");
  wait_for_doc (local, databases[1], "written-on-b");
}

static gboolean
converged (const char *id)
{
  PsTestPeer *a = ps_test_couch_server_get_peer (local);
  PsTestPeer *b = ps_test_couch_server_get_peer (remote);
  g_autofree char *tree_a = NULL;
  g_autofree char *tree_b = NULL;

  if (ps_test_peer_count_conflicts (a, databases[0]) != 0 ||
      ps_test_peer_count_conflicts (b, databases[0]) != 0)
    return FALSE;
  tree_a = ps_test_peer_rev_tree_signature (a, databases[0], id);
  tree_b = ps_test_peer_rev_tree_signature (b, databases[0], id);
  return g_strcmp0 (tree_a, tree_b) == 0;
}

static PsTestCli *
start_watch (const char *home)
{
  const char * const args[] = { "watch", NULL };
  const PsCliOptions options = { .home = home, .timeout_s = 120 };

  return ps_test_cli_start (&options, args);
}

static void
stop_watch (PsTestCli   *cli,
            PsCliResult *result)
{
  g_subprocess_send_signal (ps_test_cli_get_process (cli), SIGTERM);
  ps_test_cli_finish (cli, result);
  g_assert_cmpint (result->status, ==, 0);
  assert_no_password (result->out);
  assert_no_password (result->err);
}

/* (c) The same case edited on both sides: the replicator brings both
 * leaves everywhere, a watcher on each side resolves it the Primero way,
 * and both sides end with one identical leaf.
 */
static void
test_watchers_resolve_conflict (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (77);
  g_autoptr(JsonNode) record = ps_record_generator_child (rand, 0);
  g_autoptr(JsonArray) leaves = ps_record_generator_conflict_leaves (rand, record, 2);
  g_autoptr(JsonArray) on_a = json_array_new ();
  g_autoptr(JsonArray) on_b = json_array_new ();
  const char *id = json_object_get_string_member (json_node_get_object (record), "_id");
  g_auto(PsCliResult) watched_a = { 0, };
  g_auto(PsCliResult) watched_b = { 0, };
  gint64 deadline;
  PsTestCli *watch_a;
  PsTestCli *watch_b;

  watch_a = start_watch (home_a);
  watch_b = start_watch (home_b);

  json_array_add_element (on_a, json_node_copy (record));
  json_array_add_element (on_a, json_node_copy (json_array_get_element (leaves, 0)));
  json_array_add_element (on_b, json_node_copy (record));
  json_array_add_element (on_b, json_node_copy (json_array_get_element (leaves, 1)));
  ps_test_peer_put_docs (ps_test_couch_server_get_peer (local), databases[0], on_a, FALSE);
  ps_test_peer_put_docs (ps_test_couch_server_get_peer (remote), databases[0], on_b, FALSE);

  deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;
  /* A moment first, for both leaves to cross before "converged" is asked. */
  spin (1000);
  while (!converged (id))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("%s did not converge within %u s", id, WAIT_S);
      spin (200);
    }
  /* Nothing new appears once both watchers settle. */
  spin (2000);
  g_assert_true (converged (id));

  stop_watch (watch_a, &watched_a);
  stop_watch (watch_b, &watched_b);
  /* One resolution line ("DATABASE: resolved …"), not the closing count. */
  g_assert_cmpuint (count_occurrences (watched_a.out, ": resolved ") +
                    count_occurrences (watched_b.out, ": resolved "), >=, 1);
}

static JsonObject *
read_status (void)
{
  const char * const args[] = { "sync", "--status", "Field office", "--json", NULL };
  g_auto(PsCliResult) result = { 0, };
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *array;
  JsonObject *entry;

  run_ok (&result, home_a, NULL, args);
  node = json_from_string (result.out, &error);
  g_assert_no_error (error);
  array = json_node_get_array (node);
  g_assert_cmpuint (json_array_get_length (array), ==, 1);
  entry = json_array_get_object_element (array, 0);
  g_assert_cmpstr (json_object_get_string_member (entry, "id"), ==, server_id);
  return json_object_ref (json_object_get_object_member (entry, "on_server"));
}

static JsonObject *
wait_for_state (const char *state,
                const char *or_state)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;

  for (;;)
    {
      g_autoptr(JsonObject) status = read_status ();
      const char *now = json_object_get_string_member (status, "state");

      if (g_str_equal (now, state) || g_strcmp0 (now, or_state) == 0)
        return g_steal_pointer (&status);
      if (g_get_monotonic_time () > deadline)
        {
          g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), status);
          g_autofree char *text = json_to_string (node, FALSE);

          g_error ("the replication is %s, not %s, after %u s: %s", now, state, WAIT_S, text);
        }
      g_usleep (500 * G_TIME_SPAN_MILLISECOND);
    }
}

typedef struct
{
  guint                      changed;
  guint                      failed;
  guint                      recovered;
  PsServerReplicationStatus *status;
} Signals;

static void
on_changed_cb (PsSyncManager *manager,
               PsServer      *server,
               Signals       *signals)
{
  g_assert_cmpstr (ps_server_get_id (server), ==, server_id);
  signals->changed++;
}

static void
on_failed_cb (PsSyncManager             *manager,
              PsServer                  *server,
              PsServerReplicationStatus *status,
              Signals                   *signals)
{
  signals->failed++;
  g_set_object (&signals->status, status);
}

static void
on_recovered_cb (PsSyncManager *manager,
                 PsServer      *server,
                 Signals       *signals)
{
  signals->recovered++;
}

static void
set_remote_password (const char *password)
{
  g_autofree char *input = g_strconcat (password, "\n", NULL);
  const char * const args[] = { "server", "edit", "Field office", "--password-stdin", NULL };
  g_auto(PsCliResult) result = { 0, };

  run_ok (&result, home_a, input, args);
  /* The documents hold the password: a new one rewrites them. */
  g_assert_cmpuint (count_occurrences (result.out, "Wrote the replication document"), ==, 6);
}

/* (d) The state reaches `sync --status` and the sync manager; a wrong
 * remote password crashes the replication, with CouchDB's reason and no
 * password anywhere, and raises server-replication-failed.
 */
static void
test_status_and_crash (void)
{
  g_autofree char *config = g_build_filename (home_a, "config", "primero-sync", NULL);
  g_autoptr(PsServerStore) store = ps_server_store_new_for_directory (config);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsSyncManager) manager = NULL;
  g_autoptr(JsonObject) running = NULL;
  g_autoptr(JsonObject) crashing = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  Signals signals = { 0, };
  const char *reason;
  gint64 deadline;

  running = wait_for_state ("running", NULL);
  g_assert_true (json_node_is_null (json_object_get_member (running, "error")));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (running, "databases")),
                    ==, 6);
  g_assert_cmpint (json_object_get_int_member (running, "docs_written"), >=, 2);

  set_remote_password (WRONG_PASSWORD);
  crashing = wait_for_state ("crashing", "failed");
  /* CouchDB's own reason is kept; the administrator reads it in words. */
  reason = json_object_get_string_member (crashing, "couchdb_error");
  g_assert_nonnull (reason);
  g_assert_nonnull (strstr (reason, "unauthorized"));
  assert_no_password (reason);
  json = g_strdup_printf ("%s refused the user name or password",
                          ps_test_couch_server_get_url (remote));
  g_assert_nonnull (strstr (json_object_get_string_member (crashing, "error"), json));

  /* The same through the core, as the window sees it. */
  g_assert_true (ps_server_store_load (store, &error));
  g_assert_no_error (error);
  manager = ps_sync_manager_new (store, session, NULL);
  ps_sync_manager_set_replication_poll_interval (manager, 200);
  g_signal_connect (manager, "server-replication-changed", G_CALLBACK (on_changed_cb), &signals);
  g_signal_connect (manager, "server-replication-failed", G_CALLBACK (on_failed_cb), &signals);
  g_signal_connect (manager, "server-replication-recovered", G_CALLBACK (on_recovered_cb),
                    &signals);
  ps_sync_manager_start_continuous (manager);

  deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;
  while (signals.failed == 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (signals.failed, ==, 1);
  g_assert_cmpuint (signals.changed, >=, 1);
  g_assert_cmpint (ps_server_replication_status_get_state (signals.status), >=,
                   PS_SERVER_REPLICATION_STATE_CRASHING);
  g_assert_nonnull (ps_server_replication_status_get_error (signals.status));
  assert_no_password (ps_server_replication_status_get_error (signals.status));
  g_assert_true (ps_sync_manager_get_server_replication (
                   manager, ps_server_store_lookup (store, server_id)) != NULL);

  /* The right password again: the replication recovers, once announced. */
  set_remote_password (ps_test_couch_server_get_password (remote));
  g_clear_pointer (&running, json_object_unref);
  running = wait_for_state ("running", NULL);
  deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;
  while (signals.recovered == 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (signals.recovered, ==, 1);
  g_assert_cmpuint (signals.failed, ==, 1);

  g_clear_object (&signals.status);
}

/* (e) Back to the desktop, and removal: the documents go, the others stay. */
static void
test_switch_back_and_remove (void)
{
  const char * const desktop[] = { "server", "edit", "Field office", "--on-desktop", NULL };
  const char * const on_server[] = { "server", "edit", "Field office", "--on-server", NULL };
  const char * const remove[] = { "server", "remove", "Field office", NULL };
  g_auto(PsCliResult) switched = { 0, };
  g_auto(PsCliResult) again = { 0, };
  g_auto(PsCliResult) removed = { 0, };
  g_autofree char *prefix = our_prefix ();
  g_autoptr(GHashTable) docs = NULL;

  run_ok (&switched, home_a, NULL, desktop);
  g_assert_cmpuint (count_occurrences (switched.out, "Removed the replication document"), ==, 6);
  docs = replicator_docs (prefix);
  g_assert_cmpuint (g_hash_table_size (docs), ==, 0);
  g_clear_pointer (&docs, g_hash_table_unref);
  assert_foreign_doc_untouched ();

  run_ok (&again, home_a, NULL, on_server);
  g_assert_cmpuint (count_occurrences (again.out, "Wrote the replication document"), ==, 6);

  run_ok (&removed, home_a, NULL, remove);
  g_assert_cmpuint (count_occurrences (removed.out, "Removed the replication document"), ==, 6);
  docs = replicator_docs (prefix);
  g_assert_cmpuint (g_hash_table_size (docs), ==, 0);
  assert_foreign_doc_untouched ();
}

static void
put_foreign_doc (void)
{
  g_autofree char *source = plain_db_url (local, databases[0]);
  g_autofree char *target = plain_db_url (local, "office_backup");
  g_autofree char *text = g_strdup_printf ("{\"source\": {\"url\": \"%s\"}, "
                                           "\"target\": {\"url\": \"%s\"}, "
                                           "\"continuous\": false}", source, target);
  g_autoptr(JsonNode) body = json_from_string (text, NULL);
  g_autoptr(JsonNode) answer = NULL;
  guint status = 0;

  answer = ps_test_peer_request (ps_test_couch_server_get_peer (local), "PUT",
                                 "/_replicator/" FOREIGN_ID, body, &status);
  g_assert_cmpuint (status, ==, 201);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  if (ps_test_couch_skip_if_absent ())
    return 0;

  g_test_add_func ("/ps/couchdb/on-server/add-writes-documents", test_add_writes_documents);
  g_test_add_func ("/ps/couchdb/on-server/records-travel-without-app",
                   test_records_travel_without_app);
  g_test_add_func ("/ps/couchdb/on-server/watchers-resolve-conflict",
                   test_watchers_resolve_conflict);
  g_test_add_func ("/ps/couchdb/on-server/status-and-crash", test_status_and_crash);
  g_test_add_func ("/ps/couchdb/on-server/switch-back-and-remove", test_switch_back_and_remove);

  local = ps_test_couch_server_new (0);
  remote = ps_test_couch_server_new (1);
  for (guint i = 0; i < 2; i++)
    {
      PsTestCouchServer *server = i == 0 ? local : remote;

      ps_test_couch_server_set_config (server, "replicator", "startup_jitter", "0");
      /* CouchDB 3.4 and later lock a user out for five minutes after five
       * wrong passwords (the replicator retries a wrong one quickly), so
       * that even the corrected password is refused: the product explains
       * that (test-replicator-error); here recovery is tested at once.
       */
      ps_test_couch_server_set_config (server, "chttpd_auth_lockout", "mode", "off");
      for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
        ps_test_couch_server_fresh_db (server, databases[d]);
    }
  put_foreign_doc ();

  home_a = g_dir_make_tmp ("ps-on-server-a-XXXXXX", NULL);
  home_b = g_dir_make_tmp ("ps-on-server-b-XXXXXX", NULL);
  set_instance (home_a, local);
  set_instance (home_b, remote);

  status = g_test_run ();

  ps_test_remove_dir (home_a);
  ps_test_remove_dir (home_b);
  g_clear_pointer (&home_a, g_free);
  g_clear_pointer (&home_b, g_free);
  g_clear_pointer (&server_id, g_free);
  /* CouchDB would keep replicating from a document left behind. */
  g_clear_pointer (&local, ps_test_couch_server_free);
  g_clear_pointer (&remote, ps_test_couch_server_free);
  return status;
}

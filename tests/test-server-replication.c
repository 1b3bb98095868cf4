/* test-server-replication.c: the state of a server's replications, read
 * from answers of `_scheduler/docs` that CouchDB gives, and from answers
 * a hostile or broken server could give instead.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-replicator-documents.h"
#include "ps-server-replication.h"

#include <string.h>

static PsServer *
new_server (void)
{
  PsServer *server = ps_server_new ("Field office", "https://field.example.org:6984");
  const char * const databases[] = { "primero_child_production", NULL };

  ps_server_set_databases (server, databases);
  return server;
}

static JsonArray *
parse_docs (const char *text)
{
  g_autoptr(JsonNode) node = json_from_string (text, NULL);

  g_assert_nonnull (node);
  return json_array_ref (json_node_get_array (node));
}

/* `_scheduler/docs` rows for the server's two documents, in @pull_state
 * and @push_state, with @pull_info as the pull's `info` member.
 */
static JsonArray *
scheduler_docs (PsServer   *server,
                const char *pull_state,
                const char *pull_info,
                const char *push_state)
{
  g_autofree char *pull = ps_replicator_document_id (ps_server_get_id (server),
                                                     "primero_child_production",
                                                     PS_SYNC_DIRECTION_PULL);
  g_autofree char *push = ps_replicator_document_id (ps_server_get_id (server),
                                                     "primero_child_production",
                                                     PS_SYNC_DIRECTION_PUSH);
  g_autofree char *text = g_strdup_printf (
    "[{\"database\": \"_replicator\", \"doc_id\": \"%s\", \"state\": \"%s\", \"info\": %s},"
    " {\"database\": \"_replicator\", \"doc_id\": \"%s\", \"state\": \"%s\","
    "  \"info\": {\"docs_written\": 7, \"doc_write_failures\": 1, \"changes_pending\": 3}}]",
    pull, pull_state, pull_info, push, push_state);

  return parse_docs (text);
}

static void
test_running_counts (void)
{
  g_autoptr(PsServer) server = new_server ();
  g_autoptr(JsonArray) docs = scheduler_docs (server, "running",
                                              "{\"docs_written\": 5, \"changes_pending\": null}",
                                              "completed");
  g_autoptr(PsServerReplicationStatus) status =
    ps_server_replication_status_new_from_scheduler (server, docs);

  g_assert_cmpint (ps_server_replication_status_get_state (status), ==,
                   PS_SERVER_REPLICATION_STATE_RUNNING);
  g_assert_null (ps_server_replication_status_get_error (status));
  g_assert_cmpuint (ps_server_replication_status_get_n_entries (status), ==, 2);
  g_assert_cmpuint (ps_server_replication_status_get_docs_written (status), ==, 12);
  g_assert_cmpuint (ps_server_replication_status_get_write_failures (status), ==, 1);
  g_assert_cmpuint (ps_server_replication_status_get_changes_pending (status), ==, 3);
}

/* CouchDB's multi-line Erlang reason, with a URL holding credentials:
 * one sentence for the user, CouchDB's text kept without the password.
 */
static void
test_crashing_reason (void)
{
  g_autoptr(PsServer) server = new_server ();
  g_autoptr(JsonArray) docs = scheduler_docs (
    server, "crashing",
    "{\"error\": \"unauthorized: unauthorized to access or create database\\n"
    "    http://admin:S3cret-pw@127.0.0.1:5984/primero_child_production/\"}",
    "running");
  g_autoptr(PsServerReplicationStatus) status =
    ps_server_replication_status_new_from_scheduler (server, docs);
  g_autoptr(JsonNode) json = ps_server_replication_status_to_json (status);
  g_autofree char *text = json_to_string (json, FALSE);
  const char *error = ps_server_replication_status_get_error (status);

  g_assert_cmpint (ps_server_replication_status_get_state (status), ==,
                   PS_SERVER_REPLICATION_STATE_CRASHING);
  g_assert_nonnull (strstr (error, "http://127.0.0.1:5984 refused the user name or password"));
  g_assert_null (strchr (error, '\n'));
  g_assert_null (strstr (text, "S3cret-pw"));
  g_assert_nonnull (strstr (text, "unauthorized to access"));
}

/* What no CouchDB sends: rows that are not objects, members of the wrong
 * type, an unknown state, a row of another database, a reason that is not
 * text. None is taken for more than it says, and none crashes.
 */
static void
test_hostile_answer (void)
{
  g_autoptr(PsServer) server = new_server ();
  g_autofree char *pull = ps_replicator_document_id (ps_server_get_id (server),
                                                     "primero_child_production",
                                                     PS_SYNC_DIRECTION_PULL);
  g_autofree char *push = ps_replicator_document_id (ps_server_get_id (server),
                                                     "primero_child_production",
                                                     PS_SYNC_DIRECTION_PUSH);
  g_autofree char *text = g_strdup_printf (
    "[42, null, \"row\", [1],"
    " {\"database\": \"other\", \"doc_id\": \"%s\", \"state\": \"failed\"},"
    " {\"database\": \"_replicator\", \"doc_id\": \"%s\", \"state\": \"exploding\","
    "  \"info\": {\"docs_written\": \"many\", \"doc_write_failures\": -4}},"
    " {\"database\": \"_replicator\", \"doc_id\": \"%s\", \"state\": \"failed\","
    "  \"info\": {\"error\": [\"not\", \"text\"]}}]", pull, pull, push);
  g_autoptr(JsonArray) docs = parse_docs (text);
  g_autoptr(PsServerReplicationStatus) status =
    ps_server_replication_status_new_from_scheduler (server, docs);

  g_assert_cmpint (ps_server_replication_state_is_failing (
                     ps_server_replication_status_get_state (status)), ==, TRUE);
  g_assert_cmpuint (ps_server_replication_status_get_docs_written (status), ==, 0);
  g_assert_cmpuint (ps_server_replication_status_get_write_failures (status), ==, 0);
  /* A failure CouchDB gave no reason for has none to show. */
  g_assert_null (ps_server_replication_status_get_error (status));
}

/* Documents written but not picked up yet are waiting, not unknown. */
static void
test_missing_documents_pending (void)
{
  g_autoptr(PsServer) server = new_server ();
  g_autoptr(JsonArray) docs = parse_docs ("[]");
  g_autoptr(PsServerReplicationStatus) status =
    ps_server_replication_status_new_from_scheduler (server, docs);

  g_assert_cmpint (ps_server_replication_status_get_state (status), ==,
                   PS_SERVER_REPLICATION_STATE_PENDING);
  g_assert_cmpuint (ps_server_replication_status_get_n_entries (status), ==, 2);
}

/* The status of a server that could not be read keeps its reason on one
 * line and without credentials.
 */
static void
test_own_error_one_line (void)
{
  g_autoptr(PsServerReplicationStatus) status = ps_server_replication_status_new_with_error (
    PS_SERVER_REPLICATION_STATE_UNKNOWN,
    "Could not reach http://admin:S3cret-pw@127.0.0.1:5984/_scheduler/docs:\n  refused");

  g_assert_cmpstr (ps_server_replication_status_get_error (status), ==,
                   "Could not reach http://127.0.0.1:5984/_scheduler/docs: refused");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ps/server-replication/running-counts", test_running_counts);
  g_test_add_func ("/ps/server-replication/crashing-reason", test_crashing_reason);
  g_test_add_func ("/ps/server-replication/hostile-answer", test_hostile_answer);
  g_test_add_func ("/ps/server-replication/missing-documents-pending",
                   test_missing_documents_pending);
  g_test_add_func ("/ps/server-replication/own-error-one-line", test_own_error_one_line);

  return g_test_run ();
}

/* test-replication.c: replication between real CouchDB-compatible servers.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-checkpoint.h"
#include "ps-fake-couch.h"
#include "ps-record-generator.h"
#include "ps-replication.h"
#include "ps-test-peer.h"
#include "ps-test-replication.h"

#include <string.h>

#define DB "primero_child_production"
/* A run that hangs fails with what it was doing, not a bare timeout. */
#define RUN_TIMEOUT_S 180

static PsCouchDatabase *
open_database (SoupSession *session,
               const char  *url)
{
  g_autoptr(GError) error = NULL;
  PsCouchDatabase *database = ps_couch_database_new (session, url, &error);

  g_assert_no_error (error);
  return database;
}

static PsReplication *
new_replication (SoupSession *session,
                 PsTestPeer  *source,
                 const char  *source_db,
                 PsTestPeer  *target,
                 const char  *target_db)
{
  g_autofree char *source_url = ps_test_peer_db_url (source, source_db);
  g_autofree char *target_url = ps_test_peer_db_url (target, target_db);
  g_autoptr(PsCouchDatabase) from = open_database (session, source_url);
  g_autoptr(PsCouchDatabase) to = open_database (session, target_url);

  return ps_replication_new (from, to);
}

static void
replicate_once (SoupSession *session,
                PsTestPeer  *source,
                PsTestPeer  *target,
                guint        batch_size,
                guint64     *written)
{
  g_autoptr(PsReplication) replication = new_replication (session, source, DB, target, DB);
  PsTestRun run;

  ps_replication_set_create_target (replication, TRUE);
  ps_replication_set_batch_size (replication, batch_size);
  ps_test_replication_run (replication, NULL, RUN_TIMEOUT_S, &run);
  g_assert_no_error (run.error);
  g_assert_true (run.ok);
  g_assert_cmpint (ps_replication_get_state (replication), ==, PS_REPLICATION_STATE_COMPLETED);
  g_assert_cmpuint (ps_replication_get_doc_write_failures (replication), ==, 0);
  *written = ps_replication_get_docs_written (replication);
}

/* Realistic records with every kind of revision tree: plain, edited,
 * deleted, with attachments and with 2–3 conflicting leaves.
 */
static GPtrArray *
load_records (PsTestPeer *peer,
              GRand      *rand,
              guint       count)
{
  g_autoptr(JsonArray) docs = json_array_new ();
  g_autoptr(JsonArray) second = json_array_new ();
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

  for (guint i = 0; i < count; i++)
    {
      JsonNode *record = ps_record_generator_child (rand, i);

      json_array_add_element (docs, json_node_copy (record));
      if (i % 15 == 3)
        json_array_add_element (second, ps_record_generator_deleted (record));
      else if (i % 15 == 7)
        {
          g_autoptr(JsonArray) leaves = ps_record_generator_conflict_leaves (rand, record,
                                                                             2 + i % 2);

          for (guint j = 0; j < json_array_get_length (leaves); j++)
            json_array_add_element (second, json_node_copy (json_array_get_element (leaves, j)));
        }
      g_ptr_array_add (records, record);
    }

  ps_test_peer_create_db (peer, DB);
  ps_test_peer_put_docs (peer, DB, docs, FALSE);
  ps_test_peer_put_docs (peer, DB, second, FALSE);
  return records;
}

static void
test_full_then_incremental (void)
{
  g_autoptr(PsTestPeer) source = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) target = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autoptr(GPtrArray) records = load_records (source, rand, 400);
  g_autoptr(JsonArray) edits = json_array_new ();
  guint64 written = 0;

  g_assert_cmpuint (ps_test_peer_count_conflicts (source, DB), >, 0);

  /* Small batches, so that several are in flight at once. */
  replicate_once (session, source, target, 50, &written);
  g_assert_cmpuint (written, >=, records->len);
  ps_test_assert_same_rev_trees (source, DB, target, DB);
  g_assert_cmpuint (ps_test_peer_count_conflicts (target, DB), ==,
                    ps_test_peer_count_conflicts (source, DB));

  /* Nothing new: nothing is copied. */
  replicate_once (session, source, target, 50, &written);
  g_assert_cmpuint (written, ==, 0);

  /* 50 changed records: exactly those are copied. */
  for (guint i = 0; i < 50; i++)
    {
      JsonNode *record = g_ptr_array_index (records, i * 7 + 1);

      json_array_add_element (edits, ps_record_generator_edit (rand, record));
    }
  ps_test_peer_put_docs (source, DB, edits, FALSE);
  replicate_once (session, source, target, 50, &written);
  g_assert_cmpuint (written, ==, 50);
  ps_test_assert_same_rev_trees (source, DB, target, DB);

  ps_test_peer_assert_alive (source);
  ps_test_peer_assert_alive (target);
}

static void
put_plain_doc (PsTestPeer *peer,
               const char *id,
               const char *value)
{
  ps_test_peer_put_named_doc (peer, DB, id, value);
}

static gboolean
peer_has_doc (PsTestPeer *peer,
              const char *id)
{
  return ps_test_peer_has_doc (peer, DB, id);
}

/* Runs the main loop until @id is on @peer; returns the milliseconds it took. */
static gint64
wait_for_doc (PsTestPeer *peer,
              const char *id,
              guint       timeout_ms)
{
  gint64 start = g_get_monotonic_time ();

  while (!peer_has_doc (peer, id))
    {
      gint64 until = g_get_monotonic_time () + 50 * 1000;

      g_assert_cmpint ((g_get_monotonic_time () - start) / 1000, <, timeout_ms);
      while (g_get_monotonic_time () < until)
        g_main_context_iteration (NULL, FALSE) || (g_usleep (5000), TRUE);
    }

  return (g_get_monotonic_time () - start) / 1000;
}

static void
wait_for_state (PsReplication      *replication,
                PsReplicationState  state,
                guint               timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  while (ps_replication_get_state (replication) != state)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE) || (g_usleep (5000), TRUE);
    }
}

static void
test_continuous_survives_target_restart (void)
{
  g_autoptr(PsTestPeer) source = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) target = ps_test_peer_new (FALSE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsReplication) replication = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  PsTestRun run;
  gint64 took;

  ps_test_peer_create_db (source, DB);
  ps_test_peer_create_db (target, DB);
  put_plain_doc (source, "before", "Amina");

  replication = new_replication (session, source, DB, target, DB);
  ps_replication_set_continuous (replication, TRUE);
  ps_replication_set_max_retry_delay (replication, 1);
  ps_test_replication_start (replication, cancellable, &run);

  wait_for_doc (target, "before", 10000);
  wait_for_state (replication, PS_REPLICATION_STATE_WAITING, 5000);

  /* A new record arrives promptly. */
  put_plain_doc (source, "live", "Musa");
  took = wait_for_doc (target, "live", 5000);
  g_test_message ("a new change reached the target in %" G_GINT64_FORMAT " ms", took);
  g_assert_cmpint (took, <, 2000);

  /* The target goes away while records are written, then comes back. */
  ps_test_peer_stop (target);
  put_plain_doc (source, "while-down-1", "Hauwa");
  put_plain_doc (source, "while-down-2", "Fatima");
  wait_for_state (replication, PS_REPLICATION_STATE_RETRYING, 30000);
  g_assert_nonnull (ps_replication_get_last_error (replication));
  ps_test_peer_start (target);

  wait_for_doc (target, "while-down-1", 30000);
  wait_for_doc (target, "while-down-2", 30000);
  g_assert_false (run.done);

  g_cancellable_cancel (cancellable);
  while (!run.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&run.error);
  ps_test_assert_same_rev_trees (source, DB, target, DB);
}

static JsonNode *
read_target_checkpoint (SoupSession *session,
                        PsTestPeer  *source,
                        PsTestPeer  *target)
{
  g_autofree char *source_url = ps_test_peer_db_url (source, DB);
  g_autofree char *target_url = ps_test_peer_db_url (target, DB);
  g_autoptr(PsCouchDatabase) from = open_database (session, source_url);
  g_autoptr(PsCouchDatabase) to = open_database (session, target_url);
  g_autofree char *from_identity = ps_couch_database_dup_identity_url (from);
  g_autofree char *to_identity = ps_couch_database_dup_identity_url (to);
  g_autofree char *id = ps_checkpoint_replication_id (from_identity, to_identity, NULL);
  g_autofree char *path = g_strdup_printf ("/%s/_local/%s", DB, id);
  g_autoptr(JsonNode) log = NULL;
  guint status = 0;

  log = ps_test_peer_request (target, "GET", path, NULL, &status);
  if (status == 404)
    return NULL;
  g_assert_cmpuint (status, ==, 200);
  return json_node_copy (json_object_get_member (json_node_get_object (log), "source_last_seq"));
}

/* Every revision the source listed up to @seq, as a _revs_diff query. */
static JsonNode *
revs_up_to (PsTestPeer *source,
            JsonNode   *seq)
{
  g_autofree char *path = g_strdup_printf ("/%s/_changes?style=all_docs", DB);
  g_autoptr(JsonNode) changes = NULL;
  JsonObject *query = json_object_new ();
  JsonArray *results;
  guint status = 0;

  changes = ps_test_peer_request (source, "GET", path, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  results = json_object_get_array_member (json_node_get_object (changes), "results");

  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonObject *row = json_array_get_object_element (results, i);
      JsonArray *row_changes = json_object_get_array_member (row, "changes");
      JsonArray *revs;

      /* The test peer's sequences are numbers. */
      if (json_object_get_int_member (row, "seq") > json_node_get_int (seq))
        continue;
      revs = json_array_new ();
      for (guint j = 0; j < json_array_get_length (row_changes); j++)
        json_array_add_string_element (revs,
                                       json_object_get_string_member (json_array_get_object_element (row_changes, j),
                                                                      "rev"));
      json_object_set_array_member (query, json_object_get_string_member (row, "id"), revs);
    }

  return json_node_init_object (json_node_alloc (), query);
}

static guint stop_after;

static void
on_documents_written_cancel_cb (PsReplication *replication,
                                char         **ids,
                                GCancellable  *cancellable)
{
  if (--stop_after == 0)
    g_cancellable_cancel (cancellable);
}

/* After a cancelled run, whatever the target's checkpoint claims is there. */
static void
test_cancel_keeps_checkpoint_honest (void)
{
  g_autoptr(PsTestPeer) source = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) target = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_autoptr(GPtrArray) records = load_records (source, rand, 600);
  g_autofree char *diff_path = g_strdup_printf ("/%s/_revs_diff", DB);
  guint64 written = 0;
  guint checked = 0;

  for (guint attempt = 0; attempt < 3; attempt++)
    {
      g_autoptr(PsReplication) replication = new_replication (session, source, DB, target, DB);
      g_autoptr(GCancellable) stop = g_cancellable_new ();
      g_autoptr(JsonNode) seq = NULL;
      g_autoptr(JsonNode) query = NULL;
      g_autoptr(JsonNode) diff = NULL;
      PsTestRun run;
      guint status = 0;

      ps_replication_set_create_target (replication, TRUE);
      ps_replication_set_batch_size (replication, 20);
      ps_replication_set_checkpoint_interval (replication, 0);
      stop_after = 4;
      g_signal_connect (replication, "documents-written",
                        G_CALLBACK (on_documents_written_cancel_cb), stop);
      ps_test_replication_run (replication, stop, RUN_TIMEOUT_S, &run);
      g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&run.error);
      g_assert_cmpuint (ps_replication_get_docs_written (replication), <, records->len);

      /* A run stopped early may not have saved a checkpoint yet; when
       * one exists, nothing it covers may be missing on the target.
       */
      seq = read_target_checkpoint (session, source, target);
      if (seq == NULL)
        continue;
      checked++;
      query = revs_up_to (source, seq);
      diff = ps_test_peer_request (target, "POST", diff_path, query, &status);
      g_assert_cmpuint (status, ==, 200);
      g_assert_cmpuint (json_object_get_size (json_node_get_object (diff)), ==, 0);
    }

  g_assert_cmpuint (checked, >, 0);

  /* And a full run then completes the copy. */
  replicate_once (session, source, target, 100, &written);
  ps_test_assert_same_rev_trees (source, DB, target, DB);
}

static void
test_rejected_documents_listed (void)
{
  g_autoptr(PsTestPeer) source = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) target = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsReplication) replication = NULL;
  g_autoptr(JsonNode) design = NULL;
  g_autofree char *design_path = g_strdup_printf ("/%s/_design/guard", DB);
  PsTestRun run;
  GPtrArray *failures;
  guint status = 0;

  ps_test_peer_create_db (source, DB);
  ps_test_peer_create_db (target, DB);
  design = json_from_string ("{\"validate_doc_update\":\"function (doc) { if (doc.name === 'refused') "
                             "throw ({forbidden: 'records of this kind are not accepted here'}); }\"}",
                             NULL);
  g_autoptr(JsonNode) put = ps_test_peer_request (target, "PUT", design_path, design, &status);
  g_assert_cmpuint (status, ==, 201);

  put_plain_doc (source, "accepted-1", "fine");
  put_plain_doc (source, "refused-1", "refused");
  put_plain_doc (source, "accepted-2", "fine");

  replication = new_replication (session, source, DB, target, DB);
  ps_test_replication_run (replication, NULL, RUN_TIMEOUT_S, &run);
  g_assert_no_error (run.error);
  g_assert_true (peer_has_doc (target, "accepted-1"));
  g_assert_true (peer_has_doc (target, "accepted-2"));
  g_assert_false (peer_has_doc (target, "refused-1"));
  g_assert_cmpuint (ps_replication_get_doc_write_failures (replication), ==, 1);
  g_assert_cmpuint (ps_replication_get_docs_written (replication), ==, 2);
  failures = ps_replication_get_write_failures (replication);
  g_assert_cmpuint (failures->len, ==, 1);
  g_assert_cmpstr (((PsWriteFailure *) failures->pdata[0])->id, ==, "refused-1");
  g_assert_nonnull (strstr (((PsWriteFailure *) failures->pdata[0])->reason, "not accepted"));
}

/* CouchDB 1.x has no _bulk_get: documents are fetched one by one. */
static void
test_open_revs_fallback (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(PsTestPeer) target = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsCouchDatabase) from = NULL;
  g_autoptr(PsCouchDatabase) to = NULL;
  g_autoptr(PsReplication) replication = NULL;
  g_autofree char *source_url = ps_fake_couch_url (fake, "/old");
  g_autofree char *target_url = ps_test_peer_db_url (target, DB);
  PsTestRun run;

  ps_fake_couch_route (fake, "GET", "/old", 200, NULL, "{\"db_name\":\"old\",\"update_seq\":2}");
  ps_fake_couch_route (fake, "GET", "/old/_changes", 200, NULL,
                       "{\"results\":[{\"seq\":2,\"id\":\"case-1\",\"changes\":[{\"rev\":\"2-bb\"},{\"rev\":\"2-cc\"}]}],"
                       "\"last_seq\":2}");
  ps_fake_couch_route (fake, "POST", "/old/_bulk_get", 400, NULL,
                       "{\"error\":\"bad_request\",\"reason\":\"Referer header required.\"}");
  ps_fake_couch_route (fake, "GET", "/old/case-1", 200, NULL,
                       "[{\"ok\":{\"_id\":\"case-1\",\"_rev\":\"2-bb\",\"name\":\"Musa\","
                       "\"_revisions\":{\"start\":2,\"ids\":[\"bb\",\"aa\"]}}},"
                       "{\"ok\":{\"_id\":\"case-1\",\"_rev\":\"2-cc\",\"name\":\"Moussa\","
                       "\"_revisions\":{\"start\":2,\"ids\":[\"cc\",\"aa\"]}}}]");
  ps_fake_couch_route (fake, "PUT", "/old/_local/x", 201, NULL, "{}");

  from = open_database (session, source_url);
  to = open_database (session, target_url);
  replication = ps_replication_new (from, to);
  ps_replication_set_create_target (replication, TRUE);
  ps_test_replication_run (replication, NULL, RUN_TIMEOUT_S, &run);

  /* The log cannot be written on this source; that does not fail the run. */
  g_assert_no_error (run.error);
  g_assert_cmpuint (ps_fake_couch_count_requests (fake, "GET", "/old/case-1"), ==, 1);
  g_assert_cmpuint (ps_replication_get_docs_written (replication), ==, 2);
  g_assert_cmpuint (ps_test_peer_count_conflicts (target, DB), ==, 1);
}

/* A source that answers _bulk_get for fewer revisions than it was asked:
 * the run must not end as a success, nor move the checkpoint past the
 * revision that never came.
 */
static void
test_unanswered_revision_fails_run (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(PsTestPeer) target = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsCouchDatabase) from = NULL;
  g_autoptr(PsCouchDatabase) to = NULL;
  g_autoptr(PsReplication) replication = NULL;
  g_autofree char *source_url = ps_fake_couch_url (fake, "/src");
  g_autofree char *target_url = ps_test_peer_db_url (target, DB);
  g_autofree char *from_identity = NULL;
  g_autofree char *to_identity = NULL;
  g_autofree char *replication_id = NULL;
  g_autofree char *log_path = NULL;
  g_autoptr(JsonNode) log = NULL;
  PsTestRun run;
  guint status = 0;

  ps_fake_couch_route (fake, "GET", "/src", 200, NULL, "{\"db_name\":\"src\",\"update_seq\":2}");
  ps_fake_couch_route (fake, "GET", "/src/_changes", 200, NULL,
                       "{\"results\":["
                       "{\"seq\":1,\"id\":\"case-1\",\"changes\":[{\"rev\":\"1-aa\"}]},"
                       "{\"seq\":2,\"id\":\"case-2\",\"changes\":[{\"rev\":\"1-bb\"}]}],"
                       "\"last_seq\":2}");
  /* case-2 is neither sent, nor said missing, nor refused. */
  ps_fake_couch_route (fake, "POST", "/src/_bulk_get", 200, NULL,
                       "{\"results\":[{\"id\":\"case-1\",\"docs\":[{\"ok\":{\"_id\":\"case-1\","
                       "\"_rev\":\"1-aa\",\"name\":\"Musa\","
                       "\"_revisions\":{\"start\":1,\"ids\":[\"aa\"]}}}]}]}");

  from = open_database (session, source_url);
  to = open_database (session, target_url);
  replication = ps_replication_new (from, to);
  ps_replication_set_create_target (replication, TRUE);
  ps_replication_set_checkpoint_interval (replication, 0);
  ps_test_replication_run (replication, NULL, RUN_TIMEOUT_S, &run);

  g_assert_false (run.ok);
  g_assert_nonnull (run.error);
  g_assert_nonnull (strstr (run.error->message, "case-2"));
  g_assert_cmpint (ps_replication_get_state (replication), ==, PS_REPLICATION_STATE_FAILED);
  g_assert_true (peer_has_doc (target, "case-1"));
  g_clear_error (&run.error);

  /* No checkpoint says that case-2 was copied. */
  from_identity = ps_couch_database_dup_identity_url (from);
  to_identity = ps_couch_database_dup_identity_url (to);
  replication_id = ps_checkpoint_replication_id (from_identity, to_identity, NULL);
  log_path = g_strdup_printf ("/%s/_local/%s", DB, replication_id);
  log = ps_test_peer_request (target, "GET", log_path, NULL, &status);
  g_assert_cmpuint (status, ==, 404);
}

/* CouchDB's cookie sessions: one login, then the cookie on every request. */
static void
test_cookie_session_auth (void)
{
  g_autoptr(PsTestPeer) source = ps_test_peer_new_with_admin (TRUE, "admin", "Lantern-Reef-77");
  g_autoptr(PsTestPeer) target = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autofree char *source_url = NULL;
  g_autofree char *target_url = NULL;
  g_autoptr(PsCouchDatabase) from = NULL;
  g_autoptr(PsCouchDatabase) to = NULL;
  g_autoptr(PsReplication) replication = NULL;
  g_autoptr(PsReplication) refused = NULL;
  PsTestRun run;

  ps_test_peer_create_db (source, DB);
  put_plain_doc (source, "case-1", "Amina");
  /* Only members may read: the replication must really be logged in. */
  {
    g_autofree char *path = g_strdup_printf ("/%s/_security", DB);
    g_autoptr(JsonNode) security = json_from_string ("{\"members\":{\"names\":[\"nobody-else\"]}}", NULL);
    g_autoptr(JsonNode) answer = NULL;
    guint status = 0;

    answer = ps_test_peer_request (source, "PUT", path, security, &status);
    g_assert_cmpuint (status, ==, 200);
  }
  source_url = ps_test_peer_db_url (source, DB);
  target_url = ps_test_peer_db_url (target, DB);

  from = open_database (session, source_url);
  ps_couch_database_set_credentials (from, "admin", "Lantern-Reef-77");
  ps_couch_database_set_auth (from, PS_COUCH_AUTH_SESSION);
  to = open_database (session, target_url);
  replication = ps_replication_new (from, to);
  ps_replication_set_create_target (replication, TRUE);
  ps_test_replication_run (replication, NULL, RUN_TIMEOUT_S, &run);
  g_assert_no_error (run.error);
  g_assert_true (peer_has_doc (target, "case-1"));

  /* A refused login is a plain, permanent error. */
  g_clear_object (&from);
  from = open_database (session, source_url);
  ps_couch_database_set_credentials (from, "admin", "wrong");
  ps_couch_database_set_auth (from, PS_COUCH_AUTH_SESSION);
  refused = ps_replication_new (from, to);
  ps_test_replication_run (refused, NULL, RUN_TIMEOUT_S, &run);
  g_assert_error (run.error, PS_COUCH_ERROR, PS_COUCH_ERROR_UNAUTHORIZED);
  g_clear_error (&run.error);

  /* And without credentials the members-only database is refused. */
  {
    g_autoptr(PsCouchDatabase) anonymous = open_database (session, source_url);
    g_autoptr(PsReplication) denied = ps_replication_new (anonymous, to);

    ps_test_replication_run (denied, NULL, RUN_TIMEOUT_S, &run);
    g_assert_error (run.error, PS_COUCH_ERROR, PS_COUCH_ERROR_UNAUTHORIZED);
    g_clear_error (&run.error);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/replication/full-then-incremental", test_full_then_incremental);
  g_test_add_func ("/ps/replication/continuous-survives-target-restart",
                   test_continuous_survives_target_restart);
  g_test_add_func ("/ps/replication/cancel-keeps-checkpoint-honest",
                   test_cancel_keeps_checkpoint_honest);
  g_test_add_func ("/ps/replication/rejected-documents-listed", test_rejected_documents_listed);
  g_test_add_func ("/ps/replication/open-revs-fallback", test_open_revs_fallback);
  g_test_add_func ("/ps/replication/cookie-session-auth", test_cookie_session_auth);
  g_test_add_func ("/ps/replication/unanswered-revision-fails-run",
                   test_unanswered_revision_fails_run);

  return g_test_run ();
}

/* test-faults.c: replication through a proxy that delays, cuts, resets and
 * corrupts traffic. Whatever the network does, no record is lost,
 * duplicated or altered, and the checkpoint never claims more than the
 * target holds.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-checkpoint.h"
#include "ps-fault-proxy.h"
#include "ps-record-generator.h"
#include "ps-replication.h"
#include "ps-test-peer.h"
#include "ps-test-replication.h"

#include <string.h>

#define DB                 "primero_child_production"
#define N_RECORDS          300
#define BATCH_SIZE         20
#define RUN_TIMEOUT_S      90
#define CONVERGE_TIMEOUT_S 120
#define DEFAULT_SOAK_S     60

/* The peers are shared by every test, each test with a database of its
 * own on the target: starting peers and loading records is most of the
 * time a test takes otherwise.
 */
typedef struct
{
  PsTestPeer   *source;
  PsTestPeer   *target;
  char         *source_db;
  char         *target_db;
  PsFaultProxy *source_proxy;
  PsFaultProxy *target_proxy;
  SoupSession  *session;
  GRand        *rand;
  GPtrArray    *records;      /* JsonNode: the newest revision of each record */
  guint         next_index;
} Fixture;

static PsTestPeer *shared_source;
static PsTestPeer *shared_target;
static guint       n_databases;

/* Fixture */

static GPtrArray *
load_records (PsTestPeer *peer,
              const char *db,
              GRand      *rand,
              guint       first,
              guint       count)
{
  g_autoptr(JsonArray) docs = json_array_new ();
  g_autoptr(JsonArray) second = json_array_new ();
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

  for (guint i = first; i < first + count; i++)
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

  ps_test_peer_put_docs (peer, db, docs, FALSE);
  if (json_array_get_length (second) > 0)
    ps_test_peer_put_docs (peer, db, second, FALSE);
  return records;
}

static void
ensure_shared_peers (void)
{
  g_autoptr(GRand) rand = NULL;
  g_autoptr(GPtrArray) records = NULL;

  if (shared_source != NULL)
    return;

  shared_source = ps_test_peer_new (TRUE);
  shared_target = ps_test_peer_new (TRUE);
  rand = g_rand_new_with_seed (20240611);
  ps_test_peer_create_db (shared_source, DB);
  records = load_records (shared_source, DB, rand, 0, N_RECORDS);
  g_assert_cmpuint (ps_test_peer_count_conflicts (shared_source, DB), >, 0);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  ensure_shared_peers ();
  fixture->source = shared_source;
  fixture->target = shared_target;
  fixture->source_db = g_strdup (DB);
  fixture->target_db = g_strdup_printf ("target_%u", ++n_databases);
  ps_test_peer_create_db (fixture->target, fixture->target_db);

  fixture->source_proxy = ps_fault_proxy_new (ps_test_peer_get_port (fixture->source));
  fixture->target_proxy = ps_fault_proxy_new (ps_test_peer_get_port (fixture->target));
  fixture->session = ps_couch_session_new ();
  fixture->rand = g_rand_new_with_seed (20240612);
}

/* A source database of its own, for a test that writes to it. */
static void
fixture_set_up_writable (Fixture       *fixture,
                         gconstpointer  data)
{
  fixture_set_up (fixture, data);
  g_free (fixture->source_db);
  fixture->source_db = g_strdup_printf ("source_%u", ++n_databases);
  ps_test_peer_create_db (fixture->source, fixture->source_db);
  fixture->records = load_records (fixture->source, fixture->source_db, fixture->rand, 0,
                                   N_RECORDS);
  fixture->next_index = N_RECORDS;
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *source_counts = ps_fault_proxy_describe (fixture->source_proxy);
  g_autofree char *target_counts = ps_fault_proxy_describe (fixture->target_proxy);

  g_test_message ("source proxy: %s", source_counts);
  g_test_message ("target proxy: %s", target_counts);

  /* A peer that crashed would explain any failure above. */
  ps_test_peer_assert_alive (fixture->source);
  ps_test_peer_assert_alive (fixture->target);

  g_clear_object (&fixture->session);
  g_clear_pointer (&fixture->source_proxy, ps_fault_proxy_free);
  g_clear_pointer (&fixture->target_proxy, ps_fault_proxy_free);
  g_clear_pointer (&fixture->source_db, g_free);
  g_clear_pointer (&fixture->target_db, g_free);
  g_clear_pointer (&fixture->records, g_ptr_array_unref);
  g_clear_pointer (&fixture->rand, g_rand_free);
}

static char *
source_url (Fixture *fixture)
{
  g_autofree char *path = g_strconcat ("/", fixture->source_db, NULL);

  return ps_fault_proxy_url (fixture->source_proxy, path);
}

static char *
target_url (Fixture *fixture)
{
  g_autofree char *path = g_strconcat ("/", fixture->target_db, NULL);

  return ps_fault_proxy_url (fixture->target_proxy, path);
}

static PsCouchDatabase *
open_database (SoupSession *session,
               const char  *url)
{
  g_autoptr(GError) error = NULL;
  PsCouchDatabase *database = ps_couch_database_new (session, url, &error);

  g_assert_no_error (error);
  return database;
}

/* Source and target both behind their proxy. */
static PsReplication *
new_replication (Fixture *fixture)
{
  g_autofree char *from_url = source_url (fixture);
  g_autofree char *to_url = target_url (fixture);
  g_autoptr(PsCouchDatabase) from = open_database (fixture->session, from_url);
  g_autoptr(PsCouchDatabase) to = open_database (fixture->session, to_url);
  PsReplication *replication = ps_replication_new (from, to);

  ps_replication_set_batch_size (replication, BATCH_SIZE);
  ps_replication_set_checkpoint_interval (replication, 0);
  return replication;
}

static void
iterate_for (guint milliseconds)
{
  gint64 until = g_get_monotonic_time () + milliseconds * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < until)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (2 * G_TIME_SPAN_MILLISECOND);
}


/* Checkpoint honesty */

static char *
replication_local_path (Fixture *fixture)
{
  g_autofree char *from_url = source_url (fixture);
  g_autofree char *to_url = target_url (fixture);
  g_autoptr(PsCouchDatabase) from = open_database (fixture->session, from_url);
  g_autoptr(PsCouchDatabase) to = open_database (fixture->session, to_url);
  g_autofree char *from_identity = ps_couch_database_dup_identity_url (from);
  g_autofree char *to_identity = ps_couch_database_dup_identity_url (to);
  g_autofree char *id = ps_checkpoint_replication_id (from_identity, to_identity, NULL);

  return g_strdup_printf ("/%s/_local/%s", fixture->target_db, id);
}

/* A _revs_diff query of every change the source lists up to @seq
 * (everything when @seq is %NULL).
 */
static JsonNode *
revs_up_to (Fixture  *fixture,
            JsonNode *seq,
            guint    *n_changes)
{
  g_autofree char *path = g_strdup_printf ("/%s/_changes?style=all_docs", fixture->source_db);
  g_autoptr(JsonNode) changes = NULL;
  JsonObject *query = json_object_new ();
  JsonArray *results;
  guint status = 0;

  changes = ps_test_peer_request (fixture->source, "GET", path, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  results = json_object_get_array_member (json_node_get_object (changes), "results");

  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonObject *row = json_array_get_object_element (results, i);
      JsonArray *row_changes = json_object_get_array_member (row, "changes");
      JsonArray *revs;

      /* The test peer's sequences are numbers. */
      if (seq != NULL && json_object_get_int_member (row, "seq") > json_node_get_int (seq))
        continue;
      revs = json_array_new ();
      for (guint j = 0; j < json_array_get_length (row_changes); j++)
        {
          JsonObject *change = json_array_get_object_element (row_changes, j);

          json_array_add_string_element (revs, json_object_get_string_member (change, "rev"));
        }
      json_object_set_array_member (query, json_object_get_string_member (row, "id"), revs);
    }

  if (n_changes != NULL)
    *n_changes = json_object_get_size (query);
  return json_node_init_object (json_node_alloc (), query);
}

/* How many of the documents in @query lack a revision on the target. */
static guint
count_missing_on_target (Fixture  *fixture,
                         JsonNode *query)
{
  g_autofree char *path = g_strdup_printf ("/%s/_revs_diff", fixture->target_db);
  g_autoptr(JsonNode) diff = NULL;
  guint status = 0;

  diff = ps_test_peer_request (fixture->target, "POST", path, query, &status);
  g_assert_cmpuint (status, ==, 200);
  return json_object_get_size (json_node_get_object (diff));
}

/* Returns whether a checkpoint exists; fails when it covers a change the
 * target lacks.
 */
static gboolean
assert_checkpoint_honest (Fixture *fixture)
{
  g_autofree char *path = replication_local_path (fixture);
  g_autoptr(JsonNode) log = NULL;
  g_autoptr(JsonNode) query = NULL;
  JsonNode *seq;
  guint status = 0;
  guint covered = 0;
  guint missing;

  log = ps_test_peer_request (fixture->target, "GET", path, NULL, &status);
  if (status == 404)
    return FALSE;
  g_assert_cmpuint (status, ==, 200);

  seq = json_object_get_member (json_node_get_object (log), "source_last_seq");
  g_assert_nonnull (seq);
  query = revs_up_to (fixture, seq, &covered);
  missing = count_missing_on_target (fixture, query);
  g_test_message ("the checkpoint is at %" G_GINT64_FORMAT ", covering %u documents; "
                  "%u of them missing on the target",
                  json_node_get_int (seq), covered, missing);
  g_assert_cmpuint (missing, ==, 0);
  return TRUE;
}

/* After the faults stop, one more run copies the rest and both ends hold
 * the same revision trees.
 */
static void
assert_rerun_converges (Fixture *fixture)
{
  g_autoptr(PsReplication) replication = new_replication (fixture);
  PsTestRun run;

  ps_fault_proxy_clear (fixture->source_proxy);
  ps_fault_proxy_clear (fixture->target_proxy);

  ps_test_replication_run (replication, NULL, RUN_TIMEOUT_S, &run);
  g_assert_no_error (run.error);
  g_assert_true (run.ok);
  g_assert_cmpuint (ps_replication_get_doc_write_failures (replication), ==, 0);
  ps_test_assert_same_rev_trees (fixture->source, fixture->source_db, fixture->target,
                                 fixture->target_db);
  g_assert_true (assert_checkpoint_honest (fixture));
}

/* Cases */

typedef enum
{
  SIDE_SOURCE,
  SIDE_TARGET,
} Side;

typedef struct
{
  const char *name;
  PsFault     fault;
  guint       param;
  guint       count;          /* 0: every request from then on */
  Side        side;
  guint       after_batches;  /* switch the fault on once this many were written */
  gboolean    expect_success;
  PsCouchError codes[3];      /* acceptable errors; the first entry is never FAILED */
  const char *filter_method;  /* only requests of this method… */
  const char *filter_path;    /* …to this path under the database */
} FaultCase;

#define NO_CODES { PS_COUCH_ERROR_FAILED, PS_COUCH_ERROR_FAILED, PS_COUCH_ERROR_FAILED }

static const FaultCase fault_cases[] = {
  /* Faults that only slow the exchange down. */
  { "latency", PS_FAULT_LATENCY, 40, 0, SIDE_SOURCE, 0, TRUE, NO_CODES },
  { "latency-target", PS_FAULT_LATENCY, 40, 0, SIDE_TARGET, 0, TRUE, NO_CODES },
  { "bandwidth", PS_FAULT_BANDWIDTH, 1024 * 1024, 0, SIDE_SOURCE, 0, TRUE, NO_CODES },
  { "bandwidth-target", PS_FAULT_BANDWIDTH, 1024 * 1024, 0, SIDE_TARGET, 0, TRUE, NO_CODES },
  { "trickle", PS_FAULT_TRICKLE, 1, 3, SIDE_SOURCE, 1, TRUE, NO_CODES },

  /* A few spoiled requests mid-run: the requests are sent again. */
  { "reset-retried", PS_FAULT_RESET, 0, 3, SIDE_SOURCE, 2, TRUE, NO_CODES },
  { "http-503-retried", PS_FAULT_HTTP_503, 0, 3, SIDE_TARGET, 2, TRUE, NO_CODES },
  { "http-500-retried", PS_FAULT_HTTP_500, 0, 2, SIDE_SOURCE, 2, TRUE, NO_CODES },
  { "cut-request-retried", PS_FAULT_CUT, 100, 3, SIDE_TARGET, 2, TRUE, NO_CODES },
  { "cut-answer-retried", PS_FAULT_CUT, 4000, 3, SIDE_SOURCE, 2, TRUE, NO_CODES,
    "POST", "_bulk_get" },

  /* Faults that last: the run stops with an error that says what failed. */
  { "http-503-from-start", PS_FAULT_HTTP_503, 0, 0, SIDE_SOURCE, 0, FALSE,
    { PS_COUCH_ERROR_SERVER, PS_COUCH_ERROR_SERVER, PS_COUCH_ERROR_SERVER } },
  { "reset-persistent", PS_FAULT_RESET, 0, 0, SIDE_TARGET, 6, FALSE,
    { PS_COUCH_ERROR_UNREACHABLE, PS_COUCH_ERROR_UNREACHABLE, PS_COUCH_ERROR_UNREACHABLE } },
  { "http-500-persistent", PS_FAULT_HTTP_500, 0, 0, SIDE_TARGET, 6, FALSE,
    { PS_COUCH_ERROR_SERVER, PS_COUCH_ERROR_SERVER, PS_COUCH_ERROR_SERVER } },
  { "cut-persistent", PS_FAULT_CUT, 3000, 0, SIDE_SOURCE, 6, FALSE,
    { PS_COUCH_ERROR_UNREACHABLE, PS_COUCH_ERROR_UNREACHABLE, PS_COUCH_ERROR_UNREACHABLE } },
  { "truncate-persistent", PS_FAULT_TRUNCATE, 100, 0, SIDE_SOURCE, 6, FALSE,
    { PS_COUCH_ERROR_UNREACHABLE, PS_COUCH_ERROR_UNREACHABLE, PS_COUCH_ERROR_UNREACHABLE } },

  /* One garbled answer is asked for again; nothing garbled may reach the
   * target.
   */
  { "corrupt-source", PS_FAULT_CORRUPT, 200, 1, SIDE_SOURCE, 3, TRUE, NO_CODES,
    "POST", "_bulk_get" },
  { "corrupt-target", PS_FAULT_CORRUPT, 0, 1, SIDE_TARGET, 3, TRUE, NO_CODES,
    "POST", "_revs_diff" },
};

/* Answers lost after the server acted on the request: the request is sent
 * again, and must be harmless the second time.
 */
static const FaultCase lost_answer_cases[] = {
  { "truncate-retried", PS_FAULT_TRUNCATE, 0, 3, SIDE_TARGET, 2, TRUE, NO_CODES },
  /* The target stored the checkpoint but its answer was lost. */
  { "checkpoint", PS_FAULT_TRUNCATE, 5, 1, SIDE_TARGET, 0, TRUE, NO_CODES,
    "PUT", "_local/" },
  { "bulk-docs", PS_FAULT_TRUNCATE, 0, 1, SIDE_TARGET, 2, TRUE, NO_CODES,
    "POST", "_bulk_docs" },
};

typedef struct
{
  const FaultCase *fault_case;
  PsFaultProxy    *proxy;
  guint            batches;
} Switch;

static void
on_documents_written_cb (PsReplication *replication,
                         char         **ids,
                         Switch        *fault_switch)
{
  const FaultCase *fault_case = fault_switch->fault_case;

  if (++fault_switch->batches == fault_case->after_batches)
    ps_fault_proxy_set_fault (fault_switch->proxy, fault_case->fault, fault_case->param,
                              fault_case->count);
}

static gboolean
error_is_expected (const FaultCase *fault_case,
                   const GError    *error)
{
  if (error == NULL || error->domain != PS_COUCH_ERROR)
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (fault_case->codes); i++)
    if (error->code == (int) fault_case->codes[i])
      return TRUE;

  return FALSE;
}

static void
test_fault_case (Fixture       *fixture,
                 gconstpointer  data)
{
  const FaultCase *fault_case = data;
  g_autoptr(PsReplication) replication = new_replication (fixture);
  PsFaultProxy *proxy = fault_case->side == SIDE_SOURCE
    ? fixture->source_proxy
    : fixture->target_proxy;
  Switch fault_switch = { fault_case, proxy, 0 };
  PsTestRun run;
  gint64 start;
  guint injected;

  if (fault_case->filter_method != NULL)
    {
      g_autofree char *filter = g_strdup_printf ("%s /%s/%s", fault_case->filter_method,
                                                 fault_case->side == SIDE_SOURCE
                                                   ? fixture->source_db
                                                   : fixture->target_db,
                                                 fault_case->filter_path);

      ps_fault_proxy_set_filter (proxy, filter);
    }

  if (fault_case->after_batches == 0)
    ps_fault_proxy_set_fault (proxy, fault_case->fault, fault_case->param, fault_case->count);
  else
    g_signal_connect (replication, "documents-written", G_CALLBACK (on_documents_written_cb),
                      &fault_switch);

  start = g_get_monotonic_time ();
  ps_test_replication_run (replication, NULL, RUN_TIMEOUT_S, &run);
  injected = ps_fault_proxy_get_injected (proxy, fault_case->fault);
  g_test_message ("%s on the %s: %u injected; the run took %" G_GINT64_FORMAT " ms and %s%s",
                  ps_fault_get_name (fault_case->fault),
                  fault_case->side == SIDE_SOURCE ? "source" : "target", injected,
                  (g_get_monotonic_time () - start) / 1000,
                  run.ok ? "completed" : "failed: ",
                  run.error != NULL ? run.error->message : "");

  /* The fault really happened, as often as asked. */
  g_assert_cmpuint (injected, >, 0);
  if (fault_case->count > 0 && fault_case->fault != PS_FAULT_CUT)
    g_assert_cmpuint (injected, ==, fault_case->count);

  if (fault_case->expect_success)
    {
      g_assert_no_error (run.error);
      g_assert_true (run.ok);
      ps_test_assert_same_rev_trees (fixture->source, fixture->source_db, fixture->target,
                                 fixture->target_db);
    }
  else
    {
      g_autofree char *url = fault_case->side == SIDE_SOURCE
        ? source_url (fixture)
        : target_url (fixture);

      g_assert_false (run.ok);
      g_assert_nonnull (run.error);
      if (!error_is_expected (fault_case, run.error))
        g_error ("unexpected error %s %d: %s", g_quark_to_string (run.error->domain),
                 run.error->code, run.error->message);
      /* Clear: it names the step and the database that failed. */
      g_assert_nonnull (strstr (run.error->message, url));
      g_assert_cmpint (ps_replication_get_state (replication), ==, PS_REPLICATION_STATE_FAILED);
      g_clear_error (&run.error);
    }

  /* Whether the run finished or not, the checkpoint (when one was saved
   * before the fault) covers only what the target holds; then a clean run
   * completes the copy.
   */
  assert_checkpoint_honest (fixture);
  assert_rerun_converges (fixture);
}

/* The proxy itself: each fault does what it says. */

/* A new session for each request: libsoup sends a request again by itself
 * when a kept-alive connection fails, which would hide the fault. No
 * compression, as the replicator asks on loopback: corrupting gzip data
 * tests zlib, not us.
 */
static GBytes *
fetch (const char  *url,
       guint       *status,
       GError     **error)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(SoupMessage) message = soup_message_new ("GET", url);
  GBytes *body;

  soup_session_set_proxy_resolver (session, NULL);
  soup_session_remove_feature_by_type (session, SOUP_TYPE_CONTENT_DECODER);
  soup_message_headers_replace (soup_message_get_request_headers (message), "Accept",
                                "application/json");
  body = soup_session_send_and_read (session, message, NULL, error);
  *status = soup_message_get_status (message);
  return body;
}

static gint64
fetch_ok_ms (const char  *url,
             GBytes     **body)
{
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  guint status = 0;

  *body = fetch (url, &status, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (status, ==, 200);
  return (g_get_monotonic_time () - start) / 1000;
}

static void
assert_fetch_fails (const char *url)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  guint status = 0;

  body = fetch (url, &status, &error);
  g_assert_null (body);
  g_assert_nonnull (error);
}

static gboolean
is_json (GBytes *bytes)
{
  g_autoptr(JsonParser) parser = json_parser_new ();

  return json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
                                     g_bytes_get_size (bytes), NULL);
}

static void
test_proxy_faults (Fixture       *fixture,
                   gconstpointer  data)
{
  /* Blocking requests from this thread: the proxy runs in its own. */
  PsFaultProxy *proxy = fixture->source_proxy;
  g_autofree char *url = NULL;
  g_autoptr(GBytes) plain = NULL;
  gint64 ms;

  url = ps_fault_proxy_url (proxy, "/" DB "/_all_docs?limit=40&include_docs=true");

  fetch_ok_ms (url, &plain);
  g_assert_true (is_json (plain));
  g_assert_cmpuint (g_bytes_get_size (plain), >, 50000);

  /* 503 once, then forwarding again. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) body = NULL;
    guint status = 0;

    ps_fault_proxy_set_fault (proxy, PS_FAULT_HTTP_503, 0, 1);
    body = fetch (url, &status, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (status, ==, 503);
    g_clear_pointer (&body, g_bytes_unref);
    body = fetch (url, &status, &error);
    g_assert_cmpuint (status, ==, 200);
  }

  /* Resets, cuts and truncations end in transport errors. */
  ps_fault_proxy_set_fault (proxy, PS_FAULT_RESET, 0, 1);
  assert_fetch_fails (url);
  ps_fault_proxy_set_fault (proxy, PS_FAULT_CUT, 50, 1);
  assert_fetch_fails (url);
  ps_fault_proxy_set_fault (proxy, PS_FAULT_CUT, 2000, 1);
  assert_fetch_fails (url);
  ps_fault_proxy_set_fault (proxy, PS_FAULT_TRUNCATE, 1000, 1);
  assert_fetch_fails (url);

  /* A corrupted answer keeps its length, but is no longer JSON. */
  for (guint offset = 0; offset < 20000; offset += 997)
    {
      g_autoptr(GBytes) body = NULL;

      ps_fault_proxy_set_fault (proxy, PS_FAULT_CORRUPT, offset, 1);
      fetch_ok_ms (url, &body);
      g_assert_cmpuint (g_bytes_get_size (body), ==, g_bytes_get_size (plain));
      g_assert_false (g_bytes_equal (body, plain));
      g_assert_false (is_json (body));
    }

  /* Slow faults slow down, and deliver the same bytes. */
  {
    g_autoptr(GBytes) body = NULL;

    ps_fault_proxy_set_fault (proxy, PS_FAULT_LATENCY, 300, 1);
    ms = fetch_ok_ms (url, &body);
    g_assert_cmpint (ms, >=, 300);
    g_assert_true (g_bytes_equal (body, plain));
  }
  {
    g_autoptr(GBytes) body = NULL;
    guint rate = g_bytes_get_size (plain) * 2;

    /* About half a second at this rate. */
    ps_fault_proxy_set_fault (proxy, PS_FAULT_BANDWIDTH, rate, 1);
    ms = fetch_ok_ms (url, &body);
    g_assert_cmpint (ms, >=, 400);
    g_assert_true (g_bytes_equal (body, plain));
  }
  {
    g_autoptr(GBytes) body = NULL;

    ps_fault_proxy_set_fault (proxy, PS_FAULT_TRICKLE, 1, 1);
    ms = fetch_ok_ms (url, &body);
    g_assert_cmpint (ms, >=, PS_FAULT_TRICKLE_BYTES);
    g_assert_true (g_bytes_equal (body, plain));
  }

  /* Random faults follow their seed and probability. */
  ps_fault_proxy_set_random (proxy, 1, 1.0, PS_FAULT_MASK (PS_FAULT_HTTP_500));
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) body = NULL;
      guint status = 0;

      body = fetch (url, &status, &error);
      g_assert_cmpuint (status, ==, 500);
    }
  ps_fault_proxy_clear (proxy);
  {
    g_autoptr(GBytes) body = NULL;

    fetch_ok_ms (url, &body);
    g_assert_true (g_bytes_equal (body, plain));
  }

  g_assert_cmpuint (ps_fault_proxy_get_injected (proxy, PS_FAULT_HTTP_503), ==, 1);
  g_assert_cmpuint (ps_fault_proxy_get_injected (proxy, PS_FAULT_HTTP_500), ==, 5);
  g_assert_cmpuint (ps_fault_proxy_get_injected (proxy, PS_FAULT_CUT), ==, 2);
  g_assert_cmpuint (ps_fault_proxy_get_injected (proxy, PS_FAULT_CORRUPT), ==, 21);

  /* Open connections can be dropped as a network failure would. */
  {
    g_autoptr(SoupSession) session = soup_session_new ();
    guint connections = 0;

    soup_session_set_proxy_resolver (session, NULL);
    soup_session_remove_feature_by_type (session, SOUP_TYPE_CONTENT_DECODER);
    for (guint i = 0; i < 2; i++)
      {
        g_autoptr(SoupMessage) message = soup_message_new ("GET", url);
        g_autoptr(GBytes) body = NULL;
        g_autoptr(GError) error = NULL;

        if (i == 1)
          {
            connections = ps_fault_proxy_get_connections (proxy);
            ps_fault_proxy_drop_connections (proxy);
          }
        body = soup_session_send_and_read (session, message, NULL, &error);
        g_assert_no_error (error);
        g_assert_true (g_bytes_equal (body, plain));
      }
    g_assert_cmpuint (ps_fault_proxy_get_connections (proxy), ==, connections + 1);
  }
}

/* Continuous replication with random faults */

/* New records, edits and conflicts on the source while the replication
 * runs. Returns how many revisions were written.
 */
static guint
write_on_source (Fixture *fixture)
{
  g_autoptr(JsonArray) edits = json_array_new ();
  g_autoptr(GPtrArray) added = NULL;
  guint written;

  added = load_records (fixture->source, fixture->source_db, fixture->rand,
                       fixture->next_index, 4);
  written = added->len;
  fixture->next_index += added->len;

  for (guint i = 0; i < 3; i++)
    {
      guint index = g_rand_int_range (fixture->rand, 0, fixture->records->len);
      JsonNode *record = g_ptr_array_index (fixture->records, index);
      JsonNode *edited = ps_record_generator_edit (fixture->rand, record);

      json_array_add_element (edits, json_node_copy (edited));
      g_ptr_array_index (fixture->records, index) = edited;
      json_node_unref (record);
    }
  ps_test_peer_put_docs (fixture->source, fixture->source_db, edits, FALSE);
  written += json_array_get_length (edits);

  for (guint i = 0; i < added->len; i++)
    g_ptr_array_add (fixture->records, json_node_ref (g_ptr_array_index (added, i)));

  return written;
}

static void
test_random_faults_continuous (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(PsReplication) replication = NULL;
  g_autoptr(JsonNode) everything = NULL;
  g_autoptr(GString) stops = g_string_new (NULL);
  g_autoptr(GString) wrong_stops = g_string_new (NULL);
  g_autofree char *source_counts = NULL;
  g_autofree char *target_counts = NULL;
  guint seconds = ps_test_soak_seconds (DEFAULT_SOAK_S);
  guint32 seed = g_test_rand_int ();
  guint written = N_RECORDS;
  guint restarts = 0;
  guint documents = 0;
  guint missing;
  gint64 soak_end;
  gint64 converge_start;
  gint64 deadline;
  PsTestRun run = { 0, };

  g_test_message ("%u s of random faults, proxy seed %u (from the test seed: rerun with --seed)",
                  seconds, seed);
  ps_fault_proxy_set_random (fixture->source_proxy, seed, 0.08, PS_FAULT_MASK_ALL);
  ps_fault_proxy_set_random (fixture->target_proxy, seed ^ 0x5bd1e995, 0.08,
                            PS_FAULT_MASK_ALL);

  soak_end = g_get_monotonic_time () + seconds * G_TIME_SPAN_SECOND;
  while (g_get_monotonic_time () < soak_end || replication == NULL)
    {
      if (replication == NULL)
        {
          replication = new_replication (fixture);
          ps_replication_set_continuous (replication, TRUE);
          ps_replication_set_max_retry_delay (replication, 2);
          ps_test_replication_start (replication, cancellable, &run);
        }

      iterate_for (250);
      written += write_on_source (fixture);

      if (run.done)
        {
          /* Every fault here is one a continuous replication outlives.
           * Should it stop all the same, it is started again (as a user
           * or the sync job would) so that the data is still checked, and
           * the stop is reported at the end.
           */
          g_assert_nonnull (run.error);
          g_test_message ("stopped: %s", run.error->message);
          g_string_append_printf (wrong_stops, "\n  %s", run.error->message);
          g_string_append_printf (stops, "%s%d", stops->len > 0 ? ", " : "", run.error->code);
          g_clear_error (&run.error);
          g_clear_object (&replication);
          restarts++;
        }
    }

  /* The faults stop; the replication catches up by itself. */
  ps_fault_proxy_clear (fixture->source_proxy);
  ps_fault_proxy_clear (fixture->target_proxy);
  everything = revs_up_to (fixture, NULL, &documents);
  converge_start = g_get_monotonic_time ();
  deadline = converge_start + CONVERGE_TIMEOUT_S * G_TIME_SPAN_SECOND;
  while ((missing = count_missing_on_target (fixture, everything)) > 0)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("%u of %u documents still missing on the target %d s after the faults "
                 "stopped (state %d, last error: %s)",
                 missing, documents, CONVERGE_TIMEOUT_S, ps_replication_get_state (replication),
                 ps_replication_get_last_error (replication));
      if (run.done)
        g_error ("the replication stopped after the faults: %s",
                 run.error != NULL ? run.error->message : "no error");
      iterate_for (200);
    }
  g_assert_false (run.done);

  g_cancellable_cancel (cancellable);
  while (!run.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&run.error);

  ps_test_assert_same_rev_trees (fixture->source, fixture->source_db, fixture->target,
                                 fixture->target_db);
  g_assert_true (assert_checkpoint_honest (fixture));

  source_counts = ps_fault_proxy_describe (fixture->source_proxy);
  target_counts = ps_fault_proxy_describe (fixture->target_proxy);
  g_test_message ("soak: %u s, %u revisions written on the source, %u documents; "
                  "source proxy: %s; target proxy: %s; %u restarts after stops "
                  "(error codes: %s); converged %" G_GINT64_FORMAT " ms after the faults "
                  "stopped; lost = %u",
                  seconds, written, documents, source_counts, target_counts, restarts,
                  stops->len > 0 ? stops->str : "none",
                  (g_get_monotonic_time () - converge_start) / 1000, missing);
  g_assert_cmpuint (ps_fault_proxy_get_total_injected (fixture->source_proxy) +
                    ps_fault_proxy_get_total_injected (fixture->target_proxy), >, 10);

  if (wrong_stops->len > 0)
    g_error ("nothing was lost, but the continuous replication stopped on faults it "
             "should have outlived:%s", wrong_stops->str);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  ps_test_print_stack_on_crash ();
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add ("/ps/faults/proxy", Fixture, NULL,
              fixture_set_up, test_proxy_faults, fixture_tear_down);

  for (guint i = 0; i < G_N_ELEMENTS (fault_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ps/faults/one-shot/%s", fault_cases[i].name);

      g_test_add (path, Fixture, &fault_cases[i],
                  fixture_set_up, test_fault_case, fixture_tear_down);
    }

  /* Last, as the longest. */
  g_test_add ("/ps/faults/soak/random-continuous", Fixture, NULL,
              fixture_set_up_writable, test_random_faults_continuous, fixture_tear_down);

  for (guint i = 0; i < G_N_ELEMENTS (lost_answer_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ps/faults/lost-answer/%s",
                                               lost_answer_cases[i].name);

      g_test_add (path, Fixture, &lost_answer_cases[i],
                  fixture_set_up, test_fault_case, fixture_tear_down);
    }

  status = g_test_run ();
  g_clear_pointer (&shared_source, ps_test_peer_free);
  g_clear_pointer (&shared_target, ps_test_peer_free);
  return status;
}

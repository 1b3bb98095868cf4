/* test-kill.c: `primero-sync-cli replicate` killed with SIGKILL at random
 * points. Every rerun picks up from the checkpoint, the checkpoint never
 * covers a change the target lacks, and in the end the target holds the
 * source's revision trees.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-checkpoint.h"
#include "ps-couch-database.h"
#include "ps-fault-proxy.h"
#include "ps-record-generator.h"
#include "ps-test-peer.h"

#include <gio/gio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define DB                "primero_child_production"
#define N_RECORDS         5000
#define LOAD_BATCH        500
#define BATCH_SIZE        "25"
#define N_KILLS           20
#define KILLS_PER_ROUND   5
#define POLL_MS           40
#define SOURCE_LATENCY_MS 8
#define FINISH_TIMEOUT_S  120
#define DEFAULT_SEED      20240613

/* Realistic records with every kind of revision tree: plain, deleted, with
 * attachments, with 2–3 conflicting leaves.
 */
static void
load_records (PsTestPeer *peer,
              GRand      *rand)
{
  ps_test_peer_create_db (peer, DB);

  for (guint first = 0; first < N_RECORDS; first += LOAD_BATCH)
    {
      g_autoptr(JsonArray) docs = json_array_new ();
      g_autoptr(JsonArray) second = json_array_new ();

      for (guint i = first; i < first + LOAD_BATCH; i++)
        {
          g_autoptr(JsonNode) record = ps_record_generator_child (rand, i);

          json_array_add_element (docs, json_node_copy (record));
          if (i % 15 == 3)
            json_array_add_element (second, ps_record_generator_deleted (record));
          else if (i % 15 == 7)
            {
              g_autoptr(JsonArray) leaves = ps_record_generator_conflict_leaves (rand, record,
                                                                                 2 + i % 2);

              for (guint j = 0; j < json_array_get_length (leaves); j++)
                json_array_add_element (second,
                                        json_node_copy (json_array_get_element (leaves, j)));
            }
        }

      ps_test_peer_put_docs (peer, DB, docs, FALSE);
      ps_test_peer_put_docs (peer, DB, second, FALSE);
    }
}

static JsonNode *
read_changes (PsTestPeer *source)
{
  g_autoptr(JsonNode) changes = NULL;
  guint status = 0;

  changes = ps_test_peer_request (source, "GET", "/" DB "/_changes?style=all_docs", NULL,
                                  &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (changes));
  return g_steal_pointer (&changes);
}

/* A _revs_diff query of every change up to @seq. */
static JsonNode *
revs_up_to (JsonNode *changes,
            gint64    seq,
            guint    *n_docs)
{
  JsonArray *results = json_object_get_array_member (json_node_get_object (changes), "results");
  JsonObject *query = json_object_new ();

  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonObject *row = json_array_get_object_element (results, i);
      JsonArray *row_changes = json_object_get_array_member (row, "changes");
      JsonArray *revs;

      /* The test peer's sequences are numbers. */
      if (json_object_get_int_member (row, "seq") > seq)
        continue;
      revs = json_array_new ();
      for (guint j = 0; j < json_array_get_length (row_changes); j++)
        {
          JsonObject *change = json_array_get_object_element (row_changes, j);

          json_array_add_string_element (revs, json_object_get_string_member (change, "rev"));
        }
      json_object_set_array_member (query, json_object_get_string_member (row, "id"), revs);
    }

  *n_docs = json_object_get_size (query);
  return json_node_init_object (json_node_alloc (), query);
}

static char *
checkpoint_path (const char *source_url,
                 const char *target_url,
                 const char *target_db)
{
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PsCouchDatabase) from = ps_couch_database_new (session, source_url, &error);
  g_autoptr(PsCouchDatabase) to = ps_couch_database_new (session, target_url, &error);
  g_autofree char *from_identity = NULL;
  g_autofree char *to_identity = NULL;
  g_autofree char *id = NULL;

  g_assert_no_error (error);
  from_identity = ps_couch_database_dup_identity_url (from);
  to_identity = ps_couch_database_dup_identity_url (to);
  id = ps_checkpoint_replication_id (from_identity, to_identity, NULL);

  return g_strdup_printf ("/%s/_local/%s", target_db, id);
}

/* Returns the checkpoint's sequence, or -1 when there is none; fails when
 * it covers a change the target lacks.
 */
static gint64
assert_checkpoint_honest (PsTestPeer *target,
                          const char *target_db,
                          const char *path,
                          JsonNode   *changes)
{
  g_autofree char *diff_path = g_strdup_printf ("/%s/_revs_diff", target_db);
  g_autoptr(JsonNode) log = NULL;
  g_autoptr(JsonNode) query = NULL;
  g_autoptr(JsonNode) diff = NULL;
  JsonNode *seq;
  guint status = 0;
  guint covered = 0;

  log = ps_test_peer_request (target, "GET", path, NULL, &status);
  if (status == 404)
    return -1;
  g_assert_cmpuint (status, ==, 200);

  seq = json_object_get_member (json_node_get_object (log), "source_last_seq");
  g_assert_nonnull (seq);
  query = revs_up_to (changes, json_node_get_int (seq), &covered);
  diff = ps_test_peer_request (target, "POST", diff_path, query, &status);
  g_assert_cmpuint (status, ==, 200);
  if (json_object_get_size (json_node_get_object (diff)) > 0)
    {
      g_autofree char *text = json_to_string (diff, FALSE);

      g_error ("the checkpoint at %" G_GINT64_FORMAT " covers %u documents, but the target "
               "lacks %u of them: %.500s", json_node_get_int (seq), covered,
               json_object_get_size (json_node_get_object (diff)), text);
    }

  return json_node_get_int (seq);
}

/* Every leaf revision of the source is on the target. */
static void
assert_has_every_leaf (PsTestPeer *target,
                       const char *target_db,
                       JsonNode   *changes)
{
  g_autofree char *diff_path = g_strdup_printf ("/%s/_revs_diff", target_db);
  g_autoptr(JsonNode) query = NULL;
  g_autoptr(JsonNode) diff = NULL;
  guint n_docs = 0;
  guint status = 0;

  query = revs_up_to (changes, G_MAXINT64, &n_docs);
  diff = ps_test_peer_request (target, "POST", diff_path, query, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpuint (n_docs, ==, N_RECORDS);
  g_assert_cmpuint (json_object_get_size (json_node_get_object (diff)), ==, 0);
}

static GSubprocess *
spawn_replicate (const char *source_url,
                 const char *target_url,
                 gboolean    quiet)
{
  g_autoptr(GError) error = NULL;
  const char *cli = g_getenv ("PS_CLI");
  GSubprocessFlags flags = quiet
    ? G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE
    : G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE;
  GSubprocess *process;

  g_assert_nonnull (cli);
  process = g_subprocess_new (flags, &error,
                              cli, "replicate", source_url, target_url, "--create-target",
                              "--batch-size", BATCH_SIZE, NULL);
  g_assert_no_error (error);
  return process;
}

static void
on_exited_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  gboolean *exited = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  *exited = TRUE;
}

static gint64
target_update_seq (PsTestPeer *target,
                   const char *target_db)
{
  g_autofree char *path = g_strconcat ("/", target_db, NULL);
  g_autoptr(JsonNode) info = NULL;
  guint status = 0;

  info = ps_test_peer_request (target, "GET", path, NULL, &status);
  if (status != 200 || info == NULL || !JSON_NODE_HOLDS_OBJECT (info))
    return 0;

  return json_object_get_int_member_with_default (json_node_get_object (info), "update_seq", 0);
}

/* Waits until the target has seen @point writes and @min_ms passed, or
 * until @process exits; returns whether it still runs.
 */
static gboolean
wait_for_point (GSubprocess *process,
                PsTestPeer  *target,
                const char  *target_db,
                gint64       point,
                guint        min_ms)
{
  gint64 earliest = g_get_monotonic_time () + (gint64) min_ms * G_TIME_SPAN_MILLISECOND;
  gint64 deadline = g_get_monotonic_time () + FINISH_TIMEOUT_S * G_TIME_SPAN_SECOND;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  gboolean exited = FALSE;

  g_subprocess_wait_async (process, cancellable, on_exited_cb, &exited);
  while (!exited &&
         (g_get_monotonic_time () < earliest || target_update_seq (target, target_db) < point))
    {
      gint64 until = g_get_monotonic_time () + POLL_MS * G_TIME_SPAN_MILLISECOND;

      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      while (!exited && g_get_monotonic_time () < until)
        if (!g_main_context_iteration (NULL, FALSE))
          g_usleep (2 * G_TIME_SPAN_MILLISECOND);
    }

  /* Let the wait end before @exited goes out of scope. */
  g_cancellable_cancel (cancellable);
  while (!exited)
    g_main_context_iteration (NULL, TRUE);

  return g_subprocess_get_identifier (process) != NULL;
}

static int
compare_points (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static void
finish_replication (const char *source_url,
                    const char *target_url)
{
  g_autoptr(GSubprocess) process = spawn_replicate (source_url, target_url, FALSE);
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;

  g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("final run: %s", output);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
}

static guint
env_number (const char *name,
            guint       fallback)
{
  const char *text = g_getenv (name);
  guint64 value;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT32, &value, NULL))
    return fallback;

  return value;
}

static void
test_kill_at_random_points (void)
{
  g_autoptr(PsTestPeer) source = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) target = ps_test_peer_new (TRUE);
  g_autoptr(PsFaultProxy) slow_source = NULL;
  g_autoptr(GRand) records_rand = g_rand_new_with_seed (5000);
  g_autoptr(GRand) rand = NULL;
  g_autoptr(JsonNode) changes = NULL;
  g_autofree char *source_url = NULL;
  guint32 seed = env_number ("PS_KILL_SEED", DEFAULT_SEED);
  guint n_kills = env_number ("PS_KILL_POINTS", N_KILLS);
  JsonArray *results;
  gint64 last_seq;
  guint kills = 0;
  guint mid_run = 0;
  guint advanced = 0;
  guint checked = 0;
  gint64 start;

  start = g_get_monotonic_time ();
  load_records (source, records_rand);
  changes = read_changes (source);
  last_seq = json_object_get_int_member (json_node_get_object (changes), "last_seq");
  results = json_object_get_array_member (json_node_get_object (changes), "results");
  g_test_message ("%u records (%u changes) loaded in %" G_GINT64_FORMAT " ms; kill seed %u",
                  N_RECORDS, json_array_get_length (results),
                  (g_get_monotonic_time () - start) / 1000, seed);
  rand = g_rand_new_with_seed (seed);

  /* A little latency on the source stretches a copy over more than the
   * checkpoint interval, so that kills land between checkpoints.
   */
  slow_source = ps_fault_proxy_new (ps_test_peer_get_port (source));
  ps_fault_proxy_set_fault (slow_source, PS_FAULT_LATENCY, SOURCE_LATENCY_MS, 0);
  source_url = ps_fault_proxy_url (slow_source, "/" DB);

  /* Each round copies into a new database and is killed at points spread
   * over the copy, measured in writes the target has seen. Every other
   * run lives long enough to save a checkpoint (every 2 s) before it dies.
   */
  for (guint round = 0; kills < n_kills; round++)
    {
      g_autofree char *target_db = g_strdup_printf ("target_%u", round);
      g_autofree char *target_url = ps_test_peer_db_url (target, target_db);
      g_autofree char *path = checkpoint_path (source_url, target_url, target_db);
      guint n_points = MIN (n_kills - kills, KILLS_PER_ROUND);
      g_autofree gint64 *points = g_new0 (gint64, n_points);
      gint64 previous_seq = -1;

      for (guint i = 0; i < n_points; i++)
        points[i] = g_rand_int_range (rand, N_RECORDS / 50, N_RECORDS * 95 / 100);
      qsort (points, n_points, sizeof *points, compare_points);

      for (guint i = 0; i < n_points; i++, kills++)
        {
          g_autoptr(GSubprocess) process = spawn_replicate (source_url, target_url, TRUE);
          g_autoptr(GError) error = NULL;
          gint64 started = g_get_monotonic_time ();
          guint min_ms = kills % 2 == 0
            ? g_rand_int_range (rand, 100, 1500)
            : g_rand_int_range (rand, 2100, 3000);
          gboolean running;
          gint64 seq;

          running = wait_for_point (process, target, target_db, points[i], min_ms);
          if (running)
            {
              g_subprocess_send_signal (process, SIGKILL);
              mid_run++;
            }
          g_subprocess_wait (process, NULL, &error);
          g_assert_no_error (error);
          if (running)
            {
              g_assert_true (g_subprocess_get_if_signaled (process));
              g_assert_cmpint (g_subprocess_get_term_sig (process), ==, SIGKILL);
            }
          else
            g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);

          ps_test_peer_assert_alive (source);
          ps_test_peer_assert_alive (target);

          seq = assert_checkpoint_honest (target, target_db, path, changes);
          if (seq >= 0)
            checked++;
          if (seq > previous_seq && previous_seq >= 0)
            advanced++;
          g_test_message ("round %u: %s at %" G_GINT64_FORMAT " writes, after %" G_GINT64_FORMAT
                          " ms; checkpoint at %" G_GINT64_FORMAT,
                          round, running ? "killed" : "completed", points[i],
                          (g_get_monotonic_time () - started) / 1000, seq);
          previous_seq = MAX (previous_seq, seq);
        }

      finish_replication (source_url, target_url);
      g_assert_cmpint (assert_checkpoint_honest (target, target_db, path, changes), ==,
                       last_seq);
      assert_has_every_leaf (target, target_db, changes);
      /* Comparing whole trees takes seconds per copy: once is enough. */
      if (kills == n_kills)
        ps_test_assert_same_rev_trees (source, DB, target, target_db);
    }

  g_test_message ("%u of %u kills landed mid-run; %u checkpoints checked, %u resumed runs "
                  "saved a newer one; lost = 0", mid_run, kills, checked, advanced);

  /* Otherwise the test would prove little: kills interrupt a copy, and
   * some happen after a run resumed from a checkpoint and saved a newer one.
   */
  g_assert_cmpuint (mid_run, >=, n_kills * 3 / 4);
  g_assert_cmpuint (checked, >=, n_kills / 2);
  g_assert_cmpuint (advanced, >, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/kill/random-points", test_kill_at_random_points);

  return g_test_run ();
}

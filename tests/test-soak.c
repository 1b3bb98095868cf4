/* test-soak.c: a continuous two-way sync with a remote instance reached
 * through a proxy that spoils requests at random, while both ends create
 * records, edit them, and edit the same records at once. Once the faults
 * stop, both ends converge: the same revision trees, no conflict left,
 * every resolution journaled, nothing lost.
 *
 * PS_SOAK_SECONDS sets how long the faults last (60 s by default).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-context.h"
#include "ps-fault-proxy.h"
#include "ps-record-generator.h"
#include "ps-test-keyring.h"
#include "ps-test-peer.h"

#include <string.h>

#define DB                 "primero_child_production"
#define REMOTE_PASSWORD    "Quartz-Heron-9052"
#define N_SHARED           60
#define DEFAULT_SOAK_S     60
#define CONVERGE_TIMEOUT_S 180
#define ROUND_MS           400

static const char *databases[] = {
  "primero_child_production",
  "primero_incident_production",
  "primero_tracing_request_production",
};

typedef struct
{
  PsTestPeer   *local;
  PsTestPeer   *remote;
  PsFaultProxy *proxy;
  PsContext    *context;
  PsServer     *server;
  char         *dir;
  GRand        *rand;
  GHashTable   *written;     /* "id rev" written on either side */
  GHashTable   *conflicted;  /* ids edited on both sides at once */
  GPtrArray    *shared_ids;
  guint         next_index;
} Fixture;

/* Set-up */

static void
remember_written (Fixture  *fixture,
                  JsonNode *record)
{
  JsonObject *doc = json_node_get_object (record);

  g_hash_table_add (fixture->written,
                    g_strdup_printf ("%s %s", json_object_get_string_member (doc, "_id"),
                                     json_object_get_string_member (doc, "_rev")));
}

static void
put_record (Fixture    *fixture,
            PsTestPeer *peer,
            JsonNode   *record)
{
  g_autoptr(JsonArray) docs = json_array_new ();

  remember_written (fixture, record);
  json_array_add_element (docs, record);
  ps_test_peer_put_docs (peer, DB, docs, FALSE);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *journal = NULL;
  g_autofree char *remote_url = NULL;
  g_autoptr(GError) error = NULL;
  PsServerStore *store;

  fixture->local = ps_test_peer_new (TRUE);
  fixture->remote = ps_test_peer_new_with_admin (TRUE, "admin", REMOTE_PASSWORD);
  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    {
      ps_test_peer_create_db (fixture->local, databases[d]);
      ps_test_peer_create_db (fixture->remote, databases[d]);
    }
  fixture->proxy = ps_fault_proxy_new (ps_test_peer_get_port (fixture->remote));
  fixture->rand = g_rand_new_with_seed (20241127);
  fixture->written = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  fixture->conflicted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  fixture->shared_ids = g_ptr_array_new_with_free_func (g_free);

  fixture->dir = g_dir_make_tmp ("ps-soak-XXXXXX", &error);
  g_assert_no_error (error);
  journal = g_build_filename (fixture->dir, "journal.jsonl", NULL);
  fixture->context = ps_context_new_for_dirs (fixture->dir, journal);
  store = ps_context_get_server_store (fixture->context);
  ps_server_set_url (ps_server_store_get_local (store), ps_test_peer_get_url (fixture->local));

  remote_url = ps_fault_proxy_url (fixture->proxy, NULL);
  fixture->server = ps_server_new ("Field office", remote_url);
  ps_server_set_username (fixture->server, "admin");
  ps_server_set_continuous (fixture->server, TRUE);
  g_assert_true (ps_server_store_add (store, fixture->server, &error));
  g_assert_no_error (error);

  ps_test_keyring_store (ps_server_get_id (fixture->server), "Field office", REMOTE_PASSWORD);

  /* Both instances start from the same cases. */
  for (guint i = 0; i < N_SHARED; i++)
    {
      g_autoptr(JsonNode) record = ps_record_generator_child (fixture->rand, i);

      g_ptr_array_add (fixture->shared_ids,
                       g_strdup (json_object_get_string_member (json_node_get_object (record),
                                                                "_id")));
      put_record (fixture, fixture->local, json_node_copy (record));
      put_record (fixture, fixture->remote, json_node_copy (record));
    }
  fixture->next_index = N_SHARED;
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->server);
  g_clear_object (&fixture->context);
  g_clear_pointer (&fixture->proxy, ps_fault_proxy_free);
  ps_test_peer_assert_alive (fixture->local);
  ps_test_peer_assert_alive (fixture->remote);
  g_clear_pointer (&fixture->local, ps_test_peer_free);
  g_clear_pointer (&fixture->remote, ps_test_peer_free);
  g_clear_pointer (&fixture->written, g_hash_table_unref);
  g_clear_pointer (&fixture->conflicted, g_hash_table_unref);
  g_clear_pointer (&fixture->shared_ids, g_ptr_array_unref);
  g_clear_pointer (&fixture->rand, g_rand_free);

  ps_test_remove_dir (fixture->dir);
  g_clear_pointer (&fixture->dir, g_free);
}

/* Writing on both ends */

/* The winning revision of @id on @peer, with its history, to edit. */
static JsonNode *
get_current (PsTestPeer *peer,
             const char *id)
{
  g_autofree char *path = g_strdup_printf ("/%s/%s?revs=true", DB, id);
  JsonNode *doc;
  guint status = 0;

  doc = ps_test_peer_request (peer, "GET", path, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  return doc;
}

static void
edit_on (Fixture    *fixture,
         PsTestPeer *peer,
         const char *id)
{
  g_autoptr(JsonNode) current = get_current (peer, id);

  put_record (fixture, peer, ps_record_generator_edit (fixture->rand, current));
}

static char *
pick_shared_id (Fixture *fixture)
{
  return g_strdup (g_ptr_array_index (fixture->shared_ids,
                                       g_rand_int_range (fixture->rand, 0, N_SHARED)));
}

/* One round: a new case on each end, an edit on each end, and one case
 * edited on both ends before either saw the other's edit. Each edit changes
 * one to three fields at random: some conflicts touch the same fields on
 * both ends, others different ones.
 */
static void
write_round (Fixture *fixture)
{
  g_autofree char *local_id = pick_shared_id (fixture);
  g_autofree char *remote_id = pick_shared_id (fixture);
  g_autofree char *both_id = pick_shared_id (fixture);

  put_record (fixture, fixture->local,
              ps_record_generator_child (fixture->rand, fixture->next_index++));
  put_record (fixture, fixture->remote,
              ps_record_generator_child (fixture->rand, fixture->next_index++));
  edit_on (fixture, fixture->local, local_id);
  edit_on (fixture, fixture->remote, remote_id);

  edit_on (fixture, fixture->local, both_id);
  edit_on (fixture, fixture->remote, both_id);
  g_hash_table_add (fixture->conflicted, g_steal_pointer (&both_id));
}

/* Checks */

static void
iterate_for (guint milliseconds)
{
  gint64 until = g_get_monotonic_time () + milliseconds * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < until)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (5 * G_TIME_SPAN_MILLISECOND);
}

static gboolean
same_trees (GHashTable *a,
            GHashTable *b)
{
  GHashTableIter iter;
  gpointer key, value;

  if (g_hash_table_size (a) != g_hash_table_size (b))
    return FALSE;

  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (g_strcmp0 (value, g_hash_table_lookup (b, key)) != 0)
      return FALSE;

  return TRUE;
}

static gboolean
converged (Fixture *fixture)
{
  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    {
      g_autoptr(GHashTable) local = ps_test_peer_rev_trees (fixture->local, databases[d]);
      g_autoptr(GHashTable) remote = ps_test_peer_rev_trees (fixture->remote, databases[d]);

      if (!same_trees (local, remote) ||
          ps_test_peer_count_conflicts (fixture->local, databases[d]) > 0 ||
          ps_test_peer_count_conflicts (fixture->remote, databases[d]) > 0)
        return FALSE;
    }

  return TRUE;
}

/* Revisions written on either end that are not in the tree of their
 * record on @peer.
 */
static guint
count_lost (Fixture    *fixture,
            PsTestPeer *peer)
{
  g_autoptr(GHashTable) trees = ps_test_peer_rev_trees (peer, DB);
  GHashTableIter iter;
  gpointer key;
  guint lost = 0;

  g_hash_table_iter_init (&iter, fixture->written);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      g_auto(GStrv) id_rev = g_strsplit (key, " ", 2);
      const char *tree = g_hash_table_lookup (trees, id_rev[0]);
      const char *rev_id = strchr (id_rev[1], '-') + 1;

      /* The signature lists every leaf with its `_revisions` ids. */
      if (tree == NULL || strstr (tree, rev_id) == NULL)
        {
          g_test_message ("lost on one end: %s", (char *) key);
          lost++;
        }
    }

  return lost;
}

/* Records with a conflict that no resolution in the journal names. */
static guint
count_unjournaled (Fixture *fixture,
                   guint   *n_resolutions)
{
  PsJournalFilter filter = { 0, };
  g_autoptr(GPtrArray) resolutions = NULL;
  g_autoptr(GHashTable) resolved = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;
  GHashTableIter iter;
  gpointer key;
  guint missing = 0;

  filter.kind = "resolution";
  resolutions = ps_journal_read (ps_context_get_journal (fixture->context), &filter, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < resolutions->len; i++)
    {
      JsonObject *entry = g_ptr_array_index (resolutions, i);

      g_hash_table_add (resolved, (gpointer) json_object_get_string_member (entry, "record"));
    }

  g_hash_table_iter_init (&iter, fixture->conflicted);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (resolved, key))
      {
        g_test_message ("no resolution journaled for %s", (char *) key);
        missing++;
      }

  *n_resolutions = resolutions->len;
  return missing;
}

static void
test_two_way_soak (Fixture       *fixture,
                   gconstpointer  data)
{
  PsSyncManager *manager = ps_context_get_sync_manager (fixture->context);
  PsSyncJob *job = ps_sync_manager_get_job (manager, ps_server_get_id (fixture->server));
  g_autofree char *proxy_counts = NULL;
  guint seconds = ps_test_soak_seconds (DEFAULT_SOAK_S);
  guint32 seed = g_test_rand_int ();
  guint rounds = 0;
  guint injected;
  guint lost;
  guint unjournaled;
  guint n_resolutions = 0;
  gint64 soak_end;
  gint64 converge_start;
  gint64 deadline;

  g_test_message ("%u s of random faults, proxy seed %u (from the test seed: rerun with --seed)",
                  seconds, seed);
  ps_sync_job_start (job, FALSE);
  ps_fault_proxy_set_random (fixture->proxy, seed, 0.15, PS_FAULT_MASK_ALL);

  soak_end = g_get_monotonic_time () + seconds * G_TIME_SPAN_SECOND;
  while (g_get_monotonic_time () < soak_end)
    {
      write_round (fixture);
      rounds++;
      iterate_for (ROUND_MS);
      if (!ps_sync_job_get_running (job))
        {
          g_autofree char *status = ps_sync_job_dup_status_text (job);

          g_error ("the continuous sync stopped on faults it should outlive: %s", status);
        }
    }

  /* The faults stop; the sync catches up and resolves by itself. */
  ps_fault_proxy_clear (fixture->proxy);
  injected = ps_fault_proxy_get_total_injected (fixture->proxy);
  converge_start = g_get_monotonic_time ();
  deadline = converge_start + CONVERGE_TIMEOUT_S * G_TIME_SPAN_SECOND;
  while (!converged (fixture))
    {
      if (g_get_monotonic_time () > deadline)
        {
          g_autofree char *status = ps_sync_job_dup_status_text (job);

          g_error ("the two ends did not converge %d s after the faults stopped: %s",
                   CONVERGE_TIMEOUT_S, status);
        }
      iterate_for (500);
    }
  g_test_message ("converged %" G_GINT64_FORMAT " ms after the faults stopped",
                  (g_get_monotonic_time () - converge_start) / 1000);
  ps_sync_job_stop (job);

  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    ps_test_assert_same_rev_trees (fixture->local, databases[d], fixture->remote, databases[d]);
  lost = count_lost (fixture, fixture->local) + count_lost (fixture, fixture->remote);
  unjournaled = count_unjournaled (fixture, &n_resolutions);

  proxy_counts = ps_fault_proxy_describe (fixture->proxy);
  g_test_message ("soak: %u s, %u rounds; faults injected: %u (%s); records written: %u "
                  "revisions; conflicts created: %u (on %u records); resolutions journaled: %u; "
                  "conflicted records without one: %u; lost: %u",
                  seconds, rounds, injected, proxy_counts, g_hash_table_size (fixture->written),
                  rounds, g_hash_table_size (fixture->conflicted), n_resolutions, unjournaled,
                  lost);

  g_assert_cmpuint (injected, >, seconds / 10);
  g_assert_cmpuint (lost, ==, 0);
  g_assert_cmpuint (unjournaled, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  ps_test_print_stack_on_crash ();
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add ("/ps/soak/two-way-sync", Fixture, NULL,
              fixture_set_up, test_two_way_soak, fixture_tear_down);

  return g_test_run ();
}

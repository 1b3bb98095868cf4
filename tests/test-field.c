/* test-field.c: syncing over the links of field sites: a bandwidth cap per
 * server, a slow 2G-like link, and metered connections.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-couch-database.h"
#include "ps-fault-proxy.h"
#include "ps-record-generator.h"
#include "ps-replication.h"
#include "ps-server-store.h"
#include "ps-sync-database.h"
#include "ps-sync-job.h"
#include "ps-test-peer.h"

#include <string.h>
#include <sys/wait.h>

#define DB               "primero_child_field"
#define CAP_KBPS         50
#define SAMPLE_MS        250
#define WINDOW_SAMPLES   32          /* 8 s */
#define SYNC_TIMEOUT_S   90

/* A network monitor whose metered state the test sets. */

#define TEST_TYPE_MONITOR (test_monitor_get_type ())
G_DECLARE_FINAL_TYPE (TestMonitor, test_monitor, TEST, MONITOR, GObject)

struct _TestMonitor
{
  GObject  parent_instance;
  gboolean metered;
};

enum {
  PROP_0,
  PROP_NETWORK_AVAILABLE,
  PROP_NETWORK_METERED,
  PROP_CONNECTIVITY,
};

static gboolean
test_monitor_can_reach (GNetworkMonitor     *monitor,
                        GSocketConnectable  *connectable,
                        GCancellable        *cancellable,
                        GError             **error)
{
  return TRUE;
}

static void
test_monitor_iface_init (GNetworkMonitorInterface *iface)
{
  iface->can_reach = test_monitor_can_reach;
}

static gboolean
test_monitor_initable_init (GInitable     *initable,
                            GCancellable  *cancellable,
                            GError       **error)
{
  return TRUE;
}

static void
test_monitor_initable_iface_init (GInitableIface *iface)
{
  iface->init = test_monitor_initable_init;
}

G_DEFINE_TYPE_WITH_CODE (TestMonitor, test_monitor, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, test_monitor_initable_iface_init)
                         G_IMPLEMENT_INTERFACE (G_TYPE_NETWORK_MONITOR, test_monitor_iface_init))

static void
test_monitor_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  TestMonitor *self = TEST_MONITOR (object);

  switch (prop_id)
    {
    case PROP_NETWORK_AVAILABLE:
      g_value_set_boolean (value, TRUE);
      break;
    case PROP_NETWORK_METERED:
      g_value_set_boolean (value, self->metered);
      break;
    case PROP_CONNECTIVITY:
      g_value_set_enum (value, G_NETWORK_CONNECTIVITY_FULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_monitor_class_init (TestMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_monitor_get_property;
  g_object_class_override_property (object_class, PROP_NETWORK_AVAILABLE, "network-available");
  g_object_class_override_property (object_class, PROP_NETWORK_METERED, "network-metered");
  g_object_class_override_property (object_class, PROP_CONNECTIVITY, "connectivity");
}

static void
test_monitor_init (TestMonitor *self)
{
}

static void
test_monitor_set_metered (TestMonitor *self,
                          gboolean     metered)
{
  self->metered = metered;
  g_object_notify (G_OBJECT (self), "network-metered");
}

/* Fixture: this instance and a remote behind the proxy */

typedef struct
{
  PsTestPeer   *local;
  PsTestPeer   *remote;
  PsFaultProxy *proxy;
  PsServer     *server;
  PsServer     *local_server;
  SoupSession  *session;
  PsSyncJob    *job;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  const char *databases[] = { DB, NULL };
  g_autofree char *url = NULL;

  fixture->local = ps_test_peer_new (TRUE);
  fixture->remote = ps_test_peer_new (TRUE);
  ps_test_peer_create_db (fixture->local, DB);
  ps_test_peer_create_db (fixture->remote, DB);
  fixture->proxy = ps_fault_proxy_new (ps_test_peer_get_port (fixture->remote));

  url = ps_fault_proxy_url (fixture->proxy, "");
  if (g_str_has_suffix (url, "/"))
    url[strlen (url) - 1] = '\0';
  fixture->server = ps_server_new ("Field office", url);
  ps_server_set_databases (fixture->server, databases);
  fixture->local_server = ps_server_new ("This instance", ps_test_peer_get_url (fixture->local));
  fixture->session = ps_couch_session_new ();
  fixture->job = ps_sync_job_new (fixture->server, fixture->local_server, fixture->session, NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  ps_sync_job_stop (fixture->job);
  g_clear_object (&fixture->job);
  g_clear_object (&fixture->session);
  g_clear_object (&fixture->server);
  g_clear_object (&fixture->local_server);
  ps_test_peer_assert_alive (fixture->local);
  ps_test_peer_assert_alive (fixture->remote);
  g_clear_pointer (&fixture->proxy, ps_fault_proxy_free);
  g_clear_pointer (&fixture->local, ps_test_peer_free);
  g_clear_pointer (&fixture->remote, ps_test_peer_free);
}

static gsize
put_generated (PsTestPeer *peer,
               guint       first,
               guint       n)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (first + 7);
  g_autoptr(JsonArray) docs = json_array_new ();
  gsize bytes = 0;

  for (guint i = first; i < first + n; i++)
    {
      JsonNode *record = ps_record_generator_child (rand, i);
      g_autofree char *text = json_to_string (record, FALSE);

      bytes += strlen (text);
      json_array_add_element (docs, record);
    }
  ps_test_peer_put_docs (peer, DB, docs, FALSE);

  return bytes;
}

static void
on_finished_cb (PsSyncJob *job,
                gboolean   success,
                gpointer   user_data)
{
  int *outcome = user_data;

  *outcome = success ? 1 : -1;
}

static gboolean
on_timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs a one-shot sync to its end; returns its duration in seconds. */
static double
sync_once (Fixture *fixture)
{
  gint64 start = g_get_monotonic_time ();
  gboolean timed_out = FALSE;
  int outcome = 0;
  guint timeout = g_timeout_add_seconds (SYNC_TIMEOUT_S, on_timeout_cb, &timed_out);
  gulong handler = g_signal_connect (fixture->job, "finished", G_CALLBACK (on_finished_cb),
                                     &outcome);

  ps_sync_job_start (fixture->job, TRUE);
  while (outcome == 0 && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  g_signal_handler_disconnect (fixture->job, handler);
  if (!timed_out)
    g_source_remove (timeout);
  if (outcome != 1)
    g_test_message ("sync state: %s", ps_sync_job_get_error_message (fixture->job));
  g_assert_false (timed_out);
  g_assert_cmpint (outcome, ==, 1);

  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

/* Bandwidth cap */

typedef struct
{
  PsFaultProxy *proxy;
  GArray       *up;     /* guint64 per sample */
  GArray       *down;
} Samples;

static gboolean
on_sample_cb (gpointer user_data)
{
  Samples *samples = user_data;
  guint64 up, down;

  ps_fault_proxy_get_bytes (samples->proxy, &up, &down);
  g_array_append_val (samples->up, up);
  g_array_append_val (samples->down, down);
  return G_SOURCE_CONTINUE;
}

/* The highest rate over any window of WINDOW_SAMPLES samples, in B/s. */
static double
max_window_rate (GArray *counts)
{
  double highest = 0;

  for (guint i = 0; i + WINDOW_SAMPLES < counts->len; i++)
    {
      guint64 moved = g_array_index (counts, guint64, i + WINDOW_SAMPLES) -
                      g_array_index (counts, guint64, i);

      highest = MAX (highest, moved * 1000.0 / (WINDOW_SAMPLES * SAMPLE_MS));
    }

  return highest;
}

static void
test_bandwidth_cap (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GArray) up = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr(GArray) down = g_array_new (FALSE, FALSE, sizeof (guint64));
  Samples samples = { fixture->proxy, up, down };
  double cap = CAP_KBPS * 1000.0;
  double up_rate, down_rate, seconds;
  gsize pulled, pushed;
  guint64 total_up, total_down;
  guint sampler;

  pulled = put_generated (fixture->remote, 0, 110);
  pushed = put_generated (fixture->local, 1000, 70);
  g_test_message ("records: %zu bytes to pull, %zu bytes to push", pulled, pushed);

  ps_server_set_bandwidth_limit (fixture->server, CAP_KBPS);
  /* Small proxy buffers: what crosses the proxy is what the client takes. */
  ps_fault_proxy_set_client_send_buffer (fixture->proxy, 4096);

  sampler = g_timeout_add (SAMPLE_MS, on_sample_cb, &samples);
  on_sample_cb (&samples);
  seconds = sync_once (fixture);
  g_source_remove (sampler);
  on_sample_cb (&samples);

  ps_test_assert_same_rev_trees (fixture->local, DB, fixture->remote, DB);

  ps_fault_proxy_get_bytes (fixture->proxy, &total_up, &total_down);
  up_rate = max_window_rate (up);
  down_rate = max_window_rate (down);
  g_test_message ("%.1f s; sent %" G_GUINT64_FORMAT " B, received %" G_GUINT64_FORMAT " B; "
                  "highest 8 s rate: sent %.0f B/s, received %.0f B/s (cap %.0f B/s); "
                  "average: sent %.0f B/s, received %.0f B/s",
                  seconds, total_up, total_down, up_rate, down_rate, cap,
                  total_up / seconds, total_down / seconds);

  /* Headers are not capped: a little over the cap is allowed. */
  g_assert_cmpfloat (up_rate, <=, cap * 1.1);
  g_assert_cmpfloat (down_rate, <=, cap * 1.1);
  /* And the cap was really reached, or the test proves nothing. */
  g_assert_cmpuint (total_up, >=, pushed);
  g_assert_cmpuint (total_down, >=, pulled);
  g_assert_cmpfloat (seconds, >=, (pulled + pushed) / cap * 0.9);
}

/* 2G */

static void
test_2g_link (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(JsonArray) docs = json_array_new ();
  double seconds;

  for (guint i = 0; i < 200; i++)
    {
      g_autoptr(JsonObject) doc = json_object_new ();
      g_autofree char *id = g_strdup_printf ("case-%04u", i);

      json_object_set_string_member (doc, "_id", id);
      json_object_set_string_member (doc, "couchrest-type", "Child");
      json_object_set_string_member (doc, "name", "Amina Field");
      json_object_set_int_member (doc, "age", 7 + i % 10);
      json_object_set_string_member (doc, "sex", i % 2 ? "female" : "male");
      json_object_set_string_member (doc, "location_current", "Gulu, Northern Region");
      json_object_set_string_member (doc, "created_at", "2026/11/20 09:12:44 +0000");
      json_array_add_object_element (docs, json_object_ref (doc));
    }
  ps_test_peer_put_docs (fixture->remote, DB, docs, TRUE);

  /* About 100 kbit/s, 500 ms round trip. */
  ps_fault_proxy_set_link (fixture->proxy, 250, 12500);
  seconds = sync_once (fixture);
  g_test_message ("200 records over a 2G-like link in %.1f s", seconds);

  ps_test_assert_same_rev_trees (fixture->local, DB, fixture->remote, DB);
}

/* Metered */

static gboolean
doc_exists (PsTestPeer *peer,
            const char *id)
{
  return ps_test_peer_has_doc (peer, DB, id);
}

static void
put_small_doc (PsTestPeer *peer,
               const char *id)
{
  ps_test_peer_put_named_doc (peer, DB, id, "Written on the remote");
}

static void
spin (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, on_timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* Waits up to @seconds for @id on this instance. */
static gboolean
wait_for_doc (Fixture    *fixture,
              const char *id,
              guint       seconds)
{
  for (guint i = 0; i < seconds * 5; i++)
    {
      if (doc_exists (fixture->local, id))
        return TRUE;
      spin (200);
    }

  return doc_exists (fixture->local, id);
}

static void
wait_for_state (Fixture     *fixture,
                PsSyncState  state)
{
  for (guint i = 0; i < 100 && ps_sync_job_get_state (fixture->job) != state; i++)
    spin (100);
  g_assert_cmpint (ps_sync_job_get_state (fixture->job), ==, state);
}

static void
test_metered (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(TestMonitor) monitor = g_object_new (TEST_TYPE_MONITOR, NULL);
  g_autofree char *status = NULL;

  ps_server_set_continuous (fixture->server, TRUE);
  ps_sync_job_set_network_monitor (fixture->job, G_NETWORK_MONITOR (monitor));
  test_monitor_set_metered (monitor, TRUE);

  ps_sync_job_start (fixture->job, FALSE);
  wait_for_state (fixture, PS_SYNC_STATE_PAUSED_METERED);
  status = ps_sync_job_dup_status_text (fixture->job);
  g_assert_cmpstr (status, ==, "Paused: metered connection");

  /* Nothing moves while the connection is metered. */
  put_small_doc (fixture->remote, "while-metered");
  g_assert_false (wait_for_doc (fixture, "while-metered", 3));
  g_assert_cmpint (ps_sync_job_get_state (fixture->job), ==, PS_SYNC_STATE_PAUSED_METERED);
  g_assert_cmpuint (ps_fault_proxy_get_requests (fixture->proxy), ==, 0);

  /* A free connection resumes. */
  test_monitor_set_metered (monitor, FALSE);
  g_assert_true (wait_for_doc (fixture, "while-metered", 20));
  g_assert_cmpint (ps_sync_job_get_state (fixture->job), !=, PS_SYNC_STATE_PAUSED_METERED);

  /* A server allowed to use metered connections keeps syncing. */
  ps_server_set_allow_metered (fixture->server, TRUE);
  test_monitor_set_metered (monitor, TRUE);
  put_small_doc (fixture->remote, "allowed-metered");
  g_assert_true (wait_for_doc (fixture, "allowed-metered", 20));
  g_assert_cmpint (ps_sync_job_get_state (fixture->job), !=, PS_SYNC_STATE_PAUSED_METERED);

  /* Taking the permission back pauses a running sync. */
  ps_server_set_allow_metered (fixture->server, FALSE);
  wait_for_state (fixture, PS_SYNC_STATE_PAUSED_METERED);
  put_small_doc (fixture->remote, "paused-again");
  g_assert_false (wait_for_doc (fixture, "paused-again", 2));

  /* A one-shot sync was asked for by the user: it runs. */
  ps_sync_job_stop (fixture->job);
  sync_once (fixture);
  g_assert_true (doc_exists (fixture->local, "paused-again"));
}

/* Attachments */

/* Puts a record with one attachment of @size random bytes on @peer;
 * returns the attachment in base64, as CouchDB sends it.
 */
static char *
put_doc_with_attachment (PsTestPeer *peer,
                         const char *id,
                         const char *name,
                         gsize       size)
{
  g_autoptr(JsonArray) docs = json_array_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (size);
  g_autofree guint8 *content = g_malloc (size);
  JsonObject *doc = json_object_new ();
  JsonObject *attachments = json_object_new ();
  JsonObject *attachment = json_object_new ();
  char *encoded;

  for (gsize i = 0; i < size; i++)
    content[i] = (guint8) g_rand_int (rand);
  encoded = g_base64_encode (content, size);

  json_object_set_string_member (attachment, "content_type", "application/octet-stream");
  json_object_set_string_member (attachment, "data", encoded);
  json_object_set_object_member (attachments, name, attachment);
  json_object_set_string_member (doc, "_id", id);
  json_object_set_string_member (doc, "name", "Amina");
  json_object_set_object_member (doc, "_attachments", attachments);
  json_array_add_object_element (docs, doc);
  ps_test_peer_put_docs (peer, DB, docs, TRUE);

  return encoded;
}

static void
assert_attachment (PsTestPeer *peer,
                   const char *id,
                   const char *name,
                   const char *encoded)
{
  g_autofree char *path = g_strdup_printf ("/%s/%s?attachments=true", DB, id);
  g_autoptr(JsonNode) copy = NULL;
  JsonObject *stored;
  guint status = 0;

  copy = ps_test_peer_request (peer, "GET", path, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  stored = json_object_get_object_member (json_object_get_object_member (
                                            json_node_get_object (copy), "_attachments"),
                                          name);
  g_assert_cmpstr (json_object_get_string_member (stored, "data"), ==, encoded);
}

static void
test_attachment_limit (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *encoded = NULL;
  g_autoptr(PsSyncDatabase) database = NULL;
  PsWriteFailure *failure;
  GPtrArray *failures;
  guint64 received = 0;

  encoded = put_doc_with_attachment (fixture->remote, "case-with-scan", "scan.bin", 600 * 1000);
  ps_test_peer_put_named_doc (fixture->remote, DB, "case-after", "Musa");
  put_generated (fixture->remote, 0, 5);

  ps_server_set_max_attachment_size (fixture->server, 500);
  sync_once (fixture);

  /* Only the attachment's stub crossed the link, not its 800 kB of base64. */
  ps_fault_proxy_get_bytes (fixture->proxy, NULL, &received);
  g_test_message ("first sync received %" G_GUINT64_FORMAT " B", received);
  g_assert_cmpuint (received, <, 300 * 1000);

  /* The others arrive; the big one is listed, not synced. */
  g_assert_true (doc_exists (fixture->local, "case-after"));
  g_assert_false (doc_exists (fixture->local, "case-with-scan"));
  database = g_list_model_get_item (ps_sync_job_get_databases (fixture->job), 0);
  failures = ps_replication_get_write_failures (ps_sync_database_get_pull (database));
  g_assert_cmpuint (failures->len, ==, 1);
  failure = g_ptr_array_index (failures, 0);
  g_assert_cmpstr (failure->id, ==, "case-with-scan");
  g_assert_cmpstr (failure->error, ==, "attachment_too_large");
  g_test_message ("listed: %s", failure->reason);
  g_assert_nonnull (strstr (failure->reason, "scan.bin"));
  g_assert_nonnull (strstr (failure->reason, "over the 500 kB limit for this server"));

  /* Syncing again with the same limit does not skip it either. */
  sync_once (fixture);
  g_assert_false (doc_exists (fixture->local, "case-with-scan"));

  /* With a higher limit it arrives, byte for byte. */
  ps_server_set_max_attachment_size (fixture->server, 1000);
  sync_once (fixture);
  assert_attachment (fixture->local, "case-with-scan", "scan.bin", encoded);
  ps_test_assert_same_rev_trees (fixture->local, DB, fixture->remote, DB);
}

/* Raising the limit while a continuous sync runs brings the record. */
static void
test_attachment_limit_continuous (Fixture       *fixture,
                                  gconstpointer  data)
{
  g_autofree char *encoded = NULL;

  encoded = put_doc_with_attachment (fixture->remote, "case-with-photo", "photo.jpg", 60 * 1000);
  ps_test_peer_put_named_doc (fixture->remote, DB, "case-plain", "Musa");

  ps_server_set_continuous (fixture->server, TRUE);
  ps_server_set_max_attachment_size (fixture->server, 50);
  ps_sync_job_start (fixture->job, FALSE);
  g_assert_true (wait_for_doc (fixture, "case-plain", 20));
  g_assert_false (wait_for_doc (fixture, "case-with-photo", 2));

  ps_server_set_max_attachment_size (fixture->server, 100);
  g_assert_true (wait_for_doc (fixture, "case-with-photo", 20));
  assert_attachment (fixture->local, "case-with-photo", "photo.jpg", encoded);
}

/* Deferred attachments: records without any come first. */
static void
test_defer_attachments (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autofree char *encoded = NULL;
  g_autoptr(JsonNode) changes = NULL;
  g_autoptr(PsSyncDatabase) database = NULL;
  JsonArray *results;
  guint n_results;
  guint first_with_attachments = G_MAXUINT;
  guint status = 0;

  /* Written on the remote first, so a plain pass would copy it first. */
  encoded = put_doc_with_attachment (fixture->remote, "aaa-case-with-consent", "consent.pdf",
                                     200 * 1000);
  put_generated (fixture->remote, 0, 20);

  ps_server_set_defer_attachments (fixture->server, TRUE);
  sync_once (fixture);

  /* This instance wrote every record without attachments before the others. */
  changes = ps_test_peer_request (fixture->local, "GET", "/" DB "/_changes?include_docs=true",
                                  NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  results = json_object_get_array_member (json_node_get_object (changes), "results");
  n_results = json_array_get_length (results);
  g_assert_cmpuint (n_results, ==, 21);
  for (guint i = 0; i < n_results; i++)
    {
      JsonObject *written = json_object_get_object_member (
        json_array_get_object_element (results, i), "doc");
      gboolean has_attachments = json_object_has_member (written, "_attachments");

      if (has_attachments && first_with_attachments == G_MAXUINT)
        first_with_attachments = i;
      g_assert_true (first_with_attachments == G_MAXUINT || has_attachments);
    }
  g_test_message ("%u records without attachments came first, then %u with",
                  first_with_attachments, n_results - first_with_attachments);
  g_assert_cmpuint (first_with_attachments, <, n_results);

  /* Nothing is listed as refused or held back, and all of it arrived. */
  database = g_list_model_get_item (ps_sync_job_get_databases (fixture->job), 0);
  g_assert_cmpuint (ps_replication_get_write_failures (ps_sync_database_get_pull (database))->len,
                    ==, 0);
  assert_attachment (fixture->local, "aaa-case-with-consent", "consent.pdf", encoded);
  ps_test_assert_same_rev_trees (fixture->local, DB, fixture->remote, DB);
}

/* Settings */

static void
test_settings_round_trip (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ps-field-XXXXXX", NULL);
  g_autoptr(PsServerStore) store = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServerStore) reloaded = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServer) server = ps_server_new ("Field office", "https://field.example.org:6984");
  g_autoptr(PsServer) plain = ps_server_new ("Head office", "https://hq.example.org:6984");
  g_autoptr(JsonNode) bad = NULL;
  g_autoptr(PsServer) rejected = NULL;
  g_autoptr(GError) error = NULL;
  PsServer *found;

  g_assert_cmpuint (ps_server_get_bandwidth_limit (plain), ==, 0);
  g_assert_false (ps_server_get_allow_metered (plain));

  ps_server_set_bandwidth_limit (server, 64);
  ps_server_set_max_attachment_size (server, 500);
  ps_server_set_defer_attachments (server, TRUE);
  ps_server_set_allow_metered (server, TRUE);
  g_assert_true (ps_server_store_add (store, server, &error));
  g_assert_no_error (error);
  g_assert_true (ps_server_store_add (store, plain, &error));
  g_assert_no_error (error);
  g_assert_true (ps_server_store_save (store, &error));
  g_assert_no_error (error);

  g_assert_true (ps_server_store_load (reloaded, &error));
  g_assert_no_error (error);
  found = ps_server_store_lookup (reloaded, ps_server_get_id (server));
  g_assert_nonnull (found);
  g_assert_cmpuint (ps_server_get_bandwidth_limit (found), ==, 64);
  g_assert_cmpuint (ps_server_get_max_attachment_size (found), ==, 500);
  g_assert_true (ps_server_get_defer_attachments (found));
  g_assert_true (ps_server_get_allow_metered (found));
  found = ps_server_store_lookup (reloaded, ps_server_get_id (plain));
  g_assert_nonnull (found);
  g_assert_cmpuint (ps_server_get_bandwidth_limit (found), ==, 0);
  g_assert_cmpuint (ps_server_get_max_attachment_size (found), ==, 0);
  g_assert_false (ps_server_get_allow_metered (found));

  bad = ps_server_to_json (server);
  json_object_set_int_member (json_node_get_object (bad), "bandwidth-limit", -5);
  rejected = ps_server_new_from_json (bad, &error);
  g_assert_null (rejected);
  g_assert_error (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID);
}

/* The command line */

static int
run_cli (const char * const *args,
         char              **out)
{
  g_autoptr(GStrvBuilder) argv = g_strv_builder_new ();
  g_auto(GStrv) command = NULL;
  g_auto(GStrv) env = g_get_environ ();
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_assert_nonnull (g_getenv ("PS_CLI"));
  g_strv_builder_add (argv, g_getenv ("PS_CLI"));
  g_strv_builder_addv (argv, (const char **) args);
  command = g_strv_builder_end (argv);

  /* The isolated folders are this process's; the child gets them this way. */
  env = g_environ_setenv (env, "HOME", g_get_home_dir (), TRUE);
  env = g_environ_setenv (env, "XDG_CONFIG_HOME", g_get_user_config_dir (), TRUE);
  env = g_environ_setenv (env, "XDG_STATE_HOME", g_get_user_state_dir (), TRUE);

  g_assert_true (g_spawn_sync (NULL, command, env, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, out,
                               NULL, &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_cli_options (void)
{
  g_autoptr(PsServerStore) store = ps_server_store_new ();
  g_autoptr(PsServerStore) reloaded = ps_server_store_new ();
  g_autoptr(PsServer) server = ps_server_new ("Field office", "https://field.example.org:6984");
  g_autoptr(GError) error = NULL;
  g_autofree char *edit_out = NULL;
  g_autofree char *show_out = NULL;
  g_autofree char *bad_out = NULL;
  const char *id = ps_server_get_id (server);
  const char * const edit[] = {
    "server", "edit", id, "--bandwidth-limit", "20", "--max-attachment-size", "500",
    "--allow-metered", "--defer-attachments", NULL
  };
  const char * const show[] = { "server", "show", id, NULL };
  const char * const bad[] = { "server", "edit", id, "--bandwidth-limit", "fast", NULL };
  PsServer *found;

  g_assert_true (ps_server_store_add (store, server, &error));
  g_assert_true (ps_server_store_save (store, &error));
  g_assert_no_error (error);

  g_assert_cmpint (run_cli (edit, &edit_out), ==, 0);
  g_assert_cmpint (run_cli (show, &show_out), ==, 0);
  g_assert_nonnull (strstr (show_out, "20 kB/s"));
  g_assert_nonnull (strstr (show_out, "500 kB"));
  g_assert_cmpint (run_cli (bad, &bad_out), ==, 2);

  g_assert_true (ps_server_store_load (reloaded, &error));
  g_assert_no_error (error);
  found = ps_server_store_lookup (reloaded, id);
  g_assert_nonnull (found);
  g_assert_cmpuint (ps_server_get_bandwidth_limit (found), ==, 20);
  g_assert_cmpuint (ps_server_get_max_attachment_size (found), ==, 500);
  g_assert_true (ps_server_get_allow_metered (found));
  g_assert_true (ps_server_get_defer_attachments (found));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/field/settings-round-trip", test_settings_round_trip);
  g_test_add_func ("/ps/field/cli-options", test_cli_options);
  g_test_add ("/ps/field/metered", Fixture, NULL,
              fixture_set_up, test_metered, fixture_tear_down);
  g_test_add ("/ps/field/attachment-limit", Fixture, NULL,
              fixture_set_up, test_attachment_limit, fixture_tear_down);
  g_test_add ("/ps/field/attachment-limit-continuous", Fixture, NULL,
              fixture_set_up, test_attachment_limit_continuous, fixture_tear_down);
  g_test_add ("/ps/field/defer-attachments", Fixture, NULL,
              fixture_set_up, test_defer_attachments, fixture_tear_down);
  g_test_add ("/ps/field/bandwidth-cap", Fixture, NULL,
              fixture_set_up, test_bandwidth_cap, fixture_tear_down);
  g_test_add ("/ps/field/2g-link", Fixture, NULL,
              fixture_set_up, test_2g_link, fixture_tear_down);

  return g_test_run ();
}

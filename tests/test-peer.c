/* test-peer.c: the harness around the real test peer (pouchdb-server).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-peer"

#include "config.h"

#include "ps-test-peer.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define DB "primero_child_test"

/* A document whose revision history is @chain, newest first: labels
 * separated by commas, each turned into a 32-hex revision id.
 */
static JsonNode *
make_doc (const char *id,
          const char *chain,
          gboolean    deleted,
          const char *name)
{
  g_auto(GStrv) labels = g_strsplit (chain, ",", -1);
  g_autoptr(JsonObject) doc = json_object_new ();
  g_autoptr(JsonArray) ids = json_array_new ();
  JsonObject *revisions = json_object_new ();
  guint depth = g_strv_length (labels);
  g_autofree char *newest = NULL;
  g_autofree char *rev = NULL;

  for (guint i = 0; i < depth; i++)
    {
      g_autofree char *seed = g_strdup_printf ("%s:%s", id, labels[i]);
      char *hash = g_compute_checksum_for_string (G_CHECKSUM_MD5, seed, -1);

      if (i == 0)
        newest = g_strdup (hash);
      json_array_add_string_element (ids, hash);
      g_free (hash);
    }

  rev = g_strdup_printf ("%u-%s", depth, newest);
  json_object_set_string_member (doc, "_id", id);
  json_object_set_string_member (doc, "_rev", rev);
  json_object_set_int_member (revisions, "start", depth);
  json_object_set_array_member (revisions, "ids", g_steal_pointer (&ids));
  json_object_set_object_member (doc, "_revisions", revisions);

  if (deleted)
    json_object_set_boolean_member (doc, "_deleted", TRUE);
  else
    {
      json_object_set_string_member (doc, "couchrest-type", "Child");
      json_object_set_string_member (doc, "name", name);
    }

  return json_node_init_object (json_node_alloc (), doc);
}

static JsonArray *
docs_of (JsonNode *first,
         ...)
{
  JsonArray *docs = json_array_new ();
  va_list args;

  va_start (args, first);
  for (JsonNode *doc = first; doc != NULL; doc = va_arg (args, JsonNode *))
    json_array_add_element (docs, doc);
  va_end (args);

  return docs;
}

/* case-1: two live leaves (a conflict); case-2: one revision with an
 * attachment; case-3: deleted; case-4: two leaves, one of them deleted.
 */
static void
load_fixture (PsTestPeer *peer)
{
  g_autoptr(JsonArray) bases = NULL;
  g_autoptr(JsonArray) leaves = NULL;
  JsonNode *with_attachment = make_doc ("case-2", "a", FALSE, "Amira");
  JsonObject *attachments = json_object_new ();
  JsonObject *photo = json_object_new ();

  json_object_set_string_member (photo, "content_type", "image/jpeg");
  json_object_set_string_member (photo, "data", "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBD");
  json_object_set_object_member (attachments, "photo.jpg", photo);
  json_object_set_object_member (json_node_get_object (with_attachment), "_attachments",
                                 attachments);

  ps_test_peer_create_db (peer, DB);

  /* bases first, siblings in a later request, as the peer needs them */
  bases = docs_of (make_doc ("case-1", "a", FALSE, "Base"),
                   with_attachment,
                   make_doc ("case-3", "a", FALSE, "Gone"),
                   make_doc ("case-4", "a", FALSE, "Base"),
                   NULL);
  ps_test_peer_put_docs (peer, DB, bases, FALSE);

  leaves = docs_of (make_doc ("case-1", "b,a", FALSE, "Edited on A"),
                    make_doc ("case-1", "c,a", FALSE, "Edited on B"),
                    make_doc ("case-3", "b,a", TRUE, NULL),
                    make_doc ("case-4", "b,a", FALSE, "Kept"),
                    make_doc ("case-4", "c,a", TRUE, NULL),
                    NULL);
  ps_test_peer_put_docs (peer, DB, leaves, FALSE);
}

static char *
rev_of (const char *id,
        const char *chain)
{
  g_autoptr(JsonNode) doc = make_doc (id, chain, FALSE, "");

  return g_strdup (json_object_get_string_member (json_node_get_object (doc), "_rev"));
}

static void
test_two_peers (void)
{
  g_autoptr(PsTestPeer) a = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) b = ps_test_peer_new (TRUE);
  g_autofree char *expected_url = NULL;
  g_autofree char *db_url = NULL;
  g_autoptr(JsonNode) welcome = NULL;
  guint status = 0;

  g_assert_cmpuint (ps_test_peer_get_port (a), >, 0);
  g_assert_cmpuint (ps_test_peer_get_port (b), >, 0);
  g_assert_cmpuint (ps_test_peer_get_port (a), !=, ps_test_peer_get_port (b));
  g_assert_cmpint (ps_test_peer_get_pid (a), >, 0);
  g_assert_cmpint (ps_test_peer_get_pid (a), !=, ps_test_peer_get_pid (b));

  expected_url = g_strdup_printf ("http://127.0.0.1:%u", ps_test_peer_get_port (a));
  g_assert_cmpstr (ps_test_peer_get_url (a), ==, expected_url);

  db_url = ps_test_peer_db_url (a, "primero/child production");
  g_assert_true (g_str_has_prefix (db_url, expected_url));
  g_assert_cmpstr (db_url + strlen (expected_url), ==, "/primero%2Fchild%20production");

  welcome = ps_test_peer_request (b, "GET", "/", NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_nonnull (welcome);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (welcome));
  g_assert_true (json_object_has_member (json_node_get_object (welcome), "express-pouchdb"));

  /* a database made on one peer does not exist on the other */
  ps_test_peer_create_db (a, DB);
  g_clear_pointer (&welcome, json_node_unref);
  welcome = ps_test_peer_request (b, "GET", "/" DB, NULL, &status);
  g_assert_cmpuint (status, ==, 404);

  ps_test_peer_assert_alive (a);
  ps_test_peer_assert_alive (b);
}

static void
test_rev_trees (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new (TRUE);
  g_autoptr(GHashTable) trees = NULL;
  g_autofree char *leaf_b = rev_of ("case-1", "b,a");
  g_autofree char *leaf_c = rev_of ("case-1", "c,a");
  g_autofree char *base = rev_of ("case-1", "a");
  g_autofree char *deleted_leaf = rev_of ("case-4", "c,a");
  const char *conflicted;
  const char *with_attachment;
  GHashTableIter iter;
  gpointer key, value;

  load_fixture (peer);
  trees = ps_test_peer_rev_trees (peer, DB);

  /* deleted documents are part of the trees too */
  g_assert_cmpuint (g_hash_table_size (trees), ==, 4);

  conflicted = g_hash_table_lookup (trees, "case-1");
  g_assert_nonnull (conflicted);
  g_assert_nonnull (strstr (conflicted, leaf_b));
  g_assert_nonnull (strstr (conflicted, leaf_c));
  g_assert_nonnull (strstr (conflicted, base + 2));
  g_assert_nonnull (strstr (conflicted, "\"_revisions\""));
  g_assert_nonnull (strstr (conflicted, "Edited on A"));
  g_assert_nonnull (strstr (conflicted, "Edited on B"));
  /* leaves in rev order, whichever the server lists first */
  if (strcmp (leaf_b, leaf_c) < 0)
    g_assert_true (strstr (conflicted, leaf_b) < strstr (conflicted, leaf_c));
  else
    g_assert_true (strstr (conflicted, leaf_c) < strstr (conflicted, leaf_b));

  g_assert_nonnull (strstr (g_hash_table_lookup (trees, "case-3"), "\"_deleted\":true"));
  g_assert_nonnull (strstr (g_hash_table_lookup (trees, "case-4"), deleted_leaf));
  g_assert_nonnull (strstr (g_hash_table_lookup (trees, "case-4"), "\"_deleted\":true"));

  with_attachment = g_hash_table_lookup (trees, "case-2");
  g_assert_nonnull (strstr (with_attachment, "\"digest\":\"md5-"));
  g_assert_null (strstr (with_attachment, "revpos"));
  g_assert_null (strstr (with_attachment, "/9j/4AAQ"));

  /* both ways of reading a tree agree */
  g_hash_table_iter_init (&iter, trees);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autofree char *signature = ps_test_peer_rev_tree_signature (peer, DB, key);

      g_assert_cmpstr (signature, ==, value);
    }
  g_assert_null (ps_test_peer_rev_tree_signature (peer, DB, "no-such-case"));

  /* a deleted losing leaf is no conflict */
  g_assert_cmpuint (ps_test_peer_count_conflicts (peer, DB), ==, 1);
  ps_test_peer_assert_alive (peer);
}

static void
test_signatures_compare (void)
{
  g_autoptr(PsTestPeer) a = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) b = ps_test_peer_new (TRUE);
  g_autoptr(JsonArray) third_leaf = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *on_a = NULL;

  load_fixture (a);
  load_fixture (b);
  ps_test_assert_same_rev_trees (a, DB, b, DB);

  before = ps_test_peer_rev_tree_signature (b, DB, "case-1");
  on_a = ps_test_peer_rev_tree_signature (a, DB, "case-1");
  g_assert_cmpstr (before, ==, on_a);

  third_leaf = docs_of (make_doc ("case-1", "d,c,a", FALSE, "Edited again on B"), NULL);
  ps_test_peer_put_docs (b, DB, third_leaf, FALSE);

  after = ps_test_peer_rev_tree_signature (b, DB, "case-1");
  g_assert_cmpstr (before, !=, after);
  g_assert_cmpstr (on_a, !=, after);

  /* the other documents still match */
  for (guint i = 2; i <= 4; i++)
    {
      g_autofree char *id = g_strdup_printf ("case-%u", i);
      g_autofree char *sig_a = ps_test_peer_rev_tree_signature (a, DB, id);
      g_autofree char *sig_b = ps_test_peer_rev_tree_signature (b, DB, id);

      g_assert_cmpstr (sig_a, ==, sig_b);
    }
}

static void
write_peer_record (const char *path,
                   PsTestPeer *peer)
{
  g_autofree char *line = g_strdup_printf ("%d %s\n", ps_test_peer_get_pid (peer),
                                           ps_test_peer_get_dir (peer));
  g_autofree char *old = NULL;
  g_autofree char *contents = NULL;

  g_file_get_contents (path, &old, NULL, NULL);
  contents = g_strconcat (old != NULL ? old : "", line, NULL);
  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
}

static gboolean
process_gone (GPid pid)
{
  g_autofree char *stat_path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *stat = NULL;
  const char *state;

  if (kill (pid, 0) < 0 && errno == ESRCH)
    return TRUE;

  /* a zombie whose new parent has not reaped it yet is gone as well */
  if (!g_file_get_contents (stat_path, &stat, NULL, NULL))
    return TRUE;
  state = strrchr (stat, ')');
  return state != NULL && state[1] == ' ' && state[2] == 'Z';
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_SYMLINK) && g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      dir = g_dir_open (path, 0, NULL);
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
    }
  g_remove (path);
}

/* The peers a failed subprocess started must not outlive it. */
static void
assert_subprocess_peers_gone (const char *record_path,
                              guint       expected)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  guint seen = 0;

  g_assert_true (g_file_get_contents (record_path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], " ", 2);
      gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
      GPid pid;

      if (g_strv_length (fields) != 2)
        continue;

      pid = (GPid) g_ascii_strtoll (fields[0], NULL, 10);
      g_assert_cmpint (pid, >, 0);
      while (!process_gone (pid) && g_get_monotonic_time () < deadline)
        g_usleep (20 * 1000);
      g_assert_true (process_gone (pid));

      g_assert_true (g_str_has_prefix (fields[1], g_get_tmp_dir ()));
      remove_tree (fields[1]);
      seen++;
    }

  g_assert_cmpuint (seen, ==, expected);
  g_remove (record_path);
}

/* Where a subprocess notes the peers it started, so that the parent can
 * check they went away with it.
 */
static char *
subprocess_record_path (void)
{
  GPid parent = g_test_subprocess () ? getppid () : getpid ();
  g_autofree char *name = g_strdup_printf ("ps-test-peer-record-%d", parent);

  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

static void
test_difference_reported (void)
{
  g_autofree char *record_path = subprocess_record_path ();

  if (g_test_subprocess ())
    {
      g_autoptr(PsTestPeer) a = ps_test_peer_new (TRUE);
      g_autoptr(PsTestPeer) b = ps_test_peer_new (TRUE);
      g_autoptr(JsonArray) only_on_b = NULL;

      write_peer_record (record_path, a);
      write_peer_record (record_path, b);

      load_fixture (a);
      load_fixture (b);
      only_on_b = docs_of (make_doc ("case-0", "a", FALSE, "Only on B"), NULL);
      ps_test_peer_put_docs (b, DB, only_on_b, FALSE);

      ps_test_assert_same_rev_trees (a, DB, b, DB);
      return;
    }

  g_remove (record_path);
  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);

  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*revision trees differ at document \"case-0\"*(missing)*");
  assert_subprocess_peers_gone (record_path, 2);
}

static void
test_death_detected (void)
{
  g_autofree char *record_path = subprocess_record_path ();

  if (g_test_subprocess ())
    {
      g_autoptr(PsTestPeer) peer = ps_test_peer_new (TRUE);
      GPid pid = ps_test_peer_get_pid (peer);
      siginfo_t info = { 0 };

      write_peer_record (record_path, peer);
      ps_test_peer_assert_alive (peer);

      /* as if a request had crashed it; wait until it has exited, leaving
       * it for the harness to reap
       */
      g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
      g_assert_cmpint (waitid (P_PID, pid, &info, WEXITED | WNOWAIT), ==, 0);

      ps_test_peer_assert_alive (peer);
      return;
    }

  g_remove (record_path);
  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);

  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*the peer is not running: Child process killed by signal 9*"
                             "end of*stdout.log*");
  assert_subprocess_peers_gone (record_path, 1);
}

/* A broken install fails the test with advice; it never skips. */
static void
test_missing_install_fails (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(PsTestPeer) peer = NULL;

      /* a fresh process: no thread reads the environment yet */
      g_setenv ("PS_TEST_NODE_MODULES", "/nonexistent/node_modules", TRUE);
      peer = ps_test_peer_new (TRUE);
      return;
    }

  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);

  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*pouchdb-server is not installed*tools/install-deps*");
}

static void
test_restart_keeps_data (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new (FALSE);
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GHashTable) after = NULL;
  g_autofree char *url = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GBytes) body = NULL;
  GHashTableIter iter;
  gpointer key, value;
  GPid first_pid;
  guint16 port;

  load_fixture (peer);
  before = ps_test_peer_rev_trees (peer, DB);
  port = ps_test_peer_get_port (peer);
  url = g_strdup (ps_test_peer_get_url (peer));
  first_pid = ps_test_peer_get_pid (peer);

  ps_test_peer_stop (peer);
  g_assert_cmpint (ps_test_peer_get_pid (peer), ==, 0);
  g_assert_true (process_gone (first_pid));

  /* nothing answers on the port any more */
  soup_session_set_proxy_resolver (session, NULL);
  message = soup_message_new ("GET", url);
  body = soup_session_send_and_read (session, message, NULL, NULL);
  g_assert_null (body);

  ps_test_peer_start (peer);
  g_assert_cmpint (ps_test_peer_get_pid (peer), >, 0);
  g_assert_cmpuint (ps_test_peer_get_port (peer), ==, port);
  g_assert_cmpstr (ps_test_peer_get_url (peer), ==, url);

  after = ps_test_peer_rev_trees (peer, DB);
  g_assert_cmpuint (g_hash_table_size (after), ==, 4);
  g_assert_cmpuint (g_hash_table_size (after), ==, g_hash_table_size (before));
  g_hash_table_iter_init (&iter, before);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_assert_cmpstr (g_hash_table_lookup (after, key), ==, value);

  g_assert_cmpuint (ps_test_peer_count_conflicts (peer, DB), ==, 1);
  ps_test_peer_assert_alive (peer);
}

static guint
get_status_as (PsTestPeer *peer,
               const char *path,
               const char *user,
               const char *password)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (ps_test_peer_get_url (peer), path, NULL);
  g_autoptr(SoupMessage) message = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  soup_session_set_proxy_resolver (session, NULL);
  if (user != NULL)
    {
      g_autofree char *credentials = g_strdup_printf ("%s:%s", user, password);
      g_autofree char *encoded = g_base64_encode ((const guchar *) credentials,
                                                  strlen (credentials));
      g_autofree char *header = g_strdup_printf ("Basic %s", encoded);

      soup_message_headers_replace (soup_message_get_request_headers (message),
                                    "Authorization", header);
    }

  body = soup_session_send_and_read (session, message, NULL, &error);
  g_assert_no_error (error);
  return soup_message_get_status (message);
}

static void
test_admin (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new_with_admin (TRUE, "admin", "s3cret");
  g_autoptr(JsonNode) config = NULL;
  g_autoptr(JsonNode) info = NULL;
  guint status = 0;

  /* an anonymous create would crash this peer; the harness authenticates */
  ps_test_peer_create_db (peer, DB);
  info = ps_test_peer_request (peer, "GET", "/" DB, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  ps_test_peer_assert_alive (peer);

  g_assert_cmpuint (get_status_as (peer, "/_all_dbs", "admin", "wrong"), ==, 401);
  g_assert_cmpuint (get_status_as (peer, "/_all_dbs", "admin", "s3cret"), ==, 200);
  g_assert_cmpuint (get_status_as (peer, "/_config", NULL, NULL), ==, 401);

  config = ps_test_peer_request (peer, "GET", "/_config", NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_nonnull (config);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (config));
  g_assert_true (json_object_has_member (json_node_get_object (config), "admins"));

  ps_test_peer_assert_alive (peer);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/peer/two-peers", test_two_peers);
  g_test_add_func ("/ps/peer/rev-trees", test_rev_trees);
  g_test_add_func ("/ps/peer/signatures-compare", test_signatures_compare);
  g_test_add_func ("/ps/peer/difference-reported", test_difference_reported);
  g_test_add_func ("/ps/peer/death-detected", test_death_detected);
  g_test_add_func ("/ps/peer/missing-install", test_missing_install_fails);
  g_test_add_func ("/ps/peer/restart-keeps-data", test_restart_keeps_data);
  g_test_add_func ("/ps/peer/admin", test_admin);

  return g_test_run ();
}

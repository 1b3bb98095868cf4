/* test-couchdb-sync.c: what a user runs against real Apache CouchDB servers:
 * a two-way sync, conflict resolution, diagnostics and the sync file. The
 * passwords live in a real keyring.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-record-generator.h"
#include "ps-test-cli.h"
#include "ps-test-couch-server.h"
#include "ps-test-peer.h"

#include <glib/gstdio.h>
#include <string.h>

#define PASSPHRASE "Otter-Granite-9043"
#define N_RECORDS  40

static PsTestCouchServer *local;
static PsTestCouchServer *remote;

static const char * const databases[] = {
  "primero_child_production",
  "primero_incident_production",
  "primero_tracing_request_production",
};

static void
assert_no_password (PsCliResult *result)
{
  const char *passwords[] = { ps_test_couch_server_get_password (local),
                              ps_test_couch_server_get_password (remote) };

  for (guint i = 0; i < G_N_ELEMENTS (passwords); i++)
    {
      g_assert_null (strstr (result->out, passwords[i]));
      g_assert_null (strstr (result->err, passwords[i]));
    }
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
  assert_no_password (result);
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

static char *
password_line (PsTestCouchServer *server)
{
  return g_strconcat (ps_test_couch_server_get_password (server), "\n", NULL);
}

static void
set_instance (const char        *home,
              PsTestCouchServer *server)
{
  g_autofree char *input = password_line (server);
  const char * const args[] = { "instance", "set", "--url",
                                ps_test_couch_server_get_url (server),
                                "--username", ps_test_couch_server_get_user (server),
                                "--password-stdin", NULL };
  g_auto(PsCliResult) result = { 0, };

  run_ok (&result, home, input, args);
}

/* The same records on both ends, then edits on each side of some of them:
 * conflicts for the sync to resolve.
 */
static void
fill_both_ends (guint seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(JsonArray) docs = json_array_new ();
  g_autoptr(JsonArray) local_edits = json_array_new ();
  g_autoptr(JsonArray) remote_edits = json_array_new ();
  PsTestPeer *a = ps_test_couch_server_get_peer (local);
  PsTestPeer *b = ps_test_couch_server_get_peer (remote);

  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    {
      ps_test_couch_server_fresh_db (local, databases[d]);
      ps_test_couch_server_fresh_db (remote, databases[d]);
    }

  for (guint i = 0; i < N_RECORDS; i++)
    {
      JsonNode *record = ps_record_generator_child (rand, i);

      json_array_add_element (docs, json_node_copy (record));
      g_ptr_array_add (records, record);
    }
  ps_test_peer_put_docs (a, databases[0], docs, FALSE);
  ps_test_peer_put_docs (b, databases[0], docs, FALSE);

  for (guint i = 0; i < N_RECORDS; i += 4)
    {
      JsonNode *record = g_ptr_array_index (records, i);

      json_array_add_element (local_edits, ps_record_generator_edit (rand, record));
      json_array_add_element (remote_edits, ps_record_generator_edit (rand, record));
    }
  ps_test_peer_put_docs (a, databases[0], local_edits, FALSE);
  ps_test_peer_put_docs (b, databases[0], remote_edits, FALSE);
}

static void
test_two_way_sync (void)
{
  g_autofree char *home = g_dir_make_tmp ("ps-couchdb-sync-XXXXXX", NULL);
  g_autofree char *input = password_line (remote);
  const char * const add[] = { "server", "add", "--description", "Field office",
                               "--url", ps_test_couch_server_get_url (remote),
                               "--username", ps_test_couch_server_get_user (remote),
                               "--password-stdin", NULL };
  const char * const sync[] = { "sync", "Field office", "--once", NULL };
  const char * const journal[] = { "journal", "--json", NULL };
  g_auto(PsCliResult) added = { 0, };
  g_auto(PsCliResult) synced = { 0, };
  g_auto(PsCliResult) journaled = { 0, };
  PsTestPeer *a = ps_test_couch_server_get_peer (local);
  PsTestPeer *b = ps_test_couch_server_get_peer (remote);

  fill_both_ends (31);
  g_assert_cmpuint (ps_test_peer_count_conflicts (a, databases[0]), ==, 0);

  set_instance (home, local);
  run_ok (&added, home, input, add);
  run_ok (&synced, home, NULL, sync);

  /* Pulled, resolved here, pushed: one tree on both ends, no conflict. */
  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    ps_test_assert_same_rev_trees (a, databases[d], b, databases[d]);
  g_assert_cmpuint (ps_test_peer_count_conflicts (a, databases[0]), ==, 0);
  g_assert_cmpuint (ps_test_peer_count_conflicts (b, databases[0]), ==, 0);

  run_ok (&journaled, home, NULL, journal);
  /* Each record edited on both ends has its resolution in the journal. */
  g_assert_cmpuint (count_occurrences (journaled.out, "\"kind\" : \"resolution\""), ==, N_RECORDS / 4);
  ps_test_remove_dir (home);
}

static void
test_resolve (void)
{
  g_autofree char *url = ps_test_couch_server_db_url (local, "resolve_me");
  g_autoptr(GRand) rand = g_rand_new_with_seed (32);
  g_autoptr(JsonArray) docs = json_array_new ();
  g_autoptr(JsonArray) leaves = json_array_new ();
  const char * const args[] = { "resolve", url, NULL };
  g_auto(PsCliResult) result = { 0, };
  PsTestPeer *a = ps_test_couch_server_get_peer (local);

  ps_test_couch_server_fresh_db (local, "resolve_me");
  for (guint i = 0; i < 30; i++)
    {
      g_autoptr(JsonNode) record = ps_record_generator_child (rand, i);
      g_autoptr(JsonArray) conflict = ps_record_generator_conflict_leaves (rand, record, 2);

      json_array_add_element (docs, json_node_copy (record));
      for (guint j = 0; j < json_array_get_length (conflict); j++)
        json_array_add_element (leaves, json_node_copy (json_array_get_element (conflict, j)));
    }
  ps_test_peer_put_docs (a, "resolve_me", docs, FALSE);
  ps_test_peer_put_docs (a, "resolve_me", leaves, FALSE);
  g_assert_cmpuint (ps_test_peer_count_conflicts (a, "resolve_me"), ==, 30);

  run_ok (&result, NULL, NULL, args);
  g_assert_cmpuint (ps_test_peer_count_conflicts (a, "resolve_me"), ==, 0);
}

static void
assert_line (PsCliResult *result,
             const char  *mark,
             const char  *title,
             const char  *says)
{
  g_auto(GStrv) lines = g_strsplit (result->out, "\n", -1);
  g_autofree char *start = g_strdup_printf ("%s %s", mark, title);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], start) && (says == NULL || strstr (lines[i], says) != NULL))
        return;
    }

  g_error ("no line “%s…%s” in:\n%s", start, says != NULL ? says : "", result->out);
}

/* CouchDB answers a wrong password with 401 and its own body, and a
 * missing database with 404: each is named in plain words.
 */
static void
test_diagnose (void)
{
  const char *url = ps_test_couch_server_get_url (remote);
  g_autofree char *input = password_line (remote);
  const char * const args[] = { "diagnose", url, "--username",
                                ps_test_couch_server_get_user (remote), "--password-stdin",
                                "--database", "primero_child_production",
                                "--database", "primero_missing_production", NULL };
  g_auto(PsCliResult) wrong = { 0, };
  g_auto(PsCliResult) missing = { 0, };

  ps_test_couch_server_fresh_db (remote, "primero_child_production");

  ps_test_run_cli (&wrong, NULL, "not-the-password\n", args);
  g_assert_cmpint (wrong.status, ==, 1);
  assert_no_password (&wrong);
  assert_line (&wrong, "✔", "CouchDB server", NULL);
  assert_line (&wrong, "✘", "Login", "refused the user name “admin” or its password.");

  ps_test_run_cli (&missing, NULL, input, args);
  g_assert_cmpint (missing.status, ==, 1);
  assert_no_password (&missing);
  assert_line (&missing, "✔", "Login", NULL);
  assert_line (&missing, "✔", "Database primero_child_production", NULL);
  assert_line (&missing, "✘", "Database primero_missing_production", NULL);
}

/* A file exported from one CouchDB and imported into another carries every
 * revision, and the conflicts it makes are resolved.
 */
static void
test_sync_file_round_trip (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ps-couchdb-file-XXXXXX", NULL);
  g_autofree char *source_home = g_build_filename (dir, "source", NULL);
  g_autofree char *target_home = g_build_filename (dir, "target", NULL);
  g_autofree char *passphrase = g_build_filename (dir, "passphrase", NULL);
  g_autofree char *path = g_build_filename (dir, "all.primero-sync", NULL);
  const char * const export_all[] = { "export", "--all", "--to", path,
                                      "--passphrase-file", passphrase, NULL };
  const char * const import_file[] = { "import", path, "--passphrase-file", passphrase, NULL };
  g_auto(PsCliResult) exported = { 0, };
  g_auto(PsCliResult) imported = { 0, };
  g_autoptr(GHashTable) source_trees = NULL;
  g_autoptr(GHashTable) target_trees = NULL;
  g_autoptr(GError) error = NULL;
  GHashTableIter iter;
  gpointer id;

  g_file_set_contents (passphrase, PASSPHRASE "\n", -1, &error);
  g_assert_no_error (error);
  fill_both_ends (33);

  set_instance (source_home, local);
  set_instance (target_home, remote);
  run_ok (&exported, source_home, NULL, export_all);
  run_ok (&imported, target_home, NULL, import_file);
  g_assert_nonnull (strstr (imported.out, "Imported"));
  g_assert_null (strstr (imported.out, PASSPHRASE));

  /* Every record of the source is on the target, its conflicts resolved. */
  source_trees = ps_test_peer_rev_trees (ps_test_couch_server_get_peer (local), databases[0]);
  target_trees = ps_test_peer_rev_trees (ps_test_couch_server_get_peer (remote), databases[0]);
  g_assert_cmpuint (g_hash_table_size (source_trees), ==, N_RECORDS);
  g_hash_table_iter_init (&iter, source_trees);
  while (g_hash_table_iter_next (&iter, &id, NULL))
    g_assert_true (g_hash_table_contains (target_trees, id));
  g_assert_cmpuint (ps_test_peer_count_conflicts (ps_test_couch_server_get_peer (remote),
                                                  databases[0]), ==, 0);
  ps_test_remove_dir (dir);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  if (ps_test_couch_skip_if_absent ())
    return 0;

  g_test_add_func ("/ps/couchdb/sync/two-way", test_two_way_sync);
  g_test_add_func ("/ps/couchdb/sync/resolve", test_resolve);
  g_test_add_func ("/ps/couchdb/sync/diagnose", test_diagnose);
  g_test_add_func ("/ps/couchdb/sync/sync-file-round-trip", test_sync_file_round_trip);

  local = ps_test_couch_server_new (2);
  remote = ps_test_couch_server_new (3);
  status = g_test_run ();
  g_clear_pointer (&local, ps_test_couch_server_free);
  g_clear_pointer (&remote, ps_test_couch_server_free);
  return status;
}

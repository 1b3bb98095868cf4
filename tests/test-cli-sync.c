/* test-cli-sync.c: `primero-sync-cli sync` as a user runs it: a configured
 * server, its password in a real keyring, both ends real CouchDB-compatible
 * servers.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-record-generator.h"
#include "ps-test-cli.h"
#include "ps-test-peer.h"

#include <string.h>

#define ADMIN         "admin"
#define TEST_PASSWORD "Heron-Basalt-6127"
#define N_RECORDS     6

static const char * const databases[] = {
  "primero_child_production",
  "primero_incident_production",
  "primero_tracing_request_production",
};

/* This instance has cases the server lacks; the CLI knows both. */
static GPtrArray *
set_up_instances (PsTestPeer *local,
                  PsTestPeer *remote)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  const char * const instance[] = { "instance", "set", "--url", ps_test_peer_get_url (local),
                                    NULL };
  const char * const add[] = { "server", "add", "--description", "Field office",
                               "--url", ps_test_peer_get_url (remote),
                               "--username", ADMIN, "--password-stdin", NULL };
  g_auto(PsCliResult) set = { 0, };
  g_auto(PsCliResult) added = { 0, };

  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    {
      ps_test_peer_create_db (local, databases[d]);
      ps_test_peer_create_db (remote, databases[d]);
    }
  for (guint i = 0; i < N_RECORDS; i++)
    g_ptr_array_add (records, ps_record_generator_child (rand, i));
  ps_test_peer_put_records (local, databases[0], records);

  ps_test_run_cli (&set, NULL, NULL, instance);
  g_assert_cmpint (set.status, ==, 0);
  ps_test_run_cli (&added, NULL, TEST_PASSWORD "\n", add);
  g_assert_cmpint (added.status, ==, 0);

  return records;
}

static guint
count_lines (const char *text)
{
  guint lines = 0;

  for (const char *c = text; *c != '\0'; c++)
    lines += *c == '\n';

  return lines;
}

static void
test_metered_asks_for_leave (void)
{
  g_autoptr(PsTestPeer) local = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) remote = ps_test_peer_new_with_admin (TRUE, ADMIN, TEST_PASSWORD);
  g_autoptr(GPtrArray) records = set_up_instances (local, remote);
  g_autofree char *modules = g_strconcat ("GIO_EXTRA_MODULES=",
                                          g_getenv ("PS_TEST_METERED_MODULE_DIR"), NULL);
  const char * const metered[] = { modules, "GIO_USE_NETWORK_MONITOR=ps-test-metered", NULL };
  const PsCliOptions options = { .env = metered };
  const char * const sync[] = { "sync", "Field office", NULL };
  const char * const sync_anyway[] = { "sync", "Field office", "--allow-metered", NULL };
  const char * const allow[] = { "server", "edit", "Field office", "--allow-metered", NULL };
  g_auto(PsCliResult) refused = { 0, };
  g_auto(PsCliResult) anyway = { 0, };
  g_auto(PsCliResult) allowed = { 0, };
  g_auto(PsCliResult) again = { 0, };

  g_assert_nonnull (g_getenv ("PS_TEST_METERED_MODULE_DIR"));

  /* A one-shot sync on a metered network is refused, in one plain line
   * that says how to go ahead, and nothing moves.
   */
  ps_test_run_cli_full (&refused, &options, sync);
  g_assert_cmpint (refused.status, ==, 1);
  g_assert_cmpstr (refused.out, ==, "");
  g_assert_true (g_str_has_prefix (refused.err, "Error: this connection may cost money"));
  g_assert_nonnull (strstr (refused.err, "Field office"));
  g_assert_nonnull (strstr (refused.err, "--allow-metered"));
  g_assert_cmpuint (count_lines (refused.err), ==, 1);
  for (guint i = 0; i < records->len; i++)
    {
      JsonObject *record = json_node_get_object (g_ptr_array_index (records, i));

      g_assert_false (ps_test_peer_has_doc (remote, databases[0],
                                            json_object_get_string_member (record, "_id")));
    }

  /* --allow-metered syncs all the same. */
  ps_test_run_cli_full (&anyway, &options, sync_anyway);
  g_assert_cmpint (anyway.status, ==, 0);
  g_assert_nonnull (strstr (anyway.out, "Field office: Up to date"));
  g_assert_cmpstr (anyway.err, ==, "");
  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    ps_test_assert_same_rev_trees (local, databases[d], remote, databases[d]);

  /* So does a server allowed to sync over metered connections, as the
   * message advised.
   */
  ps_test_run_cli (&allowed, NULL, NULL, allow);
  g_assert_cmpint (allowed.status, ==, 0);
  ps_test_run_cli_full (&again, &options, sync);
  g_assert_cmpint (again.status, ==, 0);
  g_assert_nonnull (strstr (again.out, "Field office: Up to date"));
  ps_test_peer_assert_alive (local);
  ps_test_peer_assert_alive (remote);
}

/* A refused password fails the sync and says how to mend it; following
 * the advice mends it.
 */
static void
test_refused_password_says_how_to_mend (void)
{
  g_autoptr(PsTestPeer) local = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) remote = ps_test_peer_new_with_admin (TRUE, ADMIN, TEST_PASSWORD);
  g_autoptr(GPtrArray) records = set_up_instances (local, remote);
  const char * const wrong[] = { "server", "edit", "Field office", "--password-stdin", NULL };
  const char * const sync[] = { "sync", "Field office", NULL };
  g_auto(PsCliResult) changed = { 0, };
  g_auto(PsCliResult) refused = { 0, };
  g_auto(PsCliResult) mended = { 0, };
  g_auto(PsCliResult) synced = { 0, };

  ps_test_run_cli (&changed, NULL, "not-the-password\n", wrong);
  g_assert_cmpint (changed.status, ==, 0);

  ps_test_run_cli (&refused, NULL, NULL, sync);
  g_assert_cmpint (refused.status, ==, 1);
  g_assert_nonnull (strstr (refused.err, "Error: sync with Field office failed"));
  g_assert_null (strstr (refused.err, "not-the-password"));
  g_assert_nonnull (strstr (refused.err, "--password-stdin"));

  ps_test_run_cli (&mended, NULL, TEST_PASSWORD "\n", wrong);
  g_assert_cmpint (mended.status, ==, 0);
  ps_test_run_cli (&synced, NULL, NULL, sync);
  g_assert_cmpint (synced.status, ==, 0);
  g_assert_null (strstr (synced.err, "--password-stdin"));
  ps_test_assert_same_rev_trees (local, databases[0], remote, databases[0]);
}

/* A second server, "Head office", on @remote. */
static void
add_head_office (PsTestPeer *remote)
{
  const char * const add[] = { "server", "add", "--description", "Head office",
                               "--url", ps_test_peer_get_url (remote),
                               "--username", ADMIN, "--password-stdin", NULL };
  g_auto(PsCliResult) added = { 0, };

  ps_test_run_cli (&added, NULL, TEST_PASSWORD "\n", add);
  g_assert_cmpint (added.status, ==, 0);
}

/* Each server's outcome is on disk when the command ends, also the
 * outcomes of servers that finished right after another was saved.
 */
static void
test_status_after_sync_all (void)
{
  g_autoptr(PsTestPeer) local = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) remote = ps_test_peer_new_with_admin (TRUE, ADMIN, TEST_PASSWORD);
  g_autoptr(GPtrArray) records = set_up_instances (local, remote);
  const char * const sync[] = { "sync", "--all", "--once", NULL };
  const char * const status[] = { "sync", "--status", "--json", NULL };
  g_auto(PsCliResult) synced = { 0, };
  g_auto(PsCliResult) shown = { 0, };
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *servers;

  add_head_office (remote);
  ps_test_run_cli (&synced, NULL, NULL, sync);
  g_assert_cmpint (synced.status, ==, 0);

  ps_test_run_cli (&shown, NULL, NULL, status);
  g_assert_cmpint (shown.status, ==, 0);
  root = json_from_string (shown.out, &error);
  g_assert_no_error (error);
  servers = json_node_get_array (root);
  g_assert_cmpuint (json_array_get_length (servers), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *server = json_array_get_object_element (servers, i);

      g_test_message ("%s: %s", json_object_get_string_member (server, "description"),
                      json_object_get_string_member_with_default (server, "last-outcome",
                                                                  "(none)"));
      g_assert_cmpstr (json_object_get_string_member_with_default (server, "last-outcome",
                                                                   NULL), ==, "Up to date");
      g_assert_cmpint (json_object_get_int_member (server, "last-sync-time"), >, 0);
    }
}

/* The lines of @text that say how the last sync went. */
static char *
last_sync_lines (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  GString *kept = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "Last "))
      g_string_append_printf (kept, "%s\n", lines[i]);

  return g_string_free (kept, FALSE);
}

static JsonObject *
parse_object (const char *text,
              JsonNode  **root)
{
  g_autoptr(GError) error = NULL;

  *root = json_from_string (text, &error);
  g_assert_no_error (error);
  if (JSON_NODE_HOLDS_ARRAY (*root))
    return json_array_get_object_element (json_node_get_array (*root), 0);
  return json_node_get_object (*root);
}

static void
assert_same_member (JsonObject *a,
                    JsonObject *b,
                    const char *name)
{
  JsonNode *in_a = json_object_get_member (a, name);
  JsonNode *in_b = json_object_get_member (b, name);

  g_assert_nonnull (in_a);
  g_assert_nonnull (in_b);
  g_assert_true (json_node_equal (in_a, in_b));
}

/* `server show` and `sync --status` tell the same of the last sync, for a
 * server synced and for one never synced.
 */
static void
test_status_agrees_with_server_show (void)
{
  g_autoptr(PsTestPeer) local = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) remote = ps_test_peer_new_with_admin (TRUE, ADMIN, TEST_PASSWORD);
  g_autoptr(GPtrArray) records = set_up_instances (local, remote);
  const char * const sync[] = { "sync", "--once", "Field office", NULL };
  const char * const names[] = { "Field office", "Head office" };
  g_auto(PsCliResult) synced = { 0, };

  add_head_office (remote);
  ps_test_run_cli (&synced, NULL, NULL, sync);
  g_assert_cmpint (synced.status, ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const char * const show[] = { "server", "show", names[i], NULL };
      const char * const show_json[] = { "server", "show", "--json", names[i], NULL };
      const char * const status[] = { "sync", "--status", names[i], NULL };
      const char * const status_json[] = { "sync", "--status", "--json", names[i], NULL };
      g_auto(PsCliResult) shown = { 0, };
      g_auto(PsCliResult) shown_json = { 0, };
      g_auto(PsCliResult) told = { 0, };
      g_auto(PsCliResult) told_json = { 0, };
      g_autofree char *shown_lines = NULL;
      g_autofree char *told_lines = NULL;
      g_autoptr(JsonNode) shown_root = NULL;
      g_autoptr(JsonNode) told_root = NULL;
      JsonObject *shown_object;
      JsonObject *told_object;

      ps_test_run_cli (&shown, NULL, NULL, show);
      ps_test_run_cli (&shown_json, NULL, NULL, show_json);
      ps_test_run_cli (&told, NULL, NULL, status);
      ps_test_run_cli (&told_json, NULL, NULL, status_json);
      g_assert_cmpint (shown.status, ==, 0);
      g_assert_cmpint (shown_json.status, ==, 0);
      g_assert_cmpint (told.status, ==, 0);
      g_assert_cmpint (told_json.status, ==, 0);

      shown_lines = last_sync_lines (shown.out);
      told_lines = last_sync_lines (told.out);
      g_test_message ("%s:\n%s", names[i], told_lines);
      g_assert_cmpstr (told_lines, !=, "");
      g_assert_cmpstr (shown_lines, ==, told_lines);

      shown_object = parse_object (shown_json.out, &shown_root);
      told_object = parse_object (told_json.out, &told_root);
      assert_same_member (shown_object, told_object, "last-outcome");
      assert_same_member (shown_object, told_object, "last-sync-time");
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/cli/sync/metered-asks-for-leave", test_metered_asks_for_leave);
  g_test_add_func ("/ps/cli/sync/refused-password-says-how-to-mend",
                   test_refused_password_says_how_to_mend);
  g_test_add_func ("/ps/cli/sync/status-after-sync-all", test_status_after_sync_all);
  g_test_add_func ("/ps/cli/sync/status-agrees-with-server-show",
                   test_status_agrees_with_server_show);

  return g_test_run ();
}

/* test-cli-diagnose.c: `primero-sync-cli diagnose` as a user runs it, with
 * the password of a configured server in a real keyring.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-cli-diagnose"

#include "ps-test-cli.h"
#include "ps-test-peer.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define ADMIN          "admin"
#define TEST_PASSWORD  "Saffron-Glacier-2208"
#define WRONG_PASSWORD "Pebble-Lantern-7741"

static const char * const record_dbs[] = {
  "primero_child_production",
  "primero_incident_production",
  "primero_tracing_request_production",
  NULL
};

static void
assert_no_password (PsCliResult *result)
{
  const char *passwords[] = { TEST_PASSWORD, WRONG_PASSWORD };

  for (guint i = 0; i < G_N_ELEMENTS (passwords); i++)
    {
      g_assert_null (strstr (result->out, passwords[i]));
      g_assert_null (strstr (result->err, passwords[i]));
    }
}

static void
assert_line (PsCliResult  *result,
             const char *mark,
             const char *title,
             const char *says)
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

static PsTestPeer *
new_peer_with_databases (void)
{
  PsTestPeer *peer = ps_test_peer_new_with_admin (TRUE, ADMIN, TEST_PASSWORD);

  for (guint i = 0; record_dbs[i] != NULL; i++)
    ps_test_peer_create_db (peer, record_dbs[i]);

  return peer;
}

static JsonObject *
parse_report (PsCliResult *result)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = json_from_string (result->out, &error);

  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

static const char *
check_verdict (JsonObject *report,
               const char *id)
{
  JsonArray *checks = json_object_get_array_member (report, "checks");

  for (guint i = 0; i < json_array_get_length (checks); i++)
    {
      JsonObject *check = json_array_get_object_element (checks, i);

      if (g_str_equal (json_object_get_string_member (check, "id"), id))
        return json_object_get_string_member (check, "verdict");
    }

  return NULL;
}

static void
test_help (void)
{
  const char * const args[] = { "diagnose", "--help", NULL };
  const char * const top[] = { "--help", NULL };
  const char *options[] = { "--username", "--password-stdin", "--json", "--database",
                            "--timeout" };
  g_auto(PsCliResult) result = { 0, };
  g_auto(PsCliResult) top_result = { 0, };

  ps_test_run_cli (&result, NULL, NULL, args);
  g_assert_cmpint (result.status, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (options); i++)
    g_assert_nonnull (strstr (result.out, options[i]));

  ps_test_run_cli (&top_result, NULL, NULL, top);
  g_assert_cmpint (top_result.status, ==, 0);
  g_assert_nonnull (strstr (top_result.out, "diagnose"));
}

static void
test_usage_errors (void)
{
  const char * const none[] = { "diagnose", NULL };
  const char * const stdin_alone[] = { "diagnose", "http://127.0.0.1:5984", "--password-stdin",
                                       NULL };
  const char * const unknown[] = { "diagnose", "Nowhere", NULL };
  g_auto(PsCliResult) result = { 0, };
  g_auto(PsCliResult) stdin_result = { 0, };
  g_auto(PsCliResult) unknown_result = { 0, };

  ps_test_run_cli (&result, NULL, NULL, none);
  g_assert_cmpint (result.status, ==, 2);

  ps_test_run_cli (&stdin_result, NULL, TEST_PASSWORD "\n", stdin_alone);
  g_assert_cmpint (stdin_result.status, ==, 2);
  g_assert_nonnull (strstr (stdin_result.err, "--username"));

  /* A name that is neither a configured server nor an address. */
  ps_test_run_cli (&unknown_result, NULL, NULL, unknown);
  g_assert_cmpint (unknown_result.status, ==, 1);
  g_assert_nonnull (strstr (unknown_result.err, "Nowhere"));
}

static void
test_url_with_password_stdin (void)
{
  g_autoptr(PsTestPeer) peer = new_peer_with_databases ();
  const char *url = ps_test_peer_get_url (peer);
  const char * const json_args[] = { "diagnose", url, "--username", ADMIN, "--password-stdin",
                                     "--json", NULL };
  const char * const text_args[] = { "diagnose", url, "--username", ADMIN, "--password-stdin",
                                     NULL };
  g_auto(PsCliResult) result = { 0, };
  g_auto(PsCliResult) wrong = { 0, };
  g_autoptr(JsonObject) report = NULL;

  ps_test_run_cli (&result, NULL, TEST_PASSWORD "\n", json_args);
  g_assert_cmpint (result.status, ==, 0);
  assert_no_password (&result);
  report = parse_report (&result);
  g_assert_cmpstr (json_object_get_string_member (report, "verdict"), ==, "pass");
  g_assert_true (json_object_get_boolean_member (report, "ok"));
  g_assert_cmpstr (json_object_get_string_member (report, "username"), ==, ADMIN);
  g_assert_cmpstr (check_verdict (report, "credentials"), ==, "pass");
  g_assert_cmpstr (check_verdict (report, "database:primero_child_production"), ==, "pass");
  g_assert_cmpstr (check_verdict (report, "tls"), ==, "skipped");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (report, "checks")),
                    ==, 12);

  ps_test_run_cli (&wrong, NULL, WRONG_PASSWORD "\n", text_args);
  g_assert_cmpint (wrong.status, ==, 1);
  assert_no_password (&wrong);
  assert_line (&wrong, "✔", "CouchDB server", "PouchDB Server");
  assert_line (&wrong, "✘", "Login", "refused the user name “admin” or its password. → ");
  assert_line (&wrong, "–", "Database primero_child_production", "Not checked");
  assert_line (&wrong, "✘", "Advice", "Start with “Login”");
  ps_test_peer_assert_alive (peer);
}

static void
test_closed_port (void)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) closed = NULL;
  g_autofree char *url = NULL;
  g_auto(PsCliResult) result = { 0, };

  closed = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert_true (g_socket_bind (closed, any_port, TRUE, NULL));
  bound = g_socket_get_local_address (closed, NULL);
  url = g_strdup_printf ("http://127.0.0.1:%u",
                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));

  {
    const char * const args[] = { "diagnose", url, NULL };

    ps_test_run_cli (&result, NULL, NULL, args);
  }
  g_assert_cmpint (result.status, ==, 1);
  assert_line (&result, "✔", "Address", NULL);
  assert_line (&result, "✘", "Connection to port", "refused the connection");
  assert_line (&result, "–", "Login", "no connection could be made");
}

static char *
add_server (const char *url)
{
  const char * const add[] = { "server", "add", "--description", "Field office", "--url", url,
                               "--username", ADMIN, "--password-stdin", NULL };
  const char * const list[] = { "server", "list", "--json", NULL };
  g_auto(PsCliResult) added = { 0, };
  g_auto(PsCliResult) listed = { 0, };
  g_autoptr(JsonNode) servers = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *first;

  ps_test_run_cli (&added, NULL, TEST_PASSWORD "\n", add);
  g_assert_cmpint (added.status, ==, 0);

  ps_test_run_cli (&listed, NULL, NULL, list);
  g_assert_cmpint (listed.status, ==, 0);
  servers = json_from_string (listed.out, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (servers));
  first = json_array_get_element (json_node_get_array (servers), 0);
  return g_strdup (json_object_get_string_member (json_node_get_object (first), "id"));
}

static void
test_configured_server_from_keyring (void)
{
  g_autoptr(PsTestPeer) peer = new_peer_with_databases ();
  g_autofree char *id = add_server (ps_test_peer_get_url (peer));
  const char * const by_name[] = { "diagnose", "Field office", NULL };
  const char * const by_id[] = { "diagnose", id, "--json", NULL };
  const char * const edit[] = { "server", "edit", id, "--password-stdin", NULL };
  g_auto(PsCliResult) result = { 0, };
  g_auto(PsCliResult) json = { 0, };
  g_auto(PsCliResult) edited = { 0, };
  g_auto(PsCliResult) refused = { 0, };
  g_autoptr(JsonObject) report = NULL;

  /* Nothing on standard input: the password comes from the keyring. */
  ps_test_run_cli (&result, NULL, NULL, by_name);
  g_assert_cmpint (result.status, ==, 0);
  assert_no_password (&result);
  assert_line (&result, "✔", "CouchDB server", "PouchDB Server");
  assert_line (&result, "✔", "Login", "Logged in as “admin”");
  for (guint i = 0; record_dbs[i] != NULL; i++)
    {
      g_autofree char *title = g_strconcat ("Database ", record_dbs[i], NULL);

      assert_line (&result, "✔", title, "accepts writes");
    }
  assert_line (&result, "✔", "Clock", NULL);
  assert_line (&result, "✔", "Speed", "Median round trip");
  assert_line (&result, "✔", "Advice", "Everything a sync needs works");

  ps_test_run_cli (&json, NULL, NULL, by_id);
  g_assert_cmpint (json.status, ==, 0);
  assert_no_password (&json);
  report = parse_report (&json);
  g_assert_cmpstr (json_object_get_string_member (report, "verdict"), ==, "pass");

  /* A password changed on one side only. */
  ps_test_run_cli (&edited, NULL, WRONG_PASSWORD "\n", edit);
  g_assert_cmpint (edited.status, ==, 0);
  ps_test_run_cli (&refused, NULL, NULL, by_name);
  g_assert_cmpint (refused.status, ==, 1);
  assert_no_password (&refused);
  assert_line (&refused, "✘", "Login", "refused");
  ps_test_peer_assert_alive (peer);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/cli/diagnose/help", test_help);
  g_test_add_func ("/ps/cli/diagnose/usage-errors", test_usage_errors);
  g_test_add_func ("/ps/cli/diagnose/url-password-stdin", test_url_with_password_stdin);
  g_test_add_func ("/ps/cli/diagnose/closed-port", test_closed_port);
  g_test_add_func ("/ps/cli/diagnose/configured-server-keyring",
                   test_configured_server_from_keyring);

  return g_test_run ();
}

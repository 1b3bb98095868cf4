/* test-cli-replicate.c: `primero-sync-cli replicate` as a user runs it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-fake-couch.h"
#include "ps-test-cli.h"
#include "ps-test-peer.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define DB "primero_child_production"
#define TEST_PASSWORD "Zebra-Orchid-4471"

static void
assert_no_password (PsCliResult *result)
{
  g_assert_null (strstr (result->out, TEST_PASSWORD));
  g_assert_null (strstr (result->err, TEST_PASSWORD));
}

static void
test_help_documents_options (void)
{
  const char *args[] = { "replicate", "--help", NULL };
  const char *options[] = { "--continuous", "--create-target", "--json", "--source-user",
                            "--target-user", "--password-file" };
  const char *top[] = { "--help", NULL };
  PsCliResult result;

  ps_test_run_cli (&result, NULL, NULL, args);
  g_assert_cmpint (result.status, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (options); i++)
    g_assert_nonnull (strstr (result.out, options[i]));
  ps_cli_result_clear (&result);

  ps_test_run_cli (&result, NULL, NULL, top);
  g_assert_cmpint (result.status, ==, 0);
  g_assert_nonnull (strstr (result.out, "replicate"));
  ps_cli_result_clear (&result);
}

static void
test_json_report_and_password_prompt (void)
{
  g_autoptr(PsTestPeer) source = ps_test_peer_new_with_admin (TRUE, "admin", TEST_PASSWORD);
  g_autoptr(PsTestPeer) target = ps_test_peer_new (TRUE);
  g_autoptr(JsonArray) docs = json_array_new ();
  g_autofree char *source_url = ps_test_peer_db_url (source, DB);
  g_autofree char *target_url = ps_test_peer_db_url (target, DB);
  g_autoptr(JsonNode) report = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *object;
  PsCliResult result;

  ps_test_peer_create_db (source, DB);
  for (guint i = 0; i < 12; i++)
    {
      JsonObject *doc = json_object_new ();
      g_autofree char *id = g_strdup_printf ("case-%u", i);

      json_object_set_string_member (doc, "_id", id);
      json_array_add_object_element (docs, doc);
    }
  ps_test_peer_put_docs (source, DB, docs, TRUE);

  {
    const char *args[] = { "replicate", source_url, target_url, "--create-target", "--json",
                           "--source-user", "admin", NULL };

    /* The password comes on standard input, never in the arguments. */
    ps_test_run_cli (&result, NULL, TEST_PASSWORD "\n", args);
  }
  g_assert_cmpint (result.status, ==, 0);
  assert_no_password (&result);
  report = json_from_string (result.out, &error);
  g_assert_no_error (error);
  object = json_node_get_object (report);
  g_assert_true (json_object_get_boolean_member (object, "ok"));
  g_assert_cmpint (json_object_get_int_member (object, "docs_written"), ==, 12);
  g_assert_cmpint (json_object_get_int_member (object, "docs_read"), ==, 12);
  g_assert_cmpint (json_object_get_int_member (object, "doc_write_failures"), ==, 0);
  g_assert_true (json_object_has_member (object, "missing_checked"));
  g_assert_true (json_object_has_member (object, "missing_found"));
  ps_cli_result_clear (&result);
}

static void
test_wrong_password (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new_with_admin (TRUE, "admin", "the-right-one");
  g_autofree char *url = NULL;
  g_autofree char *target = NULL;
  PsCliResult result;

  ps_test_peer_create_db (peer, DB);
  url = g_strdup_printf ("http://admin:%s@127.0.0.1:%u/" DB, TEST_PASSWORD,
                         ps_test_peer_get_port (peer));
  target = ps_test_peer_db_url (peer, "copy");
  {
    const char *args[] = { "replicate", url, target, NULL };

    ps_test_run_cli (&result, NULL, NULL, args);
  }
  g_assert_cmpint (result.status, ==, 1);
  g_assert_nonnull (strstr (result.err, "password was refused"));
  g_assert_nonnull (strstr (result.err, "admin@127.0.0.1"));
  assert_no_password (&result);
  ps_cli_result_clear (&result);
}

static void
expect_failure (const char *source,
                const char *target,
                int         status,
                const char *says)
{
  const char *args[] = { "replicate", source, target, NULL };
  PsCliResult result;

  ps_test_run_cli (&result, NULL, NULL, args);
  g_assert_cmpint (result.status, ==, status);
  g_assert_nonnull (strstr (result.err, says));
  assert_no_password (&result);
  ps_cli_result_clear (&result);
}

static void
test_bad_input (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new (TRUE);
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(GSocket) closed = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *good = NULL;
  g_autofree char *missing = NULL;
  g_autofree char *closed_url = NULL;
  g_autofree char *html_url = ps_fake_couch_url (fake, "/web");
  g_autofree char *garbage_url = ps_fake_couch_url (fake, "/garbage");
  g_autofree char *secret_url = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);

  ps_test_peer_create_db (peer, DB);
  good = ps_test_peer_db_url (peer, DB);
  missing = ps_test_peer_db_url (peer, "no_such_database");

  /* A port that was free a moment ago: nothing listens there. */
  closed = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert_true (g_socket_bind (closed, any_port, TRUE, NULL));
  bound = g_socket_get_local_address (closed, NULL);
  closed_url = g_strdup_printf ("http://127.0.0.1:%u/" DB,
                                g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  secret_url = g_strdup_printf ("http://admin:%s@127.0.0.1:%u/" DB, TEST_PASSWORD,
                                g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));

  ps_fake_couch_route (fake, "GET", "/web", 200, "text/html",
                       "<html><head><title>Primero</title></head><body>Log in</body></html>");
  ps_fake_couch_route (fake, "GET", "/garbage", 200, NULL, "{\"db_name\":[");

  expect_failure ("127.0.0.1:5984/" DB, good, 2, "https://");
  expect_failure (closed_url, good, 1, "refused");
  expect_failure (secret_url, good, 1, "refused");
  expect_failure (good, missing, 1, "does not exist");
  expect_failure (missing, good, 1, "does not exist");
  expect_failure (html_url, good, 1, "web page");
  expect_failure (garbage_url, good, 1, "not valid JSON");
  expect_failure ("http://primero.invalid/" DB, good, 1, "could not be found");
  ps_test_peer_assert_alive (peer);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/cli/replicate/help", test_help_documents_options);
  g_test_add_func ("/ps/cli/replicate/json-report", test_json_report_and_password_prompt);
  g_test_add_func ("/ps/cli/replicate/wrong-password", test_wrong_password);
  g_test_add_func ("/ps/cli/replicate/bad-input", test_bad_input);

  return g_test_run ();
}

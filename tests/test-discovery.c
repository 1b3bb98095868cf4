/* test-discovery.c: adding a server by the address of its Primero
 * application finds the CouchDB behind it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-discovery.h"
#include "ps-fake-couch.h"
#include "ps-server-store.h"

#include <gio/gio.h>
#include <string.h>

typedef struct
{
  char     *out;
  char     *err;
  gboolean  done;
} Output;

static void
on_communicated_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Output *output = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (object), result, &output->out,
                                        &output->err, &error);
  g_assert_no_error (error);
  output->done = TRUE;
}

/* Runs `server add` while this process serves the fake application. */
static int
add_server_with (const char *url,
                 const char *extra,
                 Output     *output)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;

  /* The child uses this test's isolated directories. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", g_get_user_config_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", g_get_user_state_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", g_get_user_data_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "HOME", g_get_home_dir (), TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error,
                                         g_getenv ("PS_CLI"), "server", "add", "--description",
                                         "District office", "--url", url, "--username",
                                         "primero_admin", "--password-stdin", extra, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, "Sesame-Meadow-31\n", NULL, on_communicated_cb, output);
  while (!output->done)
    g_main_context_iteration (NULL, TRUE);
  g_subprocess_wait (process, NULL, &error);
  g_test_message ("stdout: %s\nstderr: %s", output->out, output->err);
  return g_subprocess_get_exit_status (process);
}

static int
add_server (const char *url,
            Output     *output)
{
  return add_server_with (url, NULL, output);
}

static void
test_finds_couchdb_behind_application (void)
{
  g_autoptr(PsFakeCouch) application = ps_fake_couch_new ();
  g_autoptr(PsServerStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = ps_fake_couch_url (application, "");
  g_auto(GStrv) databases = NULL;
  Output output = { 0, };
  PsServer *server;

  ps_fake_couch_route (application, "GET", "/", 200, "text/html",
                       "<!DOCTYPE html><html><body>Primero: log in</body></html>");
  ps_fake_couch_route (application, "POST", "/replications/configuration", 200, NULL,
                       "{\"target\":\"http://localhost:5984/\","
                       "\"databases\":{\"Child\":\"primero_child_district\","
                       "\"Incident\":\"primero_incident_district\","
                       "\"TracingRequest\":\"primero_tracing_request_district\"}}");

  g_assert_cmpint (add_server (url, &output), ==, 0);
  g_assert_nonnull (strstr (output.out, "keeps its records at http://127.0.0.1:5984"));
  g_assert_cmpuint (ps_fake_couch_count_requests (application, "POST", "/replications/configuration"), ==, 1);

  store = ps_server_store_new ();
  g_assert_true (ps_server_store_load (store, &error));
  g_assert_no_error (error);
  server = ps_server_store_lookup (store, "District office");
  g_assert_nonnull (server);
  g_assert_cmpstr (ps_server_get_url (server), ==, "http://127.0.0.1:5984");
  databases = ps_server_dup_database_names (server);
  g_assert_cmpuint (g_strv_length (databases), ==, 3);
  g_assert_cmpstr (databases[0], ==, "primero_child_district");
  g_assert_cmpstr (databases[2], ==, "primero_tracing_request_district");
  g_free (output.out);
  g_free (output.err);
}

static void
test_refused_by_application (void)
{
  g_autoptr(PsFakeCouch) application = ps_fake_couch_new ();
  g_autoptr(PsServerStore) store = NULL;
  g_autofree char *url = ps_fake_couch_url (application, "");
  Output output = { 0, };

  ps_fake_couch_route (application, "GET", "/", 200, "text/html", "<html>Primero</html>");
  ps_fake_couch_route (application, "POST", "/replications/configuration", 401, NULL,
                       "{\"error\":\"unauthorized\"}");

  g_assert_cmpint (add_server (url, &output), ==, 1);
  g_assert_nonnull (strstr (output.err, "refused the user name or password"));
  g_assert_null (strstr (output.err, "Sesame-Meadow-31"));

  /* Nothing was added. */
  store = ps_server_store_new ();
  ps_server_store_load (store, NULL);
  g_assert_null (ps_server_store_lookup (store, "District office"));
  g_free (output.out);
  g_free (output.err);
}

/* 400,000 `[`: deep enough to overflow the stack of a recursive parser. */
#define DEEP_ANSWER_LENGTH 400000

static void
test_deep_answer (gconstpointer data)
{
  gboolean from_application = GPOINTER_TO_INT (data);
  g_autoptr(PsFakeCouch) application = ps_fake_couch_new ();
  g_autofree char *url = ps_fake_couch_url (application, "");
  Output output = { 0, };

  if (from_application)
    {
      ps_fake_couch_route (application, "GET", "/", 200, "text/html", "<html>Primero</html>");
      ps_fake_couch_route_stream (application, "POST", "/replications/configuration", "[", "[",
                                  DEEP_ANSWER_LENGTH, TRUE);
    }
  else
    ps_fake_couch_route_stream (application, "GET", "/", "[", "[", DEEP_ANSWER_LENGTH, TRUE);

  /* A plain failure, not a crash. */
  g_assert_cmpint (add_server (url, &output), ==, 1);
  g_assert_nonnull (output.err);
  g_assert_null (strstr (output.err, "Sesame-Meadow-31"));
  g_free (output.out);
  g_free (output.err);
}

#define MIB (1024 * 1024)

static void
test_endless_answer (void)
{
  g_autoptr(PsFakeCouch) application = ps_fake_couch_new ();
  g_autofree char *url = ps_fake_couch_url (application, "");
  Output output = { 0, };

  /* Sent as it is made, with no length given. */
  ps_fake_couch_route (application, "GET", "/", 200, "text/html", "<html>Primero</html>");
  ps_fake_couch_route_stream (application, "POST", "/replications/configuration",
                              "{\"target\":\"", "a", 256 * MIB, FALSE);

  g_assert_cmpint (add_server (url, &output), ==, 1);
  g_assert_nonnull (strstr (output.err, "larger than"));
  /* Reading stopped at the limit. */
  g_test_message ("streamed %" G_GUINT64_FORMAT " bytes", ps_fake_couch_get_streamed (application));
  g_assert_cmpuint (ps_fake_couch_get_streamed (application), <, 32 * MIB);
  g_free (output.out);
  g_free (output.err);
}

/* The user's password goes to the application named, never to where it
 * redirects.
 */
static void
test_redirect_not_followed (void)
{
  g_autoptr(PsFakeCouch) application = ps_fake_couch_new ();
  g_autoptr(PsFakeCouch) elsewhere = ps_fake_couch_new ();
  g_autofree char *url = ps_fake_couch_url (application, "");
  g_autofree char *target = ps_fake_couch_url (elsewhere, "/replications/configuration");
  g_autofree char *target_host = ps_fake_couch_url (elsewhere, "");
  Output output = { 0, };

  ps_fake_couch_route (application, "GET", "/", 200, "text/html", "<html>Primero</html>");
  ps_fake_couch_route_redirect (application, "POST", "/replications/configuration", 307, target);
  ps_fake_couch_route (elsewhere, "POST", "/replications/configuration", 200, NULL,
                       "{\"target\":\"http://localhost:5984/\"}");

  g_assert_cmpint (add_server (url, &output), ==, 1);
  g_assert_cmpuint (ps_fake_couch_count_requests (elsewhere, "POST",
                                                  "/replications/configuration"), ==, 0);
  g_assert_nonnull (strstr (output.err, target_host + strlen ("http://")));
  g_assert_null (strstr (output.err, "Sesame-Meadow-31"));
  g_free (output.out);
  g_free (output.err);
}

/* What the answer changes, compared with the address the user gave. */
static void
test_compare (void)
{
  const struct {
    const char        *application;
    const char        *couch;
    PsDiscoveryChange  expected;
  } cases[] = {
    { "https://primero.example.org", "https://primero.example.org:6984/couchdb",
      PS_DISCOVERY_CHANGE_NONE },
    { "https://primero.example.org", "https://PRIMERO.example.org:6984", PS_DISCOVERY_CHANGE_NONE },
    { "http://127.0.0.1:3000", "http://127.0.0.1:5984", PS_DISCOVERY_CHANGE_NONE },
    { "https://primero.example.org", "http://primero.example.org:5984",
      PS_DISCOVERY_CHANGE_UNENCRYPTED },
    { "https://primero.example.org", "https://couch.example.net:6984",
      PS_DISCOVERY_CHANGE_OTHER_HOST },
    { "https://primero.example.org", "http://couch.example.net:5984",
      PS_DISCOVERY_CHANGE_UNENCRYPTED | PS_DISCOVERY_CHANGE_OTHER_HOST },
    { "http://primero.example.org", "http://10.0.0.7:5984", PS_DISCOVERY_CHANGE_OTHER_HOST },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("%s → %s", cases[i].application, cases[i].couch);
      g_assert_cmpint (ps_discovery_compare (cases[i].application, cases[i].couch), ==,
                       cases[i].expected);
    }
}

/* The application names a CouchDB on another host: the command says so
 * and adds nothing, unless told to take that address.
 */
static void
test_other_host_asks (void)
{
  g_autoptr(PsFakeCouch) application = ps_fake_couch_new ();
  g_autoptr(PsServerStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = ps_fake_couch_url (application, "");
  Output output = { 0, };
  PsServer *server;

  ps_fake_couch_route (application, "GET", "/", 200, "text/html", "<html>Primero</html>");
  ps_fake_couch_route (application, "POST", "/replications/configuration", 200, NULL,
                       "{\"target\":\"https://couch.elsewhere.example:6984/\"}");

  g_assert_cmpint (add_server (url, &output), ==, 1);
  g_assert_nonnull (strstr (output.err, "couch.elsewhere.example"));
  g_assert_nonnull (strstr (output.err, "--accept-discovered-url"));
  g_assert_null (strstr (output.err, "Sesame-Meadow-31"));
  g_clear_pointer (&output.out, g_free);
  g_clear_pointer (&output.err, g_free);

  store = ps_server_store_new ();
  g_assert_true (ps_server_store_load (store, &error));
  g_assert_no_error (error);
  g_assert_null (ps_server_store_lookup (store, "District office"));

  output.done = FALSE;
  g_assert_cmpint (add_server_with (url, "--accept-discovered-url", &output), ==, 0);
  g_assert_true (ps_server_store_load (store, &error));
  g_assert_no_error (error);
  server = ps_server_store_lookup (store, "District office");
  g_assert_nonnull (server);
  g_assert_cmpstr (ps_server_get_url (server), ==, "https://couch.elsewhere.example:6984");
  g_free (output.out);
  g_free (output.err);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/discovery/finds-couchdb-behind-application",
                   test_finds_couchdb_behind_application);
  g_test_add_func ("/ps/discovery/refused-by-application", test_refused_by_application);
  g_test_add_func ("/ps/discovery/compare", test_compare);
  g_test_add_func ("/ps/discovery/other-host-asks", test_other_host_asks);

  g_test_add_data_func ("/ps/discovery/deep-answer/welcome", GINT_TO_POINTER (FALSE),
                        test_deep_answer);
  g_test_add_data_func ("/ps/discovery/deep-answer/application", GINT_TO_POINTER (TRUE),
                        test_deep_answer);
  g_test_add_func ("/ps/discovery/endless-answer", test_endless_answer);
  g_test_add_func ("/ps/discovery/redirect-not-followed", test_redirect_not_followed);

  return g_test_run ();
}

/* test-diagnostics.c: connectivity checks against real faults on loopback.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-diagnostics"

#include "ps-couch-database.h"
#include "ps-diagnostics.h"
#include "ps-fake-couch.h"
#include "ps-test-peer.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define ADMIN         "admin"
#define TEST_PASSWORD "Quartz-Meadow-9317"
#define CHILD_DB      "primero_child_production"
#define INCIDENT_DB   "primero_incident_production"
#define TRACING_DB    "primero_tracing_request_production"
#define STEP_TIMEOUT  1500

static const char * const record_dbs[] = { CHILD_DB, INCIDENT_DB, TRACING_DB, NULL };

/* Running the checks */

typedef struct
{
  gboolean      done;
  GAsyncResult *result;
} Waiter;

static void
on_done_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Waiter *waiter = user_data;

  waiter->result = g_object_ref (result);
  waiter->done = TRUE;
}

static PsDiagnostics *
new_diagnostics (const char         *url,
                 const char         *username,
                 const char         *password,
                 const char         *pin,
                 const char * const *databases,
                 gboolean            continuous)
{
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  PsDiagnostics *diagnostics;

  diagnostics = ps_diagnostics_new (session, url, username, password, pin, databases,
                                    continuous);
  ps_diagnostics_set_step_timeout (diagnostics, STEP_TIMEOUT);
  return diagnostics;
}

static void
assert_no_password (PsDiagnostics *diagnostics,
                    const char    *password)
{
  g_autoptr(JsonNode) json = ps_diagnostics_to_json (diagnostics);
  g_autofree char *json_text = json_to_string (json, TRUE);
  g_autofree char *text = ps_diagnostics_to_text (diagnostics);

  g_assert_null (strstr (json_text, password));
  g_assert_null (strstr (text, password));
}

/* Runs every check; asserts the run completed with one final verdict per
 * check, appended in order.
 */
static void
run_diagnostics (PsDiagnostics *diagnostics)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  Waiter waiter = { FALSE, NULL };
  GListModel *results = ps_diagnostics_get_results (diagnostics);
  gboolean ok;

  ps_diagnostics_run_async (diagnostics, NULL, on_done_cb, &waiter);
  while (!waiter.done)
    g_main_context_iteration (NULL, TRUE);

  ok = ps_diagnostics_run_finish (diagnostics, waiter.result, &error);
  g_clear_object (&waiter.result);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_false (ps_diagnostics_get_running (diagnostics));

  text = ps_diagnostics_to_text (diagnostics);
  g_test_message ("%s", text);

  g_assert_cmpuint (g_list_model_get_n_items (results), >=, 10);
  for (guint i = 0; i < g_list_model_get_n_items (results); i++)
    {
      g_autoptr(PsDiagnosticResult) result = g_list_model_get_item (results, i);

      g_assert_true (ps_diagnostic_verdict_is_final (ps_diagnostic_result_get_verdict (result)));
      g_assert_nonnull (ps_diagnostic_result_get_explanation (result));
    }

  {
    g_autoptr(PsDiagnosticResult) first = g_list_model_get_item (results, 0);
    g_autoptr(PsDiagnosticResult) last =
      g_list_model_get_item (results, g_list_model_get_n_items (results) - 1);

    g_assert_cmpstr (ps_diagnostic_result_get_id (first), ==, "url");
    g_assert_cmpstr (ps_diagnostic_result_get_id (last), ==, "advice");
  }
}

static PsDiagnosticResult *
assert_check (PsDiagnostics       *diagnostics,
              const char          *id,
              PsDiagnosticVerdict  verdict)
{
  PsDiagnosticResult *result = ps_diagnostics_lookup_result (diagnostics, id);

  if (result == NULL)
    g_error ("no result for check “%s”", id);
  if (ps_diagnostic_result_get_verdict (result) != verdict)
    g_error ("check “%s” is %s, expected %s: %s", id,
             ps_diagnostic_verdict_to_string (ps_diagnostic_result_get_verdict (result)),
             ps_diagnostic_verdict_to_string (verdict),
             ps_diagnostic_result_get_explanation (result));

  return result;
}

static void
assert_says (PsDiagnosticResult *result,
             const char         *explanation_part,
             const char         *advice_part)
{
  if (explanation_part != NULL &&
      strstr (ps_diagnostic_result_get_explanation (result), explanation_part) == NULL)
    g_error ("“%s” explains “%s”, without “%s”", ps_diagnostic_result_get_id (result),
             ps_diagnostic_result_get_explanation (result), explanation_part);

  if (advice_part != NULL &&
      (ps_diagnostic_result_get_advice (result) == NULL ||
       strstr (ps_diagnostic_result_get_advice (result), advice_part) == NULL))
    g_error ("“%s” advises “%s”, without “%s”", ps_diagnostic_result_get_id (result),
             ps_diagnostic_result_get_advice (result), advice_part);
}

static void
assert_skipped (PsDiagnostics      *diagnostics,
                const char * const *ids)
{
  for (guint i = 0; ids[i] != NULL; i++)
    {
      PsDiagnosticResult *result = assert_check (diagnostics, ids[i], PS_DIAGNOSTIC_SKIPPED);

      assert_says (result, "Not checked", NULL);
    }
}

/* A port nothing listens on: bound, but never listening. */
static GSocket *
bind_closed_port (guint16 *port)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  GSocket *socket;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, any_port, TRUE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  return socket;
}

/* A CouchDB-like server: just enough of the protocol for every check, with
 * a clock that can be set wrong and an optional certificate.
 */

typedef struct
{
  SoupServer *server;
  guint16     port;
  gint64      clock_offset;
  GHashTable *local_docs;
  guint       writes;
  guint       removals;
} FakeCouch;

static void
fake_couch_free (FakeCouch *fake)
{
  soup_server_disconnect (fake->server);
  g_clear_object (&fake->server);
  g_clear_pointer (&fake->local_docs, g_hash_table_unref);
  g_free (fake);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeCouch, fake_couch_free)

static void
reply (SoupServerMessage *message,
       guint              status,
       const char        *body)
{
  soup_server_message_set_status (message, status, NULL);
  soup_server_message_set_response (message, "application/json", SOUP_MEMORY_COPY,
                                    body, strlen (body));
}

static gboolean
has_admin_credentials (SoupServerMessage *message)
{
  const char *header;
  g_autofree char *encoded = g_base64_encode ((const guchar *) ADMIN ":" TEST_PASSWORD,
                                              strlen (ADMIN ":" TEST_PASSWORD));
  g_autofree char *expected = g_strconcat ("Basic ", encoded, NULL);

  header = soup_message_headers_get_one (soup_server_message_get_request_headers (message),
                                         "Authorization");
  return g_strcmp0 (header, expected) == 0;
}

static void
on_fake_couch_request_cb (SoupServer        *server,
                          SoupServerMessage *message,
                          const char        *path,
                          GHashTable        *query,
                          gpointer           user_data)
{
  FakeCouch *fake = user_data;
  const char *method = soup_server_message_get_method (message);
  g_auto(GStrv) parts = g_strsplit (path + 1, "/", 2);

  if (fake->clock_offset != 0)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      g_autoptr(GDateTime) skewed = g_date_time_add_seconds (now, fake->clock_offset);
      g_autofree char *date = soup_date_time_to_string (skewed, SOUP_DATE_HTTP);

      soup_message_headers_replace (soup_server_message_get_response_headers (message),
                                    "Date", date);
    }

  if (g_str_equal (path, "/"))
    reply (message, 200, "{\"couchdb\":\"Welcome\",\"version\":\"3.3.3\"}");
  else if (g_str_equal (path, "/_session"))
    {
      SoupMessageHeaders *headers = soup_server_message_get_request_headers (message);
      const char *auth = soup_message_headers_get_one (headers, "Authorization");

      if (has_admin_credentials (message))
        reply (message, 200, "{\"ok\":true,\"userCtx\":{\"name\":\"" ADMIN "\","
                             "\"roles\":[\"_admin\"]}}");
      else if (auth != NULL)
        reply (message, 401, "{\"error\":\"unauthorized\","
                             "\"reason\":\"Name or password is incorrect.\"}");
      else
        reply (message, 200, "{\"ok\":true,\"userCtx\":{\"name\":null,\"roles\":[]}}");
    }
  else if (g_str_equal (path, "/_uuids"))
    {
      g_autoptr(GString) body = g_string_new ("{\"uuids\":[");

      for (guint i = 0; i < 1000; i++)
        g_string_append_printf (body, "%s\"%032x\"", i > 0 ? "," : "", i);
      g_string_append (body, "]}");
      reply (message, 200, body->str);
    }
  else if (!g_strv_contains (record_dbs, parts[0]))
    reply (message, 404, "{\"error\":\"not_found\",\"reason\":\"Database does not exist.\"}");
  else if (parts[1] == NULL && g_str_equal (method, "GET"))
    {
      g_autofree char *body = g_strdup_printf ("{\"db_name\":\"%s\",\"doc_count\":3}", parts[0]);

      reply (message, 200, body);
    }
  else if (g_str_has_prefix (parts[1] != NULL ? parts[1] : "", "_local/") &&
           g_str_equal (method, "PUT"))
    {
      g_autofree char *body = g_strdup_printf ("{\"ok\":true,\"id\":\"%s\",\"rev\":\"0-1\"}",
                                               parts[1]);

      g_hash_table_add (fake->local_docs, g_strdup (path));
      fake->writes++;
      reply (message, 201, body);
    }
  else if (g_str_has_prefix (parts[1] != NULL ? parts[1] : "", "_local/") &&
           g_str_equal (method, "DELETE") && g_hash_table_remove (fake->local_docs, path))
    {
      fake->removals++;
      reply (message, 200, "{\"ok\":true,\"rev\":\"0-0\"}");
    }
  else
    reply (message, 404, "{\"error\":\"not_found\",\"reason\":\"missing\"}");
}

static FakeCouch *
fake_couch_new (GTlsCertificate *certificate)
{
  g_autoptr(GError) error = NULL;
  g_autoslist(GUri) uris = NULL;
  FakeCouch *fake = g_new0 (FakeCouch, 1);
  SoupServerListenOptions options = SOUP_SERVER_LISTEN_IPV4_ONLY;

  fake->local_docs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  fake->server = soup_server_new ("tls-certificate", certificate, NULL);
  soup_server_add_handler (fake->server, NULL, on_fake_couch_request_cb, fake, NULL);
  if (certificate != NULL)
    options |= SOUP_SERVER_LISTEN_HTTPS;
  soup_server_listen_local (fake->server, 0, options, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (fake->server);
  g_assert_nonnull (uris);
  fake->port = g_uri_get_port (uris->data);

  return fake;
}

static char *
fake_couch_url (FakeCouch  *fake,
                const char *scheme)
{
  return g_strdup_printf ("%s://127.0.0.1:%u", scheme, fake->port);
}

/* A self-signed certificate, made once per run with openssl. */

typedef struct
{
  GTlsCertificate *certificate;
  char            *fingerprint;
} TestCertificate;

static TestCertificate *
get_test_certificate (void)
{
  static TestCertificate cert;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) openssl = NULL;
  g_autoptr(GByteArray) der = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *cert_path = NULL;
  g_autofree char *key_path = NULL;

  if (cert.certificate != NULL)
    return &cert;

  dir = g_dir_make_tmp ("ps-diagnostics-XXXXXX", &error);
  g_assert_no_error (error);
  cert_path = g_build_filename (dir, "cert.pem", NULL);
  key_path = g_build_filename (dir, "key.pem", NULL);

  openssl = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                              &error,
                              "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                              "-subj", "/CN=localhost", "-days", "1",
                              "-keyout", key_path, "-out", cert_path, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_check (openssl, NULL, &error);
  g_assert_no_error (error);

  cert.certificate = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_assert_no_error (error);
  g_object_get (cert.certificate, "certificate", &der, NULL);
  cert.fingerprint = g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);

  g_unlink (cert_path);
  g_unlink (key_path);
  g_rmdir (dir);

  return &cert;
}

/* A server that answers every request with a web page. */

typedef struct
{
  SoupServer *server;
  guint16     port;
  const char *page;
  const char *discovery;
  char       *form_user;
  char       *form_password;
} WebServer;

static void
web_server_free (WebServer *web)
{
  soup_server_disconnect (web->server);
  g_clear_object (&web->server);
  g_free (web->form_user);
  g_free (web->form_password);
  g_free (web);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WebServer, web_server_free)

static void
on_web_request_cb (SoupServer        *server,
                   SoupServerMessage *message,
                   const char        *path,
                   GHashTable        *query,
                   gpointer           user_data)
{
  WebServer *web = user_data;

  if (web->discovery != NULL && g_str_equal (path, "/replications/configuration") &&
      g_str_equal (soup_server_message_get_method (message), "POST"))
    {
      SoupMessageBody *body = soup_server_message_get_request_body (message);
      g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
      g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      g_autoptr(GHashTable) form = soup_form_decode (text);

      g_free (web->form_user);
      web->form_user = g_strdup (g_hash_table_lookup (form, "user_name"));
      g_free (web->form_password);
      web->form_password = g_strdup (g_hash_table_lookup (form, "password"));
      reply (message, 200, web->discovery);
      return;
    }

  soup_server_message_set_status (message, 200, NULL);
  soup_server_message_set_response (message, "text/html", SOUP_MEMORY_STATIC,
                                    web->page, strlen (web->page));
}

static WebServer *
web_server_new (const char *page,
                const char *discovery)
{
  g_autoptr(GError) error = NULL;
  g_autoslist(GUri) uris = NULL;
  WebServer *web = g_new0 (WebServer, 1);

  web->page = page;
  web->discovery = discovery;
  web->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (web->server, NULL, on_web_request_cb, web, NULL);
  soup_server_listen_local (web->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (web->server);
  web->port = g_uri_get_port (uris->data);

  return web;
}

/* A server that accepts connections and never says a word. */

static gboolean
on_silent_incoming_cb (GSocketService    *service,
                       GSocketConnection *connection,
                       GObject           *source_object,
                       gpointer           user_data)
{
  GPtrArray *held = user_data;

  g_ptr_array_add (held, g_object_ref (connection));
  return TRUE;
}

static GSocketService *
silent_server_new (GPtrArray *held,
                   guint16   *port)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;
  GSocketService *service = g_socket_service_new ();

  g_socket_listener_add_address (G_SOCKET_LISTENER (service), address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect (service, "incoming", G_CALLBACK (on_silent_incoming_cb), held);
  g_socket_service_start (service);

  return service;
}

/* The tests */

static void
test_closed_port (void)
{
  g_autoptr(GSocket) closed = NULL;
  g_autoptr(PsDiagnostics) diagnostics = NULL;
  g_autofree char *url = NULL;
  g_autofree char *port_text = NULL;
  const char * const later[] = { "tls", "http", "credentials", "database:" CHILD_DB,
                                 "database:" INCIDENT_DB, "database:" TRACING_DB, "clock",
                                 "latency", NULL };
  PsDiagnosticResult *result;
  guint16 port;

  closed = bind_closed_port (&port);
  url = g_strdup_printf ("http://127.0.0.1:%u", port);
  port_text = g_strdup_printf ("port %u", port);
  diagnostics = new_diagnostics (url, ADMIN, TEST_PASSWORD, NULL, record_dbs, TRUE);
  run_diagnostics (diagnostics);

  assert_check (diagnostics, "url", PS_DIAGNOSTIC_PASS);
  result = assert_check (diagnostics, "name-resolution", PS_DIAGNOSTIC_PASS);
  assert_says (result, "IP address", NULL);
  result = assert_check (diagnostics, "tcp", PS_DIAGNOSTIC_FAIL);
  assert_says (result, "refused", "CouchDB usually listens on 5984");
  assert_says (result, port_text, NULL);
  assert_skipped (diagnostics, later);
  result = assert_check (diagnostics, "advice", PS_DIAGNOSTIC_FAIL);
  assert_says (result, NULL, "Connection to port");
  /* A continuous server that fails: try a one-shot sync. */
  assert_says (result, NULL, "one-shot sync");
  g_assert_cmpint (ps_diagnostics_get_verdict (diagnostics), ==, PS_DIAGNOSTIC_FAIL);
  assert_no_password (diagnostics, TEST_PASSWORD);
}

static void
test_invalid_name (void)
{
  g_autoptr(PsDiagnostics) diagnostics = NULL;
  const char * const later[] = { "tcp", "tls", "http", "credentials", "clock", "latency", NULL };
  PsDiagnosticResult *result;

  diagnostics = new_diagnostics ("http://primero-sync-test.invalid:5984", ADMIN, TEST_PASSWORD,
                                 NULL, record_dbs, FALSE);
  run_diagnostics (diagnostics);

  /* http across a network is a warning, not a failure. */
  result = assert_check (diagnostics, "url", PS_DIAGNOSTIC_WARNING);
  assert_says (result, "without encryption", "https");
  result = assert_check (diagnostics, "name-resolution", PS_DIAGNOSTIC_FAIL);
  assert_says (result, "does not resolve", "spelling");
  g_assert_cmpuint (ps_diagnostic_result_get_duration_ms (result), <, STEP_TIMEOUT);
  assert_skipped (diagnostics, later);
  result = assert_check (diagnostics, "advice", PS_DIAGNOSTIC_FAIL);
  assert_says (result, NULL, "Name resolution");
  g_assert_null (strstr (ps_diagnostic_result_get_advice (result), "one-shot"));
}

static void
test_bad_addresses (void)
{
  const struct {
    const char *url;
    const char *says;
  } cases[] = {
    { "127.0.0.1:5984", "https://" },
    { "ftp://example.org", "ftp" },
    { "https://" ADMIN ":" TEST_PASSWORD "@example.org:6984", "user name or password" },
    { "https://example.org:6984/?x=1", "?" },
    { "", "No address" },
  };
  const char * const later[] = { "name-resolution", "tcp", "tls", "http", "credentials",
                                 "clock", "latency", NULL };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PsDiagnostics) diagnostics = NULL;
      PsDiagnosticResult *result;

      diagnostics = new_diagnostics (cases[i].url, NULL, NULL, NULL, record_dbs, FALSE);
      run_diagnostics (diagnostics);
      result = assert_check (diagnostics, "url", PS_DIAGNOSTIC_FAIL);
      assert_says (result, cases[i].says, NULL);
      g_assert_nonnull (ps_diagnostic_result_get_advice (result));
      assert_skipped (diagnostics, later);
      assert_no_password (diagnostics, TEST_PASSWORD);
    }
}

static void
test_self_signed_certificate (void)
{
  TestCertificate *cert = get_test_certificate ();
  g_autoptr(FakeCouch) fake = fake_couch_new (cert->certificate);
  g_autofree char *url = fake_couch_url (fake, "https");
  g_autofree char *wrong_pin = g_strnfill (64, 'a');
  const char * const later[] = { "http", "credentials", "database:" CHILD_DB, "clock",
                                 "latency", NULL };

  /* Not pinned: not trusted, and the fingerprint is shown to be confirmed. */
  {
    g_autoptr(PsDiagnostics) diagnostics = NULL;
    PsDiagnosticResult *result;
    g_autofree char *shown = NULL;

    diagnostics = new_diagnostics (url, ADMIN, TEST_PASSWORD, NULL, record_dbs, FALSE);
    run_diagnostics (diagnostics);
    assert_check (diagnostics, "tcp", PS_DIAGNOSTIC_PASS);
    result = assert_check (diagnostics, "tls", PS_DIAGNOSTIC_FAIL);
    g_assert_cmpstr (ps_diagnostic_result_get_fingerprint (result), ==, cert->fingerprint);
    g_assert_false (ps_diagnostic_result_get_fingerprint_matches (result));
    /* Shown as AB:CD:…, the form other tools print. */
    shown = g_strdup_printf ("%c%c:%c%c:", g_ascii_toupper (cert->fingerprint[0]),
                             g_ascii_toupper (cert->fingerprint[1]),
                             g_ascii_toupper (cert->fingerprint[2]),
                             g_ascii_toupper (cert->fingerprint[3]));
    assert_says (result, "self-signed", "confirm this fingerprint");
    assert_says (result, shown, NULL);
    assert_skipped (diagnostics, later);
    g_assert_cmpuint (fake->writes, ==, 0);
  }

  /* Pinned: trusted, and every later check goes through the pin. */
  {
    g_autoptr(PsDiagnostics) diagnostics = NULL;
    g_autofree char *pin = g_ascii_strup (cert->fingerprint, -1);
    PsDiagnosticResult *result;

    diagnostics = new_diagnostics (url, ADMIN, TEST_PASSWORD, pin, record_dbs, FALSE);
    run_diagnostics (diagnostics);
    assert_check (diagnostics, "url", PS_DIAGNOSTIC_PASS);
    result = assert_check (diagnostics, "tls", PS_DIAGNOSTIC_PASS);
    g_assert_cmpstr (ps_diagnostic_result_get_fingerprint (result), ==, cert->fingerprint);
    g_assert_true (ps_diagnostic_result_get_fingerprint_matches (result));
    assert_says (result, "pinned", NULL);
    result = assert_check (diagnostics, "http", PS_DIAGNOSTIC_PASS);
    assert_says (result, "CouchDB 3.3.3", NULL);
    assert_check (diagnostics, "credentials", PS_DIAGNOSTIC_PASS);
    for (guint i = 0; record_dbs[i] != NULL; i++)
      {
        g_autofree char *id = g_strconcat ("database:", record_dbs[i], NULL);

        assert_check (diagnostics, id, PS_DIAGNOSTIC_PASS);
      }
    assert_check (diagnostics, "clock", PS_DIAGNOSTIC_PASS);
    assert_check (diagnostics, "latency", PS_DIAGNOSTIC_PASS);
    g_assert_cmpint (ps_diagnostics_get_verdict (diagnostics), ==, PS_DIAGNOSTIC_PASS);
    /* The write test leaves nothing behind. */
    g_assert_cmpuint (fake->writes, ==, 3);
    g_assert_cmpuint (fake->removals, ==, 3);
    g_assert_cmpuint (g_hash_table_size (fake->local_docs), ==, 0);

    {
      g_autoptr(JsonNode) json = ps_diagnostics_to_json (diagnostics);
      JsonObject *root = json_node_get_object (json);
      JsonArray *checks = json_object_get_array_member (root, "checks");
      gboolean found = FALSE;

      g_assert_cmpstr (json_object_get_string_member (root, "verdict"), ==, "pass");
      for (guint i = 0; i < json_array_get_length (checks); i++)
        {
          JsonObject *check = json_array_get_object_element (checks, i);

          if (!g_str_equal (json_object_get_string_member (check, "id"), "tls"))
            continue;
          found = TRUE;
          g_assert_cmpstr (json_object_get_string_member (check, "fingerprint"), ==,
                           cert->fingerprint);
          g_assert_true (json_object_get_boolean_member (check, "fingerprint_matches"));
        }
      g_assert_true (found);
    }
    assert_no_password (diagnostics, TEST_PASSWORD);
  }

  /* Pinned, but another certificate: the certificate changed. */
  {
    g_autoptr(PsDiagnostics) diagnostics = NULL;
    PsDiagnosticResult *result;

    diagnostics = new_diagnostics (url, ADMIN, TEST_PASSWORD, wrong_pin, record_dbs, FALSE);
    run_diagnostics (diagnostics);
    result = assert_check (diagnostics, "tls", PS_DIAGNOSTIC_FAIL);
    g_assert_false (ps_diagnostic_result_get_fingerprint_matches (result));
    assert_says (result, "does not match", "changed since it was pinned");
    assert_skipped (diagnostics, later);
  }

  /* The port speaks http, the address says https. */
  {
    g_autoptr(FakeCouch) plain = fake_couch_new (NULL);
    g_autofree char *plain_url = fake_couch_url (plain, "https");
    g_autoptr(PsDiagnostics) diagnostics = NULL;
    PsDiagnosticResult *result;

    diagnostics = new_diagnostics (plain_url, ADMIN, TEST_PASSWORD, NULL, record_dbs, FALSE);
    run_diagnostics (diagnostics);
    result = assert_check (diagnostics, "tls", PS_DIAGNOSTIC_FAIL);
    g_assert_null (ps_diagnostic_result_get_fingerprint (result));
    assert_check (diagnostics, "http", PS_DIAGNOSTIC_SKIPPED);
  }
}

static void
test_wrong_password (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new_with_admin (TRUE, ADMIN, TEST_PASSWORD);
  g_autoptr(PsDiagnostics) diagnostics = NULL;
  const char * const dbs[] = { "database:" CHILD_DB, "database:" INCIDENT_DB,
                               "database:" TRACING_DB, NULL };
  PsDiagnosticResult *result;

  for (guint i = 0; record_dbs[i] != NULL; i++)
    ps_test_peer_create_db (peer, record_dbs[i]);

  diagnostics = new_diagnostics (ps_test_peer_get_url (peer), ADMIN, "Wrong-Horse-1234", NULL,
                                 record_dbs, FALSE);
  run_diagnostics (diagnostics);

  assert_check (diagnostics, "http", PS_DIAGNOSTIC_PASS);
  result = assert_check (diagnostics, "credentials", PS_DIAGNOSTIC_FAIL);
  assert_says (result, "refused the user name “admin” or its password", "type the password again");
  assert_skipped (diagnostics, dbs);
  /* The clock and the speed do not depend on the login. */
  assert_check (diagnostics, "clock", PS_DIAGNOSTIC_PASS);
  assert_check (diagnostics, "latency", PS_DIAGNOSTIC_PASS);
  result = assert_check (diagnostics, "advice", PS_DIAGNOSTIC_FAIL);
  assert_says (result, NULL, "Login");
  assert_no_password (diagnostics, "Wrong-Horse-1234");
  ps_test_peer_assert_alive (peer);
}

static void
test_missing_database (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new_with_admin (TRUE, ADMIN, TEST_PASSWORD);
  g_autoptr(PsDiagnostics) diagnostics = NULL;
  PsDiagnosticResult *result;

  ps_test_peer_create_db (peer, CHILD_DB);
  ps_test_peer_create_db (peer, TRACING_DB);

  diagnostics = new_diagnostics (ps_test_peer_get_url (peer), ADMIN, TEST_PASSWORD, NULL,
                                 record_dbs, FALSE);
  run_diagnostics (diagnostics);

  assert_check (diagnostics, "credentials", PS_DIAGNOSTIC_PASS);
  assert_check (diagnostics, "database:" CHILD_DB, PS_DIAGNOSTIC_PASS);
  result = assert_check (diagnostics, "database:" INCIDENT_DB, PS_DIAGNOSTIC_FAIL);
  assert_says (result, "“" INCIDENT_DB "” does not exist", "database names");
  assert_check (diagnostics, "database:" TRACING_DB, PS_DIAGNOSTIC_PASS);
  result = assert_check (diagnostics, "advice", PS_DIAGNOSTIC_FAIL);
  assert_says (result, NULL, "Database " INCIDENT_DB);
  ps_test_peer_assert_alive (peer);
}

static void
test_non_member (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new_with_admin (TRUE, ADMIN, TEST_PASSWORD);
  g_autoptr(PsDiagnostics) diagnostics = NULL;
  g_autoptr(JsonNode) user = NULL;
  g_autoptr(JsonNode) security = NULL;
  g_autoptr(JsonNode) answer = NULL;
  const char * const one_db[] = { CHILD_DB, NULL };
  PsDiagnosticResult *result;
  guint status = 0;

  ps_test_peer_create_db (peer, CHILD_DB);
  user = json_from_string ("{\"_id\":\"org.couchdb.user:clerk\",\"name\":\"clerk\","
                           "\"type\":\"user\",\"roles\":[],\"password\":\"Clerk-Pass-5521\"}",
                           NULL);
  answer = ps_test_peer_request (peer, "PUT", "/_users/org.couchdb.user:clerk", user, &status);
  g_assert_cmpuint (status, ==, 201);
  g_clear_pointer (&answer, json_node_unref);
  security = json_from_string ("{\"admins\":{\"names\":[],\"roles\":[]},"
                               "\"members\":{\"names\":[\"someone-else\"],\"roles\":[]}}", NULL);
  answer = ps_test_peer_request (peer, "PUT", "/" CHILD_DB "/_security", security, &status);
  g_assert_cmpuint (status, ==, 200);

  diagnostics = new_diagnostics (ps_test_peer_get_url (peer), "clerk", "Clerk-Pass-5521", NULL,
                                 one_db, FALSE);
  run_diagnostics (diagnostics);

  result = assert_check (diagnostics, "credentials", PS_DIAGNOSTIC_PASS);
  assert_says (result, "Logged in as “clerk”", NULL);
  /* pouchdb-server says 401 where CouchDB says 403; both mean "not allowed". */
  result = assert_check (diagnostics, "database:" CHILD_DB, PS_DIAGNOSTIC_FAIL);
  assert_says (result, "may not read", "member");
  ps_test_peer_assert_alive (peer);
}

static void
test_admin_party (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new (TRUE);
  g_autoptr(PsDiagnostics) diagnostics = NULL;
  PsDiagnosticResult *result;

  for (guint i = 0; record_dbs[i] != NULL; i++)
    ps_test_peer_create_db (peer, record_dbs[i]);

  diagnostics = new_diagnostics (ps_test_peer_get_url (peer), NULL, NULL, NULL, record_dbs,
                                 FALSE);
  run_diagnostics (diagnostics);

  result = assert_check (diagnostics, "credentials", PS_DIAGNOSTIC_WARNING);
  assert_says (result, "admin party", "create an admin user");
  assert_check (diagnostics, "database:" CHILD_DB, PS_DIAGNOSTIC_PASS);
  result = assert_check (diagnostics, "advice", PS_DIAGNOSTIC_WARNING);
  assert_says (result, NULL, "warnings");
  g_assert_cmpint (ps_diagnostics_get_verdict (diagnostics), ==, PS_DIAGNOSTIC_WARNING);
  ps_test_peer_assert_alive (peer);
}

static void
test_html_page (void)
{
  g_autoptr(WebServer) web = web_server_new ("<!DOCTYPE html><html><head><title>Welcome to "
                                             "the hotel network</title></head><body>Accept "
                                             "the terms to continue</body></html>", NULL);
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u", web->port);
  g_autoptr(PsDiagnostics) diagnostics = NULL;
  const char * const later[] = { "credentials", "database:" CHILD_DB, "clock", "latency", NULL };
  PsDiagnosticResult *result;

  diagnostics = new_diagnostics (url, ADMIN, TEST_PASSWORD, NULL, record_dbs, FALSE);
  run_diagnostics (diagnostics);

  assert_check (diagnostics, "tcp", PS_DIAGNOSTIC_PASS);
  result = assert_check (diagnostics, "http", PS_DIAGNOSTIC_FAIL);
  assert_says (result, "web page answered instead of CouchDB", "login page");
  assert_says (result, "captive portal", "5984");
  assert_skipped (diagnostics, later);
  /* Only a Primero web application gets the password. */
  g_assert_null (web->form_password);
}

static void
test_primero_web_app (void)
{
  g_autoptr(WebServer) web = web_server_new ("<html><head><title>Primero</title></head>"
                                             "<body>Log in</body></html>",
                                             "{\"target\":\"http://sync:Ledger-Kite-8852@"
                                             "couch.example.org:5984\",\"databases\":"
                                             "{\"Child\":\"primero_child_production\","
                                             "\"Incident\":\"primero_incident_production\"}}");
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u", web->port);
  g_autoptr(PsDiagnostics) diagnostics = NULL;
  PsDiagnosticResult *result;

  diagnostics = new_diagnostics (url, ADMIN, TEST_PASSWORD, NULL, record_dbs, FALSE);
  run_diagnostics (diagnostics);

  result = assert_check (diagnostics, "http", PS_DIAGNOSTIC_FAIL);
  assert_says (result, "Primero web application", "Use http://couch.example.org:5984");
  assert_says (result, "primero_child_production, primero_incident_production", NULL);
  g_assert_cmpstr (web->form_user, ==, ADMIN);
  g_assert_cmpstr (web->form_password, ==, TEST_PASSWORD);
  /* The address Primero reports carries its own password: never shown. */
  assert_no_password (diagnostics, "Ledger-Kite-8852");
  assert_no_password (diagnostics, TEST_PASSWORD);
}

static void
test_no_answer (void)
{
  g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GSocketService) silent = NULL;
  g_autoptr(PsDiagnostics) diagnostics = NULL;
  g_autofree char *url = NULL;
  const char * const later[] = { "credentials", "database:" CHILD_DB, "clock", "latency", NULL };
  PsDiagnosticResult *result;
  guint16 port;

  silent = silent_server_new (held, &port);
  url = g_strdup_printf ("http://127.0.0.1:%u", port);
  diagnostics = new_diagnostics (url, ADMIN, TEST_PASSWORD, NULL, record_dbs, FALSE);
  run_diagnostics (diagnostics);

  assert_check (diagnostics, "tcp", PS_DIAGNOSTIC_PASS);
  result = assert_check (diagnostics, "http", PS_DIAGNOSTIC_FAIL);
  assert_says (result, "accepted the connection but sent no answer within 1.5 seconds",
               "stuck or overloaded");
  g_assert_cmpuint (ps_diagnostic_result_get_duration_ms (result), >=, STEP_TIMEOUT - 100);
  g_assert_cmpuint (ps_diagnostic_result_get_duration_ms (result), <, STEP_TIMEOUT * 3);
  assert_skipped (diagnostics, later);
  g_assert_cmpuint (held->len, >=, 1);
  g_socket_service_stop (silent);
}

static gboolean
on_cancel_timeout_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel (void)
{
  g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GSocketService) silent = NULL;
  g_autoptr(PsDiagnostics) diagnostics = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  Waiter waiter = { FALSE, NULL };
  PsDiagnosticResult *result;
  gint64 started;
  guint16 port;

  silent = silent_server_new (held, &port);
  url = g_strdup_printf ("http://127.0.0.1:%u", port);
  diagnostics = new_diagnostics (url, NULL, NULL, NULL, record_dbs, FALSE);
  ps_diagnostics_set_step_timeout (diagnostics, 30000);

  started = g_get_monotonic_time ();
  g_timeout_add (300, on_cancel_timeout_cb, cancellable);
  ps_diagnostics_run_async (diagnostics, cancellable, on_done_cb, &waiter);
  g_assert_true (ps_diagnostics_get_running (diagnostics));
  g_assert_cmpint (ps_diagnostics_get_verdict (diagnostics), ==, PS_DIAGNOSTIC_RUNNING);

  /* A second run while one is going is refused. */
  {
    Waiter busy = { FALSE, NULL };
    g_autoptr(GError) busy_error = NULL;

    ps_diagnostics_run_async (diagnostics, NULL, on_done_cb, &busy);
    while (!busy.done)
      g_main_context_iteration (NULL, TRUE);
    g_assert_false (ps_diagnostics_run_finish (diagnostics, busy.result, &busy_error));
    g_assert_error (busy_error, PS_DIAGNOSTICS_ERROR, PS_DIAGNOSTICS_ERROR_BUSY);
    g_clear_object (&busy.result);
  }

  while (!waiter.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (ps_diagnostics_run_finish (diagnostics, waiter.result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_object (&waiter.result);
  g_assert_cmpint (g_get_monotonic_time () - started, <, 5 * G_USEC_PER_SEC);
  g_assert_false (ps_diagnostics_get_running (diagnostics));

  result = assert_check (diagnostics, "http", PS_DIAGNOSTIC_SKIPPED);
  assert_says (result, "stopped", NULL);
  g_assert_null (ps_diagnostics_lookup_result (diagnostics, "advice"));
  g_socket_service_stop (silent);
}

static void
test_clock_skew (void)
{
  g_autoptr(FakeCouch) fake = fake_couch_new (NULL);
  g_autofree char *url = fake_couch_url (fake, "http");
  const struct {
    gint64               offset;
    PsDiagnosticVerdict  verdict;
    const char          *says;
  } cases[] = {
    { 15 * 60, PS_DIAGNOSTIC_FAIL, "15 minutes ahead" },
    { -3 * 60, PS_DIAGNOSTIC_WARNING, "3 minutes behind" },
    { 20, PS_DIAGNOSTIC_PASS, "agree" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PsDiagnostics) diagnostics = NULL;
      PsDiagnosticResult *result;

      fake->clock_offset = cases[i].offset;
      diagnostics = new_diagnostics (url, ADMIN, TEST_PASSWORD, NULL, record_dbs, FALSE);
      run_diagnostics (diagnostics);

      assert_check (diagnostics, "http", PS_DIAGNOSTIC_PASS);
      assert_check (diagnostics, "credentials", PS_DIAGNOSTIC_PASS);
      assert_check (diagnostics, "latency", PS_DIAGNOSTIC_PASS);
      result = assert_check (diagnostics, "clock", cases[i].verdict);
      assert_says (result, cases[i].says,
                   cases[i].verdict == PS_DIAGNOSTIC_PASS ? NULL : "Conflicts are resolved");
      g_assert_cmpint (ps_diagnostics_get_verdict (diagnostics), ==, cases[i].verdict);
    }
}

static void
on_item_added_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    user_data)
{
  guint *count = user_data;

  *count += added;
}

static void
test_healthy_peer (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new_with_admin (TRUE, ADMIN, TEST_PASSWORD);
  g_autoptr(PsDiagnostics) diagnostics = NULL;
  g_autoptr(PsServer) server = NULL;
  g_autoptr(PsServerAccess) access = NULL;
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autofree char *text = NULL;
  GListModel *results;
  PsDiagnosticResult *result;
  guint added = 0;

  for (guint i = 0; record_dbs[i] != NULL; i++)
    ps_test_peer_create_db (peer, record_dbs[i]);

  /* As the application does it: from a configured server. */
  server = ps_server_new ("Field office", ps_test_peer_get_url (peer));
  ps_server_set_username (server, ADMIN);
  ps_server_set_continuous (server, TRUE);
  access = ps_server_access_new (server, session, TEST_PASSWORD);
  diagnostics = ps_diagnostics_new_for_access (access);
  results = ps_diagnostics_get_results (diagnostics);
  g_signal_connect (results, "items-changed", G_CALLBACK (on_item_added_cb), &added);
  run_diagnostics (diagnostics);

  g_assert_cmpuint (added, ==, g_list_model_get_n_items (results));
  g_assert_cmpuint (g_list_model_get_n_items (results), ==, 12);
  for (guint i = 0; i < g_list_model_get_n_items (results); i++)
    {
      g_autoptr(PsDiagnosticResult) item = g_list_model_get_item (results, i);
      const char *id = ps_diagnostic_result_get_id (item);

      /* Plain http to this computer: there is no certificate to check. */
      if (g_str_equal (id, "tls"))
        assert_check (diagnostics, id, PS_DIAGNOSTIC_SKIPPED);
      else
        assert_check (diagnostics, id, PS_DIAGNOSTIC_PASS);
      g_assert_null (ps_diagnostic_result_get_fingerprint (item));
    }

  result = assert_check (diagnostics, "http", PS_DIAGNOSTIC_PASS);
  assert_says (result, "PouchDB Server", NULL);
  result = assert_check (diagnostics, "credentials", PS_DIAGNOSTIC_PASS);
  assert_says (result, "Logged in as “admin”, a server administrator", NULL);
  result = assert_check (diagnostics, "latency", PS_DIAGNOSTIC_PASS);
  assert_says (result, "Median round trip", NULL);
  assert_says (result, "per second", NULL);
  result = assert_check (diagnostics, "advice", PS_DIAGNOSTIC_PASS);
  assert_says (result, NULL, "Everything a sync needs works");
  g_assert_cmpint (ps_diagnostics_get_verdict (diagnostics), ==, PS_DIAGNOSTIC_PASS);

  text = ps_diagnostics_to_text (diagnostics);
  g_assert_nonnull (strstr (text, "Primero Sync connectivity report"));
  g_assert_nonnull (strstr (text, ps_test_peer_get_url (peer)));
  assert_no_password (diagnostics, TEST_PASSWORD);

  /* Running again starts from a clean list. */
  run_diagnostics (diagnostics);
  g_assert_cmpuint (g_list_model_get_n_items (results), ==, 12);
  ps_test_peer_assert_alive (peer);
}

/* 400,000 `[` for a welcome: deep enough to overflow the stack of a
 * recursive parser.
 */
static void
test_deep_answer (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autofree char *url = ps_fake_couch_url (fake, "");
  g_autoptr(PsDiagnostics) diagnostics = NULL;

  ps_fake_couch_route_stream (fake, "GET", "/", "[", "[", 400000, TRUE);
  diagnostics = new_diagnostics (url, ADMIN, TEST_PASSWORD, NULL, record_dbs, FALSE);
  run_diagnostics (diagnostics);

  assert_check (diagnostics, "http", PS_DIAGNOSTIC_FAIL);
  assert_no_password (diagnostics, TEST_PASSWORD);
}

#define MIB (1024 * 1024)

static void
test_endless_answer (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autofree char *url = ps_fake_couch_url (fake, "");
  g_autoptr(PsDiagnostics) diagnostics = NULL;
  PsDiagnosticResult *result;

  /* Sent as it is made, with no length given. */
  ps_fake_couch_route_stream (fake, "GET", "/", "{\"couchdb\":\"", "a", 256 * MIB, FALSE);
  diagnostics = new_diagnostics (url, ADMIN, TEST_PASSWORD, NULL, record_dbs, FALSE);
  ps_diagnostics_set_step_timeout (diagnostics, 20000);
  run_diagnostics (diagnostics);

  result = assert_check (diagnostics, "http", PS_DIAGNOSTIC_FAIL);
  assert_says (result, "larger than", NULL);
  g_test_message ("streamed %" G_GUINT64_FORMAT " bytes", ps_fake_couch_get_streamed (fake));
  g_assert_cmpuint (ps_fake_couch_get_streamed (fake), <, 32 * MIB);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/diagnostics/closed-port", test_closed_port);
  g_test_add_func ("/ps/diagnostics/invalid-name", test_invalid_name);
  g_test_add_func ("/ps/diagnostics/bad-addresses", test_bad_addresses);
  g_test_add_func ("/ps/diagnostics/self-signed-certificate", test_self_signed_certificate);
  g_test_add_func ("/ps/diagnostics/wrong-password", test_wrong_password);
  g_test_add_func ("/ps/diagnostics/missing-database", test_missing_database);
  g_test_add_func ("/ps/diagnostics/non-member", test_non_member);
  g_test_add_func ("/ps/diagnostics/admin-party", test_admin_party);
  g_test_add_func ("/ps/diagnostics/html-page", test_html_page);
  g_test_add_func ("/ps/diagnostics/primero-web-app", test_primero_web_app);
  g_test_add_func ("/ps/diagnostics/no-answer", test_no_answer);
  g_test_add_func ("/ps/diagnostics/cancel", test_cancel);
  g_test_add_func ("/ps/diagnostics/clock-skew", test_clock_skew);
  g_test_add_func ("/ps/diagnostics/healthy-peer", test_healthy_peer);

  g_test_add_func ("/ps/diagnostics/deep-answer", test_deep_answer);
  g_test_add_func ("/ps/diagnostics/endless-answer", test_endless_answer);

  return g_test_run ();
}

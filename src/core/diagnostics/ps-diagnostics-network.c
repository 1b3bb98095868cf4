/* ps-diagnostics-network.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Checks 1 to 4: the address, its name, the connection and TLS.
 */

#define G_LOG_DOMAIN "ps-diagnostics"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ps-diagnostics-private.h"
#include "ps-host.h"
#include "ps-url.h"

/* 1. The address */

void
ps_diag_check_url (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *trimmed = g_strstrip (g_strdup (self->url));
  g_autofree char *explanation = NULL;
  g_autofree char *path = NULL;
  const char *scheme;
  gsize path_len;
  int port;

  ps_diag_start_check (task, "url", _("Address"));
  ps_diag_set_skip_reason (run, _("the address is not usable"));

  if (*trimmed == '\0')
    {
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, _("No address was given."),
                         _("Enter the address of the server’s CouchDB, such as "
                           "https://example.org:6984."));
      return;
    }

  if (strstr (trimmed, "://") == NULL)
    {
      explanation = g_strdup_printf (_("“%s” does not say how to connect: it has no "
                                       "https:// or http:// in front."), run->display_url);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Write the address in full, starting with https:// (or http:// for a "
                           "server without encryption), as in https://example.org:6984."));
      return;
    }

  /* A password may hold '/' or '@': ps_url_parse() knows where it ends. */
  uri = ps_url_parse (trimmed, &error);
  if (uri == NULL)
    {
      explanation = g_strdup_printf (_("“%s” is not a valid address."), run->display_url);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Check the address for typing mistakes; it looks like "
                           "https://example.org:6984, with an optional port after a colon."));
      return;
    }

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    {
      explanation = g_strdup_printf (_("The address starts with “%s://”; CouchDB speaks https "
                                       "or http."), scheme);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Start the address with https:// (or http:// for a server without "
                           "encryption)."));
      return;
    }

  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, _("The address names no server."),
                         _("Put the server’s name or IP address after https://, as in "
                           "https://example.org:6984."));
      return;
    }

  if (g_uri_get_user (uri) != NULL || g_uri_get_password (uri) != NULL)
    {
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL,
                         _("The address contains a user name or password."),
                         _("Remove them from the address and enter them in their own fields: "
                           "passwords belong in the keyring, not in addresses."));
      return;
    }

  if (g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    {
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL,
                         _("The address has a part after “?” or “#”, which CouchDB does not use."),
                         _("Remove everything from the “?” or “#” on."));
      return;
    }

  run->https = g_ascii_strcasecmp (scheme, "https") == 0;
  run->host = g_strdup (g_uri_get_host (uri));
  port = g_uri_get_port (uri);
  if (port <= 0)
    port = run->https ? 443 : 80;
  run->port = port;

  path = g_strdup (g_uri_get_path (uri));
  path_len = strlen (path);
  while (path_len > 0 && path[path_len - 1] == '/')
    path[--path_len] = '\0';
  run->root = g_uri_join (G_URI_FLAGS_ENCODED, run->https ? "https" : "http", NULL,
                          run->host, g_uri_get_port (uri), path, NULL, NULL);

  g_clear_pointer (&run->skip_reason, g_free);

  if (!run->https && !ps_host_is_loopback (run->host))
    {
      explanation = g_strdup_printf (_("Server %s, port %u, over http: passwords and records "
                                       "would cross the network without encryption."),
                                     run->host, run->port);
      ps_diag_end_check (task, PS_DIAGNOSTIC_WARNING, explanation,
                         _("Use https if the server offers it (CouchDB’s usual https port is "
                           "6984). Use http only inside a network you trust."));
      return;
    }

  if (!run->https)
    explanation = g_strdup_printf (_("Server %s, port %u, over http (the server is on this "
                                     "computer, so nothing crosses the network)."),
                                   run->host, run->port);
  else
    explanation = g_strdup_printf (_("Server %s, port %u, over https."), run->host, run->port);

  ps_diag_end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
}

/* 2. Name resolution */

static void
on_name_resolved_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *explanation = NULL;
  GList *addresses;

  ps_diag_disarm_deadline (run);
  addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (object), result, &error);
  if (ps_diag_stop_if_cancelled (task))
    {
      g_resolver_free_addresses (addresses);
      return;
    }

  if (addresses == NULL)
    {
      ps_diag_set_skip_reason (run, _("the server’s name does not resolve"));

      if (ps_diag_is_timeout (run, error))
        {
          g_autofree char *limit = ps_diag_format_timeout (self);

          explanation = g_strdup_printf (_("Looking up “%s” took longer than %s."),
                                         run->host, limit);
          ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                             _("The name servers of this network do not answer. Check that this "
                               "computer is connected (open any web site), then try again."));
        }
      else if (g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE))
        {
          explanation = g_strdup_printf (_("“%s” could not be looked up just now (%s)."),
                                         run->host, error->message);
          ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                             _("Check that this computer is connected to the network (open any web "
                               "site), then try again."));
        }
      else
        {
          explanation = g_strdup_printf (_("The name “%s” does not resolve: no address is "
                                           "known for it."), run->host);
          ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                             _("Check the spelling of the server’s address. If it is right, check "
                               "that this computer is on the network and, for a server on a "
                               "private network, that its VPN is connected."));
        }
      return;
    }

  {
    g_autoptr(GString) list = g_string_new (NULL);
    guint shown = 0;

    for (GList *l = addresses; l != NULL && shown < 4; l = l->next, shown++)
      {
        g_autofree char *text = g_inet_address_to_string (l->data);

        if (list->len > 0)
          g_string_append (list, ", ");
        g_string_append (list, text);
      }
    if (g_list_length (addresses) > shown)
      g_string_append (list, ", …");

    explanation = g_strdup_printf (_("“%s” resolves to %s."), run->host, list->str);
  }
  g_resolver_free_addresses (addresses);

  ps_diag_end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
}

void
ps_diag_check_name (GTask *task)
{
  Run *run = g_task_get_task_data (task);
  g_autoptr(GResolver) resolver = NULL;
  g_autofree char *explanation = NULL;

  ps_diag_start_check (task, "name-resolution", _("Name resolution"));

  if (g_hostname_is_ip_address (run->host))
    {
      explanation = g_strdup_printf (_("%s is an IP address: there is no name to look up."),
                                     run->host);
      ps_diag_end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
      return;
    }

  resolver = g_resolver_get_default ();
  g_resolver_lookup_by_name_async (resolver, run->host, ps_diag_arm_deadline (task),
                                   on_name_resolved_cb, g_object_ref (task));
}

/* 3. TCP */

static void
on_connected_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *explanation = NULL;
  GSocketConnection *connection;

  ps_diag_disarm_deadline (run);
  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result, &error);
  if (ps_diag_stop_if_cancelled (task))
    {
      g_clear_object (&connection);
      return;
    }

  if (connection == NULL)
    {
      ps_diag_set_skip_reason (run, _("no connection could be made"));

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        {
          explanation = g_strdup_printf (_("%s refused the connection on port %u: nothing "
                                           "listens there."), run->host, run->port);
          ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                             _("Check the port in the address (CouchDB usually listens on 5984, or "
                               "6984 for https) and ask the server’s administrator whether "
                               "CouchDB is running; a firewall can also refuse the port."));
        }
      else if (ps_diag_is_timeout (run, error))
        {
          g_autofree char *limit = ps_diag_format_timeout (self);

          explanation = g_strdup_printf (_("%s did not accept a connection on port %u within "
                                           "%s."), run->host, run->port, limit);
          ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                             _("A firewall is probably dropping the traffic, or the server is off. "
                               "Check the port, and ask the server’s administrator whether this "
                               "network may reach it."));
        }
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
               g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE))
        {
          explanation = g_strdup_printf (_("%s cannot be reached from this network (%s)."),
                                         run->host, error->message);
          ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                             _("Check this computer’s network connection; for a server on a "
                               "private network, connect its VPN first."));
        }
      else
        {
          explanation = g_strdup_printf (_("The connection to %s on port %u failed: %s."),
                                         run->host, run->port, error->message);
          ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                             _("Check this computer’s network connection and the address."));
        }
      return;
    }

  run->connection = connection;
  {
    g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
    g_autofree char *address = NULL;

    if (G_IS_INET_SOCKET_ADDRESS (remote))
      {
        GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (remote);

        address = g_inet_address_to_string (g_inet_socket_address_get_address (inet));
      }

    if (address != NULL && !g_str_equal (address, run->host))
      explanation = g_strdup_printf (_("%s (%s) accepts connections on port %u."),
                                     run->host, address, run->port);
    else
      explanation = g_strdup_printf (_("%s accepts connections on port %u."),
                                     run->host, run->port);
  }

  ps_diag_end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
}

void
ps_diag_check_tcp (GTask *task)
{
  Run *run = g_task_get_task_data (task);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnectable) address = g_network_address_new (run->host, run->port);
  g_autofree char *title = NULL;

  title = g_strdup_printf (_("Connection to port %u"), run->port);
  ps_diag_start_check (task, "tcp", title);
  g_socket_client_connect_async (client, address, ps_diag_arm_deadline (task),
                                 on_connected_cb, g_object_ref (task));
}

/* 4. TLS */

static gboolean
on_tls_accept_certificate_cb (GTlsConnection       *connection,
                              GTlsCertificate      *certificate,
                              GTlsCertificateFlags  errors,
                              gpointer              user_data)
{
  Run *run = user_data;

  /* Accepted here only to look at it; the verdict comes after. */
  g_set_object (&run->peer_certificate, certificate);
  run->peer_errors = errors;
  return TRUE;
}

static char *
describe_certificate_errors (Run                  *run,
                             GTlsCertificateFlags  errors)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) text = g_string_new (NULL);

  if (errors & G_TLS_CERTIFICATE_UNKNOWN_CA)
    g_ptr_array_add (problems, g_strdup (_("it is not signed by an authority this computer "
                                           "trusts (it may be self-signed)")));
  if (errors & G_TLS_CERTIFICATE_BAD_IDENTITY)
    {
      g_autofree char *subject = g_tls_certificate_get_subject_name (run->peer_certificate);

      if (subject != NULL)
        g_ptr_array_add (problems, g_strdup_printf (_("it was issued for another name (%s), "
                                                      "not for %s"), subject, run->host));
      else
        g_ptr_array_add (problems, g_strdup_printf (_("it was issued for another name, not "
                                                      "for %s"), run->host));
    }
  if (errors & G_TLS_CERTIFICATE_EXPIRED)
    {
      g_autoptr(GDateTime) until = g_tls_certificate_get_not_valid_after (run->peer_certificate);
      g_autofree char *date = ps_diag_format_date (until);

      g_ptr_array_add (problems, g_strdup_printf (_("it expired on %s"), date));
    }
  if (errors & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    {
      g_autoptr(GDateTime) from = g_tls_certificate_get_not_valid_before (run->peer_certificate);
      g_autofree char *date = ps_diag_format_date (from);

      g_ptr_array_add (problems, g_strdup_printf (_("it is not valid before %s"), date));
    }
  if (errors & G_TLS_CERTIFICATE_REVOKED)
    g_ptr_array_add (problems, g_strdup (_("it was revoked")));
  if (errors & G_TLS_CERTIFICATE_INSECURE)
    g_ptr_array_add (problems, g_strdup (_("it uses insecure cryptography")));
  if (errors & G_TLS_CERTIFICATE_GENERIC_ERROR || problems->len == 0)
    g_ptr_array_add (problems, g_strdup (_("it could not be verified")));

  for (guint i = 0; i < problems->len; i++)
    {
      if (i > 0)
        g_string_append (text, i + 1 == problems->len ? _(" and ") : ", ");
      g_string_append (text, g_ptr_array_index (problems, i));
    }

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
judge_certificate (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GByteArray) der = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *explanation = NULL;
  g_autofree char *problems = NULL;
  g_autofree char *pinned_shown = NULL;
  gboolean matches;

  g_object_get (run->peer_certificate, "certificate", &der, NULL);
  if (der == NULL)
    {
      ps_diag_set_skip_reason (run, _("the server’s certificate could not be read"));
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, _("The server’s certificate could not be read."),
                         _("Ask the server’s administrator to check its TLS setup."));
      return;
    }

  fingerprint = g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
  shown = ps_diag_format_fingerprint (fingerprint);
  matches = self->pinned_fingerprint != NULL && g_str_equal (fingerprint, self->pinned_fingerprint);
  ps_diagnostic_result_set_fingerprint (run->current, fingerprint);
  ps_diagnostic_result_set_fingerprint_matches (run->current, matches);
  if (self->pinned_fingerprint != NULL)
    pinned_shown = ps_diag_format_fingerprint (self->pinned_fingerprint);

  if (run->peer_errors == 0)
    {
      g_autoptr(GDateTime) until = g_tls_certificate_get_not_valid_after (run->peer_certificate);
      g_autofree char *date = ps_diag_format_date (until);

      explanation = g_strdup_printf (_("The certificate of %s is trusted by this computer and "
                                       "valid until %s (SHA-256 %s)."),
                                     run->host, date, shown);
      ps_diag_end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
      return;
    }

  problems = describe_certificate_errors (run, run->peer_errors);

  if (matches)
    {
      run->trusted_by_pin = TRUE;
      explanation = g_strdup_printf (_("This computer does not trust the certificate of %s "
                                       "(%s), but it is the one pinned for this server "
                                       "(SHA-256 %s)."),
                                     run->host, problems, shown);

      if (run->peer_errors & (G_TLS_CERTIFICATE_EXPIRED | G_TLS_CERTIFICATE_NOT_ACTIVATED))
        ps_diag_end_check (task, PS_DIAGNOSTIC_WARNING, explanation,
                           _("Ask the server’s administrator to renew the certificate; then "
                             "confirm the new fingerprint with them and pin it."));
      else
        ps_diag_end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
      return;
    }

  ps_diag_set_skip_reason (run, _("the server’s certificate is not trusted"));

  if (self->pinned_fingerprint != NULL)
    {
      explanation = g_strdup_printf (_("The certificate of %s is not trusted: %s. Its SHA-256 "
                                       "fingerprint %s does not match the pinned one, %s."),
                                     run->host, problems, shown, pinned_shown);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("The certificate changed since it was pinned. That happens when it is "
                           "renewed, but also when someone intercepts the connection: confirm "
                           "the new fingerprint with the server’s administrator (by phone or in "
                           "person) before pinning it."));
      return;
    }

  explanation = g_strdup_printf (_("The certificate of %s is not trusted: %s. Its SHA-256 "
                                   "fingerprint is %s."), run->host, problems, shown);

  if (run->peer_errors & (G_TLS_CERTIFICATE_EXPIRED | G_TLS_CERTIFICATE_NOT_ACTIVATED))
    ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                       _("Ask the server’s administrator to renew the certificate, or to check the "
                         "server’s clock."));
  else if ((run->peer_errors & G_TLS_CERTIFICATE_UNKNOWN_CA) == 0)
    ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                       _("Check the address: use the name the certificate was issued for, if it is "
                         "the same server."));
  else
    ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                       _("If the server uses its own (self-signed) certificate, ask its "
                         "administrator to confirm this fingerprint by phone or in person, then "
                         "pin it in the server’s settings. Never pin a fingerprint nobody "
                         "confirmed."));
}

static void
on_handshake_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) tls = G_IO_STREAM (object);
  g_autofree char *explanation = NULL;
  gboolean ok;

  ps_diag_disarm_deadline (run);
  ok = g_tls_connection_handshake_finish (G_TLS_CONNECTION (tls), result, &error);
  g_signal_handlers_disconnect_by_data (tls, run);
  if (ps_diag_stop_if_cancelled (task))
    return;

  if (ok && run->peer_certificate == NULL)
    {
      run->peer_certificate = g_tls_connection_get_peer_certificate (G_TLS_CONNECTION (tls));
      if (run->peer_certificate != NULL)
        g_object_ref (run->peer_certificate);
      run->peer_errors = 0;
    }
  g_io_stream_close_async (tls, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object (&run->connection);

  if (ok && run->peer_certificate != NULL)
    {
      judge_certificate (task);
      return;
    }

  ps_diag_set_skip_reason (run, _("no secure connection could be made"));

  if (ok)
    ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, _("The server showed no certificate."),
                       _("Ask the server’s administrator to check its TLS setup."));
  else if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS))
    {
      explanation = g_strdup_printf (_("The server does not speak https on port %u."),
                                     run->port);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Try the address with http:// instead of https://, or the server’s "
                           "https port (CouchDB usually uses 6984)."));
    }
  else if (ps_diag_is_timeout (run, error))
    {
      g_autofree char *limit = ps_diag_format_timeout (self);

      explanation = g_strdup_printf (_("The server accepted the connection but did not "
                                       "complete the secure handshake within %s."), limit);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Check that the port speaks https; a stuck server or a firewall that "
                           "inspects traffic can also cause this."));
    }
  else
    {
      explanation = g_strdup_printf (_("The secure connection could not be set up: %s."),
                                     error->message);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Check that the port speaks https, and ask the server’s administrator "
                           "to check its TLS setup."));
    }
}

void
ps_diag_check_tls (GTask *task)
{
  Run *run = g_task_get_task_data (task);
  g_autoptr(GSocketConnectable) identity = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) tls = NULL;
  g_autofree char *explanation = NULL;

  ps_diag_start_check (task, "tls", _("Secure connection (TLS)"));

  if (!run->https)
    {
      g_clear_object (&run->connection);
      ps_diag_end_check (task, PS_DIAGNOSTIC_SKIPPED,
                         _("Not checked: the address uses http, so there is no certificate."),
                         NULL);
      return;
    }

  identity = g_network_address_new (run->host, run->port);
  tls = g_tls_client_connection_new (G_IO_STREAM (run->connection), identity, &error);
  if (tls == NULL)
    {
      ps_diag_set_skip_reason (run, _("no secure connection could be made"));
      explanation = g_strdup_printf (_("Secure connections are not available on this "
                                       "computer: %s."), error->message);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Install the GLib networking support (glib-networking)."));
      return;
    }

  g_signal_connect (tls, "accept-certificate", G_CALLBACK (on_tls_accept_certificate_cb), run);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT,
                                    ps_diag_arm_deadline (task), on_handshake_cb,
                                    g_object_ref (task));
  /* The callback owns the stream now. */
  tls = NULL;
}

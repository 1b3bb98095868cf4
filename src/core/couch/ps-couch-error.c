/* ps-couch-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-couch-error"

#include "config.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>

#include "ps-couch-error.h"

G_DEFINE_QUARK (ps-couch-error-quark, ps_couch_error)

/**
 * ps_couch_error_is_transient:
 * @error: (nullable): an error from a CouchDB request
 *
 * Whether trying again later may succeed: the network or the server was
 * briefly unavailable. Permanent errors (refused credentials, a missing
 * database, a server that is not CouchDB) need the user to act.
 */
gboolean
ps_couch_error_is_transient (const GError *error)
{
  if (error == NULL || error->domain != PS_COUCH_ERROR)
    return FALSE;

  switch ((PsCouchError) error->code)
    {
    case PS_COUCH_ERROR_UNREACHABLE:
    case PS_COUCH_ERROR_HOST_NOT_FOUND:
    case PS_COUCH_ERROR_TIMED_OUT:
    case PS_COUCH_ERROR_TOO_MANY_REQUESTS:
    case PS_COUCH_ERROR_SERVER:
    /* Most often an answer cut short by a dropped connection. */
    case PS_COUCH_ERROR_INVALID_RESPONSE:
      return TRUE;

    case PS_COUCH_ERROR_FAILED:
    case PS_COUCH_ERROR_INVALID_URL:
    case PS_COUCH_ERROR_TLS:
    case PS_COUCH_ERROR_UNAUTHORIZED:
    case PS_COUCH_ERROR_FORBIDDEN:
    case PS_COUCH_ERROR_NOT_FOUND:
    case PS_COUCH_ERROR_CONFLICT:
    case PS_COUCH_ERROR_PRECONDITION_FAILED:
    case PS_COUCH_ERROR_BAD_REQUEST:
    case PS_COUCH_ERROR_TOO_LARGE:
    case PS_COUCH_ERROR_ANSWER_TOO_LARGE:
    case PS_COUCH_ERROR_REDIRECTED:
    case PS_COUCH_ERROR_NOT_COUCHDB:
    default:
      return FALSE;
    }
}

/* The server's own reason is appended where it helps the user; it comes
 * from the server, never from our request, so it cannot carry our secrets.
 */
static GError *
new_error_with_reason (PsCouchError  code,
                       const char   *message,
                       const char   *reason)
{
  if (reason != NULL && *reason != '\0')
    return g_error_new (PS_COUCH_ERROR, code, "%s (%s)", message, reason);

  return g_error_new_literal (PS_COUCH_ERROR, code, message);
}

/**
 * ps_couch_error_from_status:
 * @status: the HTTP status of a failed request
 * @couch_error: (nullable): the `error` member of CouchDB's answer
 * @couch_reason: (nullable): the `reason` member of CouchDB's answer
 *
 * Returns: (transfer full): a #PsCouchError in plain words
 */
GError *
ps_couch_error_from_status (guint       status,
                            const char *couch_error,
                            const char *couch_reason)
{
  g_autofree char *message = NULL;

  switch (status)
    {
    case SOUP_STATUS_UNAUTHORIZED:
      return g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_UNAUTHORIZED,
                          _("the user name or password was refused (%u)"), status);

    case SOUP_STATUS_FORBIDDEN:
      message = g_strdup_printf (_("the user is not allowed to do this (%u)"), status);
      return new_error_with_reason (PS_COUCH_ERROR_FORBIDDEN, message, couch_reason);

    case SOUP_STATUS_NOT_FOUND:
      message = g_strdup_printf (_("not found (%u)"), status);
      return new_error_with_reason (PS_COUCH_ERROR_NOT_FOUND, message, couch_reason);

    case SOUP_STATUS_CONFLICT:
      message = g_strdup_printf (_("the document was changed meanwhile (%u)"), status);
      return new_error_with_reason (PS_COUCH_ERROR_CONFLICT, message, NULL);

    case SOUP_STATUS_PRECONDITION_FAILED:
      message = g_strdup_printf (_("it exists already (%u)"), status);
      return new_error_with_reason (PS_COUCH_ERROR_PRECONDITION_FAILED, message, couch_reason);

    case SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE:
    case 431:
      /* CouchDB names the attachment over its max_attachment_size. */
      if (g_strcmp0 (couch_error, "attachment_too_large") == 0 && couch_reason != NULL)
        message = g_strdup_printf (_("the server refused the attachment “%s” as larger "
                                     "than it accepts (%u)"), couch_reason, status);
      else if (g_strcmp0 (couch_error, "document_too_large") == 0)
        message = g_strdup_printf (_("the server refused a document as larger than it "
                                     "accepts (%u)"), status);
      else
        message = g_strdup_printf (_("the server refused a request as too large (%u)"),
                                   status);
      return new_error_with_reason (PS_COUCH_ERROR_TOO_LARGE, message, NULL);

    case 429:
      message = g_strdup_printf (_("the server asked to slow down (%u)"), status);
      return new_error_with_reason (PS_COUCH_ERROR_TOO_MANY_REQUESTS, message, NULL);

    default:
      break;
    }

  if (status >= 500)
    {
      message = g_strdup_printf (_("the server failed to answer (%u)"), status);
      return new_error_with_reason (PS_COUCH_ERROR_SERVER, message, couch_reason);
    }

  if (status >= 400)
    {
      message = g_strdup_printf (_("the server refused the request (%u)"), status);
      return new_error_with_reason (PS_COUCH_ERROR_BAD_REQUEST, message,
                                    couch_reason != NULL ? couch_reason : couch_error);
    }

  return g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_COUCHDB,
                      _("the server gave an unexpected answer (%u)"), status);
}

/**
 * ps_couch_error_from_io:
 * @error: a transport error from libsoup or GIO
 * @host: the host that was contacted
 * @port: its port
 *
 * Returns: (transfer full): the same failure as a #PsCouchError, in words
 *   naming the layer that failed; cancellation is passed through untouched
 */
GError *
ps_couch_error_from_io (const GError *error,
                        const char   *host,
                        guint         port)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || error->domain == PS_COUCH_ERROR)
    return g_error_copy (error);

  /* The size-capped reader says how large, in a whole sentence. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE))
    return g_error_new_literal (PS_COUCH_ERROR, PS_COUCH_ERROR_ANSWER_TOO_LARGE, error->message);

  if (error->domain == G_RESOLVER_ERROR)
    return g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_HOST_NOT_FOUND,
                        _("the name “%s” could not be found; check the address and the network"),
                        host);

  if (error->domain == G_TLS_ERROR)
    return g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_TLS,
                        _("the secure connection to %s failed: %s"), host, error->message);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    return g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_UNREACHABLE,
                        _("the connection to %s port %u was refused; is the server running?"),
                        host, port);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_TIMED_OUT,
                        _("%s stopped answering (timed out)"), host);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE))
    return g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_UNREACHABLE,
                        _("%s cannot be reached from this network"), host);

  /* An answer cut short in its head fails to parse just as one from a
   * server that does not speak HTTP: worth another try, as a lost
   * connection is.
   */
  if (g_error_matches (error, SOUP_SESSION_ERROR, SOUP_SESSION_ERROR_PARSING))
    return g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                        _("%s did not answer as a web server does: %s"), host, error->message);

  if (error->domain == SOUP_SESSION_ERROR)
    return g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_COUCHDB,
                        _("%s did not answer as a web server does: %s"), host, error->message);

  return g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_UNREACHABLE,
                      _("the connection to %s was lost: %s"), host, error->message);
}

/**
 * ps_couch_format_size_limit:
 * @bytes: a size limit
 *
 * Returns: (transfer full): the limit as people set it: `64 MB`
 */
char *
ps_couch_format_size_limit (gsize bytes)
{
  const gsize mib = 1024 * 1024;

  if (bytes >= mib && bytes % mib == 0)
    return g_strdup_printf (_("%llu MB"), (unsigned long long) (bytes / mib));

  return g_strdup_printf (_("%llu bytes"), (unsigned long long) bytes);
}

/**
 * ps_couch_error_from_redirect:
 * @message: a message answered with a redirection, not followed
 *
 * Credentials go only to the address the user gave: a redirection could
 * hand them to another host. The error names where the server points, with
 * any user name, password or query taken out, so the user can decide
 * whether that is the server to configure.
 *
 * Returns: (transfer full): a %PS_COUCH_ERROR_REDIRECTED error
 */
GError *
ps_couch_error_from_redirect (SoupMessage *message)
{
  const char *location;
  g_autoptr(GUri) target = NULL;
  g_autoptr(GUri) shown = NULL;
  g_autofree char *text = NULL;

  location = soup_message_headers_get_one (soup_message_get_response_headers (message),
                                           "Location");
  if (location != NULL)
    target = g_uri_parse_relative (soup_message_get_uri (message), location,
                                   G_URI_FLAGS_ENCODED, NULL);
  if (target == NULL || g_uri_get_host (target) == NULL)
    return g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_REDIRECTED,
                        _("the server answered with a redirection (%u) to nowhere; check the "
                          "address"),
                        soup_message_get_status (message));

  shown = g_uri_build (G_URI_FLAGS_ENCODED, g_uri_get_scheme (target), NULL,
                       g_uri_get_host (target), g_uri_get_port (target),
                       g_uri_get_path (target), NULL, NULL);
  text = g_uri_to_string (shown);
  return g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_REDIRECTED,
                      _("the server sends this request on to %s; it was not followed, so that "
                        "the password goes to no other address. If that is the right server, "
                        "set its address in the server’s settings"),
                      text);
}

/* ps-couch-error.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define PS_COUCH_ERROR (ps_couch_error_quark ())

/**
 * PsCouchError:
 * @PS_COUCH_ERROR_FAILED: anything else
 * @PS_COUCH_ERROR_INVALID_URL: the address cannot name a CouchDB database
 * @PS_COUCH_ERROR_UNREACHABLE: no connection could be made (transient)
 * @PS_COUCH_ERROR_HOST_NOT_FOUND: the host name does not resolve
 * @PS_COUCH_ERROR_TIMED_OUT: the server stopped answering (transient)
 * @PS_COUCH_ERROR_TLS: the secure connection failed or is not trusted
 * @PS_COUCH_ERROR_UNAUTHORIZED: 401, the credentials were refused
 * @PS_COUCH_ERROR_FORBIDDEN: 403, the user may not do this
 * @PS_COUCH_ERROR_NOT_FOUND: 404
 * @PS_COUCH_ERROR_CONFLICT: 409
 * @PS_COUCH_ERROR_PRECONDITION_FAILED: 412, e.g. the database exists already
 * @PS_COUCH_ERROR_BAD_REQUEST: 400, 405, 415 and the like
 * @PS_COUCH_ERROR_TOO_LARGE: 413 or 431
 * @PS_COUCH_ERROR_TOO_MANY_REQUESTS: 429 (transient)
 * @PS_COUCH_ERROR_SERVER: 5xx (transient)
 * @PS_COUCH_ERROR_NOT_COUCHDB: the server answered, but not as CouchDB does
 * @PS_COUCH_ERROR_INVALID_RESPONSE: a CouchDB answer that cannot be parsed, as when
 *   it was cut short (transient)
 * @PS_COUCH_ERROR_ANSWER_TOO_LARGE: the answer is over the size limit set for it
 * @PS_COUCH_ERROR_REDIRECTED: the server sent the request elsewhere; it is not
 *   followed with the credentials
 *
 * Errors from talking to a CouchDB server.
 */
typedef enum
{
  PS_COUCH_ERROR_FAILED,
  PS_COUCH_ERROR_INVALID_URL,
  PS_COUCH_ERROR_UNREACHABLE,
  PS_COUCH_ERROR_HOST_NOT_FOUND,
  PS_COUCH_ERROR_TIMED_OUT,
  PS_COUCH_ERROR_TLS,
  PS_COUCH_ERROR_UNAUTHORIZED,
  PS_COUCH_ERROR_FORBIDDEN,
  PS_COUCH_ERROR_NOT_FOUND,
  PS_COUCH_ERROR_CONFLICT,
  PS_COUCH_ERROR_PRECONDITION_FAILED,
  PS_COUCH_ERROR_BAD_REQUEST,
  PS_COUCH_ERROR_TOO_LARGE,
  PS_COUCH_ERROR_TOO_MANY_REQUESTS,
  PS_COUCH_ERROR_SERVER,
  PS_COUCH_ERROR_NOT_COUCHDB,
  PS_COUCH_ERROR_INVALID_RESPONSE,
  PS_COUCH_ERROR_ANSWER_TOO_LARGE,
  PS_COUCH_ERROR_REDIRECTED,
} PsCouchError;

GQuark    ps_couch_error_quark        (void);
gboolean  ps_couch_error_is_transient (const GError *error);
GError   *ps_couch_error_from_status  (guint         status,
                                       const char   *couch_error,
                                       const char   *couch_reason);
GError   *ps_couch_error_from_io      (const GError *error,
                                       const char   *host,
                                       guint         port);
char     *ps_couch_format_size_limit  (gsize         bytes);
GError   *ps_couch_error_from_redirect (SoupMessage *message);

G_END_DECLS

/* ps-couch-database.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-couch-database"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>
#include <sys/socket.h>

#include "ps-body-reader.h"
#include "ps-couch-database.h"
#include "ps-fetched-docs.h"
#include "ps-throttled-input-stream.h"
#include "ps-host.h"
#include "ps-json.h"
#include "ps-secret-memory.h"

#include <sodium.h>
#include "ps-url.h"

/* Bodies above this size are parsed in a worker thread, so a large answer
 * does not stall the main loop (and the other requests in flight).
 */
#define PARSE_IN_THREAD_THRESHOLD (64 * 1024)
#define FIRST_RETRY_DELAY_MS      250
#define DEFAULT_RETRIES           4
#define DEFAULT_MAX_RESPONSE_SIZE (64 * 1024 * 1024)
/* Documents may nest up to PS_JSON_MAX_DEPTH; answers wrap them a little. */
#define MAX_ANSWER_DEPTH          (PS_JSON_MAX_DEPTH + 8)
/* A login's answer is a few bytes. */
#define SESSION_ANSWER_SIZE       (64 * 1024)
/* A small socket buffer under a download cap, so that the kernel does not
 * take in far more than the cap while the reader waits.
 */
#define THROTTLED_SOCKET_BUFFER   (8 * 1024)

struct _PsCouchDatabase
{
  GObject      parent_instance;

  SoupSession *session;
  GUri        *server_uri;   /* scheme, host, port and path prefix; no credentials */
  char        *server_root;  /* server_uri as text, without a trailing slash */
  char        *name;         /* the database name, unescaped */
  char        *escaped_name;
  char        *username;
  char        *password;
  char        *session_cookie;
  char        *pinned_fingerprint;
  PsCouchAuth  auth;
  guint        retries;
  PsBandwidthLimiter *upload_limiter;
  PsBandwidthLimiter *download_limiter;
  gsize        max_response_size;
};

G_DEFINE_FINAL_TYPE (PsCouchDatabase, ps_couch_database, G_TYPE_OBJECT)

typedef struct
{
  char         *method;
  char         *url;
  GBytes       *body;
  guint         attempt;
  gboolean      raw;
  gboolean      keep_ids;         /* strings in their JSON form: see ps-fetched-docs.c */
  gboolean      renewed_session;
  guint         status;

  /* The attempt in flight. Its own cancellable drops an answer that is
   * too large; the caller's cancellable cancels it too.
   */
  SoupMessage  *message;
  GCancellable *message_cancellable;
  GSource      *caller_cancelled_source;
} Request;

static void
request_free (Request *request)
{
  g_clear_pointer (&request->method, g_free);
  g_clear_pointer (&request->url, g_free);
  g_clear_pointer (&request->body, g_bytes_unref);
  g_clear_object (&request->message);
  g_clear_object (&request->message_cancellable);
  if (request->caller_cancelled_source != NULL)
    g_source_destroy (request->caller_cancelled_source);
  g_clear_pointer (&request->caller_cancelled_source, g_source_unref);
  g_free (request);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Request, request_free)

static void send_request (GTask *task);

static void
wipe_string (char **str)
{
  if (*str != NULL)
    sodium_memzero (*str, strlen (*str));
  g_clear_pointer (str, g_free);
}

static void
ps_couch_database_finalize (GObject *object)
{
  PsCouchDatabase *self = (PsCouchDatabase *)object;

  g_clear_object (&self->session);
  g_clear_pointer (&self->server_uri, g_uri_unref);
  g_clear_pointer (&self->server_root, g_free);
  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->escaped_name, g_free);
  g_clear_pointer (&self->username, g_free);
  g_clear_pointer (&self->pinned_fingerprint, g_free);
  g_clear_object (&self->upload_limiter);
  g_clear_object (&self->download_limiter);
  ps_secrets_wipe (&self->password);
  wipe_string (&self->session_cookie);

  G_OBJECT_CLASS (ps_couch_database_parent_class)->finalize (object);
}

static void
ps_couch_database_class_init (PsCouchDatabaseClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ps_couch_database_finalize;
}

static void
ps_couch_database_init (PsCouchDatabase *self)
{
  self->retries = DEFAULT_RETRIES;
  self->max_response_size = DEFAULT_MAX_RESPONSE_SIZE;
  self->auth = PS_COUCH_AUTH_BASIC;
}

static gboolean
split_database_path (const char  *path,
                     char       **prefix,
                     char       **escaped_name)
{
  g_autofree char *trimmed = g_strdup (path);
  gsize len = strlen (trimmed);
  char *last_slash;

  while (len > 0 && trimmed[len - 1] == '/')
    trimmed[--len] = '\0';

  last_slash = strrchr (trimmed, '/');
  if (last_slash == NULL || last_slash[1] == '\0')
    return FALSE;

  *escaped_name = g_strdup (last_slash + 1);
  *last_slash = '\0';
  *prefix = g_strdup (trimmed);
  return TRUE;
}

/**
 * ps_couch_database_new:
 * @session: the session requests go through
 * @url: the database URL, e.g. `https://admin:secret@host:6984/primero_child_production`
 * @error: return location for a #PsCouchError
 *
 * Credentials in the URL's userinfo are taken out of it and kept apart, so
 * that the URL can be shown; they are sent with every request.
 *
 * Returns: (transfer full) (nullable): the database endpoint
 */
PsCouchDatabase *
ps_couch_database_new (SoupSession  *session,
                       const char   *url,
                       GError      **error)
{
  g_autoptr(PsCouchDatabase) self = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) url_error = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *escaped_name = NULL;
  g_autofree char *name = NULL;
  const char *scheme;

  g_return_val_if_fail (SOUP_IS_SESSION (session), NULL);
  g_return_val_if_fail (url != NULL, NULL);

  /* A password may hold '/' or '@': ps_url_parse() knows where it ends,
   * and its error never quotes it.
   */
  uri = ps_url_parse (url, &url_error);
  if (uri == NULL)
    {
      g_set_error_literal (error, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_URL,
                           url_error->message);
      return NULL;
    }

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    {
      g_set_error (error, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_URL,
                   _("Only http:// and https:// addresses are supported"));
      return NULL;
    }

  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_URL,
                   _("The address has no host"));
      return NULL;
    }

  if (!split_database_path (g_uri_get_path (uri), &prefix, &escaped_name) ||
      (name = g_uri_unescape_string (escaped_name, NULL)) == NULL)
    {
      g_set_error (error, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_URL,
                   _("The address does not name a database; add its name after the server, as in https://host:6984/primero_child_production"));
      return NULL;
    }

  self = g_object_new (PS_TYPE_COUCH_DATABASE, NULL);
  self->session = g_object_ref (session);
  self->name = g_steal_pointer (&name);
  /* Re-escape, so that a '/' in a name travels as %2F as CouchDB wants. */
  self->escaped_name = g_uri_escape_string (self->name, "$()+", FALSE);
  self->server_uri = g_uri_build (G_URI_FLAGS_ENCODED_PATH,
                                  scheme,
                                  NULL,
                                  g_uri_get_host (uri),
                                  g_uri_get_port (uri),
                                  prefix,
                                  NULL,
                                  NULL);
  self->server_root = g_uri_to_string (self->server_uri);

  if (g_uri_get_user (uri) != NULL && *g_uri_get_user (uri) != '\0')
    {
      g_autofree char *user = g_uri_unescape_string (g_uri_get_user (uri), NULL);
      g_autofree char *password = NULL;

      if (g_uri_get_password (uri) != NULL)
        password = g_uri_unescape_string (g_uri_get_password (uri), NULL);
      ps_couch_database_set_credentials (self, user, password);
      wipe_string (&password);
    }

  return g_steal_pointer (&self);
}

/**
 * ps_couch_database_set_credentials:
 * @self: a #PsCouchDatabase
 * @username: (nullable): the user, or %NULL for none
 * @password: (nullable): the password
 */
void
ps_couch_database_set_credentials (PsCouchDatabase *self,
                                   const char      *username,
                                   const char      *password)
{
  g_return_if_fail (PS_IS_COUCH_DATABASE (self));

  g_free (self->username);
  self->username = g_strdup (username);
  ps_secrets_wipe (&self->password);
  self->password = ps_secrets_dup (password);
  wipe_string (&self->session_cookie);
}

const char *
ps_couch_database_get_username (PsCouchDatabase *self)
{
  g_return_val_if_fail (PS_IS_COUCH_DATABASE (self), NULL);

  return self->username;
}

void
ps_couch_database_set_auth (PsCouchDatabase *self,
                            PsCouchAuth      auth)
{
  g_return_if_fail (PS_IS_COUCH_DATABASE (self));

  self->auth = auth;
}

/**
 * ps_couch_database_set_pinned_fingerprint:
 * @self: a #PsCouchDatabase
 * @sha256_hex: (nullable): the SHA-256 of a certificate the user chose to trust
 *
 * A certificate that the system does not trust is accepted only when its
 * fingerprint is this one.
 */
void
ps_couch_database_set_pinned_fingerprint (PsCouchDatabase *self,
                                          const char      *sha256_hex)
{
  g_return_if_fail (PS_IS_COUCH_DATABASE (self));

  g_free (self->pinned_fingerprint);
  self->pinned_fingerprint = sha256_hex != NULL ? g_ascii_strdown (sha256_hex, -1) : NULL;
}

/**
 * ps_couch_database_set_retries:
 * @self: a #PsCouchDatabase
 * @retries: how often a request that failed for a transient reason is sent again
 */
void
ps_couch_database_set_retries (PsCouchDatabase *self,
                               guint            retries)
{
  g_return_if_fail (PS_IS_COUCH_DATABASE (self));

  self->retries = retries;
}

/**
 * ps_couch_database_set_bandwidth_limiters:
 * @self: a #PsCouchDatabase
 * @upload: (nullable): the cap on request bodies, shared with other databases
 * @download: (nullable): the cap on answer bodies, shared likewise
 *
 * Requests go through the limiters from now on. Databases of one server
 * share the same two limiters, so that requests in parallel share the cap.
 */
void
ps_couch_database_set_bandwidth_limiters (PsCouchDatabase    *self,
                                          PsBandwidthLimiter *upload,
                                          PsBandwidthLimiter *download)
{
  g_return_if_fail (PS_IS_COUCH_DATABASE (self));
  g_return_if_fail (upload == NULL || PS_IS_BANDWIDTH_LIMITER (upload));
  g_return_if_fail (download == NULL || PS_IS_BANDWIDTH_LIMITER (download));

  g_set_object (&self->upload_limiter, upload);
  g_set_object (&self->download_limiter, download);
}

static gboolean
is_limited (PsBandwidthLimiter *limiter)
{
  return limiter != NULL && ps_bandwidth_limiter_get_rate (limiter) > 0;
}

/**
 * ps_couch_database_set_max_response_size:
 * @self: a #PsCouchDatabase
 * @max_size: the largest answer accepted, in bytes (64 MiB by default)
 *
 * A larger answer is dropped as soon as it passes the limit, and the
 * request fails with %PS_COUCH_ERROR_ANSWER_TOO_LARGE: a broken or hostile
 * server cannot take all the memory.
 */
void
ps_couch_database_set_max_response_size (PsCouchDatabase *self,
                                         gsize            max_size)
{
  g_return_if_fail (PS_IS_COUCH_DATABASE (self));
  g_return_if_fail (max_size > 0);

  self->max_response_size = max_size;
}

gsize
ps_couch_database_get_max_response_size (PsCouchDatabase *self)
{
  g_return_val_if_fail (PS_IS_COUCH_DATABASE (self), 0);

  return self->max_response_size;
}

const char *
ps_couch_database_get_name (PsCouchDatabase *self)
{
  g_return_val_if_fail (PS_IS_COUCH_DATABASE (self), NULL);

  return self->name;
}

const char *
ps_couch_database_get_host (PsCouchDatabase *self)
{
  g_return_val_if_fail (PS_IS_COUCH_DATABASE (self), NULL);

  return g_uri_get_host (self->server_uri);
}

/**
 * ps_couch_database_dup_display_url:
 * @self: a #PsCouchDatabase
 *
 * Returns: (transfer full): the URL with the user name but never the password
 */
char *
ps_couch_database_dup_display_url (PsCouchDatabase *self)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *escaped_user = NULL;
  g_autofree char *path = NULL;

  g_return_val_if_fail (PS_IS_COUCH_DATABASE (self), NULL);

  if (self->username != NULL)
    escaped_user = g_uri_escape_string (self->username, NULL, FALSE);
  path = g_strconcat (g_uri_get_path (self->server_uri), "/", self->escaped_name, NULL);
  uri = g_uri_build_with_user (G_URI_FLAGS_ENCODED, g_uri_get_scheme (self->server_uri),
                               escaped_user, NULL, NULL,
                               g_uri_get_host (self->server_uri),
                               g_uri_get_port (self->server_uri),
                               path, NULL, NULL);

  return g_uri_to_string (uri);
}

/**
 * ps_couch_database_dup_identity_url:
 * @self: a #PsCouchDatabase
 *
 * Returns: (transfer full): the URL without any credentials: what names the
 *   database whoever connects to it
 */
char *
ps_couch_database_dup_identity_url (PsCouchDatabase *self)
{
  g_return_val_if_fail (PS_IS_COUCH_DATABASE (self), NULL);

  return g_strconcat (self->server_root, "/", self->escaped_name, NULL);
}

/**
 * ps_couch_escape_id:
 * @doc_id: a document id
 *
 * Returns: (transfer full): @doc_id for a URL path; `_design/` and `_local/`
 *   keep their slash, as CouchDB expects
 */
char *
ps_couch_escape_id (const char *doc_id)
{
  g_autofree char *escaped = NULL;

  if (g_str_has_prefix (doc_id, "_design/") || g_str_has_prefix (doc_id, "_local/"))
    {
      const char *slash = strchr (doc_id, '/');

      escaped = g_uri_escape_string (slash + 1, NULL, FALSE);
      return g_strdup_printf ("%.*s/%s", (int)(slash - doc_id), doc_id, escaped);
    }

  return g_uri_escape_string (doc_id, NULL, FALSE);
}

/**
 * ps_couch_session_new:
 *
 * A session tuned for replication: enough connections per host for the
 * requests a replication keeps in flight and an I/O timeout that notices a
 * dead link. Idle connections are left for the server to close: libsoup
 * (3.2) loses a request sent on a kept-alive connection at the moment its
 * own idle timeout closes it, with no error and no timeout, so the
 * replication would wait forever. A connection the server closed is
 * noticed before reuse, or the request is sent again, as every request is
 * marked idempotent.
 *
 * Returns: (transfer full): a new #SoupSession
 */
SoupSession *
ps_couch_session_new (void)
{
  return soup_session_new_with_options ("max-conns-per-host", 8,
                                        "max-conns", 32,
                                        "timeout", 60,
                                        "idle-timeout", 0,
                                        "user-agent", "PrimeroSync/" PACKAGE_VERSION " ",
                                        NULL);
}

/**
 * ps_couch_json_to_bytes:
 * @node: a JSON value
 *
 * Returns: (transfer full): @node as compact JSON text
 */
GBytes *
ps_couch_json_to_bytes (JsonNode *node)
{
  char *text = json_to_string (node, FALSE);

  return g_bytes_new_take (text, strlen (text));
}

static char *
build_url (PsCouchDatabase *self,
           const char      *path,
           const char      *query)
{
  GString *url = g_string_new (self->server_root);

  if (path != NULL && path[0] == '/')
    g_string_append (url, path);
  else
    {
      g_string_append_c (url, '/');
      g_string_append (url, self->escaped_name);
      if (path != NULL && *path != '\0')
        {
          g_string_append_c (url, '/');
          g_string_append (url, path);
        }
    }

  if (query != NULL && *query != '\0')
    {
      g_string_append_c (url, '?');
      g_string_append (url, query);
    }

  return g_string_free (url, FALSE);
}

static char *
certificate_sha256 (GTlsCertificate *certificate)
{
  g_autoptr(GByteArray) der = NULL;

  g_object_get (certificate, "certificate", &der, NULL);
  if (der == NULL)
    return NULL;

  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
}

static gboolean
on_message_accept_certificate_cb (SoupMessage          *message,
                                  GTlsCertificate      *certificate,
                                  GTlsCertificateFlags  errors,
                                  gpointer              user_data)
{
  const char *pinned = user_data;
  g_autofree char *fingerprint = certificate_sha256 (certificate);

  return pinned != NULL && fingerprint != NULL && g_str_equal (pinned, fingerprint);
}

static void
free_fingerprint (gpointer  data,
                  GClosure *closure)
{
  g_free (data);
}

static void
on_message_network_event_cb (SoupMessage        *message,
                             GSocketClientEvent  event,
                             GIOStream          *connection,
                             gpointer            user_data)
{
  GSocket *socket;

  /* Set before connecting, so that the TCP window is sized from it. */
  if (event != G_SOCKET_CLIENT_CONNECTING || !G_IS_SOCKET_CONNECTION (connection))
    return;

  socket = g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection));
  g_socket_set_option (socket, SOL_SOCKET, SO_RCVBUF, THROTTLED_SOCKET_BUFFER, NULL);
}

static SoupMessage *
new_message (PsCouchDatabase *self,
             Request         *request)
{
  g_autoptr(SoupMessage) message = NULL;
  SoupMessageHeaders *headers;

  message = soup_message_new (request->method, request->url);
  if (message == NULL)
    return NULL;

  headers = soup_message_get_request_headers (message);
  soup_message_headers_replace (headers, "Accept", "application/json");
  if (request->body != NULL && is_limited (self->upload_limiter))
    {
      g_autoptr(GInputStream) stream = ps_throttled_input_stream_new (request->body,
                                                                      self->upload_limiter);

      soup_message_set_request_body (message, "application/json", stream,
                                     g_bytes_get_size (request->body));
    }
  else if (request->body != NULL)
    soup_message_set_request_body_from_bytes (message, "application/json", request->body);

  if (is_limited (self->download_limiter))
    g_signal_connect (message, "network-event", G_CALLBACK (on_message_network_event_cb), NULL);

  if (self->username != NULL && self->auth == PS_COUCH_AUTH_BASIC)
    {
      g_autofree char *pair = g_strconcat (self->username, ":",
                                           self->password != NULL ? self->password : "",
                                           NULL);
      g_autofree char *encoded = g_base64_encode ((const guchar *)pair, strlen (pair));
      g_autofree char *value = g_strconcat ("Basic ", encoded, NULL);

      /* libsoup keeps its own copy of the header. */
      soup_message_headers_replace (headers, "Authorization", value);
      sodium_memzero (pair, strlen (pair));
      sodium_memzero (encoded, strlen (encoded));
      sodium_memzero (value, strlen (value));
    }
  else if (self->session_cookie != NULL)
    soup_message_headers_replace (headers, "Cookie", self->session_cookie);

  /* Compressing costs both ends CPU; it only pays across a real network. */
  if (ps_host_is_loopback (g_uri_get_host (self->server_uri)))
    soup_message_disable_feature (message, SOUP_TYPE_CONTENT_DECODER);

  /* Every request the replicator sends can safely be repeated. */
  soup_message_add_flags (message, SOUP_MESSAGE_IDEMPOTENT);

  /* A redirection could take the credentials, or the session cookie, to
   * another host: it is reported instead (handle_answer).
   */
  if (self->username != NULL || self->session_cookie != NULL)
    soup_message_add_flags (message, SOUP_MESSAGE_NO_REDIRECT);

  if (self->pinned_fingerprint != NULL)
    g_signal_connect_data (message, "accept-certificate",
                           G_CALLBACK (on_message_accept_certificate_cb),
                           g_strdup (self->pinned_fingerprint),
                           free_fingerprint, 0);

  return g_steal_pointer (&message);
}

static gboolean
looks_like_html (GBytes *bytes)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  gsize i = 0;

  while (i < len && g_ascii_isspace (data[i]))
    i++;

  return i < len && data[i] == '<';
}

/* @bytes was read under the answer size limit already. */
static JsonNode *
parse_json (GBytes  *bytes,
            GError **error)
{
  g_autoptr(GError) local_error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  JsonNode *node = ps_json_parse_untrusted (data, len, G_MAXSIZE, MAX_ANSWER_DEPTH, &local_error);

  if (node != NULL)
    return node;

  if (g_error_matches (local_error, PS_JSON_ERROR, PS_JSON_ERROR_TOO_DEEP))
    g_set_error (error, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                 _("the server sent JSON nested deeper than %u levels"), MAX_ANSWER_DEPTH);
  else
    g_set_error_literal (error, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                         _("the server sent an answer that is not valid JSON"));
  return NULL;
}

static void
parse_in_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  GBytes *bytes = task_data;
  GError *error = NULL;
  JsonNode *node = parse_json (bytes, &error);

  if (node == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
}

static GError *
error_for_status (guint   status,
                  GBytes *body)
{
  g_autoptr(JsonNode) node = NULL;
  const char *couch_error = NULL;
  const char *couch_reason = NULL;

  if (body != NULL && g_bytes_get_size (body) > 0 && !looks_like_html (body))
    node = parse_json (body, NULL);

  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_node_get_object (node);

      couch_error = json_object_get_string_member_with_default (object, "error", NULL);
      couch_reason = json_object_get_string_member_with_default (object, "reason", NULL);
    }

  return ps_couch_error_from_status (status, couch_error, couch_reason);
}

static gboolean
on_retry_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;

  send_request (task);
  return G_SOURCE_REMOVE;
}

/* Retries transient failures with exponential back-off; returns FALSE when
 * the failure is final and was returned to the caller.
 */
static void
fail_or_retry (GTask  *task,
               GError *error)
{
  PsCouchDatabase *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);

  if (ps_couch_error_is_transient (error) && request->attempt < self->retries &&
      !g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      guint delay = FIRST_RETRY_DELAY_MS << request->attempt;

      g_debug ("%s %s failed (%s); retrying in %u ms",
               request->method, ps_couch_database_get_name (self), error->message, delay);
      request->attempt++;
      g_error_free (error);
      g_timeout_add (delay, on_retry_timeout_cb, task);
      return;
    }

  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
on_session_created_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  GTask *task = user_data;
  PsCouchDatabase *self = g_task_get_source_object (task);
  SoupMessage *message = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  GSList *cookies;

  body = ps_body_reader_send_finish (result, &message, &error);
  if (body == NULL)
    {
      fail_or_retry (task, ps_couch_error_from_io (error, ps_couch_database_get_host (self),
                                                   g_uri_get_port (self->server_uri)));
      return;
    }

  if (SOUP_STATUS_IS_REDIRECTION (soup_message_get_status (message)))
    {
      g_task_return_error (task, ps_couch_error_from_redirect (message));
      g_object_unref (task);
      return;
    }

  if (!SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (message)))
    {
      fail_or_retry (task, error_for_status (soup_message_get_status (message), body));
      return;
    }

  cookies = soup_cookies_from_response (message);
  for (GSList *l = cookies; l != NULL; l = l->next)
    {
      SoupCookie *cookie = l->data;

      if (g_str_equal (soup_cookie_get_name (cookie), "AuthSession"))
        {
          wipe_string (&self->session_cookie);
          self->session_cookie = g_strconcat ("AuthSession=", soup_cookie_get_value (cookie), NULL);
        }
    }
  g_slist_free_full (cookies, (GDestroyNotify) soup_cookie_free);

  if (self->session_cookie == NULL)
    {
      g_task_return_new_error (task, PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_COUCHDB,
                               _("the server accepted the login but gave no session"));
      g_object_unref (task);
      return;
    }

  send_request (task);
}

static void
create_session (GTask *task)
{
  PsCouchDatabase *self = g_task_get_source_object (task);
  g_autoptr(SoupMessage) message = NULL;
  g_autofree char *url = build_url (self, "/_session", NULL);
  g_autoptr(GBytes) body = NULL;
  char *form;

  form = soup_form_encode ("name", self->username,
                           "password", self->password != NULL ? self->password : "",
                           NULL);
  /* The form holds the password: it is wiped when libsoup is done with it. */
  body = g_bytes_new_with_free_func (form, strlen (form), (GDestroyNotify) secret_password_free,
                                     form);
  message = soup_message_new (SOUP_METHOD_POST, url);
  soup_message_set_request_body_from_bytes (message, "application/x-www-form-urlencoded", body);
  soup_message_headers_replace (soup_message_get_request_headers (message),
                                "Accept", "application/json");
  /* The form holds the password: it goes to this server only. */
  soup_message_add_flags (message, SOUP_MESSAGE_NO_REDIRECT);
  ps_body_reader_send_async (self->session, message, SESSION_ANSWER_SIZE,
                             g_task_get_cancellable (task), on_session_created_cb, task);
}

static void
on_body_parsed_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  JsonNode *node = g_task_propagate_pointer (G_TASK (result), &error);

  /* An answer that does not parse was most often garbled on the way. */
  if (node == NULL)
    {
      fail_or_retry (task, error);
      return;
    }

  g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
  g_object_unref (task);
}

static void
return_body (GTask  *task,
             GBytes *body)
{
  Request *request = g_task_get_task_data (task);
  GError *error = NULL;
  JsonNode *node;

  if (request->raw)
    {
      g_task_return_pointer (task, g_bytes_ref (body), (GDestroyNotify) g_bytes_unref);
      g_object_unref (task);
      return;
    }

  if (request->keep_ids)
    {
      node = ps_couch_parse_json_keeping_ids (body, &error);
      if (node == NULL)
        {
          fail_or_retry (task, error);
          return;
        }
      g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
      g_object_unref (task);
      return;
    }

  if (g_bytes_get_size (body) > PARSE_IN_THREAD_THRESHOLD)
    {
      g_autoptr(GTask) parse_task = g_task_new (NULL, g_task_get_cancellable (task),
                                                on_body_parsed_cb, task);

      g_task_set_source_tag (parse_task, parse_in_thread);
      g_task_set_task_data (parse_task, g_bytes_ref (body), (GDestroyNotify) g_bytes_unref);
      g_task_run_in_thread (parse_task, parse_in_thread);
      return;
    }

  node = parse_json (body, &error);
  if (node == NULL)
    {
      fail_or_retry (task, error);
      return;
    }

  g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
  g_object_unref (task);
}

/* An untrusted certificate's fingerprint lets the user compare it with the
 * server's and pin it for this server only.
 */
static void
add_certificate_fingerprint (GError      *error,
                             SoupMessage *message)
{
  GTlsCertificate *certificate;
  g_autofree char *fingerprint = NULL;
  char *described;

  if (!g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_TLS))
    return;
  certificate = soup_message_get_tls_peer_certificate (message);
  if (certificate == NULL || (fingerprint = certificate_sha256 (certificate)) == NULL)
    return;

  described = g_strdup_printf (_("%s; its certificate’s SHA-256 fingerprint is %s"),
                               error->message, fingerprint);
  g_free (error->message);
  error->message = described;
}

/* @body is the whole answer, or %NULL when @error says why there is none. */
static void
handle_answer (GTask       *task,
               SoupMessage *message,
               GBytes      *body)
{
  PsCouchDatabase *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);
  const char *content_type;
  guint status;

  status = soup_message_get_status (message);
  request->status = status;

  if (status == SOUP_STATUS_UNAUTHORIZED && self->auth == PS_COUCH_AUTH_SESSION &&
      self->username != NULL && !request->renewed_session)
    {
      /* The session cookie expired: log in again, once. */
      request->renewed_session = TRUE;
      wipe_string (&self->session_cookie);
      create_session (task);
      return;
    }

  if (SOUP_STATUS_IS_REDIRECTION (status))
    {
      g_task_return_error (task, ps_couch_error_from_redirect (message));
      g_object_unref (task);
      return;
    }

  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      fail_or_retry (task, error_for_status (status, body));
      return;
    }

  content_type = soup_message_headers_get_content_type (soup_message_get_response_headers (message),
                                                        NULL);
  if (looks_like_html (body) ||
      (content_type != NULL && g_str_equal (content_type, "text/html")))
    {
      g_task_return_new_error (task, PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_COUCHDB,
                               _("the server answered with a web page, not as CouchDB does; "
                                 "check that the address is the CouchDB server"));
      g_object_unref (task);
      return;
    }

  return_body (task, body);
}

static void
fail_transport (GTask  *task,
                GError *error)
{
  PsCouchDatabase *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);
  GError *couch_error = ps_couch_error_from_io (error, ps_couch_database_get_host (self),
                                                g_uri_get_port (self->server_uri));

  add_certificate_fingerprint (couch_error, request->message);
  fail_or_retry (task, couch_error);
}

static void
on_stream_closed_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_input_stream_close_finish (G_INPUT_STREAM (object), result, NULL);
}

/* Closing a body that was not read to its end makes libsoup drop the
 * connection rather than read the rest; the cancel stops our own read.
 */
static void
drop_answer (Request      *request,
             GInputStream *stream)
{
  g_cancellable_cancel (request->message_cancellable);
  g_input_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, on_stream_closed_cb, NULL);
}

static void
fail_too_large (GTask        *task,
                GInputStream *stream)
{
  PsCouchDatabase *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);
  g_autofree char *limit = ps_couch_format_size_limit (self->max_response_size);

  drop_answer (request, stream);
  g_debug ("%s %s: the answer is over %s", request->method, request->url, limit);
  /* Asking again would bring the same answer. */
  g_task_return_new_error (task, PS_COUCH_ERROR, PS_COUCH_ERROR_ANSWER_TOO_LARGE,
                           _("the server sent an answer larger than the %s limit"), limit);
  g_object_unref (task);
}

static void
on_body_read_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  Request *request = g_task_get_task_data (task);
  GInputStream *stream = G_INPUT_STREAM (object);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  body = ps_body_reader_read_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE))
    {
      fail_too_large (task, stream);
      return;
    }
  if (body == NULL)
    {
      drop_answer (request, stream);
      fail_transport (task, error);
      return;
    }

  g_input_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, on_stream_closed_cb, NULL);
  handle_answer (task, request->message, body);
}

static void
on_request_sent_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  PsCouchDatabase *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);
  SoupMessageHeaders *headers = soup_message_get_response_headers (request->message);
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GError) error = NULL;

  stream = soup_session_send_finish (SOUP_SESSION (object), result, &error);
  if (stream == NULL)
    {
      fail_transport (task, error);
      return;
    }

  /* A declared length over the limit is refused before reading any of it. */
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length (headers) > (goffset) self->max_response_size)
    {
      fail_too_large (task, stream);
      return;
    }

  ps_body_reader_read_async (stream, self->max_response_size, self->download_limiter,
                             request->message_cancellable,
                             on_body_read_cb, task);
}

static void
send_request (GTask *task)
{
  PsCouchDatabase *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);
  g_autoptr(SoupMessage) message = NULL;

  if (self->auth == PS_COUCH_AUTH_SESSION && self->username != NULL &&
      self->session_cookie == NULL)
    {
      create_session (task);
      return;
    }

  message = new_message (self, request);
  if (message == NULL)
    {
      g_task_return_new_error (task, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_URL,
                               _("A request could not be made for this address"));
      g_object_unref (task);
      return;
    }

  g_set_object (&request->message, message);
  g_clear_object (&request->message_cancellable);
  request->message_cancellable = g_cancellable_new ();
  if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    g_cancellable_cancel (request->message_cancellable);

  soup_session_send_async (self->session, message, G_PRIORITY_DEFAULT,
                           request->message_cancellable, on_request_sent_cb, task);
}

static gboolean
on_caller_cancelled_cb (GCancellable *cancellable,
                        gpointer      user_data)
{
  Request *request = user_data;

  if (request->message_cancellable != NULL)
    g_cancellable_cancel (request->message_cancellable);
  return G_SOURCE_REMOVE;
}

static void
start_request (PsCouchDatabase     *self,
               const char          *method,
               const char          *path,
               const char          *query,
               GBytes              *body,
               gboolean             raw,
               gpointer             source_tag,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  GTask *task;
  Request *request;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  request = g_new0 (Request, 1);
  request->method = g_strdup (method);
  request->url = build_url (self, path, query);
  request->body = body != NULL ? g_bytes_ref (body) : NULL;
  request->raw = raw;
  request->keep_ids = source_tag == ps_couch_database_request_keeping_ids_async;
  g_task_set_task_data (task, request, (GDestroyNotify) request_free);

  /* A source rather than a handler: the request may end, and be freed,
   * while the caller's cancellable is still emitting.
   */
  if (cancellable != NULL)
    {
      request->caller_cancelled_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (request->caller_cancelled_source,
                             G_SOURCE_FUNC (on_caller_cancelled_cb), request, NULL);
      g_source_attach (request->caller_cancelled_source, g_main_context_get_thread_default ());
    }

  send_request (task);
}

/**
 * ps_couch_database_request_async:
 * @self: a #PsCouchDatabase
 * @method: the HTTP method
 * @path: (nullable): escaped, relative to the database (`_changes`), or to
 *   the server when it starts with `/` (`/_session`); %NULL for the database
 * @query: (nullable): the escaped query string, without `?`
 * @body: (nullable): a JSON request body
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the parsed answer
 * @user_data: data for @callback
 *
 * Sends one request, with the credentials, and retries it after a transient
 * failure (see ps_couch_database_set_retries()).
 */
void
ps_couch_database_request_async (PsCouchDatabase     *self,
                                 const char          *method,
                                 const char          *path,
                                 const char          *query,
                                 GBytes              *body,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (PS_IS_COUCH_DATABASE (self));
  g_return_if_fail (method != NULL);

  start_request (self, method, path, query, body, FALSE, ps_couch_database_request_async,
                 cancellable, callback, user_data);
}

/**
 * ps_couch_database_request_finish:
 * @self: a #PsCouchDatabase
 * @result: the result
 * @error: return location for a #PsCouchError
 *
 * Returns: (transfer full): the parsed JSON answer
 */
JsonNode *
ps_couch_database_request_finish (PsCouchDatabase  *self,
                                  GAsyncResult     *result,
                                  GError          **error)
{
  g_return_val_if_fail (PS_IS_COUCH_DATABASE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ps_couch_database_request_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * ps_couch_database_request_bytes_async:
 *
 * As ps_couch_database_request_async(), but the answer is returned as it
 * came, for callers that scan it without building a JSON tree.
 */
void
ps_couch_database_request_bytes_async (PsCouchDatabase     *self,
                                       const char          *method,
                                       const char          *path,
                                       const char          *query,
                                       GBytes              *body,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_return_if_fail (PS_IS_COUCH_DATABASE (self));
  g_return_if_fail (method != NULL);

  start_request (self, method, path, query, body, TRUE, ps_couch_database_request_bytes_async,
                 cancellable, callback, user_data);
}

GBytes *
ps_couch_database_request_bytes_finish (PsCouchDatabase  *self,
                                        GAsyncResult     *result,
                                        GError          **error)
{
  g_return_val_if_fail (PS_IS_COUCH_DATABASE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ps_couch_database_request_bytes_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * ps_couch_database_request_keeping_ids_async:
 *
 * As ps_couch_database_request_async(), for answers whose strings are
 * document ids: they come out in their JSON form, NULs and all (see
 * ps_couch_parse_json_keeping_ids()).
 */
void
ps_couch_database_request_keeping_ids_async (PsCouchDatabase     *self,
                                             const char          *method,
                                             const char          *path,
                                             const char          *query,
                                             GBytes              *body,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data)
{
  g_return_if_fail (PS_IS_COUCH_DATABASE (self));
  g_return_if_fail (method != NULL);

  start_request (self, method, path, query, body, FALSE,
                 ps_couch_database_request_keeping_ids_async, cancellable, callback, user_data);
}

JsonNode *
ps_couch_database_request_keeping_ids_finish (PsCouchDatabase  *self,
                                              GAsyncResult     *result,
                                              GError          **error)
{
  g_return_val_if_fail (PS_IS_COUCH_DATABASE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        ps_couch_database_request_keeping_ids_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

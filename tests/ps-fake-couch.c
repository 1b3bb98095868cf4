/* ps-fake-couch.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A SoupServer on loopback, in the test's own main context, answering canned
 * responses: for the edge cases a real CouchDB will not produce on demand
 * (garbage, 500s, slow answers, authentication challenges). Behaviour is
 * proven against the real test peer; this only covers what it cannot show.
 */

#include "ps-fake-couch.h"

#include <string.h>

typedef struct
{
  guint     status;
  char     *content_type;
  char     *body;
  char     *location;   /* sent as Location, for a redirection */
  char     *cookie;     /* sent as Set-Cookie */

  /* A streamed answer: head, then repeat until total bytes were sent. */
  char     *repeat;
  guint64   total;
  gboolean  declare_length;
} Route;

#define STREAM_CHUNK_SIZE (256 * 1024)

struct _PsFakeCouch
{
  SoupServer *server;
  GUri       *base;
  GHashTable *routes;     /* "METHOD path" → Route */
  GHashTable *counts;     /* "METHOD path" → count */
  guint       fail_count;
  guint       fail_status;
  guint       delay_ms;
  char       *auth_user;
  char       *auth_password;
  gboolean    send_challenge;
  char       *last_authorization;
  char       *last_cookie;
  guint64     streamed;   /* bytes of streamed answers handed to the server */
  GPtrArray  *delayed;    /* Delayed answers still waiting */
};

static void
route_free (Route *route)
{
  g_free (route->content_type);
  g_free (route->body);
  g_free (route->location);
  g_free (route->cookie);
  g_free (route->repeat);
  g_free (route);
}

static void
respond (SoupServerMessage *message,
         guint              status,
         const char        *content_type,
         const char        *body)
{
  soup_server_message_set_status (message, status, NULL);
  soup_server_message_set_response (message, content_type, SOUP_MEMORY_COPY,
                                    body, strlen (body));
}

static gboolean
check_auth (PsFakeCouch       *fake,
            SoupServerMessage *message)
{
  const char *header;
  g_autofree char *expected_pair = NULL;
  g_autofree char *encoded = NULL;
  g_autofree char *expected = NULL;

  header = soup_message_headers_get_one (soup_server_message_get_request_headers (message),
                                         "Authorization");
  g_free (fake->last_authorization);
  fake->last_authorization = g_strdup (header);
  g_free (fake->last_cookie);
  fake->last_cookie = g_strdup (soup_message_headers_get_one (soup_server_message_get_request_headers (message),
                                                              "Cookie"));

  if (fake->auth_user == NULL)
    return TRUE;

  expected_pair = g_strconcat (fake->auth_user, ":", fake->auth_password, NULL);
  encoded = g_base64_encode ((guchar *) expected_pair, strlen (expected_pair));
  expected = g_strconcat ("Basic ", encoded, NULL);
  if (g_strcmp0 (header, expected) == 0)
    return TRUE;

  if (fake->send_challenge)
    soup_message_headers_replace (soup_server_message_get_response_headers (message),
                                  "WWW-Authenticate", "Basic realm=\"server\"");
  respond (message, 401, "application/json",
           "{\"error\":\"unauthorized\",\"reason\":\"Name or password is incorrect.\"}");
  return FALSE;
}

typedef struct
{
  PsFakeCouch *fake;
  GBytes      *chunk;
  guint64      left;
} Stream;

static void
stream_free (gpointer  data,
             GClosure *closure)
{
  Stream *stream = data;

  g_bytes_unref (stream->chunk);
  g_free (stream);
}

/* One chunk at a time, each once the last was written: the fake never
 * holds more than a chunk, however long the answer.
 */
static void
on_stream_wrote_chunk_cb (SoupServerMessage *message,
                          Stream            *stream)
{
  SoupMessageBody *body = soup_server_message_get_response_body (message);
  gsize len = MIN ((guint64) g_bytes_get_size (stream->chunk), stream->left);
  g_autoptr(GBytes) part = NULL;

  if (len == 0)
    {
      soup_message_body_complete (body);
      return;
    }

  part = g_bytes_new_from_bytes (stream->chunk, 0, len);
  soup_message_body_append_bytes (body, part);
  stream->left -= len;
  stream->fake->streamed += len;
}

static void
respond_stream (PsFakeCouch       *fake,
                SoupServerMessage *message,
                Route             *route)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (message);
  SoupMessageBody *body = soup_server_message_get_response_body (message);
  gsize head_len = strlen (route->body);
  gsize repeat_len = strlen (route->repeat);
  GString *chunk = g_string_new (NULL);
  Stream *stream = g_new0 (Stream, 1);

  while (chunk->len + repeat_len <= STREAM_CHUNK_SIZE)
    g_string_append_len (chunk, route->repeat, repeat_len);

  stream->fake = fake;
  stream->chunk = g_string_free_to_bytes (chunk);
  stream->left = route->total > head_len ? route->total - head_len : 0;

  soup_server_message_set_status (message, route->status, NULL);
  soup_message_headers_set_content_type (headers, route->content_type, NULL);
  if (route->declare_length)
    soup_message_headers_set_content_length (headers, route->total);
  else
    soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  soup_message_body_set_accumulate (body, FALSE);

  soup_message_body_append (body, SOUP_MEMORY_COPY, route->body, head_len);
  fake->streamed += head_len;
  g_signal_connect_data (message, "wrote-chunk", G_CALLBACK (on_stream_wrote_chunk_cb), stream,
                         stream_free, 0);
}

static void
answer (PsFakeCouch       *fake,
        SoupServerMessage *message)
{
  g_autofree char *key = NULL;
  const char *path = g_uri_get_path (soup_server_message_get_uri (message));
  Route *route;

  key = g_strdup_printf ("%s %s", soup_server_message_get_method (message), path);
  g_hash_table_replace (fake->counts, g_strdup (key),
                        GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (fake->counts, key)) + 1));

  if (!check_auth (fake, message))
    return;

  if (fake->fail_count > 0)
    {
      fake->fail_count--;
      respond (message, fake->fail_status, "application/json",
               "{\"error\":\"internal_server_error\",\"reason\":\"failing on purpose\"}");
      return;
    }

  route = g_hash_table_lookup (fake->routes, key);
  if (route == NULL)
    {
      respond (message, 404, "application/json", "{\"error\":\"not_found\",\"reason\":\"missing\"}");
      return;
    }

  if (route->location != NULL)
    soup_message_headers_replace (soup_server_message_get_response_headers (message),
                                  "Location", route->location);
  if (route->cookie != NULL)
    soup_message_headers_append (soup_server_message_get_response_headers (message),
                                 "Set-Cookie", route->cookie);
  if (route->repeat != NULL)
    respond_stream (fake, message, route);
  else
    respond (message, route->status, route->content_type, route->body);
}

typedef struct
{
  PsFakeCouch       *fake;
  SoupServerMessage *message;
  guint              source_id;
} Delayed;

static void
delayed_free (Delayed *delayed)
{
  g_clear_handle_id (&delayed->source_id, g_source_remove);
  g_object_unref (delayed->message);
  g_free (delayed);
}

static gboolean
on_delay_elapsed_cb (gpointer user_data)
{
  Delayed *delayed = user_data;

  delayed->source_id = 0;
  answer (delayed->fake, delayed->message);
  soup_server_message_unpause (delayed->message);
  g_ptr_array_remove_fast (delayed->fake->delayed, delayed);
  return G_SOURCE_REMOVE;
}

static void
handle_request_cb (SoupServer        *server,
                   SoupServerMessage *message,
                   const char        *path,
                   GHashTable        *query,
                   gpointer           user_data)
{
  PsFakeCouch *fake = user_data;

  if (fake->delay_ms > 0)
    {
      Delayed *delayed = g_new0 (Delayed, 1);

      delayed->fake = fake;
      delayed->message = g_object_ref (message);
      soup_server_message_pause (message);
      /* Dropped with the fake, should the test end before the answer. */
      delayed->source_id = g_timeout_add (fake->delay_ms, on_delay_elapsed_cb, delayed);
      g_ptr_array_add (fake->delayed, delayed);
      return;
    }

  answer (fake, message);
}

PsFakeCouch *
ps_fake_couch_new (void)
{
  PsFakeCouch *fake = g_new0 (PsFakeCouch, 1);
  g_autoptr(GError) error = NULL;
  GSList *uris;

  fake->routes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) route_free);
  fake->counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  fake->delayed = g_ptr_array_new_with_free_func ((GDestroyNotify) delayed_free);
  fake->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (fake->server, NULL, handle_request_cb, fake, NULL);
  soup_server_listen_local (fake->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (fake->server);
  g_assert_nonnull (uris);
  fake->base = g_uri_ref (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  return fake;
}

void
ps_fake_couch_free (PsFakeCouch *fake)
{
  g_clear_pointer (&fake->delayed, g_ptr_array_unref);
  soup_server_disconnect (fake->server);
  g_clear_object (&fake->server);
  g_clear_pointer (&fake->base, g_uri_unref);
  g_clear_pointer (&fake->routes, g_hash_table_unref);
  g_clear_pointer (&fake->counts, g_hash_table_unref);
  g_free (fake->auth_user);
  g_free (fake->auth_password);
  g_free (fake->last_authorization);
  g_free (fake->last_cookie);
  g_free (fake);
}

char *
ps_fake_couch_url (PsFakeCouch *fake,
                   const char  *path)
{
  return g_strdup_printf ("http://127.0.0.1:%d%s", g_uri_get_port (fake->base), path);
}

void
ps_fake_couch_route (PsFakeCouch *fake,
                     const char  *method,
                     const char  *path,
                     guint        status,
                     const char  *content_type,
                     const char  *body)
{
  Route *route = g_new0 (Route, 1);

  route->status = status;
  route->content_type = g_strdup (content_type != NULL ? content_type : "application/json");
  route->body = g_strdup (body);
  g_hash_table_replace (fake->routes, g_strdup_printf ("%s %s", method, path), route);
}

/* Answers @status (301, 302, 307, 308) with a Location of @location. */
void
ps_fake_couch_route_redirect (PsFakeCouch *fake,
                              const char  *method,
                              const char  *path,
                              guint        status,
                              const char  *location)
{
  Route *route = g_new0 (Route, 1);

  route->status = status;
  route->content_type = g_strdup ("application/json");
  route->body = g_strdup ("{\"moved\":true}");
  route->location = g_strdup (location);
  g_hash_table_replace (fake->routes, g_strdup_printf ("%s %s", method, path), route);
}

/* Answers a login (POST /_session) as CouchDB does, with a session cookie. */
void
ps_fake_couch_route_login (PsFakeCouch *fake,
                           const char  *cookie_value)
{
  Route *route = g_new0 (Route, 1);

  route->status = 200;
  route->content_type = g_strdup ("application/json");
  route->body = g_strdup ("{\"ok\":true,\"name\":\"admin\",\"roles\":[\"_admin\"]}");
  route->cookie = g_strdup_printf ("AuthSession=%s; Version=1; Path=/; HttpOnly", cookie_value);
  g_hash_table_replace (fake->routes, g_strdup ("POST /_session"), route);
}

/**
 * ps_fake_couch_route_stream:
 * @head: the start of the answer
 * @repeat: text repeated after @head
 * @total: the length of the answer, head included
 * @declare_length: whether to send a Content-Length, or stream chunks
 *
 * Routes an answer of any size, even larger than memory, with status 200.
 */
void
ps_fake_couch_route_stream (PsFakeCouch *fake,
                            const char  *method,
                            const char  *path,
                            const char  *head,
                            const char  *repeat,
                            guint64      total,
                            gboolean     declare_length)
{
  Route *route = g_new0 (Route, 1);

  g_return_if_fail (repeat != NULL && *repeat != '\0');

  route->status = 200;
  route->content_type = g_strdup ("application/json");
  route->body = g_strdup (head);
  route->repeat = g_strdup (repeat);
  route->total = total;
  route->declare_length = declare_length;
  g_hash_table_replace (fake->routes, g_strdup_printf ("%s %s", method, path), route);
}

/* How many bytes of streamed answers were handed to the server. */
guint64
ps_fake_couch_get_streamed (PsFakeCouch *fake)
{
  return fake->streamed;
}

/* The next @count requests, whatever they are, get @status. */
void
ps_fake_couch_fail_next (PsFakeCouch *fake,
                         guint        count,
                         guint        status)
{
  fake->fail_count = count;
  fake->fail_status = status;
}

void
ps_fake_couch_set_delay (PsFakeCouch *fake,
                         guint        milliseconds)
{
  fake->delay_ms = milliseconds;
}

void
ps_fake_couch_require_auth (PsFakeCouch *fake,
                            const char  *user,
                            const char  *password,
                            gboolean     send_challenge)
{
  g_free (fake->auth_user);
  g_free (fake->auth_password);
  fake->auth_user = g_strdup (user);
  fake->auth_password = g_strdup (password);
  fake->send_challenge = send_challenge;
}

guint
ps_fake_couch_count_requests (PsFakeCouch *fake,
                              const char  *method,
                              const char  *path)
{
  g_autofree char *key = g_strdup_printf ("%s %s", method, path);

  return GPOINTER_TO_UINT (g_hash_table_lookup (fake->counts, key));
}

const char *
ps_fake_couch_last_authorization (PsFakeCouch *fake)
{
  return fake->last_authorization;
}

const char *
ps_fake_couch_last_cookie (PsFakeCouch *fake)
{
  return fake->last_cookie;
}

/* ps-fault-proxy.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A TCP proxy on 127.0.0.1 that forwards HTTP/1.1 to one upstream port and
 * spoils some exchanges on the way: it delays, throttles, cuts, resets,
 * answers 5xx itself, truncates or corrupts answers.
 *
 * It runs in its own thread with its own main context, and each connection
 * is served by blocking I/O in a worker thread, so that a test may block its
 * own thread (synchronous helpers, a subprocess) while traffic goes through.
 * Requests are read whole before they are forwarded, which gives every
 * request its own fault decision; clients do not pipeline, so whatever comes
 * back until the next request is that request's answer.
 */

#define G_LOG_DOMAIN "ps-fault-proxy"

#include "config.h"

#include "ps-fault-proxy.h"

#include <gio/gio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_CONNECTIONS   64
#define CHUNK_SIZE        16384
#define SLEEP_SLICE_MS    20
#define THROTTLE_SLICE_MS 20
#define CONNECT_TIMEOUT_S 10

typedef struct _Connection Connection;

struct _PsFaultProxy
{
  GMutex          mutex;
  GCond           cond;
  GThread        *thread;
  GMainContext   *context;
  GMainLoop      *loop;
  GSocketService *service;
  guint16         port;
  guint16         upstream_port;
  gboolean        ready;
  gboolean        stopping;
  GPtrArray      *connections;   /* Connection, alive */
  guint           handlers;      /* connection threads still running */

  /* The plan, under the mutex. */
  PsFault         fault;
  guint           param;
  guint           remaining;     /* requests left for the fault; 0 means no limit */
  GRand          *rand;
  double          probability;
  guint           random_mask;
  char           *filter;        /* only requests whose first line has this */

  guint           injected[PS_N_FAULTS];
  guint           requests;
  guint           accepted;

  /* A slow link under every exchange, faults or not. */
  guint           link_latency_ms;
  guint           link_bytes_per_second;   /* shared by all connections; 0 = none */
  gint64          link_next_free;          /* monotonic µs */
  int             client_send_buffer;      /* SO_SNDBUF towards clients; 0 = default */

  guint64         bytes_from_clients;
  guint64         bytes_to_clients;
};

/* What happens to one exchange. */
typedef struct
{
  PsFault fault;
  guint   param;
} Plan;

struct _Connection
{
  gatomicrefcount  ref_count;
  PsFaultProxy    *proxy;
  GSocketConnection *client;
  GSocketConnection *upstream;
  GCancellable    *cancellable;
  gint             reset;

  /* The answer in flight, under the proxy's mutex. */
  Plan             plan;
  guint64          budget;        /* PS_FAULT_CUT: answer bytes left */
  guint64          answer_bytes;
  guint64          body_bytes;
  guint            header_match;  /* how much of "\r\n\r\n" was just seen */
  gboolean         in_body;
  gboolean         applied;
  char             previous;      /* the byte before the current one */
};

static const char * const fault_names[PS_N_FAULTS] = {
  "none", "latency", "bandwidth", "cut", "reset", "http-500", "http-503",
  "truncate", "corrupt", "trickle",
};

const char *
ps_fault_get_name (PsFault fault)
{
  g_return_val_if_fail (fault < PS_N_FAULTS, NULL);

  return fault_names[fault];
}

static Connection *
connection_ref (Connection *conn)
{
  g_atomic_ref_count_inc (&conn->ref_count);
  return conn;
}

static void
connection_unref (Connection *conn)
{
  if (!g_atomic_ref_count_dec (&conn->ref_count))
    return;

  g_clear_object (&conn->client);
  g_clear_object (&conn->upstream);
  g_clear_object (&conn->cancellable);
  g_free (conn);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Connection, connection_unref)

static void
count_injected (PsFaultProxy *proxy,
                PsFault       fault)
{
  g_mutex_lock (&proxy->mutex);
  proxy->injected[fault]++;
  g_mutex_unlock (&proxy->mutex);
}

/* Sleeps, waking early when the connection is closed. */
static void
sleep_ms (Connection *conn,
          guint       ms)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * G_TIME_SPAN_MILLISECOND;

  while (!g_cancellable_is_cancelled (conn->cancellable))
    {
      gint64 left = until - g_get_monotonic_time ();

      if (left <= 0)
        return;
      g_usleep (MIN (left, SLEEP_SLICE_MS * G_TIME_SPAN_MILLISECOND));
    }
}

/* Ends the connection from any thread: both blocking reads return. */
static void
close_both (Connection *conn)
{
  g_cancellable_cancel (conn->cancellable);
  /* A shutdown would send a FIN ahead of the reset. */
  if (!g_atomic_int_get (&conn->reset))
    g_socket_shutdown (g_socket_connection_get_socket (conn->client), TRUE, TRUE, NULL);
  if (conn->upstream != NULL)
    g_socket_shutdown (g_socket_connection_get_socket (conn->upstream), TRUE, TRUE, NULL);
}

static gboolean
write_all (Connection    *conn,
           GSocketConnection *to,
           const guint8  *data,
           gsize          len)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (to));

  if (len == 0)
    return TRUE;

  return g_output_stream_write_all (out, data, len, NULL, conn->cancellable, NULL);
}

static gboolean
write_throttled (Connection        *conn,
                 GSocketConnection *to,
                 const guint8      *data,
                 gsize              len,
                 guint              bytes_per_second)
{
  gsize slice = MAX (1, (gsize) bytes_per_second * THROTTLE_SLICE_MS / 1000);

  for (gsize done = 0; done < len; done += slice)
    {
      if (!write_all (conn, to, data + done, MIN (slice, len - done)))
        return FALSE;
      sleep_ms (conn, THROTTLE_SLICE_MS);
    }

  return TRUE;
}

/* The link's rate is shared: every slice of every connection takes its
 * turn, as on one real link.
 */
static gboolean
write_on_link (Connection        *conn,
               GSocketConnection *to,
               const guint8      *data,
               gsize              len)
{
  PsFaultProxy *proxy = conn->proxy;
  guint rate;
  gsize slice;

  g_mutex_lock (&proxy->mutex);
  rate = proxy->link_bytes_per_second;
  g_mutex_unlock (&proxy->mutex);
  if (rate == 0)
    return write_all (conn, to, data, len);

  slice = MAX (1, (gsize) rate * THROTTLE_SLICE_MS / 1000);
  for (gsize done = 0; done < len; done += slice)
    {
      gsize n = MIN (slice, len - done);
      gint64 now = g_get_monotonic_time ();
      gint64 end;

      g_mutex_lock (&proxy->mutex);
      end = MAX (proxy->link_next_free, now) + (gint64) n * G_USEC_PER_SEC / rate;
      proxy->link_next_free = end;
      g_mutex_unlock (&proxy->mutex);

      if (end > now)
        sleep_ms (conn, (guint) ((end - now) / 1000));
      if (!write_all (conn, to, data + done, n))
        return FALSE;
    }

  return TRUE;
}

static void
sleep_link_latency (Connection *conn)
{
  guint latency;

  g_mutex_lock (&conn->proxy->mutex);
  latency = conn->proxy->link_latency_ms;
  g_mutex_unlock (&conn->proxy->mutex);
  if (latency > 0)
    sleep_ms (conn, latency);
}

/* Forwarding with the effect of a fault that only slows things down. */
static gboolean
write_slowly (Connection        *conn,
              GSocketConnection *to,
              const guint8      *data,
              gsize              len,
              Plan              *plan)
{
  if (plan->fault == PS_FAULT_LATENCY)
    sleep_ms (conn, plan->param);
  if (plan->fault == PS_FAULT_BANDWIDTH)
    return write_throttled (conn, to, data, len, MAX (plan->param, 1));

  return write_on_link (conn, to, data, len);
}

static void
set_no_delay (GSocketConnection *connection)
{
  /* Small writes (trickle) must not wait for delayed ACKs. */
  g_socket_set_option (g_socket_connection_get_socket (connection), IPPROTO_TCP, TCP_NODELAY,
                       1, NULL);
}

/* Picking faults */

static guint
random_param (GRand   *rand,
              PsFault  fault)
{
  switch (fault)
    {
    case PS_FAULT_LATENCY:
      return g_rand_int_range (rand, 10, 200);
    case PS_FAULT_BANDWIDTH:
      return g_rand_int_range (rand, 64 * 1024, 1024 * 1024);
    case PS_FAULT_CUT:
      return g_rand_int_range (rand, 1, 50000);
    case PS_FAULT_TRUNCATE:
      return g_rand_int_range (rand, 0, 4096);
    case PS_FAULT_CORRUPT:
      return g_rand_int_range (rand, 0, 256);
    case PS_FAULT_TRICKLE:
      return g_rand_int_range (rand, 1, 4);
    case PS_FAULT_NONE:
    case PS_FAULT_RESET:
    case PS_FAULT_HTTP_500:
    case PS_FAULT_HTTP_503:
    case PS_N_FAULTS:
    default:
      return 0;
    }
}

static gboolean
request_matches (PsFaultProxy *proxy,
                 const guint8 *data,
                 gsize         len)
{
  const guint8 *line_end = memchr (data, '\r', len);
  g_autofree char *line = NULL;

  if (proxy->filter == NULL)
    return TRUE;

  line = g_strndup ((const char *) data, line_end != NULL ? (gsize) (line_end - data) : len);
  return strstr (line, proxy->filter) != NULL;
}

static Plan
pick_plan (PsFaultProxy *proxy,
           const guint8 *request,
           gsize         len)
{
  Plan plan = { PS_FAULT_NONE, 0 };
  gboolean matches;

  g_mutex_lock (&proxy->mutex);
  proxy->requests++;
  matches = request_matches (proxy, request, len);

  if (matches && proxy->fault != PS_FAULT_NONE)
    {
      plan.fault = proxy->fault;
      plan.param = proxy->param;
      if (proxy->remaining > 0 && --proxy->remaining == 0)
        proxy->fault = PS_FAULT_NONE;
    }
  else if (matches && proxy->rand != NULL && proxy->random_mask != 0 &&
           g_rand_double (proxy->rand) < proxy->probability)
    {
      guint kinds[PS_N_FAULTS];
      guint n_kinds = 0;

      for (guint i = PS_FAULT_NONE + 1; i < PS_N_FAULTS; i++)
        if (proxy->random_mask & PS_FAULT_MASK (i))
          kinds[n_kinds++] = i;

      plan.fault = kinds[g_rand_int_range (proxy->rand, 0, n_kinds)];
      plan.param = random_param (proxy->rand, plan.fault);
    }

  g_mutex_unlock (&proxy->mutex);
  return plan;
}

/* Requests */

/* The length of the request head, or 0 while it is incomplete. */
static gsize
find_head_end (const guint8 *data,
               gsize         len)
{
  for (gsize i = 3; i < len; i++)
    if (data[i - 3] == '\r' && data[i - 2] == '\n' && data[i - 1] == '\r' && data[i] == '\n')
      return i + 1;

  return 0;
}

/* Content-Length of a request head; -1 when the body is chunked. */
static gint64
head_content_length (const guint8 *data,
                     gsize         len)
{
  g_autofree char *head = g_strndup ((const char *) data, len);
  g_auto(GStrv) lines = g_strsplit (head, "\r\n", -1);
  gint64 length = 0;

  for (guint i = 1; lines[i] != NULL; i++)
    {
      char *colon = strchr (lines[i], ':');

      if (colon == NULL)
        continue;
      *colon = '\0';
      if (g_ascii_strcasecmp (g_strstrip (lines[i]), "content-length") == 0)
        length = g_ascii_strtoll (colon + 1, NULL, 10);
      else if (g_ascii_strcasecmp (g_strstrip (lines[i]), "transfer-encoding") == 0 &&
               strstr (colon + 1, "chunked") != NULL)
        return -1;
    }

  return MAX (length, 0);
}

/* The client's socket is closed when both threads are done with it, and
 * SO_LINGER with no time turns that close into a TCP reset.
 */
static void
reset_connection (Connection *conn)
{
  GSocket *socket = g_socket_connection_get_socket (conn->client);
  struct linger linger = { 1, 0 };

  setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
  g_atomic_int_set (&conn->reset, TRUE);
  g_cancellable_cancel (conn->cancellable);
  if (conn->upstream != NULL)
    g_socket_shutdown (g_socket_connection_get_socket (conn->upstream), TRUE, TRUE, NULL);
}

static void
answer_error (Connection *conn,
              guint       status)
{
  const char *body = status == 503
    ? "{\"error\":\"unavailable\",\"reason\":\"fault injected by the test proxy\"}"
    : "{\"error\":\"internal_error\",\"reason\":\"fault injected by the test proxy\"}";
  g_autofree char *answer = NULL;

  answer = g_strdup_printf ("HTTP/1.1 %u %s\r\n"
                            "Content-Type: application/json\r\n"
                            "Content-Length: %zu\r\n"
                            "Connection: close\r\n"
                            "\r\n%s",
                            status,
                            status == 503 ? "Service Unavailable" : "Internal Server Error",
                            strlen (body), body);
  write_all (conn, conn->client, (const guint8 *) answer, strlen (answer));
  close_both (conn);
}

/* Returns FALSE once the connection is closed. */
static gboolean
forward_request (Connection   *conn,
                 const guint8 *data,
                 gsize         len)
{
  PsFaultProxy *proxy = conn->proxy;
  Plan plan = pick_plan (proxy, data, len);

  switch (plan.fault)
    {
    case PS_FAULT_RESET:
      count_injected (proxy, plan.fault);
      reset_connection (conn);
      return FALSE;

    case PS_FAULT_HTTP_500:
    case PS_FAULT_HTTP_503:
      count_injected (proxy, plan.fault);
      answer_error (conn, plan.fault == PS_FAULT_HTTP_503 ? 503 : 500);
      return FALSE;

    case PS_FAULT_CUT:
      if (plan.param < len)
        {
          count_injected (proxy, plan.fault);
          write_all (conn, conn->upstream, data, plan.param);
          close_both (conn);
          return FALSE;
        }
      break;

    case PS_FAULT_LATENCY:
    case PS_FAULT_BANDWIDTH:
      count_injected (proxy, plan.fault);
      break;

    case PS_FAULT_NONE:
    case PS_FAULT_TRUNCATE:
    case PS_FAULT_CORRUPT:
    case PS_FAULT_TRICKLE:
    case PS_N_FAULTS:
    default:
      break;
    }

  /* Set before the request leaves: the answer may come back at once. */
  g_mutex_lock (&proxy->mutex);
  conn->plan = plan;
  conn->budget = plan.fault == PS_FAULT_CUT ? plan.param - len : G_MAXUINT64;
  conn->answer_bytes = 0;
  conn->body_bytes = 0;
  conn->header_match = 0;
  conn->in_body = FALSE;
  conn->applied = FALSE;
  conn->previous = '\0';
  g_mutex_unlock (&proxy->mutex);

  sleep_link_latency (conn);
  if (!write_slowly (conn, conn->upstream, data, len, &plan))
    {
      close_both (conn);
      return FALSE;
    }

  return TRUE;
}

/* Forwards the complete requests at the start of @pending; returns FALSE
 * once the connection is closed.
 */
static gboolean
forward_complete_requests (Connection *conn,
                           GByteArray *pending,
                           gsize      *head_len,
                           gint64     *body_len,
                           gboolean   *passthrough)
{
  for (;;)
    {
      gsize total;

      if (*head_len == 0)
        {
          *head_len = find_head_end (pending->data, pending->len);
          if (*head_len == 0)
            return TRUE;
          *body_len = head_content_length (pending->data, *head_len);
          if (*body_len < 0)
            {
              /* Not sent by the clients under test; forward it as it is. */
              g_warning ("a chunked request body: forwarding without faults from now on");
              *passthrough = TRUE;
              return write_all (conn, conn->upstream, pending->data, pending->len);
            }
        }

      total = *head_len + *body_len;
      if (pending->len < total)
        return TRUE;

      if (!forward_request (conn, pending->data, total))
        return FALSE;
      g_byte_array_remove_range (pending, 0, total);
      *head_len = 0;
    }
}

static void
forward_requests (Connection *conn)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn->client));
  g_autoptr(GByteArray) pending = g_byte_array_new ();
  g_autofree guint8 *buffer = g_malloc (CHUNK_SIZE);
  gsize head_len = 0;
  gint64 body_len = 0;
  gboolean passthrough = FALSE;
  gboolean open = TRUE;

  while (open)
    {
      gssize n = g_input_stream_read (in, buffer, CHUNK_SIZE, conn->cancellable, NULL);

      if (n <= 0)
        break;

      g_mutex_lock (&conn->proxy->mutex);
      conn->proxy->bytes_from_clients += n;
      g_mutex_unlock (&conn->proxy->mutex);

      if (passthrough)
        open = write_all (conn, conn->upstream, buffer, n);
      else
        {
          g_byte_array_append (pending, buffer, n);
          open = forward_complete_requests (conn, pending, &head_len, &body_len, &passthrough);
          if (passthrough)
            g_byte_array_set_size (pending, 0);
        }
    }

  close_both (conn);
}

/* Answers */

/* Moves the head/body bookkeeping over @len bytes of the answer. */
static void
track_answer (Connection   *conn,
              const guint8 *data,
              gsize         len,
              gsize        *body_start)
{
  static const char end_of_head[] = "\r\n\r\n";

  *body_start = conn->in_body ? 0 : len;
  for (gsize i = 0; i < len && !conn->in_body; i++)
    {
      if (data[i] == end_of_head[conn->header_match])
        conn->header_match++;
      else
        conn->header_match = data[i] == '\r' ? 1 : 0;

      if (conn->header_match == 4)
        {
          conn->in_body = TRUE;
          *body_start = i + 1;
        }
    }
}

/* A byte that changes the parity of unescaped quotes makes any JSON text
 * invalid; quotes, backslashes and escaped bytes are skipped for that.
 */
static gboolean
corrupt_chunk (Connection *conn,
               guint8     *data,
               gsize       len,
               gsize       body_start)
{
  for (gsize i = body_start; i < len; i++)
    {
      guint64 offset = conn->body_bytes + (i - body_start);
      char previous = i > 0 ? (char) data[i - 1] : conn->previous;

      if (offset >= conn->plan.param && data[i] != '"' && data[i] != '\\' && previous != '\\')
        {
          data[i] = '"';
          return TRUE;
        }
    }

  return FALSE;
}

static gboolean
write_trickle (Connection   *conn,
               const guint8 *data,
               gsize         len,
               guint64       already,
               guint         interval_ms)
{
  gsize slow = already < PS_FAULT_TRICKLE_BYTES
    ? MIN (len, PS_FAULT_TRICKLE_BYTES - already)
    : 0;

  for (gsize i = 0; i < slow; i++)
    {
      if (!write_all (conn, conn->client, data + i, 1))
        return FALSE;
      sleep_ms (conn, interval_ms);
    }

  return write_all (conn, conn->client, data + slow, len - slow);
}

static gpointer
pump_answers (gpointer user_data)
{
  g_autoptr(Connection) conn = user_data;
  PsFaultProxy *proxy = conn->proxy;
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn->upstream));
  g_autofree guint8 *buffer = g_malloc (CHUNK_SIZE);

  for (;;)
    {
      gssize n = g_input_stream_read (in, buffer, CHUNK_SIZE, conn->cancellable, NULL);
      gsize len = n > 0 ? n : 0;
      gsize body_start;
      gsize keep = len;
      gboolean close_after = FALSE;
      gboolean count = FALSE;
      guint64 already;
      Plan plan;

      if (n <= 0)
        break;

      g_mutex_lock (&proxy->mutex);
      plan = conn->plan;
      already = conn->answer_bytes;
      track_answer (conn, buffer, len, &body_start);

      switch (plan.fault)
        {
        case PS_FAULT_CUT:
          if (conn->answer_bytes + len > conn->budget)
            {
              keep = conn->budget - conn->answer_bytes;
              close_after = count = TRUE;
            }
          break;

        case PS_FAULT_TRUNCATE:
          if (conn->in_body && conn->body_bytes + (len - body_start) > plan.param)
            {
              keep = body_start + (plan.param - conn->body_bytes);
              close_after = count = TRUE;
            }
          break;

        case PS_FAULT_CORRUPT:
          if (conn->in_body && !conn->applied && corrupt_chunk (conn, buffer, len, body_start))
            conn->applied = count = TRUE;
          break;

        case PS_FAULT_TRICKLE:
          if (!conn->applied)
            conn->applied = count = TRUE;
          break;

        case PS_FAULT_NONE:
        case PS_FAULT_LATENCY:
        case PS_FAULT_BANDWIDTH:
        case PS_FAULT_RESET:
        case PS_FAULT_HTTP_500:
        case PS_FAULT_HTTP_503:
        case PS_N_FAULTS:
        default:
          break;
        }

      conn->answer_bytes += len;
      if (conn->in_body)
        conn->body_bytes += len - body_start;
      conn->previous = (char) buffer[len - 1];
      g_mutex_unlock (&proxy->mutex);

      if (count)
        count_injected (proxy, plan.fault);

      /* The first bytes of an answer come back one link latency later. */
      if (already == 0)
        sleep_link_latency (conn);

      if (plan.fault == PS_FAULT_TRICKLE)
        {
          if (!write_trickle (conn, buffer, keep, already, MAX (plan.param, 1)))
            break;
        }
      else if (!write_slowly (conn, conn->client, buffer, keep, &plan))
        break;

      g_mutex_lock (&proxy->mutex);
      proxy->bytes_to_clients += keep;
      g_mutex_unlock (&proxy->mutex);

      if (close_after)
        break;
    }

  close_both (conn);
  return NULL;
}

/* Connections */

static void
serve (PsFaultProxy      *proxy,
       GSocketConnection *client)
{
  g_autoptr(Connection) conn = g_new0 (Connection, 1);
  g_autoptr(GSocketClient) connector = g_socket_client_new ();
  g_autoptr(GThread) pump = NULL;
  g_autoptr(GError) error = NULL;

  g_atomic_ref_count_init (&conn->ref_count);
  conn->proxy = proxy;
  conn->client = g_object_ref (client);
  conn->cancellable = g_cancellable_new ();
  set_no_delay (client);

  g_mutex_lock (&proxy->mutex);
  if (proxy->stopping)
    {
      g_mutex_unlock (&proxy->mutex);
      return;
    }
  g_ptr_array_add (proxy->connections, connection_ref (conn));
  proxy->accepted++;
  if (proxy->client_send_buffer > 0)
    g_socket_set_option (g_socket_connection_get_socket (client), SOL_SOCKET, SO_SNDBUF,
                         proxy->client_send_buffer, NULL);
  g_mutex_unlock (&proxy->mutex);

  g_socket_client_set_timeout (connector, CONNECT_TIMEOUT_S);
  conn->upstream = g_socket_client_connect_to_host (connector, "127.0.0.1", proxy->upstream_port,
                                                    conn->cancellable, &error);
  if (conn->upstream != NULL)
    {
      set_no_delay (conn->upstream);
      pump = g_thread_new ("fault-proxy-answers", pump_answers, connection_ref (conn));
      forward_requests (conn);
      g_thread_join (g_steal_pointer (&pump));
    }
  /* An upstream that is down looks like a server that went away. */

  /* Out of the list first: ps_fault_proxy_drop_connections() must never
   * touch a closed socket, whose number may already be reused.
   */
  g_mutex_lock (&proxy->mutex);
  g_ptr_array_remove (proxy->connections, conn);
  g_mutex_unlock (&proxy->mutex);

  close_both (conn);
  g_io_stream_close (G_IO_STREAM (conn->client), NULL, NULL);
  if (conn->upstream != NULL)
    g_io_stream_close (G_IO_STREAM (conn->upstream), NULL, NULL);
}

static gboolean
on_service_run_cb (GThreadedSocketService *service,
                   GSocketConnection      *connection,
                   GObject                *source_object,
                   gpointer                user_data)
{
  PsFaultProxy *proxy = user_data;

  g_mutex_lock (&proxy->mutex);
  proxy->handlers++;
  g_mutex_unlock (&proxy->mutex);

  serve (proxy, connection);

  g_mutex_lock (&proxy->mutex);
  proxy->handlers--;
  g_cond_broadcast (&proxy->cond);
  g_mutex_unlock (&proxy->mutex);

  return TRUE;
}

static gpointer
run_proxy_thread (gpointer user_data)
{
  PsFaultProxy *proxy = user_data;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;

  g_main_context_push_thread_default (proxy->context);

  proxy->service = g_threaded_socket_service_new (MAX_CONNECTIONS);
  g_signal_connect (proxy->service, "run", G_CALLBACK (on_service_run_cb), proxy);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (proxy->service), address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                      &effective, &error))
    g_error ("the fault proxy cannot listen on 127.0.0.1: %s", error->message);

  g_mutex_lock (&proxy->mutex);
  proxy->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  proxy->ready = TRUE;
  g_cond_broadcast (&proxy->cond);
  g_mutex_unlock (&proxy->mutex);

  g_socket_service_start (proxy->service);
  g_main_loop_run (proxy->loop);

  g_socket_service_stop (proxy->service);
  g_socket_listener_close (G_SOCKET_LISTENER (proxy->service));

  /* Connection threads hold no reference to the service; let them end. */
  g_mutex_lock (&proxy->mutex);
  while (proxy->handlers > 0)
    g_cond_wait (&proxy->cond, &proxy->mutex);
  g_mutex_unlock (&proxy->mutex);

  g_clear_object (&proxy->service);
  g_main_context_pop_thread_default (proxy->context);
  return NULL;
}

/**
 * ps_fault_proxy_new:
 * @upstream_port: the port on 127.0.0.1 to forward to
 *
 * Starts a proxy on a free port of 127.0.0.1 that forwards everything
 * unchanged until told otherwise.
 */
PsFaultProxy *
ps_fault_proxy_new (guint16 upstream_port)
{
  PsFaultProxy *proxy = g_new0 (PsFaultProxy, 1);

  g_mutex_init (&proxy->mutex);
  g_cond_init (&proxy->cond);
  proxy->upstream_port = upstream_port;
  proxy->connections = g_ptr_array_new_with_free_func ((GDestroyNotify) connection_unref);
  proxy->context = g_main_context_new ();
  proxy->loop = g_main_loop_new (proxy->context, FALSE);
  proxy->thread = g_thread_new ("fault-proxy", run_proxy_thread, proxy);

  g_mutex_lock (&proxy->mutex);
  while (!proxy->ready)
    g_cond_wait (&proxy->cond, &proxy->mutex);
  g_mutex_unlock (&proxy->mutex);

  return proxy;
}

static gboolean
quit_loop_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

void
ps_fault_proxy_free (PsFaultProxy *proxy)
{
  if (proxy == NULL)
    return;

  g_mutex_lock (&proxy->mutex);
  proxy->stopping = TRUE;
  g_mutex_unlock (&proxy->mutex);
  ps_fault_proxy_drop_connections (proxy);

  g_main_context_invoke (proxy->context, quit_loop_cb, proxy->loop);
  g_thread_join (proxy->thread);

  g_clear_pointer (&proxy->loop, g_main_loop_unref);
  g_clear_pointer (&proxy->context, g_main_context_unref);
  g_clear_pointer (&proxy->connections, g_ptr_array_unref);
  g_clear_pointer (&proxy->rand, g_rand_free);
  g_clear_pointer (&proxy->filter, g_free);
  g_mutex_clear (&proxy->mutex);
  g_cond_clear (&proxy->cond);
  g_free (proxy);
}

guint16
ps_fault_proxy_get_port (PsFaultProxy *proxy)
{
  g_return_val_if_fail (proxy != NULL, 0);

  return proxy->port;
}

/**
 * ps_fault_proxy_url:
 * @proxy: a #PsFaultProxy
 * @path: (nullable): an escaped path, e.g. `/primero_child_production`
 *
 * Returns: (transfer full): the URL of @path through the proxy
 */
char *
ps_fault_proxy_url (PsFaultProxy *proxy,
                    const char   *path)
{
  g_return_val_if_fail (proxy != NULL, NULL);

  return g_strdup_printf ("http://127.0.0.1:%u%s", proxy->port, path != NULL ? path : "");
}

/**
 * ps_fault_proxy_set_fault:
 * @proxy: a #PsFaultProxy
 * @fault: what to do to the next requests
 * @param: the fault's parameter (see #PsFault)
 * @count: how many requests to spoil, or 0 for every request until
 *   ps_fault_proxy_clear()
 *
 * Replaces the random plan, if any. Requests on connections that are
 * already open are affected as well.
 */
void
ps_fault_proxy_set_fault (PsFaultProxy *proxy,
                          PsFault       fault,
                          guint         param,
                          guint         count)
{
  g_return_if_fail (proxy != NULL);
  g_return_if_fail (fault < PS_N_FAULTS);

  g_mutex_lock (&proxy->mutex);
  proxy->fault = fault;
  proxy->param = param;
  proxy->remaining = count;
  proxy->random_mask = 0;
  g_mutex_unlock (&proxy->mutex);
}

/**
 * ps_fault_proxy_set_random:
 * @proxy: a #PsFaultProxy
 * @seed: the seed of the choices, so that a failure can be replayed
 * @probability: the chance that a request is spoiled, 0 to 1
 * @faults_mask: the faults to pick from, as PS_FAULT_MASK() bits
 *
 * Each request then gets one of the faults of @faults_mask, with a random
 * parameter, with @probability.
 */
void
ps_fault_proxy_set_random (PsFaultProxy *proxy,
                           guint32       seed,
                           double        probability,
                           guint         faults_mask)
{
  g_return_if_fail (proxy != NULL);
  g_return_if_fail (probability >= 0.0 && probability <= 1.0);

  g_mutex_lock (&proxy->mutex);
  proxy->fault = PS_FAULT_NONE;
  proxy->remaining = 0;
  g_clear_pointer (&proxy->rand, g_rand_free);
  proxy->rand = g_rand_new_with_seed (seed);
  proxy->probability = probability;
  proxy->random_mask = faults_mask & ~PS_FAULT_MASK (PS_FAULT_NONE) &
                       (PS_FAULT_MASK (PS_N_FAULTS) - 1);
  g_mutex_unlock (&proxy->mutex);
}

/**
 * ps_fault_proxy_set_filter:
 * @proxy: a #PsFaultProxy
 * @request_line_part: (nullable): text of the request line, such as
 *   `PUT /primero_child_production/_local/`, or %NULL for every request
 *
 * Spoils only the requests whose first line contains @request_line_part;
 * the others neither get a fault nor use up a fault's count.
 */
void
ps_fault_proxy_set_filter (PsFaultProxy *proxy,
                           const char   *request_line_part)
{
  g_return_if_fail (proxy != NULL);

  g_mutex_lock (&proxy->mutex);
  g_free (proxy->filter);
  proxy->filter = g_strdup (request_line_part);
  g_mutex_unlock (&proxy->mutex);
}

/* Forward everything unchanged from now on. */
void
ps_fault_proxy_clear (PsFaultProxy *proxy)
{
  g_return_if_fail (proxy != NULL);

  g_mutex_lock (&proxy->mutex);
  proxy->fault = PS_FAULT_NONE;
  proxy->remaining = 0;
  proxy->random_mask = 0;
  g_clear_pointer (&proxy->filter, g_free);
  g_mutex_unlock (&proxy->mutex);
}

/* Closes every open connection, as a network failure would. */
void
ps_fault_proxy_drop_connections (PsFaultProxy *proxy)
{
  g_return_if_fail (proxy != NULL);

  g_mutex_lock (&proxy->mutex);
  for (guint i = 0; i < proxy->connections->len; i++)
    close_both (g_ptr_array_index (proxy->connections, i));
  g_mutex_unlock (&proxy->mutex);
}

guint
ps_fault_proxy_get_injected (PsFaultProxy *proxy,
                             PsFault       fault)
{
  guint injected;

  g_return_val_if_fail (proxy != NULL, 0);
  g_return_val_if_fail (fault < PS_N_FAULTS, 0);

  g_mutex_lock (&proxy->mutex);
  injected = proxy->injected[fault];
  g_mutex_unlock (&proxy->mutex);

  return injected;
}

guint
ps_fault_proxy_get_total_injected (PsFaultProxy *proxy)
{
  guint total = 0;

  g_return_val_if_fail (proxy != NULL, 0);

  g_mutex_lock (&proxy->mutex);
  for (guint i = PS_FAULT_NONE + 1; i < PS_N_FAULTS; i++)
    total += proxy->injected[i];
  g_mutex_unlock (&proxy->mutex);

  return total;
}

/* Requests read whole from clients, spoiled or not. */
guint
ps_fault_proxy_get_requests (PsFaultProxy *proxy)
{
  guint requests;

  g_return_val_if_fail (proxy != NULL, 0);

  g_mutex_lock (&proxy->mutex);
  requests = proxy->requests;
  g_mutex_unlock (&proxy->mutex);

  return requests;
}

guint
ps_fault_proxy_get_connections (PsFaultProxy *proxy)
{
  guint accepted;

  g_return_val_if_fail (proxy != NULL, 0);

  g_mutex_lock (&proxy->mutex);
  accepted = proxy->accepted;
  g_mutex_unlock (&proxy->mutex);

  return accepted;
}

/**
 * ps_fault_proxy_describe:
 * @proxy: a #PsFaultProxy
 *
 * Returns: (transfer full): the counters, e.g. `412 requests, 9 faults
 *   (cut 3, reset 2, http-503 4)`
 */
char *
ps_fault_proxy_describe (PsFaultProxy *proxy)
{
  GString *text = g_string_new (NULL);
  gboolean first = TRUE;

  g_return_val_if_fail (proxy != NULL, NULL);

  g_string_append_printf (text, "%u requests on %u connections, %u faults (",
                          ps_fault_proxy_get_requests (proxy),
                          ps_fault_proxy_get_connections (proxy),
                          ps_fault_proxy_get_total_injected (proxy));
  for (guint i = PS_FAULT_NONE + 1; i < PS_N_FAULTS; i++)
    {
      guint injected = ps_fault_proxy_get_injected (proxy, i);

      if (injected == 0)
        continue;
      g_string_append_printf (text, "%s%s %u", first ? "" : ", ", fault_names[i], injected);
      first = FALSE;
    }
  g_string_append_c (text, ')');

  return g_string_free (text, FALSE);
}

/**
 * ps_fault_proxy_set_link:
 * @proxy: a #PsFaultProxy
 * @latency_ms: the one-way delay of each request and of each answer
 * @bytes_per_second: the rate all connections share, each way; 0 for none
 *
 * Puts a slow link under all traffic, such as a 2G connection, whatever
 * faults are planned.
 */
void
ps_fault_proxy_set_link (PsFaultProxy *proxy,
                         guint         latency_ms,
                         guint         bytes_per_second)
{
  g_return_if_fail (proxy != NULL);

  g_mutex_lock (&proxy->mutex);
  proxy->link_latency_ms = latency_ms;
  proxy->link_bytes_per_second = bytes_per_second;
  g_mutex_unlock (&proxy->mutex);
}

/**
 * ps_fault_proxy_set_client_send_buffer:
 * @proxy: a #PsFaultProxy
 * @bytes: the socket send buffer towards clients of new connections
 *
 * A small buffer makes the count of bytes sent to clients follow what the
 * client actually reads, for rate measurements.
 */
void
ps_fault_proxy_set_client_send_buffer (PsFaultProxy *proxy,
                                       guint         bytes)
{
  g_return_if_fail (proxy != NULL);

  g_mutex_lock (&proxy->mutex);
  proxy->client_send_buffer = (int) MIN (bytes, G_MAXINT);
  g_mutex_unlock (&proxy->mutex);
}

/**
 * ps_fault_proxy_get_bytes:
 * @proxy: a #PsFaultProxy
 * @from_clients: (out) (optional): bytes read from clients (requests)
 * @to_clients: (out) (optional): bytes written to clients (answers)
 */
void
ps_fault_proxy_get_bytes (PsFaultProxy *proxy,
                          guint64      *from_clients,
                          guint64      *to_clients)
{
  g_return_if_fail (proxy != NULL);

  g_mutex_lock (&proxy->mutex);
  if (from_clients != NULL)
    *from_clients = proxy->bytes_from_clients;
  if (to_clients != NULL)
    *to_clients = proxy->bytes_to_clients;
  g_mutex_unlock (&proxy->mutex);
}

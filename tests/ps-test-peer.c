/* ps-test-peer.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-test-peer"

#include "config.h"

#include "ps-test-peer.h"

#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Start-up of pouchdb-server takes 0.3-0.5 s on a quiet machine; the
 * generous limit covers a loaded CI box without hiding a hung server.
 */
#define READY_POLL_INTERVAL_MS 50
#define READY_TIMEOUT_MS       10000
#define STOP_TIMEOUT_MS        5000
#define START_ATTEMPTS         5
#define BULK_BATCH_SIZE        500
#define CHANGES_BATCH_SIZE     1000
#define LOG_TAIL_BYTES         4096
#define SIGNATURE_SHOWN_CHARS  1500
#define MAX_LIVE_PEERS         64
#define INSTALL_HINT           "run tools/install-deps to install node and the test peer"

struct _PsTestPeer
{
  char        *dir;
  char        *log_path;
  char        *url;
  char        *auth_header;
  SoupSession *session;
  GPid         pid;
  guint16      port;
  gboolean     in_memory;
  gboolean     external;    /* a server this harness did not start */
};

typedef enum
{
  START_READY,
  START_DIED,
  START_TIMED_OUT,
} StartResult;

/* Peers still running, for the abort and exit paths: a failed assertion
 * must not leave node processes behind.  Only kill() is used on them,
 * which is safe in a signal handler.
 */
static volatile sig_atomic_t live_pids[MAX_LIVE_PEERS];
static struct sigaction previous_abort_action;

static void
kill_live_peers (void)
{
  for (guint i = 0; i < MAX_LIVE_PEERS; i++)
    {
      pid_t pid = live_pids[i];

      if (pid > 0)
        kill (pid, SIGKILL);
    }
}

static void
on_abort_signal (int signum)
{
  kill_live_peers ();

  if (previous_abort_action.sa_handler != SIG_DFL &&
      previous_abort_action.sa_handler != SIG_IGN &&
      !(previous_abort_action.sa_flags & SA_SIGINFO))
    previous_abort_action.sa_handler (signum);
}

static void
install_cleanup_handlers (void)
{
  static gsize installed = 0;

  if (g_once_init_enter (&installed))
    {
      struct sigaction action = { 0 };

      action.sa_handler = on_abort_signal;
      action.sa_flags = SA_RESETHAND;
      sigemptyset (&action.sa_mask);
      sigaction (SIGABRT, &action, &previous_abort_action);
      atexit (kill_live_peers);

      g_once_init_leave (&installed, 1);
    }
}

static void
register_live_pid (GPid pid)
{
  for (guint i = 0; i < MAX_LIVE_PEERS; i++)
    {
      if (live_pids[i] == 0)
        {
          live_pids[i] = pid;
          return;
        }
    }
}

static void
unregister_live_pid (GPid pid)
{
  for (guint i = 0; i < MAX_LIVE_PEERS; i++)
    {
      if (live_pids[i] == pid)
        live_pids[i] = 0;
    }
}

/* Runs in the child between fork and exec.  The kernel then stops the
 * server when the test process goes away by any path, _exit() included
 * (which is how a failed assertion ends a g_test_trap_subprocess child).
 */
static void
child_setup (gpointer user_data)
{
  pid_t parent = GPOINTER_TO_INT (user_data);

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != parent)
    _exit (1);
}

static char *
read_log_tail (PsTestPeer *peer)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  const char *start;

  if (peer->log_path == NULL ||
      !g_file_get_contents (peer->log_path, &contents, &length, NULL))
    return g_strdup ("(no log)");

  if (length == 0)
    return g_strdup ("(the log is empty)");

  start = contents;
  if (length > LOG_TAIL_BYTES)
    {
      const char *newline;

      start = contents + length - LOG_TAIL_BYTES;
      newline = strchr (start, '\n');
      if (newline != NULL)
        start = newline + 1;
    }

  return g_strdup (start);
}

static void fail_peer (PsTestPeer *peer,
                       const char *format,
                       ...) G_GNUC_PRINTF (2, 3);

/* Fails the running test with what went wrong and the end of the peer's
 * log, which is where pouchdb-server prints the exception that killed it.
 */
static void
fail_peer (PsTestPeer *peer,
           const char *format,
           ...)
{
  g_autofree char *what = NULL;
  g_autofree char *tail = NULL;
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);

  tail = read_log_tail (peer);
  message = g_strdup_printf ("test peer %s (directory %s): %s\n"
                             "--- end of %s ---\n%s\n--- end of log ---",
                             peer->url != NULL ? peer->url : "(not started)",
                             peer->dir != NULL ? peer->dir : "(none)",
                             what, peer->log_path, tail);
  g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, message);
}

static void
forget_process (PsTestPeer *peer)
{
  unregister_live_pid (peer->pid);
  peer->pid = 0;
}

/* Reaps the server if it exited; wait_status receives how. */
static gboolean
process_alive (PsTestPeer *peer,
               int        *wait_status)
{
  int status = 0;
  pid_t result;

  if (peer->pid <= 0)
    return FALSE;

  do
    result = waitpid (peer->pid, &status, WNOHANG);
  while (result < 0 && errno == EINTR);

  if (result == 0)
    return TRUE;

  if (wait_status != NULL)
    *wait_status = status;
  forget_process (peer);
  return FALSE;
}

static char *
describe_wait_status (int wait_status)
{
  g_autoptr(GError) error = NULL;

  if (g_spawn_check_wait_status (wait_status, &error))
    return g_strdup ("it exited with status 0");

  return g_strdup (error->message);
}

static char *
find_node_modules (void)
{
  const char *modules = g_getenv ("PS_TEST_NODE_MODULES");
  const char *srcdir = g_getenv ("G_TEST_SRCDIR");

  if (modules != NULL && *modules != '\0')
    return g_strdup (modules);

  if (srcdir != NULL)
    return g_build_filename (srcdir, "node_modules", NULL);

  return NULL;
}

static guint16
pick_free_port (PsTestPeer *peer)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  if (socket != NULL)
    {
      loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      address = g_inet_socket_address_new (loopback, 0);
      if (g_socket_bind (socket, address, FALSE, &error))
        bound = g_socket_get_local_address (socket, &error);
    }

  if (bound == NULL)
    {
      fail_peer (peer, "cannot find a free port on 127.0.0.1: %s", error->message);
      return 0;
    }

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* Returns the path of the server script, or NULL after failing the test
 * with advice when node or the peer is not installed.
 */
static char *
find_server_script (PsTestPeer  *peer,
                    char       **node_out)
{
  g_autofree char *modules = find_node_modules ();
  g_autofree char *node = g_find_program_in_path ("node");
  g_autofree char *script = NULL;

  if (node == NULL)
    {
      fail_peer (peer, "node is not in PATH, so the test peer cannot run; " INSTALL_HINT);
      return NULL;
    }

  if (modules == NULL)
    {
      fail_peer (peer, "PS_TEST_NODE_MODULES is not set; run the tests with meson test");
      return NULL;
    }

  script = g_build_filename (modules, "pouchdb-server", "bin", "pouchdb-server", NULL);
  if (!g_file_test (script, G_FILE_TEST_IS_REGULAR))
    {
      fail_peer (peer, "pouchdb-server is not installed (%s is missing); " INSTALL_HINT,
                 script);
      return NULL;
    }

  if (node_out != NULL)
    *node_out = g_steal_pointer (&node);
  return g_steal_pointer (&script);
}

static gboolean
spawn_server (PsTestPeer *peer)
{
  g_autofree char *node = NULL;
  g_autofree char *script = find_server_script (peer, &node);
  g_autofree char *port = NULL;
  g_autoptr(GPtrArray) argv = NULL;
  g_autoptr(GError) error = NULL;
  int log_fd;
  gboolean spawned;

  if (script == NULL)
    return FALSE;

  port = g_strdup_printf ("%u", peer->port);
  argv = g_ptr_array_new ();
  g_ptr_array_add (argv, node);
  g_ptr_array_add (argv, script);
  g_ptr_array_add (argv, (char *) "--host");
  g_ptr_array_add (argv, (char *) "127.0.0.1");
  g_ptr_array_add (argv, (char *) "--port");
  g_ptr_array_add (argv, port);
  g_ptr_array_add (argv, (char *) "--dir");
  g_ptr_array_add (argv, (char *) "./data");
  g_ptr_array_add (argv, (char *) "--config");
  g_ptr_array_add (argv, (char *) "./config.json");
  /* -n: no request log on stdout; log.txt in the directory still has it */
  g_ptr_array_add (argv, (char *) "-n");
  if (peer->in_memory)
    g_ptr_array_add (argv, (char *) "--in-memory");
  g_ptr_array_add (argv, NULL);

  log_fd = g_open (peer->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0)
    {
      fail_peer (peer, "cannot open %s: %s", peer->log_path, g_strerror (errno));
      return FALSE;
    }

  install_cleanup_handlers ();
  spawned = g_spawn_async_with_pipes_and_fds (peer->dir,
                                              (const char * const *) argv->pdata,
                                              NULL,
                                              G_SPAWN_DO_NOT_REAP_CHILD,
                                              child_setup,
                                              GINT_TO_POINTER (getpid ()),
                                              -1, log_fd, log_fd,
                                              NULL, NULL, 0,
                                              &peer->pid,
                                              NULL, NULL, NULL,
                                              &error);
  close (log_fd);

  if (!spawned)
    {
      fail_peer (peer, "cannot run %s: %s", node, error->message);
      return FALSE;
    }

  register_live_pid (peer->pid);
  return TRUE;
}

static gboolean
answers_as_pouchdb_server (PsTestPeer *peer)
{
  g_autoptr(SoupMessage) message = soup_message_new ("GET", peer->url);
  g_autoptr(GBytes) body = NULL;
  g_autofree char *text = NULL;

  body = soup_session_send_and_read (peer->session, message, NULL, NULL);
  if (body == NULL || soup_message_get_status (message) != SOUP_STATUS_OK)
    return FALSE;

  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  return strstr (text, "express-pouchdb") != NULL;
}

static StartResult
wait_until_ready (PsTestPeer *peer,
                  int        *wait_status)
{
  gint64 deadline = g_get_monotonic_time () + READY_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

  while (process_alive (peer, wait_status))
    {
      if (answers_as_pouchdb_server (peer))
        return START_READY;

      if (g_get_monotonic_time () > deadline)
        return START_TIMED_OUT;

      g_usleep (READY_POLL_INTERVAL_MS * G_TIME_SPAN_MILLISECOND);
    }

  return START_DIED;
}

static gsize
get_file_size (const char *path)
{
  GStatBuf buf;

  if (g_stat (path, &buf) != 0)
    return 0;

  return buf.st_size;
}

static gboolean
log_mentions_since (PsTestPeer *peer,
                    gsize       offset,
                    const char *needle)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (peer->log_path, &contents, &length, NULL) || length < offset)
    return FALSE;

  return strstr (contents + offset, needle) != NULL;
}

static void
set_port (PsTestPeer *peer,
          guint16     port)
{
  peer->port = port;
  g_free (peer->url);
  peer->url = g_strdup_printf ("http://127.0.0.1:%u", port);
}

/* A port found free can be taken by someone else before node binds it;
 * on a fresh peer that only costs another attempt on another port.
 */
static void
start_server (PsTestPeer *peer,
              gboolean    may_change_port)
{
  for (guint attempt = 0; attempt < START_ATTEMPTS; attempt++)
    {
      g_autofree char *how = NULL;
      int wait_status = 0;
      gsize log_offset;

      if (may_change_port)
        {
          guint16 port = pick_free_port (peer);

          if (port == 0)
            return;
          set_port (peer, port);
        }

      log_offset = get_file_size (peer->log_path);
      if (!spawn_server (peer))
        return;

      switch (wait_until_ready (peer, &wait_status))
        {
        case START_READY:
          return;

        case START_TIMED_OUT:
          ps_test_peer_stop (peer);
          fail_peer (peer, "pouchdb-server did not answer GET / within %d ms",
                     READY_TIMEOUT_MS);
          return;

        case START_DIED:
        default:
          if (may_change_port && log_mentions_since (peer, log_offset, "already in use"))
            continue;

          how = describe_wait_status (wait_status);
          fail_peer (peer, "pouchdb-server stopped during start-up: %s; "
                     "if the log shows a missing module, " INSTALL_HINT, how);
          return;
        }
    }

  fail_peer (peer, "no free port found after %d attempts", START_ATTEMPTS);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_SYMLINK) &&
      g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      dir = g_dir_open (path, 0, NULL);
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
    }

  g_remove (path);
}

static PsTestPeer *
create_peer (gboolean    in_memory,
             const char *config_json)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *script = NULL;
  PsTestPeer *peer = g_new0 (PsTestPeer, 1);

  peer->in_memory = in_memory;
  /* No idle timeout of our own: libsoup loses a request sent just as it
   * closes an idle connection (see ps_couch_session_new()). The peer
   * closes idle connections after 5 s; libsoup notices, or sends again.
   */
  peer->session = soup_session_new_with_options ("timeout", 60,
                                                 "idle-timeout", 0,
                                                 NULL);
  /* the peer is on loopback; an http_proxy from the environment must not apply */
  soup_session_set_proxy_resolver (peer->session, NULL);

  /* before making a directory that a failed test would leave behind */
  script = find_server_script (peer, NULL);
  if (script == NULL)
    return peer;

  peer->dir = g_dir_make_tmp ("ps-test-peer-XXXXXX", &error);
  if (peer->dir == NULL)
    {
      fail_peer (peer, "cannot create a directory for the peer: %s", error->message);
      return peer;
    }
  peer->log_path = g_build_filename (peer->dir, "stdout.log", NULL);

  config_path = g_build_filename (peer->dir, "config.json", NULL);
  if (!g_file_set_contents (config_path, config_json, -1, &error))
    {
      fail_peer (peer, "cannot write %s: %s", config_path, error->message);
      return peer;
    }

  start_server (peer, TRUE);
  return peer;
}

/**
 * ps_test_peer_new:
 * @in_memory: whether the peer keeps its databases in memory only
 *
 * Starts a pouchdb-server on a free loopback port in a fresh directory and
 * waits until it answers.  Fails the test when it cannot.
 */
PsTestPeer *
ps_test_peer_new (gboolean in_memory)
{
  return create_peer (in_memory, "{}");
}

PsTestPeer *
ps_test_peer_new_with_admin (gboolean    in_memory,
                             const char *user,
                             const char *password)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) config = NULL;
  g_autofree char *config_json = NULL;
  g_autofree char *credentials = NULL;
  g_autofree char *encoded = NULL;
  PsTestPeer *peer;

  g_return_val_if_fail (user != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "admins");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, user);
  json_builder_add_string_value (builder, password);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  config = json_builder_get_root (builder);
  config_json = json_to_string (config, FALSE);

  credentials = g_strdup_printf ("%s:%s", user, password);
  encoded = g_base64_encode ((const guchar *) credentials, strlen (credentials));

  peer = create_peer (in_memory, config_json);
  peer->auth_header = g_strdup_printf ("Basic %s", encoded);
  return peer;
}

/**
 * ps_test_peer_new_for_server:
 * @url: the root of a running CouchDB-compatible server, without credentials
 * @user: its administrator
 * @password: the administrator's password
 *
 * A peer for a server someone else runs, such as a real Apache CouchDB, so
 * that the same helpers fill and compare its databases. Stopping it does
 * nothing; the server stays up.
 */
PsTestPeer *
ps_test_peer_new_for_server (const char *url,
                             const char *user,
                             const char *password)
{
  g_autofree char *credentials = NULL;
  g_autofree char *encoded = NULL;
  g_autoptr(GUri) uri = NULL;
  PsTestPeer *peer = g_new0 (PsTestPeer, 1);

  g_return_val_if_fail (url != NULL, NULL);
  g_return_val_if_fail (user != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  peer->external = TRUE;
  peer->session = soup_session_new_with_options ("timeout", 60, "idle-timeout", 0, NULL);
  soup_session_set_proxy_resolver (peer->session, NULL);
  peer->url = g_strdup (url);
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri != NULL && g_uri_get_port (uri) > 0)
    peer->port = g_uri_get_port (uri);

  credentials = g_strdup_printf ("%s:%s", user, password);
  encoded = g_base64_encode ((const guchar *) credentials, strlen (credentials));
  peer->auth_header = g_strdup_printf ("Basic %s", encoded);
  return peer;
}

void
ps_test_peer_stop (PsTestPeer *peer)
{
  gint64 deadline;
  int status;

  g_return_if_fail (peer != NULL);

  /* kept-alive connections would point at the old process */
  if (peer->session != NULL)
    soup_session_abort (peer->session);

  if (peer->pid <= 0)
    return;

  kill (peer->pid, SIGTERM);
  deadline = g_get_monotonic_time () + STOP_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

  while (process_alive (peer, NULL))
    {
      if (g_get_monotonic_time () > deadline)
        {
          kill (peer->pid, SIGKILL);
          while (waitpid (peer->pid, &status, 0) < 0 && errno == EINTR)
            ;
          forget_process (peer);
          break;
        }

      g_usleep (20 * G_TIME_SPAN_MILLISECOND);
    }
}

void
ps_test_peer_start (PsTestPeer *peer)
{
  g_return_if_fail (peer != NULL);
  g_return_if_fail (peer->url != NULL);

  if (process_alive (peer, NULL))
    return;

  start_server (peer, FALSE);
}

void
ps_test_peer_free (PsTestPeer *peer)
{
  if (peer == NULL)
    return;

  ps_test_peer_stop (peer);
  if (peer->dir != NULL)
    remove_tree (peer->dir);

  g_clear_object (&peer->session);
  g_free (peer->dir);
  g_free (peer->log_path);
  g_free (peer->url);
  g_free (peer->auth_header);
  g_free (peer);
}

guint16
ps_test_peer_get_port (PsTestPeer *peer)
{
  g_return_val_if_fail (peer != NULL, 0);

  return peer->port;
}

/* 0 while the server is not running */
GPid
ps_test_peer_get_pid (PsTestPeer *peer)
{
  g_return_val_if_fail (peer != NULL, 0);

  return peer->pid;
}

const char *
ps_test_peer_get_url (PsTestPeer *peer)
{
  g_return_val_if_fail (peer != NULL, NULL);

  return peer->url;
}

const char *
ps_test_peer_get_dir (PsTestPeer *peer)
{
  g_return_val_if_fail (peer != NULL, NULL);

  return peer->dir;
}

char *
ps_test_peer_db_url (PsTestPeer *peer,
                     const char *db)
{
  g_autofree char *escaped = NULL;

  g_return_val_if_fail (peer != NULL, NULL);
  g_return_val_if_fail (db != NULL, NULL);

  escaped = g_uri_escape_string (db, NULL, TRUE);
  return g_strdup_printf ("%s/%s", peer->url, escaped);
}

static GBytes *send_bytes (PsTestPeer *peer,
                           const char *method,
                           const char *path,
                           GBytes     *body,
                           guint      *status);

void
ps_test_peer_assert_alive (PsTestPeer *peer)
{
  int wait_status = 0;

  g_return_if_fail (peer != NULL);

  if (peer->external)
    {
      g_autoptr(GBytes) answer = send_bytes (peer, "GET", "/", NULL, NULL);

      return;
    }

  if (!process_alive (peer, &wait_status))
    {
      g_autofree char *how = describe_wait_status (wait_status);

      fail_peer (peer, "the peer is not running: %s", how);
    }
}

static GBytes *
send_bytes (PsTestPeer *peer,
            const char *method,
            const char *path,
            GBytes     *body,
            guint      *status)
{
  g_autofree char *url = g_strconcat (peer->url, path, NULL);
  g_autoptr(GError) error = NULL;

  /* One retry covers a kept-alive connection the server closed meanwhile;
   * every request the harness sends is safe to repeat.
   */
  for (guint attempt = 0; attempt < 2; attempt++)
    {
      g_autoptr(SoupMessage) message = soup_message_new (method, url);
      SoupMessageHeaders *headers;
      GBytes *response;

      if (message == NULL)
        {
          fail_peer (peer, "invalid request: %s %s", method, url);
          return NULL;
        }

      headers = soup_message_get_request_headers (message);
      soup_message_headers_replace (headers, "Accept", "application/json");
      if (peer->auth_header != NULL)
        soup_message_headers_replace (headers, "Authorization", peer->auth_header);
      if (body != NULL)
        soup_message_set_request_body_from_bytes (message, "application/json", body);

      g_clear_error (&error);
      response = soup_session_send_and_read (peer->session, message, NULL, &error);
      if (response != NULL)
        {
          if (status != NULL)
            *status = soup_message_get_status (message);
          return response;
        }

      if (!process_alive (peer, NULL))
        break;
    }

  if (peer->pid <= 0)
    fail_peer (peer, "the peer died during %s %s: %s", method, path, error->message);
  else
    fail_peer (peer, "%s %s failed: %s", method, path, error->message);

  if (status != NULL)
    *status = 0;
  return NULL;
}

static JsonNode *
parse_json (GBytes *bytes)
{
  g_autoptr(JsonParser) parser = NULL;
  gsize size = 0;
  const char *data;

  if (bytes == NULL)
    return NULL;

  data = g_bytes_get_data (bytes, &size);
  if (size == 0)
    return NULL;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, size, NULL))
    return NULL;

  return json_parser_steal_root (parser);
}

static char *
bytes_to_text (GBytes *bytes)
{
  if (bytes == NULL)
    return g_strdup ("");

  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

JsonNode *
ps_test_peer_request (PsTestPeer *peer,
                      const char *method,
                      const char *path,
                      JsonNode   *body,
                      guint      *status)
{
  g_autoptr(GBytes) request_body = NULL;
  g_autoptr(GBytes) response = NULL;

  g_return_val_if_fail (peer != NULL, NULL);
  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (path != NULL && path[0] == '/', NULL);

  if (body != NULL)
    {
      char *text = json_to_string (body, FALSE);

      request_body = g_bytes_new_take (text, strlen (text));
    }

  response = send_bytes (peer, method, path, request_body, status);
  return parse_json (response);
}

static char *
db_path (const char *db,
         const char *rest)
{
  g_autofree char *escaped = g_uri_escape_string (db, NULL, TRUE);

  return g_strconcat ("/", escaped, rest, NULL);
}

void
ps_test_peer_create_db (PsTestPeer *peer,
                        const char *db)
{
  g_autofree char *path = NULL;
  g_autoptr(GBytes) response = NULL;
  guint status = 0;

  g_return_if_fail (peer != NULL);
  g_return_if_fail (db != NULL);

  path = db_path (db, NULL);
  response = send_bytes (peer, "PUT", path, NULL, &status);
  if (response != NULL && status != SOUP_STATUS_CREATED)
    {
      g_autofree char *text = bytes_to_text (response);

      fail_peer (peer, "PUT %s gave %u, not 201: %s", path, status, text);
    }
}

static void
check_bulk_docs_result (PsTestPeer *peer,
                        const char *path,
                        guint       status,
                        GBytes     *response)
{
  g_autoptr(JsonNode) root = parse_json (response);
  JsonArray *results;

  if (status != SOUP_STATUS_CREATED || root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      g_autofree char *text = bytes_to_text (response);

      fail_peer (peer, "POST %s gave %u: %.2000s", path, status, text);
      return;
    }

  results = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonNode *item = json_array_get_element (results, i);
      JsonObject *result;

      if (!JSON_NODE_HOLDS_OBJECT (item))
        continue;

      result = json_node_get_object (item);
      if (json_object_has_member (result, "error"))
        {
          fail_peer (peer, "POST %s: document \"%s\" was refused: %s (%s)", path,
                     json_object_get_string_member_with_default (result, "id", "?"),
                     json_object_get_string_member_with_default (result, "error", "?"),
                     json_object_get_string_member_with_default (result, "reason", ""));
          return;
        }
    }
}

void
ps_test_peer_put_docs (PsTestPeer *peer,
                       const char *db,
                       JsonArray  *docs,
                       gboolean    new_edits)
{
  g_autofree char *path = NULL;
  guint n_docs;

  g_return_if_fail (peer != NULL);
  g_return_if_fail (db != NULL);
  g_return_if_fail (docs != NULL);

  path = db_path (db, "/_bulk_docs");
  n_docs = json_array_get_length (docs);

  for (guint start = 0; start < n_docs; start += BULK_BATCH_SIZE)
    {
      g_autoptr(GString) body = g_string_new (NULL);
      g_autoptr(GBytes) request_body = NULL;
      g_autoptr(GBytes) response = NULL;
      guint end = MIN (start + BULK_BATCH_SIZE, n_docs);
      guint status = 0;

      g_string_append_printf (body, "{\"new_edits\":%s,\"docs\":[",
                              new_edits ? "true" : "false");
      for (guint i = start; i < end; i++)
        {
          g_autofree char *doc = json_to_string (json_array_get_element (docs, i), FALSE);

          if (i > start)
            g_string_append_c (body, ',');
          g_string_append (body, doc);
        }
      g_string_append (body, "]}");

      request_body = g_string_free_to_bytes (g_steal_pointer (&body));
      response = send_bytes (peer, "POST", path, request_body, &status);
      if (response == NULL)
        return;

      check_bulk_docs_result (peer, path, status, response);
    }
}

static JsonObject *
object_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
array_member (JsonObject *object,
              const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static JsonObject *
object_element (JsonArray *array,
                guint      index)
{
  JsonNode *node = json_array_get_element (array, index);

  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* A copy of @node with object members in sorted order, so that equal
 * documents print the same whatever order the server wrote them in.
 */
static JsonNode *
canonical_copy (JsonNode *node)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_node_get_object (node);
      g_autoptr(JsonObject) sorted = json_object_new ();
      g_autoptr(GList) names = g_list_sort (json_object_get_members (object),
                                            (GCompareFunc) g_strcmp0);

      for (GList *l = names; l != NULL; l = l->next)
        json_object_set_member (sorted, l->data,
                                canonical_copy (json_object_get_member (object, l->data)));

      return json_node_init_object (json_node_alloc (), sorted);
    }

  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      g_autoptr(JsonArray) copy = json_array_sized_new (json_array_get_length (array));

      for (guint i = 0; i < json_array_get_length (array); i++)
        json_array_add_element (copy, canonical_copy (json_array_get_element (array, i)));

      return json_node_init_array (json_node_alloc (), copy);
    }

  return json_node_copy (node);
}

/* Attachment stubs: what identifies the content, not where the server
 * says it first appeared (revpos depends on how a revision arrived).
 */
static JsonNode *
canonical_leaf (JsonNode *leaf)
{
  static const char * const dropped[] = {
    "_conflicts", "_deleted_conflicts", "_revs_info", "_local_seq",
  };
  static const char * const stub_keys[] = { "content_type", "digest", "length" };
  g_autoptr(JsonNode) copy = canonical_copy (leaf);
  JsonObject *doc;
  JsonObject *attachments;

  if (!JSON_NODE_HOLDS_OBJECT (copy))
    return g_steal_pointer (&copy);

  doc = json_node_get_object (copy);
  for (guint i = 0; i < G_N_ELEMENTS (dropped); i++)
    json_object_remove_member (doc, dropped[i]);

  if (json_object_has_member (doc, "_deleted") &&
      !json_object_get_boolean_member_with_default (doc, "_deleted", FALSE))
    json_object_remove_member (doc, "_deleted");

  attachments = object_member (doc, "_attachments");
  if (attachments != NULL)
    {
      g_autoptr(GList) names = json_object_get_members (attachments);

      for (GList *l = names; l != NULL; l = l->next)
        {
          JsonObject *stub = object_member (attachments, l->data);
          g_autoptr(JsonObject) kept = json_object_new ();

          if (stub == NULL)
            continue;

          for (guint i = 0; i < G_N_ELEMENTS (stub_keys); i++)
            {
              if (json_object_has_member (stub, stub_keys[i]))
                json_object_set_member (kept, stub_keys[i],
                                        json_node_copy (json_object_get_member (stub,
                                                                                stub_keys[i])));
            }

          json_object_set_object_member (attachments, l->data, g_steal_pointer (&kept));
        }
    }

  return g_steal_pointer (&copy);
}

static void
parse_rev (const char  *rev,
           guint64     *generation,
           const char **hash)
{
  const char *dash = rev != NULL ? strchr (rev, '-') : NULL;

  *generation = rev != NULL ? g_ascii_strtoull (rev, NULL, 10) : 0;
  *hash = dash != NULL ? dash + 1 : "";
}

static int
compare_leaves (gconstpointer a,
                gconstpointer b)
{
  JsonObject *doc_a = json_node_get_object (*(JsonNode **) a);
  JsonObject *doc_b = json_node_get_object (*(JsonNode **) b);
  guint64 gen_a, gen_b;
  const char *hash_a, *hash_b;

  parse_rev (json_object_get_string_member_with_default (doc_a, "_rev", NULL), &gen_a, &hash_a);
  parse_rev (json_object_get_string_member_with_default (doc_b, "_rev", NULL), &gen_b, &hash_b);

  if (gen_a != gen_b)
    return gen_a < gen_b ? -1 : 1;

  return strcmp (hash_a, hash_b);
}

/* @leaves holds JsonNode objects, one per leaf revision. */
static char *
signature_of_leaves (GPtrArray *leaves)
{
  g_autoptr(JsonArray) array = json_array_new ();
  g_autoptr(JsonNode) root = NULL;

  g_ptr_array_sort (leaves, compare_leaves);
  for (guint i = 0; i < leaves->len; i++)
    json_array_add_element (array, canonical_leaf (g_ptr_array_index (leaves, i)));

  root = json_node_init_array (json_node_alloc (), array);
  return json_to_string (root, FALSE);
}

static gboolean
is_leaf_doc (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) &&
         json_object_get_string_member_with_default (json_node_get_object (node),
                                                     "_rev", NULL) != NULL;
}

/* Writes @records (JsonNodes with their revision histories) unchanged. */
void
ps_test_peer_put_records (PsTestPeer *peer,
                          const char *db,
                          GPtrArray  *records)
{
  g_autoptr(JsonArray) docs = json_array_new ();

  for (guint i = 0; i < records->len; i++)
    json_array_add_element (docs, json_node_copy (g_ptr_array_index (records, i)));
  ps_test_peer_put_docs (peer, db, docs, FALSE);
}

/**
 * ps_test_peer_rev_tree_signature:
 *
 * Returns: (nullable): the canonical text of every leaf of @doc_id with its
 *   `_revisions`, or %NULL when the database has no such document
 */
char *
ps_test_peer_rev_tree_signature (PsTestPeer *peer,
                                 const char *db,
                                 const char *doc_id)
{
  g_autofree char *escaped_id = NULL;
  g_autofree char *rest = NULL;
  g_autofree char *path = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GPtrArray) leaves = NULL;
  JsonArray *results;
  guint status = 0;

  g_return_val_if_fail (peer != NULL, NULL);
  g_return_val_if_fail (db != NULL, NULL);
  g_return_val_if_fail (doc_id != NULL, NULL);

  /* never latest=true: the peer crashes on it when a rev is missing */
  escaped_id = g_uri_escape_string (doc_id, NULL, TRUE);
  rest = g_strdup_printf ("/%s?open_revs=all&revs=true", escaped_id);
  path = db_path (db, rest);
  root = ps_test_peer_request (peer, "GET", path, NULL, &status);

  if (status == SOUP_STATUS_NOT_FOUND)
    return NULL;

  if (status != SOUP_STATUS_OK || root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      fail_peer (peer, "GET %s gave %u", path, status);
      return NULL;
    }

  leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  results = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonNode *item = json_array_get_element (results, i);
      JsonNode *doc;

      if (!JSON_NODE_HOLDS_OBJECT (item))
        continue;

      doc = json_object_get_member (json_node_get_object (item), "ok");
      if (is_leaf_doc (doc))
        g_ptr_array_add (leaves, json_node_ref (doc));
    }

  if (leaves->len == 0)
    return NULL;

  return signature_of_leaves (leaves);
}

static char *
seq_to_query (JsonNode *seq)
{
  g_autofree char *text = NULL;

  /* sequences are opaque: echo strings as they are, anything else as JSON */
  if (JSON_NODE_HOLDS_VALUE (seq) && json_node_get_value_type (seq) == G_TYPE_STRING)
    text = g_strdup (json_node_get_string (seq));
  else
    text = json_to_string (seq, FALSE);

  return g_uri_escape_string (text, NULL, TRUE);
}

/* id -> GPtrArray of leaf rev strings, deleted leaves included */
static GHashTable *
list_leaf_revs (PsTestPeer *peer,
                const char *db)
{
  g_autoptr(GHashTable) revs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                      (GDestroyNotify) g_ptr_array_unref);
  g_autofree char *since = g_strdup ("0");

  for (;;)
    {
      g_autofree char *rest = g_strdup_printf ("/_changes?style=all_docs&limit=%d&since=%s",
                                               CHANGES_BATCH_SIZE, since);
      g_autofree char *path = db_path (db, rest);
      g_autoptr(JsonNode) root = NULL;
      JsonObject *feed;
      JsonArray *results;
      JsonNode *last_seq;
      guint status = 0;

      root = ps_test_peer_request (peer, "GET", path, NULL, &status);
      if (status != SOUP_STATUS_OK || root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
        {
          fail_peer (peer, "GET %s gave %u", path, status);
          return NULL;
        }

      feed = json_node_get_object (root);
      results = array_member (feed, "results");
      last_seq = json_object_get_member (feed, "last_seq");
      if (results == NULL || json_array_get_length (results) == 0 || last_seq == NULL)
        break;

      for (guint i = 0; i < json_array_get_length (results); i++)
        {
          JsonObject *row = object_element (results, i);
          JsonArray *changes = array_member (row, "changes");
          const char *id = json_object_get_string_member_with_default (row, "id", NULL);
          GPtrArray *leaf_revs;

          if (id == NULL || changes == NULL)
            continue;

          leaf_revs = g_ptr_array_new_with_free_func (g_free);
          for (guint j = 0; j < json_array_get_length (changes); j++)
            {
              JsonObject *change = object_element (changes, j);
              const char *rev = json_object_get_string_member_with_default (change, "rev",
                                                                            NULL);

              if (rev != NULL)
                g_ptr_array_add (leaf_revs, g_strdup (rev));
            }

          g_hash_table_replace (revs, g_strdup (id), leaf_revs);
        }

      g_free (since);
      since = seq_to_query (last_seq);

      if (json_array_get_length (results) < CHANGES_BATCH_SIZE)
        break;
    }

  return g_steal_pointer (&revs);
}

static void
fetch_leaf_batch (PsTestPeer *peer,
                  const char *path,
                  JsonArray  *request_docs,
                  GHashTable *leaves)
{
  g_autoptr(JsonObject) request = json_object_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonArray *results;
  guint status = 0;

  json_object_set_array_member (request, "docs", json_array_ref (request_docs));
  body = json_node_init_object (json_node_alloc (), request);
  root = ps_test_peer_request (peer, "POST", path, body, &status);

  if (status != SOUP_STATUS_OK || root == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      (results = array_member (json_node_get_object (root), "results")) == NULL)
    {
      fail_peer (peer, "POST %s gave %u", path, status);
      return;
    }

  /* results are grouped by id on this peer, so match by id, not position */
  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonObject *result = object_element (results, i);
      const char *id = json_object_get_string_member_with_default (result, "id", "?");
      JsonArray *docs = array_member (result, "docs");

      for (guint j = 0; docs != NULL && j < json_array_get_length (docs); j++)
        {
          JsonObject *entry = object_element (docs, j);
          JsonNode *doc = json_object_get_member (entry, "ok");
          GPtrArray *doc_leaves;

          if (!is_leaf_doc (doc))
            {
              g_autofree char *text = json_to_string (json_array_get_element (docs, j), FALSE);

              fail_peer (peer, "a leaf of \"%s\" listed by _changes cannot be read: %s",
                         id, text);
              return;
            }

          doc_leaves = g_hash_table_lookup (leaves, id);
          if (doc_leaves == NULL)
            {
              doc_leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
              g_hash_table_insert (leaves, g_strdup (id), doc_leaves);
            }
          g_ptr_array_add (doc_leaves, json_node_ref (doc));
        }
    }
}

/* id -> GPtrArray of leaf documents (JsonNode) with their _revisions */
static GHashTable *
fetch_all_leaves (PsTestPeer *peer,
                  const char *db)
{
  g_autoptr(GHashTable) revs = NULL;
  g_autoptr(GHashTable) leaves = NULL;
  g_autoptr(JsonArray) batch = json_array_new ();
  g_autofree char *path = NULL;
  GHashTableIter iter;
  gpointer key, value;

  revs = list_leaf_revs (peer, db);
  if (revs == NULL)
    return NULL;

  leaves = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                  (GDestroyNotify) g_ptr_array_unref);
  path = db_path (db, "/_bulk_get?revs=true");

  g_hash_table_iter_init (&iter, revs);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GPtrArray *leaf_revs = value;

      for (guint i = 0; i < leaf_revs->len; i++)
        {
          JsonObject *wanted = json_object_new ();

          json_object_set_string_member (wanted, "id", key);
          json_object_set_string_member (wanted, "rev", g_ptr_array_index (leaf_revs, i));
          json_array_add_object_element (batch, wanted);
        }

      if (json_array_get_length (batch) >= BULK_BATCH_SIZE)
        {
          fetch_leaf_batch (peer, path, batch, leaves);
          g_clear_pointer (&batch, json_array_unref);
          batch = json_array_new ();
        }
    }

  if (json_array_get_length (batch) > 0)
    fetch_leaf_batch (peer, path, batch, leaves);

  return g_steal_pointer (&leaves);
}

/**
 * ps_test_peer_rev_trees:
 *
 * Returns: (transfer full): document id -> signature (as
 *   ps_test_peer_rev_tree_signature() gives it) for every document of @db,
 *   deleted ones included
 */
GHashTable *
ps_test_peer_rev_trees (PsTestPeer *peer,
                        const char *db)
{
  g_autoptr(GHashTable) leaves = NULL;
  GHashTable *trees;
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail (peer != NULL, NULL);
  g_return_val_if_fail (db != NULL, NULL);

  trees = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  leaves = fetch_all_leaves (peer, db);
  if (leaves == NULL)
    return trees;

  g_hash_table_iter_init (&iter, leaves);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (trees, g_strdup (key), signature_of_leaves (value));

  return trees;
}

static int
compare_ids (gconstpointer a,
             gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

void
ps_test_assert_same_rev_trees (PsTestPeer *a,
                               const char *db_a,
                               PsTestPeer *b,
                               const char *db_b)
{
  g_autoptr(GHashTable) trees_a = NULL;
  g_autoptr(GHashTable) trees_b = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_return_if_fail (a != NULL && db_a != NULL);
  g_return_if_fail (b != NULL && db_b != NULL);

  trees_a = ps_test_peer_rev_trees (a, db_a);
  trees_b = ps_test_peer_rev_trees (b, db_b);

  g_hash_table_iter_init (&iter, trees_a);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (ids, key);
  g_hash_table_iter_init (&iter, trees_b);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      if (!g_hash_table_contains (trees_a, key))
        g_ptr_array_add (ids, key);
    }

  /* sorted, so that the same difference is always the one reported */
  g_ptr_array_sort (ids, compare_ids);

  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = g_ptr_array_index (ids, i);
      const char *sig_a = g_hash_table_lookup (trees_a, id);
      const char *sig_b = g_hash_table_lookup (trees_b, id);
      g_autofree char *message = NULL;

      if (g_strcmp0 (sig_a, sig_b) == 0)
        continue;

      message = g_strdup_printf ("revision trees differ at document \"%s\" "
                                 "(%u documents in %s/%s, %u in %s/%s)\n"
                                 "  %s/%s: %.*s\n  %s/%s: %.*s",
                                 id,
                                 g_hash_table_size (trees_a), a->url, db_a,
                                 g_hash_table_size (trees_b), b->url, db_b,
                                 a->url, db_a, SIGNATURE_SHOWN_CHARS,
                                 sig_a != NULL ? sig_a : "(missing)",
                                 b->url, db_b, SIGNATURE_SHOWN_CHARS,
                                 sig_b != NULL ? sig_b : "(missing)");
      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, message);
      return;
    }
}

guint
ps_test_peer_count_conflicts (PsTestPeer *peer,
                              const char *db)
{
  g_autoptr(GHashTable) leaves = NULL;
  GHashTableIter iter;
  gpointer value;
  guint conflicts = 0;

  g_return_val_if_fail (peer != NULL, 0);
  g_return_val_if_fail (db != NULL, 0);

  leaves = fetch_all_leaves (peer, db);
  if (leaves == NULL)
    return 0;

  /* a document has _conflicts when more than one of its leaves is alive */
  g_hash_table_iter_init (&iter, leaves);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      GPtrArray *doc_leaves = value;
      guint alive = 0;

      for (guint i = 0; i < doc_leaves->len; i++)
        {
          JsonObject *doc = json_node_get_object (g_ptr_array_index (doc_leaves, i));

          if (!json_object_get_boolean_member_with_default (doc, "_deleted", FALSE))
            alive++;
        }

      if (alive > 1)
        conflicts++;
    }

  return conflicts;
}

/* A small new document {_id, name}, written as an editor would. */
void
ps_test_peer_put_named_doc (PsTestPeer *peer,
                            const char *db,
                            const char *id,
                            const char *name)
{
  g_autoptr(JsonArray) docs = json_array_new ();
  JsonObject *doc = json_object_new ();

  json_object_set_string_member (doc, "_id", id);
  json_object_set_string_member (doc, "name", name);
  json_array_add_object_element (docs, doc);
  ps_test_peer_put_docs (peer, db, docs, TRUE);
}

gboolean
ps_test_peer_has_doc (PsTestPeer *peer,
                      const char *db,
                      const char *id)
{
  g_autofree char *path = g_strdup_printf ("/%s/%s", db, id);
  g_autoptr(JsonNode) answer = NULL;
  guint status = 0;

  answer = ps_test_peer_request (peer, "GET", path, NULL, &status);
  return status == 200;
}

/**
 * ps_test_soak_seconds:
 * @default_seconds: how long a soak lasts in the normal run
 *
 * Returns: the seconds in PS_SOAK_SECONDS, for a longer soak, or
 *   @default_seconds
 */
guint
ps_test_soak_seconds (guint default_seconds)
{
  const char *text = g_getenv ("PS_SOAK_SECONDS");
  guint64 seconds;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 1, 24 * 3600, &seconds, NULL))
    return default_seconds;

  return seconds;
}

/* Removes a directory of plain files that a test made. */
void
ps_test_remove_dir (const char *path)
{
  g_autoptr(GFile) dir = NULL;
  g_autoptr(GFileEnumerator) children = NULL;
  GFileInfo *info;

  if (path == NULL)
    return;

  dir = g_file_new_for_path (path);
  children = g_file_enumerate_children (dir, G_FILE_ATTRIBUTE_STANDARD_NAME, 0, NULL, NULL);
  while (children != NULL && (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
    {
      g_autoptr(GFile) child = g_file_get_child (dir, g_file_info_get_name (info));

      g_file_delete (child, NULL, NULL);
      g_object_unref (info);
    }
  g_file_delete (dir, NULL, NULL);
}

static void
on_crash (int signal_number)
{
  void *frames[64];
  int n_frames = backtrace (frames, G_N_ELEMENTS (frames));
  static const char header[] = "crashed; stack:\n";

  if (write (STDERR_FILENO, header, sizeof header - 1) < 0)
    _exit (128 + signal_number);
  backtrace_symbols_fd (frames, n_frames, STDERR_FILENO);
  signal (signal_number, SIG_DFL);
  raise (signal_number);
}

/* Crashes under random faults have been seen only in full runs, never
 * alone: the stack goes to the test log, so that the next one says where.
 */
void
ps_test_print_stack_on_crash (void)
{
  signal (SIGSEGV, on_crash);
  signal (SIGBUS, on_crash);
}

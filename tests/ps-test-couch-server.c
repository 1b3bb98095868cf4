/* ps-test-couch-server.c: a real Apache CouchDB for the couchdb suite.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * PS_TEST_COUCHDB names the server: either the `couchdb-run` script of a
 * CouchDB release, which this harness uses to start one server per index on
 * ports 25984 and up (PS_TEST_COUCHDB_FIRST_PORT moves them, so that two
 * checkouts can test at once) in a folder of the build directory, or the URL of a
 * running server with an administrator's credentials, which every index
 * then shares (the tests give each side its own database names).
 */

#define G_LOG_DOMAIN "ps-test-couch-server"

#include "config.h"

#include "ps-test-couch-server.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_PORT   25984
#define MAX_SERVERS  6
#define SKIP_MESSAGE "skipped: no CouchDB (set PS_TEST_COUCHDB to a couchdb-run script " \
                     "or a server URL)"

typedef struct
{
  char *section;
  char *key;
  char *old_value;   /* JSON text, or NULL when the key was not set */
} ConfigChange;

struct _PsTestCouchServer
{
  char       *script;     /* NULL for a server someone else runs */
  char       *dir;
  char       *url;
  char       *user;
  char       *password;
  PsTestPeer *peer;
  GPtrArray  *config_changes;
  guint       index;
};

/* Servers this process started, for the abort path: a failed assertion
 * must not leave CouchDB running on the suite's ports.
 */
static volatile sig_atomic_t live_pids[MAX_SERVERS];

static void
kill_live_servers (void)
{
  for (guint i = 0; i < MAX_SERVERS; i++)
    {
      if (live_pids[i] > 0)
        kill (live_pids[i], SIGKILL);
    }
}

static void
on_abort_signal (int signum)
{
  kill_live_servers ();
  signal (signum, SIG_DFL);
  raise (signum);
}

static void
install_cleanup_handlers (void)
{
  static gsize installed = 0;

  if (g_once_init_enter (&installed))
    {
      signal (SIGABRT, on_abort_signal);
      signal (SIGTRAP, on_abort_signal);
      atexit (kill_live_servers);
      g_once_init_leave (&installed, 1);
    }
}

static void
config_change_free (ConfigChange *change)
{
  g_free (change->section);
  g_free (change->key);
  g_free (change->old_value);
  g_free (change);
}

/**
 * ps_test_couch_skip_if_absent:
 *
 * Call after g_test_init(). Without a CouchDB to test against, prints a
 * TAP plan that skips the whole program, says why on standard error, and
 * returns %TRUE: main() then returns 0.
 */
gboolean
ps_test_couch_skip_if_absent (void)
{
  const char *value = g_getenv ("PS_TEST_COUCHDB");

  if (value != NULL && *value != '\0')
    {
      if (g_str_has_prefix (value, "http://") || g_str_has_prefix (value, "https://") ||
          g_file_test (value, G_FILE_TEST_IS_EXECUTABLE))
        return FALSE;
    }

  g_printerr ("%s\n", SKIP_MESSAGE);
  g_print ("1..0 # SKIP %s\n", SKIP_MESSAGE);
  return TRUE;
}

static void
run_script (PsTestCouchServer  *server,
            const char * const *argv,
            char              **out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  g_auto(GStrv) env = g_get_environ ();
  int status = 0;

  /* Erlang keeps its cookie under HOME or XDG_CONFIG_HOME, which an
   * isolated test points at /dev/null.
   */
  env = g_environ_setenv (env, "HOME", server->dir, TRUE);
  env = g_environ_setenv (env, "XDG_CONFIG_HOME", server->dir, TRUE);
  if (!g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_DEFAULT, NULL, NULL,
                     out, &err, &status, &error))
    g_error ("cannot run %s: %s", argv[0], error->message);

  if (!g_spawn_check_wait_status (status, &error))
    g_error ("%s %s %s failed: %s\n%s", argv[0], argv[1], argv[2], error->message,
             err != NULL ? err : "");
}

/* The folder's own copy of the configuration, as unpacked: settings a
 * crashed run changed through the API do not outlive it.
 */
static void
restore_local_ini (const char *dir)
{
  g_autofree char *ini = g_build_filename (dir, "couchdb-3.5.0", "etc", "local.ini", NULL);
  g_autofree char *orig = g_strconcat (ini, ".orig", NULL);
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (g_file_get_contents (orig, &contents, &length, NULL))
    g_file_set_contents (ini, contents, length, NULL);
  else if (g_file_get_contents (ini, &contents, &length, NULL))
    g_file_set_contents (orig, contents, length, NULL);
}

/* A new CouchDB makes up its cookie secret at the first login. When
 * several replications log in at once, each makes up and saves its own,
 * and the session cookies issued under the ones overwritten answer 401
 * until CouchDB's replicator retries, minutes later. A server in use has
 * long settled its secret; so does this one, before any login.
 */
static void
set_cookie_secret (PsTestCouchServer *server)
{
  g_autofree char *secret = g_uuid_string_random ();
  g_autoptr(JsonNode) body = json_node_new (JSON_NODE_VALUE);
  g_autoptr(JsonNode) answer = NULL;
  guint status = 0;

  json_node_set_string (body, secret);
  answer = ps_test_peer_request (server->peer, "PUT", "/_node/_local/_config/chttpd_auth/secret",
                                 body, &status);
  g_assert_cmpuint (status, ==, SOUP_STATUS_OK);
}

static char *
dup_port (guint index)
{
  const char *first = g_getenv ("PS_TEST_COUCHDB_FIRST_PORT");
  guint64 first_port = first != NULL ? g_ascii_strtoull (first, NULL, 10) : FIRST_PORT;

  if (first_port < 1024 || first_port > 65000)
    first_port = FIRST_PORT;
  return g_strdup_printf ("%u", (guint) first_port + index);
}

static void
start_with_script (PsTestCouchServer *server)
{
  g_autofree char *port = dup_port (server->index);
  g_autofree char *base = NULL;
  g_autofree char *data = NULL;
  g_autofree char *pid_path = NULL;
  g_autofree char *pid_text = NULL;
  g_autofree char *out = NULL;
  const char *builddir = g_getenv ("G_TEST_BUILDDIR");
  const char *stop_argv[] = { server->script, "stop", NULL, NULL };
  const char *start_argv[] = { server->script, "start", NULL, port, server->user,
                               server->password, NULL };

  /* Kept between runs: the release is unpacked there once. */
  base = g_strdup_printf ("couchdb-%s", port);
  server->dir = g_build_filename (builddir != NULL ? builddir : g_get_tmp_dir (), base, NULL);
  stop_argv[2] = server->dir;
  start_argv[2] = server->dir;
  g_mkdir_with_parents (server->dir, 0700);

  run_script (server, stop_argv, NULL);
  data = g_build_filename (server->dir, "couchdb-3.5.0", "data", NULL);
  ps_test_remove_dir (data);
  restore_local_ini (server->dir);

  install_cleanup_handlers ();
  run_script (server, start_argv, &out);
  server->url = g_strdup (g_strstrip (out));

  pid_path = g_build_filename (server->dir, "couchdb.pid", NULL);
  if (g_file_get_contents (pid_path, &pid_text, NULL, NULL))
    live_pids[server->index] = atoi (pid_text);
}

static void
use_running_server (PsTestCouchServer *server,
                    const char        *value)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = g_uri_parse (value, G_URI_FLAGS_HAS_PASSWORD, &error);

  if (uri == NULL)
    g_error ("PS_TEST_COUCHDB is not a usable URL: %s", error->message);

  server->user = g_strdup (g_uri_get_user (uri) != NULL ? g_uri_get_user (uri) : "admin");
  server->password = g_strdup (g_uri_get_password (uri) != NULL ? g_uri_get_password (uri)
                                                                 : "admin");
  server->url = g_uri_join (G_URI_FLAGS_NONE, g_uri_get_scheme (uri), NULL,
                            g_uri_get_host (uri), g_uri_get_port (uri), "", NULL, NULL);
}

/**
 * ps_test_couch_server_new:
 * @index: which server, from 0; each program uses its own indices
 *
 * Starts CouchDB number @index with no databases of its own (or uses the
 * one PS_TEST_COUCHDB names), and waits until it answers.
 */
PsTestCouchServer *
ps_test_couch_server_new (guint index)
{
  const char *value = g_getenv ("PS_TEST_COUCHDB");
  PsTestCouchServer *server = g_new0 (PsTestCouchServer, 1);

  g_assert_cmpuint (index, <, MAX_SERVERS);
  g_assert_nonnull (value);

  server->index = index;
  server->config_changes = g_ptr_array_new_with_free_func ((GDestroyNotify) config_change_free);

  if (g_str_has_prefix (value, "http://") || g_str_has_prefix (value, "https://"))
    use_running_server (server, value);
  else
    {
      static char *password = NULL;

      /* A fresh secret per run, so that a test can look for it in output;
       * the same for every server of the run, as they may share a keyring
       * entry (this instance's password, from two homes).
       */
      if (password == NULL)
        {
          g_autofree char *random = g_uuid_string_random ();

          password = g_strdup_printf ("pw-%.12s", random);
        }
      server->script = g_strdup (value);
      server->user = g_strdup ("admin");
      server->password = g_strdup (password);
      start_with_script (server);
    }

  server->peer = ps_test_peer_new_for_server (server->url, server->user, server->password);
  if (server->script != NULL)
    set_cookie_secret (server);
  return server;
}

void
ps_test_couch_server_free (PsTestCouchServer *server)
{
  if (server == NULL)
    return;

  ps_test_couch_server_reset_config (server);
  g_clear_pointer (&server->peer, ps_test_peer_free);

  if (server->script != NULL)
    {
      const char *stop_argv[] = { server->script, "stop", server->dir, NULL };

      run_script (server, stop_argv, NULL);
      live_pids[server->index] = 0;
    }

  g_ptr_array_unref (server->config_changes);
  g_free (server->script);
  g_free (server->dir);
  g_free (server->url);
  g_free (server->user);
  g_free (server->password);
  g_free (server);
}

PsTestPeer *
ps_test_couch_server_get_peer (PsTestCouchServer *server)
{
  return server->peer;
}

/* Without credentials. */
const char *
ps_test_couch_server_get_url (PsTestCouchServer *server)
{
  return server->url;
}

const char *
ps_test_couch_server_get_user (PsTestCouchServer *server)
{
  return server->user;
}

const char *
ps_test_couch_server_get_password (PsTestCouchServer *server)
{
  return server->password;
}

/**
 * ps_test_couch_server_db_url:
 *
 * Returns: the URL of @db with the administrator's credentials in it, as a
 *   user gives it to the command line
 */
char *
ps_test_couch_server_db_url (PsTestCouchServer *server,
                             const char        *db)
{
  g_autoptr(GUri) root = g_uri_parse (server->url, G_URI_FLAGS_NONE, NULL);
  g_autofree char *path = NULL;

  g_assert_nonnull (root);
  path = g_strconcat ("/", db, NULL);
  return g_uri_join_with_user (G_URI_FLAGS_NONE, g_uri_get_scheme (root), server->user,
                               server->password, NULL, g_uri_get_host (root),
                               g_uri_get_port (root), path, NULL, NULL);
}

/* An empty database, whatever a previous run left there. */
void
ps_test_couch_server_fresh_db (PsTestCouchServer *server,
                               const char        *db)
{
  g_autofree char *path = g_strconcat ("/", db, NULL);
  g_autoptr(JsonNode) answer = NULL;
  guint status = 0;

  answer = ps_test_peer_request (server->peer, "DELETE", path, NULL, &status);
  ps_test_peer_create_db (server->peer, db);
}

static char *
config_path (const char *section,
             const char *key)
{
  return g_strdup_printf ("/_node/_local/_config/%s/%s", section, key);
}

/**
 * ps_test_couch_server_set_config:
 *
 * Sets one of the server's settings until ps_test_couch_server_reset_config()
 * or the end of the server.
 */
void
ps_test_couch_server_set_config (PsTestCouchServer *server,
                                 const char        *section,
                                 const char        *key,
                                 const char        *value)
{
  g_autofree char *path = config_path (section, key);
  g_autoptr(JsonNode) old = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(JsonNode) body = json_node_new (JSON_NODE_VALUE);
  ConfigChange *change = g_new0 (ConfigChange, 1);
  guint status = 0;

  old = ps_test_peer_request (server->peer, "GET", path, NULL, &status);
  change->section = g_strdup (section);
  change->key = g_strdup (key);
  if (status == SOUP_STATUS_OK && old != NULL)
    change->old_value = json_to_string (old, FALSE);
  g_ptr_array_add (server->config_changes, change);

  json_node_set_string (body, value);
  answer = ps_test_peer_request (server->peer, "PUT", path, body, &status);
  g_assert_cmpuint (status, ==, SOUP_STATUS_OK);
}

void
ps_test_couch_server_reset_config (PsTestCouchServer *server)
{
  /* newest first, so that a key set twice gets its first value back */
  while (server->config_changes->len > 0)
    {
      guint last = server->config_changes->len - 1;
      ConfigChange *change = g_ptr_array_index (server->config_changes, last);
      g_autofree char *path = config_path (change->section, change->key);
      g_autoptr(JsonNode) answer = NULL;
      guint status = 0;

      if (change->old_value != NULL)
        {
          g_autoptr(JsonParser) parser = json_parser_new ();

          g_assert_true (json_parser_load_from_data (parser, change->old_value, -1, NULL));
          answer = ps_test_peer_request (server->peer, "PUT", path,
                                         json_parser_get_root (parser), &status);
        }
      else
        answer = ps_test_peer_request (server->peer, "DELETE", path, NULL, &status);

      g_ptr_array_remove_index (server->config_changes, last);
    }
}

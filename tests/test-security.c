/* test-security.c: passwords given to `primero-sync-cli replicate` never
 * show: not in its output, its files, the peers' logs, nor in its
 * arguments when given on standard input.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-couch-database.h"
#include "ps-diagnostics.h"
#include "ps-fake-couch.h"
#include "ps-journal.h"
#include "ps-server.h"
#include "ps-test-cli.h"
#include "ps-test-peer.h"
#include "ps-url.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB               "primero_child_production"
#define USER             "admin"
#define SOURCE_PASSWORD  "Quartz-Heron-9182"
#define TARGET_PASSWORD  "Target-Osprey-7713"
#define WRONG_PASSWORD   "Wrong-Lynx-5530"
#define CLI_TIMEOUT_S    60

/* The secrets, as they would leak: plain, URL-escaped or in a Basic
 * Authorization header.
 */
static GPtrArray *
secret_forms (void)
{
  static const char * const passwords[] = { SOURCE_PASSWORD, TARGET_PASSWORD, WRONG_PASSWORD };
  GPtrArray *forms = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < G_N_ELEMENTS (passwords); i++)
    {
      g_autofree char *pair = g_strconcat (USER, ":", passwords[i], NULL);

      g_ptr_array_add (forms, g_strdup (passwords[i]));
      g_ptr_array_add (forms, g_uri_escape_string (passwords[i], NULL, FALSE));
      g_ptr_array_add (forms, g_base64_encode ((const guchar *) pair, strlen (pair)));
    }

  return forms;
}

/* Like memmem(), which is a GNU extension. */
static gboolean
contains (const char *data,
          gsize       len,
          const char *needle)
{
  gsize needle_len = strlen (needle);

  for (gsize i = 0; data != NULL && i + needle_len <= len; i++)
    if (memcmp (data + i, needle, needle_len) == 0)
      return TRUE;

  return FALSE;
}

static void
assert_no_secret (const char *where,
                  const char *text,
                  gsize       len)
{
  g_autoptr(GPtrArray) forms = secret_forms ();

  for (guint i = 0; i < forms->len; i++)
    {
      const char *form = g_ptr_array_index (forms, i);

      if (contains (text, len, form))
        g_error ("a password (as \"%s\") shows in %s", form, where);
    }
}

static guint
scan_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;
  guint scanned = 0;

  if (g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    return 0;

  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (g_file_get_contents (path, &contents, &len, NULL))
        assert_no_secret (path, contents, len);
      return 1;
    }

  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      scanned += scan_tree (child);
    }

  return scanned;
}

/* What the test peer writes while it runs: its request log and output.
 * (config.json is written by the test harness itself, with the admin
 * password the peer was started with.)
 */
static guint
scan_peer_logs (PsTestPeer *peer)
{
  static const char * const logs[] = { "log.txt", "stdout.log" };
  guint scanned = 0;

  for (guint i = 0; i < G_N_ELEMENTS (logs); i++)
    {
      g_autofree char *path = g_build_filename (ps_test_peer_get_dir (peer), logs[i], NULL);

      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        scanned += scan_tree (path);
    }

  return scanned;
}

static guint
scan_user_dirs (void)
{
  const char *dirs[] = {
    g_get_home_dir (), g_get_user_config_dir (), g_get_user_data_dir (),
    g_get_user_cache_dir (), g_get_user_state_dir (), g_get_user_runtime_dir (),
  };
  guint scanned = 0;

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      /* The isolated test directories, never the real ones. */
      g_assert_true (g_str_has_prefix (dirs[i], g_get_tmp_dir ()));
      scanned += scan_tree (dirs[i]);
    }

  return scanned;
}

static guint16
closed_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  /* A port that was free a moment ago, and nobody listens on. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

typedef enum
{
  CREDENTIALS_IN_URL,
  CREDENTIALS_ON_STDIN,
} Credentials;

typedef enum
{
  TARGET_WRONG_PASSWORD,
  TARGET_CLOSED_PORT,
  TARGET_HTML,
} TargetFailure;

static void
test_passwords_never_shown (void)
{
  g_autoptr(PsTestPeer) source = ps_test_peer_new_with_admin (TRUE, USER, SOURCE_PASSWORD);
  g_autoptr(PsTestPeer) target = ps_test_peer_new_with_admin (TRUE, USER, TARGET_PASSWORD);
  g_autoptr(PsFakeCouch) html = ps_fake_couch_new ();
  g_autoptr(JsonArray) docs = json_array_new ();
  g_autofree char *plain_source = ps_test_peer_db_url (source, DB);
  g_autofree char *source_with_password = NULL;
  guint16 dead_port = closed_port ();
  guint runs = 0;
  guint scanned;

  ps_test_peer_create_db (source, DB);
  ps_test_peer_create_db (target, DB);
  for (guint i = 0; i < 5; i++)
    {
      JsonObject *doc = json_object_new ();
      g_autofree char *id = g_strdup_printf ("case-%u", i);

      json_object_set_string_member (doc, "_id", id);
      json_array_add_object_element (docs, doc);
    }
  ps_test_peer_put_docs (source, DB, docs, TRUE);

  ps_fake_couch_route (html, "GET", "/" DB, 200, "text/html",
                       "<html><body><h1>Welcome to the office portal</h1></body></html>");
  source_with_password = g_strdup_printf ("http://" USER ":" SOURCE_PASSWORD "@127.0.0.1:%u/" DB,
                                          ps_test_peer_get_port (source));

  for (Credentials credentials = CREDENTIALS_IN_URL; credentials <= CREDENTIALS_ON_STDIN;
       credentials++)
    for (TargetFailure failure = TARGET_WRONG_PASSWORD; failure <= TARGET_HTML; failure++)
      for (guint json = 0; json < 2; json++)
        {
          g_autofree char *target_url = NULL;
          g_autofree char *target_address = NULL;
          g_autoptr(GUri) parsed = NULL;
          g_autoptr(GPtrArray) args = g_ptr_array_new ();
          PsCliResult result = { 0, };
          /* Debug messages too must not carry a password. */
          PsCliOptions options = { .timeout_s = CLI_TIMEOUT_S, .debug = TRUE };

          switch (failure)
            {
            case TARGET_WRONG_PASSWORD:
              target_url = g_strdup_printf ("http://" USER ":" WRONG_PASSWORD "@127.0.0.1:%u/" DB,
                                            ps_test_peer_get_port (target));
              break;
            case TARGET_CLOSED_PORT:
              target_url = g_strdup_printf ("http://" USER ":" WRONG_PASSWORD "@127.0.0.1:%u/" DB,
                                            dead_port);
              break;
            case TARGET_HTML:
            default:
              target_url = ps_fake_couch_url (html, "/" DB);
              break;
            }
          parsed = g_uri_parse (target_url, G_URI_FLAGS_NONE, NULL);
          target_address = g_strdup_printf ("127.0.0.1:%d/" DB, g_uri_get_port (parsed));

          g_ptr_array_add (args, (gpointer) "replicate");
          if (credentials == CREDENTIALS_IN_URL)
            g_ptr_array_add (args, source_with_password);
          else
            {
              g_ptr_array_add (args, plain_source);
              g_ptr_array_add (args, (gpointer) "--source-user");
              g_ptr_array_add (args, (gpointer) USER);
              options.input = SOURCE_PASSWORD "\n";
            }
          g_ptr_array_add (args, target_url);
          if (json)
            g_ptr_array_add (args, (gpointer) "--json");
          g_ptr_array_add (args, NULL);

          ps_test_run_cli_full (&result, &options, (const char * const *) args->pdata);
          g_test_message ("credentials %d, target failure %d, json %u: exit %d\n"
                          "stdout: %s\nstderr: %s",
                          credentials, failure, json, result.status, result.out, result.err);

          /* Each run fails, and says so: about the target, since the
           * source accepted its password.
           */
          g_assert_cmpint (result.status, !=, 0);
          if (json)
            {
              g_assert_nonnull (strstr (result.out, "\"error\""));
              g_assert_nonnull (strstr (result.out, target_address));
            }
          else
            {
              g_assert_nonnull (strstr (result.err, "Error"));
              g_assert_nonnull (strstr (result.err, target_address));
            }
          assert_no_secret ("standard output", result.out, strlen (result.out));
          assert_no_secret ("standard error", result.err, strlen (result.err));
          ps_cli_result_clear (&result);
          runs++;
        }

  g_assert_cmpuint (runs, ==, 12);
  ps_test_peer_assert_alive (source);
  ps_test_peer_assert_alive (target);

  scanned = scan_user_dirs ();
  scanned += scan_peer_logs (source);
  scanned += scan_peer_logs (target);
  g_test_message ("%u runs; %u files searched for the passwords", runs, scanned);
  g_assert_cmpuint (scanned, >=, 2);
}

/* Reads /proc/<pid>/<name> whole (NUL separators included). */
static GBytes *
read_proc (const char *pid,
           const char *name)
{
  g_autofree char *path = g_build_filename ("/proc", pid, name, NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

static void
test_password_not_in_arguments (void)
{
  g_autoptr(PsFakeCouch) slow = ps_fake_couch_new ();
  g_autoptr(PsFakeCouch) target = ps_fake_couch_new ();
  g_autofree char *source_url = ps_fake_couch_url (slow, "/" DB);
  g_autofree char *target_url = ps_fake_couch_url (target, "/copy");
  g_autofree char *pair = g_base64_encode ((const guchar *) USER ":" SOURCE_PASSWORD,
                                           strlen (USER ":" SOURCE_PASSWORD));
  g_autofree char *expected = g_strconcat ("Basic ", pair, NULL);
  const char *args[] = { "replicate", source_url, target_url, "--source-user", USER, NULL };
  const PsCliOptions options = {
    .input = SOURCE_PASSWORD "\n", .timeout_s = CLI_TIMEOUT_S, .debug = TRUE,
  };
  g_auto(PsCliResult) result = { 0, };
  g_autoptr(GBytes) cmdline = NULL;
  g_autoptr(GBytes) environ_bytes = NULL;
  PsTestCli *cli;
  gint64 deadline;
  const char *pid;

  /* The source takes its time to answer, so the process can be looked at
   * while it runs.
   */
  ps_fake_couch_require_auth (slow, USER, SOURCE_PASSWORD, FALSE);
  ps_fake_couch_set_delay (slow, 1500);
  ps_fake_couch_route (slow, "GET", "/" DB, 200, NULL, "{\"db_name\":\"" DB "\",\"update_seq\":0}");
  /* Both ends are asked at once: a missing target would end the run
   * before the source answers.
   */
  ps_fake_couch_route (target, "GET", "/copy", 200, NULL, "{\"db_name\":\"copy\",\"update_seq\":0}");

  cli = ps_test_cli_start (&options, args);
  pid = g_subprocess_get_identifier (ps_test_cli_get_process (cli));
  g_assert_nonnull (pid);

  /* Once the first request came in, the password was read and used. */
  deadline = g_get_monotonic_time () + CLI_TIMEOUT_S * G_TIME_SPAN_SECOND;
  while (ps_fake_couch_count_requests (slow, "GET", "/" DB) == 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_assert_false (ps_test_cli_is_done (cli));
  cmdline = read_proc (pid, "cmdline");
  environ_bytes = read_proc (pid, "environ");
  g_assert_cmpstr (ps_fake_couch_last_authorization (slow), ==, expected);

  g_assert_true (contains (g_bytes_get_data (cmdline, NULL), g_bytes_get_size (cmdline),
                           "--source-user"));
  assert_no_secret ("the process's arguments", g_bytes_get_data (cmdline, NULL),
                    g_bytes_get_size (cmdline));
  assert_no_secret ("the process's environment", g_bytes_get_data (environ_bytes, NULL),
                    g_bytes_get_size (environ_bytes));

  g_subprocess_send_signal (ps_test_cli_get_process (cli), SIGTERM);
  ps_test_cli_finish (cli, &result);
  assert_no_secret ("standard output", result.out, strlen (result.out));
  assert_no_secret ("standard error", result.err, strlen (result.err));
}

/* Run as root, the command is started as nobody, so that who owns
 * /proc/<pid>/status tells whether it can dump core.
 */
#define NOBODY_ID 65534

static void
become_nobody (gpointer user_data)
{
  if (geteuid () == 0 && (setgid (NOBODY_ID) != 0 || setuid (NOBODY_ID) != 0))
    _exit (127);
}

/* A process that cannot dump core has its /proc/<pid>/ files owned by root;
 * nothing else can read its memory through them, and a crash leaves no
 * core file with passwords or records in it.
 */
static void
test_no_core_dumps (void)
{
  g_autoptr(PsFakeCouch) slow = ps_fake_couch_new ();
  g_autoptr(PsFakeCouch) target = ps_fake_couch_new ();
  g_autofree char *source_url = ps_fake_couch_url (slow, "/" DB);
  g_autofree char *target_url = ps_fake_couch_url (target, "/copy");
  g_autofree char *home = g_dir_make_tmp ("ps-dumpable-XXXXXX", NULL);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *proc_path = NULL;
  uid_t runs_as = geteuid () == 0 ? NOBODY_ID : geteuid ();
  struct stat st;
  gint64 deadline;

  g_assert_nonnull (home);
  g_assert_cmpint (g_chmod (home, 0777), ==, 0);
  ps_fake_couch_set_delay (slow, 1500);
  ps_fake_couch_route (slow, "GET", "/" DB, 200, NULL, "{\"db_name\":\"" DB "\",\"update_seq\":0}");

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                        G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_cwd (launcher, home);
  g_subprocess_launcher_setenv (launcher, "HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", home, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, become_nobody, NULL, NULL);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("PS_CLI"), "replicate",
                                         source_url, target_url, NULL);
  g_assert_no_error (error);

  /* Once the first request came in, the command is well past its start. */
  deadline = g_get_monotonic_time () + CLI_TIMEOUT_S * G_TIME_SPAN_SECOND;
  while (ps_fake_couch_count_requests (slow, "GET", "/" DB) == 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }

  proc_path = g_build_filename ("/proc", g_subprocess_get_identifier (process), "status", NULL);
  g_assert_cmpint (g_stat (proc_path, &st), ==, 0);
  g_test_message ("the command runs as %u; /proc/<pid>/status is owned by %u",
                  (guint) runs_as, (guint) st.st_uid);
  g_assert_cmpuint (runs_as, !=, 0);
  g_assert_cmpuint (st.st_uid, ==, 0);

  g_subprocess_send_signal (process, SIGTERM);
  g_subprocess_wait (process, NULL, NULL);
  g_rmdir (home);
}

/* Passwords typed into a URL as people type them: with a '/', a '?', a
 * '#' or an '@' in them, or starting with digits a parser takes for a
 * port.
 */
static const char * const url_secrets[] = {
  "s3cret/x", "2024/Secret", "Kite?9#Owl", "p@ss:Word", "9182",
};

static void
assert_url_secret_absent (const char *where,
                          const char *text,
                          const char *secret)
{
  g_auto(GStrv) parts = g_strsplit_set (secret, "/?#@:", -1);

  if (text == NULL)
    return;
  for (guint i = 0; parts[i] != NULL; i++)
    if (strlen (parts[i]) >= 4 && strstr (text, parts[i]) != NULL)
      g_error ("the password \"%s\" shows (as \"%s\") in %s: %s", secret, parts[i], where, text);
}

static void
test_url_password_not_in_errors (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (url_secrets); i++)
    {
      g_autofree char *url = g_strdup_printf ("https://admin:%s@example.org:6984", url_secrets[i]);
      g_autofree char *db_url = g_strconcat (url, "/" DB, NULL);
      g_autoptr(SoupSession) session = soup_session_new ();
      g_autoptr(PsCouchDatabase) database = NULL;
      g_autoptr(PsServer) server = ps_server_new ("Field office", url);
      g_autofree char *normalized = NULL;
      g_autofree char *display = NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", url);

      /* A server's URL never holds credentials: it is refused, in words
       * that do not repeat them, and not stored as given.
       */
      g_assert_false (ps_server_normalize_url (url, &normalized, NULL, &error));
      g_assert_error (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID_URL);
      assert_url_secret_absent ("the URL error", error->message, url_secrets[i]);
      g_assert_null (normalized);
      g_clear_error (&error);

      g_assert_false (ps_server_validate (server, &error));
      g_assert_nonnull (error);
      assert_url_secret_absent ("the server error", error->message, url_secrets[i]);
      g_clear_error (&error);

      /* A database URL may carry them (replicate): they are taken out
       * whole, and the address shown has none.
       */
      database = ps_couch_database_new (session, db_url, &error);
      g_assert_no_error (error);
      g_assert_nonnull (database);
      g_assert_cmpstr (ps_couch_database_get_name (database), ==, DB);
      g_assert_cmpstr (ps_couch_database_get_username (database), ==, "admin");
      display = ps_couch_database_dup_display_url (database);
      g_assert_cmpstr (display, ==, "https://admin@example.org:6984/" DB);
    }
}

static void
test_url_password_redacted (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (url_secrets); i++)
    {
      g_autofree char *url = g_strdup_printf ("https://admin:%s@example.org:6984/" DB,
                                              url_secrets[i]);
      g_autofree char *broken = g_strdup_printf ("https://admin:%s@exa mple.org/" DB,
                                                 url_secrets[i]);
      g_autofree char *redacted = ps_url_redact (url);
      g_autofree char *redacted_broken = ps_url_redact (broken);

      assert_url_secret_absent ("a redacted URL", redacted, url_secrets[i]);
      assert_url_secret_absent ("a redacted invalid URL", redacted_broken, url_secrets[i]);
      /* What is left still says where it goes. */
      g_assert_nonnull (strstr (redacted, "example.org:6984/" DB));
    }
}

/* replicate with a password holding a '/' in the source URL: the command
 * works with it, and shows it nowhere.
 */
static void
test_url_password_with_slash_replicates (void)
{
#define SLASH_PASSWORD "Quartz/Heron-9182"
  g_autoptr(PsTestPeer) source = ps_test_peer_new_with_admin (TRUE, USER, SLASH_PASSWORD);
  g_autoptr(PsTestPeer) target = ps_test_peer_new (TRUE);
  g_autofree char *source_url = NULL;
  g_autofree char *target_url = ps_test_peer_db_url (target, "copy");
  const PsCliOptions options = { .timeout_s = CLI_TIMEOUT_S, .debug = TRUE };
  g_auto(PsCliResult) result = { 0, };

  ps_test_peer_create_db (source, DB);
  source_url = g_strdup_printf ("http://" USER ":" SLASH_PASSWORD "@127.0.0.1:%u/" DB,
                                ps_test_peer_get_port (source));
  {
    const char *args[] = { "replicate", source_url, target_url, "--create-target", NULL };

    ps_test_run_cli_full (&result, &options, args);
  }
  g_test_message ("exit %d\nstdout: %s\nstderr: %s", result.status, result.out, result.err);
  g_assert_cmpint (result.status, ==, 0);
  /* Other users can read a command's arguments: the command says so, and
   * what to do instead.
   */
  g_assert_nonnull (strstr (result.err, "--source-user"));
  assert_url_secret_absent ("standard output", result.out, SLASH_PASSWORD);
  assert_url_secret_absent ("standard error", result.err, SLASH_PASSWORD);
#undef SLASH_PASSWORD
}

/* The journal refuses an entry with a password in a URL, whatever the
 * password holds.
 */
static void
test_url_password_not_journalled (void)
{
  g_autofree char *path = g_build_filename (g_get_user_state_dir (), "journal.jsonl", NULL);
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);

  for (guint i = 0; i < G_N_ELEMENTS (url_secrets); i++)
    {
      g_autoptr(JsonObject) entry = json_object_new ();
      g_autofree char *message = g_strdup_printf ("could not reach https://admin:%s@example.org"
                                                  ":6984/" DB, url_secrets[i]);
      g_autoptr(GError) error = NULL;

      json_object_set_string_member (entry, "kind", "failure");
      json_object_set_string_member (entry, "message", message);
      g_assert_false (ps_journal_append (journal, entry, &error));
      g_assert_error (error, PS_JOURNAL_ERROR, PS_JOURNAL_ERROR_CREDENTIALS);
    }
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
on_diagnosed_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* Checking the connection to an address with a password in it stops at
 * the address, and contacts nothing with the password in a path or host.
 */
static void
test_url_password_stops_diagnostics (void)
{
  const char * const secrets[] = { "2024/Secret", "s3cret/x" };

  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      g_autoptr(SoupSession) session = soup_session_new ();
      g_autofree char *url = g_strdup_printf ("https://admin:%s@127.0.0.1:%u", secrets[i],
                                              closed_port ());
      g_autoptr(PsDiagnostics) diagnostics = ps_diagnostics_new (session, url, NULL, NULL, NULL,
                                                                 NULL, FALSE);
      g_autoptr(GAsyncResult) result = NULL;
      g_autofree char *text = NULL;
      PsDiagnosticResult *check;

      ps_diagnostics_run_async (diagnostics, NULL, on_diagnosed_cb, &result);
      while (result == NULL)
        g_main_context_iteration (NULL, TRUE);
      ps_diagnostics_run_finish (diagnostics, result, NULL);

      check = ps_diagnostics_lookup_result (diagnostics, "url");
      g_assert_nonnull (check);
      g_test_message ("%s: %s", url, ps_diagnostic_result_get_explanation (check));
      g_assert_cmpint (ps_diagnostic_result_get_verdict (check), ==, PS_DIAGNOSTIC_FAIL);
      g_assert_nonnull (strstr (ps_diagnostic_result_get_explanation (check),
                                "user name or password"));
      text = ps_diagnostics_to_text (diagnostics);
      assert_url_secret_absent ("the diagnostics", text, secrets[i]);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/security/passwords-never-shown", test_passwords_never_shown);
  g_test_add_func ("/ps/security/password-not-in-arguments", test_password_not_in_arguments);

  g_test_add_func ("/ps/security/no-core-dumps", test_no_core_dumps);
  g_test_add_func ("/ps/security/url-password-not-in-errors", test_url_password_not_in_errors);
  g_test_add_func ("/ps/security/url-password-redacted", test_url_password_redacted);
  g_test_add_func ("/ps/security/url-password-not-journalled", test_url_password_not_journalled);
  g_test_add_func ("/ps/security/url-password-stops-diagnostics",
                   test_url_password_stops_diagnostics);
  g_test_add_func ("/ps/security/url-password-with-slash-replicates",
                   test_url_password_with_slash_replicates);

  return g_test_run ();
}

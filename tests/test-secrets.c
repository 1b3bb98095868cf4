/* test-secrets.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs against a real gnome-keyring-daemon in a private D-Bus session
 * (tests/run-with-keyring).
 */

#define G_LOG_DOMAIN "test-secrets"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ps-couch-database.h"
#include "ps-secrets.h"
#include "ps-server-access-private.h"
#include "ps-server-store.h"

#define TEST_PASSWORD  "Tp-3x!amp1e-pw-7f2c"
#define OTHER_PASSWORD "Tp-0ther-pw-91ab"

typedef char *TestPassword;
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (TestPassword, secret_password_free, NULL)

static GAsyncResult *
wait_for_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

static void
on_result_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

static void
store_password (const char *id,
                const char *description,
                const char *password)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean stored;

  ps_secrets_store_async (id, description, password, NULL, on_result_cb, &result);
  stored = ps_secrets_store_finish (wait_for_result (&result), &error);
  g_assert_no_error (error);
  g_assert_true (stored);
}

static char *
lookup_password (const char  *id,
                 GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  ps_secrets_lookup_async (id, NULL, on_result_cb, &result);
  return ps_secrets_lookup_finish (wait_for_result (&result), error);
}

static void
clear_password (const char *id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean cleared;

  ps_secrets_clear_async (id, NULL, on_result_cb, &result);
  cleared = ps_secrets_clear_finish (wait_for_result (&result), &error);
  g_assert_no_error (error);
  g_assert_true (cleared);
}

/* The isolated home, config, state, cache and data folders of this test. */
static char *
dup_test_root (void)
{
  return g_path_get_dirname (g_get_user_config_dir ());
}

static gboolean
file_contains (const char *path,
               const char *needle)
{
  g_autofree char *contents = NULL;
  gsize needle_length = strlen (needle);
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return FALSE;

  /* Byte by byte: files may hold NULs, where string searches stop. */
  for (gsize i = 0; i + needle_length <= length; i++)
    {
      if (memcmp (contents + i, needle, needle_length) == 0)
        return TRUE;
    }

  return FALSE;
}

static guint
count_files_containing (const char *dir,
                        const char *needle,
                        guint      *n_files)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;
  guint found = 0;

  if (listing == NULL)
    return 0;

  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        continue;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        found += count_files_containing (path, needle, n_files);
      else if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          (*n_files)++;
          if (file_contains (path, needle))
            {
              g_test_message ("%s contains the password", path);
              found++;
            }
        }
    }

  return found;
}

static void
assert_no_file_contains (const char *needle,
                         guint       min_files)
{
  g_autofree char *root = dup_test_root ();
  guint n_files = 0;

  g_assert_cmpuint (count_files_containing (root, needle, &n_files), ==, 0);
  /* The walk did look at the files the command wrote. */
  g_assert_cmpuint (n_files, >=, min_files);
}

static int
run_cli (const char * const  *args,
         const char          *input,
         const char          *bus_address,
         char               **out,
         char               **err)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *cli = g_getenv ("PS_CLI");

  g_assert_nonnull (cli);

  g_ptr_array_add (argv, (char *) cli);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  /* The isolated folders are this process's; a child gets them only
   * through its environment.
   */
  g_subprocess_launcher_setenv (launcher, "HOME", g_get_home_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", g_get_user_config_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", g_get_user_state_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", g_get_user_cache_dir (), TRUE);
  if (bus_address != NULL)
    g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", bus_address, TRUE);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);

  g_subprocess_communicate_utf8 (process, input, NULL, out, err, &error);
  g_assert_no_error (error);

  g_test_message ("%s: stdout: %s\nstderr: %s", args[0], *out, *err);
  g_assert_true (g_subprocess_get_if_exited (process));
  return g_subprocess_get_exit_status (process);
}

static void
test_schema (void)
{
  const SecretSchema *schema = ps_secrets_get_schema ();

  g_assert_cmpstr (schema->name, ==, "org.primero.Sync.Server");
  g_assert_cmpstr (schema->attributes[0].name, ==, "server-id");
  g_assert_cmpint (schema->attributes[0].type, ==, SECRET_SCHEMA_ATTRIBUTE_STRING);
  g_assert_null (schema->attributes[1].name);
}

static void
test_store_lookup_clear (void)
{
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *other_id = g_uuid_string_random ();
  g_autoptr(GError) error = NULL;
  g_autolist(SecretRetrievable) items = NULL;
  g_autoptr(GHashTable) attributes = NULL;

  /* Nothing there yet. */
  {
    g_auto(TestPassword) password = lookup_password (id, &error);

    g_assert_no_error (error);
    g_assert_null (password);
  }

  store_password (id, "Field office", TEST_PASSWORD);
  store_password (other_id, "Head office", OTHER_PASSWORD);

  {
    g_auto(TestPassword) password = lookup_password (id, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (password, ==, TEST_PASSWORD);
  }

  /* The label names the server; neither it nor the attributes hold the
   * password.
   */
  items = secret_password_search_sync (ps_secrets_get_schema (), SECRET_SEARCH_ALL, NULL,
                                       &error, "server-id", id, NULL);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_length (items), ==, 1);
  {
    g_autofree char *label = secret_retrievable_get_label (items->data);

    g_assert_nonnull (strstr (label, "Field office"));
    g_assert_null (strstr (label, TEST_PASSWORD));
  }
  attributes = secret_retrievable_get_attributes (items->data);
  g_assert_cmpstr (g_hash_table_lookup (attributes, "server-id"), ==, id);
  {
    GHashTableIter iter;
    gpointer key, value;

    g_hash_table_iter_init (&iter, attributes);
    while (g_hash_table_iter_next (&iter, &key, &value))
      g_assert_null (strstr (value, TEST_PASSWORD));
  }

  /* Storing again replaces. */
  store_password (id, "Field office", "replaced");
  {
    g_auto(TestPassword) password = lookup_password (id, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (password, ==, "replaced");
  }

  clear_password (id);
  {
    g_auto(TestPassword) password = lookup_password (id, &error);

    g_assert_no_error (error);
    g_assert_null (password);
  }

  /* Clearing what is not there is fine; the other server keeps its own. */
  clear_password (id);
  {
    g_auto(TestPassword) password = lookup_password (other_id, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (password, ==, OTHER_PASSWORD);
  }
  clear_password (other_id);
}

static PsServer *
load_only_server (PsServerStore **store_out)
{
  g_autoptr(PsServerStore) store = ps_server_store_new ();
  g_autoptr(GError) error = NULL;
  PsServer *server;

  g_assert_true (ps_server_store_load (store, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 1);

  server = g_list_model_get_item (G_LIST_MODEL (store), 0);
  *store_out = g_steal_pointer (&store);
  return server;
}

static void
test_cli_server_password (void)
{
  const char * const add[] = {
    "server", "add", "--no-check", "--description", "Field office", "--url", "https://example.org:6984",
    "--username", "admin", "--password-stdin", NULL
  };
  g_autoptr(PsServerStore) store = NULL;
  g_autoptr(PsServer) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *id = NULL;
  int status;

  status = run_cli (add, TEST_PASSWORD "\n", NULL, &out, &err);
  g_assert_cmpint (status, ==, 0);
  g_assert_null (strstr (out, TEST_PASSWORD));
  g_assert_null (strstr (err, TEST_PASSWORD));

  server = load_only_server (&store);
  id = g_strdup (ps_server_get_id (server));
  g_assert_cmpstr (ps_server_get_username (server), ==, "admin");

  {
    g_auto(TestPassword) password = lookup_password (id, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (password, ==, TEST_PASSWORD);
  }
  assert_no_file_contains (TEST_PASSWORD, 1);

  /* Listing and showing never print it. */
  {
    const char * const list[] = { "server", "list", "--json", NULL };
    const char * const show[] = { "server", "show", "Field office", NULL };
    g_autofree char *list_out = NULL;
    g_autofree char *list_err = NULL;
    g_autofree char *show_out = NULL;
    g_autofree char *show_err = NULL;

    g_assert_cmpint (run_cli (list, NULL, NULL, &list_out, &list_err), ==, 0);
    g_assert_nonnull (strstr (list_out, id));
    g_assert_null (strstr (list_out, TEST_PASSWORD));

    g_assert_cmpint (run_cli (show, NULL, NULL, &show_out, &show_err), ==, 0);
    g_assert_nonnull (strstr (show_out, "in the keyring"));
    g_assert_null (strstr (show_out, TEST_PASSWORD));
  }

  /* Changing the password. */
  {
    const char * const edit[] = { "server", "edit", id, "--password-stdin", NULL };
    g_autofree char *edit_out = NULL;
    g_autofree char *edit_err = NULL;
    g_auto(TestPassword) password = NULL;

    g_assert_cmpint (run_cli (edit, OTHER_PASSWORD "\n", NULL, &edit_out, &edit_err), ==, 0);
    password = lookup_password (id, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (password, ==, OTHER_PASSWORD);
    assert_no_file_contains (OTHER_PASSWORD, 1);
  }

  /* Removing the server removes its password. */
  {
    const char * const remove[] = { "server", "remove", id, NULL };
    g_autofree char *remove_out = NULL;
    g_autofree char *remove_err = NULL;
    g_auto(TestPassword) password = NULL;
    g_autoptr(PsServerStore) after = ps_server_store_new ();

    g_assert_cmpint (run_cli (remove, NULL, NULL, &remove_out, &remove_err), ==, 0);
    password = lookup_password (id, &error);
    g_assert_no_error (error);
    g_assert_null (password);

    g_assert_true (ps_server_store_load (after, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (after)), ==, 0);
  }
}

static void
test_cli_instance_password (void)
{
  const char * const set[] = {
    "instance", "set", "--url", "http://127.0.0.1:5984", "--username", "admin",
    "--password-stdin", NULL
  };
  g_autoptr(PsServerStore) store = ps_server_store_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_auto(TestPassword) password = NULL;
  PsServer *local;

  g_assert_cmpint (run_cli (set, TEST_PASSWORD "\n", NULL, &out, &err), ==, 0);

  g_assert_true (ps_server_store_load (store, &error));
  g_assert_no_error (error);
  local = ps_server_store_get_local (store);
  g_assert_cmpstr (ps_server_get_username (local), ==, "admin");

  password = lookup_password (ps_server_get_id (local), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, TEST_PASSWORD);
  assert_no_file_contains (TEST_PASSWORD, 1);

  clear_password (ps_server_get_id (local));
}

static void
test_cli_no_keyring (void)
{
  const char * const add[] = {
    "server", "add", "--no-check", "--description", "Field office", "--url", "https://example.org:6984",
    "--username", "admin", "--password-stdin", NULL
  };
  g_autoptr(PsServerStore) store = ps_server_store_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *root = dup_test_root ();
  guint n_files = 0;
  int status;

  status = run_cli (add, TEST_PASSWORD "\n", "unix:path=/nonexistent/bus", &out, &err);
  g_assert_cmpint (status, !=, 0);
  g_assert_nonnull (strstr (err, "No keyring is available"));
  g_assert_null (strstr (err, TEST_PASSWORD));
  g_assert_null (strstr (out, TEST_PASSWORD));

  /* Nothing anywhere holds the password, and the server was not added. */
  g_assert_cmpuint (count_files_containing (root, TEST_PASSWORD, &n_files), ==, 0);
  g_assert_true (ps_server_store_load (store, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);
}

/* Whether @p lies in memory locked against paging out, as
 * /proc/self/smaps says (the `lo` flag of its mapping).
 */
static gboolean
is_locked (gconstpointer p)
{
  g_autofree char *smaps = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  guintptr address = (guintptr) p;
  gboolean inside = FALSE;

  g_file_get_contents ("/proc/self/smaps", &smaps, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (smaps, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      guint64 start;
      guint64 end;

      if (sscanf (lines[i], "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x ",
                  &start, &end) == 2 && strchr (lines[i], ':') != NULL &&
          g_ascii_isxdigit (lines[i][0]) && !g_str_has_suffix (lines[i], "kB"))
        inside = address >= start && address < end;
      else if (inside && g_str_has_prefix (lines[i], "VmFlags:"))
        return strstr (lines[i], " lo") != NULL;
    }

  return FALSE;
}

/* Whether this process can lock memory at all: AddressSanitizer turns
 * mlock() into a no-op, and a zero RLIMIT_MEMLOCK refuses it.
 */
static gboolean
can_lock_memory (void)
{
  gsize size = sysconf (_SC_PAGESIZE);
  void *page = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  gboolean locked;

  g_assert_true (page != MAP_FAILED);
  locked = mlock (page, size) == 0 && is_locked (page);
  munlock (page, size);
  munmap (page, size);
  return locked;
}

static void
test_non_pageable (void)
{
  g_autofree char *heap = g_strdup (TEST_PASSWORD);
  g_autoptr(GError) error = NULL;
  g_auto(TestPassword) password = NULL;

  if (!can_lock_memory ())
    {
      g_test_skip ("this process cannot lock memory (AddressSanitizer, or RLIMIT_MEMLOCK)");
      return;
    }

  /* The check tells locked memory from the heap. */
  g_assert_false (is_locked (heap));

  store_password ("locked", "Locked office", TEST_PASSWORD);
  password = lookup_password ("locked", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, TEST_PASSWORD);
  g_assert_true (is_locked (password));

  /* The copies kept while a password is in use are locked too. */
  {
    g_auto(PsSecret) copy = ps_secrets_dup (password);

    g_assert_cmpstr (copy, ==, TEST_PASSWORD);
    g_assert_true (is_locked (copy));
  }

  clear_password ("locked");
}

static PsServerAccess *
new_access (PsServer     *server,
            SoupSession  *session,
            GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  ps_server_access_new_async (server, session, NULL, on_result_cb, &result);
  return ps_server_access_new_finish (wait_for_result (&result), error);
}

static PsServer *
new_server (const char *description,
            const char *username)
{
  PsServer *server = ps_server_new (description, "https://example.org:6984");

  ps_server_set_username (server, username);
  return server;
}

static void
test_access_lookup (void)
{
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsServer) field = new_server ("Field office", "admin");
  g_autoptr(PsServer) head = new_server ("Head office", "admin");
  g_autoptr(PsServer) nobody = new_server ("Open office", NULL);
  g_autoptr(GError) error = NULL;

  store_password (ps_server_get_id (field), "Field office", TEST_PASSWORD);
  store_password (ps_server_get_id (head), "Head office", OTHER_PASSWORD);
  store_password (ps_server_get_id (nobody), "Open office", TEST_PASSWORD);

  /* Each server gets its own password. */
  {
    g_autoptr(PsServerAccess) access = new_access (head, session, &error);

    g_assert_no_error (error);
    g_assert_true (ps_server_access_get_server (access) == head);
    g_assert_true (ps_server_access_get_session (access) == session);
    g_assert_true (ps_server_access_has_password (access));
    g_assert_cmpstr (ps_server_access_get_password (access), ==, OTHER_PASSWORD);
  }
  {
    g_autoptr(PsServerAccess) access = new_access (field, session, &error);
    g_autoptr(PsServer) edited = new_server ("Field office", "admin");

    g_assert_no_error (error);
    g_assert_cmpstr (ps_server_access_get_password (access), ==, TEST_PASSWORD);

    /* Settings being edited use the password kept for the server. */
    {
      g_autoptr(PsServerAccess) copy = ps_server_access_new_for_settings (access, edited);

      g_assert_true (ps_server_access_get_server (copy) == edited);
      g_assert_cmpstr (ps_server_access_get_password (copy), ==, TEST_PASSWORD);
    }
  }

  /* A server with no user logs in as nobody: no password is used. */
  {
    g_autoptr(PsServerAccess) access = new_access (nobody, session, &error);

    g_assert_no_error (error);
    g_assert_false (ps_server_access_has_password (access));
    g_assert_null (ps_server_access_get_password (access));
  }

  /* A password typed by the user is used as it is. */
  {
    g_autoptr(PsServerAccess) access = ps_server_access_new (nobody, session, OTHER_PASSWORD);

    g_assert_cmpstr (ps_server_access_get_password (access), ==, OTHER_PASSWORD);
  }

  clear_password (ps_server_get_id (field));
  clear_password (ps_server_get_id (head));
  clear_password (ps_server_get_id (nobody));
}

static void
test_access_missing (void)
{
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsServer) server = new_server ("Field office", "admin");
  g_autoptr(PsServerAccess) access = NULL;
  g_autoptr(GError) error = NULL;

  /* No password in the keyring: the server says what it refuses. */
  access = new_access (server, session, &error);
  g_assert_no_error (error);
  g_assert_nonnull (access);
  g_assert_false (ps_server_access_has_password (access));
}

static void
test_access_no_keyring (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(SoupSession) session = NULL;
      g_autoptr(PsServer) server = new_server ("Field office", "admin");
      g_autoptr(PsServerAccess) access = NULL;
      g_autoptr(GError) error = NULL;

      /* A fresh process: nothing has reached the session bus yet. */
      g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus", TRUE);
      session = ps_couch_session_new ();
      access = new_access (server, session, &error);
      g_assert_error (error, PS_SECRETS_ERROR, PS_SECRETS_ERROR_NO_KEYRING);
      g_assert_null (access);
      g_print ("%s\n", error->message);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*No keyring is available*");
}

/* Whether the memory at @p still holds @password. */
static gboolean
still_holds (gconstpointer  p,
             const char    *password)
{
  return memcmp (p, password, strlen (password)) == 0;
}

static void
test_access_wiped (void)
{
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsServer) server = new_server ("Field office", "admin");
  g_autoptr(GError) error = NULL;
  PsServerAccess *access;
  const char *password;

  /* Freed memory is read below: only libsecret's locked pool, which
   * stays mapped, allows that.
   */
  if (!can_lock_memory ())
    {
      g_test_skip ("this process cannot lock memory (AddressSanitizer, or RLIMIT_MEMLOCK)");
      return;
    }

  store_password (ps_server_get_id (server), "Field office", TEST_PASSWORD);
  access = new_access (server, session, &error);
  g_assert_no_error (error);
  password = ps_server_access_get_password (access);
  g_assert_cmpstr (password, ==, TEST_PASSWORD);
  g_assert_true (is_locked (password));
  g_object_unref (access);
  g_assert_false (still_holds (password, TEST_PASSWORD));

  /* A typed password is copied into locked memory, and wiped too. */
  access = ps_server_access_new (server, session, OTHER_PASSWORD);
  password = ps_server_access_get_password (access);
  g_assert_true (is_locked (password));
  g_object_unref (access);
  g_assert_false (still_holds (password, OTHER_PASSWORD));

  clear_password (ps_server_get_id (server));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/secrets/schema", test_schema);
  g_test_add_func ("/ps/secrets/store-lookup-clear", test_store_lookup_clear);
  g_test_add_func ("/ps/secrets/cli-server-password", test_cli_server_password);
  g_test_add_func ("/ps/secrets/cli-instance-password", test_cli_instance_password);
  g_test_add_func ("/ps/secrets/cli-no-keyring", test_cli_no_keyring);

  g_test_add_func ("/ps/secrets/non-pageable", test_non_pageable);
  g_test_add_func ("/ps/server-access/lookup", test_access_lookup);
  g_test_add_func ("/ps/server-access/missing", test_access_missing);
  g_test_add_func ("/ps/server-access/no-keyring", test_access_no_keyring);
  g_test_add_func ("/ps/server-access/wiped", test_access_wiped);

  return g_test_run ();
}

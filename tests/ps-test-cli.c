/* ps-test-cli.c: running primero-sync-cli from a test, as a user would.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <gio/gio.h>

#include "ps-test-cli.h"

void
ps_cli_result_clear (PsCliResult *result)
{
  g_clear_pointer (&result->out, g_free);
  g_clear_pointer (&result->err, g_free);
}

typedef struct
{
  char     *out;
  char     *err;
  gboolean  done;
} Pending;

static void
on_communicated_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Pending *pending = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (object), result,
                                        &pending->out, &pending->err, &error);
  g_assert_no_error (error);
  pending->done = TRUE;
}

/**
 * ps_test_run_cli:
 * @result: where the exit status and the output go
 * @home: (nullable): a folder whose `config` and `state` the command uses,
 *   or %NULL for this process's (isolated) folders
 * @input: (nullable): its standard input
 * @args: the arguments after the program's name
 *
 * Runs the command to its end while this process's main loop goes on, so
 * that servers the test runs in-process keep answering.
 */
void
ps_test_run_cli (PsCliResult        *result,
                 const char         *home,
                 const char         *input,
                 const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *config = NULL;
  g_autofree char *state = NULL;
  const char *cli = g_getenv ("PS_CLI");
  Pending pending = { 0, };

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (char *) cli);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  config = home != NULL ? g_build_filename (home, "config", NULL)
                        : g_strdup (g_get_user_config_dir ());
  state = home != NULL ? g_build_filename (home, "state", NULL)
                       : g_strdup (g_get_user_state_dir ());

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "HOME", g_get_home_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", state, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", g_get_user_cache_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, input, NULL, on_communicated_cb, &pending);
  while (!pending.done)
    g_main_context_iteration (NULL, TRUE);

  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  result->status = g_subprocess_get_exit_status (process);
  result->out = g_steal_pointer (&pending.out);
  result->err = g_steal_pointer (&pending.err);
  g_test_message ("%s: exit %d\nstdout: %s\nstderr: %s", args[0], result->status,
                  result->out, result->err);
}

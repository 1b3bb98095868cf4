/* ps-test-cli.c: running primero-sync-cli from a test, as a user would.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <gio/gio.h>

#include "ps-test-cli.h"

struct _PsTestCli
{
  GSubprocess *process;
  char        *name;
  guint        timeout_id;
  gboolean     timed_out;
  char        *out;
  char        *err;
  gboolean     done;
};

void
ps_cli_result_clear (PsCliResult *result)
{
  g_clear_pointer (&result->out, g_free);
  g_clear_pointer (&result->err, g_free);
}

static void
on_communicated_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  PsTestCli *cli = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (object), result,
                                        &cli->out, &cli->err, &error);
  g_assert_no_error (error);
  cli->done = TRUE;
}

static gboolean
on_timeout_cb (gpointer user_data)
{
  PsTestCli *cli = user_data;

  cli->timed_out = TRUE;
  cli->timeout_id = 0;
  return G_SOURCE_REMOVE;
}

/**
 * ps_test_cli_start:
 * @options: how to run it
 * @args: the arguments after the program's name
 *
 * Starts the command, feeding it @options' input and collecting its
 * output while this process's main loop runs.
 *
 * Returns: (transfer full): the running command, for ps_test_cli_finish()
 */
PsTestCli *
ps_test_cli_start (const PsCliOptions *options,
                   const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *config = NULL;
  g_autofree char *state = NULL;
  const char *cli_path = g_getenv ("PS_CLI");
  PsTestCli *cli;

  g_assert_nonnull (cli_path);
  g_ptr_array_add (argv, (char *) cli_path);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  config = options->home != NULL ? g_build_filename (options->home, "config", NULL)
                                 : g_strdup (g_get_user_config_dir ());
  state = options->home != NULL ? g_build_filename (options->home, "state", NULL)
                                : g_strdup (g_get_user_state_dir ());

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "HOME", g_get_home_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", state, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", g_get_user_cache_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  if (options->debug)
    g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "all", TRUE);
  for (guint i = 0; options->env != NULL && options->env[i] != NULL; i++)
    {
      g_auto(GStrv) pair = g_strsplit (options->env[i], "=", 2);

      g_assert_nonnull (pair[1]);
      g_subprocess_launcher_setenv (launcher, pair[0], pair[1], TRUE);
    }

  cli = g_new0 (PsTestCli, 1);
  cli->name = g_strdup (args[0]);
  if (options->timeout_s > 0)
    cli->timeout_id = g_timeout_add_seconds (options->timeout_s, on_timeout_cb, cli);
  cli->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (cli->process, options->input, NULL,
                                       on_communicated_cb, cli);

  return cli;
}

GSubprocess *
ps_test_cli_get_process (PsTestCli *cli)
{
  return cli->process;
}

/* Whether it has closed its output, which it does when it exits. */
gboolean
ps_test_cli_is_done (PsTestCli *cli)
{
  return cli->done;
}

/**
 * ps_test_cli_finish:
 * @cli: (transfer full): a command from ps_test_cli_start()
 * @result: where the exit status and the output go
 *
 * Runs this process's main loop until the command has exited, so that
 * servers the test runs in-process keep answering; fails the test if it
 * runs past its time limit or dies of a signal.
 */
void
ps_test_cli_finish (PsTestCli   *cli,
                    PsCliResult *result)
{
  g_autoptr(GError) error = NULL;

  while (!cli->done && !cli->timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (cli->timed_out)
    g_test_message ("%s still runs after its time limit", cli->name);
  g_assert_false (cli->timed_out);
  g_clear_handle_id (&cli->timeout_id, g_source_remove);

  g_subprocess_wait (cli->process, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (cli->process));
  result->status = g_subprocess_get_exit_status (cli->process);
  result->out = g_steal_pointer (&cli->out);
  result->err = g_steal_pointer (&cli->err);
  g_test_message ("%s: exit %d\nstdout: %s\nstderr: %s", cli->name, result->status,
                  result->out, result->err);

  g_object_unref (cli->process);
  g_free (cli->name);
  g_free (cli);
}

/**
 * ps_test_run_cli_full:
 * @result: where the exit status and the output go
 * @options: how to run it
 * @args: the arguments after the program's name
 *
 * Runs the command to its end while this process's main loop goes on.
 */
void
ps_test_run_cli_full (PsCliResult        *result,
                      const PsCliOptions *options,
                      const char * const *args)
{
  ps_test_cli_finish (ps_test_cli_start (options, args), result);
}

/**
 * ps_test_run_cli:
 * @result: where the exit status and the output go
 * @home: (nullable): a folder whose `config` and `state` the command uses,
 *   or %NULL for this process's (isolated) folders
 * @input: (nullable): its standard input
 * @args: the arguments after the program's name
 *
 * Runs the command to its end, with no time limit of its own.
 */
void
ps_test_run_cli (PsCliResult        *result,
                 const char         *home,
                 const char         *input,
                 const char * const *args)
{
  const PsCliOptions options = { .home = home, .input = input };

  ps_test_run_cli_full (result, &options, args);
}

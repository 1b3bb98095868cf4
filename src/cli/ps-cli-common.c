/* ps-cli-common.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ps-cli-common.h"
#include "ps-json.h"
#include "ps-url.h"
#include "ps-secrets.h"

GOptionContext *
ps_cli_option_context_new (const char         *parameter_string,
                           const char         *summary,
                           const GOptionEntry *entries)
{
  GOptionContext *context = g_option_context_new (parameter_string);

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  return context;
}

gboolean
ps_cli_parse_options (GOptionContext   *context,
                      int              *argc,
                      char           ***argv)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("%s\n", error->message);
      g_printerr (_("Run “%s %s --help” for the list of options.\n"),
                  g_get_prgname (), (*argv)[0]);
      return FALSE;
    }

  return TRUE;
}

int
ps_cli_usage_error (GOptionContext *context,
                    const char     *message)
{
  g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

  g_printerr ("%s\n\n%s", message, help);
  return PS_CLI_EXIT_USAGE;
}

void
ps_cli_print_error (const char   *context,
                    const GError *error)
{
  /* A server's own words may quote a URL with its credentials; a user
   * name alone is kept, as it tells which login was refused.
   */
  g_autofree char *message = ps_url_text_has_password (error->message)
                             ? ps_url_redact_text (error->message)
                             : g_strdup (error->message);

  if (context != NULL)
    g_printerr (_("Error: %s: %s\n"), context, message);
  else
    g_printerr (_("Error: %s\n"), message);
}

static char *
read_line_without_echo (FILE *stream)
{
  struct termios saved;
  struct termios quiet;
  gboolean restore = FALSE;
  char buffer[1024];
  char *line = NULL;
  int fd = fileno (stream);

  /* Kept out of swap while it holds the password; unlocking wipes it. */
  sodium_mlock (buffer, sizeof buffer);

  if (isatty (fd) && tcgetattr (fd, &saved) == 0)
    {
      quiet = saved;
      quiet.c_lflag &= ~ECHO;
      restore = tcsetattr (fd, TCSAFLUSH, &quiet) == 0;
    }

  if (fgets (buffer, sizeof buffer, stream) != NULL)
    {
      buffer[strcspn (buffer, "\r\n")] = '\0';
      line = ps_secrets_dup (buffer);
    }
  sodium_munlock (buffer, sizeof buffer);

  if (restore)
    {
      tcsetattr (fd, TCSAFLUSH, &saved);
      fputc ('\n', stderr);
    }

  return line;
}

/* The password comes from a file (first line) when one is named, otherwise
 * from standard input, prompting without echo when it is a terminal.
 * It never comes from argv, where other users of the machine could read it.
 */
char *
ps_cli_read_password (const char  *prompt,
                      const char  *password_file,
                      GError     **error)
{
  char *password;

  if (password_file != NULL)
    {
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (!g_file_get_contents (password_file, &contents, &len, error))
        return NULL;
      contents[strcspn (contents, "\r\n")] = '\0';
      password = ps_secrets_dup (contents);
      sodium_memzero (contents, len);
      return password;
    }

  if (isatty (STDIN_FILENO))
    {
      fputs (prompt, stderr);
      fflush (stderr);
    }

  password = read_line_without_echo (stdin);
  if (password == NULL)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         _("No password was given on standard input"));
  return password;
}

/* A sync file's passphrase: from the first line of a file, or typed at a
 * terminal without echo (twice when @confirm, so a typo does not lock
 * records away). Never from argv or the environment.
 */
char *
ps_cli_read_passphrase (const char  *passphrase_file,
                        gboolean     confirm,
                        GError     **error)
{
  g_auto(PsSecret) again = NULL;
  char *passphrase;

  if (passphrase_file == NULL && !isatty (STDIN_FILENO))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("Type the passphrase at a terminal, or give --passphrase-file"));
      return NULL;
    }

  passphrase = ps_cli_read_password (_("Passphrase of the file: "), passphrase_file, error);
  if (passphrase == NULL)
    return NULL;
  if (*passphrase == '\0')
    {
      ps_secrets_wipe (&passphrase);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("The passphrase is empty"));
      return NULL;
    }
  if (!confirm || passphrase_file != NULL)
    return passphrase;

  again = ps_cli_read_password (_("The same passphrase again: "), NULL, error);
  if (again == NULL || strcmp (again, passphrase) != 0)
    {
      ps_secrets_wipe (&passphrase);
      g_clear_error (error);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("The two passphrases differ"));
      return NULL;
    }
  return passphrase;
}

/* @server, with its user's password from the keyring. */
PsServerAccess *
ps_cli_new_access (PsServer     *server,
                   SoupSession  *session,
                   GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  ps_server_access_new_async (server, session, NULL, ps_cli_wait_cb, &result);
  return ps_server_access_new_finish (ps_cli_wait (&result), error);
}

/* The counts of a sync file's summary, one line per database. */
void
ps_cli_print_file_counts (JsonObject *summary)
{
  JsonArray *counts = ps_json_get_array (summary, "counts");

  for (guint i = 0; counts != NULL && i < json_array_get_length (counts); i++)
    {
      JsonObject *count = ps_json_get_object_element (counts, i);
      const char *name = count != NULL ? ps_json_get_string (count, "name") : NULL;

      if (name == NULL)
        continue;
      g_print (_("  %s: %u record(s), %u revision(s)\n"), name,
               (guint) json_object_get_int_member_with_default (count, "records", 0),
               (guint) json_object_get_int_member_with_default (count, "revisions", 0));
    }
}

void
ps_cli_print_json (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (generator, node);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

/* Numbers as @texts knows them, exactly: json-glib's generator would
 * write a big integer as a rounded double and 0.1 as 0.10000000000000001.
 */
void
ps_cli_print_json_with_texts (JsonNode    *node,
                              PsJsonTexts *texts)
{
  g_autoptr(GString) text = g_string_new (NULL);

  ps_json_write_pretty (text, node, texts);
  g_print ("%s\n", text->str);
}

gboolean
ps_cli_stdout_is_terminal (void)
{
  return isatty (STDOUT_FILENO);
}

void
ps_cli_run_until_done (gboolean *done)
{
  while (!*done)
    g_main_context_iteration (NULL, TRUE);
}

/* The callback to give an asynchronous call whose result ps_cli_wait()
 * waits for; @user_data is the address of a %NULL GAsyncResult pointer.
 */
void
ps_cli_wait_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

/* Runs the main loop until ps_cli_wait_cb() stores the result in @result,
 * and hands it over for the call's _finish().
 *
 *   g_autoptr(GAsyncResult) result = NULL;
 *   ps_server_access_new_async (server, session, NULL, ps_cli_wait_cb, &result);
 *   access = ps_server_access_new_finish (ps_cli_wait (&result), &error);
 */
GAsyncResult *
ps_cli_wait (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *result;
}

static gboolean
on_interrupt_cb (gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
  return G_SOURCE_CONTINUE;
}

/* Ctrl+C and SIGTERM cancel the running work, which then stops cleanly. */
GCancellable *
ps_cli_cancel_on_interrupt (void)
{
  GCancellable *cancellable = g_cancellable_new ();

  g_unix_signal_add_full (G_PRIORITY_HIGH, SIGINT, on_interrupt_cb,
                          g_object_ref (cancellable), g_object_unref);
  g_unix_signal_add_full (G_PRIORITY_HIGH, SIGTERM, on_interrupt_cb,
                          g_object_ref (cancellable), g_object_unref);

  return cancellable;
}

static void
print_group_usage (FILE               *stream,
                   const char         *group,
                   const char         *description,
                   const PsCliCommand *commands,
                   guint               n_commands)
{
  g_autoptr(GString) usage = g_string_new (NULL);

  g_string_append_printf (usage, _("Usage:\n  %s %s COMMAND [OPTION…]\n\n"),
                          g_get_prgname (), group);
  g_string_append_printf (usage, _("%s\n\nCommands:\n"), description);
  for (guint i = 0; i < n_commands; i++)
    g_string_append_printf (usage, "  %-8s %s\n", commands[i].name, _(commands[i].summary));
  g_string_append_printf (usage, _("\nRun “%s %s COMMAND --help” for the options of a command.\n"),
                          g_get_prgname (), group);
  fputs (usage->str, stream);
}

/**
 * ps_cli_dispatch:
 * @group: the command group, e.g. "server"
 * @description: what the group does, translated
 * @commands: its commands
 * @n_commands: how many
 * @argc: arguments, argv[0] being the group's name
 * @argv: the arguments
 *
 * Runs `GROUP COMMAND [OPTION…]`, or prints the group's usage.
 *
 * Returns: the exit status
 */
int
ps_cli_dispatch (const char          *group,
                 const char          *description,
                 const PsCliCommand  *commands,
                 guint                n_commands,
                 int                  argc,
                 char               **argv)
{
  g_autofree char *prgname = NULL;

  if (argc < 2)
    {
      print_group_usage (stderr, group, description, commands, n_commands);
      return PS_CLI_EXIT_USAGE;
    }

  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 ||
      strcmp (argv[1], "help") == 0)
    {
      print_group_usage (stdout, group, description, commands, n_commands);
      return PS_CLI_EXIT_OK;
    }

  for (guint i = 0; i < n_commands; i++)
    {
      if (strcmp (commands[i].name, argv[1]) == 0)
        {
          /* So that --help and hints name the whole command. */
          prgname = g_strdup_printf ("%s %s", g_get_prgname (), group);
          g_set_prgname (prgname);
          return commands[i].run (argc - 1, argv + 1);
        }
    }

  g_printerr (_("Unknown command “%s”.\n\n"), argv[1]);
  print_group_usage (stderr, group, description, commands, n_commands);
  return PS_CLI_EXIT_USAGE;
}

/* ps-cli.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "ps-cli-commands.h"
#include "ps-cli-common.h"

static const PsCliCommand commands[] = {
  { "diagnose", N_("Check step by step why a server can or cannot be synced"), ps_cli_diagnose },
  { "export", N_("Write the records a server may lack into an encrypted file"), ps_cli_export },
  { "import", N_("Bring the records of an exported file into this instance"), ps_cli_import },
  { "instance", N_("Configure this instance and its keyring password"), ps_cli_instance },
  { "journal", N_("Show the journal of syncs, failures and resolutions"), ps_cli_journal },
  { "merge", N_("Merge the conflicting leaves of one record"), ps_cli_merge },
  { "replicate", N_("Replicate one database to another"), ps_cli_replicate },
  { "resolve", N_("Resolve the conflicted records of a database"), ps_cli_resolve },
  { "server", N_("Add, list, change or remove servers"), ps_cli_server },
  { "sync", N_("Sync this instance with configured servers"), ps_cli_sync },
  { "watch", N_("Resolve this instance’s conflicts as they appear"), ps_cli_watch },
};

static void
print_usage (FILE *stream)
{
  g_autoptr(GString) usage = g_string_new (NULL);

  g_string_append_printf (usage, _("Usage:\n  %s COMMAND [OPTION…]\n\n"), g_get_prgname ());
  g_string_append (usage, _("Keeps Primero instances in sync.\n\nCommands:\n"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (usage, "  %-12s %s\n", commands[i].name, _(commands[i].summary));
  g_string_append_printf (usage, _("\nRun “%s COMMAND --help” for the options of a command.\n"),
                          g_get_prgname ());
  fputs (usage->str, stream);
}

int
main (int   argc,
      char *argv[])
{
  const char *name;

  /* A core file would hold passwords and records in the clear; this also
   * keeps other processes of the same user from reading our memory.
   */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("primero-sync-cli");

  if (argc < 2)
    {
      print_usage (stderr);
      return PS_CLI_EXIT_USAGE;
    }

  name = argv[1];
  if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0 || strcmp (name, "help") == 0)
    {
      print_usage (stdout);
      return PS_CLI_EXIT_OK;
    }
  if (strcmp (name, "--version") == 0)
    {
      g_print ("primero-sync-cli %s\n", PACKAGE_VERSION);
      return PS_CLI_EXIT_OK;
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (strcmp (commands[i].name, name) == 0)
        return commands[i].run (argc - 1, argv + 1);
    }

  g_printerr (_("Unknown command “%s”.\n\n"), name);
  print_usage (stderr);
  return PS_CLI_EXIT_USAGE;
}

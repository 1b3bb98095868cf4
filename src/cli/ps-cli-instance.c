/* ps-cli-instance.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-cli-instance"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "ps-cli-commands.h"
#include "ps-cli-common.h"
#include "ps-secrets.h"
#include "ps-server-store.h"

static int
instance_set (int    argc,
              char **argv)
{
  g_autofree char *url = NULL;
  g_autofree char *username = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *suffix = NULL;
  gboolean password_stdin = FALSE;
  const GOptionEntry entries[] = {
    { "url", 'u', 0, G_OPTION_ARG_STRING, &url,
      N_("The address of this instance’s CouchDB (default: http://127.0.0.1:5984)"),
      N_("URL") },
    { "username", 'U', 0, G_OPTION_ARG_STRING, &username,
      N_("The CouchDB administrator to log in as; empty for none"), N_("NAME") },
    { "prefix", 0, 0, G_OPTION_ARG_STRING, &prefix,
      N_("The prefix of the record databases (default: primero)"), N_("PREFIX") },
    { "suffix", 0, 0, G_OPTION_ARG_STRING, &suffix,
      N_("The suffix of the record databases (default: production)"), N_("SUFFIX") },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin,
      N_("Read the password from standard input (otherwise it is asked for at a terminal)"),
      NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(PsServerStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *normalized = NULL;
  g_auto(PsSecret) password = NULL;
  PsServer *local;

  context = ps_cli_option_context_new (_("set"),
                                       _("Sets where this instance’s CouchDB is and who to "
                                         "log in as. The password goes to the desktop "
                                         "keyring, never to a file."),
                                       entries);
  if (!ps_cli_parse_options (context, &argc, &argv))
    return PS_CLI_EXIT_USAGE;
  if (argc > 1)
    return ps_cli_usage_error (context, _("Unexpected argument."));
  if (url == NULL && username == NULL && prefix == NULL && suffix == NULL && !password_stdin)
    return ps_cli_usage_error (context, _("Give at least one setting to change."));

  if (url != NULL && !ps_server_normalize_url (url, &normalized, NULL, &error))
    {
      ps_cli_print_error (NULL, error);
      return PS_CLI_EXIT_USAGE;
    }

  store = ps_cli_load_server_store ();
  if (store == NULL)
    return PS_CLI_EXIT_FAILED;

  local = ps_server_store_get_local (store);
  if (normalized != NULL)
    ps_server_set_url (local, normalized);
  if (username != NULL)
    ps_server_set_username (local, username);
  if (prefix != NULL)
    ps_server_set_database_prefix (local, prefix);
  if (suffix != NULL)
    ps_server_set_database_suffix (local, suffix);

  if (!ps_server_validate (local, &error))
    {
      ps_cli_print_error (NULL, error);
      return PS_CLI_EXIT_FAILED;
    }

  if (normalized != NULL)
    ps_cli_warn_if_insecure (local);

  /* A password only makes sense with a user name; a new user name
   * without one is asked for one at a terminal.
   */
  if (ps_server_get_username (local) != NULL && (password_stdin || username != NULL))
    {
      if (!ps_cli_read_new_password (password_stdin, &password))
        return PS_CLI_EXIT_FAILED;
      if (password != NULL && !ps_cli_store_password (local, password))
        return PS_CLI_EXIT_FAILED;
    }
  else if (password_stdin)
    {
      g_printerr (_("Error: a password needs a user name; give one with --username\n"));
      return PS_CLI_EXIT_USAGE;
    }

  if (!ps_cli_save_server_store (store))
    return PS_CLI_EXIT_FAILED;

  g_print (_("This instance is at %s\n"), ps_server_get_url (local));
  if (ps_server_get_username (local) != NULL && username != NULL && password == NULL)
    g_printerr (_("No password was stored; set one with “%s set --password-stdin”.\n"),
                g_get_prgname ());

  return PS_CLI_EXIT_OK;
}

static int
instance_show (int    argc,
               char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("Print the settings as JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(PsServerStore) store = NULL;

  context = ps_cli_option_context_new (_("show"),
                                       _("Shows the settings of this instance."),
                                       entries);
  if (!ps_cli_parse_options (context, &argc, &argv))
    return PS_CLI_EXIT_USAGE;
  if (argc > 1)
    return ps_cli_usage_error (context, _("Unexpected argument."));

  store = ps_cli_load_server_store ();
  if (store == NULL)
    return PS_CLI_EXIT_FAILED;

  if (json)
    {
      g_autoptr(JsonNode) node = ps_server_to_json (ps_server_store_get_local (store));

      ps_cli_print_json (node);
    }
  else
    ps_cli_print_server (ps_server_store_get_local (store));

  return PS_CLI_EXIT_OK;
}

static const PsCliCommand subcommands[] = {
  { "set", N_("Set where this instance is and who to log in as"), instance_set },
  { "show", N_("Show the settings of this instance"), instance_show },
};

int
ps_cli_instance (int    argc,
                 char **argv)
{
  return ps_cli_dispatch ("instance",
                          _("Manages this instance, the local CouchDB that servers are synced with."),
                          subcommands, G_N_ELEMENTS (subcommands), argc, argv);
}

/* ps-cli-server.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-cli-server"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ps-cli-commands.h"
#include "ps-cli-common.h"
#include "ps-cli-server-options.h"
#include "ps-couch-database.h"
#include "ps-discovery.h"
#include "ps-secrets.h"
#include "ps-server-store.h"
#include "ps-url.h"

/* Shared with the instance command. */

PsServerStore *
ps_cli_load_server_store (void)
{
  g_autoptr(PsServerStore) store = ps_server_store_new ();
  g_autoptr(GError) error = NULL;

  if (!ps_server_store_load (store, &error))
    {
      ps_cli_print_error (NULL, error);
      return NULL;
    }

  return g_steal_pointer (&store);
}

gboolean
ps_cli_save_server_store (PsServerStore *store)
{
  g_autoptr(GError) error = NULL;

  if (!ps_server_store_save (store, &error))
    {
      ps_cli_print_error (NULL, error);
      return FALSE;
    }

  return TRUE;
}

/* The password is read when asked for with --password-stdin, or from a
 * prompt without echo when a person is at the terminal; never from argv.
 */
gboolean
ps_cli_read_new_password (gboolean   from_stdin,
                          char     **password)
{
  g_autoptr(GError) error = NULL;
  g_auto(PsSecret) text = NULL;

  *password = NULL;

  if (!from_stdin && !isatty (STDIN_FILENO))
    return TRUE;

  text = ps_cli_read_password (_("Password: "), NULL, &error);
  if (text == NULL)
    {
      ps_cli_print_error (NULL, error);
      return FALSE;
    }

  if (*text == '\0')
    {
      g_printerr (_("Error: the password is empty\n"));
      return FALSE;
    }

  *password = g_steal_pointer (&text);
  return TRUE;
}

gboolean
ps_cli_store_password (PsServer   *server,
                       const char *password)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) waited = NULL;
  gboolean stored;

  ps_secrets_store_async (ps_server_get_id (server), ps_server_get_description (server),
                          password, NULL, ps_cli_wait_cb, &waited);
  stored = ps_secrets_store_finish (ps_cli_wait (&waited), &error);

  if (!stored)
    ps_cli_print_error (_("The password was not stored"), error);

  return stored;
}

gboolean
ps_cli_clear_password (const char *server_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) waited = NULL;
  gboolean cleared;

  ps_secrets_clear_async (server_id, NULL, ps_cli_wait_cb, &waited);
  cleared = ps_secrets_clear_finish (ps_cli_wait (&waited), &error);

  if (!cleared)
    ps_cli_print_error (_("The password could not be removed from the keyring"), error);

  return cleared;
}

/* Only the keyring is asked: nothing is sent anywhere, so no session. */
char *
ps_cli_describe_password (PsServer *server)
{
  const char *username = ps_server_get_username (server);
  g_autoptr(GAsyncResult) waited = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(PsSecret) password = NULL;

  /* As for a sync: a server without a user needs no password. */
  if (username == NULL || *username == '\0')
    return g_strdup (_("none"));

  ps_secrets_lookup_async (ps_server_get_id (server), NULL, ps_cli_wait_cb, &waited);
  password = ps_secrets_lookup_finish (ps_cli_wait (&waited), &error);
  if (error != NULL)
    return g_strdup_printf (_("unknown (%s)"), error->message);

  return g_strdup (password != NULL ? _("in the keyring") : _("none"));
}

void
ps_cli_warn_if_insecure (PsServer *server)
{
  if (ps_server_get_is_insecure (server))
    g_printerr (_("Warning: %s uses http: the traffic to it, passwords and records "
                  "included, is not encrypted. Use https where you can.\n"),
                ps_server_get_url (server));
}

/* On-server servers: the documents follow the settings as soon as they
 * are saved, and their state is read live from this instance.
 */

PsSyncManager *
ps_cli_new_sync_manager (PsServerStore *store)
{
  g_autoptr(SoupSession) session = ps_couch_session_new ();

  return ps_sync_manager_new (store, session, NULL);
}

/* Writes or removes the server's replication documents, and says what it
 * did; the store must already hold the saved settings (or no longer the
 * server, once removed).
 */
gboolean
ps_cli_apply_server_replication (PsServerStore *store,
                                 PsServer      *server)
{
  g_autoptr(PsSyncManager) manager = ps_cli_new_sync_manager (store);
  g_autoptr(GAsyncResult) waited = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) written = NULL;
  g_auto(GStrv) removed = NULL;
  gboolean on_server = ps_server_get_on_server (server) &&
                       ps_server_store_lookup (store, ps_server_get_id (server)) != NULL;

  ps_sync_manager_apply_server_replication_async (manager, server, NULL, ps_cli_wait_cb,
                                                  &waited);
  if (!ps_sync_manager_apply_server_replication_finish_changes (manager, ps_cli_wait (&waited),
                                                                &written, &removed, &error))
    {
      ps_cli_print_error (_("The replication documents in this instance’s CouchDB could not "
                            "be updated"), error);
      return FALSE;
    }

  for (guint i = 0; written[i] != NULL; i++)
    g_print (_("Wrote the replication document %s\n"), written[i]);
  for (guint i = 0; removed[i] != NULL; i++)
    g_print (_("Removed the replication document %s\n"), removed[i]);
  if (on_server && written[0] == NULL)
    g_print (_("The replication documents were already up to date.\n"));
  if (on_server)
    g_print (_("The password for “%s” is now kept in this instance’s CouchDB, in its "
               "_replicator database, where the CouchDB administrators can read it.\n"),
             ps_server_get_description (server));

  return TRUE;
}

/* Never NULL: a status that cannot be read says why. */
PsServerReplicationStatus *
ps_cli_read_server_replication (PsSyncManager *manager,
                                PsServer      *server)
{
  g_autoptr(GAsyncResult) waited = NULL;
  g_autoptr(GError) error = NULL;
  PsServerReplicationStatus *status;

  ps_sync_manager_read_server_replication_async (manager, server, NULL, ps_cli_wait_cb, &waited);
  status = ps_sync_manager_read_server_replication_finish (manager, ps_cli_wait (&waited),
                                                           &error);
  if (status == NULL)
    status = ps_server_replication_status_new_with_error (PS_SERVER_REPLICATION_STATE_UNKNOWN,
                                                          error != NULL ? error->message : "");
  return status;
}

void
ps_cli_print_server_replication (PsServerReplicationStatus *status)
{
  PsServerReplicationState state = ps_server_replication_status_get_state (status);
  const char *error = ps_server_replication_status_get_error (status);
  g_autofree char *written = NULL;
  g_autofree char *failures = NULL;
  g_autofree char *pending = NULL;

  /* Numbers as text: a message glued to G_GUINT64_FORMAT reaches no
   * translator.
   */
  written = g_strdup_printf ("%" G_GUINT64_FORMAT,
                             ps_server_replication_status_get_docs_written (status));
  failures = g_strdup_printf ("%" G_GUINT64_FORMAT,
                              ps_server_replication_status_get_write_failures (status));
  pending = g_strdup_printf ("%" G_GUINT64_FORMAT,
                             ps_server_replication_status_get_changes_pending (status));

  g_print ("%-18s ", _("On the server:"));
  /* TRANSLATORS: the state of CouchDB's replication, then three counts. */
  g_print (_("%s: %s written, %s failed, %s pending\n"),
           ps_server_replication_state_to_label (state), written, failures, pending);
  if (error != NULL && *error != '\0')
    g_print ("%-18s %s\n", _("Server error:"), error);
}

/* When the server was last synced ("never" before the first sync), and
 * how it went: the same lines for `server show` and `sync --status`.
 */
void
ps_cli_print_last_sync (PsServer *server)
{
  const char *outcome = ps_server_get_last_outcome (server);
  gint64 last_sync = ps_server_get_last_sync_time (server);

  if (last_sync != 0)
    {
      g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (last_sync);
      g_autofree char *text = g_date_time_format (time, "%Y-%m-%d %H:%M:%S");

      g_print ("%-18s %s\n", _("Last sync:"), text);
    }
  else
    {
      g_print ("%-18s %s\n", _("Last sync:"), _("never"));
    }
  if (outcome != NULL)
    g_print ("%-18s %s\n", _("Last outcome:"), outcome);
}

/* The same members for both: always "last-outcome" (null before the
 * first sync) and "last-sync-time" (Unix time, 0 before it), so that
 * scripts need not test whether they are there.
 */
void
ps_cli_add_last_sync_json (JsonObject *object,
                           PsServer   *server)
{
  const char *outcome = ps_server_get_last_outcome (server);

  if (outcome != NULL)
    json_object_set_string_member (object, "last-outcome", outcome);
  else
    json_object_set_null_member (object, "last-outcome");
  json_object_set_int_member (object, "last-sync-time", ps_server_get_last_sync_time (server));
}

/* Settings and how the last sync went, as scripts read them. */
static JsonNode *
server_to_json (PsServer *server)
{
  JsonNode *node = ps_server_to_json (server);

  ps_cli_add_last_sync_json (json_node_get_object (node), server);
  return node;
}

/* The saved servers, and the one a command names by id or description;
 * %NULL, with the reason printed, when either cannot be had.
 */
static PsServer *
load_named_server (const char     *name,
                   PsServerStore **store)
{
  g_autoptr(GError) error = NULL;
  PsServer *server;

  *store = ps_cli_load_server_store ();
  if (*store == NULL)
    return NULL;

  server = ps_server_store_find (*store, name, &error);
  if (server == NULL)
    ps_cli_print_error (NULL, error);

  return server;
}

/* An address that drops encryption or leads elsewhere is taken only when
 * the user said so.
 */
static gboolean
refuse_change (PsServer          *server,
               const char        *couch_url,
               PsDiscoveryChange  changes)
{
  g_autofree char *shown = ps_url_redact (couch_url);

  if ((changes & PS_DISCOVERY_CHANGE_UNENCRYPTED) != 0)
    g_printerr (_("Error: the Primero application at %s names its CouchDB at %s, which "
                  "is not encrypted: records and passwords would cross the network in "
                  "the clear. Ask the application’s administrator for an https address, "
                  "or add the server again with --accept-discovered-url to use this one.\n"),
                ps_server_get_url (server), shown);
  if ((changes & PS_DISCOVERY_CHANGE_OTHER_HOST) != 0)
    g_printerr (_("Error: the Primero application at %s names its CouchDB on another "
                  "host, at %s. Check with the application’s administrator that this host "
                  "is theirs, then add the server again with --accept-discovered-url.\n"),
                ps_server_get_url (server), shown);

  return changes != PS_DISCOVERY_CHANGE_NONE;
}

/* The URL may be the Primero application rather than its CouchDB: ask it,
 * as Primero did. A server that cannot be reached now is kept as given.
 */
static gboolean
discover_couchdb (PsServer   *server,
                  const char *password,
                  gboolean    accept_change)
{
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(GAsyncResult) waited = NULL;
  g_autofree char *couch_url = NULL;
  g_auto(GStrv) databases = NULL;
  g_autoptr(GError) error = NULL;
  PsDiscoveryChange changes = PS_DISCOVERY_CHANGE_NONE;
  gboolean ok = TRUE;

  ps_discovery_run_async (session, ps_server_get_url (server), ps_server_get_username (server),
                          password, NULL, ps_cli_wait_cb, &waited);

  if (ps_discovery_run_finish (ps_cli_wait (&waited), &couch_url, &databases, &changes, &error))
    {
      if (g_strcmp0 (couch_url, ps_server_get_url (server)) != 0)
        {
          g_autofree char *normalized = NULL;
          g_autofree char *shown = ps_url_redact (couch_url);

          if (!accept_change && refuse_change (server, couch_url, changes))
            ok = FALSE;
          else
            {
              g_print (_("The Primero application at %s keeps its records at %s\n"),
                       ps_server_get_url (server), shown);
              if (ps_server_normalize_url (couch_url, &normalized, NULL, NULL))
                ps_server_set_url (server, normalized);
              ps_cli_warn_if_insecure (server);
            }
        }
      if (ok && databases != NULL)
        ps_server_set_databases (server, (const char * const *) databases);
    }
  else if (ps_couch_error_is_transient (error))
    g_printerr (_("Warning: the server could not be checked now (%s); it is added as given.\n"),
                error->message);
  else
    {
      ps_cli_print_error (NULL, error);
      ok = FALSE;
    }

  return ok;
}

static int
server_add (int    argc,
            char **argv)
{
  g_auto(PsCliServerOptions) options = { 0, };
  g_autofree GOptionEntry *entries = ps_cli_server_options_entries (&options, FALSE);
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(PsServerStore) store = NULL;
  g_autoptr(PsServer) server = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(PsSecret) password = NULL;
  int status;

  context = ps_cli_option_context_new (_("add"),
                                       _("Adds a server to sync this instance with. The "
                                         "password goes to the desktop keyring, never to a "
                                         "file.\n\n"
                                         "Example: primero-sync-cli server add --description "
                                         "\"Field office\" --url https://field.example.org:6984 "
                                         "--username admin"),
                                       entries);
  if (!ps_cli_parse_options (context, &argc, &argv))
    return PS_CLI_EXIT_USAGE;
  if (argc > 1)
    return ps_cli_usage_error (context, _("Unexpected argument."));
  if (options.description == NULL)
    return ps_cli_usage_error (context, _("Give a description with --description."));
  if (options.url == NULL)
    return ps_cli_usage_error (context, _("Give the server’s URL with --url."));
  if (options.username == NULL || *options.username == '\0')
    return ps_cli_usage_error (context, _("Give the user name with --username."));
  if ((status = ps_cli_server_options_check (&options, context)) >= 0)
    return status;

  store = ps_cli_load_server_store ();
  if (store == NULL)
    return PS_CLI_EXIT_FAILED;

  server = ps_server_new (options.description, options.normalized_url);
  if (!ps_cli_server_options_apply (&options, server))
    return PS_CLI_EXIT_USAGE;

  if (!ps_server_store_add (store, server, &error))
    {
      ps_cli_print_error (NULL, error);
      return PS_CLI_EXIT_FAILED;
    }

  ps_cli_warn_if_insecure (server);

  if (!ps_cli_read_new_password (options.password_stdin, &password))
    return PS_CLI_EXIT_FAILED;

  if (!options.no_check &&
      !discover_couchdb (server, password, options.accept_discovered_url))
    return PS_CLI_EXIT_FAILED;

  /* The password goes first: without a keyring the server is not added,
   * so the user can simply try again once the keyring runs.
   */
  if (password != NULL && !ps_cli_store_password (server, password))
    return PS_CLI_EXIT_FAILED;

  if (!ps_cli_save_server_store (store))
    {
      if (password != NULL)
        ps_cli_clear_password (ps_server_get_id (server));
      return PS_CLI_EXIT_FAILED;
    }

  g_print (_("Added “%s” with id %s\n"),
           ps_server_get_description (server), ps_server_get_id (server));
  if (password == NULL)
    g_printerr (_("No password was stored; set one with “%s edit %s --password-stdin”.\n"),
                g_get_prgname (), ps_server_get_id (server));

  if (ps_server_get_on_server (server) && !ps_cli_apply_server_replication (store, server))
    return PS_CLI_EXIT_FAILED;

  return PS_CLI_EXIT_OK;
}

static int
server_list (int    argc,
             char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("Print the servers as a JSON array"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(PsServerStore) store = NULL;
  guint n_items;

  context = ps_cli_option_context_new (_("list"),
                                       _("Lists the configured servers: id, description, "
                                         "URL, whether continuous, direction."),
                                       entries);
  if (!ps_cli_parse_options (context, &argc, &argv))
    return PS_CLI_EXIT_USAGE;
  if (argc > 1)
    return ps_cli_usage_error (context, _("Unexpected argument."));

  store = ps_cli_load_server_store ();
  if (store == NULL)
    return PS_CLI_EXIT_FAILED;

  n_items = g_list_model_get_n_items (G_LIST_MODEL (store));

  if (json)
    {
      g_autoptr(JsonArray) array = json_array_new ();
      g_autoptr(JsonNode) node = NULL;

      for (guint i = 0; i < n_items; i++)
        {
          g_autoptr(PsServer) server = g_list_model_get_item (G_LIST_MODEL (store), i);

          json_array_add_element (array, server_to_json (server));
        }
      node = json_node_init_array (json_node_alloc (), array);
      ps_cli_print_json (node);
      return PS_CLI_EXIT_OK;
    }

  if (n_items == 0)
    {
      g_printerr (_("No servers are configured; add one with “%s add”.\n"), g_get_prgname ());
      return PS_CLI_EXIT_OK;
    }

  g_print ("%-36s  %-24s  %-40s  %-10s  %s\n",
           _("ID"), _("DESCRIPTION"), _("URL"), _("CONTINUOUS"), _("DIRECTION"));
  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(PsServer) server = g_list_model_get_item (G_LIST_MODEL (store), i);

      g_print ("%-36s  %-24s  %-40s  %-10s  %s\n",
               ps_server_get_id (server),
               ps_server_get_description (server),
               ps_server_get_url (server),
               ps_server_get_continuous (server) ? _("yes") : _("no"),
               ps_sync_direction_to_string (ps_server_get_direction (server)));
    }

  return PS_CLI_EXIT_OK;
}

void
ps_cli_print_server (PsServer *server)
{
  g_autofree char *password = ps_cli_describe_password (server);
  g_auto(GStrv) names = ps_server_dup_database_names (server);
  g_autofree char *databases = g_strjoinv (", ", names);
  const char *username = ps_server_get_username (server);
  const char *fingerprint = ps_server_get_pinned_fingerprint (server);

  g_print ("%-18s %s\n", _("Id:"), ps_server_get_id (server));
  g_print ("%-18s %s\n", _("Description:"), ps_server_get_description (server));
  g_print ("%-18s %s%s\n", _("URL:"), ps_server_get_url (server),
           ps_server_get_is_insecure (server) ? _(" (not encrypted)") : "");
  g_print ("%-18s %s\n", _("User name:"), username != NULL ? username : _("none"));
  g_print ("%-18s %s\n", _("Password:"), password);
  g_print ("%-18s %s\n", _("Continuous:"), ps_server_get_continuous (server) ? _("yes") : _("no"));
  g_print ("%-18s %s\n", _("Direction:"),
           ps_sync_direction_to_string (ps_server_get_direction (server)));
  /* A limit is feminine in some languages, unlike a password. */
  if (ps_server_get_bandwidth_limit (server) == 0)
    g_print ("%-18s %s\n", _("Bandwidth limit:"), C_("limit", "none"));
  else
    g_print ("%-18s %u kB/s\n", _("Bandwidth limit:"), ps_server_get_bandwidth_limit (server));
  if (ps_server_get_max_attachment_size (server) == 0)
    g_print ("%-18s %s\n", _("Attachment limit:"), C_("limit", "none"));
  else
    g_print ("%-18s %u kB\n", _("Attachment limit:"), ps_server_get_max_attachment_size (server));
  g_print ("%-18s %s\n", _("Attachments:"),
           ps_server_get_defer_attachments (server) ? _("after the other records")
                                                    : _("with their records"));
  g_print ("%-18s %s\n", _("Metered networks:"),
           ps_server_get_allow_metered (server) ? _("sync") : _("pause"));
  g_print ("%-18s %s\n", _("Syncs from:"),
           ps_server_get_on_server (server) ? _("this instance’s CouchDB (on the server)")
                                            : _("the desktop"));
  g_print ("%-18s %s\n", _("Databases:"), databases);
  if (fingerprint != NULL)
    g_print ("%-18s %s\n", _("Trusted certificate:"), fingerprint);
}

static int
server_show (int    argc,
             char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("Print the server as JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(PsServerStore) store = NULL;
  g_autoptr(PsServerReplicationStatus) status = NULL;
  PsServer *server;

  context = ps_cli_option_context_new (_("show ID"),
                                       _("Shows the settings of a server, named by its id "
                                         "or its description."),
                                       entries);
  if (!ps_cli_parse_options (context, &argc, &argv))
    return PS_CLI_EXIT_USAGE;
  if (argc != 2)
    return ps_cli_usage_error (context, _("Name one server."));

  server = load_named_server (argv[1], &store);
  if (server == NULL)
    return PS_CLI_EXIT_FAILED;

  if (ps_server_get_on_server (server))
    {
      g_autoptr(PsSyncManager) manager = ps_cli_new_sync_manager (store);

      status = ps_cli_read_server_replication (manager, server);
    }

  if (json)
    {
      g_autoptr(JsonNode) node = server_to_json (server);

      if (status != NULL)
        json_object_set_member (json_node_get_object (node), "on_server",
                                ps_server_replication_status_to_json (status));
      ps_cli_print_json (node);
    }
  else
    {
      ps_cli_print_server (server);
      ps_cli_print_last_sync (server);
      if (status != NULL)
        ps_cli_print_server_replication (status);
    }

  return PS_CLI_EXIT_OK;
}

static int
server_edit (int    argc,
             char **argv)
{
  g_auto(PsCliServerOptions) options = { 0, };
  g_autofree GOptionEntry *entries = ps_cli_server_options_entries (&options, TRUE);
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(PsServerStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(PsSecret) password = NULL;
  gboolean was_on_server;
  PsServer *server;
  int status;

  context = ps_cli_option_context_new (_("edit ID"),
                                       _("Changes the settings of a server, named by its id "
                                         "or its description. Settings not given are kept."),
                                       entries);
  if (!ps_cli_parse_options (context, &argc, &argv))
    return PS_CLI_EXIT_USAGE;
  if (argc != 2)
    return ps_cli_usage_error (context, _("Name one server."));
  if ((status = ps_cli_server_options_check (&options, context)) >= 0)
    return status;

  server = load_named_server (argv[1], &store);
  if (server == NULL)
    return PS_CLI_EXIT_FAILED;
  was_on_server = ps_server_get_on_server (server);

  if (options.description != NULL &&
      !ps_server_store_check_description (store, options.description, server, &error))
    {
      ps_cli_print_error (NULL, error);
      return PS_CLI_EXIT_FAILED;
    }
  if (!ps_cli_server_options_apply (&options, server))
    return PS_CLI_EXIT_USAGE;

  if (!ps_server_validate (server, &error))
    {
      ps_cli_print_error (NULL, error);
      return PS_CLI_EXIT_FAILED;
    }

  if (options.normalized_url != NULL)
    ps_cli_warn_if_insecure (server);

  if (options.password_stdin)
    {
      if (!ps_cli_read_new_password (TRUE, &password) ||
          !ps_cli_store_password (server, password))
        return PS_CLI_EXIT_FAILED;
    }

  if (!ps_cli_save_server_store (store))
    return PS_CLI_EXIT_FAILED;

  g_print (_("Changed “%s”\n"), ps_server_get_description (server));

  /* Any setting may change the documents: names, direction, password. */
  if ((was_on_server || ps_server_get_on_server (server) || options.on_desktop) &&
      !ps_cli_apply_server_replication (store, server))
    return PS_CLI_EXIT_FAILED;

  return PS_CLI_EXIT_OK;
}

static int
server_remove (int    argc,
               char **argv)
{
  const GOptionEntry entries[] = {
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(PsServerStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) waited = NULL;
  g_autofree char *id = NULL;
  g_autofree char *description = NULL;
  g_autoptr(PsServer) kept = NULL;
  gboolean removed = FALSE;
  gboolean deleted;
  PsServer *server;

  context = ps_cli_option_context_new (_("remove ID"),
                                       _("Removes a server, named by its id or its "
                                         "description, and its password from the keyring."),
                                       entries);
  if (!ps_cli_parse_options (context, &argc, &argv))
    return PS_CLI_EXIT_USAGE;
  if (argc != 2)
    return ps_cli_usage_error (context, _("Name one server."));

  server = load_named_server (argv[1], &store);
  if (server == NULL)
    return PS_CLI_EXIT_FAILED;

  id = g_strdup (ps_server_get_id (server));
  description = g_strdup (ps_server_get_description (server));
  kept = g_object_ref (server);

  ps_server_store_delete_async (store, id, NULL, ps_cli_wait_cb, &waited);
  deleted = ps_server_store_delete_finish (store, ps_cli_wait (&waited), &removed, &error);
  if (removed)
    g_print (_("Removed “%s”\n"), description);
  /* Gone from the store: its documents go too. */
  if (removed && ps_server_get_on_server (kept) && !ps_cli_apply_server_replication (store, kept))
    deleted = FALSE;
  if (!deleted && error != NULL)
    {
      ps_cli_print_error (removed ? _("The password could not be removed from the keyring")
                                  : NULL,
                          error);
      return PS_CLI_EXIT_FAILED;
    }

  return deleted ? PS_CLI_EXIT_OK : PS_CLI_EXIT_FAILED;
}

static const PsCliCommand subcommands[] = {
  { "add", N_("Add a server"), server_add },
  { "list", N_("List the servers"), server_list },
  { "show", N_("Show the settings of a server"), server_show },
  { "edit", N_("Change the settings of a server"), server_edit },
  { "remove", N_("Remove a server and its password"), server_remove },
};

int
ps_cli_server (int    argc,
               char **argv)
{
  return ps_cli_dispatch ("server", _("Manages the servers this instance is synced with."),
                          subcommands, G_N_ELEMENTS (subcommands), argc, argv);
}

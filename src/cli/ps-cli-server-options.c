/* ps-cli-server-options.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The options `server add` and `server edit` share: one list, checked and
 * applied one way. A setting not given is left as it is (for a new server,
 * its default).
 */

#define G_LOG_DOMAIN "ps-cli-server"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-cli-common.h"
#include "ps-cli-server-options.h"

/* An option of `add`, of `edit`, or of both; the help may differ. */
typedef struct
{
  const char   *name;
  char          short_name;
  GOptionArg    arg;
  gsize         offset;
  const char   *add_help;       /* NULL: not an option of add */
  const char   *edit_help;      /* NULL: not an option of edit */
  const char   *arg_description;
} ServerOption;

#define FIELD(member) G_STRUCT_OFFSET (PsCliServerOptions, member)

static const ServerOption server_options[] = {
  { "no-check", 0, G_OPTION_ARG_NONE, FIELD (no_check),
    N_("Do not contact the server: keep the URL as given"), NULL, NULL },
  { "accept-discovered-url", 0, G_OPTION_ARG_NONE, FIELD (accept_discovered_url),
    N_("Use the CouchDB address a Primero application names even when it is on another "
       "host or not encrypted"), NULL, NULL },
  { "description", 'd', G_OPTION_ARG_STRING, FIELD (description),
    N_("A name for the server, unique among the servers"),
    N_("A new name for the server"), N_("TEXT") },
  { "url", 'u', G_OPTION_ARG_STRING, FIELD (url),
    N_("The address of the server’s CouchDB, such as https://example.org:6984"),
    N_("A new address of the server’s CouchDB"), N_("URL") },
  { "username", 'U', G_OPTION_ARG_STRING, FIELD (username),
    N_("The CouchDB administrator to log in as"),
    N_("The CouchDB administrator to log in as"), N_("NAME") },
  { "continuous", 'c', G_OPTION_ARG_NONE, FIELD (continuous),
    N_("Keep in sync as changes happen, rather than once per sync"),
    N_("Keep in sync as changes happen"), NULL },
  { "no-continuous", 0, G_OPTION_ARG_NONE, FIELD (no_continuous),
    NULL, N_("Sync only when asked"), NULL },
  { "bandwidth-limit", 0, G_OPTION_ARG_STRING, FIELD (bandwidth_limit),
    N_("Cap the traffic with the server at KBPS kB/s each way (0, the default, for none)"),
    N_("Cap the traffic with the server at KBPS kB/s each way (0 for none)"), N_("KBPS") },
  { "allow-metered", 0, G_OPTION_ARG_NONE, FIELD (allow_metered),
    N_("Sync continuously even over a connection that may cost money"),
    N_("Sync continuously even over a connection that may cost money"), NULL },
  { "no-allow-metered", 0, G_OPTION_ARG_NONE, FIELD (no_allow_metered),
    NULL, N_("Pause continuous sync while the connection may cost money"), NULL },
  { "max-attachment-size", 0, G_OPTION_ARG_STRING, FIELD (max_attachment_size),
    N_("Leave records with a larger attachment for later, and list them (0 for no limit)"),
    N_("Leave records with a larger attachment for later, and list them (0 for no limit)"),
    N_("KB") },
  { "defer-attachments", 0, G_OPTION_ARG_NONE, FIELD (defer_attachments),
    N_("Sync the records without attachments first, those with attachments after"),
    N_("Sync the records without attachments first, those with attachments after"), NULL },
  { "no-defer-attachments", 0, G_OPTION_ARG_NONE, FIELD (no_defer_attachments),
    NULL, N_("Sync records in their order, with their attachments"), NULL },
  { "direction", 0, G_OPTION_ARG_STRING, FIELD (direction),
    N_("Which way records travel: both (the default), push or pull"),
    N_("Which way records travel: both, push or pull"), N_("DIRECTION") },
  { "prefix", 0, G_OPTION_ARG_STRING, FIELD (prefix),
    N_("The prefix of the record databases (default: primero)"),
    N_("The prefix of the record databases; derive the names again"), N_("PREFIX") },
  { "suffix", 0, G_OPTION_ARG_STRING, FIELD (suffix),
    N_("The suffix of the record databases (default: production)"),
    N_("The suffix of the record databases; derive the names again"), N_("SUFFIX") },
  { "record-type", 0, G_OPTION_ARG_STRING_ARRAY, FIELD (record_types),
    N_("A record type to sync (repeatable; default: child, incident, tracing_request)"),
    N_("A record type to sync (repeatable); derive the names again"), N_("TYPE") },
  { "database", 0, G_OPTION_ARG_STRING_ARRAY, FIELD (databases),
    N_("A database to sync, instead of the derived names (repeatable)"),
    N_("A database to sync, replacing the list (repeatable)"), N_("NAME") },
  { "fingerprint", 0, G_OPTION_ARG_STRING, FIELD (fingerprint),
    N_("The SHA-256 fingerprint of a self-signed certificate to trust"),
    N_("The SHA-256 fingerprint of a certificate to trust; empty to trust none"), N_("HEX") },
  { "on-server", 0, G_OPTION_ARG_NONE, FIELD (on_server),
    N_("Keep syncing on the server: this instance’s CouchDB replicates, also when no one "
       "is logged in, and the server’s password is kept in its _replicator database"),
    N_("Keep syncing on the server: this instance’s CouchDB replicates, also when no one "
       "is logged in, and the server’s password is kept in its _replicator database"),
    NULL },
  { "on-desktop", 0, G_OPTION_ARG_NONE, FIELD (on_desktop),
    NULL, N_("Sync from the desktop again, and remove the server’s replication documents"),
    NULL },
  { "password-stdin", 0, G_OPTION_ARG_NONE, FIELD (password_stdin),
    N_("Read the password from standard input (otherwise it is asked for at a terminal)"),
    N_("Change the password: read it from standard input, or ask for it at a terminal"),
    NULL },
};

/**
 * ps_cli_server_options_entries:
 * @options: where the parsed values go
 * @editing: %TRUE for `edit`, %FALSE for `add`
 *
 * Returns: (transfer container): the entries, ending with an empty one;
 *   free with g_free()
 */
GOptionEntry *
ps_cli_server_options_entries (PsCliServerOptions *options,
                               gboolean            editing)
{
  GOptionEntry *entries = g_new0 (GOptionEntry, G_N_ELEMENTS (server_options) + 1);
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (server_options); i++)
    {
      const ServerOption *option = &server_options[i];
      const char *help = editing ? option->edit_help : option->add_help;

      if (help == NULL)
        continue;
      entries[n].long_name = option->name;
      entries[n].short_name = option->short_name;
      entries[n].arg = option->arg;
      entries[n].arg_data = G_STRUCT_MEMBER_P (options, option->offset);
      entries[n].description = help;
      entries[n].arg_description = option->arg_description;
      n++;
    }

  return entries;
}

static gboolean
parse_limit (const char *option,
             const char *text,
             guint      *kbytes)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT, &value, NULL))
    {
      g_printerr (_("Error: %s takes a number of kB (0 for no limit), not “%s”\n"), option, text);
      return FALSE;
    }

  *kbytes = (guint) value;
  return TRUE;
}

/* Checks that the values given make sense together, before anything is
 * changed. Returns -1 when they do, or the exit status otherwise.
 */
int
ps_cli_server_options_check (PsCliServerOptions *options,
                             GOptionContext     *context)
{
  g_autoptr(GError) error = NULL;
  PsSyncDirection direction;
  guint kbytes;

  if (options->continuous && options->no_continuous)
    return ps_cli_usage_error (context, _("Use either --continuous or --no-continuous."));
  if (options->allow_metered && options->no_allow_metered)
    return ps_cli_usage_error (context, _("Use either --allow-metered or --no-allow-metered."));
  if (options->defer_attachments && options->no_defer_attachments)
    return ps_cli_usage_error (context, _("Use either --defer-attachments or "
                                          "--no-defer-attachments."));
  if (options->on_server && options->on_desktop)
    return ps_cli_usage_error (context, _("Use either --on-server or --on-desktop."));
  if (options->databases != NULL &&
      (options->prefix != NULL || options->suffix != NULL || options->record_types != NULL))
    return ps_cli_usage_error (context, _("Use either --database or --prefix, --suffix "
                                          "and --record-type, not both."));

  if (options->direction != NULL && !ps_sync_direction_from_string (options->direction,
                                                                     &direction))
    {
      g_printerr (_("Error: unknown direction “%s”: use both, push or pull\n"),
                  options->direction);
      return PS_CLI_EXIT_USAGE;
    }
  if ((options->bandwidth_limit != NULL &&
       !parse_limit ("--bandwidth-limit", options->bandwidth_limit, &kbytes)) ||
      (options->max_attachment_size != NULL &&
       !parse_limit ("--max-attachment-size", options->max_attachment_size, &kbytes)))
    return PS_CLI_EXIT_USAGE;

  if (options->url != NULL &&
      !ps_server_normalize_url (options->url, &options->normalized_url, NULL, &error))
    {
      ps_cli_print_error (NULL, error);
      return PS_CLI_EXIT_USAGE;
    }

  return -1;
}

static gboolean
apply_fingerprint (PsServer   *server,
                   const char *fingerprint)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *normalized = NULL;

  if (*fingerprint == '\0')
    {
      ps_server_set_pinned_fingerprint (server, NULL);
      return TRUE;
    }

  normalized = ps_server_normalize_fingerprint (fingerprint, &error);
  if (normalized == NULL)
    {
      ps_cli_print_error (NULL, error);
      return FALSE;
    }

  ps_server_set_pinned_fingerprint (server, normalized);
  return TRUE;
}

/**
 * ps_cli_server_options_apply:
 * @options: options that passed ps_cli_server_options_check()
 * @server: the server to change
 *
 * Returns: %FALSE, having said why, when the fingerprint is not one
 */
gboolean
ps_cli_server_options_apply (PsCliServerOptions *options,
                             PsServer           *server)
{
  PsSyncDirection direction;
  guint kbytes;

  if (options->fingerprint != NULL && !apply_fingerprint (server, options->fingerprint))
    return FALSE;

  if (options->description != NULL)
    ps_server_set_description (server, options->description);
  if (options->normalized_url != NULL)
    ps_server_set_url (server, options->normalized_url);
  if (options->username != NULL)
    ps_server_set_username (server, options->username);
  if (options->continuous || options->no_continuous)
    ps_server_set_continuous (server, options->continuous);
  if (options->allow_metered || options->no_allow_metered)
    ps_server_set_allow_metered (server, options->allow_metered);
  if (options->defer_attachments || options->no_defer_attachments)
    ps_server_set_defer_attachments (server, options->defer_attachments);
  if (options->bandwidth_limit != NULL &&
      parse_limit ("--bandwidth-limit", options->bandwidth_limit, &kbytes))
    ps_server_set_bandwidth_limit (server, kbytes);
  if (options->max_attachment_size != NULL &&
      parse_limit ("--max-attachment-size", options->max_attachment_size, &kbytes))
    ps_server_set_max_attachment_size (server, kbytes);
  if (options->direction != NULL &&
      ps_sync_direction_from_string (options->direction, &direction))
    ps_server_set_direction (server, direction);
  if (options->on_server || options->on_desktop)
    ps_server_set_on_server (server, options->on_server);

  /* New names for the databases replace a list given before. */
  if (options->prefix != NULL)
    ps_server_set_database_prefix (server, options->prefix);
  if (options->suffix != NULL)
    ps_server_set_database_suffix (server, options->suffix);
  if (options->record_types != NULL)
    ps_server_set_record_types (server, (const char * const *) options->record_types);
  if (options->prefix != NULL || options->suffix != NULL || options->record_types != NULL)
    ps_server_set_databases (server, NULL);
  if (options->databases != NULL)
    ps_server_set_databases (server, (const char * const *) options->databases);

  return TRUE;
}

void
ps_cli_server_options_clear (PsCliServerOptions *options)
{
  g_clear_pointer (&options->description, g_free);
  g_clear_pointer (&options->url, g_free);
  g_clear_pointer (&options->username, g_free);
  g_clear_pointer (&options->direction, g_free);
  g_clear_pointer (&options->prefix, g_free);
  g_clear_pointer (&options->suffix, g_free);
  g_clear_pointer (&options->fingerprint, g_free);
  g_clear_pointer (&options->bandwidth_limit, g_free);
  g_clear_pointer (&options->max_attachment_size, g_free);
  g_clear_pointer (&options->databases, g_strfreev);
  g_clear_pointer (&options->record_types, g_strfreev);
  g_clear_pointer (&options->normalized_url, g_free);
}

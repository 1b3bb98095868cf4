/* ps-cli-export.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-cli-export"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "ps-cli-commands.h"
#include "ps-cli-common.h"
#include "ps-context.h"
#include "ps-export.h"
#include "ps-export-state.h"
#include "ps-secrets.h"
#include "ps-sync-file.h"

typedef struct
{
  gboolean  done;
  gboolean  ok;
  GError   *error;
} ExportRun;

static void
on_progress_cb (PsExport   *export,
                const char *database,
                guint       revisions,
                gpointer    user_data)
{
  if (ps_cli_stdout_is_terminal ())
    g_print (_("\r%s: %u revision(s)…"), database, revisions);
}

static void
on_export_done_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  ExportRun *run = user_data;

  run->ok = ps_export_run_finish (PS_EXPORT (object), result, &run->error);
  run->done = TRUE;
}

int
ps_cli_export (int    argc,
               char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(PsContext) ps_context = NULL;
  g_autoptr(PsExportState) state = NULL;
  g_autoptr(PsExport) export = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *to = NULL;
  g_autofree char *server_id = NULL;
  g_autofree char *passphrase_file = NULL;
  g_auto(PsSecret) passphrase = NULL;
  g_autoptr(PsServerAccess) access = NULL;
  g_auto(GStrv) names = NULL;
  gboolean all = FALSE;
  gboolean since_last = FALSE;
  const char *peer;
  JsonObject *summary;
  PsServerStore *store;
  PsServer *server;
  ExportRun run = { 0, };
  const GOptionEntry entries[] = {
    { "to", 0, 0, G_OPTION_ARG_FILENAME, &to, N_("The file to write"), N_("FILE") },
    { "server", 0, 0, G_OPTION_ARG_STRING, &server_id,
      N_("The server (id or description) the file is for"), N_("ID") },
    { "all", 0, 0, G_OPTION_ARG_NONE, &all,
      N_("Export this instance’s record databases for any server"), NULL },
    { "since-last", 0, 0, G_OPTION_ARG_NONE, &since_last,
      N_("Only what changed since the last export to this server (default: everything)"),
      NULL },
    { "passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &passphrase_file,
      N_("Read the passphrase from the first line of FILE instead of asking"), N_("FILE") },
    { NULL }
  };

  context = ps_cli_option_context_new (NULL,
                                       _("Writes every revision of the record databases "
                                         "(histories, conflicts, attachments) that a server may "
                                         "lack into one compressed file, encrypted with a "
                                         "passphrase, for places no network reaches. Import it "
                                         "there with “import”."),
                                       entries);
  if (!ps_cli_parse_options (context, &argc, &argv))
    return PS_CLI_EXIT_USAGE;
  if (argc != 1)
    return ps_cli_usage_error (context, _("Unexpected argument."));
  if (to == NULL)
    return ps_cli_usage_error (context, _("Name the file to write with --to."));
  if ((server_id == NULL) == !all)
    return ps_cli_usage_error (context, _("Name one server with --server, or give --all."));

  ps_context = ps_context_new ();
  store = ps_context_get_server_store (ps_context);
  if (all)
    {
      server = ps_server_store_get_local (store);
      peer = PS_EXPORT_STATE_ALL;
    }
  else
    {
      server = ps_server_store_find (store, server_id, &error);
      if (server == NULL)
        {
          ps_cli_print_error (NULL, error);
          return PS_CLI_EXIT_FAILED;
        }
      peer = ps_server_get_id (server);
    }
  names = ps_server_dup_database_names (server);

  state = ps_export_state_new_for_store (store);
  access = ps_cli_new_access (ps_server_store_get_local (store),
                              ps_context_get_session (ps_context), &error);
  if (access == NULL)
    {
      ps_cli_print_error (NULL, error);
      return PS_CLI_EXIT_FAILED;
    }

  passphrase = ps_cli_read_passphrase (passphrase_file, TRUE, &error);
  if (passphrase == NULL || !ps_sync_file_check_passphrase (passphrase, &error))
    {
      ps_secrets_wipe (&passphrase);
      ps_cli_print_error (_("nothing was exported"), error);
      return PS_CLI_EXIT_USAGE;
    }

  export = ps_export_new (access, peer);
  for (guint i = 0; names[i] != NULL; i++)
    ps_export_add_database (export, names[i],
                            since_last ? ps_export_state_get_since (state, peer, names[i]) : NULL);
  if (since_last)
    ps_export_set_follows (export, ps_export_state_get_last_file (state, peer));
  g_signal_connect (export, "progress", G_CALLBACK (on_progress_cb), NULL);

  cancellable = ps_cli_cancel_on_interrupt ();
  ps_export_run_async (export, to, passphrase, cancellable, on_export_done_cb, &run);
  ps_secrets_wipe (&passphrase);
  ps_cli_run_until_done (&run.done);
  if (ps_cli_stdout_is_terminal ())
    g_print ("\n");

  if (!run.ok)
    {
      ps_cli_print_error (_("nothing was exported"), run.error);
      g_clear_error (&run.error);
      return PS_CLI_EXIT_FAILED;
    }

  /* Only a complete file moves the starting point of the next one. */
  ps_export_state_record (state, peer, export, names);
  if (!ps_export_state_save (state, &error))
    g_printerr (_("Warning: the next export cannot start where this one ended: %s\n"),
                error->message);

  summary = ps_export_get_summary (export);
  g_print (_("Wrote %s: %u record(s), %u revision(s)%s\n"), to,
           (guint) json_object_get_int_member (summary, "records"),
           (guint) json_object_get_int_member (summary, "revisions"),
           since_last ? _(" changed since the last export") : "");
  ps_cli_print_file_counts (summary);
  return PS_CLI_EXIT_OK;
}

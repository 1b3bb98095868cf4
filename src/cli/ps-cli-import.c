/* ps-cli-import.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-cli-import"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "ps-cli-commands.h"
#include "ps-cli-common.h"
#include "ps-context.h"
#include "ps-export-state.h"
#include "ps-import.h"
#include "ps-json.h"
#include "ps-secrets.h"
#include "ps-sync-file.h"

typedef struct
{
  gboolean  done;
  gboolean  ok;
  GError   *error;
} ImportRun;

static void
on_resolved_cb (PsImport   *import,
                JsonObject *report,
                gpointer    user_data)
{
  const char *display_id = json_object_get_string_member_with_default (report, "display_id", NULL);

  g_print (_("Resolved %s %s\n"),
           json_object_get_string_member_with_default (report, "record_type", _("record")),
           display_id != NULL ? display_id : json_object_get_string_member (report, "id"));
}

static void
on_import_done_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  ImportRun *run = user_data;

  run->ok = ps_import_run_finish (PS_IMPORT (object), result, &run->error);
  run->done = TRUE;
}

static const char *
text_or_unknown (JsonObject *summary,
                 const char *member)
{
  const char *text = ps_json_get_string (summary, member);

  return text != NULL ? text : _("unknown");
}

static int
print_file_summary (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) summary = ps_sync_file_read_summary (path, &error);

  if (summary == NULL)
    {
      ps_cli_print_error (path, error);
      return PS_CLI_EXIT_FAILED;
    }

  g_print (_("Made: %s\n"), text_or_unknown (summary, "created"));
  g_print (_("By instance: %s\n"),
           text_or_unknown (summary, "instance"));
  g_print (_("For: %s\n"), text_or_unknown (summary, "peer"));
  g_print (_("Contents: %s\n"),
           g_strcmp0 (ps_json_get_string (summary, "contents"), "since-last") == 0
           ? _("changes since the last export") : _("everything"));
  if (ps_json_get_object (summary, "follows") != NULL)
    g_print (_("Follows: the file made on %s\n"),
             text_or_unknown (ps_json_get_object (summary, "follows"), "created"));
  g_print (_("%u record(s), %u revision(s)\n"),
           (guint) json_object_get_int_member_with_default (summary, "records", 0),
           (guint) json_object_get_int_member_with_default (summary, "revisions", 0));
  ps_cli_print_file_counts (summary);
  g_print (_("(This summary is checked only when the file is imported.)\n"));
  return PS_CLI_EXIT_OK;
}

int
ps_cli_import (int    argc,
               char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(PsContext) ps_context = NULL;
  g_autoptr(PsImport) import = NULL;
  g_autoptr(PsExportState) state = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *passphrase_file = NULL;
  g_auto(PsSecret) passphrase = NULL;
  g_autoptr(PsServerAccess) access = NULL;
  gboolean summary_only = FALSE;
  PsServerStore *store;
  ImportRun run = { 0, };
  guint n_revisions;
  const GOptionEntry entries[] = {
    { "summary", 0, 0, G_OPTION_ARG_NONE, &summary_only,
      N_("Only show what the file says it holds; no passphrase is needed"), NULL },
    { "passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &passphrase_file,
      N_("Read the passphrase from the first line of FILE instead of asking"), N_("FILE") },
    { NULL }
  };

  context = ps_cli_option_context_new (_("FILE"),
                                       _("Brings the records of a file made by “export” into "
                                         "this instance. The whole file is checked first: a "
                                         "damaged or incomplete file is refused and nothing is "
                                         "written. Conflicts are then resolved the Primero way "
                                         "and kept in the journal."),
                                       entries);
  if (!ps_cli_parse_options (context, &argc, &argv))
    return PS_CLI_EXIT_USAGE;
  if (argc != 2)
    return ps_cli_usage_error (context, _("Name one file to import."));

  if (summary_only)
    return print_file_summary (argv[1]);

  ps_context = ps_context_new ();
  store = ps_context_get_server_store (ps_context);
  access = ps_cli_new_access (ps_server_store_get_local (store),
                              ps_context_get_session (ps_context), &error);
  if (access == NULL)
    {
      ps_cli_print_error (NULL, error);
      return PS_CLI_EXIT_FAILED;
    }

  passphrase = ps_cli_read_passphrase (passphrase_file, FALSE, &error);
  if (passphrase == NULL)
    {
      ps_cli_print_error (NULL, error);
      return PS_CLI_EXIT_USAGE;
    }

  import = ps_import_new (access);
  ps_import_set_journal (import, ps_context_get_journal (ps_context));
  state = ps_export_state_new_for_store (store);
  ps_import_set_state (import, state);
  g_signal_connect (import, "resolved", G_CALLBACK (on_resolved_cb), NULL);

  cancellable = ps_cli_cancel_on_interrupt ();
  ps_import_run_async (import, argv[1], passphrase, cancellable, on_import_done_cb, &run);
  ps_secrets_wipe (&passphrase);
  ps_cli_run_until_done (&run.done);

  if (ps_import_get_warning (import) != NULL)
    g_printerr (_("Warning: %s\n"), ps_import_get_warning (import));

  if (!run.ok)
    {
      if (ps_import_get_n_written (import) == 0)
        ps_cli_print_error (_("nothing was imported"), run.error);
      else
        ps_cli_print_error (_("the import stopped"), run.error);
      g_clear_error (&run.error);
      return PS_CLI_EXIT_FAILED;
    }

  n_revisions = ps_import_get_n_revisions (import);
  if (ps_import_get_n_written (import) == 0)
    {
      g_print (ngettext ("Nothing new: the %u revision in this file is already here\n",
                         "Nothing new: all %u revisions in this file are already here\n",
                         n_revisions), n_revisions);
      return PS_CLI_EXIT_OK;
    }

  g_print (_("Imported %u of %u revision(s); %u were already here\n"),
           ps_import_get_n_written (import), n_revisions, ps_import_get_n_present (import));
  g_print (_("%u record(s) resolved, %u not resolved\n"),
           ps_import_get_n_resolved (import), ps_import_get_n_unresolved (import));
  return ps_import_get_n_unresolved (import) == 0 ? PS_CLI_EXIT_OK : PS_CLI_EXIT_FAILED;
}

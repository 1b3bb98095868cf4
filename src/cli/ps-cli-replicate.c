/* ps-cli-replicate.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ps-cli-commands.h"
#include "ps-cli-common.h"
#include "ps-replication.h"
#include "ps-secrets.h"
#include "ps-url.h"

typedef struct
{
  PsReplication *replication;
  gboolean       done;
  gboolean       ok;
  GError        *error;
  gboolean       live;
} ReplicateRun;

static void
print_progress (ReplicateRun *run)
{
  PsReplication *replication = run->replication;
  gint64 pending = ps_replication_get_pending (replication);
  g_autofree char *pending_text = NULL;

  if (!run->live)
    return;

  pending_text = pending >= 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, pending) : g_strdup ("?");
  /* Back to the start of the line, which is cleared: the line is rewritten. */
  fputs ("\r\033[K", stderr);
  /* TRANSLATORS: a progress line, rewritten in place */
  fprintf (stderr, _("Read %llu · written %llu · failed %llu · pending %s"),
           (unsigned long long) ps_replication_get_docs_read (replication),
           (unsigned long long) ps_replication_get_docs_written (replication),
           (unsigned long long) ps_replication_get_doc_write_failures (replication),
           pending_text);
  fflush (stderr);
}

static void
on_replication_progress_cb (PsReplication *replication,
                            GParamSpec    *pspec,
                            ReplicateRun  *run)
{
  print_progress (run);
}

static void
on_replication_state_cb (PsReplication *replication,
                         GParamSpec    *pspec,
                         ReplicateRun  *run)
{
  if (run->live && ps_replication_get_state (replication) == PS_REPLICATION_STATE_RETRYING)
    fprintf (stderr, _("\r\033[K%s; retrying…\n"), ps_replication_get_last_error (replication));
}

static void
on_replication_done_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  ReplicateRun *run = user_data;

  run->ok = ps_replication_run_finish (PS_REPLICATION (object), result, &run->error);
  run->done = TRUE;
}

/* Other users of the computer can read a command's arguments while it runs. */
static void
warn_if_password_in_url (const char *url,
                         gboolean    is_source)
{
  g_autoptr(GUri) uri = ps_url_parse (url, NULL);

  if (uri == NULL || g_uri_get_password (uri) == NULL)
    return;

  if (is_source)
    g_printerr (_("Warning: the source URL holds a password, which other users of this "
                  "computer can read while the command runs. Give the user with "
                  "--source-user instead: the password is then asked for, or read from "
                  "standard input or --password-file.\n"));
  else
    g_printerr (_("Warning: the target URL holds a password, which other users of this "
                  "computer can read while the command runs. Give the user with "
                  "--target-user instead: the password is then asked for, or read from "
                  "standard input or --password-file.\n"));
}

static PsCouchDatabase *
open_database (SoupSession  *session,
               const char   *url,
               const char   *user,
               const char   *password_file,
               const char   *role,
               GError      **error)
{
  g_autoptr(PsCouchDatabase) database = ps_couch_database_new (session, url, error);

  if (database == NULL)
    return NULL;

  if (user != NULL)
    {
      g_autofree char *prompt = NULL;
      char *password;

      /* TRANSLATORS: the first %s is "source" or "target", the second a user name */
      prompt = g_strdup_printf (_("Password of %s user %s: "), role, user);
      password = ps_cli_read_password (prompt, password_file, error);
      if (password == NULL)
        return NULL;
      ps_couch_database_set_credentials (database, user, password);
      ps_secrets_wipe (&password);
    }

  return g_steal_pointer (&database);
}

static JsonNode *
build_report (ReplicateRun    *run,
              PsCouchDatabase *source,
              PsCouchDatabase *target)
{
  g_autoptr(JsonObject) stats = ps_replication_dup_stats (run->replication);
  g_autofree char *source_url = ps_couch_database_dup_display_url (source);
  g_autofree char *target_url = ps_couch_database_dup_display_url (target);
  GPtrArray *failures = ps_replication_get_write_failures (run->replication);
  JsonArray *failed = json_array_new ();

  json_object_set_boolean_member (stats, "ok", run->ok);
  json_object_set_string_member (stats, "source", source_url);
  json_object_set_string_member (stats, "target", target_url);
  if (run->error != NULL)
    json_object_set_string_member (stats, "error", run->error->message);

  for (guint i = 0; i < failures->len; i++)
    {
      PsWriteFailure *failure = g_ptr_array_index (failures, i);
      JsonObject *item = json_object_new ();

      json_object_set_string_member (item, "id", failure->id);
      if (failure->rev != NULL)
        json_object_set_string_member (item, "rev", failure->rev);
      json_object_set_string_member (item, "error", failure->error);
      if (failure->reason != NULL)
        json_object_set_string_member (item, "reason", failure->reason);
      json_array_add_object_element (failed, item);
    }
  json_object_set_array_member (stats, "failures", failed);

  return json_node_init_object (json_node_alloc (), stats);
}

static void
print_summary (ReplicateRun *run)
{
  PsReplication *replication = run->replication;
  GPtrArray *failures = ps_replication_get_write_failures (replication);

  if (run->live)
    fputs ("\r\033[K", stderr);
  if (!run->ok && ps_replication_get_missing_checked (replication) == 0)
    return;

  g_print (_("Documents read: %llu, written: %llu, refused by the target: %llu\n"),
           (unsigned long long) ps_replication_get_docs_read (replication),
           (unsigned long long) ps_replication_get_docs_written (replication),
           (unsigned long long) ps_replication_get_doc_write_failures (replication));
  for (guint i = 0; i < failures->len; i++)
    {
      PsWriteFailure *failure = g_ptr_array_index (failures, i);

      g_print (_("  refused: %s (%s: %s)\n"), failure->id, failure->error,
               failure->reason != NULL ? failure->reason : "");
    }
}

int
ps_cli_replicate (int    argc,
                  char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(PsCouchDatabase) source = NULL;
  g_autoptr(PsCouchDatabase) target = NULL;
  g_autoptr(PsReplication) replication = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *source_user = NULL;
  g_autofree char *target_user = NULL;
  g_autofree char *password_file = NULL;
  gboolean continuous = FALSE;
  gboolean create_target = FALSE;
  gboolean json = FALSE;
  int batch_size = 0;
  int max_document_mb = 0;
  int max_response_mb = 0;
  ReplicateRun run = { 0, };
  const GOptionEntry entries[] = {
    { "continuous", 0, 0, G_OPTION_ARG_NONE, &continuous,
      N_("Keep following the source’s changes until interrupted"), NULL },
    { "create-target", 0, 0, G_OPTION_ARG_NONE, &create_target,
      N_("Create the target database when it does not exist"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("Print the outcome as one JSON object"), NULL },
    { "source-user", 0, 0, G_OPTION_ARG_STRING, &source_user,
      N_("User name on the source; the password is asked for"), N_("NAME") },
    { "target-user", 0, 0, G_OPTION_ARG_STRING, &target_user,
      N_("User name on the target; the password is asked for"), N_("NAME") },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
      N_("Read the password from the first line of FILE instead of asking"), N_("FILE") },
    { "batch-size", 0, 0, G_OPTION_ARG_INT, &batch_size,
      N_("Changes per batch (default 250)"), N_("N") },
    { "max-document-size", 0, 0, G_OPTION_ARG_INT, &max_document_mb,
      N_("Leave out, and list, documents larger than this (default 16)"), N_("MB") },
    { "max-response-size", 0, 0, G_OPTION_ARG_INT, &max_response_mb,
      N_("Stop on a server answer larger than this (default 64)"), N_("MB") },
    { NULL }
  };

  context = ps_cli_option_context_new (_("SOURCE TARGET"),
                                       _("Replicates the database at the SOURCE URL to the TARGET URL "
                                         "with the CouchDB replication protocol.\n\n"
                                         "Give the users with --source-user and --target-user: "
                                         "the passwords are asked for without echo, or read from "
                                         "standard input or --password-file. A password in a URL "
                                         "works too, but other users of this computer can read "
                                         "it in the command's arguments. Passwords are never "
                                         "shown."),
                                       entries);
  if (!ps_cli_parse_options (context, &argc, &argv))
    return PS_CLI_EXIT_USAGE;
  if (argc != 3)
    return ps_cli_usage_error (context, _("Give exactly one SOURCE and one TARGET URL."));
  if (batch_size < 0)
    return ps_cli_usage_error (context, _("The batch size must be a positive number."));
  /* Sizes in MB, so that gsize never overflows: at most 1 TB. */
  if (max_document_mb < 0 || max_document_mb > 1024 * 1024 ||
      max_response_mb < 0 || max_response_mb > 1024 * 1024)
    return ps_cli_usage_error (context, _("A size limit must be a positive number of MB."));

  warn_if_password_in_url (argv[1], TRUE);
  warn_if_password_in_url (argv[2], FALSE);

  session = ps_couch_session_new ();
  source = open_database (session, argv[1], source_user, password_file, _("source"), &error);
  if (source == NULL)
    {
      ps_cli_print_error (_("source"), error);
      return PS_CLI_EXIT_USAGE;
    }
  target = open_database (session, argv[2], target_user, password_file, _("target"), &error);
  if (target == NULL)
    {
      ps_cli_print_error (_("target"), error);
      return PS_CLI_EXIT_USAGE;
    }

  replication = ps_replication_new (source, target);
  ps_replication_set_continuous (replication, continuous);
  ps_replication_set_create_target (replication, create_target);
  if (batch_size > 0)
    ps_replication_set_batch_size (replication, batch_size);
  if (max_document_mb > 0)
    ps_replication_set_max_document_size (replication, (gsize) max_document_mb * 1024 * 1024);
  if (max_response_mb > 0)
    {
      ps_couch_database_set_max_response_size (source, (gsize) max_response_mb * 1024 * 1024);
      ps_couch_database_set_max_response_size (target, (gsize) max_response_mb * 1024 * 1024);
    }

  run.replication = replication;
  run.live = !json && isatty (fileno (stderr));
  g_signal_connect (replication, "notify::docs-written", G_CALLBACK (on_replication_progress_cb), &run);
  g_signal_connect (replication, "notify::docs-read", G_CALLBACK (on_replication_progress_cb), &run);
  g_signal_connect (replication, "notify::state", G_CALLBACK (on_replication_state_cb), &run);

  cancellable = ps_cli_cancel_on_interrupt ();
  ps_replication_run_async (replication, cancellable, on_replication_done_cb, &run);
  ps_cli_run_until_done (&run.done);

  if (json)
    {
      g_autoptr(JsonNode) report = build_report (&run, source, target);

      ps_cli_print_json (report);
    }
  else
    print_summary (&run);

  if (!run.ok)
    {
      if (!json)
        ps_cli_print_error (NULL, run.error);
      g_clear_error (&run.error);
      return PS_CLI_EXIT_FAILED;
    }

  return PS_CLI_EXIT_OK;
}

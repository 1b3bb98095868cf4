/* ps-cli-diagnose.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-cli-diagnose"

#include "config.h"

#include <glib/gi18n.h>
#include <libsecret/secret.h>
#include <string.h>

#include "ps-cli-commands.h"
#include "ps-cli-common.h"
#include "ps-couch-database.h"
#include "ps-diagnostics.h"
#include "ps-secrets.h"
#include "ps-url.h"

static void
on_result_verdict_cb (PsDiagnosticResult *result,
                      GParamSpec         *pspec,
                      gpointer            user_data)
{
  PsDiagnosticVerdict verdict = ps_diagnostic_result_get_verdict (result);
  const char *advice = ps_diagnostic_result_get_advice (result);
  g_autoptr(GString) line = g_string_new (NULL);

  if (!ps_diagnostic_verdict_is_final (verdict))
    return;

  /* TRANSLATORS: a mark, a check's title, then what was found */
  g_string_append_printf (line, _("%s %s: %s"),
                          ps_diagnostic_verdict_get_mark (verdict),
                          ps_diagnostic_result_get_title (result),
                          ps_diagnostic_result_get_explanation (result));
  if (advice != NULL)
    {
      g_string_append (line, " → ");
      g_string_append (line, advice);
    }
  g_print ("%s\n", line->str);
}

static void
on_results_changed_cb (GListModel *model,
                       guint       position,
                       guint       removed,
                       guint       added,
                       gpointer    user_data)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(PsDiagnosticResult) result = g_list_model_get_item (model, i);

      g_signal_connect (result, "notify::verdict", G_CALLBACK (on_result_verdict_cb), NULL);
      on_result_verdict_cb (result, NULL, NULL);
    }
}

static PsDiagnostics *
diagnose_configured (PsServer    *server,
                     SoupSession *session)
{
  g_autoptr(PsServerAccess) access = NULL;
  g_autoptr(GError) error = NULL;

  access = ps_cli_new_access (server, session, &error);

  /* The checks still say what works without the password. */
  if (access == NULL)
    {
      g_printerr (_("Warning: the password could not be read from the keyring: %s\n"),
                  error->message);
      access = ps_server_access_new (server, session, NULL);
    }

  return ps_diagnostics_new_for_access (access);
}

static gboolean
looks_like_address (const char *text)
{
  return strstr (text, "://") != NULL || strchr (text, '.') != NULL ||
         strchr (text, ':') != NULL || strchr (text, '/') != NULL;
}

int
ps_cli_diagnose (int    argc,
                 char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(PsServerStore) store = NULL;
  g_autoptr(PsServer) server = NULL;
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(PsDiagnostics) diagnostics = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(PsSecret) password = NULL;
  g_autofree char *username = NULL;
  g_autofree char *fingerprint = NULL;
  g_auto(GStrv) databases = NULL;
  gboolean password_stdin = FALSE;
  gboolean continuous = FALSE;
  gboolean json = FALSE;
  int timeout = PS_DIAGNOSTICS_DEFAULT_STEP_TIMEOUT_MS / 1000;
  g_autoptr(GAsyncResult) waited = NULL;
  const char *target;
  gboolean ok;
  const GOptionEntry entries[] = {
    { "username", 'u', 0, G_OPTION_ARG_STRING, &username,
      N_("The CouchDB user to log in as (for a configured server: instead of its own)"),
      N_("NAME") },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin,
      N_("Read the password from standard input (otherwise it is asked for at a terminal)"),
      NULL },
    { "database", 'd', 0, G_OPTION_ARG_STRING_ARRAY, &databases,
      N_("A record database to check, for an address (repeat for more; default: Primero’s "
         "three)"), N_("NAME") },
    { "fingerprint", 0, 0, G_OPTION_ARG_STRING, &fingerprint,
      N_("The SHA-256 fingerprint of a certificate you trust, for an address"), N_("HEX") },
    { "continuous", 0, 0, G_OPTION_ARG_NONE, &continuous,
      N_("Advise as for a server that syncs continuously, for an address"), NULL },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout,
      N_("How long each network step may take (default: 10)"), N_("SECONDS") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("Print the report as JSON, for scripts"), NULL },
    { NULL }
  };

  context = ps_cli_option_context_new (_("ID|URL"),
                                       _("Checks, layer by layer, why a server can or cannot be "
                                         "synced: address, name, connection, certificate, "
                                         "CouchDB, login, databases, clock and speed.\n\n"
                                         "For a configured server the password comes from the "
                                         "keyring; for an address it is asked for (or read "
                                         "from standard input with --password-stdin). The "
                                         "exit status is 0 when no check failed.\n\n"
                                         "Examples:\n"
                                         "  primero-sync-cli diagnose \"Field office\"\n"
                                         "  primero-sync-cli diagnose https://example.org:6984 "
                                         "--username admin"),
                                       entries);
  if (!ps_cli_parse_options (context, &argc, &argv))
    return PS_CLI_EXIT_USAGE;

  if (argc != 2)
    return ps_cli_usage_error (context, _("Name one configured server (its id or description) "
                                          "or one address."));
  if (timeout <= 0)
    return ps_cli_usage_error (context, _("The timeout is a number of seconds above zero."));
  if (password_stdin && username == NULL)
    return ps_cli_usage_error (context, _("--password-stdin needs --username."));

  target = argv[1];

  if (strstr (target, "://") == NULL)
    {
      store = ps_cli_load_server_store ();
      if (store == NULL)
        return PS_CLI_EXIT_FAILED;

      server = ps_server_store_find (store, target, &error);
      if (server != NULL)
        g_object_ref (server);
      else if (!looks_like_address (target))
        {
          ps_cli_print_error (NULL, error);
          return PS_CLI_EXIT_FAILED;
        }
      g_clear_error (&error);
    }

  if (server != NULL && (databases != NULL || fingerprint != NULL || continuous))
    return ps_cli_usage_error (context, _("--database, --fingerprint and --continuous are for "
                                          "an address; a configured server has its own."));

  if (username != NULL)
    {
      g_autofree char *prompt = g_strdup_printf (_("Password of %s: "), username);

      password = ps_cli_read_password (prompt, NULL, &error);
      if (password == NULL)
        {
          ps_cli_print_error (NULL, error);
          return PS_CLI_EXIT_FAILED;
        }
    }

  session = ps_couch_session_new ();

  if (server != NULL)
    {
      if (username != NULL)
        {
          g_auto(GStrv) names = ps_server_dup_database_names (server);

          diagnostics = ps_diagnostics_new (session, ps_server_get_url (server), username,
                                            password, ps_server_get_pinned_fingerprint (server),
                                            (const char * const *) names,
                                            ps_server_get_continuous (server));
        }
      else
        diagnostics = diagnose_configured (server, session);
    }
  else
    {
      if (databases == NULL)
        {
          /* The defaults of a new server: Primero's record databases. */
          g_autoptr(PsServer) defaults = ps_server_new ("", NULL);

          databases = ps_server_dup_database_names (defaults);
        }

      diagnostics = ps_diagnostics_new (session, target, username, password, fingerprint,
                                        (const char * const *) databases, continuous);
    }

  /* The diagnostics keep their own copy; this one goes now. */
  g_clear_pointer (&password, secret_password_free);

  ps_diagnostics_set_step_timeout (diagnostics, (guint) timeout * 1000);

  if (!json)
    {
      g_autofree char *shown = ps_url_redact (ps_diagnostics_get_url (diagnostics));

      if (ps_diagnostics_get_username (diagnostics) != NULL)
        g_print (_("Checking %s as %s…\n"), shown, ps_diagnostics_get_username (diagnostics));
      else
        g_print (_("Checking %s…\n"), shown);
      g_signal_connect (ps_diagnostics_get_results (diagnostics), "items-changed",
                        G_CALLBACK (on_results_changed_cb), NULL);
    }

  cancellable = ps_cli_cancel_on_interrupt ();
  ps_diagnostics_run_async (diagnostics, cancellable, ps_cli_wait_cb, &waited);
  ok = ps_diagnostics_run_finish (diagnostics, ps_cli_wait (&waited), &error);

  if (json)
    {
      g_autoptr(JsonNode) report = ps_diagnostics_to_json (diagnostics);

      ps_cli_print_json (report);
    }

  if (!ok)
    {
      ps_cli_print_error (NULL, error);
      return PS_CLI_EXIT_FAILED;
    }

  return ps_diagnostics_get_verdict (diagnostics) == PS_DIAGNOSTIC_FAIL ? PS_CLI_EXIT_FAILED
                                                                          : PS_CLI_EXIT_OK;
}

/* ps-cli-resolve.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "ps-cli-commands.h"
#include "ps-cli-common.h"
#include "ps-resolver.h"
#include "ps-secrets.h"

typedef struct
{
  gboolean   done;
  gboolean   ok;
  GError    *error;
  gboolean   json;
  guint      n_printed;
} ResolveRun;

static char *
value_to_text (JsonNode    *value,
               PsJsonTexts *texts)
{
  GString *text;

  if (value == NULL || JSON_NODE_HOLDS_NULL (value))
    return g_strdup (_("(empty)"));
  if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
    return g_strdup_printf ("“%s”", json_node_get_string (value));

  /* As the leaf had it: json-glib alone rounds numbers. */
  text = g_string_new (NULL);
  ps_json_write_edited (text, value, texts);
  return g_string_free (text, FALSE);
}

static char *
source_to_text (JsonObject *source)
{
  return g_strdup_printf (_("%s of %s, %s"),
                          json_object_get_string_member_with_default (source, "user", "?"),
                          json_object_get_string_member_with_default (source, "organisation", "?"),
                          json_object_get_string_member_with_default (source, "time", "?"));
}

static void
print_resolution (JsonObject  *report,
                  PsJsonTexts *texts)
{
  JsonArray *decisions = json_object_get_array_member (report, "decisions");
  const char *display_id = json_object_get_string_member_with_default (report, "display_id", NULL);

  g_print (_("%s %s: merged, %u contested field(s)\n"),
           json_object_get_string_member_with_default (report, "record_type", _("Record")),
           display_id != NULL ? display_id : json_object_get_string_member (report, "id"),
           decisions != NULL ? json_array_get_length (decisions) : 0);

  for (guint i = 0; decisions != NULL && i < json_array_get_length (decisions); i++)
    {
      JsonObject *decision = json_array_get_object_element (decisions, i);
      JsonObject *kept = json_object_get_object_member (decision, "kept");
      g_autofree char *value = NULL;
      g_autofree char *source = NULL;

      if (kept == NULL)
        continue;
      value = value_to_text (json_object_get_member (kept, "value"), texts);
      source = source_to_text (kept);
      /* TRANSLATORS: "  field: kept “value” (user of organisation, time)" */
      g_print (_("  %s: kept %s (%s)\n"),
               json_object_get_string_member_with_default (decision, "path", "?"), value, source);
    }
}

static void
on_resolved_cb (PsResolver  *resolver,
                JsonObject  *report,
                PsJsonTexts *texts,
                ResolveRun  *run)
{
  /* Printed as they come, not kept: a large database would fill memory. */
  if (run->json)
    {
      g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), report);
      g_autoptr(GString) text = g_string_new (NULL);

      /* With the values' texts: json-glib alone rounds their numbers. */
      ps_json_write_edited (text, node, texts);
      g_print ("%s\n    %s", run->n_printed++ == 0 ? "" : ",", text->str);
    }
  else
    print_resolution (report, texts);
}

static void
on_resolve_done_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  ResolveRun *run = user_data;

  run->ok = ps_resolver_resolve_finish (PS_RESOLVER (object), result, &run->error);
  run->done = TRUE;
}

int
ps_cli_resolve (int    argc,
                char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(PsCouchDatabase) database = NULL;
  g_autoptr(PsResolver) resolver = NULL;
  g_autoptr(PsJournal) journal = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *user = NULL;
  g_autofree char *password_file = NULL;
  gboolean json = FALSE;
  ResolveRun run = { 0, };
  GPtrArray *failures;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("Print every resolution as JSON"), NULL },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user,
      N_("User name on the server; the password is asked for"), N_("NAME") },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
      N_("Read the password from the first line of FILE instead of asking"), N_("FILE") },
    { NULL }
  };

  context = ps_cli_option_context_new (_("DATABASE-URL"),
                                       _("Resolves every conflicted record of a database the Primero "
                                         "way: edits to different fields are merged; where the same "
                                         "field was edited in several places, the most recent change "
                                         "wins. Each resolution is printed and kept in the journal."),
                                       entries);
  if (!ps_cli_parse_options (context, &argc, &argv))
    return PS_CLI_EXIT_USAGE;
  if (argc != 2)
    return ps_cli_usage_error (context, _("Give exactly one database URL."));

  session = ps_couch_session_new ();
  database = ps_couch_database_new (session, argv[1], &error);
  if (database == NULL)
    {
      ps_cli_print_error (NULL, error);
      return PS_CLI_EXIT_USAGE;
    }
  if (user != NULL)
    {
      g_autofree char *prompt = g_strdup_printf (_("Password of %s: "), user);
      char *password = ps_cli_read_password (prompt, password_file, &error);

      if (password == NULL)
        {
          ps_cli_print_error (NULL, error);
          return PS_CLI_EXIT_USAGE;
        }
      ps_couch_database_set_credentials (database, user, password);
      ps_secrets_wipe (&password);
    }

  journal = ps_journal_new ();
  resolver = ps_resolver_new (database);
  ps_resolver_set_journal (resolver, journal, NULL);
  run.json = json;
  if (json)
    g_print ("{\n  \"resolutions\" : [");
  g_signal_connect (resolver, "resolved", G_CALLBACK (on_resolved_cb), &run);

  cancellable = ps_cli_cancel_on_interrupt ();
  ps_resolver_resolve_async (resolver, NULL, cancellable, on_resolve_done_cb, &run);
  ps_cli_run_until_done (&run.done);

  failures = ps_resolver_get_failures (resolver);
  if (json)
    {
      g_autoptr(JsonObject) summary = json_object_new ();
      g_autoptr(JsonNode) node = NULL;
      JsonArray *failed = json_array_new ();

      for (guint i = 0; i < failures->len; i++)
        json_array_add_string_element (failed, g_ptr_array_index (failures, i));
      json_object_set_boolean_member (summary, "ok", run.ok && failures->len == 0);
      json_object_set_int_member (summary, "resolved", ps_resolver_get_n_resolved (resolver));
      json_object_set_int_member (summary, "failed", ps_resolver_get_n_failed (resolver));
      json_object_set_array_member (summary, "failures", failed);
      if (run.error != NULL)
        json_object_set_string_member (summary, "error", run.error->message);
      node = json_node_init_object (json_node_alloc (), summary);
      /* The rest of the object the resolutions began. */
      {
        g_autoptr(JsonGenerator) generator = json_generator_new ();
        g_autofree char *text = NULL;

        json_generator_set_root (generator, node);
        json_generator_set_pretty (generator, TRUE);
        text = json_generator_to_data (generator, NULL);
        g_print ("%s],\n%s\n", run.n_printed > 0 ? "\n  " : "", text + 2);
      }
    }
  else
    {
      for (guint i = 0; i < failures->len; i++)
        g_print (_("Not resolved: %s\n"), (const char *) g_ptr_array_index (failures, i));
      g_print (_("%u record(s) resolved, %u not resolved\n"),
               ps_resolver_get_n_resolved (resolver), ps_resolver_get_n_failed (resolver));
    }

  if (!run.ok)
    {
      if (!json)
        ps_cli_print_error (NULL, run.error);
      g_clear_error (&run.error);
      return PS_CLI_EXIT_FAILED;
    }

  return failures->len == 0 ? PS_CLI_EXIT_OK : PS_CLI_EXIT_FAILED;
}

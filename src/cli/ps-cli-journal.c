/* ps-cli-journal.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-cli-journal"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-cli-commands.h"
#include "ps-cli-common.h"
#include "ps-journal.h"
#include "ps-json.h"
#include "ps-server-store.h"

static const char *
or_dash (const char *text)
{
  return text != NULL && *text != '\0' ? text : "-";
}

static char *
format_time (const char *iso8601)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;

  if (iso8601 == NULL)
    return g_strdup ("-");

  utc = g_date_time_new_from_iso8601 (iso8601, NULL);
  if (utc == NULL)
    return g_strdup (iso8601);

  local = g_date_time_to_local (utc);
  return g_date_time_format (local, "%Y-%m-%d %H:%M:%S");
}

/* A resolution names its record as Primero's users know it: the display id
 * in the record column, the name and what was contested as its summary.
 */
static char *
summarize_resolution (JsonObject  *entry,
                      const char **record)
{
  JsonNode *node = json_object_get_member (entry, "resolution");
  JsonObject *report;
  JsonArray *decisions;
  const char *display_id;
  const char *name;
  guint n_fields = 0;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  report = json_node_get_object (node);

  display_id = ps_json_get_string (report, "display_id");
  if (display_id != NULL && *display_id != '\0')
    *record = display_id;

  decisions = json_object_has_member (report, "decisions") &&
              JSON_NODE_HOLDS_ARRAY (json_object_get_member (report, "decisions"))
                ? json_object_get_array_member (report, "decisions") : NULL;
  if (decisions != NULL)
    n_fields = json_array_get_length (decisions);

  name = ps_json_get_string (report, "name");
  if (name != NULL && *name != '\0')
    /* Translators: a record's name, then how many of its fields were edited on both sides */
    return g_strdup_printf (ngettext ("%s, %u contested field",
                                      "%s, %u contested fields", n_fields),
                            name, n_fields);

  return g_strdup_printf (ngettext ("%u contested field", "%u contested fields", n_fields),
                          n_fields);
}

static void
print_entry (JsonObject *entry)
{
  g_autofree char *time = format_time (ps_json_get_string (entry, "time"));
  g_autofree char *resolution = NULL;
  const char *record = ps_json_get_string (entry, "record");
  const char *summary = ps_json_get_string (entry, "summary");

  if (summary == NULL && g_strcmp0 (ps_json_get_string (entry, "kind"), "resolution") == 0)
    summary = resolution = summarize_resolution (entry, &record);
  if (summary == NULL)
    summary = ps_json_get_string (entry, "message");
  if (summary == NULL)
    summary = ps_json_get_string (entry, "error");

  g_print ("%s  %-12s %-28s %-34s %s\n",
           time,
           or_dash (ps_json_get_string (entry, "kind")),
           or_dash (ps_json_get_string (entry, "database")),
           or_dash (record),
           summary != NULL ? summary : "");
}

int
ps_cli_journal (int    argc,
                char **argv)
{
  g_autofree char *record = NULL;
  g_autofree char *server = NULL;
  g_autofree char *database = NULL;
  g_autofree char *kind = NULL;
  int limit = 0;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "record", 'r', 0, G_OPTION_ARG_STRING, &record,
      N_("Only entries about this record id"), N_("ID") },
    { "server", 's', 0, G_OPTION_ARG_STRING, &server,
      N_("Only entries about this server, by id or description"), N_("ID") },
    { "database", 'd', 0, G_OPTION_ARG_STRING, &database,
      N_("Only entries about this database"), N_("DB") },
    { "kind", 'k', 0, G_OPTION_ARG_STRING, &kind,
      N_("Only entries of this kind: sync, replication, resolution, failure…"), N_("KIND") },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit,
      N_("At most this many entries"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("Print the entries as a JSON array"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(PsJournal) journal = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(PsJsonTexts) texts = NULL;
  g_autoptr(GError) error = NULL;
  PsJournalFilter filter = { NULL, };

  context = ps_cli_option_context_new (NULL,
                                       _("Prints the journal of syncs, failures and conflict "
                                         "resolutions, newest first: time, kind, database, "
                                         "record and a summary."),
                                       entries);
  if (!ps_cli_parse_options (context, &argc, &argv))
    return PS_CLI_EXIT_USAGE;
  if (argc > 1)
    return ps_cli_usage_error (context, _("Unexpected argument."));
  if (limit < 0)
    return ps_cli_usage_error (context, _("The limit cannot be negative."));

  /* A server may be named as the user knows it; entries keep its id. */
  if (server != NULL)
    {
      g_autoptr(PsServerStore) store = ps_server_store_new ();
      PsServer *found_server;

      if (ps_server_store_load (store, NULL) &&
          (found_server = ps_server_store_lookup (store, server)) != NULL)
        {
          g_free (server);
          server = g_strdup (ps_server_get_id (found_server));
        }
    }

  filter.server = server;
  filter.database = database;
  filter.record = record;
  filter.kind = kind;
  filter.max_entries = limit;

  journal = ps_journal_new ();
  found = ps_journal_read_with_texts (journal, &filter, &texts, &error);
  if (found == NULL)
    {
      ps_cli_print_error (NULL, error);
      return PS_CLI_EXIT_FAILED;
    }

  if (json)
    {
      g_autoptr(JsonArray) array = json_array_new ();
      g_autoptr(JsonNode) node = NULL;

      for (guint i = 0; i < found->len; i++)
        json_array_add_object_element (array, json_object_ref (g_ptr_array_index (found, i)));
      node = json_node_init_array (json_node_alloc (), array);
      ps_cli_print_json_with_texts (node, texts);
      return PS_CLI_EXIT_OK;
    }

  if (found->len == 0)
    {
      g_printerr (_("The journal has no matching entries.\n"));
      return PS_CLI_EXIT_OK;
    }

  for (guint i = 0; i < found->len; i++)
    print_entry (g_ptr_array_index (found, i));

  return PS_CLI_EXIT_OK;
}

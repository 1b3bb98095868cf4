/* ps-cli-merge.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-cli-merge"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-cli-commands.h"
#include "ps-cli-common.h"
#include "ps-merge.h"

static gboolean
is_deleted (JsonObject *object)
{
  JsonNode *deleted = json_object_get_member (object, "_deleted");

  return deleted != NULL && JSON_NODE_HOLDS_VALUE (deleted) &&
         json_node_get_value_type (deleted) == G_TYPE_BOOLEAN &&
         json_node_get_boolean (deleted);
}

/* A file holds one leaf, or the array `GET /db/{id}?open_revs=all` returns,
 * whose live `{"ok": leaf}` entries are taken and the rest skipped.
 */
static gboolean
read_leaves (const char  *path,
             GPtrArray   *leaves,
             GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonArray *array;

  if (!json_parser_load_from_file (parser, path, error))
    return FALSE;

  root = json_parser_get_root (parser);
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    {
      g_ptr_array_add (leaves, json_node_copy (root));
      return TRUE;
    }

  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("Expected a JSON object (one leaf) or an array of leaves"));
      return FALSE;
    }

  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      JsonObject *object;
      JsonNode *ok;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("Element %u of the array is not a JSON object"), i + 1);
          return FALSE;
        }
      object = json_node_get_object (element);
      if (json_object_has_member (object, "missing"))
        continue;

      ok = json_object_get_member (object, "ok");
      if (ok != NULL && JSON_NODE_HOLDS_OBJECT (ok))
        element = ok;
      if (is_deleted (json_node_get_object (element)))
        continue;

      g_ptr_array_add (leaves, json_node_copy (element));
    }

  return TRUE;
}

int
ps_cli_merge (int    argc,
              char **argv)
{
  gboolean report = FALSE;
  const GOptionEntry entries[] = {
    { "report", 'r', 0, G_OPTION_ARG_NONE, &report,
      N_("Print the decisions taken, as JSON, instead of the merged document"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GPtrArray) leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(PsMergeResult) result = NULL;
  g_autoptr(GError) error = NULL;

  context = ps_cli_option_context_new (_("LEAF.json LEAF.json [LEAF.json…]"),
                                       _("Merges the conflicting leaves of one record the "
                                         "Primero way and prints the merged document, with "
                                         "“_rev” set to the winning leaf it is meant to be "
                                         "written as a child of.\n\n"
                                         "Each file holds one leaf as CouchDB returns it with "
                                         "“revs=true”, or the array “open_revs=all” returns.\n\n"
                                         "Exit status: 0 on success, 1 when a file cannot be "
                                         "read or the leaves cannot be merged, 2 on usage "
                                         "errors."),
                                       entries);
  if (!ps_cli_parse_options (context, &argc, &argv))
    return PS_CLI_EXIT_USAGE;
  if (argc < 2)
    return ps_cli_usage_error (context, _("Name the files holding the leaves to merge."));

  for (int i = 1; i < argc; i++)
    {
      if (!read_leaves (argv[i], leaves, &error))
        {
          ps_cli_print_error (argv[i], error);
          return PS_CLI_EXIT_FAILED;
        }
    }

  result = ps_merge_leaves ((JsonNode * const *) leaves->pdata, leaves->len, &error);
  if (result == NULL)
    {
      ps_cli_print_error (NULL, error);
      return PS_CLI_EXIT_FAILED;
    }

  if (report)
    ps_cli_print_json (ps_merge_result_get_report (result));
  else
    ps_cli_print_json (ps_merge_result_get_body (result));

  return PS_CLI_EXIT_OK;
}

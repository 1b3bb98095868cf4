/* ps-cli-merge.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-cli-merge"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-cli-commands.h"
#include "ps-body-reader.h"
#include "ps-cli-common.h"
#include "ps-json.h"
#include "ps-merge.h"

static gboolean
is_deleted (JsonObject *object)
{
  JsonNode *deleted = json_object_get_member (object, "_deleted");

  return deleted != NULL && JSON_NODE_HOLDS_VALUE (deleted) &&
         json_node_get_value_type (deleted) == G_TYPE_BOOLEAN &&
         json_node_get_boolean (deleted);
}

/* Leaves come from anywhere; a file this large is not a record's. */
#define MAX_FILE_SIZE (64 * 1024 * 1024)

typedef struct
{
  GBytes   *bytes;
  GError   *error;
  gboolean  done;
} FileRead;

static void
on_file_read_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  FileRead *read = user_data;

  read->bytes = ps_body_reader_read_finish (result, &read->error);
  read->done = TRUE;
}

/* The size-capped reader the replication reads answers with. */
static GBytes *
read_file (const char  *path,
           GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_commandline_arg (path);
  g_autoptr(GFileInputStream) stream = NULL;
  FileRead read = { 0 };

  stream = g_file_read (file, NULL, error);
  if (stream == NULL)
    return NULL;

  ps_body_reader_read_async (G_INPUT_STREAM (stream), MAX_FILE_SIZE, NULL, NULL,
                             on_file_read_cb, &read);
  ps_cli_run_until_done (&read.done);

  if (g_error_matches (read.error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE))
    {
      g_autofree char *limit = g_format_size (MAX_FILE_SIZE);

      g_clear_error (&read.error);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   _("The file is larger than %s; it cannot hold the leaves of one record."),
                   limit);
      return NULL;
    }
  if (read.error != NULL)
    g_propagate_error (error, read.error);
  return read.bytes;
}

/* A file holds one leaf, or the array `GET /db/{id}?open_revs=all` returns,
 * whose live `{"ok": leaf}` entries are taken and the rest skipped. Each
 * leaf's text is kept, so that the merge writes what it keeps unchanged.
 */
static gboolean
read_leaves (const char   *path,
             PsJsonTexts  *texts,
             GPtrArray    *leaves,
             GError      **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonArray *array;

  bytes = read_file (path, error);
  if (bytes == NULL)
    return FALSE;

  root = ps_json_texts_parse (texts, bytes, PS_JSON_MAX_DEPTH, error);
  if (root == NULL)
    return FALSE;

  if (JSON_NODE_HOLDS_OBJECT (root))
    {
      g_ptr_array_add (leaves, g_steal_pointer (&root));
      return TRUE;
    }

  if (!JSON_NODE_HOLDS_ARRAY (root))
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

      /* A reference, not a copy: @texts knows these very nodes. */
      g_ptr_array_add (leaves, json_node_ref (element));
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
  g_autoptr(PsJsonTexts) texts = ps_json_texts_new ();
  g_autoptr(PsMergeResult) result = NULL;
  g_autoptr(GString) body = NULL;
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
      if (!read_leaves (argv[i], texts, leaves, &error))
        {
          ps_cli_print_error (argv[i], error);
          return PS_CLI_EXIT_FAILED;
        }
    }

  result = ps_merge_leaves_with_texts ((JsonNode * const *) leaves->pdata, leaves->len, texts,
                                       &error);
  if (result == NULL)
    {
      ps_cli_print_error (NULL, error);
      return PS_CLI_EXIT_FAILED;
    }

  if (report)
    ps_cli_print_json_with_texts (ps_merge_result_get_report (result),
                                  ps_merge_result_get_report_texts (result));
  else
    {
      /* Not through json-glib, which would rewrite the values kept. */
      body = g_string_new (NULL);
      ps_merge_result_write_body (result, NULL, body);
      g_print ("%s\n", body->str);
    }

  return PS_CLI_EXIT_OK;
}

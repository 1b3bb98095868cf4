/* fuzz-checkpoint.c: choosing where a replication resumes from the logs
 * read on both ends.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is JSON: `[source_log, target_log]`; either may be anything.
 */

#include "config.h"

#include <json-glib/json-glib.h>

#include "fuzz-common.h"
#include "ps-checkpoint.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  ps_fuzz_make_warnings_fatal ();
  return 0;
}

static JsonObject *
object_element (JsonArray *array,
                guint      index)
{
  JsonNode *node;

  if (index >= json_array_get_length (array))
    return NULL;
  node = json_array_get_element (array, index);
  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(JsonNode) start = NULL;
  g_autoptr(JsonNode) null_seq = json_node_new (JSON_NODE_NULL);
  g_autoptr(JsonObject) updated = NULL;
  g_autofree char *query = NULL;
  JsonNode *root;
  JsonObject *source_log;
  JsonObject *target_log;

  if (!json_parser_load_from_data (parser, (const char *) data, size, NULL))
    return 0;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    return 0;

  source_log = object_element (json_node_get_array (root), 0);
  target_log = object_element (json_node_get_array (root), 1);

  start = ps_checkpoint_find_start_seq (source_log, target_log);
  query = ps_checkpoint_seq_to_query (start);
  g_assert (query != NULL);

  /* The next log extends what was read, whatever it held. */
  updated = ps_checkpoint_update_log (source_log, "fuzz-session", "2024-06-11T10:00:00Z", start,
                                      start != NULL ? start : null_seq, NULL);
  g_assert (json_object_has_member (updated, "history"));
  g_assert (json_array_get_length (json_object_get_array_member (updated, "history")) <=
            PS_CHECKPOINT_HISTORY_LENGTH);

  return 0;
}

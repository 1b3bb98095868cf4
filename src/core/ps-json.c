/* ps-json.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-json"

#include "config.h"

#include "ps-json.h"

const char *
ps_json_get_string (JsonObject *object,
                    const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

JsonArray *
ps_json_get_array (JsonObject *object,
                   const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

JsonObject *
ps_json_get_object (JsonObject *object,
                    const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

JsonObject *
ps_json_get_object_element (JsonArray *array,
                            guint      index)
{
  JsonNode *node;

  if (array == NULL || index >= json_array_get_length (array))
    return NULL;
  node = json_array_get_element (array, index);

  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

const char *
ps_json_get_string_element (JsonArray *array,
                            guint      index)
{
  JsonNode *node;

  if (array == NULL || index >= json_array_get_length (array))
    return NULL;
  node = json_array_get_element (array, index);

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/**
 * ps_json_parse_object:
 * @data: JSON text
 * @length: its length
 *
 * Returns: (transfer full) (nullable): the object @data holds, or %NULL when
 *   it is not a JSON object
 */
JsonObject *
ps_json_parse_object (const char *data,
                      gsize       length)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;

  if (!json_parser_load_from_data (parser, data, length, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

/**
 * ps_json_depth_within:
 * @data: JSON text, valid or not
 * @len: its length
 * @max_depth: the deepest nesting of arrays and objects allowed
 *
 * A linear pass that counts brackets outside strings, to be run before
 * json-glib, whose parser recurses once per level.
 *
 * Returns: %FALSE when @data nests deeper than @max_depth
 */
gboolean
ps_json_depth_within (const char *data,
                      gsize       len,
                      guint       max_depth)
{
  gboolean in_string = FALSE;
  guint depth = 0;

  for (gsize i = 0; i < len; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }

      if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > max_depth)
            return FALSE;
        }
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }

  return TRUE;
}

/**
 * ps_json_parse_untrusted_object:
 * @data: JSON text from outside: another server, a sync file
 * @length: its length
 * @max_size: the longest text accepted
 *
 * ps_json_parse_object() behind the limits replication puts on answers: a
 * size cap, then the depth check, so that json-glib never recurses deeper
 * than %PS_JSON_MAX_DEPTH whatever the text holds.
 *
 * Returns: (transfer full) (nullable): the object, or %NULL when @data is
 *   too large, nested too deep or not a JSON object
 */
JsonObject *
ps_json_parse_untrusted_object (const char *data,
                                gsize       length,
                                gsize       max_size)
{
  if (data == NULL || length > max_size ||
      !ps_json_depth_within (data, length, PS_JSON_MAX_DEPTH))
    return NULL;
  return ps_json_parse_object (data, length);
}

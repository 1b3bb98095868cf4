/* ps-json.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-json"

#include "config.h"

#include <glib/gi18n.h>

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

/* An integer member; @fallback when it is missing or of another type. */
gint64
ps_json_get_int (JsonObject *object,
                 const char *member,
                 gint64      fallback)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return fallback;

  return json_node_get_int (node);
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

G_DEFINE_QUARK (ps-json-error-quark, ps_json_error)

/**
 * ps_json_parse_untrusted:
 * @data: JSON text from outside: a server's answer, a file
 * @len: its length
 * @max_size: the most bytes accepted
 * @max_depth: the deepest nesting of arrays and objects accepted
 * @error: return location for a #PsJsonError
 *
 * The one way into json-glib for bytes this program did not write. Its
 * parser recurses once per level with no limit of its own, so nesting is
 * counted first, in a linear pass: 400,000 `[` would overflow the stack.
 *
 * Returns: (transfer full) (nullable): the root of @data
 */
JsonNode *
ps_json_parse_untrusted (const char  *data,
                         gsize        len,
                         gsize        max_size,
                         guint        max_depth,
                         GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autofree char *limit = NULL;

  if (len > max_size)
    {
      limit = g_format_size_full (max_size, G_FORMAT_SIZE_IEC_UNITS);
      g_set_error (error, PS_JSON_ERROR, PS_JSON_ERROR_TOO_LARGE,
                   _("The JSON text is larger than %s."), limit);
      return NULL;
    }

  if (!ps_json_depth_within (data, len, max_depth))
    {
      g_set_error (error, PS_JSON_ERROR, PS_JSON_ERROR_TOO_DEEP,
                   _("The JSON text is nested deeper than %u levels."), max_depth);
      return NULL;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data != NULL ? data : "", len, NULL) ||
      json_parser_get_root (parser) == NULL)
    {
      g_set_error_literal (error, PS_JSON_ERROR, PS_JSON_ERROR_INVALID,
                           _("The text is not valid JSON."));
      return NULL;
    }

  return json_node_ref (json_parser_get_root (parser));
}

/**
 * ps_json_parse_untrusted_object:
 * @bytes: (nullable): JSON text from outside
 * @max_size: the most bytes accepted
 * @error: return location for a #PsJsonError
 *
 * ps_json_parse_untrusted() for the usual case, an object nested no deeper
 * than %PS_JSON_MAX_DEPTH.
 *
 * Returns: (transfer full) (nullable): the object @bytes holds
 */
JsonObject *
ps_json_parse_untrusted_object (GBytes  *bytes,
                                gsize    max_size,
                                GError **error)
{
  g_autoptr(JsonNode) root = NULL;
  const char *data = NULL;
  gsize len = 0;

  if (bytes != NULL)
    data = g_bytes_get_data (bytes, &len);

  root = ps_json_parse_untrusted (data, len, max_size, PS_JSON_MAX_DEPTH, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, PS_JSON_ERROR, PS_JSON_ERROR_INVALID,
                           _("The JSON text is not an object."));
      return NULL;
    }

  return json_object_ref (json_node_get_object (root));
}

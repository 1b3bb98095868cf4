/* ps-json.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-json"

#include "config.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <math.h>
#include <string.h>

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

/* Texts of parsed values */

typedef struct
{
  const char *text;
  gsize       len;
} Slice;

struct _PsJsonTexts
{
  gatomicrefcount  ref_count;
  GPtrArray       *keep;    /* GBytes and PsJsonTexts the slices point into */
  GArray          *slices;  /* Slice */
  GHashTable      *nodes;   /* JsonNode (a ref) → index + 1 in slices */
};

/**
 * ps_json_texts_new:
 *
 * Returns: (transfer full): an empty table of texts
 */
PsJsonTexts *
ps_json_texts_new (void)
{
  PsJsonTexts *texts = g_new0 (PsJsonTexts, 1);

  g_atomic_ref_count_init (&texts->ref_count);
  texts->keep = g_ptr_array_new ();
  texts->slices = g_array_new (FALSE, FALSE, sizeof (Slice));
  /* Held, so that no node freed meanwhile lends its address, and with it
   * its text, to a new one.
   */
  texts->nodes = g_hash_table_new_full (NULL, NULL, (GDestroyNotify) json_node_unref, NULL);
  return texts;
}

PsJsonTexts *
ps_json_texts_ref (PsJsonTexts *texts)
{
  g_return_val_if_fail (texts != NULL, NULL);

  g_atomic_ref_count_inc (&texts->ref_count);
  return texts;
}

void
ps_json_texts_unref (PsJsonTexts *texts)
{
  if (texts == NULL || !g_atomic_ref_count_dec (&texts->ref_count))
    return;

  /* Bytes and tables were added to @keep tagged by their low bit. */
  for (guint i = 0; i < texts->keep->len; i++)
    {
      guintptr kept = (guintptr) g_ptr_array_index (texts->keep, i);

      if (kept & 1)
        ps_json_texts_unref ((PsJsonTexts *) (kept & ~(guintptr) 1));
      else
        g_bytes_unref ((GBytes *) kept);
    }
  g_ptr_array_unref (texts->keep);
  g_array_unref (texts->slices);
  g_hash_table_unref (texts->nodes);
  g_free (texts);
}

static void
texts_set (PsJsonTexts *texts,
           JsonNode    *node,
           const char  *text,
           gsize        len)
{
  Slice slice = { text, len };

  /* A node noted twice keeps one reference: the table drops the new one. */
  g_array_append_val (texts->slices, slice);
  g_hash_table_insert (texts->nodes, json_node_ref (node),
                       GUINT_TO_POINTER (texts->slices->len));
}

static const char *
skip_space (const char *p,
            const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* The end of the string whose opening quote is at @p, or NULL when it is
 * not a JSON string: json-glib lets through more than JSON allows.
 */
static const char *
skip_string (const char *p,
             const char *end)
{
  const char *start = ++p;

  for (; p < end && *p != '"'; p++)
    {
      if ((guchar) *p < 0x20)
        return NULL;
      if (*p != '\\')
        continue;
      if (++p >= end)
        return NULL;
      if (*p == 'u')
        {
          if (end - p < 5 || !g_ascii_isxdigit (p[1]) || !g_ascii_isxdigit (p[2]) ||
              !g_ascii_isxdigit (p[3]) || !g_ascii_isxdigit (p[4]))
            return NULL;
          p += 4;
        }
      else if (strchr ("\"\\/bfnrt", *p) == NULL || *p == '\0')
        {
          return NULL;
        }
    }
  if (p >= end || !g_utf8_validate_len (start, p - start, NULL))
    return NULL;
  return p + 1;
}

/* The end of the number at @p, or NULL when it is not a JSON number. */
static const char *
skip_number (const char *p,
             const char *end)
{
  if (p < end && *p == '-')
    p++;
  if (p >= end || !g_ascii_isdigit (*p))
    return NULL;
  if (*p == '0')
    p++;
  else
    while (p < end && g_ascii_isdigit (*p))
      p++;
  if (p < end && *p == '.')
    {
      if (++p >= end || !g_ascii_isdigit (*p))
        return NULL;
      while (p < end && g_ascii_isdigit (*p))
        p++;
    }
  if (p < end && (*p == 'e' || *p == 'E'))
    {
      p++;
      if (p < end && (*p == '+' || *p == '-'))
        p++;
      if (p >= end || !g_ascii_isdigit (*p))
        return NULL;
      while (p < end && g_ascii_isdigit (*p))
        p++;
    }
  return p;
}

static const char *
skip_word (const char *p,
           const char *end,
           const char *word)
{
  gsize len = strlen (word);

  if ((gsize) (end - p) < len || memcmp (p, word, len) != 0)
    return NULL;
  return p + len;
}

static char *
decode_key (const char *start,
            const char *end)
{
  g_autoptr(GString) key = NULL;

  if (memchr (start, '\\', end - start) == NULL)
    return g_strndup (start, end - start);

  key = g_string_sized_new (end - start);
  for (const char *p = start; p < end; p++)
    {
      gunichar c;

      if (*p != '\\' || p + 1 >= end)
        {
          g_string_append_c (key, *p);
          continue;
        }
      switch (*++p)
        {
        case 'b': g_string_append_c (key, '\b'); break;
        case 'f': g_string_append_c (key, '\f'); break;
        case 'n': g_string_append_c (key, '\n'); break;
        case 'r': g_string_append_c (key, '\r'); break;
        case 't': g_string_append_c (key, '\t'); break;
        case 'u':
          if (end - p < 5)
            return NULL;
          c = g_ascii_xdigit_value (p[1]) << 12 | g_ascii_xdigit_value (p[2]) << 8 |
              g_ascii_xdigit_value (p[3]) << 4 | g_ascii_xdigit_value (p[4]);
          p += 4;
          if (c >= 0xd800 && c < 0xdc00 && end - p >= 7 && p[1] == '\\' && p[2] == 'u')
            {
              gunichar low = g_ascii_xdigit_value (p[3]) << 12 |
                             g_ascii_xdigit_value (p[4]) << 8 |
                             g_ascii_xdigit_value (p[5]) << 4 | g_ascii_xdigit_value (p[6]);

              if (low >= 0xdc00 && low < 0xe000)
                {
                  c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
                  p += 6;
                }
            }
          /* Half a surrogate pair is no character: json-glib refuses it too. */
          if (c >= 0xd800 && c < 0xe000)
            return NULL;
          g_string_append_unichar (key, c);
          break;
        default: g_string_append_c (key, *p); break;
        }
    }
  return g_strdup (key->str);
}

/* Texts are noted while parsing, in one pass over the text: json-glib's
 * own parser, and a second walk to find where each value's text lies,
 * cost most of the time spent resolving a record.
 */
typedef struct
{
  PsJsonTexts *texts;
  const char  *end;
  guint        depth;
  guint        max_depth;
  gboolean     too_deep;
} TextsParser;

/* The node for the value at *@pos, its text noted, with *@pos moved past
 * it; NULL where the text is not strict JSON or nests too deep.
 */
static JsonNode *
parse_value (TextsParser  *parser,
             const char  **pos)
{
  const char *start = *pos;
  const char *p = start;
  const char *end = parser->end;
  g_autoptr(JsonNode) node = NULL;

  if (p >= end)
    return NULL;

  if (*p == '{' || *p == '[')
    {
      gboolean is_object = *p == '{';
      char close = is_object ? '}' : ']';
      g_autoptr(JsonObject) object = is_object ? json_object_new () : NULL;
      g_autoptr(JsonArray) array = is_object ? NULL : json_array_new ();

      if (++parser->depth > parser->max_depth)
        {
          parser->too_deep = TRUE;
          return NULL;
        }
      p = skip_space (p + 1, end);
      while (p < end && *p != close)
        {
          g_autofree char *key = NULL;
          JsonNode *member;

          if (is_object)
            {
              const char *key_end;

              if (*p != '"' || (key_end = skip_string (p, end)) == NULL)
                return NULL;
              key = decode_key (p + 1, key_end - 1);
              p = skip_space (key_end, end);
              if (key == NULL || p >= end || *p != ':')
                return NULL;
              p = skip_space (p + 1, end);
            }
          member = parse_value (parser, &p);
          if (member == NULL)
            return NULL;
          if (is_object)
            json_object_set_member (object, key, member);
          else
            json_array_add_element (array, member);
          p = skip_space (p, end);
          if (p < end && *p == ',')
            {
              p = skip_space (p + 1, end);
              if (p < end && *p == close)
                return NULL;
            }
          else if (p < end && *p != close)
            return NULL;
        }
      if (p >= end)
        return NULL;
      p++;
      parser->depth--;
      node = is_object
        ? json_node_init_object (json_node_alloc (), object)
        : json_node_init_array (json_node_alloc (), array);
    }
  else if (*p == '"')
    {
      g_autofree char *value = NULL;

      p = skip_string (p, end);
      if (p == NULL || (value = decode_key (start + 1, p - 1)) == NULL)
        return NULL;
      node = json_node_init_string (json_node_alloc (), value);
    }
  else if (*p == 't' || *p == 'f')
    {
      gboolean value = *p == 't';

      p = skip_word (p, end, value ? "true" : "false");
      if (p == NULL)
        return NULL;
      node = json_node_init_boolean (json_node_alloc (), value);
    }
  else if (*p == 'n')
    {
      p = skip_word (p, end, "null");
      if (p == NULL)
        return NULL;
      node = json_node_init_null (json_node_alloc ());
    }
  else
    {
      char buffer[64];
      g_autofree char *owned = NULL;
      const char *number;
      gsize len;

      p = skip_number (p, end);
      if (p == NULL)
        return NULL;
      len = p - start;
      if (len < sizeof buffer)
        {
          memcpy (buffer, start, len);
          buffer[len] = '\0';
          number = buffer;
        }
      else
        number = owned = g_strndup (start, len);

      /* As json-glib reads numbers: integers as such, unless too large. */
      if (strpbrk (number, ".eE") == NULL)
        {
          char *number_end;
          gint64 value;

          errno = 0;
          value = g_ascii_strtoll (number, &number_end, 10);
          if (errno == 0 && *number_end == '\0')
            node = json_node_init_int (json_node_alloc (), value);
        }
      if (node == NULL)
        node = json_node_init_double (json_node_alloc (), g_ascii_strtod (number, NULL));
    }

  /* A string without escapes and true, false and null are written back
   * the same from their values: only the others need their text kept.
   */
  if (!(JSON_NODE_HOLDS_VALUE (node) &&
        (json_node_get_value_type (node) == G_TYPE_BOOLEAN ||
         (json_node_get_value_type (node) == G_TYPE_STRING &&
          memchr (start, '\\', p - start) == NULL))) &&
      !JSON_NODE_HOLDS_NULL (node))
    texts_set (parser->texts, node, start, p - start);
  *pos = p;
  return g_steal_pointer (&node);
}

/**
 * ps_json_texts_parse:
 * @texts: a #PsJsonTexts
 * @bytes: JSON text from elsewhere, valid or not
 * @max_depth: the deepest nesting of arrays and objects allowed
 * @error: return location for a #PsJsonError
 *
 * Parses @bytes, strict JSON only, refusing deeper nesting than
 * @max_depth, and notes in @texts the text of every node of the tree. The
 * tree must outlive every lookup of its nodes.
 *
 * Returns: (transfer full) (nullable): the tree
 */
JsonNode *
ps_json_texts_parse (PsJsonTexts  *texts,
                     GBytes       *bytes,
                     guint         max_depth,
                     GError      **error)
{
  TextsParser parser = { 0, };
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  const char *p;
  JsonNode *root;

  g_return_val_if_fail (texts != NULL, NULL);
  g_return_val_if_fail (bytes != NULL, NULL);

  if (data == NULL)
    data = "";
  parser.texts = texts;
  parser.end = data + len;
  parser.max_depth = max_depth;
  p = skip_space (data, data + len);
  if (p >= data + len)
    {
      g_set_error (error, PS_JSON_ERROR, PS_JSON_ERROR_INVALID,
                   _("The text is not valid JSON: %s"), _("it is empty"));
      return NULL;
    }

  /* Kept before parsing: the texts noted point into it. */
  g_ptr_array_add (texts->keep, g_bytes_ref (bytes));
  root = parse_value (&parser, &p);
  if (root == NULL && parser.too_deep)
    {
      g_set_error (error, PS_JSON_ERROR, PS_JSON_ERROR_TOO_DEEP,
                   _("The JSON text nests deeper than %u levels"), max_depth);
      return NULL;
    }
  if (root == NULL || skip_space (p, data + len) != data + len)
    {
      /* Comments, hexadecimal numbers and the like: not JSON a server takes. */
      g_set_error_literal (error, PS_JSON_ERROR, PS_JSON_ERROR_INVALID,
                           _("The text is not strict JSON"));
      g_clear_pointer (&root, json_node_unref);
      return NULL;
    }

  /* Immutable, as json-glib's immutable parser leaves its trees. */
  json_node_seal (root);
  return root;
}

/**
 * ps_json_texts_lookup:
 * @texts: (nullable): a #PsJsonTexts
 * @node: a node
 * @out_len: (out): the length of the text
 *
 * Returns: (nullable): the text @node was read from, not NUL-terminated
 */
const char *
ps_json_texts_lookup (PsJsonTexts *texts,
                      JsonNode    *node,
                      gsize       *out_len)
{
  guint index;
  const Slice *slice;

  if (texts == NULL)
    return NULL;
  index = GPOINTER_TO_UINT (g_hash_table_lookup (texts->nodes, node));
  if (index == 0)
    return NULL;
  slice = &g_array_index (texts->slices, Slice, index - 1);
  *out_len = slice->len;
  return slice->text;
}

/**
 * ps_json_texts_copy:
 * @texts: a #PsJsonTexts
 * @node: a copy of @source_node
 * @source: (nullable): the #PsJsonTexts holding @source_node's text
 * @source_node: a node
 *
 * Notes for @node the text @source holds for @source_node, if any, and
 * keeps that text alive as long as @texts.
 */
void
ps_json_texts_copy (PsJsonTexts *texts,
                    JsonNode    *node,
                    PsJsonTexts *source,
                    JsonNode    *source_node)
{
  const char *text;
  gsize len;

  g_return_if_fail (texts != NULL && texts != source);

  text = ps_json_texts_lookup (source, source_node, &len);
  if (text == NULL)
    return;

  if (!g_ptr_array_find (texts->keep, (gpointer) ((guintptr) source | 1), NULL))
    g_ptr_array_add (texts->keep, (gpointer) ((guintptr) ps_json_texts_ref (source) | 1));
  texts_set (texts, node, text, len);
}

/* Notes the texts of @node's values, copied into @texts. */
static void
copy_tree (PsJsonTexts *texts,
           JsonNode    *node,
           PsJsonTexts *source,
           JsonNode    *source_node,
           guint        depth)
{
  if (JSON_NODE_HOLDS_OBJECT (node) && JSON_NODE_HOLDS_OBJECT (source_node))
    {
      JsonObject *object = json_node_get_object (node);
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      /* Trees from ps_json_texts_parse() are no deeper than it allowed. */
      if (depth >= PS_JSON_MAX_DEPTH * 2)
        return;
      json_object_iter_init (&iter, json_node_get_object (source_node));
      while (json_object_iter_next (&iter, &name, &member))
        {
          JsonNode *copy = json_object_get_member (object, name);

          if (copy != NULL)
            copy_tree (texts, copy, source, member, depth + 1);
        }
    }
  else if (JSON_NODE_HOLDS_ARRAY (node) && JSON_NODE_HOLDS_ARRAY (source_node))
    {
      JsonArray *array = json_node_get_array (node);
      JsonArray *source_array = json_node_get_array (source_node);
      guint n = MIN (json_array_get_length (array), json_array_get_length (source_array));

      if (depth >= PS_JSON_MAX_DEPTH * 2)
        return;
      for (guint i = 0; i < n; i++)
        copy_tree (texts, json_array_get_element (array, i), source,
                   json_array_get_element (source_array, i), depth + 1);
    }
  else if (JSON_NODE_HOLDS_VALUE (node))
    {
      const char *text;
      gsize len;
      GBytes *copy;

      text = ps_json_texts_lookup (source, source_node, &len);
      if (text == NULL)
        return;
      copy = g_bytes_new (text, len);
      g_ptr_array_add (texts->keep, copy);
      texts_set (texts, node, g_bytes_get_data (copy, NULL), len);
    }
}

/**
 * ps_json_texts_copy_tree:
 * @texts: a #PsJsonTexts
 * @node: a copy of @source_node, deep or not
 * @source: (nullable): the #PsJsonTexts holding the texts of @source_node
 *   and the nodes below it
 * @source_node: a node
 *
 * Notes for each number and string of @node the text @source holds for
 * the matching one of @source_node, copied: unlike ps_json_texts_copy(),
 * @texts keeps only these texts alive, not @source and all it was read
 * from. For the few values kept apart from a large tree, such as the
 * values a merge report quotes. Objects and arrays get no text: write
 * @node with ps_json_write_edited(). @texts may be @source.
 */
void
ps_json_texts_copy_tree (PsJsonTexts *texts,
                         JsonNode    *node,
                         PsJsonTexts *source,
                         JsonNode    *source_node)
{
  g_return_if_fail (texts != NULL);
  g_return_if_fail (node != NULL && source_node != NULL);

  if (source == NULL)
    return;
  copy_tree (texts, node, source, source_node, 0);
}

/**
 * ps_json_texts_add_all:
 * @texts: a #PsJsonTexts
 * @source: another #PsJsonTexts
 *
 * Notes in @texts every text @source holds, keeping them alive as long
 * as @texts: one table for the nodes of several trees.
 */
void
ps_json_texts_add_all (PsJsonTexts *texts,
                       PsJsonTexts *source)
{
  GHashTableIter iter;
  gpointer node;
  gpointer index;

  g_return_if_fail (texts != NULL && source != NULL && texts != source);

  if (g_hash_table_size (source->nodes) == 0)
    return;
  if (!g_ptr_array_find (texts->keep, (gpointer) ((guintptr) source | 1), NULL))
    g_ptr_array_add (texts->keep, (gpointer) ((guintptr) ps_json_texts_ref (source) | 1));

  g_hash_table_iter_init (&iter, source->nodes);
  while (g_hash_table_iter_next (&iter, &node, &index))
    {
      const Slice *slice = &g_array_index (source->slices, Slice, GPOINTER_TO_UINT (index) - 1);

      texts_set (texts, node, slice->text, slice->len);
    }
}

static void
write_string (GString    *out,
              const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if ((guchar) *p < 0x20)
            g_string_append_printf (out, "\\u%04x", (guint) *p);
          else
            g_string_append_c (out, *p);
        }
    }
  g_string_append_c (out, '"');
}

/* The fewest digits that read back as @value: 0.1, not 0.10000000000000001. */
static void
write_double (GString *out,
              double   value)
{
  static const char * const formats[] = { "%.15g", "%.16g", "%.17g" };
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_ascii_formatd (buffer, sizeof buffer, formats[i], value);
      if (g_ascii_strtod (buffer, NULL) == value)
        break;
    }
  g_string_append (out, buffer);
}

static void
write_indent (GString *out,
              int      indent)
{
  if (indent < 0)
    return;
  g_string_append_c (out, '\n');
  for (int i = 0; i < indent; i++)
    g_string_append (out, "  ");
}

/* @indent is the nesting level when writing for people, or -1. */
static void
write_node (GString     *out,
            JsonNode    *node,
            PsJsonTexts *texts,
            gboolean     containers_too,
            int          indent)
{
  int inner = indent >= 0 ? indent + 1 : -1;

  const char *text = NULL;
  gsize len;

  if (containers_too || JSON_NODE_HOLDS_VALUE (node) || JSON_NODE_HOLDS_NULL (node))
    text = ps_json_texts_lookup (texts, node, &len);
  if (text != NULL)
    {
      g_string_append_len (out, text, len);
      return;
    }

  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;
        gboolean first = TRUE;

        g_string_append_c (out, '{');
        json_object_iter_init_ordered (&iter, json_node_get_object (node));
        while (json_object_iter_next_ordered (&iter, &name, &member))
          {
            if (!first)
              g_string_append_c (out, ',');
            first = FALSE;
            write_indent (out, inner);
            write_string (out, name);
            g_string_append (out, indent >= 0 ? " : " : ":");
            write_node (out, member, texts, containers_too, inner);
          }
        if (!first)
          write_indent (out, indent);
        g_string_append_c (out, '}');
      }
      break;

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        g_string_append_c (out, '[');
        for (guint i = 0; i < json_array_get_length (array); i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            write_indent (out, inner);
            write_node (out, json_array_get_element (array, i), texts, containers_too, inner);
          }
        if (json_array_get_length (array) > 0)
          write_indent (out, indent);
        g_string_append_c (out, ']');
      }
      break;

    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_STRING:
          write_string (out, json_node_get_string (node));
          break;
        case G_TYPE_BOOLEAN:
          g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
          break;
        case G_TYPE_INT64:
          g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
          break;
        case G_TYPE_DOUBLE:
          {
            double value = json_node_get_double (node);

            if (isfinite (value))
              write_double (out, value);
            else
              g_string_append (out, "null");
          }
          break;
        default:
          g_string_append (out, "null");
        }
      break;

    case JSON_NODE_NULL:
    default:
      g_string_append (out, "null");
    }
}

/**
 * ps_json_write:
 * @out: where to append
 * @node: a tree
 * @texts: (nullable): the texts nodes of @node were read from
 *
 * Appends @node as compact JSON: each node @texts knows as the text it was
 * read from, others generated. Unlike json-glib's generator, doubles come
 * out as valid JSON (`1e+308`, not `1e+308.0`). For trees built from
 * parsed nodes, not changed in place.
 */
void
ps_json_write (GString     *out,
               JsonNode    *node,
               PsJsonTexts *texts)
{
  g_return_if_fail (out != NULL && node != NULL);

  write_node (out, node, texts, TRUE, -1);
}

/**
 * ps_json_write_edited:
 * @out: where to append
 * @node: a parsed tree, changed since
 * @texts: (nullable): the texts nodes of @node were read from
 *
 * As ps_json_write(), for a tree whose objects and arrays may have been
 * changed in place: only values (strings, numbers, literals) are taken
 * from @texts.
 */
void
ps_json_write_edited (GString     *out,
                      JsonNode    *node,
                      PsJsonTexts *texts)
{
  g_return_if_fail (out != NULL && node != NULL);

  write_node (out, node, texts, FALSE, -1);
}

/**
 * ps_json_write_pretty:
 * @out: where to append
 * @node: a tree
 * @texts: (nullable): the texts nodes of @node were read from
 *
 * As ps_json_write_edited(), indented for people to read: numbers and
 * strings come out as they were read.
 */
void
ps_json_write_pretty (GString     *out,
                      JsonNode    *node,
                      PsJsonTexts *texts)
{
  g_return_if_fail (out != NULL && node != NULL);

  write_node (out, node, texts, FALSE, 0);
}

/* A number's value as sign, significant digits and the power of ten of the
 * first digit: "-0.0120e3" is ("-", "12", 1). Exponents too long for 64
 * bits are kept as text, so such numbers only equal themselves.
 */
static gboolean
parse_number (const char  *text,
              gsize        len,
              gboolean    *out_negative,
              GString     *digits,
              gint64      *out_power,
              const char **out_huge_exponent)
{
  const char *p = text;
  const char *end = text + len;
  gint64 point = 0;
  gint64 exponent = 0;
  gboolean seen_point = FALSE;
  gboolean leading = TRUE;

  *out_negative = p < end && *p == '-';
  if (*out_negative)
    p++;
  *out_huge_exponent = NULL;

  for (; p < end && (g_ascii_isdigit (*p) || *p == '.'); p++)
    {
      if (*p == '.')
        {
          seen_point = TRUE;
          continue;
        }
      if (leading && *p == '0')
        {
          if (seen_point)
            point--;
          continue;
        }
      leading = FALSE;
      g_string_append_c (digits, *p);
      if (!seen_point)
        point++;
    }
  while (digits->len > 0 && digits->str[digits->len - 1] == '0')
    g_string_truncate (digits, digits->len - 1);

  if (p < end && (*p == 'e' || *p == 'E'))
    {
      g_autofree char *exponent_text = g_strndup (p + 1, end - p - 1);

      if (!g_ascii_string_to_signed (exponent_text, 10, -G_MAXINT64 / 2, G_MAXINT64 / 2,
                                     &exponent, NULL))
        *out_huge_exponent = p + 1;
    }
  else if (p != end)
    {
      return FALSE;
    }

  if (digits->len == 0)
    {
      /* Every zero is the same number, -0 included. */
      *out_negative = FALSE;
      *out_power = 0;
      *out_huge_exponent = NULL;
      return TRUE;
    }

  *out_power = point - 1 + exponent;
  return TRUE;
}

/**
 * ps_json_number_key:
 * @text: a JSON number's text
 * @len: its length
 *
 * Returns: (transfer full) (nullable): a text equal for two numbers exactly
 *   when their values are equal, however they were written (`1`, `1.0`,
 *   `10e-1`) and however large; %NULL when @text is not a number
 */
char *
ps_json_number_key (const char *text,
                    gsize       len)
{
  g_autoptr(GString) digits = g_string_new (NULL);
  gboolean negative;
  gint64 power;
  const char *huge;

  if (!parse_number (text, len, &negative, digits, &power, &huge))
    return NULL;
  if (huge != NULL)
    return g_strdup_printf ("%s%se%.*s~", negative ? "-" : "", digits->str,
                            (int) (text + len - huge), huge);
  return g_strdup_printf ("%s%se%" G_GINT64_FORMAT, negative ? "-" : "",
                          digits->len > 0 ? digits->str : "0", power);
}

/**
 * ps_json_numbers_equal:
 * @a: a JSON number's text
 * @a_len: its length
 * @b: another
 * @b_len: its length
 *
 * Returns: whether @a and @b are the same number, compared exactly
 */
gboolean
ps_json_numbers_equal (const char *a,
                       gsize       a_len,
                       const char *b,
                       gsize       b_len)
{
  g_autofree char *a_key = NULL;
  g_autofree char *b_key = NULL;

  if (a_len == b_len && memcmp (a, b, a_len) == 0)
    return TRUE;
  a_key = ps_json_number_key (a, a_len);
  b_key = ps_json_number_key (b, b_len);
  return a_key != NULL && b_key != NULL && strcmp (a_key, b_key) == 0;
}

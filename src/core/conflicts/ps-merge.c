/* ps-merge.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-merge"

#include "config.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "ps-json.h"
#include "ps-merge.h"
#include "ps-timestamp.h"

/* Primero's merge of conflicting leaves (docs/merge-rules.md).
 *
 * Each leaf's history entries that the other leaves lack are the changes it
 * made since the common ancestor. They are folded into a tree of Change
 * nodes mirroring the record, each holding the most recent entry that
 * touched it. A path no leaf touched holds the ancestor's value on every
 * leaf; a path one leaf touched takes that leaf's value; a path several
 * leaves touched is merged by the shape of its values (rows, keys, sets) or
 * goes to the most recent change.
 *
 * Leaves are sorted into CouchDB's winning order first, and every loop runs in
 * that order, so the output does not depend on the order of the input.
 */

struct _PsMergeResult
{
  JsonNode    *body;
  PsJsonTexts *texts;
  JsonNode    *report;
  PsJsonTexts *report_texts;
  char        *winning_rev;
  GPtrArray   *losing_revs;
  guint        n_decisions;
};

typedef struct
{
  const char *key;
  char       *owned_key;
  const char *user;
  const char *organisation;
  const char *prev_revision;
  gint64      time;
} Entry;

typedef struct _Change Change;
struct _Change
{
  GHashTable  *children;
  const Entry *entry;
  JsonNode    *from;
  gboolean     has_from;
};

typedef struct
{
  JsonNode   *node;
  JsonObject *body;
  const char *rev;
  guint64     pos;
  const char *hash;
  gint64      time;
  GPtrArray  *entries;
  Change     *changes;
} Leaf;

typedef struct
{
  JsonNode *value;
  Change   *change;
  gboolean  active;
} Slot;

typedef struct
{
  Leaf        *leaves;
  guint        n_leaves;
  gboolean     tracked;
  const char  *ancestor;
  guint64      ancestor_pos;
  JsonArray   *decisions;
  JsonArray   *attachments_to_copy;
  GHashTable  *owned_strings;
  PsJsonTexts *texts;  /* the leaves' texts, or NULL */
  PsJsonTexts *kept;   /* the texts of the values the body keeps */
  PsJsonTexts *report_texts;  /* copies of the texts of the values quoted */
} Merge;

typedef enum
{
  KIND_EMPTY,
  KIND_SCALAR,
  KIND_OBJECT,
  KIND_ROWS,
  KIND_ARRAY,
} ValueKind;

static const char * const bookkeeping_fields[] = {
  "last_updated_at",
  "last_updated_by",
  "last_updated_organization",
};

static const char * const display_id_fields[] = {
  "case_id_display",
  "incident_id_display",
  "tracing_request_id_display",
  "short_id",
};

/* A case's name, a tracing request's (the enquirer's) name. */
static const char * const name_fields[] = {
  "name",
  "relation_name",
};

G_DEFINE_QUARK (ps-merge-error-quark, ps_merge_error)

static JsonNode *merge_node (Merge      *m,
                             const char *path,
                             Slot       *slots,
                             guint       depth);

/* JSON helpers */

static JsonNode *
get_member (JsonObject *object,
            const char *name)
{
  if (object == NULL)
    return NULL;
  return json_object_get_member (object, name);
}

static const char *
get_string (JsonObject *object,
            const char *name)
{
  JsonNode *node = get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static JsonObject *
get_object (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return json_node_get_object (node);
}

static JsonArray *
get_array (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  return json_node_get_array (node);
}

/* json_node_copy() shares objects and arrays; the result must own its own. */
static JsonNode *
deep_copy (JsonNode *node)
{
  JsonNode *copy;

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_object_new ();
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      json_object_iter_init_ordered (&iter, json_node_get_object (node));
      while (json_object_iter_next_ordered (&iter, &name, &member))
        json_object_set_member (object, name, deep_copy (member));
      copy = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (copy, object);
      return copy;
    }

  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *source = json_node_get_array (node);
      JsonArray *array = json_array_sized_new (json_array_get_length (source));

      for (guint i = 0; i < json_array_get_length (source); i++)
        json_array_add_element (array, deep_copy (json_array_get_element (source, i)));
      copy = json_node_new (JSON_NODE_ARRAY);
      json_node_take_array (copy, array);
      return copy;
    }

  return json_node_copy (node);
}

/* A value the body keeps from a leaf, written as the leaf had it. It
 * shares the leaf's objects and arrays rather than copying them: nothing
 * changes a kept value afterwards, and the leaves the resolver parses are
 * sealed, so that json-glib would refuse a change to one.
 */
static JsonNode *
keep_copy (Merge    *m,
           JsonNode *node)
{
  JsonNode *copy = json_node_copy (node);

  if (m->texts != NULL)
    ps_json_texts_copy (m->kept, copy, m->texts, node);
  return copy;
}

static JsonNode *
copy_or_null (JsonNode *node)
{
  if (node == NULL)
    return json_node_new (JSON_NODE_NULL);
  return deep_copy (node);
}

static JsonNode *
string_or_null (const char *text)
{
  JsonNode *node;

  if (text == NULL)
    return json_node_new (JSON_NODE_NULL);

  node = json_node_new (JSON_NODE_VALUE);
  json_node_set_string (node, text);
  return node;
}

static gboolean
check_depth (JsonNode *node,
             guint     depth)
{
  if (depth > PS_MERGE_MAX_DEPTH)
    return FALSE;

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObjectIter iter;
      JsonNode *member;

      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, NULL, &member))
        {
          if (!check_depth (member, depth + 1))
            return FALSE;
        }
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          if (!check_depth (json_array_get_element (array, i), depth + 1))
            return FALSE;
        }
    }

  return TRUE;
}

/* Histories record values normalised: strings trimmed, blank as null. */
static void
trimmed_bounds (const char  *text,
                const char **out_start,
                gsize       *out_length)
{
  const char *end = text + strlen (text);

  while (*text != '\0' && g_ascii_isspace (*text))
    text++;
  while (end > text && g_ascii_isspace (end[-1]))
    end--;

  *out_start = text;
  *out_length = end - text;
}

static gboolean
is_empty (JsonNode *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_ARRAY (node))
    return json_array_get_length (json_node_get_array (node)) == 0;
  if (JSON_NODE_HOLDS_OBJECT (node))
    return json_object_get_size (json_node_get_object (node)) == 0;
  if (json_node_get_value_type (node) == G_TYPE_STRING)
    {
      const char *start;
      gsize length;

      trimmed_bounds (json_node_get_string (node), &start, &length);
      return length == 0;
    }
  return FALSE;
}

static gboolean
values_equal (PsJsonTexts *texts,
              JsonNode    *a,
              JsonNode    *b)
{
  gboolean a_empty = is_empty (a);
  gboolean b_empty = is_empty (b);
  GType a_type, b_type;

  if (a_empty || b_empty)
    return a_empty && b_empty;

  if (JSON_NODE_TYPE (a) != JSON_NODE_TYPE (b))
    return FALSE;

  if (JSON_NODE_HOLDS_OBJECT (a))
    {
      JsonObject *ao = json_node_get_object (a);
      JsonObject *bo = json_node_get_object (b);
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      json_object_iter_init (&iter, ao);
      while (json_object_iter_next (&iter, &name, &member))
        {
          if (!values_equal (texts, member, json_object_get_member (bo, name)))
            return FALSE;
        }
      json_object_iter_init (&iter, bo);
      while (json_object_iter_next (&iter, &name, &member))
        {
          if (!json_object_has_member (ao, name) && !is_empty (member))
            return FALSE;
        }
      return TRUE;
    }

  if (JSON_NODE_HOLDS_ARRAY (a))
    {
      JsonArray *aa = json_node_get_array (a);
      JsonArray *ba = json_node_get_array (b);
      guint length = json_array_get_length (aa);

      if (length != json_array_get_length (ba))
        return FALSE;
      for (guint i = 0; i < length; i++)
        {
          if (!values_equal (texts, json_array_get_element (aa, i),
                             json_array_get_element (ba, i)))
            return FALSE;
        }
      return TRUE;
    }

  a_type = json_node_get_value_type (a);
  b_type = json_node_get_value_type (b);

  if (a_type == G_TYPE_STRING && b_type == G_TYPE_STRING)
    {
      const char *as, *bs;
      gsize al, bl;

      trimmed_bounds (json_node_get_string (a), &as, &al);
      trimmed_bounds (json_node_get_string (b), &bs, &bl);
      return al == bl && memcmp (as, bs, al) == 0;
    }
  if ((a_type == G_TYPE_INT64 || a_type == G_TYPE_DOUBLE) &&
      (b_type == G_TYPE_INT64 || b_type == G_TYPE_DOUBLE))
    {
      const char *a_text, *b_text;
      gsize a_len, b_len;

      /* json-glib wraps integers past 64 bits; their text does not. */
      a_text = ps_json_texts_lookup (texts, a, &a_len);
      b_text = ps_json_texts_lookup (texts, b, &b_len);
      if (a_text != NULL && b_text != NULL)
        return ps_json_numbers_equal (a_text, a_len, b_text, b_len);
    }
  if (a_type == G_TYPE_INT64 && b_type == G_TYPE_INT64)
    return json_node_get_int (a) == json_node_get_int (b);
  if ((a_type == G_TYPE_INT64 || a_type == G_TYPE_DOUBLE) &&
      (b_type == G_TYPE_INT64 || b_type == G_TYPE_DOUBLE))
    return json_node_get_double (a) == json_node_get_double (b);
  if (a_type == G_TYPE_BOOLEAN && b_type == G_TYPE_BOOLEAN)
    return json_node_get_boolean (a) == json_node_get_boolean (b);

  return FALSE;
}

/* A key under which values_equal() values collide, for sets. */
static void
append_canonical (PsJsonTexts *texts,
                  GString     *out,
                  JsonNode    *node)
{
  if (is_empty (node))
    {
      g_string_append (out, "null");
    }
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      g_autoptr(GList) names = json_object_get_members (json_node_get_object (node));

      names = g_list_sort (names, (GCompareFunc) strcmp);
      g_string_append_c (out, '{');
      for (GList *l = names; l != NULL; l = l->next)
        {
          JsonNode *member = json_object_get_member (json_node_get_object (node), l->data);

          if (is_empty (member))
            continue;
          g_string_append_printf (out, "%zu:%s=", strlen (l->data), (const char *) l->data);
          append_canonical (texts, out, member);
          g_string_append_c (out, ',');
        }
      g_string_append_c (out, '}');
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      g_string_append_c (out, '[');
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          append_canonical (texts, out, json_array_get_element (array, i));
          g_string_append_c (out, ',');
        }
      g_string_append_c (out, ']');
    }
  else if (json_node_get_value_type (node) == G_TYPE_STRING)
    {
      const char *start;
      gsize length;

      trimmed_bounds (json_node_get_string (node), &start, &length);
      g_string_append_printf (out, "s%zu:", length);
      g_string_append_len (out, start, length);
    }
  else if (json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    {
      g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
    }
  else
    {
      char buffer[G_ASCII_DTOSTR_BUF_SIZE];
      const char *text;
      gsize len;
      g_autofree char *key = NULL;

      text = ps_json_texts_lookup (texts, node, &len);
      if (text != NULL)
        key = ps_json_number_key (text, len);
      g_string_append_c (out, 'n');
      if (key != NULL)
        g_string_append (out, key);
      else
        g_string_append (out, g_ascii_dtostr (buffer, sizeof buffer,
                                              json_node_get_double (node)));
    }
}

static char *
canonical_key (PsJsonTexts *texts,
               JsonNode    *node)
{
  GString *out = g_string_new (NULL);

  append_canonical (texts, out, node);
  return g_string_free (out, FALSE);
}

static const char *
row_id (JsonNode *node)
{
  return get_string (get_object (node), "unique_id");
}

static ValueKind
classify (JsonNode *node)
{
  JsonArray *array;

  if (is_empty (node))
    return KIND_EMPTY;
  if (JSON_NODE_HOLDS_OBJECT (node))
    return KIND_OBJECT;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return KIND_SCALAR;

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      if (row_id (json_array_get_element (array, i)) == NULL)
        return KIND_ARRAY;
    }
  return KIND_ROWS;
}

/* Revisions */

static gboolean
parse_rev (const char  *rev,
           guint64     *out_pos,
           const char **out_hash)
{
  const char *dash;
  g_autofree char *digits = NULL;

  if (rev == NULL)
    return FALSE;
  dash = strchr (rev, '-');
  if (dash == NULL || dash == rev || dash[1] == '\0' || dash - rev > 20)
    return FALSE;

  digits = g_strndup (rev, dash - rev);
  if (!g_ascii_string_to_unsigned (digits, 10, 1, G_MAXUINT64, out_pos, NULL))
    return FALSE;

  *out_hash = dash + 1;
  return TRUE;
}

/* CouchDB's winner: the most edits, then the highest revision id. */
static int
compare_revs (guint64     a_pos,
              const char *a_hash,
              guint64     b_pos,
              const char *b_hash)
{
  if (a_pos != b_pos)
    return a_pos > b_pos ? 1 : -1;
  return strcmp (a_hash, b_hash);
}

static int
compare_leaves_winner_first (gconstpointer a,
                             gconstpointer b)
{
  const Leaf *la = a;
  const Leaf *lb = b;

  return -compare_revs (la->pos, la->hash, lb->pos, lb->hash);
}

/**
 * ps_merge_winning_rev:
 * @leaves: (array length=n_leaves): the leaves of one document
 * @n_leaves: the number of @leaves
 *
 * Picks the leaf CouchDB itself shows as the document: the one with the most
 * edits (highest revision number), then the highest revision id. Leaves
 * without a valid `_rev` are skipped.
 *
 * Returns: (nullable): the `_rev` of the winning leaf, owned by @leaves
 */
const char *
ps_merge_winning_rev (JsonNode * const *leaves,
                      guint             n_leaves)
{
  const char *best = NULL;
  const char *best_hash = NULL;
  guint64 best_pos = 0;

  g_return_val_if_fail (leaves != NULL || n_leaves == 0, NULL);

  for (guint i = 0; i < n_leaves; i++)
    {
      const char *rev = get_string (get_object (leaves[i]), "_rev");
      const char *hash;
      guint64 pos;

      if (!parse_rev (rev, &pos, &hash))
        continue;
      if (best == NULL || compare_revs (pos, hash, best_pos, best_hash) > 0)
        {
          best = rev;
          best_pos = pos;
          best_hash = hash;
        }
    }

  return best;
}

/* Change trees */

static void
change_free (gpointer data)
{
  Change *change = data;

  if (change == NULL)
    return;
  g_clear_pointer (&change->children, g_hash_table_unref);
  g_free (change);
}

static Change *
change_child (Change     *change,
              const char *key)
{
  Change *child;

  if (change == NULL || change->children == NULL)
    return NULL;
  child = g_hash_table_lookup (change->children, key);
  return child;
}

static Change *
change_ensure_child (Change     *change,
                     const char *key)
{
  Change *child;

  if (change->children == NULL)
    change->children = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, change_free);

  child = g_hash_table_lookup (change->children, key);
  if (child == NULL)
    {
      child = g_new0 (Change, 1);
      g_hash_table_insert (change->children, (gpointer) key, child);
    }
  return child;
}

/* Entries come oldest first, so on equal times the later one counts. */
static void
change_touch (Change      *change,
              const Entry *entry)
{
  if (change->entry == NULL || entry->time >= change->entry->time)
    change->entry = entry;
}

static gint64
change_time (const Change *change)
{
  if (change == NULL || change->entry == NULL)
    return G_MININT64;
  return change->entry->time;
}

static gboolean
is_leaf_change (JsonNode *node)
{
  JsonObject *object = get_object (node);
  JsonObjectIter iter;
  const char *name;
  guint size;

  if (object == NULL)
    return FALSE;
  size = json_object_get_size (object);
  if (size == 0 || size > 2)
    return FALSE;

  json_object_iter_init (&iter, object);
  while (json_object_iter_next (&iter, &name, NULL))
    {
      if (strcmp (name, "from") != 0 && strcmp (name, "to") != 0)
        return FALSE;
    }
  return TRUE;
}

static void record_leaf_change (Merge       *m,
                                Change      *change,
                                JsonNode    *from,
                                JsonNode    *to,
                                const Entry *entry);

static void
touch_child_with_values (Merge       *m,
                         Change      *change,
                         const char  *key,
                         JsonNode    *from,
                         JsonNode    *to,
                         const Entry *entry)
{
  Change *child = change_ensure_child (change, key);

  change_touch (child, entry);
  record_leaf_change (m, child, from, to, entry);
}

/* A whole object or subform recorded as one {from, to} touches only the
 * keys and rows that differ, the same as the per-key form does.
 */
static void
record_leaf_change (Merge       *m,
                    Change      *change,
                    JsonNode    *from,
                    JsonNode    *to,
                    const Entry *entry)
{
  ValueKind from_kind = classify (from);
  ValueKind to_kind = classify (to);

  if (!change->has_from)
    {
      change->from = from;
      change->has_from = TRUE;
    }

  if ((from_kind == KIND_OBJECT || to_kind == KIND_OBJECT) &&
      (from_kind == KIND_OBJECT || from_kind == KIND_EMPTY) &&
      (to_kind == KIND_OBJECT || to_kind == KIND_EMPTY))
    {
      JsonObject *from_object = get_object (from);
      JsonObject *to_object = get_object (to);
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      if (from_object != NULL)
        {
          json_object_iter_init (&iter, from_object);
          while (json_object_iter_next (&iter, &name, &member))
            {
              JsonNode *other = get_member (to_object, name);

              if (!values_equal (m->texts, member, other))
                touch_child_with_values (m, change, name, member, other, entry);
            }
        }
      if (to_object != NULL)
        {
          json_object_iter_init (&iter, to_object);
          while (json_object_iter_next (&iter, &name, &member))
            {
              if (get_member (from_object, name) == NULL && !is_empty (member))
                touch_child_with_values (m, change, name, NULL, member, entry);
            }
        }
    }
  else if ((from_kind == KIND_ROWS || to_kind == KIND_ROWS) &&
           (from_kind == KIND_ROWS || from_kind == KIND_EMPTY) &&
           (to_kind == KIND_ROWS || to_kind == KIND_EMPTY))
    {
      g_autoptr(GHashTable) from_rows = g_hash_table_new (g_str_hash, g_str_equal);
      g_autoptr(GHashTable) to_rows = g_hash_table_new (g_str_hash, g_str_equal);
      JsonArray *from_array = get_array (from);
      JsonArray *to_array = get_array (to);

      for (guint i = 0; from_array != NULL && i < json_array_get_length (from_array); i++)
        {
          JsonNode *row = json_array_get_element (from_array, i);

          g_hash_table_insert (from_rows, (gpointer) row_id (row), row);
        }
      for (guint i = 0; to_array != NULL && i < json_array_get_length (to_array); i++)
        {
          JsonNode *row = json_array_get_element (to_array, i);
          const char *id = row_id (row);
          JsonNode *before = g_hash_table_lookup (from_rows, id);

          g_hash_table_insert (to_rows, (gpointer) id, row);
          if (before == NULL || !values_equal (m->texts, before, row))
            touch_child_with_values (m, change, id, before, row, entry);
        }
      for (guint i = 0; from_array != NULL && i < json_array_get_length (from_array); i++)
        {
          JsonNode *row = json_array_get_element (from_array, i);
          const char *id = row_id (row);

          if (!g_hash_table_contains (to_rows, id))
            change_touch (change_ensure_child (change, id), entry);
        }
    }
}

/* `changes` maps fields to {from, to}, subform rows to their own changes or
 * to null when removed, and nested objects key by key.
 */
static void
record_changes (Merge       *m,
                Change      *change,
                JsonObject  *changes,
                const Entry *entry)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  json_object_iter_init (&iter, changes);
  while (json_object_iter_next (&iter, &name, &value))
    {
      Change *child = change_ensure_child (change, name);

      change_touch (child, entry);
      if (is_leaf_change (value))
        {
          JsonObject *object = json_node_get_object (value);

          record_leaf_change (m, child, get_member (object, "from"),
                              get_member (object, "to"), entry);
        }
      else if (JSON_NODE_HOLDS_OBJECT (value))
        {
          record_changes (m, child, json_node_get_object (value), entry);
        }
    }
}

/* Leaves */

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_free (entry->owned_key);
  g_free (entry);
}

static void
leaf_clear (Leaf *leaf)
{
  g_clear_pointer (&leaf->entries, g_ptr_array_unref);
  g_clear_pointer (&leaf->changes, change_free);
}

static gint64
parse_time (const char *text)
{
  gint64 usec;

  if (ps_timestamp_parse (text, &usec))
    return usec;
  return G_MININT64;
}

static void
leaf_read_entries (Leaf        *leaf,
                   PsJsonTexts *texts)
{
  JsonArray *histories = get_array (get_member (leaf->body, "histories"));

  leaf->entries = g_ptr_array_new_with_free_func (entry_free);
  if (histories == NULL)
    return;

  for (guint i = 0; i < json_array_get_length (histories); i++)
    {
      JsonNode *node = json_array_get_element (histories, i);
      JsonObject *object = get_object (node);
      Entry *entry;

      if (object == NULL)
        continue;

      entry = g_new0 (Entry, 1);
      entry->key = get_string (object, "unique_id");
      if (entry->key == NULL)
        entry->key = entry->owned_key = canonical_key (texts, node);
      entry->user = get_string (object, "user_name");
      entry->organisation = get_string (object, "user_organization");
      entry->prev_revision = get_string (object, "prev_revision");
      entry->time = parse_time (get_string (object, "datetime"));
      g_ptr_array_add (leaf->entries, entry);
    }
}

static gboolean
validate_leaf (JsonNode    *node,
               guint        index,
               Leaf        *leaf,
               GError     **error)
{
  JsonNode *deleted;

  leaf->node = node;
  leaf->body = get_object (node);
  if (leaf->body == NULL)
    {
      g_set_error (error, PS_MERGE_ERROR, PS_MERGE_ERROR_INVALID_LEAF,
                   _("Leaf %u is not a JSON object"), index + 1);
      return FALSE;
    }

  if (get_string (leaf->body, "_id") == NULL || *get_string (leaf->body, "_id") == '\0')
    {
      g_set_error (error, PS_MERGE_ERROR, PS_MERGE_ERROR_INVALID_LEAF,
                   _("Leaf %u has no document id (“_id”)"), index + 1);
      return FALSE;
    }

  leaf->rev = get_string (leaf->body, "_rev");
  if (!parse_rev (leaf->rev, &leaf->pos, &leaf->hash))
    {
      g_set_error (error, PS_MERGE_ERROR, PS_MERGE_ERROR_INVALID_LEAF,
                   _("Leaf %u has no valid revision (“_rev”)"), index + 1);
      return FALSE;
    }

  deleted = get_member (leaf->body, "_deleted");
  if (deleted != NULL && JSON_NODE_HOLDS_VALUE (deleted) &&
      json_node_get_value_type (deleted) == G_TYPE_BOOLEAN && json_node_get_boolean (deleted))
    {
      g_set_error (error, PS_MERGE_ERROR, PS_MERGE_ERROR_INVALID_LEAF,
                   _("Leaf %s is deleted; only live leaves are merged"), leaf->rev);
      return FALSE;
    }

  if (!check_depth (node, 0))
    {
      g_set_error (error, PS_MERGE_ERROR, PS_MERGE_ERROR_TOO_DEEP,
                   _("Leaf %s nests deeper than %d levels"), leaf->rev, PS_MERGE_MAX_DEPTH);
      return FALSE;
    }

  return TRUE;
}

/* The revisions a leaf went through: its own, its `_revisions` path and the
 * revisions its history entries were made on.
 */
static GHashTable *
leaf_collect_ancestry (Merge *m,
                       Leaf  *leaf)
{
  GHashTable *revs = g_hash_table_new (g_str_hash, g_str_equal);
  JsonObject *revisions = get_object (get_member (leaf->body, "_revisions"));
  JsonNode *start_node = get_member (revisions, "start");
  JsonArray *ids = get_array (get_member (revisions, "ids"));

  g_hash_table_add (revs, (gpointer) leaf->rev);

  if (start_node != NULL && JSON_NODE_HOLDS_VALUE (start_node) &&
      json_node_get_value_type (start_node) == G_TYPE_INT64 && ids != NULL)
    {
      gint64 start = json_node_get_int (start_node);

      for (guint i = 0; i < json_array_get_length (ids) && start - (gint64) i >= 1; i++)
        {
          JsonNode *id = json_array_get_element (ids, i);
          char *rev;
          char *interned;

          if (!JSON_NODE_HOLDS_VALUE (id) || json_node_get_value_type (id) != G_TYPE_STRING)
            continue;

          rev = g_strdup_printf ("%" G_GINT64_FORMAT "-%s", start - (gint64) i,
                                 json_node_get_string (id));
          interned = g_hash_table_lookup (m->owned_strings, rev);
          if (interned == NULL)
            {
              g_hash_table_add (m->owned_strings, rev);
              interned = rev;
            }
          else
            {
              g_free (rev);
            }
          g_hash_table_add (revs, interned);
        }
    }

  for (guint i = 0; i < leaf->entries->len; i++)
    {
      const Entry *entry = g_ptr_array_index (leaf->entries, i);

      if (entry->prev_revision != NULL)
        g_hash_table_add (revs, (gpointer) entry->prev_revision);
    }

  return revs;
}

static void
find_common_ancestor (Merge *m)
{
  g_autoptr(GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer key, value;
  const char *best_hash = NULL;

  for (guint i = 0; i < m->n_leaves; i++)
    {
      g_autoptr(GHashTable) revs = leaf_collect_ancestry (m, &m->leaves[i]);

      g_hash_table_iter_init (&iter, revs);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        {
          guint count = GPOINTER_TO_UINT (g_hash_table_lookup (counts, key));

          g_hash_table_insert (counts, key, GUINT_TO_POINTER (count + 1));
        }
    }

  g_hash_table_iter_init (&iter, counts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      guint64 pos;
      const char *hash;

      if (GPOINTER_TO_UINT (value) != m->n_leaves || !parse_rev (key, &pos, &hash))
        continue;
      if (m->ancestor == NULL || compare_revs (pos, hash, m->ancestor_pos, best_hash) > 0)
        {
          m->ancestor = key;
          m->ancestor_pos = pos;
          best_hash = hash;
        }
    }
}

/* History entries every leaf holds are the common past; the others are what
 * each leaf changed since the common ancestor.
 */
static void
build_change_trees (Merge *m)
{
  g_autoptr(GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < m->n_leaves; i++)
    {
      g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
      GPtrArray *entries = m->leaves[i].entries;

      for (guint j = 0; j < entries->len; j++)
        {
          const Entry *entry = g_ptr_array_index (entries, j);
          guint count;

          if (!g_hash_table_add (seen, (gpointer) entry->key))
            continue;
          count = GPOINTER_TO_UINT (g_hash_table_lookup (counts, entry->key));
          g_hash_table_insert (counts, (gpointer) entry->key, GUINT_TO_POINTER (count + 1));
        }
    }

  for (guint i = 0; i < m->n_leaves; i++)
    {
      Leaf *leaf = &m->leaves[i];
      JsonArray *histories = get_array (get_member (leaf->body, "histories"));
      guint k = leaf->entries->len;

      /* Entries were read in history order, newest first; replay oldest first. */
      for (guint j = json_array_get_length (histories); j > 0; j--)
        {
          JsonObject *object = get_object (json_array_get_element (histories, j - 1));
          const Entry *entry;
          JsonObject *changes;

          if (object == NULL)
            continue;
          entry = g_ptr_array_index (leaf->entries, --k);

          if (GPOINTER_TO_UINT (g_hash_table_lookup (counts, entry->key)) == m->n_leaves)
            continue;

          if (leaf->changes == NULL)
            leaf->changes = g_new0 (Change, 1);
          change_touch (leaf->changes, entry);
          leaf->time = MAX (leaf->time, entry->time);

          changes = get_object (get_member (object, "changes"));
          if (changes != NULL)
            record_changes (m, leaf->changes, changes, entry);
        }
    }
}

/* Report */

static void
strip_attachment_data (JsonNode *node)
{
  JsonObject *object = get_object (node);

  if (object != NULL && json_object_has_member (object, "data"))
    json_object_remove_member (object, "data");
}

static JsonNode *
source_node (Merge       *m,
             guint        leaf_index,
             JsonNode    *value,
             const Entry *entry)
{
  const Leaf *leaf = &m->leaves[leaf_index];
  g_autoptr(JsonObject) object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *time = NULL;
  JsonNode *value_copy;
  const char *user;
  const char *organisation;
  gint64 usec;

  /* Without a history entry, the leaf's own last update is the source. */
  if (entry != NULL)
    {
      usec = entry->time;
      user = entry->user;
      organisation = entry->organisation;
    }
  else
    {
      usec = leaf->time;
      user = get_string (leaf->body, "last_updated_by");
      organisation = get_string (leaf->body, "last_updated_organization");
    }
  if (usec != G_MININT64)
    time = ps_timestamp_format_iso8601 (usec);

  value_copy = copy_or_null (value);
  if (m->report_texts != NULL && value != NULL)
    ps_json_texts_copy_tree (m->report_texts, value_copy, m->texts, value);
  json_object_set_member (object, "value", value_copy);
  json_object_set_string_member (object, "rev", leaf->rev);
  json_object_set_member (object, "user", string_or_null (user));
  json_object_set_member (object, "organisation", string_or_null (organisation));
  json_object_set_member (object, "time", string_or_null (time));

  json_node_take_object (node, g_steal_pointer (&object));
  return node;
}

static void
add_decision (Merge      *m,
              const char *path,
              const char *kind,
              JsonNode   *kept,
              JsonArray  *discarded)
{
  g_autoptr(JsonObject) object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (object, "path", path);
  json_object_set_string_member (object, "kind", kind);
  json_object_set_member (object, "kept", kept);
  json_object_set_array_member (object, "discarded", discarded);

  json_node_take_object (node, g_steal_pointer (&object));
  json_array_add_element (m->decisions, node);
}

/* Merging values */

static guint
most_recent_touched (Merge *m,
                     Slot  *slots)
{
  guint best = G_MAXUINT;

  for (guint i = 0; i < m->n_leaves; i++)
    {
      if (!slots[i].active || slots[i].change == NULL)
        continue;
      if (best == G_MAXUINT || change_time (slots[i].change) > change_time (slots[best].change))
        best = i;
    }
  return best;
}

static guint
newest_leaf (Merge *m,
             Slot  *slots,
             gboolean non_empty_only)
{
  guint best = G_MAXUINT;

  for (guint i = 0; i < m->n_leaves; i++)
    {
      if (!slots[i].active || (non_empty_only && is_empty (slots[i].value)))
        continue;
      if (best == G_MAXUINT || m->leaves[i].time > m->leaves[best].time)
        best = i;
    }
  return best;
}

/* Nothing in the histories explains this path (or there are no histories):
 * equal values stay, a value present on one side only is kept, differing
 * values take the newer document's (docs/merge-rules.md, rule 9).
 */
static JsonNode *
merge_untracked (Merge      *m,
                 const char *path,
                 Slot       *slots)
{
  guint first = G_MAXUINT;
  gboolean all_equal = TRUE;
  guint best;
  JsonArray *discarded;

  for (guint i = 0; i < m->n_leaves; i++)
    {
      if (!slots[i].active)
        continue;
      if (first == G_MAXUINT)
        first = i;
      else if (!values_equal (m->texts, slots[first].value, slots[i].value))
        all_equal = FALSE;
    }

  if (all_equal)
    {
      for (guint i = 0; i < m->n_leaves; i++)
        {
          if (slots[i].active && slots[i].value != NULL)
            return keep_copy (m, slots[i].value);
        }
      return NULL;
    }

  best = newest_leaf (m, slots, TRUE);
  g_assert (best != G_MAXUINT);

  discarded = json_array_new ();
  for (guint i = 0; i < m->n_leaves; i++)
    {
      if (!slots[i].active || i == best || is_empty (slots[i].value) ||
          values_equal (m->texts, slots[i].value, slots[best].value))
        continue;
      json_array_add_element (discarded, source_node (m, i, slots[i].value, NULL));
    }

  if (json_array_get_length (discarded) > 0)
    add_decision (m, path, "newer-document", source_node (m, best, slots[best].value, NULL),
                  discarded);
  else
    json_array_unref (discarded);

  return keep_copy (m, slots[best].value);
}

/* The most recent change to the path wins; ties go to the leaf first in
 * CouchDB's order.
 */
static JsonNode *
merge_most_recent (Merge      *m,
                   const char *path,
                   Slot       *slots)
{
  guint best = most_recent_touched (m, slots);
  JsonNode *kept = slots[best].value;
  JsonArray *discarded = json_array_new ();
  gboolean cleared = FALSE;

  for (guint i = 0; i < m->n_leaves; i++)
    {
      if (!slots[i].active || slots[i].change == NULL || i == best ||
          values_equal (m->texts, slots[i].value, kept))
        continue;
      if (is_empty (slots[i].value))
        cleared = TRUE;
      json_array_add_element (discarded,
                              source_node (m, i, slots[i].value, slots[i].change->entry));
    }

  if (json_array_get_length (discarded) > 0)
    add_decision (m, path,
                  cleared && !is_empty (kept) ? "restored-after-clear" : "contested",
                  source_node (m, best, kept, slots[best].change->entry),
                  discarded);
  else
    json_array_unref (discarded);

  return kept != NULL ? keep_copy (m, kept) : NULL;
}

static JsonNode *
merge_object (Merge      *m,
              const char *path,
              Slot       *slots,
              guint       depth)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autofree Slot *child_slots = g_new0 (Slot, m->n_leaves);
  g_autoptr(JsonObject) result = json_object_new ();
  JsonNode *node;

  for (guint i = 0; i < m->n_leaves; i++)
    {
      JsonObject *object = slots[i].active ? get_object (slots[i].value) : NULL;
      JsonObjectIter iter;
      const char *name;

      if (object == NULL)
        continue;
      json_object_iter_init_ordered (&iter, object);
      while (json_object_iter_next_ordered (&iter, &name, NULL))
        {
          if (g_hash_table_add (seen, (gpointer) name))
            g_ptr_array_add (names, (gpointer) name);
        }
    }

  for (guint k = 0; k < names->len; k++)
    {
      const char *name = g_ptr_array_index (names, k);
      g_autofree char *child_path = g_strconcat (path, "/", name, NULL);
      JsonNode *merged;

      for (guint i = 0; i < m->n_leaves; i++)
        {
          child_slots[i].active = slots[i].active;
          child_slots[i].value = get_member (get_object (slots[i].value), name);
          child_slots[i].change = change_child (slots[i].change, name);
        }

      merged = merge_node (m, child_path, child_slots, depth + 1);
      if (merged != NULL)
        json_object_set_member (result, name, merged);
    }

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, g_steal_pointer (&result));
  return node;
}

/* Rows merge on unique_id: added anywhere, kept; removed on one side and
 * untouched elsewhere, removed; removed on one side and edited on another,
 * kept with the edit.
 */
static JsonNode *
merge_rows (Merge      *m,
            const char *path,
            Slot       *slots,
            guint       depth)
{
  g_autofree GHashTable **rows = g_new0 (GHashTable *, m->n_leaves);
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree Slot *row_slots = g_new0 (Slot, m->n_leaves);
  g_autoptr(JsonArray) result = json_array_new ();
  JsonNode *node;

  for (guint i = 0; i < m->n_leaves; i++)
    {
      JsonArray *array = slots[i].active ? get_array (slots[i].value) : NULL;

      if (array == NULL)
        continue;
      rows[i] = g_hash_table_new (g_str_hash, g_str_equal);
      for (guint j = 0; j < json_array_get_length (array); j++)
        {
          JsonNode *row = json_array_get_element (array, j);
          const char *id = row_id (row);

          if (id == NULL || g_hash_table_contains (rows[i], id))
            continue;
          g_hash_table_insert (rows[i], (gpointer) id, row);
          if (g_hash_table_add (seen, (gpointer) id))
            g_ptr_array_add (ids, (gpointer) id);
        }
    }

  for (guint k = 0; k < ids->len; k++)
    {
      const char *id = g_ptr_array_index (ids, k);
      g_autofree char *row_path = g_strconcat (path, "/", id, NULL);
      gboolean edited = FALSE;
      gboolean removed = FALSE;
      JsonNode *merged;

      for (guint i = 0; i < m->n_leaves; i++)
        {
          JsonNode *row = rows[i] != NULL ? g_hash_table_lookup (rows[i], id) : NULL;
          Change *change = slots[i].active ? change_child (slots[i].change, id) : NULL;

          row_slots[i].active = row != NULL;
          row_slots[i].value = row;
          row_slots[i].change = change;
          if (change != NULL && row != NULL)
            edited = TRUE;
          else if (change != NULL && slots[i].active)
            removed = TRUE;
        }

      if (removed && !edited)
        continue;

      merged = merge_node (m, row_path, row_slots, depth + 1);

      if (removed)
        {
          guint best = most_recent_touched (m, row_slots);
          JsonArray *discarded = json_array_new ();

          for (guint i = 0; i < m->n_leaves; i++)
            {
              Change *change = slots[i].active ? change_child (slots[i].change, id) : NULL;

              if (change != NULL && !row_slots[i].active)
                json_array_add_element (discarded, source_node (m, i, NULL, change->entry));
            }
          add_decision (m, row_path, "row-kept-against-removal",
                        source_node (m, best, merged, row_slots[best].change->entry),
                        discarded);
        }

      if (merged != NULL)
        json_array_add_element (result, merged);
    }

  for (guint i = 0; i < m->n_leaves; i++)
    g_clear_pointer (&rows[i], g_hash_table_unref);

  node = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (node, g_steal_pointer (&result));
  return node;
}

static void
add_set_keys (Merge      *m,
              GHashTable *set,
              JsonNode   *value)
{
  JsonArray *array = get_array (value);

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    g_hash_table_add (set, canonical_key (m->texts, json_array_get_element (array, i)));
}

static void
append_set_elements (Merge      *m,
                     JsonArray  *result,
                     GHashTable *in_result,
                     GHashTable *removed,
                     JsonNode   *value)
{
  JsonArray *array = get_array (value);

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      char *key = canonical_key (m->texts, element);

      if (g_hash_table_contains (removed, key) || g_hash_table_contains (in_result, key))
        {
          g_free (key);
          continue;
        }
      g_hash_table_add (in_result, key);
      json_array_add_element (result, keep_copy (m, element));
    }
}

/* Plain arrays (multi-selects) merge as sets against the ancestor: every
 * side's additions kept, every side's removals honoured, no duplicates.
 */
static JsonNode *
merge_set (Merge *m,
           Slot  *slots)
{
  g_autoptr(GHashTable) ancestor = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) removed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) in_result = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(JsonArray) result = json_array_new ();
  JsonNode *ancestor_value = NULL;
  gboolean have_ancestor = FALSE;
  guint best = most_recent_touched (m, slots);
  GHashTableIter iter;
  gpointer key;
  JsonNode *node;

  /* A leaf that did not touch the set still holds the ancestor's. */
  for (guint i = 0; i < m->n_leaves && !have_ancestor; i++)
    {
      if (slots[i].active && slots[i].change == NULL)
        {
          ancestor_value = slots[i].value;
          have_ancestor = TRUE;
        }
    }
  for (guint i = 0; i < m->n_leaves && !have_ancestor; i++)
    {
      if (slots[i].active && slots[i].change != NULL && slots[i].change->has_from)
        {
          ancestor_value = slots[i].change->from;
          have_ancestor = TRUE;
        }
    }
  add_set_keys (m, ancestor, ancestor_value);

  for (guint i = 0; i < m->n_leaves; i++)
    {
      g_autoptr(GHashTable) side = NULL;

      if (!slots[i].active || slots[i].change == NULL)
        continue;
      side = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      add_set_keys (m, side, slots[i].value);

      g_hash_table_iter_init (&iter, ancestor);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        {
          if (!g_hash_table_contains (side, key))
            g_hash_table_add (removed, g_strdup (key));
        }
    }

  append_set_elements (m, result, in_result, removed, slots[best].value);
  for (guint i = 0; i < m->n_leaves; i++)
    {
      if (i != best && slots[i].active && slots[i].change != NULL)
        append_set_elements (m, result, in_result, removed, slots[i].value);
    }

  /* The winning side may have no value at all. */
  if (json_array_get_length (result) == 0 &&
      (slots[best].value == NULL || !JSON_NODE_HOLDS_ARRAY (slots[best].value)))
    return slots[best].value != NULL ? keep_copy (m, slots[best].value) : NULL;

  node = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (node, g_steal_pointer (&result));
  return node;
}

static JsonNode *
merge_node (Merge      *m,
            const char *path,
            Slot       *slots,
            guint       depth)
{
  guint n_touched = 0;
  guint touched = G_MAXUINT;
  gboolean all_equal = TRUE;
  gboolean has_rows = FALSE, has_array = FALSE, has_object = FALSE;
  gboolean has_scalar = FALSE, has_empty = FALSE;

  g_assert (depth <= PS_MERGE_MAX_DEPTH + 1);

  for (guint i = 0; i < m->n_leaves; i++)
    {
      if (!slots[i].active || slots[i].change == NULL)
        continue;

      n_touched++;
      if (touched == G_MAXUINT)
        touched = i;
      else if (!values_equal (m->texts, slots[touched].value, slots[i].value))
        all_equal = FALSE;

      switch (classify (slots[i].value))
        {
        case KIND_EMPTY: has_empty = TRUE; break;
        case KIND_SCALAR: has_scalar = TRUE; break;
        case KIND_OBJECT: has_object = TRUE; break;
        case KIND_ROWS: has_rows = TRUE; break;
        case KIND_ARRAY: has_array = TRUE; break;
        default: g_assert_not_reached ();
        }
    }

  if (n_touched == 0)
    return merge_untracked (m, path, slots);

  if (n_touched == 1)
    return slots[touched].value != NULL ? keep_copy (m, slots[touched].value) : NULL;

  if (all_equal)
    {
      guint best = most_recent_touched (m, slots);

      return slots[best].value != NULL ? keep_copy (m, slots[best].value) : NULL;
    }

  if (has_rows && !has_array && !has_object && !has_scalar)
    return merge_rows (m, path, slots, depth);
  if (has_object && !has_rows && !has_array && !has_scalar && !has_empty)
    return merge_object (m, path, slots, depth);
  if (has_array && !has_object && !has_scalar)
    return merge_set (m, slots);

  return merge_most_recent (m, path, slots);
}

/* Attachments: the union by name; one name changed on several sides goes to
 * the most recent change, dated by the history entry that made the revision
 * the attachment was written in (its `revpos`).
 */
static gint64
attachment_time (Merge      *m,
                 guint       leaf_index,
                 JsonObject *stub)
{
  Leaf *leaf = &m->leaves[leaf_index];
  JsonNode *revpos_node = get_member (stub, "revpos");
  gint64 revpos;

  if (revpos_node == NULL || !JSON_NODE_HOLDS_VALUE (revpos_node) ||
      json_node_get_value_type (revpos_node) != G_TYPE_INT64)
    return leaf->time;

  revpos = json_node_get_int (revpos_node);
  if (m->ancestor != NULL && revpos >= 1 && (guint64) revpos <= m->ancestor_pos)
    return G_MININT64;

  for (guint i = 0; i < leaf->entries->len; i++)
    {
      const Entry *entry = g_ptr_array_index (leaf->entries, i);
      guint64 pos;
      const char *hash;

      if (parse_rev (entry->prev_revision, &pos, &hash) && (gint64) pos == revpos - 1)
        return entry->time;
    }
  return leaf->time;
}

static gboolean
stubs_equal (JsonObject *a,
             JsonObject *b)
{
  const char *a_digest = get_string (a, "digest");
  const char *b_digest = get_string (b, "digest");

  if (a_digest != NULL && b_digest != NULL)
    return strcmp (a_digest, b_digest) == 0;
  return json_node_equal (get_member (a, "data"), get_member (b, "data")) &&
         g_strcmp0 (get_string (a, "content_type"), get_string (b, "content_type")) == 0;
}

static JsonNode *
merge_attachments (Merge *m)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(JsonObject) result = json_object_new ();
  g_autofree JsonObject **objects = g_new0 (JsonObject *, m->n_leaves);
  gboolean any = FALSE;
  JsonNode *node;

  for (guint i = 0; i < m->n_leaves; i++)
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *stub;

      objects[i] = get_object (get_member (m->leaves[i].body, "_attachments"));
      if (objects[i] == NULL)
        continue;
      any = TRUE;
      json_object_iter_init_ordered (&iter, objects[i]);
      while (json_object_iter_next_ordered (&iter, &name, &stub))
        {
          if (JSON_NODE_HOLDS_OBJECT (stub) && g_hash_table_add (seen, (gpointer) name))
            g_ptr_array_add (names, (gpointer) name);
        }
    }

  if (!any)
    return NULL;

  for (guint k = 0; k < names->len; k++)
    {
      const char *name = g_ptr_array_index (names, k);
      guint best = G_MAXUINT;
      gint64 best_time = G_MININT64;
      gboolean differ = FALSE;
      JsonObject *winner_stub;

      for (guint i = 0; i < m->n_leaves; i++)
        {
          JsonObject *stub = get_object (get_member (objects[i], name));
          gint64 time;

          if (stub == NULL)
            continue;
          if (best == G_MAXUINT)
            {
              best = i;
              best_time = attachment_time (m, i, stub);
              continue;
            }
          if (stubs_equal (stub, get_object (get_member (objects[best], name))))
            continue;
          differ = TRUE;
          time = attachment_time (m, i, stub);
          if (time > best_time)
            {
              best = i;
              best_time = time;
            }
        }

      if (differ)
        {
          g_autofree char *path = g_strconcat ("_attachments/", name, NULL);
          JsonObject *kept = get_object (get_member (objects[best], name));
          JsonArray *discarded = json_array_new ();
          JsonNode *kept_source;

          for (guint i = 0; i < m->n_leaves; i++)
            {
              JsonObject *stub = get_object (get_member (objects[i], name));
              JsonNode *source;

              if (stub == NULL || stubs_equal (stub, kept))
                continue;
              source = source_node (m, i, get_member (objects[i], name), NULL);
              strip_attachment_data (json_object_get_member (json_node_get_object (source),
                                                             "value"));
              json_array_add_element (discarded, source);
            }
          kept_source = source_node (m, best, get_member (objects[best], name), NULL);
          strip_attachment_data (json_object_get_member (json_node_get_object (kept_source),
                                                         "value"));
          add_decision (m, path, "contested", kept_source, discarded);
        }

      /* The merged body is written as a child of the winning leaf, which does
       * not hold this attachment's content; whoever writes it must copy it.
       */
      winner_stub = get_object (get_member (objects[0], name));
      if (best != 0 && (winner_stub == NULL ||
                        !stubs_equal (winner_stub, get_object (get_member (objects[best], name)))))
        {
          g_autoptr(JsonObject) copy = json_object_new ();
          JsonNode *copy_node = json_node_new (JSON_NODE_OBJECT);

          json_object_set_string_member (copy, "name", name);
          json_object_set_string_member (copy, "rev", m->leaves[best].rev);
          json_node_take_object (copy_node, g_steal_pointer (&copy));
          json_array_add_element (m->attachments_to_copy, copy_node);
        }

      json_object_set_member (result, name,
                              keep_copy (m, get_member (objects[best], name)));
    }

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, g_steal_pointer (&result));
  return node;
}

typedef struct
{
  JsonNode *node;
  gint64    time;
} SortedEntry;

static int
compare_entries_newest_first (gconstpointer a,
                              gconstpointer b)
{
  const SortedEntry *ea = *(SortedEntry * const *) a;
  const SortedEntry *eb = *(SortedEntry * const *) b;

  if (ea->time != eb->time)
    return ea->time > eb->time ? -1 : 1;
  return 0;
}

/* The union of the histories by unique_id, newest first. */
static JsonNode *
merge_histories (Merge *m)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(JsonArray) result = json_array_new ();
  gboolean any = FALSE;
  JsonNode *node;

  for (guint i = 0; i < m->n_leaves; i++)
    {
      Leaf *leaf = &m->leaves[i];
      JsonArray *histories = get_array (get_member (leaf->body, "histories"));
      guint k = 0;

      if (histories == NULL)
        continue;
      any = TRUE;

      for (guint j = 0; j < json_array_get_length (histories); j++)
        {
          JsonNode *element = json_array_get_element (histories, j);
          const Entry *entry;
          SortedEntry *sorted_entry;

          if (!JSON_NODE_HOLDS_OBJECT (element))
            continue;
          entry = g_ptr_array_index (leaf->entries, k++);
          if (!g_hash_table_add (seen, (gpointer) entry->key))
            continue;

          sorted_entry = g_new0 (SortedEntry, 1);
          sorted_entry->node = element;
          sorted_entry->time = entry->time;
          g_ptr_array_add (sorted, sorted_entry);
        }
    }

  if (!any)
    return NULL;

  /* Stable: entries of one instant keep the order the leaves had them in. */
  g_ptr_array_sort (sorted, compare_entries_newest_first);
  for (guint i = 0; i < sorted->len; i++)
    {
      SortedEntry *sorted_entry = g_ptr_array_index (sorted, i);

      json_array_add_element (result, keep_copy (m, sorted_entry->node));
    }

  node = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (node, g_steal_pointer (&result));
  return node;
}

static gboolean
is_bookkeeping_field (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (bookkeeping_fields); i++)
    {
      if (strcmp (name, bookkeeping_fields[i]) == 0)
        return TRUE;
    }
  return FALSE;
}

static JsonNode *
merge_body (Merge *m)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autofree Slot *slots = g_new0 (Slot, m->n_leaves);
  g_autoptr(JsonObject) body = json_object_new ();
  guint latest;
  JsonNode *node;

  json_object_set_member (body, "_id", keep_copy (m, get_member (m->leaves[0].body, "_id")));
  json_object_set_member (body, "_rev", keep_copy (m, get_member (m->leaves[0].body, "_rev")));

  for (guint i = 0; i < m->n_leaves; i++)
    {
      JsonObjectIter iter;
      const char *name;

      slots[i].active = TRUE;
      json_object_iter_init_ordered (&iter, m->leaves[i].body);
      while (json_object_iter_next_ordered (&iter, &name, NULL))
        {
          if (g_hash_table_add (seen, (gpointer) name))
            g_ptr_array_add (names, (gpointer) name);
        }
    }

  latest = newest_leaf (m, slots, FALSE);

  for (guint k = 0; k < names->len; k++)
    {
      const char *name = g_ptr_array_index (names, k);
      JsonNode *merged = NULL;

      if (strcmp (name, "_attachments") == 0)
        {
          merged = merge_attachments (m);
        }
      else if (name[0] == '_')
        {
          /* _id and _rev are set above; _revisions, _conflicts and the other
           * metadata must not be written back.
           */
          continue;
        }
      else if (strcmp (name, "histories") == 0)
        {
          merged = merge_histories (m);
        }
      else if (is_bookkeeping_field (name))
        {
          /* Not recorded in histories: taken from the latest change. */
          JsonNode *value = get_member (m->leaves[latest].body, name);

          for (guint i = 0; i < m->n_leaves && value == NULL; i++)
            value = get_member (m->leaves[i].body, name);
          merged = keep_copy (m, value);
        }
      else
        {
          for (guint i = 0; i < m->n_leaves; i++)
            {
              slots[i].value = get_member (m->leaves[i].body, name);
              slots[i].change = change_child (m->leaves[i].changes, name);
            }
          merged = merge_node (m, name, slots, 1);
        }

      if (merged != NULL)
        json_object_set_member (body, name, merged);
    }

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, g_steal_pointer (&body));
  return node;
}

static JsonNode *
build_report (Merge    *m,
              JsonNode *body)
{
  g_autoptr(JsonObject) report = json_object_new ();
  g_autoptr(JsonArray) leaves = json_array_new ();
  g_autoptr(JsonArray) losing = json_array_new ();
  const char *display_id = NULL;
  const char *name = NULL;
  JsonNode *node;

  for (guint i = 0; i < m->n_leaves; i++)
    {
      json_array_add_string_element (leaves, m->leaves[i].rev);
      if (i > 0)
        json_array_add_string_element (losing, m->leaves[i].rev);
    }

  for (guint i = 0; i < m->n_leaves && display_id == NULL; i++)
    {
      for (guint j = 0; j < G_N_ELEMENTS (display_id_fields) && display_id == NULL; j++)
        {
          const char *value = get_string (m->leaves[i].body, display_id_fields[j]);

          if (value != NULL && *value != '\0')
            display_id = value;
        }
    }

  /* The name the record keeps, so people find it by the name they see. */
  for (guint j = 0; j < G_N_ELEMENTS (name_fields) && name == NULL; j++)
    {
      const char *value = get_string (json_node_get_object (body), name_fields[j]);

      if (value != NULL && *value != '\0')
        name = value;
    }

  json_object_set_string_member (report, "id", get_string (m->leaves[0].body, "_id"));
  json_object_set_member (report, "display_id", string_or_null (display_id));
  json_object_set_member (report, "name", string_or_null (name));
  json_object_set_member (report, "record_type",
                          string_or_null (get_string (m->leaves[0].body, "couchrest-type")));
  json_object_set_string_member (report, "method", m->tracked ? "histories" : "newer-document");
  json_object_set_member (report, "ancestor", string_or_null (m->ancestor));
  json_object_set_string_member (report, "winning_rev", m->leaves[0].rev);
  json_object_set_array_member (report, "losing_revs", g_steal_pointer (&losing));
  json_object_set_array_member (report, "leaves", g_steal_pointer (&leaves));
  json_object_set_array_member (report, "decisions", json_array_ref (m->decisions));
  json_object_set_array_member (report, "attachments_to_copy",
                                json_array_ref (m->attachments_to_copy));

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, g_steal_pointer (&report));
  return node;
}

static PsMergeResult *merge_leaves (JsonNode * const  *leaves,
                                    guint              n_leaves,
                                    PsJsonTexts       *texts,
                                    GError           **error);

/* Public API */

/**
 * ps_merge_leaves:
 * @leaves: (array length=n_leaves): every live leaf of one document, as
 *   `GET /db/{id}?open_revs=all&revs=true` returns them
 * @n_leaves: the number of @leaves
 * @error: return location for a #PsMergeError
 *
 * Merges the conflicting leaves of one Primero record the Primero way
 * (docs/merge-rules.md). Pure: no I/O, @leaves are not changed.
 * The same leaves in any order give byte-identical results. A leaf given
 * twice is counted once.
 *
 * Returns: (transfer full): the merge result, or %NULL with @error set when
 *   the leaves are not live documents of one record
 */
PsMergeResult *
ps_merge_leaves (JsonNode * const  *leaves,
                 guint              n_leaves,
                 GError           **error)
{
  g_return_val_if_fail (leaves != NULL || n_leaves == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return merge_leaves (leaves, n_leaves, NULL, error);
}

/**
 * ps_merge_leaves_with_texts:
 * @leaves: (array length=n_leaves): every live leaf of one document
 * @n_leaves: the number of @leaves
 * @texts: (nullable): the texts @leaves were parsed from, see
 *   ps_json_texts_parse()
 * @error: return location for a #PsMergeError
 *
 * Like ps_merge_leaves(), but every value the merged body keeps from a leaf
 * is written by ps_merge_result_write_body() byte for byte as the leaf had
 * it, and numbers are compared by their text, exactly, at any size.
 *
 * Returns: (transfer full): the merge result, or %NULL with @error set
 */
PsMergeResult *
ps_merge_leaves_with_texts (JsonNode * const  *leaves,
                            guint              n_leaves,
                            PsJsonTexts       *texts,
                            GError           **error)
{
  g_return_val_if_fail (leaves != NULL || n_leaves == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return merge_leaves (leaves, n_leaves, texts, error);
}

static PsMergeResult *
merge_leaves (JsonNode * const  *leaves,
              guint              n_leaves,
              PsJsonTexts       *texts,
              GError           **error)
{
  g_autofree Leaf *all = NULL;
  g_autoptr(GHashTable) by_rev = NULL;
  PsMergeResult *result;
  Merge m = { 0 };
  guint n = 0;

  if (n_leaves == 0)
    {
      g_set_error_literal (error, PS_MERGE_ERROR, PS_MERGE_ERROR_NO_LEAVES,
                           _("There are no leaves to merge"));
      return NULL;
    }

  all = g_new0 (Leaf, n_leaves);
  by_rev = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < n_leaves; i++)
    {
      Leaf leaf = { 0 };
      Leaf *same;

      if (!validate_leaf (leaves[i], i, &leaf, error))
        return NULL;

      if (n > 0 && strcmp (get_string (leaf.body, "_id"), get_string (all[0].body, "_id")) != 0)
        {
          g_set_error (error, PS_MERGE_ERROR, PS_MERGE_ERROR_MISMATCHED_IDS,
                       _("The leaves belong to different documents (“%s” and “%s”)"),
                       get_string (all[0].body, "_id"), get_string (leaf.body, "_id"));
          return NULL;
        }

      same = g_hash_table_lookup (by_rev, leaf.rev);
      if (same != NULL)
        {
          if (!json_node_equal (same->node, leaf.node))
            {
              g_set_error (error, PS_MERGE_ERROR, PS_MERGE_ERROR_INVALID_LEAF,
                           _("Two different leaves carry revision %s"), leaf.rev);
              return NULL;
            }
          continue;
        }

      all[n] = leaf;
      g_hash_table_insert (by_rev, (gpointer) leaf.rev, &all[n]);
      n++;
    }

  qsort (all, n, sizeof (Leaf), compare_leaves_winner_first);

  m.leaves = all;
  m.n_leaves = n;
  m.decisions = json_array_new ();
  m.attachments_to_copy = json_array_new ();
  m.owned_strings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  m.tracked = TRUE;
  m.texts = texts;
  if (texts != NULL)
    {
      m.kept = ps_json_texts_new ();
      m.report_texts = ps_json_texts_new ();
    }

  for (guint i = 0; i < n; i++)
    {
      Leaf *leaf = &m.leaves[i];

      leaf->time = parse_time (get_string (leaf->body, "last_updated_at"));
      leaf_read_entries (leaf, m.texts);
      if (leaf->entries->len == 0)
        m.tracked = FALSE;
    }

  find_common_ancestor (&m);
  if (m.tracked)
    build_change_trees (&m);

  result = g_new0 (PsMergeResult, 1);
  result->body = merge_body (&m);
  result->texts = g_steal_pointer (&m.kept);
  result->winning_rev = g_strdup (m.leaves[0].rev);
  result->losing_revs = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 1; i < n; i++)
    g_ptr_array_add (result->losing_revs, g_strdup (m.leaves[i].rev));
  result->n_decisions = json_array_get_length (m.decisions);
  result->report = build_report (&m, result->body);
  result->report_texts = g_steal_pointer (&m.report_texts);

  for (guint i = 0; i < n; i++)
    leaf_clear (&m.leaves[i]);
  json_array_unref (m.decisions);
  json_array_unref (m.attachments_to_copy);
  g_hash_table_unref (m.owned_strings);

  return result;
}

/**
 * ps_merge_result_get_body:
 * @result: a #PsMergeResult
 *
 * The merged document: `_id`, `_rev` set to the winning leaf's revision (the
 * body is meant to be written as its child) and no `_revisions` or
 * `_conflicts`. Attachments kept from another leaf are listed in the report
 * under `attachments_to_copy`.
 *
 * Returns: (transfer none): the merged body
 */
JsonNode *
ps_merge_result_get_body (PsMergeResult *result)
{
  g_return_val_if_fail (result != NULL, NULL);

  return result->body;
}

/**
 * ps_merge_result_write_body:
 * @result: a #PsMergeResult
 * @attachments: (nullable): the `_attachments` to write instead of the
 *   body's own
 * @out: where to append the body
 *
 * Appends the merged body as compact JSON. Values kept from a leaf merged
 * with ps_merge_leaves_with_texts() are written as that leaf had them.
 */
void
ps_merge_result_write_body (PsMergeResult *result,
                            JsonNode      *attachments,
                            GString       *out)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  gboolean written = FALSE;

  g_return_if_fail (result != NULL && result->body != NULL);
  g_return_if_fail (out != NULL);

  if (attachments == NULL)
    {
      ps_json_write (out, result->body, result->texts);
      return;
    }

  g_string_append_c (out, '{');
  json_object_iter_init_ordered (&iter, json_node_get_object (result->body));
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      g_autoptr(JsonNode) key = json_node_init_string (json_node_alloc (), name);
      gboolean is_attachments = strcmp (name, "_attachments") == 0;

      if (out->str[out->len - 1] != '{')
        g_string_append_c (out, ',');
      ps_json_write (out, key, NULL);
      g_string_append_c (out, ':');
      ps_json_write (out, is_attachments ? attachments : member,
                     is_attachments ? NULL : result->texts);
      written |= is_attachments;
    }
  if (!written)
    {
      if (out->str[out->len - 1] != '{')
        g_string_append_c (out, ',');
      g_string_append (out, "\"_attachments\":");
      ps_json_write (out, attachments, NULL);
    }
  g_string_append_c (out, '}');
}

/**
 * ps_merge_result_get_winning_rev:
 * @result: a #PsMergeResult
 *
 * Returns: the revision CouchDB shows as the document, parent of the merge
 */
const char *
ps_merge_result_get_winning_rev (PsMergeResult *result)
{
  g_return_val_if_fail (result != NULL, NULL);

  return result->winning_rev;
}

/**
 * ps_merge_result_get_losing_revs:
 * @result: a #PsMergeResult
 *
 * Returns: (transfer none) (element-type utf8): the other leaves, each to
 *   get a `_deleted` child
 */
GPtrArray *
ps_merge_result_get_losing_revs (PsMergeResult *result)
{
  g_return_val_if_fail (result != NULL, NULL);

  return result->losing_revs;
}

/**
 * ps_merge_result_get_report:
 * @result: a #PsMergeResult
 *
 * The decisions, as JSON: `id`, `display_id`, `name`, `record_type`, `method`
 * (`histories` or `newer-document`), `ancestor`, `winning_rev`,
 * `losing_revs`, `leaves`, `attachments_to_copy` (`{name, rev}`) and
 * `decisions`, each `{path, kind, kept, discarded}` where `kind` is one of
 * `contested`, `restored-after-clear`, `row-kept-against-removal` or
 * `newer-document`, and `kept` and every element of `discarded` are
 * `{value, rev, user, organisation, time}`. The values' numbers are exact
 * only with ps_merge_result_get_report_texts().
 *
 * Returns: (transfer none): the report
 */
JsonNode *
ps_merge_result_get_report (PsMergeResult *result)
{
  g_return_val_if_fail (result != NULL, NULL);

  return result->report;
}

/**
 * ps_merge_result_get_report_texts:
 * @result: a #PsMergeResult
 *
 * The texts of the values the report quotes (`kept` and `discarded`), as
 * the leaves merged with ps_merge_leaves_with_texts() had them: json-glib
 * alone holds a big integer as a rounded double. Write the report with
 * ps_json_write_edited() and these texts. They are copies: the leaves'
 * texts may be freed, see ps_merge_result_release_body().
 *
 * Returns: (transfer none) (nullable): the texts, or %NULL when the leaves
 *   were merged without theirs
 */
PsJsonTexts *
ps_merge_result_get_report_texts (PsMergeResult *result)
{
  g_return_val_if_fail (result != NULL, NULL);

  return result->report_texts;
}

/**
 * ps_merge_result_get_n_decisions:
 * @result: a #PsMergeResult
 *
 * Returns: the number of decisions in the report; 0 when the leaves merged
 *   without any contest
 */
guint
ps_merge_result_get_n_decisions (PsMergeResult *result)
{
  g_return_val_if_fail (result != NULL, 0);

  return result->n_decisions;
}

/**
 * ps_merge_result_free:
 * @result: (nullable): a #PsMergeResult
 *
 * Frees @result and everything it holds.
 */
/**
 * ps_merge_result_release_body:
 * @result: a #PsMergeResult
 *
 * Frees the merged body, and the leaves' texts it was written from, once
 * it was written out with ps_merge_result_write_body(): a caller holding
 * many results keeps only their reports and revisions.
 * ps_merge_result_get_body() returns %NULL afterwards.
 */
void
ps_merge_result_release_body (PsMergeResult *result)
{
  g_return_if_fail (result != NULL);

  g_clear_pointer (&result->body, json_node_unref);
  g_clear_pointer (&result->texts, ps_json_texts_unref);
}

void
ps_merge_result_free (PsMergeResult *result)
{
  if (result == NULL)
    return;

  g_clear_pointer (&result->body, json_node_unref);
  g_clear_pointer (&result->texts, ps_json_texts_unref);
  g_clear_pointer (&result->report, json_node_unref);
  g_clear_pointer (&result->report_texts, ps_json_texts_unref);
  g_clear_pointer (&result->losing_revs, g_ptr_array_unref);
  g_free (result->winning_rev);
  g_free (result);
}

/* fuzz-merge.c: merging the conflicting leaves of a record.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input holds two or three JSON leaves separated by lines of `===`.
 * Besides memory errors, this checks the merge's promises: the same leaves
 * in any order give the same result; what is written is JSON; and a field
 * every leaf holds with the same text is written with that text, byte for
 * byte.
 */

#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "fuzz-common.h"
#include "ps-json.h"
#include "ps-merge.h"

#define SEPARATOR "\n===\n"
#define MAX_LEAVES 3

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  ps_fuzz_make_warnings_fatal ();
  return 0;
}

/* The text @texts holds for the member @name of @object, as a string. */
static char *
member_text (PsJsonTexts *texts,
             JsonObject  *object,
             const char  *name)
{
  JsonNode *member = json_object_get_member (object, name);
  const char *text;
  gsize len;

  if (member == NULL)
    return NULL;
  text = ps_json_texts_lookup (texts, member, &len);
  return text != NULL ? g_strndup (text, len) : NULL;
}

/* Fields every leaf holds with the same text, which the merge cannot have
 * decided anything about, are written with that text.
 */
static void
check_kept_fields (JsonNode * const *leaves,
                   guint             n_leaves,
                   PsJsonTexts      *leaf_texts,
                   const char       *body)
{
  g_autoptr(PsJsonTexts) body_texts = ps_json_texts_new ();
  g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));
  g_autoptr(JsonNode) merged = NULL;
  g_autoptr(GError) error = NULL;
  JsonObjectIter iter;
  const char *name;

  merged = ps_json_texts_parse (body_texts, bytes, PS_JSON_MAX_DEPTH, &error);
  if (merged == NULL)
    g_error ("the merged body is not JSON (%s):\n%s", error->message, body);

  json_object_iter_init (&iter, json_node_get_object (leaves[0]));
  while (json_object_iter_next (&iter, &name, NULL))
    {
      g_autofree char *text = member_text (leaf_texts, json_node_get_object (leaves[0]), name);
      g_autofree char *written = NULL;
      gboolean same = text != NULL;

      /* Bookkeeping comes from the newest leaf; the rest is merged. */
      if (name[0] == '_' || strcmp (name, "histories") == 0 ||
          g_str_has_prefix (name, "last_updated_"))
        continue;
      for (guint i = 1; i < n_leaves && same; i++)
        {
          g_autofree char *other = member_text (leaf_texts, json_node_get_object (leaves[i]),
                                                name);

          same = g_strcmp0 (text, other) == 0;
        }
      if (!same)
        continue;

      written = member_text (body_texts, json_node_get_object (merged), name);
      if (g_strcmp0 (written, text) != 0)
        g_error ("field “%s” was %s in every leaf, written %s", name, text, written);
    }
}

static char *
merge_to_text (JsonNode * const *leaves,
               guint             n_leaves,
               PsJsonTexts      *texts)
{
  g_autoptr(PsMergeResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) body = g_string_new (NULL);
  g_autofree char *report = NULL;
  GPtrArray *losing;

  result = ps_merge_leaves_with_texts (leaves, n_leaves, texts, &error);
  if (result == NULL)
    {
      /* Which problem is found first may depend on the order. */
      g_assert (error != NULL && error->domain == PS_MERGE_ERROR);
      return g_strdup ("error");
    }

  ps_merge_result_write_body (result, NULL, body);
  report = json_to_string (ps_merge_result_get_report (result), FALSE);
  losing = ps_merge_result_get_losing_revs (result);
  g_assert (ps_merge_result_get_winning_rev (result) != NULL);
  g_assert (losing->len < n_leaves);
  g_assert (g_strcmp0 (ps_merge_result_get_winning_rev (result),
                       ps_merge_winning_rev (leaves, n_leaves)) == 0);

  check_kept_fields (leaves, n_leaves, texts, body->str);

  return g_strdup_printf ("%s %s", ps_merge_result_get_winning_rev (result), body->str);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr(PsJsonTexts) texts = ps_json_texts_new ();
  g_auto(GStrv) parts = NULL;
  JsonNode *leaves[MAX_LEAVES] = { NULL, };
  JsonNode *reversed[MAX_LEAVES] = { NULL, };
  g_autofree char *forward = NULL;
  g_autofree char *backward = NULL;
  guint n_leaves = 0;

  /* Embedded NULs end the text; that is fine for JSON. */
  parts = g_strsplit (text, SEPARATOR, MAX_LEAVES + 1);
  if (g_strv_length (parts) < 2 || g_strv_length (parts) > MAX_LEAVES)
    return 0;

  /* Parsed as the merge command and the resolver parse leaves. */
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (parts[i], strlen (parts[i]));
      JsonNode *leaf = ps_json_texts_parse (texts, bytes, PS_JSON_MAX_DEPTH, NULL);

      if (leaf == NULL)
        break;
      leaves[n_leaves++] = leaf;
    }

  if (n_leaves == g_strv_length (parts))
    {
      for (guint i = 0; i < n_leaves; i++)
        reversed[i] = leaves[n_leaves - 1 - i];

      forward = merge_to_text (leaves, n_leaves, texts);
      backward = merge_to_text (reversed, n_leaves, texts);
      if (g_strcmp0 (forward, backward) != 0)
        g_error ("the merge depends on the order of the leaves:\n%s\n%s", forward, backward);
    }

  for (guint i = 0; i < n_leaves; i++)
    json_node_unref (leaves[i]);

  return 0;
}

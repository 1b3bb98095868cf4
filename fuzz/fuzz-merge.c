/* fuzz-merge.c: merging the conflicting leaves of a record.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input holds two or three JSON leaves separated by lines of `===`.
 * Besides memory errors, this checks the merge's promise that the same
 * leaves in any order give the same result.
 */

#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "fuzz-common.h"
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

static char *
merge_to_text (JsonNode * const *leaves,
               guint             n_leaves)
{
  g_autoptr(PsMergeResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *body = NULL;
  g_autofree char *report = NULL;
  GPtrArray *losing;

  result = ps_merge_leaves (leaves, n_leaves, &error);
  if (result == NULL)
    {
      /* Which problem is found first may depend on the order. */
      g_assert (error != NULL && error->domain == PS_MERGE_ERROR);
      return g_strdup ("error");
    }

  body = json_to_string (ps_merge_result_get_body (result), FALSE);
  report = json_to_string (ps_merge_result_get_report (result), FALSE);
  losing = ps_merge_result_get_losing_revs (result);
  g_assert (ps_merge_result_get_winning_rev (result) != NULL);
  g_assert (losing->len < n_leaves);
  g_assert (g_strcmp0 (ps_merge_result_get_winning_rev (result),
                       ps_merge_winning_rev (leaves, n_leaves)) == 0);

  return g_strdup_printf ("%s %s", ps_merge_result_get_winning_rev (result), body);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
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

  for (guint i = 0; parts[i] != NULL; i++)
    {
      JsonNode *leaf = json_from_string (parts[i], NULL);

      if (leaf == NULL)
        break;
      leaves[n_leaves++] = leaf;
    }

  if (n_leaves == g_strv_length (parts))
    {
      for (guint i = 0; i < n_leaves; i++)
        reversed[i] = leaves[n_leaves - 1 - i];

      forward = merge_to_text (leaves, n_leaves);
      backward = merge_to_text (reversed, n_leaves);
      if (g_strcmp0 (forward, backward) != 0)
        g_error ("the merge depends on the order of the leaves:\n%s\n%s", forward, backward);
    }

  for (guint i = 0; i < n_leaves; i++)
    json_node_unref (leaves[i]);

  return 0;
}

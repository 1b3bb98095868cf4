/* primero-sync-generate.c: prints synthetic Primero v1 child cases as
 * NDJSON, one document a line, for `_bulk_docs` with `new_edits: false`.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "primero-sync-generate"

#include "config.h"

#include "ps-record-generator.h"

#include <stdio.h>
#include <stdlib.h>

/* Separate streams for the choices and the extra revisions, so that the
 * records themselves depend on --seed and --count only.
 */
#define SELECTION_SALT 0x9e3779b9u
#define LEAVES_SALT    0x85ebca6bu

static void
print_doc (JsonNode *doc,
           GString  *out)
{
  g_autofree char *text = json_to_string (doc, FALSE);

  g_string_append (out, text);
  g_string_append_c (out, '\n');
}

int
main (int   argc,
      char *argv[])
{
  gint count = 1000;
  gint seed = 1;
  gint conflicts = 0;
  gint deleted = 0;
  const GOptionEntry entries[] = {
    { "count", 'n', 0, G_OPTION_ARG_INT, &count, "Number of records (default 1000)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT, &seed, "Seed of the generator (default 1)", "S" },
    { "conflicts", 'c', 0, G_OPTION_ARG_INT, &conflicts,
      "Records that also get 2-3 conflicting leaves", "N" },
    { "deleted", 'd', 0, G_OPTION_ARG_INT, &deleted, "Records that also get deleted", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = NULL;
  g_autoptr(GRand) selection = NULL;
  g_autoptr(GRand) leaves_rand = NULL;
  g_autoptr(GString) out = g_string_sized_new (1 << 20);
  g_autoptr(GString) later = g_string_new (NULL);
  g_autofree guint *order = NULL;
  g_autofree guint8 *role = NULL;

  g_option_context_set_summary (context,
                                "Prints synthetic Primero v1 child cases, one JSON document a "
                                "line:\nthe records, then the conflicting leaves, then the "
                                "tombstones.\nLoad them with _bulk_docs and new_edits:false, "
                                "in that order.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  if (count < 0 || conflicts < 0 || deleted < 0 || conflicts + deleted > count)
    {
      g_printerr ("--count must be at least --conflicts plus --deleted, all positive\n");
      return 2;
    }

  rand = g_rand_new_with_seed ((guint32) seed);
  selection = g_rand_new_with_seed ((guint32) seed ^ SELECTION_SALT);
  leaves_rand = g_rand_new_with_seed ((guint32) seed ^ LEAVES_SALT);

  /* role[i]: 1 = conflicting leaves, 2 = deleted */
  order = g_new (guint, MAX (count, 1));
  role = g_new0 (guint8, MAX (count, 1));
  for (gint i = 0; i < count; i++)
    order[i] = i;
  for (gint i = count - 1; i > 0; i--)
    {
      guint j = g_rand_int_range (selection, 0, i + 1);
      guint swap = order[i];

      order[i] = order[j];
      order[j] = swap;
    }
  for (gint i = 0; i < conflicts + deleted; i++)
    role[order[i]] = i < conflicts ? 1 : 2;

  for (gint i = 0; i < count; i++)
    {
      g_autoptr(JsonNode) record = ps_record_generator_child (rand, i);

      print_doc (record, out);

      if (role[i] == 1)
        {
          g_autoptr(JsonArray) leaves = NULL;

          leaves = ps_record_generator_conflict_leaves (leaves_rand, record,
                                                        g_rand_int_range (leaves_rand, 2, 4));
          for (guint j = 0; j < json_array_get_length (leaves); j++)
            print_doc (json_array_get_element (leaves, j), later);
        }
      else if (role[i] == 2)
        {
          g_autoptr(JsonNode) tombstone = ps_record_generator_deleted (record);

          print_doc (tombstone, later);
        }

      if (out->len > (1 << 20))
        {
          fwrite (out->str, 1, out->len, stdout);
          g_string_truncate (out, 0);
        }
    }

  /* leaves before tombstones: a deleted record is never also conflicted */
  fwrite (out->str, 1, out->len, stdout);
  fwrite (later->str, 1, later->len, stdout);

  if (fflush (stdout) != 0 || ferror (stdout))
    {
      g_printerr ("cannot write the documents\n");
      return 1;
    }

  return 0;
}

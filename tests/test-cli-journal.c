/* test-cli-journal.c: `primero-sync-cli journal` as a user reads it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-journal.h"
#include "ps-merge.h"
#include "ps-test-cli.h"

#include <string.h>

static JsonNode *
load_leaf (const char *fixture,
           const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "merge", fixture, name, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_ref (json_parser_get_root (parser));
}

/* Journals the resolution of a fixture's two leaves, as the resolver does. */
static void
journal_fixture (PsJournal  *journal,
                 const char *fixture)
{
  JsonNode *leaves[2];
  g_autoptr(PsMergeResult) result = NULL;
  g_autoptr(JsonObject) entry = json_object_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *report;

  leaves[0] = load_leaf (fixture, "leaf-a.json");
  leaves[1] = load_leaf (fixture, "leaf-b.json");
  result = ps_merge_leaves (leaves, 2, &error);
  g_assert_no_error (error);
  report = json_node_get_object (ps_merge_result_get_report (result));

  json_object_set_string_member (entry, "kind", "resolution");
  json_object_set_string_member (entry, "database", "primero_child_production");
  json_object_set_string_member (entry, "record", json_object_get_string_member (report, "id"));
  json_object_set_object_member (entry, "resolution", json_object_ref (report));
  ps_journal_append (journal, entry, &error);
  g_assert_no_error (error);

  json_node_unref (leaves[0]);
  json_node_unref (leaves[1]);
}

static const char *
find_line (char       **lines,
           const char  *text)
{
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (strstr (lines[i], text) != NULL)
        return lines[i];
    }

  return NULL;
}

/* Each resolution is listed by the id Primero shows and the record's name,
 * with how many fields were contested, not by its database id alone.
 */
static void
test_resolutions_named (void)
{
  g_autoptr(PsJournal) journal = ps_journal_new ();
  const char * const args[] = { "journal", NULL };
  g_auto(PsCliResult) result = { 0, };
  g_auto(GStrv) lines = NULL;
  const char *line;

  journal_fixture (journal, "primero-scenario");
  journal_fixture (journal, "tracing-request-conflict");

  ps_test_run_cli (&result, NULL, NULL, args);
  g_test_message ("%s%s", result.out, result.err);
  g_assert_cmpint (result.status, ==, 0);
  lines = g_strsplit (result.out, "\n", -1);

  line = find_line (lines, " 0011 ");
  g_assert_nonnull (line);
  g_assert_nonnull (strstr (line, "resolution"));
  g_assert_nonnull (strstr (line, "Hauwa Yusuf"));
  g_assert_nonnull (strstr (line, "contested field"));

  line = find_line (lines, " 0000042 ");
  g_assert_nonnull (line);
  g_assert_nonnull (strstr (line, "Fatima Yusuf, 1 contested field"));
}

/* A contested big integer and decimal are printed as the journal holds
 * them, not rounded to a double or written with 17 digits.
 */
static void
test_json_numbers_exact (void)
{
  g_autoptr(PsJournal) journal = ps_journal_new ();
  const char * const args[] = { "journal", "--json", NULL };
  g_auto(PsCliResult) result = { 0, };
  g_autofree char *dir = g_path_get_dirname (ps_journal_get_path (journal));
  g_autoptr(GError) error = NULL;
  const char *line =
    "{\"kind\":\"resolution\",\"database\":\"primero_child_production\",\"record\":\"rec-n\","
    "\"resolution\":{\"id\":\"rec-n\",\"display_id\":\"0099\",\"decisions\":["
    "{\"path\":\"big\",\"kind\":\"newer-document\","
    "\"kept\":{\"value\":7,\"rev\":\"2-bbbb\"},"
    "\"discarded\":[{\"value\":123456789012345678901234567890,\"rev\":\"2-aaaa\"}]},"
    "{\"path\":\"latitude\",\"kind\":\"newer-document\","
    "\"kept\":{\"value\":2.7745,\"rev\":\"2-bbbb\"},"
    "\"discarded\":[{\"value\":0.1,\"rev\":\"2-aaaa\"}]}]},"
    "\"time\":\"2024-02-01T10:00:00Z\"}\n";

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (ps_journal_get_path (journal), line, -1, &error);
  g_assert_no_error (error);

  ps_test_run_cli (&result, NULL, NULL, args);
  g_test_message ("%s%s", result.out, result.err);
  g_assert_cmpint (result.status, ==, 0);
  g_assert_nonnull (strstr (result.out, "123456789012345678901234567890"));
  g_assert_nonnull (strstr (result.out, "2.7745"));
  g_assert_null (strstr (result.out, "2.7745000"));
  g_assert_true (g_regex_match_simple ("[^0-9.]0\\.1[^0-9]", result.out, 0, 0));
  g_assert_null (strstr (result.out, "e+29"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/cli/journal/resolutions-named", test_resolutions_named);
  g_test_add_func ("/ps/cli/journal/json-numbers-exact", test_json_numbers_exact);

  return g_test_run ();
}

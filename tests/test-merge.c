/* test-merge.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-merge"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "ps-merge.h"
#include "ps-timestamp.h"

/* Helpers */

static JsonNode *
load_json (const char *path)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static char *
to_text (JsonNode *node)
{
  return json_to_string (node, FALSE);
}

/* json_node_copy() shares objects and arrays; edits need their own. */
static JsonNode *
deep_copy (JsonNode *node)
{
  g_autofree char *text = to_text (node);

  return parse_json (text);
}

static gboolean
is_rows (JsonArray *array)
{
  if (json_array_get_length (array) == 0)
    return FALSE;
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_OBJECT (element) ||
          !json_object_has_member (json_node_get_object (element), "unique_id"))
        return FALSE;
    }
  return TRUE;
}

static gboolean
is_scalars (JsonArray *array)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      if (!JSON_NODE_HOLDS_VALUE (json_array_get_element (array, i)) &&
          !JSON_NODE_HOLDS_NULL (json_array_get_element (array, i)))
        return FALSE;
    }
  return TRUE;
}

static JsonNode *
find_row (JsonArray  *array,
          const char *id)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      JsonObject *object;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      object = json_node_get_object (element);
      if (json_object_has_member (object, "unique_id") &&
          g_strcmp0 (json_object_get_string_member (object, "unique_id"), id) == 0)
        return element;
    }
  return NULL;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* Equality as the fixtures mean it: object members and subform rows in any
 * order, multi-select values as sets, histories in order.
 */
static gboolean
loose_equal (JsonNode   *a,
             JsonNode   *b,
             const char *key)
{
  if (a == NULL || b == NULL)
    return a == b;
  if (JSON_NODE_TYPE (a) != JSON_NODE_TYPE (b))
    return FALSE;

  if (JSON_NODE_HOLDS_OBJECT (a))
    {
      JsonObject *ao = json_node_get_object (a);
      JsonObject *bo = json_node_get_object (b);
      g_autoptr(GList) names = json_object_get_members (ao);

      if (json_object_get_size (ao) != json_object_get_size (bo))
        return FALSE;
      for (GList *l = names; l != NULL; l = l->next)
        {
          if (!loose_equal (json_object_get_member (ao, l->data),
                            json_object_get_member (bo, l->data), l->data))
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

      if (g_strcmp0 (key, "histories") != 0 && is_rows (aa) && is_rows (ba))
        {
          for (guint i = 0; i < length; i++)
            {
              JsonNode *row = json_array_get_element (aa, i);
              const char *id = json_object_get_string_member (json_node_get_object (row),
                                                              "unique_id");

              if (!loose_equal (row, find_row (ba, id), NULL))
                return FALSE;
            }
          return TRUE;
        }

      if (is_scalars (aa) && is_scalars (ba))
        {
          g_autoptr(GPtrArray) as = g_ptr_array_new_with_free_func (g_free);
          g_autoptr(GPtrArray) bs = g_ptr_array_new_with_free_func (g_free);

          for (guint i = 0; i < length; i++)
            {
              g_ptr_array_add (as, to_text (json_array_get_element (aa, i)));
              g_ptr_array_add (bs, to_text (json_array_get_element (ba, i)));
            }
          g_ptr_array_sort (as, compare_strings);
          g_ptr_array_sort (bs, compare_strings);
          for (guint i = 0; i < length; i++)
            {
              if (strcmp (g_ptr_array_index (as, i), g_ptr_array_index (bs, i)) != 0)
                return FALSE;
            }
          return TRUE;
        }

      for (guint i = 0; i < length; i++)
        {
          if (!loose_equal (json_array_get_element (aa, i), json_array_get_element (ba, i), NULL))
            return FALSE;
        }
      return TRUE;
    }

  return json_node_equal (a, b);
}

static void
assert_loose_equal (JsonNode *actual,
                    JsonNode *expected)
{
  if (!loose_equal (actual, expected, NULL))
    {
      g_autofree char *a = actual ? json_to_string (actual, TRUE) : g_strdup ("(absent)");
      g_autofree char *e = expected ? json_to_string (expected, TRUE) : g_strdup ("(absent)");

      g_error ("got:\n%s\nexpected:\n%s", a, e);
    }
}

static JsonObject *
report_object (PsMergeResult *result)
{
  return json_node_get_object (ps_merge_result_get_report (result));
}

static PsMergeResult *
merge_ok (GPtrArray *leaves)
{
  g_autoptr(GError) error = NULL;
  PsMergeResult *result;

  result = ps_merge_leaves ((JsonNode * const *) leaves->pdata, leaves->len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

static char *
result_text (PsMergeResult *result)
{
  g_autofree char *body = to_text (ps_merge_result_get_body (result));
  g_autofree char *report = to_text (ps_merge_result_get_report (result));

  return g_strconcat (body, "\n", report, NULL);
}

static void
permute (GPtrArray *items,
         guint      k,
         GPtrArray *leaves_out,
         GPtrArray *texts)
{
  if (k == items->len)
    {
      g_autoptr(PsMergeResult) result = merge_ok (items);

      g_ptr_array_add (texts, result_text (result));
      return;
    }

  for (guint i = k; i < items->len; i++)
    {
      gpointer tmp = items->pdata[k];

      items->pdata[k] = items->pdata[i];
      items->pdata[i] = tmp;
      permute (items, k + 1, leaves_out, texts);
      items->pdata[i] = items->pdata[k];
      items->pdata[k] = tmp;
    }
}

/* Every order of the leaves gives byte-identical output. */
static void
assert_order_independent (GPtrArray *leaves)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new ();
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < leaves->len; i++)
    g_ptr_array_add (items, leaves->pdata[i]);
  permute (items, 0, NULL, texts);

  g_assert_cmpuint (texts->len, >, 0);
  for (guint i = 1; i < texts->len; i++)
    g_assert_cmpstr (g_ptr_array_index (texts, i), ==, g_ptr_array_index (texts, 0));
}

/* Fixtures: tests/merge/CASE/{leaf-*.json, expected.json[, decisions.json]
 * [, attachments-to-copy.json]}
 */

static GPtrArray *
load_fixture_leaves (const char *dir)
{
  g_autoptr(GDir) handle = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  const char *name;

  handle = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (handle)) != NULL)
    {
      if (g_str_has_prefix (name, "leaf-") && g_str_has_suffix (name, ".json"))
        g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_sort (names, compare_strings);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);

      g_ptr_array_add (leaves, load_json (path));
    }
  g_assert_cmpuint (leaves->len, >=, 2);
  return leaves;
}

static JsonObject *
find_decision (JsonArray  *decisions,
               const char *path)
{
  for (guint i = 0; i < json_array_get_length (decisions); i++)
    {
      JsonObject *decision = json_array_get_object_element (decisions, i);

      if (g_strcmp0 (json_object_get_string_member (decision, "path"), path) == 0)
        return decision;
    }
  return NULL;
}

static void
check_decisions (PsMergeResult *result,
                 const char    *path)
{
  g_autoptr(JsonNode) expected_node = load_json (path);
  JsonArray *expected = json_node_get_array (expected_node);
  JsonArray *actual = json_object_get_array_member (report_object (result), "decisions");

  g_assert_cmpuint (json_array_get_length (actual), ==, json_array_get_length (expected));
  g_assert_cmpuint (ps_merge_result_get_n_decisions (result), ==, json_array_get_length (expected));

  for (guint i = 0; i < json_array_get_length (expected); i++)
    {
      JsonObject *want = json_array_get_object_element (expected, i);
      const char *want_path = json_object_get_string_member (want, "path");
      JsonObject *got = find_decision (actual, want_path);
      JsonArray *want_discarded;
      JsonArray *got_discarded;
      JsonObject *kept;

      if (got == NULL)
        g_error ("no decision for %s", want_path);

      g_assert_cmpstr (json_object_get_string_member (got, "kind"), ==,
                       json_object_get_string_member (want, "kind"));

      kept = json_object_get_object_member (got, "kept");
      assert_loose_equal (json_object_get_member (kept, "value"),
                          json_object_get_member (want, "kept"));
      g_assert_true (json_object_has_member (kept, "rev"));
      g_assert_true (json_object_has_member (kept, "user"));
      g_assert_true (json_object_has_member (kept, "organisation"));
      g_assert_true (json_object_has_member (kept, "time"));

      want_discarded = json_object_get_array_member (want, "discarded");
      got_discarded = json_object_get_array_member (got, "discarded");
      g_assert_cmpuint (json_array_get_length (got_discarded), ==,
                        json_array_get_length (want_discarded));
      for (guint j = 0; j < json_array_get_length (want_discarded); j++)
        {
          JsonObject *source = json_array_get_object_element (got_discarded, j);

          assert_loose_equal (json_object_get_member (source, "value"),
                              json_array_get_element (want_discarded, j));
          g_assert_cmpstr (json_object_get_string_member (source, "rev"), !=,
                           json_object_get_string_member (kept, "rev"));
        }
    }
}

static void
test_fixture (gconstpointer data)
{
  const char *dir = data;
  g_autoptr(GPtrArray) leaves = load_fixture_leaves (dir);
  g_autofree char *expected_path = g_build_filename (dir, "expected.json", NULL);
  g_autofree char *decisions_path = g_build_filename (dir, "decisions.json", NULL);
  g_autofree char *copies_path = g_build_filename (dir, "attachments-to-copy.json", NULL);
  g_autoptr(JsonNode) expected = load_json (expected_path);
  g_autoptr(PsMergeResult) result = merge_ok (leaves);
  JsonObject *body = json_node_get_object (ps_merge_result_get_body (result));
  const char *winner = ps_merge_winning_rev ((JsonNode * const *) leaves->pdata, leaves->len);
  GPtrArray *losing = ps_merge_result_get_losing_revs (result);

  assert_loose_equal (ps_merge_result_get_body (result), expected);

  g_assert_cmpstr (json_object_get_string_member (body, "_rev"), ==, winner);
  g_assert_cmpstr (ps_merge_result_get_winning_rev (result), ==, winner);
  g_assert_false (json_object_has_member (body, "_revisions"));
  g_assert_false (json_object_has_member (body, "_conflicts"));
  g_assert_cmpuint (losing->len, ==, leaves->len - 1);
  for (guint i = 0; i < losing->len; i++)
    g_assert_cmpstr (g_ptr_array_index (losing, i), !=, winner);

  if (g_file_test (decisions_path, G_FILE_TEST_EXISTS))
    check_decisions (result, decisions_path);

  if (g_file_test (copies_path, G_FILE_TEST_EXISTS))
    {
      g_autoptr(JsonNode) copies = load_json (copies_path);

      assert_loose_equal (json_object_get_member (report_object (result), "attachments_to_copy"),
                          copies);
    }

  assert_order_independent (leaves);
}

/* The report names the record as Primero's users know it: its display id
 * and the name it has after the merge (a case's `name`, a tracing
 * request's `relation_name`), so that a resolution can be found by them.
 */
static void
test_report_names_record (void)
{
  const struct {
    const char *fixture;
    const char *display_id;
    const char *name;
  } cases[] = {
    { "primero-scenario", "0011", "Hauwa Yusuf" },
    { "tracing-request-conflict", "0000042", "Fatima Yusuf" },
    /* Changed on both sides: the name kept, not the first leaf's. */
    { "recency-per-field", "c-101", "Annie" },
    /* A record without a name. */
    { "multi-select", "c-104", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "merge", cases[i].fixture, NULL);
      g_autoptr(GPtrArray) leaves = load_fixture_leaves (dir);
      g_autoptr(PsMergeResult) result = merge_ok (leaves);
      JsonObject *report = report_object (result);

      g_test_message ("%s", cases[i].fixture);
      g_assert_cmpstr (json_object_get_string_member_with_default (report, "display_id", NULL),
                       ==, cases[i].display_id);
      g_assert_true (json_object_has_member (report, "name"));
      g_assert_cmpstr (json_object_get_string_member_with_default (report, "name", NULL),
                       ==, cases[i].name);
    }
}

static void
add_fixture_tests (void)
{
  g_autofree char *root = g_test_build_filename (G_TEST_DIST, "merge", NULL);
  g_autoptr(GDir) handle = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  const char *name;

  handle = g_dir_open (root, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (handle)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_strings);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *test_path = g_strdup_printf ("/ps/merge/fixture/%s",
                                                    (char *) g_ptr_array_index (names, i));

      /* The paths live as long as the test program. */
      g_test_add_data_func_full (test_path,
                                 g_build_filename (root, g_ptr_array_index (names, i), NULL),
                                 test_fixture, g_free);
    }
}

/* Timestamps */

static void
test_timestamp_forms (void)
{
  static const struct {
    const char *text;
    const char *iso;
  } cases[] = {
    { "2014/10/16 21:34:08 +0000", "2014-10-16T21:34:08Z" },
    { "2015/03/04 14:00:00 +0100", "2015-03-04T13:00:00Z" },
    { "2015/03/04 14:00:00 -0530", "2015-03-04T19:30:00Z" },
    { "2015-03-04 14:00:00 UTC", "2015-03-04T14:00:00Z" },
    { "2015-03-04T14:00:00Z", "2015-03-04T14:00:00Z" },
    { "2015-03-04T16:00:00+02:00", "2015-03-04T14:00:00Z" },
    { "2015-03-04T14:00:00.250Z", "2015-03-04T14:00:00.250000Z" },
    { "  2015-03-04T14:00:00  ", "2015-03-04T14:00:00Z" },
    { "2015/03/02", "2015-03-02T00:00:00Z" },
    { "2015-03-02", "2015-03-02T00:00:00Z" },
    { "16-Oct-2014", "2014-10-16T00:00:00Z" },
    { "2015-W10-3T14:00:00Z", "2015-03-04T14:00:00Z" },
  };
  static const char * const invalid[] = {
    "", "   ", "yesterday", "2015/13/01", "2015/02/30", "2015-03-04T25:00:00Z",
    "2015/03/04 14:00:00 +9900", "2015/03/04 14", "2015/03-04", "32-Oct-2014",
    "2015/03/04 14:00:00 +0100 trailing",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *iso = NULL;
      gint64 usec = 0;

      if (!ps_timestamp_parse (cases[i].text, &usec))
        g_error ("“%s” was not understood", cases[i].text);
      iso = ps_timestamp_format_iso8601 (usec);
      g_assert_cmpstr (iso, ==, cases[i].iso);
    }

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      gint64 usec = 42;

      if (ps_timestamp_parse (invalid[i], &usec))
        g_error ("“%s” was accepted", invalid[i]);
      g_assert_cmpint (usec, ==, 42);
    }

  g_assert_false (ps_timestamp_parse (NULL, &(gint64) { 0 }));
}

/* Instants, not strings: the v1 form sorts after ISO as text whatever the time. */
static void
test_timestamp_instants (void)
{
  gint64 v1, iso;

  g_assert_true (ps_timestamp_parse ("2015/03/04 11:00:00 +0100", &v1));
  g_assert_true (ps_timestamp_parse ("2015-03-04T10:30:00Z", &iso));
  g_assert_cmpint (iso, >, v1);
  g_assert_cmpint (iso - v1, ==, 30 * 60 * G_USEC_PER_SEC);

  g_assert_true (ps_timestamp_parse ("2015-03-04T11:00:00+01:00", &iso));
  g_assert_cmpint (iso, ==, v1);
}

/* Revisions and errors */

static JsonNode *
doc (const char *id,
     const char *rev)
{
  g_autofree char *text = g_strdup_printf ("{\"_id\": \"%s\", \"_rev\": \"%s\", \"f\": 1}", id, rev);

  return parse_json (text);
}

static void
test_winning_rev (void)
{
  JsonNode *leaves[4];
  g_autoptr(JsonNode) not_object = parse_json ("[1]");

  leaves[0] = doc ("d", "9-zzz");
  leaves[1] = doc ("d", "10-aaa");
  leaves[2] = doc ("d", "10-abc");
  leaves[3] = not_object;

  /* Numeric depth first: "10-" beats "9-" though it sorts lower as text. */
  g_assert_cmpstr (ps_merge_winning_rev (leaves, 4), ==, "10-abc");
  g_assert_cmpstr (ps_merge_winning_rev (leaves, 2), ==, "10-aaa");
  g_assert_null (ps_merge_winning_rev (&leaves[3], 1));
  g_assert_null (ps_merge_winning_rev (NULL, 0));

  for (guint i = 0; i < 3; i++)
    json_node_unref (leaves[i]);
}

static void
assert_merge_error (const char *first,
                    const char *second,
                    int         code)
{
  g_autoptr(JsonNode) a = parse_json (first);
  g_autoptr(JsonNode) b = parse_json (second);
  JsonNode *leaves[] = { a, b };
  g_autoptr(GError) error = NULL;
  g_autoptr(PsMergeResult) result = NULL;

  result = ps_merge_leaves (leaves, 2, &error);
  g_assert_error (error, PS_MERGE_ERROR, code);
  g_assert_null (result);
  g_assert_cmpstr (error->message, !=, "");
}

static void
test_invalid_leaves (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PsMergeResult) none = NULL;

  none = ps_merge_leaves (NULL, 0, &error);
  g_assert_error (error, PS_MERGE_ERROR, PS_MERGE_ERROR_NO_LEAVES);
  g_assert_null (none);

  assert_merge_error ("[]", "{\"_id\": \"d\", \"_rev\": \"1-a\"}", PS_MERGE_ERROR_INVALID_LEAF);
  assert_merge_error ("{\"_id\": \"d\", \"_rev\": \"1-a\"}", "\"text\"",
                      PS_MERGE_ERROR_INVALID_LEAF);
  assert_merge_error ("{\"_id\": \"d\"}", "{\"_id\": \"d\", \"_rev\": \"1-a\"}",
                      PS_MERGE_ERROR_INVALID_LEAF);
  assert_merge_error ("{\"_id\": \"d\", \"_rev\": \"x-a\"}", "{\"_id\": \"d\", \"_rev\": \"1-a\"}",
                      PS_MERGE_ERROR_INVALID_LEAF);
  assert_merge_error ("{\"_id\": \"d\", \"_rev\": 3}", "{\"_id\": \"d\", \"_rev\": \"1-a\"}",
                      PS_MERGE_ERROR_INVALID_LEAF);
  assert_merge_error ("{\"_rev\": \"1-b\"}", "{\"_id\": \"d\", \"_rev\": \"1-a\"}",
                      PS_MERGE_ERROR_INVALID_LEAF);
  assert_merge_error ("{\"_id\": \"d\", \"_rev\": \"2-b\", \"_deleted\": true}",
                      "{\"_id\": \"d\", \"_rev\": \"1-a\"}", PS_MERGE_ERROR_INVALID_LEAF);
  assert_merge_error ("{\"_id\": \"d\", \"_rev\": \"2-b\"}", "{\"_id\": \"e\", \"_rev\": \"2-a\"}",
                      PS_MERGE_ERROR_MISMATCHED_IDS);
  assert_merge_error ("{\"_id\": \"d\", \"_rev\": \"2-b\", \"f\": 1}",
                      "{\"_id\": \"d\", \"_rev\": \"2-b\", \"f\": 2}", PS_MERGE_ERROR_INVALID_LEAF);
}

static void
test_too_deep (void)
{
  g_autoptr(GString) text = g_string_new ("{\"_id\": \"d\", \"_rev\": \"2-b\", \"f\": ");
  g_autoptr(GString) shallow = g_string_new ("{\"_id\": \"d\", \"_rev\": \"2-a\", \"f\": ");
  g_autoptr(JsonNode) deep_node = NULL;
  g_autoptr(JsonNode) shallow_node = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PsMergeResult) result = NULL;
  JsonNode *leaves[2];

  for (guint i = 0; i < 100; i++)
    g_string_append (text, "{\"a\": [");
  for (guint i = 0; i < 100; i++)
    g_string_append (text, "]}");
  g_string_append (text, "}");

  /* Just inside the limit merges. */
  for (guint i = 0; i < PS_MERGE_MAX_DEPTH - 1; i++)
    g_string_append (shallow, "[");
  for (guint i = 0; i < PS_MERGE_MAX_DEPTH - 1; i++)
    g_string_append (shallow, "]");
  g_string_append (shallow, "}");

  deep_node = parse_json (text->str);
  shallow_node = parse_json (shallow->str);
  leaves[0] = shallow_node;
  leaves[1] = deep_node;

  result = ps_merge_leaves (leaves, 2, &error);
  g_assert_error (error, PS_MERGE_ERROR, PS_MERGE_ERROR_TOO_DEEP);
  g_assert_null (result);
  g_clear_error (&error);

  result = ps_merge_leaves (leaves, 1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
}

/* Wrong types anywhere give a result, never a crash. */
static void
test_hostile_types (void)
{
  static const char * const bodies[] = {
    "{\"_id\": \"d\", \"_rev\": \"2-a\", \"histories\": \"none\", \"_attachments\": [1],"
    " \"_revisions\": \"x\", \"rows\": [{\"unique_id\": 5}], \"last_updated_at\": 7}",
    "{\"_id\": \"d\", \"_rev\": \"2-b\", \"_revisions\": {\"start\": \"2\", \"ids\": [1, null]},"
    " \"histories\": [1, \"x\", null, {\"changes\": 5}, {\"unique_id\": 3, \"datetime\": [],"
    " \"prev_revision\": {}, \"changes\": {\"f\": 7, \"rows\": {\"r\": [1]}, \"g\": {\"from\": 1}}}],"
    " \"_attachments\": {\"a\": 1, \"b\": {\"revpos\": \"x\"}}, \"f\": {\"x\": 1}, \"rows\": 3}",
    "{\"_id\": \"d\", \"_rev\": \"3-c\", \"_revisions\": {\"start\": 3, \"ids\": [\"c\", \"b\", \"a\","
    " \"z\", \"y\"]}, \"histories\": [{\"unique_id\": \"h\", \"datetime\": \"2015/03/04 10:00:00 +0000\","
    " \"changes\": {\"rows\": {\"r1\": {\"x\": {\"from\": null, \"to\": 1}}}, \"f\": {\"from\": [],"
    " \"to\": {\"k\": [1]}}}}], \"_attachments\": {\"b\": {\"revpos\": 2, \"digest\": \"md5-x\"}},"
    " \"f\": [\"a\", [\"b\"], {\"c\": null}], \"rows\": [{\"unique_id\": \"r1\", \"x\": 1}, 4]}",
  };
  JsonNode *leaves[G_N_ELEMENTS (bodies)];

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    leaves[i] = parse_json (bodies[i]);

  for (guint n = 1; n <= G_N_ELEMENTS (bodies); n++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PsMergeResult) result = ps_merge_leaves (leaves, n, &error);
      JsonObject *body;

      g_assert_no_error (error);
      g_assert_nonnull (result);
      body = json_node_get_object (ps_merge_result_get_body (result));
      g_assert_cmpstr (json_object_get_string_member (body, "_id"), ==, "d");
      g_assert_false (json_object_has_member (body, "_revisions"));
    }

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    json_node_unref (leaves[i]);
}

/* Property tests over generated records */

#define N_FIELDS 5
#define TAG_LETTERS "abcdefgh"

typedef struct
{
  JsonObject *body;
  GPtrArray  *entries;
  GHashTable *changed;
  GPtrArray  *added;
  guint       counter;
} Side;

static void
side_free (Side *side)
{
  json_object_unref (side->body);
  g_ptr_array_unref (side->entries);
  g_hash_table_unref (side->changed);
  g_ptr_array_unref (side->added);
  g_free (side);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Side, side_free)

static char *
random_hash (GRand *rand)
{
  GString *hash = g_string_new (NULL);

  for (guint i = 0; i < 4; i++)
    g_string_append_printf (hash, "%08x", g_rand_int (rand));
  return g_string_free (hash, FALSE);
}

static JsonNode *
change_node (JsonNode *from,
             JsonNode *to)
{
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_member (object, "from", from ? deep_copy (from) : json_node_new (JSON_NODE_NULL));
  json_object_set_member (object, "to", to ? deep_copy (to) : json_node_new (JSON_NODE_NULL));
  json_node_take_object (node, object);
  return node;
}

static JsonNode *
string_node (const char *text)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);

  json_node_set_string (node, text);
  return node;
}

static JsonObject *
ensure_object_member (JsonObject *object,
                      const char *name)
{
  if (!json_object_has_member (object, name))
    json_object_set_object_member (object, name, json_object_new ());
  return json_object_get_object_member (object, name);
}

static JsonObject *
new_row (const char *id,
         GRand      *rand)
{
  JsonObject *row = json_object_new ();
  g_autofree char *name = g_strdup_printf ("name-%u", g_rand_int_range (rand, 0, 1000));

  json_object_set_string_member (row, "unique_id", id);
  json_object_set_string_member (row, "name", name);
  json_object_set_int_member (row, "age", g_rand_int_range (rand, 1, 18));
  return row;
}

static JsonObject *
base_record (GRand *rand)
{
  JsonObject *body = json_object_new ();
  JsonArray *tags = json_array_new ();
  JsonArray *rows = json_array_new ();
  JsonArray *sub = json_array_new ();
  JsonObject *nested = json_object_new ();
  guint n;

  json_object_set_string_member (body, "_id", "generated");
  json_object_set_string_member (body, "couchrest-type", "Child");
  json_object_set_string_member (body, "case_id_display", "gen-1");
  for (guint i = 0; i < N_FIELDS; i++)
    {
      g_autofree char *name = g_strdup_printf ("f%u", i);
      g_autofree char *value = g_strdup_printf ("base-%u", i);

      if (g_rand_boolean (rand))
        json_object_set_string_member (body, name, value);
      else
        json_object_set_null_member (body, name);
    }
  for (const char *c = TAG_LETTERS; *c != '\0'; c++)
    {
      if (g_rand_int_range (rand, 0, 3) == 0)
        json_array_add_string_element (tags, (char[]) { *c, '\0' });
    }
  json_object_set_array_member (body, "tags", tags);

  n = g_rand_int_range (rand, 0, 4);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("r%u", i);

      json_array_add_object_element (rows, new_row (id, rand));
    }
  json_object_set_array_member (body, "rows", rows);

  json_object_set_string_member (nested, "k0", "x");
  json_object_set_string_member (nested, "k1", "y");
  n = g_rand_int_range (rand, 0, 3);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("n%u", i);

      json_array_add_object_element (sub, new_row (id, rand));
    }
  json_object_set_array_member (nested, "sub", sub);
  json_object_set_object_member (body, "nested", nested);

  return body;
}

static void
mark_changed (Side       *side,
              const char *format,
              ...) G_GNUC_PRINTF (2, 3);

static void
mark_changed (Side       *side,
              const char *format,
              ...)
{
  va_list args;
  char *path;

  va_start (args, format);
  path = g_strdup_vprintf (format, args);
  va_end (args);
  g_hash_table_add (side->changed, path);
}

/* One edit to a subform (rows of the record or of the nested object):
 * add, edit or remove a row, recorded the way Primero records it.
 */
static gboolean
edit_rows (Side       *side,
           GRand      *rand,
           JsonArray  *rows,
           JsonObject *changes,
           const char *prefix,
           guint       side_index)
{
  guint op = g_rand_int_range (rand, 0, 3);
  guint length = json_array_get_length (rows);
  JsonObject *row_changes;

  if (op == 0 || length == 0)
    {
      g_autofree char *id = g_strdup_printf ("%c-s%u-%u", prefix[0], side_index, side->counter++);
      JsonObject *row = new_row (id, rand);
      JsonObjectIter iter;
      const char *name;
      JsonNode *value;

      row_changes = json_object_new ();
      json_object_iter_init_ordered (&iter, row);
      while (json_object_iter_next_ordered (&iter, &name, &value))
        json_object_set_member (row_changes, name, change_node (NULL, value));
      json_object_set_object_member (changes, id, row_changes);
      json_array_add_object_element (rows, row);
      g_ptr_array_add (side->added, g_strdup_printf ("%s/%s", prefix, id));
      mark_changed (side, "%s/%s/name", prefix, id);
      mark_changed (side, "%s/%s/age", prefix, id);
      return TRUE;
    }
  else
    {
      guint index = g_rand_int_range (rand, 0, length);
      JsonObject *row = json_array_get_object_element (rows, index);
      const char *id = json_object_get_string_member (row, "unique_id");

      if (json_object_has_member (changes, id))
        return FALSE;

      if (op == 1)
        {
          const char *field = g_rand_boolean (rand) ? "name" : "age";
          g_autoptr(JsonNode) old = deep_copy (json_object_get_member (row, field));
          JsonNode *value = json_node_new (JSON_NODE_VALUE);

          if (strcmp (field, "age") == 0)
            json_node_set_int (value, json_node_get_int (old) + 1 + g_rand_int_range (rand, 0, 5));
          else
            json_node_set_string (value, "renamed");
          row_changes = json_object_new ();
          json_object_set_member (row_changes, field, change_node (old, value));
          json_object_set_object_member (changes, id, row_changes);
          json_object_set_member (row, field, value);
          mark_changed (side, "%s/%s/%s", prefix, id, field);
        }
      else
        {
          json_object_set_null_member (changes, id);
          mark_changed (side, "%s/%s", prefix, id);
          json_array_remove_element (rows, index);
        }
      return TRUE;
    }
}

static gboolean
edit_once (Side       *side,
           GRand      *rand,
           JsonObject *changes,
           guint       side_index,
           guint       edit_index)
{
  JsonObject *body = side->body;

  switch (g_rand_int_range (rand, 0, 6))
    {
    case 0:
      {
        g_autofree char *name = g_strdup_printf ("f%d", g_rand_int_range (rand, 0, N_FIELDS));
        g_autofree char *value = g_strdup_printf ("s%u-e%u", side_index, edit_index);
        g_autoptr(JsonNode) old = deep_copy (json_object_get_member (body, name));
        JsonNode *new_value;

        if (json_object_has_member (changes, name))
          return FALSE;
        new_value = g_rand_int_range (rand, 0, 4) == 0 ? json_node_new (JSON_NODE_NULL)
                                                        : string_node (value);
        if (JSON_NODE_HOLDS_NULL (old) && JSON_NODE_HOLDS_NULL (new_value))
          {
            json_node_unref (new_value);
            return FALSE;
          }
        json_object_set_member (changes, name, change_node (old, new_value));
        json_object_set_member (body, name, new_value);
        mark_changed (side, "%s", name);
        return TRUE;
      }

    case 1:
      {
        g_autoptr(JsonNode) old = deep_copy (json_object_get_member (body, "tags"));
        JsonArray *tags = json_object_get_array_member (body, "tags");
        char letter[2] = { TAG_LETTERS[g_rand_int_range (rand, 0, strlen (TAG_LETTERS))], '\0' };
        gboolean found = FALSE;

        if (json_object_has_member (changes, "tags"))
          return FALSE;
        for (guint i = 0; i < json_array_get_length (tags) && !found; i++)
          {
            if (strcmp (json_array_get_string_element (tags, i), letter) == 0)
              {
                json_array_remove_element (tags, i);
                found = TRUE;
              }
          }
        if (!found)
          json_array_add_string_element (tags, letter);
        json_object_set_member (changes, "tags",
                                change_node (old, json_object_get_member (body, "tags")));
        mark_changed (side, "tags");
        return TRUE;
      }

    case 2:
    case 3:
      if (json_object_has_member (changes, "rows"))
        return FALSE;
      {
        JsonObject *row_changes = json_object_new ();
        gboolean done = edit_rows (side, rand, json_object_get_array_member (body, "rows"),
                                   row_changes, "rows", side_index);

        json_object_set_object_member (changes, "rows", row_changes);
        return done;
      }

    case 4:
      {
        JsonObject *nested = json_object_get_object_member (body, "nested");
        const char *key = g_rand_boolean (rand) ? "k0" : "k1";
        g_autofree char *value = g_strdup_printf ("s%u-e%u", side_index, edit_index);
        g_autoptr(JsonNode) value_node = string_node (value);
        JsonObject *nested_changes = ensure_object_member (changes, "nested");

        if (json_object_has_member (nested_changes, key))
          return FALSE;
        json_object_set_member (nested_changes, key,
                                change_node (json_object_get_member (nested, key), value_node));
        json_object_set_string_member (nested, key, value);
        mark_changed (side, "nested/%s", key);
        return TRUE;
      }

    default:
      {
        JsonObject *nested = json_object_get_object_member (body, "nested");
        JsonObject *nested_changes = ensure_object_member (changes, "nested");

        if (json_object_has_member (nested_changes, "sub"))
          return FALSE;
        json_object_set_object_member (nested_changes, "sub", json_object_new ());
        return edit_rows (side, rand, json_object_get_array_member (nested, "sub"),
                          json_object_get_object_member (nested_changes, "sub"),
                          "nested/sub", side_index);
      }
    }
}

static JsonNode *
make_entry (const char *id,
            const char *datetime,
            guint       side_index,
            JsonObject *changes)
{
  JsonObject *entry = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *user = g_strdup_printf ("user%u", side_index);
  g_autofree char *organisation = g_strdup_printf ("org%u", side_index);

  json_object_set_string_member (entry, "unique_id", id);
  json_object_set_string_member (entry, "datetime", datetime);
  json_object_set_string_member (entry, "user_name", user);
  json_object_set_string_member (entry, "user_organization", organisation);
  json_object_set_null_member (entry, "prev_revision");
  json_object_set_string_member (entry, "action", "update");
  json_object_set_object_member (entry, "changes", changes);
  json_node_take_object (node, entry);
  return node;
}

/* Times in both notations, so the order only comes out right as instants. */
static char *
format_time (GRand  *rand,
             gint64  seconds)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (seconds);
  int offset_hours = g_rand_int_range (rand, -5, 6);
  g_autoptr(GTimeZone) zone = g_time_zone_new_offset (offset_hours * 3600);
  g_autoptr(GDateTime) local = g_date_time_to_timezone (utc, zone);

  if (g_rand_boolean (rand))
    return g_date_time_format (local, "%Y/%m/%d %H:%M:%S %z");
  return g_date_time_format_iso8601 (local);
}

static Side *
generate_side (JsonObject *base,
               GRand      *rand,
               guint       side_index,
               gint64      base_time)
{
  Side *side = g_new0 (Side, 1);
  g_autoptr(JsonNode) base_node = json_node_new (JSON_NODE_OBJECT);
  guint n_edits = g_rand_int_range (rand, 1, 5);
  gint64 time = base_time;
  g_autoptr(JsonNode) copy = NULL;

  json_node_set_object (base_node, base);
  copy = deep_copy (base_node);
  side->body = json_object_ref (json_node_get_object (copy));
  side->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  side->changed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  side->added = g_ptr_array_new_with_free_func (g_free);

  for (guint e = 0; e < n_edits; e++)
    {
      JsonObject *changes = json_object_new ();
      g_autofree char *id = g_strdup_printf ("h-s%u-%u", side_index, e);
      g_autofree char *datetime = NULL;

      for (guint tries = 0; tries < 4 && json_object_get_size (changes) == 0; tries++)
        {
          if (!edit_once (side, rand, changes, side_index, e))
            {
              /* Drop a half-made change group; the body was not edited. */
              json_object_unref (changes);
              changes = json_object_new ();
            }
        }

      /* Sides share the hours they edit in, so recency is really contested. */
      time += g_rand_int_range (rand, 60, 4 * 3600);
      datetime = format_time (rand, time);
      g_ptr_array_add (side->entries, make_entry (id, datetime, side_index, changes));
    }

  return side;
}

/* The leaf a side's instance would hold: histories newest first over the
 * common creation entry, a revision path, prev_revision on every entry.
 */
static JsonNode *
side_to_leaf (Side       *side,
              JsonNode   *create_entry,
              const char *base_hash,
              GRand      *rand)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *leaf = json_object_new ();
  JsonArray *histories = json_array_new ();
  JsonArray *ids = json_array_new ();
  JsonObject *revisions = json_object_new ();
  g_autoptr(GPtrArray) hashes = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *prev = g_strdup_printf ("1-%s", base_hash);
  g_autofree char *rev = NULL;
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;
  JsonObject *last = NULL;

  json_object_iter_init_ordered (&iter, side->body);
  while (json_object_iter_next_ordered (&iter, &name, &value))
    json_object_set_member (leaf, name, deep_copy (value));

  for (guint i = 0; i < side->entries->len; i++)
    {
      JsonObject *entry = json_node_get_object (g_ptr_array_index (side->entries, i));
      char *hash = random_hash (rand);

      json_object_set_string_member (entry, "prev_revision", prev);
      g_free (prev);
      prev = g_strdup_printf ("%u-%s", i + 2, hash);
      g_ptr_array_add (hashes, hash);
      last = entry;
    }
  rev = g_strdup (prev);

  for (guint i = side->entries->len; i > 0; i--)
    {
      json_array_add_element (histories, deep_copy (g_ptr_array_index (side->entries, i - 1)));
      json_array_add_string_element (ids, g_ptr_array_index (hashes, i - 1));
    }
  json_array_add_element (histories, deep_copy (create_entry));
  json_array_add_string_element (ids, base_hash);

  json_object_set_string_member (leaf, "last_updated_at",
                                 json_object_get_string_member (last, "datetime"));
  json_object_set_string_member (leaf, "last_updated_by",
                                 json_object_get_string_member (last, "user_name"));
  json_object_set_string_member (leaf, "last_updated_organization",
                                 json_object_get_string_member (last, "user_organization"));
  json_object_set_array_member (leaf, "histories", histories);
  json_object_set_string_member (leaf, "_rev", rev);
  json_object_set_int_member (revisions, "start", side->entries->len + 1);
  json_object_set_array_member (revisions, "ids", ids);
  json_object_set_object_member (leaf, "_revisions", revisions);

  json_node_take_object (node, leaf);
  return node;
}

/* "rows/r1/name" → the row r1's name; NULL when a step is missing. */
static JsonNode *
resolve_path (JsonNode   *root,
              const char *path,
              gboolean   *out_found)
{
  g_auto(GStrv) steps = g_strsplit (path, "/", -1);
  JsonNode *node = root;

  for (guint i = 0; steps[i] != NULL; i++)
    {
      if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
        {
          JsonObject *object = json_node_get_object (node);

          if (!json_object_has_member (object, steps[i]))
            {
              *out_found = steps[i + 1] == NULL;
              return NULL;
            }
          node = json_object_get_member (object, steps[i]);
        }
      else if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
        {
          node = find_row (json_node_get_array (node), steps[i]);
          if (node == NULL)
            {
              *out_found = FALSE;
              return NULL;
            }
        }
      else
        {
          *out_found = FALSE;
          return NULL;
        }
    }

  *out_found = TRUE;
  return node;
}

static gboolean
array_has_string (JsonArray  *array,
                  const char *text)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      if (g_strcmp0 (json_array_get_string_element (array, i), text) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
check_generated (JsonObject *base,
                 GPtrArray  *sides,
                 GPtrArray  *leaves,
                 GHashTable *kinds)
{
  g_autoptr(PsMergeResult) result = merge_ok (leaves);
  JsonNode *merged = ps_merge_result_get_body (result);
  JsonObject *merged_object = json_node_get_object (merged);
  g_autoptr(GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *base_tags = json_object_get_array_member (base, "tags");
  JsonArray *merged_tags = json_object_get_array_member (merged_object, "tags");
  guint n_histories = 1;

  {
    JsonArray *decisions = json_object_get_array_member (report_object (result), "decisions");

    for (guint i = 0; i < json_array_get_length (decisions); i++)
      {
        const char *kind = json_object_get_string_member (json_array_get_object_element (decisions, i),
                                                          "kind");
        guint count = GPOINTER_TO_UINT (g_hash_table_lookup (kinds, kind));

        g_hash_table_insert (kinds, g_strdup (kind), GUINT_TO_POINTER (count + 1));
      }
  }

  /* Every field changed on exactly one side survives. */
  for (guint s = 0; s < sides->len; s++)
    {
      Side *side = g_ptr_array_index (sides, s);
      GHashTableIter iter;
      gpointer path;

      n_histories += side->entries->len;
      g_hash_table_iter_init (&iter, side->changed);
      while (g_hash_table_iter_next (&iter, &path, NULL))
        {
          guint count = GPOINTER_TO_UINT (g_hash_table_lookup (counts, path));

          g_hash_table_insert (counts, path, GUINT_TO_POINTER (count + 1));
        }
    }
  for (guint s = 0; s < sides->len; s++)
    {
      Side *side = g_ptr_array_index (sides, s);
      JsonNode *leaf = g_ptr_array_index (leaves, s);
      GHashTableIter iter;
      gpointer path;

      g_hash_table_iter_init (&iter, side->changed);
      while (g_hash_table_iter_next (&iter, &path, NULL))
        {
          gboolean found_side, found_merged;
          JsonNode *side_value, *merged_value;

          if (GPOINTER_TO_UINT (g_hash_table_lookup (counts, path)) != 1)
            continue;
          side_value = resolve_path (leaf, path, &found_side);
          if (!found_side)
            continue;
          merged_value = resolve_path (merged, path, &found_merged);
          if (!found_merged)
            g_error ("%s changed on one side only is missing", (char *) path);
          assert_loose_equal (merged_value, side_value);
        }

      /* No row added anywhere is lost. */
      for (guint i = 0; i < side->added->len; i++)
        {
          const char *row_path = g_ptr_array_index (side->added, i);
          gboolean found;

          resolve_path (leaf, row_path, &found);
          if (!found)
            continue;
          resolve_path (merged, row_path, &found);
          if (!found)
            g_error ("row %s added on one side was lost", row_path);
        }
    }

  /* Fields nobody changed keep the ancestor's value. */
  for (guint i = 0; i < N_FIELDS; i++)
    {
      g_autofree char *name = g_strdup_printf ("f%u", i);

      if (g_hash_table_contains (counts, name))
        continue;
      assert_loose_equal (json_object_get_member (merged_object, name),
                          json_object_get_member (base, name));
    }

  /* The multi-select: additions from every side, removals honoured. */
  for (const char *c = TAG_LETTERS; *c != '\0'; c++)
    {
      char letter[2] = { *c, '\0' };
      gboolean in_base = array_has_string (base_tags, letter);
      gboolean added = FALSE, removed = FALSE;
      guint occurrences = 0;

      for (guint s = 0; s < sides->len; s++)
        {
          Side *side = g_ptr_array_index (sides, s);
          gboolean here = array_has_string (json_object_get_array_member (side->body, "tags"),
                                            letter);

          added |= !in_base && here;
          removed |= in_base && !here;
        }
      for (guint i = 0; i < json_array_get_length (merged_tags); i++)
        occurrences += g_strcmp0 (json_array_get_string_element (merged_tags, i), letter) == 0;

      g_assert_cmpuint (occurrences, ==, (added || (in_base && !removed)) ? 1 : 0);
    }

  /* Histories: the union, newest first. */
  {
    JsonArray *histories = json_object_get_array_member (merged_object, "histories");
    gint64 previous = G_MAXINT64;

    g_assert_cmpuint (json_array_get_length (histories), ==, n_histories);
    for (guint i = 0; i < json_array_get_length (histories); i++)
      {
        JsonObject *entry = json_array_get_object_element (histories, i);
        gint64 time;

        g_assert_true (ps_timestamp_parse (json_object_get_string_member (entry, "datetime"),
                                           &time));
        g_assert_cmpint (time, <=, previous);
        previous = time;
      }
  }

  assert_order_independent (leaves);

  /* Merging the result with itself changes nothing. */
  {
    g_autoptr(GPtrArray) again = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
    g_autoptr(PsMergeResult) same = NULL;
    g_autoptr(PsMergeResult) twin = NULL;
    g_autofree char *merged_text = to_text (merged);
    g_autofree char *same_text = NULL;
    JsonNode *copy_a, *copy_b;
    JsonObject *twin_body;

    g_ptr_array_add (again, deep_copy (merged));
    same = merge_ok (again);
    same_text = to_text (ps_merge_result_get_body (same));
    g_assert_cmpstr (same_text, ==, merged_text);
    g_assert_cmpuint (ps_merge_result_get_n_decisions (same), ==, 0);

    /* The same body under two sibling revisions. */
    g_ptr_array_set_size (again, 0);
    copy_a = deep_copy (merged);
    copy_b = deep_copy (merged);
    json_object_set_string_member (json_node_get_object (copy_a), "_rev", "99-aaaa");
    json_object_set_string_member (json_node_get_object (copy_b), "_rev", "99-bbbb");
    g_ptr_array_add (again, copy_a);
    g_ptr_array_add (again, copy_b);
    twin = merge_ok (again);
    g_assert_cmpuint (ps_merge_result_get_n_decisions (twin), ==, 0);
    twin_body = json_node_get_object (ps_merge_result_get_body (twin));
    g_assert_cmpstr (json_object_get_string_member (twin_body, "_rev"), ==, "99-bbbb");
    json_object_set_string_member (twin_body, "_rev",
                                   json_object_get_string_member (merged_object, "_rev"));
    g_free (same_text);
    same_text = to_text (ps_merge_result_get_body (twin));
    g_assert_cmpstr (same_text, ==, merged_text);
  }
}

static void
test_properties (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20150304);
  g_autoptr(GHashTable) kinds = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint iterations = g_test_slow () ? 2000 : 200;

  for (guint iteration = 0; iteration < iterations; iteration++)
    {
      g_autoptr(JsonObject) base = base_record (rand);
      g_autoptr(GPtrArray) sides = g_ptr_array_new_with_free_func ((GDestroyNotify) side_free);
      g_autoptr(GPtrArray) leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
      g_autoptr(JsonNode) create_entry = NULL;
      g_autofree char *base_hash = random_hash (rand);
      guint n_sides = g_rand_int_range (rand, 2, 4);
      gint64 base_time = 1425200400; /* 2015-03-01T09:00:00Z */

      create_entry = make_entry ("h-create", "2015/03/01 09:00:00 +0000", 0, json_object_new ());

      for (guint s = 0; s < n_sides; s++)
        g_ptr_array_add (sides, generate_side (base, rand, s, base_time));
      for (guint s = 0; s < n_sides; s++)
        g_ptr_array_add (leaves, side_to_leaf (g_ptr_array_index (sides, s), create_entry,
                                               base_hash, rand));

      check_generated (base, sides, leaves, kinds);
    }

  /* The generator really contests fields and rows, or the checks above
   * prove little.
   */
  g_test_message ("contested: %u, restored: %u, rows kept: %u",
                  GPOINTER_TO_UINT (g_hash_table_lookup (kinds, "contested")),
                  GPOINTER_TO_UINT (g_hash_table_lookup (kinds, "restored-after-clear")),
                  GPOINTER_TO_UINT (g_hash_table_lookup (kinds, "row-kept-against-removal")));
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (kinds, "contested")), >, 10);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (kinds, "row-kept-against-removal")), >, 0);
  g_assert_false (g_hash_table_contains (kinds, "newer-document"));
}

/* The command line */

static char *
fixture_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "merge", "tracing-request-conflict", name, NULL);
}

static int
run_cli (const char * const  *args,
         char               **out_stdout,
         char               **out_stderr)
{
  const char *cli = g_getenv ("PS_CLI");
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (gpointer) cli);
  g_ptr_array_add (argv, (gpointer) "merge");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, out_stdout, out_stderr, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  return g_subprocess_get_exit_status (process);
}

static void
test_cli_merge (void)
{
  g_autofree char *a = fixture_path ("leaf-a.json");
  g_autofree char *b = fixture_path ("leaf-b.json");
  g_autofree char *expected_path = fixture_path ("expected.json");
  const char *args[] = { b, a, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) printed = NULL;
  g_autoptr(JsonNode) expected = load_json (expected_path);

  g_assert_cmpint (run_cli (args, &out, &err), ==, 0);
  printed = parse_json (out);
  assert_loose_equal (printed, expected);
}

static void
test_cli_report (void)
{
  g_autofree char *a = fixture_path ("leaf-a.json");
  g_autofree char *b = fixture_path ("leaf-b.json");
  const char *args[] = { "--report", a, b, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) report = NULL;
  JsonObject *object;
  JsonObject *decision;

  g_assert_cmpint (run_cli (args, &out, &err), ==, 0);
  report = parse_json (out);
  object = json_node_get_object (report);
  g_assert_cmpstr (json_object_get_string_member (object, "display_id"), ==, "0000042");
  g_assert_cmpstr (json_object_get_string_member (object, "record_type"), ==, "TracingRequest");
  g_assert_cmpstr (json_object_get_string_member (object, "ancestor"), ==,
                   "1-1747edaa63a1c78dc51451ce97413ab8");
  decision = find_decision (json_object_get_array_member (object, "decisions"), "location_last");
  g_assert_nonnull (decision);
  decision = json_object_get_object_member (decision, "kept");
  g_assert_cmpstr (json_object_get_string_member (decision, "user"), ==, "emeka");
  g_assert_cmpstr (json_object_get_string_member (decision, "organisation"), ==, "agency-b");
  g_assert_cmpstr (json_object_get_string_member (decision, "time"), ==, "2015-03-04T14:30:00Z");
}

static void
test_cli_bad_input (void)
{
  g_autofree char *a = fixture_path ("leaf-a.json");
  g_autofree char *dir = g_dir_make_tmp ("test-merge-XXXXXX", NULL);
  g_autofree char *garbage = g_build_filename (dir, "garbage.json", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.json", NULL);
  g_autofree char *other = g_build_filename (dir, "other.json", NULL);
  const char *missing_args[] = { a, missing, NULL };
  const char *garbage_args[] = { a, garbage, NULL };
  const char *other_args[] = { a, other, NULL };
  const char *no_args[] = { NULL };
  const char *help_args[] = { "--help", NULL };
  char *out = NULL;
  char *err = NULL;

  g_assert_true (g_file_set_contents (garbage, "{\"_id\": ", -1, NULL));
  g_assert_true (g_file_set_contents (other, "{\"_id\": \"other\", \"_rev\": \"1-a\"}", -1, NULL));

  g_assert_cmpint (run_cli (missing_args, &out, &err), ==, 1);
  g_assert_nonnull (strstr (err, "missing.json"));
  g_assert_cmpstr (out, ==, "");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (garbage_args, &out, &err), ==, 1);
  g_assert_nonnull (strstr (err, "garbage.json"));
  g_assert_cmpstr (out, ==, "");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (other_args, &out, &err), ==, 1);
  g_assert_cmpstr (err, !=, "");
  g_assert_cmpstr (out, ==, "");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (no_args, &out, &err), ==, 2);
  g_assert_cmpstr (err, !=, "");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (help_args, &out, &err), ==, 0);
  g_assert_nonnull (strstr (out, "--report"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_unlink (garbage);
  g_unlink (other);
  g_rmdir (dir);
}

/* Values kept byte for byte */

/* The end of the JSON value at @p, in valid JSON. */
static const char *
skip_value (const char *p)
{
  guint depth = 0;

  do
    {
      while (g_ascii_isspace (*p))
        p++;
      if (*p == '"')
        {
          for (p++; *p != '"'; p++)
            {
              if (*p == '\\')
                p++;
            }
          p++;
        }
      else if (*p == '{' || *p == '[')
        {
          depth++;
          p++;
          continue;
        }
      else if (*p == '}' || *p == ']')
        {
          depth--;
          p++;
        }
      else if (*p == ',' || *p == ':')
        {
          p++;
          continue;
        }
      else
        {
          while (*p != '\0' && strchr (",:]} \t\r\n", *p) == NULL)
            p++;
        }
      while (depth > 0 && g_ascii_isspace (*p))
        p++;
    }
  while (depth > 0);

  return p;
}

/* The text of each member of the object @text holds, as written there. */
static GHashTable *
member_texts (const char *text)
{
  GHashTable *members = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *p = text;

  while (g_ascii_isspace (*p))
    p++;
  g_assert_cmpint (*p, ==, '{');
  p++;
  for (;;)
    {
      const char *key_end;
      const char *value_end;
      char *key;

      while (g_ascii_isspace (*p) || *p == ',')
        p++;
      if (*p == '}')
        break;
      g_assert_cmpint (*p, ==, '"');
      key_end = skip_value (p);
      key = g_strndup (p + 1, key_end - p - 2);
      p = key_end;
      while (g_ascii_isspace (*p) || *p == ':')
        p++;
      value_end = skip_value (p);
      g_hash_table_replace (members, key, g_strndup (p, value_end - p));
      p = value_end;
    }

  return members;
}

static char *
merge_texts (const char * const *texts,
             guint               n_texts,
             char              **out_report)
{
  g_autoptr(GPtrArray) leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(PsJsonTexts) leaf_texts = ps_json_texts_new ();
  g_autoptr(PsMergeResult) result = NULL;
  g_autoptr(GString) body = g_string_new (NULL);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < n_texts; i++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (texts[i], strlen (texts[i]));
      JsonNode *leaf = ps_json_texts_parse (leaf_texts, bytes, PS_JSON_MAX_DEPTH, &error);

      g_assert_no_error (error);
      g_ptr_array_add (leaves, leaf);
    }
  result = ps_merge_leaves_with_texts ((JsonNode * const *) leaves->pdata, leaves->len,
                                       leaf_texts, &error);
  g_assert_no_error (error);
  if (out_report != NULL)
    *out_report = to_text (ps_merge_result_get_report (result));
  ps_merge_result_write_body (result, NULL, body);
  return g_strdup (body->str);
}

/* Literals that json-glib cannot hold as written: integers past 64 bits,
 * doubles at the edge, negative zero, escapes.
 */
static const char * const raw_literals[] = {
  "12345678901234567890123", "12345678901234567890124", "9223372036854775808",
  "-9223372036854775809", "9223372036854775807", "1e308", "1E+2", "-0", "-0.0", "0.1",
  "2.5e-10", "42", "-17", "123456789.123456789123", "1.0", "1e-400",
  "\"caf\\u00e9\"", "\"\\ud83d\\ude00 smile\"", "\"a\\/b\"", "\"tab\\there\"", "\"plain\"",
  "\"\\u0041BC\"", "true", "false",
};

static void
append_literal (GString *out,
                GRand   *rand)
{
  g_string_append (out, raw_literals[g_rand_int_range (rand, 0, G_N_ELEMENTS (raw_literals))]);
}

/* Rows within rows, with spaces here and there as other writers put them. */
static void
append_subform (GString    *out,
                GRand      *rand,
                const char *prefix,
                guint       depth)
{
  guint n_rows = g_rand_int_range (rand, 1, 3);

  g_string_append_c (out, '[');
  for (guint r = 0; r < n_rows; r++)
    {
      g_autofree char *id = g_strdup_printf ("%s-%u", prefix, r);
      gboolean spaced = g_rand_boolean (rand);

      if (r > 0)
        g_string_append (out, spaced ? ", " : ",");
      g_string_append_printf (out, spaced ? "{ \"unique_id\" : \"%s\", \"n\": " :
                                            "{\"unique_id\":\"%s\",\"n\":", id);
      append_literal (out, rand);
      g_string_append (out, ",\"s\":");
      append_literal (out, rand);
      if (depth > 0)
        {
          g_string_append (out, ",\"rows\":");
          append_subform (out, rand, id, depth - 1);
        }
      g_string_append (out, spaced ? " }" : "}");
    }
  g_string_append_c (out, ']');
}

#define RAW_FIELDS 12
#define RAW_SUBFORMS 2

typedef struct
{
  char    *values[RAW_FIELDS + RAW_SUBFORMS];
  gboolean changed[RAW_FIELDS + RAW_SUBFORMS];
} RawSide;

static char *
raw_field_name (guint index)
{
  if (index < RAW_FIELDS)
    return g_strdup_printf ("field_%u", index);
  return g_strdup_printf ("subform_%u", index - RAW_FIELDS);
}

static char *
raw_value (GRand *rand,
           guint  index)
{
  g_autoptr(GString) out = g_string_new (NULL);

  if (index < RAW_FIELDS)
    {
      append_literal (out, rand);
    }
  else
    {
      g_autofree char *prefix = g_strdup_printf ("row%u", g_rand_int (rand));

      append_subform (out, rand, prefix, g_rand_int_range (rand, 1, 6));
    }
  return g_strdup (out->str);
}

static char *
raw_leaf (char       **base,
          RawSide     *side,
          guint        side_index,
          const char  *base_rev)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) changes = g_string_new (NULL);
  char **values = side != NULL ? side->values : base;

  g_string_append_printf (out, "{\"_id\":\"case-raw\",\"_rev\":\"%s\",",
                          side != NULL ? "" : base_rev);
  if (side != NULL)
    {
      g_string_truncate (out, 0);
      g_string_append_printf (out, "{\"_id\":\"case-raw\",\"_rev\":\"2-%08x\",",
                              0x1000 + side_index);
    }
  g_string_append (out, "\"couchrest-type\":\"Child\",");
  for (guint f = 0; f < RAW_FIELDS + RAW_SUBFORMS; f++)
    {
      g_autofree char *name = raw_field_name (f);

      g_string_append_printf (out, "\"%s\":%s,", name, values[f]);
      if (side != NULL && side->changed[f])
        g_string_append_printf (changes, "%s\"%s\":{\"from\":%s,\"to\":%s}",
                                changes->len > 0 ? "," : "", name, base[f], side->values[f]);
    }

  g_string_append (out, "\"histories\":[");
  if (side != NULL)
    g_string_append_printf (out,
                            "{\"unique_id\":\"h-%u\",\"datetime\":\"2015/03/0%u 10:00:00 +0000\","
                            "\"user_name\":\"user%u\",\"user_organization\":\"org%u\","
                            "\"prev_revision\":\"%s\",\"action\":\"update\","
                            "\"changes\":{%s}},",
                            side_index, side_index + 2, side_index, side_index, base_rev,
                            changes->str);
  g_string_append (out, "{\"unique_id\":\"h-create\",\"datetime\":\"2015/03/01 09:00:00 +0000\","
                        "\"user_name\":\"user0\",\"prev_revision\":null,\"action\":\"create\","
                        "\"changes\":{}}]}");
  return g_strdup (out->str);
}

static void
test_raw_properties (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261206);
  guint iterations = g_test_slow () ? 2000 : 200;
  guint contested = 0;

  for (guint iteration = 0; iteration < iterations; iteration++)
    {
      char *base[RAW_FIELDS + RAW_SUBFORMS];
      RawSide sides[3] = { 0 };
      char *texts[3];
      const char *reversed[3];
      guint n_sides = g_rand_int_range (rand, 2, 4);
      g_autofree char *merged = NULL;
      g_autofree char *merged_backward = NULL;
      g_autoptr(GHashTable) members = NULL;
      g_autoptr(JsonNode) parsed = NULL;

      for (guint f = 0; f < RAW_FIELDS + RAW_SUBFORMS; f++)
        base[f] = raw_value (rand, f);

      for (guint s = 0; s < n_sides; s++)
        {
          for (guint f = 0; f < RAW_FIELDS + RAW_SUBFORMS; f++)
            {
              /* A subform edited on several sides is merged row by row,
               * which the fixtures cover; here one side at most edits it.
               */
              gboolean taken = FALSE;

              for (guint o = 0; o < s && f >= RAW_FIELDS; o++)
                taken |= sides[o].changed[f];
              sides[s].changed[f] = !taken && g_rand_int_range (rand, 0, 3) == 0;
              sides[s].values[f] = sides[s].changed[f] ? raw_value (rand, f) : g_strdup (base[f]);
            }
          texts[s] = raw_leaf (base, &sides[s], s, "1-0000base");
          reversed[n_sides - 1 - s] = texts[s];
        }

      merged = merge_texts ((const char * const *) texts, n_sides, NULL);
      merged_backward = merge_texts (reversed, n_sides, NULL);
      g_assert_cmpstr (merged, ==, merged_backward);

      /* What is written must be JSON a server accepts. */
      parsed = json_from_string (merged, NULL);
      if (parsed == NULL)
        g_error ("The merged document is not valid JSON: %s", merged);

      members = member_texts (merged);
      for (guint f = 0; f < RAW_FIELDS + RAW_SUBFORMS; f++)
        {
          g_autofree char *name = raw_field_name (f);
          const char *expected = base[f];
          guint n_changed = 0;

          /* The most recent change is the last side's; untouched, the
           * ancestor's text, which every leaf holds.
           */
          for (guint s = 0; s < n_sides; s++)
            {
              if (sides[s].changed[f])
                {
                  expected = sides[s].values[f];
                  n_changed++;
                }
            }
          contested += n_changed > 1;
          if (g_strcmp0 (g_hash_table_lookup (members, name), expected) != 0)
            g_error ("%s: expected %s, merged %s in\n%s", name, expected,
                     (char *) g_hash_table_lookup (members, name), merged);
        }

      for (guint f = 0; f < RAW_FIELDS + RAW_SUBFORMS; f++)
        g_free (base[f]);
      for (guint s = 0; s < n_sides; s++)
        {
          for (guint f = 0; f < RAW_FIELDS + RAW_SUBFORMS; f++)
            g_free (sides[s].values[f]);
          g_free (texts[s]);
        }
    }

  g_assert_cmpuint (contested, >, 10);
}

/* Without histories the newer document wins a differing value; numbers
 * past 64 bits must not look alike to the merge.
 */
static void
test_raw_untracked_numbers (void)
{
  const char *older =
    "{\"_id\":\"c\",\"_rev\":\"2-bbbb\",\"last_updated_at\":\"2015-03-01T10:00:00Z\","
    "\"big\":12345678901234567890124,\"tags\":[12345678901234567890124]}";
  const char *newer =
    "{\"_id\":\"c\",\"_rev\":\"2-aaaa\",\"last_updated_at\":\"2015-03-02T10:00:00Z\","
    "\"big\":12345678901234567890123,\"tags\":[12345678901234567890123]}";
  const char *texts[] = { older, newer };
  g_autofree char *merged = merge_texts (texts, 2, NULL);
  g_autoptr(GHashTable) members = member_texts (merged);

  g_assert_cmpstr (g_hash_table_lookup (members, "big"), ==, "12345678901234567890123");
  g_assert_cmpstr (g_hash_table_lookup (members, "tags"), ==, "[12345678901234567890123]");
}

static char *
set_numbers_leaf (const char *side,
                  guint       day,
                  const char *tags)
{
  return g_strdup_printf ("{\"_id\":\"c\",\"_rev\":\"2-%s\",\"tags\":%s,\"histories\":["
                          "{\"unique_id\":\"h-%s\",\"datetime\":\"2015/03/0%u 10:00:00 +0000\","
                          "\"prev_revision\":\"1-base\","
                          "\"changes\":{\"tags\":{\"from\":[1],\"to\":%s}}},"
                          "{\"unique_id\":\"h-create\",\"datetime\":\"2015/03/01 09:00:00 +0000\","
                          "\"changes\":{}}]}",
                          side, tags, side, day, tags);
}

/* Multi-select values merge as sets: two different big numbers are two. */
static void
test_raw_set_numbers (void)
{
  g_autofree char *a = set_numbers_leaf ("aaaa", 2, "[1,12345678901234567890123]");
  g_autofree char *b = set_numbers_leaf ("bbbb", 3, "[1,12345678901234567890124]");
  const char *texts[] = { a, b };
  g_autofree char *merged = merge_texts (texts, 2, NULL);
  g_autoptr(GHashTable) members = member_texts (merged);

  g_assert_cmpstr (g_hash_table_lookup (members, "tags"), ==,
                   "[1,12345678901234567890124,12345678901234567890123]");
}

/* A double built in code, with no text, is written in the fewest digits
 * that read back as the same double: 0.1, not 0.10000000000000001.
 */
static void
test_raw_shortest_doubles (void)
{
  const struct { double value; const char *text; } cases[] = {
    { 0.1, "0.1" }, { 2.7745, "2.7745" }, { 0.25, "0.25" }, { 1e308, "1e+308" },
    { 1.0 / 3.0, "0.3333333333333333" }, { -2.5e-300, "-2.5e-300" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) node = json_node_init_double (json_node_alloc (), cases[i].value);
      g_autoptr(GString) out = g_string_new (NULL);

      ps_json_write (out, node, NULL);
      g_assert_cmpstr (out->str, ==, cases[i].text);
      g_assert_cmpfloat (g_ascii_strtod (out->str, NULL), ==, cases[i].value);
    }
}

/* json-glib takes more than JSON; what the merge keeps as text must be
 * JSON a server takes, so the rest is refused. What is JSON comes back out
 * as it went in.
 */
static void
test_raw_strict_json (void)
{
  const char * const refused[] = {
    "{\"a\": 0x10}", "{/*c*/\"a\":1}", "{\"a\":'x'}", "{\"a\":.5}", "{\"a\":1.}",
    "{\"a\":01}", "{\"a\":\"\\x\"}", "{\"a\":[1,2] /* c */}", "{\"a\":\"\\ud800\"}",
    "{\"a\":\"x\ty\"}", "{\"a\":[1,]}", "{\"a\":1,}", "{\"a\":tru}", "[1] [2]",
  };
  const char * const kept[] = {
    "{\"a\":1e308}", "{\"a\":[1.0e400, -0 ,\"caf\\u00e9\"]}",
    " {\"a\" : {\"b\":\t[ true,false,null ]}}\n", "[12345678901234567890123]",
    "{\"a\":[1],\"b\":{\"c\":1,\"c\":[2]},\"a\":2}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(PsJsonTexts) texts = ps_json_texts_new ();
      g_autoptr(GBytes) bytes = g_bytes_new_static (refused[i], strlen (refused[i]));
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) root = ps_json_texts_parse (texts, bytes, PS_JSON_MAX_DEPTH, &error);

      g_test_message ("%s", refused[i]);
      g_assert_error (error, PS_JSON_ERROR, PS_JSON_ERROR_INVALID);
      g_assert_null (root);
    }

  for (guint i = 0; i < G_N_ELEMENTS (kept); i++)
    {
      g_autoptr(PsJsonTexts) texts = ps_json_texts_new ();
      g_autoptr(GBytes) bytes = g_bytes_new_static (kept[i], strlen (kept[i]));
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) root = ps_json_texts_parse (texts, bytes, PS_JSON_MAX_DEPTH, &error);
      g_autoptr(GString) out = g_string_new (NULL);
      g_autofree char *trimmed = g_strstrip (g_strdup (kept[i]));

      g_assert_no_error (error);
      ps_json_write (out, root, texts);
      g_assert_cmpstr (out->str, ==, trimmed);
    }
}

/* Leaves the fuzzer made: a multi-select whose winning side has no value,
 * and nothing left in the merged set. The merge goes through without a
 * critical warning, in either order.
 */
static void
test_set_missing_value (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data",
                                                 "merge-set-missing-value.txt", NULL);
  g_autoptr(PsJsonTexts) texts = ps_json_texts_new ();
  g_autoptr(GPtrArray) leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) parts = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  parts = g_strsplit (text, "\n===\n", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (parts[i], strlen (parts[i]));
      JsonNode *leaf = ps_json_texts_parse (texts, bytes, PS_JSON_MAX_DEPTH, NULL);

      if (leaf != NULL)
        g_ptr_array_add (leaves, leaf);
    }
  g_assert_cmpuint (leaves->len, >=, 2);

  for (guint round = 0; round < 2; round++)
    {
      g_autoptr(PsMergeResult) result = NULL;
      g_autoptr(GError) merge_error = NULL;

      if (round == 1)
        for (guint i = 0; i < leaves->len / 2; i++)
          {
            gpointer first = leaves->pdata[i];

            leaves->pdata[i] = leaves->pdata[leaves->len - 1 - i];
            leaves->pdata[leaves->len - 1 - i] = first;
          }
      result = ps_merge_leaves_with_texts ((JsonNode * const *) leaves->pdata, leaves->len,
                                           texts, &merge_error);
      g_assert_true (result != NULL || merge_error != NULL);
    }
}

/* Equal as numbers whatever the notation; different however close. */
static void
test_raw_number_keys (void)
{
  const char * const equal[][2] = {
    { "1", "1.0" }, { "100", "1e2" }, { "1E+2", "100.000" }, { "-0", "0" }, { "0.0", "-0e5" },
    { "0.012", "1.2e-2" }, { "12345678901234567890123", "1.2345678901234567890123e22" },
  };
  const char * const different[][2] = {
    { "12345678901234567890123", "12345678901234567890124" }, { "9223372036854775808", "-1" },
    { "1e308", "1e307" }, { "0.1", "0.10000000000000001" }, { "1e400", "1e401" }, { "-1", "1" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (equal); i++)
    g_assert_true (ps_json_numbers_equal (equal[i][0], strlen (equal[i][0]),
                                          equal[i][1], strlen (equal[i][1])));
  for (guint i = 0; i < G_N_ELEMENTS (different); i++)
    g_assert_false (ps_json_numbers_equal (different[i][0], strlen (different[i][0]),
                                           different[i][1], strlen (different[i][1])));
}

static char *
write_temp_leaf (const char *dir,
                 const char *name,
                 const char *text)
{
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
test_cli_raw_numbers (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test-merge-XXXXXX", NULL);
  g_autofree char *a = write_temp_leaf (dir, "a.json",
                                        "{\"_id\":\"c\",\"_rev\":\"2-aaaa\",\"big\":"
                                        "12345678901234567890123,\"edge\":9223372036854775808,"
                                        "\"huge\":1e308,\"zero\":-0,\"name\":\"caf\\u00e9\"}");
  g_autofree char *b = write_temp_leaf (dir, "b.json",
                                        "{\"_id\":\"c\",\"_rev\":\"2-bbbb\",\"big\":"
                                        "12345678901234567890123,\"edge\":9223372036854775808,"
                                        "\"huge\":1e308,\"zero\":-0,\"name\":\"caf\\u00e9\"}");
  const char *args[] = { a, b, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GHashTable) members = NULL;

  g_assert_cmpint (run_cli (args, &out, &err), ==, 0);
  members = member_texts (out);
  g_assert_cmpstr (g_hash_table_lookup (members, "big"), ==, "12345678901234567890123");
  g_assert_cmpstr (g_hash_table_lookup (members, "edge"), ==, "9223372036854775808");
  g_assert_cmpstr (g_hash_table_lookup (members, "huge"), ==, "1e308");
  g_assert_cmpstr (g_hash_table_lookup (members, "zero"), ==, "-0");
  g_assert_cmpstr (g_hash_table_lookup (members, "name"), ==, "\"caf\\u00e9\"");

  g_unlink (a);
  g_unlink (b);
  g_rmdir (dir);
}

/* A hostile file must end in a plain error, not a crash. */
static void
test_cli_too_deep (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test-merge-XXXXXX", NULL);
  g_autofree char *a = fixture_path ("leaf-a.json");
  g_autofree char *deep = g_build_filename (dir, "deep.json", NULL);
  g_autofree char *deep_leaf = g_build_filename (dir, "deep-leaf.json", NULL);
  g_autoptr(GString) text = g_string_new (NULL);
  const char *args[] = { a, deep, NULL };
  const char *leaf_args[] = { a, deep_leaf, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  for (guint i = 0; i < 400000; i++)
    g_string_append_c (text, '[');
  g_assert_true (g_file_set_contents (deep, text->str, text->len, NULL));
  g_string_prepend (text, "{\"_id\":\"c\",\"_rev\":\"1-a\",\"deep\":");
  g_assert_true (g_file_set_contents (deep_leaf, text->str, text->len, NULL));

  g_assert_cmpint (run_cli (args, &out, &err), ==, 1);
  g_assert_nonnull (strstr (err, "deep.json"));
  g_assert_cmpstr (out, ==, "");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (leaf_args, &out, &err), ==, 1);
  g_assert_nonnull (strstr (err, "deep-leaf.json"));
  g_assert_cmpstr (out, ==, "");

  g_unlink (deep);
  g_unlink (deep_leaf);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  add_fixture_tests ();
  g_test_add_func ("/ps/merge/timestamp/forms", test_timestamp_forms);
  g_test_add_func ("/ps/merge/timestamp/instants", test_timestamp_instants);
  g_test_add_func ("/ps/merge/winning-rev", test_winning_rev);
  g_test_add_func ("/ps/merge/invalid-leaves", test_invalid_leaves);
  g_test_add_func ("/ps/merge/too-deep", test_too_deep);
  g_test_add_func ("/ps/merge/hostile-types", test_hostile_types);
  g_test_add_func ("/ps/merge/properties", test_properties);
  g_test_add_func ("/ps/merge/cli/merge", test_cli_merge);
  g_test_add_func ("/ps/merge/cli/report", test_cli_report);
  g_test_add_func ("/ps/merge/report/names-record", test_report_names_record);
  g_test_add_func ("/ps/merge/cli/bad-input", test_cli_bad_input);
  g_test_add_func ("/ps/merge/raw/properties", test_raw_properties);
  g_test_add_func ("/ps/merge/raw/untracked-numbers", test_raw_untracked_numbers);
  g_test_add_func ("/ps/merge/raw/set-numbers", test_raw_set_numbers);
  g_test_add_func ("/ps/merge/raw/strict-json", test_raw_strict_json);
  g_test_add_func ("/ps/merge/raw/shortest-doubles", test_raw_shortest_doubles);
  g_test_add_func ("/ps/merge/set-missing-value", test_set_missing_value);
  g_test_add_func ("/ps/merge/raw/number-keys", test_raw_number_keys);
  g_test_add_func ("/ps/merge/cli/raw-numbers", test_cli_raw_numbers);
  g_test_add_func ("/ps/merge/cli/too-deep", test_cli_too_deep);

  return g_test_run ();
}

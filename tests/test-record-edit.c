/* test-record-edit.c: changing one field of a record on a real
 * CouchDB-compatible server, as a user choosing a discarded value does.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-record-edit.h"
#include "ps-test-peer.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#define DB "primero_child_production"

typedef struct
{
  PsTestPeer      *peer;
  SoupSession     *session;
  PsCouchDatabase *database;
  PsJournal       *journal;
  char            *dir;
} Fixture;

typedef struct
{
  gboolean  done;
  gboolean  ok;
  GError   *error;
} Done;

static const char *record_json =
  "{\"_id\": \"case-1\", \"case_id_display\": \"a1b2c3\", \"name\": \"Amina\","
  " \"age\": 12, \"last_updated_at\": \"2024/01/02 10:00:00 +0000\","
  " \"last_updated_by\": \"primero\","
  " \"family_details_section\": [{\"unique_id\": \"row-1\", \"relation_name\": \"Musa\"},"
  "                              {\"unique_id\": \"row-2\", \"relation_name\": \"Zainab\"}],"
  " \"location\": {\"district\": \"Gulu\"},"
  " \"histories\": [{\"unique_id\": \"h-1\", \"datetime\": \"2024/01/02 10:00:00 +0000\","
  "   \"user_name\": \"primero\", \"user_organization\": \"agency-unicef\","
  "   \"prev_revision\": null, \"action\": \"create\", \"changes\": {}}]}";

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(JsonArray) docs = json_array_new ();
  g_autofree char *url = NULL;
  g_autofree char *journal_path = NULL;
  g_autoptr(GError) error = NULL;

  fixture->peer = ps_test_peer_new (TRUE);
  ps_test_peer_create_db (fixture->peer, DB);
  json_array_add_element (docs, json_from_string (record_json, &error));
  g_assert_no_error (error);
  ps_test_peer_put_docs (fixture->peer, DB, docs, TRUE);

  fixture->session = ps_couch_session_new ();
  url = ps_test_peer_db_url (fixture->peer, DB);
  fixture->database = ps_couch_database_new (fixture->session, url, &error);
  g_assert_no_error (error);

  fixture->dir = g_dir_make_tmp ("ps-record-edit-XXXXXX", &error);
  g_assert_no_error (error);
  journal_path = g_build_filename (fixture->dir, "journal.jsonl", NULL);
  fixture->journal = ps_journal_new_for_path (journal_path);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autofree char *journal_path = g_strdup (ps_journal_get_path (fixture->journal));

  g_clear_object (&fixture->journal);
  g_clear_object (&fixture->database);
  g_clear_object (&fixture->session);
  g_clear_pointer (&fixture->peer, ps_test_peer_free);
  g_unlink (journal_path);
  g_rmdir (fixture->dir);
  g_clear_pointer (&fixture->dir, g_free);
}

static void
on_set_field_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Done *done = user_data;

  done->ok = ps_record_edit_set_field_finish (result, &done->error);
  done->done = TRUE;
}

static gboolean
set_field_with_texts (Fixture      *fixture,
                      const char   *record_id,
                      const char   *path,
                      JsonNode     *value,
                      PsJsonTexts  *value_texts,
                      GError      **error)
{
  Done done = { 0, };

  ps_record_edit_set_field_async (fixture->database, record_id, path, value, value_texts,
                                  fixture->journal, "server-1", NULL,
                                  on_set_field_cb, &done);
  while (!done.done)
    g_main_context_iteration (NULL, TRUE);

  if (done.error != NULL)
    g_propagate_error (error, done.error);
  return done.ok;
}

static gboolean
set_field (Fixture     *fixture,
           const char  *record_id,
           const char  *path,
           JsonNode    *value,
           GError     **error)
{
  return set_field_with_texts (fixture, record_id, path, value, NULL, error);
}

static JsonObject *
get_record (Fixture    *fixture,
            const char *id)
{
  g_autofree char *path = g_strdup_printf ("/%s/%s", DB, id);
  g_autoptr(JsonNode) node = NULL;
  guint status = 0;

  node = ps_test_peer_request (fixture->peer, "GET", path, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  return json_object_ref (json_node_get_object (node));
}

static JsonObject *
find_row (JsonObject *record,
          const char *subform,
          const char *id)
{
  JsonArray *rows = json_object_get_array_member (record, subform);

  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);

      if (g_strcmp0 (json_object_get_string_member (row, "unique_id"), id) == 0)
        return row;
    }
  return NULL;
}

static void
test_set_field (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(JsonObject) before = get_record (fixture, "case-1");
  g_autoptr(JsonObject) after = NULL;
  g_autoptr(JsonNode) value = json_node_init_string (json_node_alloc (), "Amina Okello");
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  PsJournalFilter filter = { .kind = "manual-edit" };
  JsonArray *histories;
  JsonObject *history;
  JsonObject *change;
  JsonObject *entry;
  const char *datetime;

  g_assert_true (set_field (fixture, "case-1", "name", value, &error));
  g_assert_no_error (error);

  after = get_record (fixture, "case-1");
  g_assert_cmpstr (json_object_get_string_member (after, "name"), ==, "Amina Okello");
  g_assert_cmpint (json_object_get_int_member (after, "age"), ==, 12);
  g_assert_cmpstr (json_object_get_string_member (after, "_rev"), !=,
                   json_object_get_string_member (before, "_rev"));

  /* A Primero history entry, newest first, on top of the old one. */
  histories = json_object_get_array_member (after, "histories");
  g_assert_cmpuint (json_array_get_length (histories), ==, 2);
  history = json_array_get_object_element (histories, 0);
  g_assert_cmpstr (json_object_get_string_member (history, "action"), ==, "update");
  g_assert_cmpstr (json_object_get_string_member (history, "user_name"), ==, g_get_user_name ());
  g_assert_true (json_object_get_null_member (history, "user_organization"));
  g_assert_cmpstr (json_object_get_string_member (history, "prev_revision"), ==,
                   json_object_get_string_member (before, "_rev"));
  g_assert_cmpuint (strlen (json_object_get_string_member (history, "unique_id")), ==, 36);
  datetime = json_object_get_string_member (history, "datetime");
  g_assert_true (g_regex_match_simple ("^\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d \\+0000$",
                                       datetime, 0, 0));
  change = json_object_get_object_member (json_object_get_object_member (history, "changes"),
                                          "name");
  g_assert_cmpstr (json_object_get_string_member (change, "from"), ==, "Amina");
  g_assert_cmpstr (json_object_get_string_member (change, "to"), ==, "Amina Okello");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (histories, 1),
                                                  "unique_id"), ==, "h-1");

  g_assert_cmpstr (json_object_get_string_member (after, "last_updated_at"), ==, datetime);
  g_assert_cmpstr (json_object_get_string_member (after, "last_updated_by"), ==,
                   g_get_user_name ());

  /* The journal says who changed what where. */
  entries = ps_journal_read (fixture->journal, &filter, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
  entry = g_ptr_array_index (entries, 0);
  g_assert_cmpstr (json_object_get_string_member (entry, "server"), ==, "server-1");
  g_assert_cmpstr (json_object_get_string_member (entry, "database"), ==, DB);
  g_assert_cmpstr (json_object_get_string_member (entry, "record"), ==, "case-1");
  g_assert_cmpstr (json_object_get_string_member (entry, "path"), ==, "name");
  g_assert_cmpstr (json_object_get_string_member (entry, "value"), ==, "Amina Okello");
}

static void
test_subform_and_nested (Fixture       *fixture,
                         gconstpointer  user_data)
{
  g_autoptr(JsonObject) after = NULL;
  g_autoptr(JsonNode) name = json_node_init_string (json_node_alloc (), "Musa Okello");
  g_autoptr(JsonNode) district = json_node_init_string (json_node_alloc (), "Kitgum");
  g_autoptr(GError) error = NULL;
  JsonObject *history;
  JsonObject *changes;
  JsonObject *row_change;

  g_assert_true (set_field (fixture, "case-1", "family_details_section/row-1/relation_name",
                            name, &error));
  g_assert_no_error (error);
  g_assert_true (set_field (fixture, "case-1", "location/district", district, &error));
  g_assert_no_error (error);

  after = get_record (fixture, "case-1");
  g_assert_cmpstr (json_object_get_string_member (find_row (after, "family_details_section",
                                                            "row-1"), "relation_name"),
                   ==, "Musa Okello");
  g_assert_cmpstr (json_object_get_string_member (find_row (after, "family_details_section",
                                                            "row-2"), "relation_name"),
                   ==, "Zainab");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (after,
                                                                                 "location"),
                                                  "district"), ==, "Kitgum");

  /* The subform change is recorded row by row, as Primero does. */
  history = json_array_get_object_element (json_object_get_array_member (after, "histories"), 1);
  changes = json_object_get_object_member (history, "changes");
  row_change = json_object_get_object_member (
    json_object_get_object_member (json_object_get_object_member (changes,
                                                                  "family_details_section"),
                                   "row-1"),
    "relation_name");
  g_assert_cmpstr (json_object_get_string_member (row_change, "from"), ==, "Musa");
  g_assert_cmpstr (json_object_get_string_member (row_change, "to"), ==, "Musa Okello");

  /* Removing a row is recorded as null. */
  g_assert_true (set_field (fixture, "case-1", "family_details_section/row-2", NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&after, json_object_unref);
  after = get_record (fixture, "case-1");
  g_assert_null (find_row (after, "family_details_section", "row-2"));
  history = json_array_get_object_element (json_object_get_array_member (after, "histories"), 0);
  changes = json_object_get_object_member (json_object_get_object_member (history, "changes"),
                                           "family_details_section");
  g_assert_true (json_object_get_null_member (changes, "row-2"));
}

static void
test_errors (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(JsonNode) value = json_node_init_string (json_node_alloc (), "x");
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  PsJournalFilter filter = { .kind = "manual-edit" };

  /* A record this instance does not hold is named in the message. */
  g_assert_false (set_field (fixture, "case-missing", "name", value, &error));
  g_assert_error (error, PS_RECORD_EDIT_ERROR, PS_RECORD_EDIT_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "case-missing"));
  g_clear_error (&error);

  /* So is a subform row that is not there. */
  g_assert_false (set_field (fixture, "case-1", "family_details_section/row-9/relation_name",
                             value, &error));
  g_assert_error (error, PS_RECORD_EDIT_ERROR, PS_RECORD_EDIT_ERROR_INVALID_PATH);
  g_clear_error (&error);

  /* Bookkeeping is not a field. */
  g_assert_false (set_field (fixture, "case-1", "_rev", value, &error));
  g_assert_error (error, PS_RECORD_EDIT_ERROR, PS_RECORD_EDIT_ERROR_INVALID_PATH);
  g_clear_error (&error);

  entries = ps_journal_read (fixture->journal, &filter, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 0);
}

/* The fields an edit does not touch are saved as they were read: json-glib
 * would write 1e308 back as `1e+308.0`, which the server refuses.
 */
static void
test_other_values_kept (Fixture       *fixture,
                        gconstpointer  user_data)
{
  const char *record =
    "{\"_id\":\"case-numbers\",\"name\":\"Ana\",\"huge\":1e308,\"tiny\":-2.5e-300,"
    "\"rows\":[{\"unique_id\":\"r1\",\"weight\":1.0e300}],\"histories\":[]}";
  g_autofree char *db_url = ps_test_peer_db_url (fixture->peer, DB);
  g_autofree char *url = g_strdup_printf ("%s/case-numbers", db_url);
  g_autoptr(SoupMessage) message = soup_message_new ("PUT", url);
  g_autoptr(GBytes) request = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(JsonNode) value = json_node_init_string (json_node_alloc (), "Ana Maria");
  g_autoptr(JsonObject) saved = NULL;
  g_autoptr(GError) error = NULL;

  request = g_bytes_new_static (record, strlen (record));
  soup_message_set_request_body_from_bytes (message, "application/json", request);
  answer = soup_session_send_and_read (fixture->session, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (message), ==, 201);

  g_assert_true (set_field (fixture, "case-numbers", "name", value, &error));
  g_assert_no_error (error);

  saved = get_record (fixture, "case-numbers");
  g_assert_cmpstr (json_object_get_string_member (saved, "name"), ==, "Ana Maria");
  g_assert_cmpfloat (json_object_get_double_member (saved, "huge"), ==, 1e308);
  g_assert_cmpfloat (json_object_get_double_member (saved, "tiny"), ==, -2.5e-300);
  g_assert_cmpfloat (json_object_get_double_member (find_row (saved, "rows", "r1"), "weight"),
                     ==, 1e300);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (saved, "histories")),
                    ==, 1);
}

static void
on_log_cb (SoupLogger         *logger,
           SoupLoggerLogLevel  level,
           char                direction,
           const char         *data,
           gpointer            user_data)
{
  GString *sent = user_data;

  if (direction == '>')
    {
      g_string_append (sent, data);
      g_string_append_c (sent, '\n');
    }
}

/* Putting back a discarded big integer writes it as the journal holds it:
 * rounded to a double it would be another number, and the user's restore
 * would change the record's data.
 */
static void
test_big_integer_restored (Fixture       *fixture,
                           gconstpointer  user_data)
{
  const char *value_json = "123456789012345678901234567890";
  g_autoptr(SoupLogger) logger = soup_logger_new (SOUP_LOGGER_LOG_BODY);
  g_autoptr(GString) sent = g_string_new (NULL);
  g_autoptr(GBytes) bytes = g_bytes_new_static (value_json, strlen (value_json));
  g_autoptr(PsJsonTexts) texts = ps_json_texts_new ();
  g_autoptr(JsonNode) value = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *journal = NULL;

  /* As the conflicts page reads the value its action carries. */
  value = ps_json_texts_parse (texts, bytes, PS_JSON_MAX_DEPTH, &error);
  g_assert_no_error (error);

  soup_logger_set_printer (logger, on_log_cb, sent, NULL);
  soup_session_add_feature (fixture->session, SOUP_SESSION_FEATURE (logger));
  g_assert_true (set_field_with_texts (fixture, "case-1", "age", value, texts, &error));
  g_assert_no_error (error);
  soup_session_remove_feature (fixture->session, SOUP_SESSION_FEATURE (logger));

  g_test_message ("sent: %s", sent->str);
  g_assert_nonnull (strstr (sent->str, "\"age\":123456789012345678901234567890,"));
  g_assert_nonnull (strstr (sent->str, "\"from\":12,\"to\":123456789012345678901234567890}"));

  g_file_get_contents (ps_journal_get_path (fixture->journal), &journal, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (journal, "\"value\":123456789012345678901234567890"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add ("/ps/record-edit/set-field", Fixture, NULL,
              fixture_set_up, test_set_field, fixture_tear_down);
  g_test_add ("/ps/record-edit/subform-and-nested", Fixture, NULL,
              fixture_set_up, test_subform_and_nested, fixture_tear_down);
  g_test_add ("/ps/record-edit/other-values-kept", Fixture, NULL,
              fixture_set_up, test_other_values_kept, fixture_tear_down);
  g_test_add ("/ps/record-edit/big-integer-restored", Fixture, NULL,
              fixture_set_up, test_big_integer_restored, fixture_tear_down);
  g_test_add ("/ps/record-edit/errors", Fixture, NULL,
              fixture_set_up, test_errors, fixture_tear_down);

  return g_test_run ();
}

/* test-couch.c: the CouchDB client against edge cases a real server will not
 * produce on demand, such as answers larger than memory.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-checkpoint.h"
#include "ps-couch-database.h"
#include "ps-fake-couch.h"
#include "ps-fetched-docs.h"
#include "ps-replication.h"
#include "ps-test-replication.h"
#include "ps-url.h"

#include <string.h>

typedef struct
{
  JsonNode *node;
  GError   *error;
  gboolean  done;
} Answer;

static void
on_answer_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Answer *answer = user_data;

  answer->node = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result,
                                                   &answer->error);
  answer->done = TRUE;
}

static void
request (PsCouchDatabase *database,
         const char      *method,
         const char      *path,
         Answer          *answer)
{
  memset (answer, 0, sizeof *answer);
  ps_couch_database_request_async (database, method, path, NULL, NULL, NULL, on_answer_cb, answer);
  while (!answer->done)
    g_main_context_iteration (NULL, TRUE);
}

static void
answer_clear (Answer *answer)
{
  g_clear_pointer (&answer->node, json_node_unref);
  g_clear_error (&answer->error);
}

static PsCouchDatabase *
open_fake_database (SoupSession *session,
                    PsFakeCouch *fake,
                    const char  *path)
{
  g_autofree char *url = ps_fake_couch_url (fake, path);
  g_autoptr(GError) error = NULL;
  PsCouchDatabase *database = ps_couch_database_new (session, url, &error);

  g_assert_no_error (error);
  ps_couch_database_set_retries (database, 2);
  return database;
}

static void
test_url_errors (void)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  const struct { const char *url; const char *says; } cases[] = {
    { "example.org:5984/db", "scheme" },
    { "ftp://example.org/db", "http" },
    { "https://example.org", "name a database" },
    { "https://example.org/", "name a database" },
    { "https:///db", "host" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PsCouchDatabase) database = ps_couch_database_new (session, cases[i].url, &error);

      g_assert_null (database);
      g_assert_error (error, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_URL);
      g_assert_nonnull (strstr (error->message, cases[i].says));
    }
}

static void
test_url_credentials_hidden (void)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PsCouchDatabase) database = NULL;
  g_autofree char *display = NULL;
  g_autofree char *identity = NULL;
  g_autofree char *redacted = NULL;

  database = ps_couch_database_new (session,
                                    "https://admin:s%40cret@couch.example.org:6984/proxy/primero_child_production",
                                    &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ps_couch_database_get_name (database), ==, "primero_child_production");
  g_assert_cmpstr (ps_couch_database_get_username (database), ==, "admin");

  display = ps_couch_database_dup_display_url (database);
  g_assert_cmpstr (display, ==, "https://admin@couch.example.org:6984/proxy/primero_child_production");
  identity = ps_couch_database_dup_identity_url (database);
  g_assert_cmpstr (identity, ==, "https://couch.example.org:6984/proxy/primero_child_production");

  redacted = ps_url_redact ("https://admin:s3cret@host/db");
  g_assert_null (strstr (redacted, "s3cret"));
  g_clear_pointer (&redacted, g_free);
  redacted = ps_url_redact ("not a url admin:s3cret@host/db");
  g_assert_null (strstr (redacted, "s3cret"));
}

static void
test_escape_id (void)
{
  g_autofree char *plain = ps_couch_escape_id ("a b/c");
  g_autofree char *local = ps_couch_escape_id ("_local/abc def");
  g_autofree char *design = ps_couch_escape_id ("_design/x");

  g_assert_cmpstr (plain, ==, "a%20b%2Fc");
  g_assert_cmpstr (local, ==, "_local/abc%20def");
  g_assert_cmpstr (design, ==, "_design/x");
}

static void
test_credentials_sent_up_front (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(PsCouchDatabase) database = open_fake_database (session, fake, "/db");
  Answer answer;

  /* Like CouchDB, the fake sends no challenge: credentials must come first. */
  ps_fake_couch_require_auth (fake, "admin", "pw", FALSE);
  ps_fake_couch_route (fake, "GET", "/db", 200, NULL, "{\"db_name\":\"db\"}");
  ps_couch_database_set_credentials (database, "admin", "pw");

  request (database, "GET", NULL, &answer);
  g_assert_no_error (answer.error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (answer.node));
  g_assert_cmpuint (ps_fake_couch_count_requests (fake, "GET", "/db"), ==, 1);
  g_assert_true (g_str_has_prefix (ps_fake_couch_last_authorization (fake), "Basic "));
  answer_clear (&answer);
}

static void
test_wrong_password (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(PsCouchDatabase) database = open_fake_database (session, fake, "/db");
  Answer answer;

  ps_fake_couch_require_auth (fake, "admin", "right", TRUE);
  ps_couch_database_set_credentials (database, "admin", "wrong-password-123");

  request (database, "GET", NULL, &answer);
  g_assert_error (answer.error, PS_COUCH_ERROR, PS_COUCH_ERROR_UNAUTHORIZED);
  g_assert_false (ps_couch_error_is_transient (answer.error));
  g_assert_null (strstr (answer.error->message, "wrong-password-123"));
  /* Refused credentials are not retried: they would only lock the account. */
  g_assert_cmpuint (ps_fake_couch_count_requests (fake, "GET", "/db"), ==, 1);
  answer_clear (&answer);
}

static void
test_server_errors_retried (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(PsCouchDatabase) database = open_fake_database (session, fake, "/db");
  Answer answer;

  ps_fake_couch_route (fake, "GET", "/db", 200, NULL, "{\"db_name\":\"db\"}");

  ps_fake_couch_fail_next (fake, 2, 503);
  request (database, "GET", NULL, &answer);
  g_assert_no_error (answer.error);
  g_assert_cmpuint (ps_fake_couch_count_requests (fake, "GET", "/db"), ==, 3);
  answer_clear (&answer);

  ps_fake_couch_fail_next (fake, 10, 500);
  request (database, "GET", NULL, &answer);
  g_assert_error (answer.error, PS_COUCH_ERROR, PS_COUCH_ERROR_SERVER);
  g_assert_true (ps_couch_error_is_transient (answer.error));
  g_assert_nonnull (strstr (answer.error->message, "500"));
  answer_clear (&answer);
}

static void
test_garbage_and_html (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(PsCouchDatabase) garbage = open_fake_database (session, fake, "/garbage");
  g_autoptr(PsCouchDatabase) html = open_fake_database (session, fake, "/html");
  Answer answer;

  ps_fake_couch_route (fake, "GET", "/garbage", 200, NULL, "{\"db_name\": \"gar");
  ps_fake_couch_route (fake, "GET", "/html", 200, "text/html",
                       "<!DOCTYPE html><html><body>Welcome to Primero</body></html>");

  request (garbage, "GET", NULL, &answer);
  g_assert_error (answer.error, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE);
  answer_clear (&answer);

  request (html, "GET", NULL, &answer);
  g_assert_error (answer.error, PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_COUCHDB);
  g_assert_nonnull (strstr (answer.error->message, "web page"));
  answer_clear (&answer);
}

static void
test_slow_server_times_out (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", 1, NULL);
  g_autoptr(PsCouchDatabase) database = open_fake_database (session, fake, "/db");
  Answer answer;

  ps_fake_couch_route (fake, "GET", "/db", 200, NULL, "{\"db_name\":\"db\"}");
  ps_fake_couch_set_delay (fake, 2500);
  ps_couch_database_set_retries (database, 0);

  request (database, "GET", NULL, &answer);
  g_assert_error (answer.error, PS_COUCH_ERROR, PS_COUCH_ERROR_TIMED_OUT);
  g_assert_true (ps_couch_error_is_transient (answer.error));
  answer_clear (&answer);
}

static void
test_fetched_docs (void)
{
  const char *answer_text =
    "{\"results\":[{\"id\":\"a\",\"docs\":[{\"ok\":{\"_id\":\"a\",\"_rev\":\"1-x\",\"v\":[1,{\"k\":\"}\\\"\"}]}},"
    "{\"error\":{\"id\":\"a\",\"rev\":\"2-y\",\"error\":\"not_found\",\"reason\":\"missing\"}}]},"
    "{\"id\":\"b\\u00e9\",\"docs\":[{\"ok\":{\"_rev\":\"3-z\",\"_id\":\"b\\u00e9\",\"_deleted\":true}}]}]}";
  const char *broken[] = {
    "{\"results\":[{\"id\":\"a\",\"docs\":[{\"ok\":{\"_id\":\"a\",\"_rev\":\"1-x\"}}]}",
    "{\"results\":[{\"id\":\"a\",\"docs\":[{\"ok\":{\"_rev\":\"1-x\"}}]}]}",
    "[1,2]",
    "",
  };
  g_autoptr(PsFetchedDocs) docs = ps_fetched_docs_new ();
  g_autoptr(GBytes) bytes = g_bytes_new_static (answer_text, strlen (answer_text));
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonNode) parsed = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *written;

  g_assert_true (ps_fetched_docs_parse_bulk_get (docs, bytes, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ps_fetched_docs_get_length (docs), ==, 3);
  g_assert_cmpuint (ps_fetched_docs_count_found (docs), ==, 2);
  g_assert_true (ps_fetched_docs_get (docs, 1)->missing);
  g_assert_cmpstr (ps_fetched_docs_get (docs, 2)->id, ==, "bé");

  body = ps_fetched_docs_to_bulk_docs_body (docs);
  parsed = json_from_string (g_bytes_get_data (body, NULL), &error);
  g_assert_no_error (error);
  g_assert_false (json_object_get_boolean_member (json_node_get_object (parsed), "new_edits"));
  written = json_object_get_array_member (json_node_get_object (parsed), "docs");
  g_assert_cmpuint (json_array_get_length (written), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (written, 0), "_rev"),
                   ==, "1-x");

  for (guint i = 0; i < G_N_ELEMENTS (broken); i++)
    {
      g_autoptr(PsFetchedDocs) more = ps_fetched_docs_new ();
      g_autoptr(GBytes) bad = g_bytes_new_static (broken[i], strlen (broken[i]));
      g_autoptr(GError) bad_error = NULL;

      g_assert_false (ps_fetched_docs_parse_bulk_get (more, bad, &bad_error));
      g_assert_error (bad_error, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE);
      g_assert_cmpuint (ps_fetched_docs_get_length (more), ==, 0);
    }
}

static void
test_fetched_docs_deep_nesting (void)
{
  g_autoptr(GString) text = g_string_new ("[{\"ok\":{\"_id\":\"a\",\"_rev\":\"1-a\",\"x\":");
  g_autoptr(PsFetchedDocs) docs = ps_fetched_docs_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 100000; i++)
    g_string_append_c (text, '[');
  bytes = g_bytes_new (text->str, text->len);

  g_assert_false (ps_fetched_docs_parse_open_revs (docs, bytes, &error));
  g_assert_error (error, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE);
}

static JsonObject *
object_from (const char *text)
{
  g_autoptr(JsonNode) node = json_from_string (text, NULL);

  g_assert_nonnull (node);
  return json_object_ref (json_node_get_object (node));
}

static void
test_checkpoint_start_seq (void)
{
  g_autoptr(JsonObject) source = object_from ("{\"session_id\":\"s2\",\"source_last_seq\":\"42-abc\","
                                              "\"history\":[{\"session_id\":\"s2\",\"recorded_seq\":\"42-abc\"},"
                                              "{\"session_id\":\"s1\",\"recorded_seq\":17}]}");
  g_autoptr(JsonObject) same = object_from ("{\"session_id\":\"s2\",\"source_last_seq\":\"42-abc\"}");
  g_autoptr(JsonObject) behind = object_from ("{\"session_id\":\"s1\","
                                              "\"history\":[{\"session_id\":\"s1\",\"recorded_seq\":17}]}");
  g_autoptr(JsonObject) other = object_from ("{\"session_id\":\"zz\",\"history\":[{\"session_id\":\"zz\"}]}");
  g_autoptr(JsonNode) seq = NULL;
  g_autoptr(JsonObject) updated = NULL;
  g_autoptr(JsonNode) recorded = json_from_string ("\"50-def\"", NULL);
  g_autofree char *query = NULL;

  seq = ps_checkpoint_find_start_seq (source, same);
  g_assert_cmpstr (json_node_get_string (seq), ==, "42-abc");
  g_clear_pointer (&seq, json_node_unref);

  /* The target lost its last checkpoint: resume from the older common one. */
  seq = ps_checkpoint_find_start_seq (source, behind);
  g_assert_cmpint (json_node_get_int (seq), ==, 17);
  g_clear_pointer (&seq, json_node_unref);

  g_assert_null (ps_checkpoint_find_start_seq (source, other));
  g_assert_null (ps_checkpoint_find_start_seq (source, NULL));

  updated = ps_checkpoint_update_log (source, "s3", "2026-01-01T00:00:00Z", NULL, recorded, NULL);
  g_assert_cmpstr (json_object_get_string_member (updated, "session_id"), ==, "s3");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (updated, "history")), ==, 3);

  query = ps_checkpoint_seq_to_query (recorded);
  g_assert_cmpstr (query, ==, "50-def");
  g_clear_pointer (&query, g_free);
  seq = json_from_string ("[3,\"g1\"]", NULL);
  query = ps_checkpoint_seq_to_query (seq);
  g_assert_cmpstr (query, ==, "%5B3%2C%22g1%22%5D");
}

static void
test_replication_ids (void)
{
  g_autofree char *a = ps_checkpoint_replication_id ("http://h/a", "http://h/b", NULL);
  g_autofree char *b = ps_checkpoint_replication_id ("http://h/a", "http://h/b", NULL);
  g_autofree char *reversed = ps_checkpoint_replication_id ("http://h/b", "http://h/a", NULL);

  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (a, !=, reversed);
  g_assert_cmpuint (strlen (a), ==, 32);
}

/* Size limits: a broken or hostile server cannot exhaust memory. */

#define MIB              (1024 * 1024)
#define HUGE_ANSWER      ((guint64) 1024 * MIB)
/* Well under the gigabyte served: the default answer limit, a buffer grown
 * to twice that, and under the sanitizers the memory it outgrew, which
 * they hold back for a while.
 */
#define MAX_RSS_GROWTH   (320 * MIB)

/* The process's resident memory now, and at its peak, in bytes. */
static void
read_memory (guint64 *rss,
             guint64 *peak)
{
  g_autofree char *status = NULL;
  g_auto(GStrv) lines = NULL;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  lines = g_strsplit (status, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "VmRSS:"))
        *rss = g_ascii_strtoull (lines[i] + strlen ("VmRSS:"), NULL, 10) * 1024;
      else if (g_str_has_prefix (lines[i], "VmHWM:"))
        *peak = g_ascii_strtoull (lines[i] + strlen ("VmHWM:"), NULL, 10) * 1024;
    }
}

/* Fails like an answer over the limit, and is not asked again. */
static void
assert_too_large (PsFakeCouch *fake,
                  Answer      *answer,
                  const char  *limit)
{
  g_autofree char *says = g_strdup_printf ("larger than the %s limit", limit);

  g_assert_null (answer->node);
  g_assert_error (answer->error, PS_COUCH_ERROR, PS_COUCH_ERROR_ANSWER_TOO_LARGE);
  g_assert_false (ps_couch_error_is_transient (answer->error));
  g_assert_nonnull (strstr (answer->error->message, says));
  g_assert_cmpuint (ps_fake_couch_count_requests (fake, "GET", "/db/_changes"), ==, 1);
}

static void
test_endless_answer (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsCouchDatabase) database = open_fake_database (session, fake, "/db");
  guint64 rss_before = 0;
  guint64 rss_after = 0;
  guint64 peak = 0;
  Answer answer;

  /* A gigabyte of changes, sent as it is made, with no length given. */
  ps_fake_couch_route_stream (fake, "GET", "/db/_changes", "{\"results\":[",
                              "{\"seq\":1,\"id\":\"x\",\"changes\":[{\"rev\":\"1-a\"}]},",
                              HUGE_ANSWER, FALSE);
  read_memory (&rss_before, &peak);
  request (database, "GET", "_changes", &answer);
  read_memory (&rss_after, &peak);

  g_test_message ("streamed %" G_GUINT64_FORMAT " MB of %" G_GUINT64_FORMAT " MB; resident "
                  "%" G_GUINT64_FORMAT " MB before, peak %" G_GUINT64_FORMAT " MB",
                  ps_fake_couch_get_streamed (fake) / MIB, HUGE_ANSWER / MIB,
                  rss_before / MIB, peak / MIB);
  assert_too_large (fake, &answer, "64 MB");
  /* Reading stopped at the limit, and memory stayed bounded by it. */
  g_assert_cmpuint (ps_fake_couch_get_streamed (fake), <, HUGE_ANSWER / 4);
  g_assert_cmpuint (peak, <, rss_before + MAX_RSS_GROWTH);
  g_clear_error (&answer.error);

  /* The session is still usable: the dropped answer took its connection. */
  ps_fake_couch_route (fake, "GET", "/db", 200, NULL, "{\"db_name\":\"db\"}");
  request (database, "GET", NULL, &answer);
  g_assert_no_error (answer.error);
  g_assert_nonnull (answer.node);
  g_clear_pointer (&answer.node, json_node_unref);
}

static void
test_declared_length (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsCouchDatabase) database = open_fake_database (session, fake, "/db");
  Answer answer;

  /* The length says too much already: nothing of the body is read. */
  ps_fake_couch_route_stream (fake, "GET", "/db/_changes", "{\"results\":[", "{},",
                              HUGE_ANSWER, TRUE);
  ps_couch_database_set_max_response_size (database, 1 * MIB);
  request (database, "GET", "_changes", &answer);
  assert_too_large (fake, &answer, "1 MB");
  g_assert_cmpuint (ps_fake_couch_get_streamed (fake), <, 8 * MIB);
  g_clear_error (&answer.error);
}

static void
test_deep_answer (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsCouchDatabase) database = open_fake_database (session, fake, "/db");
  g_autoptr(GString) deep = g_string_new ("{\"db_name\":");
  Answer answer;

  /* Deep enough to overflow the stack of a recursive parser. */
  for (guint i = 0; i < 500000; i++)
    g_string_append_c (deep, '[');
  for (guint i = 0; i < 500000; i++)
    g_string_append_c (deep, ']');
  g_string_append_c (deep, '}');
  ps_fake_couch_route (fake, "GET", "/db", 200, NULL, deep->str);
  ps_couch_database_set_retries (database, 0);

  request (database, "GET", NULL, &answer);
  g_assert_null (answer.node);
  g_assert_error (answer.error, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE);
  g_assert_nonnull (strstr (answer.error->message, "nested deeper"));
  g_clear_error (&answer.error);
}

/* Replication against canned answers: two documents, one over the limit. */

#define RUN_TIMEOUT_S 60

static void
route_replication (PsFakeCouch     *fake,
                   PsCouchDatabase *source,
                   PsCouchDatabase *target,
                   const char      *bulk_get)
{
  g_autofree char *source_identity = ps_couch_database_dup_identity_url (source);
  g_autofree char *target_identity = ps_couch_database_dup_identity_url (target);
  g_autofree char *id = ps_checkpoint_replication_id (source_identity, target_identity, NULL);
  g_autofree char *log_path = g_strdup_printf ("/tgt/_local/%s", id);

  ps_fake_couch_route (fake, "GET", "/src", 200, NULL, "{\"db_name\":\"src\",\"update_seq\":2}");
  ps_fake_couch_route (fake, "GET", "/tgt", 200, NULL, "{\"db_name\":\"tgt\",\"update_seq\":0}");
  ps_fake_couch_route (fake, "GET", "/src/_changes", 200, NULL,
                       "{\"results\":["
                       "{\"seq\":1,\"id\":\"small\",\"changes\":[{\"rev\":\"1-a\"}]},"
                       "{\"seq\":2,\"id\":\"big\",\"changes\":[{\"rev\":\"1-b\"}]}],"
                       "\"last_seq\":2}");
  ps_fake_couch_route (fake, "POST", "/tgt/_revs_diff", 200, NULL,
                       "{\"small\":{\"missing\":[\"1-a\"]},\"big\":{\"missing\":[\"1-b\"]}}");
  ps_fake_couch_route (fake, "POST", "/src/_bulk_get", 200, NULL, bulk_get);
  ps_fake_couch_route (fake, "POST", "/tgt/_bulk_docs", 201, NULL, "[]");
  ps_fake_couch_route (fake, "POST", "/tgt/_ensure_full_commit", 201, NULL, "{\"ok\":true}");
  ps_fake_couch_route (fake, "PUT", log_path, 201, NULL, "{\"ok\":true,\"rev\":\"0-1\"}");
}

static char *
bulk_get_answer (gsize big_size)
{
  GString *answer = g_string_new ("{\"results\":["
                                  "{\"id\":\"small\",\"docs\":[{\"ok\":"
                                  "{\"_id\":\"small\",\"_rev\":\"1-a\",\"name\":\"Ana\"}}]},"
                                  "{\"id\":\"big\",\"docs\":[{\"ok\":"
                                  "{\"_id\":\"big\",\"_rev\":\"1-b\",\"photo\":\"");

  for (gsize i = 0; i < big_size; i++)
    g_string_append_c (answer, 'A');
  g_string_append (answer, "\"}}]}]}");

  return g_string_free (answer, FALSE);
}

static void
test_oversize_document_listed (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsCouchDatabase) source = open_fake_database (session, fake, "/src");
  g_autoptr(PsCouchDatabase) target = open_fake_database (session, fake, "/tgt");
  g_autoptr(PsReplication) replication = ps_replication_new (source, target);
  g_autofree char *bulk_get = bulk_get_answer (2 * MIB);
  const PsWriteFailure *failure;
  GPtrArray *failures;
  PsTestRun run;

  route_replication (fake, source, target, bulk_get);
  ps_replication_set_max_document_size (replication, 1 * MIB);
  ps_test_replication_run (replication, NULL, RUN_TIMEOUT_S, &run);

  /* The small one is copied; the big one is listed, with why. */
  g_assert_no_error (run.error);
  g_assert_true (run.ok);
  g_assert_cmpuint (ps_replication_get_docs_written (replication), ==, 1);
  g_assert_cmpuint (ps_replication_get_doc_write_failures (replication), ==, 1);
  failures = ps_replication_get_write_failures (replication);
  g_assert_cmpuint (failures->len, ==, 1);
  failure = g_ptr_array_index (failures, 0);
  g_assert_cmpstr (failure->id, ==, "big");
  g_assert_cmpstr (failure->rev, ==, "1-b");
  g_assert_cmpstr (failure->error, ==, "too_large");
  g_assert_nonnull (strstr (failure->reason, "larger than the 1 MB limit"));
  g_assert_cmpuint (ps_fake_couch_count_requests (fake, "POST", "/tgt/_bulk_docs"), ==, 1);
}

static void
test_answer_over_limit_fetched_one_by_one (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsCouchDatabase) source = open_fake_database (session, fake, "/src");
  g_autoptr(PsCouchDatabase) target = open_fake_database (session, fake, "/tgt");
  g_autoptr(PsReplication) replication = ps_replication_new (source, target);
  g_autofree char *bulk_get = bulk_get_answer (3 * MIB);
  const PsWriteFailure *failure;
  PsTestRun run;

  /* The batch's answer is over the limit: each document is asked for on
   * its own; the one larger than a whole answer may be is listed, and the
   * others are copied.
   */
  route_replication (fake, source, target, bulk_get);
  ps_fake_couch_route (fake, "GET", "/src/small", 200, NULL,
                       "[{\"ok\":{\"_id\":\"small\",\"_rev\":\"1-a\",\"name\":\"Ana\"}}]");
  ps_fake_couch_route_stream (fake, "GET", "/src/big", "[{\"ok\":{\"_id\":\"big\",\"photo\":\"",
                              "AAAA", 3 * MIB, FALSE);
  ps_couch_database_set_max_response_size (source, 2 * MIB);
  ps_test_replication_run (replication, NULL, RUN_TIMEOUT_S, &run);

  g_assert_no_error (run.error);
  g_assert_true (run.ok);
  g_assert_cmpuint (ps_fake_couch_count_requests (fake, "POST", "/src/_bulk_get"), ==, 1);
  g_assert_cmpuint (ps_fake_couch_count_requests (fake, "GET", "/src/small"), ==, 1);
  g_assert_cmpuint (ps_fake_couch_count_requests (fake, "GET", "/src/big"), ==, 1);
  g_assert_cmpuint (ps_replication_get_docs_written (replication), ==, 1);
  g_assert_cmpuint (ps_replication_get_doc_write_failures (replication), ==, 1);
  failure = g_ptr_array_index (ps_replication_get_write_failures (replication), 0);
  g_assert_cmpstr (failure->id, ==, "big");
  g_assert_cmpstr (failure->rev, ==, "1-b");
  g_assert_cmpstr (failure->error, ==, "too_large");
  g_assert_nonnull (strstr (failure->reason, "larger than the 2 MB limit"));
}

/* A server that sends a request elsewhere gets no credentials followed
 * there: the user is told where it points instead.
 */
typedef enum
{
  REDIRECT_BASIC,         /* a request with Basic credentials */
  REDIRECT_LOGIN,         /* the login, with the password in its form */
  REDIRECT_SESSION,       /* a request with the session cookie */
} RedirectCase;

static void
test_redirect_not_followed (gconstpointer data)
{
  RedirectCase redirect_case = GPOINTER_TO_INT (data);
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(PsFakeCouch) elsewhere = ps_fake_couch_new ();
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsCouchDatabase) database = open_fake_database (session, fake, "/db");
  g_autofree char *target = ps_fake_couch_url (elsewhere, "/db");
  g_autofree char *target_session = ps_fake_couch_url (elsewhere, "/_session");
  g_autofree char *target_host = ps_fake_couch_url (elsewhere, "");
  Answer answer;

  ps_fake_couch_route_redirect (fake, "GET", "/db", 302, target);
  if (redirect_case == REDIRECT_SESSION)
    ps_fake_couch_route_login (fake, "c2VjcmV0LXNlc3Npb24");
  else
    ps_fake_couch_route_redirect (fake, "POST", "/_session", 307, target_session);
  ps_fake_couch_route (elsewhere, "GET", "/db", 200, NULL, "{\"db_name\":\"db\"}");
  ps_fake_couch_route (elsewhere, "POST", "/_session", 200, NULL, "{\"ok\":true}");
  ps_couch_database_set_auth (database, redirect_case == REDIRECT_BASIC ? PS_COUCH_AUTH_BASIC
                                                                        : PS_COUCH_AUTH_SESSION);
  ps_couch_database_set_credentials (database, "admin", "Sesame-Meadow-31");
  ps_couch_database_set_retries (database, 0);

  request (database, "GET", NULL, &answer);
  /* The other host saw nothing: no password, no session, no request. */
  g_test_message ("elsewhere got Authorization: %s",
                  ps_fake_couch_last_authorization (elsewhere));
  g_test_message ("elsewhere got Cookie: %s", ps_fake_couch_last_cookie (elsewhere));
  g_assert_null (ps_fake_couch_last_authorization (elsewhere));
  g_assert_null (ps_fake_couch_last_cookie (elsewhere));
  g_assert_cmpuint (ps_fake_couch_count_requests (elsewhere, "GET", "/db"), ==, 0);
  g_assert_cmpuint (ps_fake_couch_count_requests (elsewhere, "POST", "/_session"), ==, 0);
  g_assert_null (answer.node);
  g_assert_nonnull (answer.error);
  g_test_message ("%s", answer.error->message);
  g_assert_true (answer.error->domain == PS_COUCH_ERROR);
  /* The message names where the server points, never the password. */
  g_assert_nonnull (strstr (answer.error->message, target_host + strlen ("http://")));
  g_assert_null (strstr (answer.error->message, "Sesame-Meadow-31"));
  g_assert_null (strstr (answer.error->message, "admin"));
  answer_clear (&answer);
}

/* Every request of a run is one round trip, a few ms on CouchDB: a
 * clustered CouchDB commits each write before answering, so it is not
 * asked for _ensure_full_commit; a server that may delay commits still is.
 */
static void
test_full_commit_only_where_needed (void)
{
  for (guint clustered = 0; clustered < 2; clustered++)
    {
      g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
      g_autoptr(SoupSession) session = ps_couch_session_new ();
      g_autoptr(PsCouchDatabase) source = open_fake_database (session, fake, "/src");
      g_autoptr(PsCouchDatabase) target = open_fake_database (session, fake, "/tgt");
      g_autoptr(PsReplication) replication = ps_replication_new (source, target);
      g_autofree char *bulk_get = bulk_get_answer (10);
      PsTestRun run;

      route_replication (fake, source, target, bulk_get);
      if (clustered)
        ps_fake_couch_route (fake, "GET", "/tgt", 200, NULL,
                             "{\"db_name\":\"tgt\",\"update_seq\":\"0-g1AAAA\","
                             "\"cluster\":{\"q\":2,\"n\":1,\"w\":1,\"r\":1}}");
      ps_test_replication_run (replication, NULL, RUN_TIMEOUT_S, &run);

      g_assert_no_error (run.error);
      g_assert_true (run.ok);
      g_assert_cmpuint (ps_replication_get_docs_written (replication), ==, 2);
      g_assert_cmpuint (ps_fake_couch_count_requests (fake, "POST", "/tgt/_ensure_full_commit"),
                        ==, clustered ? 0 : 1);
      g_assert_cmpuint (ps_fake_couch_count_requests (fake, "GET", "/src"), ==, 1);
      g_assert_cmpuint (ps_fake_couch_count_requests (fake, "GET", "/tgt"), ==, 1);
      g_assert_cmpuint (ps_fake_couch_count_requests (fake, "GET", "/src/_changes"), ==, 1);
      g_assert_cmpuint (ps_fake_couch_count_requests (fake, "POST", "/tgt/_bulk_docs"), ==, 1);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/couch/url/errors", test_url_errors);
  g_test_add_func ("/ps/couch/url/credentials-hidden", test_url_credentials_hidden);
  g_test_add_func ("/ps/couch/url/escape-id", test_escape_id);
  g_test_add_func ("/ps/couch/auth/sent-up-front", test_credentials_sent_up_front);
  g_test_add_func ("/ps/couch/auth/wrong-password", test_wrong_password);
  g_test_add_func ("/ps/couch/errors/server-errors-retried", test_server_errors_retried);
  g_test_add_func ("/ps/couch/errors/garbage-and-html", test_garbage_and_html);
  g_test_add_func ("/ps/couch/errors/slow-server", test_slow_server_times_out);
  g_test_add_func ("/ps/couch/fetched-docs/parse", test_fetched_docs);
  g_test_add_func ("/ps/couch/fetched-docs/deep-nesting", test_fetched_docs_deep_nesting);
  g_test_add_func ("/ps/couch/checkpoint/start-seq", test_checkpoint_start_seq);
  g_test_add_func ("/ps/couch/checkpoint/replication-id", test_replication_ids);
  g_test_add_func ("/ps/couch/limits/endless-answer", test_endless_answer);
  g_test_add_func ("/ps/couch/limits/declared-length", test_declared_length);
  g_test_add_func ("/ps/couch/limits/deep-answer", test_deep_answer);
  g_test_add_func ("/ps/couch/limits/oversize-document-listed", test_oversize_document_listed);
  g_test_add_func ("/ps/couch/replication/full-commit-only-where-needed",
                   test_full_commit_only_where_needed);
  g_test_add_func ("/ps/couch/limits/answer-over-limit-fetched-one-by-one",
                   test_answer_over_limit_fetched_one_by_one);

  g_test_add_data_func ("/ps/couch/auth/redirect-not-followed/basic",
                        GINT_TO_POINTER (REDIRECT_BASIC), test_redirect_not_followed);
  g_test_add_data_func ("/ps/couch/auth/redirect-not-followed/login",
                        GINT_TO_POINTER (REDIRECT_LOGIN), test_redirect_not_followed);
  g_test_add_data_func ("/ps/couch/auth/redirect-not-followed/session",
                        GINT_TO_POINTER (REDIRECT_SESSION), test_redirect_not_followed);

  return g_test_run ();
}

/* test-couchdb.c: replication against real Apache CouchDB servers.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every test here checks the promise that matters most: each document read
 * from the source is on the target afterwards, or listed by id with the
 * reason it is not.
 */

#include "ps-record-generator.h"
#include "ps-replication.h"
#include "ps-test-cli.h"
#include "ps-test-couch-server.h"
#include "ps-test-peer.h"
#include "ps-test-replication.h"

#include <libsoup/soup.h>
#include <string.h>

#define RUN_TIMEOUT_S 120

/* For the id with a NUL: a child of its first revision, and a conflicting leaf. */
#define EDITS \
    "{\"new_edits\":false,\"docs\":[" \
    "{\"_id\":\"baz\\u0000\",\"_rev\":\"2-aaaa\",\"n\":10," \
    "\"_revisions\":{\"start\":2,\"ids\":[\"aaaa\",\"%s\"]}}," \
    "{\"_id\":\"baz\\u0000\",\"_rev\":\"1-bbbb\",\"n\":11}" \
    "]}"

static PsTestCouchServer *server_a;
static PsTestCouchServer *server_b;

static PsReplication *
new_replication (SoupSession       *session,
                 PsTestCouchServer *source,
                 const char        *source_db,
                 PsTestCouchServer *target,
                 const char        *target_db)
{
  g_autofree char *source_url = ps_test_couch_server_db_url (source, source_db);
  g_autofree char *target_url = ps_test_couch_server_db_url (target, target_db);
  g_autoptr(PsCouchDatabase) from = NULL;
  g_autoptr(PsCouchDatabase) to = NULL;
  g_autoptr(GError) error = NULL;

  from = ps_couch_database_new (session, source_url, &error);
  g_assert_no_error (error);
  to = ps_couch_database_new (session, target_url, &error);
  g_assert_no_error (error);
  return ps_replication_new (from, to);
}

static JsonObject *
new_doc (const char *id,
         gsize       filler)
{
  JsonObject *doc = json_object_new ();
  g_autofree char *text = g_strnfill (filler, 'x');

  json_object_set_string_member (doc, "_id", id);
  json_object_set_string_member (doc, "type", "case");
  json_object_set_string_member (doc, "notes", text);
  return doc;
}

static void
add_attachment (JsonObject *doc,
                const char *name,
                gsize       size)
{
  g_autofree guchar *data = g_malloc (size);
  g_autofree char *encoded = NULL;
  JsonObject *attachments = json_object_new ();
  JsonObject *attachment = json_object_new ();

  for (gsize i = 0; i < size; i++)
    data[i] = (guchar) g_random_int ();
  encoded = g_base64_encode (data, size);
  json_object_set_string_member (attachment, "content_type", "application/octet-stream");
  json_object_set_string_member (attachment, "data", encoded);
  json_object_set_object_member (attachments, name, attachment);
  json_object_set_object_member (doc, "_attachments", attachments);
}

static gboolean
listed_as_failure (PsReplication *replication,
                   const char    *id,
                   const char    *reason_part)
{
  GPtrArray *failures = ps_replication_get_write_failures (replication);

  for (guint i = 0; i < failures->len; i++)
    {
      PsWriteFailure *failure = g_ptr_array_index (failures, i);

      if (g_str_equal (failure->id, id) &&
          (reason_part == NULL ||
           (failure->reason != NULL && strstr (failure->reason, reason_part) != NULL)))
        return TRUE;
    }

  return FALSE;
}

/* Each document of the source is on the target with the same revision
 * tree, or is one of @refused and listed as a failure naming @reason_part.
 */
static void
assert_arrived_or_listed (PsReplication      *replication,
                          const char         *source_db,
                          const char         *target_db,
                          const char * const *refused,
                          const char         *reason_part)
{
  g_autoptr(GHashTable) source_trees = NULL;
  g_autoptr(GHashTable) target_trees = NULL;
  GHashTableIter iter;
  gpointer id, signature;

  source_trees = ps_test_peer_rev_trees (ps_test_couch_server_get_peer (server_a), source_db);
  target_trees = ps_test_peer_rev_trees (ps_test_couch_server_get_peer (server_b), target_db);
  g_assert_cmpuint (g_hash_table_size (source_trees), >, 0);

  g_hash_table_iter_init (&iter, source_trees);
  while (g_hash_table_iter_next (&iter, &id, &signature))
    {
      if (refused != NULL && g_strv_contains (refused, id))
        {
          g_assert_false (g_hash_table_contains (target_trees, id));
          if (!listed_as_failure (replication, id, reason_part))
            g_error ("“%s” was neither copied nor listed with “%s”", (char *) id, reason_part);
          continue;
        }

      if (!g_hash_table_contains (target_trees, id))
        g_error ("“%s” was not copied (%u failures listed)", (char *) id,
                 ps_replication_get_write_failures (replication)->len);
      g_assert_cmpstr (g_hash_table_lookup (target_trees, id), ==, signature);
    }
}

static void
run_to_end (PsReplication *replication)
{
  PsTestRun run;

  ps_test_replication_run (replication, NULL, RUN_TIMEOUT_S, &run);
  g_assert_no_error (run.error);
  g_assert_true (run.ok);
  g_assert_cmpint (ps_replication_get_state (replication), ==, PS_REPLICATION_STATE_COMPLETED);
}

/* Records with every kind of revision tree: plain, deleted, with three
 * conflicting leaves, and some with an attachment.
 */
static GPtrArray *
load_records (PsTestPeer *peer,
              const char *db,
              guint       seed,
              guint       count)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(JsonArray) docs = json_array_new ();
  g_autoptr(JsonArray) second = json_array_new ();
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

  for (guint i = 0; i < count; i++)
    {
      JsonNode *record = ps_record_generator_child (rand, i);

      if (i % 10 == 5)
        add_attachment (json_node_get_object (record), "photo.jpg", 3000);
      json_array_add_element (docs, json_node_copy (record));
      if (i % 15 == 3)
        json_array_add_element (second, ps_record_generator_deleted (record));
      else if (i % 15 == 7)
        {
          g_autoptr(JsonArray) leaves = ps_record_generator_conflict_leaves (rand, record, 3);

          for (guint j = 0; j < json_array_get_length (leaves); j++)
            json_array_add_element (second, json_node_copy (json_array_get_element (leaves, j)));
        }
      g_ptr_array_add (records, record);
    }
  ps_test_peer_put_docs (peer, db, docs, FALSE);
  ps_test_peer_put_docs (peer, db, second, FALSE);
  return records;
}

/* A fleet of CouchDB and pouchdb-server instances: each way, the same
 * revision trees arrive, conflicts and attachments included.
 */
static void
test_mixed_fleet (void)
{
  g_autoptr(PsTestPeer) pouch = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GPtrArray) pouch_records = NULL;
  PsTestPeer *couch = ps_test_couch_server_get_peer (server_a);
  const struct { PsTestPeer *from; const char *from_db; PsTestPeer *to; const char *to_db; } ways[] = {
    { couch, "fleet_couch", pouch, "fleet_from_couch" },
    { pouch, "fleet_pouch", couch, "fleet_from_pouch" },
  };

  ps_test_couch_server_fresh_db (server_a, "fleet_couch");
  ps_test_peer_create_db (pouch, "fleet_pouch");
  records = load_records (couch, "fleet_couch", 21, 120);
  pouch_records = load_records (pouch, "fleet_pouch", 22, 120);

  for (guint w = 0; w < G_N_ELEMENTS (ways); w++)
    {
      g_autofree char *from_url = NULL;
      g_autofree char *to_url = NULL;
      g_autoptr(PsCouchDatabase) from = NULL;
      g_autoptr(PsCouchDatabase) to = NULL;
      g_autoptr(PsReplication) replication = NULL;
      g_autoptr(GError) error = NULL;

      from_url = ways[w].from == couch ? ps_test_couch_server_db_url (server_a, ways[w].from_db)
                                       : ps_test_peer_db_url (pouch, ways[w].from_db);
      to_url = ways[w].to == couch ? ps_test_couch_server_db_url (server_a, ways[w].to_db)
                                   : ps_test_peer_db_url (pouch, ways[w].to_db);
      from = ps_couch_database_new (session, from_url, &error);
      g_assert_no_error (error);
      to = ps_couch_database_new (session, to_url, &error);
      g_assert_no_error (error);
      replication = ps_replication_new (from, to);
      ps_replication_set_create_target (replication, TRUE);
      ps_replication_set_batch_size (replication, 30);
      run_to_end (replication);
      g_assert_cmpuint (ps_replication_get_doc_write_failures (replication), ==, 0);
      ps_test_assert_same_rev_trees (ways[w].from, ways[w].from_db, ways[w].to, ways[w].to_db);
      g_assert_cmpuint (ps_test_peer_count_conflicts (ways[w].to, ways[w].to_db), >, 0);
    }
  ps_test_peer_assert_alive (pouch);
}

static void
test_records_with_conflicts (void)
{
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (15);
  g_autoptr(JsonArray) docs = json_array_new ();
  g_autoptr(JsonArray) second = json_array_new ();
  g_autoptr(JsonArray) edits = json_array_new ();
  g_autoptr(PsReplication) first = NULL;
  g_autoptr(PsReplication) again = NULL;
  g_autoptr(PsReplication) edited = NULL;
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  PsTestPeer *a = ps_test_couch_server_get_peer (server_a);
  PsTestPeer *b = ps_test_couch_server_get_peer (server_b);

  ps_test_couch_server_fresh_db (server_a, "records_src");
  for (guint i = 0; i < 300; i++)
    {
      JsonNode *record = ps_record_generator_child (rand, i);

      json_array_add_element (docs, json_node_copy (record));
      if (i % 15 == 3)
        json_array_add_element (second, ps_record_generator_deleted (record));
      else if (i % 15 == 7)
        {
          g_autoptr(JsonArray) leaves = ps_record_generator_conflict_leaves (rand, record, 3);

          for (guint j = 0; j < json_array_get_length (leaves); j++)
            json_array_add_element (second, json_node_copy (json_array_get_element (leaves, j)));
        }
      g_ptr_array_add (records, record);
    }
  ps_test_peer_put_docs (a, "records_src", docs, FALSE);
  ps_test_peer_put_docs (a, "records_src", second, FALSE);

  /* Small batches, so that several are in flight; the target is created. */
  first = new_replication (session, server_a, "records_src", server_b, "records_dst");
  ps_replication_set_create_target (first, TRUE);
  ps_replication_set_batch_size (first, 40);
  run_to_end (first);
  g_assert_cmpuint (ps_replication_get_doc_write_failures (first), ==, 0);
  ps_test_assert_same_rev_trees (a, "records_src", b, "records_dst");
  g_assert_cmpuint (ps_test_peer_count_conflicts (b, "records_dst"), >, 0);

  /* CouchDB's opaque string sequences make a checkpoint: nothing to do. */
  again = new_replication (session, server_a, "records_src", server_b, "records_dst");
  run_to_end (again);
  g_assert_cmpuint (ps_replication_get_docs_written (again), ==, 0);

  for (guint i = 0; i < 25; i++)
    json_array_add_element (edits, ps_record_generator_edit (rand,
                                                             g_ptr_array_index (records, i * 11)));
  ps_test_peer_put_docs (a, "records_src", edits, FALSE);
  edited = new_replication (session, server_a, "records_src", server_b, "records_dst");
  run_to_end (edited);
  g_assert_cmpuint (ps_replication_get_docs_written (edited), ==, 25);
  ps_test_assert_same_rev_trees (a, "records_src", b, "records_dst");
}

/* A proxy or CouchDB's max_http_request_size refuses a whole _bulk_docs
 * request with 413: the documents that fit are copied all the same, and
 * each one refused on its own is listed.
 */
static void
test_request_too_large (void)
{
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(JsonArray) docs = json_array_new ();
  g_autoptr(PsReplication) replication = NULL;
  g_autoptr(PsReplication) again = NULL;
  const char *refused[] = { "case-big-1", "case-big-2", NULL };

  ps_test_couch_server_fresh_db (server_a, "size_src");
  ps_test_couch_server_fresh_db (server_b, "size_dst");
  for (guint i = 0; i < 60; i++)
    {
      g_autofree char *id = g_strdup_printf ("case-%02u", i);

      json_array_add_object_element (docs, new_doc (id, 1000));
    }
  json_array_add_object_element (docs, new_doc ("case-big-1", 40000));
  json_array_add_object_element (docs, new_doc ("case-big-2", 60000));
  ps_test_peer_put_docs (ps_test_couch_server_get_peer (server_a), "size_src", docs, TRUE);

  ps_test_couch_server_set_config (server_b, "chttpd", "max_http_request_size", "20000");
  replication = new_replication (session, server_a, "size_src", server_b, "size_dst");
  run_to_end (replication);
  ps_test_couch_server_reset_config (server_b);

  g_assert_cmpuint (ps_replication_get_docs_written (replication), ==, 60);
  g_assert_cmpuint (ps_replication_get_doc_write_failures (replication), ==, 2);
  assert_arrived_or_listed (replication, "size_src", "size_dst", refused, "");

  /* The checkpoint stayed before them: once the limit allows, they come. */
  again = new_replication (session, server_a, "size_src", server_b, "size_dst");
  run_to_end (again);
  g_assert_cmpuint (ps_replication_get_doc_write_failures (again), ==, 0);
  assert_arrived_or_listed (again, "size_src", "size_dst", NULL, NULL);
}

/* CouchDB's max_document_size: the same, document by document. */
static void
test_document_too_large (void)
{
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(JsonArray) docs = json_array_new ();
  g_autoptr(PsReplication) replication = NULL;
  const char *refused[] = { "case-big", NULL };

  ps_test_couch_server_fresh_db (server_a, "docsize_src");
  ps_test_couch_server_fresh_db (server_b, "docsize_dst");
  for (guint i = 0; i < 30; i++)
    {
      g_autofree char *id = g_strdup_printf ("case-%02u", i);

      json_array_add_object_element (docs, new_doc (id, 500));
    }
  json_array_add_object_element (docs, new_doc ("case-big", 20000));
  ps_test_peer_put_docs (ps_test_couch_server_get_peer (server_a), "docsize_src", docs, TRUE);

  ps_test_couch_server_set_config (server_b, "couchdb", "max_document_size", "8000");
  replication = new_replication (session, server_a, "docsize_src", server_b, "docsize_dst");
  run_to_end (replication);
  ps_test_couch_server_reset_config (server_b);

  g_assert_cmpuint (ps_replication_get_docs_written (replication), ==, 30);
  assert_arrived_or_listed (replication, "docsize_src", "docsize_dst", refused,
                            "larger than it accepts");
}

/* CouchDB's max_attachment_size: the others are copied, and the record
 * refused is listed with the name of its attachment.
 */
static void
test_attachment_too_large (void)
{
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(JsonArray) docs = json_array_new ();
  g_autoptr(PsReplication) replication = NULL;
  const char *refused[] = { "case-photo-big", NULL };
  JsonObject *doc;

  ps_test_couch_server_fresh_db (server_a, "att_src");
  ps_test_couch_server_fresh_db (server_b, "att_dst");
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *id = g_strdup_printf ("case-%02u", i);

      doc = new_doc (id, 100);
      if (i % 4 == 0)
        add_attachment (doc, "consent.pdf", 2000);
      json_array_add_object_element (docs, doc);
    }
  doc = new_doc ("case-photo-big", 100);
  add_attachment (doc, "photo-large.jpg", 30000);
  json_array_add_object_element (docs, doc);
  ps_test_peer_put_docs (ps_test_couch_server_get_peer (server_a), "att_src", docs, TRUE);

  ps_test_couch_server_set_config (server_b, "couchdb", "max_attachment_size", "10000");
  replication = new_replication (session, server_a, "att_src", server_b, "att_dst");
  run_to_end (replication);
  ps_test_couch_server_reset_config (server_b);

  g_assert_cmpuint (ps_replication_get_docs_written (replication), ==, 20);
  assert_arrived_or_listed (replication, "att_src", "att_dst", refused, "photo-large.jpg");
}

/* The server's raw answer: ids with a NUL cannot pass through json-glib. */
static char *
raw_request (PsTestCouchServer *server,
             const char        *method,
             const char        *path,
             const char        *body,
             guint             *status)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (ps_test_couch_server_get_url (server), path, NULL);
  g_autoptr(SoupMessage) message = soup_message_new (method, url);
  g_autofree char *credentials = g_strdup_printf ("%s:%s",
                                                  ps_test_couch_server_get_user (server),
                                                  ps_test_couch_server_get_password (server));
  g_autofree char *encoded = g_base64_encode ((const guchar *) credentials,
                                              strlen (credentials));
  g_autofree char *authorization = g_strconcat ("Basic ", encoded, NULL);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (message);
  soup_message_headers_replace (soup_message_get_request_headers (message), "Authorization",
                                authorization);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (message, "application/json", bytes);
    }
  answer = soup_session_send_and_read (session, message, NULL, &error);
  g_assert_no_error (error);
  if (status != NULL)
    *status = soup_message_get_status (message);
  return g_strndup (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));
}

/* Ids are byte strings of any JSON-escapable content: one with a NUL, one
 * that is only a NUL, and ids that need escaping in a URL or in JSON are
 * copied whole, with their history, by the command a user runs.
 */
static void
test_ids_with_nul_and_escapes (void)
{
  const char *docs =
    "{\"docs\":["
    "{\"_id\":\"baz\\u0000\",\"n\":1},"
    "{\"_id\":\"\\u0000\",\"n\":2},"
    "{\"_id\":\"\\u0000tail\",\"n\":3},"
    "{\"_id\":\"a b/c?d%e#f&g+h\",\"n\":4},"
    "{\"_id\":\"quote\\\"back\\\\slash\",\"n\":5},"
    "{\"_id\":\"line\\nbreak\\u001f\",\"n\":6},"
    "{\"_id\":\"caf\\u00e9 \\ud83d\\ude00\",\"n\":7},"
    "{\"_id\":\"_design/nul\\u0000\",\"views\":{}},"
    "{\"_id\":\"case-plain\",\"n\":8}"
    "]}";
  g_autofree char *source_url = ps_test_couch_server_db_url (server_a, "nul_src");
  g_autofree char *target_url = ps_test_couch_server_db_url (server_b, "nul_dst");
  g_autofree char *answer = NULL;
  g_autofree char *first_rev = NULL;
  g_autofree char *edit = NULL;
  g_autofree char *source_all = NULL;
  g_autofree char *target_all = NULL;
  g_autofree char *source_conflicts = NULL;
  g_autofree char *target_conflicts = NULL;
  const char *args[] = { "replicate", source_url, target_url, "--create-target", "--json",
                         NULL };
  g_auto(PsCliResult) result = { 0, };
  const char *rev;
  guint status = 0;

  ps_test_couch_server_fresh_db (server_a, "nul_src");
  answer = raw_request (server_a, "POST", "/nul_src/_bulk_docs", docs, &status);
  g_assert_cmpuint (status, ==, 201);
  g_assert_null (strstr (answer, "\"error\""));

  /* A conflicting second leaf on the id with a NUL. */
  rev = strstr (answer, "\"rev\":\"1-");
  g_assert_nonnull (rev);
  first_rev = g_strndup (rev + strlen ("\"rev\":\"1-"), 32);
  edit = g_strdup_printf (EDITS, first_rev);
  g_free (answer);
  answer = raw_request (server_a, "POST", "/nul_src/_bulk_docs", edit, &status);
  g_assert_cmpuint (status, ==, 201);

  ps_test_run_cli (&result, NULL, NULL, args);
  if (result.status != 0)
    g_printerr ("%s%s", result.out, result.err);
  g_assert_cmpint (result.status, ==, 0);
  g_assert_null (strstr (result.out, ps_test_couch_server_get_password (server_a)));

  /* Byte for byte the same list of ids and revisions on both ends. */
  source_all = raw_request (server_a, "GET", "/nul_src/_all_docs", NULL, NULL);
  target_all = raw_request (server_b, "GET", "/nul_dst/_all_docs", NULL, NULL);
  g_assert_nonnull (strstr (target_all, "\"id\":\"baz\\u0000\""));
  g_assert_nonnull (strstr (target_all, "\"id\":\"\\u0000\""));
  g_assert_cmpstr (strstr (target_all, "\"rows\""), ==, strstr (source_all, "\"rows\""));

  source_conflicts = raw_request (server_a, "GET", "/nul_src/baz%00?conflicts=true", NULL, NULL);
  target_conflicts = raw_request (server_b, "GET", "/nul_dst/baz%00?conflicts=true", NULL, NULL);
  g_assert_nonnull (strstr (target_conflicts, "_conflicts"));
  g_assert_cmpstr (target_conflicts, ==, source_conflicts);
}

/* A document with a NUL in its id that the target refuses is listed with
 * its whole id, never cut at the NUL or left out.
 */
static void
test_refused_nul_id_is_named (void)
{
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsReplication) replication = NULL;
  g_autofree char *filler = g_strnfill (20000, 'x');
  g_autofree char *docs = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *target_all = NULL;
  guint status = 0;

  ps_test_couch_server_fresh_db (server_a, "nulbig_src");
  ps_test_couch_server_fresh_db (server_b, "nulbig_dst");
  docs = g_strdup_printf ("{\"docs\":[{\"_id\":\"big\\u0000\",\"notes\":\"%s\"},"
                          "{\"_id\":\"small\\u0000\"}]}", filler);
  answer = raw_request (server_a, "POST", "/nulbig_src/_bulk_docs", docs, &status);
  g_assert_cmpuint (status, ==, 201);

  ps_test_couch_server_set_config (server_b, "couchdb", "max_document_size", "8000");
  replication = new_replication (session, server_a, "nulbig_src", server_b, "nulbig_dst");
  run_to_end (replication);
  ps_test_couch_server_reset_config (server_b);

  g_assert_cmpuint (ps_replication_get_docs_written (replication), ==, 1);
  g_assert_cmpuint (ps_replication_get_doc_write_failures (replication), ==, 1);
  g_assert_true (listed_as_failure (replication, "big\\u0000", "larger than it accepts"));
  target_all = raw_request (server_b, "GET", "/nulbig_dst/_all_docs", NULL, NULL);
  g_assert_nonnull (strstr (target_all, "\"id\":\"small\\u0000\""));
  g_assert_null (strstr (target_all, "\"id\":\"big"));
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  if (ps_test_couch_skip_if_absent ())
    return 0;

  g_test_add_func ("/ps/couchdb/records-with-conflicts", test_records_with_conflicts);
  g_test_add_func ("/ps/couchdb/mixed-fleet", test_mixed_fleet);
  g_test_add_func ("/ps/couchdb/request-too-large", test_request_too_large);
  g_test_add_func ("/ps/couchdb/document-too-large", test_document_too_large);
  g_test_add_func ("/ps/couchdb/attachment-too-large", test_attachment_too_large);
  g_test_add_func ("/ps/couchdb/ids-with-nul-and-escapes", test_ids_with_nul_and_escapes);
  g_test_add_func ("/ps/couchdb/refused-nul-id-is-named", test_refused_nul_id_is_named);

  server_a = ps_test_couch_server_new (0);
  server_b = ps_test_couch_server_new (1);
  status = g_test_run ();
  g_clear_pointer (&server_a, ps_test_couch_server_free);
  g_clear_pointer (&server_b, ps_test_couch_server_free);
  return status;
}

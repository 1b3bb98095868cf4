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

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  if (ps_test_couch_skip_if_absent ())
    return 0;

  g_test_add_func ("/ps/couchdb/records-with-conflicts", test_records_with_conflicts);
  g_test_add_func ("/ps/couchdb/request-too-large", test_request_too_large);
  g_test_add_func ("/ps/couchdb/document-too-large", test_document_too_large);
  g_test_add_func ("/ps/couchdb/attachment-too-large", test_attachment_too_large);

  server_a = ps_test_couch_server_new (0);
  server_b = ps_test_couch_server_new (1);
  status = g_test_run ();
  g_clear_pointer (&server_a, ps_test_couch_server_free);
  g_clear_pointer (&server_b, ps_test_couch_server_free);
  return status;
}

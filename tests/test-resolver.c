/* test-resolver.c: resolving conflicts on a real CouchDB-compatible server.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-fake-couch.h"
#include "ps-record-generator.h"
#include "ps-replication.h"
#include "ps-resolver.h"
#include "ps-test-peer.h"
#include "ps-test-replication.h"

#include <gio/gio.h>
#include <string.h>
#include <stdlib.h>

#define DB "primero_tracing_request_production"

typedef struct
{
  gboolean  done;
  gboolean  ok;
  GError   *error;
} Done;

static void
on_resolved_done_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Done *done = user_data;

  done->ok = ps_resolver_resolve_finish (PS_RESOLVER (object), result, &done->error);
  done->done = TRUE;
}

static PsCouchDatabase *
open_database (SoupSession *session,
               PsTestPeer  *peer)
{
  g_autofree char *url = ps_test_peer_db_url (peer, DB);
  g_autoptr(GError) error = NULL;
  PsCouchDatabase *database = ps_couch_database_new (session, url, &error);

  g_assert_no_error (error);
  return database;
}

static void
resolve (PsResolver         *resolver,
         const char * const *ids)
{
  Done done = { 0, };

  ps_resolver_resolve_async (resolver, ids, NULL, on_resolved_done_cb, &done);
  while (!done.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (done.error);
  g_assert_true (done.ok);
}

static JsonNode *
load_example (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "merge", "tracing-request-conflict", name, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static void
put_example_conflict (PsTestPeer *peer)
{
  g_autoptr(JsonArray) leaves = json_array_new ();

  json_array_add_element (leaves, load_example ("leaf-a.json"));
  json_array_add_element (leaves, load_example ("leaf-b.json"));
  ps_test_peer_create_db (peer, DB);
  ps_test_peer_put_docs (peer, DB, leaves, FALSE);
  g_assert_cmpuint (ps_test_peer_count_conflicts (peer, DB), ==, 1);
}

static JsonObject *
get_doc (PsTestPeer *peer,
         const char *id)
{
  g_autofree char *path = g_strdup_printf ("/%s/%s?conflicts=true", DB, id);
  g_autoptr(JsonNode) doc = NULL;
  guint status = 0;

  doc = ps_test_peer_request (peer, "GET", path, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  return json_object_ref (json_node_get_object (doc));
}

static JsonObject *
find_row (JsonArray  *rows,
          const char *unique_id)
{
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (row, "unique_id", NULL),
                     unique_id) == 0)
        return row;
    }
  return NULL;
}

static void
on_resolved_cb (PsResolver  *resolver,
                JsonObject  *report,
                PsJsonTexts *texts,
                GPtrArray   *reports)
{
  g_ptr_array_add (reports, json_object_ref (report));
}

static void
test_worked_example (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsCouchDatabase) database = NULL;
  g_autoptr(PsResolver) resolver = NULL;
  g_autoptr(PsJournal) journal = NULL;
  g_autoptr(GPtrArray) reports = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr(JsonNode) expected = load_example ("expected.json");
  g_autoptr(JsonObject) doc = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *journal_path = g_build_filename (g_get_user_state_dir (), "journal.jsonl", NULL);
  g_autoptr(JsonNode) entry_node = NULL;
  g_autofree char *entry_text = NULL;
  JsonObject *expected_object = json_node_get_object (expected);
  const char *id = json_object_get_string_member (expected_object, "_id");
  JsonArray *rows;

  put_example_conflict (peer);
  database = open_database (session, peer);
  journal = ps_journal_new_for_path (journal_path);
  resolver = ps_resolver_new (database);
  ps_resolver_set_journal (resolver, journal, "server-1");
  g_signal_connect (resolver, "resolved", G_CALLBACK (on_resolved_cb), reports);

  resolve (resolver, NULL);
  g_assert_cmpuint (ps_resolver_get_n_resolved (resolver), ==, 1);
  g_assert_cmpuint (ps_test_peer_count_conflicts (peer, DB), ==, 0);

  /* The merged body is the one Primero promises. */
  doc = get_doc (peer, id);
  g_assert_false (json_object_has_member (doc, "_conflicts"));
  g_assert_true (g_str_has_prefix (json_object_get_string_member (doc, "_rev"), "3-"));
  g_assert_cmpstr (json_object_get_string_member (doc, "relation_nickname"), ==,
                   json_object_get_string_member (expected_object, "relation_nickname"));
  g_assert_cmpstr (json_object_get_string_member (doc, "location_last"), ==,
                   json_object_get_string_member (expected_object, "location_last"));
  g_assert_cmpstr (json_object_get_string_member (doc, "last_updated_at"), ==,
                   json_object_get_string_member (expected_object, "last_updated_at"));
  rows = json_object_get_array_member (doc, "tracing_request_subform_section");
  g_assert_nonnull (find_row (rows, "t2"));
  g_assert_cmpint (json_object_get_int_member (find_row (rows, "t1"), "age"), ==,
                   json_object_get_int_member (find_row (json_object_get_array_member (expected_object,
                                                                                       "tracing_request_subform_section"),
                                                         "t1"), "age"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (doc, "histories")), ==,
                    json_array_get_length (json_object_get_array_member (expected_object, "histories")));

  /* The resolution is reported and journaled with its contested field. */
  g_assert_cmpuint (reports->len, ==, 1);
  g_assert_cmpstr (json_object_get_string_member (reports->pdata[0], "display_id"), ==, "0000042");
  g_assert_cmpstr (json_object_get_string_member (reports->pdata[0], "new_rev"), ==,
                   json_object_get_string_member (doc, "_rev"));
  entries = ps_journal_read (journal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
  g_assert_cmpstr (json_object_get_string_member (entries->pdata[0], "kind"), ==, "resolution");
  g_assert_cmpstr (json_object_get_string_member (entries->pdata[0], "record"), ==, id);
  entry_node = json_node_init_object (json_node_alloc (), entries->pdata[0]);
  entry_text = json_to_string (entry_node, FALSE);
  g_assert_nonnull (strstr (entry_text, "location_last"));
}


static void
resolve_full (PsResolver         *resolver,
              const char * const *ids,
              GCancellable       *cancellable,
              Done               *done)
{
  ps_resolver_resolve_async (resolver, ids, cancellable, on_resolved_done_cb, done);
  while (!done->done)
    g_main_context_iteration (NULL, TRUE);
}

static JsonObject *
report_of (JsonObject *entry)
{
  return json_object_get_object_member (entry, "resolution");
}

/* A journal that cannot be written stops the run before anything is
 * written: the record stays conflicted, to be merged again next time.
 */
static void
test_journal_failure_keeps_conflict (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsCouchDatabase) database = NULL;
  g_autoptr(PsResolver) resolver = NULL;
  g_autoptr(PsJournal) journal = NULL;
  g_autoptr(JsonObject) doc = NULL;
  g_autofree char *journal_path = g_build_filename (g_get_user_state_dir (), "journal.jsonl", NULL);
  const char *id;
  Done done = { 0, };

  put_example_conflict (peer);
  database = open_database (session, peer);

  /* As when the disk is full or the folder was taken away. */
  g_assert_cmpint (g_mkdir_with_parents (journal_path, 0700), ==, 0);
  journal = ps_journal_new_for_path (journal_path);
  resolver = ps_resolver_new (database);
  ps_resolver_set_journal (resolver, journal, "server-1");

  resolve_full (resolver, NULL, NULL, &done);
  g_assert_false (done.ok);
  g_assert_error (done.error, PS_JOURNAL_ERROR, PS_JOURNAL_ERROR_FAILED);
  g_assert_nonnull (strstr (done.error->message, "journal"));
  g_clear_error (&done.error);
  g_assert_cmpuint (ps_resolver_get_n_resolved (resolver), ==, 0);

  g_assert_cmpuint (ps_test_peer_count_conflicts (peer, DB), ==, 1);
  {
    g_autoptr(JsonNode) expected = load_example ("expected.json");

    id = json_object_get_string_member (json_node_get_object (expected), "_id");
    doc = get_doc (peer, id);
  }
  g_assert_true (json_object_has_member (doc, "_conflicts"));
  g_assert_true (g_str_has_prefix (json_object_get_string_member (doc, "_rev"), "2-"));
}

typedef struct
{
  PsTestPeer   *peer;
  GCancellable *cancellable;
  guint         n_journaled;
  guint         conflicts_when_journaled;
} JournalWatch;

static void
on_entry_added_cb (PsJournal    *journal,
                   JsonObject   *entry,
                   JournalWatch *watch)
{
  if (g_strcmp0 (json_object_get_string_member (entry, "kind"), "resolution") != 0)
    return;

  watch->n_journaled++;
  watch->conflicts_when_journaled = ps_test_peer_count_conflicts (watch->peer, DB);
  /* As if the process died right after journaling. */
  if (watch->cancellable != NULL)
    g_cancellable_cancel (watch->cancellable);
}

/* The journal holds a resolution before the database does; one that was
 * journaled but never written is merged again, and shown once.
 */
static void
test_journaled_before_written (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsCouchDatabase) database = NULL;
  g_autoptr(PsJournal) journal = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(JsonObject) doc = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *journal_path = g_build_filename (g_get_user_state_dir (), "journal.jsonl", NULL);
  PsJournalFilter filter = { 0, };
  JournalWatch watch = { 0, };
  const char *id;

  put_example_conflict (peer);
  database = open_database (session, peer);
  journal = ps_journal_new_for_path (journal_path);
  watch.peer = peer;
  watch.cancellable = cancellable;
  g_signal_connect (journal, "entry-added", G_CALLBACK (on_entry_added_cb), &watch);

  {
    g_autoptr(PsResolver) resolver = ps_resolver_new (database);
    Done done = { 0, };

    ps_resolver_set_journal (resolver, journal, "server-1");
    resolve_full (resolver, NULL, cancellable, &done);
    g_assert_error (done.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&done.error);
  }
  g_assert_cmpuint (watch.n_journaled, ==, 1);
  g_assert_cmpuint (watch.conflicts_when_journaled, ==, 1);
  g_assert_cmpuint (ps_test_peer_count_conflicts (peer, DB), ==, 1);

  /* The next run merges the same leaves again. */
  watch.cancellable = NULL;
  {
    g_autoptr(PsResolver) resolver = ps_resolver_new (database);

    ps_resolver_set_journal (resolver, journal, "server-1");
    resolve (resolver, NULL);
    g_assert_cmpuint (ps_resolver_get_n_resolved (resolver), ==, 1);
  }
  g_assert_cmpuint (watch.n_journaled, ==, 2);
  g_assert_cmpuint (watch.conflicts_when_journaled, ==, 1);
  g_assert_cmpuint (ps_test_peer_count_conflicts (peer, DB), ==, 0);

  filter.kind = "resolution";
  entries = ps_journal_read (journal, &filter, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
  id = json_object_get_string_member (g_ptr_array_index (entries, 0), "record");
  doc = get_doc (peer, id);
  g_assert_cmpstr (json_object_get_string_member (report_of (g_ptr_array_index (entries, 0)),
                                                  "new_rev"),
                   ==, json_object_get_string_member (doc, "_rev"));
}

static char *
make_attachment_data (guint  size,
                      guchar seed)
{
  g_autofree guchar *bytes = g_malloc (size);

  for (guint i = 0; i < size; i++)
    bytes[i] = (guchar) (seed + i * 7);
  return g_base64_encode (bytes, size);
}

static void
add_attachment (JsonNode   *leaf,
                const char *name,
                const char *data)
{
  JsonObject *attachments = json_object_new ();
  JsonObject *attachment = json_object_new ();

  json_object_set_string_member (attachment, "content_type", "application/octet-stream");
  json_object_set_string_member (attachment, "data", data);
  json_object_set_object_member (attachments, name, attachment);
  json_object_set_object_member (json_node_get_object (leaf), "_attachments", attachments);
}

/* Each leaf holds a photo the other lacks: the merged record keeps both,
 * byte for byte, whichever leaf the server picked as the winner.
 */
static void
test_attachments_of_both_leaves_kept (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsCouchDatabase) database = NULL;
  g_autoptr(PsResolver) resolver = NULL;
  g_autoptr(JsonArray) leaves = json_array_new ();
  g_autoptr(JsonNode) leaf_a = load_example ("leaf-a.json");
  g_autoptr(JsonNode) leaf_b = load_example ("leaf-b.json");
  g_autofree char *consent = make_attachment_data (150 * 1024, 3);
  g_autofree char *photo = make_attachment_data (90 * 1024, 11);
  g_autofree char *path = NULL;
  g_autoptr(JsonNode) doc = NULL;
  JsonObject *attachments;
  const char *id;
  guint status = 0;

  id = json_object_get_string_member (json_node_get_object (leaf_a), "_id");
  add_attachment (leaf_a, "consent.pdf", consent);
  add_attachment (leaf_b, "photo.jpg", photo);
  json_array_add_element (leaves, json_node_ref (leaf_a));
  json_array_add_element (leaves, json_node_ref (leaf_b));
  ps_test_peer_create_db (peer, DB);
  ps_test_peer_put_docs (peer, DB, leaves, FALSE);
  g_assert_cmpuint (ps_test_peer_count_conflicts (peer, DB), ==, 1);

  database = open_database (session, peer);
  resolver = ps_resolver_new (database);
  resolve (resolver, NULL);
  g_assert_cmpuint (ps_resolver_get_n_resolved (resolver), ==, 1);
  g_assert_cmpuint (ps_test_peer_count_conflicts (peer, DB), ==, 0);

  path = g_strdup_printf ("/%s/%s?attachments=true&conflicts=true", DB, id);
  doc = ps_test_peer_request (peer, "GET", path, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_false (json_object_has_member (json_node_get_object (doc), "_conflicts"));
  attachments = json_object_get_object_member (json_node_get_object (doc), "_attachments");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (attachments,
                                                                                 "consent.pdf"),
                                                  "data"), ==, consent);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (attachments,
                                                                                 "photo.jpg"),
                                                  "data"), ==, photo);
}

/* @n_records generated cases, each with 2 or 3 conflicting leaves. */
static void
generate_conflicts (guint32    seed,
                    guint      n_records,
                    JsonArray *bases,
                    JsonArray *leaves)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);

  for (guint i = 0; i < n_records; i++)
    {
      g_autoptr(JsonNode) record = ps_record_generator_child (rand, i);
      g_autoptr(JsonArray) record_leaves =
        ps_record_generator_conflict_leaves (rand, record, 2 + i % 2);

      json_array_add_element (bases, json_node_copy (record));
      for (guint j = 0; j < json_array_get_length (record_leaves); j++)
        json_array_add_element (leaves, json_node_copy (json_array_get_element (record_leaves, j)));
    }
}

static void
test_generated_conflicts_and_convergence (void)
{
  g_autoptr(PsTestPeer) first = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) second = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(JsonArray) bases = json_array_new ();
  g_autoptr(JsonArray) leaves = json_array_new ();
  g_autoptr(PsCouchDatabase) first_db = NULL;
  g_autoptr(PsCouchDatabase) second_db = NULL;
  g_autoptr(PsResolver) resolver = NULL;
  g_autoptr(PsReplication) replication = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  const guint n_records = 60;
  PsTestRun run;

  generate_conflicts (3, n_records, bases, leaves);
  for (guint i = 0; i < n_records; i += 2)
    {
      JsonObject *base = json_array_get_object_element (bases, i);

      g_ptr_array_add (ids, g_strdup (json_object_get_string_member (base, "_id")));
    }
  g_ptr_array_add (ids, NULL);

  /* Both servers hold the same conflicts, as after two offices edited. */
  ps_test_peer_create_db (first, DB);
  ps_test_peer_create_db (second, DB);
  ps_test_peer_put_docs (first, DB, bases, FALSE);
  ps_test_peer_put_docs (first, DB, leaves, FALSE);
  ps_test_peer_put_docs (second, DB, bases, FALSE);
  ps_test_peer_put_docs (second, DB, leaves, FALSE);
  g_assert_cmpuint (ps_test_peer_count_conflicts (first, DB), ==, n_records);

  first_db = open_database (session, first);
  second_db = open_database (session, second);

  /* Just the records a replication wrote: half of them here. */
  resolver = ps_resolver_new (first_db);
  resolve (resolver, (const char * const *) ids->pdata);
  g_assert_cmpuint (ps_resolver_get_n_resolved (resolver), ==, n_records / 2);
  g_assert_cmpuint (ps_test_peer_count_conflicts (first, DB), ==, n_records / 2);
  g_clear_object (&resolver);

  /* Then every conflicted record. */
  resolver = ps_resolver_new (first_db);
  resolve (resolver, NULL);
  g_assert_cmpuint (ps_resolver_get_n_resolved (resolver), ==, n_records / 2);
  g_assert_cmpuint (ps_resolver_get_n_failed (resolver), ==, 0);
  g_assert_cmpuint (ps_test_peer_count_conflicts (first, DB), ==, 0);

  /* Replicating the resolutions makes the second server converge. */
  replication = ps_replication_new (first_db, second_db);
  ps_test_replication_run (replication, NULL, 120, &run);
  g_assert_no_error (run.error);
  g_assert_cmpuint (ps_test_peer_count_conflicts (second, DB), ==, 0);
  ps_test_assert_same_rev_trees (first, DB, second, DB);
}

static guint
count_logged_requests (PsTestPeer *peer,
                       const char *request)
{
  g_autofree char *path = g_build_filename (ps_test_peer_get_dir (peer), "log.txt", NULL);
  g_autofree char *log = NULL;
  g_autoptr(GError) error = NULL;
  guint n = 0;

  g_file_get_contents (path, &log, NULL, &error);
  g_assert_no_error (error);
  for (const char *p = strstr (log, request); p != NULL; p = strstr (p + 1, request))
    n++;
  return n;
}

static void
on_resolved_count_cb (PsResolver  *resolver,
                      JsonObject  *report,
                      PsJsonTexts *texts,
                      GHashTable  *times)
{
  const char *id = json_object_get_string_member (report, "id");
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (times, id));

  g_hash_table_replace (times, g_strdup (id), GUINT_TO_POINTER (n + 1));
}

/* More conflicts than one page of changes: pages are read while earlier
 * batches are written, each record is resolved once, and the records the
 * run resolved, which the scan meets again, are not read again.
 */
static void
test_scan_over_several_pages (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(JsonArray) bases = json_array_new ();
  g_autoptr(JsonArray) leaves = json_array_new ();
  g_autoptr(GHashTable) times = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(PsCouchDatabase) database = NULL;
  g_autoptr(PsResolver) resolver = NULL;
  g_autofree char *bulk_get = g_strdup_printf ("POST /%s/_bulk_get?revs=true", DB);
  const guint n_records = 450;
  GHashTableIter iter;
  gpointer n;

  generate_conflicts (11, n_records, bases, leaves);
  ps_test_peer_create_db (peer, DB);
  ps_test_peer_put_docs (peer, DB, bases, FALSE);
  ps_test_peer_put_docs (peer, DB, leaves, FALSE);

  database = open_database (session, peer);
  resolver = ps_resolver_new (database);
  g_signal_connect (resolver, "resolved", G_CALLBACK (on_resolved_count_cb), times);
  resolve (resolver, NULL);

  /* One read of leaves per page of conflicted records (100 a page, which
   * bounds the memory a batch takes), before counting conflicts reads them
   * again.
   */
  g_assert_cmpuint (count_logged_requests (peer, bulk_get), <=, (n_records + 99) / 100);

  g_assert_cmpuint (ps_resolver_get_n_resolved (resolver), ==, n_records);
  g_assert_cmpuint (ps_resolver_get_n_failed (resolver), ==, 0);
  g_assert_cmpuint (g_hash_table_size (times), ==, n_records);
  g_hash_table_iter_init (&iter, times);
  while (g_hash_table_iter_next (&iter, NULL, &n))
    g_assert_cmpuint (GPOINTER_TO_UINT (n), ==, 1);
  g_assert_cmpuint (ps_test_peer_count_conflicts (peer, DB), ==, 0);
  ps_test_peer_assert_alive (peer);
}

/* In a batch where the server refuses one record's merged revision, the
 * others are resolved; that one stays conflicted, is named among the
 * failures, and the journal does not show it as resolved.
 */
static void
test_refused_record_stays_conflicted (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(JsonArray) bases = json_array_new ();
  g_autoptr(JsonArray) leaves = json_array_new ();
  g_autoptr(PsCouchDatabase) database = NULL;
  g_autoptr(PsResolver) resolver = NULL;
  g_autoptr(PsJournal) journal = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(JsonNode) design = NULL;
  g_autoptr(JsonNode) put = NULL;
  g_autoptr(JsonObject) doc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *design_path = g_strdup_printf ("/%s/_design/refuse", DB);
  g_autofree char *validate = NULL;
  g_autofree char *journal_path = g_build_filename (g_get_user_state_dir (), "journal.jsonl", NULL);
  PsJournalFilter filter = { 0, };
  const guint n_records = 5;
  const char *refused_id;
  GPtrArray *failures;
  guint status = 0;

  generate_conflicts (23, n_records, bases, leaves);
  ps_test_peer_create_db (peer, DB);
  ps_test_peer_put_docs (peer, DB, bases, FALSE);
  ps_test_peer_put_docs (peer, DB, leaves, FALSE);
  refused_id = json_object_get_string_member (json_array_get_object_element (bases, 2), "_id");

  /* Only new live revisions of that record are refused: not the tombstones. */
  validate = g_strdup_printf ("{\"validate_doc_update\":\"function (doc) { if (doc._id === '%s' "
                              "&& !doc._deleted) throw ({forbidden: 'this record is locked'}); }\"}",
                              refused_id);
  design = json_from_string (validate, &error);
  g_assert_no_error (error);
  put = ps_test_peer_request (peer, "PUT", design_path, design, &status);
  g_assert_cmpuint (status, ==, 201);

  database = open_database (session, peer);
  journal = ps_journal_new_for_path (journal_path);
  resolver = ps_resolver_new (database);
  ps_resolver_set_journal (resolver, journal, "server-1");
  resolve (resolver, NULL);

  g_assert_cmpuint (ps_resolver_get_n_resolved (resolver), ==, n_records - 1);
  g_assert_cmpuint (ps_resolver_get_n_failed (resolver), ==, 1);
  failures = ps_resolver_get_failures (resolver);
  g_assert_cmpuint (failures->len, ==, 1);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (failures, 0), refused_id));
  g_assert_nonnull (strstr (g_ptr_array_index (failures, 0), "locked"));
  g_assert_cmpuint (ps_test_peer_count_conflicts (peer, DB), ==, 1);
  doc = get_doc (peer, refused_id);
  g_assert_true (json_object_has_member (doc, "_conflicts"));

  filter.kind = "resolution";
  entries = ps_journal_read (journal, &filter, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, n_records - 1);
  for (guint i = 0; i < entries->len; i++)
    g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (entries, i), "record"),
                     !=, refused_id);
}

static void
test_cli_resolve (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new (TRUE);
  g_autofree char *url = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(PsJournal) journal = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *journal_path = g_build_filename (g_get_user_state_dir (), "primero-sync",
                                                    "journal.jsonl", NULL);

  put_example_conflict (peer);
  url = ps_test_peer_db_url (peer, DB);
  /* The command journals what it resolves, or resolves nothing. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", g_get_user_state_dir (), TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("PS_CLI"), "resolve", url,
                                         NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  g_assert_nonnull (strstr (out, "0000042"));
  g_assert_nonnull (strstr (out, "location_last"));
  g_assert_nonnull (strstr (out, "emeka"));
  g_assert_nonnull (strstr (out, "1 record(s) resolved"));
  g_assert_cmpuint (ps_test_peer_count_conflicts (peer, DB), ==, 0);

  journal = ps_journal_new_for_path (journal_path);
  entries = ps_journal_read (journal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
  g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (entries, 0), "kind"), ==,
                   "resolution");
}

/* A server that refuses a request ends the run with one error naming the
 * step: the error is handed on once, and nothing is freed twice.
 */
static void
test_refused_request_fails_the_run (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = ps_fake_couch_url (fake, "/db");
  const char *refused = "{\"error\":\"bad_request\",\"reason\":\"refused for the test\"}";
  const char * const ids[] = { "case-1", NULL };
  const char * const *cases[] = { ids, NULL };

  ps_fake_couch_route (fake, "POST", "/db/_all_docs", 400, NULL, refused);
  ps_fake_couch_route (fake, "GET", "/db/_changes", 400, NULL, refused);

  /* By id, then by scanning all changes. */
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PsCouchDatabase) database = ps_couch_database_new (session, url, &error);
      g_autoptr(PsResolver) resolver = NULL;
      Done done = { 0, };

      g_assert_no_error (error);
      resolver = ps_resolver_new (database);
      ps_resolver_resolve_async (resolver, cases[i], NULL, on_resolved_done_cb, &done);
      while (!done.done)
        g_main_context_iteration (NULL, TRUE);

      g_assert_false (done.ok);
      g_assert_nonnull (done.error);
      g_assert_nonnull (strstr (done.error->message, "Looking for conflicts in"));
      g_assert_nonnull (strstr (done.error->message, "refused for the test"));
      g_clear_error (&done.error);
    }
}

static gboolean
on_cancel_timeout_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

/* Stopping a sync cancels its resolver while a request is in flight. */
static void
test_cancelled_while_listing (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *url = ps_fake_couch_url (fake, "/db");
  g_autoptr(GError) error = NULL;
  g_autoptr(PsCouchDatabase) database = ps_couch_database_new (session, url, &error);
  g_autoptr(PsResolver) resolver = NULL;
  const char * const ids[] = { "case-1", NULL };
  Done done = { 0, };

  g_assert_no_error (error);
  ps_fake_couch_route (fake, "POST", "/db/_all_docs", 200, NULL, "{\"rows\":[]}");
  ps_fake_couch_set_delay (fake, 2000);
  resolver = ps_resolver_new (database);
  ps_resolver_resolve_async (resolver, ids, cancellable, on_resolved_done_cb, &done);
  g_timeout_add (100, on_cancel_timeout_cb, cancellable);
  while (!done.done)
    g_main_context_iteration (NULL, TRUE);

  g_assert_false (done.ok);
  g_assert_error (done.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&done.error);
}

static char *
numbers_leaf (const char *hash,
              const char *name)
{
  return g_strdup_printf ("{\"_id\":\"numbers\",\"_rev\":\"2-%s\",\"_revisions\":{\"start\":2,"
                          "\"ids\":[\"%s\",\"0000\"]},\"huge\":1e308,\"tiny\":-2.5e-300,"
                          "\"name\":\"%s\"}", hash, hash, name);
}

/* Stores two leaves of one record, written as given: json-glib would write
 * their numbers otherwise.
 */
static void
put_conflicting_leaves (PsTestPeer *peer,
                        const char *leaves)
{
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GBytes) request = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *db_url = ps_test_peer_db_url (peer, DB);
  g_autofree char *url = g_strdup_printf ("%s/_bulk_docs", db_url);
  g_autofree char *body = g_strdup_printf ("{\"new_edits\":false,\"docs\":[%s]}", leaves);

  ps_test_peer_create_db (peer, DB);
  message = soup_message_new ("POST", url);
  request = g_bytes_new_static (body, strlen (body));
  soup_message_set_request_body_from_bytes (message, "application/json", request);
  answer = soup_session_send_and_read (session, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (message), ==, 201);
  g_assert_cmpuint (ps_test_peer_count_conflicts (peer, DB), ==, 1);
}

/* Values are written back as the leaves had them: json-glib would write
 * 1e308 as `1e+308.0`, which the server refuses, every run.
 */
static void
test_numbers_written_as_read (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsCouchDatabase) database = NULL;
  g_autoptr(PsResolver) resolver = NULL;
  g_autoptr(JsonObject) doc = NULL;
  g_autofree char *a = numbers_leaf ("aaaa", "a");
  g_autofree char *b = numbers_leaf ("bbbb", "b");
  g_autofree char *leaves = g_strdup_printf ("%s,%s", a, b);

  put_conflicting_leaves (peer, leaves);
  database = open_database (session, peer);
  resolver = ps_resolver_new (database);
  resolve (resolver, NULL);
  g_assert_cmpuint (ps_resolver_get_n_resolved (resolver), ==, 1);
  g_assert_cmpuint (ps_test_peer_count_conflicts (peer, DB), ==, 0);

  doc = get_doc (peer, "numbers");
  g_assert_cmpfloat (json_object_get_double_member (doc, "huge"), ==, 1e308);
  g_assert_cmpfloat (json_object_get_double_member (doc, "tiny"), ==, -2.5e-300);
}

/* One record, its two leaves contesting decimals. */
static void
put_decimals_conflict (PsTestPeer *peer)
{
  put_conflicting_leaves (peer,
    "{\"_id\":\"gps\",\"_rev\":\"2-aaaa\",\"_revisions\":{\"start\":2,\"ids\":[\"aaaa\",\"0000\"]},"
    "\"last_updated_at\":\"2024/01/01 10:00:00 +0000\",\"ratio\":0.1,\"latitude\":2.7745},"
    "{\"_id\":\"gps\",\"_rev\":\"2-bbbb\",\"_revisions\":{\"start\":2,\"ids\":[\"bbbb\",\"0000\"]},"
    "\"last_updated_at\":\"2024/02/01 10:00:00 +0000\",\"ratio\":0.25,\"latitude\":9.0765}");
}

static void
assert_decimals_as_read (const char *text)
{
  g_assert_nonnull (strstr (text, "\"value\":0.1,"));
  g_assert_nonnull (strstr (text, "\"value\":0.25,"));
  g_assert_nonnull (strstr (text, "\"value\":2.7745,"));
  g_assert_nonnull (strstr (text, "\"value\":9.0765,"));
}

/* A contested decimal is journaled as the records had it, 0.1 and not
 * 0.10000000000000001, so that what the journal shows is what was typed.
 */
static void
test_decimals_journaled_as_read (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new (TRUE);
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsCouchDatabase) database = NULL;
  g_autoptr(PsResolver) resolver = NULL;
  g_autoptr(PsJournal) journal = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *journal_path = g_build_filename (g_get_user_state_dir (), "journal.jsonl", NULL);

  put_decimals_conflict (peer);
  database = open_database (session, peer);
  journal = ps_journal_new_for_path (journal_path);
  resolver = ps_resolver_new (database);
  ps_resolver_set_journal (resolver, journal, "server-1");
  resolve (resolver, NULL);
  g_assert_cmpuint (ps_resolver_get_n_resolved (resolver), ==, 1);

  g_file_get_contents (journal_path, &contents, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("journal: %s", contents);
  assert_decimals_as_read (contents);
}

/* Resolves the decimals conflict with `primero-sync-cli resolve`, the
 * extra argument given, and returns what it printed.
 */
static char *
resolve_decimals_with_cli (const char *extra)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new (TRUE);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = ps_test_peer_db_url (peer, DB);
  g_autofree char *err = NULL;
  char *out = NULL;

  put_decimals_conflict (peer);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", g_get_user_state_dir (), TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("PS_CLI"), "resolve", url,
                                         extra, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  g_assert_cmpuint (ps_test_peer_count_conflicts (peer, DB), ==, 0);
  return out;
}

/* What `resolve` prints of the values is what the leaves held. */
static void
test_cli_resolve_numbers (void)
{
  g_autofree char *json = resolve_decimals_with_cli ("--json");
  g_autofree char *text = resolve_decimals_with_cli (NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  /* Still JSON as a whole. */
  g_assert_true (json_parser_load_from_data (parser, json, -1, &error));
  g_assert_no_error (error);
  assert_decimals_as_read (json);

  g_assert_nonnull (strstr (text, "ratio: kept 0.25 ("));
  g_assert_nonnull (strstr (text, "latitude: kept 9.0765 ("));
}

typedef struct
{
  GSubprocess *process;
  glong        peak_kb;
  gboolean     done;
} PeakWatch;

/* The high-water mark of the command's own memory since it started: its
 * status in /proc, read until it exits.
 */
static gboolean
on_peak_poll_cb (gpointer user_data)
{
  PeakWatch *watch = user_data;
  g_autofree char *path = g_strdup_printf ("/proc/%s/status",
                                           g_subprocess_get_identifier (watch->process));
  g_autofree char *status = NULL;
  const char *line;

  if (g_file_get_contents (path, &status, NULL, NULL) &&
      (line = strstr (status, "VmHWM:")) != NULL)
    watch->peak_kb = MAX (watch->peak_kb, strtol (line + strlen ("VmHWM:"), NULL, 10));
  return G_SOURCE_CONTINUE;
}

static void
on_cli_exited_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  PeakWatch *watch = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  watch->done = TRUE;
}

/* Runs `resolve --json` on @db_name of @peer; returns the command's peak
 * resident memory in kB.
 */
static glong
cli_resolve_peak_kb (PsTestPeer *peer,
                     const char *db_name,
                     guint       n_records)
{
  g_autofree char *url = ps_test_peer_db_url (peer, db_name);
  g_autofree char *out_path = g_build_filename (g_get_user_state_dir (), "resolve.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *summary;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  PeakWatch watch = { 0, };
  guint poll_id;

  g_assert_cmpint (g_mkdir_with_parents (g_get_user_state_dir (), 0700), ==, 0);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_stdout_file_path (launcher, out_path);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", g_get_user_state_dir (), TRUE);
  watch.process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("PS_CLI"), "resolve",
                                               "--json", url, NULL);
  g_assert_no_error (error);
  poll_id = g_timeout_add (5, on_peak_poll_cb, &watch);
  g_subprocess_wait_async (watch.process, NULL, on_cli_exited_cb, &watch);
  while (!watch.done)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (poll_id);

  g_assert_true (g_subprocess_get_if_exited (watch.process));
  g_assert_cmpint (g_subprocess_get_exit_status (watch.process), ==, 0);
  g_clear_object (&watch.process);
  g_assert_cmpint (watch.peak_kb, >, 0);

  /* Every resolution is in the answer, however it was printed. */
  json_parser_load_from_file (parser, out_path, &error);
  g_assert_no_error (error);
  summary = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_get_boolean_member (summary, "ok"));
  g_assert_cmpint (json_object_get_int_member (summary, "resolved"), ==, n_records);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (summary, "resolutions")),
                    ==, n_records);
  return watch.peak_kb;
}

/* Resolving a large database takes no more memory than a small one: the
 * resolver holds a batch of records at a time, and the command line
 * prints each resolution as it comes.
 */
static void
test_cli_memory_flat (void)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new (TRUE);
  const guint sizes[] = { 100, 600 };
  const char *names[] = { "primero_child_small", "primero_child_large" };
  glong peak[2];

#ifdef __SANITIZE_ADDRESS__
  g_test_skip ("AddressSanitizer keeps freed memory in quarantine");
  return;
#endif

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(JsonArray) bases = json_array_new ();
      g_autoptr(JsonArray) leaves = json_array_new ();

      generate_conflicts (17 + i, sizes[i], bases, leaves);
      ps_test_peer_create_db (peer, names[i]);
      ps_test_peer_put_docs (peer, names[i], bases, FALSE);
      ps_test_peer_put_docs (peer, names[i], leaves, FALSE);
    }

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      peak[i] = cli_resolve_peak_kb (peer, names[i], sizes[i]);
      g_test_message ("%u conflicted records: peak %ld kB", sizes[i], peak[i]);
      g_assert_cmpuint (ps_test_peer_count_conflicts (peer, names[i]), ==, 0);
    }

  g_assert_cmpint (peak[1], <, peak[0] + 8 * 1024);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/resolver/worked-example", test_worked_example);
  g_test_add_func ("/ps/resolver/attachments-of-both-leaves-kept",
                   test_attachments_of_both_leaves_kept);
  g_test_add_func ("/ps/resolver/generated-conflicts-and-convergence",
                   test_generated_conflicts_and_convergence);
  g_test_add_func ("/ps/resolver/scan-over-several-pages", test_scan_over_several_pages);
  g_test_add_func ("/ps/resolver/refused-record-stays-conflicted",
                   test_refused_record_stays_conflicted);
  g_test_add_func ("/ps/resolver/cli", test_cli_resolve);
  g_test_add_func ("/ps/resolver/cli-memory-flat", test_cli_memory_flat);
  g_test_add_func ("/ps/resolver/journal-failure-keeps-conflict",
                   test_journal_failure_keeps_conflict);
  g_test_add_func ("/ps/resolver/journaled-before-written", test_journaled_before_written);
  g_test_add_func ("/ps/resolver/refused-request-fails-the-run",
                   test_refused_request_fails_the_run);
  g_test_add_func ("/ps/resolver/cancelled-while-listing", test_cancelled_while_listing);
  g_test_add_func ("/ps/resolver/numbers-written-as-read", test_numbers_written_as_read);
  g_test_add_func ("/ps/resolver/decimals-journaled-as-read", test_decimals_journaled_as_read);
  g_test_add_func ("/ps/resolver/cli-numbers", test_cli_resolve_numbers);

  return g_test_run ();
}

/* test-sync-file.c: records carried in an encrypted file, export to import.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-couch-database.h"
#include "ps-export.h"
#include "ps-export-state.h"
#include "ps-fake-couch.h"
#include "ps-import.h"
#include "ps-json.h"
#include "ps-record-generator.h"
#include "ps-sync-file.h"
#include "ps-test-cli.h"
#include "ps-test-peer.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

#define PASSPHRASE "correct horse battery staple"

static const char *databases[] = {
  "primero_child_production",
  "primero_incident_production",
  "primero_tracing_request_production",
};

typedef struct
{
  PsTestPeer  *source;
  PsTestPeer  *target;
  SoupSession *session;
  PsJournal   *journal;
  char        *dir;
  char        *path;
  GPtrArray   *records;      /* of the child database, as seeded */
  GPtrArray   *conflicted;   /* their ids */
  char        *known_name;
} Fixture;

typedef struct
{
  gboolean  done;
  gboolean  ok;
  GError   *error;
} Done;

/* 30 cases, three of them in conflict and one deleted; a few records in the
 * other databases.
 */
static void
seed (Fixture *fixture)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (8);
  g_autoptr(GPtrArray) later = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

  for (guint i = 0; i < 30; i++)
    g_ptr_array_add (fixture->records, ps_record_generator_child (rand, i));
  for (guint i = 0; i < 3; i++)
    {
      JsonNode *record = g_ptr_array_index (fixture->records, i);
      g_autoptr(JsonArray) leaves = ps_record_generator_conflict_leaves (rand, record, 2);

      for (guint j = 0; j < json_array_get_length (leaves); j++)
        g_ptr_array_add (later, json_node_copy (json_array_get_element (leaves, j)));
      g_ptr_array_add (fixture->conflicted,
                       g_strdup (json_object_get_string_member (json_node_get_object (record),
                                                                "_id")));
    }
  g_ptr_array_add (later, ps_record_generator_deleted (g_ptr_array_index (fixture->records, 29)));
  fixture->known_name = g_strdup (json_object_get_string_member (
                                    json_node_get_object (g_ptr_array_index (fixture->records, 10)),
                                    "name"));

  ps_test_peer_put_records (fixture->source, databases[0], fixture->records);
  ps_test_peer_put_records (fixture->source, databases[0], later);
  g_assert_cmpuint (ps_test_peer_count_conflicts (fixture->source, databases[0]), ==, 3);

  for (guint d = 1; d < G_N_ELEMENTS (databases); d++)
    {
      g_autoptr(GPtrArray) others = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

      for (guint i = 0; i < 4; i++)
        g_ptr_array_add (others, ps_record_generator_child (rand, 100 * d + i));
      ps_test_peer_put_records (fixture->source, databases[d], others);
    }
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *journal = NULL;

  fixture->source = ps_test_peer_new (TRUE);
  fixture->target = ps_test_peer_new (TRUE);
  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    {
      ps_test_peer_create_db (fixture->source, databases[d]);
      ps_test_peer_create_db (fixture->target, databases[d]);
    }
  fixture->session = ps_couch_session_new ();
  fixture->dir = g_dir_make_tmp ("ps-sync-file-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "records.primero-sync", NULL);
  journal = g_build_filename (fixture->dir, "journal.jsonl", NULL);
  fixture->journal = ps_journal_new_for_path (journal);
  fixture->records = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  fixture->conflicted = g_ptr_array_new_with_free_func (g_free);
  seed (fixture);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  remove_tree (fixture->dir);
  g_clear_pointer (&fixture->source, ps_test_peer_free);
  g_clear_pointer (&fixture->target, ps_test_peer_free);
  g_clear_object (&fixture->session);
  g_clear_object (&fixture->journal);
  g_clear_pointer (&fixture->dir, g_free);
  g_clear_pointer (&fixture->path, g_free);
  g_clear_pointer (&fixture->records, g_ptr_array_unref);
  g_clear_pointer (&fixture->conflicted, g_ptr_array_unref);
  g_clear_pointer (&fixture->known_name, g_free);
}

static void
on_export_done_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Done *done = user_data;

  done->ok = ps_export_run_finish (PS_EXPORT (object), result, &done->error);
  done->done = TRUE;
}

static void
on_import_done_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Done *done = user_data;

  done->ok = ps_import_run_finish (PS_IMPORT (object), result, &done->error);
  done->done = TRUE;
}

static PsServer *
instance_of (PsTestPeer *peer)
{
  return ps_server_new ("This instance", ps_test_peer_get_url (peer));
}

/* Exports the source's databases, after the positions in @state when given. */
/* This instance, as the tests' peers have it: no user, no password. */
static PsExport *
new_export (SoupSession *session,
            PsServer    *instance)
{
  g_autoptr(PsServerAccess) access = ps_server_access_new (instance, session, NULL);

  return ps_export_new (access, "all");
}

static PsImport *
new_import (SoupSession *session,
            PsServer    *instance)
{
  g_autoptr(PsServerAccess) access = ps_server_access_new (instance, session, NULL);

  return ps_import_new (access);
}

static PsExport *
run_export (Fixture       *fixture,
        const char    *path,
        PsExportState *state)
{
  g_autoptr(PsServer) instance = instance_of (fixture->source);
  g_autoptr(PsExport) export = new_export (fixture->session, instance);
  Done done = { 0, };

  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    ps_export_add_database (export, databases[d],
                            state != NULL ? ps_export_state_get_since (state, "all", databases[d])
                                          : NULL);
  ps_export_run_async (export, path, PASSPHRASE, NULL, on_export_done_cb, &done);
  while (!done.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (done.error);
  g_assert_true (done.ok);

  if (state != NULL)
    {
      for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
        ps_export_state_set_since (state, "all", databases[d],
                                   ps_export_get_last_seq (export, databases[d]));
    }
  return g_steal_pointer (&export);
}

static PsImport *
run_import_with_state (Fixture        *fixture,
                       const char     *path,
                       const char     *passphrase,
                       PsExportState  *state,
                       GError        **error)
{
  g_autoptr(PsServer) instance = instance_of (fixture->target);
  g_autoptr(PsImport) import = new_import (fixture->session, instance);
  Done done = { 0, };

  ps_import_set_journal (import, fixture->journal);
  if (state != NULL)
    ps_import_set_state (import, state);
  ps_import_run_async (import, path, passphrase, NULL, on_import_done_cb, &done);
  while (!done.done)
    g_main_context_iteration (NULL, TRUE);
  if (!done.ok)
    {
      g_propagate_error (error, done.error);
      return NULL;
    }
  g_assert_no_error (done.error);
  return g_steal_pointer (&import);
}

static PsImport *
run_import (Fixture     *fixture,
            const char  *path,
            const char  *passphrase,
            GError     **error)
{
  return run_import_with_state (fixture, path, passphrase, NULL, error);
}

/* Every leaf of the source, and how many there are. */
static JsonObject *
source_leaves (PsTestPeer *peer,
               const char *db,
               guint      *n_leaves)
{
  g_autofree char *path = g_strdup_printf ("/%s/_changes?style=all_docs", db);
  g_autoptr(JsonNode) changes = ps_test_peer_request (peer, "GET", path, NULL, NULL);
  JsonArray *results = json_object_get_array_member (json_node_get_object (changes), "results");
  JsonObject *leaves = json_object_new ();

  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonObject *change = json_array_get_object_element (results, i);
      JsonArray *revs = json_array_new ();
      JsonArray *list = json_object_get_array_member (change, "changes");

      for (guint j = 0; j < json_array_get_length (list); j++)
        json_array_add_string_element (revs, json_object_get_string_member (
                                         json_array_get_object_element (list, j), "rev"));
      *n_leaves += json_array_get_length (revs);
      json_object_set_array_member (leaves, json_object_get_string_member (change, "id"), revs);
    }
  return leaves;
}

static guint
count_source_leaves (Fixture *fixture)
{
  guint n = 0;

  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    json_object_unref (source_leaves (fixture->source, databases[d], &n));
  return n;
}

/* The target holds every revision of the source, with its history. */
static void
assert_target_has_source_revisions (Fixture *fixture)
{
  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    {
      guint n = 0;
      g_autoptr(JsonObject) leaves = source_leaves (fixture->source, databases[d], &n);
      g_autoptr(JsonNode) body = json_node_init_object (json_node_alloc (), leaves);
      g_autofree char *path = g_strdup_printf ("/%s/_revs_diff", databases[d]);
      g_autoptr(JsonNode) diff = ps_test_peer_request (fixture->target, "POST", path, body, NULL);

      g_assert_cmpuint (json_object_get_size (json_node_get_object (diff)), ==, 0);
    }
}

static char *
update_seqs (PsTestPeer *peer)
{
  GString *seqs = g_string_new (NULL);

  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    {
      g_autofree char *path = g_strdup_printf ("/%s", databases[d]);
      g_autoptr(JsonNode) info = ps_test_peer_request (peer, "GET", path, NULL, NULL);
      g_autofree char *seq = json_to_string (json_object_get_member (json_node_get_object (info),
                                                                     "update_seq"), FALSE);

      g_string_append_printf (seqs, "%s ", seq);
    }
  return g_string_free (seqs, FALSE);
}

static gboolean
file_contains (const char *path,
               const char *needle)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  for (gsize i = 0; i + strlen (needle) <= length; i++)
    {
      if (memcmp (contents + i, needle, strlen (needle)) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
test_round_trip (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(PsExport) export = run_export (fixture, fixture->path, NULL);
  g_autoptr(PsImport) first = NULL;
  g_autoptr(PsImport) again = NULL;
  g_autoptr(JsonObject) summary = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) source_trees = ps_test_peer_rev_trees (fixture->source, databases[0]);
  g_autoptr(GHashTable) target_trees = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(JsonNode) summary_node = NULL;
  g_autofree char *summary_text = NULL;
  g_autofree char *seqs = NULL;
  g_autofree char *seqs_again = NULL;
  guint n_leaves = count_source_leaves (fixture);
  PsJournalFilter filter = { .kind = "resolution" };
  GStatBuf st;

  /* Private, and no record in the clear. */
  g_assert_cmpint (g_stat (fixture->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_nonnull (fixture->known_name);
  g_assert_false (file_contains (fixture->path, fixture->known_name));
  g_assert_false (file_contains (fixture->path, fixture->conflicted->pdata[0]));

  /* The summary is readable without the passphrase and names no record. */
  summary = ps_sync_file_read_summary (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (summary, "revisions"), ==, n_leaves);
  g_assert_cmpint (json_object_get_int_member (summary, "records"), ==, 30 + 8);
  g_assert_cmpstr (json_object_get_string_member (summary, "contents"), ==, "everything");
  g_assert_false (json_object_has_member (summary, "kdf"));
  summary_node = json_node_init_object (json_node_alloc (), summary);
  summary_text = json_to_string (summary_node, FALSE);
  g_assert_null (strstr (summary_text, fixture->conflicted->pdata[0]));
  g_assert_null (strstr (summary_text, fixture->known_name));

  first = run_import (fixture, fixture->path, PASSPHRASE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ps_import_get_n_revisions (first), ==, n_leaves);
  g_assert_cmpuint (ps_import_get_n_written (first), ==, n_leaves);
  g_assert_cmpuint (ps_import_get_n_present (first), ==, 0);
  g_assert_cmpuint (ps_import_get_n_resolved (first), ==, 3);
  g_assert_cmpuint (ps_import_get_n_unresolved (first), ==, 0);

  /* Every revision came over with its history; the conflicts were resolved
   * here, so only their trees grew.
   */
  assert_target_has_source_revisions (fixture);
  g_assert_cmpuint (ps_test_peer_count_conflicts (fixture->target, databases[0]), ==, 0);
  target_trees = ps_test_peer_rev_trees (fixture->target, databases[0]);
  g_assert_cmpuint (g_hash_table_size (target_trees), ==, g_hash_table_size (source_trees));
  for (guint i = 3; i < fixture->records->len; i++)
    {
      const char *id = json_object_get_string_member (
                         json_node_get_object (g_ptr_array_index (fixture->records, i)), "_id");

      g_assert_cmpstr (g_hash_table_lookup (target_trees, id), ==,
                       g_hash_table_lookup (source_trees, id));
    }
  for (guint d = 1; d < G_N_ELEMENTS (databases); d++)
    ps_test_assert_same_rev_trees (fixture->source, databases[d], fixture->target, databases[d]);

  entries = ps_journal_read (fixture->journal, &filter, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 3);
  g_clear_pointer (&entries, g_ptr_array_unref);
  filter.kind = "import";
  entries = ps_journal_read (fixture->journal, &filter, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
  g_assert_cmpint (json_object_get_int_member (g_ptr_array_index (entries, 0), "written"),
                   ==, n_leaves);

  /* The same file again changes nothing. */
  seqs = update_seqs (fixture->target);
  again = run_import (fixture, fixture->path, PASSPHRASE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ps_import_get_n_written (again), ==, 0);
  g_assert_cmpuint (ps_import_get_n_present (again), ==, n_leaves);
  g_assert_cmpuint (ps_import_get_n_resolved (again), ==, 0);
  seqs_again = update_seqs (fixture->target);
  g_assert_cmpstr (seqs, ==, seqs_again);
}

static void
copy_damaged (const char *from,
              const char *to,
              gssize      flip_at,
              gsize       keep)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (from, &contents, &length, NULL));
  if (flip_at >= 0)
    contents[flip_at] ^= 0x20;
  g_file_set_contents (to, contents, MIN (keep, length), &error);
  g_assert_no_error (error);
}

static void
test_damaged_file_is_refused (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr(PsExport) export = run_export (fixture, fixture->path, NULL);
  g_autofree char *damaged = g_build_filename (fixture->dir, "damaged", NULL);
  g_autofree char *seqs = update_seqs (fixture->target);
  GStatBuf st;
  struct { gssize flip_at; gssize keep; } cases[] = {
    { -1, -2 },          /* cut off by half */
    { -1, -1 },          /* the last byte missing */
    { -3, G_MAXSSIZE },  /* a byte changed in the middle */
    { 20, G_MAXSSIZE },  /* a byte changed in the header */
    { -4, G_MAXSSIZE },  /* a byte changed near the end */
  };

  g_assert_cmpint (g_stat (fixture->path, &st), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PsImport) import_ = NULL;
      g_autofree char *seqs_after = NULL;
      gssize flip_at = cases[i].flip_at;
      gsize keep = cases[i].keep;

      if (flip_at == -3)
        flip_at = st.st_size / 2;
      else if (flip_at == -4)
        flip_at = st.st_size - 30;
      if (cases[i].keep == -2)
        keep = st.st_size / 2;
      else if (cases[i].keep == -1)
        keep = st.st_size - 1;

      g_test_message ("case %u: flip %" G_GSSIZE_FORMAT ", keep %" G_GSIZE_FORMAT,
                      i, flip_at, keep);
      copy_damaged (fixture->path, damaged, flip_at, keep);
      import_ = run_import (fixture, damaged, PASSPHRASE, &error);
      g_assert_null (import_);
      g_assert_error (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_DAMAGED);
      seqs_after = update_seqs (fixture->target);
      g_assert_cmpstr (seqs, ==, seqs_after);
    }
}

static void
test_wrong_passphrase_is_refused (Fixture       *fixture,
                                  gconstpointer  data)
{
  g_autoptr(PsExport) export = run_export (fixture, fixture->path, NULL);
  g_autoptr(PsImport) import_ = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *seqs = update_seqs (fixture->target);
  g_autofree char *seqs_after = NULL;

  import_ = run_import (fixture, fixture->path, "correct horse battery stapler", &error);
  g_assert_null (import_);
  g_assert_error (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_WRONG_PASSPHRASE);
  g_assert_nonnull (strstr (error->message, "passphrase is wrong"));
  seqs_after = update_seqs (fixture->target);
  g_assert_cmpstr (seqs, ==, seqs_after);
}

static void
test_since_last_carries_only_changes (Fixture       *fixture,
                                      gconstpointer  data)
{
  g_autofree char *state_path = g_build_filename (fixture->dir, "config", "exports.json", NULL);
  g_autofree char *second = g_build_filename (fixture->dir, "second", NULL);
  g_autoptr(PsExportState) state = ps_export_state_new_for_path (state_path);
  g_autoptr(PsExportState) reloaded = ps_export_state_new_for_path (state_path);
  g_autoptr(PsExport) first_export = NULL;
  g_autoptr(PsExport) second_export = NULL;
  g_autoptr(PsImport) first = NULL;
  g_autoptr(PsImport) next = NULL;
  g_autoptr(JsonObject) summary = NULL;
  g_autoptr(GPtrArray) edits = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  g_autoptr(GError) error = NULL;
  GStatBuf st;

  first_export = run_export (fixture, fixture->path, state);
  g_assert_true (ps_export_state_save (state, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (state_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  first = run_import (fixture, fixture->path, PASSPHRASE, &error);
  g_assert_no_error (error);

  for (guint i = 5; i < 25; i++)
    g_ptr_array_add (edits, ps_record_generator_edit (rand, g_ptr_array_index (fixture->records, i)));
  ps_test_peer_put_records (fixture->source, databases[0], edits);

  g_assert_true (ps_export_state_load (reloaded, &error));
  g_assert_no_error (error);
  second_export = run_export (fixture, second, reloaded);
  summary = ps_sync_file_read_summary (second, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (summary, "contents"), ==, "since-last");
  g_assert_cmpint (json_object_get_int_member (summary, "revisions"), ==, 20);
  g_assert_cmpint (json_object_get_int_member (summary, "records"), ==, 20);

  next = run_import (fixture, second, PASSPHRASE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ps_import_get_n_revisions (next), ==, 20);
  g_assert_cmpuint (ps_import_get_n_written (next), ==, 20);
  assert_target_has_source_revisions (fixture);
}

static void
test_missing_database_is_refused (Fixture       *fixture,
                                  gconstpointer  data)
{
  g_autoptr(PsExport) export = run_export (fixture, fixture->path, NULL);
  g_autoptr(PsImport) import_ = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) deleted = NULL;
  g_autoptr(GHashTable) trees = NULL;
  g_autofree char *path = g_strdup_printf ("/%s", databases[1]);
  guint status = 0;

  deleted = ps_test_peer_request (fixture->target, "DELETE", path, NULL, &status);
  g_assert_cmpuint (status, ==, 200);

  import_ = run_import (fixture, fixture->path, PASSPHRASE, &error);
  g_assert_null (import_);
  g_assert_error (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, databases[1]));

  /* Not even the database before it was written. */
  trees = ps_test_peer_rev_trees (fixture->target, databases[0]);
  g_assert_cmpuint (g_hash_table_size (trees), ==, 0);
}


/* A file made by hand, as anyone who knows a passphrase could make one:
 * @sections is NULL-terminated, each a database name followed by its
 * documents' JSON and a NULL.
 */
static void
write_file (const char        *path,
            const char *const *sections)
{
  g_autoptr(PsSyncFileWriter) writer = NULL;
  g_autoptr(JsonObject) header = json_object_new ();
  g_autoptr(JsonObject) trailer = json_object_new ();
  g_autoptr(GError) error = NULL;
  guint total = 0;

  json_object_set_string_member (header, "instance", "elsewhere");
  writer = ps_sync_file_writer_new (path, PASSPHRASE, header, &error);
  g_assert_no_error (error);
  while (*sections != NULL)
    {
      g_autofree char *counts = NULL;
      guint n = 0;

      ps_sync_file_writer_add (writer, PS_SYNC_FILE_ITEM_DATABASE, *sections,
                               strlen (*sections), &error);
      g_assert_no_error (error);
      for (sections++; *sections != NULL; sections++, n++)
        {
          ps_sync_file_writer_add (writer, PS_SYNC_FILE_ITEM_REVISION, *sections,
                                   strlen (*sections), &error);
          g_assert_no_error (error);
        }
      sections++;
      counts = g_strdup_printf ("{\"records\":%u,\"revisions\":%u}", n, n);
      ps_sync_file_writer_add (writer, PS_SYNC_FILE_ITEM_DATABASE_END, counts,
                               strlen (counts), &error);
      g_assert_no_error (error);
      total += n;
    }
  json_object_set_int_member (trailer, "records", total);
  json_object_set_int_member (trailer, "revisions", total);
  g_assert_true (ps_sync_file_writer_finish (writer, trailer, &error));
  g_assert_no_error (error);
}

#define GOOD_CASE \
  "{\"_id\":\"good-case\",\"_rev\":\"1-00000000000000000000000000000001\"," \
  "\"type\":\"child\",\"_revisions\":{\"start\":1,\"ids\":[\"00000000000000000000000000000001\"]}}"

static void
assert_nothing_written (Fixture    *fixture,
                        const char *seqs)
{
  g_autofree char *seqs_after = update_seqs (fixture->target);

  g_assert_cmpstr (seqs, ==, seqs_after);
  g_assert_false (ps_test_peer_has_doc (fixture->target, databases[0], "good-case"));
}

/* A file may only write into this instance's record databases: not into
 * _users (a new administrator), not into _replicator (a replication that
 * copies every case away), not into a database nobody configured, and not
 * design or local documents. Such a file is refused whole.
 */
static void
test_import_refuses_foreign_targets (Fixture       *fixture,
                                     gconstpointer  data)
{
  const char *user_doc =
    "{\"_id\":\"org.couchdb.user:eve\",\"_rev\":\"1-00000000000000000000000000000002\","
    "\"type\":\"user\",\"name\":\"eve\",\"roles\":[],\"password\":\"eve\"}";
  const char *replication =
    "{\"_id\":\"steal\",\"_rev\":\"1-00000000000000000000000000000003\","
    "\"source\":\"primero_child_production\",\"target\":\"http://evil.example/cases\","
    "\"continuous\":true}";
  const char *design =
    "{\"_id\":\"_design/evil\",\"_rev\":\"1-00000000000000000000000000000004\","
    "\"validate_doc_update\":\"function () { throw({forbidden: 'no'}); }\"}";
  const char *local =
    "{\"_id\":\"_local/checkpoint\",\"_rev\":\"0-1\",\"history\":[]}";
  struct {
    const char *sections[8];
    const char *named;
  } cases[] = {
    { { databases[0], GOOD_CASE, NULL, "_users", user_doc, NULL, NULL }, "_users" },
    { { databases[0], GOOD_CASE, NULL, "_replicator", replication, NULL, NULL }, "_replicator" },
    { { databases[0], GOOD_CASE, NULL, "other_records", GOOD_CASE, NULL, NULL },
      "other_records" },
    { { databases[0], GOOD_CASE, design, NULL, NULL }, "_design/evil" },
    { { databases[0], GOOD_CASE, local, NULL, NULL }, "_local/checkpoint" },
  };
  g_autofree char *seqs = NULL;

  ps_test_peer_create_db (fixture->target, "other_records");
  seqs = update_seqs (fixture->target);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PsImport) import_ = NULL;
      g_autoptr(GError) error = NULL;
      guint status = 0;
      g_autoptr(JsonNode) user = NULL;
      g_autoptr(JsonNode) steal = NULL;

      g_test_message ("case %u: %s", i, cases[i].named);
      write_file (fixture->path, cases[i].sections);
      import_ = run_import (fixture, fixture->path, PASSPHRASE, &error);
      g_assert_null (import_);
      g_assert_error (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_REFUSED);
      g_assert_nonnull (strstr (error->message, cases[i].named));
      assert_nothing_written (fixture, seqs);

      user = ps_test_peer_request (fixture->target, "GET", "/_users/org.couchdb.user:eve",
                                   NULL, &status);
      g_assert_cmpuint (status, !=, 200);
      steal = ps_test_peer_request (fixture->target, "GET", "/_replicator/steal", NULL, &status);
      g_assert_cmpuint (status, !=, 200);
    }
}

/* Design documents are the instance's own code: no file carries them. */
static void
test_export_leaves_out_design_documents (Fixture       *fixture,
                                         gconstpointer  data)
{
  g_autoptr(JsonArray) docs = json_array_new ();
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(PsExport) export = NULL;
  g_autoptr(PsSyncFileReader) reader = NULL;
  g_autoptr(PsImport) import_ = NULL;
  g_autoptr(GError) error = NULL;
  guint n_revisions = 0;

  g_assert_true (json_parser_load_from_data (parser, "{\"_id\":\"_design/primero\","
                                             "\"views\":{}}", -1, NULL));
  json_array_add_element (docs, json_node_copy (json_parser_get_root (parser)));
  ps_test_peer_put_docs (fixture->source, databases[0], docs, TRUE);

  export = run_export (fixture, fixture->path, NULL);
  reader = ps_sync_file_reader_open (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_true (ps_sync_file_reader_unlock (reader, PASSPHRASE, &error));
  for (;;)
    {
      g_autoptr(GBytes) bytes = NULL;
      PsSyncFileItem item;

      g_assert_true (ps_sync_file_reader_next (reader, &item, &bytes, &error));
      g_assert_no_error (error);
      if (item == PS_SYNC_FILE_ITEM_END)
        break;
      if (item == PS_SYNC_FILE_ITEM_REVISION)
        {
          g_assert_null (g_strstr_len (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                       "\"_design/"));
          n_revisions++;
        }
    }
  g_assert_cmpuint (n_revisions, ==, count_source_leaves (fixture) - 1);

  import_ = run_import (fixture, fixture->path, PASSPHRASE, &error);
  g_assert_no_error (error);
  g_assert_false (ps_test_peer_has_doc (fixture->target, databases[0], "_design/primero"));
}

static void
write_raw (const char *path,
           const char *header,
           gsize       header_length,
           const char *trailer,
           gsize       trailer_length)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  guint8 zeros[24] = { 0, };
  guint32 length;

  g_byte_array_append (bytes, (const guint8 *) "PRIMSYNC\1", 9);
  length = GUINT32_TO_BE (header_length);
  g_byte_array_append (bytes, (const guint8 *) &length, 4);
  g_byte_array_append (bytes, (const guint8 *) header, header_length);
  g_byte_array_append (bytes, zeros, sizeof zeros);
  if (trailer != NULL)
    {
      length = 0;
      g_byte_array_append (bytes, (const guint8 *) &length, 4);
      length = GUINT32_TO_BE (trailer_length);
      g_byte_array_append (bytes, (const guint8 *) &length, 4);
      g_byte_array_append (bytes, (const guint8 *) trailer, trailer_length);
    }
  g_file_set_contents (path, (const char *) bytes->data, bytes->len, &error);
  g_assert_no_error (error);
}

/* 256 KiB of "[" once overflowed the stack of whoever looked at the file. */
static void
test_hostile_nesting_is_damage (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ps-sync-file-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "hostile.primero-sync", NULL);
  gsize deep_length = 256 * 1024;
  g_autofree char *deep = g_malloc (deep_length);
  g_autofree char *trailer = NULL;
  const char *header = "{\"format\":\"primero-sync-file\",\"version\":1}";
  g_autoptr(PsSyncFileReader) reader = NULL;
  g_autoptr(JsonObject) summary = NULL;
  g_autoptr(GError) error = NULL;

  memset (deep, '[', deep_length);
  write_raw (path, deep, deep_length, NULL, 0);
  reader = ps_sync_file_reader_open (path, &error);
  g_assert_null (reader);
  g_assert_error (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_DAMAGED);
  g_clear_error (&error);
  summary = ps_sync_file_read_summary (path, &error);
  g_assert_null (summary);
  g_assert_error (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_DAMAGED);
  g_clear_error (&error);

  /* The trailer is read, unauthenticated, for the summary. */
  trailer = g_strnfill (200 * 1024, '[');
  write_raw (path, header, strlen (header), trailer, strlen (trailer));
  summary = ps_sync_file_read_summary (path, &error);
  g_assert_null (summary);
  g_assert_error (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_DAMAGED);

  g_unlink (path);
  g_rmdir (dir);
}

/* An empty header or trailer is damage, not a critical warning. */
static void
test_empty_header_and_trailer_are_damage (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ps-sync-file-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "empty.primero-sync", NULL);
  const char *header = "{\"format\":\"primero-sync-file\",\"version\":1}";
  g_autoptr(PsSyncFileReader) reader = NULL;
  g_autoptr(JsonObject) summary = NULL;
  g_autoptr(GError) error = NULL;

  write_raw (path, "", 0, NULL, 0);
  reader = ps_sync_file_reader_open (path, &error);
  g_assert_null (reader);
  g_assert_error (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_DAMAGED);
  g_clear_error (&error);

  write_raw (path, header, strlen (header), "", 0);
  summary = ps_sync_file_read_summary (path, &error);
  g_assert_null (summary);
  g_assert_error (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_DAMAGED);

  g_unlink (path);
  g_rmdir (dir);
}

/* A record nested past the limit that replication enforces is refused by
 * the import too, before anything is written.
 */
static void
test_import_refuses_deep_record (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autoptr(GString) deep = g_string_new ("{\"_id\":\"deep\","
                                          "\"_rev\":\"1-00000000000000000000000000000005\","
                                          "\"x\":");
  g_autoptr(PsImport) import_ = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *seqs = update_seqs (fixture->target);

  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, ']');
  g_string_append_c (deep, '}');
  {
    const char *with_deep[] = { databases[0], GOOD_CASE, deep->str, NULL, NULL };

    write_file (fixture->path, with_deep);
  }
  import_ = run_import (fixture, fixture->path, PASSPHRASE, &error);
  g_assert_null (import_);
  g_assert_error (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_DAMAGED);
  assert_nothing_written (fixture, seqs);
}

/* New files are made with libsodium's MODERATE Argon2id costs: the header
 * of a real file says so.
 */
static void
test_new_files_use_moderate_kdf (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ps-sync-file-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "moderate.primero-sync", NULL);
  g_autoptr(PsSyncFileWriter) writer = NULL;
  g_autoptr(PsSyncFileReader) reader = NULL;
  g_autoptr(JsonObject) header = json_object_new ();
  g_autoptr(JsonObject) trailer = json_object_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *kdf;

  ps_sync_file_set_kdf_limits_for_tests (0, 0);
  writer = ps_sync_file_writer_new (path, PASSPHRASE, header, &error);
  g_assert_no_error (error);
  json_object_set_int_member (trailer, "revisions", 0);
  g_assert_true (ps_sync_file_writer_finish (writer, trailer, &error));
  g_assert_no_error (error);

  reader = ps_sync_file_reader_open (path, &error);
  g_assert_no_error (error);
  kdf = json_object_get_object_member (ps_sync_file_reader_get_header (reader), "kdf");
  g_assert_cmpstr (json_object_get_string_member (kdf, "algorithm"), ==, "argon2id13");
  g_assert_cmpint (json_object_get_int_member (kdf, "opslimit"), ==,
                   crypto_pwhash_OPSLIMIT_MODERATE);
  g_assert_cmpint (json_object_get_int_member (kdf, "memlimit"), ==,
                   crypto_pwhash_MEMLIMIT_MODERATE);
  g_assert_true (ps_sync_file_reader_unlock (reader, PASSPHRASE, &error));
  g_assert_no_error (error);

  ps_sync_file_set_kdf_limits_for_tests (crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
  g_unlink (path);
  g_rmdir (dir);
}

/* A file made before the MODERATE costs (INTERACTIVE ones in its header)
 * still opens and imports.
 */
static void
test_old_file_still_opens (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autofree char *old = g_test_build_filename (G_TEST_DIST, "data", "old-kdf.primero-sync",
                                                NULL);
  g_autoptr(PsSyncFileReader) reader = NULL;
  g_autoptr(PsImport) import_ = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *kdf;

  reader = ps_sync_file_reader_open (old, &error);
  g_assert_no_error (error);
  kdf = json_object_get_object_member (ps_sync_file_reader_get_header (reader), "kdf");
  g_assert_cmpint (json_object_get_int_member (kdf, "opslimit"), ==,
                   crypto_pwhash_OPSLIMIT_INTERACTIVE);
  g_assert_cmpint (json_object_get_int_member (kdf, "memlimit"), ==,
                   crypto_pwhash_MEMLIMIT_INTERACTIVE);

  import_ = run_import (fixture, old, PASSPHRASE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ps_import_get_n_written (import_), ==, 1);
  g_assert_true (ps_test_peer_has_doc (fixture->target, databases[0], "old-kdf-case"));
}

/* A passphrase that a dictionary attack finds is refused, with the reason. */
static void
test_weak_passphrase_is_refused (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autoptr(PsServer) instance = instance_of (fixture->source);
  const char *weak[] = { "password", "12345678", "primero" };
  g_autoptr(GError) error = NULL;

  g_assert_true (ps_sync_file_check_passphrase (PASSPHRASE, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (weak); i++)
    {
      g_autoptr(PsExport) export = new_export (fixture->session, instance);
      Done done = { 0, };

      ps_export_add_database (export, databases[0], NULL);
      ps_export_run_async (export, fixture->path, weak[i], NULL, on_export_done_cb, &done);
      while (!done.done)
        g_main_context_iteration (NULL, TRUE);
      g_assert_false (done.ok);
      g_assert_error (done.error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_WEAK_PASSPHRASE);
      g_assert_nonnull (strstr (done.error->message, "too easy to guess"));
      if (i > 0)
        g_assert_null (strstr (done.error->message, weak[i]));
      g_test_message ("%s: %s", weak[i], done.error->message);
      g_clear_error (&done.error);
      g_assert_false (g_file_test (fixture->path, G_FILE_TEST_EXISTS));
    }
}

/* _users holds password hashes, _replicator credentials: no file carries
 * a system database, whatever it is asked to export.
 */
static void
test_export_refuses_system_database (void)
{
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autoptr(PsServer) instance = ps_server_new ("This instance", "http://127.0.0.1:9");
  g_autofree char *dir = g_dir_make_tmp ("ps-sync-file-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "users.primero-sync", NULL);
  const char *system[] = { "_users", "_replicator", "_global_changes" };

  for (guint i = 0; i < G_N_ELEMENTS (system); i++)
    {
      g_autoptr(PsExport) export = new_export (session, instance);
      Done done = { 0, };

      ps_export_add_database (export, "primero_child_production", NULL);
      ps_export_add_database (export, system[i], NULL);
      ps_export_run_async (export, path, PASSPHRASE, NULL, on_export_done_cb, &done);
      while (!done.done)
        g_main_context_iteration (NULL, TRUE);
      g_assert_false (done.ok);
      g_assert_error (done.error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_REFUSED);
      g_assert_nonnull (strstr (done.error->message, system[i]));
      g_clear_error (&done.error);
      g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
    }
  g_rmdir (dir);
}

/* Each incremental file names the one it follows; an import warns when
 * that one never came here, and not once it did.
 */
static void
test_import_warns_of_missing_predecessor (Fixture       *fixture,
                                          gconstpointer  data)
{
  g_autofree char *state_path = g_build_filename (fixture->dir, "config", "exports.json", NULL);
  g_autofree char *target_state_path = g_build_filename (fixture->dir, "target", "exports.json",
                                                         NULL);
  g_autofree char *second = g_build_filename (fixture->dir, "second", NULL);
  g_autoptr(PsExportState) state = ps_export_state_new_for_path (state_path);
  g_autoptr(PsExportState) target_state = ps_export_state_new_for_path (target_state_path);
  g_autoptr(PsExportState) target_reloaded = ps_export_state_new_for_path (target_state_path);
  g_autoptr(PsExport) first_export = NULL;
  g_autoptr(PsExport) second_export = NULL;
  g_autoptr(PsImport) skipped = NULL;
  g_autoptr(PsImport) first = NULL;
  g_autoptr(PsImport) next = NULL;
  g_autoptr(JsonObject) first_summary = NULL;
  g_autoptr(JsonObject) second_summary = NULL;
  g_autoptr(GPtrArray) edits = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  g_autoptr(GError) error = NULL;
  char *databases_strv[] = { (char *) databases[0], (char *) databases[1],
                             (char *) databases[2], NULL };

  first_export = run_export (fixture, fixture->path, state);
  ps_export_state_record (state, "all", first_export, databases_strv);
  for (guint i = 5; i < 10; i++)
    g_ptr_array_add (edits, ps_record_generator_edit (rand, g_ptr_array_index (fixture->records, i)));
  ps_test_peer_put_records (fixture->source, databases[0], edits);
  {
    g_autoptr(PsServer) instance = instance_of (fixture->source);
    Done done = { 0, };

    second_export = new_export (fixture->session, instance);
    for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
      ps_export_add_database (second_export, databases[d],
                              ps_export_state_get_since (state, "all", databases[d]));
    ps_export_set_follows (second_export, ps_export_state_get_last_file (state, "all"));
    ps_export_run_async (second_export, second, PASSPHRASE, NULL, on_export_done_cb, &done);
    while (!done.done)
      g_main_context_iteration (NULL, TRUE);
    g_assert_no_error (done.error);
  }

  first_summary = ps_sync_file_read_summary (fixture->path, &error);
  g_assert_no_error (error);
  second_summary = ps_sync_file_read_summary (second, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ps_json_get_string (first_summary, "file_id"));
  g_assert_null (ps_json_get_string (first_summary, "follows"));
  g_assert_cmpstr (ps_json_get_string (ps_json_get_object (second_summary, "follows"), "id"), ==,
                   ps_json_get_string (first_summary, "file_id"));
  g_assert_cmpstr (ps_json_get_string (ps_export_state_get_last_file (state, "all"), "id"), ==,
                   ps_json_get_string (first_summary, "file_id"));

  /* The second file alone: imported, with a warning that names the gap. */
  skipped = run_import_with_state (fixture, second, PASSPHRASE, target_state, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ps_import_get_warning (skipped));
  g_test_message ("%s", ps_import_get_warning (skipped));
  g_assert_nonnull (strstr (ps_import_get_warning (skipped), "was never imported"));

  /* Once the first came, the second follows it without a warning, also
   * after the state was read again from disk.
   */
  first = run_import_with_state (fixture, fixture->path, PASSPHRASE, target_state, &error);
  g_assert_no_error (error);
  g_assert_null (ps_import_get_warning (first));
  g_assert_true (ps_export_state_load (target_reloaded, &error));
  g_assert_no_error (error);
  next = run_import_with_state (fixture, second, PASSPHRASE, target_reloaded, &error);
  g_assert_no_error (error);
  g_assert_null (ps_import_get_warning (next));
}

/* An export that cannot read a revision fails: a file that silently left
 * a record behind would never be noticed, as the next file starts after it.
 * Only a revision replaced meanwhile may be skipped, as the feed brings its
 * successor.
 */
static void
test_export_fails_on_bulk_get_error (void)
{
  g_autoptr(PsFakeCouch) fake = ps_fake_couch_new ();
  g_autoptr(SoupSession) session = ps_couch_session_new ();
  g_autofree char *url = ps_fake_couch_url (fake, "");
  g_autoptr(PsServer) instance = ps_server_new ("This instance", url);
  g_autofree char *dir = g_dir_make_tmp ("ps-sync-file-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "records.primero-sync", NULL);
  const char *changes =
    "{\"results\":[{\"seq\":1,\"id\":\"a\",\"changes\":[{\"rev\":\"1-x\"}]},"
    "{\"seq\":2,\"id\":\"b\",\"changes\":[{\"rev\":\"1-y\"}]}],\"last_seq\":2}";
  const char *answers[] = {
    "{\"error\":{\"id\":\"b\",\"rev\":\"1-y\",\"error\":\"forbidden\",\"reason\":\"no reading\"}}",
    "{\"error\":{\"id\":\"b\",\"rev\":\"1-y\",\"error\":\"unknown_error\",\"reason\":\"timeout\"}}",
    "{\"error\":{\"id\":\"b\",\"rev\":\"1-y\",\"error\":\"not_found\",\"reason\":\"missing\"}}",
  };

  ps_fake_couch_route (fake, "GET", "/primero_child_production/_changes", 200,
                       "application/json", changes);
  for (guint i = 0; i < G_N_ELEMENTS (answers); i++)
    {
      g_autoptr(PsExport) export = new_export (session, instance);
      g_autofree char *bulk_get =
        g_strdup_printf ("{\"results\":[{\"id\":\"a\",\"docs\":[{\"ok\":{\"_id\":\"a\","
                         "\"_rev\":\"1-x\",\"_revisions\":{\"start\":1,\"ids\":[\"x\"]}}}]},"
                         "{\"id\":\"b\",\"docs\":[%s]}]}", answers[i]);
      gboolean superseded = strstr (answers[i], "not_found") != NULL;
      Done done = { 0, };

      ps_fake_couch_route (fake, "POST", "/primero_child_production/_bulk_get", 200,
                           "application/json", bulk_get);
      ps_export_add_database (export, "primero_child_production", NULL);
      ps_export_run_async (export, path, PASSPHRASE, NULL, on_export_done_cb, &done);
      while (!done.done)
        g_main_context_iteration (NULL, TRUE);
      g_test_message ("case %u: %s", i, done.error != NULL ? done.error->message : "ok");
      g_assert_cmpint (done.ok, ==, superseded);
      g_assert_cmpint (g_file_test (path, G_FILE_TEST_EXISTS), ==, superseded);
      if (!superseded)
        {
          g_assert_nonnull (done.error);
          g_assert_nonnull (strstr (done.error->message, "“b”"));
          g_clear_error (&done.error);
        }
      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
test_cli_round_trip (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *source_home = g_build_filename (fixture->dir, "source", NULL);
  g_autofree char *target_home = g_build_filename (fixture->dir, "target", NULL);
  g_autofree char *passphrase = g_build_filename (fixture->dir, "passphrase", NULL);
  g_autofree char *wrong = g_build_filename (fixture->dir, "wrong", NULL);
  g_autofree char *weak = g_build_filename (fixture->dir, "weak", NULL);
  g_autofree char *third = g_build_filename (fixture->dir, "third.primero-sync", NULL);
  g_autofree char *weak_file = g_build_filename (fixture->dir, "weak.primero-sync", NULL);
  g_autofree char *state = g_build_filename (source_home, "config", "primero-sync",
                                             "exports.json", NULL);
  g_autofree char *nothing_new = NULL;
  g_autofree char *seqs = NULL;
  g_autofree char *seqs_after = NULL;
  g_autoptr(GError) error = NULL;
  const char *set_source[] = { "instance", "set", "--url",
                               ps_test_peer_get_url (fixture->source), NULL };
  const char *set_target[] = { "instance", "set", "--url",
                               ps_test_peer_get_url (fixture->target), NULL };
  const char *export_all[] = { "export", "--all", "--to", fixture->path,
                               "--passphrase-file", passphrase, NULL };
  const char *export_since[] = { "export", "--all", "--since-last", "--to", fixture->path,
                                 "--passphrase-file", passphrase, NULL };
  const char *export_third[] = { "export", "--all", "--since-last", "--to", third,
                                 "--passphrase-file", passphrase, NULL };
  const char *summary_third[] = { "import", "--summary", third, NULL };
  const char *import_third[] = { "import", third, "--passphrase-file", passphrase, NULL };
  const char *export_weak[] = { "export", "--all", "--to", weak_file,
                                "--passphrase-file", weak, NULL };
  const char *summary[] = { "import", "--summary", fixture->path, NULL };
  const char *import_file[] = { "import", fixture->path, "--passphrase-file", passphrase, NULL };
  const char *import_wrong[] = { "import", fixture->path, "--passphrase-file", wrong, NULL };
  guint n_leaves = count_source_leaves (fixture);
  PsCliResult result;
  GStatBuf st;

  g_file_set_contents (passphrase, PASSPHRASE "\n", -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (wrong, "not " PASSPHRASE "\n", -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (weak, "password1\n", -1, &error);
  g_assert_no_error (error);

  ps_test_run_cli (&result, source_home, NULL, set_source);
  g_assert_cmpint (result.status, ==, 0);
  ps_cli_result_clear (&result);
  ps_test_run_cli (&result, target_home, NULL, set_target);
  g_assert_cmpint (result.status, ==, 0);
  ps_cli_result_clear (&result);

  /* A passphrase a dictionary finds is refused before anything is read. */
  ps_test_run_cli (&result, source_home, NULL, export_weak);
  g_assert_cmpint (result.status, ==, 2);
  g_assert_nonnull (strstr (result.err, "too easy to guess"));
  g_assert_false (g_file_test (weak_file, G_FILE_TEST_EXISTS));
  ps_cli_result_clear (&result);

  ps_test_run_cli (&result, source_home, NULL, export_all);
  g_assert_cmpint (result.status, ==, 0);
  g_assert_nonnull (strstr (result.out, "revision"));
  ps_cli_result_clear (&result);
  g_assert_cmpint (g_stat (state, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* Readable without the passphrase. */
  ps_test_run_cli (&result, target_home, NULL, summary);
  g_assert_cmpint (result.status, ==, 0);
  g_assert_nonnull (strstr (result.out, "primero_child_production: 30 record(s)"));
  ps_cli_result_clear (&result);

  seqs = update_seqs (fixture->target);
  ps_test_run_cli (&result, target_home, NULL, import_wrong);
  g_assert_cmpint (result.status, ==, 1);
  g_assert_nonnull (strstr (result.err, "The passphrase is wrong"));
  g_assert_null (strstr (result.err, PASSPHRASE));
  ps_cli_result_clear (&result);
  seqs_after = update_seqs (fixture->target);
  g_assert_cmpstr (seqs, ==, seqs_after);

  ps_test_run_cli (&result, target_home, NULL, import_file);
  g_assert_cmpint (result.status, ==, 0);
  g_assert_nonnull (strstr (result.out, "Imported"));
  g_assert_nonnull (strstr (result.out, "3 record(s) resolved"));
  ps_cli_result_clear (&result);
  assert_target_has_source_revisions (fixture);
  g_assert_cmpuint (ps_test_peer_count_conflicts (fixture->target, databases[0]), ==, 0);

  ps_test_run_cli (&result, target_home, NULL, import_file);
  g_assert_cmpint (result.status, ==, 0);
  nothing_new = g_strdup_printf ("Nothing new: all %u revisions in this file are already here",
                                 n_leaves);
  g_assert_nonnull (strstr (result.out, nothing_new));
  ps_cli_result_clear (&result);

  /* Nothing changed since: the next file is empty. */
  ps_test_run_cli (&result, source_home, NULL, export_since);
  g_assert_cmpint (result.status, ==, 0);
  g_assert_nonnull (strstr (result.out, "0 record(s), 0 revision(s)"));
  ps_cli_result_clear (&result);

  /* The next one follows that one, which never came: the import warns. */
  ps_test_run_cli (&result, source_home, NULL, export_third);
  g_assert_cmpint (result.status, ==, 0);
  ps_cli_result_clear (&result);
  ps_test_run_cli (&result, target_home, NULL, summary_third);
  g_assert_cmpint (result.status, ==, 0);
  g_assert_nonnull (strstr (result.out, "Follows: the file made on "));
  ps_cli_result_clear (&result);
  ps_test_run_cli (&result, target_home, NULL, import_third);
  g_assert_cmpint (result.status, ==, 0);
  g_assert_nonnull (strstr (result.err, "Warning: "));
  g_assert_nonnull (strstr (result.err, "never imported here"));
  ps_cli_result_clear (&result);

  /* That one follows the first file, imported here: no warning. */
  ps_test_run_cli (&result, target_home, NULL, import_file);
  g_assert_cmpint (result.status, ==, 0);
  g_assert_null (strstr (result.err, "Warning"));
  ps_cli_result_clear (&result);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  /* MODERATE Argon2id costs a second and 256 MiB per file; the test of the
   * default puts it back.
   */
  ps_sync_file_set_kdf_limits_for_tests (crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);

  g_test_add ("/ps/sync-file/round-trip", Fixture, NULL,
              fixture_set_up, test_round_trip, fixture_tear_down);
  g_test_add ("/ps/sync-file/damaged-file-is-refused", Fixture, NULL,
              fixture_set_up, test_damaged_file_is_refused, fixture_tear_down);
  g_test_add ("/ps/sync-file/wrong-passphrase-is-refused", Fixture, NULL,
              fixture_set_up, test_wrong_passphrase_is_refused, fixture_tear_down);
  g_test_add ("/ps/sync-file/since-last-carries-only-changes", Fixture, NULL,
              fixture_set_up, test_since_last_carries_only_changes, fixture_tear_down);

  g_test_add ("/ps/sync-file/missing-database-is-refused", Fixture, NULL,
              fixture_set_up, test_missing_database_is_refused, fixture_tear_down);
  g_test_add ("/ps/sync-file/cli-round-trip", Fixture, NULL,
              fixture_set_up, test_cli_round_trip, fixture_tear_down);

  g_test_add ("/ps/sync-file/import-refuses-foreign-targets", Fixture, NULL,
              fixture_set_up, test_import_refuses_foreign_targets, fixture_tear_down);
  g_test_add ("/ps/sync-file/export-leaves-out-design-documents", Fixture, NULL,
              fixture_set_up, test_export_leaves_out_design_documents, fixture_tear_down);
  g_test_add_func ("/ps/sync-file/hostile-nesting-is-damage", test_hostile_nesting_is_damage);
  g_test_add_func ("/ps/sync-file/empty-header-and-trailer-are-damage",
                   test_empty_header_and_trailer_are_damage);
  g_test_add ("/ps/sync-file/import-refuses-deep-record", Fixture, NULL,
              fixture_set_up, test_import_refuses_deep_record, fixture_tear_down);
  g_test_add_func ("/ps/sync-file/new-files-use-moderate-kdf", test_new_files_use_moderate_kdf);
  g_test_add ("/ps/sync-file/old-file-still-opens", Fixture, NULL,
              fixture_set_up, test_old_file_still_opens, fixture_tear_down);
  g_test_add ("/ps/sync-file/weak-passphrase-is-refused", Fixture, NULL,
              fixture_set_up, test_weak_passphrase_is_refused, fixture_tear_down);
  g_test_add ("/ps/sync-file/import-warns-of-missing-predecessor", Fixture, NULL,
              fixture_set_up, test_import_warns_of_missing_predecessor, fixture_tear_down);
  g_test_add_func ("/ps/sync-file/export-refuses-system-database",
                   test_export_refuses_system_database);
  g_test_add_func ("/ps/sync-file/export-fails-on-bulk-get-error",
                   test_export_fails_on_bulk_get_error);

  return g_test_run ();
}

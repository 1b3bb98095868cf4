/* test-journal.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-journal"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ps-journal.h"

static char *
journal_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "test", "journal.jsonl", NULL);
}

static JsonObject *
new_entry (const char *kind,
           const char *server,
           const char *database,
           const char *record,
           int         n)
{
  JsonObject *entry = json_object_new ();

  json_object_set_string_member (entry, "kind", kind);
  if (server != NULL)
    json_object_set_string_member (entry, "server", server);
  if (database != NULL)
    json_object_set_string_member (entry, "database", database);
  if (record != NULL)
    json_object_set_string_member (entry, "record", record);
  json_object_set_int_member (entry, "n", n);

  return entry;
}

static void
append_ok (PsJournal  *journal,
           JsonObject *entry)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ps_journal_append (journal, entry, &error));
  g_assert_no_error (error);
}

static gint64
entry_n (GPtrArray *entries,
         guint      i)
{
  return json_object_get_int_member (g_ptr_array_index (entries, i), "n");
}

static guint
mode_of (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_mode & 0777;
}

static void
test_append_read (void)
{
  g_autofree char *path = journal_path ();
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(JsonObject) first = new_entry ("sync", "s1", NULL, NULL, 1);
  g_autoptr(JsonObject) second = new_entry ("resolution", "s1", "primero_child_production",
                                            "rec-1", 2);
  g_autoptr(JsonObject) third = new_entry ("failure", "s2", NULL, NULL, 3);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GDateTime) time = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  json_object_set_string_member (second, "summary", "two\nlines");
  json_object_set_string_member (third, "time", "2020-01-02T03:04:05Z");

  append_ok (journal, first);
  append_ok (journal, second);
  append_ok (journal, third);

  /* A time was added where missing, and kept where given. */
  time = g_date_time_new_from_iso8601 (json_object_get_string_member (first, "time"), NULL);
  g_assert_nonnull (time);
  g_assert_cmpstr (json_object_get_string_member (third, "time"), ==, "2020-01-02T03:04:05Z");

  /* One line per entry, even with a newline inside a value. */
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);
  g_assert_cmpstr (lines[3], ==, "");

  entries = ps_journal_read (journal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 3);
  g_assert_cmpint (entry_n (entries, 0), ==, 3);
  g_assert_cmpint (entry_n (entries, 1), ==, 2);
  g_assert_cmpint (entry_n (entries, 2), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (entries, 1), "summary"),
                   ==, "two\nlines");
  g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (entries, 1), "record"),
                   ==, "rec-1");
}

static void
test_append_all (void)
{
  g_autofree char *path = journal_path ();
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *leaky;

  for (int n = 1; n <= 3; n++)
    g_ptr_array_add (batch, new_entry ("resolution", "s1", "db", "rec", n));
  g_assert_true (ps_journal_append_all (journal, batch, &error));
  g_assert_no_error (error);

  entries = ps_journal_read (journal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 3);
  g_assert_cmpint (entry_n (entries, 0), ==, 3);
  g_assert_cmpint (entry_n (entries, 2), ==, 1);
  g_clear_pointer (&entries, g_ptr_array_unref);

  /* One entry with credentials refuses the whole batch. */
  leaky = new_entry ("sync", "s1", NULL, NULL, 4);
  json_object_set_string_member (leaky, "source", "https://admin:secret@example.org/db");
  g_ptr_array_add (batch, leaky);
  g_assert_false (ps_journal_append_all (journal, batch, &error));
  g_assert_nonnull (error);
  entries = ps_journal_read (journal, NULL, NULL);
  g_assert_cmpuint (entries->len, ==, 3);
}

static void
test_filter (void)
{
  g_autofree char *path = journal_path ();
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(GError) error = NULL;
  PsJournalFilter filter = { NULL, };
  struct {
    const char *kind, *server, *database, *record;
  } rows[] = {
    { "resolution", "a", "db1", "r1" },
    { "resolution", "a", "db1", "r2" },
    { "replication", "a", "db2", NULL },
    { "resolution", "b", "db1", "r1" },
    { "failure", "b", NULL, NULL },
    { "resolution", "a", "db1", "r1" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(JsonObject) entry = new_entry (rows[i].kind, rows[i].server, rows[i].database,
                                               rows[i].record, i);
      append_ok (journal, entry);
    }

  {
    g_autoptr(GPtrArray) entries = NULL;

    filter.server = "a";
    entries = ps_journal_read (journal, &filter, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (entries->len, ==, 4);
    g_assert_cmpint (entry_n (entries, 0), ==, 5);
    g_assert_cmpint (entry_n (entries, 3), ==, 0);
  }

  {
    g_autoptr(GPtrArray) entries = NULL;

    filter.record = "r1";
    entries = ps_journal_read (journal, &filter, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (entries->len, ==, 2);
    g_assert_cmpint (entry_n (entries, 0), ==, 5);
    g_assert_cmpint (entry_n (entries, 1), ==, 0);
  }

  {
    g_autoptr(GPtrArray) entries = NULL;

    filter = (PsJournalFilter) { .record = "r1" };
    entries = ps_journal_read (journal, &filter, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (entries->len, ==, 3);
  }

  {
    g_autoptr(GPtrArray) entries = NULL;

    filter = (PsJournalFilter) { .database = "db1", .kind = "resolution", .max_entries = 2 };
    entries = ps_journal_read (journal, &filter, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (entries->len, ==, 2);
    g_assert_cmpint (entry_n (entries, 0), ==, 5);
    g_assert_cmpint (entry_n (entries, 1), ==, 3);
  }

  {
    g_autoptr(GPtrArray) entries = NULL;

    filter = (PsJournalFilter) { .kind = "sync" };
    entries = ps_journal_read (journal, &filter, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (entries->len, ==, 0);
  }
}

static void
test_default_path_and_modes (void)
{
  g_autoptr(PsJournal) journal = ps_journal_new ();
  g_autoptr(JsonObject) entry = new_entry ("sync", NULL, NULL, NULL, 1);
  g_autofree char *expected = g_build_filename (g_get_user_state_dir (), "primero-sync",
                                                "journal.jsonl", NULL);
  g_autofree char *dir = NULL;
  mode_t saved_umask;

  g_assert_cmpstr (ps_journal_get_path (journal), ==, expected);
  g_assert_false (g_file_test (expected, G_FILE_TEST_EXISTS));

  /* Private whatever the umask. */
  saved_umask = umask (0);
  append_ok (journal, entry);
  umask (saved_umask);

  dir = g_path_get_dirname (expected);
  g_assert_cmpuint (mode_of (dir), ==, 0700);
  g_assert_cmpuint (mode_of (expected), ==, 0600);
}

static void
test_existing_file_made_private (void)
{
  g_autofree char *path = journal_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(JsonObject) entry = new_entry ("sync", NULL, NULL, NULL, 1);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, "", 0, NULL));
  g_assert_cmpint (g_chmod (path, 0644), ==, 0);

  append_ok (journal, entry);
  g_assert_cmpuint (mode_of (path), ==, 0600);
}

static void
test_rotation (void)
{
  g_autofree char *path = journal_path ();
  g_autofree char *old_path = g_strconcat (path, ".1", NULL);
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  GStatBuf st;
  const goffset max_size = 600;
  const int n_entries = 40;

  g_assert_cmpint (ps_journal_get_max_size (journal), ==, PS_JOURNAL_DEFAULT_MAX_SIZE);
  ps_journal_set_max_size (journal, max_size);

  for (int i = 0; i < n_entries; i++)
    {
      g_autoptr(JsonObject) entry = new_entry ("replication", "s", "db", NULL, i);
      append_ok (journal, entry);
    }

  /* The current file stays under the bound; one older file is kept. */
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_size, <=, max_size);
  g_assert_cmpint (g_stat (old_path, &st), ==, 0);
  g_assert_cmpint (st.st_size, <=, max_size);
  g_assert_cmpuint (mode_of (old_path), ==, 0600);

  entries = ps_journal_read (journal, NULL, &error);
  g_assert_no_error (error);

  /* Both files are read back, newest first, without gaps; entries older
   * than the kept file are gone.
   */
  g_assert_cmpuint (entries->len, >, 5);
  g_assert_cmpuint (entries->len, <, n_entries);
  for (guint i = 0; i < entries->len; i++)
    g_assert_cmpint (entry_n (entries, i), ==, n_entries - 1 - i);
}

static void
test_torn_line (void)
{
  g_autofree char *path = journal_path ();
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(JsonObject) first = new_entry ("sync", NULL, NULL, NULL, 1);
  g_autoptr(JsonObject) second = new_entry ("sync", NULL, NULL, NULL, 2);
  g_autoptr(JsonObject) third = new_entry ("sync", NULL, NULL, NULL, 3);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *torn = NULL;

  append_ok (journal, first);
  append_ok (journal, second);

  /* As after a crash in the middle of a write. */
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  torn = g_strconcat (contents, "this is not json\n{\"kind\":\"sync\",\"n\":", NULL);
  g_assert_true (g_file_set_contents (path, torn, -1, NULL));

  entries = ps_journal_read (journal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 2);
  g_assert_cmpint (entry_n (entries, 0), ==, 2);

  /* The next entry is not glued to the torn line. */
  append_ok (journal, third);
  after = ps_journal_read (journal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (after->len, ==, 3);
  g_assert_cmpint (entry_n (after, 0), ==, 3);
}

static void
assert_refused (PsJournal  *journal,
                JsonObject *entry,
                int         code)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (ps_journal_append (journal, entry, &error));
  g_assert_error (error, PS_JOURNAL_ERROR, code);
  g_assert_null (strstr (error->message, "s3cret"));
}

static void
test_credentials_refused (void)
{
  g_autofree char *path = journal_path ();
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(JsonObject) in_url = new_entry ("failure", NULL, NULL, NULL, 1);
  g_autoptr(JsonObject) nested = new_entry ("replication", NULL, NULL, NULL, 2);
  g_autoptr(JsonObject) member = new_entry ("sync", NULL, NULL, NULL, 3);
  g_autoptr(JsonObject) redacted = new_entry ("sync", NULL, NULL, NULL, 4);
  g_autoptr(JsonObject) no_kind = json_object_new ();
  g_autoptr(JsonArray) targets = json_array_new ();
  g_autoptr(JsonObject) inner = json_object_new ();
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;

  json_object_set_string_member (in_url, "message",
                                 "could not reach https://admin:s3cret@example.org:6984/db");
  assert_refused (journal, in_url, PS_JOURNAL_ERROR_CREDENTIALS);

  json_object_set_string_member (inner, "target", "http://admin:s3cret@127.0.0.1:5984/x");
  json_array_add_object_element (targets, g_steal_pointer (&inner));
  json_object_set_array_member (nested, "targets", g_steal_pointer (&targets));
  assert_refused (journal, nested, PS_JOURNAL_ERROR_CREDENTIALS);

  json_object_set_string_member (member, "Password", "s3cret");
  assert_refused (journal, member, PS_JOURNAL_ERROR_CREDENTIALS);

  json_object_set_int_member (no_kind, "n", 5);
  assert_refused (journal, no_kind, PS_JOURNAL_ERROR_INVALID_ENTRY);

  /* Nothing was written. */
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  /* Redacted URLs and user names alone are fine. */
  json_object_set_string_member (redacted, "source", "https://admin:***@example.org/db");
  json_object_set_string_member (redacted, "target", "https://admin@example.org/db");
  json_object_set_string_member (redacted, "note", "mail admin@example.org, see https://x.org/a@b");
  append_ok (journal, redacted);

  entries = ps_journal_read (journal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_null (strstr (contents, "s3cret"));
}

static void
on_entry_added_cb (PsJournal  *journal,
                   JsonObject *entry,
                   gpointer    user_data)
{
  guint *count = user_data;

  g_assert_cmpstr (json_object_get_string_member (entry, "kind"), ==, "manual-edit");
  (*count)++;
}

static void
test_entry_added_signal (void)
{
  g_autofree char *path = journal_path ();
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(JsonObject) entry = new_entry ("manual-edit", NULL, NULL, "r1", 1);
  g_autoptr(JsonObject) refused = new_entry ("manual-edit", NULL, NULL, "r1", 2);
  g_autoptr(GError) error = NULL;
  guint count = 0;

  g_signal_connect (journal, "entry-added", G_CALLBACK (on_entry_added_cb), &count);

  append_ok (journal, entry);
  g_assert_cmpuint (count, ==, 1);

  json_object_set_string_member (refused, "url", "https://u:s3cret@h");
  g_assert_false (ps_journal_append (journal, refused, &error));
  g_assert_cmpuint (count, ==, 1);
}

static void
test_missing_journal (void)
{
  g_autofree char *path = journal_path ();
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;

  entries = ps_journal_read (journal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/journal/append-read", test_append_read);
  g_test_add_func ("/ps/journal/append-all", test_append_all);
  g_test_add_func ("/ps/journal/filter", test_filter);
  g_test_add_func ("/ps/journal/default-path-and-modes", test_default_path_and_modes);
  g_test_add_func ("/ps/journal/existing-file-made-private", test_existing_file_made_private);
  g_test_add_func ("/ps/journal/rotation", test_rotation);
  g_test_add_func ("/ps/journal/torn-line", test_torn_line);
  g_test_add_func ("/ps/journal/credentials-refused", test_credentials_refused);
  g_test_add_func ("/ps/journal/entry-added-signal", test_entry_added_signal);
  g_test_add_func ("/ps/journal/missing", test_missing_journal);

  return g_test_run ();
}

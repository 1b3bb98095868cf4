/* test-journal.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-journal"

#include "config.h"

#include <glib/gstdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ps-journal.h"
#include "ps-merge.h"
#include "ps-test-cli.h"

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

static void assert_refused (PsJournal  *journal,
                            JsonObject *entry,
                            int         code);

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

/* A resolution whose record holds a very large or very small number is
 * journaled as valid JSON, so that it is read back like any other.
 */
static void
test_numbers_read_back (void)
{
  g_autofree char *path = journal_path ();
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(JsonObject) entry = new_entry ("resolution", "s1", "primero_child_production",
                                           "rec-1", 1);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *decision = json_object_new ();
  JsonObject *kept = json_object_new ();
  JsonObject *read_decision;

  json_object_set_double_member (kept, "value", 1e308);
  json_object_set_object_member (decision, "kept", kept);
  json_object_set_double_member (decision, "tiny", 5e-324);
  json_object_set_double_member (decision, "negative", -2.5e300);
  json_object_set_object_member (entry, "decision", decision);
  append_ok (journal, entry);

  entries = ps_journal_read (journal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
  read_decision = json_object_get_object_member (g_ptr_array_index (entries, 0), "decision");
  g_assert_cmpfloat (json_object_get_double_member (json_object_get_object_member (read_decision,
                                                                                   "kept"),
                                                    "value"), ==, 1e308);
  g_assert_cmpfloat (json_object_get_double_member (read_decision, "tiny"), ==, 5e-324);
  g_assert_cmpfloat (json_object_get_double_member (read_decision, "negative"), ==, -2.5e300);
}

/* Two leaves of one record without histories: the newer one's values win
 * and the older one's are discarded, a big integer and a decimal among them.
 */
static const char *numbers_leaves[] = {
  "{\"_id\":\"rec-n\",\"_rev\":\"2-aaaa\",\"_revisions\":{\"start\":2,\"ids\":[\"aaaa\",\"0000\"]},"
  "\"last_updated_at\":\"2024/01/01 10:00:00 +0000\",\"big\":123456789012345678901234567890,"
  "\"ratio\":0.1}",
  "{\"_id\":\"rec-n\",\"_rev\":\"2-bbbb\",\"_revisions\":{\"start\":2,\"ids\":[\"bbbb\",\"0000\"]},"
  "\"last_updated_at\":\"2024/02/01 10:00:00 +0000\",\"big\":7,\"ratio\":0.25}",
};

static PsMergeResult *
merge_numbers_leaves (void)
{
  g_autoptr(PsJsonTexts) texts = ps_json_texts_new ();
  JsonNode *leaves[G_N_ELEMENTS (numbers_leaves)];
  g_autoptr(GError) error = NULL;
  PsMergeResult *result;

  for (guint i = 0; i < G_N_ELEMENTS (numbers_leaves); i++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new_static (numbers_leaves[i],
                                                    strlen (numbers_leaves[i]));

      leaves[i] = ps_json_texts_parse (texts, bytes, PS_JSON_MAX_DEPTH, &error);
      g_assert_no_error (error);
    }
  result = ps_merge_leaves_with_texts (leaves, G_N_ELEMENTS (leaves), texts, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ps_merge_result_get_n_decisions (result), ==, 2);
  for (guint i = 0; i < G_N_ELEMENTS (leaves); i++)
    json_node_unref (leaves[i]);
  return result;
}

/* The value of @member ("kept" or the first "discarded") of the decision
 * on @path, as text.
 */
static char *
decision_value_text (JsonObject  *report,
                     const char  *path,
                     const char  *member,
                     PsJsonTexts *texts)
{
  JsonArray *decisions = json_object_get_array_member (report, "decisions");
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (decisions); i++)
    {
      JsonObject *decision = json_array_get_object_element (decisions, i);
      JsonObject *source;

      if (g_strcmp0 (json_object_get_string_member (decision, "path"), path) != 0)
        continue;
      if (g_str_equal (member, "kept"))
        source = json_object_get_object_member (decision, "kept");
      else
        source = json_array_get_object_element (json_object_get_array_member (decision,
                                                                              "discarded"), 0);
      ps_json_write (out, json_object_get_member (source, "value"), texts);
      return g_string_free (g_steal_pointer (&out), FALSE);
    }
  g_assert_not_reached ();
}

/* A contested big integer or decimal is journaled, and read back, as the
 * record had it: not rounded to a double, not written with 17 digits.
 */
static void
test_report_numbers_exact (void)
{
  g_autofree char *path = journal_path ();
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(PsMergeResult) result = merge_numbers_leaves ();
  g_autoptr(JsonObject) entry = new_entry ("resolution", "s1", "primero_child_production",
                                           "rec-n", 1);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(PsJsonTexts) texts = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  JsonObject *report;
  struct { const char *path, *member, *text; } expected[] = {
    { "big", "kept", "7" },
    { "big", "discarded", "123456789012345678901234567890" },
    { "ratio", "kept", "0.25" },
    { "ratio", "discarded", "0.1" },
  };

  json_object_set_object_member (entry, "resolution",
                                 json_object_ref (json_node_get_object (
                                   ps_merge_result_get_report (result))));
  g_assert_true (ps_journal_append_with_texts (journal, entry,
                                              ps_merge_result_get_report_texts (result), &error));
  g_assert_no_error (error);

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("journal line: %s", contents);
  g_assert_nonnull (strstr (contents, "\"value\":123456789012345678901234567890,"));
  g_assert_nonnull (strstr (contents, "\"value\":0.1,"));
  g_assert_nonnull (strstr (contents, "\"value\":0.25,"));
  g_assert_nonnull (strstr (contents, "\"value\":7,"));

  entries = ps_journal_read_with_texts (journal, NULL, &texts, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
  report = json_object_get_object_member (g_ptr_array_index (entries, 0), "resolution");
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *text = decision_value_text (report, expected[i].path,
                                                   expected[i].member, texts);

      g_assert_cmpstr (text, ==, expected[i].text);
    }
}

static void
test_append_all (void)
{
  g_autofree char *path = journal_path ();
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GPtrArray) refused = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *leaky;

  for (int n = 1; n <= 3; n++)
    g_ptr_array_add (batch, new_entry ("resolution", "s1", "db", "rec", n));
  g_assert_true (ps_journal_append_all (journal, batch, &refused, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (refused->len, ==, 0);
  g_clear_pointer (&refused, g_ptr_array_unref);

  entries = ps_journal_read (journal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 3);
  g_assert_cmpint (entry_n (entries, 0), ==, 3);
  g_assert_cmpint (entry_n (entries, 2), ==, 1);
  g_clear_pointer (&entries, g_ptr_array_unref);

  /* One entry with credentials is refused alone: the others are written,
   * and the caller learns which one was not.
   */
  g_ptr_array_set_size (batch, 0);
  g_ptr_array_add (batch, new_entry ("resolution", "s1", "db", "rec", 4));
  leaky = new_entry ("sync", "s1", NULL, NULL, 5);
  json_object_set_string_member (leaky, "source", "https://admin:secret@example.org/db");
  g_ptr_array_add (batch, leaky);
  g_ptr_array_add (batch, new_entry ("resolution", "s1", "db", "rec", 6));
  g_assert_true (ps_journal_append_all (journal, batch, &refused, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (refused->len, ==, 1);
  g_assert_true (g_ptr_array_index (refused, 0) == leaky);
  entries = ps_journal_read (journal, NULL, NULL);
  g_assert_cmpuint (entries->len, ==, 5);
  g_assert_cmpint (entry_n (entries, 0), ==, 6);
  g_assert_cmpint (entry_n (entries, 1), ==, 4);
}

/* A record's own values may hold anything, URLs with user information
 * included: they are the record, not something the app wrote, and losing
 * the account of a resolution over them would be worse.
 */
static void
test_record_values_not_checked (void)
{
  g_autofree char *path = journal_path ();
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(JsonObject) resolution = new_entry ("resolution", "s1", "db", "rec", 1);
  g_autoptr(JsonObject) edit = new_entry ("manual-edit", "s1", "db", "rec", 2);
  g_autoptr(JsonObject) report = json_object_new ();
  g_autoptr(JsonObject) leaky_app_field = new_entry ("resolution", "s1", "db", "rec", 3);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;

  json_object_set_string_member (report, "notes", "see http://user:pw@intranet.example/x");
  json_object_set_string_member (report, "password", "what the case worker typed");
  json_object_set_object_member (resolution, "resolution", g_steal_pointer (&report));
  append_ok (journal, resolution);

  json_object_set_string_member (edit, "value", "ftp://a:b@files.example/");
  append_ok (journal, edit);

  /* The fields the app writes itself are still checked. */
  json_object_set_object_member (leaky_app_field, "resolution", json_object_new ());
  json_object_set_string_member (leaky_app_field, "error",
                                 "could not reach https://admin:s3cret@example.org/db");
  assert_refused (journal, leaky_app_field, PS_JOURNAL_ERROR_CREDENTIALS);

  entries = ps_journal_read (journal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 2);
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

static gboolean
file_size (const char *path,
           goffset    *size)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    return FALSE;
  *size = st.st_size;
  return TRUE;
}

static void
test_rotation (void)
{
  g_autofree char *path = journal_path ();
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  const goffset max_size = 600;
  const guint generations = 4;
  const int n_entries = 80;
  guint n_files = 0;
  guint lines = 0;
  goffset size = 0;

  /* The stated budget: 8 files of 4 MiB, the current one included, and
   * nothing younger than 90 days dropped.
   */
  g_assert_cmpint (ps_journal_get_max_size (journal), ==, PS_JOURNAL_DEFAULT_MAX_SIZE);
  g_assert_cmpint (PS_JOURNAL_DEFAULT_MAX_SIZE, ==, 4 * 1024 * 1024);
  g_assert_cmpuint (ps_journal_get_max_generations (journal), ==,
                    PS_JOURNAL_DEFAULT_MAX_GENERATIONS);
  g_assert_cmpuint (PS_JOURNAL_DEFAULT_MAX_GENERATIONS, ==, 8);
  g_assert_cmpuint (ps_journal_get_min_age (journal), ==, PS_JOURNAL_DEFAULT_MIN_AGE);
  g_assert_cmpuint (PS_JOURNAL_DEFAULT_MIN_AGE, ==, 90 * 24 * 3600);
  ps_journal_set_max_size (journal, max_size);
  ps_journal_set_max_generations (journal, generations);

  for (int i = 0; i < n_entries; i++)
    {
      g_autoptr(JsonObject) entry = new_entry ("replication", "s", "db", NULL, i);
      append_ok (journal, entry);
    }

  /* Every generation stays under the bound, private; all of them are
   * young, so more than the budget are kept, numbered without a gap.
   */
  for (guint g = 0; ; g++)
    {
      g_autofree char *gen_path = g == 0 ? g_strdup (path) : g_strdup_printf ("%s.%u", path, g);
      g_autofree char *contents = NULL;
      guint gen_lines = 0;

      if (!g_file_test (gen_path, G_FILE_TEST_EXISTS))
        break;
      n_files++;
      g_assert_true (file_size (gen_path, &size));
      g_assert_cmpint (size, <=, max_size);
      g_assert_cmpuint (mode_of (gen_path), ==, 0600);

      g_assert_true (g_file_get_contents (gen_path, &contents, NULL, NULL));
      for (const char *c = contents; *c != '\0'; c++)
        if (*c == '\n')
          gen_lines++;
      g_assert_cmpuint (gen_lines, >, 0);
      lines += gen_lines;
    }
  g_assert_cmpuint (n_files, >, generations);
  g_assert_cmpuint (lines, ==, n_entries);

  entries = ps_journal_read (journal, NULL, &error);
  g_assert_no_error (error);

  /* Every generation is read back, newest first, without gaps. */
  g_assert_cmpuint (entries->len, ==, n_entries);
  for (guint i = 0; i < entries->len; i++)
    g_assert_cmpint (entry_n (entries, i), ==, n_entries - 1 - i);
}

#define N_WRITERS        3
#define ENTRIES_A_WRITER 150
/* Enough for every entry the writers write: none is dropped on purpose. */
#define MANY_GENERATIONS 200
#define SMALL_FILE       1500

static void
write_as_child (const char *path,
                int         writer)
{
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);

  ps_journal_set_max_size (journal, SMALL_FILE);
  ps_journal_set_max_generations (journal, MANY_GENERATIONS);
  for (int i = 0; i < ENTRIES_A_WRITER; i++)
    {
      g_autoptr(JsonObject) entry = new_entry ("sync", NULL, NULL, NULL, i);

      json_object_set_int_member (entry, "writer", writer);
      if (!ps_journal_append (journal, entry, NULL))
        _exit (2);
    }
  _exit (0);
}

/* Newest first and nothing dropped: what each writer wrote so far must be
 * read back whole, each entry once.
 */
static guint
check_writers (GPtrArray *entries)
{
  gint64 next[N_WRITERS];

  for (int w = 0; w < N_WRITERS; w++)
    next[w] = -1;

  for (guint i = 0; i < entries->len; i++)
    {
      JsonObject *entry = g_ptr_array_index (entries, i);
      gint64 w = json_object_get_int_member (entry, "writer");
      gint64 n = json_object_get_int_member (entry, "n");

      g_assert_cmpint (w, >=, 0);
      g_assert_cmpint (w, <, N_WRITERS);
      if (next[w] == -1)
        next[w] = n;
      g_assert_cmpint (n, ==, next[w]);
      next[w]--;
    }

  for (int w = 0; w < N_WRITERS; w++)
    g_assert_cmpint (next[w], <=, -1);

  return entries->len;
}

/* The window and the command line may write at once, and read while the
 * other rotates: no generation may be lost, none read twice.
 */
static void
test_concurrent_rotation (void)
{
  g_autofree char *path = journal_path ();
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  pid_t children[N_WRITERS];
  guint running = N_WRITERS;
  guint reads = 0;

  ps_journal_set_max_size (journal, SMALL_FILE);
  ps_journal_set_max_generations (journal, MANY_GENERATIONS);

  /* The directory exists before the children race to create it. */
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  for (int w = 0; w < N_WRITERS; w++)
    {
      children[w] = fork ();
      g_assert_cmpint (children[w], >=, 0);
      if (children[w] == 0)
        write_as_child (path, w);
    }

  while (running > 0)
    {
      g_autoptr(GPtrArray) seen = ps_journal_read (journal, NULL, &error);

      g_assert_no_error (error);
      check_writers (seen);
      reads++;

      for (int w = 0; w < N_WRITERS; w++)
        {
          int status;

          if (children[w] > 0 && waitpid (children[w], &status, WNOHANG) == children[w])
            {
              g_assert_true (WIFEXITED (status));
              g_assert_cmpint (WEXITSTATUS (status), ==, 0);
              children[w] = 0;
              running--;
            }
        }
    }

  entries = ps_journal_read (journal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (check_writers (entries), ==, N_WRITERS * ENTRIES_A_WRITER);
  g_test_message ("%u reads while writing", reads);
}

static JsonObject *
new_resolution (const char *record,
                const char *resolution_id,
                int         n)
{
  JsonObject *entry = new_entry ("resolution", "s1", "db", record, n);
  JsonObject *report = json_object_new ();

  json_object_set_string_member (report, "id", record);
  json_object_set_string_member (entry, "resolution_id", resolution_id);
  json_object_set_object_member (entry, "resolution", report);
  return entry;
}

static JsonObject *
new_outcome (const char *record,
             const char *resolution_id,
             const char *new_rev,
             const char *error)
{
  JsonObject *entry = new_entry ("resolution-outcome", "s1", "db", record, 0);

  json_object_set_string_member (entry, "resolution_id", resolution_id);
  if (new_rev != NULL)
    json_object_set_string_member (entry, "new_rev", new_rev);
  if (error != NULL)
    json_object_set_string_member (entry, "error", error);
  return entry;
}

static const char *
new_rev_of (JsonObject *entry)
{
  JsonObject *report = json_object_get_object_member (entry, "resolution");

  return json_object_get_string_member_with_default (report, "new_rev", NULL);
}

/* A resolution is journaled before it is written; how it went follows.
 * One journaled but never written (the process died) is merged again next
 * time: the journal shows it once, as written.
 */
static void
test_resolution_outcomes (void)
{
  g_autofree char *path = journal_path ();
  g_autofree char *older = g_strconcat (path, ".1", NULL);
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  PsJournalFilter filter = { 0, };
  JsonObject *objects[] = {
    new_resolution ("rec-1", "r1", 1),       /* died before writing */
    new_resolution ("rec-2", "r2", 2),
    new_outcome ("rec-2", "r2", NULL, "the record kept changing"),
    new_resolution ("rec-1", "r1", 3),       /* the same merge, next run */
    new_resolution ("rec-3", "r3", 4),       /* not written yet */
    new_outcome ("rec-1", "r1", "3-abc", NULL),
  };

  /* Across a rotation too. */
  ps_journal_set_max_size (journal, 400);
  for (guint i = 0; i < G_N_ELEMENTS (objects); i++)
    {
      append_ok (journal, objects[i]);
      json_object_unref (objects[i]);
    }
  g_assert_true (g_file_test (older, G_FILE_TEST_EXISTS));

  filter.kind = "resolution";
  entries = ps_journal_read (journal, &filter, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 2);
  g_assert_cmpint (entry_n (entries, 0), ==, 4);
  g_assert_null (new_rev_of (g_ptr_array_index (entries, 0)));
  g_assert_cmpint (entry_n (entries, 1), ==, 3);
  g_assert_cmpstr (new_rev_of (g_ptr_array_index (entries, 1)), ==, "3-abc");
  g_clear_pointer (&entries, g_ptr_array_unref);

  /* Unfiltered, the outcomes are folded in, not listed. */
  entries = ps_journal_read (journal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 2);

  /* Asked for, they are there. */
  filter.kind = "resolution-outcome";
  outcomes = ps_journal_read (journal, &filter, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, 2);
}

/* Like a batch of the resolver: resolutions, then how each went. */
static void
append_resolved_batch (PsJournal *journal,
                       int        first,
                       int        n)
{
  g_autoptr(GPtrArray) resolutions = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr(GPtrArray) outcomes = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr(GError) error = NULL;

  for (int i = first; i < first + n; i++)
    {
      g_autofree char *record = g_strdup_printf ("rec-%d", i);
      g_autofree char *id = g_strdup_printf ("res-%d", i);
      g_autofree char *rev = g_strdup_printf ("2-%d", i);

      g_ptr_array_add (resolutions, new_resolution (record, id, i));
      g_ptr_array_add (outcomes, new_outcome (record, id, rev, NULL));
    }
  g_assert_true (ps_journal_append_all (journal, resolutions, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ps_journal_append_all (journal, outcomes, NULL, &error));
  g_assert_no_error (error);
}

/* One run resolving thousands of records writes far more than the files
 * kept: the journal still shows every resolution of it, as written.
 */
static void
test_no_recent_resolution_dropped (void)
{
  g_autofree char *path = journal_path ();
  g_autofree char *tenth = g_strdup_printf ("%s.10", path);
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  PsJournalFilter filter = { .kind = "resolution" };
  const int n_records = 400;

  ps_journal_set_max_size (journal, 2048);
  ps_journal_set_max_generations (journal, 2);
  for (int i = 0; i < n_records; i += 8)
    append_resolved_batch (journal, i, 8);

  entries = ps_journal_read (journal, &filter, &error);
  g_assert_no_error (error);
  g_test_message ("%u of %d resolutions read back", entries->len, n_records);
  g_assert_cmpuint (entries->len, ==, n_records);
  for (guint i = 0; i < entries->len; i++)
    {
      g_autofree char *rev = g_strdup_printf ("2-%d", n_records - 1 - (int) i);

      g_assert_cmpint (entry_n (entries, i), ==, n_records - 1 - (int) i);
      g_assert_cmpstr (new_rev_of (g_ptr_array_index (entries, i)), ==, rev);
    }

  /* Kept in many more files than the budget, numbered past one digit. */
  g_assert_true (g_file_test (tenth, G_FILE_TEST_EXISTS));
}

static char *
generation_path_of (const char *path,
                    guint       generation)
{
  return generation == 0 ? g_strdup (path) : g_strdup_printf ("%s.%u", path, generation);
}

/* The highest generation number present, counting up from `.1`. */
static guint
last_generation (const char *path)
{
  guint g = 0;

  for (;;)
    {
      g_autofree char *next = generation_path_of (path, g + 1);

      if (!g_file_test (next, G_FILE_TEST_EXISTS))
        return g;
      g++;
    }
}

static guint
count_lines (const char *path)
{
  g_autofree char *contents = NULL;
  guint lines = 0;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  for (const char *c = contents; *c != '\0'; c++)
    if (*c == '\n')
      lines++;
  return lines;
}

static gint64
first_n_of (const char *path)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  *strchr (contents, '\n') = '\0';
  json_parser_load_from_data (parser, contents, -1, &error);
  g_assert_no_error (error);
  return json_object_get_int_member (json_node_get_object (json_parser_get_root (parser)), "n");
}

/* As if the file had last been written that many days ago. */
static void
age_file (const char *path,
          guint       days)
{
  struct timespec times[2];

  times[0].tv_sec = time (NULL) - (time_t) days * 24 * 3600;
  times[0].tv_nsec = 0;
  times[1] = times[0];
  g_assert_cmpint (utimensat (AT_FDCWD, path, times, 0), ==, 0);
}

/* An entry bigger than a file, so that appending it rotates. */
static void
append_rotating (PsJournal *journal,
                 int        n)
{
  g_autoptr(JsonObject) entry = new_entry ("sync", NULL, NULL, NULL, n);
  g_autofree char *padding = g_strnfill (ps_journal_get_max_size (journal), 'x');

  json_object_set_string_member (entry, "padding", padding);
  append_ok (journal, entry);
}

/* Newest first, one by one, from @newest down to @oldest. */
static void
assert_read_back (PsJournal *journal,
                  gint64     newest,
                  gint64     oldest)
{
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;

  entries = ps_journal_read (journal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, newest - oldest + 1);
  for (guint i = 0; i < entries->len; i++)
    g_assert_cmpint (entry_n (entries, i), ==, newest - (gint64) i);
}

/* Past the budget, rotation drops the files last written longer ago than
 * min-age, oldest first, down to the budget; never a younger one, nor
 * one newer than a file kept.
 */
static void
test_old_generations_dropped (void)
{
  g_autofree char *path = journal_path ();
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  const guint young = 4;
  guint last;
  int n = 0;

  ps_journal_set_max_size (journal, 1024);
  ps_journal_set_max_generations (journal, 3);
  while (last_generation (path) < 12)
    {
      g_autoptr(JsonObject) entry = new_entry ("sync", NULL, NULL, NULL, n++);

      append_ok (journal, entry);
    }
  last = last_generation (path);

  /* The older ones last written 91 days ago, the default min-age being 90. */
  for (guint g = young + 1; g <= last; g++)
    {
      g_autofree char *old = generation_path_of (path, g);

      age_file (old, 91);
    }
  {
    g_autofree char *oldest_young = generation_path_of (path, young);
    gint64 oldest_kept = first_n_of (oldest_young);

    /* Just younger than min-age: kept. */
    age_file (oldest_young, 89);
    assert_read_back (journal, n - 1, 0);
    append_rotating (journal, n++);
    assert_read_back (journal, n - 1, oldest_kept);
  }
  g_assert_cmpuint (last_generation (path), ==, young + 1);

  /* With a shorter min-age, all of them go but the budget. */
  ps_journal_set_min_age (journal, 30 * 24 * 3600);
  g_assert_cmpuint (ps_journal_get_min_age (journal), ==, 30 * 24 * 3600);
  for (guint g = 1; g <= young + 1; g++)
    {
      g_autofree char *old = generation_path_of (path, g);

      age_file (old, 31);
    }
  {
    g_autofree char *kept = generation_path_of (path, 1);
    gint64 oldest_kept = first_n_of (kept);

    append_rotating (journal, n++);
    g_assert_cmpuint (last_generation (path), ==, 2);
    assert_read_back (journal, n - 1, oldest_kept);
  }
}

/* A crash during a rotation leaves a gap in the numbers: reading and the
 * next rotations go past it, past ten generations too, and no file is
 * renamed over another.
 */
static void
test_generation_gap (void)
{
  g_autofree char *path = journal_path ();
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  guint last;
  guint lines = 0;
  int n = 0;

  ps_journal_set_max_size (journal, 1024);
  ps_journal_set_max_generations (journal, 2);
  while (last_generation (path) < 11)
    {
      g_autoptr(JsonObject) entry = new_entry ("sync", NULL, NULL, NULL, n++);

      append_ok (journal, entry);
    }
  last = last_generation (path);

  /* Oldest first down to `.3`, then the crash: `.3` is missing. */
  for (guint g = last; g >= 3; g--)
    {
      g_autofree char *from = generation_path_of (path, g);
      g_autofree char *to = generation_path_of (path, g + 1);

      g_assert_cmpint (g_rename (from, to), ==, 0);
    }
  assert_read_back (journal, n - 1, 0);

  for (int rotations = 0; rotations < 3; rotations++)
    append_rotating (journal, n++);
  assert_read_back (journal, n - 1, 0);

  /* Every entry is in one file still, none overwritten. */
  for (guint g = 0; g <= last + 4; g++)
    {
      g_autofree char *gen_path = generation_path_of (path, g);

      if (g_file_test (gen_path, G_FILE_TEST_EXISTS))
        lines += count_lines (gen_path);
    }
  g_assert_cmpuint (lines, ==, n);
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

/* `primero-sync-cli journal` lists every generation kept, oldest too,
 * past the budget and past one digit.
 */
static void
test_cli_reads_every_generation (void)
{
  g_autofree char *path = g_build_filename (g_get_user_state_dir (), "primero-sync",
                                            "journal.jsonl", NULL);
  g_autofree char *oldest = NULL;
  g_autoptr(PsJournal) journal = ps_journal_new_for_path (path);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  const char * const args[] = { "journal", "--json", NULL };
  PsCliOptions options = { 0, };
  PsCliResult result = { 0, };
  JsonArray *listed;
  const int n_entries = 120;
  guint last;

  ps_journal_set_max_size (journal, 500);
  for (int i = 0; i < n_entries; i++)
    {
      g_autoptr(JsonObject) entry = new_entry ("sync", "s1", NULL, NULL, i);

      append_ok (journal, entry);
    }
  for (guint g = 1; ; g++)
    {
      g_autofree char *gen_path = g_strdup_printf ("%s.%u", path, g);

      if (!g_file_test (gen_path, G_FILE_TEST_EXISTS))
        break;
      g_free (oldest);
      oldest = g_steal_pointer (&gen_path);
    }
  g_assert_nonnull (oldest);
  g_assert_cmpuint (strlen (oldest), >=, strlen (path) + 3);

  options.timeout_s = 30;
  ps_test_run_cli_full (&result, &options, args);
  g_assert_cmpint (result.status, ==, 0);
  json_parser_load_from_data (parser, result.out, -1, &error);
  g_assert_no_error (error);
  listed = json_node_get_array (json_parser_get_root (parser));

  /* Newest first, down to the first entry of the oldest generation. */
  {
    g_autoptr(GPtrArray) read = ps_journal_read (journal, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (json_array_get_length (listed), ==, read->len);
  }
  last = json_array_get_length (listed) - 1;
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (listed, 0), "n"),
                   ==, n_entries - 1);
  g_assert_cmpuint (last, ==, n_entries - 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (listed, last), "n"),
                   ==, 0);
  {
    g_autofree char *contents = NULL;

    g_assert_true (g_file_get_contents (oldest, &contents, NULL, NULL));
    *strchr (contents, '\n') = '\0';
    json_parser_load_from_data (parser, contents, -1, &error);
    g_assert_no_error (error);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (json_parser_get_root (parser)),
                                                 "n"),
                     ==, n_entries - 1 - (int) last);
  }
  ps_cli_result_clear (&result);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/journal/append-read", test_append_read);
  g_test_add_func ("/ps/journal/append-all", test_append_all);
  g_test_add_func ("/ps/journal/numbers-read-back", test_numbers_read_back);
  g_test_add_func ("/ps/journal/report-numbers-exact", test_report_numbers_exact);
  g_test_add_func ("/ps/journal/record-values-not-checked", test_record_values_not_checked);
  g_test_add_func ("/ps/journal/filter", test_filter);
  g_test_add_func ("/ps/journal/default-path-and-modes", test_default_path_and_modes);
  g_test_add_func ("/ps/journal/existing-file-made-private", test_existing_file_made_private);
  g_test_add_func ("/ps/journal/rotation", test_rotation);
  g_test_add_func ("/ps/journal/concurrent-rotation", test_concurrent_rotation);
  g_test_add_func ("/ps/journal/resolution-outcomes", test_resolution_outcomes);
  g_test_add_func ("/ps/journal/no-recent-resolution-dropped",
                   test_no_recent_resolution_dropped);
  g_test_add_func ("/ps/journal/old-generations-dropped", test_old_generations_dropped);
  g_test_add_func ("/ps/journal/generation-gap", test_generation_gap);
  g_test_add_func ("/ps/journal/torn-line", test_torn_line);
  g_test_add_func ("/ps/journal/credentials-refused", test_credentials_refused);
  g_test_add_func ("/ps/journal/entry-added-signal", test_entry_added_signal);
  g_test_add_func ("/ps/journal/missing", test_missing_journal);
  g_test_add_func ("/ps/journal/cli-reads-every-generation", test_cli_reads_every_generation);

  return g_test_run ();
}

/* ps-journal.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-journal"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ps-journal.h"
#include "ps-json.h"
#include "ps-url.h"

/**
 * PsJournal:
 *
 * A durable log of syncs, failures and conflict resolutions, kept as JSON
 * Lines under the XDG state directory. Each entry is written with a single
 * `write()` and synced to disk, so a crash leaves at most one torn line,
 * which reading skips.
 *
 * Past #PsJournal:max-size the file becomes `journal.jsonl.1`, the one
 * before `.2`, and so on. The oldest file is dropped only when there are
 * more than #PsJournal:max-generations files, the current one included,
 * and it was last written at least #PsJournal:min-age ago (90 days by
 * default): the journal never loses a recent resolution, however many
 * one run wrote, so there may be any number of generations, and every
 * one present is renamed and read. Disk use is bounded by what 90 days of
 * work write; when the disk is full, appending fails and the resolution
 * is not written to the database either. The window and the command line
 * may write at once: appending, rotating and reading take a lock on
 * `journal.jsonl.lock` (flock), so that no generation is renamed over
 * another or read twice.
 *
 * A conflict resolution is journaled before it is written to the
 * database, with a `resolution_id` naming the record and the leaves it
 * merged; a `resolution-outcome` entry with the same id follows once the
 * database answered. Reading folds the outcome into the resolution (its
 * `new_rev`), leaves out resolutions that were not written, and shows a
 * resolution journaled again (the process died before writing it, so the
 * same leaves were merged again) once.
 */
struct _PsJournal
{
  GObject  parent_instance;

  char    *path;
  goffset  max_size;
  guint    max_generations;
  guint    min_age;
};

#define OUTCOME_KIND "resolution-outcome"

G_DEFINE_FINAL_TYPE (PsJournal, ps_journal, G_TYPE_OBJECT)

G_DEFINE_QUARK (ps-journal-error-quark, ps_journal_error)

enum {
  PROP_0,
  PROP_PATH,
  PROP_MAX_SIZE,
  PROP_MAX_GENERATIONS,
  PROP_MIN_AGE,
  N_PROPS
};

enum {
  ENTRY_ADDED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* A password may hold '/' or '@': ps-url.c knows where it ends. */
static gboolean
string_has_credentials (const char *text)
{
  return ps_url_text_has_password (text);
}

static gboolean
node_has_credentials (JsonNode *node)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;

        json_object_iter_init (&iter, json_node_get_object (node));
        while (json_object_iter_next (&iter, &name, &member))
          {
            if (g_ascii_strcasecmp (name, "password") == 0 ||
                string_has_credentials (name) ||
                node_has_credentials (member))
              return TRUE;
          }
        return FALSE;
      }

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        for (guint i = 0; i < json_array_get_length (array); i++)
          {
            if (node_has_credentials (json_array_get_element (array, i)))
              return TRUE;
          }
        return FALSE;
      }

    case JSON_NODE_VALUE:
      if (json_node_get_value_type (node) == G_TYPE_STRING)
        return string_has_credentials (json_node_get_string (node));
      return FALSE;

    case JSON_NODE_NULL:
    default:
      return FALSE;
    }
}

/* Members that quote a record's own content (a resolution's report, a
 * value put back by hand): what a case worker typed is the record, not
 * something this app wrote, and refusing it would lose the account of
 * what happened to the record.
 */
static const char * const record_members[] = { "resolution", "value", NULL };

/**
 * ps_journal_check_entry:
 * @entry: a journal entry
 * @error: return location for a #PsJournalError
 *
 * Checks that @entry can be journaled: it has a `kind`, and nothing this
 * app wrote in it looks like a password (a URL with a password in its user
 * information, or a member named `password`). The journal is read by
 * people auditing syncs and must never carry credentials. A record's own
 * values (the `resolution` and `value` members) are not checked: they are
 * the record, already in the database.
 *
 * Returns: %TRUE when @entry may be appended
 */
gboolean
ps_journal_check_entry (JsonObject  *entry,
                        GError     **error)
{
  JsonObjectIter iter;
  const char *kind;
  const char *name;
  JsonNode *member;

  g_return_val_if_fail (entry != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  kind = ps_json_get_string (entry, "kind");
  if (kind == NULL || *kind == '\0')
    {
      g_set_error_literal (error, PS_JOURNAL_ERROR, PS_JOURNAL_ERROR_INVALID_ENTRY,
                           _("A journal entry needs a kind"));
      return FALSE;
    }

  json_object_iter_init (&iter, entry);
  while (json_object_iter_next (&iter, &name, &member))
    {
      if (g_strv_contains (record_members, name))
        continue;

      if (g_ascii_strcasecmp (name, "password") == 0 ||
          string_has_credentials (name) ||
          node_has_credentials (member))
        {
          /* Never quote the entry: the point is not to repeat the password. */
          g_set_error_literal (error, PS_JOURNAL_ERROR, PS_JOURNAL_ERROR_CREDENTIALS,
                               _("The journal entry was refused because it contains a password"));
          return FALSE;
        }
    }

  return TRUE;
}

static void
set_error_from_errno (GError     **error,
                      int          saved_errno,
                      const char  *path)
{
  g_autofree char *display = g_filename_display_name (path);

  g_set_error (error, PS_JOURNAL_ERROR, PS_JOURNAL_ERROR_FAILED,
               _("Could not write the journal %s: %s"),
               display, g_strerror (saved_errno));
}

static void
sync_directory_of (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return;
  fsync (fd);
  close (fd);
}

static char *
generation_path (PsJournal *self,
                 guint      generation)
{
  if (generation == 0)
    return g_strdup (self->path);

  return g_strdup_printf ("%s.%u", self->path, generation);
}

/* Rotation renames files that another process (the window, the command
 * line) may be appending to or reading: every one of them takes this lock
 * first, exclusive to write, shared to read. The lock file is never
 * removed, or two processes could lock two different files.
 * Returns the locked descriptor, or -1.
 */
static int
lock_journal (PsJournal  *self,
              int         operation,
              GError    **error)
{
  g_autofree char *lock_path = g_strconcat (self->path, ".lock", NULL);
  int fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

  if (fd < 0)
    {
      set_error_from_errno (error, errno, lock_path);
      return -1;
    }

  while (flock (fd, operation) != 0)
    {
      int saved_errno = errno;

      if (saved_errno == EINTR)
        continue;
      close (fd);
      set_error_from_errno (error, saved_errno, lock_path);
      return -1;
    }

  return fd;
}

static int
compare_generations (gconstpointer a,
                     gconstpointer b)
{
  guint ga = *(const guint *) a;
  guint gb = *(const guint *) b;

  return ga < gb ? -1 : ga > gb;
}

/* The older generations present, `.1` first, whatever their number: a
 * run may write many more than #PsJournal:max-generations, and a crash
 * during a rotation leaves a gap in the numbers. Called with the lock
 * held. Returns %NULL on error.
 */
static GArray *
list_generations (PsJournal  *self,
                  GError    **error)
{
  g_autoptr(GArray) generations = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GError) local_error = NULL;
  g_autofree char *dir_path = g_path_get_dirname (self->path);
  g_autofree char *base = g_path_get_basename (self->path);
  g_autoptr(GDir) dir = NULL;
  gsize base_len = strlen (base);
  const char *name;

  dir = g_dir_open (dir_path, 0, &local_error);
  if (dir == NULL)
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&generations);

      g_set_error (error, PS_JOURNAL_ERROR, PS_JOURNAL_ERROR_FAILED,
                   _("Could not read the journal: %s"), local_error->message);
      return NULL;
    }

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      const char *digits;
      guint64 number;
      guint generation;

      if (strncmp (name, base, base_len) != 0 || name[base_len] != '.')
        continue;

      /* Only the names generation_path() writes: `.7`, not `.07` or `.lock`. */
      digits = name + base_len + 1;
      if (digits[0] == '0' ||
          !g_ascii_string_to_unsigned (digits, 10, 1, G_MAXUINT - 1, &number, NULL))
        continue;

      generation = (guint) number;
      g_array_append_val (generations, generation);
    }

  g_array_sort (generations, compare_generations);

  return g_steal_pointer (&generations);
}

/* Whether the file was last written at least #PsJournal:min-age ago. A
 * file dated in the future (a clock set back) counts as young.
 */
static gboolean
generation_is_old (PsJournal  *self,
                   const char *path)
{
  GStatBuf st;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (g_stat (path, &st) != 0)
    return FALSE;

  return now - (gint64) st.st_mtime >= (gint64) self->min_age;
}

/* Called with the lock held. */
static gboolean
rotate_if_needed (PsJournal  *self,
                  gsize       incoming,
                  GError    **error)
{
  g_autoptr(GArray) generations = NULL;
  guint kept;
  GStatBuf st;

  if (g_stat (self->path, &st) != 0)
    return TRUE;

  if (st.st_size == 0 || (goffset) st.st_size + (goffset) incoming <= self->max_size)
    return TRUE;

  generations = list_generations (self, error);
  if (generations == NULL)
    return FALSE;

  /* Oldest first, while the files after this rotation (these, the
   * current one renamed and a new one) would be more than the budget,
   * and only as long as the oldest is old enough: a recent entry is
   * never dropped, and never one newer than an entry kept.
   */
  for (kept = generations->len; kept > 0 && kept + 2 > self->max_generations; kept--)
    {
      guint g = g_array_index (generations, guint, kept - 1);
      g_autofree char *path = generation_path (self, g);

      if (!generation_is_old (self, path))
        break;
      if (g_unlink (path) != 0 && errno != ENOENT)
        {
          set_error_from_errno (error, errno, path);
          return FALSE;
        }
    }

  /* Oldest first: each moves up by one into a number already moved away
   * or never used, so none is renamed over another, and a crash midway
   * leaves a gap in the numbers, which reading skips.
   */
  for (guint i = kept; i > 0; i--)
    {
      guint g = g_array_index (generations, guint, i - 1);
      g_autofree char *from = generation_path (self, g);
      g_autofree char *to = generation_path (self, g + 1);

      if (g_rename (from, to) != 0 && errno != ENOENT)
        {
          set_error_from_errno (error, errno, from);
          return FALSE;
        }
    }
  {
    g_autofree char *to = generation_path (self, 1);

    if (g_rename (self->path, to) != 0 && errno != ENOENT)
      {
        set_error_from_errno (error, errno, self->path);
        return FALSE;
      }
  }
  sync_directory_of (self->path);

  return TRUE;
}

/* A crash may have left a torn last line; start on a fresh line so the
 * new entry is not glued to it and lost along with it.
 */
static gboolean
ends_with_newline (int fd)
{
  struct stat st;
  char last;

  if (fstat (fd, &st) != 0 || st.st_size == 0)
    return TRUE;

  if (pread (fd, &last, 1, st.st_size - 1) != 1)
    return TRUE;

  return last == '\n';
}

/* Called with the lock held. */
static gboolean
append_line_locked (PsJournal   *self,
                    const char  *line,
                    GError     **error)
{
  g_autoptr(GString) data = g_string_new (NULL);
  gboolean created;
  ssize_t written;
  int fd;

  if (!rotate_if_needed (self, strlen (line) + 1, error))
    return FALSE;

  created = !g_file_test (self->path, G_FILE_TEST_EXISTS);
  fd = open (self->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      set_error_from_errno (error, errno, self->path);
      return FALSE;
    }

  /* The journal may name people's records: keep it private even when an
   * older version or the user left it readable by others.
   */
  fchmod (fd, 0600);

  if (!ends_with_newline (fd))
    g_string_append_c (data, '\n');
  g_string_append (data, line);
  g_string_append_c (data, '\n');

  /* One write() per entry, so that with O_APPEND concurrent writers never
   * interleave and a crash tears at most this line.
   */
  do
    written = write (fd, data->str, data->len);
  while (written < 0 && errno == EINTR);

  if (written < 0 || (gsize) written != data->len)
    {
      int saved_errno = written < 0 ? errno : ENOSPC;

      close (fd);
      set_error_from_errno (error, saved_errno, self->path);
      return FALSE;
    }

  if (fsync (fd) != 0)
    {
      int saved_errno = errno;

      close (fd);
      set_error_from_errno (error, saved_errno, self->path);
      return FALSE;
    }

  if (close (fd) != 0)
    {
      set_error_from_errno (error, errno, self->path);
      return FALSE;
    }

  if (created)
    sync_directory_of (self->path);

  return TRUE;
}

static gboolean
append_line (PsJournal   *self,
             const char  *line,
             GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (self->path);
  gboolean ok;
  int lock;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      set_error_from_errno (error, errno, dir);
      return FALSE;
    }

  lock = lock_journal (self, LOCK_EX, error);
  if (lock < 0)
    return FALSE;
  ok = append_line_locked (self, line, error);
  close (lock);

  return ok;
}

/**
 * ps_journal_append:
 * @self: a #PsJournal
 * @entry: the entry, with at least a `kind`
 * @error: return location for a #PsJournalError
 *
 * Appends @entry durably. A `time` member (ISO 8601, UTC) is added to
 * @entry when it has none. Entries containing credentials are refused, see
 * ps_journal_check_entry(). Emits #PsJournal::entry-added on success.
 *
 * Returns: %TRUE once the entry is on disk
 */
static char *
entry_to_line (JsonObject  *entry,
               PsJsonTexts *texts)
{
  g_autoptr(GString) line = g_string_new (NULL);
  g_autoptr(JsonNode) node = NULL;

  if (!json_object_has_member (entry, "time"))
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *time = g_date_time_format_iso8601 (now);

      json_object_set_string_member (entry, "time", time);
    }

  /* Compact output escapes newlines inside strings: one entry, one line.
   * Not json-glib's generator: it writes 1e308 as `1e+308.0`, which no JSON
   * reader takes back, and the entry would be lost to the journal. The
   * values @texts knows are written as they were read; objects, which
   * the entry may have changed, are written from their members.
   */
  node = json_node_init_object (json_node_alloc (), entry);
  ps_json_write_edited (line, node, texts);
  return g_string_free (g_steal_pointer (&line), FALSE);
}

gboolean
ps_journal_append (PsJournal   *self,
                   JsonObject  *entry,
                   GError     **error)
{
  return ps_journal_append_with_texts (self, entry, NULL, error);
}

/**
 * ps_journal_append_with_texts:
 * @self: a #PsJournal
 * @entry: the entry, with at least a `kind`
 * @texts: (nullable): the texts of numbers and strings of @entry, such as
 *   ps_merge_result_get_report_texts() for a resolution
 * @error: return location for a #PsJournalError
 *
 * As ps_journal_append(), writing each value @texts knows as it was read:
 * json-glib alone holds a big integer as a rounded double, another number.
 *
 * Returns: %TRUE once the entry is on disk
 */
gboolean
ps_journal_append_with_texts (PsJournal    *self,
                              JsonObject   *entry,
                              PsJsonTexts  *texts,
                              GError      **error)
{
  g_autofree char *line = NULL;

  g_return_val_if_fail (PS_IS_JOURNAL (self), FALSE);
  g_return_val_if_fail (entry != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ps_journal_check_entry (entry, error))
    return FALSE;

  line = entry_to_line (entry, texts);
  if (!append_line (self, line, error))
    return FALSE;

  g_signal_emit (self, signals[ENTRY_ADDED], 0, entry);

  return TRUE;
}

/**
 * ps_journal_append_all:
 * @self: a #PsJournal
 * @entries: (element-type JsonObject): entries, each as for ps_journal_append()
 * @refused: (out) (optional) (transfer container) (element-type JsonObject):
 *   the entries of @entries that were refused (see ps_journal_check_entry())
 * @error: return location for a #PsJournalError
 *
 * Appends several entries with one write and one flush to disk, as a
 * batch of resolutions needs. Each entry is checked on its own: one that
 * is refused is left out and listed in @refused, the others are written.
 *
 * Returns: %TRUE once every entry that was not refused is on disk
 */
gboolean
ps_journal_append_all (PsJournal  *self,
                       GPtrArray  *entries,
                       GPtrArray **refused,
                       GError    **error)
{
  return ps_journal_append_all_with_texts (self, entries, NULL, refused, error);
}

/**
 * ps_journal_append_all_with_texts:
 * @self: a #PsJournal
 * @entries: (element-type JsonObject): entries, each as for ps_journal_append()
 * @texts: (nullable): the texts of numbers and strings of @entries, see
 *   ps_json_texts_add_all() to gather those of several merges
 * @refused: (out) (optional) (transfer container) (element-type JsonObject):
 *   the entries of @entries that were refused
 * @error: return location for a #PsJournalError
 *
 * As ps_journal_append_all(), writing each value @texts knows as it was
 * read, see ps_journal_append_with_texts().
 *
 * Returns: %TRUE once every entry that was not refused is on disk
 */
gboolean
ps_journal_append_all_with_texts (PsJournal    *self,
                                  GPtrArray    *entries,
                                  PsJsonTexts  *texts,
                                  GPtrArray   **refused,
                                  GError      **error)
{
  g_autoptr(GString) lines = g_string_new (NULL);
  g_autoptr(GPtrArray) written = g_ptr_array_new ();
  g_autoptr(GPtrArray) left_out = g_ptr_array_new ();

  g_return_val_if_fail (PS_IS_JOURNAL (self), FALSE);
  g_return_val_if_fail (entries != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (refused != NULL)
    *refused = NULL;

  for (guint i = 0; i < entries->len; i++)
    {
      JsonObject *entry = g_ptr_array_index (entries, i);
      g_autoptr(GError) check_error = NULL;
      g_autofree char *line = NULL;

      if (!ps_journal_check_entry (entry, &check_error))
        {
          g_debug ("An entry was left out of the journal: %s", check_error->message);
          g_ptr_array_add (left_out, entry);
          continue;
        }
      line = entry_to_line (entry, texts);
      if (lines->len > 0)
        g_string_append_c (lines, '\n');
      g_string_append (lines, line);
      g_ptr_array_add (written, entry);
    }

  if (written->len > 0 && !append_line (self, lines->str, error))
    return FALSE;

  for (guint i = 0; i < written->len; i++)
    g_signal_emit (self, signals[ENTRY_ADDED], 0, g_ptr_array_index (written, i));

  if (refused != NULL)
    *refused = g_steal_pointer (&left_out);

  return TRUE;
}

static gboolean
member_matches (JsonObject *entry,
                const char *member,
                const char *wanted)
{
  if (wanted == NULL)
    return TRUE;

  return g_strcmp0 (ps_json_get_string (entry, member), wanted) == 0;
}

static gboolean
filter_matches (const PsJournalFilter *filter,
                JsonObject            *entry)
{
  if (filter == NULL)
    return TRUE;

  return member_matches (entry, "server", filter->server) &&
         member_matches (entry, "database", filter->database) &&
         member_matches (entry, "record", filter->record) &&
         member_matches (entry, "kind", filter->kind);
}

/* The file may have been damaged or written by someone else: the strict,
 * depth-bounded parser, which also notes in @texts the text of each number
 * and escaped string of the entry.
 */
static JsonObject *
parse_line (const char  *line,
            PsJsonTexts *texts)
{
  g_autoptr(GBytes) bytes = g_bytes_new (line, strlen (line));
  g_autoptr(JsonNode) root = NULL;

  root = ps_json_texts_parse (texts, bytes, PS_JSON_MAX_DEPTH, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;

  return json_object_ref (json_node_get_object (root));
}

/* What reading learnt from newer entries about older ones. */
typedef struct
{
  GHashTable *outcomes;  /* resolution_id → its newest outcome entry */
  GHashTable *seen;      /* resolution_ids of resolutions met already */
} ReadState;

/* Whether @entry is to be listed; folds a resolution's outcome into it. */
static gboolean
fold_entry (ReadState             *state,
            const PsJournalFilter *filter,
            JsonObject            *entry)
{
  const char *kind = ps_json_get_string (entry, "kind");
  const char *resolution_id = ps_json_get_string (entry, "resolution_id");
  JsonObject *outcome;
  JsonNode *report;

  if (resolution_id == NULL)
    return TRUE;

  /* Entries are met newest first, so an outcome comes before its
   * resolution.
   */
  if (g_strcmp0 (kind, OUTCOME_KIND) == 0)
    {
      if (!g_hash_table_contains (state->outcomes, resolution_id))
        g_hash_table_insert (state->outcomes, g_strdup (resolution_id),
                             json_object_ref (entry));
      return filter != NULL && g_strcmp0 (filter->kind, OUTCOME_KIND) == 0;
    }

  if (g_strcmp0 (kind, "resolution") != 0)
    return TRUE;

  /* The same leaves merged again after a run that stopped between the
   * journal and the database: that newer entry stands for both.
   */
  if (!g_hash_table_add (state->seen, g_strdup (resolution_id)))
    return FALSE;

  outcome = g_hash_table_lookup (state->outcomes, resolution_id);
  if (outcome == NULL)
    return TRUE;

  /* The database refused it (the record changed meanwhile): it did not
   * happen, and the record was merged again under another id.
   */
  if (ps_json_get_string (outcome, "new_rev") == NULL)
    return FALSE;

  report = json_object_get_member (entry, "resolution");
  if (report != NULL && JSON_NODE_HOLDS_OBJECT (report))
    json_object_set_string_member (json_node_get_object (report), "new_rev",
                                   ps_json_get_string (outcome, "new_rev"));
  return TRUE;
}

/* Reads one file from its end, so the newest entries come first and
 * reading stops as soon as enough were found.
 */
static gboolean
read_file_backwards (const char             *path,
                     const PsJournalFilter  *filter,
                     ReadState              *state,
                     GPtrArray              *entries,
                     PsJsonTexts            *texts,
                     GError                **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  guint max = filter != NULL ? filter->max_entries : 0;
  guint n_lines;

  if (!g_file_get_contents (path, &contents, NULL, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;

      g_set_error (error, PS_JOURNAL_ERROR, PS_JOURNAL_ERROR_FAILED,
                   _("Could not read the journal: %s"), local_error->message);
      return FALSE;
    }

  lines = g_strsplit (contents, "\n", -1);
  n_lines = g_strv_length (lines);

  for (guint i = n_lines; i > 0; i--)
    {
      g_autoptr(JsonObject) entry = NULL;
      g_autoptr(PsJsonTexts) line_texts = NULL;
      const char *line = lines[i - 1];

      if (max != 0 && entries->len >= max)
        break;

      if (*line == '\0')
        continue;

      /* A table per line: those of the lines left out are not kept. */
      line_texts = ps_json_texts_new ();
      entry = parse_line (line, line_texts);
      if (entry == NULL)
        {
          g_debug ("Skipping a damaged line in %s", path);
          continue;
        }

      if (fold_entry (state, filter, entry) && filter_matches (filter, entry))
        {
          if (texts != NULL)
            ps_json_texts_add_all (texts, line_texts);
          g_ptr_array_add (entries, g_steal_pointer (&entry));
        }
    }

  return TRUE;
}

/**
 * ps_journal_read:
 * @self: a #PsJournal
 * @filter: (nullable): which entries to return
 * @error: return location for a #PsJournalError
 *
 * Reads the journal, the current file and every older generation kept.
 * Damaged lines, such as a line torn by a crash, are skipped. Outcomes of
 * resolutions are folded into them (see #PsJournal), and listed only when
 * @filter asks for their kind.
 *
 * Returns: (transfer container) (element-type JsonObject): the entries
 *   matching @filter, newest first
 */
GPtrArray *
ps_journal_read (PsJournal              *self,
                 const PsJournalFilter  *filter,
                 GError                **error)
{
  return ps_journal_read_with_texts (self, filter, NULL, error);
}

/**
 * ps_journal_read_with_texts:
 * @self: a #PsJournal
 * @filter: (nullable): which entries to return
 * @out_texts: (out) (optional) (transfer full): the texts of the numbers
 *   and escaped strings of the entries returned
 * @error: return location for a #PsJournalError
 *
 * As ps_journal_read(), with the text each number of the entries was
 * journaled as: json-glib alone holds a big integer as a rounded double.
 * Show a value with ps_json_texts_lookup(), or write it, or an entry,
 * with ps_json_write_edited() (reading may have changed an entry's
 * objects, see #PsJournal). @out_texts holds a reference on each node it
 * knows: keep it as long as the entries, and free it with them.
 *
 * Returns: (transfer container) (element-type JsonObject): the entries
 *   matching @filter, newest first
 */
GPtrArray *
ps_journal_read_with_texts (PsJournal              *self,
                            const PsJournalFilter  *filter,
                            PsJsonTexts           **out_texts,
                            GError                **error)
{
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(PsJsonTexts) texts = NULL;
  g_autoptr(GHashTable) outcomes = NULL;
  g_autoptr(GHashTable) seen = NULL;
  g_autoptr(GArray) generations = NULL;
  ReadState state;
  guint max;
  int lock;

  g_return_val_if_fail (PS_IS_JOURNAL (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (out_texts != NULL)
    {
      *out_texts = NULL;
      texts = ps_json_texts_new ();
    }
  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  outcomes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                    (GDestroyNotify) json_object_unref);
  seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  state.outcomes = outcomes;
  state.seen = seen;
  max = filter != NULL ? filter->max_entries : 0;

  /* Without a folder there is no journal yet, and nothing to lock. */
  if (!g_file_test (self->path, G_FILE_TEST_EXISTS))
    {
      g_autofree char *dir = g_path_get_dirname (self->path);

      if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
        {
          if (out_texts != NULL)
            *out_texts = g_steal_pointer (&texts);
          return g_steal_pointer (&entries);
        }
    }

  /* A journal one may read but not write (another user's, a read-only
   * copy) is read without the lock: at worst a rotation is seen midway.
   */
  {
    g_autoptr(GError) lock_error = NULL;

    lock = lock_journal (self, LOCK_SH, &lock_error);
    if (lock < 0)
      g_debug ("Reading the journal unlocked: %s", lock_error->message);
  }

  /* Every generation present, newest first, however many there are. */
  generations = list_generations (self, error);
  for (guint i = 0; generations != NULL && i <= generations->len; i++)
    {
      guint g = i == 0 ? 0 : g_array_index (generations, guint, i - 1);
      g_autofree char *path = generation_path (self, g);

      if (max != 0 && entries->len >= max)
        break;
      if (!read_file_backwards (path, filter, &state, entries, texts, error))
        {
          g_clear_pointer (&generations, g_array_unref);
          break;
        }
    }
  if (lock >= 0)
    close (lock);
  if (generations == NULL)
    return NULL;

  if (out_texts != NULL)
    *out_texts = g_steal_pointer (&texts);
  return g_steal_pointer (&entries);
}

/**
 * ps_journal_dup_default_path:
 *
 * Returns: (transfer full): `$XDG_STATE_HOME/primero-sync/journal.jsonl`
 */
char *
ps_journal_dup_default_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "primero-sync", "journal.jsonl", NULL);
}

/**
 * ps_journal_get_path:
 * @self: a #PsJournal
 *
 * Returns: the journal file
 */
const char *
ps_journal_get_path (PsJournal *self)
{
  g_return_val_if_fail (PS_IS_JOURNAL (self), NULL);

  return self->path;
}

/**
 * ps_journal_get_max_size:
 * @self: a #PsJournal
 *
 * Returns: the size in bytes past which the journal is rotated
 */
goffset
ps_journal_get_max_size (PsJournal *self)
{
  g_return_val_if_fail (PS_IS_JOURNAL (self), 0);

  return self->max_size;
}

/**
 * ps_journal_set_max_size:
 * @self: a #PsJournal
 * @max_size: a size in bytes
 *
 * Sets the size past which the journal file is renamed to `journal.jsonl.1`
 * (older generations moving up by one, see #PsJournal:min-age for which
 * are dropped) and a new file is started.
 */
void
ps_journal_set_max_size (PsJournal *self,
                         goffset    max_size)
{
  g_return_if_fail (PS_IS_JOURNAL (self));
  g_return_if_fail (max_size > 0);

  if (self->max_size == max_size)
    return;

  self->max_size = max_size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_SIZE]);
}

/**
 * ps_journal_get_max_generations:
 * @self: a #PsJournal
 *
 * Returns: how many files the journal keeps at least, the current one
 *   included
 */
guint
ps_journal_get_max_generations (PsJournal *self)
{
  g_return_val_if_fail (PS_IS_JOURNAL (self), 0);

  return self->max_generations;
}

/**
 * ps_journal_set_max_generations:
 * @self: a #PsJournal
 * @generations: how many files to keep, at least 1
 *
 * Sets how many files the journal keeps at least, the current one
 * included. Rotation drops the oldest file only while there are more,
 * and only when it is older than #PsJournal:min-age.
 */
void
ps_journal_set_max_generations (PsJournal *self,
                                guint      generations)
{
  g_return_if_fail (PS_IS_JOURNAL (self));
  g_return_if_fail (generations > 0);

  if (self->max_generations == generations)
    return;

  self->max_generations = generations;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_GENERATIONS]);
}

/**
 * ps_journal_get_min_age:
 * @self: a #PsJournal
 *
 * Returns: in seconds, how long ago a file must have been last written
 *   before rotation may drop it
 */
guint
ps_journal_get_min_age (PsJournal *self)
{
  g_return_val_if_fail (PS_IS_JOURNAL (self), 0);

  return self->min_age;
}

/**
 * ps_journal_set_min_age:
 * @self: a #PsJournal
 * @seconds: the age in seconds, 0 for any age
 *
 * Sets how long ago a file must have been last written before rotation
 * may drop it, once there are more than #PsJournal:max-generations files.
 * Younger files are kept, however many there are.
 */
void
ps_journal_set_min_age (PsJournal *self,
                        guint      seconds)
{
  g_return_if_fail (PS_IS_JOURNAL (self));

  if (self->min_age == seconds)
    return;

  self->min_age = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MIN_AGE]);
}

static void
ps_journal_constructed (GObject *object)
{
  PsJournal *self = PS_JOURNAL (object);

  G_OBJECT_CLASS (ps_journal_parent_class)->constructed (object);

  if (self->path == NULL)
    self->path = ps_journal_dup_default_path ();
}

static void
ps_journal_finalize (GObject *object)
{
  PsJournal *self = PS_JOURNAL (object);

  g_clear_pointer (&self->path, g_free);

  G_OBJECT_CLASS (ps_journal_parent_class)->finalize (object);
}

static void
ps_journal_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  PsJournal *self = PS_JOURNAL (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;

    case PROP_MAX_SIZE:
      g_value_set_int64 (value, self->max_size);
      break;

    case PROP_MAX_GENERATIONS:
      g_value_set_uint (value, self->max_generations);
      break;

    case PROP_MIN_AGE:
      g_value_set_uint (value, self->min_age);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_journal_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  PsJournal *self = PS_JOURNAL (object);

  switch (prop_id)
    {
    case PROP_PATH:
      self->path = g_value_dup_string (value);
      break;

    case PROP_MAX_SIZE:
      ps_journal_set_max_size (self, g_value_get_int64 (value));
      break;

    case PROP_MAX_GENERATIONS:
      ps_journal_set_max_generations (self, g_value_get_uint (value));
      break;

    case PROP_MIN_AGE:
      ps_journal_set_min_age (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_journal_class_init (PsJournalClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = ps_journal_constructed;
  object_class->finalize = ps_journal_finalize;
  object_class->get_property = ps_journal_get_property;
  object_class->set_property = ps_journal_set_property;

  /**
   * PsJournal:path:
   *
   * The journal file; %NULL at construction for the default one.
   */
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * PsJournal:max-size:
   *
   * The size in bytes past which the journal file is rotated.
   */
  properties[PROP_MAX_SIZE] =
    g_param_spec_int64 ("max-size", NULL, NULL,
                        1, G_MAXINT64, PS_JOURNAL_DEFAULT_MAX_SIZE,
                        (G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS));

  /**
   * PsJournal:max-generations:
   *
   * How many files the journal keeps at least, the current one
   * included. Beyond that, only files older than #PsJournal:min-age are
   * dropped.
   */
  properties[PROP_MAX_GENERATIONS] =
    g_param_spec_uint ("max-generations", NULL, NULL,
                       1, G_MAXUINT, PS_JOURNAL_DEFAULT_MAX_GENERATIONS,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * PsJournal:min-age:
   *
   * In seconds, how long ago a file must have been last written before
   * rotation may drop it: younger ones are kept, however many there are.
   */
  properties[PROP_MIN_AGE] =
    g_param_spec_uint ("min-age", NULL, NULL,
                       0, G_MAXUINT, PS_JOURNAL_DEFAULT_MIN_AGE,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PsJournal::entry-added:
   * @self: a #PsJournal
   * @entry: the entry, as written
   *
   * Emitted after an entry was appended.
   */
  signals[ENTRY_ADDED] =
    g_signal_new ("entry-added",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1,
                  JSON_TYPE_OBJECT | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
ps_journal_init (PsJournal *self)
{
  self->max_size = PS_JOURNAL_DEFAULT_MAX_SIZE;
  self->max_generations = PS_JOURNAL_DEFAULT_MAX_GENERATIONS;
  self->min_age = PS_JOURNAL_DEFAULT_MIN_AGE;
}


/**
 * ps_journal_new:
 *
 * Returns: (transfer full): the journal under the XDG state directory
 */
PsJournal *
ps_journal_new (void)
{
  return g_object_new (PS_TYPE_JOURNAL, NULL);
}

/**
 * ps_journal_new_for_path:
 * @path: the journal file
 *
 * Returns: (transfer full): a journal kept in @path (and `@path.1`, …)
 */
PsJournal *
ps_journal_new_for_path (const char *path)
{
  g_return_val_if_fail (path != NULL, NULL);

  return g_object_new (PS_TYPE_JOURNAL, "path", path, NULL);
}

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
#include <sys/stat.h>
#include <unistd.h>

#include "ps-journal.h"
#include "ps-url.h"

/**
 * PsJournal:
 *
 * A durable log of syncs, failures and conflict resolutions, kept as JSON
 * Lines under the XDG state directory. Each entry is written with a single
 * `write()` and synced to disk, so a crash leaves at most one torn line,
 * which reading skips. Past a size bound the file is rotated once.
 */
struct _PsJournal
{
  GObject  parent_instance;

  char    *path;
  goffset  max_size;
};

G_DEFINE_FINAL_TYPE (PsJournal, ps_journal, G_TYPE_OBJECT)

G_DEFINE_QUARK (ps-journal-error-quark, ps_journal_error)

enum {
  PROP_0,
  PROP_PATH,
  PROP_MAX_SIZE,
  N_PROPS
};

enum {
  ENTRY_ADDED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static const char *
get_string_member (JsonObject *object,
                   const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

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

/**
 * ps_journal_check_entry:
 * @entry: a journal entry
 * @error: return location for a #PsJournalError
 *
 * Checks that @entry can be journaled: it has a `kind`, and nothing in it
 * looks like a password (a URL with a password in its user information, or a
 * member named `password`). The journal is read by people auditing syncs and
 * must never carry credentials.
 *
 * Returns: %TRUE when @entry may be appended
 */
gboolean
ps_journal_check_entry (JsonObject  *entry,
                        GError     **error)
{
  g_autoptr(JsonNode) node = NULL;
  const char *kind;

  g_return_val_if_fail (entry != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  kind = get_string_member (entry, "kind");
  if (kind == NULL || *kind == '\0')
    {
      g_set_error_literal (error, PS_JOURNAL_ERROR, PS_JOURNAL_ERROR_INVALID_ENTRY,
                           _("A journal entry needs a kind"));
      return FALSE;
    }

  node = json_node_init_object (json_node_alloc (), entry);
  if (node_has_credentials (node))
    {
      /* Never quote the entry: the point is not to repeat the password. */
      g_set_error_literal (error, PS_JOURNAL_ERROR, PS_JOURNAL_ERROR_CREDENTIALS,
                           _("The journal entry was refused because it contains a password"));
      return FALSE;
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

static gboolean
rotate_if_needed (PsJournal  *self,
                  gsize       incoming,
                  GError    **error)
{
  g_autofree char *old_path = NULL;
  GStatBuf st;

  if (g_stat (self->path, &st) != 0)
    return TRUE;

  if (st.st_size == 0 || (goffset) st.st_size + (goffset) incoming <= self->max_size)
    return TRUE;

  old_path = g_strconcat (self->path, ".1", NULL);
  if (g_rename (self->path, old_path) != 0)
    {
      set_error_from_errno (error, errno, self->path);
      return FALSE;
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

static gboolean
append_line (PsJournal   *self,
             const char  *line,
             GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (self->path);
  g_autoptr(GString) data = g_string_new (NULL);
  gboolean created;
  ssize_t written;
  int fd;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      set_error_from_errno (error, errno, dir);
      return FALSE;
    }

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
entry_to_line (JsonObject *entry)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) node = NULL;

  if (!json_object_has_member (entry, "time"))
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *time = g_date_time_format_iso8601 (now);

      json_object_set_string_member (entry, "time", time);
    }

  /* Compact output escapes newlines inside strings: one entry, one line. */
  node = json_node_init_object (json_node_alloc (), entry);
  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, NULL);
}

gboolean
ps_journal_append (PsJournal   *self,
                   JsonObject  *entry,
                   GError     **error)
{
  g_autofree char *line = NULL;

  g_return_val_if_fail (PS_IS_JOURNAL (self), FALSE);
  g_return_val_if_fail (entry != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ps_journal_check_entry (entry, error))
    return FALSE;

  line = entry_to_line (entry);
  if (!append_line (self, line, error))
    return FALSE;

  g_signal_emit (self, signals[ENTRY_ADDED], 0, entry);

  return TRUE;
}

/**
 * ps_journal_append_all:
 * @self: a #PsJournal
 * @entries: (element-type JsonObject): entries, each as for ps_journal_append()
 * @error: return location for a #PsJournalError
 *
 * Appends several entries with one write and one flush to disk, as a
 * batch of resolutions needs. Nothing is written when one is refused.
 *
 * Returns: %TRUE once every entry is on disk
 */
gboolean
ps_journal_append_all (PsJournal  *self,
                       GPtrArray  *entries,
                       GError    **error)
{
  g_autoptr(GString) lines = g_string_new (NULL);

  g_return_val_if_fail (PS_IS_JOURNAL (self), FALSE);
  g_return_val_if_fail (entries != NULL, FALSE);

  if (entries->len == 0)
    return TRUE;

  for (guint i = 0; i < entries->len; i++)
    {
      g_autofree char *line = NULL;

      if (!ps_journal_check_entry (g_ptr_array_index (entries, i), error))
        return FALSE;
      line = entry_to_line (g_ptr_array_index (entries, i));
      if (i > 0)
        g_string_append_c (lines, '\n');
      g_string_append (lines, line);
    }

  if (!append_line (self, lines->str, error))
    return FALSE;

  for (guint i = 0; i < entries->len; i++)
    g_signal_emit (self, signals[ENTRY_ADDED], 0, g_ptr_array_index (entries, i));

  return TRUE;
}

static gboolean
member_matches (JsonObject *entry,
                const char *member,
                const char *wanted)
{
  if (wanted == NULL)
    return TRUE;

  return g_strcmp0 (get_string_member (entry, member), wanted) == 0;
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

static JsonObject *
parse_line (const char *line)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;

  if (!json_parser_load_from_data (parser, line, -1, NULL))
    return NULL;

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;

  return json_object_ref (json_node_get_object (root));
}

/* Reads one file from its end, so the newest entries come first and
 * reading stops as soon as enough were found.
 */
static gboolean
read_file_backwards (const char             *path,
                     const PsJournalFilter  *filter,
                     GPtrArray              *entries,
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
      const char *line = lines[i - 1];

      if (max != 0 && entries->len >= max)
        break;

      if (*line == '\0')
        continue;

      entry = parse_line (line);
      if (entry == NULL)
        {
          g_debug ("Skipping a damaged line in %s", path);
          continue;
        }

      if (filter_matches (filter, entry))
        g_ptr_array_add (entries, g_steal_pointer (&entry));
    }

  return TRUE;
}

/**
 * ps_journal_read:
 * @self: a #PsJournal
 * @filter: (nullable): which entries to return
 * @error: return location for a #PsJournalError
 *
 * Reads the journal, the current file and the rotated one. Damaged lines,
 * such as a line torn by a crash, are skipped.
 *
 * Returns: (transfer container) (element-type JsonObject): the entries
 *   matching @filter, newest first
 */
GPtrArray *
ps_journal_read (PsJournal              *self,
                 const PsJournalFilter  *filter,
                 GError                **error)
{
  g_autoptr(GPtrArray) entries = NULL;
  g_autofree char *old_path = NULL;

  g_return_val_if_fail (PS_IS_JOURNAL (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  old_path = g_strconcat (self->path, ".1", NULL);

  if (!read_file_backwards (self->path, filter, entries, error) ||
      !read_file_backwards (old_path, filter, entries, error))
    return NULL;

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
 * (replacing the previous one) and a new file is started.
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
 * Returns: (transfer full): a journal kept in @path (and `@path.1`)
 */
PsJournal *
ps_journal_new_for_path (const char *path)
{
  g_return_val_if_fail (path != NULL, NULL);

  return g_object_new (PS_TYPE_JOURNAL, "path", path, NULL);
}

/* ps-import.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Brings the revisions of a sync file into this instance. The whole file
 * is decrypted and authenticated first, in a thread, without writing
 * anything: a damaged or cut-short file is refused whole. Then a second
 * pass writes, batch by batch: `_revs_diff` says what is missing, which
 * `_bulk_docs` with `new_edits: false` adds unchanged; the records written
 * are then resolved the Primero way, and the journal keeps the resolutions.
 *
 * The databases must exist: they are Primero's, created when it is set up,
 * so a missing one means the file was made for another site.
 *
 * A file writes with this instance's administrator credentials, so it may
 * only write records into the record databases configured here (the ones
 * sync uses): a file that names any other database, a system one above
 * all, or holds a design or local document, is refused whole in the first
 * pass. Anyone who knows a passphrase could otherwise add a user or a
 * replication that copies every case away.
 */

#define G_LOG_DOMAIN "ps-import"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ps-couch-database.h"
#include "ps-import.h"
#include "ps-json.h"
#include "ps-resolver.h"
#include "ps-secrets.h"
#include "ps-sync-file.h"

#define BATCH_SIZE 100
/* As large as an export may write an item. */
#define MAX_REVISION_SIZE (64 * 1024 * 1024)

typedef struct
{
  char   *id;
  char   *rev;
  GBytes *json;
} Revision;

struct _PsImport
{
  GObject           parent_instance;

  PsServerAccess   *access;        /* this instance, with its password */
  PsJournal        *journal;
  PsExportState    *state;
  char             *warning;

  guint             n_revisions;
  guint             n_present;
  guint             n_written;
  guint             n_resolved;
  guint             n_unresolved;

  /* While running */
  GTask            *task;
  PsSyncFileReader *reader;
  char             *passphrase;
  GPtrArray        *names;          /* the file's databases */
  guint             index;
  PsCouchDatabase  *database;
  GPtrArray        *batch;          /* Revision */
  GPtrArray        *written_ids;
  GHashTable       *written_set;
  gboolean          database_ended;
  char             *file_name;
};

G_DEFINE_FINAL_TYPE (PsImport, ps_import, G_TYPE_OBJECT)

enum {
  RESOLVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void read_on (PsImport *self);

static void
revision_free (Revision *revision)
{
  g_free (revision->id);
  g_free (revision->rev);
  g_bytes_unref (revision->json);
  g_free (revision);
}

static void
clear_run (PsImport *self)
{
  g_clear_pointer (&self->file_name, g_free);
  g_clear_pointer (&self->reader, ps_sync_file_reader_free);
  ps_secrets_wipe (&self->passphrase);
  g_clear_pointer (&self->names, g_ptr_array_unref);
  g_clear_object (&self->database);
  g_clear_pointer (&self->batch, g_ptr_array_unref);
  g_clear_pointer (&self->written_ids, g_ptr_array_unref);
  g_clear_pointer (&self->written_set, g_hash_table_unref);
}

static void
ps_import_finalize (GObject *object)
{
  PsImport *self = PS_IMPORT (object);

  g_assert (self->task == NULL);

  clear_run (self);
  g_clear_object (&self->access);
  g_clear_object (&self->journal);
  g_clear_object (&self->state);
  g_clear_pointer (&self->warning, g_free);

  G_OBJECT_CLASS (ps_import_parent_class)->finalize (object);
}

static void
ps_import_class_init (PsImportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ps_import_finalize;

  /**
   * PsImport::resolved:
   * @self: the import
   * @report: the resolution of one record, as #PsResolver::resolved gives it
   */
  signals[RESOLVED] = g_signal_new ("resolved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                    0, NULL, NULL, NULL, G_TYPE_NONE, 1, JSON_TYPE_OBJECT);
}

static void
ps_import_init (PsImport *self)
{
}

/**
 * ps_import_new:
 * @access: this instance, whose databases receive the records, with its
 *   password
 *
 * Returns: (transfer full): a new import
 */
PsImport *
ps_import_new (PsServerAccess *access)
{
  PsImport *self;

  g_return_val_if_fail (PS_IS_SERVER_ACCESS (access), NULL);

  self = g_object_new (PS_TYPE_IMPORT, NULL);
  self->access = g_object_ref (access);
  return self;
}

/**
 * ps_import_set_journal:
 * @self: a #PsImport
 * @journal: (nullable): where the resolutions are recorded
 */
void
ps_import_set_journal (PsImport  *self,
                       PsJournal *journal)
{
  g_return_if_fail (PS_IS_IMPORT (self));
  g_set_object (&self->journal, journal);
}

/**
 * ps_import_set_state:
 * @self: a #PsImport
 * @state: (nullable): where the files imported here are remembered, usually
 *   ps_export_state_new_for_store()
 *
 * With a state, an import remembers the file it imported and warns when
 * the file before it in the chain was never imported here.
 */
void
ps_import_set_state (PsImport      *self,
                     PsExportState *state)
{
  g_return_if_fail (PS_IS_IMPORT (self));
  g_set_object (&self->state, state);
}

/* Imports, done or refused, are part of the audit trail; never the
 * passphrase, and no record.
 */
static void
journal_outcome (PsImport     *self,
                 const GError *error)
{
  g_autoptr(JsonObject) entry = json_object_new ();
  g_autoptr(GError) journal_error = NULL;
  JsonObject *header = self->reader != NULL ? ps_sync_file_reader_get_header (self->reader)
                                            : NULL;

  if (self->journal == NULL)
    return;

  json_object_set_string_member (entry, "kind", error == NULL ? "import" : "import-failed");
  if (self->file_name != NULL)
    json_object_set_string_member (entry, "file", self->file_name);
  if (header != NULL && ps_json_get_string (header, "instance") != NULL)
    json_object_set_string_member (entry, "from", ps_json_get_string (header, "instance"));
  if (header != NULL && ps_json_get_string (header, "created") != NULL)
    json_object_set_string_member (entry, "made", ps_json_get_string (header, "created"));
  json_object_set_int_member (entry, "revisions", self->n_revisions);
  json_object_set_int_member (entry, "written", self->n_written);
  json_object_set_int_member (entry, "present", self->n_present);
  json_object_set_int_member (entry, "resolved", self->n_resolved);
  if (error != NULL)
    json_object_set_string_member (entry, "error", error->message);
  if (self->warning != NULL)
    json_object_set_string_member (entry, "warning", self->warning);
  if (!ps_journal_append (self->journal, entry, &journal_error))
    g_warning ("The journal could not be written: %s", journal_error->message);
}

static void
fail (PsImport *self,
      GError   *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    journal_outcome (self, error);
  clear_run (self);
  g_task_return_error (task, error);
}

/* Pass 1: verify */

static gboolean
check_counts (GBytes   *data,
              guint     revisions,
              GError  **error)
{
  g_autoptr(JsonObject) counts = ps_json_parse_object (g_bytes_get_data (data, NULL),
                                                       g_bytes_get_size (data));

  if (counts == NULL ||
      json_object_get_int_member_with_default (counts, "revisions", -1) != revisions)
    {
      g_set_error_literal (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_DAMAGED,
                           _("The file’s contents do not match its summary"));
      return FALSE;
    }
  return TRUE;
}

static JsonObject *
parse_record (GBytes  *data,
              GError **error)
{
  g_autoptr(JsonObject) doc = ps_json_parse_untrusted_object (data, MAX_REVISION_SIZE, NULL);

  if (doc == NULL || ps_json_get_string (doc, "_id") == NULL ||
      ps_json_get_string (doc, "_rev") == NULL)
    {
      g_set_error_literal (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_DAMAGED,
                           _("The file holds a record that cannot be read"));
      return NULL;
    }
  if (!ps_sync_file_is_record_id (ps_json_get_string (doc, "_id")))
    {
      g_set_error (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_REFUSED,
                   _("The file holds the document “%s”, which is not a record: no file may "
                     "write design or local documents"),
                   ps_json_get_string (doc, "_id"));
      return NULL;
    }
  return g_steal_pointer (&doc);
}

static GPtrArray *
verify (PsSyncFileReader   *reader,
        const char * const *allowed,
        guint              *n_revisions,
        GCancellable       *cancellable,
        GError            **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  gboolean in_database = FALSE;
  guint in_this = 0;
  guint total = 0;

  for (;;)
    {
      g_autoptr(GBytes) data = NULL;
      g_autoptr(JsonObject) doc = NULL;
      PsSyncFileItem item;
      JsonObject *trailer;
      const char *name;

      if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
          !ps_sync_file_reader_next (reader, &item, &data, error))
        return NULL;

      switch (item)
        {
        case PS_SYNC_FILE_ITEM_DATABASE:
          if (in_database || !g_utf8_validate (g_bytes_get_data (data, NULL),
                                               g_bytes_get_size (data), NULL))
            goto malformed;
          g_ptr_array_add (names, g_strndup (g_bytes_get_data (data, NULL),
                                             g_bytes_get_size (data)));
          name = g_ptr_array_index (names, names->len - 1);
          if (!ps_sync_file_is_record_database (name) ||
              !g_strv_contains (allowed, name))
            {
              g_set_error (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_REFUSED,
                           _("The file would write into the database “%s”, which is not one "
                             "of this instance’s record databases"),
                           name);
              return NULL;
            }
          in_database = TRUE;
          in_this = 0;
          break;

        case PS_SYNC_FILE_ITEM_REVISION:
          if (!in_database)
            goto malformed;
          doc = parse_record (data, error);
          if (doc == NULL)
            return NULL;
          in_this++;
          total++;
          break;

        case PS_SYNC_FILE_ITEM_DATABASE_END:
          if (!in_database)
            goto malformed;
          if (!check_counts (data, in_this, error))
            return NULL;
          in_database = FALSE;
          break;

        case PS_SYNC_FILE_ITEM_END:
          trailer = ps_sync_file_reader_get_trailer (reader);
          if (in_database || trailer == NULL ||
              json_object_get_int_member_with_default (trailer, "revisions", -1) != total)
            goto malformed;
          *n_revisions = total;
          return g_steal_pointer (&names);

        default:
          goto malformed;
        }
    }

malformed:
  g_set_error_literal (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_DAMAGED,
                       _("The file’s contents do not match its summary"));
  return NULL;
}

typedef struct
{
  PsSyncFileReader *reader;      /* the import's */
  char             *passphrase;
  char            **allowed;
} VerifyData;

static void
verify_data_free (VerifyData *data)
{
  ps_secrets_wipe (&data->passphrase);
  g_strfreev (data->allowed);
  g_free (data);
}

typedef struct
{
  GPtrArray *names;
  guint      n_revisions;
} VerifyResult;

static void
verify_result_free (VerifyResult *result)
{
  g_clear_pointer (&result->names, g_ptr_array_unref);
  g_free (result);
}

static void
verify_in_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  VerifyData *data = task_data;
  VerifyResult *result = g_new0 (VerifyResult, 1);
  GError *error = NULL;

  /* The key derivation takes a second and 256 MiB: here, not on the main
   * loop.
   */
  if (ps_sync_file_reader_unlock (data->reader, data->passphrase, &error))
    {
      ps_secrets_wipe (&data->passphrase);
      result->names = verify (data->reader, (const char * const *) data->allowed,
                              &result->n_revisions, cancellable, &error);
    }
  if (result->names == NULL)
    {
      verify_result_free (result);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, result, (GDestroyNotify) verify_result_free);
}

/* Pass 2: write */

static void
on_resolver_resolved_cb (PsResolver  *resolver,
                         JsonObject  *report,
                         PsJsonTexts *texts,
                         PsImport    *self)
{
  g_signal_emit (self, signals[RESOLVED], 0, report);
}

static void
on_resolve_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(PsImport) self = user_data;
  PsResolver *resolver = PS_RESOLVER (object);
  GError *error = NULL;

  g_signal_handlers_disconnect_by_data (resolver, self);
  if (!ps_resolver_resolve_finish (resolver, result, &error))
    {
      fail (self, error);
      return;
    }
  self->n_resolved += ps_resolver_get_n_resolved (resolver);
  self->n_unresolved += ps_resolver_get_n_failed (resolver);
  read_on (self);
}

static void
end_database (PsImport *self)
{
  g_autoptr(PsResolver) resolver = NULL;

  self->database_ended = FALSE;
  if (self->written_ids->len == 0)
    {
      g_clear_object (&self->database);
      read_on (self);
      return;
    }

  resolver = ps_resolver_new (self->database);
  ps_resolver_set_journal (resolver, self->journal, NULL);
  g_signal_connect (resolver, "resolved", G_CALLBACK (on_resolver_resolved_cb), self);
  g_ptr_array_add (self->written_ids, NULL);
  ps_resolver_resolve_async (resolver, (const char * const *) self->written_ids->pdata,
                             g_task_get_cancellable (self->task), on_resolve_cb,
                             g_object_ref (self));
  g_clear_object (&self->database);
}

static void
after_batch (PsImport *self)
{
  g_ptr_array_set_size (self->batch, 0);
  if (self->database_ended)
    end_database (self);
  else
    read_on (self);
}

static void
on_bulk_docs_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(PsImport) self = user_data;
  g_autoptr(JsonNode) answer = NULL;
  GError *error = NULL;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  if (answer == NULL)
    {
      fail (self, error);
      return;
    }

  /* With new_edits false, only failures are listed. */
  if (JSON_NODE_HOLDS_ARRAY (answer))
    {
      JsonArray *rows = json_node_get_array (answer);

      for (guint i = 0; i < json_array_get_length (rows); i++)
        {
          JsonObject *row = ps_json_get_object_element (rows, i);

          if (row != NULL && json_object_has_member (row, "error"))
            {
              fail (self, g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_FAILED,
                                       _("A record could not be written: %s"),
                                       ps_json_get_string (row, "reason") != NULL
                                       ? ps_json_get_string (row, "reason")
                                       : ps_json_get_string (row, "error")));
              return;
            }
        }
    }

  after_batch (self);
}

static gboolean
is_missing (JsonObject *diff,
            Revision   *revision)
{
  JsonObject *entry = ps_json_get_object (diff, revision->id);
  JsonArray *missing = entry != NULL ? ps_json_get_array (entry, "missing") : NULL;

  for (guint i = 0; missing != NULL && i < json_array_get_length (missing); i++)
    {
      if (g_strcmp0 (ps_json_get_string_element (missing, i), revision->rev) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
on_revs_diff_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(PsImport) self = user_data;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GByteArray) body = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL;
  JsonObject *diff;
  guint n_missing = 0;
  GError *error = NULL;
  static const char start[] = "{\"new_edits\":false,\"docs\":[";

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  if (answer == NULL)
    {
      fail (self, error);
      return;
    }
  diff = JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;
  if (diff == NULL)
    {
      fail (self, g_error_new_literal (PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                                       _("This instance gave an unexpected answer")));
      return;
    }

  /* The revisions' text goes out as it came in the file. */
  g_byte_array_append (body, (const guint8 *) start, strlen (start));
  for (guint i = 0; i < self->batch->len; i++)
    {
      Revision *revision = g_ptr_array_index (self->batch, i);

      if (!is_missing (diff, revision))
        {
          self->n_present++;
          continue;
        }
      if (n_missing++ > 0)
        g_byte_array_append (body, (const guint8 *) ",", 1);
      g_byte_array_append (body, g_bytes_get_data (revision->json, NULL),
                           g_bytes_get_size (revision->json));
      if (g_hash_table_add (self->written_set, g_strdup (revision->id)))
        g_ptr_array_add (self->written_ids, g_strdup (revision->id));
    }
  g_byte_array_append (body, (const guint8 *) "]}", 2);
  self->n_written += n_missing;

  if (n_missing == 0)
    {
      after_batch (self);
      return;
    }

  bytes = g_byte_array_free_to_bytes (g_steal_pointer (&body));
  ps_couch_database_request_async (self->database, "POST", "_bulk_docs", NULL, bytes,
                                   g_task_get_cancellable (self->task),
                                   on_bulk_docs_cb, g_object_ref (self));
}

static void
send_batch (PsImport *self)
{
  g_autoptr(JsonObject) request = json_object_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GBytes) body = NULL;

  for (guint i = 0; i < self->batch->len; i++)
    {
      Revision *revision = g_ptr_array_index (self->batch, i);
      JsonArray *revs = ps_json_get_array (request, revision->id);

      if (revs == NULL)
        {
          revs = json_array_new ();
          json_object_set_array_member (request, revision->id, revs);
        }
      json_array_add_string_element (revs, revision->rev);
    }

  node = json_node_init_object (json_node_alloc (), request);
  body = ps_couch_json_to_bytes (node);
  ps_couch_database_request_async (self->database, "POST", "_revs_diff", NULL, body,
                                   g_task_get_cancellable (self->task),
                                   on_revs_diff_cb, g_object_ref (self));
}

static Revision *
parse_revision (GBytes  *data,
                GError **error)
{
  g_autoptr(JsonObject) doc = parse_record (data, error);
  Revision *revision;

  if (doc == NULL)
    return NULL;

  revision = g_new0 (Revision, 1);
  revision->id = g_strdup (ps_json_get_string (doc, "_id"));
  revision->rev = g_strdup (ps_json_get_string (doc, "_rev"));
  revision->json = g_bytes_ref (data);
  return revision;
}

static void
begin_database (PsImport *self,
                GBytes   *name_bytes)
{
  g_autofree char *name = g_strndup (g_bytes_get_data (name_bytes, NULL),
                                     g_bytes_get_size (name_bytes));
  GError *error = NULL;

  self->database = ps_server_access_open_database (self->access, name, &error);
  g_ptr_array_set_size (self->written_ids, 0);
  g_hash_table_remove_all (self->written_set);
  if (self->database == NULL)
    fail (self, error);
  else
    read_on (self);
}

/* The chain of files from one instance: remember this one. */
static void
remember_file (PsImport *self)
{
  JsonObject *header = ps_sync_file_reader_get_header (self->reader);
  const char *instance = ps_json_get_string (header, "instance");
  const char *file_id = ps_json_get_string (header, "file_id");
  g_autoptr(GError) error = NULL;

  if (self->state == NULL || instance == NULL || file_id == NULL)
    return;
  ps_export_state_add_imported (self->state, instance, file_id);
  if (!ps_export_state_save (self->state, &error))
    g_warning ("Which files were imported could not be recorded: %s", error->message);
}

static void
finish (PsImport *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  remember_file (self);
  journal_outcome (self, NULL);
  clear_run (self);
  g_task_return_boolean (task, TRUE);
}

/* Reads items until a request has to be made. */
static void
read_on (PsImport *self)
{
  for (;;)
    {
      g_autoptr(GBytes) data = NULL;
      Revision *revision;
      PsSyncFileItem item;
      GError *error = NULL;

      if (!ps_sync_file_reader_next (self->reader, &item, &data, &error))
        {
          fail (self, error);
          return;
        }

      switch (item)
        {
        case PS_SYNC_FILE_ITEM_DATABASE:
          begin_database (self, data);
          return;

        case PS_SYNC_FILE_ITEM_REVISION:
          revision = parse_revision (data, &error);
          if (revision == NULL)
            {
              fail (self, error);
              return;
            }
          g_ptr_array_add (self->batch, revision);
          if (self->batch->len >= BATCH_SIZE)
            {
              send_batch (self);
              return;
            }
          break;

        case PS_SYNC_FILE_ITEM_DATABASE_END:
          self->database_ended = TRUE;
          if (self->batch->len > 0)
            send_batch (self);
          else
            end_database (self);
          return;

        case PS_SYNC_FILE_ITEM_END:
        default:
          finish (self);
          return;
        }
    }
}

/* Between the passes: every database must be here already. */

static void check_next_database (PsImport *self);

static void
on_database_checked_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(PsImport) self = user_data;
  g_autoptr(JsonNode) answer = NULL;
  GError *error = NULL;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  if (answer == NULL)
    {
      if (g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_FOUND))
        {
          const char *name = g_ptr_array_index (self->names, self->index);

          g_clear_error (&error);
          error = g_error_new (PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_FAILED,
                               _("This instance has no database “%s”, so nothing was "
                                 "imported. Is this the Primero instance the file was "
                                 "made for?"), name);
        }
      fail (self, error);
      return;
    }

  self->index++;
  check_next_database (self);
}

static void
check_next_database (PsImport *self)
{
  g_autoptr(PsCouchDatabase) database = NULL;
  GError *error = NULL;

  if (self->index < self->names->len)
    {
      database = ps_server_access_open_database (self->access,
                                                 g_ptr_array_index (self->names, self->index),
                                                 &error);
      if (database == NULL)
        {
          fail (self, error);
          return;
        }
      ps_couch_database_request_async (database, "GET", NULL, NULL, NULL,
                                       g_task_get_cancellable (self->task),
                                       on_database_checked_cb, g_object_ref (self));
      return;
    }

  /* Read the file again, from the start, now writing. */
  if (!ps_sync_file_reader_unlock (self->reader, NULL, &error))
    {
      fail (self, error);
      return;
    }
  self->batch = g_ptr_array_new_with_free_func ((GDestroyNotify) revision_free);
  self->written_ids = g_ptr_array_new_with_free_func (g_free);
  self->written_set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  read_on (self);
}

/* Files with changes since the last one form a chain: a missing link
 * means the records changed before it may be missing here. A warning, not
 * a refusal: what the file holds is still worth having.
 */
static void
check_predecessor (PsImport *self)
{
  JsonObject *header = ps_sync_file_reader_get_header (self->reader);
  JsonObject *follows = ps_json_get_object (header, "follows");
  const char *instance = ps_json_get_string (header, "instance");
  const char *follows_id = ps_json_get_string (follows, "id");
  const char *created = ps_json_get_string (follows, "created");

  g_clear_pointer (&self->warning, g_free);
  if (self->state == NULL || instance == NULL || follows_id == NULL ||
      ps_export_state_was_imported (self->state, instance, follows_id))
    return;

  self->warning = g_strdup_printf (_("This file carries the changes since an earlier file, "
                                     "made on %s, that was never imported here: records "
                                     "changed before that file may be missing. Import that "
                                     "file too."),
                                   created != NULL ? created : _("an unknown date"));
}

static void
on_verified_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  PsImport *self = PS_IMPORT (object);
  VerifyResult *verified;
  GError *error = NULL;

  verified = g_task_propagate_pointer (G_TASK (result), &error);
  if (verified == NULL)
    {
      fail (self, error);
      return;
    }

  self->names = g_steal_pointer (&verified->names);
  self->n_revisions = verified->n_revisions;
  verify_result_free (verified);
  check_predecessor (self);
  self->index = 0;
  check_next_database (self);
}

/**
 * ps_import_run_async:
 * @self: a #PsImport
 * @path: a sync file
 * @passphrase: its passphrase
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the import is done or failed
 * @user_data: data for @callback
 *
 * Verifies the whole file, then writes what this instance lacks and
 * resolves the conflicts this makes. Nothing is written from a file that
 * is damaged, cut short, opened with the wrong passphrase, or that names
 * anything but records of this instance's record databases.
 */
void
ps_import_run_async (PsImport            *self,
                     const char          *path,
                     const char          *passphrase,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) verify_task = NULL;
  VerifyData *data;
  GError *error = NULL;

  g_return_if_fail (PS_IS_IMPORT (self));
  g_return_if_fail (self->task == NULL);
  g_return_if_fail (path != NULL && passphrase != NULL);

  self->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (self->task, ps_import_run_async);
  self->n_revisions = self->n_present = self->n_written = 0;
  self->n_resolved = self->n_unresolved = 0;
  self->file_name = g_filename_display_basename (path);
  g_clear_pointer (&self->warning, g_free);

  self->reader = ps_sync_file_reader_open (path, &error);
  if (self->reader == NULL)
    {
      fail (self, error);
      return;
    }

  data = g_new0 (VerifyData, 1);
  data->reader = self->reader;
  data->passphrase = g_strdup (passphrase);
  data->allowed = ps_server_dup_database_names (ps_server_access_get_server (self->access));
  verify_task = g_task_new (self, cancellable, on_verified_cb, NULL);
  g_task_set_source_tag (verify_task, ps_import_run_async);
  g_task_set_task_data (verify_task, data, (GDestroyNotify) verify_data_free);
  g_task_run_in_thread (verify_task, verify_in_thread);
}

gboolean
ps_import_run_finish (PsImport      *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (PS_IS_IMPORT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* How many revisions the file holds. */
guint
ps_import_get_n_revisions (PsImport *self)
{
  g_return_val_if_fail (PS_IS_IMPORT (self), 0);
  return self->n_revisions;
}

/* How many of them this instance had already. */
guint
ps_import_get_n_present (PsImport *self)
{
  g_return_val_if_fail (PS_IS_IMPORT (self), 0);
  return self->n_present;
}

/* How many of them were written. */
guint
ps_import_get_n_written (PsImport *self)
{
  g_return_val_if_fail (PS_IS_IMPORT (self), 0);
  return self->n_written;
}

guint
ps_import_get_n_resolved (PsImport *self)
{
  g_return_val_if_fail (PS_IS_IMPORT (self), 0);
  return self->n_resolved;
}

guint
ps_import_get_n_unresolved (PsImport *self)
{
  g_return_val_if_fail (PS_IS_IMPORT (self), 0);
  return self->n_unresolved;
}

/**
 * ps_import_get_warning:
 * @self: a #PsImport
 *
 * Returns: (nullable): a sentence to show beside the outcome, when the file
 *   before this one in its chain was never imported here
 */
const char *
ps_import_get_warning (PsImport *self)
{
  g_return_val_if_fail (PS_IS_IMPORT (self), NULL);
  return self->warning;
}

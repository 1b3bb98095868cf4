/* ps-export.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Writes the revisions a peer may lack into a sync file: for each record
 * database, `_changes?style=all_docs` one batch at a time (every leaf,
 * conflicts and deletions included), then `_bulk_get` with the revision
 * histories and the attachments. One batch is in memory at a time.
 *
 * Only records leave: no system database, no design or local document.
 * A revision that cannot be read fails the export, as the next file starts
 * where this one ended and would leave it behind for good; only a revision
 * replaced meanwhile is skipped, since the feed brings its successor.
 */

#define G_LOG_DOMAIN "ps-export"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ps-couch-database.h"
#include "ps-export.h"
#include "ps-fetched-docs.h"
#include "ps-json.h"
#include "ps-secrets.h"
#include "ps-sync-file.h"

#define BATCH_SIZE 250

typedef struct
{
  char     *name;
  JsonNode *since;
  JsonNode *last_seq;
  guint     records;
  guint     revisions;
} ExportDatabase;

struct _PsExport
{
  GObject           parent_instance;

  PsServerAccess   *access;        /* this instance, with its password */
  char             *peer;
  GPtrArray        *databases;     /* ExportDatabase */
  JsonObject       *summary;
  JsonObject       *follows;       /* the file this one follows */
  JsonObject       *file;          /* this one: id and creation time */

  /* While running */
  GTask            *task;
  PsSyncFileWriter *writer;
  PsCouchDatabase  *database;
  guint             index;
};

G_DEFINE_FINAL_TYPE (PsExport, ps_export, G_TYPE_OBJECT)

enum {
  PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void next_database (PsExport *self);
static void request_changes (PsExport *self);

static void
export_database_free (ExportDatabase *database)
{
  g_free (database->name);
  g_clear_pointer (&database->since, json_node_unref);
  g_clear_pointer (&database->last_seq, json_node_unref);
  g_free (database);
}

static void
ps_export_finalize (GObject *object)
{
  PsExport *self = PS_EXPORT (object);

  g_assert (self->task == NULL);

  g_clear_object (&self->access);
  g_clear_pointer (&self->peer, g_free);
  g_clear_pointer (&self->databases, g_ptr_array_unref);
  g_clear_pointer (&self->summary, json_object_unref);
  g_clear_pointer (&self->follows, json_object_unref);
  g_clear_pointer (&self->file, json_object_unref);

  G_OBJECT_CLASS (ps_export_parent_class)->finalize (object);
}

static void
ps_export_class_init (PsExportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ps_export_finalize;

  /**
   * PsExport::progress:
   * @self: the export
   * @database: the database being exported
   * @revisions: how many of its revisions are written so far
   */
  signals[PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                    0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                    G_TYPE_STRING, G_TYPE_UINT);
}

static void
ps_export_init (PsExport *self)
{
  self->databases = g_ptr_array_new_with_free_func ((GDestroyNotify) export_database_free);
}

/**
 * ps_export_new:
 * @access: this instance, whose databases are exported, with its password
 * @peer: the server id the file is for, or "all"
 *
 * Returns: (transfer full): a new export; add databases before running it
 */
PsExport *
ps_export_new (PsServerAccess *access,
               const char     *peer)
{
  PsExport *self;

  g_return_val_if_fail (PS_IS_SERVER_ACCESS (access), NULL);
  g_return_val_if_fail (peer != NULL, NULL);

  self = g_object_new (PS_TYPE_EXPORT, NULL);
  self->access = g_object_ref (access);
  self->peer = g_strdup (peer);
  return self;
}

/**
 * ps_export_add_database:
 * @self: a #PsExport
 * @name: a database of this instance
 * @since: (nullable): the source sequence to start after; %NULL for everything
 */
void
ps_export_add_database (PsExport   *self,
                        const char *name,
                        JsonNode   *since)
{
  ExportDatabase *database;

  g_return_if_fail (PS_IS_EXPORT (self));
  g_return_if_fail (self->task == NULL);

  database = g_new0 (ExportDatabase, 1);
  database->name = g_strdup (name);
  database->since = since != NULL ? json_node_copy (since) : NULL;
  g_ptr_array_add (self->databases, database);
}

static ExportDatabase *
current (PsExport *self)
{
  return g_ptr_array_index (self->databases, self->index);
}

static void
fail (PsExport *self,
      GError   *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  g_clear_pointer (&self->writer, ps_sync_file_writer_free);
  g_clear_object (&self->database);
  g_task_return_error (task, error);
}

static JsonObject *
build_summary (PsExport *self)
{
  JsonObject *summary = json_object_new ();
  JsonArray *counts = json_array_new ();
  guint records = 0;
  guint revisions = 0;

  for (guint i = 0; i < self->databases->len; i++)
    {
      ExportDatabase *database = g_ptr_array_index (self->databases, i);
      JsonObject *count = json_object_new ();

      json_object_set_string_member (count, "name", database->name);
      json_object_set_int_member (count, "records", database->records);
      json_object_set_int_member (count, "revisions", database->revisions);
      json_array_add_object_element (counts, count);
      records += database->records;
      revisions += database->revisions;
    }
  json_object_set_array_member (summary, "counts", counts);
  json_object_set_int_member (summary, "records", records);
  json_object_set_int_member (summary, "revisions", revisions);
  return summary;
}

static void
finish (PsExport *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);
  g_autoptr(JsonObject) summary = build_summary (self);
  GError *error = NULL;

  if (!ps_sync_file_writer_finish (self->writer, summary, &error))
    {
      self->task = g_steal_pointer (&task);
      fail (self, error);
      return;
    }

  g_clear_pointer (&self->writer, ps_sync_file_writer_free);
  g_clear_pointer (&self->summary, json_object_unref);
  self->summary = g_steal_pointer (&summary);
  g_task_return_boolean (task, TRUE);
}

static void
end_database (PsExport *self)
{
  ExportDatabase *database = current (self);
  g_autoptr(JsonObject) counts = json_object_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *text = NULL;
  GError *error = NULL;

  json_object_set_int_member (counts, "records", database->records);
  json_object_set_int_member (counts, "revisions", database->revisions);
  node = json_node_init_object (json_node_alloc (), counts);
  text = json_to_string (node, FALSE);
  if (!ps_sync_file_writer_add (self->writer, PS_SYNC_FILE_ITEM_DATABASE_END,
                                text, strlen (text), &error))
    {
      fail (self, error);
      return;
    }

  g_clear_object (&self->database);
  self->index++;
  next_database (self);
}

typedef struct
{
  PsExport *self;
  guint     n_results;
} FetchData;

static void
on_bulk_get_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autofree FetchData *data = user_data;
  g_autoptr(PsExport) self = data->self;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(PsFetchedDocs) docs = ps_fetched_docs_new ();
  g_autoptr(GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
  ExportDatabase *database = current (self);
  GError *error = NULL;

  answer = ps_couch_database_request_bytes_finish (PS_COUCH_DATABASE (object), result, &error);
  if (answer == NULL || !ps_fetched_docs_parse_bulk_get (docs, answer, &error))
    {
      fail (self, error);
      return;
    }

  for (guint i = 0; i < ps_fetched_docs_get_length (docs); i++)
    {
      const PsFetchedDoc *doc = ps_fetched_docs_get (docs, i);

      if (!ps_sync_file_is_record_id (doc->id))
        continue;
      /* A revision replaced meanwhile comes back later in the feed. */
      if (doc->json == NULL && doc->missing)
        continue;
      if (doc->json == NULL)
        {
          fail (self, g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_FAILED,
                                   _("The record “%s” in %s could not be read (%s); a file "
                                     "without it would leave it behind for good"),
                                   doc->id, database->name,
                                   doc->reason != NULL ? doc->reason
                                   : doc->error != NULL ? doc->error : _("no reason given")));
          return;
        }
      if (!ps_sync_file_writer_add (self->writer, PS_SYNC_FILE_ITEM_REVISION,
                                    doc->json, doc->json_len, &error))
        {
          fail (self, error);
          return;
        }
      database->revisions++;
      g_hash_table_add (ids, doc->id);
    }
  database->records += g_hash_table_size (ids);
  g_signal_emit (self, signals[PROGRESS], 0, database->name, database->revisions);

  if (data->n_results < BATCH_SIZE)
    end_database (self);
  else
    request_changes (self);
}

static GBytes *
build_bulk_get_body (JsonArray *results)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "docs");
  json_builder_begin_array (builder);
  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonObject *change = ps_json_get_object_element (results, i);
      JsonArray *revs = change != NULL ? ps_json_get_array (change, "changes") : NULL;
      const char *id = change != NULL ? ps_json_get_string (change, "id") : NULL;

      /* Design documents stay: they are the instance's own code. */
      if (!ps_sync_file_is_record_id (id))
        continue;
      for (guint j = 0; id != NULL && revs != NULL && j < json_array_get_length (revs); j++)
        {
          JsonObject *rev = ps_json_get_object_element (revs, j);

          if (rev == NULL || ps_json_get_string (rev, "rev") == NULL)
            continue;
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "id");
          json_builder_add_string_value (builder, id);
          json_builder_set_member_name (builder, "rev");
          json_builder_add_string_value (builder, json_object_get_string_member (rev, "rev"));
          json_builder_end_object (builder);
        }
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return ps_couch_json_to_bytes (root);
}

static void
on_changes_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(PsExport) self = user_data;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GBytes) body = NULL;
  ExportDatabase *database = current (self);
  JsonObject *root;
  JsonArray *results;
  FetchData *data;
  GError *error = NULL;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  if (answer == NULL)
    {
      fail (self, error);
      return;
    }

  root = JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;
  results = root != NULL ? ps_json_get_array (root, "results") : NULL;
  if (results == NULL || !json_object_has_member (root, "last_seq"))
    {
      fail (self, g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                               _("The changes of %s could not be read"), database->name));
      return;
    }

  g_clear_pointer (&database->last_seq, json_node_unref);
  database->last_seq = json_node_copy (json_object_get_member (root, "last_seq"));

  if (json_array_get_length (results) == 0)
    {
      end_database (self);
      return;
    }

  body = build_bulk_get_body (results);
  data = g_new0 (FetchData, 1);
  data->self = g_object_ref (self);
  data->n_results = json_array_get_length (results);
  ps_couch_database_request_bytes_async (self->database, "POST", "_bulk_get",
                                         "revs=true&attachments=true", body,
                                         g_task_get_cancellable (self->task),
                                         on_bulk_get_cb, data);
}

static void
request_changes (PsExport *self)
{
  ExportDatabase *database = current (self);
  JsonNode *since = database->last_seq != NULL ? database->last_seq : database->since;
  g_autofree char *query = NULL;
  g_autofree char *escaped = NULL;

  if (since != NULL)
    {
      g_autofree char *text = JSON_NODE_HOLDS_VALUE (since) &&
                              json_node_get_value_type (since) == G_TYPE_STRING
                              ? g_strdup (json_node_get_string (since))
                              : json_to_string (since, FALSE);

      escaped = g_uri_escape_string (text, NULL, FALSE);
    }
  query = g_strdup_printf ("style=all_docs&limit=%u%s%s", BATCH_SIZE,
                           escaped != NULL ? "&since=" : "", escaped != NULL ? escaped : "");
  ps_couch_database_request_async (self->database, "GET", "_changes", query, NULL,
                                   g_task_get_cancellable (self->task),
                                   on_changes_cb, g_object_ref (self));
}

static void
next_database (PsExport *self)
{
  ExportDatabase *database;
  GError *error = NULL;

  if (self->index >= self->databases->len)
    {
      finish (self);
      return;
    }

  database = current (self);
  self->database = ps_server_access_open_database (self->access, database->name, &error);
  if (self->database == NULL ||
      !ps_sync_file_writer_add (self->writer, PS_SYNC_FILE_ITEM_DATABASE,
                                database->name, strlen (database->name), &error))
    {
      fail (self, error);
      return;
    }

  request_changes (self);
}

static JsonObject *
build_header (PsExport *self)
{
  JsonObject *header = json_object_new ();
  JsonArray *names = json_array_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format_iso8601 (now);
  g_autofree char *file_id = g_uuid_string_random ();
  gboolean since_last = FALSE;

  for (guint i = 0; i < self->databases->len; i++)
    {
      ExportDatabase *database = g_ptr_array_index (self->databases, i);

      json_array_add_string_element (names, database->name);
      since_last |= database->since != NULL;
    }

  json_object_set_string_member (header, "created", created);
  json_object_set_string_member (header, "instance", ps_server_get_id (ps_server_access_get_server (self->access)));
  json_object_set_string_member (header, "peer", self->peer);
  json_object_set_string_member (header, "contents", since_last ? "since-last" : "everything");
  json_object_set_array_member (header, "databases", names);
  g_clear_pointer (&self->file, json_object_unref);
  self->file = json_object_new ();
  json_object_set_string_member (self->file, "id", file_id);
  json_object_set_string_member (self->file, "created", created);
  json_object_set_string_member (header, "file_id", file_id);
  if (self->follows != NULL && since_last)
    {
      /* A copy: the header goes to the thread that writes it. */
      JsonObject *follows = json_object_new ();

      json_object_set_string_member (follows, "id", ps_json_get_string (self->follows, "id"));
      if (ps_json_get_string (self->follows, "created") != NULL)
        json_object_set_string_member (follows, "created",
                                       ps_json_get_string (self->follows, "created"));
      json_object_set_object_member (header, "follows", follows);
    }
  return header;
}

typedef struct
{
  char       *path;
  char       *passphrase;
  JsonObject *header;
} StartData;

static void
start_data_free (StartData *data)
{
  g_free (data->path);
  ps_secrets_wipe (&data->passphrase);
  g_clear_pointer (&data->header, json_object_unref);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StartData, start_data_free)

/* The key derivation takes a second and 256 MiB: not on the main loop. */
static void
start_in_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  StartData *data = task_data;
  GError *error = NULL;
  PsSyncFileWriter *writer;

  writer = ps_sync_file_writer_new (data->path, data->passphrase, data->header, &error);
  if (writer == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, writer, (GDestroyNotify) ps_sync_file_writer_free);
}

static void
on_started_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  PsExport *self = PS_EXPORT (object);
  GError *error = NULL;

  self->writer = g_task_propagate_pointer (G_TASK (result), &error);
  if (self->writer == NULL)
    {
      fail (self, error);
      return;
    }
  if (g_task_return_error_if_cancelled (self->task))
    {
      g_clear_object (&self->task);
      g_clear_pointer (&self->writer, ps_sync_file_writer_free);
      return;
    }

  self->index = 0;
  next_database (self);
}

/**
 * ps_export_run_async:
 * @self: a #PsExport
 * @path: the file to write; it appears complete or not at all
 * @passphrase: what the file is encrypted with; one that is easy to guess
 *   is refused (see ps_sync_file_check_passphrase())
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the file is written or the export failed
 * @user_data: data for @callback
 *
 * Writes the databases' revisions since their start sequence into @path.
 */
void
ps_export_run_async (PsExport            *self,
                     const char          *path,
                     const char          *passphrase,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) start_task = NULL;
  g_autoptr(StartData) data = NULL;
  GError *error = NULL;

  g_return_if_fail (PS_IS_EXPORT (self));
  g_return_if_fail (self->task == NULL);
  g_return_if_fail (path != NULL && passphrase != NULL);

  self->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (self->task, ps_export_run_async);

  for (guint i = 0; i < self->databases->len; i++)
    {
      ExportDatabase *database = g_ptr_array_index (self->databases, i);

      if (!ps_sync_file_is_record_database (database->name))
        {
          fail (self, g_error_new (PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_REFUSED,
                                   _("“%s” is a system database, not a record database: "
                                     "it is never exported"), database->name));
          return;
        }
      g_clear_pointer (&database->last_seq, json_node_unref);
      database->records = 0;
      database->revisions = 0;
    }

  if (!ps_sync_file_check_passphrase (passphrase, &error))
    {
      fail (self, error);
      return;
    }

  data = g_new0 (StartData, 1);
  data->path = g_strdup (path);
  data->passphrase = g_strdup (passphrase);
  data->header = build_header (self);

  start_task = g_task_new (self, cancellable, on_started_cb, NULL);
  g_task_set_source_tag (start_task, ps_export_run_async);
  g_task_set_task_data (start_task, g_steal_pointer (&data), (GDestroyNotify) start_data_free);
  g_task_run_in_thread (start_task, start_in_thread);
}

gboolean
ps_export_run_finish (PsExport      *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (PS_IS_EXPORT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * ps_export_set_follows:
 * @self: a #PsExport
 * @last_file: (nullable): what ps_export_state_get_last_file() gives for
 *   this peer: the file this one carries the changes since
 *
 * A file with changes since the last one names it, so that an import can
 * tell when that one never arrived.
 */
void
ps_export_set_follows (PsExport   *self,
                       JsonObject *last_file)
{
  g_return_if_fail (PS_IS_EXPORT (self));
  g_return_if_fail (self->task == NULL);

  g_clear_pointer (&self->follows, json_object_unref);
  if (ps_json_get_string (last_file, "id") != NULL)
    self->follows = json_object_ref (last_file);
}

/**
 * ps_export_get_file:
 * @self: a #PsExport
 *
 * Returns: (transfer none) (nullable): the file the last run wrote: its
 *   `id` and when it was `created`
 */
JsonObject *
ps_export_get_file (PsExport *self)
{
  g_return_val_if_fail (PS_IS_EXPORT (self), NULL);
  return self->file;
}

/**
 * ps_export_get_summary:
 * @self: a #PsExport
 *
 * Returns: (transfer none) (nullable): the counts written into the file:
 *   `records`, `revisions` and `counts` per database
 */
JsonObject *
ps_export_get_summary (PsExport *self)
{
  g_return_val_if_fail (PS_IS_EXPORT (self), NULL);
  return self->summary;
}

/**
 * ps_export_get_last_seq:
 * @self: a #PsExport
 * @database: a database name
 *
 * Returns: (transfer none) (nullable): the source sequence the file covers
 *   in @database, to start the next export after
 */
JsonNode *
ps_export_get_last_seq (PsExport   *self,
                        const char *database)
{
  g_return_val_if_fail (PS_IS_EXPORT (self), NULL);

  for (guint i = 0; i < self->databases->len; i++)
    {
      ExportDatabase *item = g_ptr_array_index (self->databases, i);

      if (g_str_equal (item->name, database))
        return item->last_seq != NULL ? item->last_seq : item->since;
    }
  return NULL;
}

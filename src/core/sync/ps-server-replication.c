/* ps-server-replication.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * How CouchDB's replicator is doing with one server's replication
 * documents, read from this instance's `_scheduler/docs`. The answer is
 * another program's: every member is checked, and any credentials it may
 * echo in an error are removed before the text is kept.
 */

#define G_LOG_DOMAIN "ps-server-replication"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-json.h"
#include "ps-replicator-documents.h"
#include "ps-replicator-error.h"
#include "ps-server-replication.h"
#include "ps-url.h"

typedef struct
{
  char                     *database;
  PsSyncDirection           direction;
  PsServerReplicationState  state;
  guint64                   docs_written;
  guint64                   write_failures;
  guint64                   changes_pending;
} Entry;

struct _PsServerReplicationStatus
{
  GObject                   parent_instance;

  PsServerReplicationState  state;
  char                     *error;           /* in plain words */
  char                     *couchdb_error;   /* as CouchDB gave it */
  GArray                   *entries;   /* Entry */
};

G_DEFINE_FINAL_TYPE (PsServerReplicationStatus, ps_server_replication_status, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (PsServerReplicationState, ps_server_replication_state,
  G_DEFINE_ENUM_VALUE (PS_SERVER_REPLICATION_STATE_UNKNOWN, "unknown"),
  G_DEFINE_ENUM_VALUE (PS_SERVER_REPLICATION_STATE_PENDING, "pending"),
  G_DEFINE_ENUM_VALUE (PS_SERVER_REPLICATION_STATE_RUNNING, "running"),
  G_DEFINE_ENUM_VALUE (PS_SERVER_REPLICATION_STATE_CRASHING, "crashing"),
  G_DEFINE_ENUM_VALUE (PS_SERVER_REPLICATION_STATE_FAILED, "failed"))

/* One page of `_scheduler/docs`; a large `_replicator` is read in pages. */
#define SCHEDULER_PAGE_SIZE 200
#define SCHEDULER_MAX_PAGES 50

/* An error is shown in a row and a notification: a line, not a dump. */
#define MAX_ERROR_LENGTH 500

static void
entry_clear (Entry *entry)
{
  g_clear_pointer (&entry->database, g_free);
}

/**
 * ps_server_replication_state_to_label:
 * @state: a #PsServerReplicationState
 *
 * Returns: (transfer none): @state in a few translated words
 */
const char *
ps_server_replication_state_to_label (PsServerReplicationState state)
{
  switch (state)
    {
    case PS_SERVER_REPLICATION_STATE_PENDING:
      return _("Waiting");
    case PS_SERVER_REPLICATION_STATE_RUNNING:
      return C_("replication state", "Running");
    case PS_SERVER_REPLICATION_STATE_CRASHING:
      return _("Failing, retrying");
    case PS_SERVER_REPLICATION_STATE_FAILED:
      return _("Failed");
    case PS_SERVER_REPLICATION_STATE_UNKNOWN:
    default:
      return _("Unknown");
    }
}

/**
 * ps_server_replication_state_is_failing:
 * @state: a #PsServerReplicationState
 *
 * Returns: whether @state is one the user is told about: crashing or failed
 */
gboolean
ps_server_replication_state_is_failing (PsServerReplicationState state)
{
  return state == PS_SERVER_REPLICATION_STATE_CRASHING ||
         state == PS_SERVER_REPLICATION_STATE_FAILED;
}

/**
 * ps_server_replication_state_to_string:
 * @state: a #PsServerReplicationState
 *
 * Returns: (transfer none): the untranslated name of @state, for JSON
 */
const char *
ps_server_replication_state_to_string (PsServerReplicationState state)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (PS_TYPE_SERVER_REPLICATION_STATE);
  GEnumValue *value = g_enum_get_value (klass, state);

  return value != NULL ? value->value_nick : "unknown";
}

static void
ps_server_replication_status_finalize (GObject *object)
{
  PsServerReplicationStatus *self = (PsServerReplicationStatus *)object;

  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->couchdb_error, g_free);
  g_clear_pointer (&self->entries, g_array_unref);

  G_OBJECT_CLASS (ps_server_replication_status_parent_class)->finalize (object);
}

static void
ps_server_replication_status_class_init (PsServerReplicationStatusClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ps_server_replication_status_finalize;
}

static void
ps_server_replication_status_init (PsServerReplicationStatus *self)
{
  self->entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  g_array_set_clear_func (self->entries, (GDestroyNotify) entry_clear);
}

static PsServerReplicationState
parse_state (const char *state)
{
  if (state == NULL)
    return PS_SERVER_REPLICATION_STATE_UNKNOWN;
  /* A completed continuous replication only happens when a database goes. */
  if (g_str_equal (state, "running") || g_str_equal (state, "completed"))
    return PS_SERVER_REPLICATION_STATE_RUNNING;
  if (g_str_equal (state, "pending") || g_str_equal (state, "initializing"))
    return PS_SERVER_REPLICATION_STATE_PENDING;
  /* "error": the document could not be processed yet; CouchDB retries. */
  if (g_str_equal (state, "crashing") || g_str_equal (state, "error"))
    return PS_SERVER_REPLICATION_STATE_CRASHING;
  if (g_str_equal (state, "failed"))
    return PS_SERVER_REPLICATION_STATE_FAILED;
  return PS_SERVER_REPLICATION_STATE_UNKNOWN;
}

static guint64
get_count (JsonObject *info,
           const char *member)
{
  gint64 value = info != NULL ? ps_json_get_int (info, member, 0) : 0;

  return value > 0 ? (guint64) value : 0;
}

/* CouchDB's reason, from `info.error`, or `info` itself in older versions. */
static char *
dup_error (JsonObject *doc)
{
  JsonNode *info = json_object_get_member (doc, "info");
  const char *text = NULL;
  g_autofree char *redacted = NULL;

  if (info != NULL && JSON_NODE_HOLDS_OBJECT (info))
    text = ps_json_get_string (json_node_get_object (info), "error");
  else if (info != NULL && JSON_NODE_HOLDS_VALUE (info) &&
           json_node_get_value_type (info) == G_TYPE_STRING)
    text = json_node_get_string (info);

  if (text == NULL || *text == '\0')
    return NULL;

  redacted = ps_url_redact_text (text);
  if (g_utf8_strlen (redacted, -1) > MAX_ERROR_LENGTH || !g_utf8_validate (redacted, -1, NULL))
    {
      g_autofree char *valid = g_utf8_make_valid (redacted, -1);

      return g_utf8_substring (valid, 0, MIN (g_utf8_strlen (valid, -1), MAX_ERROR_LENGTH));
    }
  return g_steal_pointer (&redacted);
}

static JsonObject *
find_doc (JsonArray  *docs,
          const char *doc_id)
{
  guint n = docs != NULL ? json_array_get_length (docs) : 0;

  for (guint i = 0; i < n; i++)
    {
      JsonObject *doc = ps_json_get_object_element (docs, i);
      const char *id = doc != NULL ? ps_json_get_string (doc, "doc_id") : NULL;
      const char *database = doc != NULL ? ps_json_get_string (doc, "database") : NULL;

      if (id != NULL && g_str_equal (id, doc_id) &&
          (database == NULL || g_str_has_suffix (database, "_replicator")))
        return doc;
    }
  return NULL;
}

static void
add_entry (PsServerReplicationStatus *self,
           const char                *server_id,
           const char                *database,
           PsSyncDirection            direction,
           JsonArray                 *docs)
{
  g_autofree char *doc_id = ps_replicator_document_id (server_id, database, direction);
  JsonObject *doc = find_doc (docs, doc_id);
  JsonObject *info = doc != NULL ? ps_json_get_object (doc, "info") : NULL;
  Entry entry = { 0 };

  entry.database = g_strdup (database);
  entry.direction = direction;
  /* Not in the scheduler yet: written, but not picked up. */
  entry.state = doc != NULL ? parse_state (ps_json_get_string (doc, "state"))
                            : PS_SERVER_REPLICATION_STATE_PENDING;
  entry.docs_written = get_count (info, "docs_written");
  entry.write_failures = get_count (info, "doc_write_failures");
  entry.changes_pending = get_count (info, "changes_pending");

  if (doc != NULL && self->error == NULL &&
      ps_server_replication_state_is_failing (entry.state))
    {
      self->couchdb_error = dup_error (doc);
      if (self->couchdb_error != NULL)
        self->error = ps_replicator_error_describe (self->couchdb_error);
    }

  self->state = MAX (self->state, entry.state);
  g_array_append_val (self->entries, entry);
}

/**
 * ps_server_replication_status_new_from_scheduler:
 * @server: the server whose replication documents to look for
 * @docs: the `docs` of a `_scheduler/docs/_replicator` answer
 *
 * One entry per database and direction @server wants, whether or not the
 * scheduler knows its document yet.
 *
 * Returns: (transfer full): a new #PsServerReplicationStatus
 */
PsServerReplicationStatus *
ps_server_replication_status_new_from_scheduler (PsServer  *server,
                                                 JsonArray *docs)
{
  g_autoptr(PsServerReplicationStatus) self = NULL;
  g_auto(GStrv) databases = NULL;
  PsSyncDirection direction;

  g_return_val_if_fail (PS_IS_SERVER (server), NULL);

  self = g_object_new (PS_TYPE_SERVER_REPLICATION_STATUS, NULL);
  databases = ps_server_dup_database_names (server);
  direction = ps_server_get_direction (server);
  for (guint i = 0; databases[i] != NULL; i++)
    {
      if (direction != PS_SYNC_DIRECTION_PUSH)
        add_entry (self, ps_server_get_id (server), databases[i], PS_SYNC_DIRECTION_PULL, docs);
      if (direction != PS_SYNC_DIRECTION_PULL)
        add_entry (self, ps_server_get_id (server), databases[i], PS_SYNC_DIRECTION_PUSH, docs);
    }

  return g_steal_pointer (&self);
}

/**
 * ps_server_replication_status_new_with_error:
 * @state: %PS_SERVER_REPLICATION_STATE_FAILED when the documents could not
 *   be written, %PS_SERVER_REPLICATION_STATE_UNKNOWN when their state could
 *   not be read
 * @error: why
 *
 * Returns: (transfer full): a status with no entries
 */
PsServerReplicationStatus *
ps_server_replication_status_new_with_error (PsServerReplicationState  state,
                                             const char               *error)
{
  PsServerReplicationStatus *self;
  g_autofree char *redacted = NULL;

  g_return_val_if_fail (error != NULL, NULL);

  redacted = ps_url_redact_text (error);
  self = g_object_new (PS_TYPE_SERVER_REPLICATION_STATUS, NULL);
  self->state = state;
  self->error = ps_replicator_error_one_line (redacted);
  return self;
}

/**
 * ps_server_replication_status_get_state:
 * @self: a #PsServerReplicationStatus
 *
 * Returns: the worst state over all documents
 */
PsServerReplicationState
ps_server_replication_status_get_state (PsServerReplicationStatus *self)
{
  g_return_val_if_fail (PS_IS_SERVER_REPLICATION_STATUS (self),
                        PS_SERVER_REPLICATION_STATE_UNKNOWN);
  return self->state;
}

/**
 * ps_server_replication_status_get_error:
 * @self: a #PsServerReplicationStatus
 *
 * Returns: (nullable): CouchDB's reason for the first crashing or failed
 *   document in plain words (ps_replicator_error_describe()), on one
 *   line and without credentials
 */
const char *
ps_server_replication_status_get_error (PsServerReplicationStatus *self)
{
  g_return_val_if_fail (PS_IS_SERVER_REPLICATION_STATUS (self), NULL);
  return self->error;
}

#define SUM_ENTRIES(self, member)                                          \
  G_STMT_START {                                                           \
    guint64 total = 0;                                                     \
    for (guint i = 0; i < (self)->entries->len; i++)                       \
      total += g_array_index ((self)->entries, Entry, i).member;           \
    return total;                                                          \
  } G_STMT_END

guint64
ps_server_replication_status_get_docs_written (PsServerReplicationStatus *self)
{
  g_return_val_if_fail (PS_IS_SERVER_REPLICATION_STATUS (self), 0);
  SUM_ENTRIES (self, docs_written);
}

guint64
ps_server_replication_status_get_write_failures (PsServerReplicationStatus *self)
{
  g_return_val_if_fail (PS_IS_SERVER_REPLICATION_STATUS (self), 0);
  SUM_ENTRIES (self, write_failures);
}

guint64
ps_server_replication_status_get_changes_pending (PsServerReplicationStatus *self)
{
  g_return_val_if_fail (PS_IS_SERVER_REPLICATION_STATUS (self), 0);
  SUM_ENTRIES (self, changes_pending);
}

guint
ps_server_replication_status_get_n_entries (PsServerReplicationStatus *self)
{
  g_return_val_if_fail (PS_IS_SERVER_REPLICATION_STATUS (self), 0);
  return self->entries->len;
}

static Entry *
get_entry (PsServerReplicationStatus *self,
           guint                      i)
{
  if (!PS_IS_SERVER_REPLICATION_STATUS (self) || i >= self->entries->len)
    {
      g_return_val_if_reached (NULL);
    }
  return &g_array_index (self->entries, Entry, i);
}

const char *
ps_server_replication_status_get_entry_database (PsServerReplicationStatus *self,
                                                 guint                      i)
{
  Entry *entry = get_entry (self, i);

  return entry != NULL ? entry->database : NULL;
}

PsSyncDirection
ps_server_replication_status_get_entry_direction (PsServerReplicationStatus *self,
                                                  guint                      i)
{
  Entry *entry = get_entry (self, i);

  return entry != NULL ? entry->direction : PS_SYNC_DIRECTION_PULL;
}

PsServerReplicationState
ps_server_replication_status_get_entry_state (PsServerReplicationStatus *self,
                                              guint                      i)
{
  Entry *entry = get_entry (self, i);

  return entry != NULL ? entry->state : PS_SERVER_REPLICATION_STATE_UNKNOWN;
}

guint64
ps_server_replication_status_get_entry_docs_written (PsServerReplicationStatus *self,
                                                     guint                      i)
{
  Entry *entry = get_entry (self, i);

  return entry != NULL ? entry->docs_written : 0;
}

guint64
ps_server_replication_status_get_entry_write_failures (PsServerReplicationStatus *self,
                                                       guint                      i)
{
  Entry *entry = get_entry (self, i);

  return entry != NULL ? entry->write_failures : 0;
}

guint64
ps_server_replication_status_get_entry_changes_pending (PsServerReplicationStatus *self,
                                                        guint                      i)
{
  Entry *entry = get_entry (self, i);

  return entry != NULL ? entry->changes_pending : 0;
}

/**
 * ps_server_replication_status_to_json:
 * @self: a #PsServerReplicationStatus
 *
 * Returns: (transfer full): `{"state", "error", "couchdb_error", "docs_written",
 *   "write_failures", "changes_pending", "databases": [...]}`
 */
JsonNode *
ps_server_replication_status_to_json (PsServerReplicationStatus *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (PS_IS_SERVER_REPLICATION_STATUS (self), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, ps_server_replication_state_to_string (self->state));
  json_builder_set_member_name (builder, "error");
  if (self->error != NULL)
    json_builder_add_string_value (builder, self->error);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "couchdb_error");
  if (self->couchdb_error != NULL)
    json_builder_add_string_value (builder, self->couchdb_error);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "docs_written");
  json_builder_add_int_value (builder, ps_server_replication_status_get_docs_written (self));
  json_builder_set_member_name (builder, "write_failures");
  json_builder_add_int_value (builder, ps_server_replication_status_get_write_failures (self));
  json_builder_set_member_name (builder, "changes_pending");
  json_builder_add_int_value (builder, ps_server_replication_status_get_changes_pending (self));
  json_builder_set_member_name (builder, "databases");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = &g_array_index (self->entries, Entry, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "database");
      json_builder_add_string_value (builder, entry->database);
      json_builder_set_member_name (builder, "direction");
      json_builder_add_string_value (builder, ps_sync_direction_to_string (entry->direction));
      json_builder_set_member_name (builder, "state");
      json_builder_add_string_value (builder, ps_server_replication_state_to_string (entry->state));
      json_builder_set_member_name (builder, "docs_written");
      json_builder_add_int_value (builder, entry->docs_written);
      json_builder_set_member_name (builder, "write_failures");
      json_builder_add_int_value (builder, entry->write_failures);
      json_builder_set_member_name (builder, "changes_pending");
      json_builder_add_int_value (builder, entry->changes_pending);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

typedef struct
{
  PsCouchDatabase *instance;
  GPtrArray       *servers;  /* PsServer */
  JsonArray       *docs;     /* the app's documents, over all pages */
  guint            skip;
  guint            pages;
} ReadData;

static void
read_data_free (ReadData *data)
{
  g_clear_object (&data->instance);
  g_clear_pointer (&data->servers, g_ptr_array_unref);
  g_clear_pointer (&data->docs, json_array_unref);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReadData, read_data_free)

static void read_page (GTask *task);

static void
on_page_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ReadData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  JsonArray *docs;
  guint n;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  if (answer == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  docs = JSON_NODE_HOLDS_OBJECT (answer)
         ? ps_json_get_array (json_node_get_object (answer), "docs") : NULL;
  if (docs == NULL)
    {
      g_task_return_new_error (task, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                               _("The replication scheduler gave an answer that cannot be read."));
      return;
    }

  /* Only the app's documents are kept; others may be many. */
  n = json_array_get_length (docs);
  for (guint i = 0; i < n; i++)
    {
      JsonObject *doc = ps_json_get_object_element (docs, i);
      const char *id = doc != NULL ? ps_json_get_string (doc, "doc_id") : NULL;

      if (id != NULL && g_str_has_prefix (id, PS_REPLICATOR_DOCUMENT_PREFIX))
        json_array_add_object_element (data->docs, json_object_ref (doc));
    }

  data->skip += n;
  data->pages++;
  if (n < SCHEDULER_PAGE_SIZE || data->pages >= SCHEDULER_MAX_PAGES)
    {
      GPtrArray *statuses = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = 0; i < data->servers->len; i++)
        g_ptr_array_add (statuses, ps_server_replication_status_new_from_scheduler (
                                     data->servers->pdata[i], data->docs));
      g_task_return_pointer (task, statuses, (GDestroyNotify) g_ptr_array_unref);
      return;
    }

  read_page (g_steal_pointer (&task));
}

static void
read_page (GTask *task)
{
  ReadData *data = g_task_get_task_data (task);
  g_autofree char *query = g_strdup_printf ("limit=%u&skip=%u", SCHEDULER_PAGE_SIZE, data->skip);

  ps_couch_database_request_async (data->instance, "GET", "/_scheduler/docs/_replicator", query,
                                   NULL, g_task_get_cancellable (task), on_page_cb, task);
}

/**
 * ps_server_replication_status_read_all_async:
 * @instance: any database of this instance, opened with its administrator's
 *   credentials (its `_replicator`, say)
 * @servers: (element-type PsServer): on-server servers
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with their statuses
 * @user_data: data for @callback
 *
 * Reads the state of the replication documents of all @servers from one
 * reading of the instance's `_scheduler/docs`, which may take pages.
 */
void
ps_server_replication_status_read_all_async (PsCouchDatabase     *instance,
                                             GPtrArray           *servers,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ReadData *data;

  g_return_if_fail (PS_IS_COUCH_DATABASE (instance));
  g_return_if_fail (servers != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ps_server_replication_status_read_all_async);
  data = g_new0 (ReadData, 1);
  data->instance = g_object_ref (instance);
  data->servers = g_ptr_array_ref (servers);
  data->docs = json_array_new ();
  g_task_set_task_data (task, data, (GDestroyNotify) read_data_free);
  read_page (g_steal_pointer (&task));
}

/**
 * ps_server_replication_status_read_all_finish:
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (element-type PsServerReplicationStatus)
 *   (nullable): one status per server, in their order, or %NULL on error
 */
GPtrArray *
ps_server_replication_status_read_all_finish (GAsyncResult  *result,
                                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        ps_server_replication_status_read_all_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ps-replicator-documents.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Writes and removes one server's documents in this instance's
 * `_replicator`: one continuous replication per record database and
 * direction, so CouchDB keeps syncing with no desktop session open. The
 * documents have fixed ids (`primero-sync-SERVER-DATABASE-pull|push`) and
 * carry a `primero_sync` mark; no other document is read for more than its
 * id, let alone changed. Credentials go in the endpoints' `auth` objects,
 * never in a URL. An unchanged document is not written again, since every
 * write restarts its replication.
 */

#define G_LOG_DOMAIN "ps-replicator-documents"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ps-json.h"
#include "ps-replicator-documents.h"
#include "ps-secret-memory.h"
#include "ps-server-access-private.h"

#define MARK_MEMBER "primero_sync"

/* One write or removal, done one after the other. */
typedef struct
{
  char     *id;
  char     *rev;       /* NULL for a new document */
  JsonNode *body;      /* NULL once sent */
  gboolean  remove;
} Change;

typedef struct
{
  PsCouchDatabase *replicator;
  char            *server_id;
  GHashTable      *wanted;     /* id → JsonNode, holding passwords */
  GQueue           changes;    /* Change */
  GPtrArray       *written;
  GPtrArray       *removed;
  gboolean         created;
} ApplyData;

static void
change_free (Change *change)
{
  g_free (change->id);
  g_free (change->rev);
  g_clear_pointer (&change->body, json_node_unref);
  g_free (change);
}

static void
apply_data_free (ApplyData *data)
{
  g_clear_object (&data->replicator);
  g_free (data->server_id);
  g_clear_pointer (&data->wanted, g_hash_table_unref);
  g_queue_clear_full (&data->changes, (GDestroyNotify) change_free);
  g_clear_pointer (&data->written, g_ptr_array_unref);
  g_clear_pointer (&data->removed, g_ptr_array_unref);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ApplyData, apply_data_free)

/**
 * ps_replicator_document_id:
 * @server_id: a server id
 * @database: a record database name
 * @direction: %PS_SYNC_DIRECTION_PULL or %PS_SYNC_DIRECTION_PUSH
 *
 * Returns: (transfer full): the id of the replication document, unescaped
 */
char *
ps_replicator_document_id (const char      *server_id,
                           const char      *database,
                           PsSyncDirection  direction)
{
  g_return_val_if_fail (server_id != NULL, NULL);
  g_return_val_if_fail (database != NULL, NULL);
  g_return_val_if_fail (direction != PS_SYNC_DIRECTION_BOTH, NULL);

  return g_strconcat (PS_REPLICATOR_DOCUMENT_PREFIX, server_id, "-", database, "-",
                      direction == PS_SYNC_DIRECTION_PULL ? "pull" : "push", NULL);
}

/* Whether @doc_id is one of @server_id's documents: its prefix, then a
 * database name, then the direction.
 */
static gboolean
is_server_document_id (const char *server_id,
                       const char *doc_id)
{
  g_autofree char *prefix = g_strconcat (PS_REPLICATOR_DOCUMENT_PREFIX, server_id, "-", NULL);
  const char *rest;

  if (!g_str_has_prefix (doc_id, prefix))
    return FALSE;

  rest = doc_id + strlen (prefix);
  return strlen (rest) > strlen ("-pull") &&
         (g_str_has_suffix (rest, "-pull") || g_str_has_suffix (rest, "-push"));
}

static void
add_endpoint (JsonBuilder *builder,
              const char  *member,
              PsServer    *server,
              const char  *password,
              const char  *database)
{
  g_autofree char *escaped = g_uri_escape_string (database, NULL, FALSE);
  g_autofree char *url = g_strconcat (ps_server_get_url (server), "/", escaped, NULL);
  const char *username = ps_server_get_username (server);

  json_builder_set_member_name (builder, member);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, url);
  if (username != NULL && *username != '\0')
    {
      json_builder_set_member_name (builder, "auth");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "basic");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "username");
      json_builder_add_string_value (builder, username);
      json_builder_set_member_name (builder, "password");
      json_builder_add_string_value (builder, password != NULL ? password : "");
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
}

static JsonNode *
build_document (PsServer        *local,
                const char      *local_password,
                PsServer        *server,
                const char      *server_password,
                const char      *database,
                PsSyncDirection  direction)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  gboolean pull = direction == PS_SYNC_DIRECTION_PULL;

  json_builder_begin_object (builder);
  if (pull)
    {
      add_endpoint (builder, "source", server, server_password, database);
      add_endpoint (builder, "target", local, local_password, database);
    }
  else
    {
      add_endpoint (builder, "source", local, local_password, database);
      add_endpoint (builder, "target", server, server_password, database);
    }
  json_builder_set_member_name (builder, "continuous");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, MARK_MEMBER);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "server");
  json_builder_add_string_value (builder, ps_server_get_id (server));
  json_builder_set_member_name (builder, "database");
  json_builder_add_string_value (builder, database);
  json_builder_set_member_name (builder, "direction");
  json_builder_add_string_value (builder, pull ? "pull" : "push");
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* Only the members written here count: CouchDB adds its own ("owner"). */
static gboolean
document_unchanged (JsonObject *existing,
                    JsonObject *wanted)
{
  static const char * const members[] = { "source", "target", "continuous", MARK_MEMBER };

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      JsonNode *a = json_object_get_member (existing, members[i]);
      JsonNode *b = json_object_get_member (wanted, members[i]);

      if (a == NULL || b == NULL || !json_node_equal (a, b))
        return FALSE;
    }
  /* A document CouchDB gave up on is written again to restart it. */
  return g_strcmp0 (ps_json_get_string (existing, "_replication_state"), "failed") != 0;
}

/* The document carries this server's mark, so it is ours as well as named so. */
static gboolean
document_is_ours (JsonObject *doc,
                  const char *server_id)
{
  JsonObject *mark = ps_json_get_object (doc, MARK_MEMBER);

  return mark != NULL && g_strcmp0 (ps_json_get_string (mark, "server"), server_id) == 0;
}

static GBytes *
wiped_body (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  gsize len = 0;
  char *text;

  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, &len);
  /* The body holds passwords: wiped when the request is done with it. */
  return g_bytes_new_with_free_func (text, len, (GDestroyNotify) secret_password_free, text);
}

static void next_change (GTask *task);

static void
on_change_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ApplyData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  Change *change = g_queue_pop_head (&data->changes);

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  if (answer == NULL &&
      !(change->remove && g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_FOUND)))
    {
      g_prefix_error (&error, _("The replication document %s could not be saved: "), change->id);
      change_free (change);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_ptr_array_add (!change->remove ? data->written : data->removed,
                   g_steal_pointer (&change->id));
  change_free (change);
  next_change (g_steal_pointer (&task));
}

static void
next_change (GTask *owned)
{
  g_autoptr(GTask) task = owned;
  GCancellable *cancellable = g_task_get_cancellable (task);
  ApplyData *data = g_task_get_task_data (task);
  Change *change = g_queue_peek_head (&data->changes);
  g_autofree char *path = NULL;
  g_autofree char *query = NULL;
  g_autoptr(GBytes) body = NULL;

  if (change == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  path = ps_couch_escape_id (change->id);
  if (change->rev != NULL)
    {
      g_autofree char *rev = g_uri_escape_string (change->rev, NULL, FALSE);

      query = g_strconcat ("rev=", rev, NULL);
    }

  if (!change->remove)
    {
      body = wiped_body (change->body);
      /* The node's copy of the passwords is not needed once serialized. */
      g_clear_pointer (&change->body, json_node_unref);
    }

  ps_couch_database_request_async (data->replicator, change->remove ? "DELETE" : "PUT", path,
                                   query, body, cancellable, on_change_cb,
                                   g_steal_pointer (&task));
}

static void
plan_changes (ApplyData *data,
              JsonArray *rows)
{
  guint n = rows != NULL ? json_array_get_length (rows) : 0;
  GHashTableIter iter;
  gpointer id;
  gpointer wanted;

  for (guint i = 0; i < n; i++)
    {
      JsonObject *row = ps_json_get_object_element (rows, i);
      JsonObject *doc = row != NULL ? ps_json_get_object (row, "doc") : NULL;
      const char *doc_id = doc != NULL ? ps_json_get_string (doc, "_id") : NULL;
      const char *rev = doc != NULL ? ps_json_get_string (doc, "_rev") : NULL;
      JsonNode *wanted_node;
      Change *change;

      if (doc_id == NULL || rev == NULL ||
          !is_server_document_id (data->server_id, doc_id) ||
          !document_is_ours (doc, data->server_id))
        continue;

      wanted_node = g_hash_table_lookup (data->wanted, doc_id);
      if (wanted_node != NULL &&
          document_unchanged (doc, json_node_get_object (wanted_node)))
        {
          g_hash_table_remove (data->wanted, doc_id);
          continue;
        }

      change = g_new0 (Change, 1);
      change->id = g_strdup (doc_id);
      change->rev = g_strdup (rev);
      if (wanted_node != NULL)
        {
          change->body = json_node_ref (wanted_node);
          json_object_set_string_member (json_node_get_object (change->body), "_rev", rev);
          g_hash_table_remove (data->wanted, doc_id);
        }
      else
        {
          change->remove = TRUE;
        }
      g_queue_push_tail (&data->changes, change);
    }

  g_hash_table_iter_init (&iter, data->wanted);
  while (g_hash_table_iter_next (&iter, &id, &wanted))
    {
      Change *change = g_new0 (Change, 1);

      change->id = g_strdup (id);
      change->body = json_node_ref (wanted);
      g_queue_push_tail (&data->changes, change);
    }
  g_hash_table_remove_all (data->wanted);
}

static void list_documents (GTask *task);

static void
on_created_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  /* Someone else may have made it in the meantime. */
  if (answer == NULL &&
      !g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_PRECONDITION_FAILED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  list_documents (g_steal_pointer (&task));
}

static void
on_listed_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ApplyData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  GCancellable *cancellable;
  JsonArray *rows = NULL;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  if (answer == NULL && g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_FOUND))
    {
      /* No `_replicator` yet: nothing to remove, and it is made for writing. */
      if (g_hash_table_size (data->wanted) == 0 || data->created)
        {
          g_task_return_boolean (task, TRUE);
          return;
        }
      data->created = TRUE;
      cancellable = g_task_get_cancellable (task);
      ps_couch_database_request_async (data->replicator, "PUT", NULL, NULL, NULL,
                                       cancellable, on_created_cb, g_steal_pointer (&task));
      return;
    }
  if (answer == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (JSON_NODE_HOLDS_OBJECT (answer))
    rows = ps_json_get_array (json_node_get_object (answer), "rows");
  if (rows == NULL)
    {
      g_task_return_new_error (task, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                               _("The list of replication documents cannot be read."));
      return;
    }

  plan_changes (data, rows);
  /* The answer holds the passwords of the documents read back. */
  g_clear_pointer (&answer, json_node_unref);
  next_change (g_steal_pointer (&task));
}

static char *
escaped_key (const char *key)
{
  g_autoptr(JsonNode) node = json_node_init_string (json_node_alloc (), key);
  g_autofree char *json = json_to_string (node, FALSE);

  return g_uri_escape_string (json, NULL, FALSE);
}

static void
list_documents (GTask *task)
{
  ApplyData *data = g_task_get_task_data (task);
  g_autofree char *start = g_strconcat (PS_REPLICATOR_DOCUMENT_PREFIX, data->server_id, "-",
                                        NULL);
  g_autofree char *end = g_strconcat (start, "\xef\xbf\xb0", NULL);   /* U+FFF0 */
  g_autofree char *start_key = escaped_key (start);
  g_autofree char *end_key = escaped_key (end);
  g_autofree char *query = g_strdup_printf ("include_docs=true&startkey=%s&endkey=%s",
                                            start_key, end_key);

  ps_couch_database_request_async (data->replicator, "GET", "_all_docs", query, NULL,
                                   g_task_get_cancellable (task), on_listed_cb, task);
}

/**
 * ps_replicator_documents_apply_async:
 * @local: this instance, with its administrator's password: the documents
 *   go into its `_replicator`
 * @server: the remote server, with its user's password
 * @wanted: whether @server should be synced by CouchDB; %FALSE removes its
 *   documents
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Makes @server's replication documents match its settings: one per
 * record database and direction when @wanted, none otherwise. The
 * documents carry both passwords in their `auth` objects.
 */
void
ps_replicator_documents_apply_async (PsServerAccess      *local,
                                     PsServerAccess      *server,
                                     gboolean             wanted,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  PsServer *remote;
  ApplyData *data;

  g_return_if_fail (PS_IS_SERVER_ACCESS (local));
  g_return_if_fail (PS_IS_SERVER_ACCESS (server));

  remote = ps_server_access_get_server (server);
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ps_replicator_documents_apply_async);
  data = g_new0 (ApplyData, 1);
  data->replicator = ps_server_access_open_database (local, "_replicator", &error);
  data->server_id = g_strdup (ps_server_get_id (remote));
  data->wanted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) json_node_unref);
  data->written = g_ptr_array_new_with_free_func (g_free);
  data->removed = g_ptr_array_new_with_free_func (g_free);
  g_queue_init (&data->changes);
  g_task_set_task_data (task, data, (GDestroyNotify) apply_data_free);

  if (data->replicator == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (wanted)
    {
      g_auto(GStrv) databases = ps_server_dup_database_names (remote);
      PsSyncDirection direction = ps_server_get_direction (remote);

      for (guint i = 0; databases[i] != NULL; i++)
        for (PsSyncDirection d = PS_SYNC_DIRECTION_PUSH; d <= PS_SYNC_DIRECTION_PULL; d++)
          {
            if (direction != PS_SYNC_DIRECTION_BOTH && direction != d)
              continue;
            g_hash_table_insert (data->wanted,
                                 ps_replicator_document_id (data->server_id, databases[i], d),
                                 build_document (ps_server_access_get_server (local),
                                                 ps_server_access_get_password (local),
                                                 remote, ps_server_access_get_password (server),
                                                 databases[i], d));
          }
    }

  list_documents (g_steal_pointer (&task));
}

static char **
steal_strv (GPtrArray *array)
{
  g_ptr_array_add (array, NULL);
  return (char **) g_ptr_array_free (array, FALSE);
}

/**
 * ps_replicator_documents_apply_finish:
 * @result: the #GAsyncResult
 * @written: (out) (optional) (transfer full): the ids of the documents written
 * @removed: (out) (optional) (transfer full): the ids of the documents removed
 * @error: return location for a #GError
 *
 * Returns: whether the documents now match the server's settings
 */
gboolean
ps_replicator_documents_apply_finish (GAsyncResult   *result,
                                      char         ***written,
                                      char         ***removed,
                                      GError        **error)
{
  ApplyData *data;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        ps_replicator_documents_apply_async, FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;

  data = g_task_get_task_data (G_TASK (result));
  if (written != NULL)
    *written = steal_strv (g_steal_pointer (&data->written));
  if (removed != NULL)
    *removed = steal_strv (g_steal_pointer (&data->removed));
  return TRUE;
}

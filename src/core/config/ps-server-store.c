/* ps-server-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-server-store"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "ps-secrets.h"
#include "ps-server-store.h"

/**
 * PsServerStore:
 *
 * The configured servers, as a #GListModel of #PsServer, and *this
 * instance*, the local CouchDB they are synced with. They are kept in
 * `servers.json` under the XDG configuration directory, readable only by
 * the user, and never with a password: passwords live in the keyring.
 *
 * Changing a property of a server marks the store dirty and emits
 * #GListModel::items-changed for its position, so bound lists update.
 *
 * The window and the command line may run at once, each with its own
 * store of the same file. So saving locks the folder, reads the file
 * again and applies onto it only what this store changed (servers added,
 * edited or removed, by id), then takes in what the other wrote. How the
 * last sync went is run-time state: it is kept in its own file under the
 * XDG state folder, so recording it never rewrites the settings.
 */
struct _PsServerStore
{
  GObject       parent_instance;

  char         *directory;
  char         *path;
  char         *state_path;
  GPtrArray    *servers;
  PsServer     *local;
  /* What changed here since the last load or save, by server id. */
  GHashTable   *added;
  GHashTable   *edited;
  GHashTable   *removed;
  GHashTable   *state_changed;
  GFileMonitor *monitor;
  guint         dirty : 1;
  guint         merging : 1;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PsServerStore, ps_server_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

G_DEFINE_QUARK (ps-server-store-error-quark, ps_server_store_error)

enum {
  PROP_0,
  PROP_DIRECTORY,
  PROP_LOCAL,
  PROP_DIRTY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

#define FILE_NAME       "servers.json"
#define STATE_FILE_NAME "servers-state.json"
#define FORMAT_VERSION  1

static GType
ps_server_store_get_item_type (GListModel *model)
{
  return PS_TYPE_SERVER;
}

static guint
ps_server_store_get_n_items (GListModel *model)
{
  return PS_SERVER_STORE (model)->servers->len;
}

static gpointer
ps_server_store_get_item (GListModel *model,
                          guint       position)
{
  PsServerStore *self = PS_SERVER_STORE (model);

  if (position >= self->servers->len)
    return NULL;

  return g_object_ref (g_ptr_array_index (self->servers, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = ps_server_store_get_item_type;
  iface->get_n_items = ps_server_store_get_n_items;
  iface->get_item = ps_server_store_get_item;
}

static void
set_dirty (PsServerStore *self,
           gboolean       dirty)
{
  if (self->dirty == (guint) !!dirty)
    return;

  self->dirty = !!dirty;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DIRTY]);
}

static void
on_server_notify_cb (PsServer      *server,
                     GParamSpec    *pspec,
                     PsServerStore *self)
{
  const char *id = ps_server_get_id (server);
  guint position;

  /* Taking in what another program saved is no change of ours. */
  if (!self->merging)
    {
      if (ps_server_property_is_state (pspec))
        g_hash_table_add (self->state_changed, g_strdup (id));
      else
        g_hash_table_add (self->edited, g_strdup (id));
      set_dirty (self, TRUE);
    }

  if (g_ptr_array_find (self->servers, server, &position))
    g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 1);
}

static void
watch_server (PsServerStore *self,
              PsServer      *server)
{
  g_signal_connect (server, "notify", G_CALLBACK (on_server_notify_cb), self);
}

static void
unwatch_server (PsServerStore *self,
                PsServer      *server)
{
  g_signal_handlers_disconnect_by_func (server, on_server_notify_cb, self);
}

static PsServer *
new_local_server (void)
{
  return ps_server_new (_("This instance"), PS_SERVER_DEFAULT_LOCAL_URL);
}

static PsServer *
find_by_id (PsServerStore *self,
            const char    *id)
{
  for (guint i = 0; i < self->servers->len; i++)
    {
      PsServer *server = g_ptr_array_index (self->servers, i);

      if (g_strcmp0 (ps_server_get_id (server), id) == 0)
        return server;
    }

  return NULL;
}

static char *
fold_description (const char *description)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (description != NULL ? description : ""));

  return g_utf8_casefold (trimmed, -1);
}

/**
 * ps_server_store_check_description:
 * @self: a #PsServerStore
 * @description: (nullable): a description for a server
 * @except: (nullable): the server being renamed, which may keep its own
 * @error: return location for a #PsServerStoreError
 *
 * Checks that @description is not empty and that no other server has it,
 * ignoring case and surrounding blanks, so users can tell servers apart.
 *
 * Returns: %TRUE when @description may be used
 */
gboolean
ps_server_store_check_description (PsServerStore  *self,
                                   const char     *description,
                                   PsServer       *except,
                                   GError        **error)
{
  g_autofree char *folded = NULL;

  g_return_val_if_fail (PS_IS_SERVER_STORE (self), FALSE);
  g_return_val_if_fail (except == NULL || PS_IS_SERVER (except), FALSE);

  folded = fold_description (description);
  if (*folded == '\0')
    {
      g_set_error_literal (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_EMPTY_DESCRIPTION,
                           _("Enter a description of the server"));
      return FALSE;
    }

  for (guint i = 0; i <= self->servers->len; i++)
    {
      PsServer *other = i < self->servers->len ? g_ptr_array_index (self->servers, i)
                                                : self->local;
      g_autofree char *other_folded = NULL;

      if (other == except)
        continue;

      other_folded = fold_description (ps_server_get_description (other));
      if (g_strcmp0 (folded, other_folded) == 0)
        {
          g_autofree char *trimmed = g_strstrip (g_strdup (description));

          g_set_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_DUPLICATE,
                       _("There is already a server called “%s”; choose another description"),
                       trimmed);
          return FALSE;
        }
    }

  return TRUE;
}

/**
 * ps_server_store_add:
 * @self: a #PsServerStore
 * @server: a new server
 * @error: return location for a #PsServerStoreError or #PsServerError
 *
 * Adds @server at the end of the list, provided its description is not
 * empty or taken, its id is new and its settings are valid. The store is
 * not saved; call ps_server_store_save().
 *
 * Returns: %TRUE if @server was added
 */
gboolean
ps_server_store_add (PsServerStore  *self,
                     PsServer       *server,
                     GError        **error)
{
  const char *id;

  g_return_val_if_fail (PS_IS_SERVER_STORE (self), FALSE);
  g_return_val_if_fail (PS_IS_SERVER (server), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ps_server_store_check_description (self, ps_server_get_description (server), NULL, error))
    return FALSE;

  id = ps_server_get_id (server);
  if (find_by_id (self, id) != NULL ||
      g_strcmp0 (id, ps_server_get_id (self->local)) == 0)
    {
      g_set_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_DUPLICATE,
                   _("There is already a server with the id “%s”"), id);
      return FALSE;
    }

  if (!ps_server_validate (server, error))
    return FALSE;

  g_ptr_array_add (self->servers, g_object_ref (server));
  watch_server (self, server);
  g_hash_table_remove (self->removed, id);
  g_hash_table_add (self->added, g_strdup (id));
  g_hash_table_add (self->state_changed, g_strdup (id));
  set_dirty (self, TRUE);
  g_list_model_items_changed (G_LIST_MODEL (self), self->servers->len - 1, 0, 1);

  return TRUE;
}

/**
 * ps_server_store_remove:
 * @self: a #PsServerStore
 * @id: the id of a server
 * @error: return location for a #PsServerStoreError
 *
 * Removes a server from the list. Its password stays in the keyring until
 * ps_secrets_clear_async() removes it.
 *
 * Returns: %TRUE if the server was removed
 */
gboolean
ps_server_store_remove (PsServerStore  *self,
                        const char     *id,
                        GError        **error)
{
  g_return_val_if_fail (PS_IS_SERVER_STORE (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  for (guint i = 0; i < self->servers->len; i++)
    {
      PsServer *server = g_ptr_array_index (self->servers, i);

      if (g_strcmp0 (ps_server_get_id (server), id) == 0)
        {
          unwatch_server (self, server);
          g_hash_table_remove (self->added, id);
          g_hash_table_remove (self->edited, id);
          g_hash_table_remove (self->state_changed, id);
          g_hash_table_add (self->removed, g_strdup (id));
          g_ptr_array_remove_index (self->servers, i);
          set_dirty (self, TRUE);
          g_list_model_items_changed (G_LIST_MODEL (self), i, 1, 0);
          return TRUE;
        }
    }

  g_set_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_NOT_FOUND,
               _("There is no server with the id “%s”"), id);
  return FALSE;
}

static void
on_password_cleared_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!ps_secrets_clear_finish (result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * ps_server_store_delete_async:
 * @self: a #PsServerStore
 * @id: the id of a server
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Deletes a server as the user means it: removes it from the list, saves
 * the list, then takes its password out of the keyring. The window and
 * the command line both delete this way.
 */
void
ps_server_store_delete_async (PsServerStore       *self,
                              const char          *id,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (PS_IS_SERVER_STORE (self));
  g_return_if_fail (id != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ps_server_store_delete_async);

  if (!ps_server_store_remove (self, id, &error) || !ps_server_store_save (self, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* Removed and saved: the server is gone even if the keyring fails. */
  g_task_set_task_data (task, GINT_TO_POINTER (TRUE), NULL);
  ps_secrets_clear_async (id, cancellable, on_password_cleared_cb, g_steal_pointer (&task));
}

/**
 * ps_server_store_delete_finish:
 * @self: a #PsServerStore
 * @result: the #GAsyncResult
 * @removed: (out) (optional): whether the server left the list, even when
 *   its password could not be taken out of the keyring
 * @error: return location for a #GError
 *
 * Returns: whether the server and its password are both gone
 */
gboolean
ps_server_store_delete_finish (PsServerStore  *self,
                               GAsyncResult   *result,
                               gboolean       *removed,
                               GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ps_server_store_delete_async,
                        FALSE);

  if (removed != NULL)
    *removed = GPOINTER_TO_INT (g_task_get_task_data (G_TASK (result)));
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * ps_server_store_find:
 * @self: a #PsServerStore
 * @id_or_description: the id of a server, or its description
 * @error: return location for a #PsServerStoreError
 *
 * Finds a server by id, or else by description (ignoring case and
 * surrounding blanks), as a user would name it.
 *
 * Returns: (transfer none) (nullable): the server, or %NULL if none or
 *   several match
 */
PsServer *
ps_server_store_find (PsServerStore  *self,
                      const char     *id_or_description,
                      GError        **error)
{
  g_autofree char *folded = NULL;
  PsServer *found = NULL;

  g_return_val_if_fail (PS_IS_SERVER_STORE (self), NULL);
  g_return_val_if_fail (id_or_description != NULL, NULL);

  found = find_by_id (self, id_or_description);
  if (found != NULL)
    return found;

  folded = fold_description (id_or_description);
  for (guint i = 0; i < self->servers->len; i++)
    {
      PsServer *server = g_ptr_array_index (self->servers, i);
      g_autofree char *server_folded = fold_description (ps_server_get_description (server));

      if (*folded == '\0' || g_strcmp0 (folded, server_folded) != 0)
        continue;

      if (found != NULL)
        {
          g_set_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_AMBIGUOUS,
                       _("Several servers are called “%s”; use the id instead"),
                       id_or_description);
          return NULL;
        }
      found = server;
    }

  if (found == NULL)
    g_set_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_NOT_FOUND,
                 _("There is no server “%s”"), id_or_description);

  return found;
}

/**
 * ps_server_store_lookup:
 * @self: a #PsServerStore
 * @id: the id of a server, or its description when no other server has it
 *
 * Returns: (transfer none) (nullable): the server, or %NULL
 */
PsServer *
ps_server_store_lookup (PsServerStore *self,
                        const char    *id)
{
  g_return_val_if_fail (PS_IS_SERVER_STORE (self), NULL);

  if (id == NULL)
    return NULL;

  return ps_server_store_find (self, id, NULL);
}

/**
 * ps_server_store_get_local:
 * @self: a #PsServerStore
 *
 * Returns: (transfer none): *this instance*, the local CouchDB that the
 *   servers are synced with
 */
PsServer *
ps_server_store_get_local (PsServerStore *self)
{
  g_return_val_if_fail (PS_IS_SERVER_STORE (self), NULL);

  return self->local;
}

/**
 * ps_server_store_get_path:
 * @self: a #PsServerStore
 *
 * Returns: the file the servers are saved in
 */
const char *
ps_server_store_get_path (PsServerStore *self)
{
  g_return_val_if_fail (PS_IS_SERVER_STORE (self), NULL);

  return self->path;
}

/**
 * ps_server_store_get_dirty:
 * @self: a #PsServerStore
 *
 * Returns: whether there are changes that were not saved
 */
gboolean
ps_server_store_get_dirty (PsServerStore *self)
{
  g_return_val_if_fail (PS_IS_SERVER_STORE (self), FALSE);

  return self->dirty;
}

static gboolean
set_invalid_file_error (PsServerStore  *self,
                        GError        **error,
                        const char     *reason)
{
  g_autofree char *display = g_filename_display_name (self->path);

  g_set_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_INVALID_FILE,
               _("The server list %s cannot be read: %s"), display, reason);
  return FALSE;
}

static void
replace_local (PsServerStore *self,
               PsServer      *local)
{
  if (self->local == local)
    return;

  if (self->local != NULL)
    unwatch_server (self, self->local);
  g_set_object (&self->local, local);
  watch_server (self, self->local);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOCAL]);
}

/* Reads servers.json into new objects; a missing file leaves @local NULL
 * and @servers empty.
 */
static gboolean
read_file (PsServerStore  *self,
           PsServer      **local,
           GPtrArray      *servers,
           GError        **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  JsonObject *root;
  JsonNode *node;
  gsize length;

  *local = NULL;

  if (!g_file_get_contents (self->path, &contents, &length, &local_error))
    {
      g_autofree char *display = NULL;

      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;

      display = g_filename_display_name (self->path);
      g_set_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_FAILED,
                   _("The server list %s cannot be read: %s"),
                   display, local_error->message);
      return FALSE;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, contents, length, &local_error))
    return set_invalid_file_error (self, error, local_error->message);

  node = json_parser_get_root (parser);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return set_invalid_file_error (self, error, _("it is not a JSON object"));
  root = json_node_get_object (node);

  node = json_object_get_member (root, "servers");
  if (node != NULL && !JSON_NODE_HOLDS_ARRAY (node))
    return set_invalid_file_error (self, error, _("“servers” is not a list"));

  for (guint i = 0; node != NULL && i < json_array_get_length (json_node_get_array (node)); i++)
    {
      JsonNode *element = json_array_get_element (json_node_get_array (node), i);
      PsServer *server = ps_server_new_from_json (element, &local_error);

      if (server == NULL)
        return set_invalid_file_error (self, error, local_error->message);
      g_ptr_array_add (servers, server);
    }

  node = json_object_get_member (root, "local");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      *local = ps_server_new_from_json (node, &local_error);
      if (*local == NULL)
        return set_invalid_file_error (self, error, local_error->message);
    }

  return TRUE;
}

/* The run-time state file: { "servers": { id: { "last-outcome": …,
 * "last-sync-time": … } } }. It only says how syncs went, so a damaged
 * one is set aside with a warning rather than stopping anything.
 */
static JsonObject *
read_state (PsServerStore *self)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonNode *root;
  JsonNode *servers;

  if (!json_parser_load_from_mapped_file (parser, self->state_path, &error))
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_warning ("The sync state %s is ignored: %s", self->state_path, error->message);
      return json_object_new ();
    }

  root = json_parser_get_root (parser);
  servers = root != NULL && JSON_NODE_HOLDS_OBJECT (root)
    ? json_object_get_member (json_node_get_object (root), "servers")
    : NULL;
  if (servers == NULL || !JSON_NODE_HOLDS_OBJECT (servers))
    {
      g_warning ("The sync state %s is ignored: it is not a state file", self->state_path);
      return json_object_new ();
    }

  return json_object_ref (json_node_get_object (servers));
}

static JsonObject *
state_of (PsServer *server)
{
  JsonObject *state = json_object_new ();

  if (ps_server_get_last_outcome (server) != NULL)
    json_object_set_string_member (state, "last-outcome", ps_server_get_last_outcome (server));
  if (ps_server_get_last_sync_time (server) != 0)
    json_object_set_int_member (state, "last-sync-time", ps_server_get_last_sync_time (server));

  return state;
}

static gboolean
has_state (PsServer *server)
{
  return ps_server_get_last_outcome (server) != NULL || ps_server_get_last_sync_time (server) != 0;
}

static void
apply_state (PsServer   *server,
             JsonObject *state)
{
  JsonNode *outcome = json_object_get_member (state, "last-outcome");
  JsonNode *time = json_object_get_member (state, "last-sync-time");

  ps_server_set_last_outcome (server,
                              outcome != NULL && JSON_NODE_HOLDS_VALUE (outcome) &&
                              json_node_get_value_type (outcome) == G_TYPE_STRING
                              ? json_node_get_string (outcome) : NULL);
  ps_server_set_last_sync_time (server,
                                time != NULL && JSON_NODE_HOLDS_VALUE (time) &&
                                json_node_get_value_type (time) == G_TYPE_INT64
                                ? json_node_get_int (time) : 0);
}

/* The state a server has once this store is saved: its own when it
 * changed here, else what is on disk, else what an old servers.json
 * carried (@from_file), else what it had.
 */
static JsonObject *
merged_state (PsServerStore *self,
              PsServer      *server,
              JsonObject    *on_disk,
              PsServer      *from_file)
{
  const char *id = ps_server_get_id (server);

  if (!g_hash_table_contains (self->state_changed, id))
    {
      JsonNode *node = json_object_get_member (on_disk, id);

      if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
        return json_object_ref (json_node_get_object (node));
      if (from_file != NULL && has_state (from_file))
        return state_of (from_file);
    }

  return state_of (server);
}

static void
clear_changes (PsServerStore *self)
{
  g_hash_table_remove_all (self->added);
  g_hash_table_remove_all (self->edited);
  g_hash_table_remove_all (self->removed);
  g_hash_table_remove_all (self->state_changed);
}

/* Puts @servers in the list in place of the old ones, telling the list's
 * views when anything moved.
 */
static void
replace_servers (PsServerStore *self,
                 GPtrArray     *servers)
{
  g_autoptr(GPtrArray) old_servers = NULL;
  gboolean same = servers->len == self->servers->len;

  for (guint i = 0; same && i < servers->len; i++)
    same = g_ptr_array_index (servers, i) == g_ptr_array_index (self->servers, i);

  for (guint i = 0; i < self->servers->len; i++)
    unwatch_server (self, g_ptr_array_index (self->servers, i));
  for (guint i = 0; i < servers->len; i++)
    watch_server (self, g_ptr_array_index (servers, i));

  old_servers = g_steal_pointer (&self->servers);
  self->servers = g_ptr_array_ref (servers);

  if (!same)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, old_servers->len, self->servers->len);
}

/**
 * ps_server_store_load:
 * @self: a #PsServerStore
 * @error: return location for a #PsServerStoreError
 *
 * Replaces the servers and *this instance* with those saved in the file,
 * with how their last syncs went. A missing file is an empty list. On
 * error, nothing changes.
 *
 * Returns: %TRUE on success
 */
gboolean
ps_server_store_load (PsServerStore  *self,
                      GError        **error)
{
  g_autoptr(GPtrArray) servers = NULL;
  g_autoptr(PsServer) local = NULL;
  g_autoptr(JsonObject) state = NULL;

  g_return_val_if_fail (PS_IS_SERVER_STORE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  servers = g_ptr_array_new_with_free_func (g_object_unref);
  if (!read_file (self, &local, servers, error))
    return FALSE;
  if (local == NULL)
    local = new_local_server ();

  /* A server from an old file keeps the state it carried until the state
   * file has its own.
   */
  state = read_state (self);
  for (guint i = 0; i <= servers->len; i++)
    {
      PsServer *server = i < servers->len ? g_ptr_array_index (servers, i) : local;
      JsonNode *node = json_object_get_member (state, ps_server_get_id (server));

      if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
        apply_state (server, json_node_get_object (node));
    }

  replace_local (self, local);
  replace_servers (self, servers);
  clear_changes (self);
  set_dirty (self, FALSE);

  return TRUE;
}

/* Applies onto the file as it is now what changed here: the result is
 * the list to save and to show.
 */
static GPtrArray *
merge_servers (PsServerStore *self,
               GPtrArray     *on_disk)
{
  GPtrArray *merged = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < on_disk->len; i++)
    {
      PsServer *theirs = g_ptr_array_index (on_disk, i);
      const char *id = ps_server_get_id (theirs);
      PsServer *ours = find_by_id (self, id);

      /* Removed here: it stays removed. */
      if (g_hash_table_contains (self->removed, id))
        continue;

      if (ours == NULL)
        ours = theirs;
      else if (!g_hash_table_contains (self->edited, id) &&
               !g_hash_table_contains (self->added, id))
        ps_server_copy_settings (ours, theirs);

      g_ptr_array_add (merged, g_object_ref (ours));
    }

  /* Added here; a server removed by the other program is not brought
   * back, even when it was edited here.
   */
  for (guint i = 0; i < self->servers->len; i++)
    {
      PsServer *ours = g_ptr_array_index (self->servers, i);

      if (g_hash_table_contains (self->added, ps_server_get_id (ours)) &&
          !g_ptr_array_find (merged, ours, NULL))
        g_ptr_array_add (merged, g_object_ref (ours));
    }

  return merged;
}

static PsServer *
find_in (GPtrArray  *servers,
         const char *id)
{
  for (guint i = 0; i < servers->len; i++)
    if (g_strcmp0 (ps_server_get_id (g_ptr_array_index (servers, i)), id) == 0)
      return g_ptr_array_index (servers, i);

  return NULL;
}

static void
set_save_error (GError     **error,
                gboolean     is_state,
                const char  *display,
                const char  *reason)
{
  if (is_state)
    g_set_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_FAILED,
                 _("The sync state %s cannot be saved: %s"), display, reason);
  else
    g_set_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_FAILED,
                 _("The server list %s cannot be saved: %s"), display, reason);
}

static gboolean
write_json (JsonNode    *root,
            const char  *path,
            gboolean     is_state,
            GError     **error)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *directory = g_path_get_dirname (path);
  g_autofree char *display = g_filename_display_name (path);
  g_autofree char *data = NULL;
  gsize length;

  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  data = json_generator_to_data (generator, &length);

  if (g_mkdir_with_parents (directory, 0700) != 0)
    {
      set_save_error (error, is_state, display, g_strerror (errno));
      return FALSE;
    }

  /* The temporary file is created 0600 before anything is written to it. */
  if (!g_file_set_contents_full (path, data, length,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &local_error))
    {
      set_save_error (error, is_state, display, local_error->message);
      return FALSE;
    }

  return TRUE;
}

static JsonNode *
build_file (PsServerStore *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, FORMAT_VERSION);
  json_builder_set_member_name (builder, "local");
  json_builder_add_value (builder, ps_server_to_json (self->local));
  json_builder_set_member_name (builder, "servers");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->servers->len; i++)
    json_builder_add_value (builder, ps_server_to_json (g_ptr_array_index (self->servers, i)));
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* Takes in what is on disk now, keeping what changed here; @state, when
 * given, receives the state of every server as it is to be saved.
 */
static gboolean
take_in_disk (PsServerStore  *self,
              JsonObject     *state,
              GError        **error)
{
  g_autoptr(GPtrArray) on_disk = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) merged = NULL;
  g_autoptr(PsServer) disk_local = NULL;
  g_autoptr(JsonObject) disk_state = NULL;

  if (!read_file (self, &disk_local, on_disk, error))
    return FALSE;
  disk_state = read_state (self);

  self->merging = TRUE;
  /* A file deleted from under the program is no reason to forget the
   * servers: they are written again as they are.
   */
  if (disk_local == NULL && on_disk->len == 0 && !g_file_test (self->path, G_FILE_TEST_EXISTS))
    {
      merged = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < self->servers->len; i++)
        g_ptr_array_add (merged, g_object_ref (g_ptr_array_index (self->servers, i)));
    }
  else
    {
      merged = merge_servers (self, on_disk);
    }
  if (disk_local != NULL && !g_hash_table_contains (self->edited, ps_server_get_id (self->local)))
    {
      if (g_str_equal (ps_server_get_id (disk_local), ps_server_get_id (self->local)))
        ps_server_copy_settings (self->local, disk_local);
      else
        replace_local (self, disk_local);
    }

  for (guint i = 0; i <= merged->len; i++)
    {
      PsServer *server = i < merged->len ? g_ptr_array_index (merged, i) : self->local;
      const char *id = ps_server_get_id (server);
      PsServer *from_file = server == self->local ? disk_local : find_in (on_disk, id);
      g_autoptr(JsonObject) server_state = merged_state (self, server, disk_state, from_file);

      apply_state (server, server_state);
      if (state != NULL)
        json_object_set_object_member (state, id, g_steal_pointer (&server_state));
    }
  replace_servers (self, merged);
  self->merging = FALSE;

  return TRUE;
}

/* Merges and writes both files; the caller holds the lock. */
static gboolean
save_locked (PsServerStore  *self,
             GError        **error)
{
  g_autoptr(JsonObject) state = json_object_new ();
  g_autoptr(JsonObject) state_root = json_object_new ();
  g_autoptr(JsonNode) state_node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonNode) file = NULL;

  if (!take_in_disk (self, state, error))
    return FALSE;

  /* State first: an old servers.json loses its state when rewritten. */
  json_object_set_int_member (state_root, "version", FORMAT_VERSION);
  json_object_set_object_member (state_root, "servers", g_steal_pointer (&state));
  json_node_set_object (state_node, state_root);
  if (!write_json (state_node, self->state_path, TRUE, error))
    return FALSE;

  file = build_file (self);
  if (!write_json (file, self->path, FALSE, error))
    return FALSE;

  clear_changes (self);
  set_dirty (self, FALSE);

  return TRUE;
}

/**
 * ps_server_store_save:
 * @self: a #PsServerStore
 * @error: return location for a #PsServerStoreError
 *
 * Saves what changed in this store without undoing what another program
 * saved meanwhile: under a lock on the folder, the file is read again,
 * the servers added, edited or removed here are applied onto it, and the
 * store takes in the other changes. Both files are written atomically (a
 * temporary file, synced, then renamed over it), readable only by the
 * user.
 *
 * Returns: %TRUE on success
 */
gboolean
ps_server_store_save (PsServerStore  *self,
                      GError        **error)
{
  g_autofree char *display = NULL;
  gboolean saved;
  int fd;

  g_return_val_if_fail (PS_IS_SERVER_STORE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  display = g_filename_display_name (self->path);

  if (g_mkdir_with_parents (self->directory, 0700) != 0 ||
      (fd = open (self->directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_FAILED,
                   _("The server list %s cannot be saved: %s"),
                   display, g_strerror (saved_errno));
      return FALSE;
    }

  /* The other program holds it only while it writes. */
  while (flock (fd, LOCK_EX) != 0)
    {
      int saved_errno = errno;

      if (saved_errno == EINTR)
        continue;

      close (fd);
      g_set_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_FAILED,
                   _("The server list %s cannot be saved: %s"),
                   display, g_strerror (saved_errno));
      return FALSE;
    }

  saved = save_locked (self, error);
  self->merging = FALSE;

  /* Closing the folder releases the lock. */
  close (fd);

  return saved;
}

static void
on_file_changed_cb (GFileMonitor      *monitor,
                    GFile             *file,
                    GFile             *other_file,
                    GFileMonitorEvent  event,
                    PsServerStore     *self)
{
  g_autoptr(GError) error = NULL;

  /* The file is replaced by a rename, never written in place; a file
   * deleted from under the program is no reason to forget the servers.
   */
  if (event != G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT &&
      event != G_FILE_MONITOR_EVENT_CREATED &&
      event != G_FILE_MONITOR_EVENT_MOVED_IN &&
      event != G_FILE_MONITOR_EVENT_RENAMED)
    return;

  if (!take_in_disk (self, NULL, &error))
    g_warning ("The server list changed on disk but cannot be read: %s", error->message);
}

/**
 * ps_server_store_watch:
 * @self: a #PsServerStore
 *
 * Follows the file from now on: what another program saves shows in the
 * store at once, and changes not saved here yet are kept. For a program
 * that runs for long, such as the window.
 */
void
ps_server_store_watch (PsServerStore *self)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (PS_IS_SERVER_STORE (self));

  if (self->monitor != NULL)
    return;

  file = g_file_new_for_path (self->path);
  self->monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
  if (self->monitor == NULL)
    {
      g_warning ("Changes other programs make to the server list will show after a "
                 "restart: %s", error->message);
      return;
    }

  g_signal_connect (self->monitor, "changed", G_CALLBACK (on_file_changed_cb), self);
}

static void
ps_server_store_constructed (GObject *object)
{
  PsServerStore *self = PS_SERVER_STORE (object);

  G_OBJECT_CLASS (ps_server_store_parent_class)->constructed (object);

  if (self->directory == NULL)
    self->directory = g_build_filename (g_get_user_config_dir (), "primero-sync", NULL);
  self->path = g_build_filename (self->directory, FILE_NAME, NULL);
  self->state_path = g_build_filename (g_get_user_state_dir (), "primero-sync",
                                       STATE_FILE_NAME, NULL);
}

static void
ps_server_store_dispose (GObject *object)
{
  PsServerStore *self = PS_SERVER_STORE (object);

  if (self->servers != NULL)
    {
      for (guint i = 0; i < self->servers->len; i++)
        unwatch_server (self, g_ptr_array_index (self->servers, i));
      g_ptr_array_set_size (self->servers, 0);
    }

  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_func (self->monitor, on_file_changed_cb, self);
      g_file_monitor_cancel (self->monitor);
      g_clear_object (&self->monitor);
    }

  if (self->local != NULL)
    unwatch_server (self, self->local);
  g_clear_object (&self->local);

  G_OBJECT_CLASS (ps_server_store_parent_class)->dispose (object);
}

static void
ps_server_store_finalize (GObject *object)
{
  PsServerStore *self = PS_SERVER_STORE (object);

  g_clear_pointer (&self->servers, g_ptr_array_unref);
  g_clear_pointer (&self->directory, g_free);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->state_path, g_free);
  g_clear_pointer (&self->added, g_hash_table_unref);
  g_clear_pointer (&self->edited, g_hash_table_unref);
  g_clear_pointer (&self->removed, g_hash_table_unref);
  g_clear_pointer (&self->state_changed, g_hash_table_unref);

  G_OBJECT_CLASS (ps_server_store_parent_class)->finalize (object);
}

static void
ps_server_store_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  PsServerStore *self = PS_SERVER_STORE (object);

  switch (prop_id)
    {
    case PROP_DIRECTORY:
      g_value_set_string (value, self->directory);
      break;

    case PROP_LOCAL:
      g_value_set_object (value, self->local);
      break;

    case PROP_DIRTY:
      g_value_set_boolean (value, self->dirty);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_server_store_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  PsServerStore *self = PS_SERVER_STORE (object);

  switch (prop_id)
    {
    case PROP_DIRECTORY:
      self->directory = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_server_store_class_init (PsServerStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = ps_server_store_constructed;
  object_class->dispose = ps_server_store_dispose;
  object_class->finalize = ps_server_store_finalize;
  object_class->get_property = ps_server_store_get_property;
  object_class->set_property = ps_server_store_set_property;

  /**
   * PsServerStore:directory:
   *
   * The folder of `servers.json`; %NULL at construction for
   * `$XDG_CONFIG_HOME/primero-sync`.
   */
  properties[PROP_DIRECTORY] =
    g_param_spec_string ("directory", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * PsServerStore:local:
   *
   * *This instance*; replaced by ps_server_store_load().
   */
  properties[PROP_LOCAL] =
    g_param_spec_object ("local", NULL, NULL,
                         PS_TYPE_SERVER,
                         (G_PARAM_READABLE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_DIRTY] =
    g_param_spec_boolean ("dirty", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE |
                           G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ps_server_store_init (PsServerStore *self)
{
  self->servers = g_ptr_array_new_with_free_func (g_object_unref);
  self->added = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->edited = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->removed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->state_changed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->local = new_local_server ();
  watch_server (self, self->local);
}

/**
 * ps_server_store_new:
 *
 * Returns: (transfer full): an empty store for
 *   `$XDG_CONFIG_HOME/primero-sync/servers.json`; call
 *   ps_server_store_load() to read it
 */
PsServerStore *
ps_server_store_new (void)
{
  return g_object_new (PS_TYPE_SERVER_STORE, NULL);
}

/**
 * ps_server_store_new_for_directory:
 * @directory: the folder to keep `servers.json` in
 *
 * Returns: (transfer full): an empty store for `@directory/servers.json`
 */
PsServerStore *
ps_server_store_new_for_directory (const char *directory)
{
  g_return_val_if_fail (directory != NULL, NULL);

  return g_object_new (PS_TYPE_SERVER_STORE, "directory", directory, NULL);
}

/* ps-server-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-server-store"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <errno.h>

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
 */
struct _PsServerStore
{
  GObject    parent_instance;

  char      *directory;
  char      *path;
  GPtrArray *servers;
  PsServer  *local;
  guint      dirty : 1;
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

#define FILE_NAME      "servers.json"
#define FORMAT_VERSION 1

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
  guint position;

  set_dirty (self, TRUE);

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

/**
 * ps_server_store_load:
 * @self: a #PsServerStore
 * @error: return location for a #PsServerStoreError
 *
 * Replaces the servers and *this instance* with those saved in the file.
 * A missing file is an empty list. On error, nothing changes.
 *
 * Returns: %TRUE on success
 */
gboolean
ps_server_store_load (PsServerStore  *self,
                      GError        **error)
{
  g_autoptr(GPtrArray) servers = NULL;
  g_autoptr(GPtrArray) old_servers = NULL;
  g_autoptr(PsServer) local = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  JsonObject *root;
  JsonNode *node;
  gsize length;

  g_return_val_if_fail (PS_IS_SERVER_STORE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  servers = g_ptr_array_new_with_free_func (g_object_unref);

  if (!g_file_get_contents (self->path, &contents, &length, &local_error))
    {
      if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_autofree char *display = g_filename_display_name (self->path);

          g_set_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_FAILED,
                       _("The server list %s cannot be read: %s"),
                       display, local_error->message);
          return FALSE;
        }
      local = new_local_server ();
    }
  else
    {
      parser = json_parser_new_immutable ();
      if (!json_parser_load_from_data (parser, contents, length, &local_error))
        return set_invalid_file_error (self, error, local_error->message);

      node = json_parser_get_root (parser);
      if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
        return set_invalid_file_error (self, error, _("it is not a JSON object"));
      root = json_node_get_object (node);

      node = json_object_get_member (root, "local");
      if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
        {
          local = ps_server_new_from_json (node, &local_error);
          if (local == NULL)
            return set_invalid_file_error (self, error, local_error->message);
        }
      else
        local = new_local_server ();

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
    }

  replace_local (self, local);

  for (guint i = 0; i < self->servers->len; i++)
    unwatch_server (self, g_ptr_array_index (self->servers, i));
  for (guint i = 0; i < servers->len; i++)
    watch_server (self, g_ptr_array_index (servers, i));

  old_servers = g_steal_pointer (&self->servers);
  self->servers = g_steal_pointer (&servers);
  set_dirty (self, FALSE);

  if (old_servers->len > 0 || self->servers->len > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, old_servers->len, self->servers->len);

  return TRUE;
}

/**
 * ps_server_store_save:
 * @self: a #PsServerStore
 * @error: return location for a #PsServerStoreError
 *
 * Writes the servers and *this instance* to the file atomically (a
 * temporary file, synced, then renamed over it), readable only by the
 * user.
 *
 * Returns: %TRUE on success
 */
gboolean
ps_server_store_save (PsServerStore  *self,
                      GError        **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *data = NULL;
  g_autofree char *display = NULL;
  gsize length;

  g_return_val_if_fail (PS_IS_SERVER_STORE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

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

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  data = json_generator_to_data (generator, &length);

  display = g_filename_display_name (self->path);

  if (g_mkdir_with_parents (self->directory, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_FAILED,
                   _("The server list %s cannot be saved: %s"),
                   display, g_strerror (saved_errno));
      return FALSE;
    }

  /* The temporary file is created 0600 before anything is written to it. */
  if (!g_file_set_contents_full (self->path, data, length,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &local_error))
    {
      g_set_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_FAILED,
                   _("The server list %s cannot be saved: %s"),
                   display, local_error->message);
      return FALSE;
    }

  set_dirty (self, FALSE);

  return TRUE;
}

static void
ps_server_store_constructed (GObject *object)
{
  PsServerStore *self = PS_SERVER_STORE (object);

  G_OBJECT_CLASS (ps_server_store_parent_class)->constructed (object);

  if (self->directory == NULL)
    self->directory = g_build_filename (g_get_user_config_dir (), "primero-sync", NULL);
  self->path = g_build_filename (self->directory, FILE_NAME, NULL);
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

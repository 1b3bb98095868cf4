/* ps-export-state.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Where each peer's last export file ended, per database, so that the next
 * file carries only what changed since, and which file that was, so that
 * the next one can name it. On the receiving side, which files were
 * imported here, per instance that made them, so that an import notices a
 * file of the chain that never arrived. Kept as `exports.json` beside the
 * server list, readable only by its owner: sequences and file ids say
 * nothing about records, but the peer ids are part of the configuration.
 *
 *   { "peers": { "<server id or all>": { "<database>": <source seq> } },
 *     "last_files": { "<server id or all>": { "id": …, "created": … } },
 *     "imported": { "<instance id>": [ "<file id>", … ] } }
 */

#define G_LOG_DOMAIN "ps-export-state"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>

#include "ps-export-state.h"
#include "ps-json.h"

/* Per instance; older ids fall off, as only the last few files matter. */
#define MAX_IMPORTED 200

struct _PsExportState
{
  GObject     parent_instance;

  char       *path;
  JsonObject *peers;
  JsonObject *last_files;
  JsonObject *imported;
};

G_DEFINE_FINAL_TYPE (PsExportState, ps_export_state, G_TYPE_OBJECT)

static void
ps_export_state_finalize (GObject *object)
{
  PsExportState *self = PS_EXPORT_STATE (object);

  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->peers, json_object_unref);
  g_clear_pointer (&self->last_files, json_object_unref);
  g_clear_pointer (&self->imported, json_object_unref);

  G_OBJECT_CLASS (ps_export_state_parent_class)->finalize (object);
}

static void
ps_export_state_class_init (PsExportStateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ps_export_state_finalize;
}

static void
ps_export_state_init (PsExportState *self)
{
  self->peers = json_object_new ();
  self->last_files = json_object_new ();
  self->imported = json_object_new ();
}

/**
 * ps_export_state_new_for_path:
 * @path: the state file, usually `exports.json` beside the server list
 *
 * Returns: (transfer full): an empty state; see ps_export_state_load()
 */
PsExportState *
ps_export_state_new_for_path (const char *path)
{
  PsExportState *self;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (PS_TYPE_EXPORT_STATE, NULL);
  self->path = g_strdup (path);
  return self;
}

/**
 * ps_export_state_new_for_store:
 * @store: the server list
 *
 * Returns: (transfer full): the state kept beside @store's file, loaded;
 *   empty when it cannot be read (the next export then carries everything)
 */
PsExportState *
ps_export_state_new_for_store (PsServerStore *store)
{
  g_autofree char *dir = g_path_get_dirname (ps_server_store_get_path (store));
  g_autofree char *path = g_build_filename (dir, "exports.json", NULL);
  g_autoptr(GError) error = NULL;
  PsExportState *self = ps_export_state_new_for_path (path);

  if (!ps_export_state_load (self, &error))
    g_warning ("%s", error->message);
  return self;
}

const char *
ps_export_state_get_path (PsExportState *self)
{
  g_return_val_if_fail (PS_IS_EXPORT_STATE (self), NULL);
  return self->path;
}

/**
 * ps_export_state_load:
 * @self: a #PsExportState
 * @error: return location for a #GError
 *
 * Reads the file; a missing file is an empty state.
 *
 * Returns: whether the state could be read
 */
gboolean
ps_export_state_load (PsExportState  *self,
                      GError        **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;
  JsonObject *peers;
  JsonObject *last_files;
  JsonObject *imported;

  g_return_val_if_fail (PS_IS_EXPORT_STATE (self), FALSE);

  if (!json_parser_load_from_file (parser, self->path, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The record of past exports (%s) could not be read: %s"),
                   self->path, local_error->message);
      return FALSE;
    }

  root = json_parser_get_root (parser);
  peers = root != NULL && JSON_NODE_HOLDS_OBJECT (root)
          ? ps_json_get_object (json_node_get_object (root), "peers") : NULL;
  if (peers == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The record of past exports (%s) is not valid"), self->path);
      return FALSE;
    }

  g_clear_pointer (&self->peers, json_object_unref);
  self->peers = json_object_ref (peers);
  /* Files written before these were kept know neither. */
  last_files = ps_json_get_object (json_node_get_object (root), "last_files");
  imported = ps_json_get_object (json_node_get_object (root), "imported");
  g_clear_pointer (&self->last_files, json_object_unref);
  self->last_files = last_files != NULL ? json_object_ref (last_files) : json_object_new ();
  g_clear_pointer (&self->imported, json_object_unref);
  self->imported = imported != NULL ? json_object_ref (imported) : json_object_new ();
  return TRUE;
}

/**
 * ps_export_state_save:
 * @self: a #PsExportState
 * @error: return location for a #GError
 *
 * Writes the file atomically, mode 0600.
 *
 * Returns: whether the state was written
 */
gboolean
ps_export_state_save (PsExportState  *self,
                      GError        **error)
{
  g_autoptr(JsonObject) root = json_object_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *text = NULL;

  g_return_val_if_fail (PS_IS_EXPORT_STATE (self), FALSE);

  json_object_set_object_member (root, "peers", json_object_ref (self->peers));
  json_object_set_object_member (root, "last_files", json_object_ref (self->last_files));
  json_object_set_object_member (root, "imported", json_object_ref (self->imported));
  node = json_node_init_object (json_node_alloc (), root);
  text = json_to_string (node, TRUE);

  dir = g_path_get_dirname (self->path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not create %s: %s"), dir, g_strerror (saved));
      return FALSE;
    }

  return g_file_set_contents_full (self->path, text, -1,
                                   G_FILE_SET_CONTENTS_CONSISTENT |
                                   G_FILE_SET_CONTENTS_ONLY_EXISTING,
                                   0600, error);
}

/**
 * ps_export_state_get_since:
 * @self: a #PsExportState
 * @peer: a server id or %PS_EXPORT_STATE_ALL
 * @database: a database name
 *
 * Returns: (transfer none) (nullable): the source sequence the last export
 *   to @peer covered in @database
 */
JsonNode *
ps_export_state_get_since (PsExportState *self,
                           const char    *peer,
                           const char    *database)
{
  JsonObject *databases;

  g_return_val_if_fail (PS_IS_EXPORT_STATE (self), NULL);

  databases = ps_json_get_object (self->peers, peer);
  if (databases == NULL || !json_object_has_member (databases, database))
    return NULL;
  return json_object_get_member (databases, database);
}

/**
 * ps_export_state_set_since:
 * @self: a #PsExportState
 * @peer: a server id or %PS_EXPORT_STATE_ALL
 * @database: a database name
 * @seq: the source sequence an export file covered, opaque
 *
 * Remembers where the export to @peer ended; call it only once the file is
 * complete, then ps_export_state_save().
 */
void
ps_export_state_set_since (PsExportState *self,
                           const char    *peer,
                           const char    *database,
                           JsonNode      *seq)
{
  JsonObject *databases;

  g_return_if_fail (PS_IS_EXPORT_STATE (self));
  g_return_if_fail (seq != NULL);

  databases = ps_json_get_object (self->peers, peer);
  if (databases == NULL)
    {
      databases = json_object_new ();
      json_object_set_object_member (self->peers, peer, databases);
    }
  json_object_set_member (databases, database, json_node_copy (seq));
}

/**
 * ps_export_state_record:
 * @self: a #PsExportState
 * @peer: the server id the file was for, or %PS_EXPORT_STATE_ALL
 * @export: an export that completed
 * @databases: the databases it exported
 *
 * Remembers where each database of a complete file ended, and the file
 * itself for the next one to name; then save.
 */
void
ps_export_state_record (PsExportState  *self,
                        const char     *peer,
                        PsExport       *export,
                        char          **databases)
{
  g_return_if_fail (PS_IS_EXPORT_STATE (self));
  g_return_if_fail (PS_IS_EXPORT (export));

  for (guint i = 0; databases[i] != NULL; i++)
    {
      JsonNode *seq = ps_export_get_last_seq (export, databases[i]);

      if (seq != NULL)
        ps_export_state_set_since (self, peer, databases[i], seq);
    }
  if (ps_export_get_file (export) != NULL)
    json_object_set_object_member (self->last_files, peer,
                                   json_object_ref (ps_export_get_file (export)));
}

/**
 * ps_export_state_get_last_file:
 * @self: a #PsExportState
 * @peer: a server id or %PS_EXPORT_STATE_ALL
 *
 * Returns: (transfer none) (nullable): the last complete file made for
 *   @peer: its `id` and when it was `created`
 */
JsonObject *
ps_export_state_get_last_file (PsExportState *self,
                               const char    *peer)
{
  JsonObject *file;

  g_return_val_if_fail (PS_IS_EXPORT_STATE (self), NULL);

  file = ps_json_get_object (self->last_files, peer);
  return ps_json_get_string (file, "id") != NULL ? file : NULL;
}

/**
 * ps_export_state_add_imported:
 * @self: a #PsExportState
 * @instance: the id of the instance that made the file
 * @file_id: the file's id, from its header
 *
 * Remembers that a file was imported here; then save.
 */
void
ps_export_state_add_imported (PsExportState *self,
                              const char    *instance,
                              const char    *file_id)
{
  JsonArray *files;

  g_return_if_fail (PS_IS_EXPORT_STATE (self));
  g_return_if_fail (instance != NULL && file_id != NULL);

  if (ps_export_state_was_imported (self, instance, file_id))
    return;
  files = ps_json_get_array (self->imported, instance);
  if (files == NULL)
    {
      files = json_array_new ();
      json_object_set_array_member (self->imported, instance, files);
    }
  json_array_add_string_element (files, file_id);
  while (json_array_get_length (files) > MAX_IMPORTED)
    json_array_remove_element (files, 0);
}

/**
 * ps_export_state_was_imported:
 * @self: a #PsExportState
 * @instance: (nullable): the id of the instance that made the file
 * @file_id: the file's id
 *
 * File ids are unique, so a file recorded under another instance id (one
 * set up again) counts as well.
 *
 * Returns: whether that file was imported here
 */
gboolean
ps_export_state_was_imported (PsExportState *self,
                              const char    *instance,
                              const char    *file_id)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;

  g_return_val_if_fail (PS_IS_EXPORT_STATE (self), FALSE);

  json_object_iter_init (&iter, self->imported);
  while (json_object_iter_next (&iter, &name, &node))
    {
      JsonArray *files = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;

      for (guint i = 0; files != NULL && i < json_array_get_length (files); i++)
        {
          if (g_strcmp0 (ps_json_get_string_element (files, i), file_id) == 0)
            return TRUE;
        }
    }
  return FALSE;
}

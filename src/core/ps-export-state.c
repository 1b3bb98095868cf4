/* ps-export-state.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Where each peer's last export file ended, per database, so that the next
 * file carries only what changed since. Kept as `exports.json` beside the
 * server list, readable only by its owner: sequences say nothing about
 * records, but the peer ids are part of the configuration.
 *
 *   { "peers": { "<server id or all>": { "<database>": <source seq> } } }
 */

#define G_LOG_DOMAIN "ps-export-state"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>

#include "ps-export-state.h"
#include "ps-json.h"

struct _PsExportState
{
  GObject     parent_instance;

  char       *path;
  JsonObject *peers;
};

G_DEFINE_FINAL_TYPE (PsExportState, ps_export_state, G_TYPE_OBJECT)

static void
ps_export_state_finalize (GObject *object)
{
  PsExportState *self = PS_EXPORT_STATE (object);

  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->peers, json_object_unref);

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
 * Remembers where each database of a complete file ended; then save.
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
}

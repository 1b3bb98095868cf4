/* ps-server-store.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "ps-server.h"

G_BEGIN_DECLS

#define PS_TYPE_SERVER_STORE  (ps_server_store_get_type ())
#define PS_SERVER_STORE_ERROR (ps_server_store_error_quark ())

G_DECLARE_FINAL_TYPE (PsServerStore, ps_server_store, PS, SERVER_STORE, GObject)

/**
 * PsServerStoreError:
 * @PS_SERVER_STORE_ERROR_FAILED: the file could not be read or written
 * @PS_SERVER_STORE_ERROR_INVALID_FILE: the file is not a valid server list
 * @PS_SERVER_STORE_ERROR_EMPTY_DESCRIPTION: a server needs a description
 * @PS_SERVER_STORE_ERROR_DUPLICATE: another server has this description or id
 * @PS_SERVER_STORE_ERROR_NOT_FOUND: no server has this id or description
 * @PS_SERVER_STORE_ERROR_AMBIGUOUS: several servers match a description
 *
 * Errors from the list of configured servers.
 */
typedef enum
{
  PS_SERVER_STORE_ERROR_FAILED,
  PS_SERVER_STORE_ERROR_INVALID_FILE,
  PS_SERVER_STORE_ERROR_EMPTY_DESCRIPTION,
  PS_SERVER_STORE_ERROR_DUPLICATE,
  PS_SERVER_STORE_ERROR_NOT_FOUND,
  PS_SERVER_STORE_ERROR_AMBIGUOUS,
} PsServerStoreError;

GQuark         ps_server_store_error_quark       (void);
PsServerStore *ps_server_store_new               (void);
PsServerStore *ps_server_store_new_for_directory (const char     *directory);
const char    *ps_server_store_get_path          (PsServerStore  *self);
gboolean       ps_server_store_get_dirty         (PsServerStore  *self);
gboolean       ps_server_store_load              (PsServerStore  *self,
                                                  GError        **error);
gboolean       ps_server_store_save              (PsServerStore  *self,
                                                  GError        **error);
void           ps_server_store_watch             (PsServerStore  *self);
gboolean       ps_server_store_check_description (PsServerStore  *self,
                                                  const char     *description,
                                                  PsServer       *except,
                                                  GError        **error);
gboolean       ps_server_store_add               (PsServerStore  *self,
                                                  PsServer       *server,
                                                  GError        **error);
gboolean       ps_server_store_remove            (PsServerStore  *self,
                                                  const char     *id,
                                                  GError        **error);
void           ps_server_store_delete_async      (PsServerStore  *self,
                                                  const char     *id,
                                                  GCancellable   *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer        user_data);
gboolean       ps_server_store_delete_finish     (PsServerStore  *self,
                                                  GAsyncResult   *result,
                                                  gboolean       *removed,
                                                  GError        **error);
PsServer      *ps_server_store_lookup            (PsServerStore  *self,
                                                  const char     *id);
PsServer      *ps_server_store_find              (PsServerStore  *self,
                                                  const char     *id_or_description,
                                                  GError        **error);
PsServer      *ps_server_store_get_local         (PsServerStore  *self);

G_END_DECLS

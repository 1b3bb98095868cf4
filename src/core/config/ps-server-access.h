/* ps-server-access.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "ps-couch-database.h"
#include "ps-server.h"

G_BEGIN_DECLS

#define PS_TYPE_SERVER_ACCESS (ps_server_access_get_type ())

G_DECLARE_FINAL_TYPE (PsServerAccess, ps_server_access, PS, SERVER_ACCESS, GObject)

void             ps_server_access_new_async        (PsServer             *server,
                                                    SoupSession          *session,
                                                    GCancellable         *cancellable,
                                                    GAsyncReadyCallback   callback,
                                                    gpointer              user_data);
PsServerAccess  *ps_server_access_new_finish       (GAsyncResult         *result,
                                                    GError              **error);
PsServerAccess  *ps_server_access_new              (PsServer             *server,
                                                    SoupSession          *session,
                                                    const char           *password);
PsServerAccess  *ps_server_access_new_for_settings (PsServerAccess       *self,
                                                    PsServer             *settings);
PsServer        *ps_server_access_get_server       (PsServerAccess       *self);
SoupSession     *ps_server_access_get_session      (PsServerAccess       *self);
gboolean         ps_server_access_has_password     (PsServerAccess       *self);
gboolean         ps_server_access_lacks_password   (PsServerAccess       *self);
PsCouchDatabase *ps_server_access_open_database    (PsServerAccess       *self,
                                                    const char           *name,
                                                    GError              **error);
void             ps_server_access_discover_async   (PsServerAccess       *self,
                                                    GCancellable         *cancellable,
                                                    GAsyncReadyCallback   callback,
                                                    gpointer              user_data);

G_END_DECLS

/* ps-export.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "ps-server-access.h"

G_BEGIN_DECLS

#define PS_TYPE_EXPORT (ps_export_get_type ())

G_DECLARE_FINAL_TYPE (PsExport, ps_export, PS, EXPORT, GObject)

PsExport   *ps_export_new          (PsServerAccess       *access,
                                    const char           *peer);
void        ps_export_add_database (PsExport             *self,
                                    const char           *name,
                                    JsonNode             *since);
void        ps_export_run_async    (PsExport             *self,
                                    const char           *path,
                                    const char           *passphrase,
                                    GCancellable         *cancellable,
                                    GAsyncReadyCallback   callback,
                                    gpointer              user_data);
gboolean    ps_export_run_finish   (PsExport             *self,
                                    GAsyncResult         *result,
                                    GError              **error);
void        ps_export_set_follows  (PsExport             *self,
                                    JsonObject           *last_file);
JsonObject *ps_export_get_file     (PsExport             *self);
JsonObject *ps_export_get_summary  (PsExport             *self);
JsonNode   *ps_export_get_last_seq (PsExport             *self,
                                    const char           *database);

G_END_DECLS

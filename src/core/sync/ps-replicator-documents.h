/* ps-replicator-documents.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "ps-couch-database.h"
#include "ps-server-access.h"

G_BEGIN_DECLS

#define PS_REPLICATOR_DOCUMENT_PREFIX "primero-sync-"

char     *ps_replicator_document_id             (const char          *server_id,
                                                 const char          *database,
                                                 PsSyncDirection      direction);
void      ps_replicator_documents_apply_async   (PsServerAccess      *local,
                                                 PsServerAccess      *server,
                                                 gboolean             wanted,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
gboolean  ps_replicator_documents_apply_finish  (GAsyncResult        *result,
                                                 char              ***written,
                                                 char              ***removed,
                                                 GError             **error);

G_END_DECLS

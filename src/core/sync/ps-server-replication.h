/* ps-server-replication.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "ps-couch-database.h"
#include "ps-server.h"

G_BEGIN_DECLS

#define PS_TYPE_SERVER_REPLICATION_STATE  (ps_server_replication_state_get_type ())
#define PS_TYPE_SERVER_REPLICATION_STATUS (ps_server_replication_status_get_type ())

/**
 * PsServerReplicationState:
 * @PS_SERVER_REPLICATION_STATE_UNKNOWN: not read yet, or `_scheduler/docs` unreadable
 * @PS_SERVER_REPLICATION_STATE_PENDING: CouchDB has not started the replication yet
 * @PS_SERVER_REPLICATION_STATE_RUNNING: replicating (or completed)
 * @PS_SERVER_REPLICATION_STATE_CRASHING: failing, and CouchDB retries
 * @PS_SERVER_REPLICATION_STATE_FAILED: failed for good until the document changes
 *
 * How CouchDB's replicator is doing with a server's replication documents,
 * from the best to the worst.
 */
typedef enum
{
  PS_SERVER_REPLICATION_STATE_UNKNOWN,
  PS_SERVER_REPLICATION_STATE_PENDING,
  PS_SERVER_REPLICATION_STATE_RUNNING,
  PS_SERVER_REPLICATION_STATE_CRASHING,
  PS_SERVER_REPLICATION_STATE_FAILED,
} PsServerReplicationState;

G_DECLARE_FINAL_TYPE (PsServerReplicationStatus, ps_server_replication_status,
                      PS, SERVER_REPLICATION_STATUS, GObject)

GType                      ps_server_replication_state_get_type              (void);
const char                *ps_server_replication_state_to_label              (PsServerReplicationState   state);
gboolean                   ps_server_replication_state_is_failing            (PsServerReplicationState   state);
const char                *ps_server_replication_state_to_string             (PsServerReplicationState   state);

PsServerReplicationStatus *ps_server_replication_status_new_from_scheduler   (PsServer                  *server,
                                                                              JsonArray                 *docs);
PsServerReplicationStatus *ps_server_replication_status_new_with_error       (PsServerReplicationState   state,
                                                                              const char                *error);
PsServerReplicationState   ps_server_replication_status_get_state            (PsServerReplicationStatus *self);
const char                *ps_server_replication_status_get_error            (PsServerReplicationStatus *self);
guint64                    ps_server_replication_status_get_docs_written     (PsServerReplicationStatus *self);
guint64                    ps_server_replication_status_get_write_failures   (PsServerReplicationStatus *self);
guint64                    ps_server_replication_status_get_changes_pending  (PsServerReplicationStatus *self);
guint                      ps_server_replication_status_get_n_entries        (PsServerReplicationStatus *self);
const char                *ps_server_replication_status_get_entry_database   (PsServerReplicationStatus *self,
                                                                              guint                      i);
PsSyncDirection            ps_server_replication_status_get_entry_direction  (PsServerReplicationStatus *self,
                                                                              guint                      i);
PsServerReplicationState   ps_server_replication_status_get_entry_state      (PsServerReplicationStatus *self,
                                                                              guint                      i);
guint64                    ps_server_replication_status_get_entry_docs_written     (PsServerReplicationStatus *self,
                                                                                    guint                      i);
guint64                    ps_server_replication_status_get_entry_write_failures   (PsServerReplicationStatus *self,
                                                                                    guint                      i);
guint64                    ps_server_replication_status_get_entry_changes_pending  (PsServerReplicationStatus *self,
                                                                                    guint                      i);
JsonNode                  *ps_server_replication_status_to_json              (PsServerReplicationStatus *self);

void                       ps_server_replication_status_read_all_async       (PsCouchDatabase           *instance,
                                                                              GPtrArray                 *servers,
                                                                              GCancellable              *cancellable,
                                                                              GAsyncReadyCallback        callback,
                                                                              gpointer                   user_data);
GPtrArray                 *ps_server_replication_status_read_all_finish      (GAsyncResult              *result,
                                                                              GError                   **error);

G_END_DECLS

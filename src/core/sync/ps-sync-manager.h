/* ps-sync-manager.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ps-journal.h"
#include "ps-server-replication.h"
#include "ps-server-store.h"
#include "ps-sync-job.h"

G_BEGIN_DECLS

#define PS_TYPE_SYNC_MANAGER (ps_sync_manager_get_type ())

G_DECLARE_FINAL_TYPE (PsSyncManager, ps_sync_manager, PS, SYNC_MANAGER, GObject)

/* One PsSyncJob per configured server, created on first use by
 * ps_sync_manager_get_job() (never NULL for a server of the store).
 *
 * Signals:
 *   "sync-failed" (PsSyncJob *job): a one-shot sync failed, or a continuous
 *       job failed or stalled past its retries; for desktop notifications.
 *   "sync-recovered" (PsSyncJob *job): a job that had failed succeeded.
 *
 * At most #PsSyncManager:max-jobs servers make their first pass at once;
 * the others are queued (%PS_SYNC_STATE_QUEUED) and start as those end.
 * A continuous sync past its first pass, one that waits to retry and one
 * paused on a metered connection do not count: they cost little, and a
 * few unreachable offices must not hold back the rest of a fleet.
 *
 * A server set as on-server is synced by this instance's CouchDB instead,
 * through documents in its `_replicator`; no desktop job runs for it. Its
 * status is read from `_scheduler/docs` every
 * #PsSyncManager:replication-poll-interval milliseconds once the manager
 * runs (ps_sync_manager_start_continuous() or any apply or sync).
 *
 * Each server's last outcome is saved in the server store: a failure or a
 * stall at once, a success at most once per #PsSyncManager:save-interval
 * milliseconds (a continuous sync is up to date again after every
 * change), and not at all when it changed nothing the store keeps. A
 * success still waiting is saved when its job is stopped through the
 * manager and when the manager is disposed.
 *
 * More signals:
 *   "server-replication-changed" (PsServer *server): after each status read.
 *   "server-replication-failed" (PsServer *server, PsServerReplicationStatus
 *       *status): the server's state became crashing or failed.
 *   "server-replication-recovered" (PsServer *server): it is running or
 *       pending again, or no longer on-server.
 */

PsSyncManager *ps_sync_manager_new              (PsServerStore *store,
                                                 SoupSession   *session,
                                                 PsJournal     *journal);
PsSyncJob     *ps_sync_manager_get_job          (PsSyncManager *self,
                                                 const char    *server_id);
void           ps_sync_manager_sync             (PsSyncManager *self,
                                                 const char    *server_id);
void           ps_sync_manager_sync_once        (PsSyncManager *self,
                                                 const char    *server_id);
guint          ps_sync_manager_get_max_jobs     (PsSyncManager *self);
void           ps_sync_manager_set_max_jobs     (PsSyncManager *self,
                                                 guint          max_jobs);
guint          ps_sync_manager_get_n_busy       (PsSyncManager *self);
void           ps_sync_manager_stop             (PsSyncManager *self,
                                                 const char    *server_id);
void           ps_sync_manager_sync_all         (PsSyncManager *self);
void           ps_sync_manager_start_continuous (PsSyncManager *self);

guint          ps_sync_manager_get_replication_poll_interval (PsSyncManager *self);
void           ps_sync_manager_set_replication_poll_interval (PsSyncManager *self,
                                                              guint          interval_ms);
guint          ps_sync_manager_get_save_interval (PsSyncManager *self);
void           ps_sync_manager_set_save_interval (PsSyncManager *self,
                                                  guint          interval_ms);

/* Writes the server's _replicator documents when it is on-server, removes them when not
 * (or when the server was removed from the store): call after saving its settings.
 */
void           ps_sync_manager_apply_server_replication_async  (PsSyncManager        *self,
                                                                PsServer             *server,
                                                                GCancellable         *cancellable,
                                                                GAsyncReadyCallback   callback,
                                                                gpointer              user_data);
gboolean       ps_sync_manager_apply_server_replication_finish (PsSyncManager        *self,
                                                                GAsyncResult         *result,
                                                                GError              **error);
gboolean       ps_sync_manager_apply_server_replication_finish_changes (PsSyncManager  *self,
                                                                GAsyncResult         *result,
                                                                char               ***written,
                                                                char               ***removed,
                                                                GError              **error);
/* The last status read for an on-server server, or NULL. */
PsServerReplicationStatus *ps_sync_manager_get_server_replication (PsSyncManager *self,
                                                                   PsServer      *server);
void           ps_sync_manager_read_server_replication_async  (PsSyncManager        *self,
                                                               PsServer             *server,
                                                               GCancellable         *cancellable,
                                                               GAsyncReadyCallback   callback,
                                                               gpointer              user_data);
PsServerReplicationStatus *ps_sync_manager_read_server_replication_finish (PsSyncManager  *self,
                                                                           GAsyncResult   *result,
                                                                           GError        **error);

G_END_DECLS

/* ps-sync-manager.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ps-journal.h"
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

G_END_DECLS

/* ps-sync-job.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "ps-journal.h"
#include "ps-server.h"

G_BEGIN_DECLS

#define PS_TYPE_SYNC_JOB (ps_sync_job_get_type ())

G_DECLARE_FINAL_TYPE (PsSyncJob, ps_sync_job, PS, SYNC_JOB, GObject)

/**
 * PsSyncState:
 * @PS_SYNC_STATE_IDLE: never run, or stopped
 * @PS_SYNC_STATE_CONNECTING: reading the password, checking both ends
 * @PS_SYNC_STATE_SYNCING: pulling, resolving or pushing (see #PsSyncJob:progress)
 * @PS_SYNC_STATE_UP_TO_DATE: everything is copied (continuous: and following changes)
 * @PS_SYNC_STATE_WAITING_FOR_NETWORK: offline; resumes when the network returns
 * @PS_SYNC_STATE_BACKING_OFF: failed for a transient reason; retries at #PsSyncJob:next-attempt
 * @PS_SYNC_STATE_STALLED: continuous, the checkpoint stopped moving while changes are pending
 * @PS_SYNC_STATE_PAUSED_METERED: continuous, waiting for a connection that costs nothing
 *   (see #PsServer:allow-metered)
 * @PS_SYNC_STATE_FAILED: stopped by an error that needs the user (see #PsSyncJob:error-message)
 * @PS_SYNC_STATE_QUEUED: waiting for other servers' syncs to finish (see
 *   #PsSyncManager:max-jobs)
 */
typedef enum
{
  PS_SYNC_STATE_IDLE,
  PS_SYNC_STATE_CONNECTING,
  PS_SYNC_STATE_SYNCING,
  PS_SYNC_STATE_UP_TO_DATE,
  PS_SYNC_STATE_WAITING_FOR_NETWORK,
  PS_SYNC_STATE_BACKING_OFF,
  PS_SYNC_STATE_STALLED,
  PS_SYNC_STATE_FAILED,
  PS_SYNC_STATE_PAUSED_METERED,
  PS_SYNC_STATE_QUEUED,
} PsSyncState;

#define PS_TYPE_SYNC_STATE (ps_sync_state_get_type ())
GType ps_sync_state_get_type (void);

PsSyncJob    *ps_sync_job_new                (PsServer      *server,
                                              PsServer      *local,
                                              SoupSession   *session,
                                              PsJournal     *journal);
PsServer     *ps_sync_job_get_server         (PsSyncJob     *self);
PsSyncState   ps_sync_job_get_state          (PsSyncJob     *self);
double        ps_sync_job_get_progress       (PsSyncJob     *self);
char         *ps_sync_job_dup_status_text    (PsSyncJob     *self);
const char   *ps_sync_job_get_error_message  (PsSyncJob     *self);
const GError *ps_sync_job_get_error          (PsSyncJob     *self);
gint64        ps_sync_job_get_next_attempt   (PsSyncJob     *self);
GListModel   *ps_sync_job_get_databases      (PsSyncJob     *self);
gboolean      ps_sync_job_get_running        (PsSyncJob     *self);
gboolean      ps_sync_job_get_following      (PsSyncJob     *self);
void          ps_sync_job_queue              (PsSyncJob     *self);
void          ps_sync_job_start              (PsSyncJob     *self,
                                              gboolean       once);
void          ps_sync_job_set_network_monitor (PsSyncJob     *self,
                                              GNetworkMonitor *monitor);
gboolean      ps_sync_job_get_network_metered (PsSyncJob   *self);
gboolean      ps_sync_job_needs_consent      (PsSyncJob     *self,
                                              gboolean       once);
void          ps_sync_job_stop               (PsSyncJob     *self);

G_END_DECLS

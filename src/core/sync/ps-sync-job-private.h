/* ps-sync-job-private.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the parts of a sync job share. The object, its state, starting,
 * stopping and failing live in ps-sync-job.c; the one-shot pass (pull,
 * resolve, push for each database) in ps-sync-pass.c; the continuous
 * links that follow changes afterwards in ps-sync-link.c; the decisions
 * they take (back-off, metered connections, stalls) in ps-sync-policy.c.
 */

#pragma once

#include "ps-bandwidth-limiter.h"
#include "ps-replication.h"
#include "ps-resolver.h"
#include "ps-server-access.h"
#include "ps-sync-database.h"
#include "ps-sync-job.h"

G_BEGIN_DECLS

typedef enum
{
  PS_SYNC_STEP_PULL,
  PS_SYNC_STEP_RESOLVE,
  PS_SYNC_STEP_PUSH,
  PS_SYNC_N_STEPS
} PsSyncStep;

struct _PsSyncJob
{
  GObject             parent_instance;

  PsServer           *server;
  PsServer           *local;
  SoupSession        *session;
  PsJournal          *journal;

  PsSyncState         state;
  double              progress;
  char               *error_message;
  GError             *error;             /* why it failed for good */
  gint64              next_attempt;
  gboolean            running;
  gboolean            once;
  guint               attempts;
  guint               backoff_ms;
  guint               stall_seconds;
  gint64              failing_since;     /* first failure of a pass not yet recovered */

  GCancellable       *cancellable;
  PsServerAccess     *remote_access;     /* each with its password */
  PsServerAccess     *local_access;
  GListStore         *databases;

  /* The one-shot pass (ps-sync-pass.c) */
  guint               db_index;
  PsSyncStep          step;
  gboolean            attachments_pass;  /* deferring: the step's second replication */
  GPtrArray          *written_ids;       /* pulled in the current database */

  /* Continuous (ps-sync-link.c) */
  GPtrArray          *links;             /* PsSyncLink */
  gboolean            following;         /* the links follow changes */
  guint               stall_source;

  guint               retry_source;
  GNetworkMonitor    *monitor;
  gulong              network_handler;
  gulong              metered_handler;
  PsBandwidthLimiter *upload_limiter;    /* shared by the remote's databases */
  PsBandwidthLimiter *download_limiter;
};

typedef struct _PsSyncLink PsSyncLink;

/* ps-sync-job.c */
void            ps_sync_job_set_state          (PsSyncJob       *self,
                                                PsSyncState      state);
void            ps_sync_job_set_progress       (PsSyncJob       *self,
                                                double           progress);
void            ps_sync_job_set_error_message  (PsSyncJob       *self,
                                                const char      *message);
void            ps_sync_job_journal            (PsSyncJob       *self,
                                                const char      *kind,
                                                JsonObject      *entry);
void            ps_sync_job_fail               (PsSyncJob       *self,
                                                const GError    *error);
void            ps_sync_job_handle_error       (PsSyncJob       *self,
                                                const char      *message,
                                                const GError    *error);
void            ps_sync_job_succeed            (PsSyncJob       *self);
void            ps_sync_job_note_in_sync       (PsSyncJob       *self);
void            ps_sync_job_set_following      (PsSyncJob       *self,
                                                gboolean         following);
void            ps_sync_job_announce_stall     (PsSyncJob       *self,
                                                const char      *message);
gboolean        ps_sync_job_network_is_missing (PsSyncJob       *self);
PsReplication  *ps_sync_job_new_replication    (PsSyncJob       *self,
                                                PsSyncDatabase  *database,
                                                gboolean         pull,
                                                GError         **error);
PsResolver     *ps_sync_job_new_resolver       (PsSyncJob       *self,
                                                PsSyncDatabase  *database,
                                                GError         **error);

/* ps-sync-pass.c */
void            ps_sync_pass_begin             (PsSyncJob       *self);

/* ps-sync-link.c */
void            ps_sync_link_detach            (PsSyncLink      *link);
void            ps_sync_links_start            (PsSyncJob       *self);
gboolean        ps_sync_links_check_stall      (gpointer         user_data);

G_END_DECLS

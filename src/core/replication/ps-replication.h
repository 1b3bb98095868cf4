/* ps-replication.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ps-couch-database.h"

G_BEGIN_DECLS

#define PS_TYPE_REPLICATION (ps_replication_get_type ())

G_DECLARE_FINAL_TYPE (PsReplication, ps_replication, PS, REPLICATION, GObject)

/**
 * PsReplicationState:
 * @PS_REPLICATION_STATE_IDLE: not started
 * @PS_REPLICATION_STATE_STARTING: checking both ends and reading checkpoints
 * @PS_REPLICATION_STATE_RUNNING: copying changes
 * @PS_REPLICATION_STATE_WAITING: continuous, caught up, waiting for changes
 * @PS_REPLICATION_STATE_RETRYING: continuous, waiting to retry after a failure
 * @PS_REPLICATION_STATE_COMPLETED: one-shot, everything copied
 * @PS_REPLICATION_STATE_FAILED: stopped by an error
 * @PS_REPLICATION_STATE_CANCELLED: stopped on request
 */
typedef enum
{
  PS_REPLICATION_STATE_IDLE,
  PS_REPLICATION_STATE_STARTING,
  PS_REPLICATION_STATE_RUNNING,
  PS_REPLICATION_STATE_WAITING,
  PS_REPLICATION_STATE_RETRYING,
  PS_REPLICATION_STATE_COMPLETED,
  PS_REPLICATION_STATE_FAILED,
  PS_REPLICATION_STATE_CANCELLED,
} PsReplicationState;

#define PS_TYPE_REPLICATION_STATE (ps_replication_state_get_type ())
GType ps_replication_state_get_type (void);

/**
 * PsWriteFailure:
 * @id: the document id
 * @rev: (nullable): the revision
 * @error: the target's error, e.g. `forbidden`, or `too_large` for a
 *   revision over the document size limit
 * @reason: (nullable): the explanation
 *
 * A document revision that was not copied: the target refused to store it,
 * or it was too large to be read.
 */
typedef struct
{
  char *id;
  char *rev;
  char *error;
  char *reason;
} PsWriteFailure;

PsReplication      *ps_replication_new                 (PsCouchDatabase      *source,
                                                        PsCouchDatabase      *target);
PsCouchDatabase    *ps_replication_get_source          (PsReplication        *self);
PsCouchDatabase    *ps_replication_get_target          (PsReplication        *self);
void                ps_replication_set_continuous      (PsReplication        *self,
                                                        gboolean              continuous);
gboolean            ps_replication_get_continuous      (PsReplication        *self);
void                ps_replication_set_create_target   (PsReplication        *self,
                                                        gboolean              create_target);
void                ps_replication_set_batch_size      (PsReplication        *self,
                                                        guint                 batch_size);
void                ps_replication_set_max_retry_delay (PsReplication        *self,
                                                        guint                 seconds);
void                ps_replication_set_max_attachment_size (PsReplication    *self,
                                                        guint64               bytes);
void                ps_replication_set_defer_attachments (PsReplication      *self,
                                                        gboolean              defer);
void                ps_replication_set_max_document_size (PsReplication      *self,
                                                        gsize                 max_size);
void                ps_replication_set_checkpoint_interval (PsReplication    *self,
                                                        guint                 milliseconds);
PsReplicationState  ps_replication_get_state           (PsReplication        *self);
guint64             ps_replication_get_docs_read       (PsReplication        *self);
guint64             ps_replication_get_docs_written    (PsReplication        *self);
guint64             ps_replication_get_doc_write_failures (PsReplication     *self);
guint64             ps_replication_get_missing_checked (PsReplication        *self);
guint64             ps_replication_get_missing_found   (PsReplication        *self);
gint64              ps_replication_get_pending         (PsReplication        *self);
const char         *ps_replication_get_last_error      (PsReplication        *self);
GPtrArray          *ps_replication_get_write_failures  (PsReplication        *self);
JsonObject         *ps_replication_dup_stats           (PsReplication        *self);
void                ps_replication_run_async           (PsReplication        *self,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
gboolean            ps_replication_run_finish          (PsReplication        *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);

G_END_DECLS

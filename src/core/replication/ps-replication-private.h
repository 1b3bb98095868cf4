/* ps-replication-private.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the parts of a replication share: the object's fields, a batch of
 * changes, the context of a request and the helpers each part calls. The
 * object, the start of a run, the reading of changes and the end of a run
 * live in ps-replication.c; each batch's way to the target in
 * ps-replication-batch.c; the checkpoints in ps-replication-checkpoint.c.
 */

#pragma once

#include "ps-fetched-docs.h"
#include "ps-replication.h"

G_BEGIN_DECLS

struct _PsReplication
{
  GObject             parent_instance;

  PsCouchDatabase    *source;
  PsCouchDatabase    *target;
  gboolean            continuous;
  gboolean            create_target;
  guint               batch_size;
  guint               max_retry_delay;
  guint               checkpoint_interval_ms;
  gsize               max_document_size;

  PsReplicationState  state;
  GTask              *task;
  GCancellable       *run_cancellable;  /* cancelled on failure or retry: drops what is in flight */
  guint               generation;       /* bumped with run_cancellable, to ignore stale callbacks */
  guint               retry_source;
  guint               retry_delay_ms;

  char               *replication_id;
  char               *local_path;
  char               *session_id;
  char               *start_time;
  JsonObject         *source_log;
  JsonObject         *target_log;
  char               *source_log_rev;
  char               *target_log_rev;

  JsonNode           *start_seq;
  JsonNode           *since;            /* where the next changes request reads from */
  JsonNode           *completed_seq;    /* every change up to here is on the target */
  JsonNode           *recorded_seq;     /* what the checkpoint says */
  gint64              last_checkpoint_time;
  gboolean            checkpoint_in_flight;
  guint               start_reads;       /* of the two ends' info and checkpoints, still to come */
  GError             *start_error;       /* a checkpoint read's, reported once the ends are open */
  gboolean            start_error_on_source;
  guint               checkpoint_writes; /* of the two ends' logs, still in flight */
  JsonNode           *checkpoint_seq;    /* what the checkpoint in flight records */
  gboolean            target_commits_at_once;  /* CouchDB 2 or later: no _ensure_full_commit */
  gboolean            target_was_empty;  /* one-shot run into a target that held no document */
  gboolean            target_created;    /* by this run */
  guint               log_conflicts;
  gboolean            changes_in_flight;
  gboolean            caught_up;
  gboolean            announced_caught_up;
  gboolean            bulk_get_unsupported;
  GQueue              batches;

  guint64             docs_read;
  guint64             docs_written;
  guint64             doc_write_failures;
  guint64             missing_checked;
  guint64             missing_found;
  gint64              pending;
  gint64              source_update_seq;
  char               *last_error;
  GPtrArray          *write_failures;
  guint64             max_attachment_size;   /* bytes; 0 = no limit */
  gboolean            defer_attachments;     /* leave every revision with one for later */
  guint64             docs_deferred;
  guint64             attachments_held_back;
  gboolean            checkpoint_held;       /* a change before here was held back */
};

/* Property ids, also for ps_replication_add_to_counter() */
enum {
  PROP_0,
  PROP_STATE,
  PROP_DOCS_READ,
  PROP_DOCS_WRITTEN,
  PROP_DOC_WRITE_FAILURES,
  PROP_MISSING_CHECKED,
  PROP_MISSING_FOUND,
  PROP_PENDING,
  PROP_LAST_ERROR,
  N_PROPS
};

typedef struct _Batch Batch;

struct _Batch
{
  gatomicrefcount ref_count;
  PsReplication *self;
  guint          generation;
  JsonNode      *last_seq;
  JsonObject    *revs;         /* id → array of revs that changed */
  JsonNode      *diff;         /* the answer of _revs_diff */
  PsFetchedDocs *fetched;
  guint          fetches_pending;
  guint          writes_pending;  /* _bulk_docs requests, more once a refused one is split */
  guint          fetch_attempts;
  GError        *fetch_error;
  gboolean       done;
  gboolean       held_back;    /* left a revision out: the checkpoint must stop before it */
  GHashTable    *held_revs;    /* "id\nrev" of revisions not to fetch */
  GHashTable    *accounted;    /* "id\nrev" written, listed, held back or gone from the source */
};

/* Per-request context, so that late answers from a dropped run are ignored. */
typedef struct
{
  PsReplication *self;
  guint          generation;
  gpointer       data;
} Call;

/* ps-replication-batch.c */
Batch *ps_replication_batch_ref (Batch *batch);
void ps_replication_batch_unref (Batch *batch);
void ps_replication_start_batch (Batch *batch);

/* ps-replication-checkpoint.c */
void ps_replication_write_checkpoint (PsReplication *self);

/* ps-replication.c */
void ps_replication_add_to_counter (PsReplication *self,
                                    guint64       *counter,
                                    guint64        amount,
                                    guint          prop);
Call *ps_replication_call_new (PsReplication *self,
                               gpointer       data);
void ps_replication_call_free (Call *call);
gboolean ps_replication_call_is_stale (Call *call);
void ps_replication_emit_documents_written (PsReplication  *self,
                                            char          **ids);
void ps_replication_fail (PsReplication   *self,
                          PsCouchDatabase *database,
                          const char      *step,
                          GError          *error);
void ps_replication_pump (PsReplication *self);
void ps_replication_replace_node (JsonNode **slot,
                                  JsonNode  *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Call, ps_replication_call_free)

G_END_DECLS

/* ps-replication.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One source → target replication with the CouchDB replication protocol.
 *
 * Changes are read in batches; each batch goes through `_revs_diff`,
 * `_bulk_get` (or `?open_revs=` per document where the source lacks it) and
 * `_bulk_docs` with `new_edits: false`. Several batches are in flight at
 * once so that reading, fetching and writing overlap. Batches finish in any
 * order, but the checkpoint only ever records the sequence up to which every
 * batch has been written, so stopping at any point never skips a change.
 *
 * This file holds the object, the start of a run, the reading of changes
 * and the end of a run; each batch's way to the target is in
 * ps-replication-batch.c and the checkpoints in ps-replication-checkpoint.c.
 */

#define G_LOG_DOMAIN "ps-replication"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-checkpoint.h"
#include "ps-json.h"
#include "ps-replication-private.h"

#define DEFAULT_BATCH_SIZE       250
#define MAX_BATCHES_IN_FLIGHT    3
#define DEFAULT_CHECKPOINT_MS    2000
#define HEARTBEAT_MS             10000
#define FIRST_RETRY_DELAY_MS     1000
#define DEFAULT_MAX_RETRY_DELAY  60
/* Primero records with photos weigh a few MB. */
#define DEFAULT_MAX_DOCUMENT_SIZE (16 * 1024 * 1024)

enum {
  DOCUMENTS_WRITTEN,
  CAUGHT_UP,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (PsReplication, ps_replication, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (PsReplicationState, ps_replication_state,
  G_DEFINE_ENUM_VALUE (PS_REPLICATION_STATE_IDLE, "idle"),
  G_DEFINE_ENUM_VALUE (PS_REPLICATION_STATE_STARTING, "starting"),
  G_DEFINE_ENUM_VALUE (PS_REPLICATION_STATE_RUNNING, "running"),
  G_DEFINE_ENUM_VALUE (PS_REPLICATION_STATE_WAITING, "waiting"),
  G_DEFINE_ENUM_VALUE (PS_REPLICATION_STATE_RETRYING, "retrying"),
  G_DEFINE_ENUM_VALUE (PS_REPLICATION_STATE_COMPLETED, "completed"),
  G_DEFINE_ENUM_VALUE (PS_REPLICATION_STATE_FAILED, "failed"),
  G_DEFINE_ENUM_VALUE (PS_REPLICATION_STATE_CANCELLED, "cancelled"))

static void start_run (PsReplication *self);

static void
write_failure_free (PsWriteFailure *failure)
{
  g_free (failure->id);
  g_free (failure->rev);
  g_free (failure->error);
  g_free (failure->reason);
  g_free (failure);
}

void
ps_replication_replace_node (JsonNode **slot,
                             JsonNode  *value)
{
  JsonNode *old = *slot;

  *slot = value != NULL ? json_node_copy (value) : NULL;
  g_clear_pointer (&old, json_node_unref);
}

static gboolean
seq_equal (JsonNode *a,
           JsonNode *b)
{
  if (a == NULL || b == NULL)
    return a == b;

  return json_node_equal (a, b);
}

static void
set_state (PsReplication      *self,
           PsReplicationState  state)
{
  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
ps_replication_add_to_counter (PsReplication *self,
                               guint64       *counter,
                               guint64        amount,
                               guint          prop)
{
  if (amount == 0)
    return;

  *counter += amount;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
update_pending (PsReplication *self,
                gint64         pending)
{
  if (self->pending == pending)
    return;

  self->pending = pending;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING]);
}

void
ps_replication_emit_documents_written (PsReplication  *self,
                                       char          **ids)
{
  g_signal_emit (self, signals[DOCUMENTS_WRITTEN], 0, ids);
}

static void
ps_replication_dispose (GObject *object)
{
  PsReplication *self = (PsReplication *)object;

  g_cancellable_cancel (self->run_cancellable);
  g_clear_handle_id (&self->retry_source, g_source_remove);

  G_OBJECT_CLASS (ps_replication_parent_class)->dispose (object);
}

static void
ps_replication_finalize (GObject *object)
{
  PsReplication *self = (PsReplication *)object;

  g_queue_clear_full (&self->batches, (GDestroyNotify) ps_replication_batch_unref);
  g_clear_object (&self->source);
  g_clear_object (&self->target);
  g_clear_object (&self->run_cancellable);
  g_clear_pointer (&self->replication_id, g_free);
  g_clear_pointer (&self->local_path, g_free);
  g_clear_pointer (&self->session_id, g_free);
  g_clear_pointer (&self->start_time, g_free);
  g_clear_pointer (&self->source_log, json_object_unref);
  g_clear_pointer (&self->target_log, json_object_unref);
  g_clear_pointer (&self->source_log_rev, g_free);
  g_clear_pointer (&self->target_log_rev, g_free);
  g_clear_pointer (&self->start_seq, json_node_unref);
  g_clear_pointer (&self->since, json_node_unref);
  g_clear_pointer (&self->completed_seq, json_node_unref);
  g_clear_pointer (&self->recorded_seq, json_node_unref);
  g_clear_pointer (&self->checkpoint_seq, json_node_unref);
  g_clear_error (&self->start_error);
  g_clear_pointer (&self->last_error, g_free);
  g_clear_pointer (&self->write_failures, g_ptr_array_unref);

  G_OBJECT_CLASS (ps_replication_parent_class)->finalize (object);
}

static void
ps_replication_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  PsReplication *self = PS_REPLICATION (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_DOCS_READ:
      g_value_set_uint64 (value, self->docs_read);
      break;
    case PROP_DOCS_WRITTEN:
      g_value_set_uint64 (value, self->docs_written);
      break;
    case PROP_DOC_WRITE_FAILURES:
      g_value_set_uint64 (value, self->doc_write_failures);
      break;
    case PROP_MISSING_CHECKED:
      g_value_set_uint64 (value, self->missing_checked);
      break;
    case PROP_MISSING_FOUND:
      g_value_set_uint64 (value, self->missing_found);
      break;
    case PROP_PENDING:
      g_value_set_int64 (value, self->pending);
      break;
    case PROP_LAST_ERROR:
      g_value_set_string (value, self->last_error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GParamSpec *
counter_property (const char *name,
                  const char *nick)
{
  return g_param_spec_uint64 (name, nick, NULL, 0, G_MAXUINT64, 0,
                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
}

static void
ps_replication_class_init (PsReplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ps_replication_dispose;
  object_class->finalize = ps_replication_finalize;
  object_class->get_property = ps_replication_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", "State", NULL,
                       PS_TYPE_REPLICATION_STATE, PS_REPLICATION_STATE_IDLE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* The counters carry the names of CouchDB's replication statistics. */
  properties[PROP_DOCS_READ] = counter_property ("docs-read", "Documents read");
  properties[PROP_DOCS_WRITTEN] = counter_property ("docs-written", "Documents written");
  properties[PROP_DOC_WRITE_FAILURES] = counter_property ("doc-write-failures", "Write failures");
  properties[PROP_MISSING_CHECKED] = counter_property ("missing-checked", "Revisions checked");
  properties[PROP_MISSING_FOUND] = counter_property ("missing-found", "Revisions missing");
  properties[PROP_PENDING] =
    g_param_spec_int64 ("pending", "Pending", "Changes left to read, or -1 when unknown",
                        -1, G_MAXINT64, -1,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LAST_ERROR] =
    g_param_spec_string ("last-error", "Last error", NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PsReplication::documents-written:
   * @self: a #PsReplication
   * @ids: (array zero-terminated=1): the ids of the documents just written
   *
   * Emitted after each batch the target stored, so that conflicts among
   * the new revisions can be resolved.
   */
  signals[DOCUMENTS_WRITTEN] =
    g_signal_new ("documents-written", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRV);

  /**
   * PsReplication::caught-up:
   * @self: a #PsReplication
   *
   * Emitted when a continuous replication has copied every change and
   * the checkpoint is written.
   */
  signals[CAUGHT_UP] =
    g_signal_new ("caught-up", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ps_replication_init (PsReplication *self)
{
  self->batch_size = DEFAULT_BATCH_SIZE;
  self->max_retry_delay = DEFAULT_MAX_RETRY_DELAY;
  self->checkpoint_interval_ms = DEFAULT_CHECKPOINT_MS;
  self->max_document_size = DEFAULT_MAX_DOCUMENT_SIZE;
  self->pending = -1;
  self->source_update_seq = -1;
  self->write_failures = g_ptr_array_new_with_free_func ((GDestroyNotify) write_failure_free);
  g_queue_init (&self->batches);
}

/**
 * ps_replication_new:
 * @source: where the changes are read
 * @target: where they are written
 *
 * Returns: (transfer full): a replication, not yet started
 */
PsReplication *
ps_replication_new (PsCouchDatabase *source,
                    PsCouchDatabase *target)
{
  PsReplication *self;

  g_return_val_if_fail (PS_IS_COUCH_DATABASE (source), NULL);
  g_return_val_if_fail (PS_IS_COUCH_DATABASE (target), NULL);

  self = g_object_new (PS_TYPE_REPLICATION, NULL);
  self->source = g_object_ref (source);
  self->target = g_object_ref (target);

  return self;
}

PsCouchDatabase *
ps_replication_get_source (PsReplication *self)
{
  g_return_val_if_fail (PS_IS_REPLICATION (self), NULL);
  return self->source;
}

PsCouchDatabase *
ps_replication_get_target (PsReplication *self)
{
  g_return_val_if_fail (PS_IS_REPLICATION (self), NULL);
  return self->target;
}

/**
 * ps_replication_set_continuous:
 * @self: a #PsReplication
 * @continuous: whether to keep following the source's changes
 *
 * A continuous replication runs until cancelled; it outlives transient
 * failures by retrying with back-off.
 */
void
ps_replication_set_continuous (PsReplication *self,
                               gboolean       continuous)
{
  g_return_if_fail (PS_IS_REPLICATION (self));
  self->continuous = !!continuous;
}

gboolean
ps_replication_get_continuous (PsReplication *self)
{
  g_return_val_if_fail (PS_IS_REPLICATION (self), FALSE);
  return self->continuous;
}

void
ps_replication_set_create_target (PsReplication *self,
                                  gboolean       create_target)
{
  g_return_if_fail (PS_IS_REPLICATION (self));
  self->create_target = !!create_target;
}

void
ps_replication_set_batch_size (PsReplication *self,
                               guint          batch_size)
{
  g_return_if_fail (PS_IS_REPLICATION (self));
  g_return_if_fail (batch_size > 0);
  self->batch_size = batch_size;
}

/**
 * ps_replication_set_max_retry_delay:
 * @self: a #PsReplication
 * @seconds: the longest wait between two attempts of a continuous replication
 */
void
ps_replication_set_max_retry_delay (PsReplication *self,
                                    guint          seconds)
{
  g_return_if_fail (PS_IS_REPLICATION (self));
  self->max_retry_delay = MAX (seconds, 1);
}

/**
 * ps_replication_set_max_attachment_size:
 * @self: a #PsReplication
 * @bytes: the largest attachment to copy; 0 for no limit
 *
 * A revision with a larger attachment is not copied. It is listed among the
 * write failures (error `attachment_too_large`), and the checkpoint does not
 * pass it, so that it is copied by a later run once the limit allows.
 */
void
ps_replication_set_max_attachment_size (PsReplication *self,
                                        guint64        bytes)
{
  g_return_if_fail (PS_IS_REPLICATION (self));

  self->max_attachment_size = bytes;
}

/**
 * ps_replication_set_defer_attachments:
 * @self: a #PsReplication
 * @defer: whether to copy only revisions without attachments
 *
 * The first of two passes that bring record JSON before attachments: every
 * revision with an attachment is left out, unlisted, and the checkpoint
 * stays before the first one left out, so that a second replication without
 * this option copies them. A revision cannot be written with attachment
 * stubs the target lacks, so those records come whole in the second pass.
 */
void
ps_replication_set_defer_attachments (PsReplication *self,
                                      gboolean       defer)
{
  g_return_if_fail (PS_IS_REPLICATION (self));

  self->defer_attachments = !!defer;
}

/**
 * ps_replication_set_checkpoint_interval:
 * @self: a #PsReplication
 * @milliseconds: the least time between two checkpoints while copying;
 *   0 saves one after every batch
 *
 * A checkpoint is always saved when the replication catches up.
 */
void
ps_replication_set_checkpoint_interval (PsReplication *self,
                                        guint          milliseconds)
{
  g_return_if_fail (PS_IS_REPLICATION (self));
  self->checkpoint_interval_ms = milliseconds;
}

/**
 * ps_replication_set_max_document_size:
 * @self: a #PsReplication
 * @max_size: the largest document revision copied, in bytes (16 MiB by
 *   default)
 *
 * A larger revision is not copied; it is listed among the write failures
 * with the error `too_large`, and the rest of the replication goes on.
 * Answers as a whole are bounded by the databases'
 * ps_couch_database_set_max_response_size().
 */
void
ps_replication_set_max_document_size (PsReplication *self,
                                      gsize          max_size)
{
  g_return_if_fail (PS_IS_REPLICATION (self));
  g_return_if_fail (max_size > 0);
  self->max_document_size = max_size;
}

PsReplicationState
ps_replication_get_state (PsReplication *self)
{
  g_return_val_if_fail (PS_IS_REPLICATION (self), PS_REPLICATION_STATE_IDLE);
  return self->state;
}

guint64
ps_replication_get_docs_read (PsReplication *self)
{
  g_return_val_if_fail (PS_IS_REPLICATION (self), 0);
  return self->docs_read;
}

guint64
ps_replication_get_docs_written (PsReplication *self)
{
  g_return_val_if_fail (PS_IS_REPLICATION (self), 0);
  return self->docs_written;
}

guint64
ps_replication_get_doc_write_failures (PsReplication *self)
{
  g_return_val_if_fail (PS_IS_REPLICATION (self), 0);
  return self->doc_write_failures;
}

guint64
ps_replication_get_missing_checked (PsReplication *self)
{
  g_return_val_if_fail (PS_IS_REPLICATION (self), 0);
  return self->missing_checked;
}

guint64
ps_replication_get_missing_found (PsReplication *self)
{
  g_return_val_if_fail (PS_IS_REPLICATION (self), 0);
  return self->missing_found;
}

/**
 * ps_replication_get_pending:
 * @self: a #PsReplication
 *
 * Returns: how many changes the source still has to send, or -1 when unknown
 */
gint64
ps_replication_get_pending (PsReplication *self)
{
  g_return_val_if_fail (PS_IS_REPLICATION (self), -1);
  return self->pending;
}

/**
 * ps_replication_get_last_error:
 * @self: a #PsReplication
 *
 * Returns: (nullable): the last failure in plain words, also while a
 *   continuous replication retries
 */
const char *
ps_replication_get_last_error (PsReplication *self)
{
  g_return_val_if_fail (PS_IS_REPLICATION (self), NULL);
  return self->last_error;
}

/**
 * ps_replication_get_write_failures:
 * @self: a #PsReplication
 *
 * Returns: (transfer none) (element-type PsWriteFailure): the revisions the
 *   target refused, e.g. by a validation function
 */
GPtrArray *
ps_replication_get_write_failures (PsReplication *self)
{
  g_return_val_if_fail (PS_IS_REPLICATION (self), NULL);
  return self->write_failures;
}

/**
 * ps_replication_dup_stats:
 * @self: a #PsReplication
 *
 * Returns: (transfer full): the statistics under CouchDB's names
 */
JsonObject *
ps_replication_dup_stats (PsReplication *self)
{
  JsonObject *stats = json_object_new ();

  json_object_set_int_member (stats, "docs_read", self->docs_read);
  json_object_set_int_member (stats, "docs_written", self->docs_written);
  json_object_set_int_member (stats, "doc_write_failures", self->doc_write_failures);
  json_object_set_int_member (stats, "attachments_held_back", self->attachments_held_back);
  json_object_set_int_member (stats, "docs_deferred", self->docs_deferred);
  json_object_set_int_member (stats, "missing_checked", self->missing_checked);
  json_object_set_int_member (stats, "missing_found", self->missing_found);

  return stats;
}

/* Finishing */

static void
complete (PsReplication *self,
          GError        *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  g_cancellable_cancel (self->run_cancellable);
  g_clear_handle_id (&self->retry_source, g_source_remove);

  if (task == NULL)
    {
      g_clear_error (&error);
      return;
    }

  if (error == NULL)
    {
      set_state (self, PS_REPLICATION_STATE_COMPLETED);
      g_task_return_boolean (task, TRUE);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      set_state (self, PS_REPLICATION_STATE_CANCELLED);
      g_task_return_error (task, error);
    }
  else
    {
      set_state (self, PS_REPLICATION_STATE_FAILED);
      g_task_return_error (task, error);
    }
}

static void
set_last_error (PsReplication *self,
                const char    *message)
{
  if (g_strcmp0 (self->last_error, message) == 0)
    return;

  g_free (self->last_error);
  self->last_error = g_strdup (message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ERROR]);
}

static gboolean
on_retry_timeout_cb (gpointer user_data)
{
  PsReplication *self = user_data;

  self->retry_source = 0;
  start_run (self);
  return G_SOURCE_REMOVE;
}

/* Every failure of a run ends here. @step names what was being done, with
 * the database's URL shown without its password.
 */
void
ps_replication_fail (PsReplication   *self,
                     PsCouchDatabase *database,
                     const char      *step,
                     GError          *error)
{
  g_autofree char *url = NULL;
  g_autofree char *message = NULL;
  GError *described;

  if (self->task == NULL)
    {
      g_error_free (error);
      return;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Only the caller's cancellable ends the replication; our own
       * run_cancellable is cancelled for retries and is ignored here.
       */
      if (g_cancellable_is_cancelled (g_task_get_cancellable (self->task)))
        complete (self, error);
      else
        g_error_free (error);
      return;
    }

  url = ps_couch_database_dup_display_url (database);
  message = g_strdup_printf ("%s %s: %s", step, url, error->message);
  set_last_error (self, message);

  if (self->continuous && ps_couch_error_is_transient (error))
    {
      /* Drop what is in flight and start again from what is known to be
       * written, after a growing pause.
       */
      g_cancellable_cancel (self->run_cancellable);
      g_clear_object (&self->run_cancellable);
      self->generation++;
      g_queue_clear_full (&self->batches, (GDestroyNotify) ps_replication_batch_unref);
      self->changes_in_flight = FALSE;
      self->checkpoint_in_flight = FALSE;

      self->retry_delay_ms = self->retry_delay_ms == 0
        ? FIRST_RETRY_DELAY_MS
        : MIN (self->retry_delay_ms * 2, self->max_retry_delay * 1000);
      g_debug ("%s; retrying in %u ms", message, self->retry_delay_ms);
      set_state (self, PS_REPLICATION_STATE_RETRYING);
      g_clear_handle_id (&self->retry_source, g_source_remove);
      self->retry_source = g_timeout_add (self->retry_delay_ms, on_retry_timeout_cb, self);
      g_error_free (error);
      return;
    }

  described = g_error_new_literal (error->domain, error->code, message);
  g_error_free (error);
  complete (self, described);
}

Call *
ps_replication_call_new (PsReplication *self,
                         gpointer       data)
{
  Call *call = g_new0 (Call, 1);

  call->self = g_object_ref (self);
  call->generation = self->generation;
  call->data = data;
  return call;
}

void
ps_replication_call_free (Call *call)
{
  g_clear_object (&call->self);
  g_free (call);
}

gboolean
ps_replication_call_is_stale (Call *call)
{
  return call->self->task == NULL || call->generation != call->self->generation;
}

/* Changes */

static Batch *
batch_from_changes (PsReplication *self,
                    JsonArray     *results)
{
  Batch *batch = g_new0 (Batch, 1);
  guint64 checked = 0;

  g_atomic_ref_count_init (&batch->ref_count);
  batch->self = g_object_ref (self);
  batch->generation = self->generation;
  batch->revs = json_object_new ();

  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonObject *row = ps_json_get_object_element (results, i);
      const char *id;
      JsonArray *changes;
      JsonArray *revs;

      if (row == NULL)
        continue;
      id = ps_json_get_string (row, "id");
      changes = ps_json_get_array (row, "changes");
      if (id == NULL || changes == NULL)
        continue;

      revs = json_object_has_member (batch->revs, id)
        ? json_object_get_array_member (batch->revs, id)
        : NULL;
      if (revs == NULL)
        {
          revs = json_array_new ();
          json_object_set_array_member (batch->revs, id, revs);
        }

      for (guint j = 0; j < json_array_get_length (changes); j++)
        {
          JsonObject *change = ps_json_get_object_element (changes, j);
          const char *rev = change != NULL
            ? ps_json_get_string (change, "rev")
            : NULL;

          if (rev == NULL)
            continue;
          json_array_add_string_element (revs, rev);
          checked++;
        }
    }

  ps_replication_add_to_counter (self, &self->missing_checked, checked, PROP_MISSING_CHECKED);
  return batch;
}

static void
estimate_pending (PsReplication *self,
                  JsonObject    *answer)
{
  JsonNode *pending = json_object_get_member (answer, "pending");

  if (pending != NULL && JSON_NODE_HOLDS_VALUE (pending) &&
      json_node_get_value_type (pending) == G_TYPE_INT64)
    update_pending (self, json_node_get_int (pending));
  else if (self->source_update_seq >= 0 && self->since != NULL &&
           JSON_NODE_HOLDS_VALUE (self->since) &&
           json_node_get_value_type (self->since) == G_TYPE_INT64)
    update_pending (self, MAX (0, self->source_update_seq - json_node_get_int (self->since)));
}

static void
on_changes_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  PsReplication *self = call->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  JsonObject *object_answer;
  JsonArray *results;
  JsonNode *last_seq;
  Batch *batch;

  /* Ids stay whole, NULs and all: see ps_couch_parse_json_keeping_ids(). */
  answer = ps_couch_database_request_keeping_ids_finish (PS_COUCH_DATABASE (object), result,
                                                         &error);
  if (ps_replication_call_is_stale (call))
    return;

  self->changes_in_flight = FALSE;
  if (answer == NULL)
    {
      ps_replication_fail (self, self->source, _("Reading changes from"), g_steal_pointer (&error));
      return;
    }

  object_answer = JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;
  results = object_answer != NULL
    ? ps_json_get_array (object_answer, "results")
    : NULL;
  last_seq = object_answer != NULL ? json_object_get_member (object_answer, "last_seq") : NULL;
  if (results == NULL || last_seq == NULL)
    {
      ps_replication_fail (self, self->source, _("Reading changes from"),
                           g_error_new_literal (PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                                                _("the list of changes is not in "
                                                  "CouchDB’s format")));
      return;
    }

  self->caught_up = json_array_get_length (results) < self->batch_size;
  if (json_array_get_length (results) > 0)
    {
      self->announced_caught_up = FALSE;
      set_state (self, PS_REPLICATION_STATE_RUNNING);
    }

  if (json_array_get_length (results) > 0 || !seq_equal (last_seq, self->since))
    {
      batch = batch_from_changes (self, results);
      batch->last_seq = json_node_copy (last_seq);
      ps_replication_replace_node (&self->since, last_seq);
      g_queue_push_tail (&self->batches, batch);
      ps_replication_start_batch (batch);
    }

  estimate_pending (self, object_answer);
  ps_replication_pump (self);
}

/* seq_interval: only the last sequence is read, and CouchDB 2 and later
 * spare the cost of encoding one for every row; older servers and
 * pouchdb-server ignore it.
 */
static void
read_changes (PsReplication *self)
{
  g_autofree char *since = ps_checkpoint_seq_to_query (self->since);
  g_autofree char *query = NULL;

  if (self->continuous && self->caught_up)
    {
      /* Wait on the server for the next change; the heartbeat keeps the
       * connection visibly alive, so a dead link is noticed by the
       * session's I/O timeout.
       */
      query = g_strdup_printf ("style=all_docs&since=%s&limit=%u&seq_interval=%u"
                               "&feed=longpoll&heartbeat=%u",
                               since, self->batch_size, self->batch_size, HEARTBEAT_MS);
      set_state (self, PS_REPLICATION_STATE_WAITING);
    }
  else
    query = g_strdup_printf ("style=all_docs&since=%s&limit=%u&seq_interval=%u",
                             since, self->batch_size, self->batch_size);

  self->changes_in_flight = TRUE;
  ps_couch_database_request_keeping_ids_async (self->source, "GET", "_changes", query, NULL,
                                               self->run_cancellable, on_changes_cb,
                                               ps_replication_call_new (self, NULL));
}

/* Keeps every stage busy: reads changes while batches are in flight, writes
 * checkpoints, and finishes a one-shot replication once all is written.
 */
void
ps_replication_pump (PsReplication *self)
{
  gboolean idle;

  if (self->task == NULL || self->state == PS_REPLICATION_STATE_RETRYING)
    return;

  if (!self->changes_in_flight && g_queue_get_length (&self->batches) < MAX_BATCHES_IN_FLIGHT &&
      (self->continuous || !self->caught_up))
    {
      /* In continuous mode, wait for the last batches before long-polling,
       * so the checkpoint can catch up meanwhile.
       */
      if (!(self->continuous && self->caught_up && !g_queue_is_empty (&self->batches)))
        {
          if (!self->caught_up)
            set_state (self, PS_REPLICATION_STATE_RUNNING);
          read_changes (self);
        }
    }

  if (self->checkpoint_in_flight)
    return;

  idle = self->caught_up && g_queue_is_empty (&self->batches);
  if (self->completed_seq != NULL && !seq_equal (self->completed_seq, self->recorded_seq) &&
      (idle || g_get_monotonic_time () - self->last_checkpoint_time >=
         (gint64) self->checkpoint_interval_ms * 1000))
    {
      ps_replication_write_checkpoint (self);
      return;
    }

  if (idle && !self->changes_in_flight && !self->continuous)
    {
      update_pending (self, 0);
      complete (self, NULL);
      return;
    }

  if (idle && self->continuous && !self->announced_caught_up)
    {
      self->announced_caught_up = TRUE;
      update_pending (self, 0);
      g_signal_emit (self, signals[CAUGHT_UP], 0);
    }
}

/* Starting */

static JsonObject *
log_from_answer (JsonNode  *answer,
                 char     **rev)
{
  JsonObject *object;

  g_clear_pointer (rev, g_free);
  if (answer == NULL || !JSON_NODE_HOLDS_OBJECT (answer))
    return NULL;

  object = json_node_get_object (answer);
  *rev = g_strdup (ps_json_get_string (object, "_rev"));
  return json_object_ref (object);
}

static void
begin_reading (PsReplication *self)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  g_clear_pointer (&self->start_seq, json_node_unref);
  self->start_seq = ps_checkpoint_find_start_seq (self->source_log, self->target_log);
  ps_replication_replace_node (&self->since, self->start_seq);
  ps_replication_replace_node (&self->completed_seq, self->start_seq);
  self->checkpoint_held = FALSE;
  ps_replication_replace_node (&self->recorded_seq, self->start_seq);

  g_free (self->start_time);
  self->start_time = g_date_time_format_iso8601 (now);
  self->caught_up = FALSE;
  self->announced_caught_up = FALSE;
  self->last_checkpoint_time = g_get_monotonic_time ();

  set_state (self, PS_REPLICATION_STATE_RUNNING);
  ps_replication_pump (self);
}

/* The two ends' info and checkpoints are read at once: a run with nothing
 * to do is mostly these round trips.
 */
static void
start_read_done (PsReplication *self)
{
  g_assert (self->start_reads > 0);
  if (--self->start_reads > 0)
    return;

  /* Both ends are open: a checkpoint that could not be read is the error. */
  if (self->start_error != NULL)
    {
      GError *error = g_steal_pointer (&self->start_error);

      ps_replication_fail (self, self->start_error_on_source ? self->source : self->target,
                           _("Reading the replication checkpoint from"), error);
      return;
    }

  begin_reading (self);
}

static void
keep_start_error (PsReplication *self,
                  GError        *error,
                  gboolean       on_source)
{
  if (self->start_error != NULL)
    {
      g_error_free (error);
      return;
    }

  self->start_error = error;
  self->start_error_on_source = on_source;
}

static void
on_target_log_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  PsReplication *self = call->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  if (ps_replication_call_is_stale (call))
    return;

  /* Not found: no checkpoint yet, or no database yet (it is created). */
  if (answer == NULL && !g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_FOUND))
    keep_start_error (self, g_steal_pointer (&error), FALSE);

  g_clear_pointer (&self->target_log, json_object_unref);
  self->target_log = log_from_answer (answer, &self->target_log_rev);
  start_read_done (self);
}

static void
on_source_log_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  PsReplication *self = call->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  if (ps_replication_call_is_stale (call))
    return;

  if (answer == NULL && !g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_FOUND) &&
      !g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_UNAUTHORIZED) &&
      !g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_FORBIDDEN))
    keep_start_error (self, g_steal_pointer (&error), TRUE);

  g_clear_pointer (&self->source_log, json_object_unref);
  self->source_log = log_from_answer (answer, &self->source_log_rev);
  start_read_done (self);
}

static gboolean
is_database_info (JsonNode *answer)
{
  return answer != NULL && JSON_NODE_HOLDS_OBJECT (answer) &&
         json_object_has_member (json_node_get_object (answer), "db_name");
}

static void on_target_info_cb (GObject      *object,
                               GAsyncResult *result,
                               gpointer      user_data);

static void
on_target_created_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  if (ps_replication_call_is_stale (call))
    return;

  /* 412: someone else created it meanwhile, which is just as good. */
  if (answer == NULL && !g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_PRECONDITION_FAILED))
    {
      ps_replication_fail (call->self, call->self->target, _("Creating the database"),
                           g_steal_pointer (&error));
      return;
    }

  /* Read again: what the new database is tells how to write to it. */
  call->self->target_created = TRUE;
  ps_couch_database_request_async (call->self->target, "GET", NULL, NULL, NULL,
                                   call->self->run_cancellable, on_target_info_cb,
                                   ps_replication_call_new (call->self, NULL));
}

static void
on_target_info_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  PsReplication *self = call->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  if (ps_replication_call_is_stale (call))
    return;

  if (g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_FOUND))
    {
      if (self->create_target && !self->target_created)
        {
          ps_couch_database_request_async (self->target, "PUT", NULL, NULL, NULL,
                                           self->run_cancellable, on_target_created_cb,
                                           ps_replication_call_new (self, NULL));
          return;
        }
      ps_replication_fail (self, self->target, _("Opening the target database"),
                           g_error_new_literal (PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_FOUND,
                                                _("the database does not exist; create it, "
                                                  "or allow creating it")));
      return;
    }

  if (answer == NULL)
    {
      ps_replication_fail (self, self->target, _("Opening the target database"),
                           g_steal_pointer (&error));
      return;
    }
  if (!is_database_info (answer))
    {
      ps_replication_fail (self, self->target, _("Opening the target database"),
                           g_error_new_literal (PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_COUCHDB,
                                                _("the server did not answer as CouchDB does")));
      return;
    }

  /* Only a clustered CouchDB (2.0 on) names its cluster; it commits every
   * write before answering, so _ensure_full_commit would be a wasted round
   * trip. CouchDB 1.x may delay commits.
   */
  self->target_commits_at_once =
    ps_json_get_object (json_node_get_object (answer), "cluster") != NULL;

  /* A first copy into an empty database: every revision is missing there,
   * so asking _revs_diff would only cost the server work. A one-shot run
   * only: a continuous one outlives that emptiness. A writer meanwhile is
   * harmless, as writing a revision the target holds changes nothing.
   */
  self->target_was_empty = !self->continuous &&
    ps_json_get_int (json_node_get_object (answer), "doc_count", -1) == 0 &&
    ps_json_get_int (json_node_get_object (answer), "doc_del_count", -1) == 0;

  start_read_done (self);
}

static void
on_source_info_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  PsReplication *self = call->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;
  JsonNode *update_seq;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  if (ps_replication_call_is_stale (call))
    return;

  if (g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_FOUND))
    {
      ps_replication_fail (self, self->source, _("Opening the source database"),
                           g_error_new_literal (PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_FOUND,
                                                _("the database does not exist")));
      return;
    }
  if (answer == NULL)
    {
      ps_replication_fail (self, self->source, _("Opening the source database"),
                           g_steal_pointer (&error));
      return;
    }
  if (!is_database_info (answer))
    {
      ps_replication_fail (self, self->source, _("Opening the source database"),
                           g_error_new_literal (PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_COUCHDB,
                                                _("the server did not answer as CouchDB does")));
      return;
    }

  update_seq = json_object_get_member (json_node_get_object (answer), "update_seq");
  if (update_seq != NULL && JSON_NODE_HOLDS_VALUE (update_seq) &&
      json_node_get_value_type (update_seq) == G_TYPE_INT64)
    self->source_update_seq = json_node_get_int (update_seq);

  start_read_done (self);
}

static void
start_run (PsReplication *self)
{
  g_clear_object (&self->run_cancellable);
  self->run_cancellable = g_cancellable_new ();
  self->generation++;
  self->changes_in_flight = FALSE;
  self->checkpoint_in_flight = FALSE;
  self->target_was_empty = FALSE;
  self->target_created = FALSE;
  g_clear_error (&self->start_error);
  g_queue_clear_full (&self->batches, (GDestroyNotify) ps_replication_batch_unref);

  set_state (self, PS_REPLICATION_STATE_STARTING);
  self->start_reads = 4;
  ps_couch_database_request_async (self->source, "GET", NULL, NULL, NULL,
                                   self->run_cancellable, on_source_info_cb,
                                   ps_replication_call_new (self, NULL));
  ps_couch_database_request_async (self->target, "GET", NULL, NULL, NULL,
                                   self->run_cancellable, on_target_info_cb,
                                   ps_replication_call_new (self, NULL));
  ps_couch_database_request_async (self->source, "GET", self->local_path, NULL, NULL,
                                   self->run_cancellable, on_source_log_cb,
                                   ps_replication_call_new (self, NULL));
  ps_couch_database_request_async (self->target, "GET", self->local_path, NULL, NULL,
                                   self->run_cancellable, on_target_log_cb,
                                   ps_replication_call_new (self, NULL));
}

static gboolean
on_cancel_idle_cb (gpointer user_data)
{
  PsReplication *self = user_data;

  if (self->task != NULL && self->state == PS_REPLICATION_STATE_RETRYING)
    complete (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                         _("The replication was stopped")));
  return G_SOURCE_REMOVE;
}

static void
on_outer_cancelled_cb (GCancellable *cancellable,
                       gpointer      user_data)
{
  PsReplication *self = user_data;

  g_cancellable_cancel (self->run_cancellable);
  /* While waiting to retry nothing is in flight to report the
   * cancellation, so report it directly.
   */
  g_idle_add_full (G_PRIORITY_DEFAULT, on_cancel_idle_cb, g_object_ref (self), g_object_unref);
}

/**
 * ps_replication_run_async:
 * @self: a #PsReplication
 * @cancellable: (nullable): stops the replication; the checkpoint never
 *   gets ahead of what was written
 * @callback: called when a one-shot replication completed, or when any
 *   replication failed or was cancelled
 * @user_data: data for @callback
 */
void
ps_replication_run_async (PsReplication       *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autofree char *source_identity = NULL;
  g_autofree char *target_identity = NULL;

  g_return_if_fail (PS_IS_REPLICATION (self));
  g_return_if_fail (self->task == NULL);

  self->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (self->task, ps_replication_run_async);
  if (cancellable != NULL)
    g_signal_connect_object (cancellable, "cancelled", G_CALLBACK (on_outer_cancelled_cb),
                             self, 0);

  source_identity = ps_couch_database_dup_identity_url (self->source);
  target_identity = ps_couch_database_dup_identity_url (self->target);
  g_free (self->replication_id);
  self->replication_id = ps_checkpoint_replication_id (source_identity, target_identity, NULL);
  g_free (self->local_path);
  self->local_path = g_strconcat ("_local/", self->replication_id, NULL);
  g_free (self->session_id);
  self->session_id = g_uuid_string_random ();

  start_run (self);
}

gboolean
ps_replication_run_finish (PsReplication  *self,
                           GAsyncResult   *result,
                           GError        **error)
{
  g_return_val_if_fail (PS_IS_REPLICATION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ps_replication_run_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

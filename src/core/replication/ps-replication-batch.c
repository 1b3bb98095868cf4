/* ps-replication-batch.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One batch of changes on its way to the target: `_revs_diff`, then
 * `_bulk_get` or `?open_revs=`, holding back revisions with large
 * attachments, then `_bulk_docs`.
 */

#define G_LOG_DOMAIN "ps-replication"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ps-json.h"
#include "ps-replication-private.h"

#define MAX_FETCH_ATTEMPTS 3

Batch *
ps_replication_batch_ref (Batch *batch)
{
  g_atomic_ref_count_inc (&batch->ref_count);
  return batch;
}

/* The queue holds a reference, and so does each request in flight for the
 * batch: a run dropped for a retry frees nothing a late answer still uses.
 */
void
ps_replication_batch_unref (Batch *batch)
{
  if (!g_atomic_ref_count_dec (&batch->ref_count))
    return;

  g_clear_pointer (&batch->last_seq, json_node_unref);
  g_clear_pointer (&batch->revs, json_object_unref);
  g_clear_pointer (&batch->diff, json_node_unref);
  g_clear_pointer (&batch->fetched, ps_fetched_docs_free);
  g_clear_pointer (&batch->held_revs, g_hash_table_unref);
  g_clear_pointer (&batch->accounted, g_hash_table_unref);
  g_clear_error (&batch->fetch_error);
  g_clear_object (&batch->self);
  g_free (batch);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Batch, ps_replication_batch_unref)


/* An answer to a run that was stopped, or retried from its checkpoint,
 * since the request went out: it must change nothing.
 */
static gboolean
batch_is_stale (Batch *batch)
{
  return batch->self->task == NULL || batch->generation != batch->self->generation;
}

static char *
held_rev_key (const char *id,
              const char *rev)
{
  return g_strconcat (id, "\n", rev, NULL);
}

/* Each revision the target lacked ends its batch written, listed as a
 * failure, held back, or known gone from the source; every step that
 * settles one marks it here.
 */
static void
account (Batch              *batch,
         const PsFetchedDoc *doc)
{
  if (batch->accounted == NULL)
    batch->accounted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_add (batch->accounted, held_rev_key (doc->id, doc->rev));
}

/* The ids of the revisions _revs_diff asked for that no step settled. */
static GPtrArray *
find_unaccounted (Batch *batch)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  JsonObjectIter iter;
  const char *id;
  JsonNode *entry;

  if (batch->diff == NULL || !JSON_NODE_HOLDS_OBJECT (batch->diff))
    return ids;

  json_object_iter_init (&iter, json_node_get_object (batch->diff));
  while (json_object_iter_next (&iter, &id, &entry))
    {
      JsonArray *missing = JSON_NODE_HOLDS_OBJECT (entry)
        ? ps_json_get_array (json_node_get_object (entry), "missing")
        : NULL;

      for (guint i = 0; missing != NULL && i < json_array_get_length (missing); i++)
        {
          const char *rev = ps_json_get_string_element (missing, i);
          g_autofree char *key = NULL;

          if (rev == NULL)
            continue;
          key = held_rev_key (id, rev);
          if ((batch->accounted != NULL && g_hash_table_contains (batch->accounted, key)) ||
              (batch->held_revs != NULL && g_hash_table_contains (batch->held_revs, key)))
            continue;
          g_ptr_array_add (ids, ps_couch_id_decode (id));
          break;
        }
    }

  return ids;
}

/* Where every batch ends: nothing read from the source may be unaccounted
 * for when the run reports success or the checkpoint passes it.
 */
static gboolean
check_accounting (Batch *batch)
{
  PsReplication *self = batch->self;
  g_autoptr(GPtrArray) ids = find_unaccounted (batch);
  g_autoptr(GString) named = NULL;

  if (ids->len == 0)
    return TRUE;

  named = g_string_new (NULL);
  for (guint i = 0; i < ids->len && i < 10; i++)
    g_string_append_printf (named, "%s“%s”", i > 0 ? ", " : "", (char *) ids->pdata[i]);
  if (ids->len > 10)
    g_string_append (named, ", …");

  ps_replication_fail (self, self->source, _("Copying documents from"),
                       g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                                    /* TRANSLATORS: %s is a list of document ids */
                                    g_dngettext (GETTEXT_PACKAGE,
                                                 "%u document the target lacks was neither "
                                                 "written nor listed as a failure: %s",
                                                 "%u documents the target lacks were neither "
                                                 "written nor listed as failures: %s",
                                                 ids->len),
                                    ids->len, named->str));
  return FALSE;
}

static void
finish_batch (Batch *batch)
{
  PsReplication *self = batch->self;

  if (!check_accounting (batch))
    return;

  batch->done = TRUE;
  g_clear_pointer (&batch->diff, json_node_unref);
  g_clear_pointer (&batch->fetched, ps_fetched_docs_free);
  g_clear_pointer (&batch->revs, json_object_unref);

  /* Only the prefix of finished batches counts as written. */
  while (!g_queue_is_empty (&self->batches))
    {
      Batch *head = g_queue_peek_head (&self->batches);

      if (!head->done)
        break;
      g_queue_pop_head (&self->batches);
      /* A revision left out must be read again next time: the checkpoint
       * stays before its batch, whatever comes after.
       */
      if (head->held_back)
        self->checkpoint_held = TRUE;
      if (!self->checkpoint_held)
        ps_replication_replace_node (&self->completed_seq, head->last_seq);
      ps_replication_batch_unref (head);
    }

  self->retry_delay_ms = 0;
  ps_replication_pump (self);
}

/* One _bulk_docs request: the fetched revisions from start to end. */
typedef struct
{
  Batch *batch;
  guint  start;
  guint  end;
} Write;

static void
write_free (Write *write)
{
  g_clear_pointer (&write->batch, ps_replication_batch_unref);
  g_free (write);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Write, write_free)

static void write_range (Batch *batch,
                         guint  start,
                         guint  end);

static void
list_failure (PsReplication *self,
              const char    *id,
              const char    *rev,
              const char    *error,
              const char    *reason)
{
  PsWriteFailure *failure = g_new0 (PsWriteFailure, 1);

  failure->id = ps_couch_id_decode (id != NULL ? id : "");
  failure->rev = g_strdup (rev);
  failure->error = g_strdup (error != NULL ? error : "error");
  failure->reason = g_strdup (reason);
  g_ptr_array_add (self->write_failures, failure);
}

/* The target took what it did not list; counts it and tells who listens. */
static void
count_written (Write    *write,
               JsonNode *answer)
{
  Batch *batch = write->batch;
  PsReplication *self = batch->self;
  g_autoptr(GHashTable) failed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func (g_free);
  const char *last_id = NULL;
  guint n_found;
  guint n_failed = 0;

  /* With new_edits=false, only the documents that failed are listed. */
  if (JSON_NODE_HOLDS_ARRAY (answer))
    {
      JsonArray *results = json_node_get_array (answer);

      for (guint i = 0; i < json_array_get_length (results); i++)
        {
          JsonObject *item = ps_json_get_object_element (results, i);
          const char *id;

          if (item == NULL || !json_object_has_member (item, "error"))
            continue;

          list_failure (self, ps_json_get_string (item, "id"), ps_json_get_string (item, "rev"),
                        ps_json_get_string (item, "error"), ps_json_get_string (item, "reason"));
          id = ps_json_get_string (item, "id");
          g_hash_table_add (failed, g_strdup (id != NULL ? id : ""));
          n_failed++;
        }
    }

  n_found = ps_fetched_docs_count_found_range (batch->fetched, write->start, write->end);
  for (guint i = write->start; i < write->end; i++)
    {
      const PsFetchedDoc *doc = ps_fetched_docs_get (batch->fetched, i);

      /* Taken, or listed above: either way the target answered for it. */
      if (doc->json != NULL)
        account (batch, doc);
      if (doc->json != NULL && !g_hash_table_contains (failed, doc->id) &&
          (last_id == NULL || !g_str_equal (last_id, doc->id)))
        {
          g_ptr_array_add (written, ps_couch_id_decode (doc->id));
          last_id = doc->id;
        }
    }
  g_ptr_array_add (written, NULL);

  ps_replication_add_to_counter (self, &self->doc_write_failures, n_failed,
                                 PROP_DOC_WRITE_FAILURES);
  ps_replication_add_to_counter (self, &self->docs_written,
                                 n_found > n_failed ? n_found - n_failed : 0,
                                 PROP_DOCS_WRITTEN);
  if (written->len > 1)
    ps_replication_emit_documents_written (self, (char **) written->pdata);
}

/* A proxy's body limit or CouchDB's max_http_request_size,
 * max_document_size or max_attachment_size refuse a whole request with 413,
 * whatever else it holds. Halves are sent until each revision refused is
 * refused on its own; that one is listed, and the checkpoint stays before
 * it so that it is copied once the limit allows.
 */
static void
split_refused_write (Write  *write,
                     GError *error)
{
  Batch *batch = write->batch;
  PsReplication *self = batch->self;
  guint found = ps_fetched_docs_count_found_range (batch->fetched, write->start, write->end);

  if (found > 1)
    {
      guint middle = write->start + (write->end - write->start) / 2;

      g_debug ("the target refused %u revisions as too large; sending them in halves", found);
      write_range (batch, write->start, middle);
      write_range (batch, middle, write->end);
      return;
    }

  for (guint i = write->start; i < write->end; i++)
    {
      const PsFetchedDoc *doc = ps_fetched_docs_get (batch->fetched, i);

      if (doc->json == NULL)
        continue;
      g_debug ("the target refused %s %s as too large", doc->id, doc->rev);
      list_failure (self, doc->id, doc->rev, "too_large", error->message);
      account (batch, doc);
      ps_replication_add_to_counter (self, &self->doc_write_failures, 1,
                                     PROP_DOC_WRITE_FAILURES);
      batch->held_back = TRUE;
    }
}

static void
on_bulk_docs_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(Write) write = user_data;
  Batch *batch = write->batch;
  PsReplication *self = batch->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = NULL;

  answer = ps_couch_database_request_keeping_ids_finish (PS_COUCH_DATABASE (object), result,
                                                         &error);
  if (batch_is_stale (batch))
    return;

  if (answer != NULL)
    count_written (write, answer);
  else if (g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_TOO_LARGE))
    split_refused_write (write, error);
  else
    {
      ps_replication_fail (self, self->target, _("Writing to"), g_steal_pointer (&error));
      return;
    }

  if (--batch->writes_pending == 0)
    finish_batch (batch);
}

static void
write_range (Batch *batch,
             guint  start,
             guint  end)
{
  PsReplication *self = batch->self;
  g_autoptr(GBytes) body = NULL;
  Write *write;

  if (ps_fetched_docs_count_found_range (batch->fetched, start, end) == 0)
    return;

  write = g_new0 (Write, 1);
  write->batch = ps_replication_batch_ref (batch);
  write->start = start;
  write->end = end;
  batch->writes_pending++;
  body = ps_fetched_docs_to_bulk_docs_body_range (batch->fetched, start, end);
  ps_couch_database_request_keeping_ids_async (self->target, "POST", "_bulk_docs", NULL, body,
                                               self->run_cancellable, on_bulk_docs_cb, write);
}

/* The size of one attachment: its stub's length, or that of its data. */
static guint64
attachment_size (JsonObject *attachment)
{
  const char *data = ps_json_get_string (attachment, "data");
  gsize len;

  if (json_object_has_member (attachment, "length"))
    return (guint64) MAX (0, json_object_get_int_member (attachment, "length"));
  if (data == NULL)
    return 0;

  len = strlen (data);
  return len / 4 * 3 - (len > 0 && data[len - 1] == '=') - (len > 1 && data[len - 2] == '=');
}

static gboolean
hold_back_if_large (PsReplication      *self,
                    const PsFetchedDoc *doc,
                    gboolean           *has_attachments)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;
  JsonObject *attachments;
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  gboolean held = FALSE;

  if (!json_parser_load_from_data (parser, doc->json, doc->json_len, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      (attachments = ps_json_get_object (json_node_get_object (root), "_attachments")) == NULL)
    return FALSE;

  if (has_attachments != NULL)
    *has_attachments = json_object_get_size (attachments) > 0;

  json_object_iter_init (&iter, attachments);
  while (json_object_iter_next (&iter, &name, &member))
    {
      PsWriteFailure *failure;
      guint64 size;

      if (!JSON_NODE_HOLDS_OBJECT (member))
        continue;

      /* Deferred, not refused: the attachments pass that follows copies it. */
      if (self->defer_attachments)
        {
          if (!held)
            self->docs_deferred++;
          held = TRUE;
          continue;
        }

      if (self->max_attachment_size == 0 ||
          (size = attachment_size (json_node_get_object (member))) <= self->max_attachment_size)
        continue;

      failure = g_new0 (PsWriteFailure, 1);
      failure->id = ps_couch_id_decode (doc->id);
      failure->rev = g_strdup (doc->rev);
      failure->error = g_strdup ("attachment_too_large");
      /* TRANSLATORS: “attachment “photo.jpg” (612 kB) is over the 500 kB limit …” */
      failure->reason = g_strdup_printf (_("attachment “%s” (%llu kB) is over the %llu kB "
                                           "limit for this server"),
                                         name, (unsigned long long) ((size + 999) / 1000),
                                         (unsigned long long) (self->max_attachment_size / 1000));
      g_ptr_array_add (self->write_failures, failure);
      self->attachments_held_back++;
      held = TRUE;
    }

  return held;
}

/* Revisions with an attachment over the limit are not written; they are
 * listed, and the checkpoint stops before them so that they sync once the
 * limit allows.
 */
static void
hold_back_large_attachments (Batch *batch)
{
  PsReplication *self = batch->self;

  for (guint i = 0; i < ps_fetched_docs_get_length (batch->fetched); i++)
    {
      const PsFetchedDoc *doc = ps_fetched_docs_get (batch->fetched, i);

      if (doc->json != NULL && hold_back_if_large (self, doc, NULL))
        {
          g_debug ("holding back %s %s: an attachment is over the limit", doc->id, doc->rev);
          account (batch, doc);
          ps_fetched_docs_drop (batch->fetched, i);
          batch->held_back = TRUE;
        }
    }
}

/* Revisions the source could not give, or that were too large to take,
 * are listed like the ones the target refused: never skipped silently.
 */
static void
list_fetch_failures (Batch *batch)
{
  PsReplication *self = batch->self;
  guint n_failed = 0;

  for (guint i = 0; i < ps_fetched_docs_get_length (batch->fetched); i++)
    {
      const PsFetchedDoc *doc = ps_fetched_docs_get (batch->fetched, i);
      PsWriteFailure *failure;

      /* Not found: replaced on the source since its change was read. */
      if (doc->json == NULL && (doc->missing || doc->error != NULL))
        account (batch, doc);
      if (doc->json != NULL || doc->missing || doc->error == NULL)
        continue;

      failure = g_new0 (PsWriteFailure, 1);
      failure->id = ps_couch_id_decode (doc->id);
      failure->rev = g_strdup (doc->rev);
      failure->error = g_strdup (doc->error);
      failure->reason = g_strdup (doc->reason);
      g_debug ("%s %s not copied: %s", failure->id, failure->rev, failure->reason);
      g_ptr_array_add (self->write_failures, failure);
      n_failed++;
    }

  ps_replication_add_to_counter (self, &self->doc_write_failures, n_failed,
                                 PROP_DOC_WRITE_FAILURES);
}

static void
write_batch (Batch *batch)
{
  PsReplication *self = batch->self;
  guint found;

  if (self->max_attachment_size > 0 || self->defer_attachments)
    hold_back_large_attachments (batch);
  found = ps_fetched_docs_count_found (batch->fetched);

  list_fetch_failures (batch);
  ps_replication_add_to_counter (self, &self->docs_read, found, PROP_DOCS_READ);
  if (found == 0)
    {
      finish_batch (batch);
      return;
    }

  write_range (batch, 0, ps_fetched_docs_get_length (batch->fetched));
}

static void  fetch_with_open_revs (Batch    *batch);
static void  fetch_with_bulk_get  (Batch    *batch);
static guint count_missing        (JsonNode *diff);

/* One document's open_revs request, for the batch it belongs to. */
typedef struct
{
  Batch     *batch;
  char      *id;
  JsonArray *missing;
} Fetch;

static void
fetch_free (Fetch *fetch)
{
  g_clear_pointer (&fetch->batch, ps_replication_batch_unref);
  g_clear_pointer (&fetch->id, g_free);
  g_clear_pointer (&fetch->missing, json_array_unref);
  g_free (fetch);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fetch, fetch_free)

static void
on_bulk_get_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(Batch) batch = user_data;
  PsReplication *self = batch->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) answer = NULL;

  answer = ps_couch_database_request_bytes_finish (PS_COUCH_DATABASE (object), result, &error);
  if (batch_is_stale (batch))
    return;

  /* CouchDB before 2.0 has no _bulk_get: fall back to one request per
   * document, once and for all.
   */
  if (answer == NULL && (g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_FOUND) ||
                         g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_BAD_REQUEST)))
    {
      g_debug ("the source has no _bulk_get (%s); fetching documents one by one",
               error->message);
      self->bulk_get_unsupported = TRUE;
      fetch_with_open_revs (batch);
      return;
    }

  /* Many large documents may pass the answer's limit together: fetch them
   * one by one, each within the limit, or listed as too large.
   */
  if (answer == NULL && g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_ANSWER_TOO_LARGE) &&
      count_missing (batch->diff) > 1)
    {
      g_debug ("the _bulk_get answer is too large (%s); fetching documents one by one",
               error->message);
      fetch_with_open_revs (batch);
      return;
    }

  if (answer != NULL && !ps_fetched_docs_parse_bulk_get (batch->fetched, answer, &error) &&
      batch->fetch_attempts++ < MAX_FETCH_ATTEMPTS)
    {
      /* Most often an answer garbled on the way: ask again. */
      g_debug ("unreadable _bulk_get answer (%s); asking again", error->message);
      fetch_with_bulk_get (batch);
      return;
    }

  if (answer == NULL || error != NULL)
    {
      ps_replication_fail (self, self->source, _("Reading documents from"),
                           g_steal_pointer (&error));
      return;
    }

  write_batch (batch);
}

/* The _bulk_get request for what the target lacks, less what is held back.
 * Written by hand: ids are in their JSON form already.
 */
static GBytes *
build_bulk_get_body (Batch *batch)
{
  g_autoptr(GString) body = g_string_new ("{\"docs\":[");
  gboolean first = TRUE;
  JsonObjectIter iter;
  const char *id;
  JsonNode *entry;

  json_object_iter_init (&iter, json_node_get_object (batch->diff));
  while (json_object_iter_next (&iter, &id, &entry))
    {
      g_autofree char *ancestors_json = NULL;
      JsonArray *missing;
      JsonNode *ancestors;

      if (!JSON_NODE_HOLDS_OBJECT (entry))
        continue;
      missing = ps_json_get_array (json_node_get_object (entry), "missing");
      ancestors = json_object_get_member (json_node_get_object (entry), "possible_ancestors");
      /* Attachments the target has in an ancestor are not sent again. */
      if (ancestors != NULL && JSON_NODE_HOLDS_ARRAY (ancestors) &&
          json_array_get_length (json_node_get_array (ancestors)) > 0)
        ancestors_json = json_to_string (ancestors, FALSE);

      for (guint i = 0; missing != NULL && i < json_array_get_length (missing); i++)
        {
          const char *rev = ps_json_get_string_element (missing, i);

          if (rev == NULL)
            continue;
          if (batch->held_revs != NULL)
            {
              g_autofree char *key = held_rev_key (id, rev);

              if (g_hash_table_contains (batch->held_revs, key))
                continue;
            }
          g_string_append (body, first ? "{\"id\":" : ",{\"id\":");
          ps_couch_append_json_id (body, id);
          g_string_append (body, ",\"rev\":");
          ps_couch_append_json_id (body, rev);
          if (ancestors_json != NULL)
            g_string_append_printf (body, ",\"atts_since\":%s", ancestors_json);
          g_string_append_c (body, '}');
          first = FALSE;
        }
    }
  g_string_append (body, "]}");

  return g_string_free_to_bytes (g_steal_pointer (&body));
}

static void
fetch_with_bulk_get (Batch *batch)
{
  PsReplication *self = batch->self;
  g_autoptr(GBytes) body = build_bulk_get_body (batch);

  ps_couch_database_request_bytes_async (self->source, "POST", "_bulk_get",
                                         "revs=true&attachments=true", body,
                                         self->run_cancellable, on_bulk_get_cb,
                                         ps_replication_batch_ref (batch));
}

/* With an attachment limit, the revisions come first with attachment stubs
 * only, whose lengths say what to hold back before any attachment crosses
 * the link. Without any attachment left to fetch, that answer is the batch.
 */
static void
on_size_probe_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(Batch) batch = user_data;
  PsReplication *self = batch->self;
  g_autoptr(PsFetchedDocs) probe = ps_fetched_docs_new ();
  g_autoptr(GBytes) answer = NULL;
  gboolean attachments_to_fetch = FALSE;

  answer = ps_couch_database_request_bytes_finish (PS_COUCH_DATABASE (object), result, NULL);
  if (batch_is_stale (batch))
    return;

  /* Whatever went wrong, the full fetch meets it again and handles it. */
  if (answer == NULL || !ps_fetched_docs_parse_bulk_get (probe, answer, NULL))
    {
      fetch_with_bulk_get (batch);
      return;
    }

  for (guint i = 0; i < ps_fetched_docs_get_length (probe); i++)
    {
      const PsFetchedDoc *doc = ps_fetched_docs_get (probe, i);
      gboolean has_attachments = FALSE;

      if (doc->json == NULL)
        continue;
      if (hold_back_if_large (self, doc, &has_attachments))
        {
          if (batch->held_revs == NULL)
            batch->held_revs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
          g_hash_table_add (batch->held_revs, held_rev_key (doc->id, doc->rev));
          batch->held_back = TRUE;
          ps_fetched_docs_drop (probe, i);
        }
      else if (has_attachments)
        attachments_to_fetch = TRUE;
    }

  if (attachments_to_fetch)
    {
      fetch_with_bulk_get (batch);
      return;
    }

  ps_fetched_docs_free (batch->fetched);
  batch->fetched = g_steal_pointer (&probe);
  write_batch (batch);
}

static void
probe_attachment_sizes (Batch *batch)
{
  PsReplication *self = batch->self;
  g_autoptr(GBytes) body = build_bulk_get_body (batch);

  ps_couch_database_request_bytes_async (self->source, "POST", "_bulk_get", "revs=true", body,
                                         self->run_cancellable, on_size_probe_cb,
                                         ps_replication_batch_ref (batch));
}

static void
on_open_revs_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(Fetch) fetch = user_data;
  Batch *batch = fetch->batch;
  PsReplication *self = batch->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) answer = NULL;

  answer = ps_couch_database_request_bytes_finish (PS_COUCH_DATABASE (object), result, &error);
  if (batch_is_stale (batch))
    return;

  /* A document larger than a whole answer may be is listed, not copied. */
  if (g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_ANSWER_TOO_LARGE))
    {
      for (guint i = 0; i < json_array_get_length (fetch->missing); i++)
        {
          const char *rev = ps_json_get_string_element (fetch->missing, i);

          if (rev != NULL)
            ps_fetched_docs_add_failure (batch->fetched, fetch->id, rev, "too_large",
                                         error->message);
        }
      g_clear_error (&error);
    }

  if (answer != NULL)
    ps_fetched_docs_parse_open_revs (batch->fetched, answer, &error);
  if (error != NULL && batch->fetch_error == NULL)
    batch->fetch_error = g_steal_pointer (&error);

  if (--batch->fetches_pending > 0)
    return;

  if (batch->fetch_error != NULL)
    {
      ps_replication_fail (self, self->source, _("Reading documents from"),
                           g_steal_pointer (&batch->fetch_error));
      return;
    }

  write_batch (batch);
}

static char *
json_array_to_query_value (JsonArray *array)
{
  g_autoptr(JsonNode) node = json_node_init_array (json_node_alloc (), array);
  g_autofree char *text = json_to_string (node, FALSE);

  return g_uri_escape_string (text, NULL, FALSE);
}

static void
fetch_with_open_revs (Batch *batch)
{
  PsReplication *self = batch->self;
  JsonObjectIter iter;
  const char *id;
  JsonNode *entry;

  /* Count first: an answer may arrive before the last request is sent. */
  batch->fetches_pending = 1;

  json_object_iter_init (&iter, json_node_get_object (batch->diff));
  while (json_object_iter_next (&iter, &id, &entry))
    {
      g_autofree char *path = NULL;
      g_autofree char *query = NULL;
      g_autofree char *open_revs = NULL;
      g_autofree char *atts_since = NULL;
      JsonArray *missing;
      JsonArray *ancestors;
      Fetch *fetch;

      if (!JSON_NODE_HOLDS_OBJECT (entry))
        continue;
      missing = ps_json_get_array (json_node_get_object (entry), "missing");
      ancestors = ps_json_get_array (json_node_get_object (entry), "possible_ancestors");
      if (missing == NULL || json_array_get_length (missing) == 0)
        continue;

      path = ps_couch_id_to_path (id);
      open_revs = json_array_to_query_value (missing);
      if (ancestors != NULL && json_array_get_length (ancestors) > 0)
        atts_since = json_array_to_query_value (ancestors);
      query = g_strdup_printf ("revs=true&attachments=true&open_revs=%s%s%s", open_revs,
                               atts_since != NULL ? "&atts_since=" : "",
                               atts_since != NULL ? atts_since : "");

      fetch = g_new0 (Fetch, 1);
      fetch->batch = ps_replication_batch_ref (batch);
      fetch->id = g_strdup (id);
      fetch->missing = json_array_ref (missing);
      batch->fetches_pending++;
      ps_couch_database_request_bytes_async (self->source, "GET", path, query, NULL,
                                             self->run_cancellable, on_open_revs_cb, fetch);
    }

  /* Drop the count's own reference, as if one more answer arrived. */
  batch->fetches_pending--;
  if (batch->fetches_pending == 0)
    write_batch (batch);
}

static guint
count_missing (JsonNode *diff)
{
  JsonObjectIter iter;
  const char *id;
  JsonNode *entry;
  guint missing = 0;

  json_object_iter_init (&iter, json_node_get_object (diff));
  while (json_object_iter_next (&iter, &id, &entry))
    {
      JsonArray *revs = JSON_NODE_HOLDS_OBJECT (entry)
        ? ps_json_get_array (json_node_get_object (entry), "missing")
        : NULL;

      missing += revs != NULL ? json_array_get_length (revs) : 0;
    }

  return missing;
}

/* Fetches what batch->diff says the target lacks. */
static void
fetch_missing (Batch *batch)
{
  PsReplication *self = batch->self;
  guint missing;

  missing = count_missing (batch->diff);
  ps_replication_add_to_counter (self, &self->missing_found, missing, PROP_MISSING_FOUND);
  if (missing == 0)
    {
      finish_batch (batch);
      return;
    }

  batch->fetched = ps_fetched_docs_new ();
  ps_fetched_docs_set_max_document_size (batch->fetched, self->max_document_size);
  if (self->bulk_get_unsupported)
    fetch_with_open_revs (batch);
  else if (self->max_attachment_size > 0 || self->defer_attachments)
    probe_attachment_sizes (batch);
  else
    fetch_with_bulk_get (batch);
}

static void
on_revs_diff_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(Batch) batch = user_data;
  PsReplication *self = batch->self;
  g_autoptr(GError) error = NULL;

  batch->diff = ps_couch_database_request_keeping_ids_finish (PS_COUCH_DATABASE (object),
                                                              result, &error);
  if (batch_is_stale (batch))
    return;

  if (batch->diff == NULL)
    {
      ps_replication_fail (self, self->target, _("Comparing revisions with"),
                           g_steal_pointer (&error));
      return;
    }
  if (!JSON_NODE_HOLDS_OBJECT (batch->diff))
    {
      ps_replication_fail (self, self->target, _("Comparing revisions with"),
                           g_error_new_literal (PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                                                _("the server’s answer to _revs_diff is "
                                                  "not an object")));
      return;
    }

  fetch_missing (batch);
}

/* What _revs_diff answers when the target holds none of @revs. */
static JsonNode *
all_missing (JsonObject *revs)
{
  g_autoptr(JsonObject) diff = json_object_new ();
  JsonObjectIter iter;
  const char *id;
  JsonNode *entry;

  json_object_iter_init (&iter, revs);
  while (json_object_iter_next (&iter, &id, &entry))
    {
      JsonObject *missing = json_object_new ();

      json_object_set_member (missing, "missing", json_node_copy (entry));
      json_object_set_object_member (diff, id, missing);
    }

  return json_node_init_object (json_node_alloc (), diff);
}

/* {"id": ["rev", …], …}, written by hand: ids are in their JSON form. */
static GBytes *
build_revs_diff_body (JsonObject *revs)
{
  g_autoptr(GString) body = g_string_new ("{");
  JsonObjectIter iter;
  const char *id;
  JsonNode *entry;
  gboolean first = TRUE;

  json_object_iter_init (&iter, revs);
  while (json_object_iter_next (&iter, &id, &entry))
    {
      JsonArray *list = json_node_get_array (entry);

      if (!first)
        g_string_append_c (body, ',');
      ps_couch_append_json_id (body, id);
      g_string_append (body, ":[");
      for (guint i = 0; i < json_array_get_length (list); i++)
        {
          if (i > 0)
            g_string_append_c (body, ',');
          ps_couch_append_json_id (body, json_array_get_string_element (list, i));
        }
      g_string_append_c (body, ']');
      first = FALSE;
    }
  g_string_append_c (body, '}');

  return g_string_free_to_bytes (g_steal_pointer (&body));
}

void
ps_replication_start_batch (Batch *batch)
{
  PsReplication *self = batch->self;
  g_autoptr(GBytes) body = NULL;

  if (json_object_get_size (batch->revs) == 0)
    {
      finish_batch (batch);
      return;
    }

  if (self->target_was_empty)
    {
      batch->diff = all_missing (batch->revs);
      fetch_missing (batch);
      return;
    }

  body = build_revs_diff_body (batch->revs);
  ps_couch_database_request_keeping_ids_async (self->target, "POST", "_revs_diff", NULL, body,
                                               self->run_cancellable, on_revs_diff_cb,
                                               ps_replication_batch_ref (batch));
}

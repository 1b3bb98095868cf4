/* ps-resolver.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Resolves conflicted records of one database the Primero way: the leaves
 * of each record are merged (ps-merge), the resolution is journaled and
 * flushed to disk, then the merged body is written as a child of CouchDB's
 * winning leaf, and only once that revision is stored are the other leaves
 * closed with a `_deleted` child. Nothing is written that the journal does
 * not hold: when the journal cannot be written the run fails and the
 * records stay conflicted, to be merged again next time. A record edited
 * meanwhile (409) is read and merged again. Records go in batches, never
 * one request per record; a record is in one batch at a time.
 *
 * A run that stops between the journal and the database leaves the record
 * conflicted with the same leaves: the next run merges them the same way
 * and journals the same `resolution_id`, which the journal shows once.
 * How each journaled resolution went follows it as a `resolution-outcome`
 * entry (see #PsJournal).
 */

#define G_LOG_DOMAIN "ps-resolver"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ps-fetched-docs.h"
#include "ps-json.h"
#include "ps-merge.h"
#include "ps-resolver.h"

#define BATCH_SIZE     100
#define SCAN_PAGE_SIZE BATCH_SIZE
#define MAX_ATTEMPTS   3
/* Batches and scan pages in flight: one is read while another is merged
 * or written.
 */
#define MAX_IN_FLIGHT  2

struct _PsResolver
{
  GObject          parent_instance;

  PsCouchDatabase *database;
  PsJournal       *journal;
  char            *server_id;

  GTask           *task;
  GQueue           ids;            /* ids still to look at (char *) */
  GHashTable      *attempts;       /* id → attempts so far */
  gboolean         scan;           /* look at every record, via _changes */
  gboolean         scan_done;
  JsonNode        *scan_since;

  gboolean         scan_in_flight;
  gboolean         scan_after_writes; /* no batch was in flight for this page */
  gboolean         scan_caught_up;    /* the last page was short */
  guint            in_flight;
  GHashTable      *busy;           /* id → the Batch it is in */
  GHashTable      *closed;         /* id → Closed, for records this scan resolved */

  guint            n_resolved;
  guint            n_failed;
  GPtrArray       *failures;       /* "id: reason" */
};

G_DEFINE_FINAL_TYPE (PsResolver, ps_resolver, G_TYPE_OBJECT)

enum {
  RESOLVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct
{
  PsResolver *self;
  GPtrArray  *ids;              /* the records this batch holds in self->busy */
  GHashTable *held;             /* id → a `_changes` row's revs, or NULL: records
                                 * to look at again once this batch is done
                                 */
  GHashTable *merged;           /* id → PsMergeResult */
  GHashTable *bodies;           /* id → its merged body, written out (char *) */
  GHashTable *new_revs;         /* id → the merged revision written */
  GHashTable *not_written;      /* id → why the server refused its merged revision */
  GHashTable *resolution_ids;   /* id → the resolution_id it was journaled with */
} Batch;

/* The leaves a resolution closed and the `_deleted` children it gave them:
 * none of them is live any more. A scan keeps one for every record it
 * resolved until it reads that record's row again, at the end of the
 * feed: one allocation each, the revisions one after the other, losers
 * first.
 */
typedef struct
{
  guint n_losers;
  guint n_revs;
  char  revs[];
} Closed;

static Closed *
closed_new (GPtrArray *losers,
            GPtrArray *tombstones)
{
  Closed *closed;
  gsize size = 0;
  char *p;

  for (guint i = 0; i < losers->len; i++)
    size += strlen (g_ptr_array_index (losers, i)) + 1;
  for (guint i = 0; i < tombstones->len; i++)
    size += strlen (g_ptr_array_index (tombstones, i)) + 1;

  closed = g_malloc (sizeof (Closed) + size);
  closed->n_losers = losers->len;
  closed->n_revs = losers->len + tombstones->len;
  p = closed->revs;
  for (guint i = 0; i < closed->n_revs; i++)
    {
      const char *rev = i < losers->len
        ? g_ptr_array_index (losers, i)
        : g_ptr_array_index (tombstones, i - losers->len);

      p = g_stpcpy (p, rev) + 1;
    }
  return closed;
}

/* Whether @rev is among the revisions @first to @end of @closed. */
static gboolean
closed_contains (Closed     *closed,
                 guint       first,
                 guint       end,
                 const char *rev)
{
  const char *p = closed->revs;

  for (guint i = 0; i < end; i++, p += strlen (p) + 1)
    if (i >= first && strcmp (p, rev) == 0)
      return TRUE;
  return FALSE;
}

static void next_batch (PsResolver *self);
static gboolean row_is_resolved (PsResolver *self,
                                 const char *id,
                                 GPtrArray  *revs);

static Batch *
batch_new (PsResolver *self)
{
  Batch *batch = g_new0 (Batch, 1);

  batch->self = g_object_ref (self);
  batch->ids = g_ptr_array_new_with_free_func (g_free);
  batch->held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) g_ptr_array_unref);
  batch->merged = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) ps_merge_result_free);
  batch->bodies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  batch->new_revs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  batch->not_written = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  batch->resolution_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->in_flight++;
  return batch;
}

/* Puts @id in @batch unless another batch has it; returns whether it is
 * in @batch now.
 */
static gboolean
batch_claim (Batch      *batch,
             const char *id)
{
  PsResolver *self = batch->self;
  Batch *owner = g_hash_table_lookup (self->busy, id);

  if (owner == batch)
    return TRUE;
  if (owner != NULL)
    return FALSE;

  g_ptr_array_add (batch->ids, g_strdup (id));
  g_hash_table_insert (self->busy, g_strdup (id), batch);
  return TRUE;
}

/* Keeps @id, wanted by another batch, for when @id's batch is done.
 * @revs: (transfer full) (nullable): the leaves a `_changes` row listed
 */
static void
hold_for_owner (PsResolver *self,
                const char *id,
                GPtrArray  *revs)
{
  Batch *owner = g_hash_table_lookup (self->busy, id);

  g_assert (owner != NULL);
  g_hash_table_replace (owner->held, g_strdup (id), revs);
}

static void
batch_free (Batch *batch)
{
  PsResolver *self = batch->self;
  GHashTableIter iter;
  gpointer id;
  gpointer revs;

  for (guint i = 0; i < batch->ids->len; i++)
    g_hash_table_remove (self->busy, g_ptr_array_index (batch->ids, i));

  /* A row read while its record was being resolved may show it half done. */
  g_hash_table_iter_init (&iter, batch->held);
  while (g_hash_table_iter_next (&iter, &id, &revs))
    if (revs == NULL || !row_is_resolved (self, id, revs))
      g_queue_push_tail (&self->ids, g_strdup (id));

  self->in_flight--;
  g_clear_pointer (&batch->ids, g_ptr_array_unref);
  g_clear_pointer (&batch->held, g_hash_table_unref);
  g_clear_pointer (&batch->merged, g_hash_table_unref);
  g_clear_pointer (&batch->bodies, g_hash_table_unref);
  g_clear_pointer (&batch->new_revs, g_hash_table_unref);
  g_clear_pointer (&batch->not_written, g_hash_table_unref);
  g_clear_pointer (&batch->resolution_ids, g_hash_table_unref);
  g_clear_object (&batch->self);
  g_free (batch);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Batch, batch_free)

/* Ends a batch and starts more work. */
static void
batch_done (Batch *batch)
{
  g_autoptr(PsResolver) self = g_object_ref (batch->self);

  batch_free (batch);
  next_batch (self);
}

static void
ps_resolver_finalize (GObject *object)
{
  PsResolver *self = (PsResolver *)object;

  g_clear_object (&self->database);
  g_clear_object (&self->journal);
  g_clear_pointer (&self->server_id, g_free);
  g_queue_clear_full (&self->ids, g_free);
  g_clear_pointer (&self->attempts, g_hash_table_unref);
  g_clear_pointer (&self->scan_since, json_node_unref);
  g_clear_pointer (&self->busy, g_hash_table_unref);
  g_clear_pointer (&self->closed, g_hash_table_unref);
  g_clear_pointer (&self->failures, g_ptr_array_unref);

  G_OBJECT_CLASS (ps_resolver_parent_class)->finalize (object);
}

static void
ps_resolver_class_init (PsResolverClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ps_resolver_finalize;

  /**
   * PsResolver::resolved:
   * @self: a #PsResolver
   * @report: a #JsonObject: the merge report (see ps_merge_result_get_report())
   *   with `database` and `new_rev`
   * @texts: (nullable): a #PsJsonTexts, the texts of the values @report
   *   quotes, valid during the emission: write @report with
   *   ps_json_write_edited() and them to keep its numbers exact
   *
   * Emitted for each record once its merged revision is stored.
   */
  signals[RESOLVED] =
    g_signal_new ("resolved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, JSON_TYPE_OBJECT, G_TYPE_POINTER);
}

static void
ps_resolver_init (PsResolver *self)
{
  g_queue_init (&self->ids);
  self->attempts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->busy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->closed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->failures = g_ptr_array_new_with_free_func (g_free);
}

/**
 * ps_resolver_new:
 * @database: the database whose conflicts to resolve
 *
 * Returns: (transfer full): a new #PsResolver
 */
PsResolver *
ps_resolver_new (PsCouchDatabase *database)
{
  PsResolver *self;

  g_return_val_if_fail (PS_IS_COUCH_DATABASE (database), NULL);

  self = g_object_new (PS_TYPE_RESOLVER, NULL);
  self->database = g_object_ref (database);
  return self;
}

/**
 * ps_resolver_set_journal:
 * @self: a #PsResolver
 * @journal: (nullable): where each resolution is recorded
 * @server_id: (nullable): the server the resolutions belong to
 */
void
ps_resolver_set_journal (PsResolver *self,
                         PsJournal  *journal,
                         const char *server_id)
{
  g_return_if_fail (PS_IS_RESOLVER (self));

  g_set_object (&self->journal, journal);
  g_free (self->server_id);
  self->server_id = g_strdup (server_id);
}

guint
ps_resolver_get_n_resolved (PsResolver *self)
{
  g_return_val_if_fail (PS_IS_RESOLVER (self), 0);
  return self->n_resolved;
}

guint
ps_resolver_get_n_failed (PsResolver *self)
{
  g_return_val_if_fail (PS_IS_RESOLVER (self), 0);
  return self->n_failed;
}

/**
 * ps_resolver_get_failures:
 * @self: a #PsResolver
 *
 * Returns: (transfer none) (element-type utf8): "record id: reason" for each
 *   record that could not be resolved
 */
GPtrArray *
ps_resolver_get_failures (PsResolver *self)
{
  g_return_val_if_fail (PS_IS_RESOLVER (self), NULL);
  return self->failures;
}

static void
record_failure (PsResolver *self,
                const char *id,
                const char *reason)
{
  self->n_failed++;
  g_ptr_array_add (self->failures, g_strdup_printf ("%s: %s", id, reason));
}

/* Takes @error; returns whether there was one, which ended the run. */
static gboolean
fail_if_error (PsResolver  *self,
               const char  *step,
               GError      *error)
{
  g_autoptr(GTask) task = NULL;

  if (error == NULL)
    return FALSE;

  task = g_steal_pointer (&self->task);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_task_return_error (task, error);
  else
    {
      g_autofree char *url = ps_couch_database_dup_display_url (self->database);

      g_task_return_new_error (task, error->domain, error->code, "%s %s: %s",
                               step, url, error->message);
      g_error_free (error);
    }
  return TRUE;
}

static GCancellable *
get_cancellable (PsResolver *self)
{
  return g_task_get_cancellable (self->task);
}

/* Ends @batch (and, on failure, the whole run) unless the request
 * succeeded; returns its answer otherwise.
 */
static JsonNode *
finish_batch_request (Batch        *batch,
                      GObject      *object,
                      GAsyncResult *result,
                      const char   *step)
{
  PsResolver *self = batch->self;
  GError *error = NULL;
  JsonNode *answer;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  if (self->task == NULL || fail_if_error (self, step, g_steal_pointer (&error)))
    {
      g_clear_error (&error);
      g_clear_pointer (&answer, json_node_unref);
      batch_free (batch);
      return NULL;
    }

  return answer;
}

/* Writing */

static void
report_resolution (Batch         *batch,
                   PsMergeResult *result,
                   const char    *new_rev)
{
  PsResolver *self = batch->self;
  g_autoptr(JsonObject) report = NULL;
  JsonNode *node = ps_merge_result_get_report (result);

  report = json_object_ref (json_node_get_object (node));
  json_object_set_string_member (report, "database", ps_couch_database_get_name (self->database));
  json_object_set_string_member (report, "new_rev", new_rev);
  self->n_resolved++;

  g_signal_emit (self, signals[RESOLVED], 0, report, ps_merge_result_get_report_texts (result));
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* A new object with the members of @object: the entry adds its own
 * without touching the merge's report.
 */
static JsonObject *
copy_members (JsonObject *object)
{
  JsonObject *copy = json_object_new ();
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    json_object_set_member (copy, name, json_node_copy (member));
  return copy;
}

/* Names the merge of these leaves of this record: merging them again
 * gives the same id, so the journal can tell a resolution journaled twice.
 */
static char *
dup_resolution_id (PsResolver    *self,
                   const char    *id,
                   PsMergeResult *merge)
{
  GPtrArray *losers = ps_merge_result_get_losing_revs (merge);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  g_autoptr(GString) key = g_string_new (NULL);

  /* Borrowed: g_ptr_array_copy() would take the free function along. */
  for (guint i = 0; i < losers->len; i++)
    g_ptr_array_add (sorted, g_ptr_array_index (losers, i));

  g_ptr_array_sort (sorted, compare_strings);
  g_string_append_printf (key, "%s\n%s\n%s", ps_couch_database_get_name (self->database), id,
                          ps_merge_result_get_winning_rev (merge));
  for (guint i = 0; i < sorted->len; i++)
    g_string_append_printf (key, "\n%s", (const char *) g_ptr_array_index (sorted, i));

  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, key->str, key->len);
}

static JsonObject *
new_journal_entry (PsResolver *self,
                   const char *kind,
                   const char *id,
                   const char *resolution_id)
{
  JsonObject *entry = json_object_new ();

  json_object_set_string_member (entry, "kind", kind);
  if (self->server_id != NULL)
    json_object_set_string_member (entry, "server", self->server_id);
  json_object_set_string_member (entry, "database", ps_couch_database_get_name (self->database));
  json_object_set_string_member (entry, "record", id);
  json_object_set_string_member (entry, "resolution_id", resolution_id);
  return entry;
}

/* Journals the resolutions of @batch and flushes them to disk, before
 * anything is written to the database. A resolution the journal refuses
 * is not written either. Returns FALSE, with @error set, when the journal
 * could not be written: nothing of @batch may be written then.
 */
static gboolean
journal_resolutions (Batch   *batch,
                     GError **error)
{
  PsResolver *self = batch->self;
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr(GPtrArray) refused = NULL;
  g_autoptr(PsJsonTexts) texts = ps_json_texts_new ();
  GHashTableIter iter;
  gpointer id;
  gpointer merge;

  if (self->journal == NULL)
    return TRUE;

  g_hash_table_iter_init (&iter, batch->merged);
  while (g_hash_table_iter_next (&iter, &id, &merge))
    {
      g_autofree char *resolution_id = dup_resolution_id (self, id, merge);
      JsonObject *report = copy_members (json_node_get_object (ps_merge_result_get_report (merge)));
      JsonObject *entry = new_journal_entry (self, "resolution", id, resolution_id);

      json_object_set_string_member (report, "database",
                                     ps_couch_database_get_name (self->database));
      json_object_set_object_member (entry, "resolution", report);
      /* The values quoted as the records hold them, big integers too. */
      if (ps_merge_result_get_report_texts (merge) != NULL)
        ps_json_texts_add_all (texts, ps_merge_result_get_report_texts (merge));
      g_ptr_array_add (entries, entry);
      g_hash_table_replace (batch->resolution_ids, g_strdup (id), g_steal_pointer (&resolution_id));
    }

  /* One flush to disk for the batch, not one per record. */
  if (!ps_journal_append_all_with_texts (self->journal, entries, texts, &refused, error))
    return FALSE;

  for (guint i = 0; i < refused->len; i++)
    {
      const char *refused_id = json_object_get_string_member (g_ptr_array_index (refused, i),
                                                              "record");

      record_failure (self, refused_id, _("the resolution could not be journaled"));
      g_hash_table_remove (batch->resolution_ids, refused_id);
      g_hash_table_remove (batch->merged, refused_id);
    }

  return TRUE;
}

/* How each journaled resolution went, for the journal to show with it. */
static void
journal_outcomes (Batch *batch)
{
  PsResolver *self = batch->self;
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr(GError) error = NULL;
  GHashTableIter iter;
  gpointer id;
  gpointer resolution_id;

  if (self->journal == NULL)
    return;

  g_hash_table_iter_init (&iter, batch->resolution_ids);
  while (g_hash_table_iter_next (&iter, &id, &resolution_id))
    {
      const char *new_rev = g_hash_table_lookup (batch->new_revs, id);
      const char *reason = g_hash_table_lookup (batch->not_written, id);
      JsonObject *entry;

      if (new_rev == NULL && reason == NULL)
        continue;
      entry = new_journal_entry (self, "resolution-outcome", id, resolution_id);
      if (new_rev != NULL)
        json_object_set_string_member (entry, "new_rev", new_rev);
      else
        json_object_set_string_member (entry, "error", reason);
      g_ptr_array_add (entries, entry);
    }

  /* The resolutions are journaled and written already; without their
   * outcome the journal shows them without the revision they made.
   */
  if (!ps_journal_append_all (self->journal, entries, NULL, &error))
    g_warning ("The outcome of resolutions could not be journaled: %s", error->message);
}

static void
retry_later (PsResolver *self,
             const char *id,
             const char *reason)
{
  guint attempts = GPOINTER_TO_UINT (g_hash_table_lookup (self->attempts, id)) + 1;

  if (attempts >= MAX_ATTEMPTS)
    {
      record_failure (self, id, reason);
      return;
    }

  g_hash_table_replace (self->attempts, g_strdup (id), GUINT_TO_POINTER (attempts));
  g_queue_push_tail (&self->ids, g_strdup (id));
}

/* The scan reads the changes this run wrote as well: remembering which
 * leaves each resolution closed spares reading them again.
 */
static void
remember_closed (Batch     *batch,
                 JsonArray *results)
{
  PsResolver *self = batch->self;
  g_autoptr(GHashTable) written = NULL;
  g_autoptr(GHashTable) refused = NULL;
  GHashTableIter iter;
  gpointer id;
  gpointer tombstones;

  if (!self->scan || results == NULL)
    return;

  written = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                   (GDestroyNotify) g_ptr_array_unref);
  refused = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonObject *item = ps_json_get_object_element (results, i);
      const char *item_id = item != NULL ? ps_json_get_string (item, "id") : NULL;
      const char *rev = item != NULL ? ps_json_get_string (item, "rev") : NULL;
      GPtrArray *revs;

      if (item_id == NULL)
        continue;
      if (rev == NULL || json_object_has_member (item, "error"))
        {
          g_hash_table_add (refused, (gpointer) item_id);
          continue;
        }
      revs = g_hash_table_lookup (written, item_id);
      if (revs == NULL)
        {
          revs = g_ptr_array_new_with_free_func (g_free);
          g_hash_table_insert (written, (gpointer) item_id, revs);
        }
      g_ptr_array_add (revs, g_strdup (rev));
    }

  g_hash_table_iter_init (&iter, written);
  while (g_hash_table_iter_next (&iter, &id, &tombstones))
    {
      PsMergeResult *merge = g_hash_table_lookup (batch->merged, id);
      GPtrArray *losers = merge != NULL ? ps_merge_result_get_losing_revs (merge) : NULL;

      if (losers == NULL || g_hash_table_contains (refused, id) ||
          ((GPtrArray *) tombstones)->len != losers->len)
        continue;

      g_hash_table_replace (self->closed, g_strdup (id), closed_new (losers, tombstones));
    }
}

/* Whether a `_changes` row with the leaves @revs shows at most one that may
 * be live, the others being ones this run closed: reading them would find
 * nothing to merge. Newer edits would come in a later row.
 */
static gboolean
row_is_resolved (PsResolver *self,
                 const char *id,
                 GPtrArray  *revs)
{
  Closed *closed = g_hash_table_lookup (self->closed, id);
  guint open = 0;
  guint tombstones = 0;

  if (closed == NULL)
    return FALSE;

  for (guint i = 0; i < revs->len; i++)
    {
      const char *rev = g_ptr_array_index (revs, i);

      if (closed_contains (closed, closed->n_losers, closed->n_revs, rev))
        tombstones++;
      else if (!closed_contains (closed, 0, closed->n_losers, rev))
        open++;
    }
  if (open > 1)
    return FALSE;

  /* The row shows the record as the resolution left it: a later row can
   * only show newer edits.
   */
  if (tombstones == closed->n_revs - closed->n_losers)
    g_hash_table_remove (self->closed, id);
  return TRUE;
}

static void
on_tombstones_written_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  Batch *batch = user_data;
  PsResolver *self = batch->self;
  g_autoptr(JsonNode) answer = NULL;
  JsonArray *results;

  answer = finish_batch_request (batch, object, result, _("Closing the merged revisions in"));
  if (answer == NULL)
    return;

  /* A leaf edited meanwhile stays open: merge the record again. */
  results = JSON_NODE_HOLDS_ARRAY (answer) ? json_node_get_array (answer) : NULL;
  for (guint i = 0; results != NULL && i < json_array_get_length (results); i++)
    {
      JsonObject *item = ps_json_get_object_element (results, i);
      const char *id = item != NULL ? ps_json_get_string (item, "id") : NULL;

      if (id != NULL && json_object_has_member (item, "error"))
        retry_later (self, id, ps_json_get_string (item, "reason") != NULL
                                 ? ps_json_get_string (item, "reason") : "");
    }
  remember_closed (batch, results);

  {
    GHashTableIter iter;
    gpointer id;
    gpointer merge;

    g_hash_table_iter_init (&iter, batch->merged);
    while (g_hash_table_iter_next (&iter, &id, &merge))
      {
        const char *new_rev = g_hash_table_lookup (batch->new_revs, id);

        if (new_rev != NULL)
          report_resolution (batch, merge, new_rev);
      }
  }
  journal_outcomes (batch);

  batch_done (batch);
}

static void
on_merged_written_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  Batch *batch = user_data;
  PsResolver *self = batch->self;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) body = NULL;
  JsonArray *results;

  answer = finish_batch_request (batch, object, result, _("Writing merged records to"));
  if (answer == NULL)
    return;
  results = JSON_NODE_HOLDS_ARRAY (answer) ? json_node_get_array (answer) : NULL;
  for (guint i = 0; results != NULL && i < json_array_get_length (results); i++)
    {
      JsonObject *item = ps_json_get_object_element (results, i);
      const char *id = item != NULL ? ps_json_get_string (item, "id") : NULL;
      const char *rev = item != NULL ? ps_json_get_string (item, "rev") : NULL;

      if (id == NULL)
        continue;
      if (rev != NULL && !json_object_has_member (item, "error"))
        g_hash_table_replace (batch->new_revs, g_strdup (id), g_strdup (rev));
      else if (g_strcmp0 (ps_json_get_string (item, "error"),
                          "conflict") == 0)
        {
          retry_later (self, id, _("the record kept changing while it was merged"));
          g_hash_table_replace (batch->not_written, g_strdup (id),
                                g_strdup (_("the record kept changing while it was merged")));
        }
      else
        {
          const char *reason = ps_json_get_string (item, "reason") != NULL
                                 ? ps_json_get_string (item, "reason")
                                 : _("the server refused the merged record");

          record_failure (self, id, reason);
          g_hash_table_replace (batch->not_written, g_strdup (id), g_strdup (reason));
        }
    }

  /* Only the leaves of records whose merged revision is stored are closed. */
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "docs");
  json_builder_begin_array (builder);
  {
    GHashTableIter iter;
    gpointer id;
    gpointer merge;

    g_hash_table_iter_init (&iter, batch->merged);
    while (g_hash_table_iter_next (&iter, &id, &merge))
      {
        GPtrArray *losers = ps_merge_result_get_losing_revs (merge);

        if (!g_hash_table_contains (batch->new_revs, id))
          continue;
        for (guint i = 0; i < losers->len; i++)
          {
            json_builder_begin_object (builder);
            json_builder_set_member_name (builder, "_id");
            json_builder_add_string_value (builder, id);
            json_builder_set_member_name (builder, "_rev");
            json_builder_add_string_value (builder, g_ptr_array_index (losers, i));
            json_builder_set_member_name (builder, "_deleted");
            json_builder_add_boolean_value (builder, TRUE);
            json_builder_end_object (builder);
          }
      }
  }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  body = ps_couch_json_to_bytes (root);
  ps_couch_database_request_async (self->database, "POST", "_bulk_docs", NULL, body,
                                   get_cancellable (self), on_tombstones_written_cb, batch);
}

/* Merging */

/* The revisions a `_bulk_get` answer holds (nodes of objects with an `_id`,
 * borrowed from @answer); missing ones are left out.
 */
static GPtrArray *
fetched_revisions (JsonNode *answer)
{
  GPtrArray *revisions = g_ptr_array_new ();
  JsonArray *results = JSON_NODE_HOLDS_OBJECT (answer)
    ? ps_json_get_array (json_node_get_object (answer), "results")
    : NULL;

  for (guint i = 0; results != NULL && i < json_array_get_length (results); i++)
    {
      JsonArray *docs = ps_json_get_array (ps_json_get_object_element (results, i), "docs");

      for (guint j = 0; docs != NULL && j < json_array_get_length (docs); j++)
        {
          JsonObject *entry = ps_json_get_object_element (docs, j);
          JsonNode *ok = entry != NULL ? json_object_get_member (entry, "ok") : NULL;

          if (ok != NULL && JSON_NODE_HOLDS_OBJECT (ok) &&
              ps_json_get_string (json_node_get_object (ok), "_id") != NULL)
            g_ptr_array_add (revisions, ok);
        }
    }

  return revisions;
}

static JsonArray *
attachments_to_copy (PsMergeResult *merge)
{
  JsonNode *report = ps_merge_result_get_report (merge);

  return ps_json_get_array (json_node_get_object (report), "attachments_to_copy");
}

static char *
leaf_key (const char *id,
          const char *rev)
{
  return g_strconcat (id, "\n", rev, NULL);
}

/* The merged body's `_attachments` with the content of each attachment
 * that only a losing leaf holds, taken from @copies (leaf_key → that leaf's
 * `_attachments`). The others stay stubs: the server keeps them from the
 * winning leaf. Returns NULL when a leaf to copy from is gone.
 */
static JsonNode *
attachments_with_copies (const char    *id,
                         PsMergeResult *merge,
                         GHashTable    *copies)
{
  JsonObject *merged = json_node_get_object (ps_merge_result_get_body (merge));
  JsonArray *to_copy = attachments_to_copy (merge);
  g_autoptr(JsonObject) attachments = json_object_new ();
  JsonObject *merged_attachments = ps_json_get_object (merged, "_attachments");
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  json_object_iter_init_ordered (&iter, merged_attachments);
  while (merged_attachments != NULL && json_object_iter_next_ordered (&iter, &name, &value))
    json_object_set_member (attachments, name, json_node_copy (value));

  for (guint i = 0; to_copy != NULL && i < json_array_get_length (to_copy); i++)
    {
      JsonObject *copy = ps_json_get_object_element (to_copy, i);
      const char *att_name = ps_json_get_string (copy, "name");
      g_autofree char *key = leaf_key (id, ps_json_get_string (copy, "rev"));
      JsonObject *source = ps_json_get_object (g_hash_table_lookup (copies, key), att_name);
      JsonObject *inline_att;

      if (source == NULL || ps_json_get_string (source, "data") == NULL)
        return NULL;
      inline_att = json_object_new ();
      if (ps_json_get_string (source, "content_type") != NULL)
        json_object_set_string_member (inline_att, "content_type",
                                       ps_json_get_string (source, "content_type"));
      json_object_set_string_member (inline_att, "data", ps_json_get_string (source, "data"));
      json_object_set_object_member (attachments, att_name, inline_att);
    }

  return json_node_init_object (json_node_alloc (), attachments);
}

static void
write_merged (Batch      *batch,
              GHashTable *copies)
{
  PsResolver *self = batch->self;
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) attachments = NULL;
  g_autoptr(GString) text = g_string_new ("{\"docs\":[");
  g_autoptr(GBytes) body = NULL;
  GError *error = NULL;
  GHashTableIter iter;
  gpointer id;
  gpointer merge;
  gsize len;

  /* Attachments copied from other leaves, by record. */
  attachments = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) json_node_unref);
  g_hash_table_iter_init (&iter, batch->merged);
  while (g_hash_table_iter_next (&iter, &id, &merge))
    {
      JsonNode *copied;

      if (attachments_to_copy (merge) == NULL ||
          json_array_get_length (attachments_to_copy (merge)) == 0)
        continue;

      /* The leaf changed since it was read: merge the record again. */
      copied = attachments_with_copies (id, merge, copies);
      if (copied == NULL)
        {
          g_ptr_array_add (gone, g_strdup (id));
          continue;
        }
      g_hash_table_insert (attachments, g_strdup (id), copied);
    }

  for (guint i = 0; i < gone->len; i++)
    {
      retry_later (self, g_ptr_array_index (gone, i),
                   _("the record kept changing while it was merged"));
      g_hash_table_remove (batch->merged, g_ptr_array_index (gone, i));
    }

  if (!journal_resolutions (batch, &error))
    {
      fail_if_error (self, _("Journaling the resolutions of"), g_steal_pointer (&error));
      batch_free (batch);
      return;
    }

  if (g_hash_table_size (batch->merged) == 0)
    {
      batch_done (batch);
      return;
    }

  /* Written as text, not through json-glib: the merged bodies keep the
   * leaves' values as the leaves had them.
   */
  g_hash_table_iter_init (&iter, batch->merged);
  while (g_hash_table_iter_next (&iter, &id, &merge))
    {
      const char *written = g_hash_table_lookup (batch->bodies, id);

      if (text->str[text->len - 1] != '[')
        g_string_append_c (text, ',');
      if (written != NULL)
        g_string_append (text, written);
      else
        ps_merge_result_write_body (merge, g_hash_table_lookup (attachments, id), text);
    }
  g_string_append (text, "]}");

  len = text->len;
  body = g_bytes_new_take (g_string_free (g_steal_pointer (&text), FALSE), len);
  ps_couch_database_request_async (self->database, "POST", "_bulk_docs", NULL, body,
                                   get_cancellable (self), on_merged_written_cb, batch);
}

static void
on_copies_fetched_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  Batch *batch = user_data;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GHashTable) copies = NULL;
  g_autoptr(GPtrArray) revisions = NULL;

  answer = finish_batch_request (batch, object, result, _("Reading conflicting revisions from"));
  if (answer == NULL)
    return;

  copies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  revisions = fetched_revisions (answer);
  for (guint i = 0; i < revisions->len; i++)
    {
      JsonObject *doc = json_node_get_object (g_ptr_array_index (revisions, i));
      const char *rev = ps_json_get_string (doc, "_rev");
      JsonObject *attachments = ps_json_get_object (doc, "_attachments");

      /* The answer outlives the table, which only borrows from it. */
      if (rev != NULL && attachments != NULL)
        g_hash_table_replace (copies, leaf_key (ps_json_get_string (doc, "_id"), rev),
                              attachments);
    }

  write_merged (batch, copies);
}

/* Leaves are read with attachment stubs; only the attachments the merged
 * record takes from a losing leaf are read in full, from that leaf.
 */
static void
fetch_attachments_to_copy (Batch *batch)
{
  PsResolver *self = batch->self;
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(GHashTable) requested = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) body = NULL;
  GHashTableIter iter;
  gpointer id;
  gpointer merge;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "docs");
  json_builder_begin_array (builder);
  g_hash_table_iter_init (&iter, batch->merged);
  while (g_hash_table_iter_next (&iter, &id, &merge))
    {
      JsonArray *to_copy = attachments_to_copy (merge);

      for (guint i = 0; to_copy != NULL && i < json_array_get_length (to_copy); i++)
        {
          const char *rev = ps_json_get_string (ps_json_get_object_element (to_copy, i), "rev");

          if (rev == NULL || !g_hash_table_add (requested, leaf_key (id, rev)))
            continue;
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "id");
          json_builder_add_string_value (builder, id);
          json_builder_set_member_name (builder, "rev");
          json_builder_add_string_value (builder, rev);
          json_builder_end_object (builder);
        }
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  if (g_hash_table_size (requested) == 0)
    {
      write_merged (batch, NULL);
      return;
    }

  root = json_builder_get_root (builder);
  body = ps_couch_json_to_bytes (root);
  ps_couch_database_request_async (self->database, "POST", "_bulk_get", "attachments=true", body,
                                   get_cancellable (self), on_copies_fetched_cb, batch);
}

/* Merges the live leaves of one record, @docs at @indices, each parsed
 * on its own. Unless attachments are to be copied into it, the merged
 * body is written out at once and its tree dropped: a batch holds the
 * text of its merged records and their reports, never the trees of all
 * their leaves. Returns FALSE when a leaf could not be read, which ends
 * the run.
 */
static gboolean
merge_record (Batch          *batch,
              PsFetchedDocs  *docs,
              GBytes         *answer,
              GArray         *indices,
              GError        **error)
{
  PsResolver *self = batch->self;
  g_autoptr(PsJsonTexts) texts = ps_json_texts_new ();
  g_autoptr(GPtrArray) live = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GError) merge_error = NULL;
  g_autoptr(GString) body = NULL;
  PsMergeResult *merge;
  JsonArray *to_copy;
  const char *id = NULL;
  const char *data = g_bytes_get_data (answer, NULL);

  for (guint i = 0; i < indices->len; i++)
    {
      const PsFetchedDoc *doc = ps_fetched_docs_get (docs, g_array_index (indices, guint, i));
      g_autoptr(GBytes) text = NULL;
      JsonNode *leaf;
      JsonObject *object;

      if (doc->json == NULL)
        continue;
      text = g_bytes_new_from_bytes (answer, doc->json - data, doc->json_len);
      leaf = ps_json_texts_parse (texts, text, PS_JSON_MAX_DEPTH, error);
      if (leaf == NULL)
        return FALSE;
      object = JSON_NODE_HOLDS_OBJECT (leaf) ? json_node_get_object (leaf) : NULL;

      /* Deleted leaves are not in conflict; a leaf gone meanwhile is left
       * for the next pass.
       */
      if (object == NULL || ps_json_get_string (object, "_id") == NULL ||
          json_object_get_boolean_member_with_default (object, "_deleted", FALSE))
        {
          json_node_unref (leaf);
          continue;
        }
      id = ps_json_get_string (object, "_id");
      g_ptr_array_add (live, leaf);
    }

  if (live->len < 2)
    return TRUE;

  merge = ps_merge_leaves_with_texts ((JsonNode * const *) live->pdata, live->len, texts,
                                      &merge_error);
  if (merge == NULL)
    {
      record_failure (self, id, merge_error->message);
      return TRUE;
    }

  to_copy = attachments_to_copy (merge);
  if (to_copy == NULL || json_array_get_length (to_copy) == 0)
    {
      body = g_string_new (NULL);
      ps_merge_result_write_body (merge, NULL, body);
      ps_merge_result_release_body (merge);
      g_hash_table_replace (batch->bodies, g_strdup (id), g_string_free (g_steal_pointer (&body),
                                                                         FALSE));
    }
  g_hash_table_replace (batch->merged, g_strdup (id), merge);
  return TRUE;
}

static void
on_leaves_fetched_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  Batch *batch = user_data;
  PsResolver *self = batch->self;
  g_autoptr(PsFetchedDocs) docs = ps_fetched_docs_new ();
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GHashTable) by_id = NULL;
  g_autoptr(GPtrArray) order = g_ptr_array_new ();
  GError *error = NULL;
  guint n;

  answer = ps_couch_database_request_bytes_finish (PS_COUCH_DATABASE (object), result, &error);
  /* Found in place, without a tree of the whole answer. */
  if (answer != NULL)
    ps_fetched_docs_parse_bulk_get (docs, answer, &error);
  n = ps_fetched_docs_get_length (docs);
  by_id = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_array_unref);

  /* Merged one record at a time, whose trees go before the next. */
  for (guint i = 0; error == NULL && i < n; i++)
    {
      const char *id = ps_fetched_docs_get (docs, i)->id;
      GArray *indices = g_hash_table_lookup (by_id, id);

      if (indices == NULL)
        {
          indices = g_array_new (FALSE, FALSE, sizeof (guint));
          g_hash_table_insert (by_id, (gpointer) id, indices);
          g_ptr_array_add (order, (gpointer) id);
        }
      g_array_append_val (indices, i);
    }
  for (guint i = 0; error == NULL && i < order->len; i++)
    if (!merge_record (batch, docs, answer, g_hash_table_lookup (by_id, order->pdata[i]),
                       &error))
      {
        GError *read_error = g_error_new (PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                                          _("the server sent an answer that could not be read: %s"),
                                          error->message);

        g_clear_error (&error);
        error = read_error;
      }

  if (self->task == NULL ||
      fail_if_error (self, _("Reading conflicting revisions from"), g_steal_pointer (&error)))
    {
      g_clear_error (&error);
      batch_free (batch);
      return;
    }

  if (g_hash_table_size (batch->merged) == 0)
    {
      batch_done (batch);
      return;
    }

  fetch_attachments_to_copy (batch);
}

/* @candidates maps ids to every leaf revision they have. */
static void
fetch_leaves (Batch      *batch,
              GHashTable *candidates)
{
  PsResolver *self = batch->self;
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) body = NULL;
  GHashTableIter iter;
  gpointer id;
  gpointer revs;

  if (g_hash_table_size (candidates) == 0)
    {
      batch_done (batch);
      return;
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "docs");
  json_builder_begin_array (builder);
  g_hash_table_iter_init (&iter, candidates);
  while (g_hash_table_iter_next (&iter, &id, &revs))
    {
      GPtrArray *leaf_revs = revs;

      for (guint i = 0; i < leaf_revs->len; i++)
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "id");
          json_builder_add_string_value (builder, id);
          json_builder_set_member_name (builder, "rev");
          json_builder_add_string_value (builder, g_ptr_array_index (leaf_revs, i));
          json_builder_end_object (builder);
        }
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  body = ps_couch_json_to_bytes (root);
  /* Attachments come as stubs; see fetch_attachments_to_copy(). */
  ps_couch_database_request_bytes_async (self->database, "POST", "_bulk_get", "revs=true", body,
                                         get_cancellable (self), on_leaves_fetched_cb, batch);
}

static void
add_candidate (GHashTable *candidates,
               const char *id,
               const char *rev)
{
  GPtrArray *revs = g_hash_table_lookup (candidates, id);

  if (revs == NULL)
    {
      revs = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (candidates, g_strdup (id), revs);
    }
  g_ptr_array_add (revs, g_strdup (rev));
}

static GHashTable *
new_candidates (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                (GDestroyNotify) g_ptr_array_unref);
}

/* Finding conflicted records */

static void
on_changes_page_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(PsResolver) self = user_data;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GHashTable) candidates = new_candidates ();
  GError *error = NULL;
  JsonObject *object_answer;
  JsonArray *results;
  Batch *batch;

  answer = ps_couch_database_request_finish (PS_COUCH_DATABASE (object), result, &error);
  self->scan_in_flight = FALSE;
  if (self->task == NULL ||
      fail_if_error (self, _("Looking for conflicts in"), g_steal_pointer (&error)))
    {
      g_clear_error (&error);
      return;
    }

  object_answer = JSON_NODE_HOLDS_OBJECT (answer) ? json_node_get_object (answer) : NULL;
  results = ps_json_get_array (object_answer, "results");
  if (results == NULL || !json_object_has_member (object_answer, "last_seq"))
    {
      fail_if_error (self, _("Looking for conflicts in"),
                     g_error_new_literal (PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                                          _("the list of changes is not in CouchDB’s format")));
      return;
    }

  /* With style=all_docs a record lists every leaf: more than one may be
   * a conflict (or a deleted branch, sorted out once the leaves are read).
   */
  batch = batch_new (self);
  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonObject *row = ps_json_get_object_element (results, i);
      JsonArray *changes = ps_json_get_array (row, "changes");
      const char *id = row != NULL ? ps_json_get_string (row, "id") : NULL;
      g_autoptr(GPtrArray) revs = NULL;

      if (id == NULL || changes == NULL || json_array_get_length (changes) < 2)
        continue;
      revs = g_ptr_array_new_with_free_func (g_free);
      for (guint j = 0; j < json_array_get_length (changes); j++)
        {
          JsonObject *change = ps_json_get_object_element (changes, j);
          const char *rev = change != NULL
            ? ps_json_get_string (change, "rev")
            : NULL;

          if (rev != NULL)
            g_ptr_array_add (revs, g_strdup (rev));
        }

      if (!batch_claim (batch, id))
        hold_for_owner (self, id, g_steal_pointer (&revs));
      else if (!row_is_resolved (self, id, revs))
        for (guint j = 0; j < revs->len; j++)
          add_candidate (candidates, id, g_ptr_array_index (revs, j));
    }

  g_clear_pointer (&self->scan_since, json_node_unref);
  self->scan_since = json_node_copy (json_object_get_member (object_answer, "last_seq"));
  /* A short page read while a batch was writing misses those writes: the
   * next page waits for them.
   */
  self->scan_caught_up = json_array_get_length (results) < SCAN_PAGE_SIZE;
  if (self->scan_caught_up && self->scan_after_writes)
    self->scan_done = TRUE;

  fetch_leaves (batch, candidates);
  next_batch (self);
}

static void
scan_next_page (PsResolver *self)
{
  g_autofree char *since = NULL;
  g_autofree char *query = NULL;

  if (self->scan_since == NULL)
    since = g_strdup ("0");
  else if (JSON_NODE_HOLDS_VALUE (self->scan_since) &&
           json_node_get_value_type (self->scan_since) == G_TYPE_STRING)
    since = g_uri_escape_string (json_node_get_string (self->scan_since), NULL, FALSE);
  else
    {
      g_autofree char *text = json_to_string (self->scan_since, FALSE);

      since = g_uri_escape_string (text, NULL, FALSE);
    }

  /* Only last_seq is read: CouchDB 2 and later then encode no sequence for
   * the other rows.
   */
  query = g_strdup_printf ("style=all_docs&since=%s&limit=%u&seq_interval=%u",
                           since, SCAN_PAGE_SIZE, SCAN_PAGE_SIZE);
  self->scan_in_flight = TRUE;
  self->scan_after_writes = self->in_flight == 0;
  ps_couch_database_request_async (self->database, "GET", "_changes", query, NULL,
                                   get_cancellable (self), on_changes_page_cb,
                                   g_object_ref (self));
}

static void
on_conflicts_listed_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  Batch *batch = user_data;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GHashTable) candidates = new_candidates ();
  JsonArray *rows;

  answer = finish_batch_request (batch, object, result, _("Looking for conflicts in"));
  if (answer == NULL)
    return;

  rows = JSON_NODE_HOLDS_OBJECT (answer)
    ? ps_json_get_array (json_node_get_object (answer), "rows")
    : NULL;

  for (guint i = 0; rows != NULL && i < json_array_get_length (rows); i++)
    {
      JsonObject *row = ps_json_get_object_element (rows, i);
      JsonNode *doc_node = row != NULL ? json_object_get_member (row, "doc") : NULL;
      JsonObject *doc;
      JsonArray *conflicts;
      const char *id;
      const char *rev;

      if (doc_node == NULL || !JSON_NODE_HOLDS_OBJECT (doc_node))
        continue;
      doc = json_node_get_object (doc_node);
      id = ps_json_get_string (doc, "_id");
      rev = ps_json_get_string (doc, "_rev");
      conflicts = ps_json_get_array (doc, "_conflicts");
      if (id == NULL || rev == NULL || conflicts == NULL || json_array_get_length (conflicts) == 0)
        continue;

      add_candidate (candidates, id, rev);
      for (guint j = 0; j < json_array_get_length (conflicts); j++)
        {
          const char *loser = ps_json_get_string_element (conflicts, j);

          if (loser != NULL)
            add_candidate (candidates, id, loser);
        }
    }

  fetch_leaves (batch, candidates);
}

static void
list_conflicts_of_next_ids (PsResolver *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) body = NULL;
  Batch *batch = batch_new (self);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "keys");
  json_builder_begin_array (builder);
  while (batch->ids->len < BATCH_SIZE && !g_queue_is_empty (&self->ids))
    {
      g_autofree char *id = g_queue_pop_head (&self->ids);

      if (g_hash_table_lookup (self->busy, id) == batch)
        continue;
      if (!batch_claim (batch, id))
        hold_for_owner (self, id, NULL);
      else
        json_builder_add_string_value (builder, id);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  /* Every id was in another batch: they come back when it is done. */
  if (batch->ids->len == 0)
    {
      batch_free (batch);
      return;
    }

  root = json_builder_get_root (builder);
  body = ps_couch_json_to_bytes (root);
  ps_couch_database_request_async (self->database, "POST", "_all_docs",
                                   "include_docs=true&conflicts=true", body,
                                   get_cancellable (self), on_conflicts_listed_cb, batch);
}

static void
next_batch (PsResolver *self)
{
  g_autoptr(GTask) task = NULL;

  if (self->task == NULL)
    return;

  /* A scan page becomes a batch when it arrives, so it takes a place. */
  while (self->in_flight + (self->scan_in_flight ? 1 : 0) < MAX_IN_FLIGHT)
    {
      if (!g_queue_is_empty (&self->ids))
        list_conflicts_of_next_ids (self);
      else if (self->scan && !self->scan_done && !self->scan_in_flight &&
               !(self->scan_caught_up && self->in_flight > 0))
        scan_next_page (self);
      else
        break;
    }

  if (self->in_flight > 0 || self->scan_in_flight || !g_queue_is_empty (&self->ids) ||
      (self->scan && !self->scan_done))
    return;

  g_hash_table_remove_all (self->closed);
  task = g_steal_pointer (&self->task);
  g_task_return_boolean (task, TRUE);
}

/**
 * ps_resolver_resolve_async:
 * @self: a #PsResolver
 * @ids: (nullable) (array zero-terminated=1): the records to look at, or
 *   %NULL for every record of the database
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Resolves the conflicts among @ids. Records that could not be resolved
 * are counted and listed (see ps_resolver_get_failures()); they do not
 * fail the whole run.
 */
void
ps_resolver_resolve_async (PsResolver          *self,
                           const char * const  *ids,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (PS_IS_RESOLVER (self));
  g_return_if_fail (self->task == NULL);

  self->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (self->task, ps_resolver_resolve_async);

  self->scan = ids == NULL;
  self->scan_done = FALSE;
  self->scan_caught_up = FALSE;
  g_clear_pointer (&self->scan_since, json_node_unref);
  for (guint i = 0; ids != NULL && ids[i] != NULL; i++)
    g_queue_push_tail (&self->ids, g_strdup (ids[i]));

  next_batch (self);
}

gboolean
ps_resolver_resolve_finish (PsResolver    *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (PS_IS_RESOLVER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

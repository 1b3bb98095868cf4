/* ps-checkpoint.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Replication logs are `_local/<replication id>` documents kept on both
 * ends, in the format CouchDB's replicator writes. A replication resumes
 * from the newest sequence that both ends recorded in the same session, so a
 * log lost or rolled back on one side can only make it start earlier, never
 * skip changes.
 */

#define G_LOG_DOMAIN "ps-checkpoint"

#include "config.h"

#include "ps-checkpoint.h"
#include "ps-json.h"

/* Bump when what is replicated for the same endpoints changes meaning. */
#define REPLICATION_ID_VERSION 1

/**
 * ps_checkpoint_replication_id:
 * @source_identity: the source database URL, without credentials
 * @target_identity: the target database URL, without credentials
 * @options: (nullable): options that change what is replicated
 *
 * Returns: (transfer full): a stable id for this replication
 */
char *
ps_checkpoint_replication_id (const char *source_identity,
                              const char *target_identity,
                              const char *options)
{
  g_autofree char *material = NULL;

  material = g_strdup_printf ("primero-sync/%d\n%s\n%s\n%s", REPLICATION_ID_VERSION,
                              source_identity, target_identity, options ? options : "");

  return g_compute_checksum_for_string (G_CHECKSUM_MD5, material, -1);
}

static JsonNode *
dup_member (JsonObject *object,
            const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return NULL;

  return json_node_copy (node);
}

static JsonArray *
get_history (JsonObject *log)
{
  JsonNode *node = json_object_get_member (log, "history");

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

/**
 * ps_checkpoint_find_start_seq:
 * @source_log: (nullable): the replication log read from the source
 * @target_log: (nullable): the replication log read from the target
 *
 * Returns: (transfer full) (nullable): the sequence to start from, or %NULL
 *   to start from the beginning
 */
JsonNode *
ps_checkpoint_find_start_seq (JsonObject *source_log,
                              JsonObject *target_log)
{
  const char *source_session;
  const char *target_session;
  JsonArray *source_history;
  JsonArray *target_history;

  if (source_log == NULL || target_log == NULL)
    return NULL;

  source_session = ps_json_get_string (source_log, "session_id");
  target_session = ps_json_get_string (target_log, "session_id");
  if (source_session != NULL && g_strcmp0 (source_session, target_session) == 0)
    return dup_member (source_log, "source_last_seq");

  /* The logs disagree (one end lost a write): find the newest session both
   * ends recorded.
   */
  source_history = get_history (source_log);
  target_history = get_history (target_log);
  if (source_history == NULL || target_history == NULL)
    return NULL;

  for (guint i = 0; i < json_array_get_length (source_history); i++)
    {
      JsonObject *source_entry = ps_json_get_object_element (source_history, i);
      const char *session;

      if (source_entry == NULL)
        continue;
      session = ps_json_get_string (source_entry, "session_id");
      if (session == NULL)
        continue;

      for (guint j = 0; j < json_array_get_length (target_history); j++)
        {
          JsonObject *target_entry = ps_json_get_object_element (target_history, j);

          if (target_entry != NULL &&
              g_strcmp0 (ps_json_get_string (target_entry, "session_id"),
                         session) == 0)
            return dup_member (source_entry, "recorded_seq");
        }
    }

  return NULL;
}

/**
 * ps_checkpoint_update_log:
 * @previous_log: (nullable): the log as last read or written on one end
 * @session_id: this run's session id
 * @start_time: when this run started (RFC 1123 or ISO 8601 text)
 * @start_seq: (nullable): where this run started
 * @recorded_seq: the sequence every change up to which is on the target
 * @stats: this run's statistics, copied into the history entry
 *
 * Returns: (transfer full): the log to write, without `_id` or `_rev`
 */
JsonObject *
ps_checkpoint_update_log (JsonObject *previous_log,
                          const char *session_id,
                          const char *start_time,
                          JsonNode   *start_seq,
                          JsonNode   *recorded_seq,
                          JsonObject *stats)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *end_time = g_date_time_format_iso8601 (now);
  JsonObject *log = json_object_new ();
  JsonObject *entry = json_object_new ();
  JsonArray *history = json_array_new ();
  JsonArray *previous = previous_log != NULL ? get_history (previous_log) : NULL;

  json_object_set_string_member (entry, "session_id", session_id);
  json_object_set_string_member (entry, "start_time", start_time);
  json_object_set_string_member (entry, "end_time", end_time);
  json_object_set_member (entry, "start_last_seq",
                          start_seq != NULL ? json_node_copy (start_seq) : json_node_new (JSON_NODE_NULL));
  json_object_set_member (entry, "end_last_seq", json_node_copy (recorded_seq));
  json_object_set_member (entry, "recorded_seq", json_node_copy (recorded_seq));
  if (stats != NULL)
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *value;

      json_object_iter_init (&iter, stats);
      while (json_object_iter_next (&iter, &name, &value))
        json_object_set_member (entry, name, json_node_copy (value));
    }
  json_array_add_object_element (history, entry);

  for (guint i = 0; previous != NULL && i < json_array_get_length (previous); i++)
    {
      JsonObject *old = ps_json_get_object_element (previous, i);

      if (json_array_get_length (history) >= PS_CHECKPOINT_HISTORY_LENGTH)
        break;
      if (old == NULL ||
          g_strcmp0 (ps_json_get_string (old, "session_id"),
                     session_id) == 0)
        continue;
      json_array_add_element (history, json_node_copy (json_array_get_element (previous, i)));
    }

  json_object_set_string_member (log, "session_id", session_id);
  json_object_set_int_member (log, "replication_id_version", REPLICATION_ID_VERSION);
  json_object_set_member (log, "source_last_seq", json_node_copy (recorded_seq));
  json_object_set_array_member (log, "history", history);

  return log;
}

/**
 * ps_checkpoint_seq_to_query:
 * @seq: a sequence as the server sent it
 *
 * Sequences are opaque: numbers on CouchDB 1.x and PouchDB, strings on
 * CouchDB 2 and later. They go back in `since=` as they came.
 *
 * Returns: (transfer full): @seq escaped for a query string
 */
char *
ps_checkpoint_seq_to_query (JsonNode *seq)
{
  g_autofree char *text = NULL;

  if (seq == NULL || JSON_NODE_HOLDS_NULL (seq))
    return g_strdup ("0");

  if (JSON_NODE_HOLDS_VALUE (seq) && json_node_get_value_type (seq) == G_TYPE_STRING)
    text = g_strdup (json_node_get_string (seq));
  else
    text = json_to_string (seq, FALSE);

  return g_uri_escape_string (text, NULL, FALSE);
}

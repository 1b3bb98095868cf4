/* ps-checkpoint.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* How many past sessions a replication log keeps, as CouchDB does. */
#define PS_CHECKPOINT_HISTORY_LENGTH 50

char       *ps_checkpoint_replication_id (const char *source_identity,
                                          const char *target_identity,
                                          const char *options);
JsonNode   *ps_checkpoint_find_start_seq (JsonObject *source_log,
                                          JsonObject *target_log);
JsonObject *ps_checkpoint_update_log     (JsonObject *previous_log,
                                          const char *session_id,
                                          const char *start_time,
                                          JsonNode   *start_seq,
                                          JsonNode   *recorded_seq,
                                          JsonObject *stats);
char       *ps_checkpoint_seq_to_query   (JsonNode   *seq);

G_END_DECLS

/* ps-merge.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "ps-json.h"

G_BEGIN_DECLS

#define PS_MERGE_ERROR (ps_merge_error_quark ())

/**
 * PsMergeError:
 * @PS_MERGE_ERROR_NO_LEAVES: no leaf was given
 * @PS_MERGE_ERROR_INVALID_LEAF: a leaf is not a live document with `_id` and `_rev`
 * @PS_MERGE_ERROR_MISMATCHED_IDS: the leaves belong to different documents
 * @PS_MERGE_ERROR_TOO_DEEP: a leaf nests deeper than %PS_MERGE_MAX_DEPTH
 *
 * Why a set of leaves cannot be merged.
 */
typedef enum
{
  PS_MERGE_ERROR_NO_LEAVES,
  PS_MERGE_ERROR_INVALID_LEAF,
  PS_MERGE_ERROR_MISMATCHED_IDS,
  PS_MERGE_ERROR_TOO_DEEP,
} PsMergeError;

/**
 * PS_MERGE_MAX_DEPTH:
 *
 * The deepest nesting of objects and arrays a leaf may have.
 */
#define PS_MERGE_MAX_DEPTH 64

/**
 * PsMergeResult:
 *
 * The outcome of merging the leaves of one record: the merged body, the
 * revisions involved and a report of every decision taken. Immutable.
 */
typedef struct _PsMergeResult PsMergeResult;

GQuark         ps_merge_error_quark            (void);

PsMergeResult *ps_merge_leaves                 (JsonNode * const  *leaves,
                                                guint              n_leaves,
                                                GError           **error);
PsMergeResult *ps_merge_leaves_with_texts      (JsonNode * const  *leaves,
                                                guint              n_leaves,
                                                PsJsonTexts       *texts,
                                                GError           **error);
JsonNode      *ps_merge_result_get_body        (PsMergeResult     *result);
const char    *ps_merge_result_get_winning_rev (PsMergeResult     *result);
GPtrArray     *ps_merge_result_get_losing_revs (PsMergeResult     *result);
JsonNode      *ps_merge_result_get_report      (PsMergeResult     *result);
PsJsonTexts   *ps_merge_result_get_report_texts (PsMergeResult    *result);
guint          ps_merge_result_get_n_decisions (PsMergeResult     *result);
void           ps_merge_result_write_body      (PsMergeResult     *result,
                                                JsonNode          *attachments,
                                                GString           *out);
void           ps_merge_result_release_body    (PsMergeResult     *result);
void           ps_merge_result_free            (PsMergeResult     *result);

const char    *ps_merge_winning_rev            (JsonNode * const  *leaves,
                                                guint              n_leaves);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PsMergeResult, ps_merge_result_free)

G_END_DECLS

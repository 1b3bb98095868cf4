/* ps-fetched-docs.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * PsFetchedDoc:
 * @id: the document id
 * @rev: the revision asked for
 * @json: (nullable): the revision's JSON text, as the source sent it, inside
 *   the answer's bytes; %NULL when it could not be fetched
 * @json_len: the length of @json
 * @missing: the source no longer has this revision (it was replaced meanwhile)
 * @error: (nullable): the source's error for this revision, or `too_large`
 *   when it is over the document size limit
 * @reason: (nullable): the explanation
 *
 * One revision fetched from a source database.
 */
typedef struct
{
  char       *id;
  char       *rev;
  const char *json;
  gsize       json_len;
  gboolean    missing;
  char       *error;
  char       *reason;
} PsFetchedDoc;

typedef struct _PsFetchedDocs PsFetchedDocs;

PsFetchedDocs      *ps_fetched_docs_new               (void);
void                ps_fetched_docs_set_max_document_size (PsFetchedDocs *docs,
                                                       gsize           max_size);
gboolean            ps_fetched_docs_parse_bulk_get    (PsFetchedDocs  *docs,
                                                       GBytes         *bytes,
                                                       GError        **error);
gboolean            ps_fetched_docs_parse_open_revs   (PsFetchedDocs  *docs,
                                                       GBytes         *bytes,
                                                       GError        **error);
void                ps_fetched_docs_add_failure       (PsFetchedDocs  *docs,
                                                       const char     *id,
                                                       const char     *rev,
                                                       const char     *error,
                                                       const char     *reason);
guint               ps_fetched_docs_get_length        (PsFetchedDocs  *docs);
const PsFetchedDoc *ps_fetched_docs_get               (PsFetchedDocs  *docs,
                                                       guint           index);
guint               ps_fetched_docs_count_found       (PsFetchedDocs  *docs);
void                ps_fetched_docs_drop              (PsFetchedDocs  *docs,
                                                       guint           index);
GBytes             *ps_fetched_docs_to_bulk_docs_body (PsFetchedDocs  *docs);
GBytes             *ps_fetched_docs_to_bulk_docs_body_range (PsFetchedDocs *docs,
                                                       guint           start,
                                                       guint           end);
guint               ps_fetched_docs_count_found_range (PsFetchedDocs  *docs,
                                                       guint           start,
                                                       guint           end);
void                ps_fetched_docs_free              (PsFetchedDocs  *docs);

/* Ids in their JSON form: see ps-fetched-docs.c. */
char               *ps_couch_id_from_json             (const char     *text,
                                                       gsize           len);
JsonNode           *ps_couch_parse_json_keeping_ids   (GBytes         *bytes,
                                                       GError        **error);
void                ps_couch_append_json_id           (GString        *out,
                                                       const char     *id);
char               *ps_couch_id_to_path               (const char     *id);
char               *ps_couch_id_decode                (const char     *id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PsFetchedDocs, ps_fetched_docs_free)

G_END_DECLS

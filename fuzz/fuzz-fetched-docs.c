/* fuzz-fetched-docs.c: the scanner of `_bulk_get` and `?open_revs=` answers.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Built twice: with FUZZ_OPEN_REVS for the open_revs answer, without for
 * the _bulk_get answer. Whatever the scanner accepts is written to the
 * target as it is, so besides memory errors this checks that what it
 * accepts makes a `_bulk_docs` body that is valid JSON. PS_FUZZ_LENIENT=1
 * looks for memory errors only; PS_FUZZ_LENIENT=utf8 lets invalid UTF-8
 * pass, to look for other invalid JSON.
 */

#include "config.h"

#include <json-glib/json-glib.h>
#include <stdlib.h>

#include "fuzz-common.h"
#include "ps-fetched-docs.h"

static gboolean lenient;
static gboolean allow_invalid_utf8;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  ps_fuzz_make_warnings_fatal ();
  lenient = g_strcmp0 (g_getenv ("PS_FUZZ_LENIENT"), "1") == 0;
  allow_invalid_utf8 = g_strcmp0 (g_getenv ("PS_FUZZ_LENIENT"), "utf8") == 0;
  return 0;
}

/* Ids travel in their JSON form, NULs and all: the form is written into
 * requests as it is, so it must be a valid JSON string that reads back the
 * same, and a URL path of plain ASCII.
 */
static void
check_id_form (const char *id)
{
  g_autoptr(GString) quoted = g_string_new (NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *path = ps_couch_id_to_path (id);

  ps_couch_append_json_id (quoted, id);
  bytes = g_bytes_new (quoted->str, quoted->len);
  node = ps_couch_parse_json_keeping_ids (bytes, NULL);
  g_assert (node != NULL && JSON_NODE_HOLDS_VALUE (node));
  g_assert (g_str_equal (json_node_get_string (node), id));

  for (const char *p = path; *p != '\0'; p++)
    g_assert ((guchar) *p > 0x20 && (guchar) *p < 0x7f);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(PsFetchedDocs) docs = ps_fetched_docs_new ();
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  gboolean ok;

  /* The same answer read as the replication reads _changes and _revs_diff. */
  g_clear_pointer (&node, json_node_unref);
  node = ps_couch_parse_json_keeping_ids (bytes, NULL);

#ifdef FUZZ_OPEN_REVS
  ok = ps_fetched_docs_parse_open_revs (docs, bytes, &error);
#else
  ok = ps_fetched_docs_parse_bulk_get (docs, bytes, &error);
#endif

  if (!ok)
    {
      g_assert (error != NULL);
      g_assert (ps_fetched_docs_get_length (docs) == 0);
      return 0;
    }

  for (guint i = 0; i < ps_fetched_docs_get_length (docs); i++)
    {
      const PsFetchedDoc *doc = ps_fetched_docs_get (docs, i);
      const char *start = g_bytes_get_data (bytes, NULL);

      g_assert (doc->id != NULL);
      if (!lenient)
        {
          g_assert (g_utf8_validate (doc->id, -1, NULL));
          g_assert (doc->rev == NULL || g_utf8_validate (doc->rev, -1, NULL));
          check_id_form (doc->id);
        }
      if (doc->json != NULL)
        {
          /* The text lies inside the answer. */
          g_assert (doc->json >= start);
          g_assert (doc->json + doc->json_len <= start + size);
          g_assert (doc->json[0] == '{' && doc->json[doc->json_len - 1] == '}');
        }
    }

  body = ps_fetched_docs_to_bulk_docs_body (docs);
  if (!lenient && !(allow_invalid_utf8 &&
                     !g_utf8_validate (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                                       NULL)))
    {
      g_autoptr(JsonParser) parser = json_parser_new_immutable ();
      g_autoptr(GError) parse_error = NULL;

      if (!json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                       g_bytes_get_size (body), &parse_error))
        g_error ("the scanner accepted documents that make an invalid _bulk_docs body: %s",
                 parse_error->message);
    }

  return 0;
}

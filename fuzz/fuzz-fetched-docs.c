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

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(PsFetchedDocs) docs = ps_fetched_docs_new ();
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok;

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

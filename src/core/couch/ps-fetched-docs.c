/* ps-fetched-docs.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Revisions fetched for replication are written to the target exactly as the
 * source sent them. Building a JSON tree of every document only to write it
 * back out would cost most of the replicator's CPU and memory, so the
 * answers of `_bulk_get` and `?open_revs=` are scanned instead: each
 * document's text is located (and validated) in place, and the
 * `_bulk_docs` body is the concatenation of those texts.
 */

#define G_LOG_DOMAIN "ps-fetched-docs"

#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "ps-couch-error.h"
#include "ps-fetched-docs.h"
#include "ps-json.h"

/* Deeper JSON than this is refused rather than risk the stack. */
#define MAX_DEPTH 128

struct _PsFetchedDocs
{
  GPtrArray *bytes;  /* GBytes the documents' text points into */
  GArray    *docs;   /* PsFetchedDoc */
  gsize      max_document_size;
};

typedef struct
{
  const char *pos;
  const char *end;
} Scanner;

static void
clear_fetched_doc (gpointer data)
{
  PsFetchedDoc *doc = data;

  g_clear_pointer (&doc->id, g_free);
  g_clear_pointer (&doc->rev, g_free);
  g_clear_pointer (&doc->error, g_free);
  g_clear_pointer (&doc->reason, g_free);
}

PsFetchedDocs *
ps_fetched_docs_new (void)
{
  PsFetchedDocs *docs = g_new0 (PsFetchedDocs, 1);

  docs->bytes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  docs->docs = g_array_new (FALSE, TRUE, sizeof (PsFetchedDoc));
  g_array_set_clear_func (docs->docs, clear_fetched_doc);
  docs->max_document_size = G_MAXSIZE;

  return docs;
}

/**
 * ps_fetched_docs_set_max_document_size:
 * @docs: a #PsFetchedDocs
 * @max_size: the largest document text accepted, in bytes
 *
 * A larger revision is not kept: it is listed with the error `too_large`,
 * so that it can be reported as not copied.
 */
void
ps_fetched_docs_set_max_document_size (PsFetchedDocs *docs,
                                       gsize          max_size)
{
  g_return_if_fail (max_size > 0);

  docs->max_document_size = max_size;
}

void
ps_fetched_docs_free (PsFetchedDocs *docs)
{
  if (docs == NULL)
    return;

  g_array_unref (docs->docs);
  g_ptr_array_unref (docs->bytes);
  g_free (docs);
}

/**
 * ps_fetched_docs_add_failure:
 * @docs: a #PsFetchedDocs
 * @id: the document id
 * @rev: the revision that could not be fetched
 * @error: the error, as CouchDB names them
 * @reason: (nullable): the explanation
 */
void
ps_fetched_docs_add_failure (PsFetchedDocs *docs,
                             const char    *id,
                             const char    *rev,
                             const char    *error,
                             const char    *reason)
{
  PsFetchedDoc doc = { 0, };

  doc.id = g_strdup (id);
  doc.rev = g_strdup (rev);
  doc.error = g_strdup (error);
  doc.reason = g_strdup (reason);
  g_array_append_val (docs->docs, doc);
}

guint
ps_fetched_docs_get_length (PsFetchedDocs *docs)
{
  return docs->docs->len;
}

const PsFetchedDoc *
ps_fetched_docs_get (PsFetchedDocs *docs,
                     guint          index)
{
  g_return_val_if_fail (index < docs->docs->len, NULL);

  return &g_array_index (docs->docs, PsFetchedDoc, index);
}

guint
ps_fetched_docs_count_found (PsFetchedDocs *docs)
{
  guint found = 0;

  for (guint i = 0; i < docs->docs->len; i++)
    if (g_array_index (docs->docs, PsFetchedDoc, i).json != NULL)
      found++;

  return found;
}

static void
skip_whitespace (Scanner *scanner)
{
  while (scanner->pos < scanner->end &&
         (*scanner->pos == ' ' || *scanner->pos == '\n' ||
          *scanner->pos == '\r' || *scanner->pos == '\t'))
    scanner->pos++;
}

static gboolean
expect (Scanner *scanner,
        char     c)
{
  skip_whitespace (scanner);
  if (scanner->pos >= scanner->end || *scanner->pos != c)
    return FALSE;
  scanner->pos++;
  return TRUE;
}

static gboolean
peek (Scanner *scanner,
      char     c)
{
  skip_whitespace (scanner);
  return scanner->pos < scanner->end && *scanner->pos == c;
}

static gboolean
read_hex4 (const char *p,
           const char *end,
           gunichar   *out)
{
  gunichar value = 0;

  if (end - p < 4)
    return FALSE;
  for (int i = 0; i < 4; i++)
    {
      if (!g_ascii_isxdigit (p[i]))
        return FALSE;
      value = value * 16 + g_ascii_xdigit_value (p[i]);
    }
  *out = value;
  return TRUE;
}

/* Leaves the raw text between the quotes in start/len. */
static gboolean
scan_string (Scanner     *scanner,
             const char **start,
             gsize       *len)
{
  if (!expect (scanner, '"'))
    return FALSE;

  *start = scanner->pos;
  while (scanner->pos < scanner->end)
    {
      char c = *scanner->pos;

      if (c == '"')
        {
          *len = scanner->pos - *start;
          scanner->pos++;
          /* Documents are written on as they are: they must be valid. */
          return g_utf8_validate_len (*start, *len, NULL);
        }
      if ((guchar) c < 0x20)
        return FALSE;
      if (c == '\\')
        {
          scanner->pos++;
          if (scanner->pos >= scanner->end || strchr ("\"\\/bfnrtu", *scanner->pos) == NULL ||
              *scanner->pos == '\0')
            return FALSE;
          if (*scanner->pos == 'u')
            {
              gunichar code;
              gunichar low;

              if (!read_hex4 (scanner->pos + 1, scanner->end, &code))
                return FALSE;
              scanner->pos += 4;
              /* Written on as it is, so it must be a character: a surrogate
               * comes in a pair, high then low.
               */
              if (code >= 0xdc00 && code < 0xe000)
                return FALSE;
              if (code >= 0xd800 && code < 0xdc00)
                {
                  if (scanner->end - scanner->pos < 7 || scanner->pos[1] != '\\' ||
                      scanner->pos[2] != 'u' ||
                      !read_hex4 (scanner->pos + 3, scanner->end, &low) ||
                      low < 0xdc00 || low >= 0xe000)
                    return FALSE;
                  scanner->pos += 6;
                }
            }
        }
      scanner->pos++;
    }

  return FALSE;
}

/* Ids in their JSON form
 *
 * Document ids are byte strings of any JSON-escapable content, NUL
 * included, and json-glib cuts a string at its first NUL. The replication
 * therefore carries each id as the text between its JSON quotes, in one
 * canonical spelling: `"` and `\` escaped, control characters as `\u00xx`,
 * everything else as plain UTF-8. An id without those characters is the
 * same in this form, and the form is written back into JSON as it is.
 */

static void
append_id_char (GString  *out,
                gunichar  c)
{
  if (c == '"')
    g_string_append (out, "\\\"");
  else if (c == '\\')
    g_string_append (out, "\\\\");
  else if (c < 0x20)
    g_string_append_printf (out, "\\u%04x", c);
  else
    g_string_append_unichar (out, c);
}

/* Appends the canonical form of the JSON string text from @p to @end. */
static gboolean
append_id_form (GString    *out,
                const char *p,
                const char *end)
{
  if (!g_utf8_validate_len (p, end - p, NULL))
    return FALSE;

  while (p < end)
    {
      gunichar c;

      if (*p != '\\')
        {
          const char *next = g_utf8_next_char (p);

          if ((guchar) *p < 0x20 || *p == '"')
            return FALSE;
          g_string_append_len (out, p, next - p);
          p = next;
          continue;
        }

      if (++p >= end)
        return FALSE;
      switch (*p)
        {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u':
          if (!read_hex4 (p + 1, end, &c))
            return FALSE;
          p += 4;
          if (c >= 0xd800 && c < 0xdc00)
            {
              gunichar low;

              if (end - p > 6 && p[1] == '\\' && p[2] == 'u' &&
                  read_hex4 (p + 3, end, &low) && low >= 0xdc00 && low < 0xe000)
                {
                  c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
                  p += 6;
                }
            }
          /* A lone surrogate is no character: no server writes one. */
          if (c >= 0xd800 && c < 0xe000)
            return FALSE;
          break;
        default:
          return FALSE;
        }
      append_id_char (out, c);
      p++;
    }

  return TRUE;
}

/**
 * ps_couch_id_from_json:
 * @text: the text between the quotes of a JSON string
 * @len: its length
 *
 * Returns: (transfer full) (nullable): the id in its JSON form, or %NULL
 *   when @text is not a valid JSON string
 */
char *
ps_couch_id_from_json (const char *text,
                       gsize       len)
{
  g_autoptr(GString) out = g_string_sized_new (len);

  if (!append_id_form (out, text, text + len))
    return NULL;

  return g_string_free (g_steal_pointer (&out), FALSE);
}

/**
 * ps_couch_parse_json_keeping_ids:
 * @bytes: a server's JSON answer
 * @error: a %PS_COUCH_ERROR_INVALID_RESPONSE when it is not valid JSON
 *
 * Parses an answer whose strings are ids: every string, member names
 * included, comes out in the JSON form of ids, NULs and all.
 *
 * Returns: (transfer full) (nullable): the answer
 */
JsonNode *
ps_couch_parse_json_keeping_ids (GBytes  *bytes,
                                 GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GString) text = NULL;
  g_autoptr(GString) form = g_string_new (NULL);
  g_autoptr(GError) parse_error = NULL;
  gsize size = 0;
  const char *p = g_bytes_get_data (bytes, &size);
  const char *end;

  if (p == NULL || size == 0)
    {
      g_set_error_literal (error, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                           _("the server’s answer is empty"));
      return NULL;
    }

  /* json-glib recurses once per level, with no limit of its own. */
  if (!ps_json_depth_within (p, size, MAX_DEPTH))
    {
      g_set_error (error, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                   _("the server sent JSON nested deeper than %u levels"), MAX_DEPTH);
      return NULL;
    }

  end = p + size;
  text = g_string_sized_new (size + size / 16 + 16);
  while (p < end)
    {
      const char *close;

      if (*p != '"')
        {
          g_string_append_c (text, *p++);
          continue;
        }

      for (close = p + 1; close < end && *close != '"'; close++)
        {
          if (*close == '\\' && close + 1 < end)
            close++;
        }
      g_string_truncate (form, 0);
      if (close >= end || !append_id_form (form, p + 1, close))
        {
          g_set_error_literal (error, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                               _("the server’s answer is not valid JSON"));
          return NULL;
        }

      /* Escaped once more, so that the parser gives back the form itself. */
      g_string_append_c (text, '"');
      for (gsize i = 0; i < form->len; i++)
        {
          if (form->str[i] == '\\' || form->str[i] == '"')
            g_string_append_c (text, '\\');
          g_string_append_c (text, form->str[i]);
        }
      g_string_append_c (text, '"');
      p = close + 1;
    }

  if (!json_parser_load_from_data (parser, text->str, text->len, &parse_error))
    {
      g_set_error (error, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                   _("the server’s answer is not valid JSON: %s"), parse_error->message);
      return NULL;
    }

  return json_parser_steal_root (parser);
}

/* Writes @id, in its JSON form, as a JSON string. */
void
ps_couch_append_json_id (GString    *out,
                         const char *id)
{
  g_string_append_c (out, '"');
  g_string_append (out, id);
  g_string_append_c (out, '"');
}

/* The bytes of an id in its JSON form. */
static GString *
decode_id (const char *id)
{
  GString *bytes = g_string_new (NULL);
  const char *p = id;
  const char *end = id + strlen (id);

  while (p < end)
    {
      gunichar c;

      if (*p != '\\' || p + 1 >= end)
        {
          g_string_append_c (bytes, *p++);
          continue;
        }

      p++;
      if (*p == 'u' && read_hex4 (p + 1, end, &c))
        {
          if (c == 0)
            g_string_append_c (bytes, '\0');
          else
            g_string_append_unichar (bytes, c);
          p += 5;
        }
      else
        g_string_append_c (bytes, *p++);
    }

  return bytes;
}

/**
 * ps_couch_id_decode:
 * @id: an id in its JSON form
 *
 * Returns: (transfer full): the id itself, as the rest of the application
 *   handles ids; one with a NUL, which no C string holds, stays in its JSON
 *   form, so that it is still named whole
 */
char *
ps_couch_id_decode (const char *id)
{
  g_autoptr(GString) bytes = NULL;

  if (strchr (id, '\\') == NULL)
    return g_strdup (id);

  bytes = decode_id (id);
  if (memchr (bytes->str, '\0', bytes->len) != NULL)
    return g_strdup (id);

  return g_string_free (g_steal_pointer (&bytes), FALSE);
}

/**
 * ps_couch_id_to_path:
 * @id: an id in its JSON form
 *
 * Returns: (transfer full): the id as a URL path below the database, every
 *   byte of it escaped where a URL needs it (a NUL is `%00`)
 */
char *
ps_couch_id_to_path (const char *id)
{
  g_autoptr(GString) bytes = decode_id (id);
  g_autoptr(GString) path = g_string_new (NULL);
  gsize name_start = 0;

  /* Design and local documents keep their slash. */
  if (g_str_has_prefix (bytes->str, "_design/") || g_str_has_prefix (bytes->str, "_local/"))
    {
      name_start = strchr (bytes->str, '/') - bytes->str + 1;
      g_string_append_len (path, bytes->str, name_start);
    }

  for (gsize i = name_start; i < bytes->len; i++)
    {
      guchar c = bytes->str[i];

      if (g_ascii_isalnum (c) || strchr ("-._~", c) != NULL)
        g_string_append_c (path, c);
      else
        g_string_append_printf (path, "%%%02X", c);
    }

  return g_string_free (g_steal_pointer (&path), FALSE);
}

static char *
decode_string (const char *start,
               gsize       len)
{
  if (memchr (start, '\\', len) == NULL)
    return g_utf8_make_valid (start, len);

  return ps_couch_id_from_json (start, len);
}

static gboolean
scan_decoded_string (Scanner  *scanner,
                     char    **out)
{
  const char *start;
  gsize len;

  if (!scan_string (scanner, &start, &len))
    return FALSE;

  *out = decode_string (start, len);
  return *out != NULL;
}

static gboolean
key_is (const char *start,
        gsize       len,
        const char *key)
{
  return strlen (key) == len && memcmp (start, key, len) == 0;
}

static gboolean skip_value (Scanner *scanner,
                            guint    depth);

static gboolean
skip_container (Scanner *scanner,
                guint    depth,
                char     close,
                gboolean with_keys)
{
  if (depth > MAX_DEPTH)
    return FALSE;

  scanner->pos++;
  if (peek (scanner, close))
    {
      scanner->pos++;
      return TRUE;
    }

  for (;;)
    {
      if (with_keys)
        {
          const char *start;
          gsize len;

          if (!scan_string (scanner, &start, &len) || !expect (scanner, ':'))
            return FALSE;
        }
      if (!skip_value (scanner, depth + 1))
        return FALSE;
      if (peek (scanner, ','))
        {
          scanner->pos++;
          continue;
        }
      return expect (scanner, close);
    }
}

static gboolean
skip_literal (Scanner    *scanner,
              const char *literal)
{
  gsize len = strlen (literal);

  if ((gsize)(scanner->end - scanner->pos) < len || memcmp (scanner->pos, literal, len) != 0)
    return FALSE;
  scanner->pos += len;
  return TRUE;
}

static gboolean
skip_digits (Scanner *scanner)
{
  const char *start = scanner->pos;

  while (scanner->pos < scanner->end && g_ascii_isdigit (*scanner->pos))
    scanner->pos++;

  return scanner->pos > start;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static gboolean
skip_number (Scanner *scanner)
{
  if (scanner->pos < scanner->end && *scanner->pos == '-')
    scanner->pos++;
  if (scanner->pos < scanner->end && *scanner->pos == '0')
    scanner->pos++;
  else if (!skip_digits (scanner))
    return FALSE;

  if (scanner->pos < scanner->end && *scanner->pos == '.')
    {
      scanner->pos++;
      if (!skip_digits (scanner))
        return FALSE;
    }

  if (scanner->pos < scanner->end && (*scanner->pos == 'e' || *scanner->pos == 'E'))
    {
      scanner->pos++;
      if (scanner->pos < scanner->end && (*scanner->pos == '+' || *scanner->pos == '-'))
        scanner->pos++;
      if (!skip_digits (scanner))
        return FALSE;
    }

  return TRUE;
}

static gboolean
skip_value (Scanner *scanner,
            guint    depth)
{
  const char *start;
  gsize len;

  skip_whitespace (scanner);
  if (scanner->pos >= scanner->end)
    return FALSE;

  switch (*scanner->pos)
    {
    case '{':
      return skip_container (scanner, depth, '}', TRUE);
    case '[':
      return skip_container (scanner, depth, ']', FALSE);
    case '"':
      return scan_string (scanner, &start, &len);
    case 't':
      return skip_literal (scanner, "true");
    case 'f':
      return skip_literal (scanner, "false");
    case 'n':
      return skip_literal (scanner, "null");
    default:
      return skip_number (scanner);
    }
}

/* Walks the members of an object, calling @member for each key with the
 * scanner on its value; @member must consume the value.
 */
typedef gboolean (*MemberFunc) (Scanner    *scanner,
                                const char *key,
                                gsize       key_len,
                                gpointer    user_data);

static gboolean
scan_object (Scanner    *scanner,
             MemberFunc  member,
             gpointer    user_data)
{
  if (!expect (scanner, '{'))
    return FALSE;
  if (peek (scanner, '}'))
    {
      scanner->pos++;
      return TRUE;
    }

  for (;;)
    {
      const char *key;
      gsize key_len;

      if (!scan_string (scanner, &key, &key_len) || !expect (scanner, ':'))
        return FALSE;
      if (!member (scanner, key, key_len, user_data))
        return FALSE;
      if (peek (scanner, ','))
        {
          scanner->pos++;
          continue;
        }
      return expect (scanner, '}');
    }
}

typedef gboolean (*ElementFunc) (Scanner  *scanner,
                                 gpointer  user_data);

static gboolean
scan_array (Scanner     *scanner,
            ElementFunc  element,
            gpointer     user_data)
{
  if (!expect (scanner, '['))
    return FALSE;
  if (peek (scanner, ']'))
    {
      scanner->pos++;
      return TRUE;
    }

  for (;;)
    {
      if (!element (scanner, user_data))
        return FALSE;
      if (peek (scanner, ','))
        {
          scanner->pos++;
          continue;
        }
      return expect (scanner, ']');
    }
}

static gboolean
doc_member (Scanner    *scanner,
            const char *key,
            gsize       key_len,
            gpointer    user_data)
{
  PsFetchedDoc *doc = user_data;

  if (key_is (key, key_len, "_id") && doc->id == NULL)
    return scan_decoded_string (scanner, &doc->id);
  if (key_is (key, key_len, "_rev") && doc->rev == NULL)
    return scan_decoded_string (scanner, &doc->rev);

  return skip_value (scanner, 2);
}

static gboolean
scan_document (Scanner      *scanner,
               PsFetchedDoc *doc)
{
  const char *start;

  skip_whitespace (scanner);
  start = scanner->pos;
  if (!scan_object (scanner, doc_member, doc))
    return FALSE;

  doc->json = start;
  doc->json_len = scanner->pos - start;
  return doc->id != NULL && doc->rev != NULL;
}

/* A `{"error": {"id", "rev", "error", "reason"}}` entry is small: parse it. */
static gboolean
scan_error (Scanner      *scanner,
            PsFetchedDoc *doc)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GBytes) text_bytes = NULL;
  const char *start;
  JsonObject *object;

  skip_whitespace (scanner);
  start = scanner->pos;
  if (!skip_value (scanner, 2))
    return FALSE;

  text_bytes = g_bytes_new_static (start, scanner->pos - start);
  node = ps_couch_parse_json_keeping_ids (text_bytes, NULL);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;

  object = json_node_get_object (node);
  if (doc->id == NULL)
    doc->id = g_strdup (ps_json_get_string (object, "id"));
  if (doc->rev == NULL)
    doc->rev = g_strdup (ps_json_get_string (object, "rev"));
  doc->error = g_strdup (ps_json_get_string (object, "error") != NULL
                           ? ps_json_get_string (object, "error") : "error");
  doc->reason = g_strdup (ps_json_get_string (object, "reason"));
  if (g_strcmp0 (doc->error, "not_found") == 0)
    doc->missing = TRUE;

  return TRUE;
}

typedef struct
{
  PsFetchedDocs *docs;
  const char    *default_id;
} ResultScan;

static gboolean
entry_member (Scanner    *scanner,
              const char *key,
              gsize       key_len,
              gpointer    user_data)
{
  PsFetchedDoc *doc = user_data;
  gboolean answered = doc->json != NULL || doc->missing || doc->error != NULL;

  /* An entry answers once; a second answer in it is ignored. */
  if (answered)
    return skip_value (scanner, 2);

  if (key_is (key, key_len, "ok"))
    return scan_document (scanner, doc);
  if (key_is (key, key_len, "missing"))
    {
      doc->missing = TRUE;
      return scan_decoded_string (scanner, &doc->rev);
    }
  if (key_is (key, key_len, "error"))
    return scan_error (scanner, doc);

  return skip_value (scanner, 2);
}

/* One `{"ok": doc}`, `{"missing": rev}` or `{"error": {...}}` entry. */
static gboolean
scan_entry (Scanner  *scanner,
            gpointer  user_data)
{
  ResultScan *scan = user_data;
  PsFetchedDoc doc = { 0, };

  if (!scan_object (scanner, entry_member, &doc))
    {
      clear_fetched_doc (&doc);
      return FALSE;
    }

  if (doc.id == NULL)
    doc.id = g_strdup (scan->default_id);
  if (doc.id == NULL || (doc.json == NULL && !doc.missing && doc.error == NULL))
    {
      clear_fetched_doc (&doc);
      return FALSE;
    }

  if (doc.json != NULL && doc.json_len > scan->docs->max_document_size)
    {
      g_autofree char *limit = ps_couch_format_size_limit (scan->docs->max_document_size);

      doc.json = NULL;
      doc.json_len = 0;
      doc.error = g_strdup ("too_large");
      doc.reason = g_strdup_printf (_("the document is larger than the %s limit"), limit);
    }

  g_array_append_val (scan->docs->docs, doc);
  return TRUE;
}

typedef struct
{
  ResultScan *scan;
  char       *id;
} ResultMembers;

static gboolean
result_member (Scanner    *scanner,
               const char *key,
               gsize       key_len,
               gpointer    user_data)
{
  ResultMembers *members = user_data;

  if (key_is (key, key_len, "id") && members->id == NULL)
    {
      if (!scan_decoded_string (scanner, &members->id))
        return FALSE;
      members->scan->default_id = members->id;
      return TRUE;
    }
  if (key_is (key, key_len, "docs"))
    return scan_array (scanner, scan_entry, members->scan);

  return skip_value (scanner, 2);
}

static gboolean
scan_result (Scanner  *scanner,
             gpointer  user_data)
{
  ResultScan *scan = user_data;
  ResultMembers members = { scan, NULL };
  gboolean ok;

  scan->default_id = NULL;
  ok = scan_object (scanner, result_member, &members);
  scan->default_id = NULL;
  g_free (members.id);

  return ok;
}

static gboolean
top_member (Scanner    *scanner,
            const char *key,
            gsize       key_len,
            gpointer    user_data)
{
  if (key_is (key, key_len, "results"))
    return scan_array (scanner, scan_result, user_data);

  return skip_value (scanner, 1);
}

static gboolean
finish_scan (PsFetchedDocs  *docs,
             GBytes         *bytes,
             Scanner        *scanner,
             gboolean        ok,
             guint           first_new,
             GError        **error)
{
  if (ok)
    {
      skip_whitespace (scanner);
      ok = scanner->pos == scanner->end;
    }

  if (!ok)
    {
      g_array_set_size (docs->docs, first_new);
      g_set_error_literal (error, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                           _("the server sent documents that are not valid JSON"));
      return FALSE;
    }

  g_ptr_array_add (docs->bytes, g_bytes_ref (bytes));
  return TRUE;
}

/* An answer of _bulk_get (an object with "results") or of open_revs
 * (an array of entries).
 */
static gboolean
scan_answer (PsFetchedDocs  *docs,
             GBytes         *bytes,
             gboolean        open_revs,
             GError        **error)
{
  gsize len = 0;
  const char *data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;
  Scanner scanner = { data != NULL ? data : "", (data != NULL ? data : "") + len };
  ResultScan scan = { docs, NULL };
  guint first_new = docs->docs->len;
  gboolean scanned;

  if (len == 0)
    scanned = FALSE;
  else if (open_revs)
    scanned = scan_array (&scanner, scan_entry, &scan);
  else
    scanned = scan_object (&scanner, top_member, &scan);

  return finish_scan (docs, bytes, &scanner, scanned, first_new, error);
}

/**
 * ps_fetched_docs_parse_bulk_get:
 * @docs: where to add the revisions
 * @bytes: the answer of `POST /db/_bulk_get`
 * @error: a %PS_COUCH_ERROR_INVALID_RESPONSE when @bytes is not a valid answer
 *
 * Adds every revision of the answer, found or not. On error nothing is added.
 */
gboolean
ps_fetched_docs_parse_bulk_get (PsFetchedDocs  *docs,
                                GBytes         *bytes,
                                GError        **error)
{
  return scan_answer (docs, bytes, FALSE, error);
}

/**
 * ps_fetched_docs_parse_open_revs:
 * @docs: where to add the revisions
 * @bytes: the answer of `GET /db/{id}?open_revs=[…]` as JSON
 * @error: a %PS_COUCH_ERROR_INVALID_RESPONSE when @bytes is not a valid answer
 */
gboolean
ps_fetched_docs_parse_open_revs (PsFetchedDocs  *docs,
                                 GBytes         *bytes,
                                 GError        **error)
{
  return scan_answer (docs, bytes, TRUE, error);
}

/* Leaves a fetched revision out of the write, as if it had not come. */
void
ps_fetched_docs_drop (PsFetchedDocs *docs,
                      guint          index)
{
  PsFetchedDoc *doc;

  g_return_if_fail (index < docs->docs->len);

  doc = &g_array_index (docs->docs, PsFetchedDoc, index);
  doc->json = NULL;
  doc->json_len = 0;
}

/**
 * ps_fetched_docs_to_bulk_docs_body:
 * @docs: fetched revisions
 *
 * Returns: (transfer full): a `_bulk_docs` body with `new_edits: false`
 *   holding every revision that was found, byte for byte
 */
GBytes *
ps_fetched_docs_to_bulk_docs_body (PsFetchedDocs *docs)
{
  return ps_fetched_docs_to_bulk_docs_body_range (docs, 0, docs->docs->len);
}

/**
 * ps_fetched_docs_to_bulk_docs_body_range:
 * @docs: fetched revisions
 * @start: the first index
 * @end: one past the last index
 *
 * Returns: (transfer full): a `_bulk_docs` body with `new_edits: false`
 *   holding the revisions from @start to @end that were found
 */
GBytes *
ps_fetched_docs_to_bulk_docs_body_range (PsFetchedDocs *docs,
                                         guint          start,
                                         guint          end)
{
  GString *body;
  gsize size = 64;
  gboolean first = TRUE;

  g_return_val_if_fail (start <= end && end <= docs->docs->len, NULL);

  for (guint i = start; i < end; i++)
    size += g_array_index (docs->docs, PsFetchedDoc, i).json_len + 1;

  body = g_string_sized_new (size);
  g_string_append (body, "{\"new_edits\":false,\"docs\":[");
  for (guint i = start; i < end; i++)
    {
      const PsFetchedDoc *doc = &g_array_index (docs->docs, PsFetchedDoc, i);

      if (doc->json == NULL)
        continue;
      if (!first)
        g_string_append_c (body, ',');
      g_string_append_len (body, doc->json, doc->json_len);
      first = FALSE;
    }
  g_string_append (body, "]}");

  return g_string_free_to_bytes (body);
}

/* How many of the revisions from @start to @end were found. */
guint
ps_fetched_docs_count_found_range (PsFetchedDocs *docs,
                                   guint          start,
                                   guint          end)
{
  guint found = 0;

  g_return_val_if_fail (start <= end && end <= docs->docs->len, 0);

  for (guint i = start; i < end; i++)
    found += g_array_index (docs->docs, PsFetchedDoc, i).json != NULL;

  return found;
}

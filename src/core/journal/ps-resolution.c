/* ps-resolution.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-resolution"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-json.h"
#include "ps-resolution.h"

#include <string.h>

/* One journaled conflict resolution, as an item of a list model. */
struct _PsResolution
{
  GObject      parent_instance;

  JsonObject  *entry;
  PsJsonTexts *texts;  /* of the journal read, or NULL */
};

G_DEFINE_FINAL_TYPE (PsResolution, ps_resolution, G_TYPE_OBJECT)


/*
 * Auxiliary methods
 */

static JsonObject *
get_report (PsResolution *self)
{
  JsonNode *node = json_object_get_member (self->entry, "resolution");

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  return json_node_get_object (node);
}


/*
 * GObject overrides
 */

static void
ps_resolution_finalize (GObject *object)
{
  PsResolution *self = (PsResolution *)object;

  g_clear_pointer (&self->entry, json_object_unref);
  g_clear_pointer (&self->texts, ps_json_texts_unref);

  G_OBJECT_CLASS (ps_resolution_parent_class)->finalize (object);
}

static void
ps_resolution_class_init (PsResolutionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ps_resolution_finalize;
}

static void
ps_resolution_init (PsResolution *self)
{
}


/*
 * Public API
 */

PsResolution *
ps_resolution_new (JsonObject *entry)
{
  return ps_resolution_new_with_texts (entry, NULL);
}

/**
 * ps_resolution_new_with_texts:
 * @entry: a `resolution` entry of the journal
 * @texts: (nullable): the texts of the journal read, see
 *   ps_journal_read_with_texts()
 *
 * Returns: (transfer full): a resolution that shows and puts back its
 *   values as the journal holds them, see ps_resolution_get_texts()
 */
PsResolution *
ps_resolution_new_with_texts (JsonObject  *entry,
                              PsJsonTexts *texts)
{
  PsResolution *self;

  g_return_val_if_fail (entry != NULL, NULL);

  self = g_object_new (PS_TYPE_RESOLUTION, NULL);
  self->entry = json_object_ref (entry);
  self->texts = texts != NULL ? ps_json_texts_ref (texts) : NULL;

  return self;
}

/**
 * ps_resolution_get_texts:
 * @self: a #PsResolution
 *
 * Returns: (transfer none) (nullable): the texts of the numbers of the
 *   entry's values, to show or write them as journaled: json-glib alone
 *   holds a big integer as a rounded double
 */
PsJsonTexts *
ps_resolution_get_texts (PsResolution *self)
{
  g_return_val_if_fail (PS_IS_RESOLUTION (self), NULL);

  return self->texts;
}

JsonObject *
ps_resolution_get_entry (PsResolution *self)
{
  g_return_val_if_fail (PS_IS_RESOLUTION (self), NULL);

  return self->entry;
}

const char *
ps_resolution_get_server_id (PsResolution *self)
{
  g_return_val_if_fail (PS_IS_RESOLUTION (self), NULL);

  return ps_json_get_string (self->entry, "server");
}

const char *
ps_resolution_get_database (PsResolution *self)
{
  g_return_val_if_fail (PS_IS_RESOLUTION (self), NULL);

  return ps_json_get_string (self->entry, "database");
}

const char *
ps_resolution_get_record_id (PsResolution *self)
{
  const char *id;

  g_return_val_if_fail (PS_IS_RESOLUTION (self), NULL);

  id = ps_json_get_string (self->entry, "record");
  return id != NULL ? id : ps_json_get_string (get_report (self), "id");
}

/* The id people know a record by; the database id when there is none. */
const char *
ps_resolution_get_display_id (PsResolution *self)
{
  const char *display_id;

  g_return_val_if_fail (PS_IS_RESOLUTION (self), NULL);

  display_id = ps_json_get_string (get_report (self), "display_id");
  if (display_id == NULL || *display_id == '\0')
    display_id = ps_resolution_get_record_id (self);

  return display_id;
}

/* The record's name (a case's child, a tracing request's enquirer), or NULL. */
const char *
ps_resolution_get_name (PsResolution *self)
{
  const char *name;

  g_return_val_if_fail (PS_IS_RESOLUTION (self), NULL);

  name = ps_json_get_string (get_report (self), "name");
  return name != NULL && *name != '\0' ? name : NULL;
}

static char *
fold (const char *text)
{
  g_autofree char *normalized = g_utf8_normalize (text, -1, G_NORMALIZE_ALL);

  return normalized != NULL ? g_utf8_casefold (normalized, -1) : NULL;
}

/**
 * ps_resolution_matches:
 * @search: (nullable): what the user typed
 *
 * Whether the record is the one searched for: each word of @search is
 * found, whatever its case, in the display id, the name or the database id.
 *
 * Returns: %TRUE if it matches, or when @search is empty
 */
gboolean
ps_resolution_matches (PsResolution *self,
                       const char   *search)
{
  g_autofree char *joined = NULL;
  g_autofree char *haystack = NULL;
  g_autofree char *needle = NULL;
  g_auto(GStrv) words = NULL;
  const char *display_id;
  const char *name;
  const char *record_id;

  g_return_val_if_fail (PS_IS_RESOLUTION (self), FALSE);

  if (search == NULL)
    return TRUE;
  needle = fold (search);
  if (needle == NULL)
    return FALSE;

  display_id = ps_resolution_get_display_id (self);
  name = ps_resolution_get_name (self);
  record_id = ps_resolution_get_record_id (self);
  joined = g_strjoin ("\n", display_id ?: "", name ?: "", record_id ?: "", NULL);
  haystack = fold (joined);
  if (haystack == NULL)
    return FALSE;

  words = g_strsplit_set (needle, " \t", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (*words[i] != '\0' && strstr (haystack, words[i]) == NULL)
        return FALSE;
    }

  return TRUE;
}

const char *
ps_resolution_get_record_type (PsResolution *self)
{
  g_return_val_if_fail (PS_IS_RESOLUTION (self), NULL);

  return ps_json_get_string (get_report (self), "record_type");
}

const char *
ps_resolution_get_time (PsResolution *self)
{
  g_return_val_if_fail (PS_IS_RESOLUTION (self), NULL);

  return ps_json_get_string (self->entry, "time");
}

JsonArray *
ps_resolution_get_decisions (PsResolution *self)
{
  JsonObject *report;
  JsonNode *node;

  g_return_val_if_fail (PS_IS_RESOLUTION (self), NULL);

  report = get_report (self);
  node = report != NULL ? json_object_get_member (report, "decisions") : NULL;
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;

  return json_node_get_array (node);
}

guint
ps_resolution_get_n_decisions (PsResolution *self)
{
  JsonArray *decisions = ps_resolution_get_decisions (self);

  return decisions != NULL ? json_array_get_length (decisions) : 0;
}

/* The same resolution read again from the journal. */
gboolean
ps_resolution_equal (PsResolution *self,
                     PsResolution *other)
{
  g_return_val_if_fail (PS_IS_RESOLUTION (self), FALSE);
  g_return_val_if_fail (PS_IS_RESOLUTION (other), FALSE);

  return g_strcmp0 (ps_resolution_get_record_id (self), ps_resolution_get_record_id (other)) == 0 &&
         g_strcmp0 (ps_resolution_get_database (self), ps_resolution_get_database (other)) == 0 &&
         g_strcmp0 (ps_resolution_get_server_id (self), ps_resolution_get_server_id (other)) == 0 &&
         g_strcmp0 (ps_resolution_get_time (self), ps_resolution_get_time (other)) == 0;
}

/**
 * ps_resolution_dup_type_label:
 * @record_type: (nullable): a Primero `couchrest-type`, e.g. `Child`
 *
 * Returns: (transfer full): the record type in the user's words
 */
char *
ps_resolution_dup_type_label (const char *record_type)
{
  if (record_type == NULL || *record_type == '\0')
    return g_strdup (_("Record"));
  if (g_str_equal (record_type, "Child"))
    return g_strdup (_("Case"));
  if (g_str_equal (record_type, "Incident"))
    return g_strdup (_("Incident"));
  if (g_str_equal (record_type, "TracingRequest"))
    return g_strdup (_("Tracing request"));

  return g_strdup (record_type);
}

/**
 * ps_resolution_format_time:
 * @iso8601: (nullable): a journal time
 *
 * Returns: (transfer full): the time in the user's time zone and words
 */
char *
ps_resolution_format_time (const char *iso8601)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;

  if (iso8601 == NULL)
    return g_strdup (_("Unknown time"));

  utc = g_date_time_new_from_iso8601 (iso8601, NULL);
  if (utc == NULL)
    return g_strdup (iso8601);

  local = g_date_time_to_local (utc);
  /* Translators: a date and time as g_date_time_format() writes it,
   * e.g. “26 November 2026, 14:05”
   */
  return g_date_time_format (local, _("%-d %B %Y, %H:%M"));
}

/* ps-record-edit.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-record-edit"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ps-json.h"
#include "ps-record-edit.h"

/**
 * SECTION:ps-record-edit
 *
 * Changes one field of a record on an instance the way Primero itself
 * does: the new value, a history entry saying who changed what from what,
 * and the record's last update. The next sync carries the edit like any
 * other, and a later merge reads it from the history.
 */

G_DEFINE_QUARK (ps-record-edit-error-quark, ps_record_edit_error)

typedef struct
{
  char        *record_id;
  char        *path;
  JsonNode    *value;
  PsJsonTexts *value_texts;
  PsJournal   *journal;
  char        *server_id;
  guint        attempts;
} SetFieldData;

static void
set_field_data_free (SetFieldData *data)
{
  g_clear_pointer (&data->record_id, g_free);
  g_clear_pointer (&data->path, g_free);
  g_clear_pointer (&data->value, json_node_unref);
  g_clear_pointer (&data->value_texts, ps_json_texts_unref);
  g_clear_object (&data->journal);
  g_clear_pointer (&data->server_id, g_free);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SetFieldData, set_field_data_free)

static void get_record (GTask *task);


/*
 * Auxiliary methods
 */

static const char *
get_row_id (JsonNode *row)
{
  JsonNode *id;

  if (row == NULL || !JSON_NODE_HOLDS_OBJECT (row))
    return NULL;

  id = json_object_get_member (json_node_get_object (row), "unique_id");
  if (id == NULL || json_node_get_value_type (id) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (id);
}

static int
find_row (JsonArray  *rows,
          const char *id)
{
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      if (g_strcmp0 (get_row_id (json_array_get_element (rows, i)), id) == 0)
        return i;
    }

  return -1;
}

/* A copy of @value, with the texts @source holds for its numbers noted in
 * @texts, so that it is written as it was read.
 */
static JsonNode *
copy_value (JsonNode    *value,
            PsJsonTexts *source,
            PsJsonTexts *texts)
{
  JsonNode *copy = json_node_copy (value);

  if (texts != NULL && source != NULL)
    ps_json_texts_copy_tree (texts, copy, source, value);
  return copy;
}

/* Histories record values as Primero does: strings trimmed, blank as null. */
static JsonNode *
normalize_value (JsonNode    *value,
                 PsJsonTexts *source,
                 PsJsonTexts *texts)
{
  if (value == NULL || JSON_NODE_HOLDS_NULL (value))
    return json_node_new (JSON_NODE_NULL);

  if (json_node_get_value_type (value) == G_TYPE_STRING)
    {
      g_autofree char *text = g_strstrip (g_strdup (json_node_get_string (value)));

      if (*text == '\0')
        return json_node_new (JSON_NODE_NULL);
      return json_node_init_string (json_node_alloc (), text);
    }

  return copy_value (value, source, texts);
}

static void
set_invalid_path (GError     **error,
                  const char  *path)
{
  /* Translators: %s is the path of a field in a record, e.g. “family_details/…/name” */
  g_set_error (error, PS_RECORD_EDIT_ERROR, PS_RECORD_EDIT_ERROR_INVALID_PATH,
               _("The record has no field “%s”"), path);
}

static char *
format_primero_time (GDateTime *now)
{
  g_autoptr(GDateTime) utc = g_date_time_to_utc (now);

  return g_date_time_format (utc, "%Y/%m/%d %H:%M:%S +0000");
}


/*
 * Public API
 */

/**
 * ps_record_edit_apply:
 * @record: a Primero record, changed in place
 * @path: the field: `field`, `subform/ROW_UNIQUE_ID/field` or `nested/key`,
 *   as merge decisions name them
 * @value: (nullable): the new value; %NULL or null on a subform row
 *   removes the row
 * @user_name: who makes the change
 * @now: when
 * @error: return location for a #PsRecordEditError
 *
 * Sets a field of @record, adds a Primero history entry for the change
 * (`prev_revision` is the record's `_rev`) and updates `last_updated_at`
 * and `last_updated_by`. Does no I/O.
 *
 * Returns: %TRUE when @record was changed
 */
gboolean
ps_record_edit_apply (JsonObject  *record,
                      const char  *path,
                      JsonNode    *value,
                      const char  *user_name,
                      GDateTime   *now,
                      GError     **error)
{
  return ps_record_edit_apply_with_texts (record, NULL, path, value, NULL, user_name, now,
                                          error);
}

/**
 * ps_record_edit_apply_with_texts:
 * @record: a Primero record, changed in place
 * @record_texts: (nullable): the texts @record was read from, see
 *   ps_json_texts_parse(); the texts of the values set are added
 * @path: the field, as in ps_record_edit_apply()
 * @value: (nullable): the new value
 * @value_texts: (nullable): the texts @value was read from
 * @user_name: who makes the change
 * @now: when
 * @error: return location for a #PsRecordEditError
 *
 * As ps_record_edit_apply(), keeping the numbers of @value and of the
 * value it replaces as they were read, in the field and in the history
 * entry: write @record with ps_json_write_edited() and @record_texts. A big
 * integer held by json-glib alone is a rounded double, another number.
 *
 * Returns: %TRUE when @record was changed
 */
gboolean
ps_record_edit_apply_with_texts (JsonObject   *record,
                                 PsJsonTexts  *record_texts,
                                 const char   *path,
                                 JsonNode     *value,
                                 PsJsonTexts  *value_texts,
                                 const char   *user_name,
                                 GDateTime    *now,
                                 GError      **error)
{
  g_auto(GStrv) parts = NULL;
  g_autoptr(JsonObject) changes = json_object_new ();
  g_autoptr(JsonObject) history = json_object_new ();
  g_autoptr(JsonNode) old_value = NULL;
  g_autofree char *datetime = NULL;
  g_autofree char *uuid = NULL;
  JsonObject *change_level;
  JsonNode *container;
  JsonNode *root;
  JsonNode *histories;
  JsonNode *rev;
  const char *last;
  guint n_parts;

  g_return_val_if_fail (record != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (user_name != NULL, FALSE);
  g_return_val_if_fail (now != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  parts = g_strsplit (path, "/", -1);
  n_parts = g_strv_length (parts);
  for (guint i = 0; i < n_parts; i++)
    {
      if (*parts[i] == '\0')
        {
          set_invalid_path (error, path);
          return FALSE;
        }
    }
  if (n_parts == 0 || g_str_has_prefix (parts[0], "_") ||
      g_str_equal (parts[0], "histories"))
    {
      set_invalid_path (error, path);
      return FALSE;
    }

  root = json_node_init_object (json_node_alloc (), record);
  container = root;
  change_level = changes;

  /* Walk down to the parent of the field: objects by key, subforms by row. */
  for (guint i = 0; i + 1 < n_parts; i++)
    {
      JsonNode *child = NULL;
      JsonObject *next_level = json_object_new ();

      if (JSON_NODE_HOLDS_OBJECT (container))
        {
          JsonObject *object = json_node_get_object (container);

          child = json_object_get_member (object, parts[i]);
          if (child == NULL || JSON_NODE_HOLDS_NULL (child))
            {
              json_object_set_object_member (object, parts[i], json_object_new ());
              child = json_object_get_member (object, parts[i]);
            }
        }
      else if (JSON_NODE_HOLDS_ARRAY (container))
        {
          JsonArray *rows = json_node_get_array (container);
          int index = find_row (rows, parts[i]);

          if (index >= 0)
            child = json_array_get_element (rows, index);
        }

      if (child == NULL || (!JSON_NODE_HOLDS_OBJECT (child) && !JSON_NODE_HOLDS_ARRAY (child)))
        {
          json_object_unref (next_level);
          json_node_unref (root);
          set_invalid_path (error, path);
          return FALSE;
        }

      json_object_set_object_member (change_level, parts[i], next_level);
      change_level = next_level;
      container = child;
    }

  last = parts[n_parts - 1];

  if (JSON_NODE_HOLDS_OBJECT (container))
    {
      JsonObject *object = json_node_get_object (container);
      JsonNode *current = json_object_get_member (object, last);

      old_value = current != NULL ? copy_value (current, record_texts, record_texts) : NULL;
      json_object_set_member (object, last,
                              value != NULL ? copy_value (value, value_texts, record_texts)
                                            : json_node_new (JSON_NODE_NULL));
    }
  else if (JSON_NODE_HOLDS_ARRAY (container))
    {
      JsonArray *rows = json_node_get_array (container);
      int index = find_row (rows, last);
      gboolean remove = value == NULL || JSON_NODE_HOLDS_NULL (value);

      if (!remove && (!JSON_NODE_HOLDS_OBJECT (value) ||
                      g_strcmp0 (get_row_id (value), last) != 0))
        {
          json_node_unref (root);
          set_invalid_path (error, path);
          return FALSE;
        }

      if (index >= 0)
        {
          old_value = copy_value (json_array_get_element (rows, index), record_texts,
                                  record_texts);
          json_array_remove_element (rows, index);
        }
      if (!remove)
        {
          /* A row comes back where it was, or at the end. */
          g_autoptr(JsonArray) rebuilt = json_array_new ();

          for (guint i = 0; i < json_array_get_length (rows); i++)
            {
              if ((int) i == index)
                json_array_add_element (rebuilt, copy_value (value, value_texts, record_texts));
              json_array_add_element (rebuilt, json_node_copy (json_array_get_element (rows, i)));
            }
          if (index < 0 || (guint) index >= json_array_get_length (rows))
            json_array_add_element (rebuilt, copy_value (value, value_texts, record_texts));

          while (json_array_get_length (rows) > 0)
            json_array_remove_element (rows, 0);
          for (guint i = 0; i < json_array_get_length (rebuilt); i++)
            json_array_add_element (rows, json_node_copy (json_array_get_element (rebuilt, i)));
        }
      else if (index < 0)
        {
          json_node_unref (root);
          set_invalid_path (error, path);
          return FALSE;
        }

      if (remove)
        json_object_set_null_member (change_level, last);
    }
  else
    {
      json_node_unref (root);
      set_invalid_path (error, path);
      return FALSE;
    }

  json_node_unref (root);

  if (!json_object_has_member (change_level, last))
    {
      JsonObject *from_to = json_object_new ();

      json_object_set_member (from_to, "from",
                              normalize_value (old_value, record_texts, record_texts));
      json_object_set_member (from_to, "to", normalize_value (value, value_texts, record_texts));
      json_object_set_object_member (change_level, last, from_to);
    }

  datetime = format_primero_time (now);
  uuid = g_uuid_string_random ();
  rev = json_object_get_member (record, "_rev");

  json_object_set_string_member (history, "unique_id", uuid);
  json_object_set_string_member (history, "datetime", datetime);
  json_object_set_string_member (history, "user_name", user_name);
  json_object_set_null_member (history, "user_organization");
  if (rev != NULL && json_node_get_value_type (rev) == G_TYPE_STRING)
    json_object_set_string_member (history, "prev_revision", json_node_get_string (rev));
  else
    json_object_set_null_member (history, "prev_revision");
  json_object_set_string_member (history, "action", "update");
  json_object_set_object_member (history, "changes", g_steal_pointer (&changes));

  /* Histories are newest first. */
  histories = json_object_get_member (record, "histories");
  if (histories == NULL || !JSON_NODE_HOLDS_ARRAY (histories))
    {
      json_object_set_array_member (record, "histories", json_array_new ());
      histories = json_object_get_member (record, "histories");
    }
  {
    JsonArray *entries = json_node_get_array (histories);
    g_autoptr(JsonArray) older = json_array_ref (entries);
    g_autoptr(JsonArray) rebuilt = json_array_new ();

    json_array_add_object_element (rebuilt, g_steal_pointer (&history));
    for (guint i = 0; i < json_array_get_length (older); i++)
      json_array_add_element (rebuilt, json_node_copy (json_array_get_element (older, i)));
    json_object_set_array_member (record, "histories", g_steal_pointer (&rebuilt));
  }

  json_object_set_string_member (record, "last_updated_at", datetime);
  json_object_set_string_member (record, "last_updated_by", user_name);

  return TRUE;
}


/*
 * Callbacks
 */

static void
journal_edit (SetFieldData    *data,
              PsCouchDatabase *database)
{
  g_autoptr(JsonObject) entry = json_object_new ();
  g_autoptr(PsJsonTexts) texts = ps_json_texts_new ();
  g_autoptr(GError) error = NULL;

  if (data->journal == NULL)
    return;

  json_object_set_string_member (entry, "kind", "manual-edit");
  if (data->server_id != NULL)
    json_object_set_string_member (entry, "server", data->server_id);
  json_object_set_string_member (entry, "database", ps_couch_database_get_name (database));
  json_object_set_string_member (entry, "record", data->record_id);
  json_object_set_string_member (entry, "path", data->path);
  json_object_set_member (entry, "value",
                          data->value != NULL ? copy_value (data->value, data->value_texts, texts)
                                              : json_node_new (JSON_NODE_NULL));

  /* The record is saved; a journal that cannot be written is only logged. */
  if (!ps_journal_append_with_texts (data->journal, entry, texts, &error))
    g_warning ("The journal could not be written: %s", error->message);
}

static void
on_record_put_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  PsCouchDatabase *database = PS_COUCH_DATABASE (source);
  g_autoptr(GTask) task = G_TASK (user_data);
  SetFieldData *data = g_task_get_task_data (task);
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;

  answer = ps_couch_database_request_finish (database, result, &error);
  if (g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_CONFLICT))
    {
      /* Someone saved the record meanwhile: edit their version, once. */
      if (data->attempts < 2)
        {
          get_record (g_steal_pointer (&task));
          return;
        }

      g_task_return_new_error (task, PS_RECORD_EDIT_ERROR, PS_RECORD_EDIT_ERROR_CONFLICT,
                               _("The record kept changing while it was saved; "
                                 "try again"));
      return;
    }
  if (error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  journal_edit (data, database);
  g_task_return_boolean (task, TRUE);
}

static void
on_record_got_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  PsCouchDatabase *database = PS_COUCH_DATABASE (source);
  g_autoptr(GTask) task = G_TASK (user_data);
  SetFieldData *data = g_task_get_task_data (task);
  g_autoptr(JsonNode) record = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(PsJsonTexts) texts = ps_json_texts_new ();
  g_autoptr(GString) text = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *escaped = NULL;
  GCancellable *cancellable;
  gsize len;

  /* Read as text, so that the fields the edit leaves alone are saved as
   * they were read: json-glib alone would rewrite big integers and some
   * doubles, or make them invalid JSON.
   */
  answer = ps_couch_database_request_bytes_finish (database, result, &error);
  if (answer != NULL)
    record = ps_json_texts_parse (texts, answer, PS_JSON_MAX_DEPTH, NULL);
  if (g_error_matches (error, PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_FOUND))
    {
      /* Translators: the first %s is a record id, the second a database name */
      g_task_return_new_error (task, PS_RECORD_EDIT_ERROR, PS_RECORD_EDIT_ERROR_NOT_FOUND,
                               _("The record “%s” is not in the database “%s” of this "
                                 "instance"),
                               data->record_id, ps_couch_database_get_name (database));
      return;
    }
  if (error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (record == NULL || !JSON_NODE_HOLDS_OBJECT (record))
    {
      g_task_return_new_error (task, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_RESPONSE,
                               _("The record “%s” could not be read"), data->record_id);
      return;
    }

  now = g_date_time_new_now_utc ();
  if (!ps_record_edit_apply_with_texts (json_node_get_object (record), texts, data->path,
                                        data->value, data->value_texts, g_get_user_name (), now,
                                        &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  escaped = ps_couch_escape_id (data->record_id);
  text = g_string_new (NULL);
  ps_json_write_edited (text, record, texts);
  len = text->len;
  body = g_bytes_new_take (g_string_free (g_steal_pointer (&text), FALSE), len);
  cancellable = g_task_get_cancellable (task);
  ps_couch_database_request_async (database, "PUT", escaped, NULL, body, cancellable,
                                   on_record_put_cb, g_steal_pointer (&task));
}

static void
get_record (GTask *task)
{
  PsCouchDatabase *database = g_task_get_source_object (task);
  SetFieldData *data = g_task_get_task_data (task);
  g_autofree char *escaped = ps_couch_escape_id (data->record_id);

  data->attempts++;
  ps_couch_database_request_bytes_async (database, "GET", escaped, NULL, NULL,
                                         g_task_get_cancellable (task),
                                         on_record_got_cb, task);
}

/**
 * ps_record_edit_set_field_async:
 * @database: the record database on this instance
 * @record_id: the record's `_id`
 * @path: the field, as in ps_record_edit_apply()
 * @value: (nullable): the new value
 * @value_texts: (nullable): the texts @value was read from, see
 *   ps_json_texts_parse(): its numbers are written as they were read
 * @journal: (nullable): where to journal the edit
 * @server_id: (nullable): the server whose sync showed the field, for the journal
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the record is saved or could not be
 * @user_data: data for @callback
 *
 * Reads the current revision of the record, sets the field with
 * ps_record_edit_apply() and saves it. When the record changed meanwhile
 * (409), it is read and edited again, once. The edit is journaled as a
 * `manual-edit` entry `{server, database, record, path, value}`.
 */
void
ps_record_edit_set_field_async (PsCouchDatabase     *database,
                                const char          *record_id,
                                const char          *path,
                                JsonNode            *value,
                                PsJsonTexts         *value_texts,
                                PsJournal           *journal,
                                const char          *server_id,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(SetFieldData) data = NULL;

  g_return_if_fail (PS_IS_COUCH_DATABASE (database));
  g_return_if_fail (record_id != NULL);
  g_return_if_fail (path != NULL);
  g_return_if_fail (journal == NULL || PS_IS_JOURNAL (journal));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  data = g_new0 (SetFieldData, 1);
  data->record_id = g_strdup (record_id);
  data->path = g_strdup (path);
  /* The node itself, not a copy: @value_texts knows it, and it is not
   * changed.
   */
  data->value = value != NULL ? json_node_ref (value) : NULL;
  data->value_texts = value_texts != NULL ? ps_json_texts_ref (value_texts) : NULL;
  data->journal = journal != NULL ? g_object_ref (journal) : NULL;
  data->server_id = g_strdup (server_id);

  task = g_task_new (database, cancellable, callback, user_data);
  g_task_set_source_tag (task, ps_record_edit_set_field_async);
  g_task_set_task_data (task, g_steal_pointer (&data), (GDestroyNotify) set_field_data_free);

  get_record (g_steal_pointer (&task));
}

/**
 * ps_record_edit_set_field_finish:
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #PsRecordEditError or #PsCouchError
 *
 * Returns: %TRUE when the record was saved with the new value
 */
gboolean
ps_record_edit_set_field_finish (GAsyncResult  *result,
                                 GError       **error)
{
  g_autoptr(GObject) database = NULL;

  g_return_val_if_fail (G_IS_TASK (result), FALSE);

  database = g_async_result_get_source_object (result);
  g_return_val_if_fail (g_task_is_valid (result, database), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        ps_record_edit_set_field_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

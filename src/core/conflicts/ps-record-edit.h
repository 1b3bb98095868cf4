/* ps-record-edit.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "ps-couch-database.h"
#include "ps-journal.h"
#include "ps-json.h"

G_BEGIN_DECLS

#define PS_RECORD_EDIT_ERROR (ps_record_edit_error_quark ())

/**
 * PsRecordEditError:
 * @PS_RECORD_EDIT_ERROR_NOT_FOUND: the record is not in the database
 * @PS_RECORD_EDIT_ERROR_INVALID_PATH: the path names no field of the record
 * @PS_RECORD_EDIT_ERROR_CONFLICT: the record kept changing while it was saved
 *
 * Errors from editing a record.
 */
typedef enum
{
  PS_RECORD_EDIT_ERROR_NOT_FOUND,
  PS_RECORD_EDIT_ERROR_INVALID_PATH,
  PS_RECORD_EDIT_ERROR_CONFLICT,
} PsRecordEditError;

GQuark   ps_record_edit_error_quark      (void);
gboolean ps_record_edit_apply            (JsonObject           *record,
                                          const char           *path,
                                          JsonNode             *value,
                                          const char           *user_name,
                                          GDateTime            *now,
                                          GError              **error);
gboolean ps_record_edit_apply_with_texts (JsonObject           *record,
                                          PsJsonTexts          *record_texts,
                                          const char           *path,
                                          JsonNode             *value,
                                          PsJsonTexts          *value_texts,
                                          const char           *user_name,
                                          GDateTime            *now,
                                          GError              **error);
void     ps_record_edit_set_field_async  (PsCouchDatabase      *database,
                                          const char           *record_id,
                                          const char           *path,
                                          JsonNode             *value,
                                          PsJsonTexts          *value_texts,
                                          PsJournal            *journal,
                                          const char           *server_id,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
gboolean ps_record_edit_set_field_finish (GAsyncResult         *result,
                                          GError              **error);

G_END_DECLS

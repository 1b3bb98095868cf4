/* ps-export-state.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "ps-export.h"
#include "ps-server-store.h"

G_BEGIN_DECLS

#define PS_TYPE_EXPORT_STATE (ps_export_state_get_type ())

G_DECLARE_FINAL_TYPE (PsExportState, ps_export_state, PS, EXPORT_STATE, GObject)

/* The peer name of exports meant for every server. */
#define PS_EXPORT_STATE_ALL "all"

PsExportState *ps_export_state_new_for_path (const char     *path);
PsExportState *ps_export_state_new_for_store (PsServerStore *store);
const char    *ps_export_state_get_path     (PsExportState  *self);
gboolean       ps_export_state_load         (PsExportState  *self,
                                             GError        **error);
gboolean       ps_export_state_save         (PsExportState  *self,
                                             GError        **error);
JsonNode      *ps_export_state_get_since    (PsExportState  *self,
                                             const char     *peer,
                                             const char     *database);
void           ps_export_state_set_since    (PsExportState  *self,
                                             const char     *peer,
                                             const char     *database,
                                             JsonNode       *seq);
void           ps_export_state_record       (PsExportState  *self,
                                             const char     *peer,
                                             PsExport       *export,
                                             char          **databases);
JsonObject    *ps_export_state_get_last_file (PsExportState *self,
                                             const char     *peer);
void           ps_export_state_add_imported (PsExportState  *self,
                                             const char     *instance,
                                             const char     *file_id);
gboolean       ps_export_state_was_imported (PsExportState  *self,
                                             const char     *instance,
                                             const char     *file_id);

G_END_DECLS

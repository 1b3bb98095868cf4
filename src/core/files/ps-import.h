/* ps-import.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "ps-export-state.h"
#include "ps-journal.h"
#include "ps-server-access.h"

G_BEGIN_DECLS

#define PS_TYPE_IMPORT (ps_import_get_type ())

G_DECLARE_FINAL_TYPE (PsImport, ps_import, PS, IMPORT, GObject)

PsImport   *ps_import_new           (PsServerAccess       *access);
void        ps_import_set_journal   (PsImport             *self,
                                     PsJournal            *journal);
void        ps_import_set_state     (PsImport             *self,
                                     PsExportState        *state);
void        ps_import_run_async     (PsImport             *self,
                                     const char           *path,
                                     const char           *passphrase,
                                     GCancellable         *cancellable,
                                     GAsyncReadyCallback   callback,
                                     gpointer              user_data);
gboolean    ps_import_run_finish    (PsImport             *self,
                                     GAsyncResult         *result,
                                     GError              **error);
guint       ps_import_get_n_revisions (PsImport           *self);
guint       ps_import_get_n_present (PsImport             *self);
guint       ps_import_get_n_written (PsImport             *self);
guint       ps_import_get_n_resolved (PsImport            *self);
guint       ps_import_get_n_unresolved (PsImport          *self);
const char *ps_import_get_warning   (PsImport             *self);

G_END_DECLS

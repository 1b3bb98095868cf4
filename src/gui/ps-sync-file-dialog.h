/* ps-sync-file-dialog.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "ps-context.h"

G_BEGIN_DECLS

#define PS_TYPE_SYNC_FILE_DIALOG (ps_sync_file_dialog_get_type ())

G_DECLARE_FINAL_TYPE (PsSyncFileDialog, ps_sync_file_dialog, PS, SYNC_FILE_DIALOG, GtkDialog)

PsSyncFileDialog *ps_sync_file_dialog_new_export (GtkWindow  *parent,
                                                  PsContext  *context,
                                                  const char *path);
PsSyncFileDialog *ps_sync_file_dialog_new_import (GtkWindow  *parent,
                                                  PsContext  *context,
                                                  const char *path);

G_END_DECLS

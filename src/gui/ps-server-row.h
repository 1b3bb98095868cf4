/* ps-server-row.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "ps-server.h"
#include "ps-sync-job.h"
#include "ps-sync-manager.h"

G_BEGIN_DECLS

#define PS_TYPE_SERVER_ROW (ps_server_row_get_type ())

G_DECLARE_FINAL_TYPE (PsServerRow, ps_server_row, PS, SERVER_ROW, GtkListBoxRow)

PsServerRow *ps_server_row_new        (PsServer      *server,
                                       PsSyncJob     *job,
                                       PsSyncManager *manager);
PsServer    *ps_server_row_get_server (PsServerRow   *self);
PsSyncJob   *ps_server_row_get_job    (PsServerRow   *self);

G_END_DECLS

/* ps-server-dialog.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "ps-context.h"

G_BEGIN_DECLS

#define PS_TYPE_SERVER_DIALOG (ps_server_dialog_get_type ())

G_DECLARE_FINAL_TYPE (PsServerDialog, ps_server_dialog, PS, SERVER_DIALOG, GtkDialog)

PsServerDialog *ps_server_dialog_new         (GtkWindow      *parent,
                                              PsContext      *context,
                                              PsServer       *server);
void            ps_server_dialog_focus_field (PsServerDialog *self,
                                              const char     *field);

G_END_DECLS

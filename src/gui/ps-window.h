/* ps-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "ps-application.h"
#include "ps-context.h"

G_BEGIN_DECLS

#define PS_TYPE_WINDOW (ps_window_get_type ())

G_DECLARE_FINAL_TYPE (PsWindow, ps_window, PS, WINDOW, GtkApplicationWindow)

PsWindow *ps_window_new         (PsApplication *application,
                                 PsContext     *context);
PsContext *ps_window_get_context (PsWindow      *self);
void      ps_window_sync_all    (PsWindow      *self);
void      ps_window_show_server (PsWindow      *self,
                                 const char    *server_id);

G_END_DECLS

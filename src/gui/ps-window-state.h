/* ps-window-state.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void ps_window_state_bind (GtkWindow *window,
                           GSettings *settings);

G_END_DECLS

/* ps-quiet-widgets.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void ps_quiet_label_set_text (GtkLabel   *label,
                              const char *text);
void ps_quiet_button_set     (GtkButton  *button,
                              const char *label,
                              const char *action_name,
                              const char *tooltip);

G_END_DECLS

/* ps-autostart.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

char     *ps_autostart_dup_path    (void);
gboolean  ps_autostart_get_enabled (void);
gboolean  ps_autostart_set_enabled (gboolean   enabled,
                                    GError   **error);

G_END_DECLS

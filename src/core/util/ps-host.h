/* ps-host.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean ps_host_is_loopback (const char *host);

G_END_DECLS

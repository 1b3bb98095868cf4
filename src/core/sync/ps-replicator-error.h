/* ps-replicator-error.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *ps_replicator_error_describe (const char *reason);
char *ps_replicator_error_one_line (const char *text);

G_END_DECLS

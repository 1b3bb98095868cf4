/* ps-timestamp.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean  ps_timestamp_parse          (const char *text,
                                       gint64     *out_usec);
char     *ps_timestamp_format_iso8601 (gint64      usec);

G_END_DECLS

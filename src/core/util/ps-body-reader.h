/* ps-body-reader.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "ps-bandwidth-limiter.h"

G_BEGIN_DECLS

void    ps_body_reader_read_async  (GInputStream         *stream,
                                    gsize                 max_size,
                                    PsBandwidthLimiter   *limiter,
                                    GCancellable         *cancellable,
                                    GAsyncReadyCallback   callback,
                                    gpointer              user_data);
GBytes *ps_body_reader_read_finish (GAsyncResult         *result,
                                    GError              **error);
void    ps_body_reader_send_async  (SoupSession          *session,
                                    SoupMessage          *message,
                                    gsize                 max_size,
                                    GCancellable         *cancellable,
                                    GAsyncReadyCallback   callback,
                                    gpointer              user_data);
GBytes *ps_body_reader_send_finish (GAsyncResult         *result,
                                    SoupMessage         **message,
                                    GError              **error);

G_END_DECLS

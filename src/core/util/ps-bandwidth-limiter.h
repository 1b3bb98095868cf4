/* ps-bandwidth-limiter.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define PS_TYPE_BANDWIDTH_LIMITER (ps_bandwidth_limiter_get_type ())

G_DECLARE_FINAL_TYPE (PsBandwidthLimiter, ps_bandwidth_limiter, PS, BANDWIDTH_LIMITER, GObject)

PsBandwidthLimiter *ps_bandwidth_limiter_new         (guint                kbytes_per_second);
guint               ps_bandwidth_limiter_get_rate    (PsBandwidthLimiter  *self);
void                ps_bandwidth_limiter_set_rate    (PsBandwidthLimiter  *self,
                                                      guint                kbytes_per_second);
void                ps_bandwidth_limiter_wait_async  (PsBandwidthLimiter  *self,
                                                      gsize                n_bytes,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean            ps_bandwidth_limiter_wait_finish (PsBandwidthLimiter  *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
void                ps_bandwidth_limiter_refund      (PsBandwidthLimiter  *self,
                                                      gsize                n_bytes);

G_END_DECLS

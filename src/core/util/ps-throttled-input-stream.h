/* ps-throttled-input-stream.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "ps-bandwidth-limiter.h"

G_BEGIN_DECLS

#define PS_TYPE_THROTTLED_INPUT_STREAM (ps_throttled_input_stream_get_type ())

G_DECLARE_FINAL_TYPE (PsThrottledInputStream, ps_throttled_input_stream,
                      PS, THROTTLED_INPUT_STREAM, GMemoryInputStream)

GInputStream *ps_throttled_input_stream_new (GBytes             *bytes,
                                             PsBandwidthLimiter *limiter);

G_END_DECLS

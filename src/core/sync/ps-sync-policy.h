/* ps-sync-policy.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PS_SYNC_POLICY_FIRST_BACKOFF_MS  1000
#define PS_SYNC_POLICY_MAX_BACKOFF_MS    (5 * 60 * 1000)
#define PS_SYNC_POLICY_ONE_SHOT_ATTEMPTS 3

guint     ps_sync_policy_next_backoff_ms  (guint    previous_ms);
guint     ps_sync_policy_jittered_ms      (guint    backoff_ms,
                                           double   jitter);
gboolean  ps_sync_policy_gives_up         (gboolean transient,
                                           gboolean one_shot,
                                           guint    attempts);
gboolean  ps_sync_policy_metered_blocks   (gboolean one_shot,
                                           gboolean allow_metered,
                                           gboolean metered);
gboolean  ps_sync_policy_needs_consent    (gboolean one_shot,
                                           gboolean allow_metered,
                                           gboolean metered);
gboolean  ps_sync_policy_is_stalled       (gint64   now,
                                           gint64   last_progress,
                                           guint    stall_seconds);

G_END_DECLS

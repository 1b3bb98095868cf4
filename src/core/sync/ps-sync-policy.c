/* ps-sync-policy.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The decisions of a sync, apart from the I/O that acts on them, so that
 * they are tested on their own and taken the same way by the job, the
 * window and the command line.
 */

#define G_LOG_DOMAIN "ps-sync-policy"

#include "config.h"

#include "ps-sync-policy.h"

/**
 * ps_sync_policy_next_backoff_ms:
 * @previous_ms: the delay before the last retry, or 0 after a success
 *
 * Returns: the delay before the next retry: 1 s, doubling up to 5 min
 */
guint
ps_sync_policy_next_backoff_ms (guint previous_ms)
{
  if (previous_ms == 0)
    return PS_SYNC_POLICY_FIRST_BACKOFF_MS;
  if (previous_ms >= PS_SYNC_POLICY_MAX_BACKOFF_MS / 2)
    return PS_SYNC_POLICY_MAX_BACKOFF_MS;
  return previous_ms * 2;
}

/**
 * ps_sync_policy_jittered_ms:
 * @backoff_ms: a delay from ps_sync_policy_next_backoff_ms()
 * @jitter: a random factor, clamped to 0.8–1.2
 *
 * Offices that failed together must not retry in lockstep.
 *
 * Returns: the delay to wait
 */
guint
ps_sync_policy_jittered_ms (guint  backoff_ms,
                            double jitter)
{
  return (guint) (backoff_ms * CLAMP (jitter, 0.8, 1.2));
}

/**
 * ps_sync_policy_gives_up:
 * @transient: whether the failure may pass by itself (see
 *   ps_couch_error_is_transient())
 * @one_shot: whether the sync runs once
 * @attempts: the attempts of this pass so far, this one included
 *
 * A failure that needs the user stops at once; a one-shot sync, which
 * someone is waiting for, stops after three attempts; a continuous one
 * keeps trying.
 *
 * Returns: whether the sync fails for good
 */
gboolean
ps_sync_policy_gives_up (gboolean transient,
                         gboolean one_shot,
                         guint    attempts)
{
  return !transient || (one_shot && attempts >= PS_SYNC_POLICY_ONE_SHOT_ATTEMPTS);
}

/**
 * ps_sync_policy_metered_blocks:
 * @one_shot: whether the sync runs once
 * @allow_metered: the server's #PsServer:allow-metered
 * @metered: whether the connection may cost money
 *
 * Only a continuous sync waits for a free connection by itself; a one-shot
 * sync is the user's explicit choice (see ps_sync_policy_needs_consent()).
 *
 * Returns: whether a continuous sync pauses
 */
gboolean
ps_sync_policy_metered_blocks (gboolean one_shot,
                               gboolean allow_metered,
                               gboolean metered)
{
  return !one_shot && !allow_metered && metered;
}

/**
 * ps_sync_policy_needs_consent:
 * @one_shot: whether the sync runs once
 * @allow_metered: the server's #PsServer:allow-metered
 * @metered: whether the connection may cost money
 *
 * Returns: whether the user must say yes (the window asks, the command
 *   line wants `--allow-metered`) before a sync starts
 */
gboolean
ps_sync_policy_needs_consent (gboolean one_shot,
                              gboolean allow_metered,
                              gboolean metered)
{
  return one_shot && !allow_metered && metered;
}

/**
 * ps_sync_policy_is_stalled:
 * @now: the monotonic time, in µs
 * @last_progress: when the work last moved (or first failed), in µs
 * @stall_seconds: how long nothing may move
 *
 * Returns: whether a continuous sync with work pending has not moved for
 *   too long
 */
gboolean
ps_sync_policy_is_stalled (gint64 now,
                           gint64 last_progress,
                           guint  stall_seconds)
{
  return now - last_progress >= (gint64) stall_seconds * G_USEC_PER_SEC;
}

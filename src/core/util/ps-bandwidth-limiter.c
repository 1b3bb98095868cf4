/* ps-bandwidth-limiter.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A bandwidth cap shared by the requests of one server in one direction.
 * Each caller reserves the bytes it is about to move; reservations are
 * served one after the other at the configured rate, so that requests in
 * parallel share the cap instead of each getting it. Waiting is a main-loop
 * timeout: nothing blocks and nothing spins.
 */

#define G_LOG_DOMAIN "ps-bandwidth-limiter"

#include "config.h"

#include "ps-bandwidth-limiter.h"

/* After an idle spell, this much may pass at once: enough for one read or
 * write, too little to be seen as a burst on a slow link.
 */
#define BURST_USEC (G_USEC_PER_SEC / 10)

struct _PsBandwidthLimiter
{
  GObject parent_instance;

  guint   bytes_per_second;   /* 0 = no limit */
  gint64  next_free;          /* monotonic µs when the next reservation may start */
};

G_DEFINE_FINAL_TYPE (PsBandwidthLimiter, ps_bandwidth_limiter, G_TYPE_OBJECT)

static void
ps_bandwidth_limiter_class_init (PsBandwidthLimiterClass *klass)
{
}

static void
ps_bandwidth_limiter_init (PsBandwidthLimiter *self)
{
}

/**
 * ps_bandwidth_limiter_new:
 * @kbytes_per_second: the cap in kB/s (1000 bytes), or 0 for none
 *
 * Returns: (transfer full): a limiter
 */
PsBandwidthLimiter *
ps_bandwidth_limiter_new (guint kbytes_per_second)
{
  PsBandwidthLimiter *self = g_object_new (PS_TYPE_BANDWIDTH_LIMITER, NULL);

  ps_bandwidth_limiter_set_rate (self, kbytes_per_second);
  return self;
}

guint
ps_bandwidth_limiter_get_rate (PsBandwidthLimiter *self)
{
  g_return_val_if_fail (PS_IS_BANDWIDTH_LIMITER (self), 0);

  return self->bytes_per_second / 1000;
}

void
ps_bandwidth_limiter_set_rate (PsBandwidthLimiter *self,
                               guint               kbytes_per_second)
{
  g_return_if_fail (PS_IS_BANDWIDTH_LIMITER (self));

  self->bytes_per_second = MIN (kbytes_per_second, G_MAXUINT / 1000) * 1000;
}

static gint64
cost_usec (PsBandwidthLimiter *self,
           gsize               n_bytes)
{
  return (gint64) ((double) n_bytes * G_USEC_PER_SEC / self->bytes_per_second);
}

static gboolean
on_wait_ready_cb (gpointer user_data)
{
  GTask *task = user_data;

  if (!g_task_return_error_if_cancelled (task))
    g_task_return_boolean (task, TRUE);

  return G_SOURCE_REMOVE;
}

/**
 * ps_bandwidth_limiter_wait_async:
 * @self: a #PsBandwidthLimiter
 * @n_bytes: how many bytes the caller is about to send or receive
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the bytes may pass
 * @user_data: data for @callback
 *
 * Reserves @n_bytes of the cap. Without a limit, the callback runs at once.
 */
void
ps_bandwidth_limiter_wait_async (PsBandwidthLimiter  *self,
                                 gsize                n_bytes,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSource) source = NULL;
  gint64 now = g_get_monotonic_time ();
  gint64 start;

  g_return_if_fail (PS_IS_BANDWIDTH_LIMITER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ps_bandwidth_limiter_wait_async);

  if (self->bytes_per_second == 0)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  start = MAX (self->next_free, now - BURST_USEC);
  self->next_free = start + cost_usec (self, n_bytes);

  if (start <= now)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  source = g_timeout_source_new ((guint) ((start - now + 999) / 1000));
  if (cancellable != NULL)
    {
      g_autoptr(GSource) cancel_source = g_cancellable_source_new (cancellable);

      /* A cancelled wait ends at once, not when its turn comes. */
      g_source_set_dummy_callback (cancel_source);
      g_source_add_child_source (source, cancel_source);
    }
  g_task_attach_source (task, source, on_wait_ready_cb);
}

gboolean
ps_bandwidth_limiter_wait_finish (PsBandwidthLimiter  *self,
                                  GAsyncResult        *result,
                                  GError             **error)
{
  g_return_val_if_fail (PS_IS_BANDWIDTH_LIMITER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * ps_bandwidth_limiter_refund:
 * @self: a #PsBandwidthLimiter
 * @n_bytes: reserved bytes that did not pass after all
 *
 * Gives back what a read reserved but did not get, so that short reads do
 * not slow the others down.
 */
void
ps_bandwidth_limiter_refund (PsBandwidthLimiter *self,
                             gsize               n_bytes)
{
  g_return_if_fail (PS_IS_BANDWIDTH_LIMITER (self));

  if (self->bytes_per_second == 0 || n_bytes == 0)
    return;

  self->next_free = MAX (self->next_free - cost_usec (self, n_bytes),
                         g_get_monotonic_time () - BURST_USEC);
}

/* ps-throttled-input-stream.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A request body that libsoup reads no faster than a bandwidth limiter
 * allows. It stays a seekable memory stream, so that libsoup can rewind it
 * when it sends a request again.
 */

#define G_LOG_DOMAIN "ps-throttled-input-stream"

#include "config.h"

#include "ps-throttled-input-stream.h"

#define CHUNK_SIZE 8192

struct _PsThrottledInputStream
{
  GMemoryInputStream  parent_instance;

  PsBandwidthLimiter *limiter;
  gsize               size;
};

G_DEFINE_FINAL_TYPE (PsThrottledInputStream, ps_throttled_input_stream, G_TYPE_MEMORY_INPUT_STREAM)

typedef struct
{
  void  *buffer;
  gsize  count;
} ReadData;

static void
ps_throttled_input_stream_dispose (GObject *object)
{
  PsThrottledInputStream *self = (PsThrottledInputStream *)object;

  g_clear_object (&self->limiter);

  G_OBJECT_CLASS (ps_throttled_input_stream_parent_class)->dispose (object);
}

static void
on_tokens_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GInputStream *stream = g_task_get_source_object (task);
  ReadData *data = g_task_get_task_data (task);
  GError *error = NULL;
  gssize n;

  if (!ps_bandwidth_limiter_wait_finish (PS_BANDWIDTH_LIMITER (object), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* A memory stream reads at once; the wait above was the throttle. */
  n = G_INPUT_STREAM_CLASS (ps_throttled_input_stream_parent_class)->read_fn (stream, data->buffer,
                                                                              data->count, NULL,
                                                                              &error);
  if (n < 0)
    g_task_return_error (task, error);
  else
    g_task_return_int (task, n);
}

static void
ps_throttled_input_stream_read_async (GInputStream        *stream,
                                      void                *buffer,
                                      gsize                count,
                                      int                  io_priority,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  PsThrottledInputStream *self = PS_THROTTLED_INPUT_STREAM (stream);
  g_autoptr(GTask) task = g_task_new (stream, cancellable, callback, user_data);
  goffset position = g_seekable_tell (G_SEEKABLE (stream));
  ReadData *data = g_new0 (ReadData, 1);

  g_task_set_source_tag (task, ps_throttled_input_stream_read_async);
  g_task_set_priority (task, io_priority);
  data->buffer = buffer;
  data->count = MIN (MIN (count, CHUNK_SIZE), self->size - MIN ((gsize) position, self->size));
  g_task_set_task_data (task, data, g_free);

  if (data->count == 0)
    {
      g_task_return_int (task, 0);
      return;
    }

  ps_bandwidth_limiter_wait_async (self->limiter, data->count, cancellable, on_tokens_cb,
                                   g_steal_pointer (&task));
}

static gssize
ps_throttled_input_stream_read_finish (GInputStream  *stream,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, stream), -1);

  return g_task_propagate_int (G_TASK (result), error);
}

static void
ps_throttled_input_stream_class_init (PsThrottledInputStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  object_class->dispose = ps_throttled_input_stream_dispose;
  stream_class->read_async = ps_throttled_input_stream_read_async;
  stream_class->read_finish = ps_throttled_input_stream_read_finish;
}

static void
ps_throttled_input_stream_init (PsThrottledInputStream *self)
{
}

/**
 * ps_throttled_input_stream_new:
 * @bytes: the body
 * @limiter: the cap its asynchronous reads share
 *
 * Returns: (transfer full): a stream over @bytes
 */
GInputStream *
ps_throttled_input_stream_new (GBytes             *bytes,
                               PsBandwidthLimiter *limiter)
{
  PsThrottledInputStream *self;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (PS_IS_BANDWIDTH_LIMITER (limiter), NULL);

  self = g_object_new (PS_TYPE_THROTTLED_INPUT_STREAM, NULL);
  self->limiter = g_object_ref (limiter);
  self->size = g_bytes_get_size (bytes);
  g_memory_input_stream_add_bytes (G_MEMORY_INPUT_STREAM (self), bytes);

  return G_INPUT_STREAM (self);
}

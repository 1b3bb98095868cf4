/* ps-body-reader.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reads an answer's body into memory, but never more than a limit: a
 * hostile or broken server could otherwise send an endless body and take
 * all the memory. Reading stops as soon as the limit is passed.
 */

#define G_LOG_DOMAIN "ps-body-reader"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-body-reader.h"

#define CHUNK_SIZE          (64 * 1024)
/* Under a cap, smaller reads keep the rate even. */
#define THROTTLED_READ_SIZE (16 * 1024)

typedef struct
{
  GByteArray         *data;
  gsize               max_size;
  PsBandwidthLimiter *limiter;    /* only while it limits */
  gsize               asked;
} ReadData;

static void
read_data_free (ReadData *read_data)
{
  g_clear_pointer (&read_data->data, g_byte_array_unref);
  g_clear_object (&read_data->limiter);
  g_free (read_data);
}

static void read_next (GTask *task);

static void
return_too_large (GTask *task,
                  gsize  max_size)
{
  g_autofree char *limit = g_format_size_full (max_size, G_FORMAT_SIZE_IEC_UNITS);

  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                           _("the server sent an answer larger than %s"), limit);
}

static void
on_chunk_read_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ReadData *read_data = g_task_get_task_data (task);
  g_autoptr(GBytes) chunk = NULL;
  GError *error = NULL;
  gsize len;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, &error);
  if (chunk == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  len = g_bytes_get_size (chunk);
  if (read_data->limiter != NULL)
    ps_bandwidth_limiter_refund (read_data->limiter, read_data->asked - len);
  if (len == 0)
    {
      g_task_return_pointer (task, g_byte_array_free_to_bytes (g_steal_pointer (&read_data->data)),
                             (GDestroyNotify) g_bytes_unref);
      return;
    }

  if (len > read_data->max_size - read_data->data->len)
    {
      return_too_large (task, read_data->max_size);
      return;
    }

  g_byte_array_append (read_data->data, g_bytes_get_data (chunk, NULL), len);
  read_next (g_steal_pointer (&task));
}

static void
read_chunk (GTask *task)
{
  ReadData *read_data = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (g_task_get_source_object (task), read_data->asked,
                                   G_PRIORITY_DEFAULT, g_task_get_cancellable (task),
                                   on_chunk_read_cb, task);
}

static void
on_read_turn_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!ps_bandwidth_limiter_wait_finish (PS_BANDWIDTH_LIMITER (object), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  read_chunk (g_steal_pointer (&task));
}

static void
read_next (GTask *task)
{
  ReadData *read_data = g_task_get_task_data (task);
  gsize room = read_data->max_size - read_data->data->len;

  /* One byte more than the room left is enough to notice a body over the
   * limit.
   */
  read_data->asked = MIN (read_data->limiter != NULL ? THROTTLED_READ_SIZE : CHUNK_SIZE,
                          room + 1);
  if (read_data->limiter == NULL)
    {
      read_chunk (task);
      return;
    }

  /* Under a cap, each read waits its turn first. */
  ps_bandwidth_limiter_wait_async (read_data->limiter, read_data->asked,
                                   g_task_get_cancellable (task), on_read_turn_cb, task);
}

/**
 * ps_body_reader_read_async:
 * @stream: the body
 * @max_size: the most bytes accepted
 * @limiter: (nullable): a download cap the reads wait for
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the body, or with %G_IO_ERROR_MESSAGE_TOO_LARGE
 *   as soon as @stream has more than @max_size bytes
 * @user_data: data for @callback
 *
 * Reads @stream to its end; the stream is left open.
 */
void
ps_body_reader_read_async (GInputStream        *stream,
                           gsize                max_size,
                           PsBandwidthLimiter  *limiter,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ReadData *read_data;

  g_return_if_fail (G_IS_INPUT_STREAM (stream));
  g_return_if_fail (max_size > 0);

  task = g_task_new (stream, cancellable, callback, user_data);
  g_task_set_source_tag (task, ps_body_reader_read_async);
  read_data = g_new0 (ReadData, 1);
  read_data->data = g_byte_array_new ();
  read_data->max_size = max_size;
  if (limiter != NULL && ps_bandwidth_limiter_get_rate (limiter) > 0)
    read_data->limiter = g_object_ref (limiter);
  g_task_set_task_data (task, read_data, (GDestroyNotify) read_data_free);

  read_next (g_steal_pointer (&task));
}

/**
 * ps_body_reader_read_finish:
 * @result: the result
 * @error: return location for an error
 *
 * Returns: (transfer full): the whole body
 */
GBytes *
ps_body_reader_read_finish (GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ps_body_reader_read_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  SoupMessage *message;
  gsize        max_size;
} SendData;

static void
send_data_free (SendData *send_data)
{
  g_clear_object (&send_data->message);
  g_free (send_data);
}

static void
on_sent_stream_closed_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_input_stream_close_finish (G_INPUT_STREAM (object), result, NULL);
}

/* Closing a body that was not read to its end makes libsoup drop the
 * connection rather than read the rest.
 */
static void
close_body (GInputStream *stream)
{
  g_input_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, on_sent_stream_closed_cb, NULL);
}

static void
on_sent_body_read_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  GBytes *body;

  body = ps_body_reader_read_finish (result, &error);
  close_body (G_INPUT_STREAM (object));
  if (body == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, body, (GDestroyNotify) g_bytes_unref);
}

static void
on_message_sent_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SendData *send_data = g_task_get_task_data (task);
  SoupMessageHeaders *headers = soup_message_get_response_headers (send_data->message);
  g_autoptr(GInputStream) stream = NULL;
  GCancellable *cancellable;
  GError *error = NULL;

  stream = soup_session_send_finish (SOUP_SESSION (object), result, &error);
  if (stream == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* A declared length over the limit is refused before reading any of it. */
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length (headers) > (goffset) send_data->max_size)
    {
      close_body (stream);
      return_too_large (task, send_data->max_size);
      return;
    }

  cancellable = g_task_get_cancellable (task);
  ps_body_reader_read_async (stream, send_data->max_size, NULL, cancellable,
                             on_sent_body_read_cb, g_steal_pointer (&task));
}

/**
 * ps_body_reader_send_async:
 * @session: a #SoupSession
 * @message: the request
 * @max_size: the most bytes of answer accepted
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the answer's body, or with
 *   %G_IO_ERROR_MESSAGE_TOO_LARGE as soon as it has more than @max_size bytes
 * @user_data: data for @callback
 *
 * soup_session_send_and_read_async() with a limit: for answers from other
 * servers, which could otherwise send an endless body.
 */
void
ps_body_reader_send_async (SoupSession         *session,
                           SoupMessage         *message,
                           gsize                max_size,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SendData *send_data;

  g_return_if_fail (SOUP_IS_SESSION (session));
  g_return_if_fail (SOUP_IS_MESSAGE (message));
  g_return_if_fail (max_size > 0);

  task = g_task_new (session, cancellable, callback, user_data);
  g_task_set_source_tag (task, ps_body_reader_send_async);
  send_data = g_new0 (SendData, 1);
  send_data->message = g_object_ref (message);
  send_data->max_size = max_size;
  g_task_set_task_data (task, send_data, (GDestroyNotify) send_data_free);

  soup_session_send_async (session, message, G_PRIORITY_DEFAULT, cancellable,
                           on_message_sent_cb, g_steal_pointer (&task));
}

/**
 * ps_body_reader_send_finish:
 * @result: the result
 * @message: (out) (transfer none) (optional): the message sent, whose
 *   status and headers are the answer's
 * @error: return location for an error
 *
 * Returns: (transfer full): the whole body
 */
GBytes *
ps_body_reader_send_finish (GAsyncResult  *result,
                            SoupMessage  **message,
                            GError       **error)
{
  SendData *send_data;

  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ps_body_reader_send_async,
                        NULL);

  send_data = g_task_get_task_data (G_TASK (result));
  if (message != NULL)
    *message = send_data->message;
  return g_task_propagate_pointer (G_TASK (result), error);
}

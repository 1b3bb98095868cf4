/* ps-diagnostics-timing.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Checks 8 and 9: the server’s clock, and the speed of the link.
 */

#define G_LOG_DOMAIN "ps-diagnostics"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ps-diagnostics-private.h"

/* 8. Clock */

void
ps_diag_check_clock (GTask *task)
{
  Run *run = g_task_get_task_data (task);
  g_autofree char *difference = NULL;
  g_autofree char *explanation = NULL;
  gint64 offset = run->clock_offset;
  PsDiagnosticVerdict verdict;
  const char *advice;

  ps_diag_start_check (task, "clock", _("Clock"));

  if (!run->have_clock)
    {
      ps_diag_end_check (task, PS_DIAGNOSTIC_SKIPPED,
                         _("Not checked: the server did not say what time it is."), NULL);
      return;
    }

  difference = ps_diag_format_seconds (offset);
  advice = _("Set the right time on this computer and on the server (turn on automatic time "
             "or NTP on both). Conflicts are resolved by the time of each change, so a wrong "
             "clock lets older edits win over newer ones.");

  if (ABS (offset) <= CLOCK_WARNING_SECONDS)
    {
      explanation = g_strdup_printf (_("The clocks of this computer and the server agree "
                                       "(difference: %s)."), difference);
      ps_diag_end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
      return;
    }

  if (offset > 0)
    explanation = g_strdup_printf (_("The server’s clock is %s ahead of this computer’s."),
                                   difference);
  else
    explanation = g_strdup_printf (_("The server’s clock is %s behind this computer’s."),
                                   difference);

  verdict = ABS (offset) > CLOCK_FAILURE_SECONDS ? PS_DIAGNOSTIC_FAIL : PS_DIAGNOSTIC_WARNING;
  ps_diag_end_check (task, verdict, explanation, advice);
}

/* 9. Latency and throughput */

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static void
finish_latency (GTask  *task,
                gint64  bytes,
                gint64  elapsed)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GString) explanation = g_string_new (NULL);
  gint64 sorted[LATENCY_SAMPLES];
  guint median_ms;

  memcpy (sorted, run->samples, sizeof sorted);
  qsort (sorted, LATENCY_SAMPLES, sizeof (gint64), compare_gint64);
  median_ms = sorted[LATENCY_SAMPLES / 2] / 1000;

  g_string_append_printf (explanation,
                          _("Median round trip %u ms over %u requests (fastest %u ms, slowest "
                            "%u ms)."),
                          median_ms, (guint) LATENCY_SAMPLES,
                          (guint) (sorted[0] / 1000),
                          (guint) (sorted[LATENCY_SAMPLES - 1] / 1000));

  if (bytes >= THROUGHPUT_MIN_BYTES && elapsed > 0)
    {
      guint64 per_second = bytes * (gdouble) G_USEC_PER_SEC / elapsed;
      g_autofree char *rate = g_format_size (per_second);

      g_string_append_c (explanation, ' ');
      /* TRANSLATORS: %s is a size such as "1.2 MB" */
      g_string_append_printf (explanation, _("Downloads run at roughly %s per second."), rate);
    }

  if (median_ms > SLOW_LATENCY_MS)
    {
      ps_diag_end_check (task, PS_DIAGNOSTIC_WARNING, explanation->str,
                         self->continuous
                           ? _("The link is slow: syncs will take long. Continuous sync over such "
                               "a link may keep timing out; a one-shot sync at a quiet time may "
                               "work better.")
                           : _("The link is slow: syncs will take long. Sync at a quiet time, or "
                               "from a better connection."));
      return;
    }

  ps_diag_end_check (task, PS_DIAGNOSTIC_PASS, explanation->str, NULL);
}

static void
on_throughput_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  SoupMessage *message = NULL;
  gint64 elapsed = g_get_monotonic_time () - run->request_started;

  body = ps_diag_finish_request (task, result, &message, &error);
  if (ps_diag_stop_if_cancelled (task))
    return;

  /* The speed is a bonus: without it, the latency still says enough. */
  if (body == NULL || !SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (message)))
    finish_latency (task, 0, 0);
  else
    finish_latency (task, g_bytes_get_size (body), elapsed);
}

static void
on_round_trip_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  SoupMessage *message = NULL;
  gint64 elapsed = g_get_monotonic_time () - run->request_started;

  body = ps_diag_finish_request (task, result, &message, &error);
  if (ps_diag_stop_if_cancelled (task))
    return;

  if (body == NULL)
    {
      ps_diag_end_with_transport_error (task, error);
      return;
    }

  run->samples[run->n_samples++] = elapsed;
  if (run->n_samples < LATENCY_SAMPLES)
    {
      ps_diag_send_request (task, "GET", "/", NULL, NULL, run->send_credentials, on_round_trip_cb);
      return;
    }

  /* CouchDB hands out up to 1000 ids per request: some 40 kB to time. */
  ps_diag_send_request (task, "GET", "/_uuids?count=1000", NULL, NULL, run->send_credentials,
                        on_throughput_cb);
}

void
ps_diag_check_latency (GTask *task)
{
  Run *run = g_task_get_task_data (task);

  ps_diag_start_check (task, "latency", _("Speed"));
  run->n_samples = 0;
  ps_diag_send_request (task, "GET", "/", NULL, NULL, run->send_credentials, on_round_trip_cb);
}

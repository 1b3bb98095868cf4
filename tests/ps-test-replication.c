/* ps-test-replication.c: running a replication from a test.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-test-replication.h"

#include <string.h>

static void
on_run_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  PsTestRun *run = user_data;

  run->ok = ps_replication_run_finish (PS_REPLICATION (object), result, &run->error);
  run->done = TRUE;
}

/**
 * ps_test_replication_start:
 * @replication: a #PsReplication
 * @cancellable: (nullable): ends a continuous run
 * @run: filled in when the run ends; @run->done says when
 *
 * Starts @replication; the test's main loop runs it.
 */
void
ps_test_replication_start (PsReplication *replication,
                           GCancellable  *cancellable,
                           PsTestRun     *run)
{
  memset (run, 0, sizeof *run);
  ps_replication_run_async (replication, cancellable, on_run_done_cb, run);
}

static gboolean
on_watchdog_cb (gpointer user_data)
{
  PsReplication *replication = user_data;

  g_error ("the replication did not end in time (state %d, last error: %s)",
           ps_replication_get_state (replication),
           ps_replication_get_last_error (replication));
  return G_SOURCE_REMOVE;
}

/**
 * ps_test_replication_run:
 * @replication: a #PsReplication
 * @cancellable: (nullable): a #GCancellable
 * @timeout_s: how long it may take
 * @run: its outcome
 *
 * Runs @replication to its end. A run that hangs fails the test with what
 * the replication was doing, not with a bare timeout.
 */
void
ps_test_replication_run (PsReplication *replication,
                         GCancellable  *cancellable,
                         guint          timeout_s,
                         PsTestRun     *run)
{
  guint watchdog = g_timeout_add_seconds (timeout_s, on_watchdog_cb, replication);

  ps_test_replication_start (replication, cancellable, run);
  while (!run->done)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (watchdog);
}

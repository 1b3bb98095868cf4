/* ps-test-replication.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ps-replication.h"

G_BEGIN_DECLS

typedef struct
{
  gboolean  done;
  gboolean  ok;
  GError   *error;
} PsTestRun;

void ps_test_replication_start (PsReplication *replication,
                                GCancellable  *cancellable,
                                PsTestRun     *run);
void ps_test_replication_run   (PsReplication *replication,
                                GCancellable  *cancellable,
                                guint          timeout_s,
                                PsTestRun     *run);

G_END_DECLS

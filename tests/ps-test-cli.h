/* ps-test-cli.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  int   status;
  char *out;
  char *err;
} PsCliResult;

void ps_cli_result_clear (PsCliResult        *result);
void ps_test_run_cli     (PsCliResult        *result,
                          const char         *home,
                          const char         *input,
                          const char * const *args);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PsCliResult, ps_cli_result_clear)

G_END_DECLS

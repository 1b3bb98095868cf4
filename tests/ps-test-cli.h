/* ps-test-cli.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  int   status;
  char *out;
  char *err;
} PsCliResult;

/* How to run the command; fields left zero keep the defaults. */
typedef struct
{
  const char         *home;       /* its `config` and `state`; NULL: this process's */
  const char         *input;      /* its standard input */
  const char * const *env;        /* NAME=VALUE, set on top of this process's */
  guint               timeout_s;  /* fails the test if it runs longer; 0: no limit */
  gboolean            debug;      /* with all of its debug messages */
} PsCliOptions;

typedef struct _PsTestCli PsTestCli;

void         ps_cli_result_clear     (PsCliResult        *result);
void         ps_test_run_cli         (PsCliResult        *result,
                                      const char         *home,
                                      const char         *input,
                                      const char * const *args);
void         ps_test_run_cli_full    (PsCliResult        *result,
                                      const PsCliOptions *options,
                                      const char * const *args);
PsTestCli   *ps_test_cli_start       (const PsCliOptions *options,
                                      const char * const *args);
GSubprocess *ps_test_cli_get_process (PsTestCli          *cli);
gboolean     ps_test_cli_is_done     (PsTestCli          *cli);
void         ps_test_cli_finish      (PsTestCli          *cli,
                                      PsCliResult        *result);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PsCliResult, ps_cli_result_clear)

G_END_DECLS

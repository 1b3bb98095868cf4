/* ps-cli-commands.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Each command parses its own options from argv (argv[0] is the command name)
 * and returns the process exit status.
 */
typedef int (*PsCliCommandFunc) (int    argc,
                                 char **argv);

typedef struct
{
  const char       *name;
  const char       *summary;
  PsCliCommandFunc  run;
} PsCliCommand;

int ps_cli_replicate (int    argc,
                      char **argv);

G_END_DECLS

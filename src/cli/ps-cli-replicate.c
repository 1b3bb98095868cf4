/* ps-cli-replicate.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "ps-cli-commands.h"
#include "ps-cli-common.h"

int
ps_cli_replicate (int    argc,
                  char **argv)
{
  g_printerr (_("Replication is not available yet.\n"));
  return PS_CLI_EXIT_FAILED;
}

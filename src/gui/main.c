/* main.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "ps-application.h"

#include <sys/prctl.h>

int
main (int   argc,
      char *argv[])
{
  g_autoptr(PsApplication) app = NULL;

  /* A core file would hold passwords and records in the clear; this also
   * keeps other processes of the same user from reading our memory.
   */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);

  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_set_application_name (_("Primero Sync"));

  app = ps_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}

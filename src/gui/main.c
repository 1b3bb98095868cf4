/* main.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "ps-application.h"

#include <sys/prctl.h>

/* Run from a meson build tree (build/src/gui/primero-sync), the settings
 * schema is the one compiled into build/data, not an installed one: without
 * it GSettings aborts at startup. The build tree is recognised by its own
 * files, so an installed binary never looks there.
 */
static void
use_build_tree_schemas (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *exe_dir = NULL;
  g_autofree char *build_root = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *compiled = NULL;
  g_autofree char *ninja = NULL;
  g_autofree char *dirs = NULL;
  const char *current;

  if (exe == NULL)
    return;

  exe_dir = g_path_get_dirname (exe);
  build_root = g_build_filename (exe_dir, "..", "..", NULL);
  ninja = g_build_filename (build_root, "build.ninja", NULL);
  data_dir = g_build_filename (build_root, "data", NULL);
  compiled = g_build_filename (data_dir, "gschemas.compiled", NULL);
  if (!g_file_test (ninja, G_FILE_TEST_IS_REGULAR) ||
      !g_file_test (compiled, G_FILE_TEST_IS_REGULAR))
    return;

  current = g_getenv ("GSETTINGS_SCHEMA_DIR");
  if (current != NULL && *current != '\0')
    dirs = g_strconcat (data_dir, G_SEARCHPATH_SEPARATOR_S, current, NULL);
  else
    dirs = g_strdup (data_dir);
  g_setenv ("GSETTINGS_SCHEMA_DIR", dirs, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(PsApplication) app = NULL;

  /* A core file would hold passwords and records in the clear; this also
   * keeps other processes of the same user from reading our memory.
   */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  use_build_tree_schemas ();

  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_set_application_name (_("Primero Sync"));

  app = ps_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}

/* ps-autostart.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-autostart"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "ps-autostart.h"

/* Starting at login is an XDG autostart entry in the user's configuration,
 * written only when the user opts in. The application then runs as a
 * service without a window, kept alive by continuous sync.
 */

/**
 * ps_autostart_dup_path:
 *
 * Returns: (transfer full): where the autostart entry of the application is
 */
char *
ps_autostart_dup_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "autostart",
                           APPLICATION_ID ".desktop", NULL);
}

/**
 * ps_autostart_get_enabled:
 *
 * Returns: %TRUE if the application starts when the user logs in
 */
gboolean
ps_autostart_get_enabled (void)
{
  g_autofree char *path = ps_autostart_dup_path ();

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/**
 * ps_autostart_set_enabled:
 * @enabled: whether to start at login
 * @error: return location for a #GFileError
 *
 * Writes or removes the autostart entry.
 *
 * Returns: %TRUE on success
 */
gboolean
ps_autostart_set_enabled (gboolean   enabled,
                          GError   **error)
{
  g_autofree char *path = ps_autostart_dup_path ();
  g_autoptr(GKeyFile) key_file = NULL;
  g_autofree char *directory = NULL;
  g_autofree char *contents = NULL;

  if (!enabled)
    {
      if (g_unlink (path) != 0 && errno != ENOENT)
        {
          int saved_errno = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                       _("Could not remove “%s”: %s"), path, g_strerror (saved_errno));
          return FALSE;
        }
      return TRUE;
    }

  key_file = g_key_file_new ();
  g_key_file_set_string (key_file, G_KEY_FILE_DESKTOP_GROUP,
                         G_KEY_FILE_DESKTOP_KEY_TYPE, G_KEY_FILE_DESKTOP_TYPE_APPLICATION);
  g_key_file_set_string (key_file, G_KEY_FILE_DESKTOP_GROUP,
                         G_KEY_FILE_DESKTOP_KEY_NAME, _("Primero Sync"));
  g_key_file_set_string (key_file, G_KEY_FILE_DESKTOP_GROUP,
                         G_KEY_FILE_DESKTOP_KEY_COMMENT,
                         _("Keep Primero instances in sync in the background"));
  g_key_file_set_string (key_file, G_KEY_FILE_DESKTOP_GROUP,
                         G_KEY_FILE_DESKTOP_KEY_EXEC, "primero-sync --gapplication-service");
  g_key_file_set_string (key_file, G_KEY_FILE_DESKTOP_GROUP,
                         G_KEY_FILE_DESKTOP_KEY_ICON, APPLICATION_ID);
  g_key_file_set_boolean (key_file, G_KEY_FILE_DESKTOP_GROUP,
                          G_KEY_FILE_DESKTOP_KEY_NO_DISPLAY, TRUE);
  g_key_file_set_boolean (key_file, G_KEY_FILE_DESKTOP_GROUP,
                          "X-GNOME-Autostart-enabled", TRUE);

  contents = g_key_file_to_data (key_file, NULL, NULL);
  directory = g_path_get_dirname (path);

  if (g_mkdir_with_parents (directory, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("Could not create “%s”: %s"), directory, g_strerror (saved_errno));
      return FALSE;
    }

  return g_file_set_contents (path, contents, -1, error);
}

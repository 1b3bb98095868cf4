/* ps-secrets.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-secrets"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-secrets.h"

/* Passwords of servers live only in the desktop keyring (Secret Service),
 * keyed by the server id. Without a keyring there is no fallback: a
 * password in a file is readable by anything that reads the disk.
 */

G_DEFINE_QUARK (ps-secrets-error-quark, ps_secrets_error)

/**
 * ps_secrets_get_schema:
 *
 * The schema of Primero Sync's keyring items, `org.primero.Sync.Server`,
 * with one attribute, `server-id`. Nothing secret is kept in attributes or
 * labels; they can be read without unlocking the keyring.
 *
 * Returns: (transfer none): the schema
 */
const SecretSchema *
ps_secrets_get_schema (void)
{
  static const SecretSchema schema = {
    "org.primero.Sync.Server", SECRET_SCHEMA_NONE,
    {
      { "server-id", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };

  return &schema;
}

static gboolean
is_no_keyring_error (const GError *error)
{
  if (error->domain == G_DBUS_ERROR)
    {
      switch (error->code)
        {
        case G_DBUS_ERROR_SERVICE_UNKNOWN:
        case G_DBUS_ERROR_NAME_HAS_NO_OWNER:
        case G_DBUS_ERROR_NO_SERVER:
        case G_DBUS_ERROR_DISCONNECTED:
        case G_DBUS_ERROR_FILE_NOT_FOUND:
        case G_DBUS_ERROR_UNKNOWN_METHOD:
        case G_DBUS_ERROR_UNKNOWN_OBJECT:
        case G_DBUS_ERROR_UNKNOWN_INTERFACE:
        case G_DBUS_ERROR_SPAWN_EXEC_FAILED:
        case G_DBUS_ERROR_SPAWN_FORK_FAILED:
        case G_DBUS_ERROR_SPAWN_CHILD_EXITED:
        case G_DBUS_ERROR_SPAWN_CHILD_SIGNALED:
        case G_DBUS_ERROR_SPAWN_FAILED:
        case G_DBUS_ERROR_SPAWN_SETUP_FAILED:
        case G_DBUS_ERROR_SPAWN_CONFIG_INVALID:
        case G_DBUS_ERROR_SPAWN_SERVICE_INVALID:
        case G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND:
        case G_DBUS_ERROR_SPAWN_PERMISSIONS_INVALID:
        case G_DBUS_ERROR_SPAWN_FILE_INVALID:
        case G_DBUS_ERROR_SPAWN_NO_MEMORY:
          return TRUE;

        default:
          return FALSE;
        }
    }

  /* Errors of the GIO domain come from reaching the session bus itself:
   * no bus address, a socket that does not exist, a refused connection.
   */
  return error->domain == G_IO_ERROR && error->code != G_IO_ERROR_CANCELLED;
}

/* Maps libsecret and D-Bus failures into PS_SECRETS_ERROR; cancellation
 * passes through untouched.
 */
static GError *
map_error (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);

  if (is_no_keyring_error (error))
    {
      g_debug ("No Secret Service: %s", error->message);
      return g_error_new_literal (PS_SECRETS_ERROR, PS_SECRETS_ERROR_NO_KEYRING,
                                  _("No keyring is available: passwords can only be kept in "
                                    "the desktop keyring. Start a desktop session or "
                                    "gnome-keyring-daemon and try again."));
    }

  return g_error_new (PS_SECRETS_ERROR, PS_SECRETS_ERROR_FAILED,
                      _("The keyring failed: %s"), error->message);
}

static void
on_password_stored_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!secret_password_store_finish (result, &error))
    g_task_return_error (task, map_error (error));
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * ps_secrets_store_async:
 * @server_id: the id of the server the password is for
 * @label_description: the server's description, shown in the keyring's label
 * @password: the password
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the password is stored
 * @user_data: data for @callback
 *
 * Stores the password of a server in the default keyring collection,
 * replacing the one it had. The item label reads "Primero Sync:
 * @label_description"; the password appears nowhere but in the secret.
 */
void
ps_secrets_store_async (const char          *server_id,
                        const char          *label_description,
                        const char          *password,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *label = NULL;

  g_return_if_fail (server_id != NULL && *server_id != '\0');
  g_return_if_fail (password != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ps_secrets_store_async);

  /* Translators: the label of a keyring item; %s is the server's description */
  label = g_strdup_printf (_("Primero Sync: %s"),
                           label_description != NULL ? label_description : server_id);

  secret_password_store (ps_secrets_get_schema (), SECRET_COLLECTION_DEFAULT,
                         label, password, cancellable,
                         on_password_stored_cb, g_steal_pointer (&task),
                         "server-id", server_id,
                         NULL);
}

/**
 * ps_secrets_store_finish:
 * @result: the result passed to the callback
 * @error: return location for a #PsSecretsError
 *
 * Returns: %TRUE if the password is in the keyring
 */
gboolean
ps_secrets_store_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ps_secrets_store_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_password_looked_up_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  char *password;

  /* In libsecret's non-pageable memory, as the keyring sent it. */
  password = secret_password_lookup_nonpageable_finish (result, &error);
  if (error != NULL)
    g_task_return_error (task, map_error (error));
  else
    g_task_return_pointer (task, password, (GDestroyNotify) secret_password_free);
}

/**
 * ps_secrets_lookup_async:
 * @server_id: the id of a server
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the password
 * @user_data: data for @callback
 *
 * Looks up the password of a server. The keyring may ask the user to
 * unlock it first.
 */
void
ps_secrets_lookup_async (const char          *server_id,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (server_id != NULL && *server_id != '\0');
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ps_secrets_lookup_async);

  secret_password_lookup (ps_secrets_get_schema (), cancellable,
                          on_password_looked_up_cb, g_steal_pointer (&task),
                          "server-id", server_id,
                          NULL);
}

/**
 * ps_secrets_lookup_finish:
 * @result: the result passed to the callback
 * @error: return location for a #PsSecretsError
 *
 * Returns: (transfer full) (nullable): the password, or %NULL when the
 *   keyring has none for the server (then @error is not set) or on error.
 *   It is in libsecret's non-pageable memory (locked with mlock(), unless
 *   the system refuses to lock more, when libsecret falls back to ordinary
 *   memory): free it with ps_secrets_wipe() or secret_password_free(),
 *   which overwrite it first, never with g_free().
 */
char *
ps_secrets_lookup_finish (GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ps_secrets_lookup_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
on_password_cleared_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  /* FALSE without an error only means there was nothing to remove. */
  secret_password_clear_finish (result, &error);
  if (error != NULL)
    g_task_return_error (task, map_error (error));
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * ps_secrets_clear_async:
 * @server_id: the id of a server
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the password is gone
 * @user_data: data for @callback
 *
 * Removes the password of a server from the keyring, if it has one.
 */
void
ps_secrets_clear_async (const char          *server_id,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (server_id != NULL && *server_id != '\0');
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ps_secrets_clear_async);

  secret_password_clear (ps_secrets_get_schema (), cancellable,
                         on_password_cleared_cb, g_steal_pointer (&task),
                         "server-id", server_id,
                         NULL);
}

/**
 * ps_secrets_clear_finish:
 * @result: the result passed to the callback
 * @error: return location for a #PsSecretsError
 *
 * Returns: %TRUE if the keyring holds no password for the server any more,
 *   whether or not it had one
 */
gboolean
ps_secrets_clear_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ps_secrets_clear_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

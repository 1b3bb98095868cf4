/* ps-server-access.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-server-access"

#include "config.h"

#include "ps-discovery.h"
#include "ps-secret-memory.h"
#include "ps-secrets.h"
#include "ps-server-access-private.h"

/* What it takes to reach one server: its settings, the HTTP session and
 * its user's password. The password is looked up here, once, and held in
 * wiped, non-pageable memory; it leaves this object only for what logs in
 * with it, so the window, the command line and the sync job never carry
 * it around as a string.
 */

struct _PsServerAccess
{
  GObject      parent_instance;

  PsServer    *server;
  SoupSession *session;
  char        *password;
};

G_DEFINE_FINAL_TYPE (PsServerAccess, ps_server_access, G_TYPE_OBJECT)

static gboolean
has_username (PsServer *server)
{
  const char *username = ps_server_get_username (server);

  return username != NULL && *username != '\0';
}

static PsServerAccess *
create (PsServer    *server,
        SoupSession *session)
{
  PsServerAccess *self = g_object_new (PS_TYPE_SERVER_ACCESS, NULL);

  self->server = g_object_ref (server);
  self->session = g_object_ref (session);
  return self;
}

static void
on_password_looked_up_cb (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsServerAccess *self = g_task_get_source_object (task);
  GError *error = NULL;

  /* No password in the keyring is no error: the server says what it
   * refuses, as it would to anyone.
   */
  self->password = ps_secrets_lookup_finish (result, &error);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_object_ref (self), g_object_unref);
}

static void
ps_server_access_finalize (GObject *object)
{
  PsServerAccess *self = PS_SERVER_ACCESS (object);

  ps_secrets_wipe (&self->password);
  g_clear_object (&self->server);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (ps_server_access_parent_class)->finalize (object);
}

static void
ps_server_access_class_init (PsServerAccessClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ps_server_access_finalize;
}

static void
ps_server_access_init (PsServerAccess *self)
{
}

/**
 * ps_server_access_new_async:
 * @server: a configured server
 * @session: the session its requests go through
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the access
 * @user_data: data for @callback
 *
 * Looks up the password of @server's user in the keyring, which may ask
 * the user to unlock it first. A server without a user needs no password,
 * and the keyring is not asked.
 */
void
ps_server_access_new_async (PsServer            *server,
                            SoupSession         *session,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(PsServerAccess) self = NULL;
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (PS_IS_SERVER (server));
  g_return_if_fail (SOUP_IS_SESSION (session));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  self = create (server, session);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ps_server_access_new_async);

  if (!has_username (server))
    {
      g_task_return_pointer (task, g_steal_pointer (&self), g_object_unref);
      return;
    }

  ps_secrets_lookup_async (ps_server_get_id (server), cancellable,
                           on_password_looked_up_cb, g_steal_pointer (&task));
}

/**
 * ps_server_access_new_finish:
 * @result: the result passed to the callback
 * @error: return location for a #PsSecretsError
 *
 * Returns: (transfer full) (nullable): the access, with the password the
 *   keyring holds, if it holds one (none is no error: see
 *   ps_server_access_lacks_password()); %NULL with a #PsSecretsError when
 *   the keyring failed or is not there, or with %G_IO_ERROR_CANCELLED
 */
PsServerAccess *
ps_server_access_new_finish (GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ps_server_access_new_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * ps_server_access_new:
 * @server: a server
 * @session: the session its requests go through
 * @password: (nullable): the password of its user, typed by the user or
 *   read from a file
 *
 * For a password that does not come from the keyring. The access keeps
 * its own copy, in non-pageable memory; the caller wipes its own.
 *
 * Returns: (transfer full): the access
 */
PsServerAccess *
ps_server_access_new (PsServer    *server,
                      SoupSession *session,
                      const char  *password)
{
  PsServerAccess *self;

  g_return_val_if_fail (PS_IS_SERVER (server), NULL);
  g_return_val_if_fail (SOUP_IS_SESSION (session), NULL);

  self = create (server, session);
  self->password = ps_secrets_dup (password);
  return self;
}

/**
 * ps_server_access_new_for_settings:
 * @self: a #PsServerAccess
 * @settings: other settings of the same server, such as those being edited
 *   and not saved yet
 *
 * Returns: (transfer full): an access to @settings with the password of
 *   @self
 */
PsServerAccess *
ps_server_access_new_for_settings (PsServerAccess *self,
                                   PsServer       *settings)
{
  g_return_val_if_fail (PS_IS_SERVER_ACCESS (self), NULL);
  g_return_val_if_fail (PS_IS_SERVER (settings), NULL);

  return ps_server_access_new (settings, self->session, self->password);
}

/**
 * ps_server_access_get_server:
 * @self: a #PsServerAccess
 *
 * Returns: (transfer none): the server
 */
PsServer *
ps_server_access_get_server (PsServerAccess *self)
{
  g_return_val_if_fail (PS_IS_SERVER_ACCESS (self), NULL);
  return self->server;
}

/**
 * ps_server_access_get_session:
 * @self: a #PsServerAccess
 *
 * Returns: (transfer none): the session requests go through
 */
SoupSession *
ps_server_access_get_session (PsServerAccess *self)
{
  g_return_val_if_fail (PS_IS_SERVER_ACCESS (self), NULL);
  return self->session;
}

/**
 * ps_server_access_lacks_password:
 * @self: a #PsServerAccess
 *
 * Returns: whether the server has a user but the keyring held no password
 *   for it: what a caller that must log in refuses to start without
 */
gboolean
ps_server_access_lacks_password (PsServerAccess *self)
{
  g_return_val_if_fail (PS_IS_SERVER_ACCESS (self), FALSE);
  return has_username (self->server) && self->password == NULL;
}

/**
 * ps_server_access_has_password:
 * @self: a #PsServerAccess
 *
 * Returns: whether a password is known for the server's user
 */
gboolean
ps_server_access_has_password (PsServerAccess *self)
{
  g_return_val_if_fail (PS_IS_SERVER_ACCESS (self), FALSE);
  return self->password != NULL;
}

/* The password, for what logs in with it (ps-server-access-private.h). */
const char *
ps_server_access_get_password (PsServerAccess *self)
{
  g_return_val_if_fail (PS_IS_SERVER_ACCESS (self), NULL);
  return self->password;
}

/**
 * ps_server_access_open_database:
 * @self: a #PsServerAccess
 * @name: a database name
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the database @name on the server,
 *   with its user's credentials and pinned certificate
 */
PsCouchDatabase *
ps_server_access_open_database (PsServerAccess  *self,
                                const char      *name,
                                GError         **error)
{
  g_return_val_if_fail (PS_IS_SERVER_ACCESS (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return ps_server_open_database (self->server, self->session, self->password, name, error);
}

/**
 * ps_server_access_discover_async:
 * @self: a #PsServerAccess
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the CouchDB URL to use; finish it with
 *   ps_discovery_run_finish()
 * @user_data: data for @callback
 *
 * Asks the server's address, which may be a Primero application rather
 * than its CouchDB, where its records are kept (ps_discovery_run_async()).
 */
void
ps_server_access_discover_async (PsServerAccess      *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  const char *url;

  g_return_if_fail (PS_IS_SERVER_ACCESS (self));

  url = ps_server_get_url (self->server);
  ps_discovery_run_async (self->session, url != NULL ? url : "",
                          ps_server_get_username (self->server), self->password,
                          cancellable, callback, user_data);
}

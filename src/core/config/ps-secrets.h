/* ps-secrets.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <libsecret/secret.h>

#include "ps-secret-memory.h"

G_BEGIN_DECLS

#define PS_SECRETS_ERROR (ps_secrets_error_quark ())

/**
 * PsSecretsError:
 * @PS_SECRETS_ERROR_FAILED: the keyring refused or failed the request
 * @PS_SECRETS_ERROR_NO_KEYRING: no Secret Service (desktop keyring) is running
 *
 * Errors from keeping passwords in the keyring.
 */
typedef enum
{
  PS_SECRETS_ERROR_FAILED,
  PS_SECRETS_ERROR_NO_KEYRING,
} PsSecretsError;

GQuark              ps_secrets_error_quark   (void);
const SecretSchema *ps_secrets_get_schema    (void);
void                ps_secrets_store_async   (const char           *server_id,
                                              const char           *label_description,
                                              const char           *password,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
gboolean            ps_secrets_store_finish  (GAsyncResult         *result,
                                              GError              **error);
void                ps_secrets_lookup_async  (const char           *server_id,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
char               *ps_secrets_lookup_finish (GAsyncResult         *result,
                                              GError              **error);
void                ps_secrets_clear_async   (const char           *server_id,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
gboolean            ps_secrets_clear_finish  (GAsyncResult         *result,
                                              GError              **error);

G_END_DECLS

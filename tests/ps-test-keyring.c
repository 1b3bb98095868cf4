/* ps-test-keyring.c: passwords in the real keyring, for the suites that
 * run under tests/run-with-keyring.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-test-keyring"

#include "ps-test-keyring.h"

#include "ps-secrets.h"

static void
on_stored_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (ps_secrets_store_finish (result, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

/**
 * ps_test_keyring_store:
 * @server_id: the server the password is for
 * @description: the server's description, for the keyring's label
 * @password: the password
 *
 * Stores @password as the application would, and returns once the keyring
 * has it.
 */
void
ps_test_keyring_store (const char *server_id,
                       const char *description,
                       const char *password)
{
  gboolean stored = FALSE;

  ps_secrets_store_async (server_id, description, password, NULL, on_stored_cb, &stored);
  while (!stored)
    g_main_context_iteration (NULL, TRUE);
}

/* ps-secret-memory.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Copies of passwords and passphrases in memory that is kept out of swap
 * and overwritten when freed. Apart from the keyring (ps-secrets.c), so
 * that the CouchDB client below it can hold a password the same way.
 */

#define G_LOG_DOMAIN "ps-secret-memory"

#include "config.h"

#include <libsecret/secret.h>

#include "ps-secret-memory.h"

/**
 * ps_secrets_dup:
 * @secret: (nullable): a password or passphrase
 *
 * Copies a secret into libsecret's non-pageable memory, so the copy kept
 * while it is in use is not written to swap.
 *
 * Returns: (transfer full) (nullable): the copy, to free with
 *   ps_secrets_wipe()
 */
char *
ps_secrets_dup (const char *secret)
{
  if (secret == NULL)
    return NULL;

  return secret_value_unref_to_password (secret_value_new (secret, -1, "text/plain"), NULL);
}

/**
 * ps_secrets_wipe:
 * @secret: (inout) (nullable): a password or passphrase
 *
 * Overwrites the secret, frees it and clears the pointer. It may come from
 * ps_secrets_dup(), ps_secrets_lookup_finish() or g_malloc():
 * secret_password_free() tells libsecret's memory from the heap.
 */
void
ps_secrets_wipe (char **secret)
{
  g_clear_pointer (secret, secret_password_free);
}

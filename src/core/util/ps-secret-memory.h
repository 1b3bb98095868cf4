/* ps-secret-memory.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <libsecret/secret.h>

G_BEGIN_DECLS

char *ps_secrets_dup  (const char  *secret);
void  ps_secrets_wipe (char       **secret);

/* A secret freed with ps_secrets_wipe() at the end of its scope. */
typedef char *PsSecret;
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (PsSecret, secret_password_free, NULL)

G_END_DECLS

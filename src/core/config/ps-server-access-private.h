/* ps-server-access-private.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ps-server-access.h"

G_BEGIN_DECLS

/* Only for what logs in with it: the diagnostics' login check, and the
 * replication documents that hand it to CouchDB's replicator.
 */
const char *ps_server_access_get_password (PsServerAccess *self);

G_END_DECLS

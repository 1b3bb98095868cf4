/* ps-discovery.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/**
 * PsDiscoveryChange:
 * @PS_DISCOVERY_CHANGE_NONE: the CouchDB is where the user pointed, as safe
 * @PS_DISCOVERY_CHANGE_UNENCRYPTED: the application was https, its CouchDB
 *   address is http: records and passwords would travel unencrypted
 * @PS_DISCOVERY_CHANGE_OTHER_HOST: the CouchDB is on another host than
 *   the application the user named
 *
 * What the address a Primero application answered changes, compared with
 * the one the user gave; any change needs the user's consent.
 */
typedef enum
{
  PS_DISCOVERY_CHANGE_NONE        = 0,
  PS_DISCOVERY_CHANGE_UNENCRYPTED = 1 << 0,
  PS_DISCOVERY_CHANGE_OTHER_HOST  = 1 << 1,
} PsDiscoveryChange;

PsDiscoveryChange ps_discovery_compare    (const char           *application_url,
                                           const char           *couch_url);
void              ps_discovery_run_async  (SoupSession          *session,
                                           const char           *url,
                                           const char           *username,
                                           const char           *password,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
gboolean          ps_discovery_run_finish (GAsyncResult         *result,
                                           char                **couch_url,
                                           char               ***databases,
                                           PsDiscoveryChange    *changes,
                                           GError              **error);

G_END_DECLS

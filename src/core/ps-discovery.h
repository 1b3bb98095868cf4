/* ps-discovery.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

void     ps_discovery_run_async  (SoupSession          *session,
                                  const char           *url,
                                  const char           *username,
                                  const char           *password,
                                  GCancellable         *cancellable,
                                  GAsyncReadyCallback   callback,
                                  gpointer              user_data);
gboolean ps_discovery_run_finish (GAsyncResult         *result,
                                  char                **couch_url,
                                  char               ***databases,
                                  GError              **error);

G_END_DECLS

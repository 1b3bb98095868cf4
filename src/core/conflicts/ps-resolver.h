/* ps-resolver.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ps-couch-database.h"
#include "ps-journal.h"

G_BEGIN_DECLS

#define PS_TYPE_RESOLVER (ps_resolver_get_type ())

G_DECLARE_FINAL_TYPE (PsResolver, ps_resolver, PS, RESOLVER, GObject)

PsResolver *ps_resolver_new             (PsCouchDatabase      *database);
void        ps_resolver_set_journal     (PsResolver           *self,
                                         PsJournal            *journal,
                                         const char           *server_id);
guint       ps_resolver_get_n_resolved  (PsResolver           *self);
guint       ps_resolver_get_n_failed    (PsResolver           *self);
GPtrArray  *ps_resolver_get_failures    (PsResolver           *self);
void        ps_resolver_resolve_async   (PsResolver           *self,
                                         const char * const   *ids,
                                         GCancellable         *cancellable,
                                         GAsyncReadyCallback   callback,
                                         gpointer              user_data);
gboolean    ps_resolver_resolve_finish  (PsResolver           *self,
                                         GAsyncResult         *result,
                                         GError              **error);

G_END_DECLS

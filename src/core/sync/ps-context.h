/* ps-context.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "ps-journal.h"
#include "ps-server-store.h"
#include "ps-sync-manager.h"

G_BEGIN_DECLS

#define PS_TYPE_CONTEXT (ps_context_get_type ())

G_DECLARE_FINAL_TYPE (PsContext, ps_context, PS, CONTEXT, GObject)

PsContext     *ps_context_new              (void);
PsContext     *ps_context_new_for_dirs     (const char *config_dir,
                                            const char *journal_path);
SoupSession   *ps_context_get_session      (PsContext  *self);
PsServerStore *ps_context_get_server_store (PsContext  *self);
PsJournal     *ps_context_get_journal      (PsContext  *self);
PsSyncManager *ps_context_get_sync_manager (PsContext  *self);

G_END_DECLS

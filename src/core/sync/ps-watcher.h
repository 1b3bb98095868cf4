/* ps-watcher.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ps-couch-database.h"
#include "ps-journal.h"

G_BEGIN_DECLS

#define PS_TYPE_WATCHER (ps_watcher_get_type ())
#define PS_WATCHER_ERROR (ps_watcher_error_quark ())

G_DECLARE_FINAL_TYPE (PsWatcher, ps_watcher, PS, WATCHER, GObject)

/**
 * PsWatcherError:
 * @PS_WATCHER_ERROR_FAILED: the checkpoint file could not be written
 * @PS_WATCHER_ERROR_NO_DATABASE: there is no database to watch
 *
 * Errors from watching databases.
 */
typedef enum
{
  PS_WATCHER_ERROR_FAILED,
  PS_WATCHER_ERROR_NO_DATABASE,
} PsWatcherError;

/**
 * PsWatcherState:
 * @PS_WATCHER_STATE_STARTING: the first request is under way
 * @PS_WATCHER_STATE_CATCHING_UP: reading the changes made before now
 * @PS_WATCHER_STATE_WATCHING: waiting for new changes
 * @PS_WATCHER_STATE_WAITING: a request failed; trying again after a pause
 *
 * What the watcher of one database is doing.
 */
typedef enum
{
  PS_WATCHER_STATE_STARTING,
  PS_WATCHER_STATE_CATCHING_UP,
  PS_WATCHER_STATE_WATCHING,
  PS_WATCHER_STATE_WAITING,
} PsWatcherState;

GQuark      ps_watcher_error_quark            (void);
char       *ps_watcher_dup_default_state_path (void);
PsWatcher  *ps_watcher_new                    (PsJournal            *journal,
                                               const char           *state_path);
void        ps_watcher_add_database           (PsWatcher            *self,
                                               PsCouchDatabase      *database);
const char *ps_watcher_get_state_path         (PsWatcher            *self);
void        ps_watcher_set_poll_deadline      (PsWatcher            *self,
                                               guint                 seconds);
void        ps_watcher_run_async              (PsWatcher            *self,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean    ps_watcher_run_finish             (PsWatcher            *self,
                                               GAsyncResult         *result,
                                               GError              **error);

G_END_DECLS

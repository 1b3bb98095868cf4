/* ps-cli-commands.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "ps-server-store.h"
#include "ps-sync-manager.h"

G_BEGIN_DECLS

/* Each command parses its own options from argv (argv[0] is the command name)
 * and returns the process exit status.
 */
typedef int (*PsCliCommandFunc) (int    argc,
                                 char **argv);

typedef struct
{
  const char       *name;
  const char       *summary;
  PsCliCommandFunc  run;
} PsCliCommand;

int ps_cli_diagnose  (int    argc,
                      char **argv);
int ps_cli_export    (int    argc,
                      char **argv);
int ps_cli_import    (int    argc,
                      char **argv);
int ps_cli_instance  (int    argc,
                      char **argv);
int ps_cli_journal   (int    argc,
                      char **argv);
int ps_cli_merge     (int    argc,
                      char **argv);
int ps_cli_replicate (int    argc,
                      char **argv);
int ps_cli_resolve   (int    argc,
                      char **argv);
int ps_cli_server    (int    argc,
                      char **argv);
int ps_cli_sync      (int    argc,
                      char **argv);
int ps_cli_watch     (int    argc,
                      char **argv);

/* Shared by the server and instance commands (ps-cli-server.c). */
PsServerStore *ps_cli_load_server_store  (void);
gboolean       ps_cli_save_server_store  (PsServerStore  *store);
gboolean       ps_cli_read_new_password  (gboolean        from_stdin,
                                          char          **password);
gboolean       ps_cli_store_password     (PsServer       *server,
                                          const char     *password);
gboolean       ps_cli_clear_password     (const char     *server_id);
char          *ps_cli_describe_password  (PsServer       *server);
void           ps_cli_warn_if_insecure   (PsServer       *server);
void           ps_cli_print_server       (PsServer       *server);

/* How the last sync went, for `server show` and `sync --status`. */
void           ps_cli_print_last_sync    (PsServer       *server);
void           ps_cli_add_last_sync_json (JsonObject     *object,
                                          PsServer       *server);

/* On-server servers, shared with the sync command (ps-cli-server.c). */
PsSyncManager             *ps_cli_new_sync_manager            (PsServerStore  *store);
gboolean                   ps_cli_apply_server_replication    (PsServerStore  *store,
                                                               PsServer       *server);
PsServerReplicationStatus *ps_cli_read_server_replication     (PsSyncManager  *manager,
                                                               PsServer       *server);
void                       ps_cli_print_server_replication    (PsServerReplicationStatus *status);

G_END_DECLS

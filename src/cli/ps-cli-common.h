/* ps-cli-common.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "ps-cli-commands.h"
#include "ps-json.h"
#include "ps-server-access.h"

G_BEGIN_DECLS

/* Exit statuses shared by every command. */
enum {
  PS_CLI_EXIT_OK = 0,
  PS_CLI_EXIT_FAILED = 1,
  PS_CLI_EXIT_USAGE = 2,
};

GOptionContext *ps_cli_option_context_new  (const char          *parameter_string,
                                            const char          *summary,
                                            const GOptionEntry  *entries);
gboolean        ps_cli_parse_options       (GOptionContext      *context,
                                            int                 *argc,
                                            char              ***argv);
int             ps_cli_usage_error         (GOptionContext      *context,
                                            const char          *message);
void            ps_cli_print_error         (const char          *context,
                                            const GError        *error);
char           *ps_cli_read_password       (const char          *prompt,
                                            const char          *password_file,
                                            GError             **error);
char           *ps_cli_read_passphrase     (const char          *passphrase_file,
                                            gboolean             confirm,
                                            GError             **error);
PsServerAccess *ps_cli_new_access          (PsServer            *server,
                                            SoupSession         *session,
                                            GError             **error);
void            ps_cli_print_file_counts   (JsonObject          *summary);
void            ps_cli_print_json          (JsonNode            *node);
void            ps_cli_print_json_with_texts (JsonNode        *node,
                                              PsJsonTexts     *texts);
gboolean        ps_cli_stdout_is_terminal  (void);
void            ps_cli_run_until_done      (gboolean            *done);
void            ps_cli_wait_cb             (GObject             *source,
                                            GAsyncResult        *result,
                                            gpointer             user_data);
GAsyncResult   *ps_cli_wait                (GAsyncResult       **result);
GCancellable   *ps_cli_cancel_on_interrupt (void);
int             ps_cli_dispatch            (const char          *group,
                                            const char          *description,
                                            const PsCliCommand  *commands,
                                            guint                n_commands,
                                            int                  argc,
                                            char               **argv);

G_END_DECLS

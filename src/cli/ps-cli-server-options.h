/* ps-cli-server-options.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "ps-server.h"

G_BEGIN_DECLS

/* The settings `server add` and `server edit` take, as given. */
typedef struct
{
  char      *description;
  char      *url;
  char      *username;
  char      *direction;
  char      *prefix;
  char      *suffix;
  char      *fingerprint;
  char      *bandwidth_limit;
  char      *max_attachment_size;
  GStrv      databases;
  GStrv      record_types;
  gboolean   continuous;
  gboolean   no_continuous;
  gboolean   allow_metered;
  gboolean   no_allow_metered;
  gboolean   defer_attachments;
  gboolean   no_defer_attachments;
  gboolean   password_stdin;
  gboolean   no_check;
  gboolean   accept_discovered_url;
  gboolean   on_server;
  gboolean   on_desktop;

  /* Filled by ps_cli_server_options_check() */
  char      *normalized_url;
} PsCliServerOptions;

GOptionEntry *ps_cli_server_options_entries (PsCliServerOptions  *options,
                                             gboolean             editing);
int           ps_cli_server_options_check   (PsCliServerOptions  *options,
                                             GOptionContext      *context);
gboolean      ps_cli_server_options_apply   (PsCliServerOptions  *options,
                                             PsServer            *server);
void          ps_cli_server_options_clear   (PsCliServerOptions  *options);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PsCliServerOptions, ps_cli_server_options_clear)

G_END_DECLS

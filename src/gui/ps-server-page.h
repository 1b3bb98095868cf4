/* ps-server-page.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "ps-context.h"

G_BEGIN_DECLS

#define PS_TYPE_SERVER_PAGE (ps_server_page_get_type ())

G_DECLARE_FINAL_TYPE (PsServerPage, ps_server_page, PS, SERVER_PAGE, GtkBox)

PsServerPage *ps_server_page_new        (PsContext    *context);
PsServer     *ps_server_page_get_server (PsServerPage *self);
void          ps_server_page_set_server (PsServerPage *self,
                                         PsServer     *server);

G_END_DECLS

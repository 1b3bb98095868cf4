/* ps-conflicts-page.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "ps-context.h"

G_BEGIN_DECLS

#define PS_TYPE_CONFLICTS_PAGE (ps_conflicts_page_get_type ())

G_DECLARE_FINAL_TYPE (PsConflictsPage, ps_conflicts_page, PS, CONFLICTS_PAGE, GtkBox)

PsConflictsPage *ps_conflicts_page_new             (PsContext       *context);
GListModel      *ps_conflicts_page_get_resolutions (PsConflictsPage *self);
void             ps_conflicts_page_refresh         (PsConflictsPage *self);

G_END_DECLS

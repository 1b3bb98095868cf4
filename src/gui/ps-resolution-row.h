/* ps-resolution-row.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "ps-resolution.h"

G_BEGIN_DECLS

#define PS_TYPE_RESOLUTION_ROW (ps_resolution_row_get_type ())

G_DECLARE_FINAL_TYPE (PsResolutionRow, ps_resolution_row, PS, RESOLUTION_ROW, GtkListBoxRow)

PsResolutionRow *ps_resolution_row_new            (PsResolution    *resolution,
                                                   const char      *server_description);
PsResolution    *ps_resolution_row_get_resolution (PsResolutionRow *self);

G_END_DECLS

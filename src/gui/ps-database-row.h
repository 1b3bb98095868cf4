/* ps-database-row.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "ps-sync-database.h"

G_BEGIN_DECLS

#define PS_TYPE_DATABASE_ROW (ps_database_row_get_type ())

G_DECLARE_FINAL_TYPE (PsDatabaseRow, ps_database_row, PS, DATABASE_ROW, GtkListBoxRow)

PsDatabaseRow  *ps_database_row_new          (PsSyncDatabase *database);
PsSyncDatabase *ps_database_row_get_database (PsDatabaseRow  *self);

G_END_DECLS

/* ps-sync-database.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ps-replication.h"

G_BEGIN_DECLS

#define PS_TYPE_SYNC_DATABASE (ps_sync_database_get_type ())

G_DECLARE_FINAL_TYPE (PsSyncDatabase, ps_sync_database, PS, SYNC_DATABASE, GObject)

PsSyncDatabase *ps_sync_database_new          (const char     *name);
const char     *ps_sync_database_get_name     (PsSyncDatabase *self);
PsReplication  *ps_sync_database_get_pull     (PsSyncDatabase *self);
void            ps_sync_database_set_pull     (PsSyncDatabase *self,
                                               PsReplication  *pull);
PsReplication  *ps_sync_database_get_push     (PsSyncDatabase *self);
void            ps_sync_database_set_push     (PsSyncDatabase *self,
                                               PsReplication  *push);
guint           ps_sync_database_get_resolved (PsSyncDatabase *self);
void            ps_sync_database_add_resolved (PsSyncDatabase *self,
                                               guint           count);

G_END_DECLS

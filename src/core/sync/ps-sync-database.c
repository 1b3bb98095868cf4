/* ps-sync-database.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One record database of a sync job: its current pull and push
 * replications (whose counters a UI shows) and the conflicts resolved.
 */

#define G_LOG_DOMAIN "ps-sync-database"

#include "config.h"

#include "ps-sync-database.h"

struct _PsSyncDatabase
{
  GObject        parent_instance;

  char          *name;
  PsReplication *pull;
  PsReplication *push;
  guint          resolved;
};

G_DEFINE_FINAL_TYPE (PsSyncDatabase, ps_sync_database, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_PULL,
  PROP_PUSH,
  PROP_RESOLVED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
ps_sync_database_finalize (GObject *object)
{
  PsSyncDatabase *self = (PsSyncDatabase *)object;

  g_clear_pointer (&self->name, g_free);
  g_clear_object (&self->pull);
  g_clear_object (&self->push);

  G_OBJECT_CLASS (ps_sync_database_parent_class)->finalize (object);
}

static void
ps_sync_database_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  PsSyncDatabase *self = PS_SYNC_DATABASE (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_PULL:
      g_value_set_object (value, self->pull);
      break;
    case PROP_PUSH:
      g_value_set_object (value, self->push);
      break;
    case PROP_RESOLVED:
      g_value_set_uint (value, self->resolved);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_sync_database_class_init (PsSyncDatabaseClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ps_sync_database_finalize;
  object_class->get_property = ps_sync_database_get_property;

  properties[PROP_NAME] =
    g_param_spec_string ("name", "Name", NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PULL] =
    g_param_spec_object ("pull", "Pull", NULL, PS_TYPE_REPLICATION,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PUSH] =
    g_param_spec_object ("push", "Push", NULL, PS_TYPE_REPLICATION,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RESOLVED] =
    g_param_spec_uint ("resolved", "Resolved", "Conflicts resolved", 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ps_sync_database_init (PsSyncDatabase *self)
{
}

PsSyncDatabase *
ps_sync_database_new (const char *name)
{
  PsSyncDatabase *self = g_object_new (PS_TYPE_SYNC_DATABASE, NULL);

  self->name = g_strdup (name);
  return self;
}

const char *
ps_sync_database_get_name (PsSyncDatabase *self)
{
  g_return_val_if_fail (PS_IS_SYNC_DATABASE (self), NULL);
  return self->name;
}

/**
 * ps_sync_database_get_pull:
 * @self: a #PsSyncDatabase
 *
 * Returns: (transfer none) (nullable): the current or last pull replication
 */
PsReplication *
ps_sync_database_get_pull (PsSyncDatabase *self)
{
  g_return_val_if_fail (PS_IS_SYNC_DATABASE (self), NULL);
  return self->pull;
}

void
ps_sync_database_set_pull (PsSyncDatabase *self,
                           PsReplication  *pull)
{
  g_return_if_fail (PS_IS_SYNC_DATABASE (self));

  if (g_set_object (&self->pull, pull))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PULL]);
}

/**
 * ps_sync_database_get_push:
 * @self: a #PsSyncDatabase
 *
 * Returns: (transfer none) (nullable): the current or last push replication
 */
PsReplication *
ps_sync_database_get_push (PsSyncDatabase *self)
{
  g_return_val_if_fail (PS_IS_SYNC_DATABASE (self), NULL);
  return self->push;
}

void
ps_sync_database_set_push (PsSyncDatabase *self,
                           PsReplication  *push)
{
  g_return_if_fail (PS_IS_SYNC_DATABASE (self));

  if (g_set_object (&self->push, push))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PUSH]);
}

guint
ps_sync_database_get_resolved (PsSyncDatabase *self)
{
  g_return_val_if_fail (PS_IS_SYNC_DATABASE (self), 0);
  return self->resolved;
}

void
ps_sync_database_add_resolved (PsSyncDatabase *self,
                               guint           count)
{
  g_return_if_fail (PS_IS_SYNC_DATABASE (self));

  if (count == 0)
    return;
  self->resolved += count;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESOLVED]);
}

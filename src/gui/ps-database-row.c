/* ps-database-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-database-row"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-database-row.h"

/* One record database of a sync: pull and push counts, progress, and the
 * documents a server refused to store.
 */
struct _PsDatabaseRow
{
  GtkListBoxRow   parent_instance;

  PsSyncDatabase *database;
  PsReplication  *pull;
  PsReplication  *push;

  /* Template widgets */
  GtkLabel       *name_label;
  GtkLabel       *resolved_label;
  GtkLabel       *pull_label;
  GtkProgressBar *pull_bar;
  GtkLabel       *push_label;
  GtkProgressBar *push_bar;
  GtkLabel       *refused_label;
};

G_DEFINE_FINAL_TYPE (PsDatabaseRow, ps_database_row, GTK_TYPE_LIST_BOX_ROW)

enum {
  PROP_0,
  PROP_DATABASE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void on_replication_notify_cb (PsReplication *replication,
                                      GParamSpec    *pspec,
                                      PsDatabaseRow *self);


/*
 * Auxiliary methods
 */

static const char *
describe_state (PsReplicationState state)
{
  switch (state)
    {
    case PS_REPLICATION_STATE_IDLE:
      return _("Not started");
    case PS_REPLICATION_STATE_STARTING:
      return _("Starting");
    case PS_REPLICATION_STATE_RUNNING:
      return _("Copying");
    case PS_REPLICATION_STATE_WAITING:
      return _("Up to date, following changes");
    case PS_REPLICATION_STATE_RETRYING:
      return _("Waiting to retry");
    case PS_REPLICATION_STATE_COMPLETED:
      return _("Done");
    case PS_REPLICATION_STATE_FAILED:
      return _("Failed");
    case PS_REPLICATION_STATE_CANCELLED:
      return _("Stopped");
    default:
      return "";
    }
}

static void
update_direction (PsReplication  *replication,
                  const char     *direction,
                  GtkLabel       *label,
                  GtkProgressBar *bar)
{
  g_autofree char *read = NULL;
  g_autofree char *written = NULL;
  g_autofree char *pending = NULL;
  g_autofree char *text = NULL;
  gint64 n_pending;
  guint64 n_read;
  double fraction;

  if (replication == NULL)
    {
      /* Translators: %s is “Pull” or “Push” */
      text = g_strdup_printf (_("%s: not started"), direction);
      gtk_label_set_text (label, text);
      gtk_progress_bar_set_fraction (bar, 0);
      return;
    }

  n_read = ps_replication_get_docs_read (replication);
  n_pending = ps_replication_get_pending (replication);
  read = g_strdup_printf ("%" G_GUINT64_FORMAT, n_read);
  written = g_strdup_printf ("%" G_GUINT64_FORMAT, ps_replication_get_docs_written (replication));
  pending = n_pending >= 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, n_pending) : g_strdup ("?");

  /* Translators: “Pull: Copying — 12 read, 10 written, 3 pending” */
  text = g_strdup_printf (_("%s: %s — %s read, %s written, %s pending"), direction,
                          describe_state (ps_replication_get_state (replication)),
                          read, written, pending);
  gtk_label_set_text (label, text);
  atk_object_set_name (gtk_widget_get_accessible (GTK_WIDGET (bar)), text);

  switch (ps_replication_get_state (replication))
    {
    case PS_REPLICATION_STATE_COMPLETED:
    case PS_REPLICATION_STATE_WAITING:
      fraction = 1.0;
      break;
    default:
      fraction = n_pending > 0 ? (double) n_read / (double) (n_read + n_pending)
                               : (n_pending == 0 ? 1.0 : 0.0);
    }
  gtk_progress_bar_set_fraction (bar, CLAMP (fraction, 0.0, 1.0));
}

/* @held_back: list the records left for later (an attachment over the
 * server's limit) rather than those the server refused.
 */
static void
append_failures (GString       *text,
                 PsReplication *replication,
                 gboolean       held_back)
{
  GPtrArray *failures;

  if (replication == NULL)
    return;

  failures = ps_replication_get_write_failures (replication);
  for (guint i = 0; failures != NULL && i < failures->len; i++)
    {
      PsWriteFailure *failure = g_ptr_array_index (failures, i);

      if (held_back != (g_strcmp0 (failure->error, "attachment_too_large") == 0))
        continue;

      if (text->len > 0)
        g_string_append_c (text, '\n');
      /* Translators: “DOCUMENT ID: REASON” for a document a server refused */
      g_string_append_printf (text, _("%s: %s"), failure->id,
                              failure->reason != NULL ? failure->reason : failure->error);
    }
}

static void
update (PsDatabaseRow *self)
{
  g_autoptr(GString) refused = g_string_new (NULL);
  g_autoptr(GString) held_back = g_string_new (NULL);
  g_autofree char *resolved = NULL;
  guint n_resolved = ps_sync_database_get_resolved (self->database);

  update_direction (self->pull, _("Pull"), self->pull_label, self->pull_bar);
  update_direction (self->push, _("Push"), self->push_label, self->push_bar);

  resolved = g_strdup_printf (ngettext ("%u conflict resolved", "%u conflicts resolved",
                                        n_resolved), n_resolved);
  gtk_label_set_text (self->resolved_label, resolved);
  gtk_widget_set_visible (GTK_WIDGET (self->resolved_label), n_resolved > 0);

  append_failures (refused, self->pull, FALSE);
  append_failures (refused, self->push, FALSE);
  append_failures (held_back, self->pull, TRUE);
  append_failures (held_back, self->push, TRUE);
  if (refused->len > 0 || held_back->len > 0)
    {
      g_autoptr(GString) text = g_string_new (NULL);

      /* Translators: followed by one “id: reason” line per document */
      if (refused->len > 0)
        g_string_append_printf (text, "%s\n%s", _("Documents refused by the receiving server:"),
                                refused->str);
      /* Translators: followed by one “id: reason” line per document */
      if (held_back->len > 0)
        g_string_append_printf (text, "%s%s\n%s", text->len > 0 ? "\n" : "",
                                _("Documents left for later:"), held_back->str);
      gtk_label_set_text (self->refused_label, text->str);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->refused_label),
                          refused->len > 0 || held_back->len > 0);
}

static void
set_replication (PsDatabaseRow  *self,
                 PsReplication **slot,
                 PsReplication  *replication)
{
  if (*slot == replication)
    return;

  if (*slot != NULL)
    g_signal_handlers_disconnect_by_func (*slot, on_replication_notify_cb, self);
  g_set_object (slot, replication);
  if (replication != NULL)
    g_signal_connect_object (replication, "notify", G_CALLBACK (on_replication_notify_cb),
                             self, 0);
}


/*
 * Callbacks
 */

static void
on_replication_notify_cb (PsReplication *replication,
                          GParamSpec    *pspec,
                          PsDatabaseRow *self)
{
  update (self);
}

static void
on_database_notify_cb (PsSyncDatabase *database,
                       GParamSpec     *pspec,
                       PsDatabaseRow  *self)
{
  set_replication (self, &self->pull, ps_sync_database_get_pull (database));
  set_replication (self, &self->push, ps_sync_database_get_push (database));
  update (self);
}


/*
 * GObject overrides
 */

static void
ps_database_row_constructed (GObject *object)
{
  PsDatabaseRow *self = (PsDatabaseRow *)object;

  G_OBJECT_CLASS (ps_database_row_parent_class)->constructed (object);

  g_assert (PS_IS_SYNC_DATABASE (self->database));

  g_object_bind_property (self->database, "name", self->name_label, "label",
                          G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self->database, "notify", G_CALLBACK (on_database_notify_cb),
                           self, 0);
  on_database_notify_cb (self->database, NULL, self);
}

static void
ps_database_row_dispose (GObject *object)
{
  PsDatabaseRow *self = (PsDatabaseRow *)object;

  set_replication (self, &self->pull, NULL);
  set_replication (self, &self->push, NULL);
  g_clear_object (&self->database);

  G_OBJECT_CLASS (ps_database_row_parent_class)->dispose (object);
}

static void
ps_database_row_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  PsDatabaseRow *self = PS_DATABASE_ROW (object);

  switch (prop_id)
    {
    case PROP_DATABASE:
      g_value_set_object (value, self->database);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_database_row_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  PsDatabaseRow *self = PS_DATABASE_ROW (object);

  switch (prop_id)
    {
    case PROP_DATABASE:
      self->database = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_database_row_class_init (PsDatabaseRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = ps_database_row_constructed;
  object_class->dispose = ps_database_row_dispose;
  object_class->get_property = ps_database_row_get_property;
  object_class->set_property = ps_database_row_set_property;

  properties[PROP_DATABASE] =
    g_param_spec_object ("database", NULL, NULL,
                         PS_TYPE_SYNC_DATABASE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/primero/Sync/ps-database-row.ui");

  gtk_widget_class_bind_template_child (widget_class, PsDatabaseRow, name_label);
  gtk_widget_class_bind_template_child (widget_class, PsDatabaseRow, resolved_label);
  gtk_widget_class_bind_template_child (widget_class, PsDatabaseRow, pull_label);
  gtk_widget_class_bind_template_child (widget_class, PsDatabaseRow, pull_bar);
  gtk_widget_class_bind_template_child (widget_class, PsDatabaseRow, push_label);
  gtk_widget_class_bind_template_child (widget_class, PsDatabaseRow, push_bar);
  gtk_widget_class_bind_template_child (widget_class, PsDatabaseRow, refused_label);
}

static void
ps_database_row_init (PsDatabaseRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}


/*
 * Public API
 */

PsDatabaseRow *
ps_database_row_new (PsSyncDatabase *database)
{
  g_return_val_if_fail (PS_IS_SYNC_DATABASE (database), NULL);

  return g_object_new (PS_TYPE_DATABASE_ROW,
                       "database", database,
                       NULL);
}

PsSyncDatabase *
ps_database_row_get_database (PsDatabaseRow *self)
{
  g_return_val_if_fail (PS_IS_DATABASE_ROW (self), NULL);

  return self->database;
}
